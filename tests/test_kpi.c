/* test_kpi.c: service KPI formulas (kpi.h): the three service-level
 * variants on one example worked by hand, short abandons, the inclusive
 * thresholds, ASA, AHT, occupancy, empty sets, contradictory facts, merged
 * cells, and the plain-English description exports print. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kpi.h"

#define T0 (1551662102LL * 1000000) /* 2019-03-04T09:15:02+08:00 */
#define SECOND 1000000LL

#define assert_near(x, expected)                                                                   \
	ck_assert_msg(fabs((x) - (expected)) < 1e-12, "%s = %.15f, expected %.15f", #x,            \
		      (double)(x), (double)(expected))

static const struct kpi_definitions definitions_5_20 = {
	.short_abandon_s = 5, .service_level_s = 20, .variant = KPI_SL_ANSWERED_BASED};

static struct kpi_call answered_call(double wait_s, double talk_s, double hold_s, double wrap_up_s)
{
	struct kpi_call c = {
		.offered_at = T0,
		.answered_at = T0 + (int64_t)(wait_s * SECOND),
		.wait_s = wait_s,
		.talk_s = talk_s,
		.hold_s = hold_s,
		.wrap_up_s = wrap_up_s,
	};
	c.ended_at = c.answered_at + (int64_t)((talk_s + hold_s) * SECOND);
	return c;
}

static struct kpi_call abandoned_call(double wait_s)
{
	struct kpi_call c = {
		.offered_at = T0,
		.ended_at = T0 + (int64_t)(wait_s * SECOND),
		.abandoned = true,
		.wait_s = wait_s,
	};
	return c;
}

/* Left the queue after wait_s for the IVR, where it ended a minute later. */
static struct kpi_call overflowed_call(double wait_s)
{
	struct kpi_call c = {
		.offered_at = T0,
		.ended_at = T0 + (int64_t)((wait_s + 60) * SECOND),
		.wait_s = wait_s,
	};
	return c;
}

static void add_call(struct kpi_totals *t, struct kpi_call c)
{
	ck_assert_int_eq(kpi_add_call(t, &c), 0);
}

static void add_agent(struct kpi_totals *t, double logged_in_s, double busy_s)
{
	struct kpi_agent_time a = {.logged_in_s = logged_in_s, .busy_s = busy_s};
	ck_assert_int_eq(kpi_add_agent_time(t, &a), 0);
}

/* The worked example, with a 5 s short-abandon threshold and T = 20 s:
 *
 *   answered   wait 10 (within T)   talk 120 hold  0 wrap 30  -> 150
 *   answered   wait 20 (within T)   talk 200 hold 20 wrap 40  -> 260
 *   answered   wait 30              talk  90 hold  0 wrap 30  -> 120
 *   answered   wait 45              talk 300 hold 60 wrap 30  -> 390
 *   abandoned  wait  3  short (3 < 5)
 *   abandoned  wait  5  within T (5 is not shorter than 5)
 *   abandoned  wait 15  within T
 *   abandoned  wait 60
 *   overflowed wait 120
 *   agents: 3600 s logged in, 2700 busy; 1800 logged in, 900 busy.
 *
 * answered 4 (2 within T), abandoned 3 (2 within T), short 1, overflowed 1,
 * offered = 4 + 3 = 7. */
static void add_worked_example(struct kpi_totals *t)
{
	add_call(t, answered_call(10, 120, 0, 30));
	add_call(t, answered_call(20, 200, 20, 40));
	add_call(t, answered_call(30, 90, 0, 30));
	add_call(t, answered_call(45, 300, 60, 30));
	add_call(t, abandoned_call(3));
	add_call(t, abandoned_call(5));
	add_call(t, abandoned_call(15));
	add_call(t, abandoned_call(60));
	add_call(t, overflowed_call(120));
	add_agent(t, 3600, 2700);
	add_agent(t, 1800, 900);
}

