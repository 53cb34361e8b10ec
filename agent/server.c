/* SPDX-License-Identifier: MIT */
/*
 * server.c - peer checks and the event loop (server_listen.c makes the socket).
 *
 * Every accepted peer's uid is checked (SO_PEERCRED) whatever the socket's
 * mode says. One event thread (epoll) holds every connection while it is
 * idle, receives a message or waits for a slow reader; a connection with a
 * complete request goes to a bounded pool of worker threads, which answer
 * it (pipelined requests in order) and hand it back. So an idle or trickling
 * connection costs a file descriptor and a few hundred bytes, no thread.
 *
 * No peer can starve the others: one process may hold at most
 * AGENT_CONN_PER_PEER connections and all together AGENT_CONN_MAX (both
 * far above what a client needs, both refused in their own words and logged
 * at most once per SERVER_REFUSE_LOG_SEC); idle connections are closed after
 * AGENT_IDLE_SEC, a message must arrive within AGENT_PARTIAL_SEC, and a peer
 * that does not read its replies is closed after AGENT_PARTIAL_SEC.
 *
 * The thread-per-connection server this replaced answered one client with
 * one wake-up less per request (doc/performance.md has the figures), but 64
 * connections held by one process locked everyone else out.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "conn.h"
#include "tba/log.h"
#include "tba/mem.h"
#include "tba/proto.h"

#define SERVER_STOP_WAIT_SEC 5 /* SIGTERM: how long requests under way may take */
#define SERVER_TICK_MS 200     /* timeouts are checked this often */
#define SERVER_EVENTS 64
#define SERVER_ACCEPT_BURST 256  /* accepts per wake-up, so the others are served too */
#define SERVER_REFUSE_LOG_SEC 10 /* at most one refusal line per this many seconds */
#define WORKER_STACK (1024 * 1024)
#define SERVER_WORKERS_MAX (AGENT_SESSIONS_MAX + AGENT_WORKERS_EXTRA)
#define SERVER_LINGER_MS 5 /* a worker waits this long for its connection's next request */

struct server {
	struct agent_ctx *ctx;
	const struct server_opts *o;
	int epfd;
	pthread_mutex_t mu;     /* everything below */
	pthread_cond_t work_cv; /* the queue got work, or stopping */
	pthread_cond_t idle_cv; /* a worker finished a connection, or exited */
	struct conn *conns;     /* every open connection */
	int nconn;
	struct conn *qhead, *qtail; /* connections with a request to answer */
	int nworking;               /* connections a worker holds */
	int nworkers;               /* worker threads alive */
	/* Workers are joined at exit (OpenSSL's exit-time cleanup must not race their TSD). */
	pthread_t th[SERVER_WORKERS_MAX];
	int started[SERVER_WORKERS_MAX];
	int exited[SERVER_WORKERS_MAX];
	struct server_warg {
		struct server *s;
		int i;
	} warg[SERVER_WORKERS_MAX];
	int stopping;
	long conn_max;
	/* Rate-limited refusal log (event thread only). */
	long refuse_logged_ms;
	unsigned long refused;
};

/* epoll tags for the two descriptors that are not connections. */
static char server_tag_listen, server_tag_signal;
/* AGENT_IDLE_SEC, AGENT_PARTIAL_SEC; $TBA_AGENT_IDLE_SEC, $TBA_AGENT_PARTIAL_SEC override them. */
static long server_idle_ms = AGENT_IDLE_SEC * 1000L;
static long server_partial_ms = AGENT_PARTIAL_SEC * 1000L;

static long
server_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int
peer_allowed(const struct server_opts *o, uid_t uid)
{
	size_t i;

	if (uid == geteuid() || uid == 0)
		return 1;
	for (i = 0; i < o->nallow; i++) {
		if (o->allow[i] == uid)
			return 1;
	}
	return 0;
}

/* Unlinks c and frees it (mu held; c owned by the caller's thread). */
static void
server_close_locked(struct server *s, struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	s->nconn--;
	conn_free(c); /* closing the fd takes it out of the epoll set */
}

/* Hands c to the event thread, waiting to read or to write (mu held). */
static void
server_arm(struct server *s, struct conn *c, enum conn_state st, long now)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	c->state = st;
	ev.events = (st == CONN_WRITE ? EPOLLOUT : EPOLLIN) | EPOLLONESHOT;
	ev.data.ptr = c;
	if (st == CONN_WRITE)
		c->deadline_ms = now + server_partial_ms;
	else
		c->deadline_ms =
		    c->in.len == 0 ? now + server_idle_ms : c->started_ms + server_partial_ms;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		server_close_locked(s, c);
}

