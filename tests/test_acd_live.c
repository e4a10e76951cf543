/* test_acd_live.c: the ACD in the real broker, against real PostgreSQL,
 * Redis and hotlined: agents log in and take calls offered over the
 * gateway's command stream, unanswered offers go to the next agent, crisis
 * callers who hang up get an urgent callback, and a broker killed with
 * calls waiting and agents on calls comes back exactly where it was. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "auth.h"
#include "harness.h"

#define T0 "2019-03-04T09:15:02+08:00"
#define T1 "2019-03-04T09:15:40+08:00"
#define T2 "2019-03-04T09:19:00+08:00"
#define PASSWORD "a long test password"

/* Queues with short timers, so that ring timeouts happen within a test. */
static const char test_queues[] =
	"position_updates: 5\n"
	"handle_time_initial_s: 60\n"
	"crisis_queue: crisis\n"
	"default_queue: general\n"
	"not_ready_reasons: [lunch, meeting]\n"
	"queues:\n"
	"  - {name: crisis, priority: 0, crisis: true, skill: crisis, strategy: skill_level,\n"
	"     ring_timeout_s: 2, wrap_up_s: 30, max_misses: 2}\n"
	"  - {name: booking, priority: 4, skill: booking, ring_timeout_s: 1, wrap_up_s: 30,\n"
	"     max_misses: 2}\n"
	"  - {name: general, priority: 5, skill: general, ring_timeout_s: 2, wrap_up_s: 30}\n"
	"  - {name: survey, priority: 6, skill: survey, ring_timeout_s: 2, wrap_up_s: 30,\n"
	"     max_wait_s: 1, overflow: callback}\n";

static struct harness_broker broker;
static char *db;

/* --- a small SSE reader (HTTP/1.0, so the stream is not chunked) ------------ */

struct stream {
	int fd;
	char buf[1 << 16];
	size_t len;
};

static struct stream *stream_open(int port, const char *path, const char *secret,
				  const char *token)
{
	struct stream *s = calloc(1, sizeof *s);
	ck_assert_ptr_nonnull(s);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(s->fd, (struct sockaddr *)&a, sizeof a), 0);
	char head[1024];
	int n;
	if (secret) {
		char sig[AUTH_SIGNATURE_LEN];
		int64_t ts = time(NULL);
		auth_sign(secret, ts, "", 0, sig);
		n = snprintf(head, sizeof head,
			     "GET %s HTTP/1.0\r\nHost: x\r\n" AUTH_HEADER_TIMESTAMP ": %lld\r\n"
			     AUTH_HEADER_SIGNATURE ": %s\r\n\r\n",
			     path, (long long)ts, sig);
	} else {
		n = snprintf(head, sizeof head,
			     "GET %s HTTP/1.0\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", path,
			     token);
	}
	ck_assert_int_eq(write(s->fd, head, (size_t)n), n);
	return s;
}

static void stream_close(struct stream *s)
{
	if (s) {
		close(s->fd);
		free(s);
	}
}

/* The next message named event (others are skipped), within timeout_ms;
 * returns its data (free it) or NULL. */
static char *stream_next(struct stream *s, const char *event, int timeout_ms)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		/* messages end with a blank line */
		char *end;
		while ((end = memmem(s->buf, s->len, "\n\n", 2)) != NULL) {
			size_t mlen = (size_t)(end - s->buf) + 2;
			char *msg = strndup(s->buf, mlen);
			memmove(s->buf, s->buf + mlen, s->len - mlen);
			s->len -= mlen;
			char *ev = strstr(msg, "event: ");
			char *data = strstr(msg, "data: ");
			if (ev && data) {
				char *nl = strchr(ev, '\n');
				size_t elen = (size_t)(nl - ev - 7);
				if (strlen(event) == elen && strncmp(ev + 7, event, elen) == 0) {
					char *dnl = strchr(data, '\n');
					char *out = strndup(data + 6, (size_t)(dnl - data - 6));
					free(msg);
					return out;
				}
			}
			free(msg);
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (spent >= timeout_ms)
			return NULL;
		struct pollfd p = {.fd = s->fd, .events = POLLIN};
		if (poll(&p, 1, (int)(timeout_ms - spent)) <= 0)
			return NULL;
		ssize_t got = read(s->fd, s->buf + s->len, sizeof s->buf - 1 - s->len);
		if (got <= 0)
			return NULL;
		s->len += (size_t)got;
		/* skip the HTTP head */
		char *head_end = memmem(s->buf, s->len, "\r\n\r\n", 4);
		if (strncmp(s->buf, "HTTP/", 5) == 0 && head_end != NULL) {
			size_t hl = (size_t)(head_end - s->buf) + 4;
			ck_assert_msg(strncmp(s->buf, "HTTP/1.1 200", 12) == 0 ||
					      strncmp(s->buf, "HTTP/1.0 200", 12) == 0,
				      "stream refused: %.60s", s->buf);
			memmove(s->buf, s->buf + hl, s->len - hl);
			s->len -= hl;
		}
	}
}

