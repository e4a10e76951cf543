/* metrics.c: counters and fixed-bucket histograms, Prometheus text output. */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int metrics_statuses[METRICS_STATUS_SLOTS] = {200, 400, 401, 404, 405, 409, 413,
							   415, 422, 500, 503, 201, 0, 0};
static const char *const metrics_route_names[ROUTE_COUNT] = {
	"/v1/calls/events", "/healthz", "/metrics", "other", "/v1/agents", "/v1/gateway/commands",
	"/v1/centres", "/v1/workorders", "/v1/bookings"};
static const char *const metrics_result_names[EVRES_COUNT] = {"accepted", "replayed", "rejected"};
static const double metrics_latency_bounds[METRICS_LATENCY_BUCKETS] = {
	0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10};
static const double metrics_batch_bounds[METRICS_BATCH_BUCKETS] = {
	1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};

static void metrics_observe(struct metrics_histogram *h, const double *bounds, int n, double v)
{
	int i = 0;
	while (i < n && v > bounds[i])
		i++;
	h->counts[i]++; /* i == n is the +Inf bucket */
	h->count++;
	h->sum += v;
}

void metrics_count_request(struct metrics *m, enum metrics_route route, int status,
			   double seconds)
{
	int slot = METRICS_STATUS_SLOTS - 1; /* "other" */
	/* The spare slots hold 0: never match them, or status 0 would get an
	 * "other" line of its own beside the real one. */
	for (int i = 0; i < METRICS_STATUS_SLOTS; i++) {
		if (metrics_statuses[i] != 0 && metrics_statuses[i] == status) {
			slot = i;
			break;
		}
	}
	m->requests[route][slot]++;
	metrics_observe(&m->latency[route], metrics_latency_bounds, METRICS_LATENCY_BUCKETS,
			seconds);
}

void metrics_count_event(struct metrics *m, enum event_type type, enum metrics_event_result res)
{
	m->events[type <= EVENT_TYPE_COUNT ? type : EVENT_TYPE_COUNT][res]++;
}

void metrics_count_batch(struct metrics *m, size_t n_events, double seconds, int ok)
{
	metrics_observe(&m->batch_size, metrics_batch_bounds, METRICS_BATCH_BUCKETS,
			(double)n_events);
	metrics_observe(&m->batch_seconds, metrics_latency_bounds, METRICS_LATENCY_BUCKETS,
			seconds);
	if (!ok)
		m->batches_failed++;
}

static void metrics_write_histogram(FILE *f, const char *name, const char *labels,
				    const struct metrics_histogram *h, const double *bounds,
				    int n)
{
	uint64_t cumulative = 0;
	const char *sep = labels[0] ? "," : "";
	for (int i = 0; i < n; i++) {
		cumulative += h->counts[i];
		fprintf(f, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, bounds[i],
			(unsigned long long)cumulative);
	}
	cumulative += h->counts[n];
	fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
		(unsigned long long)cumulative);
	fprintf(f, "%s_sum{%s} %.6f\n", name, labels, h->sum);
	fprintf(f, "%s_count{%s} %llu\n", name, labels, (unsigned long long)h->count);
}

