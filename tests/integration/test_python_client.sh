#!/bin/bash
# SPDX-License-Identifier: MIT
# test_python_client.sh - the Python client (python/tba_agent.py) with
# Debian's python3-requests against the NetSuite stand-in: every request's
# signature is verified there by python3-oauthlib (pyclient.py), and the
# module imports and works without requests.
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$TBA_SRC/tests/integration/standin.sh"

ACCOUNT=1234567_SB1
read -r REST RESTLETS APP <<<"$(ns_hosts "$ACCOUNT")"
CK=$(rand_hex) CS=$(rand_hex) TK=$(rand_hex) TS=$(rand_hex)
OCK=$(rand_hex) OCS=$(rand_hex) OTK=$(rand_hex) OTS=$(rand_hex)
API=api.example.test
STANDIN_EXTRA_HOSTS="evil.example.com"

new_token
check "import netsuite profile" import_profile prod "$CS" "$TS" \
	--account "$ACCOUNT" --consumer-key "$CK" --token-id "$CK-$TK" >/dev/null
check "import oauth1 profile" import_profile o1 "$OCS" "$OTS" \
	--kind oauth1 --consumer-key "$OCK" --token-id "$OTK" --allow-host "$API" >/dev/null
standin_cred "$ACCOUNT" "$CK" "$CS" "$CK-$TK" "$TS" $REST $RESTLETS $APP
standin_cred "" "$OCK" "$OCS" "$OTK" "$OTS" "$API"
start_agent || exit 1
start_standin || exit 1

"$PY" -c 'import requests' 2>/dev/null || { fail "python3-requests is installed"; finish; }
"$PY" "$TBA_SRC/tests/integration/pyclient.py" "$TBA_SRC" "$ACCOUNT" prod o1 "$API" \
	"$CS" "$TS" "$CK" "$CK-$TK" >"$T_DIR/py.out" 2>"$T_DIR/py.err"
echo "# pyclient.py exit $?"
while IFS= read -r line; do
	case $line in
	"ok - "*) pass "${line#ok - }" ;;
	"not ok - "*) fail "${line#not ok - }" ;;
	esac
done <"$T_DIR/py.out"
[ -s "$T_DIR/py.err" ] && { fail "pyclient.py ran cleanly" "$(tail -n 20 "$T_DIR/py.err")"; }
expect_grep "pyclient.py reached its end" '^0 failed$' "$T_DIR/py.out"

# Standard library only: with requests unimportable the module still
# loads, Agent works, and Auth signs anything shaped like a request.
cat >"$T_DIR/noreq.py" <<'PY'
import sys
sys.modules["requests"] = None  # import requests now raises ImportError
sys.path.insert(0, sys.argv[1] + "/python")
import tba_agent
class R:
    method = "GET"
    url = "https://" + sys.argv[2] + "/services/rest/record/v1/customer"
    headers = {}
    body = None
r = tba_agent.Auth("prod")(R())
print(tba_agent.Agent().ping(), r.headers["Authorization"][:12])
PY
expect_rc "tba_agent without requests" 0 "$PY" "$T_DIR/noreq.py" "$TBA_SRC" "$REST"
expect_grep "without requests: Agent and Auth work" '^[0-9.]+ OAuth realm=' "$T_DIR/out"
finish
