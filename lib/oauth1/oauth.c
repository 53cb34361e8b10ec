/* SPDX-License-Identifier: MIT */
/* oauth.c - OAuth 1.0a base strings and headers, the SOAP tokenPassport, nonces. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "tba/mem.h"
#include "tba/oauth.h"

/* Bound for the encoded parameter list: every param encoded, well past any URL + form. */
#define OAUTH_PARAMS_TEXT_MAX (4 * 1024 * 1024)

const char *
tba_sigmethod_name(enum tba_sigmethod m)
{
	switch (m) {
	case TBA_SIG_HMAC_SHA256:
		return "HMAC-SHA256";
	case TBA_SIG_HMAC_SHA1:
		return "HMAC-SHA1";
	case TBA_SIG_HMAC_SHA512:
		return "HMAC-SHA512";
	}
	return "unknown";
}

tba_err
tba_sigmethod_parse(const char *s, enum tba_sigmethod *out)
{
	if (strcmp(s, "HMAC-SHA256") == 0)
		*out = TBA_SIG_HMAC_SHA256;
	else if (strcmp(s, "HMAC-SHA1") == 0)
		*out = TBA_SIG_HMAC_SHA1;
	else if (strcmp(s, "HMAC-SHA512") == 0)
		*out = TBA_SIG_HMAC_SHA512;
	else
		return tba_seterr(TBA_ERR_INVALID,
		    "unknown signature method \"%.32s\": use HMAC-SHA256, HMAC-SHA1 or HMAC-SHA512",
		    s);
	return TBA_OK;
}

size_t
tba_sigmethod_digest_len(enum tba_sigmethod m)
{
	switch (m) {
	case TBA_SIG_HMAC_SHA1:
		return 20;
	case TBA_SIG_HMAC_SHA256:
		return 32;
	case TBA_SIG_HMAC_SHA512:
		return 64;
	}
	return 0;
}

size_t
tba_sigmethod_block_len(enum tba_sigmethod m)
{
	switch (m) {
	case TBA_SIG_HMAC_SHA1:
	case TBA_SIG_HMAC_SHA256:
		return 64;
	case TBA_SIG_HMAC_SHA512:
		return 128;
	}
	return 0;
}

int
tba_oauth_method_ok(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= 16 || s[i] < 'A' || s[i] > 'Z')
			return 0;
	}
	return i > 0;
}

int
tba_oauth_nonce_ok(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= TBA_NONCE_MAX)
			return 0;
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9')))
			return 0;
	}
	return i >= TBA_NONCE_MIN;
}

/*
 * Each nonce straight from RAND_bytes (fork-safe: OpenSSL reseeds a child),
 * one call per nonce almost always: 32 bytes give the 24 characters (a
 * byte is dropped 8 times in 256) with room to spare.
 */
tba_err
tba_oauth_nonce_new(char *out, size_t n)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[32];
	size_t i = 0, k;
	tba_err r = TBA_OK;

	while (i < n && r == TBA_OK) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			r = tba_seterr(TBA_ERR_CRYPTO, "the random number generator failed");
			break;
		}
		/*
		 * 248 = 4 * 62: bytes at or above it are dropped so that every
		 * character is equally likely (no modulo bias).
		 */
		for (k = 0; k < sizeof(rnd) && i < n; k++) {
			if (rnd[k] < 248)
				out[i++] = alphabet[rnd[k] % 62];
		}
	}
	tba_wipe(rnd, sizeof(rnd));
	out[r == TBA_OK ? n : 0] = '\0';
	return r;
}

/* One parameter in its encoded form, for sorting. Both point into one buffer. */
struct oauth_enc {
	const char *name;
	const char *value;
};

static int
oauth_enc_cmp(const void *a, const void *b)
{
	const struct oauth_enc *x = a, *y = b;
	int c;

	/* strcmp compares as unsigned char: byte order, as RFC 5849 §3.4.1.3.2 asks. */
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return strcmp(x->value, y->value);
}

/*
 * Appends enc(name) NUL enc(value) NUL to b and records where they start
 * (offsets: b may move while it grows).
 */
