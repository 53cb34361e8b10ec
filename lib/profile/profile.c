/* SPDX-License-Identifier: MIT */
/* profile.c - profile metadata (JSON) and the NetSuite account rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "tba/buf.h"
#include "tba/profile.h"

#define PROFILE_JSON_VERSION 1

static int
prof_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static char
prof_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static char
prof_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

int
tba_profile_name_ok(const char *name)
{
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		if (i >= TBA_NAME_MAX)
			return 0;
		if (!prof_alnum(name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
			return 0;
	}
	return i > 0;
}

const char *
tba_kind_name(enum tba_kind k)
{
	switch (k) {
	case TBA_KIND_NETSUITE:
		return "netsuite";
	case TBA_KIND_OAUTH1:
		return "oauth1";
	case TBA_KIND_M2M:
		return "m2m";
	}
	return "unknown";
}

tba_err
tba_kind_parse(const char *s, enum tba_kind *out)
{
	if (strcmp(s, "netsuite") == 0)
		*out = TBA_KIND_NETSUITE;
	else if (strcmp(s, "oauth1") == 0)
		*out = TBA_KIND_OAUTH1;
	else if (strcmp(s, "m2m") == 0)
		*out = TBA_KIND_M2M;
	else
		return tba_seterr(TBA_ERR_INVALID,
		    "unknown kind \"%.32s\": use netsuite, oauth1 or "
		    "m2m",
		    s);
	return TBA_OK;
}

/* NetSuite's OAuth 2.0 scopes, in the order the canonical form lists them. */
static const char *const prof_scopes[] = {"rest_webservices", "restlets", "suite_analytics"};
#define PROF_NSCOPES (sizeof(prof_scopes) / sizeof(prof_scopes[0]))

tba_err
tba_m2m_scope_norm(const char *in, char *out, size_t outsz)
{
	int seen[PROF_NSCOPES] = {0};
	const char *p, *end;
	size_t i, n, off = 0;
	int any = 0;

	if (outsz > 0)
		out[0] = '\0';
	if (in == NULL || strlen(in) > 256)
		goto bad;
	for (p = in; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		while (*p == ' ')
			p++;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		while (n > 0 && p[n - 1] == ' ')
			n--;
		for (i = 0; i < PROF_NSCOPES; i++) {
			if (strlen(prof_scopes[i]) == n && strncmp(p, prof_scopes[i], n) == 0)
				break;
		}
		if (i == PROF_NSCOPES)
			goto bad;
		seen[i] = 1;
		any = 1;
		if (*end == ',' && end[1] == '\0')
			goto bad;
	}
	if (!any)
		goto bad;
	for (i = 0; i < PROF_NSCOPES; i++) {
		if (!seen[i])
			continue;
		n = strlen(prof_scopes[i]);
		if (off + (off > 0) + n + 1 > outsz)
			return tba_seterr(TBA_ERR_TOO_LARGE, "scope buffer too small");
		if (off > 0)
			out[off++] = ',';
		memcpy(out + off, prof_scopes[i], n + 1);
		off += n;
	}
	return TBA_OK;
bad:
	return tba_seterr(TBA_ERR_INVALID,
	    "bad scope \"%.64s\": use rest_webservices, restlets "
	    "and/or suite_analytics, joined by commas (the scopes checked on the integration "
	    "record)",
	    in != NULL ? in : "");
}

int
tba_m2m_id_ok(const char *s)
{
	size_t i, n;

	n = s != NULL ? strnlen(s, TBA_FIELD_MAX + 1) : 0;
	if (n == 0 || n > TBA_FIELD_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '"' ||
		    s[i] == '\\')
			return 0;
	}
	return 1;
}

/*
 * The ID becomes a DNS label (lower-cased, '_' -> '-'), so it is held to a
 * label's 63 characters.
 */
#define NS_ACCOUNT_MAX 63

