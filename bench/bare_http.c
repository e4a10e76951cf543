/* bare_http.c: the HTTP limit of the ingest benchmark.
 *
 * A bare evhttp server on one event loop that does for POST /v1/calls/events
 * only what no broker can skip: check the HMAC signature (auth_verify), parse
 * the body with jansson, check that the fields of the event type are present
 * and are strings of the right alphabet, and answer 200 with a small JSON body
 * at once. It stores nothing, talks to no database and keeps no call state, so
 * its throughput under the same load generator is the ceiling the broker's
 * durable throughput is compared with.
 *
 * It prints "bare_http: listening on ADDRESS:PORT" once bound (--port 0 picks a
 * free port) and stops on SIGINT/SIGTERM or after --max-seconds.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <jansson.h>

#include "auth.h"

#define BARE_MAX_BODY 65536
#define BARE_TOLERANCE_S 300

struct bare_server {
	struct event_base *base;
	struct evhttp *http;
	char *secret;
	unsigned long long answered;
};

/* Gateway ids: 1-64 of A-Z a-z 0-9 . _ : - (doc/api.md). */
static bool bare_valid_id(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char ch = s[n];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == ':' || ch == '-'))
			return false;
	}
	return n >= 1 && n <= 64;
}

static void bare_send_error(struct evhttp_request *req, int status, const char *reason,
			    const char *code, const char *field, const char *message)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	/* code, field and message are fixed strings of this file: no escaping needed */
	evbuffer_add_printf(out,
			    "{\"error\":{\"status\":%d,\"code\":\"%s\",\"field\":\"%s\","
			    "\"message\":\"%s\"}}",
			    status, code, field, message);
	evhttp_send_reply(req, status, reason, NULL);
}

/* The string value of key in obj, or NULL if absent or not a string. */
static const char *bare_string_field(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static void bare_handle_event(struct evhttp_request *req, void *arg)
{
	struct bare_server *srv = arg;
	struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
	json_t *root = NULL;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		bare_send_error(req, 405, "Method Not Allowed", "method_not_allowed", "",
				"use POST");
		return;
	}
	const char *ctype = evhttp_find_header(headers, "Content-Type");
	if (ctype == NULL || strncmp(ctype, "application/json", 16) != 0) {
		bare_send_error(req, 415, "Unsupported Media Type", "unsupported_media_type", "",
				"Content-Type must be application/json");
		return;
	}

	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const unsigned char *body = evbuffer_pullup(in, -1);
	if (body == NULL)
		body = (const unsigned char *)"";

	enum auth_result ar = auth_verify(srv->secret, evhttp_find_header(headers, AUTH_HEADER_TIMESTAMP),
					  evhttp_find_header(headers, AUTH_HEADER_SIGNATURE), body,
					  len, (int64_t)time(NULL), BARE_TOLERANCE_S);
	if (ar != AUTH_OK) {
		bare_send_error(req, 401, "Unauthorized", "unauthorised", "",
				auth_result_message(ar));
		return;
	}

	json_error_t jerr;
	root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		bare_send_error(req, 400, "Bad Request", "malformed_json", "",
				"the body is not JSON");
		return;
	}
	if (!json_is_object(root)) {
		bare_send_error(req, 400, "Bad Request", "not_an_object", "",
				"the body must be a JSON object");
		goto out;
	}

	static const char *const common[] = { "event_id", "type", "call_id", "centre", "time" };
	const char *value[5];
	for (size_t i = 0; i < 5; i++) {
		value[i] = bare_string_field(root, common[i]);
		if (value[i] == NULL) {
			bare_send_error(req, 400, "Bad Request", "missing_field", common[i],
					"a required string field is missing");
			goto out;
		}
	}
	const char *event_id = value[0], *type = value[1], *call_id = value[2];
	if (!bare_valid_id(event_id) || !bare_valid_id(call_id)) {
		bare_send_error(req, 400, "Bad Request", "invalid_field", "event_id",
				"ids are 1-64 of A-Z a-z 0-9 . _ : -");
		goto out;
	}

	const char *state;
	if (strcmp(type, "call.offered") == 0) {
		static const char *const extra[] = { "caller", "dialled", "ivr_path" };
		for (size_t i = 0; i < 3; i++) {
			if (bare_string_field(root, extra[i]) == NULL) {
				bare_send_error(req, 400, "Bad Request", "missing_field", extra[i],
						"a required string field is missing");
				goto out;
			}
		}
		state = "queued";
	} else if (strcmp(type, "call.answered") == 0) {
		if (bare_string_field(root, "agent") == NULL) {
			bare_send_error(req, 400, "Bad Request", "missing_field", "agent",
					"a required string field is missing");
			goto out;
		}
		state = "talking";
	} else if (strcmp(type, "call.ended") == 0) {
		state = "ended";
	} else if (strcmp(type, "call.abandoned") == 0) {
		state = "abandoned";
	} else if (strcmp(type, "call.transferred") == 0) {
		state = "queued";
	} else if (strcmp(type, "call.ivr_completed") == 0) {
		state = "ivr_done";
	} else {
		bare_send_error(req, 422, "Unprocessable Entity", "unknown_event_type", "type",
				"unknown event type");
		goto out;
	}

	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	/* the ids were checked against a JSON-safe alphabet above */
	evbuffer_add_printf(out, "{\"event_id\":\"%s\",\"call_id\":\"%s\",\"state\":\"%s\"}",
			    event_id, call_id, state);
	evhttp_send_reply(req, 200, "OK", NULL);
	srv->answered++;
