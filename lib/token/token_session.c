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

static tba_err
session_key(struct tba_session *s, const struct tba_profile *p, CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
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
		return tba_seterr(TBA_ERR_NOT_FOUND, "the key of profile %s is not in the token "
		    "(import it again)", p->name);
	}
	if (n > 1)
		return tba_seterr(TBA_ERR_TOKEN, "several keys in the token have the ID of "
		    "profile %s", p->name);
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
tba_session_sign(struct tba_session *s, const struct tba_profile *p,
    const void *msg, size_t msglen, unsigned char *mac, size_t *maclen)
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
		if ((r = session_key(s, p, &k)) != TBA_OK)
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
		return tba_seterr(TBA_ERR_TOKEN, "the token returned a %lu-byte HMAC",
		    (unsigned long)len);
	*maclen = len;
	return TBA_OK;
}

tba_err
tba_session_ping(struct tba_session *s)
{
	CK_SESSION_INFO info;
	tba_err r;

	if ((r = session_alive(s)) != TBA_OK)
		return r;
	return tba_token_rv(s->t->mod->C_GetSessionInfo(s->h, &info),
	    "the token session is gone");
}
