/*
 * pool.c - the token, its login, and a pool of signing sessions.
 *
 * One session serves one thread at a time (SoftHSM is not safe otherwise):
 * a worker borrows a session only around C_Sign. Everything that changes the
 * token's state (login, logout, reading profiles, and later re-initialising
 * a token that went away) happens here under tokmu, so recovery has one home.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "tba/log.h"
#include "tba/mem.h"
#include "tba/token.h"

#define POOL_CLOSE_WAIT_SEC 3
#define POOL_KEEPALIVE_SEC 15       /* a YubiHSM 2 drops sessions idle for 30 s */
#define POOL_BACKOFF_MIN_MS 250     /* first retry after a token went away */
#define POOL_BACKOFF_MAX_MS 4000    /* retries never further apart than this */
#define POOL_RECOVER_WAIT_SEC 2     /* a request waits this long for a running attempt */
#define POOL_HUNG_SEC 5             /* a token call still running after this is abandoned */
#define POOL_BUSY_SEC 5             /* no session back for this long: the token hangs */
#define POOL_STOP_SEC 5             /* pool_close waits this long for the maintenance thread */

struct pool {
	struct tba_token *tok;
	pthread_mutex_t tokmu;       /* login, logout, profile reads */
	pthread_mutex_t mu;          /* the fields below */
	pthread_cond_t cv;
	struct tba_session *all[AGENT_SESSIONS_MAX];
	size_t nall;
	struct tba_session *idle[AGENT_SESSIONS_MAX];
	size_t nidle;
	int locked;
	int closing;
	char *pin;                   /* secure memory; NULL while locked */
	size_t pinlen, pincap;
	/* Recovery and keepalive (see the end of this file). */
	int broken;                  /* the token went away: refuse until recovered */
	int recovering;              /* a recovery attempt is due or running */
	struct timespec since;       /* when the token went away (CLOCK_MONOTONIC) */
	unsigned long returns;       /* sessions given back so far (progress, for pool_sign) */
	unsigned nwant;              /* sessions to reopen after a recovery */
	pthread_cond_t maint_cv;     /* wakes the maintenance thread */
	pthread_t maint;
	int maint_started;
	unsigned keepalive_sec;
};

static void pool_broken(struct pool *p, tba_err why);
static void pool_maint_start(struct pool *p);
static int pool_maint_stop(struct pool *p);
static int pool_owns(const struct pool *p, const struct tba_session *s);

static void
pool_forget_pin(struct pool *p)
{
	tba_secfree(p->pin, p->pincap);
	p->pin = NULL;
	p->pinlen = p->pincap = 0;
}

/* Opens n sessions into all[]/idle[]; keeps what it got when at least one opened. */
static tba_err
pool_fill(struct pool *p, unsigned n)
{
	struct tba_session *s;
	tba_err r = TBA_OK;
	unsigned i;

	for (i = 0; i < n && p->nall < AGENT_SESSIONS_MAX; i++) {
		if ((r = tba_session_open(p->tok, &s)) != TBA_OK)
			break;
		p->all[p->nall++] = s;
		p->idle[p->nidle++] = s;
	}
	if (p->nall == 0)
		return r;
	if (r != TBA_OK)
		tba_warn("opened %zu of %u signing sessions: %s", p->nall, n, tba_errmsg(r));
	return TBA_OK;
}

tba_err
pool_open(const char *uri, char **pin, size_t pinlen, size_t pincap, unsigned nsessions,
    struct pool **out)
{
	struct pool *p = NULL;
	tba_err r = TBA_ERR_NOMEM;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto out;
	pthread_mutex_init(&p->tokmu, NULL);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	pthread_cond_init(&p->maint_cv, NULL);
	if (pin != NULL && *pin != NULL) {
		p->pin = *pin;
		p->pinlen = pinlen;
		p->pincap = pincap;
		*pin = NULL;
	}
	if ((r = tba_token_open(uri, &p->tok)) != TBA_OK)
		goto out;
	if (p->pin == NULL &&
	    (r = tba_token_get_pin(p->tok, &p->pin, &p->pinlen, &p->pincap)) != TBA_OK)
		goto out;
	/* Exactly one attempt: tokens lock after a few wrong PINs. */
	if ((r = tba_token_login(p->tok, p->pin, p->pinlen)) != TBA_OK) {
		if (r == TBA_ERR_PIN_INCORRECT)
			r = tba_seterr(r, "incorrect PIN for token '%s' (not retried: tokens lock "
			    "after a few wrong PINs)", tba_token_label(p->tok));
		goto out;
	}
	if ((r = pool_fill(p, nsessions)) != TBA_OK)
		goto out;
	pool_maint_start(p);
	*out = p;
	p = NULL;
out:
	if (pin != NULL && *pin != NULL) {
		tba_secfree(*pin, pincap);
		*pin = NULL;
	}
	pool_close(p);
	return r;
}

