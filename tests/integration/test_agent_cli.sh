#!/bin/bash
# SPDX-License-Identifier: MIT
# test_agent_cli.sh - tba-agent as a user drives it: eval "$(tba-agent)",
# the socket's folder and mode, tba list/header/passport/lock/unlock, audit
# lines, profiles imported while it runs (miss reload and SIGHUP), -k, a
# wrong PIN at start, and no agent at all.
. "$(dirname "$0")/lib.sh"

new_token agent-cli
check "import a NetSuite profile" import_profile ns "$ORACLE_CS" "$ORACLE_TS" \
	--account 1234567_SB1 --consumer-key "$ORACLE_CK" --token-id "$ORACLE_TOKEN"
AUDIT=$T_DIR/audit.jsonl

# --- start like a user: eval "$(tba-agent)" with the default socket path
export XDG_RUNTIME_DIR=$T_DIR/run
mkdir -m 0700 "$XDG_RUNTIME_DIR"
start=$(date +%s%N)
out=$(timeout 20 "$TBA_AGENT" --audit-log "$AUDIT" -s)
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "tba-agent exits 0 after forking" "$rc" 0
[ "$ms" -lt 5000 ] && pass "eval \"\$(tba-agent)\" returns at once (${ms} ms)" || fail "tba-agent returns at once" "${ms} ms"
echo "$out" >"$T_DIR/eval.out"
expect_grep "prints TBA_AGENT_SOCK like ssh-agent" "^TBA_AGENT_SOCK=$XDG_RUNTIME_DIR/tba/agent.sock; export TBA_AGENT_SOCK;$" "$T_DIR/eval.out"
expect_grep "prints TBA_AGENT_PID" '^TBA_AGENT_PID=[0-9]+; export TBA_AGENT_PID;$' "$T_DIR/eval.out"
expect_grep "prints echo Agent pid" '^echo Agent pid [0-9]+;$' "$T_DIR/eval.out"
eval "$out" >/dev/null
T_PIDS+=("$TBA_AGENT_PID")
check "the agent runs in the background" kill -0 "$TBA_AGENT_PID"
expect_eq "socket folder is 0700" "$(stat -c %a "$XDG_RUNTIME_DIR/tba")" 700
expect_eq "socket is 0600" "$(stat -c %a "$TBA_AGENT_SOCK")" 600
expect_eq "audit log is 0600" "$(stat -c %a "$AUDIT")" 600
timeout 20 "$TBA_AGENT" -c --socket "$T_DIR/csh.sock" >"$T_DIR/csh.out"
expect_grep "-c prints csh syntax" "^setenv TBA_AGENT_SOCK $T_DIR/csh.sock;$" "$T_DIR/csh.out"
cpid=$(sed -n 's/^setenv TBA_AGENT_PID \([0-9]*\);$/\1/p' "$T_DIR/csh.out")
[ -n "$cpid" ] && kill "$cpid"

# --- agent commands
expect_rc "tba list" 0 "$TBA" list
expect_grep "tba list shows the profile and its realm" '^ns +netsuite +1234567_SB1 +1234567_SB1 +HMAC-SHA256 +1234567-sb1\.suitetalk' "$T_DIR/out"
expect_rc "tba list --json" 0 "$TBA" list --json
check "tba list --json is a JSON array with the fields" $PY -c '
import json,sys; v=json.load(open(sys.argv[1]))
assert v[0]["name"]=="ns" and v[0]["realm"]=="1234567_SB1" and "1234567-sb1.restlets.api.netsuite.com" in v[0]["hosts"], v' "$T_DIR/out"
expect_rc "tba header" 0 "$TBA" header ns GET 'https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/record/v1/customer?q=SECRETQUERYVALUE'
expect_grep "tba header prints one OAuth line" '^OAuth realm="1234567_SB1", oauth_consumer_key=".*", oauth_signature="[^"]+"$' "$T_DIR/out"
expect_eq "header output is one line" "$(wc -l <"$T_DIR/out")" 1
expect_rc "tba header --json" 0 "$TBA" header ns POST https://1234567-sb1.restlets.api.netsuite.com/app/site/hosting/restlet.nl --form 'a=b=c' --json
SIG=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["signature"])' "$T_DIR/out")
expect_grep "--form is split at the first =" 'a%3Db%253Dc' "$T_DIR/out"
expect_rc "tba passport" 0 "$TBA" passport ns
expect_grep "passport XML with the realm-form account" '<core:account>1234567_SB1</core:account>' "$T_DIR/out"
expect_rc "refused by policy: exit 1" 1 "$TBA" header ns GET https://evil.example.com/
expect_grep "policy refusal says why" 'tba: header: .*evil\.example\.com' "$T_DIR/err"
expect_rc "unknown profile: exit 1" 1 "$TBA" header nope GET https://1234567-sb1.app.netsuite.com/
expect_rc "missing arguments: exit 64" 64 "$TBA" header ns GET
for c in list header passport lock unlock; do
	expect_rc "tba $c --help" 0 "$TBA" "$c" --help
