#!/bin/bash
# SPDX-License-Identifier: MIT
# test_faults.sh - PKCS#11 faults injected under a running agent.
#
# The agent loads tests/faultmod (libtbafault.so), which forwards to SoftHSM
# and fails chosen calls as $TBA_FAULT_FILE says, logging every call to
# $TBA_FAULT_LOG. Checked:
# - each of CKR_DEVICE_REMOVED, CKR_SESSION_HANDLE_INVALID,
#   CKR_SESSION_CLOSED, CKR_USER_NOT_LOGGED_IN, CKR_TOKEN_NOT_PRESENT and
#   CKR_CRYPTOKI_NOT_INITIALIZED, once on C_SignInit and once on C_Sign,
#   gives that request TokenError (or a right signature: a transparent
#   retry) and the next request is signed right;
# - a device that stays away (every call fails until the module is
#   re-initialised, and re-initialising fails 3 times) is retried with
#   backoff and comes back by itself;
# - the keepalive pings idle sessions, and a session lost while idle is
#   healed before the next request, which then never sees an error;
# - a call that hangs in the module does not hold up other requests, and a
#   token loss meanwhile is recovered from without it (left behind after 5 s);
#   when every session hangs, a waiting request gets TokenError after 5 s and
#   the agent reconnects without the hung calls;
# - CKR_PIN_INCORRECT on the re-login is not retried (one C_Login), the
#   agent locks itself, and `tba unlock` brings it back;
# - a wrong PIN at start: the agent exits with one clear line after exactly
#   one C_Login.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FAULTMOD=$TBA_BUILD/tests/libtbafault.so
HOST=1234567.suitetalk.api.netsuite.com
CK=ck-faults
TK=tk-faults
CS='faults consumer secret'
TS='faults/token+secret'

new_token tba-faults
expect_rc "import the profile" 0 import_profile faults "$CS" "$TS" \
	--account 1234567 --consumer-key "$CK" --token-id "$TK"

export TBA_FAULT_MODULE=$SOFTHSM_MODULE
export TBA_FAULT_FILE=$T_DIR/faults
export TBA_FAULT_LOG=$T_DIR/fault-calls.txt
export TBA_KEEPALIVE_SEC=1
: >"$TBA_FAULT_FILE"
GOOD_URI="pkcs11:token=tba-faults?module-path=$FAULTMOD&pin-source=file:$TOKEN_PIN_FILE"

# rules LINE...: replaces the fault rules at once (the module re-reads them).
rules() {
	printf '%s\n' "$@" >"$TBA_FAULT_FILE.new"
	mv "$TBA_FAULT_FILE.new" "$TBA_FAULT_FILE"
}
sign() {
	printf '%s\n%s\n' "$CS" "$TS" |
		"$PY" "$TBA_SRC/tests/integration/sign_once.py" "$TBA_AGENT_SOCK" faults "$CK" "$TK" "$HOST"
}
# calls FUNC [FROM_LINE]: how many FUNC calls the module saw (after line FROM_LINE).
calls() { tail -n +"$((${2:-0} + 1))" "$TBA_FAULT_LOG" | grep -c "^$1 " || true; }
injected() { tail -n +"$((${2:-0} + 1))" "$TBA_FAULT_LOG" | grep -c "^$1 .* injected" || true; }
mark() { wc -l <"$TBA_FAULT_LOG"; }
# wait_hanging N FROM_LINE: waits (at most 10 s) until N calls hang in the
# module, so a loaded machine starting the clients late changes nothing.
wait_hanging() {
	local i
	for i in $(seq 1 100); do
		[ "$(tail -n +"$(($2 + 1))" "$TBA_FAULT_LOG" | grep -c ' hanging$')" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# wait_ok SECONDS: polls until a request is signed; prints what it saw last.
wait_ok() {
	local i got
	for i in $(seq 1 $(($1 * 10))); do
		got=$(sign)
		[ "$got" == ok ] && break
		sleep 0.1
	done
	echo "$got"
}

# Four sessions: the "all sessions hung" case below hangs exactly four calls.
TBA_TOKEN=$GOOD_URI start_agent --sessions 4 || { fail "agent starts through the fault module"; finish; }
expect_eq "signing works through the fault module" "$(sign)" ok

for code in CKR_DEVICE_REMOVED CKR_SESSION_HANDLE_INVALID CKR_SESSION_CLOSED \
	CKR_USER_NOT_LOGGED_IN CKR_TOKEN_NOT_PRESENT CKR_CRYPTOKI_NOT_INITIALIZED; do
	for fn in C_SignInit C_Sign; do
		m=$(mark)
		rules "$fn $code 1"
		got=$(sign)
		case $got in
		io.tba.Agent.TokenError | ok) pass "$code on $fn: TokenError or a retried signature ($got)" ;;
		*) fail "$code on $fn: TokenError or a retried signature" "got $got" ;;
		esac
		expect_eq "$code on $fn: the fault was injected" "$(injected "$fn" "$m")" 1
		expect_eq "$code on $fn: the next request is signed" "$(sign)" ok
	done
done

# A device that stays away: every call fails until the module is
# re-initialised, and the first three re-initialisations fail too.
m=$(mark)
rules "C_Sign CKR_DEVICE_REMOVED 1 sticky" "C_Initialize CKR_TOKEN_NOT_PRESENT 3"
expect_eq "device gone: the request gets TokenError" "$(sign)" io.tba.Agent.TokenError
expect_eq "device gone: signing resumes by itself" "$(wait_ok 15)" ok
expect_eq "device gone: 4 initialisations (3 refused)" "$(calls C_Initialize "$m")" 4
expect_grep "device gone: the agent logged its attempts" 'is back after .* \(4 attempts\)' "$T_DIR/agent.log"
expect_eq "device gone: one login after it came back" "$(calls C_Login "$m")" 1

