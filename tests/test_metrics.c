/* test_metrics.c: counters and histograms (metrics.h) as GET /metrics
 * renders them: read back with a small Prometheus text-format parser, so the
 * tests check values and histogram rules rather than exact spacing. */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define MAX_SAMPLES 512
#define MAX_LABELS 4

struct sample {
	char name[96];
	int n_labels;
	char label_names[MAX_LABELS][16];
	char label_values[MAX_LABELS][32];
	double value;
	int line;
};

struct exposition {
	struct sample samples[MAX_SAMPLES];
	int n;
	char types[64][96]; /* "name kind" from the # TYPE lines */
	int n_types;
};

/* Parses one label set: k="v",k="v" (no escapes needed for our values). */
static void parse_labels(const char *p, const char *end, struct sample *s, int line)
{
	while (p < end) {
		const char *eq = memchr(p, '=', (size_t)(end - p));
		ck_assert_msg(eq != NULL && eq[1] == '"', "line %d: bad label set", line);
		const char *close = memchr(eq + 2, '"', (size_t)(end - eq - 2));
		ck_assert_msg(close != NULL, "line %d: unterminated label value", line);
		ck_assert_int_lt(s->n_labels, MAX_LABELS);
		snprintf(s->label_names[s->n_labels], sizeof s->label_names[0], "%.*s",
			 (int)(eq - p), p);
		snprintf(s->label_values[s->n_labels], sizeof s->label_values[0], "%.*s",
			 (int)(close - eq - 2), eq + 2);
		s->n_labels++;
		p = close + 1;
		if (p < end) {
			ck_assert_msg(*p == ',', "line %d: expected ',' between labels", line);
			p++;
		}
	}
}

/* Parses the whole text, checking the line grammar as it goes. */
static void parse_exposition(const char *text, struct exposition *x)
{
	int line = 0;

	memset(x, 0, sizeof *x);
	for (const char *p = text; *p != '\0';) {
		const char *eol = strchr(p, '\n');
		ck_assert_msg(eol != NULL, "the text does not end with a newline");
		line++;
		if (strncmp(p, "# TYPE ", 7) == 0) {
			ck_assert_int_lt(x->n_types, 64);
			snprintf(x->types[x->n_types++], sizeof x->types[0], "%.*s",
				 (int)(eol - p - 7), p + 7);
		} else if (*p == '#') {
			ck_assert_msg(strncmp(p, "# HELP ", 7) == 0, "line %d: stray comment",
				      line);
		} else {
			struct sample *s = &x->samples[x->n];
			ck_assert_int_lt(x->n, MAX_SAMPLES);
			size_t name_len = strcspn(p, "{ ");
			ck_assert_msg(name_len > 0 && name_len < sizeof s->name, "line %d: no name",
				      line);
			memcpy(s->name, p, name_len);
			const char *q = p + name_len;
			if (*q == '{') {
				const char *close = memchr(q, '}', (size_t)(eol - q));
				ck_assert_msg(close != NULL, "line %d: unclosed label set", line);
				parse_labels(q + 1, close, s, line);
				q = close + 1;
			}
			ck_assert_msg(*q == ' ', "line %d: no space before the value", line);
			char *end;
			s->value = strtod(q + 1, &end);
			ck_assert_msg(end == eol && end > q + 1, "line %d: bad value", line);
			s->line = line;
			x->n++;
		}
		p = eol + 1;
	}
}

static const char *label(const struct sample *s, const char *name)
{
	for (int i = 0; i < s->n_labels; i++)
		if (strcmp(s->label_names[i], name) == 0)
			return s->label_values[i];
	return NULL;
}

/* The value of the sample with this name and exactly these labels
 * ("k=v" strings, NULL-terminated, any order); fails if absent. */
