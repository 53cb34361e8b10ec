/* SPDX-License-Identifier: MIT */
/*
 * fuzz_url - URL parsing and the signature base string built from it.
 *
 * Invariants: a URL that parses yields a base URI, a normalised URL and a
 * base string; the normalised URL parses again to the same base URI and the
 * same decoded query parameters (so what is sent is what was signed), and
 * normalising is idempotent.
 */
#include "fuzz.h"

#include "tba/buf.h"
#include "tba/oauth.h"
#include "tba/url.h"

static void
same_params(const struct tba_params *a, const struct tba_params *b, const char *url)
{
	size_t i;

	FUZZ_ASSERT(a->n == b->n, "%zu vs %zu query params for <%s>", a->n, b->n, url);
	for (i = 0; i < a->n; i++) {
		FUZZ_ASSERT(strcmp(a->v[i].name, b->v[i].name) == 0 &&
			strcmp(a->v[i].value, b->v[i].value) == 0,
		    "param %zu differs after re-parse of <%s>", i, url);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tba_url u, u2;
	struct tba_buf base, norm, base2, norm2, bs;
	struct tba_oauth_req req;
	char *s;
	tba_err r;

	if (size > TBA_URL_MAX || (s = fuzz_cstr(data, size)) == NULL)
		return 0;
	memset(&u, 0, sizeof(u));
	memset(&u2, 0, sizeof(u2));
	tba_buf_init(&base, 4 * TBA_URL_MAX);
	tba_buf_init(&norm, 4 * TBA_URL_MAX);
	tba_buf_init(&base2, 4 * TBA_URL_MAX);
	tba_buf_init(&norm2, 4 * TBA_URL_MAX);
	tba_buf_init(&bs, 16 * TBA_URL_MAX);

	if (tba_url_parse(s, &u) != TBA_OK)
		goto out;
	FUZZ_ASSERT(u.scheme != NULL && u.host != NULL && u.path != NULL, "missing part <%s>", s);
	FUZZ_ASSERT(
	    strcmp(u.scheme, "http") == 0 || strcmp(u.scheme, "https") == 0, "scheme %s", u.scheme);
	FUZZ_ASSERT(u.path[0] == '/', "path <%s> of <%s>", u.path, s);
	FUZZ_ASSERT(tba_url_base_uri(&u, &base) == TBA_OK, "base URI of <%s>", s);
	FUZZ_ASSERT(tba_url_normalized(&u, &norm) == TBA_OK, "normalised <%s>", s);

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = &u;
	req.consumer_key = "ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4";
	req.token = "2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc";
	req.nonce = "fjaLirsIcCGVZWzBX0pg";
	req.timestamp = 1508242306;
	req.sigmethod = TBA_SIG_HMAC_SHA256;
	req.realm = "123456";
	r = tba_oauth_base_string(&req, &bs);
	/* Only a size bound may stop it: every parsed URL can be signed. */
	FUZZ_ASSERT(r == TBA_OK || r == TBA_ERR_TOO_LARGE, "base string of <%s>: %d", s, r);
	if (r == TBA_OK)
		FUZZ_ASSERT(strncmp(tba_buf_str(&bs), "POST&", 5) == 0, "base string prefix");

	r = tba_url_parse(tba_buf_str(&norm), &u2);
	FUZZ_ASSERT(r == TBA_OK || (r == TBA_ERR_TOO_LARGE && norm.len > TBA_URL_MAX),
	    "normalised <%s> of <%s> does not parse: %d", tba_buf_str(&norm), s, r);
	if (r != TBA_OK)
		goto out;
	FUZZ_ASSERT(tba_url_base_uri(&u2, &base2) == TBA_OK, "base URI 2");
	FUZZ_ASSERT(strcmp(tba_buf_str(&base), tba_buf_str(&base2)) == 0,
	    "base URI <%s> became <%s> (url <%s>)", tba_buf_str(&base), tba_buf_str(&base2), s);
	same_params(&u.query_params, &u2.query_params, s);
	FUZZ_ASSERT(tba_url_normalized(&u2, &norm2) == TBA_OK, "normalised 2");
	FUZZ_ASSERT(strcmp(tba_buf_str(&norm), tba_buf_str(&norm2)) == 0,
	    "normalising is not idempotent: <%s> then <%s>", tba_buf_str(&norm),
	    tba_buf_str(&norm2));
out:
	tba_url_free(&u);
	tba_url_free(&u2);
	tba_buf_free(&base);
	tba_buf_free(&norm);
	tba_buf_free(&base2);
	tba_buf_free(&norm2);
	tba_buf_free(&bs);
	free(s);
	return 0;
}
