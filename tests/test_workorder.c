/* test_workorder.c: the work order's stage table (every stage and action),
 * the shipped config (conf/workorders.yaml) and the deadlines it gives over
 * weeks, holidays, make-up workdays, the year boundary and a leap day,
 * urgent orders, dates the calendar cannot answer, yellow and red, and
 * every load error with its position. Local time is Asia/Shanghai. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testfiles.h"
#include "timeutil.h"
#include "workorder.h"

#define USEC 1000000LL
#define HOUR (3600 * USEC)

static struct wo_config *shipped;

/* ---- helpers -------------------------------------------------------------------- */

static int64_t at(const char *rfc3339)
{
	int64_t usec = -1;
	ck_assert_msg(timeutil_parse_rfc3339(rfc3339, &usec) == 0, "'%s' was refused", rfc3339);
	return usec;
}

static void shipped_load(void)
{
	const char *src = getenv("HOTLINE_SOURCE_DIR");
	char path[512], err[512];

	ck_assert_msg(timeutil_set_zone("Asia/Shanghai") == 0, "Asia/Shanghai is not installed");
	ck_assert_msg(src != NULL, "HOTLINE_SOURCE_DIR is not set");
	snprintf(path, sizeof path, "%s/conf/workorders.yaml", src);
	ck_assert_msg(wo_config_load_file(path, &shipped, err, sizeof err) == 0, "%s", err);
}

static void shipped_free(void)
{
	wo_config_free(shipped);
	shipped = NULL;
}

/* A calendar of 2019 only, enough for loading. */
static const char small_calendar[] = "years:\n"
				     "  2019:\n"
				     "    holidays:\n"
				     "      - {name: 国庆节, from: 2019-10-01, to: 2019-10-07}\n"
				     "    workdays: [2019-09-29, 2019-10-12]\n";

/* The loading tests' fixture: a folder holding the small calendar. */
static void files_create(void)
{
	ck_assert_msg(timeutil_set_zone("Asia/Shanghai") == 0, "Asia/Shanghai is not installed");
	test_dir_create();
	test_write_file("cal.yaml", small_calendar);
}

static struct wo_config *load_ok(const char *text)
{
	struct wo_config *c = NULL;
	char err[512] = "";
	int rc = wo_config_load_file(test_write_file("good.yaml", text), &c, err, sizeof err);
	ck_assert_msg(rc == 0, "unexpected error: %s", err);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* Loads text that must fail and returns the error (static buffer). */
static const char *load_error(const char *text)
{
	static char err[1024];
	struct wo_config *c = NULL;

	err[0] = '\0';
	ck_assert_int_eq(
		wo_config_load_file(test_write_file("bad.yaml", text), &c, err, sizeof err), -1);
	ck_assert_ptr_null(c);
	return err;
}

/* Checks that text fails with an error starting "<test_dir>/bad.yaml:LINE:COL: REST". */
static void assert_error_at(const char *text, int line, int col, const char *rest)
{
	char want[768];
	const char *err = load_error(text);

	snprintf(want, sizeof want, "%s/bad.yaml:%d:%d: %s", test_dir, line, col, rest);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		      "error\n  %s\ndoes not start with\n  %s", err, want);
}

/* The pieces of a good file; line numbers in the tests count from these. */
#define CALENDAR "calendar_file: cal.yaml\n" /* line 1 */
#define PLATFORM_CITY                                                                              \
	"platforms:\n"                                /* line 2 */                                 \
	"  - name: city_12345\n"                      /* line 3 */                                 \
	"    secret: \"0123456789abcdef\"\n"          /* line 4 */                                 \
	"    url: \"http://127.0.0.1:9/v1/notify\"\n" /* line 5 */
#define DEADLINES                                                                                  \
	"deadlines:\n"                                                                             \
	"  default: {sign_days: 1, reply_days: 5, urgent_hours: 24}\n"
#define GOOD CALENDAR PLATFORM_CITY DEADLINES

/* Checks that an order of cat received at received (urgent or not) is due
 * to be signed at sign and replied to at reply. */
static void assert_deadlines(enum category cat, bool urgent, const char *received, const char *sign,
			     const char *reply)
{
	int64_t sign_due = -1, reply_due = -1;
	char got_sign[TIMEUTIL_RFC3339_LEN], got_reply[TIMEUTIL_RFC3339_LEN];
	int rc = wo_deadlines(shipped, cat, urgent, at(received), &sign_due, &reply_due);

	ck_assert_msg(rc == 0, "%s order received %s: error %d", category_name(cat), received, rc);
	timeutil_format_local(sign_due, got_sign);
	timeutil_format_local(reply_due, got_reply);
	ck_assert_msg(sign_due == at(sign) && reply_due == at(reply),
		      "%s%s order received %s: sign by %s, reply by %s; expected %s and %s",
		      urgent ? "urgent " : "", category_name(cat), received, got_sign, got_reply,
		      sign, reply);
}

/* ---- the stage table ------------------------------------------------------------ */

