/*
 * dispatch.c - one handler per protocol method.
 *
 * The agent signs only what it built and checked itself: the base string
 * comes from the parsed URL and form, after the profile's policy passed,
 * with a nonce and timestamp that are the agent's own or checked here.
 */
#include <inttypes.h>
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

#define BASE_MAX (4 * TBA_PROTO_MAX)  /* a base string this long cannot fit a reply anyway */

/* What a handler leaves for the audit line. */
struct outcome {
	const char *profile;
	const char *method;
	const char *host;
	const char *path;
};

/* The nonce and timestamp to sign: the client's (checked) or the agent's own. */
static tba_err
nonce_and_time(const struct agent_ctx *ctx, const struct tba_proto_req *q, char *nonce,
    size_t noncesz, char *ts, size_t tssz)
{
	int64_t now = (int64_t)time(NULL), t = now, d;
	tba_err r;

	if (q->nonce != NULL) {
		if (!tba_oauth_nonce_ok(q->nonce))
			return tba_seterr(TBA_ERR_INVALID, "nonce must be %d to %d characters of A-Za-z0-9",
			    TBA_NONCE_MIN, TBA_NONCE_MAX);
		snprintf(nonce, noncesz, "%s", q->nonce);
	} else if ((r = tba_oauth_nonce_new(nonce, TBA_NONCE_GEN)) != TBA_OK)
		return r;
	if (q->has_timestamp) {
		t = q->timestamp;
		d = t > now ? t - now : now - t;
		if (d > ctx->max_skew)
			return tba_seterr(TBA_ERR_POLICY, "timestamp %" PRId64 " is %" PRId64
			    " s from the agent's clock (at most %ld allowed)", t, d, ctx->max_skew);
	}
	snprintf(ts, tssz, "%" PRId64, t);
	return TBA_OK;
}

static tba_err
find_profile(struct agent_ctx *ctx, const char *name, struct tba_profile *p)
{
	if (!tba_profile_name_ok(name))
		return tba_seterr(TBA_ERR_NOT_FOUND, "no profile '%.40s' (names are 1-32 of A-Za-z0-9._-)", name);
	return profiles_find(ctx->profiles, name, p);
}

/* HMAC of base in the token, base64 into sig. */
static tba_err
sign_b64(struct agent_ctx *ctx, const struct tba_profile *p, const struct tba_buf *base,
    struct tba_buf *sig)
{
	unsigned char mac[TBA_SIG_MAX];
	size_t maclen = 0;
	tba_err r;

	if ((r = pool_sign(ctx->pool, p, base->data, base->len, mac, &maclen)) == TBA_OK)
		r = tba_base64(mac, maclen, sig);
	tba_wipe(mac, sizeof(mac));
	return r;
}

static tba_err
do_sign(struct agent_ctx *ctx, const struct tba_proto_req *q, struct tba_url *u,
    struct tba_profile *p, struct outcome *o, struct tba_proto_writer *w)
{
	struct tba_oauth_req oq;
	struct tba_buf base, sig, hdr;
	char nonce[TBA_NONCE_MAX + 1], ts[32], why[256];
	tba_err r;

	tba_buf_init(&base, BASE_MAX);
	tba_buf_init(&sig, 256);
	tba_buf_init(&hdr, BASE_MAX);
	o->profile = q->profile;
	o->method = q->http_method;
	if ((r = find_profile(ctx, q->profile, p)) != TBA_OK)
		goto out;
	if ((r = tba_url_parse(q->url, u)) != TBA_OK) {
		/* A copy, not the detail itself: it is about to be replaced. */
		snprintf(why, sizeof(why), "%s", tba_errmsg(r));
		r = tba_seterr(TBA_ERR_INVALID, "bad url: %s", why);
		goto out;
	}
	o->host = u->host;
	o->path = u->path;
	if ((r = tba_policy_check(p, q->http_method, u)) != TBA_OK ||
	    (q->has_form && (r = tba_policy_check_params(&q->form)) != TBA_OK))
		goto out;
	if ((r = nonce_and_time(ctx, q, nonce, sizeof(nonce), ts, sizeof(ts))) != TBA_OK)
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
	    (r = sign_b64(ctx, p, &base, &sig)) != TBA_OK ||
	    (r = tba_oauth_header(&oq, tba_buf_str(&sig), &hdr)) != TBA_OK)
		goto out;
	tba_proto_writer_str(w, "authorization", tba_buf_str(&hdr));
	tba_proto_writer_str(w, "signature", tba_buf_str(&sig));
	tba_proto_writer_str(w, "nonce", nonce);
	tba_proto_writer_int(w, "timestamp", (int64_t)strtoll(ts, NULL, 10));
	tba_proto_writer_str(w, "base_string", tba_buf_str(&base));
	r = w->r;
