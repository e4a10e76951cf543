/* test_workcal.c: the shipped working-day calendar (conf/calendar.yaml)
 * against known dates of the State Council notices, the deadline
 * conventions (working days, hours, yellow and red), unknown years, and
 * every load error with its position. Local time is Asia/Shanghai. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"
#include "workcal.h"

#define USEC 1000000LL
#define HOUR (3600 * USEC)

static struct workcal *shipped;

static void use_zone(const char *zone)
{
	ck_assert_msg(timeutil_set_zone(zone) == 0, "zone %s is not installed", zone);
}

static void shipped_load(void)
{
	const char *src = getenv("HOTLINE_SOURCE_DIR");
	char path[512], err[512];

	use_zone("Asia/Shanghai");
	ck_assert_msg(src != NULL, "HOTLINE_SOURCE_DIR is not set");
	snprintf(path, sizeof path, "%s/conf/calendar.yaml", src);
	ck_assert_msg(workcal_load_file(path, &shipped, err, sizeof err) == 0, "%s", err);
}

static void shipped_free(void)
{
	workcal_free(shipped);
	shipped = NULL;
}

static int64_t at(const char *rfc3339)
{
	int64_t usec = -1;
	ck_assert_msg(timeutil_parse_rfc3339(rfc3339, &usec) == 0, "'%s' was refused", rfc3339);
	return usec;
}

static const char *day_name(enum workcal_day d)
{
	switch (d) {
	case WORKCAL_DAY_WORKING:
		return "working";
	case WORKCAL_DAY_NOT_WORKING:
		return "not working";
	case WORKCAL_DAY_UNKNOWN:
		return "unknown";
	case WORKCAL_DAY_NO_SUCH_DATE:
		return "no such date";
	}
	return "?";
}

static void assert_day(int y, int m, int d, enum workcal_day want)
{
	enum workcal_day got = workcal_is_working_day(shipped, y, m, d);
	ck_assert_msg(got == want, "%04d-%02d-%02d is %s, expected %s", y, m, d, day_name(got),
		      day_name(want));
}

#define WORKING(y, m, d) assert_day(y, m, d, WORKCAL_DAY_WORKING)
#define OFF(y, m, d) assert_day(y, m, d, WORKCAL_DAY_NOT_WORKING)
#define UNKNOWN(y, m, d) assert_day(y, m, d, WORKCAL_DAY_UNKNOWN)

/* Checks that an order received at start with n working days is due at want. */
static void assert_due(const char *start, int n, const char *want)
{
	int64_t due = -1;
	int rc = workcal_add_working_days(shipped, at(start), n, &due);
	ck_assert_msg(rc == 0, "%s + %d working days: error %d", start, n, rc);
	char got[TIMEUTIL_RFC3339_LEN];
	timeutil_format_local(due, got);
	ck_assert_msg(due == at(want), "%s + %d working days is due %s, expected %s", start, n, got,
		      want);
}

static void assert_holiday(int y, int m, int d, const char *want)
{
	const char *got = workcal_holiday_name(shipped, y, m, d);
	if (want == NULL)
		ck_assert_msg(got == NULL, "%04d-%02d-%02d is in holiday %s, expected none", y, m,
			      d, got);
	else
		ck_assert_msg(got != NULL && strcmp(got, want) == 0,
			      "%04d-%02d-%02d is in holiday %s, expected %s", y, m, d,
			      got ? got : "(none)", want);
}

/* ---- the shipped calendar ------------------------------------------------- */

START_TEST (test_shipped_calendar_covers_2019_to_2026) {
	ck_assert_int_eq(workcal_first_year(shipped), 2019);
	ck_assert_int_eq(workcal_last_year(shipped), 2026);
}
END_TEST

START_TEST (test_national_day_2019_is_a_holiday) {
	WORKING(2019, 9, 30); /* Monday */
	for (int d = 1; d <= 7; d++) {
		OFF(2019, 10, d);
		assert_holiday(2019, 10, d, "国庆节");
	}
	WORKING(2019, 10, 8); /* Tuesday */
	assert_holiday(2019, 10, 8, NULL);
}
END_TEST