void
pool_close(struct pool *p)
{
	struct timespec until;
	size_t i;

	if (p == NULL)
		return;
	/* A maintenance thread stuck in a hung module call keeps the pool: exit is near. */
	if (!pool_maint_stop(p))
		return;
	pthread_mutex_lock(&p->mu);
	p->closing = 1;
	pthread_cond_broadcast(&p->cv);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += POOL_CLOSE_WAIT_SEC;
	while (p->nidle < p->nall) {
		if (pthread_cond_timedwait(&p->cv, &p->mu, &until) != 0)
			break;
	}
	/* A session still borrowed after the wait is left alone (and leaked) rather than pulled from under a C_Sign. */
	if (p->nidle == p->nall) {
		for (i = 0; i < p->nall; i++)
			tba_session_close(p->all[i]);
		p->nall = p->nidle = 0;
	}
	pthread_mutex_unlock(&p->mu);
	pool_forget_pin(p);
	if (p->nall == 0) {
		if (p->tok != NULL && !p->locked)
			(void)tba_token_logout(p->tok);
		tba_token_close(p->tok);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		pthread_cond_destroy(&p->maint_cv);
		pthread_mutex_destroy(&p->tokmu);
		free(p);
	}
}

const char *
pool_label(const struct pool *p)
{
	return tba_token_label(p->tok);
}

int
pool_locked(struct pool *p)
{
	int l;

	pthread_mutex_lock(&p->mu);
	l = p->locked;
	pthread_mutex_unlock(&p->mu);
	return l;
}

tba_err
pool_sign(struct pool *p, const struct tba_profile *prof, const void *msg, size_t len,
    unsigned char *mac, size_t *maclen)
{
	struct tba_session *s;
	struct timespec until, busy;
	unsigned long seen;
	int owned, stuck = 0;
	tba_err r;

	pthread_mutex_lock(&p->mu);
	/*
	 * While the token is away, wait only for an attempt already under way
	 * (a session closed by the device heals in milliseconds); in the
	 * pauses between attempts answer at once.
	 */
	clock_gettime(CLOCK_REALTIME, &until);
	busy = until;
	until.tv_sec += POOL_RECOVER_WAIT_SEC;
	busy.tv_sec += POOL_BUSY_SEC;
	seen = p->returns;
	while (!p->locked && !p->closing) {
		if (p->broken) {
			if (!p->recovering ||
			    pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT)
				break;
		} else if (p->nidle == 0) {
			/*
			 * Every session busy and none given back for POOL_BUSY_SEC:
			 * the token stopped answering (calls hang) - the keepalive
			 * cannot see that, it only pings idle sessions.
			 */
			if (pthread_cond_timedwait(&p->cv, &p->mu, &busy) != ETIMEDOUT)
				continue;
			if (p->returns != seen) {
				seen = p->returns;
				clock_gettime(CLOCK_REALTIME, &busy);
				busy.tv_sec += POOL_BUSY_SEC;
				continue;
			}
			stuck = p->nidle == 0 && !p->broken;
			if (stuck)
				break;
		} else
			break;
	}
	if (p->locked || p->closing) {
		pthread_mutex_unlock(&p->mu);
		return tba_seterr(TBA_ERR_LOCKED, "the agent is locked: run 'tba unlock'");
	}
	if (stuck) {
		pthread_mutex_unlock(&p->mu);
		pool_broken(p, tba_seterr(TBA_ERR_TOKEN_GONE, "no signing session came back in "
		    "%d s: the token does not answer", POOL_BUSY_SEC));
		return tba_seterr(TBA_ERR_TOKEN_GONE, "token '%s' does not answer; the agent is "
		    "reconnecting (try again shortly)", tba_token_label(p->tok));
	}
	if (p->broken) {
		pthread_mutex_unlock(&p->mu);
		return tba_seterr(TBA_ERR_TOKEN_GONE, "token '%s' is unavailable; the agent is "
		    "reconnecting (try again shortly)", tba_token_label(p->tok));
	}
	s = p->idle[--p->nidle];
	pthread_mutex_unlock(&p->mu);

	r = tba_session_sign(s, prof, msg, len, mac, maclen);

	pthread_mutex_lock(&p->mu);
	owned = pool_owns(p, s);
	if (owned)
		p->idle[p->nidle++] = s;
	p->returns++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	/* Abandoned by a recovery while this call hung: not ours to pool any more. */
	if (!owned)
		tba_session_close(s);
	/*
	 * Not logged in while the agent believes it is: the token restarted
	 * under us (or lost its login). Same cure as a token that went away.
	 */
	/* A call that outlived its session tells nothing about the token now. */
	if (owned && (r == TBA_ERR_TOKEN_GONE || (r == TBA_ERR_LOCKED && !pool_locked(p)))) {
		pool_broken(p, r);
		r = tba_seterr(TBA_ERR_TOKEN_GONE, "token '%s' is unavailable; the agent is "
		    "reconnecting (try again shortly)", tba_token_label(p->tok));
	}
	return r;
}

