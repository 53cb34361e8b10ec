/* SPDX-License-Identifier: MIT */
/* proto.c - the agent's wire codec: framing, strict request parsing, reading replies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tba/mem.h"
#include "tba/proto.h"

static const char *const method_names[TBA_PM__MAX] = {
    [TBA_PM_PING] = "Ping",
    [TBA_PM_LIST] = "List",
    [TBA_PM_SIGN] = "Sign",
    [TBA_PM_PASSPORT] = "Passport",
    [TBA_PM_LOCK] = "Lock",
    [TBA_PM_UNLOCK] = "Unlock",
    [TBA_PM_ACCESS_TOKEN] = "AccessToken",
};

static const char *const ename_names[TBA_PE__MAX] = {
    [TBA_PE_INVALID_REQUEST] = TBA_PROTO_PREFIX "InvalidRequest",
    [TBA_PE_MESSAGE_TOO_LARGE] = TBA_PROTO_PREFIX "MessageTooLarge",
    [TBA_PE_METHOD_NOT_FOUND] = TBA_PROTO_PREFIX "MethodNotFound",
    [TBA_PE_PROFILE_NOT_FOUND] = TBA_PROTO_PREFIX "ProfileNotFound",
    [TBA_PE_POLICY_DENIED] = TBA_PROTO_PREFIX "PolicyDenied",
    [TBA_PE_LOCKED] = TBA_PROTO_PREFIX "Locked",
    [TBA_PE_TOKEN_ERROR] = TBA_PROTO_PREFIX "TokenError",
    [TBA_PE_PIN_INCORRECT] = TBA_PROTO_PREFIX "PinIncorrect",
    [TBA_PE_AUDIT_FAILED] = TBA_PROTO_PREFIX "AuditFailed",
    [TBA_PE_AUTHORIZATION_FAILED] = TBA_PROTO_PREFIX "AuthorizationFailed",
};

/* What each method accepts. */
enum field_type { F_STR, F_INT, F_FORM, F_BOOL };
enum field_id {
	FI_PROFILE,
	FI_METHOD,
	FI_URL,
	FI_FORM,
	FI_TIMESTAMP,
	FI_NONCE,
	FI_PIN,
	FI_RENEW,
	FI__MAX
};

struct field {
	const char *name;
	enum field_type type;
	size_t max; /* longest string */
};

static const struct field fields[FI__MAX] = {
    [FI_PROFILE] = {"profile", F_STR, TBA_PROTO_STR_MAX},
    [FI_METHOD] = {"method", F_STR, TBA_PROTO_STR_MAX},
    [FI_URL] = {"url", F_STR, TBA_URL_MAX},
    [FI_FORM] = {"form", F_FORM, 0},
    [FI_TIMESTAMP] = {"timestamp", F_INT, 0},
    [FI_NONCE] = {"nonce", F_STR, TBA_PROTO_STR_MAX},
    [FI_PIN] = {"pin", F_STR, 1024},
    [FI_RENEW] = {"renew", F_BOOL, 0},
};

#define B(f) (1u << (f))
/* The room a message is first printed in: a Sign reply (about 1.2 KB) fits. */
/* allowed[m] / required[m]: bit sets of fields. */
static const unsigned allowed[TBA_PM__MAX] = {
    [TBA_PM_SIGN] =
	B(FI_PROFILE) | B(FI_METHOD) | B(FI_URL) | B(FI_FORM) | B(FI_TIMESTAMP) | B(FI_NONCE),
    [TBA_PM_PASSPORT] = B(FI_PROFILE) | B(FI_TIMESTAMP) | B(FI_NONCE),
    [TBA_PM_UNLOCK] = B(FI_PIN),
    [TBA_PM_ACCESS_TOKEN] = B(FI_PROFILE) | B(FI_RENEW),
};
static const unsigned required[TBA_PM__MAX] = {
    [TBA_PM_SIGN] = B(FI_PROFILE) | B(FI_METHOD) | B(FI_URL),
    [TBA_PM_PASSPORT] = B(FI_PROFILE),
    [TBA_PM_UNLOCK] = B(FI_PIN),
    [TBA_PM_ACCESS_TOKEN] = B(FI_PROFILE),
};

const char *
tba_proto_method_name(enum tba_proto_method m)
{
	if ((int)m < 0 || m >= TBA_PM__MAX)
		return "?";
	return method_names[m];
}

const char *
tba_proto_ename_str(enum tba_proto_ename e)
{
	if ((int)e < 0 || e >= TBA_PE__MAX)
		return ename_names[TBA_PE_INVALID_REQUEST];
	return ename_names[e];
}