START_TEST (test_make_up_workdays_are_working_weekends) {
	WORKING(2019, 9, 29);  /* Sunday, made up for National Day */
	WORKING(2019, 10, 12); /* Saturday, made up for National Day */
	OFF(2019, 9, 28);      /* the Saturday before stays a weekend */
	OFF(2019, 10, 13);     /* the Sunday after stays a weekend */
	assert_holiday(2019, 9, 29, NULL);
	/* An ordinary week: Monday to Friday work, the weekend does not. */
	WORKING(2019, 11, 18);
	WORKING(2019, 11, 22);
	OFF(2019, 11, 23);
	OFF(2019, 11, 24);
	/* Labour Day 2019 as changed in March 2019: 4 days, two Sundays worked. */
	WORKING(2019, 4, 28);
	OFF(2019, 5, 1);
	OFF(2019, 5, 4);
	WORKING(2019, 5, 5);
	WORKING(2019, 5, 6);
}
END_TEST

START_TEST (test_deadline_across_the_year_boundary_skips_new_years_day) {
	WORKING(2019, 12, 31);
	OFF(2020, 1, 1);
	assert_holiday(2020, 1, 1, "元旦");
	WORKING(2020, 1, 2);
	/* Received on New Year's Eve 2019: 2020-01-01 does not count. */
	assert_due("2019-12-31T10:00:00+08:00", 1, "2020-01-03T00:00:00+08:00");
	assert_due("2019-12-31T23:59:59+08:00", 2, "2020-01-04T00:00:00+08:00");
	/* 2020-01-03 is a Friday: the third working day is the Monday. */
	assert_due("2019-12-31T10:00:00+08:00", 3, "2020-01-07T00:00:00+08:00");
	/* 2023's New Year holiday, given in its notice as 2022-12-31 to
	 * 2023-01-02, takes the Monday. */
	OFF(2023, 1, 2);
	assert_due("2022-12-30T17:00:00+08:00", 1, "2023-01-04T00:00:00+08:00");
}
END_TEST

START_TEST (test_leap_days) {
	OFF(2020, 2, 29); /* a Saturday, and no make-up workday */
	assert_holiday(2020, 2, 29, NULL);
	/* A Thursday, after 2024's Spring Festival (2-10 to 2-17, with the
	 * Sundays 2-4 and 2-18 worked). */
	WORKING(2024, 2, 29);
	OFF(2024, 2, 17);
	WORKING(2024, 2, 18);
	WORKING(2024, 2, 19);
	assert_day(2019, 2, 29, WORKCAL_DAY_NO_SUCH_DATE);
	assert_day(2021, 2, 29, WORKCAL_DAY_NO_SUCH_DATE);
	assert_day(2019, 4, 31, WORKCAL_DAY_NO_SUCH_DATE);
	assert_day(2019, 13, 1, WORKCAL_DAY_NO_SUCH_DATE);
	assert_day(2019, 0, 1, WORKCAL_DAY_NO_SUCH_DATE);
	assert_day(2019, 1, 0, WORKCAL_DAY_NO_SUCH_DATE);
	/* Friday 2020-02-28 with one day: the Saturday leap day is skipped. */
	assert_due("2020-02-28T17:00:00+08:00", 1, "2020-03-03T00:00:00+08:00");
	/* Wednesday 2024-02-28 with one day: due at the end of the leap day. */
	assert_due("2024-02-28T09:00:00+08:00", 1, "2024-03-01T00:00:00+08:00");
}
END_TEST

START_TEST (test_2020_spring_festival_extended_to_february_2) {
	WORKING(2020, 1, 19); /* Sunday, made up in the first notice */
	WORKING(2020, 1, 23);
	for (int d = 24; d <= 31; d++)
		OFF(2020, 1, d);
	/* Saturday 2-1 was a make-up workday until the extension. */
	OFF(2020, 2, 1);
	OFF(2020, 2, 2);
	assert_holiday(2020, 2, 1, "春节");
	WORKING(2020, 2, 3);
	assert_due("2020-01-23T18:00:00+08:00", 1, "2020-02-04T00:00:00+08:00");
}
END_TEST

START_TEST (test_counting_across_golden_week) {
	/* Monday before National Day: the next working day is 10-08. */
	assert_due("2019-09-30T16:00:00+08:00", 1, "2019-10-09T00:00:00+08:00");
	/* Five days: 10-08 to 10-11 and the make-up Saturday 10-12. */
	assert_due("2019-09-30T16:00:00+08:00", 5, "2019-10-13T00:00:00+08:00");
	assert_due("2019-09-30T16:00:00+08:00", 6, "2019-10-15T00:00:00+08:00");
	/* Friday 9-27: the make-up Sunday 9-29 is the first working day. */
	assert_due("2019-09-27T20:00:00+08:00", 1, "2019-09-30T00:00:00+08:00");
	assert_due("2019-09-27T20:00:00+08:00", 2, "2019-10-01T00:00:00+08:00");
	assert_due("2019-09-27T20:00:00+08:00", 3, "2019-10-09T00:00:00+08:00");
	/* 2025: National Day and Mid-Autumn together, 10-01 to 10-08. */
	assert_holiday(2025, 10, 8, "国庆节、中秋节");
	assert_due("2025-09-30T12:00:00+08:00", 1, "2025-10-10T00:00:00+08:00");
	/* Received during the holiday: still the first working day after it. */
	assert_due("2019-10-03T11:00:00+08:00", 1, "2019-10-09T00:00:00+08:00");
}
END_TEST

