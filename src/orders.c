/* orders.c: work orders, tickets and the outbox in the broker (see orders.h). */
#include "orders.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <sodium.h>

#include "apireq.h"
#include "category.h"
#include "event.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "privacy.h"
#include "router.h"
#include "ticket.h"
#include "timeutil.h"
#include "workcal.h"
#include "workorder.h"

#define ORDERS_CONTENT_MAX 8000 /* characters */
#define ORDERS_TITLE_MAX 200
#define ORDERS_TEXT_MAX 4000
#define ORDERS_NAME_MAX 100
#define ORDERS_LIST_MAX 200

static const char *const orders_platform_names[] = {"city_12345", "province_12345"};
#define ORDERS_PLATFORMS 2

struct orders {
	struct event_base *base;
	struct metrics *metrics;
	struct wo_config *wc;
	struct store *store;
	struct router *router;
	struct outbox *outbox;
	char *caller_key;
	char *data_key;
};

/* What an op does when its statement has committed. */
enum orders_op_kind {
	OOP_INTAKE,
	OOP_READ_ORDER,  /* the order before an action */
	OOP_ACTION,      /* the update of an action */
	OOP_GET,         /* one order and its history */
	OOP_LIST,        /* orders of a view */
	OOP_REVEAL,      /* the sealed phone, with its audit row */
	OOP_TICKET_NEW,
	OOP_TICKET_READ, /* a ticket before a change */
	OOP_TICKET_CHANGE,
	OOP_TICKET_GET,
	OOP_TICKET_LIST,
	OOP_OUTBOX_FETCH,
	OOP_OUTBOX_RECORD,
};

struct orders_op {
	struct apireq_op a; /* first: the store hands back &a.sop */
	struct orders *o;
	enum orders_op_kind kind;
	/* the request, for two-step changes */
	struct router_identity who;
	json_t *body;
	int64_t id;
	int64_t record_id;
};

/* --- statements -------------------------------------------------------------- */

#define ORDERS_COLUMNS                                                                          \
	"id, centre, source, external_no, category, urgent, title, stage,"                      \
	" (extract(epoch FROM received_at) * 1000000)::bigint,"                                 \
	" (extract(epoch FROM sign_due) * 1000000)::bigint,"                                    \
	" (extract(epoch FROM reply_due) * 1000000)::bigint, coalesce(assigned_agent, ''),"     \
	" returned_count, extended_count, coalesce(citizen_phone_masked, ''), version"
enum {
	OC_ID, OC_CENTRE, OC_SOURCE, OC_EXTERNAL, OC_CATEGORY, OC_URGENT, OC_TITLE, OC_STAGE,
	OC_RECEIVED, OC_SIGN_DUE, OC_REPLY_DUE, OC_AGENT, OC_RETURNED, OC_EXTENDED, OC_PHONE,
	OC_VERSION, OC_COUNT
};

#define TICKET_COLUMNS                                                                          \
	"id, centre, kind, state, coalesce(call_id, ''), coalesce(caller_masked, ''), subject,"  \
	" coalesce(assigned_agent, ''), coalesce(assigned_group, ''),"                          \
	" coalesce((extract(epoch FROM due_at) * 1000000)::bigint, 0), created_by,"            \
	" (extract(epoch FROM created_at) * 1000000)::bigint, version"
enum {
	TC_ID, TC_CENTRE, TC_KIND, TC_STATE, TC_CALL, TC_CALLER, TC_SUBJECT, TC_AGENT, TC_GROUP,
	TC_DUE, TC_CREATED_BY, TC_CREATED_AT, TC_VERSION, TC_COUNT
};

