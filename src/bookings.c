/* bookings.c: appointment bookings in the broker (see bookings.h). */
#include "bookings.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "apireq.h"
#include "event.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "timeutil.h"

#define BOOKINGS_NO_MAX 64                              /* booking_no: as the schema's check */
#define BOOKINGS_CODE_MAX 32                            /* hospital and department codes */
#define BOOKINGS_DATE_LEN 10                            /* YYYY-MM-DD */
#define BOOKINGS_TIME_MAX 40                            /* an RFC 3339 text */
#define BOOKINGS_AHEAD_USEC (5 * 60 * INT64_C(1000000)) /* booked_at ahead of our clock */

struct bookings {
	struct metrics *metrics;
	struct store *store;
	struct router *router;
};

enum bookings_op_kind {
	BOP_CREATE,    /* POST /v1/bookings */
	BOP_HOSPITALS, /* GET /v1/hospitals */
	BOP_BY_CALL,   /* GET /v1/bookings?call_id= */
};

struct bookings_op {
	struct apireq_op a; /* first: the store hands back &a.sop */
	struct bookings *b;
	enum bookings_op_kind kind;
};

/* --- statements -------------------------------------------------------------- */

/* A booking as the API shows it, from a row aliased b. Names of the
 * hospital and department come along for the agent's screen. */
#define BOOKING_COLUMNS                                                                            \
	"b.centre, b.source, b.booking_no, b.hospital,"                                            \
	" coalesce((SELECT h.name FROM hospitals h WHERE h.centre = b.centre"                      \
	"  AND h.code = b.hospital), ''), b.department,"                                           \
	" coalesce((SELECT d.name FROM departments d WHERE d.centre = b.centre"                    \
	"  AND d.hospital = b.hospital AND d.code = b.department), ''),"                           \
	" to_char(b.visit_date, 'YYYY-MM-DD'), b.channel, coalesce(b.platform, ''),"               \
	" coalesce(b.call_id, ''), coalesce(b.agent_id, ''), coalesce(b.caller_masked, ''),"       \
	" (extract(epoch FROM b.booked_at) * 1000000)::bigint,"                                    \
	" (extract(epoch FROM b.created_at) * 1000000)::bigint"
#define BOOKING_NO_COLUMNS                                                                         \
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
enum {
	BC_CENTRE,
	BC_SOURCE,
	BC_NO,
	BC_HOSPITAL,
	BC_HOSPITAL_NAME,
	BC_DEPARTMENT,
	BC_DEPARTMENT_NAME,
	BC_VISIT_DATE,
	BC_CHANNEL,
	BC_PLATFORM,
	BC_CALL,
	BC_AGENT,
	BC_CALLER,
	BC_BOOKED_AT,
	BC_CREATED_AT,
	BC_COUNT
};

/* b_create answers one row: an outcome ('new', 'replay', 'conflict', or
 * the reason it was refused) and the booking's columns (NULL when
 * refused). A number already taken is answered from the stored row before
 * anything else is looked at, so that a retry gets its booking even when
 * the call has since moved on. Every parameter was checked by the broker
 * (alphabets, the date, the numbers), so no cast here can fail. */
