/* SPDX-License-Identifier: MIT */
/* jwt.c - the M2M client assertion (compact JWS) and the token endpoint's reply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/rand.h>

#include "tba/jwt.h"
#include "tba/mem.h"
#include "tba/oauth.h"
#include "tba/profile.h"

static const char *const jwt_algs[] = {"ES256", "ES384", "ES512", "PS256", "PS384", "PS512"};

tba_err
tba_jwt_b64url(const void *in, size_t n, struct tba_buf *out)
{
	struct tba_buf tmp;
	size_t start = out->len, i;
	tba_err r;

	tba_buf_init(&tmp, (n / 3 + 1) * 4 + 4);
	if ((r = tba_base64(in, n, &tmp)) != TBA_OK)
		goto out;
	for (i = 0; i < tmp.len && tmp.data[i] != '='; i++) {
		if (tmp.data[i] == '+')
			tmp.data[i] = '-';
		else if (tmp.data[i] == '/')
			tmp.data[i] = '_';
	}
	r = tba_buf_put(out, tmp.data != NULL ? tmp.data : "", i);
out:
	if (r != TBA_OK)
		tba_buf_truncate(out, start);
	tba_buf_free(&tmp);
	return r;
}

/* The account's host label: lower-cased, '_' -> '-'. */
static tba_err
jwt_host_label(const char *account, char *out, size_t outsz)
{
	size_t i, n;
	tba_err r;

	if ((r = tba_ns_account_check(account)) != TBA_OK)
		return r;
	n = strlen(account);
	if (n >= outsz)
		return tba_seterr(TBA_ERR_INVALID, "account ID '%.40s' is too long", account);
	for (i = 0; i < n; i++) {
		char c = account[i];

		out[i] = c == '_' ? '-' : (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return TBA_OK;
}

static tba_err
jwt_url(const char *account, const char *path, char *out, size_t outsz)
{
	char label[TBA_FIELD_MAX + 1];
	int n;
	tba_err r;

	if ((r = jwt_host_label(account, label, sizeof(label))) != TBA_OK)
		return r;
	n = snprintf(
	    out, outsz, "https://%s.suitetalk.api.netsuite.com/services/rest%s", label, path);
	if (n < 0 || (size_t)n >= outsz)
		return tba_seterr(TBA_ERR_TOO_LARGE, "the account's URL is too long");
	return TBA_OK;
}

tba_err
tba_jwt_token_url(const char *account, char *out, size_t outsz)
{
	return jwt_url(account, "/auth/oauth2/v1/token", out, outsz);
}

tba_err
tba_jwt_rest_url(const char *account, char *out, size_t outsz)
{
	return jwt_url(account, "", out, outsz);
}

tba_err
tba_jwt_jti_new(char *out, size_t outsz)
{
	unsigned char raw[TBA_JWT_JTI_BYTES];
	struct tba_buf b;
	tba_err r;

	tba_buf_init(&b, TBA_JWT_JTI_MAX);
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		r = tba_seterr(TBA_ERR_CRYPTO, "RAND_bytes failed: no randomness for the JWT ID");
		goto out;
	}
	if ((r = tba_jwt_b64url(raw, sizeof(raw), &b)) != TBA_OK)
		goto out;
	if (b.len >= outsz) {
		r = tba_seterr(TBA_ERR_TOO_LARGE, "jti buffer too small");
		goto out;
	}
	memcpy(out, b.data, b.len + 1);
out:
	tba_buf_free(&b);
	return r;
}

static int
jwt_alg_ok(const char *alg)
{
	size_t i;

	for (i = 0; alg != NULL && i < sizeof(jwt_algs) / sizeof(jwt_algs[0]); i++) {
		if (strcmp(alg, jwt_algs[i]) == 0)
			return 1;
	}
	return 0;
}

static int
jwt_empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* Appends base64url(compact JSON of j). */
static tba_err
jwt_put_json(const cJSON *j, struct tba_buf *out)
{
	char *txt = cJSON_PrintUnformatted(j);
	tba_err r;

	if (txt == NULL)
		return tba_nomem();
	r = tba_jwt_b64url(txt, strlen(txt), out);
	free(txt);
	return r;
}

/* header "." claims, base64url each, appended to out. */
static tba_err
jwt_signing_input(const struct tba_jwt_claims *c, struct tba_buf *out)
{
	cJSON *h = NULL, *cl = NULL;
	tba_err r;

	if ((h = cJSON_CreateObject()) == NULL || (cl = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(h, "alg", c->alg) == NULL ||
	    cJSON_AddStringToObject(h, "typ", "JWT") == NULL ||
	    cJSON_AddStringToObject(h, "kid", c->kid) == NULL ||
	    cJSON_AddStringToObject(cl, "iss", c->iss) == NULL ||
	    cJSON_AddStringToObject(cl, "scope", c->scope) == NULL ||
	    cJSON_AddStringToObject(cl, "aud", c->aud) == NULL ||
	    cJSON_AddNumberToObject(cl, "iat", (double)c->iat) == NULL ||
	    cJSON_AddNumberToObject(cl, "exp", (double)(c->iat + TBA_JWT_LIFETIME)) == NULL ||
	    cJSON_AddStringToObject(cl, "jti", c->jti) == NULL) {
		r = tba_nomem();
		goto out;
	}
	if ((r = jwt_put_json(h, out)) == TBA_OK && (r = tba_buf_putc(out, '.')) == TBA_OK)
		r = jwt_put_json(cl, out);
out:
	cJSON_Delete(h);
	cJSON_Delete(cl);
	return r;
}

tba_err
tba_jwt_build(const struct tba_jwt_claims *c, tba_jwt_sign_fn sign, void *arg, struct tba_buf *out)
{
	unsigned char sig[TBA_JWT_SIG_MAX];
	size_t siglen = 0, start = out->len;
	tba_err r;

	if (!jwt_alg_ok(c->alg))
		return tba_seterr(TBA_ERR_INVALID,
		    "JWT algorithm '%.16s' is not one of ES256, ES384, "
		    "ES512, PS256, PS384, PS512",
		    c->alg != NULL ? c->alg : "");
	if (jwt_empty(c->kid))
		return tba_seterr(TBA_ERR_INVALID,
		    "no certificate ID: record the one NetSuite showed "
		    "with 'tba m2m cert-id PROFILE ID'");
	if (jwt_empty(c->iss) || jwt_empty(c->scope) || jwt_empty(c->aud) || jwt_empty(c->jti))
		return tba_seterr(
		    TBA_ERR_INVALID, "the JWT needs a client ID, scope, audience and ID");
	if (c->iat <= 0)
		return tba_seterr(TBA_ERR_INVALID, "the JWT's issue time must be positive");
	if ((r = jwt_signing_input(c, out)) != TBA_OK)
		goto out;
	if ((r = sign(arg, out->data + start, out->len - start, sig, &siglen)) != TBA_OK)
		goto out;
	if (siglen == 0 || siglen > sizeof(sig)) {
		r = tba_seterr(TBA_ERR_CRYPTO, "the signer returned %zu bytes", siglen);
		goto out;
	}
	if ((r = tba_buf_putc(out, '.')) == TBA_OK)
		r = tba_jwt_b64url(sig, siglen, out);
out:
	if (r != TBA_OK)
		tba_buf_truncate(out, start);
	tba_wipe(sig, sizeof(sig));
	return r;
}

/* Copies s into out (outsz bytes), bytes outside printable ASCII as '?'; truncates. */
static void
jwt_copy_clean(const char *s, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < outsz; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	out[i] = '\0';
}

/* A Bearer token goes into a header line: printable ASCII without blanks. */
static int
jwt_token_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > TBA_JWT_TOKEN_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	}
	return 1;
}

