/* SPDX-License-Identifier: MIT */
/*
 * token_int.h - what token.c (module, slot, login, sessions) and
 * token_obj.c (profiles: import, list, delete) share. Not a public header.
 */
#ifndef TBA_TOKEN_INT_H
#define TBA_TOKEN_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

#include "tba/token.h"

#define TOKEN_LABEL_MAX 32
#define TOKEN_CACHE 8   /* key handles cached per signing session */
#define TOKEN_APP "tba" /* CKA_APPLICATION of the metadata objects */

struct tba_token {
	pthread_mutex_t mu; /* guards everything below */
	P11KitUri *uri;
	CK_FUNCTION_LIST **registry; /* module-name=: the registry's modules, or NULL */
	CK_FUNCTION_LIST *mod;
	int initialized;
	CK_SLOT_ID slot;
	char label[TOKEN_LABEL_MAX + 1];
	CK_SESSION_HANDLE mgmt; /* read-write session for login and objects */
	int have_mgmt;
	/* Bumped by reinit (under mu): older sessions are dead. Atomic: every signature reads it. */
	_Atomic unsigned gen;
};

struct session_key {
	unsigned char id[TBA_KEY_ID_LEN];
	CK_OBJECT_HANDLE h;
};

struct tba_session {
	struct tba_token *t;
	CK_SESSION_HANDLE h;
	unsigned gen;
	struct session_key cache[TOKEN_CACHE];
	size_t ncache;
	size_t next; /* round-robin slot to evict */
};

/*
 * The one place a CK_RV becomes a tba_err: sets the detail to
 * "<what>: <p11_kit_strerror>" and returns the code (TBA_OK for CKR_OK).
 */
tba_err tba_token_rv(CK_RV rv, const char *what);

/* The management session (opened on first use). Call with t->mu held. */
tba_err tba_token_mgmt(struct tba_token *t, CK_SESSION_HANDLE *out);

/* The mechanism and key type for a signature method. */
CK_MECHANISM_TYPE tba_token_mech(enum tba_sigmethod m);
CK_KEY_TYPE tba_token_keytype(enum tba_sigmethod m);

/*
 * Finds objects matching tmpl (at most max handles in out, *n set to how
 * many matched, which may exceed max). Call with t->mu held when h is the
 * management session.
 */
tba_err tba_token_find(CK_FUNCTION_LIST *mod, CK_SESSION_HANDLE h, CK_ATTRIBUTE *tmpl,
    CK_ULONG ntmpl, CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *n);

/* HMAC inside the token with key k on session h. */
tba_err tba_token_mac(CK_FUNCTION_LIST *mod, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k,
    enum tba_sigmethod m, const void *msg, size_t msglen, unsigned char *mac, size_t *maclen);

#endif
