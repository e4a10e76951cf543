/* statsq.h: the statistics queries of hotline-stats, over the aggregates
 * that PostgreSQL keeps up to date with every write (sql/007_stats.sql).
 *
 * A query session reads one consistent snapshot (a read-only repeatable
 * read transaction), so that every table of an export adds up with the
 * others. Figures come from the per-hour aggregate tables plus their
 * unfolded deltas; when the export's KPI thresholds differ from those the
 * aggregates were kept with, the call figures are counted from the raw
 * rows instead (same SQL, same columns), and statsq_from_aggregates says so.
 *
 * Periods are local dates [from, to) in a time zone whose offset is a whole
 * number of hours over the period (the aggregates are per UTC hour);
 * statsq_open refuses any other zone with a message that says why.
 */
#ifndef HOTLINE_STATSQ_H
#define HOTLINE_STATSQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "kpi.h"

struct statsq_scope {
	const char *centre;    /* NULL: every centre */
	const char *zone;      /* an IANA zone, e.g. Asia/Shanghai */
	const char *from_date; /* first local date, YYYY-MM-DD */
	const char *to_date;   /* the local date after the last one */
	struct kpi_definitions definitions;
};

struct statsq;

/* Starts the snapshot and checks the zone. Returns 0, or -1 with err. */
int statsq_open(PGconn *conn, const struct statsq_scope *scope, struct statsq **out, char *err,
		size_t err_len) __attribute__((warn_unused_result));
/* Changes the centre of the queries that follow (NULL: every centre),
 * in the same snapshot. */
int statsq_set_centre(struct statsq *q, const char *centre) __attribute__((warn_unused_result));
/* Ends the snapshot (rollback: nothing was written) and frees q. */
void statsq_close(struct statsq *q);
/* False when the call figures had to be counted from the raw rows. */
bool statsq_from_aggregates(const struct statsq *q);
/* The thresholds the aggregates were kept with (stats_settings). */
void statsq_kept_thresholds(const struct statsq *q, int *short_abandon_s, int *service_level_s);

enum statsq_dim {
	STATSQ_TOTAL,    /* one cell, key "" */
	STATSQ_CATEGORY, /* counted category (the agent's correction, else the classifier's) */
	STATSQ_QUEUE,    /* the queue the call ended in */
	STATSQ_AGENT,    /* the agent who answered ("" none) */
	STATSQ_CENTRE,   /* centre code */
	STATSQ_CENTRE_CATEGORY, /* key centre, key2 category */
	STATSQ_MONTH,           /* local YYYY-MM */
	STATSQ_DAY,             /* local YYYY-MM-DD */
	STATSQ_HOUR,            /* local hour of day, "00".."23" */
};

/* One cell of calls figures. kpi holds the sums (kpi_compute gives the
 * figures); its logged_in_s and busy_s are the agents' time, for the
 * dimensions that have one (total, agent, centre, month, day, hour). */
struct statsq_cell {
	char key[128];
	char key2[64];
	int64_t accepted;     /* outcome handled or self_service */
	int64_t self_service; /* answered by the IVR */
	struct kpi_totals kpi;
};

/* The calls figures by dim, ordered by key (then key2). *cells is
 * malloc'd (free it); 0 cells when nothing happened. Returns 0 or -1. */
int statsq_calls(struct statsq *q, enum statsq_dim dim, struct statsq_cell **cells, size_t *n,
		 char *err, size_t err_len) __attribute__((warn_unused_result));

enum { STATSQ_CHANNELS = 4 }; /* online_12320, phone, clinic, third_party: profile.h's order */

struct statsq_hospital {
	char code[80];
	char name[408];
	int64_t by_channel[STATSQ_CHANNELS];
	int64_t all;
};

/* Every hospital of the centre that is enabled or had bookings in the
 * period, ranked: all descending, then code. */
int statsq_bookings_by_hospital(struct statsq *q, struct statsq_hospital **rows, size_t *n,
				char *err, size_t err_len) __attribute__((warn_unused_result));

struct statsq_platform {
	char code[80];
	char name[408];
	int64_t bookings;
};

/* Every platform of the centre, ranked: bookings descending, then code.
 * Bookings without a platform are not listed (*without counts them). */
int statsq_bookings_by_platform(struct statsq *q, struct statsq_platform **rows, size_t *n,
				int64_t *without, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* Bookings by MONTH, DAY or HOUR (keys as for calls), ordered by key;
 * by_channel in profile.h's order. */
struct statsq_booking_cell {
	char key[16];
	int64_t by_channel[STATSQ_CHANNELS];
	int64_t all;
};
int statsq_bookings_by(struct statsq *q, enum statsq_dim dim, struct statsq_booking_cell **cells,
		       size_t *n, char *err, size_t err_len) __attribute__((warn_unused_result));

/* All bookings of the centre made before the period's end, any year. */
int statsq_bookings_before_end(struct statsq *q, int64_t *n, char *err, size_t err_len)
	__attribute__((warn_unused_result));
/* True when the centre has hospitals or platforms (reference data loaded). */
int statsq_has_booking_reference(struct statsq *q, bool *hospitals, bool *platforms, char *err,
				 size_t err_len) __attribute__((warn_unused_result));

/* The check behind --recompute: counts the period's figures again from the
 * raw rows (calls under the kept thresholds, bookings, agents' time) and
 * compares them key by key with the aggregates. */
struct statsq_check_table {
	const char *table;  /* stats_calls, stats_agent_calls, stats_bookings, stats_agent_time */
	int64_t keys;       /* non-zero keys counted from the raw rows */
	int64_t facts;      /* raw rows they come from */
	int64_t only_kept;  /* keys the aggregates have and the raw rows do not (or differ) */
	int64_t only_facts; /* keys the raw rows have and the aggregates do not (or differ) */
};
#define STATSQ_CHECK_TABLES 4
struct statsq_check {
	struct statsq_check_table tables[STATSQ_CHECK_TABLES];
	bool agree;
};
int statsq_recompute(struct statsq *q, struct statsq_check *out, char *err, size_t err_len)
	__attribute__((warn_unused_result));

#endif
