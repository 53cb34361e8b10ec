#!/bin/bash
# SPDX-License-Identifier: MIT
# test_curl.sh - tba curl against the NetSuite stand-in.
#
# Every request is verified by the stand-in with python3-oauthlib (not our
# code): a 200 from it means oauthlib rebuilt the same base string and HMAC.
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TBA_SRC/tests/integration/standin.sh"

ACCOUNT=1234567_SB1
read -r REST RESTLETS APP <<<"$(ns_hosts "$ACCOUNT")"
CK=$(rand_hex) CS=$(rand_hex) TK=$(rand_hex) TS=$(rand_hex)
OCK=$(rand_hex) OCS=$(rand_hex) OTK=$(rand_hex) OTS=$(rand_hex)
API=api.example.test
STANDIN_EXTRA_HOSTS="other.example.test"

new_token
check "import netsuite profile" import_profile prod "$CS" "$TS" \
	--account "$ACCOUNT" --consumer-key "$CK" --token-id "$TK"
check "import oauth1 profile" import_profile o1 "$OCS" "$OTS" \
	--kind oauth1 --consumer-key "$OCK" --token-id "$OTK" --allow-host "$API"
check "import wrong secrets" import_profile bad "$(rand_hex)" "$TS" \
	--account "$ACCOUNT" --consumer-key "$CK" --token-id "$TK"
standin_cred "$ACCOUNT" "$CK" "$CS" "$TK" "$TS" $REST $RESTLETS $APP
standin_cred "" "$OCK" "$OCS" "$OTK" "$OTS" "$API"
start_agent || exit 1
start_standin || exit 1

B=https://$REST/services/rest

# REST GET with a SuiteQL-style query string: spaces, quotes, commas, and
# a literal + and %, written the way a user types them.
expect_rc "GET with SuiteQL-style query" 0 "$TBA" curl prod \
	"$B/record/v1/customer?q=companyName CONTAIN \"Acme, Inc\" AND id > '1'&limit=5" "${NS[@]}"
expect_eq "server verified the signature" "$(standin_last 'e["verified"]')" "True"
expect_eq "server decoded q as typed" "$(standin_last 'dict(e["query"])["q"]')" \
	"companyName CONTAIN \"Acme, Inc\" AND id > '1'"
expect_grep "body is the customer list" '"totalResults"' "$T_DIR/out"

expect_rc "pre-encoded query kept" 0 "$TBA" curl prod "$B/record/v1/customer?q=a%2Bb%20c&limit=1" "${NS[@]}"
expect_eq "%2B decodes to +" "$(standin_last 'dict(e["query"])["q"]')" "a+b c"

# SuiteQL: POST with ?limit=&offset= and a JSON body (JSON is not signed).
expect_rc "SuiteQL POST" 0 "$TBA" curl prod "$B/query/v1/suiteql?limit=5&offset=10" \
	-H 'Prefer: transient' --json '{"q": "SELECT id, companyname FROM customer WHERE id > 1"}' "${NS[@]}"
expect_grep "SuiteQL rows from offset 10" '"id": "110"' "$T_DIR/out"
expect_grep "SuiteQL body reached the server" 'SELECT id, companyname' "$T_DIR/out"
expect_rc "SuiteQL without Prefer: transient is a 400, exit 0 without --fail" 0 \
	"$TBA" curl prod "$B/query/v1/suiteql" --json '{"q":"SELECT 1"}' "${NS[@]}"
expect_grep "400 explains Prefer" 'Prefer' "$T_DIR/out"
printf '{"q": "SELECT id FROM customer"}' > "$T_DIR/q.json"
expect_rc "--json @FILE" 0 "$TBA" curl prod "$B/query/v1/suiteql?limit=1" -H 'Prefer: transient' \
	--json "@$T_DIR/q.json" "${NS[@]}"
expect_grep "--json @FILE body sent" '"count": 1' "$T_DIR/out"

# RESTlet GET/POST with script and deploy.
R="https://$RESTLETS/app/site/hosting/restlet.nl?script=6&deploy=1&customParam=some Value"
expect_rc "RESTlet GET" 0 "$TBA" curl prod "$R" "${NS[@]}"
expect_grep "RESTlet saw script and deploy" '"script": "6"' "$T_DIR/out"
expect_rc "RESTlet POST JSON" 0 "$TBA" curl prod "$R" --json '{"hello": "world"}' "${NS[@]}"
expect_grep "RESTlet POST method" '"method": "POST"' "$T_DIR/out"

