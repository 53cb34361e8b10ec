/* SPDX-License-Identifier: MIT */
/*
 * recover.h - the whole interface between pool.c and recover.c.
 *
 * pool.c owns the token, its sessions and every flag a borrower checks;
 * recover.c owns one maintenance thread that decides when to act (a
 * keepalive every few seconds; after a token loss, reconnect attempts with
 * a growing pause) and acts only through the pool_* calls below. The pool
 * only starts, wakes and stops the thread. Nothing else includes this.
 */
#ifndef TBA_RECOVER_H
#define TBA_RECOVER_H

#include <stddef.h>

#include "tba/err.h"

struct pool;
struct recover;

/* recover.c, called by the pool. */

/*
 * Starts the maintenance thread for p. NULL (a warning logged) when it
 * cannot start: the pool works without keepalive and reconnects.
 */
struct recover *recover_start(struct pool *p);
/* The token went away: the thread makes its first attempt now. */
void recover_wake(struct recover *rc);
/*
 * Stops the thread and frees rc: 1 when it is gone (or rc is NULL), 0 when
 * it hangs in the module (rc is then left to it; the process is exiting).
 */
int recover_stop(struct recover *rc);

/* pool.c, called by the maintenance thread only. */

/* 1 while the token is marked gone. */
int pool_is_broken(struct pool *p);
/*
 * Whether an attempt is under way: borrowers wait (briefly) for one, and
 * are refused at once in the pauses between attempts.
 */
void pool_set_recovering(struct pool *p, int on);
/*
 * One recovery attempt: takes the sessions back, re-initialises the module,
 * logs in again with the PIN held (once; a refused PIN locks the agent) and
 * reopens the sessions. TBA_OK clears the mark; *nsessions = sessions open.
 */
tba_err pool_rebuild(struct pool *p, size_t *nsessions);
/* Pings every idle session; a dead one marks the token gone (recover_wake). */
void pool_keepalive(struct pool *p);

#endif
