/* http.c: routes, request checks and answers on evhttp (see http.h). */
#include "http.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "auth.h"
#include "log.h"
#include "timeutil.h"

struct http_front {
	struct evhttp *http;
	struct evhttp_bound_socket *listener;
	bool closing;
	struct ingest *in;
	struct metrics *metrics;
	char *secret;
	int64_t tolerance_s;
	int64_t max_body;
};

/* A request waiting for its commit. The connection's close callback clears
 * req if the client goes away first, so the answer is then dropped. */
struct http_pending {
	struct http_front *h;
	struct evhttp_request *req;
	int64_t started;
};

static void http_reply(struct http_front *h, struct evhttp_request *req, enum metrics_route route,
		       int status, const char *content_type, const char *body, size_t len,
		       int64_t started)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = evhttp_request_get_output_buffer(req);

	evhttp_add_header(out, "Content-Type", content_type);
	evbuffer_add(buf, body, len);
	evhttp_send_reply(req, status, NULL, NULL);
	metrics_count_request(h->metrics, route, status,
			      (double)(timeutil_now_usec() - started) / 1e6);
}

static void http_error(struct http_front *h, struct evhttp_request *req, enum metrics_route route,
		       int status, const char *code, const char *message, int64_t started)
{
	char body[512];
	int n = snprintf(body, sizeof body,
			 "{\"error\":{\"status\":%d,\"code\":\"%s\",\"message\":\"%s\"}}", status,
			 code, message);
	http_reply(h, req, route, status, "application/json", body, (size_t)n, started);
}

static void http_on_close(struct evhttp_connection *evcon, void *arg)
{
	struct http_pending *p = arg;
	p->req = NULL;
}

/* ingest_reply_fn: see ingest.h. */
static void http_on_ingest_reply(void *request, const struct ingest_reply *r)
{
	struct http_pending *p = request;
	struct evhttp_request *req = p->req;

	if (req != NULL) {
		struct evhttp_connection *evcon = evhttp_request_get_connection(req);
		if (evcon)
			evhttp_connection_set_closecb(evcon, NULL, NULL);
		struct evkeyvalq *out = evhttp_request_get_output_headers(req);
		if (r->replay)
			evhttp_add_header(out, "Idempotent-Replay", "true");
		if (r->retry_after_s > 0) {
			char ra[16];
			snprintf(ra, sizeof ra, "%d", r->retry_after_s);
			evhttp_add_header(out, "Retry-After", ra);
		}
		http_reply(p->h, req, ROUTE_EVENTS, r->status, "application/json", r->body, r->len,
			   p->started);
	}
	free(p);
}

static void http_on_events(struct http_front *h, struct evhttp_request *req, int64_t started)
{
	struct evkeyvalq *in_headers = evhttp_request_get_input_headers(req);
	struct evbuffer *in_body = evhttp_request_get_input_buffer(req);

	if (h->closing) {
		/* Stopping: what is in flight is committed and answered; new events
		 * go to the broker that takes over. */
		struct evkeyvalq *out = evhttp_request_get_output_headers(req);
		evhttp_add_header(out, "Retry-After", "1");
		evhttp_add_header(out, "Connection", "close");
		http_error(h, req, ROUTE_EVENTS, 503, "shutting_down",
			   "the broker is stopping; nothing was recorded, retry", started);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
		http_error(h, req, ROUTE_EVENTS, 405, "method_not_allowed",
			   "use POST for /v1/calls/events", started);
		return;
	}
	size_t len = evbuffer_get_length(in_body);
	if ((int64_t)len > h->max_body) {
		char msg[128];
		snprintf(msg, sizeof msg, "the body has %zu bytes; the limit is %lld", len,
			 (long long)h->max_body);
		http_error(h, req, ROUTE_EVENTS, 413, "body_too_large", msg, started);
		return;
	}
	const char *ctype = evhttp_find_header(in_headers, "Content-Type");
	if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0 ||
	    (ctype[16] != '\0' && ctype[16] != ';' && ctype[16] != ' ')) {
		http_error(h, req, ROUTE_EVENTS, 415, "unsupported_media_type",
			   "Content-Type must be application/json", started);
		return;
	}
	const char *body = (const char *)evbuffer_pullup(in_body, -1);
	if (body == NULL)
		body = "";
	enum auth_result ar = auth_verify(h->secret, evhttp_find_header(in_headers, AUTH_HEADER_TIMESTAMP),
					  evhttp_find_header(in_headers, AUTH_HEADER_SIGNATURE),
					  body, len, timeutil_now_usec() / 1000000, h->tolerance_s);
	if (ar != AUTH_OK) {
		http_error(h, req, ROUTE_EVENTS, 401, "unauthorised", auth_result_message(ar), started);
		return;
	}
	struct http_pending *p = malloc(sizeof *p);
	if (p == NULL) {
		http_error(h, req, ROUTE_EVENTS, 500, "internal", "out of memory", started);
		return;
	}
	p->h = h;
	p->req = req;
	p->started = started;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (evcon)
		evhttp_connection_set_closecb(evcon, http_on_close, p);
	ingest_submit(h->in, body, len, http_on_ingest_reply, p);
}