static const struct store_statement bookings_stmts[] = {
	/* $1 centre $2 source $3 booking_no $4 hospital $5 department $6 visit date text
	 * $7 call $8 agent|NULL $9 booked_at usec as sent|NULL $10 now usec
	 * $11 the router saw the agent on the call (or no agent check: gateway) */
	{"b_create",
	 "WITH p AS (SELECT booking_payload_sha256($3::text, $4::text, $5::text, $6::text, 'phone',"
	 " NULL, $7::text, $9::bigint, $8::text) AS sha),"
	 " old AS (SELECT * FROM bookings WHERE centre = $1 AND source = $2 AND booking_no = $3),"
	 " c AS (SELECT caller_hash, caller_masked, offered_at, agent FROM calls"
	 " WHERE centre = $1 AND call_id = $7),"
	 " why AS (SELECT CASE"
	 " WHEN EXISTS (SELECT 1 FROM old) THEN NULL"
	 " WHEN NOT EXISTS (SELECT 1 FROM hospitals WHERE centre = $1 AND code = $4)"
	 "  THEN 'unknown_hospital'"
	 " WHEN NOT EXISTS (SELECT 1 FROM hospitals WHERE centre = $1 AND code = $4 AND enabled)"
	 "  THEN 'disabled_hospital'"
	 " WHEN NOT EXISTS (SELECT 1 FROM departments WHERE centre = $1 AND hospital = $4"
	 "  AND code = $5) THEN 'unknown_department'"
	 " WHEN NOT EXISTS (SELECT 1 FROM departments WHERE centre = $1 AND hospital = $4"
	 "  AND code = $5 AND enabled) THEN 'disabled_department'"
	 " WHEN NOT EXISTS (SELECT 1 FROM c) THEN 'unknown_call'"
	 " WHEN NOT $11::boolean AND NOT EXISTS (SELECT 1 FROM c WHERE c.agent = $8::text)"
	 "  THEN 'not_your_call'"
	 " WHEN $9::bigint IS NOT NULL AND hotline_usec($9::bigint) < (SELECT offered_at FROM c)"
	 "  THEN 'before_call'"
	 " END AS problem),"
	 " ins AS (INSERT INTO bookings (centre, source, booking_no, hospital, department,"
	 " visit_date, channel, call_id, agent_id, caller_hash, caller_masked, booked_at,"
	 " payload_sha256)"
	 " SELECT $1, $2, $3, $4, $5, $6::text::date, 'phone', $7, $8::text, c.caller_hash,"
	 " c.caller_masked, hotline_usec(coalesce($9::bigint, $10::bigint)), p.sha"
	 " FROM c, p, why WHERE why.problem IS NULL AND NOT EXISTS (SELECT 1 FROM old)"
	 " ON CONFLICT (centre, source, booking_no) DO NOTHING RETURNING *)"
	 " SELECT 'new', " BOOKING_COLUMNS " FROM ins b"
	 " UNION ALL SELECT CASE WHEN b.payload_sha256 = p.sha THEN 'replay'"
	 " ELSE 'conflict' END, " BOOKING_COLUMNS " FROM old b, p"
	 " UNION ALL SELECT problem, " BOOKING_NO_COLUMNS " FROM why WHERE problem IS NOT NULL"},
	/* $1 centre */
	{"b_hospitals",
	 "SELECT h.code, h.name, coalesce((SELECT json_agg(json_build_object('code', d.code,"
	 " 'name', d.name) ORDER BY d.code) FROM departments d WHERE d.centre = h.centre"
	 " AND d.hospital = h.code AND d.enabled), '[]')::text"
	 " FROM hospitals h WHERE h.centre = $1 AND h.enabled ORDER BY h.code"},
	/* $1 centre $2 call */
	{"b_by_call",
	 "SELECT " BOOKING_COLUMNS " FROM bookings b WHERE b.centre = $1 AND b.call_id = $2"
	 " ORDER BY b.booked_at, b.source, b.booking_no LIMIT 200"},
};

const struct store_statement *bookings_statements(size_t *n)
{
	*n = sizeof bookings_stmts / sizeof bookings_stmts[0];
	return bookings_stmts;
}

/* --- small helpers ------------------------------------------------------------ */

static const char *bookings_cell(json_t *row, size_t col)
{
	const char *v = json_string_value(json_array_get(row, col));
	return v ? v : "";
}

static json_t *bookings_time(const char *usec_text)
{
	char text[TIMEUTIL_RFC3339_LEN];
	int64_t usec = strtoll(usec_text, NULL, 10);
	if (usec <= 0)
		return json_null();
	timeutil_format_local(usec, text);
	return json_string(text);
}

/* A booking row (BOOKING_COLUMNS from column first) as the API shows it. */
static json_t *bookings_json(json_t *row, size_t first)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "centre",
			      bookings_cell(row, first + BC_CENTRE), "source",
			      bookings_cell(row, first + BC_SOURCE), "booking_no",
			      bookings_cell(row, first + BC_NO), "hospital",
			      bookings_cell(row, first + BC_HOSPITAL), "hospital_name",
			      bookings_cell(row, first + BC_HOSPITAL_NAME), "department",
			      bookings_cell(row, first + BC_DEPARTMENT), "department_name",
			      bookings_cell(row, first + BC_DEPARTMENT_NAME), "visit_date",
			      bookings_cell(row, first + BC_VISIT_DATE), "channel",
			      bookings_cell(row, first + BC_CHANNEL), "call_id",
			      bookings_cell(row, first + BC_CALL), "caller",
			      bookings_cell(row, first + BC_CALLER), "booked_at",
			      bookings_time(bookings_cell(row, first + BC_BOOKED_AT)), "created_at",
			      bookings_time(bookings_cell(row, first + BC_CREATED_AT)));
	if (j == NULL)
		return NULL;
	const char *platform = bookings_cell(row, first + BC_PLATFORM);
	const char *agent = bookings_cell(row, first + BC_AGENT);
	json_object_set_new(j, "platform", platform[0] ? json_string(platform) : json_null());
	json_object_set_new(j, "agent_id", agent[0] ? json_string(agent) : json_null());
	return j;
}

