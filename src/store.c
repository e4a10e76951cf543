/* store.c: non-blocking libpq in pipeline mode on the broker's event loop,
 * with group commit (see store.h for the contract).
 *
 * Connection states:
 *   DOWN --timer--> CONNECTING --PQconnectPoll ok--> RECOVERING --snapshot read--> READY
 *   any --error--> DOWN (queued ops failed, reconnect after a backoff)
 * In READY at most one batch is in flight; ops submitted meanwhile wait in
 * the queue and go out together as soon as the answer arrives.
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "log.h"
#include "timeutil.h"

enum store_state { STORE_DOWN, STORE_CONNECTING, STORE_RECOVERING, STORE_READY };

/* What the next results on the connection belong to. */
enum store_step {
	STEP_NONE,
	STEP_RECOVERY, /* the recovery pipeline */
	STEP_BATCH,    /* one hotline_ingest statement */
	STEP_CENTRES,  /* a refresh of the centre list */
};

struct store {
	struct event_base *base;
	char *conninfo;
	struct store_limits limits;
	struct store_hooks hooks;
	void *hook_arg;

	enum store_state state;
	PGconn *conn;
	struct event *ev_read;
	struct event *ev_write;
	struct event *ev_timer; /* reconnect backoff, and deferred work */
	int64_t backoff_ms;

	enum store_step step;
	int recovery_result; /* index of the next result in the recovery pipeline */
	size_t recovered_calls, recovered_events;
	bool resync_wanted;
	bool centres_wanted;

	/* queued ops (FIFO) and the batch in flight */
	struct store_op *queue_head, *queue_tail;
	size_t queue_len;
	struct store_op **inflight;
	size_t n_inflight, inflight_cap;
	int64_t batch_started;
	bool batch_failed;
	char *json; /* the batch's parameter */
	size_t json_len, json_cap;
};

static void store_on_socket(evutil_socket_t fd, short what, void *arg);
static void store_connect_begin(struct store *s);
static void store_maybe_send(struct store *s);

/* --- small JSON writer for the batch parameter -------------------------- */

static int store_json_reserve(struct store *s, size_t more)
{
	if (s->json_len + more + 1 <= s->json_cap)
		return 0;
	size_t cap = s->json_cap ? s->json_cap : 65536;
	while (cap < s->json_len + more + 1)
		cap *= 2;
	char *grown = realloc(s->json, cap);
	if (grown == NULL)
		return -1;
	s->json = grown;
	s->json_cap = cap;
	return 0;
}

static int store_json_raw(struct store *s, const char *text, size_t n)
{
	if (store_json_reserve(s, n) != 0)
		return -1;
	memcpy(s->json + s->json_len, text, n);
	s->json_len += n;
	s->json[s->json_len] = '\0';
	return 0;
}

static int store_json_lit(struct store *s, const char *text)
{
	return store_json_raw(s, text, strlen(text));
}

/* Appends "key":"value" with JSON escaping (values here are short ids and
 * names, but rule names come from an operator's file and may hold anything). */
static int store_json_str(struct store *s, const char *key, const char *value)
{
	size_t n = strlen(value);
	if (store_json_reserve(s, strlen(key) + 6 * n + 8) != 0)
		return -1;
	char *p = s->json + s->json_len;
	p += sprintf(p, ",\"%s\":\"", key);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c < 0x20) {
			p += sprintf(p, "\\u%04x", c);
		} else {
			*p++ = (char)c;
		}
	}
	*p++ = '"';
	*p = '\0';
	s->json_len = (size_t)(p - s->json);
	return 0;
}

static int store_json_int(struct store *s, const char *key, long long v)
{
	char buf[64];
	int n = snprintf(buf, sizeof buf, ",\"%s\":%lld", key, v);
	return store_json_raw(s, buf, (size_t)n);
}

