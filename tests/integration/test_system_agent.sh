#!/bin/bash
# SPDX-License-Identifier: MIT
# test_system_agent.sh - the server arrangement of systemd/system, without
# systemd as pid 1: a socket created by root (systemd-socket-activate, as
# tba-agent.socket does), group-owned and 0660; the agent started on the
# first connection as its own unprivileged user, its PIN in a file only that
# user can read, admitting clients named with --allow-uid. Checked: an
# allowed client signs (checked with Python's hmac) and gets the audit line;
# a client in the socket's group but not allowed is refused by the agent;
# a client outside the group cannot even connect; the agent runs as its user.
# Needs root (to run processes as other uids).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! command -v systemd-socket-activate >/dev/null; then
	echo "ok - skipped: needs root, setpriv and systemd-socket-activate"
	exit 0
fi
AGENT_UID=65534 # the unit's user tba
CLIENT_UID=64101 # --allow-uid, in the socket's group
BYSTANDER_UID=64102 # in the group, not allowed
OUTSIDER_UID=64103 # not in the group
SOCK_GID=64100 # the unit's group tba
CS='server consumer secret' TS='server token secret'
URL="https://1234567.suitetalk.api.netsuite.com/services/rest/record/v1/customer?limit=1"

new_token system-agent
expect_rc "import a profile" 0 import_profile srv "$CS" "$TS" --account 1234567 \
	--consumer-key ck-srv --token-id tk-srv
# The agent's user owns the token store and the PIN file (0400), nobody else.
chmod 0711 "$T_DIR"
chown -R "$AGENT_UID" "$TOKEN_DIR"
chmod 0400 "$TOKEN_PIN_FILE"
as_other() { # as_other UID GID CMD...: run CMD as another user
	local uid=$1 gid=$2
	shift 2
	setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"
}
expect_rc "the PIN file is unreadable to a client" 1 as_other "$CLIENT_UID" "$SOCK_GID" cat "$TOKEN_PIN_FILE"

# /run/tba: root's folder, 0755; the socket root:tba 0660 (tba-agent.socket).
RUN=$T_DIR/run-tba
install -d -m 0755 "$RUN"
SOCK=$RUN/agent.sock
install -d -m 0700 -o "$AGENT_UID" "$T_DIR/audit"
# The unit's Environment: only what is named reaches the agent.
systemd-socket-activate -l "$SOCK" -E TBA_TOKEN -E SOFTHSM2_CONF \
	setpriv --reuid="$AGENT_UID" --regid="$SOCK_GID" --clear-groups \
	"$TBA_AGENT" -f --allow-uid "$CLIENT_UID" --audit-log "$T_DIR/audit/audit.jsonl" \
	2>>"$T_DIR/agent.log" &
T_PIDS+=("$!")
for i in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
check "the socket is there before the agent" test -S "$SOCK"
chgrp "$SOCK_GID" "$SOCK" && chmod 0660 "$SOCK"

# Clients name the socket; their environment has no token, no PIN and no
# TBA_AGENT_UID: the listener they check is the socket's creator, root.
client() { # client UID GID CMD...
	local uid=$1 gid=$2
	shift 2
	as_other "$uid" "$gid" env -i PATH=/usr/bin:/bin TBA_AGENT_SOCK="$SOCK" "$@"
}
expect_rc "allowed client: tba header (starts the agent)" 0 client "$CLIENT_UID" "$SOCK_GID" \
	"$TBA" header srv GET "$URL" --json
"$PY" - "$T_DIR/out" "$CS" "$TS" >"$T_DIR/verify" 2>&1 <<'PY'
import base64, hashlib, hmac, json, sys, urllib.parse
r = json.load(open(sys.argv[1]))
enc = lambda v: urllib.parse.quote(v, safe="~")
key = (enc(sys.argv[2]) + "&" + enc(sys.argv[3])).encode()
want = base64.b64encode(hmac.new(key, r["base_string"].encode(), hashlib.sha256).digest()).decode()
print("good" if want == r["signature"] else "bad")
PY
expect_eq "allowed client: the signature checks with hmac" "$(cat "$T_DIR/verify")" good
apid=$(pgrep -f -n "^$TBA_AGENT -f --allow-uid $CLIENT_UID" || true)
expect_eq "the agent runs as its own user" "$(ps -o uid= -p "${apid:-1}" | tr -d ' ')" "$AGENT_UID"
expect_grep "the audit line names the client's uid" "\"uid\": ?$CLIENT_UID" "$T_DIR/audit/audit.jsonl"
expect_rc "allowed client: tba list" 0 client "$CLIENT_UID" "$SOCK_GID" "$TBA" list
expect_rc "group member not allowed: refused by the agent (exit 2)" 2 client "$BYSTANDER_UID" \
	"$SOCK_GID" "$TBA" header srv GET "$URL"
expect_grep "refused: says --allow-uid" 'allow-uid' "$T_DIR/err"
expect_grep "the agent logged the refusal" "not allowed|refus" "$T_DIR/agent.log"
expect_rc "outside the group: cannot connect (exit 2)" 2 client "$OUTSIDER_UID" "$OUTSIDER_UID" \
	"$TBA" list
expect_grep "outside the group: permission denied" 'ermission denied' "$T_DIR/err"
finish