/* Queues c for a worker (mu held). */
static void
server_enqueue_locked(struct server *s, struct conn *c)
{
	c->state = CONN_QUEUED;
	c->qnext = NULL;
	if (s->qtail != NULL)
		s->qtail->qnext = c;
	else
		s->qhead = c;
	s->qtail = c;
	pthread_cond_signal(&s->work_cv);
}

/*
 * Where c goes after a batch was answered or its replies sent (mu held):
 * back to the event thread to write or read, to the end of the queue when
 * more requests wait (so one pipelining peer takes turns with the others),
 * or closed.
 */
static void
server_next_locked(struct server *s, struct conn *c, long now)
{
	if (c->outoff < c->out.len && !s->stopping)
		server_arm(s, c, CONN_WRITE, now);
	else if (c->outoff < c->out.len || c->doomed || s->stopping)
		server_close_locked(s, c);
	else if (conn_ready(c))
		server_enqueue_locked(s, c);
	else if (c->eof)
		server_close_locked(s, c);
	else
		server_arm(s, c, CONN_READ, now);
}

/*
 * A worker that has just answered c waits a moment for c's next request: a
 * client signing in a loop sends it within microseconds, and answering it
 * here saves the trip through the event thread (a wake-up each way; one
 * client got about half the signatures a second without this). Only while
 * the queue is empty and another worker is free for it, and at most
 * SERVER_LINGER_MS: an idle connection still costs no thread.
 * 1 when a complete request arrived.
 */
static int
server_linger(struct server *s, struct conn *c)
{
	struct pollfd pfd;
	int ok;

	if (c->outoff < c->out.len || c->doomed || c->eof || conn_ready(c))
		return 0;
	pthread_mutex_lock(&s->mu);
	ok = !s->stopping && s->qhead == NULL && s->nworkers - s->nworking >= 1;
	pthread_mutex_unlock(&s->mu);
	if (!ok)
		return 0;
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, SERVER_LINGER_MS) <= 0)
		return 0;
	return conn_read(c, server_now_ms()) == CONN_READY;
}

static void *
server_worker(void *arg)
{
	struct server_warg *wa = arg;
	struct server *s = wa->s;
	struct conn *c;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->qhead == NULL && !s->stopping)
			pthread_cond_wait(&s->work_cv, &s->mu);
		if (s->stopping)
			break;
		c = s->qhead;
		s->qhead = c->qnext;
		if (s->qhead == NULL)
			s->qtail = NULL;
		c->state = CONN_WORK;
		s->nworking++;
		pthread_mutex_unlock(&s->mu);
		do
			conn_work(c, s->ctx, server_now_ms());
		while (server_linger(s, c));
		pthread_mutex_lock(&s->mu);
		s->nworking--;
		server_next_locked(s, c, server_now_ms());
		if (s->stopping)
			pthread_cond_broadcast(&s->idle_cv);
	}
	s->nworkers--;
	s->exited[wa->i] = 1;
	pthread_cond_broadcast(&s->idle_cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Tells the peer why (if its socket has room), closes; logs once per SERVER_REFUSE_LOG_SEC. */
static void
server_refuse(struct server *s, int fd, pid_t pid, const char *why)
{
	struct tba_buf b;
	long now = server_now_ms();

	tba_buf_init(&b, 4096);
	if (fd >= 0 && tba_proto_error(TBA_PE_INVALID_REQUEST, why, &b) == TBA_OK)
		(void)!send(fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	tba_buf_free(&b);
	if (fd >= 0)
		close(fd);
	s->refused++;
	if (s->refuse_logged_ms == 0 ||
	    now - s->refuse_logged_ms >= SERVER_REFUSE_LOG_SEC * 1000L) {
		tba_warn(
		    "refused %lu connection(s) since the last such line, the latest from pid %ld: "
		    "%s",
		    s->refused, (long)pid, why);
		s->refused = 0;
		s->refuse_logged_ms = now;
	}
}

/* Why a new connection from pid cannot be had, or NULL (mu held). */
static const char *
server_over_limit(struct server *s, pid_t pid, char *why, size_t whysz)
{
	const struct conn *c;
	int same = 0;

	if (s->nconn >= s->conn_max) {
		snprintf(why, whysz, "too many connections to the agent (%d open); retry later",
		    s->nconn);
		return why;
	}
	for (c = s->conns; c != NULL; c = c->next)
		same += c->peer.pid == pid;
	if (same >= AGENT_CONN_PER_PEER) {
		snprintf(why, whysz,
		    "too many connections from this process (%d open, at most %d): "
		    "close the ones it does not use",
		    same, AGENT_CONN_PER_PEER);
		return why;
	}
	return NULL;
}

/* Takes one connection; 0 when the listener has no more for now. */
static int
server_accept_one(struct server *s, int lfd)
{
	struct epoll_event ev;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct audit_rec a;
	struct peer peer;
	struct conn *c;
	const char *full;
	char why[160];
	int fd, err;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		err = errno;
		if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
			server_refuse(s, -1, -1, strerror(err));
			usleep(100 * 1000);
		}
		return err == EINTR || err == ECONNABORTED;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
	    !peer_allowed(s->o, cred.uid)) {
		memset(&a, 0, sizeof(a));
		a.uid = cl == sizeof(cred) ? cred.uid : (uid_t)-1;
		a.pid = cl == sizeof(cred) ? cred.pid : -1;
		a.op = "connect";
		a.result = "refused";
		a.detail = "peer uid not allowed (tba-agent --allow-uid)";
		(void)audit_log(&a);
		close(fd);
		return 1;
	}
	peer.uid = cred.uid;
	peer.pid = cred.pid;
	pthread_mutex_lock(&s->mu);
	if ((full = server_over_limit(s, cred.pid, why, sizeof(why))) != NULL) {
		pthread_mutex_unlock(&s->mu);
		server_refuse(s, fd, cred.pid, full);
		return 1;
	}
	if ((c = conn_new(fd, &peer)) == NULL) {
		pthread_mutex_unlock(&s->mu);
		close(fd);
		return 1;
	}
	c->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = c;
	s->conns = c;
	s->nconn++;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.ptr = c;
	c->deadline_ms = server_now_ms() + server_idle_ms;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		server_close_locked(s, c);
	pthread_mutex_unlock(&s->mu);
	return 1;
}

