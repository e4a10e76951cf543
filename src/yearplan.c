/* yearplan.c: the generator, the local days and the rhythm that the call plan
 * (replay.c) and the bookings plan (bookplan.c) share, so that bookings
 * follow the same day and week as the calls. */
#include "yearplan.h"

#include "timeutil.h"

/* Relative call volume by local hour: two peaks, 9-11 and 14-16, quiet nights. */
static const int64_t yearplan_hour_weekday[24] = {
	4,  3,  2,   2,   2,   4,  10, 35, 95, 130, 135, 110,
	55, 80, 120, 120, 100, 60, 35, 28, 22, 16,  10,  6,
};
static const int64_t yearplan_hour_weekend[24] = {
	5, 3, 2, 2, 2, 3, 6, 18, 45, 70, 80, 72, 45, 55, 70, 70, 60, 42, 30, 26, 20, 14, 9, 6,
};
/* Relative call volume by ISO weekday (index 1 = Monday .. 7 = Sunday). */
static const int64_t yearplan_weekday_weights[8] = {0, 100, 96, 94, 93, 90, 58, 52};

static uint64_t yearplan_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void yearplan_rng_seed(struct yearplan_rng *g, uint64_t seed)
{
	uint64_t sm = seed;
	for (int i = 0; i < 4; i++)
		g->s[i] = yearplan_splitmix64(&sm);
}

static inline uint64_t yearplan_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t yearplan_rng_next(struct yearplan_rng *g)
{
	uint64_t *s = g->s;
	const uint64_t result = yearplan_rotl(s[1] * 5, 7) * 9;
	const uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = yearplan_rotl(s[3], 45);
	return result;
}

uint64_t yearplan_rng_below(struct yearplan_rng *g, uint64_t n)
{
	/* Values below 2^64 mod n would make the low residues more likely. */
	const uint64_t threshold = (0 - n) % n;
	for (;;) {
		uint64_t r = yearplan_rng_next(g);
		if (r >= threshold)
			return r % n;
	}
}

size_t yearplan_rng_weighted(struct yearplan_rng *g, const int64_t *weight, size_t n, int64_t total)
{
	int64_t r = (int64_t)yearplan_rng_below(g, (uint64_t)total);
	for (size_t i = 0; i < n; i++) {
		if (r < weight[i])
			return i;
		r -= weight[i];
	}
	return n - 1;
}

int64_t yearplan_weekday_weight(int weekday)
{
	return weekday >= 1 && weekday <= 7 ? yearplan_weekday_weights[weekday] : 0;
}

void yearplan_day_frame(int year, int d, struct yearplan_day *day)
{
	int minute, weekday;

	day->midnight = timeutil_local_midnight(year, 1, 1 + d);
	day->seconds =
		(timeutil_local_midnight(year, 1, 2 + d) - day->midnight) / YEARPLAN_USEC_PER_SEC;
	timeutil_local_clock(day->midnight, &minute, &weekday);
	const int64_t *hour_weight = weekday >= 6 ? yearplan_hour_weekend : yearplan_hour_weekday;
	day->n_hours = (int)((day->seconds + 3599) / 3600);
	if (day->n_hours > 25)
		day->n_hours = 25;
	if (day->n_hours < 1)
		day->n_hours = 1;
	for (int h = 0; h < day->n_hours; h++)
		day->cum[h] = (h > 0 ? day->cum[h - 1] : 0) + hour_weight[h < 24 ? h : 23];
}

/* Draws an hour by the rhythm, then a second in it, until the second falls
 * in [lo, hi): the bounds cut a day short only on the year's first and last. */
int64_t yearplan_sample_offset(struct yearplan_rng *g, const struct yearplan_day *day, int64_t lo,
			       int64_t hi)
{
	for (;;) {
		int64_t r = (int64_t)yearplan_rng_below(g, (uint64_t)day->cum[day->n_hours - 1]);
		int h = 0;
		while (day->cum[h] <= r)
			h++;
		int64_t s = (int64_t)h * 3600 + (int64_t)yearplan_rng_below(g, 3600);
		if (s >= lo && s < hi)
			return s;
	}
}