out:
	json_decref(root);
}

static void bare_handle_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	bare_send_error(req, 404, "Not Found", "not_found", "", "no such route");
}

static void bare_on_signal(evutil_socket_t sig, short events, void *arg)
{
	(void)sig;
	(void)events;
	event_base_loopbreak(arg);
}

static void bare_on_deadline(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	fprintf(stderr, "bare_http: --max-seconds reached, stopping\n");
	event_base_loopbreak(arg);
}

static char *bare_read_secret(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "bare_http: cannot open secret file %s: %s\n", path, strerror(errno));
		return NULL;
	}
	char buf[1024];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (n == 0) {
		fprintf(stderr, "bare_http: secret file %s is empty\n", path);
		return NULL;
	}
	return strdup(buf);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bare_http [--host 127.0.0.1] [--port 0] [--secret-file FILE]"
		   " [--max-seconds 900]\n"
		   "  the secret comes from --secret-file or $HOTLINE_GATEWAY_SECRET\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "secret-file", required_argument, NULL, 's' },
		{ "max-seconds", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bare_server srv = { 0 };
	struct event *ev_int = NULL, *ev_term = NULL, *ev_deadline = NULL;
	const char *host = "127.0.0.1";
	const char *secret_file = NULL;
	long port = 0, max_seconds = 900;
	int ch, rc = 1;
	char *end;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			host = optarg;
			break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end != '\0' || port < 0 || port > 65535) {
				fprintf(stderr, "bare_http: --port must be 0..65535\n");
				return 2;
			}
			break;
		case 's':
			secret_file = optarg;
			break;
		case 'm':
			max_seconds = strtol(optarg, &end, 10);
			if (*end != '\0' || max_seconds < 1 || max_seconds > 86400) {
				fprintf(stderr, "bare_http: --max-seconds must be 1..86400\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}

	if (secret_file != NULL)
		srv.secret = bare_read_secret(secret_file);
	else if (getenv("HOTLINE_GATEWAY_SECRET") != NULL && *getenv("HOTLINE_GATEWAY_SECRET"))
		srv.secret = strdup(getenv("HOTLINE_GATEWAY_SECRET"));
	else
		fprintf(stderr, "bare_http: no secret: give --secret-file or set HOTLINE_GATEWAY_SECRET\n");
	if (srv.secret == NULL)
		goto out;
	if (auth_init() != 0) {
		fprintf(stderr, "bare_http: libsodium failed to initialise\n");
		goto out;
	}

	srv.base = event_base_new();
	srv.http = srv.base ? evhttp_new(srv.base) : NULL;
	if (srv.http == NULL) {
		fprintf(stderr, "bare_http: cannot create the event loop\n");
		goto out;
	}
	evhttp_set_max_body_size(srv.http, BARE_MAX_BODY);
	evhttp_set_timeout(srv.http, 30);
	evhttp_set_allowed_methods(srv.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_cb(srv.http, "/v1/calls/events", bare_handle_event, &srv);
	evhttp_set_gencb(srv.http, bare_handle_other, NULL);

	struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(srv.http, host,
									    (ev_uint16_t)port);
	if (bound == NULL) {
		fprintf(stderr, "bare_http: cannot listen on %s:%ld: %s\n", host, port,
			strerror(errno));
		goto out;
	}
	struct sockaddr_storage ss;
	socklen_t ss_len = sizeof ss;
	if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss, &ss_len) != 0) {
		perror("bare_http: getsockname");
		goto out;
	}
	unsigned bound_port = ss.ss_family == AF_INET6
				      ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
				      : ntohs(((struct sockaddr_in *)&ss)->sin_port);

	ev_int = evsignal_new(srv.base, SIGINT, bare_on_signal, srv.base);
	ev_term = evsignal_new(srv.base, SIGTERM, bare_on_signal, srv.base);
	ev_deadline = evtimer_new(srv.base, bare_on_deadline, srv.base);
	struct timeval deadline = { .tv_sec = max_seconds };
	if (ev_int == NULL || ev_term == NULL || ev_deadline == NULL ||
	    event_add(ev_int, NULL) != 0 || event_add(ev_term, NULL) != 0 ||
	    event_add(ev_deadline, &deadline) != 0) {
		fprintf(stderr, "bare_http: cannot set up signal handling\n");
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);

	printf("bare_http: listening on %s:%u\n", host, bound_port);
	fflush(stdout);
	if (event_base_dispatch(srv.base) < 0) {
		fprintf(stderr, "bare_http: event loop failed\n");
		goto out;
	}
	fprintf(stderr, "bare_http: answered %llu events, stopping\n", srv.answered);
	rc = 0;
out:
	if (ev_int != NULL)
		event_free(ev_int);
	if (ev_term != NULL)
		event_free(ev_term);
	if (ev_deadline != NULL)
		event_free(ev_deadline);
	if (srv.http != NULL)
		evhttp_free(srv.http);
	if (srv.base != NULL)
		event_base_free(srv.base);
	free(srv.secret);
	return rc;
}