static struct kpi_result compute_example(struct kpi_definitions d)
{
	struct kpi_totals t;
	struct kpi_result r;
	ck_assert_int_eq(kpi_totals_init(&t, &d), 0);
	add_worked_example(&t);
	ck_assert_int_eq(kpi_compute(&t, &d, &r), 0);
	return r;
}

static struct kpi_definitions with_variant(struct kpi_definitions d,
					   enum kpi_service_level_variant v)
{
	d.variant = v;
	return d;
}

START_TEST (test_the_example_is_counted_as_worked_by_hand) {
	struct kpi_result r = compute_example(definitions_5_20);
	ck_assert_uint_eq(r.offered, 7);
	ck_assert_uint_eq(r.answered, 4);
	ck_assert_uint_eq(r.abandoned, 3);
	ck_assert_uint_eq(r.short_abandons, 1);
	ck_assert_uint_eq(r.overflowed, 1);
	ck_assert_uint_eq(r.answered_within_sl, 2);
	ck_assert_uint_eq(r.abandoned_within_sl, 2);
}
END_TEST

START_TEST (test_answered_based_service_level_is_answered_within_t_over_answered) {
	/* 2 answered within 20 s / 4 answered = 0.5 */
	struct kpi_result r =
		compute_example(with_variant(definitions_5_20, KPI_SL_ANSWERED_BASED));
	assert_near(r.service_level, 2.0 / 4.0);
}
END_TEST

START_TEST (test_offered_based_service_level_counts_abandons_against_the_centre) {
	/* 2 answered within 20 s / (4 answered + 3 abandoned) = 2/7 = 0.2857 */
	struct kpi_result r = compute_example(with_variant(definitions_5_20, KPI_SL_OFFERED_BASED));
	assert_near(r.service_level, 2.0 / 7.0);
}
END_TEST

START_TEST (test_sl2_credits_callers_who_gave_up_within_t) {
	/* (2 answered within 20 s + 2 abandoned within 20 s) / 7 offered
	 * = 4/7 = 0.5714 */
	struct kpi_result r = compute_example(with_variant(definitions_5_20, KPI_SL_SL2));
	assert_near(r.service_level, 4.0 / 7.0);
}
END_TEST

START_TEST (test_short_abandons_are_left_out_of_offered_and_abandoned) {
	/* No threshold: the 3 s abandon counts. abandoned 4 (3 within T:
	 * 3, 5, 15), offered 8.
	 *   answered-based 2/4, offered-based 2/8, SL2 (2 + 3)/8. */
	struct kpi_definitions none = {.short_abandon_s = 0, .service_level_s = 20};
	struct kpi_result r = compute_example(with_variant(none, KPI_SL_ANSWERED_BASED));
	ck_assert_uint_eq(r.short_abandons, 0);
	ck_assert_uint_eq(r.abandoned, 4);
	ck_assert_uint_eq(r.offered, 8);
	assert_near(r.service_level, 2.0 / 4.0);
	assert_near(compute_example(with_variant(none, KPI_SL_OFFERED_BASED)).service_level,
		    2.0 / 8.0);
	assert_near(compute_example(with_variant(none, KPI_SL_SL2)).service_level, 5.0 / 8.0);

	/* A 16 s threshold: the 3, 5 and 15 s abandons are short. abandoned 1
	 * (60 s, not within T), offered 5.
	 *   offered-based 2/5, SL2 (2 + 0)/5. */
	struct kpi_definitions long_short = {.short_abandon_s = 16, .service_level_s = 20};
	r = compute_example(with_variant(long_short, KPI_SL_SL2));
	ck_assert_uint_eq(r.short_abandons, 3);
	ck_assert_uint_eq(r.abandoned, 1);
	ck_assert_uint_eq(r.abandoned_within_sl, 0);
	ck_assert_uint_eq(r.offered, 5);
	assert_near(r.service_level, 2.0 / 5.0);
	assert_near(compute_example(with_variant(long_short, KPI_SL_OFFERED_BASED)).service_level,
		    2.0 / 5.0);
}
END_TEST

