/* simorders.h: the simulator's 12345 platforms: they hand the plan's work
 * orders (replay.h) to the broker through POST /v1/workorders
 * (doc/workorders.md), each signed with its own platform's secret and named
 * in X-Hotline-Platform, a few at a time, on the caller's loop.
 *
 * Each platform has its own small pool of keep-alive connections (httpc.h),
 * since a pool signs with one secret. An order is formatted once and every
 * retry carries the same bytes, as simretry.h says (no answer, 5xx, 429):
 * the broker answers 201 for an order it takes in and 200 with
 * Idempotent-Replay for one it took in before. Any other answer (409 for
 * the same number with another body, 401 for a wrong secret, 422 for a date
 * the broker's calendar lacks) ends the run through hooks.failed after
 * saying what happened.
 */
#ifndef HOTLINE_SIMORDERS_H
#define HOTLINE_SIMORDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay.h"

struct event_base;
struct simorders;

/* A platform's secret: up to 256 characters (workorder.h's limit) and the NUL. */
#define SIMORDERS_SECRET_MAX 257

/* The secrets of --platform-secrets, by source; "" for a platform the file
 * does not name. */
struct simorders_secrets {
	char secret[REPLAY_ORDER_SOURCES][SIMORDERS_SECRET_MAX];
};

/* Reads a secrets file: one line per platform, "city_12345 SECRET" or
 * "province_12345 SECRET" (name and secret separated by spaces or tabs);
 * blank lines and lines starting with '#' are skipped. Returns 0, or -1
 * with "FILE:LINE: what is wrong" in err (never the secret itself): an
 * unknown platform, one named twice, a secret missing, too long or followed
 * by more words. */
int simorders_read_secrets(const char *path, struct simorders_secrets *out, char *err,
			   size_t err_len) __attribute__((warn_unused_result));

/* What the simulator is told. Each is called from the loop. */
struct simorders_hooks {
	/* Something fatal happened, already printed on stderr: stop the run. */
	void (*failed)(void *arg);
	/* Every planned order was taken in (not called when none is planned). */
	void (*finished)(void *arg);
	void *arg;
};

struct simorders_options {
	struct event_base *base;
	const char *url;           /* the broker */
	const struct replay *plan; /* must outlive the poster */
	/* Copied; every source with planned orders needs its secret. */
	const struct simorders_secrets *secrets;
	unsigned connections; /* per platform, and twice as many orders in flight */
	int timeout_ms;       /* per request */
	int retry_for_s;      /* how long one order may be retried */
	struct simorders_hooks hooks;
};

struct simorders_counts {
	size_t planned;
	uint64_t posted; /* taken in: created or replayed */
	uint64_t posted_by_source[REPLAY_ORDER_SOURCES];
	uint64_t created;  /* answered 201 */
	uint64_t replayed; /* answered 200 with Idempotent-Replay: true */
	uint64_t retries;
};

/* Builds the platforms' pools (no I/O yet). Returns NULL with the reason in
 * err: a source with orders and no secret ("--platform-secrets names no
 * secret for city_12345, and the profile plans 22 of its work orders"), a
 * bad URL, out of memory. */
struct simorders *simorders_new(const struct simorders_options *o, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* Starts posting the orders, in received order. */
void simorders_start(struct simorders *s);

/* True when every planned order was taken in (at once when none is). */
bool simorders_done(const struct simorders *s);

void simorders_counts(const struct simorders *s, struct simorders_counts *out);

/* Closes the connections (requests in flight are dropped without their
 * callbacks) and frees everything. Not from inside a hook. */
void simorders_free(struct simorders *s);

#endif
