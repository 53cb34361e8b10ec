/* SPDX-License-Identifier: MIT */
/*
 * dispatch.c - one handler per protocol method.
 *
 * The agent signs only what it built and checked itself: the base string
 * comes from the parsed URL and form, after the profile's policy passed,
 * with a nonce and timestamp that are the agent's own or checked here.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "agent.h"
#include "tba/mem.h"
#include "tba/oauth.h"
#include "tba/proto.h"
#include "tba/url.h"

#define BASE_MAX (4 * TBA_PROTO_MAX) /* a base string this long cannot fit a reply anyway */

/*
 * When the last request other than Ping came (CLOCK_MONOTONIC milliseconds:
 * whole seconds would let --lock-after 2 lock after 1.01 s), for --lock-after.
 */
static atomic_long dispatch_last_ms;

static long
dispatch_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void
dispatch_touch(void)
{
	atomic_store(&dispatch_last_ms, dispatch_now_ms());
}

long
dispatch_idle_sec(void)
{
	return (dispatch_now_ms() - atomic_load(&dispatch_last_ms)) / 1000L;
}

/* What a handler leaves for the audit line. */
struct outcome {
	const char *profile;
	const char *method;
	const char *host;
	const char *path;
	int key_gone; /* the token had no key for the profile: replaced or deleted meanwhile */
};

/*
 * The nonce and timestamp to sign: the client's or the agent's own. The
 * only place a client's timestamp is judged (the codec checked its type).
 */
static tba_err
nonce_and_time(const struct agent_ctx *ctx, const struct tba_proto_req *q, char *nonce,
    size_t noncesz, int64_t *ts)
{
	int64_t now = (int64_t)time(NULL), d;
	tba_err r;

	*ts = now;
	if (q->nonce != NULL) {
		if (!tba_oauth_nonce_ok(q->nonce))
			return tba_seterr(TBA_ERR_INVALID,
			    "nonce must be %d to %d characters of "
			    "A-Za-z0-9",
			    TBA_NONCE_MIN, TBA_NONCE_MAX);
		snprintf(nonce, noncesz, "%s", q->nonce);
	} else if ((r = tba_oauth_nonce_new(nonce, TBA_NONCE_GEN)) != TBA_OK)
		return r;
	if (q->has_timestamp) {
		d = q->timestamp > now ? q->timestamp - now : now - q->timestamp;
		/* Ahead of the clock only by drift: a later one is a signature kept for after a lock. */
		if (q->timestamp > now && d > AGENT_AHEAD_MAX)
			return tba_seterr(TBA_ERR_POLICY,
			    "timestamp %" PRId64 " is %" PRId64
			    " s ahead of the agent's clock (at most %d allowed: no signatures for "
			    "later)",
			    q->timestamp, d, AGENT_AHEAD_MAX);
		if (d > ctx->max_skew)
			return tba_seterr(TBA_ERR_POLICY,
			    "timestamp %" PRId64 " is %" PRId64
			    " s from the agent's clock (at most %ld allowed)",
			    q->timestamp, d, ctx->max_skew);
		*ts = q->timestamp;
	}
	return TBA_OK;
}

static tba_err
find_profile(struct agent_ctx *ctx, const char *name, struct tba_profile *p)
{
	if (!tba_profile_name_ok(name))
		return tba_seterr(TBA_ERR_NOT_FOUND,
		    "no profile '%.40s' (names are 1-32 of "
		    "A-Za-z0-9._-)",
		    name);
	return profiles_find(ctx->profiles, name, p);
}

/* HMAC of base in the token, base64 into sig. */
static tba_err
sign_b64(struct agent_ctx *ctx, const struct tba_profile *p, const struct tba_buf *base,
    struct tba_buf *sig, struct outcome *o)
{
	unsigned char mac[TBA_SIG_MAX];
	size_t maclen = 0;
	tba_err r;

	if ((r = pool_sign(ctx->pool, p, base->data, base->len, mac, &maclen)) == TBA_OK)
		r = tba_base64(mac, maclen, sig);
	o->key_gone = r == TBA_ERR_NOT_FOUND;
	tba_wipe(mac, sizeof(mac));
	return r;
}

/* Adds string fields to a reply: pairs of key and value, ending with NULL. */
static tba_err
reply_strings(cJSON *o, ...)
{
	const char *k, *v;
	va_list ap;
	tba_err r = TBA_OK;

	va_start(ap, o);
	while (r == TBA_OK && (k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (cJSON_AddStringToObject(o, k, v) == NULL)
			r = tba_nomem();
	}
	va_end(ap);
	return r;
}

/*
 * Adds an integer field (a time in seconds) in its own decimal form: a cJSON
 * number is a double, printed with "%1.15g" and read back to check it.
 */
static tba_err
reply_int64(cJSON *o, const char *k, int64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRId64, v);
	if (cJSON_AddRawToObject(o, k, num) == NULL)
		return tba_nomem();
	return TBA_OK;
}

