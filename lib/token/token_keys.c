/* SPDX-License-Identifier: MIT */
/*
 * token_keys.c - the objects of M2M profiles (token.h): key pairs generated
 * in the token, their public halves read back, their certificates. The
 * metadata that names them by CKA_ID is written by token_obj.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/rand.h>

#include "tba/log.h"
#include "tba/pubkey.h"
#include "tba/x509.h"
#include "token_int.h"

#define KEYS_PER_ID 8 /* objects sharing one CKA_ID: key pair, certificate, leftovers */
#define KEYS_RSA_MAX_BITS 4096

/* "P-256 key pair", "RSA 3072 key pair": for messages. */
static void
keys_what(enum tba_jwt_alg alg, unsigned bits, char *buf, size_t bufsz)
{
	static const char *const curve[] = {"P-256", "P-384", "P-521"};

	if (tba_jwt_alg_is_ec(alg))
		snprintf(buf, bufsz, "EC %s", curve[(size_t)alg - (size_t)TBA_ALG_ES256]);
	else
		snprintf(buf, bufsz, "RSA %u", bits);
}

/* The token must offer the key generation mechanism at that size and the signing mechanism. */
static tba_err
keys_mech_ok(struct tba_token *t, enum tba_jwt_alg alg, unsigned bits, const char *what)
{
	CK_MECHANISM_TYPE gen =
	    tba_jwt_alg_is_ec(alg) ? CKM_EC_KEY_PAIR_GEN : CKM_RSA_PKCS_KEY_PAIR_GEN;
	CK_MECHANISM_TYPE sig = tba_jwt_alg_is_ec(alg) ? CKM_ECDSA : CKM_RSA_PKCS_PSS;
	CK_MECHANISM_INFO mi;
	CK_RV rv;

	rv = t->mod->C_GetMechanismInfo(t->slot, gen, &mi);
	if (rv == CKR_OK && (!(mi.flags & CKF_GENERATE_KEY_PAIR) || mi.ulMaxKeySize < bits))
		rv = CKR_MECHANISM_INVALID;
	if (rv == CKR_OK) {
		rv = t->mod->C_GetMechanismInfo(t->slot, sig, &mi);
		if (rv == CKR_OK && !(mi.flags & CKF_SIGN))
			rv = CKR_MECHANISM_INVALID;
	}
	if (rv == CKR_MECHANISM_INVALID)
		return tba_seterr(TBA_ERR_TOKEN,
		    "token %s cannot generate or sign with %s keys "
		    "(%s); pick another --alg",
		    t->label, what, tba_jwt_alg_name(alg));
	return tba_token_rv(rv, "cannot ask the token about its key mechanisms");
}

/* The private key must have come out the way it was asked for; a token that ignored a flag is refused. */
static tba_err
keys_check_private(struct tba_token *t, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k)
{
	CK_BBOOL sens = CK_FALSE, asens = CK_FALSE, nextr = CK_FALSE, local = CK_FALSE;
	CK_BBOOL extr = CK_TRUE;
	CK_ATTRIBUTE a[] = {
	    {CKA_SENSITIVE, &sens, sizeof(sens)},
	    {CKA_ALWAYS_SENSITIVE, &asens, sizeof(asens)},
	    {CKA_NEVER_EXTRACTABLE, &nextr, sizeof(nextr)},
	    {CKA_LOCAL, &local, sizeof(local)},
	    {CKA_EXTRACTABLE, &extr, sizeof(extr)},
	};

	if (t->mod->C_GetAttributeValue(h, k, a, sizeof(a) / sizeof(a[0])) != CKR_OK ||
	    sens != CK_TRUE || asens != CK_TRUE || nextr != CK_TRUE || local != CK_TRUE ||
	    extr != CK_FALSE)
		return tba_seterr(TBA_ERR_TOKEN,
		    "token %s does not report the new private key as "
		    "generated inside it, always sensitive and never extractable; nothing kept",
		    t->label);
	return TBA_OK;
}

