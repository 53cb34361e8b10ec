/* SPDX-License-Identifier: MIT */
/*
 * agentc.h - the client side of the agent protocol (doc/PROTOCOL.md).
 *
 * Used by the CLI, the benchmark and tests. Connects to a Unix socket, sends
 * NUL-terminated JSON requests, reads replies (at most TBA_PROTO_MAX bytes).
 * An error reply becomes a tba_err (io.tba.Agent.PolicyDenied ->
 * TBA_ERR_POLICY, ProfileNotFound -> TBA_ERR_NOT_FOUND, Locked ->
 * TBA_ERR_LOCKED, PinIncorrect -> TBA_ERR_PIN_INCORRECT, TokenError ->
 * TBA_ERR_TOKEN, AuditFailed -> TBA_ERR_IO, AuthorizationFailed -> TBA_ERR_NETWORK,
 * others -> TBA_ERR_REMOTE) with the agent's message as the
 * thread's detail (tba_errmsg). An unreachable agent is TBA_ERR_AGENT with a
 * message that says to start one (eval "$(tba-agent)") or set TBA_AGENT_SOCK.
 */
#ifndef TBA_AGENTC_H
#define TBA_AGENTC_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "tba/err.h"
#include "tba/url.h"

struct tba_agentc;

/*
 * path NULL: $TBA_AGENT_SOCK; when that is unset or empty, the agent's
 * default sockets, $XDG_RUNTIME_DIR/tba/agent.sock then
 * /tmp/tba-UID/agent.sock (the first that answers). No agent: TBA_ERR_AGENT.
 * Before anything is sent, the listener's uid (SO_PEERCRED) must be ours,
 * root or $TBA_AGENT_UID; otherwise TBA_ERR_AGENT with one line saying whose
 * socket it is.
 */
tba_err tba_agentc_connect(const char *path, struct tba_agentc **out);
void tba_agentc_close(struct tba_agentc *c);

/*
 * Sends {"method": method, "parameters": params} (params borrowed; NULL
 * sends {}) and waits for the reply. On success *reply is the reply's
 * "parameters" object (caller cJSON_Delete()s; never NULL).
 */
tba_err tba_agentc_call(
    struct tba_agentc *c, const char *method, const cJSON *params, cJSON **reply);

/*
 * io.tba.Agent.Sign. form may be NULL; timestamp (Unix seconds, 0 to
 * TBA_PROTO_INT_MAX) may be -1 and nonce NULL to let the agent choose.
 * *reply as above: authorization, signature, nonce, timestamp (a number),
 * base_string.
 */
tba_err tba_agentc_sign(struct tba_agentc *c, const char *profile, const char *method,
    const char *url, const struct tba_params *form, int64_t timestamp, const char *nonce,
    cJSON **reply);

/*
 * io.tba.Agent.Passport, timestamp and nonce as for tba_agentc_sign. *reply:
 * account, consumer_key, token, nonce, timestamp (a number), signature,
 * algorithm.
 */
tba_err tba_agentc_passport(
    struct tba_agentc *c, const char *profile, int64_t timestamp, const char *nonce, cJSON **reply);

/*
 * io.tba.Agent.Unlock with pin[0..pinlen). The request is built in a buffer
 * that is wiped afterwards; the PIN never passes through cJSON's heap.
 */
tba_err tba_agentc_unlock(struct tba_agentc *c, const char *pin, size_t pinlen);

/*
 * io.tba.Agent.AccessToken for an M2M profile; renew asks for a fresh token.
 * *reply: access_token, token_type, expires_at, scope (the access token is a
 * credential: wipe it from the tree before cJSON_Delete when it matters).
 * An AuthorizationFailed reply is TBA_ERR_NETWORK with the agent's message;
 * tba_agentc_authz_detail() then gives its http_status (0: no HTTP answer)
 * and NetSuite's error code ("" when none) until the next call. An agent
 * busy with other exchanges (error parameter "retry": true) is asked again,
 * backing off, for up to 40 s.
 */
tba_err tba_agentc_access_token(
    struct tba_agentc *c, const char *profile, int renew, cJSON **reply);
void tba_agentc_authz_detail(const struct tba_agentc *c, long *http_status, const char **error);

/* The socket path this client connected to (for messages). */
const char *tba_agentc_path(const struct tba_agentc *c);

#endif
