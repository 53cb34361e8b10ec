/* SPDX-License-Identifier: MIT */
/*
 * pubkey.c - public keys as a PKCS#11 token gives them (CKA_EC_POINT,
 * CKA_MODULUS + CKA_PUBLIC_EXPONENT) turned into OpenSSL keys. Every input
 * is bounded and fully consumed; the resulting key is checked by OpenSSL.
 */
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "tba/pubkey.h"

#define PUBKEY_RSA_MIN_BITS 2048
#define PUBKEY_RSA_MAX_BITS 8192

/*
 * Makes *out from OSSL_PARAMs and has OpenSSL check it (the point lies on
 * the curve; RSA's public half is sane).
 */
static tba_err
pubkey_fromdata(const char *type, OSSL_PARAM *params, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
	EVP_PKEY *k = NULL;
	tba_err r;

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1) {
		r = tba_seterr(TBA_ERR_CRYPTO, "OpenSSL cannot make %s keys", type);
		goto out;
	}
	if (EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) != 1 || k == NULL) {
		r = tba_seterr(TBA_ERR_INVALID, "the token's %s public key is malformed", type);
		goto out;
	}
	if ((chk = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL)) == NULL ||
	    EVP_PKEY_public_check(chk) != 1) {
		r = tba_seterr(
		    TBA_ERR_INVALID, "the token's %s public key fails OpenSSL's check", type);
		goto out;
	}
	*out = k;
	k = NULL;
	r = TBA_OK;
out:
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

tba_err
tba_pubkey_from_ec(
    enum tba_jwt_alg alg, const unsigned char *point, size_t pointlen, EVP_PKEY **out)
{
	OSSL_PARAM params[3];
	ASN1_OCTET_STRING *os = NULL;
	const unsigned char *p = point, *raw = point;
	size_t rawlen = pointlen, want;
	const char *group;
	tba_err r;

	*out = NULL;
	if (!tba_jwt_alg_is_ec(alg))
		return tba_seterr(
		    TBA_ERR_INVALID, "%s does not use an EC key", tba_jwt_alg_name(alg));
	if (point == NULL || pointlen == 0 || pointlen > TBA_PUBKEY_ATTR_MAX)
		return tba_seterr(TBA_ERR_INVALID, "the token's EC point is empty or too long");
	want = 1 + 2 * tba_jwt_alg_ec_size(alg);
	group = OBJ_nid2sn(tba_jwt_alg_curve_nid(alg));
	/* PKCS#11 2.40 wraps the point in an OCTET STRING; some tokens do not. */
	os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)pointlen);
	if (os != NULL && p == point + pointlen && (size_t)ASN1_STRING_length(os) == want) {
		raw = ASN1_STRING_get0_data(os);
		rawlen = want;
	}
	if (rawlen != want || raw[0] != 0x04) {
		r = tba_seterr(TBA_ERR_INVALID,
		    "the token's EC point is not an uncompressed %s "
		    "point",
		    group);
		goto out;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)raw, rawlen);
	params[2] = OSSL_PARAM_construct_end();
	r = pubkey_fromdata("EC", params, out);
out:
	ASN1_OCTET_STRING_free(os);
	return r;
}

tba_err
tba_pubkey_from_rsa(
    const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	int bits;
	tba_err r;

	*out = NULL;
	if (n == NULL || e == NULL || nlen == 0 || nlen > TBA_PUBKEY_ATTR_MAX || elen == 0 ||
	    elen > TBA_PUBKEY_ATTR_MAX)
		return tba_seterr(TBA_ERR_INVALID,
		    "the token's RSA modulus or exponent is empty or "
		    "too long");
	if ((bn = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
	    (be = BN_bin2bn(e, (int)elen, NULL)) == NULL) {
		r = tba_seterr(TBA_ERR_NOMEM, "no memory for an RSA key");
		goto out;
	}
	bits = BN_num_bits(bn);
	if (bits < PUBKEY_RSA_MIN_BITS || bits > PUBKEY_RSA_MAX_BITS || !BN_is_odd(bn)) {
		r = tba_seterr(TBA_ERR_INVALID,
		    "the token's RSA modulus (%d bits) is not an odd "
		    "number of %d to %d bits",
		    bits, PUBKEY_RSA_MIN_BITS, PUBKEY_RSA_MAX_BITS);
		goto out;
	}
	if (BN_num_bits(be) > 64 || !BN_is_odd(be) || BN_is_one(be)) {
		r = tba_seterr(TBA_ERR_INVALID,
		    "the token's RSA exponent is not an odd number "
		    "above 1 of at most 64 bits");
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
		r = tba_seterr(TBA_ERR_NOMEM, "no memory for an RSA key");
		goto out;
	}
	r = pubkey_fromdata("RSA", params, out);
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return r;
}

tba_err
tba_pubkey_check(EVP_PKEY *k, enum tba_jwt_alg alg)
{
	char group[64];
	size_t glen = 0;
	const char *want;

	if (k == NULL)
		return tba_seterr(TBA_ERR_INVALID, "no public key");
	if (!tba_jwt_alg_is_ec(alg)) {
		if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA ||
		    EVP_PKEY_get_bits(k) < PUBKEY_RSA_MIN_BITS)
			return tba_seterr(TBA_ERR_INVALID,
			    "%s needs an RSA key of at least %d bits", tba_jwt_alg_name(alg),
			    PUBKEY_RSA_MIN_BITS);
		return TBA_OK;
	}
	want = OBJ_nid2sn(tba_jwt_alg_curve_nid(alg));
	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
	    EVP_PKEY_get_utf8_string_param(
		k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen) != 1 ||
	    OBJ_sn2nid(group) != tba_jwt_alg_curve_nid(alg))
		return tba_seterr(
		    TBA_ERR_INVALID, "%s needs an EC key on %s", tba_jwt_alg_name(alg), want);
	return TBA_OK;
}