static int store_json_hex(struct store *s, const char *key, const unsigned char *bin, size_t n)
{
	char hex[2 * 64 + 1];
	sodium_bin2hex(hex, sizeof hex, bin, n);
	return store_json_str(s, key, hex);
}

/* One op as a row of hotline_ingest's input (field names: sql/002_ingest.sql). */
static int store_json_op(struct store *s, size_t index, const struct store_op *op)
{
	const struct call_event *ev = &op->ev;
	const struct call *c = &op->row;
	char head[32];
	int n = snprintf(head, sizeof head, "%s{\"n\":%zu", index ? "," : "", index);

	if (store_json_raw(s, head, (size_t)n) || store_json_str(s, "k", op->kind == STORE_OP_LOOKUP ? "l" : "w") ||
	    store_json_str(s, "c", ev->centre) || store_json_str(s, "e", ev->event_id) ||
	    store_json_str(s, "i", ev->call_id))
		return -1;
	if (op->kind == STORE_OP_WRITE) {
		if (store_json_str(s, "t", event_type_name(ev->type)) ||
		    store_json_int(s, "at", ev->at) ||
		    store_json_hex(s, "h", ev->payload_hash, EVENT_HASH_BYTES) ||
		    store_json_lit(s, ",\"d\":") || store_json_lit(s, op->detail) ||
		    store_json_str(s, "r", op->result))
			return -1;
		const char *outcome = call_outcome(c);
		if (ev->type == EVENT_OFFERED || outcome != NULL) {
			if (store_json_str(s, "st", call_state_name(c->state)) ||
			    store_json_str(s, "cat", category_name(c->category)) ||
			    store_json_str(s, "q", c->queue) || store_json_int(s, "pr", c->priority) ||
			    store_json_str(s, "ru", c->rule) ||
			    store_json_hex(s, "ch", c->caller_hash, PRIVACY_HASH_BYTES) ||
			    store_json_str(s, "cm", c->caller_masked) ||
			    store_json_str(s, "di", c->dialled) || store_json_str(s, "iv", c->ivr_path) ||
			    store_json_str(s, "ag", c->agent) || store_json_int(s, "aa", c->answered_at) ||
			    store_json_int(s, "ea", c->ended_at))
				return -1;
			if (outcome != NULL && store_json_str(s, "oc", outcome))
				return -1;
		}
	}
	return store_json_lit(s, "}");
}

/* --- connection management ---------------------------------------------- */

static void store_fail_ops(struct store_op *head)
{
	while (head != NULL) {
		struct store_op *next = head->next;
		head->next = NULL;
		head->done(head, STORE_UNAVAILABLE);
		head = next;
	}
}

/* Takes the queue out of the store, so callbacks may submit again safely. */
static struct store_op *store_take_queue(struct store *s)
{
	struct store_op *head = s->queue_head;
	s->queue_head = s->queue_tail = NULL;
	s->queue_len = 0;
	return head;
}

static void store_fail_inflight(struct store *s)
{
	size_t n = s->n_inflight;
	s->n_inflight = 0;
	for (size_t i = 0; i < n; i++)
		s->inflight[i]->done(s->inflight[i], STORE_UNAVAILABLE);
}

static void store_close(struct store *s)
{
	if (s->ev_read) {
		event_free(s->ev_read);
		s->ev_read = NULL;
	}
	if (s->ev_write) {
		event_free(s->ev_write);
		s->ev_write = NULL;
	}
	if (s->conn) {
		PQfinish(s->conn);
		s->conn = NULL;
	}
	s->step = STEP_NONE;
}

/* Loses the connection: fails everything not yet acknowledged and schedules
 * a reconnect with exponential backoff. */