START_TEST (test_stages_and_actions_have_their_names) {
	static const char *const stages[] = {"received",  "signed", "in_progress", "replied",
					     "revisited", "closed", "returned"};
	static const char *const actions[] = {"sign",  "start",  "reply",  "revisit",
					      "close", "return", "extend", "assign"};

	ck_assert_int_eq(WO_STAGE_COUNT, 7);
	for (int i = 0; i < WO_STAGE_COUNT; i++) {
		enum wo_stage s = WO_RETURNED;
		ck_assert_str_eq(wo_stage_name((enum wo_stage)i), stages[i]);
		ck_assert_int_eq(wo_stage_from_name(stages[i], &s), 0);
		ck_assert_int_eq(s, i);
	}
	ck_assert_int_eq(WO_ACTION_COUNT, 8);
	for (int i = 0; i < WO_ACTION_COUNT; i++) {
		enum wo_action a = WO_ASSIGN;
		ck_assert_str_eq(wo_action_name((enum wo_action)i), actions[i]);
		ck_assert_int_eq(wo_action_from_name(actions[i], &a), 0);
		ck_assert_int_eq(a, i);
	}
	enum wo_stage s = WO_SIGNED;
	enum wo_action a = WO_START;
	ck_assert_int_eq(wo_stage_from_name("in progress", &s), -1);
	ck_assert_int_eq(wo_stage_from_name("", &s), -1);
	ck_assert_int_eq(s, WO_SIGNED);
	ck_assert_int_eq(wo_action_from_name("Sign", &a), -1);
	ck_assert_int_eq(wo_action_from_name("intake", &a), -1);
	ck_assert_int_eq(a, WO_START);
	ck_assert_str_eq(wo_stage_name(WO_STAGE_COUNT), "unknown");
	ck_assert_str_eq(wo_action_name(WO_ACTION_COUNT), "unknown");
}
END_TEST

/* The table of doc/workorders.md: the stage each action reaches from each
 * stage, or -1 where it is refused. */
#define NO -1
static const int table[WO_STAGE_COUNT][WO_ACTION_COUNT] = {
	/* sign, start, reply, revisit, close, return, extend, assign */
	[WO_RECEIVED] = {WO_SIGNED, NO, NO, NO, NO, WO_RETURNED, NO, WO_RECEIVED},
	[WO_SIGNED] = {NO, WO_IN_PROGRESS, NO, NO, NO, WO_RETURNED, WO_SIGNED, WO_SIGNED},
	[WO_IN_PROGRESS] = {NO, NO, WO_REPLIED, NO, NO, WO_RETURNED, WO_IN_PROGRESS,
			    WO_IN_PROGRESS},
	[WO_REPLIED] = {NO, NO, NO, WO_REVISITED, NO, NO, NO, WO_REPLIED},
	[WO_REVISITED] = {NO, NO, NO, NO, WO_CLOSED, NO, NO, WO_REVISITED},
	[WO_CLOSED] = {NO, NO, NO, NO, NO, NO, NO, NO},
	[WO_RETURNED] = {NO, NO, NO, NO, NO, NO, NO, NO},
};

START_TEST (test_every_stage_and_action_follows_the_table) {
	/* How the action is written in a refusal ("cannot reply to an order"). */
	static const char *const verbs[] = {"sign",  "start",  "reply to", "revisit",
					    "close", "return", "extend",   "assign"};
	int legal = 0, refused = 0, legal_per_action[WO_ACTION_COUNT] = {0};

	for (int from = 0; from < WO_STAGE_COUNT; from++) {
		for (int a = 0; a < WO_ACTION_COUNT; a++) {
			enum wo_stage to = (enum wo_stage)99;
			char err[256] = "";
			int rc = wo_apply((enum wo_stage)from, (enum wo_action)a, &to, err,
					  sizeof err);
			const char *fs = wo_stage_name((enum wo_stage)from);
			const char *an = wo_action_name((enum wo_action)a);
			if (table[from][a] == NO) {
				ck_assert_msg(rc == -EPERM, "%s in %s: got %d, expected -EPERM", an,
					      fs, rc);
				ck_assert_int_eq(to, 99);
				char want[96];
				snprintf(want, sizeof want, "cannot %s an order that is %s; ",
					 verbs[a], fs);
				ck_assert_msg(strncmp(err, want, strlen(want)) == 0 &&
						      strlen(err) > strlen(want),
					      "%s in %s: '%s' does not start with '%s' and go on",
					      an, fs, err, want);
				refused++;
			} else {
				ck_assert_msg(rc == 0, "%s in %s: refused: %s", an, fs, err);
				ck_assert_msg((int)to == table[from][a], "%s in %s reaches %s", an,
					      fs, wo_stage_name(to));
				legal++;
				legal_per_action[a]++;
			}
		}
	}
	ck_assert_int_eq(legal, 15);
	ck_assert_int_eq(refused, 7 * 8 - 15);
	/* One stage for each forward action, three for return, two for extend,
	 * every stage but closed and returned for assign. */
	for (int a = WO_SIGN; a <= WO_CLOSE; a++)
		ck_assert_int_eq(legal_per_action[a], 1);
	ck_assert_int_eq(legal_per_action[WO_RETURN], 3);
	ck_assert_int_eq(legal_per_action[WO_EXTEND], 2);
	ck_assert_int_eq(legal_per_action[WO_ASSIGN], 5);
}
END_TEST

static void assert_refusal(enum wo_stage from, enum wo_action a, const char *want)
{
	enum wo_stage to = from;
	char err[256] = "";
	ck_assert_int_eq(wo_apply(from, a, &to, err, sizeof err), -EPERM);
	ck_assert_str_eq(err, want);
}

