/* test_stats.c: hotline-stats against a real PostgreSQL. A fresh database
 * (random name, dropped at the end) gets the migrations and a handful of
 * calls placed on the edges that matter: outcomes that are not accepted calls,
 * the first and last seconds of a local year, several centres with ties, and
 * names that need CSV quoting; and work orders in every stage, due on either
 * side of a day's end. The tests run the built program and check its year
 * export (profile, CSV, JSON), its day export by hour with the work orders
 * due, and compare's exit codes.
 *
 * Needs HOTLINE_TEST_PG: a conninfo to a server where it may create databases
 * (tools/test sets it). Without it the suite fails, loudly, rather than skip.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "db.h"
#include "profile.h"

static char test_db_name[64];
static char *test_conninfo; /* HOTLINE_TEST_PG with dbname replaced */
static char test_dir[256];  /* a scratch folder for exported files */
static pid_t setup_pid;

/* ------------------------------------------------------------------------ */
/* Suite-wide fixture: the database                                          */
/* ------------------------------------------------------------------------ */

/* HOTLINE_TEST_PG with dbname set to name, as a key='value' conninfo. */
static char *conninfo_with_dbname(const char *base, const char *name)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(base, &err);
	size_t cap = 1024, len = 0;
	char *out;

	if (opts == NULL) {
		fprintf(stderr, "test_stats: HOTLINE_TEST_PG is not a conninfo: %s\n",
			err ? err : "unknown error");
		PQfreemem(err);
		return NULL;
	}
	out = malloc(cap);
	if (out == NULL)
		goto out;
	out[0] = '\0';
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		const char *val = strcmp(o->keyword, "dbname") == 0 ? NULL : o->val;
		if (val == NULL || *val == '\0')
			continue;
		size_t need = len + strlen(o->keyword) + 2 * strlen(val) + 8;
		if (need > cap) {
			cap = need * 2;
			char *grown = realloc(out, cap);
			if (grown == NULL) {
				free(out);
				out = NULL;
				goto out;
			}
			out = grown;
		}
		len += (size_t)sprintf(out + len, "%s='", o->keyword);
		for (const char *c = val; *c; c++) {
			if (*c == '\'' || *c == '\\')
				out[len++] = '\\';
			out[len++] = *c;
		}
		out[len++] = '\'';
		out[len++] = ' ';
		out[len] = '\0';
	}
	char *full = NULL;
	if (asprintf(&full, "%sdbname='%s'", out, name) < 0)
		full = NULL;
	free(out);
	out = full;
out:
	PQconninfoFree(opts);
	return out;
}

static int admin_exec(const char *sql)
{
	char err[1024];
	PGconn *conn = db_connect(getenv("HOTLINE_TEST_PG"), NULL, err, sizeof err);
	if (conn == NULL) {
		fprintf(stderr, "test_stats: %s\n", err);
		return -1;
	}
	PGresult *r = db_exec(conn, sql, 0, NULL, err, sizeof err);
	if (r == NULL)
		fprintf(stderr, "test_stats: %s: %s\n", sql, err);
	PQclear(r);
	PQfinish(conn);
	return r == NULL ? -1 : 0;
}

static void drop_test_database(void)
{
	char sql[160];

	/* Only the process that created it; forked tests leave it alone. */
	if (test_db_name[0] == '\0' || getpid() != setup_pid)
		return;
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", test_db_name);
	if (admin_exec(sql) == 0)
		test_db_name[0] = '\0';
	if (test_dir[0] != '\0') {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "test_stats: could not remove %s\n", test_dir);
		test_dir[0] = '\0';
	}
}

static int insert_centre(PGconn *conn, const char *code, const char *name, const char *province)
{
	char err[1024];
	const char *params[3] = {code, name, province};
	PGresult *r = db_exec(conn, "INSERT INTO centres (code, name, province) VALUES ($1, $2, $3)",
			      3, params, err, sizeof err);
	if (r == NULL) {
		fprintf(stderr, "test_stats: inserting centre %s: %s\n", code, err);
		return -1;
	}
	PQclear(r);
	return 0;
}

/* One call: outcome NULL means still in progress (queued). */
static int insert_call(PGconn *conn, const char *centre, const char *category,
		       const char *offered_at, const char *outcome)
{
	static int seq;
	char err[1024], call_id[32];
	const char *state = outcome == NULL		      ? "queued"
			    : strcmp(outcome, "abandoned") == 0 ? "abandoned"
								: "ended";

	snprintf(call_id, sizeof call_id, "t-%06d", ++seq);
	const char *params[6] = {centre, call_id, state, category, offered_at, outcome};
	PGresult *r = db_exec(conn,
			      "INSERT INTO calls (centre, call_id, state, category, queue, priority,"
			      " rule, caller_hash, caller_masked, dialled, ivr_path, offered_at,"
			      " ended_at, outcome)"
			      " VALUES ($1, $2, $3, $4, 'general', 5, 'test', '\\x00'::bytea,"
			      " '138****0000', '12320', '', $5::timestamptz,"
			      " CASE WHEN $6::text IS NULL THEN NULL ELSE $5::timestamptz END, $6)",
			      6, params, err, sizeof err);
	if (r == NULL) {
		fprintf(stderr, "test_stats: inserting a call at %s: %s\n", offered_at, err);
		return -1;
	}
	PQclear(r);
	return 0;
}

struct call_row {
	const char *centre, *category, *offered_at, *outcome;
};

/* The data every test reads. In Asia/Shanghai, centre edge accepted 8 calls
 * in 2019: consultation 3, booking 2, ivr_self_service 1, complaint 1 (the
 * year's last minute), crisis 1 (its first second). */
static const struct call_row calls_fixture[] = {
	{"edge", "consultation", "2019-03-04T09:15:00+08:00", "handled"},
	{"edge", "consultation", "2019-03-04T09:40:00+08:00", "handled"},
	{"edge", "consultation", "2019-06-01T10:00:00+08:00", "handled"},
	{"edge", "booking", "2019-03-04T14:05:00+08:00", "handled"},
	{"edge", "booking", "2019-03-04T00:30:00+08:00", "handled"},
	{"edge", "ivr_self_service", "2019-03-03T23:59:59+08:00", "self_service"},
	{"edge", "complaint", "2019-12-31T23:59:30+08:00", "handled"},
	{"edge", "crisis", "2019-01-01T00:00:00+08:00", "handled"},
	/* Not accepted calls. */
	{"edge", "consultation", "2019-03-04T09:50:00+08:00", "abandoned"},
	{"edge", "consultation", "2019-07-01T08:00:00+08:00", "abandoned"},
	{"edge", "booking", "2019-03-04T11:00:00+08:00", NULL},
	/* Outside the local year 2019 (inside it in UTC for the first). */
	{"edge", "consultation", "2020-01-01T00:00:10+08:00", "handled"},
	{"edge", "consultation", "2018-12-31T23:59:59+08:00", "handled"},
	/* Other centres: river 3, alpha 1, one 1 (alpha before one: a tie, by code). */
	{"river", "consultation", "2019-03-04T09:05:00+08:00", "handled"},
	{"river", "booking", "2019-05-05T10:00:00+08:00", "handled"},
	{"river", "other", "2019-05-06T10:00:00+08:00", "handled"},
	{"river", "booking", "2019-05-07T10:00:00+08:00", "abandoned"},
	{"one", "other", "2019-08-08T08:08:08+08:00", "handled"},
	{"alpha", "survey", "2019-09-09T09:09:09+08:00", "handled"},
};

/* One work order, inserted as the broker would have left it. sign_due and
 * reply_due as RFC 3339; received_at a day before the sign_due. */
struct order_row {
	const char *centre, *source, *external_no, *stage, *category;
	bool urgent;
	const char *received_at, *sign_due, *reply_due;
};

/* As of the end of 2019-03-04 in Asia/Shanghai (2019-03-05T00:00:00+08:00),
 * with the default 24 yellow hours: overdue are o-sign-late (received, its
 * sign_due passed though its reply_due is far), o-reply-late and
 * o-at-midnight (due at that very moment); near due are o-near (due in 6
 * hours), o-yellow-edge (due in exactly 24 hours) and river's o-river-near;
 * not listed are o-on-time (due in 25 hours), o-signed-ok (signed: its
 * sign_due passed but its reply_due is days away), the closed and returned
 * ones, and o-later (received after the day). Two more closed orders lie on
 * the edges of the local year: the year export counts edge's 2019 orders
 * as city_12345 8 and province_12345 2 in Asia/Shanghai, and city_12345 9
 * in UTC (where o-2020 is received in 2019; o-2018 is 2018 in both). */
