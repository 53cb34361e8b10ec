/* SPDX-License-Identifier: MIT */
/*
 * fuzz_token_uri - the RFC 7512 token URI as tba reads it (--token,
 * TBA_TOKEN): p11-kit's parser plus tba's own checks in lib/token/token.c
 * (module-name= xor module-path=, an absolute path, pin-value= xor
 * pin-source=), the description used in messages, and the inline PIN.
 *
 * Those functions are static in token.c, so this file includes token.c
 * itself; the archive's copy is then never linked in (every symbol is
 * already defined here). No module is ever loaded.
 *
 * Invariants: an accepted URI names exactly one module, a module path is
 * absolute, at most one PIN source; the description never carries a PIN
 * attribute (no query part); a pin-value= PIN comes back byte for byte.
 */
#include "fuzz.h"

#include "../../lib/token/token.c"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	P11KitUri *uri = NULL;
	struct tba_token t;
	char desc[512], *s, *pin = NULL;
	const char *name, *path, *val;
	size_t pinlen = 0, pincap = 0;

	if (size > 4096 || (s = fuzz_cstr(data, size)) == NULL)
		return 0;
	if (token_parse_uri(s, &uri) != TBA_OK) {
		FUZZ_ASSERT(uri == NULL, "refused URI left an object");
		goto out;
	}
	name = p11_kit_uri_get_module_name(uri);
	path = p11_kit_uri_get_module_path(uri);
	FUZZ_ASSERT((name == NULL) != (path == NULL), "module name and path in <%s>", s);
	FUZZ_ASSERT(path == NULL || path[0] == '/', "relative module path in <%s>", s);
	val = p11_kit_uri_get_pin_value(uri);
	FUZZ_ASSERT(val == NULL || p11_kit_uri_get_pin_source(uri) == NULL, "two PIN sources");

	token_describe(uri, desc, sizeof(desc));
	/* The token part only: no query, so no pin-value=/pin-source=/module. */
	FUZZ_ASSERT(strchr(desc, '?') == NULL, "description <%s> has a query part", desc);

	if (val != NULL) {
		memset(&t, 0, sizeof(t));
		t.uri = uri;
		snprintf(t.label, sizeof(t.label), "fuzz");
		if (tba_token_get_pin(&t, &pin, &pinlen, &pincap) == TBA_OK) {
			FUZZ_ASSERT(pinlen == strlen(val) && memcmp(pin, val, pinlen) == 0 &&
				pin[pinlen] == '\0',
			    "PIN differs from pin-value=");
			tba_secfree(pin, pincap);
		}
	}
out:
	p11_kit_uri_free(uri);
	free(s);
	return 0;
}
