/* SPDX-License-Identifier: MIT */
/*
 * token_session.c - signing sessions: one PKCS#11 session per thread at a
 * time, with the profiles' key handles cached and found again when a
 * re-import replaced the key. Sessions opened before tba_token_reinit()
 * answer TBA_ERR_TOKEN_GONE instead of touching the new module instance.
 */
#include <stdlib.h>
#include <string.h>

#include "token_int.h"

tba_err
tba_session_open(struct tba_token *t, struct tba_session **out)
{
	struct tba_session *s = NULL;
	CK_RV rv;
	tba_err r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return tba_nomem();
	s->t = t;
	pthread_mutex_lock(&t->mu);
	s->gen = t->gen;
	rv = t->mod->C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL, NULL, &s->h);
	pthread_mutex_unlock(&t->mu);
	if ((r = tba_token_rv(rv, "cannot open a session with the token")) != TBA_OK) {
		free(s);
		return r;
	}
	*out = s;
	return TBA_OK;
}

void
tba_session_close(struct tba_session *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->t->mu);
	/* After a reinit the handle belongs to the old module instance. */
	if (s->gen == s->t->gen)
		(void)s->t->mod->C_CloseSession(s->h);
	pthread_mutex_unlock(&s->t->mu);
	free(s);
}

static tba_err
session_alive(struct tba_session *s)
{
	if (atomic_load(&s->t->gen) != s->gen)
		return tba_seterr(TBA_ERR_TOKEN_GONE, "the session predates a token restart");
	return TBA_OK;
}

/* The key of class cls (secret key, or private key for m2m) with CKA_ID p->key_id. */
static tba_err
session_key(
    struct tba_session *s, const struct tba_profile *p, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_ID, (void *)p->key_id, TBA_KEY_ID_LEN},
	};
	CK_OBJECT_HANDLE h[2];
	CK_SESSION_INFO info;
	CK_ULONG n = 0;
	size_t i;
	tba_err r;

	for (i = 0; i < s->ncache; i++) {
		if (memcmp(s->cache[i].id, p->key_id, TBA_KEY_ID_LEN) == 0) {
			*out = s->cache[i].h;
			return TBA_OK;
		}
	}
	if ((r = tba_token_find(s->t->mod, s->h, tmpl, 2, h, 2, &n)) != TBA_OK)
		return r;
	if (n == 0) {
		/* Private keys are invisible to a session that is not logged in. */
		if (s->t->mod->C_GetSessionInfo(s->h, &info) == CKR_OK &&
		    (info.state == CKS_RO_PUBLIC_SESSION || info.state == CKS_RW_PUBLIC_SESSION))
			return tba_seterr(TBA_ERR_LOCKED, "the token is not logged in");
		return tba_seterr(TBA_ERR_NOT_FOUND,
		    "the key of profile %s is not in the token "
		    "(import it again)",
		    p->name);
	}
	if (n > 1)
		return tba_seterr(TBA_ERR_TOKEN,
		    "several keys in the token have the ID of "
		    "profile %s",
		    p->name);
	i = s->ncache < TOKEN_CACHE ? s->ncache++ : s->next++ % TOKEN_CACHE;
	memcpy(s->cache[i].id, p->key_id, TBA_KEY_ID_LEN);
	s->cache[i].h = h[0];
	*out = h[0];
	return TBA_OK;
}

static void
session_forget(struct tba_session *s, const struct tba_profile *p)
{
	size_t i;

	for (i = 0; i < s->ncache; i++) {
		if (memcmp(s->cache[i].id, p->key_id, TBA_KEY_ID_LEN) == 0) {
			s->cache[i] = s->cache[--s->ncache];
			return;
		}
	}
}

tba_err
tba_session_sign(struct tba_session *s, const struct tba_profile *p, const void *msg, size_t msglen,
    unsigned char *mac, size_t *maclen)
{
	CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
	CK_MECHANISM mech = {tba_token_mech(p->sigmethod), NULL, 0};
	CK_ULONG len = TBA_SIG_MAX;
	CK_RV rv;
	int tries;
	tba_err r;

	*maclen = 0;
	if ((r = session_alive(s)) != TBA_OK)
		return r;
	for (tries = 0; tries < 2; tries++) {
		if ((r = session_key(s, p, CKO_SECRET_KEY, &k)) != TBA_OK)
			return r;
		rv = s->t->mod->C_SignInit(s->h, &mech, k);
		/* A re-imported profile has a new key: find it again, once. */
		if (rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID) {
			session_forget(s, p);
			continue;
		}
		if (rv != CKR_OK)
			return tba_token_rv(rv, "the token cannot start an HMAC");
		break;
	}
	if (tries == 2)
		return tba_seterr(TBA_ERR_NOT_FOUND, "the key of profile %s went away", p->name);
	rv = s->t->mod->C_Sign(s->h, (CK_BYTE_PTR)msg, (CK_ULONG)msglen, mac, &len);
	if (rv != CKR_OK)
		return tba_token_rv(rv, "the token cannot compute the HMAC");
	if (len != tba_sigmethod_digest_len(p->sigmethod))
		return tba_seterr(
		    TBA_ERR_TOKEN, "the token returned a %lu-byte HMAC", (unsigned long)len);
	*maclen = len;
	return TBA_OK;
}

