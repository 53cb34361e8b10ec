/* SPDX-License-Identifier: MIT */
/*
 * pool.c - the token, its login, and a pool of signing sessions.
 *
 * One session serves one thread at a time (SoftHSM is not safe otherwise):
 * a worker borrows a session only around C_Sign. Everything that changes the
 * token's state (login, logout, reading profiles, re-initialising a token
 * that went away) happens under tokmu. When to heal and when to ping idle
 * sessions is recover.c's business: it calls pool_rebuild and pool_keepalive
 * (recover.h is the whole interface between the two).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "pinguard.h"
#include "recover.h"
#include "tba/log.h"
#include "tba/mem.h"
#include "tba/token.h"

#define POOL_CLOSE_WAIT_SEC 3
#define POOL_RECOVER_WAIT_SEC 2 /* a request waits this long for a running attempt */
#define POOL_BUSY_SEC 5         /* no session back for this long: the token hangs */
#define POOL_HUNG_SEC 5         /* a token call still running after this is abandoned */

struct pool {
	struct tba_token *tok;
	pthread_mutex_t tokmu; /* login, logout, profile reads, recovery */
	pthread_mutex_t mu;    /* the fields below */
	pthread_cond_t cv;     /* sessions given back, state changes */
	struct tba_session *all[AGENT_SESSIONS_MAX];
	size_t nall;
	struct tba_session *idle[AGENT_SESSIONS_MAX];
	size_t nidle;
	int locked;
	int closing;
	char *pin; /* secure memory; NULL while locked */
	size_t pinlen, pincap;
	struct pinguard guard; /* while locked by Lock: the PIN's hash, Unlock's delay */
	/* Token loss and recovery (pool_rebuild, driven by recover.c). */
	int broken;            /* the token went away: refuse until recovered */
	int recovering;        /* a recovery attempt is due or running */
	unsigned long returns; /* sessions given back so far (progress, for pool_sign) */
	unsigned nwant;        /* sessions to reopen after a recovery */
	struct recover *rec;   /* the maintenance thread; NULL without one */
};

static int pool_owns(const struct pool *p, const struct tba_session *s);
static void pool_broken(struct pool *p, tba_err why);

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
	struct recover *rec;
	tba_err r;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = tba_nomem();
		goto out;
	}
	pthread_mutex_init(&p->tokmu, NULL);
	pthread_mutex_init(&p->mu, NULL);
	pinguard_init(&p->guard);
	pthread_cond_init(&p->cv, NULL);
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
			r = tba_seterr(r,
			    "incorrect PIN for token '%s' (not retried: tokens lock "
			    "after a few wrong PINs)",
			    tba_token_label(p->tok));
		goto out;
	}
	if ((r = pool_fill(p, nsessions)) != TBA_OK)
		goto out;
	rec = recover_start(p);
	pthread_mutex_lock(&p->mu);
	p->rec = rec;
	pthread_mutex_unlock(&p->mu);
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
	struct recover *rec;
	struct timespec until;
	size_t i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->closing = 1;
	pthread_cond_broadcast(&p->cv);
	rec = p->rec;
	p->rec = NULL;
	pthread_mutex_unlock(&p->mu);
	/* A maintenance thread stuck in a hung module call keeps the pool: exit is near. */
	if (!recover_stop(rec))
		return;
	pthread_mutex_lock(&p->mu);
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
		pthread_mutex_destroy(&p->tokmu);
		pinguard_destroy(&p->guard);
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

