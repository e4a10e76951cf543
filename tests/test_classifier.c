/* test_classifier.c: the shipped rules (conf/rules.yaml) rule by rule, the
 * matching semantics (order, time windows, weekdays, flags, default) and
 * every load error. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classifier.h"

#define MONDAY 1
#define SUNDAY 7
#define AT(h, m) ((h)*60 + (m))

static struct classifier *shipped;

static void shipped_load(void)
{
	const char *src = getenv("HOTLINE_SOURCE_DIR");
	char path[512], err[512];

	ck_assert_msg(src != NULL, "HOTLINE_SOURCE_DIR is not set");
	snprintf(path, sizeof path, "%s/conf/rules.yaml", src);
	ck_assert_msg(classifier_load_file(path, &shipped, err, sizeof err) == 0, "%s", err);
}

static void shipped_free(void)
{
	classifier_free(shipped);
	shipped = NULL;
}

/* A daytime Monday call to the main number with the given IVR path and one
 * optional flag. */
static struct classify_input call(const char *ivr_path, const char *const *flag)
{
	struct classify_input in = {
		.dialled = "12320",
		.ivr_path = ivr_path,
		.flags = flag,
		.n_flags = flag ? 1 : 0,
		.minute_of_day = AT(10, 0),
		.weekday = MONDAY,
	};
	return in;
}

static struct classify_result classify(const struct classifier *c, struct classify_input in)
{
	struct classify_result r;
	memset(&r, 0, sizeof r);
	classifier_classify(c, &in, &r);
	return r;
}

static void assert_result(struct classify_result r, const char *rule, enum category category,
			  const char *queue, int priority)
{
	ck_assert_str_eq(r.rule, rule);
	ck_assert_str_eq(category_name(r.category), category_name(category));
	ck_assert_str_eq(r.queue, queue);
	ck_assert_int_eq(r.priority, priority);
}

static struct classifier *load_ok(const char *text)
{
	struct classifier *c = NULL;
	char err[512] = "";
	int rc = classifier_load_buffer("t.yaml", text, strlen(text), &c, err, sizeof err);
	ck_assert_msg(rc == 0, "unexpected error: %s", err);
	return c;
}

/* Loads text that must fail and checks the error starts with want. */
static void assert_load_error(const char *text, const char *want)
{
	struct classifier *c = NULL;
	char err[512] = "";
	ck_assert_int_eq(classifier_load_buffer("t.yaml", text, strlen(text), &c, err, sizeof err),
			 -1);
	ck_assert_ptr_null(c);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		      "error\n  %s\ndoes not start with\n  %s", err, want);
}

/* ---- the shipped rules ---------------------------------------------------- */

START_TEST (test_shipped_rules_load_in_order) {
	ck_assert_uint_eq(classifier_rule_count(shipped), 10);
}
END_TEST

START_TEST (test_crisis_line_is_crisis_whatever_the_ivr) {
	struct classify_input in = call("1", NULL);
	in.dialled = "12356";
	assert_result(classify(shipped, in), "crisis-line", CATEGORY_CRISIS, "crisis", 0);
	in.ivr_path = "";
	in.minute_of_day = AT(3, 0);
	assert_result(classify(shipped, in), "crisis-line", CATEGORY_CRISIS, "crisis", 0);
	/* Only the exact number: a longer one is not the crisis line. */
	in.dialled = "123560";
	assert_result(classify(shipped, in), "default", CATEGORY_OTHER, "general", 5);
}
END_TEST

START_TEST (test_recent_crisis_caller_goes_to_crisis) {
	const char *const flags[] = {"vip", "recent_crisis"};
	struct classify_input in = call("6", NULL);
	in.flags = flags;
	in.n_flags = 2;
	assert_result(classify(shipped, in), "recent-crisis-caller", CATEGORY_CRISIS, "crisis", 0);
	in.n_flags = 1; /* only "vip" */
	assert_result(classify(shipped, in), "ivr-survey", CATEGORY_SURVEY, "survey", 6);
	const char *const other[] = {"recent_crisis_old"};
	assert_result(classify(shipped, call("6", other)), "ivr-survey", CATEGORY_SURVEY, "survey",
		      6);
}
END_TEST

