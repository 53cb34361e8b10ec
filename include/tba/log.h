/*
 * log.h - diagnostics to stderr (the journal under systemd).
 * Never pass a secret, a PIN or a signature to these.
 */
#ifndef TBA_LOG_H
#define TBA_LOG_H

enum tba_log_level { TBA_LOG_ERROR = 0, TBA_LOG_WARN, TBA_LOG_INFO, TBA_LOG_DEBUG };

/* Program name shown before each line ("tba", "tba-agent"). */
void tba_log_init(const char *prog, enum tba_log_level level);
void tba_log(enum tba_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define tba_error(...) tba_log(TBA_LOG_ERROR, __VA_ARGS__)
#define tba_warn(...) tba_log(TBA_LOG_WARN, __VA_ARGS__)
#define tba_info(...) tba_log(TBA_LOG_INFO, __VA_ARGS__)
#define tba_debug(...) tba_log(TBA_LOG_DEBUG, __VA_ARGS__)

#endif
