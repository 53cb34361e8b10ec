#!/bin/bash
# SPDX-License-Identifier: MIT
# test_abuse_small.sh - the smaller promises:
# - no signatures for later: a client timestamp 10 s ahead is refused, 4 s
#   ahead is signed; --max-skew above 3600 is refused at start with a line
#   naming the option;
# - oauth_ parameters are refused in any letter case (query and form);
# - Sign returns `url`, the exact normalised URL it signed (escapes'
#   hex upper-cased, host lower-cased), and `tba header --json` shows it;
#   the signature verifies (python3-oauthlib) for that URL;
# - %00 is refused in the path as in the query;
# - a PIN file others can read gets a warning line (the agent still starts);
# - --lock-after 3: the agent locks itself after 3 s without a request
#   (Pings do not count), says so in its log, and 'tba unlock' unlocks it.
. "$(dirname "$0")/lib.sh"
HERE=$TBA_SRC/tests/integration
REQ() { $PY "$HERE/abuse_req.py" "$TBA_AGENT_SOCK" "$@"; }
HOST=api.small.example.com
sign_params() { echo "{\"profile\":\"sm\",\"method\":\"GET\",\"url\":\"$1\"${2:+,$2}}"; }

new_token abuse-small
check "import an oauth1 profile" import_profile sm 'small cs' 'small ts' --kind oauth1 \
	--consumer-key ck-sm --token-id tok-sm --allow-host "$HOST"
cp "$TOKEN_PIN_FILE" "$T_DIR/pin-open"
chmod 644 "$T_DIR/pin-open"
TBA_TOKEN="pkcs11:token=abuse-small?module-path=$SOFTHSM_MODULE&pin-source=file:$T_DIR/pin-open" \
	start_agent || { fail "agent starts"; finish; }
expect_grep "a PIN file others can read: warned" 'PIN file .*pin-open is accessible to others.*chmod 600' "$T_DIR/agent.log"

now=$(date +%s)
# (Python starts between taking "now" and the request: ahead only shrinks on the way.)
expect_grep "a timestamp 10 s ahead is refused" '^ERR PolicyDenied .*ahead' \
	<(REQ Sign "$(sign_params "https://$HOST/t" "\"timestamp\":$((now + 10))")")
expect_grep "a timestamp 4 s ahead is signed" '^OK ' \
	<(REQ Sign "$(sign_params "https://$HOST/t" "\"timestamp\":$((now + 4))")")
expect_grep "a timestamp 250 s old is signed (default --max-skew 300)" '^OK ' \
	<(REQ Sign "$(sign_params "https://$HOST/t" "\"timestamp\":$((now - 250))")")
expect_rc "--max-skew 3601 is refused at start" 64 "$TBA_AGENT" -f --max-skew 3601 --socket "$T_DIR/x.sock"
expect_grep "... naming the option" '^tba-agent: --max-skew wants seconds, 0 to 3600, not .3601.' "$T_DIR/err"

for q in 'OAUTH_nonce=x' 'Oauth_Token=y' 'oauth_timestamp=1'; do
	expect_grep "query parameter $q refused" '^ERR PolicyDenied .*not allowed' \
		<(REQ Sign "$(sign_params "https://$HOST/p?$q")")
done
expect_grep "form parameter OAuth_Signature refused" '^ERR PolicyDenied .*not allowed' \
	<(REQ Sign "$(sign_params "https://$HOST/p" '"form":[["OAuth_Signature","x"]]')")
expect_grep "%00 in the path refused" '^ERR InvalidRequest .*%00' <(REQ Sign "$(sign_params "https://$HOST/a%00b")")
expect_grep "%00 in the query refused" '^ERR InvalidRequest .*%00' <(REQ Sign "$(sign_params "https://$HOST/a?b=%00")")

expect_rc "tba header --json" 0 "$TBA" header sm GET "https://API.Small.example.com/a%2fb/c%7e?x=%7e&y=a+b" --json
cp "$T_DIR/out" "$T_DIR/header.json"
$PY - "$T_DIR/header.json" <<'PYEOF' >"$T_DIR/url.out" 2>&1
import json, re, sys, urllib.parse
from oauthlib import oauth1
rep = json.load(open(sys.argv[1]))
url = rep["url"]
assert url == "https://api.small.example.com/a%2Fb/c%7E?x=~&y=a%20b", url
c = oauth1.Client("ck-sm", client_secret="small cs", resource_owner_key="tok-sm",
                  resource_owner_secret="small ts", signature_method=oauth1.SIGNATURE_HMAC_SHA256,
                  nonce=rep["nonce"], timestamp=str(rep["timestamp"]))
_, h, _ = c.sign(url, http_method="GET")
want = urllib.parse.unquote(re.search(r'oauth_signature="([^"]*)"', h["Authorization"]).group(1))
assert rep["signature"] == want, (rep["signature"], want)
print("ok")
PYEOF
expect_eq "Sign returns the normalised url, and oauthlib agrees for it" "$(tail -1 "$T_DIR/url.out")" ok
stop_agent

start_agent --lock-after 3 || { fail "agent starts with --lock-after 3"; finish; }
expect_grep "--lock-after: signs at first" '^OK ' <(REQ Sign "$(sign_params "https://$HOST/l")")
for _ in 1 2 3 4 5 6; do REQ Ping >/dev/null; sleep 0.8; done  # > 4.8 s: checked once a second
expect_grep "--lock-after 3: locked after 3 s without a request, Pings notwithstanding" '^ERR Locked ' \
	<(REQ Sign "$(sign_params "https://$HOST/l")")
expect_grep "... and logged" 'no request for [0-9]+ s: locked \(--lock-after 3\)' "$T_DIR/agent.log"
expect_grep "... and audited" 'op=Lock .*reason="--lock-after"' "$T_DIR/agent.log"
expect_rc "tba unlock" 0 "$TBA" unlock <"$TOKEN_PIN_FILE"
expect_grep "signs again after unlock" '^OK ' <(REQ Sign "$(sign_params "https://$HOST/l")")
kept=0
for _ in 1 2 3 4 5; do
	REQ Sign "$(sign_params "https://$HOST/l")" | grep -q '^OK ' && kept=$((kept + 1))
	sleep 0.5
done
expect_eq "requests every 0.5 s (plus Python's start-up) keep it unlocked" "$kept" 5
finish