/* The success half of a reply: token, type, lifetime, scope. */
static tba_err
jwt_reply_token(const cJSON *j, struct tba_jwt_reply *out)
{
	const cJSON *at, *tt, *ex, *sc;
	double d;
	size_t n;

	at = cJSON_GetObjectItemCaseSensitive(j, "access_token");
	tt = cJSON_GetObjectItemCaseSensitive(j, "token_type");
	ex = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
	sc = cJSON_GetObjectItemCaseSensitive(j, "scope");
	if (!cJSON_IsString(at) || !jwt_token_ok(at->valuestring, strlen(at->valuestring)))
		return tba_seterr(
		    TBA_ERR_PROTO, "the token endpoint's reply has no usable access_token");
	if (!cJSON_IsString(tt) || strcasecmp(tt->valuestring, "Bearer") != 0)
		return tba_seterr(TBA_ERR_PROTO, "the token endpoint's token_type is not Bearer");
	out->expires_in = 3600;
	if (ex != NULL) {
		/* RFC 6749 says a number; some servers send a string of digits. */
		if (cJSON_IsNumber(ex))
			d = ex->valuedouble;
		else if (cJSON_IsString(ex) && strlen(ex->valuestring) < 8 &&
		    strspn(ex->valuestring, "0123456789") == strlen(ex->valuestring))
			d = strtod(ex->valuestring, NULL);
		else
			d = -1;
		if (!(d >= 1 && d <= TBA_JWT_EXPIRES_MAX))
			return tba_seterr(TBA_ERR_PROTO,
			    "the token endpoint's expires_in is not 1 to %d "
			    "seconds",
			    TBA_JWT_EXPIRES_MAX);
		out->expires_in = (int64_t)d;
	}
	if (cJSON_IsString(sc))
		jwt_copy_clean(sc->valuestring, out->scope, sizeof(out->scope));
	snprintf(out->token_type, sizeof(out->token_type), "Bearer");
	n = strlen(at->valuestring);
	if ((out->access_token = tba_secalloc(n + 1)) == NULL)
		return tba_nomem();
	out->access_token_cap = n + 1;
	memcpy(out->access_token, at->valuestring, n + 1);
	return TBA_OK;
}