/* The URL, parsed and checked against the profile's policy. */
static tba_err
sign_url(const struct tba_proto_req *q, const struct tba_profile *p, struct tba_url *u,
    struct outcome *o)
{
	char why[256];
	tba_err r;

	if ((r = tba_url_parse(q->url, u)) != TBA_OK) {
		/* A copy, not the detail itself: it is about to be replaced. */
		snprintf(why, sizeof(why), "%s", tba_errmsg(r));
		return tba_seterr(TBA_ERR_INVALID, "bad url: %s", why);
	}
	o->host = u->host;
	o->path = u->path;
	if ((r = tba_policy_check(p, q->http_method, u)) != TBA_OK)
		return r;
	if (q->has_form)
		return tba_policy_check_params(&q->form);
	return TBA_OK;
}

static tba_err
do_sign(struct agent_ctx *ctx, const struct tba_proto_req *q, struct tba_url *u,
    struct tba_profile *p, struct outcome *o, cJSON *reply)
{
	struct tba_oauth_req oq;
	struct tba_buf base, sig, hdr, sent;
	char nonce[TBA_NONCE_MAX + 1];
	int64_t ts;
	tba_err r;

	tba_buf_init(&base, BASE_MAX);
	tba_buf_init(&sig, 256);
	tba_buf_init(&hdr, BASE_MAX);
	tba_buf_init(&sent, BASE_MAX);
	o->profile = q->profile;
	o->method = q->http_method;
	if ((r = find_profile(ctx, q->profile, p)) != TBA_OK ||
	    (r = sign_url(q, p, u, o)) != TBA_OK ||
	    (r = nonce_and_time(ctx, q, nonce, sizeof(nonce), &ts)) != TBA_OK)
		goto out;
	memset(&oq, 0, sizeof(oq));
	oq.method = q->http_method;
	oq.url = u;
	oq.form = q->has_form ? &q->form : NULL;
	oq.consumer_key = p->consumer_key;
	oq.token = p->token_id;
	oq.nonce = nonce;
	oq.timestamp = ts;
	oq.sigmethod = p->sigmethod;
	oq.realm = p->realm;
	if ((r = tba_oauth_base_string(&oq, &base)) != TBA_OK ||
	    (r = sign_b64(ctx, p, &base, &sig, o)) != TBA_OK ||
	    (r = tba_oauth_header(&oq, tba_buf_str(&sig), &hdr)) != TBA_OK ||
	    (r = tba_url_normalized(u, &sent)) != TBA_OK)
		goto out;
	if ((r = reply_strings(reply, "authorization", tba_buf_str(&hdr), "signature",
		 tba_buf_str(&sig), "nonce", nonce, NULL)) != TBA_OK)
		goto out;
	if ((r = reply_int64(reply, "timestamp", ts)) != TBA_OK)
		goto out;
	/* The URL as signed: a client that sends it as typed may differ in escapes' case. */
	r = reply_strings(
	    reply, "base_string", tba_buf_str(&base), "url", tba_buf_str(&sent), NULL);
out:
	tba_buf_free(&base);
	tba_buf_free(&sig);
	tba_buf_free(&hdr);
	tba_buf_free(&sent);
	return r;
}

/* tokenPassport wants the realm form of the account ID (1234567_SB1). */
static tba_err
passport_account(const struct tba_profile *p, char *account, size_t accountsz)
{
	if (p->kind == TBA_KIND_NETSUITE)
		return tba_ns_realm(p->account, account, accountsz);
	if (p->account[0] == '\0')
		return tba_seterr(
		    TBA_ERR_POLICY, "profile '%s' has no account for a tokenPassport", p->name);
	snprintf(account, accountsz, "%s", p->account);
	return TBA_OK;
}

static tba_err
do_passport(struct agent_ctx *ctx, const struct tba_proto_req *q, struct tba_profile *p,
    struct outcome *o, cJSON *reply)
{
	struct tba_buf base, sig;
	char nonce[TBA_NONCE_MAX + 1], account[TBA_FIELD_MAX + 1];
	int64_t ts;
	tba_err r;