tba_err
tba_ns_account_check(const char *account)
{
	size_t i, len, under = 0, upos = 0;

	len = account != NULL ? strnlen(account, NS_ACCOUNT_MAX + 1) : 0;
	if (len == 0 || len > NS_ACCOUNT_MAX)
		goto bad;
	for (i = 0; i < len; i++) {
		if (account[i] == '_') {
			under++;
			upos = i;
		} else if (!prof_alnum(account[i])) {
			goto bad;
		}
	}
	if (under > 1 || (under == 1 && (upos == 0 || upos == len - 1)))
		goto bad;
	return TBA_OK;
bad:
	return tba_seterr(TBA_ERR_INVALID,
	    "bad NetSuite account ID \"%.64s\": use the ID from Setup > Company > Company "
	    "Information, letters and digits with an optional _ suffix (1234567, 1234567_SB1, "
	    "TSTDRV1234567)",
	    account != NULL ? account : "");
}

tba_err
tba_ns_realm(const char *account, char *out, size_t outsz)
{
	size_t i, len;
	tba_err r;

	if (outsz > 0)
		out[0] = '\0';
	if ((r = tba_ns_account_check(account)) != TBA_OK)
		return r;
	len = strlen(account);
	if (len + 1 > outsz)
		return tba_seterr(TBA_ERR_TOO_LARGE, "realm buffer too small");
	for (i = 0; i < len; i++)
		out[i] = prof_upper(account[i]);
	out[len] = '\0';
	return TBA_OK;
}

tba_err
tba_ns_add_hosts(struct tba_profile *p)
{
	static const char *const suffix[] = {
	    ".suitetalk.api.netsuite.com",
	    ".restlets.api.netsuite.com",
	    ".app.netsuite.com",
	};
	char label[NS_ACCOUNT_MAX + 1], host[TBA_HOST_MAX + 1];
	size_t i, len;
	tba_err r;

	if ((r = tba_ns_account_check(p->account)) != TBA_OK)
		return r;
	len = strlen(p->account);
	for (i = 0; i < len; i++)
		label[i] = p->account[i] == '_' ? '-' : prof_lower(p->account[i]);
	label[len] = '\0';
	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(host, sizeof(host), "%s%s", label, suffix[i]);
		if ((r = tba_profile_add_host(p, host)) != TBA_OK)
			return r;
	}
	return TBA_OK;
}

/* [v6] with hex digits, ':' and '.' inside; v6 text is written without the brackets. */
static int
prof_ipv6_ok(const char *s, size_t n)
{
	size_t i;
	int colons = 0;

	if (n < 2 || n > 45)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == ':')
			colons++;
		else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
			     (s[i] >= 'A' && s[i] <= 'F') || s[i] == '.'))
			return 0;
	}
	return colons >= 2;
}

/* A DNS name or IPv4 address: labels of [a-z0-9_-], no empty label. */
static int
prof_dns_ok(const char *s, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > TBA_HOST_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (prof_alnum(s[i]) || s[i] == '-' || s[i] == '_') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0;
}

tba_err
tba_profile_add_host(struct tba_profile *p, const char *host)
{
	char h[TBA_HOST_MAX + 1];
	size_t i, n;

	n = host != NULL ? strnlen(host, TBA_HOST_MAX + 1) : 0;
	if (n == 0 || n > TBA_HOST_MAX)
		return tba_seterr(TBA_ERR_INVALID,
		    "bad host \"%.64s\": give a DNS name of at most "
		    "%d characters",
		    host != NULL ? host : "", TBA_HOST_MAX);
	if (host[0] == '[' && host[n - 1] == ']' && prof_ipv6_ok(host + 1, n - 2)) {
		memcpy(h, host, n + 1);
	} else if (host[0] != '[' && prof_ipv6_ok(host, n) && n + 2 <= TBA_HOST_MAX) {
		/* Kept the way tba_url_parse writes it, brackets and all. */
		snprintf(h, sizeof(h), "[%s]", host);
		n += 2;
	} else if (prof_dns_ok(host, n)) {
		memcpy(h, host, n + 1);
	} else {
		return tba_seterr(TBA_ERR_INVALID,
		    "bad host \"%.64s\": give a plain DNS name or IP "
		    "address, without scheme, port or path (e.g. api.example.com)",
		    host);
	}
	for (i = 0; i < n; i++)
		h[i] = prof_lower(h[i]);
	for (i = 0; i < p->nhosts; i++) {
		if (strcmp(p->hosts[i], h) == 0)
			return TBA_OK;
	}
	if (p->nhosts >= TBA_HOSTS_MAX)
		return tba_seterr(TBA_ERR_TOO_LARGE, "more than %d allowed hosts", TBA_HOSTS_MAX);
	memcpy(p->hosts[p->nhosts], h, n + 1);
	p->nhosts++;
	return TBA_OK;
}

