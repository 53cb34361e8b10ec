/* SPDX-License-Identifier: MIT */
/*
 * curl_out.c - where tba curl's output goes: the body to stdout or -o, the
 * headers to -i and -D, the items of a page to --paginate, and -w's report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "curl.h"

tba_err
curl_out_init(struct curl_out *w, const struct curl_opts *o)
{
	memset(w, 0, sizeof(*w));
	w->o = o;
	tba_buf_init(&w->page, HTTP_BODY_MAX);
	if (o->dump_header == NULL)
		return TBA_OK;
	if (strcmp(o->dump_header, "-") == 0) {
		w->dump = stdout;
		return TBA_OK;
	}
	if ((w->dump = fopen(o->dump_header, "wb")) == NULL)
		return tba_seterr(
		    TBA_ERR_IO, "cannot write %s: %s", o->dump_header, strerror(errno));
	return TBA_OK;
}

/* Flushes and closes f (unless stdout); -1 when a write failed. */
static int
curl_out_close_one(FILE *f, const char *name)
{
	int bad;

	if (f == NULL)
		return 0;
	bad = fflush(f) != 0 || ferror(f);
	if (f != stdout && fclose(f) != 0)
		bad = 1;
	if (bad)
		fprintf(stderr, "tba curl: cannot write %s: %s\n", name, strerror(errno));
	return bad ? -1 : 0;
}

int
curl_out_close(struct curl_out *w)
{
	int bad = 0;

	bad |= curl_out_close_one(w->f, w->o->output != NULL ? w->o->output : "the output");
	if (w->dump != w->f)
		bad |= curl_out_close_one(w->dump, w->o->dump_header);
	w->f = w->dump = NULL;
	tba_buf_free(&w->page);
	return bad ? -1 : 0;
}

FILE *
curl_out_file(struct curl_out *w)
{
	if (w->f != NULL || w->failed_open)
		return w->f;
	if (w->o->output == NULL || strcmp(w->o->output, "-") == 0) {
		w->f = stdout;
	} else {
		w->f = fopen(w->o->output, "wb");
		if (w->f == NULL) {
			fprintf(stderr, "tba curl: cannot write %s: %s\n", w->o->output,
			    strerror(errno));
			w->failed_open = 1;
		}
	}
	return w->f;
}

static int
curl_out_is_redirect(long st)
{
	return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

static int
curl_out_transient(long st)
{
	return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

int
curl_out_repeats(const struct curl_out *w)
{
	const struct http_resp *r = w->resp;

	return w->retry_left && curl_out_transient(r->status) &&
	    http_retry_after(r) <= CURL_RETRY_AFTER_MAX;
}

/*
 * Decides from the status line (and Location, which precedes the body)
 * whether this response's bytes are shown: a redirect that -L follows and an
 * attempt that will be repeated are not, and --fail shows nothing >= 400.
 */
static void
curl_out_decide(struct curl_out *w)
{
	const struct http_resp *r = w->resp;

	w->http_fail = w->o->fail && r->status >= 400;
	w->discard = (w->o->location && curl_out_is_redirect(r->status) && r->location != NULL) ||
	    curl_out_repeats(w);
}

static int
curl_out_header(void *ctx, const char *p, size_t n)
{
	struct curl_out *w = ctx;
	FILE *f;

	/* -D gets every block, as curl writes it: redirects and retries included. */
	if (w->dump != NULL && fwrite(p, 1, n, w->dump) != n)
		return -1;
	if (!w->o->include)
		return 0;
	curl_out_decide(w);
	/* 1xx interim blocks are not shown; nothing is shown with --fail >= 400. */
	if (w->http_fail || w->discard || w->resp->status < 200)
		return 0;
	f = curl_out_file(w);
	if (f == NULL)
		return -1;
	return fwrite(p, 1, n, f) == n ? 0 : -1;
}

static int
curl_out_body(void *ctx, const struct http_resp *r, const char *p, size_t n)
{
	struct curl_out *w = ctx;
	FILE *f;

	(void)r;
	curl_out_decide(w);
	if (w->discard)
		return 0;
	if (w->capture)
		return tba_buf_put(&w->page, p, n) == TBA_OK ? 0 : -1;
	if (w->http_fail)
		return 0;
	f = curl_out_file(w);
	if (f == NULL)
		return -1;
	return fwrite(p, 1, n, f) == n ? 0 : -1;
}

void
curl_out_sink(struct curl_out *w, struct http_sink *s)
{
	s->ctx = w;
	s->header = curl_out_header;
	s->body = curl_out_body;
}

void
curl_out_info(struct curl_out *w, CURL *h, const struct http_resp *resp, const char *url)
{
	struct curl_info *i = &w->info;
	curl_off_t v = 0;
	char *ct = NULL;

	i->http_code = resp->status;
	i->time_total = i->time_connect = i->time_starttransfer = 0;
	i->size_download = i->size_upload = 0;
	if (curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &v) == CURLE_OK)
		i->time_total = (double)v / 1e6;
	if (curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &v) == CURLE_OK)
		i->time_connect = (double)v / 1e6;
	if (curl_easy_getinfo(h, CURLINFO_STARTTRANSFER_TIME_T, &v) == CURLE_OK)
		i->time_starttransfer = (double)v / 1e6;
	if (curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &v) == CURLE_OK)
		i->size_download = (long long)v;
	if (curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &v) == CURLE_OK)
		i->size_upload = (long long)v;
	i->content_type[0] = '\0';
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
		snprintf(i->content_type, sizeof(i->content_type), "%s", ct);
	snprintf(i->url, sizeof(i->url), "%s", url != NULL ? url : "");
	snprintf(i->errormsg, sizeof(i->errormsg), "%s", resp->cc != CURLE_OK ? resp->errbuf : "");
}

