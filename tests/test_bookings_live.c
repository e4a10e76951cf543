/* test_bookings_live.c: bookings against real PostgreSQL and hotlined:
 * hospitals loaded with hotline-admin, an agent booking during a call
 * (created, replayed, refused), the gateway booking for the IVR with its
 * signature, the agent client's reads, 503 without PostgreSQL, and batches
 * imported with hotline-admin bookings import: twice, with a bad line, with
 * a conflict. No number in clear anywhere. */
#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "harness.h"
#include "timeutil.h"

#define T0 "2019-03-04T09:15:02+08:00" /* the calls are offered */
#define T1 "2019-03-04T09:15:40+08:00" /* and answered */
#define T2 "2019-03-04T09:19:00+08:00" /* and end */
#define PASSWORD "a long test password"
#define CALLER "13812345678"
#define CALLER_MASKED "138****5678"

static struct harness_broker broker;
static char *db;
static char dir[HARNESS_PATH_MAX];

/* --- helpers ------------------------------------------------------------------- */

static int64_t count(const char *sql)
{
	return harness_pg_query_int(db, sql);
}

/* Runs hotline-admin with args (NULL-terminated, after --db); returns its
 * exit code, stdout and stderr in *out and *err (free them). */
static int admin(const char *input, char **out, char **err, ...)
{
	const char *argv[16] = {harness_program("HOTLINE_ADMIN_BIN"), "--db", db};
	size_t n = 3;
	va_list ap;
	va_start(ap, err);
	for (const char *a; n < 15 && (a = va_arg(ap, const char *)) != NULL;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	ck_assert_ptr_nonnull(argv[0]);
	char *o = NULL, *e = NULL;
	int code = -1;
	ck_assert_int_eq(harness_run_full(argv, NULL, input, &o, &e, &code), 0);
	if (out)
		*out = o;
	else
		free(o);
	if (err)
		*err = e;
	else
		free(e);
	return code;
}

static void add_agent(const char *id, const char *extension)
{
	char hash[crypto_pwhash_STRBYTES];
	ck_assert_int_eq(
		crypto_pwhash_str_alg(hash, PASSWORD, strlen(PASSWORD), crypto_pwhash_OPSLIMIT_MIN,
				      crypto_pwhash_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2ID13),
		0);
	char *sql = NULL;
	ck_assert_int_gt(
		asprintf(&sql,
			 "INSERT INTO agents (centre, agent_id, name, extension, password_hash)"
			 " VALUES ('nanjing', '%s', '坐席 %s', '%s', '%s');"
			 " INSERT INTO agent_skills VALUES ('nanjing', '%s', 'booking', 5)",
			 id, id, extension, hash, id),
		0);
	ck_assert_int_eq(harness_pg_exec(db, sql), 0);
	free(sql);
}

/* An HTTP request with an agent's token (NULL: none); the answer's JSON, its
 * status and whether it was a replay. */
static json_t *call_api(const char *method, const char *path, const char *token, const char *body,
			int *status, bool *replay)
{
	char auth[256];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
	const char *headers[] = {auth, NULL};
	struct harness_response r;
	ck_assert_msg(harness_http(broker.port, method, path, token ? headers : NULL, body, &r) ==
			      0,
		      "%s %s: no answer", method, path);
	*status = r.status;
	if (replay)
		*replay = harness_response_header(&r, "Idempotent-Replay") != NULL;
	json_t *j = json_loads(r.body, 0, NULL);
	if (j == NULL)
		j = json_pack("{s:s}", "raw", r.body);
	harness_response_free(&r);
	return j;
}

/* POST /v1/bookings signed with the gateway's secret. */
static json_t *gateway_book(const char *secret, const char *body, int *status, bool *replay)
{
	struct harness_response r;
	ck_assert(harness_http_signed(broker.port, secret, "POST", "/v1/bookings", body, &r) == 0);
	*status = r.status;
	if (replay)
		*replay = harness_response_header(&r, "Idempotent-Replay") != NULL;
	json_t *j = json_loads(r.body, 0, NULL);
	if (j == NULL)
		j = json_pack("{s:s}", "raw", r.body);
	harness_response_free(&r);
	return j;
}

static const char *jstr(json_t *j, const char *key)
{
	const char *v = json_string_value(json_object_get(j, key));
	return v ? v : "";
}

static const char *error_field(json_t *j)
{
	return jstr(json_object_get(j, "error"), "field");
}

static const char *error_code(json_t *j)
{
	return jstr(json_object_get(j, "error"), "code");
}

static char *login(const char *id)
{
	char body[256];
	snprintf(body, sizeof body,
		 "{\"centre\":\"nanjing\",\"agent_id\":\"%s\",\"password\":\"%s\"}", id, PASSWORD);
	int status;
	json_t *j = call_api("POST", "/v1/agents/login", NULL, body, &status, NULL);
	ck_assert_msg(status == 200, "login of %s: %d", id, status);
	char *token = strdup(jstr(j, "token"));
	json_decref(j);
	return token;
}

static void event(const char *call, const char *type, const char *time, const char *extra)
{
	char body[512];
	snprintf(body, sizeof body,
		 "{\"event_id\":\"%s-%s\",\"type\":\"call.%s\",\"call_id\":\"%s\","
		 "\"centre\":\"nanjing\",\"time\":\"%s\"%s}",
		 call, type, type, call, time, extra ? extra : "");
	struct harness_response r;
	ck_assert(harness_http_signed(broker.port, broker.gateway_secret, "POST",
				      "/v1/calls/events", body, &r) == 0);
	ck_assert_msg(r.status == 200, "event %s refused (%d): %s", body, r.status, r.body);
	harness_response_free(&r);
}

static void offered(const char *call, const char *ivr)
{
	char extra[128];
	snprintf(extra, sizeof extra,
		 ",\"caller\":\"" CALLER "\",\"dialled\":\"12320\",\"ivr_path\":\"%s\"", ivr);
	event(call, "offered", T0, extra);
}

static void wait_state(const char *token, const char *want)
{
	char state[32] = "";
	for (int i = 0; i < 100; i++) {
		int status;
		json_t *j = call_api("GET", "/v1/agents/me", token, NULL, &status, NULL);
		snprintf(state, sizeof state, "%s", jstr(json_object_get(j, "state"), "state"));
		json_decref(j);
		if (strcmp(state, want) == 0)
			return;
		usleep(20000);
	}
	ck_assert_msg(0, "agent state %s, wanted %s", state, want);
}

/* The value of a Prometheus sample line starting with prefix, or -1. */
static long long metric(const char *text, const char *prefix)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return strtoll(p + strlen(prefix), NULL, 10);
	return -1;
}

