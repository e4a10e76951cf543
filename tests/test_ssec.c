/* test_ssec.c: the Server-Sent Events client against servers in the test
 * process, on one loop: an evhttp server that streams chunked events a chunk
 * per loop pass (messages split across chunks, several lines of data,
 * comments, a stream that ends or is dropped, 401 and 503 answers, signed
 * and Bearer requests), and a raw socket server that writes its response a
 * byte at a time. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "auth.h"
#include "evserver.h"
#include "ssec.h"

#define TEST_SECRET "test-gateway-secret-0123456789"
#define MAX_MESSAGES 32
#define MAX_REQUESTS 16
#define MAX_STREAMS 16
/* How long one test may run its loop. */
#define LOOP_LIMIT_MS 8000

/* --- what the client saw ------------------------------------------------------ */

struct seen {
	char event[MAX_MESSAGES][80];
	char data[MAX_MESSAGES][256];
	size_t n;
	size_t stop_after; /* break the loop after this many messages (0: never) */
	enum ssec_state states[MAX_MESSAGES];
	size_t n_states;
	size_t stop_after_states; /* or after this many state reports */
	struct event_base *base;
	struct ssec *client;
	bool free_in_callback;  /* ssec_free the client from on_message */
	const char *next_token; /* ssec_set_bearer on each DISCONNECTED */
};

static void on_message(const char *event, const char *data, size_t len, void *arg)
{
	struct seen *seen = arg;

	ck_assert_uint_eq(strlen(data), len);
	ck_assert_uint_lt(seen->n, MAX_MESSAGES);
	snprintf(seen->event[seen->n], sizeof seen->event[0], "%s", event);
	snprintf(seen->data[seen->n], sizeof seen->data[0], "%s", data);
	seen->n++;
	if (seen->free_in_callback) {
		ssec_free(seen->client);
		seen->client = NULL;
	}
	if (seen->stop_after > 0 && seen->n == seen->stop_after)
		event_base_loopbreak(seen->base);
}

static void on_state(enum ssec_state state, const char *detail, void *arg)
{
	struct seen *seen = arg;

	ck_assert_uint_lt(seen->n_states, MAX_MESSAGES);
	seen->states[seen->n_states++] = state;
	if (state == SSEC_DISCONNECTED && seen->next_token != NULL)
		ck_assert_int_eq(ssec_set_bearer(seen->client, seen->next_token), 0);
	if (seen->stop_after_states > 0 && seen->n_states == seen->stop_after_states)
		event_base_loopbreak(seen->base);
}

/* --- the evhttp server ---------------------------------------------------------- */

enum stream_end {
	END_KEEP_OPEN, /* the stream stays open after the last chunk */
	END_REPLY_END, /* the server ends the chunked body */
	END_DROP,      /* the server closes the connection */
};

struct server;

struct stream {
	struct evserver_stream sse;
	struct server *srv;
	size_t next;
	struct event *tick;
};

struct server {
	struct event_base *base;
	struct evhttp *http;
	int port;
	/* what each request gets */
	int fail_first; /* the first N requests are answered fail_status */
	int fail_status;
	const char *const *chunks; /* sent one per loop pass on every stream */
	size_t n_chunks;
	enum stream_end end;
	/* what each request carried */
	int requests;
	char uri[MAX_REQUESTS][128];
	char authorization[MAX_REQUESTS][128];
	enum auth_result signature[MAX_REQUESTS];
	char timestamp[MAX_REQUESTS][32];
	struct stream streams[MAX_STREAMS];
	size_t n_streams;
};

static void stream_tick(evutil_socket_t fd, short what, void *arg)
{
	struct stream *st = arg;
	struct server *srv = st->srv;

	if (st->sse.req == NULL)
		return;
	if (st->next < srv->n_chunks) {
		evserver_stream_send(&st->sse, srv->chunks[st->next],
				     strlen(srv->chunks[st->next]));
		st->next++;
		struct timeval soon = {0, 2000};
		evtimer_add(st->tick, &soon);
		return;
	}
	if (srv->end == END_REPLY_END)
		evserver_stream_end(&st->sse);
	else if (srv->end == END_DROP)
		evserver_stream_drop(&st->sse);
}

