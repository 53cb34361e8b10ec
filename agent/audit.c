/*
 * audit.c - one line per signature, refusal, lock or unlock: to stderr (the
 * journal under systemd) and, with --audit-log, as a JSON line appended to a
 * file. Never a secret, PIN, signature or query: the path only.
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

#define AUDIT_FIELD_MAX 300   /* longest field written; longer ones are cut */

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
		return tba_seterr(TBA_ERR_IO, "cannot open audit log %s: %s", path, strerror(errno));
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

void
audit_log(const struct audit_rec *a)
{
	char prof[AUDIT_FIELD_MAX + 1], meth[AUDIT_FIELD_MAX + 1], host[AUDIT_FIELD_MAX + 1];
	char path[AUDIT_FIELD_MAX + 1], res[AUDIT_FIELD_MAX + 1], det[AUDIT_FIELD_MAX + 1];
	char when[32];
	struct tba_buf j;
	struct timespec ts;
	struct tm tm;

	audit_clean(a->profile, prof, sizeof(prof));
	audit_clean(a->method, meth, sizeof(meth));
	audit_clean(a->host, host, sizeof(host));
	audit_clean(a->path, path, sizeof(path));
	audit_clean(a->result, res, sizeof(res));
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (a->detail != NULL) {
		size_t i;

		/* The detail is prose: keep its spaces. */
		for (i = 0; a->detail[i] != '\0' && i < sizeof(det) - 1; i++) {
			unsigned char c = (unsigned char)a->detail[i];
			det[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		}
		det[i] = '\0';
	}
	tba_log(TBA_LOG_ERROR, "audit: %s uid=%ld pid=%ld op=%s profile=%s method=%s host=%s "
	    "path=%s result=%s%s%s", when, (long)a->uid, (long)a->pid, a->op, prof, meth, host,
	    path, res, a->detail != NULL ? " reason=" : "", a->detail != NULL ? det : "");
	if (audit_fd < 0)
		return;
	tba_buf_init(&j, 8192);
	(void)tba_buf_putf(&j, "{\"time\":\"%s\",\"uid\":%ld,\"pid\":%ld,\"op\":", when,
	    (long)a->uid, (long)a->pid);
	(void)tba_proto_put_string(&j, a->op, strlen(a->op));
	(void)tba_buf_puts(&j, ",\"profile\":");
	(void)tba_proto_put_string(&j, prof, strlen(prof));
	(void)tba_buf_puts(&j, ",\"method\":");
	(void)tba_proto_put_string(&j, meth, strlen(meth));
	(void)tba_buf_puts(&j, ",\"host\":");
	(void)tba_proto_put_string(&j, host, strlen(host));
	(void)tba_buf_puts(&j, ",\"path\":");
	(void)tba_proto_put_string(&j, path, strlen(path));
	(void)tba_buf_puts(&j, ",\"result\":");
	(void)tba_proto_put_string(&j, res, strlen(res));
	if (a->detail != NULL) {
		(void)tba_buf_puts(&j, ",\"reason\":");
		(void)tba_proto_put_string(&j, det, strlen(det));
	}
	if (tba_buf_puts(&j, "}\n") == TBA_OK) {
		pthread_mutex_lock(&audit_mu);
		if (audit_fd >= 0 && write(audit_fd, j.data, j.len) != (ssize_t)j.len)
			tba_warn("audit log write failed: %s", strerror(errno));
		pthread_mutex_unlock(&audit_mu);
	}
	tba_buf_free(&j);
}
