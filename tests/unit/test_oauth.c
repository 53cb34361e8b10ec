/* SPDX-License-Identifier: MIT */
/*
 * test_oauth.c - base strings, headers and the tokenPassport against Oracle's
 * published examples (doc/PROTOCOL.md, appendix A), plus methods, nonces and base64.
 */
#include <sys/wait.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tba/hmac.h"
#include "tba/mem.h"
#include "tba/oauth.h"
#include "tba/url.h"

#define ORACLE_CK "ef40afdd8abaac111b13825dd5e5e2ddddb44f86d5a0dd6dcf38c20aae6b67e4"
#define ORACLE_CS "d26ad321a4b2f23b0741c8d38392ce01c3e23e109df6c96eac6d099e9ab9e8b5"
#define ORACLE_TOKEN "2b0ce516420110bcbd36b69e99196d1b7f6de3c6234c5afb799b73d87569f5cc"
#define ORACLE_TS "c29a677df7d5439a458c063654187e3d678d73aca8e3c9d8bea1478a3eb0d295"

static char sig_buf[128];

/* base64(HMAC_m(enc(cs)&enc(ts), msg)) with the software HMAC. */
static const char *
sign(enum tba_sigmethod m, const char *cs, const char *ts, const char *msg, size_t len)
{
	unsigned char *key = NULL, mac[TBA_SIG_MAX];
	size_t keylen, keycap, maclen;
	struct tba_buf b;

	sig_buf[0] = '\0';
	tba_buf_init(&b, 200);
	if (tba_hmac_oauth_key(cs, strlen(cs), ts, strlen(ts), &key, &keylen, &keycap) == TBA_OK &&
	    tba_hmac_soft(m, key, keylen, msg, len, mac, &maclen) == TBA_OK &&
	    tba_base64(mac, maclen, &b) == TBA_OK)
		snprintf(sig_buf, sizeof(sig_buf), "%s", tba_buf_str(&b));
	tba_secfree(key, keycap);
	tba_buf_free(&b);
	return sig_buf;
}

static void
test_oracle_rest(void)
{
	struct tba_url u;
	struct tba_buf base, hdr;
	struct tba_oauth_req r = {
	    .method = "GET",
	    .url = &u,
	    .consumer_key = ORACLE_CK,
	    .token = ORACLE_TOKEN,
	    .nonce = "fjaLirsIcCGVZWzBX0pg",
	    .timestamp = 1508242306,
	    .sigmethod = TBA_SIG_HMAC_SHA256,
	    .realm = "123456",
	};

	tba_buf_init(&base, 65536);
	tba_buf_init(&hdr, 65536);
	ok(tba_url_parse(
	       "https://123456.suitetalk.api.netsuite.com/services/rest/record/v1/employee/40",
	       &u) == TBA_OK,
	    "Oracle REST: URL parses");
	ok(tba_oauth_base_string(&r, &base) == TBA_OK, "Oracle REST: base string");
	is_str(tba_buf_str(&base),
	    "GET&https%3A%2F%2F123456.suitetalk.api.netsuite.com%2Fservices%2Frest%2Frecord%2Fv1%2Femployee%2F40&"
	    "oauth_consumer_key%3D" ORACLE_CK "%26oauth_nonce%3DfjaLirsIcCGVZWzBX0pg"
	    "%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1508242306"
	    "%26oauth_token%3D" ORACLE_TOKEN "%26oauth_version%3D1.0",
	    "Oracle REST: base string text");
	is_str(sign(TBA_SIG_HMAC_SHA256, ORACLE_CS, ORACLE_TS, base.data, base.len),
	    "B5OIWznZ2YP0OB7VrJrGkYsTh+8H+5T9Hag+o92q0zY=", "Oracle REST: signature");
	ok(tba_oauth_header(&r, sig_buf, &hdr) == TBA_OK, "Oracle REST: header");
	is_str(tba_buf_str(&hdr),
	    "OAuth realm=\"123456\", oauth_consumer_key=\"" ORACLE_CK
	    "\", oauth_token=\"" ORACLE_TOKEN
	    "\", oauth_signature_method=\"HMAC-SHA256\", oauth_timestamp=\"1508242306\", "
	    "oauth_nonce=\"fjaLirsIcCGVZWzBX0pg\", oauth_version=\"1.0\", "
	    "oauth_signature=\"B5OIWznZ2YP0OB7VrJrGkYsTh%2B8H%2B5T9Hag%2Bo92q0zY%3D\"",
	    "Oracle REST: header text (signature percent-encoded)");

	tba_buf_reset(&hdr);
	r.realm = "";
	ok(tba_oauth_header(&r, "a/b=", &hdr) == TBA_OK &&
		strncmp(tba_buf_str(&hdr), "OAuth oauth_consumer_key=", 25) == 0,
	    "empty realm omitted");
	tba_buf_reset(&hdr);
	r.realm = "bad\"realm";
	is_int(tba_oauth_header(&r, "x", &hdr), TBA_ERR_INVALID, "realm with a quote refused");
	is_int(hdr.len, 0, "... and nothing appended");
	tba_url_free(&u);
	tba_buf_free(&base);
	tba_buf_free(&hdr);
}

