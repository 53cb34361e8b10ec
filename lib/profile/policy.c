/* SPDX-License-Identifier: MIT */
/* policy.c - the checks every request passes before the agent signs it. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tba/oauth.h"
#include "tba/policy.h"

/* "a, b, c" into a fixed buffer, cut with "..." when it does not fit. */
static void
policy_hosts_list(const struct tba_profile *p, char *buf, size_t bufsz)
{
	size_t i, off = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < p->nhosts; i++) {
		n = snprintf(buf + off, bufsz - off, "%s%s", i ? ", " : "", p->hosts[i]);
		if (n < 0 || (size_t)n >= bufsz - off) {
			if (bufsz >= 4)
				memcpy(buf + bufsz - 4, "...", 4);
			return;
		}
		off += (size_t)n;
	}
	if (p->nhosts == 0)
		snprintf(buf, bufsz, "none");
}

tba_err
tba_policy_check(const struct tba_profile *p, const char *method, const struct tba_url *u)
{
	char list[320];
	size_t i;

	if (!tba_oauth_method_ok(method))
		return tba_seterr(TBA_ERR_POLICY,
		    "method \"%.20s\" is not allowed for profile %s: "
		    "use an upper-case HTTP method such as GET or POST",
		    method != NULL ? method : "", p->name);
	if (u->scheme == NULL || strcmp(u->scheme, "https") != 0)
		return tba_seterr(TBA_ERR_POLICY,
		    "scheme %s is not allowed for profile %s: use https",
		    u->scheme != NULL ? u->scheme : "(none)", p->name);
	if (u->had_userinfo)
		return tba_seterr(TBA_ERR_POLICY,
		    "URLs with user information (user@host) are not "
		    "allowed for profile %s: remove the part before '@'",
		    p->name);
	if (u->port != 0 && u->port != 443)
		return tba_seterr(TBA_ERR_POLICY, "port %u is not allowed for profile %s: only 443",
		    u->port, p->name);
	for (i = 0; u->host != NULL && i < p->nhosts; i++) {
		/* Both sides are lower-case already; strcasecmp keeps that from mattering. */
		if (strcasecmp(p->hosts[i], u->host) == 0)
			return tba_policy_check_params(&u->query_params);
	}
	policy_hosts_list(p, list, sizeof(list));
	return tba_seterr(TBA_ERR_POLICY, "host %.100s is not allowed for profile %s (allowed: %s)",
	    u->host != NULL ? u->host : "(none)", p->name, list);
}

/*
 * RFC 5849 §3.5.3 lets protocol parameters travel in the query or the body,
 * and a server may read them from there. A client that put its own
 * oauth_timestamp or oauth_nonce into the query would get a signature over
 * values the agent did not choose, so such names are refused outright.
 */
tba_err
tba_policy_check_params(const struct tba_params *params)
{
	size_t i;

	for (i = 0; params != NULL && i < params->n; i++) {
		/* In any letter case: a server may match the names without regard to case. */
		if (strncasecmp(params->v[i].name, "oauth_", 6) == 0)
			return tba_seterr(TBA_ERR_POLICY,
			    "parameter %.40s is not allowed: the agent "
			    "sets the oauth_* parameters itself",
			    params->v[i].name);
	}
	return TBA_OK;
}