static bool bookings_all(const char *s, bool (*ok)(unsigned char))
{
	for (; *s; s++)
		if (!ok((unsigned char)*s))
			return false;
	return true;
}

/* Whether s is a date YYYY-MM-DD that exists, in the years the import and
 * timeutil accept (1970..9999). */
static bool bookings_date_ok(const char *s)
{
	int v[3] = {0, 0, 0};
	static const int widths[3] = {4, 2, 2};
	const char *p = s;
	for (int part = 0; part < 3; part++) {
		for (int i = 0; i < widths[part]; i++, p++) {
			if (*p < '0' || *p > '9')
				return false;
			v[part] = v[part] * 10 + (*p - '0');
		}
		if (part < 2 && *p++ != '-')
			return false;
	}
	if (*p != '\0' || v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1)
		return false;
	int64_t first = timeutil_days_from_civil(v[0], (unsigned)v[1], 1);
	int64_t next = v[1] == 12 ? timeutil_days_from_civil(v[0] + 1, 1, 1) :
				    timeutil_days_from_civil(v[0], (unsigned)v[1] + 1, 1);
	return v[2] <= next - first;
}

/* --- ops ---------------------------------------------------------------------- */

static void bookings_op_done(struct store_op *sop, enum store_status status);

static struct bookings_op *bookings_op_new(struct bookings *b, enum bookings_op_kind kind,
					   const char *stmt, ingest_reply_fn reply, void *request)
{
	struct bookings_op *op = calloc(1, sizeof *op);
	if (op == NULL)
		return NULL;
	op->b = b;
	op->kind = kind;
	apireq_op_init(&op->a, stmt, bookings_op_done, op, reply, request);
	return op;
}

/* Adds a text parameter (NULL for SQL NULL); returns -1 when out of memory. */
static int bookings_param(struct bookings_op *op, const char *value)
{
	return apireq_op_param(&op->a, value);
}

static int bookings_param_int(struct bookings_op *op, int64_t v)
{
	char text[24];
	snprintf(text, sizeof text, "%" PRId64, v);
	return bookings_param(op, text);
}

static void bookings_op_free(struct bookings_op *op)
{
	apireq_op_release(&op->a);
	free(op);
}

/* Submits op; a store that is down or recovering answers 503 through done. */
static void bookings_submit(struct bookings_op *op)
{
	if (op->b->store == NULL || store_submit(op->b->store, &op->a.sop) != 0)
		op->a.sop.done(&op->a.sop, STORE_UNAVAILABLE);
}

/* --- answers ------------------------------------------------------------------- */

/* The outcome of b_create that is not a booking, as an answer. */
static void bookings_refuse(struct bookings_op *op, const char *why)
{
	ingest_reply_fn reply = op->a.reply;
	void *request = op->a.request;
	const char *centre = op->a.params[0], *number = op->a.params[2], *hospital = op->a.params[3];
	const char *department = op->a.params[4], *call = op->a.params[6];

	if (strcmp(why, "conflict") == 0)
		apireq_error(reply, request, 409, "booking_no_conflict", "booking_no",
			     "booking_no %s was used before for a booking with other fields; a "
			     "retry must send the same fields, a new booking a new booking_no",
			     number);
	else if (strcmp(why, "unknown_hospital") == 0)
		apireq_error(reply, request, 422, "unknown_hospital", "hospital",
			     "hospital %s is not a hospital of centre %s (GET /v1/hospitals lists "
			     "them)",
			     hospital, centre);
	else if (strcmp(why, "disabled_hospital") == 0)
		apireq_error(reply, request, 422, "disabled_hospital", "hospital",
			     "hospital %s no longer takes bookings through centre %s", hospital,
			     centre);
	else if (strcmp(why, "unknown_department") == 0)
		apireq_error(reply, request, 422, "unknown_department", "department",
			     "department %s is not a department of hospital %s", department,
			     hospital);
	else if (strcmp(why, "disabled_department") == 0)
		apireq_error(reply, request, 422, "disabled_department", "department",
			     "department %s of hospital %s no longer takes bookings", department,
			     hospital);
	else if (strcmp(why, "unknown_call") == 0)
		apireq_error(reply, request, 422, "unknown_call", "call_id",
			     "call %s is not a call of centre %s", call, centre);
	else if (strcmp(why, "not_your_call") == 0)
		apireq_error(reply, request, 422, "not_your_call", "call_id",
			     "call %s is not a call this agent is on or answered", call);
	else if (strcmp(why, "before_call") == 0)
		apireq_error(reply, request, 422, "invalid_time", "booked_at",
			     "booked_at is before call %s was offered", call);
	else
		apireq_error(reply, request, 500, "internal", NULL, "unexpected outcome %.40s",
			     why);
}

