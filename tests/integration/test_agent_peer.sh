#!/bin/bash
# SPDX-License-Identifier: MIT
# test_agent_peer.sh - the agent checks every peer's uid (SO_PEERCRED): a
# client of another uid is refused even when the socket's mode lets it
# connect, and --allow-uid lets it in. Needs root (to run a client as nobody).
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "ok - skipped: needs root and setpriv"
	exit 0
fi

# A client with nothing from the project: Ping, print the reply or CLOSED.
PING='import socket,sys
s=socket.socket(socket.AF_UNIX); s.settimeout(10)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("CONNECT-FAILED", e); sys.exit(0)
try:
    s.sendall(b"{\"method\":\"io.tba.Agent.Ping\"}\0"); d=s.recv(65536)
except OSError:
    d=b""
print(d.rstrip(b"\0").decode() if d else "CLOSED")'
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" -c "$PING" "$1"; }

new_token agent-peer
check "import a profile" import_profile p cs ts --kind oauth1 --consumer-key ck --token-id tk \
	--allow-host api.example.com

open_socket() {
	# Let anyone reach the socket: only SO_PEERCRED stands in the way now.
	chmod 0711 "$T_DIR"
	chmod 0666 "$TBA_AGENT_SOCK"
}

start_agent || { fail "agent starts"; finish; }
open_socket
got=$(as_nobody "$TBA_AGENT_SOCK")
expect_eq "uid 65534 can connect but is closed on" "$got" "CLOSED"
expect_grep "the refusal is logged with uid and pid" 'uid=65534 pid=[0-9]+ op=connect .*result="refused"' "$T_DIR/agent.log"
got=$("$PY" -c "$PING" "$TBA_AGENT_SOCK")
expect_grep "the agent's own uid is served" '"version"' <(echo "$got")
stop_agent

start_agent --allow-uid 65534 || { fail "agent starts with --allow-uid"; finish; }
open_socket
got=$(as_nobody "$TBA_AGENT_SOCK")
expect_grep "--allow-uid 65534 lets uid 65534 in" '"version"' <(echo "$got")
stop_agent

start_agent --allow-uid nobody || { fail "agent starts with --allow-uid nobody"; finish; }
open_socket
got=$(as_nobody "$TBA_AGENT_SOCK")
expect_grep "--allow-uid takes a user name" '"version"' <(echo "$got")
stop_agent
chmod 0700 "$T_DIR"
finish