cJSON *
tba_profile_public(const struct tba_profile *p)
{
	cJSON *o, *hosts;
	size_t i;
	int ok;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	ok = cJSON_AddStringToObject(o, "name", p->name) != NULL &&
	    cJSON_AddStringToObject(o, "kind", tba_kind_name(p->kind)) != NULL &&
	    cJSON_AddStringToObject(o, "account", p->account) != NULL;
	if (ok && p->kind == TBA_KIND_M2M)
		ok = cJSON_AddStringToObject(o, "client_id", p->client_id) != NULL &&
		    cJSON_AddStringToObject(o, "alg", tba_jwt_alg_name(p->alg)) != NULL &&
		    cJSON_AddStringToObject(o, "certificate_id", p->cert_id) != NULL &&
		    cJSON_AddStringToObject(o, "scope", p->scope) != NULL &&
		    cJSON_AddNumberToObject(o, "not_after", (double)p->not_after) != NULL;
	else if (ok)
		ok = cJSON_AddStringToObject(o, "realm", p->realm) != NULL &&
		    cJSON_AddStringToObject(
			o, "signature_method", tba_sigmethod_name(p->sigmethod)) != NULL;
	ok = ok && (hosts = cJSON_AddArrayToObject(o, "hosts")) != NULL;
	for (i = 0; ok && i < p->nhosts && i < TBA_HOSTS_MAX; i++)
		ok = cJSON_AddItemToArray(hosts, cJSON_CreateString(p->hosts[i]));
	if (!ok) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

/* Adds a key ID as 32 lower-case hex digits. */
static int
prof_add_id(cJSON *o, const char *key, const unsigned char *id)
{
	static const char hexdig[] = "0123456789abcdef";
	char hex[TBA_KEY_ID_LEN * 2 + 1];
	size_t i;

	for (i = 0; i < TBA_KEY_ID_LEN; i++) {
		hex[2 * i] = hexdig[id[i] >> 4];
		hex[2 * i + 1] = hexdig[id[i] & 0x0f];
	}
	hex[2 * TBA_KEY_ID_LEN] = '\0';
	return cJSON_AddStringToObject(o, key, hex) != NULL;
}

/* The fields only one kind has: HMAC for netsuite/oauth1, key pair and certificate for m2m. */
static int
prof_add_kind_fields(cJSON *o, const struct tba_profile *p)
{
	if (p->kind != TBA_KIND_M2M)
		return cJSON_AddStringToObject(o, "consumer_key", p->consumer_key) != NULL &&
		    cJSON_AddStringToObject(o, "token_id", p->token_id) != NULL &&
		    cJSON_AddStringToObject(
			o, "signature_method", tba_sigmethod_name(p->sigmethod)) != NULL;
	return cJSON_AddStringToObject(o, "client_id", p->client_id) != NULL &&
	    cJSON_AddStringToObject(o, "alg", tba_jwt_alg_name(p->alg)) != NULL &&
	    cJSON_AddStringToObject(o, "scope", p->scope) != NULL &&
	    cJSON_AddStringToObject(o, "cert_id", p->cert_id) != NULL &&
	    cJSON_AddNumberToObject(o, "not_after", (double)p->not_after) != NULL &&
	    (!p->has_next ||
		(prof_add_id(o, "next_key_id", p->next_key_id) &&
		    cJSON_AddNumberToObject(o, "next_not_after", (double)p->next_not_after) !=
			NULL));
}

tba_err
tba_profile_to_json(const struct tba_profile *p, char **out)
{
	cJSON *o = NULL, *hosts = NULL;
	char *s = NULL;
	size_t i;
	tba_err r;

	*out = NULL;
	if (!tba_profile_name_ok(p->name))
		return tba_seterr(TBA_ERR_INVALID, "bad profile name");
	if (p->nhosts > TBA_HOSTS_MAX)
		return tba_seterr(TBA_ERR_INVALID, "too many hosts");
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddNumberToObject(o, "v", PROFILE_JSON_VERSION) == NULL ||
	    cJSON_AddStringToObject(o, "name", p->name) == NULL ||
	    cJSON_AddStringToObject(o, "kind", tba_kind_name(p->kind)) == NULL ||
	    cJSON_AddStringToObject(o, "account", p->account) == NULL ||
	    cJSON_AddStringToObject(o, "realm", p->realm) == NULL || !prof_add_kind_fields(o, p) ||
	    (hosts = cJSON_AddArrayToObject(o, "hosts")) == NULL) {
		r = tba_nomem();
		goto out;
	}
	for (i = 0; i < p->nhosts; i++) {
		if (!cJSON_AddItemToArray(hosts, cJSON_CreateString(p->hosts[i]))) {
			r = tba_nomem();
			goto out;
		}
	}
	if (cJSON_AddNumberToObject(o, "created", (double)p->created) == NULL ||
	    !prof_add_id(o, "key_id", p->key_id) || (s = cJSON_PrintUnformatted(o)) == NULL) {
		r = tba_nomem();
		goto out;
	}
	if (strlen(s) > TBA_META_MAX) {
		r = tba_seterr(
		    TBA_ERR_TOO_LARGE, "profile metadata exceeds %d bytes", TBA_META_MAX);
		goto out;
	}
	*out = s;
	s = NULL;
	r = TBA_OK;
out:
	cJSON_free(s);
	cJSON_Delete(o);
	return r;
}