/* The DER OID of alg's curve (CKA_EC_PARAMS, namedCurve). *der from OPENSSL_malloc. */
static tba_err
keys_ec_params(enum tba_jwt_alg alg, unsigned char **der, int *derlen)
{
	*der = NULL;
	*derlen = i2d_ASN1_OBJECT(OBJ_nid2obj(tba_jwt_alg_curve_nid(alg)), der);
	if (*derlen <= 0)
		return tba_seterr(
		    TBA_ERR_CRYPTO, "cannot encode the curve of %s", tba_jwt_alg_name(alg));
	return TBA_OK;
}

tba_err
tba_token_keygen(struct tba_token *t, const char *name, enum tba_jwt_alg alg, unsigned rsa_bits,
    unsigned char key_id[TBA_KEY_ID_LEN])
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG bits = rsa_bits != 0 ? rsa_bits : TBA_RSA_BITS_DEFAULT;
	CK_BYTE exp[] = {0x01, 0x00, 0x01};
	unsigned char id[TBA_KEY_ID_LEN], *params = NULL;
	int paramslen = 0;
	CK_ATTRIBUTE pub[] = {
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &no, sizeof(no)},
	    {CKA_VERIFY, &yes, sizeof(yes)},
	    {CKA_ENCRYPT, &no, sizeof(no)},
	    {CKA_WRAP, &no, sizeof(no)},
	    {CKA_LABEL, (void *)name, strlen(name)},
	    {CKA_ID, id, sizeof(id)},
	    {CKA_MODULUS_BITS, &bits, sizeof(bits)}, /* RSA; EC replaces these two */
	    {CKA_PUBLIC_EXPONENT, exp, sizeof(exp)},
	};
	CK_ATTRIBUTE priv[] = {
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &yes, sizeof(yes)},
	    {CKA_SENSITIVE, &yes, sizeof(yes)},
	    {CKA_SIGN, &yes, sizeof(yes)},
	    {CKA_EXTRACTABLE, &no, sizeof(no)},
	    {CKA_DECRYPT, &no, sizeof(no)},
	    {CKA_UNWRAP, &no, sizeof(no)},
	    {CKA_DERIVE, &no, sizeof(no)},
	    {CKA_LABEL, (void *)name, strlen(name)},
	    {CKA_ID, id, sizeof(id)},
	};
	CK_MECHANISM mech = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	CK_ULONG npub = sizeof(pub) / sizeof(pub[0]);
	CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
	CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
	char what[32];
	CK_RV rv;
	tba_err r;

	memset(key_id, 0, TBA_KEY_ID_LEN);
	if (!tba_jwt_alg_is_ec(alg) && bits != 3072 && bits != 4096)
		return tba_seterr(TBA_ERR_INVALID,
		    "RSA keys are 3072 or 4096 bits (NetSuite takes "
		    "those)");
	keys_what(alg, (unsigned)bits, what, sizeof(what));
	if (RAND_bytes(id, sizeof(id)) != 1)
		return tba_seterr(TBA_ERR_CRYPTO, "no random bytes for the key ID");
	if (tba_jwt_alg_is_ec(alg)) {
		if ((r = keys_ec_params(alg, &params, &paramslen)) != TBA_OK)
			return r;
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		pub[npub - 2].type = CKA_EC_PARAMS;
		pub[npub - 2].pValue = params;
		pub[npub - 2].ulValueLen = (CK_ULONG)paramslen;
		npub--;
		bits = (CK_ULONG)tba_jwt_alg_ec_size(alg) * 8;
		if (alg == TBA_ALG_ES512)
			bits = 521;
	}
	pthread_mutex_lock(&t->mu);
	if ((r = tba_token_mgmt(t, &h)) != TBA_OK ||
	    (r = keys_mech_ok(t, alg, (unsigned)bits, what)) != TBA_OK)
		goto out;
	rv = t->mod->C_GenerateKeyPair(
	    h, &mech, pub, npub, priv, sizeof(priv) / sizeof(priv[0]), &hpub, &hpriv);
	if (rv == CKR_CURVE_NOT_SUPPORTED || rv == CKR_DOMAIN_PARAMS_INVALID ||
	    rv == CKR_MECHANISM_INVALID || rv == CKR_KEY_SIZE_RANGE) {
		r = tba_seterr(TBA_ERR_TOKEN,
		    "token %s cannot generate %s keys; pick another "
		    "--alg",
		    t->label, what);
		goto out;
	}
	if ((r = tba_token_rv(rv, "the token cannot generate the key pair")) != TBA_OK ||
	    (r = keys_check_private(t, h, hpriv)) != TBA_OK)
		goto out;
	memcpy(key_id, id, TBA_KEY_ID_LEN);
	hpub = hpriv = CK_INVALID_HANDLE; /* kept */
	r = TBA_OK;