tba_err
tba_proto_ename_parse(const char *s, enum tba_proto_ename *out)
{
	int i;

	for (i = 0; i < TBA_PE__MAX; i++) {
		if (strcmp(s, ename_names[i]) == 0) {
			*out = (enum tba_proto_ename)i;
			return TBA_OK;
		}
	}
	return tba_seterr(TBA_ERR_NOT_FOUND, "unknown error name '%.64s'", s);
}

enum tba_proto_ename
tba_proto_ename_for(tba_err r)
{
	switch (r) {
	case TBA_ERR_INVALID:
	case TBA_ERR_PROTO:
	case TBA_ERR_USAGE:
		return TBA_PE_INVALID_REQUEST;
	case TBA_ERR_TOO_LARGE:
		return TBA_PE_MESSAGE_TOO_LARGE;
	case TBA_ERR_NOT_FOUND:
		return TBA_PE_PROFILE_NOT_FOUND;
	case TBA_ERR_POLICY:
		return TBA_PE_POLICY_DENIED;
	case TBA_ERR_LOCKED:
		return TBA_PE_LOCKED;
	case TBA_ERR_PIN_INCORRECT:
		return TBA_PE_PIN_INCORRECT;
	case TBA_ERR_NETWORK:
		return TBA_PE_AUTHORIZATION_FAILED;
	default:
		return TBA_PE_TOKEN_ERROR;
	}
}

tba_err
tba_proto_err_for(enum tba_proto_ename e)
{
	switch (e) {
	case TBA_PE_POLICY_DENIED:
		return TBA_ERR_POLICY;
	case TBA_PE_PROFILE_NOT_FOUND:
		return TBA_ERR_NOT_FOUND;
	case TBA_PE_LOCKED:
		return TBA_ERR_LOCKED;
	case TBA_PE_PIN_INCORRECT:
		return TBA_ERR_PIN_INCORRECT;
	case TBA_PE_TOKEN_ERROR:
		return TBA_ERR_TOKEN;
	case TBA_PE_AUDIT_FAILED:
		return TBA_ERR_IO;
	case TBA_PE_AUTHORIZATION_FAILED:
		return TBA_ERR_NETWORK;
	default:
		return TBA_ERR_REMOTE;
	}
}

tba_err
tba_proto_frame(const void *buf, size_t len, size_t *msglen)
{
	size_t n = len < TBA_PROTO_MAX ? len : TBA_PROTO_MAX;
	const char *nul = memchr(buf, '\0', n);

	if (nul != NULL) {
		*msglen = (size_t)(nul - (const char *)buf);
		return TBA_OK;
	}
	if (len >= TBA_PROTO_MAX)
		return tba_seterr(TBA_ERR_TOO_LARGE, "message longer than %d bytes", TBA_PROTO_MAX);
	return TBA_ERR_NOT_FOUND; /* not a failure: read more (no detail) */
}

/* Length of the valid UTF-8 sequence at s[0..n), 0 if invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (need >= n)
		return 0;
	for (i = 1; i <= need; i++) {
		if (s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xBF;
	}
	return need + 1;
}

/*
 * The pre-parse scan described in proto.h: UTF-8, no NUL, no raw control
 * bytes or \u0000 in strings, bounded nesting.
 */
static tba_err
proto_scan(const char *msg, size_t len)
{
	const unsigned char *s = (const unsigned char *)msg;
	size_t i = 0, k;
	int instr = 0, depth = 0;

	while (i < len) {
		k = utf8_len(s + i, len - i);
		if (k == 0 || s[i] == '\0')
			return tba_seterr(TBA_ERR_PROTO, "message is not valid UTF-8 text");
		if (k > 1) {
			i += k;
			continue;
		}
		if (instr) {
			if (s[i] < 0x20)
				return tba_seterr(
				    TBA_ERR_PROTO, "control character in a JSON string");
			if (s[i] == '"')
				instr = 0;
			else if (s[i] == '\\') {
				if (i + 1 >= len)
					return tba_seterr(
					    TBA_ERR_PROTO, "unterminated JSON string");
				if (s[i + 1] == 'u' && len - i >= 6 &&
				    memcmp(s + i + 2, "0000", 4) == 0)
					return tba_seterr(
					    TBA_ERR_PROTO, "\\u0000 is not allowed in strings");
				i++; /* the escaped character; a multi-byte one is rejected by cJSON */
			}
		} else if (s[i] == '"')
			instr = 1;
		else if (s[i] == '[' || s[i] == '{') {
			if (++depth > TBA_PROTO_DEPTH)
				return tba_seterr(
				    TBA_ERR_PROTO, "JSON nested deeper than %d", TBA_PROTO_DEPTH);
		} else if (s[i] == ']' || s[i] == '}')
			depth--;
		i++;
	}
	return TBA_OK;
}

