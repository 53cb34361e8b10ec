#!/bin/bash
# SPDX-License-Identifier: MIT
# test_abuse_conns.sh - one process's connections cannot starve the others.
# A process opens 1000 idle connections and 64 that trickle a byte a second
# and holds them; meanwhile another client (another process) signs 20 times,
# each on a fresh connection, each served within 0.5 s and signed right. The
# holder is told "too many connections from this process" past its share
# (128), and those refusals are logged rate-limited (a line per 10 s, not one
# per refusal).
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
# Timed inside one Python process (its start-up is not the agent's delay).
$PY - "$TBA_AGENT_SOCK" "$HERE" "$CS" "$TS" <<'PYEOF' >"$T_DIR/other.out" 2>&1
import sys, time
sys.path.insert(0, sys.argv[2])
import tbaclient
sock, cs, ts = sys.argv[1], sys.argv[3], sys.argv[4]
creds = tbaclient.Creds("conns", "ck-conns", cs, "tok-conns", ts)
wrong, slowest = 0, 0.0
for i in range(20):
    url = f"https://1234567.suitetalk.api.netsuite.com/services/rest/record/v1/employee/{i}"
    t0 = time.monotonic()
    try:
        with tbaclient.Agent(sock, timeout=30) as c:
            reply = c.sign("conns", "GET", url)
        err = tbaclient.check_sign_reply(creds, "GET", url, None, reply)
    except Exception as e:
        err = repr(e)
    slowest = max(slowest, time.monotonic() - t0)
    if err is not None:
        wrong += 1
        print("wrong:", err)
print(f"wrong {wrong} slowest_ms {slowest * 1000:.0f}")
PYEOF
read -r _ wrong _ max < <(tail -1 "$T_DIR/other.out")
expect_eq "20 signatures from another process while the holder holds on: all right" "$wrong" 0
if [ "${max:-99999}" -lt 500 ]; then pass "... each on a fresh connection within 0.5 s (slowest $max ms)"
else fail "... each on a fresh connection within 0.5 s" "slowest ${max:-?} ms; $(head -3 "$T_DIR/other.out")"; fi
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
