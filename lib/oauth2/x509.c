/* SPDX-License-Identifier: MIT */
/*
 * x509.c - the self-signed certificate of an M2M key pair (x509.h). OpenSSL
 * builds the TBSCertificate; the signature comes from a callback (the token),
 * so the certificate is assembled from its three DER parts here and then
 * verified by OpenSSL against the public key before anyone sees it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tba/profile.h"
#include "tba/pubkey.h"
#include "tba/x509.h"

#define X509_SERIAL_LEN 16
#define X509_DAY 86400

int
tba_x509_cn_ok(const char *cn)
{
	size_t i, n;

	n = cn != NULL ? strnlen(cn, TBA_CN_MAX + 1) : 0;
	if (n == 0 || n > TBA_CN_MAX || cn[0] == ' ')
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)cn[i] < 0x20 || (unsigned char)cn[i] > 0x7e)
			return 0;
	}
	return 1;
}

/* A random positive serial of 16 bytes: the top bit cleared, the next one set (fixed length). */
static tba_err
x509_serial(X509 *x)
{
	unsigned char b[X509_SERIAL_LEN];
	BIGNUM *bn = NULL;
	tba_err r = TBA_OK;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return tba_seterr(TBA_ERR_CRYPTO, "no random bytes for the certificate serial");
	b[0] = (unsigned char)((b[0] & 0x7f) | 0x40);
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		r = tba_seterr(TBA_ERR_NOMEM, "no memory for the certificate serial");
	BN_free(bn);
	return r;
}

static tba_err
x509_add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return tba_seterr(TBA_ERR_CRYPTO, "cannot make the %s extension", OBJ_nid2sn(nid));
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (ok != 1)
		return tba_seterr(TBA_ERR_NOMEM, "cannot add the %s extension", OBJ_nid2sn(nid));
	return TBA_OK;
}

/* Sets alg to SEQUENCE-typed parameters holding the DER of item it. */
static int
x509_algor_seq(X509_ALGOR *alg, int nid, void *it, const ASN1_ITEM *item)
{
	ASN1_STRING *s = NULL;

	if (ASN1_item_pack(it, item, &s) == NULL)
		return 0;
	if (X509_ALGOR_set0(alg, OBJ_nid2obj(nid), V_ASN1_SEQUENCE, s) != 1) {
		ASN1_STRING_free(s);
		return 0;
	}
	return 1;
}

/*
 * The signature AlgorithmIdentifier: ecdsa-with-SHA* (no parameters), or
 * RSASSA-PSS with hash, MGF1 with the same hash, salt = hash length (the
 * trailer field keeps its default).
 */
static tba_err
x509_sigalg(enum tba_jwt_alg alg, X509_ALGOR *out)
{
	static const int ecnid[] = {
	    NID_ecdsa_with_SHA256, NID_ecdsa_with_SHA384, NID_ecdsa_with_SHA512};
	const EVP_MD *md = EVP_get_digestbynid(tba_jwt_alg_hash_nid(alg));
	RSA_PSS_PARAMS *pss = NULL;
	X509_ALGOR *mgfmd = NULL;
	size_t i;
	int ok;

	if (md == NULL)
		return tba_seterr(
		    TBA_ERR_CRYPTO, "OpenSSL has no %s digest", tba_jwt_alg_name(alg));
	if (tba_jwt_alg_is_ec(alg)) {
		i = (size_t)alg - (size_t)TBA_ALG_ES256;
		if (X509_ALGOR_set0(out, OBJ_nid2obj(ecnid[i]), V_ASN1_UNDEF, NULL) != 1)
			return tba_seterr(TBA_ERR_NOMEM, "no memory for the signature algorithm");
		return TBA_OK;
	}
	ok = (pss = RSA_PSS_PARAMS_new()) != NULL &&
	    (pss->hashAlgorithm = X509_ALGOR_new()) != NULL &&
	    (pss->maskGenAlgorithm = X509_ALGOR_new()) != NULL &&
	    (mgfmd = X509_ALGOR_new()) != NULL && (pss->saltLength = ASN1_INTEGER_new()) != NULL;
	/*
	 * RFC 4055 2.1: inside RSASSA-PSS parameters the SHA-2 identifiers carry
	 * a NULL parameter (X509_ALGOR_set_md would leave it absent; OpenSSL's
	 * own PSS signatures write NULL too).
	 */
	ok = ok &&
	    X509_ALGOR_set0(pss->hashAlgorithm, OBJ_nid2obj(tba_jwt_alg_hash_nid(alg)), V_ASN1_NULL,
		NULL) == 1 &&
	    X509_ALGOR_set0(mgfmd, OBJ_nid2obj(tba_jwt_alg_hash_nid(alg)), V_ASN1_NULL, NULL) == 1;
	if (ok) {
		ok = ASN1_INTEGER_set(pss->saltLength, (long)tba_jwt_alg_hash_len(alg)) == 1 &&
		    x509_algor_seq(
			pss->maskGenAlgorithm, NID_mgf1, mgfmd, ASN1_ITEM_rptr(X509_ALGOR)) &&
		    x509_algor_seq(out, NID_rsassaPss, pss, ASN1_ITEM_rptr(RSA_PSS_PARAMS));
	}
	X509_ALGOR_free(mgfmd);
	RSA_PSS_PARAMS_free(pss);
	if (!ok)
		return tba_seterr(TBA_ERR_NOMEM, "no memory for the RSASSA-PSS parameters");
	return TBA_OK;
}