static double find_value_at(const struct exposition *x, const char *name, const char *const *labels,
			    int line)
{
	for (int i = 0; i < x->n; i++) {
		const struct sample *s = &x->samples[i];
		int n = 0, matched = 0;
		if (strcmp(s->name, name) != 0)
			continue;
		for (; labels && labels[n]; n++) {
			const char *eq = strchr(labels[n], '=');
			char key[16];
			snprintf(key, sizeof key, "%.*s", (int)(eq - labels[n]), labels[n]);
			const char *v = label(s, key);
			matched += v != NULL && strcmp(v, eq + 1) == 0;
		}
		if (matched == n && s->n_labels == n)
			return s->value;
	}
	ck_abort_msg("line %d: no sample %s%s%s", line, name, labels && labels[0] ? " " : "",
		     labels && labels[0] ? labels[0] : "");
	return NAN;
}
#define find_value(x, name, ...)                                                                   \
	find_value_at((x), (name), (const char *const[]){__VA_ARGS__, NULL}, __LINE__)

static bool has_sample(const struct exposition *x, const char *name, const char *lname,
		       const char *lvalue)
{
	for (int i = 0; i < x->n; i++) {
		const char *v = label(&x->samples[i], lname);
		if (strcmp(x->samples[i].name, name) == 0 && v && strcmp(v, lvalue) == 0)
			return true;
	}
	return false;
}

static struct exposition *render(const struct metrics *m)
{
	size_t len = 0;
	char *text = metrics_render(m, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, strlen(text));
	struct exposition *x = malloc(sizeof *x);
	ck_assert_ptr_nonnull(x);
	parse_exposition(text, x);
	free(text);
	return x;
}

static bool has_type(const struct exposition *x, const char *name, const char *kind)
{
	char want[128];
	snprintf(want, sizeof want, "%s %s", name, kind);
	for (int i = 0; i < x->n_types; i++)
		if (strcmp(x->types[i], want) == 0)
			return true;
	return false;
}

/* Every sample belongs to a declared family; every histogram series has
 * ascending le bounds, non-decreasing cumulative counts, a +Inf bucket equal
 * to its _count, and a _sum. Returns the number of histogram series seen. */
static int check_families(const struct exposition *x)
{
	int series = 0;
	for (int i = 0; i < x->n; i++) {
		const struct sample *s = &x->samples[i];
		char family[96];
		snprintf(family, sizeof family, "%s", s->name);
		const char *suffixes[] = {"_bucket", "_sum", "_count"};
		bool histogram = false;
		for (int k = 0; k < 3 && !histogram; k++) {
			size_t fl = strlen(family), sl = strlen(suffixes[k]);
			if (fl > sl && strcmp(family + fl - sl, suffixes[k]) == 0) {
				char base[96];
				snprintf(base, sizeof base, "%.*s", (int)(fl - sl), family);
				if (has_type(x, base, "histogram")) {
					snprintf(family, sizeof family, "%s", base);
					histogram = true;
				}
			}
		}
		if (!histogram) {
			ck_assert_msg(has_type(x, family, "counter") ||
					      has_type(x, family, "gauge"),
				      "line %d: %s has no TYPE", s->line, s->name);
			continue;
		}
		/* Start of a histogram series: its first bucket. */
		if (strcmp(s->name + strlen(family), "_bucket") != 0 ||
		    (i > 0 && strcmp(x->samples[i - 1].name, s->name) == 0))
			continue;
		series++;
		double last_le = -INFINITY, last_count = 0;
		int j = i;
		for (; j < x->n && strcmp(x->samples[j].name, s->name) == 0; j++) {
			const char *le = label(&x->samples[j], "le");
			ck_assert_msg(le != NULL, "line %d: bucket without le", x->samples[j].line);
			double bound = strtod(le, NULL);
			ck_assert_msg(bound > last_le, "line %d: le not ascending",
				      x->samples[j].line);
			ck_assert_msg(x->samples[j].value >= last_count,
				      "line %d: cumulative count went down", x->samples[j].line);
			last_le = bound;
			last_count = x->samples[j].value;
		}
		ck_assert_msg(isinf(last_le) && last_le > 0, "line %d: %s has no +Inf bucket",
			      s->line, family);
		/* _sum and _count follow, with the same labels but le. */
		ck_assert_int_lt(j + 1, x->n);
		char want[112];
		snprintf(want, sizeof want, "%s_sum", family);
		ck_assert_str_eq(x->samples[j].name, want);
		snprintf(want, sizeof want, "%s_count", family);
		ck_assert_str_eq(x->samples[j + 1].name, want);
		ck_assert_msg(x->samples[j + 1].value == last_count,
			      "line %d: %s_count %g but +Inf bucket %g", x->samples[j + 1].line,
			      family, x->samples[j + 1].value, last_count);
		ck_assert_int_eq(x->samples[j].n_labels, s->n_labels - 1);
		ck_assert_int_eq(x->samples[j + 1].n_labels, s->n_labels - 1);
		for (int k = 0; k < s->n_labels; k++) {
			if (strcmp(s->label_names[k], "le") == 0)
				continue;
			const char *v = label(&x->samples[j], s->label_names[k]);
			ck_assert_msg(v && strcmp(v, s->label_values[k]) == 0,
				      "line %d: _sum labels differ from the buckets'",
				      x->samples[j].line);
		}
	}
	return series;
}

