#!/bin/bash
# SPDX-License-Identifier: MIT
# test_abuse_client.sh - clients check who listens before sending a byte.
# A listener that runs as another uid (nobody, 65534: it binds as root,
# then drops to 65534 before listen(2), which is when the kernel records
# the credentials SO_PEERCRED reports) accepts connections and records
# what it receives. `tba unlock` (the PIN on stdin) and `tba list` must
# refuse it with one line and send nothing, unless TBA_AGENT_UID names that
# uid (a system agent with a user of its own). Needs root to change uid.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	pass "skipped: needs root to run a listener as another uid"
	finish
fi
export TBA_AGENT_SOCK=$T_DIR/other.sock
$PY - "$TBA_AGENT_SOCK" >"$T_DIR/got" 2>"$T_DIR/listener.err" <<'PYEOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
os.setgid(65534)
os.setuid(65534)
s.listen(8)
s.settimeout(15)
print("listening", flush=True)
for _ in range(3):
    c, _ = s.accept()
    c.settimeout(2)
    data = b""
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            data += d
    except socket.timeout:
        pass
    print("received", len(data), flush=True)
    c.close()
PYEOF
T_PIDS+=($!)
for _ in $(seq 1 50); do grep -q listening "$T_DIR/got" && break; sleep 0.1; done
check "a listener as uid 65534 is up" grep -q listening "$T_DIR/got"
echo 'secret-pin-1234' >"$T_DIR/pin"
expect_rc "tba unlock refuses a socket of another uid (exit 2)" 2 "$TBA" unlock <"$T_DIR/pin"
expect_grep "... saying whose socket it is" 'served by uid 65534' "$T_DIR/err"
expect_eq "... in one line" "$(wc -l <"$T_DIR/err")" 1
expect_rc "tba list refuses it too" 2 "$TBA" list
sleep 2.5
expect_eq "the listener received nothing from either" "$(grep -c '^received 0$' "$T_DIR/got")" 2
# A system agent running as its own user is trusted when named (TBA_AGENT_UID).
TBA_AGENT_UID=65534 "$TBA" list >/dev/null 2>&1
sleep 2.5
expect_grep "with TBA_AGENT_UID=65534 the request goes out" '^received [1-9]' "$T_DIR/got"
finish
