/*
 * server.c - the listening socket, peer checks, and one detached thread per
 * connection.
 *
 * Every accepted peer's uid is checked (SO_PEERCRED) whatever the socket's
 * mode says. A connection that idles, or trickles a message, is timed out so
 * that slow clients never hold a thread forever; at most AGENT_CONN_MAX are
 * served at once and the rest are told so and closed.
 *
 * Why a thread per connection and not an event loop: an epoll set served by
 * a few workers (EPOLLONESHOT) cost more kernel time per request (the
 * re-arm, the epoll wake-up) and served fewer signatures a second; the
 * figures are in doc/performance.md.
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
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "tba/log.h"
#include "tba/mem.h"
#include "tba/proto.h"

#define CONN_STACK (1024 * 1024)
#define SERVER_STOP_WAIT_SEC 5   /* SIGTERM: how long requests under way may take */
/* Replies queued before they are sent: pipelined requests are answered in batches. */
#define CONN_OUT_HIGH TBA_PROTO_MAX
/* A batch plus one more reply (at most TBA_PROTO_MAX) or an error. */
#define CONN_OUT_MAX (CONN_OUT_HIGH + TBA_PROTO_MAX + 4096)

struct conn {
	int fd;
	struct peer peer;
	struct agent_ctx *ctx;
	struct conn *prev, *next;   /* server_conns, under server_mu */
};

/* The open connections, so that SIGTERM can shut them down and wait for them. */
static pthread_mutex_t server_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t server_cv = PTHREAD_COND_INITIALIZER;
static struct conn *server_conns;
static int server_nconn;
/* AGENT_IDLE_SEC, AGENT_PARTIAL_SEC; $TBA_AGENT_IDLE_SEC, $TBA_AGENT_PARTIAL_SEC override them (tests). */
static long server_idle_sec = AGENT_IDLE_SEC;
static long server_partial_sec = AGENT_PARTIAL_SEC;

tba_err
server_prepare_dir(const char *path, int create)
{
	char copy[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *dir;
	struct stat st;

	if (strlen(path) >= sizeof(copy))
		return tba_seterr(TBA_ERR_USAGE, "socket path longer than %zu bytes: %s",
		    sizeof(copy) - 1, path);
	memcpy(copy, path, strlen(path) + 1);
	dir = dirname(copy);
	if (create) {
		/* Explicit mode: the agent's umask (0177) would strip the folder's x bit. */
		if (mkdir(dir, 0700) == 0)
			(void)chmod(dir, 0700);
		else if (errno != EEXIST)
			return tba_seterr(TBA_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
	}
	if (lstat(dir, &st) != 0)
		return tba_seterr(TBA_ERR_IO, "socket folder %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return tba_seterr(TBA_ERR_IO, "socket folder %s is not a directory", dir);
	if (st.st_uid != geteuid() && (create || st.st_uid != 0))
		return tba_seterr(TBA_ERR_IO, "socket folder %s belongs to uid %ld, not to you: "
		    "remove it or choose another --socket", dir, (long)st.st_uid);
	/* Our own folder must be private; a given one at least not writable by others. */
	if ((create && (st.st_mode & 077) != 0) || (st.st_mode & 022) != 0)
		return tba_seterr(TBA_ERR_IO, "socket folder %s is accessible to others (mode %04o): "
		    "chmod 700 it", dir, (unsigned)(st.st_mode & 07777));
	return TBA_OK;
}

/* systemd socket activation without libsystemd: fd 3 when LISTEN_PID is us. */
static int
server_activated(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	long v;
	int type = 0;
	socklen_t tl = sizeof(type);

	if (pid == NULL || fds == NULL)
		return -1;
	v = strtol(pid, &end, 10);
	if (*end != '\0' || v != (long)getpid())
		return -1;
	v = strtol(fds, &end, 10);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (*end != '\0' || v < 1)
		return -1;
	if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM)
		return -1;
	(void)fcntl(3, F_SETFD, FD_CLOEXEC);
	return 3;
}

tba_err
server_listen(const char *path, int *fd, int *activated)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int s = -1;
	tba_err r;

	*fd = -1;
	*activated = 0;
	if ((s = server_activated()) >= 0) {
		*fd = s;
		*activated = 1;
		return TBA_OK;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return tba_seterr(TBA_ERR_USAGE, "socket path too long: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return tba_seterr(TBA_ERR_IO, "socket: %s", strerror(errno));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			r = tba_seterr(TBA_ERR_IO, "%s exists and is not a socket", path);
			goto fail;
		}
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			r = tba_seterr(TBA_ERR_IO, "an agent already listens on %s", path);
			goto fail;
		}
		close(s);
		(void)unlink(path); /* stale: nobody listens */
		if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return tba_seterr(TBA_ERR_IO, "socket: %s", strerror(errno));
	}
	old = umask(0177); /* the socket is born 0600 */
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		r = tba_seterr(TBA_ERR_IO, "bind %s: %s", path, strerror(errno));
		umask(old);
		goto fail;
	}
	umask(old);
	if (listen(s, 128) != 0) {
		r = tba_seterr(TBA_ERR_IO, "listen %s: %s", path, strerror(errno));
		(void)unlink(path);
		goto fail;
	}
	*fd = s;
	return TBA_OK;
