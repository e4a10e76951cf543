/* httpc.c: the simulator's HTTP client pool: keep-alive evhttp connections,
 * a FIFO of waiting requests, request signing (or the Bearer token) at write
 * time.
 *
 * Each connection is either idle (on the pool's idle stack) or carries exactly
 * one request; evhttp reconnects by itself when the server closed the
 * connection, so a broker restart shows up as failed requests, then as
 * successful ones on fresh connections.
 */
#include "httpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "auth.h"

#define HTTPC_URI_MAX 512

struct httpc_request {
	struct httpc_request *next; /* in the queue or the free list */
	char uri[HTTPC_URI_MAX];
	bool get;           /* a GET without a body, else a POST of body */
	bool bearer;        /* Authorization: Bearer token (none when token is NULL),
			     * else signed with the pool's secret */
	char *token;        /* owned */
	char *header_name;  /* owned; one more header when not NULL */
	char *header_value; /* owned */
	const char *body;
	size_t body_len;
	httpc_done_fn done;
	void *arg;
};

struct httpc_conn {
	struct httpc *pool;
	struct evhttp_connection *evcon;
	struct httpc_request *current; /* NULL when idle */
	const char *failure;           /* set by the error callback of current */
	struct httpc_conn *next_idle;
};

struct httpc {
	struct event_base *base;
	char *secret;
	char *host;
	int port;
	char *path_prefix; /* the url's path without a trailing '/' */
	char host_header[300];

	struct httpc_conn *conns;
	unsigned n_conns;
	struct httpc_conn *idle;

	struct httpc_request *queue_head;
	struct httpc_request *queue_tail;
	struct httpc_request *free_requests;
	size_t pending;

	char *scratch; /* NUL-terminated copy of a response body */
	size_t scratch_cap;
};

static void httpc_dispatch(struct httpc *c);

static const char *httpc_failure_name(enum evhttp_request_error e)
{
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		return "timeout";
	case EVREQ_HTTP_EOF:
		return "connection closed by the server";
	case EVREQ_HTTP_INVALID_HEADER:
		return "invalid response header";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "connection failed";
	case EVREQ_HTTP_REQUEST_CANCEL:
		return "request cancelled";
	case EVREQ_HTTP_DATA_TOO_LONG:
		return "response too long";
	}
	return "request failed";
}

static void httpc_on_error(enum evhttp_request_error e, void *arg)
{
	struct httpc_conn *conn = arg;
	conn->failure = httpc_failure_name(e);
}

/* Frees what r owns, keeping r itself. */
static void httpc_clear_request(struct httpc_request *r)
{
	free(r->token);
	free(r->header_name);
	free(r->header_value);
	r->token = NULL;
	r->header_name = NULL;
	r->header_value = NULL;
}

static void httpc_release_request(struct httpc *c, struct httpc_request *r)
{
	httpc_clear_request(r);
	r->next = c->free_requests;
	c->free_requests = r;
}

/* Finishes conn's current request: the connection goes back to the idle
 * stack before the callback runs, so the callback can reuse it at once. */
static void httpc_complete(struct httpc_conn *conn, const struct httpc_response *resp)
{
	struct httpc *c = conn->pool;
	struct httpc_request *r = conn->current;
	httpc_done_fn done = r->done;
	void *arg = r->arg;

	conn->current = NULL;
	conn->failure = NULL;
	conn->next_idle = c->idle;
	c->idle = conn;
	httpc_release_request(c, r);
	c->pending--;
	done(resp, arg);
	httpc_dispatch(c);
}

static int httpc_parse_retry_after(const char *v)
{
	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	char *end;
	long s = strtol(v, &end, 10);
	while (*end == ' ')
		end++;
	if (*end != '\0' || s < 0 || s > 86400)
		return -1;
	return (int)s;
}

/* Copies the response body into the pool's scratch buffer with a NUL. */
static int httpc_copy_body(struct httpc *c, struct evbuffer *buf, struct httpc_response *resp)
{
	size_t len = buf != NULL ? evbuffer_get_length(buf) : 0;

	if (len + 1 > c->scratch_cap) {
		size_t cap = c->scratch_cap ? c->scratch_cap : 1024;
		while (cap < len + 1)
			cap *= 2;
		char *p = realloc(c->scratch, cap);
		if (p == NULL)
			return -ENOMEM;
		c->scratch = p;
		c->scratch_cap = cap;
	}
	if (len > 0)
		evbuffer_copyout(buf, c->scratch, len);
	c->scratch[len] = '\0';
	resp->body = c->scratch;
	resp->body_len = len;
	return 0;
}