out:
	if (hpriv != CK_INVALID_HANDLE)
		(void)t->mod->C_DestroyObject(h, hpriv);
	if (hpub != CK_INVALID_HANDLE)
		(void)t->mod->C_DestroyObject(h, hpub);
	pthread_mutex_unlock(&t->mu);
	OPENSSL_free(params);
	return r;
}

/* The one object of class cls with CKA_ID id. Call with t->mu held. */
static tba_err
keys_find(struct tba_token *t, CK_SESSION_HANDLE h, CK_OBJECT_CLASS cls, const unsigned char *id,
    const char *what, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_ID, (void *)id, TBA_KEY_ID_LEN},
	};
	CK_OBJECT_HANDLE o[2];
	CK_ULONG n = 0;
	tba_err r;

	*out = CK_INVALID_HANDLE;
	if ((r = tba_token_find(t->mod, h, tmpl, 2, o, 2, &n)) != TBA_OK)
		return r;
	if (n == 0)
		return tba_seterr(TBA_ERR_NOT_FOUND, "the %s is not in token %s", what, t->label);
	if (n > 1)
		return tba_seterr(TBA_ERR_TOKEN,
		    "token %s holds several objects of one profile's "
		    "%s",
		    t->label, what);
	*out = o[0];
	return TBA_OK;
}

/* Reads attribute type of o (at most max bytes) into a malloc'ed buffer. Call with t->mu held. */
static tba_err
keys_attr(struct tba_token *t, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type,
    size_t max, unsigned char **out, size_t *len)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	unsigned char *v = NULL;
	CK_RV rv;

	*out = NULL;
	*len = 0;
	if ((rv = t->mod->C_GetAttributeValue(h, o, &a, 1)) != CKR_OK)
		return tba_token_rv(rv, "cannot read a key attribute");
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen == 0 || a.ulValueLen > max)
		return tba_seterr(TBA_ERR_TOO_LARGE,
		    "a key attribute in token %s is unreadable, "
		    "empty or longer than %zu bytes",
		    t->label, max);
	if ((v = malloc(a.ulValueLen)) == NULL)
		return tba_nomem();
	a.pValue = v;
	if ((rv = t->mod->C_GetAttributeValue(h, o, &a, 1)) != CKR_OK) {
		free(v);
		return tba_token_rv(rv, "cannot read a key attribute");
	}
	*out = v;
	*len = a.ulValueLen;
	return TBA_OK;
}

tba_err
tba_token_pubkey(struct tba_token *t, const unsigned char key_id[TBA_KEY_ID_LEN],
    enum tba_jwt_alg alg, EVP_PKEY **out)
{
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE o;
	unsigned char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	tba_err r;