/* An event on a connection the event thread holds (reading or writing). */
static void
server_on_conn(struct server *s, struct conn *c)
{
	long now = server_now_ms();
	int r;

	if (c->state == CONN_WRITE) {
		r = conn_flush(c);
		pthread_mutex_lock(&s->mu);
		if (r == CONN_CLOSE)
			server_close_locked(s, c);
		else if (r == CONN_AGAIN)
			server_arm(s, c, CONN_WRITE, now); /* it read some: time starts again */
		else
			server_next_locked(s, c, now);
		pthread_mutex_unlock(&s->mu);
		return;
	}
	r = conn_read(c, now);
	pthread_mutex_lock(&s->mu);
	if (r == CONN_READY)
		server_enqueue_locked(s, c);
	else if (r == CONN_CLOSE)
		server_close_locked(s, c);
	else
		server_arm(s, c, CONN_READ, now);
	pthread_mutex_unlock(&s->mu);
}

/* Closes the connections the event thread holds whose time is up. */
static void
server_sweep(struct server *s, long now)
{
	struct conn *c, *next;

	pthread_mutex_lock(&s->mu);
	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if ((c->state == CONN_READ || c->state == CONN_WRITE) && now >= c->deadline_ms)
			server_close_locked(s, c);
	}
	pthread_mutex_unlock(&s->mu);
}

static long
server_env_sec(const char *name, long dflt)
{
	const char *env = getenv(name);
	char *end;
	long v;

	if (env == NULL || *env == '\0')
		return dflt;
	v = strtol(env, &end, 10);
	return *end == '\0' && v >= 1 && v <= 3600 ? v : dflt;
}

/*
 * SIGTERM: closes every connection no worker holds, lets the workers finish
 * the requests under way (their replies are sent if the peer has room) and
 * waits for them, but not for ever: one held by a hung token call is left.
 * 1 when every worker is gone.
 */
static int
server_stop(struct server *s)
{
	struct timespec until;
	struct conn *c, *next;
	int gone, i;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SERVER_STOP_WAIT_SEC;
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	s->qhead = s->qtail = NULL;
	pthread_cond_broadcast(&s->work_cv);
	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state != CONN_WORK)
			server_close_locked(s, c);
	}
	while (s->nworkers > 0) {
		if (pthread_cond_timedwait(&s->idle_cv, &s->mu, &until) != 0) {
			tba_warn("%d connections still busy after %d s; exiting without them",
			    s->nworking, SERVER_STOP_WAIT_SEC);
			break;
		}
	}
	gone = s->nworkers == 0;
	pthread_mutex_unlock(&s->mu);
	/* Those that left their loop are about to return: wait until they have. */
	for (i = 0; i < SERVER_WORKERS_MAX; i++) {
		if (s->started[i] && s->exited[i])
			pthread_join(s->th[i], NULL);
	}
	return gone;
}

