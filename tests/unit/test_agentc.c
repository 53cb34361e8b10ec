/* SPDX-License-Identifier: MIT */
/*
 * test_agentc.c - the client library against a small fake agent in a thread:
 * what goes on the wire (framing, each call's parameters, the timestamp as
 * a number), how replies and errors come back (every wire error to its
 * tba_err with the agent's message), and what it refuses (oversized or
 * malformed replies, a peer that hangs up).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tap.h"
#include "tba/agentc.h"
#include "tba/proto.h"

static char sockdir[] = "/tmp/tba-test-agentc.XXXXXX";
static char sockpath[108];
static int lfd = -1;

/* One exchange: the fake agent reads a request and answers with reply[0..len). */
struct exchange {
	const char *reply;
	size_t len;     /* 0: strlen(reply) + 1 (the NUL) */
	size_t chunk;   /* >0: sent in pieces of this size */
	char got[4096]; /* the request as received (without its NUL) */
};

static void *
fake_agent(void *arg)
{
	struct exchange *x = arg;
	size_t n = 0, len, off;
	ssize_t k;
	int fd;

	if ((fd = accept(lfd, NULL, NULL)) < 0)
		return NULL;
	while (n < sizeof(x->got) - 1) {
		if ((k = read(fd, x->got + n, 1)) <= 0 || x->got[n] == '\0')
			break;
		n++;
	}
	x->got[n] = '\0';
	len = x->len ? x->len : strlen(x->reply) + 1;
	for (off = 0; off < len; off += (size_t)k) {
		size_t step = x->chunk && x->chunk < len - off ? x->chunk : len - off;

		if ((k = write(fd, x->reply + off, step)) <= 0)
			break;
		if (x->chunk)
			usleep(2000);
	}
	close(fd);
	return NULL;
}

/* Runs one call of kind `what` against reply x; returns its result. */
static tba_err
exchange(struct exchange *x, const char *what, cJSON **reply)
{
	struct tba_agentc *c = NULL;
	struct tba_params form;
	pthread_t t;
	tba_err r;

	*reply = NULL;
	pthread_create(&t, NULL, fake_agent, x);
	if ((r = tba_agentc_connect(sockpath, &c)) == TBA_OK) {
		if (strcmp(what, "sign") == 0) {
			tba_params_init(&form);
			tba_params_add(&form, "a b", "1&2");
			r = tba_agentc_sign(c, "prod", "POST", "https://h.example/x?q=1", &form,
			    1700000000, "abcdefgh", reply);
			tba_params_free(&form);
		} else if (strcmp(what, "passport") == 0)
			r = tba_agentc_passport(c, "prod", -1, NULL, reply);
		else if (strcmp(what, "unlock") == 0)
			r = tba_agentc_unlock(c, "12\"34", 5);
		else
			r = tba_agentc_call(c, "Ping", NULL, reply);
	}
	tba_agentc_close(c);
	pthread_join(t, NULL);
	return r;
}

static void
test_connect(void)
{
	struct tba_agentc *c = NULL;
	char missing[200];

	/* No TBA_AGENT_SOCK: the default sockets, none of which may exist here. */
	unsetenv("TBA_AGENT_SOCK");
	setenv("XDG_RUNTIME_DIR", sockdir, 1);
	snprintf(missing, sizeof(missing), "/tmp/tba-%ld/agent.sock", (long)getuid());
	if (access(missing, F_OK) == 0)
		ok(1, "# SKIP an agent's default socket %s exists on this machine", missing);
	else {
		is_int(tba_agentc_connect(NULL, &c), TBA_ERR_AGENT,
		    "no socket named, none by default");
		ok(strstr(tba_errmsg(TBA_ERR_AGENT), "tba-agent") != NULL,
		    "says how to start one: %s", tba_errmsg(TBA_ERR_AGENT));
	}
	snprintf(missing, sizeof(missing), "%s/none", sockdir);
	is_int(tba_agentc_connect(missing, &c), TBA_ERR_AGENT, "no agent at the path");
	ok(strstr(tba_errmsg(TBA_ERR_AGENT), missing) != NULL, "names the path: %s",
	    tba_errmsg(TBA_ERR_AGENT));
	ok(c == NULL, "nothing returned");
}

static void
test_requests(void)
{
	struct exchange x = {.reply = "{\"parameters\":{\"authorization\":\"OAuth x\"}}"};
	struct tba_proto_req q;
	enum tba_proto_ename en;
	cJSON *reply = NULL;

	is_int(exchange(&x, "sign", &reply), TBA_OK, "Sign");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(reply, "authorization")), "OAuth x",
	    "the reply's parameters");
	cJSON_Delete(reply);
	ok(tba_proto_parse_request(x.got, strlen(x.got), &q, &en) == TBA_OK &&
		q.method == TBA_PM_SIGN,
	    "the request is a valid Sign: %s", x.got);
	ok(q.has_timestamp && q.timestamp == 1700000000, "timestamp sent as the number 1700000000");
	ok(strstr(x.got, "\"timestamp\":1700000000") != NULL, "written as an integer");
	ok(q.nonce != NULL && strcmp(q.nonce, "abcdefgh") == 0, "nonce");
	ok(q.has_form && q.form.n == 1 && strcmp(q.form.v[0].name, "a b") == 0 &&
		strcmp(q.form.v[0].value, "1&2") == 0,
	    "form pairs, as given");
	ok(strcmp(q.profile, "prod") == 0 && strcmp(q.http_method, "POST") == 0 &&
		strcmp(q.url, "https://h.example/x?q=1") == 0,
	    "profile, method, url");
	tba_proto_req_free(&q);

	memset(x.got, 0, sizeof(x.got));
	is_int(exchange(&x, "passport", &reply), TBA_OK, "Passport");
	cJSON_Delete(reply);
	ok(tba_proto_parse_request(x.got, strlen(x.got), &q, &en) == TBA_OK &&
		q.method == TBA_PM_PASSPORT && !q.has_timestamp && q.nonce == NULL &&
		strcmp(q.profile, "prod") == 0,
	    "Passport with the agent's clock: %s", x.got);
	tba_proto_req_free(&q);

	x.reply = "{\"parameters\":{}}";
	is_int(exchange(&x, "unlock", &reply), TBA_OK, "Unlock");
	ok(tba_proto_parse_request(x.got, strlen(x.got), &q, &en) == TBA_OK &&
		q.method == TBA_PM_UNLOCK && strcmp(q.pin, "12\"34") == 0,
	    "the PIN, escaped");
	tba_proto_req_free(&q);

	/* A reply that arrives in small pieces. */
	x.reply = "{\"parameters\":{\"version\":\"9.9\"}}";
	x.chunk = 3;
	is_int(exchange(&x, "ping", &reply), TBA_OK, "reply in pieces");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(reply, "version")), "9.9", "put together");
	cJSON_Delete(reply);
}

