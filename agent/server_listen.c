/* SPDX-License-Identifier: MIT */
/*
 * server_listen.c - tba-agent's listening socket: its folder (ours, 0700),
 * binding it under umask 0177 (a stale socket replaced, a live agent
 * refused), or the socket systemd passed (LISTEN_FDS/LISTEN_PID).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "tba/log.h"

tba_err
server_prepare_dir(const char *path, int create)
{
	char copy[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *dir;
	struct stat st;

	if (strlen(path) >= sizeof(copy))
		return tba_seterr(
		    TBA_ERR_USAGE, "socket path longer than %zu bytes: %s", sizeof(copy) - 1, path);
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
		return tba_seterr(TBA_ERR_IO,
		    "socket folder %s belongs to uid %ld, not to you: "
		    "remove it or choose another --socket",
		    dir, (long)st.st_uid);
	/* Our own folder must be private; a given one at least not writable by others. */
	if ((create && (st.st_mode & 077) != 0) || (st.st_mode & 022) != 0)
		return tba_seterr(TBA_ERR_IO,
		    "socket folder %s is accessible to others (mode %04o): "
		    "chmod 700 it",
		    dir, (unsigned)(st.st_mode & 07777));
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
	/* Room for a burst of connects: the event thread accepts them in batches. */
	if (listen(s, SOMAXCONN) != 0) {
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
