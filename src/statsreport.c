/* statsreport.c: the exports' tables and charts (see statsreport.h).
 *
 * Headers are in Chinese, as in the centre's year report; each table also
 * carries ASCII keys for JSON. Every builder goes through the same few
 * helpers (a count table, a KPI table), so a figure is written one way in
 * every export.
 */
#include "statsreport.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "category.h"

#define STATSREPORT_DEFINITION_ACCEPTED                                                            \
	"受理量 (accepted calls): calls whose outcome is handled (an agent took the call) or "  \
	"self_service (the IVR answered it); abandoned calls and calls still in progress are not " \
	"accepted. A call counts under the category its agent set at wrap-up, if any, else the "   \
	"classifier's."
#define STATSREPORT_DEFINITION_BOOKINGS                                                                       \
	"预约量 (bookings): every booking made in the period, by the moment it was made "                  \
	"(booked_at), whatever its visit date; channels: 12320在线预约 online_12320, 电话预约 phone " \
	"(made in a call by an agent or the IVR), 诊间预约 clinic, 第三方 third_party. Platforms "     \
	"count the online and third-party bookings whose sender named a platform."
#define STATSREPORT_DEFINITION_WORK_ORDERS                                                           \
	"12345工单: work orders counted by source (city_12345, province_12345) by the local date " \
	"they were received."

static const struct {
	const char *name;
	const char *label;
} statsreport_categories[] = {
	{"consultation", "咨询"},         {"complaint", "投诉"},      {"booking", "预约挂号"},
	{"expert_qa", "专家答疑"},        {"crisis", "心理危机干预"}, {"survey", "满意度调查"},
	{"ivr_self_service", "自助语音"}, {"other", "其他"},
};

static const char *const statsreport_channels[PROFILE_CHANNEL_COUNT] = {"12320在线预约", "电话预约",
									"诊间预约", "第三方"};

const char *statsreport_category_label(const char *name)
{
	for (size_t i = 0; i < sizeof statsreport_categories / sizeof *statsreport_categories; i++)
		if (strcmp(statsreport_categories[i].name, name) == 0)
			return statsreport_categories[i].label;
	return name;
}

const char *statsreport_channel_label(int channel)
{
	return channel >= 0 && channel < PROFILE_CHANNEL_COUNT ? statsreport_channels[channel] : "";
}

static const char *statsreport_agent_label(const char *key)
{
	return *key ? key : "(无坐席)";
}

static const char *statsreport_hour_label(const char *key)
{
	static char buf[16];
	snprintf(buf, sizeof buf, "%s:00", key);
	return buf;
}

int statsreport_add_definitions(struct report *r, struct statsq *q, const struct kpi_definitions *d,
				const char *zone)
{
	char text[KPI_DESCRIBE_MAX + 2048], kpi[KPI_DESCRIBE_MAX];
	int kept_short, kept_sl;

	if (kpi_describe(d, kpi, sizeof kpi) != 0)
		return -EINVAL;
	statsq_kept_thresholds(q, &kept_short, &kept_sl);
	snprintf(text, sizeof text,
		 "Time: a call belongs to the local date and hour at which it was offered "
		 "(offered_at), a booking to the moment it was made, in the time zone %s.",
		 zone);
	if (report_add_definition(r, STATSREPORT_DEFINITION_ACCEPTED) != 0 ||
	    report_add_definition(r, text) != 0 ||
	    report_add_definition(r, STATSREPORT_DEFINITION_BOOKINGS) != 0 ||
	    report_add_definition(r, STATSREPORT_DEFINITION_WORK_ORDERS) != 0)
		return -ENOMEM;
	snprintf(
		text, sizeof text,
		"Service KPIs (queued calls: handled or abandoned; the IVR's calls are not "
		"queued): %s Wrap-up is the agent's time in wrap-up for the call (from the state log, until "
		"the next state or the posted wrap-up; 0 when none was posted); "
		"hold is not reported by the gateway and counts 0. Occupancy: the agents' time "
		"on calls and in wrap-up over their time ready, offered, on calls or in wrap-up "
		"(not ready is a pause, outside both); a stretch of time counts in each hour by the "
		"part of it spent there. It is given where agents' time belongs to the row (totals, agents, "
		"months, days, hours), not per category or queue.",
		kpi);
	if (report_add_definition(r, text) != 0)
		return -ENOMEM;
	if (statsq_from_aggregates(q))
		snprintf(
			text, sizeof text,
			"Source: the statistics PostgreSQL keeps per hour in the same transactions "
			"as the calls and bookings (tables stats_*), thresholds %d s and %d s.",
			kept_short, kept_sl);
	else
		snprintf(
			text, sizeof text,
			"Source: the call figures were counted from the raw call rows, because the "
			"kept statistics sort calls by other thresholds (short abandon %d s, service "
			"level %d s); hotline-stats rebuild applies new thresholds to them.",
			kept_short, kept_sl);
	return report_add_definition(r, text) != 0 ? -ENOMEM : 0;
}

