/*
 * cmd_curl.c - tba curl: send one signed HTTP request, curl-style.
 *
 * Options mean what they mean in curl. What differs, and why:
 * - The URL is parsed and normalised once; that exact string is what the
 *   agent signs and what libcurl sends, so the server decodes what was
 *   signed (a query written "a b" is sent as "a%20b").
 * - libcurl never follows redirects or retries on its own: every request on
 *   the wire needs its own fresh signature, so -L and --retry loop here and
 *   ask the agent again each time (and the agent refuses hosts outside the
 *   profile).
 * - TLS verification cannot be turned off (no -k); --cacert names a CA.
 * - -H 'Authorization: ...' and -H 'Host: ...' are refused: either would
 *   make the server check something other than what was signed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "http.h"
#include "tba/buf.h"
#include "tba/oauth.h"
#include "tba/url.h"

#define CURL_MAX_REDIRS 10

enum { BODY_NONE, BODY_FORM, BODY_JSON };

struct curl_opts {
	const char *profile;
	const char *url;
	const char *method;        /* -X, or NULL */
	struct curl_slist *headers;/* -H as given */
	struct tba_buf body;
	int body_kind;
	int include;               /* -i */
	const char *output;        /* -o */
	int fail;                  /* --fail */
	int location;              /* -L */
	long max_redirs;
	long retry;
	long retry_delay;          /* seconds; -1 = curl's backoff from 1 s */
	int silent;
	struct http_conf conf;
};

/* Where output goes: stdout or a file opened at the first byte (as curl). */
struct curl_out {
	const struct curl_opts *o;
	FILE *f;
	int failed_open;
	const struct http_resp *resp;  /* the exchange in progress */
	int retry_left;            /* this attempt may still be retried */
	int discard;               /* this response is a followed redirect or will be retried */
	int http_fail;             /* --fail and status >= 400: nothing is written */
};

static void
curl_help(void)
{
	printf("usage: tba curl PROFILE URL [options]\n\n"
	    "Sends one HTTP request signed by tba-agent with PROFILE's credentials\n"
	    "(OAuth 1.0a / NetSuite TBA). Options mean what they mean in curl.\n\n"
	    "  -X, --request METHOD     method (default GET, or POST with a body)\n"
	    "  -H, --header 'Name: value'  add or replace a request header\n"
	    "  -d, --data DATA          form body (POST, application/x-www-form-urlencoded);\n"
	    "                           @FILE reads FILE ('-' = stdin) without newlines; repeated\n"
	    "                           -d are joined with '&'. Form fields are signed, and\n"
	    "                           sent re-encoded from what was signed (RFC 3986)\n"
	    "      --data-binary DATA   as -d, but @FILE is sent byte for byte\n"
	    "      --data-raw DATA      as -d, '@' has no special meaning\n"
	    "      --json DATA          JSON body (POST, Content-Type and Accept\n"
	    "                           application/json); @FILE reads a file. Not signed.\n"
	    "  -i, --include            print the response headers before the body\n"
	    "  -o, --output FILE        write the body to FILE instead of stdout\n"
	    "  -f, --fail               exit 22 on HTTP status >= 400, body not printed\n"
	    "  -L, --location           follow redirects, each hop signed afresh; the\n"
	    "                           agent refuses hosts outside the profile\n"
	    "      --max-redirs N       most redirects followed with -L (default %d)\n"
	    "      --retry N            retry transient failures (timeouts, DNS, HTTP 408,\n"
	    "                           429, 500, 502, 503, 504) N times, each re-signed\n"
	    "      --retry-delay S      seconds between retries (default: 1 s, doubling)\n"
	    "      --connect-to HOST1:PORT1:HOST2:PORT2  connect elsewhere, same URL and TLS name\n"
	    "      --resolve HOST:PORT:ADDR             use ADDR for HOST:PORT\n"
	    "      --cacert FILE        trust the CA certificates in FILE (PEM)\n"
	    "      --connect-timeout S  seconds allowed for connecting\n"
	    "  -m, --max-time S         seconds allowed for the whole transfer\n"
	    "  -s, --silent             no hints on stderr (errors are still printed)\n"
	    "  -v, --verbose            trace to stderr (the Authorization header is redacted)\n\n"
	    "The URL is normalised once (query re-encoded per RFC 3986) and that exact\n"
	    "string is signed and sent. TLS certificates are always verified.\n\n"
	    "Exit status: 0 done (any HTTP status without --fail), 1 refused by the agent,\n"
	    "network or TLS failure, 2 agent unreachable, 22 HTTP >= 400 with --fail,\n"
	    "64 usage error.\n\n"
	    "Example:\n"
	    "  tba curl prod 'https://1234567.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?limit=5' \\\n"
	    "      -H 'Prefer: transient' --json '{\"q\": \"SELECT id, companyname FROM customer\"}'\n",
	    CURL_MAX_REDIRS);
}