static void store_go_down(struct store *s, const char *why)
{
	bool was_up = s->state == STORE_READY || s->state == STORE_RECOVERING;
	char reason[256];

	snprintf(reason, sizeof reason, "%s", why ? why : "connection lost");
	size_t n = strlen(reason);
	while (n > 0 && (reason[n - 1] == '\n' || reason[n - 1] == ' '))
		reason[--n] = '\0';
	store_close(s);
	s->state = STORE_DOWN;
	if (s->n_inflight > 0 && s->hooks.batch_done)
		s->hooks.batch_done(s->hook_arg, s->n_inflight,
				    timeutil_now_usec() - s->batch_started, false);
	store_fail_inflight(s);
	store_fail_ops(store_take_queue(s));
	if (was_up) {
		log_error("store", "PostgreSQL connection lost while %s: %s; retrying in %lld ms",
			  was_up ? "serving" : "connecting", reason, (long long)s->backoff_ms);
		if (s->hooks.went_down)
			s->hooks.went_down(s->hook_arg, reason);
	} else {
		log_warn("store", "cannot connect to PostgreSQL: %s; retrying in %lld ms", reason,
			 (long long)s->backoff_ms);
	}
	struct timeval tv = {.tv_sec = s->backoff_ms / 1000,
			     .tv_usec = (s->backoff_ms % 1000) * 1000};
	evtimer_add(s->ev_timer, &tv);
	s->backoff_ms *= 2;
	if (s->backoff_ms > s->limits.reconnect_max_ms)
		s->backoff_ms = s->limits.reconnect_max_ms;
}

static void store_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct store *s = arg;
	if (s->state == STORE_DOWN)
		store_connect_begin(s);
	else if (s->state == STORE_READY)
		store_maybe_send(s);
}

static int store_watch(struct store *s)
{
	int fd = PQsocket(s->conn);
	if (fd < 0)
		return -1;
	s->ev_read = event_new(s->base, fd, EV_READ | EV_PERSIST, store_on_socket, s);
	s->ev_write = event_new(s->base, fd, EV_WRITE, store_on_socket, s);
	if (s->ev_read == NULL || s->ev_write == NULL)
		return -1;
	return 0;
}

static void store_connect_poll(struct store *s);

static void store_connect_begin(struct store *s)
{
	s->state = STORE_CONNECTING;
	s->conn = PQconnectStart(s->conninfo);
	if (s->conn == NULL || PQstatus(s->conn) == CONNECTION_BAD) {
		store_go_down(s, s->conn ? PQerrorMessage(s->conn) : "out of memory");
		return;
	}
	if (store_watch(s) != 0) {
		store_go_down(s, "cannot watch the PostgreSQL socket");
		return;
	}
	store_connect_poll(s);
}

static void store_begin_recovery(struct store *s);

static void store_connect_poll(struct store *s)
{
	switch (PQconnectPoll(s->conn)) {
	case PGRES_POLLING_READING:
		event_add(s->ev_read, NULL);
		return;
	case PGRES_POLLING_WRITING:
		event_add(s->ev_write, NULL);
		return;
	case PGRES_POLLING_OK:
		/* libpq may have switched sockets while trying addresses. */
		event_free(s->ev_read);
		event_free(s->ev_write);
		s->ev_read = s->ev_write = NULL;
		if (store_watch(s) != 0 || PQsetnonblocking(s->conn, 1) != 0 ||
		    PQenterPipelineMode(s->conn) != 1) {
			store_go_down(s, PQerrorMessage(s->conn));
			return;
		}
		event_add(s->ev_read, NULL);
		store_begin_recovery(s);
		return;
	case PGRES_POLLING_FAILED:
	default:
		store_go_down(s, PQerrorMessage(s->conn));
		return;
	}
}

/* Sends what libpq buffered; arms the write event while the socket is full. */
static void store_flush(struct store *s)
{
	int r = PQflush(s->conn);
	if (r < 0)
		store_go_down(s, PQerrorMessage(s->conn));
	else if (r > 0)
		event_add(s->ev_write, NULL);
}

/* --- recovery ------------------------------------------------------------ */