/* Fills one KPI row's figure cells (columns 1..) from totals. */
static int statsreport_kpi_cells(struct report_cell *row, int64_t accepted,
				 const struct kpi_totals *t, const struct kpi_definitions *d)
{
	struct kpi_result k;
	if (kpi_compute(t, d, &k) != 0)
		return -EINVAL;
	report_cell_set_int(&row[1], accepted);
	report_cell_set_int(&row[2], (int64_t)k.offered);
	report_cell_set_int(&row[3], (int64_t)k.answered);
	report_cell_set_int(&row[4], (int64_t)k.abandoned);
	report_cell_set_int(&row[5], (int64_t)k.short_abandons);
	if (k.asa_s != KPI_UNDEFINED)
		report_cell_set_real(&row[6], k.asa_s, 1);
	if (k.service_level != KPI_UNDEFINED)
		report_cell_set_percent(&row[7], k.service_level, 1);
	if (k.aht_s != KPI_UNDEFINED)
		report_cell_set_real(&row[8], k.aht_s, 1);
	if (k.occupancy != KPI_UNDEFINED)
		report_cell_set_percent(&row[9], k.occupancy, 1);
	return 0;
}

int statsreport_add_kpi_table(struct report *r, const char *id, const char *title,
			      const char *key_header, const struct statsq_cell *cells, size_t n,
			      const struct kpi_definitions *d,
			      const char *(*label)(const char *key))
{
	const char *headers[] = {key_header,           "受理量",
				 "进入队列 (offered)", "接通 (answered)",
				 "放弃 (abandoned)",   "短时放弃",
				 "平均应答 ASA (秒)",  "服务水平 SL",
				 "平均处理 AHT (秒)",  "占用率"};
	const char *keys[] = {"key",       "accepted",       "offered", "answered",
			      "abandoned", "short_abandons", "asa_s",   "service_level",
			      "aht_s",     "occupancy"};
	struct report_table *t = report_add_table(r, id, title, NULL, 10, headers, keys);
	struct kpi_totals total;
	int64_t accepted = 0;

	if (t == NULL || kpi_totals_init(&total, d) != 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct report_cell *row = report_table_add_row(t);
		const char *key = cells[i].key;
		if (row == NULL || report_cell_set_text(&row[0], label ? label(key) : key) != 0)
			return -ENOMEM;
		if (statsreport_kpi_cells(row, cells[i].accepted, &cells[i].kpi, d) != 0 ||
		    kpi_totals_merge(&total, &cells[i].kpi) != 0)
			return -EINVAL;
		accepted += cells[i].accepted;
	}
	struct report_cell *row = report_table_add_row(t);
	if (row == NULL || report_cell_set_text(&row[0], "合计") != 0)
		return -ENOMEM;
	t->last_row_is_total = true;
	return statsreport_kpi_cells(row, accepted, &total, d);
}

/* A table of (label, count) rows with a total row, and optionally a share
 * column. */
static struct report_table *statsreport_count_table(struct report *r, const char *id,
						    const char *title, const char *key_header,
						    const char *count_header, bool ranked)
{
	const char *headers[4], *keys[4];
	size_t n = 0;
	if (ranked) {
		headers[n] = "排名";
		keys[n++] = "rank";
	}
	headers[n] = key_header;
	keys[n++] = "name";
	headers[n] = count_header;
	keys[n++] = "count";
	headers[n] = "占比";
	keys[n++] = "share";
	return report_add_table(r, id, title, NULL, n, headers, keys);
}

static int statsreport_count_row(struct report_table *t, bool ranked, int64_t rank,
				 const char *name, int64_t count, int64_t total)
{
	struct report_cell *row = report_table_add_row(t);
	size_t c = 0;
	if (row == NULL)
		return -ENOMEM;
	if (ranked) {
		if (rank > 0)
			report_cell_set_int(&row[c], rank);
		c++;
	}
	if (report_cell_set_text(&row[c++], name) != 0)
		return -ENOMEM;
	report_cell_set_int(&row[c++], count);
	if (total > 0)
		report_cell_set_percent(&row[c], (double)count / (double)total, 2);
	return 0;
}

