/* SPDX-License-Identifier: MIT */
/*
 * getopt.h - command-line options without abbreviations, for tba and
 * tba-agent.
 */
#ifndef TBA_GETOPT_H
#define TBA_GETOPT_H

struct option;

/*
 * getopt_long(argc, argv, shortopts, longopts, NULL), except that a long
 * option given as a prefix of its name ("--hea" for "--header") is unknown:
 * returns '?' with argv[optind - 1] the element as given and optopt 0.
 * Options are never matched by prefix, so a script's meaning cannot change
 * when an option is added.
 */
int tba_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

#endif