/* pool_sign and pool_sign_jws: one borrowed session around one signature (jws: the M2M key). */
static tba_err
pool_sign_on(struct pool *p, const struct tba_profile *prof, int jws, const void *msg, size_t len,
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
		pool_broken(p,
		    tba_seterr(TBA_ERR_TOKEN_GONE,
			"no signing session came back in "
			"%d s: the token does not answer",
			POOL_BUSY_SEC));
		return tba_seterr(TBA_ERR_TOKEN_GONE,
		    "token '%s' does not answer; the agent is "
		    "reconnecting (try again shortly)",
		    tba_token_label(p->tok));
	}
	if (p->broken) {
		pthread_mutex_unlock(&p->mu);
		return tba_seterr(TBA_ERR_TOKEN_GONE,
		    "token '%s' is unavailable; the agent is "
		    "reconnecting (try again shortly)",
		    tba_token_label(p->tok));
	}
	s = p->idle[--p->nidle];
	pthread_mutex_unlock(&p->mu);

	if (jws)
		r = tba_session_sign_jws(s, prof, msg, len, mac, maclen);
	else
		r = tba_session_sign(s, prof, msg, len, mac, maclen);

	pthread_mutex_lock(&p->mu);
	owned = pool_owns(p, s);
	if (owned)
		p->idle[p->nidle++] = s;
	p->returns++;
	/*
	 * In steady state only borrowers wait on cv, and one session serves one
	 * of them (a broadcast would wake them all to find one session). A lock,
	 * close or recovery waits for every session: then wake everyone.
	 */
	if (p->locked || p->closing || p->broken || p->recovering)
		pthread_cond_broadcast(&p->cv);
	else
		pthread_cond_signal(&p->cv);
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
		r = tba_seterr(TBA_ERR_TOKEN_GONE,
		    "token '%s' is unavailable; the agent is "
		    "reconnecting (try again shortly)",
		    tba_token_label(p->tok));
	}
	return r;
}

tba_err
pool_sign(struct pool *p, const struct tba_profile *prof, const void *msg, size_t len,
    unsigned char *mac, size_t *maclen)
{
	if (prof->kind == TBA_KIND_M2M)
		return tba_seterr(TBA_ERR_POLICY,
		    "profile '%s' is an M2M (OAuth 2.0) profile: it signs "
		    "no OAuth 1.0a requests; use 'tba token', 'tba exec' or 'tba curl'",
		    prof->name);
	return pool_sign_on(p, prof, 0, msg, len, mac, maclen);
}

tba_err
pool_sign_jws(struct pool *p, const struct tba_profile *prof, const void *msg, size_t len,
    unsigned char *sig, size_t *siglen)
{
	if (prof->kind != TBA_KIND_M2M)
		return tba_seterr(TBA_ERR_POLICY, "profile '%s' is not an M2M profile", prof->name);
	return pool_sign_on(p, prof, 1, msg, len, sig, siglen);
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
	/* Kept to check Unlock's guesses against, so that none of them reaches the token. */
	if (p->pin != NULL && (r = pinguard_set(&p->guard, p->pin, p->pinlen)) != TBA_OK)
		tba_warn("%s: Unlock will ask the token", tba_errmsg(r));
	pool_forget_pin(p);
	if ((r = tba_token_logout(p->tok)) != TBA_OK)
		tba_warn("logout: %s (the agent refuses to sign all the same)", tba_errmsg(r));
	r = TBA_OK;
out:
	pthread_mutex_unlock(&p->tokmu);
	return r;
}

/* Unlock's login: with the PIN, then fresh sessions; tokmu held. copy is taken on success. */
static tba_err
pool_unlock_login(struct pool *p, char *copy, size_t pinlen, size_t cap)
{
	struct tba_session *old[AGENT_SESSIONS_MAX];
	size_t nold, i;
	tba_err r;

	if ((r = tba_token_login(p->tok, copy, pinlen)) != TBA_OK) {
		if (r == TBA_ERR_PIN_INCORRECT)
			r = tba_seterr(r, "incorrect PIN; the agent stays locked");
		return r;
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
		tba_warn(
		    "could not reopen signing sessions: %s; keeping the old ones", tba_errmsg(r));
	} else {
		for (i = 0; i < nold; i++)
			tba_session_close(old[i]);
	}
	pthread_mutex_lock(&p->mu);
	p->pin = copy;
	p->pinlen = pinlen;
	p->pincap = cap;
	p->locked = 0;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return TBA_OK;
}

