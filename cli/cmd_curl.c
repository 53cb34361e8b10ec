/* SPDX-License-Identifier: MIT */
/*
 * cmd_curl.c - tba curl: send signed HTTP requests, curl-style.
 *
 * Options mean what they mean in curl (curl_opts.c). What differs, and why:
 * - The URL is parsed and normalised once; that exact string is what the
 *   agent signs and what libcurl sends, path byte for byte (no dot-segment
 *   removal), so the server checks what was signed.
 * - libcurl never follows redirects or retries on its own: every request on
 *   the wire needs its own fresh signature, so -L, --retry and --paginate
 *   loop here and ask the agent again each time (and the agent refuses hosts
 *   outside the profile).
 * - TLS verification cannot be turned off (-k is refused); --cacert names a CA.
 * - -H 'Authorization: ...' and -H 'Host: ...' are refused (curl_opts.c).
 * Exit codes are curl's: the CURLcode of a failed transfer, 22 for HTTP
 * >= 400 with --fail; tba's own for what curl does not have (1 refused by
 * the agent, 2 agent unreachable, 64 usage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "curl.h"
#include "tba/buf.h"
#include "tba/url.h"

/* One run of the command: what every request of it shares. */
struct curl_run {
	const struct curl_opts *o;
	struct tba_agentc *ac;
	CURL *h;
	struct curl_out *w;
	struct http_resp resp; /* the last exchange */
	const char *method;    /* redirects may turn it into GET */
	int has_body;
	long hops;              /* redirects followed so far (whole run) */
	struct tba_buf url;     /* the normalised URL of the request in progress */
	struct tba_buf scratch; /* the Content-Type line, the re-encoded form */
	struct tba_params form;
	struct curl_slist *hdrs;
};

enum { STEP_DONE, STEP_RETRY, STEP_REDIRECT };