static void bookings_created(struct bookings_op *op, json_t *row)
{
	const char *outcome = bookings_cell(row, 0);
	bool fresh = strcmp(outcome, "new") == 0;
	if (!fresh && strcmp(outcome, "replay") != 0) {
		bookings_refuse(op, outcome);
		return;
	}
	if (fresh)
		log_info("bookings", "booking %s of %s/%s taken for call %s (%s, %s)",
			 bookings_cell(row, 1 + BC_NO), bookings_cell(row, 1 + BC_CENTRE),
			 bookings_cell(row, 1 + BC_SOURCE), bookings_cell(row, 1 + BC_CALL),
			 bookings_cell(row, 1 + BC_HOSPITAL),
			 bookings_cell(row, 1 + BC_DEPARTMENT));
	json_t *booking = bookings_json(row, 1);
	apireq_reply_json(op->a.reply, op->a.request, fresh ? 201 : 200,
			  booking ? json_pack("{s:o}", "booking", booking) : NULL, !fresh);
}

static void bookings_op_done(struct store_op *sop, enum store_status status)
{
	struct bookings_op *op = (struct bookings_op *)sop;

	if (status != STORE_COMMITTED) {
		apireq_error(op->a.reply, op->a.request, 503, "store_unavailable", NULL,
			     "PostgreSQL is unavailable; nothing was recorded, retry later");
		bookings_op_free(op);
		return;
	}
	json_t *row = op->a.rows ? json_array_get(op->a.rows, 0) : NULL;
	switch (op->kind) {
	case BOP_CREATE:
		if (row == NULL)
			/* Taken meanwhile by a transaction the statement could not see. */
			apireq_error(op->a.reply, op->a.request, 503, "retry", NULL,
				     "the booking is being recorded; retry");
		else
			bookings_created(op, row);
		break;
	case BOP_HOSPITALS: {
		json_t *list = json_array();
		for (size_t i = 0; op->a.rows && i < json_array_size(op->a.rows); i++) {
			json_t *r = json_array_get(op->a.rows, i);
			json_t *departments = json_loads(bookings_cell(r, 2), 0, NULL);
			json_array_append_new(
				list, json_pack("{s:s,s:s,s:o}", "code", bookings_cell(r, 0),
						"name", bookings_cell(r, 1), "departments",
						departments ? departments : json_array()));
		}
		apireq_reply_json(
			op->a.reply, op->a.request, 200,
			json_pack("{s:s,s:o}", "centre", op->a.params[0], "hospitals", list), false);
		break;
	}
	case BOP_BY_CALL: {
		json_t *list = json_array();
		for (size_t i = 0; op->a.rows && i < json_array_size(op->a.rows); i++)
			json_array_append_new(list, bookings_json(json_array_get(op->a.rows, i), 0));
		apireq_reply_json(
			op->a.reply, op->a.request, 200,
			json_pack("{s:s,s:o}", "call_id", op->a.params[1], "bookings", list), false);
		break;
	}
	}
	bookings_op_free(op);
}

/* --- POST /v1/bookings ---------------------------------------------------------- */

/* A POST in flight: its answer is counted for /metrics on the way out. */
struct bookings_post {
	struct bookings *b;
	ingest_reply_fn reply;
	void *request;
};

static void bookings_count_reply(void *arg, const struct ingest_reply *r)
{
	struct bookings_post *post = arg;
	struct metrics *m = post->b->metrics;
	if (m != NULL) {
		if (r->status == 201)
			m->bookings_created++;
		else if (r->status == 200)
			m->bookings_replayed++;
		else if (r->status >= 400 && r->status < 500)
			m->bookings_refused++;
	}
	post->reply(post->request, r);
	free(post);
}

/* Checks the body and submits b_create. who is the agent, or NULL for the
 * gateway. Answers through reply on every path. */
