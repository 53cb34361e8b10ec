/* SPDX-License-Identifier: MIT */
/*
 * test_m2m_keys.c - the pure half of M2M keys: algorithm names, scopes, M2M
 * profile metadata, public keys from token attributes, and the self-signed
 * certificate built around a signature callback (here an OpenSSL software
 * key, so no token is needed; test_m2m.sh checks the token-signed ones with
 * python3-cryptography).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "tap.h"
#include "tba/jwt_alg.h"
#include "tba/profile.h"
#include "tba/pubkey.h"
#include "tba/x509.h"

static void
test_algs(void)
{
	static const char *const names[] = {"ES256", "ES384", "ES512", "PS256", "PS384", "PS512"};
	enum tba_jwt_alg a;
	size_t i;

	for (i = 0; i < 6; i++) {
		ok(tba_jwt_alg_parse(names[i], &a) == TBA_OK &&
			strcmp(tba_jwt_alg_name(a), names[i]) == 0,
		    "alg %s round trip", names[i]);
	}
	ok(tba_jwt_alg_parse("RS256", &a) == TBA_ERR_INVALID &&
		tba_jwt_alg_parse("es256", &a) == TBA_ERR_INVALID &&
		tba_jwt_alg_parse("", &a) == TBA_ERR_INVALID,
	    "RS256, lower case and empty refused");
	is_int(tba_jwt_alg_ec_size(TBA_ALG_ES512), 66, "P-521 halves are 66 bytes");
	is_int(tba_jwt_alg_hash_len(TBA_ALG_PS384), 48, "PS384 uses SHA-384");
	ok(!tba_jwt_alg_is_ec(TBA_ALG_PS256) && tba_jwt_alg_is_ec(TBA_ALG_ES384), "EC or RSA");
}

static void
test_scopes(void)
{
	char out[TBA_SCOPE_MAX + 1];

	ok(tba_m2m_scope_norm("rest_webservices", out, sizeof(out)) == TBA_OK &&
		strcmp(out, "rest_webservices") == 0,
	    "one scope");
	ok(tba_m2m_scope_norm(
	       "suite_analytics, restlets,rest_webservices,restlets", out, sizeof(out)) == TBA_OK &&
		strcmp(out, "rest_webservices,restlets,suite_analytics") == 0,
	    "canonical order, spaces and duplicates dropped: %s", out);
	ok(tba_m2m_scope_norm("", out, sizeof(out)) == TBA_ERR_INVALID &&
		tba_m2m_scope_norm("restlets,", out, sizeof(out)) == TBA_ERR_INVALID &&
		tba_m2m_scope_norm("restlets,,rest_webservices", out, sizeof(out)) ==
		    TBA_ERR_INVALID &&
		tba_m2m_scope_norm("RESTLETS", out, sizeof(out)) == TBA_ERR_INVALID &&
		tba_m2m_scope_norm("rest_webservices;restlets", out, sizeof(out)) ==
		    TBA_ERR_INVALID,
	    "empty, trailing comma, empty item, upper case, other separator refused");
	ok(tba_m2m_id_ok("3f1c0a9e-ab") && !tba_m2m_id_ok("a b") && !tba_m2m_id_ok("a\"b") &&
		!tba_m2m_id_ok(""),
	    "client and certificate IDs");
}

static void
test_profile_json(void)
{
	/* Written by tba before M2M existed: must keep parsing. */
	static const char old[] =
	    "{\"v\":1,\"name\":\"prod\",\"kind\":\"netsuite\",\"account\":"
	    "\"1234567_SB1\",\"realm\":\"1234567_SB1\",\"consumer_key\":\"ck\",\"token_id\":\"tk\","
	    "\"signature_method\":\"HMAC-SHA256\",\"hosts\":[\"1234567-sb1.app.netsuite.com\"],"
	    "\"created\":1700000000,\"key_id\":\"000102030405060708090a0b0c0d0e0f\"}";
	struct tba_profile p, q;
	char *json = NULL, *bad = NULL;

	ok(tba_profile_from_json(old, strlen(old), &q) == TBA_OK && q.kind == TBA_KIND_NETSUITE &&
		!q.has_next && strcmp(q.consumer_key, "ck") == 0,
	    "a pre-M2M profile parses");
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "m");
	p.kind = TBA_KIND_M2M;
	snprintf(p.account, sizeof(p.account), "1234567_SB1");
	snprintf(p.realm, sizeof(p.realm), "1234567_SB1");
	(void)tba_ns_add_hosts(&p);
	snprintf(p.client_id, sizeof(p.client_id), "cid");
	p.alg = TBA_ALG_PS384;
	snprintf(p.scope, sizeof(p.scope), "rest_webservices,restlets");
	snprintf(p.cert_id, sizeof(p.cert_id), "CERT");
	p.not_after = 1800000000;
	p.created = 1700000000;
	memset(p.key_id, 0xab, TBA_KEY_ID_LEN);
	p.has_next = 1;
	memset(p.next_key_id, 0xcd, TBA_KEY_ID_LEN);
	p.next_not_after = 1900000000;
	ok(tba_profile_to_json(&p, &json) == TBA_OK && strstr(json, "consumer_key") == NULL,
	    "m2m to JSON, no HMAC fields: %s", json != NULL ? json : "");
	ok(json != NULL && tba_profile_from_json(json, strlen(json), &q) == TBA_OK &&
		memcmp(&p, &q, sizeof(p)) == 0,
	    "m2m JSON round trip");
	free(json);
	json = NULL;
	p.has_next = 0;
	memset(p.next_key_id, 0, TBA_KEY_ID_LEN);
	p.next_not_after = 0;
	memset(p.cert_id, 0, sizeof(p.cert_id));
	ok(tba_profile_to_json(&p, &json) == TBA_OK && strstr(json, "next_key_id") == NULL &&
		tba_profile_from_json(json, strlen(json), &q) == TBA_OK &&
		memcmp(&p, &q, sizeof(p)) == 0,
	    "without a rotation or certificate ID");
	if (json != NULL && (bad = malloc(strlen(json) + 20)) != NULL) {
		snprintf(
		    bad, strlen(json) + 20, "%.*s,\"alg\":\"RS256\"}", (int)strlen(json) - 1, json);
		ok(tba_profile_from_json(bad, strlen(bad), &q) == TBA_ERR_INVALID,
		    "a second alg is "
		    "refused");
	}
	free(bad);
	free(json);
}