START_TEST (test_friday_evening_order_is_due_at_the_end_of_monday) {
	const char *monday_ends = "2019-11-19T00:00:00+08:00";
	assert_due("2019-11-15T20:00:00+08:00", 1, monday_ends); /* Friday */
	assert_due("2019-11-16T10:00:00+08:00", 1, monday_ends); /* Saturday */
	assert_due("2019-11-17T23:59:59+08:00", 1, monday_ends); /* Sunday */
	/* Received on Monday, any hour: the Monday is not counted. */
	assert_due("2019-11-18T00:00:00+08:00", 1, "2019-11-20T00:00:00+08:00");
	assert_due("2019-11-18T23:59:59.999999+08:00", 1, "2019-11-20T00:00:00+08:00");
	/* The day is local: 16:00Z on Sunday is already Monday in Shanghai. */
	assert_due("2019-11-17T15:59:59Z", 1, monday_ends);
	assert_due("2019-11-17T16:00:00Z", 1, "2019-11-20T00:00:00+08:00");
	/* When the Monday is a holiday (Dragon Boat 2024-06-10), Tuesday. */
	OFF(2024, 6, 10);
	assert_due("2024-06-07T19:00:00+08:00", 1, "2024-06-12T00:00:00+08:00");
}
END_TEST

START_TEST (test_2025_and_2026_spring_festivals_follow_the_new_rules) {
	/* From 2025 the Spring Festival starts on New Year's Eve, 8 days. */
	WORKING(2025, 1, 26); /* Sunday, made up */
	WORKING(2025, 1, 27);
	OFF(2025, 1, 28); /* 除夕 */
	OFF(2025, 2, 4);
	WORKING(2025, 2, 5);
	WORKING(2025, 2, 8); /* Saturday, made up */
	assert_due("2025-01-25T10:00:00+08:00", 1, "2025-01-27T00:00:00+08:00");
	assert_due("2025-01-27T10:00:00+08:00", 1, "2025-02-06T00:00:00+08:00");
	/* In 2024 New Year's Eve (2-9) was only encouraged off: it works. */
	WORKING(2024, 2, 9);
	/* Labour Day has five days from 2025 with one Sunday made up. */
	WORKING(2025, 4, 27);
	OFF(2025, 5, 5);
	WORKING(2025, 5, 6);
	/* 2026: nine days, 2-15 to 2-23, Saturdays 2-14 and 2-28 worked. */
	WORKING(2026, 2, 14);
	OFF(2026, 2, 15);
	OFF(2026, 2, 23);
	WORKING(2026, 2, 24);
	WORKING(2026, 2, 28);
	assert_holiday(2026, 2, 23, "春节");
}
END_TEST

START_TEST (test_dates_outside_the_calendar_are_unknown) {
	int64_t due = 42;

	UNKNOWN(2018, 6, 1);
	UNKNOWN(2027, 1, 4);
	UNKNOWN(1970, 1, 1);
	/* 2019's notice starts its New Year holiday on 2018-12-30 and makes
	 * 2018-12-29 a workday, but the rest of 2018 is not known. */
	UNKNOWN(2018, 12, 29);
	UNKNOWN(2018, 12, 31);
	assert_holiday(2018, 12, 31, NULL);
	WORKING(2026, 12, 31);
	/* The start day is never counted, so it may lie outside. */
	assert_due("2018-12-31T10:00:00+08:00", 1, "2019-01-03T00:00:00+08:00");
	assert_due("2026-12-30T10:00:00+08:00", 1, "2027-01-01T00:00:00+08:00");
	/* A deadline that needs 2027 is refused and due is left alone. */
	ck_assert_int_eq(workcal_add_working_days(shipped, at("2026-12-30T10:00:00+08:00"), 2,
						  &due),
			 -ERANGE);
	ck_assert_int_eq(due, 42);
	ck_assert_int_eq(workcal_add_working_days(shipped, at("2018-12-30T10:00:00+08:00"), 1,
						  &due),
			 -ERANGE);
	ck_assert_int_eq(due, 42);
	ck_assert_int_eq(workcal_add_working_days(shipped, at("2030-01-01T10:00:00+08:00"), 1,
						  &due),
			 -ERANGE);
	ck_assert_int_eq(workcal_add_working_days(shipped, at("2019-11-15T20:00:00+08:00"), 0,
						  &due),
			 -EINVAL);
	ck_assert_int_eq(workcal_add_working_days(shipped, at("2019-11-15T20:00:00+08:00"), -1,
						  &due),
			 -EINVAL);
	ck_assert_int_eq(due, 42);
}
END_TEST

