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
#include "bookings.h"
#include "orders.h"
#include "router.h"
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
	enum metrics_route route;
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
	/* A connection that failed with a request waiting for its answer has
	 * let go of the request: free it here, the answer is dropped. */
	if (p->req != NULL && evhttp_request_get_connection(p->req) == NULL)
		evhttp_request_free(p->req);
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
		http_reply(p->h, req, p->route, r->status, "application/json", r->body, r->len,
			   p->started);
	}
	free(p);
}

/* A request waiting for a module's answer; NULL after answering 500. */
static struct http_pending *http_pending_new(struct http_front *h, struct evhttp_request *req,
					     enum metrics_route route, int64_t started)
{
	struct http_pending *p = malloc(sizeof *p);
	if (p == NULL) {
		http_error(h, req, route, 500, "internal", "out of memory", started);
		return NULL;
	}
	p->h = h;
	p->req = req;
	p->route = route;
	p->started = started;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (evcon)
		evhttp_connection_set_closecb(evcon, http_on_close, p);
	return p;
}

/* The checks every JSON POST passes: stopping, method, size, media type.
 * Returns the body (len set), or NULL after answering. */
static const char *http_json_body(struct http_front *h, struct evhttp_request *req,
				  enum metrics_route route, int64_t started, size_t *len)
{
	struct evkeyvalq *in_headers = evhttp_request_get_input_headers(req);
	struct evbuffer *in_body = evhttp_request_get_input_buffer(req);

	if (h->closing) {
		/* Stopping: what is in flight is committed and answered; new
		 * requests go to the broker that takes over. */
		struct evkeyvalq *out = evhttp_request_get_output_headers(req);
		evhttp_add_header(out, "Retry-After", "1");
		evhttp_add_header(out, "Connection", "close");
		http_error(h, req, route, 503, "shutting_down",
			   "the broker is stopping; nothing was recorded, retry", started);
		return NULL;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
		http_error(h, req, route, 405, "method_not_allowed", "use POST for this route",
			   started);
		return NULL;
	}
	*len = evbuffer_get_length(in_body);
	if ((int64_t)*len > h->max_body) {
		char msg[128];
		snprintf(msg, sizeof msg, "the body has %zu bytes; the limit is %lld", *len,
			 (long long)h->max_body);
		http_error(h, req, route, 413, "body_too_large", msg, started);
		return NULL;
	}
	const char *ctype = evhttp_find_header(in_headers, "Content-Type");
	if (*len > 0 && (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0 ||
			 (ctype[16] != '\0' && ctype[16] != ';' && ctype[16] != ' '))) {
		http_error(h, req, route, 415, "unsupported_media_type",
			   "Content-Type must be application/json", started);
		return NULL;
	}
	const char *body = (const char *)evbuffer_pullup(in_body, -1);
	return body ? body : "";
}

/* Whether the gateway's secret signed body (for GETs: the empty body). */
static enum auth_result http_signature(struct http_front *h, struct evhttp_request *req,
				       const char *body, size_t len)
{
	struct evkeyvalq *in_headers = evhttp_request_get_input_headers(req);
	return auth_verify(h->secret, evhttp_find_header(in_headers, AUTH_HEADER_TIMESTAMP),
			   evhttp_find_header(in_headers, AUTH_HEADER_SIGNATURE), body, len,
			   timeutil_now_usec() / 1000000, h->tolerance_s);
}

static void http_on_events(struct http_front *h, struct evhttp_request *req, int64_t started)
{
	size_t len = 0;
	const char *body = http_json_body(h, req, ROUTE_EVENTS, started, &len);
	if (body == NULL)
		return;
	enum auth_result ar = http_signature(h, req, body, len);
	if (ar != AUTH_OK) {
		http_error(h, req, ROUTE_EVENTS, 401, "unauthorised", auth_result_message(ar), started);
		return;
	}
	struct http_pending *p = http_pending_new(h, req, ROUTE_EVENTS, started);
	if (p != NULL)
		ingest_submit(h->in, body, len, http_on_ingest_reply, p);
}

/* The bearer token of an agent request, or NULL. */
static const char *http_bearer(struct evhttp_request *req)
{
	const char *a = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0)
		return NULL;
	return a + 7;
}

static bool http_is_get(struct http_front *h, struct evhttp_request *req,
			enum metrics_route route, int64_t started)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	if (cmd == EVHTTP_REQ_GET)
		return true;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
	http_error(h, req, route, 405, "method_not_allowed", "use GET for this route", started);
	return false;
}

