/* SPDX-License-Identifier: MIT */
/*
 * curl_opts.c - tba curl's options: curl's names and meanings, checked so
 * that what is sent is what was signed and allowed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "curl.h"
#include "tba/getopt.h"
#include "tba/oauth.h"
#include "tba/url.h"

#define CURL_WRITE_OUT_MAX 65536

static void
curl_opts_help(void)
{
	printf(
	    "usage: tba curl PROFILE URL [options]\n\n"
	    "Sends one HTTP request signed by tba-agent with PROFILE's credentials\n"
	    "(OAuth 1.0a / NetSuite TBA). Options mean what they mean in curl; long\n"
	    "options are spelled in full (never abbreviated).\n\n"
	    "  -X, --request METHOD     method (default GET, or POST with a body)\n"
	    "  -H, --header 'Name: value'  add or replace a request header; CR/LF, and\n"
	    "                           Authorization or Host, are refused\n"
	    "  -A, --user-agent NAME    User-Agent (default tba/VERSION)\n"
	    "  -d, --data DATA          form body (POST, application/x-www-form-urlencoded);\n"
	    "                           @FILE reads FILE ('-' = stdin) without newlines; repeated\n"
	    "                           -d are joined with '&'. Form fields are signed, and\n"
	    "                           sent re-encoded from what was signed (RFC 3986)\n"
	    "      --data-binary DATA   as -d, but @FILE is sent byte for byte\n"
	    "      --data-raw DATA      as -d, '@' has no special meaning\n"
	    "      --data-urlencode D   as -d, percent-encoded: 'content', '=content',\n"
	    "                           'name=content', '@FILE', 'name@FILE'\n"
	    "  -G, --get                send the -d data in the URL's query (signed), with GET\n"
	    "      --json DATA          JSON body (POST, Content-Type and Accept\n"
	    "                           application/json); @FILE reads a file. Not signed.\n"
	    "  -I, --head               HEAD request; print the response headers\n"
	    "  -i, --include            print the response headers before the body\n"
	    "  -D, --dump-header FILE   write the response headers to FILE ('-' = stdout)\n"
	    "  -o, --output FILE        write the body to FILE instead of stdout\n"
	    "  -w, --write-out FORMAT   print FORMAT after the transfer (@FILE reads it):\n"
	    "                           %%{http_code} %%{response_code} %%{time_total}\n"
	    "                           %%{time_connect} %%{time_starttransfer} %%{size_download}\n"
	    "                           %%{size_upload} %%{url_effective} %%{content_type}\n"
	    "                           %%{num_redirects} %%{exitcode} %%{errormsg}\n"
	    "                           %%{stdout} %%{stderr} (switch stream); \\n \\r \\t\n"
	    "  -f, --fail               exit 22 on HTTP status >= 400, body not printed\n"
	    "      --fail-with-body     exit 22 on HTTP status >= 400, body printed\n"
	    "  -L, --location           follow redirects, each hop signed afresh; the\n"
	    "                           agent refuses hosts outside the profile\n"
	    "      --max-redirs N       most redirects followed with -L (default %d)\n"
	    "      --retry N            retry transient failures (timeouts, DNS, HTTP 408,\n"
	    "                           429, 500, 502, 503, 504) N times, each re-signed;\n"
	    "                           a Retry-After header (up to %d s) sets the wait\n"
	    "      --retry-delay S      seconds between retries (default: 1 s, doubling)\n"
	    "      --paginate[=lines]   follow NetSuite's links rel=next (record lists,\n"
	    "                           SuiteQL), each page signed; print the items of all\n"
	    "                           pages as one JSON array (=lines: one per line)\n"
	    "      --connect-to HOST1:PORT1:HOST2:PORT2  connect elsewhere, same URL and TLS name\n"
	    "      --resolve HOST:PORT:ADDR             use ADDR for HOST:PORT\n"
	    "      --cacert FILE        trust the CA certificates in FILE (PEM)\n"
	    "  -x, --proxy URL          use this proxy (HTTPS goes through it in a tunnel)\n"
	    "      --noproxy HOSTS      hosts reached without the proxy ('*' = all)\n"
	    "      --compressed         ask for a compressed response and decompress it\n"
	    "      --connect-timeout S  seconds allowed for connecting\n"
	    "  -m, --max-time S         seconds allowed for the whole transfer\n"
	    "  -s, --silent             no hints and no transfer error messages\n"
	    "  -S, --show-error         with -s, still print transfer errors\n"
	    "  -v, --verbose            trace to stderr (the Authorization header is redacted)\n\n"
	    "The URL is normalised once (query re-encoded per RFC 3986) and that exact\n"
	    "string is signed and sent, its path byte for byte (no dot-segment removal).\n"
	    "TLS certificates are always verified (-k is refused).\n\n"
	    "Exit status: 0 done (any HTTP status without --fail), 22 HTTP >= 400 with\n"
	    "--fail, --fail-with-body or --paginate, curl's code for a transfer failure\n"
	    "(6 DNS, 7 connect, 28 timeout, 35 TLS, 47 redirects, 52 empty reply,\n"
	    "56 receive, 60 certificate not trusted, ...), 1 refused by the agent or bad\n"
	    "page, 2 agent unreachable, 64 usage error.\n\n"
	    "Example:\n"
	    "  tba curl prod "
	    "'https://1234567.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql' \\\n"
	    "      -H 'Prefer: transient' --json '{\"q\": \"SELECT id, companyname FROM "
	    "customer\"}' \\\n"
	    "      --paginate\n",
	    CURL_MAX_REDIRS, CURL_RETRY_AFTER_MAX);
}

void
curl_opts_init(struct curl_opts *o)
{
	memset(o, 0, sizeof(*o));
	tba_buf_init(&o->body, HTTP_BODY_MAX);
	tba_buf_init(&o->write_out_buf, CURL_WRITE_OUT_MAX);
	o->max_redirs = CURL_MAX_REDIRS;
	o->retry_delay = -1;
}

void
curl_opts_free(struct curl_opts *o)
{
	curl_slist_free_all(o->headers);
	curl_slist_free_all(o->conf.connect_to);
	curl_slist_free_all(o->conf.resolve);
	tba_buf_free(&o->body);
	tba_buf_free(&o->write_out_buf);
	o->headers = o->conf.connect_to = o->conf.resolve = NULL;
}

int
curl_opts_errors_shown(const struct curl_opts *o)
{
	return !o->silent || o->show_error;
}

/* Reads FILE ("-" = stdin) into b (bounded by b's maximum). */
static tba_err
curl_opts_read_file(const char *path, int strip_newlines, struct tba_buf *b)
{
	FILE *f = NULL;
	char chunk[8192];
	size_t n, i, k;
	tba_err r = TBA_OK;

	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL)
		return tba_seterr(TBA_ERR_IO, "cannot read %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (strip_newlines) {
			for (i = 0, k = 0; i < n; i++) {
				if (chunk[i] != '\r' && chunk[i] != '\n')
					chunk[k++] = chunk[i];
			}
			n = k;
		}
		if (tba_buf_put(b, chunk, n) != TBA_OK) {
			r = tba_seterr(TBA_ERR_TOO_LARGE, "%s is larger than %lu MiB", path,
			    (unsigned long)(b->max >> 20));
			goto out;
		}
	}
	if (ferror(f))
		r = tba_seterr(TBA_ERR_IO, "cannot read %s: %s", path, strerror(errno));
