#!/bin/bash
# SPDX-License-Identifier: MIT
# test_m2m.sh - tba m2m new / cert-id / cert / rotate, and keys / delete on M2M
# profiles, against a throwaway SoftHSM token. Every key pair and certificate
# is checked by check_m2m.py: PyKCS11 reads the token, python3-cryptography
# parses the certificate and verifies its self-signature.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

new_token tba-m2m
LABEL=tba-m2m
CHECK="$PY $TBA_SRC/tests/integration/check_m2m.py"

m2m_ok() { # m2m_ok PROFILE PEM [--next] [--bits N]
	$CHECK "$SOFTHSM_MODULE" "$LABEL" "$TOKEN_PIN_FILE" "$@" >"$T_DIR/ck" 2>&1
	grep -qx 'm2m ok' "$T_DIR/ck" || { cat "$T_DIR/ck" >&2; return 1; }
}
counts() { $CHECK --count "$SOFTHSM_MODULE" "$LABEL" "$TOKEN_PIN_FILE" "$1" 2>&1; }
count_id() { $CHECK --count-id "$SOFTHSM_MODULE" "$LABEL" "$TOKEN_PIN_FILE" "$1" 2>&1; }
meta() { # meta PROFILE FIELD: one field of the profile's metadata (via tba keys --json)
	"$TBA" keys --json 2>/dev/null | $PY -c 'import json,sys
for p in json.load(sys.stdin):
    if p["name"] == sys.argv[1]: print(p.get(sys.argv[2], ""))' "$1" "$2"
}
key_id() { # the CKA_ID the metadata names (read by PyKCS11, not by tba)
	$PY - "$SOFTHSM_MODULE" "$LABEL" "$TOKEN_PIN_FILE" "$1" "${2:-key_id}" <<'EOF'
import json, sys, PyKCS11
lib = PyKCS11.PyKCS11Lib(); lib.load(sys.argv[1])
slot = [s for s in lib.getSlotList(tokenPresent=True)
        if lib.getTokenInfo(s).label.rstrip(" \0") == sys.argv[2]][0]
s = lib.openSession(slot)
s.login(open(sys.argv[3]).readline().strip())
o = s.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_DATA), (PyKCS11.CKA_LABEL, sys.argv[4])])
print(json.loads(bytes(s.getAttributeValue(o[0], [PyKCS11.CKA_VALUE], True)[0]))[sys.argv[5]])
EOF
}
one_line() { expect_eq "$1: one line on stderr" "$(wc -l <"$T_DIR/err")" 1; }

# 1. Every algorithm: key pair born in the token, certificate checked independently.
for alg in ES256 ES384 ES512 PS256 PS384 PS512; do
	expect_rc "m2m new --alg $alg" 0 "$TBA" m2m new "p-$alg" --account 1234567_SB1 \
		--client-id "cid-$alg" --alg "$alg" --out "$T_DIR/$alg.pem"
	expect_grep "$alg: says where to upload" 'OAuth 2.0 Client Credentials \(M2M\) Setup' "$T_DIR/err"
	expect_grep "$alg: says what to run next" "tba m2m cert-id p-$alg CERTIFICATE_ID" "$T_DIR/err"
	check "$alg: token attributes and certificate (PyKCS11 + cryptography)" m2m_ok "p-$alg" "$T_DIR/$alg.pem"
	expect_eq "$alg: one key pair, one certificate, no HMAC key, one metadata object" \
		"$(counts "p-$alg")" "1 1 1 0 1"
done
expect_rc "RSA 4096 with --rsa-bits" 0 "$TBA" m2m new p-4096 --account 1234567 --client-id c4 \
	--alg PS256 --rsa-bits 4096 --days 30 --out "$T_DIR/4096.pem"
check "RSA 4096 certificate" m2m_ok p-4096 "$T_DIR/4096.pem" --bits 4096

# 2. PEM on stdout without --out; cert prints it again; --subject; --scope normalised.
"$TBA" m2m new stdout --client-id c1 --account 7654321 --subject 'Acme sync' \
	--scope 'restlets, rest_webservices' >"$T_DIR/stdout.pem" 2>"$T_DIR/err"
