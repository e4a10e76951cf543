/* test_httpc.c: the simulator's HTTP client pool against an evhttp server in
 * the test process: a POST is signed over its body, or carries the agent's
 * Bearer token, or (a login) no credentials; bad tokens are refused before
 * anything is sent. */
#include <check.h>
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
#include "evserver.h"
#include "httpc.h"

#define TEST_SECRET "test-gateway-secret-0123456789"

struct seen_request {
	char uri[128];
	char authorization[600];
	enum auth_result signature;
	char body[256];
};

struct server {
	struct evhttp *http;
	int port;
	struct seen_request req[8];
	int n;
};

static void server_handle(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	struct seen_request *r = &srv->req[srv->n++];
	size_t len = evbuffer_get_length(body);
	const char *auth = evhttp_find_header(in, "Authorization");

	ck_assert_int_le(srv->n, 8);
	ck_assert_uint_lt(len, sizeof r->body);
	evbuffer_copyout(body, r->body, len);
	r->body[len] = '\0';
	snprintf(r->uri, sizeof r->uri, "%s", evhttp_request_get_uri(req));
	snprintf(r->authorization, sizeof r->authorization, "%s", auth != NULL ? auth : "");
	r->signature = auth_verify(TEST_SECRET, evhttp_find_header(in, AUTH_HEADER_TIMESTAMP),
				   evhttp_find_header(in, AUTH_HEADER_SIGNATURE), r->body, len,
				   (int64_t)time(NULL), 300);
	ck_assert_str_eq(evhttp_find_header(in, "Content-Type"), "application/json");
	struct evbuffer *out = evbuffer_new();
	evbuffer_add_printf(out, "{\"n\":%d}", srv->n);
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

struct client {
	struct event_base *base;
	int answers;
	int expected;
};

static void on_done(const struct httpc_response *r, void *arg)
{
	struct client *cl = arg;
	ck_assert_int_eq(r->status, 200);
	if (++cl->answers == cl->expected)
		event_base_loopbreak(cl->base);
}

START_TEST(test_posts_are_signed_or_carry_the_token)
{
	struct event_base *base = event_base_new();
	struct server srv = {0};
	struct client cl = {.base = base, .expected = 3};
	char url[64], err[256];
	static const char event[] = "{\"type\":\"call.offered\"}";
	static const char ready[] = "{\"state\":\"ready\"}";
	static const char login[] = "{\"agent_id\":\"sim-001\"}";

	srv.http = evhttp_new(base);
	evhttp_set_gencb(srv.http, server_handle, &srv);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", evserver_bind(srv.http, 0));

	/* One connection: the three requests go out in order. */
	struct httpc *c = httpc_new(base, url, TEST_SECRET, 1, 5000, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(httpc_post_json(c, "/v1/calls/events", event, strlen(event), on_done, &cl),
			 0);
	char token[40] = "tok-123.abc_DEF";
	ck_assert_int_eq(httpc_post_json_bearer(c, "/v1/agents/state", ready, strlen(ready), token,
						on_done, &cl),
			 0);
	strcpy(token, "changed"); /* the token was copied */
	ck_assert_int_eq(httpc_post_json_bearer(c, "/v1/agents/login", login, strlen(login), NULL,
						on_done, &cl),
			 0);
	ck_assert_uint_eq(httpc_pending(c), 3);
	event_base_dispatch(base);
	ck_assert_int_eq(cl.answers, 3);
	ck_assert_uint_eq(httpc_pending(c), 0);

	ck_assert_str_eq(srv.req[0].uri, "/v1/calls/events");
	ck_assert_int_eq(srv.req[0].signature, AUTH_OK);
	ck_assert_str_eq(srv.req[0].authorization, "");
	ck_assert_str_eq(srv.req[0].body, event);
	ck_assert_str_eq(srv.req[1].uri, "/v1/agents/state");
	ck_assert_str_eq(srv.req[1].authorization, "Bearer tok-123.abc_DEF");
	ck_assert_int_eq(srv.req[1].signature, AUTH_MISSING);
	ck_assert_str_eq(srv.req[1].body, ready);
	ck_assert_str_eq(srv.req[2].uri, "/v1/agents/login");
	ck_assert_str_eq(srv.req[2].authorization, "");
	ck_assert_int_eq(srv.req[2].signature, AUTH_MISSING);

	/* What could not be a token is refused at once. */
	char long_token[HTTPC_TOKEN_MAX + 2];
	memset(long_token, 'x', sizeof long_token - 1);
	long_token[sizeof long_token - 1] = '\0';
	ck_assert_int_eq(httpc_post_json_bearer(c, "/", ready, 2, "", on_done, &cl), -EINVAL);
	ck_assert_int_eq(httpc_post_json_bearer(c, "/", ready, 2, "a b", on_done, &cl), -EINVAL);
	ck_assert_int_eq(httpc_post_json_bearer(c, "/", ready, 2, "a\r\nX: y", on_done, &cl),
			 -EINVAL);
	ck_assert_int_eq(httpc_post_json_bearer(c, "/", ready, 2, long_token, on_done, &cl),
			 -EINVAL);
	ck_assert_uint_eq(httpc_pending(c), 0);

	/* Freed with requests pending: their tokens go too (ASan checks). */
	ck_assert_int_eq(httpc_post_json_bearer(c, "/a", ready, 2, "pending-token", on_done, &cl),
			 0);
	ck_assert_int_eq(httpc_post_json_bearer(c, "/b", ready, 2, "queued-token", on_done, &cl),
			 0);
	httpc_free(c);
	evhttp_free(srv.http);
	event_base_free(base);
}
END_TEST

START_TEST(test_an_extra_header_cannot_smuggle_another)
{
	struct event_base *base = event_base_new();
	struct client cl = {.base = base};
	char err[256];
	static const char body[] = "{}";
	struct httpc *c =
		httpc_new(base, "http://127.0.0.1:9", TEST_SECRET, 1, 5000, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);

	ck_assert_int_eq(httpc_post_json_header(c, "/", body, 2, "", "k", on_done, &cl), -EINVAL);
	ck_assert_int_eq(httpc_post_json_header(c, "/", body, 2, "Key: x", "k", on_done, &cl),
			 -EINVAL);
	ck_assert_int_eq(httpc_post_json_header(c, "/", body, 2, "Idempotency-Key", "", on_done,
						&cl),
			 -EINVAL);
	ck_assert_int_eq(httpc_post_json_header(c, "/", body, 2, "Idempotency-Key",
						"k\r\nX-Hotline-Signature: v1=0", on_done, &cl),
			 -EINVAL);
	ck_assert_uint_eq(httpc_pending(c), 0);
	ck_assert_int_eq(httpc_post_json_header(c, "/", body, 2, "Idempotency-Key", "wo 1 sign",
						on_done, &cl),
			 0);
	ck_assert_uint_eq(httpc_pending(c), 1);
	httpc_free(c); /* with the request pending: its copies go too (ASan) */
	event_base_free(base);
}
END_TEST

/* GETs: the agent client's reads. No body and no Content-Type; the token,
 * or the signature over the empty body. */
static void get_handle(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct seen_request *r = &srv->req[srv->n++];
	const char *auth = evhttp_find_header(in, "Authorization");

	ck_assert_int_le(srv->n, 8);
	ck_assert_int_eq(evhttp_request_get_command(req), EVHTTP_REQ_GET);
	ck_assert_ptr_null(evhttp_find_header(in, "Content-Type"));
	ck_assert_uint_eq(evbuffer_get_length(evhttp_request_get_input_buffer(req)), 0);
	snprintf(r->uri, sizeof r->uri, "%s", evhttp_request_get_uri(req));
	snprintf(r->authorization, sizeof r->authorization, "%s", auth != NULL ? auth : "");
	r->signature = auth_verify(TEST_SECRET, evhttp_find_header(in, AUTH_HEADER_TIMESTAMP),
				   evhttp_find_header(in, AUTH_HEADER_SIGNATURE), "", 0,
				   (int64_t)time(NULL), 300);
	struct evbuffer *out = evbuffer_new();
	evbuffer_add_printf(out, "{\"n\":%d}", srv->n);
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

static void on_get_done(const struct httpc_response *r, void *arg)
{
	struct client *cl = arg;
	ck_assert_int_eq(r->status, 200);
	ck_assert_ptr_nonnull(strstr(r->body, "\"n\":"));
	if (++cl->answers == cl->expected)
		event_base_loopbreak(cl->base);
}

START_TEST(test_gets_carry_the_token_or_are_signed_over_no_body)
{
	struct event_base *base = event_base_new();
	struct server srv = {0};
	struct client cl = {.base = base, .expected = 2};
	char url[64], err[256];

	srv.http = evhttp_new(base);
	evhttp_set_gencb(srv.http, get_handle, &srv);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", evserver_bind(srv.http, 0));
	struct httpc *c = httpc_new(base, url, TEST_SECRET, 1, 5000, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(httpc_get(c, "/v1/agents/me", "tok-1", on_get_done, &cl), 0);
	ck_assert_int_eq(httpc_get(c, "/v1/centres/nanjing/queues?x=1", NULL, on_get_done, &cl), 0);
	ck_assert_int_eq(httpc_get(c, "/", "a b", on_get_done, &cl), -EINVAL);
	event_base_dispatch(base);
	ck_assert_int_eq(cl.answers, 2);
	ck_assert_str_eq(srv.req[0].uri, "/v1/agents/me");
	ck_assert_str_eq(srv.req[0].authorization, "Bearer tok-1");
	ck_assert_int_eq(srv.req[0].signature, AUTH_MISSING);
	ck_assert_str_eq(srv.req[1].uri, "/v1/centres/nanjing/queues?x=1");
	ck_assert_str_eq(srv.req[1].authorization, "");
	ck_assert_int_eq(srv.req[1].signature, AUTH_OK);
	httpc_free(c);
	evhttp_free(srv.http);
	event_base_free(base);
}
END_TEST

int main(void)
{
	if (auth_init() != 0)
		return EXIT_FAILURE;
	Suite *s = suite_create("httpc");
	TCase *tc = tcase_create("post");
	tcase_add_test(tc, test_posts_are_signed_or_carry_the_token);
	tcase_add_test(tc, test_an_extra_header_cannot_smuggle_another);
	tcase_add_test(tc, test_gets_carry_the_token_or_are_signed_over_no_body);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
