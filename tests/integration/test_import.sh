#!/bin/bash
# SPDX-License-Identifier: MIT
# test_import.sh - tba import / keys / delete against a throwaway SoftHSM token.
# Every key is checked by check_key.py, an independent PKCS#11 client
# (PyKCS11) that compares C_Sign with Python's hmac module.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

new_token tba-imp
LABEL=tba-imp
CHECK="$PY $TBA_SRC/tests/integration/check_key.py"

# key_ok NAME CS TS [METHOD]: the profile's key signs like HMAC(enc(cs)&enc(ts)).
key_ok() {
	local name=$1 cs=$2 ts=$3
	shift 3
	printf '%s\n%s\n' "$cs" "$ts" | $CHECK "$SOFTHSM_MODULE" "$LABEL" "$TOKEN_PIN_FILE" "$name" "$@" \
		>"$T_DIR/ck" 2>&1
	grep -qx 'key ok' "$T_DIR/ck"
}
counts() { $CHECK --count "$SOFTHSM_MODULE" "$LABEL" "$TOKEN_PIN_FILE" "$1" 2>&1; }

# 1. NetSuite profile with Oracle's published credentials.
expect_rc "import netsuite profile" 0 import_profile prod "$ORACLE_CS" "$ORACLE_TS" \
	--account 1234567_SB1 --consumer-key "$ORACLE_CK" --token-id "$ORACLE_TOKEN"
expect_eq "summary is one line" "$(wc -l <"$T_DIR/out")" 1
expect_grep "summary names profile, kind, account, method, token" \
	'^imported profile prod \(netsuite, account 1234567_SB1, HMAC-SHA256\) into token tba-imp; key verified$' "$T_DIR/out"
check "prod key: attributes and HMAC match Python" key_ok prod "$ORACLE_CS" "$ORACLE_TS"

# 2. Secrets with characters RFC 3986 encodes (and a UTF-8 one); options before the name.
CS2='a+b/c=d&e%f g~h.-_'
TS2='tok+/= &%sécret'
printf '%s\n%s\n' "$CS2" "$TS2" | "$TBA" import --account 7654321 --consumer-key ck2 \
	--token-id tk2 special2 >"$T_DIR/out" 2>"$T_DIR/err"
expect_eq "options before the profile name" "$?" 0
check "special key matches enc(cs)&enc(ts)" key_ok special2 "$CS2" "$TS2"

# 3. HMAC-SHA1 and HMAC-SHA512 profiles; a key shorter than the token minimum.
expect_rc "import HMAC-SHA1" 0 import_profile sha1 "$ORACLE_CS" "$ORACLE_TS" \
	--account 1234567 --consumer-key ck --token-id tk --signature-method HMAC-SHA1
check "sha1 key" key_ok sha1 "$ORACLE_CS" "$ORACLE_TS" HMAC-SHA1
expect_rc "import HMAC-SHA512" 0 import_profile sha512 "$ORACLE_CS" "$ORACLE_TS" \
	--account 1234567 --consumer-key ck --token-id tk --signature-method HMAC-SHA512
check "sha512 key" key_ok sha512 "$ORACLE_CS" "$ORACLE_TS" HMAC-SHA512
expect_rc "import short secrets" 0 import_profile short a b \
	--account 1234567 --consumer-key ck --token-id tk
check "short key (padded to the token's minimum) signs like 'a&b'" key_ok short a b
LONG=$(head -c 600 /dev/urandom | base64 -w0 | head -c 700)
expect_rc "import 700-byte secrets" 0 import_profile long "$LONG" "$LONG" \
	--account 1234567 --consumer-key ck --token-id tk --signature-method HMAC-SHA512
check "long key (hashed per RFC 2104)" key_ok long "$LONG" "$LONG" HMAC-SHA512

# 4. A generic OAuth 1.0a profile.
expect_rc "import oauth1" 0 import_profile other "$CS2" "$TS2" --kind oauth1 \
	--allow-host API.Example.com --allow-host api2.example.com --realm Example \
	--consumer-key ck3 --token-id tk3
expect_grep "oauth1 summary" '^imported profile other \(oauth1, hosts api.example.com,api2.example.com, HMAC-SHA256\)' "$T_DIR/out"
check "oauth1 key" key_ok other "$CS2" "$TS2"

# 5. Listing.
expect_rc "keys" 0 "$TBA" keys
expect_eq "keys: header and 8 profiles, sorted" \
	"$(awk 'NR>1 {print $1}' "$T_DIR/out" | tr '\n' ' ')" "long other prod sha1 sha512 short special2 "
expect_grep "keys: prod row" '^prod +netsuite +1234567_SB1 +HMAC-SHA256 .*1234567-sb1\.suitetalk\.api\.netsuite\.com' "$T_DIR/out"
expect_rc "keys --json" 0 "$TBA" keys --json
cat >"$T_DIR/keys.py" <<'EOF'
import json, sys
v = json.load(open(sys.argv[1]))
by = {p["name"]: p for p in v}
p = by["prod"]
assert p["kind"] == "netsuite" and p["account"] == "1234567_SB1" and p["realm"] == "1234567_SB1", p
assert p["signature_method"] == "HMAC-SHA256" and p["consumer_key"] == sys.argv[2], p
assert p["hosts"] == ["1234567-sb1.suitetalk.api.netsuite.com", "1234567-sb1.restlets.api.netsuite.com",
                      "1234567-sb1.app.netsuite.com"], p["hosts"]