START_TEST (test_thresholds_include_a_wait_of_exactly_t) {
	struct kpi_totals t;
	struct kpi_result r;
	ck_assert_int_eq(kpi_totals_init(&t, &definitions_5_20), 0);
	add_call(&t, answered_call(20.0, 60, 0, 0));  /* within: 20 <= 20 */
	add_call(&t, answered_call(20.25, 60, 0, 0)); /* not within */
	add_call(&t, abandoned_call(4.75));           /* short: 4.75 < 5 */
	add_call(&t, abandoned_call(5.0));            /* not short, within T */
	add_call(&t, abandoned_call(20.5));           /* not within T */
	ck_assert_int_eq(kpi_compute(&t, &definitions_5_20, &r), 0);
	ck_assert_uint_eq(r.answered_within_sl, 1);
	ck_assert_uint_eq(r.short_abandons, 1);
	ck_assert_uint_eq(r.abandoned, 2);
	ck_assert_uint_eq(r.abandoned_within_sl, 1);
}
END_TEST

START_TEST (test_asa_is_the_mean_wait_of_answered_calls_only) {
	/* (10 + 20 + 30 + 45) / 4 = 105 / 4 = 26.25 s; the abandoned and
	 * overflowed calls' waits do not enter it. */
	assert_near(compute_example(definitions_5_20).asa_s, 26.25);
}
END_TEST

START_TEST (test_aht_is_talk_hold_and_wrap_up_per_answered_call) {
	/* (150 + 260 + 120 + 390) / 4 = 920 / 4 = 230 s */
	assert_near(compute_example(definitions_5_20).aht_s, 230.0);
}
END_TEST

START_TEST (test_occupancy_is_busy_time_over_logged_in_time) {
	/* (2700 + 900) / (3600 + 1800) = 3600 / 5400 = 2/3 */
	assert_near(compute_example(definitions_5_20).occupancy, 2.0 / 3.0);
}
END_TEST

static void assert_no_nan(const struct kpi_result *r)
{
	ck_assert(!isnan(r->asa_s) && !isnan(r->aht_s) && !isnan(r->occupancy) &&
		  !isnan(r->service_level));
}

START_TEST (test_empty_sets_give_undefined_never_nan) {
	struct kpi_totals t;
	struct kpi_result r;

	/* Nothing at all. */
	for (int v = 0; v < KPI_SL_VARIANT_COUNT; v++) {
		struct kpi_definitions d = with_variant(definitions_5_20, v);
		ck_assert_int_eq(kpi_totals_init(&t, &d), 0);
		ck_assert_int_eq(kpi_compute(&t, &d, &r), 0);
		assert_no_nan(&r);
		ck_assert_uint_eq(r.offered, 0);
		ck_assert(r.service_level == KPI_UNDEFINED);
		ck_assert(r.asa_s == KPI_UNDEFINED);
		ck_assert(r.aht_s == KPI_UNDEFINED);
		ck_assert(r.occupancy == KPI_UNDEFINED);
	}

	/* Only abandons (10 within T, 30 not): nothing answered, so the
	 * answered-based figure, ASA and AHT are undefined; offered-based is
	 * 0/2 = 0 and SL2 is 1/2. */
	struct kpi_definitions d = definitions_5_20;
	ck_assert_int_eq(kpi_totals_init(&t, &d), 0);
	add_call(&t, abandoned_call(10));
	add_call(&t, abandoned_call(30));
	ck_assert_int_eq(kpi_compute(&t, &d, &r), 0);
	assert_no_nan(&r);
	ck_assert(r.service_level == KPI_UNDEFINED);
	ck_assert(r.asa_s == KPI_UNDEFINED);
	ck_assert(r.aht_s == KPI_UNDEFINED);
	d.variant = KPI_SL_OFFERED_BASED;
	ck_assert_int_eq(kpi_compute(&t, &d, &r), 0);
	ck_assert(r.service_level == 0.0);
	d.variant = KPI_SL_SL2;
	ck_assert_int_eq(kpi_compute(&t, &d, &r), 0);
	assert_near(r.service_level, 1.0 / 2.0);

	/* Only short abandons and an overflow: nothing offered. */
	ck_assert_int_eq(kpi_totals_init(&t, &d), 0);
	add_call(&t, abandoned_call(2));
	add_call(&t, overflowed_call(300));
	for (int v = 0; v < KPI_SL_VARIANT_COUNT; v++) {
		d.variant = v;
		ck_assert_int_eq(kpi_compute(&t, &d, &r), 0);
		ck_assert_uint_eq(r.offered, 0);
		ck_assert_uint_eq(r.short_abandons, 1);
		ck_assert_uint_eq(r.overflowed, 1);
		ck_assert(r.service_level == KPI_UNDEFINED);
	}

	/* Agents logged in but idle: occupancy 0, not undefined. */
	add_agent(&t, 1800, 0);
	ck_assert_int_eq(kpi_compute(&t, &d, &r), 0);
	ck_assert(r.occupancy == 0.0);
}
END_TEST