START_TEST (test_ivr_crisis) {
	assert_result(classify(shipped, call("5", NULL)), "ivr-crisis", CATEGORY_CRISIS, "crisis",
		      0);
	assert_result(classify(shipped, call("51", NULL)), "ivr-crisis", CATEGORY_CRISIS, "crisis",
		      0);
	assert_result(classify(shipped, call("45", NULL)), "ivr-expert", CATEGORY_EXPERT_QA,
		      "expert", 5);
}
END_TEST

START_TEST (test_ivr_booking) {
	assert_result(classify(shipped, call("1", NULL)), "ivr-booking", CATEGORY_BOOKING,
		      "booking", 4);
	assert_result(classify(shipped, call("12", NULL)), "ivr-booking", CATEGORY_BOOKING,
		      "booking", 4);
	assert_result(classify(shipped, call("21", NULL)), "ivr-consultation",
		      CATEGORY_CONSULTATION, "consultation", 5);
}
END_TEST

START_TEST (test_night_consultation_only_at_night) {
	struct classify_input in = call("2", NULL);
	in.minute_of_day = AT(23, 30);
	assert_result(classify(shipped, in), "night-consultation", CATEGORY_CONSULTATION, "night",
		      5);
	in.minute_of_day = AT(12, 0);
	assert_result(classify(shipped, in), "ivr-consultation", CATEGORY_CONSULTATION,
		      "consultation", 5);
	/* The window is IVR 2 only: IVR 3 at night stays a complaint. */
	in.ivr_path = "3";
	in.minute_of_day = AT(23, 30);
	assert_result(classify(shipped, in), "ivr-complaint", CATEGORY_COMPLAINT, "complaint", 3);
}
END_TEST

