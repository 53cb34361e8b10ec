/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - shared by the libFuzzer targets in tests/fuzz/.
 *
 * Each target is one LLVMFuzzerTestOneInput() over one parser that takes
 * outside input. Beyond "does not crash, leak or read out of bounds" (ASan,
 * UBSan and LeakSanitizer watch that), each checks an invariant of the
 * parser - a round trip or an idempotence - and aborts when it breaks, so a
 * wrong answer is a finding just like a crash.
 */
#ifndef TBA_FUZZ_H
#define TBA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond, ...) \
	do { \
		if (!(cond)) { \
			fprintf( \
			    stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
			abort(); \
		} \
	} while (0)

/* A NUL-terminated copy of the input (free()); NULL when it holds a NUL byte. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s;

	if (memchr(data, '\0', size) != NULL)
		return NULL;
	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