tba_err
pool_unlock(struct pool *p, const char *pin, size_t pinlen)
{
	char *copy = NULL;
	size_t cap = pinlen + 1;
	tba_err r;

	/* One at a time, the delay included: a second guess meanwhile is turned away at once. */
	if (!pinguard_enter(&p->guard))
		return tba_seterr(TBA_ERR_LOCKED,
		    "another Unlock is being checked; try again in "
		    "a moment");
	pthread_mutex_lock(&p->tokmu);
	if (!pool_locked(p)) {
		r = tba_seterr(TBA_ERR_INVALID, "the agent is not locked: nothing to unlock");
		goto out;
	}
	if ((r = pinguard_check(&p->guard, pin, pinlen)) != TBA_OK)
		goto out;
	if ((copy = tba_secalloc(cap)) == NULL) {
		r = tba_nomem();
		goto out;
	}
	memcpy(copy, pin, pinlen);
	if ((r = pool_unlock_login(p, copy, pinlen, cap)) != TBA_OK) {
		/* The right PIN by the hash, yet refused: it changed; only the token can judge now. */
		if (r == TBA_ERR_PIN_INCORRECT)
			pinguard_clear(&p->guard);
		goto out;
	}
	copy = NULL;
	pinguard_clear(&p->guard);
out:
	tba_secfree(copy, cap);
	pthread_mutex_unlock(&p->tokmu);
	pinguard_leave(&p->guard, r == TBA_ERR_PIN_INCORRECT);
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

/* Marks the token gone and wakes the maintenance thread (once per outage). */
static void
pool_broken(struct pool *p, tba_err why)
{
	struct recover *rec = NULL;

	pthread_mutex_lock(&p->mu);
	if (!p->broken && !p->closing) {
		p->broken = 1;
		p->recovering = 1; /* the first attempt starts right away */
		tba_error("token '%s' went away (%s); signing paused, reconnecting",
		    tba_token_label(p->tok), tba_errmsg(why));
		pthread_cond_broadcast(&p->cv);
		rec = p->rec;
	}
	pthread_mutex_unlock(&p->mu);
	/* Outside mu: recover.c may hold its own lock while it asks the pool. */
	if (rec != NULL)
		recover_wake(rec);
}

int
pool_is_broken(struct pool *p)
{
	int b;

	pthread_mutex_lock(&p->mu);
	b = p->broken;
	pthread_mutex_unlock(&p->mu);
	return b;
}

void
pool_set_recovering(struct pool *p, int on)
{
	pthread_mutex_lock(&p->mu);
	p->recovering = on;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/*
 * Takes every session back for a rebuild (mu held). Calls on a dead token
 * fail fast, but some modules leave a call hanging for ever when the device
 * dies under it (p11-kit-client 0.24 with concurrent callers): after
 * POOL_HUNG_SEC such sessions are left to their threads and the pool is
 * rebuilt without them (pool_sign frees one if its call ever returns).
 * Returns how many were taken into old[]; *locked tells the lock state.
 */
static tba_err
pool_take_all(struct pool *p, struct tba_session **old, size_t *nold, int *locked)
{
	struct timespec until;

	*nold = 0;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += POOL_HUNG_SEC;
	while (p->nidle < p->nall && !p->closing) {
		if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT)
			break;
	}
	if (p->closing)
		return tba_seterr(TBA_ERR_TOKEN_GONE, "the agent is stopping");
	if (p->nidle < p->nall)
		tba_warn("%zu token call(s) still running after %d s; left behind",
		    p->nall - p->nidle, POOL_HUNG_SEC);
	if (p->nall > p->nwant)
		p->nwant = (unsigned)p->nall;
	*nold = p->nidle;
	memcpy(old, p->idle, *nold * sizeof(old[0]));
	p->nall = p->nidle = 0;
	*locked = p->locked;
	return TBA_OK;
}

/* Logs in again with the PIN held; a PIN the token now refuses locks the agent. */
static tba_err
pool_relogin(struct pool *p)
{
	tba_err r;

	if (p->pin == NULL)
		return TBA_OK;
	/* One attempt per recovery, and none after the token refused the PIN. */
	r = tba_token_login(p->tok, p->pin, p->pinlen);
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
		r = TBA_OK;
	}
	return r;
}

tba_err
pool_rebuild(struct pool *p, size_t *nsessions)
{
	struct tba_session *old[AGENT_SESSIONS_MAX], *fresh[AGENT_SESSIONS_MAX];
	size_t nold, nfresh = 0, i;
	int locked = 0;
	tba_err r;

	*nsessions = 0;
	pthread_mutex_lock(&p->tokmu);
	pthread_mutex_lock(&p->mu);
	r = pool_take_all(p, old, &nold, &locked);
	pthread_mutex_unlock(&p->mu);
	if (r != TBA_OK)
		goto out;
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
	if (!locked && (r = pool_relogin(p)) != TBA_OK)
		goto out;
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
	p->broken = 0;
	p->recovering = 0;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	*nsessions = nfresh;
out:
	pthread_mutex_unlock(&p->tokmu);
	return r;
}

void
pool_keepalive(struct pool *p)
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
