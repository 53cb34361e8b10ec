/* SPDX-License-Identifier: MIT */
/* test_buf.c - bounded buffers: caps, NUL termination, undoing appends. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tba/buf.h"

static void
test_appends(void)
{
	struct tba_buf b;
	char big[2000];

	tba_buf_init(&b, 4096);
	is_str(tba_buf_str(&b), "", "empty buffer reads as \"\"");
	ok(b.data == NULL, "nothing allocated before the first append");
	ok(tba_buf_put(&b, "ab", 2) == TBA_OK && tba_buf_puts(&b, "cd") == TBA_OK &&
		tba_buf_putc(&b, 'e') == TBA_OK && tba_buf_putf(&b, "-%d-%s", 42, "x") == TBA_OK,
	    "appends");
	is_str(tba_buf_str(&b), "abcde-42-x", "contents");
	is_int(b.len, 10, "len excludes the NUL");
	ok(b.data[b.len] == '\0', "NUL-terminated");
	ok(tba_buf_put(&b, "", 0) == TBA_OK && b.len == 10, "empty append");
	/* Past the first block: contents survive the move. */
	memset(big, 'z', sizeof(big));
	ok(tba_buf_put(&b, big, sizeof(big)) == TBA_OK, "append 2000 bytes");
	ok(b.len == 2010 && strncmp(b.data, "abcde-42-x", 10) == 0 && b.data[2009] == 'z' &&
		b.data[2010] == '\0',
	    "grown buffer keeps its contents");
	ok(b.cap >= b.len + 1, "cap covers the NUL");
	tba_buf_truncate(&b, 5);
	is_str(tba_buf_str(&b), "abcde", "truncate");
	tba_buf_truncate(&b, 50);
	is_str(tba_buf_str(&b), "abcde", "truncate past the end is a no-op");
	tba_buf_reset(&b);
	ok(b.len == 0 && b.data != NULL && b.data[0] == '\0', "reset keeps the block, empties it");
	tba_buf_free(&b);
	ok(b.data == NULL && b.len == 0 && b.cap == 0, "free");
	tba_buf_free(&b);
	ok(1, "free twice is harmless");
}

static void
test_cap(void)
{
	struct tba_buf b;
	char big[64];

	tba_buf_init(&b, 10);
	ok(tba_buf_puts(&b, "0123456789") == TBA_OK, "exactly max bytes fit");
	is_int(tba_buf_putc(&b, 'x'), TBA_ERR_TOO_LARGE, "one byte past max refused");
	ok(strstr(tba_errmsg(TBA_ERR_TOO_LARGE), "10 bytes") != NULL, "message names the cap: %s",
	    tba_errmsg(TBA_ERR_TOO_LARGE));
	is_str(tba_buf_str(&b), "0123456789", "a refused append leaves the buffer as it was");
	is_int(tba_buf_putf(&b, "%s", "y"), TBA_ERR_TOO_LARGE, "putf past max refused");
	is_int(tba_buf_put(&b, big, (size_t)-1), TBA_ERR_TOO_LARGE, "a huge length cannot wrap");
	is_str(tba_buf_str(&b), "0123456789", "still as it was");
	ok(b.cap <= 11, "never allocates past max + 1 (cap %zu)", b.cap);
	tba_buf_free(&b);

	tba_buf_init(&b, 0);
	is_int(tba_buf_putc(&b, 'x'), TBA_ERR_TOO_LARGE, "a zero-cap buffer takes nothing");
	tba_buf_free(&b);
}

static void
test_steal(void)
{
	struct tba_buf b;
	char *s;

	tba_buf_init(&b, 100);
	s = tba_buf_steal(&b);
	ok(s != NULL && s[0] == '\0', "stealing an empty buffer gives \"\"");
	free(s);
	tba_buf_puts(&b, "hello");
	s = tba_buf_steal(&b);
	is_str(s, "hello", "stolen contents");
	ok(b.data == NULL && b.len == 0, "the buffer is empty after steal");
	free(s);
	ok(tba_buf_puts(&b, "again") == TBA_OK, "usable after steal");
	is_str(tba_buf_str(&b), "again", "new contents");
	tba_buf_free(&b);
}

int
main(void)
{
	test_appends();
	test_cap();
	test_steal();
	return tap_done();
}
