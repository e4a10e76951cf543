/* test_broker.c: hotlined over real sockets against real PostgreSQL and
 * Redis: answers, idempotency, the bad-input matrix, the database and Redis
 * going away, kill -9 and restart, reload. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "auth.h"
#include "harness.h"

#define T0 "2019-03-04T09:15:02+08:00"
#define T1 "2019-03-04T09:15:12+08:00"
#define T2 "2019-03-04T09:17:12+08:00"

static struct harness_broker broker;
static const char *db; /* the broker's database */

static char *broker_db;

/* /healthz answers before the first recovery is done: wait for "ok". */


static void wait_ready(const struct harness_broker *b)
{
	ck_assert_msg(harness_broker_wait_healthy(b) == 0, "%s", harness_error());
}

static void broker_setup(void)
{
	/* The centres exist before the broker starts: it reads them when it
	 * connects. */
	broker_db = harness_db_create(NULL);
	ck_assert_msg(broker_db != NULL, "%s", harness_error());
	ck_assert_int_eq(harness_pg_exec(broker_db, "INSERT INTO centres (code, name, province) VALUES "
						    "('nanjing', '南京', '江苏'), ('suzhou', '苏州', '江苏')"),
			 0);
	struct harness_broker_options opt = {.database_url = broker_db};
	ck_assert_msg(harness_broker_start(&broker, &opt) == 0, "%s", harness_error());
	db = broker.database_url;
	wait_ready(&broker);
}

static void broker_teardown(void)
{
	harness_broker_free(&broker);
	harness_db_drop(broker_db);
	free(broker_db);
}

/* Posts a signed event; returns the status, body in resp. */
static int post(const struct harness_broker *b, const char *body, struct harness_response *resp)
{
	ck_assert_msg(harness_http_signed(b->port, b->gateway_secret, "POST", "/v1/calls/events",
					  body, resp) == 0,
		      "no answer: %s", harness_error());
	return resp->status;
}

static int post_status(const struct harness_broker *b, const char *body)
{
	struct harness_response r;
	int status = post(b, body, &r);
	harness_response_free(&r);
	return status;
}

static char *offer(const char *event_id, const char *call_id, const char *ivr)
{
	char *s = NULL;
	ck_assert_int_gt(asprintf(&s,
				  "{\"event_id\":\"%s\",\"type\":\"call.offered\",\"call_id\":\"%s\","
				  "\"centre\":\"nanjing\",\"time\":\"" T0 "\",\"caller\":\"13812345678\","
				  "\"dialled\":\"12320\",\"ivr_path\":\"%s\"}",
				  event_id, call_id, ivr),
			 0);
	return s;
}

static char *simple(const char *event_id, const char *type, const char *call_id,
		    const char *time, const char *extra)
{
	char *s = NULL;
	ck_assert_int_gt(asprintf(&s,
				  "{\"event_id\":\"%s\",\"type\":\"%s\",\"call_id\":\"%s\","
				  "\"centre\":\"nanjing\",\"time\":\"%s\"%s}",
				  event_id, type, call_id, time, extra ? extra : ""),
			 0);
	return s;
}

static int64_t count(const char *sql)
{
	return harness_pg_query_int(db, sql);
}

START_TEST(test_a_call_goes_through_its_whole_life_and_is_recorded)
{
	struct harness_response r;
	char *o = offer("e-1", "c-1", "1");
	ck_assert_int_eq(post(&broker, o, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"category\":\"booking\""));
	ck_assert_ptr_nonnull(strstr(r.body, "\"queue\":\"booking\""));
	ck_assert_ptr_nonnull(strstr(r.body, "\"state\":\"queued\""));
	harness_response_free(&r);
	/* Acknowledged means committed: the rows are there now. */
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE call_id = 'c-1' AND state = 'queued'"), 1);

	char *a = simple("e-2", "call.answered", "c-1", T1, ",\"agent\":\"a7\"");
	char *e = simple("e-3", "call.ended", "c-1", T2, ",\"cause\":\"caller hung up\"");
	ck_assert_int_eq(post(&broker, a, &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"state\":\"talking\""));
	harness_response_free(&r);
	ck_assert_int_eq(post_status(&broker, e), 200);

	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE call_id = 'c-1' AND state = 'ended'"
			       " AND outcome = 'handled' AND agent = 'a7' AND category = 'booking'"
			       " AND answered_at = '" T1 "' AND ended_at = '" T2 "'"),
			 1);
	ck_assert_int_eq(count("SELECT count(*) FROM call_events WHERE call_id = 'c-1'"), 3);
	/* The caller's number is stored masked and hashed, never in clear. */
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE caller_masked = '138****5678'"
			       " AND length(caller_hash) = 32"),
			 1);
	ck_assert_int_eq(count("SELECT count(*) FROM call_events WHERE detail::text LIKE '%13812345678%'"
			       " OR result LIKE '%13812345678%'"),
			 0);
	char *log = harness_broker_log(&broker);
	ck_assert_ptr_null(strstr(log, "13812345678"));
	free(log);
	free(o);
	free(a);
	free(e);
}
END_TEST


/* The statistics follow the calls in the same transactions, and the broker
 * folds their deltas into the kept tables on its own (stats.fold_interval_ms,
 * 5 s by default). An hour of its own, so that other tests' calls do not
 * count here. */
