/* SPDX-License-Identifier: MIT */
/* url.c - RFC 3986 percent-encoding, parameter lists and URL parsing. */
#include <stdlib.h>
#include <string.h>

#include "tba/url.h"

static const char hexdig[] = "0123456789ABCDEF";

/* RFC 3986 unreserved: A-Z a-z 0-9 - . _ ~ */
static int
url_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

int
tba_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static unsigned char
url_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

tba_err
tba_pct_encode(struct tba_buf *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, run, start = out->len;
	char esc[3] = {'%', 0, 0};
	tba_err r = TBA_OK;

	/*
	 * Runs of unreserved bytes go in one append: the agent encodes every
	 * base string twice, and byte-at-a-time appends were the largest cost
	 * outside the token (doc/performance.md).
	 */
	for (i = 0; i < n && r == TBA_OK; i += run) {
		for (run = 0; i + run < n && url_unreserved(u[i + run]); run++)
			;
		if (run > 0) {
			r = tba_buf_put(out, s + i, run);
			continue;
		}
		esc[1] = hexdig[u[i] >> 4];
		esc[2] = hexdig[u[i] & 0x0f];
		r = tba_buf_put(out, esc, sizeof(esc));
		run = 1;
	}
	if (r != TBA_OK)
		tba_buf_truncate(out, start);
	return r;
}

tba_err
tba_pct_decode(const char *s, size_t n, int form, char **out)
{
	char *d = NULL;
	size_t i, j = 0;
	int hi, lo;
	tba_err r;

	*out = NULL;
	if (n > TBA_URL_MAX * 4)
		return tba_seterr(
		    TBA_ERR_TOO_LARGE, "encoded text longer than %d bytes", TBA_URL_MAX * 4);
	if ((d = malloc(n + 1)) == NULL)
		return tba_nomem();
	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (n - i < 3 || (hi = tba_hexval((unsigned char)s[i + 1])) < 0 ||
			    (lo = tba_hexval((unsigned char)s[i + 2])) < 0) {
				r = tba_seterr(TBA_ERR_INVALID,
				    "bad percent escape \"%.*s\": '%%' must be followed by two hex digits "
				    "(write a literal '%%' as %%25)",
				    (int)(n - i < 3 ? n - i : 3), s + i);
				goto out;
			}
			if (hi == 0 && lo == 0) {
				r = tba_seterr(TBA_ERR_INVALID,
				    "percent escape %%00 (NUL byte) is not allowed");
				goto out;
			}
			d[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (form && s[i] == '+') {
			d[j++] = ' ';
		} else {
			d[j++] = s[i];
		}
	}
	d[j] = '\0';
	*out = d;
	d = NULL;
	r = TBA_OK;
out:
	free(d);
	return r;
}

void
tba_params_init(struct tba_params *p)
{
	p->v = NULL;
	p->n = 0;
	p->cap = 0;
}

tba_err
tba_params_add(struct tba_params *p, const char *name, const char *value)
{
	struct tba_param *nv;
	char *n = NULL, *v = NULL;
	size_t ncap;
	tba_err r;

	if (p->n >= TBA_PARAMS_MAX)
		return tba_seterr(TBA_ERR_TOO_LARGE, "more than %d parameters", TBA_PARAMS_MAX);
	if (p->n == p->cap) {
		ncap = p->cap ? p->cap * 2 : 8;
		if (ncap > TBA_PARAMS_MAX)
			ncap = TBA_PARAMS_MAX;
		if ((nv = reallocarray(p->v, ncap, sizeof(*nv))) == NULL)
			return tba_nomem();
		p->v = nv;
		p->cap = ncap;
	}
	if ((n = strdup(name)) == NULL || (v = strdup(value)) == NULL) {
		r = tba_nomem();
		goto out;
	}
	p->v[p->n].name = n;
	p->v[p->n].value = v;
	p->n++;
	n = v = NULL;
	r = TBA_OK;
out:
	free(n);
	free(v);
	return r;
}

tba_err
tba_params_parse(struct tba_params *p, const char *s, size_t n)
{
	const char *piece, *end, *eq, *amp;
	char *name = NULL, *value = NULL;
	tba_err r = TBA_OK;

	end = s + n;
	for (piece = s; piece < end; piece = amp + 1) {
		if ((amp = memchr(piece, '&', (size_t)(end - piece))) == NULL)
			amp = end;
		if (amp == piece)
			continue;
		if ((eq = memchr(piece, '=', (size_t)(amp - piece))) == NULL)
			eq = amp;
		if ((r = tba_pct_decode(piece, (size_t)(eq - piece), 1, &name)) != TBA_OK)
			goto out;
		if (eq == amp)
			r = tba_pct_decode("", 0, 1, &value);
		else
			r = tba_pct_decode(eq + 1, (size_t)(amp - eq - 1), 1, &value);
		if (r != TBA_OK || (r = tba_params_add(p, name, value)) != TBA_OK)
			goto out;
		free(name);
		free(value);
		name = value = NULL;
		if (amp == end)
			break;
	}
out:
	free(name);
	free(value);
	return r;
}

