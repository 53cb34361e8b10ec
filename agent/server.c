/*
 * server.c - the listening socket, peer checks, signals, and the clock that
 * times connections out. The connections themselves are conn.c's.
 *
 * Every accepted peer's uid is checked (SO_PEERCRED) whatever the socket's
 * mode says. At most AGENT_CONN_MAX connections are served at once; the rest
 * are told so and closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
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

static void
send_error(int fd, enum tba_proto_ename e, const char *msg)
{
	struct tba_buf b;

	tba_buf_init(&b, 4096);
	if (tba_proto_error(e, msg, &b) == TBA_OK)
		(void)!send(fd, b.data, b.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	tba_buf_free(&b);
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
server_accept(struct conn_set *cs, const struct server_opts *o, int lfd)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct audit_rec a;
	struct peer peer;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
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
	peer.uid = cred.uid;
	peer.pid = cred.pid;
	if (conn_add(cs, fd, &peer) != 0) {
		tba_warn("refusing a connection from pid %ld: %d connections open", (long)cred.pid,
		    AGENT_CONN_MAX);
		send_error(fd, TBA_PE_INVALID_REQUEST, "too many connections to the agent; retry later");
		close(fd);
	}
}

/* Enough workers to keep every CPU and session busy, not one per connection. */
static unsigned
server_workers(const struct server_opts *o)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = o->sessions;

	if (ncpu < 1)
		ncpu = 1;
	if (n > 2 * (unsigned long)ncpu)
		n = 2 * (unsigned)ncpu;
	/* Two at least: a request waiting on the token does not hold up a Ping. */
	if (n < 2)
		n = 2;
	return n;
}

tba_err
server_run(struct agent_ctx *ctx, const struct server_opts *o, int lfd, int sigfd)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	struct conn_set *cs = NULL;
	struct timespec ts;
	long next_reap = 0;
	tba_err r;

	if ((r = conn_start(ctx, server_workers(o), &cs)) != TBA_OK)
		return r;
	for (;;) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sigfd;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		/* Woken once a second at least: the timeouts are checked here. */
		if (poll(pfd, 2, 1000) < 0 && errno != EINTR) {
			r = tba_seterr(TBA_ERR_IO, "poll: %s", strerror(errno));
			break;
		}
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		if ((long)ts.tv_sec >= next_reap) {
			conn_reap(cs);
			next_reap = (long)ts.tv_sec + 1;
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
			server_accept(cs, o, lfd);
	}
	conn_stop(cs);
	return r;
}
