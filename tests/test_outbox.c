/* test_outbox.c: the outbox dispatcher on a real event loop, against 12345
 * platforms served by evhttp in the test process and an in-memory source that
 * plays the outbox table: rows go out signed with their key, a platform that
 * fails, hangs or is down gets them later (spaced by the backoff), a refusal
 * is final, a row is never posted twice while in flight, and a broker that
 * crashed before recording a delivery posts it again under the same key. */
#include <check.h>
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
#include "outbox.h"
#include "timeutil.h"

#define CITY_SECRET "city-platform-secret-0123456789"
#define PROVINCE_SECRET "province-platform-secret-987654"

/* Fast limits: the cases wait for real timeouts and backoffs. */
static const struct outbox_limits test_limits = {
	.max_in_flight = 8,
	.connections = 2,
	.request_timeout_ms = 300,
	.poll_interval_ms = 100,
	.backoff_min_ms = 100,
	.backoff_max_ms = 400,
};

static int64_t ms_since(int64_t usec)
{
	return (timeutil_now_usec() - usec) / 1000;
}

/* --- a platform --------------------------------------------------------------- */

#define MAX_POSTS 64
#define MAX_KEYS 16

struct post {
	char path[64];
	char key[64];
	char body[256];
	enum auth_result signature;
	int64_t at;
	int status; /* 0: held unanswered */
};

/* Answers status to the first `times` POSTs of key (NULL: of every key). */
struct script {
	const char *key;
	int status;
	int times;
	const char *body;
};

struct platform {
	struct evhttp *http;
	int port;
	const char *secret;
	struct script script[4];
	bool hang_first; /* hold the first POST unanswered */
	struct evserver_stream held;
	struct outbox **kick; /* kicked on every POST, when set */
	struct post posts[MAX_POSTS];
	size_t n_posts;
	char acted_on[MAX_KEYS][64]; /* keys processed: the platform's dedup */
	size_t n_acted_on;
	size_t replays; /* POSTs of a key already processed */
};

static size_t platform_posts_of(const struct platform *p, const char *key)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_posts; i++)
		n += strcmp(p->posts[i].key, key) == 0;
	return n;
}

static void platform_reply(struct evhttp_request *req, int status, const char *body)
{
	struct evbuffer *out = evbuffer_new();
	evbuffer_add(out, body, strlen(body));
	evhttp_send_reply(req, status, "X", out);
	evbuffer_free(out);
}

static void platform_handle(struct evhttp_request *req, void *arg)
{
	struct platform *p = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(body);
	const char *key = evhttp_find_header(in, "Idempotency-Key");

	ck_assert_uint_lt(p->n_posts, MAX_POSTS);
	ck_assert_int_eq(evhttp_request_get_command(req), EVHTTP_REQ_POST);
	ck_assert_ptr_nonnull(key);
	ck_assert_str_eq(evhttp_find_header(in, "Content-Type"), "application/json");
	struct post *post = &p->posts[p->n_posts++];
	ck_assert_uint_lt(len, sizeof post->body);
	evbuffer_copyout(body, post->body, len);
	post->body[len] = '\0';
	snprintf(post->path, sizeof post->path, "%s", evhttp_request_get_uri(req));
	snprintf(post->key, sizeof post->key, "%s", key);
	post->signature = auth_verify(p->secret, evhttp_find_header(in, AUTH_HEADER_TIMESTAMP),
				      evhttp_find_header(in, AUTH_HEADER_SIGNATURE), post->body,
				      len, (int64_t)time(NULL), 300);
	post->at = timeutil_now_usec();
	if (p->kick != NULL && *p->kick != NULL)
		outbox_kick(*p->kick);

	if (p->hang_first && p->n_posts == 1) {
		evserver_hold(&p->held, req);
		return;
	}
	const size_t seen = platform_posts_of(p, key);
	for (size_t i = 0; i < sizeof p->script / sizeof p->script[0]; i++) {
		const struct script *s = &p->script[i];
		if (s->status != 0 && (s->key == NULL || strcmp(s->key, key) == 0) &&
		    seen <= (size_t)s->times) {
			post->status = s->status;
			platform_reply(req, s->status, s->body != NULL ? s->body : "{}");
			return;
		}
	}
	/* Accepted: acted on once per key, however often it comes. */
	post->status = 200;
	for (size_t i = 0; i < p->n_acted_on; i++) {
		if (strcmp(p->acted_on[i], key) == 0) {
			p->replays++;
			platform_reply(req, 200, "{\"replay\":true}");
			return;
		}
	}
	ck_assert_uint_lt(p->n_acted_on, MAX_KEYS);
	snprintf(p->acted_on[p->n_acted_on++], sizeof p->acted_on[0], "%s", key);
	platform_reply(req, 200, "{\"ok\":true}");
}

