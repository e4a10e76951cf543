/* simretry.h: the simulator's retry policy, the same for a call's events and
 * an agent's requests: an answer that did not come (connection refused,
 * timeout), a 5xx or a 429 is tried again with the same body, after
 * Retry-After when the broker gives one, else 50 ms doubling up to 2 s, for
 * at most a budget of seconds since the request first failed. Every other
 * answer is the caller's to judge.
 *
 * Pure but for simretry_now_usec, which reads the monotonic clock.
 */
#ifndef HOTLINE_SIMRETRY_H
#define HOTLINE_SIMRETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httpc.h"

#define SIMRETRY_FIRST_MS 50
#define SIMRETRY_MAX_MS 2000

/* The failures of one request; zeroed (simretry_reset) when it succeeds. */
struct simretry {
	unsigned failures;          /* failed attempts so far */
	int64_t first_failure_usec; /* monotonic; 0 while it has not failed */
};

/* The monotonic clock in microseconds. */
int64_t simretry_now_usec(void);

/* True for the answers worth trying again: none at all, 5xx, 429. */
bool simretry_retryable(const struct httpc_response *r);

/* Counts a retryable failure at now_usec and returns how long to wait before
 * the next attempt, in ms, or -1 when the request has been failing for
 * budget_s seconds already. */
int64_t simretry_delay_ms(struct simretry *t, const struct httpc_response *r, int budget_s,
			  int64_t now_usec);

void simretry_reset(struct simretry *t);

/* "HTTP 503" or the transport failure ("connection failed", "timeout"). */
void simretry_describe(const struct httpc_response *r, char *out, size_t out_len);

/* At most max bytes of the answer's body, for a message: its length for
 * "%.*s" (the body itself is r->body). */
int simretry_body_len(const struct httpc_response *r, size_t max);

#endif