out:
	if (f != stdin)
		fclose(f);
	return r;
}

/* Starts one more piece of body data of kind: '&' between form pieces. */
static tba_err
curl_opts_data_start(struct curl_opts *o, int kind)
{
	if (o->body_kind != BODY_NONE && o->body_kind != kind)
		return tba_seterr(TBA_ERR_USAGE, "--json cannot be combined with -d");
	if (kind == BODY_FORM && o->body_kind == BODY_FORM && tba_buf_putc(&o->body, '&') != TBA_OK)
		return tba_seterr(TBA_ERR_TOO_LARGE, "the request body is larger than %lu MiB",
		    HTTP_BODY_MAX >> 20);
	o->body_kind = kind;
	return TBA_OK;
}

/* Adds one -d/--data-binary/--data-raw/--json piece to the body. */
static tba_err
curl_opts_data(struct curl_opts *o, int kind, int at_ok, int strip, const char *arg)
{
	tba_err r;

	if ((r = curl_opts_data_start(o, kind)) != TBA_OK)
		return r;
	if (at_ok && arg[0] == '@')
		return curl_opts_read_file(arg + 1, strip, &o->body);
	if (tba_buf_puts(&o->body, arg) != TBA_OK)
		return tba_seterr(TBA_ERR_TOO_LARGE, "the request body is larger than %lu MiB",
		    HTTP_BODY_MAX >> 20);
	return TBA_OK;
}

/*
 * --data-urlencode in curl's forms: "content" and "=content" (content
 * encoded), "name=content" (name as given, content encoded), "@FILE" and
 * "name@FILE" (the file's bytes encoded, newlines kept).
 */