START_TEST (test_refusals_say_what_would_work) {
	assert_refusal(WO_RECEIVED, WO_REPLY,
		       "cannot reply to an order that is received; sign and start it first");
	assert_refusal(WO_RECEIVED, WO_START,
		       "cannot start an order that is received; sign it first");
	assert_refusal(WO_RECEIVED, WO_REVISIT,
		       "cannot revisit an order that is received; sign, start and reply to it "
		       "first");
	assert_refusal(WO_IN_PROGRESS, WO_CLOSE,
		       "cannot close an order that is in_progress; reply and revisit it first");
	assert_refusal(WO_IN_PROGRESS, WO_SIGN,
		       "cannot sign an order that is in_progress; it was signed already");
	assert_refusal(WO_REVISITED, WO_REPLY,
		       "cannot reply to an order that is revisited; it was replied to already");
	assert_refusal(WO_CLOSED, WO_ASSIGN,
		       "cannot assign an order that is closed; a closed order is final");
	assert_refusal(WO_RETURNED, WO_SIGN,
		       "cannot sign an order that is returned; it went back to its platform and "
		       "is final");
	assert_refusal(WO_REPLIED, WO_RETURN,
		       "cannot return an order that is replied; it was replied to already, and "
		       "only a received, signed or in_progress order can go back to its platform");
	assert_refusal(WO_RECEIVED, WO_EXTEND,
		       "cannot extend an order that is received; sign it first");
	assert_refusal(WO_REVISITED, WO_EXTEND,
		       "cannot extend an order that is revisited; it was replied to already, so "
		       "no deadline is left to extend");
}
END_TEST

START_TEST (test_stages_and_actions_out_of_range_are_invalid) {
	enum wo_stage to = WO_SIGNED;
	char err[128];

	ck_assert_int_eq(wo_apply(WO_STAGE_COUNT, WO_SIGN, &to, err, sizeof err), -EINVAL);
	ck_assert_int_eq(wo_apply(WO_RECEIVED, WO_ACTION_COUNT, &to, err, sizeof err), -EINVAL);
	ck_assert_int_eq(wo_apply(WO_RECEIVED, (enum wo_action)(-1), &to, err, sizeof err),
			 -EINVAL);
	ck_assert_int_eq(to, WO_SIGNED);
	/* A zero-length message buffer is left alone. */
	ck_assert_int_eq(wo_apply(WO_CLOSED, WO_SIGN, &to, NULL, 0), -EPERM);
}
END_TEST

START_TEST (test_the_platform_learns_every_change_but_start_and_assign) {
	int told = 0;

	for (int a = 0; a < WO_ACTION_COUNT; a++)
		told += wo_platform_must_learn((enum wo_action)a);
	ck_assert_int_eq(told, 6);
	ck_assert(wo_platform_must_learn(WO_SIGN));
	ck_assert(wo_platform_must_learn(WO_REPLY));
	ck_assert(wo_platform_must_learn(WO_RETURN));
	ck_assert(wo_platform_must_learn(WO_EXTEND));
	ck_assert(wo_platform_must_learn(WO_REVISIT));
	ck_assert(wo_platform_must_learn(WO_CLOSE));
	ck_assert(!wo_platform_must_learn(WO_START));
	ck_assert(!wo_platform_must_learn(WO_ASSIGN));
	ck_assert(!wo_platform_must_learn(WO_ACTION_COUNT));
}
END_TEST

/* ---- the shipped config ----------------------------------------------------------- */

START_TEST (test_shipped_config_has_both_platforms_and_the_production_deadlines) {
	const struct wo_platform *city = wo_platform_find(shipped, "city_12345");
	const struct wo_platform *province = wo_platform_find(shipped, "province_12345");

	ck_assert_ptr_nonnull(city);
	ck_assert_ptr_nonnull(province);
	ck_assert_ptr_null(wo_platform_find(shipped, "town_12345"));
	ck_assert_ptr_null(wo_platform_find(shipped, ""));
	ck_assert_uint_eq(shipped->n_platforms, 2);
	ck_assert_str_eq(city->name, "city_12345");
	ck_assert_uint_ge(strlen(city->secret), WO_SECRET_MIN);
	ck_assert_str_ne(city->secret, province->secret);
	ck_assert_msg(strncmp(city->url, "http://127.0.0.1:", 17) == 0, "%s", city->url);
	ck_assert_msg(strncmp(province->url, "http://127.0.0.1:", 17) == 0, "%s", province->url);
	ck_assert_int_eq(shipped->yellow_hours, 24);
	ck_assert_int_eq(workcal_first_year(shipped->calendar), 2019);
	ck_assert_ptr_nonnull(strstr(shipped->calendar_file, "/conf/calendar.yaml"));

	for (int i = 0; i < CATEGORY_COUNT; i++) {
		const struct wo_deadline *d = &shipped->deadlines[i];
		enum category cat = (enum category)i;
		int reply = cat == CATEGORY_COMPLAINT    ? 10 :
			    cat == CATEGORY_CONSULTATION ? 3 :
			    cat == CATEGORY_BOOKING      ? 3 :
							   5;
		ck_assert_msg(d->sign_days == 1, "%s: sign_days %d", category_name(cat),
			      d->sign_days);
		ck_assert_msg(d->reply_days == reply, "%s: reply_days %d, expected %d",
			      category_name(cat), d->reply_days, reply);
		ck_assert_msg(d->urgent_hours == (cat == CATEGORY_CRISIS ? 2 : 24),
			      "%s: urgent_hours %d", category_name(cat), d->urgent_hours);
	}
}
END_TEST

