/* sse.c: Server-Sent Events streams on evhttp (see sse.h). */
#include "sse.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "log.h"

struct sse_stream {
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	sse_gone_fn on_gone;
	void *arg;
	struct evbuffer *chunk;
	bool dropping;     /* the client stopped reading: closing after this loop pass */
	bool owner_closed; /* sse_close came while dropping: tell nobody */
	bool closed;       /* the connection is gone (while dropping: sse_on_drop frees) */
};

/* evhttp calls this when the connection closes: the client left. */
static void sse_on_close(struct evhttp_connection *evcon, void *arg)
{
	struct sse_stream *s = arg;
	/* A connection that failed under a reply in progress has already let
	 * go of its request, which is then ours to free. */
	if (s->req != NULL && evhttp_request_get_connection(s->req) == NULL)
		evhttp_request_free(s->req);
	s->req = NULL;
	s->closed = true;
	if (!s->owner_closed) {
		s->owner_closed = true;
		s->on_gone(s, s->arg);
	}
	if (s->dropping)
		return; /* sse_on_drop, already scheduled, frees the stream */
	evbuffer_free(s->chunk);
	free(s);
}

/* Drops a client that stopped reading, outside the owner's own calls; the
 * one place a dropping stream is freed. */
static void sse_on_drop(evutil_socket_t fd, short what, void *arg)
{
	struct sse_stream *s = arg;
	if (!s->closed)
		evhttp_connection_free(s->evcon); /* runs sse_on_close */
	evbuffer_free(s->chunk);
	free(s);
}

struct sse_stream *sse_open(struct evhttp_request *req, sse_gone_fn on_gone, void *arg)
{
	struct sse_stream *s = calloc(1, sizeof *s);
	if (s == NULL || (s->chunk = evbuffer_new()) == NULL) {
		free(s);
		evhttp_send_error(req, 500, "out of memory");
		return NULL;
	}
	s->req = req;
	s->evcon = evhttp_request_get_connection(req);
	s->on_gone = on_gone;
	s->arg = arg;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	evhttp_add_header(out, "Content-Type", "text/event-stream");
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "X-Accel-Buffering", "no");
	/* A stream is quiet for long stretches: only a dead peer should end it,
	 * which the keep-alive comments reveal. */
	evhttp_connection_set_timeout(s->evcon, 24 * 3600);
	evhttp_connection_set_closecb(s->evcon, sse_on_close, s);
	evhttp_send_reply_start(req, 200, "OK");
	return s;
}

static bool sse_backlog_ok(struct sse_stream *s)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(s->evcon);
	return bev == NULL || evbuffer_get_length(bufferevent_get_output(bev)) <= SSE_BACKLOG_MAX;
}

static void sse_write(struct sse_stream *s)
{
	if (s->req == NULL || s->dropping) {
		evbuffer_drain(s->chunk, evbuffer_get_length(s->chunk));
		return;
	}
	if (!sse_backlog_ok(s)) {
		log_warn("sse", "a stream's client stopped reading; closing it");
		evbuffer_drain(s->chunk, evbuffer_get_length(s->chunk));
		s->dropping = true;
		if (event_base_once(evhttp_connection_get_base(s->evcon), -1, EV_TIMEOUT, sse_on_drop,
				    s, NULL) != 0)
			s->dropping = false; /* try again with the next message */
		return;
	}
	evhttp_send_reply_chunk(s->req, s->chunk);
}

void sse_send(struct sse_stream *s, const char *event, const char *data)
{
	evbuffer_add_printf(s->chunk, "event: %s\ndata: %s\n\n", event, data);
	sse_write(s);
}

void sse_keepalive(struct sse_stream *s)
{
	evbuffer_add(s->chunk, ": keep-alive\n\n", 14);
	sse_write(s);
}

void sse_close(struct sse_stream *s)
{
	if (s == NULL)
		return;
	if (s->dropping) {
		s->owner_closed = true; /* sse_on_drop frees it */
		return;
	}
	if (s->req != NULL) {
		evhttp_connection_set_closecb(s->evcon, NULL, NULL);
		evhttp_send_reply_end(s->req);
	}
	evbuffer_free(s->chunk);
	free(s);
}