static tba_err
oauth_enc_one(struct tba_buf *b, const char *name, const char *value, size_t *off)
{
	tba_err r;

	off[0] = b->len;
	if ((r = tba_pct_encode(b, name, strlen(name))) != TBA_OK ||
	    (r = tba_buf_put(b, "", 1)) != TBA_OK)
		return r;
	off[1] = b->len;
	if ((r = tba_pct_encode(b, value, strlen(value))) != TBA_OK ||
	    (r = tba_buf_put(b, "", 1)) != TBA_OK)
		return r;
	return TBA_OK;
}

static tba_err
oauth_check_req(const struct tba_oauth_req *r)
{
	if (r->url == NULL || r->consumer_key == NULL || r->token == NULL || r->nonce == NULL ||
	    r->method == NULL)
		return tba_seterr(TBA_ERR_INVALID, "incomplete signing request");
	if (r->timestamp < 0)
		return tba_seterr(TBA_ERR_INVALID, "timestamp before 1970");
	if (!tba_oauth_method_ok(r->method))
		return tba_seterr(TBA_ERR_INVALID,
		    "HTTP method \"%.20s\" is not a token of A-Z: use e.g. GET or POST", r->method);
	return TBA_OK;
}

/*
 * The parameters are encoded once, into one buffer (each name and value
 * followed by a NUL), sorted as pointer pairs, and their normalised text
 * "n=v&n=v" is encoded a second time straight into out, piece by piece:
 * enc("&") is %26 and enc("=") is %3D.
 * The buffer's cap makes the text's own limit: the encoded pairs with one
 * NUL each take exactly one byte more than the text with its separators.
 */
tba_err
tba_oauth_base_string(const struct tba_oauth_req *r, struct tba_buf *out)
{
	const struct tba_params *q = &r->url->query_params;
	const char *proto[6][2];
	char ts[24];
	struct oauth_enc *e = NULL;
	size_t(*off)[2] = NULL;
	struct tba_buf enc, uri;
	size_t ne = 0, total, i, start = out->len;
	tba_err ret;

	tba_buf_init(&enc, OAUTH_PARAMS_TEXT_MAX + 1);
	tba_buf_init(&uri, TBA_URL_MAX * 3);
	if ((ret = oauth_check_req(r)) != TBA_OK)
		goto out;
	snprintf(ts, sizeof(ts), "%" PRId64, r->timestamp);
	proto[0][0] = "oauth_consumer_key";
	proto[0][1] = r->consumer_key;
	proto[1][0] = "oauth_nonce";
	proto[1][1] = r->nonce;
	proto[2][0] = "oauth_signature_method";
	proto[2][1] = tba_sigmethod_name(r->sigmethod);
	proto[3][0] = "oauth_timestamp";
	proto[3][1] = ts;
	proto[4][0] = "oauth_token";
	proto[4][1] = r->token;
	proto[5][0] = "oauth_version";
	proto[5][1] = "1.0";

	total = q->n + (r->form != NULL ? r->form->n : 0) + 6;
	e = calloc(total, sizeof(*e));
	off = calloc(total, sizeof(*off));
	if (e == NULL || off == NULL) {
		ret = tba_nomem();
		goto out;
	}
	for (i = 0; i < q->n; i++, ne++)
		if ((ret = oauth_enc_one(&enc, q->v[i].name, q->v[i].value, off[ne])) != TBA_OK)
			goto out;
	for (i = 0; r->form != NULL && i < r->form->n; i++, ne++)
		if ((ret = oauth_enc_one(&enc, r->form->v[i].name, r->form->v[i].value, off[ne])) !=
		    TBA_OK)
			goto out;
	for (i = 0; i < 6; i++, ne++)
		if ((ret = oauth_enc_one(&enc, proto[i][0], proto[i][1], off[ne])) != TBA_OK)
			goto out;
	for (i = 0; i < ne; i++) {
		e[i].name = enc.data + off[i][0];
		e[i].value = enc.data + off[i][1];
	}
	qsort(e, ne, sizeof(*e), oauth_enc_cmp);
	if ((ret = tba_url_base_uri(r->url, &uri)) != TBA_OK)
		goto out;
	if ((ret = tba_buf_puts(out, r->method)) != TBA_OK ||
	    (ret = tba_buf_putc(out, '&')) != TBA_OK ||
	    (ret = tba_pct_encode(out, uri.data, uri.len)) != TBA_OK ||
	    (ret = tba_buf_putc(out, '&')) != TBA_OK)
		goto out;
	for (i = 0; i < ne; i++) {
		if ((i > 0 && (ret = tba_buf_put(out, "%26", 3)) != TBA_OK) ||
		    (ret = tba_pct_encode(out, e[i].name, strlen(e[i].name))) != TBA_OK ||
		    (ret = tba_buf_put(out, "%3D", 3)) != TBA_OK ||
		    (ret = tba_pct_encode(out, e[i].value, strlen(e[i].value))) != TBA_OK)
			goto out;
	}
	ret = TBA_OK;
out:
	if (ret != TBA_OK)
		tba_buf_truncate(out, start);
	free(e);
	free(off);
	tba_buf_free(&enc);
	tba_buf_free(&uri);
	return ret;
}