/* The next message named event; fails the test if none comes. */
static json_t *expect(struct stream *s, const char *event, int timeout_ms)
{
	char *data = stream_next(s, event, timeout_ms);
	ck_assert_msg(data != NULL, "no '%s' message within %d ms", event, timeout_ms);
	json_t *j = json_loads(data, 0, NULL);
	ck_assert_msg(j != NULL, "'%s' data is not JSON: %s", event, data);
	free(data);
	return j;
}

static const char *jstr(json_t *j, const char *key)
{
	const char *v = json_string_value(json_object_get(j, key));
	return v ? v : "";
}

/* --- the broker and its agents ------------------------------------------------ */


static void add_agent(const char *id, const char *extension, const char *skills)
{
	char hash[crypto_pwhash_STRBYTES];
	ck_assert_int_eq(crypto_pwhash_str_alg(hash, PASSWORD, strlen(PASSWORD),
					       crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN,
					       crypto_pwhash_ALG_ARGON2ID13),
			 0);
	char *sql = NULL;
	ck_assert_int_gt(asprintf(&sql,
				  "INSERT INTO agents (centre, agent_id, name, extension, password_hash)"
				  " VALUES ('nanjing', '%s', '坐席 %s', '%s', '%s')",
				  id, id, extension, hash),
			 0);
	ck_assert_int_eq(harness_pg_exec(db, sql), 0);
	free(sql);
	char *copy = strdup(skills), *save = NULL;
	for (char *sk = strtok_r(copy, ",", &save); sk; sk = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(sk, ':');
		*colon = '\0';
		ck_assert_int_gt(asprintf(&sql,
					  "INSERT INTO agent_skills VALUES ('nanjing', '%s', '%s', %s)",
					  id, sk, colon + 1),
				 0);
		ck_assert_int_eq(harness_pg_exec(db, sql), 0);
		free(sql);
	}
	free(copy);
}

static json_t *call_json(const char *method, const char *path, const char *token,
			 const char *body, int *status)
{
	char auth[256];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
	const char *headers[] = {auth, NULL};
	struct harness_response r;
	ck_assert_msg(harness_http(broker.port, method, path, token ? headers : NULL, body, &r) == 0,
		      "%s %s: no answer", method, path);
	*status = r.status;
	json_t *j = json_loads(r.body, 0, NULL);
	if (j == NULL)
		j = json_pack("{s:s}", "raw", r.body);
	harness_response_free(&r);
	return j;
}

/* Logs in; returns the token (free it). */
static char *login(const char *id)
{
	char body[256];
	snprintf(body, sizeof body, "{\"centre\":\"nanjing\",\"agent_id\":\"%s\",\"password\":\"%s\"}",
		 id, PASSWORD);
	int status;
	json_t *j = call_json("POST", "/v1/agents/login", NULL, body, &status);
	ck_assert_msg(status == 200, "login of %s: %d", id, status);
	char *token = strdup(jstr(j, "token"));
	ck_assert_int_eq(strlen(token), 43);
	json_decref(j);
	return token;
}

static void set_state(const char *token, const char *state, const char *reason)
{
	char body[128];
	if (reason)
		snprintf(body, sizeof body, "{\"state\":\"%s\",\"reason\":\"%s\"}", state, reason);
	else
		snprintf(body, sizeof body, "{\"state\":\"%s\"}", state);
	int status;
	json_t *j = call_json("POST", "/v1/agents/state", token, body, &status);
	ck_assert_msg(status == 200, "state %s: %d", state, status);
	/* A ready agent may be offered a waiting call at once. */
	if (strcmp(state, "ready") == 0 && strcmp(jstr(j, "state"), "offered") == 0)
		state = "offered";
	ck_assert_str_eq(jstr(j, "state"), state);
	json_decref(j);
}

static const char *me_state(const char *token, char out[32])
{
	int status;
	json_t *j = call_json("GET", "/v1/agents/me", token, NULL, &status);
	ck_assert_int_eq(status, 200);
	snprintf(out, 32, "%s", jstr(json_object_get(j, "state"), "state"));
	json_decref(j);
	return out;
}

static int post_event(const char *body, json_t **answer)
{
	struct harness_response r;
	ck_assert(harness_http_signed(broker.port, broker.gateway_secret, "POST", "/v1/calls/events",
				      body, &r) == 0);
	int status = r.status;
	if (answer)
		*answer = json_loads(r.body, 0, NULL);
	ck_assert_msg(status == 200, "event refused (%d): %s", status, r.body);
	harness_response_free(&r);
	return status;
}

static void offered(const char *call, const char *caller, const char *dialled, const char *ivr,
		    json_t **answer)
{
	char body[512];
	snprintf(body, sizeof body,
		 "{\"event_id\":\"%s-o\",\"type\":\"call.offered\",\"call_id\":\"%s\","
		 "\"centre\":\"nanjing\",\"time\":\"" T0 "\",\"caller\":\"%s\",\"dialled\":\"%s\","
		 "\"ivr_path\":\"%s\"}",
		 call, call, caller, dialled, ivr);
	post_event(body, answer);
}

