/* SPDX-License-Identifier: MIT */
/*
 * test_tty.c - reading secrets: through a pseudo-terminal (the prompt, echo
 * off while typing, echo back on afterwards, a ^C at the prompt) and through
 * a pipe (one line at a time, limits).
 */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "tap.h"
#include "tba/mem.h"
#include "tba/tty.h"

/* Reads what the terminal shows until `want` appears or a second passes. */
static size_t
pty_read_until(int m, char *buf, size_t cap, size_t have, const char *want)
{
	struct pollfd pfd = {m, POLLIN, 0};
	ssize_t k;

	while (have + 1 < cap && (want == NULL || strstr(buf, want) == NULL)) {
		if (poll(&pfd, 1, 1000) <= 0)
			break;
		k = read(m, buf + have, cap - 1 - have);
		if (k <= 0)
			break;
		have += (size_t)k;
		buf[have] = '\0';
	}
	return have;
}

/* The child: reads a secret from its terminal and reports it on fd `rep`. */
static void
child_read(int rep)
{
	char *s = NULL, line[128];
	size_t len = 0, cap = 0;
	struct termios t;
	tba_err r;
	int n;

	r = tba_tty_read_secret("PIN: ", &s, &len, &cap);
	/* Echo must be back on once the call returns. */
	n = snprintf(line, sizeof(line), "%d %s %zu %d", (int)r, r == TBA_OK ? s : "-", len,
	    tcgetattr(STDIN_FILENO, &t) == 0 && (t.c_lflag & ECHO) != 0);
	tba_secfree(s, cap);
	_exit(write(rep, line, (size_t)n) == n ? 0 : 1);
}

static void
test_prompt(void)
{
	char shown[1024] = "", report[128] = "";
	struct termios t;
	int m = -1, p[2], st = 0, echo_off = 0;
	size_t have;
	pid_t pid;
	ssize_t k;

	if (pipe(p) != 0 || (pid = forkpty(&m, NULL, NULL, NULL)) < 0) {
		ok(0, "forkpty: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		close(p[0]);
		child_read(p[1]);
	}
	close(p[1]);
	have = pty_read_until(m, shown, sizeof(shown), 0, "PIN: ");
	ok(strstr(shown, "PIN: ") != NULL, "the prompt is shown on the terminal");
	/* While the prompt waits, the terminal does not echo. */
	echo_off = tcgetattr(m, &t) == 0 && (t.c_lflag & ECHO) == 0;
	ok(echo_off, "echo is off while the secret is typed");
	ok(write(m, "s3cr et\r\n", 9) == 9, "typed the secret");
	k = read(p[0], report, sizeof(report) - 1);
	report[k > 0 ? k : 0] = '\0';
	have = pty_read_until(m, shown, sizeof(shown), have, NULL);
	waitpid(pid, &st, 0);
	is_str(report, "0 s3cr et 7 1", "secret read (CR LF stripped), echo on again afterwards");
	ok(strstr(shown, "s3cr") == NULL, "the secret never appeared on the terminal: \"%s\"",
	    shown);
	close(p[0]);
	close(m);
}

static void
test_interrupt(void)
{
	char shown[1024] = "";
	struct termios t;
	int m = -1, p[2], st = 0;
	pid_t pid;

	if (pipe(p) != 0 || (pid = forkpty(&m, NULL, NULL, NULL)) < 0) {
		ok(0, "forkpty: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		close(p[0]);
		child_read(p[1]);
	}
	close(p[1]);
	pty_read_until(m, shown, sizeof(shown), 0, "PIN: ");
	ok(write(m, "abc\003", 4) == 4, "typed part of a secret and ^C");
	waitpid(pid, &st, 0);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT,
	    "^C at the prompt ends the program by SIGINT");
	ok(tcgetattr(m, &t) == 0 && (t.c_lflag & ECHO) != 0, "and leaves the terminal echoing");
	close(p[0]);
	close(m);
}

static void
test_no_tty(void)
{
	char *s = NULL;
	size_t len = 0, cap = 0;
	pid_t pid;
	int st = 0;

	/* A new session has no controlling terminal: no /dev/tty to prompt on. */
	if ((pid = fork()) == 0) {
		tba_err r;

		setsid();
		r = tba_tty_read_secret("PIN: ", &s, &len, &cap);
		_exit(r == TBA_ERR_IO && s == NULL ? 0 : 1);
	}
	ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "no terminal: TBA_ERR_IO, nothing returned");
}

static void
test_pipe(void)
{
	char *s = NULL, big[TBA_SECRET_MAX + 10];
	size_t len = 0, cap = 0;
	int p[2];

	if (pipe(p) != 0) {
		ok(0, "pipe");
		return;
	}
	ok(write(p[1], "first\nsecond\r\nthird", 19) == 19, "wrote three lines");
	close(p[1]);
	ok(tba_fd_read_secret(p[0], &s, &len, &cap) == TBA_OK && len == 5, "line 1");
	is_str(s, "first", "line 1 text");
	tba_secfree(s, cap);
	ok(tba_fd_read_secret(p[0], &s, &len, &cap) == TBA_OK, "line 2 (stayed in the pipe)");
	is_str(s, "second", "CR LF stripped");
	tba_secfree(s, cap);
	ok(tba_fd_read_secret(p[0], &s, &len, &cap) == TBA_OK, "last line without a newline");
	is_str(s, "third", "line 3 text");
	tba_secfree(s, cap);
	is_int(tba_fd_read_secret(p[0], &s, &len, &cap), TBA_ERR_NOT_FOUND, "end of input");
	ok(s == NULL && len == 0 && cap == 0, "nothing returned at end of input");
	close(p[0]);

	if (pipe(p) != 0) {
		ok(0, "pipe");
		return;
	}
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	ok(write(p[1], big, sizeof(big)) == (ssize_t)sizeof(big), "wrote an over-long line");
	close(p[1]);
	is_int(
	    tba_fd_read_secret(p[0], &s, &len, &cap), TBA_ERR_TOO_LARGE, "over-long line refused");
	ok(s == NULL, "nothing returned");
	close(p[0]);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_prompt();
	test_interrupt();
	test_no_tty();
	test_pipe();
	return tap_done();
}