# Record CRUD: POST, PUT, PATCH, DELETE.
expect_rc "POST customer -i" 0 "$TBA" curl prod "$B/record/v1/customer" -i \
	--json '{"companyName": "New Co"}' "${NS[@]}"
expect_grep "-i prints status line" '^HTTP/1.1 204' "$T_DIR/out"
expect_grep "-i prints Location" '^Location: .*/customer/1000' "$T_DIR/out"
expect_rc "PUT customer" 0 "$TBA" curl prod "$B/record/v1/customer/1000" -X PUT --json '{"companyName": "Put Co"}' "${NS[@]}"
expect_eq "PUT reached the server" "$(standin_last 'e["method"]')" "PUT"
expect_rc "PATCH customer" 0 "$TBA" curl prod "$B/record/v1/customer/1000" -X PATCH --json '{"email": "a@b.example"}' "${NS[@]}"
expect_rc "GET patched customer" 0 "$TBA" curl prod "$B/record/v1/customer/1000" "${NS[@]}"
expect_grep "PUT and PATCH applied" '"email": "a@b.example"' "$T_DIR/out"
expect_grep "PUT replaced name" '"companyName": "Put Co"' "$T_DIR/out"
expect_rc "DELETE customer" 0 "$TBA" curl prod "$B/record/v1/customer/1000" -X DELETE "${NS[@]}"
expect_eq "DELETE verified" "$(standin_last 'e["method"] + " " + str(e["verified"])')" "DELETE True"

# -o and --fail.
expect_rc "-o writes body to file" 0 "$TBA" curl prod "$B/record/v1/metadata-catalog" -o "$T_DIR/cat.json" "${NS[@]}"
expect_grep "-o file has the catalog" '"name": "customer"' "$T_DIR/cat.json"
expect_eq "-o leaves stdout empty" "$(wc -c <"$T_DIR/out")" "0"
expect_rc "--fail on 404 exits 22" 22 "$TBA" curl prod "$B/record/v1/customer/999" --fail "${NS[@]}"
expect_eq "--fail prints no body" "$(wc -c <"$T_DIR/out")" "0"
expect_grep "--fail names the status" 'returned error: 404' "$T_DIR/err"
expect_rc "404 without --fail exits 0 with the body" 0 "$TBA" curl prod "$B/record/v1/customer/999" "${NS[@]}"
expect_grep "404 body is NetSuite's error" 'NONEXISTENT_ID' "$T_DIR/out"

# Form POST for an oauth1 profile: the form fields are signed.
expect_rc "oauth1 form POST" 0 "$TBA" curl o1 "https://$API/oauth1/form" \
	-d 'name=A B' -d 'note=1+2%3D3' -d 'empty=' "${NS[@]}"
expect_eq "oauth1 request verified" "$(standin_last 'e["verified"]')" "True"
expect_eq "form fields decoded" "$(standin_last 'e["form"]')" "[['name', 'A B'], ['note', '1 2=3'], ['empty', '']]"
printf 'a=1&\nb=2\n' > "$T_DIR/form.txt"
expect_rc "-d @FILE strips newlines" 0 "$TBA" curl o1 "https://$API/oauth1/form" -d "@$T_DIR/form.txt" "${NS[@]}"
expect_eq "-d @FILE fields" "$(standin_last 'e["form"]')" "[['a', '1'], ['b', '2']]"
expect_rc "form with a JSON Content-Type is not signed as form" 0 "$TBA" curl o1 "https://$API/echo" \
	-d 'x=1' -H 'Content-Type: application/json' "${NS[@]}"
expect_grep "server saw the JSON content type" '"content_type": "application/json"' "$T_DIR/out"

