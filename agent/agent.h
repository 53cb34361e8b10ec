/*
 * agent.h - the parts of tba-agent and how they meet.
 *
 *   main.c      options, PIN, fork/daemonize, signals
 *   server.c    the listening socket, peer checks, one thread per connection
 *   dispatch.c  one handler per protocol method (proto.h does the parsing)
 *   pool.c      the token: login, lock/unlock, the pool of signing sessions
 *   recover.c   reconnecting a token that went away; keepalive (recover.h)
 *   profiles.c  the in-memory profile table, reloaded on SIGHUP and misses
 *   audit.c     one line per signature or refusal (stderr and a JSON file)
 */
#ifndef TBA_AGENT_H
#define TBA_AGENT_H

#include <stddef.h>
#include <sys/types.h>

#include "tba/buf.h"
#include "tba/err.h"
#include "tba/policy.h"
#include "tba/profile.h"

/*
 * One session per busy connection, up to 8: with fewer, threads queue for a
 * session (a futex sleep and wake each); doc/performance.md has the figures.
 */
#define AGENT_SESSIONS_DEFAULT 8
#define AGENT_SESSIONS_MAX 16      /* YubiHSM 2 allows 16 sessions */
#define AGENT_CONN_MAX 64          /* connections served at once */
#define AGENT_IDLE_SEC 60          /* a connection with no request for this long is closed */
#define AGENT_PARTIAL_SEC 30       /* a message must arrive completely within this */
#define AGENT_ALLOW_MAX 16         /* --allow-uid entries */

/* pool.c: the token and its signing sessions. */
struct pool;

/*
 * Opens the token, logs in once and opens nsessions signing sessions.
 * *pin (secure memory of pincap bytes) is taken over when not NULL; when
 * NULL the PIN comes from the URI (tba_token_get_pin). A wrong PIN is
 * TBA_ERR_PIN_INCORRECT and was tried exactly once.
 */
tba_err pool_open(const char *uri, char **pin, size_t pinlen, size_t pincap, unsigned nsessions,
    struct pool **out);
/* Waits (briefly) for borrowed sessions, logs out, wipes the PIN, closes. */
void pool_close(struct pool *p);
const char *pool_label(const struct pool *p);
/* HMAC of msg with prof's key in the token, on a borrowed session. TBA_ERR_LOCKED when locked. */
tba_err pool_sign(struct pool *p, const struct tba_profile *prof, const void *msg, size_t len,
    unsigned char *mac, size_t *maclen);
/* Logs out and forgets the PIN; Sign/Passport get TBA_ERR_LOCKED until pool_unlock. */
tba_err pool_lock(struct pool *p);
/* Logs in with pin (one attempt). Only a PIN that worked replaces the stored one. */
tba_err pool_unlock(struct pool *p, const char *pin, size_t pinlen);
int pool_locked(struct pool *p);
/* tba_token_profiles() under the token lock. */
tba_err pool_profiles(struct pool *p, struct tba_profile **v, size_t *n);

/* profiles.c: the profile table. */
struct profiles;

tba_err profiles_new(struct pool *pool, struct profiles **out);
void profiles_free(struct profiles *t);
/* Re-reads the table from the token (SIGHUP). On failure the old table stays. */
tba_err profiles_reload(struct profiles *t);
/* Copies the profile called name; a miss re-reads the token (at most once a second). */
tba_err profiles_find(struct profiles *t, const char *name, struct tba_profile *out);
/* A copy of the whole table (free()). */
tba_err profiles_all(struct profiles *t, struct tba_profile **v, size_t *n);

/* audit.c */
struct audit_rec {
	uid_t uid;
	pid_t pid;
	const char *op;        /* "Sign", "Passport", "Lock", "Unlock", "connect" */
	const char *profile;   /* NULL: "-" */
	const char *method;
	const char *host;
	const char *path;      /* the path only: a query may hold data */
	const char *result;    /* "ok" or an error name */
	const char *detail;    /* NULL or a short reason (refusals) */
};

/* Opens the JSON-lines file (O_APPEND, 0600); path NULL: stderr only. */
tba_err audit_open(const char *path);
void audit_log(const struct audit_rec *a);
void audit_close(void);

/* dispatch.c */
struct agent_ctx {
	struct pool *pool;
	struct profiles *profiles;
	long max_skew;
};

struct peer {
	uid_t uid;
	pid_t pid;
};

/*
 * Handles one request msg[0..len) from peer and appends exactly one reply
 * or error message (NUL included) to out. Never fails: an internal error
 * becomes an error reply.
 */
void dispatch(struct agent_ctx *ctx, const struct peer *peer, const char *msg, size_t len,
    struct tba_buf *out);

/* server.c */
struct server_opts {
	const uid_t *allow;     /* extra uids besides our own and root */
	size_t nallow;
};

/*
 * Binds path (stale socket replaced, live agent refused) under umask 0177,
 * or takes the socket systemd passed (LISTEN_FDS). *activated tells which.
 */
tba_err server_listen(const char *path, int *fd, int *activated);
/* Checks (and for the default location creates) the socket's folder. */
tba_err server_prepare_dir(const char *path, int create);
/*
 * Serves until SIGTERM or SIGINT arrives on sigfd (a signalfd for
 * SIGTERM, SIGINT, SIGHUP); SIGHUP reloads the profiles.
 */
tba_err server_run(struct agent_ctx *ctx, const struct server_opts *o, int lfd, int sigfd);

#endif
