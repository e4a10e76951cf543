/* ssec.c: the Server-Sent Events client (see ssec.h): one GET per
 * connection over a bufferevent, the response head, the body decoded from
 * chunks (or read as it comes), the body cut into lines and the lines into
 * messages; reconnection with backoff.
 *
 * A client is in one of four states, changed only by ssec_set_state:
 * waiting (no connection, the timer will connect), connecting (the request
 * is written, the status line has not come), reading the head, and
 * streaming. Every failure goes through ssec_fail, which closes, reports and
 * schedules the next attempt.
 *
 * Freeing from a callback: every entry from the loop counts itself in depth;
 * ssec_free inside a callback only marks the client, no callback runs after
 * that, and the last entry to leave frees it.
 */
#include "ssec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/util.h>
#include <sodium.h>

#include "auth.h"

#define SSEC_BACKOFF_FIRST_MS 50
#define SSEC_BACKOFF_MAX_MS 2000
/* Connecting and waiting for the response head. */
#define SSEC_CONNECT_TIMEOUT_S 10
/* Silence that ends a stream: the broker sends a comment every 15 s. */
#define SSEC_IDLE_TIMEOUT_S 60
#define SSEC_HEAD_MAX 16384
/* The longest line, and the most data one message may carry. */
#define SSEC_MESSAGE_MAX (1u << 20)
/* A chunk-size line, with extensions. */
#define SSEC_CHUNK_LINE_MAX 1024
#define SSEC_EVENT_MAX 64

enum ssec_conn_state {
	SSEC_WAITING,    /* no connection; the timer connects */
	SSEC_CONNECTING, /* the request is written; no status line yet */
	SSEC_HEAD,       /* reading the header lines */
	SSEC_STREAMING,  /* a 200 event stream: reading messages */
};

enum ssec_body {
	SSEC_BODY_UNTIL_CLOSE,
	SSEC_BODY_LENGTH,
	SSEC_BODY_CHUNKED,
};

enum ssec_chunk {
	SSEC_CHUNK_SIZE,     /* the hexadecimal size line */
	SSEC_CHUNK_DATA,     /* remaining bytes of the chunk */
	SSEC_CHUNK_DATA_END, /* the CRLF after the data */
	SSEC_CHUNK_TRAILER,  /* trailer lines up to the blank one */
};

struct ssec {
	struct event_base *base;
	struct sockaddr_storage addr;
	int addr_len;
	char *host_header;
	char *target; /* path and query of the request */
	enum ssec_auth_kind auth_kind;
	char *secret;
	ssec_message_fn on_message;
	ssec_state_fn on_state;
	void *arg;

	enum ssec_conn_state state;
	struct bufferevent *bev;
	struct event *timer;
	int backoff_ms;

	/* the response being read */
	int status;
	bool event_stream;
	enum ssec_body body_kind;
	uint64_t remaining; /* of a Content-Length body, or of the current chunk */
	enum ssec_chunk chunk;
	struct evbuffer *body; /* decoded bytes not yet cut into lines */

	/* the message being read */
	char event[SSEC_EVENT_MAX + 1];
	char *data;
	size_t data_len;
	size_t data_cap;
	bool has_data;

	bool reported_401;
	int err;
	char errstr[256];
	unsigned long messages;
	unsigned long connections;

	int depth;
	bool free_requested;
};

static void ssec_on_read(struct bufferevent *bev, void *arg);
static void ssec_on_event(struct bufferevent *bev, short what, void *arg);

static void ssec_destroy(struct ssec *s)
{
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->body != NULL)
		evbuffer_free(s->body);
	if (s->secret != NULL) {
		sodium_memzero(s->secret, strlen(s->secret));
		free(s->secret);
	}
	free(s->data);
	free(s->host_header);
	free(s->target);
	free(s);
}

static void ssec_enter(struct ssec *s)
{
	s->depth++;
}