/* Parses msg as one JSON object with nothing but whitespace after it. */
static tba_err
proto_json(const char *msg, size_t len, cJSON **out)
{
	const char *end = NULL;
	cJSON *j = NULL;
	tba_err r;

	*out = NULL;
	if ((r = proto_scan(msg, len)) != TBA_OK)
		return r;
	j = cJSON_ParseWithLengthOpts(msg, len, &end, 0);
	if (j == NULL)
		return tba_seterr(TBA_ERR_PROTO, "message is not valid JSON");
	while (end != NULL && end < msg + len &&
	    (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end == NULL || end != msg + len) {
		cJSON_Delete(j);
		return tba_seterr(TBA_ERR_PROTO, "trailing bytes after the JSON object");
	}
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return tba_seterr(TBA_ERR_PROTO, "message is not a JSON object");
	}
	*out = j;
	return TBA_OK;
}

tba_err
tba_proto_int(const cJSON *v, const char *name, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return tba_seterr(TBA_ERR_PROTO, "parameter %s must be an integer", name);
	d = v->valuedouble;
	if (!(d >= 0 && d <= (double)TBA_PROTO_INT_MAX) || (double)(int64_t)d != d)
		return tba_seterr(
		    TBA_ERR_PROTO, "parameter %s must be an integer from 0 to 2^53-1", name);
	*out = (int64_t)d;
	return TBA_OK;
}

static tba_err
get_form(const cJSON *v, struct tba_params *form)
{
	const cJSON *pair;
	tba_err r;

	if (!cJSON_IsArray(v))
		return tba_seterr(
		    TBA_ERR_PROTO, "parameter form must be an array of [name, value] pairs");
	cJSON_ArrayForEach(pair, v)
	{
		if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 ||
		    !cJSON_IsString(pair->child) || !cJSON_IsString(pair->child->next))
			return tba_seterr(TBA_ERR_PROTO,
			    "each form entry must be [name, value] with two strings");
		if (form->n >= TBA_PARAMS_MAX)
			return tba_seterr(
			    TBA_ERR_PROTO, "more than %d form parameters", TBA_PARAMS_MAX);
		r = tba_params_add(form, pair->child->valuestring, pair->child->next->valuestring);
		if (r != TBA_OK)
			return r == TBA_ERR_NOMEM ? r
						  : tba_seterr(TBA_ERR_PROTO, "bad form parameter");
	}
	return TBA_OK;
}

static tba_err
parse_params(const cJSON *params, struct tba_proto_req *req)
{
	const cJSON *v;
	unsigned seen = 0;
	int f;
	tba_err r;

	if (params == NULL)
		goto check;
	cJSON_ArrayForEach(v, params)
	{
		for (f = 0; f < FI__MAX; f++) {
			if ((allowed[req->method] & B(f)) && strcmp(v->string, fields[f].name) == 0)
				break;
		}
		if (f == FI__MAX)
			return tba_seterr(TBA_ERR_PROTO, "%s takes no parameter '%.64s'",
			    method_names[req->method], v->string);
		if (seen & B(f))
			return tba_seterr(
			    TBA_ERR_PROTO, "parameter %s given twice", fields[f].name);
		seen |= B(f);
		switch (fields[f].type) {
		case F_STR:
			if (!cJSON_IsString(v))
				return tba_seterr(
				    TBA_ERR_PROTO, "parameter %s must be a string", fields[f].name);
			if (strlen(v->valuestring) > fields[f].max)
				return tba_seterr(TBA_ERR_PROTO,
				    "parameter %s is longer than %zu bytes", fields[f].name,
				    fields[f].max);
			break;
		case F_INT:
			if ((r = tba_proto_int(v, fields[f].name, &req->timestamp)) != TBA_OK)
				return r;
			req->has_timestamp = 1;
			break;
		case F_FORM:
			if ((r = get_form(v, &req->form)) != TBA_OK)
				return r;
			req->has_form = 1;
			break;
		case F_BOOL:
			if (!cJSON_IsBool(v))
				return tba_seterr(TBA_ERR_PROTO,
				    "parameter %s must be true or false", fields[f].name);
			req->renew = cJSON_IsTrue(v);
			break;
		}
		switch (f) {
		case FI_PROFILE:
			req->profile = v->valuestring;
			break;
		case FI_METHOD:
			req->http_method = v->valuestring;
			break;
		case FI_URL:
			req->url = v->valuestring;
			break;
		case FI_NONCE:
			req->nonce = v->valuestring;
			break;
		case FI_PIN:
			req->pin = v->valuestring;
			break;
		default:
			break;
		}
	}
check:
	for (f = 0; f < FI__MAX; f++) {
		if ((required[req->method] & B(f)) && !(seen & B(f)))
			return tba_seterr(TBA_ERR_PROTO, "%s needs parameter %s",
			    method_names[req->method], fields[f].name);
	}
	return TBA_OK;
}