static void
test_oracle_restlet(void)
{
	struct tba_url u;
	struct tba_buf base;
	struct tba_oauth_req r = {
	    .method = "POST",
	    .url = &u,
	    .consumer_key = ORACLE_CK,
	    .token = ORACLE_TOKEN,
	    .nonce = "fjaLirsIcCGVZWzBX0pg",
	    .timestamp = 1508242306,
	    .sigmethod = TBA_SIG_HMAC_SHA256,
	    .realm = "123456",
	};

	tba_buf_init(&base, 65536);
	ok(tba_url_parse("https://123456.restlets.api.netsuite.com/app/site/hosting/restlet.nl"
			 "?script=6&deploy=1&customParam=someValue&testParam=someOtherValue",
	       &u) == TBA_OK,
	    "Oracle RESTlet: URL parses");
	ok(tba_oauth_base_string(&r, &base) == TBA_OK, "Oracle RESTlet: base string");
	is_str(sign(TBA_SIG_HMAC_SHA256, ORACLE_CS, ORACLE_TS, base.data, base.len),
	    "+KK4SKNgz4ZiILGLwOMtfYlgcXSy1eis8ldE9X90azQ=", "Oracle RESTlet: signature");
	ok(strstr(tba_buf_str(&base),
	       "&customParam%3DsomeValue%26deploy%3D1%26oauth_consumer_key") != NULL,
	    "Oracle RESTlet: query sorted in with the oauth params");
	tba_url_free(&u);
	tba_buf_free(&base);
}

static void
test_oracle_passport(void)
{
	struct tba_buf base, xml;
	const char *ck = "71cc02b731f05895561ef0862d71553a3ac99498a947c3b7beaf4a1e4a29f7c4";
	const char *tok = "89e08d9767c5ac85b374415725567d05b54ecf0960ad2470894a52f741020d82";

	tba_buf_init(&base, 4096);
	tba_buf_init(&xml, 4096);
	ok(tba_passport_base_string(
	       "1234567", ck, tok, "6obMKq0tmY8ylVOdEkA1", 1439829974, &base) == TBA_OK,
	    "Oracle passport: base string");
	is_str(tba_buf_str(&base),
	    "1234567&71cc02b731f05895561ef0862d71553a3ac99498a947c3b7beaf4a1e4a29f7c4&"
	    "89e08d9767c5ac85b374415725567d05b54ecf0960ad2470894a52f741020d82&6obMKq0tmY8ylVOdEkA1&1439829974",
	    "Oracle passport: base string text");
	is_str(sign(TBA_SIG_HMAC_SHA256,
		   "7278da58caf07f5c336301a601203d10a58e948efa280f0618e25fcee1ef2abd",
		   "060cd9ab3ffbbe1e3d3918e90165ffd37ab12acc76b4691046e2d29c7d7674c2", base.data,
		   base.len),
	    "FCghIZqXNetuZY8ILWOFH0ucdfzQOmAuL+q+kF21zPs=", "Oracle passport: signature");
	ok(tba_passport_xml("1234567_SB1", "c<k", "t&k", "6obMKq0tmY8ylVOdEkA1", 1439829974,
	       "ab+/=", TBA_SIG_HMAC_SHA256, &xml) == TBA_OK,
	    "passport XML");
	is_str(tba_buf_str(&xml),
	    "<tokenPassport xmlns=\"urn:messages_" TBA_PASSPORT_WSDL_VERSION
	    ".platform.webservices.netsuite.com\" xmlns:core=\"urn:core_" TBA_PASSPORT_WSDL_VERSION
	    ".platform.webservices.netsuite.com\"><core:account>1234567_SB1</core:account>"
	    "<core:consumerKey>c&lt;k</core:consumerKey><core:token>t&amp;k</core:token>"
	    "<core:nonce>6obMKq0tmY8ylVOdEkA1</core:nonce><core:timestamp>1439829974</core:timestamp>"
	    "<core:signature algorithm=\"HMAC-SHA256\">ab+/=</core:signature></tokenPassport>",
	    "passport XML text (escaped values, namespaces)");
	tba_buf_reset(&xml);
	ok(tba_passport_xml_v("1", "c", "t", "n", 1, "s", TBA_SIG_HMAC_SHA256, "2023_1", &xml) ==
		    TBA_OK &&
		strstr(tba_buf_str(&xml), "urn:core_2023_1.platform") != NULL,
	    "passport XML: WSDL version");
	tba_buf_reset(&xml);
	is_int(tba_passport_xml_v("1", "c", "t", "n", 1, "s", TBA_SIG_HMAC_SHA256, "x\"", &xml),
	    TBA_ERR_INVALID, "passport XML: bad WSDL version refused");
	tba_buf_free(&base);
	tba_buf_free(&xml);
}

