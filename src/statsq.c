/* statsq.c: hotline-stats' queries over the per-hour aggregates (see
 * statsq.h and sql/007_stats.sql).
 *
 * Every query reads "the aggregate table plus its unfolded deltas" for the
 * centre and the UTC hours of the period, and groups by what the export
 * needs; local months, days and hours come from the UTC hour in the
 * export's zone, which is exact because statsq_open accepts only zones
 * whose offset is a whole number of hours over the period. Parameters are
 * always the same six, so that every statement is parameterised the same
 * way: $1 and $2 the period's bounds (timestamptz), $3 the zone, $4 the
 * centre (NULL for all), $5 and $6 the KPI thresholds.
 */
#include "statsq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "profile.h"

#define STATSQ_CALLS_KEPT "(SELECT * FROM stats_calls UNION ALL SELECT * FROM stats_calls_delta)"
#define STATSQ_CALLS_FACTS "stats_calls_from_facts($1, $2, $5::int, $6::int)"
#define STATSQ_AGENT_CALLS_KEPT                                                                    \
	"(SELECT * FROM stats_agent_calls UNION ALL SELECT * FROM stats_agent_calls_delta)"
#define STATSQ_AGENT_CALLS_FACTS "stats_agent_calls_from_facts($1, $2, $5::int, $6::int)"
#define STATSQ_BOOKINGS_KEPT                                                                       \
	"(SELECT * FROM stats_bookings UNION ALL SELECT * FROM stats_bookings_delta)"
#define STATSQ_AGENT_TIME_KEPT                                                                     \
	"(SELECT * FROM stats_agent_time UNION ALL SELECT * FROM stats_agent_time_delta)"
/* The rows of the scope: the period's UTC hours, the centre (or all). */
/* The parameters a statement does not use are still typed (no-op tests), so
 * that every statement takes the same six. */
#define STATSQ_WHERE                                                                               \
	" WHERE s.hour >= $1 AND s.hour < $2 AND ($4::text IS NULL OR s.centre = $4)"              \
	" AND $3::text IS NOT NULL AND $5::int IS NOT NULL AND $6::int IS NOT NULL"

struct statsq {
	PGconn *conn;
	char from[64], to[64];
	char zone[128];
	char centre[64];
	bool all_centres;
	char short_s[16], sl_s[16];
	struct kpi_definitions definitions;
	int kept_short_s, kept_sl_s;
	bool aggregates;
};

static PGresult *statsq_exec(struct statsq *q, const char *sql, char *err, size_t err_len)
{
	const char *params[6] = {q->from,    q->to,  q->zone, q->all_centres ? NULL : q->centre,
				 q->short_s, q->sl_s};
	return db_exec(q->conn, sql, 6, params, err, err_len);
}

/* Runs sql and allocates the caller's rows for it: one zeroed element of
 * size bytes per result row, and one more, so that an empty result still
 * gives the caller an array of its own to hand on and free. Returns the
 * array with *res set (the caller clears it), or NULL with err and nothing
 * left to free. */
