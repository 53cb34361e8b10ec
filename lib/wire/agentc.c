/* SPDX-License-Identifier: MIT */
/* agentc.c - the client side of the agent protocol. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tba/agentc.h"
#include "tba/buf.h"
#include "tba/mem.h"
#include "tba/proto.h"

/* Long enough for a token that is slow to sign; short enough not to hang a script forever. */
#define AGENTC_TIMEOUT_SEC 120

/* How long tba_agentc_access_token keeps asking a busy agent (ms): one exchange's timeout and more. */
#define AGENTC_BUSY_MS 40000

#define START_HINT "start one with eval \"$(tba-agent)\""

struct tba_agentc {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *rbuf;  /* TBA_PROTO_MAX bytes */
	size_t rlen; /* bytes buffered (a reply's tail never precedes its request) */
	/* The last AuthorizationFailed's extra parameters (tba_agentc_authz_detail). */
	char authz_error[64];
	long authz_status;
	int authz_retry; /* the agent was busy with other exchanges: ask again */
};

/*
 * Before a byte (a PIN above all) goes out: the listener must be our own uid,
 * root, or the uid in $TBA_AGENT_UID (a system agent with its own user). A
 * socket in a shared folder may belong to someone else.
 */
static tba_err
agentc_check_peer(int fd, const char *path)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	const char *env;
	unsigned long v;
	char *end;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 || cl != sizeof(cred))
		return tba_seterr(TBA_ERR_AGENT, "cannot tell who listens on %s (%s); not using it",
		    path, strerror(errno));
	if (cred.uid == geteuid() || cred.uid == 0)
		return TBA_OK;
	/* A system agent running as its own user: trusted only when named explicitly. */
	if ((env = getenv("TBA_AGENT_UID")) != NULL && env[0] >= '0' && env[0] <= '9') {
		errno = 0;
		v = strtoul(env, &end, 10);
		if (errno == 0 && *end == '\0' && v == (unsigned long)cred.uid)
			return TBA_OK;
	}
	return tba_seterr(TBA_ERR_AGENT,
	    "the socket %s is served by uid %ld, not by you: "
	    "not sending anything there; check TBA_AGENT_SOCK (or set TBA_AGENT_UID=%ld "
	    "to trust that user's agent)",
	    path, (long)cred.uid, (long)cred.uid);
}

/*
 * Without TBA_AGENT_SOCK: the agent's own default sockets, in its order
 * ($XDG_RUNTIME_DIR/tba/agent.sock, where the systemd user socket listens,
 * then /tmp/tba-UID/agent.sock). The first that answers wins; when none
 * does, the error names the last one that exists, or says none does.
 */
static tba_err
agentc_connect_default(struct tba_agentc **out)
{
	char paths[2][sizeof(((struct sockaddr_un *)0)->sun_path)] = {"", ""};
	const char *rt = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	tba_err r = TBA_ERR_AGENT;
	int i, n, tried = 0;

	if (rt != NULL && rt[0] == '/') {
		n = snprintf(paths[0], sizeof(paths[0]), "%s/tba/agent.sock", rt);
		if (n < 0 || (size_t)n >= sizeof(paths[0]))
			paths[0][0] = '\0';
	}
	snprintf(paths[1], sizeof(paths[1]), "/tmp/tba-%ld/agent.sock", (long)getuid());
	for (i = 0; i < 2; i++) {
		if (paths[i][0] == '\0' || lstat(paths[i], &st) != 0 || !S_ISSOCK(st.st_mode))
			continue;
		tried = 1;
		r = tba_agentc_connect(paths[i], out);
		if (r == TBA_OK)
			break;
	}
	if (!tried)
		r = tba_seterr(TBA_ERR_AGENT,
		    "TBA_AGENT_SOCK is not set and no agent listens at "
		    "%s%s%s: " START_HINT,
		    paths[0], paths[0][0] != '\0' ? " or " : "", paths[1]);
	return r;
}

tba_err
tba_agentc_connect(const char *path, struct tba_agentc **out)
{
	struct tba_agentc *c = NULL;
	struct sockaddr_un sa;
	struct timeval tv = {AGENTC_TIMEOUT_SEC, 0};
	tba_err r;

	*out = NULL;
	if (path == NULL)
		path = getenv("TBA_AGENT_SOCK");
	if (path == NULL || path[0] == '\0')
		return agentc_connect_default(out);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return tba_seterr(TBA_ERR_AGENT, "agent socket path too long: %.80s...", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tba_nomem();
	c->fd = -1;
	if ((c->rbuf = malloc(TBA_PROTO_MAX)) == NULL) {
		r = tba_nomem();
		goto out;
	}
	memcpy(c->path, sa.sun_path, sizeof(c->path));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		r = tba_seterr(TBA_ERR_AGENT, "socket: %s", strerror(errno));
		goto out;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		r = tba_seterr(
		    TBA_ERR_AGENT, "no agent at %s (%s): " START_HINT, path, strerror(errno));
		goto out;
	}
	if ((r = agentc_check_peer(c->fd, path)) != TBA_OK)
		goto out;
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	*out = c;
	c = NULL;
	r = TBA_OK;
out:
	tba_agentc_close(c);
	return r;
}

