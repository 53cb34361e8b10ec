/* SPDX-License-Identifier: MIT */
/*
 * token.c - the token through p11-kit: URI, module, slot, PIN, login, and
 * the helpers token_obj.c (profiles) and token_session.c (signing) share.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tba/log.h"
#include "tba/mem.h"
#include "tba/tty.h"
#include "token_int.h"

tba_err
tba_token_rv(CK_RV rv, const char *what)
{
	tba_err r;

	switch (rv) {
	case CKR_OK:
		return TBA_OK;
	case CKR_HOST_MEMORY:
		r = TBA_ERR_NOMEM;
		break;
	case CKR_DEVICE_REMOVED:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_CRYPTOKI_NOT_INITIALIZED:
	case CKR_DEVICE_ERROR:
	case CKR_GENERAL_ERROR:
		r = TBA_ERR_TOKEN_GONE;
		break;
	case CKR_USER_NOT_LOGGED_IN:
		r = TBA_ERR_LOCKED;
		break;
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
		r = TBA_ERR_PIN_INCORRECT;
		break;
	case CKR_PIN_LOCKED:
		r = TBA_ERR_PIN_LOCKED;
		break;
	default:
		r = TBA_ERR_TOKEN;
		break;
	}
	return tba_seterr(r, "%s: %s", what, p11_kit_strerror(rv));
}

/* "pkcs11:token=..." for messages: the URI's token and slot part only (never its PIN). */
static void
token_describe(P11KitUri *uri, char *out, size_t outsz)
{
	P11KitUri *u = p11_kit_uri_new();
	char *s = NULL;

	snprintf(out, outsz, "the URI");
	if (u == NULL)
		return;
	memcpy(
	    p11_kit_uri_get_token_info(u), p11_kit_uri_get_token_info(uri), sizeof(CK_TOKEN_INFO));
	if (p11_kit_uri_format(u, P11_KIT_URI_FOR_TOKEN, &s) == P11_KIT_URI_OK && s != NULL)
		snprintf(out, outsz, "%s", s);
	free(s);
	p11_kit_uri_free(u);
}

static tba_err
token_parse_uri(const char *s, P11KitUri **out)
{
	P11KitUri *uri = NULL;
	const char *name, *path;
	int pr;
	tba_err r;

	*out = NULL;
	if ((uri = p11_kit_uri_new()) == NULL)
		return tba_nomem();
	pr = p11_kit_uri_parse(s,
	    P11_KIT_URI_FOR_TOKEN | P11_KIT_URI_FOR_SLOT | P11_KIT_URI_FOR_MODULE_WITH_VERSION,
	    uri);
	if (pr != P11_KIT_URI_OK) {
		r = tba_seterr(TBA_ERR_USAGE,
		    "bad token URI: %s (want e.g. "
		    "pkcs11:token=LABEL?module-name=softhsm2&pin-source=file:/path)",
		    p11_kit_uri_message(pr));
		goto out;
	}
	if (p11_kit_uri_any_unrecognized(uri)) {
		r = tba_seterr(TBA_ERR_USAGE,
		    "the token URI has attributes tba does not know; "
		    "it takes token=, manufacturer=, serial=, model=, slot-id= and "
		    "module-name=, module-path=, pin-source=, pin-value=");
		goto out;
	}
	name = p11_kit_uri_get_module_name(uri);
	path = p11_kit_uri_get_module_path(uri);
	if (name == NULL && path == NULL) {
		r = tba_seterr(TBA_ERR_USAGE,
		    "the token URI names no module; "
		    "name a module with module-name= or module-path=");
		goto out;
	}
	if (name != NULL && path != NULL) {
		r = tba_seterr(TBA_ERR_USAGE,
		    "the token URI has both module-name= and "
		    "module-path=; give one");
		goto out;
	}
	if (path != NULL && path[0] != '/') {
		r = tba_seterr(TBA_ERR_USAGE, "module-path= must be an absolute path");
		goto out;
	}
	if (p11_kit_uri_get_pin_value(uri) != NULL && p11_kit_uri_get_pin_source(uri) != NULL) {
		r = tba_seterr(TBA_ERR_USAGE,
		    "the token URI has both pin-value= and "
		    "pin-source=; give one");
		goto out;
	}
	*out = uri;
	uri = NULL;
	r = TBA_OK;
out:
	p11_kit_uri_free(uri);
	return r;
}

/*
 * Loads the module in p11-kit's managed mode (thread-safe, sessions tracked
 * per caller) and initializes it. module-name= goes through the registry
 * (the other configured modules are loaded but never initialized).
 */
