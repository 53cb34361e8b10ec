/* SPDX-License-Identifier: MIT */
/*
 * jwt.h - OAuth 2.0 client credentials (M2M) for NetSuite: the JWT client
 * assertion (RFC 7523) and the token endpoint's reply. Pure code: no token,
 * no socket; the signature comes from a callback, so the agent signs in the
 * device and the unit tests and fuzzers link this directly.
 *
 * The assertion is a compact JWS:
 *   base64url(header) "." base64url(claims) "." base64url(signature)
 *   header  {"alg": ALG, "typ": "JWT", "kid": CERTIFICATE_ID}
 *   claims  {"iss": CLIENT_ID, "scope": "a,b", "aud": TOKEN_URL,
 *            "iat": NOW, "exp": NOW + 300, "jti": RANDOM}
 * base64url is RFC 4648 section 5 without padding. The signature is over the
 * ASCII signing input (everything before the second "."): for ES* it is
 * r||s, each zero-padded to the curve size; for PS* the RSASSA-PSS bytes.
 */
#ifndef TBA_JWT_H
#define TBA_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "tba/buf.h"
#include "tba/err.h"

#define TBA_JWT_LIFETIME 300 /* exp - iat, seconds (NetSuite allows < 3600) */
#define TBA_JWT_JTI_BYTES 24 /* random bytes behind jti (32 base64url characters) */
#define TBA_JWT_JTI_MAX 64
#define TBA_JWT_MAX 8192     /* a whole assertion, bytes */
#define TBA_JWT_SIG_MAX 1024 /* a raw signature the callback may return */
#define TBA_JWT_URL_MAX 512
#define TBA_JWT_TOKEN_MAX 8192    /* an access token, bytes */
#define TBA_JWT_REPLY_MAX 65536   /* a token endpoint reply body, bytes */
#define TBA_JWT_EXPIRES_MAX 86400 /* longest expires_in believed, seconds */

/*
 * Appends base64url without padding of in[0..n) to out.
 */
tba_err tba_jwt_b64url(const void *in, size_t n, struct tba_buf *out);

/*
 * The account's token endpoint into out (outsz >= TBA_JWT_URL_MAX):
 * https://HOST.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token
 * with HOST the account ID lower-cased and '_' turned into '-'. The account
 * must pass tba_ns_account_check() (TBA_ERR_INVALID otherwise).
 */
tba_err tba_jwt_token_url(const char *account, char *out, size_t outsz);
/* The REST base URL: https://HOST.suitetalk.api.netsuite.com/services/rest */
tba_err tba_jwt_rest_url(const char *account, char *out, size_t outsz);

/* A fresh jti: TBA_JWT_JTI_BYTES from RAND_bytes, base64url. outsz >= TBA_JWT_JTI_MAX. */
tba_err tba_jwt_jti_new(char *out, size_t outsz);

/*
 * Signs msg[0..len) (the JWS signing input) into sig (TBA_JWT_SIG_MAX
 * bytes); *siglen is set to the signature's length.
 */
typedef tba_err (*tba_jwt_sign_fn)(
    void *arg, const void *msg, size_t len, unsigned char *sig, size_t *siglen);

struct tba_jwt_claims {
	const char *alg;   /* "ES256" .. "PS512": anything else is refused */
	const char *kid;   /* the certificate ID */
	const char *iss;   /* the client ID */
	const char *scope; /* scopes joined by "," */
	const char *aud;   /* the token endpoint URL */
	int64_t iat;       /* exp = iat + TBA_JWT_LIFETIME */
	const char *jti;
};

/*
 * Builds the header and claims of c, hands the signing input to sign(arg,
 * ...) and appends the compact JWS to out (which should have room for
 * TBA_JWT_MAX). Empty kid, iss, scope, aud or jti, or an unknown alg, is
 * TBA_ERR_INVALID; a signing failure is returned as the callback left it.
 * On failure out is left as it was.
 */
tba_err tba_jwt_build(
    const struct tba_jwt_claims *c, tba_jwt_sign_fn sign, void *arg, struct tba_buf *out);

/* What the token endpoint answered. */
struct tba_jwt_reply {
	char *access_token; /* secure memory (tba_jwt_reply_free); NULL on an error reply */
	size_t access_token_cap;
	char token_type[32];
	int64_t expires_in;          /* seconds; 3600 when the reply has none */
	char scope[256];             /* "" when absent */
	char error[64];              /* NetSuite's "error" code; "" on success */
	char error_description[256]; /* printable ASCII only, '?' for the rest */
};

/*
 * Parses the reply body[0..len) (at most TBA_JWT_REPLY_MAX bytes).
 * TBA_OK with out->access_token set: a Bearer token (printable ASCII, no
 * blanks, at most TBA_JWT_TOKEN_MAX bytes) and expires_in in 1..86400.
 * TBA_ERR_REMOTE: an error reply ({"error": ..., "error_description": ...});
 *   out->error is set, the detail message names it.
 * TBA_ERR_PROTO: anything else (not JSON, wrong types, no token).
 * out is always safe to pass to tba_jwt_reply_free().
 */
tba_err tba_jwt_reply_parse(const char *body, size_t len, struct tba_jwt_reply *out);
/* Wipes and frees the access token; leaves out empty. */
void tba_jwt_reply_free(struct tba_jwt_reply *r);

#endif