out:
	tba_buf_free(&base);
	tba_buf_free(&sig);
	tba_buf_free(&hdr);
	return r;
}

static tba_err
do_passport(struct agent_ctx *ctx, const struct tba_proto_req *q, struct tba_profile *p,
    struct outcome *o, struct tba_proto_writer *w)
{
	struct tba_buf base, sig;
	char nonce[TBA_NONCE_MAX + 1], ts[32], account[TBA_FIELD_MAX + 1];
	tba_err r;

	tba_buf_init(&base, BASE_MAX);
	tba_buf_init(&sig, 256);
	o->profile = q->profile;
	o->method = "SOAP";
	if ((r = find_profile(ctx, q->profile, p)) != TBA_OK)
		goto out;
	/* tokenPassport wants the realm form of the account ID (1234567_SB1). */
	if (p->kind == TBA_KIND_NETSUITE) {
		if ((r = tba_ns_realm(p->account, account, sizeof(account))) != TBA_OK)
			goto out;
	} else if (p->account[0] != '\0')
		snprintf(account, sizeof(account), "%s", p->account);
	else {
		r = tba_seterr(TBA_ERR_POLICY, "profile '%s' has no account for a tokenPassport", p->name);
		goto out;
	}
	if ((r = nonce_and_time(ctx, q, nonce, sizeof(nonce), ts, sizeof(ts))) != TBA_OK)
		goto out;
	if ((r = tba_passport_base_string(account, p->consumer_key, p->token_id, nonce, ts,
	    &base)) != TBA_OK || (r = sign_b64(ctx, p, &base, &sig)) != TBA_OK)
		goto out;
	tba_proto_writer_str(w, "account", account);
	tba_proto_writer_str(w, "consumer_key", p->consumer_key);
	tba_proto_writer_str(w, "token", p->token_id);
	tba_proto_writer_str(w, "nonce", nonce);
	tba_proto_writer_int(w, "timestamp", (int64_t)strtoll(ts, NULL, 10));
	tba_proto_writer_str(w, "signature", tba_buf_str(&sig));
	tba_proto_writer_str(w, "algorithm", tba_sigmethod_name(p->sigmethod));
	r = w->r;
out:
	tba_buf_free(&base);
	tba_buf_free(&sig);
	return r;
}

static tba_err
do_access_token(struct agent_ctx *ctx, const struct peer *peer, const struct tba_proto_req *q,
    struct tba_profile *p, struct m2m_fail *fail, int *audited, struct tba_proto_writer *w)
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
	tba_proto_writer_str(w, "access_token", t.access_token);
	tba_proto_writer_str(w, "token_type", "Bearer");
	tba_proto_writer_int(w, "expires_at", t.expires_at);
	tba_proto_writer_str(w, "scope", t.scope[0] != '\0' ? t.scope : p->scope);
	r = w->r;
out:
	m2m_token_free(&t);
	return r;
}

/* The error reply; AuthorizationFailed carries the HTTP status and NetSuite's code. */
static void
dispatch_error(enum tba_proto_ename en, tba_err r, const struct m2m_fail *fail,
    struct tba_buf *out)
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

/* The List fields of an M2M profile (no secret: the key stays in the token). */
static tba_err
list_m2m(cJSON *o, const struct tba_profile *p)
{
	if (cJSON_AddStringToObject(o, "client_id", p->client_id) == NULL ||
	    cJSON_AddStringToObject(o, "alg", tba_jwt_alg_name(p->alg)) == NULL ||
	    cJSON_AddStringToObject(o, "certificate_id", p->cert_id) == NULL ||
	    cJSON_AddStringToObject(o, "scope", p->scope) == NULL ||
	    cJSON_AddNumberToObject(o, "not_after", (double)p->not_after) == NULL)
		return tba_nomem();
	return TBA_OK;
}

