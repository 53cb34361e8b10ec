/* SPDX-License-Identifier: MIT */
/*
 * pinguard.h - what a locked agent knows about its PIN: a salted slow hash,
 * so Unlock can turn a wrong PIN away without the token (whose retry counter
 * a guess would spend), and the growing delay after each wrong one.
 * pool.c owns one and calls it under its token lock.
 */
#ifndef TBA_AGENT_PINGUARD_H
#define TBA_AGENT_PINGUARD_H

#include <pthread.h>
#include <stddef.h>

#include "tba/err.h"

struct pinguard {
	unsigned char salt[16];
	unsigned char hash[32];
	int have;           /* hash is set (the agent was locked by Lock) */
	pthread_mutex_t mu; /* one Unlock at a time, its delay included */
	unsigned fails;     /* wrong PINs in a row */
};

void pinguard_init(struct pinguard *g);
/* Wipes the hash and destroys the lock. */
void pinguard_destroy(struct pinguard *g);
/* Keeps a PBKDF2-HMAC-SHA256 hash of pin under a fresh random salt (~50 ms). */
tba_err pinguard_set(struct pinguard *g, const char *pin, size_t pinlen);
/* Forgets the hash (the PIN was accepted, or the token changed its mind). */
void pinguard_clear(struct pinguard *g);
/*
 * TBA_OK when pin matches the hash, or when there is no hash (only the token
 * can tell then); TBA_ERR_PIN_INCORRECT (message set) when it does not.
 */
tba_err pinguard_check(struct pinguard *g, const char *pin, size_t pinlen);
/* 1 when this thread now holds the Unlock slot; 0 when another Unlock holds it. */
int pinguard_enter(struct pinguard *g);
/*
 * Leaves the slot. After a wrong PIN (wrong != 0) first waits 200 ms more
 * than after the one before (at most 10 s), so guesses come slower and
 * slower; a right one resets the count.
 */
void pinguard_leave(struct pinguard *g, int wrong);

#endif
