#!/bin/bash
# SPDX-License-Identifier: MIT
# test_oauthlib_property.sh - libtba's OAuth 1.0a signatures against
# python3-oauthlib on hundreds of random requests (tests/tools/oauth_sign vs
# oauthlib.oauth1.Client), plus the pinned places where oauthlib and
# RFC 5849 disagree. No token or agent needed.
#
# TBA_PROPERTY_COUNT (default 400) and TBA_PROPERTY_SEED (default random,
# printed) reproduce a run.
. "$(dirname "$0")/lib.sh"

TOOL=$TBA_BUILD/tests/oauth_sign
[ -x "$TOOL" ] || { echo "missing $TOOL (build the tests first)" >&2; exit 1; }

"$PY" "$TBA_SRC/tests/integration/oauthlib_property.py" "$TOOL" \
	"${TBA_PROPERTY_COUNT:-400}" ${TBA_PROPERTY_SEED:+"$TBA_PROPERTY_SEED"} >"$T_DIR/prop" 2>&1
rc=$?
summary=$(tail -n 1 "$T_DIR/prop")
head -n -1 "$T_DIR/prop"
if [[ $summary =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
	T_PASS=${BASH_REMATCH[1]}
	T_FAIL=${BASH_REMATCH[2]}
else
	echo "$summary"
	fail "oauthlib_property.py ran to the end" "exit $rc"
fi
[ "$rc" -eq 0 ] || [ "$T_FAIL" -gt 0 ] || fail "oauthlib_property.py exit status" "exit $rc"
finish