/* Serves p on port (0: a free one). */
static void platform_start(struct platform *p, struct event_base *base, const char *secret,
			   int port)
{
	p->secret = secret;
	p->http = evhttp_new(base);
	ck_assert_ptr_nonnull(p->http);
	evhttp_set_gencb(p->http, platform_handle, p);
	p->port = evserver_bind(p->http, port);
}

static void platform_stop(struct platform *p)
{
	if (p->http == NULL)
		return;
	evserver_stream_forget(&p->held);
	evhttp_free(p->http);
	p->http = NULL;
}

/* A loopback port nothing listens on (for now). */
static int unused_port(struct event_base *base)
{
	struct evhttp *http = evhttp_new(base);
	int port = evserver_bind(http, 0);
	evhttp_free(http);
	return port;
}

/* --- the source: the outbox table in memory ------------------------------------ */

#define MAX_ROWS 8
#define MAX_RECORDS 64

struct mem_row {
	int64_t id;
	const char *platform;
	const char *key;
	const char *payload;
	int attempts;
	int64_t next_attempt_at;
	bool delivered;
	bool failed;
};

struct record {
	int64_t id;
	bool delivered;
	bool permanent;
	int64_t next_attempt_at;
	int64_t at;
	char error[400];
};

struct mem_source {
	struct outbox *o;
	struct mem_row rows[MAX_ROWS];
	size_t n_rows;
	int fetch_delay_ms; /* fetches answer this much later, from a snapshot */
	bool lose_records;  /* a crash: outcomes never become durable */
	struct event *answer;
	struct outbox_row snapshot[MAX_ROWS];
	size_t n_snapshot;
	bool fetching;
	size_t fetches;
	size_t stale_rows; /* rows a fetch answered with after they were delivered */
	size_t lost_records;
	struct record records[MAX_RECORDS];
	size_t n_records;
};

static void mem_answer(evutil_socket_t fd, short what, void *arg)
{
	struct mem_source *m = arg;

	for (size_t i = 0; i < m->n_snapshot; i++)
		for (size_t j = 0; j < m->n_rows; j++)
			if (m->rows[j].id == m->snapshot[i].id && m->rows[j].delivered)
				m->stale_rows++;
	m->fetching = false;
	outbox_rows(m->o, m->snapshot, m->n_snapshot);
}

static void mem_fetch(void *arg, size_t limit)
{
	struct mem_source *m = arg;
	const int64_t now = timeutil_now_usec();

	ck_assert_msg(!m->fetching, "a second fetch while one is outstanding");
	ck_assert_uint_gt(limit, 0);
	m->fetching = true;
	m->fetches++;
	m->n_snapshot = 0;
	for (size_t i = 0; i < m->n_rows && m->n_snapshot < limit; i++) {
		const struct mem_row *r = &m->rows[i];
		if (r->delivered || r->failed || r->next_attempt_at > now)
			continue;
		m->snapshot[m->n_snapshot++] = (struct outbox_row){
			.id = r->id,
			.platform = r->platform,
			.key = r->key,
			.payload = r->payload,
			.attempts = r->attempts,
		};
	}
	struct timeval tv = {.tv_sec = 0, .tv_usec = m->fetch_delay_ms * 1000};
	event_add(m->answer, &tv);
}

static void mem_record(void *arg, int64_t id, bool delivered, bool permanent,
		       int64_t next_attempt_at, const char *error)
{
	struct mem_source *m = arg;

	if (m->lose_records) {
		m->lost_records++;
		return;
	}
	ck_assert_uint_lt(m->n_records, MAX_RECORDS);
	struct record *rec = &m->records[m->n_records++];
	rec->id = id;
	rec->delivered = delivered;
	rec->permanent = permanent;
	rec->next_attempt_at = next_attempt_at;
	rec->at = timeutil_now_usec();
	snprintf(rec->error, sizeof rec->error, "%s", error != NULL ? error : "");
	ck_assert(delivered == (error == NULL));
	for (size_t i = 0; i < m->n_rows; i++) {
		struct mem_row *r = &m->rows[i];
		if (r->id != id)
			continue;
		r->attempts++;
		r->delivered = delivered;
		r->failed = permanent;
		r->next_attempt_at = next_attempt_at;
	}
	outbox_recorded(m->o, id);
}

