/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dispatch - the agent's request handling end to end, minus the
 * socket: dispatch() from agent/dispatch.c with the real session pool,
 * profile table and audit, signing with a throwaway SoftHSM token.
 *
 * tests/fuzz/run makes the token (softhsm/mktoken) and exports
 * SOFTHSM2_CONF and TBA_TOKEN; LLVMFuzzerInitialize imports one NetSuite
 * profile "fz" with known secrets. Each input is one request message.
 *
 * Invariants (the agent's security promises, checked per input):
 * - exactly one reply, NUL-terminated, that a client parses;
 * - a signed Sign request passed policy: https, no userinfo, port 443 or
 *   none, host one of the profile's hosts;
 * - every signature returned equals OpenSSL's HMAC (tba_hmac_soft) of the
 *   base string returned, under the OAuth key of the known secrets, and
 *   that base string starts with the request's method;
 * - a Passport signature equals the HMAC of account&ck&token&nonce&ts.
 * The agent is unlocked again after any input that locked it, so inputs
 * stay independent.
 */
#include "fuzz.h"

#include <cjson/cJSON.h>

#include "agent.h"
#include "tba/buf.h"
#include "tba/hmac.h"
#include "tba/log.h"
#include "tba/mem.h"
#include "tba/proto.h"
#include "tba/token.h"

#define FZ_CS "fuzz consumer secret"
#define FZ_TS "fuzz&token secret"

int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct agent_ctx ctx;
static unsigned char *key;
static size_t keylen, keycap;
static char *pin;
static size_t pinlen, pincap;
static struct tba_profile prof;

static void
die(const char *what, tba_err r)
{
	fprintf(stderr,
	    "fuzz_dispatch: %s: %s (run it through tests/fuzz/run, which makes the "
	    "token)\n",
	    what, tba_errmsg(r));
	exit(1);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct tba_token *t = NULL;
	const char *uri = getenv("TBA_TOKEN");
	tba_err r;

	tba_log_init("fuzz_dispatch", TBA_LOG_ERROR);
	if ((r = tba_hmac_oauth_key(
		 FZ_CS, strlen(FZ_CS), FZ_TS, strlen(FZ_TS), &key, &keylen, &keycap)) != TBA_OK)
		die("key", r);
	if ((r = tba_token_open(uri, &t)) != TBA_OK)
		die("token", r);
	if ((r = tba_token_get_pin(t, &pin, &pinlen, &pincap)) != TBA_OK ||
	    (r = tba_token_login(t, pin, pinlen)) != TBA_OK)
		die("login", r);
	memset(&prof, 0, sizeof(prof));
	snprintf(prof.name, sizeof(prof.name), "fz");
	prof.kind = TBA_KIND_NETSUITE;
	snprintf(prof.account, sizeof(prof.account), "1234567_SB1");
	snprintf(prof.consumer_key, sizeof(prof.consumer_key), "ck-fuzz");
	snprintf(prof.token_id, sizeof(prof.token_id), "tk-fuzz");
	prof.sigmethod = TBA_SIG_HMAC_SHA256;
	if ((r = tba_ns_realm(prof.account, prof.realm, sizeof(prof.realm))) != TBA_OK ||
	    (r = tba_ns_add_hosts(&prof)) != TBA_OK)
		die("profile", r);
	if ((r = tba_token_import(t, &prof, key, keylen, 1)) != TBA_OK)
		die("import", r);
	tba_token_close(t);

	if ((r = pool_open(uri, NULL, 0, 0, 2, &ctx.pool)) != TBA_OK)
		die("pool", r);
	if ((r = profiles_new(ctx.pool, &ctx.profiles)) != TBA_OK)
		die("profiles", r);
	if ((r = audit_open(NULL)) != TBA_OK)
		die("audit", r);
	ctx.max_skew = 300;
	return 0;
}

static const char *
jstr(const cJSON *o, const char *name)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(j) ? j->valuestring : NULL;
}