char *metrics_render(const struct metrics *m, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL)
		return NULL;

	fputs("# HELP hotline_http_requests_total HTTP requests by route and status.\n"
	      "# TYPE hotline_http_requests_total counter\n",
	      f);
	for (int r = 0; r < ROUTE_COUNT; r++)
		for (int s = 0; s < METRICS_STATUS_SLOTS; s++)
			if (m->requests[r][s] > 0) {
				char status[8];
				if (metrics_statuses[s])
					snprintf(status, sizeof status, "%d", metrics_statuses[s]);
				else
					snprintf(status, sizeof status, "other");
				fprintf(f, "hotline_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
					metrics_route_names[r], status,
					(unsigned long long)m->requests[r][s]);
			}

	fputs("# HELP hotline_call_events_total Gateway call events by type and result.\n"
	      "# TYPE hotline_call_events_total counter\n",
	      f);
	for (int t = 0; t <= EVENT_TYPE_COUNT; t++)
		for (int res = 0; res < EVRES_COUNT; res++)
			if (m->events[t][res] > 0)
				fprintf(f, "hotline_call_events_total{type=\"%s\",result=\"%s\"} %llu\n",
					t < EVENT_TYPE_COUNT ? event_type_name((enum event_type)t)
							     : "undecodable",
					metrics_result_names[res],
					(unsigned long long)m->events[t][res]);

	fputs("# HELP hotline_http_request_duration_seconds Time from request to answer.\n"
	      "# TYPE hotline_http_request_duration_seconds histogram\n",
	      f);
	for (int r = 0; r < ROUTE_COUNT; r++) {
		char labels[64];
		snprintf(labels, sizeof labels, "route=\"%s\"", metrics_route_names[r]);
		metrics_write_histogram(f, "hotline_http_request_duration_seconds", labels,
					&m->latency[r], metrics_latency_bounds,
					METRICS_LATENCY_BUCKETS);
	}
	fputs("# HELP hotline_commit_batch_events Events per group commit.\n"
	      "# TYPE hotline_commit_batch_events histogram\n",
	      f);
	metrics_write_histogram(f, "hotline_commit_batch_events", "", &m->batch_size,
				metrics_batch_bounds, METRICS_BATCH_BUCKETS);
	fputs("# HELP hotline_commit_batch_seconds Round trip of one group commit.\n"
	      "# TYPE hotline_commit_batch_seconds histogram\n",
	      f);
	metrics_write_histogram(f, "hotline_commit_batch_seconds", "", &m->batch_seconds,
				metrics_latency_bounds, METRICS_LATENCY_BUCKETS);
	fprintf(f,
		"# HELP hotline_commit_batches_failed_total Group commits that failed.\n"
		"# TYPE hotline_commit_batches_failed_total counter\n"
		"hotline_commit_batches_failed_total %llu\n"
		"# HELP hotline_store_disconnects_total PostgreSQL connections lost.\n"
		"# TYPE hotline_store_disconnects_total counter\n"
		"hotline_store_disconnects_total %llu\n"
		"# HELP hotline_store_recoveries_total State reloads from PostgreSQL.\n"
		"# TYPE hotline_store_recoveries_total counter\n"
		"hotline_store_recoveries_total %llu\n"
		"# HELP hotline_calls_in_progress Calls the broker holds in memory.\n"
		"# TYPE hotline_calls_in_progress gauge\n"
		"hotline_calls_in_progress %llu\n"
		"# HELP hotline_store_backlog Events queued or in flight to PostgreSQL.\n"
		"# TYPE hotline_store_backlog gauge\n"
		"hotline_store_backlog %llu\n"
		"# HELP hotline_postgres_up Whether the store is connected and recovered.\n"
		"# TYPE hotline_postgres_up gauge\n"
		"hotline_postgres_up %d\n"
		"# HELP hotline_redis_up Whether the Redis mirror is connected.\n"
		"# TYPE hotline_redis_up gauge\n"
		"hotline_redis_up %d\n"
		"# HELP hotline_acd_ring_timeouts_total Offers no agent answered within the ring time.\n"
		"# TYPE hotline_acd_ring_timeouts_total counter\n"
		"hotline_acd_ring_timeouts_total %llu\n"
		"# HELP hotline_acd_unrouted_answers_total Calls the gateway connected to an agent "
		"the ACD had not offered them to.\n"
		"# TYPE hotline_acd_unrouted_answers_total counter\n"
		"hotline_acd_unrouted_answers_total %llu\n"
		"# HELP hotline_agent_logins_total Agent logins by result.\n"
		"# TYPE hotline_agent_logins_total counter\n"
		"hotline_agent_logins_total{result=\"ok\"} %llu\n"
		"hotline_agent_logins_total{result=\"refused\"} %llu\n"
		"# HELP hotline_callbacks_created_total Callback tasks created.\n"
		"# TYPE hotline_callbacks_created_total counter\n"
		"hotline_callbacks_created_total %llu\n"
		"# HELP hotline_agents_logged_in Agents the ACD holds as logged in.\n"
		"# TYPE hotline_agents_logged_in gauge\n"
		"hotline_agents_logged_in %llu\n"
		"# HELP hotline_outbox_posts_total Posts of outbox rows to the 12345 platforms by "
		"result.\n"
		"# TYPE hotline_outbox_posts_total counter\n"
		"hotline_outbox_posts_total{result=\"delivered\"} %llu\n"
		"hotline_outbox_posts_total{result=\"retried\"} %llu\n"
		"hotline_outbox_posts_total{result=\"refused\"} %llu\n"
		"# HELP hotline_bookings_total Bookings posted to the API by result.\n"
		"# TYPE hotline_bookings_total counter\n"
		"hotline_bookings_total{result=\"created\"} %llu\n"
		"hotline_bookings_total{result=\"replayed\"} %llu\n"
		"hotline_bookings_total{result=\"refused\"} %llu\n"
		"# HELP hotline_stats_folds_total Folds of the statistics' deltas into their tables "
		"by result.\n"
		"# TYPE hotline_stats_folds_total counter\n"
		"hotline_stats_folds_total{result=\"committed\"} %llu\n"
		"hotline_stats_folds_total{result=\"failed\"} %llu\n"
		"# HELP hotline_stats_folded_rows_total Delta rows folded.\n"
		"# TYPE hotline_stats_folded_rows_total counter\n"
		"hotline_stats_folded_rows_total %llu\n",
		(unsigned long long)m->batches_failed, (unsigned long long)m->store_disconnects,
		(unsigned long long)m->recoveries, (unsigned long long)m->calls_in_progress,
		(unsigned long long)m->store_backlog, m->store_up, m->redis_up,
		(unsigned long long)m->acd_ring_timeouts, (unsigned long long)m->acd_unrouted_answers,
		(unsigned long long)m->logins_ok, (unsigned long long)m->logins_refused,
		(unsigned long long)m->callbacks_created, (unsigned long long)m->agents_logged_in,
		(unsigned long long)m->outbox_delivered, (unsigned long long)m->outbox_retried,
		(unsigned long long)m->outbox_failed, (unsigned long long)m->bookings_created,
		(unsigned long long)m->bookings_replayed, (unsigned long long)m->bookings_refused,
		(unsigned long long)m->stats_folds, (unsigned long long)m->stats_fold_failures,
		(unsigned long long)m->stats_folded_rows);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}