/* Leaves a loop callback; frees the client when it was freed inside. */
static void ssec_leave(struct ssec *s)
{
	if (--s->depth == 0 && s->free_requested)
		ssec_destroy(s);
}

static void ssec_set_state(struct ssec *s, enum ssec_conn_state state)
{
	s->state = state;
}

static void ssec_report(struct ssec *s, enum ssec_state state, const char *detail)
{
	if (s->on_state != NULL && !s->free_requested)
		s->on_state(state, detail, s->arg);
}

static void ssec_reset_message(struct ssec *s)
{
	s->event[0] = '\0';
	s->data_len = 0;
	s->has_data = false;
}

static void ssec_schedule(struct ssec *s, int delay_ms)
{
	struct timeval tv = {.tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000};
	evtimer_add(s->timer, &tv);
}

/*
 * Ends the current connection because of err (an HTTP status or a negative
 * errno) and schedules the next attempt. Reports a lost stream, and the
 * first 401 of a run of them. The report comes last: the caller must not
 * touch s afterwards unless s->free_requested is false.
 */
static void ssec_fail(struct ssec *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ssec_fail(struct ssec *s, int err, const char *fmt, ...)
{
	va_list ap;
	bool was_streaming = s->state == SSEC_STREAMING;

	va_start(ap, fmt);
	vsnprintf(s->errstr, sizeof s->errstr, fmt, ap);
	va_end(ap);
	s->err = err;
	if (s->bev != NULL) {
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
	evbuffer_drain(s->body, evbuffer_get_length(s->body));
	ssec_reset_message(s);
	ssec_set_state(s, SSEC_WAITING);
	ssec_schedule(s, s->backoff_ms);
	s->backoff_ms = s->backoff_ms * 2 > SSEC_BACKOFF_MAX_MS ? SSEC_BACKOFF_MAX_MS :
								  s->backoff_ms * 2;
	if (err == 401 && !s->reported_401) {
		s->reported_401 = true;
		ssec_report(s, SSEC_UNAUTHORISED, s->errstr);
	} else if (was_streaming) {
		ssec_report(s, SSEC_DISCONNECTED, s->errstr);
	}
}

/* Writes the request, signed or with the token as configured now. */
static int ssec_write_request(struct ssec *s)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	int rc = evbuffer_add_printf(out,
				     "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n"
				     "Cache-Control: no-cache\r\n",
				     s->target, s->host_header);
	if (rc >= 0 && s->auth_kind == SSEC_AUTH_SIGNED) {
		char sig[AUTH_SIGNATURE_LEN];
		const int64_t now = (int64_t)time(NULL);
		auth_sign(s->secret, now, "", 0, sig);
		rc = evbuffer_add_printf(out, "%s: %lld\r\n%s: %s\r\n", AUTH_HEADER_TIMESTAMP,
					 (long long)now, AUTH_HEADER_SIGNATURE, sig);
	} else if (rc >= 0 && s->auth_kind == SSEC_AUTH_BEARER) {
		rc = evbuffer_add_printf(out, "Authorization: Bearer %s\r\n", s->secret);
	}
	if (rc >= 0)
		rc = evbuffer_add(out, "\r\n", 2);
	return rc < 0 ? -ENOMEM : 0;
}

static void ssec_connect(struct ssec *s)
{
	struct timeval connect_tv = {.tv_sec = SSEC_CONNECT_TIMEOUT_S, .tv_usec = 0};

	s->status = 0;
	s->event_stream = false;
	s->body_kind = SSEC_BODY_UNTIL_CLOSE;
	s->remaining = 0;
	s->chunk = SSEC_CHUNK_SIZE;
	s->bev = bufferevent_socket_new(s->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		ssec_fail(s, -ENOMEM, "cannot create a connection");
		return;
	}
	bufferevent_setcb(s->bev, ssec_on_read, NULL, ssec_on_event, s);
	bufferevent_set_timeouts(s->bev, &connect_tv, &connect_tv);
	ssec_set_state(s, SSEC_CONNECTING);
	if (bufferevent_enable(s->bev, EV_READ | EV_WRITE) != 0 || ssec_write_request(s) != 0) {
		ssec_fail(s, -ENOMEM, "cannot write the request");
		return;
	}
	if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&s->addr, s->addr_len) != 0) {
		int e = EVUTIL_SOCKET_ERROR();
		ssec_fail(s, -e, "connection failed: %s", evutil_socket_error_to_string(e));
	}
}

