#!/bin/bash
# SPDX-License-Identifier: MIT
# test_m2m_errors.sh - M2M failures: a refused exchange, an unreachable and
# a slow token endpoint, a profile of the wrong kind, a host outside the
# profile, an expired certificate. Each gets one clear line and the right
# exit code, and the agent keeps serving (other profiles are never blocked).
. "$(dirname "$0")/lib.sh"
. "$TBA_SRC/tests/integration/standin.sh"
. "$TBA_SRC/tests/integration/m2m_lib.sh"

new_token m2merr
m2m_profile good ES256 client-good CERT-good || { fail "m2m new good"; finish; }
m2m_profile other ES256 client-other CERT-other || { fail "m2m new other"; finish; }
m2m_profile burst ES256 client-burst CERT-burst || { fail "m2m new burst"; finish; }
M2M_DAYS=10 m2m_profile soon ES256 client-soon CERT-soon || { fail "m2m new soon"; finish; }
import_profile tba "$ORACLE_CS" "$ORACLE_TS" --account 7654321 --consumer-key "$ORACLE_CK" \
	--token-id "$ORACLE_TOKEN" >/dev/null 2>&1 || fail "import a TBA profile"
start_standin --m2m "$M2M_FILE" || exit 1
PORT=$STANDIN_PORT
start_agent "${NS[@]}" --audit-log "$T_DIR/audit.json" || exit 1
BASE=https://$M2M_HOST/services/rest/record/v1

# one_line NAME: stderr is exactly one line
one_line() { expect_eq "$1: one line on stderr" "$(wc -l <"$T_DIR/err")" 1; }
serving() { expect_rc "$1: the agent keeps serving" 0 "$TBA" token other; }
# attempts: exchanges the current stand-in saw, refused ones included
attempts() { grep -c '"m2m": "exchange"' "$STANDIN_LOG"; }

expect_rc "good works first" 0 "$TBA" token good
good_token=$(cat "$T_DIR/out")
expect_rc "other cached" 0 "$TBA" token other

# --- a certificate near its end: the agent's log and tba test say so.
expect_rc "a certificate with 10 days left still works" 0 "$TBA" token soon
expect_grep "the agent warns: expires in 9 or 10 days, rotate" "profile 'soon': its certificate expires in (9|10) days.*m2m rotate soon" "$T_DIR/agent.log"
expect_rc "tba test on it passes" 0 "$TBA" test soon "${NS[@]}"
expect_grep "tba test warns about the expiry" "certificate of soon expires within 30 days.*rotate" "$T_DIR/out"

# --- wrong kind, both ways.
expect_rc "AccessToken for a TBA profile is refused" 1 "$TBA" token tba
one_line "wrong kind"
expect_grep "wrong kind: says it is not an M2M profile" "netsuite \(OAuth 1.0a\) profile.*m2m new" "$T_DIR/err"
expect_rc "Sign for an M2M profile is refused" 1 "$TBA" header good GET "$BASE/customer"
expect_grep "Sign refusal names the M2M profile" "M2M .*profile" "$T_DIR/err"
expect_rc "an unknown profile" 1 "$TBA" token nosuch
serving "after wrong kinds"

# --- a host outside the profile: refused before anything is sent.
lines=$(wc -l <"$STANDIN_LOG")
expect_rc "curl to a host outside the profile is refused" 1 "$TBA" curl good \
	"https://7654321.suitetalk.api.netsuite.com/services/rest/record/v1/customer" "${NS[@]}"
expect_grep "host refusal names the host" "7654321.suitetalk.api.netsuite.com" "$T_DIR/err"
expect_rc "plain http is refused" 1 "$TBA" curl good "http://$M2M_HOST/services/rest/record/v1/customer" "${NS[@]}"
expect_eq "nothing was sent for refused hosts" "$(wc -l <"$STANDIN_LOG")" "$lines"

# --- a clock two minutes behind the server's: still OK, and tba test says so.
stop_standin
start_standin --port "$PORT" --m2m "$M2M_FILE" --clock-offset 120 || exit 1
expect_rc "tba test with the server's clock 2 min ahead: OK" 0 "$TBA" test good "${NS[@]}"
expect_grep "tba test reports the clock skew" "Clock skew: this machine's clock is 1[12][0-9] s behind" "$T_DIR/out"
good_token=$("$TBA" token good)   # tba test made a new one