fail:
	close(s);
	return r;
}

static int
send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
send_error(int fd, enum tba_proto_ename e, const char *msg, int flags)
{
	struct tba_buf b;

	tba_buf_init(&b, 4096);
	if (tba_proto_error(e, msg, &b) == TBA_OK)
		(void)!send(fd, b.data, b.len, MSG_NOSIGNAL | flags);
	tba_buf_free(&b);
}

static long
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

static void
set_timeout(int fd, int opt, long sec)
{
	struct timeval tv = {sec, 0};

	(void)setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/*
 * Answers the complete messages in buf[0..*len) in order, appending the
 * replies to out, until out reaches CONN_OUT_HIGH. Returns the bytes
 * consumed (wiped: a message may hold a PIN), or -1 after MessageTooLarge.
 */
static long
conn_answer(struct conn *c, char *buf, size_t len, struct tba_buf *out)
{
	size_t pos = 0, mlen = 0;
	tba_err r;

	while (out->len < CONN_OUT_HIGH) {
		r = tba_proto_frame(buf + pos, len - pos, &mlen);
		if (r == TBA_ERR_TOO_LARGE) {
			(void)tba_proto_error(TBA_PE_MESSAGE_TOO_LARGE, "message longer than 65536 "
			    "bytes without a NUL; closing", out);
			return -1;
		}
		if (r != TBA_OK)
			break;
		dispatch(c->ctx, &c->peer, buf + pos, mlen, out);
		tba_wipe(buf + pos, mlen + 1);
		pos += mlen + 1;
	}
	return (long)pos;
}

/* Unlinks c from the server's list and wakes a SIGTERM waiting for the last one. */
static void
conn_leave(struct conn *c)
{
	pthread_mutex_lock(&server_mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		server_conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	server_nconn--;
	pthread_cond_broadcast(&server_cv);
	pthread_mutex_unlock(&server_mu);
}

/*
 * One thread per connection, blocked in recv between requests: the client's
 * write wakes exactly the thread that serves it. The timeouts are the
 * socket's own (SO_RCVTIMEO, changed only when the wait changes kind), so a
 * request costs recv + send and nothing more.
 */
static void *
conn_main(void *arg)
{
	struct conn *c = arg;
	struct tba_buf out;
	char *buf;
	size_t len = 0;
	long started = 0, wait, cur = -1, used;
	ssize_t n;

	tba_buf_init(&out, CONN_OUT_MAX);
	if ((buf = malloc(TBA_PROTO_MAX)) == NULL)
		goto out;
	set_timeout(c->fd, SO_SNDTIMEO, server_partial_sec);
	for (;;) {
		if ((used = conn_answer(c, buf, len, &out)) != 0) {
			if (used > 0) {
				memmove(buf, buf + used, len - (size_t)used);
				len -= (size_t)used;
				started = now_sec();
			}
			/* One send for the batch; replies hold signatures: wiped once sent. */
			if (send_all(c->fd, out.data, out.len) != 0 || used < 0)
				break;
			tba_wipe(out.data, out.len);
			tba_buf_reset(&out);
			continue;
		}
		/* Need more bytes: idle between messages, or the rest of one. */
		wait = len == 0 ? server_idle_sec : server_partial_sec - (now_sec() - started);
		if (wait <= 0)
			break;
		if (wait != cur) {
			set_timeout(c->fd, SO_RCVTIMEO, wait);
			cur = wait;
		}
		n = recv(c->fd, buf + len, TBA_PROTO_MAX - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)     /* closed, failed, or timed out (EAGAIN) */
			break;
		if (len == 0)
			started = now_sec();
		len += (size_t)n;
	}
out:
	if (buf != NULL) {
		tba_wipe(buf, TBA_PROTO_MAX);
		free(buf);
	}
	tba_buf_free(&out);
	conn_leave(c);
	close(c->fd);
	free(c);
	return NULL;
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

static void
server_accept(struct agent_ctx *ctx, const struct server_opts *o, int lfd, pthread_attr_t *attr)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct audit_rec a;
	struct conn *c;
	pthread_t th;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			tba_warn("accept: %s", strerror(errno));
			usleep(100 * 1000);
		}
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
	    !peer_allowed(o, cred.uid)) {
		memset(&a, 0, sizeof(a));
		a.uid = cl == sizeof(cred) ? cred.uid : (uid_t)-1;
		a.pid = cl == sizeof(cred) ? cred.pid : -1;
		a.op = "connect";
		a.result = "refused";
		a.detail = "peer uid not allowed (tba-agent --allow-uid)";
		audit_log(&a);
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->peer.uid = cred.uid;
	c->peer.pid = cred.pid;
	c->ctx = ctx;
	pthread_mutex_lock(&server_mu);
	if (server_nconn >= AGENT_CONN_MAX) {
		pthread_mutex_unlock(&server_mu);
		tba_warn("refusing a connection from pid %ld: %d connections open", (long)cred.pid,
		    AGENT_CONN_MAX);
		send_error(fd, TBA_PE_INVALID_REQUEST, "too many connections to the agent; retry later",
		    MSG_DONTWAIT);
		close(fd);
		free(c);
		return;
	}
	c->next = server_conns;
	if (server_conns != NULL)
		server_conns->prev = c;
	server_conns = c;
	server_nconn++;
	pthread_mutex_unlock(&server_mu);
	if (pthread_create(&th, attr, conn_main, c) != 0) {
		tba_warn("cannot start a connection thread");
		conn_leave(c);
		close(fd);
		free(c);
	}
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
 * SIGTERM: shuts every connection down (a thread in recv returns at once)
 * and waits for the threads to leave; one in the middle of a request
 * finishes it, but one held by a hung token call is not waited for long.
 */
static void
server_stop_conns(void)
{
	struct timespec until;
	struct conn *c;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SERVER_STOP_WAIT_SEC;
	pthread_mutex_lock(&server_mu);
	for (c = server_conns; c != NULL; c = c->next)
		(void)shutdown(c->fd, SHUT_RDWR);
	while (server_nconn > 0) {
		if (pthread_cond_timedwait(&server_cv, &server_mu, &until) != 0) {
			tba_warn("%d connections still busy after %d s; exiting without them",
			    server_nconn, SERVER_STOP_WAIT_SEC);
			break;
		}
	}
	pthread_mutex_unlock(&server_mu);
}

tba_err
server_run(struct agent_ctx *ctx, const struct server_opts *o, int lfd, int sigfd)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	pthread_attr_t attr;
	tba_err r;

	server_idle_sec = server_env_sec("TBA_AGENT_IDLE_SEC", AGENT_IDLE_SEC);
	server_partial_sec = server_env_sec("TBA_AGENT_PARTIAL_SEC", AGENT_PARTIAL_SEC);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, CONN_STACK);
	for (;;) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sigfd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = tba_seterr(TBA_ERR_IO, "poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents & POLLIN) {
			if (read(sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
				continue;
			if (si.ssi_signo == SIGHUP) {
				if ((r = profiles_reload(ctx->profiles)) == TBA_OK)
					tba_info("SIGHUP: profiles reloaded");
				else
					tba_warn("SIGHUP: cannot reload profiles: %s", tba_errmsg(r));
				continue;
			}
			tba_info("signal %u: exiting", si.ssi_signo);
			r = TBA_OK;
			break;
		}
		if (pfd[0].revents & POLLIN)
			server_accept(ctx, o, lfd, &attr);
	}
	server_stop_conns();
	pthread_attr_destroy(&attr);
	return r;
}
