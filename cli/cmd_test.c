/* SPDX-License-Identifier: MIT */
/*
 * cmd_test.c - tba test: can this profile log in to its NetSuite account?
 *
 * One cheap authenticated REST request: GET the record metadata catalog
 * (/services/rest/record/v1/metadata-catalog), which every role with the
 * "REST Web Services" permission may read, touches no business record and
 * changes nothing. NetSuite only ever answers a failed login with 401
 * INVALID_LOGIN, so on failure we print what it can mean, what we can
 * measure from here (the clock skew, from the server's Date header; the
 * realm), and where NetSuite keeps the real reason (the Login Audit Trail).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "http.h"
#include "test_m2m.h"
#include "tba/getopt.h"
#include "tba/buf.h"
#include "tba/profile.h"

#define TEST_PATH "/services/rest/record/v1/metadata-catalog"
#define TEST_BODY_MAX 65536 /* what we keep of the answer to read its error code */
#define TEST_SKEW_WARN 60   /* seconds: report skew past a minute */
#define TEST_SKEW_LIMIT 300 /* NetSuite's window for oauth_timestamp */

struct test_prof {
	char kind[16];
	char account[TBA_FIELD_MAX + 1];
	char realm[TBA_FIELD_MAX + 1];
	char host[TBA_HOST_MAX + 1];
};

static void
test_help(void)
{
	printf(
	    "usage: tba test PROFILE [--connect-to H1:P1:H2:P2] [--resolve H:P:ADDR] [--cacert FILE]\n\n"
	    "Checks that PROFILE can log in to its NetSuite account: sends one signed\n"
	    "GET https://<account>.suitetalk.api.netsuite.com" TEST_PATH "\n"
	    "(the record metadata catalog: read-only, small, needs only the role's\n"
	    "REST Web Services permission) and prints OK with the time taken, or a\n"
	    "diagnosis:\n"
	    "  401 INVALID_LOGIN  the likely causes (account ID / realm case and sandbox\n"
	    "                     suffix, revoked token, role, consumer/token pair, clock)\n"
	    "                     and where NetSuite shows the real one: Setup > Users/Roles >\n"
	    "                     User Management > View Login Audit Trail\n"
	    "  403                the role's permissions\n"
	    "  clock skew         measured from the server's Date header\n"
	    "  DNS, connect, TLS  named, with what to check\n\n"
	    "  --connect-to, --resolve, --cacert   as in tba curl (and curl)\n"
	    "  -v, --verbose                       libcurl's trace (Authorization redacted)\n\n"
	    "Exit status: 0 login works, 1 it does not (or the agent refused),\n"
	    "2 agent unreachable, 64 usage error.\n");
}

