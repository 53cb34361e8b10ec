#!/bin/bash
# SPDX-License-Identifier: MIT
# test_agent_oauthlib.sh - tba-agent's signatures (HMAC inside SoftHSM) equal
# python3-oauthlib's for >= 300 random requests (over the socket and through
# `tba header`), Passports equal Python's hmac, and Oracle's three published
# vectors come out exactly.
. "$(dirname "$0")/lib.sh"
HERE=$TBA_SRC/tests/integration

new_token agent-oauthlib
check "import the test profiles" $PY "$HERE/agent_oauthlib.py" import "$TBA"
start_agent --max-skew 3600 || { fail "agent starts"; finish; }
pass "agent starts"

out=$T_DIR/oauthlib.out
$PY "$HERE/agent_oauthlib.py" check "$TBA" "$TBA_AGENT_SOCK" 320 >"$out" 2>"$T_DIR/oauthlib.err"
rc=$?
grep '^not ok' "$out" | head -20
tail -1 "$out"
n_ok=$(grep -c '^ok - sign' "$out")
[ "$n_ok" -ge 300 ] && pass "at least 300 random signatures equal oauthlib's ($n_ok)" \
	|| fail "at least 300 random signatures equal oauthlib's" "$n_ok; $(head -c 300 "$T_DIR/oauthlib.err")"
expect_eq "the whole comparison passed (seed in $out)" "$rc" 0
stop_agent

# Oracle's vectors are from 2017 and 2015, and the agent takes no timestamp
# more than an hour old: each runs against an agent whose clock says then
# (libfaketime; the monotonic clock, which times connections, stays true).
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
# start_agent_at UNIX_SECONDS: start_agent with the wall clock set to then.
start_agent_at() {
	LD_PRELOAD=$FAKETIME_LIB FAKETIME="@$(TZ=UTC date -u -d "@$1" '+%Y-%m-%d %H:%M:%S')" \
		FAKETIME_DONT_FAKE_MONOTONIC=1 TZ=UTC \
		ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" start_agent --max-skew 60
}
start_agent_at 1508242306 || { fail "agent starts at 2017-10-17"; finish; }
$PY "$HERE/agent_oauthlib.py" oracle "$TBA_AGENT_SOCK" sign >"$out" 2>&1
expect_grep "Oracle GET vector" '^ok - Oracle vector GET' "$out"
expect_grep "Oracle POST vector" '^ok - Oracle vector POST' "$out"

# The same vectors through the CLI, as a user would run them.
expect_rc "tba header (Oracle GET)" 0 "$TBA" header oracle GET \
	https://123456.suitetalk.api.netsuite.com/services/rest/record/v1/employee/40 \
	--nonce fjaLirsIcCGVZWzBX0pg --timestamp 1508242306
expect_grep "tba header prints the Oracle signature, percent-encoded" \
	'^OAuth realm="123456", .*oauth_signature="B5OIWznZ2YP0OB7VrJrGkYsTh%2B8H%2B5T9Hag%2Bo92q0zY%3D"$' "$T_DIR/out"
stop_agent
start_agent_at 1439829974 || { fail "agent starts at 2015-08-17"; finish; }
$PY "$HERE/agent_oauthlib.py" oracle "$TBA_AGENT_SOCK" passport >"$out" 2>&1
expect_grep "Oracle tokenPassport vector" '^ok - Oracle tokenPassport vector' "$out"
expect_rc "tba passport --json (Oracle)" 0 "$TBA" passport oraclepp --json \
	--nonce 6obMKq0tmY8ylVOdEkA1 --timestamp 1439829974
expect_grep "tba passport --json signature" '"signature":"FCghIZqXNetuZY8ILWOFH0ucdfzQOmAuL\+q\+kF21zPs="' "$T_DIR/out"
expect_rc "tba passport (XML)" 0 "$TBA" passport oraclepp --nonce 6obMKq0tmY8ylVOdEkA1 --timestamp 1439829974
expect_grep "tba passport prints a tokenPassport element" \
	'<tokenPassport .*<core:account>1234567</core:account>.*<core:signature algorithm="HMAC-SHA256">FCghIZqXNetuZY8ILWOFH0ucdfzQOmAuL\+q\+kF21zPs=</core:signature></tokenPassport>' "$T_DIR/out"
finish
