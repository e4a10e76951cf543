/* store.c: non-blocking libpq in pipeline mode on the broker's event loop,
 * with group commit (see store.h for the contract).
 *
 * The store keeps database.connections connections. Each commits one batch
 * at a time; while one waits for its commit to reach the disk, another runs
 * the next batch, and PostgreSQL flushes their commits together. A batch
 * never holds an op of a call that has an op in another uncommitted batch,
 * so batches in flight are independent: any one may fail alone without
 * making another's answers wrong.
 *
 * Store states:
 *   DOWN --timer--> CONNECTING --first connection up--> RECOVERING
 *        --snapshot read on connection 0--> READY
 *   any --a connection lost--> DOWN (everything unacknowledged fails; all
 *        connections close; reconnect after a backoff)
 * Recovery and centre refreshes run on connection 0 while no batch is in
 * flight anywhere.
 */
#include "store.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "jsonw.h"
#include "log.h"
#include "strmap.h"
#include "timeutil.h"

#define STORE_COLUMN_COUNT 22
#define STORE_MAX_CONNECTIONS 16
/* How long connecting plus recovery may take before the store gives up. */
#define STORE_CONNECT_TIMEOUT_S 10

enum store_state { STORE_DOWN, STORE_CONNECTING, STORE_RECOVERING, STORE_READY };

/* What the next results on a connection belong to. */
enum store_step {
	STEP_NONE,
	STEP_RECOVERY, /* the recovery pipeline (connection 0) */
	STEP_PREPARE,  /* preparing the ingest statement (other connections) */
	STEP_BATCH,    /* one hotline_ingest statement */
	STEP_CENTRES,  /* a refresh of the centre list (connection 0) */
};

struct store;

struct store_conn {
	struct store *s;
	int index;
	PGconn *conn;
	bool up; /* connected, in pipeline mode, ingest prepared */
	struct event *ev_read;
	struct event *ev_write;
	enum store_step step;
	int recovery_result; /* index of the next result in the recovery pipeline */

	/* the batch in flight on this connection */
	struct store_op **inflight;
	size_t n_inflight, inflight_cap;
	int64_t batch_started;
	bool batch_failed;
	/* The batch's results in order: [BEGIN] [hotline_ingest] statements
	 * [COMMIT]; n_events ops come first in inflight, the statements after. */
	size_t n_events;
	bool batch_in_transaction;
	size_t batch_result; /* index of the next result of the batch */
	/* A batch failed inside BEGIN: the session's transaction is aborted
	 * until a ROLLBACK, which the next recovery sends first. */
	bool needs_rollback;
	int recovery_skip; /* results before BEGIN in the recovery pipeline */
	struct store_array *columns; /* STORE_COLUMN_COUNT arrays: the batch's parameters */
};

struct store {
	struct event_base *base;
	char *conninfo;
	struct store_limits limits;
	struct store_hooks hooks;
	void *hook_arg;

	enum store_state state;
	struct store_conn conns[STORE_MAX_CONNECTIONS];
	int n_conns;
	struct event *ev_timer; /* reconnect backoff */
	int64_t backoff_ms;

	size_t recovered_calls, recovered_events;
	bool resync_wanted;
	bool centres_wanted;

	/* queued ops (FIFO) */
	struct store_op *queue_head, *queue_tail;
	size_t queue_len;
	/* centre \0 call_id -> ops of that call in batches in flight */
	struct strmap *busy_calls;
};

static void store_on_socket(evutil_socket_t fd, short what, void *arg);
static void store_connect_begin(struct store *s);
static void store_maybe_send(struct store *s);
static void store_conn_poll(struct store_conn *sc);
static void store_begin_recovery(struct store *s);

/* --- rows of other modules' statements ------------------------------------- */

int store_rows_count(const struct store_rows *r)
{
	return PQntuples((const PGresult *)r);
}

int store_rows_columns(const struct store_rows *r)
{
	return PQnfields((const PGresult *)r);
}

const char *store_rows_value(const struct store_rows *r, int row, int col)
{
	return PQgetvalue((const PGresult *)r, row, col);
}

bool store_rows_is_null(const struct store_rows *r, int row, int col)
{
	return PQgetisnull((const PGresult *)r, row, col) != 0;
}

/* --- the batch's parameters ------------------------------------------------
 *
 * hotline_ingest takes one PostgreSQL array per column (text form), in the
 * order of store_columns; element i of every array belongs to op i. Arrays
 * parse far faster than a JSON document of the same rows and need no
 * per-row conversion on the server.
 */

enum store_column {
	COL_KIND, COL_CENTRE, COL_EVENT, COL_CALL, COL_TYPE, COL_AT, COL_HASH, COL_DETAIL,
	COL_RESULT, COL_STATE, COL_CATEGORY, COL_QUEUE, COL_PRIORITY, COL_RULE, COL_CALLER_HASH,
	COL_CALLER_MASKED, COL_DIALLED, COL_IVR, COL_AGENT, COL_ANSWERED, COL_ENDED, COL_OUTCOME,
	STORE_COLUMNS
};
_Static_assert(STORE_COLUMNS == STORE_COLUMN_COUNT, "hotline_ingest has 22 parameters");

