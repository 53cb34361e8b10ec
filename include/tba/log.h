/* SPDX-License-Identifier: MIT */
/*
 * log.h - diagnostics to stderr (the journal under systemd, with priority
 * prefixes) or syslog.
 * Never pass a secret, a PIN or a signature to these.
 */
#ifndef TBA_LOG_H
#define TBA_LOG_H

enum tba_log_level { TBA_LOG_ERROR = 0, TBA_LOG_WARN, TBA_LOG_INFO, TBA_LOG_DEBUG };

/* Program name shown before each line ("tba", "tba-agent"). */
void tba_log_init(const char *prog, enum tba_log_level level);
void tba_log(enum tba_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * An audit line, logged whatever the level (syslog: LOG_AUTHPRIV). Returns 0
 * when it was written whole, -1 when not (stderr closed or full); syslog(3)
 * cannot tell, so it counts as written.
 */
int tba_log_audit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* From now on lines go to syslog(3) (daemon facility), not stderr. */
void tba_log_to_syslog(void);
/* 1 when stderr is the journal (JOURNAL_STREAM matches it), as seen by tba_log_init(). */
int tba_log_journal(void);

#define tba_error(...) tba_log(TBA_LOG_ERROR, __VA_ARGS__)
#define tba_warn(...) tba_log(TBA_LOG_WARN, __VA_ARGS__)
#define tba_info(...) tba_log(TBA_LOG_INFO, __VA_ARGS__)
#define tba_debug(...) tba_log(TBA_LOG_DEBUG, __VA_ARGS__)

#endif
