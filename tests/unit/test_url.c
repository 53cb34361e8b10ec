/* SPDX-License-Identifier: MIT */
/* test_url.c - percent-encoding, parameter lists, URL parsing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tba/url.h"

static char enc_buf[1024];

static const char *
enc(const char *s, size_t n)
{
	struct tba_buf b;

	tba_buf_init(&b, 1000);
	enc_buf[0] = '\0';
	if (tba_pct_encode(&b, s, n) == TBA_OK)
		snprintf(enc_buf, sizeof(enc_buf), "%s", tba_buf_str(&b));
	else
		snprintf(enc_buf, sizeof(enc_buf), "(error)");
	tba_buf_free(&b);
	return enc_buf;
}

static char dec_buf[1024];

static const char *
dec(const char *s, int form)
{
	char *d = NULL;

	if (tba_pct_decode(s, strlen(s), form, &d) != TBA_OK)
		return "(error)";
	snprintf(dec_buf, sizeof(dec_buf), "%s", d);
	free(d);
	return dec_buf;
}

/* Parses url and renders "base-uri | n1=v1&n2=v2 (encoded) | userinfo". */
static char url_buf[2048];

static const char *
url(const char *s)
{
	struct tba_url u;
	struct tba_buf b, q;
	tba_err r;

	if ((r = tba_url_parse(s, &u)) != TBA_OK) {
		snprintf(url_buf, sizeof(url_buf), "error %d: %s", r, tba_errmsg(r));
		tba_clearerr();
		return url_buf;
	}
	tba_buf_init(&b, 3 * TBA_URL_MAX);
	tba_buf_init(&q, 3 * TBA_URL_MAX);
	tba_url_base_uri(&u, &b);
	tba_params_encode(&u.query_params, &q);
	snprintf(url_buf, sizeof(url_buf), "%s | %s%s", tba_buf_str(&b), tba_buf_str(&q),
	    u.had_userinfo ? " | userinfo" : "");
	tba_buf_free(&b);
	tba_buf_free(&q);
	tba_url_free(&u);
	return url_buf;
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
test_encode(void)
{
	is_str(enc("abcXYZ019-._~", 13), "abcXYZ019-._~", "unreserved kept");
	is_str(enc("a b", 3), "a%20b", "space is %%20");
	is_str(enc("+&=%*", 5), "%2B%26%3D%25%2A", "reserved encoded, upper-case hex");
	is_str(enc("\xc3\xa9\xe2\x82\xac", 5), "%C3%A9%E2%82%AC", "UTF-8 bytes encoded");
	is_str(enc("a\0b", 3), "a%00b", "embedded NUL encoded by length");
	is_str(enc("", 0), "", "empty");
	{
		struct tba_buf b;
		tba_buf_init(&b, 5);
		tba_buf_puts(&b, "ab");
		is_int(tba_pct_encode(&b, "  ", 2), TBA_ERR_TOO_LARGE, "encode past the cap fails");
		is_str(tba_buf_str(&b), "ab", "... and leaves the buffer as it was");
		tba_buf_free(&b);
	}
}

static void
test_decode(void)
{
	is_str(dec("a%20b+c", 0), "a b+c", "plain: '+' kept");
	is_str(dec("a%20b+c", 1), "a b c", "form: '+' is space");
	is_str(dec("%c3%A9", 0), "\xc3\xa9", "either hex case");
	is_str(dec("%2B", 1), "+", "%%2B is a plus");
	is_str(dec("100%", 0), "(error)", "lone %% refused");
	is_str(dec("%4", 0), "(error)", "short escape refused");
	is_str(dec("%zz", 0), "(error)", "non-hex escape refused");
	is_str(dec("a%00b", 0), "(error)", "%%00 refused");
}

static void
test_params(void)
{
	struct tba_params p;
	struct tba_buf b;

	tba_params_init(&p);
	tba_buf_init(&b, 4096);
	ok(tba_params_parse(&p, "a=1&&b&c=&a=2&d=x%3Dy=z&e+f=g+h%2B", 34) == TBA_OK, "parse");
	is_int(p.n, 6, "empty piece skipped, the rest kept");
	is_str(p.v[1].name, "b", "name without '='");
	is_str(p.v[1].value, "", "... gets an empty value");
	is_str(p.v[2].value, "", "empty value");
	is_str(p.v[3].value, "2", "repeated name kept");
	is_str(p.v[4].value, "x=y=z", "split at the first '='");
	is_str(p.v[5].name, "e f", "'+' in a name is a space");
	is_str(p.v[5].value, "g h+", "'+' vs %%2B");
	tba_params_encode(&p, &b);
	is_str(tba_buf_str(&b), "a=1&b=&c=&a=2&d=x%3Dy%3Dz&e%20f=g%20h%2B", "encode in list order");
	tba_params_free(&p);
	is_int(tba_params_parse(&p, "a=%G1", 5), TBA_ERR_INVALID, "bad escape in a query");
	tba_params_free(&p);
	{
		int i;
		tba_err r = TBA_OK;

		for (i = 0; i < TBA_PARAMS_MAX && r == TBA_OK; i++)
			r = tba_params_add(&p, "n", "v");
		is_int(r, TBA_OK, "TBA_PARAMS_MAX parameters fit");
		is_int(tba_params_add(&p, "n", "v"), TBA_ERR_TOO_LARGE, "one more does not");
		tba_params_free(&p);
	}
	tba_buf_free(&b);
}

static void
test_parse(void)
{
	char *big;

	is_str(url("https://Example.COM/a/b?x=1"), "https://example.com/a/b | x=1",
	    "host lower-cased");
	is_str(url("HTTPS://h.com"), "https://h.com/ | ", "scheme lower-cased, empty path is /");
	is_str(url("https://h.com:443/p"), "https://h.com/p | ", ":443 dropped for https");
	is_str(url("http://h.com:80/p"), "http://h.com/p | ", ":80 dropped for http");
	is_str(url("http://h.com:443/p"), "http://h.com:443/p | ", ":443 kept for http");
	is_str(url("https://h.com:8443/p"), "https://h.com:8443/p | ", ":8443 kept");
	is_str(url("https://h.com:/p"), "https://h.com/p | ", "empty port is the default");
	is_str(url("https://h.com/p#frag?x=1"), "https://h.com/p | ", "fragment dropped");
	is_str(url("https://h.com/p?a=1#frag"), "https://h.com/p | a=1", "fragment after query");
	is_str(url("https://h.com/a%2fb%7E"), "https://h.com/a%2Fb%7E | ",
	    "escapes kept, hex upper-cased");
	is_str(url("https://h.com/a b/\xc3\xa9\"<>"), "https://h.com/a%20b/%C3%A9%22%3C%3E | ",
	    "characters not allowed in a path are encoded");
	is_str(url("https://h.com/!$&'()*+,;=:@-._~"), "https://h.com/!$&'()*+,;=:@-._~ | ",
	    "sub-delims, ':' and '@' kept in the path");
	is_str(url("https://h.com/p?q=a+b%2Bc&r&r=&s=%E2%82%AC&s=~*"),
	    "https://h.com/p | q=a%20b%2Bc&r=&r=&s=%E2%82%AC&s=~%2A", "query decoded as a form");
	is_str(url("https://[::1]:8443/x"), "https://[::1]:8443/x | ", "IPv6 literal with port");
	is_str(url("https://[2001:DB8::1]/"), "https://[2001:db8::1]/ | ", "IPv6 lower-cased");
	is_str(url("https://user:pw@h.com/"), "https://h.com/ |  | userinfo", "userinfo detected");
	is_str(url("https://a@b@h.com/"), "https://h.com/ |  | userinfo", "last '@' ends userinfo");
	ok(starts(url("https://h.com/%zz"), "error 2: bad percent escape \"%zz\""),
	    "bad path escape: %s", url_buf);
	ok(starts(url("https://h.com/a%"), "error 2: bad percent escape"), "trailing %% in path");
	ok(starts(url("https://h.com/?a=%4"), "error 2: bad percent escape"), "bad query escape");
	ok(starts(url("https://h.com:99999/"), "error 2: URL port is larger than 65535"),
	    "port > 65535");
	ok(starts(url("https://h.com:44x/"), "error 2: URL port \"44x\" is not a number"),
	    "port not a number");
	ok(starts(url("https://h.com:0/"), "error 2"), "port 0");
	ok(starts(url("ftp://h.com/"), "error 2: URL scheme must be http or https"), "ftp refused");
	ok(starts(url("h.com/x"), "error 2: not an absolute URL"), "relative URL refused");
	ok(starts(url("https:///x"), "error 2: URL has no host"), "empty host refused");
	ok(starts(url("https://[::1/x"), "error 2"), "unterminated IPv6 refused");
	ok(starts(url("https://[::1]x/"), "error 2"), "junk after IPv6 refused");
	ok(starts(url("https://h\\.com/"), "error 2: URL host contains '\\'"),
	    "backslash in host refused");
	ok(starts(url("https://h.com/?a=%00"), "error 2"), "%%00 in query refused");

	big = malloc(TBA_URL_MAX + 2);
	memcpy(big, "https://h.com/", 14);
	memset(big + 14, 'a', TBA_URL_MAX + 1 - 14);
	big[TBA_URL_MAX + 1] = '\0';
	ok(starts(url(big), "error 3"), "URL past TBA_URL_MAX refused");
	big[TBA_URL_MAX] = '\0';
	ok(starts(url(big), "https://h.com/aaa"), "URL of TBA_URL_MAX bytes accepted: %.60s",
	    url_buf);
	free(big);
}

static void
test_normalized(void)
{
	struct tba_url u;
	struct tba_buf b;

	tba_buf_init(&b, 4096);
	ok(tba_url_parse("HTTPS://H.com:443/a%2fb c?x=1+2&y&x=%41#f", &u) == TBA_OK, "parse");
	ok(tba_url_normalized(&u, &b) == TBA_OK, "normalized");
	is_str(tba_buf_str(&b), "https://h.com/a%2Fb%20c?x=1%202&y=&x=A", "URL to send");
	tba_url_free(&u);
	tba_buf_reset(&b);
	ok(tba_url_parse("https://h.com/p?", &u) == TBA_OK && tba_url_normalized(&u, &b) == TBA_OK,
	    "empty query");
	is_str(tba_buf_str(&b), "https://h.com/p", "... has no '?'");
	tba_url_free(&u);
	tba_buf_free(&b);
}

int
main(void)
{
	test_encode();
	test_decode();
	test_params();
	test_parse();
	test_normalized();
	return tap_done();
}
