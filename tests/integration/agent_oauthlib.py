#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Signatures made by tba-agent (inside the SoftHSM token) against python3-oauthlib.

Usage:
  agent_oauthlib.py import TBA               import the test profiles (secrets via stdin)
  agent_oauthlib.py check TBA SOCK [N] [SEED]
  agent_oauthlib.py oracle SOCK sign|passport

'check' sends N random Sign requests (client nonce and timestamp) straight
over the socket, a share of them through `tba header --json`, and compares
each signature, base string and header with oauthlib.oauth1.Client given
the same secrets; then Passports against Python's hmac over
account&consumerKey&token&nonce&timestamp. Client timestamps lie within the
last hour (the agent runs with --max-skew 3600) or at most 4 s ahead.
'oracle' checks Oracle's published vectors against an agent whose clock
is set to their time (faketime).

Output: "ok - NAME" / "not ok - NAME: detail" lines, then "N passed, N failed".
"""

import base64
import hashlib
import hmac
import json
import random
import re
import subprocess
import sys
import time
import urllib.parse

from oauthlib import oauth1

import agentwire
import oauthref

METHODS = {"HMAC-SHA256": oauth1.SIGNATURE_HMAC_SHA256, "HMAC-SHA1": oauth1.SIGNATURE_HMAC_SHA1,
           "HMAC-SHA512": oauth1.SIGNATURE_HMAC_SHA512}
DIGESTS = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1,
           "HMAC-SHA512": hashlib.sha512}
HOSTS = ["api.example.com", "123456.restlets.api.netsuite.com",
         "1234567-sb1.suitetalk.api.netsuite.com"]
FORM_CT = {"Content-Type": "application/x-www-form-urlencoded"}

# name, kind, account, realm, sigmethod, consumer key, token, cs, ts
PROFILES = [
    ("p256", "oauth1", "", "", "HMAC-SHA256", "ck-256", "tok-256", "cs&256 é", "ts+%256"),
    ("p256r", "oauth1", "ACME_1", "Example Realm", "HMAC-SHA256", "ck~r", "tok~r",
     "d26ad321a4b2f23b0741c8d38392ce01c3e23e109df6c96eac6d099e9ab9e8b5", "日本 secret"),
    ("p1", "oauth1", "acct1", "123456", "HMAC-SHA1", "ck-1", "tok-1", "~", "only-ts"),
    ("p512", "oauth1", "", "r512", "HMAC-SHA512", "ck-512", "tok-512", "x" * 90, "y=z!*"),
    ("ns", "netsuite", "1234567_sb1", None, "HMAC-SHA256", "nsck", "nstok", "nscs", "nsts"),
]

ORACLE = dict(ck="ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4",
              cs="d26ad321a4b2f23b0741c8d38392ce01c3e23e109df6c96eac6d099e9ab9e8b5",
              token="2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc",
              ts="c29a677df7d5439a458c063654187e3d678d73aca8e3c9d8bea1478a3eb0d295")
ORACLE_PP = dict(ck="71cc02b731f05895561ef0862d71553a3ac99498a947c3b7beaf4a1e4a29f7c4",
                 token="89e08d9767c5ac85b374415725567d05b54ecf0960ad2470894a52f741020d82",
                 cs="7278da58caf07f5c336301a601203d10a58e948efa280f0618e25fcee1ef2abd",
                 ts="060cd9ab3ffbbe1e3d3918e90165ffd37ab12acc76b4691046e2d29c7d7674c2")

results = oauthref.Results()
ok, not_ok = results.ok, results.not_ok
catcher = oauthref.catch_base_strings()


def run_import(tba, name, secrets, args):
    p = subprocess.run([tba, "import", name] + args, input=secrets.encode(),
                       capture_output=True, timeout=60)
    if p.returncode != 0:
        print(f"import {name} failed: {p.stderr.decode().strip()}", file=sys.stderr)
        sys.exit(1)


def do_import(tba):
    for name, kind, account, realm, sm, ck, tok, cs, ts in PROFILES:
        args = ["--kind", kind, "--consumer-key", ck, "--token-id", tok, "--signature-method", sm]
        if account:
            args += ["--account", account]
        if realm:
            args += ["--realm", realm]
        if kind == "oauth1":
            for h in HOSTS:
                args += ["--allow-host", h]
        run_import(tba, name, f"{cs}\n{ts}\n", args)
    run_import(tba, "oracle", f"{ORACLE['cs']}\n{ORACLE['ts']}\n",
               ["--kind", "netsuite", "--account", "123456", "--consumer-key", ORACLE["ck"],
                "--token-id", ORACLE["token"]])
    run_import(tba, "oraclepp", f"{ORACLE_PP['cs']}\n{ORACLE_PP['ts']}\n",
               ["--kind", "netsuite", "--account", "1234567", "--consumer-key", ORACLE_PP["ck"],
                "--token-id", ORACLE_PP["token"]])


# Random text: plain, reserved, '%', '+', space and unicode (valid UTF-8 only:
# oauthlib replaces undecodable bytes, see oauthlib_property.py's pinned quirks).
ATOMS = (list("abcXYZ0189") + list("-._~") + list("!*'();:@&=+$,/?#[]% \"<>\\^`{|}")
         + ["é", "ü", "ß", "日本", "€", "😀", "\u00a0", "Ω"])
PATH_SAFE = "-._~!$&'()*+,;=:@/"


def rand_text(rng, lo, hi):
    return "".join(rng.choice(ATOMS) for _ in range(rng.randint(lo, hi)))


def rand_name(rng):
    while True:
        n = rand_text(rng, 1, 6)
        if not n.startswith("oauth_"):   # oauthlib decodes oauth_* values twice
            return n


def rand_path(rng):
    segs = []
    for _ in range(rng.randint(0, 4)):
        seg = ""
        for _ in range(rng.randint(0, 6)):
            if rng.random() < 0.15:
                seg += "%" + rng.choice(["2F", "2f", "25", "20", "3F", "C3%A9", "e2%82%ac"])
            else:
                ch = rng.choice(ATOMS)
                seg += urllib.parse.quote(ch, safe="") if ch in "?#%[]" else ch
        segs.append(seg)
    path = "/" + "/".join(segs)
    return path + "x" if path.endswith(";") else path   # oauthlib drops a trailing ';'


def sent_path(raw):
    """RFC 3986: the path as it goes on the wire (escapes upper-cased, the rest encoded)."""
    out, i = [], 0
    while i < len(raw):
        ch = raw[i]
        if ch == "%" and re.match(r"[0-9A-Fa-f]{2}", raw[i + 1:i + 3]):
            out.append("%" + raw[i + 1:i + 3].upper())
            i += 3
            continue
        out.append(ch if ch.isascii() and (ch.isalnum() or ch in PATH_SAFE)
                   else urllib.parse.quote(ch, safe=""))
        i += 1
    return "".join(out) or "/"


def rand_request(rng):
    name, kind, account, realm, sm, ck, tok, cs, ts = rng.choice(PROFILES)
    host = rng.choice(HOSTS if kind == "oauth1" else ["1234567-sb1.restlets.api.netsuite.com"])
    method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "PROPFIND"])
    query = []
    for _ in range(rng.choice([0, 0, 1, 2, 3, 5])):
        n = query[rng.randrange(len(query))][0] if query and rng.random() < 0.2 else rand_name(rng)
        query.append((n, rand_text(rng, 0, 10) if rng.random() < 0.85 else ""))
    form = []
    if method not in ("GET", "HEAD") and rng.random() < 0.6:   # oauthlib refuses GET bodies
        for _ in range(rng.randint(1, 4)):
            n = form[rng.randrange(len(form))][0] if form and rng.random() < 0.2 else rand_name(rng)
            form.append((n, rand_text(rng, 0, 10) if rng.random() < 0.85 else ""))
    return dict(profile=name, sigmethod=sm, realm=(realm if kind == "oauth1" else account.upper()),
                ck=ck, token=tok, cs=cs, ts=ts, method=method,
                host=host.upper() if rng.random() < 0.2 else host,
                port=rng.choice(["", "", "", ":443"]), path=rand_path(rng), query=query,
                form=form, nonce="".join(rng.choice("ABCxyz0123456789") for _ in range(rng.randint(6, 40))),
                timestamp=int(time.time()) + rng.randint(-3500, 4))  # the agent's --max-skew 3600


def query_string(pairs):
    return "&".join(urllib.parse.quote(n, safe="") + "=" + urllib.parse.quote(v, safe="")
                    for n, v in pairs)


def url_for_agent(q):
    url = f"https://{q['host']}{q['port']}{q['path']}"
    return url + "?" + query_string(q["query"]) if q["query"] else url


def oauthlib_sign(q):
    url = f"https://{q['host'].lower()}{sent_path(q['path'])}"
    if q["query"]:
        url += "?" + query_string(q["query"])
    client = oauth1.Client(q["ck"], client_secret=q["cs"], resource_owner_key=q["token"],
                           resource_owner_secret=q["ts"], signature_method=METHODS[q["sigmethod"]],
                           nonce=q["nonce"], timestamp=str(q["timestamp"]),
                           realm=q["realm"] or None)
    catcher.last = None
    if q["form"]:
        _, headers, _ = client.sign(url, http_method=q["method"], body=query_string(q["form"]),
                                    headers=dict(FORM_CT))
    else:
        _, headers, _ = client.sign(url, http_method=q["method"])
    return headers["Authorization"], catcher.last


def fields(h):
    return dict(re.findall(r'([a-z_]+)="([^"]*)"', h)) if h.startswith("OAuth ") else None


def compare(name, q, rep):
    o_header, o_base = oauthlib_sign(q)
    theirs = fields(o_header)
    want_sig = urllib.parse.unquote(theirs["oauth_signature"])
    if rep.get("signature") != want_sig:
        not_ok(name, f"signature {rep.get('signature')} != oauthlib {want_sig}\n"
               f"  agent    {rep.get('base_string')}\n  oauthlib {o_base}")
    elif rep.get("base_string") != o_base:
        not_ok(name, f"base strings differ:\n  agent    {rep.get('base_string')}\n  oauthlib {o_base}")
    elif fields(rep.get("authorization", "")) != theirs:
        not_ok(name, f"headers differ:\n  agent    {rep.get('authorization')}\n  oauthlib {o_header}")
    elif rep.get("nonce") != q["nonce"] or rep.get("timestamp") != q["timestamp"]:
        not_ok(name, f"nonce/timestamp not echoed: {rep.get('nonce')} {rep.get('timestamp')}")
    else:
        ok(name)


def via_cli(tba, q):
    args = [tba, "header", q["profile"], q["method"], url_for_agent(q), "--json",
            "--nonce", q["nonce"], "--timestamp", str(q["timestamp"])]
    for n, v in q["form"]:
        args += ["--form", f"{n}={v}"]
    p = subprocess.run(args, capture_output=True, timeout=30)
    if p.returncode != 0:
        return None, p.stderr.decode().strip()
    return json.loads(p.stdout.decode()), None


def oauth_key(cs, ts):
    return (urllib.parse.quote(cs, safe="~") + "&" + urllib.parse.quote(ts, safe="~")).encode()


def check(tba, sock, n, seed):
    rng = random.Random(seed)
    c = agentwire.Conn(sock)
    for i in range(n):
        q = rand_request(rng)
        cli = i % 8 == 0
        if cli:   # `--form NAME=VALUE` splits at the first '=': a CLI name cannot hold one
            q["form"] = [(a.replace("=", "_"), b) for a, b in q["form"]]
        name = f"sign {i} {'cli' if cli else 'wire'} {q['profile']} {q['method']} {url_for_agent(q)!r}"
        if cli:
            rep, err = via_cli(tba, q)
        else:
            params = {"profile": q["profile"], "method": q["method"], "url": url_for_agent(q),
                      "nonce": q["nonce"], "timestamp": q["timestamp"]}
            if q["form"]:
                params["form"] = [[a, b] for a, b in q["form"]]
            rep, err = c.request("Sign", params)
        if rep is None:
            not_ok(name, f"agent refused: {err}")
            continue
        compare(name, q, rep)

    # Agent-chosen nonce and timestamp: fresh, long enough, and still verifiable.
    seen = set()
    for i in range(20):
        q = rand_request(rng)
        host = HOSTS[0] if q["profile"] != "ns" else "1234567-sb1.app.netsuite.com"
        rep, err = c.request("Sign", {"profile": q["profile"], "method": "GET",
                                      "url": f"https://{host}/x"})
        if rep is None or not re.fullmatch(r"[A-Za-z0-9]{20,64}", rep["nonce"]) \
                or rep["nonce"] in seen or abs(rep["timestamp"] - time.time()) > 60:
            not_ok(f"agent nonce {i}", f"{rep} {err}")
            continue
        seen.add(rep["nonce"])
        q.update(method="GET", host=host, port="", path="/x", query=[], form=[],
                 nonce=rep["nonce"], timestamp=rep["timestamp"])
        compare(f"agent-chosen nonce/timestamp {i}", q, rep)

    # Passports: HMAC(key, account&consumerKey&token&nonce&timestamp).
    for i in range(30):
        name_, kind, account, realm, sm, ck, tok, cs, ts = PROFILES[i % len(PROFILES)]
        nonce = "".join(rng.choice("abcXYZ019") for _ in range(rng.randint(6, 64)))
        t = int(time.time()) + rng.randint(-3500, 4)
        if i % 10 == 9 and not account:
            rep, err = c.request("Passport", {"profile": name_})
            if err and err[0] == agentwire.PREFIX + "PolicyDenied":
                ok(f"passport {name_} without account refused")
            else:
                not_ok(f"passport {name_} without account", f"{rep} {err}")
            continue
        rep, err = c.request("Passport", {"profile": name_, "nonce": nonce, "timestamp": t})
        if not account:
            if err and err[0] == agentwire.PREFIX + "PolicyDenied":
                ok(f"passport {i} {name_}: no account, refused")
            else:
                not_ok(f"passport {i} {name_}", f"expected PolicyDenied, got {rep} {err}")
            continue
        acct = account.upper() if kind == "netsuite" else account
        msg = f"{acct}&{ck}&{tok}&{nonce}&{t}".encode()
        want = base64.b64encode(hmac.new(oauth_key(cs, ts), msg, DIGESTS[sm]).digest()).decode()
        if rep is None:
            not_ok(f"passport {i} {name_}", str(err))
        elif (rep["signature"], rep["account"], rep["consumer_key"], rep["token"], rep["nonce"],
              rep["timestamp"], rep["algorithm"]) != (want, acct, ck, tok, nonce, t, sm):
            not_ok(f"passport {i} {name_}", f"{rep} want signature {want}")
        else:
            ok(f"passport {i} {name_} ({acct})")

    c.close()


def oracle(sock, which):
    """Oracle's published vectors: 'sign' (2017) or 'passport' (2015). The
    agent must run with its clock at the vector's time (faketime): it takes
    no timestamp more than --max-skew (at most an hour) old."""
    c = agentwire.Conn(sock)
    # Oracle's published vectors (doc/PROTOCOL.md, appendix A).
    vec = [("GET", "https://123456.suitetalk.api.netsuite.com/services/rest/record/v1/employee/40",
            "B5OIWznZ2YP0OB7VrJrGkYsTh+8H+5T9Hag+o92q0zY="),
           ("POST", "https://123456.restlets.api.netsuite.com/app/site/hosting/restlet.nl"
            "?script=6&deploy=1&customParam=someValue&testParam=someOtherValue",
            "+KK4SKNgz4ZiILGLwOMtfYlgcXSy1eis8ldE9X90azQ=")]
    for m, url, want in vec if which == "sign" else []:
        rep, err = c.request("Sign", {"profile": "oracle", "method": m, "url": url,
                                      "nonce": "fjaLirsIcCGVZWzBX0pg", "timestamp": 1508242306})
        if rep is not None and rep["signature"] == want and 'realm="123456"' in rep["authorization"]:
            ok(f"Oracle vector {m}")
        else:
            not_ok(f"Oracle vector {m}", f"{rep} {err}")
    if which == "passport":
        rep, err = c.request("Passport", {"profile": "oraclepp", "nonce": "6obMKq0tmY8ylVOdEkA1",
                                          "timestamp": 1439829974})
        if rep is not None and rep["signature"] == "FCghIZqXNetuZY8ILWOFH0ucdfzQOmAuL+q+kF21zPs=" \
                and rep["account"] == "1234567":
            ok("Oracle tokenPassport vector")
        else:
            not_ok("Oracle tokenPassport vector", f"{rep} {err}")
    c.close()


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "import":
        do_import(sys.argv[2])
        return 0
    if len(sys.argv) >= 4 and sys.argv[1] == "oracle":
        oracle(sys.argv[2], sys.argv[3])
        return results.done()
    if len(sys.argv) < 4 or sys.argv[1] != "check":
        print(__doc__, file=sys.stderr)
        return 64
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 320
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else random.randrange(1 << 30)
    print(f"# seed {seed}")
    check(sys.argv[2], sys.argv[3], n, seed)
    return results.done()


if __name__ == "__main__":
    sys.exit(main())
