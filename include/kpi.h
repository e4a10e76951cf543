/* kpi.h: service KPI formulas over plain call and agent-time facts (pure:
 * no I/O, no clock, no globals).
 *
 * The caller (an export) feeds the finished calls and the agents' time of
 * one cell (a category, queue, day, hour or agent) into a struct kpi_totals
 * and asks for the figures; cells merge, so a year is the sum of its days.
 *
 * Which call counts where. A call fed here entered a queue and has ended:
 *   answered        answered_at != 0: an agent took it;
 *   abandoned       the caller hung up while waiting, after waiting at least
 *                   the short-abandon threshold;
 *   short abandon   the caller hung up while waiting, sooner than that
 *                   threshold (a wrong number, a caller who heard the
 *                   greeting and knew enough): counted apart, in neither
 *                   offered nor abandoned;
 *   overflowed      neither: it left the queue for an overflow target (a
 *                   callback offer, the IVR, another queue, where it is
 *                   offered again). Counted apart, not offered here.
 *   offered = answered + abandoned.
 * "Within T" means a queue wait of at most T seconds, as in Asterisk's
 * app_queue, whose service-level counters take a call whose hold time is
 * less than or equal to the queue's `servicelevel`.
 *
 * The figures (KPI_UNDEFINED, -1, whenever the denominator is zero; never
 * NaN, never a division by zero):
 *   ASA        sum of queue waits of answered calls / answered;
 *   AHT        (talk + hold + wrap-up of answered calls) / answered
 *              (handled calls are the answered ones);
 *   occupancy  agents' busy time (talk + hold + wrap-up) / logged-in time;
 *   service level, a fraction in [0, 1], by the configured variant:
 *     KPI_SL_ANSWERED_BASED  answered within T / answered. Asterisk's
 *        ServicelevelPerf (the QueueParams manager event and the
 *        QUEUE_VARIABLES dialplan function of app_queue) is this figure.
 *     KPI_SL_OFFERED_BASED   answered within T / (answered + abandoned):
 *        abandons after the short threshold count against the centre, the
 *        usual reading of "80% of calls answered in 20 s" in call-centre
 *        practice.
 *     KPI_SL_SL2             (answered within T + abandoned within T) /
 *        offered: Asterisk's ServicelevelPerf2 (same event and function),
 *        which credits the centre for callers who gave up before T. app_queue
 *        divides by its completed plus abandoned calls and knows no short
 *        abandons; here short abandons are left out of both sides, so with
 *        a threshold of 0 the figure is app_queue's.
 */
#ifndef HOTLINE_KPI_H
#define HOTLINE_KPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Any figure whose denominator is zero (no answered call, no offered call,
 * no logged-in time). A real figure is never negative. */
#define KPI_UNDEFINED (-1.0)

/* The largest threshold the definitions accept, in seconds (an hour). */
#define KPI_THRESHOLD_MAX_S 3600

enum kpi_service_level_variant {
	KPI_SL_ANSWERED_BASED,
	KPI_SL_OFFERED_BASED,
	KPI_SL_SL2,
	KPI_SL_VARIANT_COUNT
};

/* What the figures mean; the config fills it, every export prints it
 * (kpi_describe). */
struct kpi_definitions {
	int short_abandon_s; /* abandons after a wait shorter than this are short; 0: none */
	int service_level_s; /* T: answered (or abandoned) within T seconds */
	enum kpi_service_level_variant variant;
};

/* One finished call that entered a queue. Times are microseconds since the
 * epoch, like the rest of hotline; durations are seconds. */
struct kpi_call {
	int64_t offered_at;
	int64_t answered_at; /* 0 when no agent answered */
	int64_t ended_at;    /* when the call ended (or the caller hung up); never 0 */
	bool abandoned;      /* the caller hung up while waiting in the queue */
	double wait_s;       /* time in the queue before the answer, the hang-up or the overflow */
	double talk_s;       /* talk, hold and wrap-up: 0 on a call no agent answered */
	double hold_s;
	double wrap_up_s;
};

