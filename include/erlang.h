/* erlang.h: Erlang C staffing figures (pure: no I/O, no clock, no globals).
 *
 * The model (M/M/N): calls arrive at random at a steady rate, wait in one
 * queue with infinite patience (nobody abandons), and are served by N
 * identical agents whose handle times are exponential with mean aht_s.
 * Traffic is A = calls x aht_s / interval_s Erlangs. Real callers do hang
 * up, so Erlang C errs on the side of too many agents, which is the side a
 * staffing recommendation should err on.
 *
 * The probability of waiting, C(A, N), is computed from the Erlang B
 * recursion, which never forms A^N or N! and so neither overflows nor loses
 * precision for large groups (A in the thousands):
 *
 *   B(0) = 1,  B(n) = A B(n-1) / (n + A B(n-1)),
 *   C = N B(N) / (N - A (1 - B(N)))   for N > A,   C = 1 for N <= A.
 *
 * The formulas are Erlang's (1917) as any teletraffic text gives them (for
 * instance the ITU/ITC Teletraffic Engineering Handbook, which also gives
 * the recursion). Every function takes A >= 0 (finite, below
 * ERLANG_AGENTS_MAX) and N in [0, ERLANG_AGENTS_MAX]; figures are returned
 * as doubles and ERLANG_INVALID (-1) when an argument is outside its
 * domain. None returns NaN.
 *
 * The reference figures are Call Centre Helper's worked example ("Erlang C
 * Formula - Made Simple"): 100 calls in 30 minutes with a 180 s handle time
 * (A = 10) and 14 agents wait with probability 0.1741, 88.84% are answered
 * within 20 s, the mean wait is 7.84 s and occupancy 71.4%; 13 agents reach
 * only 79.56%, so 80/20 needs 14, and 20 with 30% shrinkage.
 */
#ifndef HOTLINE_ERLANG_H
#define HOTLINE_ERLANG_H

/* Returned for an argument outside its domain. */
#define ERLANG_INVALID (-1.0)

/* The largest group erlang_agents_needed searches, and the bound on traffic.
 * The recursion costs one step per agent, so a million is still fast. */
#define ERLANG_AGENTS_MAX 1000000

/* A = calls x aht_s / interval_s: the Erlangs offered by calls_per_interval
 * calls of mean handle time aht_s arriving over interval_s seconds.
 * calls >= 0, aht_s > 0, interval_s > 0, else ERLANG_INVALID. */
double erlang_traffic(double calls_per_interval, double interval_s, double aht_s);

/* C(A, N): the probability that a call waits at all. 1 when N <= A (the
 * queue grows without bound, so everybody waits; this includes N = 0),
 * 0 when A = 0 and N > 0. */
double erlang_c_probability_wait(double traffic_erlangs, int agents);

/* SL(T) = 1 - C exp(-(N - A) T / aht_s): the share of calls answered within
 * answer_within_s seconds. 0 when N <= A. aht_s > 0, answer_within_s >= 0. */
double erlang_service_level(double traffic_erlangs, int agents, double aht_s,
			    double answer_within_s);

/* ASA = C aht_s / (N - A): the mean wait over all calls, those answered at
 * once included. INFINITY when N <= A and A > 0 (the wait grows without
 * bound); 0 when A = 0 and N > 0. aht_s > 0. */
double erlang_asa(double traffic_erlangs, int agents, double aht_s);

/* A / N: the share of the agents' time spent handling calls, capped at 1
 * (an overloaded group is busy all the time). N >= 1. */
double erlang_occupancy(double traffic_erlangs, int agents);

/* ceil(agents / (1 - shrinkage)): the agents to schedule so that `agents`
 * are on the phones when the share `shrinkage` of scheduled time goes to
 * breaks, training, meetings and absence. shrinkage in [0, 1). A quotient
 * within 1e-9 (relative) above an integer counts as that integer, so that
 * 21 agents at 30% shrinkage need 30, not the 31 that 21 / (1 - 0.3) =
 * 30.000000000000004 would give. Returns the count, or -EINVAL; -ERANGE
 * when it would exceed ERLANG_AGENTS_MAX. */
int erlang_agents_scheduled(int agents, double shrinkage) __attribute__((warn_unused_result));

/* The agents to schedule for one interval: the smallest N > A whose
 * service level within answer_within_s reaches target_service_level and
 * whose occupancy A / N is at most max_occupancy, then raised for shrinkage
 * by erlang_agents_scheduled. N must exceed A even for a target of 0: a
 * smaller group never catches up with its queue. No calls need 0 agents.
 *
 *   calls_per_interval >= 0, interval_s > 0, aht_s > 0,
 *   target_service_level in [0, 1), answer_within_s >= 0,
 *   max_occupancy in (0, 1], shrinkage in [0, 1).
 *
 * Returns the count (>= 0), -EINVAL for an argument outside its range, or
 * -ERANGE when the traffic or the answer exceeds ERLANG_AGENTS_MAX. */
int erlang_agents_needed(double calls_per_interval, double interval_s, double aht_s,
			 double target_service_level, double answer_within_s, double max_occupancy,
			 double shrinkage) __attribute__((warn_unused_result));

#endif
