/* SPDX-License-Identifier: MIT */
/*
 * token_case.c - the limit: the token's own HMAC rate, in process.
 *
 * The same key the agent uses (found the way the agent finds it: open the
 * token, log in, look the profile up), one session per thread, each call a
 * C_SignInit + C_Sign over a NetSuite-sized base string. Nothing else runs
 * in the loop, so this is the most signatures per second the token can give
 * to any program on this machine.
 *
 * Beside it, the token's own M2M signatures (tba_session_sign_jws: SHA-256
 * on the host, then CKM_ECDSA on P-256 or CKM_RSA_PKCS_PSS on RSA 3072)
 * over the same message, one thread: what one access-token
 * exchange costs in the device.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "tba/buf.h"
#include "tba/mem.h"
#include "tba/oauth.h"
#include "tba/token.h"

/*
 * A base string as the agent builds it for
 * GET https://<acct>.suitetalk.api.netsuite.com/services/rest/record/v1/customer/42?expandSubResources=true
 * (same length and shape; the values do not matter to the HMAC's cost).
 */
static tba_err
make_message(struct bench *b)
{
	struct tba_buf m;
	tba_err r;

	tba_buf_init(&m, 4096);
	r = tba_buf_putf(&m,
	    "GET&https%%3A%%2F%%2F%s%%2Fservices%%2Frest%%2Frecord%%2Fv1%%2Fcustomer%%2F42&"
	    "expandSubResources%%3Dtrue%%26oauth_consumer_key%%3D%s%%26oauth_nonce%%3D"
	    "Ab3dE6gH9jK2mN5pQ8sT1vW4%%26oauth_signature_method%%3DHMAC-SHA256%%26"
	    "oauth_timestamp%%3D1700000000%%26oauth_token%%3D%s%%26oauth_version%%3D1.0",
	    b->prof.nhosts > 0 ? b->prof.hosts[0] : "1234567-sb1.suitetalk.api.netsuite.com",
	    b->prof.consumer_key, b->prof.token_id);
	if (r != TBA_OK)
		goto out;
	b->msglen = m.len;
	b->msg = tba_buf_steal(&m);
out:
	tba_buf_free(&m);
	return r;
}

tba_err
bench_token_setup(struct bench *b, const char *uri, const char *profile, size_t nsess)
{
	char *pin = NULL;
	size_t pinlen = 0, pincap = 0, i;
	tba_err r;

	if (nsess > BENCH_THREADS_MAX)
		nsess = BENCH_THREADS_MAX;
	if ((r = tba_token_open(uri, &b->tok)) != TBA_OK)
		goto out;
	if ((r = tba_token_get_pin(b->tok, &pin, &pinlen, &pincap)) != TBA_OK)
		goto out;
	if ((r = tba_token_login(b->tok, pin, pinlen)) != TBA_OK)
		goto out;
	if ((r = tba_token_profile(b->tok, profile, &b->prof)) != TBA_OK)
		goto out;
	b->have_jws = tba_token_profile(b->tok, "bench-es256", &b->es256) == TBA_OK &&
	    tba_token_profile(b->tok, "bench-ps256", &b->ps256) == TBA_OK &&
	    b->es256.kind == TBA_KIND_M2M && b->ps256.kind == TBA_KIND_M2M;
	if ((r = make_message(b)) != TBA_OK)
		goto out;
	for (i = 0; i < nsess; i++) {
		if ((r = tba_session_open(b->tok, &b->sess[i])) != TBA_OK)
			goto out;
		b->nsess = i + 1;
	}
out:
	tba_secfree(pin, pincap);
	return r;
}

void
bench_token_teardown(struct bench *b)
{
	size_t i;

	for (i = 0; i < b->nsess; i++)
		tba_session_close(b->sess[i]);
	b->nsess = 0;
	if (b->tok != NULL)
		tba_token_close(b->tok);
	b->tok = NULL;
	free(b->msg);
	b->msg = NULL;
}

struct worker {
	struct bench *b;
	const struct tba_profile *jws; /* NULL: HMAC with b->prof */
	struct tba_session *s;
	double deadline;
	uint64_t n;
	uint64_t *lat; /* ns per call */
	size_t nlat;
	int ok;
	pthread_t tid;
	atomic_int *go;
};

static void *
token_worker(void *arg)
{
	struct worker *w = arg;
	unsigned char mac[TBA_JWS_SIG_MAX];
	size_t maclen;
	double t0, t1;
	tba_err r;

	while (atomic_load(w->go) == 0)
		;
	w->ok = 1;
	t0 = bench_now();
	while (t0 < w->deadline) {
		if (w->jws != NULL)
			r = tba_session_sign_jws(
			    w->s, w->jws, w->b->msg, w->b->msglen, mac, &maclen);
		else
			r = tba_session_sign(
			    w->s, &w->b->prof, w->b->msg, w->b->msglen, mac, &maclen);
		if (r != TBA_OK) {
			w->ok = 0;
			break;
		}
		t1 = bench_now();
		if (w->nlat < BENCH_SAMPLES_MAX)
			w->lat[w->nlat++] = (uint64_t)((t1 - t0) * 1e9);
		w->n++;
		t0 = t1;
	}
	return NULL;
}

static int
token_run(struct bench *b, const struct tba_profile *jws, size_t nthreads, double secs,
    struct bench_result *out)
{
	struct worker w[BENCH_THREADS_MAX];
	atomic_int go = 0;
	uint64_t *all = NULL;
	size_t i, started = 0, nall = 0;
	double t0, t1;
	int ok = 0;

	memset(out, 0, sizeof(*out));
	memset(w, 0, sizeof(w));
	if (nthreads > b->nsess || nthreads == 0)
		return 0;
	for (i = 0; i < nthreads; i++) {
		w[i].b = b;
		w[i].jws = jws;
		w[i].s = b->sess[i];
		w[i].go = &go;
		if ((w[i].lat = malloc(BENCH_SAMPLES_MAX * sizeof(uint64_t))) == NULL)
			goto out;
	}
	t0 = bench_now();
	for (i = 0; i < nthreads; i++) {
		w[i].deadline = t0 + secs;
		if (pthread_create(&w[i].tid, NULL, token_worker, &w[i]) != 0)
			goto out;
		started++;
	}
	t0 = bench_now();
	for (i = 0; i < nthreads; i++)
		w[i].deadline = t0 + secs;
	atomic_store(&go, 1);
out:
	atomic_store(&go, 1);
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	t1 = bench_now();
	if (started == nthreads) {
		ok = 1;
		for (i = 0; i < nthreads; i++) {
			ok &= w[i].ok;
			out->n += w[i].n;
			nall += w[i].nlat;
		}
		if ((all = malloc((nall + 1) * sizeof(uint64_t))) != NULL) {
			nall = 0;
			for (i = 0; i < nthreads; i++) {
				memcpy(all + nall, w[i].lat, w[i].nlat * sizeof(uint64_t));
				nall += w[i].nlat;
			}
			out->p50_ms = bench_pct_ms(all, nall, 0.50);
			out->p99_ms = bench_pct_ms(all, nall, 0.99);
		}
		out->rate = (double)out->n / (t1 - t0);
	}
	out->ok = ok;
	for (i = 0; i < nthreads; i++)
		free(w[i].lat);
	free(all);
	return ok;
}

int
bench_token_run(struct bench *b, size_t nthreads, double secs, struct bench_result *out)
{
	return token_run(b, NULL, nthreads, secs, out);
}

int
bench_jws_run(struct bench *b, const struct tba_profile *p, double secs, struct bench_result *out)
{
	return token_run(b, p, 1, secs, out);
}