static void mem_add(struct mem_source *m, int64_t id, const char *platform, const char *key,
		    const char *payload)
{
	ck_assert_uint_lt(m->n_rows, MAX_ROWS);
	m->rows[m->n_rows++] =
		(struct mem_row){.id = id, .platform = platform, .key = key, .payload = payload};
}

static struct mem_row *mem_row(struct mem_source *m, int64_t id)
{
	for (size_t i = 0; i < m->n_rows; i++)
		if (m->rows[i].id == id)
			return &m->rows[i];
	ck_abort_msg("no row %lld", (long long)id);
	return NULL;
}

static size_t mem_delivered(const struct mem_source *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_rows; i++)
		n += m->rows[i].delivered;
	return n;
}

/* A dispatcher over m for the given platforms, with the test limits. */
static struct outbox *mem_outbox(struct event_base *base, struct mem_source *m,
				 const struct outbox_platform *platforms, size_t n)
{
	const struct outbox_source src = {.fetch = mem_fetch, .record = mem_record, .arg = m};
	if (m->answer == NULL)
		m->answer = event_new(base, -1, 0, mem_answer, m);
	m->o = outbox_new(base, platforms, n, &src, &test_limits);
	ck_assert_ptr_nonnull(m->o);
	return m->o;
}

/* The broker dies: its dispatcher goes, and so does any fetch answer it
 * was waiting for. */
static void mem_crash(struct mem_source *m)
{
	outbox_free(m->o);
	m->o = NULL;
	event_del(m->answer);
	m->fetching = false;
}

static void mem_free(struct mem_source *m)
{
	outbox_free(m->o);
	m->o = NULL;
	if (m->answer != NULL)
		event_free(m->answer);
}

/* --- running the loop ---------------------------------------------------------- */

typedef bool (*condition_fn)(void *arg);

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
}

/* Runs the loop until cond holds; fails the case after timeout_ms. */
static void run_until(struct event_base *base, condition_fn cond, void *arg, int timeout_ms)
{
	const int64_t start = timeutil_now_usec();
	struct event *tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 10000};

	event_add(tick, &tv);
	while (!cond(arg)) {
		ck_assert_msg(ms_since(start) < timeout_ms, "not done after %d ms", timeout_ms);
		event_base_loop(base, EVLOOP_ONCE);
	}
	event_free(tick);
}

