/* SPDX-License-Identifier: MIT */
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
    {"import", cmd_import,
	"put a profile's secrets into the token (reads them from the terminal or stdin)", 1},
    {"keys", cmd_keys, "list the profiles stored in the token", 1},
    {"delete", cmd_delete, "remove a profile from the token", 1},
    {"m2m", cmd_m2m,
	"OAuth 2.0 M2M: key pair and certificate in the token (new, cert-id, cert, rotate)", 1},
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

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: tba COMMAND [ARGS]...\n"
	    "       tba help COMMAND | tba COMMAND --help\n"
	    "       tba --version\n\n"
	    "Signs NetSuite (OAuth 1.0a TBA) requests with keys kept in a PKCS#11 token.\n\n"
	    "Commands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "  %-9s %s\n", "help", "show a command's usage and options (tba help COMMAND)");
	fprintf(f,
	    "\nOptions:\n"
	    "  --version  print the version and exit\n"
	    "  --help     print this list and exit\n"
	    "\nToken commands take the token from --token URI or TBA_TOKEN;\n"
	    "agent commands reach tba-agent at TBA_AGENT_SOCK, else at\n"
	    "$XDG_RUNTIME_DIR/tba/agent.sock, else at /tmp/tba-UID/agent.sock.\n"
	    "Exit codes: 0 ok, 1 the operation failed, 2 agent unreachable, 64 usage error.\n");
}

/*
 * Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions, so "lsit" is one edit from "list"); names are short, so
 * anything longer than 31 bytes is simply "far".
 */
static size_t
main_distance(const char *a, const char *b)
{
	size_t d[32][32], la = strlen(a), lb = strlen(b), i, j, v;

	if (la >= 32 || lb >= 32)
		return 32;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* Distance of a typed name to a command; a prefix of the command counts as 1 ("pass"). */
static size_t
main_near(const char *typed, const char *name)
{
	if (typed[0] != '\0' && strncmp(name, typed, strlen(typed)) == 0)
		return 1;
	return main_distance(typed, name);
}

/*
 * git's answer to a mistyped command: the nearest commands (at most 2
 * edits, or the typed word is a prefix of them), else where to look.
 */
static int
main_unknown(const char *typed)
{
	size_t best = 3, i, n = 0;

	for (i = 0; i <= NCMDS; i++) {
		if (main_near(typed, i < NCMDS ? cmds[i].name : "help") < best)
			best = main_near(typed, i < NCMDS ? cmds[i].name : "help");
	}
	fprintf(stderr, "tba: '%s' is not a tba command.", typed);
	for (i = 0; i <= NCMDS && best < 3; i++) {
		if (main_near(typed, i < NCMDS ? cmds[i].name : "help") != best)
			continue;
		fprintf(stderr, "%s'%s'", n == 0 ? " Did you mean " : " or ",
		    i < NCMDS ? cmds[i].name : "help");
		n++;
	}
	fprintf(stderr, n > 0 ? "?\n" : " See 'tba --help'.\n");
	return TBA_EXIT_USAGE;
}

static const struct cmd *
main_find(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++) {
		if (strcmp(name, cmds[i].name) == 0)
			return &cmds[i];
	}
	return NULL;
}

/* "tba help CMD" and "tba CMD -h": the command's own --help, on stdout. */
static int
main_help(const struct cmd *c)
{
	char name[32], help[] = "--help";
	char *av[] = {name, help, NULL};

	snprintf(name, sizeof(name), "%s", c->name);
	return c->fn(2, av);
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
	const struct cmd *c;

	tba_log_init("tba", TBA_LOG_WARN);
	if (argc < 2) {
		usage(stderr);
		return TBA_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    (strcmp(argv[1], "help") == 0 && argc == 2)) {
		usage(stdout);
		return TBA_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("tba %s\n", TBA_VERSION);
		return TBA_EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc > 3) {
			fprintf(stderr, "tba help: give one COMMAND. Try 'tba --help'.\n");
			return TBA_EXIT_USAGE;
		}
		c = main_find(argv[2]);
		return c != NULL ? main_help(c) : main_unknown(argv[2]);
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "tba: unknown option '%s'. Try 'tba --help'.\n", argv[1]);
		return TBA_EXIT_USAGE;
	}
	c = main_find(argv[1]);
	if (c == NULL)
		return main_unknown(argv[1]);
	/* As in git, a lone -h is help for every command, whatever its short options. */
	if (argc == 3 && strcmp(argv[2], "-h") == 0)
		return main_help(c);
	if (c->secret)
		tba_mem_harden();
	tba_clearerr();
	return c->fn(argc - 1, argv + 1);
}