assert isinstance(p["created"], (int, float)) and p["created"] > 1.6e9, p
o = by["other"]
assert o["kind"] == "oauth1" and o["realm"] == "Example" and o["hosts"] == ["api.example.com", "api2.example.com"], o
assert by["sha1"]["signature_method"] == "HMAC-SHA1" and by["sha512"]["signature_method"] == "HMAC-SHA512"
assert not any("secret" in k for q in v for k in q), "a secret field"
EOF
check "keys --json content" $PY "$T_DIR/keys.py" "$T_DIR/out" "$ORACLE_CK"
check "keys --json shows no secret" bash -c "! grep -qF -e '$ORACLE_CS' -e '$ORACLE_TS' '$T_DIR/out'"
expect_rc "keys works with module-name=softhsm2 from p11-kit's registry" 0 \
	"$TBA" keys --token "pkcs11:token=$LABEL?module-name=softhsm2&pin-source=$TOKEN_PIN_FILE"

# 6. Metadata: JSON with the key's ID and no secret; no secret in the token's files.
$CHECK --meta "$SOFTHSM_MODULE" "$LABEL" "$TOKEN_PIN_FILE" prod >"$T_DIR/meta" 2>&1
expect_grep "metadata names the key by key_id" '"key_id":"[0-9a-f]{32}"' "$T_DIR/meta"
check "metadata holds no secret" bash -c "! grep -qF -e '$ORACLE_CS' -e '$ORACLE_TS' '$T_DIR/meta'"
check "token files hold no secret as text" \
	bash -c "! grep -rqF -e '$ORACLE_CS' -e '$ORACLE_TS' -e 'tok+/= &' '$TOKEN_DIR/tokens'"

# 7. Existing profile refused; --replace swaps only with verified new credentials.
expect_rc "import over an existing profile is refused" 1 import_profile prod x y \
	--account 1234567_SB1 --consumer-key ck --token-id tk
expect_grep "refusal says --replace" 'profile prod exists.*--replace' "$T_DIR/err"
check "prod still has the old key" key_ok prod "$ORACLE_CS" "$ORACLE_TS"
$CHECK --add-orphan "$SOFTHSM_MODULE" "$LABEL" "$TOKEN_PIN_FILE" prod
expect_eq "an orphan key with label prod exists" "$(counts prod)" "2 1"
check "the orphan is never used" key_ok prod "$ORACLE_CS" "$ORACLE_TS"
expect_rc "import --replace" 0 import_profile prod "new cs" "new ts" \
	--account 1234567_SB1 --consumer-key ck-new --token-id tk-new --replace
check "prod signs with the new key" key_ok prod "new cs" "new ts"
check "prod no longer signs with the old key" bash -c "! printf '%s\n%s\n' '$ORACLE_CS' '$ORACLE_TS' | $CHECK $SOFTHSM_MODULE $LABEL $TOKEN_PIN_FILE prod >/dev/null"
expect_eq "replace left one key and one metadata object" "$(counts prod)" "1 1"
"$TBA" keys --json >"$T_DIR/out"
check "keys shows the new consumer key" grep -q '"consumer_key":"ck-new"' "$T_DIR/out"

# 8. Delete.
expect_rc "delete" 0 "$TBA" delete sha1
expect_grep "delete says what it did" '^deleted profile sha1 from token tba-imp$' "$T_DIR/out"
expect_eq "delete removed key and metadata" "$(counts sha1)" "0 0"
"$TBA" keys >"$T_DIR/out"
check "keys no longer lists sha1" bash -c "! grep -q '^sha1 ' '$T_DIR/out'"
expect_rc "delete again fails" 1 "$TBA" delete sha1
expect_grep "delete of a missing profile says so" 'no profile sha1' "$T_DIR/err"
check "other profiles untouched by delete" key_ok sha512 "$ORACLE_CS" "$ORACLE_TS" HMAC-SHA512

# 9. --help texts.
expect_rc "import --help" 0 "$TBA" import --help
expect_grep "import --help says where the values come from" 'Manage Integrations' "$T_DIR/out"
expect_grep "import --help names Access Tokens" 'Access Tokens' "$T_DIR/out"
expect_rc "keys --help" 0 "$TBA" keys --help
expect_rc "delete --help" 0 "$TBA" delete --help

# 10. The URI's PIN forms: pin-value= and a plain pin-source path; --token beats TBA_TOKEN.
PIN=$(head -n1 "$TOKEN_PIN_FILE")
expect_rc "pin-value=" 0 "$TBA" keys --token "pkcs11:token=$LABEL?module-path=$SOFTHSM_MODULE&pin-value=$PIN"
expect_rc "pin-source= without file:" 0 "$TBA" keys --token "pkcs11:token=$LABEL?module-path=$SOFTHSM_MODULE&pin-source=$TOKEN_PIN_FILE"
expect_rc "--token wins over TBA_TOKEN" 1 "$TBA" keys --token "pkcs11:token=nope?module-path=$SOFTHSM_MODULE&pin-source=$TOKEN_PIN_FILE"

# 11. On a terminal: secrets and the PIN are prompted for with echo off.
PTY="$PY $TBA_SRC/tests/integration/pty_run.py"
printf 'tty consumer secret\ntty token secret\n%s\n' "$PIN" |
	$PTY 'Consumer secret: ' 'Token secret: ' "PIN for token $LABEL: " -- "$TBA" import tty \
	--account 1234567 --consumer-key ck --token-id tk \
	--token "pkcs11:token=$LABEL?module-path=$SOFTHSM_MODULE" >"$T_DIR/pty" 2>&1
expect_grep "terminal import succeeds" '^exit 0' "$T_DIR/pty"
expect_grep "terminal import prompted for the PIN" "PIN for token $LABEL: " "$T_DIR/pty"
expect_grep "nothing typed was echoed" '^not echoed$' "$T_DIR/pty"
check "terminal-imported key" key_ok tty "tty consumer secret" "tty token secret"

finish
