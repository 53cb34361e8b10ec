/* SPDX-License-Identifier: MIT */
/*
 * tba-bench.c - the agent measured against the token's own limit.
 *
 * usage: tba-bench --tba PATH --floor PATH --agent-pid PID [--profile NAME]
 *                  [--url URL] [--rounds N] [--seconds S] [--rss-signs N]
 *                  [--python PATH] [--oauthlib SCRIPT] [--token URI]
 *        tba-bench --signs-only N [--clients C] [--connect] [--bare] [--profile NAME] [--url URL]
 *
 * --signs-only sends N Sign requests to the agent and nothing else: the
 * driver for profiling the agent (valgrind --tool=callgrind tba-agent ...)
 * with a fixed amount of work; with --bare, to the bare socket server instead.
 *
 * The token comes from --token or TBA_TOKEN (this program logs in itself, as
 * the agent does, to time the token in process); the agent from
 * TBA_AGENT_SOCK. bench/run sets all of it up; see there.
 *
 * Cases run in alternating rounds (every case once per round, the same
 * order each round), so drift on a shared machine hits all of them alike;
 * the table shows each case's median over the rounds.
 *
 * Beside the agent runs a bare socket server (bare_case.c): the same token
 * behind a server that only signs: what any agent could hope to reach here.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "tba/err.h"
#include "tba/log.h"

#define DEFAULT_URL \
	"https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/record/v1/customer/42?expandSubResources=true"
#define ROUNDS_MAX 50

enum {
	C_TOK_N,
	C_TOK_1,
	C_JWS_ES,
	C_JWS_PS,
	C_BARE_8,
	C_BARE_1,
	C_BARE_1PIN,
	C_AG_8,
	C_AG_1,
	C_AG_1PIN,
	C_AG_CONN,
	C_CLI,
	C_FLOOR,
	C_PY_IN,
	C_PY_ONCE,
	C__MAX
};

static const char *case_names[C__MAX] = {
    "token in-process, 1 thread per core (the limit)",
    "token in-process, 1 thread",
    "token in-process, 1 thread, ECDSA P-256 (M2M ES256)",
    "token in-process, 1 thread, RSA-PSS 3072 (M2M PS256)",
    "token behind a bare socket server, 8 persistent clients",
    "token behind a bare socket server, 1 persistent client",
    "token behind a bare socket server, 1 client, client and server on one CPU",
    "agent, 8 persistent clients",
    "agent, 1 persistent client",
    "agent, 1 persistent client, client and agent on one CPU",
    "agent, 1 client connecting per request",
    "`tba header` per call (spawn + wait)",
    "floor: empty main, same libraries, per call",
    "python3-oauthlib in-process (software key)",
    "python3 one-shot script per call (oauthlib)",
};

static struct bench_result res[C__MAX][ROUNDS_MAX];

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

double
bench_pct_ms(uint64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i] / 1e6;
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median over rounds of one field (0 rate, 1 p50, 2 p99). */
static double
median(int c, int rounds, int field)
{
	double v[ROUNDS_MAX];
	int i;

	for (i = 0; i < rounds; i++)
		v[i] = field == 0 ? res[c][i].rate
		    : field == 1  ? res[c][i].p50_ms
				  : res[c][i].p99_ms;
	qsort(v, (size_t)rounds, sizeof(v[0]), cmp_dbl);
	return rounds % 2 ? v[rounds / 2] : (v[rounds / 2 - 1] + v[rounds / 2]) / 2;
}

static const char *
verdict(int pass)
{
	return pass ? "PASS" : "MISS";
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tba-bench --tba PATH --floor PATH --agent-pid PID [--profile NAME] [--url URL]\n"
	    "                 [--rounds N] [--seconds S] [--rss-signs N] [--python PATH]\n"
	    "                 [--oauthlib SCRIPT] [--token URI]\n"
	    "       tba-bench --signs-only N [--clients C] [--connect] [--bare] [--profile NAME] [--url URL]\n"
	    "The token is --token or TBA_TOKEN; the agent is TBA_AGENT_SOCK. bench/run does all of it.\n");
}

