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
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "pool_int.h"
#include "tba/log.h"
#include "tba/token.h"

#define RECOVER_KEEPALIVE_SEC 15      /* a YubiHSM 2 drops sessions idle for 30 s */
#define RECOVER_BACKOFF_MIN_MS 250    /* first retry after a token went away */
#define RECOVER_BACKOFF_MAX_MS 4000   /* retries never further apart than this */
#define RECOVER_HUNG_SEC 5            /* a token call still running after this is abandoned */
#define RECOVER_STOP_SEC 5            /* recover_stop waits this long for the thread */

/* Marks the token gone and wakes the maintenance thread (once per outage). */
void
recover_broken(struct pool *p, tba_err why)
{
	pthread_mutex_lock(&p->mu);
	if (!p->broken && !p->closing) {
		p->broken = 1;
		p->recovering = 1;   /* the first attempt starts right away */
		clock_gettime(CLOCK_MONOTONIC, &p->since);
		tba_error("token '%s' went away (%s); signing paused, reconnecting",
		    tba_token_label(p->tok), tba_errmsg(why));
		pthread_cond_broadcast(&p->cv);
		pthread_cond_signal(&p->maint_cv);
	}
	pthread_mutex_unlock(&p->mu);
}

/*
 * One recovery attempt. Called by the maintenance thread only, with neither
 * lock held. TBA_OK: sessions are back (or the agent is locked and the
 * module is back, so `tba unlock` can log in).
 */
static tba_err
recover_attempt(struct pool *p)
{
	struct tba_session *old[AGENT_SESSIONS_MAX], *fresh[AGENT_SESSIONS_MAX];
	struct timespec until;
	size_t nold, nfresh = 0, i;
	int locked;
	tba_err r;

	pthread_mutex_lock(&p->tokmu);
	/*
	 * Take every session back. Calls on a dead token fail fast, but some
	 * modules leave a call hanging for ever when the device dies under it
	 * (p11-kit-client 0.24 with concurrent callers): after RECOVER_HUNG_SEC
	 * such sessions are left to their threads and the pool is rebuilt
	 * without them (pool_sign frees one if its call ever returns).
	 */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += RECOVER_HUNG_SEC;
	pthread_mutex_lock(&p->mu);
	while (p->nidle < p->nall && !p->closing) {
		if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT)
			break;
	}
	if (p->closing) {
		pthread_mutex_unlock(&p->mu);
		r = tba_seterr(TBA_ERR_TOKEN_GONE, "the agent is stopping");
		goto out;
	}
	if (p->nidle < p->nall)
		tba_warn("%zu token call(s) still running after %d s; left behind", p->nall - p->nidle,
		    RECOVER_HUNG_SEC);
	if (p->nall > p->nwant)
		p->nwant = (unsigned)p->nall;
	nold = p->nidle;
	memcpy(old, p->idle, nold * sizeof(old[0]));
	p->nall = p->nidle = 0;
	locked = p->locked;
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < nold; i++)
		tba_session_close(old[i]);

	/*
	 * p11-kit-client 0.24 keeps the socket of a C_Initialize whose
	 * handshake failed (a server dying or starting) and loses it on the
	 * next one: an fd and 160 bytes per such attempt, which the backoff
	 * bounds. Nothing the agent can free; test_token_loss tells ASan so.
	 */
	if ((r = tba_token_reinit(p->tok)) != TBA_OK)
		goto out;
	if (!locked && p->pin != NULL) {
		/* One attempt per recovery, and none after the token refused the PIN. */
		if ((r = tba_token_login(p->tok, p->pin, p->pinlen)) != TBA_OK) {
			if (r == TBA_ERR_PIN_INCORRECT || r == TBA_ERR_PIN_LOCKED) {
				tba_error("token '%s' refused the PIN after it came back (%s); "
				    "not retried: the agent is locked, run 'tba unlock'",
				    tba_token_label(p->tok), tba_errmsg(r));
				pthread_mutex_lock(&p->mu);
				p->locked = 1;
				pthread_cond_broadcast(&p->cv);
				pthread_mutex_unlock(&p->mu);
				pool_forget_pin(p);
				/* Sessions still open, so `tba unlock` finds a pool to refill. */
			} else
				goto out;
		}
	}
	for (i = 0; i < p->nwant && i < AGENT_SESSIONS_MAX; i++) {
		if ((r = tba_session_open(p->tok, &fresh[nfresh])) != TBA_OK)
			break;
		nfresh++;
	}
	if (nfresh == 0)
		goto out;
	r = TBA_OK;
	pthread_mutex_lock(&p->mu);
	memcpy(p->all, fresh, nfresh * sizeof(fresh[0]));
	memcpy(p->idle, fresh, nfresh * sizeof(fresh[0]));
	p->nall = p->nidle = nfresh;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
out:
	pthread_mutex_unlock(&p->tokmu);
	return r;
}