/* A software key for alg. */
static EVP_PKEY *
soft_key(enum tba_jwt_alg alg)
{
	if (tba_jwt_alg_is_ec(alg))
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", OBJ_nid2sn(tba_jwt_alg_curve_nid(alg)));
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
}

struct soft_signer {
	EVP_PKEY *k;
	enum tba_jwt_alg alg;
	int corrupt;
};

/* The callback: JWS-form signature (r||s, or PSS with salt = hash length) made by OpenSSL. */
static tba_err
soft_sign(void *ctx, const unsigned char *msg, size_t msglen, unsigned char *sig, size_t *siglen)
{
	struct soft_signer *g = ctx;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char der[TBA_JWS_SIG_MAX];
	const unsigned char *p = der;
	size_t len = sizeof(der), half = tba_jwt_alg_ec_size(g->alg);
	ECDSA_SIG *es = NULL;
	tba_err r = TBA_ERR_CRYPTO;

	if (md == NULL ||
	    EVP_DigestSignInit(
		md, &pctx, EVP_get_digestbynid(tba_jwt_alg_hash_nid(g->alg)), NULL, g->k) != 1)
		goto out;
	if (!tba_jwt_alg_is_ec(g->alg) &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		goto out;
	if (EVP_DigestSign(md, der, &len, msg, msglen) != 1)
		goto out;
	if (tba_jwt_alg_is_ec(g->alg)) {
		if ((es = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL ||
		    BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, (int)half) < 0 ||
		    BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + half, (int)half) < 0)
			goto out;
		*siglen = 2 * half;
	} else {
		memcpy(sig, der, len);
		*siglen = len;
	}
	if (g->corrupt)
		sig[*siglen / 3] ^= 0x01;
	r = TBA_OK;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return r;
}

/* The EC point as CKA_EC_POINT holds it (DER OCTET STRING), or bare. */
static size_t
ec_point(EVP_PKEY *k, unsigned char *out, size_t outsz, int wrap)
{
	unsigned char pt[200];
	size_t n = 0;

	if (EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &n) != 1 ||
	    n + 3 > outsz)
		return 0;
	if (!wrap) {
		memcpy(out, pt, n);
		return n;
	}
	out[0] = 0x04;
	if (n < 0x80) {
		out[1] = (unsigned char)n;
		memcpy(out + 2, pt, n);
		return n + 2;
	}
	out[1] = 0x81;
	out[2] = (unsigned char)n;
	memcpy(out + 3, pt, n);
	return n + 3;
}