static const struct store_statement orders_stmts[] = {
	/* $1 centre $2 source $3 external_no $4 sha hex $5 category $6 urgent $7 title
	 * $8 content $9 name sealed hex $10 phone hash hex $11 phone masked
	 * $12 phone sealed hex $13 received $14 sign due $15 reply due */
	{"o_intake",
	 "WITH ins AS (INSERT INTO work_orders (centre, source, external_no, payload_sha256, category,"
	 " urgent, title, content, citizen_name_sealed, citizen_phone_hash, citizen_phone_masked,"
	 " citizen_phone_sealed, received_at, sign_due, reply_due)"
	 " VALUES ($1, $2, $3, decode($4, 'hex'), $5, $6::boolean, $7, $8, decode($9, 'hex'),"
	 " decode($10, 'hex'), $11, decode($12, 'hex'), hotline_usec($13::bigint),"
	 " hotline_usec($14::bigint), hotline_usec($15::bigint))"
	 " ON CONFLICT (source, external_no) DO NOTHING RETURNING *),"
	 " h AS (INSERT INTO work_order_history (order_id, at, actor, action, to_stage)"
	 " SELECT id, now(), 'platform:' || source, 'intake', stage FROM ins)"
	 " SELECT 'new', " ORDERS_COLUMNS " FROM ins"
	 " UNION ALL SELECT CASE WHEN payload_sha256 = decode($4, 'hex') THEN 'replay'"
	 " ELSE 'conflict' END, " ORDERS_COLUMNS " FROM work_orders"
	 " WHERE source = $2 AND external_no = $3 AND NOT EXISTS (SELECT 1 FROM ins)"},
	{"o_read", "SELECT " ORDERS_COLUMNS " FROM work_orders WHERE id = $1::bigint"},
	/* $1 id $2 new stage $3 version $4 actor $5 action $6 from stage $7 detail json
	 * $8 assign agent|NULL $9 new reply_due|NULL $10 notify platform */
	{"o_action",
	 "WITH u AS (UPDATE work_orders SET stage = $2, version = version + 1, updated_at = now(),"
	 " assigned_agent = coalesce($8, assigned_agent),"
	 " reply_due = coalesce(hotline_usec($9::bigint), reply_due),"
	 " returned_count = returned_count + ($5 = 'return')::int,"
	 " extended_count = extended_count + ($5 = 'extend')::int"
	 " WHERE id = $1::bigint AND version = $3::int RETURNING *),"
	 " h AS (INSERT INTO work_order_history (order_id, at, actor, action, from_stage, to_stage,"
	 " detail) SELECT id, now(), $4, $5, $6, stage, $7::jsonb FROM u),"
	 " x AS (INSERT INTO outbox (platform, idempotency_key, payload)"
	 " SELECT source, source || ':' || external_no || ':' || version,"
	 " jsonb_build_object('external_no', external_no, 'action', $5, 'stage', stage,"
	 " 'at', now(), 'detail', $7::jsonb, 'reply_due', reply_due) FROM u WHERE $10::boolean)"
	 " SELECT " ORDERS_COLUMNS " FROM u"},
	{"o_history",
	 "SELECT " ORDERS_COLUMNS ", coalesce((SELECT json_agg(json_build_object('at', h.at,"
	 " 'actor', h.actor, 'action', h.action, 'from', h.from_stage, 'to', h.to_stage,"
	 " 'detail', h.detail) ORDER BY h.seq) FROM work_order_history h WHERE h.order_id = w.id),"
	 " '[]')::text FROM work_orders w WHERE id = $1::bigint"},
	/* $1 centre $2 view $3 agent $4 now $5 yellow usec */
	{"o_list",
	 "SELECT " ORDERS_COLUMNS " FROM work_orders WHERE centre = $1"
	 " AND stage NOT IN ('closed', 'returned')"
	 " AND ($2 <> 'mine' OR assigned_agent = $3)"
	 " AND ($2 <> 'overdue' OR (CASE WHEN stage = 'received' THEN sign_due ELSE reply_due END)"
	 "      <= hotline_usec($4::bigint))"
	 " AND ($2 <> 'near_due' OR (CASE WHEN stage = 'received' THEN sign_due ELSE reply_due END)"
	 "      BETWEEN hotline_usec($4::bigint) AND hotline_usec($4::bigint + $5::bigint))"
	 " ORDER BY CASE WHEN stage = 'received' THEN sign_due ELSE reply_due END, id LIMIT 200"},
	/* $1 id $2 actor $3 centre $4 reason */
	{"o_reveal",
	 "WITH a AS (INSERT INTO pii_audit (actor, centre, subject, field, reason)"
	 " SELECT $2, centre, 'work_order:' || id, 'citizen_phone', $4 FROM work_orders"
	 " WHERE id = $1::bigint AND centre = $3 RETURNING 1)"
	 " SELECT encode(citizen_phone_sealed, 'hex') FROM work_orders, a"
	 " WHERE id = $1::bigint AND centre = $3"},
	/* $1 centre $2 kind $3 call $4 subject $5 due|NULL $6 actor */
	{"t_new",
	 "WITH c AS (SELECT caller_hash, caller_masked FROM calls WHERE centre = $1 AND call_id = $3),"
	 " t AS (INSERT INTO tickets (centre, kind, call_id, caller_hash, caller_masked, subject,"
	 " due_at, created_by, assigned_agent) SELECT $1, $2, $3, (SELECT caller_hash FROM c),"
	 " (SELECT caller_masked FROM c), $4, hotline_usec($5::bigint), $6, $7 RETURNING *),"
	 " e AS (INSERT INTO ticket_entries (ticket_id, actor, kind, body)"
	 " SELECT id, created_by, 'created', subject FROM t)"
	 " SELECT " TICKET_COLUMNS " FROM t"},
	{"t_read", "SELECT " TICKET_COLUMNS " FROM tickets WHERE id = $1::bigint"},
	/* $1 id $2 version $3 new state|NULL $4 agent|NULL $5 group|NULL $6 actor $7 entry kind
	 * $8 entry body */
	{"t_change",
	 "WITH u AS (UPDATE tickets SET state = coalesce($3, state),"
	 " assigned_agent = coalesce($4, assigned_agent), assigned_group = coalesce($5, assigned_group),"
	 " updated_at = now(), version = version + 1 WHERE id = $1::bigint AND version = $2::int"
	 " RETURNING *),"
	 " e AS (INSERT INTO ticket_entries (ticket_id, actor, kind, body) SELECT id, $6, $7, $8 FROM u)"
	 " SELECT " TICKET_COLUMNS " FROM u"},
	{"t_get",
	 "SELECT " TICKET_COLUMNS ", coalesce((SELECT json_agg(json_build_object('at', e.at,"
	 " 'actor', e.actor, 'kind', e.kind, 'body', e.body) ORDER BY e.seq)"
	 " FROM ticket_entries e WHERE e.ticket_id = t.id), '[]')::text"
	 " FROM tickets t WHERE id = $1::bigint"},
	/* $1 centre $2 state|'' $3 call|'' $4 due_before|0 $5 agent|'' */
	{"t_list",
	 "SELECT " TICKET_COLUMNS " FROM tickets t WHERE centre = $1"
	 " AND ($2 = '' OR state = $2) AND ($5 = '' OR assigned_agent = $5)"
	 " AND ($3 = '' OR caller_hash = (SELECT caller_hash FROM calls c"
	 "      WHERE c.centre = $1 AND c.call_id = $3))"
	 " AND ($4::bigint = 0 OR due_at < hotline_usec($4::bigint))"
	 " ORDER BY due_at NULLS LAST, id LIMIT 200"},
	{"o_outbox_fetch",
	 "SELECT id, platform, idempotency_key, payload::text, attempts FROM outbox"
	 " WHERE delivered_at IS NULL AND next_attempt_at <= now() ORDER BY id LIMIT $1::int"},
	/* $1 id $2 delivered $3 next attempt usec $4 error */
	{"o_outbox_record",
	 "UPDATE outbox SET attempts = attempts + 1,"
	 " delivered_at = CASE WHEN $2::boolean THEN now() END,"
	 " next_attempt_at = hotline_usec($3::bigint), last_error = $4 WHERE id = $1::bigint"},
};

const struct store_statement *orders_statements(size_t *n)
{
	*n = sizeof orders_stmts / sizeof orders_stmts[0];
	return orders_stmts;
}

/* --- small helpers ------------------------------------------------------------ */

static json_t *orders_time(int64_t usec)
{
	char text[TIMEUTIL_RFC3339_LEN];
	if (usec <= 0)
		return json_null();
	timeutil_format_local(usec, text);
	return json_string(text);
}

static const char *orders_cell(json_t *row, size_t col)
{
	const char *v = json_string_value(json_array_get(row, col));
	return v ? v : "";
}

static int64_t orders_cell_int(json_t *row, size_t col)
{
	return strtoll(orders_cell(row, col), NULL, 10);
}

