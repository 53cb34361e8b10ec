/*
 * conn.c - the open connections, served by a few worker threads from one
 * epoll set.
 *
 * Each connection is registered EPOLLONESHOT: an event hands it to exactly
 * one worker, which reads once, answers every complete message in order,
 * sends the replies and re-arms it. Sockets are non-blocking, so a client
 * that trickles a message or does not read its replies costs a buffer, not
 * a thread; a busy worker takes the next ready connection without sleeping,
 * and 8 clients do not need 8 agent threads to wake.
 *
 * Timeouts. A connection waiting for its next message for AGENT_IDLE_SEC,
 * or for the rest of one (or for the peer to take a reply) for
 * AGENT_PARTIAL_SEC, is shut down by conn_reap (the server's thread, once a
 * second). The reaper never frees: it claims an armed connection
 * (ARMED -> REAPED) and shuts its socket down, which wakes a worker that
 * sees the claim and closes it. A connection is freed only by the worker
 * that holds it, after it left the list, so neither can touch a freed one.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "tba/log.h"
#include "tba/mem.h"
#include "tba/proto.h"

#define CONN_STACK (1024 * 1024)
#define CONN_STOP_WAIT_SEC 5     /* SIGTERM: how long requests under way may take */
/* Replies queued before they are sent: pipelined requests are answered in batches. */
#define CONN_OUT_HIGH TBA_PROTO_MAX
/* The output buffer holds a batch plus one more reply (at most TBA_PROTO_MAX) or error. */
#define CONN_OUT_MAX (CONN_OUT_HIGH + TBA_PROTO_MAX + 4096)

enum conn_state {
	CONN_ARMED = 0,   /* in the epoll set, no worker holds it */
	CONN_BUSY,        /* a worker holds it */
	CONN_REAPED       /* timed out: the worker that gets its event closes it */
};

struct conn {
	int fd;
	struct peer peer;
	atomic_int state;
	atomic_long deadline;    /* CLOCK_MONOTONIC seconds; meaningful while ARMED */
	char *in;                /* TBA_PROTO_MAX bytes: the message(s) being received */
	size_t inlen;
	long started;            /* when the bytes now in `in` began to arrive */
	struct tba_buf out;      /* replies not yet sent */
	size_t outoff;           /* bytes of out already sent */
	int closing;             /* close once out is sent (MessageTooLarge) */
	struct conn *prev, *next;
};

struct conn_worker {
	struct conn_set *set;
	pthread_t th;
	atomic_long busy_since;  /* CLOCK_MONOTONIC seconds when its request began; 0: waiting */
};

struct conn_set {
	struct agent_ctx *ctx;
	int epfd;
	int stopfd;              /* an eventfd: readable once conn_stop was called */
	pthread_mutex_t mu;      /* the list */
	struct conn *head;
	atomic_int nconn;
	long idle_sec;           /* AGENT_IDLE_SEC, AGENT_PARTIAL_SEC ($TBA_AGENT_IDLE_SEC, */
	long partial_sec;        /* $TBA_AGENT_PARTIAL_SEC override them, for tests) */
	unsigned nworkers;       /* started; only the server's thread changes it */
	struct conn_worker workers[AGENT_WORKERS_MAX];
};

static long
conn_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long)ts.tv_sec;
}

/* Unlinks, closes, wipes and frees c (held by the caller, or no worker runs). */
static void
conn_close(struct conn_set *s, struct conn *c)
{
	pthread_mutex_lock(&s->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&s->mu);
	close(c->fd);
	/* The input may have held a PIN (Unlock). */
	tba_wipe(c->in, TBA_PROTO_MAX);
	free(c->in);
	tba_buf_free(&c->out);
	free(c);
	atomic_fetch_sub(&s->nconn, 1);
}