/* Runs the loop for ms, whatever happens. */
static void run_for(struct event_base *base, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

struct wait_rows {
	struct mem_source *m;
	size_t delivered;
	size_t records;
};

/* At least w->delivered rows delivered and w->records outcomes recorded. */
static bool rows_settled(void *arg)
{
	const struct wait_rows *w = arg;
	return mem_delivered(w->m) >= w->delivered && w->m->n_records >= w->records &&
	       outbox_get_stats(w->m->o).in_flight == 0;
}

/* The counts the dispatcher reports. */
static void check_stats(const struct outbox *o, uint64_t delivered, uint64_t retried,
			uint64_t failed)
{
	const struct outbox_stats st = outbox_get_stats(o);
	ck_assert_uint_eq(st.delivered, delivered);
	ck_assert_uint_eq(st.retried, retried);
	ck_assert_uint_eq(st.failed, failed);
}

/* Most cases: one platform, "city_12345", and the table, on one loop. Set
 * up city and m's options first, add rows, then dispatch. */
struct fixture {
	struct event_base *base;
	struct platform city;
	struct mem_source m;
	char url[64];
	struct outbox_platform platform;
};

/* The loop and the platform's url; the platform is served now when serve,
 * else its port is free for platform_start later. */
static void fixture_start(struct fixture *f, bool serve)
{
	f->base = event_base_new();
	ck_assert_ptr_nonnull(f->base);
	if (serve)
		platform_start(&f->city, f->base, CITY_SECRET, 0);
	else
		f->city.port = unused_port(f->base);
	snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/", f->city.port);
	f->platform = (struct outbox_platform){"city_12345", f->url, CITY_SECRET};
}

static void fixture_dispatch(struct fixture *f)
{
	mem_outbox(f->base, &f->m, &f->platform, 1);
}

static void fixture_stop(struct fixture *f)
{
	mem_free(&f->m);
	platform_stop(&f->city);
	event_base_free(f->base);
}

/* --- the cases ------------------------------------------------------------------ */

START_TEST(test_status_verdicts_and_backoff)
{
	ck_assert_int_eq(outbox_classify_status(200), OUTBOX_DELIVERED);
	ck_assert_int_eq(outbox_classify_status(204), OUTBOX_DELIVERED);
	ck_assert_int_eq(outbox_classify_status(400), OUTBOX_REFUSED);
	ck_assert_int_eq(outbox_classify_status(401), OUTBOX_REFUSED);
	ck_assert_int_eq(outbox_classify_status(404), OUTBOX_REFUSED);
	ck_assert_int_eq(outbox_classify_status(409), OUTBOX_REFUSED);
	ck_assert_int_eq(outbox_classify_status(408), OUTBOX_RETRY);
	ck_assert_int_eq(outbox_classify_status(429), OUTBOX_RETRY);
	ck_assert_int_eq(outbox_classify_status(500), OUTBOX_RETRY);
	ck_assert_int_eq(outbox_classify_status(503), OUTBOX_RETRY);
	ck_assert_int_eq(outbox_classify_status(0), OUTBOX_RETRY);
	ck_assert_int_eq(outbox_classify_status(302), OUTBOX_RETRY);

	/* The defaults: 1 s doubling to 5 min. */
	ck_assert_int_eq(outbox_backoff_usec(NULL, 1, -1), 1000000);
	ck_assert_int_eq(outbox_backoff_usec(NULL, 2, -1), 2000000);
	ck_assert_int_eq(outbox_backoff_usec(NULL, 9, -1), 256000000);
	ck_assert_int_eq(outbox_backoff_usec(NULL, 10, -1), 300000000);
	ck_assert_int_eq(outbox_backoff_usec(NULL, 100000, -1), 300000000);
	/* Retry-After raises the delay, never beyond the cap. */
	ck_assert_int_eq(outbox_backoff_usec(NULL, 1, 30), 30000000);
	ck_assert_int_eq(outbox_backoff_usec(NULL, 9, 30), 256000000);
	ck_assert_int_eq(outbox_backoff_usec(NULL, 1, 86400), 300000000);
	ck_assert_int_eq(outbox_backoff_usec(&test_limits, 1, -1), 100000);
	ck_assert_int_eq(outbox_backoff_usec(&test_limits, 3, -1), 400000);
	ck_assert_int_eq(outbox_backoff_usec(&test_limits, 4, -1), 400000);

	/* Limits that cannot work are refused. */
	struct event_base *base = event_base_new();
	const struct outbox_source src = {.fetch = mem_fetch, .record = mem_record};
	struct outbox_limits bad = test_limits;
	bad.backoff_min_ms = 500;
	ck_assert_ptr_null(outbox_new(base, NULL, 0, &src, &bad));
	const struct outbox_platform nowhere = {"city_12345", "ftp://example.org/", "s"};
	ck_assert_ptr_null(outbox_new(base, &nowhere, 1, &src, NULL));
	event_base_free(base);
}
END_TEST

START_TEST(test_rows_are_posted_with_their_key_body_and_signature)
{
	struct event_base *base = event_base_new();
	struct platform city = {0}, province = {0};
	struct mem_source m = {0};
	char city_url[64], province_url[64];

	platform_start(&city, base, CITY_SECRET, 0);
	platform_start(&province, base, PROVINCE_SECRET, 0);
	snprintf(city_url, sizeof city_url, "http://127.0.0.1:%d/v1/hotline/notify", city.port);
	snprintf(province_url, sizeof province_url, "http://127.0.0.1:%d", province.port);
	const struct outbox_platform platforms[] = {
		{"city_12345", city_url, CITY_SECRET},
		{"province_12345", province_url, PROVINCE_SECRET},
	};
	mem_add(&m, 1, "city_12345", "wo-1-sign", "{\"order\":\"A1\",\"action\":\"sign\"}");
	mem_add(&m, 2, "province_12345", "wo-2-reply", "{\"order\":\"P7\",\"text\":\"已回复\"}");
	mem_add(&m, 3, "city_12345", "wo-1-reply", "{\"order\":\"A1\",\"action\":\"reply\"}");
	mem_add(&m, 4, "somewhere_else", "wo-9-sign", "{}");
	mem_outbox(base, &m, platforms, 2);

	struct wait_rows w = {.m = &m, .delivered = 3, .records = 4};
	run_until(base, rows_settled, &w, 5000);

	ck_assert_uint_eq(city.n_posts, 2);
	ck_assert_uint_eq(province.n_posts, 1);
	for (size_t i = 0; i < city.n_posts; i++) {
		const struct post *p = &city.posts[i];
		const struct mem_row *r = strcmp(p->key, "wo-1-sign") == 0 ? mem_row(&m, 1) :
									     mem_row(&m, 3);
		ck_assert_str_eq(p->path, "/v1/hotline/notify");
		ck_assert_str_eq(p->key, r->key);
		ck_assert_str_eq(p->body, r->payload);
		ck_assert_int_eq(p->signature, AUTH_OK);
	}
	ck_assert_str_eq(province.posts[0].path, "/");
	ck_assert_str_eq(province.posts[0].key, "wo-2-reply");
	ck_assert_str_eq(province.posts[0].body, mem_row(&m, 2)->payload);
	ck_assert_int_eq(province.posts[0].signature, AUTH_OK);
	ck_assert(mem_row(&m, 1)->delivered && mem_row(&m, 2)->delivered &&
		  mem_row(&m, 3)->delivered);

	/* A row for a platform not configured waits, it does not fail. */
	const struct mem_row *lost = mem_row(&m, 4);
	ck_assert(!lost->delivered && !lost->failed);
	ck_assert_int_eq(lost->attempts, 1);
	for (size_t i = 0; i < m.n_records; i++)
		if (m.records[i].id == 4)
			ck_assert_str_eq(m.records[i].error,
					 "no platform named \"somewhere_else\" is configured");

	check_stats(m.o, 3, 1, 0);
	ck_assert_uint_ge(outbox_get_stats(m.o).fetches, 1);

	mem_free(&m);
	platform_stop(&city);
	platform_stop(&province);
	event_base_free(base);
}
END_TEST

START_TEST(test_a_failing_platform_gets_each_row_once_retries_spaced_by_the_backoff)
{
	struct fixture f = {.city.script = {{NULL, 503, 3, "{\"error\":\"maintenance\"}"}}};
	static const char *const keys[] = {"k-1", "k-2", "k-3"};

	fixture_start(&f, true);
	for (int i = 0; i < 3; i++)
		mem_add(&f.m, 10 + i, "city_12345", keys[i], "{\"n\":1}");
	fixture_dispatch(&f);
	struct wait_rows w = {.m = &f.m, .delivered = 3, .records = 12};
	run_until(f.base, rows_settled, &w, 8000);

	/* The platform acted on each key once. */
	ck_assert_uint_eq(f.city.n_acted_on, 3);
	ck_assert_uint_eq(f.city.replays, 0);
	for (int i = 0; i < 3; i++) {
		const struct post *tries[4];
		size_t n = 0;
		for (size_t j = 0; j < f.city.n_posts; j++)
			if (strcmp(f.city.posts[j].key, keys[i]) == 0) {
				ck_assert_uint_lt(n, 4);
				tries[n++] = &f.city.posts[j];
			}
		ck_assert_uint_eq(n, 4);
		ck_assert_int_eq(tries[0]->status, 503);
		ck_assert_int_eq(tries[3]->status, 200);
		/* 100 ms, 200 ms, then the 400 ms cap (min 100, max 400). */
		static const int64_t backoff_ms[] = {100, 200, 400};
		for (int k = 0; k < 3; k++) {
			const int64_t gap = (tries[k + 1]->at - tries[k]->at) / 1000;
			ck_assert_msg(gap >= backoff_ms[k] && gap < backoff_ms[k] + 1000,
				      "%s: try %d came %lld ms after the one before", keys[i],
				      k + 2, (long long)gap);
		}
		ck_assert_int_eq(mem_row(&f.m, 10 + i)->attempts, 4);
	}
	for (size_t i = 0; i < f.m.n_records; i++) {
		const struct record *r = &f.m.records[i];
		if (!r->delivered) {
			ck_assert(!r->permanent);
			ck_assert_str_eq(r->error, "HTTP 503: {\"error\":\"maintenance\"}");
			ck_assert_int_gt(r->next_attempt_at, r->at);
		}
	}
	check_stats(f.m.o, 3, 9, 0);
	fixture_stop(&f);
}
END_TEST

START_TEST(test_a_platform_that_hangs_gets_the_row_again_after_the_timeout)
{
	struct fixture f = {.city.hang_first = true};

	fixture_start(&f, true);
	mem_add(&f.m, 5, "city_12345", "k-hang", "{\"n\":5}");
	fixture_dispatch(&f);
	struct wait_rows w = {.m = &f.m, .delivered = 1, .records = 2};
	run_until(f.base, rows_settled, &w, 5000);

	/* Polls every 100 ms found the row due while it hung: still one POST
	 * until the timeout (300 ms), then one more after the backoff. */
	ck_assert_uint_eq(f.city.n_posts, 2);
	ck_assert_uint_ge(f.m.fetches, 3);
	ck_assert_str_eq(f.city.posts[1].key, "k-hang");
	/* The timeout (300 ms) runs from the client's send, which the server
	 * stamps a little later; then the backoff (100 ms). */
	const int64_t gap = (f.city.posts[1].at - f.city.posts[0].at) / 1000;
	ck_assert_msg(gap >= 300 + 100 - 50, "retried %lld ms after a POST that hung",
		      (long long)gap);
	ck_assert(!f.m.records[0].delivered && !f.m.records[0].permanent);
	ck_assert_str_eq(f.m.records[0].error, "timeout");
	ck_assert(f.m.records[1].delivered);
	fixture_stop(&f);
}
END_TEST

static bool two_records(void *arg)
{
	return ((const struct mem_source *)arg)->n_records >= 2;
}

START_TEST(test_a_platform_that_is_down_gets_the_row_once_it_starts)
{
	struct fixture f = {0};

	fixture_start(&f, false);
	mem_add(&f.m, 6, "city_12345", "k-down", "{\"n\":6}");
	fixture_dispatch(&f);

	/* Refused twice... */
	run_until(f.base, two_records, &f.m, 5000);
	for (size_t i = 0; i < 2; i++) {
		ck_assert(!f.m.records[i].delivered && !f.m.records[i].permanent);
		ck_assert_msg(strstr(f.m.records[i].error, "connection") != NULL, "%s",
			      f.m.records[i].error);
	}
	/* ...then the platform starts. */
	platform_start(&f.city, f.base, CITY_SECRET, f.city.port);
	struct wait_rows w = {.m = &f.m, .delivered = 1, .records = 3};
	run_until(f.base, rows_settled, &w, 5000);
	ck_assert_uint_eq(f.city.n_posts, 1);
	ck_assert_str_eq(f.city.posts[0].key, "k-down");
	ck_assert_int_eq(f.city.posts[0].signature, AUTH_OK);
	ck_assert_int_ge(mem_row(&f.m, 6)->attempts, 3);
	fixture_stop(&f);
}
END_TEST

START_TEST(test_a_400_fails_the_row_for_good_but_408_and_429_are_retried)
{
	/* The refusal's body: UTF-8, a line break, a byte that is not UTF-8. */
	struct fixture f = {.city.script = {
				    {"k-400", 400, 1000,
				     "{\"error\":\"bad_payload\",\n\"message\":\"缺少字段\xff\"}"},
				    {"k-408", 408, 1, NULL},
				    {"k-429", 429, 1, NULL},
			    }};

	fixture_start(&f, true);
	mem_add(&f.m, 7, "city_12345", "k-400", "{\"n\":7}");
	mem_add(&f.m, 8, "city_12345", "k-408", "{\"n\":8}");
	mem_add(&f.m, 9, "city_12345", "k-429", "{\"n\":9}");
	fixture_dispatch(&f);
	struct wait_rows w = {.m = &f.m, .delivered = 2, .records = 5};
	run_until(f.base, rows_settled, &w, 5000);
	/* Long enough for several polls and backoffs: the refused row stays. */
	run_for(f.base, 600);

	ck_assert_uint_eq(platform_posts_of(&f.city, "k-400"), 1);
	ck_assert_uint_eq(platform_posts_of(&f.city, "k-408"), 2);
	ck_assert_uint_eq(platform_posts_of(&f.city, "k-429"), 2);
	const struct mem_row *refused = mem_row(&f.m, 7);
	ck_assert(refused->failed && !refused->delivered);
	ck_assert_int_eq(refused->attempts, 1);
	ck_assert(mem_row(&f.m, 8)->delivered && mem_row(&f.m, 9)->delivered);
	ck_assert_uint_eq(f.m.n_records, 5);
	for (size_t i = 0; i < f.m.n_records; i++) {
		const struct record *r = &f.m.records[i];
		if (r->id != 7)
			continue;
		ck_assert(r->permanent && !r->delivered);
		ck_assert_int_eq(r->next_attempt_at, 0);
		ck_assert_str_eq(
			r->error,
			"HTTP 400: {\"error\":\"bad_payload\", \"message\":\"缺少字段?\"}");
	}
	check_stats(f.m.o, 2, 2, 1);
	fixture_stop(&f);
}
END_TEST

START_TEST(test_a_row_fetched_again_while_in_flight_is_not_posted_twice)
{
	/* Slow fetches, and one asked for whenever a POST arrives: it reads the
	 * row before its delivery is recorded and answers after. */
	struct fixture f = {.m.fetch_delay_ms = 150};

	f.city.kick = &f.m.o;
	fixture_start(&f, true);
	mem_add(&f.m, 11, "city_12345", "k-once", "{\"n\":11}");
	fixture_dispatch(&f);
	struct wait_rows w = {.m = &f.m, .delivered = 1, .records = 1};
	run_until(f.base, rows_settled, &w, 5000);
	run_for(f.base, 400);

	ck_assert_uint_ge(f.m.stale_rows, 1); /* the stale answer did come */
	ck_assert_uint_eq(f.city.n_posts, 1);
	ck_assert_uint_eq(f.m.n_records, 1);
	check_stats(f.m.o, 1, 0, 0);
	fixture_stop(&f);
}
END_TEST

static bool posted_not_recorded(void *arg)
{
	const struct mem_source *m = arg;
	return m->lost_records >= 1;
}

START_TEST(test_a_crash_before_recording_posts_again_under_the_same_key)
{
	struct fixture f = {.m.lose_records = true};

	fixture_start(&f, true);
	mem_add(&f.m, 12, "city_12345", "wo-12-close", "{\"order\":\"A12\",\"action\":\"close\"}");

	/* The first broker posts, and dies before the delivery is durable. */
	fixture_dispatch(&f);
	run_until(f.base, posted_not_recorded, &f.m, 5000);
	run_for(f.base, 300); /* its polls still see the row: it is in flight */
	ck_assert_uint_eq(f.city.n_posts, 1);
	mem_crash(&f.m);
	ck_assert(!mem_row(&f.m, 12)->delivered);

	/* The next one finds the row due and posts it again. */
	f.m.lose_records = false;
	fixture_dispatch(&f);
	struct wait_rows w = {.m = &f.m, .delivered = 1, .records = 1};
	run_until(f.base, rows_settled, &w, 5000);

	ck_assert_uint_eq(f.city.n_posts, 2);
	ck_assert_str_eq(f.city.posts[0].key, "wo-12-close");
	ck_assert_str_eq(f.city.posts[1].key, f.city.posts[0].key);
	ck_assert_str_eq(f.city.posts[1].body, f.city.posts[0].body);
	ck_assert_int_eq(f.city.posts[1].signature, AUTH_OK);
	/* The platform's dedup by key: acted on once, the repeat a replay. */
	ck_assert_uint_eq(f.city.n_acted_on, 1);
	ck_assert_uint_eq(f.city.replays, 1);
	ck_assert(mem_row(&f.m, 12)->delivered);
	fixture_stop(&f);
}
END_TEST

int main(void)
{
	if (auth_init() != 0)
		return EXIT_FAILURE;
	Suite *s = suite_create("outbox");
	TCase *tc = tcase_create("dispatch");
	tcase_add_test(tc, test_status_verdicts_and_backoff);
	tcase_add_test(tc, test_rows_are_posted_with_their_key_body_and_signature);
	tcase_add_test(tc,
		       test_a_failing_platform_gets_each_row_once_retries_spaced_by_the_backoff);
	tcase_add_test(tc, test_a_platform_that_hangs_gets_the_row_again_after_the_timeout);
	tcase_add_test(tc, test_a_platform_that_is_down_gets_the_row_once_it_starts);
	tcase_add_test(tc, test_a_400_fails_the_row_for_good_but_408_and_429_are_retried);
	tcase_add_test(tc, test_a_row_fetched_again_while_in_flight_is_not_posted_twice);
	tcase_add_test(tc, test_a_crash_before_recording_posts_again_under_the_same_key);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
