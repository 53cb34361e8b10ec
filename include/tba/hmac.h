/* SPDX-License-Identifier: MIT */
/*
 * hmac.h - the OAuth key and HMAC in software (OpenSSL).
 *
 * Used by `tba import` to build the key that goes into the token and to check
 * the token's MAC against an independent computation, and by tests. The agent
 * never computes an HMAC in software: its MACs come from the token.
 */
#ifndef TBA_HMAC_H
#define TBA_HMAC_H

#include <stddef.h>

#include "tba/err.h"
#include "tba/oauth.h"

/*
 * Builds the RFC 5849 §3.4.2 key enc(cs) & enc(ts) in secure memory.
 * *key is from tba_secalloc(*keycap) and must be released with
 * tba_secfree(*key, *keycap); *keylen is the key's length.
 */
tba_err tba_hmac_oauth_key(const char *cs, size_t cslen, const char *ts, size_t tslen,
    unsigned char **key, size_t *keylen, size_t *keycap);

/*
 * The RFC 2104 equivalent of key for method m, zero-padded to at least
 * min_len bytes (clamped to the block size): a key longer than the block is
 * replaced by its hash; padding with zeros up to the block size gives the
 * same MACs. *out is secure memory of TBA_HMAC_KEY_MAX bytes; release with
 * tba_secfree(*out, TBA_HMAC_KEY_MAX).
 */
#define TBA_HMAC_KEY_MAX 128
tba_err tba_hmac_equiv_key(enum tba_sigmethod m, const unsigned char *key, size_t keylen,
    size_t min_len, unsigned char **out, size_t *outlen);

/* mac = HMAC_m(key, msg); *maclen set to the digest length (out must hold TBA_SIG_MAX). */
tba_err tba_hmac_soft(enum tba_sigmethod m, const unsigned char *key, size_t keylen,
    const void *msg, size_t msglen, unsigned char *mac, size_t *maclen);

#endif
