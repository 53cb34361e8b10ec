/* SPDX-License-Identifier: MIT */
/*
 * oauth.h - OAuth 1.0a (RFC 5849) as NetSuite applies it, and the SOAP
 * tokenPassport. Pure code: no device, no socket, no secret (the HMAC is
 * computed by the caller: by the token in the agent, by OpenSSL in tests).
 */
#ifndef TBA_OAUTH_H
#define TBA_OAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "tba/buf.h"
#include "tba/err.h"
#include "tba/url.h"

#define TBA_NONCE_MIN 6
#define TBA_NONCE_MAX 64
#define TBA_NONCE_GEN 24 /* length of nonces the agent generates */
#define TBA_SIG_MAX 64   /* largest MAC (SHA-512) in bytes */

enum tba_sigmethod {
	TBA_SIG_HMAC_SHA256 = 0, /* NetSuite's; the default */
	TBA_SIG_HMAC_SHA1,
	TBA_SIG_HMAC_SHA512,
};

/* "HMAC-SHA256" etc. */
const char *tba_sigmethod_name(enum tba_sigmethod m);
/* Parses the name above (exact, case-sensitive). */
tba_err tba_sigmethod_parse(const char *s, enum tba_sigmethod *out);
size_t tba_sigmethod_digest_len(enum tba_sigmethod m); /* 20, 32, 64 */
size_t tba_sigmethod_block_len(enum tba_sigmethod m);  /* 64, 64, 128 */

/* Everything a signature covers. Strings are borrowed, NUL-terminated. */
struct tba_oauth_req {
	const char *method; /* e.g. "GET"; must be a token of A-Z */
	const struct tba_url *url;
	const struct tba_params *form; /* decoded form-body parameters, or NULL */
	const char *consumer_key;
	const char *token;
	const char *nonce;
	int64_t timestamp; /* Unix seconds, >= 0 */
	enum tba_sigmethod sigmethod;
	const char *realm; /* NULL or "" to omit realm from the header */
};

/*
 * Appends the RFC 5849 §3.4.1 signature base string:
 *   METHOD & enc(base URI) & enc(sorted, encoded params)
 * Params are the URL's query, the form, and the six oauth_* protocol params
 * (oauth_version=1.0); sorted by encoded name, then encoded value.
 */
tba_err tba_oauth_base_string(const struct tba_oauth_req *r, struct tba_buf *out);

/*
 * Appends the Authorization header value:
 *   OAuth realm="R", oauth_consumer_key="..", oauth_token="..",
 *   oauth_signature_method="..", oauth_timestamp="..", oauth_nonce="..",
 *   oauth_version="1.0", oauth_signature="<percent-encoded base64>"
 * sig_b64 is the base64 signature (not yet percent-encoded).
 */
tba_err tba_oauth_header(const struct tba_oauth_req *r, const char *sig_b64, struct tba_buf *out);

/* Appends the tokenPassport base string account&consumerKey&token&nonce&timestamp. */
tba_err tba_passport_base_string(const char *account, const char *consumer_key, const char *token,
    const char *nonce, int64_t timestamp, struct tba_buf *out);

/*
 * Appends a SOAP <tokenPassport> element, values XML-escaped, on one line:
 *   <tokenPassport xmlns="urn:messages_V.platform.webservices.netsuite.com"
 *       xmlns:core="urn:core_V.platform.webservices.netsuite.com">
 *     <core:account>..</core:account><core:consumerKey>..</core:consumerKey>
 *     <core:token>..</core:token><core:nonce>..</core:nonce>
 *     <core:timestamp>..</core:timestamp>
 *     <core:signature algorithm="HMAC-SHA256">..</core:signature></tokenPassport>
 * The element belongs to the messages namespace and its children to core
 * (the TokenPassport type lives in the core XSD), V being the SuiteTalk
 * WSDL version; it must match the version of the endpoint the envelope is
 * posted to. tba_passport_xml uses TBA_PASSPORT_WSDL_VERSION.
 */
#define TBA_PASSPORT_WSDL_VERSION "2024_2"
tba_err tba_passport_xml(const char *account, const char *consumer_key, const char *token,
    const char *nonce, int64_t timestamp, const char *sig_b64, enum tba_sigmethod m,
    struct tba_buf *out);
/* As above for WSDL version wsdl_version ("2024_2": digits and '_', at most 16). */
tba_err tba_passport_xml_v(const char *account, const char *consumer_key, const char *token,
    const char *nonce, int64_t timestamp, const char *sig_b64, enum tba_sigmethod m,
    const char *wsdl_version, struct tba_buf *out);

/* Standard base64 (with padding) of in[0..n), appended to out. */
tba_err tba_base64(const unsigned char *in, size_t n, struct tba_buf *out);

/* 1 when s is a method token: 1..16 chars of A-Z. */
int tba_oauth_method_ok(const char *s);
/* 1 when s is a client-supplied nonce: TBA_NONCE_MIN..TBA_NONCE_MAX chars of A-Za-z0-9. */
int tba_oauth_nonce_ok(const char *s);
/* Fills out[0..n) with random A-Za-z0-9 from the CSPRNG (RAND_bytes, unbiased) and a NUL at out[n]. */
tba_err tba_oauth_nonce_new(char *out, size_t n);

#endif
