/* SPDX-License-Identifier: MIT */
/*
 * proto_write.c - the agent's wire codec, writing side: replies, errors and
 * requests, each one JSON object and its NUL, at most TBA_PROTO_MAX bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tba/mem.h"
#include "tba/proto.h"

#define PROTO_PRINT_FIRST 2048
#define PROTO_PRINT_SLACK 16

tba_err
tba_proto_put_string(struct tba_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i, start = out->len;
	tba_err r;

	r = tba_buf_putc(out, '"');
	for (i = 0; i < n && r == TBA_OK; i++) {
		if (u[i] == '"' || u[i] == '\\') {
			char esc[2] = {'\\', (char)u[i]};
			r = tba_buf_put(out, esc, sizeof(esc));
		} else if (u[i] < 0x20) {
			char esc[6] = {'\\', 'u', '0', '0', hex[u[i] >> 4], hex[u[i] & 15]};
			r = tba_buf_put(out, esc, sizeof(esc));
		} else
			r = tba_buf_putc(out, (char)u[i]);
	}
	if (r == TBA_OK)
		r = tba_buf_putc(out, '"');
	if (r != TBA_OK)
		tba_buf_truncate(out, start);
	return r;
}

/*
 * Prints params into out in place (no copy of the text to allocate, copy and
 * wipe), the text being at most most bytes: a first try in PROTO_PRINT_FIRST,
 * then in all. cJSON wants a few bytes more room than it writes
 * (PROTO_PRINT_SLACK); the caller checks the length.
 */
static tba_err
proto_print(const cJSON *params, struct tba_buf *out, size_t most)
{
	size_t room = most < PROTO_PRINT_FIRST ? most : PROTO_PRINT_FIRST;
	tba_err r;

	for (;;) {
		if ((r = tba_buf_reserve(out, room + PROTO_PRINT_SLACK)) != TBA_OK)
			return r;
		/* cJSON 1.7.15 declares the item non-const; it only reads it. */
		if (cJSON_PrintPreallocated((cJSON *)params, out->data + out->len,
			(int)(room + PROTO_PRINT_SLACK), 0)) {
			out->len += strlen(out->data + out->len);
			return TBA_OK;
		}
		tba_wipe(out->data + out->len, room + PROTO_PRINT_SLACK); /* a partial reply */
		out->data[out->len] = '\0';
		if (room == most)
			return tba_seterr(
			    TBA_ERR_TOO_LARGE, "message longer than %d bytes", TBA_PROTO_MAX);
		room = most;
	}
}

/* Appends prefix, params (or {}), suffix and the NUL, within TBA_PROTO_MAX. */
static tba_err
proto_wrap(const char *prefix, const cJSON *params, struct tba_buf *out)
{
	size_t start = out->len;
	tba_err r;

	if ((r = tba_buf_puts(out, prefix)) != TBA_OK)
		goto out;
	if (out->len - start + 2 > TBA_PROTO_MAX) {
		r = tba_seterr(TBA_ERR_TOO_LARGE, "message longer than %d bytes", TBA_PROTO_MAX);
		goto out;
	}
	/* Room for the text between the prefix and the closing brace and NUL. */
	if (params != NULL)
		r = proto_print(params, out, TBA_PROTO_MAX - (out->len - start) - 2);
	else
		r = tba_buf_puts(out, "{}");
	if (r == TBA_OK && (r = tba_buf_puts(out, "}")) == TBA_OK)
		r = tba_buf_put(out, "", 1);
	if (r == TBA_OK && out->len - start > TBA_PROTO_MAX)
		r = tba_seterr(TBA_ERR_TOO_LARGE, "message longer than %d bytes", TBA_PROTO_MAX);
out:
	if (r != TBA_OK)
		tba_buf_truncate(out, start);
	return r;
}

tba_err
tba_proto_reply(const cJSON *params, struct tba_buf *out)
{
	return proto_wrap("{\"parameters\":", params, out);
}

tba_err
tba_proto_request(const char *method, const cJSON *params, struct tba_buf *out)
{
	struct tba_buf pre;
	tba_err r;

	tba_buf_init(&pre, 512);
	if ((r = tba_buf_puts(&pre, "{\"method\":\"" TBA_PROTO_PREFIX)) == TBA_OK &&
	    (r = tba_buf_puts(&pre, method)) == TBA_OK &&
	    (r = tba_buf_puts(&pre, "\",\"parameters\":")) == TBA_OK)
		r = proto_wrap(tba_buf_str(&pre), params, out);
	tba_buf_free(&pre);
	return r;
}

/*
 * The error message as it goes on the wire: at most cleansz - 1 bytes of
 * printable ASCII (others become '?'), so text built from peer input is
 * always valid JSON text. Returns its length.
 */
static size_t
proto_clean(const char *message, char *clean, size_t cleansz)
{
	size_t i;

	if (message == NULL)
		message = "";
	for (i = 0; message[i] != '\0' && i < cleansz - 1; i++) {
		unsigned char c = (unsigned char)message[i];
		clean[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	clean[i] = '\0';
	return i;
}

tba_err
tba_proto_error(enum tba_proto_ename e, const char *message, struct tba_buf *out)
{
	char clean[1024];
	size_t i;
	size_t start = out->len;
	tba_err r;

	i = proto_clean(message, clean, sizeof(clean));
	if ((r = tba_buf_puts(out, "{\"error\":\"")) == TBA_OK &&
	    (r = tba_buf_puts(out, tba_proto_ename_str(e))) == TBA_OK &&
	    (r = tba_buf_puts(out, "\",\"parameters\":{\"message\":")) == TBA_OK &&
	    (r = tba_proto_put_string(out, clean, i)) == TBA_OK &&
	    (r = tba_buf_puts(out, "}}")) == TBA_OK)
		r = tba_buf_put(out, "", 1);
	if (r != TBA_OK)
		tba_buf_truncate(out, start);
	return r;
}

tba_err
tba_proto_error_params(
    enum tba_proto_ename e, const char *message, const cJSON *extra, struct tba_buf *out)
{
	cJSON *j = NULL, *p, *dup;
	const cJSON *v;
	char clean[1024], *txt = NULL;
	size_t start = out->len;
	tba_err r;

	(void)proto_clean(message, clean, sizeof(clean));
	if ((j = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(j, "error", tba_proto_ename_str(e)) == NULL ||
	    (p = cJSON_AddObjectToObject(j, "parameters")) == NULL ||
	    cJSON_AddStringToObject(p, "message", clean) == NULL) {
		r = tba_nomem();
		goto out;
	}
	cJSON_ArrayForEach(v, extra)
	{
		if (v->string == NULL || strcmp(v->string, "message") == 0)
			continue;
		if ((dup = cJSON_Duplicate(v, 1)) == NULL) {
			r = tba_nomem();
			goto out;
		}
		cJSON_AddItemToObject(p, v->string, dup);
	}
	if ((txt = cJSON_PrintUnformatted(j)) == NULL) {
		r = tba_nomem();
		goto out;
	}
	if (strlen(txt) + 1 > TBA_PROTO_MAX) {
		r = tba_seterr(TBA_ERR_TOO_LARGE, "error reply too large");
		goto out;
	}
	if ((r = tba_buf_puts(out, txt)) == TBA_OK)
		r = tba_buf_put(out, "", 1);
out:
	if (r != TBA_OK)
		tba_buf_truncate(out, start);
	free(txt);
	cJSON_Delete(j);
	return r;
}