	tba_buf_init(&base, BASE_MAX);
	tba_buf_init(&sig, 256);
	o->profile = q->profile;
	o->method = "SOAP";
	if ((r = find_profile(ctx, q->profile, p)) != TBA_OK ||
	    (r = passport_account(p, account, sizeof(account))) != TBA_OK ||
	    (r = nonce_and_time(ctx, q, nonce, sizeof(nonce), &ts)) != TBA_OK)
		goto out;
	if ((r = tba_passport_base_string(
		 account, p->consumer_key, p->token_id, nonce, ts, &base)) != TBA_OK ||
	    (r = sign_b64(ctx, p, &base, &sig, o)) != TBA_OK)
		goto out;
	if ((r = reply_strings(reply, "account", account, "consumer_key", p->consumer_key, "token",
		 p->token_id, "nonce", nonce, NULL)) != TBA_OK)
		goto out;
	if ((r = reply_int64(reply, "timestamp", ts)) != TBA_OK)
		goto out;
	r = reply_strings(reply, "signature", tba_buf_str(&sig), "algorithm",
	    tba_sigmethod_name(p->sigmethod), NULL);
out:
	tba_buf_free(&base);
	tba_buf_free(&sig);
	return r;
}

static tba_err
do_access_token(struct agent_ctx *ctx, const struct peer *peer, const struct tba_proto_req *q,
    struct tba_profile *p, struct m2m_fail *fail, int *audited, cJSON *reply)
{
	struct m2m_token t;
	tba_err r;

	memset(&t, 0, sizeof(t));
	if (ctx->m2m == NULL)
		return tba_seterr(TBA_ERR_POLICY, "this agent hands out no access tokens");
	if ((r = find_profile(ctx, q->profile, p)) != TBA_OK)
		goto out;
	/* m2m.c audits the exchange and the token handed out (or refused). */
	*audited = 1;
	if ((r = m2m_access_token(ctx->m2m, peer, p, q->renew, &t, fail)) != TBA_OK)
		goto out;
	if ((r = reply_strings(reply, "access_token", t.access_token, "token_type", "Bearer",
		 "scope", t.scope[0] != '\0' ? t.scope : p->scope, NULL)) != TBA_OK)
		goto out;
	r = reply_int64(reply, "expires_at", t.expires_at);
out:
	m2m_token_free(&t);
	return r;
}

/* The error reply; AuthorizationFailed carries the HTTP status and NetSuite's code. */
static void
dispatch_error(enum tba_proto_ename en, tba_err r, const struct m2m_fail *fail, struct tba_buf *out)
{
	cJSON *x;

	if (en != TBA_PE_AUTHORIZATION_FAILED || (x = cJSON_CreateObject()) == NULL) {
		(void)tba_proto_error(en, tba_errmsg(r), out);
		return;
	}
	if (fail->http_status != 0)
		cJSON_AddNumberToObject(x, "http_status", (double)fail->http_status);
	if (fail->error[0] != '\0')
		cJSON_AddStringToObject(x, "error", fail->error);
	if (fail->retry)
		cJSON_AddTrueToObject(x, "retry");
	if (tba_proto_error_params(en, tba_errmsg(r), x, out) != TBA_OK)
		(void)tba_proto_error(en, tba_errmsg(r), out);
	cJSON_Delete(x);
}

static tba_err
do_list(struct agent_ctx *ctx, cJSON *reply)
{
	struct tba_profile *v = NULL;
	cJSON *arr, *o;
	size_t n = 0, i;
	tba_err r;

	if ((r = profiles_all(ctx->profiles, &v, &n)) != TBA_OK)
		goto out;
	if ((arr = cJSON_AddArrayToObject(reply, "profiles")) == NULL) {
		r = tba_nomem();
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((o = tba_profile_public(&v[i])) == NULL) {
			r = tba_nomem();
			goto out;
		}
		cJSON_AddItemToArray(arr, o);
	}
	r = TBA_OK;
out:
	free(v);
	return r;
}

/* What one request leaves besides its reply: for the audit line and the error reply. */
struct request {
	struct outcome o;
	struct m2m_fail fail;
	int audit; /* dispatch writes the audit line (m2m.c writes its own) */
};

/* Runs the parsed request q; fills reply and rq. */
static tba_err
dispatch_method(struct agent_ctx *ctx, const struct peer *peer, const struct tba_proto_req *q,
    struct tba_url *u, struct request *rq, cJSON *reply)
{
	struct tba_profile prof;
	int m2m_audited = 0;
	tba_err r;

