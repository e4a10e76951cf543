/* statsfold.h: the broker folds the statistics' deltas into their tables
 * (sql/007_stats.sql, hotline_stats_fold) every stats.fold_interval_ms.
 *
 * Readers add the deltas anyway, so folding changes no figure: it keeps the
 * delta tables small, so that an export reads a few thousand rows per day of
 * the year rather than one per batch the broker committed.
 */
#ifndef HOTLINE_STATSFOLD_H
#define HOTLINE_STATSFOLD_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct store;
struct store_statement;

struct statsfold_counts {
	uint64_t folds;    /* folds committed */
	uint64_t rows;     /* delta rows folded */
	uint64_t failures; /* folds whose batch failed (the next one retries) */
};

struct statsfold;

/* The statement the store must prepare (one). */
const struct store_statement *statsfold_statements(size_t *n);
/* A timer on base; folding starts with statsfold_attach. NULL on failure. */
struct statsfold *statsfold_new(struct event_base *base, int64_t interval_ms);
/* Starts (store not NULL) or stops folding through store. */
void statsfold_attach(struct statsfold *f, struct store *store);
void statsfold_set_interval(struct statsfold *f, int64_t interval_ms);
struct statsfold_counts statsfold_counts(const struct statsfold *f);
/* Frees f; a fold still in the store's queue is answered first (the
 * store fails it when it is freed), so free the store before f. */
void statsfold_free(struct statsfold *f);

#endif