static void event(const char *call, const char *type, const char *time, const char *extra)
{
	char body[512];
	snprintf(body, sizeof body,
		 "{\"event_id\":\"%s-%s\",\"type\":\"call.%s\",\"call_id\":\"%s\","
		 "\"centre\":\"nanjing\",\"time\":\"%s\"%s}",
		 call, type, type, call, time, extra ? extra : "");
	post_event(body, NULL);
}

static int64_t count(const char *sql)
{
	return harness_pg_query_int(db, sql);
}

static void wait_ready(const struct harness_broker *b)
{
	ck_assert_msg(harness_broker_wait_healthy(b) == 0, "%s", harness_error());
}

static void start_broker(void)
{
	char dir[HARNESS_PATH_MAX], path[HARNESS_PATH_MAX + 32];
	ck_assert_int_eq(harness_tmpdir("acd", dir), 0);
	snprintf(path, sizeof path, "%s/queues.yaml", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(test_queues, f);
	fclose(f);
	static char queues_path[HARNESS_PATH_MAX + 32];
	snprintf(queues_path, sizeof queues_path, "%s", path);
	const char *settings[] = {"acd.queues_file", queues_path, NULL};
	struct harness_broker_options opt = {.database_url = db, .settings = settings};
	ck_assert_msg(harness_broker_start(&broker, &opt) == 0, "%s", harness_error());
	wait_ready(&broker);
}

static void setup(void)
{
	ck_assert_int_eq(sodium_init() >= 0, 1);
	db = harness_db_create(NULL);
	ck_assert_msg(db != NULL, "%s", harness_error());
	ck_assert_int_eq(harness_pg_exec(db, "INSERT INTO centres (code, name) VALUES ('nanjing', '南京')"), 0);
}

static void teardown(void)
{
	harness_broker_free(&broker);
	harness_db_drop(db);
	free(db);
}

/* --- the tests ---------------------------------------------------------------- */

START_TEST(test_an_agent_logs_in_takes_a_call_and_wraps_it_up)
{
	add_agent("a1", "7001", "booking:5,general:5");
	start_broker();

	/* Unknown agent and wrong password get the same answer. */
	int status;
	json_t *j = call_json("POST", "/v1/agents/login", NULL,
			      "{\"centre\":\"nanjing\",\"agent_id\":\"a1\",\"password\":\"wrong one!\"}",
			      &status);
	ck_assert_int_eq(status, 401);
	ck_assert_str_eq(jstr(json_object_get(j, "error"), "code"), "bad_credentials");
	json_decref(j);
	j = call_json("POST", "/v1/agents/login", NULL,
		      "{\"centre\":\"nanjing\",\"agent_id\":\"nobody\",\"password\":\"" PASSWORD "\"}",
		      &status);
	ck_assert_int_eq(status, 401);
	ck_assert_str_eq(jstr(json_object_get(j, "error"), "code"), "bad_credentials");
	json_decref(j);
	j = call_json("GET", "/v1/agents/me", "not-a-token", NULL, &status);
	ck_assert_int_eq(status, 401);
	json_decref(j);

	/* The caller called before: that call is in their history. */
	offered("h1", "13812345678", "12320", "1", NULL);
	event("h1", "abandoned", T1, NULL);

	char *token = login("a1");
	char st[32];
	ck_assert_str_eq(me_state(token, st), "not_ready");
	j = call_json("POST", "/v1/agents/state", token, "{\"state\":\"not_ready\",\"reason\":\"nap\"}",
		      &status);
	ck_assert_int_eq(status, 422);
	json_decref(j);

	struct stream *gw = stream_open(broker.port, "/v1/gateway/commands?centre=nanjing",
					broker.gateway_secret, NULL);
	char path[64];
	snprintf(path, sizeof path, "/v1/agents/stream");
	struct stream *ag = stream_open(broker.port, path, NULL, token);
	json_decref(expect(ag, "state", 2000));
	set_state(token, "ready", NULL);
	/* Ready again while ready: nothing to record, and nothing breaks. */
	set_state(token, "ready", NULL);
	struct harness_response health;
	ck_assert_int_eq(harness_http(broker.port, "GET", "/healthz", NULL, NULL, &health), 0);
	ck_assert_int_eq(health.status, 200);
	harness_response_free(&health);

	json_t *answer = NULL;
	offered("c1", "13812345678", "12320", "1", &answer);
	ck_assert_str_eq(jstr(answer, "queue"), "booking");
	json_decref(answer);

	json_t *cmd = expect(gw, "connect", 3000);
	ck_assert_str_eq(jstr(cmd, "call_id"), "c1");
	ck_assert_str_eq(jstr(cmd, "agent"), "a1");
	ck_assert_str_eq(jstr(cmd, "extension"), "7001");
	json_decref(cmd);
	json_t *off = expect(ag, "offer", 3000);
	ck_assert_str_eq(jstr(off, "kind"), "call");
	ck_assert_str_eq(jstr(off, "call_id"), "c1");
	ck_assert_ptr_null(strstr(jstr(off, "caller"), "13812345678"));
	ck_assert_ptr_nonnull(strstr(jstr(off, "caller"), "5678"));
	json_t *history = json_object_get(off, "history");
	ck_assert_int_eq(json_array_size(history), 1);
	ck_assert_str_eq(jstr(json_array_get(history, 0), "call_id"), "h1");
	ck_assert_str_eq(jstr(json_array_get(history, 0), "outcome"), "abandoned");
	json_decref(off);
	ck_assert_str_eq(me_state(token, st), "offered");

	event("c1", "answered", T1, ",\"agent\":\"a1\"");
	ck_assert_str_eq(me_state(token, st), "on_call");
	/* Not the agent's call to wrap up. */
	j = call_json("POST", "/v1/agents/wrap-up", token,
		      "{\"call_id\":\"h1\",\"disposition\":\"resolved\"}", &status);
	ck_assert_int_eq(status, 409);
	json_decref(j);
	event("c1", "ended", T2, NULL);
	ck_assert_str_eq(me_state(token, st), "wrap_up");
	j = call_json("POST", "/v1/agents/wrap-up", token,
		      "{\"call_id\":\"c1\",\"disposition\":\"complaint_taken\","
		      "\"category\":\"complaint\"}",
		      &status);
	ck_assert_int_eq(status, 200);
	json_decref(j);
	/* The wrap-up time is the agent's, by the broker's clock (the call's own
	 * times are the gateway's, in 2019 here): a moment, not years. */
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE call_id = 'c1'"
			       " AND wrap_up_us BETWEEN 0 AND 60000000"),
			 1);
	set_state(token, "ready", NULL);

	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE call_id = 'c1' AND category = 'booking'"
			       " AND corrected_category = 'complaint' AND disposition = 'complaint_taken'"
			       " AND wrapped_by = 'a1'"),
			 1);
	char *states = harness_pg_query_text(
		db, "SELECT string_agg(state || ':' || coalesce(call_id, '-'), ',' ORDER BY seq)"
		    " FROM agent_state_log WHERE agent_id = 'a1'");
	ck_assert_str_eq(states, "not_ready:-,ready:-,offered:c1,on_call:c1,wrap_up:c1,ready:-");
	free(states);
	ck_assert_int_eq(count("SELECT count(*) FROM agent_sessions WHERE agent_id = 'a1'"), 1);

	/* Statistics count the corrected category. */
	const char *stats = harness_program("HOTLINE_STATS_BIN");
	const char *argv[] = {stats, "--db", db, "day", "--centre", "nanjing", "--date", "2019-03-04",
			      "--format", "json", NULL};
	char *out = NULL;
	int code = -1;
	ck_assert_int_eq(harness_run(argv, &out, &code), 0);
	ck_assert_msg(code == 0, "hotline-stats: %s", out);
	json_t *day = json_loads(out, 0, NULL);
	ck_assert_msg(day != NULL, "not JSON: %s", out);
	json_t *by = json_object_get(day, "by_category");
	ck_assert_int_eq(json_integer_value(json_object_get(by, "complaint")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(by, "booking")), 0);
	json_decref(day);
	free(out);

	/* Logging out ends the session. */
	j = call_json("POST", "/v1/agents/logout", token, NULL, &status);
	ck_assert_int_eq(status, 200);
	json_decref(j);
	j = call_json("GET", "/v1/agents/me", token, NULL, &status);
	ck_assert_int_eq(status, 401);
	json_decref(j);
	ck_assert_int_eq(count("SELECT count(*) FROM agent_sessions WHERE agent_id = 'a1'"), 0);
	stream_close(gw);
	stream_close(ag);
	free(token);
}
END_TEST

