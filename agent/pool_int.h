/*
 * pool_int.h - what pool.c and recover.c share: the pool itself.
 *
 * pool.c owns the sessions, the login and lock/unlock; recover.c owns the
 * maintenance thread that heals a token that went away and keeps idle
 * sessions alive. Nothing outside those two files includes this.
 */
#ifndef TBA_POOL_INT_H
#define TBA_POOL_INT_H

#include <pthread.h>
#include <time.h>

#include "agent.h"
#include "tba/token.h"

struct pool {
	struct tba_token *tok;
	pthread_mutex_t tokmu;       /* login, logout, profile reads, recovery */
	pthread_mutex_t mu;          /* the fields below */
	pthread_cond_t cv;           /* sessions given back, state changes */
	struct tba_session *all[AGENT_SESSIONS_MAX];
	size_t nall;
	struct tba_session *idle[AGENT_SESSIONS_MAX];
	size_t nidle;
	int locked;
	int closing;
	char *pin;                   /* secure memory; NULL while locked */
	size_t pinlen, pincap;
	/* While locked by Lock: a salted slow hash of the PIN, so a guess never reaches the token. */
	unsigned char pinsalt[16];
	unsigned char pinhash[32];
	int have_hash;
	pthread_mutex_t unlock_mu;   /* one Unlock at a time (its delay included) */
	unsigned unlock_fails;       /* wrong Unlocks in a row: the next waits longer */
	/* Recovery and keepalive (recover.c). */
	int broken;                  /* the token went away: refuse until recovered */
	int recovering;              /* a recovery attempt is due or running */
	struct timespec since;       /* when the token went away (CLOCK_MONOTONIC) */
	unsigned long returns;       /* sessions given back so far (progress, for pool_sign) */
	unsigned nwant;              /* sessions to reopen after a recovery */
	pthread_cond_t maint_cv;     /* wakes the maintenance thread (CLOCK_MONOTONIC) */
	pthread_t maint;
	int maint_started;
	unsigned keepalive_sec;
};

/* pool.c */
/* Wipes and frees the stored PIN. */
void pool_forget_pin(struct pool *p);

/* recover.c */
/* Marks the token gone and wakes the maintenance thread (once per outage). */
void recover_broken(struct pool *p, tba_err why);
/* Starts the maintenance thread (keepalive, reconnect); the pool works without it. */
void recover_start(struct pool *p);
/* Stops it: 1 when it is gone (or never ran), 0 when it hangs in the module. */
int recover_stop(struct pool *p);

#endif