static void ssec_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ssec *s = arg;

	ssec_enter(s);
	ssec_connect(s);
	ssec_leave(s);
}

/* --- the response head ------------------------------------------------------ */

static void ssec_head_line(struct ssec *s, const char *line)
{
	const char *colon = strchr(line, ':');
	if (colon == NULL)
		return;
	size_t name_len = (size_t)(colon - line);
	const char *value = colon + 1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (name_len == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
		if (strcasestr(value, "chunked") != NULL)
			s->body_kind = SSEC_BODY_CHUNKED;
	} else if (name_len == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
		if (s->body_kind != SSEC_BODY_CHUNKED) {
			s->body_kind = SSEC_BODY_LENGTH;
			s->remaining = strtoull(value, NULL, 10);
		}
	} else if (name_len == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
		s->event_stream = strncasecmp(value, "text/event-stream", 17) == 0;
	}
}

/* Reads head lines. Returns 1 once the head is complete and accepted, 0 when
 * more is needed, -1 after ssec_fail. */
static int ssec_read_head(struct ssec *s, struct evbuffer *in)
{
	size_t n;
	char *line;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		if (s->state == SSEC_CONNECTING) {
			int major, minor, status;
			bool ok = sscanf(line, "HTTP/%d.%d %d", &major, &minor, &status) == 3 &&
				  status >= 100 && status <= 999;
			free(line);
			if (!ok) {
				ssec_fail(s, -EPROTO, "the answer is not HTTP");
				return -1;
			}
			s->status = status;
			ssec_set_state(s, SSEC_HEAD);
			continue;
		}
		if (n > 0) {
			ssec_head_line(s, line);
			free(line);
			continue;
		}
		free(line);
		if (s->status != 200) {
			ssec_fail(s, s->status, "HTTP %d", s->status);
			return -1;
		}
		if (!s->event_stream) {
			ssec_fail(s, -EPROTO, "HTTP 200 without Content-Type: text/event-stream");
			return -1;
		}
		return 1;
	}
	if (evbuffer_get_length(in) > SSEC_HEAD_MAX) {
		ssec_fail(s, -EPROTO, "the response head is longer than %d bytes", SSEC_HEAD_MAX);
		return -1;
	}
	return 0;
}

/* The stream is accepted: back to the shortest backoff. */
static void ssec_accept(struct ssec *s)
{
	struct timeval idle_tv = {.tv_sec = SSEC_IDLE_TIMEOUT_S, .tv_usec = 0};

	ssec_set_state(s, SSEC_STREAMING);
	bufferevent_set_timeouts(s->bev, &idle_tv, &idle_tv);
	s->backoff_ms = SSEC_BACKOFF_FIRST_MS;
	s->reported_401 = false;
	s->err = 0;
	s->errstr[0] = '\0';
	s->connections++;
	ssec_report(s, SSEC_CONNECTED, "");
}

/* --- the body ------------------------------------------------------------------ */

/* Moves what in holds of the current chunk or Content-Length body (at most
 * s->remaining bytes) to s->body. */
static void ssec_move_counted(struct ssec *s, struct evbuffer *in)
{
	size_t avail = evbuffer_get_length(in);
	size_t take = avail < s->remaining ? avail : (size_t)s->remaining;

	evbuffer_remove_buffer(in, s->body, take);
	s->remaining -= take;
}

