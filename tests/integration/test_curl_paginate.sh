#!/bin/bash
# SPDX-License-Identifier: MIT
# test_curl_paginate.sh - tba curl --paginate over NetSuite's paged
# collections (a REST record list and SuiteQL) on the stand-in: every page
# signed afresh and verified by python3-oauthlib, one TLS connection, the
# items of all pages printed as one array (or one per line), a failing page
# named and the run stopped with curl's --fail code.
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TBA_SRC/tests/integration/standin.sh"

ACCOUNT=1234567_SB1
read -r REST RESTLETS APP <<<"$(ns_hosts "$ACCOUNT")"
CK=$(rand_hex) CS=$(rand_hex) TK=$(rand_hex) TS=$(rand_hex)
STANDIN_EXTRA_HOSTS="other.example.test"

new_token
check "import netsuite profile" import_profile prod "$CS" "$TS" \
	--account "$ACCOUNT" --consumer-key "$CK" --token-id "$TK"
standin_cred "$ACCOUNT" "$CK" "$CS" "$TK" "$TS" $REST $RESTLETS $APP
start_agent || exit 1
start_standin || exit 1
B=https://$REST/services/rest

# log_check PYTHON: asserts on `log`, the stand-in's log lines as dicts.
log_check() { "$PY" -c 'import json,sys
log = [json.loads(l) for l in open(sys.argv[1])]
'"$1" "$STANDIN_LOG"; }

# REST record list: 23 contacts, 5 a page = 5 pages.
: > "$STANDIN_LOG"
expect_rc "--paginate a record list" 0 "$TBA" curl prod "$B/record/v1/contact?limit=5" --paginate "${NS[@]}"
check "one JSON array with all 23 items in order" "$PY" -c '
import json,sys; d=json.load(open(sys.argv[1]))
assert [x["id"] for x in d] == [str(i) for i in range(1, 24)], d' "$T_DIR/out"
check "5 pages, each verified, each with its own nonce, offsets 0..20" log_check '
assert len(log) == 5, len(log)
assert all(e["verified"] for e in log), [e.get("reason") for e in log]
assert len({e["nonce"] for e in log}) == 5
assert [dict(e["query"])["offset"] for e in log[1:]] == ["5", "10", "15", "20"], log'
check "one TLS connection for all pages" log_check '
assert len({e["peer_port"] for e in log}) == 1, [e["peer_port"] for e in log]'

expect_rc "--paginate=lines" 0 "$TBA" curl prod "$B/record/v1/contact?limit=10" --paginate=lines "${NS[@]}"
check "23 lines, one compact item each" "$PY" -c '
import json,sys; lines=open(sys.argv[1]).read().splitlines()
assert len(lines) == 23 and [json.loads(l)["id"] for l in lines] == [str(i) for i in range(1, 24)], lines' "$T_DIR/out"
expect_rc "--paginate -o FILE -w" 0 "$TBA" curl prod "$B/record/v1/contact?limit=20" --paginate \
	-o "$T_DIR/all.json" -w '%{http_code} %{url_effective}' "${NS[@]}"
check "-o holds the array" "$PY" -c 'import json,sys; assert len(json.load(open(sys.argv[1]))) == 23' "$T_DIR/all.json"
expect_eq "-w reports the last page" "$(cat "$T_DIR/out")" "200 $B/record/v1/contact?limit=20&offset=20"

# SuiteQL: POST re-sent on every page with Prefer: transient.
: > "$STANDIN_LOG"
expect_rc "--paginate SuiteQL" 0 "$TBA" curl prod "$B/query/v1/suiteql?limit=10" -H 'Prefer: transient' \
	--json '{"q": "SELECT id, companyname FROM customer"}' --paginate "${NS[@]}"
check "25 rows over 3 pages" "$PY" -c '
import json,sys; d=json.load(open(sys.argv[1]))
assert [x["id"] for x in d] == [str(100 + i) for i in range(25)], d' "$T_DIR/out"
check "3 POSTs, each verified with the query and Prefer: transient" log_check '
assert len(log) == 3, len(log)
for e in log:
    assert e["verified"] and e["method"] == "POST" and e["headers"].get("Prefer") == "transient", e
assert len({e["nonce"] for e in log}) == 3'

# A page that fails: named, exit 22, the array left unclosed.
expect_rc "page 3 answers 429: exit 22" 22 "$TBA" curl prod "https://$REST/paged-fail?limit=3&fail_at=3" \
	--paginate "${NS[@]}"
expect_grep "error names the page and NetSuite's detail" \
	'page 3 \(https://.*/paged-fail\?fail_at=3&limit=3&offset=6\) returned error: 429: Concurrent request limit' "$T_DIR/err"
if "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$T_DIR/out" 2>/dev/null; then
	fail "partial output is not a valid JSON array"
else
	pass "partial output is not a valid JSON array"
fi
expect_eq "the items of pages 1 and 2 were printed" "$(grep -c '"id"' "$T_DIR/out")" "6"
: > "$STANDIN_LOG"
expect_rc "a next link to a host outside the profile is refused" 1 "$TBA" curl prod \
	"https://$REST/paged-away?limit=3" --paginate "${NS[@]}"
expect_grep "the agent refused page 2" 'agent would not sign.*other.example.test' "$T_DIR/err"
expect_grep "the refused page is named" 'page 2 \(https://other.example.test/paged-away\?limit=3&offset=3\) failed' "$T_DIR/err"
expect_eq "nothing was sent to the other host" "$(grep -c other.example.test "$STANDIN_LOG")" "0"
expect_rc "a page that is not a collection: exit 1" 1 "$TBA" curl prod "https://$REST/echo" --paginate "${NS[@]}"
expect_grep "says what --paginate is for" 'not a NetSuite collection' "$T_DIR/err"
expect_rc "--paginate with -i refused" 64 "$TBA" curl prod "$B/record/v1/contact" --paginate -i "${NS[@]}"
expect_rc "--paginate=bad refused" 64 "$TBA" curl prod "$B/record/v1/contact" --paginate=bad "${NS[@]}"

finish