START_TEST(test_an_unanswered_offer_goes_to_the_next_agent_and_misses_pause_the_agent)
{
	add_agent("a1", "7001", "booking:5");
	add_agent("a2", "7002", "booking:5");
	start_broker();
	struct stream *gw = stream_open(broker.port, "/v1/gateway/commands?centre=nanjing",
					broker.gateway_secret, NULL);
	char *t1 = login("a1"), *t2 = login("a2");
	set_state(t1, "ready", NULL);
	usleep(20000); /* a1 idle longest */
	set_state(t2, "ready", NULL);

	offered("r1", "13900000001", "12320", "1", NULL);
	json_t *first = expect(gw, "connect", 3000);
	char who[8];
	snprintf(who, sizeof who, "%s", jstr(first, "agent"));
	ck_assert_str_eq(who, "a1");
	json_decref(first);
	/* Nobody picks up within the ring time (1 s): cancelled, next agent. */
	json_t *cancel = expect(gw, "cancel", 3000);
	ck_assert_str_eq(jstr(cancel, "agent"), "a1");
	ck_assert_str_eq(jstr(cancel, "reason"), "ring_timeout");
	json_decref(cancel);
	json_t *second = expect(gw, "connect", 3000);
	ck_assert_str_eq(jstr(second, "agent"), "a2");
	json_decref(second);
	/* The gateway could not ring a2: straight to a1 again. */
	event("r1", "offer_failed", T1, ",\"agent\":\"a2\"");
	json_t *third = expect(gw, "connect", 3000);
	ck_assert_str_eq(jstr(third, "agent"), "a1");
	json_decref(third);
	/* a1 misses a second time: paused with reason no_answer. */
	json_decref(expect(gw, "cancel", 3000));
	char st[32];
	int status;
	json_t *me = call_json("GET", "/v1/agents/me", t1, NULL, &status);
	ck_assert_str_eq(jstr(json_object_get(me, "state"), "state"), "not_ready");
	ck_assert_str_eq(jstr(json_object_get(me, "state"), "reason"), "no_answer");
	/* /me says which reasons this broker accepts (its queues file's). */
	json_t *reasons = json_object_get(me, "reasons");
	bool lunch = false, no_answer = false;
	for (size_t i = 0; i < json_array_size(reasons); i++) {
		const char *code = json_string_value(json_array_get(reasons, i));
		lunch = lunch || (code && strcmp(code, "lunch") == 0);
		no_answer = no_answer || (code && strcmp(code, "no_answer") == 0);
	}
	ck_assert(lunch && no_answer);
	json_decref(me);
	json_t *fourth = expect(gw, "connect", 3000);
	ck_assert_str_eq(jstr(fourth, "agent"), "a2");
	json_decref(fourth);
	event("r1", "answered", T1, ",\"agent\":\"a2\"");
	ck_assert_str_eq(me_state(t2, st), "on_call");
	ck_assert_int_eq(count("SELECT count(*) FROM agent_state_log WHERE agent_id = 'a1'"
			       " AND state = 'not_ready' AND reason = 'no_answer'"),
			 1);
	stream_close(gw);
	free(t1);
	free(t2);
}
END_TEST

