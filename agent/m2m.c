/* SPDX-License-Identifier: MIT */
/*
 * m2m.c - OAuth 2.0 access tokens for M2M profiles.
 *
 * The agent builds every client assertion itself (claims, key and endpoint
 * come from the profile in the token, never from a client), signs it in the
 * token, posts it to the account's token endpoint and keeps the access
 * token in memory until M2M_EARLY_SEC before it expires.
 *
 * One entry per profile. The table's mutex is held only to look at or
 * change entries, never across an exchange, so a slow endpoint for one
 * profile never blocks another. An entry with an exchange under way is
 * "busy": other callers for that profile wait on the condition variable
 * and take what that exchange produced (a token, or its failure). A token
 * is stored only whole and only after it parsed; the old one is wiped when
 * replaced. Lock bumps the epoch, so an exchange that was under way keeps
 * nothing.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "agent.h"
#include "tba/jwt.h"
#include "tba/log.h"
#include "tba/mem.h"
#include "tba/proto.h"
#include "tba/token.h"
#include "tba/url.h"

#define M2M_ENTRIES_MAX 256 /* profiles with a cached token */
#define M2M_FORM_MAX (TBA_JWT_MAX + 256)

struct m2m_entry {
	char name[TBA_NAME_MAX + 1];
	char *token; /* secure memory; NULL: none */
	size_t cap;
	int64_t expires_at;
	char scope[256];
	/* Whom the token was issued to: a profile replaced with another client or account starts over. */
	char client_id[TBA_FIELD_MAX + 1];
	char account[TBA_FIELD_MAX + 1];
	char want_scope[TBA_SCOPE_MAX + 1];
	int busy;           /* an exchange is under way */
	unsigned long done; /* exchanges finished (waiters compare) */
	/* The last exchange's failure, for the callers that waited for it. */
	tba_err fail_r;
	char fail_msg[512];
	struct m2m_fail fail;
	struct m2m_entry *next;
};

struct m2m {
	struct pool *pool;
	struct profiles *profiles; /* re-read when a rotation took the key away; may be NULL */
	struct m2m_opts o;
	struct curl_slist *connect_to;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct m2m_entry *head;
	size_t n;
	unsigned long epoch; /* bumped by m2m_forget */
	unsigned nblocked;   /* requests waiting for or making an exchange */
};

static void
m2m_entry_clear(struct m2m_entry *e)
{
	tba_secfree(e->token, e->cap);
	e->token = NULL;
	e->cap = 0;
	e->expires_at = 0;
}

tba_err
m2m_new(struct pool *pool, struct profiles *profiles, const struct m2m_opts *o, struct m2m **out)
{
	struct m2m *m = NULL;
	struct curl_slist *l;
	size_t i;
	tba_err r;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		r = tba_nomem();
		goto out;
	}
	m->pool = pool;
	m->profiles = profiles;
	m->o = *o;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	for (i = 0; i < o->nconnect_to && i < M2M_CONNECT_TO_MAX; i++) {
		if ((l = curl_slist_append(m->connect_to, o->connect_to[i])) == NULL) {
			r = tba_nomem();
			goto out;
		}
		m->connect_to = l;
	}
	*out = m;
	m = NULL;
	r = TBA_OK;
out:
	m2m_free(m);
	return r;
}

void
m2m_free(struct m2m *m)
{
	struct m2m_entry *e, *next;
	int busy = 0;

	if (m == NULL)
		return;
	/*
	 * An exchange still under way at exit (up to M2M_TOTAL_SEC) would come
	 * back to freed memory: then only wipe the tokens and leave the rest to
	 * the exit, as pool_close does with a session stuck in the token.
	 */
	pthread_mutex_lock(&m->mu);
	for (e = m->head; e != NULL; e = e->next) {
		m2m_entry_clear(e);
		busy |= e->busy;
	}
	m->epoch++;
	pthread_mutex_unlock(&m->mu);
	if (busy)
		return;
	for (e = m->head; e != NULL; e = next) {
		next = e->next;
		m2m_entry_clear(e);
		free(e);
	}
	curl_slist_free_all(m->connect_to);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	free(m);
}

void
m2m_forget(struct m2m *m)
{
	struct m2m_entry *e;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->epoch++;
	for (e = m->head; e != NULL; e = e->next)
		m2m_entry_clear(e);
	pthread_mutex_unlock(&m->mu);
}