/* ", name=\"enc(value)\"" (without the leading comma for the first). */
static tba_err
oauth_header_param(struct tba_buf *out, int first, const char *name, const char *value)
{
	tba_err r;

	if ((!first && (r = tba_buf_puts(out, ", ")) != TBA_OK) ||
	    (r = tba_buf_puts(out, name)) != TBA_OK || (r = tba_buf_puts(out, "=\"")) != TBA_OK ||
	    (r = tba_pct_encode(out, value, strlen(value))) != TBA_OK ||
	    (r = tba_buf_putc(out, '"')) != TBA_OK)
		return r;
	return TBA_OK;
}

tba_err
tba_oauth_header(const struct tba_oauth_req *r, const char *sig_b64, struct tba_buf *out)
{
	size_t i, start = out->len;
	char ts[24];
	int first = 1;
	tba_err ret;

	if ((ret = oauth_check_req(r)) != TBA_OK)
		return ret;
	snprintf(ts, sizeof(ts), "%" PRId64, r->timestamp);
	if (sig_b64 == NULL)
		return tba_seterr(TBA_ERR_INVALID, "no signature");
	if ((ret = tba_buf_puts(out, "OAuth ")) != TBA_OK)
		goto out;
	if (r->realm != NULL && r->realm[0] != '\0') {
		/*
		 * The realm is a quoted-string (RFC 2617), not percent-encoded:
		 * NetSuite compares it with the account ID as typed. Characters
		 * that would break the quoting are refused rather than escaped.
		 */
		for (i = 0; r->realm[i] != '\0'; i++) {
			if (r->realm[i] == '"' || r->realm[i] == '\\' ||
			    (unsigned char)r->realm[i] < 0x20 || r->realm[i] == 0x7f) {
				ret = tba_seterr(TBA_ERR_INVALID,
				    "realm contains a quote, backslash or control character");
				goto out;
			}
		}
		if ((ret = tba_buf_putf(out, "realm=\"%s\"", r->realm)) != TBA_OK)
			goto out;
		first = 0;
	}
	if ((ret = oauth_header_param(out, first, "oauth_consumer_key", r->consumer_key)) !=
		TBA_OK ||
	    (ret = oauth_header_param(out, 0, "oauth_token", r->token)) != TBA_OK ||
	    (ret = oauth_header_param(
		 out, 0, "oauth_signature_method", tba_sigmethod_name(r->sigmethod))) != TBA_OK ||
	    (ret = oauth_header_param(out, 0, "oauth_timestamp", ts)) != TBA_OK ||
	    (ret = oauth_header_param(out, 0, "oauth_nonce", r->nonce)) != TBA_OK ||
	    (ret = oauth_header_param(out, 0, "oauth_version", "1.0")) != TBA_OK ||
	    (ret = oauth_header_param(out, 0, "oauth_signature", sig_b64)) != TBA_OK)
		goto out;
	ret = TBA_OK;
out:
	if (ret != TBA_OK)
		tba_buf_truncate(out, start);
	return ret;
}

/*
 * NetSuite signs the five values joined by '&' as they are, without
 * percent-encoding (Oracle's published example reproduces only this way).
 */
tba_err
tba_passport_base_string(const char *account, const char *consumer_key, const char *token,
    const char *nonce, int64_t timestamp, struct tba_buf *out)
{
	size_t start = out->len;
	tba_err r;

	r = tba_buf_putf(
	    out, "%s&%s&%s&%s&%" PRId64, account, consumer_key, token, nonce, timestamp);
	if (r != TBA_OK)
		tba_buf_truncate(out, start);
	return r;
}