START_TEST(test_a_crisis_caller_who_hangs_up_gets_an_urgent_callback_and_comes_back_to_crisis)
{
	add_agent("k1", "7101", "crisis:9");
	start_broker();
	json_t *answer = NULL;
	offered("x1", "13700000007", "12356", "", &answer);
	ck_assert_str_eq(jstr(answer, "category"), "crisis");
	ck_assert_int_eq(json_integer_value(json_object_get(answer, "position")), 1);
	json_decref(answer);

	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	event("x1", "abandoned", T1, NULL);
	int64_t found = 0;
	for (int i = 0; i < 100 && found == 0; i++) {
		found = count("SELECT count(*) FROM callbacks WHERE call_id = 'x1' AND urgent"
			      " AND reason = 'crisis_abandoned' AND state = 'pending'");
		if (found == 0)
			usleep(10000);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	ck_assert_int_eq(found, 1);
	double took = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	ck_assert_msg(took < 1.0, "the urgent callback took %.3f s", took);

	struct harness_response r;
	ck_assert_int_eq(harness_http_signed(broker.port, broker.gateway_secret, "GET",
					     "/v1/centres/nanjing/callbacks", NULL, &r),
			 0);
	ck_assert_int_eq(r.status, 200);
	json_t *list = json_loads(r.body, 0, NULL);
	harness_response_free(&r);
	json_t *first = json_array_get(json_object_get(list, "callbacks"), 0);
	ck_assert_str_eq(jstr(first, "call_id"), "x1");
	ck_assert(json_is_true(json_object_get(first, "urgent")));
	json_decref(list);

	/* The same caller dials the booking line: the crisis team takes it. */
	offered("x2", "13700000007", "12320", "1", &answer);
	ck_assert_str_eq(jstr(answer, "queue"), "crisis");
	ck_assert_str_eq(jstr(answer, "category"), "booking");
	json_decref(answer);

	/* A crisis agent comes: the callback (joined first) is offered first. */
	struct stream *gw = stream_open(broker.port, "/v1/gateway/commands?centre=nanjing",
					broker.gateway_secret, NULL);
	char *token = login("k1");
	struct stream *ag = stream_open(broker.port, "/v1/agents/stream", NULL, token);
	set_state(token, "ready", NULL);
	json_t *off = expect(ag, "offer", 3000);
	ck_assert_str_eq(jstr(off, "kind"), "callback");
	ck_assert_str_eq(jstr(off, "call_id"), "x1");
	ck_assert(json_is_true(json_object_get(off, "urgent")));
	json_decref(off);
	int status;
	json_t *j = call_json("POST", "/v1/agents/callbacks/accept", token, "{\"callback_id\":\"x1\"}",
			      &status);
	ck_assert_int_eq(status, 200);
	json_decref(j);
	json_t *dial = expect(gw, "dial", 3000);
	ck_assert_str_eq(jstr(dial, "callback_id"), "x1");
	ck_assert_str_eq(jstr(dial, "extension"), "7101");
	json_decref(dial);
	j = call_json("POST", "/v1/agents/callbacks/finish", token,
		      "{\"callback_id\":\"x1\",\"outcome\":\"reached\"}", &status);
	ck_assert_int_eq(status, 200);
	json_decref(j);
	ck_assert_int_eq(count("SELECT count(*) FROM callbacks WHERE call_id = 'x1' AND state = 'done'"
			       " AND outcome = 'reached' AND agent_id = 'k1'"),
			 1);
	set_state(token, "ready", NULL);
	json_t *cmd = expect(gw, "connect", 3000);
	ck_assert_str_eq(jstr(cmd, "call_id"), "x2");
	json_decref(cmd);
	stream_close(gw);
	stream_close(ag);
	free(token);
}
END_TEST

START_TEST(test_kill_9_restores_queues_positions_agent_states_and_sessions)
{
	add_agent("a1", "7001", "booking:5");
	add_agent("a2", "7002", "booking:5");
	start_broker();
	char *t1 = login("a1"), *t2 = login("a2");
	set_state(t2, "not_ready", "lunch");
	set_state(t1, "ready", NULL);
	offered("k1", "13900000011", "12320", "1", NULL);
	event("k1", "answered", T1, ",\"agent\":\"a1\"");
	{
		/* Answered 38 s after the offer (T0 to T1): counted, but not within
		 * the default 20 s of the service level. */
		struct harness_response q;
		ck_assert_int_eq(harness_http_signed(broker.port, broker.gateway_secret, "GET",
						     "/v1/centres/nanjing/queues", NULL, &q),
				 0);
		json_t *v = json_loads(q.body, 0, NULL);
		harness_response_free(&q);
		json_t *qs = json_object_get(v, "queues");
		for (size_t i = 0; i < json_array_size(qs); i++) {
			json_t *one = json_array_get(qs, i);
			if (strcmp(jstr(one, "queue"), "booking") != 0)
				continue;
			ck_assert_int_eq(json_integer_value(json_object_get(one, "answered_today")), 1);
			ck_assert_int_eq(
				json_integer_value(json_object_get(one, "answered_in_sl_today")), 0);
			ck_assert_int_eq(json_integer_value(json_object_get(one, "service_level_s")),
					 20);
		}
		json_decref(v);
	}
	json_t *answer = NULL;
	offered("k2", "13900000012", "12320", "1", &answer);
	ck_assert_int_eq(json_integer_value(json_object_get(answer, "position")), 1);
	json_decref(answer);
	offered("k3", "13900000013", "12320", "1", &answer);
	ck_assert_int_eq(json_integer_value(json_object_get(answer, "position")), 2);
	json_decref(answer);
	int64_t rows = count("SELECT count(*) FROM agent_state_log");

	ck_assert_int_eq(harness_broker_kill(&broker, SIGKILL), 128 + SIGKILL);
	ck_assert_int_eq(harness_broker_restart(&broker), 0);
	wait_ready(&broker);

	struct harness_response r;
	ck_assert_int_eq(harness_http_signed(broker.port, broker.gateway_secret, "GET",
					     "/v1/centres/nanjing/queues", NULL, &r),
			 0);
	ck_assert_int_eq(r.status, 200);
	json_t *view = json_loads(r.body, 0, NULL);
	harness_response_free(&r);
	json_t *queues = json_object_get(view, "queues"), *booking = NULL;
	for (size_t i = 0; i < json_array_size(queues); i++)
		if (strcmp(jstr(json_array_get(queues, i), "queue"), "booking") == 0)
			booking = json_array_get(queues, i);
	ck_assert_ptr_nonnull(booking);
	json_t *calls = json_object_get(booking, "calls");
	ck_assert_int_eq(json_array_size(calls), 2);
	ck_assert_str_eq(jstr(json_array_get(calls, 0), "call_id"), "k2");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(calls, 0), "position")), 1);
	ck_assert_str_eq(jstr(json_array_get(calls, 1), "call_id"), "k3");
	json_t *agents = json_object_get(view, "agents");
	ck_assert_int_eq(json_array_size(agents), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *a = json_array_get(agents, i);
		if (strcmp(jstr(a, "agent_id"), "a1") == 0) {
			ck_assert_str_eq(jstr(a, "state"), "on_call");
			ck_assert_str_eq(jstr(a, "call_id"), "k1");
		} else {
			ck_assert_str_eq(jstr(a, "state"), "not_ready");
			ck_assert_str_eq(jstr(a, "reason"), "lunch");
		}
	}
	json_decref(view);
	/* Nothing was written twice by the restart. */
	ck_assert_int_eq(count("SELECT count(*) FROM agent_state_log"), rows);

	/* The agents' sessions survived; the calls carry on. */
	struct stream *gw = stream_open(broker.port, "/v1/gateway/commands?centre=nanjing",
					broker.gateway_secret, NULL);
	event("k1", "ended", T2, NULL);
	char st[32];
	ck_assert_str_eq(me_state(t1, st), "wrap_up");
	set_state(t1, "ready", NULL);
	json_t *cmd = expect(gw, "connect", 3000);
	ck_assert_str_eq(jstr(cmd, "call_id"), "k2");
	ck_assert_str_eq(jstr(cmd, "agent"), "a1");
	json_decref(cmd);
	/* Offered as the agent became ready: the row names the call, and the
	 * agent can wrap it up afterwards. */
	char *last = harness_pg_query_text(db, "SELECT state || ':' || coalesce(call_id, '-')"
					       " FROM agent_state_log WHERE agent_id = 'a1'"
					       " ORDER BY seq DESC LIMIT 1");
	ck_assert_str_eq(last, "offered:k2");
	free(last);
	event("k2", "answered", T1, ",\"agent\":\"a1\"");
	event("k2", "ended", T2, NULL);
	int status;
	json_t *w = call_json("POST", "/v1/agents/wrap-up", t1,
			      "{\"call_id\":\"k2\",\"disposition\":\"resolved\"}", &status);
	ck_assert_int_eq(status, 200);
	json_decref(w);
	ck_assert_int_eq(count("SELECT count(*) FROM calls"), 3);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE outcome = 'handled'"), 2);
	stream_close(gw);
	free(t1);
	free(t2);
}
END_TEST

