/* SPDX-License-Identifier: MIT */
/*
 * test_token.c - the token layer against a throwaway SoftHSM token, seen
 * through tests/faultmod (libtbafault.so), which fails chosen PKCS#11 calls:
 * each CK_RV becomes the right tba_err with p11-kit's text, a wrong PIN is
 * tried exactly once, signatures equal OpenSSL's HMAC, a device that went
 * away comes back after tba_token_reinit, and the profile objects behave.
 *
 * Needs softhsm/mktoken (SoftHSM, /usr/bin/python3 with PyKCS11); skipped,
 * with a note, when the token cannot be made.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "tba/mem.h"
#include "tba/token.h"

#define LABEL "tba-unit"
#define KEY "unit consumer secret&unit token secret"
#define MSG "GET&https%3A%2F%2Fexample.com%2F&a%3D1"

static char dir[] = "/tmp/tba-test-token.XXXXXX";
static char faults[512], calls[512], uri[1024];

/* Replaces the fault rules (the module re-reads the file on every call). */
static void
rules(const char *text)
{
	char tmp[600];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", faults);
	if ((f = fopen(tmp, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
		rename(tmp, faults);
	}
}

/* How many calls to func (e.g. "C_Login ") the module has seen so far. */
static int
ncalls(const char *func)
{
	char line[256];
	FILE *f = fopen(calls, "r");
	int n = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		n += strncmp(line, func, strlen(func)) == 0;
	if (f != NULL)
		fclose(f);
	return n;
}

static int
setup(void)
{
	char cmd[1024], conf[600];

	if (mkdtemp(dir) == NULL)
		return 0;
	snprintf(cmd, sizeof(cmd), "'%s/softhsm/mktoken' '%s/token' " LABEL " >/dev/null",
	    TBA_SRC_DIR, dir);
	if (system(cmd) != 0)
		return 0;
	snprintf(conf, sizeof(conf), "%s/token/softhsm2.conf", dir);
	snprintf(faults, sizeof(faults), "%s/faults", dir);
	snprintf(calls, sizeof(calls), "%s/calls", dir);
	setenv("SOFTHSM2_CONF", conf, 1);
	setenv("TBA_FAULT_FILE", faults, 1);
	setenv("TBA_FAULT_LOG", calls, 1);
	rules("");
	snprintf(uri, sizeof(uri),
	    "pkcs11:token=" LABEL "?module-path=%s/libtbafault.so"
	    "&pin-source=file:%s/token/pin",
	    TBA_TEST_DIR, dir);
	return 1;
}

static void
test_open_errors(void)
{
	struct tba_token *t = NULL;
	char bad[1100];

	is_int(tba_token_open(NULL, &t), TBA_ERR_USAGE, "no URI: usage error");
	snprintf(bad, sizeof(bad), "pkcs11:token=nope?module-path=%s/libtbafault.so", TBA_TEST_DIR);
	is_int(tba_token_open(bad, &t), TBA_ERR_NO_TOKEN, "no such token");
	ok(strstr(tba_errmsg(TBA_ERR_NO_TOKEN), "nope") != NULL, "message names it: %s",
	    tba_errmsg(TBA_ERR_NO_TOKEN));
	is_int(tba_token_open("pkcs11:token=x?module-path=/nonexistent/mod.so", &t), TBA_ERR_MODULE,
	    "module that cannot be loaded");
	ok(t == NULL, "nothing returned on failure");
}

static void
test_login(struct tba_token *t)
{
	char *pin = NULL;
	size_t len = 0, cap = 0;
	int before;

	before = ncalls("C_Login ");
	is_int(tba_token_login(t, "000000", 6), TBA_ERR_PIN_INCORRECT, "wrong PIN");
	is_int(ncalls("C_Login ") - before, 1, "a wrong PIN is tried exactly once");
	rules("C_Login CKR_PIN_LOCKED 1\n");
	is_int(tba_token_login(t, "000000", 6), TBA_ERR_PIN_LOCKED, "CKR_PIN_LOCKED");
	ok(tba_token_get_pin(t, &pin, &len, &cap) == TBA_OK && len > 0, "PIN from pin-source");
	is_int(tba_token_login(t, pin, len), TBA_OK, "right PIN");
	is_int(tba_token_login(t, pin, len), TBA_OK, "already logged in counts as success");
	tba_secfree(pin, cap);
}

static void
make_profile(struct tba_profile *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->kind = TBA_KIND_OAUTH1;
	snprintf(p->consumer_key, sizeof(p->consumer_key), "ck-%s", name);
	snprintf(p->token_id, sizeof(p->token_id), "tk-%s", name);
	p->sigmethod = TBA_SIG_HMAC_SHA256;
	tba_profile_add_host(p, "example.com");
}

static void
test_profiles(struct tba_token *t, struct tba_profile *p)
{
	struct tba_profile q, *v = NULL;
	size_t n = 0;

	make_profile(p, "unit");
	is_int(
	    tba_token_import(t, p, (const unsigned char *)KEY, strlen(KEY), 0), TBA_OK, "import");
	is_int(tba_token_import(t, p, (const unsigned char *)KEY, strlen(KEY), 0), TBA_ERR_EXISTS,
	    "import again without replace");
	make_profile(&q, "other");
	is_int(tba_token_import(t, &q, (const unsigned char *)"k", 1, 0), TBA_OK, "second profile");
	ok(tba_token_profiles(t, &v, &n) == TBA_OK && n == 2 && strcmp(v[0].name, "other") == 0 &&
		strcmp(v[1].name, "unit") == 0,
	    "profiles listed, sorted by name (%zu)", n);
	free(v);
	ok(tba_token_profile(t, "unit", &q) == TBA_OK && strcmp(q.consumer_key, "ck-unit") == 0 &&
		memcmp(q.key_id, p->key_id, TBA_KEY_ID_LEN) == 0,
	    "profile by name");
	is_int(tba_token_delete(t, "other"), TBA_OK, "delete");
	is_int(tba_token_profile(t, "other", &q), TBA_ERR_NOT_FOUND, "gone after delete");
	is_int(tba_token_delete(t, "other"), TBA_ERR_NOT_FOUND, "delete twice");
}

/* The token's HMAC against OpenSSL's over the same key and message. */
static int
sign_ok(struct tba_session *s, const struct tba_profile *p, tba_err *r)
{
	unsigned char mac[TBA_SIG_MAX], want[EVP_MAX_MD_SIZE];
	unsigned int wlen = 0;
	size_t len = 0;

	*r = tba_session_sign(s, p, MSG, strlen(MSG), mac, &len);
	HMAC(EVP_sha256(), KEY, (int)strlen(KEY), (const unsigned char *)MSG, strlen(MSG), want,
	    &wlen);
	return *r == TBA_OK && len == wlen && memcmp(mac, want, len) == 0;
}

static void
test_faults(struct tba_token *t, const struct tba_profile *p)
{
	static const struct {
		const char *rule;
		tba_err want;
	} cases[] = {
	    {"C_Sign CKR_DEVICE_REMOVED 1\n", TBA_ERR_TOKEN_GONE},
	    {"C_SignInit CKR_SESSION_HANDLE_INVALID 1\n", TBA_ERR_TOKEN_GONE},
	    {"C_Sign CKR_SESSION_CLOSED 1\n", TBA_ERR_TOKEN_GONE},
	    {"C_Sign CKR_TOKEN_NOT_PRESENT 1\n", TBA_ERR_TOKEN_GONE},
	    {"C_Sign CKR_GENERAL_ERROR 1\n", TBA_ERR_TOKEN_GONE},
	    {"C_SignInit CKR_USER_NOT_LOGGED_IN 1\n", TBA_ERR_LOCKED},
	    {"C_Sign CKR_FUNCTION_FAILED 1\n", TBA_ERR_TOKEN},
	};
	struct tba_session *s = NULL;
	size_t i;
	tba_err r;

	ok(tba_session_open(t, &s) == TBA_OK, "session");
	ok(sign_ok(s, p, &r), "signature equals OpenSSL's HMAC-SHA256");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rules(cases[i].rule);
		sign_ok(s, p, &r);
		is_int(r, cases[i].want, "%.*s -> %s", (int)strcspn(cases[i].rule, "\n"),
		    cases[i].rule, tba_strerror(cases[i].want));
		ok(strcmp(tba_errmsg(r), tba_strerror(r)) != 0, "with p11-kit's text: %s",
		    tba_errmsg(r));
		/* A session may be gone after such a fault; a fresh one must sign. */
		tba_session_close(s);
		s = NULL;
		ok(tba_session_open(t, &s) == TBA_OK && sign_ok(s, p, &r),
		    "the next one is signed");
	}
	rules("C_GetSessionInfo CKR_DEVICE_REMOVED 1\n");
	is_int(tba_session_ping(s), TBA_ERR_TOKEN_GONE, "ping sees a device that went away");
	is_int(tba_session_ping(s), TBA_OK, "ping fine again");
	tba_session_close(s);
}

static void
test_gone(struct tba_token *t, const struct tba_profile *p)
{
	struct tba_session *s = NULL;
	char *pin = NULL;
	size_t len = 0, cap = 0;
	tba_err r;

	ok(tba_session_open(t, &s) == TBA_OK, "session");
	/* A device that stays away until the module is initialised again. */
	rules("C_Sign CKR_DEVICE_REMOVED 1 sticky\n");
	sign_ok(s, p, &r);
	is_int(r, TBA_ERR_TOKEN_GONE, "device removed");
	sign_ok(s, p, &r);
	is_int(r, TBA_ERR_TOKEN_GONE, "and stays away");
	tba_session_close(s);
	s = NULL;
	is_int(tba_session_open(t, &s), TBA_ERR_TOKEN_GONE, "no new session either");
	is_int(tba_token_reinit(t), TBA_OK, "reinit");
	ok(tba_token_get_pin(t, &pin, &len, &cap) == TBA_OK &&
		tba_token_login(t, pin, len) == TBA_OK,
	    "log in again");
	tba_secfree(pin, cap);
	ok(tba_session_open(t, &s) == TBA_OK && sign_ok(s, p, &r), "signs again after reinit");
	tba_session_close(s);
}

int
main(void)
{
	struct tba_token *t = NULL;
	struct tba_profile p;
	char cmd[600];
	tba_err r;

	if (!setup()) {
		ok(1, "# SKIP cannot make a SoftHSM token (softhsm/mktoken)");
		return tap_done();
	}
	test_open_errors();
	r = tba_token_open(uri, &t);
	ok(r == TBA_OK, "open through the fault module (%s)", tba_errmsg(r));
	if (t != NULL) {
		is_str(tba_token_label(t), LABEL, "label");
		test_login(t);
		test_profiles(t, &p);
		test_faults(t, &p);
		test_gone(t, &p);
		tba_token_close(t);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		ok(0, "cleanup");
	return tap_done();
}
