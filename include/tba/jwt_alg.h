/* SPDX-License-Identifier: MIT */
/*
 * jwt_alg.h - the JWS algorithms of M2M profiles (RFC 7518 names) and what
 * each means for the key in the token and for the signature.
 *
 * ES256/ES384/ES512: ECDSA on P-256/P-384/P-521 over the SHA-256/384/512
 * digest; the JWS signature is r||s, each left-padded with zeros to the
 * curve's size (32, 48, 66 bytes), which is what CKM_ECDSA returns.
 * PS256/PS384/PS512: RSASSA-PSS with SHA-256/384/512, MGF1 with the same
 * hash and a salt as long as the hash; RSA 3072 bits by default.
 *
 * Pure code (OpenSSL digests only).
 */
#ifndef TBA_JWT_ALG_H
#define TBA_JWT_ALG_H

#include <stddef.h>

#include "tba/err.h"

enum tba_jwt_alg {
	TBA_ALG_ES256 = 0,
	TBA_ALG_ES384,
	TBA_ALG_ES512,
	TBA_ALG_PS256,
	TBA_ALG_PS384,
	TBA_ALG_PS512,
};

#define TBA_JWS_SIG_MAX 512   /* largest JWS signature: RSA 4096 */
#define TBA_JWS_DIGEST_MAX 64 /* SHA-512 */
#define TBA_RSA_BITS_DEFAULT 3072

/* "ES256", ...; "unknown" for a value outside the enum. */
const char *tba_jwt_alg_name(enum tba_jwt_alg a);

/* Exact, case-sensitive RFC 7518 name; TBA_ERR_INVALID naming the six otherwise. */
tba_err tba_jwt_alg_parse(const char *s, enum tba_jwt_alg *out);

/* 1 for ES*, 0 for PS*. */
int tba_jwt_alg_is_ec(enum tba_jwt_alg a);

/* Digest length in bytes: 32, 48 or 64. */
size_t tba_jwt_alg_hash_len(enum tba_jwt_alg a);

/* ES*: the size of r (and of s) in bytes: 32, 48, 66. PS*: 0. */
size_t tba_jwt_alg_ec_size(enum tba_jwt_alg a);

/* ES*: the OpenSSL NID of the curve (NID_X9_62_prime256v1, ...). PS*: 0. */
int tba_jwt_alg_curve_nid(enum tba_jwt_alg a);

/* The OpenSSL NID of the hash (NID_sha256, NID_sha384, NID_sha512). */
int tba_jwt_alg_hash_nid(enum tba_jwt_alg a);

/*
 * out = SHA-2 digest of msg for a's hash; out holds TBA_JWS_DIGEST_MAX
 * bytes, *outlen is set to tba_jwt_alg_hash_len(a).
 */
tba_err tba_jwt_alg_digest(
    enum tba_jwt_alg a, const void *msg, size_t msglen, unsigned char *out, size_t *outlen);

#endif