static int statsreport_total_row(struct report_table *t, bool ranked, int64_t total)
{
	int rc = statsreport_count_row(t, ranked, 0, "合计", total, total);
	t->last_row_is_total = true;
	return rc;
}

/* Bookings by hospital x channel, ranked, with totals (the seed report's
 * 2019年度预约挂号服务统计表). */
static int statsreport_hospitals(struct report *r, const struct profile *p)
{
	const char *headers[] = {"排名",
				 "医院",
				 statsreport_channels[0],
				 statsreport_channels[1],
				 statsreport_channels[2],
				 statsreport_channels[3],
				 "合计"};
	const char *keys[] = {"rank",   "hospital",    "online_12320", "phone",
			      "clinic", "third_party", "all"};
	struct report_table *t = report_add_table(r, "bookings_by_hospital",
						  "预约挂号服务统计表（按医院、渠道）",
						  "预约挂号服务统计", 7, headers, keys);
	if (t == NULL)
		return -ENOMEM;
	for (size_t i = 0; i <= p->n_hospitals; i++) {
		struct report_cell *row = report_table_add_row(t);
		bool total = i == p->n_hospitals;
		const int64_t *by = total ? p->bookings_total : p->hospitals[i].by_channel;
		if (row == NULL)
			return -ENOMEM;
		if (!total)
			report_cell_set_int(&row[0], p->hospitals[i].rank);
		if (report_cell_set_text(&row[1], total ? "合计" : p->hospitals[i].hospital) != 0)
			return -ENOMEM;
		for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++)
			report_cell_set_int(&row[2 + c], by[c]);
		report_cell_set_int(&row[6], total ? p->bookings_total_all : p->hospitals[i].all);
	}
	t->last_row_is_total = true;
	return 0;
}

static int statsreport_chart_from_table(struct report *r, const char *id, const char *title,
					enum report_chart_kind kind, const char *unit, size_t n,
					const char *const *labels, const double *values)
{
	return report_add_chart(r, id, title, kind, unit, n, labels, values) == NULL ? -ENOMEM : 0;
}

/* Bookings by month (or day): the four channels and their sum. */
static int statsreport_bookings_time_table(struct report *r, const char *id, const char *title,
					   const char *key_header,
					   const struct statsq_booking_cell *cells, size_t n)
{
	const char *headers[] = {key_header,
				 statsreport_channels[0],
				 statsreport_channels[1],
				 statsreport_channels[2],
				 statsreport_channels[3],
				 "合计"};
	const char *keys[] = {"key", "online_12320", "phone", "clinic", "third_party", "all"};
	struct report_table *t = report_add_table(r, id, title, NULL, 6, headers, keys);
	int64_t total[STATSQ_CHANNELS + 1] = {0};

	if (t == NULL)
		return -ENOMEM;
	for (size_t i = 0; i <= n; i++) {
		struct report_cell *row = report_table_add_row(t);
		bool last = i == n;
		if (row == NULL || report_cell_set_text(&row[0], last ? "合计" : cells[i].key) != 0)
			return -ENOMEM;
		for (int c = 0; c <= STATSQ_CHANNELS; c++) {
			int64_t v = c < STATSQ_CHANNELS ?
					    (last ? total[c] : cells[i].by_channel[c]) :
					    (last ? total[c] : cells[i].all);
			report_cell_set_int(&row[1 + c], v);
			if (!last)
				total[c] += v;
		}
	}
	t->last_row_is_total = true;
	return 0;
}

