#!/bin/bash
# SPDX-License-Identifier: MIT
# test_python_m2m.sh - tba_agent.Auth on an M2M profile through Debian's
# python3-requests: a Bearer token from the agent (the stand-in verified the
# agent's JWT with python3-jwt and python3-cryptography, and checks the
# Bearer token on every request), one renewal and resend when the server
# answers 401, Agent.access_token's fields, and a burst of first calls on a
# slow endpoint (the client asks again while the agent is busy).
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TBA_SRC/tests/integration/standin.sh"
. "$TBA_SRC/tests/integration/m2m_lib.sh"

new_token m2m-py
m2m_profile m2m ES256 client-py CERT-py || { fail "m2m new"; finish; }
m2m_profile pyburst ES256 client-pyb CERT-pyb || { fail "m2m new pyburst"; finish; }
start_standin --m2m "$M2M_FILE" || exit 1
start_agent "${NS[@]}" || exit 1

cat >"$T_DIR/m2m.py" <<'PY'
import json, os, sys, time
sys.path.insert(0, os.path.join(sys.argv[1], "python"))
import requests, urllib3.util.connection
import tba_agent
port, ca, host, log = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
os.environ["REQUESTS_CA_BUNDLE"] = ca
_orig = urllib3.util.connection.create_connection
urllib3.util.connection.create_connection = lambda a, *x, **k: _orig(("127.0.0.1", port), *x, **k)
def last():
    with open(log) as f:
        return json.loads(f.read().splitlines()[-1])
def check(name, cond, detail=""):
    print(("ok - " if cond else "not ok - ") + name + ("" if cond else ": %s" % (detail,)))
agent = tba_agent.Agent()
t = agent.access_token("m2m")
check("access_token(): Bearer, expires in about an hour, scope",
      t["token_type"] == "Bearer" and abs(t["expires_at"] - time.time() - 3600) < 120
      and t["scope"] == "rest_webservices", t)
check("access_token(renew=True): a new token", agent.access_token("m2m", renew=True)["access_token"]
      != t["access_token"])
auth = tba_agent.Auth("m2m")
check("Auth knows the profile is m2m", auth.kind() == "m2m", auth.kind())
url = "https://%s/services/rest/record/v1/customer?limit=1" % host
r = requests.get(url, auth=auth, verify=ca)
e = last()
check("Auth: Bearer request accepted", r.status_code == 200 and e.get("bearer") and e.get("verified"),
      (r.status_code, e))
check("Auth: the answer is the customer list", "items" in r.json(), r.text[:200])
s = requests.Session(); s.auth = auth; s.verify = ca
ok = sum(s.get(url).status_code == 200 for _ in range(4))
check("Session: 4 Bearer requests", ok == 4, ok)
# The server forgets its tokens: the first answer is a 401, Auth renews once and resends.
with requests.post("https://%s/_standin/expire-tokens" % host, verify=ca) as x:
    check("stand-in forgot its tokens", x.status_code == 204, x.status_code)
r = s.get(url)
check("after a 401: renewed, resent, 200", r.status_code == 200 and "items" in r.json(), r.status_code)
check("after a 401: the 401 is in the history", [h.status_code for h in r.history] == [401],
      [h.status_code for h in r.history])
r = s.get(url)
check("the renewed token is used from then on", r.status_code == 200 and not r.history, r.status_code)
err = None
try:
    agent.sign("m2m", "GET", url)
except tba_agent.AgentError as e:
    err = e
check("sign() on an M2M profile: an io.tba.Agent. error", err is not None and
      (err.name or "").startswith("io.tba.Agent."), err)
PY
"$PY" "$T_DIR/m2m.py" "$TBA_SRC" "$STANDIN_PORT" "$STANDIN_CA" "$M2M_HOST" "$STANDIN_LOG" \
	>"$T_DIR/py.out" 2>"$T_DIR/py.err"
echo "# m2m.py exit $?"
while IFS= read -r line; do
	case $line in
	"ok - "*) pass "${line#ok - }" ;;
	"not ok - "*) fail "${line#not ok - }" ;;
	esac
done <"$T_DIR/py.out"
[ -s "$T_DIR/py.err" ] && fail "m2m.py ran cleanly" "$(tail -n 20 "$T_DIR/py.err")"
expect_eq "exchanges: the first token, the renew, and the 401 renewal" "$(m2m_exchanges CERT-py)" 3

# A burst of first access_token() calls on a slow endpoint: the agent answers
# the requests past its waiting cap with AuthorizationFailed "retry": true,
# and the client asks again until the one exchange is done.
PORT=$STANDIN_PORT
stop_standin
start_standin --port "$PORT" --m2m "$M2M_FILE" --m2m-delay 3 || exit 1
"$PY" - "$TBA_SRC" >"$T_DIR/burst.out" 2>"$T_DIR/burst.err" <<'PY'
import os, sys, threading
sys.path.insert(0, os.path.join(sys.argv[1], "python"))
import tba_agent
n, got, errs = 16, [], []
barrier = threading.Barrier(n)
def one():
    a = tba_agent.Agent()
    barrier.wait()
    try:
        got.append(a.access_token("pyburst")["access_token"])
    except tba_agent.AgentError as e:
        errs.append(str(e))
threads = [threading.Thread(target=one) for _ in range(n)]
[t.start() for t in threads]
[t.join() for t in threads]
print("ok=%d tokens=%d errors=%d" % (len(got), len(set(got)), len(errs)))
for e in errs[:3]:
    print(e, file=sys.stderr)
PY
expect_eq "burst of 16 access_token(): all served with the one token" "$(cat "$T_DIR/burst.out")" \
	"ok=16 tokens=1 errors=0"
[ -s "$T_DIR/burst.err" ] && echo "# $(head -n 3 "$T_DIR/burst.err")"
expect_eq "burst: one exchange" "$(m2m_exchanges CERT-pyb)" 1
finish
