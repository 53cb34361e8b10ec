/* SPDX-License-Identifier: MIT */
/*
 * audit.c - one line per signature, refusal, lock or unlock: to stderr (the
 * journal under systemd; syslog's authpriv in the background) and, with
 * --audit-log, as a JSON line appended to a file. Never a secret, PIN,
 * signature or query: the path only. A line that cannot be written is an
 * error the caller turns into a refusal: no answer leaves unaudited.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "tba/buf.h"
#include "tba/log.h"
#include "tba/proto.h"

#define AUDIT_FIELD_MAX 300 /* longest field written; longer ones are cut */

static pthread_mutex_t audit_mu = PTHREAD_MUTEX_INITIALIZER;
static int audit_fd = -1;

tba_err
audit_open(const char *path)
{
	int fd;

	if (path == NULL)
		return TBA_OK;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return tba_seterr(
		    TBA_ERR_IO, "cannot open audit log %s: %s", path, strerror(errno));
	audit_fd = fd;
	return TBA_OK;
}

void
audit_close(void)
{
	pthread_mutex_lock(&audit_mu);
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = -1;
	pthread_mutex_unlock(&audit_mu);
}

/* Printable ASCII only, cut at AUDIT_FIELD_MAX: fields come from peers. */
static void
audit_clean(const char *s, char *out, size_t outsz)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		s = "-";
	for (i = 0; s[i] != '\0' && i < outsz - 1; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[i] = '\0';
}

/*
 * A value for the text line: in double quotes, with '"', '\' and every
 * byte outside printable ASCII escaped (\" \\ \xHH), cut at AUDIT_FIELD_MAX
 * bytes of input; so no value can end its field early or forge another.
 */
static void
audit_quote(const char *s, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (s == NULL || s[0] == '\0')
		s = "-";
	out[o++] = '"';
	for (i = 0; s[i] != '\0' && i < AUDIT_FIELD_MAX && o + 6 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else
			out[o++] = (char)c;
	}
	out[o++] = '"';
	out[o] = '\0';
}

/* The text line (stderr, the journal or syslog); 0 when written. */
static int
audit_text(const struct audit_rec *a, const char *when)
{
	/* Each value quoted: at most 4 bytes per input byte plus the quotes. */
	char prof[4 * AUDIT_FIELD_MAX + 8], meth[4 * AUDIT_FIELD_MAX + 8];
	char host[4 * AUDIT_FIELD_MAX + 8], path[4 * AUDIT_FIELD_MAX + 8];
	char res[4 * AUDIT_FIELD_MAX + 8], det[4 * AUDIT_FIELD_MAX + 8];

	audit_quote(a->profile, prof, sizeof(prof));
	audit_quote(a->method, meth, sizeof(meth));
	audit_quote(a->host, host, sizeof(host));
	audit_quote(a->path, path, sizeof(path));
	audit_quote(a->result, res, sizeof(res));
	audit_quote(a->detail, det, sizeof(det));
	return tba_log_audit("audit: %s uid=%ld pid=%ld op=%s profile=%s method=%s host=%s "
			     "path=%s result=%s%s%s",
	    when, (long)a->uid, (long)a->pid, a->op, prof, meth, host, path, res,
	    a->detail != NULL ? " reason=" : "", a->detail != NULL ? det : "");
}

/* The JSON line for --audit-log; TBA_OK when written whole (or there is no file). */
static tba_err
audit_json(const struct audit_rec *a, const char *when)
{
	char prof[AUDIT_FIELD_MAX + 1], meth[AUDIT_FIELD_MAX + 1], host[AUDIT_FIELD_MAX + 1];
	char path[AUDIT_FIELD_MAX + 1], res[AUDIT_FIELD_MAX + 1], det[AUDIT_FIELD_MAX + 1];
	struct tba_buf j;
	ssize_t w = -1;
	size_t i;
	tba_err r;

	if (audit_fd < 0)
		return TBA_OK;
	audit_clean(a->profile, prof, sizeof(prof));
	audit_clean(a->method, meth, sizeof(meth));
	audit_clean(a->host, host, sizeof(host));
	audit_clean(a->path, path, sizeof(path));
	audit_clean(a->result, res, sizeof(res));
	det[0] = '\0';
	/* The detail is prose: keep its spaces. */
	for (i = 0; a->detail != NULL && a->detail[i] != '\0' && i < sizeof(det) - 1; i++) {
		unsigned char c = (unsigned char)a->detail[i];
		det[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		det[i + 1] = '\0';
	}
	tba_buf_init(&j, 8192);
	if ((r = tba_buf_putf(&j, "{\"time\":\"%s\",\"uid\":%ld,\"pid\":%ld,\"op\":", when,
		 (long)a->uid, (long)a->pid)) != TBA_OK ||
	    (r = tba_proto_put_string(&j, a->op, strlen(a->op))) != TBA_OK ||
	    (r = tba_buf_puts(&j, ",\"profile\":")) != TBA_OK ||
	    (r = tba_proto_put_string(&j, prof, strlen(prof))) != TBA_OK ||
	    (r = tba_buf_puts(&j, ",\"method\":")) != TBA_OK ||
	    (r = tba_proto_put_string(&j, meth, strlen(meth))) != TBA_OK ||
	    (r = tba_buf_puts(&j, ",\"host\":")) != TBA_OK ||
	    (r = tba_proto_put_string(&j, host, strlen(host))) != TBA_OK ||
	    (r = tba_buf_puts(&j, ",\"path\":")) != TBA_OK ||
	    (r = tba_proto_put_string(&j, path, strlen(path))) != TBA_OK ||
	    (r = tba_buf_puts(&j, ",\"result\":")) != TBA_OK ||
	    (r = tba_proto_put_string(&j, res, strlen(res))) != TBA_OK)
		goto out;
	if (a->detail != NULL &&
	    ((r = tba_buf_puts(&j, ",\"reason\":")) != TBA_OK ||
		(r = tba_proto_put_string(&j, det, strlen(det))) != TBA_OK))
		goto out;
	if ((r = tba_buf_puts(&j, "}\n")) != TBA_OK)
		goto out;
	pthread_mutex_lock(&audit_mu);
	if (audit_fd >= 0)
		w = write(audit_fd, j.data, j.len);
	pthread_mutex_unlock(&audit_mu);
	if (w != (ssize_t)j.len)
		r = tba_seterr(TBA_ERR_IO, "cannot write the audit log: %s",
		    w < 0 ? strerror(errno) : "short write");
out:
	tba_buf_free(&j);
	return r;
}

tba_err
audit_log(const struct audit_rec *a)
{
	char when[32];
	struct timespec ts;
	struct tm tm;
	tba_err r;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (audit_text(a, when) != 0)
		r = tba_seterr(TBA_ERR_IO, "cannot write the audit line to stderr");
	else
		r = audit_json(a, when);
	if (r != TBA_OK)
		tba_error("audit failed (%s): refusing op=%s for uid %ld pid %ld", tba_errmsg(r),
		    a->op, (long)a->uid, (long)a->pid);
	return r;
}
