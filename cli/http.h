/* SPDX-License-Identifier: MIT */
/*
 * http.h - signed HTTP exchanges through libcurl, shared by `tba curl` and
 * `tba test`.
 *
 * One exchange = ask the agent for a fresh Authorization header for exactly
 * (method, normalised URL, form parameters), then send that same URL with
 * libcurl. libcurl never follows redirects or retries by itself: callers
 * loop over http_exchange() so every request on the wire carries its own
 * signature. TLS verification is always on.
 */
#ifndef TBA_CLI_HTTP_H
#define TBA_CLI_HTTP_H

#include <stddef.h>

#include <curl/curl.h>

#include "tba/agentc.h"
#include "tba/err.h"
#include "tba/url.h"

#define HTTP_BODY_MAX (64UL << 20) /* -d @FILE, --json @FILE: 64 MiB */

/* Transport options given on the command line (curl's meanings). */
struct http_conf {
	struct curl_slist *connect_to; /* --connect-to HOST1:PORT1:HOST2:PORT2 */
	struct curl_slist *resolve;    /* --resolve HOST:PORT:ADDR */
	const char *cacert;            /* --cacert FILE, or NULL: system store */
	int verbose;                   /* -v: libcurl's trace on stderr, Authorization redacted */
	long connect_timeout;          /* seconds; 0 = libcurl's default */
	long max_time;                 /* seconds; 0 = none */
	const char *user_agent;        /* -A, or NULL: "tba/VERSION" */
	const char *proxy;             /* -x, or NULL: libcurl's https_proxy etc. */
	const char *noproxy;           /* --noproxy, or NULL */
	int compressed;                /* --compressed: ask for and decode gzip, deflate, ... */
};

/* What to send. All borrowed. */
struct http_req {
	const char *profile;
	const char *method;               /* "GET", "POST", ... */
	const char *url;                  /* normalised (tba_url_normalized), signed as is */
	const struct tba_params *form;    /* decoded form body to sign, or NULL */
	const struct curl_slist *headers; /* extra request headers, or NULL */
	const char *body;                 /* request body, or NULL for none */
	size_t bodylen;
};

struct http_resp;

/*
 * Where the response goes. header() gets each raw header line (status line
 * and the blank line included) of every response block; body() gets body
 * bytes with the response so far (status, location known). A callback
 * returning non-zero aborts the transfer (CURLE_WRITE_ERROR). Either may be
 * NULL: the bytes are dropped.
 */
struct http_sink {
	void *ctx;
	int (*header)(void *ctx, const char *p, size_t n);
	int (*body)(void *ctx, const struct http_resp *r, const char *p, size_t n);
};

/*
 * A body() callback that keeps the start of the body in the tba_buf ctx, up
 * to its max, and drops the rest without an error: for reading an error code.
 */
int http_keep_start(void *ctx, const struct http_resp *r, const char *p, size_t n);

struct http_resp {
	long status;        /* last status line seen; 0 before any */
	char *location;     /* Location header of the final block, or NULL */
	char *date;         /* Date header of the final block, or NULL */
	char *ctype;        /* Content-Type of the final block, or NULL */
	char *redirect_url; /* absolute Location (CURLINFO_REDIRECT_URL), or NULL */
	char *retry_after;  /* Retry-After of the final block, or NULL */
	char *url;          /* the URL sent: the one that was signed */
	CURLcode cc;        /* CURLE_OK unless the transfer failed */
	char errbuf[CURL_ERROR_SIZE];
	long ms; /* total time of the transfer */
};

/* What a signed exchange needs: the agent connection and one libcurl handle. */
struct http_session {
	struct tba_agentc *ac;
	CURL *h;
	int inited; /* curl_global_init done */
};

/*
 * Connects to the agent, then starts libcurl (agent first: without an agent
 * there is nothing to send): TBA_ERR_AGENT or TBA_ERR_NETWORK with a detail.
 * Close s with http_session_close either way.
 */
tba_err http_session_open(struct http_session *s);
void http_session_close(struct http_session *s);

/* Appends a copy of s to *l (curl_slist_append). TBA_ERR_NOMEM on failure. */
tba_err http_list_add(struct curl_slist **l, const char *s);

/*
 * Seconds the response's Retry-After asks to wait (delta-seconds or an
 * HTTP date, from now), or -1 when there is none or it cannot be read.
 */
long http_retry_after(const struct http_resp *r);

/*
 * Gets req's Authorization from the agent (auth.h: signed for TBA
 * profiles, a Bearer access token for M2M profiles, whose 401 is retried
 * once with a renewed token: the one place a 401 is judged) and sends it on
 * h (reset first, so it keeps its connection cache between calls: one TLS
 * connection for a whole run). The path is sent byte for byte as signed (no
 * dot-segment removal). resp is cleared first and filled in.
 * Returns TBA_OK when an HTTP response arrived (any status),
 * TBA_ERR_NETWORK when the transfer failed (resp->cc / errbuf say why), or
 * the agent's error (policy refusal, locked, unreachable) with its detail.
 */
tba_err http_exchange(CURL *h, struct tba_agentc *ac, const struct http_req *req,
    const struct http_conf *conf, struct http_sink *sink, struct http_resp *resp);

void http_resp_free(struct http_resp *r);

/*
 * Kind of transfer failure, for diagnoses: "DNS", "connect", "TLS",
 * "timeout" or "network".
 */
const char *http_fail_kind(CURLcode cc);
/* One line of advice for a failed transfer to host (never NULL). */
const char *http_fail_hint(CURLcode cc);

/* 1 when the media type of ctype (parameters ignored) is name, case-insensitively. */
int http_media_is(const char *ctype, const char *name);

#endif
