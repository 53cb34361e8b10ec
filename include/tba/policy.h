/* SPDX-License-Identifier: MIT */
/*
 * policy.h - what the agent checks before it signs: the request's method and
 * URL against the profile's hosts, and that no client-supplied parameter
 * claims an oauth_* name. Pure code.
 */
#ifndef TBA_POLICY_H
#define TBA_POLICY_H

#include "tba/err.h"
#include "tba/oauth.h"
#include "tba/profile.h"
#include "tba/url.h"

/*
 * The policy every request must pass before it is signed: method a token of
 * A-Z, scheme https, no userinfo, host exactly one of p->hosts (no suffix
 * match), port absent or 443. TBA_ERR_POLICY with a message naming the
 * reason otherwise.
 */
tba_err tba_policy_check(const struct tba_profile *p, const char *method, const struct tba_url *u);

/*
 * Refuses query or form parameters named oauth_*: only the agent sets
 * protocol parameters (tba_policy_check applies it to the URL's query).
 */
tba_err tba_policy_check_params(const struct tba_params *params);

#endif