static void server_handle(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	int i = srv->requests++;

	ck_assert_int_lt(i, MAX_REQUESTS);
	ck_assert_int_eq(evhttp_request_get_command(req), EVHTTP_REQ_GET);
	const char *auth = evhttp_find_header(in, "Authorization");
	const char *ts = evhttp_find_header(in, AUTH_HEADER_TIMESTAMP);
	snprintf(srv->uri[i], sizeof srv->uri[i], "%s", evhttp_request_get_uri(req));
	snprintf(srv->authorization[i], sizeof srv->authorization[i], "%s", auth ? auth : "");
	snprintf(srv->timestamp[i], sizeof srv->timestamp[i], "%s", ts ? ts : "");
	srv->signature[i] = auth_verify(TEST_SECRET, ts,
					evhttp_find_header(in, AUTH_HEADER_SIGNATURE), "", 0,
					(int64_t)time(NULL), 300);
	ck_assert_str_eq(evhttp_find_header(in, "Accept"), "text/event-stream");

	if (srv->requests <= srv->fail_first) {
		struct evbuffer *body = evbuffer_new();
		evbuffer_add_printf(body, "{\"error\":{\"status\":%d}}", srv->fail_status);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
				  "application/json");
		evhttp_send_reply(req, srv->fail_status, "Refused", body);
		evbuffer_free(body);
		return;
	}
	ck_assert_uint_lt(srv->n_streams, MAX_STREAMS);
	struct stream *st = &srv->streams[srv->n_streams++];
	st->srv = srv;
	st->next = 0;
	st->tick = evtimer_new(srv->base, stream_tick, st);
	ck_assert_ptr_nonnull(st->tick);
	evserver_stream_start(&st->sse, req);
	struct timeval now = {0, 0};
	evtimer_add(st->tick, &now);
}

/* Starts the server on port (0: any free one). */
static void server_start(struct server *srv, struct event_base *base, int port)
{
	srv->base = base;
	srv->http = evhttp_new(base);
	ck_assert_ptr_nonnull(srv->http);
	evhttp_set_gencb(srv->http, server_handle, srv);
	srv->port = evserver_bind(srv->http, port);
}

static void server_stop(struct server *srv)
{
	for (size_t i = 0; i < srv->n_streams; i++) {
		evserver_stream_forget(&srv->streams[i].sse);
		event_free(srv->streams[i].tick);
	}
	evhttp_free(srv->http);
}

/* --- running a test ------------------------------------------------------------------ */

