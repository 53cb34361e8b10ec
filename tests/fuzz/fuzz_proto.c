/* SPDX-License-Identifier: MIT */
/*
 * fuzz_proto - the agent's wire codec: framing, request parsing, reply
 * parsing and the encoders (include/tba/proto.h).
 *
 * The first byte picks what the rest of the input is fed to, so one target
 * covers the agent's side (frame + parse_request) and the client's side
 * (parse_reply). Invariants: a request that parses is re-encoded with
 * tba_proto_request() and parses again to the same fields; an error built
 * from any text is a reply the client reads back with the same name; the
 * framer never reports a message longer than its input or the limit.
 */
#include "fuzz.h"

#include "tba/buf.h"
#include "tba/proto.h"

static void
same_str(const char *a, const char *b, const char *what)
{
	FUZZ_ASSERT((a == NULL) == (b == NULL), "%s present in one parse only", what);
	if (a != NULL)
		FUZZ_ASSERT(strcmp(a, b) == 0, "%s <%s> became <%s>", what, a, b);
}

static void
check_request(const char *msg, size_t len)
{
	struct tba_proto_req req, req2;
	enum tba_proto_ename en = TBA_PE__MAX, en2 = TBA_PE__MAX;
	struct tba_buf out;
	const cJSON *params;
	size_t i, n;
	tba_err r;

	memset(&req, 0, sizeof(req));
	memset(&req2, 0, sizeof(req2));
	tba_buf_init(&out, 4 * TBA_PROTO_MAX);
	r = tba_proto_parse_request(msg, len, &req, &en);
	if (r != TBA_OK) {
		FUZZ_ASSERT(en < TBA_PE__MAX, "error name %d", (int)en);
		FUZZ_ASSERT(tba_proto_error(en, tba_errmsg(r), &out) == TBA_OK, "error reply");
		goto out;
	}
	FUZZ_ASSERT(req.method < TBA_PM__MAX, "method %d", (int)req.method);
	if (req.method == TBA_PM_SIGN)
		FUZZ_ASSERT(req.profile != NULL && req.http_method != NULL && req.url != NULL,
		    "Sign without its fields");
	if (req.method == TBA_PM_UNLOCK)
		FUZZ_ASSERT(req.pin != NULL, "Unlock without pin");
	params = cJSON_GetObjectItemCaseSensitive(req.json, "parameters");
	r = tba_proto_request(tba_proto_method_name(req.method), params, &out);
	FUZZ_ASSERT(r == TBA_OK, "re-encode: %d", r);
	FUZZ_ASSERT(out.len > 0 && out.data[out.len - 1] == '\0', "no NUL");
	FUZZ_ASSERT(tba_proto_frame(out.data, out.len, &n) == TBA_OK && n == out.len - 1,
	    "re-encoded request does not frame");
	if (out.len > TBA_PROTO_MAX)
		goto out; /* whitespace removed can only shrink; a longer one is cJSON's numbers */
	r = tba_proto_parse_request(out.data, n, &req2, &en2);
	FUZZ_ASSERT(r == TBA_OK, "re-encoded <%s> refused: %s", out.data, tba_errmsg(r));
	FUZZ_ASSERT(req.method == req2.method, "method changed");
	same_str(req.profile, req2.profile, "profile");
	same_str(req.http_method, req2.http_method, "method");
	same_str(req.url, req2.url, "url");
	same_str(req.nonce, req2.nonce, "nonce");
	same_str(req.pin, req2.pin, "pin");
	FUZZ_ASSERT(req.has_timestamp == req2.has_timestamp &&
		(!req.has_timestamp || req.timestamp == req2.timestamp),
	    "timestamp changed");
	FUZZ_ASSERT(req.has_form == req2.has_form && req.form.n == req2.form.n, "form changed");
	for (i = 0; i < req.form.n; i++) {
		same_str(req.form.v[i].name, req2.form.v[i].name, "form name");
		same_str(req.form.v[i].value, req2.form.v[i].value, "form value");
	}
out:
	tba_proto_req_free(&req);
	tba_proto_req_free(&req2);
	tba_buf_free(&out);
}

