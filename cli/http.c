/* SPDX-License-Identifier: MIT */
/*
 * http.c - signed HTTP exchanges through libcurl (see http.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "auth.h"
#include "http.h"
#include "tba/buf.h"
#include "tba/mem.h"

#define HTTP_HDR_MAX 16384 /* Authorization header line we build */

struct http_xfer {
	struct http_sink *sink;
	struct http_resp *resp;
	int hold401; /* a 401 will be retried with a new token: keep it from the sink */
};

tba_err
http_session_open(struct http_session *s)
{
	tba_err r;

	memset(s, 0, sizeof(*s));
	if ((r = tba_agentc_connect(NULL, &s->ac)) != TBA_OK)
		return r;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return tba_seterr(TBA_ERR_NETWORK, "libcurl failed to initialise");
	s->inited = 1;
	if ((s->h = curl_easy_init()) == NULL)
		return tba_seterr(TBA_ERR_NETWORK, "libcurl could not start");
	return TBA_OK;
}

void
http_session_close(struct http_session *s)
{
	if (s->h != NULL)
		curl_easy_cleanup(s->h);
	if (s->inited)
		curl_global_cleanup();
	tba_agentc_close(s->ac);
	memset(s, 0, sizeof(*s));
}

tba_err
http_list_add(struct curl_slist **l, const char *s)
{
	struct curl_slist *n;

	n = curl_slist_append(*l, s);
	if (n == NULL)
		return tba_nomem();
	*l = n;
	return TBA_OK;
}

int
http_media_is(const char *ctype, const char *name)
{
	size_t n, len;

	if (ctype == NULL)
		return 0;
	while (*ctype == ' ' || *ctype == '\t')
		ctype++;
	n = strcspn(ctype, "; \t");
	len = strlen(name);
	return n == len && strncasecmp(ctype, name, n) == 0;
}

void
http_resp_free(struct http_resp *r)
{
	if (r == NULL)
		return;
	free(r->location);
	free(r->date);
	free(r->ctype);
	free(r->redirect_url);
	free(r->retry_after);
	free(r->url);
	r->location = r->date = r->ctype = r->redirect_url = r->retry_after = r->url = NULL;
}

/* Copies a header's value (after "Name:", trimmed) into a new string. */
static char *
http_header_value(const char *p, size_t n, size_t namelen)
{
	size_t a = namelen + 1, b = n;
	char *v;

	while (a < b && (p[a] == ' ' || p[a] == '\t'))
		a++;
	while (
	    b > a && (p[b - 1] == '\r' || p[b - 1] == '\n' || p[b - 1] == ' ' || p[b - 1] == '\t'))
		b--;
	v = malloc(b - a + 1);
	if (v == NULL)
		return NULL;
	memcpy(v, p + a, b - a);
	v[b - a] = '\0';
	return v;
}

static int
http_header_is(const char *p, size_t n, const char *name)
{
	size_t len = strlen(name);

	return n > len && p[len] == ':' && strncasecmp(p, name, len) == 0;
}

static size_t
http_header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	struct http_resp *r = x->resp;
	size_t n = size * nmemb;
	char **slot = NULL;
	size_t namelen = 0;

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response block (100 Continue, a proxy's, the real one). */
		const char *sp = memchr(p, ' ', n);
		long st = 0;

		while (sp != NULL && sp < p + n - 1 && isdigit((unsigned char)sp[1]) && st < 1000)
			st = st * 10 + (*++sp - '0');
		r->status = st;
		free(r->location);
		free(r->date);
		free(r->ctype);
		free(r->retry_after);
		r->location = r->date = r->ctype = r->retry_after = NULL;
	} else if (http_header_is(p, n, "Location")) {
		slot = &r->location;
		namelen = 8;
	} else if (http_header_is(p, n, "Date")) {
		slot = &r->date;
		namelen = 4;
	} else if (http_header_is(p, n, "Content-Type")) {
		slot = &r->ctype;
		namelen = 12;
	} else if (http_header_is(p, n, "Retry-After")) {
		slot = &r->retry_after;
		namelen = 11;
	}
	if (slot != NULL) {
		free(*slot);
		*slot = http_header_value(p, n, namelen);
	}
	if (x->hold401 && r->status == 401)
		return n;
	if (x->sink != NULL && x->sink->header != NULL && x->sink->header(x->sink->ctx, p, n) != 0)
		return 0;
	return n;
}

int
http_keep_start(void *ctx, const struct http_resp *r, const char *p, size_t n)
{
	struct tba_buf *b = ctx;

	if (b->len + n > b->max)
		n = b->max - b->len;
	if (n > 0 && tba_buf_put(b, p, n) != TBA_OK)
		return -1;
	return 0;
}

