/* test_orders_live.c: 12345 work orders and tickets in the real broker,
 * against real PostgreSQL and hotlined, with a real small HTTP server in
 * this process playing the platform: intake idempotency and conflicts, every
 * stage, deadlines, the outbox across a platform outage and a kill -9, the
 * audit of clear reads, and tickets. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "auth.h"
#include "harness.h"

#define CITY_SECRET "city-platform-secret-for-tests"
#define PROVINCE_SECRET "province-platform-secret-for-tests"
#define PASSWORD "a long test password"

static struct harness_broker broker;
static char *db;

/* --- the platform: a small HTTP server on its own thread ---------------------- */

struct platform {
	int fd, port;
	pthread_t thread;
	atomic_int failing;  /* answer 503 while set */
	atomic_int requests; /* every request seen */
	atomic_int stop;
	pthread_mutex_t lock;
	char keys[64][128]; /* Idempotency-Key of each 2xx, in order */
	int n_keys;
};

static struct platform platform;

static void *platform_run(void *arg)
{
	struct platform *p = arg;
	while (!atomic_load(&p->stop)) {
		struct pollfd pf = {.fd = p->fd, .events = POLLIN};
		if (poll(&pf, 1, 100) <= 0)
			continue;
		int c = accept(p->fd, NULL, NULL);
		if (c < 0)
			continue;
		char buf[16384];
		size_t len = 0;
		/* read the head and the body (Content-Length) */
		for (;;) {
			ssize_t got = read(c, buf + len, sizeof buf - 1 - len);
			if (got <= 0)
				break;
			len += (size_t)got;
			buf[len] = '\0';
			char *end = strstr(buf, "\r\n\r\n");
			if (end == NULL)
				continue;
			char *cl = strcasestr(buf, "Content-Length:");
			size_t want = cl ? (size_t)atoi(cl + 15) : 0;
			if (len >= (size_t)(end - buf) + 4 + want)
				break;
		}
		atomic_fetch_add(&p->requests, 1);
		const char *answer;
		if (atomic_load(&p->failing)) {
			answer = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
		} else {
			char *k = strcasestr(buf, "Idempotency-Key:");
			pthread_mutex_lock(&p->lock);
			if (k != NULL && p->n_keys < 64) {
				k += 16;
				while (*k == ' ')
					k++;
				size_t n = strcspn(k, "\r\n");
				snprintf(p->keys[p->n_keys++], sizeof p->keys[0], "%.*s", (int)n, k);
			}
			pthread_mutex_unlock(&p->lock);
			answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
		}
		ssize_t w = write(c, answer, strlen(answer));
		(void)w;
		close(c);
	}
	return NULL;
}

