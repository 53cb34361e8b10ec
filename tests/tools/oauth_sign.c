/* SPDX-License-Identifier: MIT */
/*
 * oauth_sign - signs one request with libtba's pure signing code and the
 * software HMAC, for tests that compare it with an independent
 * implementation (python3-oauthlib).
 *
 *   printf 'CS\nTS\n' | oauth_sign --method M --url URL --consumer-key K --token T
 *       --nonce N --timestamp TS [--signature-method HMAC-SHA256] [--realm R]
 *       [--form NAME=VALUE]...
 *
 * Prints the signature base string on the first line, the Authorization
 * header value on the second and the URL to send (tba_url_normalized: the
 * path as signed, the query re-encoded) on the third. Exit 0 on success, 1 when libtba refuses the
 * request (the reason on stderr), 64 on usage errors.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tba/buf.h"
#include "tba/hmac.h"
#include "tba/mem.h"
#include "tba/oauth.h"
#include "tba/url.h"

#define SECRET_MAX 1024

/* Reads one line (without the newline) into secure memory. */
static int
read_secret(char *buf, size_t bufsz, size_t *len)
{
	int c;
	size_t n = 0;

	while ((c = getchar()) != EOF && c != '\n') {
		if (n + 1 >= bufsz)
			return -1;
		buf[n++] = (char)c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return (c == EOF && n == 0) ? -1 : 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: oauth_sign --method M --url URL --consumer-key K --token T "
	    "--nonce N --timestamp TS [--signature-method NAME] [--realm R] "
	    "[--form NAME=VALUE]... < secrets\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"method", required_argument, NULL, 'm'},
	    {"url", required_argument, NULL, 'u'},
	    {"consumer-key", required_argument, NULL, 'c'},
	    {"token", required_argument, NULL, 't'},
	    {"nonce", required_argument, NULL, 'n'},
	    {"timestamp", required_argument, NULL, 's'},
	    {"signature-method", required_argument, NULL, 'S'},
	    {"realm", required_argument, NULL, 'r'},
	    {"form", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	struct tba_oauth_req req;
	char *end;
	struct tba_params form;
	struct tba_url url;
	struct tba_buf base, header, sig, sent;
	const char *url_s = NULL, *sigm = "HMAC-SHA256";
	char *cs = NULL, *ts = NULL, *eq, *name = NULL;
	unsigned char *key = NULL, mac[TBA_SIG_MAX];
	size_t cslen = 0, tslen = 0, keylen = 0, keycap = 0, maclen = 0;
	int ch, rc = 1;
	tba_err r;

	memset(&req, 0, sizeof(req));
	req.timestamp = -1;
	memset(&url, 0, sizeof(url));
	tba_params_init(&url.query_params);
	tba_params_init(&form);
	tba_buf_init(&base, 4 * 1024 * 1024);
	tba_buf_init(&header, 64 * 1024);
	tba_buf_init(&sig, 256);
	tba_buf_init(&sent, 4 * TBA_URL_MAX);

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			req.method = optarg;
			break;
		case 'u':
			url_s = optarg;
			break;
		case 'c':
			req.consumer_key = optarg;
			break;
		case 't':
			req.token = optarg;
			break;
		case 'n':
			req.nonce = optarg;
			break;
		case 's':
			req.timestamp = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || req.timestamp < 0) {
				fprintf(stderr, "oauth_sign: --timestamp needs decimal seconds\n");
				rc = 64;
				goto out;
			}
			break;
		case 'S':
			sigm = optarg;
			break;
		case 'r':
			req.realm = optarg;
			break;
		case 'f':
			/* NAME and VALUE are literal, split at the first '='. */
			if ((eq = strchr(optarg, '=')) == NULL) {
				fprintf(stderr, "oauth_sign: --form needs NAME=VALUE\n");
				rc = 64;
				goto out;
			}
			if ((name = strndup(optarg, (size_t)(eq - optarg))) == NULL ||
			    tba_params_add(&form, name, eq + 1) != TBA_OK) {
				fprintf(stderr, "oauth_sign: too many form parameters\n");
				goto out;
			}
			free(name);
			name = NULL;
			break;
		default:
			usage();
			rc = 64;
			goto out;
		}
	}
	if (optind != argc || req.method == NULL || url_s == NULL || req.consumer_key == NULL ||
	    req.token == NULL || req.nonce == NULL || req.timestamp < 0) {
		usage();
		rc = 64;
		goto out;
	}
	if ((cs = tba_secalloc(SECRET_MAX)) == NULL || (ts = tba_secalloc(SECRET_MAX)) == NULL) {
		fprintf(stderr, "oauth_sign: out of memory\n");
		goto out;
	}
	if (read_secret(cs, SECRET_MAX, &cslen) != 0 || read_secret(ts, SECRET_MAX, &tslen) != 0) {
		fprintf(stderr,
		    "oauth_sign: give the consumer secret and the token secret on two "
		    "lines of stdin\n");
		rc = 64;
		goto out;
	}
	if ((r = tba_sigmethod_parse(sigm, &req.sigmethod)) != TBA_OK ||
	    (r = tba_url_parse(url_s, &url)) != TBA_OK)
		goto fail;
	req.url = &url;
	req.form = &form;
	if ((r = tba_oauth_base_string(&req, &base)) != TBA_OK ||
	    (r = tba_hmac_oauth_key(cs, cslen, ts, tslen, &key, &keylen, &keycap)) != TBA_OK ||
	    (r = tba_hmac_soft(req.sigmethod, key, keylen, base.data, base.len, mac, &maclen)) !=
		TBA_OK ||
	    (r = tba_base64(mac, maclen, &sig)) != TBA_OK ||
	    (r = tba_oauth_header(&req, tba_buf_str(&sig), &header)) != TBA_OK ||
	    (r = tba_url_normalized(&url, &sent)) != TBA_OK)
		goto fail;
	printf("%s\n%s\n%s\n", tba_buf_str(&base), tba_buf_str(&header), tba_buf_str(&sent));
	rc = fflush(stdout) == 0 ? 0 : 1;
	goto out;
fail:
	fprintf(stderr, "oauth_sign: %s\n", tba_errmsg(r));
	rc = 1;
out:
	free(name);
	tba_secfree(cs, SECRET_MAX);
	tba_secfree(ts, SECRET_MAX);
	tba_secfree(key, keycap);
	tba_wipe(mac, sizeof(mac));
	tba_url_free(&url);
	tba_params_free(&form);
	tba_buf_free(&base);
	tba_buf_free(&header);
	tba_buf_free(&sig);
	tba_buf_free(&sent);
	return rc;
}