static void on_loop_limit(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/* Runs the loop until the client saw what seen asks for, or the limit. */
static void run_loop(struct event_base *base)
{
	struct event *limit = evtimer_new(base, on_loop_limit, base);
	struct timeval tv = {LOOP_LIMIT_MS / 1000, (LOOP_LIMIT_MS % 1000) * 1000};
	evtimer_add(limit, &tv);
	event_base_dispatch(base);
	event_free(limit);
}

static struct ssec *client_new(struct event_base *base, int port, const char *path,
			       const struct ssec_auth *auth, struct seen *seen)
{
	char url[64], err[256];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	seen->base = base;
	seen->client = ssec_new(base, url, path, auth, on_message, on_state, seen, err, sizeof err);
	ck_assert_msg(seen->client != NULL, "%s", err);
	return seen->client;
}

static const struct ssec_auth signed_auth = {SSEC_AUTH_SIGNED, TEST_SECRET};

/* --- the tests ---------------------------------------------------------------------- */

/* Messages cut at every awkward place, comments and ignored fields. */
static const char *const split_chunks[] = {
	": keep-alive\n\n",
	"event: conn",
	"ect\ndata: {\"call_id\":",
	"\"c1\",\"agent\":\"sim-001\"}\n",
	"\n",
	"data: line one\ndata: line two\r\n\r",
	"\n",
	": a comment between messages\nevent: state\ndata:no-space\n\n",
	"id: 7\nretry: 10\nevent: x\ndata\n\n",
	"event: ignored-without-data\n\n",
	"data:  two spaces\nunknown: field\n\n",
};

START_TEST(test_messages_split_across_chunks_arrive_whole)
{
	struct event_base *base = event_base_new();
	struct server srv = {.chunks = split_chunks,
			     .n_chunks = sizeof split_chunks / sizeof split_chunks[0],
			     .end = END_KEEP_OPEN};
	struct seen seen = {.stop_after = 5};

	server_start(&srv, base, 0);
	struct ssec *c = client_new(base, srv.port, "/v1/gateway/commands?centre=north",
				    &signed_auth, &seen);
	ck_assert(!ssec_connected(c));
	run_loop(base);

	ck_assert_uint_eq(seen.n, 5);
	ck_assert_str_eq(seen.event[0], "connect");
	ck_assert_str_eq(seen.data[0], "{\"call_id\":\"c1\",\"agent\":\"sim-001\"}");
	ck_assert_str_eq(seen.event[1], "message");
	ck_assert_str_eq(seen.data[1], "line one\nline two");
	ck_assert_str_eq(seen.event[2], "state");
	ck_assert_str_eq(seen.data[2], "no-space");
	ck_assert_str_eq(seen.event[3], "x");
	ck_assert_str_eq(seen.data[3], "");
	ck_assert_str_eq(seen.event[4], "message");
	ck_assert_str_eq(seen.data[4], " two spaces");
	ck_assert(ssec_connected(c));
	ck_assert_uint_eq(ssec_messages(c), 5);
	ck_assert_uint_eq(ssec_connections(c), 1);
	ck_assert_uint_eq(seen.n_states, 1);
	ck_assert_int_eq(seen.states[0], SSEC_CONNECTED);

	/* The request: the path with its query, signed over the empty body. */
	ck_assert_int_eq(srv.requests, 1);
	ck_assert_str_eq(srv.uri[0], "/v1/gateway/commands?centre=north");
	ck_assert_int_eq(srv.signature[0], AUTH_OK);
	ck_assert_str_eq(srv.authorization[0], "");
	ssec_free(c);
	server_stop(&srv);
	event_base_free(base);
}
END_TEST

static const char *const one_message[] = {"event: connect\ndata: {\"n\":1}\n\n"};

/* The server ends the stream (loop index 0) or drops the connection (1): the
 * client reconnects, signs anew and gets the messages again. */
static const enum stream_end stream_ends[] = {END_REPLY_END, END_DROP};

START_TEST(test_client_reconnects_when_the_server_closes)
{
	struct event_base *base = event_base_new();
	struct server srv = {.chunks = one_message, .n_chunks = 1, .end = stream_ends[_i]};
	struct seen seen = {.stop_after = 3};

	server_start(&srv, base, 0);
	struct ssec *c = client_new(base, srv.port, "/s", &signed_auth, &seen);
	run_loop(base);

	ck_assert_uint_eq(seen.n, 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_str_eq(seen.event[i], "connect");
		ck_assert_str_eq(seen.data[i], "{\"n\":1}");
	}
	ck_assert_int_ge(srv.requests, 3);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(srv.signature[i], AUTH_OK);
	/* connected, disconnected, connected, disconnected, connected */
	ck_assert_uint_ge(seen.n_states, 5);
	for (size_t i = 0; i < 5; i++)
		ck_assert_int_eq(seen.states[i], i % 2 == 0 ? SSEC_CONNECTED : SSEC_DISCONNECTED);
	ck_assert_int_eq(ssec_err(c), 0);
	ssec_free(c);
	server_stop(&srv);
	event_base_free(base);
}
END_TEST

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_401_is_reported_once_and_retried_with_backoff)
{
	struct event_base *base = event_base_new();
	struct server srv = {.fail_first = 4,
			     .fail_status = 401,
			     .chunks = one_message,
			     .n_chunks = 1,
			     .end = END_KEEP_OPEN};
	struct seen seen = {.stop_after = 1};

	server_start(&srv, base, 0);
	int64_t started = monotonic_ms();
	struct ssec *c = client_new(base, srv.port, "/s", &signed_auth, &seen);
	run_loop(base);
	int64_t took = monotonic_ms() - started;

	ck_assert_uint_eq(seen.n, 1);
	ck_assert_int_eq(srv.requests, 5);
	ck_assert_uint_eq(seen.n_states, 2);
	ck_assert_int_eq(seen.states[0], SSEC_UNAUTHORISED);
	ck_assert_int_eq(seen.states[1], SSEC_CONNECTED);
	/* Waits of 50, 100, 200 and 400 ms between the five attempts. */
	ck_assert_msg(took >= 700 && took < 3000, "took %lld ms", (long long)took);
	ssec_free(c);
	server_stop(&srv);
	event_base_free(base);
}
END_TEST