/* Copies string field `key` into dst (dstsz includes the NUL); required fields must exist. */
static tba_err
prof_get_str(const cJSON *o, const char *key, char *dst, size_t dstsz, int required)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	size_t n;

	dst[0] = '\0';
	if (it == NULL) {
		if (required)
			return tba_seterr(TBA_ERR_INVALID, "profile metadata has no \"%s\"", key);
		return TBA_OK;
	}
	if (!cJSON_IsString(it) || it->valuestring == NULL)
		return tba_seterr(TBA_ERR_INVALID, "profile metadata: \"%s\" is not a string", key);
	n = strlen(it->valuestring);
	if (n >= dstsz)
		return tba_seterr(TBA_ERR_INVALID, "profile metadata: \"%s\" longer than %zu bytes",
		    key, dstsz - 1);
	memcpy(dst, it->valuestring, n + 1);
	return TBA_OK;
}

/* A Unix time in seconds: an integral number from 0 to 2^53. */
static tba_err
prof_get_time(const cJSON *o, const char *key, int64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = 0;
	if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 9007199254740992.0 ||
	    (double)(int64_t)it->valuedouble != it->valuedouble)
		return tba_seterr(TBA_ERR_INVALID, "profile metadata: \"%s\" is not a time", key);
	*out = (int64_t)it->valuedouble;
	return TBA_OK;
}