START_TEST(test_a_caller_waiting_past_the_max_wait_gets_a_callback_that_keeps_their_place)
{
	add_agent("s1", "7201", "survey:5");
	start_broker();
	struct stream *gw = stream_open(broker.port, "/v1/gateway/commands?centre=nanjing",
					broker.gateway_secret, NULL);
	json_t *answer = NULL;
	offered("v1", "13900000031", "12320", "6", &answer);
	ck_assert_str_eq(jstr(answer, "queue"), "survey");
	json_decref(answer);
	json_t *ov = expect(gw, "overflow", 4000);
	ck_assert_str_eq(jstr(ov, "call_id"), "v1");
	ck_assert_str_eq(jstr(ov, "target"), "callback");
	json_decref(ov);
	/* The task keeps the time the caller joined (the broker's clock; the
	 * row's accepted_at is the database's, a moment later). */
	int64_t found = 0;
	for (int i = 0; i < 100 && found == 0; i++) {
		found = count("SELECT count(*) FROM callbacks b JOIN calls c USING (centre, call_id)"
			      " WHERE b.call_id = 'v1' AND NOT b.urgent AND b.reason = 'overflow'"
			      " AND abs(extract(epoch FROM b.joined_at - c.accepted_at)) < 0.5");
		if (found == 0)
			usleep(10000);
	}
	ck_assert_int_eq(found, 1);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE call_id = 'v1'"
			       " AND overflowed_from = 'survey' AND queue = 'overflow:callback'"),
			 1);
	/* The caller leaves the line; the callback stays. */
	event("v1", "abandoned", T1, NULL);
	ck_assert_int_eq(count("SELECT count(*) FROM callbacks WHERE state = 'pending'"), 1);
	/* A caller who joined later waits behind the callback. */
	offered("v2", "13900000032", "12320", "6", NULL);
	char *token = login("s1");
	struct stream *ag = stream_open(broker.port, "/v1/agents/stream", NULL, token);
	set_state(token, "ready", NULL);
	json_t *off = expect(ag, "offer", 3000);
	ck_assert_str_eq(jstr(off, "call_id"), "v1");
	ck_assert_str_eq(jstr(off, "kind"), "callback");
	json_decref(off);
	stream_close(ag);
	stream_close(gw);
	free(token);
}
END_TEST

