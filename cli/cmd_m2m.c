/* SPDX-License-Identifier: MIT */
/*
 * cmd_m2m.c - tba m2m new | cert-id | cert | rotate: the OAuth 2.0 M2M key
 * pair generated in the token, its self-signed certificate and the
 * Certificate ID NetSuite gives for it. Like import, every option is checked
 * before the token is touched, and a failure leaves the token as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "tba/getopt.h"
#include "tba/profile.h"
#include "tba/token.h"
#include "tba/x509.h"

#define M2M_DAY 86400

static const char m2m_help[] =
    "usage: tba m2m new PROFILE --account ACCOUNT --client-id CLIENT_ID [--alg ES256]\n"
    "                   [--scope rest_webservices] [--days 730] [--subject CN]\n"
    "                   [--out FILE] [--token URI] [--replace] [--rsa-bits 3072|4096]\n"
    "       tba m2m cert-id PROFILE CERTIFICATE_ID [--token URI]\n"
    "       tba m2m cert PROFILE [--next] [--token URI]\n"
    "       tba m2m rotate PROFILE [--days N] [--subject CN] [--out FILE] [--token URI]\n"
    "\n"
    "OAuth 2.0 client credentials (machine to machine) for NetSuite, with the\n"
    "private key generated inside the token: it never exists anywhere else.\n"
    "\n"
    "new      generates the key pair in the token (ES256 = EC P-256, ES384 = P-384,\n"
    "         ES512 = P-521, PS256/PS384/PS512 = RSA 3072, or 4096 with --rsa-bits),\n"
    "         makes a self-signed X.509 certificate for it, signed by the token, and\n"
    "         writes its PEM to --out FILE or stdout.\n"
    "cert-id  records the Certificate ID NetSuite showed for the uploaded\n"
    "         certificate (the JWT's kid). After a rotate it switches the profile\n"
    "         to the new key and removes the old key and certificate.\n"
    "cert     prints the profile's certificate (PEM) again; --next the pending one.\n"
    "rotate   makes a second key pair and certificate while the current ones keep\n"
    "         working; upload it, then run cert-id with its new Certificate ID.\n"
    "\n"
    "Where the values come from in NetSuite:\n"
    "  --client-id   Setup > Integration > Manage Integrations > New, with Client\n"
    "                Credentials (Machine to Machine) Grant checked and the scopes\n"
    "                wanted; the client ID is shown once, on save.\n"
    "  --account     Setup > Company > Company Information: the account ID, e.g.\n"
    "                1234567 or 1234567_SB1 for a sandbox.\n"
    "  CERTIFICATE_ID  Setup > Integration > Manage Authentication > OAuth 2.0\n"
    "                Client Credentials (M2M) Setup > Create New: pick the entity,\n"
    "                role and application, upload the certificate; NetSuite shows\n"
    "                its Certificate ID. Needs the Administrator role or the\n"
    "                permission OAuth 2.0 Authorized Applications Management; the\n"
    "                role mapped needs Log in using OAuth 2.0 Access Tokens.\n"
    "\n"
    "Options:\n"
    "  --alg ALG       ES256 (default), ES384, ES512, PS256, PS384, PS512\n"
    "  --scope LIST    rest_webservices (default), restlets, suite_analytics,\n"
    "                  joined by commas, as checked on the integration record\n"
    "  --days N        certificate validity, 1 to 730 days (default 730, NetSuite's\n"
    "                  maximum); NetSuite emails administrators before it expires\n"
    "  --subject CN    the certificate's common name (default: tba PROFILE ACCOUNT)\n"
    "  --out FILE      write the certificate there instead of stdout\n"
    "  --replace       new: replace an existing profile; its old keys are removed\n"
    "                  only once the new ones are complete\n"
    "  --rsa-bits N    PS*: 3072 (default) or 4096\n"
    "  --token URI     the token (RFC 7512), else $TBA_TOKEN\n"
    "\n"
    "Exit status: 0 done; 1 failed (token or PIN error, profile exists or is\n"
    "missing, not an M2M profile); 64 bad options or arguments.\n";

struct m2m_opts {
	const char *name, *account, *client_id, *alg, *scope, *days, *subject, *out, *token;
	const char *rsa_bits, *cert_id;
	int replace, next;
};

/* Signs the certificate with the key pair being made (x509.h's callback). */
struct m2m_signer {
	struct tba_session *s;
	struct tba_profile p;
};