# --- a refused exchange (invalid_client).
stop_standin
start_standin --port "$PORT" --m2m "$M2M_FILE" --m2m-refuse || exit 1
expect_rc "refused exchange: tba token fails" 1 "$TBA" token good --renew
one_line "refused exchange"
expect_grep "refused exchange: names NetSuite's error and HTTP status" "HTTP 401.*invalid_client" "$T_DIR/err"
expect_rc "refused exchange: tba curl fails with exit 1" 1 "$TBA" curl good "$BASE/customer" "${NS[@]}" --fail
one_line "refused exchange (curl)"
expect_grep "refused exchange (curl): names the refusal" "no access token for profile good.*invalid_client" "$T_DIR/err"
expect_rc "refused exchange: tba test diagnoses" 1 "$TBA" test good "${NS[@]}"
expect_grep "tba test: certificate ID cause and where to fix it" "Credentials \(M2M\) Setup lists" "$T_DIR/out"
expect_grep "tba test: the M2M grant on the integration record" "Client Credentials \(Machine to Machine\)" "$T_DIR/out"
expect_rc "a failed renewal leaves the cache as it was" 0 "$TBA" token good
expect_eq "a failed renewal leaves the cached token" "$(cat "$T_DIR/out")" "$good_token"
n=$(attempts)
expect_rc "the next renewal tries again" 1 "$TBA" token good --renew
expect_eq "the next renewal made a new exchange attempt" "$(attempts)" "$((n + 1))"
serving "after a refused exchange"
check "audit: the refused exchange" "$PY" -c '
import json, sys
sys.exit(0 if any(e["op"] == "TokenExchange" and e["profile"] == "good" and e["result"] == "AuthorizationFailed"
                  for e in map(json.loads, open(sys.argv[1]))) else 1)' "$T_DIR/audit.json"

# --- an expired certificate: the stand-in's clock two years on.
stop_standin
start_standin --port "$PORT" --m2m "$M2M_FILE" --clock-offset $((800 * 86400)) || exit 1
expect_rc "expired certificate: refused" 1 "$TBA" token good --renew
one_line "expired certificate"
expect_grep "expired certificate: invalid_client" "invalid_client" "$T_DIR/err"
serving "after an expired certificate"

# --- a slow endpoint: the exchange times out (~30 s); other profiles are served meanwhile.
stop_standin
start_standin --port "$PORT" --m2m "$M2M_FILE" --m2m-delay 45 || exit 1
start=$(date +%s)
"$TBA" token good --renew >"$T_DIR/slow.out" 2>"$T_DIR/slow.err" &
slow=$!
sleep 1
t0=$(date +%s%N)
expect_rc "while one exchange hangs, another profile's cached token comes at once" 0 "$TBA" token other
ms=$((($(date +%s%N) - t0) / 1000000))
# Blocked, it would take the rest of the exchange's 30 s.
if [ "$ms" -lt 5000 ]; then pass "other profile answered in ${ms} ms"; else fail "other profile blocked" "${ms} ms"; fi
wait "$slow"
rc=$?
took=$(($(date +%s) - start))
expect_eq "slow endpoint: exit 1" "$rc" 1
expect_grep "slow endpoint: says it timed out" "[Tt]ime" "$T_DIR/slow.err"
if [ "$took" -ge 25 ] && [ "$took" -le 40 ]; then pass "slow endpoint: gave up after ~30 s ($took s)"; else fail "slow endpoint timeout" "$took s"; fi
serving "after a slow endpoint"

# --- a burst of first calls on a slow endpoint: one exchange, everyone served,
# and TBA signing goes on meanwhile (waiting requests never take every worker).
stop_standin
start_standin --port "$PORT" --m2m "$M2M_FILE" --m2m-delay 8 || exit 1
(cd "$TBA_SRC/tests/integration" && "$PY" m2m_concurrent.py "$TBA_AGENT_SOCK" burst 24 >"$T_DIR/burst.out" 2>"$T_DIR/burst.err") &
burstpid=$!
sleep 1
t0=$(date +%s%N)
expect_rc "a Sign during the burst is answered" 0 "$TBA" header tba GET "https://7654321.suitetalk.api.netsuite.com/services/rest/record/v1/customer"
ms=$((($(date +%s%N) - t0) / 1000000))
# Blocked, it would wait for the 8 s exchange to end (7 s more); the margin is for loaded machines.
if [ "$ms" -lt 4000 ]; then pass "Sign during 24 waiting AccessTokens: ${ms} ms"; else fail "Sign blocked by waiting AccessTokens" "${ms} ms"; fi
wait "$burstpid"
expect_eq "burst: all 24 got the one token" "$(cat "$T_DIR/burst.out")" "ok=24 tokens=1 errors=0"
expect_eq "burst: one exchange" "$(m2m_exchanges CERT-burst)" 1

# --- an unreachable endpoint: a second agent pointed at a closed port.
stop_standin
closed=$(closed_port)
SOCK1=$TBA_AGENT_SOCK
start_agent --connect-to "::127.0.0.1:$closed" --cacert "$STANDIN_CA" || exit 1
expect_rc "unreachable endpoint: tba token fails" 1 "$TBA" token good
one_line "unreachable endpoint"
expect_grep "unreachable endpoint: says it cannot get a token and why" "cannot get an access token.*(onnect|refused)" "$T_DIR/err"
expect_rc "unreachable endpoint: tba test" 1 "$TBA" test good "${NS[@]}"
expect_grep "tba test: cannot reach the token endpoint" "cannot reach the token endpoint" "$T_DIR/out"
expect_rc "the agent still answers List" 0 "$TBA" list
TBA_AGENT_SOCK=$SOCK1 check "the first agent is unaffected" "$TBA" token other

finish