int statsreport_year(struct report *r, const struct profile *p, struct statsq *q,
		     const struct kpi_definitions *d, char *err, size_t err_len)
{
	struct statsq_cell *cells = NULL;
	struct statsq_booking_cell *bcells = NULL;
	size_t n = 0, nb = 0;
	struct report_table *t;
	int rc = -ENOMEM;
	char title[256];

	/* 1. Calls accepted by category. */
	t = statsreport_count_table(r, "calls_by_category", "12320来电受理情况（按类别）", "类别",
				    "受理量", false);
	if (t == NULL)
		goto oom;
	{
		const char *labels[CATEGORY_COUNT];
		double values[CATEGORY_COUNT];
		for (int c = 0; c < CATEGORY_COUNT; c++) {
			const char *name = category_name((enum category)c);
			labels[c] = statsreport_category_label(name);
			values[c] = (double)p->calls_by_category[c];
			if (statsreport_count_row(t, false, 0, labels[c], p->calls_by_category[c],
						  p->calls_total) != 0)
				goto oom;
		}
		if (statsreport_total_row(t, false, p->calls_total) != 0 ||
		    statsreport_chart_from_table(r, "categories", "来电类别分布", REPORT_CHART_BAR,
						 "通话", CATEGORY_COUNT, labels, values) != 0)
			goto oom;
	}

	/* 2. 12345 work orders by source. */
	t = statsreport_count_table(r, "work_orders_by_source", "受理12345工单情况（按来源）",
				    "来源", "工单数", false);
	int64_t orders = p->work_orders_city + p->work_orders_province;
	if (t == NULL ||
	    statsreport_count_row(t, false, 0, "市12345", p->work_orders_city, orders) ||
	    statsreport_count_row(t, false, 0, "省12345", p->work_orders_province, orders) ||
	    statsreport_total_row(t, false, orders))
		goto oom;

	/* 3. Calls by centre across the province. */
	snprintf(title, sizeof title, "全省12320接听电话人次（%s）",
		 p->province_name && *p->province_name ? p->province_name : "各中心");
	t = statsreport_count_table(r, "calls_by_centre", title, "中心", "接听人次", true);
	if (t == NULL)
		goto oom;
	for (size_t i = 0; i < p->n_centres; i++)
		if (statsreport_count_row(t, true, (int64_t)i + 1, p->centres[i].name,
					  p->centres[i].calls, p->province_total) != 0)
			goto oom;
	if (statsreport_total_row(t, true, p->province_total) != 0)
		goto oom;

	/* 4. Bookings by hospital x channel, and the ranking chart (top 20). */
	if (statsreport_hospitals(r, p) != 0)
		goto oom;
	{
		size_t top = p->n_hospitals < 20 ? p->n_hospitals : 20;
		const char **labels = calloc(top + 1, sizeof *labels);
		double *values = calloc(top + 1, sizeof *values);
		if (labels == NULL || values == NULL) {
			free(labels);
			free(values);
			goto oom;
		}
		for (size_t i = 0; i < top; i++) {
			labels[i] = p->hospitals[i].hospital;
			values[i] = (double)p->hospitals[i].all;
		}
		rc = statsreport_chart_from_table(r, "hospital_ranking", "预约量前20家医院",
						  REPORT_CHART_HBAR, "预约", top, labels, values);
		free(labels);
		free(values);
		if (rc != 0)
			goto oom;
	}

	/* 5. Bookings by platform, ranked. */
	t = statsreport_count_table(r, "bookings_by_platform", "分途径预约情况统计（按平台）",
				    "平台", "预约量", true);
	if (t == NULL)
		goto oom;
	for (size_t i = 0; i < p->n_platforms; i++)
		if (statsreport_count_row(t, true, p->platforms[i].rank, p->platforms[i].platform,
					  p->platforms[i].bookings, p->platforms_total) != 0)
			goto oom;
	if (statsreport_total_row(t, true, p->platforms_total) != 0)
		goto oom;

	/* 6. Service KPIs by category, queue, month, hour and agent. */
	rc = statsq_calls(q, STATSQ_CATEGORY, &cells, &n, err, err_len);
	if (rc != 0)
		goto fail;
	rc = statsreport_add_kpi_table(r, "kpi_by_category", "服务指标（按类别）", "类别", cells, n,
				       d, statsreport_category_label);
	free(cells);
	cells = NULL;
	if (rc != 0)
		goto oom;
	if (statsq_calls(q, STATSQ_QUEUE, &cells, &n, err, err_len) != 0)
		goto fail;
	rc = statsreport_add_kpi_table(r, "kpi_by_queue", "服务指标（按队列）", "队列", cells, n, d,
				       NULL);
	free(cells);
	cells = NULL;
	if (rc != 0)
		goto oom;

	if (statsq_calls(q, STATSQ_MONTH, &cells, &n, err, err_len) != 0 ||
	    statsq_bookings_by(q, STATSQ_MONTH, &bcells, &nb, err, err_len) != 0)
		goto fail;
	if (statsreport_add_kpi_table(r, "kpi_by_month", "服务指标（按月）", "月份", cells, n, d,
				      NULL) != 0 ||
	    statsreport_bookings_time_table(r, "bookings_by_month", "预约量（按月、渠道）", "月份",
					    bcells, nb) != 0)
		goto oom;
	{
		/* The monthly trend: accepted calls and bookings of the 12 months. */
		const char *labels[12];
		char names[12][8];
		double calls[12] = {0}, bookings[12] = {0};
		for (int m = 0; m < 12; m++) {
			snprintf(names[m], sizeof names[m], "%d月", m + 1);
			labels[m] = names[m];
		}
		for (size_t i = 0; i < n; i++) {
			int m = atoi(cells[i].key + 5) - 1;
			if (m >= 0 && m < 12)
				calls[m] += (double)cells[i].accepted;
		}
		for (size_t i = 0; i < nb; i++) {
			int m = atoi(bcells[i].key + 5) - 1;
			if (m >= 0 && m < 12)
				bookings[m] += (double)bcells[i].all;
		}
		if (statsreport_chart_from_table(r, "monthly_calls", "月度来电受理趋势",
						 REPORT_CHART_LINE, "通话", 12, labels,
						 calls) != 0 ||
		    statsreport_chart_from_table(r, "monthly_bookings", "月度预约量趋势",
						 REPORT_CHART_LINE, "预约", 12, labels,
						 bookings) != 0)
			goto oom;
	}
	free(cells);
	cells = NULL;
	free(bcells);
	bcells = NULL;

	if (statsq_calls(q, STATSQ_HOUR, &cells, &n, err, err_len) != 0)
		goto fail;
	if (statsreport_add_kpi_table(r, "kpi_by_hour", "服务指标（按时段）", "时段", cells, n, d,
				      statsreport_hour_label) != 0)
		goto oom;
	{
		char names[24][8];
		const char *labels[24];
		double values[24] = {0};
		for (int h = 0; h < 24; h++) {
			snprintf(names[h], sizeof names[h], "%02d", h);
			labels[h] = names[h];
		}
		for (size_t i = 0; i < n; i++) {
			int h = atoi(cells[i].key);
			if (h >= 0 && h < 24)
				values[h] += (double)cells[i].accepted;
		}
		if (statsreport_chart_from_table(r, "hourly_pattern", "来电时段分布（全年合计）",
						 REPORT_CHART_BAR, "通话", 24, labels, values) != 0)
			goto oom;
	}
	free(cells);
	cells = NULL;

	if (statsq_calls(q, STATSQ_AGENT, &cells, &n, err, err_len) != 0)
		goto fail;
	if (statsreport_add_kpi_table(r, "kpi_by_agent", "服务指标（按坐席）", "坐席", cells, n, d,
				      statsreport_agent_label) != 0)
		goto oom;
	free(cells);
	return 0;
oom:
	snprintf(err, err_len, "out of memory while building the report");
fail:
	free(cells);
	free(bcells);
	return -1;
}