static tba_err
m2m_sign_cb(void *ctx, const unsigned char *msg, size_t msglen, unsigned char *sig, size_t *siglen)
{
	struct m2m_signer *g = ctx;

	return tba_session_sign_jws(g->s, &g->p, msg, msglen, sig, siglen);
}

/* Parses a whole decimal number in [lo, hi]; 0 on success. */
static int
m2m_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end = NULL;
	unsigned long v;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* "2028-11-29" for a Unix time. */
static void
m2m_date(int64_t t, char *buf, size_t bufsz)
{
	time_t sec = (time_t)t;
	struct tm tm;

	if (gmtime_r(&sec, &tm) == NULL || strftime(buf, bufsz, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, bufsz, "-");
}

/* "tba PROFILE ACCOUNT", cut to the 64 characters a common name may have. */
static void
m2m_default_cn(const struct tba_profile *p, char *cn, size_t cnsz)
{
	snprintf(cn, cnsz, "tba %.32s %.27s", p->name, p->account);
}

/*
 * The output file is opened before the token is touched, so a bad path
 * costs nothing; *created says whether to remove it again on failure.
 */
static int
m2m_open_out(const char *cmd, const char *path, int *fd, int *created)
{
	*fd = -1;
	*created = 0;
	if (path == NULL)
		return 0;
	*created = access(path, F_OK) != 0;
	if ((*fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		fprintf(stderr, "tba: m2m %s: cannot write %s: %s\n", cmd, path, strerror(errno));
		return TBA_EXIT_FAIL;
	}
	return 0;
}

/* Writes the PEM to fd (truncated first) or stdout. */
static tba_err
m2m_write_pem(int fd, const char *path, const char *pem)
{
	size_t n = strlen(pem), off = 0;
	ssize_t w;

	if (fd < 0) {
		if (fputs(pem, stdout) == EOF || fflush(stdout) != 0)
			return tba_seterr(TBA_ERR_IO, "cannot write the certificate to stdout");
		return TBA_OK;
	}
	if (ftruncate(fd, 0) != 0)
		return tba_seterr(TBA_ERR_IO, "cannot write %s: %s", path, strerror(errno));
	while (off < n) {
		w = write(fd, pem + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return tba_seterr(TBA_ERR_IO, "cannot write %s: %s", path, strerror(errno));
		off += (size_t)w;
	}
	return TBA_OK;
}

/*
 * Generates a key pair for p->alg labelled p->name and its certificate,
 * signed by the token, and stores the certificate. On success id names the
 * new objects and *pem holds the certificate; on failure nothing new is
 * left in the token.
 */
static tba_err
m2m_make(struct tba_token *t, const struct tba_profile *p, unsigned rsa_bits, const char *cn,
    unsigned days, unsigned char id[TBA_KEY_ID_LEN], char **pem, int64_t *not_after)
{
	struct m2m_signer g;
	EVP_PKEY *pub = NULL;
	unsigned char *der = NULL;
	size_t derlen = 0;
	int made = 0;
	tba_err r;

	*pem = NULL;
	memset(&g, 0, sizeof(g));
	if ((r = tba_token_keygen(t, p->name, p->alg, rsa_bits, id)) != TBA_OK)
		goto out;
	made = 1;
	g.p = *p;
	memcpy(g.p.key_id, id, TBA_KEY_ID_LEN);
	if ((r = tba_token_pubkey(t, id, p->alg, &pub)) != TBA_OK ||
	    (r = tba_session_open(t, &g.s)) != TBA_OK ||
	    (r = tba_x509_selfsigned(pub, p->alg, cn, days, (int64_t)time(NULL), m2m_sign_cb, &g,
		 &der, &derlen, not_after)) != TBA_OK ||
	    (r = tba_token_cert_put(t, p->name, id, der, derlen)) != TBA_OK ||
	    (r = tba_x509_pem(der, derlen, pem)) != TBA_OK)
		goto out;
	r = TBA_OK;
out:
	tba_session_close(g.s);
	if (r != TBA_OK && made)
		(void)tba_token_destroy_id(t, id);
	EVP_PKEY_free(pub);
	free(der);
	return r;
}

/* Checks every option of `new` and fills in the profile; returns 0 or the usage exit code. */
static int
m2m_new_profile(const struct m2m_opts *o, struct tba_profile *p, unsigned *days, unsigned *bits,
    char *cn, size_t cnsz)
{
	memset(p, 0, sizeof(*p));
	p->kind = TBA_KIND_M2M;
	if (!tba_profile_name_ok(o->name))
		return cli_usage("m2m",
		    "bad profile name '%.40s': use 1 to 32 of "
		    "A-Z a-z 0-9 . _ -",
		    o->name);
	snprintf(p->name, sizeof(p->name), "%s", o->name);
	if (o->account == NULL)
		return cli_usage("m2m",
		    "give --account: the account ID from Setup > Company > "
		    "Company Information (e.g. 1234567 or 1234567_SB1)");
	if (tba_ns_account_check(o->account) != TBA_OK)
		return cli_usage("m2m",
		    "bad --account '%.40s': an account ID is letters and "
		    "digits, optionally '_' and more (1234567, 1234567_SB1)",
		    o->account);
	snprintf(p->account, sizeof(p->account), "%s", o->account);
	if (tba_ns_realm(p->account, p->realm, sizeof(p->realm)) != TBA_OK ||
	    tba_ns_add_hosts(p) != TBA_OK)
		return cli_usage("m2m", "bad --account '%.40s'", o->account);
	if (o->client_id == NULL || !tba_m2m_id_ok(o->client_id))
		return cli_usage("m2m",
		    "give --client-id: the client ID of the integration record "
		    "(printable, no spaces or quotes)");
	snprintf(p->client_id, sizeof(p->client_id), "%s", o->client_id);
	if (o->alg != NULL && tba_jwt_alg_parse(o->alg, &p->alg) != TBA_OK)
		return cli_usage("m2m",
		    "bad --alg '%.40s': use ES256, ES384, ES512, PS256, PS384 "
		    "or PS512",
		    o->alg);
	if (tba_m2m_scope_norm(o->scope != NULL ? o->scope : "rest_webservices", p->scope,
		sizeof(p->scope)) != TBA_OK)
		return cli_usage("m2m",
		    "bad --scope '%.64s': use rest_webservices, restlets, "
		    "suite_analytics, joined by commas",
		    o->scope);
	*bits = 0;
	if (o->rsa_bits != NULL &&
	    (tba_jwt_alg_is_ec(p->alg) || m2m_uint(o->rsa_bits, 3072, 4096, bits) != 0 ||
		(*bits != 3072 && *bits != 4096)))
		return cli_usage(
		    "m2m", "bad --rsa-bits '%.20s': 3072 or 4096, with a PS* --alg", o->rsa_bits);
	*days = TBA_CERT_DAYS_MAX;
	if (o->days != NULL && m2m_uint(o->days, 1, TBA_CERT_DAYS_MAX, days) != 0)
		return cli_usage("m2m",
		    "bad --days '%.20s': 1 to %d (NetSuite takes certificates "
		    "valid for at most 2 years)",
		    o->days, TBA_CERT_DAYS_MAX);
	if (o->subject != NULL && !tba_x509_cn_ok(o->subject))
		return cli_usage(
		    "m2m", "bad --subject: 1 to %d printable ASCII characters", TBA_CN_MAX);
	if (o->subject != NULL)
		snprintf(cn, cnsz, "%s", o->subject);
	else
		m2m_default_cn(p, cn, cnsz);
	return 0;
}

/* What to do in NetSuite with the certificate just made (stderr, so stdout stays the PEM). */
static void
m2m_next_steps(const struct tba_profile *p, const char *out, int64_t not_after, int rotate)
{
	char until[16];

	m2m_date(not_after, until, sizeof(until));
	fprintf(stderr,
	    "tba: m2m: %s %s key pair of profile %s generated in the token; "
	    "certificate valid until %s%s%s\n",
	    rotate ? "a new" : "the", tba_jwt_alg_name(p->alg), p->name, until,
	    out != NULL ? ", written to " : "", out != NULL ? out : "");
	fprintf(stderr,
	    "Next: in NetSuite (account %s), Setup > Integration > Manage "
	    "Authentication > OAuth 2.0 Client Credentials (M2M) Setup > %s, upload %s, then run\n"
	    "  tba m2m cert-id %s CERTIFICATE_ID\n"
	    "with the Certificate ID NetSuite shows.%s\n",
	    p->account,
	    rotate ? "open the mapping (or Create New for the same entity, role and application)"
		   : "Create New: pick the entity, role and application",
	    out != NULL ? out : "this certificate", p->name,
	    rotate ? " The current key keeps working until then." : "");
}

/* The common options of every m2m subcommand; returns -1 to go on, else an exit code. */
static int
m2m_opts_parse(const char *sub, int argc, char **argv, struct m2m_opts *o)
{
	static const struct option longopts[] = {
	    {"account", required_argument, NULL, 'a'},
	    {"client-id", required_argument, NULL, 'c'},
	    {"alg", required_argument, NULL, 'A'},
	    {"scope", required_argument, NULL, 's'},
	    {"days", required_argument, NULL, 'd'},
	    {"subject", required_argument, NULL, 'S'},
	    {"out", required_argument, NULL, 'o'},
	    {"token", required_argument, NULL, 't'},
	    {"replace", no_argument, NULL, 'r'},
	    {"rsa-bits", required_argument, NULL, 'b'},
	    {"next", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	/* Which options each subcommand takes. */
	const char *allowed = strcmp(sub, "new") == 0 ? "acAsdSotrb"
	    : strcmp(sub, "rotate") == 0              ? "dSot"
	    : strcmp(sub, "cert") == 0                ? "tn"
						      : "t";
	int c;

	opterr = 0;
	while ((c = tba_getopt(argc, argv, ":h", longopts)) != -1) {
		if (c == 'h') {
			fputs(m2m_help, stdout);
			return TBA_EXIT_OK;
		}
		if (c == ':')
			return cli_usage("m2m", "option %s needs a value", argv[optind - 1]);
		if (c == '?' || strchr(allowed, c) == NULL)
			return cli_usage(
			    "m2m", "'m2m %s' takes no option %s", sub, argv[optind - 1]);
		switch (c) {
		case 'a':
			o->account = optarg;
			break;
		case 'c':
			o->client_id = optarg;
			break;
		case 'A':
			o->alg = optarg;
			break;
		case 's':
			o->scope = optarg;
			break;
		case 'd':
			o->days = optarg;
			break;
		case 'S':
			o->subject = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 't':
			o->token = optarg;
			break;
		case 'r':
			o->replace = 1;
			break;
		case 'b':
			o->rsa_bits = optarg;
			break;
		case 'n':
			o->next = 1;
			break;
		}
	}
	return -1;
}

static int
m2m_new(const struct m2m_opts *o)
{
	struct tba_profile p, old;
	struct tba_token *t = NULL;
	unsigned char id[TBA_KEY_ID_LEN];
	char cn[TBA_CN_MAX + 1], *pem = NULL;
	const char *uri;
	unsigned days = 0, bits = 0;
	int rc, fd = -1, created = 0, made = 0;
	tba_err r;

	if ((rc = m2m_new_profile(o, &p, &days, &bits, cn, sizeof(cn))) != 0)
		return rc;
	if ((uri = cli_token_uri(o->token)) == NULL)
		return cli_usage("m2m", "name the token with --token URI or TBA_TOKEN");
	if ((rc = m2m_open_out("new", o->out, &fd, &created)) != 0)
		return rc;
	if ((r = cli_token_login(uri, &t)) != TBA_OK)
		goto out;
	/* Refused before anything is generated; tba_token_save checks again at the switch. */
	r = tba_token_profile(t, p.name, &old);
	if (r == TBA_OK && !o->replace) {
		r = tba_seterr(TBA_ERR_EXISTS,
		    "profile %s exists in token %s; use --replace to "
		    "swap in a new key pair",
		    p.name, tba_token_label(t));
		goto out;
	}
	if (r != TBA_OK && r != TBA_ERR_NOT_FOUND)
		goto out;
	p.created = (int64_t)time(NULL);
	if ((r = m2m_make(t, &p, bits, cn, days, id, &pem, &p.not_after)) != TBA_OK)
		goto out;
	made = 1;
	memcpy(p.key_id, id, TBA_KEY_ID_LEN);
	/* The switch: from here on the profile names the new key pair. */
	if ((r = tba_token_save(t, &p, o->replace, &old)) != TBA_OK)
		goto out;
	made = 0;
	if (old.name[0] != '\0') {
		(void)tba_token_destroy_id(t, old.key_id);
		if (old.has_next)
			(void)tba_token_destroy_id(t, old.next_key_id);
	}
	if ((r = m2m_write_pem(fd, o->out, pem)) != TBA_OK) {
		fprintf(stderr,
		    "tba: m2m new: profile %s was made, but its certificate could not "
		    "be written; 'tba m2m cert %s' prints it\n",
		    p.name, p.name);
		goto out;
	}
	m2m_next_steps(&p, o->out, p.not_after, 0);
	r = TBA_OK;
out:
	if (made)
		(void)tba_token_destroy_id(t, id);
	if (fd >= 0)
		close(fd);
	if (r != TBA_OK && created)
		(void)unlink(o->out);
	free(pem);
	tba_token_close(t);
	if (r != TBA_OK)
		return cli_fail(r, "m2m new");
	return TBA_EXIT_OK;
}

/* Logs in and loads an M2M profile; *t is the caller's on success. */
static tba_err
m2m_load(const char *uri, const char *name, struct tba_token **t, struct tba_profile *p)
{
	tba_err r;

	*t = NULL;
	if ((r = cli_token_login(uri, t)) != TBA_OK ||
	    (r = tba_token_profile(*t, name, p)) != TBA_OK)
		return r;
	if (p->kind != TBA_KIND_M2M)
		return tba_seterr(TBA_ERR_INVALID,
		    "profile %s is a %s profile, not an M2M one "
		    "(make one with 'tba m2m new')",
		    name, tba_kind_name(p->kind));
	return TBA_OK;
}

static int
m2m_cert_id(const struct m2m_opts *o)
{
	struct tba_profile p;
	struct tba_token *t = NULL;
	unsigned char oldid[TBA_KEY_ID_LEN];
	const char *uri;
	int switched = 0;
	tba_err r;

	if (!tba_m2m_id_ok(o->cert_id))
		return cli_usage("m2m",
		    "bad CERTIFICATE_ID: copy it from NetSuite's OAuth 2.0 Client "
		    "Credentials (M2M) Setup (printable, no spaces or quotes)");
	if ((uri = cli_token_uri(o->token)) == NULL)
		return cli_usage("m2m", "name the token with --token URI or TBA_TOKEN");
	if ((r = m2m_load(uri, o->name, &t, &p)) != TBA_OK)
		goto out;
	if (p.has_next) {
		/* The certificate uploaded last is the pending one: switch to its key. */
		memcpy(oldid, p.key_id, TBA_KEY_ID_LEN);
		memcpy(p.key_id, p.next_key_id, TBA_KEY_ID_LEN);
		p.not_after = p.next_not_after;
		memset(p.next_key_id, 0, TBA_KEY_ID_LEN);
		p.next_not_after = 0;
		p.has_next = 0;
		switched = 1;
	}
	snprintf(p.cert_id, sizeof(p.cert_id), "%s", o->cert_id);
	if ((r = tba_token_save(t, &p, 1, NULL)) != TBA_OK)
		goto out;
	if (switched) {
		(void)tba_token_destroy_id(t, oldid);
		printf("profile %s now signs with its new key (certificate ID %s); the old key and "
		       "certificate were removed from the token. Revoke the old certificate in "
		       "NetSuite's M2M Setup once nothing uses it.\n",
		    p.name, p.cert_id);
	} else {
		printf("profile %s: certificate ID %s recorded; the agent can now get access "
		       "tokens ('tba test %s')\n",
		    p.name, p.cert_id, p.name);
	}
	r = TBA_OK;
out:
	tba_token_close(t);
	if (r != TBA_OK)
		return cli_fail(r, "m2m cert-id");
	return TBA_EXIT_OK;
}

static int
m2m_cert(const struct m2m_opts *o)
{
	struct tba_profile p;
	struct tba_token *t = NULL;
	unsigned char *der = NULL;
	size_t derlen = 0;
	char *pem = NULL;
	const char *uri;
	tba_err r;

	if ((uri = cli_token_uri(o->token)) == NULL)
		return cli_usage("m2m", "name the token with --token URI or TBA_TOKEN");
	if ((r = m2m_load(uri, o->name, &t, &p)) != TBA_OK)
		goto out;
	if (o->next && !p.has_next) {
		r = tba_seterr(TBA_ERR_NOT_FOUND,
		    "profile %s has no pending rotation (start one "
		    "with 'tba m2m rotate %s')",
		    p.name, p.name);
		goto out;
	}
	if ((r = tba_token_cert_get(t, o->next ? p.next_key_id : p.key_id, &der, &derlen)) !=
		TBA_OK ||
	    (r = tba_x509_pem(der, derlen, &pem)) != TBA_OK ||
	    (r = m2m_write_pem(-1, NULL, pem)) != TBA_OK)
		goto out;
	if (p.has_next && !o->next)
		fprintf(stderr,
		    "tba: m2m cert: profile %s has a pending rotation; 'tba m2m cert "
		    "%s --next' prints its certificate\n",
		    p.name, p.name);
	r = TBA_OK;
out:
	free(der);
	free(pem);
	tba_token_close(t);
	if (r != TBA_OK)
		return cli_fail(r, "m2m cert");
	return TBA_EXIT_OK;
}

static int
m2m_rotate(const struct m2m_opts *o)
{
	struct tba_profile p;
	struct tba_token *t = NULL;
	EVP_PKEY *cur = NULL;
	unsigned char id[TBA_KEY_ID_LEN], prev[TBA_KEY_ID_LEN];
	char cn[TBA_CN_MAX + 1], *pem = NULL;
	const char *uri;
	unsigned days = TBA_CERT_DAYS_MAX, bits = 0;
	int64_t not_after = 0;
	int rc, fd = -1, created = 0, made = 0, had_next;
	tba_err r;

	if (o->days != NULL && m2m_uint(o->days, 1, TBA_CERT_DAYS_MAX, &days) != 0)
		return cli_usage("m2m",
		    "bad --days '%.20s': 1 to %d (NetSuite takes certificates "
		    "valid for at most 2 years)",
		    o->days, TBA_CERT_DAYS_MAX);
	if (o->subject != NULL && !tba_x509_cn_ok(o->subject))
		return cli_usage(
		    "m2m", "bad --subject: 1 to %d printable ASCII characters", TBA_CN_MAX);
	if ((uri = cli_token_uri(o->token)) == NULL)
		return cli_usage("m2m", "name the token with --token URI or TBA_TOKEN");
	if ((rc = m2m_open_out("rotate", o->out, &fd, &created)) != 0)
		return rc;
	if ((r = m2m_load(uri, o->name, &t, &p)) != TBA_OK)
		goto out;
	if (o->subject != NULL)
		snprintf(cn, sizeof(cn), "%s", o->subject);
	else
		m2m_default_cn(&p, cn, sizeof(cn));
	/* An RSA key is rotated to one of the same size. */
	if (!tba_jwt_alg_is_ec(p.alg)) {
		if ((r = tba_token_pubkey(t, p.key_id, p.alg, &cur)) != TBA_OK)
			goto out;
		bits = EVP_PKEY_get_bits(cur) > 3072 ? 4096 : 3072;
	}
	if ((r = m2m_make(t, &p, bits, cn, days, id, &pem, &not_after)) != TBA_OK)
		goto out;
	made = 1;
	had_next = p.has_next;
	memcpy(prev, p.next_key_id, TBA_KEY_ID_LEN);
	memcpy(p.next_key_id, id, TBA_KEY_ID_LEN);
	p.next_not_after = not_after;
	p.has_next = 1;
	if ((r = tba_token_save(t, &p, 1, NULL)) != TBA_OK)
		goto out;
	made = 0;
	/* A rotation started before and never finished is replaced by this one. */
	if (had_next) {
		(void)tba_token_destroy_id(t, prev);
		fprintf(stderr,
		    "tba: m2m rotate: the earlier pending key of profile %s was "
		    "replaced by this one\n",
		    p.name);
	}
	if ((r = m2m_write_pem(fd, o->out, pem)) != TBA_OK) {
		fprintf(stderr,
		    "tba: m2m rotate: the new key of profile %s was made, but its "
		    "certificate could not be written; 'tba m2m cert %s --next' prints it\n",
		    p.name, p.name);
		goto out;
	}
	m2m_next_steps(&p, o->out, not_after, 1);
	r = TBA_OK;
out:
	if (made)
		(void)tba_token_destroy_id(t, id);
	if (fd >= 0)
		close(fd);
	if (r != TBA_OK && created)
		(void)unlink(o->out);
	EVP_PKEY_free(cur);
	free(pem);
	tba_token_close(t);
	if (r != TBA_OK)
		return cli_fail(r, "m2m rotate");
	return TBA_EXIT_OK;
}

int
cmd_m2m(int argc, char **argv)
{
	struct m2m_opts o;
	const char *sub;
	int rc, want;

	memset(&o, 0, sizeof(o));
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(m2m_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? TBA_EXIT_USAGE : TBA_EXIT_OK;
	}
	sub = argv[1];
	if (strcmp(sub, "new") != 0 && strcmp(sub, "cert-id") != 0 && strcmp(sub, "cert") != 0 &&
	    strcmp(sub, "rotate") != 0)
		return cli_usage("m2m",
		    "unknown subcommand '%.20s': use new, cert-id, cert or "
		    "rotate",
		    sub);
	/* argv + 1: the subcommand is getopt's argv[0]. */
	if ((rc = m2m_opts_parse(sub, argc - 1, argv + 1, &o)) >= 0)
		return rc;
	want = strcmp(sub, "cert-id") == 0 ? 2 : 1;
	if (argc - 1 - optind != want)
		return cli_usage("m2m", "'m2m %s' takes %s", sub,
		    want == 2 ? "PROFILE CERTIFICATE_ID" : "one PROFILE name");
	o.name = argv[1 + optind];
	if (want == 2)
		o.cert_id = argv[2 + optind];
	if (!tba_profile_name_ok(o.name))
		return cli_usage(
		    "m2m", "bad profile name '%.40s': use 1 to 32 of A-Z a-z 0-9 . _ -", o.name);
	if (strcmp(sub, "new") == 0)
		return m2m_new(&o);
	if (strcmp(sub, "cert-id") == 0)
		return m2m_cert_id(&o);
	if (strcmp(sub, "cert") == 0)
		return m2m_cert(&o);
	return m2m_rotate(&o);
}
