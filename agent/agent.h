/* SPDX-License-Identifier: MIT */
/*
 * agent.h - the parts of tba-agent and how they meet.
 *
 *   main.c      options, PIN, fork/daemonize, signals
 *   server.c    peer checks, the event loop and its workers (server_listen.c: the socket)
 *   conn.c      one connection's buffers and I/O (conn.h)
 *   dispatch.c  one handler per protocol method (proto.h does the parsing)
 *   pool.c      the token: login, lock/unlock, the pool of signing sessions
 *   pinguard.c  a locked agent's PIN hash and Unlock's growing delay (pinguard.h)
 *   recover.c   reconnecting a token that went away; keepalive (recover.h)
 *   profiles.c  the in-memory profile table, re-read every second, on SIGHUP and misses
 *   watch.c     the once-a-second thread: profile changes, --lock-after
 *   audit.c     one line per signature or refusal (stderr and a JSON file)
 *   m2m.c       OAuth 2.0 access tokens for M2M profiles: JWT, exchange, cache
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
#define AGENT_SESSIONS_MAX 16   /* YubiHSM 2 allows 16 sessions */
#define AGENT_CONN_MAX 4096     /* connections open at once (fewer if RLIMIT_NOFILE says so) */
#define AGENT_CONN_PER_PEER 128 /* of them from one process: no peer starves the others */
#define AGENT_WORKERS_EXTRA 4   /* worker threads beyond one per signing session */
#define AGENT_IDLE_SEC 60       /* a connection with no request for this long is closed */
#define AGENT_PARTIAL_SEC 30    /* a message must arrive completely within this */
#define AGENT_ALLOW_MAX 16      /* --allow-uid entries */
#define AGENT_AHEAD_MAX 5       /* seconds a client timestamp may be ahead of our clock */
#define AGENT_SKEW_MAX 3600     /* largest --max-skew */
#define AGENT_LOCK_AFTER_MAX 31536000L /* largest --lock-after: a year */

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
/*
 * The JWS signature (ES*: r||s, PS*: PSS) of msg with the M2M profile prof's
 * private key, on a borrowed session; sig holds TBA_JWS_SIG_MAX bytes.
 * pool_sign refuses M2M profiles and this refuses the others (TBA_ERR_POLICY).
 */
tba_err pool_sign_jws(struct pool *p, const struct tba_profile *prof, const void *msg, size_t len,
    unsigned char *sig, size_t *siglen);
/*
 * Logs out and forgets the PIN, keeping a salted PBKDF2 hash of it; Sign and
 * Passport get TBA_ERR_LOCKED until pool_unlock.
 */
tba_err pool_lock(struct pool *p);
/*
 * Unlocks with pin: checked first against the hash kept at Lock (a wrong
 * PIN never reaches the token), then one C_Login. A wrong PIN waits longer
 * each time in a row; an Unlock while another is checked is TBA_ERR_LOCKED
 * at once; an agent that is not locked is TBA_ERR_INVALID.
 */
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
/* profiles_reload, logging when the table changed (the watch thread, every second). */
tba_err profiles_check(struct profiles *t);
/* Copies the profile called name; a miss re-reads the token (at most once a second). */
tba_err profiles_find(struct profiles *t, const char *name, struct tba_profile *out);
/* A copy of the whole table (free()). */
tba_err profiles_all(struct profiles *t, struct tba_profile **v, size_t *n);

/* audit.c */
struct audit_rec {
	uid_t uid;
	pid_t pid;
	const char *op;      /* "Sign", "Passport", "Lock", "Unlock", "connect" */
	const char *profile; /* NULL: "-" */
	const char *method;
	const char *host;
	const char *path;   /* the path only: a query may hold data */
	const char *result; /* "ok" or an error name */
	const char *detail; /* NULL or a short reason (refusals) */
};