/* Bookings of a period by hospital x channel and by platform, as tables. */
static int statsreport_period_bookings(struct report *r, struct statsq *q, char *err,
				       size_t err_len)
{
	struct statsq_hospital *hs = NULL;
	struct statsq_platform *ps = NULL;
	size_t nh = 0, np = 0;
	int64_t without = 0;
	const char *headers[] = {"排名",
				 "医院",
				 statsreport_channels[0],
				 statsreport_channels[1],
				 statsreport_channels[2],
				 statsreport_channels[3],
				 "合计"};
	const char *keys[] = {"rank",   "hospital",    "online_12320", "phone",
			      "clinic", "third_party", "all"};

	if (statsq_bookings_by_hospital(q, &hs, &nh, err, err_len) != 0)
		return -1;
	if (statsq_bookings_by_platform(q, &ps, &np, &without, err, err_len) != 0) {
		free(hs);
		return -1;
	}
	struct report_table *t = report_add_table(
		r, "bookings_by_hospital", "预约挂号（按医院、渠道）", NULL, 7, headers, keys);
	int64_t total[STATSQ_CHANNELS] = {0}, all = 0;
	if (t == NULL)
		goto oom;
	for (size_t i = 0; i <= nh; i++) {
		struct report_cell *row = report_table_add_row(t);
		bool last = i == nh;
		if (row == NULL || report_cell_set_text(&row[1], last ? "合计" : hs[i].name) != 0)
			goto oom;
		if (!last)
			report_cell_set_int(&row[0], (int64_t)i + 1);
		for (int c = 0; c < STATSQ_CHANNELS; c++) {
			report_cell_set_int(&row[2 + c], last ? total[c] : hs[i].by_channel[c]);
			if (!last)
				total[c] += hs[i].by_channel[c];
		}
		report_cell_set_int(&row[6], last ? all : hs[i].all);
		if (!last)
			all += hs[i].all;
	}
	t->last_row_is_total = true;

	t = statsreport_count_table(r, "bookings_by_platform", "预约（按平台）", "平台", "预约量",
				    true);
	int64_t platforms = 0;
	for (size_t i = 0; i < np; i++)
		platforms += ps[i].bookings;
	if (t == NULL)
		goto oom;
	for (size_t i = 0; i < np; i++)
		if (statsreport_count_row(t, true, (int64_t)i + 1, ps[i].name, ps[i].bookings,
					  platforms) != 0)
			goto oom;
	if (statsreport_total_row(t, true, platforms) != 0 ||
	    report_table_set_note(t, "online and third-party bookings whose sender named no "
				     "platform are not listed") != 0)
		goto oom;
	free(hs);
	free(ps);
	return 0;
oom:
	free(hs);
	free(ps);
	snprintf(err, err_len, "out of memory while building the report");
	return -1;
}