static tba_err
curl_opts_urlencode(struct curl_opts *o, const char *arg)
{
	struct tba_buf file;
	const char *p = strchr(arg, '=');
	tba_err r;

	/* curl looks for '=' first: "a@b=c" is the name "a@b" with content "c". */
	if (p == NULL)
		p = strchr(arg, '@');
	if (p == NULL)
		p = arg + strlen(arg);

	tba_buf_init(&file, HTTP_BODY_MAX / 3);
	if ((r = curl_opts_data_start(o, BODY_FORM)) != TBA_OK)
		goto out;
	if (*p != '\0' && p > arg && tba_buf_put(&o->body, arg, (size_t)(p - arg)) != TBA_OK)
		goto big;
	if (*p != '\0' && p > arg && tba_buf_putc(&o->body, '=') != TBA_OK)
		goto big;
	if (*p == '@') {
		if ((r = curl_opts_read_file(p + 1, 0, &file)) != TBA_OK)
			goto out;
		r = tba_pct_encode(&o->body, file.data != NULL ? file.data : "", file.len);
	} else {
		p = *p == '=' ? p + 1 : arg;
		r = tba_pct_encode(&o->body, p, strlen(p));
	}
	if (r == TBA_OK)
		goto out;
big:
	r = tba_seterr(
	    TBA_ERR_TOO_LARGE, "the request body is larger than %lu MiB", HTTP_BODY_MAX >> 20);
out:
	tba_buf_free(&file);
	return r;
}

/* RFC 9110 token characters: what a header name is made of. */
static int
curl_opts_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * Checks one -H. A CR or LF would start a second header of the user's
 * choosing (a second Authorization, a Host); a name that is not a token
 * ("Authorization :") is how such a header slips past a name check, and a
 * server may still read it. Authorization is tba's to set. Host is refused
 * too: the server checks the signature against the Host it was sent (a
 * different one fails) and routes by it, so a Host override would deliver a
 * request signed and allowed for one host to another site behind the same
 * address; --connect-to and --resolve change where to connect instead.
 * Returns -1 when h is fine, else the usage exit code (message printed).
 */
static int
curl_opts_header(struct curl_opts *o, const char *h)
{
	size_t n = strcspn(h, ":;"), i, end = n;

	if (strpbrk(h, "\r\n") != NULL)
		return cli_usage("curl",
		    "-H values may not hold CR or LF (a second header would "
		    "go out unchecked)");
	if (h[n] == '\0')
		return cli_usage("curl", "-H needs 'Name: value'");
	while (end > 0 && (h[end - 1] == ' ' || h[end - 1] == '\t'))
		end--;
	i = 0;
	while (i < end && (h[i] == ' ' || h[i] == '\t'))
		i++;
	if ((end - i == 13 && strncasecmp(h + i, "Authorization", 13) == 0) ||
	    (end - i == 4 && strncasecmp(h + i, "Host", 4) == 0))
		return cli_usage("curl",
		    "-H '%.*s' is refused: tba signs the request and sets "
		    "that header itself (use --connect-to or --resolve to reach another address)",
		    (int)(end - i), h + i);
	for (i = 0; i < n; i++) {
		if (!curl_opts_tchar(h[i]))
			return cli_usage("curl",
			    "-H '%.*s': a header name is letters, digits and "
			    "-_.!#$%%&'*+^`|~, with no space before the ':'",
			    (int)n, h);
	}
	if (n == 0)
		return cli_usage("curl", "-H needs 'Name: value'");
	if (http_list_add(&o->headers, h) != TBA_OK)
		return cli_usage("curl", "out of memory");
	return -1;
}

static long
curl_opts_long(const char *s, long min, long max, int *bad)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		*bad = 1;
	return v;
}

enum {
	OPT_DATA_BINARY = 256,
	OPT_DATA_RAW,
	OPT_DATA_URLENCODE,
	OPT_JSON,
	OPT_MAX_REDIRS,
	OPT_RETRY,
	OPT_RETRY_DELAY,
	OPT_CONNECT_TO,
	OPT_RESOLVE,
	OPT_CACERT,
	OPT_CONNECT_TIMEOUT,
	OPT_HELP,
	OPT_FAIL_WITH_BODY,
	OPT_NOPROXY,
	OPT_COMPRESSED,
	OPT_PAGINATE,
};