static int
run_round(struct bench *b, int round, double secs, size_t ncpu)
{
	int ok = 1;

	ok &= bench_token_run(b, ncpu, secs, &res[C_TOK_N][round]);
	ok &= bench_token_run(b, 1, secs, &res[C_TOK_1][round]);
	if (b->have_jws) {
		ok &= bench_jws_run(b, &b->es256, secs, &res[C_JWS_ES][round]);
		ok &= bench_jws_run(b, &b->ps256, secs, &res[C_JWS_PS][round]);
	}
	ok &= bench_bare_run(b, 8, secs, &res[C_BARE_8][round]);
	ok &= bench_agent_run(b, 8, secs, &res[C_AG_8][round]);
	ok &= bench_bare_run(b, 1, secs, &res[C_BARE_1][round]);
	ok &= bench_agent_run(b, 1, secs, &res[C_AG_1][round]);
	if (b->agent_pid > 0) {
		ok &= bench_bare_run_pinned(b, secs, &res[C_BARE_1PIN][round]);
		ok &= bench_agent_run_pinned(b, b->agent_pid, secs, &res[C_AG_1PIN][round]);
	}
	ok &= bench_agent_connect_run(b, secs, &res[C_AG_CONN][round]);
	ok &= bench_spawn_run(b->cli_argv, secs, &res[C_CLI][round]);
	ok &= bench_spawn_run(b->floor_argv, secs, &res[C_FLOOR][round]);
	if (b->py_script != NULL) {
		ok &= bench_py_inproc_run(b, secs, &res[C_PY_IN][round]);
		ok &= bench_spawn_run(b->py_once_argv, secs, &res[C_PY_ONCE][round]);
	}
	return ok;
}

static void
print_table(
    struct bench *b, int rounds, double secs, size_t ncpu, long rss0, long rss1, uint64_t rss_signs)
{
	double tokn = median(C_TOK_N, rounds, 0), tok1 = median(C_TOK_1, rounds, 0);
	double ag8 = median(C_AG_8, rounds, 0), ag1 = median(C_AG_1, rounds, 0);
	double bare8 = median(C_BARE_8, rounds, 0), bare1 = median(C_BARE_1, rounds, 0);
	double cli = median(C_CLI, rounds, 1), flo = median(C_FLOOR, rounds, 1);
	int c, ncases = b->py_script != NULL ? C__MAX : C_PY_IN;

