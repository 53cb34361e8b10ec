/* SPDX-License-Identifier: MIT */
/*
 * token_obj.c - profiles in the token: the HMAC key object and the CKO_DATA
 * metadata object that names it by CKA_ID (token.h has the layout).
 *
 * Every lookup goes through the data object's key_id, so a key object that
 * no data object names (left by a crash mid-import) is never used; `import
 * --replace` removes such keys of its label.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "tba/hmac.h"
#include "tba/log.h"
#include "tba/mem.h"
#include "token_int.h"

#define OBJ_MAX 1024 /* most tba objects looked at in one token */

static const char obj_app[] = TOKEN_APP;

/* Reads a data object's CKA_VALUE (at most TBA_META_MAX bytes) as a NUL-terminated string. */
static tba_err
obj_value(struct tba_token *t, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, char **out, size_t *len)
{
	CK_ATTRIBUTE a = {CKA_VALUE, NULL, 0};
	char *v = NULL;
	CK_RV rv;
	tba_err r;

	*out = NULL;
	*len = 0;
	if ((rv = t->mod->C_GetAttributeValue(h, o, &a, 1)) != CKR_OK)
		return tba_token_rv(rv, "cannot read a profile's metadata");
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > TBA_META_MAX)
		return tba_seterr(
		    TBA_ERR_TOO_LARGE, "a profile's metadata is unreadable or too large");
	if ((v = malloc(a.ulValueLen + 1)) == NULL)
		return tba_nomem();
	a.pValue = v;
	if ((rv = t->mod->C_GetAttributeValue(h, o, &a, 1)) != CKR_OK) {
		r = tba_token_rv(rv, "cannot read a profile's metadata");
		goto out;
	}
	v[a.ulValueLen] = '\0';
	*out = v;
	*len = a.ulValueLen;
	v = NULL;
	r = TBA_OK;
out:
	free(v);
	return r;
}

/* The tba data objects, all (name NULL) or those labelled name. */
static tba_err
obj_find_data(struct tba_token *t, CK_SESSION_HANDLE h, const char *name, CK_OBJECT_HANDLE *out,
    CK_ULONG max, CK_ULONG *n)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_APPLICATION, (void *)obj_app, sizeof(obj_app) - 1},
	    {CKA_LABEL, (void *)name, name != NULL ? strlen(name) : 0},
	};

	return tba_token_find(t->mod, h, tmpl, name != NULL ? 4 : 3, out, max, n);
}

/* Reads and parses one data object. */
static tba_err
obj_parse(struct tba_token *t, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, struct tba_profile *p)
{
	char *json = NULL;
	size_t len = 0;
	tba_err r;

	if ((r = obj_value(t, h, o, &json, &len)) != TBA_OK)
		return r;
	r = tba_profile_from_json(json, len, p);
	free(json);
	return r;
}

static int
obj_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tba_profile *)a)->name, ((const struct tba_profile *)b)->name);
}

static tba_err
obj_profiles_locked(struct tba_token *t, CK_SESSION_HANDLE h, struct tba_profile **out, size_t *n)
{
	CK_OBJECT_HANDLE *objs = NULL;
	struct tba_profile *v = NULL;
	CK_ULONG nobj = 0, i;
	size_t nv = 0;
	tba_err r;

	*out = NULL;
	*n = 0;
	if ((objs = calloc(OBJ_MAX, sizeof(*objs))) == NULL)
		return tba_nomem();
	if ((r = obj_find_data(t, h, NULL, objs, OBJ_MAX, &nobj)) != TBA_OK)
		goto out;
	if (nobj > OBJ_MAX)
		tba_warn("token %s holds more than %d tba objects; listing the first %d", t->label,
		    OBJ_MAX, OBJ_MAX);
	if (nobj > OBJ_MAX)
		nobj = OBJ_MAX;
	if (nobj > 0 && (v = calloc(nobj, sizeof(*v))) == NULL) {
		r = tba_nomem();
		goto out;
	}
	for (i = 0; i < nobj; i++) {
		if ((r = obj_parse(t, h, objs[i], &v[nv])) == TBA_OK) {
			nv++;
			continue;
		}
		if (r == TBA_ERR_TOKEN_GONE || r == TBA_ERR_LOCKED || r == TBA_ERR_NOMEM)
			goto out;
		tba_warn("skipping an unreadable profile object in token %s: %s", t->label,
		    tba_errmsg(r));
	}
	if (nv > 1)
		qsort(v, nv, sizeof(*v), obj_cmp);
	*out = v;
	*n = nv;
	v = NULL;
	r = TBA_OK;
out:
	free(v);
	free(objs);
	return r;
}

