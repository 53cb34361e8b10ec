/* SPDX-License-Identifier: MIT */
/*
 * profiles.c - the profiles the agent serves, read from the token at start,
 * every second (watch.c), on SIGHUP, when a request names a profile the
 * table lacks and when a profile's key is gone (dispatch.c): so an import,
 * `import --replace` or delete by another process is seen without a signal.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "tba/log.h"

/* Miss-triggered reloads: at most one per this many seconds. */
#define PROFILES_MISS_INTERVAL 1

struct profiles {
	struct pool *pool;
	pthread_rwlock_t lk; /* v, n */
	struct tba_profile *v;
	size_t n;
	pthread_mutex_t reload_mu; /* one reload at a time; last_miss */
	struct timespec last_miss;
};

tba_err
profiles_new(struct pool *pool, struct profiles **out)
{
	struct profiles *t;
	tba_err r;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return tba_nomem();
	t->pool = pool;
	pthread_rwlock_init(&t->lk, NULL);
	pthread_mutex_init(&t->reload_mu, NULL);
	if ((r = profiles_reload(t)) != TBA_OK) {
		profiles_free(t);
		return r;
	}
	*out = t;
	return TBA_OK;
}

void
profiles_free(struct profiles *t)
{
	if (t == NULL)
		return;
	free(t->v);
	pthread_rwlock_destroy(&t->lk);
	pthread_mutex_destroy(&t->reload_mu);
	free(t);
}

/* Re-reads the table; *changed (may be NULL) tells whether it differs from the one it replaced. */
static tba_err
profiles_reload_locked(struct profiles *t, int *changed)
{
	struct tba_profile *v = NULL, *old;
	size_t n = 0;
	int diff;
	tba_err r;

	if ((r = pool_profiles(t->pool, &v, &n)) != TBA_OK)
		return r;
	pthread_rwlock_wrlock(&t->lk);
	old = t->v;
	/* Both come zeroed from calloc and the same parser: equal profiles compare equal. */
	diff = n != t->n || (n > 0 && memcmp(v, old, n * sizeof(*v)) != 0);
	t->v = v;
	t->n = n;
	pthread_rwlock_unlock(&t->lk);
	free(old);
	if (changed != NULL)
		*changed = diff;
	tba_debug("%zu profile(s) loaded", n);
	return TBA_OK;
}

tba_err
profiles_check(struct profiles *t)
{
	int changed = 0;
	tba_err r;

	pthread_mutex_lock(&t->reload_mu);
	r = profiles_reload_locked(t, &changed);
	pthread_mutex_unlock(&t->reload_mu);
	if (r == TBA_OK && changed)
		tba_info("the profiles in the token changed: table re-read");
	return r;
}

tba_err
profiles_reload(struct profiles *t)
{
	tba_err r;

	pthread_mutex_lock(&t->reload_mu);
	r = profiles_reload_locked(t, NULL);
	pthread_mutex_unlock(&t->reload_mu);
	return r;
}

static int
profiles_lookup(struct profiles *t, const char *name, struct tba_profile *out)
{
	size_t i;
	int found = 0;

	pthread_rwlock_rdlock(&t->lk);
	for (i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].name, name) == 0) {
			*out = t->v[i];
			found = 1;
			break;
		}
	}
	pthread_rwlock_unlock(&t->lk);
	return found;
}

tba_err
profiles_find(struct profiles *t, const char *name, struct tba_profile *out)
{
	struct timespec now;
	int reload = 0;
	tba_err r;

	if (profiles_lookup(t, name, out))
		return TBA_OK;
	pthread_mutex_lock(&t->reload_mu);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (t->last_miss.tv_sec == 0 ||
	    now.tv_sec - t->last_miss.tv_sec >= PROFILES_MISS_INTERVAL) {
		t->last_miss = now;
		reload = 1;
		if ((r = profiles_reload_locked(t, NULL)) != TBA_OK)
			tba_debug("profile reload after a miss failed: %s", tba_errmsg(r));
	}
	pthread_mutex_unlock(&t->reload_mu);
	if (reload && profiles_lookup(t, name, out))
		return TBA_OK;
	return tba_seterr(TBA_ERR_NOT_FOUND,
	    "no profile '%s' in the agent's token "
	    "(tba list shows them; tba import adds one)",
	    name);
}

tba_err
profiles_all(struct profiles *t, struct tba_profile **v, size_t *n)
{
	tba_err r = TBA_OK;

	*v = NULL;
	*n = 0;
	pthread_rwlock_rdlock(&t->lk);
	if (t->n > 0) {
		if ((*v = malloc(t->n * sizeof(**v))) == NULL)
			r = tba_nomem();
		else {
			memcpy(*v, t->v, t->n * sizeof(**v));
			*n = t->n;
		}
	}
	pthread_rwlock_unlock(&t->lk);
	return r;
}