static void
test_ec_pubkey(enum tba_jwt_alg alg, EVP_PKEY *k)
{
	unsigned char buf[256];
	EVP_PKEY *got = NULL;
	size_t n;

	n = ec_point(k, buf, sizeof(buf), 1);
	ok(n > 0 && tba_pubkey_from_ec(alg, buf, n, &got) == TBA_OK && EVP_PKEY_eq(got, k) == 1,
	    "%s: CKA_EC_POINT (DER) gives the same key", tba_jwt_alg_name(alg));
	EVP_PKEY_free(got);
	got = NULL;
	buf[n] = 0;
	ok(tba_pubkey_from_ec(alg, buf, n + 1, &got) == TBA_ERR_INVALID && got == NULL,
	    "%s: a trailing byte is refused", tba_jwt_alg_name(alg));
	buf[n - 1] ^= 0x01;
	ok(tba_pubkey_from_ec(alg, buf, n, &got) == TBA_ERR_INVALID && got == NULL,
	    "%s: a point off the curve is refused", tba_jwt_alg_name(alg));
	n = ec_point(k, buf, sizeof(buf), 0);
	ok(tba_pubkey_from_ec(alg, buf, n, &got) == TBA_OK && EVP_PKEY_eq(got, k) == 1,
	    "%s: the bare point is accepted too", tba_jwt_alg_name(alg));
	EVP_PKEY_free(got);
	got = NULL;
	ok(tba_pubkey_from_ec(alg == TBA_ALG_ES256 ? TBA_ALG_ES384 : TBA_ALG_ES256, buf, n, &got) ==
		TBA_ERR_INVALID,
	    "%s: another curve's point is refused", tba_jwt_alg_name(alg));
	EVP_PKEY_free(got);
}

static void
test_rsa_pubkey(EVP_PKEY *k)
{
	BIGNUM *n = NULL, *e = NULL;
	unsigned char nb[512], eb[8];
	EVP_PKEY *got = NULL;
	int nl, el;

	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
		ok(0, "RSA parameters");
		goto out;
	}
	nl = BN_bn2bin(n, nb);
	el = BN_bn2bin(e, eb);
	ok(tba_pubkey_from_rsa(nb, (size_t)nl, eb, (size_t)el, &got) == TBA_OK &&
		EVP_PKEY_eq(got, k) == 1,
	    "RSA: modulus and exponent give the same key");
	EVP_PKEY_free(got);
	got = NULL;
	nb[nl - 1] ^= 0x01;
	ok(tba_pubkey_from_rsa(nb, (size_t)nl, eb, (size_t)el, &got) == TBA_ERR_INVALID,
	    "RSA: an even modulus is refused");
	nb[nl - 1] ^= 0x01;
	ok(tba_pubkey_from_rsa(nb, 128, eb, (size_t)el, &got) == TBA_ERR_INVALID,
	    "RSA: a 1024-bit modulus is refused");
	ok(tba_pubkey_from_rsa(nb, (size_t)nl, (const unsigned char *)"\x01", 1, &got) ==
		TBA_ERR_INVALID,
	    "RSA: exponent 1 is refused");
out:
	BN_free(n);
	BN_free(e);
}

/*
 * The DER of the signature AlgorithmIdentifier OpenSSL itself writes when it
 * signs a certificate with k the way alg says (PSS: salt = digest length,
 * MGF1 with the same hash). *der from OPENSSL_malloc; length or -1.
 */
static int
openssl_sigalg(EVP_PKEY *k, enum tba_jwt_alg alg, unsigned char **der)
{
	const EVP_MD *md = EVP_get_digestbynid(tba_jwt_alg_hash_nid(alg));
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	const X509_ALGOR *palg = NULL;
	X509 *x = X509_new();
	int n = -1;

	*der = NULL;
	if (x == NULL || mctx == NULL || X509_set_pubkey(x, k) != 1 ||
	    EVP_DigestSignInit(mctx, &pctx, md, NULL, k) != 1)
		goto out;
	if (!tba_jwt_alg_is_ec(alg) &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
		EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1))
		goto out;
	if (X509_sign_ctx(x, mctx) <= 0)
		goto out;
	X509_get0_signature(NULL, &palg, x);
	n = i2d_X509_ALGOR(palg, der);
out:
	EVP_MD_CTX_free(mctx);
	X509_free(x);
	return n;
}

