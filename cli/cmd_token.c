/* SPDX-License-Identifier: MIT */
/*
 * cmd_token.c - tba import, tba keys, tba delete: the commands that talk to
 * the token directly (man/tba.1). Everything the user typed is checked
 * before the token is touched or a secret is read.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "tba/getopt.h"
#include "tba/hmac.h"
#include "tba/mem.h"
#include "tba/profile.h"
#include "tba/token.h"
#include "tba/tty.h"

static const char import_help[] =
    "usage: tba import PROFILE --account ACCOUNT --consumer-key KEY --token-id ID\n"
    "                  [--token URI] [--replace] [--kind netsuite|oauth1] [--realm REALM]\n"
    "                  [--signature-method HMAC-SHA256|HMAC-SHA1|HMAC-SHA512]\n"
    "                  [--allow-host HOST]...\n"
    "\n"
    "Puts one set of TBA credentials into the token as profile PROFILE\n"
    "([A-Za-z0-9._-], 1 to 32 characters). The HMAC key is stored sensitive and\n"
    "non-extractable; the token's HMAC is checked against a software HMAC before\n"
    "the import is reported done.\n"
    "\n"
    "Where the values come from in NetSuite:\n"
    "  --consumer-key    Setup > Integration > Manage Integrations > New (state\n"
    "                    Enabled, Token-based Authentication checked). On save\n"
    "                    NetSuite shows the consumer key and consumer secret once.\n"
    "  --token-id        Setup > Users/Roles > Access Tokens > New (application,\n"
    "                    user, role). On save NetSuite shows the token ID and token\n"
    "                    secret once; a lost token secret means a new token.\n"
    "  --account         Setup > Company > Company Information: the account ID,\n"
    "                    exactly, e.g. 1234567 or 1234567_SB1 for a sandbox.\n"
    "\n"
    "The secrets are never taken from arguments or the environment. On a terminal\n"
    "tba asks for each with echo off; otherwise stdin must hold exactly two lines:\n"
    "the consumer secret, then the token secret.\n"
    "\n"
    "Options:\n"
    "  --token URI             the token (RFC 7512), else $TBA_TOKEN, e.g.\n"
    "                          pkcs11:token=tba?module-name=softhsm2&pin-source=file:/run/tba/pin\n"
    "  --replace               swap in new credentials for an existing profile (the\n"
    "                          old key is removed only after the new one verified)\n"
    "  --kind netsuite|oauth1  netsuite (default): realm and hosts follow from\n"
    "                          --account; oauth1: any OAuth 1.0a HMAC provider, needs\n"
    "                          at least one --allow-host, --account optional\n"
    "  --realm REALM           oauth1: the realm to put in the header (none by default)\n"
    "  --signature-method M    HMAC-SHA256 (default, NetSuite's), HMAC-SHA1, HMAC-SHA512\n"
    "  --allow-host HOST       another host the profile may sign for (repeatable)\n"
    "\n"
    "Exit status: 0 imported; 1 failed (missing or empty secret, extra input,\n"
    "token or PIN error, profile exists); 64 bad options or arguments.\n";

static const char keys_help[] =
    "usage: tba keys [--token URI] [--json]\n"
    "\n"
    "Lists the profiles stored in the token: name, kind, account (or realm),\n"
    "signature method (M2M: the JWS algorithm), creation time (UTC) and allowed\n"
    "hosts; for M2M profiles also the client ID, certificate ID, days until the\n"
    "certificate expires (a warning on stderr under 30) and a pending rotation.\n"
    "No secret is shown; the keys themselves cannot be read out of the token.\n"
    "\n"
    "  --token URI   the token (RFC 7512), else $TBA_TOKEN\n"
    "  --json        a JSON array of {name, kind, account, realm, consumer_key,\n"
    "                token_id, signature_method, hosts, created (Unix seconds)};\n"
    "                M2M profiles have client_id, alg, scope, certificate_id,\n"
    "                not_after, days_left, rotation_pending (and next_not_after)\n"
    "                instead of consumer_key, token_id, signature_method\n"
    "\n"
    "Exit status: 0 listed; 1 token or PIN error; 64 bad options.\n";

static const char delete_help[] =
    "usage: tba delete PROFILE [--token URI]\n"
    "\n"
    "Removes the profile's key and metadata from the token (M2M profiles: every\n"
    "key pair and certificate, a pending rotation's too). This cannot be undone:\n"
    "importing it again needs the consumer and token secrets (NetSuite shows them\n"
    "only once; otherwise make a new access token in Setup > Users/Roles > Access\n"
    "Tokens); an M2M profile needs 'tba m2m new' and a new certificate upload.\n"
    "\n"
    "  --token URI   the token (RFC 7512), else $TBA_TOKEN\n"
    "\n"
    "Exit status: 0 deleted; 1 no such profile, token or PIN error; 64 bad options.\n";

/* Consumer key, token ID, account for oauth1: printable ASCII without spaces. */
static int
token_field_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > TBA_FIELD_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	}
	return 1;
}

