/* SPDX-License-Identifier: MIT */
/*
 * profile.h - a profile: one set of credentials' non-secret metadata and the
 * NetSuite account rules (the policy that uses it is in policy.h).
 *
 * Pure code. The secret half of a profile is the HMAC key in the token; this
 * struct only names it (key_id = the key object's CKA_ID).
 */
#ifndef TBA_PROFILE_H
#define TBA_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "tba/err.h"
#include "tba/jwt_alg.h"
#include "tba/oauth.h"
#include "tba/url.h"

#define TBA_NAME_MAX 32
#define TBA_FIELD_MAX 256 /* account, realm, consumer key, token ID */
#define TBA_HOST_MAX 253
#define TBA_HOSTS_MAX 16
#define TBA_KEY_ID_LEN 16
#define TBA_META_MAX 8192     /* serialised metadata, bytes */
#define TBA_SCOPE_MAX 64      /* "rest_webservices,restlets,suite_analytics" */
#define TBA_CERT_DAYS_MAX 730 /* NetSuite takes certificates valid for at most 2 years */

/*
 * netsuite and oauth1: OAuth 1.0a HMAC profiles (the key is a CKO_SECRET_KEY).
 * m2m: OAuth 2.0 client credentials; the key is a key pair generated in the
 * token (CKO_PRIVATE_KEY + CKO_PUBLIC_KEY) with a self-signed certificate
 * (CKO_CERTIFICATE), all three sharing one CKA_ID.
 */
enum tba_kind { TBA_KIND_NETSUITE = 0, TBA_KIND_OAUTH1, TBA_KIND_M2M };

struct tba_profile {
	char name[TBA_NAME_MAX + 1];
	enum tba_kind kind;
	char account[TBA_FIELD_MAX + 1]; /* as the user typed it; may be "" for oauth1 */
	char realm[TBA_FIELD_MAX + 1];   /* "" = no realm in the header */
	char consumer_key[TBA_FIELD_MAX + 1];
	char token_id[TBA_FIELD_MAX + 1];
	enum tba_sigmethod sigmethod;
	char hosts[TBA_HOSTS_MAX][TBA_HOST_MAX + 1]; /* lower-case, exact match */
	size_t nhosts;
	int64_t created; /* Unix seconds */
	unsigned char
	    key_id[TBA_KEY_ID_LEN]; /* CKA_ID of the key object (m2m: the current key pair) */

	/*
	 * m2m only (left zero/empty for the other kinds). account, realm and
	 * hosts are set as for netsuite; consumer_key, token_id and sigmethod
	 * are unused. key_id names the current key pair and its certificate.
	 */
	char client_id[TBA_FIELD_MAX + 1]; /* the integration record's client ID (JWT iss) */
	enum tba_jwt_alg alg;
	char scope[TBA_SCOPE_MAX + 1];   /* canonical, comma-joined (tba_m2m_scope_norm) */
	char cert_id[TBA_FIELD_MAX + 1]; /* NetSuite's Certificate ID (JWT kid); "" until cert-id */
	int64_t not_after;               /* current certificate's notAfter, Unix seconds */
	/* A pending rotation (`m2m rotate`): the next key pair and certificate, not yet in use. */
	int has_next;
	unsigned char next_key_id[TBA_KEY_ID_LEN];
	int64_t next_not_after;
};

/* 1 when name matches [A-Za-z0-9._-]{1,32}. */
int tba_profile_name_ok(const char *name);

const char *tba_kind_name(enum tba_kind k); /* "netsuite", "oauth1", "m2m" */
tba_err tba_kind_parse(const char *s, enum tba_kind *out);

/*
 * M2M scopes: a comma-separated list of rest_webservices, restlets,
 * suite_analytics (spaces around items ignored, duplicates dropped, at
 * least one). out (outsz >= TBA_SCOPE_MAX + 1) gets the canonical form: the
 * scopes in that fixed order, joined by ',' (what the JWT's scope claim
 * carries). TBA_ERR_INVALID naming the three otherwise.
 */
tba_err tba_m2m_scope_norm(const char *in, char *out, size_t outsz);

/*
 * An M2M client ID or Certificate ID as NetSuite shows it: 1 to
 * TBA_FIELD_MAX printable ASCII characters without spaces, quotes or
 * backslashes (it goes into JSON and the JWT header).
 */
int tba_m2m_id_ok(const char *s);

/*
 * NetSuite account ID: letters and digits, optionally '_' and letters and
 * digits ("1234567", "1234567_SB1", "TSTDRV1234567"). Anything else is
 * TBA_ERR_INVALID with a message that says what an account ID looks like.
 */
tba_err tba_ns_account_check(const char *account);
/* Realm: the account ID upper-cased. out holds TBA_FIELD_MAX + 1. */
tba_err tba_ns_realm(const char *account, char *out, size_t outsz);
/*
 * Adds the account's three hosts ("<id>.suitetalk.api.netsuite.com",
 * ".restlets.api.", ".app.") with the ID lower-cased and '_' -> '-'.
 */
tba_err tba_ns_add_hosts(struct tba_profile *p);

/* Adds a host (lower-cased; must be a plain DNS name or IP literal, no port). Duplicates ignored. */
tba_err tba_profile_add_host(struct tba_profile *p, const char *host);

/*
 * The profile as the user sees it, the agent's List entry: {"name", "kind",
 * "account", then for netsuite/oauth1 "realm", "signature_method", for m2m
 * "client_id", "alg", "certificate_id", "scope", "not_after", and "hosts":
 * [...]}. tba keys --json adds the token owner's fields. NULL when out of
 * memory; cJSON_Delete().
 */
cJSON *tba_profile_public(const struct tba_profile *p);

/*
 * Serialises the metadata as compact JSON (the CKA_VALUE of the profile's
 * data object); *out is malloc'ed, at most TBA_META_MAX bytes.
 */
tba_err tba_profile_to_json(const struct tba_profile *p, char **out);
/* Parses the above. The name is taken from the JSON and validated; unknown fields ignored. */
tba_err tba_profile_from_json(const char *json, size_t len, struct tba_profile *out);

#endif