done

# --- lock / unlock
expect_rc "tba lock" 0 "$TBA" lock
expect_rc "signing while locked: exit 1" 1 "$TBA" header ns GET https://1234567-sb1.app.netsuite.com/
expect_grep "locked message says to unlock" 'locked.*tba unlock' "$T_DIR/err"
expect_rc "passport while locked: exit 1" 1 "$TBA" passport ns
expect_rc "unlock with a wrong PIN: exit 1" 1 sh -c "echo 0000wrong | '$TBA' unlock"
expect_grep "wrong PIN is reported" 'incorrect PIN' "$T_DIR/err"
expect_rc "still locked after a wrong PIN" 1 "$TBA" header ns GET https://1234567-sb1.app.netsuite.com/
expect_rc "unlock with the right PIN (stdin)" 0 "$TBA" unlock <"$TOKEN_PIN_FILE"
expect_rc "signs again after unlock" 0 "$TBA" header ns GET https://1234567-sb1.app.netsuite.com/

# --- profiles added while the agent runs
check "import a profile while the agent runs" import_profile late cs2 ts2 --kind oauth1 \
	--consumer-key ck2 --token-id tk2 --allow-host api.example.com
sleep 1.1 # misses re-read the token at most once a second; 'nope' above was one
expect_rc "a new profile is found without a signal (reload on miss)" 0 "$TBA" header late GET https://api.example.com/
check "import another" import_profile later cs3 ts3 --kind oauth1 --consumer-key ck3 --token-id tk3 \
	--allow-host api.example.com
kill -HUP "$TBA_AGENT_PID"
sleep 0.3
expect_rc "tba list after SIGHUP" 0 "$TBA" list
expect_grep "SIGHUP re-read the profiles" '^later ' "$T_DIR/out"

# --- the audit log
check "audit lines are JSON with the fields" $PY -c '
import json,sys
lines=[json.loads(l) for l in open(sys.argv[1])]
signs=[l for l in lines if l["op"]=="Sign"]
assert len(signs)>=5, lines
for l in lines:
    for k in ("time","uid","pid","op","profile","method","host","path","result"): assert k in l, (k,l)
assert any(l["result"]=="ok" and l["path"]=="/services/rest/record/v1/customer" for l in signs), signs
assert any(l["result"]=="PolicyDenied" and l["host"]=="evil.example.com" for l in signs), signs
assert any(l["result"]=="Locked" for l in signs), signs
assert any(l["op"]=="Unlock" and l["result"]=="PinIncorrect" for l in lines), lines' "$AUDIT"
if grep -qE "SECRETQUERYVALUE|oauth_signature|$ORACLE_CS|$ORACLE_TS|$(cat "$TOKEN_PIN_FILE")|0000wrong" "$AUDIT" \
	|| grep -qF "$SIG" "$AUDIT"; then
	fail "audit log has no query, signature, secret or PIN" "$(head -c 300 "$AUDIT")"
else
	pass "audit log has no query, signature, secret or PIN"
fi

# --- stop with -k
sock=$TBA_AGENT_SOCK pid=$TBA_AGENT_PID
out=$(timeout 20 "$TBA_AGENT" -k -s)
expect_eq "tba-agent -k exits 0" "$?" 0
eval "$out" >/dev/null
[ -z "${TBA_AGENT_SOCK:-}" ] && pass "-k output unsets TBA_AGENT_SOCK" || fail "-k unsets TBA_AGENT_SOCK"
# Gone, or a zombie that this container's init does not reap: not running either way.
state=$(ps -o stat= -p "$pid" 2>/dev/null)
case "$state" in ""|Z*) pass "the agent has exited when -k returns";; *) fail "the agent has exited when -k returns" "state $state";; esac
[ -e "$sock" ] && fail "the socket is removed" || pass "the socket is removed"

