/* SPDX-License-Identifier: MIT */
/*
 * cmd_agent.c - tba list, header, passport, lock, unlock: the commands that
 * talk to tba-agent at TBA_AGENT_SOCK.
 *
 * These never load a PKCS#11 module, touch the token or start libcurl: they
 * are a connect, one request and one reply, so they start fast.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "tba/getopt.h"
#include "tba/agentc.h"
#include "tba/buf.h"
#include "tba/mem.h"
#include "tba/oauth.h"
#include "tba/proto.h"
#include "tba/tty.h"
#include "tba/url.h"

static const char list_help[] =
    "usage: tba list [--json]\n\n"
    "Lists the profiles the agent at TBA_AGENT_SOCK serves (no secrets).\n\n"
    "  --json   a JSON array of {name, kind, account, realm, signature_method, hosts}\n";

static const char header_help[] =
    "usage: tba header PROFILE METHOD URL [--form NAME=VALUE]... [--timestamp T] [--nonce N] [--json]\n\n"
    "Prints the value of a signed Authorization header for METHOD URL on one line\n"
    "(OAuth realm=\"...\", oauth_consumer_key=\"...\", ...). The agent checks the\n"
    "profile's policy (https, an allowed host, METHOD in capitals) before signing.\n\n"
    "  --form NAME=VALUE  a form body parameter to sign (literal, split at the first '=')\n"
    "  --timestamp T      use this timestamp (seconds; within the agent's --max-skew)\n"
    "  --nonce N          use this nonce (6-64 of A-Za-z0-9)\n"
    "  --json             print authorization, signature, nonce, timestamp, base_string\n"
    "                     and url (the exact URL that was signed: send that one)\n";

static const char passport_help[] =
    "usage: tba passport PROFILE [--xml|--json] [--timestamp T] [--nonce N]\n\n"
    "Prints a signed SOAP <tokenPassport> element for SuiteTalk (the default, --xml),\n"
    "or its fields as JSON (--json).\n\n"
    "  --timestamp T      use this timestamp (seconds; within the agent's --max-skew)\n"
    "  --nonce N          use this nonce (6-64 of A-Za-z0-9)\n";

static const char lock_help[] =
    "usage: tba lock\n\n"
    "Locks the agent: it logs out of the token, forgets the PIN and refuses to sign\n"
    "until 'tba unlock'.\n";

static const char unlock_help[] =
    "usage: tba unlock\n\n"
    "Unlocks the agent with the token PIN, read from the terminal with echo off, or\n"
    "else from the first line of standard input. A wrong PIN is not retried.\n";

/* Options shared by the agent commands; unused ones are refused per command. */
struct agent_opts {
	int json, xml;
	int64_t timestamp; /* -1: the agent's clock */
	const char *nonce;
	struct tba_params form;
};

enum { O_JSON = 1, O_XML = 2, O_FORM = 4, O_TS = 8, O_NONCE = 16 };

/*
 * --timestamp: decimal Unix seconds, the one place the CLI reads one (the
 * agent judges the clock skew; here only the form and the protocol's range).
 */
static int
agent_timestamp(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > TBA_PROTO_INT_MAX)
		return 0;
	*out = (int64_t)v;
	return 1;
}

static void
agent_opts_init(struct agent_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timestamp = -1;
	tba_params_init(&o->form);
}

/* Returns -1 to go on, else the exit code. */
static int
agent_opts(const char *cmd, const char *help, unsigned allowed, int argc, char **argv,
    struct agent_opts *o)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"xml", no_argument, NULL, 'x'},
	    {"form", required_argument, NULL, 'F'},
	    {"timestamp", required_argument, NULL, 't'},
	    {"nonce", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *eq;
	char *name;
	int c;

	opterr = 0;
	while ((c = tba_getopt(argc, argv, ":h", longopts)) != -1) {
		switch (c) {
		case 'h':
			fputs(help, stdout);
			return TBA_EXIT_OK;
		case ':':
			return cli_usage(cmd, "option %s needs a value", argv[optind - 1]);
		case '?':
			return cli_usage(cmd, "unknown option %s", argv[optind - 1]);
		}
		if ((c == 'j' && !(allowed & O_JSON)) || (c == 'x' && !(allowed & O_XML)) ||
		    (c == 'F' && !(allowed & O_FORM)) || (c == 't' && !(allowed & O_TS)) ||
		    (c == 'n' && !(allowed & O_NONCE)))
			return cli_usage(cmd, "unknown option %s", argv[optind - 1]);
		switch (c) {
		case 'j':
			o->json = 1;
			break;
		case 'x':
			o->xml = 1;
			break;
		case 't':
			if (!agent_timestamp(optarg, &o->timestamp))
				return cli_usage(
				    cmd, "--timestamp wants seconds since 1970, not '%s'", optarg);
			break;
		case 'n':
			o->nonce = optarg;
			break;
		case 'F':
			if ((eq = strchr(optarg, '=')) == NULL)
				return cli_usage(cmd, "--form wants NAME=VALUE, not '%s'", optarg);
			if ((name = strndup(optarg, (size_t)(eq - optarg))) == NULL)
				return cli_fail(tba_nomem(), cmd);
			if (tba_params_add(&o->form, name, eq + 1) != TBA_OK) {
				free(name);
				return cli_usage(cmd, "too many --form parameters");
			}
			free(name);
			break;
		}
	}
	if (o->json && o->xml)
		return cli_usage(cmd, "--json and --xml exclude each other");
	return -1;
}

