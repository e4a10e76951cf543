/* evserver.c: HTTP and Server-Sent Events serving for the suites (see
 * evserver.h). */
#include "evserver.h"

#include <check.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

int evserver_bound_port(evutil_socket_t fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	return ntohs(sa.sin_port);
}

int evserver_bind(struct evhttp *http, int port)
{
	struct evhttp_bound_socket *sock =
		evhttp_bind_socket_with_handle(http, "127.0.0.1", (ev_uint16_t)port);

	ck_assert_ptr_nonnull(sock);
	return evserver_bound_port(evhttp_bound_socket_get_fd(sock));
}

/* The client went away in the middle of the stream: evhttp has detached the
 * request from its connection and leaves it to us; ending the reply frees
 * it. */
static void evserver_stream_gone(struct evhttp_connection *evcon, void *arg)
{
	struct evserver_stream *st = arg;
	struct evhttp_request *req = st->req;

	st->req = NULL;
	if (req != NULL && evhttp_request_get_connection(req) == NULL)
		evhttp_send_reply_end(req);
}

void evserver_hold(struct evserver_stream *st, struct evhttp_request *req)
{
	st->req = req;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), evserver_stream_gone, st);
}

void evserver_stream_start(struct evserver_stream *st, struct evhttp_request *req)
{
	evserver_hold(st, req);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/event-stream");
	evhttp_send_reply_start(req, 200, "OK");
}

void evserver_stream_send(struct evserver_stream *st, const char *bytes, size_t len)
{
	if (st->req == NULL)
		return;
	struct evbuffer *b = evbuffer_new();
	ck_assert_ptr_nonnull(b);
	evbuffer_add(b, bytes, len);
	evhttp_send_reply_chunk(st->req, b);
	evbuffer_free(b);
}

void evserver_stream_forget(struct evserver_stream *st)
{
	if (st->req != NULL)
		evhttp_connection_set_closecb(evhttp_request_get_connection(st->req), NULL, NULL);
}

void evserver_stream_end(struct evserver_stream *st)
{
	struct evhttp_request *req = st->req;

	if (req == NULL)
		return;
	evserver_stream_forget(st);
	st->req = NULL;
	evhttp_send_reply_end(req);
}

void evserver_stream_drop(struct evserver_stream *st)
{
	struct evhttp_request *req = st->req;

	if (req == NULL)
		return;
	evserver_stream_forget(st);
	st->req = NULL;
	evhttp_connection_free(evhttp_request_get_connection(req));
}
