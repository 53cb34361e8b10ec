/* SPDX-License-Identifier: MIT */
/*
 * bare_case.c - the token behind a bare socket server: the reference for any agent.
 *
 * A child process logs in to the same token, listens on a Unix socket and,
 * for every NUL-terminated request, does C_SignInit + C_Sign over the
 * benchmark's base string and answers with the base64 MAC - nothing else:
 * no JSON parsing, URL, policy, nonce, base string, header or audit. A
 * thread and a session per connection, blocking reads, one write per reply,
 * as the agent does. The same raw clients as the agent cases drive it, so
 * the difference between the two rows is the agent's own work, and the
 * difference between this row and the in-process token is the price of a
 * request/reply over a Unix socket on this machine (two wake-ups and four
 * system calls per request), which no socket server can avoid.
 *
 * The child is forked before the parent loads any PKCS#11 module, so each
 * process initialises the token on its own.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "tba/buf.h"
#include "tba/oauth.h"
#include "tba/token.h"

#define BARE_REQ_MAX 65536

struct bare {
	struct bench tb; /* token, sessions, profile, message */
	pthread_mutex_t mu;
	struct tba_session *free[BENCH_THREADS_MAX];
	size_t nfree;
};

struct bare_conn {
	struct bare *s;
	int fd;
};

/* Reads one request (to its NUL); 0 when one arrived. */
static int
bare_read(int fd, char *buf)
{
	size_t got = 0;
	ssize_t k;

	for (;;) {
		if (got >= BARE_REQ_MAX)
			return -1;
		k = read(fd, buf + got, BARE_REQ_MAX - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		if (memchr(buf + got, '\0', (size_t)k) != NULL)
			return 0;
		got += (size_t)k;
	}
}

static int
bare_write(int fd, const char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void *
bare_conn_main(void *arg)
{
	struct bare_conn *c = arg;
	struct bare *s = c->s;
	struct tba_session *sess = NULL;
	unsigned char mac[TBA_SIG_MAX];
	struct tba_buf out;
	char *buf;
	size_t maclen;

	tba_buf_init(&out, 16384);
	if ((buf = malloc(BARE_REQ_MAX)) == NULL)
		goto out;
	pthread_mutex_lock(&s->mu);
	if (s->nfree > 0)
		sess = s->free[--s->nfree];
	pthread_mutex_unlock(&s->mu);
	if (sess == NULL)
		goto out;
	while (bare_read(c->fd, buf) == 0) {
		tba_buf_reset(&out);
		/* A reply of the agent's shape and size: the header and the base string. */
		if (tba_session_sign(sess, &s->tb.prof, s->tb.msg, s->tb.msglen, mac, &maclen) !=
			TBA_OK ||
		    tba_buf_puts(&out, "{\"authorization\":\"OAuth oauth_signature=\\\"") !=
			TBA_OK ||
		    tba_base64(mac, maclen, &out) != TBA_OK ||
		    tba_buf_puts(&out, "\\\"\",\"base_string\":\"") != TBA_OK ||
		    tba_buf_put(&out, s->tb.msg, s->tb.msglen) != TBA_OK ||
		    tba_buf_put(&out, "\"}", 3) != TBA_OK)
			break;
		if (bare_write(c->fd, out.data, out.len) != 0)
			break;
	}
out:
	if (sess != NULL) {
		pthread_mutex_lock(&s->mu);
		s->free[s->nfree++] = sess;
		pthread_mutex_unlock(&s->mu);
	}
	close(c->fd);
	free(c);
	free(buf);
	tba_buf_free(&out);
	return NULL;
}

/* The child: never returns. */
static void
bare_serve(const char *uri, const char *profile, const char *path, int ready)
{
	static struct bare s;
	struct sockaddr_un sa;
	struct bare_conn *c;
	pthread_attr_t attr;
	pthread_t tid;
	size_t i;
	int lfd, fd;
	tba_err r;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	pthread_mutex_init(&s.mu, NULL);
	if ((r = bench_token_setup(&s.tb, uri, profile, BENCH_THREADS_MAX)) != TBA_OK) {
		fprintf(stderr, "tba-bench: bare server: token: %s\n", tba_errmsg(r));
		_exit(1);
	}
	for (i = 0; i < s.tb.nsess; i++)
		s.free[s.nfree++] = s.tb.sess[i];
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 64) != 0) {
		fprintf(stderr, "tba-bench: bare server: %s: %s\n", path, strerror(errno));
		_exit(1);
	}
	(void)!write(ready, "1", 1);
	close(ready);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			_exit(1);
		}
		if ((c = malloc(sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->s = &s;
		c->fd = fd;
		if (pthread_create(&tid, &attr, bare_conn_main, c) != 0) {
			close(fd);
			free(c);
		}
	}
}

int
bench_bare_start(struct bench *b, const char *uri, const char *profile)
{
	struct sockaddr_un sa;
	const char *path = b->bare_sock;
	char ok = 0;
	int p[2], n;
	pid_t pid;

	n = snprintf(b->bare_sock, sizeof(b->bare_sock), "%s.bare", b->sock);
	if (uri == NULL || n < 0 || (size_t)n >= sizeof(sa.sun_path) || pipe(p) != 0)
		return 0;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return 0;
	}
	if (pid == 0) {
		close(p[0]);
		bare_serve(uri, profile, path, p[1]);
	}
	close(p[1]);
	/* One byte once it listens; EOF when it failed (it said why on stderr). */
	while (read(p[0], &ok, 1) < 0 && errno == EINTR)
		;
	close(p[0]);
	if (ok != '1') {
		waitpid(pid, NULL, 0);
		return 0;
	}
	b->bare_pid = pid;
	return 1;
}

void
bench_bare_stop(struct bench *b)
{
	if (b->bare_pid > 0) {
		kill((pid_t)b->bare_pid, SIGTERM);
		waitpid((pid_t)b->bare_pid, NULL, 0);
		unlink(b->bare_sock);
	}
	b->bare_pid = 0;
}

/* Runs a client case against the bare server; the agent's signature count stays as it was. */
static int
bare_with(struct bench *b, int pinned, size_t nclients, double secs, struct bench_result *out)
{
	const char *sock = b->sock;
	uint64_t signs = b->agent_signs;
	int ok;

	b->sock = b->bare_sock;
	ok = pinned ? bench_agent_run_pinned(b, b->bare_pid, secs, out)
		    : bench_agent_run(b, nclients, secs, out);
	b->sock = sock;
	b->agent_signs = signs;
	return ok;
}

int
bench_bare_run(struct bench *b, size_t nclients, double secs, struct bench_result *out)
{
	return bare_with(b, 0, nclients, secs, out);
}

int
bench_bare_run_pinned(struct bench *b, double secs, struct bench_result *out)
{
	return bare_with(b, 1, 1, secs, out);
}
