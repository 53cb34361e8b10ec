/* SPDX-License-Identifier: MIT */
/*
 * cmd_oauth2.c - tba token and tba exec: OAuth 2.0 access tokens of M2M
 * profiles, from the agent (which builds, signs and exchanges the JWT and
 * caches the token; these commands never see a key).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "cli.h"
#include "tba/getopt.h"
#include "tba/agentc.h"
#include "tba/jwt.h"
#include "tba/mem.h"
#include "tba/profile.h"

static const char token_help[] =
    "usage: tba token PROFILE [--renew] [--json]\n\n"
    "Prints an OAuth 2.0 access token of the M2M profile PROFILE. The agent builds\n"
    "the JWT client assertion, signs it inside the token, exchanges it at the\n"
    "account's token endpoint and keeps the access token until a minute before it\n"
    "expires, so repeated calls are answered from memory.\n\n"
    "  --renew   ask for a new access token even if the cached one is still good\n"
    "  --json    print access_token, token_type, expires_at (unix seconds) and scope\n";

static const char exec_help[] =
    "usage: tba exec PROFILE [--force] -- COMMAND [ARG]...\n\n"
    "Runs COMMAND with an access token of the M2M profile PROFILE in its\n"
    "environment and exits with COMMAND's status:\n"
    "  NETSUITE_ACCESS_TOKEN             the access token (send it as 'Authorization: Bearer')\n"
    "  NETSUITE_ACCESS_TOKEN_EXPIRES_AT  when it expires (unix seconds)\n"
    "  NETSUITE_ACCOUNT                  the account ID in realm form (1234567_SB1)\n"
    "  NETSUITE_REST_URL                 https://ACCOUNT.suitetalk.api.netsuite.com/services/rest\n"
    "  TBA_PROFILE                       PROFILE\n\n"
    "  --force   run even inside another 'tba exec' (TBA_PROFILE already set)\n";

/* Wipes the access token inside a reply tree before it is freed. */
static void
oauth2_wipe(cJSON *reply)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(reply, "access_token");

	if (cJSON_IsString(v))
		tba_wipe(v->valuestring, strlen(v->valuestring));
}

/* The exit code and one line for a failed AccessToken. */
static int
oauth2_fail(struct tba_agentc *c, tba_err r, const char *cmd)
{
	const char *code = "";
	long status = 0;

	if (r == TBA_ERR_NETWORK && c != NULL) {
		tba_agentc_authz_detail(c, &status, &code);
		if (code[0] != '\0' || status != 0) {
			fprintf(stderr, "tba %s: %s\n", cmd, tba_errmsg(r));
			return TBA_EXIT_FAIL;
		}
	}
	return cli_fail(r, cmd);
}

/* Options; returns -1 to go on, else the exit code. */
static int
oauth2_opts(
    const char *cmd, const char *help, int argc, char **argv, int *renew, int *json, int *force)
{
	static const struct option lo[] = {
	    {"renew", no_argument, NULL, 'r'},
	    {"json", no_argument, NULL, 'j'},
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	opterr = 0;
	optind = 1;
	while ((ch = tba_getopt(argc, argv, ":h", lo)) != -1) {
		if (ch == 'h') {
			fputs(help, stdout);
			return TBA_EXIT_OK;
		}
		if (ch == 'r' && renew != NULL)
			*renew = 1;
		else if (ch == 'j' && json != NULL)
			*json = 1;
		else if (ch == 'f' && force != NULL)
			*force = 1;
		else
			return cli_usage(cmd, "unknown option %s", argv[optind - 1]);
	}
	return -1;
}

int
cmd_token(int argc, char **argv)
{
	struct tba_agentc *c = NULL;
	cJSON *reply = NULL;
	const cJSON *t;
	char *txt = NULL;
	int renew = 0, json = 0, rc;
	tba_err r;

	if ((rc = oauth2_opts("token", token_help, argc, argv, &renew, &json, NULL)) >= 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage("token",
		    optind >= argc ? "name the profile" : "unexpected argument '%s'",
		    optind < argc ? argv[optind + 1] : "");
	if ((r = tba_agentc_connect(NULL, &c)) != TBA_OK) {
		rc = cli_fail(r, "token");
		goto out;
	}
	if ((r = tba_agentc_access_token(c, argv[optind], renew, &reply)) != TBA_OK) {
		rc = oauth2_fail(c, r, "token");
		goto out;
	}
	t = cJSON_GetObjectItemCaseSensitive(reply, "access_token");
	if (!cJSON_IsString(t)) {
		rc = cli_fail(
		    tba_seterr(TBA_ERR_PROTO, "the agent's reply has no access_token"), "token");
		goto out;
	}
	if (json) {
		if ((txt = cJSON_PrintUnformatted(reply)) == NULL) {
			rc = cli_fail(tba_nomem(), "token");
			goto out;
		}
		puts(txt);
	} else
		puts(t->valuestring);
	rc = fflush(stdout) == 0 ? TBA_EXIT_OK : TBA_EXIT_FAIL;
out:
	if (txt != NULL) {
		tba_wipe(txt, strlen(txt));
		cJSON_free(txt);
	}
	oauth2_wipe(reply);
	cJSON_Delete(reply);
	tba_agentc_close(c);
	return rc;
}

/* Puts the token and the account's values into this (about to exec) process's environment. */
static int
oauth2_env(const char *profile, const struct auth_profile *a, const cJSON *reply)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(reply, "access_token");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "expires_at");
	char realm[TBA_FIELD_MAX + 1], rest[TBA_JWT_URL_MAX], exp[32];

	if (!cJSON_IsString(t) || !cJSON_IsNumber(e))
		return -1;
	snprintf(exp, sizeof(exp), "%" PRId64, (int64_t)e->valuedouble);
	if (tba_ns_realm(a->account, realm, sizeof(realm)) != TBA_OK ||
	    tba_jwt_rest_url(a->account, rest, sizeof(rest)) != TBA_OK)
		return -1;
	if (setenv("NETSUITE_ACCESS_TOKEN", t->valuestring, 1) != 0 ||
	    setenv("NETSUITE_ACCESS_TOKEN_EXPIRES_AT", exp, 1) != 0 ||
	    setenv("NETSUITE_ACCOUNT", realm, 1) != 0 ||
	    setenv("NETSUITE_REST_URL", rest, 1) != 0 || setenv("TBA_PROFILE", profile, 1) != 0)
		return -1;
	return 0;
}

