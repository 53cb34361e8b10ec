/* SPDX-License-Identifier: MIT */
/*
 * test_getopt.c - long options are matched only when spelled in full
 * (lib/base/getopt.c), whatever the form: --name, --name=value, --name value,
 * after positional arguments (permutation), next to short options.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

#include "tba/getopt.h"

static const struct option lo[] = {
    {"header", required_argument, NULL, 'H'},
    {"head", no_argument, NULL, 'I'},
    {"max-time", required_argument, NULL, 'm'},
    {"paginate", optional_argument, NULL, 'p'},
    {NULL, 0, NULL, 0},
};

/*
 * Runs the loop over args (NULL-terminated, argv[0] added) and writes what
 * it saw into out: "H=v" per option, "?ELEM" for an unknown one (ELEM =
 * argv[optind - 1], what callers print), then the positionals.
 */
static void
run(const char **args, char *out, size_t outlen)
{
	char *argv[16];
	int argc = 0, c;
	size_t k;

	argv[argc++] = "prog";
	while (*args != NULL && argc < 15)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	out[0] = '\0';
	optind = 1;
	opterr = 0;
	while ((c = tba_getopt(argc, argv, ":H:Im:", lo)) != -1) {
		k = strlen(out);
		if (c == '?') {
			snprintf(out + k, outlen - k, "?%s ", argv[optind - 1]);
			return;
		}
		snprintf(out + k, outlen - k, "%c=%s ", c, optarg != NULL ? optarg : "");
	}
	for (; optind < argc; optind++) {
		k = strlen(out);
		snprintf(out + k, outlen - k, "%s ", argv[optind]);
	}
}

#define CASE(want, ...) \
	do { \
		const char *a[] = {__VA_ARGS__, NULL}; \
		run(a, got, sizeof(got)); \
		is_str(got, want, "%s", want); \
	} while (0)

int
main(void)
{
	char got[512];

	CASE("H=X: 1 I= P U ", "--header", "X: 1", "--head", "P", "U");
	CASE("H=X: 1 m=5 P ", "P", "--header=X: 1", "--max-time=5");
	CASE("H=a I= m=2 ", "-H", "a", "-I", "-m2");
	CASE("p= p=lines ", "--paginate", "--paginate=lines");
	/* Prefixes, unique or not, are unknown: argv[optind - 1] is the option as given. */
	CASE("?--hea ", "--hea");
	CASE("?--heade ", "--heade", "X: 1");
	CASE("?--max-t=5 ", "--max-t=5");
	CASE("?--max ", "P", "--max", "5");
	CASE("?--pag ", "--pag");
	CASE("I= ?--he ", "--head", "--he");
	/* The value of an option is never taken for an option. */
	CASE("H=--hea U ", "--header", "--hea", "U");
	CASE("H=--hea ", "-H", "--hea");
	/* After "--" everything is positional. */
	CASE("I= --hea x ", "--head", "--", "--hea", "x");
	return tap_done();
}
