/* SPDX-License-Identifier: MIT */
/*
 * err.h - the one error space of tba.
 *
 * Every fallible function returns a tba_err. TBA_OK is 0, so `if (r != TBA_OK)`
 * reads naturally. A failure sets its code and a one-line detail for the user
 * in one act, `return tba_seterr(TBA_ERR_X, "what went wrong; what to do")`
 * (tba_nomem() for an allocation), never a bare `return TBA_ERR_X` that could
 * leave an older detail behind. The detail is thread-local (the agent's
 * worker threads never see each other's messages) and remembers the code it
 * was set with: tba_errmsg(code) shows it only for that code, so a detail
 * can never be shown for another failure. Each entry point the programs call
 * (one request in the agent, one command in the CLI) starts with
 * tba_clearerr(). The detail must never contain a secret, a PIN or a
 * signature.
 */
#ifndef TBA_ERR_H
#define TBA_ERR_H

typedef enum {
	TBA_OK = 0,
	TBA_ERR_NOMEM,         /* allocation failed */
	TBA_ERR_INVALID,       /* malformed input from the user or a peer */
	TBA_ERR_TOO_LARGE,     /* input past a fixed bound */
	TBA_ERR_NOT_FOUND,     /* no such profile or object */
	TBA_ERR_EXISTS,        /* profile already there (import without --replace) */
	TBA_ERR_POLICY,        /* request refused by a profile's policy */
	TBA_ERR_LOCKED,        /* agent locked, or token not logged in */
	TBA_ERR_TOKEN,         /* PKCS#11 call failed */
	TBA_ERR_TOKEN_GONE,    /* device removed, session lost, RPC dead: retry later */
	TBA_ERR_PIN_INCORRECT, /* CKR_PIN_INCORRECT: never retried */
	TBA_ERR_PIN_LOCKED,    /* CKR_PIN_LOCKED */
	TBA_ERR_MODULE,        /* PKCS#11 module cannot be loaded */
	TBA_ERR_NO_TOKEN,      /* no token matches the URI */
	TBA_ERR_VERIFY,        /* the token's HMAC differs from the software HMAC */
	TBA_ERR_IO,            /* read/write/socket failure */
	TBA_ERR_AGENT,         /* the agent cannot be reached */
	TBA_ERR_PROTO,         /* malformed protocol message */
	TBA_ERR_REMOTE,        /* the agent answered with an error (detail holds it) */
	TBA_ERR_NETWORK,       /* HTTP transfer failed (DNS, TLS, connect) */
	TBA_ERR_CRYPTO,        /* OpenSSL failure */
	TBA_ERR_USAGE,         /* bad command line */
	TBA_ERR__MAX
} tba_err;

/* Static English text for a code; never NULL. */
const char *tba_strerror(tba_err code);

/*
 * Records code and a detail message for the calling thread and returns
 * `code`, so a failure reads `return tba_seterr(TBA_ERR_INVALID, "bad account
 * %s", a);`. An argument may be the thread's own detail (tba_errmsg()): the
 * text is formatted aside before it replaces the old one. The detail is cut
 * at 511 bytes.
 */
tba_err tba_seterr(tba_err code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* tba_seterr(TBA_ERR_NOMEM, ...) for a failed allocation; returns TBA_ERR_NOMEM. */
tba_err tba_nomem(void);

/*
 * The calling thread's detail when it was set for `code`, otherwise
 * tba_strerror(code). Never NULL; valid until the thread's next tba_seterr.
 */
const char *tba_errmsg(tba_err code);

/* Forgets the calling thread's detail (at each entry point the programs call). */
void tba_clearerr(void);

#endif