static tba_err
server_start_workers(struct server *s, unsigned n)
{
	pthread_attr_t attr;
	unsigned i;

	if (n > SERVER_WORKERS_MAX)
		n = SERVER_WORKERS_MAX;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK);
	for (i = 0; i < n; i++) {
		s->warg[i].s = s;
		s->warg[i].i = (int)i;
		pthread_mutex_lock(&s->mu);
		s->nworkers++;
		pthread_mutex_unlock(&s->mu);
		if (pthread_create(&s->th[i], &attr, server_worker, &s->warg[i]) != 0) {
			pthread_mutex_lock(&s->mu);
			s->nworkers--;
			pthread_mutex_unlock(&s->mu);
			break;
		}
		s->started[i] = 1;
	}
	pthread_attr_destroy(&attr);
	if (i == 0)
		return tba_seterr(TBA_ERR_NOMEM, "cannot start a worker thread");
	if (i < n)
		tba_warn("started %u of %u worker threads", i, n);
	return TBA_OK;
}

/* The event loop proper; returns on SIGTERM/SIGINT (TBA_OK) or a failure. */
static tba_err
server_loop(struct server *s, int lfd, int sigfd)
{
	struct epoll_event ev[SERVER_EVENTS];
	struct signalfd_siginfo si;
	long now, swept = server_now_ms();
	int n, i, k;
	tba_err r;

	for (;;) {
		n = epoll_wait(s->epfd, ev, SERVER_EVENTS, SERVER_TICK_MS);
		if (n < 0 && errno != EINTR)
			return tba_seterr(TBA_ERR_IO, "epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == &server_tag_listen) {
				for (k = 0; k < SERVER_ACCEPT_BURST && server_accept_one(s, lfd);
				     k++)
					continue;
			} else if (ev[i].data.ptr == &server_tag_signal) {
				if (read(sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					if ((r = profiles_reload(s->ctx->profiles)) == TBA_OK)
						tba_info("SIGHUP: profiles reloaded");
					else
						tba_warn("SIGHUP: cannot reload profiles: %s",
						    tba_errmsg(r));
					continue;
				}
				tba_info("signal %u: exiting", si.ssi_signo);
				return TBA_OK;
			} else
				server_on_conn(s, ev[i].data.ptr);
		}
		now = server_now_ms();
		if (now - swept >= SERVER_TICK_MS) {
			server_sweep(s, now);
			swept = now;
		}
	}
}

/* At most AGENT_CONN_MAX, and room under the descriptor limit for the token and the log. */
static long
server_conn_max(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)AGENT_CONN_MAX + 64)
		return rl.rlim_cur > 128 ? (long)rl.rlim_cur - 64 : 64;
	return AGENT_CONN_MAX;
}

tba_err
server_run(struct agent_ctx *ctx, const struct server_opts *o, int lfd, int sigfd)
{
	struct epoll_event ev;
	struct server *s;
	tba_err r;

	server_idle_ms = server_env_sec("TBA_AGENT_IDLE_SEC", AGENT_IDLE_SEC) * 1000L;
	server_partial_ms = server_env_sec("TBA_AGENT_PARTIAL_SEC", AGENT_PARTIAL_SEC) * 1000L;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return tba_nomem();
	s->ctx = ctx;
	s->o = o;
	s->conn_max = server_conn_max();
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work_cv, NULL);
	pthread_cond_init(&s->idle_cv, NULL);
	if ((s->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		r = tba_seterr(TBA_ERR_IO, "epoll_create1: %s", strerror(errno));
		goto out;
	}
	(void)fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &server_tag_listen;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, lfd, &ev) != 0) {
		r = tba_seterr(TBA_ERR_IO, "epoll_ctl: %s", strerror(errno));
		goto out;
	}
	ev.data.ptr = &server_tag_signal;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, sigfd, &ev) != 0) {
		r = tba_seterr(TBA_ERR_IO, "epoll_ctl: %s", strerror(errno));
		goto out;
	}
	if ((r = server_start_workers(s, o->workers > 0 ? o->workers : 1)) != TBA_OK)
		goto out;
	r = server_loop(s, lfd, sigfd);
out:
	/* A worker stuck in a hung token call still holds s: leave it to exit. */
	if (!server_stop(s))
		return r;
	if (s->epfd >= 0)
		close(s->epfd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->work_cv);
	pthread_cond_destroy(&s->idle_cv);
	free(s);
	return r;
}