START_TEST (test_empty_metrics_render_every_family) {
	struct metrics m;
	memset(&m, 0, sizeof m);
	struct exposition *x = render(&m);

	ck_assert(has_type(x, "hotline_http_requests_total", "counter"));
	ck_assert(has_type(x, "hotline_call_events_total", "counter"));
	ck_assert(has_type(x, "hotline_http_request_duration_seconds", "histogram"));
	ck_assert(has_type(x, "hotline_commit_batch_events", "histogram"));
	ck_assert(has_type(x, "hotline_commit_batch_seconds", "histogram"));
	ck_assert(has_type(x, "hotline_commit_batches_failed_total", "counter"));
	ck_assert(has_type(x, "hotline_calls_in_progress", "gauge"));
	ck_assert(has_type(x, "hotline_postgres_up", "gauge"));
	ck_assert(has_type(x, "hotline_redis_up", "gauge"));
	/* One latency series per route, plus the two batch histograms. */
	ck_assert_int_eq(check_families(x), ROUTE_COUNT + 2);
	ck_assert(find_value(x, "hotline_http_request_duration_seconds_count",
			     "route=/v1/calls/events") == 0);
	ck_assert(find_value(x, "hotline_commit_batch_events_bucket", "le=+Inf") == 0);
	ck_assert(find_value(x, "hotline_commit_batches_failed_total", NULL) == 0);
	ck_assert(find_value(x, "hotline_postgres_up", NULL) == 0);
	free(x);
}
END_TEST

START_TEST (test_request_counters_by_route_and_status) {
	struct metrics m;
	memset(&m, 0, sizeof m);
	for (int i = 0; i < 3; i++)
		metrics_count_request(&m, ROUTE_EVENTS, 200, 0.003);
	metrics_count_request(&m, ROUTE_EVENTS, 400, 0.001);
	metrics_count_request(&m, ROUTE_EVENTS, 503, 0.001);
	metrics_count_request(&m, ROUTE_HEALTHZ, 200, 0.0001);
	metrics_count_request(&m, ROUTE_METRICS, 200, 0.0001);
	metrics_count_request(&m, ROUTE_OTHER, 404, 0.0001);
	struct exposition *x = render(&m);

	ck_assert(find_value(x, "hotline_http_requests_total", "route=/v1/calls/events",
			     "status=200") == 3);
	ck_assert(find_value(x, "hotline_http_requests_total", "route=/v1/calls/events",
			     "status=400") == 1);
	ck_assert(find_value(x, "hotline_http_requests_total", "route=/v1/calls/events",
			     "status=503") == 1);
	ck_assert(find_value(x, "hotline_http_requests_total", "route=/healthz", "status=200") ==
		  1);
	ck_assert(find_value(x, "hotline_http_requests_total", "route=/metrics", "status=200") ==
		  1);
	ck_assert(find_value(x, "hotline_http_requests_total", "route=other", "status=404") == 1);
	/* Statuses never seen are not rendered as zeros. */
	ck_assert(!has_sample(x, "hotline_http_requests_total", "status", "401"));
	ck_assert(!has_sample(x, "hotline_http_requests_total", "status", "other"));
	check_families(x);
	free(x);
}
END_TEST