/* Opens the JSON-lines file (O_APPEND, 0600); path NULL: stderr only. */
tba_err audit_open(const char *path);
/*
 * Writes the text line, then the JSON line. TBA_ERR_IO (logged) when either
 * could not be written whole: the caller must not send what it audits.
 */
tba_err audit_log(const struct audit_rec *a);
void audit_close(void);

/* dispatch.c */
struct agent_ctx {
	struct pool *pool;
	struct profiles *profiles;
	long max_skew;
	struct m2m *m2m; /* NULL: AccessToken is refused */
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

/* The last request but Ping is now (--lock-after counts from here). */
void dispatch_touch(void);
/* Whole seconds since the last request but Ping (rounded down). */
long dispatch_idle_sec(void);

/* watch.c: profile changes in the token, --lock-after. */
struct watch;

/*
 * Starts a thread that every second re-reads the profiles (profiles_check)
 * and, with lock_after_sec > 0, locks the pool after that long without a
 * request.
 */
tba_err watch_start(struct agent_ctx *ctx, long lock_after_sec, struct watch **out);
/* Stops it (a thread stuck in a hung token call is left behind). NULL is a no-op. */
void watch_stop(struct watch *w);

/* m2m.c: OAuth 2.0 client credentials for M2M profiles. */
struct m2m;

#define M2M_CONNECT_TO_MAX 16
#define M2M_EARLY_SEC 60 /* a cached token is handed out until this long before expiry */
#define M2M_CONNECT_SEC 10
#define M2M_TOTAL_SEC 30
#define M2M_WARN_DAYS 30 /* certificate expiry warning */

struct m2m_opts {
	const char *cacert;                         /* NULL: the system's CAs */
	const char *connect_to[M2M_CONNECT_TO_MAX]; /* curl's HOST1:PORT1:HOST2:PORT2 */
	size_t nconnect_to;
	unsigned max_blocked; /* requests that may wait on exchanges at once; 0: no limit */
};

/* A token handed out: access_token is secure memory (m2m_token_free wipes it). */
struct m2m_token {
	char *access_token;
	size_t cap;
	int64_t expires_at;
	char scope[256];
};

/* Why an exchange failed, for the AuthorizationFailed reply. */
struct m2m_fail {
	long http_status; /* 0: no HTTP answer */
	char error[64];   /* NetSuite's error code, "" when none */
	int retry;        /* refused only because too many requests wait: try again */
	int audit_failed; /* the token was not handed out: its audit line could not be written */
};

/*
 * o is copied (its strings must outlive the m2m). profiles (may be NULL) is
 * re-read when a profile's key went away under a rotation.
 */
tba_err m2m_new(
    struct pool *pool, struct profiles *profiles, const struct m2m_opts *o, struct m2m **out);
/* Wipes every cached token and frees. NULL is a no-op. */
void m2m_free(struct m2m *m);
/* Lock: wipes every cached token; an exchange under way keeps nothing it gets. */
void m2m_forget(struct m2m *m);
/*
 * An access token for the M2M profile p: from the cache until M2M_EARLY_SEC
 * before it expires, else from one exchange shared by every concurrent
 * caller for p (renew forces a new one). Audits the exchange and the token
 * handed out for peer. TBA_ERR_NETWORK when the endpoint refused or could
 * not be reached (*fail says how); TBA_ERR_POLICY for a profile of another
 * kind; TBA_ERR_LOCKED when locked. Past o->max_blocked requests waiting
 * on exchanges, TBA_ERR_NETWORK at once with fail->retry set.
 */
tba_err m2m_access_token(struct m2m *m, const struct peer *peer, const struct tba_profile *p,
    int renew, struct m2m_token *out, struct m2m_fail *fail);
void m2m_token_free(struct m2m_token *t);

/* server.c */
struct server_opts {
	const uid_t *allow; /* extra uids besides our own and root */
	size_t nallow;
	unsigned workers; /* threads that answer requests */
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