/* An order row (ORDERS_COLUMNS) as the API shows it. */
static json_t *orders_order_json(const struct orders *o, json_t *row)
{
	enum wo_stage stage;
	if (wo_stage_from_name(orders_cell(row, OC_STAGE), &stage) != 0)
		stage = WO_CLOSED; /* a stage this build does not know: not open */
	int64_t sign_due = orders_cell_int(row, OC_SIGN_DUE);
	int64_t reply_due = orders_cell_int(row, OC_REPLY_DUE);
	int64_t due = stage == WO_RECEIVED ? sign_due : reply_due;
	bool open = stage == WO_RECEIVED || stage == WO_SIGNED || stage == WO_IN_PROGRESS;
	const char *status = open ? workcal_status_name(wo_status(o->wc, due, timeutil_now_usec()))
				  : "done";
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:s,s:I,s:I,s:s,s:I}",
			 "id", (json_int_t)orders_cell_int(row, OC_ID), "centre",
			 orders_cell(row, OC_CENTRE), "source", orders_cell(row, OC_SOURCE),
			 "external_no", orders_cell(row, OC_EXTERNAL), "category",
			 orders_cell(row, OC_CATEGORY), "urgent",
			 strcmp(orders_cell(row, OC_URGENT), "t") == 0, "title",
			 orders_cell(row, OC_TITLE), "stage", orders_cell(row, OC_STAGE),
			 "received_at", orders_time(orders_cell_int(row, OC_RECEIVED)), "sign_due",
			 orders_time(sign_due), "reply_due", orders_time(reply_due), "due",
			 orders_time(due), "status", status, "assigned_agent",
			 orders_cell(row, OC_AGENT), "returned_count",
			 (json_int_t)orders_cell_int(row, OC_RETURNED), "extended_count",
			 (json_int_t)orders_cell_int(row, OC_EXTENDED), "citizen_phone",
			 orders_cell(row, OC_PHONE), "version",
			 (json_int_t)orders_cell_int(row, OC_VERSION));
}

static json_t *orders_ticket_json(json_t *row)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:o,s:I}", "id",
			 (json_int_t)orders_cell_int(row, TC_ID), "centre", orders_cell(row, TC_CENTRE),
			 "kind", orders_cell(row, TC_KIND), "state", orders_cell(row, TC_STATE),
			 "call_id", orders_cell(row, TC_CALL), "caller", orders_cell(row, TC_CALLER),
			 "subject", orders_cell(row, TC_SUBJECT), "assigned_agent",
			 orders_cell(row, TC_AGENT), "assigned_group", orders_cell(row, TC_GROUP),
			 "due", orders_time(orders_cell_int(row, TC_DUE)), "created_by",
			 orders_cell(row, TC_CREATED_BY), "created_at",
			 orders_time(orders_cell_int(row, TC_CREATED_AT)), "version",
			 (json_int_t)orders_cell_int(row, TC_VERSION));
}

/* --- ops ---------------------------------------------------------------------- */

static void orders_op_done(struct store_op *sop, enum store_status status);

static struct orders_op *orders_op_new(struct orders *o, enum orders_op_kind kind,
				       const char *stmt, ingest_reply_fn reply, void *request)
{
	struct orders_op *op = calloc(1, sizeof *op);
	if (op == NULL)
		return NULL;
	op->o = o;
	op->kind = kind;
	apireq_op_init(&op->a, stmt, orders_op_done, op, reply, request);
	return op;
}

/* Out of memory, the parameter is NULL, as the statement then finds. */
static void orders_param(struct orders_op *op, const char *value)
{
	if (apireq_op_param(&op->a, value) != 0)
		return;
}

static void orders_param_int(struct orders_op *op, int64_t v)
{
	char text[24];
	snprintf(text, sizeof text, "%" PRId64, v);
	orders_param(op, text);
}

static void orders_op_free(struct orders_op *op)
{
	apireq_op_release(&op->a);
	json_decref(op->body);
	free(op);
}

/* Submits op; answers 503 when the store is not ready. */
static void orders_submit(struct orders_op *op)
{
	if (op->o->store == NULL || store_submit(op->o->store, &op->a.sop) != 0)
		op->a.sop.done(&op->a.sop, STORE_UNAVAILABLE);
}

/* --- intake ------------------------------------------------------------------- */

static bool orders_id_ok(const char *s)
{
	for (; *s; s++)
		if (!event_id_char_ok((unsigned char)*s))
			return false;
	return true;
}

static void orders_hex(const unsigned char *bin, size_t n, char **out)
{
	*out = malloc(2 * n + 1);
	if (*out)
		sodium_bin2hex(*out, 2 * n + 1, bin, n);
}

/* A sealed copy of text as hex (free it), or NULL. */
static char *orders_seal_hex(const struct orders *o, const char *text)
{
	size_t n = strlen(text);
	unsigned char *sealed = malloc(n + PRIVACY_SEAL_OVERHEAD);
	char *hex = NULL;
	if (sealed == NULL)
		return NULL;
	privacy_seal(o->data_key, text, n, sealed);
	orders_hex(sealed, n + PRIVACY_SEAL_OVERHEAD, &hex);
	free(sealed);
	return hex;
}