expect_eq "new without --out" "$?" 0
expect_grep "stdout holds only the PEM" '^-----BEGIN CERTIFICATE-----$' "$T_DIR/stdout.pem"
expect_eq "stdout: nothing but the certificate" "$(grep -vcE '^[A-Za-z0-9+/= -]+$' "$T_DIR/stdout.pem")" 0
check "stdout certificate" m2m_ok stdout "$T_DIR/stdout.pem"
expect_eq "subject is --subject" \
	"$($PY -c 'import sys; from cryptography import x509; print(x509.load_pem_x509_certificate(open(sys.argv[1],"rb").read()).subject.rfc4514_string())' "$T_DIR/stdout.pem")" \
	"CN=Acme sync"
expect_eq "scope stored in canonical order" "$(meta stdout scope)" "rest_webservices,restlets"
"$TBA" m2m cert stdout >"$T_DIR/again.pem" 2>"$T_DIR/err"
check "cert prints the same certificate" cmp -s "$T_DIR/stdout.pem" "$T_DIR/again.pem"

# 3. --replace: refused without it (nothing changes); with it the old objects go only after.
OLD=$(key_id p-ES256)
expect_rc "new over an existing profile is refused" 1 "$TBA" m2m new p-ES256 --account 1234567 \
	--client-id x --out "$T_DIR/x.pem"
one_line "exists"
expect_grep "exists: says --replace" 'exists.*--replace' "$T_DIR/err"
expect_eq "exists: key unchanged" "$(key_id p-ES256)" "$OLD"
expect_eq "exists: no new objects" "$(counts p-ES256)" "1 1 1 0 1"
check "exists: no --out file left behind" test ! -e "$T_DIR/x.pem"
expect_rc "a failing --replace (unwritable --out) fails" 1 "$TBA" m2m new p-ES256 --replace \
	--account 1234567 --client-id x --out "$T_DIR/no/such/dir.pem"
expect_eq "failed replace: old key kept" "$(key_id p-ES256)" "$OLD"
expect_eq "failed replace: no new objects" "$(counts p-ES256)" "1 1 1 0 1"
check "failed replace: old profile still checks" m2m_ok p-ES256 "$T_DIR/ES256.pem"
expect_rc "new --replace" 0 "$TBA" m2m new p-ES256 --replace --account 1234567 \
	--client-id cid2 --alg ES384 --out "$T_DIR/ES256b.pem"
check "replaced profile checks" m2m_ok p-ES256 "$T_DIR/ES256b.pem"
expect_eq "replace: old objects gone" "$(count_id "$OLD")" 0
expect_eq "replace: one key pair left" "$(counts p-ES256)" "1 1 1 0 1"
expect_eq "replace: new client ID" "$(meta p-ES256 client_id)" cid2

# A TBA profile replaced by an M2M one loses its HMAC key, and the other way round.
expect_rc "import a TBA profile" 0 import_profile swap "$ORACLE_CS" "$ORACLE_TS" \
	--account 1234567 --consumer-key "$ORACLE_CK" --token-id "$ORACLE_TOKEN"
expect_rc "m2m new --replace over a TBA profile" 0 "$TBA" m2m new swap --replace \
	--account 1234567 --client-id c --out "$T_DIR/swap.pem"
expect_eq "TBA -> M2M: the HMAC key is gone" "$(counts swap)" "1 1 1 0 1"
check "TBA -> M2M: profile checks" m2m_ok swap "$T_DIR/swap.pem"
SWAPID=$(key_id swap)
expect_rc "import --replace over an M2M profile" 0 import_profile swap "$ORACLE_CS" "$ORACLE_TS" \
	--replace --account 1234567 --consumer-key "$ORACLE_CK" --token-id "$ORACLE_TOKEN"
expect_eq "M2M -> TBA: key pair and certificate gone" "$(count_id "$SWAPID") $(counts swap)" "0 0 0 0 1 1"

