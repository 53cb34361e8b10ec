#!/bin/bash
# SPDX-License-Identifier: MIT
# test_agent_conn.sh - how the agent serves connections: idle and
# half-message timeouts, slow readers, pipelined batches larger than the
# socket buffer, many connections at once, a prompt exit on SIGTERM with
# connections open (agent_conn.py). The timeouts are shortened through
# $TBA_AGENT_IDLE_SEC and $TBA_AGENT_PARTIAL_SEC (60 s and 30 s by default).
. "$(dirname "$0")/lib.sh"
HERE=$TBA_SRC/tests/integration

CS='conn cs&1'
TS='conn+ts'
new_token agent-conn
check "import an oauth1 profile" import_profile conn "$CS" "$TS" --kind oauth1 \
	--consumer-key ck-conn --token-id tok-conn --allow-host api.example.com
TBA_AGENT_IDLE_SEC=4 TBA_AGENT_PARTIAL_SEC=3 start_agent || { fail "agent starts"; finish; }
pass "agent starts"

$PY "$HERE/agent_conn.py" "$TBA_AGENT_SOCK" conn "$CS" "$TS" 4 3 >"$T_DIR/conn.out" 2>"$T_DIR/conn.err"
rc=$?
cat "$T_DIR/conn.out"
[ -s "$T_DIR/conn.err" ] && head -20 "$T_DIR/conn.err"
expect_eq "every connection check passed" "$rc" 0
check "the agent is still alive" kill -0 "$AGENT_PID"

# SIGTERM with connections open (one idle, one mid-message): exits at once.
$PY - "$TBA_AGENT_SOCK" <<'EOF' &
import socket, sys, time
a = socket.socket(socket.AF_UNIX); a.connect(sys.argv[1])
b = socket.socket(socket.AF_UNIX); b.connect(sys.argv[1]); b.sendall(b'{"method"')
time.sleep(5)
EOF
holder=$!
sleep 0.5
t0=$(date +%s%N)
kill -TERM "$AGENT_PID"
for _ in $(seq 1 40); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.05; done
t1=$(date +%s%N)
if kill -0 "$AGENT_PID" 2>/dev/null; then
	fail "SIGTERM with connections open: the agent exits within 2 s"
else
	pass "SIGTERM with connections open: the agent exits within 2 s ($(( (t1 - t0) / 1000000 )) ms)"
fi
wait "$AGENT_PID" 2>/dev/null
expect_eq "the agent exits 0 on SIGTERM" "$?" 0
check "the socket is removed" test ! -e "$TBA_AGENT_SOCK"
AGENT_PID=
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
finish
