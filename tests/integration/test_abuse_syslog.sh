#!/bin/bash
# SPDX-License-Identifier: MIT
# test_abuse_syslog.sh - an agent in the background without systemd logs to
# syslog, as ssh-agent does: its stderr is /dev/null, so otherwise its
# warnings and audit lines would be lost. In a private mount namespace (a
# tmpfs over /dev holding the usual devices) a listener takes /dev/log; the
# agent is started with eval "$(tba-agent)", signs once, and is stopped with
# -k. Checked: the audit line arrived at LOG_AUTHPRIV|LOG_INFO (<86>), the
# start-up line at LOG_DAEMON|LOG_INFO (<30>), both tagged tba-agent[PID].
# Needs root (mount namespace).
. "$(dirname "$0")/lib.sh"
HERE=$TBA_SRC/tests/integration

if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! unshare -m true 2>/dev/null; then
	pass "skipped: needs root and unshare -m"
	finish
fi
new_token abuse-syslog
check "import an oauth1 profile" import_profile sl 'sl cs' 'sl ts' --kind oauth1 \
	--consumer-key ck-sl --token-id tok-sl --allow-host api.example.com
mkdir -p "$T_DIR/olddev"
cat >"$T_DIR/listen.py" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
print("up", flush=True)
with open(sys.argv[1], "ab") as f:
    while True:
        d = s.recv(65536)
        f.write(d + b"\n")
        f.flush()
PYEOF
# Runs inside the namespace; T_DIR, PY, HERE and TBA_AGENT come in through the environment.
cat >"$T_DIR/inner.sh" <<'SHEOF'
set -u
mount --bind /dev "$T_DIR/olddev"
mount -t tmpfs tmpfs /dev
for d in null zero full random urandom; do
	touch "/dev/$d"
	mount --bind "$T_DIR/olddev/$d" "/dev/$d"
done
"$PY" "$T_DIR/listen.py" "$T_DIR/syslog.txt" >"$T_DIR/listen.out" 2>&1 &
lp=$!
for _ in $(seq 1 50); do grep -q up "$T_DIR/listen.out" && break; sleep 0.1; done
unset JOURNAL_STREAM INVOCATION_ID
eval "$("$TBA_AGENT" -s --socket "$T_DIR/bg.sock")" >/dev/null
"$PY" "$HERE/abuse_req.py" "$T_DIR/bg.sock" Sign \
	'{"profile":"sl","method":"GET","url":"https://api.example.com/s"}' >"$T_DIR/sign.out"
"$TBA_AGENT" -k >/dev/null
sleep 0.3
kill "$lp"
SHEOF
T_DIR=$T_DIR PY=$PY HERE=$HERE TBA_AGENT=$TBA_AGENT unshare -m bash "$T_DIR/inner.sh" 2>"$T_DIR/inner.err"
[ -s "$T_DIR/inner.err" ] && head -5 "$T_DIR/inner.err"
expect_grep "the background agent signed" '^OK ' "$T_DIR/sign.out"
expect_grep "its audit line went to syslog at authpriv.info" \
	'^<86>.*tba-agent\[[0-9]+\]: audit: .*op=Sign .*result="ok"' "$T_DIR/syslog.txt"
expect_grep "its start-up line at daemon.info" '^<30>.*tba-agent\[[0-9]+\]: listening on' "$T_DIR/syslog.txt"
finish
