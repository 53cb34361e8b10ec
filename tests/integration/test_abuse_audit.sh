#!/bin/bash
# SPDX-License-Identifier: MIT
# test_abuse_audit.sh - no signature without its audit line.
# - an --audit-log that cannot be written (/dev/full: every write fails with
#   ENOSPC) gets AuditFailed for Sign, Passport and an M2M AccessToken, no
#   signature or token in the reply, and an error line in the agent's log;
# - a field of the text audit line cannot forge another (a profile name
#   holding '" result="ok' stays inside its quotes);
# - with stderr the journal (JOURNAL_STREAM names it), log lines carry
#   priority prefixes: <6> information, <3> errors.
. "$(dirname "$0")/lib.sh"
HERE=$TBA_SRC/tests/integration
REQ() { $PY "$HERE/abuse_req.py" "$TBA_AGENT_SOCK" "$@"; }
SIGN='{"profile":"aud","method":"GET","url":"https://api.example.com/x"}'

new_token abuse-audit
check "import an oauth1 profile" import_profile aud 'cs' 'ts' --kind oauth1 \
	--consumer-key ck-aud --token-id tok-aud --allow-host api.example.com --account 77

# An audit log that cannot take a line.
start_agent --audit-log /dev/full || { fail "agent starts with --audit-log /dev/full"; finish; }
got=$(REQ Sign "$SIGN")
expect_grep "full audit log: Sign refused with AuditFailed" '^ERR AuditFailed ' <(echo "$got")
if echo "$got" | grep -q signature; then fail "full audit log: no signature in the reply" "$got"; else pass "full audit log: no signature in the reply"; fi
got=$(REQ Passport '{"profile":"aud"}')
expect_grep "full audit log: Passport refused with AuditFailed" '^ERR AuditFailed ' <(echo "$got")
expect_rc "full audit log: tba header fails" 1 "$TBA" header aud GET https://api.example.com/x
expect_grep "tba header says the audit failed" 'audit log' "$T_DIR/err"
expect_grep "the agent logs why" 'audit failed.*No space left on device' "$T_DIR/agent.log"
got=$(REQ Ping)
expect_grep "Ping (not audited) still answered" '^OK ' <(echo "$got")
stop_agent

# An M2M access token is not handed out unaudited either.
. "$TBA_SRC/tests/integration/standin.sh"
. "$TBA_SRC/tests/integration/m2m_lib.sh"
if m2m_profile m2aud ES256 client-aud CERT-aud && start_standin --m2m "$M2M_FILE"; then
	start_agent "${NS[@]}" --audit-log /dev/full || { fail "agent starts for M2M"; finish; }
	got=$(REQ AccessToken '{"profile":"m2aud"}')
	expect_grep "full audit log: AccessToken refused with AuditFailed" '^ERR AuditFailed ' <(echo "$got")
	if echo "$got" | grep -q access_token; then fail "full audit log: no access token in the reply" "$got"
	else pass "full audit log: no access token in the reply"; fi
	stop_agent
else
	fail "an M2M profile and the stand-in for the AccessToken case"
fi

# Text line fields are quoted: no forgery; journald priority prefixes.
: >"$T_DIR/agent.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T_DIR/agent.log") start_agent --audit-log "$T_DIR/audit.jsonl" ||
	{ fail "agent starts"; finish; }
got=$(REQ Sign "$SIGN")
expect_grep "a good audit log: signed" '^OK .*"signature"' <(echo "$got")
REQ Sign '{"profile":"x\" result=\"ok\" uid=\"0","method":"GET","url":"https://api.example.com/x"}' >/dev/null
sleep 0.2
$PY - "$T_DIR/agent.log" <<'PYEOF' >"$T_DIR/forge.out" 2>&1
import shlex, sys
lines = [l for l in open(sys.argv[1]) if "audit: " in l and "op=Sign" in l]
forged = [l for l in lines if 'uid=' in l and 'x\\"' in l]
assert forged, "no audit line for the forged profile: %r" % lines
fields = shlex.split(forged[0].split("audit: ", 1)[1])
keys = [f.split("=", 1)[0] for f in fields[1:]]
assert len(keys) == len(set(keys)), "a field was forged: %r" % fields
kv = dict(f.split("=", 1) for f in fields[1:])
assert kv["profile"] == 'x" result="ok" uid="0', kv
assert kv["result"] == "ProfileNotFound", kv
print("ok")
PYEOF
expect_eq "a profile name cannot forge audit fields" "$(tail -1 "$T_DIR/forge.out")" ok
expect_grep "journal: audit lines at <6>" '^<6>tba-agent: audit: ' "$T_DIR/agent.log"
expect_grep "journal: start-up at <6>" '^<6>tba-agent: listening on' "$T_DIR/agent.log"
expect_grep "JSON audit line written" '"op":"Sign".*"result":"ok"' "$T_DIR/audit.jsonl"
finish