/* evhttp's completion callback: req is NULL, or has no status, when the
 * request failed before a response arrived. */
static void httpc_on_response(struct evhttp_request *req, void *arg)
{
	struct httpc_conn *conn = arg;
	struct httpc_response resp = {
		.status = 0,
		.failure = NULL,
		.body = "",
		.body_len = 0,
		.retry_after_s = -1,
		.idempotent_replay = false,
	};

	if (conn->current == NULL)
		return;
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		/* evhttp reports a refused connect without its error callback. */
		resp.failure = conn->failure != NULL ? conn->failure : "connection failed";
		httpc_complete(conn, &resp);
		return;
	}
	resp.status = evhttp_request_get_response_code(req);
	struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
	resp.retry_after_s = httpc_parse_retry_after(evhttp_find_header(headers, "Retry-After"));
	const char *replay = evhttp_find_header(headers, "Idempotent-Replay");
	resp.idempotent_replay = replay != NULL && strcmp(replay, "true") == 0;
	if (httpc_copy_body(conn->pool, evhttp_request_get_input_buffer(req), &resp) != 0) {
		resp.status = 0;
		resp.failure = "out of memory reading the response";
	}
	httpc_complete(conn, &resp);
}

/* Reports a request that could not even be handed to evhttp; runs from the
 * loop so that httpc_post_json never calls back into its caller. */
static void httpc_on_start_failure(evutil_socket_t fd, short what, void *arg)
{
	struct httpc_conn *conn = arg;
	struct httpc_response resp = {
		.status = 0,
		.failure = "could not start the request",
		.body = "",
		.body_len = 0,
		.retry_after_s = -1,
		.idempotent_replay = false,
	};
	httpc_complete(conn, &resp);
}

/* Adds the request's credentials: the signature over the body, or the
 * Bearer token, or nothing. Returns 0 or -1. */
static int httpc_add_auth(const struct httpc *c, const struct httpc_request *r, struct evkeyvalq *h)
{
	if (r->bearer) {
		char value[16 + HTTPC_TOKEN_MAX];
		if (r->token == NULL)
			return 0;
		snprintf(value, sizeof value, "Bearer %s", r->token);
		return evhttp_add_header(h, "Authorization", value);
	}
	char ts[24];
	char sig[AUTH_SIGNATURE_LEN];
	const int64_t now = (int64_t)time(NULL);
	snprintf(ts, sizeof ts, "%lld", (long long)now);
	auth_sign(c->secret, now, r->body, r->body_len, sig);
	if (evhttp_add_header(h, AUTH_HEADER_TIMESTAMP, ts) != 0 ||
	    evhttp_add_header(h, AUTH_HEADER_SIGNATURE, sig) != 0)
		return -1;
	return 0;
}

/* Hands r to conn: builds, signs and sends it. */
static void httpc_start(struct httpc_conn *conn, struct httpc_request *r)
{
	struct httpc *c = conn->pool;

	conn->current = r;
	conn->failure = NULL;
	struct evhttp_request *req = evhttp_request_new(httpc_on_response, conn);
	if (req == NULL)
		goto fail;
	evhttp_request_set_error_cb(req, httpc_on_error);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	if (evhttp_add_header(h, "Host", c->host_header) != 0 ||
	    (!r->get && evhttp_add_header(h, "Content-Type", "application/json") != 0) ||
	    httpc_add_auth(c, r, h) != 0 ||
	    (r->header_name != NULL &&
	     evhttp_add_header(h, r->header_name, r->header_value) != 0) ||
	    evbuffer_add(evhttp_request_get_output_buffer(req), r->body, r->body_len) != 0) {
		evhttp_request_free(req);
		goto fail;
	}
	/* On failure evhttp has freed req. */
	if (evhttp_make_request(conn->evcon, req, r->get ? EVHTTP_REQ_GET : EVHTTP_REQ_POST,
				r->uri) != 0)
		goto fail;
	return;

fail:
	if (event_base_once(c->base, -1, EV_TIMEOUT, httpc_on_start_failure, conn, NULL) != 0) {
		/* Without the loop's help there is no safe way to call back: keep
		 * the request queued for the next dispatch instead. */
		conn->current = NULL;
		conn->next_idle = c->idle;
		c->idle = conn;
		r->next = c->queue_head;
		c->queue_head = r;
		if (c->queue_tail == NULL)
			c->queue_tail = r;
	}
}