void orders_intake(struct orders *o, const char *platform, const char *body, size_t len,
		   ingest_reply_fn reply, void *request)
{
	static const char *const fields[] = {"external_no", "centre", "received_at", "category",
					     "urgent", "title", "content", "citizen", NULL};
	static const char *const citizen_fields[] = {"name", "phone", NULL};
	bool failed = false;
	json_t *root = apireq_parse(body, len, reply, request);
	if (root == NULL)
		return;
	if (!apireq_only(root, fields, reply, request))
		goto out;
	const char *external = apireq_string(root, "external_no", true, EVENT_ID_MAX, reply,
					     request, &failed);
	const char *centre = apireq_string(root, "centre", true, EVENT_CENTRE_MAX, reply, request,
					   &failed);
	const char *received = apireq_string(root, "received_at", true, 40, reply, request, &failed);
	const char *cat = apireq_string(root, "category", true, 32, reply, request, &failed);
	const char *title = apireq_string(root, "title", true, ORDERS_TITLE_MAX, reply, request,
					  &failed);
	const char *content = apireq_string(root, "content", true, ORDERS_CONTENT_MAX, reply,
					    request, &failed);
	if (failed)
		goto out;
	json_t *urgent_v = json_object_get(root, "urgent");
	if (urgent_v != NULL && !json_is_boolean(urgent_v)) {
		apireq_error(reply, request, 400, "invalid_field", "urgent", "urgent: true or false");
		goto out;
	}
	bool urgent = json_is_true(urgent_v);
	if (!orders_id_ok(external)) {
		apireq_error(reply, request, 400, "invalid_field", "external_no",
			     "external_no: letters, digits and . _ : - only");
		goto out;
	}
	enum category category;
	if (category_from_name(cat, &category) != 0) {
		apireq_error(reply, request, 400, "invalid_field", "category",
			     "category: one of the call categories (complaint, consultation, ...)");
		goto out;
	}
	int64_t received_at;
	if (timeutil_parse_rfc3339(received, &received_at) != 0) {
		apireq_error(reply, request, 400, "invalid_field", "received_at",
			     "received_at: expected RFC 3339 with an offset");
		goto out;
	}
	char phone[PRIVACY_NUMBER_MAX] = "";
	const char *name = NULL;
	json_t *citizen = json_object_get(root, "citizen");
	if (citizen != NULL) {
		if (!json_is_object(citizen) || !apireq_only(citizen, citizen_fields, reply, request)) {
			if (!json_is_object(citizen))
				apireq_error(reply, request, 400, "invalid_field", "citizen",
					     "citizen: an object with name and phone");
			goto out;
		}
		name = apireq_string(citizen, "name", false, ORDERS_NAME_MAX, reply, request, &failed);
		const char *raw = apireq_string(citizen, "phone", false, 40, reply, request, &failed);
		if (failed)
			goto out;
		if (raw != NULL && privacy_normalise_number(raw, phone) != 0) {
			apireq_error(reply, request, 400, "invalid_field", "citizen.phone",
				     "citizen.phone: expected a phone number");
			goto out;
		}
	}
	int64_t sign_due, reply_due;
	int rc = wo_deadlines(o->wc, category, urgent, received_at, &sign_due, &reply_due);
	if (rc != 0) {
		apireq_error(reply, request, 422, "no_calendar", "received_at",
			     "received_at: the working-day calendar does not cover this date");
		goto out;
	}
	/* The identity of the request: its canonical form without the platform's
	 * formatting, so that a retry re-serialised differently still matches. */
	char *canonical = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	unsigned char sha[32];
	crypto_hash_sha256(sha, (const unsigned char *)(canonical ? canonical : ""),
			   canonical ? strlen(canonical) : 0);
	free(canonical);

	struct orders_op *op = orders_op_new(o, OOP_INTAKE, "o_intake", reply, request);
	if (op == NULL) {
		apireq_error(reply, request, 500, "internal", NULL, "out of memory");
		goto out;
	}
	char *hex = NULL;
	orders_param(op, centre);
	orders_param(op, platform);
	orders_param(op, external);
	orders_hex(sha, sizeof sha, &hex);
	orders_param(op, hex);
	free(hex);
	orders_param(op, category_name(category));
	orders_param(op, urgent ? "true" : "false");
	orders_param(op, title);
	orders_param(op, content);
	char *sealed_name = name ? orders_seal_hex(o, name) : NULL;
	orders_param(op, sealed_name);
	free(sealed_name);
	if (phone[0]) {
		unsigned char ph[PRIVACY_HASH_BYTES];
		char masked[PRIVACY_NUMBER_MAX];
		privacy_hash_number((const unsigned char *)o->caller_key, strlen(o->caller_key), phone,
				    ph);
		privacy_mask_number(phone, masked);
		orders_hex(ph, sizeof ph, &hex);
		orders_param(op, hex);
		free(hex);
		orders_param(op, masked);
		char *sealed = orders_seal_hex(o, phone);
		orders_param(op, sealed);
		free(sealed);
		sodium_memzero(phone, sizeof phone);
	} else {
		orders_param(op, NULL);
		orders_param(op, NULL);
		orders_param(op, NULL);
	}
	orders_param_int(op, received_at);
	orders_param_int(op, sign_due);
	orders_param_int(op, reply_due);
	orders_submit(op);
out:
	json_decref(root);
}

/* --- actions on orders ---------------------------------------------------------- */

static int orders_identify(struct orders *o, const char *token, struct router_identity *who,
			   ingest_reply_fn reply, void *request)
{
	if (o->router == NULL || router_identify(o->router, token, who) != 0) {
		apireq_error(reply, request, 401, "unauthorised", NULL,
			     "a valid agent token is required (Authorization: Bearer ...)");
		return -1;
	}
	return 0;
}

