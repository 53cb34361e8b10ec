/* SPDX-License-Identifier: MIT */
/*
 * proto.h - the agent's wire codec (doc/PROTOCOL.md). Pure code: a function of
 * bytes only, so the fuzzers link it directly.
 *
 * Framing. A message is one JSON object followed by a NUL byte. A message,
 * its NUL included, is at most TBA_PROTO_MAX bytes: a peer that has sent
 * TBA_PROTO_MAX bytes without a NUL gets MessageTooLarge and is closed.
 *
 *   request: {"method": "io.tba.Agent.Sign", "parameters": {...}}
 *   reply:   {"parameters": {...}}
 *   error:   {"error": "io.tba.Agent.PolicyDenied", "parameters": {"message": "..."}}
 *
 * Strictness. Before cJSON sees a message it is scanned: it must be valid
 * UTF-8, hold no raw control characters and no \u0000 escape inside strings
 * (cJSON would cut the string there, so "a\u0000b" would sign as "a"), and
 * nest at most TBA_PROTO_DEPTH deep (so 100000 '[' costs a scan, not a
 * recursion). Then the request must be an object with exactly the keys
 * "method" (a string) and optionally "parameters" (an object), no duplicate
 * keys anywhere that matters, and each method's parameters must have exactly
 * the documented names and JSON types:
 *
 *   Ping, List, Lock  -                     (parameters absent or {})
 *   Sign      profile string, method string, url string,
 *             form [[string, string], ...] (optional),
 *             timestamp integer (optional), nonce string (optional)
 *   Passport  profile string, timestamp integer (optional), nonce string (optional)
 *   Unlock    pin string
 *   AccessToken profile string, renew bool (optional)
 *
 * An integer is a JSON number with no fraction, 0 <= n < 2^53. Anything
 * else is InvalidRequest; an unknown method is MethodNotFound. Semantic
 * checks (nonce alphabet, clock skew, policy) are the agent's, not the codec's.
 */
#ifndef TBA_PROTO_H
#define TBA_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "tba/buf.h"
#include "tba/err.h"
#include "tba/url.h"

#define TBA_PROTO_MAX 65536 /* bytes per message, NUL included */
#define TBA_PROTO_DEPTH 8   /* deepest nesting a message may have */
#define TBA_PROTO_PREFIX "io.tba.Agent."
#define TBA_PROTO_STR_MAX 256                /* profile, method, nonce: longest accepted */
#define TBA_PROTO_INT_MAX 9007199254740991LL /* 2^53 - 1 */

enum tba_proto_method {
	TBA_PM_PING = 0,
	TBA_PM_LIST,
	TBA_PM_SIGN,
	TBA_PM_PASSPORT,
	TBA_PM_LOCK,
	TBA_PM_UNLOCK,
	TBA_PM_ACCESS_TOKEN,
	TBA_PM__MAX
};

/* The wire error names, without the io.tba.Agent. prefix. */
enum tba_proto_ename {
	TBA_PE_INVALID_REQUEST = 0,
	TBA_PE_MESSAGE_TOO_LARGE,
	TBA_PE_METHOD_NOT_FOUND,
	TBA_PE_PROFILE_NOT_FOUND,
	TBA_PE_POLICY_DENIED,
	TBA_PE_LOCKED,
	TBA_PE_TOKEN_ERROR,
	TBA_PE_PIN_INCORRECT,
	TBA_PE_AUDIT_FAILED,         /* the audit line could not be written: nothing sent */
	TBA_PE_AUTHORIZATION_FAILED, /* the M2M token endpoint refused or failed */
	TBA_PE__MAX
};

/* A parsed request. Strings point into json (owned by the struct). */
struct tba_proto_req {
	enum tba_proto_method method;
	const char *profile;     /* Sign, Passport */
	const char *http_method; /* Sign */
	const char *url;         /* Sign */
	struct tba_params form;  /* Sign: the form pairs in order (n == 0 when absent) */
	int has_form;
	int has_timestamp;
	int64_t timestamp;
	const char *nonce; /* NULL when absent */
	char *pin;         /* Unlock; wiped by tba_proto_req_free() */
	int renew;         /* AccessToken: true asks for a fresh token */
	cJSON *json;
};