START_TEST(test_other_refusals_are_retried_without_a_report)
{
	struct event_base *base = event_base_new();
	struct server srv = {.fail_first = 2,
			     .fail_status = 503,
			     .chunks = one_message,
			     .n_chunks = 1,
			     .end = END_KEEP_OPEN};
	struct seen seen = {.stop_after_states = 1};

	server_start(&srv, base, 0);
	struct ssec *c = client_new(base, srv.port, "/s", &signed_auth, &seen);
	run_loop(base);
	ck_assert_uint_eq(seen.n_states, 1);
	ck_assert_int_eq(seen.states[0], SSEC_CONNECTED);
	ck_assert_int_eq(srv.requests, 3);
	ssec_free(c);
	server_stop(&srv);
	event_base_free(base);
}
END_TEST

/* What ssec_err says while the stream cannot be had. */
static void on_probe(evutil_socket_t fd, short what, void *arg)
{
	struct seen *seen = arg;
	ck_assert_int_eq(ssec_err(seen->client), 503);
	ck_assert_str_eq(ssec_errstr(seen->client), "HTTP 503");
	event_base_loopbreak(seen->base);
}

START_TEST(test_err_says_why_the_stream_is_down)
{
	struct event_base *base = event_base_new();
	struct server srv = {.fail_first = 1000, .fail_status = 503};
	struct seen seen = {0};

	server_start(&srv, base, 0);
	client_new(base, srv.port, "/s", &signed_auth, &seen);
	ck_assert_int_eq(ssec_err(seen.client), 0);
	struct event *probe = evtimer_new(base, on_probe, &seen);
	struct timeval tv = {0, 300000};
	evtimer_add(probe, &tv);
	run_loop(base);
	ck_assert_int_ge(srv.requests, 2);
	ck_assert_uint_eq(seen.n_states, 0);
	event_free(probe);
	ssec_free(seen.client);
	server_stop(&srv);
	event_base_free(base);
}
END_TEST