struct store_array {
	char *buf;
	size_t len, cap;
};

static int store_array_reserve(struct store_array *a, size_t more)
{
	if (a->len + more + 1 <= a->cap)
		return 0;
	size_t cap = a->cap ? a->cap : 16384;
	while (cap < a->len + more + 1)
		cap *= 2;
	char *grown = realloc(a->buf, cap);
	if (grown == NULL)
		return -1;
	a->buf = grown;
	a->cap = cap;
	return 0;
}

/* Starts the next element: '{' before the first, ',' between. */
static void store_array_sep(struct store_array *a, size_t index)
{
	a->buf[a->len++] = index == 0 ? '{' : ',';
}

/* A quoted element; only '"' and '\' need escaping inside quotes. */
static int store_array_text(struct store_array *a, size_t index, const char *value)
{
	size_t n = strlen(value);
	if (store_array_reserve(a, 2 * n + 4) != 0)
		return -1;
	store_array_sep(a, index);
	char *p = a->buf + a->len;
	*p++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (value[i] == '"' || value[i] == '\\')
			*p++ = '\\';
		*p++ = value[i];
	}
	*p++ = '"';
	a->len = (size_t)(p - a->buf);
	return 0;
}

static int store_array_null(struct store_array *a, size_t index)
{
	if (store_array_reserve(a, 6) != 0)
		return -1;
	store_array_sep(a, index);
	memcpy(a->buf + a->len, "NULL", 4);
	a->len += 4;
	return 0;
}

static int store_array_int(struct store_array *a, size_t index, long long v)
{
	if (store_array_reserve(a, 24) != 0)
		return -1;
	store_array_sep(a, index);
	a->len += jsonw_format_int(a->buf + a->len, v);
	return 0;
}

static int store_array_hex(struct store_array *a, size_t index, const unsigned char *bin, size_t n)
{
	if (store_array_reserve(a, 2 * n + 4) != 0)
		return -1;
	store_array_sep(a, index);
	sodium_bin2hex(a->buf + a->len, 2 * n + 1, bin, n);
	a->len += 2 * n;
	return 0;
}

/* Closes an array ("{}" when it has no element) and NUL-terminates it. */
static int store_array_end(struct store_array *a, size_t count)
{
	if (store_array_reserve(a, 3) != 0)
		return -1;
	if (count == 0)
		a->buf[a->len++] = '{';
	a->buf[a->len++] = '}';
	a->buf[a->len] = '\0';
	return 0;
}

/* Appends op as element index of every column. */
static int store_add_op(struct store_array *cols, size_t index, const struct store_op *op)
{
	const struct call_event *ev = &op->ev;
	const struct call *c = &op->row;
	bool write = op->kind == STORE_OP_WRITE;
	const char *outcome = write ? call_outcome(c) : NULL;
	bool with_call = write && (ev->type == EVENT_OFFERED || outcome != NULL);
	int rc = 0;

	rc |= store_array_text(&cols[COL_KIND], index, write ? "w" : "l");
	rc |= store_array_text(&cols[COL_CENTRE], index, ev->centre);
	rc |= store_array_text(&cols[COL_EVENT], index, ev->event_id);
	rc |= store_array_text(&cols[COL_CALL], index, ev->call_id);
	if (write) {
		rc |= store_array_text(&cols[COL_TYPE], index, event_type_name(ev->type));
		rc |= store_array_int(&cols[COL_AT], index, ev->at);
		rc |= store_array_hex(&cols[COL_HASH], index, ev->payload_hash, EVENT_HASH_BYTES);
		rc |= store_array_text(&cols[COL_DETAIL], index, op->detail);
		rc |= store_array_text(&cols[COL_RESULT], index, op->result);
	} else {
		for (int col = COL_TYPE; col <= COL_RESULT; col++)
			rc |= store_array_null(&cols[col], index);
	}
	if (with_call) {
		rc |= store_array_text(&cols[COL_STATE], index, call_state_name(c->state));
		rc |= store_array_text(&cols[COL_CATEGORY], index, category_name(c->category));
		rc |= store_array_text(&cols[COL_QUEUE], index, c->queue);
		rc |= store_array_int(&cols[COL_PRIORITY], index, c->priority);
		rc |= store_array_text(&cols[COL_RULE], index, c->rule);
		rc |= store_array_hex(&cols[COL_CALLER_HASH], index, c->caller_hash,
				      PRIVACY_HASH_BYTES);
		rc |= store_array_text(&cols[COL_CALLER_MASKED], index, c->caller_masked);
		rc |= store_array_text(&cols[COL_DIALLED], index, c->dialled);
		rc |= store_array_text(&cols[COL_IVR], index, c->ivr_path);
		rc |= store_array_text(&cols[COL_AGENT], index, c->agent);
		rc |= store_array_int(&cols[COL_ANSWERED], index, c->answered_at);
		rc |= store_array_int(&cols[COL_ENDED], index, c->ended_at);
		if (outcome != NULL)
			rc |= store_array_text(&cols[COL_OUTCOME], index, outcome);
		else
			rc |= store_array_null(&cols[COL_OUTCOME], index);
	} else {
		for (int col = COL_STATE; col < STORE_COLUMNS; col++)
			rc |= store_array_null(&cols[col], index);
	}
	return rc ? -1 : 0;
}

