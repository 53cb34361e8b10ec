#!/bin/bash
# SPDX-License-Identifier: MIT
# test_abuse_rotate.sh - the agent sees profile changes in the token within
# 2 s, without SIGHUP:
# - `tba import --replace` while 4 clients sign: no request fails, every
#   signature verifies (python3-oauthlib) under the old secrets or the new,
#   and none under the old ones comes later than 2 s after the import;
# - a new profile is listed, a deleted one is gone, and a re-import with
#   other hosts moves the policy, each within 2 s.
. "$(dirname "$0")/lib.sh"
HERE=$TBA_SRC/tests/integration
HOST=api.rotate.example.com
OLD_CS='old consumer secret' OLD_TS='old/token+secret'
NEW_CS='new consumer secret' NEW_TS='new&token secret'

new_token abuse-rotate
check "import the profile" import_profile rot "$OLD_CS" "$OLD_TS" --kind oauth1 \
	--consumer-key ck-rot --token-id tok-old --allow-host "$HOST"
start_agent || { fail "agent starts"; finish; }

# now_s: wall clock in seconds with decimals.
now_s() { date +%s.%N; }
# within2 NAME CMD...: passes when CMD succeeds within 2 s (polled every 0.1 s).
within2() {
	local n=$1 t0 i
	shift
	t0=$(now_s)
	for i in $(seq 1 20); do
		if "$@" >/dev/null 2>&1; then
			pass "$n ($(echo "$(now_s) - $t0" | bc | cut -c1-4) s)"
			return
		fi
		sleep 0.1
	done
	fail "$n" "not within 2 s"
}
listed() { "$TBA" list | grep -qw "$1"; }
not_listed() { ! "$TBA" list | grep -qw "$1"; }

printf '%s\n%s\n%s\n%s\n' "$OLD_CS" "$OLD_TS" "$NEW_CS" "$NEW_TS" |
	$PY "$HERE/abuse_rotate.py" "$TBA_AGENT_SOCK" rot "$HOST" ck-rot 30 "$T_DIR/stop" \
	>"$T_DIR/rotate.out" 2>"$T_DIR/rotate.err" &
rot=$!
sleep 2
expect_rc "import --replace while 4 clients sign" 0 import_profile rot "$NEW_CS" "$NEW_TS" --replace \
	--kind oauth1 --consumer-key ck-rot --token-id tok-new --allow-host "$HOST"
t_done=$(now_s)
sleep 3
touch "$T_DIR/stop"
wait $rot
cat "$T_DIR/rotate.out"
[ -s "$T_DIR/rotate.err" ] && head -5 "$T_DIR/rotate.err"
read -r _ total _ failed _ old _ new _ last_old _ first_new < <(tail -1 "$T_DIR/rotate.out")
expect_eq "--replace under load: no request failed ($total signed)" "$failed" 0
check "... signatures under the old secrets before ($old)" test "${old:-0}" -gt 0
check "... and under the new ones after ($new)" test "${new:-0}" -gt 0
late=$(echo "$last_old > $t_done + 2" | bc)
expect_eq "... none under the old ones later than 2 s after the import (last $(echo "$last_old - $t_done" | bc) s)" "$late" 0

check "import a new profile" import_profile fresh 'f cs' 'f ts' --kind oauth1 \
	--consumer-key ck-f --token-id tok-f --allow-host "$HOST"
within2 "a new profile is listed within 2 s" listed fresh
check "delete it" "$TBA" delete fresh
within2 "a deleted profile is gone within 2 s" not_listed fresh
signs_at() { $PY "$HERE/abuse_req.py" "$TBA_AGENT_SOCK" Sign "{\"profile\":\"rot\",\"method\":\"GET\",\"url\":\"https://$1/x\"}" | grep -q '^OK '; }
if signs_at api.other.example.com; then fail "api.other.example.com is refused before"
else pass "api.other.example.com is refused before"; fi
check "re-import with another host" import_profile rot "$NEW_CS" "$NEW_TS" --replace \
	--kind oauth1 --consumer-key ck-rot --token-id tok-new --allow-host api.other.example.com
within2 "the new host is allowed within 2 s" signs_at api.other.example.com
finish