void
tba_agentc_close(struct tba_agentc *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	/* Replies may have held an access token. */
	if (c->rbuf != NULL)
		tba_wipe(c->rbuf, TBA_PROTO_MAX);
	free(c->rbuf);
	free(c);
}

const char *
tba_agentc_path(const struct tba_agentc *c)
{
	return c->path;
}

static tba_err
agentc_closed(struct tba_agentc *c)
{
	return tba_seterr(TBA_ERR_AGENT,
	    "the agent at %s closed the connection "
	    "(is this user allowed to use it? see tba-agent --allow-uid)",
	    c->path);
}

static tba_err
agentc_write(struct tba_agentc *c, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
			return agentc_closed(c);
		if (w < 0)
			return tba_seterr(TBA_ERR_AGENT, "writing to the agent at %s: %s", c->path,
			    strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return TBA_OK;
}

/* Keeps http_status and error of an AuthorizationFailed reply (already checked well-formed). */
static void
agentc_authz_keep(struct tba_agentc *c, const char *msg, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(msg, len);
	const cJSON *p, *v;

	p = cJSON_GetObjectItemCaseSensitive(j, "parameters");
	v = cJSON_GetObjectItemCaseSensitive(p, "error");
	if (cJSON_IsString(v))
		snprintf(c->authz_error, sizeof(c->authz_error), "%s", v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(p, "http_status");
	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1000)
		c->authz_status = (long)v->valuedouble;
	c->authz_retry = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "retry"));
	cJSON_Delete(j);
}