	*out = NULL;
	pthread_mutex_lock(&t->mu);
	if ((r = tba_token_mgmt(t, &h)) != TBA_OK ||
	    (r = keys_find(t, h, CKO_PUBLIC_KEY, key_id, "public key", &o)) != TBA_OK)
		goto out;
	if (tba_jwt_alg_is_ec(alg)) {
		if ((r = keys_attr(t, h, o, CKA_EC_POINT, TBA_PUBKEY_ATTR_MAX, &a, &alen)) ==
		    TBA_OK)
			r = tba_pubkey_from_ec(alg, a, alen, out);
	} else {
		if ((r = keys_attr(t, h, o, CKA_MODULUS, TBA_PUBKEY_ATTR_MAX, &a, &alen)) ==
			TBA_OK &&
		    (r = keys_attr(t, h, o, CKA_PUBLIC_EXPONENT, TBA_PUBKEY_ATTR_MAX, &b, &blen)) ==
			TBA_OK)
			r = tba_pubkey_from_rsa(a, alen, b, blen, out);
	}
	if (r == TBA_OK && (r = tba_pubkey_check(*out, alg)) != TBA_OK) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
out:
	pthread_mutex_unlock(&t->mu);
	free(a);
	free(b);
	return r;
}

tba_err
tba_token_cert_put(struct tba_token *t, const char *name,
    const unsigned char key_id[TBA_KEY_ID_LEN], const unsigned char *der, size_t derlen)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	unsigned char *subj = NULL;
	size_t subjlen = 0;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_CERTIFICATE_TYPE, &ct, sizeof(ct)},
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &no, sizeof(no)},
	    {CKA_LABEL, (void *)name, strlen(name)},
	    {CKA_ID, (void *)key_id, TBA_KEY_ID_LEN},
	    {CKA_SUBJECT, NULL, 0},
	    {CKA_VALUE, (void *)der, derlen},
	};
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE o;
	tba_err r;

	if ((r = tba_x509_info(der, derlen, NULL, &subj, &subjlen)) != TBA_OK)
		return r;
	tmpl[6].pValue = subj;
	tmpl[6].ulValueLen = subjlen;
	pthread_mutex_lock(&t->mu);
	if ((r = tba_token_mgmt(t, &h)) == TBA_OK)
		r = tba_token_rv(
		    t->mod->C_CreateObject(h, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), &o),
		    "the token refused the certificate");
	pthread_mutex_unlock(&t->mu);
	free(subj);
	return r;
}

tba_err
tba_token_cert_get(struct tba_token *t, const unsigned char key_id[TBA_KEY_ID_LEN],
    unsigned char **der, size_t *derlen)
{
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE o;
	tba_err r;

	*der = NULL;
	*derlen = 0;
	pthread_mutex_lock(&t->mu);
	if ((r = tba_token_mgmt(t, &h)) == TBA_OK &&
	    (r = keys_find(t, h, CKO_CERTIFICATE, key_id, "certificate", &o)) == TBA_OK)
		r = keys_attr(t, h, o, CKA_VALUE, TBA_CERT_DER_MAX, der, derlen);
	pthread_mutex_unlock(&t->mu);
	return r;
}

tba_err
tba_token_destroy_id(struct tba_token *t, const unsigned char key_id[TBA_KEY_ID_LEN])
{
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_ID, (void *)key_id, TBA_KEY_ID_LEN},
	};
	CK_OBJECT_HANDLE o[KEYS_PER_ID];
	CK_SESSION_HANDLE h;
	CK_ULONG n = 0, i;
	tba_err r;

	pthread_mutex_lock(&t->mu);
	if ((r = tba_token_mgmt(t, &h)) != TBA_OK ||
	    (r = tba_token_find(t->mod, h, tmpl, 2, o, KEYS_PER_ID, &n)) != TBA_OK)
		goto out;
	for (i = 0; i < n && i < KEYS_PER_ID; i++) {
		if (t->mod->C_DestroyObject(h, o[i]) != CKR_OK)
			tba_warn(
			    "could not remove an old key or certificate from token %s", t->label);
	}
	r = TBA_OK;
out:
	pthread_mutex_unlock(&t->mu);
	return r;
}