static void *statsq_query_rows(struct statsq *q, const char *sql, size_t size, PGresult **res,
			       char *err, size_t err_len)
{
	PGresult *r = statsq_exec(q, sql, err, err_len);
	*res = NULL;
	if (r == NULL)
		return NULL;
	void *rows = calloc((size_t)PQntuples(r) + 1, size);
	if (rows == NULL) {
		PQclear(r);
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	*res = r;
	return rows;
}

int statsq_open(PGconn *conn, const struct statsq_scope *scope, struct statsq **out, char *err,
		size_t err_len)
{
	struct statsq *q = calloc(1, sizeof *q);
	PGresult *r = NULL;

	*out = NULL;
	if (q == NULL) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	q->conn = conn;
	q->definitions = scope->definitions;
	snprintf(q->zone, sizeof q->zone, "%s", scope->zone);
	q->all_centres = scope->centre == NULL;
	snprintf(q->centre, sizeof q->centre, "%s", scope->centre ? scope->centre : "");
	snprintf(q->short_s, sizeof q->short_s, "%d", scope->definitions.short_abandon_s);
	snprintf(q->sl_s, sizeof q->sl_s, "%d", scope->definitions.service_level_s);

	r = db_exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err, err_len);
	if (r == NULL)
		goto fail;
	PQclear(r);

	/* The bounds in UTC, and whether every hour of the period starts on a
	 * whole local hour in the zone (so that UTC hours are local hours). */
	const char *bounds[3] = {scope->from_date, scope->to_date, scope->zone};
	r = db_exec(conn,
		    "WITH b AS (SELECT ($1::date::timestamp AT TIME ZONE $3) AS f,"
		    "                  ($2::date::timestamp AT TIME ZONE $3) AS t)"
		    " SELECT to_char(f AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS+00'),"
		    "        to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS+00'),"
		    "        date_trunc('hour', f, 'UTC') = f AND date_trunc('hour', t, 'UTC') = t"
		    "        AND (SELECT bool_and(extract(minute FROM h AT TIME ZONE $3) = 0)"
		    "               FROM generate_series(f, t, interval '1 hour') h),"
		    "        t > f"
		    "   FROM b",
		    3, bounds, err, err_len);
	if (r == NULL)
		goto fail;
	snprintf(q->from, sizeof q->from, "%s", PQgetvalue(r, 0, 0));
	snprintf(q->to, sizeof q->to, "%s", PQgetvalue(r, 0, 1));
	if (strcmp(PQgetvalue(r, 0, 3), "t") != 0) {
		snprintf(err, err_len, "the period from %s to %s is empty", scope->from_date,
			 scope->to_date);
		goto fail;
	}
	if (strcmp(PQgetvalue(r, 0, 2), "t") != 0) {
		snprintf(err, err_len,
			 "time zone %s: its offset from UTC is not a whole number of hours in "
			 "the period, and statistics are kept per UTC hour; use a zone such as "
			 "Asia/Shanghai or UTC",
			 scope->zone);
		goto fail;
	}
	PQclear(r);

	r = db_exec(conn, "SELECT short_abandon_s, service_level_s FROM stats_settings", 0, NULL,
		    err, err_len);
	if (r == NULL)
		goto fail;
	if (PQntuples(r) != 1) {
		snprintf(err, err_len,
			 "table stats_settings has no row: run hotline-admin migrate");
		goto fail;
	}
	q->kept_short_s = atoi(PQgetvalue(r, 0, 0));
	q->kept_sl_s = atoi(PQgetvalue(r, 0, 1));
	PQclear(r);
	q->aggregates = q->kept_short_s == scope->definitions.short_abandon_s &&
			q->kept_sl_s == scope->definitions.service_level_s;
	*out = q;
	return 0;
fail:
	PQclear(r);
	PQclear(PQexec(conn, "ROLLBACK"));
	free(q);
	return -1;
}

int statsq_set_centre(struct statsq *q, const char *centre)
{
	if (centre != NULL && strlen(centre) >= sizeof q->centre)
		return -EINVAL;
	q->all_centres = centre == NULL;
	snprintf(q->centre, sizeof q->centre, "%s", centre ? centre : "");
	return 0;
}

void statsq_close(struct statsq *q)
{
	if (q == NULL)
		return;
	PQclear(PQexec(q->conn, "ROLLBACK"));
	free(q);
}

bool statsq_from_aggregates(const struct statsq *q)
{
	return q->aggregates;
}

void statsq_kept_thresholds(const struct statsq *q, int *short_abandon_s, int *service_level_s)
{
	*short_abandon_s = q->kept_short_s;
	*service_level_s = q->kept_sl_s;
}

