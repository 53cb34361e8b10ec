/* SPDX-License-Identifier: MIT */
/* test_proto_m2m.c - the AccessToken request and the AuthorizationFailed error on the wire. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tap.h"
#include "tba/proto.h"

static tba_err
parse(const char *msg, struct tba_proto_req *q, enum tba_proto_ename *en)
{
	return tba_proto_parse_request(msg, strlen(msg), q, en);
}

static void
test_request(void)
{
	struct tba_proto_req q;
	enum tba_proto_ename en;

	is_int(parse("{\"method\":\"io.tba.Agent.AccessToken\",\"parameters\":{\"profile\":\"p\"}}",
		   &q, &en),
	    TBA_OK, "AccessToken with a profile");
	ok(q.method == TBA_PM_ACCESS_TOKEN && strcmp(q.profile, "p") == 0 && !q.renew,
	    "method, profile, renew false by default");
	tba_proto_req_free(&q);
	is_int(parse("{\"method\":\"io.tba.Agent.AccessToken\",\"parameters\":{\"profile\":\"p\","
		     "\"renew\":true}}",
		   &q, &en),
	    TBA_OK, "renew true");
	ok(q.renew == 1, "renew read");
	tba_proto_req_free(&q);
	is_int(parse("{\"method\":\"io.tba.Agent.AccessToken\",\"parameters\":{\"profile\":\"p\","
		     "\"renew\":false}}",
		   &q, &en),
	    TBA_OK, "renew false");
	ok(q.renew == 0, "renew false read");
	tba_proto_req_free(&q);
	is_int(parse("{\"method\":\"io.tba.Agent.AccessToken\",\"parameters\":{\"profile\":\"p\","
		     "\"renew\":\"yes\"}}",
		   &q, &en),
	    TBA_ERR_PROTO, "renew as a string refused");
	is_int(en, TBA_PE_INVALID_REQUEST, "as InvalidRequest");
	is_int(parse("{\"method\":\"io.tba.Agent.AccessToken\",\"parameters\":{}}", &q, &en),
	    TBA_ERR_PROTO, "no profile refused");
	is_int(parse("{\"method\":\"io.tba.Agent.AccessToken\",\"parameters\":{\"profile\":\"p\","
		     "\"aud\":\"https://evil/\"}}",
		   &q, &en),
	    TBA_ERR_PROTO, "a client-chosen claim refused");
	is_int(parse("{\"method\":\"io.tba.Agent.Sign\",\"parameters\":{\"profile\":\"p\","
		     "\"method\":\"GET\",\"url\":\"https://a/\",\"renew\":true}}",
		   &q, &en),
	    TBA_ERR_PROTO, "renew belongs to AccessToken only");
}

static void
test_error(void)
{
	struct tba_buf b;
	cJSON *x, *params = NULL;
	enum tba_proto_ename en;
	char *msg = NULL;

	tba_buf_init(&b, TBA_PROTO_MAX);
	x = cJSON_CreateObject();
	cJSON_AddNumberToObject(x, "http_status", 401);
	cJSON_AddStringToObject(x, "error", "invalid_client");
	cJSON_AddStringToObject(x, "message", "must not replace the message");
	is_int(tba_proto_error_params(TBA_PE_AUTHORIZATION_FAILED, "refused\n", x, &b), TBA_OK,
	    "error with parameters");
	ok(b.len > 0 && b.data[b.len - 1] == '\0', "NUL-terminated message");
	is_int(tba_proto_parse_reply(b.data, b.len - 1, &params, &en, &msg), TBA_ERR_REMOTE,
	    "reads back as an error");
	is_int(en, TBA_PE_AUTHORIZATION_FAILED, "AuthorizationFailed");
	is_str(msg, "refused?", "the message, control characters replaced");
	is_str(tba_proto_ename_str(TBA_PE_AUTHORIZATION_FAILED), "io.tba.Agent.AuthorizationFailed",
	    "wire name");
	is_int(tba_proto_ename_for(TBA_ERR_NETWORK), TBA_PE_AUTHORIZATION_FAILED,
	    "NETWORK maps to it");
	is_int(tba_proto_err_for(TBA_PE_AUTHORIZATION_FAILED), TBA_ERR_NETWORK, "and back");
	ok(strstr(b.data, "\"http_status\":401") != NULL &&
		strstr(b.data, "\"error\":\"invalid_client\"") != NULL,
	    "http_status and error in the parameters: %s", b.data);
	free(msg);
	cJSON_Delete(params);
	cJSON_Delete(x);
	tba_buf_free(&b);
}

int
main(void)
{
	test_request();
	test_error();
	return tap_done();
}