/* /v1/agents/...: login, the agent's own requests and stream. */
static void http_on_agents(struct http_front *h, struct evhttp_request *req, const char *action,
			   int64_t started)
{
	struct router *r = ingest_router(h->in);
	if (strcmp(action, "stream") == 0 || strcmp(action, "me") == 0) {
		if (!http_is_get(h, req, ROUTE_AGENTS, started))
			return;
		if (action[0] == 's') {
			if (h->closing) {
				http_error(h, req, ROUTE_AGENTS, 503, "shutting_down",
					   "the broker is stopping; reconnect", started);
				return;
			}
			metrics_count_request(h->metrics, ROUTE_AGENTS, 200, 0);
			router_open_agent_stream(r, http_bearer(req), req);
			return;
		}
		struct http_pending *p = http_pending_new(h, req, ROUTE_AGENTS, started);
		if (p != NULL)
			router_agent_me(r, http_bearer(req), http_on_ingest_reply, p);
		return;
	}
	static const char *const posts[] = {"login", "state", "logout", "wrap-up",
					    "callbacks/accept", "callbacks/finish", NULL};
	bool known = false;
	for (size_t i = 0; posts[i] != NULL; i++)
		known = known || strcmp(action, posts[i]) == 0;
	if (!known) {
		http_error(h, req, ROUTE_AGENTS, 404, "not_found", "no such agent route (see doc/api.md)",
			   started);
		return;
	}
	size_t len = 0;
	const char *body = http_json_body(h, req, ROUTE_AGENTS, started, &len);
	if (body == NULL)
		return;
	struct http_pending *p = http_pending_new(h, req, ROUTE_AGENTS, started);
	if (p == NULL)
		return;
	if (strcmp(action, "login") == 0)
		router_login(r, body, len, http_on_ingest_reply, p);
	else
		router_agent_post(r, action, http_bearer(req), body, len, http_on_ingest_reply, p);
}

/* GET /v1/gateway/commands?centre=C, signed over the empty body. */
static void http_on_gateway(struct http_front *h, struct evhttp_request *req, int64_t started)
{
	if (!http_is_get(h, req, ROUTE_GATEWAY, started))
		return;
	if (h->closing) {
		http_error(h, req, ROUTE_GATEWAY, 503, "shutting_down",
			   "the broker is stopping; reconnect", started);
		return;
	}
	enum auth_result ar = http_signature(h, req, "", 0);
	if (ar != AUTH_OK) {
		http_error(h, req, ROUTE_GATEWAY, 401, "unauthorised", auth_result_message(ar), started);
		return;
	}
	struct evkeyvalq query;
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	char centre[64] = "";
	if (q != NULL && evhttp_parse_query_str(q, &query) == 0) {
		const char *c = evhttp_find_header(&query, "centre");
		if (c != NULL)
			snprintf(centre, sizeof centre, "%s", c);
		evhttp_clear_headers(&query);
	}
	if (centre[0] == '\0') {
		http_error(h, req, ROUTE_GATEWAY, 400, "missing_field",
			   "centre: add ?centre=CODE to the URL", started);
		return;
	}
	metrics_count_request(h->metrics, ROUTE_GATEWAY, 200, 0);
	router_open_gateway_stream(ingest_router(h->in), centre, req);
}

/* POST /v1/workorders from a platform (its own secret); the rest of
 * /v1/workorders and /v1/tickets with an agent's token. */
static void http_on_orders(struct http_front *h, struct evhttp_request *req, const char *path,
			   int64_t started)
{
	struct orders *o = ingest_orders(h->in);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool intake = strcmp(path, "workorders") == 0 && cmd == EVHTTP_REQ_POST;
	size_t len = 0;
	const char *body = "";
	if (cmd == EVHTTP_REQ_POST) {
		body = http_json_body(h, req, ROUTE_ORDERS, started, &len);
		if (body == NULL)
			return;
	} else if (!http_is_get(h, req, ROUTE_ORDERS, started)) {
		return;
	}
	if (intake) {
		const char *platform = evhttp_find_header(evhttp_request_get_input_headers(req),
							  "X-Hotline-Platform");
		const char *secret = orders_platform_secret(o, platform);
		struct evkeyvalq *in_headers = evhttp_request_get_input_headers(req);
		enum auth_result ar =
			secret == NULL ? AUTH_BAD_SIGNATURE
				       : auth_verify(secret,
						     evhttp_find_header(in_headers, AUTH_HEADER_TIMESTAMP),
						     evhttp_find_header(in_headers, AUTH_HEADER_SIGNATURE),
						     body, len, timeutil_now_usec() / 1000000,
						     h->tolerance_s);
		if (ar != AUTH_OK) {
			http_error(h, req, ROUTE_ORDERS, 401, "unauthorised",
				   secret == NULL ? "X-Hotline-Platform names no configured platform"
						  : auth_result_message(ar),
				   started);
			return;
		}
		struct http_pending *p = http_pending_new(h, req, ROUTE_ORDERS, started);
		if (p != NULL)
			orders_intake(o, platform, body, len, http_on_ingest_reply, p);
		return;
	}
	struct http_pending *p = http_pending_new(h, req, ROUTE_ORDERS, started);
	if (p != NULL)
		orders_request(o, cmd == EVHTTP_REQ_GET ? "GET" : "POST", path,
			       evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)),
			       http_bearer(req), body, len, http_on_ingest_reply, p);
}