START_TEST (test_contradictory_call_facts_are_refused_and_change_nothing) {
	struct kpi_call bad[12];
	int n = 0;

	bad[n] = answered_call(10, 60, 0, 0); /* answered and abandoned */
	bad[n++].abandoned = true;
	bad[n] = answered_call(10, 60, 0, 0); /* still in progress */
	bad[n++].ended_at = 0;
	bad[n] = abandoned_call(10); /* ended before it was offered */
	bad[n++].ended_at = T0 - SECOND;
	bad[n] = answered_call(10, 60, 0, 0); /* answered before the offer */
	bad[n++].answered_at = T0 - SECOND;
	bad[n] = answered_call(10, 60, 0, 0); /* answered after the end */
	bad[n].answered_at = bad[n].ended_at + SECOND;
	n++;
	bad[n] = answered_call(10, 60, 0, 0); /* a negative duration */
	bad[n++].hold_s = -1;
	bad[n] = answered_call(10, 60, 0, 0); /* a duration that is not a number */
	bad[n++].talk_s = NAN;
	bad[n] = abandoned_call(10); /* waited longer than the call lasted */
	bad[n++].wait_s = 11;
	bad[n] = answered_call(10, 60, 0, 0); /* waited in milliseconds */
	bad[n++].wait_s = 10000;
	bad[n] = abandoned_call(10); /* talk on a call nobody answered */
	bad[n++].talk_s = 5;
	bad[n] = overflowed_call(10); /* wrap-up on a call nobody answered */
	bad[n++].wrap_up_s = 5;
	bad[n] = abandoned_call(10); /* an infinite wait */
	bad[n++].wait_s = INFINITY;

	struct kpi_totals t;
	ck_assert_int_eq(kpi_totals_init(&t, &definitions_5_20), 0);
	add_worked_example(&t);
	struct kpi_totals before = t;
	for (int i = 0; i < n; i++) {
		ck_assert_msg(kpi_add_call(&t, &bad[i]) == -EINVAL, "bad call %d accepted", i);
		ck_assert_msg(memcmp(&t, &before, sizeof t) == 0, "bad call %d changed totals", i);
	}

	/* Agent time: negative, not a number, busy beyond logged in. */
	struct kpi_agent_time bad_agents[] = {
		{.logged_in_s = -1, .busy_s = 0},
		{.logged_in_s = NAN, .busy_s = 0},
		{.logged_in_s = 100, .busy_s = -1},
		{.logged_in_s = 100, .busy_s = 100.5},
	};
	for (size_t i = 0; i < sizeof bad_agents / sizeof bad_agents[0]; i++)
		ck_assert_int_eq(kpi_add_agent_time(&t, &bad_agents[i]), -EINVAL);
	ck_assert(memcmp(&t, &before, sizeof t) == 0);
	add_agent(&t, 100, 100); /* fully busy is fine */
}
END_TEST

