/* SPDX-License-Identifier: MIT */
/*
 * test_m2m.c - tba test for M2M (OAuth 2.0 client credentials) profiles.
 *
 * Two steps, each diagnosed on its own: a fresh token exchange through the
 * agent (NetSuite answers a refused assertion with an OAuth error code:
 * invalid_client, invalid_grant, invalid_scope, ...), then the same cheap
 * REST request as for TBA profiles with the Bearer token.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "cli.h"
#include "test_m2m.h"
#include "tba/buf.h"
#include "tba/mem.h"

#define M2M_TEST_PATH "/services/rest/record/v1/metadata-catalog"
#define M2M_WARN_DAYS 30
#define M2M_SKEW_WARN 60

/* The server's clock minus ours, from an unauthenticated HEAD (0 when unknown). */
static long
test_m2m_skew(const char *host, const struct http_conf *conf, CURL *h)
{
	char url[TBA_HOST_MAX + 16];
	struct curl_header *d = NULL;
	time_t server;

	snprintf(url, sizeof(url), "https://%s/", host);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 15L);
	if (conf->connect_to != NULL)
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, conf->connect_to);
	if (conf->resolve != NULL)
		curl_easy_setopt(h, CURLOPT_RESOLVE, conf->resolve);
	if (conf->cacert != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, conf->cacert);
	if (curl_easy_perform(h) != CURLE_OK ||
	    curl_easy_header(h, "Date", 0, CURLH_HEADER, -1, &d) != CURLHE_OK ||
	    (server = curl_getdate(d->value, NULL)) == (time_t)-1)
		return 0;
	return (long)(server - time(NULL));
}

/* After a login that worked: a clock more than a minute off will soon break the JWT's iat/exp. */
static void
test_m2m_skew_note(const struct http_resp *resp)
{
	time_t server;
	long skew;

	if (resp->date == NULL || (server = curl_getdate(resp->date, NULL)) == (time_t)-1)
		return;
	skew = (long)(server - time(NULL));
	if (skew > -M2M_SKEW_WARN && skew < M2M_SKEW_WARN)
		return;
	printf(
	    "Clock skew: this machine's clock is %ld s %s the server's (Date: %s); the JWT's iat\n"
	    "  and exp come from it: set it right (NTP) before NetSuite refuses them.\n",
	    skew < 0 ? -skew : skew, skew > 0 ? "behind" : "ahead of", resp->date);
}

static void
test_m2m_where(void)
{
	printf("NetSuite shows the failed attempts in its Login Audit Trail:\n"
	       "  Setup > Users/Roles > User Management > View Login Audit Trail\n");
}

/* One diagnosis per OAuth error code NetSuite gives for a refused assertion. */
static void
test_m2m_diag(const char *name, const struct auth_profile *a, const char *code, long skew)
{
	int64_t now = (int64_t)time(NULL);

	if (skew <= -M2M_SKEW_WARN || skew >= M2M_SKEW_WARN)
		printf(
		    "Clock skew: this machine's clock is %ld s %s the server's; the JWT's iat and "
		    "exp\n  are checked against it: set the clock right (NTP) first.\n",
		    skew < 0 ? -skew : skew, skew > 0 ? "behind" : "ahead of");
	if (strcmp(code, "invalid_client") == 0) {
		printf(
		    "NetSuite does not accept the client assertion (invalid_client). Likely causes:\n");
		if (a->not_after > 0 && a->not_after < now)
			printf(
			    "  - The certificate EXPIRED: make a new one with 'tba m2m rotate %s', upload it\n"
			    "    and record its ID with 'tba m2m cert-id'.\n",
			    name);
		printf(
		    "  - The certificate ID '%s' is not the one NetSuite shows, or the certificate\n"
		    "    was revoked: Setup > Integration > Manage Authentication > OAuth 2.0 Client\n"
		    "    Credentials (M2M) Setup lists the valid ones; record the right one with\n"
		    "    'tba m2m cert-id %s ID'.\n"
		    "  - The integration record does not have 'Client Credentials (Machine to Machine)\n"
		    "    Grant' checked, or the client ID '%s' is not its: Setup > Integration >\n"
		    "    Manage Integrations.\n",
		    a->certificate_id[0] != '\0' ? a->certificate_id : "(none)", name,
		    a->client_id);
	} else if (strcmp(code, "invalid_grant") == 0) {
		printf(
		    "NetSuite refused the grant (invalid_grant). Likely causes:\n"
		    "  - No M2M mapping for this certificate, application, role and entity (mappings\n"
		    "    are not copied to sandboxes): Setup > Integration > Manage Authentication >\n"
		    "    OAuth 2.0 Client Credentials (M2M) Setup.\n"
		    "  - The mapped role lacks the permission 'Log in using OAuth 2.0 Access Tokens'\n"
		    "    (Setup > Users/Roles > Manage Roles), or the entity or role is inactive.\n"
		    "  - The clock of the machine running tba-agent is off (the JWT's iat/exp).\n");
	} else if (strcmp(code, "invalid_scope") == 0) {
		printf(
		    "NetSuite refused the scopes (invalid_scope): the profile asks for scopes the\n"
		    "integration record does not allow. Check its Scope checkboxes (REST Web Services,\n"
		    "RESTlets, SuiteAnalytics Connect) at Setup > Integration > Manage Integrations,\n"
		    "or make the profile again with the right --scope.\n");
	} else if (code[0] != '\0')
		printf("NetSuite answered the OAuth error '%s'.\n", code);
	test_m2m_where();
}

