#!/bin/bash
# SPDX-License-Identifier: MIT
# test_tba_test.sh - tba test: OK line and each diagnosis, against the stand-in.
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TBA_SRC/tests/integration/standin.sh"

ACCOUNT=1234567_SB1
read -r REST RESTLETS APP <<<"$(ns_hosts "$ACCOUNT")"
CK=$(rand_hex) CS=$(rand_hex) TK=$(rand_hex) TS=$(rand_hex)

new_token
check "import prod" import_profile prod "$CS" "$TS" --account "$ACCOUNT" --consumer-key "$CK" --token-id "$TK"
check "import with a wrong consumer secret" import_profile badsecret "$(rand_hex)" "$TS" \
	--account "$ACCOUNT" --consumer-key "$CK" --token-id "$TK"
check "import with the account's sandbox suffix missing" import_profile nosuffix "$CS" "$TS" \
	--account 1234567 --consumer-key "$CK" --token-id "$TK"
check "import oauth1" import_profile o1 "$CS" "$TS" --kind oauth1 --allow-host api.example.test \
	--consumer-key "$CK" --token-id "$TK"
standin_cred "$ACCOUNT" "$CK" "$CS" "$TK" "$TS" $REST $RESTLETS $APP 1234567.suitetalk.api.netsuite.com
start_agent || exit 1
start_standin || exit 1

expect_rc "tba test OK" 0 "$TBA" test prod "${NS[@]}"
expect_grep "OK line" '^OK: profile prod can log in to NetSuite account 1234567_SB1 \(HTTP 200, [0-9]+ ms\)$' "$T_DIR/out"
expect_eq "test request verified by oauthlib" "$(standin_last 'e["verified"]')" "True"
expect_eq "test request is the metadata catalog" "$(standin_last 'e["method"] + " " + e["path"]')" \
	"GET /services/rest/record/v1/metadata-catalog"
expect_rc "options after and before PROFILE" 0 "$TBA" test "${NS[@]}" prod

# Wrong secret: 401 INVALID_LOGIN and the list of causes.
expect_rc "wrong secret fails" 1 "$TBA" test badsecret "${NS[@]}"
expect_grep "names HTTP 401 INVALID_LOGIN" 'HTTP 401 INVALID_LOGIN' "$T_DIR/out"
expect_grep "names the Login Audit Trail" 'Setup > Users/Roles > User Management > View Login Audit Trail' "$T_DIR/out"
expect_grep "mentions the sandbox suffix" '1234567_SB1' "$T_DIR/out"
expect_grep "mentions revoked tokens" 'revoked' "$T_DIR/out"
expect_grep "mentions the clock" 'clock' "$T_DIR/out"
if grep -q 'Clock skew' "$T_DIR/out"; then fail "no skew reported when clocks agree"; else pass "no skew reported when clocks agree"; fi

# Realm without the sandbox suffix: the server refuses; the diagnosis shows the realm used.
expect_rc "realm without sandbox suffix fails" 1 "$TBA" test nosuffix "${NS[@]}"
expect_grep "shows the realm it signed" 'realm "1234567"' "$T_DIR/out"

# oauth1 profiles have no NetSuite account to test.
expect_rc "oauth1 profile refused" 1 "$TBA" test o1 "${NS[@]}"
expect_grep "says NetSuite only" 'NetSuite' "$T_DIR/err"

# Server clock an hour ahead: 401, and the skew named in hours.
stop_standin
start_standin --clock-offset 3600 || exit 1
expect_rc "clock an hour off fails" 1 "$TBA" test prod "${NS[@]}"
expect_grep "skew named in hours" 'Clock skew: .*1 h 0 min behind' "$T_DIR/out"
expect_grep "skew blamed first" 'enough to cause this' "$T_DIR/out"
stop_standin
start_standin --clock-offset -7500 || exit 1
expect_rc "clock ahead by 2 h 5 min fails" 1 "$TBA" test prod "${NS[@]}"
expect_grep "skew 2 h 5 min ahead" 'Clock skew: .*2 h 5 min ahead' "$T_DIR/out"
stop_standin
start_standin --clock-offset 120 || exit 1
expect_rc "2 minutes off still works" 0 "$TBA" test prod "${NS[@]}"
expect_grep "small skew reported as a warning" 'Clock skew: .*2 min behind' "$T_DIR/out"

# A role without REST Web Services: 403 and the permissions to add.
stop_standin
start_standin --forbid-rest || exit 1
expect_rc "403 fails" 1 "$TBA" test prod "${NS[@]}"
expect_grep "403 names role permissions" "REST Web Services" "$T_DIR/out"
expect_grep "403 names Log in using Access Tokens" "Log in using Access Tokens" "$T_DIR/out"

# Transport failures are named.
expect_rc "TLS failure" 1 "$TBA" test prod --connect-to "::127.0.0.1:$STANDIN_PORT"
expect_grep "TLS named" 'TLS failure' "$T_DIR/out"
expect_grep "TLS hint" 'CA' "$T_DIR/out"
expect_rc "DNS failure" 1 "$TBA" test prod --connect-to "::no-such-host.invalid:443" --cacert "$STANDIN_CA"
expect_grep "DNS named" 'DNS failure' "$T_DIR/out"
expect_rc "connect failure" 1 "$TBA" test prod --connect-to "::127.0.0.1:1" --cacert "$STANDIN_CA"
expect_grep "connect named" 'connect failure' "$T_DIR/out"

# Agent and usage errors.
expect_rc "no agent: exit 2" 2 env TBA_AGENT_SOCK="$T_DIR/none.sock" "$TBA" test prod "${NS[@]}"
expect_rc "unknown profile" 1 "$TBA" test nosuch "${NS[@]}"
expect_grep "unknown profile says tba list" 'tba list' "$T_DIR/err"
expect_rc "usage" 64 "$TBA" test
expect_rc "--help" 0 "$TBA" test --help
expect_grep "--help names the Login Audit Trail" 'Login Audit Trail' "$T_DIR/out"

finish
