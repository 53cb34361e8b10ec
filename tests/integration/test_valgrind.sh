#!/bin/bash
# SPDX-License-Identifier: MIT
# test_valgrind.sh - the agent under valgrind (memcheck) across a few
# thousand signatures on concurrent connections: no invalid read or write,
# no use of uninitialised memory, and nothing definitely or indirectly
# lost when it exits on SIGTERM. Every signature is still checked by
# load.py. Skipped (passes with a note) under the ASan build, where
# ASan/LeakSanitizer do this job, and when valgrind is not installed.
#   TBA_VALGRIND_COUNT=N  signatures (default 2000)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Read from the file, not through ldd: ldd runs the loader, and once in a
# dozen ASan suites under load it did not list libasan - the test then ran
# the ASan agent under valgrind, which aborts (seen: exit 134).
if grep -qa -e __asan_init -e __asan_report "$TBA_AGENT"; then
	pass "skipped: ASan build (LeakSanitizer checks the agent there)"
	finish
fi
if ! command -v valgrind >/dev/null; then
	pass "skipped: valgrind not installed"
	finish
fi

HOST=1234567.suitetalk.api.netsuite.com
CS='valgrind consumer secret'
TS='valgrind token secret'
count=${TBA_VALGRIND_COUNT:-2000}

new_token tba-vg
expect_rc "import the profile" 0 import_profile vg "$CS" "$TS" \
	--account 1234567 --consumer-key ck-vg --token-id tk-vg

TBA_AGENT_SOCK=$T_DIR/vg.sock
export TBA_AGENT_SOCK
valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	--log-file="$T_DIR/valgrind.txt" \
	"$TBA_AGENT" -f --socket "$TBA_AGENT_SOCK" 2>>"$T_DIR/agent.log" &
VG_PID=$!
for i in $(seq 1 200); do [ -S "$TBA_AGENT_SOCK" ] && break; sleep 0.1; done
check "agent starts under valgrind" test -S "$TBA_AGENT_SOCK"

printf '%s\n%s\n' "$CS" "$TS" |
	timeout 300 "$PY" "$TBA_SRC/tests/integration/load.py" "$TBA_AGENT_SOCK" "$VG_PID" \
		vg ck-vg tk-vg "$HOST" --clients 8 --count "$count" --warmup 100 --max-growth 0 \
		--seconds 250 >"$T_DIR/load.out" 2>&1
while IFS= read -r line; do
	case $line in
	"ok - "*) pass "${line#ok - }" ;;
	"not ok - "*) fail "${line#not ok - }" ;;
	*) echo "# $line" ;;
	esac
done <"$T_DIR/load.out"

kill -TERM "$VG_PID"
wait "$VG_PID"
rc=$?
expect_eq "valgrind: no memory error and no leak at exit (exit status)" "$rc" 0
check "valgrind: no error reported" bash -c "! grep -qE 'Invalid|uninitialised|definitely lost: [1-9]|indirectly lost: [1-9]' '$T_DIR/valgrind.txt'"
if [ "$rc" != 0 ]; then
	head -60 "$T_DIR/valgrind.txt" | sed 's/^/# /'
fi
finish