START_TEST(test_a_refused_agent_row_rolls_back_and_reloads_without_dropping_postgres)
{
	add_agent("a1", "7001", "general:5");
	start_broker();
	char *token = login("a1");
	/* An operator's constraint refuses one kind of row. */
	ck_assert_int_eq(harness_pg_exec(db, "ALTER TABLE agent_state_log ADD CONSTRAINT no_meetings"
					     " CHECK (reason IS DISTINCT FROM 'meeting')"),
			 0);
	int status;
	json_t *j = call_json("POST", "/v1/agents/state", token,
			      "{\"state\":\"not_ready\",\"reason\":\"meeting\"}", &status);
	ck_assert_int_eq(status, 503);
	json_decref(j);
	/* Memory is rebuilt from what committed; the agent is where they were. */
	char st[32] = "";
	for (int i = 0; i < 50; i++) {
		j = call_json("GET", "/v1/agents/me", token, NULL, &status);
		if (status == 200)
			snprintf(st, sizeof st, "%s", jstr(json_object_get(j, "state"), "reason"));
		json_decref(j);
		if (status == 200)
			break;
		usleep(50000);
	}
	ck_assert_str_eq(st, "login");
	set_state(token, "not_ready", "lunch");
	struct harness_response r;
	ck_assert_int_eq(harness_http(broker.port, "GET", "/metrics", NULL, NULL, &r), 0);
	ck_assert_ptr_nonnull(strstr(r.body, "hotline_store_disconnects_total 0"));
	harness_response_free(&r);
	free(token);
}
END_TEST

