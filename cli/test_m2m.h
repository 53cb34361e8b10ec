/* SPDX-License-Identifier: MIT */
/* test_m2m.h - tba test for M2M profiles (cmd_test.c hands them over). */
#ifndef TBA_CLI_TEST_M2M_H
#define TBA_CLI_TEST_M2M_H

#include "http.h"

/*
 * Diagnoses M2M profile name against its account's REST host: a fresh
 * token exchange (NetSuite's OAuth error code explained, with where to fix
 * it), then one Bearer request. Prints the outcome; returns the exit code.
 */
int test_m2m(const char *name, const char *host, const struct http_conf *conf,
    struct tba_agentc *ac, CURL *h);

#endif