static void
test_copy(char *dst, size_t n, const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	snprintf(dst, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

/* Finds profile name in the agent's List reply. */
static tba_err
test_profile(struct tba_agentc *ac, const char *name, struct test_prof *p)
{
	cJSON *reply = NULL;
	const cJSON *list, *it, *hosts, *h;
	tba_err r;

	memset(p, 0, sizeof(*p));
	if ((r = tba_agentc_call(ac, "List", NULL, &reply)) != TBA_OK)
		goto out;
	list = cJSON_GetObjectItemCaseSensitive(reply, "profiles");
	r = tba_seterr(TBA_ERR_NOT_FOUND,
	    "the agent has no profile '%s' ('tba list' shows those it "
	    "has; 'tba import' adds one)",
	    name);
	cJSON_ArrayForEach(it, list)
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");

		if (!cJSON_IsString(n) || strcmp(n->valuestring, name) != 0)
			continue;
		test_copy(p->kind, sizeof(p->kind), it, "kind");
		test_copy(p->account, sizeof(p->account), it, "account");
		test_copy(p->realm, sizeof(p->realm), it, "realm");
		hosts = cJSON_GetObjectItemCaseSensitive(it, "hosts");
		cJSON_ArrayForEach(h, hosts)
		{
			size_t l;

			if (!cJSON_IsString(h))
				continue;
			l = strlen(h->valuestring);
			if (l > 27 && l <= TBA_HOST_MAX &&
			    strcmp(h->valuestring + l - 27, ".suitetalk.api.netsuite.com") == 0) {
				snprintf(p->host, sizeof(p->host), "%s", h->valuestring);
				break;
			}
		}
		r = TBA_OK;
		break;
	}
out:
	cJSON_Delete(reply);
	return r;
}

/* NetSuite's o:errorDetails[0].o:errorCode and detail, if the body has them. */
static void
test_error_code(const struct tba_buf *body, char *code, size_t codesz, char *detail, size_t detsz)
{
	cJSON *j;
	const cJSON *d, *first;

	code[0] = detail[0] = '\0';
	if (body->len == 0 || (j = cJSON_ParseWithLength(body->data, body->len)) == NULL)
		return;
	d = cJSON_GetObjectItemCaseSensitive(j, "o:errorDetails");
	first = cJSON_GetArrayItem(d, 0);
	test_copy(code, codesz, first, "o:errorCode");
	test_copy(detail, detsz, first, "detail");
	cJSON_Delete(j);
}

/* Prints a skew's size: "1 h 2 min", "3 min" (rounded to the minute) or "45 s". */
static void
test_print_span(long s)
{
	long min;

	if (s < 0)
		s = -s;
	min = (s + 30) / 60;
	if (s < 60)
		printf("%ld s", s);
	else if (min >= 60)
		printf("%ld h %ld min", min / 60, min % 60);
	else
		printf("%ld min", min);
}

/* Returns 1 when the skew is past the point where NetSuite refuses timestamps. */
static int
test_report_skew(const struct http_resp *resp, long *skew_out)
{
	time_t server, now;
	long skew;

	*skew_out = 0;
	if (resp->date == NULL || (server = curl_getdate(resp->date, NULL)) == (time_t)-1)
		return 0;
	now = time(NULL);
	skew = (long)(server - now);
	*skew_out = skew;
	if (skew > -TEST_SKEW_WARN && skew < TEST_SKEW_WARN)
		return 0;
	printf("Clock skew: this machine's clock is ");
	test_print_span(skew);
	printf(
	    " %s the server's (server Date: %s).\n", skew > 0 ? "behind" : "ahead of", resp->date);
	if (skew <= -TEST_SKEW_LIMIT || skew >= TEST_SKEW_LIMIT) {
		printf(
		    "  NetSuite refuses oauth_timestamp values more than about 5 minutes off: set\n"
		    "  the clock of the machine running tba-agent right (e.g. enable NTP with\n"
		    "  'timedatectl set-ntp true') and run 'tba test' again.\n");
		return 1;
	}
	printf("  That is still accepted, but fix it before it grows past 5 minutes (NTP).\n");
	return 0;
}

static void
test_diag_401(const char *name, const struct test_prof *p, int skewed)
{
	printf("NetSuite answered 401 INVALID_LOGIN: it did not accept the login of profile %s.\n",
	    name);
	if (skewed)
		printf("The clock skew above is enough to cause this; fix it first.\n");
	printf("Likely causes:\n"
	       "  - Account ID / realm: the profile signs for account %s, realm \"%s\".\n"
	       "    It must be the ID at Setup > Company > Company Information exactly,\n"
	       "    with a sandbox's suffix (1234567_SB1, not 1234567); the realm is that\n"
	       "    ID in capitals.\n"
	       "  - The token was revoked or made inactive, or its user or role is inactive\n"
	       "    (Setup > Users/Roles > Access Tokens).\n"
	       "  - The integration record is disabled, blocked or has Token-based\n"
	       "    Authentication unchecked (Setup > Integration > Manage Integrations), or\n"
	       "    the role lacks 'Log in using Access Tokens'.\n"
	       "  - The consumer key/secret and token ID/secret do not belong together (a\n"
	       "    token made for another integration record, or secrets swapped or mistyped\n"
	       "    at import: re-import with 'tba import %s ... --replace').\n"
	       "  - The clock of the machine running tba-agent is more than 5 minutes off.\n"
	       "NetSuite records the real reason in its Login Audit Trail:\n"
	       "  Setup > Users/Roles > User Management > View Login Audit Trail\n"
	       "(the Detail column of the integration user's failed logins).\n",
	    p->account, p->realm, name);
}

static void
test_diag_403(const char *name, const char *detail)
{
	printf(
	    "NetSuite answered 403: profile %s logged in, but its role may not do this.\n", name);
	if (detail[0] != '\0')
		printf("NetSuite says: %s\n", detail);
	printf("Give the token's role these permissions (Setup > Users/Roles > Manage Roles):\n"
	       "  Setup > REST Web Services (Full), Setup > Log in using Access Tokens (Full),\n"
	       "  and the record permissions your integration needs. Check also that\n"
	       "  Setup > Company > Enable Features > SuiteCloud has REST Web Services and\n"
	       "  Token-based Authentication on.\n");
}

static int
test_run(const char *name, struct http_conf *conf, struct tba_agentc *ac, CURL *h)
{
	struct test_prof p;
	struct tba_buf url, body;
	struct http_req req;
	struct http_resp resp;
	struct http_sink sink;
	char code[128], detail[512];
	long skew = 0;
	int skewed, ret = TBA_EXIT_FAIL;
	tba_err r;

	memset(&resp, 0, sizeof(resp));
	tba_buf_init(&url, TBA_URL_MAX);
	tba_buf_init(&body, TEST_BODY_MAX);
	if ((r = test_profile(ac, name, &p)) != TBA_OK) {
		ret = cli_fail(r, "test");
		goto out;
	}
	if (strcmp(p.kind, "m2m") == 0 && p.host[0] != '\0') {
		ret = test_m2m(name, p.host, conf, ac, h);
		goto out;
	}
	if (strcmp(p.kind, "netsuite") != 0 || p.host[0] == '\0') {
		fprintf(stderr,
		    "tba test: profile %s is a %s profile with no NetSuite REST host; "
		    "'tba test' checks NetSuite logins only (try 'tba curl %s URL')\n",
		    name, p.kind[0] != '\0' ? p.kind : "non-NetSuite", name);
		goto out;
	}
	if ((r = tba_buf_putf(&url, "https://%s" TEST_PATH, p.host)) != TBA_OK) {
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
		printf("FAILED: profile %s cannot reach %s: %s failure.\n", name, p.host,
		    http_fail_kind(resp.cc));
		printf("libcurl says: (%d) %s\nCheck: %s.\n", (int)resp.cc, resp.errbuf,
		    http_fail_hint(resp.cc));
		goto out;
	}
	if (r != TBA_OK) {
		ret = cli_fail(r, "test: the agent would not sign the test request");
		goto out;
	}
	test_error_code(&body, code, sizeof(code), detail, sizeof(detail));
	if (resp.status >= 200 && resp.status < 300) {
		printf("OK: profile %s can log in to NetSuite account %s (HTTP %ld, %ld ms)\n",
		    name, p.realm[0] != '\0' ? p.realm : p.account, resp.status, resp.ms);
		test_report_skew(&resp, &skew);
		ret = TBA_EXIT_OK;
		goto out;
	}
	printf("FAILED: profile %s, account %s: HTTP %ld%s%s from %s (%ld ms)\n", name,
	    p.realm[0] != '\0' ? p.realm : p.account, resp.status, code[0] != '\0' ? " " : "", code,
	    p.host, resp.ms);
	skewed = test_report_skew(&resp, &skew);
	if (resp.status == 401)
		test_diag_401(name, &p, skewed);
	else if (resp.status == 403)
		test_diag_403(name, detail);
	else if (resp.status == 404)
		printf(
		    "The REST endpoint was not found: check that REST Web Services is enabled at\n"
		    "Setup > Company > Enable Features > SuiteCloud, and the account ID.\n");
	else if (detail[0] != '\0')
		printf("NetSuite says: %s\n", detail);
out:
	fflush(stdout);
	http_resp_free(&resp);
	tba_buf_free(&url);
	tba_buf_free(&body);
	return ret;
}

enum { OPT_CONNECT_TO = 256, OPT_RESOLVE, OPT_CACERT, OPT_HELP };

int
cmd_test(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"connect-to", required_argument, NULL, OPT_CONNECT_TO},
	    {"resolve", required_argument, NULL, OPT_RESOLVE},
	    {"cacert", required_argument, NULL, OPT_CACERT},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	struct http_conf conf;
	struct http_session hs = {0};
	int c, ret = TBA_EXIT_FAIL;
	tba_err r = TBA_OK;

	memset(&conf, 0, sizeof(conf));
	conf.connect_timeout = 20;
	conf.max_time = 60;
	optind = 1;
	opterr = 0;
	while ((c = tba_getopt(argc, argv, ":v", longopts)) != -1) {
		switch (c) {
		case OPT_CONNECT_TO:
			r = http_list_add(&conf.connect_to, optarg);
			break;
		case OPT_RESOLVE:
			r = http_list_add(&conf.resolve, optarg);
			break;
		case OPT_CACERT:
			conf.cacert = optarg;
			break;
		case 'v':
			conf.verbose = 1;
			break;
		case OPT_HELP:
			test_help();
			ret = TBA_EXIT_OK;
			goto out;
		case ':':
			ret = cli_usage("test", "option %s needs a value", argv[optind - 1]);
			goto out;
		default:
			ret = cli_usage("test", "unknown option %s", argv[optind - 1]);
			goto out;
		}
		if (r != TBA_OK) {
			ret = cli_fail(r, "test");
			goto out;
		}
	}
	if (argc - optind != 1) {
		ret = cli_usage("test", "expected one PROFILE");
		goto out;
	}
	if ((r = http_session_open(&hs)) != TBA_OK) {
		ret = cli_fail(r, "test");
		goto out;
	}
	ret = test_run(argv[optind], &conf, hs.ac, hs.h);
out:
	http_session_close(&hs);
	curl_slist_free_all(conf.connect_to);
	curl_slist_free_all(conf.resolve);
	return ret;
}
