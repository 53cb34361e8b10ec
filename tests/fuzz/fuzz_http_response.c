/* SPDX-License-Identifier: MIT */
/*
 * fuzz_http_response - what `tba curl` and `tba test` read from the
 * network: response header lines as libcurl hands them over (status lines
 * of every block, Location, Date, Content-Type, Retry-After) in cli/http.c.
 *
 * The callbacks are static, so this file includes cli/http.c itself. The
 * input is split at '\n' into header lines, fed one at a time the way
 * libcurl's CURLOPT_HEADERFUNCTION does, with the line not NUL-terminated.
 *
 * Invariants: every line is consumed whole; a status is at most 4 digits;
 * kept header values have no leading blank and no trailing CR/LF/blank and
 * are NUL-terminated copies no longer than their line.
 */
#include "fuzz.h"

#include "../../cli/auth.c"
#include "../../cli/http.c"

static void
value_ok(const char *v, const char *line, size_t linelen, const char *what)
{
	size_t n;

	if (v == NULL)
		return;
	n = strlen(v);
	FUZZ_ASSERT(n < linelen, "%s value longer than its line", what);
	if (n == 0)
		return;
	FUZZ_ASSERT(v[0] != ' ' && v[0] != '\t', "%s value <%s> starts blank", what, v);
	/* A NUL inside the line cuts the C string short of the trimmed end. */
	if (memchr(line, '\0', linelen) == NULL)
		FUZZ_ASSERT(
		    strchr("\r\n \t", v[n - 1]) == NULL, "%s value <%s> ends blank", what, v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_resp resp;
	struct http_xfer x;
	size_t off = 0, end, n;
	char *line, *loc, *date, *ctype, *ra;

	if (size > 65536)
		return 0;
	memset(&resp, 0, sizeof(resp));
	memset(&x, 0, sizeof(x));
	x.sink = NULL;
	x.resp = &resp;
	while (off < size) {
		end = off;
		while (end < size && data[end] != '\n')
			end++;
		n = end - off + (end < size);
		/* An exact-size heap copy: ASan sees any read past the line. */
		if ((line = malloc(n)) == NULL)
			abort();
		memcpy(line, data + off, n);
		loc = resp.location;
		date = resp.date;
		ctype = resp.ctype;
		ra = resp.retry_after;
		FUZZ_ASSERT(http_header_cb(line, 1, n, &x) == n, "line not consumed");
		FUZZ_ASSERT(resp.status >= 0 && resp.status < 10000, "status %ld", resp.status);
		/* Only a value this line set is bounded by this line. */
		if (resp.location != loc)
			value_ok(resp.location, line, n, "Location");
		if (resp.date != date)
			value_ok(resp.date, line, n, "Date");
		if (resp.ctype != ctype)
			value_ok(resp.ctype, line, n, "Content-Type");
		if (resp.retry_after != ra)
			value_ok(resp.retry_after, line, n, "Retry-After");
		FUZZ_ASSERT(http_retry_after(&resp) >= -1, "Retry-After below -1");
		(void)http_media_is(resp.ctype, "application/json");
		free(line);
		off += n;
	}
	http_resp_free(&resp);
	return 0;
}
