/* SPDX-License-Identifier: MIT */
/*
 * fuzz_profile_json - profile metadata as read from a token's data object.
 *
 * The JSON comes from the token, which anyone holding the PIN may write, so
 * it is outside input to the agent. Invariants: a profile that parses
 * serialises; that JSON parses to the same profile and serialises to the
 * same bytes; its name passes tba_profile_name_ok(); hosts are bounded.
 */
#include "fuzz.h"

#include "tba/profile.h"

static void
same_profile(const struct tba_profile *a, const struct tba_profile *b)
{
	size_t i;

	FUZZ_ASSERT(strcmp(a->name, b->name) == 0, "name");
	FUZZ_ASSERT(a->kind == b->kind, "kind");
	FUZZ_ASSERT(strcmp(a->account, b->account) == 0, "account");
	FUZZ_ASSERT(strcmp(a->realm, b->realm) == 0, "realm");
	FUZZ_ASSERT(strcmp(a->consumer_key, b->consumer_key) == 0, "consumer key");
	FUZZ_ASSERT(strcmp(a->token_id, b->token_id) == 0, "token id");
	FUZZ_ASSERT(a->sigmethod == b->sigmethod, "signature method");
	FUZZ_ASSERT(a->nhosts == b->nhosts, "%zu vs %zu hosts", a->nhosts, b->nhosts);
	for (i = 0; i < a->nhosts; i++)
		FUZZ_ASSERT(strcmp(a->hosts[i], b->hosts[i]) == 0, "host %zu", i);
	FUZZ_ASSERT(a->created == b->created, "created");
	FUZZ_ASSERT(memcmp(a->key_id, b->key_id, sizeof(a->key_id)) == 0, "key id");
	/* M2M fields (zero for the other kinds). */
	FUZZ_ASSERT(strcmp(a->client_id, b->client_id) == 0, "client id");
	FUZZ_ASSERT(a->alg == b->alg, "alg");
	FUZZ_ASSERT(strcmp(a->scope, b->scope) == 0, "scope");
	FUZZ_ASSERT(strcmp(a->cert_id, b->cert_id) == 0, "certificate id");
	FUZZ_ASSERT(a->not_after == b->not_after, "not_after");
	FUZZ_ASSERT(a->has_next == b->has_next, "rotation pending");
	FUZZ_ASSERT(memcmp(a->next_key_id, b->next_key_id, sizeof(a->next_key_id)) == 0 &&
		a->next_not_after == b->next_not_after,
	    "next key");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tba_profile *p, *p2;
	char *j1 = NULL, *j2 = NULL;

	if (size > 2 * TBA_META_MAX)
		return 0;
	/* Heap, not stack: ASan then sees any write past the struct. */
	if ((p = calloc(1, sizeof(*p))) == NULL || (p2 = calloc(1, sizeof(*p2))) == NULL)
		abort();
	if (tba_profile_from_json((const char *)data, size, p) != TBA_OK)
		goto out;
	FUZZ_ASSERT(tba_profile_name_ok(p->name), "name <%s> accepted", p->name);
	FUZZ_ASSERT(p->nhosts <= TBA_HOSTS_MAX, "%zu hosts", p->nhosts);
	FUZZ_ASSERT(memchr(p->account, '\0', sizeof(p->account)) != NULL, "account unterminated");
	FUZZ_ASSERT(tba_profile_to_json(p, &j1) == TBA_OK && j1 != NULL, "serialise");
	FUZZ_ASSERT(strlen(j1) <= TBA_META_MAX, "serialised %zu bytes", strlen(j1));
	FUZZ_ASSERT(tba_profile_from_json(j1, strlen(j1), p2) == TBA_OK, "re-parse <%s>", j1);
	same_profile(p, p2);
	FUZZ_ASSERT(tba_profile_to_json(p2, &j2) == TBA_OK, "serialise 2");
	FUZZ_ASSERT(strcmp(j1, j2) == 0, "<%s> became <%s>", j1, j2);
out:
	free(j1);
	free(j2);
	free(p);
	free(p2);
	return 0;
}
