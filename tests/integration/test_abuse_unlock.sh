#!/bin/bash
# SPDX-License-Identifier: MIT
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

# Timed inside one Python process, so its start-up does not blur the delays.
$PY - "$TBA_AGENT_SOCK" "$HERE" <<'PYEOF' >"$T_DIR/guesses" 2>&1
import sys, threading, time
sys.path.insert(0, sys.argv[2])
import agentwire
sock = sys.argv[1]
c = agentwire.Conn(sock, timeout=30)
for i in (1, 2, 3):
    t0 = time.monotonic()
    rep, err = c.request("Unlock", {"pin": "0000wrong"})
    ms = (time.monotonic() - t0) * 1000
    print(f"guess {i} {err[0].replace(agentwire.PREFIX, '') if err else 'OK'} {ms:.0f}")
# A fourth guess (800 ms wait): meanwhile a Ping is answered and a parallel guess turned away.
res = {}
t = threading.Thread(target=lambda: res.setdefault("g4", c.request("Unlock", {"pin": "1111wrong"})))
t.start()
time.sleep(0.2)
k = agentwire.Conn(sock, timeout=30)
t0 = time.monotonic()
rep, err = k.request("Ping")
print(f"ping {'OK' if rep else err[0]} {(time.monotonic() - t0) * 1000:.0f}")
rep, err = k.request("Unlock", {"pin": "2222wrong"})
print(f"parallel {err[0].replace(agentwire.PREFIX, '') if err else 'OK'} {err[1] if err else ''}")
t.join()
err = res["g4"][1]
print(f"guess 4 {err[0].replace(agentwire.PREFIX, '') if err else 'OK'}")
PYEOF
cat "$T_DIR/guesses"
for i in 1 2 3; do
	expect_grep "wrong Unlock $i: PinIncorrect" "^guess $i PinIncorrect " "$T_DIR/guesses"
	# The agent waits 200 ms more per failure in a row: a lower bound, which a
	# loaded machine (a slower PBKDF2) can only exceed, never undercut.
	ms=$(awk -v i="$i" '$1 == "guess" && $2 == i { print $4 }' "$T_DIR/guesses")
	if [ "${ms:-0}" -ge $((i * 200)) ]; then pass "wrong Unlock $i waits at least $((i * 200)) ms ($ms ms)"
	else fail "wrong Unlock $i waits at least $((i * 200)) ms" "${ms:-?} ms"; fi
done
expect_eq "three wrong Unlocks: not one C_Login" "$(logins)" 1
read -r _ pok pms < <(grep '^ping ' "$T_DIR/guesses")
expect_eq "during a wrong Unlock's wait another client is served" "$pok" OK
if [ "${pms:-9999}" -lt 500 ]; then pass "... in $pms ms"; else fail "... in under 500 ms" "$pms ms"; fi
expect_grep "a parallel guess is turned away at once" '^parallel Locked .*another Unlock' "$T_DIR/guesses"
expect_grep "the fourth guess: PinIncorrect" '^guess 4 PinIncorrect' "$T_DIR/guesses"
expect_eq "four wrong Unlocks: still one C_Login" "$(logins)" 1

expect_rc "tba unlock with the right PIN" 0 "$TBA" unlock <"$TOKEN_PIN_FILE"
expect_eq "the right PIN: exactly one more C_Login" "$(logins)" 2
expect_grep "signing works after unlock" '^OK .*"signature"' <(REQ Sign "$SIGN")
expect_grep "lock and unlock audited" 'op=Unlock.*result="PinIncorrect"' "$T_DIR/agent.log"
finish
