#!/bin/bash
# test_abuse_unlock.sh - no PIN guessing through Unlock.
# The agent runs through tests/faultmod, which logs every PKCS#11 call, so
# C_Login calls are counted. Checked:
# - Unlock on an agent that is not locked is InvalidRequest (and no C_Login);
# - after Lock, three wrong Unlocks get PinIncorrect without one C_Login,
#   the n-th waits at least n x 200 ms, and another client is served
#   meanwhile (a Ping in well under a second);
# - a second Unlock while one is being checked is turned away at once;
# - the right PIN unlocks with exactly one C_Login and signing works again.
. "$(dirname "$0")/lib.sh"
HERE=$TBA_SRC/tests/integration
FAULTMOD=$TBA_BUILD/tests/libtbafault.so
REQ() { $PY "$HERE/abuse_req.py" "$TBA_AGENT_SOCK" "$@"; }

new_token abuse-unlock
check "import an oauth1 profile" import_profile ul 'cs' 'ts' --kind oauth1 \
	--consumer-key ck-ul --token-id tok-ul --allow-host api.example.com
export TBA_FAULT_MODULE=$SOFTHSM_MODULE TBA_FAULT_FILE=$T_DIR/faults TBA_FAULT_LOG=$T_DIR/fault-calls.txt
: >"$TBA_FAULT_FILE"
TBA_TOKEN="pkcs11:token=abuse-unlock?module-path=$FAULTMOD&pin-source=file:$TOKEN_PIN_FILE" \
	start_agent || { fail "agent starts through the fault module"; finish; }
logins() { grep -c '^C_Login ' "$TBA_FAULT_LOG" || true; }
SIGN='{"profile":"ul","method":"GET","url":"https://api.example.com/x"}'

expect_eq "one C_Login at start" "$(logins)" 1
got=$(REQ Unlock "{\"pin\":\"$(cat "$TOKEN_PIN_FILE")\"}")
expect_grep "Unlock when not locked: InvalidRequest" '^ERR InvalidRequest .*not locked' <(echo "$got")
expect_eq "Unlock when not locked: no C_Login" "$(logins)" 1
expect_rc "tba lock" 0 "$TBA" lock
expect_grep "locked: Sign refused" '^ERR Locked ' <(REQ Sign "$SIGN")

for i in 1 2 3; do
	t0=$(date +%s%N)
	got=$(REQ Unlock '{"pin":"0000wrong"}')
	ms=$((($(date +%s%N) - t0) / 1000000))
	expect_grep "wrong Unlock $i: PinIncorrect" '^ERR PinIncorrect ' <(echo "$got")
	# The agent waits 200 ms more per failure in a row: a lower bound, which a
	# loaded machine (a slower PBKDF2) can only exceed, never undercut.
	if [ "$ms" -ge $((i * 200)) ]; then pass "wrong Unlock $i waits at least $((i * 200)) ms ($ms ms)"
	else fail "wrong Unlock $i waits at least $((i * 200)) ms" "$ms ms"; fi
done
expect_eq "three wrong Unlocks: not one C_Login" "$(logins)" 1

# A fourth guess (800 ms wait): meanwhile others are served and a parallel guess is turned away.
REQ Unlock '{"pin":"1111wrong"}' >"$T_DIR/guess4" &
g4=$!
sleep 0.2
t0=$(date +%s%N)
got=$(REQ Ping)
ms=$((($(date +%s%N) - t0) / 1000000))
expect_grep "during a wrong Unlock's wait another client is served" '^OK ' <(echo "$got")
if [ "$ms" -lt 500 ]; then pass "... in $ms ms"; else fail "... in under 500 ms" "$ms ms"; fi
expect_grep "a parallel guess is turned away at once" '^ERR Locked .*another Unlock' <(REQ Unlock '{"pin":"2222wrong"}')
wait $g4
expect_grep "the fourth guess: PinIncorrect" '^ERR PinIncorrect' "$T_DIR/guess4"
expect_eq "four wrong Unlocks: still one C_Login" "$(logins)" 1

expect_rc "tba unlock with the right PIN" 0 "$TBA" unlock <"$TOKEN_PIN_FILE"
expect_eq "the right PIN: exactly one more C_Login" "$(logins)" 2
expect_grep "signing works after unlock" '^OK .*"signature"' <(REQ Sign "$SIGN")
expect_grep "lock and unlock audited" 'op=Unlock.*result="PinIncorrect"' "$T_DIR/agent.log"
finish
