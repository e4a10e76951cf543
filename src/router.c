/* router.c: the live ACD around the pure cores (see router.h). */
#include "router.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <sodium.h>

#include "acd.h"
#include "apireq.h"
#include "category.h"
#include "log.h"
#include "metrics.h"
#include "mirror.h"
#include "pwcheck.h"
#include "sse.h"
#include "strmap.h"
#include "timeutil.h"

#define ROUTER_KEEPALIVE_S 15
#define ROUTER_LOGIN_THREADS 2
#define ROUTER_LOGIN_PENDING_MAX 64
#define ROUTER_TEXT_MAX 136 /* one statement parameter */
#define ROUTER_OVERFLOW_PREFIX "overflow:"

struct router;
struct router_centre;

/* --- what the router holds ------------------------------------------------ */

/* An open SSE stream: the gateway's (agent NULL) or an agent's. */
struct router_stream {
	struct router_stream *next;
	struct router *r;
	struct router_centre *rc;
	struct router_agent *agent;
	struct sse_stream *sse;
};

/* An agent of a centre, from the agents table; logged_in says whether the
 * core holds them. call is the call they are offered, talk on or wrap up. */
struct router_agent {
	struct router_centre *rc;
	char id[ACD_ID_MAX + 1];
	char name[401];
	char extension[17];
	struct acd_skill skills[ACD_SKILLS_MAX];
	size_t n_skills;
	bool enabled;
	bool supervisor; /* agents.role: may read personal data, with a reason */
	bool logged_in;
	enum acd_agent_state state;
	char reason[ACD_REASON_MAX + 1];
	int64_t since;
	char call[EVENT_ID_MAX + 1];
	char last_call[EVENT_ID_MAX + 1]; /* the last call they talked on: wrap-up target */
	struct router_stream *streams;
	/* the last stored state, during recovery */
	bool stored;
	enum acd_agent_state stored_state;
	char stored_reason[ACD_REASON_MAX + 1];
	int64_t stored_at;
	char stored_call[EVENT_ID_MAX + 1];
};

/* What an offer needs to show about a call the core holds (calls and
 * callbacks alike). */
struct router_call {
	char id[EVENT_ID_MAX + 1];
	char queue[EVENT_SHORT_MAX + 1];
	enum category category;
	char caller_masked[PRIVACY_NUMBER_MAX];
	unsigned char caller_hash[PRIVACY_HASH_BYTES];
	int64_t offered_at; /* the gateway's clock: histories are relative to it */
	bool callback;
	/* callbacks only */
	bool urgent;
	char reason[20];
	int64_t joined_at, created_at;
	char state[12];
	char agent[ACD_ID_MAX + 1];
};

struct router_queue_counts {
	uint64_t offered, answered, abandoned;
	/* answered within stats.service_level_s of the offer, as the exports
	 * count them (sql/007_stats.sql): the wallboard's service level */
	uint64_t answered_in_sl;
};

struct router_centre {
	struct router *r;
	char code[EVENT_CENTRE_MAX + 1];
	struct acd *acd;
	struct strmap *agents;    /* agent id -> struct router_agent */
	struct strmap *calls;     /* call id -> struct router_call, while the core holds it */
	struct strmap *callbacks; /* call id -> struct router_call (callback), until done */
	struct strmap *crisis;    /* caller hash -> int64_t offered_at of the last crisis call */
	struct router_stream *gateways;
	struct router_queue_counts *counts; /* per configured queue, today */
	/* recovery: calls in progress as replayed, restored into the core */
	struct acd_call_record *restored;
	size_t n_restored, restored_cap;
};

struct router_session {
	char centre[EVENT_CENTRE_MAX + 1];
	char agent[ACD_ID_MAX + 1];
	int64_t expires_at;
};

enum router_op_kind {
	ROP_STATE,
	ROP_OFFER, /* the caller's history; the offer goes out when it commits */
	ROP_AGENT_GET,
	ROP_SESSION_ADD,
	ROP_SESSION_END,
	ROP_CALLBACK_ADD,
	ROP_CALLBACK_ACCEPT,
	ROP_CALLBACK_FINISH,
	ROP_WRAP_UP,
	ROP_OVERFLOW,
	ROP_NOTHING, /* carries a reply when an input wrote nothing */
};

struct router_login;

struct router_op {
	struct store_op sop; /* first: the store hands back &sop */
	struct router_op *next_pending;
	struct router *r;
	enum router_op_kind kind;
	char centre[EVENT_CENTRE_MAX + 1];
	char agent[ACD_ID_MAX + 1];
	char call[EVENT_ID_MAX + 1];
	char text[STORE_STMT_PARAMS][ROUTER_TEXT_MAX];
	json_t *message; /* what to send when it commits */
	json_t *rows;    /* what the statement returned */
	ingest_reply_fn reply;
	void *request;
	char *answer; /* the reply's body when committed */
	struct router_login *login;
};

struct router_login {
	struct router *r;
	char centre[EVENT_CENTRE_MAX + 1];
	char agent[ACD_ID_MAX + 1];
	char password[1025];
	size_t password_len;
	ingest_reply_fn reply;
	void *request;
	/* from the agents table */
	bool found, enabled, supervisor;
	char hash[160];
	char name[401], extension[17];
	struct acd_skill skills[ACD_SKILLS_MAX];
	size_t n_skills;
};

struct router {
	struct event_base *base;
	struct metrics *metrics;
	struct queues_file *qf;
	struct store *store;
	struct mirror *mirror;
	struct pwcheck *pw;
	int64_t session_ttl_s;

	struct strmap *centres;  /* code -> struct router_centre */
	struct strmap *sessions; /* token sha256 (32 bytes) -> struct router_session */
	struct router_op *pending_head, *pending_tail;
	struct event *ev_timer;
	struct event *ev_keepalive;
	int64_t day; /* local day number of the counters */

	bool recovering; /* between router_recover_begin and router_recover_done */
	router_queue_fn queue_changed;
	void *queue_changed_arg;

	/* recovery query parameters */
	char crisis_days_text[16];
	char today_text[24];
	char sl_text[16];
	int64_t sl_us; /* stats.service_level_s, in microseconds */
	const char *crisis_params[1];
	const char *today_params[2];
	struct store_query queries[5];
};

static void router_arm_timer(struct router *r);
static void router_apply(struct router_centre *rc, struct acd_actions *acts,
			 const struct acd_input *cause);
static void router_mirror_agent(struct router_centre *rc, const struct router_agent *ra);
static void router_mirror_queues(struct router_centre *rc);
static void router_login_found(struct router_login *lg, json_t *rows);
static void router_login_fail(struct router_login *lg, int status, const char *code,
			      const char *message);

/* --- small helpers ------------------------------------------------------- */

static void router_copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static void router_free_value(const char *key, size_t key_len, void *value, void *arg)
{
	free(value);
}