/* Hands c back to the epoll set, waiting for events. Returns -1 when c must be closed. */
static int
conn_arm(struct conn_set *s, struct conn *c, uint32_t events, long deadline)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events | EPOLLONESHOT;
	ev.data.ptr = c;
	atomic_store(&c->deadline, deadline);
	atomic_store(&c->state, CONN_ARMED);
	/* From here another worker (or the reaper) may own c. */
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
		/* Not armed, so no event can hand c to anyone: it is still ours. */
		tba_warn("epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Sends what is queued. 1: all sent, 0: the socket is full, -1: the peer is gone. */
static int
conn_flush(struct conn *c)
{
	ssize_t w;

	while (c->outoff < c->out.len) {
		w = send(c->fd, c->out.data + c->outoff, c->out.len - c->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (w <= 0)
			return -1;
		c->outoff += (size_t)w;
	}
	/* Sent replies hold signatures and base strings: wipe, keep the allocation. */
	if (c->out.data != NULL)
		tba_wipe(c->out.data, c->out.len);
	tba_buf_reset(&c->out);
	c->outoff = 0;
	return 1;
}

/*
 * Answers the complete messages in c->in, in order, until the queued
 * replies reach CONN_OUT_HIGH. Returns 1 when it consumed input.
 */
static int
conn_answer(struct conn_set *s, struct conn *c)
{
	size_t pos = 0, mlen = 0;
	tba_err r;

	while (!c->closing && c->out.len - c->outoff < CONN_OUT_HIGH) {
		r = tba_proto_frame(c->in + pos, c->inlen - pos, &mlen);
		if (r == TBA_ERR_TOO_LARGE) {
			(void)tba_proto_error(TBA_PE_MESSAGE_TOO_LARGE, "message longer than 65536 "
			    "bytes without a NUL; closing", &c->out);
			c->closing = 1;
			pos = c->inlen;
			break;
		}
		if (r != TBA_OK)
			break;
		dispatch(s->ctx, &c->peer, c->in + pos, mlen, &c->out);
		/* The message may have held a PIN. */
		tba_wipe(c->in + pos, mlen + 1);
		pos += mlen + 1;
	}
	if (pos == 0)
		return 0;
	memmove(c->in, c->in + pos, c->inlen - pos);
	c->inlen -= pos;
	/* What is left is the start of the next message: its 30 s start now. */
	c->started = conn_now();
	return 1;
}

/* A worker got c from the epoll set: serve it until it waits again or is closed. */
static void
conn_serve(struct conn_set *s, struct conn *c)
{
	int did_read = 0, f;
	long now;
	ssize_t n;

	if (atomic_exchange(&c->state, CONN_BUSY) == CONN_REAPED)
		goto close;
	for (;;) {
		if (c->outoff < c->out.len) {
			if ((f = conn_flush(c)) < 0)
				goto close;
			if (f == 0) {
				/* The peer is not reading: wait for room, at most AGENT_PARTIAL_SEC. */
				if (conn_arm(s, c, EPOLLOUT, conn_now() + s->partial_sec) != 0)
					goto close;
				return;
			}
		}
		if (c->closing)
			goto close;
		if (conn_answer(s, c))
			continue;
		/*
		 * Read once per event: a client that waits for its reply has sent
		 * nothing more, and anything it has sent re-fires the event.
		 */
		if (did_read)
			break;
		did_read = 1;
		n = recv(c->fd, c->in + c->inlen, TBA_PROTO_MAX - c->inlen, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		if (n <= 0)
			goto close;
		if (c->inlen == 0)
			c->started = conn_now();
		c->inlen += (size_t)n;
	}
	now = conn_now();
	if (c->inlen == 0)
		now += s->idle_sec;
	else if ((now = c->started + s->partial_sec) <= conn_now())
		goto close;
	if (conn_arm(s, c, EPOLLIN, now) != 0)
		goto close;
	return;
close:
	conn_close(s, c);
}

static long
conn_env_sec(const char *name, long dflt)
{
	const char *env = getenv(name);
	char *end;
	long v;

	if (env == NULL || *env == '\0')
		return dflt;
	v = strtol(env, &end, 10);
	return *end == '\0' && v >= 1 && v <= 3600 ? v : dflt;
}

static void *
conn_worker(void *arg)
{
	struct conn_worker *w = arg;
	struct conn_set *s = w->set;
	struct epoll_event ev;
	int n;

	for (;;) {
		n = epoll_wait(s->epfd, &ev, 1, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			tba_error("epoll_wait: %s", strerror(errno));
			break;
		}
		if (n == 0)
			continue;
		if (ev.data.ptr == NULL)   /* the stop eventfd: stays readable for every worker */
			break;
		atomic_store_explicit(&w->busy_since, conn_now(), memory_order_relaxed);
		conn_serve(s, ev.data.ptr);
		atomic_store_explicit(&w->busy_since, 0, memory_order_relaxed);
	}
	return NULL;
}

static int
conn_spawn(struct conn_set *s)
{
	struct conn_worker *w = &s->workers[s->nworkers];
	pthread_attr_t attr;
	int e;

	w->set = s;
	atomic_init(&w->busy_since, 0);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, CONN_STACK);
	e = pthread_create(&w->th, &attr, conn_worker, w);
	pthread_attr_destroy(&attr);
	if (e != 0)
		return -1;
	s->nworkers++;
	return 0;
}

tba_err
conn_start(struct agent_ctx *ctx, unsigned nworkers, struct conn_set **out)
{
	struct conn_set *s = NULL;
	struct epoll_event ev;
	tba_err r;

	*out = NULL;
	if (nworkers < 1)
		nworkers = 1;
	if (nworkers > AGENT_WORKERS_MAX)
		nworkers = AGENT_WORKERS_MAX;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TBA_ERR_NOMEM;
	s->ctx = ctx;
	s->stopfd = -1;
	s->idle_sec = conn_env_sec("TBA_AGENT_IDLE_SEC", AGENT_IDLE_SEC);
	s->partial_sec = conn_env_sec("TBA_AGENT_PARTIAL_SEC", AGENT_PARTIAL_SEC);
	pthread_mutex_init(&s->mu, NULL);
	if ((s->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		r = tba_seterr(TBA_ERR_IO, "epoll: %s", strerror(errno));
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->stopfd, &ev) != 0) {
		r = tba_seterr(TBA_ERR_IO, "epoll_ctl: %s", strerror(errno));
		goto fail;
	}
	while (s->nworkers < nworkers && conn_spawn(s) == 0)
		;
	if (s->nworkers == 0) {
		r = tba_seterr(TBA_ERR_IO, "cannot start a worker thread");
		goto fail;
	}
	*out = s;
	return TBA_OK;
fail:
	if (s->stopfd >= 0)
		close(s->stopfd);
	if (s->epfd >= 0)
		close(s->epfd);
	pthread_mutex_destroy(&s->mu);
	free(s);
	return r;
}

int
conn_add(struct conn_set *s, int fd, const struct peer *peer)
{
	struct epoll_event ev;
	struct conn *c = NULL;

	if (atomic_fetch_add(&s->nconn, 1) >= AGENT_CONN_MAX) {
		atomic_fetch_sub(&s->nconn, 1);
		return -1;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->in = malloc(TBA_PROTO_MAX)) == NULL) {
		free(c);
		atomic_fetch_sub(&s->nconn, 1);
		close(fd);
		return 0;
	}
	c->fd = fd;
	c->peer = *peer;
	tba_buf_init(&c->out, CONN_OUT_MAX);
	atomic_init(&c->state, CONN_ARMED);
	atomic_init(&c->deadline, conn_now() + s->idle_sec);
	pthread_mutex_lock(&s->mu);
	c->next = s->head;
	if (s->head != NULL)
		s->head->prev = c;
	s->head = c;
	pthread_mutex_unlock(&s->mu);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.ptr = c;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		tba_warn("epoll_ctl: %s", strerror(errno));
		/* The reaper may have claimed it meanwhile; nobody else can. */
		conn_close(s, c);
	}
	return 0;
}