START_TEST (test_urgent_orders_count_plain_hours) {
	/* Holidays and nights count: 4 hours before National Day end inside it. */
	ck_assert_int_eq(workcal_add_hours(at("2019-09-30T22:00:00+08:00"), 4),
			 at("2019-10-01T02:00:00+08:00"));
	ck_assert_int_eq(workcal_add_hours(at("2019-09-30T22:00:00.5+08:00"), 48),
			 at("2019-10-02T22:00:00.5+08:00"));
	ck_assert_int_eq(workcal_add_hours(at("2019-09-30T22:00:00+08:00"), 0),
			 at("2019-09-30T22:00:00+08:00"));
	/* Elapsed hours: the night New York leaves daylight saving lasts 25
	 * hours on the wall clock, and 24 hours end an hour earlier by it. */
	use_zone("America/New_York");
	ck_assert_int_eq(workcal_add_hours(at("2019-11-02T22:00:00-04:00"), 24),
			 at("2019-11-03T21:00:00-05:00"));
}
END_TEST

START_TEST (test_working_days_end_at_local_midnight_across_daylight_saving) {
	/* In New York the clocks go back on Sunday 2019-11-03, a day of 25
	 * hours. Made a workday here, it ends at 2019-11-04T00:00-05:00, not 24
	 * hours after its start at -04:00. */
	const char *text = "years:\n"
			   "  2019:\n"
			   "    holidays: [{name: a, from: 2019-01-01, to: 2019-01-01}]\n"
			   "    workdays: [2019-11-03]\n";
	struct workcal *c = NULL;
	char err[512];
	int64_t due = -1;

	ck_assert_msg(workcal_load_buffer("t.yaml", text, strlen(text), &c, err, sizeof err) == 0,
		      "%s", err);
	use_zone("America/New_York");
	ck_assert_int_eq(workcal_add_working_days(c, at("2019-11-02T18:00:00-04:00"), 1, &due), 0);
	ck_assert_int_eq(due, at("2019-11-04T00:00:00-05:00"));
	/* The Monday after, an ordinary day of 24 hours. */
	ck_assert_int_eq(workcal_add_working_days(c, at("2019-11-03T18:00:00-05:00"), 1, &due), 0);
	ck_assert_int_eq(due, at("2019-11-05T00:00:00-05:00"));
	workcal_free(c);
}
END_TEST

START_TEST (test_status_turns_yellow_then_red_at_the_boundaries) {
	int64_t due = at("2019-10-09T00:00:00+08:00");
	int64_t yellow = 24 * HOUR;

	ck_assert_int_eq(workcal_status(due, due - yellow - 1, yellow), WORKCAL_ON_TIME);
	ck_assert_int_eq(workcal_status(due, due - yellow, yellow), WORKCAL_NEAR_DUE);
	ck_assert_int_eq(workcal_status(due, due - 1, yellow), WORKCAL_NEAR_DUE);
	ck_assert_int_eq(workcal_status(due, due, yellow), WORKCAL_OVERDUE);
	ck_assert_int_eq(workcal_status(due, due + 1, yellow), WORKCAL_OVERDUE);
	ck_assert_int_eq(workcal_status(due, due + 30 * 24 * HOUR, yellow), WORKCAL_OVERDUE);
	/* No yellow window: on time until the due moment. */
	ck_assert_int_eq(workcal_status(due, due - 1, 0), WORKCAL_ON_TIME);
	ck_assert_int_eq(workcal_status(due, due - 1, -HOUR), WORKCAL_ON_TIME);
	ck_assert_int_eq(workcal_status(due, due, 0), WORKCAL_OVERDUE);
	/* Extreme operands do not overflow. */
	ck_assert_int_eq(workcal_status(INT64_MAX, INT64_MIN, INT64_MAX), WORKCAL_ON_TIME);
	ck_assert_int_eq(workcal_status(INT64_MAX, 0, INT64_MAX), WORKCAL_NEAR_DUE);
	ck_assert_int_eq(workcal_status(INT64_MIN, INT64_MAX, 0), WORKCAL_OVERDUE);
	ck_assert_str_eq(workcal_status_name(WORKCAL_ON_TIME), "on_time");
	ck_assert_str_eq(workcal_status_name(WORKCAL_NEAR_DUE), "near_due");
	ck_assert_str_eq(workcal_status_name(WORKCAL_OVERDUE), "overdue");
}
END_TEST