static tba_err
token_load(struct tba_token *t)
{
	const char *name = p11_kit_uri_get_module_name(t->uri);
	const char *path = p11_kit_uri_get_module_path(t->uri);
	const char *msg;
	CK_RV rv;

	if (path != NULL) {
		t->mod = p11_kit_module_load(path, P11_KIT_MODULE_CRITICAL);
		if (t->mod == NULL) {
			msg = p11_kit_message();
			return tba_seterr(TBA_ERR_MODULE, "cannot load PKCS#11 module %s: %s", path,
			    msg != NULL ? msg : "unknown error");
		}
	} else {
		t->registry = p11_kit_modules_load(NULL, 0);
		if (t->registry != NULL)
			t->mod = p11_kit_module_for_name(t->registry, name);
		if (t->mod == NULL)
			return tba_seterr(TBA_ERR_MODULE,
			    "no PKCS#11 module named '%s' in "
			    "p11-kit's registry (see 'p11-kit list-modules', or use module-path=)",
			    name);
	}
	rv = p11_kit_module_initialize(t->mod);
	if (rv != CKR_OK)
		return tba_seterr(TBA_ERR_MODULE, "cannot initialize the PKCS#11 module: %s",
		    p11_kit_strerror(rv));
	t->initialized = 1;
	return TBA_OK;
}

