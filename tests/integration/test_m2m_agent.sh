#!/bin/bash
# SPDX-License-Identifier: MIT
# test_m2m_agent.sh - OAuth 2.0 M2M end to end: a key pair generated in the
# token, the agent's JWT verified by the stand-in with python3-jwt and
# python3-cryptography (not our code), access tokens from the agent's cache,
# tba token / curl / exec, Lock, renewal and rotation.
. "$(dirname "$0")/lib.sh"
. "$TBA_SRC/tests/integration/standin.sh"
. "$TBA_SRC/tests/integration/m2m_lib.sh"

new_token m2m
for alg in ES256 ES384 ES512 PS256; do
	m2m_profile "p$alg" "$alg" "client-$alg" "CERT-$alg" || { fail "m2m new $alg"; finish; }
done
m2m_profile conc ES256 client-conc CERT-conc || { fail "m2m new conc"; finish; }
m2m_profile both ES384 client-both CERT-both rest_webservices,restlets || { fail "m2m new both"; finish; }
start_standin --m2m "$M2M_FILE" || exit 1
start_agent "${NS[@]}" --audit-log "$T_DIR/audit.json" || exit 1
BASE=https://$M2M_HOST/services/rest/record/v1

# --- the stand-in refuses what NetSuite refuses (so the tests below can fail).
"$PY" "$TBA_SRC/tests/integration/standin_m2m_check.py" "$STANDIN_PORT" "$STANDIN_CA" "$M2M_HOST" \
	"$M2M_FILE" "$T_DIR" >"$T_DIR/check.out" 2>&1
while IFS= read -r line; do
	case $line in
	"ok - "*) pass "${line#ok - }" ;;
	"not ok - "*) fail "${line#not ok - }" ;;
	*) echo "# $line" ;;
	esac
done <"$T_DIR/check.out"

# --- each algorithm end to end; the stand-in verified the assertion independently.
for alg in ES256 ES384 ES512 PS256; do
	expect_rc "tba token p$alg" 0 "$TBA" token "p$alg"
	tok=$(cat "$T_DIR/out")
	if [ "${#tok}" -gt 20 ] && [ "$(wc -l <"$T_DIR/out")" -eq 1 ]; then
		pass "p$alg: one line, an access token"
	else
		fail "p$alg: one line, an access token" "got '$tok'"
	fi
	expect_eq "p$alg: stand-in accepted a $alg assertion for CERT-$alg" "$(m2m_exchanges "CERT-$alg")" 1
	expect_rc "tba curl p$alg (Bearer)" 0 "$TBA" curl "p$alg" "$BASE/customer?limit=1" "${NS[@]}"
	expect_grep "p$alg: REST answered with the list" '"items"' "$T_DIR/out"
	expect_eq "p$alg: REST request went out with Bearer" "$(standin_last 'e.get("bearer")')" True
done
expect_eq "scopes joined by ','" "$("$TBA" token both --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["scope"])')" \
	"rest_webservices,restlets"

# --- tba token --json: the reply's fields.
"$TBA" token pES256 --json >"$T_DIR/tok.json" 2>"$T_DIR/err"
check "token --json has access_token, Bearer, expires_at in ~1h, scope" "$PY" -c '
import json, sys, time
j = json.load(open(sys.argv[1]))
assert j["token_type"] == "Bearer", j
assert abs(j["expires_at"] - (time.time() + 3600)) < 120, j
assert j["scope"] == "rest_webservices", j
' "$T_DIR/tok.json"

# --- the cache: many calls, one exchange; --renew makes a new one.
n0=$(m2m_exchanges CERT-ES256)
for i in 1 2 3 4 5 6 7 8; do
	"$TBA" curl pES256 "$BASE/customer?limit=1" "${NS[@]}" >/dev/null 2>&1 || fail "cached curl $i"
done
t1=$("$TBA" token pES256)
expect_eq "8 curl calls and a token: no new exchange" "$(m2m_exchanges CERT-ES256)" "$n0"
t2=$("$TBA" token pES256 --renew)
expect_eq "--renew: one new exchange" "$(m2m_exchanges CERT-ES256)" "$((n0 + 1))"
if [ -n "$t2" ] && [ "$t1" != "$t2" ]; then pass "--renew: a different token"; else fail "--renew: a different token"; fi
expect_eq "after --renew the new token is cached" "$("$TBA" token pES256)" "$t2"