START_TEST (test_deadlines_in_an_ordinary_week) {
	/* Monday 2019-11-18: signed by the end of Tuesday; a complaint's ten
	 * working days end on Monday 12-02; the default five on Monday 11-25. */
	assert_deadlines(CATEGORY_COMPLAINT, false, "2019-11-18T10:00:00+08:00",
			 "2019-11-20T00:00:00+08:00", "2019-12-03T00:00:00+08:00");
	assert_deadlines(CATEGORY_EXPERT_QA, false, "2019-11-18T10:00:00+08:00",
			 "2019-11-20T00:00:00+08:00", "2019-11-26T00:00:00+08:00");
	/* Received a second before midnight: the day still does not count. */
	assert_deadlines(CATEGORY_CONSULTATION, false, "2019-11-18T23:59:59+08:00",
			 "2019-11-20T00:00:00+08:00", "2019-11-22T00:00:00+08:00");
	/* Friday evening: signed by the end of Monday. */
	assert_deadlines(CATEGORY_BOOKING, false, "2019-11-22T19:30:00+08:00",
			 "2019-11-26T00:00:00+08:00", "2019-11-28T00:00:00+08:00");
}
END_TEST

START_TEST (test_deadlines_over_national_day_2019) {
	/* Monday 09-30: 10-01 to 10-07 are holidays, 10-08 is the first
	 * working day; a consultation's three end on 10-10. */
	assert_deadlines(CATEGORY_CONSULTATION, false, "2019-09-30T16:00:00+08:00",
			 "2019-10-09T00:00:00+08:00", "2019-10-11T00:00:00+08:00");
	/* Received during the holiday: counted from 10-08 all the same; the
	 * ten days are 10-08 to 10-12 (a make-up Saturday) and 10-14 to 10-18. */
	assert_deadlines(CATEGORY_COMPLAINT, false, "2019-10-03T11:00:00+08:00",
			 "2019-10-09T00:00:00+08:00", "2019-10-19T00:00:00+08:00");
}
END_TEST

START_TEST (test_deadlines_count_make_up_workdays) {
	/* Friday 09-27: Sunday 09-29 is a make-up workday, so it is the first
	 * working day; the third is 10-08, after the holiday. */
	assert_deadlines(CATEGORY_CONSULTATION, false, "2019-09-27T20:00:00+08:00",
			 "2019-09-30T00:00:00+08:00", "2019-10-09T00:00:00+08:00");
	/* Received on the make-up day itself: that day is not counted either. */
	assert_deadlines(CATEGORY_CONSULTATION, false, "2019-09-29T09:00:00+08:00",
			 "2019-10-01T00:00:00+08:00", "2019-10-10T00:00:00+08:00");
	/* Friday 10-11: Saturday 10-12 is a make-up workday. */
	assert_deadlines(CATEGORY_BOOKING, false, "2019-10-11T10:00:00+08:00",
			 "2019-10-13T00:00:00+08:00", "2019-10-16T00:00:00+08:00");
}
END_TEST

START_TEST (test_deadlines_across_the_year_boundary) {
	/* New Year's Eve 2019: 2020-01-01 is a holiday; ten working days are
	 * 01-02, 01-03, 01-06 to 01-10, 01-13 to 01-15. */
	assert_deadlines(CATEGORY_COMPLAINT, false, "2019-12-31T10:00:00+08:00",
			 "2020-01-03T00:00:00+08:00", "2020-01-16T00:00:00+08:00");
	assert_deadlines(CATEGORY_OTHER, false, "2019-12-30T10:00:00+08:00",
			 "2020-01-01T00:00:00+08:00", "2020-01-08T00:00:00+08:00");
}
END_TEST

START_TEST (test_deadlines_over_the_leap_day_2020) {
	/* Friday 2020-02-28: Saturday 02-29 is not a working day. */
	assert_deadlines(CATEGORY_BOOKING, false, "2020-02-28T17:00:00+08:00",
			 "2020-03-03T00:00:00+08:00", "2020-03-05T00:00:00+08:00");
	/* Received on the leap day itself. */
	assert_deadlines(CATEGORY_COMPLAINT, false, "2020-02-29T12:00:00+08:00",
			 "2020-03-03T00:00:00+08:00", "2020-03-14T00:00:00+08:00");
}
END_TEST

START_TEST (test_urgent_orders_count_elapsed_hours) {
	/* Signed within two hours, replied to within urgent_hours, holidays
	 * and nights included. */
	assert_deadlines(CATEGORY_COMPLAINT, true, "2019-10-01T10:00:00+08:00",
			 "2019-10-01T12:00:00+08:00", "2019-10-02T10:00:00+08:00");
	assert_deadlines(CATEGORY_CONSULTATION, true, "2019-12-31T23:30:00+08:00",
			 "2020-01-01T01:30:00+08:00", "2020-01-01T23:30:00+08:00");
	assert_deadlines(CATEGORY_CRISIS, true, "2020-02-29T22:15:00+08:00",
			 "2020-03-01T00:15:00+08:00", "2020-03-01T00:15:00+08:00");
	/* Hours need no calendar: an urgent order outside its years still has
	 * deadlines. */
	assert_deadlines(CATEGORY_OTHER, true, "2030-06-03T08:00:00+08:00",
			 "2030-06-03T10:00:00+08:00", "2030-06-04T08:00:00+08:00");
	/* A crisis order that is not urgent counts working days like others. */
	assert_deadlines(CATEGORY_CRISIS, false, "2019-11-18T10:00:00+08:00",
			 "2019-11-20T00:00:00+08:00", "2019-11-26T00:00:00+08:00");
}
END_TEST