/* Writes text into a file of the test's folder; returns its path (static). */
static const char *write_file(const char *name, const char *text, size_t len)
{
	static char path[HARNESS_PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	return path;
}

/* --- fixture -------------------------------------------------------------------- */

static void setup(void)
{
	ck_assert_int_eq(sodium_init() >= 0, 1);
	db = harness_db_create(NULL);
	ck_assert_msg(db != NULL, "%s", harness_error());
	ck_assert_int_eq(
		harness_pg_exec(db, "INSERT INTO centres (code, name) VALUES ('nanjing', '南京')"),
		0);
	ck_assert_int_eq(harness_tmpdir("bookings", dir), 0);
	char path[HARNESS_PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/conf/hospitals.yaml", harness_source_dir());
	char *out = NULL;
	ck_assert_int_eq(admin(NULL, &out, NULL, "hospitals", "load", path, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "8 hospital(s)"));
	free(out);
	struct harness_broker_options opt = {.database_url = db};
	ck_assert_msg(harness_broker_start(&broker, &opt) == 0, "%s", harness_error());
	ck_assert_msg(harness_broker_wait_healthy(&broker) == 0, "%s", harness_error());
}

static void teardown(void)
{
	harness_broker_free(&broker);
	harness_db_drop(db);
	free(db);
}

/* --- the API ---------------------------------------------------------------------- */

static const char booking_body[] =
	"{\"booking_no\":\"A1-20190304-0001\",\"hospital\":\"h001\",\"department\":\"internal\","
	"\"visit_date\":\"2019-03-06\",\"channel\":\"phone\",\"call_id\":\"c1\","
	"\"booked_at\":\"2019-03-04T09:17:30+08:00\"}";

START_TEST (test_an_agent_books_during_the_call_and_a_retry_is_a_replay) {
	add_agent("a1", "7001");
	char *token = login("a1");
	int status;
	bool replay;
	json_decref(call_api("POST", "/v1/agents/state", token, "{\"state\":\"ready\"}", &status,
			     NULL));
	ck_assert_int_eq(status, 200);
	offered("c1", "1"); /* IVR 1: the booking queue, offered to a1 */
	wait_state(token, "offered");
	event("c1", "answered", T1, ",\"agent\":\"a1\"");
	wait_state(token, "on_call");

	json_t *j = call_api("POST", "/v1/bookings", token, booking_body, &status, &replay);
	ck_assert_msg(status == 201, "%d %s", status, json_dumps(j, 0));
	ck_assert(!replay);
	json_t *b = json_object_get(j, "booking");
	ck_assert_str_eq(jstr(b, "booking_no"), "A1-20190304-0001");
	ck_assert_str_eq(jstr(b, "source"), "agent");
	ck_assert_str_eq(jstr(b, "agent_id"), "a1");
	ck_assert_str_eq(jstr(b, "caller"), CALLER_MASKED);
	ck_assert_str_eq(jstr(b, "hospital_name"), "南京鼓楼医院");
	ck_assert_str_eq(jstr(b, "department_name"), "内科");
	ck_assert_str_eq(jstr(b, "booked_at"), "2019-03-04T09:17:30+08:00");
	json_decref(j);

	/* The same booking in other words: other key order, spaces, the same
	 * instant in UTC. */
	j = call_api(
		"POST", "/v1/bookings", token,
		"{ \"call_id\": \"c1\", \"channel\": \"phone\", \"visit_date\": \"2019-03-06\","
		" \"department\": \"internal\", \"hospital\": \"h001\","
		" \"booked_at\": \"2019-03-04T01:17:30Z\", \"booking_no\": \"A1-20190304-0001\" }",
		&status, &replay);
	ck_assert_int_eq(status, 200);
	ck_assert(replay);
	ck_assert_str_eq(jstr(json_object_get(j, "booking"), "department"), "internal");
	json_decref(j);

	/* The number again for another booking. */
	j = call_api("POST", "/v1/bookings", token,
		     "{\"booking_no\":\"A1-20190304-0001\",\"hospital\":\"h001\",\"department\":"
		     "\"cardiology\",\"visit_date\":\"2019-03-06\",\"channel\":\"phone\","
		     "\"call_id\":\"c1\",\"booked_at\":\"2019-03-04T09:17:30+08:00\"}",
		     &status, NULL);
	ck_assert_int_eq(status, 409);
	ck_assert_str_eq(error_code(j), "booking_no_conflict");
	json_decref(j);

	struct {
		const char *body;
		int status;
		const char *code, *field;
	} refused[] = {
		{"{\"booking_no\":\"N2\",\"hospital\":\"h001\",\"department\":\"dentistry\","
		 "\"visit_date\":\"2019-03-06\",\"channel\":\"phone\",\"call_id\":\"c1\"}",
		 422, "unknown_department", "department"},
		{"{\"booking_no\":\"N3\",\"hospital\":\"h999\",\"department\":\"internal\","
		 "\"visit_date\":\"2019-03-06\",\"channel\":\"phone\",\"call_id\":\"c1\"}",
		 422, "unknown_hospital", "hospital"},
		{"{\"booking_no\":\"N4\",\"hospital\":\"h001\",\"department\":\"internal\","
		 "\"visit_date\":\"2019-03-06\",\"channel\":\"phone\",\"call_id\":\"nope\"}",
		 422, "unknown_call", "call_id"},
		{"{\"booking_no\":\"N5\",\"hospital\":\"h001\",\"department\":\"internal\","
		 "\"visit_date\":\"2019-03-06\",\"channel\":\"phone\",\"call_id\":\"c1\","
		 "\"booked_at\":\"2019-03-04T08:00:00+08:00\"}",
		 422, "invalid_time", "booked_at"},
		{"{\"booking_no\":\"N6\",\"hospital\":\"h001\",\"department\":\"internal\","
		 "\"visit_date\":\"2019-02-29\",\"channel\":\"phone\",\"call_id\":\"c1\"}",
		 400, "invalid_field", "visit_date"},
		{"{\"booking_no\":\"N7\",\"hospital\":\"h001\",\"department\":\"internal\","
		 "\"visit_date\":\"2019-03-06\",\"channel\":\"clinic\",\"call_id\":\"c1\"}",
		 400, "invalid_field", "channel"},
		{"{\"booking_no\":\"N8\",\"hospital\":\"h001\",\"department\":\"internal\","
		 "\"visit_date\":\"2019-03-06\",\"channel\":\"phone\",\"call_id\":\"c1\","
		 "\"platform\":\"p001\"}",
		 400, "unknown_field", "platform"},
		{"{\"booking_no\":\"N 9\",\"hospital\":\"h001\",\"department\":\"internal\","
		 "\"visit_date\":\"2019-03-06\",\"channel\":\"phone\",\"call_id\":\"c1\"}",
		 400, "invalid_field", "booking_no"},
		{"{\"booking_no\":\"N10\",\"hospital\":\"h001\",\"department\":\"internal\","
		 "\"channel\":\"phone\",\"call_id\":\"c1\"}",
		 400, "missing_field", "visit_date"},
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		j = call_api("POST", "/v1/bookings", token, refused[i].body, &status, NULL);
		ck_assert_msg(status == refused[i].status, "case %zu: %d %s", i, status,
			      json_dumps(j, 0));
		ck_assert_str_eq(error_code(j), refused[i].code);
		ck_assert_str_eq(error_field(j), refused[i].field);
		json_decref(j);
	}
	/* An hour ahead of the broker's clock. */
	char ahead[TIMEUTIL_RFC3339_LEN], body[512];
	timeutil_format_utc(timeutil_now_usec() + INT64_C(3600000000), ahead);
	snprintf(body, sizeof body,
		 "{\"booking_no\":\"N11\",\"hospital\":\"h001\",\"department\":\"internal\","
		 "\"visit_date\":\"2019-03-06\",\"channel\":\"phone\",\"call_id\":\"c1\","
		 "\"booked_at\":\"%s\"}",
		 ahead);
	j = call_api("POST", "/v1/bookings", token, body, &status, NULL);
	ck_assert_int_eq(status, 422);
	ck_assert_str_eq(error_field(j), "booked_at");
	json_decref(j);
	/* A call of the centre that is not this agent's. */
	offered("c2", "2");
	j = call_api("POST", "/v1/bookings", token,
		     "{\"booking_no\":\"N12\",\"hospital\":\"h001\",\"department\":\"internal\","
		     "\"visit_date\":\"2019-03-06\",\"channel\":\"phone\",\"call_id\":\"c2\"}",
		     &status, NULL);
	ck_assert_int_eq(status, 422);
	ck_assert_str_eq(error_code(j), "not_your_call");
	json_decref(j);
	/* No token, a bad one. */
	json_decref(call_api("POST", "/v1/bookings", NULL, booking_body, &status, NULL));
	ck_assert_int_eq(status, 401);
	json_decref(call_api("POST", "/v1/bookings", "not-a-token", booking_body, &status, NULL));
	ck_assert_int_eq(status, 401);
	ck_assert_int_eq(count("SELECT count(*) FROM bookings"), 1);

	/* After the call, in wrap-up and after: still the agent's call (the
	 * calls row names them now), booked at the broker's clock. */
	event("c1", "ended", T2, NULL);
	wait_state(token, "wrap_up");
	j = call_api("POST", "/v1/bookings", token,
		     "{\"booking_no\":\"A1-20190304-0002\",\"hospital\":\"h002\",\"department\":"
		     "\"paediatrics\",\"visit_date\":\"2019-03-08\",\"channel\":\"phone\","
		     "\"call_id\":\"c1\"}",
		     &status, NULL);
	ck_assert_msg(status == 201, "%d %s", status, json_dumps(j, 0));
	json_decref(j);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE call_id = 'c1' AND agent = 'a1'"),
			 1);

	/* The agent client's reads. */
	j = call_api("GET", "/v1/bookings?call_id=c1", token, NULL, &status, NULL);
	ck_assert_int_eq(status, 200);
	json_t *list = json_object_get(j, "bookings");
	ck_assert_int_eq(json_array_size(list), 2);
	ck_assert_str_eq(jstr(json_array_get(list, 0), "booking_no"), "A1-20190304-0001");
	ck_assert_str_eq(jstr(json_array_get(list, 1), "hospital_name"), "南京市儿童医院");
	json_decref(j);
	j = call_api("GET", "/v1/bookings?call_id=c2", token, NULL, &status, NULL);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "bookings")), 0);
	json_decref(j);
	json_decref(call_api("GET", "/v1/bookings", token, NULL, &status, NULL));
	ck_assert_int_eq(status, 400);
	j = call_api("GET", "/v1/hospitals", token, NULL, &status, NULL);
	ck_assert_int_eq(status, 200);
	list = json_object_get(j, "hospitals");
	ck_assert_int_eq(json_array_size(list), 8);
	json_t *h001 = json_array_get(list, 0);
	ck_assert_str_eq(jstr(h001, "code"), "h001");
	ck_assert_str_eq(jstr(h001, "name"), "南京鼓楼医院");
	ck_assert_int_eq(json_array_size(json_object_get(h001, "departments")), 10);
	json_decref(j);
	json_decref(call_api("GET", "/v1/hospitals", NULL, NULL, &status, NULL));
	ck_assert_int_eq(status, 401);

	/* The rows carry the call's caller, hashed and masked, never in clear;
	 * the log neither. */
	ck_assert_int_eq(
		count("SELECT count(*) FROM bookings b JOIN calls c USING (centre, call_id)"
		      " WHERE b.caller_hash = c.caller_hash AND b.caller_masked = '" CALLER_MASKED
		      "'"),
		2);
	ck_assert_int_eq(count("SELECT count(*) FROM bookings b"
			       " WHERE position('" CALLER "' in row_to_json(b)::text) > 0"),
			 0);
	/* The stored hash is the canonical one of what was sent. */
	ck_assert_int_eq(count("SELECT count(*) FROM bookings WHERE booking_no = 'A1-20190304-0001'"
			       " AND payload_sha256 = booking_payload_sha256('A1-20190304-0001',"
			       " 'h001', 'internal', '2019-03-06', 'phone', NULL, 'c1',"
			       " 1551662250000000, 'a1')"),
			 1);
	char *log = harness_broker_log(&broker);
	ck_assert_ptr_null(strstr(log, CALLER));
	ck_assert_ptr_nonnull(strstr(log, "A1-20190304-0001"));
	free(log);

	/* What /metrics counts. */
	struct harness_response r;
	ck_assert_int_eq(harness_http(broker.port, "GET", "/metrics", NULL, NULL, &r), 0);
	ck_assert_int_eq(metric(r.body, "hotline_bookings_total{result=\"created\"} "), 2);
	ck_assert_int_eq(metric(r.body, "hotline_bookings_total{result=\"replayed\"} "), 1);
	/* the 409, the refusals above, the hour ahead, the other agent's call */
	ck_assert_int_eq(metric(r.body, "hotline_bookings_total{result=\"refused\"} "),
			 1 + (long long)(sizeof refused / sizeof refused[0]) + 2);
	ck_assert_ptr_nonnull(strstr(r.body, "route=\"/v1/bookings\""));
	harness_response_free(&r);
	free(token);
}
END_TEST