static void
test_cert(enum tba_jwt_alg alg, EVP_PKEY *k)
{
	struct soft_signer g = {k, alg, 0};
	unsigned char *der = NULL, *subj = NULL;
	const unsigned char *p;
	size_t derlen = 0, subjlen = 0;
	int64_t now = (int64_t)time(NULL), na = 0, na2 = 0;
	X509 *x = NULL;
	BIGNUM *serial = NULL;
	char *pem = NULL;
	const char *name = tba_jwt_alg_name(alg);

	ok(tba_x509_selfsigned(k, alg, "tba test", 730, now, soft_sign, &g, &der, &derlen, &na) ==
		TBA_OK,
	    "%s: certificate made: %s", name, tba_errmsg(TBA_ERR_CRYPTO));
	p = der;
	ok(der != NULL && (x = d2i_X509(NULL, &p, (long)derlen)) != NULL &&
		X509_verify(x, k) == 1 && X509_get_version(x) == 2,
	    "%s: v3, verifies with the key", name);
	is_int(na, now + 730LL * 86400, "%s: notAfter = now + 730 days", name);
	if (x != NULL) {
		const X509_ALGOR *ours = NULL;
		unsigned char *a = NULL, *b = NULL;
		int alen, blen;

		X509_get0_signature(NULL, &ours, x);
		alen = i2d_X509_ALGOR(ours, &a);
		blen = openssl_sigalg(k, alg, &b);
		ok(alen > 0 && alen == blen && memcmp(a, b, (size_t)alen) == 0 &&
			X509_ALGOR_cmp(ours, X509_get0_tbs_sigalg(x)) == 0,
		    "%s: signature algorithm "
		    "identical to the one OpenSSL writes, inside and outside the TBS",
		    name);
		OPENSSL_free(a);
		OPENSSL_free(b);
	}
	ok(tba_x509_info(der, derlen, &na2, &subj, &subjlen) == TBA_OK && na2 == na && subjlen > 0,
	    "%s: info reads notAfter and the subject back", name);
	ok(tba_x509_pem(der, derlen, &pem) == TBA_OK &&
		strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0,
	    "%s: PEM", name);
	serial = x != NULL ? ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL) : NULL;
	ok(serial != NULL && !BN_is_negative(serial) && !BN_is_zero(serial) &&
		BN_num_bytes(serial) == 16,
	    "%s: serial positive, 16 bytes", name);
	BN_free(serial);
	free(der);
	der = NULL;
	g.corrupt = 1;
	is_int(tba_x509_selfsigned(k, alg, "tba test", 30, now, soft_sign, &g, &der, &derlen, NULL),
	    TBA_ERR_VERIFY, "%s: a wrong signature is caught before anything is handed out", name);
	ok(der == NULL, "%s: nothing handed out", name);
	is_int(
	    tba_x509_selfsigned(k, alg, "tba test", 731, now, soft_sign, &g, &der, &derlen, NULL),
	    TBA_ERR_INVALID, "%s: 731 days refused", name);
	is_int(tba_x509_selfsigned(k, alg == TBA_ALG_ES256 ? TBA_ALG_ES384 : TBA_ALG_ES256,
		   "tba test", 30, now, soft_sign, &g, &der, &derlen, NULL),
	    TBA_ERR_INVALID, "%s: a key that does not fit the algorithm is refused", name);
	X509_free(x);
	free(subj);
	free(pem);
	free(der);
}

int
main(void)
{
	static const enum tba_jwt_alg algs[] = {
	    TBA_ALG_ES256, TBA_ALG_ES384, TBA_ALG_ES512, TBA_ALG_PS256, TBA_ALG_PS512};
	unsigned char *der = NULL;
	size_t derlen = 0, i;
	EVP_PKEY *k;

	test_algs();
	test_scopes();
	test_profile_json();
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if ((k = soft_key(algs[i])) == NULL) {
			ok(0, "software key for %s", tba_jwt_alg_name(algs[i]));
			continue;
		}
		if (tba_jwt_alg_is_ec(algs[i]))
			test_ec_pubkey(algs[i], k);
		else if (algs[i] == TBA_ALG_PS256)
			test_rsa_pubkey(k);
		test_cert(algs[i], k);
		EVP_PKEY_free(k);
	}
	ok(tba_x509_ecdsa_der((const unsigned char *)"abc", 3, &der, &derlen) == TBA_ERR_INVALID,
	    "an odd-length r||s is refused");
	ok(!tba_x509_cn_ok("") && !tba_x509_cn_ok(" x") && !tba_x509_cn_ok("a\nb") &&
		tba_x509_cn_ok("tba prod 1234567_SB1"),
	    "common names");
	return tap_done();
}