# --- no agent
expect_rc "no agent: exit 2" 2 env TBA_AGENT_SOCK="$T_DIR/none.sock" "$TBA" list
expect_grep "no agent: says how to start one" "no agent at $T_DIR/none.sock.*eval \"\\\$\(tba-agent\)\"" "$T_DIR/err"
# Unset, the client also tries /tmp/tba-UID/agent.sock, which any agent of this
# uid on the machine may hold: as root, look with a private /tmp/tba-UID.
if [ "$(id -u)" = 0 ] && unshare --mount true 2>/dev/null; then
	mkdir -p -m 0700 "/tmp/tba-$(id -u)"
	expect_rc "TBA_AGENT_SOCK unset: exit 2" 2 unshare --mount --propagation private \
		sh -c 'mount -t tmpfs tba-test "/tmp/tba-$(id -u)" &&
			exec env -u TBA_AGENT_SOCK "$0" header ns GET https://x/' "$TBA"
elif [ ! -e "/tmp/tba-$(id -u)/agent.sock" ]; then
	expect_rc "TBA_AGENT_SOCK unset: exit 2" 2 env -u TBA_AGENT_SOCK "$TBA" header ns GET https://x/
fi

# --- systemd socket activation (LISTEN_FDS/LISTEN_PID, fd 3)
if command -v systemd-socket-activate >/dev/null; then
	systemd-socket-activate -E TBA_TOKEN -E SOFTHSM2_CONF -l "$T_DIR/act.sock" \
		"$TBA_AGENT" -f 2>>"$T_DIR/act.log" >/dev/null &
	apid=$!
	T_PIDS+=("$apid")
	for i in $(seq 1 50); do [ -S "$T_DIR/act.sock" ] && break; sleep 0.05; done
	expect_rc "socket activation: served on the passed socket" 0 env TBA_AGENT_SOCK="$T_DIR/act.sock" "$TBA" list
	expect_grep "socket activation: the agent says so" 'listening on the socket from systemd' "$T_DIR/act.log"
	kill "$apid"; wait "$apid" 2>/dev/null
	[ -S "$T_DIR/act.sock" ] && pass "socket activation: systemd's socket is left in place" \
		|| fail "socket activation: systemd's socket is left in place"
fi

# --- a wrong PIN at start: one line, exit 1, in both modes
printf '0000wrong\n' >"$T_DIR/wrongpin"
BAD=${TBA_TOKEN%%pin-source=*}pin-source=file:$T_DIR/wrongpin
expect_rc "wrong PIN at start (daemon): exit 1" 1 timeout 20 "$TBA_AGENT" --token "$BAD" --socket "$T_DIR/bad.sock"
expect_eq "wrong PIN at start: one line on stderr" "$(wc -l <"$T_DIR/err")" 1
expect_grep "wrong PIN at start: says so" 'incorrect PIN' "$T_DIR/err"
expect_eq "wrong PIN at start: nothing on stdout" "$(wc -c <"$T_DIR/out")" 0
[ -e "$T_DIR/bad.sock" ] && fail "no socket left after a failed start" || pass "no socket left after a failed start"
expect_rc "wrong PIN at start (-f): exit 1" 1 timeout 20 "$TBA_AGENT" -f --token "$BAD" --socket "$T_DIR/bad.sock"
expect_grep "wrong PIN at start (-f): says so" 'incorrect PIN' "$T_DIR/err"
expect_rc "no token named: exit 64" 64 env -u TBA_TOKEN "$TBA_AGENT" -f --socket "$T_DIR/x.sock"
mkdir -m 0755 "$T_DIR/open"
expect_rc "a socket folder others can write is refused" 1 env XDG_RUNTIME_DIR="$T_DIR/open" sh -c "chmod 0777 '$T_DIR/open'; mkdir -m 0777 '$T_DIR/open/tba'; exec '$TBA_AGENT' -f"
finish