static void platform_start(void)
{
	memset(&platform, 0, sizeof platform);
	pthread_mutex_init(&platform.lock, NULL);
	platform.fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(platform.fd, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t al = sizeof a;
	getsockname(platform.fd, (struct sockaddr *)&a, &al);
	platform.port = ntohs(a.sin_port);
	ck_assert_int_eq(listen(platform.fd, 64), 0);
	ck_assert_int_eq(pthread_create(&platform.thread, NULL, platform_run, &platform), 0);
}

static void platform_stop(void)
{
	atomic_store(&platform.stop, 1);
	pthread_join(platform.thread, NULL);
	close(platform.fd);
}

/* How many distinct keys the platform took (a repeat is deduplicated). */
static int platform_distinct_keys(void)
{
	int distinct = 0;
	pthread_mutex_lock(&platform.lock);
	for (int i = 0; i < platform.n_keys; i++) {
		bool seen = false;
		for (int k = 0; k < i; k++)
			seen = seen || strcmp(platform.keys[i], platform.keys[k]) == 0;
		distinct += !seen;
	}
	pthread_mutex_unlock(&platform.lock);
	return distinct;
}

/* --- the broker ---------------------------------------------------------------- */


static void wait_ready(void)
{
	ck_assert_msg(harness_broker_wait_healthy(&broker) == 0, "%s", harness_error());
}

static void setup(void)
{
	ck_assert_int_eq(sodium_init() >= 0, 1);
	db = harness_db_create(NULL);
	ck_assert_msg(db != NULL, "%s", harness_error());
	ck_assert_int_eq(harness_pg_exec(db, "INSERT INTO centres (code, name) VALUES ('nanjing', '南京')"), 0);
	platform_start();

	char dir[HARNESS_PATH_MAX];
	static char path[HARNESS_PATH_MAX + 32];
	ck_assert_int_eq(harness_tmpdir("orders", dir), 0);
	snprintf(path, sizeof path, "%s/workorders.yaml", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"calendar_file: \"%s/conf/calendar.yaml\"\n"
		"yellow_hours: 24\n"
		"platforms:\n"
		"  - {name: city_12345, secret: \"" CITY_SECRET "\","
		" url: \"http://127.0.0.1:%d/notify\"}\n"
		"  - {name: province_12345, secret: \"" PROVINCE_SECRET "\","
		" url: \"http://127.0.0.1:%d/notify\"}\n"
		"deadlines:\n"
		"  default: {sign_days: 1, reply_days: 5, urgent_hours: 24}\n"
		"  complaint: {sign_days: 1, reply_days: 10, urgent_hours: 24}\n",
		harness_source_dir(), platform.port, platform.port);
	fclose(f);
	const char *settings[] = {"workorders.file", path, NULL};
	struct harness_broker_options opt = {.database_url = db, .settings = settings};
	ck_assert_msg(harness_broker_start(&broker, &opt) == 0, "%s", harness_error());
	wait_ready();
}

static void teardown(void)
{
	harness_broker_free(&broker);
	platform_stop();
	harness_db_drop(db);
	free(db);
}

static void add_agent(const char *id, const char *role)
{
	char hash[crypto_pwhash_STRBYTES];
	ck_assert_int_eq(crypto_pwhash_str_alg(hash, PASSWORD, strlen(PASSWORD),
					       crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN,
					       crypto_pwhash_ALG_ARGON2ID13),
			 0);
	char *sql = NULL;
	ck_assert_int_gt(asprintf(&sql,
				  "INSERT INTO agents (centre, agent_id, name, extension, password_hash, role)"
				  " VALUES ('nanjing', '%s', '%s', '%d', '%s', '%s')",
				  id, id, 7000 + (int)strlen(id) + (role[0] == 's'), hash, role),
			 0);
	ck_assert_int_eq(harness_pg_exec(db, sql), 0);
	free(sql);
}

static json_t *request(const char *method, const char *path, const char *token, const char *body,
		       int *status)
{
	char auth[256];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
	const char *headers[] = {auth, NULL};
	struct harness_response r;
	ck_assert(harness_http(broker.port, method, path, token ? headers : NULL, body, &r) == 0);
	*status = r.status;
	json_t *j = json_loads(r.body, 0, NULL);
	harness_response_free(&r);
	return j ? j : json_object();
}

static char *login(const char *id)
{
	char body[256];
	snprintf(body, sizeof body, "{\"centre\":\"nanjing\",\"agent_id\":\"%s\",\"password\":\"%s\"}",
		 id, PASSWORD);
	int status;
	json_t *j = request("POST", "/v1/agents/login", NULL, body, &status);
	ck_assert_int_eq(status, 200);
	char *t = strdup(json_string_value(json_object_get(j, "token")));
	json_decref(j);
	return t;
}

/* Posts an intake signed by the platform with secret; returns the status. */
static int intake(const char *platform_name, const char *secret, const char *body, json_t **out,
		  bool *replay)
{
	char sig[AUTH_SIGNATURE_LEN], ts[24], h1[64], h2[128], h3[64];
	int64_t now = time(NULL);
	auth_sign(secret, now, body, strlen(body), sig);
	snprintf(ts, sizeof ts, "%lld", (long long)now);
	snprintf(h1, sizeof h1, AUTH_HEADER_TIMESTAMP ": %s", ts);
	snprintf(h2, sizeof h2, AUTH_HEADER_SIGNATURE ": %s", sig);
	snprintf(h3, sizeof h3, "X-Hotline-Platform: %s", platform_name);
	const char *headers[] = {h1, h2, h3, NULL};
	struct harness_response r;
	ck_assert(harness_http(broker.port, "POST", "/v1/workorders", headers, body, &r) == 0);
	int status = r.status;
	if (replay)
		*replay = harness_response_header(&r, "Idempotent-Replay") != NULL;
	if (out)
		*out = json_loads(r.body, 0, NULL);
	harness_response_free(&r);
	return status;
}

static const char order_body[] =
	"{\"external_no\":\"NJ-2026-0001\",\"centre\":\"nanjing\","
	"\"received_at\":\"2026-09-30T10:00:00+08:00\",\"category\":\"complaint\",\"urgent\":false,"
	"\"title\":\"挂号难\",\"content\":\"a complaint text that must never reach a log\","
	"\"citizen\":{\"name\":\"张三\",\"phone\":\"13812345678\"}}";

static int64_t count(const char *sql)
{
	return harness_pg_query_int(db, sql);
}

static int act(const char *token, long long id, const char *body, json_t **out)
{
	char path[64];
	snprintf(path, sizeof path, "/v1/workorders/%lld/actions", id);
	int status;
	json_t *j = request("POST", path, token, body, &status);
	if (out)
		*out = j;
	else
		json_decref(j);
	return status;
}

/* --- the tests -------------------------------------------------------------------- */

START_TEST(test_intake_is_idempotent_per_platform_and_refuses_conflicts)
{
	json_t *order = NULL;
	bool replay = false;
	ck_assert_int_eq(intake("city_12345", CITY_SECRET, order_body, &order, &replay), 201);
	ck_assert(!replay);
	ck_assert_str_eq(json_string_value(json_object_get(order, "stage")), "received");
	ck_assert_str_eq(json_string_value(json_object_get(order, "citizen_phone")), "138****5678");
	/* Received on the eve of National Day 2026 (Oct 1-7 off, no make-up
	 * day before the 8th): signing is due at the end of Thursday Oct 8. */
	ck_assert_str_eq(json_string_value(json_object_get(order, "sign_due")),
			 "2026-10-09T00:00:00+08:00");
	json_decref(order);

	ck_assert_int_eq(intake("city_12345", CITY_SECRET, order_body, NULL, &replay), 200);
	ck_assert(replay);
	char other[sizeof order_body + 16];
	snprintf(other, sizeof other, "%s", order_body);
	memcpy(strstr(other, "挂号难"), "看病难", strlen("看病难"));
	ck_assert_int_eq(intake("city_12345", CITY_SECRET, other, NULL, NULL), 409);
	/* The same number from the other platform is another order. */
	ck_assert_int_eq(intake("province_12345", PROVINCE_SECRET, order_body, NULL, NULL), 201);
	/* A platform signing with another's secret is refused. */
	ck_assert_int_eq(intake("province_12345", CITY_SECRET, order_body, NULL, NULL), 401);
	ck_assert_int_eq(intake("city_12345", CITY_SECRET, "{\"external_no\":\"x\",\"bogus\":1}", NULL,
				NULL),
			 400);
	ck_assert_int_eq(count("SELECT count(*) FROM work_orders"), 2);
	/* No clear number anywhere in the rows; no complaint text in the log. */
	ck_assert_int_eq(count("SELECT count(*) FROM work_orders w"
			       " WHERE position('13812345678' in row_to_json(w)::text) > 0"
			       " OR position('张三' in row_to_json(w)::text) > 0"),
			 0);
	char *log = harness_broker_log(&broker);
	ck_assert_ptr_null(strstr(log, "must never reach a log"));
	ck_assert_ptr_null(strstr(log, "13812345678"));
	free(log);
}
END_TEST

START_TEST(test_every_stage_in_order_and_illegal_actions_are_409)
{
	add_agent("a1", "agent");
	char *t = login("a1");
	json_t *order = NULL;
	ck_assert_int_eq(intake("city_12345", CITY_SECRET, order_body, &order, NULL), 201);
	long long id = json_integer_value(json_object_get(order, "id"));
	json_decref(order);

	json_t *err = NULL;
	ck_assert_int_eq(act(t, id, "{\"action\":\"reply\",\"text\":\"done\"}", &err), 409);
	const char *msg = json_string_value(json_object_get(json_object_get(err, "error"), "message"));
	ck_assert_ptr_nonnull(strstr(msg, "reply"));
	ck_assert_ptr_nonnull(strstr(msg, "received"));
	json_decref(err);
	ck_assert_int_eq(act(t, id, "{\"action\":\"return\"}", NULL), 400); /* needs a reason */
	ck_assert_int_eq(act(t, id, "{\"action\":\"sign\"}", NULL), 200);
	ck_assert_int_eq(act(t, id, "{\"action\":\"sign\"}", NULL), 409);
	ck_assert_int_eq(act(t, id, "{\"action\":\"extend\",\"new_due\":\"2026-10-30T00:00:00+08:00\","
				    "\"reason\":\"需要医院核实\"}",
			     NULL),
			 200);
	ck_assert_int_eq(act(t, id, "{\"action\":\"start\"}", NULL), 200);
	ck_assert_int_eq(act(t, id, "{\"action\":\"reply\",\"text\":\"已协调医院\"}", NULL), 200);
	ck_assert_int_eq(act(t, id, "{\"action\":\"revisit\",\"text\":\"满意\",\"satisfied\":true}", NULL),
			 200);
	ck_assert_int_eq(act(t, id, "{\"action\":\"close\"}", NULL), 200);
	ck_assert_int_eq(act(t, id, "{\"action\":\"return\",\"reason\":\"late\"}", NULL), 409);

	char path[64];
	snprintf(path, sizeof path, "/v1/workorders/%lld", id);
	int status;
	json_t *full = request("GET", path, t, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(full, "stage")), "closed");
	ck_assert_int_eq(json_integer_value(json_object_get(full, "extended_count")), 1);
	json_t *history = json_object_get(full, "history");
	ck_assert_int_eq(json_array_size(history), 7); /* intake + 6 actions */
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(history, 2), "action")),
			 "extend");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(history, 2), "actor")),
			 "agent:a1");
	json_decref(full);

	/* A second order is returned, with its reason, and counted. */
	char second[sizeof order_body];
	snprintf(second, sizeof second, "%s", order_body);
	memcpy(strstr(second, "0001"), "0002", 4);
	ck_assert_int_eq(intake("city_12345", CITY_SECRET, second, &order, NULL), 201);
	long long id2 = json_integer_value(json_object_get(order, "id"));
	json_decref(order);
	ck_assert_int_eq(act(t, id2, "{\"action\":\"return\",\"reason\":\"不属于卫健范围\"}", NULL), 200);
	ck_assert_int_eq(count("SELECT returned_count FROM work_orders WHERE external_no = 'NJ-2026-0002'"),
			 1);
	ck_assert_int_eq(count("SELECT count(*) FROM work_order_history WHERE action = 'return'"
			       " AND detail->>'reason' = '不属于卫健范围'"),
			 1);
	free(t);
}
END_TEST

