/* main.c - tba: dispatch to the subcommand. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tba/log.h"
#include "tba/mem.h"

struct cmd {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
	int secret; /* handles a secret or the PIN: no core dumps */
};

static const struct cmd cmds[] = {
	{"import", cmd_import, "put a profile's secrets into the token (reads them from the terminal or stdin)", 1},
	{"keys", cmd_keys, "list the profiles stored in the token", 1},
	{"delete", cmd_delete, "remove a profile from the token", 1},
	{"m2m", cmd_m2m, "OAuth 2.0 M2M: key pair and certificate in the token (new, cert-id, cert, rotate)", 1},
	{"list", cmd_list, "list the profiles the agent serves", 0},
	{"header", cmd_header, "print a signed Authorization header", 0},
	{"passport", cmd_passport, "print a signed SOAP tokenPassport", 0},
	{"curl", cmd_curl, "send a signed HTTP request", 0},
	{"test", cmd_test, "check that a profile can log in to its NetSuite account", 0},
	{"token", cmd_token, "print an OAuth 2.0 access token of an M2M profile", 0},
	{"exec", cmd_exec, "run a command with an M2M profile's access token in its environment", 0},
	{"lock", cmd_lock, "lock the agent (logs out of the token)", 0},
	{"unlock", cmd_unlock, "unlock the agent with the token PIN", 1},
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: tba COMMAND [ARGS]...\n\n"
	           "Signs NetSuite (OAuth 1.0a TBA) requests with keys kept in a PKCS#11 token.\n\n"
	           "Commands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n'tba COMMAND --help' shows a command's options.\n"
	           "Token commands take the token from --token URI or TBA_TOKEN;\n"
	           "agent commands reach tba-agent at TBA_AGENT_SOCK.\n");
}

int
cli_fail(tba_err r, const char *what)
{
	fprintf(stderr, "tba: %s: %s\n", what, tba_errmsg(r));
	if (r == TBA_ERR_AGENT)
		return TBA_EXIT_AGENT;
	if (r == TBA_ERR_USAGE)
		return TBA_EXIT_USAGE;
	return TBA_EXIT_FAIL;
}

int
cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tba %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ". Try 'tba %s --help'.\n", cmd);
	return TBA_EXIT_USAGE;
}

const char *
cli_token_uri(const char *opt)
{
	const char *env;

	if (opt != NULL)
		return opt;
	env = getenv("TBA_TOKEN");
	if (env != NULL && env[0] != '\0')
		return env;
	return NULL;
}

int
main(int argc, char **argv)
{
	size_t i;

	tba_log_init("tba", TBA_LOG_WARN);
	if (argc < 2) {
		usage(stderr);
		return TBA_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return TBA_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tba %s\n", TBA_VERSION);
		return TBA_EXIT_OK;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		if (cmds[i].secret)
			tba_mem_harden();
		tba_clearerr();
		return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "tba: unknown command '%s'. Try 'tba --help'.\n", argv[1]);
	return TBA_EXIT_USAGE;
}
