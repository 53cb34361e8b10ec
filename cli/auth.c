/* SPDX-License-Identifier: MIT */
/* auth.c - the Authorization header for a request, by the profile's kind (see auth.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "tba/buf.h"
#include "tba/mem.h"
#include "tba/policy.h"
#include "tba/url.h"

/* One process asks about one profile: tba curl, tba test, tba exec. */
static struct auth_profile auth_cache;
static int auth_cached;

static void
auth_copy(char *dst, size_t dstsz, const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	snprintf(dst, dstsz, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static tba_err
auth_fill(const cJSON *p, struct auth_profile *a)
{
	const cJSON *v, *h;
	tba_err r;

	memset(a, 0, sizeof(*a));
	auth_copy(a->name, sizeof(a->name), p, "name");
	auth_copy(a->account, sizeof(a->account), p, "account");
	auth_copy(a->certificate_id, sizeof(a->certificate_id), p, "certificate_id");
	auth_copy(a->client_id, sizeof(a->client_id), p, "client_id");
	v = cJSON_GetObjectItemCaseSensitive(p, "kind");
	a->m2m = cJSON_IsString(v) && strcmp(v->valuestring, "m2m") == 0;
	v = cJSON_GetObjectItemCaseSensitive(p, "not_after");
	a->not_after = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
	snprintf(a->policy.name, sizeof(a->policy.name), "%s", a->name);
	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(p, "hosts"))
	{
		if (cJSON_IsString(h) &&
		    (r = tba_profile_add_host(&a->policy, h->valuestring)) != TBA_OK)
			return r;
	}
	return TBA_OK;
}

tba_err
auth_profile(struct tba_agentc *ac, const char *name, const struct auth_profile **out)
{
	cJSON *reply = NULL;
	const cJSON *p, *n;
	tba_err r;

	*out = NULL;
	if (auth_cached && strcmp(auth_cache.name, name) == 0) {
		*out = &auth_cache;
		return TBA_OK;
	}
	if ((r = tba_agentc_call(ac, "List", NULL, &reply)) != TBA_OK)
		goto out;
	r = tba_seterr(TBA_ERR_NOT_FOUND, "the agent has no profile '%.40s' (see tba list)", name);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(reply, "profiles"))
	{
		n = cJSON_GetObjectItemCaseSensitive(p, "name");
		if (!cJSON_IsString(n) || strcmp(n->valuestring, name) != 0)
			continue;
		if ((r = auth_fill(p, &auth_cache)) == TBA_OK) {
			auth_cached = 1;
			*out = &auth_cache;
		}
		break;
	}
out:
	cJSON_Delete(reply);
	return r;
}

/* Wipes a string held by a cJSON tree (an access token) before the tree goes. */
static void
auth_wipe_item(cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (cJSON_IsString(v))
		tba_wipe(v->valuestring, strlen(v->valuestring));
}

static tba_err
auth_bearer(struct tba_agentc *ac, const struct auth_profile *a, const char *method,
    const char *url, int renew, char **auth)
{
	struct tba_url u;
	struct tba_buf b;
	cJSON *reply = NULL;
	const cJSON *t;
	tba_err r;

	memset(&u, 0, sizeof(u));
	tba_params_init(&u.query_params);
	tba_buf_init(&b, 16384);
	if ((r = tba_url_parse(url, &u)) != TBA_OK)
		goto out;
	/* The agent checks Sign requests; a Bearer token must not go where the profile does not. */
	if ((r = tba_policy_check(&a->policy, method, &u)) != TBA_OK)
		goto out;
	if ((r = tba_agentc_access_token(ac, a->name, renew, &reply)) != TBA_OK) {
		/*
		 * AuthorizationFailed is the agent's exchange failing, not this
		 * transfer: callers read TBA_ERR_NETWORK as their own libcurl's.
		 */
		if (r == TBA_ERR_NETWORK) {
			char why[512];

			snprintf(why, sizeof(why), "%s", tba_errmsg(r));
			r = tba_seterr(
			    TBA_ERR_REMOTE, "no access token for profile %s: %s", a->name, why);
		}
		goto out;
	}
	t = cJSON_GetObjectItemCaseSensitive(reply, "access_token");
	if (!cJSON_IsString(t) || t->valuestring[0] == '\0') {
		r = tba_seterr(TBA_ERR_PROTO, "the agent's AccessToken reply has no access_token");
		goto out;
	}
	if ((r = tba_buf_puts(&b, "Bearer ")) != TBA_OK ||
	    (r = tba_buf_puts(&b, t->valuestring)) != TBA_OK)
		goto out;
	*auth = tba_buf_steal(&b);
out:
	auth_wipe_item(reply, "access_token");
	cJSON_Delete(reply);
	tba_buf_free(&b);
	tba_url_free(&u);
	return r;
}

static tba_err
auth_sign(struct tba_agentc *ac, const char *profile, const char *method, const char *url,
    const struct tba_params *form, char **auth)
{
	cJSON *reply = NULL;
	const cJSON *a;
	tba_err r;

	if ((r = tba_agentc_sign(ac, profile, method, url, form, -1, NULL, &reply)) != TBA_OK)
		goto out;
	a = cJSON_GetObjectItemCaseSensitive(reply, "authorization");
	if (!cJSON_IsString(a) || a->valuestring[0] == '\0') {
		r = tba_seterr(TBA_ERR_PROTO, "the agent's Sign reply has no authorization");
		goto out;
	}
	if ((*auth = strdup(a->valuestring)) == NULL)
		r = tba_nomem();
out:
	cJSON_Delete(reply);
	return r;
}

tba_err
auth_header(struct tba_agentc *ac, const char *profile, const char *method, const char *url,
    const struct tba_params *form, int renew, char **auth)
{
	const struct auth_profile *a = NULL;
	tba_err r;

	*auth = NULL;
	/* An unknown profile falls through to Sign, whose error names it. */
	r = auth_profile(ac, profile, &a);
	if (r != TBA_OK && r != TBA_ERR_NOT_FOUND)
		return r;
	if (a != NULL && a->m2m)
		return auth_bearer(ac, a, method, url, renew, auth);
	return auth_sign(ac, profile, method, url, form, auth);
}

void
auth_free(char *auth)
{
	if (auth == NULL)
		return;
	tba_wipe(auth, strlen(auth));
	free(auth);
}
