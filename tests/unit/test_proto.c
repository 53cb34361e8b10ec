/* test_proto.c - JSON strings and integers written into replies, read back by cJSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tap.h"
#include "tba/proto.h"

/* The escaping rules written out the slow, obvious way. */
static void
naive_escape(const unsigned char *s, size_t n, struct tba_buf *out)
{
	size_t i;

	tba_buf_putc(out, '"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\') {
			tba_buf_putc(out, '\\');
			tba_buf_putc(out, (char)s[i]);
		} else if (s[i] < 0x20)
			tba_buf_putf(out, "\\u%04x", s[i]);
		else
			tba_buf_putc(out, (char)s[i]);
	}
	tba_buf_putc(out, '"');
}

static void
test_fixed(void)
{
	static const char in[] = "a\"b\\c\x01\x1f\x7f\xc3\xa9 OAuth realm=\"1\"";
	struct tba_buf b;

	tba_buf_init(&b, 4096);
	tba_proto_put_string(&b, in, sizeof(in) - 1);
	is_str(tba_buf_str(&b), "\"a\\\"b\\\\c\\u0001\\u001f\x7f\xc3\xa9 OAuth realm=\\\"1\\\"\"",
	    "quotes, backslashes and controls escaped; DEL and UTF-8 kept");
	tba_buf_reset(&b);
	tba_proto_put_string(&b, "", 0);
	is_str(tba_buf_str(&b), "\"\"", "empty string");
	tba_buf_free(&b);
}

/*
 * Random strings, long runs of plain bytes with specials at every offset of
 * an 8-byte word: the output equals the naive escaper's, and cJSON reads
 * the input back.
 */
static void
test_random(void)
{
	static const unsigned char special[] = {'"', '\\', 0x01, 0x09, 0x0a, 0x1f, 0x20, 0x21, 0x5b,
	    0x5d, 0x7f, 0x80, 0xff};
	unsigned char s[200];
	struct tba_buf got, want;
	int i, same = 0, back = 0, runs = 3000;
	size_t n, j;
	cJSON *v;

	srand(7);
	tba_buf_init(&got, 8192);
	tba_buf_init(&want, 8192);
	for (i = 0; i < runs; i++) {
		n = (size_t)(rand() % 120);
		for (j = 0; j < n; j++) {
			if (rand() % 16 == 0)
				s[j] = special[rand() % (int)sizeof(special)];
			else
				s[j] = (unsigned char)(0x20 + rand() % 0x5f);
			if (s[j] == 0)
				s[j] = 'x';
		}
		s[n] = '\0';
		tba_buf_reset(&got);
		tba_buf_reset(&want);
		if (tba_proto_put_string(&got, (const char *)s, n) != TBA_OK)
			continue;
		naive_escape(s, n, &want);
		same += got.len == want.len && memcmp(got.data, want.data, got.len) == 0;
		v = cJSON_Parse(tba_buf_str(&got));
		back += cJSON_IsString(v) && strcmp(cJSON_GetStringValue(v), (const char *)s) == 0;
		cJSON_Delete(v);
	}
	is_int(same, runs, "random strings: output equals the naive escaper's");
	is_int(back, runs, "random strings: cJSON reads back the input");
	tba_buf_free(&got);
	tba_buf_free(&want);
}

static void
test_int(void)
{
	static const long long v[] = {0, 7, -7, 1700000000, 9223372036854775807LL,
	    -9223372036854775807LL - 1};
	static const char *want[] = {"{\"parameters\":{\"n\":0}}", "{\"parameters\":{\"n\":7}}",
	    "{\"parameters\":{\"n\":-7}}", "{\"parameters\":{\"n\":1700000000}}",
	    "{\"parameters\":{\"n\":9223372036854775807}}",
	    "{\"parameters\":{\"n\":-9223372036854775808}}"};
	struct tba_proto_writer w;
	struct tba_buf b;
	size_t i;

	tba_buf_init(&b, 4096);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tba_buf_reset(&b);
		tba_proto_writer_begin(&w, &b);
		tba_proto_writer_int(&w, "n", v[i]);
		tba_proto_writer_end(&w);
		is_str(tba_buf_str(&b), want[i], "integer %lld", v[i]);
	}
	tba_buf_free(&b);
}

int
main(void)
{
	test_fixed();
	test_random();
	test_int();
	return tap_done();
}