static int64_t wait_delivered(int64_t want, int seconds)
{
	int64_t got = 0;
	for (int i = 0; i < seconds * 10; i++) {
		got = count("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL");
		if (got >= want)
			break;
		usleep(100000);
	}
	return got;
}

START_TEST(test_the_outbox_reaches_the_platform_across_an_outage_and_a_kill_9)
{
	add_agent("a1", "agent");
	char *t = login("a1");
	json_t *order = NULL;
	ck_assert_int_eq(intake("city_12345", CITY_SECRET, order_body, &order, NULL), 201);
	long long id = json_integer_value(json_object_get(order, "id"));
	json_decref(order);

	/* The platform is down: the signature is written, not yet delivered. */
	atomic_store(&platform.failing, 1);
	ck_assert_int_eq(act(t, id, "{\"action\":\"sign\"}", NULL), 200);
	ck_assert_int_eq(count("SELECT count(*) FROM outbox"), 1);
	for (int i = 0; i < 50 && atomic_load(&platform.requests) < 1; i++)
		usleep(100000);
	ck_assert_int_ge(atomic_load(&platform.requests), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND attempts >= 1"),
			 1);

	/* It comes back: delivered, once. */
	atomic_store(&platform.failing, 0);
	ck_assert_int_eq(wait_delivered(1, 15), 1);
	ck_assert_int_eq(platform_distinct_keys(), 1);

	/* A change made while the platform is down, then the broker is killed:
	 * the row survives, and the restarted broker delivers it. */
	atomic_store(&platform.failing, 1);
	ck_assert_int_eq(act(t, id, "{\"action\":\"start\"}", NULL), 200); /* not for the platform */
	ck_assert_int_eq(act(t, id, "{\"action\":\"reply\",\"text\":\"已处理\"}", NULL), 200);
	ck_assert_int_eq(count("SELECT count(*) FROM outbox"), 2);
	ck_assert_int_eq(harness_broker_kill(&broker, SIGKILL), 128 + SIGKILL);
	atomic_store(&platform.failing, 0);
	ck_assert_int_eq(harness_broker_restart(&broker), 0);
	wait_ready();
	ck_assert_int_eq(wait_delivered(2, 20), 2);
	ck_assert_int_eq(platform_distinct_keys(), 2);
	free(t);
}
END_TEST