START_TEST (test_the_gateway_books_for_the_ivr_with_its_signature) {
	offered("i1", "12");
	static const char body[] =
		"{\"booking_no\":\"IVR-0001\",\"centre\":\"nanjing\",\"hospital\":\"h005\","
		"\"department\":\"obstetrics\",\"visit_date\":\"2019-03-11\",\"channel\":\"phone\","
		"\"call_id\":\"i1\"}";
	int status;
	bool replay;
	json_t *j = gateway_book(broker.gateway_secret, body, &status, &replay);
	ck_assert_msg(status == 201, "%d %s", status, json_dumps(j, 0));
	ck_assert(!replay);
	json_t *b = json_object_get(j, "booking");
	ck_assert_str_eq(jstr(b, "source"), "gateway");
	ck_assert(json_is_null(json_object_get(b, "agent_id")));
	ck_assert_str_eq(jstr(b, "caller"), CALLER_MASKED);
	json_decref(j);
	j = gateway_book(broker.gateway_secret, body, &status, &replay);
	ck_assert_int_eq(status, 200);
	ck_assert(replay);
	json_decref(j);
	/* The same number from an agent is another booking (another source). */
	ck_assert_int_eq(count("SELECT count(*) FROM bookings WHERE source = 'gateway'"), 1);

	/* A wrong secret; no centre; a call of no centre of ours; an agent. */
	json_decref(gateway_book("not the gateway's secret", body, &status, NULL));
	ck_assert_int_eq(status, 401);
	j = gateway_book(broker.gateway_secret,
			 "{\"booking_no\":\"IVR-0002\",\"hospital\":\"h005\",\"department\":"
			 "\"obstetrics\",\"visit_date\":\"2019-03-11\",\"channel\":\"phone\","
			 "\"call_id\":\"i1\"}",
			 &status, NULL);
	ck_assert_int_eq(status, 400);
	ck_assert_str_eq(error_field(j), "centre");
	json_decref(j);
	j = gateway_book(broker.gateway_secret,
			 "{\"booking_no\":\"IVR-0003\",\"centre\":\"wuhan\",\"hospital\":\"h005\","
			 "\"department\":\"obstetrics\",\"visit_date\":\"2019-03-11\",\"channel\":"
			 "\"phone\",\"call_id\":\"i1\"}",
			 &status, NULL);
	ck_assert_int_eq(status, 422);
	json_decref(j);
	j = gateway_book(broker.gateway_secret,
			 "{\"booking_no\":\"IVR-0004\",\"centre\":\"nanjing\",\"agent\":\"a7\","
			 "\"hospital\":\"h006\",\"department\":\"psychology\",\"visit_date\":"
			 "\"2019-03-12\",\"channel\":\"phone\",\"call_id\":\"i1\"}",
			 &status, NULL);
	ck_assert_int_eq(status, 201);
	ck_assert_str_eq(jstr(json_object_get(j, "booking"), "agent_id"), "a7");
	json_decref(j);
	ck_assert_int_eq(count("SELECT count(*) FROM bookings WHERE source = 'gateway'"), 2);
}
END_TEST

