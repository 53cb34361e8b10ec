/* SPDX-License-Identifier: MIT */
/*
 * watch.c - the agent's once-a-second chores, on a thread of their own so
 * that neither the event loop nor a request waits for them:
 * - the profiles are read from the token again, so an import, `import
 *   --replace`, delete or re-import with other hosts made by another process
 *   is served within WATCH_TICK_MS plus one read, without SIGHUP (a request
 *   that finds its key gone re-reads at once: dispatch.c);
 * - with --lock-after, the agent locks itself after that long without a
 *   request (ssh-agent's -t, for the whole agent).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "tba/log.h"

#define WATCH_TICK_MS 1000
#define WATCH_STOP_WAIT_SEC 3

struct watch {
	struct agent_ctx *ctx;
	long lock_after_sec;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	int stop;
	int done; /* the thread left its loop (it returns right after) */
	pthread_t th;
};

static void
watch_autolock(struct watch *w)
{
	struct audit_rec a;
	long idle = dispatch_idle_sec();

	if (w->lock_after_sec <= 0 || idle < w->lock_after_sec || pool_locked(w->ctx->pool))
		return;
	if (pool_lock(w->ctx->pool) != TBA_OK)
		return;
	if (w->ctx->m2m != NULL)
		m2m_forget(w->ctx->m2m); /* as Lock does: no access token outlives the lock */
	tba_info("no request for %ld s: locked (--lock-after %ld); 'tba unlock' unlocks", idle,
	    w->lock_after_sec);
	memset(&a, 0, sizeof(a));
	a.uid = geteuid();
	a.pid = getpid();
	a.op = "Lock";
	a.result = "ok";
	a.detail = "--lock-after";
	(void)audit_log(&a);
}

static void *
watch_main(void *arg)
{
	struct watch *w = arg;
	struct timespec until;
	tba_err r;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += WATCH_TICK_MS / 1000;
		while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &until) != ETIMEDOUT)
			continue;
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->mu);
		watch_autolock(w);
		/* A locked or absent token has nothing to show; the table stays as it was. */
		if (!pool_locked(w->ctx->pool) &&
		    (r = profiles_check(w->ctx->profiles)) != TBA_OK && r != TBA_ERR_LOCKED &&
		    r != TBA_ERR_TOKEN_GONE)
			tba_debug("profile check failed: %s", tba_errmsg(r));
		pthread_mutex_lock(&w->mu);
	}
	w->done = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

tba_err
watch_start(struct agent_ctx *ctx, long lock_after_sec, struct watch **out)
{
	struct watch *w;
	pthread_condattr_t ca;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return tba_nomem();
	w->ctx = ctx;
	w->lock_after_sec = lock_after_sec;
	dispatch_touch();
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->th, NULL, watch_main, w) != 0) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		return tba_seterr(TBA_ERR_NOMEM, "cannot start the watch thread");
	}
	*out = w;
	return TBA_OK;
}

void
watch_stop(struct watch *w)
{
	struct timespec pause = {0, 10 * 1000 * 1000};
	int done, i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	/*
	 * Polled with relative sleeps rather than an absolute timed wait: an
	 * agent whose wall clock is set back (tests run one under libfaketime)
	 * must still wait.
	 */
	for (i = 0, done = 0; !done && i < WATCH_STOP_WAIT_SEC * 100; i++) {
		pthread_mutex_lock(&w->mu);
		done = w->done;
		pthread_mutex_unlock(&w->mu);
		if (!done)
			nanosleep(&pause, NULL);
	}
	/* Stuck in a hung token call: left behind, the process is about to exit. */
	if (!done) {
		tba_warn("the profile watch is stuck in a token call; exiting without it");
		return;
	}
	pthread_join(w->th, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