/* The order was read: check the action against its stage, then write. */
static void orders_after_read(struct orders_op *read)
{
	struct orders *o = read->o;
	json_t *row = read->a.rows ? json_array_get(read->a.rows, 0) : NULL;
	if (row == NULL) {
		apireq_error(read->a.reply, read->a.request, 404, "unknown_order", NULL, "no such order");
		return;
	}
	if (strcmp(orders_cell(row, OC_CENTRE), read->who.centre) != 0) {
		apireq_error(read->a.reply, read->a.request, 404, "unknown_order", NULL, "no such order");
		return;
	}
	const char *action_name = json_string_value(json_object_get(read->body, "action"));
	enum wo_action action;
	enum wo_stage from, to;
	char err[200];
	if (action_name == NULL || wo_action_from_name(action_name, &action) != 0) {
		apireq_error(read->a.reply, read->a.request, 400, "invalid_field", "action",
			     "action: sign, start, reply, revisit, close, return, extend or assign");
		return;
	}
	if (wo_stage_from_name(orders_cell(row, OC_STAGE), &from) != 0 ||
	    wo_apply(from, action, &to, err, sizeof err) != 0) {
		apireq_error(read->a.reply, read->a.request, 409, "illegal_transition", "action", "%s",
			     err);
		return;
	}
	const char *text = json_string_value(json_object_get(read->body, "text"));
	const char *reason = json_string_value(json_object_get(read->body, "reason"));
	const char *agent = json_string_value(json_object_get(read->body, "agent_id"));
	const char *new_due = json_string_value(json_object_get(read->body, "new_due"));
	int64_t due = 0;
	if ((action == WO_RETURN || action == WO_EXTEND) && (reason == NULL || !*reason)) {
		apireq_error(read->a.reply, read->a.request, 400, "missing_field", "reason",
			     "reason: %s needs a reason", action_name);
		return;
	}
	if (action == WO_EXTEND &&
	    (new_due == NULL || timeutil_parse_rfc3339(new_due, &due) != 0 ||
	     due <= orders_cell_int(row, OC_REPLY_DUE))) {
		apireq_error(read->a.reply, read->a.request, 400, "invalid_field", "new_due",
			     "new_due: an RFC 3339 time after the current due");
		return;
	}
	if (action == WO_ASSIGN && (agent == NULL || !orders_id_ok(agent))) {
		apireq_error(read->a.reply, read->a.request, 400, "invalid_field", "agent_id",
			     "agent_id: the agent to assign");
		return;
	}
	if (action == WO_REPLY && (text == NULL || !*text)) {
		apireq_error(read->a.reply, read->a.request, 400, "missing_field", "text",
			     "text: the reply to the citizen");
		return;
	}
	struct orders_op *op = orders_op_new(o, OOP_ACTION, "o_action", read->a.reply, read->a.request);
	if (op == NULL) {
		apireq_error(read->a.reply, read->a.request, 500, "internal", NULL, "out of memory");
		return;
	}
	read->a.reply = NULL; /* answered by op from now on */
	char actor[EVENT_ID_MAX + 8];
	snprintf(actor, sizeof actor, "agent:%s", read->who.agent);
	json_t *detail = json_object();
	if (text)
		json_object_set_new(detail, "text", json_string(text));
	if (reason)
		json_object_set_new(detail, "reason", json_string(reason));
	if (agent)
		json_object_set_new(detail, "agent_id", json_string(agent));
	if (new_due)
		json_object_set_new(detail, "new_due", json_string(new_due));
	json_t *satisfied = json_object_get(read->body, "satisfied");
	if (json_is_boolean(satisfied))
		json_object_set(detail, "satisfied", satisfied);
	char *detail_text = json_dumps(detail, JSON_COMPACT);
	json_decref(detail);
	orders_param(op, orders_cell(row, OC_ID));
	orders_param(op, wo_stage_name(to));
	orders_param(op, orders_cell(row, OC_VERSION));
	orders_param(op, actor);
	orders_param(op, action_name);
	orders_param(op, wo_stage_name(from));
	orders_param(op, detail_text ? detail_text : "{}");
	free(detail_text);
	orders_param(op, agent);
	if (action == WO_EXTEND)
		orders_param_int(op, due);
	else
		orders_param(op, NULL);
	orders_param(op, wo_platform_must_learn(action) ? "true" : "false");
	orders_submit(op);
}

static void orders_ticket_after_read(struct orders_op *read)
{
	json_t *row = read->a.rows ? json_array_get(read->a.rows, 0) : NULL;
	if (row == NULL || strcmp(orders_cell(row, TC_CENTRE), read->who.centre) != 0) {
		apireq_error(read->a.reply, read->a.request, 404, "unknown_ticket", NULL, "no such ticket");
		return;
	}
	const char *state = json_string_value(json_object_get(read->body, "state"));
	const char *assign = json_string_value(json_object_get(read->body, "assign"));
	const char *group = json_string_value(json_object_get(read->body, "group"));
	const char *entry_kind = json_string_value(json_object_get(read->body, "kind"));
	const char *entry_body = json_string_value(json_object_get(read->body, "body"));
	char actor[EVENT_ID_MAX + 8], body[300];
	snprintf(actor, sizeof actor, "agent:%s", read->who.agent);
	const char *kind = "state";
	const char *text = NULL;
	if (entry_kind != NULL) { /* a note or a reply */
		if ((strcmp(entry_kind, "note") != 0 && strcmp(entry_kind, "reply") != 0) ||
		    entry_body == NULL || !*entry_body || strlen(entry_body) > ORDERS_TEXT_MAX * 4) {
			apireq_error(read->a.reply, read->a.request, 400, "invalid_field", "kind",
				     "an entry is {\"kind\":\"note\"|\"reply\",\"body\":\"...\"}");
			return;
		}
		kind = entry_kind;
		text = entry_body;
		state = NULL;
	} else if (state != NULL) {
		enum ticket_state from, to;
		char err[200];
		if (ticket_state_from_name(state, &to) != 0) {
			apireq_error(read->a.reply, read->a.request, 400, "invalid_field", "state",
				     "state: new, open, pending, resolved or closed");
			return;
		}
		if (ticket_state_from_name(orders_cell(row, TC_STATE), &from) != 0 ||
		    ticket_transition(from, to, err, sizeof err) != 0) {
			apireq_error(read->a.reply, read->a.request, 409, "illegal_transition", "state",
				     "%s", err);
			return;
		}
		snprintf(body, sizeof body, "%s -> %s", orders_cell(row, TC_STATE), state);
		text = body;
	} else if (assign != NULL || group != NULL) {
		if ((assign && !orders_id_ok(assign)) || (group && !orders_id_ok(group))) {
			apireq_error(read->a.reply, read->a.request, 400, "invalid_field", "assign",
				     "assign / group: letters, digits and . _ : - only");
			return;
		}
		kind = "assign";
		snprintf(body, sizeof body, "%s%s%s", assign ? assign : "", assign && group ? " / " : "",
			 group ? group : "");
		text = body;
	} else {
		apireq_error(read->a.reply, read->a.request, 400, "missing_field", NULL,
			     "give a state, an assignment or an entry");
		return;
	}
	struct orders_op *op =
		orders_op_new(read->o, OOP_TICKET_CHANGE, "t_change", read->a.reply, read->a.request);
	if (op == NULL) {
		apireq_error(read->a.reply, read->a.request, 500, "internal", NULL, "out of memory");
		return;
	}
	read->a.reply = NULL;
	orders_param(op, orders_cell(row, TC_ID));
	orders_param(op, orders_cell(row, TC_VERSION));
	orders_param(op, state);
	orders_param(op, assign);
	orders_param(op, group);
	orders_param(op, actor);
	orders_param(op, kind);
	orders_param(op, text);
	orders_submit(op);
}

/* --- the dispatcher's source -------------------------------------------------- */

