#!/bin/bash
# SPDX-License-Identifier: MIT
# test_default_sock.sh - with TBA_AGENT_SOCK unset, tba finds the agent where
# it listens by default: $XDG_RUNTIME_DIR/tba/agent.sock (the systemd user
# socket), then /tmp/tba-UID/agent.sock; the first wins when both answer,
# and the error names both paths when neither does. Which agent answered is
# read from each agent's own audit log.
#
# /tmp/tba-UID is shared by every process of this uid: as root the test runs
# in its own mount namespace with a private /tmp/tba-UID (only that folder:
# the checkout and the build may live under /tmp), so neither a real agent
# nor another test sees its agents (nor it theirs).
if [ -z "${TBA_PRIVATE_TMP:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
	unshare --mount true 2>/dev/null; then
	mkdir -p -m 0700 "/tmp/tba-$(id -u)"
	exec unshare --mount --propagation private env TBA_PRIVATE_TMP=1 bash -c \
		'mount -t tmpfs -o mode=0700 tba-test "/tmp/tba-$(id -u)" && exec bash "$0"' \
		"${BASH_SOURCE[0]}"
fi
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

new_token default-sock
check "import a profile" import_profile ns "$ORACLE_CS" "$ORACLE_TS" \
	--account 1234567 --consumer-key "$ORACLE_CK" --token-id "$ORACLE_TOKEN"
URL=https://1234567.suitetalk.api.netsuite.com/services/rest/record/v1/customer
XDG=$T_DIR/run
TMP_SOCK=/tmp/tba-$(id -u)/agent.sock
mkdir -m 0700 "$XDG"

# bg_agent NAME SOCKET [XDG_RUNTIME_DIR]: an agent on its default socket
# (no --socket) with its own audit log; waits for SOCKET.
bg_agent() {
	local name=$1 sock=$2 i
	(
		unset TBA_AGENT_SOCK XDG_RUNTIME_DIR
		[ -z "${3:-}" ] || export XDG_RUNTIME_DIR=$3
		exec "$TBA_AGENT" -f --audit-log "$T_DIR/$name.audit" 2>>"$T_DIR/$name.log"
	) &
	T_PIDS+=("$!")
	eval "${name}_PID=$!"
	for i in $(seq 1 100); do
		[ -S "$sock" ] && return 0
		sleep 0.05
	done
	fail "agent $name listens at $sock" "$(cat "$T_DIR/$name.log")"
	return 1
}

# 1. No agent anywhere: one error naming both places.
unset TBA_AGENT_SOCK
if [ -e "$TMP_SOCK" ]; then
	echo "# $TMP_SOCK exists (another agent of this uid): skipping the /tmp cases"
	SKIP_TMP=1
fi
if [ -z "${SKIP_TMP:-}" ]; then
	expect_rc "no agent: exit 2" 2 env XDG_RUNTIME_DIR="$XDG" "$TBA" list
	expect_grep "no agent: the error names the XDG socket" "$XDG/tba/agent.sock" "$T_DIR/err"
	expect_grep "no agent: the error names the /tmp socket" "$TMP_SOCK" "$T_DIR/err"
	expect_grep "no agent: says how to start one" 'tba-agent' "$T_DIR/err"
fi

# 2. The agent on $XDG_RUNTIME_DIR/tba/agent.sock is found.
bg_agent xdg "$XDG/tba/agent.sock" "$XDG" || finish
expect_rc "XDG socket: tba header" 0 env XDG_RUNTIME_DIR="$XDG" "$TBA" header ns GET "$URL"
expect_grep "XDG socket: a real header" '^OAuth realm="1234567", oauth_consumer_key=' "$T_DIR/out"
expect_eq "XDG socket: the XDG agent signed" "$(wc -l <"$T_DIR/xdg.audit")" 1
# The Python client looks in the same places.
pysign() {
	"$PY" -c 'import sys; sys.path.insert(0, sys.argv[1] + "/python"); import tba_agent
print(tba_agent.Agent().sign("ns", "GET", sys.argv[2])["authorization"][:6])' "$TBA_SRC" "$URL"
}
pysign_in() { (if [ -n "$1" ]; then export XDG_RUNTIME_DIR=$1; else unset XDG_RUNTIME_DIR; fi; pysign); }
expect_rc "Python, XDG socket: sign" 0 pysign_in "$XDG"
expect_eq "Python, XDG socket: the XDG agent signed" "$(wc -l <"$T_DIR/xdg.audit")" 2

if [ -z "${SKIP_TMP:-}" ]; then
	# 3. Both listen: XDG first.
	bg_agent tmp "$TMP_SOCK" "" || finish
	expect_rc "both: tba header" 0 env XDG_RUNTIME_DIR="$XDG" "$TBA" header ns GET "$URL"
	expect_eq "both: the XDG agent signed" "$(wc -l <"$T_DIR/xdg.audit")" 3
	expect_eq "both: the /tmp agent did not" "$(wc -l <"$T_DIR/tmp.audit" 2>/dev/null || echo 0)" 0
	# 4. XDG_RUNTIME_DIR unset, or set where no agent listens: /tmp.
	expect_rc "no XDG_RUNTIME_DIR: tba header" 0 env -u XDG_RUNTIME_DIR "$TBA" header ns GET "$URL"
	expect_eq "no XDG_RUNTIME_DIR: the /tmp agent signed" "$(wc -l <"$T_DIR/tmp.audit")" 1
	expect_rc "Python, no XDG_RUNTIME_DIR: sign" 0 pysign_in ""
	expect_eq "Python, no XDG_RUNTIME_DIR: the /tmp agent signed" "$(wc -l <"$T_DIR/tmp.audit")" 2
	mkdir -m 0700 "$T_DIR/empty"
	expect_rc "empty XDG_RUNTIME_DIR: tba list" 0 env XDG_RUNTIME_DIR="$T_DIR/empty" "$TBA" header ns GET "$URL"
	expect_eq "empty XDG_RUNTIME_DIR: the /tmp agent signed" "$(wc -l <"$T_DIR/tmp.audit")" 3
	# 5. A stale XDG socket (no listener) falls through to /tmp.
	kill "$xdg_PID"; wait "$xdg_PID" 2>/dev/null
	"$PY" -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$XDG/tba/agent.sock"
	expect_rc "stale XDG socket: falls through to /tmp" 0 env XDG_RUNTIME_DIR="$XDG" "$TBA" header ns GET "$URL"
	expect_eq "stale XDG socket: the /tmp agent signed" "$(wc -l <"$T_DIR/tmp.audit")" 4
	kill "$tmp_PID"; wait "$tmp_PID" 2>/dev/null
	expect_eq "the /tmp agent removed its socket" "$(test -e "$TMP_SOCK" && echo yes || echo no)" no
fi

# 6. TBA_AGENT_SOCK still wins over the defaults.
start_agent --audit-log "$T_DIR/explicit.audit" || finish
expect_rc "TBA_AGENT_SOCK wins" 0 env XDG_RUNTIME_DIR="$XDG" "$TBA" header ns GET "$URL"
expect_eq "TBA_AGENT_SOCK: that agent signed" "$(wc -l <"$T_DIR/explicit.audit")" 1
finish
