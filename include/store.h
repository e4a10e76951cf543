/* store.h: the broker's PostgreSQL store: non-blocking libpq on the event
 * loop, pipeline mode, group commit.
 *
 * Accepted events queue up as store_ops. Whenever a connection is free,
 * every queued op (up to max_batch) goes out as ONE statement,
 * hotline_ingest() (sql/002_ingest.sql), which is its own transaction: one
 * round trip and one fsync for the whole batch, and the next batch is sent
 * as soon as the previous one is answered (no timer: the batch grows with
 * the load). With database.connections > 1, batches commit side by side, and
 * a call's ops are never in two uncommitted batches at once.
 *
 * Contract of store_op.done: called exactly once per submitted op, after the
 * batch committed (STORE_COMMITTED, with op->finding set) or failed
 * (STORE_UNAVAILABLE: nothing of it is acknowledged). The op belongs to the
 * caller again inside done and may be freed there.
 *
 * On every (re)connection the store replays the recovery queries (centres,
 * calls in progress and their events, in one repeatable-read snapshot)
 * through the hooks before it accepts ops: a restart and a reconnect are the
 * same path. Until then store_submit refuses (the caller answers 503).
 */
#ifndef HOTLINE_STORE_H
#define HOTLINE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calls.h"
#include "event.h"

struct event_base;
struct store;
struct store_op;

#define STORE_JSON_MAX 512

/* WRITE and LOOKUP are gateway events (hotline_ingest); STMT is one named
 * statement of another module (struct store_stmt), run in the same
 * transaction as the events of its batch, after them. */
enum store_op_kind { STORE_OP_WRITE, STORE_OP_LOOKUP, STORE_OP_STMT };

/* Rows a statement returned; valid only inside the rows callback. */
struct store_rows;
int store_rows_count(const struct store_rows *r);
int store_rows_columns(const struct store_rows *r);
/* The text of a value ("" for NULL). */
const char *store_rows_value(const struct store_rows *r, int row, int col);
bool store_rows_is_null(const struct store_rows *r, int row, int col);

#define STORE_STMT_PARAMS 16

/* A statement op: name is one of store_hooks.statements, params are text
 * (NULL for SQL NULL) and must stay valid until done. Statement ops keep
 * their queue order: they only ever run on the first connection. rows, when
 * set, sees what the statement returned before the transaction commits:
 * keep what it says, act in done. */
struct store_stmt {
	const char *name;
	int n_params;
	const char *params[STORE_STMT_PARAMS];
	void (*rows)(struct store_op *op, const struct store_rows *r);
};

/* A statement another module needs prepared on every connection. */
struct store_statement {
	const char *name;
	const char *sql;
};

/* A query of another module run by every recovery, in the same snapshot as
 * the calls, after them; params point to the caller's storage. */
struct store_query {
	const char *sql;
	int n_params;
	const char *const *params;
};

enum store_status { STORE_COMMITTED, STORE_UNAVAILABLE };

enum store_finding {
	STORE_FOUND_NOTHING,      /* written as asked */
	STORE_FOUND_DUPLICATE,    /* the event id exists: stored_hash, stored_result */
	STORE_FOUND_CALL_EXISTS,  /* an offer for a call id that exists */
	STORE_FOUND_VOIDED,       /* its call's offer was refused in the same batch */
	STORE_FOUND_CALL_STATE,   /* lookup: the call exists, in stored_state */
	STORE_FOUND_UNKNOWN_CALL, /* lookup: no such call */
};

struct store_op {
	struct store_op *next; /* the store's queue link */
	enum store_op_kind kind;
	struct store_stmt stmt; /* STORE_OP_STMT only */
	struct call_event ev;
	struct call row; /* the call after this event; written for offers and final events */
	char detail[STORE_JSON_MAX]; /* JSON object kept in call_events.detail */
	char result[STORE_JSON_MAX]; /* the JSON answer, kept in call_events.result */

	enum store_finding finding;
	unsigned char stored_hash[EVENT_HASH_BYTES];
	char stored_result[STORE_JSON_MAX];
	char stored_state[16];

	void (*done)(struct store_op *op, enum store_status status);
	void *owner;
};

/* One event of a call in progress, as recovery reads it back. */
struct store_recovered_event {
	const char *centre;
	const char *event_id;
	const char *call_id;
	const char *type;
	int64_t at;
	const unsigned char *hash; /* EVENT_HASH_BYTES */
	const char *result;        /* JSON text */
	const char *detail;        /* JSON text */
};

struct store_hooks {
	/* Recovery, in this order, on every (re)connection. A hook returning -1
	 * aborts the recovery; the store reconnects later. */
	int (*recover_begin)(void *arg);
	int (*recover_centre)(void *arg, const char *code, const char *name);
	/* A centre refresh is about to list every centre again: forget the old
	 * list (the recover_centre calls that follow rebuild it). */
	int (*centres_reset)(void *arg);
	int (*recover_call)(void *arg, const struct call *c);
	int (*recover_event)(void *arg, const struct store_recovered_event *e);
	/* The rows of recovery_queries[index]. */
	int (*recover_rows)(void *arg, size_t index, const struct store_rows *r);
	void (*recover_done)(void *arg, size_t n_calls, size_t n_events);
	/* The connection was lost; every queued op has already been failed. */
	void (*went_down)(void *arg, const char *why);
	/* A batch finished (for metrics). */
	void (*batch_done)(void *arg, size_t n_ops, int64_t usec, bool ok);

	const struct store_query *recovery_queries;
	size_t n_recovery_queries;
	const struct store_statement *statements;
	size_t n_statements;
};

struct store_limits {
	int64_t connections; /* fixed at store_new */
	int64_t max_batch;
	int64_t reconnect_min_ms;
	int64_t reconnect_max_ms;
};

struct store *store_new(struct event_base *base, const char *conninfo,
			const struct store_limits *limits, const struct store_hooks *hooks,
			void *hook_arg);

/* Starts connecting; returns at once. */
void store_start(struct store *s);

/* Queues op for the next batch. Returns 0, or -1 if the store is not ready
 * (down, connecting or recovering): then done will not be called. */
int store_submit(struct store *s, struct store_op *op) __attribute__((warn_unused_result));

/* True when connected and recovered. */
bool store_is_ready(const struct store *s);

/* "up", "connecting", "recovering" or "down". */
const char *store_state_name(const struct store *s);

/* Asks for memory to be rebuilt: once the batch in flight is answered,
 * every queued op fails (STORE_UNAVAILABLE) and recovery runs again on the
 * same connection. For when a finding shows that the caller's memory and
 * the database disagree. */
void store_request_resync(struct store *s);

/* Re-reads the centre list (centres_reset, then recover_centre hooks) when the connection is
 * next idle; used on SIGHUP after an operator added a centre. */
void store_refresh_centres(struct store *s);

void store_set_limits(struct store *s, const struct store_limits *limits);

/* Ops queued and in flight. */
size_t store_backlog(const struct store *s);

void store_free(struct store *s);

#endif
