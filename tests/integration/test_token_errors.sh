#!/bin/bash
# SPDX-License-Identifier: MIT
# test_token_errors.sh - tba import / keys / delete refuse bad input and
# token errors with one stderr line and the right exit code, and leave the
# token as it was: after every failure the existing profile still signs the
# same (checked by check_key.py, an independent PyKCS11 client).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

new_token tba-err
LABEL=tba-err
CHECK="$PY $TBA_SRC/tests/integration/check_key.py"
FAULTMOD=$TBA_BUILD/tests/libtbafault.so
GOOD_URI=$TBA_TOKEN

prod_ok() {
	printf '%s\n%s\n' "$ORACLE_CS" "$ORACLE_TS" |
		$CHECK "$SOFTHSM_MODULE" "$LABEL" "$TOKEN_PIN_FILE" prod >"$T_DIR/ck" 2>&1 &&
		grep -qx 'key ok' "$T_DIR/ck" &&
		[ "$($CHECK --count "$SOFTHSM_MODULE" "$LABEL" "$TOKEN_PIN_FILE" prod)" == "1 1" ]
}
absent() { [ "$($CHECK --count "$SOFTHSM_MODULE" "$LABEL" "$TOKEN_PIN_FILE" "$1")" == "0 0" ]; }

# refused NAME RC PATTERN CMD...: CMD exits RC with one stderr line matching
# PATTERN, and prod is untouched afterwards.
refused() {
	local n=$1 rc=$2 pat=$3
	shift 3
	expect_rc "$n: exit $rc" "$rc" "$@"
	expect_eq "$n: one stderr line" "$(wc -l <"$T_DIR/err")" 1
	expect_grep "$n: message" "$pat" "$T_DIR/err"
	check "$n: prod unchanged" prod_ok
}
imp() { printf "$1" | "$TBA" import "${@:2}"; }
NS=(--account 1234567 --consumer-key ck --token-id tk)

expect_rc "setup: import prod" 0 import_profile prod "$ORACLE_CS" "$ORACLE_TS" \
	--account 1234567_SB1 --consumer-key "$ORACLE_CK" --token-id "$ORACLE_TOKEN"
check "setup: prod signs" prod_ok

# Secrets on stdin.
refused "one secret line" 1 'one line' imp 'cs\n' p2 "${NS[@]}"
refused "no stdin" 1 'no secrets' imp '' p2 "${NS[@]}"
refused "empty consumer secret" 1 'consumer secret is empty' imp '\nts\n' p2 "${NS[@]}"
refused "empty token secret" 1 'token secret is empty' imp 'cs\n\n' p2 "${NS[@]}"
refused "three lines" 1 'more than two lines' imp 'cs\nts\nextra\n' p2 "${NS[@]}"
check "p2 never created" absent p2
check "secrets are not echoed in errors" bash -c "! grep -q 'extra' '$T_DIR/err'"
expect_rc "trailing blank line is fine" 0 imp 'cs\nts\n\n' p3 "${NS[@]}"
check "p3 created" bash -c "[ \"\$($CHECK --count $SOFTHSM_MODULE $LABEL $TOKEN_PIN_FILE p3)\" == '1 1' ]"

# Command line (checked before the token or stdin is touched: exit 64).
refused "profile name with a space" 64 'bad profile name' imp 'a\nb\n' 'bad name' "${NS[@]}"
refused "profile name with a slash" 64 'bad profile name' imp 'a\nb\n' 'x/y' "${NS[@]}"
refused "profile name of 33 characters" 64 'bad profile name' imp 'a\nb\n' \
	abcdefghijklmnopqrstuvwxyz0123456 "${NS[@]}"
refused "account with a space" 64 'bad --account' imp 'a\nb\n' p2 --account '123 4' --consumer-key ck --token-id tk
refused "account with punctuation" 64 'bad --account' imp 'a\nb\n' p2 --account '1234-5' --consumer-key ck --token-id tk
refused "account with two underscores" 64 'bad --account' imp 'a\nb\n' p2 --account '12_34_5' --consumer-key ck --token-id tk
refused "empty account" 64 'bad --account' imp 'a\nb\n' p2 --account '' --consumer-key ck --token-id tk
refused "no account" 64 'give --account' imp 'a\nb\n' p2 --consumer-key ck --token-id tk
refused "no consumer key" 64 'give --consumer-key' imp 'a\nb\n' p2 --account 1234567 --token-id tk
refused "consumer key with a space" 64 'give --consumer-key' imp 'a\nb\n' p2 --account 1234567 --consumer-key 'c k' --token-id tk
refused "no token ID" 64 'give --token-id' imp 'a\nb\n' p2 --account 1234567 --consumer-key ck
refused "oauth1 without --allow-host" 64 'at least one --allow-host' imp 'a\nb\n' p2 --kind oauth1 --consumer-key ck --token-id tk
refused "unknown kind" 64 'bad --kind' imp 'a\nb\n' p2 --kind soap "${NS[@]}"
refused "unknown signature method" 64 'bad --signature-method' imp 'a\nb\n' p2 --signature-method HMAC-MD5 "${NS[@]}"
refused "bad host" 64 'bad --allow-host' imp 'a\nb\n' p2 --allow-host 'https://x.example.com/' "${NS[@]}"
refused "realm that differs from the account" 64 'drop --realm' imp 'a\nb\n' p2 --realm OTHER "${NS[@]}"
refused "unknown option" 64 'unknown option --bogus' imp 'a\nb\n' p2 --bogus "${NS[@]}"
refused "two profile names" 64 'exactly one PROFILE' imp 'a\nb\n' p2 p4 "${NS[@]}"
refused "delete with a bad name" 64 'bad profile name' "$TBA" delete '../x'
refused "keys with an argument" 64 'unexpected argument' "$TBA" keys extra
(unset TBA_TOKEN; refused "no token named" 64 'name the token' imp 'a\nb\n' p2 "${NS[@]}")
# A usage error must not consume stdin: the secrets stay unread.
printf 'a\nb\n' >"$T_DIR/sec"
("$TBA" import 'bad name' "${NS[@]}"; cat) <"$T_DIR/sec" >"$T_DIR/left" 2>/dev/null
expect_eq "usage error leaves stdin unread" "$(cat "$T_DIR/left")" "$(printf 'a\nb')"

