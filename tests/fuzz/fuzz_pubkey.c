/* SPDX-License-Identifier: MIT */
/*
 * fuzz_pubkey - what tba reads back from a token for an M2M key pair: the
 * public key's attributes (CKA_EC_POINT; CKA_MODULUS + CKA_PUBLIC_EXPONENT)
 * parsed by lib/oauth2/pubkey.c, and a stored certificate read by
 * lib/oauth2/x509.c (tba m2m cert).
 *
 * Input: one selector byte, then the attribute bytes.
 *   0..2  ES256/ES384/ES512: the rest is CKA_EC_POINT
 *   3     PS256: two bytes of modulus length (big-endian), the modulus, the exponent
 *   4     the rest is a DER certificate
 *
 * Invariants: an accepted EC key fits its algorithm and its encoded point is
 * the input (bare, or the content of the DER OCTET STRING); an accepted RSA
 * key fits PS256 and its modulus is the input's (leading zeros aside); a
 * certificate that reads prints as PEM.
 */
#include "fuzz.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>

#include "tba/pubkey.h"
#include "tba/x509.h"

static void
fuzz_ec(enum tba_jwt_alg alg, const uint8_t *d, size_t n)
{
	unsigned char pt[TBA_PUBKEY_ATTR_MAX];
	EVP_PKEY *k = NULL;
	size_t len = 0;

	if (tba_pubkey_from_ec(alg, d, n, &k) != TBA_OK) {
		FUZZ_ASSERT(k == NULL, "refused EC point left a key");
		return;
	}
	FUZZ_ASSERT(tba_pubkey_check(k, alg) == TBA_OK, "accepted EC key does not fit its alg");
	FUZZ_ASSERT(
	    EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len) == 1,
	    "no encoded point");
	FUZZ_ASSERT(len == n ? memcmp(pt, d, n) == 0 : len < n && memcmp(pt, d + n - len, len) == 0,
	    "the point read back is not the input's");
	EVP_PKEY_free(k);
}

static void
fuzz_rsa(const uint8_t *d, size_t n)
{
	unsigned char mod[TBA_PUBKEY_ATTR_MAX];
	EVP_PKEY *k = NULL;
	BIGNUM *bn = NULL;
	size_t nlen, skip = 0;
	int len;

	if (n < 2)
		return;
	nlen = (size_t)d[0] << 8 | d[1];
	if (nlen > n - 2)
		return;
	if (tba_pubkey_from_rsa(d + 2, nlen, d + 2 + nlen, n - 2 - nlen, &k) != TBA_OK) {
		FUZZ_ASSERT(k == NULL, "refused RSA key left a key");
		return;
	}
	FUZZ_ASSERT(
	    tba_pubkey_check(k, TBA_ALG_PS256) == TBA_OK, "accepted RSA key unfit for PS256");
	FUZZ_ASSERT(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &bn) == 1, "no modulus");
	len = BN_bn2bin(bn, mod);
	while (skip < nlen && d[2 + skip] == 0)
		skip++;
	FUZZ_ASSERT(
	    len > 0 && (size_t)len == nlen - skip && memcmp(mod, d + 2 + skip, (size_t)len) == 0,
	    "the modulus read back is not the input's");
	BN_free(bn);
	EVP_PKEY_free(k);
}

static void
fuzz_cert(const uint8_t *d, size_t n)
{
	unsigned char *subj = NULL;
	size_t subjlen = 0;
	int64_t na = 0;
	char *pem = NULL;

	if (tba_x509_info(d, n, &na, &subj, &subjlen) != TBA_OK) {
		FUZZ_ASSERT(subj == NULL, "refused certificate left a subject");
		return;
	}
	FUZZ_ASSERT(subj != NULL && subjlen > 0, "no subject");
	FUZZ_ASSERT(tba_x509_pem(d, n, &pem) == TBA_OK && pem != NULL, "readable but no PEM");
	free(pem);
	free(subj);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 8192)
		return 0;
	switch (data[0]) {
	case 0:
	case 1:
	case 2:
		fuzz_ec((enum tba_jwt_alg)data[0], data + 1, size - 1);
		break;
	case 3:
		fuzz_rsa(data + 1, size - 1);
		break;
	case 4:
		fuzz_cert(data + 1, size - 1);
		break;
	}
	return 0;
}
