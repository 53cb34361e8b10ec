/* SPDX-License-Identifier: MIT */
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
 * An m2m profile has no secret key; instead a key pair generated in the
 * token (CKO_PRIVATE_KEY: CKA_LABEL = profile, token, private, sensitive,
 * sign only, not extractable; CKO_PUBLIC_KEY) and its self-signed
 * certificate (CKO_CERTIFICATE, CKC_X_509), the three sharing one random
 * 16-byte CKA_ID: the profile's key_id, and next_key_id during a rotation.
 * Everything of a profile is found by CKA_ID, never by label alone.
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

#include <openssl/evp.h>

#include "tba/err.h"
#include "tba/jwt_alg.h"
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
tba_err tba_token_import(struct tba_token *t, struct tba_profile *p, const unsigned char *oauth_key,
    size_t keylen, int replace);

/*
 * Destroys the profile's data object, then every object whose CKA_ID is its
 * key_id or (pending rotation) next_key_id: HMAC key, key pairs,
 * certificates. TBA_ERR_NOT_FOUND when there is no such profile.
 */
tba_err tba_token_delete(struct tba_token *t, const char *name);

/*
 * M2M objects. All of these use the management session and need a login.
 *
 * tba_token_keygen: C_GenerateKeyPair for alg (ES256 = P-256, ES384 =
 * P-384, ES512 = P-521, PS* = RSA of rsa_bits: 3072 or 4096; 0 means 3072)
 * with a fresh random CKA_ID written to key_id. The private key gets
 * CKA_LABEL = name, CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, CKA_SIGN true and
 * CKA_EXTRACTABLE, CKA_DECRYPT, CKA_UNWRAP, CKA_DERIVE false; the public key
 * the same label and ID, CKA_VERIFY true. Then it checks that the token
 * reports the private key CKA_SENSITIVE, CKA_ALWAYS_SENSITIVE,
 * CKA_NEVER_EXTRACTABLE and CKA_LOCAL true and CKA_EXTRACTABLE false; a
 * token that does not is refused and both keys destroyed. A token without
 * the mechanism or curve: TBA_ERR_TOKEN saying which.
 */
tba_err tba_token_keygen(struct tba_token *t, const char *name, enum tba_jwt_alg alg,
    unsigned rsa_bits, unsigned char key_id[TBA_KEY_ID_LEN]);

/*
 * The public key with CKA_ID key_id (CKO_PUBLIC_KEY: CKA_EC_POINT, or
 * CKA_MODULUS and CKA_PUBLIC_EXPONENT) as an EVP_PKEY checked to fit alg
 * (pubkey.h). *out is the caller's (EVP_PKEY_free).
 */
tba_err tba_token_pubkey(struct tba_token *t, const unsigned char key_id[TBA_KEY_ID_LEN],
    enum tba_jwt_alg alg, EVP_PKEY **out);

/*
 * Stores a DER certificate as CKO_CERTIFICATE (CKC_X_509, CKA_VALUE = der,
 * CKA_SUBJECT from it, CKA_ID = key_id, CKA_LABEL = name, token, public).
 */
tba_err tba_token_cert_put(struct tba_token *t, const char *name,
    const unsigned char key_id[TBA_KEY_ID_LEN], const unsigned char *der, size_t derlen);

/* The DER of the certificate with CKA_ID key_id; *der malloc'ed (free()). TBA_ERR_NOT_FOUND when none. */
tba_err tba_token_cert_get(struct tba_token *t, const unsigned char key_id[TBA_KEY_ID_LEN],
    unsigned char **der, size_t *derlen);

/*
 * Destroys every object with CKA_ID key_id (keys, certificates; never a
 * data object, which carries no CKA_ID). Used to drop a half-made key pair
 * and the objects a replace or rotation left behind. Objects that cannot be
 * destroyed are a warning, not an error.
 */
tba_err tba_token_destroy_id(struct tba_token *t, const unsigned char key_id[TBA_KEY_ID_LEN]);

/*
 * Writes p's metadata (tba_profile_to_json) as the profile's data object.
 * No profile of that name yet: creates it. One exists: TBA_ERR_EXISTS
 * unless replace, in which case its value is updated in place (or a new
 * object is created first and the old one destroyed, for tokens that refuse
 * the update). Destroys no key: the caller drops the old key objects with
 * tba_token_destroy_id() once the new metadata is in. When old is not NULL
 * it receives the profile that was replaced (zeroed when none).
 */
tba_err tba_token_save(
    struct tba_token *t, const struct tba_profile *p, int replace, struct tba_profile *old);

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
tba_err tba_session_sign(struct tba_session *s, const struct tba_profile *p, const void *msg,
    size_t msglen, unsigned char *mac, size_t *maclen);

/*
 * The JWS signature (jwt_alg.h) of msg with p's private key: the key pair
 * whose CKA_ID is p->key_id (handle cached in the session like HMAC keys),
 * p->alg's digest computed on the host, then CKM_ECDSA (r||s, each padded
 * to the curve size) or CKM_RSA_PKCS_PSS with CK_RSA_PKCS_PSS_PARAMS (hash,
 * MGF1 with the same hash, salt = hash length) in the token. sig holds
 * TBA_JWS_SIG_MAX bytes. p must be of kind m2m (TBA_ERR_INVALID otherwise).
 * To sign with a pending key (the certificate of a rotation), pass a copy
 * of the profile whose key_id is next_key_id.
 */
tba_err tba_session_sign_jws(struct tba_session *s, const struct tba_profile *p, const void *msg,
    size_t msglen, unsigned char *sig, size_t *siglen);

/* A cheap call (C_GetSessionInfo) that keeps an idle session alive and tells if it still is. */
tba_err tba_session_ping(struct tba_session *s);

#endif
