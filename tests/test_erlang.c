/* test_erlang.c: Erlang C staffing (erlang.h): the published example to its
 * printed precision, a case worked by hand, overloaded groups, monotonicity
 * in the number of agents, large groups against an independent log-space
 * sum, the staffing search (smallest group, occupancy cap, shrinkage, no
 * calls) and the refusal of arguments outside their domain. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "erlang.h"

/* The published example: 100 calls in 30 minutes, 180 s handle time,
 * answer within 20 s. */
#define VECTOR_CALLS 100.0
#define VECTOR_INTERVAL_S 1800.0
#define VECTOR_AHT_S 180.0
#define VECTOR_T_S 20.0

#define assert_near(x, expected, tolerance)                                                        \
	ck_assert_msg(fabs((x) - (expected)) < (tolerance), "%s = %.10f, expected %.10f +- %g",    \
		      #x, (double)(x), (double)(expected), (double)(tolerance))

START_TEST (test_the_published_vector_gives_the_published_figures) {
	double a = erlang_traffic(VECTOR_CALLS, VECTOR_INTERVAL_S, VECTOR_AHT_S);
	assert_near(a, 10.0, 1e-12); /* 100 x 180 / 1800 */

	/* Printed as 0.1741, 0.8884, 7.84 s and 0.714: each is checked to
	 * half a unit of its last printed digit. */
	assert_near(erlang_c_probability_wait(a, 14), 0.1741, 0.00005);
	assert_near(erlang_service_level(a, 14, VECTOR_AHT_S, VECTOR_T_S), 0.8884, 0.00005);
	assert_near(erlang_asa(a, 14, VECTOR_AHT_S), 7.84, 0.005);
	assert_near(erlang_occupancy(a, 14), 0.714, 0.0005);
}
END_TEST

START_TEST (test_a_small_group_matches_the_figures_worked_by_hand) {
	/* A = 1, N = 2:
	 *   B(1) = 1 x 1 / (1 + 1)     = 1/2
	 *   B(2) = 1 x 1/2 / (2 + 1/2) = 1/5
	 *   C    = 2 x 1/5 / (2 - 1 x (1 - 1/5)) = (2/5) / (6/5) = 1/3
	 * With a 60 s handle time:
	 *   SL(0 s)  = 1 - 1/3                    = 2/3
	 *   SL(60 s) = 1 - 1/3 exp(-(2 - 1) 60/60) = 1 - exp(-1)/3
	 *   ASA      = 1/3 x 60 / (2 - 1)         = 20 s
	 *   occupancy = 1/2 */
	assert_near(erlang_c_probability_wait(1.0, 2), 1.0 / 3.0, 1e-15);
	assert_near(erlang_service_level(1.0, 2, 60.0, 0.0), 2.0 / 3.0, 1e-15);
	assert_near(erlang_service_level(1.0, 2, 60.0, 60.0), 1.0 - exp(-1.0) / 3.0, 1e-15);
	assert_near(erlang_asa(1.0, 2, 60.0), 20.0, 1e-12);
	assert_near(erlang_occupancy(1.0, 2), 0.5, 1e-15);
}
END_TEST

START_TEST (test_no_more_agents_than_traffic_means_everybody_waits) {
	for (int n = 0; n <= 10; n++) {
		ck_assert(erlang_c_probability_wait(10.0, n) == 1.0);
		ck_assert(erlang_service_level(10.0, n, VECTOR_AHT_S, VECTOR_T_S) == 0.0);
		ck_assert(isinf(erlang_asa(10.0, n, VECTOR_AHT_S)));
	}
	ck_assert(erlang_c_probability_wait(10.5, 10) == 1.0);
	ck_assert(erlang_c_probability_wait(10.5, 11) < 1.0);
	/* An overloaded group is busy all the time, not more. */
	ck_assert(erlang_occupancy(10.0, 10) == 1.0);
	ck_assert(erlang_occupancy(10.0, 4) == 1.0);
}
END_TEST

START_TEST (test_no_traffic_never_waits) {
	for (int n = 1; n <= 5; n++) {
		ck_assert(erlang_c_probability_wait(0.0, n) == 0.0);
		ck_assert(erlang_service_level(0.0, n, VECTOR_AHT_S, 0.0) == 1.0);
		ck_assert(erlang_asa(0.0, n, VECTOR_AHT_S) == 0.0);
		ck_assert(erlang_occupancy(0.0, n) == 0.0);
	}
	ck_assert(erlang_traffic(0.0, VECTOR_INTERVAL_S, VECTOR_AHT_S) == 0.0);
}
END_TEST

START_TEST (test_more_agents_never_worsen_any_figure) {
	static const double traffics[] = {0.2, 1.0, 3.7, 10.0, 47.3, 250.0, 1500.0};
	for (size_t i = 0; i < sizeof traffics / sizeof traffics[0]; i++) {
		double a = traffics[i];
		int last = (int)ceil(a + 4.0 * sqrt(a) + 10.0);
		double c_prev = erlang_c_probability_wait(a, 0);
		double sl_prev = erlang_service_level(a, 0, VECTOR_AHT_S, VECTOR_T_S);
		double asa_prev = erlang_asa(a, 0, VECTOR_AHT_S);
		double occ_prev = erlang_occupancy(a, 1);
		for (int n = 1; n <= last; n++) {
			double c = erlang_c_probability_wait(a, n);
			double sl = erlang_service_level(a, n, VECTOR_AHT_S, VECTOR_T_S);
			double asa = erlang_asa(a, n, VECTOR_AHT_S);
			double occ = erlang_occupancy(a, n);
			ck_assert_msg(c >= 0 && c <= 1 && sl >= 0 && sl <= 1 && asa >= 0 &&
					      occ >= 0 && occ <= 1,
				      "A %g N %d: C %g SL %g ASA %g occupancy %g", a, n, c, sl, asa,
				      occ);
			ck_assert_msg(c <= c_prev, "A %g: C rose from %g to %g at N %d", a, c_prev,
				      c, n);
			ck_assert_msg(sl >= sl_prev, "A %g: SL fell from %g to %g at N %d", a,
				      sl_prev, sl, n);
			ck_assert_msg(asa <= asa_prev, "A %g: ASA rose from %g to %g at N %d", a,
				      asa_prev, asa, n);
			ck_assert_msg(occ <= occ_prev, "A %g: occupancy rose at N %d", a, n);
			c_prev = c;
			sl_prev = sl;
			asa_prev = asa;
			occ_prev = occ;
		}
		/* The range spans the whole curve: from everybody waiting to
		 * almost nobody. */
		ck_assert_msg(c_prev < 0.01, "A %g: C still %g at N %d", a, c_prev, last);
		ck_assert_msg(sl_prev > 0.99, "A %g: SL only %g at N %d", a, sl_prev, last);
	}
}
END_TEST

/* C(A, N) by the textbook formula, summed in log space with lgamma: a
 * different computation from the library's recursion.
 *   C = X / (sum_{k<N} A^k/k! + X),  X = A^N/N! x N/(N - A). */
static long double erlang_c_log_space(long double a, int n)
{
	long double log_x = n * logl(a) - lgammal(n + 1.0L) + logl(n / (n - a));
	long double peak = log_x;
	for (int k = 0; k < n; k++) {
		long double log_term = k * logl(a) - lgammal(k + 1.0L);
		if (log_term > peak)
			peak = log_term;
	}
	long double sum = expl(log_x - peak);
	for (int k = 0; k < n; k++)
		sum += expl(k * logl(a) - lgammal(k + 1.0L) - peak);
	return expl(log_x - peak) / sum;
}

START_TEST (test_large_groups_match_an_independent_log_space_sum) {
	/* A^N / N! overflows a double long before A = 2000; the recursion
	 * never forms it. */
	static const struct {
		double a;
		int n;
	} cases[] = {{10.0, 14}, {2000.0, 2001}, {2000.0, 2030}, {2000.0, 2080}, {5000.5, 5100}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		double got = erlang_c_probability_wait(cases[i].a, cases[i].n);
		double want = (double)erlang_c_log_space(cases[i].a, cases[i].n);
		ck_assert_msg(isfinite(got) && got > 0 && got < 1, "A %g N %d: C %g", cases[i].a,
			      cases[i].n, got);
		ck_assert_msg(fabs(got - want) <= 1e-9 * want,
			      "A %g N %d: C %.15g, log-space %.15g", cases[i].a, cases[i].n, got,
			      want);
	}
}
END_TEST

START_TEST (test_agents_needed_for_the_published_vector_at_80_in_20) {
	int n = erlang_agents_needed(VECTOR_CALLS, VECTOR_INTERVAL_S, VECTOR_AHT_S, 0.80,
				     VECTOR_T_S, 1.0, 0.0);

	/* Derived, not assumed: with A = 10,
	 *   SL(12) = 1 - 0.4494 exp(-2 x 20/180) = 0.6402   misses 0.80;
	 *   SL(13) = 1 - 0.2853 exp(-3 x 20/180) = 0.7956   misses 0.80;
	 *   SL(14) = 1 - 0.1741 exp(-4 x 20/180) = 0.8884   meets it.
	 * So 13 agents are not enough and the answer is 14, the figure the
	 * published example itself arrives at. */
	double sl12 = erlang_service_level(10.0, 12, VECTOR_AHT_S, VECTOR_T_S);
	double sl13 = erlang_service_level(10.0, 13, VECTOR_AHT_S, VECTOR_T_S);
	double sl14 = erlang_service_level(10.0, 14, VECTOR_AHT_S, VECTOR_T_S);
	assert_near(sl12, 0.6402, 0.00005);
	assert_near(sl13, 0.7956, 0.00005);
	ck_assert(sl12 < 0.80);
	ck_assert(sl13 < 0.80);
	ck_assert(sl14 >= 0.80);

	ck_assert_int_eq(n, 14);
	ck_assert(erlang_service_level(10.0, n - 1, VECTOR_AHT_S, VECTOR_T_S) < 0.80);
	ck_assert(erlang_service_level(10.0, n, VECTOR_AHT_S, VECTOR_T_S) >= 0.80);
}
END_TEST

START_TEST (test_an_occupancy_cap_adds_agents) {
	/* 14 agents meet 80/20 but are busy 10/14 = 71.4% of the time; a cap
	 * of 70% needs 15 (10/15 = 66.7%). A cap of 72% changes nothing. */
	ck_assert(erlang_occupancy(10.0, 14) > 0.70);
	ck_assert(erlang_occupancy(10.0, 15) <= 0.70);
	ck_assert_int_eq(erlang_agents_needed(VECTOR_CALLS, VECTOR_INTERVAL_S, VECTOR_AHT_S, 0.80,
					      VECTOR_T_S, 0.70, 0.0),
			 15);
	ck_assert_int_eq(erlang_agents_needed(VECTOR_CALLS, VECTOR_INTERVAL_S, VECTOR_AHT_S, 0.80,
					      VECTOR_T_S, 0.72, 0.0),
			 14);
}
END_TEST

START_TEST (test_shrinkage_raises_the_schedule_to_the_next_whole_agent) {
	/* The whole published example: 80/20, occupancy at most 85%, 30%
	 * shrinkage. 14 on the phones (10/14 = 71.4% busy, under the cap),
	 * 14 / 0.7 = 20 scheduled. With 50%: 28; with none: 14. */
	ck_assert_int_eq(erlang_agents_needed(VECTOR_CALLS, VECTOR_INTERVAL_S, VECTOR_AHT_S, 0.80,
					      VECTOR_T_S, 0.85, 0.30),
			 20);
	ck_assert_int_eq(erlang_agents_needed(VECTOR_CALLS, VECTOR_INTERVAL_S, VECTOR_AHT_S, 0.80,
					      VECTOR_T_S, 1.0, 0.30),
			 20);
	ck_assert_int_eq(erlang_agents_needed(VECTOR_CALLS, VECTOR_INTERVAL_S, VECTOR_AHT_S, 0.80,
					      VECTOR_T_S, 1.0, 0.50),
			 28);

	ck_assert_int_eq(erlang_agents_scheduled(14, 0.0), 14);
	ck_assert_int_eq(erlang_agents_scheduled(13, 0.30), 19); /* 18.57 */
	ck_assert_int_eq(erlang_agents_scheduled(13, 0.50), 26);
	ck_assert_int_eq(erlang_agents_scheduled(1, 0.01), 2); /* 1.0101 */
	ck_assert_int_eq(erlang_agents_scheduled(0, 0.50), 0);
	/* In doubles 21 / (1 - 0.3) is 30.000000000000004: still 30 agents. */
	ck_assert(21.0 / (1.0 - 0.3) > 30.0);
	ck_assert_int_eq(erlang_agents_scheduled(21, 0.30), 30);
	ck_assert_int_eq(erlang_agents_scheduled(1, 0.90), 10);
	ck_assert_int_eq(erlang_agents_scheduled(3, 0.90), 30);

	ck_assert_int_eq(erlang_agents_scheduled(14, 1.0), -EINVAL);
	ck_assert_int_eq(erlang_agents_scheduled(14, -0.1), -EINVAL);
	ck_assert_int_eq(erlang_agents_scheduled(14, NAN), -EINVAL);
	ck_assert_int_eq(erlang_agents_scheduled(-1, 0.3), -EINVAL);
	ck_assert_int_eq(erlang_agents_scheduled(ERLANG_AGENTS_MAX, 0.5), -ERANGE);
}
END_TEST

START_TEST (test_zero_calls_need_no_agents) {
	ck_assert_int_eq(erlang_agents_needed(0.0, VECTOR_INTERVAL_S, VECTOR_AHT_S, 0.80,
					      VECTOR_T_S, 0.85, 0.0),
			 0);
	ck_assert_int_eq(erlang_agents_needed(0.0, VECTOR_INTERVAL_S, VECTOR_AHT_S, 0.80,
					      VECTOR_T_S, 0.85, 0.50),
			 0);
}
END_TEST

/* The answer for one interval is the smallest group that meets both the
 * service level and the occupancy cap: it meets them, one agent fewer
 * does not (or would not even exceed the traffic). */
static void assert_smallest_sufficient_group(double calls, double aht_s, double target, double cap)
{
	double a = erlang_traffic(calls, VECTOR_INTERVAL_S, aht_s);
	int n = erlang_agents_needed(calls, VECTOR_INTERVAL_S, aht_s, target, VECTOR_T_S, cap, 0.0);
	ck_assert_msg(n > a, "calls %g aht %g: %d agents for %g Erlangs", calls, aht_s, n, a);
	ck_assert(erlang_service_level(a, n, aht_s, VECTOR_T_S) >= target);
	ck_assert(erlang_occupancy(a, n) <= cap);
	bool fewer_suffice = n - 1 > a &&
			     erlang_service_level(a, n - 1, aht_s, VECTOR_T_S) >= target &&
			     erlang_occupancy(a, n - 1) <= cap;
	ck_assert_msg(!fewer_suffice, "calls %g aht %g target %g cap %g: %d - 1 suffice", calls,
		      aht_s, target, cap, n);
}

/* Over a grid of intervals small and large. */
START_TEST (test_the_answer_is_always_the_smallest_sufficient_group) {
	static const double calls[] = {1, 7, 100, 333, 2500, 40000};
	static const double ahts[] = {45, 180, 420};
	static const double targets[] = {0.0, 0.5, 0.8, 0.95};
	static const double caps[] = {0.85, 1.0};
	for (size_t ci = 0; ci < sizeof calls / sizeof calls[0]; ci++) {
		for (size_t hi = 0; hi < sizeof ahts / sizeof ahts[0]; hi++) {
			for (size_t ti = 0; ti < sizeof targets / sizeof targets[0]; ti++) {
				for (size_t oi = 0; oi < sizeof caps / sizeof caps[0]; oi++)
					assert_smallest_sufficient_group(calls[ci], ahts[hi],
									 targets[ti], caps[oi]);
			}
		}
	}
}
END_TEST

START_TEST (test_traffic_of_thousands_of_erlangs_is_staffed) {
	/* 40,000 calls in half an hour at 180 s: 4,000 Erlangs. */
	int n = erlang_agents_needed(40000.0, VECTOR_INTERVAL_S, VECTOR_AHT_S, 0.80, VECTOR_T_S,
				     1.0, 0.0);
	ck_assert_int_gt(n, 4000);
	ck_assert_int_lt(n, 4100);
	ck_assert(erlang_service_level(4000.0, n, VECTOR_AHT_S, VECTOR_T_S) >= 0.80);
	ck_assert(erlang_service_level(4000.0, n - 1, VECTOR_AHT_S, VECTOR_T_S) < 0.80);
	int scheduled = erlang_agents_needed(40000.0, VECTOR_INTERVAL_S, VECTOR_AHT_S, 0.80,
					     VECTOR_T_S, 1.0, 0.30);
	ck_assert_int_eq(scheduled, erlang_agents_scheduled(n, 0.30));
}
END_TEST

START_TEST (test_arguments_outside_their_domain_are_refused) {
	ck_assert(erlang_traffic(-1, VECTOR_INTERVAL_S, VECTOR_AHT_S) == ERLANG_INVALID);
	ck_assert(erlang_traffic(100, 0, VECTOR_AHT_S) == ERLANG_INVALID);
	ck_assert(erlang_traffic(100, VECTOR_INTERVAL_S, 0) == ERLANG_INVALID);
	ck_assert(erlang_traffic(NAN, VECTOR_INTERVAL_S, VECTOR_AHT_S) == ERLANG_INVALID);
	ck_assert(erlang_c_probability_wait(-0.5, 3) == ERLANG_INVALID);
	ck_assert(erlang_c_probability_wait(NAN, 3) == ERLANG_INVALID);
	ck_assert(erlang_c_probability_wait(INFINITY, 3) == ERLANG_INVALID);
	ck_assert(erlang_c_probability_wait(10, -1) == ERLANG_INVALID);
	ck_assert(erlang_c_probability_wait(ERLANG_AGENTS_MAX, 3) == ERLANG_INVALID);
	ck_assert(erlang_service_level(10, 14, 0, VECTOR_T_S) == ERLANG_INVALID);
	ck_assert(erlang_service_level(10, 14, VECTOR_AHT_S, -1) == ERLANG_INVALID);
	ck_assert(erlang_asa(10, 14, -180) == ERLANG_INVALID);
	ck_assert(erlang_occupancy(10, 0) == ERLANG_INVALID);

	/* calls, interval, aht, target, T, cap, shrinkage */
	ck_assert_int_eq(erlang_agents_needed(-1, 1800, 180, 0.8, 20, 1, 0), -EINVAL);
	ck_assert_int_eq(erlang_agents_needed(100, 0, 180, 0.8, 20, 1, 0), -EINVAL);
	ck_assert_int_eq(erlang_agents_needed(100, 1800, 0, 0.8, 20, 1, 0), -EINVAL);
	ck_assert_int_eq(erlang_agents_needed(100, 1800, 180, 1.0, 20, 1, 0), -EINVAL);
	ck_assert_int_eq(erlang_agents_needed(100, 1800, 180, -0.1, 20, 1, 0), -EINVAL);
	ck_assert_int_eq(erlang_agents_needed(100, 1800, 180, 0.8, -1, 1, 0), -EINVAL);
	ck_assert_int_eq(erlang_agents_needed(100, 1800, 180, 0.8, 20, 0, 0), -EINVAL);
	ck_assert_int_eq(erlang_agents_needed(100, 1800, 180, 0.8, 20, 1.1, 0), -EINVAL);
	ck_assert_int_eq(erlang_agents_needed(100, 1800, 180, 0.8, 20, 1, 1.0), -EINVAL);
	ck_assert_int_eq(erlang_agents_needed(NAN, 1800, 180, 0.8, 20, 1, 0), -EINVAL);
	/* 10^7 Erlangs: more than the search will walk. */
	ck_assert_int_eq(erlang_agents_needed(1e8, 1800, 180, 0.8, 20, 1, 0), -ERANGE);
}
END_TEST

static Suite *erlang_suite(void)
{
	Suite *s = suite_create("erlang");
	TCase *tc = tcase_create("erlang");

	tcase_add_test(tc, test_the_published_vector_gives_the_published_figures);
	tcase_add_test(tc, test_a_small_group_matches_the_figures_worked_by_hand);
	tcase_add_test(tc, test_no_more_agents_than_traffic_means_everybody_waits);
	tcase_add_test(tc, test_no_traffic_never_waits);
	tcase_add_test(tc, test_more_agents_never_worsen_any_figure);
	tcase_add_test(tc, test_large_groups_match_an_independent_log_space_sum);
	tcase_add_test(tc, test_agents_needed_for_the_published_vector_at_80_in_20);
	tcase_add_test(tc, test_an_occupancy_cap_adds_agents);
	tcase_add_test(tc, test_shrinkage_raises_the_schedule_to_the_next_whole_agent);
	tcase_add_test(tc, test_zero_calls_need_no_agents);
	tcase_add_test(tc, test_the_answer_is_always_the_smallest_sufficient_group);
	tcase_add_test(tc, test_traffic_of_thousands_of_erlangs_is_staffed);
	tcase_add_test(tc, test_arguments_outside_their_domain_are_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(erlang_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