static size_t
http_body_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	size_t n = size * nmemb;

	if (x->hold401 && x->resp->status == 401)
		return n;
	if (x->sink != NULL && x->sink->body != NULL &&
	    x->sink->body(x->sink->ctx, x->resp, p, n) != 0)
		return 0;
	return n;
}

/*
 * -v trace: curl's own format ("* ", "> ", "< ") on stderr, headers only,
 * with the Authorization value replaced: the signature and its parameters
 * are none of a terminal's or a log file's business.
 */
static int
http_debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	const char *prefix;
	size_t i = 0, j;

	switch (type) {
	case CURLINFO_TEXT:
		prefix = "* ";
		break;
	case CURLINFO_HEADER_OUT:
		prefix = "> ";
		break;
	case CURLINFO_HEADER_IN:
		prefix = "< ";
		break;
	default:
		return 0; /* bodies and TLS records are not traced */
	}
	while (i < size) {
		j = i;
		while (j < size && data[j] != '\n')
			j++;
		if (type == CURLINFO_HEADER_OUT && http_header_is(data + i, j - i, "Authorization"))
			fprintf(stderr, "%sAuthorization: [redacted by tba]\n", prefix);
		else if (j > i && !(j - i == 1 && data[i] == '\r'))
			fprintf(stderr, "%s%.*s\n", prefix, (int)(j - i - (data[j - 1] == '\r')),
			    data + i);
		else if (type != CURLINFO_TEXT)
			fprintf(stderr, "%s\n", prefix);
		i = j + 1;
	}
	return 0;
}

long
http_retry_after(const struct http_resp *r)
{
	const char *s;
	char *end;
	long v;
	time_t t;

	if (r->retry_after == NULL)
		return -1;
	s = r->retry_after;
	if (*s >= '0' && *s <= '9') {
		errno = 0;
		v = strtol(s, &end, 10);
		return errno != 0 || *end != '\0' || v < 0 ? -1 : v;
	}
	if ((t = curl_getdate(s, NULL)) == (time_t)-1)
		return -1;
	return t <= time(NULL) ? 0 : (long)(t - time(NULL));
}

static tba_err
http_setup(CURL *h, const struct http_req *req, const char *url, const struct http_conf *conf,
    struct curl_slist *hdrs, struct http_xfer *x)
{
	int bad = 0;

	curl_easy_reset(h);
	bad |= curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK;
	/* The path goes out as signed: libcurl would remove "." and ".." segments. */
	bad |= curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->resp->errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_header_cb) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_HEADERDATA, x) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_body_cb) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, x) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_USERAGENT,
		   conf->user_agent != NULL ? conf->user_agent : "tba/" TBA_VERSION) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	if (conf->connect_to != NULL)
		bad |= curl_easy_setopt(h, CURLOPT_CONNECT_TO, conf->connect_to) != CURLE_OK;
	if (conf->resolve != NULL)
		bad |= curl_easy_setopt(h, CURLOPT_RESOLVE, conf->resolve) != CURLE_OK;
	if (conf->cacert != NULL)
		bad |= curl_easy_setopt(h, CURLOPT_CAINFO, conf->cacert) != CURLE_OK;
	if (conf->connect_timeout > 0)
		bad |=
		    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, conf->connect_timeout) != CURLE_OK;
	if (conf->max_time > 0)
		bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT, conf->max_time) != CURLE_OK;
	if (conf->proxy != NULL)
		bad |= curl_easy_setopt(h, CURLOPT_PROXY, conf->proxy) != CURLE_OK;
	if (conf->noproxy != NULL)
		bad |= curl_easy_setopt(h, CURLOPT_NOPROXY, conf->noproxy) != CURLE_OK;
	if (conf->compressed)
		bad |= curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK;
	if (conf->verbose) {
		bad |= curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, http_debug_cb) != CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_VERBOSE, 1L) != CURLE_OK;
	}
	/* Method and body exactly as curl's -X / -d would set them. */
	if (req->body != NULL) {
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->bodylen) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body) != CURLE_OK;
		if (strcmp(req->method, "POST") != 0)
			bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method) != CURLE_OK;
	} else if (strcmp(req->method, "HEAD") == 0) {
		bad |= curl_easy_setopt(h, CURLOPT_NOBODY, 1L) != CURLE_OK;
	} else if (strcmp(req->method, "GET") == 0) {
		bad |= curl_easy_setopt(h, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	} else {
		bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method) != CURLE_OK;
	}
	if (bad)
		return tba_seterr(
		    TBA_ERR_NETWORK, "libcurl refused an option (is libcurl older than 7.85?)");
	return TBA_OK;
}