	rq->audit = q->method != TBA_PM_PING && q->method != TBA_PM_LIST;
	switch (q->method) {
	case TBA_PM_PING:
		return reply_strings(reply, "version", TBA_VERSION, NULL);
	case TBA_PM_LIST:
		return do_list(ctx, reply);
	case TBA_PM_SIGN:
		r = do_sign(ctx, q, u, &prof, &rq->o, reply);
		/* `tba import --replace` swapped the key under us: read the token again, once. */
		if (r == TBA_ERR_NOT_FOUND && rq->o.key_gone &&
		    profiles_reload(ctx->profiles) == TBA_OK) {
			tba_url_free(u);
			r = do_sign(ctx, q, u, &prof, &rq->o, reply);
		}
		return r;
	case TBA_PM_PASSPORT:
		r = do_passport(ctx, q, &prof, &rq->o, reply);
		if (r == TBA_ERR_NOT_FOUND && rq->o.key_gone &&
		    profiles_reload(ctx->profiles) == TBA_OK)
			r = do_passport(ctx, q, &prof, &rq->o, reply);
		return r;
	case TBA_PM_LOCK:
		r = pool_lock(ctx->pool);
		m2m_forget(ctx->m2m);
		return r;
	case TBA_PM_UNLOCK:
		return pool_unlock(ctx->pool, q->pin, strlen(q->pin));
	case TBA_PM_ACCESS_TOKEN:
		r = do_access_token(ctx, peer, q, &prof, &rq->fail, &m2m_audited, reply);
		rq->o.profile = q->profile;
		rq->audit = !m2m_audited;
		return r;
	default:
		rq->audit = 0;
		return tba_seterr(TBA_ERR_PROTO, "unhandled method");
	}
}

/*
 * The audit line of a request that ran (r, en: its outcome). No audit line,
 * no answer: when it cannot be written the reply (a signature) is dropped
 * and the request answered with AuditFailed instead.
 */
static void
dispatch_audit(const struct peer *peer, const struct tba_proto_req *q, const struct outcome *o,
    tba_err *r, enum tba_proto_ename *en)
{
	struct audit_rec a;

	memset(&a, 0, sizeof(a));
	a.uid = peer->uid;
	a.pid = peer->pid;
	a.op = tba_proto_method_name(q->method);
	a.profile = o->profile;
	a.method = o->method;
	a.host = o->host;
	a.path = o->path;
	a.result = *r == TBA_OK ? "ok" : tba_proto_ename_str(*en) + strlen(TBA_PROTO_PREFIX);
	a.detail = *r == TBA_OK ? NULL : tba_errmsg(*r);
	if (audit_log(&a) == TBA_OK)
		return;
	*en = TBA_PE_AUDIT_FAILED;
	*r = tba_seterr(TBA_ERR_IO,
	    "the agent cannot write its audit log, so it answers nothing "
	    "(%s was %s); its log says why",
	    a.op,
	    *r == TBA_OK && (q->method == TBA_PM_LOCK || q->method == TBA_PM_UNLOCK) ? "done"
										     : "refused");
}

/* AccessToken's reply tree holds a copy of the access token: wiped before it is freed. */
static void
dispatch_wipe_token(cJSON *reply)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(reply, "access_token");

	if (cJSON_IsString(v))
		tba_wipe(v->valuestring, strlen(v->valuestring));
}

void
dispatch(struct agent_ctx *ctx, const struct peer *peer, const char *msg, size_t len,
    struct tba_buf *out)
{
	struct tba_proto_req q;
	struct tba_url u;
	struct request rq;
	enum tba_proto_ename en = TBA_PE_INVALID_REQUEST;
	cJSON *reply = NULL;
	tba_err r;

	memset(&rq, 0, sizeof(rq));
	memset(&u, 0, sizeof(u));
	tba_params_init(&u.query_params);
	tba_clearerr();
	if ((r = tba_proto_parse_request(msg, len, &q, &en)) != TBA_OK)
		goto reply;
	/* A health check's Ping does not keep the agent from locking itself. */
	if (q.method != TBA_PM_PING)
		dispatch_touch();
	if ((reply = cJSON_CreateObject()) == NULL)
		r = tba_nomem();
	else
		r = dispatch_method(ctx, peer, &q, &u, &rq, reply);
	if (r != TBA_OK)
		en = rq.fail.audit_failed ? TBA_PE_AUDIT_FAILED : tba_proto_ename_for(r);
	/* Malformed messages are not audited: a fuzzing peer would drown the log. */
	if (rq.audit)
		dispatch_audit(peer, &q, &rq.o, &r, &en);
	if (r == TBA_OK && (r = tba_proto_reply(reply, out)) != TBA_OK)
		en = tba_proto_ename_for(r);
reply:
	if (r != TBA_OK)
		dispatch_error(en, r, &rq.fail, out);
	dispatch_wipe_token(reply);
	cJSON_Delete(reply);
	tba_url_free(&u);
	tba_proto_req_free(&q);
}