/* The one slot whose slot and token info match the URI. */
static tba_err
token_find_slot(struct tba_token *t)
{
	CK_SLOT_ID *slots = NULL, want = p11_kit_uri_get_slot_id(t->uri);
	CK_ULONG n = 0, i, nmatch = 0;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	char what[512], seen[256] = "", *lab = NULL;
	size_t used = 0;
	CK_RV rv;
	tba_err r;

	if ((rv = t->mod->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK)
		return tba_token_rv(rv, "cannot list the module's slots");
	if (n > 0 && (slots = calloc(n, sizeof(*slots))) == NULL)
		return tba_nomem();
	if (n > 0 && (rv = t->mod->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK) {
		r = tba_token_rv(rv, "cannot list the module's slots");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (t->mod->C_GetSlotInfo(slots[i], &si) != CKR_OK ||
		    t->mod->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (!(ti.flags & CKF_TOKEN_INITIALIZED))
			continue;
		lab = p11_kit_space_strdup(ti.label, sizeof(ti.label));
		if (lab != NULL && used < sizeof(seen) - 1) {
			int k = snprintf(
			    seen + used, sizeof(seen) - used, "%s'%s'", used > 0 ? ", " : "", lab);
			used = k > 0 && (size_t)k < sizeof(seen) - used ? used + (size_t)k
									: sizeof(seen) - 1;
		}
		if ((want == (CK_SLOT_ID)-1 || want == slots[i]) &&
		    p11_kit_uri_match_slot_info(t->uri, &si) &&
		    p11_kit_uri_match_token_info(t->uri, &ti)) {
			if (nmatch++ == 0) {
				t->slot = slots[i];
				snprintf(t->label, sizeof(t->label), "%s", lab != NULL ? lab : "");
			}
		}
		free(lab);
		lab = NULL;
	}
	token_describe(t->uri, what, sizeof(what));
	if (nmatch == 0) {
		r = tba_seterr(TBA_ERR_NO_TOKEN,
		    "no token matches %s (tokens in this module: %s); "
		    "check token= against 'p11-kit list-modules'",
		    what, used > 0 ? seen : "none");
		goto out;
	}
	if (nmatch > 1) {
		r = tba_seterr(TBA_ERR_NO_TOKEN,
		    "%lu tokens match %s; add serial= or model= "
		    "to the URI to pick one (see 'p11-kit list-modules')",
		    (unsigned long)nmatch, what);
		goto out;
	}
	r = TBA_OK;
out:
	free(slots);
	return r;
}

tba_err
tba_token_open(const char *uri, struct tba_token **out)
{
	struct tba_token *t = NULL;
	tba_err r;

	*out = NULL;
	if (uri == NULL || uri[0] == '\0')
		return tba_seterr(TBA_ERR_USAGE,
		    "name the token with --token or TBA_TOKEN "
		    "(e.g. pkcs11:token=LABEL?module-name=softhsm2&pin-source=file:/path)");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return tba_nomem();
	pthread_mutex_init(&t->mu, NULL);
	if ((r = token_parse_uri(uri, &t->uri)) != TBA_OK || (r = token_load(t)) != TBA_OK ||
	    (r = token_find_slot(t)) != TBA_OK)
		goto out;
	*out = t;
	t = NULL;
	r = TBA_OK;
out:
	tba_token_close(t);
	return r;
}

void
tba_token_close(struct tba_token *t)
{
	if (t == NULL)
		return;
	if (t->have_mgmt)
		(void)t->mod->C_CloseSession(t->mgmt);
	if (t->initialized)
		(void)p11_kit_module_finalize(t->mod);
	if (t->registry != NULL)
		p11_kit_modules_release(t->registry);
	else if (t->mod != NULL)
		p11_kit_module_release(t->mod);
	if (t->uri != NULL) {
		/* p11-kit frees without wiping; at least drop our reference early. */
		p11_kit_uri_set_pin_value(t->uri, NULL);
		p11_kit_uri_free(t->uri);
	}
	pthread_mutex_destroy(&t->mu);
	free(t);
}

const char *
tba_token_label(const struct tba_token *t)
{
	return t->label;
}

static tba_err
token_pin_file(const char *src, char **pin, size_t *pinlen, size_t *pincap)
{
	const char *path = src;
	struct stat st;
	int fd;
	tba_err r;

	if (strncmp(path, "file://", 7) == 0 && path[7] == '/')
		path += 7;
	else if (strncmp(path, "file:", 5) == 0)
		path += 5;
	if (path[0] == '\0')
		return tba_seterr(TBA_ERR_USAGE, "pin-source= names no file");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return tba_seterr(
		    TBA_ERR_IO, "cannot open the PIN file %s: %s", path, strerror(errno));
	/* As ssh does for private keys: say so, a PIN file for all to read is a PIN for all. */
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
		tba_warn("warning: the PIN file %s is accessible to others (mode %04o): "
			 "chmod 600 it",
		    path, (unsigned)(st.st_mode & 07777));
	r = tba_fd_read_secret(fd, pin, pinlen, pincap);
	close(fd);
	if (r == TBA_ERR_NOT_FOUND)
		return tba_seterr(TBA_ERR_INVALID, "the PIN file %s is empty", path);
	if (r != TBA_OK)
		return tba_seterr(r, "cannot read the PIN file %s", path);
	return TBA_OK;
}

tba_err
tba_token_get_pin(struct tba_token *t, char **pin, size_t *pinlen, size_t *pincap)
{
	const char *val = p11_kit_uri_get_pin_value(t->uri);
	const char *src = p11_kit_uri_get_pin_source(t->uri);
	char prompt[96], *p = NULL;
	size_t len = 0, cap = 0;
	tba_err r;

	*pin = NULL;
	*pinlen = 0;
	*pincap = 0;
	if (val != NULL) {
		len = strlen(val);
		if (len > TBA_SECRET_MAX)
			return tba_seterr(TBA_ERR_TOO_LARGE, "pin-value= is too long");
		cap = len + 1;
		if ((p = tba_secalloc(cap)) == NULL)
			return tba_nomem();
		memcpy(p, val, len);
		r = TBA_OK;
	} else if (src != NULL) {
		r = token_pin_file(src, &p, &len, &cap);
	} else {
		snprintf(prompt, sizeof(prompt), "PIN for token %s: ", t->label);
		r = tba_tty_read_secret(prompt, &p, &len, &cap);
		if (r == TBA_ERR_IO)
			r = tba_seterr(TBA_ERR_USAGE,
			    "the token URI gives no PIN and there is "
			    "no terminal to ask on; add pin-source=file:PATH to the URI");
	}
	if (r == TBA_OK && len == 0)
		r = tba_seterr(TBA_ERR_INVALID, "the PIN is empty");
	if (r != TBA_OK) {
		tba_secfree(p, cap);
		return r;
	}
	*pin = p;
	*pinlen = len;
	*pincap = cap;
	return TBA_OK;
}

tba_err
tba_token_mgmt(struct tba_token *t, CK_SESSION_HANDLE *out)
{
	CK_RV rv;

	if (!t->have_mgmt) {
		rv = t->mod->C_OpenSession(
		    t->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &t->mgmt);
		if (rv != CKR_OK)
			return tba_token_rv(rv, "cannot open a session with the token");
		t->have_mgmt = 1;
	}
	*out = t->mgmt;
	return TBA_OK;
}

/*
 * The login belongs to the application, not the session: it lasts while any
 * session is open, and the management session stays open until close.
 */
tba_err
tba_token_login(struct tba_token *t, const char *pin, size_t pinlen)
{
	CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv;
	tba_err r;

	pthread_mutex_lock(&t->mu);
	if ((r = tba_token_mgmt(t, &h)) != TBA_OK)
		goto out;
	rv = t->mod->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)pinlen);
	if (rv == CKR_USER_ALREADY_LOGGED_IN)
		rv = CKR_OK;
	r = tba_token_rv(rv, "cannot log in");
	if (r == TBA_ERR_PIN_INCORRECT)
		r = tba_seterr(r,
		    "wrong PIN for token %s; not retried (tokens lock after a "
		    "few failures)",
		    t->label);
	else if (r == TBA_ERR_PIN_LOCKED)
		r = tba_seterr(
		    r, "the PIN of token %s is locked; unlock it with the SO PIN", t->label);
out:
	pthread_mutex_unlock(&t->mu);
	return r;
}

tba_err
tba_token_logout(struct tba_token *t)
{
	CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv;
	tba_err r;

	pthread_mutex_lock(&t->mu);
	if ((r = tba_token_mgmt(t, &h)) != TBA_OK)
		goto out;
	rv = t->mod->C_Logout(h);
	if (rv == CKR_USER_NOT_LOGGED_IN)
		rv = CKR_OK;
	r = tba_token_rv(rv, "cannot log out");
out:
	pthread_mutex_unlock(&t->mu);
	return r;
}

tba_err
tba_token_reinit(struct tba_token *t)
{
	CK_RV rv;
	tba_err r;

	pthread_mutex_lock(&t->mu);
	t->gen++;
	if (t->have_mgmt)
		(void)t->mod->C_CloseSession(t->mgmt);
	t->have_mgmt = 0;
	if (t->initialized)
		(void)p11_kit_module_finalize(t->mod);
	t->initialized = 0;
	if ((rv = p11_kit_module_initialize(t->mod)) != CKR_OK) {
		r = tba_token_rv(rv, "cannot initialize the PKCS#11 module again");
		goto out;
	}
	t->initialized = 1;
	r = token_find_slot(t);
out:
	pthread_mutex_unlock(&t->mu);
	return r;
}

CK_MECHANISM_TYPE
tba_token_mech(enum tba_sigmethod m)
{
	switch (m) {
	case TBA_SIG_HMAC_SHA1:
		return CKM_SHA_1_HMAC;
	case TBA_SIG_HMAC_SHA512:
		return CKM_SHA512_HMAC;
	case TBA_SIG_HMAC_SHA256:
		break;
	}
	return CKM_SHA256_HMAC;
}

CK_KEY_TYPE
tba_token_keytype(enum tba_sigmethod m)
{
	switch (m) {
	case TBA_SIG_HMAC_SHA1:
		return CKK_SHA_1_HMAC;
	case TBA_SIG_HMAC_SHA512:
		return CKK_SHA512_HMAC;
	case TBA_SIG_HMAC_SHA256:
		break;
	}
	return CKK_SHA256_HMAC;
}

tba_err
tba_token_find(CK_FUNCTION_LIST *mod, CK_SESSION_HANDLE h, CK_ATTRIBUTE *tmpl, CK_ULONG ntmpl,
    CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *n)
{
	CK_OBJECT_HANDLE extra;
	CK_ULONG got = 0, more = 0;
	CK_RV rv;
	tba_err r;

	*n = 0;
	if ((rv = mod->C_FindObjectsInit(h, tmpl, ntmpl)) != CKR_OK)
		return tba_token_rv(rv, "cannot search the token");
	if ((rv = mod->C_FindObjects(h, out, max, &got)) != CKR_OK) {
		r = tba_token_rv(rv, "cannot search the token");
		goto out;
	}
	/* Count the rest so callers can tell "exactly one" from "several". */
	while (got == max) {
		if ((rv = mod->C_FindObjects(h, &extra, 1, &more)) != CKR_OK) {
			r = tba_token_rv(rv, "cannot search the token");
			goto out;
		}
		if (more == 0)
			break;
		got++;
		max = got;
	}
	*n = got;
	r = TBA_OK;
out:
	(void)mod->C_FindObjectsFinal(h);
	return r;
}

tba_err
tba_token_mac(CK_FUNCTION_LIST *mod, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k, enum tba_sigmethod m,
    const void *msg, size_t msglen, unsigned char *mac, size_t *maclen)
{
	CK_MECHANISM mech = {tba_token_mech(m), NULL, 0};
	CK_ULONG len = TBA_SIG_MAX;
	CK_RV rv;

	*maclen = 0;
	if ((rv = mod->C_SignInit(h, &mech, k)) != CKR_OK)
		return tba_token_rv(rv, "the token cannot start an HMAC");
	if ((rv = mod->C_Sign(h, (CK_BYTE_PTR)msg, (CK_ULONG)msglen, mac, &len)) != CKR_OK)
		return tba_token_rv(rv, "the token cannot compute the HMAC");
	if (len != tba_sigmethod_digest_len(m))
		return tba_seterr(TBA_ERR_TOKEN, "the token returned a %lu-byte HMAC, want %zu",
		    (unsigned long)len, tba_sigmethod_digest_len(m));
	*maclen = len;
	return TBA_OK;
}