START_TEST (test_without_postgresql_a_booking_gets_503_and_nothing_is_recorded) {
	/* A broker of its own whose database does not answer. */
	struct harness_broker down;
	const char *settings[] = {"database.reconnect_max_ms", "200", NULL};
	struct harness_broker_options opt = {
		.database_url = "host=127.0.0.1 port=1 dbname=none user=none connect_timeout=1",
		.settings = settings};
	ck_assert_msg(harness_broker_start(&down, &opt) == 0, "%s", harness_error());
	struct harness_response r;
	ck_assert_int_eq(harness_http_signed(down.port, down.gateway_secret, "POST", "/v1/bookings",
					     "{\"booking_no\":\"X1\",\"centre\":\"nanjing\","
					     "\"hospital\":\"h001\",\"department\":\"internal\","
					     "\"visit_date\":\"2019-03-06\",\"channel\":\"phone\","
					     "\"call_id\":\"c1\"}",
					     &r),
			 0);
	ck_assert_int_eq(r.status, 503);
	ck_assert_ptr_nonnull(harness_response_header(&r, "Retry-After"));
	harness_response_free(&r);
	harness_broker_free(&down);
}
END_TEST

/* --- hospitals -------------------------------------------------------------------- */

START_TEST (test_hospitals_load_list_and_disable_what_the_file_leaves_out) {
	char *out = NULL, *err = NULL;
	ck_assert_int_eq(admin(NULL, &out, NULL, "hospitals", "list", "--centre", "nanjing", NULL),
			 0);
	ck_assert_ptr_nonnull(strstr(out, "hospital\th001\t南京鼓楼医院\tyes\n"));
	ck_assert_ptr_nonnull(strstr(out, "department\th002\tpaediatrics\t儿科\tyes\n"));
	ck_assert_ptr_nonnull(strstr(out, "platform\tp001\t健康南京客户端\n"));
	free(out);

	/* A smaller file: h001 and h003 swap names, h001 loses a department,
	 * the rest are gone. */
	static const char smaller[] = "centre: nanjing\n"
				      "hospitals:\n"
				      "  - code: h001\n"
				      "    name: 南京市第一医院\n"
				      "    departments: [{code: internal, name: 内科}]\n"
				      "  - code: h003\n"
				      "    name: 南京鼓楼医院\n"
				      "    departments: [{code: surgery, name: 外科}]\n";
	const char *path = write_file("smaller.yaml", smaller, strlen(smaller));
	ck_assert_int_eq(admin(NULL, &out, &err, "hospitals", "load", path, NULL), 0);
	free(out);
	free(err);
	ck_assert_int_eq(count("SELECT count(*) FROM hospitals WHERE enabled"), 2);
	ck_assert_int_eq(count("SELECT count(*) FROM hospitals WHERE NOT enabled"), 6);
	ck_assert_int_eq(count("SELECT count(*) FROM departments WHERE enabled"), 2);
	ck_assert_int_eq(count("SELECT count(*) FROM hospitals WHERE code = 'h001'"
			       " AND name = '南京市第一医院'"),
			 1);
	ck_assert_int_eq(admin(NULL, &out, NULL, "hospitals", "list", "--centre", "nanjing", NULL),
			 0);
	ck_assert_ptr_nonnull(strstr(out, "hospital\th002\t南京市儿童医院\tno\n"));
	ck_assert_ptr_nonnull(strstr(out, "department\th001\tcardiology\t心血管内科\tno\n"));
	free(out);

	/* The agent's client sees only what takes bookings, and a booking for a
	 * disabled hospital is refused by name. */
	add_agent("a1", "7001");
	char *token = login("a1");
	int status;
	json_t *j = call_api("GET", "/v1/hospitals", token, NULL, &status, NULL);
	ck_assert_int_eq(status, 200);
	json_t *list = json_object_get(j, "hospitals");
	ck_assert_int_eq(json_array_size(list), 2);
	ck_assert_int_eq(json_array_size(json_object_get(json_array_get(list, 0), "departments")),
			 1);
	json_decref(j);
	offered("g1", "12");
	j = gateway_book(broker.gateway_secret,
			 "{\"booking_no\":\"G1\",\"centre\":\"nanjing\",\"hospital\":\"h002\","
			 "\"department\":\"paediatrics\",\"visit_date\":\"2019-03-11\","
			 "\"channel\":\"phone\",\"call_id\":\"g1\"}",
			 &status, NULL);
	ck_assert_int_eq(status, 422);
	ck_assert_str_eq(error_code(j), "disabled_hospital");
	json_decref(j);
	free(token);

	/* Refusals name the file, line and field; nothing changes. */
	struct {
		const char *text, *expect;
		int code;
	} bad[] = {
		{"centre: nanjing\nhospitals:\n  - {code: H1, name: x}\n", ":3:", 2},
		{"centre: nanjing\nhospitals:\n  - {code: h1, name: x}\n  - {code: h1, name: y}\n",
		 "given twice", 2},
		{"centre: nanjing\nhospitals:\n  - {code: h1, name: x, beds: 3}\n",
		 "unknown key 'beds'", 2},
		{"centre: wuhan\nhospitals:\n  - {code: h1, name: x}\n", "not registered", 2},
		{"centre: nanjing\nhospitals:\n  - {code: h1, name: 南京市儿童医院}\n",
		 "hospital h002, which this file does not list", 2},
		{"centre: nanjing\nhospitals: [\n", "malformed YAML", 2},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		path = write_file("bad.yaml", bad[i].text, strlen(bad[i].text));
		ck_assert_int_eq(admin(NULL, NULL, &err, "hospitals", "load", path, NULL),
				 bad[i].code);
		ck_assert_msg(strstr(err, bad[i].expect) != NULL, "case %zu: %s", i, err);
		free(err);
	}
	ck_assert_int_eq(count("SELECT count(*) FROM hospitals WHERE enabled"), 2);
	ck_assert_int_eq(admin(NULL, NULL, &err, "hospitals", "list", "--centre", "wuhan", NULL),
			 2);
	free(err);
}
END_TEST