START_TEST (test_cells_merge_into_what_one_pass_gives) {
	struct kpi_totals whole, morning, afternoon;
	ck_assert_int_eq(kpi_totals_init(&whole, &definitions_5_20), 0);
	ck_assert_int_eq(kpi_totals_init(&morning, &definitions_5_20), 0);
	ck_assert_int_eq(kpi_totals_init(&afternoon, &definitions_5_20), 0);
	add_worked_example(&whole);
	add_call(&morning, answered_call(10, 120, 0, 30));
	add_call(&morning, abandoned_call(3));
	add_call(&morning, abandoned_call(5));
	add_agent(&morning, 3600, 2700);
	add_call(&afternoon, answered_call(20, 200, 20, 40));
	add_call(&afternoon, answered_call(30, 90, 0, 30));
	add_call(&afternoon, answered_call(45, 300, 60, 30));
	add_call(&afternoon, abandoned_call(15));
	add_call(&afternoon, abandoned_call(60));
	add_call(&afternoon, overflowed_call(120));
	add_agent(&afternoon, 1800, 900);

	ck_assert_int_eq(kpi_totals_merge(&morning, &afternoon), 0);
	/* Integer seconds add up exactly in any order. */
	ck_assert(memcmp(&morning, &whole, sizeof whole) == 0);

	struct kpi_totals other;
	struct kpi_definitions d = definitions_5_20;
	d.service_level_s = 30;
	ck_assert_int_eq(kpi_totals_init(&other, &d), 0);
	struct kpi_totals kept = morning;
	ck_assert_int_eq(kpi_totals_merge(&morning, &other), -EINVAL);
	ck_assert(memcmp(&morning, &kept, sizeof kept) == 0);
}
END_TEST

START_TEST (test_compute_refuses_thresholds_the_calls_were_not_sorted_by) {
	struct kpi_totals t;
	struct kpi_result r;
	memset(&r, 0x5a, sizeof r);
	struct kpi_result untouched = r;
	ck_assert_int_eq(kpi_totals_init(&t, &definitions_5_20), 0);
	add_worked_example(&t);

	struct kpi_definitions d = definitions_5_20;
	d.service_level_s = 30;
	ck_assert_int_eq(kpi_compute(&t, &d, &r), -EINVAL);
	d = definitions_5_20;
	d.short_abandon_s = 0;
	ck_assert_int_eq(kpi_compute(&t, &d, &r), -EINVAL);
	ck_assert(memcmp(&r, &untouched, sizeof r) == 0);
	/* Another variant over the same thresholds is fine. */
	d = with_variant(definitions_5_20, KPI_SL_SL2);
	ck_assert_int_eq(kpi_compute(&t, &d, &r), 0);
}
END_TEST

START_TEST (test_definitions_out_of_range_are_refused) {
	struct kpi_totals t;
	struct kpi_definitions d = definitions_5_20;
	ck_assert_int_eq(kpi_definitions_check(&d), 0);
	d.short_abandon_s = -1;
	ck_assert_int_eq(kpi_definitions_check(&d), -EINVAL);
	ck_assert_int_eq(kpi_totals_init(&t, &d), -EINVAL);
	d = definitions_5_20;
	d.service_level_s = KPI_THRESHOLD_MAX_S + 1;
	ck_assert_int_eq(kpi_definitions_check(&d), -EINVAL);
	d.service_level_s = KPI_THRESHOLD_MAX_S;
	ck_assert_int_eq(kpi_definitions_check(&d), 0);
	d.variant = KPI_SL_VARIANT_COUNT;
	ck_assert_int_eq(kpi_definitions_check(&d), -EINVAL);
}
END_TEST

START_TEST (test_variant_names_round_trip) {
	static const char *const names[KPI_SL_VARIANT_COUNT] = {"answered_based", "offered_based",
								"sl2"};
	for (int v = 0; v < KPI_SL_VARIANT_COUNT; v++) {
		enum kpi_service_level_variant back;
		ck_assert_str_eq(kpi_variant_name(v), names[v]);
		ck_assert_int_eq(kpi_variant_from_name(names[v], &back), 0);
		ck_assert_int_eq(back, v);
	}
	enum kpi_service_level_variant unused;
	ck_assert_int_eq(kpi_variant_from_name("SL2", &unused), -EINVAL);
	ck_assert_int_eq(kpi_variant_from_name("", &unused), -EINVAL);
	ck_assert_str_eq(kpi_variant_name(KPI_SL_VARIANT_COUNT), "unknown");
}
END_TEST