START_TEST(test_bearer_token_is_sent_and_can_change_between_connections)
{
	struct event_base *base = event_base_new();
	struct server srv = {.chunks = one_message, .n_chunks = 1, .end = END_REPLY_END};
	struct seen seen = {.stop_after = 2, .next_token = "token-two"};
	const struct ssec_auth bearer = {SSEC_AUTH_BEARER, "token-one"};

	server_start(&srv, base, 0);
	struct ssec *c = client_new(base, srv.port, "/v1/agents/stream", &bearer, &seen);
	run_loop(base);
	ck_assert_uint_eq(seen.n, 2);
	ck_assert_str_eq(srv.authorization[0], "Bearer token-one");
	ck_assert_str_eq(srv.authorization[1], "Bearer token-two");
	ck_assert_str_eq(srv.timestamp[0], "");
	ck_assert_int_eq(ssec_set_bearer(c, "bad\r\ntoken"), -EINVAL);
	ssec_free(c);

	/* A signed client has no token to change. */
	char url[64], err[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d", srv.port);
	c = ssec_new(base, url, "/", &signed_auth, on_message, NULL, &seen, err, sizeof err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(ssec_set_bearer(c, "token"), -EINVAL);
	ssec_free(c);
	server_stop(&srv);
	event_base_free(base);
}
END_TEST

START_TEST(test_free_inside_a_callback_stops_the_callbacks)
{
	struct event_base *base = event_base_new();
	static const char *const two[] = {"data: one\n\ndata: two\n\n"};
	struct server srv = {.chunks = two, .n_chunks = 1, .end = END_KEEP_OPEN};
	struct seen seen = {.free_in_callback = true};

	server_start(&srv, base, 0);
	client_new(base, srv.port, "/s", &signed_auth, &seen);
	/* Both messages come in one read; only the first is delivered. */
	struct event *probe = evtimer_new(base, on_loop_limit, base);
	struct timeval tv = {0, 300000};
	evtimer_add(probe, &tv);
	run_loop(base);
	ck_assert_uint_eq(seen.n, 1);
	ck_assert_str_eq(seen.data[0], "one");
	ck_assert_ptr_null(seen.client);
	event_free(probe);
	server_stop(&srv);
	event_base_free(base);
}
END_TEST

/* A port where nothing listens yet: a socket bound and closed. */
static int unused_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	int port = evserver_bound_port(fd);
	close(fd);
	return port;
}

struct late_start {
	struct server *srv;
	struct event_base *base;
	int port;
	struct seen *seen;
};

static void start_late(evutil_socket_t fd, short what, void *arg)
{
	struct late_start *late = arg;
	/* Refused so far: the client said why and reported nothing. */
	ck_assert_int_lt(ssec_err(late->seen->client), 0);
	ck_assert_msg(strstr(ssec_errstr(late->seen->client), "connection failed") != NULL, "%s",
		      ssec_errstr(late->seen->client));
	ck_assert_uint_eq(late->seen->n_states, 0);
	server_start(late->srv, late->base, late->port);
}

START_TEST(test_a_refused_connection_is_retried_until_the_server_is_up)
{
	struct event_base *base = event_base_new();
	struct server srv = {.chunks = one_message, .n_chunks = 1, .end = END_KEEP_OPEN};
	struct seen seen = {.stop_after = 1};
	int port = unused_port();
	struct late_start late = {&srv, base, port, &seen};

	client_new(base, port, "/s", &signed_auth, &seen);
	struct event *later = evtimer_new(base, start_late, &late);
	struct timeval tv = {0, 400000};
	evtimer_add(later, &tv);
	run_loop(base);
	ck_assert_uint_eq(seen.n, 1);
	ck_assert_int_eq(seen.states[0], SSEC_CONNECTED);
	event_free(later);
	ssec_free(seen.client);
	server_stop(&srv);
	event_base_free(base);
}
END_TEST

/* --- a raw server writing a byte at a time -------------------------------------------- */

struct raw {
	struct event_base *base;
	struct evconnlistener *listener;
	int port;
	const char *response;
	size_t sent;
	struct bufferevent *bev;
	struct event *tick;
	bool request_read;
};

static void raw_tick(evutil_socket_t fd, short what, void *arg)
{
	struct raw *raw = arg;

	if (raw->bev == NULL || raw->response[raw->sent] == '\0')
		return;
	bufferevent_write(raw->bev, raw->response + raw->sent, 1);
	raw->sent++;
	struct timeval soon = {0, 300};
	evtimer_add(raw->tick, &soon);
}

static void raw_read(struct bufferevent *bev, void *arg)
{
	struct raw *raw = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);

	if (raw->request_read || end.pos < 0)
		return;
	raw->request_read = true;
	evbuffer_drain(in, evbuffer_get_length(in));
	struct timeval now = {0, 0};
	evtimer_add(raw->tick, &now);
}

static void raw_event(struct bufferevent *bev, short what, void *arg)
{
	struct raw *raw = arg;
	bufferevent_free(bev);
	raw->bev = NULL;
}