START_TEST (test_night_window_boundaries) {
	struct classify_input in = call("2", NULL);
	static const struct {
		int minute;
		const char *rule;
	} cases[] = {
		{AT(21, 59), "ivr-consultation"},   {AT(22, 0), "night-consultation"},
		{AT(23, 59), "night-consultation"}, {AT(0, 0), "night-consultation"},
		{AT(7, 59), "night-consultation"},  {AT(8, 0), "ivr-consultation"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		in.minute_of_day = cases[i].minute;
		struct classify_result r = classify(shipped, in);
		ck_assert_msg(strcmp(r.rule, cases[i].rule) == 0, "%02d:%02d gave %s, want %s",
			      cases[i].minute / 60, cases[i].minute % 60, r.rule, cases[i].rule);
	}
}
END_TEST

START_TEST (test_ivr_complaint_expert_survey_self_service) {
	assert_result(classify(shipped, call("3", NULL)), "ivr-complaint", CATEGORY_COMPLAINT,
		      "complaint", 3);
	assert_result(classify(shipped, call("4", NULL)), "ivr-expert", CATEGORY_EXPERT_QA,
		      "expert", 5);
	assert_result(classify(shipped, call("6", NULL)), "ivr-survey", CATEGORY_SURVEY, "survey",
		      6);
	assert_result(classify(shipped, call("9", NULL)), "ivr-self-service", CATEGORY_CONSULTATION,
		      "self_service", 7);
	assert_result(classify(shipped, call("93", NULL)), "ivr-self-service",
		      CATEGORY_CONSULTATION, "self_service", 7);
}
END_TEST

START_TEST (test_unmatched_calls_get_the_default) {
	assert_result(classify(shipped, call("", NULL)), "default", CATEGORY_OTHER, "general", 5);
	assert_result(classify(shipped, call("7", NULL)), "default", CATEGORY_OTHER, "general", 5);
	assert_result(classify(shipped, call("0", NULL)), "default", CATEGORY_OTHER, "general", 5);
	assert_result(classify(shipped, call("*", NULL)), "default", CATEGORY_OTHER, "general", 5);
	struct classify_input in = call(NULL, NULL);
	in.dialled = NULL;
	assert_result(classify(shipped, in), "default", CATEGORY_OTHER, "general", 5);
}
END_TEST

/* ---- matching semantics ---------------------------------------------------- */

static const char rules_order[] = "default: {category: other, queue: general, priority: 5}\n"
				  "rules:\n"
				  "  - name: broad\n"
				  "    match: {ivr_prefix: \"2\"}\n"
				  "    then: {category: consultation, queue: wide, priority: 5}\n"
				  "  - name: narrow\n"
				  "    match: {ivr_path: \"21\"}\n"
				  "    then: {category: expert_qa, queue: narrow, priority: 1}\n"
				  "  - name: exact-only\n"
				  "    match: {ivr_path: \"3\"}\n"
				  "    then: {category: complaint, queue: exact, priority: 2}\n";

START_TEST (test_first_matching_rule_wins) {
	struct classifier *c = load_ok(rules_order);
	/* "21" matches both; the earlier rule decides. */
	assert_result(classify(c, call("21", NULL)), "broad", CATEGORY_CONSULTATION, "wide", 5);
	/* ivr_path is exact: "31" is not "3". */
	assert_result(classify(c, call("3", NULL)), "exact-only", CATEGORY_COMPLAINT, "exact", 2);
	assert_result(classify(c, call("31", NULL)), "default", CATEGORY_OTHER, "general", 5);
	classifier_free(c);
}
END_TEST

START_TEST (test_time_window_that_does_not_wrap) {
	struct classifier *c =
		load_ok("default: {category: other, queue: general, priority: 5}\n"
			"rules:\n"
			"  - name: lunch\n"
			"    match: {time: \"12:00-13:30\"}\n"
			"    then: {category: booking, queue: lunch, priority: 4}\n"
			"  - name: evening\n"
			"    match: {time: \"18:00-24:00\"}\n"
			"    then: {category: booking, queue: evening, priority: 4}\n");
	struct classify_input in = call("", NULL);
	static const struct {
		int minute;
		const char *rule;
	} cases[] = {
		{AT(11, 59), "default"}, {AT(12, 0), "lunch"},    {AT(13, 29), "lunch"},
		{AT(13, 30), "default"}, {AT(17, 59), "default"}, {AT(18, 0), "evening"},
		{AT(23, 59), "evening"}, {AT(0, 0), "default"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		in.minute_of_day = cases[i].minute;
		struct classify_result r = classify(c, in);
		ck_assert_msg(strcmp(r.rule, cases[i].rule) == 0, "%02d:%02d gave %s, want %s",
			      cases[i].minute / 60, cases[i].minute % 60, r.rule, cases[i].rule);
	}
	classifier_free(c);
}
END_TEST

START_TEST (test_weekdays_and_all_conditions_together) {
	struct classifier *c =
		load_ok("default: {category: other, queue: general, priority: 5}\n"
			"rules:\n"
			"  - name: weekend-expert\n"
			"    match:\n"
			"      weekdays: [6, 7]\n"
			"      ivr_prefix: \"4\"\n"
			"      dialled: [\"12320\", \"96320\"]\n"
			"      caller_flag: member\n"
			"    then: {category: expert_qa, queue: weekend, priority: 2}\n"
			"  - name: monday\n"
			"    match: {weekdays: [1]}\n"
			"    then: {category: survey, queue: monday, priority: 6}\n");
	const char *const member[] = {"member"};
	struct classify_input in = call("4", member);

	in.weekday = 6;
	ck_assert_str_eq(classify(c, in).rule, "weekend-expert");
	in.weekday = SUNDAY;
	in.dialled = "96320";
	ck_assert_str_eq(classify(c, in).rule, "weekend-expert");
	/* Each condition on its own can spoil the match. */
	in.dialled = "12345";
	ck_assert_str_eq(classify(c, in).rule, "default");
	in.dialled = "12320";
	in.ivr_path = "3";
	ck_assert_str_eq(classify(c, in).rule, "default");
	in.ivr_path = "4";
	in.n_flags = 0;
	ck_assert_str_eq(classify(c, in).rule, "default");
	in.n_flags = 1;
	in.weekday = 5;
	ck_assert_str_eq(classify(c, in).rule, "default");
	in.weekday = MONDAY;
	ck_assert_str_eq(classify(c, in).rule, "monday");
	in.weekday = 0; /* not a weekday: weekday rules do not match */
	ck_assert_str_eq(classify(c, in).rule, "default");
	classifier_free(c);
}
END_TEST

START_TEST (test_empty_ivr_path_matches_calls_without_ivr_input) {
	struct classifier *c =
		load_ok("default: {category: other, queue: general, priority: 5}\n"
			"rules:\n"
			"  - name: no-ivr\n"
			"    match: {ivr_path: \"\"}\n"
			"    then: {category: consultation, queue: direct, priority: 5}\n");
	ck_assert_str_eq(classify(c, call("", NULL)).rule, "no-ivr");
	ck_assert_str_eq(classify(c, call(NULL, NULL)).rule, "no-ivr");
	ck_assert_str_eq(classify(c, call("1", NULL)).rule, "default");
	classifier_free(c);
}
END_TEST

START_TEST (test_no_rules_means_everything_gets_the_default) {
	struct classifier *c = load_ok("default: {category: complaint, queue: all, priority: 9}\n"
				       "rules: []\n");
	ck_assert_uint_eq(classifier_rule_count(c), 0);
	assert_result(classify(c, call("1", NULL)), "default", CATEGORY_COMPLAINT, "all", 9);
	classifier_free(c);
}
END_TEST

/* ---- load errors ------------------------------------------------------------ */

#define DEFAULT_LINE "default: {category: other, queue: general, priority: 5}\n"
#define RULE0                                                                                      \
	"rules:\n  - name: r0\n    match: {ivr_prefix: \"1\"}\n    then: {category: booking, queue: b, priority: 4}\n"

/* One rule (rules[1]) with the given match and then flow mappings, after a good rules[0]. */
static void assert_rule_error(const char *match, const char *then, const char *want)
{
	char text[1024];
	snprintf(text, sizeof text,
		 DEFAULT_LINE RULE0 "  - name: r1\n"
				    "    match: %s\n"
				    "    then: %s\n",
		 match, then);
	assert_load_error(text, want);
}

#define GOOD_THEN "{category: booking, queue: b, priority: 4}"

START_TEST (test_bad_time_windows_are_refused) {
	assert_rule_error("{time: \"25:00-08:00\"}", GOOD_THEN,
			  "t.yaml:7:19: rules[1].match.time: "
			  "'25:00-08:00' is not a window HH:MM-HH:MM");
	assert_rule_error("{time: \"22:00-8:00\"}", GOOD_THEN,
			  "t.yaml:7:19: rules[1].match.time: '22:00-8:00' is not a window");
	assert_rule_error("{time: \"22:60-08:00\"}", GOOD_THEN,
			  "t.yaml:7:19: rules[1].match.time: '22:60-08:00' is not a window");
	assert_rule_error("{time: \"24:00-08:00\"}", GOOD_THEN,
			  "t.yaml:7:19: rules[1].match.time: '24:00-08:00' is not a window");
	assert_rule_error("{time: \"08:00-08:00\"}", GOOD_THEN,
			  "t.yaml:7:19: rules[1].match.time: '08:00-08:00' starts and ends at the "
			  "same minute");
	assert_rule_error("{time: \"00:00-24:00\"}", GOOD_THEN,
			  "t.yaml:7:19: rules[1].match.time: '00:00-24:00' starts and ends");
	assert_rule_error(
		"{time: [\"22:00\", \"08:00\"]}", GOOD_THEN,
		"t.yaml:7:19: rules[1].match.time: expected a single value, found a list");
}
END_TEST

START_TEST (test_bad_conditions_are_refused) {
	assert_rule_error("{weekdays: [1, 8]}", GOOD_THEN,
			  "t.yaml:7:27: rules[1].match.weekdays: '8' is not a weekday");
	assert_rule_error("{weekdays: [0]}", GOOD_THEN,
			  "t.yaml:7:24: rules[1].match.weekdays: '0' is not a weekday");
	assert_rule_error("{weekdays: [2, 2]}", GOOD_THEN,
			  "t.yaml:7:27: rules[1].match.weekdays: weekday 2 is listed twice");
	assert_rule_error("{weekdays: []}", GOOD_THEN,
			  "t.yaml:7:23: rules[1].match.weekdays: expected a non-empty list");
	assert_rule_error("{dialled: \"12356\"}", GOOD_THEN,
			  "t.yaml:7:22: rules[1].match.dialled: expected a non-empty list");
	assert_rule_error("{dialled: [\"123-56\"]}", GOOD_THEN,
			  "t.yaml:7:23: rules[1].match.dialled: '123-56' is not a number");
	assert_rule_error("{ivr_prefix: \"\"}", GOOD_THEN,
			  "t.yaml:7:25: rules[1].match.ivr_prefix: '' is not an IVR prefix");
	assert_rule_error("{ivr_path: \"1a\"}", GOOD_THEN,
			  "t.yaml:7:23: rules[1].match.ivr_path: '1a' is not an IVR path");
	assert_rule_error("{caller_flag: \"Recent Crisis\"}", GOOD_THEN,
			  "t.yaml:7:26: rules[1].match.caller_flag: 'Recent Crisis' is not a flag");
	assert_rule_error("{colour: red}", GOOD_THEN,
			  "t.yaml:7:13: rules[1].match: unknown key 'colour'; expected dialled, "
			  "ivr_path, ivr_prefix, caller_flag, time, weekdays");
	assert_rule_error("{}", GOOD_THEN,
			  "t.yaml:7:12: rules[1].match: a rule needs at least one condition");
	assert_rule_error("[1]", GOOD_THEN, "t.yaml:7:12: rules[1].match: expected a mapping");
	assert_rule_error("{ivr_prefix: \"1\", ivr_prefix: \"2\"}", GOOD_THEN,
			  "t.yaml:7:30: rules[1].match: duplicate key 'ivr_prefix' (first given at "
			  "line 7)");
}
END_TEST

START_TEST (test_bad_results_are_refused) {
	const char *m = "{ivr_prefix: \"2\"}";
	assert_rule_error(
		m, "{category: dental, queue: b, priority: 4}",
		"t.yaml:8:22: rules[1].then.category: 'dental' is not a category; use one "
		"of consultation, complaint, booking");
	assert_rule_error(m, "{category: booking, queue: Night Desk, priority: 4}",
			  "t.yaml:8:38: rules[1].then.queue: 'Night Desk' is not a queue name");
	assert_rule_error(
		m,
		"{category: booking, queue: abcdefghijklmnopqrstuvwxyz0123456, "
		"priority: 4}",
		"t.yaml:8:38: rules[1].then.queue: 'abcdefghijklmnopqrstuvwxyz0123456' is "
		"not a queue name");
	assert_rule_error(m, "{category: booking, queue: b, priority: 10}",
			  "t.yaml:8:51: rules[1].then.priority: '10' is not a priority");
	assert_rule_error(m, "{category: booking, queue: b, priority: -1}",
			  "t.yaml:8:51: rules[1].then.priority: '-1' is not a priority");
	assert_rule_error(m, "{category: booking, queue: b, priority: \"4\"}",
			  "t.yaml:8:51: rules[1].then.priority: '4' is not a priority");
	assert_rule_error(m, "{category: booking, queue: b}",
			  "t.yaml:8:11: rules[1].then: 'priority' is missing");
	assert_rule_error(m, "{category: booking, queue: b, priority: 4, extra: 1}",
			  "t.yaml:8:54: rules[1].then: unknown key 'extra'");
}
END_TEST

START_TEST (test_bad_rule_entries_are_refused) {
	/* Duplicate name. */
	assert_load_error(DEFAULT_LINE RULE0 "  - name: r0\n"
					     "    match: {ivr_prefix: \"2\"}\n"
					     "    then: " GOOD_THEN "\n",
			  "t.yaml:6:11: rules[1].name: 'r0' is already the name of rules[0]");
	assert_load_error(DEFAULT_LINE "rules:\n"
				       "  - name: default\n"
				       "    match: {ivr_prefix: \"2\"}\n"
				       "    then: " GOOD_THEN "\n",
			  "t.yaml:3:11: rules[0].name: 'default' is reserved");
	assert_load_error(DEFAULT_LINE "rules:\n"
				       "  - name: Bad Name\n"
				       "    match: {ivr_prefix: \"2\"}\n"
				       "    then: " GOOD_THEN "\n",
			  "t.yaml:3:11: rules[0].name: 'Bad Name' is not a rule name");
	assert_load_error(DEFAULT_LINE "rules:\n"
				       "  - match: {ivr_prefix: \"2\"}\n"
				       "    then: " GOOD_THEN "\n",
			  "t.yaml:3:5: rules[0]: 'name' is missing");
	assert_load_error(DEFAULT_LINE "rules:\n"
				       "  - name: r\n"
				       "    then: " GOOD_THEN "\n",
			  "t.yaml:3:5: rules[0]: 'match' is missing");
	assert_load_error(DEFAULT_LINE "rules:\n"
				       "  - name: r\n"
				       "    match: {ivr_prefix: \"2\"}\n",
			  "t.yaml:3:5: rules[0]: 'then' is missing");
	assert_load_error(
		DEFAULT_LINE "rules:\n"
			     "  - name: r\n"
			     "    matches: {ivr_prefix: \"2\"}\n",
		"t.yaml:4:5: rules[0]: unknown key 'matches'; expected name, match, then");
	assert_load_error(DEFAULT_LINE "rules:\n"
				       "  - crisis\n",
			  "t.yaml:3:5: rules[0]: expected a mapping");
}
END_TEST

START_TEST (test_bad_file_structure_is_refused) {
	assert_load_error("", "t.yaml:1:1: rules file: is empty");
	assert_load_error("- a\n", "t.yaml:1:1: rules file: expected a mapping with 'default' and "
				   "'rules', found a list");
	assert_load_error("rules: []\n", "t.yaml:1:1: rules file: 'default' is missing");
	assert_load_error(DEFAULT_LINE, "t.yaml:1:1: rules file: 'rules' is missing");
	assert_load_error(DEFAULT_LINE "rules: {a: 1}\n",
			  "t.yaml:2:8: rules: expected a list of rules, found a mapping");
	assert_load_error(DEFAULT_LINE "rules: []\nextra: 1\n",
			  "t.yaml:3:1: rules file: unknown key 'extra'; expected default, rules");
	assert_load_error(
		DEFAULT_LINE "rules: []\ndefault: {category: other, queue: g, priority: 1}\n",
		"t.yaml:3:1: rules file: duplicate key 'default' (first given at line 1)");
	assert_load_error("default: {category: crisis, queue: general}\nrules: []\n",
			  "t.yaml:1:10: default: 'priority' is missing");
	assert_load_error("default: {category: none, queue: general, priority: 5}\nrules: []\n",
			  "t.yaml:1:21: default.category: 'none' is not a category");
	assert_load_error(DEFAULT_LINE "rules: []\n---\nrules: []\n",
			  "t.yaml:4:1: rules file: only one YAML document is allowed");
}
END_TEST

START_TEST (test_malformed_yaml_is_refused_with_its_position) {
	assert_load_error(DEFAULT_LINE "rules:\n  - name: \"r0\n", "t.yaml:4:1: malformed YAML: ");
	assert_load_error(DEFAULT_LINE "rules: [\n", "t.yaml:3:1: malformed YAML: ");
	assert_load_error("default: {category: other\n", "t.yaml:2:1: malformed YAML: ");
}
END_TEST

START_TEST (test_missing_rules_file_is_an_error) {
	struct classifier *c = NULL;
	char err[512];
	ck_assert_int_eq(classifier_load_file("/nonexistent/rules.yaml", &c, err, sizeof err), -1);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, "/nonexistent/rules.yaml: cannot open: No such file or directory");
}
END_TEST

static Suite *classifier_suite(void)
{
	Suite *s = suite_create("classifier");
	TCase *tc = tcase_create("shipped rules");

	tcase_add_checked_fixture(tc, shipped_load, shipped_free);
	tcase_add_test(tc, test_shipped_rules_load_in_order);
	tcase_add_test(tc, test_crisis_line_is_crisis_whatever_the_ivr);
	tcase_add_test(tc, test_recent_crisis_caller_goes_to_crisis);
	tcase_add_test(tc, test_ivr_crisis);
	tcase_add_test(tc, test_ivr_booking);
	tcase_add_test(tc, test_night_consultation_only_at_night);
	tcase_add_test(tc, test_night_window_boundaries);
	tcase_add_test(tc, test_ivr_complaint_expert_survey_self_service);
	tcase_add_test(tc, test_unmatched_calls_get_the_default);
	suite_add_tcase(s, tc);

	tc = tcase_create("matching");
	tcase_add_test(tc, test_first_matching_rule_wins);
	tcase_add_test(tc, test_time_window_that_does_not_wrap);
	tcase_add_test(tc, test_weekdays_and_all_conditions_together);
	tcase_add_test(tc, test_empty_ivr_path_matches_calls_without_ivr_input);
	tcase_add_test(tc, test_no_rules_means_everything_gets_the_default);
	suite_add_tcase(s, tc);

	tc = tcase_create("load errors");
	tcase_add_test(tc, test_bad_time_windows_are_refused);
	tcase_add_test(tc, test_bad_conditions_are_refused);
	tcase_add_test(tc, test_bad_results_are_refused);
	tcase_add_test(tc, test_bad_rule_entries_are_refused);
	tcase_add_test(tc, test_bad_file_structure_is_refused);
	tcase_add_test(tc, test_malformed_yaml_is_refused_with_its_position);
	tcase_add_test(tc, test_missing_rules_file_is_an_error);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(classifier_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