static tba_err
oauth_xml_escape(struct tba_buf *out, const char *s)
{
	tba_err r = TBA_OK;

	for (; *s != '\0' && r == TBA_OK; s++) {
		switch (*s) {
		case '&':
			r = tba_buf_puts(out, "&amp;");
			break;
		case '<':
			r = tba_buf_puts(out, "&lt;");
			break;
		case '>':
			r = tba_buf_puts(out, "&gt;");
			break;
		case '"':
			r = tba_buf_puts(out, "&quot;");
			break;
		case '\'':
			r = tba_buf_puts(out, "&apos;");
			break;
		default:
			r = tba_buf_putc(out, *s);
		}
	}
	return r;
}

tba_err
tba_passport_xml_v(const char *account, const char *consumer_key, const char *token,
    const char *nonce, int64_t timestamp, const char *sig_b64, enum tba_sigmethod m,
    const char *wsdl_version, struct tba_buf *out)
{
	char ts[24];
	const char *tag[5] = {"account", "consumerKey", "token", "nonce", "timestamp"};
	const char *val[5] = {account, consumer_key, token, nonce, ts};
	size_t i, start = out->len;
	tba_err r;

	snprintf(ts, sizeof(ts), "%" PRId64, timestamp);
	for (i = 0; wsdl_version[i] != '\0'; i++) {
		if (i >= 16 ||
		    !((wsdl_version[i] >= '0' && wsdl_version[i] <= '9') || wsdl_version[i] == '_'))
			return tba_seterr(TBA_ERR_INVALID,
			    "bad SuiteTalk WSDL version \"%.20s\": write it like 2024_2",
			    wsdl_version);
	}
	/*
	 * tokenPassport is an element of the messages namespace; its children
	 * are of the TokenPassport type from the core XSD, which qualifies its
	 * elements, so they carry the core namespace.
	 */
	if ((r = tba_buf_putf(out,
		 "<tokenPassport xmlns=\"urn:messages_%s.platform.webservices."
		 "netsuite.com\" xmlns:core=\"urn:core_%s.platform.webservices.netsuite.com\">",
		 wsdl_version, wsdl_version)) != TBA_OK)
		goto out;
	for (i = 0; i < 5; i++) {
		if ((r = tba_buf_putf(out, "<core:%s>", tag[i])) != TBA_OK ||
		    (r = oauth_xml_escape(out, val[i])) != TBA_OK ||
		    (r = tba_buf_putf(out, "</core:%s>", tag[i])) != TBA_OK)
			goto out;
	}
	if ((r = tba_buf_putf(out, "<core:signature algorithm=\"%s\">", tba_sigmethod_name(m))) !=
		TBA_OK ||
	    (r = oauth_xml_escape(out, sig_b64)) != TBA_OK ||
	    (r = tba_buf_puts(out, "</core:signature></tokenPassport>")) != TBA_OK)
		goto out;
	r = TBA_OK;
out:
	if (r != TBA_OK)
		tba_buf_truncate(out, start);
	return r;
}

tba_err
tba_passport_xml(const char *account, const char *consumer_key, const char *token,
    const char *nonce, int64_t timestamp, const char *sig_b64, enum tba_sigmethod m,
    struct tba_buf *out)
{
	return tba_passport_xml_v(account, consumer_key, token, nonce, timestamp, sig_b64, m,
	    TBA_PASSPORT_WSDL_VERSION, out);
}

tba_err
tba_base64(const unsigned char *in, size_t n, struct tba_buf *out)
{
	char tmp[4 * ((TBA_SIG_MAX * 4 + 2) / 3) + 1];
	size_t off, chunk;
	int len;
	tba_err r = TBA_OK;

	/* Chunks of a multiple of 3 bytes encode independently. */
	for (off = 0; off < n && r == TBA_OK; off += chunk) {
		chunk = n - off;
		if (chunk > TBA_SIG_MAX * 3)
			chunk = TBA_SIG_MAX * 3;
		len = EVP_EncodeBlock((unsigned char *)tmp, in + off, (int)chunk);
		if (len < 0)
			return tba_seterr(TBA_ERR_CRYPTO, "base64 encoding failed");
		r = tba_buf_put(out, tmp, (size_t)len);
	}
	if (n == 0)
		r = tba_buf_put(out, "", 0);
	return r;
}
