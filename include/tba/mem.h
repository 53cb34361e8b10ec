/* SPDX-License-Identifier: MIT */
/*
 * mem.h - memory that holds secrets (OAuth secrets, the HMAC key, PINs).
 *
 * tba_secalloc() returns zeroed memory that is mlock()ed (best effort: a
 * failing mlock is not fatal, RLIMIT_MEMLOCK is small for users) and excluded
 * from core dumps (MADV_DONTDUMP). tba_secfree() wipes it before release.
 * Every secret in tba lives in such memory and is released with tba_secfree().
 */
#ifndef TBA_MEM_H
#define TBA_MEM_H

#include <stddef.h>

/* Overwrites n bytes so the compiler cannot elide it. NULL is a no-op. */
void tba_wipe(void *p, size_t n);

/* Zeroed, locked, undumpable allocation of n bytes (n > 0); NULL on failure. */
void *tba_secalloc(size_t n);

/* Wipes and frees memory from tba_secalloc(); n must be the size allocated. NULL is a no-op. */
void tba_secfree(void *p, size_t n);

/*
 * For processes that hold a secret or a PIN: no core dumps (RLIMIT_CORE 0)
 * and not dumpable/ptrace-able by other processes of the same user
 * (PR_SET_DUMPABLE 0), as ssh-agent does. Best effort; returns nothing.
 */
void tba_mem_harden(void);

/* Constant-time comparison; 0 when equal. */
int tba_memeq_ct(const void *a, const void *b, size_t n);

#endif