/* The PSS parameters of a PS* algorithm: hash, MGF1 with the same hash, salt = hash length. */
static void
session_pss(enum tba_jwt_alg alg, CK_RSA_PKCS_PSS_PARAMS *pss)
{
	switch (tba_jwt_alg_hash_len(alg)) {
	case 48:
		pss->hashAlg = CKM_SHA384;
		pss->mgf = CKG_MGF1_SHA384;
		break;
	case 64:
		pss->hashAlg = CKM_SHA512;
		pss->mgf = CKG_MGF1_SHA512;
		break;
	default:
		pss->hashAlg = CKM_SHA256;
		pss->mgf = CKG_MGF1_SHA256;
		break;
	}
	pss->sLen = tba_jwt_alg_hash_len(alg);
}

/* C_SignInit with p's private key, finding it again once when a rotation replaced it. */
static tba_err
session_sign_init(struct tba_session *s, const struct tba_profile *p, CK_MECHANISM *mech)
{
	CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
	CK_RV rv;
	int tries;
	tba_err r;

	for (tries = 0; tries < 2; tries++) {
		if ((r = session_key(s, p, CKO_PRIVATE_KEY, &k)) != TBA_OK)
			return r;
		rv = s->t->mod->C_SignInit(s->h, mech, k);
		if (rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID) {
			session_forget(s, p);
			continue;
		}
		return tba_token_rv(rv, "the token cannot start the signature");
	}
	return tba_seterr(TBA_ERR_NOT_FOUND, "the key of profile %s went away", p->name);
}

tba_err
tba_session_sign_jws(struct tba_session *s, const struct tba_profile *p, const void *msg,
    size_t msglen, unsigned char *sig, size_t *siglen)
{
	CK_RSA_PKCS_PSS_PARAMS pss;
	CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
	unsigned char dg[TBA_JWS_DIGEST_MAX];
	size_t dglen = 0;
	CK_ULONG len = TBA_JWS_SIG_MAX;
	CK_RV rv;
	tba_err r;

	*siglen = 0;
	if (p->kind != TBA_KIND_M2M)
		return tba_seterr(TBA_ERR_INVALID, "profile %s is not an M2M profile", p->name);
	if ((r = session_alive(s)) != TBA_OK ||
	    (r = tba_jwt_alg_digest(p->alg, msg, msglen, dg, &dglen)) != TBA_OK)
		return r;
	if (!tba_jwt_alg_is_ec(p->alg)) {
		session_pss(p->alg, &pss);
		mech.mechanism = CKM_RSA_PKCS_PSS;
		mech.pParameter = &pss;
		mech.ulParameterLen = sizeof(pss);
	}
	if ((r = session_sign_init(s, p, &mech)) != TBA_OK)
		return r;
	rv = s->t->mod->C_Sign(s->h, dg, (CK_ULONG)dglen, sig, &len);
	if (rv != CKR_OK)
		return tba_token_rv(rv, "the token cannot sign");
	if (tba_jwt_alg_is_ec(p->alg) ? len != 2 * tba_jwt_alg_ec_size(p->alg)
				      : (len < 256 || len > TBA_JWS_SIG_MAX))
		return tba_seterr(TBA_ERR_TOKEN, "the token returned a %lu-byte %s signature",
		    (unsigned long)len, tba_jwt_alg_name(p->alg));
	*siglen = len;
	return TBA_OK;
}

tba_err
tba_session_ping(struct tba_session *s)
{
	CK_SESSION_INFO info;
	tba_err r;

	if ((r = session_alive(s)) != TBA_OK)
		return r;
	return tba_token_rv(s->t->mod->C_GetSessionInfo(s->h, &info), "the token session is gone");
}