/* Prints one -w variable's value; 0 when name is not one. */
static int
curl_out_var(FILE *f, const struct curl_info *i, const char *name, size_t n)
{
#define IS(s) (n == sizeof(s) - 1 && strncmp(name, s, n) == 0)
	if (IS("http_code") || IS("response_code"))
		fprintf(f, "%03ld", i->http_code);
	else if (IS("time_total"))
		fprintf(f, "%.6f", i->time_total);
	else if (IS("time_connect"))
		fprintf(f, "%.6f", i->time_connect);
	else if (IS("time_starttransfer"))
		fprintf(f, "%.6f", i->time_starttransfer);
	else if (IS("size_download"))
		fprintf(f, "%lld", i->size_download);
	else if (IS("size_upload"))
		fprintf(f, "%lld", i->size_upload);
	else if (IS("url_effective"))
		fputs(i->url, f);
	else if (IS("content_type"))
		fputs(i->content_type, f);
	else if (IS("num_redirects"))
		fprintf(f, "%ld", i->num_redirects);
	else if (IS("exitcode"))
		fprintf(f, "%d", i->exitcode);
	else if (IS("errormsg"))
		fputs(i->errormsg, f);
	else
		return 0;
	return 1;
#undef IS
}

/* Handles "%..." at fmt; returns the number of format bytes used. */
static size_t
curl_out_percent(FILE **f, const struct curl_info *i, const char *fmt)
{
	const char *name, *end;
	size_t n;

	if (fmt[1] == '%') {
		fputc('%', *f);
		return 2;
	}
	end = fmt[1] == '{' ? strchr(fmt + 2, '}') : NULL;
	if (end == NULL) {
		fputc('%', *f);
		return 1;
	}
	name = fmt + 2;
	n = (size_t)(end - name);
	if (n == 6 && strncmp(name, "stdout", 6) == 0)
		*f = stdout;
	else if (n == 6 && strncmp(name, "stderr", 6) == 0)
		*f = stderr;
	else if (!curl_out_var(*f, i, name, n))
		fprintf(stderr, "tba curl: unknown --write-out variable: '%.*s'\n", (int)n, name);
	return n + 3;
}

void
curl_out_write_out(struct curl_out *w, int exitcode)
{
	const char *fmt = w->o->write_out;
	FILE *f = stdout;
	size_t i = 0;

	if (fmt == NULL)
		return;
	w->info.exitcode = exitcode;
	if (w->f != NULL && w->f != stdout)
		fflush(w->f);
	while (fmt[i] != '\0') {
		if (fmt[i] == '%') {
			i += curl_out_percent(&f, &w->info, fmt + i);
		} else if (fmt[i] == '\\' && fmt[i + 1] != '\0' &&
		    strchr("nrt\\", fmt[i + 1]) != NULL) {
			fputc(fmt[i + 1] == 'n'     ? '\n'
				: fmt[i + 1] == 'r' ? '\r'
				: fmt[i + 1] == 't' ? '\t'
						    : '\\',
			    f);
			i += 2;
		} else {
			fputc(fmt[i++], f);
		}
	}
	fflush(stdout);
}
