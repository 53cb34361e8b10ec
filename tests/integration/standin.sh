# SPDX-License-Identifier: MIT
# standin.sh - start the NetSuite stand-in from an integration test.
# Source after lib.sh:  . "$TBA_SRC/tests/integration/standin.sh"
#
#   standin_cred REALM CONSUMER_KEY CONSUMER_SECRET TOKEN TOKEN_SECRET HOST...
#       adds a credential the stand-in accepts (REALM "" = no realm check)
#   start_standin [--clock-offset SECONDS]
#       starts it (HTTPS on 127.0.0.1) and sets STANDIN_PORT, STANDIN_PID,
#       STANDIN_LOG (JSON line per request), STANDIN_CA, and NS, an array of
#       tba options that send every host to this stand-in and trust its CA:
#           "$TBA" curl prod "$URL" "${NS[@]}"
#
# The CA and certificate are made by tests/standin/mkcerts for the hosts of
# every credential plus STANDIN_EXTRA_HOSTS; the credentials reach the
# stand-in on its stdin, never in argv.

STANDIN_CREDS=()
STANDIN_HOSTS=()
STANDIN_N=0

# Random 64-hex-digit values, like the keys and secrets NetSuite shows.
rand_hex() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }

standin_cred() {
	local realm=$1 ck=$2 cs=$3 tk=$4 ts=$5 hosts="" h
	shift 5
	for h in "$@"; do
		hosts="$hosts${hosts:+,}\"$h\""
		STANDIN_HOSTS+=("$h")
	done
	STANDIN_CREDS+=("{\"realm\":\"$realm\",\"consumer_key\":\"$ck\",\"consumer_secret\":\"$cs\",\"token\":\"$tk\",\"token_secret\":\"$ts\",\"hosts\":[$hosts]}")
}

# ns_hosts ACCOUNT: the three NetSuite hosts of an account ID (doc/PROTOCOL.md §6).
ns_hosts() {
	local id
	id=$(printf '%s' "$1" | tr 'A-Z_' 'a-z-')
	echo "$id.suitetalk.api.netsuite.com $id.restlets.api.netsuite.com $id.app.netsuite.com"
}

start_standin() {
	local pki=$T_DIR/pki json i
	STANDIN_N=$((STANDIN_N + 1))
	if [ ! -s "$pki/ca.pem" ]; then
		# shellcheck disable=SC2086
		"$TBA_SRC/tests/standin/mkcerts" "$pki" "${STANDIN_HOSTS[@]}" ${STANDIN_EXTRA_HOSTS:-} ||
			{ echo "mkcerts failed" >&2; return 1; }
	fi
	json=$(IFS=,; echo "[${STANDIN_CREDS[*]}]")
	STANDIN_LOG=$T_DIR/standin-$STANDIN_N.log
	: > "$STANDIN_LOG"
	rm -f "$T_DIR/standin-$STANDIN_N.port"
	printf '%s' "$json" | "$PY" "$TBA_SRC/tests/standin/netsuite.py" \
		--cert "$pki/server.pem" --key "$pki/server.key" --creds - \
		--port-file "$T_DIR/standin-$STANDIN_N.port" --log "$STANDIN_LOG" "$@" \
		2>>"$T_DIR/standin.err" &
	STANDIN_PID=$!
	T_PIDS+=("$STANDIN_PID")
	for i in $(seq 1 100); do
		if [ -s "$T_DIR/standin-$STANDIN_N.port" ]; then
			STANDIN_PORT=$(cat "$T_DIR/standin-$STANDIN_N.port")
			STANDIN_CA=$pki/ca.pem
			NS=(--connect-to "::127.0.0.1:$STANDIN_PORT" --cacert "$STANDIN_CA")
			export STANDIN_PORT STANDIN_CA STANDIN_LOG
			return 0
		fi
		kill -0 "$STANDIN_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "stand-in did not start:" >&2
	cat "$T_DIR/standin.err" >&2
	return 1
}

stop_standin() {
	[ -n "${STANDIN_PID:-}" ] || return 0
	kill "$STANDIN_PID" 2>/dev/null
	wait "$STANDIN_PID" 2>/dev/null
	STANDIN_PID=
}

# standin_last FIELD: a field of the stand-in's last log line (python expression on `e`).
standin_last() {
	tail -n 1 "$STANDIN_LOG" | "$PY" -c 'import json,sys; e=json.loads(sys.stdin.read()); print('"$1"')'
}