static int
curl_is_redirect(long st)
{
	return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

/* 1 when the -H line h sets (or with "Name;" empties) header name. */
static int
curl_header_named(const char *h, const char *name)
{
	size_t n = strlen(name);

	return strncasecmp(h, name, n) == 0 && (h[n] == ':' || h[n] == ';');
}

/*
 * Parses and normalises url into run->url. -1 on success, else exit 1 with
 * a message: the user's URL was checked before (curl_go), so this one came
 * from a server (a redirect, a next page).
 */
static int
curl_set_url(struct curl_run *run, const char *url)
{
	struct tba_url u;
	tba_err r;
	int ret = -1;

	memset(&u, 0, sizeof(u));
	tba_buf_reset(&run->url);
	r = tba_url_parse(url, &u);
	if (r == TBA_OK)
		r = tba_url_normalized(&u, &run->url);
	if (r != TBA_OK) {
		fprintf(stderr, "tba curl: the server sent a URL that cannot be used (%s): %s\n",
		    url, tba_errmsg(r));
		ret = TBA_EXIT_FAIL;
	}
	tba_url_free(&u);
	return ret;
}

/*
 * The request headers of one attempt: the user's, then curl's defaults for
 * the body; and the form to sign when the Content-Type says form.
 */
static tba_err
curl_build(struct curl_run *run, struct http_req *req)
{
	const struct curl_opts *o = run->o;
	const char *ctype = NULL;
	const struct curl_slist *l;
	int accept = 0;
	tba_err r = TBA_OK;

	curl_slist_free_all(run->hdrs);
	run->hdrs = NULL;
	tba_params_free(&run->form);
	tba_params_init(&run->form);
	tba_buf_reset(&run->scratch);
	for (l = o->headers; l != NULL && r == TBA_OK; l = l->next) {
		r = http_list_add(&run->hdrs, l->data);
		if (curl_header_named(l->data, "Content-Type"))
			ctype = l->data[12] == ':' ? l->data + 13 : "";
		accept |= curl_header_named(l->data, "Accept");
	}
	if (r == TBA_OK && run->has_body && ctype == NULL) {
		ctype = o->body_kind == BODY_JSON ? "application/json"
						  : "application/x-www-form-urlencoded";
		r = tba_buf_putf(&run->scratch, "Content-Type: %s", ctype);
		if (r == TBA_OK)
			r = http_list_add(&run->hdrs, tba_buf_str(&run->scratch));
		tba_buf_reset(&run->scratch);
	}
	if (r == TBA_OK && run->has_body && o->body_kind == BODY_JSON && !accept)
		r = http_list_add(&run->hdrs, "Accept: application/json");
	if (r != TBA_OK)
		return tba_nomem();
	memset(req, 0, sizeof(*req));
	req->profile = o->profile;
	req->method = run->method;
	req->url = tba_buf_str(&run->url);
	req->headers = run->hdrs;
	req->body = run->has_body ? (o->body.data != NULL ? o->body.data : "") : NULL;
	req->bodylen = run->has_body ? o->body.len : 0;
	/* A form body is signed; what the Content-Type says decides that. */
	if (!run->has_body || !http_media_is(ctype, "application/x-www-form-urlencoded"))
		return TBA_OK;
	r = tba_params_parse(&run->form, o->body.data, o->body.len);
	if (r != TBA_OK)
		return tba_seterr(TBA_ERR_USAGE,
		    "the body is not valid form data (%s); with "
		    "another Content-Type give it with -H",
		    tba_errmsg(r));
	/*
	 * Like the URL, a signed form is sent as re-encoded from what was
	 * signed, so the server decodes exactly those fields.
	 */
	req->form = run->form.n > 0 ? &run->form : NULL;
	if (run->form.n > 0) {
		r = tba_params_encode(&run->form, &run->scratch);
		req->body = tba_buf_str(&run->scratch);
		req->bodylen = run->scratch.len;
	}
	return r;
}

/* 1 when a transfer failure is one --retry repeats (curl's rule). */
static int
curl_cc_transient(CURLcode cc)
{
	return cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_COULDNT_RESOLVE_HOST ||
	    cc == CURLE_COULDNT_RESOLVE_PROXY;
}

/* Prints a failed exchange and returns its exit code. */
static int
curl_failed(struct curl_run *run, tba_err r)
{
	const struct http_resp *resp = &run->resp;

	if (r == TBA_ERR_NETWORK) {
		if (curl_opts_errors_shown(run->o))
			fprintf(stderr, "tba curl: (%d) %s failure: %s. Hint: %s\n", (int)resp->cc,
			    http_fail_kind(resp->cc), resp->errbuf, http_fail_hint(resp->cc));
		return (int)resp->cc;
	}
	snprintf(run->w->info.errormsg, sizeof(run->w->info.errormsg), "%s", tba_errmsg(r));
	if (r == TBA_ERR_USAGE)
		return cli_usage("curl", "%s", tba_errmsg(r));
	if (run->hops > 0)
		fprintf(stderr, "tba curl: the agent would not sign the redirect to %s: %s\n",
		    tba_buf_str(&run->url), tba_errmsg(r));
	else
		fprintf(
		    stderr, "tba curl: the agent would not sign this request: %s\n", tba_errmsg(r));
	return r == TBA_ERR_AGENT ? TBA_EXIT_AGENT : TBA_EXIT_FAIL;
}

/*
 * One attempt: build, sign, send. Sets *step to what comes next. Returns -1
 * when a response arrived, else the exit code of the failure.
 */
static int
curl_attempt(struct curl_run *run, long tries, int *step)
{
	struct http_req req;
	struct http_sink sink;
	tba_err r;

	*step = STEP_DONE;
	r = curl_build(run, &req);
	if (r != TBA_OK)
		return curl_failed(run, r);
	/* The sink asks while the response arrives whether it is shown. */
	run->w->resp = &run->resp;
	run->w->retry_left = tries < run->o->retry;
	curl_out_sink(run->w, &sink);
	r = http_exchange(run->h, run->ac, &req, &run->o->conf, &sink, &run->resp);
	curl_out_info(run->w, run->h, &run->resp, run->resp.url);
	run->w->info.num_redirects = run->hops;
	if (r == TBA_ERR_NETWORK && tries < run->o->retry && curl_cc_transient(run->resp.cc))
		*step = STEP_RETRY;
	else if (r == TBA_OK && curl_out_repeats(run->w))
		*step = STEP_RETRY;
	else if (r == TBA_OK && run->o->location && curl_is_redirect(run->resp.status) &&
	    run->resp.redirect_url != NULL)
		*step = STEP_REDIRECT;
	if (r != TBA_OK && *step == STEP_DONE)
		return curl_failed(run, r);
	return -1;
}

/* Sleeps before retry number tries+1: Retry-After if given, else --retry-delay or curl's backoff.
 */
static void
curl_wait(struct curl_run *run, long tries, long *delay)
{
	long wait = *delay, ra = run->resp.cc == CURLE_OK ? http_retry_after(&run->resp) : -1;

	if (ra >= 0)
		wait = ra;
	if (!run->o->silent)
		fprintf(stderr,
		    "tba curl: transient problem (%s); retrying in %ld s, %ld retries left\n",
		    run->resp.cc == CURLE_OK ? "HTTP error" : http_fail_kind(run->resp.cc), wait,
		    run->o->retry - tries);
	sleep((unsigned)wait);
	if (run->o->retry_delay < 0 && *delay < 600)
		*delay *= 2;
}

/* -L: the next hop's method and URL, curl's rules. -1 to go on, else the exit code. */
static int
curl_follow(struct curl_run *run)
{
	int custom = run->o->method != NULL;
	long st = run->resp.status;

	if (run->hops >= run->o->max_redirs) {
		fprintf(stderr, "tba curl: (47) Maximum (%ld) redirects followed\n",
		    run->o->max_redirs);
		snprintf(run->w->info.errormsg, sizeof(run->w->info.errormsg),
		    "Maximum (%ld) redirects followed", run->o->max_redirs);
		return CURLE_TOO_MANY_REDIRECTS;
	}
	run->hops++;
	/* 303 turns into GET, so do 301/302 after a POST (unless -X). */
	if ((st == 303 && strcmp(run->method, "HEAD") != 0) ||
	    ((st == 301 || st == 302) && !custom && strcmp(run->method, "POST") == 0)) {
		if (!custom || st == 303)
			run->method = "GET";
		run->has_body = 0;
	}
	return curl_set_url(run, run->resp.redirect_url);
}

int
curl_send(struct curl_run *run, const char *url)
{
	long tries = 0, delay = run->o->retry_delay >= 0 ? run->o->retry_delay : 1;
	int ret, step = STEP_REDIRECT;

	ret = curl_set_url(run, url);
	while (ret < 0 && step != STEP_DONE) {
		ret = curl_attempt(run, tries, &step);
		if (ret >= 0 || step == STEP_DONE)
			break;
		if (step == STEP_RETRY) {
			curl_wait(run, tries, &delay);
			tries++;
		} else {
			ret = curl_follow(run);
		}
	}
	return ret;
}

/* After the one request (no --paginate): --fail and the 401 hint. */
static int
curl_finish(struct curl_run *run)
{
	const struct curl_opts *o = run->o;
	long st = run->resp.status;

	if (curl_out_file(run->w) == NULL && !run->w->http_fail)
		return CURLE_WRITE_ERROR;
	if ((o->fail || o->fail_with_body) && st >= 400) {
		if (curl_opts_errors_shown(o))
			fprintf(
			    stderr, "tba curl: (22) The requested URL returned error: %ld\n", st);
		snprintf(run->w->info.errormsg, sizeof(run->w->info.errormsg),
		    "The requested URL returned error: %ld", st);
		return TBA_EXIT_HTTP;
	}
	if (st == 401 && !o->silent)
		fprintf(stderr,
		    "tba curl: HTTP 401: the server refused the login; 'tba test %s' "
		    "diagnoses it\n",
		    o->profile);
	return TBA_EXIT_OK;
}

/*
 * The URL of the first request: with -G the data goes into its query (and
 * so into the signature), after any query the URL has.
 */
static int
curl_first_url(const struct curl_opts *o, struct tba_buf *u)
{
	struct tba_url parsed;
	tba_err r;

	r = tba_buf_puts(u, o->url);
	if (r == TBA_OK && o->get && o->body.len > 0) {
		r = tba_buf_putc(u, strchr(o->url, '?') != NULL ? '&' : '?');
		if (r == TBA_OK)
			r = tba_buf_put(u, o->body.data, o->body.len);
	}
	if (r != TBA_OK)
		return cli_usage(
		    "curl", "the URL with the -G data is longer than %d bytes", TBA_URL_MAX);
	memset(&parsed, 0, sizeof(parsed));
	r = tba_url_parse(tba_buf_str(u), &parsed);
	tba_url_free(&parsed);
	if (r != TBA_OK)
		return cli_usage("curl", "bad URL: %s", tba_errmsg(r));
	return -1;
}

static int
curl_go(struct curl_run *run)
{
	const struct curl_opts *o = run->o;
	struct tba_buf first;
	int ret;

	tba_buf_init(&first, TBA_URL_MAX);
	run->has_body = o->body_kind != BODY_NONE && !o->get;
	run->method = o->method != NULL ? o->method
	    : o->head                   ? "HEAD"
	    : run->has_body             ? "POST"
					: "GET";
	ret = curl_first_url(o, &first);
	if (ret < 0 && o->paginate != PAGE_NONE) {
		ret = curl_page_all(run, run->w, tba_buf_str(&first));
	} else if (ret < 0) {
		ret = curl_send(run, tba_buf_str(&first));
		if (ret < 0)
			ret = curl_finish(run);
	}
	tba_buf_free(&first);
	return ret;
}

int
cmd_curl(int argc, char **argv)
{
	struct curl_opts o;
	struct curl_out w;
	struct curl_run run;
	struct http_session hs = {0};
	int ret, opened = 0;
	tba_err r;

	curl_opts_init(&o);
	memset(&run, 0, sizeof(run));
	tba_buf_init(&run.url, TBA_URL_MAX);
	tba_buf_init(&run.scratch, 3 * HTTP_BODY_MAX);
	tba_params_init(&run.form);
	ret = curl_opts_parse(argc, argv, &o);
	if (ret >= 0)
		goto out;
	r = curl_out_init(&w, &o);
	if (r != TBA_OK) {
		ret = cli_fail(r, "curl");
		goto out;
	}
	opened = 1;
	r = http_session_open(&hs);
	if (r != TBA_OK) {
		ret = cli_fail(r, "curl");
		goto out;
	}
	run.o = &o;
	run.ac = hs.ac;
	run.h = hs.h;
	run.w = &w;
	ret = curl_go(&run);
	curl_out_write_out(&w, ret);
out:
	if (opened && curl_out_close(&w) != 0 && ret == TBA_EXIT_OK)
		ret = CURLE_WRITE_ERROR;
	http_session_close(&hs);
	http_resp_free(&run.resp);
	curl_slist_free_all(run.hdrs);
	tba_params_free(&run.form);
	tba_buf_free(&run.url);
	tba_buf_free(&run.scratch);
	curl_opts_free(&o);
	return ret;
}