/* Reads FILE ("-" = stdin) into b, at most HTTP_BODY_MAX bytes in all. */
static tba_err
curl_read_file(const char *path, int strip_newlines, struct tba_buf *b)
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
		if ((r = tba_buf_put(b, chunk, n)) != TBA_OK) {
			r = tba_seterr(r, "%s is larger than %lu MiB", path, HTTP_BODY_MAX >> 20);
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

/* Adds one -d/--data-binary/--data-raw/--json piece to the body. */
static tba_err
curl_add_data(struct curl_opts *o, int kind, int at_ok, int strip, const char *arg)
{
	tba_err r;

	if (o->body_kind != BODY_NONE && o->body_kind != kind)
		return tba_seterr(TBA_ERR_USAGE, "--json cannot be combined with -d");
	if (kind == BODY_FORM && o->body_kind == BODY_FORM && (r = tba_buf_putc(&o->body, '&')) != TBA_OK)
		return r;
	o->body_kind = kind;
	if (at_ok && arg[0] == '@')
		return curl_read_file(arg + 1, strip, &o->body);
	if ((r = tba_buf_puts(&o->body, arg)) != TBA_OK)
		return tba_seterr(r, "the request body is larger than %lu MiB", HTTP_BODY_MAX >> 20);
	return TBA_OK;
}

static int
curl_header_named(const char *h, const char *name)
{
	size_t n = strlen(name);

	return strncasecmp(h, name, n) == 0 && (h[n] == ':' || h[n] == ';');
}

/* The user's -H for name: its value ("" when removed with "Name:"), or NULL if not given. */
static const char *
curl_user_header(const struct curl_opts *o, const char *name)
{
	const struct curl_slist *l;
	const char *v = NULL;

	for (l = o->headers; l != NULL; l = l->next) {
		if (curl_header_named(l->data, name)) {
			v = l->data + strlen(name) + 1;
			while (*v == ' ' || *v == '\t')
				v++;
		}
	}
	return v;
}

static long
curl_parse_long(const char *s, long min, long max, int *bad)
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
	OPT_DATA_BINARY = 256, OPT_DATA_RAW, OPT_JSON, OPT_MAX_REDIRS, OPT_RETRY, OPT_RETRY_DELAY,
	OPT_CONNECT_TO, OPT_RESOLVE, OPT_CACERT, OPT_CONNECT_TIMEOUT, OPT_HELP,
};