static void
test_errors(void)
{
	static const struct {
		const char *name;
		tba_err want;
	} map[] = {
	    {"PolicyDenied", TBA_ERR_POLICY},
	    {"ProfileNotFound", TBA_ERR_NOT_FOUND},
	    {"Locked", TBA_ERR_LOCKED},
	    {"PinIncorrect", TBA_ERR_PIN_INCORRECT},
	    {"TokenError", TBA_ERR_TOKEN},
	    {"InvalidRequest", TBA_ERR_REMOTE},
	    {"SomethingNew", TBA_ERR_REMOTE},
	};
	struct exchange x;
	char reply[256];
	cJSON *params = NULL;
	size_t i;
	tba_err r;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		memset(&x, 0, sizeof(x));
		snprintf(reply, sizeof(reply),
		    "{\"error\":\"io.tba.Agent.%s\",\"parameters\":"
		    "{\"message\":\"agent says %zu\"}}",
		    map[i].name, i);
		x.reply = reply;
		r = exchange(&x, "ping", &params);
		is_int(r, map[i].want, "%s -> %s", map[i].name, tba_strerror(map[i].want));
		ok(strstr(tba_errmsg(r), "agent says") != NULL, "with the agent's message: %s",
		    tba_errmsg(r));
		ok(params == NULL, "no reply on error");
	}
	{
		char *big = malloc(TBA_PROTO_MAX + 10);

		memset(&x, 0, sizeof(x));
		memset(big, ' ', TBA_PROTO_MAX + 10);
		x.reply = big;
		x.len = TBA_PROTO_MAX + 10;
		is_int(exchange(&x, "ping", &params), TBA_ERR_PROTO, "a reply past TBA_PROTO_MAX");
		ok(strstr(tba_errmsg(TBA_ERR_PROTO), "too large") != NULL, "says so: %s",
		    tba_errmsg(TBA_ERR_PROTO));
		free(big);
	}
	memset(&x, 0, sizeof(x));
	x.reply = "{\"parameters\":{}} trailing";
	is_int(exchange(&x, "ping", &params), TBA_ERR_PROTO, "malformed reply");
	ok(strncmp(tba_errmsg(TBA_ERR_PROTO), "malformed reply from the agent: ", 32) == 0 &&
		strstr(tba_errmsg(TBA_ERR_PROTO) + 32, "malformed reply") == NULL,
	    "one prefix, not repeated: %s", tba_errmsg(TBA_ERR_PROTO));
	memset(&x, 0, sizeof(x));
	x.reply = "{\"parameters\"";
	x.len = strlen(x.reply);
	is_int(exchange(&x, "ping", &params), TBA_ERR_AGENT, "the agent hangs up mid-reply");
	ok(strstr(tba_errmsg(TBA_ERR_AGENT), "closed the connection") != NULL, "says so: %s",
	    tba_errmsg(TBA_ERR_AGENT));
	memset(&x, 0, sizeof(x));
	x.reply = "";
	is_int(exchange(&x, "ping", &params), TBA_ERR_PROTO, "an empty message is no reply");
}

static void
test_bad_timestamp(void)
{
	struct tba_agentc *c = NULL;
	struct exchange x = {.reply = "{\"parameters\":{}}"};
	cJSON *reply = NULL;
	pthread_t t;

	pthread_create(&t, NULL, fake_agent, &x);
	ok(tba_agentc_connect(sockpath, &c) == TBA_OK, "connect");
	is_int(tba_agentc_passport(c, "prod", -5, NULL, &reply), TBA_ERR_INVALID,
	    "a negative timestamp (not -1) is refused before sending");
	is_int(tba_agentc_passport(c, "prod", TBA_PROTO_INT_MAX + 1, NULL, &reply), TBA_ERR_INVALID,
	    "past 2^53-1 refused");
	ok(reply == NULL, "no reply");
	is_int(tba_agentc_call(c, "Ping", NULL, &reply), TBA_OK, "the connection is still usable");
	cJSON_Delete(reply);
	tba_agentc_close(c);
	pthread_join(t, NULL);
}

int
main(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char cmd[200];

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(sockdir) == NULL)
		return 1;
	snprintf(sockpath, sizeof(sockpath), "%s/s", sockdir);
	memcpy(sa.sun_path, sockpath, strlen(sockpath) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 4) != 0)
		return 1;
	test_connect();
	test_requests();
	test_errors();
	test_bad_timestamp();
	close(lfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sockdir);
	return system(cmd) == 0 ? tap_done() : 1;
}
