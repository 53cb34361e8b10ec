/* SPDX-License-Identifier: MIT */
/*
 * pinguard.c - the locked agent's PIN check: a salted PBKDF2 hash compared
 * in constant time, and ssh-agent's growing delay after wrong PINs, one
 * Unlock at a time so that the delay cannot be sidestepped in parallel (the
 * others are turned away at once and other requests are served meanwhile).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "pinguard.h"
#include "tba/mem.h"

/* PBKDF2-HMAC-SHA256 rounds: tens of milliseconds a check, so guessing via Unlock is slow. */
#define PINGUARD_ITER 150000
#define PINGUARD_DELAY_MS 200
#define PINGUARD_DELAY_MAX_MS 10000

void
pinguard_init(struct pinguard *g)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->mu, NULL);
}

void
pinguard_destroy(struct pinguard *g)
{
	pinguard_clear(g);
	pthread_mutex_destroy(&g->mu);
}

static tba_err
pinguard_hash(const char *pin, size_t pinlen, const unsigned char *salt, unsigned char *out)
{
	if (PKCS5_PBKDF2_HMAC(pin, (int)pinlen, salt, 16, PINGUARD_ITER, EVP_sha256(), 32, out) !=
	    1)
		return tba_seterr(TBA_ERR_CRYPTO, "cannot hash the PIN");
	return TBA_OK;
}

tba_err
pinguard_set(struct pinguard *g, const char *pin, size_t pinlen)
{
	tba_err r;

	pinguard_clear(g);
	if (RAND_bytes(g->salt, sizeof(g->salt)) != 1)
		return tba_seterr(TBA_ERR_CRYPTO, "no random bytes for the PIN's salt");
	if ((r = pinguard_hash(pin, pinlen, g->salt, g->hash)) == TBA_OK)
		g->have = 1;
	return r;
}

void
pinguard_clear(struct pinguard *g)
{
	tba_wipe(g->hash, sizeof(g->hash));
	g->have = 0;
}

tba_err
pinguard_check(struct pinguard *g, const char *pin, size_t pinlen)
{
	unsigned char h[32];
	tba_err r;

	if (!g->have)
		return TBA_OK;
	if ((r = pinguard_hash(pin, pinlen, g->salt, h)) != TBA_OK)
		return r;
	r = CRYPTO_memcmp(h, g->hash, sizeof(h)) == 0 ? TBA_OK : TBA_ERR_PIN_INCORRECT;
	tba_wipe(h, sizeof(h));
	if (r != TBA_OK)
		return tba_seterr(r,
		    "incorrect PIN; the agent stays locked (checked by the agent: "
		    "the token's retry counter was not touched)");
	return TBA_OK;
}

int
pinguard_enter(struct pinguard *g)
{
	return pthread_mutex_trylock(&g->mu) == 0;
}

void
pinguard_leave(struct pinguard *g, int wrong)
{
	unsigned long ms;
	struct timespec ts;

	if (!wrong)
		g->fails = 0;
	else {
		if (g->fails < 1000)
			g->fails++;
		ms = (unsigned long)PINGUARD_DELAY_MS * g->fails;
		if (ms > PINGUARD_DELAY_MAX_MS)
			ms = PINGUARD_DELAY_MAX_MS;
		ts.tv_sec = (time_t)(ms / 1000);
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			continue;
	}
	pthread_mutex_unlock(&g->mu);
}