/* One agent's time in the cell, in seconds. */
struct kpi_agent_time {
	double logged_in_s;
	double busy_s; /* talk + hold + wrap-up; at most logged_in_s */
};

/* Sums, sorted by the thresholds they were started with. Plain data: the
 * store may keep them and add them up. */
struct kpi_totals {
	int short_abandon_s;
	int service_level_s;
	uint64_t answered;
	uint64_t answered_within_sl;
	uint64_t abandoned; /* short abandons not included */
	uint64_t abandoned_within_sl;
	uint64_t short_abandons;
	uint64_t overflowed;
	double answered_wait_s;
	double handle_s; /* talk + hold + wrap-up of answered calls */
	double logged_in_s;
	double busy_s;
};

struct kpi_result {
	uint64_t offered;
	uint64_t answered;
	uint64_t abandoned;
	uint64_t short_abandons;
	uint64_t overflowed;
	uint64_t answered_within_sl;
	uint64_t abandoned_within_sl;
	double asa_s;         /* or KPI_UNDEFINED */
	double service_level; /* in [0, 1], or KPI_UNDEFINED */
	double aht_s;         /* or KPI_UNDEFINED */
	double occupancy;     /* in [0, 1], or KPI_UNDEFINED */
};

/* "answered_based", "offered_based", "sl2" (the config's spelling). */
const char *kpi_variant_name(enum kpi_service_level_variant v);
int kpi_variant_from_name(const char *name, enum kpi_service_level_variant *out)
	__attribute__((warn_unused_result));

/* 0 when both thresholds are in [0, KPI_THRESHOLD_MAX_S] and the variant is
 * known, else -EINVAL. */
int kpi_definitions_check(const struct kpi_definitions *d) __attribute__((warn_unused_result));

/* Empties t and records d's thresholds, by which every call added is sorted.
 * Returns 0, or -EINVAL when d fails kpi_definitions_check. */
int kpi_totals_init(struct kpi_totals *t, const struct kpi_definitions *d)
	__attribute__((warn_unused_result));

/* Adds one call. Returns 0, or -EINVAL (t unchanged) when the facts
 * contradict each other: answered and abandoned; ended_at 0 (in progress);
 * times out of order (offered <= answered <= ended); a duration negative or
 * not finite; a wait longer than the time from offer to answer (or to end);
 * talk, hold or wrap-up on a call no agent answered. */
int kpi_add_call(struct kpi_totals *t, const struct kpi_call *c)
	__attribute__((warn_unused_result));

/* Adds one agent's time. Returns 0, or -EINVAL (t unchanged) for a negative
 * or non-finite time, or busy time beyond logged-in time. */
int kpi_add_agent_time(struct kpi_totals *t, const struct kpi_agent_time *a)
	__attribute__((warn_unused_result));

/* into += from. Returns 0, or -EINVAL (into unchanged) when their
 * thresholds differ: their calls were sorted by different rules. */
int kpi_totals_merge(struct kpi_totals *into, const struct kpi_totals *from)
	__attribute__((warn_unused_result));

/* The figures of t under d. d's thresholds must be those t was started
 * with; its variant may be any (the sums serve all three). Returns 0, or
 * -EINVAL (out untouched) when d is invalid or its thresholds differ. */
int kpi_compute(const struct kpi_totals *t, const struct kpi_definitions *d, struct kpi_result *out)
	__attribute__((warn_unused_result));

/* Writes into buf one paragraph of plain English saying what d's figures
 * mean (thresholds, variant, ASA, AHT, occupancy, undefined figures), for
 * an export to print above its table. Returns 0, -EINVAL for an invalid d,
 * or -ENOSPC when len is too small (buf then holds as much as fits, NUL-
 * terminated, when len > 0). KPI_DESCRIBE_MAX always suffices. */
#define KPI_DESCRIBE_MAX 1024
int kpi_describe(const struct kpi_definitions *d, char *buf, size_t len)
	__attribute__((warn_unused_result));

#endif