/* --- batches ---------------------------------------------------------------------- */

static const char csv_header[] =
	"booking_no,hospital,department,visit_date,channel,platform,call_id,booked_at";

/* Calls k1 .. kN of the centre, with the test caller. */
static void add_calls(int n)
{
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "INSERT INTO calls (centre, call_id, state, category, queue, priority, rule,"
		 " caller_hash, caller_masked, dialled, ivr_path, offered_at)"
		 " SELECT 'nanjing', 'k' || i, 'ended', 'booking', 'booking', 4, 'ivr-booking',"
		 " decode(md5('" CALLER "'), 'hex'), '" CALLER_MASKED "', '12320', '1',"
		 " timestamptz '2019-03-01 08:00+08' + i * interval '1 minute'"
		 " FROM generate_series(1, %d) i",
		 n);
	ck_assert_int_eq(harness_pg_exec(db, sql), 0);
}

/* A batch of n lines (BOM, CRLF, some quoted fields); line bad (the
 * file's line number, 0: none) gets bad_fields instead. */
static char *make_batch(int n, int bad, const char *bad_fields, size_t *len)
{
	static const char *const hospitals[][2] = {{"h001", "internal"},   {"h002", "paediatrics"},
						   {"h003", "surgery"},    {"h004", "acupuncture"},
						   {"h005", "obstetrics"}, {"h006", "psychiatry"}};
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	fprintf(f, "\xEF\xBB\xBF%s\r\n", csv_header);
	for (int i = 0; i < n; i++) {
		int line = i + 2;
		if (line == bad) {
			fprintf(f, "%s\r\n", bad_fields);
			continue;
		}
		const char *const *h = hospitals[i % 6];
		int day = 1 + i % 28;
		switch (i % 4) {
		case 0:
			fprintf(f,
				"B%05d,%s,%s,2019-03-%02d,phone,,k%d,2019-03-%02dT10:%02d:00+08:00\r\n",
				i, h[0], h[1], day, 1 + i % 40, day, i % 60);
			break;
		case 1:
			fprintf(f,
				"\"B%05d\",\"%s\",%s,2019-03-%02d,online_12320,p00%d,,"
				"2019-03-%02dT02:%02d:00Z\r\n",
				i, h[0], h[1], day, 1 + i % 9, day, i % 60);
			break;
		case 2:
			fprintf(f,
				"B%05d,%s,%s,2019-03-%02d,clinic,,,2019-03-%02d 10:%02d:00.5+08:00\r\n",
				i, h[0], h[1], day, day, i % 60);
			break;
		default:
			fprintf(f,
				"B%05d,%s,%s,2019-03-%02d,third_party,,,2019-03-%02dT10:%02d:00+08:00\r\n",
				i, h[0], h[1], day, day, i % 60);
		}
	}
	fclose(f);
	return text;
}

