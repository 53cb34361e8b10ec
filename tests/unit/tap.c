/* SPDX-License-Identifier: MIT */
/* tap.c - see tap.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

static int tap_n, tap_failed;

static void
tap_line(int cond, const char *file, int line, const char *fmt, va_list ap)
{
	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
	vprintf(fmt, ap);
	printf("\n");
	if (!cond)
		printf("#   at %s:%d\n", file, line);
}

int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_line(cond, file, line, fmt, ap);
	va_end(ap);
	return cond;
}

int
tap_is_str(const char *got, const char *want, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int cond = got != NULL && want != NULL && strcmp(got, want) == 0;

	va_start(ap, fmt);
	tap_line(cond, file, line, fmt, ap);
	va_end(ap);
	if (!cond)
		printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)",
		    want ? want : "(null)");
	return cond;
}

int
tap_is_int(long long got, long long want, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int cond = got == want;

	va_start(ap, fmt);
	tap_line(cond, file, line, fmt, ap);
	va_end(ap);
	if (!cond)
		printf("#   got:  %lld\n#   want: %lld\n", got, want);
	return cond;
}

int
tap_done(void)
{
	printf("%d passed, %d failed\n", tap_n - tap_failed, tap_failed);
	return tap_failed == 0 && tap_n > 0 ? 0 : 1;
}