static void orders_outbox_delivered(struct orders *o, struct orders_op *op)
{
	if (o->outbox == NULL)
		return;
	if (op->kind == OOP_OUTBOX_RECORD) {
		outbox_recorded(o->outbox, op->record_id);
		return;
	}
	size_t n = op->a.rows ? json_array_size(op->a.rows) : 0;
	struct outbox_row *rows = calloc(n ? n : 1, sizeof *rows);
	if (rows == NULL)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *row = json_array_get(op->a.rows, i);
		rows[i].id = orders_cell_int(row, 0);
		rows[i].platform = orders_cell(row, 1);
		rows[i].key = orders_cell(row, 2);
		rows[i].payload = orders_cell(row, 3);
		rows[i].attempts = (int)orders_cell_int(row, 4);
	}
	outbox_rows(o->outbox, rows, n);
	free(rows);
}

/* --- commits ------------------------------------------------------------------ */

static void orders_op_done(struct store_op *sop, enum store_status status)
{
	struct orders_op *op = (struct orders_op *)sop;
	struct orders *o = op->o;

	if (status != STORE_COMMITTED) {
		if (op->a.reply)
			apireq_error(op->a.reply, op->a.request, 503, "store_unavailable", NULL,
				     "PostgreSQL is unavailable; nothing was recorded, retry later");
		if (op->kind == OOP_OUTBOX_FETCH && o->outbox)
			outbox_rows(o->outbox, NULL, 0);
		if (op->kind == OOP_OUTBOX_RECORD && o->outbox)
			outbox_recorded(o->outbox, op->record_id);
		orders_op_free(op);
		return;
	}
	json_t *row = op->a.rows ? json_array_get(op->a.rows, 0) : NULL;
	switch (op->kind) {
	case OOP_INTAKE: {
		if (row == NULL) {
			/* the same number came in from another request meanwhile */
			apireq_error(op->a.reply, op->a.request, 503, "retry", NULL,
				     "the order is being taken in; retry");
			break;
		}
		const char *outcome = orders_cell(row, 0);
		json_t *order = json_array();
		for (size_t c = 1; c < json_array_size(row); c++)
			json_array_append(order, json_array_get(row, c));
		if (strcmp(outcome, "conflict") == 0) {
			apireq_error(op->a.reply, op->a.request, 409, "external_no_conflict", "external_no",
				     "external_no %s was taken in before with other content; "
				     "send a new external_no",
				     orders_cell(order, OC_EXTERNAL));
		} else {
			bool fresh = strcmp(outcome, "new") == 0;
			if (fresh)
				log_info("orders", "work order %s of %s taken in (%s)",
					 orders_cell(order, OC_EXTERNAL), orders_cell(order, OC_SOURCE),
					 orders_cell(order, OC_CATEGORY));
			apireq_reply_json(op->a.reply, op->a.request, fresh ? 201 : 200,
					  orders_order_json(o, order), !fresh);
		}
		json_decref(order);
		break;
	}
	case OOP_READ_ORDER:
		orders_after_read(op);
		break;
	case OOP_ACTION:
		if (row == NULL) {
			apireq_error(op->a.reply, op->a.request, 409, "changed_meanwhile", NULL,
				     "the order changed while this action was checked; read it and "
				     "retry");
			break;
		}
		apireq_reply_json(op->a.reply, op->a.request, 200, orders_order_json(o, row), false);
		if (o->outbox)
			outbox_kick(o->outbox);
		break;
	case OOP_GET: {
		if (row == NULL) {
			apireq_error(op->a.reply, op->a.request, 404, "unknown_order", NULL, "no such order");
			break;
		}
		if (strcmp(orders_cell(row, OC_CENTRE), op->who.centre) != 0) {
			apireq_error(op->a.reply, op->a.request, 404, "unknown_order", NULL, "no such order");
			break;
		}
		json_t *j = orders_order_json(o, row);
		json_t *history = json_loads(orders_cell(row, OC_COUNT), 0, NULL);
		json_object_set_new(j, "history", history ? history : json_array());
		apireq_reply_json(op->a.reply, op->a.request, 200, j, false);
		break;
	}
	case OOP_LIST: {
		json_t *list = json_array();
		for (size_t i = 0; op->a.rows && i < json_array_size(op->a.rows); i++)
			json_array_append_new(list, orders_order_json(o, json_array_get(op->a.rows, i)));
		apireq_reply_json(op->a.reply, op->a.request, 200, json_pack("{s:o}", "orders", list),
				  false);
		break;
	}
	case OOP_REVEAL: {
		const char *hex = row ? orders_cell(row, 0) : "";
		size_t n = strlen(hex) / 2;
		unsigned char *sealed = malloc(n ? n : 1);
		char *clear = malloc(n + 1);
		long got = -1;
		if (sealed && clear && n > 0 &&
		    sodium_hex2bin(sealed, n, hex, strlen(hex), NULL, NULL, NULL) == 0)
			got = privacy_open(o->data_key, sealed, n, clear);
		if (row == NULL)
			apireq_error(op->a.reply, op->a.request, 404, "unknown_order", NULL,
				     "no such order");
		else if (got < 0)
			apireq_error(op->a.reply, op->a.request, 404, "no_phone", NULL,
				     "this order has no readable phone number");
		else
			apireq_reply_json(op->a.reply, op->a.request, 200,
					  json_pack("{s:I,s:s}", "id", (json_int_t)op->id,
						    "citizen_phone", clear),
					  false);
		if (clear)
			sodium_memzero(clear, n + 1);
		free(clear);
		free(sealed);
		break;
	}
	case OOP_TICKET_NEW:
	case OOP_TICKET_CHANGE:
		if (row == NULL) {
			apireq_error(op->a.reply, op->a.request, 409, "changed_meanwhile", NULL,
				     "the ticket changed meanwhile; read it and retry");
			break;
		}
		apireq_reply_json(op->a.reply, op->a.request, op->kind == OOP_TICKET_NEW ? 201 : 200,
				  orders_ticket_json(row), false);
		break;
	case OOP_TICKET_READ:
		orders_ticket_after_read(op);
		break;
	case OOP_TICKET_GET: {
		if (row == NULL || strcmp(orders_cell(row, TC_CENTRE), op->who.centre) != 0) {
			apireq_error(op->a.reply, op->a.request, 404, "unknown_ticket", NULL,
				     "no such ticket");
			break;
		}
		json_t *j = orders_ticket_json(row);
		json_t *entries = json_loads(orders_cell(row, TC_COUNT), 0, NULL);
		json_object_set_new(j, "entries", entries ? entries : json_array());
		apireq_reply_json(op->a.reply, op->a.request, 200, j, false);
		break;
	}
	case OOP_TICKET_LIST: {
		json_t *list = json_array();
		for (size_t i = 0; op->a.rows && i < json_array_size(op->a.rows); i++)
			json_array_append_new(list, orders_ticket_json(json_array_get(op->a.rows, i)));
		apireq_reply_json(op->a.reply, op->a.request, 200, json_pack("{s:o}", "tickets", list),
				  false);
		break;
	}
	case OOP_OUTBOX_FETCH:
	case OOP_OUTBOX_RECORD:
		orders_outbox_delivered(o, op);
		break;
	}
	orders_op_free(op);
}