static void
check_reply(const char *msg, size_t len)
{
	cJSON *params = NULL, *params2 = NULL;
	enum tba_proto_ename en = TBA_PE__MAX, en2 = TBA_PE__MAX;
	char *message = NULL, *message2 = NULL;
	struct tba_buf out;
	size_t n;
	tba_err r;

	tba_buf_init(&out, 4 * TBA_PROTO_MAX);
	r = tba_proto_parse_reply(msg, len, &params, &en, &message);
	FUZZ_ASSERT(r == TBA_OK || r == TBA_ERR_REMOTE || r == TBA_ERR_PROTO ||
		r == TBA_ERR_TOO_LARGE || r == TBA_ERR_NOMEM,
	    "parse_reply: %d", r);
	if (r == TBA_OK) {
		FUZZ_ASSERT(params != NULL && cJSON_IsObject(params), "parameters not an object");
		FUZZ_ASSERT(tba_proto_reply(params, &out) == TBA_OK, "re-encode reply");
		FUZZ_ASSERT(tba_proto_frame(out.data, out.len, &n) == TBA_OK, "frame reply");
		if (out.len <= TBA_PROTO_MAX) {
			r = tba_proto_parse_reply(out.data, n, &params2, &en2, &message2);
			FUZZ_ASSERT(r == TBA_OK, "re-encoded reply <%s>: %d", out.data, r);
		}
	} else if (r == TBA_ERR_REMOTE) {
		FUZZ_ASSERT(message != NULL, "error without message");
		if (en < TBA_PE__MAX) {
			/* Our own encoder, fed the peer's message, must be readable. */
			FUZZ_ASSERT(tba_proto_error(en, message, &out) == TBA_OK, "error encode");
			FUZZ_ASSERT(
			    tba_proto_frame(out.data, out.len, &n) == TBA_OK, "frame error");
			r = tba_proto_parse_reply(out.data, n, &params2, &en2, &message2);
			FUZZ_ASSERT(r == TBA_ERR_REMOTE && en2 == en,
			    "error <%s> read back as %d/%d", out.data, r, (int)en2);
		}
	}
	cJSON_Delete(params);
	cJSON_Delete(params2);
	free(message);
	free(message2);
	tba_buf_free(&out);
}

/* Any bytes as an error message must give a reply the client can parse. */
static void
check_error_text(const char *text, size_t len)
{
	enum tba_proto_ename en = (enum tba_proto_ename)(len % TBA_PE__MAX), en2;
	struct tba_buf out;
	cJSON *params = NULL;
	char *s, *message = NULL;
	size_t n;
	tba_err r;

	if ((s = fuzz_cstr((const uint8_t *)text, len)) == NULL)
		return;
	tba_buf_init(&out, 8 * TBA_PROTO_MAX);
	if (tba_proto_error(en, s, &out) == TBA_OK) {
		FUZZ_ASSERT(tba_proto_frame(out.data, out.len, &n) == TBA_OK, "frame");
		r = tba_proto_parse_reply(out.data, n, &params, &en2, &message);
		FUZZ_ASSERT(r == TBA_ERR_REMOTE && en2 == en, "error for <%s> read as %d", s, r);
	}
	cJSON_Delete(params);
	free(message);
	free(s);
	tba_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg;
	size_t len, n;
	tba_err r;

	if (size < 1)
		return 0;
	msg = (const char *)data + 1;
	len = size - 1;
	switch (data[0] % 3) {
	case 0:
		/* The agent's read loop: frame, then parse each complete message. */
		while (len > 0) {
			r = tba_proto_frame(msg, len, &n);
			if (r != TBA_OK) {
				FUZZ_ASSERT(r == TBA_ERR_NOT_FOUND || r == TBA_ERR_TOO_LARGE,
				    "frame %d", r);
				FUZZ_ASSERT(r != TBA_ERR_TOO_LARGE || len >= TBA_PROTO_MAX,
				    "too large early");
				break;
			}
			FUZZ_ASSERT(
			    n < len && msg[n] == '\0' && n < TBA_PROTO_MAX, "frame length %zu", n);
			check_request(msg, n);
			msg += n + 1;
			len -= n + 1;
		}
		break;
	case 1:
		check_reply(msg, len);
		break;
	default:
		check_error_text(msg, len);
		break;
	}
	return 0;
}