START_TEST (test_a_batch_lands_once_and_a_second_import_adds_nothing) {
	add_calls(40);
	size_t len;
	char *batch = make_batch(3000, 0, NULL, &len);
	const char *path = write_file("batch.csv", batch, len);
	char *out = NULL, *err = NULL;
	int code = admin(NULL, &out, &err, "bookings", "import", "--centre", "nanjing", "--source",
			 "his_gulou", path, NULL);
	ck_assert_msg(code == 0, "%s", err);
	ck_assert_msg(strstr(out, "3000 line(s), 3000 new booking(s), 0 already there") != NULL,
		      "%s", out);
	free(out);
	free(err);
	ck_assert_int_eq(count("SELECT count(*) FROM bookings WHERE source = 'his_gulou'"), 3000);
	/* Again, from standard input: nothing new. */
	code = admin(batch, &out, &err, "bookings", "import", "--centre", "nanjing", "--source",
		     "his_gulou", "-", NULL);
	ck_assert_msg(code == 0, "%s", err);
	ck_assert_msg(strstr(out, "3000 line(s), 0 new booking(s), 3000 already there") != NULL,
		      "%s", out);
	free(out);
	free(err);
	ck_assert_int_eq(count("SELECT count(*) FROM bookings"), 3000);

	/* What landed: the phone lines have their call's caller, masked and
	 * hashed; the times are the instants written; the hash is the API's. */
	ck_assert_int_eq(count("SELECT count(*) FROM bookings WHERE channel = 'phone'"
			       " AND caller_masked = '" CALLER_MASKED
			       "' AND caller_hash IS NOT NULL"),
			 750);
	ck_assert_int_eq(count("SELECT count(*) FROM bookings WHERE booking_no = 'B00001'"
			       " AND booked_at = '2019-03-02T02:01:00Z' AND platform = 'p002'"),
			 1);
	ck_assert_int_eq(count("SELECT count(*) FROM bookings WHERE booking_no = 'B00002'"
			       " AND booked_at = '2019-03-03T10:02:00.5+08:00'"),
			 1);
	ck_assert_int_eq(count("SELECT count(*) FROM bookings WHERE payload_sha256 ="
			       " booking_payload_sha256(booking_no, hospital, department,"
			       " to_char(visit_date, 'YYYY-MM-DD'), channel, platform, call_id,"
			       " (extract(epoch FROM booked_at) * 1000000)::bigint, agent_id)"),
			 3000);
	ck_assert_int_eq(count("SELECT count(*) FROM bookings b"
			       " WHERE position('" CALLER "' in row_to_json(b)::text) > 0"),
			 0);
	/* The same numbers from another system are other bookings. */
	code = admin(batch, NULL, NULL, "bookings", "import", "--centre", "nanjing", "--source",
		     "his_other", "-", NULL);
	ck_assert_int_eq(code, 0);
	ck_assert_int_eq(count("SELECT count(*) FROM bookings"), 6000);
	free(batch);
}
END_TEST