# 4. cert-id, then a rotation: the current key works until the next cert-id switches.
expect_rc "cert-id" 0 "$TBA" m2m cert-id p-PS256 CERT-ONE
expect_eq "cert-id recorded" "$(meta p-PS256 certificate_id)" CERT-ONE
CUR=$(key_id p-PS256)
expect_rc "rotate" 0 "$TBA" m2m rotate p-PS256 --days 90 --out "$T_DIR/next.pem"
expect_grep "rotate: says the current key keeps working" 'current key keeps working' "$T_DIR/err"
expect_eq "rotate: current key unchanged" "$(key_id p-PS256)" "$CUR"
expect_eq "rotate: two key pairs and certificates" "$(counts p-PS256)" "2 2 2 0 1"
check "rotate: the pending key and certificate check" m2m_ok p-PS256 "$T_DIR/next.pem" --next
check "rotate: the current ones still check" m2m_ok p-PS256 "$T_DIR/PS256.pem"
expect_eq "keys --json shows the pending rotation" "$(meta p-PS256 rotation_pending)" True
"$TBA" m2m cert p-PS256 --next >"$T_DIR/next2.pem" 2>/dev/null
check "cert --next prints the pending certificate" cmp -s "$T_DIR/next.pem" "$T_DIR/next2.pem"
NEXT=$(key_id p-PS256 next_key_id)
expect_rc "cert-id after rotate" 0 "$TBA" m2m cert-id p-PS256 CERT-TWO
expect_grep "cert-id says it switched" 'now signs with its new key' "$T_DIR/out"
expect_eq "switched to the new key" "$(key_id p-PS256)" "$NEXT"
expect_eq "old key pair and certificate deleted" "$(count_id "$CUR")" 0
expect_eq "one key pair left" "$(counts p-PS256)" "1 1 1 0 1"
check "new current key checks" m2m_ok p-PS256 "$T_DIR/next.pem"
expect_eq "certificate ID replaced" "$(meta p-PS256 certificate_id)" CERT-TWO
expect_eq "rotation no longer pending" "$(meta p-PS256 rotation_pending)" False

# 5. keys lists M2M profiles and warns about certificates close to expiry.
expect_rc "keys" 0 "$TBA" keys
expect_grep "keys: alg in the table" '^p-ES512 +m2m +1234567_SB1 +ES512 ' "$T_DIR/out"
expect_grep "keys: client ID and certificate ID" 'client ID cid-PS384, certificate ID \(none yet' "$T_DIR/out"
expect_grep "keys: days left" 'expires in (72[89]|730) days' "$T_DIR/out"
expect_grep "keys: warns under 30 days" "certificate of profile p-4096 expires in (29|30) days" "$T_DIR/err"
expect_eq "keys --json: days_left" "$(meta p-4096 days_left)" 29
expect_eq "keys --json: alg" "$(meta p-ES512 alg)" ES512
# An expired certificate (its metadata rewritten with PyKCS11): said in the table and on stderr.
$PY - "$SOFTHSM_MODULE" "$LABEL" "$TOKEN_PIN_FILE" p-PS512 <<'EOF2'
import json, sys, time, PyKCS11
lib = PyKCS11.PyKCS11Lib(); lib.load(sys.argv[1])
slot = [s for s in lib.getSlotList(tokenPresent=True)
        if lib.getTokenInfo(s).label.rstrip(" \0") == sys.argv[2]][0]
s = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
s.login(open(sys.argv[3]).readline().strip())
o = s.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_DATA), (PyKCS11.CKA_LABEL, sys.argv[4])])[0]
doc = json.loads(bytes(s.getAttributeValue(o, [PyKCS11.CKA_VALUE], True)[0]))
doc["not_after"] = int(time.time()) - 3 * 86400 - 60
s.createObject([(PyKCS11.CKA_CLASS, PyKCS11.CKO_DATA), (PyKCS11.CKA_TOKEN, True),
                (PyKCS11.CKA_PRIVATE, True), (PyKCS11.CKA_APPLICATION, "tba"),
                (PyKCS11.CKA_LABEL, sys.argv[4]), (PyKCS11.CKA_VALUE, json.dumps(doc).encode())])
s.destroyObject(o)
EOF2
expect_rc "keys with an expired certificate" 0 "$TBA" keys
expect_grep "keys: says EXPIRED" 'scope rest_webservices, EXPIRED 4 days ago' "$T_DIR/out"
expect_grep "keys: warns about the expired certificate" "certificate of profile p-PS512 has expired; run 'tba m2m rotate p-PS512'" "$T_DIR/err"
expect_eq "keys --json: negative days_left" "$(meta p-PS512 days_left)" -4