static const struct option curl_longopts[] = {
	{"request", required_argument, NULL, 'X'},
	{"header", required_argument, NULL, 'H'},
	{"data", required_argument, NULL, 'd'},
	{"data-ascii", required_argument, NULL, 'd'},
	{"data-binary", required_argument, NULL, OPT_DATA_BINARY},
	{"data-raw", required_argument, NULL, OPT_DATA_RAW},
	{"json", required_argument, NULL, OPT_JSON},
	{"include", no_argument, NULL, 'i'},
	{"output", required_argument, NULL, 'o'},
	{"fail", no_argument, NULL, 'f'},
	{"location", no_argument, NULL, 'L'},
	{"max-redirs", required_argument, NULL, OPT_MAX_REDIRS},
	{"retry", required_argument, NULL, OPT_RETRY},
	{"retry-delay", required_argument, NULL, OPT_RETRY_DELAY},
	{"connect-to", required_argument, NULL, OPT_CONNECT_TO},
	{"resolve", required_argument, NULL, OPT_RESOLVE},
	{"cacert", required_argument, NULL, OPT_CACERT},
	{"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
	{"max-time", required_argument, NULL, 'm'},
	{"silent", no_argument, NULL, 's'},
	{"show-error", no_argument, NULL, 'S'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

/* Parses argv into o. Returns -1 to go on, else an exit code. */
static int
curl_parse(int argc, char **argv, struct curl_opts *o)
{
	int c, bad = 0;
	tba_err r = TBA_OK;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":X:H:d:io:fLm:sSv", curl_longopts, NULL)) != -1) {
		switch (c) {
		case 'X':
			o->method = optarg;
			break;
		case 'H':
			if (curl_header_named(optarg, "Authorization") || curl_header_named(optarg, "Host"))
				return cli_usage("curl", "-H '%.*s' is refused: tba signs the request and sets "
				    "that header itself (use --connect-to or --resolve to reach another address)",
				    (int)strcspn(optarg, ":;"), optarg);
			if (strchr(optarg, ':') == NULL && strchr(optarg, ';') == NULL)
				return cli_usage("curl", "-H needs 'Name: value'");
			r = http_list_add(&o->headers, optarg);
			break;
		case 'd':
			r = curl_add_data(o, BODY_FORM, 1, 1, optarg);
			break;
		case OPT_DATA_BINARY:
			r = curl_add_data(o, BODY_FORM, 1, 0, optarg);
			break;
		case OPT_DATA_RAW:
			r = curl_add_data(o, BODY_FORM, 0, 0, optarg);
			break;
		case OPT_JSON:
			r = curl_add_data(o, BODY_JSON, 1, 0, optarg);
			break;
		case 'i':
			o->include = 1;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'f':
			o->fail = 1;
			break;
		case 'L':
			o->location = 1;
			break;
		case OPT_MAX_REDIRS:
			o->max_redirs = curl_parse_long(optarg, 0, 1000, &bad);
			break;
		case OPT_RETRY:
			o->retry = curl_parse_long(optarg, 0, 100, &bad);
			break;
		case OPT_RETRY_DELAY:
			o->retry_delay = curl_parse_long(optarg, 0, 3600, &bad);
			break;
		case OPT_CONNECT_TO:
			r = http_list_add(&o->conf.connect_to, optarg);
			break;
		case OPT_RESOLVE:
			r = http_list_add(&o->conf.resolve, optarg);
			break;
		case OPT_CACERT:
			o->conf.cacert = optarg;
			break;
		case OPT_CONNECT_TIMEOUT:
			o->conf.connect_timeout = curl_parse_long(optarg, 1, 3600, &bad);
			break;
		case 'm':
			o->conf.max_time = curl_parse_long(optarg, 1, 86400, &bad);
			break;
		case 's':
			o->silent = 1;
			break;
		case 'S':
			break;
		case 'v':
			o->conf.verbose = 1;
			break;
		case OPT_HELP:
			curl_help();
			return TBA_EXIT_OK;
		case ':':
			return cli_usage("curl", "option %s needs a value", argv[optind - 1]);
		default:
			return cli_usage("curl", "unknown option %s", argv[optind - 1]);
		}
		if (r == TBA_ERR_USAGE)
			return cli_usage("curl", "%s", tba_errmsg(r));
		if (r != TBA_OK) {
			fprintf(stderr, "tba curl: %s\n", tba_errmsg(r));
			return TBA_EXIT_FAIL;
		}
		if (bad)
			return cli_usage("curl", "bad number '%s' for %s", optarg, argv[optind - 1]);
	}
	if (argc - optind != 2)
		return cli_usage("curl", "expected PROFILE and URL");
	o->profile = argv[optind];
	o->url = argv[optind + 1];
	if (o->method != NULL && !tba_oauth_method_ok(o->method))
		return cli_usage("curl", "-X needs an HTTP method in capitals, like GET or POST");
	return -1;
}

