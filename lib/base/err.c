/* SPDX-License-Identifier: MIT */
/* err.c - error codes and the thread-local detail message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tba/err.h"

#define ERR_DETAIL_MAX 512

/* The detail and the code it was set for: a detail never answers for another code. */
static __thread struct {
	tba_err code;
	char text[ERR_DETAIL_MAX];
} err_detail;

static const char *const err_text[TBA_ERR__MAX] = {
    [TBA_OK] = "success",
    [TBA_ERR_NOMEM] = "out of memory",
    [TBA_ERR_INVALID] = "invalid input",
    [TBA_ERR_TOO_LARGE] = "input too large",
    [TBA_ERR_NOT_FOUND] = "not found",
    [TBA_ERR_EXISTS] = "already exists",
    [TBA_ERR_POLICY] = "refused by policy",
    [TBA_ERR_LOCKED] = "agent is locked",
    [TBA_ERR_TOKEN] = "token error",
    [TBA_ERR_TOKEN_GONE] = "token not available",
    [TBA_ERR_PIN_INCORRECT] = "incorrect PIN",
    [TBA_ERR_PIN_LOCKED] = "PIN locked",
    [TBA_ERR_MODULE] = "cannot load PKCS#11 module",
    [TBA_ERR_NO_TOKEN] = "no matching token",
    [TBA_ERR_VERIFY] = "verification failed",
    [TBA_ERR_IO] = "I/O error",
    [TBA_ERR_AGENT] = "agent not reachable",
    [TBA_ERR_PROTO] = "protocol error",
    [TBA_ERR_REMOTE] = "agent refused",
    [TBA_ERR_NETWORK] = "network error",
    [TBA_ERR_CRYPTO] = "cryptographic library error",
    [TBA_ERR_USAGE] = "usage error",
};

const char *
tba_strerror(tba_err code)
{
	if ((int)code < 0 || code >= TBA_ERR__MAX || err_text[code] == NULL)
		return "unknown error";
	return err_text[code];
}

tba_err
tba_seterr(tba_err code, const char *fmt, ...)
{
	char text[ERR_DETAIL_MAX];
	va_list ap;

	/* Aside first: an argument may be err_detail.text itself. */
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	memcpy(err_detail.text, text, sizeof(err_detail.text));
	err_detail.code = code;
	return code;
}

tba_err
tba_nomem(void)
{
	return tba_seterr(TBA_ERR_NOMEM, "out of memory");
}

const char *
tba_errmsg(tba_err code)
{
	if (code != TBA_OK && err_detail.code == code && err_detail.text[0] != '\0')
		return err_detail.text;
	return tba_strerror(code);
}

void
tba_clearerr(void)
{
	err_detail.code = TBA_OK;
	err_detail.text[0] = '\0';
}