START_TEST (test_the_description_names_the_thresholds_and_the_variant) {
	static const char *const variant_words[KPI_SL_VARIANT_COUNT] = {
		"answered-based", "offered-based", "ServicelevelPerf2"};
	char text[KPI_SL_VARIANT_COUNT][KPI_DESCRIBE_MAX];
	struct kpi_definitions d = {.short_abandon_s = 7, .service_level_s = 25};

	for (int v = 0; v < KPI_SL_VARIANT_COUNT; v++) {
		d.variant = v;
		ck_assert_int_eq(kpi_describe(&d, text[v], sizeof text[v]), 0);
		ck_assert_msg(strstr(text[v], "within 25 s") != NULL, "%s", text[v]);
		ck_assert_msg(strstr(text[v], "less than 7 s") != NULL, "%s", text[v]);
		ck_assert_msg(strstr(text[v], variant_words[v]) != NULL, "%s", text[v]);
		for (int other = 0; other < KPI_SL_VARIANT_COUNT; other++)
			if (other != v)
				ck_assert_msg(strstr(text[v], variant_words[other]) == NULL, "%s",
					      text[v]);
		ck_assert_ptr_nonnull(strstr(text[v], "ASA"));
		ck_assert_ptr_nonnull(strstr(text[v], "AHT"));
		ck_assert_ptr_nonnull(strstr(text[v], "Occupancy"));
	}

	d.short_abandon_s = 0;
	char none[KPI_DESCRIBE_MAX];
	ck_assert_int_eq(kpi_describe(&d, none, sizeof none), 0);
	ck_assert_ptr_nonnull(strstr(none, "no short-abandon threshold"));

	/* Too small: as much as fits, terminated. */
	char small[40];
	d.short_abandon_s = 7;
	d.variant = KPI_SL_SL2;
	ck_assert_int_eq(kpi_describe(&d, small, sizeof small), -ENOSPC);
	ck_assert_uint_eq(strlen(small), sizeof small - 1);
	ck_assert(strncmp(small, text[KPI_SL_SL2], sizeof small - 1) == 0);

	d.variant = KPI_SL_VARIANT_COUNT;
	ck_assert_int_eq(kpi_describe(&d, none, sizeof none), -EINVAL);
}
END_TEST

static Suite *kpi_suite(void)
{
	Suite *s = suite_create("kpi");
	TCase *tc = tcase_create("kpi");

	tcase_add_test(tc, test_the_example_is_counted_as_worked_by_hand);
	tcase_add_test(tc, test_answered_based_service_level_is_answered_within_t_over_answered);
	tcase_add_test(tc, test_offered_based_service_level_counts_abandons_against_the_centre);
	tcase_add_test(tc, test_sl2_credits_callers_who_gave_up_within_t);
	tcase_add_test(tc, test_short_abandons_are_left_out_of_offered_and_abandoned);
	tcase_add_test(tc, test_thresholds_include_a_wait_of_exactly_t);
	tcase_add_test(tc, test_asa_is_the_mean_wait_of_answered_calls_only);
	tcase_add_test(tc, test_aht_is_talk_hold_and_wrap_up_per_answered_call);
	tcase_add_test(tc, test_occupancy_is_busy_time_over_logged_in_time);
	tcase_add_test(tc, test_empty_sets_give_undefined_never_nan);
	tcase_add_test(tc, test_contradictory_call_facts_are_refused_and_change_nothing);
	tcase_add_test(tc, test_cells_merge_into_what_one_pass_gives);
	tcase_add_test(tc, test_compute_refuses_thresholds_the_calls_were_not_sorted_by);
	tcase_add_test(tc, test_definitions_out_of_range_are_refused);
	tcase_add_test(tc, test_variant_names_round_trip);
	tcase_add_test(tc, test_the_description_names_the_thresholds_and_the_variant);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(kpi_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