static char *router_json_text(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static json_t *router_time_json(int64_t usec)
{
	char text[TIMEUTIL_RFC3339_LEN];
	if (usec <= 0)
		return json_null();
	timeutil_format_local(usec, text);
	return json_string(text);
}

static struct router_centre *router_centre_find(struct router *r, const char *code)
{
	return code ? strmap_get(r->centres, code, strlen(code)) : NULL;
}

static struct router_agent *router_agent_find(struct router_centre *rc, const char *id)
{
	return id ? strmap_get(rc->agents, id, strlen(id)) : NULL;
}

static struct router_call *router_call_find(struct router_centre *rc, const char *id)
{
	struct router_call *c = strmap_get(rc->callbacks, id, strlen(id));
	return c ? c : strmap_get(rc->calls, id, strlen(id));
}

static void router_forget_call(struct router_centre *rc, const char *call_id);

static int router_queue_index(const struct router *r, const char *name)
{
	for (size_t i = 0; i < r->qf->acd.n_queues; i++)
		if (strcmp(r->qf->acd.queues[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int64_t router_local_day(int64_t usec)
{
	return timeutil_local_day(usec);
}

/* --- statements ---------------------------------------------------------- */

static const struct store_statement router_stmts[] = {
	{"r_state", "INSERT INTO agent_state_log (centre, agent_id, state, reason, at, call_id)"
		    " VALUES ($1, $2, $3, $4, hotline_usec($5::bigint), $6)"},
	{"r_history",
	 "SELECT call_id, (extract(epoch FROM offered_at) * 1000000)::bigint,"
	 " coalesce(corrected_category, category), coalesce(outcome, ''),"
	 " coalesce(disposition, '')"
	 " FROM calls WHERE caller_hash = decode($2, 'hex') AND centre = $1"
	 " AND offered_at >= hotline_usec($3::bigint) AND call_id <> $4"
	 " ORDER BY offered_at DESC LIMIT $5::int"},
	{"r_agent_get",
	 "SELECT a.name, a.extension, a.enabled, a.password_hash,"
	 " coalesce((SELECT string_agg(s.skill || ':' || s.level, ',' ORDER BY s.skill)"
	 "  FROM agent_skills s WHERE s.centre = a.centre AND s.agent_id = a.agent_id), ''),"
	 " a.role"
	 " FROM agents a WHERE a.centre = $1 AND a.agent_id = $2"},
	{"r_session_add",
	 "INSERT INTO agent_sessions (token_sha256, centre, agent_id, created_at, expires_at)"
	 " VALUES (decode($1, 'hex'), $2, $3, hotline_usec($4::bigint), hotline_usec($5::bigint))"},
	{"r_session_end", "DELETE FROM agent_sessions WHERE token_sha256 = decode($1, 'hex')"},
	{"r_callback_add",
	 "INSERT INTO callbacks (centre, call_id, queue, urgent, reason, joined_at, created_at)"
	 " VALUES ($1, $2, $3, $4::boolean, $5, hotline_usec($6::bigint), hotline_usec($7::bigint))"
	 " ON CONFLICT (centre, call_id) DO NOTHING"},
	{"r_callback_accept",
	 "UPDATE callbacks SET state = 'accepted', agent_id = $3, accepted_at = hotline_usec($4::bigint)"
	 " WHERE centre = $1 AND call_id = $2"},
	{"r_callback_finish",
	 "UPDATE callbacks SET state = 'done', outcome = $3, finished_at = hotline_usec($4::bigint)"
	 " WHERE centre = $1 AND call_id = $2"},
	/* wrap_up_us: the agent's time in wrap-up for this call, by the
	 * broker's clock (the state log's), until the next state or now. */
	{"r_wrap_up",
	 "UPDATE calls SET disposition = $3, corrected_category = $4, wrapped_by = $5,"
	 " wrapped_at = hotline_usec($6::bigint),"
	 " wrap_up_us = (SELECT greatest(0, (extract(epoch FROM least(hotline_usec($6::bigint),"
	 "   coalesce(n.at, hotline_usec($6::bigint))) - w.at) * 1000000)::bigint)"
	 "  FROM agent_state_log w LEFT JOIN LATERAL (SELECT x.at FROM agent_state_log x"
	 "   WHERE x.centre = w.centre AND x.agent_id = w.agent_id AND x.seq > w.seq"
	 "   ORDER BY x.seq LIMIT 1) n ON true"
	 "  WHERE w.centre = $1 AND w.agent_id = $5 AND w.call_id = $2 AND w.state = 'wrap_up'"
	 "  ORDER BY w.seq DESC LIMIT 1)"
	 " WHERE centre = $1 AND call_id = $2 RETURNING 1"},
	{"r_nothing", "SELECT 1"},
	{"r_overflow",
	 "UPDATE calls SET overflowed_from = coalesce(overflowed_from, queue), queue = $3"
	 " WHERE centre = $1 AND call_id = $2"},
};

const struct store_statement *router_statements(size_t *n)
{
	*n = sizeof router_stmts / sizeof router_stmts[0];
	return router_stmts;
}

/* Recovery queries, in the order router_recover_rows reads them. */
enum {
	RQ_AGENTS,    /* every agent, with its last state (NULL if never logged in) */
	RQ_SESSIONS,  /* sessions not expired */
	RQ_CALLBACKS, /* callbacks not done */
	RQ_CRISIS,    /* callers in crisis recently */
	RQ_TODAY,     /* today's counts per queue */
	RQ_COUNT
};

static const char router_sql_agents[] =
	"SELECT a.centre, a.agent_id, a.name, a.extension, a.enabled,"
	" coalesce((SELECT string_agg(s.skill || ':' || s.level, ',' ORDER BY s.skill)"
	"  FROM agent_skills s WHERE s.centre = a.centre AND s.agent_id = a.agent_id), ''),"
	" l.state, coalesce(l.reason, ''), (extract(epoch FROM l.at) * 1000000)::bigint,"
	" coalesce(l.call_id, ''), a.role"
	" FROM agents a LEFT JOIN LATERAL (SELECT state, reason, at, call_id FROM agent_state_log g"
	"  WHERE g.centre = a.centre AND g.agent_id = a.agent_id ORDER BY g.seq DESC LIMIT 1) l"
	" ON true ORDER BY a.centre, a.agent_id";
static const char router_sql_sessions[] =
	"SELECT encode(token_sha256, 'hex'), centre, agent_id,"
	" (extract(epoch FROM expires_at) * 1000000)::bigint"
	" FROM agent_sessions WHERE expires_at > now()";
static const char router_sql_callbacks[] =
	"SELECT b.centre, b.call_id, b.queue, b.urgent, b.reason,"
	" (extract(epoch FROM b.joined_at) * 1000000)::bigint,"
	" (extract(epoch FROM b.created_at) * 1000000)::bigint, b.state, coalesce(b.agent_id, ''),"
	" coalesce(c.corrected_category, c.category, 'other'), coalesce(c.caller_masked, ''),"
	" coalesce(encode(c.caller_hash, 'hex'), ''),"
	" coalesce((extract(epoch FROM c.offered_at) * 1000000)::bigint, 0)"
	" FROM callbacks b LEFT JOIN calls c ON c.centre = b.centre AND c.call_id = b.call_id"
	" WHERE b.state <> 'done' ORDER BY b.joined_at";
/* The crisis callers of the last days before each centre's latest crisis
 * call: a superset of those of the last days before now, and the check at
 * offer time compares exact times. */
static const char router_sql_crisis[] =
	"WITH latest AS (SELECT centre, max(offered_at) AS m FROM calls"
	"  WHERE category = 'crisis' OR corrected_category = 'crisis' GROUP BY centre)"
	" SELECT c.centre, encode(c.caller_hash, 'hex'),"
	" (extract(epoch FROM max(c.offered_at)) * 1000000)::bigint"
	" FROM calls c JOIN latest l ON l.centre = c.centre"
	" WHERE (c.category = 'crisis' OR c.corrected_category = 'crisis')"
	" AND c.offered_at > l.m - make_interval(days => $1::int)"
	" GROUP BY c.centre, c.caller_hash";
static const char router_sql_today[] =
	"SELECT centre, coalesce(overflowed_from, queue), count(*), count(answered_at),"
	" count(*) FILTER (WHERE outcome = 'abandoned'),"
	" count(*) FILTER (WHERE answered_at <= offered_at + make_interval(secs => $2::int))"
	" FROM calls WHERE accepted_at >= hotline_usec($1::bigint) GROUP BY 1, 2";

const struct store_query *router_recovery_queries(struct router *r, size_t *n)
{
	*n = RQ_COUNT;
	return r->queries;
}

/* --- ops ------------------------------------------------------------------ */

static void router_op_done(struct store_op *sop, enum store_status status);

static struct router_op *router_op_new(struct router *r, enum router_op_kind kind,
				       const char *stmt, const char *centre)
{
	struct router_op *op = calloc(1, sizeof *op);
	if (op == NULL)
		return NULL;
	op->r = r;
	op->kind = kind;
	op->sop.kind = STORE_OP_STMT;
	op->sop.stmt.name = stmt;
	op->sop.done = router_op_done;
	op->sop.owner = op;
	router_copy(op->centre, sizeof op->centre, centre);
	return op;
}

/* Adds a parameter (NULL: SQL NULL). */
static void router_op_param(struct router_op *op, const char *value)
{
	int i = op->sop.stmt.n_params++;
	if (value == NULL) {
		op->sop.stmt.params[i] = NULL;
		return;
	}
	router_copy(op->text[i], ROUTER_TEXT_MAX, value);
	op->sop.stmt.params[i] = op->text[i];
}

static void router_op_param_int(struct router_op *op, int64_t v)
{
	char text[24];
	snprintf(text, sizeof text, "%" PRId64, v);
	router_op_param(op, text);
}

static void router_op_param_hex(struct router_op *op, const unsigned char *bin, size_t n)
{
	char hex[2 * 32 + 1];
	sodium_bin2hex(hex, sizeof hex, bin, n);
	router_op_param(op, hex);
}

static void router_op_free(struct router_op *op)
{
	if (op == NULL)
		return;
	json_decref(op->message);
	json_decref(op->rows);
	free(op->answer);
	free(op);
}

/* Queues op to be submitted by the next router_flush. */
static void router_push(struct router *r, struct router_op *op)
{
	op->next_pending = NULL;
	if (r->pending_tail)
		r->pending_tail->next_pending = op;
	else
		r->pending_head = op;
	r->pending_tail = op;
}

void router_flush(struct router *r)
{
	struct router_op *op = r->pending_head;
	r->pending_head = r->pending_tail = NULL;
	while (op != NULL) {
		struct router_op *next = op->next_pending;
		if (r->store == NULL || store_submit(r->store, &op->sop) != 0) {
			/* The store is not ready: memory is rebuilt before it is. */
			op->sop.done(&op->sop, STORE_UNAVAILABLE);
		}
		op = next;
	}
}

/* Keeps a statement's rows (as JSON arrays of strings) for its done. */
static void router_keep_rows(struct store_op *sop, const struct store_rows *rows)
{
	struct router_op *op = (struct router_op *)sop;
	json_decref(op->rows);
	op->rows = apireq_rows(rows);
}

/* Attaches the reply of an input to its last op, or answers at once when
 * the input wrote nothing. */
static void router_reply_after(struct router *r, ingest_reply_fn reply, void *request,
			       char *answer)
{
	struct router_op *last = r->pending_tail;
	if (last == NULL || last->reply != NULL) {
		last = router_op_new(r, ROP_NOTHING, "r_nothing", "");
		if (last == NULL) {
			free(answer);
			apireq_error(reply, request, 500, "internal", NULL, "out of memory");
			return;
		}
		/* Nothing to write: answered once what came before commits. */
		router_push(r, last);
	}
	last->reply = reply;
	last->request = request;
	last->answer = answer;
}

/* --- messages ------------------------------------------------------------- */

static void router_stream_send(struct router_stream *list, const char *event, json_t *data)
{
	if (list == NULL)
		return;
	char *text = json_dumps(data, JSON_COMPACT);
	if (text == NULL)
		return;
	for (struct router_stream *s = list; s != NULL; s = s->next)
		sse_send(s->sse, event, text);
	free(text);
}

static json_t *router_state_json(const struct router_agent *ra)
{
	return json_pack("{s:s,s:s,s:o,s:s}", "state", acd_agent_state_name(ra->state), "reason",
			 ra->reason, "since", router_time_json(ra->since), "call_id", ra->call);
}

static json_t *router_agent_json(const struct router_agent *ra)
{
	json_t *skills = json_array();
	for (size_t i = 0; i < ra->n_skills; i++)
		json_array_append_new(skills, json_pack("{s:s,s:i}", "name", ra->skills[i].name,
							"level", ra->skills[i].level));
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "centre", ra->rc->code, "agent_id", ra->id,
			 "name", ra->name, "extension", ra->extension, "role",
			 ra->supervisor ? "supervisor" : "agent", "skills", skills);
}

static void router_publish(struct router_centre *rc, const char *type, json_t *data)
{
	struct mirror *m = rc->r->mirror;
	if (m == NULL || !mirror_is_up(m))
		return;
	json_object_set_new(data, "type", json_string(type));
	char *text = json_dumps(data, JSON_COMPACT);
	if (text)
		mirror_publish(m, rc->code, text);
	free(text);
}

static void router_mirror_agent(struct router_centre *rc, const struct router_agent *ra)
{
	struct mirror *m = rc->r->mirror;
	if (m == NULL || !mirror_is_up(m))
		return;
	if (!ra->logged_in) {
		mirror_hdel(m, rc->code, "agents", ra->id);
	} else {
		json_t *j = router_state_json(ra);
		json_object_set_new(j, "name", json_string(ra->name));
		json_object_set_new(j, "extension", json_string(ra->extension));
		char *text = json_dumps(j, JSON_COMPACT);
		if (text)
			mirror_hset(m, rc->code, "agents", ra->id, text);
		free(text);
		json_decref(j);
	}
	json_t *msg = router_state_json(ra);
	json_object_set_new(msg, "agent_id", json_string(ra->id));
	router_publish(rc, "agent", msg);
	json_decref(msg);
}

static double router_serving_score(const struct acd_call_record *c)
{
	/* crisis first, then priority, then join time (ms) */
	return (c->crisis ? 0.0 : 1e14) + (double)c->priority * 1e13 +
	       (double)((c->joined_at / 1000) % 10000000000000LL);
}

static void router_mirror_call(struct router_centre *rc, const char *call_id, bool waiting)
{
	struct mirror *m = rc->r->mirror;
	if (m == NULL || !mirror_is_up(m))
		return;
	struct acd_call_record rec;
	if (acd_call_get(rc->acd, call_id, &rec) != 0)
		return;
	char key[EVENT_SHORT_MAX + 8];
	snprintf(key, sizeof key, "queue:%s", rec.queue);
	if (waiting && rec.state == ACD_CALL_WAITING)
		mirror_zadd(m, rc->code, key, call_id, router_serving_score(&rec));
	else
		mirror_zrem(m, rc->code, key, call_id);
}

static void router_mirror_callback(struct router_centre *rc, const struct router_call *cb,
				   bool done)
{
	struct mirror *m = rc->r->mirror;
	if (m == NULL || !mirror_is_up(m))
		return;
	json_t *j = json_pack("{s:s,s:b,s:s,s:o,s:s,s:s}", "queue", cb->queue, "urgent", cb->urgent,
			      "reason", cb->reason, "joined_at", router_time_json(cb->joined_at),
			      "state", done ? "done" : cb->state, "agent_id", cb->agent);
	char *text = json_dumps(j, JSON_COMPACT);
	if (text) {
		if (done)
			mirror_hdel(m, rc->code, "callbacks", cb->id);
		else
			mirror_hset(m, rc->code, "callbacks", cb->id, text);
	}
	free(text);
	json_object_set_new(j, "call_id", json_string(cb->id));
	router_publish(rc, "callback", j);
	json_decref(j);
}

struct router_open_counts {
	uint64_t open, urgent;
};

static void router_count_callback(const char *key, size_t key_len, void *value, void *arg)
{
	const struct router_call *cb = value;
	struct router_open_counts *n = arg;
	n->open++;
	n->urgent += cb->urgent;
}

static void router_mirror_queues(struct router_centre *rc)
{
	struct router *r = rc->r;
	struct mirror *m = r->mirror;
	if (m == NULL || !mirror_is_up(m))
		return;
	uint64_t offered = 0, answered = 0, abandoned = 0, in_sl = 0;
	for (size_t i = 0; i < r->qf->acd.n_queues; i++) {
		const char *q = r->qf->acd.queues[i].name;
		const struct router_queue_counts *k = &rc->counts[i];
		json_t *j = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "waiting",
				      (json_int_t)acd_waiting_count(rc->acd, q), "offered_today",
				      (json_int_t)k->offered, "answered_today",
				      (json_int_t)k->answered, "abandoned_today",
				      (json_int_t)k->abandoned, "answered_in_sl_today",
				      (json_int_t)k->answered_in_sl, "service_level_s",
				      (json_int_t)(r->sl_us / 1000000));
		char *text = json_dumps(j, JSON_COMPACT);
		if (text)
			mirror_hset(m, rc->code, "queues", q, text);
		free(text);
		json_decref(j);
		offered += k->offered;
		answered += k->answered;
		abandoned += k->abandoned;
		in_sl += k->answered_in_sl;
	}
	struct router_open_counts open = {0, 0};
	strmap_each(rc->callbacks, router_count_callback, &open);
	char date[16], v[5][24];
	int64_t day = r->day;
	int y, mo, d;
	timeutil_civil_from_days(day, &y, &mo, &d);
	snprintf(date, sizeof date, "%04d-%02d-%02d", y, mo, d);
	snprintf(v[0], sizeof v[0], "%" PRIu64, offered);
	snprintf(v[1], sizeof v[1], "%" PRIu64, answered);
	snprintf(v[2], sizeof v[2], "%" PRIu64, abandoned);
	snprintf(v[3], sizeof v[3], "%" PRIu64, open.open);
	mirror_hset(m, rc->code, "today", "date", date);
	mirror_hset(m, rc->code, "today", "offered", v[0]);
	mirror_hset(m, rc->code, "today", "answered", v[1]);
	mirror_hset(m, rc->code, "today", "abandoned", v[2]);
	snprintf(v[4], sizeof v[4], "%" PRIu64, in_sl);
	mirror_hset(m, rc->code, "today", "answered_in_sl", v[4]);
	mirror_hset(m, rc->code, "today", "callbacks_open", v[3]);
	snprintf(v[3], sizeof v[3], "%" PRIu64, open.urgent);
	mirror_hset(m, rc->code, "today", "urgent_callbacks_open", v[3]);
}

/* --- effects when ops commit ---------------------------------------------- */

/* Whether call is still offered to agent in the core: an offer cancelled
 * before its rows committed is never announced. */
static bool router_offer_current(struct router_centre *rc, const char *call, const char *agent)
{
	struct acd_call_record rec;
	return acd_call_get(rc->acd, call, &rec) == 0 && rec.state == ACD_CALL_OFFERED &&
	       strcmp(rec.agent, agent) == 0;
}

static json_t *router_connect_json(struct router_centre *rc, const struct acd_call_record *rec,
				   const struct router_agent *ra)
{
	const struct acd_queue_config *q = queues_find(rc->r->qf, rec->queue);
	return json_pack("{s:s,s:s,s:s,s:s,s:i,s:o}", "call_id", rec->id, "agent", ra->id,
			 "extension", ra->extension, "queue", rec->queue, "ring_timeout_s",
			 q ? q->ring_timeout_s : 0, "ring_deadline",
			 router_time_json(rec->ring_deadline));
}

static void router_announce_offer(struct router_op *op)
{
	struct router_centre *rc = router_centre_find(op->r, op->centre);
	if (rc == NULL || !router_offer_current(rc, op->call, op->agent))
		return;
	struct router_agent *ra = router_agent_find(rc, op->agent);
	struct router_call *call = router_call_find(rc, op->call);
	struct acd_call_record rec;
	if (ra == NULL || acd_call_get(rc->acd, op->call, &rec) != 0)
		return;
	if (call == NULL || !call->callback)
	{
		json_t *m = router_connect_json(rc, &rec, ra);
		router_stream_send(rc->gateways, "connect", m);
		json_decref(m);
	}
	json_t *history = json_array();
	for (size_t i = 0; op->rows && i < json_array_size(op->rows); i++) {
		json_t *row = json_array_get(op->rows, i);
		int64_t at = strtoll(json_string_value(json_array_get(row, 1)), NULL, 10);
		const char *outcome = json_string_value(json_array_get(row, 3));
		const char *disp = json_string_value(json_array_get(row, 4));
		json_array_append_new(
			history, json_pack("{s:s,s:o,s:s,s:s?,s:s?}", "call_id",
					   json_string_value(json_array_get(row, 0)), "offered_at",
					   router_time_json(at), "category",
					   json_string_value(json_array_get(row, 2)), "outcome",
					   *outcome ? outcome : NULL, "disposition",
					   *disp ? disp : NULL));
	}
	json_t *offer = json_pack(
		"{s:s,s:s,s:s,s:s,s:s,s:b,s:o,s:o}", "kind", call && call->callback ? "callback" : "call",
		"call_id", rec.id, "queue", rec.queue, "category",
		call ? category_name(call->category) : "other", "caller",
		call ? call->caller_masked : "", "urgent", call ? call->urgent : false, "ring_deadline",
		router_time_json(rec.ring_deadline), "history", history);
	router_stream_send(ra->streams, "offer", offer);
	json_decref(offer);
}

/* store_op.done for every router op. */
static void router_op_done(struct store_op *sop, enum store_status status)
{
	struct router_op *op = (struct router_op *)sop;
	struct router *r = op->r;

	if (status != STORE_COMMITTED) {
		if (op->reply)
			apireq_error(op->reply, op->request, 503, "store_unavailable", NULL,
				     "PostgreSQL is unavailable; nothing was recorded, retry later");
		if (op->login) /* the lookup of a login: answer it */
			router_login_fail(op->login, 503, "store_unavailable",
					  "PostgreSQL is unavailable; retry later");
		router_op_free(op);
		return;
	}
	struct router_centre *rc = router_centre_find(r, op->centre);
	switch (op->kind) {
	case ROP_STATE: {
		struct router_agent *ra = rc ? router_agent_find(rc, op->agent) : NULL;
		if (ra != NULL && op->message != NULL)
			router_stream_send(ra->streams, "state", op->message);
		break;
	}
	case ROP_OFFER:
		router_announce_offer(op);
		break;
	case ROP_AGENT_GET: {
		struct router_login *lg = op->login;
		op->login = NULL;
		router_login_found(lg, op->rows);
		break;
	}
	case ROP_OVERFLOW:
	case ROP_CALLBACK_ACCEPT:
		if (rc != NULL && op->message != NULL) {
			const char *event = json_string_value(json_object_get(op->message, "event"));
			json_t *data = json_object_get(op->message, "data");
			if (event && data)
				router_stream_send(rc->gateways, event, data);
		}
		break;
	case ROP_WRAP_UP:
		if (op->reply && (op->rows == NULL || json_array_size(op->rows) == 0)) {
			apireq_error(op->reply, op->request, 404, "unknown_call", "call_id",
				     "call %s is not recorded", op->call);
			op->reply = NULL;
		}
		break;
	case ROP_SESSION_ADD:
	case ROP_SESSION_END:
	case ROP_CALLBACK_ADD:
	case ROP_CALLBACK_FINISH:
	case ROP_NOTHING:
		break;
	}
	if (op->reply)
		apireq_send(op->reply, op->request, 200, op->answer ? op->answer : "{}", false);
	router_op_free(op);
}

/* --- feeding the core ------------------------------------------------------ */

/* Applies one input to a centre's core and turns its actions into rows and
 * messages. Returns what acd_step returned. */
static int router_step(struct router_centre *rc, const struct acd_input *in)
{
	struct acd_action items[ACD_ACTIONS_PER_INPUT];
	struct acd_actions acts = {.items = items, .cap = ACD_ACTIONS_PER_INPUT, .count = 0};
	int rc_step = acd_step(rc->acd, in, timeutil_now_usec(), &acts);
	if (rc_step != 0 && rc_step != -EAGAIN)
		return rc_step;
	router_apply(rc, &acts, in);
	router_arm_timer(rc->r);
	return rc_step;
}

static void router_state_op(struct router_centre *rc, struct router_agent *ra, int64_t at)
{
	struct router *r = rc->r;
	struct router_op *op = router_op_new(r, ROP_STATE, "r_state", rc->code);
	if (op == NULL) {
		store_request_resync(r->store);
		return;
	}
	router_copy(op->agent, sizeof op->agent, ra->id);
	router_op_param(op, rc->code);
	router_op_param(op, ra->id);
	router_op_param(op, acd_agent_state_name(ra->state));
	router_op_param(op, ra->reason[0] ? ra->reason : NULL);
	router_op_param_int(op, at);
	router_op_param(op, ra->call[0] ? ra->call : NULL);
	op->message = router_state_json(ra);
	router_push(r, op);
}

static void router_offer_op(struct router_centre *rc, const char *call_id, const char *agent)
{
	struct router *r = rc->r;
	struct router_call *call = router_call_find(rc, call_id);
	struct router_op *op = router_op_new(r, ROP_OFFER, "r_history", rc->code);
	if (op == NULL) {
		store_request_resync(r->store);
		return;
	}
	router_copy(op->agent, sizeof op->agent, agent);
	router_copy(op->call, sizeof op->call, call_id);
	op->sop.stmt.rows = router_keep_rows;
	unsigned char none[PRIVACY_HASH_BYTES] = {0};
	router_op_param(op, rc->code);
	router_op_param_hex(op, call ? call->caller_hash : none, PRIVACY_HASH_BYTES);
	int64_t from = (call ? call->offered_at : timeutil_now_usec()) -
		       (int64_t)r->qf->history_days * 86400 * 1000000;
	router_op_param_int(op, from);
	router_op_param(op, call_id);
	router_op_param_int(op, r->qf->history_max);
	router_push(r, op);
}

static void router_callback_op(struct router_centre *rc, const struct router_call *cb)
{
	struct router_op *op = router_op_new(rc->r, ROP_CALLBACK_ADD, "r_callback_add", rc->code);
	if (op == NULL) {
		store_request_resync(rc->r->store);
		return;
	}
	router_op_param(op, rc->code);
	router_op_param(op, cb->id);
	router_op_param(op, cb->queue);
	router_op_param(op, cb->urgent ? "true" : "false");
	router_op_param(op, cb->reason);
	router_op_param_int(op, cb->joined_at);
	router_op_param_int(op, cb->created_at);
	router_push(rc->r, op);
}

/* A callback task for a call that left the core: recorded, then queued
 * again with its original join time. */
static void router_make_callback(struct router_centre *rc, const struct router_call *info,
				 const char *queue, bool urgent, const char *reason,
				 int64_t joined_at, int64_t now)
{
	if (strmap_get(rc->callbacks, info->id, strlen(info->id)) != NULL)
		return;
	struct router_call *cb = malloc(sizeof *cb);
	if (cb == NULL) {
		store_request_resync(rc->r->store);
		return;
	}
	*cb = *info;
	cb->callback = true;
	cb->urgent = urgent;
	router_copy(cb->queue, sizeof cb->queue, queue);
	router_copy(cb->reason, sizeof cb->reason, reason);
	cb->joined_at = joined_at;
	cb->created_at = now;
	router_copy(cb->state, sizeof cb->state, "pending");
	cb->agent[0] = '\0';
	if (strmap_put(rc->callbacks, cb->id, strlen(cb->id), cb) != 0) {
		free(cb);
		store_request_resync(rc->r->store);
		return;
	}
	/* From now on the core holds the callback under the call's id. */
	router_forget_call(rc, cb->id);
	if (rc->r->metrics)
		rc->r->metrics->callbacks_created++;
	router_callback_op(rc, cb);
	log_info("router", "%s callback task for call %s in queue %s (%s)",
		 urgent ? "urgent" : "normal", cb->id, queue, reason);
	router_mirror_callback(rc, cb, false);
	struct acd_input in = {
		.type = ACD_IN_CALLBACK_REQUESTED,
		.call = cb->id,
		.queue = cb->queue,
		.crisis = urgent,
		.joined_at = joined_at,
	};
	int rc_step = router_step(rc, &in);
	if (rc_step != 0 && rc_step != -EAGAIN)
		log_warn("router", "callback for call %s not queued: %s", cb->id, strerror(-rc_step));
	router_mirror_queues(rc);
}

struct router_followup {
	char call[EVENT_ID_MAX + 1];
	char queue[EVENT_SHORT_MAX + 1];
	bool urgent;
	const char *reason;
	int64_t joined_at;
	struct router_call info;
};

static void router_apply(struct router_centre *rc, struct acd_actions *acts,
			 const struct acd_input *cause)
{
	struct router *r = rc->r;
	const char *cancel_reason = cause->type == ACD_IN_TICK ? "ring_timeout" :
				    cause->type == ACD_IN_CALL_GONE ? "caller_left" :
								      "withdrawn";
	struct router_followup follow[4];
	size_t n_follow = 0;

	/* Offer ops go after the state rows of the same input, so that an
	 * offer is announced only once the agent's row is durable too. */
	const struct acd_action *offers[ACD_ACTIONS_PER_INPUT];
	size_t n_offers = 0;
	for (size_t i = 0; i < acts->count; i++) {
		const struct acd_action *a = &acts->items[i];
		struct router_agent *ra = a->agent[0] ? router_agent_find(rc, a->agent) : NULL;
		switch (a->type) {
		case ACD_ACT_AGENT_STATE:
			if (ra == NULL)
				break;
			if (a->agent_state == ACD_AGENT_OFFERED) {
				/* the call offered to this agent by the same input */
				for (size_t k = 0; k < acts->count; k++)
					if (acts->items[k].type == ACD_ACT_OFFER &&
					    strcmp(acts->items[k].agent, ra->id) == 0)
						router_copy(ra->call, sizeof ra->call,
							    acts->items[k].call);
			}
			if (a->agent_state == ACD_AGENT_WRAP_UP)
				router_copy(ra->last_call, sizeof ra->last_call, ra->call);
			if (a->agent_state == ACD_AGENT_ON_CALL)
				router_copy(ra->last_call, sizeof ra->last_call, ra->call);
			if (a->agent_state == ACD_AGENT_READY ||
			    a->agent_state == ACD_AGENT_NOT_READY ||
			    a->agent_state == ACD_AGENT_LOGGED_OUT)
				ra->call[0] = '\0';
			ra->state = a->agent_state;
			router_copy(ra->reason, sizeof ra->reason, a->reason);
			ra->since = a->at;
			ra->logged_in = a->agent_state != ACD_AGENT_LOGGED_OUT;
			router_state_op(rc, ra, a->at);
			router_mirror_agent(rc, ra);
			break;
		case ACD_ACT_OFFER:
			if (ra)
				router_copy(ra->call, sizeof ra->call, a->call);
			if (n_offers < ACD_ACTIONS_PER_INPUT)
				offers[n_offers++] = a;
			router_mirror_call(rc, a->call, false);
			break;
		case ACD_ACT_CANCEL_OFFER: {
			struct router_call *call = router_call_find(rc, a->call);
			json_t *m = json_pack("{s:s,s:s,s:s}", "call_id", a->call, "agent", a->agent,
					      "reason", cancel_reason);
			if (call == NULL || !call->callback)
				router_stream_send(rc->gateways, "cancel", m);
			if (ra)
				router_stream_send(ra->streams, "offer_cancelled", m);
			json_decref(m);
			if (strcmp(cancel_reason, "ring_timeout") == 0 && r->metrics)
				r->metrics->acd_ring_timeouts++;
			break;
		}
		case ACD_ACT_OVERFLOW: {
			struct router_call *call = router_call_find(rc, a->call);
			struct router_op *op =
				router_op_new(r, ROP_OVERFLOW, "r_overflow", rc->code);
			if (op == NULL) {
				store_request_resync(r->store);
				break;
			}
			char target[EVENT_SHORT_MAX + 1];
			if (a->overflow == ACD_OVERFLOW_QUEUE)
				router_copy(target, sizeof target, a->target_queue);
			else
				snprintf(target, sizeof target, "%s%s", ROUTER_OVERFLOW_PREFIX,
					 acd_overflow_name(a->overflow));
			router_op_param(op, rc->code);
			router_op_param(op, a->call);
			router_op_param(op, target);
			json_t *data = json_pack("{s:s,s:s,s:s}", "call_id", a->call, "queue",
						 a->queue, "target", acd_overflow_name(a->overflow));
			if (a->overflow == ACD_OVERFLOW_QUEUE)
				json_object_set_new(data, "target_queue",
						    json_string(a->target_queue));
			op->message = json_pack("{s:s,s:o}", "event", "overflow", "data", data);
			router_push(r, op);
			if (r->queue_changed)
				r->queue_changed(r->queue_changed_arg, rc->code, a->call, target);
			if (call != NULL && a->overflow == ACD_OVERFLOW_QUEUE) {
				router_copy(call->queue, sizeof call->queue, a->target_queue);
				router_mirror_call(rc, a->call, true);
			}
			if (call != NULL && a->overflow != ACD_OVERFLOW_QUEUE) {
				if (a->overflow == ACD_OVERFLOW_CALLBACK && n_follow < 4) {
					struct router_followup *f = &follow[n_follow++];
					router_copy(f->call, sizeof f->call, a->call);
					router_copy(f->queue, sizeof f->queue, a->queue);
					f->urgent = false;
					f->reason = "overflow";
					f->joined_at = call->joined_at;
					f->info = *call;
				}
				strmap_remove(rc->calls, a->call, strlen(a->call));
				free(call);
			}
			break;
		}
		case ACD_ACT_CALLBACK_TASK: {
			struct router_call *call = strmap_get(rc->calls, a->call, strlen(a->call));
			if (call != NULL && n_follow < 4) {
				struct router_followup *f = &follow[n_follow++];
				router_copy(f->call, sizeof f->call, a->call);
				router_copy(f->queue, sizeof f->queue, a->queue);
				f->urgent = a->urgent;
				f->reason = a->urgent ? "crisis_abandoned" : "abandoned";
				f->joined_at = call->joined_at;
				f->info = *call;
			}
			break;
		}
		case ACD_ACT_POSITION: {
			struct router_call *call = router_call_find(rc, a->call);
			if (call != NULL && call->callback)
				break;
			json_t *m = json_pack("{s:s,s:s,s:i,s:i}", "call_id", a->call, "queue",
					      a->queue, "position", a->position, "estimated_wait_s",
					      a->estimated_wait_s);
			router_stream_send(rc->gateways, "position", m);
			json_decref(m);
			break;
		}
		case ACD_ACT_COUNT:
			break;
		}
	}
	for (size_t i = 0; i < n_offers; i++)
		router_offer_op(rc, offers[i]->call, offers[i]->agent);
	for (size_t i = 0; i < n_follow; i++)
		router_make_callback(rc, &follow[i].info, follow[i].queue, follow[i].urgent,
				     follow[i].reason, follow[i].joined_at, timeutil_now_usec());
}

/* --- timers ---------------------------------------------------------------- */

struct router_deadline {
	int64_t earliest;
};

static void router_centre_deadline(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_centre *rc = value;
	struct router_deadline *d = arg;
	if (rc->acd) {
		int64_t t = acd_next_deadline(rc->acd);
		if (t < d->earliest)
			d->earliest = t;
	}
}

static void router_arm_timer(struct router *r)
{
	struct router_deadline d = {INT64_MAX};
	strmap_each(r->centres, router_centre_deadline, &d);
	int64_t now = timeutil_now_usec();
	/* at least once a minute: the day may change */
	/* compared before subtracting: a restored timer may be long overdue */
	int64_t wait = d.earliest == INT64_MAX ? 60000000 : d.earliest <= now ? 0 : d.earliest - now;
	if (wait > 60000000)
		wait = 60000000;
	struct timeval tv = {.tv_sec = wait / 1000000, .tv_usec = wait % 1000000};
	evtimer_add(r->ev_timer, &tv);
}

static void router_tick_centre(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_centre *rc = value;
	bool *new_day = arg;
	if (rc->acd == NULL)
		return;
	if (*new_day) {
		struct acd_input in = {.type = ACD_IN_NEW_DAY};
		(void)router_step(rc, &in);
		memset(rc->counts, 0, rc->r->qf->acd.n_queues * sizeof *rc->counts);
		router_mirror_queues(rc);
	}
	int64_t now = timeutil_now_usec();
	for (int guard = 0; guard < 1000 && acd_next_deadline(rc->acd) <= now; guard++) {
		struct acd_input in = {.type = ACD_IN_TICK};
		int rc_step = router_step(rc, &in);
		if (rc_step != -EAGAIN)
			break;
	}
	router_mirror_queues(rc);
}

static void router_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct router *r = arg;
	if (r->store == NULL || !store_is_ready(r->store)) {
		/* Nothing can be recorded: wait for the rebuild. */
		router_arm_timer(r);
		return;
	}
	int64_t day = router_local_day(timeutil_now_usec());
	bool new_day = day != r->day;
	r->day = day;
	strmap_each(r->centres, router_tick_centre, &new_day);
	router_flush(r);
	router_arm_timer(r);
}

static void router_keepalive_list(struct router_stream *s)
{
	for (; s != NULL; s = s->next)
		sse_keepalive(s->sse);
}

static void router_keepalive_agent(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_agent *ra = value;
	router_keepalive_list(ra->streams);
}

static void router_keepalive_centre(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_centre *rc = value;
	router_keepalive_list(rc->gateways);
	strmap_each(rc->agents, router_keepalive_agent, NULL);
}

static void router_on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	struct router *r = arg;
	strmap_each(r->centres, router_keepalive_centre, NULL);
}

/* --- the ingest path -------------------------------------------------------- */

static bool router_recent_crisis(struct router_centre *rc, const struct call *c)
{
	int64_t *last = strmap_get(rc->crisis, (const char *)c->caller_hash, PRIVACY_HASH_BYTES);
	int64_t window = (int64_t)rc->r->qf->crisis_memory_days * 86400 * 1000000;
	return last != NULL && c->offered_at >= *last && c->offered_at - *last <= window;
}

static void router_remember_crisis(struct router_centre *rc, const unsigned char *hash,
				   int64_t at)
{
	int64_t *last = strmap_get(rc->crisis, (const char *)hash, PRIVACY_HASH_BYTES);
	if (last != NULL) {
		if (at > *last)
			*last = at;
		return;
	}
	last = malloc(sizeof *last);
	if (last == NULL)
		return; /* only a routing preference is lost */
	*last = at;
	if (strmap_put(rc->crisis, (const char *)hash, PRIVACY_HASH_BYTES, last) != 0)
		free(last);
}

void router_route_offer(struct router *r, struct call *c)
{
	struct router_centre *rc = router_centre_find(r, c->centre);
	if (rc == NULL)
		return;
	if (c->category != CATEGORY_CRISIS && router_recent_crisis(rc, c)) {
		/* The category stays what the call is about; only the route
		 * changes: the crisis team takes this caller first. */
		router_copy(c->queue, sizeof c->queue, r->qf->crisis_queue);
		c->priority = 0;
		router_copy(c->rule, sizeof c->rule, "recent-crisis-caller");
		return;
	}
	if (queues_find(r->qf, c->queue) == NULL)
		router_copy(c->queue, sizeof c->queue, r->qf->default_queue);
}

/* Whether the call waits for an agent at all. */
static bool router_routes(const struct call *c)
{
	return c->category != CATEGORY_IVR_SELF_SERVICE &&
	       strncmp(c->queue, ROUTER_OVERFLOW_PREFIX, strlen(ROUTER_OVERFLOW_PREFIX)) != 0;
}

static void router_count(struct router_centre *rc, const char *queue, int what)
{
	int qi = router_queue_index(rc->r, queue);
	if (qi < 0)
		return;
	if (what == 0)
		rc->counts[qi].offered++;
	else if (what == 1)
		rc->counts[qi].answered++;
	else
		rc->counts[qi].abandoned++;
}

/* An answer: counted, and within the service level when it came at most
 * stats.service_level_s after the offer. */
static void router_count_answer(struct router_centre *rc, const char *queue, const struct call *c,
				const struct call_event *ev)
{
	int qi = router_queue_index(rc->r, queue);
	router_count(rc, queue, 1);
	if (qi >= 0 && ev->at >= c->offered_at && ev->at - c->offered_at <= rc->r->sl_us)
		rc->counts[qi].answered_in_sl++;
}

static void router_forget_call(struct router_centre *rc, const char *call_id)
{
	struct router_call *call = strmap_get(rc->calls, call_id, strlen(call_id));
	if (call == NULL)
		return;
	strmap_remove(rc->calls, call_id, strlen(call_id));
	free(call);
}

static int router_enqueue(struct router_centre *rc, const struct call *c, int64_t joined_at)
{
	struct router_call *info = calloc(1, sizeof *info);
	if (info == NULL)
		return -ENOMEM;
	router_copy(info->id, sizeof info->id, c->call_id);
	router_copy(info->queue, sizeof info->queue, c->queue);
	info->category = c->category;
	memcpy(info->caller_masked, c->caller_masked, sizeof info->caller_masked);
	memcpy(info->caller_hash, c->caller_hash, sizeof info->caller_hash);
	info->offered_at = c->offered_at;
	info->joined_at = joined_at ? joined_at : timeutil_now_usec();
	if (strmap_put(rc->calls, info->id, strlen(info->id), info) != 0) {
		free(info);
		return -ENOMEM;
	}
	struct acd_input in = {
		.type = ACD_IN_CALL_WAITING,
		.call = c->call_id,
		.queue = c->queue,
		.language = c->language[0] ? c->language : NULL,
		.priority_set = true,
		.priority = c->priority,
		.crisis = c->category == CATEGORY_CRISIS ||
			  strcmp(c->queue, rc->r->qf->crisis_queue) == 0,
		.joined_at = info->joined_at,
	};
	int rc_step = router_step(rc, &in);
	if (rc_step == -EINVAL && in.language != NULL) {
		/* A language nobody configured: served as if none was needed. */
		in.language = NULL;
		rc_step = router_step(rc, &in);
	}
	if (rc_step != 0 && rc_step != -EAGAIN) {
		log_warn("router", "call %s not queued in %s: %s", c->call_id, c->queue,
			 strerror(-rc_step));
		router_forget_call(rc, c->call_id);
		return rc_step;
	}
	router_count(rc, c->queue, 0);
	router_mirror_call(rc, c->call_id, true);
	return 0;
}

void router_call_event(struct router *r, const struct call *c, const struct call_event *ev,
		       struct router_position *pos)
{
	struct router_centre *rc = router_centre_find(r, c->centre);
	if (pos)
		memset(pos, 0, sizeof *pos);
	if (rc == NULL || rc->acd == NULL)
		return;
	struct acd_call_record rec;
	/* A callback in the core under this call's id is not the live call:
	 * what happens to the call on the line does not touch it. */
	bool callback = strmap_get(rc->callbacks, c->call_id, strlen(c->call_id)) != NULL;
	bool held = !callback && acd_call_get(rc->acd, c->call_id, &rec) == 0;
	struct acd_input in = {.call = c->call_id};

	switch (ev->type) {
	case EVENT_OFFERED:
		if (c->category == CATEGORY_CRISIS)
			router_remember_crisis(rc, c->caller_hash, c->offered_at);
		if (!router_routes(c) || router_enqueue(rc, c, 0) != 0)
			return;
		if (pos && acd_call_position(rc->acd, c->call_id, &pos->position,
					     &pos->estimated_wait_s) == 0)
			pos->waiting = true;
		router_mirror_queues(rc);
		return;
	case EVENT_ANSWERED:
		if (held && rec.state == ACD_CALL_OFFERED && strcmp(rec.agent, ev->agent) == 0) {
			in.type = ACD_IN_OFFER_ANSWERED;
			in.agent = ev->agent;
			if (router_step(rc, &in) == 0)
				router_count_answer(rc, rec.queue, c, ev);
			router_mirror_queues(rc);
			return;
		}
		if (held) {
			/* Connected by the gateway to someone the ACD did not offer it
			 * to: the gateway is the truth for the line. */
			log_warn("router", "call %s answered by %s, not through the ACD (%s%s)",
				 c->call_id, ev->agent, acd_call_state_name(rec.state),
				 rec.state == ACD_CALL_OFFERED ? " elsewhere" : "");
			in.type = ACD_IN_CALL_WITHDRAWN;
			(void)router_step(rc, &in);
			router_count_answer(rc, rec.queue, c, ev);
			if (r->metrics)
				r->metrics->acd_unrouted_answers++;
		}
		break;
	case EVENT_OFFER_FAILED:
		if (held && rec.state == ACD_CALL_OFFERED && strcmp(rec.agent, ev->agent) == 0) {
			in.type = ACD_IN_OFFER_FAILED;
			in.agent = ev->agent;
			(void)router_step(rc, &in);
		}
		return;
	case EVENT_TRANSFERRED:
		if (held && rec.state == ACD_CALL_CONNECTED) {
			in.type = ACD_IN_CALL_ENDED;
			(void)router_step(rc, &in);
		}
		router_forget_call(rc, c->call_id);
		if (ev->to_queue[0] != '\0') {
			struct call moved = *c;
			if (queues_find(r->qf, moved.queue) == NULL)
				router_copy(moved.queue, sizeof moved.queue, r->qf->default_queue);
			(void)router_enqueue(rc, &moved, 0);
		}
		router_mirror_queues(rc);
		return;
	case EVENT_IVR_COMPLETED:
		if (held) {
			in.type = ACD_IN_CALL_WITHDRAWN;
			(void)router_step(rc, &in);
		}
		break;
	case EVENT_ABANDONED:
		if (held) {
			in.type = ACD_IN_CALL_GONE;
			(void)router_step(rc, &in);
			router_count(rc, rec.queue, 2);
		}
		break;
	case EVENT_ENDED:
		if (held && rec.state == ACD_CALL_CONNECTED) {
			in.type = ACD_IN_CALL_ENDED;
			(void)router_step(rc, &in);
		}
		break;
	case EVENT_TYPE_COUNT:
		return;
	}
	if (callback || acd_call_get(rc->acd, c->call_id, &rec) != 0) {
		router_forget_call(rc, c->call_id);
		if (!callback)
			router_mirror_call(rc, c->call_id, false);
	}
	router_mirror_queues(rc);
}

void router_call_withdrawn(struct router *r, const char *centre, const char *call_id)
{
	struct router_centre *rc = router_centre_find(r, centre);
	if (rc == NULL || rc->acd == NULL ||
	    strmap_get(rc->callbacks, call_id, strlen(call_id)) != NULL)
		return; /* a callback under this id is not the refused offer */
	struct acd_input in = {.type = ACD_IN_CALL_WITHDRAWN, .call = call_id};
	if (router_step(rc, &in) == 0)
		router_forget_call(rc, call_id);
	router_flush(r);
}

/* --- recovery ---------------------------------------------------------------- */

static void router_reset_agent(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_agent *ra = value;
	ra->logged_in = false;
	ra->stored = false;
	ra->state = ACD_AGENT_LOGGED_OUT;
	ra->reason[0] = ra->call[0] = '\0';
}

static void router_reset_centre(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_centre *rc = value;
	acd_free(rc->acd);
	rc->acd = NULL;
	strmap_each(rc->calls, router_free_value, NULL);
	strmap_each(rc->callbacks, router_free_value, NULL);
	strmap_each(rc->crisis, router_free_value, NULL);
	strmap_free(rc->calls);
	strmap_free(rc->callbacks);
	strmap_free(rc->crisis);
	rc->calls = strmap_new();
	rc->callbacks = strmap_new();
	rc->crisis = strmap_new();
	rc->n_restored = 0;
	memset(rc->counts, 0, rc->r->qf->acd.n_queues * sizeof *rc->counts);
	strmap_each(rc->agents, router_reset_agent, NULL);
	bool *ok = arg;
	if (rc->calls == NULL || rc->callbacks == NULL || rc->crisis == NULL)
		*ok = false;
}

int router_recover_begin(struct router *r)
{
	bool ok = true;
	/* Rows not yet submitted belong to the memory being replaced. */
	struct router_op *op = r->pending_head;
	r->pending_head = r->pending_tail = NULL;
	while (op != NULL) {
		struct router_op *next = op->next_pending;
		op->sop.done(&op->sop, STORE_UNAVAILABLE);
		op = next;
	}
	r->recovering = true;
	strmap_each(r->centres, router_reset_centre, &ok);
	strmap_each(r->sessions, router_free_value, NULL);
	strmap_free(r->sessions);
	r->sessions = strmap_new();
	r->day = router_local_day(timeutil_now_usec());
	int y, m, d;
	timeutil_civil_from_days(r->day, &y, &m, &d);
	snprintf(r->today_text, sizeof r->today_text, "%" PRId64, timeutil_local_midnight(y, m, d));
	snprintf(r->crisis_days_text, sizeof r->crisis_days_text, "%d", r->qf->crisis_memory_days);
	return ok && r->sessions != NULL ? 0 : -1;
}

int router_recover_centre(struct router *r, const char *code)
{
	if (router_centre_find(r, code) != NULL)
		return 0;
	struct router_centre *rc = calloc(1, sizeof *rc);
	if (rc == NULL)
		return -1;
	rc->r = r;
	router_copy(rc->code, sizeof rc->code, code);
	rc->agents = strmap_new();
	rc->calls = strmap_new();
	rc->callbacks = strmap_new();
	rc->crisis = strmap_new();
	rc->counts = calloc(r->qf->acd.n_queues ? r->qf->acd.n_queues : 1, sizeof *rc->counts);
	if (rc->agents == NULL || rc->calls == NULL || rc->callbacks == NULL ||
	    rc->crisis == NULL || rc->counts == NULL ||
	    strmap_put(r->centres, rc->code, strlen(rc->code), rc) != 0) {
	fail:
		strmap_free(rc->agents);
		strmap_free(rc->calls);
		strmap_free(rc->callbacks);
		strmap_free(rc->crisis);
		free(rc->counts);
		free(rc);
		return -1;
	}
	if (!r->recovering) {
		/* A centre added by a refresh (SIGHUP): an empty core of its own. */
		char err[256];
		struct acd_config cfg = r->qf->acd;
		cfg.centre = rc->code;
		if (acd_new(&cfg, &rc->acd, err, sizeof err) != 0) {
			log_error("router", "centre %s: %s", rc->code, err);
			strmap_remove(r->centres, rc->code, strlen(rc->code));
			goto fail;
		}
		log_info("router", "centre %s added to the ACD", rc->code);
	}
	return 0;
}

/* "crisis:5,booking:3" into skills; unreadable parts are skipped. */
static size_t router_parse_skills(const char *text, struct acd_skill *out)
{
	size_t n = 0;
	const char *p = text;
	while (*p && n < ACD_SKILLS_MAX) {
		const char *colon = strchr(p, ':');
		const char *comma = strchr(p, ',');
		if (colon == NULL)
			break;
		size_t len = (size_t)(colon - p);
		if (len >= 1 && len <= ACD_NAME_MAX) {
			memcpy(out[n].name, p, len);
			out[n].name[len] = '\0';
			out[n].level = atoi(colon + 1);
			n++;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return n;
}

static struct router_agent *router_agent_get_or_add(struct router_centre *rc, const char *id)
{
	struct router_agent *ra = router_agent_find(rc, id);
	if (ra != NULL)
		return ra;
	ra = calloc(1, sizeof *ra);
	if (ra == NULL)
		return NULL;
	ra->rc = rc;
	router_copy(ra->id, sizeof ra->id, id);
	if (strmap_put(rc->agents, ra->id, strlen(ra->id), ra) != 0) {
		free(ra);
		return NULL;
	}
	return ra;
}

static int router_recover_agents(struct router *r, const struct store_rows *rows)
{
	for (int i = 0; i < store_rows_count(rows); i++) {
		struct router_centre *rc = router_centre_find(r, store_rows_value(rows, i, 0));
		if (rc == NULL)
			continue;
		struct router_agent *ra = router_agent_get_or_add(rc, store_rows_value(rows, i, 1));
		if (ra == NULL)
			return -1;
		router_copy(ra->name, sizeof ra->name, store_rows_value(rows, i, 2));
		router_copy(ra->extension, sizeof ra->extension, store_rows_value(rows, i, 3));
		ra->enabled = strcmp(store_rows_value(rows, i, 4), "t") == 0;
		ra->n_skills = router_parse_skills(store_rows_value(rows, i, 5), ra->skills);
		ra->supervisor = strcmp(store_rows_value(rows, i, 10), "supervisor") == 0;
		ra->stored = false;
		if (store_rows_is_null(rows, i, 6))
			continue;
		enum acd_agent_state st = ACD_AGENT_LOGGED_OUT;
		for (int k = 0; k < ACD_AGENT_STATE_COUNT; k++)
			if (strcmp(store_rows_value(rows, i, 6),
				   acd_agent_state_name((enum acd_agent_state)k)) == 0)
				st = (enum acd_agent_state)k;
		if (st == ACD_AGENT_LOGGED_OUT || !ra->enabled)
			continue;
		ra->stored = true;
		ra->stored_state = st;
		router_copy(ra->stored_reason, sizeof ra->stored_reason, store_rows_value(rows, i, 7));
		ra->stored_at = strtoll(store_rows_value(rows, i, 8), NULL, 10);
		router_copy(ra->stored_call, sizeof ra->stored_call, store_rows_value(rows, i, 9));
	}
	return 0;
}

static int router_recover_sessions(struct router *r, const struct store_rows *rows)
{
	for (int i = 0; i < store_rows_count(rows); i++) {
		unsigned char sha[32];
		const char *hex = store_rows_value(rows, i, 0);
		if (sodium_hex2bin(sha, sizeof sha, hex, strlen(hex), NULL, NULL, NULL) != 0)
			continue;
		struct router_session *s = calloc(1, sizeof *s);
		if (s == NULL)
			return -1;
		router_copy(s->centre, sizeof s->centre, store_rows_value(rows, i, 1));
		router_copy(s->agent, sizeof s->agent, store_rows_value(rows, i, 2));
		s->expires_at = strtoll(store_rows_value(rows, i, 3), NULL, 10);
		if (strmap_put(r->sessions, (const char *)sha, sizeof sha, s) != 0) {
			free(s);
			return -1;
		}
	}
	return 0;
}

static int router_recover_callbacks(struct router *r, const struct store_rows *rows)
{
	for (int i = 0; i < store_rows_count(rows); i++) {
		struct router_centre *rc = router_centre_find(r, store_rows_value(rows, i, 0));
		if (rc == NULL)
			continue;
		struct router_call *cb = calloc(1, sizeof *cb);
		if (cb == NULL)
			return -1;
		router_copy(cb->id, sizeof cb->id, store_rows_value(rows, i, 1));
		router_copy(cb->queue, sizeof cb->queue, store_rows_value(rows, i, 2));
		cb->urgent = strcmp(store_rows_value(rows, i, 3), "t") == 0;
		router_copy(cb->reason, sizeof cb->reason, store_rows_value(rows, i, 4));
		cb->joined_at = strtoll(store_rows_value(rows, i, 5), NULL, 10);
		cb->created_at = strtoll(store_rows_value(rows, i, 6), NULL, 10);
		router_copy(cb->state, sizeof cb->state, store_rows_value(rows, i, 7));
		router_copy(cb->agent, sizeof cb->agent, store_rows_value(rows, i, 8));
		if (category_from_name(store_rows_value(rows, i, 9), &cb->category) != 0)
			cb->category = CATEGORY_OTHER;
		router_copy(cb->caller_masked, sizeof cb->caller_masked, store_rows_value(rows, i, 10));
		const char *hex = store_rows_value(rows, i, 11);
		(void)sodium_hex2bin(cb->caller_hash, sizeof cb->caller_hash, hex, strlen(hex), NULL,
				     NULL, NULL);
		cb->offered_at = strtoll(store_rows_value(rows, i, 12), NULL, 10);
		cb->callback = true;
		if (strmap_put(rc->callbacks, cb->id, strlen(cb->id), cb) != 0) {
			free(cb);
			return -1;
		}
	}
	return 0;
}

static int router_recover_crisis(struct router *r, const struct store_rows *rows)
{
	for (int i = 0; i < store_rows_count(rows); i++) {
		struct router_centre *rc = router_centre_find(r, store_rows_value(rows, i, 0));
		unsigned char hash[PRIVACY_HASH_BYTES];
		const char *hex = store_rows_value(rows, i, 1);
		if (rc == NULL ||
		    sodium_hex2bin(hash, sizeof hash, hex, strlen(hex), NULL, NULL, NULL) != 0)
			continue;
		router_remember_crisis(rc, hash, strtoll(store_rows_value(rows, i, 2), NULL, 10));
	}
	return 0;
}

static int router_recover_today(struct router *r, const struct store_rows *rows)
{
	for (int i = 0; i < store_rows_count(rows); i++) {
		struct router_centre *rc = router_centre_find(r, store_rows_value(rows, i, 0));
		int qi = router_queue_index(r, store_rows_value(rows, i, 1));
		if (rc == NULL || qi < 0)
			continue;
		rc->counts[qi].offered = strtoull(store_rows_value(rows, i, 2), NULL, 10);
		rc->counts[qi].answered = strtoull(store_rows_value(rows, i, 3), NULL, 10);
		rc->counts[qi].abandoned = strtoull(store_rows_value(rows, i, 4), NULL, 10);
		rc->counts[qi].answered_in_sl = strtoull(store_rows_value(rows, i, 5), NULL, 10);
	}
	return 0;
}

int router_recover_rows(struct router *r, size_t index, const struct store_rows *rows)
{
	switch (index) {
	case RQ_AGENTS:
		return router_recover_agents(r, rows);
	case RQ_SESSIONS:
		return router_recover_sessions(r, rows);
	case RQ_CALLBACKS:
		return router_recover_callbacks(r, rows);
	case RQ_CRISIS:
		return router_recover_crisis(r, rows);
	case RQ_TODAY:
		return router_recover_today(r, rows);
	default:
		return 0;
	}
}

static struct acd_call_record *router_restored_add(struct router_centre *rc)
{
	if (rc->n_restored == rc->restored_cap) {
		size_t cap = rc->restored_cap ? rc->restored_cap * 2 : 64;
		struct acd_call_record *grown = realloc(rc->restored, cap * sizeof *grown);
		if (grown == NULL)
			return NULL;
		rc->restored = grown;
		rc->restored_cap = cap;
	}
	struct acd_call_record *rec = &rc->restored[rc->n_restored++];
	memset(rec, 0, sizeof *rec);
	return rec;
}

int router_recover_call(struct router *r, const struct call *c)
{
	struct router_centre *rc = router_centre_find(r, c->centre);
	if (rc == NULL)
		return 0;
	if (c->category == CATEGORY_CRISIS)
		router_remember_crisis(rc, c->caller_hash, c->offered_at);
	bool waiting = c->state == CALL_QUEUED && router_routes(c);
	bool talking = c->state == CALL_TALKING && c->agent[0] != '\0';
	if (!waiting && !talking)
		return 0;
	struct router_call *info = calloc(1, sizeof *info);
	struct acd_call_record *rec = router_restored_add(rc);
	if (info == NULL || rec == NULL) {
		free(info);
		return -1;
	}
	router_copy(info->id, sizeof info->id, c->call_id);
	router_copy(info->queue, sizeof info->queue, c->queue);
	if (queues_find(r->qf, info->queue) == NULL)
		router_copy(info->queue, sizeof info->queue, r->qf->default_queue);
	info->category = c->category;
	memcpy(info->caller_masked, c->caller_masked, sizeof info->caller_masked);
	memcpy(info->caller_hash, c->caller_hash, sizeof info->caller_hash);
	info->offered_at = c->offered_at;
	info->joined_at = c->accepted_at ? c->accepted_at : c->offered_at;
	if (strmap_put(rc->calls, info->id, strlen(info->id), info) != 0) {
		free(info);
		rc->n_restored--;
		return -1;
	}
	router_copy(rec->id, sizeof rec->id, c->call_id);
	router_copy(rec->queue, sizeof rec->queue, info->queue);
	router_copy(rec->language, sizeof rec->language, c->language);
	rec->priority = c->priority;
	rec->crisis = c->category == CATEGORY_CRISIS || strcmp(info->queue, r->qf->crisis_queue) == 0;
	rec->joined_at = info->joined_at;
	rec->since = info->joined_at;
	rec->state = waiting ? ACD_CALL_WAITING : ACD_CALL_CONNECTED;
	if (talking)
		router_copy(rec->agent, sizeof rec->agent, c->agent); /* checked in recover_done */
	return 0;
}

static int router_wrap_up_s(const struct router *r, const char *queue)
{
	const struct acd_queue_config *q = queues_find(r->qf, queue);
	if (q == NULL)
		q = queues_find(r->qf, r->qf->default_queue);
	return q ? q->wrap_up_s : 0;
}

struct router_restore {
	struct router_centre *rc;
	struct acd_agent_record *agents;
	size_t n_agents;
	bool pairings; /* false: the fallback, agents and waiting calls only */
	int64_t now;
};

static struct acd_call_record *router_restored_find(struct router_centre *rc, const char *id)
{
	for (size_t i = 0; i < rc->n_restored; i++)
		if (strcmp(rc->restored[i].id, id) == 0)
			return &rc->restored[i];
	return NULL;
}

/* One stored agent into a snapshot record, paired with its call when the
 * rows agree. */
static void router_restore_agent(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_agent *ra = value;
	struct router_restore *st = arg;
	struct router_centre *rc = st->rc;
	if (!ra->stored)
		return;
	struct acd_agent_record *rec = &st->agents[st->n_agents++];
	memset(rec, 0, sizeof *rec);
	router_copy(rec->id, sizeof rec->id, ra->id);
	memcpy(rec->skills, ra->skills, sizeof rec->skills);
	rec->n_skills = ra->n_skills;
	rec->state = ra->stored_state;
	router_copy(rec->reason, sizeof rec->reason, ra->stored_reason);
	rec->state_since = rec->idle_since = ra->stored_at;
	struct acd_call_record *call = ra->stored_call[0] ? router_restored_find(rc, ra->stored_call)
							  : NULL;
	switch (ra->stored_state) {
	case ACD_AGENT_OFFERED:
		if (st->pairings && call && call->state == ACD_CALL_WAITING && call->agent[0] == '\0') {
			const struct acd_queue_config *q = queues_find(rc->r->qf, call->queue);
			call->state = ACD_CALL_OFFERED;
			router_copy(call->agent, sizeof call->agent, ra->id);
			call->since = ra->stored_at;
			call->ring_deadline = ra->stored_at + (int64_t)(q ? q->ring_timeout_s : 20) * 1000000;
			break;
		}
		if (st->pairings && call && call->state == ACD_CALL_CONNECTED &&
		    strcmp(call->agent, ra->id) == 0) {
			/* answered; the agent's row for it had not committed */
			rec->state = ACD_AGENT_ON_CALL;
			break;
		}
		rec->state = ACD_AGENT_READY;
		break;
	case ACD_AGENT_ON_CALL:
		if (st->pairings && call && call->state == ACD_CALL_CONNECTED &&
		    strcmp(call->agent, ra->id) == 0)
			break;
		/* the call ended meanwhile: wrap it up */
		rec->state = ACD_AGENT_WRAP_UP;
		rec->state_since = st->now;
		rec->wrap_up_until = st->now + (int64_t)router_wrap_up_s(rc->r, "") * 1000000;
		break;
	case ACD_AGENT_WRAP_UP:
		rec->wrap_up_until = ra->stored_at + (int64_t)router_wrap_up_s(rc->r, "") * 1000000;
		break;
	case ACD_AGENT_READY:
	case ACD_AGENT_NOT_READY:
	case ACD_AGENT_LOGGED_OUT:
	case ACD_AGENT_STATE_COUNT:
		break;
	}
	if (!st->pairings && (rec->state == ACD_AGENT_OFFERED || rec->state == ACD_AGENT_ON_CALL))
		rec->state = ACD_AGENT_READY;
	if (rec->state == ACD_AGENT_READY || rec->state == ACD_AGENT_WRAP_UP)
		rec->reason[0] = '\0';
	if (rec->state == ACD_AGENT_NOT_READY && rec->reason[0] == '\0')
		router_copy(rec->reason, sizeof rec->reason, QUEUES_REASON_LOGIN);
}

static int router_compare_joined(const void *a, const void *b)
{
	const struct acd_call_record *x = a, *y = b;
	return x->joined_at < y->joined_at ? -1 : x->joined_at > y->joined_at;
}

static void router_add_callback_record(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_call *cb = value;
	struct router_centre *rc = arg;
	struct acd_call_record *rec = router_restored_add(rc);
	if (rec == NULL)
		return;
	router_copy(rec->id, sizeof rec->id, cb->id);
	router_copy(rec->queue, sizeof rec->queue, cb->queue);
	rec->state = ACD_CALL_WAITING;
	rec->crisis = cb->urgent;
	rec->callback = true;
	const struct acd_queue_config *q = queues_find(rc->r->qf, cb->queue);
	rec->priority = q ? q->priority : 0;
	rec->joined_at = cb->joined_at;
	rec->since = cb->created_at;
	if (strcmp(cb->state, "accepted") == 0 && cb->agent[0] != '\0') {
		rec->state = ACD_CALL_CONNECTED;
		router_copy(rec->agent, sizeof rec->agent, cb->agent);
	}
	if (q == NULL)
		rc->n_restored--; /* a queue removed from the config */
}

static int router_build_core(struct router_centre *rc, bool pairings, char *err, size_t err_len)
{
	struct router *r = rc->r;
	size_t n_agents = strmap_count(rc->agents);
	struct acd_agent_record *agents = calloc(n_agents ? n_agents : 1, sizeof *agents);
	if (agents == NULL)
		return -ENOMEM;
	/* A copy of the calls: a failed attempt must leave them for the fallback. */
	struct acd_call_record *calls = malloc((rc->n_restored ? rc->n_restored : 1) * sizeof *calls);
	if (calls == NULL) {
		free(agents);
		return -ENOMEM;
	}
	if (rc->n_restored > 0)
		memcpy(calls, rc->restored, rc->n_restored * sizeof *calls);
	struct acd_call_record *saved = rc->restored;
	rc->restored = calls;
	struct router_restore st = {.rc = rc, .agents = agents, .pairings = pairings,
				    .now = timeutil_now_usec()};
	strmap_each(rc->agents, router_restore_agent, &st);
	/* A connected call needs its agent on it. */
	size_t kept = 0;
	for (size_t i = 0; i < rc->n_restored; i++) {
		struct acd_call_record *c = &calls[i];
		bool ok = true;
		if (c->state == ACD_CALL_CONNECTED) {
			/* only the call the agent's own last row names */
			const struct router_agent *ra = router_agent_find(rc, c->agent);
			ok = false;
			for (size_t k = 0; pairings && ra && k < st.n_agents; k++)
				if (strcmp(agents[k].id, c->agent) == 0 &&
				    agents[k].state == ACD_AGENT_ON_CALL &&
				    strcmp(ra->stored_call, c->id) == 0)
					ok = true;
		}
		if (ok)
			calls[kept++] = *c;
	}
	/* An agent on a call needs that call. */
	for (size_t k = 0; k < st.n_agents; k++) {
		if (agents[k].state != ACD_AGENT_ON_CALL)
			continue;
		bool found = false;
		for (size_t i = 0; i < kept; i++)
			if (calls[i].state == ACD_CALL_CONNECTED && strcmp(calls[i].agent, agents[k].id) == 0)
				found = true;
		if (!found) {
			agents[k].state = ACD_AGENT_WRAP_UP;
			agents[k].wrap_up_until = st.now + (int64_t)router_wrap_up_s(r, "") * 1000000;
		}
	}
	qsort(calls, kept, sizeof *calls, router_compare_joined);
	struct acd_snapshot snap = {.agents = agents, .n_agents = st.n_agents, .calls = calls,
				    .n_calls = kept};
	struct acd_config cfg = r->qf->acd;
	cfg.centre = rc->code;
	struct acd *core = NULL;
	int rc_restore = acd_restore(&cfg, &snap, &core, err, err_len);
	rc->restored = saved;
	free(agents);
	free(calls);
	if (rc_restore != 0)
		return rc_restore;
	acd_free(rc->acd);
	rc->acd = core;
	return 0;
}

static void router_after_restore_agent(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_agent *ra = value;
	struct router_centre *rc = ra->rc;
	struct acd_agent_record rec;
	ra->call[0] = '\0';
	if (acd_agent_get(rc->acd, ra->id, &rec) != 0) {
		ra->logged_in = false;
		ra->state = ACD_AGENT_LOGGED_OUT;
	} else {
		ra->logged_in = rec.state != ACD_AGENT_LOGGED_OUT;
		ra->state = rec.state;
		router_copy(ra->reason, sizeof ra->reason, rec.reason);
		ra->since = rec.state_since;
		if (rec.state != ACD_AGENT_READY && rec.state != ACD_AGENT_NOT_READY)
			router_copy(ra->call, sizeof ra->call, ra->stored_call);
		if (rec.state == ACD_AGENT_ON_CALL || rec.state == ACD_AGENT_WRAP_UP)
			router_copy(ra->last_call, sizeof ra->last_call, ra->stored_call);
	}
	if (ra->streams) {
		json_t *m = router_state_json(ra);
		router_stream_send(ra->streams, "state", m);
		json_decref(m);
	}
}

/* Offers in progress, for a gateway that (re)connects or a restored core. */
static void router_resend_offers(struct router_centre *rc, struct router_stream *only)
{
	struct acd_snapshot snap;
	if (rc->acd == NULL || acd_snapshot_take(rc->acd, &snap) != 0)
		return;
	for (size_t i = 0; i < snap.n_calls; i++) {
		const struct acd_call_record *c = &snap.calls[i];
		if (c->state != ACD_CALL_OFFERED || c->callback)
			continue;
		struct router_agent *ra = router_agent_find(rc, c->agent);
		if (ra == NULL)
			continue;
		json_t *m = router_connect_json(rc, c, ra);
		if (only) {
			char *text = json_dumps(m, JSON_COMPACT);
			if (text)
				sse_send(only->sse, "connect", text);
			free(text);
		} else {
			router_stream_send(rc->gateways, "connect", m);
		}
		json_decref(m);
	}
	acd_snapshot_free(&snap);
}

static void router_restore_centre(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_centre *rc = value;
	int *failed = arg;
	char err[256];

	strmap_each(rc->callbacks, router_add_callback_record, rc);
	int rc_build = router_build_core(rc, true, err, sizeof err);
	if (rc_build == -EINVAL) {
		log_error("router", "centre %s: stored queues and agents do not fit together (%s); "
			  "restoring agents and waiting calls without their pairings",
			  rc->code, err);
		rc_build = router_build_core(rc, false, err, sizeof err);
	}
	if (rc_build != 0) {
		log_error("router", "centre %s: cannot restore the ACD: %s", rc->code,
			  rc_build == -EINVAL ? err : strerror(-rc_build));
		*failed = 1;
		return;
	}
	rc->n_restored = 0;
	strmap_each(rc->agents, router_after_restore_agent, NULL);
	router_resend_offers(rc, NULL);
}

static void router_count_logged_in(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_agent *ra = value;
	*(size_t *)arg += ra->logged_in;
}

static void router_count_centre_agents(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_centre *rc = value;
	strmap_each(rc->agents, router_count_logged_in, arg);
}

size_t router_agents_logged_in(const struct router *r)
{
	size_t n = 0;
	strmap_each(r->centres, router_count_centre_agents, &n);
	return n;
}

int router_recover_done(struct router *r)
{
	int failed = 0;
	r->recovering = false;
	strmap_each(r->centres, router_restore_centre, &failed);
	if (failed)
		return -1;
	log_info("router", "ACD restored: %zu agent(s) logged in, %zu session(s)",
		 router_agents_logged_in(r), strmap_count(r->sessions));
	/* A ready agent and a waiting call restored together meet on the first tick. */
	router_arm_timer(r);
	struct timeval now = {0, 0};
	evtimer_add(r->ev_timer, &now);
	return 0;
}

static void router_resync_agent(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_agent *ra = value;
	if (ra->logged_in)
		router_mirror_agent(ra->rc, ra);
}

static void router_resync_callback(const char *key, size_t key_len, void *value, void *arg)
{
	router_mirror_callback(arg, value, false);
}

static void router_resync_centre(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_centre *rc = value;
	struct router *r = rc->r;
	for (size_t i = 0; i < r->qf->acd.n_queues; i++) {
		char k[EVENT_SHORT_MAX + 8];
		snprintf(k, sizeof k, "queue:%s", r->qf->acd.queues[i].name);
		mirror_del(r->mirror, rc->code, k);
	}
	if (rc->acd == NULL)
		return;
	strmap_each(rc->agents, router_resync_agent, NULL);
	strmap_each(rc->callbacks, router_resync_callback, rc);
	struct acd_snapshot snap;
	if (acd_snapshot_take(rc->acd, &snap) == 0) {
		for (size_t i = 0; i < snap.n_calls; i++)
			router_mirror_call(rc, snap.calls[i].id, true);
		acd_snapshot_free(&snap);
	}
	router_mirror_queues(rc);
}

void router_mirror_resync(struct router *r)
{
	if (r->mirror != NULL && mirror_is_up(r->mirror))
		strmap_each(r->centres, router_resync_centre, NULL);
}

/* --- agents' requests -------------------------------------------------------- */

static void router_login_fail(struct router_login *lg, int status, const char *code,
			      const char *message)
{
	if (lg->r->metrics)
		lg->r->metrics->logins_refused++;
	log_info("router", "login of agent %s of centre %s refused: %s", lg->agent, lg->centre,
		 code);
	apireq_error(lg->reply, lg->request, status, code, NULL, "%s", message);
	sodium_memzero(lg->password, sizeof lg->password);
	free(lg);
}

static void router_login_checked(void *arg, int result)
{
	struct router_login *lg = arg;
	struct router *r = lg->r;
	sodium_memzero(lg->password, sizeof lg->password);
	if (result == -ENOMEM) {
		router_login_fail(lg, 503, "busy", "the broker is short of memory; retry");
		return;
	}
	if (result != 0 || !lg->found) {
		router_login_fail(lg, 401, "bad_credentials", "unknown agent or wrong password");
		return;
	}
	if (!lg->enabled) {
		router_login_fail(lg, 403, "agent_disabled",
				  "this agent is disabled (hotline-admin agent set --enable)");
		return;
	}
	struct router_centre *rc = router_centre_find(r, lg->centre);
	struct router_agent *ra = rc ? router_agent_get_or_add(rc, lg->agent) : NULL;
	if (ra == NULL || rc->acd == NULL || r->store == NULL || !store_is_ready(r->store)) {
		router_login_fail(lg, 503, "store_unavailable",
				  "PostgreSQL is unavailable; nothing was recorded, retry later");
		return;
	}
	router_copy(ra->name, sizeof ra->name, lg->name);
	router_copy(ra->extension, sizeof ra->extension, lg->extension);
	memcpy(ra->skills, lg->skills, sizeof ra->skills);
	ra->n_skills = lg->n_skills;
	ra->enabled = true;
	ra->supervisor = lg->supervisor;

	char token[PWCHECK_TOKEN_CHARS + 1];
	unsigned char sha[32];
	pwcheck_new_token(token, sha);
	int64_t now = timeutil_now_usec();
	struct router_session *s = calloc(1, sizeof *s);
	struct router_op *op = router_op_new(r, ROP_SESSION_ADD, "r_session_add", rc->code);
	if (s == NULL || op == NULL ||
	    strmap_put(r->sessions, (const char *)sha, sizeof sha, s) != 0) {
		free(s);
		router_op_free(op);
		router_login_fail(lg, 500, "internal", "out of memory");
		return;
	}
	router_copy(s->centre, sizeof s->centre, rc->code);
	router_copy(s->agent, sizeof s->agent, ra->id);
	s->expires_at = now + r->session_ttl_s * 1000000;
	router_op_param_hex(op, sha, sizeof sha);
	router_op_param(op, rc->code);
	router_op_param(op, ra->id);
	router_op_param_int(op, now);
	router_op_param_int(op, s->expires_at);
	router_push(r, op);
	if (!ra->logged_in) {
		struct acd_input in = {
			.type = ACD_IN_AGENT_LOGIN,
			.agent = ra->id,
			.skills = ra->skills,
			.n_skills = ra->n_skills,
		};
		int rc_step = router_step(rc, &in);
		if (rc_step != 0 && rc_step != -EALREADY)
			log_warn("router", "agent %s of centre %s: login refused by the ACD: %s", ra->id,
				 rc->code, strerror(-rc_step));
	}
	if (r->metrics)
		r->metrics->logins_ok++;
	log_info("router", "agent %s of centre %s logged in", ra->id, rc->code);
	char *answer = router_json_text(json_pack("{s:s,s:o,s:o,s:o}", "token", token, "expires_at",
						  router_time_json(s->expires_at), "agent",
						  router_agent_json(ra), "state",
						  router_state_json(ra)));
	sodium_memzero(token, sizeof token);
	router_reply_after(r, lg->reply, lg->request, answer);
	router_flush(r);
	free(lg);
}

/* The agent's row came back: check the password off the loop. */
static void router_login_found(struct router_login *lg, json_t *rows)
{
	struct router *r = lg->r;
	json_t *row = rows ? json_array_get(rows, 0) : NULL;
	/* An unknown agent is checked against a hash too, so that the answer
	 * takes as long as for a wrong password. */
	static const char unknown_hash[] =
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
		"3jKSKpDpsLQiVVnUqDs4mJmuVVQvbRUykhuDDpB9OdU";
	const char *hash = unknown_hash;
	if (row != NULL && json_array_size(row) >= 5) {
		lg->found = true;
		router_copy(lg->name, sizeof lg->name, json_string_value(json_array_get(row, 0)));
		router_copy(lg->extension, sizeof lg->extension,
			    json_string_value(json_array_get(row, 1)));
		lg->enabled = strcmp(json_string_value(json_array_get(row, 2)), "t") == 0;
		router_copy(lg->hash, sizeof lg->hash, json_string_value(json_array_get(row, 3)));
		lg->n_skills = router_parse_skills(json_string_value(json_array_get(row, 4)),
						   lg->skills);
		lg->supervisor = json_array_size(row) >= 6 &&
				 strcmp(json_string_value(json_array_get(row, 5)), "supervisor") == 0;
		hash = lg->hash;
	}
	int rc = pwcheck_submit(r->pw, hash, lg->password, lg->password_len, router_login_checked,
				lg);
	if (rc == -EAGAIN)
		router_login_fail(lg, 503, "busy", "too many logins are being checked; retry");
	else if (rc != 0)
		router_login_fail(lg, 500, "internal", "cannot check the password");
}

void router_login(struct router *r, const char *body, size_t len, ingest_reply_fn reply,
		  void *request)
{
	static const char *const fields[] = {"centre", "agent_id", "password", NULL};
	bool failed = false;
	json_t *root = apireq_parse(body, len, reply, request);
	if (root == NULL)
		return;
	if (!apireq_only(root, fields, reply, request)) {
		json_decref(root);
		return;
	}
	const char *centre = apireq_string(root, "centre", true, EVENT_CENTRE_MAX, reply, request,
					  &failed);
	const char *agent = failed ? NULL : apireq_string(root, "agent_id", true, ACD_ID_MAX, reply,
							 request, &failed);
	const char *password = failed ? NULL : apireq_string(root, "password", true,
							    PWCHECK_PASSWORD_MAX_BYTES, reply,
							    request, &failed);
	if (!failed && strlen(password) > PWCHECK_PASSWORD_MAX_BYTES) {
		/* what the login buffer holds: bytes, whatever the characters */
		apireq_error(reply, request, 400, "invalid_field", "password",
			     "password: expected a string of 1 to %d characters",
			     PWCHECK_PASSWORD_MAX_BYTES);
		failed = true;
	}
	if (failed) {
		json_decref(root);
		return;
	}
	/* Only ids of the API's alphabets go further (and into the log). */
	bool ids_ok = true;
	for (const char *p = centre; *p; p++)
		ids_ok = ids_ok && event_centre_char_ok((unsigned char)*p);
	for (const char *p = agent; *p; p++)
		ids_ok = ids_ok && event_id_char_ok((unsigned char)*p);
	if (!ids_ok) {
		json_decref(root);
		apireq_error(reply, request, 400, "invalid_field", NULL,
			     "centre and agent_id: letters, digits and . _ : - only");
		return;
	}
	if (r->store == NULL || !store_is_ready(r->store)) {
		json_decref(root);
		apireq_error(reply, request, 503, "store_unavailable", NULL,
			     "PostgreSQL is unavailable; retry later");
		return;
	}
	struct router_login *lg = calloc(1, sizeof *lg);
	struct router_op *op = router_op_new(r, ROP_AGENT_GET, "r_agent_get", centre);
	if (lg == NULL || op == NULL) {
		free(lg);
		router_op_free(op);
		json_decref(root);
		apireq_error(reply, request, 500, "internal", NULL, "out of memory");
		return;
	}
	lg->r = r;
	router_copy(lg->centre, sizeof lg->centre, centre);
	router_copy(lg->agent, sizeof lg->agent, agent);
	lg->password_len = strlen(password);
	memcpy(lg->password, password, lg->password_len);
	lg->reply = reply;
	lg->request = request;
	/* jansson's copy of the password goes with the document. */
	sodium_memzero((void *)password, lg->password_len);
	json_decref(root);
	op->login = lg;
	op->sop.stmt.rows = router_keep_rows;
	router_op_param(op, lg->centre);
	router_op_param(op, lg->agent);
	router_push(r, op);
	router_flush(r);
}

/* The agent a bearer token stands for, or NULL after answering 401. */
static struct router_agent *router_authenticate(struct router *r, const char *token,
						ingest_reply_fn reply, void *request)
{
	unsigned char sha[32];
	struct router_session *s = NULL;
	if (token != NULL && pwcheck_token_hash(token, sha) == 0)
		s = strmap_get(r->sessions, (const char *)sha, sizeof sha);
	if (s == NULL || s->expires_at <= timeutil_now_usec()) {
		apireq_error(reply, request, 401, "unauthorised", NULL,
			     s ? "the session expired; log in again" :
				 "a valid agent token is required (Authorization: Bearer ...)");
		return NULL;
	}
	struct router_centre *rc = router_centre_find(r, s->centre);
	struct router_agent *ra = rc ? router_agent_get_or_add(rc, s->agent) : NULL;
	if (ra == NULL || rc->acd == NULL) {
		apireq_error(reply, request, 503, "store_unavailable", NULL,
			     "the broker is reloading its state; retry");
		return NULL;
	}
	return ra;
}

static void router_step_error(int rc_step, const struct router_agent *ra, ingest_reply_fn reply,
			      void *request)
{
	const char *state = acd_agent_state_name(ra->state);
	switch (rc_step) {
	case -EBUSY:
		apireq_error(reply, request, 409, "agent_busy", NULL,
			     "not allowed while the agent is %s", state);
		break;
	case -ENOENT:
		apireq_error(reply, request, 409, "not_logged_in", NULL,
			     "the agent is not logged in to the ACD; log in again");
		break;
	case -ENOMEM:
		apireq_error(reply, request, 500, "internal", NULL, "out of memory");
		break;
	default:
		apireq_error(reply, request, 409, "illegal_state", NULL,
			     "not allowed while the agent is %s", state);
		break;
	}
}

static void router_agent_state(struct router *r, struct router_agent *ra, json_t *root,
			       ingest_reply_fn reply, void *request)
{
	static const char *const fields[] = {"state", "reason", NULL};
	bool failed = false;
	if (!apireq_only(root, fields, reply, request))
		return;
	const char *state = apireq_string(root, "state", true, 16, reply, request, &failed);
	const char *reason = failed ? NULL : apireq_string(root, "reason", false, ACD_REASON_MAX,
							  reply, request, &failed);
	if (failed)
		return;
	struct acd_input in = {.agent = ra->id};
	if (strcmp(state, "ready") == 0) {
		in.type = ACD_IN_AGENT_READY;
	} else if (strcmp(state, "not_ready") == 0) {
		if (reason == NULL || !queues_has_reason(r->qf, reason)) {
			apireq_error(reply, request, 422, "unknown_reason", "reason",
				     "reason: not_ready needs one of the reason codes of the "
				     "queue file");
			return;
		}
		in.type = ACD_IN_AGENT_NOT_READY;
		in.reason = reason;
	} else {
		apireq_error(reply, request, 400, "invalid_field", "state",
			     "state: expected ready or not_ready");
		return;
	}
	int rc_step = router_step(ra->rc, &in);
	if (rc_step != 0) {
		router_step_error(rc_step, ra, reply, request);
		return;
	}
	router_reply_after(r, reply, request, router_json_text(router_state_json(ra)));
	router_flush(r);
}

static void router_agent_logout(struct router *r, struct router_agent *ra, const char *token,
				ingest_reply_fn reply, void *request)
{
	if (ra->logged_in) {
		struct acd_input in = {.type = ACD_IN_AGENT_LOGOUT, .agent = ra->id};
		int rc_step = router_step(ra->rc, &in);
		if (rc_step != 0) {
			router_step_error(rc_step, ra, reply, request);
			return;
		}
	}
	unsigned char sha[32];
	if (pwcheck_token_hash(token, sha) == 0) {
		free(strmap_get(r->sessions, (const char *)sha, sizeof sha));
		strmap_remove(r->sessions, (const char *)sha, sizeof sha);
		struct router_op *op = router_op_new(r, ROP_SESSION_END, "r_session_end", ra->rc->code);
		if (op != NULL) {
			router_op_param_hex(op, sha, sizeof sha);
			router_push(r, op);
		}
	}
	log_info("router", "agent %s of centre %s logged out", ra->id, ra->rc->code);
	router_reply_after(r, reply, request, router_json_text(router_state_json(ra)));
	router_flush(r);
}

static void router_agent_wrap_up(struct router *r, struct router_agent *ra, json_t *root,
				 ingest_reply_fn reply, void *request)
{
	static const char *const fields[] = {"call_id", "disposition", "category", NULL};
	bool failed = false;
	if (!apireq_only(root, fields, reply, request))
		return;
	const char *call = apireq_string(root, "call_id", true, EVENT_ID_MAX, reply, request, &failed);
	const char *disp = failed ? NULL : apireq_string(root, "disposition", true, 32, reply,
							request, &failed);
	const char *cat = failed ? NULL : apireq_string(root, "category", false, 32, reply, request,
						       &failed);
	if (failed)
		return;
	for (const char *p = disp; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) {
			apireq_error(reply, request, 400, "invalid_field", "disposition",
				     "disposition: 1 to 32 of a-z, 0-9 and _");
			return;
		}
	enum category c;
	if (cat != NULL && category_from_name(cat, &c) != 0) {
		apireq_error(reply, request, 400, "invalid_field", "category",
			     "category: one of consultation, complaint, booking, expert_qa, "
			     "crisis, survey, ivr_self_service, other");
		return;
	}
	if (strcmp(call, ra->last_call) != 0 && strcmp(call, ra->call) != 0) {
		apireq_error(reply, request, 409, "not_your_call", "call_id",
			     "call %s is not the call this agent last handled", call);
		return;
	}
	struct router_op *op = router_op_new(r, ROP_WRAP_UP, "r_wrap_up", ra->rc->code);
	if (op == NULL) {
		apireq_error(reply, request, 500, "internal", NULL, "out of memory");
		return;
	}
	router_copy(op->call, sizeof op->call, call);
	op->sop.stmt.rows = router_keep_rows;
	router_op_param(op, ra->rc->code);
	router_op_param(op, call);
	router_op_param(op, disp);
	router_op_param(op, cat);
	router_op_param(op, ra->id);
	router_op_param_int(op, timeutil_now_usec());
	router_push(r, op);
	router_reply_after(r, reply, request,
			   router_json_text(json_pack("{s:s,s:s,s:s?}", "call_id", call,
						      "disposition", disp, "category", cat)));
	router_flush(r);
}

static void router_agent_callback(struct router *r, struct router_agent *ra, bool accept,
				  json_t *root, ingest_reply_fn reply, void *request)
{
	static const char *const fields[] = {"callback_id", "outcome", NULL};
	bool failed = false;
	if (!apireq_only(root, fields, reply, request))
		return;
	const char *id = apireq_string(root, "callback_id", true, EVENT_ID_MAX, reply, request,
				      &failed);
	const char *outcome = failed || accept ? NULL : apireq_string(root, "outcome", true, 16, reply,
								     request, &failed);
	if (failed)
		return;
	struct router_centre *rc = ra->rc;
	struct router_call *cb = strmap_get(rc->callbacks, id, strlen(id));
	struct acd_call_record rec;
	if (cb == NULL || acd_call_get(rc->acd, id, &rec) != 0 || strcmp(rec.agent, ra->id) != 0) {
		apireq_error(reply, request, 409, "not_your_callback", "callback_id",
			     "callback %s is not %s this agent", id,
			     accept ? "offered to" : "taken by");
		return;
	}
	if (!accept && strcmp(outcome, "reached") != 0 && strcmp(outcome, "unreachable") != 0) {
		apireq_error(reply, request, 400, "invalid_field", "outcome",
			     "outcome: reached or unreachable");
		return;
	}
	struct acd_input in = {.type = accept ? ACD_IN_OFFER_ANSWERED : ACD_IN_CALL_ENDED,
			       .call = id,
			       .agent = accept ? ra->id : NULL};
	int rc_step = router_step(rc, &in);
	if (rc_step != 0) {
		router_step_error(rc_step, ra, reply, request);
		return;
	}
	int64_t now = timeutil_now_usec();
	struct router_op *op = router_op_new(r, accept ? ROP_CALLBACK_ACCEPT : ROP_CALLBACK_FINISH,
					     accept ? "r_callback_accept" : "r_callback_finish",
					     rc->code);
	if (op == NULL) {
		store_request_resync(r->store);
		apireq_error(reply, request, 500, "internal", NULL, "out of memory");
		return;
	}
	router_op_param(op, rc->code);
	router_op_param(op, id);
	router_op_param(op, accept ? ra->id : outcome);
	router_op_param_int(op, now);
	if (accept) {
		router_copy(cb->state, sizeof cb->state, "accepted");
		router_copy(cb->agent, sizeof cb->agent, ra->id);
		op->message = json_pack("{s:s,s:{s:s,s:s,s:s}}", "event", "dial", "data",
					"callback_id", id, "agent", ra->id, "extension",
					ra->extension);
		router_mirror_callback(rc, cb, false);
	} else {
		router_mirror_callback(rc, cb, true);
		strmap_remove(rc->callbacks, id, strlen(id));
		free(cb);
	}
	router_push(r, op);
	router_mirror_queues(rc);
	router_reply_after(r, reply, request,
			   router_json_text(json_pack("{s:s,s:s,s:o}", "callback_id", id, "state",
						      accept ? "accepted" : "done", "agent",
						      router_state_json(ra))));
	router_flush(r);
}

int router_identify(struct router *r, const char *token, struct router_identity *out)
{
	unsigned char sha[32];
	struct router_session *s = NULL;
	if (token != NULL && pwcheck_token_hash(token, sha) == 0)
		s = strmap_get(r->sessions, (const char *)sha, sizeof sha);
	if (s == NULL || s->expires_at <= timeutil_now_usec())
		return -1;
	struct router_centre *rc = router_centre_find(r, s->centre);
	struct router_agent *ra = rc ? router_agent_find(rc, s->agent) : NULL;
	router_copy(out->centre, sizeof out->centre, s->centre);
	router_copy(out->agent, sizeof out->agent, s->agent);
	out->supervisor = ra != NULL && ra->supervisor;
	return 0;
}

bool router_agent_handles_call(struct router *r, const char *centre, const char *agent,
			       const char *call_id)
{
	struct router_centre *rc = router_centre_find(r, centre);
	struct router_agent *ra = rc ? router_agent_find(rc, agent) : NULL;
	if (ra == NULL || call_id == NULL || call_id[0] == '\0')
		return false;
	/* An offered call is not yet the agent's: only once answered. */
	bool talking = ra->state == ACD_AGENT_ON_CALL || ra->state == ACD_AGENT_WRAP_UP;
	return (talking && strcmp(ra->call, call_id) == 0) || strcmp(ra->last_call, call_id) == 0;
}

void router_agent_post(struct router *r, const char *action, const char *token,
		       const char *body, size_t len, ingest_reply_fn reply, void *request)
{
	struct router_agent *ra = router_authenticate(r, token, reply, request);
	if (ra == NULL)
		return;
	if (r->store == NULL || !store_is_ready(r->store)) {
		apireq_error(reply, request, 503, "store_unavailable", NULL,
			     "PostgreSQL is unavailable; nothing was recorded, retry later");
		return;
	}
	if (strcmp(action, "logout") == 0) {
		router_agent_logout(r, ra, token, reply, request);
		return;
	}
	json_t *root = apireq_parse(len ? body : "{}", len ? len : 2, reply, request);
	if (root == NULL)
		return;
	if (strcmp(action, "state") == 0)
		router_agent_state(r, ra, root, reply, request);
	else if (strcmp(action, "wrap-up") == 0)
		router_agent_wrap_up(r, ra, root, reply, request);
	else if (strcmp(action, "callbacks/accept") == 0)
		router_agent_callback(r, ra, true, root, reply, request);
	else if (strcmp(action, "callbacks/finish") == 0)
		router_agent_callback(r, ra, false, root, reply, request);
	else
		apireq_error(reply, request, 404, "not_found", NULL, "no such agent action");
	json_decref(root);
}

/* Waiting calls of one queue, in serving order (up to limit). */
static json_t *router_queue_json(struct router_centre *rc, const struct acd_snapshot *snap,
				 const char *queue, size_t limit)
{
	json_t *calls = json_array();
	int64_t now = timeutil_now_usec();
	int64_t oldest = 0;
	size_t n = 0;
	for (size_t i = 0; i < snap->n_calls; i++) {
		const struct acd_call_record *c = &snap->calls[i];
		if (c->state != ACD_CALL_WAITING || strcmp(c->queue, queue) != 0)
			continue;
		if (oldest == 0 || c->joined_at < oldest)
			oldest = c->joined_at;
		if (n++ >= limit)
			continue;
		int position = 0, wait = -1;
		if (acd_call_position(rc->acd, c->id, &position, &wait) != 0)
			continue;
		json_array_append_new(calls,
				      json_pack("{s:s,s:i,s:i,s:I,s:b,s:b}", "call_id", c->id,
						"position", position, "estimated_wait_s", wait,
						"waiting_s", (json_int_t)((now - c->since) / 1000000),
						"crisis", c->crisis, "callback", c->callback));
	}
	/* serving order: by position */
	size_t count = json_array_size(calls);
	for (size_t i = 1; i < count; i++)
		for (size_t k = i; k > 0; k--) {
			json_t *a = json_array_get(calls, k - 1), *b = json_array_get(calls, k);
			if (json_integer_value(json_object_get(a, "position")) <=
			    json_integer_value(json_object_get(b, "position")))
				break;
			json_incref(a);
			json_array_set(calls, k - 1, b);
			json_array_set_new(calls, k, a);
		}
	int qi = router_queue_index(rc->r, queue);
	const struct router_queue_counts *k = qi >= 0 ? &rc->counts[qi] : NULL;
	return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "queue", queue, "waiting",
			 (json_int_t)n, "longest_wait_s",
			 (json_int_t)(oldest ? (now - oldest) / 1000000 : 0), "offered_today",
			 (json_int_t)(k ? k->offered : 0), "answered_today",
			 (json_int_t)(k ? k->answered : 0), "abandoned_today",
			 (json_int_t)(k ? k->abandoned : 0), "answered_in_sl_today",
			 (json_int_t)(k ? k->answered_in_sl : 0), "service_level_s",
			 (json_int_t)(rc->r->sl_us / 1000000), "calls", calls);
}

static void router_agent_list_one(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_agent *ra = value;
	if (!ra->logged_in)
		return;
	json_t *j = router_state_json(ra);
	json_object_set_new(j, "agent_id", json_string(ra->id));
	json_object_set_new(j, "name", json_string(ra->name));
	json_object_set_new(j, "in_state_s",
			    json_integer((timeutil_now_usec() - ra->since) / 1000000));
	json_array_append_new(arg, j);
}

static void router_callback_list_one(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_call *cb = value;
	json_array_append_new(arg, json_pack("{s:s,s:s,s:b,s:s,s:o,s:o,s:s,s:s,s:s}", "call_id",
					     cb->id, "queue", cb->queue, "urgent", cb->urgent,
					     "reason", cb->reason, "joined_at",
					     router_time_json(cb->joined_at), "created_at",
					     router_time_json(cb->created_at), "state", cb->state,
					     "agent_id", cb->agent, "caller", cb->caller_masked));
}

static int router_compare_callbacks(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int ux = json_is_true(json_object_get(x, "urgent")),
	    uy = json_is_true(json_object_get(y, "urgent"));
	if (ux != uy)
		return uy - ux;
	return strcmp(json_string_value(json_object_get(x, "joined_at")),
		      json_string_value(json_object_get(y, "joined_at")));
}

static json_t *router_callbacks_json(struct router_centre *rc)
{
	json_t *list = json_array();
	strmap_each(rc->callbacks, router_callback_list_one, list);
	size_t n = json_array_size(list);
	json_t **items = malloc((n ? n : 1) * sizeof *items);
	if (items == NULL)
		return list;
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(list, i));
	qsort(items, n, sizeof *items, router_compare_callbacks);
	json_t *sorted = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(sorted, items[i]);
	free(items);
	json_decref(list);
	return sorted;
}

static json_t *router_queues_json(struct router_centre *rc, const struct router_agent *only)
{
	json_t *queues = json_array();
	struct acd_snapshot snap;
	if (acd_snapshot_take(rc->acd, &snap) != 0)
		return queues;
	for (size_t i = 0; i < rc->r->qf->acd.n_queues; i++) {
		const struct acd_queue_config *q = &rc->r->qf->acd.queues[i];
		bool skilled = only == NULL;
		for (size_t k = 0; only && k < only->n_skills; k++)
			skilled = skilled || strcmp(only->skills[k].name, q->skill) == 0;
		if (skilled)
			json_array_append_new(queues, router_queue_json(rc, &snap, q->name,
									only ? 5 : 200));
	}
	acd_snapshot_free(&snap);
	return queues;
}

void router_agent_me(struct router *r, const char *token, ingest_reply_fn reply, void *request)
{
	struct router_agent *ra = router_authenticate(r, token, reply, request);
	if (ra == NULL)
		return;
	/* The not-ready reasons of the queues file, so that a client offers
	 * what this broker accepts, whatever its own copy says. */
	json_t *reasons = json_array();
	for (size_t i = 0; reasons != NULL && i < r->qf->n_reasons; i++)
		json_array_append_new(reasons, json_string(r->qf->reasons[i]));
	char *text = router_json_text(json_pack("{s:o,s:o,s:s,s:o,s:o}", "agent",
						router_agent_json(ra), "state",
						router_state_json(ra), "last_call_id",
						ra->last_call, "queues",
						router_queues_json(ra->rc, ra), "reasons",
						reasons ? reasons : json_array()));
	apireq_send(reply, request, 200, text ? text : "{}", false);
	free(text);
}

void router_centre_get(struct router *r, const char *centre, const char *what, bool signed_ok,
		       const char *token, ingest_reply_fn reply, void *request)
{
	struct router_centre *rc = router_centre_find(r, centre);
	if (!signed_ok) {
		struct router_agent *ra = router_authenticate(r, token, reply, request);
		if (ra == NULL)
			return;
		if (ra->rc != rc) {
			apireq_error(reply, request, 403, "other_centre", NULL,
				     "an agent sees only their own centre");
			return;
		}
	}
	if (rc == NULL || rc->acd == NULL) {
		apireq_error(reply, request, 404, "unknown_centre", NULL, "no such centre");
		return;
	}
	json_t *j;
	if (strcmp(what, "queues") == 0) {
		json_t *agents = json_array();
		strmap_each(rc->agents, router_agent_list_one, agents);
		j = json_pack("{s:s,s:o,s:o}", "centre", rc->code, "queues",
			      router_queues_json(rc, NULL), "agents", agents);
	} else if (strcmp(what, "callbacks") == 0) {
		j = json_pack("{s:s,s:o}", "centre", rc->code, "callbacks", router_callbacks_json(rc));
	} else {
		apireq_error(reply, request, 404, "not_found", NULL,
			     "no such view (queues or callbacks)");
		return;
	}
	char *text = router_json_text(j);
	apireq_send(reply, request, 200, text ? text : "{}", false);
	free(text);
}

/* --- streams ------------------------------------------------------------------- */

static void router_stream_unlink(struct router_stream **list, struct router_stream *s)
{
	for (struct router_stream **p = list; *p != NULL; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			return;
		}
}

/* sse_gone_fn: the client left; the sse stream is freed after this returns. */
static void router_on_stream_gone(struct sse_stream *sse, void *arg)
{
	struct router_stream *s = arg;
	if (s->agent)
		router_stream_unlink(&s->agent->streams, s);
	else
		router_stream_unlink(&s->rc->gateways, s);
	free(s);
}

static struct router_stream *router_stream_open(struct router_centre *rc,
						struct router_agent *ra,
						struct evhttp_request *req)
{
	struct router_stream *s = calloc(1, sizeof *s);
	if (s == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return NULL;
	}
	s->r = rc->r;
	s->rc = rc;
	s->agent = ra;
	s->sse = sse_open(req, router_on_stream_gone, s);
	if (s->sse == NULL) {
		free(s);
		return NULL;
	}
	struct router_stream **list = ra ? &ra->streams : &rc->gateways;
	s->next = *list;
	*list = s;
	return s;
}

void router_open_gateway_stream(struct router *r, const char *centre,
				struct evhttp_request *req)
{
	struct router_centre *rc = router_centre_find(r, centre);
	if (rc == NULL) {
		evhttp_send_error(req, 404, "unknown centre");
		return;
	}
	struct router_stream *s = router_stream_open(rc, NULL, req);
	if (s == NULL)
		return;
	log_info("router", "gateway command stream of centre %s opened", rc->code);
	sse_keepalive(s->sse);
	router_resend_offers(rc, s);
}

static void router_reply_to_evhttp(void *request, const struct ingest_reply *rep)
{
	struct evhttp_request *req = request;
	evhttp_send_error(req, rep->status, rep->status == 401 ? "unauthorised" : "unavailable");
}

void router_open_agent_stream(struct router *r, const char *token, struct evhttp_request *req)
{
	struct router_agent *ra = router_authenticate(r, token, router_reply_to_evhttp, req);
	if (ra == NULL)
		return;
	struct router_stream *s = router_stream_open(ra->rc, ra, req);
	if (s == NULL)
		return;
	json_t *m = router_state_json(ra);
	char *text = json_dumps(m, JSON_COMPACT);
	if (text)
		sse_send(s->sse, "state", text);
	free(text);
	json_decref(m);
	/* An offer ringing now: shown again on the new stream only. */
	struct acd_call_record rec;
	if (ra->state == ACD_AGENT_OFFERED && ra->call[0] &&
	    acd_call_get(ra->rc->acd, ra->call, &rec) == 0) {
		struct router_call *call = router_call_find(ra->rc, ra->call);
		json_t *offer = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:o,s:[]}", "kind",
					  call && call->callback ? "callback" : "call", "call_id",
					  rec.id, "queue", rec.queue, "category",
					  call ? category_name(call->category) : "other", "caller",
					  call ? call->caller_masked : "", "urgent",
					  call ? call->urgent : false, "ring_deadline",
					  router_time_json(rec.ring_deadline), "history");
		text = json_dumps(offer, JSON_COMPACT);
		if (text)
			sse_send(s->sse, "offer", text);
		free(text);
		json_decref(offer);
	}
}