/* --- SQL ------------------------------------------------------------------ */

static const char store_sql_centres[] = "SELECT code, name FROM centres ORDER BY code";
static const char store_sql_calls[] =
	"SELECT centre, call_id, state, category, queue, priority, rule,"
	" encode(caller_hash, 'hex'), caller_masked, dialled, ivr_path, coalesce(agent, ''),"
	" (extract(epoch FROM offered_at) * 1000000)::bigint,"
	" coalesce((extract(epoch FROM answered_at) * 1000000)::bigint, 0),"
	" coalesce((extract(epoch FROM accepted_at) * 1000000)::bigint, 0)"
	" FROM calls WHERE outcome IS NULL ORDER BY accepted_at, offered_at";
static const char store_sql_events[] =
	"SELECT e.centre, e.event_id, e.call_id, e.type,"
	" (extract(epoch FROM e.at) * 1000000)::bigint, encode(e.payload_sha256, 'hex'),"
	" e.result, e.detail::text"
	" FROM call_events e JOIN calls c ON c.centre = e.centre AND c.call_id = e.call_id"
	" WHERE c.outcome IS NULL ORDER BY e.seq";
static const char store_sql_ingest[] =
	"SELECT idx, finding, encode(stored_hash, 'hex'), stored_result, call_state"
	" FROM hotline_ingest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
	" $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)";

/* --- ops and queues -------------------------------------------------------- */

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

#define STORE_KEY_MAX (EVENT_CENTRE_MAX + EVENT_ID_MAX + 2)

static size_t store_call_key(const struct store_op *op, char out[STORE_KEY_MAX])
{
	size_t a = strlen(op->ev.centre), b = strlen(op->ev.call_id);
	memcpy(out, op->ev.centre, a);
	out[a] = '\0';
	memcpy(out + a + 1, op->ev.call_id, b);
	return a + 1 + b;
}

/* Counts an op's call as busy (in a batch in flight), or releases it. */
static int store_busy_add(struct store *s, const struct store_op *op)
{
	if (s->n_conns == 1 || op->kind == STORE_OP_STMT)
		return 0; /* one batch at a time: nothing to keep apart */
	char key[STORE_KEY_MAX];
	size_t n = store_call_key(op, key);
	uintptr_t count = (uintptr_t)strmap_get(s->busy_calls, key, n);
	return strmap_put(s->busy_calls, key, n, (void *)(count + 1));
}

static void store_busy_release(struct store *s, const struct store_op *op)
{
	if (s->n_conns == 1 || op->kind == STORE_OP_STMT)
		return;
	char key[STORE_KEY_MAX];
	size_t n = store_call_key(op, key);
	uintptr_t count = (uintptr_t)strmap_get(s->busy_calls, key, n);
	if (count <= 1)
		strmap_remove(s->busy_calls, key, n);
	else if (strmap_put(s->busy_calls, key, n, (void *)(count - 1)) != 0)
		strmap_remove(s->busy_calls, key, n); /* cannot fail: the key exists */
}

/* Ends a connection's batch: releases its calls and answers its ops. The
 * connection's step stays STEP_BATCH during the callbacks, so that an op
 * submitted from one of them queues instead of reusing the inflight array. */
static void store_conn_finish_batch(struct store_conn *sc, enum store_status status)
{
	struct store *s = sc->s;
	size_t n = sc->n_inflight;

	if (n > 0 && s->hooks.batch_done)
		s->hooks.batch_done(s->hook_arg, n, timeutil_now_usec() - sc->batch_started,
				    status == STORE_COMMITTED);
	for (size_t i = 0; i < n; i++)
		store_busy_release(s, sc->inflight[i]);
	/* Emptied first: a callback that brings the store down must not answer
	 * these ops a second time. */
	sc->n_inflight = 0;
	for (size_t i = 0; i < n; i++)
		sc->inflight[i]->done(sc->inflight[i], status);
	sc->step = STEP_NONE;
}

/* --- connections ------------------------------------------------------------- */

static void store_conn_close(struct store_conn *sc)
{
	if (sc->ev_read) {
		event_free(sc->ev_read);
		sc->ev_read = NULL;
	}
	if (sc->ev_write) {
		event_free(sc->ev_write);
		sc->ev_write = NULL;
	}
	if (sc->conn) {
		PQfinish(sc->conn);
		sc->conn = NULL;
	}
	sc->up = false;
	sc->step = STEP_NONE;
	sc->needs_rollback = false;
}

/* Loses every connection: fails everything not yet acknowledged and
 * schedules a reconnect with exponential backoff. */