/* Step 1: a fresh access token. Returns -1 when it worked, else the exit code. */
static int
test_m2m_token(const char *name, const struct auth_profile *a, const char *host,
    const struct http_conf *conf, struct tba_agentc *ac, CURL *h)
{
	cJSON *reply = NULL, *t;
	const char *code = "";
	long status = 0;
	tba_err r;

	r = tba_agentc_access_token(ac, name, 1, &reply);
	t = cJSON_GetObjectItemCaseSensitive(reply, "access_token");
	if (cJSON_IsString(t))
		tba_wipe(t->valuestring, strlen(t->valuestring));
	cJSON_Delete(reply);
	if (r == TBA_OK)
		return -1;
	if (r != TBA_ERR_NETWORK) {
		fprintf(stderr, "tba test: the agent gave no access token for %s: %s\n", name,
		    tba_errmsg(r));
		return r == TBA_ERR_AGENT ? TBA_EXIT_AGENT : TBA_EXIT_FAIL;
	}
	tba_agentc_authz_detail(ac, &status, &code);
	if (status == 0) {
		printf(
		    "FAILED: M2M profile %s: the agent cannot reach the token endpoint.\n%s\n"
		    "Check the agent's network (DNS, proxy variables, firewall), and its --cacert and\n"
		    "--connect-to when it runs with them.\n",
		    name, tba_errmsg(r));
		return TBA_EXIT_FAIL;
	}
	printf("FAILED: M2M profile %s, account %s: the token endpoint answered HTTP %ld%s%s\n",
	    name, a->account, status, code[0] != '\0' ? " " : "", code);
	test_m2m_diag(name, a, code, test_m2m_skew(host, conf, h));
	return TBA_EXIT_FAIL;
}

int
test_m2m(const char *name, const char *host, const struct http_conf *conf, struct tba_agentc *ac,
    CURL *h)
{
	const struct auth_profile *a = NULL;
	struct tba_buf url, body;
	struct http_req req;
	struct http_resp resp;
	struct http_sink sink;
	int64_t left;
	int ret = TBA_EXIT_FAIL;
	tba_err r;

	memset(&resp, 0, sizeof(resp));
	tba_buf_init(&url, TBA_URL_MAX);
	tba_buf_init(&body, 4096);
	if ((r = auth_profile(ac, name, &a)) != TBA_OK) {
		ret = cli_fail(r, "test");
		goto out;
	}
	left = a->not_after - (int64_t)time(NULL);
	if (a->not_after > 0 && left < (int64_t)M2M_WARN_DAYS * 86400)
		printf(
		    "Warning: the certificate of %s %s; run 'tba m2m rotate %s' and upload the new "
		    "one.\n",
		    name, left <= 0 ? "has expired" : "expires within 30 days", name);
	if ((ret = test_m2m_token(name, a, host, conf, ac, h)) >= 0)
		goto out;
	ret = TBA_EXIT_FAIL;
	if ((r = tba_buf_putf(&url, "https://%s" M2M_TEST_PATH, host)) != TBA_OK) {
		ret = cli_fail(r, "test");
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.profile = name;
	req.method = "GET";
	req.url = tba_buf_str(&url);
	sink.ctx = &body;
	sink.header = NULL;
	sink.body = http_keep_start;
	r = http_exchange(h, ac, &req, conf, &sink, &resp);
	if (r == TBA_ERR_NETWORK) {
		printf("FAILED: M2M profile %s got a token but cannot reach %s: %s failure.\n"
		       "libcurl says: (%d) %s\nCheck: %s.\n",
		    name, host, http_fail_kind(resp.cc), (int)resp.cc, resp.errbuf,
		    http_fail_hint(resp.cc));
		goto out;
	}
	if (r != TBA_OK) {
		ret = cli_fail(r, "test");
		goto out;
	}
	if (resp.status >= 200 && resp.status < 300) {
		printf("OK: M2M profile %s can log in to NetSuite account %s (HTTP %ld, %ld ms)\n",
		    name, a->account, resp.status, resp.ms);
		test_m2m_skew_note(&resp);
		ret = TBA_EXIT_OK;
		goto out;
	}
	printf("FAILED: M2M profile %s got an access token, but %s answered HTTP %ld (%ld ms).\n",
	    name, host, resp.status, resp.ms);
	if (resp.status == 401)
		printf(
		    "The access token was refused: the mapped role may lack 'Log in using OAuth 2.0\n"
		    "Access Tokens', or the role or entity is inactive (Setup > Users/Roles).\n");
	else if (resp.status == 403)
		printf("The role logged in but may not read the REST metadata catalog: give it\n"
		       "'REST Web Services' (Setup > Users/Roles > Manage Roles).\n");
	test_m2m_where();
out:
	fflush(stdout);
	http_resp_free(&resp);
	tba_buf_free(&url);
	tba_buf_free(&body);
	return ret;
}