/* Pings every idle session; a dead one marks the token gone. */
static void
recover_ping(struct pool *p)
{
	struct tba_session *s[AGENT_SESSIONS_MAX];
	size_t n, i;
	tba_err r, bad = TBA_OK;

	pthread_mutex_lock(&p->mu);
	if (p->locked || p->broken || p->closing) {
		pthread_mutex_unlock(&p->mu);
		return;
	}
	n = p->nidle;
	memcpy(s, p->idle, n * sizeof(s[0]));
	p->nidle = 0;
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < n; i++) {
		if ((r = tba_session_ping(s[i])) != TBA_OK && bad == TBA_OK)
			bad = r;
	}
	pthread_mutex_lock(&p->mu);
	memcpy(p->idle + p->nidle, s, n * sizeof(s[0]));
	p->nidle += n;
	if (n > 0)
		p->returns++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (bad == TBA_ERR_TOKEN_GONE || bad == TBA_ERR_LOCKED)
		recover_broken(p, bad);
	else if (bad != TBA_OK)
		tba_warn("keepalive: %s", tba_errmsg(bad));
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

static void *
recover_thread(void *arg)
{
	struct pool *p = arg;
	struct timespec until, now;
	unsigned backoff = 0, tries = 0;
	int broken, rc;
	tba_err r;

	pthread_mutex_lock(&p->mu);
	while (!p->closing) {
		if (!p->broken) {
			recover_deadline(&until, p->keepalive_sec * 1000);
			rc = 0;
			while (!p->closing && !p->broken && rc != ETIMEDOUT)
				rc = pthread_cond_timedwait(&p->maint_cv, &p->mu, &until);
			if (p->closing)
				break;
			if (!p->broken) {
				pthread_mutex_unlock(&p->mu);
				recover_ping(p);
				pthread_mutex_lock(&p->mu);
				continue;
			}
		}
		/* Broken: try now, then after a growing pause. */
		if (backoff > 0) {
			p->recovering = 0;
			pthread_cond_broadcast(&p->cv);
			recover_deadline(&until, backoff);
			rc = 0;
			while (!p->closing && rc != ETIMEDOUT)
				rc = pthread_cond_timedwait(&p->maint_cv, &p->mu, &until);
			if (p->closing)
				break;
		}
		p->recovering = 1;
		pthread_mutex_unlock(&p->mu);
		r = recover_attempt(p);
		tries++;
		pthread_mutex_lock(&p->mu);
		broken = r != TBA_OK;
		if (!broken) {
			p->broken = 0;
			p->recovering = 0;
			pthread_cond_broadcast(&p->cv);
			clock_gettime(CLOCK_MONOTONIC, &now);
			tba_info("token '%s' is back after %.1f s (%u attempts): %s, %zu signing "
			    "sessions", tba_token_label(p->tok),
			    (double)(now.tv_sec - p->since.tv_sec) +
			    (now.tv_nsec - p->since.tv_nsec) / 1e9, tries,
			    p->locked ? "agent locked" : "logged in again", p->nall);
			/* The next outage starts from the first, immediate attempt. */
			backoff = 0;
			tries = 0;
			continue;
		}
		if (backoff < RECOVER_BACKOFF_MAX_MS) {
			backoff = backoff == 0 ? RECOVER_BACKOFF_MIN_MS : backoff * 2;
			if (backoff >= RECOVER_BACKOFF_MAX_MS) {
				backoff = RECOVER_BACKOFF_MAX_MS;
				tba_warn("token '%s' still unavailable (%s); retrying every %u s",
				    tba_token_label(p->tok), tba_errmsg(r), RECOVER_BACKOFF_MAX_MS / 1000);
			}
		}
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

void
recover_start(struct pool *p)
{
	pthread_condattr_t ca;
	const char *env = getenv("TBA_KEEPALIVE_SEC");
	char *end;
	unsigned long v;

	p->keepalive_sec = RECOVER_KEEPALIVE_SEC;
	if (env != NULL && *env != '\0') {
		v = strtoul(env, &end, 10);
		if (*end == '\0' && v >= 1 && v <= 3600)
			p->keepalive_sec = (unsigned)v;
	}
	/* Waits are on CLOCK_MONOTONIC: a clock step must not stall recovery. */
	pthread_cond_destroy(&p->maint_cv);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->maint_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&p->maint, NULL, recover_thread, p) != 0) {
		tba_warn("cannot start the keepalive thread: no keepalive, no automatic "
		    "reconnect after a token loss");
		return;
	}
	p->maint_started = 1;
}

/* 1 when the maintenance thread is gone (or never ran), 0 when it hangs in the module. */
int
recover_stop(struct pool *p)
{
	struct timespec until;

	if (!p->maint_started)
		return 1;
	pthread_mutex_lock(&p->mu);
	p->closing = 1;
	pthread_cond_signal(&p->maint_cv);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += RECOVER_STOP_SEC;
	if (pthread_timedjoin_np(p->maint, NULL, &until) != 0) {
		tba_warn("the token reconnect is stuck in the PKCS#11 module; exiting without it");
		return 0;
	}
	p->maint_started = 0;
	return 1;
}
