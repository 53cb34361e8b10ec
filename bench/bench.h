/* SPDX-License-Identifier: MIT */
/*
 * bench.h - tba-bench: the agent measured against the token's own limit.
 *
 * Every case runs for a fixed wall-clock time per round and reports a rate
 * and, where it has one, a latency distribution. tba-bench.c runs the cases
 * in alternating rounds and prints medians and ratios; the cases live in
 * token_case.c (in-process PKCS#11), agent_case.c (the socket),
 * bare_case.c (the token behind a server that does nothing else) and
 * spawn_case.c (fork+exec of tba, the floor program and Python).
 */
#ifndef TBA_BENCH_H
#define TBA_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "tba/err.h"
#include "tba/profile.h"

#define BENCH_THREADS_MAX 16
#define BENCH_SAMPLES_MAX (1u << 20) /* latency samples kept per thread per round */

/* One case's result in one round. */
struct bench_result {
	double rate;   /* operations per second over the round */
	double p50_ms; /* latency percentiles; 0 when the case has none */
	double p99_ms;
	uint64_t n; /* operations done */
	int ok;     /* 0 when an operation failed (the round is void) */
};

/* Everything the cases share, set up once by main. */
struct bench {
	/* in-process token */
	struct tba_token *tok;
	struct tba_session *sess[BENCH_THREADS_MAX];
	size_t nsess;
	struct tba_profile prof;
	/* M2M profiles bench-es256 and bench-ps256, when the token has them (bench/run makes them). */
	struct tba_profile es256, ps256;
	int have_jws;
	char *msg; /* a NetSuite-like base string, the message signed */
	size_t msglen;

	/* agent */
	const char *sock; /* TBA_AGENT_SOCK */
	char *req;        /* one Sign request, NUL terminator included in reqlen */
	size_t reqlen;
	uint64_t agent_signs; /* signatures the agent made for us so far */
	long agent_pid;       /* 0: unknown (no RSS, no pinned case) */

	/* the bare socket server (bare_case.c) */
	long bare_pid;       /* 0: not running */
	char bare_sock[128]; /* TBA_AGENT_SOCK + ".bare" */

	/* programs */
	char *const *cli_argv;   /* tba header PROFILE GET URL */
	char *const *floor_argv; /* the floor program */
	char *const *py_once_argv;
	const char *py;        /* /usr/bin/python3 */
	const char *py_script; /* oauthlib_bench.py */
	const char *url;
};

/* Monotonic time in seconds. */
double bench_now(void);
/* p-th percentile (0..1) of v[0..n) in milliseconds (v in ns); sorts v. */
double bench_pct_ms(uint64_t *v, size_t n, double p);

/* token_case.c */
tba_err bench_token_setup(struct bench *b, const char *uri, const char *profile, size_t nsess);
void bench_token_teardown(struct bench *b);
/* nthreads threads, each C_SignInit+C_Sign on its own session, for secs seconds. */
int bench_token_run(struct bench *b, size_t nthreads, double secs, struct bench_result *out);
/* The token's JWS signature (ECDSA or RSA-PSS, tba_session_sign_jws) with M2M profile p, 1 thread. */
int bench_jws_run(
    struct bench *b, const struct tba_profile *p, double secs, struct bench_result *out);

/* agent_case.c */
/* Builds the Sign request and checks one round trip. */
int bench_agent_setup(struct bench *b, const char *profile);
void bench_agent_teardown(struct bench *b);
/* nclients persistent connections, one thread each, for secs seconds. */
int bench_agent_run(struct bench *b, size_t nclients, double secs, struct bench_result *out);
/*
 * One persistent client with the client and every agent thread pinned to
 * CPU 0: the round trip without cross-CPU wake-ups (each costs an IPI,
 * expensive in a VM). Affinity is restored afterwards.
 */
int bench_agent_run_pinned(struct bench *b, long agent_pid, double secs, struct bench_result *out);
/* One client that connects, signs once and closes, for secs seconds. */
int bench_agent_connect_run(struct bench *b, double secs, struct bench_result *out);
/* Exactly n signatures over nclients persistent connections (warm-up, RSS phase). */
int bench_agent_signs(struct bench *b, size_t nclients, uint64_t n);
/* Exactly n signatures, one connection each. */
int bench_agent_connect_signs(struct bench *b, uint64_t n);
/* VmRSS of pid in KiB, or -1. */
long bench_rss_kib(long pid);

/* bare_case.c */
/*
 * Forks a server that signs with the token and does nothing else, listening
 * at b->sock + ".bare" (b->bare_sock). Call before anything in this process
 * loads a PKCS#11 module.
 */
int bench_bare_start(struct bench *b, const char *uri, const char *profile);
void bench_bare_stop(struct bench *b);
/* The agent's client cases, against the bare server. */
int bench_bare_run(struct bench *b, size_t nclients, double secs, struct bench_result *out);
int bench_bare_run_pinned(struct bench *b, double secs, struct bench_result *out);

/* spawn_case.c */
/* Runs argv (stdout/stderr to /dev/null) and waits, one call after another, for secs seconds. */
int bench_spawn_run(char *const *argv, double secs, struct bench_result *out);
/* Runs argv once with stdout captured into out (NUL-terminated); 0 when it exited 0. */
int bench_spawn_capture(char *const *argv, char *out, size_t outsz);
/* python3 oauthlib_bench.py --seconds secs URL: its in-process signs/s. */
int bench_py_inproc_run(struct bench *b, double secs, struct bench_result *out);

#endif
