#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""pyclient.py - the Python client (python/tba_agent.py) through Debian's
python3-requests against the NetSuite stand-in, which verifies every
signature with python3-oauthlib. Prints "ok - ..." / "not ok - ..." lines.

    pyclient.py SRC ACCOUNT PROFILE O1_PROFILE O1_HOST CS TS CK TK
    env: TBA_AGENT_SOCK, STANDIN_PORT, STANDIN_CA, STANDIN_LOG
"""

import base64
import hashlib
import hmac
import json
import os
import socket
import sys
import tempfile

SRC, ACCOUNT, PROFILE, O1, O1_HOST, CS, TS, CK, TK = sys.argv[1:10]
sys.path.insert(0, os.path.join(SRC, "python"))

import requests  # noqa: E402
import urllib3.util.connection  # noqa: E402

import tba_agent  # noqa: E402

PORT = int(os.environ["STANDIN_PORT"])
CA = os.environ["STANDIN_CA"]
LOG = os.environ["STANDIN_LOG"]
# A session consults these before its own .verify: point them at the stand-in CA too.
os.environ["REQUESTS_CA_BUNDLE"] = CA
os.environ.pop("CURL_CA_BUNDLE", None)
HOST = ACCOUNT.lower().replace("_", "-") + ".suitetalk.api.netsuite.com"
BASE = "https://%s/services/rest" % HOST
failed = 0

# Every connection goes to the stand-in on 127.0.0.1 (curl's --connect-to):
# the URL, Host header, SNI and certificate check keep the NetSuite name.
_orig = urllib3.util.connection.create_connection


def _to_standin(address, *args, **kwargs):
    return _orig(("127.0.0.1", PORT), *args, **kwargs)


urllib3.util.connection.create_connection = _to_standin


def check(name, cond, detail=""):
    global failed
    if cond:
        print("ok - " + name)
    else:
        failed += 1
        print("not ok - %s%s" % (name, ": " + str(detail) if detail else ""))


def last_log():
    with open(LOG) as f:
        return json.loads(f.read().splitlines()[-1])


def raises(fn, name):
    try:
        fn()
    except tba_agent.AgentError as e:
        return e
    check(name, False, "no AgentError raised")
    return None


agent = tba_agent.Agent()
check("ping returns the agent's version", isinstance(agent.ping(), str) and agent.ping() != "")
profiles = {p["name"]: p for p in agent.list()}
check("list() has the NetSuite profile", profiles.get(PROFILE, {}).get("kind") == "netsuite", profiles)
check("list() has the oauth1 profile", profiles.get(O1, {}).get("kind") == "oauth1", profiles)
check("list() reports the realm", profiles.get(PROFILE, {}).get("realm") == ACCOUNT.upper())

# Agent.sign: the reply's fields, and a header the stand-in accepts.
url = BASE + "/record/v1/customer?limit=2"
rep = agent.sign(PROFILE, "GET", url)
check("sign() returns authorization, signature, nonce, timestamp, base_string",
      all(k in rep for k in ("authorization", "signature", "nonce", "timestamp", "base_string")), rep)
r = requests.get(url, headers={"Authorization": rep["authorization"]}, verify=CA)
check("sign()'s header is accepted by the stand-in", r.status_code == 200 and last_log()["verified"],
      last_log().get("reason"))

# Auth: GET with a SuiteQL-like query, as typed.
auth = tba_agent.Auth(PROFILE)
q = "companyName CONTAIN \"Acme, Inc\" AND id > '1'"
r = requests.get(BASE + "/record/v1/customer", params={"q": q, "limit": 5}, auth=auth, verify=CA)
e = last_log()
check("Auth: GET with a query verified", r.status_code == 200 and e["verified"], e.get("reason"))
check("Auth: the server decoded q as typed", dict(e["query"]).get("q") == q, e["query"])
n1 = e["nonce"]
r = requests.get(BASE + "/record/v1/customer", params={"q": q, "limit": 5}, auth=auth, verify=CA)
e = last_log()
check("Auth: the same request again is signed afresh", r.status_code == 200 and e["verified"]
      and e["nonce"] != n1, e)

# A session: many requests on one connection, each one signed.
s = requests.Session()
s.auth = auth
s.verify = CA
ok = 0
nonces = set()
for i in range(5):
    r = s.get(BASE + "/record/v1/customer/%d" % (100 + i))
    e = last_log()
    ok += r.status_code in (200, 404) and e["verified"]
    nonces.add(e["nonce"])
check("Session: 5 requests, 5 verified signatures, 5 nonces", ok == 5 and len(nonces) == 5,
      (ok, len(nonces)))

# JSON body: not signed, but the request is.
r = s.post(BASE + "/query/v1/suiteql?limit=3", json={"q": "SELECT id FROM customer"},
           headers={"Prefer": "transient"})
e = last_log()
check("Auth: SuiteQL POST with a JSON body verified", r.status_code == 200 and e["verified"],
      e.get("reason"))
check("Auth: SuiteQL rows came back", r.json().get("count") == 3, r.text[:200])

# Form body: signed (oauthlib adds the form to the base string it rebuilds).
form = {"name": "a b&c=d", "empty": "", "plus": "1+1"}
o1auth = tba_agent.Auth(O1)
r = requests.post("https://%s/oauth1/form?x=1" % O1_HOST, data=form, auth=o1auth, verify=CA)
e = last_log()
check("Auth: form body POST verified", r.status_code == 200 and e["verified"], e.get("reason"))
check("Auth: the form reached the server as sent", sorted(map(tuple, e["form"])) ==
      sorted(form.items()), e["form"])
check("Auth: the form is in the verified base string", "name%3Da%2520b%2526c%253Dd" in
      e.get("base_string", ""), e.get("base_string"))
# The same body with a JSON-ish content type is not a form: it must not be signed as one.
r = requests.post("https://%s/echo/raw" % O1_HOST, data="a=1&b=2", auth=o1auth, verify=CA,
                  headers={"Content-Type": "text/plain"})
e = last_log()
check("Auth: a text/plain body is not signed as a form", r.status_code == 200 and e["verified"]
      and "a%3D1" not in e["base_string"], e)

# Redirects on the same host: each hop signed afresh (a resent signature
# would be a reused nonce); a 307 keeps the form body, and its signature.
def log_lines():
    with open(LOG) as f:
        return [json.loads(x) for x in f.read().splitlines()]


n0 = len(log_lines())
r = requests.get("https://%s/redirect?to=/echo/after%%20302&code=302" % HOST, auth=auth, verify=CA)
hops = log_lines()[n0:]
check("Auth: a 302 is followed to the target", r.status_code == 200 and
      r.json().get("path") == "/echo/after%20302", r.text[:200])
check("Auth: both hops verified, with two nonces", len(hops) == 2 and all(h["verified"] for h in hops)
      and hops[0]["nonce"] != hops[1]["nonce"], hops)
n0 = len(log_lines())
r = requests.post("https://%s/redirect?to=/oauth1/form&code=307" % O1_HOST, data={"k": "v w"},
                  auth=o1auth, verify=CA)
hops = log_lines()[n0:]
check("Auth: a 307 POST with a form is re-signed with the form", r.status_code == 200 and
      len(hops) == 2 and all(h["verified"] for h in hops) and hops[1]["form"] == [["k", "v w"]], hops)
n0 = len(log_lines())
r = requests.get("https://%s/redirect?to=https://%s/echo/x&code=302" % (HOST, O1_HOST), auth=auth,
                 verify=CA)
hops = log_lines()[n0:]
check("Auth: a redirect to another host carries no signature", len(hops) == 2 and
      hops[0]["verified"] and hops[1]["reason"] == "no OAuth Authorization header", hops)

# The URL sent is the URL signed: what the agent signed reaches the server.
signed = []
real_sign = auth.agent.sign


def spy(*a, **k):
    rep = real_sign(*a, **k)
    signed.append(rep)
    return rep


auth.agent.sign = spy
r = requests.get(BASE + "/record/v1/customer?q=a%2Bb%20c&limit=1", auth=auth, verify=CA)
auth.agent.sign = real_sign
e = last_log()
check("Auth: pre-encoded query verified", r.status_code == 200 and e["verified"], e.get("reason"))
check("Auth: %2B reached the server as +", dict(e["query"]).get("q") == "a+b c", e["query"])
check("Auth: the server's base string is the one the agent signed",
      signed and signed[-1]["base_string"] == e.get("base_string"),
      (signed[-1]["base_string"] if signed else None, e.get("base_string")))
check("Auth: the request went to the URL the agent signed",
      signed and r.request.url == signed[-1].get("url"), (r.request.url, signed and signed[-1]))

# Errors: the agent's names and messages.
err = raises(lambda: agent.sign("no-such-profile", "GET", url), "unknown profile raises")
check("unknown profile: io.tba.Agent.ProfileNotFound", err is not None and
      err.name == "io.tba.Agent.ProfileNotFound" and err.message, err and (err.name, err.message))
err = raises(lambda: agent.sign(PROFILE, "GET", "http://%s/x" % HOST), "http raises")
check("http URL: io.tba.Agent.PolicyDenied", err is not None and
      err.name == "io.tba.Agent.PolicyDenied", err and (err.name, err.message))
err = raises(lambda: agent.sign(PROFILE, "GET", "https://evil.example.com/x"), "other host raises")
check("other host: io.tba.Agent.PolicyDenied with a message", err is not None and
      err.name == "io.tba.Agent.PolicyDenied" and "evil.example.com" in err.message,
      err and (err.name, err.message))
check("the agent connection still works after errors", agent.ping() != "")
err = raises(lambda: requests.get("https://evil.example.com/", auth=auth, verify=CA),
             "Auth on another host raises")
check("Auth refuses another host with PolicyDenied (nothing sent)", err is not None and
      err.name == "io.tba.Agent.PolicyDenied", err)
err = raises(lambda: agent.sign(PROFILE, "POST", url, form=[["k", "v" * 70000]]),
             "an oversized request raises")
check("a request over 65536 bytes: MessageTooLarge, not sent", err is not None and
      err.name == "io.tba.Agent.MessageTooLarge", err)
err = raises(lambda: tba_agent.Auth("no-such-profile")(requests.Request("GET", url).prepare()),
             "Auth with an unknown profile raises")
check("Auth with an unknown profile: ProfileNotFound", err is not None and
      err.name == "io.tba.Agent.ProfileNotFound", err)

# Passport: fields, and the signature checked with Python's hmac.
p = agent.passport(PROFILE)
base = "&".join([p["account"], CK, TK, p["nonce"], str(p["timestamp"])])
want = base64.b64encode(hmac.new((CS + "&" + TS).encode(), base.encode(),
                                 hashlib.sha256).digest()).decode()
check("passport(): account in realm form", p["account"] == ACCOUNT.upper(), p)
check("passport(): signature verified with hmac", p["signature"] == want, (p["signature"], want))
check("passport(): algorithm HMAC-SHA256", p["algorithm"] == "HMAC-SHA256", p)

# access_token on a TBA profile: the agent's error, not a crash.
err = raises(lambda: agent.access_token(PROFILE), "access_token on a TBA profile raises")
check("access_token on a TBA profile: an io.tba.Agent. error", err is not None and
      (err.name or "").startswith("io.tba.Agent."), err and (err.name, err.message))

# No agent: AgentUnreachable names the path.
err = raises(lambda: tba_agent.Agent("/nonexistent/agent.sock").ping(), "no agent raises")
check("no agent: AgentUnreachable naming the path", isinstance(err, tba_agent.AgentUnreachable)
      and "/nonexistent/agent.sock" in str(err), err)

# A socket whose owner is another user: refused before a byte is sent,
# unless TBA_AGENT_UID names that user (a system agent's own user).
def other_uid_listener(uid):
    """A listener run by uid; returns (path, read_fd, pid). It reports how many
    bytes its first connection sent, then exits."""
    d = tempfile.mkdtemp()
    os.chmod(d, 0o755)
    os.chown(d, uid, uid)
    path = os.path.join(d, "evil.sock")
    r_fd, w_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r_fd)
        os.setgid(uid)
        os.setuid(uid)
        ls = socket.socket(socket.AF_UNIX)
        ls.bind(path)
        os.chmod(path, 0o777)
        ls.listen(1)
        os.write(w_fd, b"L")
        c, _ = ls.accept()
        c.settimeout(3)
        try:
            got = c.recv(100)
        except OSError:
            got = b""
        os.write(w_fd, b"%d" % len(got))
        os._exit(0)
    os.close(w_fd)
    os.read(r_fd, 1)
    return path, r_fd, pid


def other_uid_result(path, r_fd, pid):
    n = os.read(r_fd, 16)
    os.waitpid(pid, 0)
    os.unlink(path)
    os.rmdir(os.path.dirname(path))
    return n


if os.getuid() == 0:
    os.environ.pop("TBA_AGENT_UID", None)
    path, r_fd, pid = other_uid_listener(65534)
    err = raises(lambda: tba_agent.Agent(path).ping(), "other owner raises")
    check("a socket owned by another uid is refused", isinstance(err, tba_agent.AgentUnreachable)
          and "uid 65534" in str(err) and "TBA_AGENT_UID=65534" in str(err), err)
    n = other_uid_result(path, r_fd, pid)
    check("nothing was sent to the other uid's socket", n == b"0", n)
    os.environ["TBA_AGENT_UID"] = "65534"
    path, r_fd, pid = other_uid_listener(65534)
    err = raises(lambda: tba_agent.Agent(path).ping(), "a silent listener raises")
    n = other_uid_result(path, r_fd, pid)
    check("TBA_AGENT_UID names the listener's uid: the request is sent", n != b"0", n)
    os.environ["TBA_AGENT_UID"] = "65533"
    path, r_fd, pid = other_uid_listener(65534)
    err = raises(lambda: tba_agent.Agent(path).ping(), "other owner raises")
    n = other_uid_result(path, r_fd, pid)
    check("TBA_AGENT_UID naming someone else: still refused, nothing sent",
          isinstance(err, tba_agent.AgentUnreachable) and n == b"0", (err, n))
    del os.environ["TBA_AGENT_UID"]
else:
    print("ok - # SKIP other-uid socket (needs root to make one)")

print("%d failed" % failed)
sys.exit(1 if failed else 0)