static const struct order_row orders_fixture[] = {
	{"edge", "city_12345", "o-sign-late", "received", "complaint", false,
	 "2019-03-01T10:00:00+08:00", "2019-03-04T00:00:00+08:00", "2019-03-12T00:00:00+08:00"},
	{"edge", "province_12345", "o-reply-late", "in_progress", "consultation", false,
	 "2019-02-25T10:00:00+08:00", "2019-02-26T00:00:00+08:00", "2019-03-04T12:00:00+08:00"},
	{"edge", "city_12345", "o-at-midnight", "signed", "complaint", true,
	 "2019-03-04T01:00:00+08:00", "2019-03-04T03:00:00+08:00", "2019-03-05T00:00:00+08:00"},
	{"edge", "city_12345", "o-near", "replied", "complaint", false, "2019-03-01T10:00:00+08:00",
	 "2019-03-02T00:00:00+08:00", "2019-03-05T06:00:00+08:00"},
	{"edge", "city_12345", "o-yellow-edge", "revisited", "complaint", false,
	 "2019-03-01T10:00:00+08:00", "2019-03-02T00:00:00+08:00", "2019-03-06T00:00:00+08:00"},
	{"edge", "city_12345", "o-on-time", "in_progress", "complaint", false,
	 "2019-03-01T10:00:00+08:00", "2019-03-02T00:00:00+08:00", "2019-03-06T01:00:00+08:00"},
	{"edge", "city_12345", "o-signed-ok", "signed", "complaint", false,
	 "2019-03-03T10:00:00+08:00", "2019-03-04T00:00:00+08:00", "2019-03-12T00:00:00+08:00"},
	{"edge", "city_12345", "o-closed", "closed", "complaint", false,
	 "2019-02-01T10:00:00+08:00", "2019-02-02T00:00:00+08:00", "2019-02-05T00:00:00+08:00"},
	{"edge", "province_12345", "o-returned", "returned", "complaint", false,
	 "2019-02-01T10:00:00+08:00", "2019-02-02T00:00:00+08:00", "2019-02-05T00:00:00+08:00"},
	{"edge", "city_12345", "o-later", "received", "complaint", false,
	 "2019-03-05T08:00:00+08:00", "2019-03-05T09:00:00+08:00", "2019-03-05T10:00:00+08:00"},
	{"river", "city_12345", "o-river-near", "received", "complaint", false,
	 "2019-03-04T10:00:00+08:00", "2019-03-05T12:00:00+08:00", "2019-03-09T00:00:00+08:00"},
	{"edge", "city_12345", "o-2018", "closed", "complaint", false, "2018-12-31T23:59:59+08:00",
	 "2019-01-02T00:00:00+08:00", "2019-01-08T00:00:00+08:00"},
	{"edge", "city_12345", "o-2020", "closed", "complaint", false, "2020-01-01T00:00:00+08:00",
	 "2020-01-03T00:00:00+08:00", "2020-01-09T00:00:00+08:00"},
};

static int insert_order(PGconn *conn, const struct order_row *o)
{
	char err[1024];
	const char *params[9] = {o->centre,      o->source,   o->external_no,
				 o->stage,       o->category, o->urgent ? "true" : "false",
				 o->received_at, o->sign_due, o->reply_due};
	PGresult *r =
		db_exec(conn,
			"INSERT INTO work_orders (centre, source, external_no, payload_sha256,"
			" category, urgent, title, content, stage, received_at, sign_due,"
			" reply_due)"
			" VALUES ($1, $2, $3, '\\x00'::bytea, $5, $6::boolean, '标题', '内容',"
			" $4, $7::timestamptz, $8::timestamptz, $9::timestamptz)",
			9, params, err, sizeof err);
	if (r == NULL) {
		fprintf(stderr, "test_stats: inserting work order %s: %s\n", o->external_no, err);
		return -1;
	}
	PQclear(r);
	return 0;
}


/* Bookings, KPI calls, agents' time and a staffing history, as SQL the
 * broker and the booking import would have left:
 *  - edge's reference data: three hospitals (one with no booking: listed
 *    with 0), three platforms (one unused), and bookings of 2019 ranked
 *    h-gulou 4 (online 1, phone 1, clinic 1, third_party 1), h-child 2
 *    (online 2), plus one of 2018 and one of 2020 outside the year;
 *    platforms: p-app 2, p-wechat 1, one online booking without platform;
 *  - centre kpi, in 2021 (outside every 2019 table): one 2021-06-07 with
 *    answered waits of 10 s and 30 s (talk 100 s and 200 s, wrap-up 20 s
 *    on the first), abandons after 3 s (short), 15 s and 40 s; agent k1
 *    ready 09:00, on a call 09:10, wrap-up 09:20, ready 09:25, logged out
 *    10:00 (busy 15 of 60 minutes logged in: 25%);
 *  - staffing history for centre kpi: 100 calls between 09:00 and 09:30 on
 *    each of the four Mondays before 2021-06-07, answered at once, talk
 *    180 s: the published Erlang C vector. */
static const char *const extra_fixture[] = {
	"INSERT INTO centres (code, name, province) VALUES ('kpi', 'KPI', '测试省')",
	"INSERT INTO hospitals (centre, code, name) VALUES ('edge', 'h-gulou', '鼓楼, \"Gulou\"'),"
	" ('edge', 'h-child', '儿童医院'), ('edge', 'h-idle', '无预约医院')",
	"INSERT INTO departments (centre, hospital, code, name) VALUES"
	" ('edge', 'h-gulou', 'internal', '内科'), ('edge', 'h-child', 'paediatrics', '儿科'),"
	" ('edge', 'h-idle', 'internal', '内科')",
	/* river's hospital and platform share edge's codes: counted apart. */
	"INSERT INTO hospitals (centre, code, name) VALUES ('river', 'h-gulou', '河西医院')",
	"INSERT INTO departments (centre, hospital, code, name) VALUES"
	" ('river', 'h-gulou', 'internal', '内科')",
	"INSERT INTO booking_platforms (centre, code, name) VALUES ('river', 'p-app', '河西App')",
	"INSERT INTO bookings (centre, source, booking_no, hospital, department, visit_date, channel,"
	" platform, call_id, booked_at, payload_sha256) VALUES"
	" ('river', 'online_12320', 'r1', 'h-gulou', 'internal', '2019-03-05', 'online_12320',"
	"  'p-app', NULL, '2019-03-04T12:00:00+08:00', sha256('r1'::bytea))",
	"INSERT INTO booking_platforms (centre, code, name) VALUES ('edge', 'p-app', '健康App'),"
	" ('edge', 'p-wechat', '微信'), ('edge', 'p-web', '网站')",
	"INSERT INTO bookings (centre, source, booking_no, hospital, department, visit_date, channel,"
	" platform, call_id, booked_at, payload_sha256) VALUES"
	" ('edge', 'online_12320', 'b1', 'h-gulou', 'internal', '2019-03-05', 'online_12320',"
	"  'p-app', NULL, '2019-03-04T10:00:00+08:00', sha256('b1'::bytea)),"
	" ('edge', 'agent', 'b2', 'h-gulou', 'internal', '2019-03-06', 'phone', NULL, 't-000004',"
	"  '2019-03-04T14:06:00+08:00', sha256('b2'::bytea)),"
	" ('edge', 'clinic', 'b3', 'h-gulou', 'internal', '2019-05-06', 'clinic', NULL, NULL,"
	"  '2019-05-05T09:00:00+08:00', sha256('b3'::bytea)),"
	" ('edge', 'third_party', 'b4', 'h-gulou', 'internal', '2019-07-02', 'third_party',"
	"  'p-wechat', NULL, '2019-07-01T09:00:00+08:00', sha256('b4'::bytea)),"
	" ('edge', 'online_12320', 'b5', 'h-child', 'paediatrics', '2019-03-05', 'online_12320',"
	"  'p-app', NULL, '2019-03-04T11:00:00+08:00', sha256('b5'::bytea)),"
	" ('edge', 'online_12320', 'b6', 'h-child', 'paediatrics', '2019-12-31', 'online_12320',"
	"  NULL, NULL, '2019-12-31T23:59:00+08:00', sha256('b6'::bytea)),"
	" ('edge', 'online_12320', 'b7', 'h-child', 'paediatrics', '2019-01-02', 'online_12320',"
	"  NULL, NULL, '2018-12-31T23:59:00+08:00', sha256('b7'::bytea)),"
	" ('edge', 'online_12320', 'b8', 'h-idle', 'internal', '2020-01-02', 'online_12320',"
	"  NULL, NULL, '2020-01-01T00:00:00+08:00', sha256('b8'::bytea))",
	"INSERT INTO calls (centre, call_id, state, category, queue, priority, rule, caller_hash,"
	" caller_masked, dialled, ivr_path, agent, offered_at, answered_at, ended_at, outcome,"
	" wrap_up_us) VALUES"
	" ('kpi', 'k-a1', 'ended', 'consultation', 'general', 5, 't', '\\x00', 'x', '12320', '',"
	"  'k1', '2021-06-07T09:10:00+08:00', '2021-06-07T09:10:10+08:00',"
	"  '2021-06-07T09:11:50+08:00', 'handled', 20000000),"
	" ('kpi', 'k-a2', 'ended', 'consultation', 'general', 5, 't', '\\x00', 'x', '12320', '',"
	"  'k1', '2021-06-07T09:30:00+08:00', '2021-06-07T09:30:30+08:00',"
	"  '2021-06-07T09:33:50+08:00', 'handled', NULL),"
	" ('kpi', 'k-s', 'abandoned', 'consultation', 'general', 5, 't', '\\x00', 'x', '12320', '',"
	"  NULL, '2021-06-07T09:40:00+08:00', NULL, '2021-06-07T09:40:03+08:00', 'abandoned', NULL),"
	" ('kpi', 'k-b1', 'abandoned', 'consultation', 'general', 5, 't', '\\x00', 'x', '12320', '',"
	"  NULL, '2021-06-07T09:41:00+08:00', NULL, '2021-06-07T09:41:15+08:00', 'abandoned', NULL),"
	" ('kpi', 'k-b2', 'abandoned', 'consultation', 'general', 5, 't', '\\x00', 'x', '12320', '',"
	"  NULL, '2021-06-07T09:42:00+08:00', NULL, '2021-06-07T09:42:40+08:00', 'abandoned', NULL)",
	"INSERT INTO agents (centre, agent_id, name, extension, password_hash) VALUES"
	" ('kpi', 'k1', 'Agent K', '801', '$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA')",
	"INSERT INTO agent_state_log (centre, agent_id, state, reason, at) VALUES"
	" ('kpi', 'k1', 'ready', NULL, '2021-06-07T09:00:00+08:00')",
	"INSERT INTO agent_state_log (centre, agent_id, state, reason, at) VALUES"
	" ('kpi', 'k1', 'on_call', NULL, '2021-06-07T09:10:00+08:00')",
	"INSERT INTO agent_state_log (centre, agent_id, state, reason, at) VALUES"
	" ('kpi', 'k1', 'wrap_up', NULL, '2021-06-07T09:20:00+08:00'),"
	" ('kpi', 'k1', 'ready', NULL, '2021-06-07T09:25:00+08:00')",
	"INSERT INTO agent_state_log (centre, agent_id, state, reason, at) VALUES"
	" ('kpi', 'k1', 'logged_out', NULL, '2021-06-07T10:00:00+08:00')",
	/* k2: ready 09:30 to 10:30 (half in each hour), on a call to 10:45. */
	"INSERT INTO agents (centre, agent_id, name, extension, password_hash) VALUES"
	" ('kpi', 'k2', 'Agent L', '802', '$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA')",
	"INSERT INTO agent_state_log (centre, agent_id, state, reason, at) VALUES"
	" ('kpi', 'k2', 'ready', NULL, '2021-06-07T09:30:00+08:00')",
	"INSERT INTO agent_state_log (centre, agent_id, state, reason, at) VALUES"
	" ('kpi', 'k2', 'on_call', NULL, '2021-06-07T10:30:00+08:00')",
	"INSERT INTO agent_state_log (centre, agent_id, state, reason, at) VALUES"
	" ('kpi', 'k2', 'logged_out', NULL, '2021-06-07T10:45:00+08:00')",
	"INSERT INTO calls (centre, call_id, state, category, queue, priority, rule, caller_hash,"
	" caller_masked, dialled, ivr_path, agent, offered_at, answered_at, ended_at, outcome)"
	" SELECT 'kpi', 'h-' || w || '-' || i, 'ended', 'booking', 'booking', 5, 't', '\\x00', 'x',"
	" '12320', '', 'k1', t, t, t + interval '180 seconds', 'handled'"
	" FROM generate_series(1, 4) w, generate_series(0, 99) i,"
	" LATERAL (SELECT timestamptz '2021-06-07T09:00:00+08:00' - w * interval '7 days'"
	"   + i * interval '17 seconds' AS t) x",
};

