/* evserver.h: what the suites that serve HTTP from their own libevent loop
 * share (test_httpc, test_ssec, test_sim, test_outbox): binding an evhttp
 * server to a free loopback port, requests held unanswered, and Server-Sent
 * Events responses that survive their client going away.
 *
 * A stream is one long chunked 200 response. When the client closes it, the
 * stream forgets its request (req becomes NULL) and frees it; sending to a
 * forgotten stream does nothing. Failures are Check assertions. */
#ifndef HOTLINE_TEST_EVSERVER_H
#define HOTLINE_TEST_EVSERVER_H

#include <stddef.h>

#include <event2/util.h>

struct evhttp;
struct evhttp_request;

/* The port a bound socket listens on. */
int evserver_bound_port(evutil_socket_t fd);

/* Binds http to 127.0.0.1:port (0: a free port) and returns the port. */
int evserver_bind(struct evhttp *http, int port);

struct evserver_stream {
	struct evhttp_request *req; /* NULL once the client is gone or it ended */
};

/* Keeps req unanswered, as a server that accepted and hangs: like a stream,
 * it is freed when its client goes away (req becomes NULL); before
 * evhttp_free, evserver_stream_forget. */
void evserver_hold(struct evserver_stream *st, struct evhttp_request *req);

/* Answers req with 200 text/event-stream and keeps it open. st may be
 * embedded at the start of the caller's own struct. */
void evserver_stream_start(struct evserver_stream *st, struct evhttp_request *req);

/* Sends bytes as one chunk. */
void evserver_stream_send(struct evserver_stream *st, const char *bytes, size_t len);

/* Ends the response (the chunked body's last chunk), as a broker would. */
void evserver_stream_end(struct evserver_stream *st);

/* Closes the connection without ending the body, as a crash would. */
void evserver_stream_drop(struct evserver_stream *st);

/* Before evhttp_free: the stream stops listening for its client going away
 * (evhttp_free frees what is still connected). */
void evserver_stream_forget(struct evserver_stream *st);

#endif