tba_err
tba_token_profiles(struct tba_token *t, struct tba_profile **out, size_t *n)
{
	CK_SESSION_HANDLE h;
	tba_err r;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&t->mu);
	if ((r = tba_token_mgmt(t, &h)) == TBA_OK)
		r = obj_profiles_locked(t, h, out, n);
	pthread_mutex_unlock(&t->mu);
	return r;
}

/* The data object of profile name: *found 0 when there is none. */
static tba_err
obj_profile_locked(struct tba_token *t, CK_SESSION_HANDLE h, const char *name,
    CK_OBJECT_HANDLE *obj, struct tba_profile *p, int *found)
{
	CK_OBJECT_HANDLE objs[4];
	CK_ULONG n = 0, i;
	tba_err r;

	*found = 0;
	if ((r = obj_find_data(t, h, name, objs, 4, &n)) != TBA_OK)
		return r;
	if (n > 4)
		n = 4;
	for (i = 0; i < n; i++) {
		memset(p, 0, sizeof(*p));
		if ((r = obj_parse(t, h, objs[i], p)) != TBA_OK) {
			if (r == TBA_ERR_TOKEN_GONE || r == TBA_ERR_LOCKED)
				return r;
			continue;
		}
		if (strcmp(p->name, name) != 0)
			continue;
		if (*found)
			return tba_seterr(TBA_ERR_TOKEN,
			    "token %s holds two metadata objects for "
			    "profile %s; run 'tba import %s --replace'",
			    t->label, name, name);
		*found = 1;
		*obj = objs[i];
	}
	if (*found && (r = obj_parse(t, h, *obj, p)) != TBA_OK)
		return r;
	return TBA_OK;
}

tba_err
tba_token_profile(struct tba_token *t, const char *name, struct tba_profile *out)
{
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE o;
	int found = 0;
	tba_err r;

	pthread_mutex_lock(&t->mu);
	if ((r = tba_token_mgmt(t, &h)) == TBA_OK &&
	    (r = obj_profile_locked(t, h, name, &o, out, &found)) == TBA_OK && !found)
		r = tba_seterr(TBA_ERR_NOT_FOUND, "no profile %s in token %s (see 'tba keys')",
		    name, t->label);
	pthread_mutex_unlock(&t->mu);
	return r;
}

/*
 * The token's smallest key for mechanism mech, in bytes. PKCS#11 leaves the
 * unit to the mechanism; SoftHSM says bytes (32 for SHA-256), some tokens
 * bits. A minimum above the block size can only be bits; padding a key with
 * zeros up to the block size never changes its MACs, so erring towards
 * bytes is harmless.
 */
static tba_err
obj_min_len(struct tba_token *t, enum tba_sigmethod m, size_t *out)
{
	CK_MECHANISM_INFO mi;
	size_t block = tba_sigmethod_block_len(m);
	CK_RV rv;

	*out = 0;
	rv = t->mod->C_GetMechanismInfo(t->slot, tba_token_mech(m), &mi);
	if (rv == CKR_MECHANISM_INVALID)
		return tba_seterr(TBA_ERR_TOKEN,
		    "token %s cannot compute %s (no such "
		    "mechanism); pick another --signature-method or token",
		    t->label, tba_sigmethod_name(m));
	if (rv != CKR_OK)
		return tba_token_rv(rv, "cannot ask the token about its HMAC mechanism");
	if (!(mi.flags & CKF_SIGN))
		return tba_seterr(
		    TBA_ERR_TOKEN, "token %s cannot sign with %s", t->label, tba_sigmethod_name(m));
	*out = mi.ulMinKeySize > block ? (mi.ulMinKeySize + 7) / 8 : mi.ulMinKeySize;
	if (*out > block)
		*out = block;
	return TBA_OK;
}