/* A realm goes into a quoted header value: printable ASCII, no quote or backslash. */
static int
token_realm_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n > TBA_FIELD_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '"' ||
		    s[i] == '\\')
			return 0;
	}
	return 1;
}

tba_err
cli_token_login(const char *uri, struct tba_token **out)
{
	struct tba_token *t = NULL;
	char *pin = NULL;
	size_t pinlen = 0, pincap = 0;
	tba_err r;

	*out = NULL;
	if ((r = tba_token_open(uri, &t)) != TBA_OK ||
	    (r = tba_token_get_pin(t, &pin, &pinlen, &pincap)) != TBA_OK ||
	    (r = tba_token_login(t, pin, pinlen)) != TBA_OK)
		goto out;
	*out = t;
	t = NULL;
out:
	tba_secfree(pin, pincap);
	tba_token_close(t);
	return r;
}

/*
 * Reads the two secrets: prompts on a terminal, else exactly two lines of
 * stdin (blank lines after them are tolerated, anything else is refused so
 * that a mixed-up file is not half used).
 */
static tba_err
token_read_secrets(char **cs, size_t *cslen, size_t *cscap, char **ts, size_t *tslen, size_t *tscap)
{
	char *extra = NULL;
	size_t elen = 0, ecap = 0;
	int i;
	tba_err r;

	if (isatty(0)) {
		if ((r = tba_tty_read_secret("Consumer secret: ", cs, cslen, cscap)) != TBA_OK ||
		    (r = tba_tty_read_secret("Token secret: ", ts, tslen, tscap)) != TBA_OK)
			return r;
	} else {
		r = tba_fd_read_secret(0, cs, cslen, cscap);
		if (r == TBA_ERR_NOT_FOUND)
			return tba_seterr(TBA_ERR_INVALID,
			    "no secrets on stdin; give two lines: "
			    "the consumer secret, then the token secret");
		if (r != TBA_OK)
			return tba_seterr(r, "cannot read the consumer secret from stdin");
		r = tba_fd_read_secret(0, ts, tslen, tscap);
		if (r == TBA_ERR_NOT_FOUND)
			return tba_seterr(TBA_ERR_INVALID,
			    "stdin has one line; give two: the "
			    "consumer secret, then the token secret");
		if (r != TBA_OK)
			return tba_seterr(r, "cannot read the token secret from stdin");
		for (i = 0; i < 64; i++) {
			r = tba_fd_read_secret(0, &extra, &elen, &ecap);
			tba_secfree(extra, ecap);
			extra = NULL;
			if (r == TBA_ERR_NOT_FOUND)
				break;
			if (r != TBA_OK || elen > 0)
				return tba_seterr(TBA_ERR_INVALID,
				    "stdin has more than two lines; "
				    "give exactly the consumer secret, then the token secret");
		}
		if (i == 64)
			return tba_seterr(TBA_ERR_INVALID,
			    "stdin has too many lines; give exactly "
			    "the consumer secret, then the token secret");
	}
	if (*cslen == 0)
		return tba_seterr(TBA_ERR_INVALID, "the consumer secret is empty");
	if (*tslen == 0)
		return tba_seterr(TBA_ERR_INVALID, "the token secret is empty");
	return TBA_OK;
}