START_TEST (test_deadlines_outside_the_calendar_are_refused) {
	int64_t sign = 7, reply = 8;

	/* The sign deadline falls in 2026, the reply's tenth day in 2027. */
	ck_assert_int_eq(wo_deadlines(shipped, CATEGORY_COMPLAINT, false,
				      at("2026-12-28T10:00:00+08:00"), &sign, &reply),
			 -ERANGE);
	/* The first day to count, 2018-12-29, is before the calendar. */
	ck_assert_int_eq(wo_deadlines(shipped, CATEGORY_COMPLAINT, false,
				      at("2018-12-28T10:00:00+08:00"), &sign, &reply),
			 -ERANGE);
	ck_assert_int_eq(wo_deadlines(shipped, CATEGORY_OTHER, false,
				      at("2031-03-03T10:00:00+08:00"), &sign, &reply),
			 -ERANGE);
	ck_assert_int_eq(wo_deadlines(shipped, CATEGORY_COUNT, false,
				      at("2019-11-18T10:00:00+08:00"), &sign, &reply),
			 -EINVAL);
	ck_assert_int_eq(wo_deadlines(shipped, (enum category)(-1), true,
				      at("2019-11-18T10:00:00+08:00"), &sign, &reply),
			 -EINVAL);
	/* Nothing is written on error. */
	ck_assert_int_eq(sign, 7);
	ck_assert_int_eq(reply, 8);
	/* The last answerable order of a 2026 consultation. */
	assert_deadlines(CATEGORY_CONSULTATION, false, "2026-12-25T10:00:00+08:00",
			 "2026-12-29T00:00:00+08:00", "2026-12-31T00:00:00+08:00");
}
END_TEST

START_TEST (test_status_turns_yellow_then_red_at_the_boundaries) {
	int64_t due = at("2019-10-09T00:00:00+08:00");

	ck_assert_int_eq(wo_yellow_usec(shipped), 24 * HOUR);
	ck_assert_int_eq(wo_status(shipped, due, due - 24 * HOUR - 1), WORKCAL_ON_TIME);
	ck_assert_int_eq(wo_status(shipped, due, due - 24 * HOUR), WORKCAL_NEAR_DUE);
	ck_assert_int_eq(wo_status(shipped, due, due - 1), WORKCAL_NEAR_DUE);
	ck_assert_int_eq(wo_status(shipped, due, due), WORKCAL_OVERDUE);
	ck_assert_int_eq(wo_status(shipped, due, due + 90 * 24 * HOUR), WORKCAL_OVERDUE);
	ck_assert_int_eq(wo_status(shipped, due, at("2019-09-30T16:00:00+08:00")), WORKCAL_ON_TIME);
}
END_TEST

/* ---- loading ------------------------------------------------------------------------ */

START_TEST (test_a_small_config_loads_with_its_defaults) {
	struct wo_config *c = load_ok(GOOD);
	char want[512];

	snprintf(want, sizeof want, "%s/good.yaml", test_dir);
	ck_assert_str_eq(c->path, want);
	snprintf(want, sizeof want, "%s/cal.yaml", test_dir);
	ck_assert_str_eq(c->calendar_file, want);
	ck_assert_int_eq(c->yellow_hours, 24);
	ck_assert_uint_eq(c->n_platforms, 1);
	ck_assert_ptr_nonnull(wo_platform_find(c, "city_12345"));
	ck_assert_ptr_null(wo_platform_find(c, "province_12345"));
	ck_assert_str_eq(c->platforms[0].url, "http://127.0.0.1:9/v1/notify");
	for (int i = 0; i < CATEGORY_COUNT; i++) {
		ck_assert_int_eq(c->deadlines[i].sign_days, 1);
		ck_assert_int_eq(c->deadlines[i].reply_days, 5);
		ck_assert_int_eq(c->deadlines[i].urgent_hours, 24);
	}
	wo_config_free(c);
}
END_TEST

START_TEST (test_categories_take_what_they_leave_out_from_the_default) {
	struct wo_config *c = load_ok(CALENDAR PLATFORM_CITY
				      "yellow_hours: 0\n"
				      "deadlines:\n"
				      "  default: {sign_days: 2, reply_days: 5, urgent_hours: 24}\n"
				      "  survey: {reply_days: 20}\n"
				      "  crisis: {sign_days: 1, reply_days: 1, urgent_hours: 2}\n");

	ck_assert_int_eq(c->deadlines[CATEGORY_SURVEY].sign_days, 2);
	ck_assert_int_eq(c->deadlines[CATEGORY_SURVEY].reply_days, 20);
	ck_assert_int_eq(c->deadlines[CATEGORY_SURVEY].urgent_hours, 24);
	ck_assert_int_eq(c->deadlines[CATEGORY_CRISIS].sign_days, 1);
	ck_assert_int_eq(c->deadlines[CATEGORY_CRISIS].reply_days, 1);
	ck_assert_int_eq(c->deadlines[CATEGORY_CRISIS].urgent_hours, 2);
	ck_assert_int_eq(c->deadlines[CATEGORY_OTHER].sign_days, 2);
	/* yellow_hours 0: never yellow. */
	int64_t due = at("2019-10-09T00:00:00+08:00");
	ck_assert_int_eq(c->yellow_hours, 0);
	ck_assert_int_eq(wo_yellow_usec(c), 0);
	ck_assert_int_eq(wo_status(c, due, due - 1), WORKCAL_ON_TIME);
	ck_assert_int_eq(wo_status(c, due, due), WORKCAL_OVERDUE);
	wo_config_free(c);
}
END_TEST

