/* SPDX-License-Identifier: MIT */
/*
 * getopt.c - getopt_long without abbreviations.
 *
 * getopt_long accepts any unique prefix of a long option, so "--head"
 * silently meant "--header" in tba curl, and an option added later turns a
 * once-unique prefix into an ambiguous one: a script's meaning would change
 * with the tool's version. tba and tba-agent (like curl) match long options
 * only when spelled in full.
 */
#include <getopt.h>
#include <stddef.h>
#include <string.h>

#include "tba/getopt.h"

/*
 * 1 when the element that named long option lo was spelled in full.
 * getopt_long has just returned it: the element is argv[optind - 1], or
 * argv[optind - 2] when the option's value was the separate element
 * argv[optind - 1] (optarg then points at that element's start).
 */
static int
getopt_full(char **argv, const struct option *lo, int *elem)
{
	const char *a;
	size_t n;

	*elem = optind - 1;
	if (optarg != NULL && optind >= 2 && optarg == argv[optind - 1])
		*elem = optind - 2;
	a = argv[*elem];
	if (strncmp(a, "--", 2) != 0)
		return 1; /* a short option's cluster or -W form: nothing to check */
	a += 2;
	n = strcspn(a, "=");
	return n == strlen(lo->name) && strncmp(a, lo->name, n) == 0;
}

int
tba_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	int c, idx = -1, elem;

	c = getopt_long(argc, argv, shortopts, longopts, &idx);
	if (c == -1 || c == '?' || c == ':' || idx < 0)
		return c;
	if (!getopt_full(argv, &longopts[idx], &elem)) {
		/* Callers name argv[optind - 1] in their "unknown option" line. */
		optind = elem + 1;
		optopt = 0;
		return '?';
	}
	return c;
}
