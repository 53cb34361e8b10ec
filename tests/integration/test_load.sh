#!/bin/bash
# SPDX-License-Identifier: MIT
# test_load.sh - many concurrent clients (more than the session pool), on
# persistent and per-request connections, thousands of signatures: every one
# checked against an independent base string and Python's HMAC, zero
# errors, and the agent's RSS flat after warm-up (load.py).
#
# Under the ASan build the RSS check is off (ASan's quarantine grows by
# design) and the count is smaller; LeakSanitizer checks the agent as it
# exits instead (lib.sh finish).
#   TBA_LOAD_COUNT=N  signatures after warm-up (default 20000; ASan 10000)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOST=1234567-sb1.restlets.api.netsuite.com
CK=ck-load-0123456789abcdef
TK=tk-load-fedcba9876543210
# Secrets with characters that must be percent-encoded in the key.
CS='cs load&=+%/ü€'
TS='ts~load:?#[]@!'

sanitized=0
# Read from the file, not through ldd: under load ldd once in a dozen ASan
# suites did not list libasan, and the plain-build RSS check then failed on
# ASan's quarantine (seen: +282 MiB).
if grep -qa -e __asan_init -e __asan_report "$TBA_AGENT"; then
	sanitized=1
fi
count=${TBA_LOAD_COUNT:-20000}
growth=1024
if [ "$sanitized" = 1 ]; then
	count=${TBA_LOAD_COUNT:-10000}
	growth=0   # not checked
fi

# Turns load.py's "ok - X" / "not ok - X" lines into this test's checks.
tap_import() {
	local line
	while IFS= read -r line; do
		case $line in
		"ok - "*) pass "${line#ok - }" ;;
		"not ok - "*) fail "${line#not ok - }" ;;
		*) echo "# $line" ;;
		esac
	done <"$1"
}

new_token tba-load
expect_rc "import the profile" 0 import_profile load "$CS" "$TS" \
	--account 1234567_SB1 --consumer-key "$CK" --token-id "$TK"
if [ "$sanitized" = 1 ]; then
	# atexit=1: ASan prints its statistics as the agent exits, which shows the
	# exit path (where LeakSanitizer looks for leaks) was really taken.
	ASAN_OPTIONS="$ASAN_OPTIONS:atexit=1" start_agent || { fail "agent starts"; finish; }
else
	start_agent || { fail "agent starts"; finish; }
fi

printf '%s\n%s\n' "$CS" "$TS" |
	timeout 600 "$PY" "$TBA_SRC/tests/integration/load.py" "$TBA_AGENT_SOCK" "$AGENT_PID" \
		load "$CK" "$TK" "$HOST" --clients 32 --count "$count" --warmup 2000 \
		--max-growth "$growth" --seconds 500 >"$T_DIR/load.out" 2>&1
echo "# load.py exit $?"
tap_import "$T_DIR/load.out"
check "agent still running" kill -0 "$AGENT_PID"
check "agent logged no error or warning" bash -c "! grep -iE 'error|warn' '$T_DIR/agent.log' | grep -v ' ok\$' | grep -q ."
if [ "$sanitized" = 1 ]; then
	stop_agent
	expect_grep "the agent exited through exit() (LeakSanitizer ran)" '^Stats: ' "$T_DIR/agent.log"
	check "no leak or sanitizer report after $((count + 2000)) signatures" \
		bash -c "! grep -qE '$T_SAN_RE' '$T_DIR/agent.log'"
fi
finish