/* Creates the key object; falls back to CKK_GENERIC_SECRET for tokens without the HMAC key types. */
static tba_err
obj_create_key(struct tba_token *t, CK_SESSION_HANDLE h, const struct tba_profile *p,
    const unsigned char *key, size_t keylen, CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = tba_token_keytype(p->sigmethod);
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_KEY_TYPE, &kt, sizeof(kt)},
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &yes, sizeof(yes)},
	    {CKA_SENSITIVE, &yes, sizeof(yes)},
	    {CKA_EXTRACTABLE, &no, sizeof(no)},
	    {CKA_MODIFIABLE, &no, sizeof(no)},
	    {CKA_SIGN, &yes, sizeof(yes)},
	    {CKA_VERIFY, &no, sizeof(no)},
	    {CKA_ENCRYPT, &no, sizeof(no)},
	    {CKA_DECRYPT, &no, sizeof(no)},
	    {CKA_WRAP, &no, sizeof(no)},
	    {CKA_UNWRAP, &no, sizeof(no)},
	    {CKA_DERIVE, &no, sizeof(no)},
	    {CKA_LABEL, (void *)p->name, strlen(p->name)},
	    {CKA_ID, (void *)p->key_id, TBA_KEY_ID_LEN},
	    {CKA_VALUE, (void *)key, keylen},
	};
	CK_BBOOL sens = CK_FALSE, extr = CK_TRUE;
	CK_ATTRIBUTE check[] = {
	    {CKA_SENSITIVE, &sens, sizeof(sens)},
	    {CKA_EXTRACTABLE, &extr, sizeof(extr)},
	};
	CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
	CK_RV rv;

	*out = CK_INVALID_HANDLE;
	rv = t->mod->C_CreateObject(h, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), &k);
	if (rv == CKR_ATTRIBUTE_VALUE_INVALID || rv == CKR_TEMPLATE_INCONSISTENT ||
	    rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_KEY_TYPE_INCONSISTENT) {
		kt = CKK_GENERIC_SECRET;
		rv = t->mod->C_CreateObject(h, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), &k);
	}
	if (rv != CKR_OK)
		return tba_token_rv(rv, "the token refused the key");
	/* Trust, but check: a token that ignored the flags must not keep the key. */
	rv = t->mod->C_GetAttributeValue(h, k, check, 2);
	if (rv != CKR_OK || sens != CK_TRUE || extr != CK_FALSE) {
		(void)t->mod->C_DestroyObject(h, k);
		return tba_seterr(TBA_ERR_TOKEN,
		    "token %s did not keep the key sensitive and "
		    "non-extractable; nothing imported",
		    t->label);
	}
	*out = k;
	return TBA_OK;
}

/* The token's MAC over a test message must equal the software HMAC of the full OAuth key. */
static tba_err
obj_verify(struct tba_token *t, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k,
    const struct tba_profile *p, const unsigned char *oauth_key, size_t keylen)
{
	unsigned char msg[64], hw[TBA_SIG_MAX], sw[TBA_SIG_MAX];
	size_t hwlen = 0, swlen = 0;
	tba_err r;

	memcpy(msg, "tba import check ", 17);
	if (RAND_bytes(msg + 17, (int)sizeof(msg) - 17) != 1)
		return tba_seterr(TBA_ERR_CRYPTO, "no random bytes for the key check");
	if ((r = tba_token_mac(t->mod, h, k, p->sigmethod, msg, sizeof(msg), hw, &hwlen)) !=
		TBA_OK ||
	    (r = tba_hmac_soft(p->sigmethod, oauth_key, keylen, msg, sizeof(msg), sw, &swlen)) !=
		TBA_OK)
		goto out;
	if (hwlen != swlen || CRYPTO_memcmp(hw, sw, swlen) != 0) {
		r = tba_seterr(TBA_ERR_VERIFY,
		    "the token's HMAC differs from the software HMAC "
		    "for profile %s; nothing imported",
		    p->name);
		goto out;
	}
	r = TBA_OK;
out:
	tba_wipe(hw, sizeof(hw));
	tba_wipe(sw, sizeof(sw));
	return r;
}

static tba_err
obj_create_data(struct tba_token *t, CK_SESSION_HANDLE h, const struct tba_profile *p,
    const char *json, CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &yes, sizeof(yes)},
	    {CKA_MODIFIABLE, &yes, sizeof(yes)},
	    {CKA_APPLICATION, (void *)obj_app, sizeof(obj_app) - 1},
	    {CKA_LABEL, (void *)p->name, strlen(p->name)},
	    {CKA_VALUE, (void *)json, strlen(json)},
	};

	return tba_token_rv(t->mod->C_CreateObject(h, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), out),
	    "the token refused the profile's metadata");
}

/*
 * After a replace: destroys the secret keys labelled name that no profile
 * names (the old key, since the metadata now names the new one, and keys
 * orphaned by an interrupted import). A failure here is only a warning: the
 * profile already uses the new key.
 */