tba_err
tba_proto_parse_request(
    const char *msg, size_t len, struct tba_proto_req *out, enum tba_proto_ename *ename)
{
	struct tba_proto_req req;
	const cJSON *v, *method = NULL, *params = NULL;
	const char *name;
	int i;
	tba_err r;

	memset(out, 0, sizeof(*out));
	tba_params_init(&out->form);
	memset(&req, 0, sizeof(req));
	tba_params_init(&req.form);
	*ename = TBA_PE_INVALID_REQUEST;
	if ((r = proto_json(msg, len, &req.json)) != TBA_OK)
		goto out;
	cJSON_ArrayForEach(v, req.json)
	{
		if (strcmp(v->string, "method") == 0 && method == NULL)
			method = v;
		else if (strcmp(v->string, "parameters") == 0 && params == NULL)
			params = v;
		else {
			r = tba_seterr(TBA_ERR_PROTO,
			    "unexpected or repeated key '%.64s' in the "
			    "request",
			    v->string);
			goto out;
		}
	}
	if (!cJSON_IsString(method)) {
		r = tba_seterr(TBA_ERR_PROTO, "the request needs a string \"method\"");
		goto out;
	}
	if (params != NULL && !cJSON_IsObject(params)) {
		r = tba_seterr(TBA_ERR_PROTO, "\"parameters\" must be an object");
		goto out;
	}
	name = method->valuestring;
	if (strncmp(name, TBA_PROTO_PREFIX, strlen(TBA_PROTO_PREFIX)) == 0) {
		for (i = 0; i < TBA_PM__MAX; i++) {
			if (strcmp(name + strlen(TBA_PROTO_PREFIX), method_names[i]) == 0)
				break;
		}
	} else
		i = TBA_PM__MAX;
	if (i == TBA_PM__MAX) {
		*ename = TBA_PE_METHOD_NOT_FOUND;
		r = tba_seterr(TBA_ERR_PROTO, "no method '%.80s'", name);
		goto out;
	}
	req.method = (enum tba_proto_method)i;
	if ((r = parse_params(params, &req)) != TBA_OK)
		goto out; /* TBA_ERR_PROTO or TBA_ERR_NOMEM, with its detail */
	*out = req;
	memset(&req, 0, sizeof(req));
	r = TBA_OK;
out:
	tba_proto_req_free(&req);
	return r;
}

void
tba_proto_req_free(struct tba_proto_req *r)
{
	if (r == NULL)
		return;
	if (r->pin != NULL)
		tba_wipe(r->pin, strlen(r->pin));
	tba_params_free(&r->form);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

tba_err
tba_proto_parse_reply(
    const char *msg, size_t len, cJSON **params, enum tba_proto_ename *ename, char **message)
{
	cJSON *j = NULL, *p = NULL;
	const cJSON *v, *err = NULL, *m;
	const char *txt;
	tba_err r;

	*params = NULL;
	*message = NULL;
	*ename = TBA_PE__MAX;
	if ((r = proto_json(msg, len, &j)) != TBA_OK)
		goto out;
	cJSON_ArrayForEach(v, j)
	{
		if (strcmp(v->string, "error") == 0 && err == NULL)
			err = v;
		else if (strcmp(v->string, "parameters") == 0 && p == NULL)
			p = (cJSON *)v;
		else {
			r = tba_seterr(TBA_ERR_PROTO, "unexpected key '%.64s' in the agent's reply",
			    v->string);
			goto out;
		}
	}
	if (p != NULL && !cJSON_IsObject(p)) {
		r = tba_seterr(TBA_ERR_PROTO, "the agent's reply has no parameters object");
		goto out;
	}
	if (err != NULL) {
		if (!cJSON_IsString(err)) {
			r = tba_seterr(TBA_ERR_PROTO, "the agent's error name is not a string");
			goto out;
		}
		if (tba_proto_ename_parse(err->valuestring, ename) != TBA_OK)
			*ename = TBA_PE__MAX;
		m = p != NULL ? cJSON_GetObjectItemCaseSensitive(p, "message") : NULL;
		txt = cJSON_IsString(m) ? m->valuestring : "";
		if (*ename == TBA_PE__MAX && txt[0] == '\0')
			txt = err->valuestring;
		if ((*message = strdup(txt)) == NULL) {
			r = tba_nomem();
			goto out;
		}
		r = tba_seterr(TBA_ERR_REMOTE, "%s", *message);
		goto out;
	}
	if (p != NULL)
		p = cJSON_DetachItemViaPointer(j, p);
	else
		p = cJSON_CreateObject();
	if (p == NULL) {
		r = tba_nomem();
		goto out;
	}
	*params = p;
	r = TBA_OK;
out:
	cJSON_Delete(j);
	return r;
}
