/* SPDX-License-Identifier: MIT */
/*
 * url.h - percent-encoding, parameter lists and URL parsing (pure code).
 *
 * Encoding is RFC 3986 / RFC 5849 §3.6: unreserved A-Z a-z 0-9 - . _ ~ are
 * kept, every other byte becomes %XX with upper-case hex (space is %20).
 * Decoding accepts %xx in either case; '+' decodes to a space only where the
 * text is application/x-www-form-urlencoded (queries and form bodies), as
 * RFC 5849 §3.4.1.3.1 requires. A '%' not followed by two hex digits is an
 * error (TBA_ERR_INVALID), never guessed at.
 */
#ifndef TBA_URL_H
#define TBA_URL_H

#include <stddef.h>

#include "tba/buf.h"
#include "tba/err.h"

#define TBA_URL_MAX 8192   /* longest URL accepted anywhere */
#define TBA_PARAMS_MAX 256 /* most parameters in one request */

/* One decoded parameter; both strings NUL-terminated, heap-owned by the list. */
struct tba_param {
	char *name;
	char *value;
};

struct tba_params {
	struct tba_param *v;
	size_t n;
	size_t cap;
};

/* Appends the RFC 3986 encoding of s[0..n) to out. */
tba_err tba_pct_encode(struct tba_buf *out, const char *s, size_t n);

/* The value of hex digit c (0-9, a-f, A-F), or -1. */
int tba_hexval(unsigned char c);

/*
 * Decodes s[0..n) into a new NUL-terminated string *out (free()).
 * form != 0: '+' means space. Decoded NUL bytes are refused (TBA_ERR_INVALID).
 */
tba_err tba_pct_decode(const char *s, size_t n, int form, char **out);

void tba_params_init(struct tba_params *p);
/* Adds a copy of name/value. Fails past TBA_PARAMS_MAX. */
tba_err tba_params_add(struct tba_params *p, const char *name, const char *value);
/*
 * Parses "a=1&b=2&c" (form-urlencoded: '+' is space) and appends each pair.
 * A name without '=' gets an empty value; empty pieces ("a=1&&b=2") are skipped.
 */
tba_err tba_params_parse(struct tba_params *p, const char *s, size_t n);
/* Appends "n1=v1&n2=v2" with both sides RFC 3986-encoded, in list order. */
tba_err tba_params_encode(const struct tba_params *p, struct tba_buf *out);
void tba_params_free(struct tba_params *p);

/*
 * A parsed absolute http(s) URL. All strings are heap-owned.
 * scheme and host are lower-cased; host keeps IPv6 brackets ("[::1]").
 * port is the explicit port or 0 when the URL had none; default_port is
 * 443/80 for https/http. path is the path as it will be sent: existing
 * %XX kept (hex upper-cased), characters that may not stand in a URL
 * percent-encoded, "/" when empty. query_params holds the decoded query.
 * had_userinfo is set when the URL carried "user@" before the host: such URLs
 * are parsed so that policy can refuse them with a clear message.
 */
struct tba_url {
	char *scheme;
	char *host;
	unsigned port;
	unsigned default_port;
	char *path;
	struct tba_params query_params;
	int had_userinfo;
};

/* Parses url (NUL-terminated, at most TBA_URL_MAX bytes). Only http and https. */
tba_err tba_url_parse(const char *url, struct tba_url *out);
void tba_url_free(struct tba_url *u);

/* Appends the base-string URI: scheme://host[:port]path (port only if not default). */
tba_err tba_url_base_uri(const struct tba_url *u, struct tba_buf *out);

/*
 * Appends the URL to send: base URI plus "?" and the query re-encoded from
 * query_params (RFC 3986, list order) when there is one. Sending this exact
 * string guarantees the server decodes what was signed.
 */
tba_err tba_url_normalized(const struct tba_url *u, struct tba_buf *out);

#endif