static void
test_params_and_form(void)
{
	struct tba_url u;
	struct tba_params form;
	struct tba_buf base;
	struct tba_oauth_req r = {
	    .method = "POST",
	    .url = &u,
	    .form = &form,
	    .consumer_key = "k ey",
	    .token = "t+",
	    .nonce = "abcdef",
	    .timestamp = 1,
	    .sigmethod = TBA_SIG_HMAC_SHA1,
	};

	tba_params_init(&form);
	tba_buf_init(&base, 65536);
	tba_params_add(&form, "b", "2 3");
	tba_params_add(&form, "a", "");
	tba_params_add(&form, "a", "\xc3\xa9");
	ok(tba_url_parse("https://h.com:8443/x%20y?b=1&a=z&B=0&a~=*", &u) == TBA_OK, "URL parses");
	ok(tba_oauth_base_string(&r, &base) == TBA_OK, "base string with query and form");
	is_str(tba_buf_str(&base),
	    "POST&https%3A%2F%2Fh.com%3A8443%2Fx%2520y&"
	    "B%3D0%26a%3D%26a%3D%25C3%25A9%26a%3Dz%26a~%3D%252A%26b%3D1%26b%3D2%25203"
	    "%26oauth_consumer_key%3Dk%2520ey%26oauth_nonce%3Dabcdef"
	    "%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1%26oauth_token%3Dt%252B"
	    "%26oauth_version%3D1.0",
	    "sorted by encoded name then value, byte order; path escapes kept");
	tba_buf_reset(&base);
	r.method = "get";
	is_int(tba_oauth_base_string(&r, &base), TBA_ERR_INVALID, "lower-case method refused");
	tba_url_free(&u);
	tba_params_free(&form);
	tba_buf_free(&base);
}

