/* SPDX-License-Identifier: MIT */
/*
 * auth.h - the Authorization header for one request, given the profile:
 * an OAuth 1.0a signature from the agent (Sign) for TBA profiles, or
 * "Bearer ACCESS_TOKEN" (AccessToken) for M2M profiles. Shared by
 * `tba curl` and `tba test` through http_exchange().
 */
#ifndef TBA_CLI_AUTH_H
#define TBA_CLI_AUTH_H

#include <stdint.h>

#include "tba/agentc.h"
#include "tba/err.h"
#include "tba/profile.h"

/* What the agent's List says about one profile (no secret). */
struct auth_profile {
	char name[TBA_NAME_MAX + 1];
	int m2m; /* kind "m2m" */
	char account[TBA_FIELD_MAX + 1];
	char certificate_id[TBA_FIELD_MAX + 1];
	char client_id[TBA_FIELD_MAX + 1];
	int64_t not_after;
	struct tba_profile policy; /* hosts, for tba_policy_check */
};

/*
 * Looks name up in the agent's List (once per process; later calls reuse
 * it). TBA_ERR_NOT_FOUND with a message when the agent has no such profile.
 */
tba_err auth_profile(struct tba_agentc *ac, const char *name, const struct auth_profile **out);

/*
 * The Authorization value (malloc'ed, wiped by auth_free) for method url
 * (normalised) with form (may be NULL) on profile: for an M2M profile the
 * host must be one of its hosts (https, port 443) and renew forces a new
 * access token; otherwise the agent signs it.
 */
tba_err auth_header(struct tba_agentc *ac, const char *profile, const char *method, const char *url,
    const struct tba_params *form, int renew, char **auth);
void auth_free(char *auth);

#endif