# --- -v shows the request, never the access token.
expect_rc "curl -v on an M2M profile" 0 "$TBA" curl pES256 "$BASE/customer?limit=1" -v "${NS[@]}"
expect_grep "-v: the Authorization header is redacted" "Authorization: \[redacted" "$T_DIR/err"
if grep -qF -- "$t2" "$T_DIR/err"; then fail "-v never shows the token"; else pass "-v never shows the token"; fi

# --- 16 concurrent first calls share one exchange.
out=$(cd "$TBA_SRC/tests/integration" && "$PY" m2m_concurrent.py "$TBA_AGENT_SOCK" conc 16)
expect_eq "16 concurrent first AccessToken calls all answered with one token" "$out" "ok=16 tokens=1 errors=0"
expect_eq "16 concurrent first calls: one exchange" "$(m2m_exchanges CERT-conc)" 1

# --- a 401 with a cached token: renewed once, retried, the request succeeds.
n0=$(m2m_exchanges CERT-ES384)
expect_eq "stand-in forgets its tokens" "$(standin_post /_standin/expire-tokens)" 204
expect_rc "curl after the server dropped the token: renewed and retried" 0 \
	"$TBA" curl pES384 "$BASE/customer?limit=1" "${NS[@]}"
expect_grep "the retried request's answer is printed (once)" '"items"' "$T_DIR/out"
expect_eq "one 401 renewal: exactly one new exchange" "$(m2m_exchanges CERT-ES384)" "$((n0 + 1))"

# --- a profile replaced with another client: the kept token is not handed out for it.
old=$("$TBA" token both)
"$TBA" m2m new both --replace --account "$M2M_ACCOUNT" --client-id client-both2 --alg ES256 \
	--scope rest_webservices,restlets --out "$T_DIR/both2.pem" >/dev/null 2>&1 || fail "m2m new --replace"
"$TBA" m2m cert-id both CERT-both2 >/dev/null 2>&1 || fail "cert-id after --replace"
m2m_register both client-both2 CERT-both2 "$T_DIR/both2.pem" rest_webservices,restlets
kill -HUP "$AGENT_PID"   # the table re-read now, not at the next periodic look
for i in $(seq 1 30); do
	"$TBA" list --json | grep -q client-both2 && break
	sleep 0.1
done
new=$("$TBA" token both)
if [ -n "$new" ] && [ "$new" != "$old" ]; then pass "replaced profile: a new token, not the old client's"; else fail "replaced profile: a new token"; fi
expect_eq "replaced profile: exchanged with the new certificate" "$(m2m_exchanges CERT-both2)" 1

# --- tba exec: environment and exit status.
expect_rc "tba exec passes the child's status" 7 "$TBA" exec pES256 -- sh -c \
	'printf "%s|%s|%s|%s|%s\n" "$NETSUITE_ACCOUNT" "$NETSUITE_REST_URL" "$TBA_PROFILE" \
	"${#NETSUITE_ACCESS_TOKEN}" "$NETSUITE_ACCESS_TOKEN_EXPIRES_AT" >&2; exit 7'
IFS='|' read -r acct rest prof toklen exp <"$T_DIR/err"
expect_eq "exec: NETSUITE_ACCOUNT is the realm form" "$acct" "1234567_SB1"
expect_eq "exec: NETSUITE_REST_URL" "$rest" "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest"
expect_eq "exec: TBA_PROFILE" "$prof" pES256
expect_eq "exec: NETSUITE_ACCESS_TOKEN is the agent's token" "$toklen" "${#t2}"
now=$(date +%s)
if [ "${exp:-0}" -gt "$now" ] && [ "$exp" -le $((now + 3600)) ]; then pass "exec: expiry in the next hour"; else fail "exec: expiry" "$exp"; fi
"$TBA" token pES256 >"$T_DIR/out"
check "exec: the token in the environment equals tba token's" "$TBA" exec pES256 -- sh -c \
	'test "$NETSUITE_ACCESS_TOKEN" = "$(cat "$1")"' sh "$T_DIR/out"
expect_rc "exec refuses to nest" 1 env TBA_PROFILE=outer "$TBA" exec pES256 -- true
expect_grep "nesting refusal says --force" "force" "$T_DIR/err"
expect_rc "exec --force nests" 0 env TBA_PROFILE=outer "$TBA" exec pES256 --force -- true
expect_rc "exec: a missing command is 127" 127 "$TBA" exec pES256 -- /nonexistent/cmd
expect_rc "exec without a command is a usage error" 64 "$TBA" exec pES256

