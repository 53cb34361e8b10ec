/* SPDX-License-Identifier: MIT */
/*
 * fuzz_token_reply - what the agent reads from the M2M token endpoint: the
 * JSON reply body (lib/oauth2/jwt.c, tba_jwt_reply_parse).
 *
 * Invariants: success hands out exactly one token that is printable ASCII
 * without blanks, no longer than the body, with a lifetime of 1 to 86400 s
 * and type Bearer; an error reply carries a non-empty printable error code
 * and no token; every other outcome leaves no token.
 */
#include "fuzz.h"

#include "tba/jwt.h"

static void
printable(const char *s, const char *what)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		FUZZ_ASSERT((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f,
		    "%s has byte 0x%02x", what, (unsigned char)s[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tba_jwt_reply r;
	char *body;
	size_t i, n;
	tba_err e;

	if (size > TBA_JWT_REPLY_MAX + 16)
		return 0;
	/* An exact-size copy, not NUL-terminated: ASan sees any read past it. */
	if ((body = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(body, data, size);
	e = tba_jwt_reply_parse(body, size, &r);
	if (e == TBA_OK) {
		FUZZ_ASSERT(r.access_token != NULL, "success without a token");
		n = strlen(r.access_token);
		FUZZ_ASSERT(n > 0 && n <= size && n <= TBA_JWT_TOKEN_MAX, "token length %zu", n);
		for (i = 0; i < n; i++)
			FUZZ_ASSERT(
			    r.access_token[i] > 0x20 && r.access_token[i] < 0x7f, "token byte");
		FUZZ_ASSERT(r.expires_in >= 1 && r.expires_in <= TBA_JWT_EXPIRES_MAX, "lifetime");
		FUZZ_ASSERT(strcmp(r.token_type, "Bearer") == 0, "type %s", r.token_type);
		printable(r.scope, "scope");
	} else {
		FUZZ_ASSERT(r.access_token == NULL, "a token left after failure");
		if (e == TBA_ERR_REMOTE) {
			FUZZ_ASSERT(r.error[0] != '\0', "error reply without a code");
			printable(r.error, "error");
			printable(r.error_description, "error_description");
		} else
			FUZZ_ASSERT(
			    e == TBA_ERR_PROTO || e == TBA_ERR_NOMEM, "unexpected code %d", e);
	}
	tba_jwt_reply_free(&r);
	free(body);
	return 0;
}