static void raw_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		       void *arg)
{
	struct raw *raw = arg;

	ck_assert_ptr_null(raw->bev);
	raw->bev = bufferevent_socket_new(raw->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(raw->bev, raw_read, NULL, raw_event, raw);
	bufferevent_enable(raw->bev, EV_READ | EV_WRITE);
}

static const char raw_chunked[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
	"Transfer-Encoding: chunked\r\n\r\n"
	"1a\r\nevent: connect\r\ndata: {\"a\"\r\n"
	"f;ext=1\r\n\r\ndata: :1}\r\n\r\n\r\n"
	"19\r\n: keep-alive\r\ndata: b\r\n\r\n\r\n";

static const char raw_plain[] = "HTTP/1.0 200 OK\r\ncontent-type: TEXT/EVENT-STREAM\r\n\r\n"
				"event: connect\r\ndata: {\"a\"\r\ndata: :1}\r\n\r\n"
				": keep-alive\r\ndata: b\r\n\r\n";

static const char *const raw_responses[] = {raw_chunked, raw_plain};

/* Every byte of the response in a read of its own: chunk sizes, CRLFs and
 * message lines all cut in the middle. */
START_TEST(test_a_response_written_a_byte_at_a_time_is_read_whole)
{
	struct event_base *base = event_base_new();
	struct raw raw = {.base = base, .response = raw_responses[_i]};
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	struct seen seen = {.stop_after = 2};

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	raw.listener = evconnlistener_new_bind(base, raw_accept, &raw,
					       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
					       (struct sockaddr *)&sa, sizeof sa);
	ck_assert_ptr_nonnull(raw.listener);
	raw.port = evserver_bound_port(evconnlistener_get_fd(raw.listener));
	raw.tick = evtimer_new(base, raw_tick, &raw);
	const struct ssec_auth none = {SSEC_AUTH_NONE, NULL};
	client_new(base, raw.port, "/s", &none, &seen);
	run_loop(base);

	ck_assert_uint_eq(seen.n, 2);
	ck_assert_str_eq(seen.event[0], "connect");
	ck_assert_str_eq(seen.data[0], "{\"a\"\n:1}");
	ck_assert_str_eq(seen.event[1], "message");
	ck_assert_str_eq(seen.data[1], "b");
	ssec_free(seen.client);
	if (raw.bev != NULL)
		bufferevent_free(raw.bev);
	event_free(raw.tick);
	evconnlistener_free(raw.listener);
	event_base_free(base);
}
END_TEST

START_TEST(test_bad_urls_and_secrets_are_refused)
{
	struct event_base *base = event_base_new();
	struct seen seen = {0};
	char err[256];

	ck_assert_ptr_null(ssec_new(base, "https://127.0.0.1:1", "/", &signed_auth, on_message,
				    NULL, &seen, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "only http://"));
	ck_assert_ptr_null(ssec_new(base, "not a url", "/", &signed_auth, on_message, NULL, &seen,
				    err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "is not a URL"));
	const struct ssec_auth empty = {SSEC_AUTH_BEARER, ""};
	ck_assert_ptr_null(ssec_new(base, "http://127.0.0.1:1", "/", &empty, on_message, NULL,
				    &seen, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "token is empty"));
	event_base_free(base);
}
END_TEST

static Suite *ssec_suite(void)
{
	Suite *s = suite_create("ssec");
	TCase *tc = tcase_create("stream");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_messages_split_across_chunks_arrive_whole);
	tcase_add_loop_test(tc, test_client_reconnects_when_the_server_closes, 0, 2);
	tcase_add_test(tc, test_401_is_reported_once_and_retried_with_backoff);
	tcase_add_test(tc, test_other_refusals_are_retried_without_a_report);
	tcase_add_test(tc, test_err_says_why_the_stream_is_down);
	tcase_add_test(tc, test_bearer_token_is_sent_and_can_change_between_connections);
	tcase_add_test(tc, test_free_inside_a_callback_stops_the_callbacks);
	tcase_add_test(tc, test_a_refused_connection_is_retried_until_the_server_is_up);
	tcase_add_loop_test(tc, test_a_response_written_a_byte_at_a_time_is_read_whole, 0, 2);
	tcase_add_test(tc, test_bad_urls_and_secrets_are_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (auth_init() != 0)
		return EXIT_FAILURE;
	SRunner *sr = srunner_create(ssec_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