static void bookings_create(struct bookings *b, const struct router_identity *who, const char *body,
			    size_t len, ingest_reply_fn reply, void *request)
{
	static const char *const agent_fields[] = {"booking_no", "hospital", "department",
						   "visit_date", "channel",  "call_id",
						   "booked_at",  NULL};
	static const char *const gateway_fields[] = {"booking_no", "hospital", "department",
						     "visit_date", "channel",  "call_id",
						     "booked_at",  "centre",   "agent",
						     NULL};
	bool failed = false;
	json_t *root = apireq_parse(body, len, reply, request);
	if (root == NULL)
		return;
	if (!apireq_only(root, who ? agent_fields : gateway_fields, reply, request))
		goto out;
	const char *number =
		apireq_string(root, "booking_no", true, BOOKINGS_NO_MAX, reply, request, &failed);
	const char *hospital =
		apireq_string(root, "hospital", true, BOOKINGS_CODE_MAX, reply, request, &failed);
	const char *department =
		apireq_string(root, "department", true, BOOKINGS_CODE_MAX, reply, request, &failed);
	const char *visit =
		apireq_string(root, "visit_date", true, BOOKINGS_DATE_LEN, reply, request, &failed);
	const char *channel = apireq_string(root, "channel", true, 16, reply, request, &failed);
	const char *call =
		apireq_string(root, "call_id", true, EVENT_ID_MAX, reply, request, &failed);
	const char *booked =
		apireq_string(root, "booked_at", false, BOOKINGS_TIME_MAX, reply, request, &failed);
	const char *centre = who ? who->centre :
				   apireq_string(root, "centre", true, EVENT_CENTRE_MAX, reply,
						 request, &failed);
	const char *agent =
		who ? who->agent :
		      apireq_string(root, "agent", false, EVENT_ID_MAX, reply, request, &failed);
	if (failed)
		goto out;
	/* The alphabets of the schema's checks, so that nothing reaches the
	 * statement that it would refuse with an error. */
	const char *bad_field = NULL, *bad_message = NULL;
	if (!bookings_all(number, event_id_char_ok)) {
		bad_field = "booking_no";
		bad_message = "booking_no: letters, digits and . _ : - only";
	} else if (!bookings_all(hospital, event_centre_char_ok)) {
		bad_field = "hospital";
		bad_message = "hospital: a hospital code (a-z, 0-9, _ and -)";
	} else if (!bookings_all(department, event_centre_char_ok)) {
		bad_field = "department";
		bad_message = "department: a department code (a-z, 0-9, _ and -)";
	} else if (!bookings_date_ok(visit)) {
		bad_field = "visit_date";
		bad_message = "visit_date: a date YYYY-MM-DD that exists";
	} else if (strcmp(channel, "phone") != 0) {
		bad_field = "channel";
		bad_message = "channel: only phone bookings are made through this API; other "
			      "channels come in with hotline-admin bookings import";
	} else if (!bookings_all(call, event_id_char_ok)) {
		bad_field = "call_id";
		bad_message = "call_id: letters, digits and . _ : - only";
	} else if (!who && !bookings_all(centre, event_centre_char_ok)) {
		bad_field = "centre";
		bad_message = "centre: a centre code (a-z, 0-9, _ and -)";
	} else if (!who && agent && !bookings_all(agent, event_id_char_ok)) {
		bad_field = "agent";
		bad_message = "agent: letters, digits and . _ : - only";
	}
	if (bad_field != NULL) {
		apireq_error(reply, request, 400, "invalid_field", bad_field, "%s", bad_message);
		goto out;
	}
	int64_t now = timeutil_now_usec(), booked_at = 0;
	if (booked && timeutil_parse_rfc3339(booked, &booked_at) != 0) {
		apireq_error(reply, request, 400, "invalid_field", "booked_at",
			     "booked_at: expected RFC 3339 with an offset, e.g. "
			     "2019-03-04T09:17:30+08:00");
		goto out;
	}
	if (booked && booked_at > now + BOOKINGS_AHEAD_USEC) {
		apireq_error(reply, request, 422, "invalid_time", "booked_at",
			     "booked_at is more than 5 minutes ahead of the broker's clock");
		goto out;
	}
	/* The agent's call: the router knows whom it connected; once the call
	 * has ended, its row names the agent (checked by the statement). */
	bool call_checked = who == NULL ||
			    (b->router != NULL &&
			     router_agent_handles_call(b->router, who->centre, who->agent, call));

	struct bookings_op *op = bookings_op_new(b, BOP_CREATE, "b_create", reply, request);
	if (op == NULL) {
		apireq_error(reply, request, 500, "internal", NULL, "out of memory");
		goto out;
	}
	int rc = 0;
	rc |= bookings_param(op, centre);
	rc |= bookings_param(op, who ? "agent" : "gateway");
	rc |= bookings_param(op, number);
	rc |= bookings_param(op, hospital);
	rc |= bookings_param(op, department);
	rc |= bookings_param(op, visit);
	rc |= bookings_param(op, call);
	rc |= bookings_param(op, agent);
	rc |= booked ? bookings_param_int(op, booked_at) : bookings_param(op, NULL);
	rc |= bookings_param_int(op, now);
	rc |= bookings_param(op, call_checked ? "true" : "false");
	if (rc != 0) {
		bookings_op_free(op);
		apireq_error(reply, request, 500, "internal", NULL, "out of memory");
		goto out;
	}
	bookings_submit(op);
out:
	json_decref(root);
}

