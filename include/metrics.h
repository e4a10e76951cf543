/* metrics.h: the broker's counters and histograms, rendered in the
 * Prometheus text format for GET /metrics. Plain structs, no locking (one
 * loop), no I/O except rendering into a memory buffer. */
#ifndef HOTLINE_METRICS_H
#define HOTLINE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum metrics_route {
	ROUTE_EVENTS,
	ROUTE_HEALTHZ,
	ROUTE_METRICS,
	ROUTE_OTHER,
	ROUTE_AGENTS,  /* /v1/agents/... */
	ROUTE_GATEWAY, /* /v1/gateway/commands */
	ROUTE_CENTRES, /* /v1/centres/... (supervisors) */
	ROUTE_ORDERS,  /* /v1/workorders..., /v1/tickets... */
	ROUTE_BOOKINGS, /* /v1/bookings..., /v1/hospitals */
	ROUTE_COUNT
};

enum metrics_event_result { EVRES_ACCEPTED, EVRES_REPLAYED, EVRES_REJECTED, EVRES_COUNT };

#define METRICS_STATUS_SLOTS 14
#define METRICS_LATENCY_BUCKETS 14
#define METRICS_BATCH_BUCKETS 14

struct metrics_histogram {
	uint64_t counts[16]; /* per bucket, not cumulative */
	uint64_t count;
	double sum;
};

struct metrics {
	uint64_t requests[ROUTE_COUNT][METRICS_STATUS_SLOTS];
	uint64_t events[EVENT_TYPE_COUNT + 1][EVRES_COUNT]; /* + 1: undecodable */
	struct metrics_histogram latency[ROUTE_COUNT];      /* seconds */
	struct metrics_histogram batch_size;                /* events per commit */
	struct metrics_histogram batch_seconds;             /* commit round trip */
	uint64_t batches_failed;
	uint64_t store_disconnects;
	uint64_t recoveries;
	/* the ACD */
	uint64_t acd_ring_timeouts;    /* offers not answered in the ring time */
	uint64_t acd_unrouted_answers; /* calls the gateway connected without an offer */
	uint64_t logins_ok, logins_refused;
	uint64_t callbacks_created;
	uint64_t agents_logged_in; /* gauge */
	/* bookings made through the API: committed new, answered from the
	 * stored row (a retry), refused (4xx) */
	uint64_t bookings_created, bookings_replayed, bookings_refused;
	/* the outbox to the 12345 platforms (set before rendering) */
	uint64_t outbox_delivered, outbox_retried, outbox_failed;
	/* the statistics' fold (set before rendering) */
	uint64_t stats_folds, stats_fold_failures, stats_folded_rows;
	/* gauges, set by the broker before rendering */
	uint64_t calls_in_progress;
	uint64_t store_backlog;
	int store_up;
	int redis_up;
};

void metrics_count_request(struct metrics *m, enum metrics_route route, int status,
			   double seconds);
/* type may be EVENT_TYPE_COUNT when the body could not be decoded. */
void metrics_count_event(struct metrics *m, enum event_type type, enum metrics_event_result res);
void metrics_count_batch(struct metrics *m, size_t n_events, double seconds, int ok);

/* Renders everything; returns a malloc'ed NUL-terminated text or NULL. */
char *metrics_render(const struct metrics *m, size_t *len);

#endif