static void
obj_sweep_keys(
    struct tba_token *t, CK_SESSION_HANDLE h, const char *name, const unsigned char *keep_id)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_LABEL, (void *)name, strlen(name)},
	};
	CK_OBJECT_HANDLE keys[16];
	unsigned char id[TBA_KEY_ID_LEN];
	CK_ATTRIBUTE a = {CKA_ID, id, sizeof(id)};
	struct tba_profile *all = NULL;
	CK_ULONG n = 0, i;
	size_t nall = 0, j;
	int named;

	if (tba_token_find(t->mod, h, tmpl, 2, keys, 16, &n) != TBA_OK ||
	    obj_profiles_locked(t, h, &all, &nall) != TBA_OK) {
		tba_warn(
		    "could not look for the old key of profile %s in token %s", name, t->label);
		goto out;
	}
	if (n > 16)
		n = 16;
	for (i = 0; i < n; i++) {
		a.ulValueLen = sizeof(id);
		if (t->mod->C_GetAttributeValue(h, keys[i], &a, 1) != CKR_OK ||
		    a.ulValueLen != TBA_KEY_ID_LEN || memcmp(id, keep_id, TBA_KEY_ID_LEN) == 0)
			continue;
		named = 0;
		for (j = 0; j < nall; j++)
			named |= memcmp(all[j].key_id, id, TBA_KEY_ID_LEN) == 0;
		if (named)
			continue;
		if (t->mod->C_DestroyObject(h, keys[i]) != CKR_OK)
			tba_warn("could not remove an old key of profile %s from token %s", name,
			    t->label);
	}
out:
	free(all);
}

/* Destroys every object with CKA_ID id; failures are warnings (the profile no longer names them). */
static void
obj_destroy_id_locked(
    struct tba_token *t, CK_SESSION_HANDLE h, const char *name, const unsigned char *id)
{
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_ID, (void *)id, TBA_KEY_ID_LEN},
	};
	CK_OBJECT_HANDLE objs[8];
	CK_ULONG n = 0, i;
	tba_err r;

	if ((r = tba_token_find(t->mod, h, tmpl, 1, objs, 8, &n)) != TBA_OK) {
		tba_warn(
		    "the old keys of profile %s could not be looked up: %s", name, tba_errmsg(r));
		return;
	}
	for (i = 0; i < n && i < 8; i++) {
		if (t->mod->C_DestroyObject(h, objs[i]) != CKR_OK)
			tba_warn("an old key of profile %s could not be removed", name);
	}
}

tba_err
tba_token_import(struct tba_token *t, struct tba_profile *p, const unsigned char *oauth_key,
    size_t keylen, int replace)
{
	struct tba_profile old;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE olddata = CK_INVALID_HANDLE, k = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE newdata = CK_INVALID_HANDLE;
	unsigned char *equiv = NULL;
	size_t equivlen = 0, minlen = 0;
	char *json = NULL;
	CK_ATTRIBUTE val = {CKA_VALUE, NULL, 0};
	int exists = 0;
	tba_err r;

	memset(&old, 0, sizeof(old));
	pthread_mutex_lock(&t->mu);
	if ((r = tba_token_mgmt(t, &h)) != TBA_OK ||
	    (r = obj_profile_locked(t, h, p->name, &olddata, &old, &exists)) != TBA_OK)
		goto out;
	if (exists && !replace) {
		r = tba_seterr(TBA_ERR_EXISTS,
		    "profile %s exists in token %s; use --replace "
		    "to swap in new credentials",
		    p->name, t->label);
		goto out;
	}
	if (RAND_bytes(p->key_id, TBA_KEY_ID_LEN) != 1) {
		r = tba_seterr(TBA_ERR_CRYPTO, "no random bytes for the key ID");
		goto out;
	}
	p->created = (int64_t)time(NULL);
	if ((r = obj_min_len(t, p->sigmethod, &minlen)) != TBA_OK ||
	    (r = tba_hmac_equiv_key(p->sigmethod, oauth_key, keylen, minlen, &equiv, &equivlen)) !=
		TBA_OK ||
	    (r = obj_create_key(t, h, p, equiv, equivlen, &k)) != TBA_OK ||
	    (r = obj_verify(t, h, k, p, oauth_key, keylen)) != TBA_OK ||
	    (r = tba_profile_to_json(p, &json)) != TBA_OK)
		goto out;
	/* The switch: from here on the profile names the new key. */
	if (exists) {
		val.pValue = json;
		val.ulValueLen = strlen(json);
		if (t->mod->C_SetAttributeValue(h, olddata, &val, 1) != CKR_OK) {
			/* Token refuses in-place updates: new object first, then drop the old. */
			if ((r = obj_create_data(t, h, p, json, &newdata)) != TBA_OK)
				goto out;
			if (t->mod->C_DestroyObject(h, olddata) != CKR_OK)
				tba_warn(
				    "could not remove the old metadata of profile %s", p->name);
		}
	} else if ((r = obj_create_data(t, h, p, json, &newdata)) != TBA_OK) {
		goto out;
	}
	k = CK_INVALID_HANDLE; /* kept */
	if (replace)
		obj_sweep_keys(t, h, p->name, p->key_id);
	/* An M2M profile replaced by TBA credentials: its key pairs and certificates go too. */
	if (exists && old.kind == TBA_KIND_M2M) {
		obj_destroy_id_locked(t, h, p->name, old.key_id);
		if (old.has_next)
			obj_destroy_id_locked(t, h, p->name, old.next_key_id);
	}
	r = TBA_OK;
out:
	if (k != CK_INVALID_HANDLE)
		(void)t->mod->C_DestroyObject(h, k);
	pthread_mutex_unlock(&t->mu);
	tba_secfree(equiv, TBA_HMAC_KEY_MAX);
	free(json);
	return r;
}