tba_err
tba_params_encode(const struct tba_params *p, struct tba_buf *out)
{
	size_t i, start = out->len;
	tba_err r = TBA_OK;

	for (i = 0; i < p->n; i++) {
		if ((i > 0 && (r = tba_buf_putc(out, '&')) != TBA_OK) ||
		    (r = tba_pct_encode(out, p->v[i].name, strlen(p->v[i].name))) != TBA_OK ||
		    (r = tba_buf_putc(out, '=')) != TBA_OK ||
		    (r = tba_pct_encode(out, p->v[i].value, strlen(p->v[i].value))) != TBA_OK)
			break;
	}
	if (r != TBA_OK)
		tba_buf_truncate(out, start);
	return r;
}

void
tba_params_free(struct tba_params *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].value);
	}
	free(p->v);
	tba_params_init(p);
}

/* RFC 3986 pchar minus pct-encoded, plus '/': may stand in a path as is. */
static int
url_path_char(unsigned char c)
{
	return url_unreserved(c) || strchr("!$&'()*+,;=:@/", c) != NULL;
}

/*
 * The path as it will be sent: %XX kept (hex upper-cased, so the signed
 * text and the sent text agree byte for byte), characters that may not
 * stand in a path encoded, "/" for an empty path.
 */
static tba_err
url_norm_path(const char *s, size_t n, char **out)
{
	struct tba_buf b;
	size_t i;
	unsigned char c;
	char esc[3];
	tba_err r = TBA_OK;

	*out = NULL;
	tba_buf_init(&b, TBA_URL_MAX * 3);
	if (n == 0 || s[0] != '/')
		r = tba_buf_putc(&b, '/');
	for (i = 0; i < n && r == TBA_OK; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (n - i < 3 || tba_hexval((unsigned char)s[i + 1]) < 0 ||
			    tba_hexval((unsigned char)s[i + 2]) < 0) {
				r = tba_seterr(TBA_ERR_INVALID,
				    "bad percent escape \"%.3s\" in the URL path: '%%' must be followed "
				    "by two hex digits (write a literal '%%' as %%25)",
				    s + i);
				break;
			}
			/* As in the query: a NUL byte means different things to different servers. */
			if (s[i + 1] == '0' && s[i + 2] == '0') {
				r = tba_seterr(TBA_ERR_INVALID,
				    "percent escape %%00 (NUL byte) is not "
				    "allowed in the URL path");
				break;
			}
			esc[0] = '%';
			esc[1] = hexdig[tba_hexval((unsigned char)s[i + 1])];
			esc[2] = hexdig[tba_hexval((unsigned char)s[i + 2])];
			r = tba_buf_put(&b, esc, 3);
			i += 2;
		} else if (url_path_char(c)) {
			r = tba_buf_putc(&b, (char)c);
		} else {
			r = tba_pct_encode(&b, (const char *)&c, 1);
		}
	}
	if (r == TBA_OK)
		*out = tba_buf_steal(&b);
	tba_buf_free(&b);
	return r;
}

/* Host: a DNS name / IPv4 address, or an IPv6 literal in brackets. */
static tba_err
url_parse_host(const char *s, size_t n, char **out)
{
	char *h = NULL;
	size_t i;
	unsigned char c;
	int v6;

	*out = NULL;
	if (n == 0)
		return tba_seterr(TBA_ERR_INVALID, "URL has no host");
	if (n > 253 + 2)
		return tba_seterr(TBA_ERR_INVALID, "URL host is longer than 253 characters");
	v6 = s[0] == '[';
	if (v6 && (n < 3 || s[n - 1] != ']'))
		return tba_seterr(TBA_ERR_INVALID, "URL has an unterminated IPv6 literal");
	for (i = v6 ? 1 : 0; i < (v6 ? n - 1 : n); i++) {
		c = (unsigned char)s[i];
		if (v6 ? (tba_hexval(c) >= 0 || c == ':' || c == '.')
		       : ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
			continue;
		return tba_seterr(TBA_ERR_INVALID,
		    "URL host contains '%c': use a plain DNS name, IPv4 address or [IPv6] literal",
		    c >= 0x20 && c < 0x7f ? c : '?');
	}
	if ((h = strndup(s, n)) == NULL)
		return tba_nomem();
	for (i = 0; i < n; i++)
		h[i] = (char)url_lower((unsigned char)h[i]);
	*out = h;
	return TBA_OK;
}

static tba_err
url_parse_port(const char *s, size_t n, unsigned *port)
{
	unsigned long v = 0;
	size_t i;

	*port = 0;
	if (n == 0) /* "host:" means the default port (RFC 3986 §6.2.3) */
		return TBA_OK;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return tba_seterr(TBA_ERR_INVALID, "URL port \"%.*s\" is not a number",
			    (int)(n > 16 ? 16 : n), s);
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > 65535)
			return tba_seterr(TBA_ERR_INVALID, "URL port is larger than 65535");
	}
	if (v == 0)
		return tba_seterr(TBA_ERR_INVALID, "URL port 0 is not valid");
	*port = (unsigned)v;
	return TBA_OK;
}