static void http_on_healthz(struct http_front *h, struct evhttp_request *req, int64_t started)
{
	char body[512];
	bool ready = ingest_store_ready(h->in);
	int n = snprintf(body, sizeof body,
			 "{\"status\":\"%s\",\"postgres\":\"%s\",\"redis\":\"%s\","
			 "\"calls_in_progress\":%zu,\"store_backlog\":%zu}",
			 ready ? "ok" : "degraded", ingest_store_state(h->in),
			 ingest_redis_up(h->in) ? "up" : "down", ingest_calls_in_progress(h->in),
			 ingest_store_backlog(h->in));
	http_reply(h, req, ROUTE_HEALTHZ, ready ? 200 : 503, "application/json", body, (size_t)n,
		   started);
}

static void http_on_metrics(struct http_front *h, struct evhttp_request *req, int64_t started)
{
	size_t len = 0;
	h->metrics->calls_in_progress = ingest_calls_in_progress(h->in);
	h->metrics->store_backlog = ingest_store_backlog(h->in);
	h->metrics->store_up = ingest_store_ready(h->in);
	h->metrics->redis_up = ingest_redis_up(h->in);
	/* Count this request before rendering so that it sees itself. */
	metrics_count_request(h->metrics, ROUTE_METRICS, 200, 0);
	char *text = metrics_render(h->metrics, &len);
	if (text == NULL) {
		http_error(h, req, ROUTE_METRICS, 500, "internal", "out of memory", started);
		return;
	}
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	evhttp_add_header(out, "Content-Type", "text/plain; version=0.0.4");
	evbuffer_add(evhttp_request_get_output_buffer(req), text, len);
	evhttp_send_reply(req, 200, NULL, NULL);
	free(text);
}

/* The one entry point for every request. */
static void http_on_request(struct evhttp_request *req, void *arg)
{
	struct http_front *h = arg;
	int64_t started = timeutil_now_usec();
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

	if (path == NULL)
		path = "";
	if (strcmp(path, "/v1/calls/events") == 0) {
		http_on_events(h, req, started);
	} else if (strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0) {
		enum metrics_route route = path[1] == 'h' ? ROUTE_HEALTHZ : ROUTE_METRICS;
		if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
			http_error(h, req, route, 405, "method_not_allowed", "use GET", started);
		} else if (route == ROUTE_HEALTHZ) {
			http_on_healthz(h, req, started);
		} else {
			http_on_metrics(h, req, started);
		}
	} else {
		http_error(h, req, ROUTE_OTHER, 404, "not_found",
			   "no such route (see /v1/calls/events, /healthz, /metrics)", started);
	}
}

struct http_front *http_front_new(struct event_base *base, const struct config *cfg,
				  struct ingest *in, struct metrics *metrics)
{
	struct http_front *h = calloc(1, sizeof *h);
	if (h == NULL)
		return NULL;
	h->in = in;
	h->metrics = metrics;
	h->http = evhttp_new(base);
	if (h->http == NULL || http_front_set_config(h, cfg) != 0) {
		http_front_free(h);
		return NULL;
	}
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->http, http_on_request, h);
	return h;
}

int http_front_listen(struct http_front *h, const char *address, int port)
{
	h->listener = evhttp_bind_socket_with_handle(h->http, address, (ev_uint16_t)port);
	if (h->listener == NULL) {
		log_error("http", "cannot listen on %s:%d (in use, or not an address of this host)",
			  address, port);
		return -1;
	}
	log_info("http", "listening on %s:%d", address, port);
	return 0;
}

int http_front_set_config(struct http_front *h, const struct config *cfg)
{
	char *secret = strdup(cfg->auth_gateway_secret);
	if (secret == NULL)
		return -1;
	free(h->secret);
	h->secret = secret;
	h->tolerance_s = cfg->auth_tolerance_s;
	h->max_body = cfg->http_max_body_bytes;
	/* evhttp itself refuses only far larger bodies (with its own page); up to
	 * that, the handler answers a JSON 413 naming the configured limit. */
	int64_t hard = h->max_body * 4 > 1048576 ? h->max_body * 4 : 1048576;
	evhttp_set_max_body_size(h->http, (ev_ssize_t)hard);
	evhttp_set_max_headers_size(h->http, 16384);
	evhttp_set_timeout(h->http, (int)cfg->http_timeout_s);
	return 0;
}

void http_front_close(struct http_front *h)
{
	h->closing = true;
	if (h->listener) {
		evhttp_del_accept_socket(h->http, h->listener);
		h->listener = NULL;
	}
}

void http_front_free(struct http_front *h)
{
	if (h == NULL)
		return;
	if (h->http)
		evhttp_free(h->http);
	free(h->secret);
	free(h);
}
