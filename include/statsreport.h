/* statsreport.h: hotline-stats' exports as reports (report.h): the year
 * report's tables in the seed report's words, the KPI tables, the daily and
 * date-range exports and the staffing plan, from the queries of statsq.h.
 *
 * The builders only read statsq and write the report; they hold no SQL and
 * no output format, so every export has the same tables in CSV, JSON, XLSX
 * and HTML.
 */
#ifndef HOTLINE_STATSREPORT_H
#define HOTLINE_STATSREPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kpi.h"
#include "profile.h"
#include "report.h"
#include "statsq.h"

/* The Chinese name of a call category ("booking" → "预约挂号"), or the name
 * itself for an unknown one. */
const char *statsreport_category_label(const char *name);
/* The Chinese name of a booking channel (profile.h's order). */
const char *statsreport_channel_label(int channel);

/* Appends the definitions every export prints: what counts as accepted,
 * the time rules, the KPI definitions (kpi_describe) and where the figures
 * came from (the kept aggregates, or the raw rows and why). */
int statsreport_add_definitions(struct report *r, struct statsq *q, const struct kpi_definitions *d,
				const char *zone) __attribute__((warn_unused_result));

/* One KPI table over cells: a first column (key_header, each key shown
 * through label when not NULL), then accepted, offered, answered,
 * abandoned, short abandons, ASA, service level, AHT and occupancy, and a
 * total row. */
int statsreport_add_kpi_table(struct report *r, const char *id, const char *title,
			      const char *key_header, const struct statsq_cell *cells, size_t n,
			      const struct kpi_definitions *d,
			      const char *(*label)(const char *key))
	__attribute__((warn_unused_result));

/* The year report's tables and charts for a filled profile p (calls by
 * category, work orders by source, calls by centre, bookings by hospital x
 * channel, bookings by platform) plus the KPI tables, the monthly and hourly
 * tables and the four charts, read from q (centre scope). */
int statsreport_year(struct report *r, const struct profile *p, struct statsq *q,
		     const struct kpi_definitions *d, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* A day or a date range: calls by category and by hour (a day) or by day
 * (a range), the KPI tables by category, queue, hour and agent, and the
 * bookings by hospital x channel and platform. */
int statsreport_period(struct report *r, struct statsq *q, const struct kpi_definitions *d,
		       bool single_day, char *err, size_t err_len)
	__attribute__((warn_unused_result));

#endif