/* Version, serial, names, validity, key and extensions: everything but the signature. */
static tba_err
x509_fill(X509 *x, EVP_PKEY *pub, const char *cn, unsigned days, int64_t now)
{
	X509_NAME *name = NULL;
	tba_err r;

	if (X509_set_version(x, 2) != 1 || (r = x509_serial(x)) != TBA_OK ||
	    (name = X509_NAME_new()) == NULL)
		goto nomem;
	if (X509_NAME_add_entry_by_NID(
		name, NID_commonName, MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1 ||
	    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)now) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(now + (int64_t)days * X509_DAY)) ==
		NULL ||
	    X509_set_pubkey(x, pub) != 1)
		goto nomem;
	X509_NAME_free(name);
	name = NULL;
	if ((r = x509_add_ext(x, NID_basic_constraints, "critical,CA:FALSE")) != TBA_OK ||
	    (r = x509_add_ext(x, NID_key_usage, "critical,digitalSignature")) != TBA_OK ||
	    (r = x509_add_ext(x, NID_subject_key_identifier, "hash")) != TBA_OK)
		return r;
	return TBA_OK;
nomem:
	X509_NAME_free(name);
	return tba_seterr(TBA_ERR_NOMEM, "cannot fill in the certificate");
}

/*
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature BIT STRING },
 * from the TBS DER and the signature the callback made.
 */
