# SPDX-License-Identifier: MIT
# lib.sh - shared by the integration tests (source it first).
#
# Gives each test a throwaway SoftHSM token, the built binaries, an agent
# starter, and pass/fail bookkeeping that ends with the "N passed, N failed"
# line ctest and CI read. Cleans up every process and file on exit.
set -uo pipefail

TBA_SRC=${TBA_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TBA_BUILD=${TBA_BUILD:-$TBA_SRC/build}
TBA=$TBA_BUILD/bin/tba
TBA_AGENT=$TBA_BUILD/bin/tba-agent
PY=/usr/bin/python3
SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so

T_PASS=0
T_FAIL=0
T_PIDS=()
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tba-test.XXXXXX") || { echo "lib.sh: mktemp failed" >&2; exit 1; }
chmod 0700 "$T_DIR"
unset TBA_TOKEN TBA_AGENT_SOCK TBA_AGENT_PID

t_cleanup() {
	local pid
	for pid in "${T_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${T_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	rm -rf "$T_DIR"
}
trap t_cleanup EXIT

# pass NAME / fail NAME [DETAIL]
pass() { T_PASS=$((T_PASS + 1)); echo "ok - $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $1${2:+: $2}"; }
# check NAME CMD...: passes when CMD exits 0.
check() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n" "command failed: $*"; fi; }
# expect_eq NAME GOT WANT
expect_eq() { if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi; }
# expect_rc NAME WANT_RC CMD...: runs CMD (stdout/stderr to $T_DIR/out, $T_DIR/err).
expect_rc() {
	local n=$1 want=$2 rc
	shift 2
	"$@" >"$T_DIR/out" 2>"$T_DIR/err"
	rc=$?
	if [ "$rc" == "$want" ]; then pass "$n"; else fail "$n" "exit $rc, want $want; stderr: $(head -c 300 "$T_DIR/err")"; fi
}
# expect_grep NAME PATTERN FILE
expect_grep() { if grep -qE -- "$2" "$3"; then pass "$1"; else fail "$1" "no /$2/ in: $(head -c 300 "$3")"; fi; }

# Sanitizer reports. Under the ASan+UBSan build (tests/run) a report must
# fail the test even when the process that made it was not checked: the
# agent runs in the background and reports leaks only as it exits. So
# finish() stops the background processes (SIGTERM, the agent's normal
# exit, where LeakSanitizer runs) and then looks through every log a test
# keeps in $T_DIR (the agent's log and any *.log or *.err).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
T_SAN_RE='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer'

# sanitizer_check [FILE...]: one failed check per file holding a report
# (default: every log in $T_DIR). Call it directly after stopping a process
# mid-test; finish() calls it for whatever is left.
sanitizer_check() {
	local f files=("$@")
	[ ${#files[@]} -gt 0 ] || files=("$T_DIR"/*.log "$T_DIR"/*.err)
	for f in "${files[@]}"; do
		[ -f "$f" ] || continue
		if grep -qE -- "$T_SAN_RE" "$f"; then
			fail "no sanitizer report in $(basename "$f")" \
				"$(grep -m1 -E -- "$T_SAN_RE" "$f")"
			grep -E -A12 -- "$T_SAN_RE" "$f" | head -40 >&2
		fi
	done
	return 0
}

# Stops every background process a test started and waits for it, so
# their exit-time reports (LeakSanitizer) are in the logs.
# One that is still there after 20 s is killed (and that fails the test).
t_stop_all() {
	local pid i
	for pid in "${T_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${T_PIDS[@]}"; do
		for i in $(seq 1 200); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			fail "process $pid exits on SIGTERM" "still running after 20 s; killed"
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
	T_PIDS=()
}

finish() {
	t_stop_all
	sanitizer_check
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ] && [ "$T_PASS" -gt 0 ]
	exit $?
}

# new_token [LABEL]: a fresh SoftHSM token; exports SOFTHSM2_CONF, TBA_TOKEN
# (PIN from a file) and TOKEN_DIR, TOKEN_PIN_FILE.
new_token() {
	local label=${1:-tba-test}
	TOKEN_DIR=$T_DIR/token-$label
	"$TBA_SRC/softhsm/mktoken" "$TOKEN_DIR" "$label" >/dev/null || { echo "mktoken failed" >&2; exit 1; }
	# shellcheck disable=SC1091
	. "$TOKEN_DIR/env"
	TOKEN_PIN_FILE=$TOKEN_DIR/pin
	export TOKEN_DIR TOKEN_PIN_FILE
}

# Oracle's published credentials (doc/PROTOCOL.md, appendix A), for imports in tests.
ORACLE_CK=ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4
ORACLE_CS=d26ad321a4b2f23b0741c8d38392ce01c3e23e109df6c96eac6d099e9ab9e8b5
ORACLE_TOKEN=2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc
ORACLE_TS=c29a677df7d5439a458c063654187e3d678d73aca8e3c9d8bea1478a3eb0d295

# import_profile NAME CS TS [tba import options...]: secrets through stdin.
import_profile() {
	local name=$1 cs=$2 ts=$3
	shift 3
	printf '%s\n%s\n' "$cs" "$ts" | "$TBA" import "$name" "$@"
}

# start_agent [agent options...]: runs tba-agent in the foreground mode in
# the background, waits for its socket, exports TBA_AGENT_SOCK, AGENT_PID.
start_agent() {
	local i
	TBA_AGENT_SOCK=$T_DIR/agent-$RANDOM.sock
	export TBA_AGENT_SOCK
	"$TBA_AGENT" -f --socket "$TBA_AGENT_SOCK" "$@" 2>>"$T_DIR/agent.log" &
	AGENT_PID=$!
	T_PIDS+=("$AGENT_PID")
	for i in $(seq 1 100); do
		[ -S "$TBA_AGENT_SOCK" ] && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "agent did not start; log:" >&2
	cat "$T_DIR/agent.log" >&2
	return 1
}

stop_agent() {
	[ -n "${AGENT_PID:-}" ] || return 0
	kill "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=
}