void
conn_reap(struct conn_set *s)
{
	struct conn *c;
	long now = conn_now(), since;
	unsigned i, stuck = 0;
	int armed;

	/*
	 * A token call that hangs (an RPC to a dead p11-kit server, a device
	 * that stopped answering) holds its worker. When every worker has been
	 * on one request for a second or more, one more is started, so a Ping
	 * or a request that fails fast is not queued behind them.
	 */
	for (i = 0; i < s->nworkers; i++) {
		since = atomic_load_explicit(&s->workers[i].busy_since, memory_order_relaxed);
		if (since != 0 && now - since >= 2)
			stuck++;
	}
	if (stuck == s->nworkers && s->nworkers < AGENT_WORKERS_MAX) {
		if (conn_spawn(s) == 0)
			tba_warn("all %u workers busy on one request for over a second; started one more",
			    s->nworkers - 1);
	}

	pthread_mutex_lock(&s->mu);
	for (c = s->head; c != NULL; c = c->next) {
		armed = CONN_ARMED;
		if (atomic_load(&c->state) == CONN_ARMED && atomic_load(&c->deadline) <= now &&
		    atomic_compare_exchange_strong(&c->state, &armed, CONN_REAPED))
			(void)shutdown(c->fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&s->mu);
}

void
conn_stop(struct conn_set *s)
{
	struct timespec until;
	uint64_t one = 1;
	unsigned i;

	if (s == NULL)
		return;
	(void)!write(s->stopfd, &one, sizeof(one));
	/*
	 * A worker in the middle of a request finishes it first, but one held
	 * by a hung token call is not waited for: the process is exiting, and
	 * what that worker uses stays allocated.
	 */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += CONN_STOP_WAIT_SEC;
	for (i = 0; i < s->nworkers; i++) {
		if (pthread_timedjoin_np(s->workers[i].th, NULL, &until) != 0) {
			tba_warn("a worker is still busy after %d s; exiting without it",
			    CONN_STOP_WAIT_SEC);
			return;
		}
	}
	while (s->head != NULL)
		conn_close(s, s->head);
	close(s->stopfd);
	close(s->epfd);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