static void router_close_list(struct router_stream **list)
{
	while (*list != NULL) {
		struct router_stream *s = *list;
		*list = s->next;
		sse_close(s->sse);
		free(s);
	}
}

static void router_close_agent(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_agent *ra = value;
	router_close_list(&ra->streams);
}

static void router_close_centre(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_centre *rc = value;
	router_close_list(&rc->gateways);
	strmap_each(rc->agents, router_close_agent, NULL);
}

void router_close_streams(struct router *r)
{
	strmap_each(r->centres, router_close_centre, NULL);
}

/* --- lifecycle --------------------------------------------------------------------- */

struct router *router_new(struct event_base *base, const struct config *cfg,
			  struct queues_file *qf, struct metrics *metrics)
{
	struct router *r = calloc(1, sizeof *r);
	if (r == NULL) {
		queues_free(qf);
		return NULL;
	}
	r->base = base;
	r->metrics = metrics;
	r->qf = qf;
	r->session_ttl_s = cfg->agents_session_ttl_s;
	r->sl_us = cfg->stats_service_level_s * 1000000;
	snprintf(r->sl_text, sizeof r->sl_text, "%" PRId64, cfg->stats_service_level_s);
	r->centres = strmap_new();
	r->sessions = strmap_new();
	r->pw = pwcheck_new(base, ROUTER_LOGIN_THREADS, ROUTER_LOGIN_PENDING_MAX);
	r->ev_timer = evtimer_new(base, router_on_timer, r);
	r->ev_keepalive = event_new(base, -1, EV_PERSIST, router_on_keepalive, r);
	snprintf(r->crisis_days_text, sizeof r->crisis_days_text, "%d", qf->crisis_memory_days);
	snprintf(r->today_text, sizeof r->today_text, "0");
	r->crisis_params[0] = r->crisis_days_text;
	r->today_params[0] = r->today_text;
	r->today_params[1] = r->sl_text;
	r->queries[RQ_AGENTS] = (struct store_query){router_sql_agents, 0, NULL};
	r->queries[RQ_SESSIONS] = (struct store_query){router_sql_sessions, 0, NULL};
	r->queries[RQ_CALLBACKS] = (struct store_query){router_sql_callbacks, 0, NULL};
	r->queries[RQ_CRISIS] = (struct store_query){router_sql_crisis, 1, r->crisis_params};
	r->queries[RQ_TODAY] = (struct store_query){router_sql_today, 2, r->today_params};
	if (r->centres == NULL || r->sessions == NULL || r->pw == NULL || r->ev_timer == NULL ||
	    r->ev_keepalive == NULL) {
		router_free(r);
		return NULL;
	}
	struct timeval ka = {.tv_sec = ROUTER_KEEPALIVE_S, .tv_usec = 0};
	event_add(r->ev_keepalive, &ka);
	return r;
}

