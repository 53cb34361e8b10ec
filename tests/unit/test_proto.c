/* SPDX-License-Identifier: MIT */
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
	static const unsigned char special[] = {
	    '"', '\\', 0x01, 0x09, 0x0a, 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xff};
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

/*
 * A timestamp is a JSON number printed as an integer and read back by one
 * function. cJSON prints up to 15 digits exactly (any date before the year
 * 31 million); past that it switches to exponent form.
 */
static void
test_int(void)
{
	static const double ok_v[] = {0, 7, 1700000000, 999999999999999.0};
	static const char *want[] = {"{\"parameters\":{\"timestamp\":0}}",
	    "{\"parameters\":{\"timestamp\":7}}", "{\"parameters\":{\"timestamp\":1700000000}}",
	    "{\"parameters\":{\"timestamp\":999999999999999}}"};
	static const double bad_v[] = {-1, 1.5, 9007199254740992.0, 1e300};
	struct tba_buf b;
	cJSON *o, *s;
	int64_t t;
	size_t i;

	tba_buf_init(&b, 4096);
	for (i = 0; i < sizeof(ok_v) / sizeof(ok_v[0]); i++) {
		tba_buf_reset(&b);
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "timestamp", ok_v[i]);
		ok(tba_proto_reply(o, &b) == TBA_OK, "reply %s", want[i]);
		is_str(tba_buf_str(&b), want[i], "printed as an integer");
		t = -1;
		is_int(tba_proto_int(cJSON_GetObjectItem(o, "timestamp"), "timestamp", &t), TBA_OK,
		    "read back");
		is_int(t, (long long)ok_v[i], "same value");
		cJSON_Delete(o);
	}
	for (i = 0; i < sizeof(bad_v) / sizeof(bad_v[0]); i++) {
		o = cJSON_CreateNumber(bad_v[i]);
		is_int(tba_proto_int(o, "timestamp", &t), TBA_ERR_PROTO, "%g refused", bad_v[i]);
		cJSON_Delete(o);
	}
	s = cJSON_CreateString("1700000000");
	is_int(tba_proto_int(s, "timestamp", &t), TBA_ERR_PROTO, "a string refused");
	ok(strstr(tba_errmsg(TBA_ERR_PROTO), "timestamp") != NULL, "message names it: %s",
	    tba_errmsg(TBA_ERR_PROTO));
	cJSON_Delete(s);
	is_int(tba_proto_int(NULL, "timestamp", &t), TBA_ERR_PROTO, "absent refused");
	tba_buf_free(&b);
}

/* Replies of every size up to the limit, after what the buffer already holds; none past it. */
static void
test_reply_size(void)
{
	static const size_t lens[] = {0, 1, 2000, 2048, 5000, TBA_PROTO_MAX - 30,
	    TBA_PROTO_MAX - 24, TBA_PROTO_MAX - 23, TBA_PROTO_MAX};
	const size_t fixed = strlen("{\"parameters\":{\"v\":\"\"}}") + 1;
	struct tba_buf b;
	cJSON *o, *back;
	char *v;
	size_t i, want;

	tba_buf_init(&b, 3 * TBA_PROTO_MAX);
	v = malloc(TBA_PROTO_MAX + 1);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(v, 'a', lens[i]);
		v[lens[i]] = '\0';
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "v", v);
		tba_buf_reset(&b);
		tba_buf_puts(&b, "before");
		want = fixed + lens[i];
		if (want <= TBA_PROTO_MAX) {
			is_int(tba_proto_reply(o, &b), TBA_OK, "a %zu-byte reply", want);
			is_int(
			    (long long)b.len, (long long)(6 + want), "all of it, after the rest");
			back = cJSON_Parse(b.data + 6);
			ok(back != NULL &&
				strcmp(cJSON_GetObjectItem(
					   cJSON_GetObjectItem(back, "parameters"), "v")
					   ->valuestring,
				    v) == 0,
			    "read back whole");
			cJSON_Delete(back);
		} else {
			is_int(tba_proto_reply(o, &b), TBA_ERR_TOO_LARGE,
			    "a %zu-byte reply refused", want);
			is_str(tba_buf_str(&b), "before", "the buffer as it was");
		}
		cJSON_Delete(o);
	}
	free(v);
	tba_buf_free(&b);
}

int
main(void)
{
	test_fixed();
	test_random();
	test_int();
	test_reply_size();
	return tap_done();
}
