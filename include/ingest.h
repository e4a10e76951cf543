/* ingest.h: what the broker does with a gateway call event.
 *
 * ingest_submit takes a raw request body and, through one of the paths
 * below, eventually calls reply exactly once:
 *   - rejected at once: malformed, unknown centre, illegal in the call's
 *     state, id conflict (4xx), or the store is not ready (503);
 *   - a retry of an event already committed: its stored answer (200, replay);
 *   - a retry of an event still being committed: the same answer as the
 *     first copy, when that commits;
 *   - accepted: the call's in-memory state advances at once (so the next
 *     event of the call is checked against it) and the answer is sent after
 *     the group commit that holds the event.
 * Memory holds the calls in progress and the ids of their events; a call
 * leaves memory when its final event is committed. An event for a call no
 * longer in memory is looked up in PostgreSQL.
 */
#ifndef HOTLINE_INGEST_H
#define HOTLINE_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "classifier.h"
#include "config.h"
#include "metrics.h"
#include "statsfold.h"

struct bookings;
struct event_base;
struct ingest;
struct orders;
struct queues_file;
struct router;
struct wo_config;

struct ingest_reply {
	int status;
	const char *body; /* JSON, valid only during the reply callback */
	size_t len;
	bool replay;         /* Idempotent-Replay: true */
	int retry_after_s;   /* > 0: send Retry-After */
};

/* Called exactly once per ingest_submit. */
typedef void (*ingest_reply_fn)(void *request, const struct ingest_reply *reply);

/* The classifier is borrowed (the caller keeps it alive until
 * ingest_set_config replaces it or ingest_free). */
/* qf (the ACD's queues) and wc (work-order deadlines and platforms) are
 * taken over, also when ingest_new fails. */
struct ingest *ingest_new(struct event_base *base, const struct config *cfg,
			  const struct classifier *cls, struct queues_file *qf,
			  struct wo_config *wc, struct metrics *metrics);
void ingest_start(struct ingest *in);

void ingest_submit(struct ingest *in, const char *body, size_t len, ingest_reply_fn reply,
		   void *request);

/* Applies a reloaded config's reloadable parts and a new classifier. */
void ingest_set_config(struct ingest *in, const struct config *cfg, const struct classifier *cls);

/* Re-reads the centre list from PostgreSQL (after hotline-admin centre add). */
void ingest_refresh_centres(struct ingest *in);

const char *ingest_store_state(const struct ingest *in);
bool ingest_store_ready(const struct ingest *in);
bool ingest_redis_up(const struct ingest *in);
size_t ingest_calls_in_progress(const struct ingest *in);
size_t ingest_store_backlog(const struct ingest *in);
/* The statistics' fold (statsfold.h). */
struct statsfold_counts ingest_statsfold_counts(const struct ingest *in);

/* The live ACD (agents' requests and streams go to it). */
struct router *ingest_router(struct ingest *in);
/* Work orders and tickets. */
struct orders *ingest_orders(struct ingest *in);
/* Appointment bookings and the hospitals they name. */
struct bookings *ingest_bookings(struct ingest *in);
/* Ends the gateway's and agents' streams (shutdown). */
void ingest_close_streams(struct ingest *in);

void ingest_free(struct ingest *in);

#endif
