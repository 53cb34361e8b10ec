/*
 * token.h - the PKCS#11 token, reached through p11-kit.
 *
 * A token is named by an RFC 7512 URI (README.md, man/tba.1):
 *   pkcs11:token=LABEL?module-name=softhsm2&pin-source=file:/path
 * module-name= is a module in p11-kit's registry, module-path= an absolute
 * path. The module is loaded in p11-kit's managed mode with OS locking, so
 * several threads may use the token at once, each on its own session.
 *
 * Objects: per profile one secret key (CKA_LABEL = profile,
 * CKA_ID = 16 random bytes, sensitive, non-extractable, not modifiable, sign
 * only) and one private CKO_DATA object (CKA_APPLICATION "tba", CKA_LABEL =
 * profile, CKA_VALUE = tba_profile_to_json()) that names the key by CKA_ID.
 *
 * Every CK_RV is turned into a tba_err here and nowhere else; the detail
 * message keeps p11_kit_strerror()'s text. Codes that mean the device or the
 * session went away (CKR_DEVICE_REMOVED, CKR_SESSION_HANDLE_INVALID,
 * CKR_SESSION_CLOSED, CKR_TOKEN_NOT_PRESENT, CKR_CRYPTOKI_NOT_INITIALIZED,
 * CKR_DEVICE_ERROR, CKR_GENERAL_ERROR from a dead RPC) become
 * TBA_ERR_TOKEN_GONE; CKR_USER_NOT_LOGGED_IN becomes TBA_ERR_LOCKED;
 * CKR_PIN_INCORRECT becomes TBA_ERR_PIN_INCORRECT and is never retried.
 */
#ifndef TBA_TOKEN_H
#define TBA_TOKEN_H

#include <stddef.h>

#include "tba/err.h"
#include "tba/profile.h"

struct tba_token;
struct tba_session;

/*
 * Parses uri, loads its module and finds the one token it matches (no match
 * or several: TBA_ERR_NO_TOKEN naming what was looked for). Does not log in.
 * uri NULL: TBA_ERR_USAGE ("name the token with --token or TBA_TOKEN").
 */
tba_err tba_token_open(const char *uri, struct tba_token **out);

/* Releases sessions, finalizes the module. NULL is a no-op. */
void tba_token_close(struct tba_token *t);

/* The token's label (for messages). */
const char *tba_token_label(const struct tba_token *t);

/*
 * The PIN the URI names: pin-value=, else the first line of pin-source=file:,
 * else a prompt with echo off on the controlling terminal. *pin is secure
 * memory of *pincap bytes (tba_secfree(*pin, *pincap)), NUL-terminated.
 * No source and no terminal: TBA_ERR_USAGE saying how to give one.
 */
tba_err tba_token_get_pin(struct tba_token *t, char **pin, size_t *pinlen, size_t *pincap);

/*
 * C_Login as CKU_USER. Already logged in counts as success. A wrong PIN is
 * TBA_ERR_PIN_INCORRECT and the caller must not try it again.
 */
tba_err tba_token_login(struct tba_token *t, const char *pin, size_t pinlen);

/* C_Logout (all sessions of this application lose the login). */
tba_err tba_token_logout(struct tba_token *t);

/*
 * Recovery after TBA_ERR_TOKEN_GONE: closes every session (the caller must
 * hold none), finalizes and initializes the module again and finds the token
 * again. The caller logs in again afterwards.
 */
tba_err tba_token_reinit(struct tba_token *t);

/* All profiles in the token, sorted by name. *out is malloc'ed (free()), may be NULL when *n == 0. */
tba_err tba_token_profiles(struct tba_token *t, struct tba_profile **out, size_t *n);

/* One profile by name; TBA_ERR_NOT_FOUND when there is none. */
tba_err tba_token_profile(struct tba_token *t, const char *name, struct tba_profile *out);

/*
 * Imports p (its key_id is generated here) with the HMAC key for the OAuth
 * key oauth_key[0..keylen) = enc(cs)&enc(ts). The stored value is the
 * RFC 2104 equivalent key (tba_hmac_equiv_key). Before anything is reported
 * as done, the token's C_Sign over a test message is compared with the
 * software HMAC of oauth_key; on mismatch everything written is destroyed
 * (TBA_ERR_VERIFY). An existing profile is TBA_ERR_EXISTS unless replace, in
 * which case the old key is destroyed only after the new one verified.
 * Must be logged in.
 */
tba_err tba_token_import(struct tba_token *t, struct tba_profile *p,
    const unsigned char *oauth_key, size_t keylen, int replace);

/* Destroys the profile's key and data object. TBA_ERR_NOT_FOUND when there is none. */
tba_err tba_token_delete(struct tba_token *t, const char *name);

/*
 * A session for signing. One session is used by one thread at a time
 * (SoftHSM crashes otherwise); the agent keeps a pool of them.
 */
tba_err tba_session_open(struct tba_token *t, struct tba_session **out);
void tba_session_close(struct tba_session *s);

/*
 * mac = HMAC over msg inside the token with p's key (found by p->key_id,
 * handle cached in the session) and p->sigmethod's mechanism. mac must hold
 * TBA_SIG_MAX bytes.
 */
tba_err tba_session_sign(struct tba_session *s, const struct tba_profile *p,
    const void *msg, size_t msglen, unsigned char *mac, size_t *maclen);

/* A cheap call (C_GetSessionInfo) that keeps an idle session alive and tells if it still is. */
tba_err tba_session_ping(struct tba_session *s);

#endif
