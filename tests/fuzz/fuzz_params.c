/* SPDX-License-Identifier: MIT */
/*
 * fuzz_params - application/x-www-form-urlencoded parameter lists (query
 * strings and form bodies) and percent-decoding.
 *
 * Invariants: what parses encodes; the encoding parses back to the same
 * list; encoding is a fixed point after one round; a decoded value holds no
 * NUL; tba_pct_encode's output holds only unreserved characters and %XX.
 */
#include "fuzz.h"

#include "tba/buf.h"
#include "tba/url.h"

static int
upper_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static int
unreserved_or_pct(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			continue;
		if (c == '%' && i + 2 < n && upper_hex(s[i + 1]) && upper_hex(s[i + 2])) {
			i += 2;
			continue;
		}
		return 0;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tba_params p, p2;
	struct tba_buf e, e2, pe;
	char *dec = NULL;
	size_t i;

	if (size > 4 * TBA_URL_MAX)
		return 0;
	tba_params_init(&p);
	tba_params_init(&p2);
	tba_buf_init(&e, 64 * TBA_URL_MAX);
	tba_buf_init(&e2, 64 * TBA_URL_MAX);
	tba_buf_init(&pe, 3 * 4 * TBA_URL_MAX + 16);

	/* Both decoders must stay inside size bytes (no NUL terminator given). */
	if (tba_pct_decode((const char *)data, size, 1, &dec) == TBA_OK) {
		FUZZ_ASSERT(dec != NULL, "decode gave NULL");
		FUZZ_ASSERT(strlen(dec) <= size, "decoded longer than input");
	}
	free(dec);
	dec = NULL;
	FUZZ_ASSERT(tba_pct_encode(&pe, (const char *)data, size) == TBA_OK, "encode");
	FUZZ_ASSERT(pe.len <= 3 * size, "encoding of %zu bytes is %zu", size, pe.len);
	FUZZ_ASSERT(unreserved_or_pct(pe.data == NULL ? "" : pe.data, pe.len), "encoding <%s>",
	    tba_buf_str(&pe));
	/* A NUL encodes as %00, which decoding refuses by contract. */
	if (memchr(data, '\0', size) == NULL) {
		FUZZ_ASSERT(
		    tba_pct_decode(tba_buf_str(&pe), pe.len, 0, &dec) == TBA_OK, "decode encoding");
		FUZZ_ASSERT(
		    strlen(dec) == size && memcmp(dec, data, size) == 0, "decode(encode(x)) != x");
	}
	free(dec);

	if (tba_params_parse(&p, (const char *)data, size) != TBA_OK)
		goto out;
	for (i = 0; i < p.n; i++)
		FUZZ_ASSERT(p.v[i].name != NULL && p.v[i].value != NULL, "param %zu", i);
	FUZZ_ASSERT(tba_params_encode(&p, &e) == TBA_OK, "encode %zu params", p.n);
	FUZZ_ASSERT(tba_params_parse(&p2, tba_buf_str(&e), e.len) == TBA_OK, "re-parse <%s>",
	    tba_buf_str(&e));
	/* An empty name and value encode as "=", a non-empty piece: counts match. */
	FUZZ_ASSERT(p.n == p2.n, "%zu params became %zu via <%s>", p.n, p2.n, tba_buf_str(&e));
	for (i = 0; i < p.n; i++)
		FUZZ_ASSERT(strcmp(p.v[i].name, p2.v[i].name) == 0 &&
			strcmp(p.v[i].value, p2.v[i].value) == 0,
		    "param %zu changed", i);
	FUZZ_ASSERT(tba_params_encode(&p2, &e2) == TBA_OK, "encode 2");
	FUZZ_ASSERT(e.len == e2.len && strcmp(tba_buf_str(&e), tba_buf_str(&e2)) == 0,
	    "encoding not a fixed point");
out:
	tba_params_free(&p);
	tba_params_free(&p2);
	tba_buf_free(&e);
	tba_buf_free(&e2);
	tba_buf_free(&pe);
	return 0;
}