static char *redis_get(int port, const char *key, const char *field)
{
	char p[16];
	snprintf(p, sizeof p, "%d", port);
	const char *argv[] = {"redis-cli", "-p", p, "HGET", key, field, NULL};
	char *out = NULL;
	int code = -1;
	if (harness_run(argv, &out, &code) != 0 || code != 0) {
		free(out);
		return NULL;
	}
	return out;
}

START_TEST(test_redis_mirrors_agents_and_queues_and_is_rewritten_after_an_outage)
{
	char dir[HARNESS_PATH_MAX];
	ck_assert_int_eq(harness_tmpdir("redis", dir), 0);
	struct harness_server *redis = harness_redis_start(dir);
	ck_assert_ptr_nonnull(redis);
	add_agent("a1", "7001", "general:5");
	/* start_broker with this Redis */
	char qdir[HARNESS_PATH_MAX], qpath[HARNESS_PATH_MAX + 32], port[16];
	ck_assert_int_eq(harness_tmpdir("acdq", qdir), 0);
	snprintf(qpath, sizeof qpath, "%s/queues.yaml", qdir);
	FILE *f = fopen(qpath, "w");
	fputs(test_queues, f);
	fclose(f);
	snprintf(port, sizeof port, "%d", harness_server_port(redis));
	const char *settings[] = {"acd.queues_file", qpath, "redis.key_prefix", "acdtest", NULL};
	struct harness_broker_options opt = {.database_url = db, .settings = settings,
					     .redis_port = harness_server_port(redis)};
	ck_assert_msg(harness_broker_start(&broker, &opt) == 0, "%s", harness_error());
	wait_ready(&broker);

	char *token = login("a1");
	set_state(token, "ready", NULL);
	char *agent = NULL;
	for (int i = 0; i < 50; i++) {
		free(agent);
		agent = redis_get(harness_server_port(redis), "acdtest:nanjing:agents", "a1");
		if (agent && strstr(agent, "\"ready\""))
			break;
		usleep(50000);
	}
	ck_assert_msg(agent && strstr(agent, "\"state\":\"ready\""), "agents hash: %s", agent);
	free(agent);

	/* Redis goes away; the broker keeps routing. */
	ck_assert_int_eq(harness_server_stop(redis), 0);
	set_state(token, "not_ready", "meeting");
	offered("m1", "13900000021", "12320", "7", NULL); /* general queue: waits */
	ck_assert_int_eq(harness_server_restart(redis), 0);
	char *queue = NULL;
	agent = NULL;
	for (int i = 0; i < 100; i++) {
		free(agent);
		free(queue);
		agent = redis_get(harness_server_port(redis), "acdtest:nanjing:agents", "a1");
		queue = redis_get(harness_server_port(redis), "acdtest:nanjing:queues", "general");
		if (agent && strstr(agent, "meeting") && queue && strstr(queue, "\"waiting\":1"))
			break;
		usleep(100000);
	}
	ck_assert_msg(agent && strstr(agent, "\"reason\":\"meeting\""), "after the outage: %s", agent);
	ck_assert_msg(queue && strstr(queue, "\"waiting\":1"), "queue after the outage: %s", queue);
	free(agent);
	free(queue);
	free(token);
	harness_server_free(redis);
}
END_TEST

static Suite *acd_live_suite(void)
{
	Suite *s = suite_create("acd_live");
	TCase *tc = tcase_create("acd_live");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_an_agent_logs_in_takes_a_call_and_wraps_it_up);
	tcase_add_test(tc, test_an_unanswered_offer_goes_to_the_next_agent_and_misses_pause_the_agent);
	tcase_add_test(tc,
		       test_a_crisis_caller_who_hangs_up_gets_an_urgent_callback_and_comes_back_to_crisis);
	tcase_add_test(tc, test_kill_9_restores_queues_positions_agent_states_and_sessions);
	tcase_add_test(tc, test_a_refused_agent_row_rolls_back_and_reloads_without_dropping_postgres);
	tcase_add_test(tc,
		       test_a_caller_waiting_past_the_max_wait_gets_a_callback_that_keeps_their_place);
	tcase_add_test(tc, test_redis_mirrors_agents_and_queues_and_is_rewritten_after_an_outage);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (harness_shared_pg() == NULL || harness_shared_redis_port() < 0) {
		fprintf(stderr, "%s\n", harness_error());
		return 77;
	}
	SRunner *sr = srunner_create(acd_live_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