/* The SQL expression of a dimension over rows aliased s (with column hour). */
static const char *statsq_dim_sql(enum statsq_dim dim, const char *column)
{
	switch (dim) {
	case STATSQ_TOTAL:
		return "''";
	case STATSQ_CATEGORY:
		return "s.category";
	case STATSQ_QUEUE:
		return "s.queue";
	case STATSQ_AGENT:
		return column;
	case STATSQ_CENTRE:
	case STATSQ_CENTRE_CATEGORY:
		return "s.centre";
	case STATSQ_MONTH:
		return "to_char(s.hour AT TIME ZONE $3, 'YYYY-MM')";
	case STATSQ_DAY:
		return "to_char(s.hour AT TIME ZONE $3, 'YYYY-MM-DD')";
	case STATSQ_HOUR:
		return "to_char(s.hour AT TIME ZONE $3, 'HH24')";
	}
	return "''";
}

static bool statsq_dim_is_time(enum statsq_dim dim)
{
	return dim == STATSQ_MONTH || dim == STATSQ_DAY || dim == STATSQ_HOUR;
}

static bool statsq_dim_has_agent_time(enum statsq_dim dim)
{
	return dim == STATSQ_TOTAL || dim == STATSQ_AGENT || dim == STATSQ_CENTRE ||
	       dim == STATSQ_MONTH || dim == STATSQ_DAY || dim == STATSQ_HOUR;
}

static int statsq_cell_cmp(const void *a, const void *b)
{
	const struct statsq_cell *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c != 0 ? c : strcmp(x->key2, y->key2);
}

/* Adds the agents' logged-in and busy time to the cells with the same key
 * (a key with time but no call gets a cell of its own). Logged-in time is
 * time ready, offered, on a call or in wrap-up; busy is on a call or in
 * wrap-up (not ready is a pause, outside both). */
static int statsq_add_agent_time(struct statsq *q, enum statsq_dim dim, struct statsq_cell **cells,
				 size_t *n, char *err, size_t err_len)
{
	char sql[1024];

	snprintf(sql, sizeof sql,
		 "SELECT %s AS k,"
		 " sum(s.time_us) FILTER (WHERE s.state IN ('ready', 'offered', 'on_call', "
		 "'wrap_up')),"
		 " sum(s.time_us) FILTER (WHERE s.state IN ('on_call', 'wrap_up'))"
		 " FROM %s s" STATSQ_WHERE " GROUP BY 1 ORDER BY 1",
		 statsq_dim_sql(dim, "s.agent"),
		 q->aggregates ? STATSQ_AGENT_TIME_KEPT : "stats_agent_time_from_facts($1, $2)");
	PGresult *r = statsq_exec(q, sql, err, err_len);
	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *key = PQgetvalue(r, i, 0);
		struct statsq_cell probe = {0}, *c;
		snprintf(probe.key, sizeof probe.key, "%s", key);
		c = *n ? bsearch(&probe, *cells, *n, sizeof **cells, statsq_cell_cmp) : NULL;
		if (c == NULL) {
			struct statsq_cell *grown = realloc(*cells, (*n + 1) * sizeof **cells);
			if (grown == NULL) {
				PQclear(r);
				snprintf(err, err_len, "out of memory");
				return -1;
			}
			*cells = grown;
			c = &grown[(*n)++];
			*c = probe;
			if (kpi_totals_init(&c->kpi, &q->definitions) != 0) {
				PQclear(r);
				snprintf(err, err_len, "invalid KPI definitions");
				return -1;
			}
			qsort(*cells, *n, sizeof **cells, statsq_cell_cmp);
			c = bsearch(&probe, *cells, *n, sizeof **cells, statsq_cell_cmp);
			if (c == NULL) { /* cannot be: it was just added */
				PQclear(r);
				snprintf(err, err_len, "internal error: a new cell was lost");
				return -1;
			}
		}
		c->kpi.logged_in_s += strtod(PQgetvalue(r, i, 1), NULL) / 1e6;
		c->kpi.busy_s += strtod(PQgetvalue(r, i, 2), NULL) / 1e6;
		if (c->kpi.busy_s > c->kpi.logged_in_s)
			c->kpi.busy_s = c->kpi.logged_in_s;
	}
	PQclear(r);
	return 0;
}

