/* SPDX-License-Identifier: MIT */
/* tty.c - reading secrets from a terminal (echo off) or a pipe, into secure memory. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tba/mem.h"
#include "tba/tty.h"

static volatile sig_atomic_t tty_signo;

static void
tty_catch(int signo)
{
	tty_signo = signo;
}

/*
 * intr: waits for input in short polls, so a signal that arrived just
 * before the read (and so did not interrupt it) is still seen. Returns 1
 * when there is input, 0 when a signal came (errno EINTR).
 */
static int
tty_wait(int fd, int intr)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	int n;

	while (intr) {
		if (tty_signo != 0) {
			errno = EINTR;
			return 0;
		}
		n = poll(&pfd, 1, 250);
		if (n > 0 || (n < 0 && errno != EINTR))
			break;
	}
	return 1;
}

/*
 * One byte per read(2): slower than stdio but consumes exactly one line, so
 * the second secret stays in the pipe for the next call and nothing secret
 * sits in a FILE buffer. intr != 0: a signal ends the read (a signal at the
 * prompt must restore the terminal rather than keep waiting).
 */
static tba_err
tty_read_line(int fd, int intr, char **out, size_t *len, size_t *cap)
{
	size_t n = 0, sz = TBA_SECRET_MAX + 2;
	char *s = NULL, c;
	ssize_t k;
	tba_err r;

	*out = NULL;
	*len = 0;
	*cap = 0;
	if ((s = tba_secalloc(sz)) == NULL)
		return tba_nomem();
	for (;;) {
		k = tty_wait(fd, intr) ? read(fd, &c, 1) : -1;
		if (k < 0 && errno == EINTR && !intr)
			continue;
		if (k < 0) {
			r = tba_seterr(TBA_ERR_IO, "cannot read: %s",
			    errno == EINTR ? "interrupted" : strerror(errno));
			goto out;
		}
		if (k == 0) {
			if (n == 0) {
				r = tba_seterr(TBA_ERR_NOT_FOUND, "end of input");
				goto out;
			}
			break;
		}
		if (c == '\n')
			break;
		if (n > TBA_SECRET_MAX) {
			r = tba_seterr(
			    TBA_ERR_TOO_LARGE, "line longer than %d bytes", TBA_SECRET_MAX);
			goto out;
		}
		s[n++] = c;
	}
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n > TBA_SECRET_MAX) {
		r = tba_seterr(TBA_ERR_TOO_LARGE, "line longer than %d bytes", TBA_SECRET_MAX);
		goto out;
	}
	s[n] = '\0';
	*out = s;
	*len = n;
	*cap = sz;
	s = NULL;
	r = TBA_OK;
out:
	tba_secfree(s, sz);
	return r;
}

tba_err
tba_fd_read_secret(int fd, char **out, size_t *len, size_t *cap)
{
	return tty_read_line(fd, 0, out, len, cap);
}

tba_err
tba_tty_read_secret(const char *prompt, char **out, size_t *len, size_t *cap)
{
	struct sigaction sa, oint, oterm, oquit, otstp;
	struct termios old, quiet;
	int fd = -1, restore = 0, sigs = 0;
	tba_err r;

	*out = NULL;
	*len = 0;
	*cap = 0;
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return tba_seterr(TBA_ERR_IO, "no terminal to prompt on");
	if (tcgetattr(fd, &old) != 0) {
		r = tba_seterr(TBA_ERR_IO, "cannot read terminal settings: %s", strerror(errno));
		goto out;
	}
	/* A signal must not leave the terminal with echo off. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tty_catch;
	sigemptyset(&sa.sa_mask);
	tty_signo = 0;
	sigaction(SIGINT, &sa, &oint);
	sigaction(SIGTERM, &sa, &oterm);
	sigaction(SIGQUIT, &sa, &oquit);
	sigaction(SIGTSTP, &sa, &otstp);
	sigs = 1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		r = tba_seterr(TBA_ERR_IO, "cannot turn terminal echo off: %s", strerror(errno));
		goto out;
	}
	restore = 1;
	if (write(fd, prompt, strlen(prompt)) < 0) {
		r = tba_seterr(TBA_ERR_IO, "cannot write to the terminal: %s", strerror(errno));
		goto out;
	}
	r = tty_read_line(fd, 1, out, len, cap);
	if (r == TBA_ERR_NOT_FOUND)
		r = tba_seterr(TBA_ERR_IO, "no input on the terminal");
out:
	if (restore) {
		ssize_t w;

		(void)tcsetattr(fd, TCSAFLUSH, &old);
		w = write(fd, "\n", 1);
		(void)w;
	}
	if (sigs) {
		sigaction(SIGINT, &oint, NULL);
		sigaction(SIGTERM, &oterm, NULL);
		sigaction(SIGQUIT, &oquit, NULL);
		sigaction(SIGTSTP, &otstp, NULL);
	}
	if (fd >= 0)
		close(fd);
	if (tty_signo != 0) {
		/* Act on the signal now that the terminal is back to normal. */
		if (*out != NULL) {
			tba_secfree(*out, *cap);
			*out = NULL;
			*len = 0;
			*cap = 0;
		}
		raise(tty_signo);
		r = tba_seterr(TBA_ERR_IO, "interrupted");
	}
	return r;
}