# --- List shows M2M profiles' fields.
"$TBA" list --json >"$T_DIR/list.json"
check "List: kind m2m, client_id, alg, certificate_id, scope, hosts, not_after" "$PY" -c '
import json, sys, time
p = [x for x in json.load(open(sys.argv[1])) if x["name"] == "pPS256"][0]
assert p["kind"] == "m2m" and p["client_id"] == "client-PS256" and p["alg"] == "PS256", p
assert p["certificate_id"] == "CERT-PS256" and p["scope"] == "rest_webservices", p
assert "1234567-sb1.suitetalk.api.netsuite.com" in p["hosts"], p
assert p["not_after"] > time.time() + 700 * 86400, p
' "$T_DIR/list.json"

# --- the audit: a line per exchange and per token handed out, never the token.
# audit_has KEY=VALUE...: some line of the JSON audit log has all of these
audit_has() {
	"$PY" -c '
import json, sys
want = dict(a.split("=", 1) for a in sys.argv[2:])
lines = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if any(all(str(e.get(k)) == v for k, v in want.items()) for e in lines) else 1)' \
		"$T_DIR/audit.json" "$@"
}
check "audit: a TokenExchange line (POST to the token endpoint)" audit_has op=TokenExchange profile=pES256 \
	method=POST host=1234567-sb1.suitetalk.api.netsuite.com path=/services/rest/auth/oauth2/v1/token result=ok
check "audit: an AccessToken line per token handed out" audit_has op=AccessToken profile=pES256 result=ok
if grep -qF -- "$t2" "$T_DIR/agent.log" "$T_DIR/audit.json"; then fail "the agent's logs never hold a token"; else pass "the agent's logs never hold a token"; fi

# --- Lock: nothing handed out, not even from the cache; Unlock needs a new exchange.
n0=$(m2m_exchanges CERT-ES256)
check "tba lock" "$TBA" lock
expect_rc "a locked agent hands out no token" 1 "$TBA" token pES256
expect_grep "and says it is locked" "locked" "$T_DIR/err"
expect_rc "nor does curl send one" 1 "$TBA" curl pES256 "$BASE/customer" "${NS[@]}"
"$TBA" unlock <"$TOKEN_PIN_FILE" >/dev/null 2>&1 || fail "unlock"
t3=$("$TBA" token pES256)
if [ -n "$t3" ] && [ "$t3" != "$t2" ]; then pass "after Lock the old token is forgotten"; else fail "after Lock the old token is forgotten"; fi
expect_eq "after unlock: one new exchange" "$(m2m_exchanges CERT-ES256)" "$((n0 + 1))"

# --- rotation: no request fails between rotate and cert-id; the new key takes over.
"$TBA" m2m rotate pES256 --out "$T_DIR/next.pem" >/dev/null 2>"$T_DIR/rot.err" || fail "m2m rotate" "$(cat "$T_DIR/rot.err")"
m2m_register pES256 client-ES256 CERT-ES256-2 "$T_DIR/next.pem"
(
	bad=0
	for i in $(seq 1 30); do
		"$TBA" token pES256 --renew >/dev/null 2>>"$T_DIR/rotloop.err" || bad=$((bad + 1))
		"$TBA" curl pES256 "$BASE/customer?limit=1" "${NS[@]}" >/dev/null 2>>"$T_DIR/rotloop.err" || bad=$((bad + 1))
	done
	echo "$bad" >"$T_DIR/rotloop.bad"
) &
loop=$!
sleep 0.5
"$TBA" m2m cert-id pES256 CERT-ES256-2 >/dev/null 2>"$T_DIR/rot.err" || fail "m2m cert-id (switch)" "$(cat "$T_DIR/rot.err")"
wait "$loop"
expect_eq "rotation: no failed request in 60" "$(cat "$T_DIR/rotloop.bad")" 0
for i in $(seq 1 30); do
	[ "$("$TBA" list --json | "$PY" -c 'import json,sys; print([p for p in json.load(sys.stdin) if p["name"]=="pES256"][0]["certificate_id"])')" = CERT-ES256-2 ] && break
	sleep 0.1
done
n0=$(m2m_exchanges CERT-ES256-2)
"$TBA" token pES256 --renew >/dev/null
expect_eq "after cert-id the new certificate signs" "$(m2m_exchanges CERT-ES256-2)" "$((n0 + 1))"

finish