/* sig is base64(HMAC(key, text)). */
static void
check_mac(const char *text, const char *sig, const char *what)
{
	unsigned char mac[TBA_SIG_MAX];
	struct tba_buf b64;
	size_t maclen = 0;

	FUZZ_ASSERT(text != NULL && sig != NULL, "%s reply lacks fields", what);
	FUZZ_ASSERT(tba_hmac_soft(TBA_SIG_HMAC_SHA256, key, keylen, text, strlen(text), mac,
			&maclen) == TBA_OK,
	    "soft HMAC");
	tba_buf_init(&b64, 256);
	FUZZ_ASSERT(tba_base64(mac, maclen, &b64) == TBA_OK, "base64");
	FUZZ_ASSERT(strcmp(tba_buf_str(&b64), sig) == 0, "WRONG %s signature %s over <%s>", what,
	    sig, text);
	tba_buf_free(&b64);
}

static void
check_policy(const char *url)
{
	struct tba_url u;
	size_t i;
	int found = 0;

	memset(&u, 0, sizeof(u));
	FUZZ_ASSERT(tba_url_parse(url, &u) == TBA_OK, "signed an unparsable URL <%s>", url);
	FUZZ_ASSERT(strcmp(u.scheme, "https") == 0, "signed a %s URL", u.scheme);
	FUZZ_ASSERT(!u.had_userinfo, "signed a URL with userinfo <%s>", url);
	FUZZ_ASSERT(u.port == 0 || u.port == 443, "signed port %u", u.port);
	for (i = 0; i < prof.nhosts; i++)
		found |= strcmp(prof.hosts[i], u.host) == 0;
	FUZZ_ASSERT(found, "signed for host <%s> outside the profile", u.host);
	tba_url_free(&u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct peer peer = {1000, 4242};
	struct tba_proto_req q;
	enum tba_proto_ename en, ren;
	struct tba_buf out, pb;
	cJSON *params = NULL;
	char *message = NULL;
	const cJSON *ts;
	const char *bs;
	int64_t t;
	size_t n;
	tba_err r, pr;

	if (size >= TBA_PROTO_MAX)
		return 0;
	tba_buf_init(&out, 4 * TBA_PROTO_MAX);
	memset(&q, 0, sizeof(q));
	dispatch(&ctx, &peer, (const char *)data, size, &out);

	FUZZ_ASSERT(out.len > 0 && out.data[out.len - 1] == '\0', "reply not NUL-terminated");
	FUZZ_ASSERT(tba_proto_frame(out.data, out.len, &n) == TBA_OK && n == out.len - 1,
	    "not exactly one reply message");
	r = tba_proto_parse_reply(out.data, n, &params, &ren, &message);
	FUZZ_ASSERT(r == TBA_OK || r == TBA_ERR_REMOTE, "reply <%s> does not parse", out.data);

	pr = tba_proto_parse_request((const char *)data, size, &q, &en);
	FUZZ_ASSERT(pr == TBA_OK || r == TBA_ERR_REMOTE, "a malformed request got a reply");
	if (pr == TBA_OK && r == TBA_OK && q.method == TBA_PM_SIGN) {
		check_policy(q.url);
		bs = jstr(params, "base_string");
		FUZZ_ASSERT(bs != NULL && strncmp(bs, q.http_method, strlen(q.http_method)) == 0 &&
			bs[strlen(q.http_method)] == '&',
		    "base string <%s> for %s", bs, q.http_method);
		check_mac(bs, jstr(params, "signature"), "Sign");
	}
	if (pr == TBA_OK && r == TBA_OK && q.method == TBA_PM_PASSPORT) {
		ts = cJSON_GetObjectItemCaseSensitive(params, "timestamp");
		FUZZ_ASSERT(cJSON_IsNumber(ts) && jstr(params, "nonce") != NULL &&
			jstr(params, "account") != NULL,
		    "Passport reply lacks fields");
		FUZZ_ASSERT(tba_proto_int(ts, "timestamp", &t) == TBA_OK, "Passport timestamp");
		tba_buf_init(&pb, 4096);
		FUZZ_ASSERT(tba_passport_base_string(jstr(params, "account"), prof.consumer_key,
				prof.token_id, jstr(params, "nonce"), t, &pb) == TBA_OK,
		    "passport base");
		check_mac(tba_buf_str(&pb), jstr(params, "signature"), "Passport");
		tba_buf_free(&pb);
	}
	if (pool_locked(ctx.pool))
		FUZZ_ASSERT(pool_unlock(ctx.pool, pin, pinlen) == TBA_OK, "unlock again");
	tba_proto_req_free(&q);
	cJSON_Delete(params);
	free(message);
	tba_buf_free(&out);
	return 0;
}