START_TEST(test_a_clear_number_is_for_supervisors_with_a_reason_and_is_audited)
{
	add_agent("a1", "agent");
	add_agent("boss", "supervisor");
	char *ta = login("a1"), *ts = login("boss");
	json_t *order = NULL;
	ck_assert_int_eq(intake("city_12345", CITY_SECRET, order_body, &order, NULL), 201);
	long long id = json_integer_value(json_object_get(order, "id"));
	json_decref(order);
	char path[128];
	int status;
	snprintf(path, sizeof path, "/v1/workorders/%lld?reveal=phone&reason=callback", id);
	json_decref(request("GET", path, ta, NULL, &status));
	ck_assert_int_eq(status, 403);
	snprintf(path, sizeof path, "/v1/workorders/%lld?reveal=phone", id);
	json_decref(request("GET", path, ts, NULL, &status));
	ck_assert_int_eq(status, 400);
	ck_assert_int_eq(count("SELECT count(*) FROM pii_audit"), 0);
	/* a reason too short (two characters) is refused before anything is read */
	snprintf(path, sizeof path, "/v1/workorders/%lld?reveal=phone&reason=%%E5%%9B%%9E%%E8%%AE%%BF",
		 id);
	json_decref(request("GET", path, ts, NULL, &status));
	ck_assert_int_eq(status, 400);
	snprintf(path, sizeof path,
		 "/v1/workorders/%lld?reveal=phone&reason=%%E5%%9B%%9E%%E8%%AE%%BF%%E6%%A0%%B8%%E5%%AE%%9E",
		 id);
	json_t *j = request("GET", path, ts, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "citizen_phone")), "13812345678");
	json_decref(j);
	ck_assert_int_eq(count("SELECT count(*) FROM pii_audit WHERE actor = 'agent:boss'"
			       " AND reason = '回访核实' AND field = 'citizen_phone'"),
			 1);
	ck_assert_int_ne(harness_pg_exec(db, "UPDATE pii_audit SET reason = 'nothing'"), 0);
	ck_assert_int_ne(harness_pg_exec(db, "DELETE FROM pii_audit"), 0);
	free(ta);
	free(ts);
}
END_TEST