static FILE *
curl_out_file(struct curl_out *w)
{
	if (w->f != NULL || w->failed_open)
		return w->f;
	if (w->o->output == NULL || strcmp(w->o->output, "-") == 0) {
		w->f = stdout;
	} else if ((w->f = fopen(w->o->output, "wb")) == NULL) {
		fprintf(stderr, "tba curl: cannot write %s: %s\n", w->o->output, strerror(errno));
		w->failed_open = 1;
	}
	return w->f;
}

static int
curl_is_redirect(long st)
{
	return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

static int
curl_is_transient(long st)
{
	return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

/*
 * Decides from the status line (and Location, which precedes the body)
 * whether this response's bytes are shown: a redirect that -L follows and an
 * attempt that --retry repeats are not, and --fail shows nothing >= 400.
 */
static void
curl_out_decide(struct curl_out *w)
{
	const struct http_resp *r = w->resp;

	w->http_fail = w->o->fail && r->status >= 400;
	w->discard = (w->o->location && curl_is_redirect(r->status) && r->location != NULL) ||
	    (w->retry_left && curl_is_transient(r->status));
}

static int
curl_sink_header(void *ctx, const char *p, size_t n)
{
	struct curl_out *w = ctx;
	FILE *f;

	if (!w->o->include)
		return 0;
	curl_out_decide(w);
	/* 1xx interim blocks are not shown; nothing is shown with --fail >= 400. */
	if (w->http_fail || w->resp->status < 200)
		return 0;
	if ((f = curl_out_file(w)) == NULL)
		return -1;
	return fwrite(p, 1, n, f) == n ? 0 : -1;
}

static int
curl_sink_body(void *ctx, const struct http_resp *r, const char *p, size_t n)
{
	struct curl_out *w = ctx;
	FILE *f;

	curl_out_decide(w);
	if (w->discard || w->http_fail)
		return 0;
	if ((f = curl_out_file(w)) == NULL)
		return -1;
	return fwrite(p, 1, n, f) == n ? 0 : -1;
}

/*
 * The request loop: sign, send, and for -L or --retry sign again. Returns
 * the exit code.
 */
static int
curl_run(struct curl_opts *o, struct tba_agentc *ac, CURL *h)
{
	struct tba_url u;
	struct tba_buf url, ctline, formbody;
	struct tba_params form;
	struct curl_slist *hdrs = NULL;
	struct http_req req;
	struct http_resp resp;
	struct http_sink sink;
	struct curl_out w;
	const char *ctype, *method;
	long hops = 0, tries = 0, delay;
	int custom = o->method != NULL, has_body = o->body_kind != BODY_NONE, ret = TBA_EXIT_FAIL;
	tba_err r;

	memset(&u, 0, sizeof(u));
	memset(&resp, 0, sizeof(resp));
	memset(&w, 0, sizeof(w));
	tba_buf_init(&url, TBA_URL_MAX);
	tba_buf_init(&ctline, 512);
	tba_buf_init(&formbody, 3 * HTTP_BODY_MAX);
	tba_params_init(&form);
	w.o = o;
	sink.ctx = &w;
	sink.header = curl_sink_header;
	sink.body = curl_sink_body;
	method = custom ? o->method : has_body ? "POST" : "GET";
	delay = o->retry_delay >= 0 ? o->retry_delay : 1;

	if ((r = tba_url_parse(o->url, &u)) != TBA_OK) {
		ret = cli_usage("curl", "bad URL: %s", tba_errmsg(r));
		goto out;
	}
	if ((r = tba_url_normalized(&u, &url)) != TBA_OK) {
		ret = cli_usage("curl", "bad URL: %s", tba_errmsg(r));
		goto out;
	}
	for (;;) {
		/* Headers for this hop: the user's, then defaults for the body. */
		curl_slist_free_all(hdrs);
		hdrs = NULL;
		tba_params_free(&form);
		tba_params_init(&form);
		for (const struct curl_slist *l = o->headers; l != NULL; l = l->next) {
			if ((r = http_list_add(&hdrs, l->data)) != TBA_OK)
				goto fail;
		}
		ctype = curl_user_header(o, "Content-Type");
		if (has_body && ctype == NULL) {
			ctype = o->body_kind == BODY_JSON ? "application/json" : "application/x-www-form-urlencoded";
			tba_buf_reset(&ctline);
			if ((r = tba_buf_putf(&ctline, "Content-Type: %s", ctype)) != TBA_OK ||
			    (r = http_list_add(&hdrs, tba_buf_str(&ctline))) != TBA_OK)
				goto fail;
		}
		if (has_body && o->body_kind == BODY_JSON && curl_user_header(o, "Accept") == NULL &&
		    (r = http_list_add(&hdrs, "Accept: application/json")) != TBA_OK)
			goto fail;
		/* A form body is signed; what the Content-Type says decides that. */
		if (has_body && http_media_is(ctype, "application/x-www-form-urlencoded") &&
		    (r = tba_params_parse(&form, o->body.data, o->body.len)) != TBA_OK) {
			fprintf(stderr, "tba curl: the body is not valid form data (%s); with another "
			    "Content-Type give it with -H\n", tba_errmsg(r));
			ret = TBA_EXIT_USAGE;
			goto out;
		}
		req.profile = o->profile;
		req.method = method;
		req.url = tba_buf_str(&url);
		req.form = form.n > 0 ? &form : NULL;
		req.headers = hdrs;
		req.body = has_body ? (o->body.data != NULL ? o->body.data : "") : NULL;
		req.bodylen = has_body ? o->body.len : 0;
		if (form.n > 0) {
			/*
			 * Like the URL, a signed form is sent as re-encoded from what
			 * was signed, so the server decodes exactly those fields
			 * ("a b" goes out as "a%20b").
			 */
			tba_buf_reset(&formbody);
			if ((r = tba_params_encode(&form, &formbody)) != TBA_OK)
				goto fail;
			req.body = tba_buf_str(&formbody);
			req.bodylen = formbody.len;
		}

		w.discard = w.http_fail = 0;
		w.resp = &resp;
		w.retry_left = tries < o->retry;
		r = http_exchange(h, ac, &req, &o->conf, &sink, &resp);
		if (r == TBA_ERR_NETWORK) {
			const char *kind = http_fail_kind(resp.cc);

			if (tries < o->retry && (resp.cc == CURLE_OPERATION_TIMEDOUT ||
			    resp.cc == CURLE_COULDNT_RESOLVE_HOST)) {
				goto retry;
			}
			fprintf(stderr, "tba curl: (%d) %s failure: %s. Hint: %s\n", (int)resp.cc, kind,
			    resp.errbuf, http_fail_hint(resp.cc));
			if (resp.cc == CURLE_WRITE_ERROR && w.failed_open)
				ret = TBA_EXIT_FAIL;
			goto out;
		}
		if (r != TBA_OK) {
			if (hops > 0)
				fprintf(stderr, "tba curl: the agent would not sign the redirect to %s: %s\n",
				    req.url, tba_errmsg(r));
			else
				fprintf(stderr, "tba curl: the agent would not sign this request: %s\n",
				    tba_errmsg(r));
			ret = r == TBA_ERR_AGENT ? TBA_EXIT_AGENT : TBA_EXIT_FAIL;
			goto out;
		}
		if (tries < o->retry && curl_is_transient(resp.status))
			goto retry;
		if (o->location && curl_is_redirect(resp.status) && resp.redirect_url != NULL) {
			if (hops >= o->max_redirs) {
				fprintf(stderr, "tba curl: (47) Maximum (%ld) redirects followed\n", o->max_redirs);
				goto out;
			}
			hops++;
			/* curl's rules: 303 turns into GET, so do 301/302 after a POST (unless -X). */
			if ((resp.status == 303 && strcmp(method, "HEAD") != 0) ||
			    ((resp.status == 301 || resp.status == 302) && !custom && strcmp(method, "POST") == 0)) {
				if (!custom || resp.status == 303)
					method = "GET";
				has_body = 0;
			}
			tba_url_free(&u);
			memset(&u, 0, sizeof(u));
			tba_buf_reset(&url);
			if ((r = tba_url_parse(resp.redirect_url, &u)) != TBA_OK ||
			    (r = tba_url_normalized(&u, &url)) != TBA_OK) {
				fprintf(stderr, "tba curl: cannot follow the redirect to %s: %s\n",
				    resp.redirect_url, tba_errmsg(r));
				goto out;
			}
			continue;
		}
		break;
retry:
		tries++;
		if (!o->silent)
			fprintf(stderr, "tba curl: transient problem (%s); retrying in %ld s, %ld retries left\n",
			    r == TBA_OK ? "HTTP error" : http_fail_kind(resp.cc), delay, o->retry - tries + 1);
		sleep((unsigned)delay);
		if (o->retry_delay < 0 && delay < 600)
			delay *= 2;
	}

	/* The final response. */
	if (curl_out_file(&w) == NULL && !w.http_fail)
		goto out;
	if (w.f != NULL && fflush(w.f) != 0) {
		fprintf(stderr, "tba curl: cannot write the output: %s\n", strerror(errno));
		goto out;
	}
	if (o->fail && resp.status >= 400) {
		fprintf(stderr, "tba curl: (22) The requested URL returned error: %ld\n", resp.status);
		ret = TBA_EXIT_HTTP;
		goto out;
	}
	if (resp.status == 401 && !o->silent)
		fprintf(stderr, "tba curl: HTTP 401: the server refused the login; 'tba test %s' "
		    "diagnoses it\n", o->profile);
	ret = TBA_EXIT_OK;
	goto out;
fail:
	fprintf(stderr, "tba curl: %s\n", tba_errmsg(r));
out:
	if (w.f != NULL && w.f != stdout)
		fclose(w.f);
	http_resp_free(&resp);
	curl_slist_free_all(hdrs);
	tba_params_free(&form);
	tba_url_free(&u);
	tba_buf_free(&url);
	tba_buf_free(&ctline);
	tba_buf_free(&formbody);
	return ret;
}

int
cmd_curl(int argc, char **argv)
{
	struct curl_opts o;
	struct http_session hs = {0};
	int ret;
	tba_err r;

	memset(&o, 0, sizeof(o));
	tba_buf_init(&o.body, HTTP_BODY_MAX);
	o.max_redirs = CURL_MAX_REDIRS;
	o.retry_delay = -1;
	if ((ret = curl_parse(argc, argv, &o)) >= 0)
		goto out;
	if ((r = http_session_open(&hs)) != TBA_OK) {
		ret = cli_fail(r, "curl");
		goto out;
	}
	ret = curl_run(&o, hs.ac, hs.h);
out:
	http_session_close(&hs);
	curl_slist_free_all(o.headers);
	curl_slist_free_all(o.conf.connect_to);
	curl_slist_free_all(o.conf.resolve);
	tba_buf_free(&o.body);
	return ret;
}
