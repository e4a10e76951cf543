/* statsfold.c: the broker's fold of the statistics' deltas (see
 * statsfold.h). One fold at a time: the next is armed when the last one is
 * answered, so a slow database gets folds no faster than it answers them.
 * The fold runs as a statement op of the store, inside a batch transaction
 * on the first connection; hotline_stats_fold (sql/008) runs in its own
 * subtransaction with a short lock timeout and answers -1 instead of
 * failing, so it never takes the batch's calls down with it. */
#include "statsfold.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "store.h"

static const struct store_statement statsfold_stmts[] = {
	{"stats_fold", "SELECT hotline_stats_fold()"},
};

struct statsfold {
	struct event_base *base;
	struct event *timer;
	struct store *store;
	struct store_op op;
	bool in_flight;
	int64_t interval_ms;
	int64_t folded; /* rows of the op in flight, from its rows callback */
	struct statsfold_counts counts;
};

const struct store_statement *statsfold_statements(size_t *n)
{
	*n = sizeof statsfold_stmts / sizeof *statsfold_stmts;
	return statsfold_stmts;
}

static void statsfold_arm(struct statsfold *f)
{
	struct timeval tv = {
		.tv_sec = (time_t)(f->interval_ms / 1000),
		.tv_usec = (suseconds_t)(f->interval_ms % 1000 * 1000),
	};
	if (f->store != NULL && !f->in_flight)
		evtimer_add(f->timer, &tv);
}

static void statsfold_rows(struct store_op *op, const struct store_rows *r)
{
	struct statsfold *f = op->owner;
	if (store_rows_count(r) == 1 && store_rows_columns(r) == 1)
		f->folded = strtoll(store_rows_value(r, 0, 0), NULL, 10);
}

static void statsfold_done(struct store_op *op, enum store_status status)
{
	struct statsfold *f = op->owner;
	f->in_flight = false;
	if (status == STORE_COMMITTED && f->folded >= 0) {
		f->counts.folds++;
		f->counts.rows += (uint64_t)f->folded;
	} else {
		/* The batch failed, or the fold gave way (-1, sql/008): the
		 * deltas wait for the next one; readers add them anyway. */
		f->counts.failures++;
	}
	statsfold_arm(f);
}

static void statsfold_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct statsfold *f = arg;
	(void)fd;
	(void)what;
	if (f->store == NULL || f->in_flight)
		return;
	memset(&f->op, 0, sizeof f->op);
	f->op.kind = STORE_OP_STMT;
	f->op.stmt.name = statsfold_stmts[0].name;
	f->op.stmt.n_params = 0;
	f->op.stmt.rows = statsfold_rows;
	f->op.done = statsfold_done;
	f->op.owner = f;
	f->folded = 0;
	if (store_submit(f->store, &f->op) != 0) {
		/* Down or recovering: try again at the next tick. */
		statsfold_arm(f);
		return;
	}
	f->in_flight = true;
}

struct statsfold *statsfold_new(struct event_base *base, int64_t interval_ms)
{
	struct statsfold *f = calloc(1, sizeof *f);
	if (f == NULL)
		return NULL;
	f->base = base;
	f->interval_ms = interval_ms > 0 ? interval_ms : 5000;
	f->timer = evtimer_new(base, statsfold_on_timer, f);
	if (f->timer == NULL) {
		free(f);
		return NULL;
	}
	return f;
}

void statsfold_attach(struct statsfold *f, struct store *store)
{
	f->store = store;
	if (store == NULL)
		evtimer_del(f->timer);
	else
		statsfold_arm(f);
}

void statsfold_set_interval(struct statsfold *f, int64_t interval_ms)
{
	if (interval_ms > 0)
		f->interval_ms = interval_ms;
}

struct statsfold_counts statsfold_counts(const struct statsfold *f)
{
	return f->counts;
}

void statsfold_free(struct statsfold *f)
{
	if (f == NULL)
		return;
	if (f->timer != NULL)
		event_free(f->timer);
	free(f);
}