/*
 * One attempt. renew: a fresh access token (M2M). *bearer says whether the
 * request went out with an M2M access token; hold401 keeps a 401 answer
 * from the sink, for a retry.
 */
static tba_err
http_exchange_once(CURL *h, struct tba_agentc *ac, const struct http_req *req,
    const struct http_conf *conf, struct http_sink *sink, struct http_resp *resp, int renew,
    int hold401, int *bearer)
{
	struct curl_slist *hdrs = NULL;
	const struct curl_slist *u;
	struct http_xfer x;
	struct tba_buf line;
	char *auth = NULL, *redir = NULL;
	curl_off_t us = 0;
	tba_err r;

	tba_buf_init(&line, HTTP_HDR_MAX);
	http_resp_free(resp);
	memset(resp, 0, sizeof(*resp));
	x.sink = sink;
	x.resp = resp;
	x.hold401 = 0;

	if ((r = auth_header(ac, req->profile, req->method, req->url, req->form, renew, &auth)) !=
	    TBA_OK)
		goto out;
	*bearer = strncmp(auth, "Bearer ", 7) == 0;
	x.hold401 = hold401 && *bearer;
	if ((r = tba_buf_putf(&line, "Authorization: %s", auth)) != TBA_OK)
		goto out;
	/* The URL sent is the one signed; -w reports it. */
	if ((resp->url = strdup(req->url)) == NULL) {
		r = tba_nomem();
		goto out;
	}
	for (u = req->headers; u != NULL; u = u->next) {
		if ((r = http_list_add(&hdrs, u->data)) != TBA_OK)
			goto out;
	}
	if ((r = http_list_add(&hdrs, tba_buf_str(&line))) != TBA_OK)
		goto out;
	if ((r = http_setup(h, req, resp->url, conf, hdrs, &x)) != TBA_OK)
		goto out;

	resp->cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &us);
	resp->ms = (long)(us / 1000);
	if (resp->cc != CURLE_OK) {
		if (resp->errbuf[0] == '\0')
			snprintf(
			    resp->errbuf, sizeof(resp->errbuf), "%s", curl_easy_strerror(resp->cc));
		r = tba_seterr(TBA_ERR_NETWORK, "%s", resp->errbuf);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &redir) == CURLE_OK && redir != NULL) {
		if ((resp->redirect_url = strdup(redir)) == NULL) {
			r = tba_nomem();
			goto out;
		}
	}
	r = TBA_OK;
out:
	/* The handle keeps a pointer to hdrs: drop it before freeing. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	/* The line holds the Bearer token of an M2M profile: wiped like it. */
	if (line.data != NULL)
		tba_wipe(line.data, line.len);
	tba_buf_free(&line);
	auth_free(auth);
	return r;
}

tba_err
http_exchange(CURL *h, struct tba_agentc *ac, const struct http_req *req,
    const struct http_conf *conf, struct http_sink *sink, struct http_resp *resp)
{
	int bearer = 0;
	tba_err r;

	r = http_exchange_once(h, ac, req, conf, sink, resp, 0, 1, &bearer);
	/*
	 * A cached access token the server no longer takes (revoked, or the
	 * server restarted): one new token and one more try. The body is sent
	 * again from memory, so the retry is the same request.
	 */
	if (r == TBA_OK && bearer && resp->status == 401)
		r = http_exchange_once(h, ac, req, conf, sink, resp, 1, 0, &bearer);
	return r;
}

const char *
http_fail_kind(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return "DNS";
	case CURLE_COULDNT_CONNECT:
		return "connect";
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_USE_SSL_FAILED:
		return "TLS";
	default:
		return "network";
	}
}

const char *
http_fail_hint(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return "check the host name (for NetSuite: the account ID in it, with '_' written as '-'), "
		       "your DNS server and any proxy settings";
	case CURLE_COULDNT_RESOLVE_PROXY:
		return "check the proxy host in https_proxy/HTTPS_PROXY";
	case CURLE_COULDNT_CONNECT:
		return "the host resolved but refused or dropped the connection: check firewalls, "
		       "proxies and that outbound HTTPS (port 443) is allowed";
	case CURLE_OPERATION_TIMEDOUT:
		return "no answer in time: check the network path, proxies and firewalls";
	case CURLE_SSL_CACERT_BADFILE:
		return "the --cacert file cannot be read as PEM certificates";
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ISSUER_ERROR:
		return "the server's certificate was not trusted: check the system CA store "
		       "(ca-certificates), --cacert, the machine's date, and whether a proxy "
		       "intercepts TLS (then give its CA with --cacert)";
	default:
		if (strcmp(http_fail_kind(cc), "TLS") == 0)
			return "TLS could not be set up: check --cacert, the system CA store and any "
			       "TLS-intercepting proxy";
		return "check the network connection and proxy settings";
	}
}