/* Moves decoded body bytes from in to s->body. Returns 1 when the body is
 * complete, 0 when more is needed, -1 after ssec_fail. */
static int ssec_decode_body(struct ssec *s, struct evbuffer *in)
{
	size_t n;
	char *line;

	if (s->body_kind == SSEC_BODY_UNTIL_CLOSE) {
		evbuffer_add_buffer(s->body, in);
		return 0;
	}
	if (s->body_kind == SSEC_BODY_LENGTH) {
		ssec_move_counted(s, in);
		return s->remaining == 0 ? 1 : 0;
	}
	for (;;) {
		switch (s->chunk) {
		case SSEC_CHUNK_SIZE: {
			line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
			if (line == NULL)
				goto need_more;
			char *end;
			errno = 0;
			unsigned long long size = strtoull(line, &end, 16);
			bool ok = end != line && errno == 0 &&
				  (*end == '\0' || *end == ';' || *end == ' ' || *end == '\t');
			free(line);
			if (!ok) {
				ssec_fail(s, -EPROTO, "a malformed chunk size");
				return -1;
			}
			s->remaining = size;
			s->chunk = size == 0 ? SSEC_CHUNK_TRAILER : SSEC_CHUNK_DATA;
			break;
		}
		case SSEC_CHUNK_DATA:
			if (evbuffer_get_length(in) == 0)
				return 0;
			ssec_move_counted(s, in);
			if (s->remaining == 0)
				s->chunk = SSEC_CHUNK_DATA_END;
			break;
		case SSEC_CHUNK_DATA_END:
			line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
			if (line == NULL)
				goto need_more;
			free(line);
			if (n != 0) {
				ssec_fail(s, -EPROTO, "chunk data longer than its size");
				return -1;
			}
			s->chunk = SSEC_CHUNK_SIZE;
			break;
		case SSEC_CHUNK_TRAILER:
			line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
			if (line == NULL)
				goto need_more;
			free(line);
			if (n == 0)
				return 1;
			break;
		}
	}
need_more:
	if (evbuffer_get_length(in) > SSEC_CHUNK_LINE_MAX) {
		ssec_fail(s, -EPROTO, "a chunk line longer than %d bytes", SSEC_CHUNK_LINE_MAX);
		return -1;
	}
	return 0;
}

/* Hands the message read so far to on_message, if it has data. */
static void ssec_dispatch(struct ssec *s)
{
	if (s->has_data) {
		if (s->data_len > 0 && s->data[s->data_len - 1] == '\n')
			s->data_len--;
		s->data[s->data_len] = '\0';
		s->messages++;
		if (!s->free_requested)
			s->on_message(s->event[0] != '\0' ? s->event : "message", s->data,
				      s->data_len, s->arg);
	}
	ssec_reset_message(s);
}

/* Appends a data line and its "\n". Returns 0, or -1 after ssec_fail. */
static int ssec_append_data(struct ssec *s, const char *value, size_t len)
{
	size_t need = s->data_len + len + 2; /* the "\n" and the final NUL */

	if (need > SSEC_MESSAGE_MAX) {
		ssec_fail(s, -EMSGSIZE, "a message of more than %u bytes", SSEC_MESSAGE_MAX);
		return -1;
	}
	if (need > s->data_cap) {
		size_t cap = s->data_cap > 0 ? s->data_cap : 256;
		while (cap < need)
			cap *= 2;
		char *p = realloc(s->data, cap);
		if (p == NULL) {
			ssec_fail(s, -ENOMEM, "out of memory reading a message");
			return -1;
		}
		s->data = p;
		s->data_cap = cap;
	}
	memcpy(s->data + s->data_len, value, len);
	s->data_len += len;
	s->data[s->data_len++] = '\n';
	s->has_data = true;
	return 0;
}