START_TEST(test_tickets_from_calls_and_callbacks_with_notes_replies_and_states)
{
	add_agent("a1", "agent");
	char *t = login("a1");
	/* A crisis caller hangs up: the callback task is a ticket at once. */
	char o[512], ab[256];
	snprintf(o, sizeof o,
		 "{\"event_id\":\"x1-o\",\"type\":\"call.offered\",\"call_id\":\"x1\","
		 "\"centre\":\"nanjing\",\"time\":\"2026-11-30T09:00:00+08:00\","
		 "\"caller\":\"13700000007\",\"dialled\":\"12356\",\"ivr_path\":\"\"}");
	snprintf(ab, sizeof ab,
		 "{\"event_id\":\"x1-a\",\"type\":\"call.abandoned\",\"call_id\":\"x1\","
		 "\"centre\":\"nanjing\",\"time\":\"2026-11-30T09:00:30+08:00\"}");
	struct harness_response r;
	ck_assert_int_eq(harness_http_signed(broker.port, broker.gateway_secret, "POST",
					     "/v1/calls/events", o, &r), 0);
	ck_assert_int_eq(r.status, 200);
	harness_response_free(&r);
	ck_assert_int_eq(harness_http_signed(broker.port, broker.gateway_secret, "POST",
					     "/v1/calls/events", ab, &r), 0);
	ck_assert_int_eq(r.status, 200);
	harness_response_free(&r);
	int64_t n = 0;
	for (int i = 0; i < 50 && n == 0; i++) {
		n = count("SELECT count(*) FROM tickets WHERE kind = 'crisis_callback' AND call_id = 'x1'"
			  " AND caller_masked = '137****0007'");
		if (n == 0)
			usleep(20000);
	}
	ck_assert_int_eq(n, 1);

	int status;
	json_t *tk = request("POST", "/v1/tickets", t,
			     "{\"kind\":\"complaint\",\"call_id\":\"x1\",\"subject\":\"态度问题\"}",
			     &status);
	ck_assert_int_eq(status, 201);
	long long id = json_integer_value(json_object_get(tk, "id"));
	ck_assert_str_eq(json_string_value(json_object_get(tk, "state")), "new");
	ck_assert_str_eq(json_string_value(json_object_get(tk, "caller")), "137****0007");
	json_decref(tk);
	char path[64];
	snprintf(path, sizeof path, "/v1/tickets/%lld/entries", id);
	json_decref(request("POST", path, t, "{\"kind\":\"note\",\"body\":\"内部：已联系科室\"}", &status));
	ck_assert_int_eq(status, 200);
	json_decref(request("POST", path, t, "{\"kind\":\"reply\",\"body\":\"您好，已处理\"}", &status));
	ck_assert_int_eq(status, 200);
	snprintf(path, sizeof path, "/v1/tickets/%lld/state", id);
	json_decref(request("POST", path, t, "{\"state\":\"resolved\"}", &status));
	ck_assert_int_eq(status, 200);
	json_decref(request("POST", path, t, "{\"state\":\"resolved\"}", &status));
	ck_assert_int_eq(status, 409);
	json_decref(request("POST", path, t, "{\"state\":\"closed\"}", &status));
	ck_assert_int_eq(status, 200);
	json_decref(request("POST", path, t, "{\"state\":\"open\"}", &status));
	ck_assert_int_eq(status, 409);

	snprintf(path, sizeof path, "/v1/tickets/%lld", id);
	json_t *full = request("GET", path, t, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(full, "entries")), 5);
	json_decref(full);
	json_t *found = request("GET", "/v1/tickets?caller_call_id=x1", t, NULL, &status);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(found, "tickets")), 2);
	json_decref(found);
	free(t);
}
END_TEST

static Suite *orders_suite(void)
{
	Suite *s = suite_create("orders_live");
	TCase *tc = tcase_create("orders_live");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_intake_is_idempotent_per_platform_and_refuses_conflicts);
	tcase_add_test(tc, test_every_stage_in_order_and_illegal_actions_are_409);
	tcase_add_test(tc, test_the_outbox_reaches_the_platform_across_an_outage_and_a_kill_9);
	tcase_add_test(tc, test_a_clear_number_is_for_supervisors_with_a_reason_and_is_audited);
	tcase_add_test(tc, test_tickets_from_calls_and_callbacks_with_notes_replies_and_states);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (harness_shared_pg() == NULL || harness_shared_redis_port() < 0) {
		fprintf(stderr, "%s\n", harness_error());
		return 77;
	}
	SRunner *sr = srunner_create(orders_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
