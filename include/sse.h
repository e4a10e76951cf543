/* sse.h: Server-Sent Events streams on evhttp: one long chunked response
 * per subscriber, messages written as "event: NAME\ndata: JSON\n\n".
 *
 * A stream belongs to whoever opened it. When the client goes away (or
 * stops reading and its backlog passes SSE_BACKLOG_MAX), on_gone is called
 * once, from a loop callback; the stream is freed right after on_gone
 * returns, so the owner must forget it there and never touch it again.
 * sse_close ends a stream from the owner's side (on_gone is not called). */
#ifndef HOTLINE_SSE_H
#define HOTLINE_SSE_H

#include <stdbool.h>
#include <stddef.h>

struct evhttp_request;
struct sse_stream;

/* Past this much unsent data the client is not reading: the stream ends. */
#define SSE_BACKLOG_MAX (4u << 20)

typedef void (*sse_gone_fn)(struct sse_stream *s, void *arg);

/* Starts the response (200, text/event-stream) and keeps the connection
 * open without evhttp's idle timeout. Returns NULL when out of memory (the
 * request is then answered 500). */
struct sse_stream *sse_open(struct evhttp_request *req, sse_gone_fn on_gone, void *arg);

/* Writes one message; data must be one line (JSON without raw newlines). */
void sse_send(struct sse_stream *s, const char *event, const char *data);

/* Writes a comment line that keeps proxies and clients from timing out. */
void sse_keepalive(struct sse_stream *s);

/* Ends the response and frees the stream. */
void sse_close(struct sse_stream *s);

#endif
