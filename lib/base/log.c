/* SPDX-License-Identifier: MIT */
/*
 * log.c - one line per message, written with a single write(2) to stderr,
 * or to syslog(3) for an agent in the background without systemd (whose
 * stderr is /dev/null, as ssh-agent's).
 *
 * When stderr is the journal (systemd sets JOURNAL_STREAM to its device and
 * inode), each line starts with a priority prefix (sd-daemon(3)): "<3>" for
 * errors, "<4>" warnings, "<6>" information, "<7>" debug, so that journalctl
 * -p err shows the errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "tba/log.h"

static const char *log_prog = "tba";
static enum tba_log_level log_level = TBA_LOG_INFO;
static int log_journal; /* stderr is the journal: priority prefixes */
static int log_syslog;  /* lines go to syslog(3) */

static const int log_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

/* 1 when $JOURNAL_STREAM ("DEV:INO") names what stderr is. */
static int
log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (js == NULL || fstat(STDERR_FILENO, &st) != 0)
		return 0;
	dev = strtoull(js, &end, 10);
	if (*end != ':')
		return 0;
	ino = strtoull(end + 1, &end, 10);
	return *end == '\0' && dev == (unsigned long long)st.st_dev &&
	    ino == (unsigned long long)st.st_ino;
}

void
tba_log_init(const char *prog, enum tba_log_level level)
{
	log_prog = prog;
	log_level = level;
	log_journal = log_stderr_is_journal();
}

int
tba_log_journal(void)
{
	return log_journal;
}

void
tba_log_to_syslog(void)
{
	openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = 1;
	log_journal = 0;
}

/*
 * Writes "prog: text" at prio (a syslog priority, with facility for
 * syslog); 0 when the line went out whole.
 */
static int __attribute__((format(printf, 3, 0)))
log_emit(int prio, int facility, const char *fmt, va_list ap)
{
	char line[1024];
	int n = 0, m;

	if (log_syslog) {
		m = vsnprintf(line, sizeof(line), fmt, ap);
		if (m < 0)
			return -1;
		syslog(facility | prio, "%s", line);
		return 0;
	}
	if (log_journal)
		n = snprintf(line, sizeof(line), "<%d>", prio);
	m = snprintf(line + n, sizeof(line) - (size_t)n, "%s: ", log_prog);
	if (m < 0 || (size_t)(n + m) >= sizeof(line))
		return -1;
	n += m;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return -1;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	return write(STDERR_FILENO, line, (size_t)n) == (ssize_t)n ? 0 : -1;
}

void
tba_log(enum tba_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	(void)log_emit(log_prio[level], LOG_DAEMON, fmt, ap);
	va_end(ap);
}

int
tba_log_audit(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = log_emit(LOG_INFO, LOG_AUTHPRIV, fmt, ap);
	va_end(ap);
	return r;
}