/* --- requests ------------------------------------------------------------------ */

static const char *orders_query(const char *query, const char *name, char *out, size_t cap)
{
	out[0] = '\0';
	if (query == NULL)
		return NULL;
	size_t n = strlen(name);
	for (const char *p = query; p && *p;) {
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			const char *v = p + n + 1;
			size_t len = strcspn(v, "&");
			char raw[512];
			snprintf(raw, sizeof raw, "%.*s", (int)(len < sizeof raw ? len : sizeof raw - 1), v);
			char *decoded = evhttp_uridecode(raw, 1, NULL);
			snprintf(out, cap, "%s", decoded ? decoded : "");
			free(decoded);
			return out;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return NULL;
}

void orders_request(struct orders *o, const char *method, const char *path, const char *query,
		    const char *token, const char *body, size_t len, ingest_reply_fn reply,
		    void *request)
{
	struct router_identity who;
	if (orders_identify(o, token, &who, reply, request) != 0)
		return;
	bool get = strcmp(method, "GET") == 0;
	bool tickets = strncmp(path, "tickets", 7) == 0;
	const char *rest = path + (tickets ? 7 : 10); /* after "tickets" / "workorders" */
	char value[256], value2[256];

	if (*rest == '\0' || strcmp(rest, "/") == 0) {
		if (get && !tickets) {
			const char *view = orders_query(query, "view", value, sizeof value);
			if (view == NULL)
				view = "open";
			if (strcmp(view, "mine") && strcmp(view, "open") && strcmp(view, "overdue") &&
			    strcmp(view, "near_due")) {
				apireq_error(reply, request, 400, "invalid_field", "view",
					     "view: mine, open, overdue or near_due");
				return;
			}
			struct orders_op *op = orders_op_new(o, OOP_LIST, "o_list", reply, request);
			if (op == NULL)
				goto oom;
			op->who = who;
			orders_param(op, who.centre);
			orders_param(op, view);
			orders_param(op, who.agent);
			orders_param_int(op, timeutil_now_usec());
			orders_param_int(op, wo_yellow_usec(o->wc));
			orders_submit(op);
			return;
		}
		if (get && tickets) {
			struct orders_op *op =
				orders_op_new(o, OOP_TICKET_LIST, "t_list", reply, request);
			if (op == NULL)
				goto oom;
			op->who = who;
			orders_param(op, who.centre);
			orders_param(op, orders_query(query, "state", value, sizeof value) ? value : "");
			orders_param(op, orders_query(query, "caller_call_id", value2, sizeof value2)
						 ? value2
						 : "");
			int64_t before = 0;
			if (orders_query(query, "due_before", value, sizeof value) &&
			    timeutil_parse_rfc3339(value, &before) != 0) {
				orders_op_free(op);
				apireq_error(reply, request, 400, "invalid_field", "due_before",
					     "due_before: RFC 3339");
				return;
			}
			orders_param_int(op, before);
			orders_param(op, orders_query(query, "mine", value, sizeof value) ? who.agent
											: "");
			orders_submit(op);
			return;
		}
		if (!get && tickets) {
			static const char *const fields[] = {"kind", "call_id", "subject", "due", NULL};
			json_t *root = apireq_parse(body, len, reply, request);
			bool failed = false;
			if (root == NULL)
				return;
			if (!apireq_only(root, fields, reply, request)) {
				json_decref(root);
				return;
			}
			const char *kind = apireq_string(root, "kind", true, 32, reply, request, &failed);
			const char *call = apireq_string(root, "call_id", false, EVENT_ID_MAX, reply,
							 request, &failed);
			const char *subject = apireq_string(root, "subject", true, ORDERS_TITLE_MAX,
							    reply, request, &failed);
			const char *due = apireq_string(root, "due", false, 40, reply, request, &failed);
			enum ticket_kind k;
			int64_t due_at = 0;
			if (!failed && ticket_kind_from_name(kind, &k) != 0) {
				apireq_error(reply, request, 400, "invalid_field", "kind",
					     "kind: complaint, consultation_followup, callback or "
					     "crisis_callback");
				failed = true;
			}
			if (!failed && due && timeutil_parse_rfc3339(due, &due_at) != 0) {
				apireq_error(reply, request, 400, "invalid_field", "due", "due: RFC 3339");
				failed = true;
			}
			if (!failed && call && !orders_id_ok(call)) {
				apireq_error(reply, request, 400, "invalid_field", "call_id",
					     "call_id: letters, digits and . _ : - only");
				failed = true;
			}
			if (failed) {
				json_decref(root);
				return;
			}
			struct orders_op *op = orders_op_new(o, OOP_TICKET_NEW, "t_new", reply, request);
			if (op == NULL) {
				json_decref(root);
				goto oom;
			}
			char actor[EVENT_ID_MAX + 8];
			snprintf(actor, sizeof actor, "agent:%s", who.agent);
			orders_param(op, who.centre);
			orders_param(op, kind);
			orders_param(op, call);
			orders_param(op, subject);
			if (due_at)
				orders_param_int(op, due_at);
			else
				orders_param(op, NULL);
			orders_param(op, actor);
			orders_param(op, who.agent);
			json_decref(root);
			orders_submit(op);
			return;
		}
		apireq_error(reply, request, 405, "method_not_allowed", NULL, "use GET or POST");
		return;
	}
	/* /ID[/action] */
	char *end = NULL;
	long long id = strtoll(rest + 1, &end, 10);
	if (rest[0] != '/' || end == rest + 1 || id <= 0) {
		apireq_error(reply, request, 404, "not_found", NULL, "no such route");
		return;
	}
	const char *sub = end;
	if (get && *sub == '\0') {
		if (!tickets && orders_query(query, "reveal", value, sizeof value)) {
			const char *reason = orders_query(query, "reason", value2, sizeof value2);
			if (!who.supervisor) {
				apireq_error(reply, request, 403, "forbidden", NULL,
					     "only supervisors may read a citizen's number");
				return;
			}
			if (strcmp(value, "phone") != 0 || reason == NULL || apireq_chars(reason) < 3 ||
			    apireq_chars(reason) > 500) {
				apireq_error(reply, request, 400, "invalid_field", "reason",
					     "reveal=phone needs a reason of 3 to 500 characters");
				return;
			}
			struct orders_op *op = orders_op_new(o, OOP_REVEAL, "o_reveal", reply, request);
			if (op == NULL)
				goto oom;
			char actor[EVENT_ID_MAX + 8];
			snprintf(actor, sizeof actor, "agent:%s", who.agent);
			op->id = id;
			orders_param_int(op, id);
			orders_param(op, actor);
			orders_param(op, who.centre);
			orders_param(op, reason);
			orders_submit(op);
			return;
		}
		struct orders_op *op = orders_op_new(o, tickets ? OOP_TICKET_GET : OOP_GET,
						     tickets ? "t_get" : "o_history", reply, request);
		if (op == NULL)
			goto oom;
		op->who = who;
		orders_param_int(op, id);
		orders_submit(op);
		return;
	}
	bool action_route = !tickets && strcmp(sub, "/actions") == 0;
	bool ticket_route = tickets && (strcmp(sub, "/state") == 0 || strcmp(sub, "/entries") == 0);
	if (get || !(action_route || ticket_route)) {
		apireq_error(reply, request, 404, "not_found", NULL, "no such route");
		return;
	}
	json_t *root = apireq_parse(body, len, reply, request);
	if (root == NULL)
		return;
	if (tickets && strcmp(sub, "/entries") == 0 && json_object_get(root, "kind") == NULL) {
		json_decref(root);
		apireq_error(reply, request, 400, "missing_field", "kind", "kind: note or reply");
		return;
	}
	struct orders_op *op = orders_op_new(o, tickets ? OOP_TICKET_READ : OOP_READ_ORDER,
					     tickets ? "t_read" : "o_read", reply, request);
	if (op == NULL) {
		json_decref(root);
		goto oom;
	}
	op->who = who;
	op->body = root;
	op->id = id;
	orders_param_int(op, id);
	orders_submit(op);
	return;
oom:
	apireq_error(reply, request, 500, "internal", NULL, "out of memory");
}

/* --- the dispatcher ----------------------------------------------------------- */

static void orders_outbox_fetch(void *arg, size_t limit)
{
	struct orders *o = arg;
	struct orders_op *op = orders_op_new(o, OOP_OUTBOX_FETCH, "o_outbox_fetch", NULL, NULL);
	if (op == NULL) {
		outbox_rows(o->outbox, NULL, 0);
		return;
	}
	orders_param_int(op, (int64_t)limit);
	orders_submit(op);
}

static void orders_outbox_record(void *arg, int64_t id, bool delivered, bool permanent,
				 int64_t next_attempt_at, const char *error)
{
	struct orders *o = arg;
	struct orders_op *op = orders_op_new(o, OOP_OUTBOX_RECORD, "o_outbox_record", NULL, NULL);
	if (op == NULL) {
		outbox_recorded(o->outbox, id);
		return;
	}
	op->record_id = id;
	orders_param_int(op, id);
	orders_param(op, delivered ? "true" : "false");
	/* a permanent refusal is never tried again: 'infinity' is far enough */
	orders_param_int(op, permanent ? INT64_C(253402300799000000) : next_attempt_at);
	orders_param(op, error);
	orders_submit(op);
}

void orders_store_ready(struct orders *o)
{
	if (o->outbox)
		outbox_kick(o->outbox);
}

/* --- lifecycle ------------------------------------------------------------------ */

struct orders *orders_new(struct event_base *base, const struct config *cfg,
			  struct wo_config *wc, struct metrics *metrics)
{
	struct orders *o = calloc(1, sizeof *o);
	if (o == NULL) {
		wo_config_free(wc);
		return NULL;
	}
	o->base = base;
	o->metrics = metrics;
	o->wc = wc;
	o->caller_key = strdup(cfg->privacy_caller_key);
	o->data_key = strdup(cfg->privacy_data_key);
	struct outbox_platform platforms[ORDERS_PLATFORMS];
	size_t n = 0;
	for (size_t i = 0; i < ORDERS_PLATFORMS; i++) {
		const struct wo_platform *p = wo_platform_find(wc, orders_platform_names[i]);
		if (p != NULL)
			platforms[n++] = (struct outbox_platform){p->name, p->url, p->secret};
	}
	struct outbox_source src = {
		.fetch = orders_outbox_fetch,
		.record = orders_outbox_record,
		.arg = o,
	};
	o->outbox = outbox_new(base, platforms, n, &src, NULL);
	if (o->caller_key == NULL || o->data_key == NULL || o->outbox == NULL) {
		orders_free(o);
		return NULL;
	}
	return o;
}

void orders_attach(struct orders *o, struct store *store, struct router *router)
{
	o->store = store;
	o->router = router;
}

const char *orders_platform_secret(const struct orders *o, const char *platform)
{
	const struct wo_platform *p = platform ? wo_platform_find(o->wc, platform) : NULL;
	return p ? p->secret : NULL;
}

void orders_fill_metrics(const struct orders *o, struct metrics *m)
{
	if (o->outbox == NULL)
		return;
	struct outbox_stats st = outbox_get_stats(o->outbox);
	m->outbox_delivered = st.delivered;
	m->outbox_retried = st.retried;
	m->outbox_failed = st.failed;
}

void orders_free(struct orders *o)
{
	if (o == NULL)
		return;
	outbox_free(o->outbox);
	wo_config_free(o->wc);
	if (o->data_key)
		sodium_memzero(o->data_key, strlen(o->data_key));
	free(o->data_key);
	free(o->caller_key);
	free(o);
}