static const char store_sql_centres[] = "SELECT code, name FROM centres ORDER BY code";
static const char store_sql_calls[] =
	"SELECT centre, call_id, state, category, queue, priority, rule,"
	" encode(caller_hash, 'hex'), caller_masked, dialled, ivr_path, coalesce(agent, ''),"
	" (extract(epoch FROM offered_at) * 1000000)::bigint,"
	" coalesce((extract(epoch FROM answered_at) * 1000000)::bigint, 0)"
	" FROM calls WHERE outcome IS NULL";
static const char store_sql_events[] =
	"SELECT e.centre, e.event_id, e.call_id, e.type,"
	" (extract(epoch FROM e.at) * 1000000)::bigint, encode(e.payload_sha256, 'hex'),"
	" e.result, e.detail::text"
	" FROM call_events e JOIN calls c ON c.centre = e.centre AND c.call_id = e.call_id"
	" WHERE c.outcome IS NULL ORDER BY e.seq";
static const char store_sql_ingest[] =
	"SELECT idx, finding, encode(stored_hash, 'hex'), stored_result, call_state"
	" FROM hotline_ingest($1::json)";

/* Recovery pipeline: results 0 BEGIN, 1 centres, 2 calls, 3 events, 4 COMMIT,
 * 5 DEALLOCATE (a resync recovers on a connection that has prepared
 * already), 6 PREPARE ingest, then the sync. */
enum { RECOVERY_RESULTS = 7 };