START_TEST (test_unknown_status_goes_to_other) {
	struct metrics m;
	memset(&m, 0, sizeof m);
	metrics_count_request(&m, ROUTE_EVENTS, 418, 0.001);
	metrics_count_request(&m, ROUTE_EVENTS, 302, 0.001);
	metrics_count_request(&m, ROUTE_EVENTS, 0, 0.001);
	metrics_count_request(&m, ROUTE_HEALTHZ, 599, 0.001);
	metrics_count_request(&m, ROUTE_EVENTS, 409, 0.001);
	struct exposition *x = render(&m);

	ck_assert(find_value(x, "hotline_http_requests_total", "route=/v1/calls/events",
			     "status=other") == 3);
	ck_assert(find_value(x, "hotline_http_requests_total", "route=/healthz", "status=other") ==
		  1);
	ck_assert(find_value(x, "hotline_http_requests_total", "route=/v1/calls/events",
			     "status=409") == 1);
	ck_assert(!has_sample(x, "hotline_http_requests_total", "status", "418"));
	ck_assert(!has_sample(x, "hotline_http_requests_total", "status", "0"));
	/* "other" appears once per route, never split over several lines. */
	int lines = 0;
	for (int i = 0; i < x->n; i++) {
		const char *st = label(&x->samples[i], "status");
		const char *rt = label(&x->samples[i], "route");
		lines += st && rt && strcmp(st, "other") == 0 &&
			 strcmp(rt, "/v1/calls/events") == 0;
	}
	ck_assert_int_eq(lines, 1);
	free(x);
}
END_TEST

START_TEST (test_latency_histogram_is_cumulative) {
	struct metrics m;
	memset(&m, 0, sizeof m);
	/* Bounds are 0.0005 0.001 0.002 0.005 0.01 ... 5 10 seconds; a value on a
	 * bound counts in that bucket (le is "less than or equal"). */
	for (int i = 0; i < 3; i++)
		metrics_count_request(&m, ROUTE_EVENTS, 200, 0.003);
	metrics_count_request(&m, ROUTE_EVENTS, 200, 0.0005);
	metrics_count_request(&m, ROUTE_EVENTS, 200, 0.0);
	metrics_count_request(&m, ROUTE_EVENTS, 200, 0.15);
	metrics_count_request(&m, ROUTE_EVENTS, 504, 20.0);
	struct exposition *x = render(&m);
	const char *name = "hotline_http_request_duration_seconds_bucket";
	const char *route = "route=/v1/calls/events";

	ck_assert(find_value(x, name, route, "le=0.0005") == 2);
	ck_assert(find_value(x, name, route, "le=0.001") == 2);
	ck_assert(find_value(x, name, route, "le=0.002") == 2);
	ck_assert(find_value(x, name, route, "le=0.005") == 5);
	ck_assert(find_value(x, name, route, "le=0.1") == 5);
	ck_assert(find_value(x, name, route, "le=0.2") == 6);
	ck_assert(find_value(x, name, route, "le=10") == 6);
	ck_assert(find_value(x, name, route, "le=+Inf") == 7);
	ck_assert(find_value(x, "hotline_http_request_duration_seconds_count", route) == 7);
	double sum = find_value(x, "hotline_http_request_duration_seconds_sum", route);
	ck_assert_msg(fabs(sum - (3 * 0.003 + 0.0005 + 0.15 + 20.0)) < 1e-6, "sum %.9f", sum);

	/* The other routes saw nothing. */
	ck_assert(find_value(x, name, "route=/healthz", "le=+Inf") == 0);
	ck_assert_int_eq(check_families(x), ROUTE_COUNT + 2);
	free(x);
}
END_TEST

START_TEST (test_event_counters_by_type_and_result) {
	struct metrics m;
	memset(&m, 0, sizeof m);
	metrics_count_event(&m, EVENT_OFFERED, EVRES_ACCEPTED);
	metrics_count_event(&m, EVENT_OFFERED, EVRES_ACCEPTED);
	metrics_count_event(&m, EVENT_OFFERED, EVRES_REPLAYED);
	metrics_count_event(&m, EVENT_ENDED, EVRES_REJECTED);
	metrics_count_event(&m, EVENT_TYPE_COUNT, EVRES_REJECTED);
	metrics_count_event(&m, (enum event_type)(EVENT_TYPE_COUNT + 7), EVRES_REJECTED);
	struct exposition *x = render(&m);
	const char *name = "hotline_call_events_total";

	ck_assert(find_value(x, name, "type=call.offered", "result=accepted") == 2);
	ck_assert(find_value(x, name, "type=call.offered", "result=replayed") == 1);
	ck_assert(find_value(x, name, "type=call.ended", "result=rejected") == 1);
	ck_assert(find_value(x, name, "type=undecodable", "result=rejected") == 2);
	ck_assert(!has_sample(x, name, "type", "call.answered"));
	check_families(x);
	free(x);
}
END_TEST

