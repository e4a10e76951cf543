/* test_timeutil.c: RFC 3339 parsing and formatting, zones and local-time helpers. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

#define USEC 1000000LL
/* 2019-12-31T15:59:00Z, i.e. 2019-12-31T23:59:00+08:00, a Tuesday. */
#define NEW_YEARS_EVE (1577807940LL * USEC)

static int64_t parse_ok(const char *s)
{
	int64_t usec = -1;
	ck_assert_msg(timeutil_parse_rfc3339(s, &usec) == 0, "'%s' was refused", s);
	return usec;
}

static void use_zone(const char *zone)
{
	ck_assert_msg(timeutil_set_zone(zone) == 0, "zone %s is not installed", zone);
}

START_TEST (test_parse_utc_and_offsets_agree) {
	ck_assert_int_eq(parse_ok("2019-12-31T15:59:00Z"), NEW_YEARS_EVE);
	ck_assert_int_eq(parse_ok("2019-12-31T23:59:00+08:00"), NEW_YEARS_EVE);
	ck_assert_int_eq(parse_ok("2019-12-31T10:59:00-05:00"), NEW_YEARS_EVE);
	ck_assert_int_eq(parse_ok("2019-12-31T21:29:00+05:30"), NEW_YEARS_EVE);
	ck_assert_int_eq(parse_ok("2019-12-31T15:59:00+00:00"), NEW_YEARS_EVE);
	ck_assert_int_eq(parse_ok("2019-12-31t15:59:00z"), NEW_YEARS_EVE);
	ck_assert_int_eq(parse_ok("2019-12-31 15:59:00Z"), NEW_YEARS_EVE);
	/* An offset can carry the date across midnight. */
	ck_assert_int_eq(parse_ok("2020-01-01T00:29:00+08:30"), NEW_YEARS_EVE);
	ck_assert_int_eq(parse_ok("1970-01-01T00:00:00Z"), 0);
	ck_assert_int_eq(parse_ok("9999-12-31T23:59:59Z"), 253402300799LL * USEC);
}
END_TEST

START_TEST (test_parse_fractions) {
	ck_assert_int_eq(parse_ok("2019-12-31T15:59:00.5Z"), NEW_YEARS_EVE + 500000);
	ck_assert_int_eq(parse_ok("2019-12-31T15:59:00.25Z"), NEW_YEARS_EVE + 250000);
	ck_assert_int_eq(parse_ok("2019-12-31T15:59:00.000001Z"), NEW_YEARS_EVE + 1);
	ck_assert_int_eq(parse_ok("2019-12-31T15:59:00.123456+00:00"), NEW_YEARS_EVE + 123456);
	ck_assert_int_eq(parse_ok("2019-12-31T23:59:00.010+08:00"), NEW_YEARS_EVE + 10000);
}
END_TEST

START_TEST (test_parse_leap_days) {
	ck_assert_int_eq(parse_ok("2020-02-29T00:00:00Z"), 1582934400LL * USEC);
	ck_assert_int_eq(parse_ok("2000-02-29T12:00:00Z"), 951825600LL * USEC);
	int64_t usec;
	ck_assert_int_eq(timeutil_parse_rfc3339("2019-02-29T00:00:00Z", &usec), -1);
	ck_assert_int_eq(timeutil_parse_rfc3339("2100-02-29T00:00:00Z", &usec), -1);
	ck_assert_int_eq(timeutil_parse_rfc3339("2020-02-30T00:00:00Z", &usec), -1);
	ck_assert_int_eq(timeutil_days_in_year(2019), 365);
	ck_assert_int_eq(timeutil_days_in_year(2020), 366);
	ck_assert_int_eq(timeutil_days_in_year(1900), 365);
	ck_assert_int_eq(timeutil_days_in_year(2000), 366);
}
END_TEST

START_TEST (test_parse_refuses_garbage) {
	static const char *const bad[] = {
		"",
		"garbage",
		"2019-12-31",
		"2019-12-31T15:59Z",
		"2019-12-31T15:59:00",      /* no zone */
		"2019-12-31T15:59:00+0800", /* offset without colon */
		"2019-12-31T15:59:00+08",   /* offset without minutes */
		"2019-12-31T15:59:00Zjunk",
		"2019-12-31T15:59:00.Z", /* fraction without digits */
		"2019-12-31X15:59:00Z",
		"2019-13-01T00:00:00Z",
		"2019-00-10T00:00:00Z",
		"2019-12-00T00:00:00Z",
		"2019-12-32T00:00:00Z",
		"2019-04-31T00:00:00Z",
		"2019-12-31T24:00:00Z",
		"2019-12-31T23:60:00Z",
		"2019-12-31T23:59:60Z",
		"2019-12-31T23:59:00+24:00",
		"2019-12-31T23:59:00+08:60",
		"19-12-31T23:59:00Z",
		"2019-1-31T23:59:00Z",
		" 2019-12-31T15:59:00Z",
		"1969-12-31T23:59:59Z",      /* before the epoch */
		"1970-01-01T00:00:00+00:01", /* also before the epoch */
	};
	int64_t usec = 42;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(timeutil_parse_rfc3339(bad[i], &usec) == -1, "'%s' was accepted",
			      bad[i]);
	ck_assert_int_eq(timeutil_parse_rfc3339(NULL, &usec), -1);
	ck_assert_int_eq(usec, 42);
}
END_TEST