/* A key ID: exactly 32 hex digits. */
static tba_err
prof_get_id(const cJSON *o, const char *key, unsigned char *id)
{
	char tmp[TBA_KEY_ID_LEN * 2 + 2];
	size_t i;
	int hi, lo;
	tba_err r;

	if ((r = prof_get_str(o, key, tmp, sizeof(tmp), 1)) != TBA_OK)
		return r;
	if (strlen(tmp) != TBA_KEY_ID_LEN * 2)
		return tba_seterr(TBA_ERR_INVALID, "profile metadata: \"%s\" is not %d hex digits",
		    key, TBA_KEY_ID_LEN * 2);
	for (i = 0; i < TBA_KEY_ID_LEN; i++) {
		hi = tba_hexval((unsigned char)tmp[2 * i]);
		lo = tba_hexval((unsigned char)tmp[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return tba_seterr(
			    TBA_ERR_INVALID, "profile metadata: \"%s\" is not hex", key);
		id[i] = (unsigned char)(hi << 4 | lo);
	}
	return TBA_OK;
}

/*
 * cJSON keeps every member and lookups find the first, so a second "hosts"
 * or "v" would be silently ignored by us but perhaps not by another reader:
 * known fields must appear once.
 */
static tba_err
prof_no_duplicates(const cJSON *o)
{
	static const char *const known[] = {"v", "name", "kind", "account", "realm", "consumer_key",
	    "token_id", "signature_method", "hosts", "created", "key_id", "client_id", "alg",
	    "scope", "cert_id", "not_after", "next_key_id", "next_not_after"};
	const cJSON *it;
	size_t i;
	int n;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		n = 0;
		cJSON_ArrayForEach(it, o)
		{
			if (it->string != NULL && strcmp(it->string, known[i]) == 0)
				n++;
		}
		if (n > 1)
			return tba_seterr(
			    TBA_ERR_INVALID, "profile metadata has \"%s\" twice", known[i]);
	}
	return TBA_OK;
}

/* netsuite and oauth1: the HMAC profile's fields. */
static tba_err
prof_parse_oauth1(const cJSON *o, struct tba_profile *p)
{
	char tmp[TBA_FIELD_MAX + 1];
	tba_err r;

	if ((r = prof_get_str(o, "consumer_key", p->consumer_key, sizeof(p->consumer_key), 1)) !=
		TBA_OK ||
	    (r = prof_get_str(o, "token_id", p->token_id, sizeof(p->token_id), 1)) != TBA_OK ||
	    (r = prof_get_str(o, "signature_method", tmp, sizeof(tmp), 1)) != TBA_OK ||
	    (r = tba_sigmethod_parse(tmp, &p->sigmethod)) != TBA_OK)
		return r;
	if (p->consumer_key[0] == '\0' || p->token_id[0] == '\0')
		return tba_seterr(TBA_ERR_INVALID,
		    "profile metadata has an empty consumer key or "
		    "token ID");
	return TBA_OK;
}

/* m2m: client ID, algorithm, scope, certificate, a pending rotation. */
static tba_err
prof_parse_m2m(const cJSON *o, struct tba_profile *p)
{
	char tmp[TBA_FIELD_MAX + 1];
	tba_err r;

	if ((r = prof_get_str(o, "client_id", p->client_id, sizeof(p->client_id), 1)) != TBA_OK ||
	    (r = prof_get_str(o, "alg", tmp, sizeof(tmp), 1)) != TBA_OK ||
	    (r = tba_jwt_alg_parse(tmp, &p->alg)) != TBA_OK ||
	    (r = prof_get_str(o, "scope", tmp, sizeof(tmp), 1)) != TBA_OK ||
	    (r = tba_m2m_scope_norm(tmp, p->scope, sizeof(p->scope))) != TBA_OK ||
	    (r = prof_get_str(o, "cert_id", p->cert_id, sizeof(p->cert_id), 0)) != TBA_OK ||
	    (r = prof_get_time(o, "not_after", &p->not_after)) != TBA_OK)
		return r;
	if (!tba_m2m_id_ok(p->client_id))
		return tba_seterr(TBA_ERR_INVALID, "profile metadata has a bad client ID");
	if (p->cert_id[0] != '\0' && !tba_m2m_id_ok(p->cert_id))
		return tba_seterr(TBA_ERR_INVALID, "profile metadata has a bad certificate ID");
	if (cJSON_GetObjectItemCaseSensitive(o, "next_key_id") == NULL)
		return TBA_OK;
	if ((r = prof_get_id(o, "next_key_id", p->next_key_id)) != TBA_OK ||
	    (r = prof_get_time(o, "next_not_after", &p->next_not_after)) != TBA_OK)
		return r;
	p->has_next = 1;
	return TBA_OK;
}

tba_err
tba_profile_from_json(const char *json, size_t len, struct tba_profile *out)
{
	struct tba_profile p;
	const cJSON *it, *h;
	cJSON *o = NULL;
	char tmp[TBA_FIELD_MAX + 1];
	const char *end = NULL;
	tba_err r;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	if (len > TBA_META_MAX) {
		r = tba_seterr(
		    TBA_ERR_TOO_LARGE, "profile metadata exceeds %d bytes", TBA_META_MAX);
		goto out;
	}
	if ((o = cJSON_ParseWithLengthOpts(json, len, &end, 0)) == NULL || !cJSON_IsObject(o)) {
		r = tba_seterr(TBA_ERR_INVALID, "profile metadata is not a JSON object");
		goto out;
	}
	/* Trailing bytes other than white space (or a NUL pad) mean a damaged object. */
	for (; end != NULL && end < json + len; end++) {
		if (*end != ' ' && *end != '\n' && *end != '\r' && *end != '\t' && *end != '\0') {
			r = tba_seterr(TBA_ERR_INVALID, "profile metadata has trailing bytes");
			goto out;
		}
	}
	if ((r = prof_no_duplicates(o)) != TBA_OK)
		goto out;
	it = cJSON_GetObjectItemCaseSensitive(o, "v");
	if (!cJSON_IsNumber(it) || it->valuedouble != PROFILE_JSON_VERSION) {
		r = tba_seterr(TBA_ERR_INVALID,
		    "profile metadata version is not %d (made by a newer "
		    "tba?)",
		    PROFILE_JSON_VERSION);
		goto out;
	}
	if ((r = prof_get_str(o, "name", p.name, sizeof(p.name), 1)) != TBA_OK)
		goto out;
	if (!tba_profile_name_ok(p.name)) {
		r = tba_seterr(TBA_ERR_INVALID, "profile metadata has a bad name");
		goto out;
	}
	if ((r = prof_get_str(o, "kind", tmp, sizeof(tmp), 1)) != TBA_OK ||
	    (r = tba_kind_parse(tmp, &p.kind)) != TBA_OK ||
	    (r = prof_get_str(o, "account", p.account, sizeof(p.account), 0)) != TBA_OK ||
	    (r = prof_get_str(o, "realm", p.realm, sizeof(p.realm), 0)) != TBA_OK)
		goto out;
	if (p.kind == TBA_KIND_M2M)
		r = prof_parse_m2m(o, &p);
	else
		r = prof_parse_oauth1(o, &p);
	if (r != TBA_OK)
		goto out;
	if (p.kind != TBA_KIND_OAUTH1 && (r = tba_ns_account_check(p.account)) != TBA_OK)
		goto out;

	h = cJSON_GetObjectItemCaseSensitive(o, "hosts");
	if (!cJSON_IsArray(h)) {
		r = tba_seterr(TBA_ERR_INVALID, "profile metadata: \"hosts\" is not an array");
		goto out;
	}
	if (cJSON_GetArraySize(h) > TBA_HOSTS_MAX) {
		r = tba_seterr(
		    TBA_ERR_TOO_LARGE, "profile metadata has more than %d hosts", TBA_HOSTS_MAX);
		goto out;
	}
	cJSON_ArrayForEach(it, h)
	{
		if (!cJSON_IsString(it) || it->valuestring == NULL) {
			r = tba_seterr(TBA_ERR_INVALID, "profile metadata: a host is not a string");
			goto out;
		}
		if ((r = tba_profile_add_host(&p, it->valuestring)) != TBA_OK)
			goto out;
	}
	if ((r = prof_get_time(o, "created", &p.created)) != TBA_OK ||
	    (r = prof_get_id(o, "key_id", p.key_id)) != TBA_OK)
		goto out;
	*out = p;
	r = TBA_OK;
out:
	cJSON_Delete(o);
	return r;
}