void
m2m_token_free(struct m2m_token *t)
{
	if (t == NULL)
		return;
	tba_secfree(t->access_token, t->cap);
	memset(t, 0, sizeof(*t));
}

/* The entry for name, created when missing (call with mu held). NULL: table full or no memory. */
static struct m2m_entry *
m2m_entry_get(struct m2m *m, const char *name)
{
	struct m2m_entry *e;

	for (e = m->head; e != NULL; e = e->next) {
		if (strcmp(e->name, name) == 0)
			return e;
	}
	if (m->n >= M2M_ENTRIES_MAX || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->next = m->head;
	m->head = e;
	m->n++;
	return e;
}

/* 1 when e's token was issued for what p is now (call with mu held). */
static int
m2m_entry_fits(const struct m2m_entry *e, const struct tba_profile *p)
{
	return strcmp(e->client_id, p->client_id) == 0 && strcmp(e->account, p->account) == 0 &&
	    strcmp(e->want_scope, p->scope) == 0;
}

/* Copies the entry's token into out (call with mu held). */
static tba_err
m2m_entry_copy(const struct m2m_entry *e, struct m2m_token *out)
{
	size_t n = strlen(e->token);

	if ((out->access_token = tba_secalloc(n + 1)) == NULL)
		return tba_nomem();
	out->cap = n + 1;
	memcpy(out->access_token, e->token, n + 1);
	out->expires_at = e->expires_at;
	snprintf(out->scope, sizeof(out->scope), "%s", e->scope);
	return TBA_OK;
}

/* The callback tba_jwt_build calls: sign in the token through the pool. */
struct m2m_signer {
	struct m2m *m;
	const struct tba_profile *p;
};

static tba_err
m2m_sign_cb(void *arg, const void *msg, size_t len, unsigned char *sig, size_t *siglen)
{
	struct m2m_signer *s = arg;

	return pool_sign_jws(s->m->pool, s->p, msg, len, sig, siglen);
}

static size_t
m2m_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct tba_buf *b = arg;

	if (tba_buf_put(b, ptr, size * nmemb) != TBA_OK)
		return 0;
	return size * nmemb;
}

static double
m2m_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* What NetSuite's error codes usually mean, for the one line a user sees. */
static const char *
m2m_hint(const char *error)
{
	if (strcmp(error, "invalid_client") == 0)
		return "check the certificate ID ('tba m2m cert-id'), that the certificate is not "
		       "revoked or expired, and that the integration record has the Client Credentials "
		       "(M2M) grant; 'tba test' diagnoses";
	if (strcmp(error, "invalid_grant") == 0)
		return "check the M2M mapping (Setup > Integration > Manage Authentication > OAuth 2.0 "
		       "Client Credentials (M2M) Setup) and that its role has 'Log in using OAuth 2.0 "
		       "Access Tokens'";
	if (strcmp(error, "invalid_scope") == 0)
		return "the profile's scopes are not enabled on the integration record";
	return "'tba test' diagnoses";
}

/* POSTs the assertion; *body gets the reply; *status the HTTP status (0: none). */
static tba_err
m2m_post(struct m2m *m, const char *url, const char *jwt, struct tba_buf *body, long *status)
{
	struct tba_buf form;
	CURL *h = NULL;
	CURLcode cc;
	char errbuf[CURL_ERROR_SIZE];
	tba_err r;

	*status = 0;
	errbuf[0] = '\0';
	tba_buf_init(&form, M2M_FORM_MAX);
	if ((r = tba_buf_puts(&form,
		 "grant_type=client_credentials&client_assertion_type=urn%3A"
		 "ietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=")) !=
		TBA_OK ||
	    (r = tba_buf_puts(&form, jwt)) != TBA_OK) /* base64url and '.': nothing to encode */
		goto out;
	if ((h = curl_easy_init()) == NULL) {
		r = tba_nomem();
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)M2M_CONNECT_SEC);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)M2M_TOTAL_SEC);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, form.data);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)form.len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, m2m_write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "tba-agent/" TBA_VERSION);
	if (m->o.cacert != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, m->o.cacert);
	if (m->connect_to != NULL)
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, m->connect_to);
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		r = tba_seterr(TBA_ERR_NETWORK, "cannot get an access token from %s: %s", url,
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	r = TBA_OK;
out:
	curl_easy_cleanup(h);
	tba_buf_free(&form);
	return r;
}

