/*
 * pool.c - the token, its login, and a pool of signing sessions.
 *
 * One session serves one thread at a time (SoftHSM is not safe otherwise):
 * a worker borrows a session only around C_Sign. Everything that changes the
 * token's state (login, logout, reading profiles, re-initialising a token
 * that went away) happens under tokmu; the healing itself, and the
 * keepalive, live in recover.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "pool_int.h"
#include "tba/log.h"
#include "tba/mem.h"
#include "tba/token.h"

#define POOL_CLOSE_WAIT_SEC 3
#define POOL_RECOVER_WAIT_SEC 2     /* a request waits this long for a running attempt */
#define POOL_BUSY_SEC 5             /* no session back for this long: the token hangs */

static int pool_owns(const struct pool *p, const struct tba_session *s);

void
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
	recover_start(p);
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
	if (!recover_stop(p))
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
		recover_broken(p, tba_seterr(TBA_ERR_TOKEN_GONE, "no signing session came back in "
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
		recover_broken(p, r);
		r = tba_seterr(TBA_ERR_TOKEN_GONE, "token '%s' is unavailable; the agent is "
		    "reconnecting (try again shortly)", tba_token_label(p->tok));
	}
	return r;
}

tba_err
pool_sign(struct pool *p, const struct tba_profile *prof, const void *msg, size_t len,
    unsigned char *mac, size_t *maclen)
{
	if (prof->kind == TBA_KIND_M2M)
		return tba_seterr(TBA_ERR_POLICY, "profile '%s' is an M2M (OAuth 2.0) profile: it signs "
		    "no OAuth 1.0a requests; use 'tba token', 'tba exec' or 'tba curl'", prof->name);
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
		recover_broken(p, r);
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