# Redirects: -L follows, each hop signed afresh (two verified nonces).
: > "$STANDIN_LOG"
expect_rc "redirect without -L is shown" 0 "$TBA" curl prod "https://$REST/redirect?to=/echo/after" "${NS[@]}"
expect_grep "302 body shown" '"redirect"' "$T_DIR/out"
: > "$STANDIN_LOG"
expect_rc "-L follows the redirect" 0 "$TBA" curl prod "https://$REST/redirect?to=/echo/after" -L "${NS[@]}"
expect_grep "-L lands on the target" '"path": "/echo/after"' "$T_DIR/out"
expect_eq "both hops verified" "$(grep -c '"verified": true' "$STANDIN_LOG")" "2"
expect_eq "two different nonces" "$(grep -o '"nonce": "[^"]*"' "$STANDIN_LOG" | sort -u | wc -l)" "2"
expect_rc "-L POST 302 becomes GET" 0 "$TBA" curl prod "https://$REST/redirect?to=/echo/get" -L -d 'a=1' "${NS[@]}"
expect_grep "method after 302" '"method": "GET"' "$T_DIR/out"
expect_rc "-L 307 keeps POST and form" 0 "$TBA" curl prod "https://$REST/redirect?to=/echo/post&code=307" -L -d 'a=1' "${NS[@]}"
expect_eq "307 kept POST and the form" "$(standin_last 'e["method"] + " " + str(e["form"])')" "POST [['a', '1']]"
expect_rc "redirect to a host outside the profile is refused" 1 "$TBA" curl prod \
	"https://$REST/redirect?to=https://other.example.test/echo" -L "${NS[@]}"
expect_grep "refusal names the redirect" 'would not sign the redirect to https://other.example.test/echo' "$T_DIR/err"
expect_rc "host outside the profile refused" 1 "$TBA" curl prod "https://other.example.test/echo" "${NS[@]}"
expect_grep "refusal says the agent refused" 'agent would not sign' "$T_DIR/err"
expect_rc "http:// refused" 1 "$TBA" curl prod "http://$REST/echo" "${NS[@]}"

# --retry: each attempt re-signed (fresh nonce), failed attempts' bodies not shown.
: > "$STANDIN_LOG"
expect_rc "--retry through two 503s" 0 "$TBA" curl prod "https://$REST/flaky?key=r1&fails=2" \
	--retry 3 --retry-delay 0 "${NS[@]}"
expect_grep "third attempt answered" '"attempt": 3' "$T_DIR/out"
expect_eq "three attempts, all verified" "$(grep -c '"verified": true' "$STANDIN_LOG")" "3"
expect_eq "three nonces" "$(grep -o '"nonce": "[^"]*"' "$STANDIN_LOG" | sort -u | wc -l)" "3"
expect_rc "--retry exhausted with --fail" 22 "$TBA" curl prod "https://$REST/flaky?key=r2&fails=5" \
	--retry 1 --retry-delay 0 --fail "${NS[@]}"

# -v: trace on stderr with the Authorization header redacted.
expect_rc "-v" 0 "$TBA" curl prod "$B/record/v1/metadata-catalog" -v "${NS[@]}"
expect_grep "-v shows the request line" '^> GET /services/rest/record/v1/metadata-catalog' "$T_DIR/err"
expect_grep "-v redacts Authorization" '^> Authorization: \[redacted' "$T_DIR/err"
if grep -qE 'oauth_signature|OAuth realm' "$T_DIR/err"; then fail "-v leaks no signature"; else pass "-v leaks no signature"; fi

# Failures: TLS without the CA, DNS, connect, no agent, usage.
expect_rc "TLS failure without --cacert: curl exit 60" 60 "$TBA" curl prod "$B/record/v1/metadata-catalog" \
	--connect-to "::127.0.0.1:$STANDIN_PORT"
expect_grep "TLS named" 'TLS failure' "$T_DIR/err"
expect_rc "DNS failure: curl exit 6" 6 "$TBA" curl prod "$B/record/v1/metadata-catalog" --connect-to "::no-such-host.invalid:443"
expect_grep "DNS named" 'DNS failure' "$T_DIR/err"
expect_rc "connect failure: curl exit 7" 7 "$TBA" curl prod "$B/record/v1/metadata-catalog" --connect-to "::127.0.0.1:1"
expect_grep "connect named" 'connect failure' "$T_DIR/err"
expect_rc "no agent: exit 2" 2 env TBA_AGENT_SOCK="$T_DIR/none.sock" "$TBA" curl prod "$B/x" "${NS[@]}"
expect_rc "unknown profile" 1 "$TBA" curl nosuch "$B/x" "${NS[@]}"
expect_rc "usage: missing URL" 64 "$TBA" curl prod
expect_rc "usage: -H Authorization refused" 64 "$TBA" curl prod "$B/x" -H 'Authorization: OAuth x'
expect_rc "--help" 0 "$TBA" curl --help
expect_grep "--help lists --connect-to" 'connect-to' "$T_DIR/out"

# Wrong secrets: the server answers 401; curl semantics say exit 0 unless --fail.
expect_rc "wrong secrets: 401 with --fail exits 22" 22 "$TBA" curl bad "$B/record/v1/metadata-catalog" --fail "${NS[@]}"
expect_rc "wrong secrets: 401 body without --fail" 0 "$TBA" curl bad "$B/record/v1/metadata-catalog" "${NS[@]}"
expect_grep "401 body is INVALID_LOGIN" 'INVALID_LOGIN' "$T_DIR/out"
expect_grep "401 hint points to tba test" "tba test bad" "$T_DIR/err"

finish
