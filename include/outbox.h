/* outbox.h: the broker's dispatcher that delivers outbox rows to the 12345
 * platforms, exactly once in effect.
 *
 * Every change a platform must learn is a row of the outbox table, written in
 * the transaction that made the change. The dispatcher POSTs each row's JSON
 * payload to its platform's url with "Idempotency-Key: <key>", signed with
 * the platform's secret as the gateway signs (auth.h: X-Hotline-Timestamp and
 * X-Hotline-Signature over "<ts>." + body), and retries until a 2xx:
 *
 *   2xx                      delivered;
 *   4xx but 408 and 429      refused for good: the row fails, never retried;
 *   anything else, timeouts, retried after a backoff that starts at
 *   refused connections      backoff_min and doubles per attempt up to
 *                            backoff_max (a longer Retry-After is honoured,
 *                            up to backoff_max).
 *
 * At least once, deduplicated by the platform: a broker killed after a POST
 * and before it recorded the delivery posts the row again after a restart,
 * with the same key, and the platform ignores the repeat.
 *
 * The dispatcher does no SQL: a source (the store, or a test's array) hands it
 * the rows due and records their outcomes, through the callbacks below. Rows
 * stay "in flight" from the moment they are fetched until their outcome is
 * durable, and a row in flight is never posted again, even when a fetch that
 * overlapped its recording returns it once more.
 *
 * Runs on the caller's libevent loop; nothing blocks but resolving the
 * platforms' host names once in outbox_new.
 */
#ifndef HOTLINE_OUTBOX_H
#define HOTLINE_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct outbox;

/* One row as the source hands it over; outbox_rows copies the strings. */
struct outbox_row {
	int64_t id;
	const char *platform; /* an outbox_platform's name */
	const char *key;      /* the Idempotency-Key */
	const char *payload;  /* the JSON body */
	int attempts;         /* attempts recorded before this one */
};

/* The rows' keeper: the outbox table, or a test's array. Contract:
 *
 * fetch(arg, limit): return up to limit undelivered rows that are due (their
 *   next attempt time has come), by calling outbox_rows exactly once, at once
 *   or later; an empty answer (n = 0) on any failure. Never more than one
 *   fetch is outstanding. Rows still in flight may come back: they are
 *   ignored.
 *
 * record(arg, id, delivered, permanent, next_attempt_at, error): store one
 *   attempt's outcome, counting the attempt (attempts + 1):
 *     delivered            next_attempt_at 0, error NULL;
 *     permanent refusal    delivered false, permanent true, next_attempt_at 0
 *                          (never again), error "HTTP 400: <body excerpt>";
 *     to be retried        delivered and permanent false, next_attempt_at in
 *                          microseconds since the epoch, error saying why
 *                          ("HTTP 503: ...", "timeout", "connection failed").
 *   Then call outbox_recorded(o, id) exactly once, at once or later: when the
 *   outcome is durable, and also when it will not be (the row then stays due
 *   and is posted again, harmlessly, under the same key). Until then the row
 *   is in flight.
 *
 * The dispatcher calls fetch and record only from loop callbacks, never from
 * inside outbox_rows, outbox_recorded or outbox_kick. The source must not
 * call outbox_free from inside fetch or record. */
struct outbox_source {
	void (*fetch)(void *arg, size_t limit);
	void (*record)(void *arg, int64_t id, bool delivered, bool permanent,
		       int64_t next_attempt_at, const char *error);
	void *arg;
};

/* A platform rows are posted to: url "http://host[:port][/path]" (the POST
 * goes to that path, "/" when none). All three are copied. */
struct outbox_platform {
	const char *name;
	const char *url;
	const char *secret;
};

/* A zero field takes the default in brackets. */
struct outbox_limits {
	size_t max_in_flight;   /* rows fetched and not yet recorded [64] */
	unsigned connections;   /* keep-alive connections per platform [8] */
	int request_timeout_ms; /* connect, send and wait for the answer [10000] */
	int poll_interval_ms;   /* fetch at least this often, for rows a crash
				 * left or whose retry came due [2000] */
	int backoff_min_ms;     /* the first retry's delay [1000] */
	int backoff_max_ms;     /* the longest delay [300000] */
};

/* Counts since outbox_new, for /metrics. */
struct outbox_stats {
	uint64_t delivered; /* rows a platform acknowledged with 2xx */
	uint64_t retried;   /* attempts that failed and will be retried */
	uint64_t failed;    /* rows refused for good */
	uint64_t fetches;   /* fetches asked of the source */
	size_t in_flight;   /* rows fetched and not yet recorded, now */
};

/* How an attempt's answer is taken, by HTTP status (0: no answer at all). */
enum outbox_verdict {
	OUTBOX_DELIVERED, /* 2xx */
	OUTBOX_RETRY,     /* no answer, 408, 429, 5xx, anything unexpected */
	OUTBOX_REFUSED,   /* every other 4xx: permanent */
};

/* The verdict on an answer with this status. */
enum outbox_verdict outbox_classify_status(int status);

/* The delay in microseconds before retrying a row that has now failed
 * attempts times (1 for the first failure): backoff_min doubled attempts - 1
 * times, at most backoff_max; retry_after_s (-1: none) raises it, still at
 * most backoff_max. limits may be NULL (the defaults). */
int64_t outbox_backoff_usec(const struct outbox_limits *limits, int attempts, int retry_after_s);

/* A dispatcher for platforms (n of them; copied) fed by src (copied; src->arg
 * is kept). limits may be NULL. The first fetch happens from the next loop
 * pass. Returns NULL, having logged why, for a platform url that is not
 * http://host[:port][/path], negative limits, backoff_min above backoff_max,
 * or no memory. */
struct outbox *outbox_new(struct event_base *base, const struct outbox_platform *platforms,
			  size_t n, const struct outbox_source *src,
			  const struct outbox_limits *limits) __attribute__((warn_unused_result));

/* The source's answer to a fetch: rows (n of them; NULL when n is 0) are
 * copied and posted, but for those already in flight and any beyond the
 * fetch's limit. */
void outbox_rows(struct outbox *o, const struct outbox_row *rows, size_t n);

/* The source's word that the outcome of row id was recorded (see
 * outbox_source). An id not awaiting its record is ignored. */
void outbox_recorded(struct outbox *o, int64_t id);

/* New rows were committed: fetch from the next loop pass, or right after the
 * fetch outstanding. Kicks are coalesced. */
void outbox_kick(struct outbox *o);

/* The counts so far. */
struct outbox_stats outbox_get_stats(const struct outbox *o);

/* Drops the requests in flight (their rows stay due in the source and are
 * posted again by the next dispatcher) and frees everything. No callback
 * follows; the source must not call outbox_rows or outbox_recorded for this
 * dispatcher afterwards. Must not be called from inside a source callback. */
void outbox_free(struct outbox *o);

#endif