/* --- requests ------------------------------------------------------------------ */

void bookings_request(struct bookings *b, const char *method, const char *path, const char *query,
		      bool gateway, const char *token, const char *body, size_t len,
		      ingest_reply_fn reply, void *request)
{
	bool get = strcmp(method, "GET") == 0;
	bool hospitals = strcmp(path, "hospitals") == 0;
	if (!hospitals && strcmp(path, "bookings") != 0) {
		apireq_error(reply, request, 404, "not_found", NULL,
			     "no such route (/v1/bookings, /v1/hospitals)");
		return;
	}
	if (hospitals && !get) {
		apireq_error(reply, request, 405, "method_not_allowed", NULL,
			     "use GET for /v1/hospitals");
		return;
	}
	struct router_identity who;
	if (!gateway && (b->router == NULL || router_identify(b->router, token, &who) != 0)) {
		apireq_error(reply, request, 401, "unauthorised", NULL,
			     "a valid agent token (Authorization: Bearer ...) or, for the "
			     "gateway, a valid signature is required");
		return;
	}
	if (!get) {
		struct bookings_post *post = malloc(sizeof *post);
		if (post == NULL) {
			apireq_error(reply, request, 500, "internal", NULL, "out of memory");
			return;
		}
		*post = (struct bookings_post){b, reply, request};
		bookings_create(b, gateway ? NULL : &who, body, len, bookings_count_reply, post);
		return;
	}
	if (gateway) {
		apireq_error(reply, request, 401, "unauthorised", NULL,
			     "reading bookings and hospitals needs an agent token");
		return;
	}
	struct bookings_op *op;
	int rc = 0;
	if (hospitals) {
		op = bookings_op_new(b, BOP_HOSPITALS, "b_hospitals", reply, request);
		if (op != NULL)
			rc = bookings_param(op, who.centre);
	} else {
		struct evkeyvalq q;
		char call[EVENT_ID_MAX + 1] = "";
		bool parsed = query != NULL && evhttp_parse_query_str(query, &q) == 0;
		const char *value = parsed ? evhttp_find_header(&q, "call_id") : NULL;
		bool ok = value != NULL && value[0] != '\0' && strlen(value) <= EVENT_ID_MAX &&
			  bookings_all(value, event_id_char_ok);
		if (ok)
			memcpy(call, value, strlen(value) + 1);
		if (parsed)
			evhttp_clear_headers(&q);
		if (!ok) {
			apireq_error(reply, request, 400, value ? "invalid_field" : "missing_field",
				     "call_id", "add ?call_id=ID (letters, digits and . _ : -)");
			return;
		}
		op = bookings_op_new(b, BOP_BY_CALL, "b_by_call", reply, request);
		if (op != NULL) {
			rc |= bookings_param(op, who.centre);
			rc |= bookings_param(op, call);
		}
	}
	if (op == NULL || rc != 0) {
		if (op != NULL)
			bookings_op_free(op);
		apireq_error(reply, request, 500, "internal", NULL, "out of memory");
		return;
	}
	bookings_submit(op);
}

/* --- lifecycle ------------------------------------------------------------------ */

struct bookings *bookings_new(struct metrics *metrics)
{
	struct bookings *b = calloc(1, sizeof *b);
	if (b == NULL)
		return NULL;
	b->metrics = metrics;
	return b;
}

void bookings_attach(struct bookings *b, struct store *store, struct router *router)
{
	b->store = store;
	b->router = router;
}

void bookings_free(struct bookings *b)
{
	free(b);
}