static void store_begin_recovery(struct store *s)
{
	s->state = STORE_RECOVERING;
	s->step = STEP_RECOVERY;
	s->recovery_result = 0;
	s->recovered_calls = s->recovered_events = 0;
	s->resync_wanted = false;
	s->centres_wanted = false;
	if (s->hooks.recover_begin)
		s->hooks.recover_begin(s->hook_arg);
	if (!PQsendQueryParams(s->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
			       NULL, NULL, NULL, 0) ||
	    !PQsendQueryParams(s->conn, store_sql_centres, 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsendQueryParams(s->conn, store_sql_calls, 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsendQueryParams(s->conn, store_sql_events, 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsendQueryParams(s->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsendQueryParams(s->conn, "DEALLOCATE ALL", 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsendPrepare(s->conn, "ingest", store_sql_ingest, 1, NULL) ||
	    !PQpipelineSync(s->conn)) {
		store_go_down(s, PQerrorMessage(s->conn));
		return;
	}
	store_flush(s);
}

static int64_t store_int(const PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static int store_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

static int store_recover_calls(struct store *s, const PGresult *r)
{
	for (int i = 0; i < PQntuples(r); i++) {
		struct call c;
		memset(&c, 0, sizeof c);
		if (store_copy(c.centre, sizeof c.centre, PQgetvalue(r, i, 0)) ||
		    store_copy(c.call_id, sizeof c.call_id, PQgetvalue(r, i, 1)) ||
		    store_copy(c.queue, sizeof c.queue, PQgetvalue(r, i, 4)) ||
		    store_copy(c.rule, sizeof c.rule, PQgetvalue(r, i, 6)) ||
		    store_copy(c.caller_masked, sizeof c.caller_masked, PQgetvalue(r, i, 8)) ||
		    store_copy(c.dialled, sizeof c.dialled, PQgetvalue(r, i, 9)) ||
		    store_copy(c.ivr_path, sizeof c.ivr_path, PQgetvalue(r, i, 10)) ||
		    store_copy(c.agent, sizeof c.agent, PQgetvalue(r, i, 11)) ||
		    call_state_from_name(PQgetvalue(r, i, 2), &c.state) != 0 ||
		    category_from_name(PQgetvalue(r, i, 3), &c.category) != 0 ||
		    sodium_hex2bin(c.caller_hash, sizeof c.caller_hash, PQgetvalue(r, i, 7),
				   (size_t)PQgetlength(r, i, 7), NULL, NULL, NULL) != 0) {
			log_error("store", "recovery: unreadable row for call %s", PQgetvalue(r, i, 1));
			return -1;
		}
		c.priority = (int)store_int(r, i, 5);
		c.offered_at = store_int(r, i, 12);
		c.answered_at = store_int(r, i, 13);
		if (s->hooks.recover_call(s->hook_arg, &c) != 0)
			return -1;
		s->recovered_calls++;
	}
	return 0;
}

static int store_recover_events(struct store *s, const PGresult *r)
{
	for (int i = 0; i < PQntuples(r); i++) {
		unsigned char hash[EVENT_HASH_BYTES];
		if (sodium_hex2bin(hash, sizeof hash, PQgetvalue(r, i, 5), (size_t)PQgetlength(r, i, 5),
				   NULL, NULL, NULL) != 0)
			return -1;
		struct store_recovered_event e = {
			.centre = PQgetvalue(r, i, 0),
			.event_id = PQgetvalue(r, i, 1),
			.call_id = PQgetvalue(r, i, 2),
			.type = PQgetvalue(r, i, 3),
			.at = store_int(r, i, 4),
			.hash = hash,
			.result = PQgetvalue(r, i, 6),
			.detail = PQgetvalue(r, i, 7),
		};
		if (s->hooks.recover_event(s->hook_arg, &e) != 0)
			return -1;
		s->recovered_events++;
	}
	return 0;
}

static int store_recover_centres(struct store *s, const PGresult *r)
{
	for (int i = 0; i < PQntuples(r); i++)
		if (s->hooks.recover_centre(s->hook_arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)) != 0)
			return -1;
	return 0;
}

/* --- batches ------------------------------------------------------------- */

/* Sends the queued ops as one batch if the connection is idle. */
static void store_maybe_send(struct store *s)
{
	if (s->state != STORE_READY || s->step != STEP_NONE)
		return;
	if (s->centres_wanted) {
		s->centres_wanted = false;
		if (!PQsendQueryParams(s->conn, store_sql_centres, 0, NULL, NULL, NULL, NULL, 0) ||
		    !PQpipelineSync(s->conn)) {
			store_go_down(s, PQerrorMessage(s->conn));
			return;
		}
		s->step = STEP_CENTRES;
		store_flush(s);
		return;
	}
	if (s->queue_head == NULL)
		return;

	size_t n = s->queue_len < (size_t)s->limits.max_batch ? s->queue_len
							       : (size_t)s->limits.max_batch;
	if (n > s->inflight_cap) {
		struct store_op **grown = realloc(s->inflight, n * sizeof *grown);
		if (grown == NULL) {
			store_go_down(s, "out of memory");
			return;
		}
		s->inflight = grown;
		s->inflight_cap = n;
	}
	s->json_len = 0;
	if (store_json_lit(s, "[") != 0)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		struct store_op *op = s->queue_head;
		s->queue_head = op->next;
		op->next = NULL;
		s->inflight[i] = op;
		s->n_inflight = i + 1;
		op->finding = STORE_FOUND_NOTHING;
		if (store_json_op(s, i, op) != 0)
			goto oom;
	}
	if (s->queue_head == NULL)
		s->queue_tail = NULL;
	s->queue_len -= n;
	if (store_json_lit(s, "]") != 0)
		goto oom;

	const char *params[1] = {s->json};
	if (!PQsendQueryPrepared(s->conn, "ingest", 1, params, NULL, NULL, 0) ||
	    !PQpipelineSync(s->conn)) {
		store_go_down(s, PQerrorMessage(s->conn));
		return;
	}
	s->step = STEP_BATCH;
	s->batch_failed = false;
	s->batch_started = timeutil_now_usec();
	store_flush(s);
	return;
oom:
	store_go_down(s, "out of memory while building a batch");
}

static void store_apply_findings(struct store *s, const PGresult *r)
{
	for (int i = 0; i < PQntuples(r); i++) {
		long idx = strtol(PQgetvalue(r, i, 0), NULL, 10);
		if (idx < 0 || (size_t)idx >= s->n_inflight)
			continue;
		struct store_op *op = s->inflight[idx];
		const char *f = PQgetvalue(r, i, 1);
		if (strcmp(f, "duplicate") == 0) {
			op->finding = STORE_FOUND_DUPLICATE;
			if (sodium_hex2bin(op->stored_hash, sizeof op->stored_hash, PQgetvalue(r, i, 2),
					   (size_t)PQgetlength(r, i, 2), NULL, NULL, NULL) != 0)
				memset(op->stored_hash, 0, sizeof op->stored_hash);
			snprintf(op->stored_result, sizeof op->stored_result, "%s", PQgetvalue(r, i, 3));
		} else if (strcmp(f, "call_exists") == 0) {
			op->finding = STORE_FOUND_CALL_EXISTS;
		} else if (strcmp(f, "voided") == 0) {
			op->finding = STORE_FOUND_VOIDED;
		} else if (strcmp(f, "call_state") == 0) {
			op->finding = STORE_FOUND_CALL_STATE;
			snprintf(op->stored_state, sizeof op->stored_state, "%s", PQgetvalue(r, i, 4));
		} else if (strcmp(f, "unknown_call") == 0) {
			op->finding = STORE_FOUND_UNKNOWN_CALL;
		}
	}
}

/* The batch's sync arrived: acknowledge (or fail) every op in it. */
static void store_finish_batch(struct store *s)
{
	size_t n = s->n_inflight;
	bool ok = !s->batch_failed;

	if (s->hooks.batch_done)
		s->hooks.batch_done(s->hook_arg, n, timeutil_now_usec() - s->batch_started, ok);
	/* step stays STEP_BATCH during the callbacks, so that an op submitted
	 * from one of them queues instead of reusing the inflight array. */
	for (size_t i = 0; i < n; i++)
		s->inflight[i]->done(s->inflight[i], ok ? STORE_COMMITTED : STORE_UNAVAILABLE);
	s->n_inflight = 0;
	s->step = STEP_NONE;
	if (!ok) {
		/* The statement failed and nothing was written; memory may hold
		 * what was just refused, so rebuild it. */
		s->resync_wanted = true;
	}
}

/* Handles one result of whatever step is in progress. Returns -1 when the
 * connection must be dropped. */
static int store_on_result(struct store *s, PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	switch (s->step) {
	case STEP_RECOVERY:
		if (st == PGRES_PIPELINE_SYNC) {
			if (s->recovery_result != RECOVERY_RESULTS)
				return -1;
			s->step = STEP_NONE;
			s->state = STORE_READY;
			s->backoff_ms = s->limits.reconnect_min_ms;
			if (s->hooks.recover_done)
				s->hooks.recover_done(s->hook_arg, s->recovered_calls,
						      s->recovered_events);
			return 0;
		}
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			log_error("store", "recovery query %d failed: %s", s->recovery_result,
				  PQresultErrorMessage(r));
			return -1;
		}
		switch (s->recovery_result++) {
		case 1:
			return store_recover_centres(s, r);
		case 2:
			return store_recover_calls(s, r);
		case 3:
			return store_recover_events(s, r);
		default:
			return 0;
		}
	case STEP_BATCH:
		if (st == PGRES_PIPELINE_SYNC) {
			store_finish_batch(s);
			return 0;
		}
		if (st == PGRES_TUPLES_OK) {
			store_apply_findings(s, r);
			return 0;
		}
		log_error("store", "batch of %zu events failed: %s", s->n_inflight,
			  PQresultErrorMessage(r));
		s->batch_failed = true;
		/* A broken connection shows up as a fatal result with a bad status. */
		return PQstatus(s->conn) == CONNECTION_OK ? 0 : -1;
	case STEP_CENTRES:
		if (st == PGRES_PIPELINE_SYNC) {
			s->step = STEP_NONE;
			return 0;
		}
		if (st == PGRES_TUPLES_OK)
			return store_recover_centres(s, r);
		log_warn("store", "refreshing centres failed: %s", PQresultErrorMessage(r));
		return 0;
	case STEP_NONE:
		break;
	}
	return 0;
}

static void store_on_socket(evutil_socket_t fd, short what, void *arg)
{
	struct store *s = arg;

	if (s->state == STORE_CONNECTING) {
		store_connect_poll(s);
		return;
	}
	if (what & EV_WRITE) {
		store_flush(s);
		if (s->state == STORE_DOWN)
			return;
	}
	if (!(what & EV_READ))
		return;
	if (!PQconsumeInput(s->conn)) {
		store_go_down(s, PQerrorMessage(s->conn));
		return;
	}
	while (s->conn != NULL && !PQisBusy(s->conn)) {
		PGresult *r = PQgetResult(s->conn);
		if (r == NULL) {
			/* End of one query's results; the next may already be here. */
			if (PQisBusy(s->conn) || s->step == STEP_NONE)
				break;
			continue;
		}
		int rc = store_on_result(s, r);
		PQclear(r);
		if (rc != 0) {
			store_go_down(s, PQerrorMessage(s->conn));
			return;
		}
		if (s->step == STEP_NONE)
			break;
	}
	if (s->state != STORE_READY || s->step != STEP_NONE)
		return;
	if (s->resync_wanted) {
		/* Rebuild memory from the database: fail what was accepted against
		 * the old memory, then run recovery on this same connection. */
		log_warn("store", "the broker's memory disagreed with the database; reloading");
		store_fail_ops(store_take_queue(s));
		store_begin_recovery(s);
		return;
	}
	store_maybe_send(s);
}

/* --- public -------------------------------------------------------------- */

struct store *store_new(struct event_base *base, const char *conninfo,
			const struct store_limits *limits, const struct store_hooks *hooks,
			void *hook_arg)
{
	struct store *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->base = base;
	s->conninfo = strdup(conninfo);
	s->limits = *limits;
	s->hooks = *hooks;
	s->hook_arg = hook_arg;
	s->backoff_ms = limits->reconnect_min_ms;
	s->ev_timer = evtimer_new(base, store_on_timer, s);
	if (s->conninfo == NULL || s->ev_timer == NULL) {
		store_free(s);
		return NULL;
	}
	return s;
}

void store_start(struct store *s)
{
	store_connect_begin(s);
}

int store_submit(struct store *s, struct store_op *op)
{
	if (s->state != STORE_READY)
		return -1;
	op->next = NULL;
	if (s->queue_tail)
		s->queue_tail->next = op;
	else
		s->queue_head = op;
	s->queue_tail = op;
	s->queue_len++;
	/* Idle: send at once. Busy: the batch goes when the answer comes. */
	store_maybe_send(s);
	return 0;
}

bool store_is_ready(const struct store *s)
{
	return s->state == STORE_READY;
}

const char *store_state_name(const struct store *s)
{
	switch (s->state) {
	case STORE_READY:
		return "up";
	case STORE_RECOVERING:
		return "recovering";
	case STORE_CONNECTING:
		return "connecting";
	case STORE_DOWN:
		break;
	}
	return "down";
}

void store_request_resync(struct store *s)
{
	if (s->state == STORE_READY)
		s->resync_wanted = true;
}

void store_refresh_centres(struct store *s)
{
	if (s->state != STORE_READY)
		return;
	s->centres_wanted = true;
	if (s->step == STEP_NONE)
		store_maybe_send(s);
}

void store_set_limits(struct store *s, const struct store_limits *limits)
{
	s->limits = *limits;
}

size_t store_backlog(const struct store *s)
{
	return s->queue_len + s->n_inflight;
}

void store_free(struct store *s)
{
	if (s == NULL)
		return;
	store_close(s);
	store_fail_inflight(s);
	store_fail_ops(store_take_queue(s));
	if (s->ev_timer)
		event_free(s->ev_timer);
	free(s->inflight);
	free(s->json);
	free(s->conninfo);
	free(s);
}