/* ---- loading ---------------------------------------------------------------- */

static struct workcal *load_ok(const char *text)
{
	struct workcal *c = NULL;
	char err[512] = "";
	int rc = workcal_load_buffer("t.yaml", text, strlen(text), &c, err, sizeof err);
	ck_assert_msg(rc == 0, "unexpected error: %s", err);
	return c;
}

/* Loads text that must fail and checks the error starts with want. */
static void assert_load_error(const char *text, const char *want)
{
	struct workcal *c = NULL;
	char err[512] = "";
	ck_assert_int_eq(workcal_load_buffer("t.yaml", text, strlen(text), &c, err, sizeof err),
			 -1);
	ck_assert_ptr_null(c);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		      "error\n  %s\ndoes not start with\n  %s", err, want);
}

#define GOOD_HOLIDAY "{name: a, from: 2019-01-01, to: 2019-01-01}"
#define NATIONAL_DAY "{name: b, from: 2019-10-01, to: 2019-10-07}"

/* A 2019 calendar whose holidays[1] (line 5, column 9) is the given flow
 * mapping, after a good holidays[0], and whose workdays are the given list. */
static void entry_text(char *text, size_t len, const char *holiday, const char *workdays)
{
	snprintf(text, len,
		 "years:\n"
		 "  2019:\n"
		 "    holidays:\n"
		 "      - " GOOD_HOLIDAY "\n"
		 "      - %s\n"
		 "    workdays: %s\n",
		 holiday, workdays);
}

static void assert_entry_error(const char *holiday, const char *workdays, const char *want)
{
	char text[1024];
	entry_text(text, sizeof text, holiday, workdays);
	assert_load_error(text, want);
}

START_TEST (test_a_small_calendar_loads_and_answers) {
	struct workcal *c = load_ok("years:\n"
				    "  2030:\n"
				    "    holidays:\n"
				    "      - {name: x, from: \"2029-12-31\", to: 2030-01-02}\n"
				    "    workdays: [2030-01-05]\n"
				    "  2031:\n"
				    "    holidays: [{name: y, from: 2031-01-01, to: 2031-01-01}]\n"
				    "    workdays: []\n");
	ck_assert_int_eq(workcal_first_year(c), 2030);
	ck_assert_int_eq(workcal_last_year(c), 2031);
	ck_assert_int_eq(workcal_is_working_day(c, 2029, 12, 31), WORKCAL_DAY_UNKNOWN);
	ck_assert_int_eq(workcal_is_working_day(c, 2030, 1, 2), WORKCAL_DAY_NOT_WORKING);
	ck_assert_int_eq(workcal_is_working_day(c, 2030, 1, 3), WORKCAL_DAY_WORKING);
	ck_assert_int_eq(workcal_is_working_day(c, 2030, 1, 5), WORKCAL_DAY_WORKING);
	ck_assert_int_eq(workcal_is_working_day(c, 2030, 1, 6), WORKCAL_DAY_NOT_WORKING);
	ck_assert_int_eq(workcal_is_working_day(c, 2031, 1, 1), WORKCAL_DAY_NOT_WORKING);
	ck_assert_int_eq(workcal_is_working_day(c, 2031, 12, 31), WORKCAL_DAY_WORKING);
	ck_assert_int_eq(workcal_is_working_day(c, 2032, 1, 1), WORKCAL_DAY_UNKNOWN);
	ck_assert_str_eq(workcal_holiday_name(c, 2030, 1, 1), "x");
	workcal_free(c);
}
END_TEST