/* Turns the endpoint's answer into *reply, or a failure with *fail filled in. */
static tba_err
m2m_answer(const char *url, const struct tba_buf *body, long status, struct tba_jwt_reply *reply,
    struct m2m_fail *fail)
{
	char why[300];
	tba_err r;

	fail->http_status = status;
	r = tba_jwt_reply_parse(body->data != NULL ? body->data : "", body->len, reply);
	if (r == TBA_OK && status == 200)
		return TBA_OK;
	if (r == TBA_OK) {
		tba_jwt_reply_free(reply);
		return tba_seterr(
		    TBA_ERR_NETWORK, "the token endpoint %s answered HTTP %ld", url, status);
	}
	if (r == TBA_ERR_REMOTE) {
		snprintf(fail->error, sizeof(fail->error), "%s", reply->error);
		return tba_seterr(TBA_ERR_NETWORK,
		    "the token endpoint refused (HTTP %ld): %s%s%s; %s", status, reply->error,
		    reply->error_description[0] != '\0' ? ": " : "", reply->error_description,
		    m2m_hint(reply->error));
	}
	snprintf(why, sizeof(why), "%s", tba_errmsg(r));
	if (status != 200)
		return tba_seterr(
		    TBA_ERR_NETWORK, "the token endpoint %s answered HTTP %ld", url, status);
	return tba_seterr(TBA_ERR_NETWORK, "%s (%s)", why, url);
}

static tba_err
m2m_audit(const struct peer *peer, const char *op, const struct tba_profile *p, const char *method,
    const char *host, const char *path, tba_err r, const char *detail)
{
	struct audit_rec a;

	memset(&a, 0, sizeof(a));
	a.uid = peer->uid;
	a.pid = peer->pid;
	a.op = op;
	a.profile = p->name;
	a.method = method;
	a.host = host;
	a.path = path;
	/* The wire error's short name, as dispatch.c writes it for other methods. */
	a.result = r == TBA_OK
	    ? "ok"
	    : tba_proto_ename_str(tba_proto_ename_for(r)) + strlen(TBA_PROTO_PREFIX);
	a.detail = r == TBA_OK ? detail : tba_errmsg(r);
	return audit_log(&a);
}

/*
 * One exchange for p, without the table lock: JWT, signature in the token,
 * POST, reply. *reply holds the new token on success.
 */
static tba_err
m2m_exchange(struct m2m *m, const struct peer *peer, const struct tba_profile *p,
    struct tba_jwt_reply *reply, struct m2m_fail *fail)
{
	struct tba_jwt_claims c;
	struct m2m_signer sg = {m, p};
	struct tba_buf jwt, body;
	struct tba_url u;
	char url[TBA_JWT_URL_MAX], jti[TBA_JWT_JTI_MAX];
	long status = 0;
	double t0, t1, t2;
	tba_err r;

	memset(&u, 0, sizeof(u));
	tba_params_init(&u.query_params);
	tba_buf_init(&jwt, TBA_JWT_MAX);
	tba_buf_init(&body, TBA_JWT_REPLY_MAX);
	if ((r = tba_jwt_token_url(p->account, url, sizeof(url))) != TBA_OK ||
	    (r = tba_url_parse(url, &u)) != TBA_OK ||
	    (r = tba_jwt_jti_new(jti, sizeof(jti))) != TBA_OK)
		goto out;
	memset(&c, 0, sizeof(c));
	c.alg = tba_jwt_alg_name(p->alg);
	c.kid = p->cert_id;
	c.iss = p->client_id;
	c.scope = p->scope;
	c.aud = url;
	c.iat = (int64_t)time(NULL);
	c.jti = jti;
	t0 = m2m_ms();
	if ((r = tba_jwt_build(&c, m2m_sign_cb, &sg, &jwt)) != TBA_OK)
		goto out;
	t1 = m2m_ms();
	if ((r = m2m_post(m, url, tba_buf_str(&jwt), &body, &status)) != TBA_OK)
		goto out;
	t2 = m2m_ms();
	if ((r = m2m_answer(url, &body, status, reply, fail)) == TBA_OK)
		tba_info("M2M profile '%s': new access token, expires in %" PRId64
			 " s (JWT signed in "
			 "the token in %.1f ms, HTTPS exchange %.1f ms)",
		    p->name, reply->expires_in, t1 - t0, t2 - t1);
out:
	/* A profile that cannot make a JWT (no certificate ID yet) is the profile's fault, not the request's. */
	if (r != TBA_OK && r != TBA_ERR_NETWORK && r != TBA_ERR_LOCKED && r != TBA_ERR_TOKEN_GONE &&
	    r != TBA_ERR_NOMEM) {
		char why[400];

		snprintf(why, sizeof(why), "%s", tba_errmsg(r));
		r = tba_seterr(r == TBA_ERR_INVALID ? TBA_ERR_POLICY : r, "M2M profile '%s': %s",
		    p->name, why);
	}
	(void)m2m_audit(peer, "TokenExchange", p, "POST", u.host, u.path, r, NULL);
	tba_url_free(&u);
	tba_buf_free(&jwt);
	tba_buf_free(&body);
	return r;
}