# The token.
MOD=module-path=$SOFTHSM_MODULE
PINSRC=pin-source=file:$TOKEN_PIN_FILE
refused "unknown token label" 1 'no token matches pkcs11:token=nope.*tba-err' \
	imp 'a\nb\n' p2 "${NS[@]}" --token "pkcs11:token=nope?$MOD&$PINSRC"
refused "missing module path" 1 'cannot load PKCS#11 module /nonexistent/mod.so' \
	imp 'a\nb\n' p2 "${NS[@]}" --token "pkcs11:token=$LABEL?module-path=/nonexistent/mod.so&$PINSRC"
refused "unknown module name" 1 "no PKCS#11 module named 'nomod'" \
	imp 'a\nb\n' p2 "${NS[@]}" --token "pkcs11:token=$LABEL?module-name=nomod&$PINSRC"
refused "URI without a module" 64 'module-name= or module-path=' \
	imp 'a\nb\n' p2 "${NS[@]}" --token "pkcs11:token=$LABEL?$PINSRC"
refused "not a pkcs11 URI" 64 'bad token URI' \
	imp 'a\nb\n' p2 "${NS[@]}" --token "file:///x"
refused "missing PIN file" 1 'cannot open the PIN file' \
	imp 'a\nb\n' p2 "${NS[@]}" --token "pkcs11:token=$LABEL?$MOD&pin-source=file:$T_DIR/nopin"
# No PIN in the URI and no terminal (setsid detaches from any controlling tty).
refused "no PIN and no terminal" 64 'gives no PIN' setsid -w bash -c \
	"printf 'a\nb\n' | '$TBA' import p2 --account 1234567 --consumer-key ck --token-id tk --token 'pkcs11:token=$LABEL?$MOD'"

# Wrong PIN: one C_Login, counted through the fault module's call log.
if [ -f "$FAULTMOD" ]; then
	export TBA_FAULT_LOG=$T_DIR/calls
	: >"$TBA_FAULT_LOG"
	refused "wrong PIN" 1 'wrong PIN for token tba-err; not retried' \
		imp 'a\nb\n' p2 "${NS[@]}" --token "pkcs11:token=$LABEL?module-path=$FAULTMOD&pin-value=000000"
	expect_eq "wrong PIN: exactly one C_Login" "$(grep -c '^C_Login ' "$TBA_FAULT_LOG")" 1
	expect_eq "wrong PIN: it failed with CKR_PIN_INCORRECT" "$(grep '^C_Login ' "$TBA_FAULT_LOG")" "C_Login 0xa0"
	: >"$TBA_FAULT_LOG"
	echo 000000 >"$T_DIR/badpin"
	chmod 600 "$T_DIR/badpin"  # readable by others adds a warning line
	refused "wrong PIN from a file, keys" 1 'wrong PIN' \
		"$TBA" keys --token "pkcs11:token=$LABEL?module-path=$FAULTMOD&pin-source=file:$T_DIR/badpin"
	expect_eq "wrong PIN from a file: exactly one C_Login" "$(grep -c '^C_Login ' "$TBA_FAULT_LOG")" 1
	: >"$TBA_FAULT_LOG"
	refused "wrong PIN, replace" 1 'wrong PIN' imp 'x\ny\n' prod --replace \
		--account 1234567_SB1 --consumer-key ck --token-id tk \
		--token "pkcs11:token=$LABEL?module-path=$FAULTMOD&pin-value=000000"
	refused "wrong PIN, delete" 1 'wrong PIN' "$TBA" delete prod \
		--token "pkcs11:token=$LABEL?module-path=$FAULTMOD&pin-value=000000"

	# A replace whose verification fails (the token's C_Sign fails) keeps the old profile.
	export TBA_FAULT_FILE=$T_DIR/rules
	echo "C_Sign CKR_FUNCTION_FAILED 1" >"$TBA_FAULT_FILE"
	refused "replace whose check fails" 1 'cannot compute the HMAC' imp 'x\ny\n' prod --replace \
		--account 1234567_SB1 --consumer-key ck --token-id tk \
		--token "pkcs11:token=$LABEL?module-path=$FAULTMOD&$PINSRC"
	echo "C_Sign CKR_FUNCTION_FAILED 1" >"$TBA_FAULT_FILE"
	refused "new import whose check fails" 1 'cannot compute the HMAC' imp 'x\ny\n' p5 "${NS[@]}" \
		--token "pkcs11:token=$LABEL?module-path=$FAULTMOD&$PINSRC"
	check "failed import left nothing behind" absent p5
	unset TBA_FAULT_FILE TBA_FAULT_LOG
else
	fail "fault module not built" "$FAULTMOD"
fi

# Deleting a profile that is not there.
refused "delete unknown profile" 1 'no profile nope' "$TBA" delete nope --token "$GOOD_URI"
check "p2 never created" absent p2

finish
