/* SPDX-License-Identifier: MIT */
/*
 * conn.c - the I/O of one client connection: reading messages into a
 * bounded buffer, answering them in order, sending the replies without ever
 * blocking (a peer that does not read waits in the event loop, not in a
 * worker).
 *
 * Memory per connection is bounded: at most one message in (TBA_PROTO_MAX)
 * and one batch of replies out (CONN_OUT_MAX); an idle connection holds
 * neither once they are emptied.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "tba/mem.h"
#include "tba/proto.h"

/* Replies queued before they are sent: pipelined requests are answered in batches. */
#define CONN_OUT_HIGH TBA_PROTO_MAX
/* A batch plus one more reply (at most TBA_PROTO_MAX) or an error. */
#define CONN_OUT_MAX (CONN_OUT_HIGH + TBA_PROTO_MAX + 4096)
#define CONN_READ_CHUNK 16384
/* Buffers larger than this are given back when emptied; smaller ones wait for the next request. */
#define CONN_KEEP 8192

struct conn *
conn_new(int fd, const struct peer *peer)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = fd;
	c->peer = *peer;
	c->state = CONN_READ;
	tba_buf_init_secure(&c->in, TBA_PROTO_MAX);
	tba_buf_init(&c->out, CONN_OUT_MAX);
	return c;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	tba_buf_free(&c->in);
	tba_buf_free(&c->out);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

int
conn_ready(const struct conn *c)
{
	size_t mlen;

	return c->in.len > 0 && tba_proto_frame(c->in.data, c->in.len, &mlen) != TBA_ERR_NOT_FOUND;
}

int
conn_read(struct conn *c, long now_ms)
{
	char chunk[CONN_READ_CHUNK];
	size_t room, used = 0;
	ssize_t n;
	int r = CONN_AGAIN;

	while (c->in.len < TBA_PROTO_MAX && !c->eof) {
		room = TBA_PROTO_MAX - c->in.len;
		n = recv(c->fd, chunk, room < sizeof(chunk) ? room : sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			c->eof = 1;
			break;
		}
		if (c->in.len == 0)
			c->started_ms = now_ms;
		if ((size_t)n > used)
			used = (size_t)n;
		/* Cannot fail: n fits the room left under the buffer's maximum. */
		if (tba_buf_put(&c->in, chunk, (size_t)n) != TBA_OK) {
			c->eof = c->doomed = 1;
			break;
		}
		/*
		 * A message is complete: answer it rather than ask the socket
		 * again (a recv that says EAGAIN). Pipelined ones still waiting
		 * there are read after it, their socket being readable.
		 */
		if (memchr(chunk, '\0', (size_t)n) != NULL)
			break;
	}
	/* Only what recv wrote: the whole chunk would cost more than the request. */
	tba_wipe(chunk, used);
	if (conn_ready(c))
		r = CONN_READY;
	else if (c->eof)
		r = CONN_CLOSE;
	return r;
}

/* Drops the first n bytes of c->in (answered: wiped, they may have held a PIN). */
static void
conn_consume(struct conn *c, size_t n)
{
	size_t rest = c->in.len - n;

	memmove(c->in.data, c->in.data + n, rest);
	tba_wipe(c->in.data + rest, n);
	c->in.len = rest;
	c->in.data[rest] = '\0';
	if (rest == 0 && c->in.cap > CONN_KEEP)
		tba_buf_free(&c->in);
}

void
conn_work(struct conn *c, struct agent_ctx *ctx, long now_ms)
{
	size_t pos = 0, mlen = 0;
	tba_err r;

	while (c->out.len < CONN_OUT_HIGH && !c->doomed) {
		r = tba_proto_frame(c->in.data + pos, c->in.len - pos, &mlen);
		if (r == TBA_ERR_TOO_LARGE) {
			(void)tba_proto_error(TBA_PE_MESSAGE_TOO_LARGE,
			    "message longer than 65536 "
			    "bytes without a NUL; closing",
			    &c->out);
			c->doomed = 1;
			break;
		}
		if (r != TBA_OK)
			break;
		dispatch(ctx, &c->peer, c->in.data + pos, mlen, &c->out);
		pos += mlen + 1;
	}
	if (pos > 0) {
		conn_consume(c, pos);
		c->started_ms = now_ms; /* the rest, if any, is a message that began now */
	}
	if (conn_flush(c) == CONN_CLOSE) {
		/* The peer is gone: nothing pending is ever sent. */
		tba_wipe(c->out.data, c->out.len);
		tba_buf_reset(&c->out);
		c->outoff = 0;
		c->doomed = c->eof = 1;
	}
}

int
conn_flush(struct conn *c)
{
	ssize_t w;

	while (c->outoff < c->out.len) {
		w = send(c->fd, c->out.data + c->outoff, c->out.len - c->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return CONN_AGAIN;
		if (w <= 0)
			return CONN_CLOSE;
		c->outoff += (size_t)w;
	}
	/* Replies hold signatures: wiped once sent. */
	if (c->out.len > CONN_KEEP)
		tba_buf_free(&c->out);
	else {
		tba_wipe(c->out.data, c->out.len);
		tba_buf_reset(&c->out);
	}
	c->outoff = 0;
	return CONN_READY;
}