/* /v1/bookings and /v1/hospitals: an agent's token, or for POST
 * /v1/bookings the gateway's signature (a request that carries one is the
 * gateway's, checked exactly like its events). */
static void http_on_bookings(struct http_front *h, struct evhttp_request *req, const char *path,
			     int64_t started)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	size_t len = 0;
	const char *body = "";
	if (cmd == EVHTTP_REQ_POST) {
		body = http_json_body(h, req, ROUTE_BOOKINGS, started, &len);
		if (body == NULL)
			return;
	} else if (!http_is_get(h, req, ROUTE_BOOKINGS, started)) {
		return;
	}
	struct evkeyvalq *in_headers = evhttp_request_get_input_headers(req);
	bool gateway = cmd == EVHTTP_REQ_POST &&
		       evhttp_find_header(in_headers, AUTH_HEADER_SIGNATURE) != NULL;
	if (gateway) {
		enum auth_result ar = http_signature(h, req, body, len);
		if (ar != AUTH_OK) {
			http_error(h, req, ROUTE_BOOKINGS, 401, "unauthorised",
				   auth_result_message(ar), started);
			return;
		}
	}
	struct http_pending *p = http_pending_new(h, req, ROUTE_BOOKINGS, started);
	if (p != NULL)
		bookings_request(ingest_bookings(h->in), cmd == EVHTTP_REQ_GET ? "GET" : "POST", path,
				 evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)), gateway,
				 http_bearer(req), body, len, http_on_ingest_reply, p);
}

/* GET /v1/centres/C/queues|callbacks: signed, or an agent's token. */
static void http_on_centres(struct http_front *h, struct evhttp_request *req, const char *rest,
			    int64_t started)
{
	if (!http_is_get(h, req, ROUTE_CENTRES, started))
		return;
	char centre[64];
	const char *slash = strchr(rest, '/');
	if (slash == NULL || (size_t)(slash - rest) >= sizeof centre) {
		http_error(h, req, ROUTE_CENTRES, 404, "not_found",
			   "use /v1/centres/CODE/queues or /v1/centres/CODE/callbacks", started);
		return;
	}
	memcpy(centre, rest, (size_t)(slash - rest));
	centre[slash - rest] = '\0';
	bool signed_ok = http_signature(h, req, "", 0) == AUTH_OK;
	struct http_pending *p = http_pending_new(h, req, ROUTE_CENTRES, started);
	if (p != NULL)
		router_centre_get(ingest_router(h->in), centre, slash + 1, signed_ok, http_bearer(req),
				  http_on_ingest_reply, p);
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
	h->metrics->agents_logged_in = router_agents_logged_in(ingest_router(h->in));
	orders_fill_metrics(ingest_orders(h->in), h->metrics);
	struct statsfold_counts folds = ingest_statsfold_counts(h->in);
	h->metrics->stats_folds = folds.folds;
	h->metrics->stats_fold_failures = folds.failures;
	h->metrics->stats_folded_rows = folds.rows;
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
	} else if (strncmp(path, "/v1/agents/", 11) == 0) {
		http_on_agents(h, req, path + 11, started);
	} else if (strcmp(path, "/v1/gateway/commands") == 0) {
		http_on_gateway(h, req, started);
	} else if (strncmp(path, "/v1/workorders", 14) == 0 || strncmp(path, "/v1/tickets", 11) == 0) {
		http_on_orders(h, req, path + 4, started);
	} else if (strncmp(path, "/v1/centres/", 12) == 0) {
		http_on_centres(h, req, path + 12, started);
	} else if (strcmp(path, "/v1/bookings") == 0 || strcmp(path, "/v1/hospitals") == 0) {
		http_on_bookings(h, req, path + 4, started);
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
			   "no such route (see doc/api.md: /v1/calls/events, /v1/agents/..., "
			   "/v1/gateway/commands, /v1/centres/..., /v1/bookings, /v1/hospitals, "
			   "/healthz, /metrics)",
			   started);
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
