/* SPDX-License-Identifier: MIT */
/* test_profile.c - names, NetSuite account rules, hosts, JSON, policy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tba/policy.h"
#include "tba/profile.h"
#include "tba/url.h"

static void
test_names(void)
{
	ok(tba_profile_name_ok("prod") && tba_profile_name_ok("a.b_c-D9") &&
		tba_profile_name_ok("abcdefghijklmnopqrstuvwxyz012345"),
	    "good names");
	ok(!tba_profile_name_ok("") && !tba_profile_name_ok("a b") && !tba_profile_name_ok("a/b") &&
		!tba_profile_name_ok("abcdefghijklmnopqrstuvwxyz0123456") &&
		!tba_profile_name_ok(NULL),
	    "bad names refused (empty, space, slash, 33 chars)");
}

static void
test_accounts(void)
{
	const char *good[] = {"1234567", "1234567_SB1", "1234567_sb1", "TSTDRV1234567", "a_b"};
	const char *bad[] = {"", " 1234567", "1234567 ", "12 34", "1234567-SB1", "_1234567",
	    "1234567_", "1234567__SB1", "1234567_SB1_2", "1234.567", "12345\xc3\xa9",
	    "1234567_SB1\n"};
	char realm[TBA_FIELD_MAX + 1];
	struct tba_profile p;
	enum tba_kind k;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		is_int(tba_ns_account_check(good[i]), TBA_OK, "account %s ok", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(tba_ns_account_check(bad[i]), TBA_ERR_INVALID, "account \"%.*s\" refused",
		    (int)strcspn(bad[i], "\n"), bad[i]);
	tba_ns_account_check("12-34");
	ok(strstr(tba_errmsg(TBA_ERR_INVALID), "1234567_SB1") != NULL,
	    "the message shows what an account ID looks like: %s", tba_errmsg(TBA_ERR_INVALID));

	ok(tba_ns_realm("1234567_sb1", realm, sizeof(realm)) == TBA_OK, "realm");
	is_str(realm, "1234567_SB1", "realm is upper-cased");
	is_int(tba_ns_realm("bad id", realm, sizeof(realm)), TBA_ERR_INVALID, "realm of a bad ID");

	memset(&p, 0, sizeof(p));
	snprintf(p.account, sizeof(p.account), "1234567_SB1");
	ok(tba_ns_add_hosts(&p) == TBA_OK, "NetSuite hosts");
	is_int(p.nhosts, 3, "three hosts");
	is_str(p.hosts[0], "1234567-sb1.suitetalk.api.netsuite.com", "suitetalk host");
	is_str(p.hosts[1], "1234567-sb1.restlets.api.netsuite.com", "restlets host");
	is_str(p.hosts[2], "1234567-sb1.app.netsuite.com", "app host");
	ok(tba_ns_add_hosts(&p) == TBA_OK && p.nhosts == 3, "adding them again changes nothing");

	ok(tba_kind_parse("oauth1", &k) == TBA_OK && k == TBA_KIND_OAUTH1, "kind oauth1");
	is_int(tba_kind_parse("NetSuite", &k), TBA_ERR_INVALID, "kinds are case-sensitive");
	is_str(tba_kind_name(TBA_KIND_NETSUITE), "netsuite", "kind name");
}

static void
test_hosts(void)
{
	struct tba_profile p;
	char h[64];
	int i;

	memset(&p, 0, sizeof(p));
	ok(tba_profile_add_host(&p, "API.Example.COM") == TBA_OK, "add host");
	is_str(p.hosts[0], "api.example.com", "hosts are lower-cased");
	ok(tba_profile_add_host(&p, "::1") == TBA_OK, "IPv6 without brackets");
	is_str(p.hosts[1], "[::1]", "... is stored bracketed, as URLs parse");
	ok(tba_profile_add_host(&p, "[2001:DB8::1]") == TBA_OK &&
		strcmp(p.hosts[2], "[2001:db8::1]") == 0,
	    "bracketed IPv6");
	ok(tba_profile_add_host(&p, "10.0.0.1") == TBA_OK, "IPv4");
	is_int(tba_profile_add_host(&p, "h.com:443"), TBA_ERR_INVALID, "host with port refused");
	is_int(tba_profile_add_host(&p, "https://h.com"), TBA_ERR_INVALID, "URL refused");
	is_int(tba_profile_add_host(&p, "h..com"), TBA_ERR_INVALID, "empty label refused");
	is_int(tba_profile_add_host(&p, ".h.com"), TBA_ERR_INVALID, "leading dot refused");
	is_int(tba_profile_add_host(&p, ""), TBA_ERR_INVALID, "empty host refused");
	is_int(tba_profile_add_host(&p, "a b"), TBA_ERR_INVALID, "space refused");
	for (i = (int)p.nhosts; i < TBA_HOSTS_MAX; i++) {
		snprintf(h, sizeof(h), "h%d.example", i);
		tba_profile_add_host(&p, h);
	}
	is_int(p.nhosts, TBA_HOSTS_MAX, "filled to TBA_HOSTS_MAX");
	is_int(
	    tba_profile_add_host(&p, "one-more.example"), TBA_ERR_TOO_LARGE, "one host too many");
	is_int(tba_profile_add_host(&p, "API.example.com"), TBA_OK, "a duplicate is still fine");
}

static void
make_profile(struct tba_profile *p)
{
	int i;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "prod");
	p->kind = TBA_KIND_NETSUITE;
	snprintf(p->account, sizeof(p->account), "1234567_sb1");
	tba_ns_realm(p->account, p->realm, sizeof(p->realm));
	snprintf(p->consumer_key, sizeof(p->consumer_key), "ck\"\\/\xc3\xa9");
	snprintf(p->token_id, sizeof(p->token_id), "tok");
	p->sigmethod = TBA_SIG_HMAC_SHA256;
	tba_ns_add_hosts(p);
	p->created = 1700000000;
	for (i = 0; i < TBA_KEY_ID_LEN; i++)
		p->key_id[i] = (unsigned char)(0xf0 + i);
}

static tba_err
parse(const char *json)
{
	struct tba_profile q;
	tba_err r = tba_profile_from_json(json, strlen(json), &q);

	tba_clearerr();
	return r;
}

static void
test_json(void)
{
	struct tba_profile p, q;
	char *json = NULL, *json2 = NULL;
	size_t i;

	make_profile(&p);
	ok(tba_profile_to_json(&p, &json) == TBA_OK, "to JSON");
	ok(json != NULL && strstr(json, "\"v\":1") != NULL && strchr(json, '\n') == NULL,
	    "compact, versioned: %s", json);
	ok(strstr(json, "\"key_id\":\"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff\"") != NULL,
	    "key_id in hex");
	ok(tba_profile_from_json(json, strlen(json), &q) == TBA_OK, "from JSON: %s",
	    tba_errmsg(TBA_ERR_INVALID));
	is_str(q.name, "prod", "name");
	is_int(q.kind, TBA_KIND_NETSUITE, "kind");
	is_str(q.account, "1234567_sb1", "account as typed");
	is_str(q.realm, "1234567_SB1", "realm");
	is_str(q.consumer_key, "ck\"\\/\xc3\xa9", "consumer key with quotes and UTF-8");
	is_str(q.token_id, "tok", "token ID");
	is_int(q.sigmethod, TBA_SIG_HMAC_SHA256, "signature method");
	is_int(q.nhosts, 3, "hosts");
	for (i = 0; i < q.nhosts; i++)
		is_str(q.hosts[i], p.hosts[i], "host %zu", i);
	is_int(q.created, 1700000000, "created");
	ok(memcmp(q.key_id, p.key_id, TBA_KEY_ID_LEN) == 0, "key_id");
	ok(tba_profile_to_json(&q, &json2) == TBA_OK && strcmp(json, json2) == 0,
	    "round trip is stable");
	free(json);
	free(json2);

	is_int(
	    parse(
		"{\"v\":1,\"name\":\"x\",\"kind\":\"oauth1\",\"consumer_key\":\"c\",\"token_id\":\"t\","
		"\"signature_method\":\"HMAC-SHA1\",\"hosts\":[\"a.example\"],\"created\":5,"
		"\"key_id\":\"00000000000000000000000000000000\",\"future\":{\"x\":[1,2]}}"),
	    TBA_OK, "oauth1 without account/realm, unknown field ignored");
#define J(extra) \
	"{\"v\":1,\"name\":\"x\",\"kind\":\"netsuite\",\"account\":\"123\"," \
	"\"consumer_key\":\"c\",\"token_id\":\"t\",\"signature_method\":\"HMAC-SHA256\"," \
	"\"hosts\":[],\"created\":5,\"key_id\":\"00000000000000000000000000000000\"" extra "}"
	is_int(parse(J("")), TBA_OK, "minimal netsuite profile");
	is_int(parse(J(",\"v\":2")), TBA_ERR_INVALID, "duplicate field refused");
	is_int(parse(J(",\"hosts\":[\"evil.com\"]")), TBA_ERR_INVALID, "duplicate hosts refused");
	is_int(parse("{\"v\":2}"), TBA_ERR_INVALID, "unknown version");
	is_int(parse(""), TBA_ERR_INVALID, "empty");
	is_int(parse("[]"), TBA_ERR_INVALID, "not an object");
	is_int(parse("{\"v\":1,"), TBA_ERR_INVALID, "truncated");
	is_int(parse(J("") "x"), TBA_ERR_INVALID, "trailing bytes");
	is_int(
	    parse("{\"v\":1,\"name\":\"a b\",\"kind\":\"netsuite\",\"account\":\"123\","
		  "\"consumer_key\":\"c\",\"token_id\":\"t\",\"signature_method\":\"HMAC-SHA256\","
		  "\"hosts\":[],\"created\":5,\"key_id\":\"00000000000000000000000000000000\"}"),
	    TBA_ERR_INVALID, "bad name");
	is_int(
	    parse("{\"v\":1,\"name\":\"x\",\"kind\":\"netsuite\",\"account\":\"12 3\","
		  "\"consumer_key\":\"c\",\"token_id\":\"t\",\"signature_method\":\"HMAC-SHA256\","
		  "\"hosts\":[],\"created\":5,\"key_id\":\"00000000000000000000000000000000\"}"),
	    TBA_ERR_INVALID, "bad account");
	is_int(parse("{\"v\":1,\"name\":\"x\",\"kind\":\"netsuite\",\"account\":\"123\","
		     "\"consumer_key\":\"c\",\"token_id\":\"t\",\"signature_method\":\"HMAC-MD5\","
		     "\"hosts\":[],\"created\":5,\"key_id\":\"00000000000000000000000000000000\"}"),
	    TBA_ERR_INVALID, "bad signature method");
	is_int(parse("{\"v\":1,\"name\":\"x\",\"kind\":\"netsuite\",\"account\":\"123\","
		     "\"consumer_key\":7,\"token_id\":\"t\",\"signature_method\":\"HMAC-SHA256\","
		     "\"hosts\":[],\"created\":5,\"key_id\":\"00000000000000000000000000000000\"}"),
	    TBA_ERR_INVALID, "consumer key not a string");
	is_int(
	    parse("{\"v\":1,\"name\":\"x\",\"kind\":\"netsuite\",\"account\":\"123\","
		  "\"consumer_key\":\"c\",\"token_id\":\"t\",\"signature_method\":\"HMAC-SHA256\","
		  "\"hosts\":[],\"created\":5,\"key_id\":\"0000\"}"),
	    TBA_ERR_INVALID, "short key_id");
	is_int(
	    parse("{\"v\":1,\"name\":\"x\",\"kind\":\"netsuite\",\"account\":\"123\","
		  "\"consumer_key\":\"c\",\"token_id\":\"t\",\"signature_method\":\"HMAC-SHA256\","
		  "\"hosts\":[],\"created\":5.5,\"key_id\":\"00000000000000000000000000000000\"}"),
	    TBA_ERR_INVALID, "fractional created");
	is_int(
	    parse(
		"{\"v\":1,\"name\":\"x\",\"kind\":\"netsuite\",\"account\":\"123\","
		"\"consumer_key\":\"c\",\"token_id\":\"t\",\"signature_method\":\"HMAC-SHA256\","
		"\"hosts\":[\"a:1\"],\"created\":5,\"key_id\":\"00000000000000000000000000000000\"}"),
	    TBA_ERR_INVALID, "bad host");
	{
		char buf[TBA_META_MAX * 2], *w = buf;
		int n;

		n = snprintf(w, sizeof(buf),
		    "{\"v\":1,\"name\":\"x\",\"kind\":\"oauth1\","
		    "\"consumer_key\":\"c\",\"token_id\":\"t\",\"signature_method\":\"HMAC-SHA256\","
		    "\"created\":5,\"key_id\":\"00000000000000000000000000000000\",\"hosts\":[");
		w += n;
		for (i = 0; i <= TBA_HOSTS_MAX; i++)
			w += snprintf(w, (size_t)(buf + sizeof(buf) - w), "%s\"h%zu.example\"",
			    i ? "," : "", i);
		snprintf(w, (size_t)(buf + sizeof(buf) - w), "]}");
		is_int(parse(buf), TBA_ERR_TOO_LARGE, "too many hosts");

		w = buf +
		    snprintf(buf, sizeof(buf),
			"{\"v\":1,\"name\":\"x\",\"kind\":\"oauth1\","
			"\"consumer_key\":\"");
		memset(w, 'c', TBA_FIELD_MAX + 1);
		w += TBA_FIELD_MAX + 1;
		snprintf(w, (size_t)(buf + sizeof(buf) - w),
		    "\",\"token_id\":\"t\","
		    "\"signature_method\":\"HMAC-SHA256\",\"hosts\":[],\"created\":5,"
		    "\"key_id\":\"00000000000000000000000000000000\"}");
		is_int(parse(buf), TBA_ERR_INVALID, "over-long consumer key");

		memset(buf, ' ', sizeof(buf));
		buf[sizeof(buf) - 1] = '\0';
		is_int(parse(buf), TBA_ERR_TOO_LARGE, "over TBA_META_MAX bytes");
	}
}

static tba_err
policy(const struct tba_profile *p, const char *method, const char *url)
{
	struct tba_url u;
	tba_err r;

	if ((r = tba_url_parse(url, &u)) != TBA_OK)
		return r;
	r = tba_policy_check(p, method, &u);
	tba_url_free(&u);
	return r;
}

static void
test_policy(void)
{
	struct tba_profile p;
	const char *h = "https://1234567-sb1.restlets.api.netsuite.com";
	char url[256];

	make_profile(&p);
	is_int(policy(&p, "GET", "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/x"),
	    TBA_OK, "allowed host");
	is_int(policy(&p, "POST", "HTTPS://1234567-SB1.RESTLETS.API.NETSUITE.COM:443/app?x=1"),
	    TBA_OK, "upper case and :443 fine");
	is_int(policy(&p, "GET", "https://evil.com/"), TBA_ERR_POLICY, "other host refused");
	ok(strstr(tba_errmsg(TBA_ERR_POLICY),
	       "host evil.com is not allowed for profile prod (allowed: "
	       "1234567-sb1.suitetalk.api.netsuite.com, ") != NULL,
	    "message: %s", tba_errmsg(TBA_ERR_POLICY));
	is_int(policy(&p, "GET", "https://x.1234567-sb1.app.netsuite.com/"), TBA_ERR_POLICY,
	    "subdomain of an allowed host refused");
	is_int(policy(&p, "GET", "https://1234567-sb1.app.netsuite.com.evil.com/"), TBA_ERR_POLICY,
	    "allowed host as a prefix refused");
	is_int(policy(&p, "GET", "https://evil1234567-sb1.app.netsuite.com/"), TBA_ERR_POLICY,
	    "allowed host as a suffix refused");
	is_int(policy(&p, "GET", "https://1234567-sb1.app.netsuite.com@evil.com/"), TBA_ERR_POLICY,
	    "allowed host as userinfo refused");
	is_int(policy(&p, "GET", "https://evil.com@1234567-sb1.app.netsuite.com/"), TBA_ERR_POLICY,
	    "userinfo refused even with an allowed host");
	ok(strstr(tba_errmsg(TBA_ERR_POLICY), "user@host") != NULL, "message: %s",
	    tba_errmsg(TBA_ERR_POLICY));
	snprintf(url, sizeof(url), "http://1234567-sb1.restlets.api.netsuite.com/");
	is_int(policy(&p, "GET", url), TBA_ERR_POLICY, "http refused");
	ok(strstr(tba_errmsg(TBA_ERR_POLICY), "use https") != NULL, "message: %s",
	    tba_errmsg(TBA_ERR_POLICY));
	snprintf(url, sizeof(url), "%s:8443/", h);
	is_int(policy(&p, "GET", url), TBA_ERR_POLICY, "port 8443 refused");
	snprintf(url, sizeof(url), "%s/", h);
	is_int(policy(&p, "get", url), TBA_ERR_POLICY, "lower-case method refused");
	is_int(policy(&p, "G-T", url), TBA_ERR_POLICY, "method with punctuation refused");
	is_int(policy(&p, "", url), TBA_ERR_POLICY, "empty method refused");
	is_int(policy(&p, "PROPFIND", url), TBA_OK, "any upper-case token is a method");
	snprintf(url, sizeof(url), "%s/app?script=1&oauth_timestamp=1", h);
	is_int(policy(&p, "GET", url), TBA_ERR_POLICY, "oauth_timestamp in the query refused");
	ok(strstr(tba_errmsg(TBA_ERR_POLICY), "oauth_timestamp") != NULL, "message: %s",
	    tba_errmsg(TBA_ERR_POLICY));
	snprintf(url, sizeof(url), "%s/app?oauthx=1&xoauth_nonce=2", h);
	is_int(policy(&p, "GET", url), TBA_OK, "names that only contain oauth are fine");
	{
		struct tba_params form;

		tba_params_init(&form);
		ok(tba_params_add(&form, "a", "1") == TBA_OK &&
			tba_params_add(&form, "oauth_nonce", "abcdef") == TBA_OK,
		    "form built");
		is_int(tba_policy_check_params(&form), TBA_ERR_POLICY,
		    "oauth_nonce in a form refused");
		tba_params_free(&form);
		tba_params_init(&form);
		is_int(tba_policy_check_params(&form), TBA_OK, "empty form fine");
		tba_params_free(&form);
	}
	snprintf(url, sizeof(url), "%s/", h);
	p.nhosts = 0;
	is_int(policy(&p, "GET", url), TBA_ERR_POLICY, "no hosts: everything refused");
}

int
main(void)
{
	test_names();
	test_accounts();
	test_hosts();
	test_json();
	test_policy();
	return tap_done();
}
