/* SPDX-License-Identifier: MIT */
/*
 * pubkey.h - a public key as a PKCS#11 token reports it, turned into an
 * OpenSSL EVP_PKEY (for the certificate and for checking signatures).
 *
 * Pure code: the token layer reads the attributes, this parses them, so the
 * parsing is unit-tested and fuzzed without a device.
 */
#ifndef TBA_PUBKEY_H
#define TBA_PUBKEY_H

#include <stddef.h>

#include <openssl/evp.h>

#include "tba/err.h"
#include "tba/jwt_alg.h"

#define TBA_PUBKEY_ATTR_MAX 1024 /* largest CKA_EC_POINT / CKA_MODULUS accepted */

/*
 * An EC public key of alg's curve (ES* only). point is CKA_EC_POINT: the
 * DER OCTET STRING holding the uncompressed point (04 || X || Y), as PKCS#11
 * 2.40 says; the bare point, as some tokens return it, is accepted too. The
 * point must lie on the curve; trailing bytes are refused. *out is the
 * caller's (EVP_PKEY_free). TBA_ERR_INVALID with a message otherwise.
 */
tba_err tba_pubkey_from_ec(
    enum tba_jwt_alg alg, const unsigned char *point, size_t pointlen, EVP_PKEY **out);

/*
 * An RSA public key from CKA_MODULUS and CKA_PUBLIC_EXPONENT (big-endian
 * unsigned). The modulus must be 2048 to 8192 bits and odd, the exponent
 * odd, > 1 and at most 64 bits. *out is the caller's (EVP_PKEY_free).
 */
tba_err tba_pubkey_from_rsa(
    const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen, EVP_PKEY **out);

/*
 * Checks that k fits alg: the right curve for ES*, RSA of at least 2048
 * bits for PS*. TBA_ERR_INVALID naming what was found otherwise.
 */
tba_err tba_pubkey_check(EVP_PKEY *k, enum tba_jwt_alg alg);

#endif