/* "Sign" etc. (no prefix); "?" for an out-of-range value. */
const char *tba_proto_method_name(enum tba_proto_method m);
/* "io.tba.Agent.PolicyDenied" etc.; never NULL. */
const char *tba_proto_ename_str(enum tba_proto_ename e);
/* Parses a full error name; TBA_ERR_NOT_FOUND for names not in the table. */
tba_err tba_proto_ename_parse(const char *s, enum tba_proto_ename *out);
/*
 * The wire error for a library error: TBA_ERR_INVALID/PROTO/USAGE ->
 * InvalidRequest, TOO_LARGE -> MessageTooLarge, NOT_FOUND -> ProfileNotFound,
 * POLICY -> PolicyDenied, LOCKED -> Locked, PIN_INCORRECT -> PinIncorrect,
 * NETWORK -> AuthorizationFailed, everything else -> TokenError.
 */
enum tba_proto_ename tba_proto_ename_for(tba_err r);
/* The client's view of a wire error (agentc.h lists the mapping). */
tba_err tba_proto_err_for(enum tba_proto_ename e);

/*
 * Looks for the end of the first message in buf[0..len).
 * TBA_OK: *msglen = bytes before the NUL (the message is buf[0..*msglen],
 *         buf[*msglen] == '\0'; consume *msglen + 1 bytes).
 * TBA_ERR_NOT_FOUND: no NUL yet and fewer than TBA_PROTO_MAX bytes: read more.
 * TBA_ERR_TOO_LARGE: TBA_PROTO_MAX bytes without a NUL.
 */
tba_err tba_proto_frame(const void *buf, size_t len, size_t *msglen);

/*
 * Parses the request msg[0..len) (without its NUL; msg[len] need not be
 * readable). On failure *ename says which error to send and the thread's
 * detail (tba_errmsg) says why; *out is left empty (safe to free).
 */
tba_err tba_proto_parse_request(
    const char *msg, size_t len, struct tba_proto_req *out, enum tba_proto_ename *ename);
/*
 * The one JSON number -> int64_t conversion of the protocol (a request's
 * timestamp, a reply's): an integer from 0 to TBA_PROTO_INT_MAX, else
 * TBA_ERR_PROTO naming `name`.
 */
tba_err tba_proto_int(const cJSON *v, const char *name, int64_t *out);
/* Frees the request, wiping the PIN. Safe on a zeroed or failed struct. */
void tba_proto_req_free(struct tba_proto_req *r);

/*
 * Appends {"parameters": params} and the NUL (the NUL is counted in
 * out->len). params NULL sends {}. params is borrowed.
 */
tba_err tba_proto_reply(const cJSON *params, struct tba_buf *out);
/*
 * Appends an error message and the NUL. message may be NULL; bytes outside
 * printable ASCII are replaced by '?' so a message built from peer input
 * is always valid JSON text.
 */
tba_err tba_proto_error(enum tba_proto_ename e, const char *message, struct tba_buf *out);
/*
 * Like tba_proto_error, with more parameters beside "message" (extra's
 * members are copied; extra borrowed, may be NULL): AuthorizationFailed
 * adds http_status and NetSuite's error code.
 */
tba_err tba_proto_error_params(
    enum tba_proto_ename e, const char *message, const cJSON *extra, struct tba_buf *out);
/*
 * Appends {"method": "io.tba.Agent.<method>", "parameters": params} and the
 * NUL. method is the short name ("Sign"); params NULL sends {}.
 */
tba_err tba_proto_request(const char *method, const cJSON *params, struct tba_buf *out);
/* Appends s[0..n) as a JSON string literal (quotes included). */
tba_err tba_proto_put_string(struct tba_buf *out, const char *s, size_t n);

/*
 * Parses a reply msg[0..len) (without its NUL).
 * TBA_OK: *params is the "parameters" object (caller cJSON_Delete()s).
 * TBA_ERR_REMOTE: an error reply; *ename is its name (TBA_PE__MAX for a
 *   name this client does not know) and *message a malloc'ed copy of
 *   parameters.message ("" when absent; free()).
 * TBA_ERR_PROTO: not a well-formed reply.
 */
tba_err tba_proto_parse_reply(
    const char *msg, size_t len, cJSON **params, enum tba_proto_ename *ename, char **message);

#endif