static void store_go_down(struct store *s, const char *why)
{
	bool was_up = s->state == STORE_READY || s->state == STORE_RECOVERING;
	char reason[256];

	snprintf(reason, sizeof reason, "%s", why ? why : "connection lost");
	size_t n = strlen(reason);
	while (n > 0 && (reason[n - 1] == '\n' || reason[n - 1] == ' '))
		reason[--n] = '\0';
	s->state = STORE_DOWN;
	for (int i = 0; i < s->n_conns; i++)
		store_conn_close(&s->conns[i]);
	for (int i = 0; i < s->n_conns; i++)
		store_conn_finish_batch(&s->conns[i], STORE_UNAVAILABLE);
	store_fail_ops(store_take_queue(s));
	if (was_up) {
		log_error("store", "PostgreSQL connection lost while serving: %s; retrying in %lld ms",
			  reason, (long long)s->backoff_ms);
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

/* why may be a connection's PQerrorMessage: store_go_down copies it before
 * it closes anything. */
static void store_conn_down(struct store_conn *sc, const char *why)
{
	store_go_down(sc->s, why);
}

/* The one timer: the reconnect backoff while DOWN, and the deadline of a
 * connection attempt and its recovery (a server that accepts and then says
 * nothing must not keep the store waiting forever). */
static void store_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct store *s = arg;
	if (s->state == STORE_DOWN)
		store_connect_begin(s);
	else if (s->state == STORE_CONNECTING || s->state == STORE_RECOVERING)
		store_go_down(s, "PostgreSQL did not finish connecting in time");
}


static int store_conn_watch(struct store_conn *sc)
{
	int fd = PQsocket(sc->conn);
	if (fd < 0)
		return -1;
	sc->ev_read = event_new(sc->s->base, fd, EV_READ | EV_PERSIST, store_on_socket, sc);
	sc->ev_write = event_new(sc->s->base, fd, EV_WRITE, store_on_socket, sc);
	if (sc->ev_read == NULL || sc->ev_write == NULL)
		return -1;
	return 0;
}

static void store_connect_begin(struct store *s)
{
	struct timeval deadline = {.tv_sec = STORE_CONNECT_TIMEOUT_S, .tv_usec = 0};
	s->state = STORE_CONNECTING;
	evtimer_add(s->ev_timer, &deadline);
	for (int i = 0; i < s->n_conns && s->state == STORE_CONNECTING; i++) {
		struct store_conn *sc = &s->conns[i];
		sc->conn = PQconnectStart(s->conninfo);
		if (sc->conn == NULL || PQstatus(sc->conn) == CONNECTION_BAD) {
			store_conn_down(sc, sc->conn ? PQerrorMessage(sc->conn) : "out of memory");
			return;
		}
		if (store_conn_watch(sc) != 0) {
			store_conn_down(sc, "cannot watch the PostgreSQL socket");
			return;
		}
		store_conn_poll(sc);
	}
}

/* Sends what libpq buffered; arms the write event while the socket is full. */
static void store_conn_flush(struct store_conn *sc)
{
	int r = PQflush(sc->conn);
	if (r < 0)
		store_conn_down(sc, PQerrorMessage(sc->conn));
	else if (r > 0)
		event_add(sc->ev_write, NULL);
}

static const char store_sql_deallocate[] = "DEALLOCATE ALL";

/* Queues DEALLOCATE ALL and the PREPAREs (ingest, then the hooks'
 * statements): 2 + n_statements results. Returns 0 or -1. */
static int store_conn_send_prepares(struct store_conn *sc)
{
	const struct store_hooks *h = &sc->s->hooks;
	if (!PQsendQueryParams(sc->conn, store_sql_deallocate, 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsendPrepare(sc->conn, "ingest", store_sql_ingest, 0, NULL))
		return -1;
	for (size_t i = 0; i < h->n_statements; i++)
		if (!PQsendPrepare(sc->conn, h->statements[i].name, h->statements[i].sql, 0, NULL))
			return -1;
	return 0;
}

/* A connection other than 0 only needs the prepared statements. */
static void store_conn_prepare(struct store_conn *sc)
{
	if (store_conn_send_prepares(sc) != 0 || !PQpipelineSync(sc->conn)) {
		store_conn_down(sc, PQerrorMessage(sc->conn));
		return;
	}
	sc->step = STEP_PREPARE;
	store_conn_flush(sc);
}

static void store_conn_poll(struct store_conn *sc)
{
	PostgresPollingStatusType st = PQconnectPoll(sc->conn);

	/* libpq opens a new socket for each address it tries. */
	if (st != PGRES_POLLING_FAILED && sc->ev_read != NULL &&
	    event_get_fd(sc->ev_read) != PQsocket(sc->conn)) {
		event_free(sc->ev_read);
		event_free(sc->ev_write);
		sc->ev_read = sc->ev_write = NULL;
		if (store_conn_watch(sc) != 0) {
			store_conn_down(sc, "cannot watch the PostgreSQL socket");
			return;
		}
	}
	switch (st) {
	case PGRES_POLLING_READING:
		event_add(sc->ev_read, NULL);
		return;
	case PGRES_POLLING_WRITING:
		event_add(sc->ev_write, NULL);
		return;
	case PGRES_POLLING_OK:
		/* libpq may have switched sockets while trying addresses. */
		event_free(sc->ev_read);
		event_free(sc->ev_write);
		sc->ev_read = sc->ev_write = NULL;
		if (store_conn_watch(sc) != 0 || PQsetnonblocking(sc->conn, 1) != 0 ||
		    PQenterPipelineMode(sc->conn) != 1) {
			store_conn_down(sc, PQerrorMessage(sc->conn));
			return;
		}
		event_add(sc->ev_read, NULL);
		if (sc->index == 0)
			store_begin_recovery(sc->s);
		else
			store_conn_prepare(sc);
		return;
	case PGRES_POLLING_FAILED:
	default:
		store_conn_down(sc, PQerrorMessage(sc->conn));
		return;
	}
}

/* --- recovery ------------------------------------------------------------ */

/* Recovery pipeline on connection 0: results 0 BEGIN, 1 centres, 2 calls,
 * 3 events, then the hooks' recovery queries, COMMIT, DEALLOCATE (a resync
 * recovers on a connection that has prepared already), the PREPAREs, then
 * the sync. */
enum { RECOVERY_FIRST_EXTRA = 4 };

static size_t store_recovery_results(const struct store *s)
{
	return RECOVERY_FIRST_EXTRA + s->hooks.n_recovery_queries + 1 + 2 + s->hooks.n_statements;
}

static void store_begin_recovery(struct store *s)
{
	struct store_conn *sc = &s->conns[0];

	struct timeval deadline = {.tv_sec = STORE_CONNECT_TIMEOUT_S, .tv_usec = 0};
	s->state = STORE_RECOVERING;
	evtimer_add(s->ev_timer, &deadline);
	sc->step = STEP_RECOVERY;
	sc->recovery_result = 0;
	s->recovered_calls = s->recovered_events = 0;
	s->resync_wanted = false;
	s->centres_wanted = false;
	if (s->hooks.recover_begin && s->hooks.recover_begin(s->hook_arg) != 0) {
		store_conn_down(sc, "out of memory before recovery");
		return;
	}
	sc->recovery_skip = 0;
	if (sc->needs_rollback) {
		if (!PQsendQueryParams(sc->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0))
			goto failed;
		sc->recovery_skip = 1;
		sc->needs_rollback = false;
	}
	if (!PQsendQueryParams(sc->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
			       NULL, NULL, NULL, 0) ||
	    !PQsendQueryParams(sc->conn, store_sql_centres, 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsendQueryParams(sc->conn, store_sql_calls, 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsendQueryParams(sc->conn, store_sql_events, 0, NULL, NULL, NULL, NULL, 0))
		goto failed;
	for (size_t i = 0; i < s->hooks.n_recovery_queries; i++) {
		const struct store_query *q = &s->hooks.recovery_queries[i];
		if (!PQsendQueryParams(sc->conn, q->sql, q->n_params, NULL,
				       (const char *const *)q->params, NULL, NULL, 0))
			goto failed;
	}
	if (!PQsendQueryParams(sc->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) ||
	    store_conn_send_prepares(sc) != 0 || !PQpipelineSync(sc->conn))
		goto failed;
	store_conn_flush(sc);
	return;
failed:
	store_conn_down(sc, PQerrorMessage(sc->conn));
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
		c.accepted_at = store_int(r, i, 14);
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

static bool store_all_idle(const struct store *s)
{
	for (int i = 0; i < s->n_conns; i++)
		if (s->conns[i].step != STEP_NONE)
			return false;
	return true;
}

/* Moves the next batch out of the queue into sc->inflight: queued ops in
 * order, skipping every op of a call that is busy in another batch (and the
 * later ops of such a call, so a call's events stay in order). Returns the
 * number taken, or -1 when out of memory. */
static long store_take_batch(struct store *s, struct store_conn *sc)
{
	size_t max = (size_t)s->limits.max_batch;
	size_t n = 0;
	struct strmap *skipped = NULL;
	struct store_op *prev = NULL, *op = s->queue_head;

	if (max > s->queue_len)
		max = s->queue_len;
	if (max > sc->inflight_cap) {
		struct store_op **grown = realloc(sc->inflight, max * sizeof *grown);
		if (grown == NULL)
			return -1;
		sc->inflight = grown;
		sc->inflight_cap = max;
	}
	while (op != NULL && n < max) {
		struct store_op *next = op->next;
		if (op->kind == STORE_OP_STMT && sc->index != 0) {
			/* Statements keep their order by running on one connection. */
			prev = op;
			op = next;
			continue;
		}
		char key[STORE_KEY_MAX];
		bool keyed = s->n_conns > 1 && op->kind != STORE_OP_STMT;
		size_t klen = keyed ? store_call_key(op, key) : 0;
		bool blocked = keyed &&
			       (strmap_get(s->busy_calls, key, klen) != NULL ||
				(skipped != NULL && strmap_get(skipped, key, klen) != NULL));
		if (blocked) {
			if (skipped == NULL)
				skipped = strmap_new();
			if (skipped == NULL || strmap_put(skipped, key, klen, (void *)1) != 0) {
				strmap_free(skipped);
				sc->n_inflight = n; /* so that going down answers them */
				return -1;
			}
			prev = op;
			op = next;
			continue;
		}
		/* Unlink op from the queue. */
		if (prev)
			prev->next = next;
		else
			s->queue_head = next;
		if (s->queue_tail == op)
			s->queue_tail = prev;
		s->queue_len--;
		op->next = NULL;
		op->finding = STORE_FOUND_NOTHING;
		sc->inflight[n++] = op;
		op = next;
	}
	strmap_free(skipped);
	sc->n_inflight = n;
	/* Mark after taking, so that two ops of one call in this batch are fine. */
	for (size_t i = 0; i < n; i++)
		if (store_busy_add(s, sc->inflight[i]) != 0)
			return -1;
	return (long)n;
}

/* Moves the statement ops of the batch after its event ops, keeping the
 * order within each kind; returns the number of event ops. */
static size_t store_partition_batch(struct store_conn *sc)
{
	size_t n = sc->n_inflight, events = 0;
	for (size_t i = 0; i < n; i++) {
		struct store_op *op = sc->inflight[i];
		if (op->kind == STORE_OP_STMT)
			continue;
		/* Rotate op down to position events, shifting the statements up. */
		memmove(&sc->inflight[events + 1], &sc->inflight[events],
			(i - events) * sizeof sc->inflight[0]);
		sc->inflight[events++] = op;
	}
	return events;
}

/* Sends hotline_ingest for the first n event ops; 0 or -1 (out of memory). */
static int store_conn_send_events(struct store_conn *sc, size_t n)
{
	for (int col = 0; col < STORE_COLUMNS; col++)
		sc->columns[col].len = 0;
	for (size_t i = 0; i < n; i++)
		if (store_add_op(sc->columns, i, sc->inflight[i]) != 0)
			return -1;
	/* How many rows of each kind hotline_ingest must see written. */
	long offers = 0, writes = 0, finals = 0, lookups = 0;
	for (size_t i = 0; i < n; i++) {
		const struct store_op *op = sc->inflight[i];
		if (op->kind == STORE_OP_LOOKUP) {
			lookups++;
			continue;
		}
		writes++;
		offers += op->ev.type == EVENT_OFFERED;
		finals += call_outcome(&op->row) != NULL;
	}
	char counts[4][24];
	const char *params[STORE_COLUMNS + 4];
	for (int col = 0; col < STORE_COLUMNS; col++) {
		if (store_array_end(&sc->columns[col], n) != 0)
			return -1;
		params[col] = sc->columns[col].buf;
	}
	snprintf(counts[0], sizeof counts[0], "%ld", offers);
	snprintf(counts[1], sizeof counts[1], "%ld", writes);
	snprintf(counts[2], sizeof counts[2], "%ld", finals);
	snprintf(counts[3], sizeof counts[3], "%ld", lookups);
	for (int k = 0; k < 4; k++)
		params[STORE_COLUMNS + k] = counts[k];
	return PQsendQueryPrepared(sc->conn, "ingest", STORE_COLUMNS + 4, params, NULL, NULL, 0) ? 0
												   : -2;
}

/* One batch, one transaction: hotline_ingest alone is its own; with
 * statements, BEGIN, hotline_ingest (if there are events), the statements
 * in queue order, COMMIT. */
static void store_conn_send_batch(struct store_conn *sc)
{
	struct store *s = sc->s;
	long n = store_take_batch(s, sc);

	if (n <= 0) {
		if (n < 0)
			store_conn_down(sc, "out of memory while building a batch");
		return;
	}
	sc->n_events = store_partition_batch(sc);
	sc->batch_in_transaction = sc->n_events < (size_t)n;
	sc->batch_result = 0;
	sc->step = STEP_BATCH;
	sc->batch_failed = false;
	sc->batch_started = timeutil_now_usec();
	if (sc->batch_in_transaction &&
	    !PQsendQueryParams(sc->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
		goto failed;
	if (sc->n_events > 0) {
		int rc = store_conn_send_events(sc, sc->n_events);
		if (rc == -1) {
			store_conn_down(sc, "out of memory while building a batch");
			return;
		}
		if (rc != 0)
			goto failed;
	}
	for (size_t i = sc->n_events; i < (size_t)n; i++) {
		const struct store_stmt *st = &sc->inflight[i]->stmt;
		if (!PQsendQueryPrepared(sc->conn, st->name, st->n_params, st->params, NULL, NULL, 0))
			goto failed;
	}
	if (sc->batch_in_transaction &&
	    !PQsendQueryParams(sc->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
		goto failed;
	if (!PQpipelineSync(sc->conn))
		goto failed;
	store_conn_flush(sc);
	return;
failed:
	store_conn_down(sc, PQerrorMessage(sc->conn));
}

/* Gives queued work to idle connections; runs a pending resync or centre
 * refresh once nothing is in flight. */
static void store_maybe_send(struct store *s)
{
	if (s->state != STORE_READY)
		return;
	if ((s->resync_wanted || s->centres_wanted) && !store_all_idle(s))
		return; /* wait for every batch in flight to be answered */
	if (s->resync_wanted) {
		/* Rebuild memory from the database: fail what was accepted against
		 * the old memory, then run recovery again. */
		log_warn("store", "the broker's memory disagreed with the database; reloading");
		store_fail_ops(store_take_queue(s));
		if (s->state == STORE_READY && store_all_idle(s))
			store_begin_recovery(s);
		return;
	}
	if (s->centres_wanted) {
		struct store_conn *sc = &s->conns[0];
		s->centres_wanted = false;
		if (!PQsendQueryParams(sc->conn, store_sql_centres, 0, NULL, NULL, NULL, NULL, 0) ||
		    !PQpipelineSync(sc->conn)) {
			store_conn_down(sc, PQerrorMessage(sc->conn));
			return;
		}
		sc->step = STEP_CENTRES;
		store_conn_flush(sc);
		return;
	}
	for (int i = 0; i < s->n_conns && s->queue_head != NULL && s->state == STORE_READY; i++) {
		struct store_conn *sc = &s->conns[i];
		if (sc->up && sc->step == STEP_NONE)
			store_conn_send_batch(sc);
	}
}

static void store_apply_findings(struct store_conn *sc, const PGresult *r)
{
	for (int i = 0; i < PQntuples(r); i++) {
		long idx = strtol(PQgetvalue(r, i, 0), NULL, 10);
		if (idx < 0 || (size_t)idx >= sc->n_inflight)
			continue;
		struct store_op *op = sc->inflight[idx];
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

/* Handles one result of whatever step the connection is in. Returns -1 when
 * the connection must be dropped. */
static int store_on_result(struct store_conn *sc, PGresult *r)
{
	struct store *s = sc->s;
	ExecStatusType st = PQresultStatus(r);

	switch (sc->step) {
	case STEP_RECOVERY:
		if (st == PGRES_PIPELINE_SYNC) {
			if ((size_t)(sc->recovery_result - sc->recovery_skip) !=
			    store_recovery_results(s))
				return -1;
			sc->step = STEP_NONE;
			sc->up = true;
			s->state = STORE_READY;
			evtimer_del(s->ev_timer);
			s->backoff_ms = s->limits.reconnect_min_ms;
			if (s->hooks.recover_done)
				s->hooks.recover_done(s->hook_arg, s->recovered_calls,
						      s->recovered_events);
			return 0;
		}
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			log_error("store", "recovery query %d failed: %s", sc->recovery_result,
				  PQresultErrorMessage(r));
			return -1;
		}
		int index = sc->recovery_result++ - sc->recovery_skip;
		switch (index) {
		case 1:
			return store_recover_centres(s, r);
		case 2:
			return store_recover_calls(s, r);
		case 3:
			return store_recover_events(s, r);
		default:
			if (index >= RECOVERY_FIRST_EXTRA &&
			    (size_t)(index - RECOVERY_FIRST_EXTRA) < s->hooks.n_recovery_queries &&
			    s->hooks.recover_rows != NULL)
				return s->hooks.recover_rows(s->hook_arg,
							     (size_t)(index - RECOVERY_FIRST_EXTRA),
							     (const struct store_rows *)r);
			return 0;
		}
	case STEP_PREPARE:
		if (st == PGRES_PIPELINE_SYNC) {
			sc->step = STEP_NONE;
			sc->up = true;
			return 0;
		}
		if (st != PGRES_COMMAND_OK) {
			log_error("store", "preparing connection %d failed: %s", sc->index,
				  PQresultErrorMessage(r));
			return -1;
		}
		return 0;
	case STEP_BATCH: {
		if (st == PGRES_PIPELINE_SYNC) {
			bool failed = sc->batch_failed;
			if (failed && sc->batch_in_transaction)
				sc->needs_rollback = true;
			store_conn_finish_batch(sc, failed ? STORE_UNAVAILABLE : STORE_COMMITTED);
			/* The statement failed and nothing of it was written; memory may
			 * hold what was just refused, so rebuild it. */
			if (failed)
				s->resync_wanted = true;
			return 0;
		}
		/* Which statement of the batch this result answers. */
		size_t result_index = sc->batch_result++;
		size_t first_event = sc->batch_in_transaction ? 1 : 0;
		size_t first_stmt = first_event + (sc->n_events > 0 ? 1 : 0);
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			if (sc->n_events > 0 && result_index == first_event && st == PGRES_TUPLES_OK) {
				store_apply_findings(sc, r);
			} else if (result_index >= first_stmt &&
				   result_index - first_stmt < sc->n_inflight - sc->n_events) {
				struct store_op *op = sc->inflight[sc->n_events + (result_index - first_stmt)];
				if (op->stmt.rows && st == PGRES_TUPLES_OK)
					op->stmt.rows(op, (const struct store_rows *)r);
			}
			return 0;
		}
		if (st == PGRES_PIPELINE_ABORTED) {
			sc->batch_failed = true;
			return 0;
		}
		log_error("store", "batch of %zu operations failed: %s", sc->n_inflight,
			  PQresultErrorMessage(r));
		sc->batch_failed = true;
		/* A broken connection shows up as a fatal result with a bad status. */
		return PQstatus(sc->conn) == CONNECTION_OK ? 0 : -1;
	}
	case STEP_CENTRES:
		if (st == PGRES_PIPELINE_SYNC) {
			sc->step = STEP_NONE;
			return 0;
		}
		if (st == PGRES_TUPLES_OK) {
			if (s->hooks.centres_reset && s->hooks.centres_reset(s->hook_arg) != 0)
				return -1;
			return store_recover_centres(s, r);
		}
		log_warn("store", "refreshing centres failed: %s", PQresultErrorMessage(r));
		return 0;
	case STEP_NONE:
		break;
	}
	return 0;
}

static void store_on_socket(evutil_socket_t fd, short what, void *arg)
{
	struct store_conn *sc = arg;
	struct store *s = sc->s;

	if (sc->conn == NULL)
		return;
	if (!sc->up && sc->step == STEP_NONE) {
		store_conn_poll(sc);
		return;
	}
	if (what & EV_WRITE) {
		store_conn_flush(sc);
		if (s->state == STORE_DOWN)
			return;
	}
	if (!(what & EV_READ))
		return;
	if (!PQconsumeInput(sc->conn)) {
		store_conn_down(sc, PQerrorMessage(sc->conn));
		return;
	}
	while (sc->conn != NULL && sc->step != STEP_NONE && !PQisBusy(sc->conn)) {
		PGresult *r = PQgetResult(sc->conn);
		if (r == NULL)
			continue; /* end of one query's results; the next may be here */
		int rc = store_on_result(sc, r);
		PQclear(r);
		if (rc != 0) {
			store_conn_down(sc, sc->conn ? PQerrorMessage(sc->conn) : NULL);
			return;
		}
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
	s->n_conns = (int)limits->connections;
	if (s->n_conns < 1)
		s->n_conns = 1;
	if (s->n_conns > STORE_MAX_CONNECTIONS)
		s->n_conns = STORE_MAX_CONNECTIONS;
	s->ev_timer = evtimer_new(base, store_on_timer, s);
	s->busy_calls = strmap_new();
	bool ok = s->conninfo != NULL && s->ev_timer != NULL && s->busy_calls != NULL;
	for (int i = 0; i < s->n_conns; i++) {
		s->conns[i].s = s;
		s->conns[i].index = i;
		s->conns[i].columns = calloc(STORE_COLUMN_COUNT, sizeof *s->conns[i].columns);
		ok = ok && s->conns[i].columns != NULL;
	}
	if (!ok) {
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
	if (!store_is_ready(s))
		return -1;
	op->next = NULL;
	if (s->queue_tail)
		s->queue_tail->next = op;
	else
		s->queue_head = op;
	s->queue_tail = op;
	s->queue_len++;
	/* An idle connection sends at once; otherwise the op goes with the next
	 * batch, as soon as a connection is answered. */
	store_maybe_send(s);
	return 0;
}

bool store_is_ready(const struct store *s)
{
	/* A wanted resync means memory is known to be wrong: take nothing new
	 * until it is rebuilt. */
	return s->state == STORE_READY && !s->resync_wanted;
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
	store_maybe_send(s);
}

void store_set_limits(struct store *s, const struct store_limits *limits)
{
	int n_conns = s->n_conns; /* fixed for the life of the store */
	s->limits = *limits;
	s->limits.connections = n_conns;
}

size_t store_backlog(const struct store *s)
{
	size_t n = s->queue_len;
	for (int i = 0; i < s->n_conns; i++)
		n += s->conns[i].n_inflight;
	return n;
}

void store_free(struct store *s)
{
	if (s == NULL)
		return;
	s->state = STORE_DOWN;
	for (int i = 0; i < s->n_conns; i++)
		store_conn_close(&s->conns[i]);
	for (int i = 0; i < s->n_conns; i++)
		if (s->conns[i].columns != NULL)
			store_conn_finish_batch(&s->conns[i], STORE_UNAVAILABLE);
	store_fail_ops(store_take_queue(s));
	if (s->ev_timer)
		event_free(s->ev_timer);
	for (int i = 0; i < s->n_conns; i++) {
		struct store_conn *sc = &s->conns[i];
		free(sc->inflight);
		for (int col = 0; sc->columns != NULL && col < STORE_COLUMN_COUNT; col++)
			free(sc->columns[col].buf);
		free(sc->columns);
	}
	strmap_free(s->busy_calls);
	free(s->conninfo);
	free(s);
}