void router_attach(struct router *r, struct store *store, struct mirror *mirror)
{
	r->store = store;
	r->mirror = mirror;
}

void router_on_queue_change(struct router *r, router_queue_fn fn, void *arg)
{
	r->queue_changed = fn;
	r->queue_changed_arg = arg;
}

void router_set_config(struct router *r, const struct config *cfg)
{
	r->session_ttl_s = cfg->agents_session_ttl_s;
}

static void router_free_agent(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_agent *ra = value;
	router_close_list(&ra->streams);
	free(ra);
}

static void router_free_centre(const char *key, size_t key_len, void *value, void *arg)
{
	struct router_centre *rc = value;
	router_close_list(&rc->gateways);
	strmap_each(rc->agents, router_free_agent, NULL);
	strmap_free(rc->agents);
	strmap_each(rc->calls, router_free_value, NULL);
	strmap_free(rc->calls);
	strmap_each(rc->callbacks, router_free_value, NULL);
	strmap_free(rc->callbacks);
	strmap_each(rc->crisis, router_free_value, NULL);
	strmap_free(rc->crisis);
	acd_free(rc->acd);
	free(rc->counts);
	free(rc->restored);
	free(rc);
}

void router_free(struct router *r)
{
	if (r == NULL)
		return;
	struct router_op *op = r->pending_head;
	while (op != NULL) {
		struct router_op *next = op->next_pending;
		op->sop.done(&op->sop, STORE_UNAVAILABLE);
		op = next;
	}
	if (r->centres) {
		strmap_each(r->centres, router_free_centre, NULL);
		strmap_free(r->centres);
	}
	if (r->sessions) {
		strmap_each(r->sessions, router_free_value, NULL);
		strmap_free(r->sessions);
	}
	pwcheck_free(r->pw);
	if (r->ev_timer)
		event_free(r->ev_timer);
	if (r->ev_keepalive)
		event_free(r->ev_keepalive);
	queues_free(r->qf);
	free(r);
}