START_TEST (test_format_utc_round_trips) {
	char out[TIMEUTIL_RFC3339_LEN];
	timeutil_format_utc(NEW_YEARS_EVE, out);
	ck_assert_str_eq(out, "2019-12-31T15:59:00Z");
	timeutil_format_utc(NEW_YEARS_EVE + 250000, out);
	ck_assert_str_eq(out, "2019-12-31T15:59:00.250000Z");
	ck_assert_int_eq(parse_ok(out), NEW_YEARS_EVE + 250000);
	timeutil_format_utc(0, out);
	ck_assert_str_eq(out, "1970-01-01T00:00:00Z");
}
END_TEST

START_TEST (test_format_local_in_shanghai) {
	char out[TIMEUTIL_RFC3339_LEN];
	use_zone("Asia/Shanghai");
	timeutil_format_local(NEW_YEARS_EVE, out);
	ck_assert_str_eq(out, "2019-12-31T23:59:00+08:00");
	timeutil_format_local(NEW_YEARS_EVE + 60 * USEC + 1, out);
	ck_assert_str_eq(out, "2020-01-01T00:00:00.000001+08:00");
	ck_assert_int_eq(parse_ok(out), NEW_YEARS_EVE + 60 * USEC + 1);
}
END_TEST

START_TEST (test_format_local_west_of_greenwich) {
	char out[TIMEUTIL_RFC3339_LEN];
	use_zone("America/New_York");
	timeutil_format_local(NEW_YEARS_EVE, out);
	ck_assert_str_eq(out, "2019-12-31T10:59:00-05:00");
	use_zone("UTC");
	timeutil_format_local(NEW_YEARS_EVE, out);
	ck_assert_str_eq(out, "2019-12-31T15:59:00+00:00");
}
END_TEST

START_TEST (test_set_zone_refuses_what_is_not_a_zone) {
	ck_assert_int_eq(timeutil_set_zone("Asia/Shangai"), -1);
	ck_assert_int_eq(timeutil_set_zone(""), -1);
	ck_assert_int_eq(timeutil_set_zone(NULL), -1);
	ck_assert_int_eq(timeutil_set_zone("../../etc/passwd"), -1);
	/* A folder of the tz database is not a zone. */
	ck_assert_int_eq(timeutil_set_zone("Asia"), -1);
	ck_assert_int_eq(timeutil_set_zone("UTC"), 0);
}
END_TEST

START_TEST (test_local_clock) {
	int minute, weekday;
	use_zone("Asia/Shanghai");
	timeutil_local_clock(NEW_YEARS_EVE, &minute, &weekday);
	ck_assert_int_eq(minute, 23 * 60 + 59);
	ck_assert_int_eq(weekday, 2); /* Tuesday */
	timeutil_local_clock(NEW_YEARS_EVE + 60 * USEC, &minute, &weekday);
	ck_assert_int_eq(minute, 0);
	ck_assert_int_eq(weekday, 3);
	/* 2019-12-29 was a Sunday: ISO weekday 7, not 0. */
	timeutil_local_clock(parse_ok("2019-12-29T12:00:00+08:00"), &minute, &weekday);
	ck_assert_int_eq(minute, 12 * 60);
	ck_assert_int_eq(weekday, 7);
}
END_TEST

START_TEST (test_local_midnight) {
	use_zone("Asia/Shanghai");
	ck_assert_int_eq(timeutil_local_midnight(2020, 1, 1), parse_ok("2019-12-31T16:00:00Z"));
	ck_assert_int_eq(timeutil_local_midnight(2020, 2, 29), parse_ok("2020-02-28T16:00:00Z"));
	/* Midnights on both sides of a DST change keep their own offset. */
	use_zone("America/New_York");
	ck_assert_int_eq(timeutil_local_midnight(2019, 3, 10), parse_ok("2019-03-10T05:00:00Z"));
	ck_assert_int_eq(timeutil_local_midnight(2019, 3, 11), parse_ok("2019-03-11T04:00:00Z"));
	ck_assert_int_eq(timeutil_local_midnight(2019, 11, 3), parse_ok("2019-11-03T04:00:00Z"));
	ck_assert_int_eq(timeutil_local_midnight(2019, 11, 4), parse_ok("2019-11-04T05:00:00Z"));
}
END_TEST

START_TEST (test_now_reads_the_wall_clock) {
	int64_t before = (int64_t)time(NULL) * USEC;
	int64_t now = timeutil_now_usec();
	int64_t after = ((int64_t)time(NULL) + 1) * USEC;
	ck_assert_int_ge(now, before);
	ck_assert_int_lt(now, after);
}
END_TEST

static Suite *timeutil_suite(void)
{
	Suite *s = suite_create("timeutil");
	TCase *tc = tcase_create("timeutil");

	tcase_add_test(tc, test_parse_utc_and_offsets_agree);
	tcase_add_test(tc, test_parse_fractions);
	tcase_add_test(tc, test_parse_leap_days);
	tcase_add_test(tc, test_parse_refuses_garbage);
	tcase_add_test(tc, test_format_utc_round_trips);
	tcase_add_test(tc, test_format_local_in_shanghai);
	tcase_add_test(tc, test_format_local_west_of_greenwich);
	tcase_add_test(tc, test_set_zone_refuses_what_is_not_a_zone);
	tcase_add_test(tc, test_local_clock);
	tcase_add_test(tc, test_local_midnight);
	tcase_add_test(tc, test_now_reads_the_wall_clock);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(timeutil_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