static tba_err
do_list(struct agent_ctx *ctx, struct tba_proto_writer *w)
{
	struct tba_profile *v = NULL;
	cJSON *arr = NULL, *o, *hosts;
	size_t n = 0, i, h;
	tba_err r;

	if ((r = profiles_all(ctx->profiles, &v, &n)) != TBA_OK)
		return r;
	r = tba_nomem();
	if ((arr = cJSON_CreateArray()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if ((o = cJSON_CreateObject()) == NULL)
			goto out;
		cJSON_AddItemToArray(arr, o);
		if (cJSON_AddStringToObject(o, "name", v[i].name) == NULL ||
		    cJSON_AddStringToObject(o, "kind", tba_kind_name(v[i].kind)) == NULL ||
		    cJSON_AddStringToObject(o, "account", v[i].account) == NULL)
			goto out;
		if (v[i].kind == TBA_KIND_M2M ? list_m2m(o, &v[i]) != TBA_OK :
		    (cJSON_AddStringToObject(o, "realm", v[i].realm) == NULL ||
		    cJSON_AddStringToObject(o, "signature_method",
		    tba_sigmethod_name(v[i].sigmethod)) == NULL))
			goto out;
		if ((hosts = cJSON_AddArrayToObject(o, "hosts")) == NULL)
			goto out;
		for (h = 0; h < v[i].nhosts; h++) {
			if (!cJSON_AddItemToArray(hosts, cJSON_CreateString(v[i].hosts[h])))
				goto out;
		}
	}
	tba_proto_writer_json(w, "profiles", arr);
	r = w->r;
out:
	cJSON_Delete(arr);
	free(v);
	return r;
}

void
dispatch(struct agent_ctx *ctx, const struct peer *peer, const char *msg, size_t len,
    struct tba_buf *out)
{
	struct tba_proto_req q;
	struct tba_profile prof;
	struct tba_url u;
	struct outcome o;
	struct audit_rec a;
	enum tba_proto_ename en = TBA_PE_INVALID_REQUEST;
	struct tba_proto_writer w;
	struct m2m_fail fail;
	tba_err r;
	int audited = 0, m2m_audited = 0;

	memset(&o, 0, sizeof(o));
	memset(&fail, 0, sizeof(fail));
	memset(&u, 0, sizeof(u));
	tba_params_init(&u.query_params);
	tba_clearerr();
	/* The reply is written as the handler goes; an error rolls it back. */
	tba_proto_writer_begin(&w, out);
	if ((r = tba_proto_parse_request(msg, len, &q, &en)) != TBA_OK)
		goto reply;
	switch (q.method) {
	case TBA_PM_PING:
		tba_proto_writer_str(&w, "version", TBA_VERSION);
		r = w.r;
		break;
	case TBA_PM_LIST:
		r = do_list(ctx, &w);
		break;
	case TBA_PM_SIGN:
		r = do_sign(ctx, &q, &u, &prof, &o, &w);
		audited = 1;
		break;
	case TBA_PM_PASSPORT:
		r = do_passport(ctx, &q, &prof, &o, &w);
		audited = 1;
		break;
	case TBA_PM_LOCK:
		r = pool_lock(ctx->pool);
		m2m_forget(ctx->m2m);
		audited = 1;
		break;
	case TBA_PM_UNLOCK:
		r = pool_unlock(ctx->pool, q.pin, strlen(q.pin));
		audited = 1;
		break;
	case TBA_PM_ACCESS_TOKEN:
		r = do_access_token(ctx, peer, &q, &prof, &fail, &m2m_audited, &w);
		o.profile = q.profile;
		audited = !m2m_audited;
		break;
	default:
		r = tba_seterr(TBA_ERR_PROTO, "unhandled method");
		break;
	}
	if (r != TBA_OK)
		en = tba_proto_ename_for(r);
reply:
	/* Malformed messages are not audited: a fuzzing peer would drown the log. */
	if (audited) {
		memset(&a, 0, sizeof(a));
		a.uid = peer->uid;
		a.pid = peer->pid;
		a.op = tba_proto_method_name(q.method);
		a.profile = o.profile;
		a.method = o.method;
		a.host = o.host;
		a.path = o.path;
		a.result = r == TBA_OK ? "ok" : tba_proto_ename_str(en) + strlen(TBA_PROTO_PREFIX);
		a.detail = r == TBA_OK ? NULL : tba_errmsg(r);
		audit_log(&a);
	}
	if (r == TBA_OK) {
		if ((r = tba_proto_writer_end(&w)) != TBA_OK)
			en = tba_proto_ename_for(r);
	} else
		tba_proto_writer_abort(&w);
	if (r != TBA_OK)
		dispatch_error(en, r, &fail, out);
	tba_url_free(&u);
	tba_proto_req_free(&q);
}