START_TEST (test_bad_file_structure_is_refused) {
	assert_load_error("", "t.yaml:1:1: calendar file: is empty; it needs 'years'");
	assert_load_error("- 2019\n", "t.yaml:1:1: calendar file: expected a mapping with "
				      "'years', found a list");
	assert_load_error("{}\n", "t.yaml:1:1: calendar file: 'years' is missing");
	assert_load_error("years: {}\nextra: 1\n",
			  "t.yaml:2:1: calendar file: unknown key 'extra'; expected years");
	assert_load_error("years: {}\nyears: {}\n",
			  "t.yaml:2:1: calendar file: duplicate key 'years' (first given at line "
			  "1)");
	assert_load_error("years: [2019]\n", "t.yaml:1:8: years: expected a mapping like");
	assert_load_error("years: {}\n", "t.yaml:1:8: years: is empty; list at least one year");
	assert_load_error("years:\n  2019:\n    holidays: [" GOOD_HOLIDAY "]\n"
			  "    workdays: []\n"
			  "---\nyears: {}\n",
			  "t.yaml:6:1: calendar file: only one YAML document is allowed");
}
END_TEST

START_TEST (test_years_must_be_consecutive_and_in_order) {
	const char *entry = ": {holidays: [" GOOD_HOLIDAY "], workdays: []}\n";
	char text[512];

	assert_load_error("years:\n  19: {}\n",
			  "t.yaml:2:3: years: '19' is not a year; use four digits from 1970 to "
			  "9998, e.g. 2019");
	assert_load_error("years:\n  1969: {}\n", "t.yaml:2:3: years: '1969' is not a year");
	assert_load_error("years:\n  20x9: {}\n", "t.yaml:2:3: years: '20x9' is not a year");
	assert_load_error("years:\n  [2019]: {}\n",
			  "t.yaml:2:3: years: expected a single value, found a list");
	snprintf(text, sizeof text, "years:\n  2019%s  2021%s", entry, entry);
	assert_load_error(text, "t.yaml:3:3: years: 2021 follows 2019; every year between must "
				"be listed, or its dates would be guessed");
	snprintf(text, sizeof text, "years:\n  2020%s  2019%s", entry, entry);
	assert_load_error(text, "t.yaml:3:3: years: 2019 comes after 2020; list the years in "
				"order, each once");
	snprintf(text, sizeof text, "years:\n  2019%s  2019%s", entry, entry);
	assert_load_error(text, "t.yaml:3:3: years: 2019 comes after 2019");
}
END_TEST

START_TEST (test_bad_year_entries_are_refused) {
	assert_load_error("years:\n  2019: [1]\n", "t.yaml:2:9: years[2019]: expected a mapping");
	assert_load_error("years:\n  2019: {workdays: []}\n",
			  "t.yaml:2:9: years[2019]: 'holidays' is missing");
	assert_load_error("years:\n  2019: {holidays: [" GOOD_HOLIDAY "]}\n",
			  "t.yaml:2:9: years[2019]: 'workdays' is missing");
	assert_load_error("years:\n  2019: {holidays: [], workdays: []}\n",
			  "t.yaml:2:20: years[2019].holidays: expected a non-empty list of "
			  "holidays");
	assert_load_error("years:\n  2019: {holidays: " GOOD_HOLIDAY ", workdays: []}\n",
			  "t.yaml:2:20: years[2019].holidays: expected a non-empty list");
	assert_load_error("years:\n  2019: {holidays: [" GOOD_HOLIDAY "], workdays: 2019-09-29}\n",
			  "t.yaml:2:77: years[2019].workdays: expected a list of dates");
	assert_load_error("years:\n  2019: {holidays: [" GOOD_HOLIDAY
			  "], workdays: [], notes: x}\n",
			  "t.yaml:2:81: years[2019]: unknown key 'notes'; expected holidays, "
			  "workdays");
}
END_TEST