/* Warns (in the agent's log) when p's certificate is near its end. */
static void
m2m_expiry_warn(const struct tba_profile *p)
{
	int64_t left = p->not_after - (int64_t)time(NULL);

	if (p->not_after <= 0 || left > (int64_t)M2M_WARN_DAYS * 86400)
		return;
	if (left <= 0)
		tba_warn("M2M profile '%s': its certificate expired; make a new one with "
			 "'tba m2m rotate %s' and upload it in NetSuite",
		    p->name, p->name);
	else
		tba_warn("M2M profile '%s': its certificate expires in %" PRId64 " days; run "
			 "'tba m2m rotate %s' and upload the new one in NetSuite",
		    p->name, left / 86400, p->name);
}

/*
 * The key p names is gone: 'tba m2m cert-id' after a rotation switched the
 * profile to its new key (and certificate ID) and removed the old one. Read
 * the profile again from the token and exchange once with what it says now,
 * so no request fails across a rotation.
 */
static tba_err
m2m_exchange_rotated(struct m2m *m, const struct peer *peer, const struct tba_profile *p,
    struct tba_jwt_reply *reply, struct m2m_fail *fail)
{
	struct tba_profile *cur = NULL;
	char why[400];
	tba_err r;

	snprintf(why, sizeof(why), "%s", tba_errmsg(TBA_ERR_NOT_FOUND));
	if (m->profiles == NULL || (cur = malloc(sizeof(*cur))) == NULL ||
	    profiles_reload(m->profiles) != TBA_OK ||
	    profiles_find(m->profiles, p->name, cur) != TBA_OK || cur->kind != TBA_KIND_M2M ||
	    memcmp(cur->key_id, p->key_id, sizeof(p->key_id)) == 0) {
		r = tba_seterr(TBA_ERR_NOT_FOUND, "%s", why);
		goto out;
	}
	tba_info(
	    "M2M profile '%s': the token has a new key for it (a rotation); using that", p->name);
	r = m2m_exchange(m, peer, cur, reply, fail);
out:
	free(cur);
	return r;
}

/* Stores the exchange's outcome in e and wakes the waiters (call with mu held). */
static void
m2m_settle(struct m2m *m, struct m2m_entry *e, const struct tba_profile *p, unsigned long epoch,
    tba_err r, struct tba_jwt_reply *reply, const struct m2m_fail *fail)
{
	e->busy = 0;
	e->done++;
	e->fail_r = r;
	e->fail = *fail;
	snprintf(e->fail_msg, sizeof(e->fail_msg), "%s", r == TBA_OK ? "" : tba_errmsg(r));
	if (r == TBA_OK && epoch == m->epoch) {
		m2m_entry_clear(e);
		e->token = reply->access_token;
		e->cap = reply->access_token_cap;
		reply->access_token = NULL;
		reply->access_token_cap = 0;
		e->expires_at = (int64_t)time(NULL) + reply->expires_in;
		snprintf(e->scope, sizeof(e->scope), "%s", reply->scope);
		snprintf(e->client_id, sizeof(e->client_id), "%s", p->client_id);
		snprintf(e->account, sizeof(e->account), "%s", p->account);
		snprintf(e->want_scope, sizeof(e->want_scope), "%s", p->scope);
	} else if (r == TBA_OK) {
		/* Locked while the exchange ran: keep nothing. */
		e->fail_r = TBA_ERR_LOCKED;
		snprintf(e->fail_msg, sizeof(e->fail_msg), "the agent is locked: run 'tba unlock'");
	}
	pthread_cond_broadcast(&m->cv);
}

