/*
 * pool.c - the token, its login, and a pool of signing sessions.
 *
 * One session serves one thread at a time (SoftHSM is not safe otherwise):
 * a worker borrows a session only around C_Sign. Everything that changes the
 * token's state (login, logout, reading profiles, and later re-initialising
 * a token that went away) happens here under tokmu, so recovery has one home.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "tba/log.h"
#include "tba/mem.h"
#include "tba/token.h"

#define POOL_CLOSE_WAIT_SEC 3

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
};

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
	tba_err r;

	pthread_mutex_lock(&p->mu);
	while (!p->locked && !p->closing && p->nidle == 0)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->locked || p->closing) {
		pthread_mutex_unlock(&p->mu);
		return tba_seterr(TBA_ERR_LOCKED, "the agent is locked: run 'tba unlock'");
	}
	s = p->idle[--p->nidle];
	pthread_mutex_unlock(&p->mu);

	r = tba_session_sign(s, prof, msg, len, mac, maclen);

	pthread_mutex_lock(&p->mu);
	p->idle[p->nidle++] = s;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (r == TBA_ERR_TOKEN_GONE)
		tba_error("token '%s' went away: %s", tba_token_label(p->tok), tba_errmsg(r));
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
	pthread_mutex_lock(&p->tokmu);
	if (pool_locked(p))
		r = tba_seterr(TBA_ERR_LOCKED, "the agent is locked");
	else
		r = tba_token_profiles(p->tok, v, n);
	pthread_mutex_unlock(&p->tokmu);
	return r;
}
