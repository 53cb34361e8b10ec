/* SPDX-License-Identifier: MIT */
/*
 * x509.h - the self-signed X.509 v3 certificate of an M2M key pair, built
 * with OpenSSL and signed by the token.
 *
 * The code is pure: the signature comes from a callback (the token in tba,
 * an OpenSSL key in the unit tests), so nothing here touches a device.
 * The certificate is what NetSuite's "OAuth 2.0 Client Credentials (M2M)
 * Setup" takes: subject = issuer = CN=..., a random positive 128-bit serial
 * (top bit cleared), notBefore = now, notAfter = now + days (1 to
 * TBA_CERT_DAYS_MAX), basicConstraints CA:FALSE (critical), keyUsage
 * digitalSignature (critical), subjectKeyIdentifier; signed with
 * ecdsa-with-SHA256/384/512 (ES*) or RSASSA-PSS with SHA-256/384/512, MGF1
 * with the same hash and salt = hash length (PS*).
 */
#ifndef TBA_X509_H
#define TBA_X509_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "tba/err.h"
#include "tba/jwt_alg.h"

#define TBA_CN_MAX 64 /* X.520 ub-common-name */
#define TBA_CERT_DER_MAX 8192

/*
 * Signs msg[0..msglen) the way a JWS of alg is signed (tba_jwt_alg.h: ES* =
 * r||s padded to the curve size, PS* = the PSS signature) and writes at most
 * TBA_JWS_SIG_MAX bytes to sig. Returns TBA_OK or an error with its message
 * set. tba's callback is tba_session_sign_jws().
 */
typedef tba_err (*tba_x509_sign_fn)(
    void *ctx, const unsigned char *msg, size_t msglen, unsigned char *sig, size_t *siglen);

/* 1 when cn is 1 to TBA_CN_MAX printable ASCII characters (0x20..0x7e), not starting with space. */
int tba_x509_cn_ok(const char *cn);

/*
 * Builds the certificate for public key pub (which must fit alg:
 * tba_pubkey_check), subject CN=cn, valid from now for days days, has
 * sign() sign its TBSCertificate, assembles it and verifies the result
 * with X509_verify against pub before handing it out: a callback whose
 * signature does not verify is TBA_ERR_VERIFY. *der (malloc'ed, free()) and
 * *derlen receive the DER; *not_after (may be NULL) the notAfter in Unix
 * seconds.
 */
tba_err tba_x509_selfsigned(EVP_PKEY *pub, enum tba_jwt_alg alg, const char *cn, unsigned days,
    int64_t now, tba_x509_sign_fn sign, void *ctx, unsigned char **der, size_t *derlen,
    int64_t *not_after);

/*
 * The JWS form of an ECDSA signature (r||s, rslen even, each half at most
 * 66 bytes) as the DER ECDSA-Sig-Value a certificate carries. *der is
 * malloc'ed (free()).
 */
tba_err tba_x509_ecdsa_der(
    const unsigned char *rs, size_t rslen, unsigned char **der, size_t *derlen);

/*
 * Reads a DER certificate (at most TBA_CERT_DER_MAX bytes, no trailing
 * bytes): its notAfter in Unix seconds (may be NULL) and the DER of its
 * subject name (may be NULL; malloc'ed, free()).
 */
tba_err tba_x509_info(const unsigned char *der, size_t derlen, int64_t *not_after,
    unsigned char **subject, size_t *subjectlen);

/* The PEM text of a DER certificate ("-----BEGIN CERTIFICATE-----..."), malloc'ed, free(). */
tba_err tba_x509_pem(const unsigned char *der, size_t derlen, char **pem);

#endif