static const struct option curl_longopts[] = {
    {"request", required_argument, NULL, 'X'},
    {"header", required_argument, NULL, 'H'},
    {"user-agent", required_argument, NULL, 'A'},
    {"data", required_argument, NULL, 'd'},
    {"data-ascii", required_argument, NULL, 'd'},
    {"data-binary", required_argument, NULL, OPT_DATA_BINARY},
    {"data-raw", required_argument, NULL, OPT_DATA_RAW},
    {"data-urlencode", required_argument, NULL, OPT_DATA_URLENCODE},
    {"get", no_argument, NULL, 'G'},
    {"json", required_argument, NULL, OPT_JSON},
    {"head", no_argument, NULL, 'I'},
    {"include", no_argument, NULL, 'i'},
    {"dump-header", required_argument, NULL, 'D'},
    {"output", required_argument, NULL, 'o'},
    {"write-out", required_argument, NULL, 'w'},
    {"fail", no_argument, NULL, 'f'},
    {"fail-with-body", no_argument, NULL, OPT_FAIL_WITH_BODY},
    {"location", no_argument, NULL, 'L'},
    {"max-redirs", required_argument, NULL, OPT_MAX_REDIRS},
    {"retry", required_argument, NULL, OPT_RETRY},
    {"retry-delay", required_argument, NULL, OPT_RETRY_DELAY},
    {"paginate", optional_argument, NULL, OPT_PAGINATE},
    {"connect-to", required_argument, NULL, OPT_CONNECT_TO},
    {"resolve", required_argument, NULL, OPT_RESOLVE},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"proxy", required_argument, NULL, 'x'},
    {"noproxy", required_argument, NULL, OPT_NOPROXY},
    {"compressed", no_argument, NULL, OPT_COMPRESSED},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"max-time", required_argument, NULL, 'm'},
    {"insecure", no_argument, NULL, 'k'},
    {"silent", no_argument, NULL, 's'},
    {"show-error", no_argument, NULL, 'S'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Options that carry data or a request header. Returns -1 to go on, else an exit code. */
static int
curl_opts_one_data(struct curl_opts *o, int c, const char *arg)
{
	tba_err r = TBA_OK;

	switch (c) {
	case 'H':
		return curl_opts_header(o, arg);
	case 'A':
		if (strpbrk(arg, "\r\n") != NULL)
			return cli_usage("curl", "-A may not hold CR or LF");
		o->conf.user_agent = arg;
		break;
	case 'd':
		r = curl_opts_data(o, BODY_FORM, 1, 1, arg);
		break;
	case OPT_DATA_BINARY:
		r = curl_opts_data(o, BODY_FORM, 1, 0, arg);
		break;
	case OPT_DATA_RAW:
		r = curl_opts_data(o, BODY_FORM, 0, 0, arg);
		break;
	case OPT_DATA_URLENCODE:
		r = curl_opts_urlencode(o, arg);
		break;
	case OPT_JSON:
		r = curl_opts_data(o, BODY_JSON, 1, 0, arg);
		break;
	case 'w':
		o->write_out = arg;
		if (arg[0] == '@') {
			tba_buf_reset(&o->write_out_buf);
			r = curl_opts_read_file(arg + 1, 0, &o->write_out_buf);
			o->write_out = tba_buf_str(&o->write_out_buf);
		}
		break;
	}
	if (r == TBA_ERR_USAGE)
		return cli_usage("curl", "%s", tba_errmsg(r));
	if (r != TBA_OK) {
		fprintf(stderr, "tba curl: %s\n", tba_errmsg(r));
		return TBA_EXIT_FAIL;
	}
	return -1;
}

/* Options that shape the transfer. Returns -1 to go on, else an exit code. */
static int
curl_opts_one_xfer(struct curl_opts *o, int c, const char *arg, int *bad)
{
	switch (c) {
	case OPT_MAX_REDIRS:
		o->max_redirs = curl_opts_long(arg, 0, 1000, bad);
		break;
	case OPT_RETRY:
		o->retry = curl_opts_long(arg, 0, 100, bad);
		break;
	case OPT_RETRY_DELAY:
		o->retry_delay = curl_opts_long(arg, 0, 3600, bad);
		break;
	case OPT_CONNECT_TIMEOUT:
		o->conf.connect_timeout = curl_opts_long(arg, 1, 3600, bad);
		break;
	case 'm':
		o->conf.max_time = curl_opts_long(arg, 1, 86400, bad);
		break;
	case OPT_PAGINATE:
		if (arg != NULL && strcmp(arg, "lines") != 0 && strcmp(arg, "array") != 0)
			return cli_usage("curl", "--paginate takes no value, =array or =lines");
		o->paginate = arg != NULL && strcmp(arg, "lines") == 0 ? PAGE_LINES : PAGE_ARRAY;
		break;
	case OPT_CONNECT_TO:
		return http_list_add(&o->conf.connect_to, arg) == TBA_OK
		    ? -1
		    : cli_usage("curl", "out of memory");
	case OPT_RESOLVE:
		return http_list_add(&o->conf.resolve, arg) == TBA_OK
		    ? -1
		    : cli_usage("curl", "out of memory");
	case 'k':
		return cli_usage("curl",
		    "-k/--insecure is refused: without verifying the server "
		    "the signed request goes to whoever answers; give the "
		    "server's CA with --cacert");
	}
	return -1;
}

/* One option that is a plain setting. Returns -1 to go on, else an exit code. */
static int
curl_opts_one(struct curl_opts *o, int c, const char *arg, int *bad)
{
	switch (c) {
	case 'X':
		o->method = arg;
		break;
	case 'G':
		o->get = 1;
		break;
	case 'I':
		o->head = 1;
		break;
	case 'i':
		o->include = 1;
		break;
	case 'D':
		o->dump_header = arg;
		break;
	case 'o':
		o->output = arg;
		break;
	case 'f':
		o->fail = 1;
		break;
	case OPT_FAIL_WITH_BODY:
		o->fail_with_body = 1;
		break;
	case 'L':
		o->location = 1;
		break;
	case OPT_CACERT:
		o->conf.cacert = arg;
		break;
	case 'x':
		o->conf.proxy = arg;
		break;
	case OPT_NOPROXY:
		o->conf.noproxy = arg;
		break;
	case OPT_COMPRESSED:
		o->conf.compressed = 1;
		break;
	case 's':
		o->silent = 1;
		break;
	case 'S':
		o->show_error = 1;
		break;
	case 'v':
		o->conf.verbose = 1;
		break;
	case 'H':
	case 'A':
	case 'd':
	case OPT_DATA_BINARY:
	case OPT_DATA_RAW:
	case OPT_DATA_URLENCODE:
	case OPT_JSON:
	case 'w':
		return curl_opts_one_data(o, c, arg);
	default:
		return curl_opts_one_xfer(o, c, arg, bad);
	}
	return -1;
}

/* Combinations curl refuses too, and what --paginate needs. */
static int
curl_opts_check(struct curl_opts *o)
{
	struct tba_url u;
	tba_err r;

	memset(&u, 0, sizeof(u));
	r = tba_url_parse(o->url, &u);
	tba_url_free(&u);
	if (r != TBA_OK)
		return cli_usage("curl", "bad URL: %s", tba_errmsg(r));
	if (o->method != NULL && !tba_oauth_method_ok(o->method))
		return cli_usage("curl", "-X needs an HTTP method in capitals, like GET or POST");
	if (o->get && o->body_kind == BODY_JSON)
		return cli_usage("curl", "-G puts -d data in the query; --json cannot go there");
	if (o->head && o->body_kind != BODY_NONE && !o->get)
		return cli_usage(
		    "curl", "-I sends no body: use -G to put the -d data in the query");
	if (o->head)
		o->include = 1;
	if (o->paginate != PAGE_NONE && (o->include || o->head))
		return cli_usage("curl",
		    "--paginate prints JSON items: it cannot be combined with "
		    "-i or -I (use -D FILE for the headers)");
	if (o->fail && o->fail_with_body)
		return cli_usage("curl", "--fail and --fail-with-body cannot be combined");
	return -1;
}

int
curl_opts_parse(int argc, char **argv, struct curl_opts *o)
{
	int c, bad = 0, ret = -1;

	optind = 1;
	opterr = 0;
	while (ret < 0 &&
	    (c = tba_getopt(argc, argv, ":X:H:A:d:GIiD:o:w:fLm:x:ksSv", curl_longopts)) != -1) {
		if (c == OPT_HELP) {
			curl_opts_help();
			ret = TBA_EXIT_OK;
		} else if (c == ':') {
			ret = cli_usage("curl", "option %s needs a value", argv[optind - 1]);
		} else if (c == '?') {
			ret = cli_usage("curl",
			    "unknown option %s (long options are spelled in full)",
			    argv[optind - 1]);
		} else {
			ret = curl_opts_one(o, c, optarg, &bad);
			if (ret < 0 && bad)
				ret = cli_usage("curl", "bad number '%s' for %s", optarg,
				    argv[optind - 1 - (optarg == argv[optind - 1])]);
		}
	}
	if (ret >= 0)
		return ret;
	if (argc - optind != 2)
		return cli_usage("curl", "expected PROFILE and URL");
	o->profile = argv[optind];
	o->url = argv[optind + 1];
	return curl_opts_check(o);
}