/* One line of the event stream. Returns 0, or -1 after ssec_fail. */
static int ssec_stream_line(struct ssec *s, const char *line, size_t n)
{
	if (n == 0) {
		ssec_dispatch(s);
		return 0;
	}
	if (line[0] == ':')
		return 0; /* a comment: keep-alive */
	const char *colon = memchr(line, ':', n);
	size_t name_len = colon != NULL ? (size_t)(colon - line) : n;
	const char *value = colon != NULL ? colon + 1 : line + n;
	if (value < line + n && *value == ' ')
		value++;
	size_t value_len = (size_t)(line + n - value);

	if (name_len == 5 && memcmp(line, "event", 5) == 0) {
		size_t len = value_len < SSEC_EVENT_MAX ? value_len : SSEC_EVENT_MAX;
		memcpy(s->event, value, len);
		s->event[len] = '\0';
	} else if (name_len == 4 && memcmp(line, "data", 4) == 0) {
		return ssec_append_data(s, value, value_len);
	}
	return 0;
}

/* Cuts s->body into lines and lines into messages, until the buffer holds
 * no complete line or the client was freed. Returns 0, or -1 after ssec_fail. */
static int ssec_read_messages(struct ssec *s)
{
	size_t n;
	char *line;

	while (!s->free_requested && (line = evbuffer_readln(s->body, &n, EVBUFFER_EOL_CRLF))) {
		int rc = ssec_stream_line(s, line, n);
		free(line);
		if (rc != 0)
			return -1;
	}
	if (evbuffer_get_length(s->body) > SSEC_MESSAGE_MAX) {
		ssec_fail(s, -EMSGSIZE, "a line of more than %u bytes", SSEC_MESSAGE_MAX);
		return -1;
	}
	return 0;
}

static void ssec_read(struct ssec *s, struct evbuffer *in)
{
	if (s->state == SSEC_CONNECTING || s->state == SSEC_HEAD) {
		int rc = ssec_read_head(s, in);
		if (rc <= 0)
			return;
		ssec_accept(s);
		if (s->free_requested)
			return;
	}
	int ended = ssec_decode_body(s, in);
	if (ended < 0 || ssec_read_messages(s) != 0 || s->free_requested)
		return;
	if (ended == 1)
		ssec_fail(s, -EPIPE, "the server ended the stream");
}

static void ssec_on_read(struct bufferevent *bev, void *arg)
{
	struct ssec *s = arg;

	ssec_enter(s);
	if (!s->free_requested)
		ssec_read(s, bufferevent_get_input(bev));
	ssec_leave(s);
}

static void ssec_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct ssec *s = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;
	ssec_enter(s);
	if (s->free_requested) {
		/* nothing: it is freed on the way out */
	} else if (what & BEV_EVENT_TIMEOUT) {
		ssec_fail(s, -ETIMEDOUT, "%s",
			  s->state == SSEC_STREAMING ? "no message or keep-alive for too long" :
						       "timeout waiting for the answer");
	} else if (what & BEV_EVENT_EOF) {
		ssec_fail(s, -EPIPE, "connection closed by the server");
	} else {
		int e = EVUTIL_SOCKET_ERROR();
		ssec_fail(s, e != 0 ? -e : -EIO, "connection failed: %s",
			  e != 0 ? evutil_socket_error_to_string(e) : "unknown error");
	}
	ssec_leave(s);
}

/* --- the public side -------------------------------------------------------------- */