tba_err
pool_lock(struct pool *p)
{
	tba_err r = TBA_OK;

	pthread_mutex_lock(&p->tokmu);
	pthread_mutex_lock(&p->mu);
	if (p->locked) {
		pthread_mutex_unlock(&p->mu);
		goto out;
	}
	p->locked = 1;
	pthread_cond_broadcast(&p->cv);
	/* Wait for every C_Sign in flight, so none runs into the logout. */
	while (p->nidle < p->nall)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	pool_forget_pin(p);
	if ((r = tba_token_logout(p->tok)) != TBA_OK)
		tba_warn("logout: %s (the agent refuses to sign all the same)", tba_errmsg(r));
	r = TBA_OK;
out:
	pthread_mutex_unlock(&p->tokmu);
	return r;
}

tba_err
pool_unlock(struct pool *p, const char *pin, size_t pinlen)
{
	struct tba_session *old[AGENT_SESSIONS_MAX];
	size_t nold, i;
	char *copy = NULL;
	size_t cap = pinlen + 1;
	tba_err r = TBA_OK;

	pthread_mutex_lock(&p->tokmu);
	if (!pool_locked(p))
		goto out;
	if ((copy = tba_secalloc(cap)) == NULL) {
		r = TBA_ERR_NOMEM;
		goto out;
	}
	memcpy(copy, pin, pinlen);
	if ((r = tba_token_login(p->tok, copy, pinlen)) != TBA_OK) {
		if (r == TBA_ERR_PIN_INCORRECT)
			r = tba_seterr(r, "incorrect PIN; the agent stays locked");
		goto out;
	}
	/*
	 * Fresh sessions after a logout/login cycle: cached key handles may not
	 * survive it on every token. The new ones open before the old close so
	 * the login never depends on which session held it.
	 */
	nold = p->nall;
	memcpy(old, p->all, sizeof(old));
	p->nall = p->nidle = 0;
	if ((r = pool_fill(p, (unsigned)nold)) != TBA_OK) {
		memcpy(p->all, old, sizeof(old));
		p->nall = p->nidle = nold;
		memcpy(p->idle, old, sizeof(old));
		tba_warn("could not reopen signing sessions: %s; keeping the old ones", tba_errmsg(r));
	} else {
		for (i = 0; i < nold; i++)
			tba_session_close(old[i]);
	}
	pthread_mutex_lock(&p->mu);
	p->pin = copy;
	p->pinlen = pinlen;
	p->pincap = cap;
	copy = NULL;
	p->locked = 0;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	r = TBA_OK;
out:
	tba_secfree(copy, cap);
	pthread_mutex_unlock(&p->tokmu);
	return r;
}

tba_err
pool_profiles(struct pool *p, struct tba_profile **v, size_t *n)
{
	tba_err r;

	*v = NULL;
	*n = 0;
	pthread_mutex_lock(&p->mu);
	r = p->broken ? TBA_ERR_TOKEN_GONE : TBA_OK;
	pthread_mutex_unlock(&p->mu);
	if (r != TBA_OK)
		return tba_seterr(r, "token '%s' is unavailable; the agent is reconnecting",
		    tba_token_label(p->tok));
	pthread_mutex_lock(&p->tokmu);
	if (pool_locked(p))
		r = tba_seterr(TBA_ERR_LOCKED, "the agent is locked");
	else
		r = tba_token_profiles(p->tok, v, n);
	pthread_mutex_unlock(&p->tokmu);
	if (r == TBA_ERR_TOKEN_GONE)
		pool_broken(p, r);
	return r;
}