static void httpc_dispatch(struct httpc *c)
{
	while (c->idle != NULL && c->queue_head != NULL) {
		struct httpc_conn *conn = c->idle;
		struct httpc_request *r = c->queue_head;

		c->idle = conn->next_idle;
		c->queue_head = r->next;
		if (c->queue_head == NULL)
			c->queue_tail = NULL;
		r->next = NULL;
		httpc_start(conn, r);
		if (conn->current == NULL)
			break; /* could not start: retried on the next dispatch */
	}
}

/* What a request carries besides its body: a Bearer token (bearer true;
 * none when token is NULL) or the signature, and maybe one more header. */
struct httpc_extras {
	bool get;
	bool bearer;
	const char *token;
	const char *header_name;
	const char *header_value;
};

/* Copies src into *dst unless src is NULL. Returns 0 or -ENOMEM. */
static int httpc_copy_string(char **dst, const char *src)
{
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst != NULL ? 0 : -ENOMEM;
}

/* Queues a POST with its extras (copied). */
static int httpc_queue(struct httpc *c, const char *path, const char *body, size_t body_len,
		       const struct httpc_extras *x, httpc_done_fn done, void *arg)
{
	struct httpc_request *r = c->free_requests;

	if (r != NULL) {
		c->free_requests = r->next;
	} else {
		r = calloc(1, sizeof *r);
		if (r == NULL)
			return -ENOMEM;
	}
	int n = snprintf(r->uri, sizeof r->uri, "%s%s", c->path_prefix, path);
	if (n < 0 || (size_t)n >= sizeof r->uri) {
		httpc_release_request(c, r);
		return -ENAMETOOLONG;
	}
	if (n == 0)
		strcpy(r->uri, "/");
	r->get = x->get;
	r->bearer = x->bearer;
	if (httpc_copy_string(&r->token, x->token) != 0 ||
	    httpc_copy_string(&r->header_name, x->header_name) != 0 ||
	    httpc_copy_string(&r->header_value, x->header_value) != 0) {
		httpc_release_request(c, r);
		return -ENOMEM;
	}
	r->body = body;
	r->body_len = body_len;
	r->done = done;
	r->arg = arg;
	r->next = NULL;
	if (c->queue_tail != NULL)
		c->queue_tail->next = r;
	else
		c->queue_head = r;
	c->queue_tail = r;
	c->pending++;
	httpc_dispatch(c);
	return 0;
}

int httpc_post_json(struct httpc *c, const char *path, const char *body, size_t body_len,
		    httpc_done_fn done, void *arg)
{
	const struct httpc_extras x = {.bearer = false};
	return httpc_queue(c, path, body, body_len, &x, done, arg);
}

/* True when s is non-empty, at most max bytes, and free of control
 * characters (and of spaces unless spaces_ok). */
static bool httpc_header_text_ok(const char *s, size_t max, bool spaces_ok)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f || (ch == ' ' && !spaces_ok))
			return false;
	}
	return true;
}

int httpc_post_json_bearer(struct httpc *c, const char *path, const char *body, size_t body_len,
			   const char *token, httpc_done_fn done, void *arg)
{
	if (token != NULL && !httpc_header_text_ok(token, HTTPC_TOKEN_MAX, false))
		return -EINVAL;
	const struct httpc_extras x = {.bearer = true, .token = token};
	return httpc_queue(c, path, body, body_len, &x, done, arg);
}

int httpc_post_json_header(struct httpc *c, const char *path, const char *body, size_t body_len,
			   const char *name, const char *value, httpc_done_fn done, void *arg)
{
	if (name[0] == '\0' ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789-") != strlen(name) ||
	    !httpc_header_text_ok(value, HTTPC_HEADER_VALUE_MAX, true))
		return -EINVAL;
	const struct httpc_extras x = {.header_name = name, .header_value = value};
	return httpc_queue(c, path, body, body_len, &x, done, arg);
}