struct import_opts {
	const char *name, *account, *consumer_key, *token_id, *token, *kind, *realm, *sigmethod;
	const char *hosts[TBA_HOSTS_MAX + 1];
	size_t nhosts;
	int replace;
};

/* Checks every option and builds the profile; returns 0 or the usage exit code. */
static int
import_profile(const struct import_opts *o, struct tba_profile *p)
{
	char realm[TBA_FIELD_MAX + 1];
	size_t i;
	tba_err r;

	memset(p, 0, sizeof(*p));
	if (!tba_profile_name_ok(o->name))
		return cli_usage("import",
		    "bad profile name '%.40s': use 1 to 32 of "
		    "A-Z a-z 0-9 . _ -",
		    o->name);
	snprintf(p->name, sizeof(p->name), "%s", o->name);
	if (o->kind != NULL && tba_kind_parse(o->kind, &p->kind) != TBA_OK)
		return cli_usage("import", "bad --kind '%.40s': use netsuite or oauth1", o->kind);
	if (o->sigmethod != NULL && tba_sigmethod_parse(o->sigmethod, &p->sigmethod) != TBA_OK)
		return cli_usage("import",
		    "bad --signature-method '%.40s': use HMAC-SHA256, "
		    "HMAC-SHA1 or HMAC-SHA512",
		    o->sigmethod);
	if (o->consumer_key == NULL || !token_field_ok(o->consumer_key))
		return cli_usage("import",
		    "give --consumer-key: the consumer key of the "
		    "integration record (printable, no spaces)");
	if (o->token_id == NULL || !token_field_ok(o->token_id))
		return cli_usage("import",
		    "give --token-id: the ID of the access token "
		    "(printable, no spaces)");
	snprintf(p->consumer_key, sizeof(p->consumer_key), "%s", o->consumer_key);
	snprintf(p->token_id, sizeof(p->token_id), "%s", o->token_id);
	if (o->realm != NULL && !token_realm_ok(o->realm))
		return cli_usage("import",
		    "bad --realm: use printable characters without "
		    "quotes or backslashes");
	if (p->kind == TBA_KIND_NETSUITE) {
		if (o->account == NULL)
			return cli_usage("import",
			    "give --account: the account ID from Setup > "
			    "Company > Company Information (e.g. 1234567 or 1234567_SB1)");
		if (tba_ns_account_check(o->account) != TBA_OK)
			return cli_usage("import",
			    "bad --account '%.40s': an account ID is "
			    "letters and digits, optionally '_' and more (1234567, 1234567_SB1)",
			    o->account);
		snprintf(p->account, sizeof(p->account), "%s", o->account);
		if (tba_ns_realm(p->account, realm, sizeof(realm)) != TBA_OK)
			return cli_usage("import", "bad --account '%.40s'", o->account);
		if (o->realm != NULL && strcmp(o->realm, realm) != 0)
			return cli_usage("import",
			    "a NetSuite realm is the account ID upper-cased "
			    "(%s); drop --realm",
			    realm);
		snprintf(p->realm, sizeof(p->realm), "%s", realm);
		if ((r = tba_ns_add_hosts(p)) != TBA_OK)
			return cli_usage("import", "%s", tba_errmsg(r));
	} else {
		if (o->account != NULL && !token_field_ok(o->account))
			return cli_usage("import",
			    "bad --account: use printable characters "
			    "without spaces");
		if (o->account != NULL)
			snprintf(p->account, sizeof(p->account), "%s", o->account);
		if (o->realm != NULL)
			snprintf(p->realm, sizeof(p->realm), "%s", o->realm);
		if (o->nhosts == 0)
			return cli_usage("import",
			    "--kind oauth1 needs at least one --allow-host "
			    "(the hosts this profile may sign for)");
	}
	if (o->nhosts > TBA_HOSTS_MAX)
		return cli_usage("import", "at most %d --allow-host", TBA_HOSTS_MAX);
	for (i = 0; i < o->nhosts; i++) {
		if (tba_profile_add_host(p, o->hosts[i]) != TBA_OK)
			return cli_usage("import",
			    "bad --allow-host '%.64s': give a DNS name or "
			    "IP address without scheme, port or path",
			    o->hosts[i]);
	}
	return 0;
}