tba_err
tba_token_delete(struct tba_token *t, const char *name)
{
	struct tba_profile p;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE data;
	int found = 0;
	CK_RV rv;
	tba_err r;

	memset(&p, 0, sizeof(p));
	pthread_mutex_lock(&t->mu);
	if ((r = tba_token_mgmt(t, &h)) != TBA_OK ||
	    (r = obj_profile_locked(t, h, name, &data, &p, &found)) != TBA_OK)
		goto out;
	if (!found) {
		r = tba_seterr(TBA_ERR_NOT_FOUND, "no profile %s in token %s (see 'tba keys')",
		    name, t->label);
		goto out;
	}
	/* Metadata first: the profile is gone at once; a key left over is never used. */
	if ((rv = t->mod->C_DestroyObject(h, data)) != CKR_OK) {
		r = tba_token_rv(rv, "the token refused to delete the profile");
		goto out;
	}
	/* HMAC key, or key pair and certificate; a pending rotation's too. */
	obj_destroy_id_locked(t, h, name, p.key_id);
	if (p.has_next)
		obj_destroy_id_locked(t, h, name, p.next_key_id);
	r = TBA_OK;
out:
	pthread_mutex_unlock(&t->mu);
	return r;
}

tba_err
tba_token_save(
    struct tba_token *t, const struct tba_profile *p, int replace, struct tba_profile *old)
{
	struct tba_profile prev;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE olddata = CK_INVALID_HANDLE, newdata = CK_INVALID_HANDLE;
	CK_ATTRIBUTE val = {CKA_VALUE, NULL, 0};
	char *json = NULL;
	int exists = 0;
	tba_err r;

	memset(&prev, 0, sizeof(prev));
	if (old != NULL)
		memset(old, 0, sizeof(*old));
	if ((r = tba_profile_to_json(p, &json)) != TBA_OK)
		return r;
	pthread_mutex_lock(&t->mu);
	if ((r = tba_token_mgmt(t, &h)) != TBA_OK ||
	    (r = obj_profile_locked(t, h, p->name, &olddata, &prev, &exists)) != TBA_OK)
		goto out;
	if (exists && !replace) {
		r = tba_seterr(TBA_ERR_EXISTS,
		    "profile %s exists in token %s; use --replace "
		    "to swap in new credentials",
		    p->name, t->label);
		goto out;
	}
	if (!exists) {
		r = obj_create_data(t, h, p, json, &newdata);
		goto out;
	}
	val.pValue = json;
	val.ulValueLen = strlen(json);
	if (t->mod->C_SetAttributeValue(h, olddata, &val, 1) != CKR_OK) {
		/* Token refuses in-place updates: new object first, then drop the old. */
		if ((r = obj_create_data(t, h, p, json, &newdata)) != TBA_OK)
			goto out;
		if (t->mod->C_DestroyObject(h, olddata) != CKR_OK)
			tba_warn("could not remove the old metadata of profile %s", p->name);
	}
	if (old != NULL)
		*old = prev;
	r = TBA_OK;
out:
	pthread_mutex_unlock(&t->mu);
	free(json);
	return r;
}