int httpc_get(struct httpc *c, const char *path, const char *token, httpc_done_fn done, void *arg)
{
	if (token != NULL && !httpc_header_text_ok(token, HTTPC_TOKEN_MAX, false))
		return -EINVAL;
	/* Signed, a GET is signed over the empty body, as the broker checks it. */
	const struct httpc_extras x = {.get = true, .bearer = token != NULL, .token = token};
	return httpc_queue(c, path, "", 0, &x, done, arg);
}

size_t httpc_pending(const struct httpc *c)
{
	return c->pending;
}

/*
 * Parses the url (http only: the broker sits behind a TLS terminator when it
 * needs one) and opens nothing yet: evhttp connects on the first request.
 */
struct httpc *httpc_new(struct event_base *base, const char *url, const char *secret,
			unsigned connections, int timeout_ms, char *err, size_t err_len)
{
	struct httpc *c = NULL;
	struct evhttp_uri *uri = NULL;

	if (connections == 0 || timeout_ms <= 0) {
		snprintf(err, err_len, "need at least one connection and a positive timeout");
		goto fail;
	}
	uri = evhttp_uri_parse(url);
	if (uri == NULL || evhttp_uri_get_host(uri) == NULL) {
		snprintf(err, err_len, "--url: \"%s\" is not a URL like http://127.0.0.1:8320",
			 url);
		goto fail;
	}
	const char *scheme = evhttp_uri_get_scheme(uri);
	if (scheme == NULL || strcmp(scheme, "http") != 0) {
		snprintf(err, err_len, "--url: \"%s\": only http:// is supported", url);
		goto fail;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL)
		goto oom;
	c->base = base;
	c->port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 80;
	c->host = strdup(evhttp_uri_get_host(uri));
	c->secret = strdup(secret);
	const char *path = evhttp_uri_get_path(uri);
	c->path_prefix = strdup(path != NULL ? path : "");
	if (c->host == NULL || c->secret == NULL || c->path_prefix == NULL)
		goto oom;
	size_t plen = strlen(c->path_prefix);
	while (plen > 0 && c->path_prefix[plen - 1] == '/')
		c->path_prefix[--plen] = '\0';
	snprintf(c->host_header, sizeof c->host_header, "%s:%d", c->host, c->port);

	c->conns = calloc(connections, sizeof *c->conns);
	if (c->conns == NULL)
		goto oom;
	c->n_conns = connections;
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	for (unsigned i = 0; i < connections; i++) {
		struct httpc_conn *conn = &c->conns[i];
		conn->pool = c;
		conn->evcon =
			evhttp_connection_base_new(base, NULL, c->host, (unsigned short)c->port);
		if (conn->evcon == NULL) {
			snprintf(err, err_len, "--url: cannot set up a connection to %s:%d",
				 c->host, c->port);
			goto fail;
		}
		evhttp_connection_set_timeout_tv(conn->evcon, &tv);
		evhttp_connection_set_retries(conn->evcon, 0);
		conn->next_idle = c->idle;
		c->idle = conn;
	}
	evhttp_uri_free(uri);
	return c;

oom:
	snprintf(err, err_len, "out of memory");
fail:
	if (uri != NULL)
		evhttp_uri_free(uri);
	httpc_free(c);
	return NULL;
}

void httpc_free(struct httpc *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; c->conns != NULL && i < c->n_conns; i++) {
		struct httpc_conn *conn = &c->conns[i];
		if (conn->evcon != NULL)
			evhttp_connection_free(conn->evcon);
		if (conn->current != NULL) {
			httpc_clear_request(conn->current);
			free(conn->current);
		}
	}
	while (c->queue_head != NULL) {
		struct httpc_request *r = c->queue_head;
		c->queue_head = r->next;
		httpc_clear_request(r);
		free(r);
	}
	while (c->free_requests != NULL) {
		struct httpc_request *r = c->free_requests;
		c->free_requests = r->next;
		free(r);
	}
	free(c->conns);
	free(c->scratch);
	free(c->host);
	free(c->secret);
	free(c->path_prefix);
	free(c);
}