/*
 * Recovery and keepalive.
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
 * The same thread pings idle sessions every POOL_KEEPALIVE_SEC
 * ($TBA_KEEPALIVE_SEC overrides it, for tests), so a YubiHSM's 30 s idle
 * timeout never reaches a client, and a loss while idle is healed before the
 * next request comes.
 */

/* Marks the token gone and wakes the maintenance thread (once per outage). */
static void
pool_broken(struct pool *p, tba_err why)
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
pool_recover(struct pool *p)
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
	 * (p11-kit-client 0.24 with concurrent callers): after POOL_HUNG_SEC
	 * such sessions are left to their threads and the pool is rebuilt
	 * without them (pool_sign frees one if its call ever returns).
	 */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += POOL_HUNG_SEC;
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
		    POOL_HUNG_SEC);
	if (p->nall > p->nwant)
		p->nwant = (unsigned)p->nall;
	nold = p->nidle;
	memcpy(old, p->idle, nold * sizeof(old[0]));
	p->nall = p->nidle = 0;
	locked = p->locked;
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < nold; i++)
		tba_session_close(old[i]);

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
pool_ping(struct pool *p)
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
		pool_broken(p, bad);
	else if (bad != TBA_OK)
		tba_warn("keepalive: %s", tba_errmsg(bad));
}

static void
pool_deadline(struct timespec *ts, unsigned ms)
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
pool_maint(void *arg)
{
	struct pool *p = arg;
	struct timespec until, now;
	unsigned backoff = 0, tries = 0;
	int broken, rc;
	tba_err r;

	pthread_mutex_lock(&p->mu);
	while (!p->closing) {
		if (!p->broken) {
			pool_deadline(&until, p->keepalive_sec * 1000);
			rc = 0;
			while (!p->closing && !p->broken && rc != ETIMEDOUT)
				rc = pthread_cond_timedwait(&p->maint_cv, &p->mu, &until);
			if (p->closing)
				break;
			if (!p->broken) {
				pthread_mutex_unlock(&p->mu);
				pool_ping(p);
				pthread_mutex_lock(&p->mu);
				continue;
			}
		}
		/* Broken: try now, then after a growing pause. */
		if (backoff > 0) {
			p->recovering = 0;
			pthread_cond_broadcast(&p->cv);
			pool_deadline(&until, backoff);
			rc = 0;
			while (!p->closing && rc != ETIMEDOUT)
				rc = pthread_cond_timedwait(&p->maint_cv, &p->mu, &until);
			if (p->closing)
				break;
		}
		p->recovering = 1;
		pthread_mutex_unlock(&p->mu);
		r = pool_recover(p);
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
		if (backoff < POOL_BACKOFF_MAX_MS) {
			backoff = backoff == 0 ? POOL_BACKOFF_MIN_MS : backoff * 2;
			if (backoff >= POOL_BACKOFF_MAX_MS) {
				backoff = POOL_BACKOFF_MAX_MS;
				tba_warn("token '%s' still unavailable (%s); retrying every %u s",
				    tba_token_label(p->tok), tba_errmsg(r), POOL_BACKOFF_MAX_MS / 1000);
			}
		}
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void
pool_maint_start(struct pool *p)
{
	pthread_condattr_t ca;
	const char *env = getenv("TBA_KEEPALIVE_SEC");
	char *end;
	unsigned long v;

	p->keepalive_sec = POOL_KEEPALIVE_SEC;
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
	if (pthread_create(&p->maint, NULL, pool_maint, p) != 0) {
		tba_warn("cannot start the keepalive thread: no keepalive, no automatic "
		    "reconnect after a token loss");
		return;
	}
	p->maint_started = 1;
}

/* 1 when the pool's own thread is gone (or never ran), 0 when it hangs in the module. */
static int
pool_maint_stop(struct pool *p)
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
	until.tv_sec += POOL_STOP_SEC;
	if (pthread_timedjoin_np(p->maint, NULL, &until) != 0) {
		tba_warn("the token reconnect is stuck in the PKCS#11 module; exiting without it");
		return 0;
	}
	p->maint_started = 0;
	return 1;
}

/* 1 when s is one of the pool's sessions (call with mu held). */
static int
pool_owns(const struct pool *p, const struct tba_session *s)
{
	size_t i;

	for (i = 0; i < p->nall; i++) {
		if (p->all[i] == s)
			return 1;
	}
	return 0;
}