START_TEST (test_batch_histograms_and_failures) {
	struct metrics m;
	memset(&m, 0, sizeof m);
	/* Size bounds are 1 2 4 ... 8192 events; seconds as for latency. */
	metrics_count_batch(&m, 1, 0.004, 1);
	metrics_count_batch(&m, 3, 0.02, 1);
	metrics_count_batch(&m, 4, 0.02, 1);
	metrics_count_batch(&m, 100, 0.3, 0);
	metrics_count_batch(&m, 10000, 12.0, 1);
	struct exposition *x = render(&m);
	const char *size = "hotline_commit_batch_events_bucket";
	const char *secs = "hotline_commit_batch_seconds_bucket";

	ck_assert(find_value(x, size, "le=1") == 1);
	ck_assert(find_value(x, size, "le=2") == 1);
	ck_assert(find_value(x, size, "le=4") == 3);
	ck_assert(find_value(x, size, "le=64") == 3);
	ck_assert(find_value(x, size, "le=128") == 4);
	ck_assert(find_value(x, size, "le=8192") == 4);
	ck_assert(find_value(x, size, "le=+Inf") == 5);
	ck_assert(find_value(x, "hotline_commit_batch_events_count", NULL) == 5);
	ck_assert(find_value(x, "hotline_commit_batch_events_sum", NULL) ==
		  1 + 3 + 4 + 100 + 10000);

	ck_assert(find_value(x, secs, "le=0.002") == 0);
	ck_assert(find_value(x, secs, "le=0.005") == 1);
	ck_assert(find_value(x, secs, "le=0.02") == 3);
	ck_assert(find_value(x, secs, "le=0.5") == 4);
	ck_assert(find_value(x, secs, "le=10") == 4);
	ck_assert(find_value(x, secs, "le=+Inf") == 5);
	ck_assert(find_value(x, "hotline_commit_batch_seconds_count", NULL) == 5);
	double sum = find_value(x, "hotline_commit_batch_seconds_sum", NULL);
	ck_assert_msg(fabs(sum - (0.004 + 0.02 + 0.02 + 0.3 + 12.0)) < 1e-6, "sum %.9f", sum);

	ck_assert(find_value(x, "hotline_commit_batches_failed_total", NULL) == 1);
	ck_assert_int_eq(check_families(x), ROUTE_COUNT + 2);
	free(x);
}
END_TEST

START_TEST (test_gauges_and_store_counters) {
	struct metrics m;
	memset(&m, 0, sizeof m);
	m.store_disconnects = 2;
	m.recoveries = 3;
	m.calls_in_progress = 1234;
	m.store_backlog = 56;
	m.store_up = 1;
	m.redis_up = 0;
	struct exposition *x = render(&m);

	ck_assert(find_value(x, "hotline_store_disconnects_total", NULL) == 2);
	ck_assert(find_value(x, "hotline_store_recoveries_total", NULL) == 3);
	ck_assert(find_value(x, "hotline_calls_in_progress", NULL) == 1234);
	ck_assert(find_value(x, "hotline_store_backlog", NULL) == 56);
	ck_assert(find_value(x, "hotline_postgres_up", NULL) == 1);
	ck_assert(find_value(x, "hotline_redis_up", NULL) == 0);
	check_families(x);
	free(x);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_test(tc, test_empty_metrics_render_every_family);
	tcase_add_test(tc, test_request_counters_by_route_and_status);
	tcase_add_test(tc, test_unknown_status_goes_to_other);
	tcase_add_test(tc, test_latency_histogram_is_cumulative);
	tcase_add_test(tc, test_event_counters_by_type_and_result);
	tcase_add_test(tc, test_batch_histograms_and_failures);
	tcase_add_test(tc, test_gauges_and_store_counters);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