static int setup_database(void)
{
	const char *base = getenv("HOTLINE_TEST_PG");
	const char *src = getenv("HOTLINE_SOURCE_DIR");
	char sql[160], err[1024], sql_dir[1024];
	PGconn *conn;
	int rc = -1;

	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	snprintf(test_db_name, sizeof test_db_name, "hotline_stats_%ld_%08x", (long)getpid(),
		 (unsigned)rand());
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", test_db_name);
	if (admin_exec(sql) != 0) {
		test_db_name[0] = '\0';
		return -1;
	}
	test_conninfo = conninfo_with_dbname(base, test_db_name);
	if (test_conninfo == NULL)
		return -1;
	conn = db_connect(test_conninfo, NULL, err, sizeof err);
	if (conn == NULL) {
		fprintf(stderr, "test_stats: %s\n", err);
		return -1;
	}
	snprintf(sql_dir, sizeof sql_dir, "%s/sql", src);
	if (db_migrate(conn, sql_dir, NULL, err, sizeof err) < 0) {
		fprintf(stderr, "test_stats: migrating: %s\n", err);
		goto out;
	}
	if (insert_centre(conn, "edge", "Edge, \"Test\" 中心", "测试省") != 0 ||
	    insert_centre(conn, "river", "River \"North\", 北", "测试省") != 0 ||
	    insert_centre(conn, "one", "Single, call", "测试省") != 0 ||
	    insert_centre(conn, "alpha", "Alpha", "测试省") != 0 ||
	    insert_centre(conn, "idle", "Idle", "测试省") != 0)
		goto out;
	for (size_t i = 0; i < sizeof calls_fixture / sizeof *calls_fixture; i++) {
		const struct call_row *c = &calls_fixture[i];
		if (insert_call(conn, c->centre, c->category, c->offered_at, c->outcome) != 0)
			goto out;
	}
	for (size_t i = 0; i < sizeof orders_fixture / sizeof *orders_fixture; i++)
		if (insert_order(conn, &orders_fixture[i]) != 0)
			goto out;
	for (size_t i = 0; i < sizeof extra_fixture / sizeof *extra_fixture; i++) {
		PGresult *r = db_exec(conn, extra_fixture[i], 0, NULL, err, sizeof err);
		if (r == NULL) {
			fprintf(stderr, "test_stats: fixture %zu: %s\n", i, err);
			goto out;
		}
		PQclear(r);
	}
	rc = 0;
out:
	PQfinish(conn);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Running the program                                                       */
/* ------------------------------------------------------------------------ */

/* Runs hotline-stats with args (NULL-terminated, without argv[0]); its
 * standard output is returned in *out (may be NULL), its standard error goes
 * to the test log. Returns the exit status, or -1 if it did not exit. */
static int run_stats(const char *const *args, char **out)
{
	const char *bin = getenv("HOTLINE_STATS_BIN");
	const char *argv[32];
	int fds[2];
	size_t n = 0;

	ck_assert_msg(bin != NULL, "HOTLINE_STATS_BIN is not set (tests/meson.build sets it)");
	argv[n++] = bin;
	for (size_t i = 0; args[i] != NULL && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		ssize_t got = read(fds[0], buf + len, cap - len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	close(fds[0]);
	buf[len] = '\0';
	int status;
	while (waitpid(pid, &status, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	if (out != NULL)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void scratch_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", test_dir, name);
}

/* Exports the year as a profile file and loads it (the loader validates it). */
static struct profile *export_year(const char *zone, const char *centre, const char *file)
{
	char path[512], err[1024];
	struct profile *p = NULL;

	scratch_path(path, sizeof path, file);
	const char *args[] = {"--db", test_conninfo, "--tz", zone, "year", "--year", "2019",
			      "--centre", centre, "--out", path, NULL};
	ck_assert_int_eq(run_stats(args, NULL), 0);
	ck_assert_msg(profile_load_file(path, &p, err, sizeof err) == 0, "%s", err);
	return p;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	char *buf = malloc(1 << 20);
	ck_assert_ptr_nonnull(buf);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* year                                                                      */
/* ------------------------------------------------------------------------ */

START_TEST(test_year_counts_accepted_calls_by_category)
{
	struct profile *p = export_year("Asia/Shanghai", "edge", "edge-2019.yaml");

	ck_assert_str_eq(p->profile, "edge-2019");
	ck_assert_int_eq(p->year, 2019);
	ck_assert_str_eq(p->centre_code, "edge");
	ck_assert_str_eq(p->centre_name, "Edge, \"Test\" 中心");
	ck_assert_int_eq(p->calls_by_category[CATEGORY_CONSULTATION], 3);
	ck_assert_int_eq(p->calls_by_category[CATEGORY_BOOKING], 2);
	ck_assert_int_eq(p->calls_by_category[CATEGORY_IVR_SELF_SERVICE], 1);
	ck_assert_int_eq(p->calls_by_category[CATEGORY_COMPLAINT], 1);
	ck_assert_int_eq(p->calls_by_category[CATEGORY_CRISIS], 1);
	ck_assert_int_eq(p->calls_by_category[CATEGORY_SURVEY], 0);
	ck_assert_int_eq(p->calls_total, 8);
	ck_assert_int_eq(p->work_orders_city, 8);
	ck_assert_int_eq(p->work_orders_province, 2);
	/* Its hospitals are loaded: the bookings table is there (see below). */
	ck_assert(p->has_bookings);
	profile_free(p);
}
END_TEST

START_TEST(test_year_boundaries_follow_the_time_zone)
{
	/* In UTC the call at 2020-01-01T00:00:10+08:00 is still 2019 and the one at
	 * 2019-01-01T00:00:00+08:00 is 2018: consultation 4, crisis 0. */
	struct profile *p = export_year("UTC", "edge", "edge-2019-utc.yaml");

	ck_assert_int_eq(p->calls_by_category[CATEGORY_CONSULTATION], 4);
	ck_assert_int_eq(p->calls_by_category[CATEGORY_CRISIS], 0);
	ck_assert_int_eq(p->calls_by_category[CATEGORY_COMPLAINT], 1);
	ck_assert_int_eq(p->calls_total, 8);
	ck_assert_int_eq(p->work_orders_city, 9);
	ck_assert_int_eq(p->work_orders_province, 2);
	profile_free(p);
}
END_TEST

START_TEST(test_year_province_lists_centres_by_calls_then_code)
{
	struct profile *p = export_year("Asia/Shanghai", "edge", "edge-2019-province.yaml");
	static const char *const codes[] = {"edge", "river", "alpha", "one"};
	static const int64_t calls[] = {8, 3, 1, 1};

	ck_assert(p->has_province);
	ck_assert_str_eq(p->province_name, "测试省");
	ck_assert_uint_eq(p->n_centres, 4); /* idle had no calls */
	for (size_t i = 0; i < 4; i++) {
		ck_assert_str_eq(p->centres[i].code, codes[i]);
		ck_assert_int_eq(p->centres[i].calls, calls[i]);
	}
	ck_assert_str_eq(p->centres[1].name, "River \"North\", 北");
	ck_assert_int_eq(p->province_total, 13);
	profile_free(p);

	/* A centre without calls still appears in its own export. */
	p = export_year("Asia/Shanghai", "idle", "idle-2019.yaml");
	ck_assert_int_eq(p->calls_total, 0);
	ck_assert_uint_eq(p->n_centres, 5);
	ck_assert_str_eq(p->centres[4].code, "idle");
	ck_assert_int_eq(p->centres[4].calls, 0);
	profile_free(p);
}
END_TEST

START_TEST(test_year_profile_states_its_definitions_in_a_comment)
{
	char path[512];
	scratch_path(path, sizeof path, "edge-2019-definitions.yaml");
	const char *args[] = {"--db", test_conninfo, "year", "--year", "2019", "--centre", "edge",
			      "--out", path, NULL};
	ck_assert_int_eq(run_stats(args, NULL), 0);
	char *text = read_file(path);
	ck_assert_msg(text[0] == '#', "%s", text);
	ck_assert_ptr_nonnull(strstr(text, "handled"));
	ck_assert_ptr_nonnull(strstr(text, "self_service"));
	ck_assert_ptr_nonnull(strstr(text, "abandoned calls and calls still in progress are not"));
	ck_assert_ptr_nonnull(strstr(text, "Asia/Shanghai"));
	ck_assert_ptr_nonnull(strstr(text, "\nschema: hotline-year-profile/1\n"));
	free(text);
}
END_TEST

START_TEST(test_year_csv_quotes_names)
{
	char *out = NULL;
	const char *args[] = {"--db", test_conninfo, "year", "--year", "2019", "--centre", "edge",
			      "--format", "csv", NULL};

	ck_assert_int_eq(run_stats(args, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "\n类别,受理量,占比\n咨询,3,37.50%\n投诉,1,12.50%\n"
					  "预约挂号,2,25.00%\n专家答疑,0,0.00%\n心理危机干预,1,12.50%\n"
					  "满意度调查,0,0.00%\n自助语音,1,12.50%\n其他,0,0.00%\n"
					  "合计,8,100.00%\n"));
	ck_assert_ptr_nonnull(
		strstr(out, "\n来源,工单数,占比\n市12345,8,80.00%\n省12345,2,20.00%\n合计,10,100.00%\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n排名,中心,接听人次,占比\n"
					  "1,\"Edge, \"\"Test\"\" 中心\",8,61.54%\n"
					  "2,\"River \"\"North\"\", 北\",3,23.08%\n"
					  "3,Alpha,1,7.69%\n"
					  "4,\"Single, call\",1,7.69%\n"
					  ",合计,13,100.00%\n"));
	ck_assert_msg(strncmp(out, "# ", 2) == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "self_service"));
	free(out);
}
END_TEST

START_TEST(test_year_json_carries_definitions)
{
	char *out = NULL;
	json_error_t jerr;
	const char *args[] = {"--db", test_conninfo, "year", "--year", "2019", "--centre", "edge",
			      "--format", "json", NULL};

	ck_assert_int_eq(run_stats(args, &out), 0);
	json_t *root = json_loads(out, 0, &jerr);
	ck_assert_msg(root != NULL, "%s: %s", jerr.text, out);
	json_t *calls = json_object_get(root, "calls");
	ck_assert_int_eq(json_integer_value(json_object_get(calls, "total")), 8);
	ck_assert_int_eq(
		json_integer_value(json_object_get(json_object_get(calls, "by_category"), "booking")),
		2);
	json_t *definitions = json_object_get(root, "definitions");
	ck_assert_ptr_nonnull(definitions);
	ck_assert_str_eq(json_string_value(json_object_get(definitions, "time_zone")),
			 "Asia/Shanghai");
	json_t *outcomes = json_object_get(definitions, "accepted_outcomes");
	ck_assert_uint_eq(json_array_size(outcomes), 2);
	ck_assert_str_eq(json_string_value(json_array_get(outcomes, 0)), "handled");
	ck_assert_str_eq(json_string_value(json_array_get(outcomes, 1)), "self_service");
	json_decref(root);
	free(out);
}
END_TEST

START_TEST(test_year_refuses_an_unknown_centre)
{
	const char *args[] = {"--db", test_conninfo, "year", "--year", "2019", "--centre", "nosuch",
			      NULL};
	ck_assert_int_eq(run_stats(args, NULL), 2);
	const char *bad_year[] = {"--db", test_conninfo, "year", "--year", "19", "--centre",
				  "edge", NULL};
	ck_assert_int_eq(run_stats(bad_year, NULL), 2);
	const char *bad_zone[] = {"--db", test_conninfo, "--tz", "Mars/Olympus", "year", "--year",
				  "2019", "--centre", "edge", NULL};
	ck_assert_int_eq(run_stats(bad_zone, NULL), 2);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* day                                                                       */
/* ------------------------------------------------------------------------ */

START_TEST(test_day_counts_by_local_hour)
{
	char *out = NULL;
	const char *args[] = {"--db", test_conninfo, "day", "--date", "2019-03-04", "--centre",
			      "edge", "--format", "csv", NULL};

	ck_assert_int_eq(run_stats(args, &out), 0);
	/* consultation 09:15 and 09:40; booking 00:30 and 14:05; the 23:59:59 call of
	 * the day before, the abandoned 09:50 and the queued 11:00 do not count. */
	ck_assert_ptr_nonnull(strstr(out, "\n类别,受理量,占比\n咨询,2,50.00%\n投诉,0,0.00%\n"
					  "预约挂号,2,50.00%\n专家答疑,0,0.00%\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n时段,咨询,投诉,预约挂号,专家答疑,心理危机干预,"
					  "满意度调查,自助语音,其他,合计\n00:00,0,0,1,0,0,0,0,0,1\n"
					  "01:00,0,0,0,0,0,0,0,0,0\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n09:00,2,0,0,0,0,0,0,0,2\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n11:00,0,0,0,0,0,0,0,0,0\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n14:00,0,0,1,0,0,0,0,0,1\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n23:00,0,0,0,0,0,0,0,0,0\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n合计,2,0,2,0,0,0,0,0,4\n"));
	/* The KPIs: the fixture's handled calls carry no answer time, so none
	 * was answered in a queue; the 09:50 caller hung up at once, a short
	 * abandon under the default 5 s. */
	ck_assert_ptr_nonnull(strstr(out, "\n# kpi_by_category: "));
	ck_assert_ptr_nonnull(strstr(out, "\n合计,4,0,0,0,1,,,,\n"));
	free(out);

	/* All centres, as JSON: river's 09:05 call joins hour 9. */
	const char *all[] = {"--db", test_conninfo, "day", "--date", "2019-03-04", "--format",
			     "json", NULL};
	json_error_t jerr;
	ck_assert_int_eq(run_stats(all, &out), 0);
	json_t *root = json_loads(out, 0, &jerr);
	ck_assert_msg(root != NULL, "%s: %s", jerr.text, out);
	ck_assert_int_eq(json_integer_value(json_object_get(root, "accepted")), 5);
	ck_assert_int_eq(json_integer_value(json_object_get(root, "abandoned")), 1);
	json_t *hours = json_object_get(root, "by_hour");
	ck_assert_uint_eq(json_array_size(hours), 24);
	json_t *nine = json_array_get(hours, 9);
	ck_assert_int_eq(json_integer_value(json_object_get(nine, "hour")), 9);
	ck_assert_int_eq(json_integer_value(
				 json_object_get(json_object_get(nine, "by_category"), "consultation")),
			 3);
	ck_assert_ptr_nonnull(json_object_get(root, "definitions"));
	json_decref(root);
	free(out);

	/* Text, in UTC: the 00:30 Shanghai booking belongs to 2019-03-03 there. */
	const char *text[] = {"--db", test_conninfo, "--tz", "UTC", "day", "--date", "2019-03-04",
			      "--centre", "edge", NULL};
	ck_assert_int_eq(run_stats(text, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "abandoned calls: 1\n"));
	ck_assert_ptr_nonnull(strstr(out, "UTC"));
	ck_assert_ptr_nonnull(strstr(out, "\n01    "));
	/* 09:15 and 09:40 +08:00 are 01:15 and 01:40 UTC. */
	char *row = strstr(out, "\n01    ");
	ck_assert_int_eq(atoi(row + 7), 2);
	free(out);
}
END_TEST

/* The listing as of the end of 2019-03-04, Shanghai time (see orders_fixture). */
static const char due_header[] = "\n编号,中心,来源,工单号,阶段,类别,紧急,到期,状态,距到期（分钟）\n";
static const char due_rows[] =
	"1,edge,city_12345,o-sign-late,received,complaint,否,2019-03-04T00:00:00+08:00,"
	"overdue,-1440\n"
	"2,edge,province_12345,o-reply-late,in_progress,consultation,否,"
	"2019-03-04T12:00:00+08:00,overdue,-720\n"
	"3,edge,city_12345,o-at-midnight,signed,complaint,是,2019-03-05T00:00:00+08:00,"
	"overdue,0\n"
	"4,edge,city_12345,o-near,replied,complaint,否,2019-03-05T06:00:00+08:00,"
	"near_due,360\n"
	"5,edge,city_12345,o-yellow-edge,revisited,complaint,否,2019-03-06T00:00:00+08:00,"
	"near_due,1440\n";

START_TEST(test_day_lists_the_work_orders_due_at_its_end)
{
	char *out = NULL, expected[2048];
	const char *args[] = {"--db",     test_conninfo, "day",      "--date", "2019-03-04",
			      "--centre", "edge",        "--format", "csv",    NULL};

	ck_assert_int_eq(run_stats(args, &out), 0);
	ck_assert_msg(strstr(out, "\n# as of 2019-03-05T00:00:00+08:00: 7 open, 3 overdue, 2 near "
				  "due (within 24 hours of due)\n") != NULL,
		      "%.2000s", out);
	/* Due first, and nothing after: o-on-time (25 hours), o-signed-ok (its
	 * reply is due), closed, returned and later orders are not listed. */
	snprintf(expected, sizeof expected, "%s%s", due_header, due_rows);
	size_t n = strlen(out), m = strlen(expected);
	ck_assert_msg(n >= m && strcmp(out + n - m, expected) == 0, "%.2000s", out + n - m);
	ck_assert(strstr(out, "sign_due while its stage is received, else reply_due") != NULL);
	free(out);

	/* All centres, as JSON: river's order, due at noon, joins the near due. */
	const char *all[] = {"--db",       test_conninfo, "day",  "--date",
			     "2019-03-04", "--format",    "json", NULL};
	json_error_t jerr;
	ck_assert_int_eq(run_stats(all, &out), 0);
	json_t *root = json_loads(out, 0, &jerr);
	ck_assert_msg(root != NULL, "%s: %s", jerr.text, out);
	json_t *due = json_object_get(root, "work_orders_due");
	ck_assert_str_eq(json_string_value(json_object_get(due, "as_of")),
			 "2019-03-05T00:00:00+08:00");
	ck_assert_int_eq(json_integer_value(json_object_get(due, "yellow_hours")), 24);
	ck_assert_int_eq(json_integer_value(json_object_get(due, "open")), 8);
	ck_assert_int_eq(json_integer_value(json_object_get(due, "overdue")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(due, "near_due")), 3);
	json_t *orders = json_object_get(due, "orders");
	ck_assert_uint_eq(json_array_size(orders), 6);
	json_t *river = json_array_get(orders, 4);
	ck_assert_str_eq(json_string_value(json_object_get(river, "external_no")), "o-river-near");
	ck_assert_str_eq(json_string_value(json_object_get(river, "centre")), "river");
	ck_assert_str_eq(json_string_value(json_object_get(river, "stage")), "received");
	ck_assert_str_eq(json_string_value(json_object_get(river, "due")),
			 "2019-03-05T12:00:00+08:00");
	ck_assert_str_eq(json_string_value(json_object_get(river, "status")), "near_due");
	ck_assert_int_eq(json_integer_value(json_object_get(river, "minutes_to_due")), 720);
	json_t *midnight = json_array_get(orders, 2);
	ck_assert_str_eq(json_string_value(json_object_get(midnight, "external_no")),
			 "o-at-midnight");
	ck_assert(json_is_true(json_object_get(midnight, "urgent")));
	ck_assert_ptr_nonnull(
		json_object_get(json_object_get(root, "definitions"), "work_orders_due"));
	json_decref(root);
	free(out);

	/* Text, with the definitions. */
	const char *text[] = {"--db",       test_conninfo, "day",  "--date",
			      "2019-03-04", "--centre",    "edge", NULL};
	ck_assert_int_eq(run_stats(text, &out), 0);
	ck_assert_msg(strstr(out, "Work orders due as of 2019-03-05T00:00:00+08:00: 7 open, 3 "
				  "overdue, 2 near due (within 24 hours of due)\n") != NULL,
		      "%s", out);
	char *row = strstr(out, "\noverdue  1 ");
	ck_assert_msg(row != NULL, "%s", out);
	ck_assert_ptr_nonnull(strstr(row, "o-sign-late"));
	ck_assert_ptr_nonnull(strstr(row, "-24.0\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nnear due 5 "));
	ck_assert_ptr_null(strstr(out, "o-on-time"));
	ck_assert_ptr_nonnull(strstr(out, "Definitions:"));
	ck_assert_ptr_nonnull(strstr(out, "closed nor returned"));
	free(out);
}
END_TEST

/* The yellow window, the zone and the moment of the listing. */
START_TEST(test_day_work_orders_follow_yellow_hours_zone_and_now)
{
	char *out = NULL;

	/* No yellow: only the overdue. 25 hours: o-on-time too, at its edge. */
	const char *none[] = {"--db",       test_conninfo,    "day",  "--date",
			      "2019-03-04", "--centre",       "edge", "--format",
			      "csv",        "--yellow-hours", "0",    NULL};
	ck_assert_int_eq(run_stats(none, &out), 0);
	ck_assert(strstr(out, "# as of 2019-03-05T00:00:00+08:00: 7 open, 3 overdue, 0 near due "
			      "(within 0 hours of due)\n") != NULL);
	ck_assert_ptr_null(strstr(out, "o-near"));
	free(out);
	const char *wide[] = {"--db",       test_conninfo,    "day",  "--date",
			      "2019-03-04", "--centre",       "edge", "--format",
			      "csv",        "--yellow-hours", "25",   NULL};
	ck_assert_int_eq(run_stats(wide, &out), 0);
	ck_assert(strstr(out, "# as of 2019-03-05T00:00:00+08:00: 7 open, 3 overdue, 3 near due "
			      "(within 25 hours of due)\n") != NULL);
	ck_assert(strstr(out, ",o-on-time,in_progress,complaint,否,"
			      "2019-03-06T01:00:00+08:00,near_due,1500\n") != NULL);
	free(out);

	/* In UTC the day ends 8 hours later: o-near is overdue by then, and
	 * o-later, received at that very moment, is not yet there. */
	const char *utc[] = {"--db",       test_conninfo, "--tz", "UTC",      "day", "--date",
			     "2019-03-04", "--centre",    "edge", "--format", "csv", NULL};
	ck_assert_int_eq(run_stats(utc, &out), 0);
	ck_assert(strstr(out, "# as of 2019-03-05T00:00:00+00:00: 7 open, 4 overdue, 2 near due "
			      "(within 24 hours of due)\n") != NULL);
	ck_assert(strstr(out, ",o-near,replied,complaint,否,2019-03-04T22:00:00+00:00,"
			      "overdue,-120\n") != NULL);
	ck_assert_ptr_null(strstr(out, "o-later"));
	free(out);

	/* A day still to come is listed as of now: every open order is overdue. */
	const char *future[] = {"--db",     test_conninfo, "day",      "--date", "2099-01-01",
				"--centre", "edge",        "--format", "json",   NULL};
	json_error_t jerr;
	ck_assert_int_eq(run_stats(future, &out), 0);
	json_t *root = json_loads(out, 0, &jerr);
	ck_assert_msg(root != NULL, "%s: %s", jerr.text, out);
	json_t *due = json_object_get(root, "work_orders_due");
	const char *as_of = json_string_value(json_object_get(due, "as_of"));
	ck_assert_ptr_nonnull(as_of);
	ck_assert_msg(strncmp(as_of, "2099", 4) != 0, "%s", as_of);
	ck_assert_int_eq(json_integer_value(json_object_get(due, "open")), 8);
	ck_assert_int_eq(json_integer_value(json_object_get(due, "overdue")), 8);
	ck_assert_int_eq(json_integer_value(json_object_get(due, "near_due")), 0);
	json_decref(root);
	free(out);

	/* --yellow-hours is the day's, 0 to 720. */
	const char *too_wide[] = {"--db",       test_conninfo,    "day", "--date",
				  "2019-03-04", "--yellow-hours", "721", NULL};
	ck_assert_int_eq(run_stats(too_wide, NULL), 2);
	const char *not_a_number[] = {"--db",       test_conninfo,    "day", "--date",
				      "2019-03-04", "--yellow-hours", "-1",  NULL};
	ck_assert_int_eq(run_stats(not_a_number, NULL), 2);
	const char *year[] = {"--db",     test_conninfo, "year",           "--year", "2019",
			      "--centre", "edge",        "--yellow-hours", "5",      NULL};
	ck_assert_int_eq(run_stats(year, NULL), 2);
}
END_TEST


/* ------------------------------------------------------------------------ */
/* bookings, KPIs, the kept statistics, staffing                             */
/* ------------------------------------------------------------------------ */

static struct profile_hospital *find_hospital(struct profile *p, const char *name)
{
	for (size_t i = 0; i < p->n_hospitals; i++)
		if (strcmp(p->hospitals[i].hospital, name) == 0)
			return &p->hospitals[i];
	return NULL;
}

START_TEST(test_year_ranks_bookings_by_hospital_and_platform)
{
	struct profile *p = export_year("Asia/Shanghai", "edge", "edge-bookings.yaml");

	ck_assert(p->has_bookings);
	ck_assert_uint_eq(p->n_hospitals, 3);
	struct profile_hospital *gulou = find_hospital(p, "鼓楼, \"Gulou\"");
	struct profile_hospital *child = find_hospital(p, "儿童医院");
	struct profile_hospital *idle = find_hospital(p, "无预约医院");
	ck_assert_ptr_nonnull(gulou);
	ck_assert_ptr_nonnull(child);
	ck_assert_ptr_nonnull(idle);
	ck_assert_int_eq(gulou->rank, 1);
	ck_assert_int_eq(gulou->all, 4);
	for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++)
		ck_assert_int_eq(gulou->by_channel[c], 1);
	/* 2018's booking is not 2019's; the last minute of 2019 is. */
	ck_assert_int_eq(child->rank, 2);
	ck_assert_int_eq(child->by_channel[PROFILE_CHANNEL_ONLINE_12320], 2);
	ck_assert_int_eq(child->all, 2);
	/* A hospital without a booking is listed, last, with 0 (2020's is not 2019's). */
	ck_assert_int_eq(idle->rank, 3);
	ck_assert_int_eq(idle->all, 0);
	ck_assert_int_eq(p->bookings_total_all, 6);
	ck_assert_int_eq(p->bookings_total[PROFILE_CHANNEL_ONLINE_12320], 3);
	ck_assert_int_eq(p->bookings_total[PROFILE_CHANNEL_PHONE], 1);
	/* Every booking made before the year's end, 2018's included. */
	ck_assert_int_eq(p->bookings_cumulative_all_years, 7);

	ck_assert(p->has_platforms);
	ck_assert_uint_eq(p->n_platforms, 3);
	ck_assert_str_eq(p->platforms[0].platform, "健康App");
	ck_assert_int_eq(p->platforms[0].bookings, 2);
	ck_assert_str_eq(p->platforms[1].platform, "微信");
	ck_assert_int_eq(p->platforms[1].bookings, 1);
	ck_assert_str_eq(p->platforms[2].platform, "网站");
	ck_assert_int_eq(p->platforms[2].bookings, 0);
	ck_assert_int_eq(p->platforms_total, 3);
	profile_free(p);
}
END_TEST

/* The figures of the kpi centre's 2021-06-07 (see extra_fixture). */
START_TEST(test_day_kpis_follow_their_definitions)
{
	char *out = NULL;
	json_error_t jerr;
	const char *args[] = {"--db",     test_conninfo, "day",      "--date", "2021-06-07",
			      "--centre", "kpi",         "--format", "json",   NULL};

	ck_assert_int_eq(run_stats(args, &out), 0);
	json_t *root = json_loads(out, 0, &jerr);
	ck_assert_msg(root != NULL, "%s", jerr.text);
	json_t *rows = json_object_get(json_object_get(root, "tables"), "kpi_by_category");
	ck_assert_uint_eq(json_array_size(rows), 2); /* consultation, then the total */
	json_t *c = json_array_get(rows, 0);
	ck_assert_str_eq(json_string_value(json_object_get(c, "key")), "咨询");
	ck_assert_int_eq(json_integer_value(json_object_get(c, "accepted")), 2);
	/* 2 answered + 2 abandoned after 5 s; the 3 s abandon is short. */
	ck_assert_int_eq(json_integer_value(json_object_get(c, "offered")), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "answered")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "abandoned")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "short_abandons")), 1);
	/* ASA (10 + 30) / 2; AHT (100 + 20 + 200) / 2; offered-based SL: the
	 * 10 s answer of 4 offered. */
	ck_assert_double_eq_tol(json_number_value(json_object_get(c, "asa_s")), 20.0, 1e-9);
	ck_assert_double_eq_tol(json_number_value(json_object_get(c, "aht_s")), 160.0, 1e-9);
	ck_assert_double_eq_tol(json_number_value(json_object_get(c, "service_level")), 0.25,
				1e-9);
	ck_assert(json_is_null(json_object_get(c, "occupancy")));
	/* The agent: 15 busy minutes (on a call, wrap-up) of 60 logged in. */
	json_t *agents = json_object_get(json_object_get(root, "tables"), "kpi_by_agent");
	json_t *k1 = json_array_get(agents, 1);
	ck_assert_str_eq(json_string_value(json_object_get(k1, "key")), "k1");
	ck_assert_double_eq_tol(json_number_value(json_object_get(k1, "occupancy")), 0.25, 1e-9);
	ck_assert_int_eq(json_integer_value(json_object_get(k1, "answered")), 2);
	/* By hour, each stretch counts in the hours it covers: at 10:00, k2's
	 * last 30 minutes ready and 15 on a call (a third busy); at 09:00, k1's
	 * hour (15 of 60 busy) and k2's first 30 minutes ready. */
	json_t *hours = json_object_get(json_object_get(root, "tables"), "kpi_by_hour");
	double at9 = -1, at10 = -1;
	for (size_t i = 0; i < json_array_size(hours); i++) {
		json_t *row = json_array_get(hours, i);
		const char *key = json_string_value(json_object_get(row, "key"));
		if (key && strcmp(key, "09:00") == 0)
			at9 = json_number_value(json_object_get(row, "occupancy"));
		if (key && strcmp(key, "10:00") == 0)
			at10 = json_number_value(json_object_get(row, "occupancy"));
	}
	ck_assert_double_eq_tol(at9, 15.0 / 90.0, 1e-9);
	ck_assert_double_eq_tol(at10, 1.0 / 3.0, 1e-9);
	json_t *defs = json_object_get(json_object_get(root, "definitions"), "report");
	char *defs_text = json_dumps(defs, 0);
	ck_assert_ptr_nonnull(strstr(defs_text, "short abandons"));
	free(defs_text);
	json_decref(root);
	free(out);

	/* The answered-based variant: 1 of 2 answered within 20 s. */
	const char *answered[] = {"--db",     test_conninfo, "day",      "--date",
				  "2021-06-07", "--centre",  "kpi",      "--format",
				  "csv",      "--sl-variant", "answered_based", NULL};
	ck_assert_int_eq(run_stats(answered, &out), 0);
	ck_assert_msg(strstr(out, "\n咨询,2,4,2,2,1,20.0,50.0%,160.0,\n") != NULL, "%.3000s", out);
	free(out);
}
END_TEST

START_TEST(test_other_thresholds_count_from_the_raw_rows_until_rebuilt)
{
	char *out = NULL;
	/* With 2 s, the 3 s abandon is a real one: 3 abandoned, none short. */
	const char *raw[] = {"--db",       test_conninfo, "day",      "--date",  "2021-06-07",
			     "--centre",   "kpi",         "--format", "csv",     "--short-abandon",
			     "2",          NULL};
	ck_assert_int_eq(run_stats(raw, &out), 0);
	ck_assert_msg(strstr(out, "\n咨询,2,5,2,3,0,") != NULL, "%.3000s", out);
	ck_assert_ptr_nonnull(strstr(out, "counted from the raw call rows"));
	free(out);

	const char *rebuild[] = {"--db", test_conninfo, "rebuild", "--short-abandon", "2", NULL};
	ck_assert_int_eq(run_stats(rebuild, &out), 0);
	free(out);
	ck_assert_int_eq(run_stats(raw, &out), 0);
	ck_assert_msg(strstr(out, "\n咨询,2,5,2,3,0,") != NULL, "%.3000s", out);
	ck_assert_ptr_nonnull(strstr(out, "keeps per hour"));
	free(out);
	const char *back[] = {"--db", test_conninfo, "rebuild", NULL};
	ck_assert_int_eq(run_stats(back, NULL), 0);
}
END_TEST

START_TEST(test_recompute_agrees_and_finds_a_tampered_count)
{
	char path[512];
	scratch_path(path, sizeof path, "recompute.yaml");
	const char *args[] = {"--db",     test_conninfo, "year",  "--year", "2019",
			      "--centre", "edge",        "--out", path,     "--recompute",
			      NULL};
	ck_assert_int_eq(run_stats(args, NULL), 0);
	const char *kpi[] = {"--db",     test_conninfo, "year",  "--year", "2021",
			     "--centre", "kpi",         "--out", path,     "--recompute",
			     NULL};
	ck_assert_int_eq(run_stats(kpi, NULL), 0);

	/* A kept count that no longer matches its rows is found. */
	char err[1024];
	PGconn *conn = db_connect(test_conninfo, NULL, err, sizeof err);
	ck_assert_msg(conn != NULL, "%s", err);
	PGresult *r = db_exec(conn,
			      "UPDATE stats_bookings SET bookings = bookings + 1"
			      " WHERE hospital = 'h-gulou' AND channel = 'clinic'",
			      0, NULL, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	PQclear(r);
	r = db_exec(conn, "SELECT hotline_stats_fold()", 0, NULL, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	PQclear(r);
	ck_assert_int_eq(run_stats(args, NULL), 1);
	const char *rebuild[] = {"--db", test_conninfo, "rebuild", NULL};
	ck_assert_int_eq(run_stats(rebuild, NULL), 0);
	ck_assert_int_eq(run_stats(args, NULL), 0);
	PQfinish(conn);
}
END_TEST

START_TEST(test_range_exports_in_every_format)
{
	char *out = NULL, path[512];
	const char *csv[] = {"--db",   test_conninfo, "day",      "--from", "2019-03-01", "--to",
			     "2019-03-31", "--centre", "edge", "--format", "csv", "--bom", NULL};
	ck_assert_int_eq(run_stats(csv, &out), 0);
	ck_assert_msg(memcmp(out, "\xef\xbb\xbf", 3) == 0, "no byte order mark");
	ck_assert_ptr_nonnull(strstr(out, "\n# kpi_by_day: "));
	/* The month's 2 bookings of 2019-03-04 (h-gulou online, phone; h-child online). */
	ck_assert_msg(strstr(out, "\n2019-03-04,2,1,0,0,3\n") != NULL, "%.4000s", out);
	free(out);

	scratch_path(path, sizeof path, "march.xlsx");
	const char *xlsx[] = {"--db", test_conninfo, "day", "--from", "2019-03-01", "--to",
			      "2019-03-31", "--centre", "edge", "--format", "xlsx", "--out", path,
			      NULL};
	ck_assert_int_eq(run_stats(xlsx, NULL), 0);
	char *bytes = read_file(path);
	ck_assert_msg(memcmp(bytes, "PK", 2) == 0, "not a zip file");
	free(bytes);
	const char *xlsx_stdout[] = {"--db", test_conninfo, "day", "--date", "2019-03-04",
				     "--format", "xlsx", NULL};
	ck_assert_int_eq(run_stats(xlsx_stdout, NULL), 2);

	scratch_path(path, sizeof path, "year.html");
	const char *html[] = {"--db",     test_conninfo, "year",     "--year", "2019",
			      "--centre", "edge",        "--format", "html",   "--out",
			      path,       NULL};
	ck_assert_int_eq(run_stats(html, NULL), 0);
	char *page = read_file(path);
	ck_assert_ptr_nonnull(strstr(page, "<svg"));
	ck_assert_ptr_nonnull(strstr(page, "预约挂号服务统计表"));
	ck_assert_ptr_nonnull(strstr(page, "鼓楼, &quot;Gulou&quot;"));
	ck_assert_ptr_null(strstr(page, "鼓楼, \"Gulou\""));
	free(page);

	const char *backwards[] = {"--db", test_conninfo, "day", "--from", "2019-03-31", "--to",
				   "2019-03-01", NULL};
	ck_assert_int_eq(run_stats(backwards, NULL), 2);
	const char *half_hour_zone[] = {"--db",  test_conninfo, "--tz", "Asia/Kolkata", "day",
					"--date", "2019-03-04",  NULL};
	ck_assert_int_eq(run_stats(half_hour_zone, NULL), 2);
}
END_TEST


/* Without --centre, hospitals and platforms of different centres that share
 * a code stay apart, each named with its centre. */
START_TEST(test_all_centres_keep_hospitals_of_each_centre_apart)
{
	char *out = NULL;
	json_error_t jerr;
	const char *args[] = {"--db",       test_conninfo, "day",  "--date",
			      "2019-03-04", "--format",    "json", NULL};
	ck_assert_int_eq(run_stats(args, &out), 0);
	json_t *root = json_loads(out, 0, &jerr);
	ck_assert_msg(root != NULL, "%s", jerr.text);
	json_t *tables = json_object_get(root, "tables");
	json_t *hs = json_object_get(tables, "bookings_by_hospital");
	int64_t gulou = -1, river = -1;
	for (size_t i = 0; i < json_array_size(hs); i++) {
		json_t *row = json_array_get(hs, i);
		const char *name = json_string_value(json_object_get(row, "hospital"));
		if (name && strcmp(name, "鼓楼, \"Gulou\"（edge）") == 0)
			gulou = json_integer_value(json_object_get(row, "all"));
		if (name && strcmp(name, "河西医院（river）") == 0)
			river = json_integer_value(json_object_get(row, "all"));
	}
	ck_assert_int_eq(gulou, 2); /* b1 online and b2 phone */
	ck_assert_int_eq(river, 1);
	json_t *ps = json_object_get(tables, "bookings_by_platform");
	int64_t app = -1, river_app = -1;
	for (size_t i = 0; i < json_array_size(ps); i++) {
		json_t *row = json_array_get(ps, i);
		const char *name = json_string_value(json_object_get(row, "name"));
		if (name && strcmp(name, "健康App（edge）") == 0)
			app = json_integer_value(json_object_get(row, "count"));
		if (name && strcmp(name, "河西App（river）") == 0)
			river_app = json_integer_value(json_object_get(row, "count"));
	}
	ck_assert_int_eq(app, 2); /* b1 and b5 */
	ck_assert_int_eq(river_app, 1);
	json_decref(root);
	free(out);
}
END_TEST


/* The fold rides in the broker's batches: when it cannot have a row at
 * once it gives way (-1) and the batch's own writes still commit, with
 * their deltas kept for the next fold. */
START_TEST(test_a_blocked_fold_gives_way_and_the_batch_commits)
{
	char err[1024];
	PGconn *a = db_connect(test_conninfo, NULL, err, sizeof err);
	PGconn *b = db_connect(test_conninfo, NULL, err, sizeof err);
	ck_assert_msg(a != NULL && b != NULL, "%s", err);
	const char *const holder[] = {
		"SELECT hotline_stats_fold()", /* nothing pending before the test */
		"BEGIN", "SELECT 1 FROM stats_calls WHERE centre = 'kpi' FOR UPDATE"};
	for (size_t i = 0; i < 3; i++) {
		PGresult *r = db_exec(a, holder[i], 0, NULL, err, sizeof err);
		ck_assert_msg(r != NULL, "%s", err);
		PQclear(r);
	}
	PGresult *r = db_exec(b, "BEGIN", 0, NULL, err, sizeof err);
	PQclear(r);
	r = db_exec(b, "UPDATE calls SET corrected_category = 'complaint' WHERE call_id = 'k-a2'",
		    0, NULL, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	PQclear(r);
	r = db_exec(b, "SELECT hotline_stats_fold()", 0, NULL, err, sizeof err);
	ck_assert_msg(r != NULL, "the fold failed the transaction: %s", err);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "-1");
	PQclear(r);
	r = db_exec(b, "COMMIT", 0, NULL, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	PQclear(r);
	r = db_exec(a, "ROLLBACK", 0, NULL, err, sizeof err);
	PQclear(r);

	/* The correction counts, folded or not, and the recount agrees. */
	char path[512];
	scratch_path(path, sizeof path, "after-blocked-fold.yaml");
	const char *kpi[] = {"--db",     test_conninfo, "year",  "--year", "2021",
			     "--centre", "kpi",         "--out", path,     "--recompute",
			     NULL};
	ck_assert_int_eq(run_stats(kpi, NULL), 0);
	struct profile *p = NULL;
	ck_assert_msg(profile_load_file(path, &p, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(p->calls_by_category[CATEGORY_COMPLAINT], 1);
	profile_free(p);
	r = db_exec(b, "UPDATE calls SET corrected_category = NULL WHERE call_id = 'k-a2'", 0, NULL,
		    err, sizeof err);
	PQclear(r);
	PQfinish(a);
	PQfinish(b);
}
END_TEST

START_TEST(test_staffing_meets_the_published_vector)
{
	char *out = NULL;
	json_error_t jerr;
	const char *args[] = {"--db", test_conninfo, "staffing", "--date", "2021-06-07", "--centre",
			      "kpi",  "--format",    "json",     NULL};

	ck_assert_int_eq(run_stats(args, &out), 0);
	json_t *root = json_loads(out, 0, &jerr);
	ck_assert_msg(root != NULL, "%s", jerr.text);
	json_t *slots = json_object_get(json_object_get(root, "tables"), "staffing");
	ck_assert_uint_eq(json_array_size(slots), 48);
	json_t *nine = json_array_get(slots, 18);
	ck_assert_str_eq(json_string_value(json_object_get(nine, "slot")), "09:00-09:30");
	ck_assert_double_eq_tol(json_number_value(json_object_get(nine, "calls")), 100, 1e-9);
	ck_assert_double_eq_tol(json_number_value(json_object_get(nine, "aht_s")), 180, 1e-9);
	ck_assert_int_eq(json_integer_value(json_object_get(nine, "agents")), 14);
	ck_assert_double_eq_tol(json_number_value(json_object_get(nine, "service_level")), 0.8884,
				0.00005);
	ck_assert_double_eq_tol(json_number_value(json_object_get(nine, "asa_s")), 7.84, 0.005);
	ck_assert_double_eq_tol(json_number_value(json_object_get(nine, "occupancy")), 0.714,
				0.0005);
	/* 30% shrinkage (the default): ceil(14 / 0.7). */
	ck_assert_int_eq(json_integer_value(json_object_get(nine, "scheduled")), 20);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(slots, 17), "agents")),
			 0);
	json_decref(root);
	free(out);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* compare                                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(test_compare_exit_codes)
{
	char expected[512], changed[512], *out = NULL;
	struct profile *p = export_year("Asia/Shanghai", "edge", "compare-expected.yaml");

	scratch_path(expected, sizeof expected, "compare-expected.yaml");
	scratch_path(changed, sizeof changed, "compare-changed.yaml");

	const char *same[] = {"compare", expected, expected, NULL};
	ck_assert_int_eq(run_stats(same, &out), 0);
	free(out);

	/* One booking call more, kept valid: total and own province entry follow. */
	p->calls_by_category[CATEGORY_BOOKING]++;
	p->calls_total++;
	p->centres[0].calls++;
	p->province_total++;
	FILE *f = fopen(changed, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(profile_write_yaml(p, f), 0);
	fclose(f);

	const char *differ[] = {"compare", expected, changed, NULL};
	ck_assert_int_eq(run_stats(differ, &out), 1);
	ck_assert_ptr_nonnull(strstr(out, "calls.by_category.booking: expected 2, got 3\n"));
	ck_assert_ptr_nonnull(strstr(out, "province.by_centre[edge].calls: expected 8, got 9\n"));
	free(out);

	const char *work_orders_only[] = {"compare", expected, changed, "--sections",
					  "work_orders", NULL};
	ck_assert_int_eq(run_stats(work_orders_only, &out), 0);
	free(out);
	const char *bad_section[] = {"compare", expected, changed, "--sections", "cals", NULL};
	ck_assert_int_eq(run_stats(bad_section, NULL), 2);
	const char *missing[] = {"compare", expected, "/nonexistent/profile.yaml", NULL};
	ck_assert_int_eq(run_stats(missing, NULL), 2);
	const char *one_file[] = {"compare", expected, NULL};
	ck_assert_int_eq(run_stats(one_file, NULL), 2);
	profile_free(p);
}
END_TEST

START_TEST(test_help_says_what_counts)
{
	char *out = NULL;
	const char *args[] = {"--help", NULL};

	ck_assert_int_eq(run_stats(args, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "abandoned calls and calls still in progress are"));
	ck_assert_ptr_nonnull(strstr(out, "self_service"));
	free(out);
}
END_TEST

static Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *year = tcase_create("year");
	TCase *day = tcase_create("day");
	TCase *compare = tcase_create("compare");
	TCase *kept = tcase_create("kept");

	tcase_add_test(year, test_year_counts_accepted_calls_by_category);
	tcase_add_test(year, test_year_boundaries_follow_the_time_zone);
	tcase_add_test(year, test_year_province_lists_centres_by_calls_then_code);
	tcase_add_test(year, test_year_profile_states_its_definitions_in_a_comment);
	tcase_add_test(year, test_year_csv_quotes_names);
	tcase_add_test(year, test_year_json_carries_definitions);
	tcase_add_test(year, test_year_refuses_an_unknown_centre);
	suite_add_tcase(s, year);
	tcase_add_test(day, test_day_counts_by_local_hour);
	tcase_add_test(day, test_day_lists_the_work_orders_due_at_its_end);
	tcase_add_test(day, test_day_work_orders_follow_yellow_hours_zone_and_now);
	suite_add_tcase(s, day);
	tcase_add_test(kept, test_year_ranks_bookings_by_hospital_and_platform);
	tcase_add_test(kept, test_day_kpis_follow_their_definitions);
	tcase_add_test(kept, test_other_thresholds_count_from_the_raw_rows_until_rebuilt);
	tcase_add_test(kept, test_recompute_agrees_and_finds_a_tampered_count);
	tcase_add_test(kept, test_range_exports_in_every_format);
	tcase_add_test(kept, test_staffing_meets_the_published_vector);
	tcase_add_test(kept, test_all_centres_keep_hospitals_of_each_centre_apart);
	tcase_add_test(kept, test_a_blocked_fold_gives_way_and_the_batch_commits);
	suite_add_tcase(s, kept);
	tcase_add_test(compare, test_compare_exit_codes);
	tcase_add_test(compare, test_help_says_what_counts);
	suite_add_tcase(s, compare);
	return s;
}

int main(void)
{
	const char *tmp = getenv("HOTLINE_TEST_TMPDIR");
	int failed;

	if (getenv("HOTLINE_TEST_PG") == NULL || *getenv("HOTLINE_TEST_PG") == '\0') {
		fprintf(stderr, "test_stats: FAILED: HOTLINE_TEST_PG is not set. This integration "
				"test needs a PostgreSQL server where it may create databases; run "
				"it through tools/test, or set HOTLINE_TEST_PG to a conninfo such "
				"as \"host=127.0.0.1 port=5432 user=hotline dbname=hotline\".\n");
		return EXIT_FAILURE;
	}
	if (getenv("HOTLINE_SOURCE_DIR") == NULL || getenv("HOTLINE_STATS_BIN") == NULL) {
		fprintf(stderr, "test_stats: FAILED: HOTLINE_SOURCE_DIR and HOTLINE_STATS_BIN must "
				"be set (tests/meson.build sets them)\n");
		return EXIT_FAILURE;
	}
	setup_pid = getpid();
	atexit(drop_test_database);
	snprintf(test_dir, sizeof test_dir, "%s/hotline-stats-test.XXXXXX",
		 tmp && *tmp ? tmp : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"));
	if (mkdtemp(test_dir) == NULL) {
		fprintf(stderr, "test_stats: FAILED: cannot create %s: %s\n", test_dir,
			strerror(errno));
		test_dir[0] = '\0';
		return EXIT_FAILURE;
	}
	if (setup_database() != 0) {
		fprintf(stderr, "test_stats: FAILED: could not prepare the test database\n");
		return EXIT_FAILURE;
	}

	SRunner *sr = srunner_create(stats_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(test_conninfo);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