# 6. Bad input: one line, exit 64 (usage) or 1 (refused), nothing made.
bad() { # bad NAME RC ARGS...
	local n=$1 rc=$2
	shift 2
	expect_rc "$n" "$rc" "$TBA" m2m "$@"
	one_line "$n"
}
bad "bad account" 64 new b1 --account '12 34' --client-id c
bad "bad alg" 64 new b1 --account 1234567 --client-id c --alg RS256
bad "bad scope" 64 new b1 --account 1234567 --client-id c --scope rest_webservices,foo
bad "--days 731" 64 new b1 --account 1234567 --client-id c --days 731
bad "--days 0" 64 new b1 --account 1234567 --client-id c --days 0
bad "no --client-id" 64 new b1 --account 1234567
bad "--rsa-bits with ES256" 64 new b1 --account 1234567 --client-id c --rsa-bits 4096
bad "--rsa-bits 2048" 64 new b1 --account 1234567 --client-id c --alg PS256 --rsa-bits 2048
bad "unknown subcommand" 64 renew b1
bad "rotate takes no --account" 64 rotate p-ES384 --account 1234567
bad "cert-id without an ID" 64 cert-id p-ES384
bad "cert-id with a space" 64 cert-id p-ES384 'a b'
bad "cert-id on a TBA profile" 1 cert-id swap X
bad "cert on a missing profile" 1 cert nosuch
bad "cert --next without a rotation" 1 cert p-ES384 --next
expect_eq "bad input made nothing" "$(counts b1)" "0 0 0 0 0"

# 7. The token fails while signing the certificate (tests/faultmod, C_Sign):
# the half-made key pair is removed and the old profile is left as it was.
FAULTMOD=$TBA_BUILD/tests/libtbafault.so
export TBA_FAULT_MODULE=$SOFTHSM_MODULE TBA_FAULT_FILE=$T_DIR/faults TBA_FAULT_LOG=$T_DIR/fault-calls.txt
FAULT_URI="pkcs11:token=$LABEL?module-path=$FAULTMOD&pin-source=file:$TOKEN_PIN_FILE"
echo 'C_Sign CKR_GENERAL_ERROR 1' >"$TBA_FAULT_FILE"
OLD=$(key_id p-ES512)
expect_rc "new --replace: the token fails to sign the certificate" 1 "$TBA" m2m new p-ES512 \
	--replace --account 1234567 --client-id z --out "$T_DIR/fail.pem" --token "$FAULT_URI"
one_line "failed signature"
expect_eq "the fault was injected" "$(grep -c '^C_Sign .* injected' "$TBA_FAULT_LOG")" 1
expect_eq "failed signature: old key kept" "$(key_id p-ES512)" "$OLD"
expect_eq "failed signature: the new key pair was removed" "$(counts p-ES512)" "1 1 1 0 1"
check "failed signature: no --out file left behind" test ! -e "$T_DIR/fail.pem"
check "failed signature: old profile still checks" m2m_ok p-ES512 "$T_DIR/ES512.pem"
echo 'C_Sign CKR_GENERAL_ERROR 1' >"$TBA_FAULT_FILE"
expect_rc "rotate: the token fails to sign the certificate" 1 "$TBA" m2m rotate p-ES512 \
	--out "$T_DIR/fail.pem" --token "$FAULT_URI"
expect_eq "failed rotate: nothing pending, nothing left" "$(meta p-ES512 rotation_pending) $(counts p-ES512)" \
	"False 1 1 1 0 1"
: >"$TBA_FAULT_FILE"
expect_rc "rotate through the fault module once the token works" 0 "$TBA" m2m rotate p-ES512 \
	--out "$T_DIR/ok.pem" --token "$FAULT_URI"
check "rotate through the fault module: the pending key checks" m2m_ok p-ES512 "$T_DIR/ok.pem" --next

# 8. delete removes every object, a pending rotation's too.
expect_rc "rotate before delete" 0 "$TBA" m2m rotate p-ES384 --out "$T_DIR/n384.pem"
expect_rc "delete" 0 "$TBA" delete p-ES384
expect_eq "delete: no object left" "$(counts p-ES384)" "0 0 0 0 0"

finish
