/* SPDX-License-Identifier: MIT */
/* buf.c - bounded growable buffers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tba/buf.h"
#include "tba/mem.h"

void
tba_buf_init(struct tba_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->secure = 0;
}

void
tba_buf_init_secure(struct tba_buf *b, size_t max)
{
	tba_buf_init(b, max);
	b->secure = 1;
}

/* Growth of a buffer that may hold a PIN: locked pages, and the old copy wiped before release. */
static tba_err
buf_grow_secure(struct tba_buf *b, size_t ncap)
{
	char *p;

	if ((p = tba_secalloc(ncap)) == NULL)
		return tba_nomem();
	if (b->data != NULL)
		memcpy(p, b->data, b->len + 1);
	tba_secfree(b->data, b->cap);
	b->data = p;
	b->cap = ncap;
	return TBA_OK;
}

/* The first allocation: a request's base string, header and reply fit in it. */
#define BUF_FIRST 512

/*
 * Makes room for n more bytes plus the NUL. A larger block is a fresh one:
 * the old is wiped before it is freed, since a buffer may hold a PIN on its
 * way to the agent (realloc would leave a copy behind).
 */
static tba_err
buf_reserve(struct tba_buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return tba_seterr(TBA_ERR_TOO_LARGE, "data exceeds %zu bytes", b->max);
	need = b->len + n + 1;
	if (need <= b->cap)
		return TBA_OK;
	ncap = b->cap ? b->cap : BUF_FIRST;
	while (ncap < need)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if (b->secure)
		return buf_grow_secure(b, ncap);
	if ((p = malloc(ncap)) == NULL)
		return tba_nomem();
	if (b->data != NULL) {
		memcpy(p, b->data, b->len + 1);
		tba_wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = ncap;
	return TBA_OK;
}

tba_err
tba_buf_reserve(struct tba_buf *b, size_t n)
{
	return buf_reserve(b, n);
}

tba_err
tba_buf_put(struct tba_buf *b, const void *p, size_t n)
{
	tba_err r;

	if ((r = buf_reserve(b, n)) != TBA_OK)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return TBA_OK;
}

tba_err
tba_buf_puts(struct tba_buf *b, const char *s)
{
	return tba_buf_put(b, s, strlen(s));
}

tba_err
tba_buf_putc(struct tba_buf *b, char c)
{
	tba_err r;

	if ((r = buf_reserve(b, 1)) != TBA_OK)
		return r;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
	return TBA_OK;
}

tba_err
tba_buf_putf(struct tba_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	tba_err r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return tba_seterr(TBA_ERR_INVALID, "cannot format text (bad format or character)");
	if ((r = buf_reserve(b, (size_t)n)) != TBA_OK)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return TBA_OK;
}

const char *
tba_buf_str(const struct tba_buf *b)
{
	return b->data != NULL ? b->data : "";
}

void
tba_buf_truncate(struct tba_buf *b, size_t len)
{
	if (b->data != NULL && len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

void
tba_buf_reset(struct tba_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *
tba_buf_steal(struct tba_buf *b)
{
	char *p = b->data;

	if (b->secure)
		return NULL;
	if (p == NULL)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

void
tba_buf_free(struct tba_buf *b)
{
	if (b->data != NULL && b->secure)
		tba_secfree(b->data, b->cap);
	else if (b->data != NULL) {
		tba_wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}
