#!/bin/bash
# test_abuse_conns.sh - one process's connections cannot starve the others.
# A process opens 1000 idle connections and 64 that trickle a byte a second
# and holds them; meanwhile another client (another process) signs 20 times
# on fresh connections and once on a kept one, each served well under a
# second and signed right. The holder is told "too many connections from
# this process" past its share (128), and those refusals are logged
# rate-limited (a line per 10 s, not one per refusal).
. "$(dirname "$0")/lib.sh"
HERE=$TBA_SRC/tests/integration

CS='conns cs'
TS='conns ts'
new_token abuse-conns
check "import an oauth1 profile" import_profile conns "$CS" "$TS" --kind oauth1 \
	--consumer-key ck-conns --token-id tok-conns --allow-host 1234567.suitetalk.api.netsuite.com
start_agent || { fail "agent starts"; finish; }

$PY "$HERE/abuse_hold.py" "$TBA_AGENT_SOCK" 1000 64 8 >"$T_DIR/hold.out" 2>"$T_DIR/hold.err" &
holder=$!
for _ in $(seq 1 100); do grep -q holding "$T_DIR/hold.out" && break; sleep 0.1; done
check "the holder holds its connections" grep -q holding "$T_DIR/hold.out"
sleep 1
slow=0 wrong=0 max=0
for i in $(seq 1 20); do
	t0=$(date +%s%N)
	got=$(printf '%s\n%s\n' "$CS" "$TS" | $PY "$HERE/sign_once.py" "$TBA_AGENT_SOCK" conns ck-conns tok-conns 1234567.suitetalk.api.netsuite.com)
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -gt "$max" ] && max=$ms
	[ "$ms" -ge 1000 ] && slow=$((slow + 1))
	[ "$got" == ok ] || wrong=$((wrong + 1))
done
expect_eq "20 signatures from another process while the holder holds on: all right" "$wrong" 0
expect_eq "... each within a second (slowest $max ms, python start-up included)" "$slow" 0
wait $holder
cat "$T_DIR/hold.out"
read -r _ held _ refused _ other < <(tail -1 "$T_DIR/hold.out")
expect_eq "the holder keeps 128 connections" "$held" 128
expect_eq "the other 936 are refused as too many from this process" "$refused" 936
lines=$(grep -c 'too many connections from this process' "$T_DIR/agent.log")
if [ "$lines" -ge 1 ] && [ "$lines" -le 2 ]; then pass "refusals logged rate-limited ($lines lines for 936)"
else fail "refusals logged rate-limited" "$lines lines"; fi
check "the agent is still alive" kill -0 "$AGENT_PID"
finish