tba_err
tba_url_parse(const char *url, struct tba_url *out)
{
	const char *p, *auth, *auth_end, *at, *hend, *path, *path_end, *q, *q_end;
	size_t len, i;
	struct tba_url u;
	tba_err r;

	memset(&u, 0, sizeof(u));
	tba_params_init(&u.query_params);
	memset(out, 0, sizeof(*out));
	tba_params_init(&out->query_params);

	len = strnlen(url, TBA_URL_MAX + 1);
	if (len > TBA_URL_MAX) {
		r = tba_seterr(TBA_ERR_TOO_LARGE, "URL longer than %d bytes", TBA_URL_MAX);
		goto out;
	}
	if ((p = strstr(url, "://")) == NULL || p == url) {
		r = tba_seterr(TBA_ERR_INVALID, "not an absolute URL: write https://host/path");
		goto out;
	}
	if ((u.scheme = strndup(url, (size_t)(p - url))) == NULL) {
		r = tba_nomem();
		goto out;
	}
	for (i = 0; u.scheme[i] != '\0'; i++)
		u.scheme[i] = (char)url_lower((unsigned char)u.scheme[i]);
	if (strcmp(u.scheme, "https") == 0) {
		u.default_port = 443;
	} else if (strcmp(u.scheme, "http") == 0) {
		u.default_port = 80;
	} else {
		r = tba_seterr(TBA_ERR_INVALID, "URL scheme must be http or https");
		goto out;
	}

	auth = p + 3;
	auth_end = auth + strcspn(auth, "/?#");
	/* The last '@' of the authority ends the userinfo ('@' cannot stand in a host). */
	for (at = auth_end; at > auth && at[-1] != '@'; at--)
		;
	if (at > auth) {
		u.had_userinfo = 1;
		auth = at;
	}
	if (*auth == '[') {
		if ((hend = memchr(auth, ']', (size_t)(auth_end - auth))) == NULL) {
			r = tba_seterr(TBA_ERR_INVALID, "URL has an unterminated IPv6 literal");
			goto out;
		}
		hend++;
		if (hend < auth_end && *hend != ':') {
			r = tba_seterr(
			    TBA_ERR_INVALID, "unexpected text after the IPv6 literal in the URL");
			goto out;
		}
	} else {
		hend = memchr(auth, ':', (size_t)(auth_end - auth));
		if (hend == NULL)
			hend = auth_end;
	}
	if ((r = url_parse_host(auth, (size_t)(hend - auth), &u.host)) != TBA_OK)
		goto out;
	if (hend < auth_end &&
	    (r = url_parse_port(hend + 1, (size_t)(auth_end - hend - 1), &u.port)) != TBA_OK)
		goto out;

	path = auth_end;
	path_end = path + strcspn(path, "?#");
	if ((r = url_norm_path(path, (size_t)(path_end - path), &u.path)) != TBA_OK)
		goto out;
	if (*path_end == '?') {
		q = path_end + 1;
		q_end = q + strcspn(q, "#");
		if ((r = tba_params_parse(&u.query_params, q, (size_t)(q_end - q))) != TBA_OK)
			goto out;
	}
	/* The fragment is never sent, so it is never signed. */
	*out = u;
	memset(&u, 0, sizeof(u));
	r = TBA_OK;
out:
	tba_url_free(&u);
	return r;
}

void
tba_url_free(struct tba_url *u)
{
	free(u->scheme);
	free(u->host);
	free(u->path);
	tba_params_free(&u->query_params);
	u->scheme = u->host = u->path = NULL;
	u->port = u->default_port = 0;
	u->had_userinfo = 0;
}

tba_err
tba_url_base_uri(const struct tba_url *u, struct tba_buf *out)
{
	size_t start = out->len;
	tba_err r;

	if ((r = tba_buf_puts(out, u->scheme)) != TBA_OK ||
	    (r = tba_buf_puts(out, "://")) != TBA_OK || (r = tba_buf_puts(out, u->host)) != TBA_OK)
		goto out;
	if (u->port != 0 && u->port != u->default_port &&
	    (r = tba_buf_putf(out, ":%u", u->port)) != TBA_OK)
		goto out;
	r = tba_buf_puts(out, u->path);
out:
	if (r != TBA_OK)
		tba_buf_truncate(out, start);
	return r;
}

tba_err
tba_url_normalized(const struct tba_url *u, struct tba_buf *out)
{
	size_t start = out->len;
	tba_err r;

	if ((r = tba_url_base_uri(u, out)) != TBA_OK)
		return r;
	if (u->query_params.n > 0 &&
	    ((r = tba_buf_putc(out, '?')) != TBA_OK ||
		(r = tba_params_encode(&u->query_params, out)) != TBA_OK))
		tba_buf_truncate(out, start);
	return r;
}