	printf("\n%d rounds, every case %.1f s per round, medians over rounds; %zu CPUs\n\n",
	    rounds, secs, ncpu);
	printf("| case | signatures or calls /s | p50 ms | p99 ms |\n");
	printf("|---|---:|---:|---:|\n");
	for (c = 0; c < ncases; c++) {
		if ((c == C_AG_1PIN || c == C_BARE_1PIN) && b->agent_pid <= 0)
			continue;
		if ((c == C_JWS_ES || c == C_JWS_PS) && !b->have_jws)
			continue;
		if (c == C_PY_IN)
			printf("| %s | %.0f | | |\n", case_names[c], median(c, rounds, 0));
		else
			printf("| %s | %.0f | %.3f | %.3f |\n", case_names[c], median(c, rounds, 0),
			    median(c, rounds, 1), median(c, rounds, 2));
	}
	printf("\n| ratio | value | target | |\n|---|---:|---|---|\n");
	printf("| agent 8 clients / token %zu threads | %.2f | >= 0.70 | %s |\n", ncpu, ag8 / tokn,
	    verdict(ag8 / tokn >= 0.70));
	printf("| agent 8 clients / token 1 thread | %.2f | (reference) | |\n", ag8 / tok1);
	if (b->have_jws)
		printf("| token ECDSA P-256 / HMAC, RSA-PSS 3072 / HMAC, 1 thread | %.3f, %.4f | "
		       "(M2M signing cost) | |\n",
		    median(C_JWS_ES, rounds, 0) / tok1, median(C_JWS_PS, rounds, 0) / tok1);
	printf("| agent 1 client / token 1 thread | %.2f | >= 0.50 | %s |\n", ag1 / tok1,
	    verdict(ag1 / tok1 >= 0.50));
	printf("| agent 1 client / token %zu threads | %.2f | (reference) | |\n", ncpu, ag1 / tokn);
	if (b->agent_pid > 0)
		printf("| agent 1 client on one CPU / token 1 thread | %.2f | (diagnostic) | |\n",
		    median(C_AG_1PIN, rounds, 0) / tok1);
	/* What a server that only signs reaches here: the reference for any agent. */
	printf(
	    "| bare server 8 clients / token %zu threads | %.2f | (a server that only signs) | |\n",
	    ncpu, bare8 / tokn);
	printf("| bare server 1 client / token 1 thread | %.2f | (a server that only signs) | |\n",
	    bare1 / tok1);
	printf("| agent 8 clients / bare server 8 clients | %.2f | (the agent's own cost) | |\n",
	    ag8 / bare8);
	printf("| agent 1 client / bare server 1 client | %.2f | (the agent's own cost) | |\n",
	    ag1 / bare1);
	if (b->agent_pid > 0)
		printf(
		    "| agent / bare server, 1 client, one CPU | %.2f | (the agent's own cost) | |\n",
		    median(C_AG_1PIN, rounds, 0) / median(C_BARE_1PIN, rounds, 0));
	printf("| `tba header` / floor, median ms per call | %.2f | <= 1.50 | %s |\n", cli / flo,
	    verdict(cli / flo <= 1.50));
	printf("| `tba header` - floor, median ms per call | %.2f ms | | |\n", cli - flo);
	if (b->py_script != NULL) {
		printf("| agent 8 clients / python3-oauthlib in-process | %.2f | (reference) | |\n",
		    ag8 / median(C_PY_IN, rounds, 0));
		printf(
		    "| python3 one-shot / `tba header`, median ms per call | %.2f | (reference) | |\n",
		    median(C_PY_ONCE, rounds, 1) / cli);
	}
	if (rss0 > 0 && rss1 > 0)
		printf(
		    "| agent VmRSS growth over %llu signatures (%ld -> %ld KiB) | %ld KiB | < 1024 KiB | %s |\n",
		    (unsigned long long)rss_signs, rss0, rss1, rss1 - rss0,
		    verdict(rss1 - rss0 < 1024));
	else
		printf("| agent VmRSS growth | not measured (no --agent-pid) | < 1024 KiB | |\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"tba", required_argument, NULL, 't'},
	    {"floor", required_argument, NULL, 'f'},
	    {"agent-pid", required_argument, NULL, 'p'},
	    {"profile", required_argument, NULL, 'P'},
	    {"url", required_argument, NULL, 'u'},
	    {"rounds", required_argument, NULL, 'r'},
	    {"seconds", required_argument, NULL, 's'},
	    {"rss-signs", required_argument, NULL, 'R'},
	    {"python", required_argument, NULL, 'y'},
	    {"oauthlib", required_argument, NULL, 'o'},
	    {"token", required_argument, NULL, 'T'},
	    {"signs-only", required_argument, NULL, 'n'},
	    {"clients", required_argument, NULL, 'c'},
	    {"connect", no_argument, NULL, 'C'},
	    {"bare", no_argument, NULL, 'B'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct bench b;
	const char *tba = NULL, *floor_prog = NULL, *profile = "bench", *uri = NULL;
	char *cli_argv[6], *floor_argv[2], *py_argv[5], out[4096], *end;
	long agent_pid = 0, rss0 = -1, rss1 = -1;
	unsigned long long rss_signs = 100000, signs0, only = 0;
	long nclients = 1;
	int connect_each = 0, bare = 0;
	int rounds = 5, i, opt, rc = 1;
	double secs = 1.0, t;
	size_t ncpu;
	tba_err r;

	memset(&b, 0, sizeof(b));
	b.url = DEFAULT_URL;
	b.py = "/usr/bin/python3";
	tba_log_init("tba-bench", TBA_LOG_WARN);
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			tba = optarg;
			break;
		case 'f':
			floor_prog = optarg;
			break;
		case 'p':
			agent_pid = strtol(optarg, &end, 10);
			if (*end != '\0')
				agent_pid = -1;
			break;
		case 'P':
			profile = optarg;
			break;
		case 'u':
			b.url = optarg;
			break;
		case 'r':
			rounds = (int)strtol(optarg, &end, 10);
			if (*end != '\0')
				rounds = 0;
			break;
		case 's':
			secs = strtod(optarg, &end);
			if (*end != '\0')
				secs = 0;
			break;
		case 'R':
			rss_signs = strtoull(optarg, &end, 10);
			if (*end != '\0')
				rss_signs = 0;
			break;
		case 'y':
			b.py = optarg;
			break;
		case 'o':
			b.py_script = optarg;
			break;
		case 'T':
			uri = optarg;
			break;
		case 'n':
			only = strtoull(optarg, &end, 10);
			if (*end != '\0')
				only = 0;
			break;
		case 'c':
			nclients = strtol(optarg, &end, 10);
			if (*end != '\0')
				nclients = 0;
			break;
		case 'C':
			connect_each = 1;
			break;
		case 'B':
			bare = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (uri == NULL)
		uri = getenv("TBA_TOKEN");
	if (only > 0) {
		if ((b.sock = getenv("TBA_AGENT_SOCK")) == NULL || nclients < 1 ||
		    nclients > BENCH_THREADS_MAX) {
			usage(stderr);
			return 64;
		}
		if (bare) {
			/* The requests go to a bare server instead (its pid on stderr, for profiling). */
			if (!bench_bare_start(&b, uri, profile))
				return 1;
			fprintf(stderr, "tba-bench: bare server pid %ld\n", b.bare_pid);
			b.sock = b.bare_sock;
		}
		t = bench_now();
		if (bench_agent_setup(&b, profile) &&
		    (connect_each ? bench_agent_connect_signs(&b, only)
				  : bench_agent_signs(&b, (size_t)nclients, only))) {
			t = bench_now() - t;
			printf("%llu signatures in %.3f s: %.0f /s\n", only, t, (double)only / t);
			rc = 0;
		}
		bench_agent_teardown(&b);
		bench_bare_stop(&b);
		return rc;
	}
	if (optind != argc || tba == NULL || floor_prog == NULL || agent_pid < 0 || rounds < 1 ||
	    rounds > ROUNDS_MAX || secs <= 0 || secs > 60) {
		usage(stderr);
		return 64;
	}
	if ((b.sock = getenv("TBA_AGENT_SOCK")) == NULL) {
		fprintf(stderr, "tba-bench: set TBA_AGENT_SOCK to the agent's socket\n");
		return 64;
	}
	ncpu = (size_t)sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > BENCH_THREADS_MAX)
		ncpu = BENCH_THREADS_MAX;

	cli_argv[0] = (char *)tba;
	cli_argv[1] = "header";
	cli_argv[2] = (char *)profile;
	cli_argv[3] = "GET";
	cli_argv[4] = (char *)b.url;
	cli_argv[5] = NULL;
	floor_argv[0] = (char *)floor_prog;
	floor_argv[1] = NULL;
	py_argv[0] = (char *)b.py;
	py_argv[1] = (char *)b.py_script;
	py_argv[2] = "--once";
	py_argv[3] = (char *)b.url;
	py_argv[4] = NULL;
	b.cli_argv = cli_argv;
	b.floor_argv = floor_argv;
	b.py_once_argv = py_argv;

	/* Before this process loads the module: the server initialises its own. */
	if (!bench_bare_start(&b, uri, profile)) {
		fprintf(stderr, "tba-bench: the bare socket server did not start\n");
		goto out;
	}
	if ((r = bench_token_setup(&b, uri, profile, ncpu)) != TBA_OK) {
		fprintf(stderr, "tba-bench: token: %s\n", tba_errmsg(r));
		goto out;
	}
	if (!bench_agent_setup(&b, profile))
		goto out;
	/* Every program is checked to do its job once before it is timed. */
	if (!bench_spawn_capture(cli_argv, out, sizeof(out)) || strncmp(out, "OAuth ", 6) != 0) {
		fprintf(stderr, "tba-bench: `%s header %s GET URL` did not print a header\n", tba,
		    profile);
		goto out;
	}
	if (!bench_spawn_capture(floor_argv, out, sizeof(out))) {
		fprintf(stderr, "tba-bench: %s failed\n", floor_prog);
		goto out;
	}
	if (b.py_script != NULL &&
	    (!bench_spawn_capture(py_argv, out, sizeof(out)) || strncmp(out, "OAuth ", 6) != 0)) {
		fprintf(
		    stderr, "tba-bench: %s %s --once did not print a header\n", b.py, b.py_script);
		goto out;
	}

	/*
	 * Warm-up with the concurrency the rounds use (8 connections at once, so
	 * the agent's per-thread malloc arenas and stacks exist), then the
	 * agent's resident set before the work.
	 */
	if (!bench_agent_signs(&b, 8, 1000) || !bench_agent_connect_signs(&b, 100))
		goto out;
	b.agent_pid = agent_pid;
	if (agent_pid > 0)
		rss0 = bench_rss_kib(agent_pid);
	signs0 = b.agent_signs;

	for (i = 0; i < rounds; i++) {
		fprintf(stderr, "tba-bench: round %d of %d\n", i + 1, rounds);
		if (!run_round(&b, i, secs, ncpu))
			goto out;
	}
	if (b.agent_signs - signs0 < rss_signs &&
	    !bench_agent_signs(&b, 8, rss_signs - (b.agent_signs - signs0)))
		goto out;
	if (agent_pid > 0)
		rss1 = bench_rss_kib(agent_pid);
	print_table(&b, rounds, secs, ncpu, rss0, rss1, b.agent_signs - signs0);
	rc = 0;
out:
	bench_agent_teardown(&b);
	bench_token_teardown(&b);
	bench_bare_stop(&b);
	return rc;
}