START_TEST(test_the_kept_statistics_follow_the_calls_and_are_folded)
{
	char *o = NULL, *a = NULL, *e = NULL;
	ck_assert_int_gt(asprintf(&o,
				  "{\"event_id\":\"st-1\",\"type\":\"call.offered\",\"call_id\":\"st-c1\","
				  "\"centre\":\"nanjing\",\"time\":\"2019-08-01T10:00:00+08:00\","
				  "\"caller\":\"13812345678\",\"dialled\":\"12320\",\"ivr_path\":\"1\"}"),
			 0);
	a = simple("st-2", "call.answered", "st-c1", "2019-08-01T10:00:12+08:00",
		   ",\"agent\":\"a7\"");
	e = simple("st-3", "call.ended", "st-c1", "2019-08-01T10:03:12+08:00", NULL);
	ck_assert_int_eq(post_status(&broker, o), 200);
	ck_assert_int_eq(post_status(&broker, a), 200);
	ck_assert_int_eq(post_status(&broker, e), 200);

	/* Committed with the call: the figures are there at once, folded or not. */
	const char *both =
		"SELECT coalesce(sum(answered), 0) FROM (SELECT * FROM stats_calls UNION ALL"
		" SELECT * FROM stats_calls_delta) s WHERE hour = '2019-08-01T02:00:00Z'"
		" AND category = 'booking' AND answered_in_sl = 1 AND wait_us = 12000000"
		" AND talk_us = 180000000";
	ck_assert_int_eq(count(both), 1);
	int64_t folded = 0, pending = -1;
	for (int i = 0; i < 150 && (folded != 1 || pending != 0); i++) {
		usleep(100 * 1000);
		folded = count("SELECT coalesce(sum(accepted), 0) FROM stats_calls"
			       " WHERE hour = '2019-08-01T02:00:00Z'");
		pending = count("SELECT count(*) FROM stats_calls_delta"
				" WHERE hour = '2019-08-01T02:00:00Z'");
	}
	ck_assert_int_eq(folded, 1);
	ck_assert_int_eq(pending, 0);
	ck_assert_int_eq(count("SELECT coalesce(sum(answered), 0) FROM stats_agent_calls"
			       " WHERE hour = '2019-08-01T02:00:00Z' AND agent = 'a7'"),
			 1);
	struct harness_response r;
	ck_assert_int_eq(harness_http(broker.port, "GET", "/metrics", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "hotline_stats_folds_total{result=\"committed\"} "));
	ck_assert_ptr_null(strstr(r.body, "hotline_stats_folds_total{result=\"committed\"} 0\n"));
	harness_response_free(&r);
	free(o);
	free(a);
	free(e);
}
END_TEST

START_TEST(test_a_call_that_ends_in_the_ivr_is_self_service)
{
	char *o = offer("i-1", "ivr-1", "9");
	char *c = simple("i-2", "call.ivr_completed", "ivr-1", T1, ",\"ivr_path\":\"912\"");
	char *e = simple("i-3", "call.ended", "ivr-1", T2, NULL);
	ck_assert_int_eq(post_status(&broker, o), 200);
	ck_assert_int_eq(post_status(&broker, c), 200);
	ck_assert_int_eq(post_status(&broker, e), 200);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE call_id = 'ivr-1'"
			       " AND category = 'ivr_self_service' AND outcome = 'self_service'"
			       " AND ivr_path = '912'"),
			 1);
	char *o2 = offer("ab-1", "ab", "2");
	char *ab = simple("ab-2", "call.abandoned", "ab", T1, NULL);
	ck_assert_int_eq(post_status(&broker, o2), 200);
	ck_assert_int_eq(post_status(&broker, ab), 200);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE call_id = 'ab' AND outcome = 'abandoned'"), 1);
	free(o);
	free(c);
	free(e);
	free(o2);
	free(ab);
}
END_TEST

START_TEST(test_a_repeated_event_returns_the_stored_answer)
{
	struct harness_response r1, r2, r3;
	char *o = offer("d-1", "dup", "3");
	ck_assert_int_eq(post(&broker, o, &r1), 200);
	ck_assert_ptr_null(harness_response_header(&r1, "Idempotent-Replay"));
	ck_assert_int_eq(post(&broker, o, &r2), 200);
	ck_assert_str_eq(r2.body, r1.body);
	ck_assert_str_eq(harness_response_header(&r2, "Idempotent-Replay"), "true");

	/* The same object with its keys in another order is the same event. */
	const char *reordered =
		"{\"ivr_path\":\"3\",\"dialled\":\"12320\",\"caller\":\"13812345678\","
		"\"time\":\"" T0 "\",\"centre\":\"nanjing\",\"call_id\":\"dup\","
		"\"type\":\"call.offered\",\"event_id\":\"d-1\"}";
	ck_assert_int_eq(post(&broker, reordered, &r3), 200);
	ck_assert_str_eq(r3.body, r1.body);
	harness_response_free(&r1);
	harness_response_free(&r2);
	harness_response_free(&r3);

	/* The same id with another payload is a conflict, and changes nothing. */
	char *other = offer("d-1", "dup", "4");
	ck_assert_int_eq(post(&broker, other, &r1), 409);
	ck_assert_ptr_nonnull(strstr(r1.body, "event_id_conflict"));
	harness_response_free(&r1);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE call_id = 'dup' AND category = 'complaint'"), 1);

	/* After the call ended and left the broker's memory, a retry of its last
	 * event is answered from the database. */
	char *a = simple("d-2", "call.answered", "dup", T1, ",\"agent\":\"a1\"");
	char *e = simple("d-3", "call.ended", "dup", T2, NULL);
	ck_assert_int_eq(post_status(&broker, a), 200);
	ck_assert_int_eq(post(&broker, e, &r1), 200);
	ck_assert_int_eq(post(&broker, e, &r2), 200);
	ck_assert_str_eq(r2.body, r1.body);
	ck_assert_str_eq(harness_response_header(&r2, "Idempotent-Replay"), "true");
	harness_response_free(&r1);
	harness_response_free(&r2);
	char *e_other = simple("d-3", "call.ended", "dup", T2, ",\"cause\":\"x\"");
	ck_assert_int_eq(post_status(&broker, e_other), 409);
	ck_assert_int_eq(count("SELECT count(*) FROM call_events WHERE call_id = 'dup'"), 3);
	free(o);
	free(other);
	free(a);
	free(e);
	free(e_other);
}
END_TEST