START_TEST (test_bad_holidays_are_refused) {
	assert_entry_error("{name: b, from: 2019-10-07, to: 2019-10-01}", "[]",
			   "t.yaml:5:41: years[2019].holidays[1].to: date before from "
			   "(2019-10-01 is before 2019-10-07)");
	assert_entry_error("{name: b, from: 2019-13-01, to: 2019-10-01}", "[]",
			   "t.yaml:5:25: years[2019].holidays[1].from: '2019-13-01' is not a date "
			   "YYYY-MM-DD");
	assert_entry_error("{name: b, from: 2019-02-29, to: 2019-03-01}", "[]",
			   "t.yaml:5:25: years[2019].holidays[1].from: '2019-02-29' is not a "
			   "date");
	assert_entry_error("{name: b, from: 2019-10-1, to: 2019-10-07}", "[]",
			   "t.yaml:5:25: years[2019].holidays[1].from: '2019-10-1' is not a date");
	assert_entry_error("{name: b, from: 2019-10-01, to: [2019-10-07]}", "[]",
			   "t.yaml:5:41: years[2019].holidays[1].to: expected a single value, "
			   "found a list");
	assert_entry_error("{name: b, from: 2019-10-01, to: 2019-11-07}", "[]",
			   "t.yaml:5:41: years[2019].holidays[1].to: makes a holiday of 38 days; "
			   "no notice gives more than 31");
	/* A year's dates may reach December before and January after, no more. */
	assert_entry_error("{name: b, from: 2018-11-30, to: 2018-12-01}", "[]",
			   "t.yaml:5:25: years[2019].holidays[1].from: 2018-11-30 is not in 2019; "
			   "a year lists its own dates");
	assert_entry_error("{name: b, from: 2020-01-31, to: 2020-02-01}", "[]",
			   "t.yaml:5:41: years[2019].holidays[1].to: 2020-02-01 is not in 2019");
	assert_entry_error("{name: '', from: 2019-10-01, to: 2019-10-07}", "[]",
			   "t.yaml:5:16: years[2019].holidays[1].name: '' is not a holiday name "
			   "of 1 to 64 bytes");
	/* 64 bytes pass, 65 do not. */
	char name[66], holiday[128], text[1024], want[192];
	memset(name, 'a', 64);
	name[64] = '\0';
	snprintf(holiday, sizeof holiday, "{name: %s, from: 2019-10-01, to: 2019-10-07}", name);
	entry_text(text, sizeof text, holiday, "[]");
	struct workcal *c = load_ok(text);
	ck_assert_str_eq(workcal_holiday_name(c, 2019, 10, 1), name);
	workcal_free(c);
	strcat(name, "a");
	snprintf(holiday, sizeof holiday, "{name: %s, from: 2019-10-01, to: 2019-10-07}", name);
	snprintf(want, sizeof want,
		 "t.yaml:5:16: years[2019].holidays[1].name: '%s' is not a holiday name", name);
	assert_entry_error(holiday, "[]", want);
	assert_entry_error("{name: [b], from: 2019-10-01, to: 2019-10-07}", "[]",
			   "t.yaml:5:16: years[2019].holidays[1].name: expected a single value");
	assert_entry_error("{from: 2019-10-01, to: 2019-10-07}", "[]",
			   "t.yaml:5:9: years[2019].holidays[1]: 'name' is missing");
	assert_entry_error("{name: b, to: 2019-10-07}", "[]",
			   "t.yaml:5:9: years[2019].holidays[1]: 'from' is missing");
	assert_entry_error("{name: b, from: 2019-10-07}", "[]",
			   "t.yaml:5:9: years[2019].holidays[1]: 'to' is missing");
	assert_entry_error("{name: b, from: 2019-10-01, to: 2019-10-07, days: 7}", "[]",
			   "t.yaml:5:53: years[2019].holidays[1]: unknown key 'days'; expected "
			   "name, from, to");
	assert_entry_error("{name: b, name: c, from: 2019-10-01, to: 2019-10-07}", "[]",
			   "t.yaml:5:19: years[2019].holidays[1]: duplicate key 'name' (first "
			   "given at line 5)");
	assert_entry_error("2019-10-01", "[]",
			   "t.yaml:5:9: years[2019].holidays[1]: expected a mapping like {name: "
			   "国庆节, from: 2019-10-01, to: 2019-10-07}, found a single value");
}
END_TEST

START_TEST (test_overlapping_days_are_refused) {
	/* A holiday that overlaps holidays[0] (2019-01-01). */
	assert_entry_error("{name: b, from: 2018-12-30, to: 2019-01-01}", "[]",
			   "t.yaml:5:9: years[2019].holidays[1]: 2019-01-01 is already in "
			   "years[2019].holidays[0] (a); a day has one kind");
	/* A make-up workday inside a holiday. */
	assert_entry_error("{name: b, from: 2019-10-01, to: 2019-10-07}", "[2019-10-05]",
			   "t.yaml:6:16: years[2019].workdays[0]: 2019-10-05 is already in "
			   "years[2019].holidays[1] (b); a day has one kind");
	/* A holiday over a make-up workday listed the year before. */
	assert_load_error("years:\n"
			  "  2019:\n"
			  "    holidays: [" GOOD_HOLIDAY "]\n"
			  "    workdays: [2019-12-28]\n"
			  "  2020:\n"
			  "    holidays: [{name: c, from: 2019-12-28, to: 2020-01-01}]\n"
			  "    workdays: []\n",
			  "t.yaml:6:16: years[2020].holidays[0]: 2019-12-28 is already a make-up "
			  "workday (years[2019].workdays[0]); a day has one kind");
	/* The same make-up workday twice. */
	assert_entry_error("{name: b, from: 2019-10-01, to: 2019-10-07}",
			   "[2019-09-29, 2019-10-12, 2019-09-29]",
			   "t.yaml:6:40: years[2019].workdays[2]: 2019-09-29 is already a make-up "
			   "workday (years[2019].workdays[0]); a day has one kind");
}
END_TEST

