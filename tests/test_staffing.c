/* test_staffing.c: the half-hour staffing plan (staffing.h). */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "staffing.h"

#define assert_near(got, want, tol)                                                                \
	ck_assert_msg(fabs((got) - (want)) <= (tol), "%s = %.6f, want %.6f", #got, (double)(got),  \
		      (double)(want))

static const struct staffing_params eighty_in_twenty = {
	.target_service_level = 0.80,
	.answer_within_s = 20,
	.max_occupancy = 1.0,
	.shrinkage = 0.30,
};

/* Four weeks of history whose mean is the published vector in the 09:00
 * half hour: 100 calls in 30 minutes, AHT 180 s. */
START_TEST (test_the_published_vector_gives_14_agents_and_its_figures) {
	struct staffing_history h = {.weeks = 4};
	struct staffing_slot out[STAFFING_SLOTS];

	h.offered[18] = 400;
	h.answered[18] = 380;
	h.handle_s[18] = 380 * 180.0;
	ck_assert_int_eq(staffing_plan(&h, &eighty_in_twenty, out), 0);
	assert_near(out[18].calls, 100, 1e-9);
	assert_near(out[18].aht_s, 180, 1e-9);
	assert_near(out[18].traffic, 10, 1e-9);
	ck_assert_int_eq(out[18].agents, 14);
	assert_near(out[18].wait_probability, 0.1741, 0.00005);
	assert_near(out[18].service_level, 0.8884, 0.00005);
	assert_near(out[18].asa_s, 7.84, 0.005);
	assert_near(out[18].occupancy, 0.714, 0.0005);
	/* 14 on the phones at 30% shrinkage: ceil(14 / 0.7) = 20 scheduled. */
	ck_assert_int_eq(out[18].scheduled, 20);
	/* A half hour without calls needs nobody. */
	ck_assert_int_eq(out[3].agents, 0);
	ck_assert_int_eq(out[3].scheduled, 0);
	assert_near(out[3].calls, 0, 0);
}
END_TEST

START_TEST (test_a_half_hour_without_answers_takes_the_days_handle_time) {
	struct staffing_history h = {.weeks = 2};
	struct staffing_slot out[STAFFING_SLOTS];

	h.offered[10] = 20; /* all abandoned */
	h.offered[20] = 40;
	h.answered[20] = 40;
	h.handle_s[20] = 40 * 240.0;
	ck_assert_int_eq(staffing_plan(&h, &eighty_in_twenty, out), 0);
	assert_near(out[10].calls, 10, 1e-9);
	assert_near(out[10].aht_s, 240, 1e-9);
	ck_assert_int_gt(out[10].agents, 0);
	ck_assert(out[10].service_level >= 0.80);
}
END_TEST

START_TEST (test_the_occupancy_cap_adds_agents) {
	struct staffing_history h = {.weeks = 1};
	struct staffing_slot loose[STAFFING_SLOTS], capped[STAFFING_SLOTS];
	struct staffing_params p = eighty_in_twenty;

	h.offered[30] = 1000;
	h.answered[30] = 1000;
	h.handle_s[30] = 1000 * 180.0;
	ck_assert_int_eq(staffing_plan(&h, &p, loose), 0);
	p.max_occupancy = 0.80;
	ck_assert_int_eq(staffing_plan(&h, &p, capped), 0);
	ck_assert_int_gt(capped[30].agents, loose[30].agents);
	ck_assert(capped[30].occupancy <= 0.80);
	ck_assert(loose[30].occupancy > 0.80);
}
END_TEST

START_TEST (test_bad_history_or_parameters_are_refused) {
	struct staffing_history h = {.weeks = 0};
	struct staffing_slot out[STAFFING_SLOTS];
	struct staffing_params p = eighty_in_twenty;

	ck_assert_int_eq(staffing_plan(&h, &p, out), -EINVAL);
	h.weeks = 1;
	h.offered[0] = 1;
	h.answered[0] = 2;
	ck_assert_int_eq(staffing_plan(&h, &p, out), -EINVAL);
	h.answered[0] = 1;
	p.shrinkage = 1.0;
	ck_assert_int_eq(staffing_plan(&h, &p, out), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("staffing");
	TCase *tc = tcase_create("plan");
	tcase_add_test(tc, test_the_published_vector_gives_14_agents_and_its_figures);
	tcase_add_test(tc, test_a_half_hour_without_answers_takes_the_days_handle_time);
	tcase_add_test(tc, test_the_occupancy_cap_adds_agents);
	tcase_add_test(tc, test_bad_history_or_parameters_are_refused);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
