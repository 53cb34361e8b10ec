/* SPDX-License-Identifier: MIT */
/*
 * curl.h - the parts of `tba curl`, shared by its files:
 *   cmd_curl.c    the command: request loop (sign, send, retry, redirect)
 *   curl_opts.c   options: parsing, data (-d, --data-urlencode, -G), help
 *   curl_out.c    output: body and headers, -D, -w
 *   curl_page.c   --paginate: NetSuite's links rel=next, items of every page
 * Options mean what they mean in curl; the differences come from signing
 * (see cmd_curl.c).
 */
#ifndef TBA_CLI_CURL_H
#define TBA_CLI_CURL_H

#include <stdio.h>

#include "http.h"
#include "tba/buf.h"

#define CURL_MAX_REDIRS 10
#define CURL_RETRY_AFTER_MAX 600 /* seconds: a longer Retry-After ends the retries */

enum { BODY_NONE, BODY_FORM, BODY_JSON };
enum { PAGE_NONE, PAGE_ARRAY, PAGE_LINES };

struct curl_opts {
	const char *profile;
	const char *url;
	const char *method;         /* -X, or NULL */
	struct curl_slist *headers; /* -H as given (checked) */
	struct tba_buf body;        /* -d, --data-*, --json: joined */
	int body_kind;
	int get;                      /* -G: the data goes into the query */
	int head;                     /* -I */
	int include;                  /* -i */
	const char *output;           /* -o */
	const char *dump_header;      /* -D */
	const char *write_out;        /* -w, the format itself (@FILE read in) */
	struct tba_buf write_out_buf; /* holds -w @FILE */
	int fail;                     /* --fail */
	int fail_with_body;           /* --fail-with-body */
	int location;                 /* -L */
	long max_redirs;
	long retry;
	long retry_delay; /* seconds; -1 = curl's backoff from 1 s */
	int silent;       /* -s */
	int show_error;   /* -S */
	int paginate;     /* PAGE_* */
	struct http_conf conf;
};

/* curl_opts.c */
void curl_opts_init(struct curl_opts *o);
void curl_opts_free(struct curl_opts *o);
/* Parses argv into o. Returns -1 to go on, else the exit code (help, usage). */
int curl_opts_parse(int argc, char **argv, struct curl_opts *o);
/* 1 when transfer errors are printed: not -s, or -s with -S (curl's rule). */
int curl_opts_errors_shown(const struct curl_opts *o);

/*
 * What the last exchange left for -w and the exit status: filled in by
 * curl_out_info() after each exchange.
 */
struct curl_info {
	long http_code;
	double time_total, time_connect, time_starttransfer;
	long long size_download, size_upload;
	char url[TBA_URL_MAX + 1];
	char content_type[256];
	long num_redirects;
	int exitcode;
	char errormsg[CURL_ERROR_SIZE];
};

/* Output of one command run: stdout or -o, -D, and the decisions per response. */
struct curl_out {
	const struct curl_opts *o;
	FILE *f; /* -o or stdout, opened at the first byte */
	int failed_open;
	FILE *dump;                   /* -D, or NULL */
	const struct http_resp *resp; /* the exchange in progress */
	int retry_left;               /* --retry may still repeat this attempt */
	int discard;                  /* this response is not shown (followed or repeated) */
	int http_fail;                /* --fail and status >= 400: body not shown */
	int capture;                  /* --paginate: the body goes to page, not to f */
	struct tba_buf page;          /* --paginate: this page's body */
	struct curl_info info;
};

/* curl_out.c */
/* Opens -D; TBA_ERR_IO with a message when it cannot be written. */
tba_err curl_out_init(struct curl_out *w, const struct curl_opts *o);
/* Closes -o and -D; returns 0, or -1 when a write failed (message printed). */
int curl_out_close(struct curl_out *w);
/* The output stream (stdout or -o), opened on first use; NULL when it cannot be. */
FILE *curl_out_file(struct curl_out *w);
/* Sets s to write into w (headers to -i/-D, body to the output or the page). */
void curl_out_sink(struct curl_out *w, struct http_sink *s);
/*
 * 1 when the response in progress will be sent again, so it is not shown:
 * --retry on a transient status (unless Retry-After asks for more than
 * CURL_RETRY_AFTER_MAX s). (An M2M profile's 401 is retried inside
 * http_exchange, which keeps it from the sink.)
 */
int curl_out_repeats(const struct curl_out *w);
/* Records what -w reports about the exchange just made on h. */
void curl_out_info(struct curl_out *w, CURL *h, const struct http_resp *resp, const char *url);
/* Prints -w's format (if any) with the final exit code. */
void curl_out_write_out(struct curl_out *w, int exitcode);

/* cmd_curl.c: used by paging */
struct curl_run;
/*
 * Sends url with the run's method, headers and body, signed afresh for
 * every attempt: --retry and -L as asked. Returns -1 when a
 * final response arrived (the run's curl_out has it: resp, body, info),
 * else the exit code of the failure (message printed).
 */
int curl_send(struct curl_run *run, const char *url);

/* curl_page.c */
/* --paginate from url: every page signed and sent, items printed. Exit code. */
int curl_page_all(struct curl_run *run, struct curl_out *w, const char *url);

#endif