START_TEST(test_a_replay_of_a_finished_call_is_answered_without_a_reload)
{
	char *o = offer("f-1", "fin", "1");
	char *a = simple("f-2", "call.answered", "fin", T1, ",\"agent\":\"a1\"");
	char *e = simple("f-3", "call.ended", "fin", T2, NULL);
	ck_assert_int_eq(post_status(&broker, o), 200);
	ck_assert_int_eq(post_status(&broker, a), 200);
	ck_assert_int_eq(post_status(&broker, e), 200);

	/* The call has left memory; a whole replay of it comes back from the
	 * database, event by event, and the broker's memory stays consistent. */
	struct harness_response r;
	for (int round = 0; round < 3; round++) {
		ck_assert_int_eq(post(&broker, o, &r), 200);
		ck_assert_str_eq(harness_response_header(&r, "Idempotent-Replay"), "true");
		ck_assert_ptr_nonnull(strstr(r.body, "\"state\":\"queued\""));
		harness_response_free(&r);
		ck_assert_int_eq(post(&broker, a, &r), 200);
		ck_assert_str_eq(harness_response_header(&r, "Idempotent-Replay"), "true");
		harness_response_free(&r);
		ck_assert_int_eq(post(&broker, e, &r), 200);
		harness_response_free(&r);
	}
	/* A new event id for the finished call's offer is a conflict. */
	char *again = offer("f-9", "fin", "1");
	ck_assert_int_eq(post(&broker, again, &r), 409);
	ck_assert_ptr_nonnull(strstr(r.body, "call_exists"));
	harness_response_free(&r);

	/* None of this needed a reload of the broker's state. */
	ck_assert_int_eq(harness_http(broker.port, "GET", "/metrics", NULL, NULL, &r), 0);
	ck_assert_ptr_nonnull(strstr(r.body, "hotline_store_recoveries_total 1\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "hotline_calls_in_progress 0\n"));
	harness_response_free(&r);
	ck_assert_int_eq(count("SELECT count(*) FROM call_events WHERE call_id = 'fin'"), 3);
	free(o);
	free(a);
	free(e);
	free(again);
}
END_TEST

struct bad_case {
	const char *what;
	const char *body;
	int status;
	const char *code;
	const char *field;
};

START_TEST(test_bad_input_gets_a_precise_error_and_writes_nothing)
{
	char *live = offer("b-0", "live", "2");
	ck_assert_int_eq(post_status(&broker, live), 200);
	free(live);
	int64_t calls_before = count("SELECT count(*) FROM calls");
	int64_t events_before = count("SELECT count(*) FROM call_events");

	static const struct bad_case cases[] = {
		{"malformed JSON", "{\"event_id\": \"x\",", 400, "malformed_json", NULL},
		{"not an object", "[1,2,3]", 400, "not_an_object", NULL},
		{"missing field",
		 "{\"event_id\":\"b1\",\"type\":\"call.answered\",\"call_id\":\"live\",\"centre\":"
		 "\"nanjing\",\"time\":\"" T1 "\"}",
		 400, "missing_field", "agent"},
		{"wrong type",
		 "{\"event_id\":\"b2\",\"type\":\"call.answered\",\"call_id\":\"live\",\"centre\":"
		 "\"nanjing\",\"time\":\"" T1 "\",\"agent\":7}",
		 400, "invalid_field", "agent"},
		{"bad time",
		 "{\"event_id\":\"b3\",\"type\":\"call.answered\",\"call_id\":\"live\",\"centre\":"
		 "\"nanjing\",\"time\":\"2019-03-04 09:15\",\"agent\":\"a\"}",
		 400, "invalid_field", "time"},
		{"unknown field",
		 "{\"event_id\":\"b4\",\"type\":\"call.answered\",\"call_id\":\"live\",\"centre\":"
		 "\"nanjing\",\"time\":\"" T1 "\",\"agent\":\"a\",\"agnet\":\"a\"}",
		 400, "unknown_field", "agnet"},
		{"unknown type",
		 "{\"event_id\":\"b5\",\"type\":\"call.exploded\",\"call_id\":\"live\",\"centre\":"
		 "\"nanjing\",\"time\":\"" T1 "\"}",
		 422, "unknown_event_type", "type"},
		{"unknown centre",
		 "{\"event_id\":\"b6\",\"type\":\"call.answered\",\"call_id\":\"live\",\"centre\":"
		 "\"atlantis\",\"time\":\"" T1 "\",\"agent\":\"a\"}",
		 422, "unknown_centre", "centre"},
		{"unknown call",
		 "{\"event_id\":\"b7\",\"type\":\"call.answered\",\"call_id\":\"ghost\",\"centre\":"
		 "\"nanjing\",\"time\":\"" T1 "\",\"agent\":\"a\"}",
		 404, "unknown_call", "call_id"},
		{"illegal in state",
		 "{\"event_id\":\"b8\",\"type\":\"call.ended\",\"call_id\":\"live\",\"centre\":"
		 "\"nanjing\",\"time\":\"" T1 "\"}",
		 409, "illegal_transition", "type"},
		{"time before the offer",
		 "{\"event_id\":\"b9\",\"type\":\"call.answered\",\"call_id\":\"live\",\"centre\":"
		 "\"nanjing\",\"time\":\"2019-03-04T09:15:01+08:00\",\"agent\":\"a\"}",
		 422, "time_before_offer", "time"},
		{"second offer of a call",
		 "{\"event_id\":\"b10\",\"type\":\"call.offered\",\"call_id\":\"live\",\"centre\":"
		 "\"nanjing\",\"time\":\"" T1 "\",\"caller\":\"1\",\"dialled\":\"12320\",\"ivr_path\":\"\"}",
		 409, "call_exists", "call_id"},
		{"bad caller",
		 "{\"event_id\":\"b11\",\"type\":\"call.offered\",\"call_id\":\"n\",\"centre\":"
		 "\"nanjing\",\"time\":\"" T1 "\",\"caller\":\"call me\",\"dialled\":\"12320\",\"ivr_path\":\"\"}",
		 400, "invalid_field", "caller"},
		{"transfer with both targets",
		 "{\"event_id\":\"b12\",\"type\":\"call.transferred\",\"call_id\":\"live\",\"centre\":"
		 "\"nanjing\",\"time\":\"" T1 "\",\"to_queue\":\"q\",\"to_agent\":\"a\"}",
		 400, "invalid_field", "to_queue"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct harness_response r;
		int status = post(&broker, cases[i].body, &r);
		ck_assert_msg(status == cases[i].status, "%s: status %d, want %d: %s", cases[i].what,
			      status, cases[i].status, r.body);
		char want[64];
		snprintf(want, sizeof want, "\"code\":\"%s\"", cases[i].code);
		ck_assert_msg(strstr(r.body, want) != NULL, "%s: body %s lacks %s", cases[i].what,
			      r.body, want);
		if (cases[i].field) {
			snprintf(want, sizeof want, "\"field\":\"%s\"", cases[i].field);
			ck_assert_msg(strstr(r.body, want) != NULL, "%s: body %s lacks %s",
				      cases[i].what, r.body, want);
		}
		ck_assert_str_eq(harness_response_header(&r, "Content-Type"), "application/json");
		harness_response_free(&r);
	}

	/* Transport-level refusals. */
	struct harness_response r;
	const char *body = "{\"event_id\":\"t1\",\"type\":\"call.ended\",\"call_id\":\"live\","
			   "\"centre\":\"nanjing\",\"time\":\"" T1 "\"}";
	struct harness_request unsigned_req = {.method = "POST", .path = "/v1/calls/events", .body = body};
	ck_assert_int_eq(harness_http_request(broker.port, &unsigned_req, &r), 0);
	ck_assert_int_eq(r.status, 401);
	harness_response_free(&r);

	struct harness_request wrong_secret = {.method = "POST", .path = "/v1/calls/events",
					       .body = body, .sign_secret = "not-the-secret-at-all"};
	ck_assert_int_eq(harness_http_request(broker.port, &wrong_secret, &r), 0);
	ck_assert_int_eq(r.status, 401);
	ck_assert_ptr_nonnull(strstr(r.body, "does not match"));
	harness_response_free(&r);

	struct harness_request stale = {.method = "POST", .path = "/v1/calls/events", .body = body,
					.sign_secret = broker.gateway_secret,
					.sign_timestamp = (int64_t)time(NULL) - 301};
	ck_assert_int_eq(harness_http_request(broker.port, &stale, &r), 0);
	ck_assert_int_eq(r.status, 401);
	ck_assert_ptr_nonnull(strstr(r.body, "clock skew"));
	harness_response_free(&r);

	struct harness_request text = {.method = "POST", .path = "/v1/calls/events", .body = body,
				       .content_type = "text/plain",
				       .sign_secret = broker.gateway_secret};
	ck_assert_int_eq(harness_http_request(broker.port, &text, &r), 0);
	ck_assert_int_eq(r.status, 415);
	harness_response_free(&r);

	size_t big_len = 70000; /* over the default 65536 */
	char *big = malloc(big_len + 1);
	memset(big, ' ', big_len);
	big[0] = '{';
	big[big_len - 1] = '}';
	big[big_len] = '\0';
	struct harness_request oversize = {.method = "POST", .path = "/v1/calls/events",
					   .body = big, .sign_secret = broker.gateway_secret};
	ck_assert_int_eq(harness_http_request(broker.port, &oversize, &r), 0);
	ck_assert_int_eq(r.status, 413);
	ck_assert_ptr_nonnull(strstr(r.body, "body_too_large"));
	harness_response_free(&r);
	free(big);

	ck_assert_int_eq(harness_http(broker.port, "GET", "/v1/calls/events", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 405);
	harness_response_free(&r);
	ck_assert_int_eq(harness_http(broker.port, "GET", "/nowhere", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 404);
	harness_response_free(&r);
	const char garbage[] = "HELLO THERE\r\n\r\n";
	harness_http_raw(broker.port, garbage, sizeof garbage - 1, &r);
	harness_response_free(&r);

	/* Nothing was written, and the broker still serves. */
	ck_assert_int_eq(count("SELECT count(*) FROM calls"), calls_before);
	ck_assert_int_eq(count("SELECT count(*) FROM call_events"), events_before);
	char *a = simple("b-ok", "call.answered", "live", T1, ",\"agent\":\"a\"");
	ck_assert_int_eq(post_status(&broker, a), 200);
	free(a);
}
END_TEST

START_TEST(test_health_and_metrics_report_the_truth)
{
	struct harness_response r;
	ck_assert_int_eq(harness_http(broker.port, "GET", "/healthz", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"postgres\":\"up\""));
	ck_assert_ptr_nonnull(strstr(r.body, "\"redis\":\"up\""));
	harness_response_free(&r);

	char *o = offer("m-1", "m", "1");
	ck_assert_int_eq(post_status(&broker, o), 200);
	ck_assert_int_eq(post_status(&broker, o), 200);
	ck_assert_int_eq(post_status(&broker, "nonsense"), 400);
	free(o);
	ck_assert_int_eq(harness_http(broker.port, "GET", "/metrics", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "hotline_call_events_total{type=\"call.offered\",result=\"accepted\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "hotline_call_events_total{type=\"call.offered\",result=\"replayed\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "hotline_call_events_total{type=\"undecodable\",result=\"rejected\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "hotline_http_requests_total{route=\"/v1/calls/events\",status=\"400\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "hotline_commit_batch_events_count"));
	ck_assert_ptr_nonnull(strstr(r.body, "hotline_postgres_up 1\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "hotline_calls_in_progress 1\n"));
	harness_response_free(&r);
}
END_TEST

START_TEST(test_the_redis_mirror_shows_calls_in_progress)
{
	char *o = offer("r-1", "mirrored", "5");
	ck_assert_int_eq(post_status(&broker, o), 200);
	free(o);
	char port[16];
	snprintf(port, sizeof port, "%d", harness_shared_redis_port());
	const char *argv[] = {"redis-cli", "-p", port, "ZSCORE", "hotline:nanjing:waiting", "mirrored", NULL};
	char *out = NULL;
	int code = -1;
	/* The mirror is written after the commit, asynchronously. */
	for (int i = 0; i < 50; i++) {
		free(out);
		out = NULL;
		ck_assert_int_eq(harness_run(argv, &out, &code), 0);
		if (out && strlen(out) > 1)
			break;
		usleep(100000);
	}
	ck_assert_int_eq(code, 0);
	/* crisis (ivr 5) has priority 0: the score is the offer time in seconds */
	ck_assert_str_eq(out, "1551662102\n");
	free(out);
	const char *hget[] = {"redis-cli", "-p", port, "HGET", "hotline:nanjing:calls", "mirrored", NULL};
	ck_assert_int_eq(harness_run(hget, &out, &code), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"caller\":\"138****5678\""));
	ck_assert_ptr_null(strstr(out, "13812345678"));
	free(out);
}
END_TEST

START_TEST(test_reload_reads_the_centres_again)
{
	char *o = NULL;
	/* wuxi is not a centre yet */
	ck_assert_int_gt(asprintf(&o, "{\"event_id\":\"z-1\",\"type\":\"call.offered\",\"call_id\":\"z\","
				      "\"centre\":\"wuxi\",\"time\":\"" T0 "\",\"caller\":\"1\","
				      "\"dialled\":\"12320\",\"ivr_path\":\"\"}"),
			 0);
	ck_assert_int_eq(post_status(&broker, o), 422);
	ck_assert_int_eq(harness_pg_exec(db, "INSERT INTO centres (code, name) VALUES ('wuxi', '无锡')"), 0);
	ck_assert_int_eq(harness_broker_signal(&broker, SIGHUP), 0);
	int status = 0;
	for (int i = 0; i < 50 && status != 200; i++) {
		usleep(100000);
		status = post_status(&broker, o);
	}
	ck_assert_int_eq(status, 200);
	free(o);

	/* A centre removed (one that never had a call) is refused after the
	 * next reload. */
	char *s1 = NULL;
	ck_assert_int_gt(asprintf(&s1, "{\"event_id\":\"z-2\",\"type\":\"call.offered\","
				       "\"call_id\":\"z2\",\"centre\":\"suzhou\",\"time\":\"" T0 "\","
				       "\"caller\":\"1\",\"dialled\":\"12320\",\"ivr_path\":\"\"}"),
			 0);
	ck_assert_int_eq(harness_pg_exec(db, "DELETE FROM centres WHERE code = 'suzhou'"), 0);
	ck_assert_int_eq(harness_broker_signal(&broker, SIGHUP), 0);
	status = 0;
	for (int i = 0; i < 50 && status != 422; i++) {
		usleep(100000);
		status = post_status(&broker, s1);
		ck_assert_msg(status == 200 || status == 422, "status %d", status);
		if (status == 200) {
			/* Accepted before the reload landed: use a new call next time. */
			free(s1);
			s1 = NULL;
			ck_assert_int_gt(asprintf(&s1, "{\"event_id\":\"z-3-%d\",\"type\":\"call.offered\","
						       "\"call_id\":\"z3-%d\",\"centre\":\"suzhou\",\"time\":\""
						       T0 "\",\"caller\":\"1\",\"dialled\":\"12320\","
						       "\"ivr_path\":\"\"}", i, i),
					 0);
		}
	}
	ck_assert_int_eq(status, 422);
	free(s1);
}
END_TEST

START_TEST(test_kill_9_loses_nothing_and_the_calls_carry_on)
{
	char *o1 = offer("k-1", "k1", "1");
	char *a1 = simple("k-2", "call.answered", "k1", T1, ",\"agent\":\"a9\"");
	char *o2 = offer("k-3", "k2", "9");
	ck_assert_int_eq(post_status(&broker, o1), 200);
	ck_assert_int_eq(post_status(&broker, a1), 200);
	ck_assert_int_eq(post_status(&broker, o2), 200);

	ck_assert_int_eq(harness_broker_kill(&broker, SIGKILL), 128 + SIGKILL);
	ck_assert_msg(harness_broker_restart(&broker) == 0, "%s", harness_error());
	wait_ready(&broker);

	/* The retries of acknowledged events return their stored answers... */
	struct harness_response r;
	ck_assert_int_eq(post(&broker, a1, &r), 200);
	ck_assert_str_eq(harness_response_header(&r, "Idempotent-Replay"), "true");
	harness_response_free(&r);
	/* ...the states were restored: k1 is talking, k2 waiting... */
	char *bad = simple("k-4", "call.answered", "k1", T2, ",\"agent\":\"a1\"");
	ck_assert_int_eq(post_status(&broker, bad), 409);
	char *e1 = simple("k-5", "call.ended", "k1", T2, NULL);
	char *c2 = simple("k-6", "call.ivr_completed", "k2", T1, NULL);
	char *e2 = simple("k-7", "call.ended", "k2", T2, NULL);
	ck_assert_int_eq(post_status(&broker, e1), 200);
	ck_assert_int_eq(post_status(&broker, c2), 200);
	ck_assert_int_eq(post_status(&broker, e2), 200);
	/* ...and nothing is counted twice. */
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE call_id IN ('k1','k2')"), 2);
	ck_assert_int_eq(count("SELECT count(*) FROM call_events WHERE call_id IN ('k1','k2')"), 6);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE call_id = 'k1' AND outcome = 'handled'"
			       " AND agent = 'a9'"),
			 1);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE call_id = 'k2' AND outcome = 'self_service'"), 1);
	free(o1);
	free(a1);
	free(o2);
	free(bad);
	free(e1);
	free(c2);
	free(e2);
}
END_TEST

/* Its own PostgreSQL, so that stopping it disturbs no other test. */
START_TEST(test_postgres_down_means_503_never_2xx_and_recovery_without_restart)
{
	struct harness_server *pg = harness_pg_start(NULL);
	ck_assert_msg(pg != NULL, "%s", harness_error());
	char *url = harness_db_create(harness_server_conninfo(pg));
	ck_assert_ptr_nonnull(url);
	ck_assert_int_eq(harness_pg_exec(url, "INSERT INTO centres (code, name) VALUES ('nanjing', '南京')"), 0);
	static const char *const fast_retry[] = {"database.reconnect_max_ms", "200", NULL};
	struct harness_broker b;
	struct harness_broker_options opt = {.database_url = url, .settings = fast_retry};
	ck_assert_msg(harness_broker_start(&b, &opt) == 0, "%s", harness_error());

	char *o = offer("p-1", "p1", "2");
	char *a = simple("p-2", "call.answered", "p1", T1, ",\"agent\":\"a3\"");
	char *e = simple("p-3", "call.ended", "p1", T2, NULL);
	int status = 0;
	for (int i = 0; i < 50 && status != 200; i++) {
		struct harness_response r;
		status = post(&b, o, &r);
		harness_response_free(&r);
		if (status != 200)
			usleep(100000);
	}
	ck_assert_int_eq(status, 200);

	ck_assert_int_eq(harness_pg_stop(pg), 0);
	struct harness_response r;
	ck_assert_int_eq(post(&b, a, &r), 503);
	ck_assert_ptr_nonnull(harness_response_header(&r, "Retry-After"));
	ck_assert_ptr_nonnull(strstr(r.body, "store_unavailable"));
	harness_response_free(&r);
	ck_assert_int_eq(harness_http(b.port, "GET", "/healthz", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 503);
	ck_assert_ptr_nonnull(strstr(r.body, "\"status\":\"degraded\""));
	harness_response_free(&r);
	/* Many requests while it is down: none is acknowledged. */
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(post_status(&b, a), 503);

	ck_assert_int_eq(harness_pg_restart(pg), 0);
	status = 0;
	for (int i = 0; i < 100 && status != 200; i++) {
		status = post_status(&b, a);
		if (status != 200) {
			ck_assert_int_eq(status, 503);
			usleep(100000);
		}
	}
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(post_status(&b, e), 200);
	ck_assert_int_eq(harness_pg_query_int(url, "SELECT count(*) FROM call_events WHERE call_id = 'p1'"), 3);
	ck_assert_int_eq(harness_pg_query_int(url, "SELECT count(*) FROM calls WHERE outcome = 'handled'"), 1);
	harness_broker_free(&b);
	free(o);
	free(a);
	free(e);
	free(url);
	harness_server_free(pg);
}
END_TEST

START_TEST(test_redis_down_does_not_stop_the_broker)
{
	struct harness_broker b;
	char *url = harness_db_create(NULL);
	ck_assert_ptr_nonnull(url);
	ck_assert_int_eq(harness_pg_exec(url, "INSERT INTO centres (code, name) VALUES ('nanjing', '南京')"), 0);
	struct harness_broker_options opt = {.redis_port = -1, .database_url = url};
	ck_assert_msg(harness_broker_start(&b, &opt) == 0, "%s", harness_error());
	char *o = offer("rd-1", "rd", "1");
	int status = 0;
	for (int i = 0; i < 50 && status != 200; i++) {
		usleep(100000);
		status = post_status(&b, o);
	}
	ck_assert_int_eq(status, 200);
	struct harness_response r;
	ck_assert_int_eq(harness_http(b.port, "GET", "/healthz", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"redis\":\"down\""));
	harness_response_free(&r);
	free(o);
	harness_broker_free(&b);
	harness_db_drop(url);
	free(url);
}
END_TEST

/* Writes a signed POST of body, without waiting for the answer. */
static void send_signed(struct harness_conn *c, const char *secret, const char *body)
{
	char sig[AUTH_SIGNATURE_LEN];
	char *req = NULL;
	long long ts = (long long)time(NULL);

	auth_sign(secret, ts, body, strlen(body), sig);
	int n = asprintf(&req,
			 "POST /v1/calls/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
			 AUTH_HEADER_TIMESTAMP ": %lld\r\n" AUTH_HEADER_SIGNATURE ": %s\r\n\r\n%s",
			 strlen(body), ts, sig, body);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(harness_conn_send_raw(c, req, (size_t)n), 0);
	free(req);
}

/* With several store connections, a call's next event must not commit on
 * one while its offer is still being committed on another. The offer is
 * held up by a lock on calls (which the answer's batch does not touch), and
 * the answer is sent meanwhile: committed in order, the answer comes after. */
START_TEST(test_events_of_one_call_commit_in_order_across_store_connections)
{
	static const char *const four[] = {"database.connections", "4", NULL};
	char *url = harness_db_create(NULL);
	ck_assert_ptr_nonnull(url);
	ck_assert_int_eq(harness_pg_exec(url, "INSERT INTO centres (code, name) VALUES ('nanjing', '南京')"), 0);
	struct harness_broker b;
	struct harness_broker_options opt = {.database_url = url, .settings = four};
	ck_assert_msg(harness_broker_start(&b, &opt) == 0, "%s", harness_error());
	wait_ready(&b);

	PGconn *locker = PQconnectdb(url);
	ck_assert_int_eq(PQstatus(locker), CONNECTION_OK);
	PGresult *lr = PQexec(locker, "BEGIN; LOCK TABLE calls IN SHARE ROW EXCLUSIVE MODE");
	ck_assert_int_eq(PQresultStatus(lr), PGRES_COMMAND_OK);
	PQclear(lr);

	struct harness_conn *line_a = harness_conn_open(b.port);
	struct harness_conn *line_b = harness_conn_open(b.port);
	ck_assert_ptr_nonnull(line_a);
	ck_assert_ptr_nonnull(line_b);
	char *o = offer("ord-o", "ord", "1");
	char *a = simple("ord-a", "call.answered", "ord", T1, ",\"agent\":\"a1\"");
	send_signed(line_a, b.gateway_secret, o);
	usleep(300000); /* the offer is now in a batch, waiting for the lock */
	send_signed(line_b, b.gateway_secret, a);
	usleep(300000); /* an idle store connection could take the answer now */
	/* Neither is acknowledged while the offer cannot commit. */
	ck_assert(!harness_conn_wait_closed(line_b, 10));
	lr = PQexec(locker, "COMMIT");
	PQclear(lr);
	PQfinish(locker);

	struct harness_response r;
	ck_assert_int_eq(harness_conn_read_response(line_a, &r), 0);
	ck_assert_msg(r.status == 200, "offer: %d %s", r.status, r.body);
	harness_response_free(&r);
	ck_assert_int_eq(harness_conn_read_response(line_b, &r), 0);
	ck_assert_msg(r.status == 200, "answer: %d %s", r.status, r.body);
	harness_response_free(&r);
	harness_conn_close(line_a);
	harness_conn_close(line_b);

	ck_assert_int_eq(harness_pg_query_int(
				 url, "SELECT count(*) FROM call_events a JOIN call_events o"
				      " ON o.call_id = a.call_id AND o.type = 'call.offered'"
				      " WHERE a.type = 'call.answered' AND a.seq > o.seq"),
			 1);
	/* A restart replays them into the right state: the call is talking. */
	ck_assert_int_eq(harness_broker_kill(&b, SIGKILL), 128 + SIGKILL);
	ck_assert_msg(harness_broker_restart(&b) == 0, "%s", harness_error());
	int status = 0;
	char *e = simple("ord-e", "call.ended", "ord", T2, NULL);
	for (int i = 0; i < 100 && status != 200; i++) {
		status = post_status(&b, e);
		if (status != 200)
			usleep(50000);
	}
	ck_assert_int_eq(status, 200);
	free(o);
	free(a);
	free(e);
	harness_broker_free(&b);
	harness_db_drop(url);
	free(url);
}
END_TEST

/* Holds a transaction open on a connection of its own: sql takes the locks. */
static PGconn *hold_locks(const char *url, const char *sql)
{
	PGconn *c = PQconnectdb(url);
	ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, "BEGIN");
	ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
		      "%s", PQerrorMessage(c));
	PQclear(r);
	return c;
}

static void release_locks(PGconn *c)
{
	PQclear(PQexec(c, "COMMIT"));
	PQfinish(c);
}


/* An event id the database refused must never be replayed as accepted:
 * while memory is being rebuilt (here: after the batch in flight on the other
 * store connection is answered), a retry waits with 503. */
START_TEST(test_a_refused_event_is_not_replayed_while_memory_is_rebuilt)
{
	static const char *const two[] = {"database.connections", "2", NULL};
	char *url = harness_db_create(NULL);
	ck_assert_ptr_nonnull(url);
	ck_assert_int_eq(harness_pg_exec(url, "INSERT INTO centres (code, name) VALUES ('nanjing', '南京')"), 0);
	struct harness_broker b;
	struct harness_broker_options opt = {.database_url = url, .settings = two};
	ck_assert_msg(harness_broker_start(&b, &opt) == 0, "%s", harness_error());
	wait_ready(&b);

	/* Call A ends and leaves memory; its event ids stay in the database. */
	char *ao = offer("ra-1", "ra", "1");
	char *aa = simple("ra-2", "call.answered", "ra", T1, ",\"agent\":\"a1\"");
	char *ae = simple("ra-3", "call.ended", "ra", T2, NULL);
	char *bo = offer("rb-1", "rb", "1");
	char *co = offer("rc-1", "rc", "1");
	char *ca = simple("rc-2", "call.answered", "rc", T1, ",\"agent\":\"a2\"");
	char *ce = simple("rc-3", "call.ended", "rc", T2, NULL);
	/* B reuses A's event id ra-2: a conflict only the database can see. */
	char *bad = simple("ra-2", "call.answered", "rb", T1, ",\"agent\":\"a3\"");
	const char *all[] = {ao, aa, ae, bo, co, ca};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		ck_assert_int_eq(post_status(&b, all[i]), 200);

	/* Hold C's end on one store connection. */
	PGconn *lock = hold_locks(url, "SELECT 1 FROM calls WHERE call_id = 'rc' FOR UPDATE");
	struct harness_conn *line = harness_conn_open(b.port);
	ck_assert_ptr_nonnull(line);
	send_signed(line, b.gateway_secret, ce);
	usleep(300000);

	struct harness_response r;
	ck_assert_int_eq(post(&b, bad, &r), 409);
	ck_assert_ptr_nonnull(strstr(r.body, "event_id_conflict"));
	harness_response_free(&r);
	/* The same request again: never a 200 replay of what was refused. */
	int again = post_status(&b, bad);
	ck_assert_msg(again == 503 || again == 409, "a refused event was answered %d", again);

	release_locks(lock);
	ck_assert_int_eq(harness_conn_read_response(line, &r), 0);
	ck_assert_int_eq(r.status, 200);
	harness_response_free(&r);
	harness_conn_close(line);
	/* Once memory is rebuilt, B carries on with a fresh id. */
	char *good = simple("rb-2", "call.answered", "rb", T1, ",\"agent\":\"a3\"");
	int status = 0;
	for (int i = 0; i < 100 && status != 200; i++) {
		status = post_status(&b, good);
		if (status != 200)
			usleep(50000);
	}
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(harness_pg_query_int(url, "SELECT count(*) FROM call_events WHERE call_id = 'rb'"), 2);
	char *all2[] = {ao, aa, ae, bo, co, ca, ce, bad, good};
	for (size_t i = 0; i < sizeof all2 / sizeof all2[0]; i++)
		free(all2[i]);
	harness_broker_free(&b);
	harness_db_drop(url);
	free(url);
}
END_TEST

/* When the database refuses one event of a call, the call's later events in
 * the same batch (checked against memory that counted the refused one) are
 * refused too. */
START_TEST(test_events_after_a_refused_one_in_the_same_batch_are_refused)
{
	char *url = harness_db_create(NULL);
	ck_assert_ptr_nonnull(url);
	ck_assert_int_eq(harness_pg_exec(url, "INSERT INTO centres (code, name) VALUES ('nanjing', '南京')"), 0);
	struct harness_broker b;
	struct harness_broker_options opt = {.database_url = url};
	ck_assert_msg(harness_broker_start(&b, &opt) == 0, "%s", harness_error());
	wait_ready(&b);

	char *ao = offer("va-1", "va", "1");
	char *aa = simple("va-2", "call.answered", "va", T1, ",\"agent\":\"a1\"");
	char *ae = simple("va-3", "call.ended", "va", T2, NULL);
	char *eo = offer("ve-1", "ve", "1");
	char *ho = offer("vh-1", "vh", "1");
	char *ha = simple("vh-2", "call.answered", "vh", T1, ",\"agent\":\"a2\"");
	char *he = simple("vh-3", "call.ended", "vh", T2, NULL);
	const char *all[] = {ao, aa, ae, eo, ho, ha};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		ck_assert_int_eq(post_status(&b, all[i]), 200);

	/* Block the store's only connection on H's end; E's answer (reusing
	 * A's id va-2) and E's end queue up behind it and go as one batch. */
	PGconn *lock = hold_locks(url, "SELECT 1 FROM calls WHERE call_id = 'vh' FOR UPDATE");
	struct harness_conn *l1 = harness_conn_open(b.port), *l2 = harness_conn_open(b.port),
			    *l3 = harness_conn_open(b.port);
	char *bad = simple("va-2", "call.answered", "ve", T1, ",\"agent\":\"a9\"");
	char *ee = simple("ve-9", "call.ended", "ve", T2, NULL);
	send_signed(l1, b.gateway_secret, he);
	usleep(200000);
	send_signed(l2, b.gateway_secret, bad);
	usleep(200000);
	send_signed(l3, b.gateway_secret, ee);
	usleep(200000);
	release_locks(lock);

	struct harness_response r;
	ck_assert_int_eq(harness_conn_read_response(l1, &r), 0);
	ck_assert_int_eq(r.status, 200);
	harness_response_free(&r);
	ck_assert_int_eq(harness_conn_read_response(l2, &r), 0);
	ck_assert_int_eq(r.status, 409);
	harness_response_free(&r);
	ck_assert_int_eq(harness_conn_read_response(l3, &r), 0);
	ck_assert_msg(r.status == 409, "the end of a call whose answer was refused got %d", r.status);
	harness_response_free(&r);
	harness_conn_close(l1);
	harness_conn_close(l2);
	harness_conn_close(l3);
	/* E is still waiting, with only its offer logged. */
	ck_assert_int_eq(harness_pg_query_int(url, "SELECT count(*) FROM calls WHERE call_id = 've'"
						   " AND outcome IS NULL"),
			 1);
	ck_assert_int_eq(harness_pg_query_int(url, "SELECT count(*) FROM call_events WHERE call_id = 've'"), 1);
	char *all2[] = {ao, aa, ae, eo, ho, ha, he, bad, ee};
	for (size_t i = 0; i < sizeof all2 / sizeof all2[0]; i++)
		free(all2[i]);
	harness_broker_free(&b);
	harness_db_drop(url);
	free(url);
}
END_TEST

static Suite *broker_suite(void)
{
	Suite *s = suite_create("broker");
	TCase *tc = tcase_create("broker");
	tcase_add_checked_fixture(tc, broker_setup, broker_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_a_call_goes_through_its_whole_life_and_is_recorded);
	tcase_add_test(tc, test_a_call_that_ends_in_the_ivr_is_self_service);
	tcase_add_test(tc, test_the_kept_statistics_follow_the_calls_and_are_folded);
	tcase_add_test(tc, test_a_repeated_event_returns_the_stored_answer);
	tcase_add_test(tc, test_a_replay_of_a_finished_call_is_answered_without_a_reload);
	tcase_add_test(tc, test_bad_input_gets_a_precise_error_and_writes_nothing);
	tcase_add_test(tc, test_health_and_metrics_report_the_truth);
	tcase_add_test(tc, test_the_redis_mirror_shows_calls_in_progress);
	tcase_add_test(tc, test_reload_reads_the_centres_again);
	tcase_add_test(tc, test_kill_9_loses_nothing_and_the_calls_carry_on);
	suite_add_tcase(s, tc);

	TCase *outage = tcase_create("outages");
	tcase_set_timeout(outage, 180);
	tcase_add_test(outage, test_postgres_down_means_503_never_2xx_and_recovery_without_restart);
	tcase_add_test(outage, test_redis_down_does_not_stop_the_broker);
	tcase_add_test(outage, test_events_of_one_call_commit_in_order_across_store_connections);
	tcase_add_test(outage, test_a_refused_event_is_not_replayed_while_memory_is_rebuilt);
	tcase_add_test(outage, test_events_after_a_refused_one_in_the_same_batch_are_refused);
	suite_add_tcase(s, outage);
	return s;
}

int main(void)
{
	/* Start the shared servers here, so forked tests share them. */
	if (harness_shared_pg() == NULL || harness_shared_redis_port() < 0) {
		fprintf(stderr, "cannot start the test servers: %s\n", harness_error());
		return 1;
	}
	SRunner *sr = srunner_create(broker_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