/* Tokens and secrets go into a header line: no control characters. */
static bool ssec_header_safe(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* Resolves host once, keeping the first address. */
static int ssec_resolve(struct ssec *s, const char *host, int port, char *err, size_t err_len)
{
	struct evutil_addrinfo hints, *res = NULL;
	char service[16];

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	snprintf(service, sizeof service, "%d", port);
	int rc = evutil_getaddrinfo(host, service, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(err, err_len, "cannot resolve %s: %s", host,
			 rc != 0 ? evutil_gai_strerror(rc) : "no address");
		return -1;
	}
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addr_len = (int)res->ai_addrlen;
	evutil_freeaddrinfo(res);
	return 0;
}

struct ssec *ssec_new(struct event_base *base, const char *url, const char *path,
		      const struct ssec_auth *auth, ssec_message_fn on_message,
		      ssec_state_fn on_state, void *arg, char *err, size_t err_len)
{
	struct ssec *s = NULL;
	struct evhttp_uri *uri = evhttp_uri_parse(url);

	if (uri == NULL || evhttp_uri_get_host(uri) == NULL) {
		snprintf(err, err_len, "\"%s\" is not a URL like http://127.0.0.1:8320", url);
		goto fail;
	}
	const char *scheme = evhttp_uri_get_scheme(uri);
	if (scheme == NULL || strcmp(scheme, "http") != 0) {
		snprintf(err, err_len, "\"%s\": only http:// is supported", url);
		goto fail;
	}
	if (auth->kind != SSEC_AUTH_NONE &&
	    (auth->secret == NULL || auth->secret[0] == '\0' || !ssec_header_safe(auth->secret))) {
		snprintf(err, err_len, "the %s is empty or holds control characters",
			 auth->kind == SSEC_AUTH_SIGNED ? "secret" : "token");
		goto fail;
	}
	s = calloc(1, sizeof *s);
	if (s == NULL)
		goto oom;
	s->base = base;
	s->auth_kind = auth->kind;
	s->on_message = on_message;
	s->on_state = on_state;
	s->arg = arg;
	s->backoff_ms = SSEC_BACKOFF_FIRST_MS;
	int port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 80;
	const char *host = evhttp_uri_get_host(uri);
	const char *prefix = evhttp_uri_get_path(uri) != NULL ? evhttp_uri_get_path(uri) : "";
	size_t prefix_len = strlen(prefix);
	while (prefix_len > 0 && prefix[prefix_len - 1] == '/')
		prefix_len--;
	if (asprintf(&s->host_header, "%s:%d", host, port) < 0) {
		s->host_header = NULL;
		goto oom;
	}
	if (asprintf(&s->target, "%.*s%s", (int)prefix_len, prefix, path) < 0) {
		s->target = NULL;
		goto oom;
	}
	if (auth->kind != SSEC_AUTH_NONE && (s->secret = strdup(auth->secret)) == NULL)
		goto oom;
	s->body = evbuffer_new();
	s->timer = evtimer_new(base, ssec_on_timer, s);
	if (s->body == NULL || s->timer == NULL)
		goto oom;
	if (ssec_resolve(s, host, port, err, err_len) != 0)
		goto fail;
	evhttp_uri_free(uri);
	ssec_set_state(s, SSEC_WAITING);
	ssec_schedule(s, 0);
	return s;

oom:
	snprintf(err, err_len, "out of memory");
fail:
	if (uri != NULL)
		evhttp_uri_free(uri);
	if (s != NULL)
		ssec_destroy(s);
	return NULL;
}

int ssec_set_bearer(struct ssec *s, const char *token)
{
	if (s->auth_kind != SSEC_AUTH_BEARER || token[0] == '\0' || !ssec_header_safe(token))
		return -EINVAL;
	char *copy = strdup(token);
	if (copy == NULL)
		return -ENOMEM;
	sodium_memzero(s->secret, strlen(s->secret));
	free(s->secret);
	s->secret = copy;
	return 0;
}

bool ssec_connected(const struct ssec *s)
{
	return s->state == SSEC_STREAMING;
}

unsigned long ssec_messages(const struct ssec *s)
{
	return s->messages;
}

unsigned long ssec_connections(const struct ssec *s)
{
	return s->connections;
}

int ssec_err(const struct ssec *s)
{
	return s->err;
}

const char *ssec_errstr(const struct ssec *s)
{
	return s->errstr;
}

void ssec_free(struct ssec *s)
{
	if (s == NULL)
		return;
	if (s->depth > 0) {
		s->free_requested = true;
		return;
	}
	ssec_destroy(s);
}
