/* SPDX-License-Identifier: MIT */
/*
 * cli.h - the tba command-line tool: one function per subcommand.
 *
 * Each cmd_* gets argv with argv[0] = the subcommand name, parses its own
 * options with tba_getopt (getopt_long with permutation, so options may follow the
 * positional arguments, as in curl) and returns the process exit code.
 */
#ifndef TBA_CLI_H
#define TBA_CLI_H

#include "tba/err.h"

/* Exit codes (README.md, man/tba.1). */
#define TBA_EXIT_OK 0
#define TBA_EXIT_FAIL 1
#define TBA_EXIT_AGENT 2
#define TBA_EXIT_HTTP 22
#define TBA_EXIT_USAGE 64

/* Token commands: cmd_token.c */
int cmd_import(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_delete(int argc, char **argv);

/* M2M key pairs and certificates: cmd_m2m.c (new, cert-id, cert, rotate) */
int cmd_m2m(int argc, char **argv);

/* Agent commands: cmd_agent.c */
int cmd_list(int argc, char **argv);
int cmd_header(int argc, char **argv);
int cmd_passport(int argc, char **argv);
int cmd_lock(int argc, char **argv);
int cmd_unlock(int argc, char **argv);

/* OAuth 2.0 M2M access tokens: cmd_oauth2.c */
int cmd_token(int argc, char **argv);
int cmd_exec(int argc, char **argv);

/* HTTP commands: cmd_curl.c, cmd_test.c */
int cmd_curl(int argc, char **argv);
int cmd_test(int argc, char **argv);

/*
 * Prints "tba: <what>: <detail>" (detail = tba_errmsg(r)) as one line on
 * stderr and returns the exit code for r: TBA_EXIT_AGENT for TBA_ERR_AGENT,
 * TBA_EXIT_USAGE for TBA_ERR_USAGE, TBA_EXIT_FAIL otherwise.
 */
int cli_fail(tba_err r, const char *what);

/* Prints a usage error line plus "Try 'tba CMD --help'." and returns TBA_EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The token URI: --token if given, else $TBA_TOKEN, else NULL. */
const char *cli_token_uri(const char *opt);

/* Opens the token named by uri and logs in with the PIN its URI gives (asked for once). cmd_token.c */
struct tba_token;
tba_err cli_token_login(const char *uri, struct tba_token **out);

#endif