int statsreport_period(struct report *r, struct statsq *q, const struct kpi_definitions *d,
		       bool single_day, char *err, size_t err_len)
{
	struct statsq_cell *cells = NULL;
	size_t n = 0;
	struct report_table *t;

	/* Calls accepted by category (every category listed, 0 included). */
	if (statsq_calls(q, STATSQ_CATEGORY, &cells, &n, err, err_len) != 0)
		return -1;
	t = statsreport_count_table(r, "calls_by_category", "来电受理（按类别）", "类别", "受理量",
				    false);
	int64_t total = 0, by[CATEGORY_COUNT] = {0};
	for (size_t i = 0; i < n; i++) {
		enum category c;
		if (category_from_name(cells[i].key, &c) == 0)
			by[c] += cells[i].accepted;
		total += cells[i].accepted;
	}
	if (t == NULL)
		goto oom;
	for (int c = 0; c < CATEGORY_COUNT; c++)
		if (statsreport_count_row(
			    t, false, 0,
			    statsreport_category_label(category_name((enum category)c)), by[c],
			    total) != 0)
			goto oom;
	if (statsreport_total_row(t, false, total) != 0)
		goto oom;
	if (statsreport_add_kpi_table(r, "kpi_by_category", "服务指标（按类别）", "类别", cells, n,
				      d, statsreport_category_label) != 0)
		goto oom;
	free(cells);
	cells = NULL;

	if (statsq_calls(q, single_day ? STATSQ_HOUR : STATSQ_DAY, &cells, &n, err, err_len) != 0)
		return -1;
	if (statsreport_add_kpi_table(r, single_day ? "kpi_by_hour" : "kpi_by_day",
				      single_day ? "服务指标（按时段）" : "服务指标（按日）",
				      single_day ? "时段" : "日期", cells, n, d,
				      single_day ? statsreport_hour_label : NULL) != 0)
		goto oom;
	free(cells);
	cells = NULL;

	if (statsq_calls(q, STATSQ_QUEUE, &cells, &n, err, err_len) != 0)
		return -1;
	if (statsreport_add_kpi_table(r, "kpi_by_queue", "服务指标（按队列）", "队列", cells, n, d,
				      NULL) != 0)
		goto oom;
	free(cells);
	cells = NULL;

	if (statsq_calls(q, STATSQ_AGENT, &cells, &n, err, err_len) != 0)
		return -1;
	if (statsreport_add_kpi_table(r, "kpi_by_agent", "服务指标（按坐席）", "坐席", cells, n, d,
				      statsreport_agent_label) != 0)
		goto oom;
	free(cells);
	cells = NULL;
	if (!single_day) {
		struct statsq_booking_cell *bcells = NULL;
		size_t nb = 0;
		if (statsq_bookings_by(q, STATSQ_DAY, &bcells, &nb, err, err_len) != 0)
			return -1;
		int rc = statsreport_bookings_time_table(
			r, "bookings_by_day", "预约量（按日、渠道）", "日期", bcells, nb);
		free(bcells);
		if (rc != 0)
			goto oom;
	}
	return statsreport_period_bookings(r, q, err, err_len);
oom:
	free(cells);
	snprintf(err, err_len, "out of memory while building the report");
	return -1;
}