START_TEST (test_calendar_file_is_read_beside_the_config) {
	char sub[512], path[600], err[512];
	struct wo_config *c = NULL;

	snprintf(sub, sizeof sub, "%s/conf", test_dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	test_write_file("conf/calendar.yaml", small_calendar);
	const char *p = test_write_file("conf/w.yaml",
					"calendar_file: calendar.yaml\n" PLATFORM_CITY DEADLINES);
	snprintf(path, sizeof path, "%s", p);
	ck_assert_msg(wo_config_load_file(path, &c, err, sizeof err) == 0, "%s", err);
	snprintf(path, sizeof path, "%s/conf/calendar.yaml", test_dir);
	ck_assert_str_eq(c->calendar_file, path);
	wo_config_free(c);

	/* An absolute path is taken as it is. */
	char text[1024];
	snprintf(text, sizeof text, "calendar_file: %s/cal.yaml\n" PLATFORM_CITY DEADLINES,
		 test_dir);
	c = load_ok(text);
	snprintf(path, sizeof path, "%s/cal.yaml", test_dir);
	ck_assert_str_eq(c->calendar_file, path);
	wo_config_free(c);
}
END_TEST

START_TEST (test_a_calendar_that_fails_is_reported_at_calendar_file) {
	char want[512];

	snprintf(want, sizeof want, "calendar_file: %s/nope.yaml: cannot open: ", test_dir);
	assert_error_at("calendar_file: nope.yaml\n" PLATFORM_CITY DEADLINES, 1, 16, want);

	test_write_file("broken-cal.yaml", "years:\n  2019: {holidays: [], workdays: []}\n");
	snprintf(want, sizeof want, "calendar_file: %s/broken-cal.yaml:2:", test_dir);
	assert_error_at("calendar_file: broken-cal.yaml\n" PLATFORM_CITY DEADLINES, 1, 16, want);

	assert_error_at(PLATFORM_CITY DEADLINES, 1, 1,
			"work orders file: 'calendar_file' is missing");
	assert_error_at("calendar_file: \"\"\n" PLATFORM_CITY DEADLINES, 1, 16,
			"calendar_file: must be 1 to");
	assert_error_at("calendar_file: [a]\n" PLATFORM_CITY DEADLINES, 1, 16,
			"calendar_file: expected a single value, found a list");
}
END_TEST

START_TEST (test_bad_file_structure_is_refused) {
	char want[512];
	const char *err;

	assert_error_at(GOOD "colour: blue\n", 8, 1,
			"work orders file: unknown key 'colour'; expected calendar_file, "
			"yellow_hours, platforms, deadlines");
	assert_error_at("- a\n", 1, 1, "work orders file: expected a mapping like");
	assert_error_at(GOOD "yellow_hours: 1\nyellow_hours: 2\n", 9, 1,
			"work orders file: duplicate key 'yellow_hours' (first given at line 8)");
	err = load_error("");
	snprintf(want, sizeof want,
		 "%s/bad.yaml:1:1: work orders file: is empty; it needs 'calendar_file', "
		 "'platforms' and 'deadlines'",
		 test_dir);
	ck_assert_str_eq(err, want);
	assert_error_at(GOOD "---\nyellow_hours: 2\n", 9, 1,
			"work orders file: only one YAML document is allowed");
	assert_error_at(CALENDAR "platforms: [\n", 3, 1, "malformed YAML: ");

	snprintf(want, sizeof want, "%s/absent.yaml: cannot open: ", test_dir);
	struct wo_config *c = NULL;
	char err2[512];
	char path[512];
	snprintf(path, sizeof path, "%s/absent.yaml", test_dir);
	ck_assert_int_eq(wo_config_load_file(path, &c, err2, sizeof err2), -1);
	ck_assert_ptr_null(c);
	ck_assert_msg(strncmp(err2, want, strlen(want)) == 0, "%s", err2);
}
END_TEST

START_TEST (test_bad_yellow_hours_are_refused) {
	assert_error_at(GOOD "yellow_hours: -1\n", 8, 15,
			"yellow_hours: -1 is out of range; use 0 to 720");
	assert_error_at(GOOD "yellow_hours: 721\n", 8, 15,
			"yellow_hours: 721 is out of range; use 0 to 720");
	assert_error_at(GOOD "yellow_hours: \"24\"\n", 8, 15,
			"yellow_hours: expected a whole number from 0 to 720, found '24'");
	assert_error_at(GOOD "yellow_hours: 1.5\n", 8, 15,
			"yellow_hours: expected a whole number from 0 to 720, found '1.5'");
}
END_TEST

/* A file whose platforms are the given lines (from line 2 on). */
static const char *with_platforms(const char *lines)
{
	static char text[2048];
	snprintf(text, sizeof text, "%s%s%s", CALENDAR, lines, DEADLINES);
	return text;
}

START_TEST (test_bad_platforms_are_refused) {
	assert_error_at(with_platforms("platforms: []\n"), 2, 12,
			"platforms: lists 0 platforms; list 1 or 2 (city_12345, province_12345)");
	assert_error_at(with_platforms("platforms: {name: city_12345}\n"), 2, 12,
			"platforms: expected a list like");
	assert_error_at(with_platforms("platforms:\n"
				       "  - name: town_12345\n"),
			3, 11,
			"platforms[0].name: 'town_12345' is not a platform; use city_12345 or "
			"province_12345");
	assert_error_at(with_platforms("platforms:\n"
				       "  - {name: city_12345, secret: \"0123456789abcdef\", url: "
				       "\"http://a/\", colour: red}\n"),
			3, 70, "platforms[0]: unknown key 'colour'; expected name, secret, url");
	assert_error_at(with_platforms("platforms:\n"
				       "  - {name: city_12345, url: \"http://a/\"}\n"),
			3, 5, "platforms[0]: 'secret' is missing");
	assert_error_at(with_platforms("platforms:\n"
				       "  - {name: city_12345, secret: \"0123456789abcdef\"}\n"),
			3, 5, "platforms[0]: 'url' is missing");
	assert_error_at(with_platforms("platforms:\n"
				       "  - name: city_12345\n"
				       "    secret: \"0123456789abcdef\"\n"
				       "    url: \"http://127.0.0.1:9/a\"\n"
				       "  - name: city_12345\n"),
			6, 11, "platforms[1].name: 'city_12345' is already platforms[0]");
	assert_error_at(with_platforms("platforms:\n"
				       "  - name: city_12345\n"
				       "    secret: \"0123456789abcdef\"\n"
				       "    url: \"http://127.0.0.1:9/a\"\n"
				       "  - name: province_12345\n"
				       "    secret: \"0123456789abcdef\"\n"
				       "    url: \"http://127.0.0.1:9/b\"\n"),
			7, 13,
			"platforms[1].secret: is the same as platforms[0].secret; each platform "
			"needs its own, or one could sign as the other");
	assert_error_at(with_platforms("platforms:\n"
				       "  - name: city_12345\n"
				       "    secret: \"0123456789abcdef\"\n"
				       "    url: \"http://127.0.0.1:9/a\"\n"
				       "  - name: province_12345\n"
				       "    secret: \"x\"\n"
				       "    url: \"http://127.0.0.1:9/b\"\n"
				       "  - name: city_12345\n"),
			3, 3, "platforms: lists 3 platforms; list 1 or 2");
}
END_TEST

START_TEST (test_short_secrets_are_refused_without_showing_them) {
	const char *err = load_error(with_platforms("platforms:\n"
						    "  - name: city_12345\n"
						    "    secret: \"abcdefghijklmno\"\n"
						    "    url: \"http://127.0.0.1:9/a\"\n"));
	char want[512];

	snprintf(want, sizeof want,
		 "%s/bad.yaml:4:13: platforms[0].secret: is 15 characters long; it must be 16 "
		 "to 256",
		 test_dir);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	ck_assert_ptr_null(strstr(err, "abcdefghijklmno"));
	assert_error_at(with_platforms("platforms:\n"
				       "  - name: city_12345\n"
				       "    secret: \"\"\n"
				       "    url: \"http://127.0.0.1:9/a\"\n"),
			4, 13, "platforms[0].secret: is 0 characters long");
	assert_error_at(with_platforms("platforms:\n"
				       "  - name: city_12345\n"
				       "    secret: [a]\n"
				       "    url: \"http://127.0.0.1:9/a\"\n"),
			4, 13, "platforms[0].secret: expected a single value, found a list");
}
END_TEST

/* Checks that url is refused at platforms[0].url with a message containing why. */
static void assert_url_refused(const char *url, const char *why)
{
	char lines[512], want[256];

	snprintf(lines, sizeof lines,
		 "platforms:\n"
		 "  - name: city_12345\n"
		 "    secret: \"0123456789abcdef\"\n"
		 "    url: \"%s\"\n",
		 url);
	snprintf(want, sizeof want, "platforms[0].url: '%s' %s", url, why);
	assert_error_at(with_platforms(lines), 5, 10, want);
}

START_TEST (test_urls_must_be_plain_http) {
	assert_url_refused("https://platform.example/v1/notify",
			   "the outbox posts plain http only");
	assert_url_refused("ftp://127.0.0.1/x", "is not an http:// URL");
	assert_url_refused("127.0.0.1:9/x", "is not an http:// URL");
	assert_url_refused("http:///v1", "has no host after http://");
	assert_url_refused("http://user@host/v1", "has a host with characters other than");
	assert_url_refused("http://127.0.0.1:0/v1",
			   "has a port that is not a number from 1 to 65535");
	assert_url_refused("http://127.0.0.1:65536/v1", "has a port that is not a number");
	assert_url_refused("http://127.0.0.1:/v1", "has a port that is not a number");
	assert_url_refused("http://127.0.0.1:80x/v1", "has a port that is not a number");
	assert_url_refused("http://127.0.0.1:9/a b", "has a space or a character");
	struct wo_config *c = load_ok(with_platforms("platforms:\n"
						     "  - name: province_12345\n"
						     "    secret: \"0123456789abcdef\"\n"
						     "    url: http://platform-2.example:65535\n"));
	ck_assert_str_eq(c->platforms[0].url, "http://platform-2.example:65535");
	wo_config_free(c);
}
END_TEST

/* A file whose deadlines are the given lines (from line 6 on). */
static const char *with_deadlines(const char *lines)
{
	static char text[2048];
	snprintf(text, sizeof text, "%s%s%s", CALENDAR, PLATFORM_CITY, lines);
	return text;
}

START_TEST (test_bad_deadlines_are_refused) {
	assert_error_at(with_deadlines(""), 1, 1, "work orders file: 'deadlines' is missing");
	assert_error_at(with_deadlines("deadlines: [1]\n"), 6, 12,
			"deadlines: expected a mapping like");
	assert_error_at(with_deadlines("deadlines:\n"
				       "  complaint: {reply_days: 10}\n"),
			7, 3, "deadlines: 'default' is missing");
	assert_error_at(with_deadlines(
				"deadlines:\n"
				"  default: {sign_days: 1, reply_days: 5, urgent_hours: 24}\n"
				"  complaints: {reply_days: 10}\n"),
			8, 3,
			"deadlines: unknown key 'complaints'; expected default, consultation, "
			"complaint, booking, expert_qa, crisis, survey, ivr_self_service, other");
	assert_error_at(with_deadlines("deadlines:\n"
				       "  default: {sign_days: 1, reply_days: 5}\n"),
			7, 12, "deadlines.default: 'urgent_hours' is missing");
	assert_error_at(with_deadlines(
				"deadlines:\n"
				"  default: {sign_days: 0, reply_days: 5, urgent_hours: 24}\n"),
			7, 24, "deadlines.default.sign_days: 0 is out of range; use 1 to 30");
	assert_error_at(with_deadlines(
				"deadlines:\n"
				"  default: {sign_days: 1, reply_days: 5, urgent_hours: 24}\n"
				"  crisis: {urgent_hours: 1}\n"),
			8, 26, "deadlines.crisis.urgent_hours: 1 is out of range; use 2 to 720");
	assert_error_at(with_deadlines(
				"deadlines:\n"
				"  default: {sign_days: 1, reply_days: 5, urgent_hours: 24}\n"
				"  complaint: {reply_days: \"10\"}\n"),
			8, 27,
			"deadlines.complaint.reply_days: expected a whole number from 1 to 365, "
			"found '10'");
	assert_error_at(with_deadlines(
				"deadlines:\n"
				"  default: {sign_days: 1, reply_days: 5, urgent_hours: 24}\n"
				"  booking: {sign_days: 3, reply_days: 2}\n"),
			8, 39,
			"deadlines.booking.reply_days: reply_days (2) is less than sign_days (3); "
			"an order is signed before it is replied to");
	/* The reply comes from the default: the sign_days given here is at fault. */
	assert_error_at(
		with_deadlines("deadlines:\n"
			       "  default: {sign_days: 1, reply_days: 5, urgent_hours: 24}\n"
			       "  booking: {sign_days: 6}\n"),
		8, 24, "deadlines.booking.sign_days: reply_days (5) is less than sign_days (6)");
	assert_error_at(with_deadlines(
				"deadlines:\n"
				"  default: {sign_days: 1, reply_days: 5, urgent_hours: 24}\n"
				"  booking: {sign_days: 1, reply_in: 2}\n"),
			8, 27,
			"deadlines.booking: unknown key 'reply_in'; expected sign_days, "
			"reply_days, urgent_hours");
	assert_error_at(with_deadlines("deadlines:\n"
				       "  default: 5\n"),
			7, 12, "deadlines.default: expected a mapping like");
}
END_TEST

static Suite *workorder_suite(void)
{
	Suite *s = suite_create("workorder");
	TCase *tc = tcase_create("stages");

	tcase_add_test(tc, test_stages_and_actions_have_their_names);
	tcase_add_test(tc, test_every_stage_and_action_follows_the_table);
	tcase_add_test(tc, test_refusals_say_what_would_work);
	tcase_add_test(tc, test_stages_and_actions_out_of_range_are_invalid);
	tcase_add_test(tc, test_the_platform_learns_every_change_but_start_and_assign);
	suite_add_tcase(s, tc);

	tc = tcase_create("shipped config");
	tcase_add_checked_fixture(tc, shipped_load, shipped_free);
	tcase_add_test(tc, test_shipped_config_has_both_platforms_and_the_production_deadlines);
	tcase_add_test(tc, test_deadlines_in_an_ordinary_week);
	tcase_add_test(tc, test_deadlines_over_national_day_2019);
	tcase_add_test(tc, test_deadlines_count_make_up_workdays);
	tcase_add_test(tc, test_deadlines_across_the_year_boundary);
	tcase_add_test(tc, test_deadlines_over_the_leap_day_2020);
	tcase_add_test(tc, test_urgent_orders_count_elapsed_hours);
	tcase_add_test(tc, test_deadlines_outside_the_calendar_are_refused);
	tcase_add_test(tc, test_status_turns_yellow_then_red_at_the_boundaries);
	suite_add_tcase(s, tc);

	tc = tcase_create("loading");
	tcase_add_checked_fixture(tc, files_create, test_dir_remove);
	tcase_add_test(tc, test_a_small_config_loads_with_its_defaults);
	tcase_add_test(tc, test_categories_take_what_they_leave_out_from_the_default);
	tcase_add_test(tc, test_calendar_file_is_read_beside_the_config);
	tcase_add_test(tc, test_a_calendar_that_fails_is_reported_at_calendar_file);
	tcase_add_test(tc, test_bad_file_structure_is_refused);
	tcase_add_test(tc, test_bad_yellow_hours_are_refused);
	tcase_add_test(tc, test_bad_platforms_are_refused);
	tcase_add_test(tc, test_short_secrets_are_refused_without_showing_them);
	tcase_add_test(tc, test_urls_must_be_plain_http);
	tcase_add_test(tc, test_bad_deadlines_are_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(workorder_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
