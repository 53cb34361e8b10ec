/* SPDX-License-Identifier: MIT */
/*
 * tap.h - a minimal test harness: each check prints "ok N - name" or
 * "not ok N - name" with the values compared, and tap_done() prints the
 * closing "N passed, N failed" line and returns the exit status.
 */
#ifndef TBA_TAP_H
#define TBA_TAP_H

#include <stddef.h>

int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int tap_is_str(const char *got, const char *want, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int tap_is_int(long long got, long long want, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int tap_done(void);

#define ok(cond, ...) tap_ok((cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)

#endif