int statsq_calls(struct statsq *q, enum statsq_dim dim, struct statsq_cell **cells, size_t *n,
		 char *err, size_t err_len)
{
	char sql[4096];
	struct statsq_cell *out = NULL;
	PGresult *r;
	size_t rows;

	*cells = NULL;
	*n = 0;
	const char *source =
		dim == STATSQ_AGENT ?
			(q->aggregates ? STATSQ_AGENT_CALLS_KEPT : STATSQ_AGENT_CALLS_FACTS) :
			(q->aggregates ? STATSQ_CALLS_KEPT : STATSQ_CALLS_FACTS);
	char by_hour[1536];
	if (statsq_dim_is_time(dim)) {
		/* A local month, day or hour is computed once per UTC hour, not
		 * once per kept row: the rows are summed by hour first. */
		snprintf(by_hour, sizeof by_hour,
			 "(SELECT s.centre, s.hour, sum(accepted) AS accepted,"
			 " sum(self_service) AS self_service, sum(answered) AS answered,"
			 " sum(answered_in_sl) AS answered_in_sl, sum(abandoned) AS abandoned,"
			 " sum(abandoned_in_sl) AS abandoned_in_sl,"
			 " sum(short_abandons) AS short_abandons, sum(wait_us) AS wait_us,"
			 " sum(talk_us) AS talk_us, sum(wrap_us) AS wrap_us"
			 " FROM %s s" STATSQ_WHERE " GROUP BY 1, 2)",
			 source);
		source = by_hour;
	}
	snprintf(
		sql, sizeof sql,
		"SELECT (%s) COLLATE \"C\" AS k, (%s) COLLATE \"C\" AS k2, sum(accepted), sum(self_service), sum(answered),"
		" sum(answered_in_sl), sum(abandoned), sum(abandoned_in_sl), sum(short_abandons),"
		" sum(wait_us), sum(talk_us), sum(wrap_us)"
		" FROM %s s" STATSQ_WHERE " GROUP BY 1, 2"
		" HAVING sum(accepted) <> 0 OR sum(answered) <> 0 OR sum(abandoned) <> 0"
		" OR sum(short_abandons) <> 0"
		" ORDER BY 1, 2",
		statsq_dim_sql(dim, "s.agent"), dim == STATSQ_CENTRE_CATEGORY ? "s.category" : "''",
		source);
	out = statsq_query_rows(q, sql, sizeof *out, &r, err, err_len);
	if (out == NULL)
		return -1;
	rows = (size_t)PQntuples(r);
	for (size_t i = 0; i < rows; i++) {
		struct statsq_cell *c = &out[i];
		int row = (int)i;
#define V(col) strtoll(PQgetvalue(r, row, col), NULL, 10)
		snprintf(c->key, sizeof c->key, "%s", PQgetvalue(r, row, 0));
		snprintf(c->key2, sizeof c->key2, "%s", PQgetvalue(r, row, 1));
		if (kpi_totals_init(&c->kpi, &q->definitions) != 0) {
			PQclear(r);
			free(out);
			snprintf(err, err_len, "invalid KPI definitions");
			return -1;
		}
		c->accepted = V(2);
		c->self_service = V(3);
		c->kpi.answered = (uint64_t)V(4);
		c->kpi.answered_within_sl = (uint64_t)V(5);
		c->kpi.abandoned = (uint64_t)V(6);
		c->kpi.abandoned_within_sl = (uint64_t)V(7);
		c->kpi.short_abandons = (uint64_t)V(8);
		c->kpi.answered_wait_s = (double)V(9) / 1e6;
		c->kpi.handle_s = (double)(V(10) + V(11)) / 1e6;
#undef V
	}
	PQclear(r);
	*cells = out;
	*n = rows;
	/* The rows came in byte order of the keys: bsearch can find them. */
	if (statsq_dim_has_agent_time(dim) &&
	    statsq_add_agent_time(q, dim, cells, n, err, err_len) != 0) {
		free(*cells);
		*cells = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

static int statsq_channel(const char *name)
{
	for (int c = 0; c < STATSQ_CHANNELS; c++)
		if (strcmp(profile_channel_name((enum profile_channel)c), name) == 0)
			return c;
	return -1;
}

/* Adds a count to a row's channel (one profile.h names) and to its total;
 * a channel this build does not know counts in neither. */
static void statsq_add_channel(int64_t by_channel[STATSQ_CHANNELS], int64_t *all,
			       const char *channel, const char *count)
{
	int c = statsq_channel(channel);
	int64_t v = strtoll(count, NULL, 10);
	if (c >= 0) {
		by_channel[c] += v;
		*all += v;
	}
}

int statsq_bookings_by_hospital(struct statsq *q, struct statsq_hospital **rows, size_t *n,
				char *err, size_t err_len)
{
	PGresult *r;
	size_t count = 0;

	*rows = NULL;
	*n = 0;
	/* Hospitals of the centre (enabled, or with bookings in the period),
	 * one row per (hospital, channel) with the count, 0 for none. */
	struct statsq_hospital *out = statsq_query_rows(
		q,
		"WITH b AS (SELECT s.centre, s.hospital, s.channel, sum(s.bookings) AS n"
		"           FROM " STATSQ_BOOKINGS_KEPT " s" STATSQ_WHERE
		"           GROUP BY 1, 2, 3)"
		" SELECT h.centre || '/' || h.code,"
		"        CASE WHEN $4::text IS NULL THEN h.name || '（' || h.centre || '）'"
		"             ELSE h.name END,"
		"        b.channel, coalesce(b.n, 0),"
		"        sum(coalesce(b.n, 0)) OVER (PARTITION BY h.centre, h.code) AS total"
		"   FROM hospitals h LEFT JOIN b ON b.centre = h.centre AND b.hospital = h.code"
		"  WHERE ($4::text IS NULL OR h.centre = $4) AND (h.enabled OR b.n IS NOT NULL)"
		"  ORDER BY total DESC, h.code COLLATE \"C\", h.centre COLLATE \"C\"",
		sizeof *out, &r, err, err_len);
	if (out == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *code = PQgetvalue(r, i, 0);
		if (count == 0 || strcmp(out[count - 1].code, code) != 0) {
			snprintf(out[count].code, sizeof out[count].code, "%s", code);
			snprintf(out[count].name, sizeof out[count].name, "%s",
				 PQgetvalue(r, i, 1));
			count++;
		}
		statsq_add_channel(out[count - 1].by_channel, &out[count - 1].all,
				   PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
	}
	PQclear(r);
	*rows = out;
	*n = count;
	return 0;
}

int statsq_bookings_by_platform(struct statsq *q, struct statsq_platform **rows, size_t *n,
				int64_t *without, char *err, size_t err_len)
{
	PGresult *r;
	size_t count = 0;

	*rows = NULL;
	*n = 0;
	*without = 0;
	struct statsq_platform *out = statsq_query_rows(
		q,
		"WITH b AS (SELECT s.centre, s.platform, sum(s.bookings) AS n"
		"           FROM " STATSQ_BOOKINGS_KEPT " s" STATSQ_WHERE " GROUP BY 1, 2)"
		" SELECT p.code COLLATE \"C\" AS code,"
		"        CASE WHEN $4::text IS NULL THEN p.name || '（' || p.centre || '）'"
		"             ELSE p.name END AS name,"
		"        coalesce(b.n, 0) AS n, false AS none, p.centre COLLATE \"C\" AS centre"
		"   FROM booking_platforms p LEFT JOIN b ON b.centre = p.centre AND b.platform = p.code"
		"  WHERE ($4::text IS NULL OR p.centre = $4)"
		" UNION ALL SELECT '', '', coalesce((SELECT sum(n) FROM b WHERE platform = ''), 0), true,"
		"  ''"
		" ORDER BY none, n DESC, code, centre",
		sizeof *out, &r, err, err_len);
	if (out == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *code = PQgetvalue(r, i, 0);
		int64_t v = strtoll(PQgetvalue(r, i, 2), NULL, 10);
		if (*code == '\0') {
			*without += v;
			continue;
		}
		snprintf(out[count].code, sizeof out[count].code, "%s", code);
		snprintf(out[count].name, sizeof out[count].name, "%s", PQgetvalue(r, i, 1));
		out[count++].bookings = v;
	}
	PQclear(r);
	*rows = out;
	*n = count;
	return 0;
}

int statsq_bookings_by(struct statsq *q, enum statsq_dim dim, struct statsq_booking_cell **cells,
		       size_t *n, char *err, size_t err_len)
{
	char sql[2048];
	struct statsq_booking_cell *out = NULL;
	PGresult *r;
	size_t count = 0;

	*cells = NULL;
	*n = 0;
	/* Summed by UTC hour and channel first, as statsq_calls does: the
	 * local key is then computed once per hour. */
	snprintf(sql, sizeof sql,
		 "SELECT %s, s.channel, sum(s.bookings) FROM"
		 " (SELECT s.centre, s.hour, s.channel, sum(s.bookings) AS bookings"
		 "  FROM " STATSQ_BOOKINGS_KEPT " s" STATSQ_WHERE " GROUP BY 1, 2, 3) s"
		 " GROUP BY 1, 2 ORDER BY 1",
		 statsq_dim_sql(dim, "''"));
	out = statsq_query_rows(q, sql, sizeof *out, &r, err, err_len);
	if (out == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *key = PQgetvalue(r, i, 0);
		if (count == 0 || strcmp(out[count - 1].key, key) != 0)
			snprintf(out[count++].key, sizeof out->key, "%s", key);
		statsq_add_channel(out[count - 1].by_channel, &out[count - 1].all,
				   PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
	}
	PQclear(r);
	*cells = out;
	*n = count;
	return 0;
}

int statsq_bookings_before_end(struct statsq *q, int64_t *n, char *err, size_t err_len)
{
	PGresult *r = statsq_exec(q,
				  "SELECT coalesce(sum(s.bookings), 0) FROM " STATSQ_BOOKINGS_KEPT
				  " s WHERE s.hour < $2 AND ($4::text IS NULL OR s.centre = $4)"
				  " AND $1::timestamptz IS NOT NULL AND $3::text IS NOT NULL"
				  " AND $5::int IS NOT NULL AND $6::int IS NOT NULL",
				  err, err_len);
	if (r == NULL)
		return -1;
	*n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

int statsq_has_booking_reference(struct statsq *q, bool *hospitals, bool *platforms, char *err,
				 size_t err_len)
{
	PGresult *r = statsq_exec(
		q,
		"SELECT EXISTS (SELECT 1 FROM hospitals h WHERE $4::text IS NULL OR h.centre = $4),"
		" EXISTS (SELECT 1 FROM booking_platforms p WHERE $4::text IS NULL OR p.centre = $4)"
		" WHERE $1::timestamptz IS NOT NULL AND $2::timestamptz IS NOT NULL"
		" AND $3::text IS NOT NULL AND $5::int IS NOT NULL AND $6::int IS NOT NULL",
		err, err_len);
	if (r == NULL)
		return -1;
	*hospitals = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	*platforms = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
	PQclear(r);
	return 0;
}

/* Compares one aggregate table (kept rows plus deltas, grouped by its key,
 * all-zero groups dropped) with the same figures counted from the facts. */
static int statsq_check_table(struct statsq *q, struct statsq_check_table *t, const char *key,
			      const char *sums, const char *nonzero, const char *kept,
			      const char *facts, const char *facts_count, char *err, size_t err_len)
{
	char sql[4096];

	snprintf(sql, sizeof sql,
		 "WITH a AS (SELECT %s, %s FROM %s s" STATSQ_WHERE " GROUP BY %s HAVING %s),"
		 " b AS (SELECT %s, %s FROM %s s" STATSQ_WHERE " GROUP BY %s HAVING %s)"
		 " SELECT (SELECT count(*) FROM b),"
		 "        (SELECT count(*) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM b) x),"
		 "        (SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM a) y),"
		 "        (%s)",
		 key, sums, kept, key, nonzero, key, sums, facts, key, nonzero, facts_count);
	PGresult *r = statsq_exec(q, sql, err, err_len);
	if (r == NULL)
		return -1;
	t->keys = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	t->only_kept = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	t->only_facts = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	t->facts = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
	PQclear(r);
	return 0;
}

int statsq_recompute(struct statsq *q, struct statsq_check *out, char *err, size_t err_len)
{
	/* The check uses the thresholds the aggregates were kept with. */
	char short_s[16], sl_s[16];
	memcpy(short_s, q->short_s, sizeof short_s);
	memcpy(sl_s, q->sl_s, sizeof sl_s);
	snprintf(q->short_s, sizeof q->short_s, "%d", q->kept_short_s);
	snprintf(q->sl_s, sizeof q->sl_s, "%d", q->kept_sl_s);

	static const char calls_sums[] =
		"sum(accepted) AS a1, sum(self_service) AS a2, sum(answered) AS a3,"
		" sum(answered_in_sl) AS a4, sum(abandoned) AS a5, sum(abandoned_in_sl) AS a6,"
		" sum(short_abandons) AS a7, sum(wait_us) AS a8, sum(talk_us) AS a9,"
		" sum(wrap_us) AS a10";
	static const char calls_nonzero[] =
		"sum(accepted) <> 0 OR sum(self_service) <> 0 OR sum(answered) <> 0"
		" OR sum(answered_in_sl) <> 0 OR sum(abandoned) <> 0 OR sum(abandoned_in_sl) <> 0"
		" OR sum(short_abandons) <> 0 OR sum(wait_us) <> 0 OR sum(talk_us) <> 0"
		" OR sum(wrap_us) <> 0";
	static const char calls_count[] =
		"SELECT count(*) FROM calls c WHERE c.offered_at >= $1 AND c.offered_at < $2"
		" AND ($4::text IS NULL OR c.centre = $4) AND c.outcome IS NOT NULL";

	memset(out, 0, sizeof *out);
	out->tables[0].table = "stats_calls";
	out->tables[1].table = "stats_agent_calls";
	out->tables[2].table = "stats_bookings";
	out->tables[3].table = "stats_agent_time";
	int rc = statsq_check_table(q, &out->tables[0], "s.centre, s.hour, s.category, s.queue",
				    calls_sums, calls_nonzero, STATSQ_CALLS_KEPT,
				    STATSQ_CALLS_FACTS, calls_count, err, err_len);
	if (rc == 0)
		rc = statsq_check_table(q, &out->tables[1], "s.centre, s.hour, s.agent", calls_sums,
					calls_nonzero, STATSQ_AGENT_CALLS_KEPT,
					STATSQ_AGENT_CALLS_FACTS, calls_count, err, err_len);
	if (rc == 0)
		rc = statsq_check_table(
			q, &out->tables[2], "s.centre, s.hour, s.hospital, s.channel, s.platform",
			"sum(bookings) AS b", "sum(bookings) <> 0", STATSQ_BOOKINGS_KEPT,
			"stats_bookings_from_facts($1, $2)",
			"SELECT count(*) FROM bookings b WHERE b.booked_at >= $1"
			" AND b.booked_at < $2 AND ($4::text IS NULL OR b.centre = $4)",
			err, err_len);
	if (rc == 0)
		rc = statsq_check_table(
			q, &out->tables[3], "s.centre, s.hour, s.agent, s.state",
			"sum(time_us) AS t", "sum(time_us) <> 0", STATSQ_AGENT_TIME_KEPT,
			"stats_agent_time_from_facts($1, $2)",
			"SELECT count(*) FROM agent_state_log l WHERE l.at >= $1 AND l.at < $2"
			" AND ($4::text IS NULL OR l.centre = $4)",
			err, err_len);
	memcpy(q->short_s, short_s, sizeof short_s);
	memcpy(q->sl_s, sl_s, sizeof sl_s);
	if (rc != 0)
		return -1;
	out->agree = true;
	for (int i = 0; i < STATSQ_CHECK_TABLES; i++)
		out->agree = out->agree && out->tables[i].only_kept == 0 &&
			     out->tables[i].only_facts == 0;
	return 0;
}
