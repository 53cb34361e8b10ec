/* SPDX-License-Identifier: MIT */
/* test_err.c - the error space: a detail belongs to the code it was set with. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "tba/err.h"

static void
test_codes(void)
{
	int c;

	is_str(tba_strerror(TBA_OK), "success", "TBA_OK text");
	is_str(tba_strerror(TBA_ERR_NOMEM), "out of memory", "NOMEM text");
	is_str(tba_strerror((tba_err)-1), "unknown error", "negative code");
	is_str(tba_strerror(TBA_ERR__MAX), "unknown error", "code past the end");
	for (c = TBA_OK; c < TBA_ERR__MAX; c++)
		ok(strcmp(tba_strerror((tba_err)c), "unknown error") != 0, "code %d has a text", c);
}

static void
test_tied(void)
{
	tba_clearerr();
	is_str(tba_errmsg(TBA_ERR_INVALID), "invalid input", "no detail: the code's text");
	is_int(tba_seterr(TBA_ERR_INVALID, "bad account %s", "x y"), TBA_ERR_INVALID,
	    "seterr returns its code");
	is_str(tba_errmsg(TBA_ERR_INVALID), "bad account x y", "detail for its code");
	is_str(tba_errmsg(TBA_ERR_TOKEN), "token error", "another code never shows that detail");
	is_str(tba_errmsg(TBA_OK), "success", "TBA_OK never shows a detail");
	is_int(tba_nomem(), TBA_ERR_NOMEM, "tba_nomem returns NOMEM");
	is_str(tba_errmsg(TBA_ERR_NOMEM), "out of memory", "tba_nomem's text");
	is_str(tba_errmsg(TBA_ERR_INVALID), "invalid input", "the older detail is gone");
	tba_seterr(TBA_ERR_POLICY, "refused");
	tba_clearerr();
	is_str(tba_errmsg(TBA_ERR_POLICY), "refused by policy", "cleared: the code's text");
	tba_seterr(TBA_ERR_IO, "%s", "");
	is_str(tba_errmsg(TBA_ERR_IO), "I/O error", "an empty detail falls back to the text");
}

static void
test_self(void)
{
	char want[600];
	int i;

	/* The thread's own detail as an argument: formatted aside, never garbled. */
	tba_seterr(TBA_ERR_INVALID, "URL has no host");
	tba_seterr(TBA_ERR_INVALID, "bad url: %s", tba_errmsg(TBA_ERR_INVALID));
	is_str(tba_errmsg(TBA_ERR_INVALID), "bad url: URL has no host", "own detail as argument");
	tba_seterr(
	    TBA_ERR_INVALID, "%s and %s", tba_errmsg(TBA_ERR_INVALID), tba_errmsg(TBA_ERR_INVALID));
	is_str(tba_errmsg(TBA_ERR_INVALID), "bad url: URL has no host and bad url: URL has no host",
	    "own detail twice");
	/* Long details are cut, still terminated. */
	memset(want, 'a', sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	tba_seterr(TBA_ERR_INVALID, "%s", want);
	is_int(strlen(tba_errmsg(TBA_ERR_INVALID)), 511, "a long detail is cut at 511 bytes");
	for (i = 0; i < 3; i++)
		tba_seterr(TBA_ERR_INVALID, "x%s", tba_errmsg(TBA_ERR_INVALID));
	is_int(strlen(tba_errmsg(TBA_ERR_INVALID)), 511, "growing into itself stays bounded");
	ok(strncmp(tba_errmsg(TBA_ERR_INVALID), "xxxaaa", 6) == 0, "prefixes in order: %.8s",
	    tba_errmsg(TBA_ERR_INVALID));
}

static void *
other_thread(void *arg)
{
	char *seen = arg;

	/* A fresh thread has no detail, whatever the main thread set. */
	snprintf(seen, 64, "%s", tba_errmsg(TBA_ERR_POLICY));
	tba_seterr(TBA_ERR_POLICY, "from the other thread");
	return NULL;
}

static void
test_threads(void)
{
	pthread_t t;
	char seen[64] = "";

	tba_seterr(TBA_ERR_POLICY, "from main");
	ok(pthread_create(&t, NULL, other_thread, seen) == 0 && pthread_join(t, NULL) == 0,
	    "thread ran");
	is_str(seen, "refused by policy", "another thread does not see main's detail");
	is_str(tba_errmsg(TBA_ERR_POLICY), "from main", "main keeps its own detail");
}

int
main(void)
{
	test_codes();
	test_tied();
	test_self();
	test_threads();
	return tap_done();
}
