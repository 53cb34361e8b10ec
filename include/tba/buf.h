/* SPDX-License-Identifier: MIT */
/*
 * buf.h - growable byte buffer with a hard cap.
 *
 * Every buffer carries `max`: appends past it fail with TBA_ERR_TOO_LARGE and
 * leave the buffer as it was. The data is always NUL-terminated (the NUL is
 * not counted in len), so text buffers can be used as C strings.
 * A zero-initialised struct is not valid; use tba_buf_init().
 */
#ifndef TBA_BUF_H
#define TBA_BUF_H

#include <stddef.h>

#include "tba/err.h"

struct tba_buf {
	char *data; /* NULL until the first append */
	size_t len; /* bytes used, not counting the trailing NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* most bytes this buffer may ever hold */
	int secure; /* tba_buf_init_secure(): locked memory, every old copy wiped */
};

void tba_buf_init(struct tba_buf *b, size_t max);
/*
 * For a buffer that may hold a PIN or a secret: it lives in tba_secalloc()
 * memory, growth copies into new locked pages and wipes the old ones, and
 * tba_buf_free() wipes. tba_buf_steal() refuses such a buffer (NULL).
 */
void tba_buf_init_secure(struct tba_buf *b, size_t max);
/*
 * Room for n more bytes and a NUL at data + len, for a writer that appends
 * in place and then adds what it wrote to len; TBA_ERR_TOO_LARGE past max.
 * The contents do not change.
 */
tba_err tba_buf_reserve(struct tba_buf *b, size_t n);
tba_err tba_buf_put(struct tba_buf *b, const void *p, size_t n);
tba_err tba_buf_puts(struct tba_buf *b, const char *s);
tba_err tba_buf_putc(struct tba_buf *b, char c);
tba_err tba_buf_putf(struct tba_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The contents as a C string; "" for an empty buffer. Valid until the next append. */
const char *tba_buf_str(const struct tba_buf *b);
/*
 * Shortens the contents to len bytes (a no-op when len >= b->len), so a
 * failed append sequence can leave the buffer as it found it.
 */
void tba_buf_truncate(struct tba_buf *b, size_t len);
/* Empties the buffer, keeping its allocation. */
void tba_buf_reset(struct tba_buf *b);
/* Hands the allocation to the caller (free() it); the buffer becomes empty. NULL only for a secure buffer or no memory. */
char *tba_buf_steal(struct tba_buf *b);
/* Frees (and wipes: buffers may have held a base string or header) the allocation. */
void tba_buf_free(struct tba_buf *b);

#endif
