/* SPDX-License-Identifier: MIT */
/*
 * agent_case.c - the agent over its socket, with a lean raw client.
 *
 * The client does as little as a client can (one prebuilt request, one
 * write, read to the NUL), so what is measured is the agent's full job:
 * JSON parse, URL parse, policy, nonce and timestamp, base string, the
 * token's HMAC, header, JSON reply. Every reply is checked to be a Sign
 * reply and not an error, so a refusing agent cannot look fast.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "tba/buf.h"

#define REPLY_MAX 65537

static int
agent_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request/reply; 0 when the reply is a Sign reply. buf holds REPLY_MAX. */
static int
agent_roundtrip(int fd, const char *req, size_t reqlen, char *buf)
{
	size_t off = 0, got = 0;
	ssize_t k;

	while (off < reqlen) {
		k = write(fd, req + off, reqlen - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	for (;;) {
		if (got >= REPLY_MAX - 1)
			return -1;
		k = read(fd, buf + got, REPLY_MAX - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		if (memchr(buf + got, '\0', (size_t)k) != NULL)
			break;
		got += (size_t)k;
	}
	/* The first reply field tells error from success; both orders of keys are accepted. */
	if (strstr(buf, "\"error\"") != NULL || strstr(buf, "\"authorization\"") == NULL)
		return -1;
	return 0;
}

int
bench_agent_setup(struct bench *b, const char *profile)
{
	struct tba_buf q;
	char *buf = NULL;
	int fd = -1, ok = 0;

	tba_buf_init(&q, 16384);
	if (tba_buf_putf(&q,
		"{\"method\":\"io.tba.Agent.Sign\",\"parameters\":"
		"{\"profile\":\"%s\",\"method\":\"GET\",\"url\":\"%s\"}}",
		profile, b->url) != TBA_OK ||
	    tba_buf_putc(&q, '\0') != TBA_OK)
		goto out;
	b->reqlen = q.len;
	b->req = tba_buf_steal(&q);
	if ((buf = malloc(REPLY_MAX)) == NULL)
		goto out;
	if ((fd = agent_connect(b->sock)) < 0) {
		fprintf(stderr, "tba-bench: cannot connect to the agent at %s: %s\n", b->sock,
		    strerror(errno));
		goto out;
	}
	if (agent_roundtrip(fd, b->req, b->reqlen, buf) != 0) {
		fprintf(stderr, "tba-bench: the agent did not sign: %.300s\n", buf);
		goto out;
	}
	b->agent_signs++;
	ok = 1;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	tba_buf_free(&q);
	return ok;
}

void
bench_agent_teardown(struct bench *b)
{
	free(b->req);
	b->req = NULL;
}

struct client {
	struct bench *b;
	double deadline; /* run until then ... */
	uint64_t quota;  /* ... or, when non-zero, this many signatures */
	int reconnect;   /* connect per request */
	uint64_t n;
	uint64_t *lat;
	size_t nlat;
	int ok;
	pthread_t tid;
	atomic_int *go;
};

static void *
client_worker(void *arg)
{
	struct client *c = arg;
	char *buf;
	int fd = -1;
	double t0, t1;

	if ((buf = malloc(REPLY_MAX)) == NULL)
		return NULL;
	if (!c->reconnect && (fd = agent_connect(c->b->sock)) < 0)
		goto out;
	while (atomic_load(c->go) == 0)
		;
	t0 = bench_now();
	for (;;) {
		if (c->quota != 0 ? c->n >= c->quota : t0 >= c->deadline)
			break;
		if (c->reconnect && (fd = agent_connect(c->b->sock)) < 0)
			goto out;
		if (agent_roundtrip(fd, c->b->req, c->b->reqlen, buf) != 0)
			goto out;
		if (c->reconnect) {
			close(fd);
			fd = -1;
		}
		t1 = bench_now();
		if (c->lat != NULL && c->nlat < BENCH_SAMPLES_MAX)
			c->lat[c->nlat++] = (uint64_t)((t1 - t0) * 1e9);
		c->n++;
		t0 = t1;
	}
	c->ok = 1;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int
run_clients(struct bench *b, size_t nclients, int reconnect, double secs, uint64_t total,
    struct bench_result *out)
{
	struct client c[BENCH_THREADS_MAX];
	atomic_int go = 0;
	uint64_t *all = NULL;
	size_t i, started = 0, nall = 0;
	double t0 = 0, t1;
	int ok = 0;

	memset(out, 0, sizeof(*out));
	memset(c, 0, sizeof(c));
	if (nclients == 0 || nclients > BENCH_THREADS_MAX)
		return 0;
	for (i = 0; i < nclients; i++) {
		c[i].b = b;
		c[i].reconnect = reconnect;
		c[i].go = &go;
		c[i].deadline = bench_now() + secs + 60;
		if (total != 0)
			c[i].quota = total / nclients + (i < total % nclients ? 1 : 0);
		else if ((c[i].lat = malloc(BENCH_SAMPLES_MAX * sizeof(uint64_t))) == NULL)
			goto out;
		if (pthread_create(&c[i].tid, NULL, client_worker, &c[i]) != 0)
			goto out;
		started++;
	}
	usleep(20000); /* let every client connect before the clock starts */
	t0 = bench_now();
	for (i = 0; i < nclients; i++)
		c[i].deadline = t0 + secs;
out:
	if (t0 == 0) {
		/* setup failed: let the started clients stop at once */
		for (i = 0; i < started; i++)
			c[i].deadline = 0;
		t0 = bench_now();
	}
	atomic_store(&go, 1);
	for (i = 0; i < started; i++)
		pthread_join(c[i].tid, NULL);
	t1 = bench_now();
	if (started == nclients) {
		ok = 1;
		for (i = 0; i < nclients; i++) {
			ok &= c[i].ok;
			out->n += c[i].n;
			nall += c[i].nlat;
		}
		if (nall > 0 && (all = malloc(nall * sizeof(uint64_t))) != NULL) {
			nall = 0;
			for (i = 0; i < nclients; i++) {
				memcpy(all + nall, c[i].lat, c[i].nlat * sizeof(uint64_t));
				nall += c[i].nlat;
			}
			out->p50_ms = bench_pct_ms(all, nall, 0.50);
			out->p99_ms = bench_pct_ms(all, nall, 0.99);
		}
		out->rate = (double)out->n / (t1 - t0);
	}
	b->agent_signs += out->n;
	out->ok = ok;
	if (!ok)
		fprintf(stderr, "tba-bench: a request to the agent failed (%s)\n",
		    reconnect ? "connect per request" : "persistent clients");
	for (i = 0; i < nclients; i++)
		free(c[i].lat);
	free(all);
	return ok;
}

int
bench_agent_run(struct bench *b, size_t nclients, double secs, struct bench_result *out)
{
	return run_clients(b, nclients, 0, secs, 0, out);
}

int
bench_agent_connect_run(struct bench *b, double secs, struct bench_result *out)
{
	return run_clients(b, 1, 1, secs, 0, out);
}

int
bench_agent_signs(struct bench *b, size_t nclients, uint64_t n)
{
	struct bench_result r;

	return run_clients(b, nclients, 0, 0, n, &r);
}

int
bench_agent_connect_signs(struct bench *b, uint64_t n)
{
	struct bench_result r;

	return run_clients(b, 1, 1, 0, n, &r);
}

/* Sets the CPU affinity of every thread of pid (cpu < 0: all CPUs); 0 on success. */
static int
pin_process(long pid, int cpu)
{
	char path[64];
	struct dirent *d;
	cpu_set_t set;
	DIR *dir;
	int i, ok = 0;

	CPU_ZERO(&set);
	for (i = 0; i < CPU_SETSIZE; i++) {
		if (cpu < 0 || i == cpu)
			CPU_SET(i, &set);
	}
	snprintf(path, sizeof(path), "/proc/%ld/task", pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (sched_setaffinity((pid_t)strtol(d->d_name, NULL, 10), sizeof(set), &set) != 0 &&
		    errno != EINVAL)
			ok = -1;
	}
	closedir(dir);
	return ok;
}

int
bench_agent_run_pinned(struct bench *b, long agent_pid, double secs, struct bench_result *out)
{
	cpu_set_t set, all;
	int ok;

	memset(out, 0, sizeof(*out));
	/* The agent's connection thread inherits the pinned mask of the thread that accepts. */
	if (agent_pid <= 0 || pin_process(agent_pid, 0) != 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_getaffinity(0, sizeof(all), &all);
	sched_setaffinity(0, sizeof(set), &set);
	ok = run_clients(b, 1, 0, secs, 0, out);
	sched_setaffinity(0, sizeof(all), &all);
	pin_process(agent_pid, -1);
	return ok;
}

long
bench_rss_kib(long pid)
{
	char path[64], line[256];
	FILE *f;
	long kib = -1;
	char *end;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = strtol(line + 6, &end, 10);
			if (end == line + 6)
				kib = -1;
			break;
		}
	}
	fclose(f);
	return kib;
}
