/* SPDX-License-Identifier: MIT */
/* mem.c - locked, wiped memory for secrets. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "tba/mem.h"

void
tba_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

/*
 * Secrets get their own pages so that mlock and MADV_DONTDUMP cover exactly
 * them and nothing else shares the page.
 */
static size_t
mem_round(size_t n)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t page = pg > 0 ? (size_t)pg : 4096;

	if (n > SIZE_MAX - page)
		return 0;
	return (n + page - 1) / page * page;
}

void *
tba_secalloc(size_t n)
{
	size_t len = mem_round(n);
	void *p;

	if (n == 0 || len == 0)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)mlock(p, len);
	(void)madvise(p, len, MADV_DONTDUMP);
	return p;
}

void
tba_secfree(void *p, size_t n)
{
	size_t len = mem_round(n);

	if (p == NULL || len == 0)
		return;
	OPENSSL_cleanse(p, len);
	(void)munlock(p, len);
	munmap(p, len);
}

int
tba_memeq_ct(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n);
}

void
tba_mem_harden(void)
{
	struct rlimit rl = {0, 0};

	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