# Keepalive: idle sessions are pinged; one lost while idle is healed unseen.
rules
m=$(mark)
sleep 2.5
n=$(calls C_GetSessionInfo "$m")
check "keepalive pings idle sessions ($n pings in 2.5 s)" [ "$n" -ge 2 ]
m=$(mark)
rules "C_GetSessionInfo CKR_SESSION_HANDLE_INVALID 1"
sleep 2.5
expect_eq "keepalive: the lost session was noticed" "$(injected C_GetSessionInfo "$m")" 1
expect_eq "keepalive: recovered while idle (re-initialised once)" "$(calls C_Initialize "$m")" 1
expect_eq "keepalive: the next request is signed without an error" "$(sign)" ok

# A call that hangs in the module: other requests go on. When the token then
# goes away, recovery leaves the hung call behind after 5 s and serves again;
# when the hung call finally fails, it gets TokenError and its late failure
# starts no second outage.
m=$(mark)
rules "C_Sign hang=12 1"
sign >"$T_DIR/hung.out" &
HUNG=$!
check "hung call: it hangs in the module" wait_hanging 1 "$m"
expect_eq "hung call: other requests are still signed" "$(sign)" ok
m=$(mark)
rules "C_Sign CKR_DEVICE_REMOVED 1 sticky"
expect_eq "hung call, then token gone: TokenError" "$(sign)" io.tba.Agent.TokenError
expect_eq "hung call, then token gone: signing resumes without it" "$(wait_ok 15)" ok
expect_grep "hung call: logged as left behind" 'still running after 5 s; left behind' "$T_DIR/agent.log"
wait "$HUNG"
expect_eq "hung call: its request gets TokenError when it ends" "$(cat "$T_DIR/hung.out")" io.tba.Agent.TokenError
n=$(calls C_Initialize "$m")
sleep 1.5
expect_eq "hung call: its late failure starts no new outage" "$(calls C_Initialize "$m")" "$n"
expect_eq "hung call: signing still works" "$(sign)" ok

# Every session stuck in a hanging call: nothing comes back to the pool and
# the keepalive has nothing idle to ping. A request waiting for a session
# gets TokenError after 5 s, the agent reconnects without the hung calls,
# and signing resumes while they still hang.
m=$(mark)
rules "C_Sign hang=16 4"
STUCK=()
for i in 1 2 3 4; do
	sign >"$T_DIR/stuck$i.out" &
	STUCK+=($!)
done
check "all sessions hung: four calls hang in the module" wait_hanging 4 "$m"
rules
t0=$SECONDS
expect_eq "all sessions hung: a waiting request gets TokenError" "$(sign)" io.tba.Agent.TokenError
# The agent's limit is 5 s; the rest is room for a loaded machine.
check "all sessions hung: within 9 s ($((SECONDS - t0)) s)" [ $((SECONDS - t0)) -le 9 ]
expect_eq "all sessions hung: signing resumes without them" "$(wait_ok 15)" ok
expect_grep "all sessions hung: logged" 'the token does not answer' "$T_DIR/agent.log"
wait "${STUCK[@]}"
expect_eq "all sessions hung: the hung requests end with TokenError" \
	"$(cat "$T_DIR"/stuck[1-4].out | sort | uniq -c | tr -s ' ')" " 4 io.tba.Agent.TokenError"
expect_eq "all sessions hung: signing still works after they end" "$(sign)" ok

# The PIN refused after the token came back: never tried twice.
m=$(mark)
rules "C_Sign CKR_DEVICE_REMOVED 1" "C_Login CKR_PIN_INCORRECT 1"
expect_eq "PIN refused on re-login: the request gets TokenError" "$(sign)" io.tba.Agent.TokenError
sleep 3
expect_eq "PIN refused on re-login: exactly one C_Login" "$(calls C_Login "$m")" 1
expect_eq "PIN refused on re-login: the agent is locked" "$(sign)" io.tba.Agent.Locked
sleep 2
expect_eq "PIN refused on re-login: still one C_Login later" "$(calls C_Login "$m")" 1
expect_grep "PIN refused on re-login: logged, with what to do" 'refused the PIN.*tba unlock' "$T_DIR/agent.log"
expect_rc "tba unlock with the right PIN" 0 "$TBA" unlock <"$TOKEN_PIN_FILE"
expect_eq "signing works after unlock" "$(sign)" ok
stop_agent

# Wrong PIN at start: one attempt, one line, exit 1.
printf 'not-the-pin\n' >"$T_DIR/badpin"
chmod 600 "$T_DIR/badpin"  # a PIN file others can read adds a warning line
rules
m=$(mark)
TBA_TOKEN="pkcs11:token=tba-faults?module-path=$FAULTMOD&pin-source=file:$T_DIR/badpin" \
	expect_rc "wrong PIN at start: exit 1" 1 "$TBA_AGENT" -f --socket "$T_DIR/bad.sock"
expect_eq "wrong PIN at start: one stderr line" "$(wc -l <"$T_DIR/err")" 1
expect_grep "wrong PIN at start: says so" 'incorrect PIN' "$T_DIR/err"
expect_eq "wrong PIN at start: exactly one C_Login" "$(calls C_Login "$m")" 1
check "wrong PIN at start: no socket left" [ ! -e "$T_DIR/bad.sock" ]
# On failure, the agent's own account of it (no secrets are ever logged).
if [ "$T_FAIL" -gt 0 ]; then
	echo "# --- last lines of the agent log ---"
	tail -n 40 "$T_DIR/agent.log" | sed 's/^/# /'
fi
finish
