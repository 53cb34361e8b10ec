/* SPDX-License-Identifier: MIT */
/*
 * recover.c - a token that went away comes back by itself; idle sessions
 * are kept alive.
 *
 * A token can go away under a running agent: a YubiHSM pulled out, a
 * p11-kit RPC server restarted, a session closed by the device. The request
 * that meets it gets TokenError and the pool is marked broken; from then on
 * requests get TokenError at once, without touching the token, while one
 * maintenance thread re-initialises the module, logs in again with the PIN
 * it holds and reopens the sessions, retrying with exponential backoff.
 * The first request after that is served: no restart, no client change.
 * A PIN the token now refuses is never tried again: the agent locks itself
 * (Locked replies; `tba unlock` takes a new PIN).
 *
 * The same thread pings idle sessions every RECOVER_KEEPALIVE_SEC
 * ($TBA_KEEPALIVE_SEC overrides it, for tests), so a YubiHSM's 30 s idle
 * timeout never reaches a client, and a loss while idle is healed before the
 * next request comes.
 *
 * This file decides when; pool.c does the work (recover.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "agent.h"
#include "recover.h"
#include "tba/log.h"

#define RECOVER_KEEPALIVE_SEC 15    /* a YubiHSM 2 drops sessions idle for 30 s */
#define RECOVER_BACKOFF_MIN_MS 250  /* first retry after a token went away */
#define RECOVER_BACKOFF_MAX_MS 4000 /* retries never further apart than this */
#define RECOVER_STOP_SEC 5          /* recover_stop waits this long for the thread */

struct recover {
	struct pool *pool;
	pthread_mutex_t mu; /* the fields below */
	pthread_cond_t cv;  /* wakes the thread; waits on CLOCK_MONOTONIC */
	int woken;          /* the token went away since the thread last looked */
	int stop;
	unsigned keepalive_sec;
	pthread_t thread;
};

void
recover_wake(struct recover *rc)
{
	pthread_mutex_lock(&rc->mu);
	rc->woken = 1;
	pthread_cond_signal(&rc->cv);
	pthread_mutex_unlock(&rc->mu);
}

static void
recover_deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * Sleeps ms or until stopped (or, with on_wake, woken); rc->mu held.
 * Returns 1 when stopped.
 */
static int
recover_sleep(struct recover *rc, unsigned ms, int on_wake)
{
	struct timespec until;
	int e = 0;

	recover_deadline(&until, ms);
	while (!rc->stop && !(on_wake && rc->woken) && e != ETIMEDOUT)
		e = pthread_cond_timedwait(&rc->cv, &rc->mu, &until);
	return rc->stop;
}

/*
 * One outage: an attempt now, then after a growing pause, until the pool is
 * back or the thread is stopped. Called and returns with rc->mu held.
 */
static void
recover_outage(struct recover *rc)
{
	struct pool *p = rc->pool;
	struct timespec since, now;
	unsigned backoff = 0, tries = 0;
	size_t n;
	tba_err r;

	clock_gettime(CLOCK_MONOTONIC, &since);
	while (!rc->stop) {
		if (backoff > 0) {
			pool_set_recovering(p, 0);
			if (recover_sleep(rc, backoff, 0))
				break;
			pool_set_recovering(p, 1);
		}
		pthread_mutex_unlock(&rc->mu);
		r = pool_rebuild(p, &n);
		tries++;
		pthread_mutex_lock(&rc->mu);
		if (r == TBA_OK) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			tba_info("token '%s' is back after %.1f s (%u attempts): %s, %zu signing "
				 "sessions",
			    pool_label(p),
			    (double)(now.tv_sec - since.tv_sec) +
				(now.tv_nsec - since.tv_nsec) / 1e9,
			    tries, pool_locked(p) ? "agent locked" : "logged in again", n);
			break;
		}
		if (backoff < RECOVER_BACKOFF_MAX_MS) {
			backoff = backoff == 0 ? RECOVER_BACKOFF_MIN_MS : backoff * 2;
			if (backoff >= RECOVER_BACKOFF_MAX_MS) {
				backoff = RECOVER_BACKOFF_MAX_MS;
				tba_warn("token '%s' still unavailable (%s); retrying every %u s",
				    pool_label(p), tba_errmsg(r), RECOVER_BACKOFF_MAX_MS / 1000);
			}
		}
	}
}

static void *
recover_thread(void *arg)
{
	struct recover *rc = arg;
	int broken;

	pthread_mutex_lock(&rc->mu);
	while (!rc->stop) {
		if (!rc->woken) {
			if (recover_sleep(rc, rc->keepalive_sec * 1000, 1))
				break;
			if (!rc->woken) {
				pthread_mutex_unlock(&rc->mu);
				pool_keepalive(rc->pool);
				broken = pool_is_broken(rc->pool);
				pthread_mutex_lock(&rc->mu);
				rc->woken |= broken;
				continue;
			}
		}
		rc->woken = 0;
		recover_outage(rc);
	}
	pthread_mutex_unlock(&rc->mu);
	return NULL;
}

static unsigned
recover_keepalive_sec(void)
{
	const char *env = getenv("TBA_KEEPALIVE_SEC");
	char *end;
	unsigned long v;

	if (env != NULL && *env != '\0') {
		v = strtoul(env, &end, 10);
		if (*end == '\0' && v >= 1 && v <= 3600)
			return (unsigned)v;
	}
	return RECOVER_KEEPALIVE_SEC;
}

struct recover *
recover_start(struct pool *p)
{
	struct recover *rc;
	pthread_condattr_t ca;

	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		goto out;
	rc->pool = p;
	rc->keepalive_sec = recover_keepalive_sec();
	pthread_mutex_init(&rc->mu, NULL);
	/* Waits are on CLOCK_MONOTONIC: a clock step must not stall recovery. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rc->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&rc->thread, NULL, recover_thread, rc) != 0) {
		pthread_cond_destroy(&rc->cv);
		pthread_mutex_destroy(&rc->mu);
		free(rc);
		rc = NULL;
	}
out:
	if (rc == NULL)
		tba_warn("cannot start the keepalive thread: no keepalive, no automatic "
			 "reconnect after a token loss");
	return rc;
}

int
recover_stop(struct recover *rc)
{
	struct timespec until;

	if (rc == NULL)
		return 1;
	pthread_mutex_lock(&rc->mu);
	rc->stop = 1;
	pthread_cond_signal(&rc->cv);
	pthread_mutex_unlock(&rc->mu);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += RECOVER_STOP_SEC;
	if (pthread_timedjoin_np(rc->thread, NULL, &until) != 0) {
		tba_warn("the token reconnect is stuck in the PKCS#11 module; exiting without it");
		return 0;
	}
	pthread_cond_destroy(&rc->cv);
	pthread_mutex_destroy(&rc->mu);
	free(rc);
	return 1;
}