/* Reads one reply and turns it into *reply or an error. */
static tba_err
agentc_read(struct tba_agentc *c, cJSON **reply)
{
	enum tba_proto_ename en;
	char *msg = NULL;
	size_t mlen = 0;
	ssize_t n;
	tba_err r;

	for (;;) {
		r = tba_proto_frame(c->rbuf, c->rlen, &mlen);
		if (r == TBA_OK)
			break;
		if (r == TBA_ERR_TOO_LARGE)
			return tba_seterr(TBA_ERR_PROTO, "the agent's reply is too large");
		n = recv(c->fd, c->rbuf + c->rlen, TBA_PROTO_MAX - c->rlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return tba_seterr(TBA_ERR_AGENT,
			    "the agent at %s did not answer within %d s", c->path,
			    AGENTC_TIMEOUT_SEC);
		if (n < 0 && errno != ECONNRESET)
			return tba_seterr(TBA_ERR_AGENT, "reading from the agent at %s: %s",
			    c->path, strerror(errno));
		if (n <= 0)
			return agentc_closed(c);
		c->rlen += (size_t)n;
	}
	r = tba_proto_parse_reply(c->rbuf, mlen, reply, &en, &msg);
	c->authz_error[0] = '\0';
	c->authz_status = 0;
	c->authz_retry = 0;
	if (r == TBA_ERR_REMOTE && en == TBA_PE_AUTHORIZATION_FAILED)
		agentc_authz_keep(c, c->rbuf, mlen);
	memmove(c->rbuf, c->rbuf + mlen + 1, c->rlen - mlen - 1);
	c->rlen -= mlen + 1;
	if (r == TBA_ERR_REMOTE) {
		r = tba_seterr(
		    en == TBA_PE__MAX ? TBA_ERR_REMOTE : tba_proto_err_for(en), "%s", msg);
	} else if (r == TBA_ERR_PROTO) {
		char why[256];

		snprintf(why, sizeof(why), "%s", tba_errmsg(r));
		r = tba_seterr(r, "malformed reply from the agent: %s", why);
	}
	free(msg);
	return r;
}

tba_err
tba_agentc_call(struct tba_agentc *c, const char *method, const cJSON *params, cJSON **reply)
{
	struct tba_buf req;
	tba_err r;

	*reply = NULL;
	tba_buf_init(&req, TBA_PROTO_MAX);
	if ((r = tba_proto_request(method, params, &req)) != TBA_OK)
		goto out;
	if ((r = agentc_write(c, req.data, req.len)) != TBA_OK)
		goto out;
	r = agentc_read(c, reply);
out:
	tba_buf_free(&req);
	return r;
}

tba_err
tba_agentc_unlock(struct tba_agentc *c, const char *pin, size_t pinlen)
{
	struct tba_buf req;
	cJSON *reply = NULL;
	tba_err r;

	tba_buf_init_secure(&req, TBA_PROTO_MAX);
	if ((r = tba_buf_puts(&req,
		 "{\"method\":\"" TBA_PROTO_PREFIX "Unlock\","
		 "\"parameters\":{\"pin\":")) != TBA_OK ||
	    (r = tba_proto_put_string(&req, pin, pinlen)) != TBA_OK ||
	    (r = tba_buf_puts(&req, "}}")) != TBA_OK || (r = tba_buf_put(&req, "", 1)) != TBA_OK)
		goto out;
	if ((r = agentc_write(c, req.data, req.len)) != TBA_OK)
		goto out;
	r = agentc_read(c, &reply);
out:
	tba_buf_free(&req); /* wipes */
	cJSON_Delete(reply);
	return r;
}

/* Adds "timestamp" (when not -1) and "nonce" (when not NULL) to a Sign or Passport request. */
static tba_err
agentc_time_nonce(cJSON *p, int64_t timestamp, const char *nonce)
{
	if (timestamp != -1 && (timestamp < 0 || timestamp > TBA_PROTO_INT_MAX))
		return tba_seterr(
		    TBA_ERR_INVALID, "timestamp %" PRId64 " is out of range", timestamp);
	if (timestamp != -1 && cJSON_AddNumberToObject(p, "timestamp", (double)timestamp) == NULL)
		return tba_nomem();
	if (nonce != NULL && cJSON_AddStringToObject(p, "nonce", nonce) == NULL)
		return tba_nomem();
	return TBA_OK;
}

/* The form as [[name, value], ...] under "form" (nothing when empty). */
static tba_err
agentc_form(cJSON *p, const struct tba_params *form)
{
	cJSON *arr, *pair;
	size_t i;

	if (form == NULL || form->n == 0)
		return TBA_OK;
	if ((arr = cJSON_AddArrayToObject(p, "form")) == NULL)
		return tba_nomem();
	for (i = 0; i < form->n; i++) {
		if ((pair = cJSON_CreateArray()) == NULL)
			return tba_nomem();
		cJSON_AddItemToArray(arr, pair);
		if (!cJSON_AddItemToArray(pair, cJSON_CreateString(form->v[i].name)) ||
		    !cJSON_AddItemToArray(pair, cJSON_CreateString(form->v[i].value)))
			return tba_nomem();
	}
	return TBA_OK;
}

tba_err
tba_agentc_sign(struct tba_agentc *c, const char *profile, const char *method, const char *url,
    const struct tba_params *form, int64_t timestamp, const char *nonce, cJSON **reply)
{
	cJSON *p = NULL;
	tba_err r;

	*reply = NULL;
	if ((p = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(p, "profile", profile) == NULL ||
	    cJSON_AddStringToObject(p, "method", method) == NULL ||
	    cJSON_AddStringToObject(p, "url", url) == NULL) {
		r = tba_nomem();
		goto out;
	}
	if ((r = agentc_form(p, form)) != TBA_OK ||
	    (r = agentc_time_nonce(p, timestamp, nonce)) != TBA_OK)
		goto out;
	r = tba_agentc_call(c, "Sign", p, reply);
out:
	cJSON_Delete(p);
	return r;
}

tba_err
tba_agentc_passport(
    struct tba_agentc *c, const char *profile, int64_t timestamp, const char *nonce, cJSON **reply)
{
	cJSON *p = NULL;
	tba_err r;

	*reply = NULL;
	if ((p = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(p, "profile", profile) == NULL) {
		r = tba_nomem();
		goto out;
	}
	if ((r = agentc_time_nonce(p, timestamp, nonce)) != TBA_OK)
		goto out;
	r = tba_agentc_call(c, "Passport", p, reply);
out:
	cJSON_Delete(p);
	return r;
}

tba_err
tba_agentc_access_token(struct tba_agentc *c, const char *profile, int renew, cJSON **reply)
{
	cJSON *p = NULL;
	long waited, pause = 20;
	tba_err r;

	*reply = NULL;
	if ((p = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(p, "profile", profile) == NULL ||
	    (renew && cJSON_AddTrueToObject(p, "renew") == NULL)) {
		r = tba_nomem();
		goto out;
	}
	/*
	 * "retry": the agent had too many requests waiting on exchanges (it
	 * keeps workers free for everyone else). Ask again, backing off, for as
	 * long as one exchange may take.
	 */
	for (waited = 0;; waited += pause, pause = pause * 2 > 1000 ? 1000 : pause * 2) {
		r = tba_agentc_call(c, "AccessToken", p, reply);
		if (r != TBA_ERR_NETWORK || !c->authz_retry || waited >= AGENTC_BUSY_MS)
			break;
		nanosleep(&(struct timespec){pause / 1000, (pause % 1000) * 1000000L}, NULL);
	}
out:
	cJSON_Delete(p);
	return r;
}

void
tba_agentc_authz_detail(const struct tba_agentc *c, long *http_status, const char **error)
{
	*http_status = c->authz_status;
	*error = c->authz_error;
}
