/* yearplan.h: what the simulator's plans of a year share (replay.h for the
 * calls and work orders, bookplan.h for the bookings): a seeded generator of
 * integers, the local days of a year and the rhythm of a day and a week.
 *
 * Pure: no I/O, no clock; local days come from the zone set by the caller
 * (timeutil_set_zone). Every draw is an integer, so that a plan does not
 * depend on libm or on the platform's floating point.
 */
#ifndef HOTLINE_YEARPLAN_H
#define HOTLINE_YEARPLAN_H

#include <stddef.h>
#include <stdint.h>

#define YEARPLAN_USEC_PER_SEC INT64_C(1000000)

/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. */
struct yearplan_rng {
	uint64_t s[4];
};

void yearplan_rng_seed(struct yearplan_rng *g, uint64_t seed);
uint64_t yearplan_rng_next(struct yearplan_rng *g);
/* Uniform in [0, n) without modulo bias; n > 0. */
uint64_t yearplan_rng_below(struct yearplan_rng *g, uint64_t n);
/* Index drawn with probability weight[i] / total; total > 0 and the sum of
 * the n weights. */
size_t yearplan_rng_weighted(struct yearplan_rng *g, const int64_t *weight, size_t n,
			     int64_t total);

/* Relative volume of a local day by its ISO weekday (1 = Monday .. 7). */
int64_t yearplan_weekday_weight(int weekday);

/* A local day: its bounds, and its hours' weights by the daily rhythm of its
 * weekday (two peaks, 9-11 and 14-16; weekends flatter), cumulated. A day has
 * 23 to 25 hours across a DST change. */
struct yearplan_day {
	int64_t midnight; /* usec */
	int64_t seconds;  /* its length */
	int64_t cum[25];
	int n_hours;
};

/* Local day d (0 = 1 January) of year. */
void yearplan_day_frame(int year, int d, struct yearplan_day *day);

/* Seconds after the day's midnight drawn by its hourly rhythm, in [lo, hi);
 * 0 <= lo < hi <= day->seconds. */
int64_t yearplan_sample_offset(struct yearplan_rng *g, const struct yearplan_day *day, int64_t lo,
			       int64_t hi);

#endif