static tba_err
x509_assemble(const unsigned char *tbs, size_t tbslen, const X509_ALGOR *alg,
    const unsigned char *sig, size_t siglen, unsigned char **der, size_t *derlen)
{
	ASN1_BIT_STRING *bs = NULL;
	unsigned char *algder = NULL, *bsder = NULL, *buf = NULL, *p;
	int alglen, bslen, total, len;
	tba_err r;

	*der = NULL;
	*derlen = 0;
	if ((bs = ASN1_BIT_STRING_new()) == NULL ||
	    ASN1_BIT_STRING_set(bs, (unsigned char *)sig, (int)siglen) != 1) {
		r = tba_seterr(TBA_ERR_NOMEM, "no memory for the signature");
		goto out;
	}
	/* All bits are used; without this OpenSSL would drop trailing zero bits of the signature. */
	bs->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	bs->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	alglen = i2d_X509_ALGOR(alg, &algder);
	bslen = i2d_ASN1_BIT_STRING(bs, &bsder);
	if (alglen <= 0 || bslen <= 0 || tbslen > TBA_CERT_DER_MAX) {
		r = tba_seterr(TBA_ERR_CRYPTO, "cannot encode the certificate");
		goto out;
	}
	len = (int)tbslen + alglen + bslen;
	total = ASN1_object_size(1, len, V_ASN1_SEQUENCE);
	if (total <= 0 || total > TBA_CERT_DER_MAX || (buf = malloc((size_t)total)) == NULL) {
		r = tba_seterr(TBA_ERR_TOO_LARGE, "the certificate is too large");
		goto out;
	}
	p = buf;
	ASN1_put_object(&p, 1, len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	memcpy(p, tbs, tbslen);
	memcpy(p + tbslen, algder, (size_t)alglen);
	memcpy(p + tbslen + (size_t)alglen, bsder, (size_t)bslen);
	*der = buf;
	*derlen = (size_t)total;
	buf = NULL;
	r = TBA_OK;
out:
	free(buf);
	OPENSSL_free(algder);
	OPENSSL_free(bsder);
	ASN1_BIT_STRING_free(bs);
	return r;
}

tba_err
tba_x509_ecdsa_der(const unsigned char *rs, size_t rslen, unsigned char **der, size_t *derlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	unsigned char *buf = NULL;
	int len;
	tba_err r;

	*der = NULL;
	*derlen = 0;
	if (rs == NULL || rslen == 0 || rslen % 2 != 0 || rslen > 2 * 66)
		return tba_seterr(
		    TBA_ERR_INVALID, "an ECDSA signature of %zu bytes is not r||s", rslen);
	if ((es = ECDSA_SIG_new()) == NULL ||
	    (br = BN_bin2bn(rs, (int)(rslen / 2), NULL)) == NULL ||
	    (bs = BN_bin2bn(rs + rslen / 2, (int)(rslen / 2), NULL)) == NULL ||
	    ECDSA_SIG_set0(es, br, bs) != 1) {
		r = tba_seterr(TBA_ERR_NOMEM, "no memory for an ECDSA signature");
		goto out;
	}
	br = bs = NULL;
	if ((len = i2d_ECDSA_SIG(es, &buf)) <= 0) {
		r = tba_seterr(TBA_ERR_CRYPTO, "cannot encode the ECDSA signature");
		goto out;
	}
	*der = malloc((size_t)len);
	if (*der == NULL) {
		r = tba_nomem();
		goto out;
	}
	memcpy(*der, buf, (size_t)len);
	*derlen = (size_t)len;
	r = TBA_OK;
out:
	OPENSSL_free(buf);
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(es);
	return r;
}

/* Has the callback sign the TBS and returns the signature in the certificate's form. */
static tba_err
x509_sign(enum tba_jwt_alg alg, const unsigned char *tbs, size_t tbslen, tba_x509_sign_fn sign,
    void *ctx, unsigned char **sig, size_t *siglen)
{
	unsigned char raw[TBA_JWS_SIG_MAX];
	size_t rawlen = 0;
	tba_err r;

	*sig = NULL;
	*siglen = 0;
	if ((r = sign(ctx, tbs, tbslen, raw, &rawlen)) != TBA_OK)
		return r;
	if (rawlen == 0 || rawlen > sizeof(raw))
		return tba_seterr(TBA_ERR_CRYPTO, "the signer returned %zu bytes", rawlen);
	if (tba_jwt_alg_is_ec(alg)) {
		if (rawlen != 2 * tba_jwt_alg_ec_size(alg))
			return tba_seterr(TBA_ERR_CRYPTO, "the %s signature has %zu bytes, not %zu",
			    tba_jwt_alg_name(alg), rawlen, 2 * tba_jwt_alg_ec_size(alg));
		return tba_x509_ecdsa_der(raw, rawlen, sig, siglen);
	}
	if ((*sig = malloc(rawlen)) == NULL)
		return tba_nomem();
	memcpy(*sig, raw, rawlen);
	*siglen = rawlen;
	return TBA_OK;
}

/* The assembled certificate must parse, be exactly those bytes, and verify with pub. */
static tba_err
x509_check(const unsigned char *der, size_t derlen, EVP_PKEY *pub)
{
	const unsigned char *p = der;
	X509 *x;
	tba_err r = TBA_OK;

	x = d2i_X509(NULL, &p, (long)derlen);
	if (x == NULL || p != der + derlen)
		r = tba_seterr(TBA_ERR_CRYPTO, "the assembled certificate does not parse");
	else if (X509_verify(x, pub) != 1)
		r = tba_seterr(TBA_ERR_VERIFY,
		    "the certificate's signature does not verify with the "
		    "token's public key; nothing stored");
	X509_free(x);
	return r;
}

tba_err
tba_x509_selfsigned(EVP_PKEY *pub, enum tba_jwt_alg alg, const char *cn, unsigned days, int64_t now,
    tba_x509_sign_fn sign, void *ctx, unsigned char **der, size_t *derlen, int64_t *not_after)
{
	X509 *x = NULL;
	X509_ALGOR *sigalg = NULL;
	unsigned char *tbs = NULL, *sig = NULL, *cert = NULL;
	size_t siglen = 0, certlen = 0;
	int tbslen;
	tba_err r;

	*der = NULL;
	*derlen = 0;
	if (not_after != NULL)
		*not_after = 0;
	if (days < 1 || days > TBA_CERT_DAYS_MAX || now < 0)
		return tba_seterr(
		    TBA_ERR_INVALID, "a certificate is valid for 1 to %d days", TBA_CERT_DAYS_MAX);
	if (!tba_x509_cn_ok(cn))
		return tba_seterr(TBA_ERR_INVALID,
		    "bad subject \"%.64s\": use 1 to %d printable "
		    "ASCII characters",
		    cn != NULL ? cn : "", TBA_CN_MAX);
	if ((r = tba_pubkey_check(pub, alg)) != TBA_OK)
		return r;
	if ((x = X509_new()) == NULL || (sigalg = X509_ALGOR_new()) == NULL) {
		r = tba_nomem();
		goto out;
	}
	if ((r = x509_fill(x, pub, cn, days, now)) != TBA_OK ||
	    (r = x509_sigalg(alg, sigalg)) != TBA_OK)
		goto out;
	/*
	 * OpenSSL 3.0 has no setter for the TBS signature algorithm of a
	 * certificate signed outside it; the object is the certificate's own.
	 */
	if (X509_ALGOR_copy((X509_ALGOR *)X509_get0_tbs_sigalg(x), sigalg) != 1) {
		r = tba_seterr(TBA_ERR_NOMEM, "cannot set the signature algorithm");
		goto out;
	}
	if ((tbslen = i2d_re_X509_tbs(x, &tbs)) <= 0) {
		r = tba_seterr(TBA_ERR_CRYPTO, "cannot encode the certificate");
		goto out;
	}
	if ((r = x509_sign(alg, tbs, (size_t)tbslen, sign, ctx, &sig, &siglen)) != TBA_OK ||
	    (r = x509_assemble(tbs, (size_t)tbslen, sigalg, sig, siglen, &cert, &certlen)) !=
		TBA_OK ||
	    (r = x509_check(cert, certlen, pub)) != TBA_OK)
		goto out;
	if (not_after != NULL)
		*not_after = now + (int64_t)days * X509_DAY;
	*der = cert;
	*derlen = certlen;
	cert = NULL;
	r = TBA_OK;
out:
	free(cert);
	free(sig);
	OPENSSL_free(tbs);
	X509_ALGOR_free(sigalg);
	X509_free(x);
	return r;
}

/* Parses a whole DER certificate. */
static tba_err
x509_parse(const unsigned char *der, size_t derlen, X509 **out)
{
	const unsigned char *p = der;
	X509 *x;

	*out = NULL;
	if (der == NULL || derlen == 0 || derlen > TBA_CERT_DER_MAX)
		return tba_seterr(TBA_ERR_INVALID,
		    "the certificate is empty or larger than %d bytes", TBA_CERT_DER_MAX);
	x = d2i_X509(NULL, &p, (long)derlen);
	if (x == NULL || p != der + derlen) {
		X509_free(x);
		return tba_seterr(TBA_ERR_INVALID,
		    "the certificate is not one DER X.509 "
		    "certificate");
	}
	*out = x;
	return TBA_OK;
}

tba_err
tba_x509_info(const unsigned char *der, size_t derlen, int64_t *not_after, unsigned char **subject,
    size_t *subjectlen)
{
	X509 *x = NULL;
	struct tm tm;
	unsigned char *s = NULL;
	int n;
	tba_err r;

	if (not_after != NULL)
		*not_after = 0;
	if (subject != NULL)
		*subject = NULL;
	if (subjectlen != NULL)
		*subjectlen = 0;
	if ((r = x509_parse(der, derlen, &x)) != TBA_OK)
		return r;
	if (not_after != NULL) {
		memset(&tm, 0, sizeof(tm));
		if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1) {
			r = tba_seterr(TBA_ERR_INVALID, "the certificate's notAfter is unreadable");
			goto out;
		}
		*not_after = (int64_t)timegm(&tm);
	}
	if (subject != NULL) {
		if ((n = i2d_X509_NAME(X509_get_subject_name(x), &s)) <= 0 ||
		    (*subject = malloc((size_t)n)) == NULL) {
			r = tba_seterr(TBA_ERR_NOMEM, "cannot encode the certificate's subject");
			goto out;
		}
		memcpy(*subject, s, (size_t)n);
		*subjectlen = (size_t)n;
	}
	r = TBA_OK;
out:
	OPENSSL_free(s);
	X509_free(x);
	return r;
}

tba_err
tba_x509_pem(const unsigned char *der, size_t derlen, char **pem)
{
	X509 *x = NULL;
	BIO *b = NULL;
	char *data = NULL;
	long n;
	tba_err r;

	*pem = NULL;
	if ((r = x509_parse(der, derlen, &x)) != TBA_OK)
		return r;
	if ((b = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509(b, x) != 1 ||
	    (n = BIO_get_mem_data(b, &data)) <= 0 || (*pem = malloc((size_t)n + 1)) == NULL) {
		r = tba_seterr(TBA_ERR_NOMEM, "cannot write the certificate as PEM");
		goto out;
	}
	memcpy(*pem, data, (size_t)n);
	(*pem)[n] = '\0';
	r = TBA_OK;
out:
	BIO_free(b);
	X509_free(x);
	return r;
}
