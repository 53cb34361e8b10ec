/* SPDX-License-Identifier: MIT */
/* jwt_alg.c - the six JWS algorithms of M2M profiles: names, sizes, digests. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "tba/jwt_alg.h"

struct alg_info {
	const char *name;
	int ec;
	size_t hash_len;
	size_t ec_size;
	int curve_nid;
	int hash_nid;
};

/* Indexed by enum tba_jwt_alg. */
static const struct alg_info alg_tab[] = {
    {"ES256", 1, 32, 32, NID_X9_62_prime256v1, NID_sha256},
    {"ES384", 1, 48, 48, NID_secp384r1, NID_sha384},
    {"ES512", 1, 64, 66, NID_secp521r1, NID_sha512},
    {"PS256", 0, 32, 0, 0, NID_sha256},
    {"PS384", 0, 48, 0, 0, NID_sha384},
    {"PS512", 0, 64, 0, 0, NID_sha512},
};

#define ALG_N (sizeof(alg_tab) / sizeof(alg_tab[0]))

static const struct alg_info *
alg_get(enum tba_jwt_alg a)
{
	if ((unsigned)a >= ALG_N)
		return &alg_tab[0];
	return &alg_tab[a];
}

const char *
tba_jwt_alg_name(enum tba_jwt_alg a)
{
	if ((unsigned)a >= ALG_N)
		return "unknown";
	return alg_tab[a].name;
}

tba_err
tba_jwt_alg_parse(const char *s, enum tba_jwt_alg *out)
{
	size_t i;

	for (i = 0; s != NULL && i < ALG_N; i++) {
		if (strcmp(s, alg_tab[i].name) == 0) {
			*out = (enum tba_jwt_alg)i;
			return TBA_OK;
		}
	}
	return tba_seterr(TBA_ERR_INVALID,
	    "unknown algorithm \"%.32s\": use ES256, ES384, ES512, "
	    "PS256, PS384 or PS512",
	    s != NULL ? s : "");
}

int
tba_jwt_alg_is_ec(enum tba_jwt_alg a)
{
	return alg_get(a)->ec;
}

size_t
tba_jwt_alg_hash_len(enum tba_jwt_alg a)
{
	return alg_get(a)->hash_len;
}

size_t
tba_jwt_alg_ec_size(enum tba_jwt_alg a)
{
	return alg_get(a)->ec_size;
}

int
tba_jwt_alg_curve_nid(enum tba_jwt_alg a)
{
	return alg_get(a)->curve_nid;
}

int
tba_jwt_alg_hash_nid(enum tba_jwt_alg a)
{
	return alg_get(a)->hash_nid;
}

tba_err
tba_jwt_alg_digest(
    enum tba_jwt_alg a, const void *msg, size_t msglen, unsigned char *out, size_t *outlen)
{
	const EVP_MD *md = EVP_get_digestbynid(alg_get(a)->hash_nid);
	unsigned int n = 0;

	*outlen = 0;
	if (md == NULL || EVP_Digest(msg, msglen, out, &n, md, NULL) != 1 ||
	    n != alg_get(a)->hash_len)
		return tba_seterr(
		    TBA_ERR_CRYPTO, "cannot compute the %s digest", tba_jwt_alg_name(a));
	*outlen = n;
	return TBA_OK;
}
