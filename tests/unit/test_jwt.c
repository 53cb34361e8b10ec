/* SPDX-License-Identifier: MIT */
/*
 * test_jwt.c - base64url (RFC 4648 section 10 vectors, URL alphabet, no
 * padding), the token endpoint URL, the assertion's shape, and the token
 * endpoint reply parser. Signatures are checked by python3-jwt in the
 * integration tests, not here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tap.h"
#include "tba/jwt.h"

static const char *
b64u(const void *in, size_t n, struct tba_buf *b)
{
	tba_buf_reset(b);
	if (tba_jwt_b64url(in, n, b) != TBA_OK)
		return "(error)";
	return tba_buf_str(b);
}

static void
test_b64url(void)
{
	struct tba_buf b;
	const unsigned char odd[] = {0xfb, 0xff, 0xbf};

	tba_buf_init(&b, 1024);
	is_str(b64u("", 0, &b), "", "empty");
	is_str(b64u("f", 1, &b), "Zg", "f");
	is_str(b64u("fo", 2, &b), "Zm8", "fo");
	is_str(b64u("foo", 3, &b), "Zm9v", "foo");
	is_str(b64u("foob", 4, &b), "Zm9vYg", "foob");
	is_str(b64u("fooba", 5, &b), "Zm9vYmE", "fooba");
	is_str(b64u("foobar", 6, &b), "Zm9vYmFy", "foobar");
	is_str(b64u(odd, 3, &b), "-_-_", "URL alphabet (- and _ for + and /)");
	tba_buf_free(&b);
}

static void
test_urls(void)
{
	char u[TBA_JWT_URL_MAX];

	is_int(tba_jwt_token_url("1234567_SB1", u, sizeof(u)), TBA_OK, "token url");
	is_str(u,
	    "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token",
	    "token url: lower case, _ to -");
	is_int(tba_jwt_rest_url("TSTDRV99", u, sizeof(u)), TBA_OK, "rest url");
	is_str(u, "https://tstdrv99.suitetalk.api.netsuite.com/services/rest", "rest url");
	is_int(tba_jwt_token_url("a.b/c", u, sizeof(u)), TBA_ERR_INVALID, "bad account refused");
}

static tba_err
fake_sign(void *arg, const void *msg, size_t len, unsigned char *sig, size_t *siglen)
{
	struct tba_buf *seen = arg;

	tba_buf_put(seen, msg, len);
	memset(sig, 0xab, 64);
	*siglen = 64;
	return TBA_OK;
}

static void
test_build(void)
{
	struct tba_jwt_claims c = {"ES256", "kid1", "client", "rest_webservices,restlets",
	    "https://x/token", 1700000000, NULL};
	struct tba_buf out, seen;
	char jti[TBA_JWT_JTI_MAX], jti2[TBA_JWT_JTI_MAX];
	const char *dot1, *dot2;

	tba_buf_init(&out, TBA_JWT_MAX);
	tba_buf_init(&seen, TBA_JWT_MAX);
	is_int(tba_jwt_jti_new(jti, sizeof(jti)), TBA_OK, "jti");
	is_int(tba_jwt_jti_new(jti2, sizeof(jti2)), TBA_OK, "jti again");
	ok(strlen(jti) >= 22 && strcmp(jti, jti2) != 0, "jti is long and fresh: %s", jti);
	c.jti = jti;
	is_int(tba_jwt_build(&c, fake_sign, &seen, &out), TBA_OK, "build");
	dot1 = strchr(tba_buf_str(&out), '.');
	dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
	ok(dot2 != NULL && strchr(dot2 + 1, '.') == NULL, "three segments");
	ok(dot2 != NULL && (size_t)(dot2 - out.data) == seen.len &&
		memcmp(out.data, seen.data, seen.len) == 0,
	    "the signer saw header.claims");
	is_str(dot2 != NULL ? dot2 + 1 : "",
	    "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urqw",
	    "signature segment is base64url of the signer's bytes");
	ok(strchr(out.data, '=') == NULL && strchr(out.data, '+') == NULL,
	    "no padding, URL alphabet");
	c.alg = "RS256";
	tba_buf_reset(&out);
	is_int(tba_jwt_build(&c, fake_sign, &seen, &out), TBA_ERR_INVALID, "RS256 refused");
	is_int(out.len, 0, "nothing left behind");
	c.alg = "none";
	is_int(tba_jwt_build(&c, fake_sign, &seen, &out), TBA_ERR_INVALID, "none refused");
	c.alg = "PS256";
	c.kid = "";
	is_int(tba_jwt_build(&c, fake_sign, &seen, &out), TBA_ERR_INVALID,
	    "no certificate ID refused");
	ok(strstr(tba_errmsg(TBA_ERR_INVALID), "cert-id") != NULL, "says what to run");
	tba_buf_free(&out);
	tba_buf_free(&seen);
}

static tba_err
parse(const char *s, struct tba_jwt_reply *r)
{
	return tba_jwt_reply_parse(s, strlen(s), r);
}

static void
test_reply(void)
{
	struct tba_jwt_reply r;

	is_int(
	    parse("{\"access_token\":\"eyJ.abc-_\",\"token_type\":\"Bearer\",\"expires_in\":3600}",
		&r),
	    TBA_OK, "good reply");
	is_str(r.access_token != NULL ? r.access_token : "", "eyJ.abc-_", "token");
	is_int(r.expires_in, 3600, "expires_in");
	tba_jwt_reply_free(&r);
	ok(r.access_token == NULL, "freed");
	is_int(
	    parse("{\"access_token\":\"t\",\"token_type\":\"bearer\",\"expires_in\":\"1800\"}", &r),
	    TBA_OK, "lower-case type, string expires_in");
	is_int(r.expires_in, 1800, "expires_in from a string");
	tba_jwt_reply_free(&r);
	is_int(parse("{\"error\":\"invalid_client\",\"error_description\":\"bad\\nkid\"}", &r),
	    TBA_ERR_REMOTE, "error reply");
	is_str(r.error, "invalid_client", "error code");
	is_str(r.error_description, "bad?kid", "control characters replaced");
	ok(r.access_token == NULL, "no token on an error");
	tba_jwt_reply_free(&r);
	is_int(parse("{\"access_token\":\"a b\",\"token_type\":\"Bearer\"}", &r), TBA_ERR_PROTO,
	    "blank in token refused");
	tba_jwt_reply_free(&r);
	is_int(parse("{\"access_token\":\"ab\",\"token_type\":\"MAC\"}", &r), TBA_ERR_PROTO,
	    "non-Bearer refused");
	tba_jwt_reply_free(&r);
	is_int(parse("{\"access_token\":\"ab\",\"token_type\":\"Bearer\",\"expires_in\":-5}", &r),
	    TBA_ERR_PROTO, "negative lifetime refused");
	tba_jwt_reply_free(&r);
	is_int(parse("<html>", &r), TBA_ERR_PROTO, "HTML refused");
	tba_jwt_reply_free(&r);
	is_int(parse("[1]", &r), TBA_ERR_PROTO, "array refused");
	tba_jwt_reply_free(&r);
	is_int(tba_jwt_reply_parse("", 0, &r), TBA_ERR_PROTO, "empty refused");
	tba_jwt_reply_free(&r);
}

int
main(void)
{
	test_b64url();
	test_urls();
	test_build();
	test_reply();
	return tap_done();
}