tba_err
tba_jwt_reply_parse(const char *body, size_t len, struct tba_jwt_reply *out)
{
	cJSON *j = NULL;
	const cJSON *e, *ed;
	const char *end = NULL;
	tba_err r;

	memset(out, 0, sizeof(*out));
	if (len > TBA_JWT_REPLY_MAX)
		return tba_seterr(TBA_ERR_PROTO,
		    "the token endpoint's reply is larger than %d bytes", TBA_JWT_REPLY_MAX);
	if (len == 0 || (j = cJSON_ParseWithLengthOpts(body, len, &end, 0)) == NULL ||
	    !cJSON_IsObject(j)) {
		r = tba_seterr(TBA_ERR_PROTO, "the token endpoint's reply is not a JSON object");
		goto out;
	}
	e = cJSON_GetObjectItemCaseSensitive(j, "error");
	if (e != NULL) {
		ed = cJSON_GetObjectItemCaseSensitive(j, "error_description");
		jwt_copy_clean(
		    cJSON_IsString(e) ? e->valuestring : "?", out->error, sizeof(out->error));
		if (cJSON_IsString(ed))
			jwt_copy_clean(ed->valuestring, out->error_description,
			    sizeof(out->error_description));
		if (out->error[0] == '\0')
			snprintf(out->error, sizeof(out->error), "?");
		r = tba_seterr(TBA_ERR_REMOTE, "the token endpoint refused: %s%s%s", out->error,
		    out->error_description[0] != '\0' ? ": " : "", out->error_description);
		goto out;
	}
	r = jwt_reply_token(j, out);
out:
	if (r != TBA_OK && out->access_token != NULL) {
		tba_secfree(out->access_token, out->access_token_cap);
		out->access_token = NULL;
		out->access_token_cap = 0;
	}
	/* The parsed tree held the token too. */
	if (j != NULL) {
		e = cJSON_GetObjectItemCaseSensitive(j, "access_token");
		if (cJSON_IsString(e))
			tba_wipe(e->valuestring, strlen(e->valuestring));
	}
	cJSON_Delete(j);
	return r;
}

void
tba_jwt_reply_free(struct tba_jwt_reply *r)
{
	if (r == NULL)
		return;
	tba_secfree(r->access_token, r->access_token_cap);
	memset(r, 0, sizeof(*r));
}