START_TEST (test_bad_workdays_are_refused) {
	assert_entry_error(NATIONAL_DAY, "[2019-10-08]",
			   "t.yaml:6:16: years[2019].workdays[0]: 2019-10-08 is a Tuesday, a "
			   "working day anyway; make-up workdays are Saturdays or Sundays");
	assert_entry_error(NATIONAL_DAY, "[2019-09-29, 2019-10-11]",
			   "t.yaml:6:28: years[2019].workdays[1]: 2019-10-11 is a Friday");
	assert_entry_error(NATIONAL_DAY, "[2019-09-31]",
			   "t.yaml:6:16: years[2019].workdays[0]: '2019-09-31' is not a date");
	assert_entry_error(NATIONAL_DAY, "[[2019-09-29]]",
			   "t.yaml:6:16: years[2019].workdays[0]: expected a single value, found "
			   "a list");
	assert_entry_error(NATIONAL_DAY, "[2021-01-02]",
			   "t.yaml:6:16: years[2019].workdays[0]: 2021-01-02 is not in 2019");
}
END_TEST

START_TEST (test_malformed_yaml_is_refused_with_its_position) {
	assert_load_error("years:\n  2019: {holidays: [\n", "t.yaml:3:1: malformed YAML: ");
	assert_load_error("years:\n  2019:\n    holidays: [{name: \"a, from: 2019-01-01}]\n",
			  "t.yaml:4:1: malformed YAML: ");
}
END_TEST

START_TEST (test_missing_calendar_file_is_an_error) {
	struct workcal *c = NULL;
	char err[512];
	ck_assert_int_eq(workcal_load_file("/nonexistent/calendar.yaml", &c, err, sizeof err), -1);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "/nonexistent/calendar.yaml: cannot open: No such file or directory");
}
END_TEST

static Suite *workcal_suite(void)
{
	Suite *s = suite_create("workcal");
	TCase *tc = tcase_create("shipped calendar");

	tcase_add_checked_fixture(tc, shipped_load, shipped_free);
	tcase_add_test(tc, test_shipped_calendar_covers_2019_to_2026);
	tcase_add_test(tc, test_national_day_2019_is_a_holiday);
	tcase_add_test(tc, test_make_up_workdays_are_working_weekends);
	tcase_add_test(tc, test_deadline_across_the_year_boundary_skips_new_years_day);
	tcase_add_test(tc, test_leap_days);
	tcase_add_test(tc, test_2020_spring_festival_extended_to_february_2);
	tcase_add_test(tc, test_counting_across_golden_week);
	tcase_add_test(tc, test_friday_evening_order_is_due_at_the_end_of_monday);
	tcase_add_test(tc, test_2025_and_2026_spring_festivals_follow_the_new_rules);
	tcase_add_test(tc, test_dates_outside_the_calendar_are_unknown);
	tcase_add_test(tc, test_urgent_orders_count_plain_hours);
	tcase_add_test(tc, test_working_days_end_at_local_midnight_across_daylight_saving);
	tcase_add_test(tc, test_status_turns_yellow_then_red_at_the_boundaries);
	suite_add_tcase(s, tc);

	tc = tcase_create("load errors");
	tcase_add_test(tc, test_a_small_calendar_loads_and_answers);
	tcase_add_test(tc, test_bad_file_structure_is_refused);
	tcase_add_test(tc, test_years_must_be_consecutive_and_in_order);
	tcase_add_test(tc, test_bad_year_entries_are_refused);
	tcase_add_test(tc, test_bad_holidays_are_refused);
	tcase_add_test(tc, test_overlapping_days_are_refused);
	tcase_add_test(tc, test_bad_workdays_are_refused);
	tcase_add_test(tc, test_malformed_yaml_is_refused_with_its_position);
	tcase_add_test(tc, test_missing_calendar_file_is_an_error);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(workcal_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