static void
test_checks(void)
{
	char n[TBA_NONCE_GEN + 1], n2[TBA_NONCE_GEN + 1];
	char big[512];
	enum tba_sigmethod m;
	int i, counts[62] = {0}, min = 1 << 30, max = 0;
	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	struct tba_buf b;

	ok(tba_oauth_method_ok("GET") && tba_oauth_method_ok("PROPFIND"), "methods ok");
	ok(!tba_oauth_method_ok("get") && !tba_oauth_method_ok("") &&
		!tba_oauth_method_ok("GE T") && !tba_oauth_method_ok("ABCDEFGHIJKLMNOPQ") &&
		!tba_oauth_method_ok(NULL),
	    "bad methods refused");
	ok(tba_oauth_method_ok("ABCDEFGHIJKLMNOP"), "16 letters ok");
	ok(tba_oauth_nonce_ok("abc123") && !tba_oauth_nonce_ok("abc12") &&
		!tba_oauth_nonce_ok("abc 123") && !tba_oauth_nonce_ok("abc-123"),
	    "client nonces: 6+ alphanumerics");
	memset(big, 'a', 64);
	big[64] = '\0';
	ok(tba_oauth_nonce_ok(big), "64-character nonce ok");
	big[64] = 'a';
	big[65] = '\0';
	ok(!tba_oauth_nonce_ok(big), "65-character nonce refused");

	ok(tba_oauth_nonce_new(n, TBA_NONCE_GEN) == TBA_OK && strlen(n) == TBA_NONCE_GEN &&
		tba_oauth_nonce_ok(n),
	    "generated nonce: %s", n);
	ok(tba_oauth_nonce_new(n2, TBA_NONCE_GEN) == TBA_OK && strcmp(n, n2) != 0, "nonces differ");
	ok(TBA_NONCE_GEN >= 20, "the agent's nonces have at least 20 characters");
	ok(tba_oauth_nonce_new(big, TBA_NONCE_MAX) == TBA_OK && strlen(big) == TBA_NONCE_MAX &&
		tba_oauth_nonce_ok(big),
	    "a %d-character nonce (more than one draw's worth)", TBA_NONCE_MAX);
	for (i = 0; i < 2000; i++) {
		size_t j;
		tba_oauth_nonce_new(n, TBA_NONCE_GEN);
		for (j = 0; j < TBA_NONCE_GEN; j++)
			counts[strchr(alpha, n[j]) - alpha]++;
	}
	for (i = 0; i < 62; i++) {
		min = counts[i] < min ? counts[i] : min;
		max = counts[i] > max ? counts[i] : max;
	}
	/* 48000 draws, 774 expected per character; a biased mapping skews this far more. */
	ok(min > 600 && max < 960, "nonce characters roughly uniform (min %d, max %d)", min, max);

	ok(tba_sigmethod_parse("HMAC-SHA512", &m) == TBA_OK && m == TBA_SIG_HMAC_SHA512,
	    "parse SHA512");
	is_int(tba_sigmethod_parse("hmac-sha256", &m), TBA_ERR_INVALID,
	    "method names are case-sensitive");
	is_str(tba_sigmethod_name(TBA_SIG_HMAC_SHA1), "HMAC-SHA1", "name SHA1");
	is_int(tba_sigmethod_digest_len(TBA_SIG_HMAC_SHA256), 32, "SHA256 digest");
	is_int(tba_sigmethod_block_len(TBA_SIG_HMAC_SHA512), 128, "SHA512 block");

	tba_buf_init(&b, 1024);
	tba_base64((const unsigned char *)"foobar", 6, &b);
	tba_buf_putc(&b, ' ');
	tba_base64((const unsigned char *)"fooba", 5, &b);
	tba_buf_putc(&b, ' ');
	tba_base64((const unsigned char *)"f", 1, &b);
	is_str(tba_buf_str(&b), "Zm9vYmFy Zm9vYmE= Zg==", "base64 (RFC 4648 vectors)");
	tba_buf_free(&b);
}

/*
 * A forked child and its parent must not draw the same nonce (OpenSSL
 * reseeds after fork), and neither may two threads.
 */
static void *
nonce_thread(void *arg)
{
	tba_oauth_nonce_new(arg, TBA_NONCE_GEN);
	return NULL;
}

static void
test_nonce_fork(void)
{
	char mine[TBA_NONCE_GEN + 1], child[TBA_NONCE_GEN + 1] = "", other[TBA_NONCE_GEN + 1];
	pthread_t t;
	pid_t pid;
	int p[2], st = 0;
	ssize_t k;

	/* The generator has run before the fork: the child inherits its state. */
	tba_oauth_nonce_new(mine, TBA_NONCE_GEN);
	if (pipe(p) != 0 || (pid = fork()) < 0) {
		ok(0, "pipe/fork");
		return;
	}
	if (pid == 0) {
		char n[TBA_NONCE_GEN + 1];

		tba_oauth_nonce_new(n, TBA_NONCE_GEN);
		_exit(write(p[1], n, sizeof(n)) == (ssize_t)sizeof(n) ? 0 : 1);
	}
	close(p[1]);
	k = read(p[0], child, sizeof(child));
	close(p[0]);
	waitpid(pid, &st, 0);
	tba_oauth_nonce_new(mine, TBA_NONCE_GEN);
	ok(k == (ssize_t)sizeof(child) && tba_oauth_nonce_ok(child) && strcmp(mine, child) != 0,
	    "a forked child's nonce differs from the parent's next (%s, %s)", child, mine);
	pthread_create(&t, NULL, nonce_thread, other);
	pthread_join(t, NULL);
	tba_oauth_nonce_new(mine, TBA_NONCE_GEN);
	ok(tba_oauth_nonce_ok(other) && strcmp(mine, other) != 0, "another thread's nonce differs");
}

int
main(void)
{
	test_oracle_rest();
	test_oracle_restlet();
	test_oracle_passport();
	test_params_and_form();
	test_checks();
	test_nonce_fork();
	return tap_done();
}