/* Connects and makes one call; prints the error and returns the exit code, or -1 on success. */
static int
agent_call(const char *cmd, const char *method, const cJSON *params, cJSON **reply)
{
	struct tba_agentc *c = NULL;
	tba_err r;

	*reply = NULL;
	if ((r = tba_agentc_connect(NULL, &c)) == TBA_OK)
		r = tba_agentc_call(c, method, params, reply);
	tba_agentc_close(c);
	if (r != TBA_OK)
		return cli_fail(r, cmd);
	return -1;
}

static void
print_json(const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);

	if (s != NULL) {
		puts(s);
		cJSON_free(s);
	}
}

static const char *
jstr(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

int
cmd_list(int argc, char **argv)
{
	struct agent_opts o;
	cJSON *reply = NULL;
	const cJSON *profs, *p, *h;
	int rc, first;

	agent_opts_init(&o);
	if ((rc = agent_opts("list", list_help, O_JSON, argc, argv, &o)) >= 0)
		goto out;
	if (optind < argc) {
		rc = cli_usage("list", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if ((rc = agent_call("list", "List", NULL, &reply)) >= 0)
		goto out;
	profs = cJSON_GetObjectItemCaseSensitive(reply, "profiles");
	if (!cJSON_IsArray(profs)) {
		rc = cli_fail(
		    tba_seterr(TBA_ERR_PROTO, "the agent's reply has no profiles"), "list");
		goto out;
	}
	if (o.json) {
		print_json(profs);
		rc = TBA_EXIT_OK;
		goto out;
	}
	if (cJSON_GetArraySize(profs) == 0)
		fprintf(stderr,
		    "tba list: the agent's token has no profiles (add one with tba import)\n");
	else
		printf("%-20s %-9s %-16s %-16s %-12s %s\n", "NAME", "KIND", "ACCOUNT", "REALM",
		    "METHOD", "HOSTS");
	cJSON_ArrayForEach(p, profs)
	{
		printf("%-20s %-9s %-16s %-16s %-12s ", jstr(p, "name"), jstr(p, "kind"),
		    jstr(p, "account")[0] ? jstr(p, "account") : "-",
		    jstr(p, "realm")[0] ? jstr(p, "realm") : "-",
		    jstr(p, "signature_method")[0] ? jstr(p, "signature_method") : jstr(p, "alg"));
		first = 1;
		cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(p, "hosts"))
		{
			printf("%s%s", first ? "" : ",", cJSON_IsString(h) ? h->valuestring : "?");
			first = 0;
		}
		printf("\n");
	}
	rc = TBA_EXIT_OK;
out:
	cJSON_Delete(reply);
	tba_params_free(&o.form);
	return rc;
}

int
cmd_header(int argc, char **argv)
{
	struct agent_opts o;
	struct tba_agentc *c = NULL;
	cJSON *reply = NULL;
	tba_err r;
	int rc;

	agent_opts_init(&o);
	if ((rc = agent_opts(
		 "header", header_help, O_JSON | O_FORM | O_TS | O_NONCE, argc, argv, &o)) >= 0)
		goto out;
	if (argc - optind != 3) {
		rc = cli_usage("header", "needs PROFILE METHOD URL");
		goto out;
	}
	if ((r = tba_agentc_connect(NULL, &c)) == TBA_OK)
		r = tba_agentc_sign(c, argv[optind], argv[optind + 1], argv[optind + 2], &o.form,
		    o.timestamp, o.nonce, &reply);
	if (r != TBA_OK) {
		rc = cli_fail(r, "header");
		goto out;
	}
	if (o.json)
		print_json(reply);
	else
		printf("%s\n", jstr(reply, "authorization"));
	rc = TBA_EXIT_OK;
out:
	tba_agentc_close(c);
	cJSON_Delete(reply);
	tba_params_free(&o.form);
	return rc;
}

int
cmd_passport(int argc, char **argv)
{
	struct agent_opts o;
	struct tba_agentc *c = NULL;
	struct tba_buf xml;
	cJSON *reply = NULL;
	enum tba_sigmethod m;
	int64_t ts;
	tba_err r;
	int rc;

	agent_opts_init(&o);
	tba_buf_init(&xml, 65536);
	if ((rc = agent_opts(
		 "passport", passport_help, O_JSON | O_XML | O_TS | O_NONCE, argc, argv, &o)) >= 0)
		goto out;
	if (argc - optind != 1) {
		rc = cli_usage("passport", "needs exactly one PROFILE");
		goto out;
	}
	if ((r = tba_agentc_connect(NULL, &c)) == TBA_OK)
		r = tba_agentc_passport(c, argv[optind], o.timestamp, o.nonce, &reply);
	if (r != TBA_OK) {
		rc = cli_fail(r, "passport");
		goto out;
	}
	if (o.json) {
		print_json(reply);
		rc = TBA_EXIT_OK;
		goto out;
	}
	if (tba_proto_int(cJSON_GetObjectItemCaseSensitive(reply, "timestamp"), "timestamp", &ts) !=
		TBA_OK ||
	    tba_sigmethod_parse(jstr(reply, "algorithm"), &m) != TBA_OK) {
		rc = cli_fail(tba_seterr(TBA_ERR_PROTO, "malformed Passport reply"), "passport");
		goto out;
	}
	r = tba_passport_xml(jstr(reply, "account"), jstr(reply, "consumer_key"),
	    jstr(reply, "token"), jstr(reply, "nonce"), ts, jstr(reply, "signature"), m, &xml);
	if (r != TBA_OK) {
		rc = cli_fail(r, "passport");
		goto out;
	}
	printf("%s\n", tba_buf_str(&xml));
	rc = TBA_EXIT_OK;
out:
	tba_agentc_close(c);
	tba_buf_free(&xml);
	cJSON_Delete(reply);
	tba_params_free(&o.form);
	return rc;
}

int
cmd_lock(int argc, char **argv)
{
	struct agent_opts o;
	cJSON *reply = NULL;
	int rc;

	agent_opts_init(&o);
	if ((rc = agent_opts("lock", lock_help, 0, argc, argv, &o)) >= 0)
		return rc;
	if (optind < argc)
		return cli_usage("lock", "unexpected argument '%s'", argv[optind]);
	if ((rc = agent_call("lock", "Lock", NULL, &reply)) >= 0)
		return rc;
	cJSON_Delete(reply);
	fprintf(stderr, "Agent locked.\n");
	return TBA_EXIT_OK;
}

int
cmd_unlock(int argc, char **argv)
{
	struct agent_opts o;
	struct tba_agentc *c = NULL;
	char *pin = NULL;
	size_t len = 0, cap = 0;
	tba_err r;
	int rc;

	agent_opts_init(&o);
	if ((rc = agent_opts("unlock", unlock_help, 0, argc, argv, &o)) >= 0)
		return rc;
	if (optind < argc)
		return cli_usage("unlock", "unexpected argument '%s'", argv[optind]);
	/* Connect first: no point asking for a PIN nobody will take. */
	if ((r = tba_agentc_connect(NULL, &c)) != TBA_OK)
		return cli_fail(r, "unlock");
	if (isatty(STDIN_FILENO))
		r = tba_tty_read_secret("Token PIN: ", &pin, &len, &cap);
	else
		r = tba_fd_read_secret(STDIN_FILENO, &pin, &len, &cap);
	if (r == TBA_OK && len == 0)
		r = tba_seterr(TBA_ERR_USAGE, "empty PIN");
	else if (r == TBA_ERR_NOT_FOUND)
		r = tba_seterr(TBA_ERR_USAGE, "no PIN on standard input");
	if (r == TBA_OK)
		r = tba_agentc_unlock(c, pin, len);
	tba_secfree(pin, cap);
	tba_agentc_close(c);
	if (r != TBA_OK)
		return cli_fail(r, "unlock");
	fprintf(stderr, "Agent unlocked.\n");
	return TBA_EXIT_OK;
}