int
cmd_import(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"account", required_argument, NULL, 'a'},
	    {"consumer-key", required_argument, NULL, 'c'},
	    {"token-id", required_argument, NULL, 'i'},
	    {"token", required_argument, NULL, 't'},
	    {"replace", no_argument, NULL, 'r'},
	    {"kind", required_argument, NULL, 'k'},
	    {"realm", required_argument, NULL, 'R'},
	    {"signature-method", required_argument, NULL, 's'},
	    {"allow-host", required_argument, NULL, 'H'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct import_opts o;
	struct tba_profile p;
	struct tba_token *t = NULL;
	char *cs = NULL, *ts = NULL;
	size_t cslen = 0, cscap = 0, tslen = 0, tscap = 0, keylen = 0, keycap = 0, i;
	unsigned char *key = NULL;
	const char *uri;
	int c, rc;
	tba_err r;

	memset(&o, 0, sizeof(o));
	opterr = 0;
	while ((c = tba_getopt(argc, argv, ":h", longopts)) != -1) {
		switch (c) {
		case 'a':
			o.account = optarg;
			break;
		case 'c':
			o.consumer_key = optarg;
			break;
		case 'i':
			o.token_id = optarg;
			break;
		case 't':
			o.token = optarg;
			break;
		case 'r':
			o.replace = 1;
			break;
		case 'k':
			o.kind = optarg;
			break;
		case 'R':
			o.realm = optarg;
			break;
		case 's':
			o.sigmethod = optarg;
			break;
		case 'H':
			if (o.nhosts <= TBA_HOSTS_MAX)
				o.hosts[o.nhosts++] = optarg;
			break;
		case 'h':
			fputs(import_help, stdout);
			return TBA_EXIT_OK;
		case ':':
			return cli_usage("import", "option %s needs a value", argv[optind - 1]);
		default:
			return cli_usage("import", "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage("import", "give exactly one PROFILE name");
	o.name = argv[optind];
	if ((rc = import_profile(&o, &p)) != 0)
		return rc;
	if ((uri = cli_token_uri(o.token)) == NULL)
		return cli_usage("import", "name the token with --token URI or TBA_TOKEN");
	/* The token first: a wrong URI fails before anyone types a secret. */
	if ((r = tba_token_open(uri, &t)) != TBA_OK ||
	    (r = token_read_secrets(&cs, &cslen, &cscap, &ts, &tslen, &tscap)) != TBA_OK ||
	    (r = tba_hmac_oauth_key(cs, cslen, ts, tslen, &key, &keylen, &keycap)) != TBA_OK)
		goto out;
	tba_secfree(cs, cscap);
	tba_secfree(ts, tscap);
	cs = ts = NULL;
	{
		char *pin = NULL;
		size_t pinlen = 0, pincap = 0;

		if ((r = tba_token_get_pin(t, &pin, &pinlen, &pincap)) == TBA_OK)
			r = tba_token_login(t, pin, pinlen);
		tba_secfree(pin, pincap);
		if (r != TBA_OK)
			goto out;
	}
	if ((r = tba_token_import(t, &p, key, keylen, o.replace)) != TBA_OK)
		goto out;
	printf("%s profile %s (%s, ", o.replace ? "imported (replacing)" : "imported", p.name,
	    tba_kind_name(p.kind));
	if (p.kind == TBA_KIND_NETSUITE) {
		printf("account %s", p.account);
	} else {
		printf("hosts ");
		for (i = 0; i < p.nhosts; i++)
			printf("%s%s", i > 0 ? "," : "", p.hosts[i]);
	}
	printf(", %s) into token %s; key verified\n", tba_sigmethod_name(p.sigmethod),
	    tba_token_label(t));
out:
	tba_secfree(cs, cscap);
	tba_secfree(ts, tscap);
	tba_secfree(key, keycap);
	tba_token_close(t);
	if (r != TBA_OK)
		return cli_fail(r, "import");
	return TBA_EXIT_OK;
}

/* Parses the common [--token URI] [--json] options; returns -1 to go on, else an exit code. */
static int
token_opts(const char *cmd, const char *help, int argc, char **argv, const char **token, int *json)
{
	static const struct option longopts[] = {
	    {"token", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = tba_getopt(argc, argv, ":h", longopts)) != -1) {
		switch (c) {
		case 't':
			*token = optarg;
			break;
		case 'j':
			if (json == NULL)
				return cli_usage(cmd, "unknown option --json");
			*json = 1;
			break;
		case 'h':
			fputs(help, stdout);
			return TBA_EXIT_OK;
		case ':':
			return cli_usage(cmd, "option %s needs a value", argv[optind - 1]);
		default:
			return cli_usage(cmd, "unknown option %s", argv[optind - 1]);
		}
	}
	return -1;
}

/* Whole days from now until t (negative once past). */
static int64_t
keys_days_left(int64_t t, int64_t now)
{
	int64_t d = t - now;

	return d >= 0 ? d / 86400 : -((-d + 86399) / 86400);
}

/* Beyond the public fields: the HMAC credentials, or the M2M certificate's state. */
static int
keys_json_kind(cJSON *o, const struct tba_profile *p, int64_t now)
{
	if (p->kind != TBA_KIND_M2M)
		return cJSON_AddStringToObject(o, "consumer_key", p->consumer_key) != NULL &&
		    cJSON_AddStringToObject(o, "token_id", p->token_id) != NULL;
	return cJSON_AddNumberToObject(o, "days_left", (double)keys_days_left(p->not_after, now)) !=
	    NULL &&
	    cJSON_AddBoolToObject(o, "rotation_pending", p->has_next) != NULL &&
	    (!p->has_next ||
		cJSON_AddNumberToObject(o, "next_not_after", (double)p->next_not_after) != NULL);
}

static int
keys_json(const struct tba_profile *v, size_t n)
{
	cJSON *arr = cJSON_CreateArray(), *o;
	int64_t now = (int64_t)time(NULL);
	char *s = NULL;
	size_t i;
	int ok = arr != NULL;

	/* The agent's List entry plus what only the token's owner sees. */
	for (i = 0; ok && i < n; i++) {
		ok = (o = tba_profile_public(&v[i])) != NULL && cJSON_AddItemToArray(arr, o) &&
		    keys_json_kind(o, &v[i], now) &&
		    cJSON_AddNumberToObject(o, "created", (double)v[i].created) != NULL;
	}
	if (ok && (s = cJSON_PrintUnformatted(arr)) != NULL)
		printf("%s\n", s);
	ok = ok && s != NULL;
	free(s);
	cJSON_Delete(arr);
	if (!ok)
		return cli_fail(tba_nomem(), "keys");
	return TBA_EXIT_OK;
}

/*
 * The M2M line under a profile: client ID, certificate ID, expiry, a
 * pending rotation. A certificate with less than 30 days left (or none) is
 * also warned about on stderr, where a cron job's mail picks it up.
 */
static void
keys_m2m_line(const struct tba_profile *p, int64_t now)
{
	int64_t left = keys_days_left(p->not_after, now);

	printf("    client ID %s, certificate ID %s, scope %s, ", p->client_id,
	    p->cert_id[0] != '\0' ? p->cert_id : "(none yet: run 'tba m2m cert-id')", p->scope);
	if (left >= 0)
		printf("expires in %lld days", (long long)left);
	else
		printf("EXPIRED %lld days ago", (long long)-left);
	if (p->has_next)
		printf(", rotation pending (new certificate expires in %lld days; run 'tba m2m "
		       "cert-id' with its Certificate ID)",
		    (long long)keys_days_left(p->next_not_after, now));
	printf("\n");
	if (left < 0)
		fprintf(stderr,
		    "tba: keys: warning: the certificate of profile %s has expired; "
		    "run 'tba m2m rotate %s' and upload the new one\n",
		    p->name, p->name);
	else if (left < 30 && !p->has_next)
		fprintf(stderr,
		    "tba: keys: warning: the certificate of profile %s expires in %lld "
		    "days; run 'tba m2m rotate %s'\n",
		    p->name, (long long)left, p->name);
}

static void
keys_table(const struct tba_profile *v, size_t n)
{
	int64_t now = (int64_t)time(NULL);
	char when[32];
	struct tm tm;
	time_t sec;
	size_t i, j;

	printf("%-20s %-8s %-16s %-11s %-17s %s\n", "NAME", "KIND", "ACCOUNT/REALM", "SIGNATURE",
	    "CREATED (UTC)", "HOSTS");
	for (i = 0; i < n; i++) {
		sec = (time_t)v[i].created;
		if (gmtime_r(&sec, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm) == 0)
			snprintf(when, sizeof(when), "-");
		printf("%-20s %-8s %-16s %-11s %-17s ", v[i].name, tba_kind_name(v[i].kind),
		    v[i].account[0] != '\0'     ? v[i].account
			: v[i].realm[0] != '\0' ? v[i].realm
						: "-",
		    v[i].kind == TBA_KIND_M2M ? tba_jwt_alg_name(v[i].alg)
					      : tba_sigmethod_name(v[i].sigmethod),
		    when);
		for (j = 0; j < v[i].nhosts; j++)
			printf("%s%s", j > 0 ? "," : "", v[i].hosts[j]);
		printf("\n");
		if (v[i].kind == TBA_KIND_M2M)
			keys_m2m_line(&v[i], now);
	}
}

int
cmd_keys(int argc, char **argv)
{
	struct tba_token *t = NULL;
	struct tba_profile *v = NULL;
	const char *token = NULL, *uri;
	size_t n = 0;
	int json = 0, rc;
	tba_err r;

	if ((rc = token_opts("keys", keys_help, argc, argv, &token, &json)) >= 0)
		return rc;
	if (optind != argc)
		return cli_usage("keys", "unexpected argument '%.40s'", argv[optind]);
	if ((uri = cli_token_uri(token)) == NULL)
		return cli_usage("keys", "name the token with --token URI or TBA_TOKEN");
	if ((r = cli_token_login(uri, &t)) != TBA_OK ||
	    (r = tba_token_profiles(t, &v, &n)) != TBA_OK) {
		rc = cli_fail(r, "keys");
		goto out;
	}
	if (json) {
		rc = keys_json(v, n);
		goto out;
	}
	if (n == 0)
		fprintf(stderr,
		    "tba: keys: no profiles in token %s (add one with 'tba import' or "
		    "'tba m2m new')\n",
		    tba_token_label(t));
	else
		keys_table(v, n);
	rc = TBA_EXIT_OK;
out:
	free(v);
	tba_token_close(t);
	return rc;
}

int
cmd_delete(int argc, char **argv)
{
	struct tba_token *t = NULL;
	const char *token = NULL, *uri, *name;
	int rc;
	tba_err r;

	if ((rc = token_opts("delete", delete_help, argc, argv, &token, NULL)) >= 0)
		return rc;
	if (optind != argc - 1)
		return cli_usage("delete", "give exactly one PROFILE name");
	name = argv[optind];
	if (!tba_profile_name_ok(name))
		return cli_usage("delete",
		    "bad profile name '%.40s': use 1 to 32 of "
		    "A-Z a-z 0-9 . _ -",
		    name);
	if ((uri = cli_token_uri(token)) == NULL)
		return cli_usage("delete", "name the token with --token URI or TBA_TOKEN");
	if ((r = cli_token_login(uri, &t)) != TBA_OK || (r = tba_token_delete(t, name)) != TBA_OK) {
		rc = cli_fail(r, "delete");
		goto out;
	}
	printf("deleted profile %s from token %s\n", name, tba_token_label(t));
	rc = TBA_EXIT_OK;
out:
	tba_token_close(t);
	return rc;
}
