#!/bin/bash
# SPDX-License-Identifier: MIT
# test_m2m_valgrind.sh - the agent's M2M path under valgrind (memcheck):
# exchanges (JWT signed in the token, libcurl POST, reply parsed), cached
# tokens, renewals, a refused exchange, Lock (tokens wiped), concurrent first
# calls: no invalid read or write, no uninitialised memory, nothing
# definitely or indirectly lost at exit. Skipped under the ASan build and
# without valgrind, as test_valgrind.sh.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TBA_SRC/tests/integration/standin.sh"
. "$TBA_SRC/tests/integration/m2m_lib.sh"

if grep -qa -e __asan_init -e __asan_report "$TBA_AGENT"; then
	pass "skipped: ASan build (LeakSanitizer checks the agent there)"
	finish
fi
if ! command -v valgrind >/dev/null; then
	pass "skipped: valgrind not installed"
	finish
fi

new_token m2m-vg
m2m_profile vg ES256 client-vg CERT-vg || { fail "m2m new vg"; finish; }
m2m_profile vgps PS256 client-vgps CERT-vgps || { fail "m2m new vgps"; finish; }
start_standin --m2m "$M2M_FILE" || exit 1

TBA_AGENT_SOCK=$T_DIR/vg.sock
export TBA_AGENT_SOCK
valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	--log-file="$T_DIR/valgrind.txt" \
	"$TBA_AGENT" -f --socket "$TBA_AGENT_SOCK" "${NS[@]}" 2>>"$T_DIR/agent.log" &
VG_PID=$!
for i in $(seq 1 300); do [ -S "$TBA_AGENT_SOCK" ] && break; sleep 0.1; done
check "agent starts under valgrind" test -S "$TBA_AGENT_SOCK"

expect_rc "first token (exchange)" 0 "$TBA" token vg
expect_rc "PS256 token (exchange)" 0 "$TBA" token vgps
for i in 1 2 3 4 5; do "$TBA" token vg >/dev/null || fail "cached token $i"; done
expect_rc "renewal" 0 "$TBA" token vg --renew
expect_rc "a Bearer request" 0 "$TBA" curl vg "https://$M2M_HOST/services/rest/record/v1/customer" "${NS[@]}"
out=$(cd "$TBA_SRC/tests/integration" && "$PY" m2m_concurrent.py "$TBA_AGENT_SOCK" vgps 8)
expect_eq "8 concurrent calls" "$out" "ok=8 tokens=1 errors=0"
expect_rc "lock" 0 "$TBA" lock
expect_rc "locked: no token" 1 "$TBA" token vg
"$TBA" unlock <"$TOKEN_PIN_FILE" >/dev/null 2>&1 || fail "unlock"
stop_standin
start_standin --port "$STANDIN_PORT" --m2m "$M2M_FILE" --m2m-refuse || exit 1
expect_rc "a refused exchange" 1 "$TBA" token vg --renew

kill -TERM "$VG_PID"
wait "$VG_PID"
rc=$?
expect_eq "valgrind: no memory error and no leak at exit (exit status)" "$rc" 0
check "valgrind: no error reported" bash -c "! grep -qE 'Invalid|uninitialised|definitely lost: [1-9]|indirectly lost: [1-9]' '$T_DIR/valgrind.txt'"
if [ "$rc" != 0 ]; then
	head -60 "$T_DIR/valgrind.txt" | sed 's/^/# /'
fi
finish
