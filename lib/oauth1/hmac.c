/* SPDX-License-Identifier: MIT */
/* hmac.c - the OAuth key and software HMAC (import checks and tests only). */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tba/buf.h"
#include "tba/hmac.h"
#include "tba/mem.h"
#include "tba/url.h"

static const EVP_MD *
hmac_md(enum tba_sigmethod m)
{
	switch (m) {
	case TBA_SIG_HMAC_SHA1:
		return EVP_sha1();
	case TBA_SIG_HMAC_SHA256:
		return EVP_sha256();
	case TBA_SIG_HMAC_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

/*
 * Encoding happens in a plain tba_buf (heap) and is copied into secure
 * memory; the heap copy is wiped by tba_buf_free().
 */
tba_err
tba_hmac_oauth_key(const char *cs, size_t cslen, const char *ts, size_t tslen, unsigned char **key,
    size_t *keylen, size_t *keycap)
{
	struct tba_buf b;
	unsigned char *k = NULL;
	tba_err r;

	*key = NULL;
	*keylen = 0;
	*keycap = 0;
	tba_buf_init(&b, 3 * 2 * 1024 + 1);
	if ((r = tba_pct_encode(&b, cs, cslen)) != TBA_OK ||
	    (r = tba_buf_putc(&b, '&')) != TBA_OK || (r = tba_pct_encode(&b, ts, tslen)) != TBA_OK)
		goto out;
	if ((k = tba_secalloc(b.len)) == NULL) {
		r = tba_nomem();
		goto out;
	}
	memcpy(k, b.data, b.len);
	*key = k;
	*keylen = b.len;
	*keycap = b.len;
	k = NULL;
	r = TBA_OK;
out:
	tba_buf_free(&b);
	return r;
}

tba_err
tba_hmac_equiv_key(enum tba_sigmethod m, const unsigned char *key, size_t keylen, size_t min_len,
    unsigned char **out, size_t *outlen)
{
	const EVP_MD *md = hmac_md(m);
	size_t block = tba_sigmethod_block_len(m), len;
	unsigned char *k = NULL;
	unsigned int dlen = 0;
	tba_err r;

	*out = NULL;
	*outlen = 0;
	if (md == NULL || block > TBA_HMAC_KEY_MAX)
		return tba_seterr(TBA_ERR_INVALID, "unknown signature method");
	if ((k = tba_secalloc(TBA_HMAC_KEY_MAX)) == NULL)
		return tba_nomem();
	if (keylen > block) {
		/* RFC 2104 §2: keys longer than the block are hashed first. */
		if (EVP_Digest(key, keylen, k, &dlen, md, NULL) != 1) {
			r = tba_seterr(TBA_ERR_CRYPTO, "cannot hash the key");
			goto out;
		}
		len = dlen;
	} else {
		memcpy(k, key, keylen);
		len = keylen;
	}
	/* Zeros up to the block size are what HMAC appends anyway. */
	if (min_len > block)
		min_len = block;
	if (len < min_len)
		len = min_len;
	*out = k;
	*outlen = len;
	k = NULL;
	r = TBA_OK;
out:
	tba_secfree(k, TBA_HMAC_KEY_MAX);
	return r;
}

tba_err
tba_hmac_soft(enum tba_sigmethod m, const unsigned char *key, size_t keylen, const void *msg,
    size_t msglen, unsigned char *mac, size_t *maclen)
{
	const EVP_MD *md = hmac_md(m);
	unsigned int len = 0;

	*maclen = 0;
	if (md == NULL)
		return tba_seterr(TBA_ERR_INVALID, "unknown signature method");
	if (HMAC(md, key, (int)keylen, msg, msglen, mac, &len) == NULL)
		return tba_seterr(TBA_ERR_CRYPTO, "HMAC failed");
	*maclen = len;
	return TBA_OK;
}
