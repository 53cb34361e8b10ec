/* SPDX-License-Identifier: MIT */
/*
 * spawn_case.c - programs started per call: tba header, the floor, Python.
 *
 * Calls run one after another, as a shell loop would run them: spawn, wait,
 * next. posix_spawn is used for every program alike, so the difference
 * between `tba header` and the floor program (an empty main linked with the
 * same shared libraries) is what tba itself does after exec.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

/* Spawns argv with stdout to fd_out (-1: /dev/null) and stderr to /dev/null; returns the pid or -1. */
static pid_t
spawn(char *const *argv, int fd_out)
{
	posix_spawn_file_actions_t fa;
	pid_t pid = -1;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	if (fd_out >= 0) {
		if (posix_spawn_file_actions_adddup2(&fa, fd_out, STDOUT_FILENO) != 0)
			goto out;
	} else if (posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0) !=
	    0)
		goto out;
	if (posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0) != 0)
		goto out;
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
		pid = -1;
out:
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

static int
wait_ok(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return 0;
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int
bench_spawn_run(char *const *argv, double secs, struct bench_result *out)
{
	uint64_t *lat = NULL;
	size_t cap = 1 << 16;
	double t0, t1, start, end;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if ((lat = malloc(cap * sizeof(uint64_t))) == NULL)
		return 0;
	start = bench_now();
	end = start + secs;
	t0 = start;
	out->ok = 1;
	while (t0 < end && out->n < cap) {
		if ((pid = spawn(argv, -1)) < 0 || !wait_ok(pid)) {
			fprintf(stderr, "tba-bench: %s failed\n", argv[0]);
			out->ok = 0;
			break;
		}
		t1 = bench_now();
		lat[out->n++] = (uint64_t)((t1 - t0) * 1e9);
		t0 = t1;
	}
	if (out->n > 0) {
		out->rate = (double)out->n / (t0 - start);
		out->p50_ms = bench_pct_ms(lat, out->n, 0.50);
		out->p99_ms = bench_pct_ms(lat, out->n, 0.99);
	}
	free(lat);
	return out->ok;
}

int
bench_spawn_capture(char *const *argv, char *out, size_t outsz)
{
	int p[2], ok = 0;
	size_t got = 0;
	ssize_t k;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) != 0)
		return 0;
	pid = spawn(argv, p[1]);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return 0;
	}
	for (;;) {
		k = read(p[0], out + got, outsz - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
		if (got == outsz - 1)
			break;
	}
	out[got] = '\0';
	close(p[0]);
	ok = wait_ok(pid);
	return ok;
}

int
bench_py_inproc_run(struct bench *b, double secs, struct bench_result *out)
{
	char s[32], buf[256];
	char *argv[6], *p, *end;

	memset(out, 0, sizeof(*out));
	snprintf(s, sizeof(s), "%.2f", secs);
	argv[0] = (char *)b->py;
	argv[1] = (char *)b->py_script;
	argv[2] = "--seconds";
	argv[3] = s;
	argv[4] = (char *)b->url;
	argv[5] = NULL;
	if (!bench_spawn_capture(argv, buf, sizeof(buf)) ||
	    (p = strstr(buf, "signs_per_sec ")) == NULL) {
		fprintf(stderr, "tba-bench: %s %s failed\n", b->py, b->py_script);
		return 0;
	}
	p += strlen("signs_per_sec ");
	out->rate = strtod(p, &end);
	if (end == p)
		return 0;
	out->n = (uint64_t)(out->rate * secs);
	out->ok = 1;
	return 1;
}