/* Runs argv with the environment set up; returns its exit status as a shell would. */
static int
oauth2_run(const char *profile, const struct auth_profile *a, const cJSON *reply, char **cmd)
{
	pid_t pid;
	int st;

	fflush(NULL);
	if ((pid = fork()) < 0) {
		fprintf(stderr, "tba exec: fork: %s\n", strerror(errno));
		return TBA_EXIT_FAIL;
	}
	if (pid == 0) {
		if (oauth2_env(profile, a, reply) != 0) {
			fprintf(stderr, "tba exec: cannot set up the environment\n");
			_exit(TBA_EXIT_FAIL);
		}
		execvp(cmd[0], cmd);
		fprintf(stderr, "tba exec: %s: %s\n", cmd[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	/* Like a shell: the child gets ^C; we wait for it and pass its status on. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "tba exec: waitpid: %s\n", strerror(errno));
			return TBA_EXIT_FAIL;
		}
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return TBA_EXIT_FAIL;
}

int
cmd_exec(int argc, char **argv)
{
	const struct auth_profile *a = NULL;
	struct tba_agentc *c = NULL;
	cJSON *reply = NULL;
	const char *nested;
	int dash, force = 0, rc;
	tba_err r;

	/* Options end at "--": what follows is COMMAND's, never ours. */
	for (dash = 1; dash < argc && strcmp(argv[dash], "--") != 0; dash++)
		;
	if ((rc = oauth2_opts("exec", exec_help, dash, argv, NULL, NULL, &force)) >= 0)
		return rc;
	if (optind + 1 != dash)
		return cli_usage("exec", "give one PROFILE before '--'");
	if (dash + 1 >= argc)
		return cli_usage("exec", "give the command to run after '--'");
	nested = getenv("TBA_PROFILE");
	if (nested != NULL && nested[0] != '\0' && !force) {
		fprintf(stderr,
		    "tba exec: already inside 'tba exec' for profile '%.40s' (TBA_PROFILE is "
		    "set); use --force to run another one inside it\n",
		    nested);
		return TBA_EXIT_FAIL;
	}
	if ((r = tba_agentc_connect(NULL, &c)) != TBA_OK) {
		rc = cli_fail(r, "exec");
		goto out;
	}
	if ((r = auth_profile(c, argv[optind], &a)) != TBA_OK) {
		rc = cli_fail(r, "exec");
		goto out;
	}
	if ((r = tba_agentc_access_token(c, argv[optind], 0, &reply)) != TBA_OK) {
		rc = oauth2_fail(c, r, "exec");
		goto out;
	}
	tba_agentc_close(c);
	c = NULL;
	rc = oauth2_run(argv[optind], a, reply, argv + dash + 1);
out:
	oauth2_wipe(reply);
	cJSON_Delete(reply);
	tba_agentc_close(c);
	return rc;
}