/* Imports text as source his; returns the exit code and stderr (free it). */
static int import_text(const char *text, char **err)
{
	return admin(text, NULL, err, "bookings", "import", "--centre", "nanjing", "--source",
		     "his", "-", NULL);
}

START_TEST (test_a_batch_with_a_bad_line_imports_nothing_and_names_the_line) {
	add_calls(40);
	struct {
		int line;
		const char *fields, *expect;
	} bad[] = {
		{1001, "B99999,h001,internal,2019-02-30,clinic,,,2019-03-04T10:00:00+08:00",
		 "line 1001: visit_date: '2019-02-30'"},
		{1500, "B99999,h001,dentistry,2019-03-04,clinic,,,2019-03-04T10:00:00+08:00",
		 "line 1500: department: 'dentistry'"},
		{700, "B99999,h001,internal,2019-03-04,phone,,,2019-03-04T10:00:00+08:00",
		 "line 700: call_id"},
		{701, "B99999,h001,internal,2019-03-04,phone,,k999,2019-03-04T10:00:00+08:00",
		 "line 701: call_id: 'k999'"},
		{2, "B99999,h001,internal,2019-03-04,clinic,p001,,2019-03-04T10:00:00+08:00",
		 "line 2: platform"},
		{3, "B99999,h001,internal,2019-03-04,online_12320,p404,,2019-03-04T10:00:00+08:00",
		 "line 3: platform: 'p404'"},
		{1999, "B99999,h001,internal,2019-03-04,fax,,,2019-03-04T10:00:00+08:00",
		 "line 1999: channel: 'fax'"},
		{1234, "B99999,h001,internal,2019-03-04,clinic,,,2019-03-04T25:00:00+08:00",
		 "line 1234: booked_at"},
		{42, "B 99999,h001,internal,2019-03-04,clinic,,,2019-03-04T10:00:00+08:00",
		 "line 42: booking_no"},
		{900, "B99999,h001,internal,2019-03-04,clinic,,", "line 900: 7 field(s)"},
		{901, "B99999,h001,inter\"nal,2019-03-04,clinic,,,2019-03-04T10:00:00+08:00",
		 "line 901: field 3: a quote"},
		/* a quoted field over two lines: the record starts on 902 */
		{902, "\"B99\r\n999\",h001,internal,2019-03-04,clinic,,,2019-03-04T10:00:00+08:00",
		 "line 902: booking_no"},
		/* the same number twice in the batch with other fields */
		{1800, "B00010,h001,internal,2019-03-04,clinic,,,2019-03-04T10:00:00+08:00",
		 "line 1800: booking_no: 'B00010' is on line 12 too"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t len;
		char *batch = make_batch(2000, bad[i].line, bad[i].fields, &len);
		char *err = NULL;
		ck_assert_msg(import_text(batch, &err) == 2, "case %zu", i);
		ck_assert_msg(strstr(err, bad[i].expect) != NULL, "case %zu: %s", i, err);
		free(err);
		free(batch);
		ck_assert_int_eq(count("SELECT count(*) FROM bookings"), 0);
	}
	/* Two bad lines: the first is named, whatever went wrong with each. */
	size_t len;
	char *batch = make_batch(2000, 1500, "B99999,h001,internal,2019-03-04,clinic", &len);
	char *p = strstr(batch, "\nB00498,") + 1; /* line 500 */
	memcpy(strstr(p, "2019-03-"), "2019-13-", 8);
	char *err = NULL;
	ck_assert_int_eq(import_text(batch, &err), 2);
	ck_assert_msg(strstr(err, "line 500: visit_date") != NULL, "%s", err);
	free(err);
	free(batch);

	/* A good batch, then one that reuses a number for another booking. */
	batch = make_batch(2000, 0, NULL, &len);
	ck_assert_int_eq(import_text(batch, NULL), 0);
	ck_assert_int_eq(count("SELECT count(*) FROM bookings"), 2000);
	p = strstr(batch, "\nB00004,") + 1; /* line 6 */
	p = strstr(p, ",2019-03-");
	memcpy(p, ",2019-04-", 9);
	ck_assert_int_eq(import_text(batch, &err), 2);
	ck_assert_msg(strstr(err, "line 6: booking_no: 'B00004' is already taken") != NULL, "%s",
		      err);
	ck_assert_ptr_nonnull(strstr(err, "booking_no_conflict"));
	free(err);
	free(batch);
	ck_assert_int_eq(count("SELECT count(*) FROM bookings"), 2000);

	/* The broker's sources are not a batch's; a file that is not there. */
	ck_assert_int_eq(admin("", NULL, &err, "bookings", "import", "--centre", "nanjing",
			       "--source", "agent", "-", NULL),
			 2);
	free(err);
	ck_assert_int_eq(admin(NULL, NULL, &err, "bookings", "import", "--centre", "nanjing",
			       "--source", "his", "/nonexistent.csv", NULL),
			 2);
	free(err);
	ck_assert_int_eq(admin(csv_header, NULL, &err, "bookings", "import", "--centre", "wuhan",
			       "--source", "his", "-", NULL),
			 2);
	ck_assert_ptr_nonnull(strstr(err, "not registered"));
	free(err);
}
END_TEST

/* A batch reads times and dates as the API does: the same instants for
 * every spelling the API takes, a refusal naming the line for the others. */
START_TEST (test_a_batch_reads_times_and_dates_like_the_api) {
	static const char *const good[] = {
		"2019-03-04T09:17:30+08:00",
		"2019-03-04T01:17:30Z",
		"2019-03-04t01:17:30z",
		"2019-03-04 01:17:30.5Z",
		"2019-03-04T01:17:30.1234567-01:30",
		"2019-03-04T01:17:30.123456789+23:59",
		"2020-02-29T00:00:00Z",
		"1970-01-01T01:00:00+01:00",
	};
	static const char *const bad[] = {
		"2019-03-04T01:17:30.1234567890Z",
		"2019-02-29T00:00:00Z",
		"1970-01-01T00:00:00+01:00",
		"2019-03-04T24:00:00Z",
		"2019-03-04T23:60:00Z",
		"2019-03-04T23:00:60Z",
		"2019-03-04T01:17:30+0800",
		"2019-03-04T01:17:30+24:00",
		"2019-03-04T01:17:30+08:60",
		"2019-03-04T01:17:30",
		"2019-03-04T01:17:30.Z",
		"2019-3-04T01:17:30Z",
		"2019-03-04T01:17:30Zx",
		"",
		"1969-12-31T23:59:59Z",
	};
	char *text = NULL, *err = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);
	fprintf(f, "%s\n", csv_header);
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		fprintf(f, "T%zu,h001,internal,2019-03-06,clinic,,,%s\n", i, good[i]);
	fclose(f);
	ck_assert_int_eq(import_text(text, NULL), 0);
	free(text);
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		int64_t usec = 0;
		ck_assert_int_eq(timeutil_parse_rfc3339(good[i], &usec), 0);
		char sql[256];
		snprintf(sql, sizeof sql,
			 "SELECT (extract(epoch FROM booked_at) * 1000000)::bigint FROM bookings"
			 " WHERE booking_no = 'T%zu'",
			 i);
		ck_assert_msg(count(sql) == usec, "'%s': %" PRId64 ", the API %" PRId64, good[i],
			      count(sql), usec);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t usec;
		ck_assert_msg(timeutil_parse_rfc3339(bad[i], &usec) != 0, "the API takes '%s'",
			      bad[i]);
		char line[256];
		snprintf(line, sizeof line, "%s\nU1,h001,internal,2019-03-06,clinic,,,%s\n",
			 csv_header, bad[i]);
		ck_assert_int_eq(import_text(line, &err), 2);
		ck_assert_msg(strstr(err, "line 2: booked_at") != NULL, "'%s': %s", bad[i], err);
		free(err);
	}
	static const struct {
		const char *date;
		int ok;
	} dates[] = {{"2019-02-28", 1}, {"2019-02-29", 0},
		     {"2020-02-29", 1}, {"2000-02-29", 1},
		     {"2100-02-29", 0}, {"2019-04-31", 0},
		     {"2019-12-31", 1}, {"2019-13-01", 0},
		     {"2019-00-10", 0}, {"2019-01-00", 0},
		     {"1969-12-31", 0}, {"2019-1-01", 0},
		     {"20190101", 0},   {"", 0}};
	for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
		char sql[128];
		snprintf(sql, sizeof sql, "SELECT booking_date_ok('%s')::int", dates[i].date);
		ck_assert_msg(harness_pg_query_int(db, sql) == dates[i].ok, "%s", dates[i].date);
	}
	ck_assert_int_eq(count("SELECT count(*) FROM bookings"), sizeof good / sizeof good[0]);
}
END_TEST

static Suite *bookings_suite(void)
{
	Suite *s = suite_create("bookings_live");
	TCase *tc = tcase_create("bookings_live");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_an_agent_books_during_the_call_and_a_retry_is_a_replay);
	tcase_add_test(tc, test_the_gateway_books_for_the_ivr_with_its_signature);
	tcase_add_test(tc, test_without_postgresql_a_booking_gets_503_and_nothing_is_recorded);
	tcase_add_test(tc, test_hospitals_load_list_and_disable_what_the_file_leaves_out);
	tcase_add_test(tc, test_a_batch_lands_once_and_a_second_import_adds_nothing);
	tcase_add_test(tc, test_a_batch_with_a_bad_line_imports_nothing_and_names_the_line);
	tcase_add_test(tc, test_a_batch_reads_times_and_dates_like_the_api);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (harness_shared_pg() == NULL || harness_shared_redis_port() < 0) {
		fprintf(stderr, "%s\n", harness_error());
		return 77;
	}
	SRunner *sr = srunner_create(bookings_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
