#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Compare libtba's OAuth 1.0a signatures with python3-oauthlib on random requests.

Usage: oauthlib_property.py OAUTH_SIGN [COUNT] [SEED]

For each random request (methods, unicode and reserved characters in paths,
queries, form values and credentials, repeated names, empty values, names
without '=', ports, upper-case schemes and hosts, all three HMAC methods) it
runs OAUTH_SIGN (tests/tools/oauth_sign) and oauthlib.oauth1.Client on the same
inputs and compares the signature, the base string and the header fields.

The expected URL on the wire is computed here, independently of libtba
(RFC 3986: the path as sent with its escapes upper-cased and characters that
may not stand in a path encoded as UTF-8; the query re-encoded from the decoded
parameters), checked against oauth_sign's third line, and given to oauthlib:
oauthlib signs the URL it is handed, and a server signs what it receives.

Then a few fixed cases pin down where oauthlib and RFC 5849 disagree, so that
a change in either shows up.

Each check prints "ok - NAME" or "not ok - NAME: detail"; the last line is
"N passed, N failed".
"""

import random
import re
import subprocess
import sys
import urllib.parse

from oauthlib import common as oauth_common
from oauthlib import oauth1

import oauthref

METHODS = {
    "HMAC-SHA256": oauth1.SIGNATURE_HMAC_SHA256,
    "HMAC-SHA1": oauth1.SIGNATURE_HMAC_SHA1,
    "HMAC-SHA512": oauth1.SIGNATURE_HMAC_SHA512,
}
PATH_SAFE = "-._~!$&'()*+,;=:@/"
FORM_CT = {"Content-Type": "application/x-www-form-urlencoded"}

results = oauthref.Results()
ok, not_ok = results.ok, results.not_ok
catcher = oauthref.catch_base_strings()

# Pieces random text is made of: plain, reserved, '%', '+', space, unicode.
ATOMS = (list("abcXYZ0189") + list("-._~") + list("!*'();:@&=+$,/?#[]% \"<>\\^`{|}")
         + ["é", "ü", "ß", "日本", "€", "😀", "\u00a0", "Ω"])


def rand_text(rng, lo=0, hi=8, atoms=ATOMS):
    return "".join(rng.choice(atoms) for _ in range(rng.randint(lo, hi)))


def rand_name(rng):
    """A parameter name; never 'oauth_*' (see the fixed cases for why)."""
    while True:
        n = rand_text(rng, 1, 6)
        if not n.startswith("oauth_"):
            return n


def enc_query_piece(rng, s):
    """Percent-encodes s the way some client might: varying safe sets, '+' or %20."""
    style = rng.randrange(4)
    if style == 0:
        return urllib.parse.quote(s, safe="")
    if style == 1:
        return urllib.parse.quote_plus(s, safe="~")
    if style == 2:
        # lower-case hex escapes are just as valid
        return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(),
                      urllib.parse.quote(s, safe="~*!'()"))
    # raw: only characters that cannot be mistaken for query syntax are left as is
    out = []
    for ch in s:
        if ch in "&=+%#" or ord(ch) < 0x21 or ch in "\"<>\\^`{|}[]":
            out.append(urllib.parse.quote(ch, safe=""))
        else:
            out.append(ch)
    return "".join(out)


def sent_path(raw):
    """The path as it goes on the wire (independent of libtba)."""
    if raw == "":
        return "/"
    out = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "%" and re.match(r"[0-9A-Fa-f]{2}", raw[i + 1:i + 3]):
            out.append("%" + raw[i + 1:i + 3].upper())
            i += 3
            continue
        if ch.isascii() and (ch.isalnum() or ch in PATH_SAFE):
            out.append(ch)
        else:
            out.append(urllib.parse.quote(ch, safe=""))
        i += 1
    return "".join(out)


def rand_path(rng):
    if rng.random() < 0.1:
        return ""
    segs = []
    for _ in range(rng.randint(1, 4)):
        seg = []
        for _ in range(rng.randint(0, 6)):
            r = rng.random()
            if r < 0.15:
                seg.append("%" + rng.choice(["2F", "2f", "25", "20", "3F", "23", "C3%A9", "e2%82%ac"]))
            else:
                ch = rng.choice(ATOMS)
                if ch in "?#%[]":
                    ch = urllib.parse.quote(ch, safe="")
                seg.append(ch)
        segs.append("".join(seg))
    path = "/" + "/".join(segs)
    # A path ending in ';' is signed wrongly by oauthlib (see the fixed cases).
    return path + "x" if path.endswith(";") else path


def rand_case(rng, s):
    return "".join(c.upper() if rng.random() < 0.3 else c for c in s)


def rand_request(rng):
    scheme = rng.choice(["https", "https", "http"])
    host = rng.choice([
        "123456.restlets.api.netsuite.com", "1234567-sb1.suitetalk.api.netsuite.com",
        "api.example.com", "localhost", "127.0.0.1", "[::1]", "[2001:db8::7]",
        "a-b.c_d.example",
    ])
    port = rng.choice([None, None, None, 443, 80, 8443, 8080, 1, 65535])
    method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PROPFIND"])
    path = rand_path(rng)
    query = []       # decoded pairs, in order
    raw_pieces = []  # as written in the URL
    for _ in range(rng.choice([0, 0, 1, 2, 3, 5])):
        if query and rng.random() < 0.2:
            name = query[rng.randrange(len(query))][0]   # repeated name
        else:
            name = rand_name(rng)
        r = rng.random()
        if r < 0.15:
            value = ""
            raw = enc_query_piece(rng, name)              # name without '='
        elif r < 0.25:
            value = ""
            raw = enc_query_piece(rng, name) + "="        # empty value
        else:
            value = rand_text(rng, 0, 10)
            raw = enc_query_piece(rng, name) + "=" + enc_query_piece(rng, value)
        query.append((name, value))
        raw_pieces.append(raw)
        if rng.random() < 0.05:
            raw_pieces.append("")                          # "a=1&&b=2"
    form = []
    if method not in ("GET", "HEAD") and rng.random() < 0.6:
        for _ in range(rng.randint(1, 4)):
            if form and rng.random() < 0.2:
                name = form[rng.randrange(len(form))][0]
            else:
                name = rand_name(rng).replace("=", "")
                if name == "":
                    name = "f"
            form.append((name, rand_text(rng, 0, 10) if rng.random() < 0.85 else ""))
    atoms_cred = list("abcdef0123456789") + list("&=+%~*! ") + ["é", "日本"]
    return {
        "method": method,
        "scheme": scheme,
        "host": host,
        "port": port,
        "path": path,
        "query": query,
        "raw_query": "&".join(raw_pieces),
        "form": form,
        "consumer_key": rand_text(rng, 1, 24, atoms_cred),
        "token": rand_text(rng, 1, 24, atoms_cred),
        "cs": rand_text(rng, 0, 40, atoms_cred),
        "ts": rand_text(rng, 0, 40, atoms_cred),
        "nonce": rand_text(rng, 6, 32, list("ABCxyz0123456789")),
        "timestamp": str(rng.randint(1000000000, 2000000000)),
        "sigmethod": rng.choice(list(METHODS)),
        "realm": rng.choice(["", "123456", "1234567_SB1", "Example Realm"]),
        "upper": rng.random() < 0.3,
    }


def url_for_tba(q):
    scheme = q["scheme"].upper() if q["upper"] else q["scheme"]
    host = q["host"].upper() if q["upper"] else q["host"]
    url = f"{scheme}://{host}"
    if q["port"] is not None:
        url += f":{q['port']}"
    url += q["path"]
    if q["raw_query"] or q["query"]:
        url += "?" + q["raw_query"]
    return url


def expected_sent_url(q):
    default = 443 if q["scheme"] == "https" else 80
    url = f"{q['scheme']}://{q['host']}"
    if q["port"] is not None and q["port"] != default:
        url += f":{q['port']}"
    url += sent_path(q["path"])
    if q["query"]:
        url += "?" + "&".join(urllib.parse.quote(n, safe="~") + "=" + urllib.parse.quote(v, safe="~")
                              for n, v in q["query"])
    return url


def run_tool(tool, q):
    args = [tool, "--method", q["method"], "--url", url_for_tba(q),
            "--consumer-key", q["consumer_key"], "--token", q["token"],
            "--nonce", q["nonce"], "--timestamp", q["timestamp"],
            "--signature-method", q["sigmethod"], "--realm", q["realm"]]
    for n, v in q["form"]:
        args += ["--form", f"{n}={v}"]
    p = subprocess.run(args, input=(q["cs"] + "\n" + q["ts"] + "\n").encode(),
                       capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def oauthlib_sign(q, url):
    client = oauth1.Client(
        q["consumer_key"], client_secret=q["cs"],
        resource_owner_key=q["token"], resource_owner_secret=q["ts"],
        signature_method=METHODS[q["sigmethod"]],
        signature_type=oauth1.SIGNATURE_TYPE_AUTH_HEADER,
        nonce=q["nonce"], timestamp=q["timestamp"], realm=q["realm"] or None)
    catcher.last = None
    if q["form"]:
        # A form-encoded string, not a list of pairs: oauthlib turns a list
        # into a dict and loses repeated names (see the fixed cases).
        _, headers, _ = client.sign(url, http_method=q["method"], body=form_body(q["form"]),
                                    headers=dict(FORM_CT))
    else:
        _, headers, _ = client.sign(url, http_method=q["method"])
    return headers["Authorization"], catcher.last


def form_body(pairs):
    return "&".join(urllib.parse.quote(n, safe="") + "=" + urllib.parse.quote(v, safe="")
                    for n, v in pairs)


def header_fields(h):
    if not h.startswith("OAuth "):
        return None
    return dict(re.findall(r'([a-z_]+)="([^"]*)"', h))


def check_one(tool, i, q):
    name = f"case {i} {q['sigmethod']} {q['method']} {url_for_tba(q)!r}"
    rc, out, err = run_tool(tool, q)
    lines = out.split("\n")
    if rc != 0 or len(lines) < 3:
        not_ok(name, f"oauth_sign exit {rc}: {err.strip()}")
        return
    base, header, sent = lines[0], lines[1], lines[2]
    want_sent = expected_sent_url(q)
    if sent != want_sent:
        not_ok(name, f"URL to send {sent!r}, expected {want_sent!r}")
        return
    # Where oauthlib accepts the query as written, let it decode it itself.
    o_url = want_sent
    if q["raw_query"] and set(q["raw_query"]) <= oauth_common.urlencoded:
        o_url = want_sent.split("?")[0] + "?" + q["raw_query"]
    try:
        o_header, o_base = oauthlib_sign(q, o_url)
    except ValueError as e:
        not_ok(name, f"oauthlib refused the request: {e}")
        return
    ours, theirs = header_fields(header), header_fields(o_header)
    if ours is None or theirs is None:
        not_ok(name, f"unparsable header: {header!r} / {o_header!r}")
    elif base != o_base:
        not_ok(name, f"base strings differ:\n  tba      {base}\n  oauthlib {o_base}")
    elif ours != theirs:
        not_ok(name, f"headers differ:\n  tba      {header}\n  oauthlib {o_header}")
    else:
        ok(name)


def fixed_cases(tool):
    """Places where oauthlib and RFC 5849 / libtba part ways, pinned down."""
    base = {"method": "GET", "scheme": "https", "host": "api.example.com", "port": None, "path": "/",
            "query": [], "raw_query": "", "form": [], "consumer_key": "ck", "token": "tk",
            "cs": "cs", "ts": "ts", "nonce": "abcdef123", "timestamp": "1500000000",
            "sigmethod": "HMAC-SHA256", "realm": "", "upper": False}

    # 1. A raw non-ASCII path: oauthlib signs the characters un-encoded (its
    #    base string has %C3%A9 where the wire has %C3%A9, i.e. it should
    #    read %25C3%25A9). RFC 5849 §3.4.1.2 signs the URI as sent.
    q = dict(base, path="/caf\u00e9")
    rc, out, _ = run_tool(tool, q)
    _, o_base = oauthlib_sign(q, "https://api.example.com/caf\u00e9")
    tba_base = out.split("\n")[0]
    if rc == 0 and "caf%25C3%25A9" in tba_base and "caf%C3%A9" in o_base:
        ok("quirk: raw non-ASCII path: tba signs the path as sent (%25C3%25A9), "
           "oauthlib the unencoded text (%C3%A9)")
    else:
        not_ok("quirk: raw non-ASCII path", f"tba {tba_base!r} / oauthlib {o_base!r}")

    # 2. Lower-case escapes in the path: oauthlib keeps them, tba sends and signs
    #    them upper-cased (RFC 3986 §6.2.2.1); both agree on the URL tba sends.
    q = dict(base, path="/a%2fb")
    rc, out, _ = run_tool(tool, q)
    lines = out.split("\n")
    _, o_raw = oauthlib_sign(q, "https://api.example.com/a%2fb")
    _, o_sent = oauthlib_sign(q, lines[2] if rc == 0 else "")
    if rc == 0 and lines[2] == "https://api.example.com/a%2Fb" and o_sent == lines[0] \
            and o_raw != lines[0]:
        ok("quirk: lower-case path escapes: oauthlib signs them as given; "
           "tba sends and signs %2F")
    else:
        not_ok("quirk: lower-case path escapes", f"{out!r} / {o_raw!r}")

    # 3. Query parameters named oauth_*: oauthlib percent-decodes their values a
    #    second time (collect_parameters unescapes every oauth_* value); RFC 5849
    #    decodes once.
    q = dict(base, query=[("oauth_extra", "a%41")], raw_query="oauth_extra=a%2541")
    rc, out, _ = run_tool(tool, q)
    _, o_base = oauthlib_sign(q, "https://api.example.com/?oauth_extra=a%2541")
    tba_base = out.split("\n")[0]
    if rc == 0 and "oauth_extra%3Da%252541" in tba_base and "oauth_extra%3DaA" in o_base:
        ok("quirk: oauth_* query values: oauthlib decodes them twice (a%41 -> aA), "
           "tba once")
    else:
        not_ok("quirk: oauth_* query values", f"tba {tba_base!r} / oauthlib {o_base!r}")

    # 4. Bytes that are not UTF-8 (%FF) in the query: oauthlib decodes the query
    #    as UTF-8 with replacement (U+FFFD), tba signs the byte itself (%FF), as
    #    the RFC's byte-oriented encoding does.
    q = dict(base, query=[("x", "\xff")], raw_query="x=%FF")
    rc, out, _ = run_tool(tool, q)
    _, o_base = oauthlib_sign(q, "https://api.example.com/?x=%FF")
    tba_base = out.split("\n")[0]
    if rc == 0 and "x%3D%25FF" in tba_base and "x%3D%25EF%25BF%25BD" in o_base:
        ok("quirk: non-UTF-8 query bytes: oauthlib signs U+FFFD, tba the byte %FF")
    else:
        not_ok("quirk: non-UTF-8 query bytes", f"tba {tba_base!r} / oauthlib {o_base!r}")

    # 5. Raw characters oauthlib will not accept in a query (space, non-ASCII):
    #    oauthlib raises ValueError; tba decodes them as themselves and sends
    #    them encoded.
    try:
        oauthlib_sign(dict(base), "https://api.example.com/?q=a b\u00e9")
        not_ok("quirk: raw space/unicode in query", "oauthlib accepted it")
    except ValueError:
        q = dict(base, query=[("q", "a b\u00e9")], raw_query="q=a b\u00e9")
        rc, out, _ = run_tool(tool, q)
        if rc == 0 and out.split("\n")[2] == "https://api.example.com/?q=a%20b%C3%A9":
            ok("quirk: raw space/unicode in query: oauthlib refuses it, "
               "tba signs it decoded and sends it encoded")
        else:
            not_ok("quirk: raw space/unicode in query", out)

    # 6. Form parameters on GET/HEAD: oauthlib refuses ("GET/HEAD requests should
    #    not include body"); RFC 5849 does not forbid them and tba signs them.
    try:
        oauth1.Client("ck").sign("https://api.example.com/", http_method="GET",
                                 body=[("a", "b")], headers=dict(FORM_CT))
        not_ok("quirk: form on GET", "oauthlib accepted it")
    except ValueError:
        q = dict(base, form=[("a", "b")])
        rc, out, _ = run_tool(tool, q)
        if rc == 0 and "a%3Db" in out.split("\n")[0]:
            ok("quirk: form on GET: oauthlib refuses, tba signs the form")
        else:
            not_ok("quirk: form on GET", out)

    # 7. Non-canonical IPv6 literals: oauthlib rewrites them (ipaddress), tba
    #    signs the host as written (lower-cased), as it sends it.
    q = dict(base, host="[2001:DB8:0:0::1]")
    rc, out, _ = run_tool(tool, q)
    _, o_base = oauthlib_sign(q, "https://[2001:DB8:0:0::1]/")
    tba_base = out.split("\n")[0]
    if rc == 0 and "%5B2001%3Adb8%3A0%3A0%3A%3A1%5D" in tba_base and \
            "%5B2001%3Adb8%3A%3A1%5D" in o_base:
        ok("quirk: IPv6 literal: oauthlib canonicalises it, tba keeps it as sent")
    else:
        not_ok("quirk: IPv6 literal", f"tba {tba_base!r} / oauthlib {o_base!r}")

    # 8. Repeated form names given to oauthlib as a list of pairs: oauthlib's
    #    to_unicode() turns the list into a dict and signs only the last value;
    #    RFC 5849 §3.4.1.3.1 signs every parameter. (Passed as a form-encoded
    #    string, oauthlib keeps them all; the random cases do that.)
    q = dict(base, method="POST", form=[("a", "1"), ("a", "2")])
    rc, out, _ = run_tool(tool, q)
    client = oauth1.Client("ck", client_secret="cs", resource_owner_key="tk",
                           resource_owner_secret="ts", nonce="abcdef123",
                           timestamp="1500000000",
                           signature_method=oauth1.SIGNATURE_HMAC_SHA256)
    catcher.last = None
    client.sign("https://api.example.com/", http_method="POST", body=[("a", "1"), ("a", "2")],
                headers=dict(FORM_CT))
    o_list = catcher.last
    _, o_str = oauthlib_sign(q, "https://api.example.com/")
    tba_base = out.split("\n")[0]
    if rc == 0 and "a%3D1%26a%3D2" in tba_base and tba_base == o_str and \
            "a%3D1" not in o_list and "a%3D2" in o_list:
        ok("quirk: repeated form names as a list: oauthlib keeps only the last; "
           "tba signs all (as oauthlib does with a string body)")
    else:
        not_ok("quirk: repeated form names", f"tba {tba_base!r} / oauthlib {o_list!r}")

    # 9. A last path segment ending in ';': urlparse splits ";params" off and
    #    urlunparse drops an empty one, so oauthlib signs /a for a request
    #    sent to /a; (RFC 5849 §3.4.1.2 signs the path as sent).
    q = dict(base, path="/a;")
    rc, out, _ = run_tool(tool, q)
    _, o_base = oauthlib_sign(q, "https://api.example.com/a;")
    tba_base = out.split("\n")[0]
    if rc == 0 and "example.com%2Fa%3B&" in tba_base and "example.com%2Fa&" in o_base:
        ok("quirk: path ending in ';': oauthlib drops the ';', tba signs it")
    else:
        not_ok("quirk: path ending in ';'", f"tba {tba_base!r} / oauthlib {o_base!r}")

    # 10. Requests libtba must refuse with a clear message.
    for url, what in [("https://h/%zz", "percent escape"), ("https://h/?a=%4", "percent escape"),
                      ("https://h:99999/", "65535"), ("https://h:8x/", "not a number"),
                      ("ftp://h/", "http or https"), ("https://h/?a=%00", "NUL")]:
        rc, out, err = _run_url(tool, url)
        if rc == 1 and what in err:
            ok(f"refused {url}")
        else:
            not_ok(f"refused {url}", f"exit {rc}, stderr {err.strip()!r}")


def _run_url(tool, url):
    p = subprocess.run([tool, "--method", "GET", "--url", url, "--consumer-key", "k",
                        "--token", "t", "--nonce", "abcdef", "--timestamp", "1"],
                       input=b"a\nb\n", capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def main():
    tool = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else random.SystemRandom().randrange(1 << 32)
    print(f"# seed {seed} (rerun: oauthlib_property.py TOOL {count} {seed})")
    rng = random.Random(seed)
    for i in range(count):
        check_one(tool, i, rand_request(rng))
    fixed_cases(tool)
    return results.done()


if __name__ == "__main__":
    sys.exit(main())
