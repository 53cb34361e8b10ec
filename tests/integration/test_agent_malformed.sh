#!/bin/bash
# SPDX-License-Identifier: MIT
# test_agent_malformed.sh - hostile and malformed clients: random bytes,
# broken JSON, wrong types, deep nesting, oversize and half messages, unknown
# methods and profiles, policy violations, bad nonces and timestamps, too many
# connections. Each gets an error reply or a closed connection; another
# connection keeps getting correct signatures; the agent survives.
. "$(dirname "$0")/lib.sh"
HERE=$TBA_SRC/tests/integration

CS='mal&cs %é'
TS='mal+ts'
new_token agent-malformed
check "import an oauth1 profile" import_profile mal "$CS" "$TS" --kind oauth1 \
	--consumer-key ck-mal --token-id tok-mal --allow-host api.example.com
start_agent || { fail "agent starts"; finish; }
pass "agent starts"

$PY "$HERE/agent_malformed.py" "$TBA_AGENT_SOCK" mal "$CS" "$TS" >"$T_DIR/mal.out" 2>"$T_DIR/mal.err"
rc=$?
grep '^not ok' "$T_DIR/mal.out" | head -30
tail -1 "$T_DIR/mal.out"
[ -s "$T_DIR/mal.err" ] && head -20 "$T_DIR/mal.err"
expect_eq "every malformed request was refused cleanly" "$rc" 0
check "the agent is still alive" kill -0 "$AGENT_PID"
expect_rc "and still signs" 0 "$TBA" header mal GET https://api.example.com/after
expect_grep "refusals are audited" 'op=Sign profile="mal" .*result="PolicyDenied"' "$T_DIR/agent.log"
if grep -qE 'oauth_signature|mal&cs|mal\+ts' "$T_DIR/agent.log"; then
	fail "the agent's log holds no signature or secret" "$(grep -m1 -E 'oauth_signature|mal&cs' "$T_DIR/agent.log")"
else
	pass "the agent's log holds no signature or secret"
fi
finish
