/* SPDX-License-Identifier: MIT */
/*
 * conn.h - one client connection of tba-agent: its buffers and the I/O on
 * them (conn.c); who runs it when is server.c's business.
 *
 * A connection is owned by one thread at a time, as its state says: the
 * event thread while it waits to read (CONN_READ) or to write (CONN_WRITE),
 * a worker while it answers (CONN_WORK), nobody while it waits in the work
 * queue (CONN_QUEUED). So the I/O below needs no lock.
 */
#ifndef TBA_AGENT_CONN_H
#define TBA_AGENT_CONN_H

#include "agent.h"
#include "tba/buf.h"

enum conn_state { CONN_READ, CONN_QUEUED, CONN_WORK, CONN_WRITE };

struct conn {
	int fd;
	struct peer peer;
	enum conn_state state;
	long deadline_ms;   /* CONN_READ/CONN_WRITE: closed when CLOCK_MONOTONIC passes it */
	long started_ms;    /* when the message being received began */
	struct tba_buf in;  /* received, not yet answered (secure: may hold a PIN) */
	struct tba_buf out; /* replies not yet sent, from outoff on */
	size_t outoff;
	int eof;                  /* the peer sent all it will send */
	int doomed;               /* close once out is flushed (MessageTooLarge), or now (error) */
	struct conn *prev, *next; /* the server's list of connections */
	struct conn *qnext;       /* the work queue */
};

/* Results of conn_read() and conn_flush(). */
enum { CONN_AGAIN = 0, CONN_READY = 1, CONN_CLOSE = -1 };

/* A fresh connection for fd (non-blocking), peer as SO_PEERCRED gave it; NULL without memory. */
struct conn *conn_new(int fd, const struct peer *peer);
/* Wipes the buffers, closes the fd, frees. NULL is a no-op. */
void conn_free(struct conn *c);
/*
 * Reads until a message is complete, the socket is empty or one message's
 * worth is buffered. CONN_READY: a complete message (or one past the size
 * limit) is buffered; CONN_AGAIN: wait for more; CONN_CLOSE: the peer is
 * gone with nothing left to answer.
 */
int conn_read(struct conn *c, long now_ms);
/* 1 when a complete message, or an oversized one, waits in c->in. */
int conn_ready(const struct conn *c);
/*
 * Answers the buffered messages in order until the replies reach a batch
 * (pipelined requests), then tries to send them without blocking.
 */
void conn_work(struct conn *c, struct agent_ctx *ctx, long now_ms);
/* Sends what is pending: CONN_READY all sent, CONN_AGAIN some left, CONN_CLOSE failed. */
int conn_flush(struct conn *c);

#endif
