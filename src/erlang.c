/* erlang.c: Erlang C staffing figures (see erlang.h).
 *
 * Everything is computed in long double and returned as double. The Erlang
 * B recursion keeps every intermediate value in [0, 1], so it is stable for
 * any group size; the search in erlang_agents_needed carries B(n) from one
 * group size to the next, which gives bit for bit the values the public
 * functions compute from scratch, so a test that checks the answer with
 * erlang_service_level sees exactly what the search saw.
 */
#include "erlang.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>

/* A quotient this close (relative) above an integer counts as that integer. */
#define SCHEDULED_SLACK 1e-9L

static bool traffic_ok(double a)
{
	return isfinite(a) && a >= 0 && a < ERLANG_AGENTS_MAX;
}

static bool agents_ok(int n)
{
	return n >= 0 && n <= ERLANG_AGENTS_MAX;
}

/* B(n) from B(n - 1): one step of the Erlang B recursion. */
static long double erlang_b_step(long double a, int n, long double b_prev)
{
	long double ab = a * b_prev;
	return ab / ((long double)n + ab);
}

static long double erlang_b(long double a, int n)
{
	long double b = 1.0L;
	for (int i = 1; i <= n; i++)
		b = erlang_b_step(a, i, b);
	return b;
}

/* C(A, N) from B(N); N > A. The denominator is N - A + A B >= N - A > 0,
 * and C <= 1 because B <= 1. */
static long double erlang_c_from_b(long double a, int n, long double b)
{
	return (long double)n * b / ((long double)n - a * (1.0L - b));
}

static long double erlang_c(long double a, int n)
{
	if ((long double)n <= a)
		return 1.0L;
	return erlang_c_from_b(a, n, erlang_b(a, n));
}

/* 1 - C exp(-(N - A) T / aht), for N > A; never below 0. */
static long double service_level_from_c(long double a, int n, long double c, long double aht_s,
					long double t_s)
{
	long double sl = 1.0L - c * expl(-((long double)n - a) * t_s / aht_s);
	return sl < 0.0L ? 0.0L : sl;
}

double erlang_traffic(double calls_per_interval, double interval_s, double aht_s)
{
	if (!isfinite(calls_per_interval) || calls_per_interval < 0 || !isfinite(interval_s) ||
	    interval_s <= 0 || !isfinite(aht_s) || aht_s <= 0)
		return ERLANG_INVALID;
	return (double)((long double)calls_per_interval * aht_s / interval_s);
}

double erlang_c_probability_wait(double traffic_erlangs, int agents)
{
	if (!traffic_ok(traffic_erlangs) || !agents_ok(agents))
		return ERLANG_INVALID;
	return (double)erlang_c(traffic_erlangs, agents);
}

double erlang_service_level(double traffic_erlangs, int agents, double aht_s,
			    double answer_within_s)
{
	if (!traffic_ok(traffic_erlangs) || !agents_ok(agents) || !isfinite(aht_s) || aht_s <= 0 ||
	    !isfinite(answer_within_s) || answer_within_s < 0)
		return ERLANG_INVALID;
	if ((double)agents <= traffic_erlangs)
		return 0.0;
	long double c = erlang_c(traffic_erlangs, agents);
	return (double)service_level_from_c(traffic_erlangs, agents, c, aht_s, answer_within_s);
}

double erlang_asa(double traffic_erlangs, int agents, double aht_s)
{
	if (!traffic_ok(traffic_erlangs) || !agents_ok(agents) || !isfinite(aht_s) || aht_s <= 0)
		return ERLANG_INVALID;
	if ((double)agents <= traffic_erlangs)
		return traffic_erlangs > 0 ? INFINITY : 0.0;
	long double a = traffic_erlangs;
	return (double)(erlang_c(a, agents) * aht_s / ((long double)agents - a));
}

double erlang_occupancy(double traffic_erlangs, int agents)
{
	if (!traffic_ok(traffic_erlangs) || !agents_ok(agents) || agents < 1)
		return ERLANG_INVALID;
	double occupancy = traffic_erlangs / agents;
	return occupancy > 1.0 ? 1.0 : occupancy;
}

int erlang_agents_scheduled(int agents, double shrinkage)
{
	if (!agents_ok(agents) || !isfinite(shrinkage) || shrinkage < 0 || shrinkage >= 1)
		return -EINVAL;
	long double quotient = (long double)agents / (1.0L - (long double)shrinkage);
	long double scheduled = ceill(quotient - quotient * SCHEDULED_SLACK);
	if (scheduled < agents) /* the slack never takes a count below the on-phone one */
		scheduled = agents;
	if (scheduled > ERLANG_AGENTS_MAX)
		return -ERANGE;
	return (int)scheduled;
}

/* The search: start at the smallest integer above A and walk up, carrying
 * B(n); service level rises and occupancy falls with every agent, so the
 * first group meeting both is the smallest. */
int erlang_agents_needed(double calls_per_interval, double interval_s, double aht_s,
			 double target_service_level, double answer_within_s, double max_occupancy,
			 double shrinkage)
{
	if (!isfinite(target_service_level) || target_service_level < 0 ||
	    target_service_level >= 1 || !isfinite(answer_within_s) || answer_within_s < 0 ||
	    !isfinite(max_occupancy) || max_occupancy <= 0 || max_occupancy > 1 ||
	    !isfinite(shrinkage) || shrinkage < 0 || shrinkage >= 1)
		return -EINVAL;
	double traffic = erlang_traffic(calls_per_interval, interval_s, aht_s);
	if (traffic == ERLANG_INVALID)
		return -EINVAL;
	if (!isfinite(traffic) || traffic >= ERLANG_AGENTS_MAX)
		return -ERANGE;
	if (traffic == 0)
		return 0;

	long double a = traffic;
	long double first = floorl(a) + 1.0L;
	if (first > ERLANG_AGENTS_MAX)
		return -ERANGE;
	int n = (int)first;
	long double b = erlang_b(a, n);
	for (;;) {
		long double c = erlang_c_from_b(a, n, b);
		long double sl = service_level_from_c(a, n, c, aht_s, answer_within_s);
		/* Compared as the public functions return them, so that
		 * erlang_service_level and erlang_occupancy agree with the answer. */
		if ((double)sl >= target_service_level && traffic / n <= max_occupancy)
			break;
		if (n == ERLANG_AGENTS_MAX)
			return -ERANGE;
		n++;
		b = erlang_b_step(a, n, b);
	}
	return erlang_agents_scheduled(n, shrinkage);
}