tba_err
m2m_access_token(struct m2m *m, const struct peer *peer, const struct tba_profile *p, int renew,
    struct m2m_token *out, struct m2m_fail *fail)
{
	struct tba_jwt_reply reply;
	struct m2m_entry *e;
	unsigned long epoch, seen;
	const char *how = "from cache";
	tba_err r;

	memset(out, 0, sizeof(*out));
	memset(fail, 0, sizeof(*fail));
	memset(&reply, 0, sizeof(reply));
	if (p->kind != TBA_KIND_M2M)
		return tba_seterr(TBA_ERR_POLICY,
		    "profile '%s' is a %s (OAuth 1.0a) profile: access "
		    "tokens come from M2M profiles ('tba m2m new')",
		    p->name, tba_kind_name(p->kind));
	if (pool_locked(m->pool)) {
		/* Locked by something other than the Lock method (an idle lock): forget now. */
		m2m_forget(m);
		return tba_seterr(TBA_ERR_LOCKED, "the agent is locked: run 'tba unlock'");
	}
	pthread_mutex_lock(&m->mu);
	if ((e = m2m_entry_get(m, p->name)) == NULL) {
		pthread_mutex_unlock(&m->mu);
		return tba_seterr(TBA_ERR_NOMEM, "no room for another cached access token");
	}
	for (;;) {
		if (!renew && e->token != NULL && m2m_entry_fits(e, p) &&
		    (int64_t)time(NULL) < e->expires_at - M2M_EARLY_SEC) {
			r = m2m_entry_copy(e, out);
			goto unlock;
		}
		/*
		 * The server answers with a bounded set of workers, and a request
		 * that waits for the network holds one: past max_blocked such
		 * requests, say "busy, retry" at once rather than let a hanging
		 * token endpoint hold every worker (and stall other profiles).
		 */
		if (m->o.max_blocked > 0 && m->nblocked >= m->o.max_blocked) {
			fail->retry = 1;
			r = tba_seterr(TBA_ERR_NETWORK,
			    "%u requests already wait for access token "
			    "exchanges; try again shortly",
			    m->nblocked);
			goto unlock;
		}
		if (!e->busy)
			break;
		/* Someone is exchanging: take what that exchange produces. */
		seen = e->done;
		m->nblocked++;
		while (e->busy && e->done == seen)
			pthread_cond_wait(&m->cv, &m->mu);
		m->nblocked--;
		renew = 0;
		how = "shared exchange";
		if (e->fail_r != TBA_OK) {
			*fail = e->fail;
			r = tba_seterr(e->fail_r, "%s", e->fail_msg);
			goto unlock;
		}
		if (e->token != NULL && m2m_entry_fits(e, p)) {
			r = m2m_entry_copy(e, out);
			goto unlock;
		}
	}
	e->busy = 1;
	m->nblocked++;
	epoch = m->epoch;
	pthread_mutex_unlock(&m->mu);

	m2m_expiry_warn(p);
	r = m2m_exchange(m, peer, p, &reply, fail);
	if (r == TBA_ERR_NOT_FOUND)
		r = m2m_exchange_rotated(m, peer, p, &reply, fail);
	how = "new";

	pthread_mutex_lock(&m->mu);
	m->nblocked--;
	m2m_settle(m, e, p, epoch, r, &reply, fail);
	if (r == TBA_OK && e->token != NULL)
		r = m2m_entry_copy(e, out);
	else if (r == TBA_OK)
		r = tba_seterr(TBA_ERR_LOCKED, "the agent is locked: run 'tba unlock'");
unlock:
	pthread_mutex_unlock(&m->mu);
	tba_jwt_reply_free(&reply);
	/* No audit line, no token handed out. */
	if (m2m_audit(peer, "AccessToken", p, NULL, NULL, NULL, r, how) != TBA_OK) {
		fail->audit_failed = 1;
		r = tba_seterr(TBA_ERR_IO,
		    "the agent cannot write its audit log, so it hands out "
		    "no access token; its log says why");
	}
	if (r != TBA_OK)
		m2m_token_free(out);
	return r;
}
