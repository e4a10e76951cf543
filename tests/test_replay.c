/* test_replay.c: the simulator's plan (replay.c): exact counts per centre and
 * category, the abandoned extras, the local-year boundaries in two zones, leap
 * years, the daily rhythm, determinism, the events' JSON, and agreement with
 * the shipped classification rules (conf/rules.yaml); and the work orders:
 * exact counts per source, unique numbers, dates inside the local year, the
 * mix, and the intake's JSON. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "classifier.h"
#include "profile.h"
#include "replay.h"
#include "strmap.h"
#include "timeutil.h"

#define USEC INT64_C(1000000)

struct tally {
	int64_t accepted[16][CATEGORY_COUNT];
	int64_t abandoned[16];
	int64_t first_accepted[16]; /* offered time, INT64_MAX when none */
	int64_t last_accepted[16];  /* offered time, INT64_MIN when none */
	int64_t min_offered;
	int64_t max_offered;
	int64_t by_hour[24];
	int64_t calls;
	uint64_t digest; /* FNV-1a over every event body, in plan order */
	size_t n_centres;
};

static void use_zone(const char *zone)
{
	ck_assert_msg(timeutil_set_zone(zone) == 0, "zone %s is not installed", zone);
}

static struct profile *load_profile(const char *relative)
{
	const char *src = getenv("HOTLINE_SOURCE_DIR");
	char path[512], err[1024];
	struct profile *p = NULL;

	ck_assert_msg(src != NULL, "HOTLINE_SOURCE_DIR is not set");
	snprintf(path, sizeof path, "%s/%s", src, relative);
	ck_assert_msg(profile_load_file(path, &p, err, sizeof err) == 0, "%s", err);
	return p;
}

static struct profile *load_scaled(const char *relative, double scale)
{
	struct profile *p = load_profile(relative);
	struct profile *scaled = profile_scale(p, scale);
	ck_assert_ptr_nonnull(scaled);
	profile_free(p);
	return scaled;
}

static struct replay *plan_new(const struct profile *p, uint64_t seed)
{
	char err[512];
	struct replay *r = replay_new(p, seed, err, sizeof err);
	ck_assert_msg(r != NULL, "replay_new: %s", err);
	return r;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* Runs the whole plan and counts what it yields. */
static void plan_tally(const struct profile *p, uint64_t seed, struct tally *t)
{
	struct replay *r = plan_new(p, seed);
	struct replay_call call;
	char body[1024];

	memset(t, 0, sizeof *t);
	t->n_centres = replay_centre_count(r);
	ck_assert_uint_le(t->n_centres, 16);
	for (size_t i = 0; i < 16; i++) {
		t->first_accepted[i] = INT64_MAX;
		t->last_accepted[i] = INT64_MIN;
	}
	t->min_offered = INT64_MAX;
	t->max_offered = INT64_MIN;
	t->digest = UINT64_C(0xcbf29ce484222325);
	while (replay_next(r, &call)) {
		size_t c = call.centre_index;
		t->calls++;
		if (call.outcome == REPLAY_OUTCOME_ABANDONED) {
			t->abandoned[c]++;
		} else {
			t->accepted[c][call.category]++;
			if (call.offered_usec < t->first_accepted[c])
				t->first_accepted[c] = call.offered_usec;
			if (call.offered_usec > t->last_accepted[c])
				t->last_accepted[c] = call.offered_usec;
		}
		if (call.offered_usec < t->min_offered)
			t->min_offered = call.offered_usec;
		if (call.offered_usec > t->max_offered)
			t->max_offered = call.offered_usec;
		int minute, weekday;
		timeutil_local_clock(call.offered_usec, &minute, &weekday);
		t->by_hour[minute / 60]++;
		for (size_t i = 0; i < call.n_events; i++) {
			int n = replay_format_event(&call, i, body, sizeof body);
			ck_assert_int_gt(n, 0);
			t->digest = fnv1a(t->digest, body, (size_t)n);
		}
	}
	ck_assert_int_eq(t->calls, replay_planned_calls(r));
	replay_free(r);
}

/* The own centre gets calls.by_category; every other centre its province
 * figure split in the own centre's mix by largest remainder. */
static void assert_counts_match(const struct profile *p)
{
	struct tally t;
	int64_t want[CATEGORY_COUNT];
	size_t k = 1;

	plan_tally(p, 1, &t);
	for (int c = 0; c < CATEGORY_COUNT; c++)
		ck_assert_msg(t.accepted[0][c] == p->calls_by_category[c],
			      "%s: %s planned %lld, want %lld", p->centre_code,
			      category_name((enum category)c), (long long)t.accepted[0][c],
			      (long long)p->calls_by_category[c]);
	for (size_t i = 0; p->has_province && i < p->n_centres; i++) {
		if (strcmp(p->centres[i].code, p->centre_code) == 0)
			continue;
		profile_apportion(p->centres[i].calls, p->calls_by_category, CATEGORY_COUNT, want);
		int64_t sum = 0;
		for (int c = 0; c < CATEGORY_COUNT; c++) {
			ck_assert_msg(t.accepted[k][c] == want[c], "%s: %s planned %lld, want %lld",
				      p->centres[i].code, category_name((enum category)c),
				      (long long)t.accepted[k][c], (long long)want[c]);
			sum += t.accepted[k][c];
		}
		ck_assert_int_eq(sum, p->centres[i].calls);
		k++;
	}
	ck_assert_uint_eq(k, t.n_centres);
}

START_TEST(test_nanjing_plan_has_exactly_the_scaled_counts)
{
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("data/nanjing-2019.yaml", 0.01);
	assert_counts_match(p);
	profile_free(p);
}
END_TEST

START_TEST(test_edge_profile_plan_has_exactly_its_counts)
{
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("tests/data/edge-2020.yaml", 1.0);
	assert_counts_match(p);
	profile_free(p);
}
END_TEST

START_TEST(test_planned_counts_are_reported_before_iteration)
{
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("data/nanjing-2019.yaml", 0.01);
	struct replay *r = plan_new(p, 3);
	struct tally t;
	int64_t total = 0;

	plan_tally(p, 3, &t);
	for (size_t i = 0; i < replay_centre_count(r); i++) {
		for (int c = 0; c < CATEGORY_COUNT; c++) {
			ck_assert_int_eq(replay_planned_accepted(r, i, (enum category)c),
					 t.accepted[i][c]);
			total += t.accepted[i][c];
		}
		ck_assert_int_eq(replay_planned_abandoned(r, i), t.abandoned[i]);
		total += t.abandoned[i];
	}
	ck_assert_int_eq(replay_planned_calls(r), total);
	ck_assert_str_eq(replay_centre_code(r, 0), "nanjing");
	ck_assert_ptr_null(replay_centre_code(r, replay_centre_count(r)));
	replay_free(r);
	profile_free(p);
}
END_TEST

START_TEST(test_abandoned_calls_are_extra_about_two_percent_and_flagged)
{
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("data/nanjing-2019.yaml", 0.01);
	struct replay *r = plan_new(p, 1);
	struct replay_call call;
	int64_t accepted[16] = {0}, abandoned[16] = {0};

	while (replay_next(r, &call)) {
		if (call.outcome != REPLAY_OUTCOME_ABANDONED) {
			accepted[call.centre_index]++;
			continue;
		}
		abandoned[call.centre_index]++;
		ck_assert_uint_eq(call.n_events, 2);
		ck_assert_int_eq(call.events[0].type, REPLAY_EVENT_OFFERED);
		ck_assert_int_eq(call.events[1].type, REPLAY_EVENT_ABANDONED);
		ck_assert_int_gt(call.events[1].usec, call.events[0].usec);
		ck_assert_uint_eq(call.agent, 0);
		ck_assert_int_ne(call.category, CATEGORY_IVR_SELF_SERVICE);
	}
	for (size_t i = 0; i < replay_centre_count(r); i++) {
		ck_assert_int_eq(abandoned[i], replay_planned_abandoned(r, i));
		/* round(2% of the accepted calls) */
		ck_assert_int_eq(abandoned[i], (accepted[i] * 2 + 50) / 100);
	}
	ck_assert_int_gt(abandoned[0], 300);
	replay_free(r);
	profile_free(p);
}
END_TEST

/* Every offered time lies in the local year; each centre's first accepted
 * call is at local midnight on 1 January, its last at 23:59:00 on 31 December. */
static void assert_year_boundaries(const char *zone, const char *first_text, const char *last_text)
{
	use_zone(zone);
	struct profile *p = load_scaled("data/nanjing-2019.yaml", 0.01);
	const int64_t start = timeutil_local_midnight(2019, 1, 1);
	const int64_t end = timeutil_local_midnight(2020, 1, 1);
	char text[TIMEUTIL_RFC3339_LEN];
	struct tally t;

	plan_tally(p, 5, &t);
	ck_assert_int_ge(t.min_offered, start);
	ck_assert_int_lt(t.max_offered, end);
	for (size_t i = 0; i < t.n_centres; i++) {
		ck_assert_int_eq(t.first_accepted[i], start);
		ck_assert_int_eq(t.last_accepted[i], end - 60 * USEC);
	}
	timeutil_format_local(t.first_accepted[0], text);
	ck_assert_str_eq(text, first_text);
	timeutil_format_local(t.last_accepted[0], text);
	ck_assert_str_eq(text, last_text);
	profile_free(p);
}

START_TEST(test_calls_stay_inside_the_local_year_in_shanghai)
{
	assert_year_boundaries("Asia/Shanghai", "2019-01-01T00:00:00+08:00",
			       "2019-12-31T23:59:00+08:00");
}
END_TEST

START_TEST(test_calls_stay_inside_the_local_year_in_new_york)
{
	assert_year_boundaries("America/New_York", "2019-01-01T00:00:00-05:00",
			       "2019-12-31T23:59:00-05:00");
}
END_TEST

/* The calls offered at 23:59:00 on 31 December are not cut short at the
 * year's end: over a few seeds, some of them end in the next year. */
START_TEST(test_the_last_calls_of_the_year_may_end_in_the_next)
{
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("data/nanjing-2019.yaml", 0.01);
	const int64_t end = timeutil_local_midnight(2020, 1, 1);
	int last_calls = 0, crossed = 0;

	for (uint64_t seed = 1; seed <= 5; seed++) {
		struct replay *r = plan_new(p, seed);
		struct replay_call call;
		while (replay_next(r, &call)) {
			if (call.offered_usec != end - 60 * USEC)
				continue;
			last_calls++;
			ck_assert_int_ne(call.outcome, REPLAY_OUTCOME_ABANDONED);
			ck_assert_msg(strstr(call.call_id, "-2019-") != NULL, "%s", call.call_id);
			ck_assert_int_le(call.events[1].usec - call.offered_usec, 200 * USEC);
			if (call.events[call.n_events - 1].usec >= end)
				crossed++;
		}
		replay_free(r);
	}
	/* Every centre's last call, for every seed. */
	ck_assert_int_eq(last_calls, 5 * 9);
	ck_assert_int_gt(crossed, 0);
	profile_free(p);
}
END_TEST

START_TEST(test_leap_year_uses_all_366_days)
{
	use_zone("Asia/Shanghai");
	struct profile *src = load_profile("data/nanjing-2019.yaml");
	src->year = 2020;
	struct profile *p = profile_scale(src, 0.01);
	ck_assert_ptr_nonnull(p);
	struct replay *r = plan_new(p, 11);
	struct replay_call call;
	static bool seen[367];
	int64_t feb29 = 0;
	const int64_t start = timeutil_local_midnight(2020, 1, 1);
	const int64_t feb29_start = timeutil_local_midnight(2020, 2, 29);
	const int64_t end = timeutil_local_midnight(2021, 1, 1);
	int64_t last = INT64_MIN;

	ck_assert_int_eq(timeutil_days_in_year(2020), 366);
	while (replay_next(r, &call)) {
		ck_assert_msg(strstr(call.call_id, "-2020-") != NULL, "%s", call.call_id);
		ck_assert_int_ge(call.offered_usec, start);
		ck_assert_int_lt(call.offered_usec, end);
		int64_t day = (call.offered_usec - start) / (86400 * USEC); /* no DST in Shanghai */
		seen[day] = true;
		if (call.offered_usec >= feb29_start &&
		    call.offered_usec < feb29_start + 86400 * USEC)
			feb29++;
		if (call.outcome != REPLAY_OUTCOME_ABANDONED && call.centre_index == 0 &&
		    call.offered_usec > last)
			last = call.offered_usec;
	}
	for (int d = 0; d < 366; d++)
		ck_assert_msg(seen[d], "no call on day %d of 2020", d + 1);
	ck_assert_int_gt(feb29, 0);
	ck_assert_int_eq(last, end - 60 * USEC);
	replay_free(r);
	profile_free(p);
	profile_free(src);
}
END_TEST

START_TEST(test_edge_profile_covers_a_leap_year_and_a_single_call_centre)
{
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("tests/data/edge-2020.yaml", 1.0);
	struct tally t;
	const int64_t start = timeutil_local_midnight(2020, 1, 1);
	const int64_t end = timeutil_local_midnight(2021, 1, 1);

	plan_tally(p, 1, &t);
	ck_assert_int_eq(t.first_accepted[0], start);
	ck_assert_int_eq(t.last_accepted[0], end - 60 * USEC);
	/* one_call has a single call: it is the first of the year. */
	ck_assert_str_eq(p->centres[2].code, "one_call");
	ck_assert_int_eq(t.first_accepted[2], start);
	ck_assert_int_eq(t.last_accepted[2], start);
	ck_assert_int_eq(t.abandoned[2], 0);
	ck_assert_int_lt(t.max_offered, end);
	profile_free(p);
}
END_TEST

START_TEST(test_same_seed_same_plan_other_seed_other_plan)
{
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("data/nanjing-2019.yaml", 0.01);
	struct tally a, b, c;

	plan_tally(p, 42, &a);
	plan_tally(p, 42, &b);
	plan_tally(p, 43, &c);
	ck_assert_uint_eq(a.digest, b.digest);
	ck_assert_int_eq(a.calls, b.calls);
	ck_assert_uint_ne(a.digest, c.digest);
	/* Counts do not depend on the seed; only times and details do. */
	ck_assert_mem_eq(a.accepted, c.accepted, sizeof a.accepted);
	profile_free(p);
}
END_TEST

START_TEST(test_daily_rhythm_peaks_in_office_hours)
{
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("data/nanjing-2019.yaml", 0.01);
	struct tally t;

	plan_tally(p, 1, &t);
	ck_assert_int_gt(t.by_hour[10], 10 * t.by_hour[3]);
	ck_assert_int_gt(t.by_hour[15], 10 * t.by_hour[3]);
	ck_assert_int_gt(t.by_hour[10], t.by_hour[12]);
	ck_assert_int_gt(t.by_hour[3], 0);
	profile_free(p);
}
END_TEST

START_TEST(test_weekends_are_quieter_than_weekdays)
{
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("data/nanjing-2019.yaml", 0.01);
	struct replay *r = plan_new(p, 1);
	struct replay_call call;
	int64_t by_weekday[8] = {0};

	while (replay_next(r, &call)) {
		int minute, weekday;
		timeutil_local_clock(call.offered_usec, &minute, &weekday);
		by_weekday[weekday]++;
	}
	/* 2019 has 53 Tuesdays and 52 of every other weekday. */
	ck_assert_int_gt(by_weekday[1], by_weekday[6] * 3 / 2);
	ck_assert_int_gt(by_weekday[3], by_weekday[7] * 3 / 2);
	replay_free(r);
	profile_free(p);
}
END_TEST

static bool is_one_of(const char *key, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (strcmp(key, *allowed) == 0)
			return true;
	return false;
}

/* Each call's events are in order, legal for its outcome, and their JSON
 * carries exactly the fields of doc/api.md. */
START_TEST(test_events_follow_the_gateway_protocol)
{
	static const char *const common[] = {"event_id", "type", "call_id", "centre", "time", NULL};
	static const char *const offered[] = {"event_id",     "type",   "call_id", "centre",
					      "time",         "caller", "dialled", "ivr_path",
					      "caller_flags", NULL};
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("tests/data/edge-2020.yaml", 1.0);
	struct replay *r = plan_new(p, 9);
	struct replay_call call;
	char body[1024], id[REPLAY_ID_MAX], want_id[128];
	int transfers = 0;

	while (replay_next(r, &call)) {
		snprintf(want_id, sizeof want_id, "s9-%s-2020-%llu", call.centre,
			 (unsigned long long)call.index);
		ck_assert_str_eq(call.call_id, want_id);
		ck_assert_int_eq(call.events[0].type, REPLAY_EVENT_OFFERED);
		ck_assert_int_eq(call.events[0].usec, call.offered_usec);
		switch (call.outcome) {
		case REPLAY_OUTCOME_HANDLED:
			ck_assert_int_eq(call.events[1].type, REPLAY_EVENT_ANSWERED);
			ck_assert_int_eq(call.events[call.n_events - 1].type, REPLAY_EVENT_ENDED);
			ck_assert_uint_gt(call.agent, 0);
			if (call.n_events == 4) {
				ck_assert_int_eq(call.events[2].type, REPLAY_EVENT_TRANSFERRED);
				ck_assert_uint_ne(call.transfer_agent, call.agent);
				transfers++;
			} else {
				ck_assert_uint_eq(call.n_events, 3);
			}
			break;
		case REPLAY_OUTCOME_SELF_SERVICE:
			ck_assert_int_eq(call.category, CATEGORY_IVR_SELF_SERVICE);
			ck_assert_uint_eq(call.n_events, 3);
			ck_assert_int_eq(call.events[1].type, REPLAY_EVENT_IVR_COMPLETED);
			ck_assert_int_eq(call.events[2].type, REPLAY_EVENT_ENDED);
			ck_assert_int_eq(strncmp(call.ivr_final_path, call.ivr_path,
						 strlen(call.ivr_path)),
					 0);
			break;
		case REPLAY_OUTCOME_ABANDONED:
			ck_assert_uint_eq(call.n_events, 2);
			break;
		}
		ck_assert_uint_eq(strlen(call.caller), 11);
		ck_assert_int_eq(call.caller[0], '1');
		for (size_t i = 0; i < call.n_events; i++) {
			if (i > 0)
				ck_assert_int_gt(call.events[i].usec, call.events[i - 1].usec);
			int n = replay_format_event(&call, i, body, sizeof body);
			ck_assert_int_gt(n, 0);
			json_error_t jerr;
			json_t *o = json_loadb(body, (size_t)n, 0, &jerr);
			ck_assert_msg(json_is_object(o), "%s: %s", body, jerr.text);
			const char *key;
			json_t *value;
			json_object_foreach(o, key, value)
			{
				ck_assert_msg(is_one_of(key, i == 0 ? offered : common) ||
						      (i > 0 && (strcmp(key, "agent") == 0 ||
								 strcmp(key, "to_agent") == 0 ||
								 strcmp(key, "ivr_path") == 0)),
					      "unexpected field %s in %s", key, body);
			}
			replay_event_id(&call, i, id);
			ck_assert_str_eq(json_string_value(json_object_get(o, "event_id")), id);
			ck_assert_str_eq(json_string_value(json_object_get(o, "type")),
					 replay_event_type_name(call.events[i].type));
			int64_t when;
			ck_assert_int_eq(timeutil_parse_rfc3339(
						 json_string_value(json_object_get(o, "time")),
						 &when),
					 0);
			ck_assert_int_eq(when, call.events[i].usec);
			json_decref(o);
		}
		ck_assert_int_eq(replay_format_event(&call, call.n_events, body, sizeof body), -1);
		ck_assert_int_eq(replay_format_event(&call, 0, body, 16), -1);
	}
	ck_assert_int_gt(transfers, 0);
	replay_free(r);
	profile_free(p);
}
END_TEST

/* The simulator names the agents the distributor picked: the body is the
 * plan's but for the agent fields. */
START_TEST(test_events_can_name_the_agents_of_the_pool)
{
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("tests/data/edge-2020.yaml", 1.0);
	struct replay *r = plan_new(p, 9);
	struct replay_call call;
	char plain[1024], named[1024], want[1024], agent[16], to_agent[16];
	int transfers = 0;

	while (replay_next(r, &call)) {
		snprintf(agent, sizeof agent, "a%u", call.agent);
		snprintf(to_agent, sizeof to_agent, "a%u", call.transfer_agent);
		for (size_t i = 0; i < call.n_events; i++) {
			ck_assert_int_gt(replay_format_event(&call, i, plain, sizeof plain), 0);
			ck_assert_int_gt(replay_format_event_as(&call, i, "sim-007", "sim-002", named,
								sizeof named),
					 0);
			/* Put the plan's names back: the rest is byte for byte the same. */
			snprintf(want, sizeof want, "%s", named);
			char *at = strstr(want, "\"agent\":\"sim-007\"");
			if (call.events[i].type == REPLAY_EVENT_ANSWERED) {
				ck_assert_ptr_nonnull(at);
				snprintf(at, sizeof want - (size_t)(at - want), "\"agent\":\"%s\"}",
					 agent);
			} else if (call.events[i].type == REPLAY_EVENT_TRANSFERRED) {
				at = strstr(want, "\"to_agent\":\"sim-002\"");
				ck_assert_ptr_nonnull(at);
				snprintf(at, sizeof want - (size_t)(at - want),
					 "\"to_agent\":\"%s\"}", to_agent);
				transfers++;
			} else {
				ck_assert_ptr_null(at);
				ck_assert_ptr_null(strstr(named, "sim-"));
			}
			ck_assert_str_eq(want, plain);
		}
	}
	ck_assert_int_gt(transfers, 0);
	replay_free(r);
	profile_free(p);
}
END_TEST

/* The plan's routes lead the shipped rules to the planned category, through
 * each of the three crisis routes. */
START_TEST(test_planned_routes_agree_with_the_shipped_rules)
{
	const char *src = getenv("HOTLINE_SOURCE_DIR");
	char path[512], err[512];
	struct classifier *rules = NULL;

	ck_assert_msg(src != NULL, "HOTLINE_SOURCE_DIR is not set");
	snprintf(path, sizeof path, "%s/conf/rules.yaml", src);
	ck_assert_msg(classifier_load_file(path, &rules, err, sizeof err) == 0, "%s", err);
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("data/nanjing-2019.yaml", 0.02);
	struct replay *r = plan_new(p, 2);
	struct replay_call call;
	int crisis_ways[3] = {0};

	while (replay_next(r, &call)) {
		const char *flag = "recent_crisis";
		struct classify_input in = {
			.dialled = call.dialled,
			.ivr_path = call.ivr_path,
			.flags = call.recent_crisis ? &flag : NULL,
			.n_flags = call.recent_crisis ? 1 : 0,
		};
		struct classify_result out;
		timeutil_local_clock(call.offered_usec, &in.minute_of_day, &in.weekday);
		classifier_classify(rules, &in, &out);
		if (call.outcome == REPLAY_OUTCOME_SELF_SERVICE) {
			/* Queued from IVR 9; the broker recategorises it when it ends there. */
			ck_assert_int_eq(call.ivr_path[0], '9');
			ck_assert_int_ne(out.category, CATEGORY_CRISIS);
			continue;
		}
		ck_assert_msg(out.category == call.category,
			      "%s: dialled %s ivr_path \"%s\"%s: rules say %s (%s), plan says %s",
			      call.call_id, call.dialled, call.ivr_path,
			      call.recent_crisis ? " recent_crisis" : "",
			      category_name(out.category), out.rule, category_name(call.category));
		if (call.category == CATEGORY_CRISIS) {
			if (strcmp(call.dialled, "12356") == 0)
				crisis_ways[0]++;
			else if (call.recent_crisis)
				crisis_ways[1]++;
			else
				crisis_ways[2]++;
		}
	}
	ck_assert_int_gt(crisis_ways[0], 0);
	ck_assert_int_gt(crisis_ways[1], 0);
	ck_assert_int_gt(crisis_ways[2], 0);
	replay_free(r);
	profile_free(p);
	classifier_free(rules);
}
END_TEST

static struct profile *profile_from_text(const char *text)
{
	struct profile *p = NULL;
	char err[512];
	ck_assert_msg(profile_load_buffer("inline", text, strlen(text), &p, err, sizeof err) == 0,
		      "%s", err);
	return p;
}

START_TEST(test_a_profile_without_calls_plans_nothing)
{
	use_zone("Asia/Shanghai");
	struct profile *p = profile_from_text("schema: hotline-year-profile/1\n"
					      "profile: empty\n"
					      "year: 2021\n"
					      "centre: {code: quiet, name: Quiet}\n"
					      "calls: {total: 0, by_category: {}}\n"
					      "work_orders: {city_12345: 0, province_12345: 0}\n");
	struct replay *r = plan_new(p, 1);
	struct replay_call call;

	ck_assert_uint_eq(replay_centre_count(r), 1);
	ck_assert_int_eq(replay_planned_calls(r), 0);
	ck_assert(!replay_next(r, &call));
	ck_assert(!replay_next(r, &call));
	replay_free(r);
	profile_free(p);
}
END_TEST

START_TEST(test_a_profile_without_province_plans_only_its_centre)
{
	use_zone("Europe/London");
	struct profile *p =
		profile_from_text("schema: hotline-year-profile/1\n"
				  "profile: tiny\n"
				  "year: 2021\n"
				  "centre: {code: tiny, name: Tiny}\n"
				  "calls: {total: 3, by_category: {crisis: 2, other: 1}}\n"
				  "work_orders: {city_12345: 0, province_12345: 0}\n");
	struct tally t;
	char text[TIMEUTIL_RFC3339_LEN];

	plan_tally(p, 1, &t);
	ck_assert_uint_eq(t.n_centres, 1);
	ck_assert_int_eq(t.calls, 3);
	ck_assert_int_eq(t.accepted[0][CATEGORY_CRISIS], 2);
	ck_assert_int_eq(t.accepted[0][CATEGORY_OTHER], 1);
	ck_assert_int_eq(t.abandoned[0], 0);
	timeutil_format_local(t.first_accepted[0], text);
	ck_assert_str_eq(text, "2021-01-01T00:00:00+00:00");
	timeutil_format_local(t.last_accepted[0], text);
	ck_assert_str_eq(text, "2021-12-31T23:59:00+00:00");
	profile_free(p);
}
END_TEST

START_TEST(test_centre_codes_outside_the_id_alphabet_are_refused)
{
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("tests/data/edge-2020.yaml", 1.0);
	char err[512];

	free(p->centres[1].code);
	p->centres[1].code = strdup("river 2");
	ck_assert_ptr_null(replay_new(p, 1, err, sizeof err));
	ck_assert_msg(strstr(err, "province.by_centre.code") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "river 2") != NULL, "%s", err);
	profile_free(p);
}
END_TEST

START_TEST(test_ids_longer_than_the_api_allows_are_refused)
{
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("tests/data/edge-2020.yaml", 1.0);
	char err[512];

	free(p->centre_code);
	p->centre_code = strdup("a-centre-code-of-thirty-two-char");
	ck_assert_uint_eq(strlen(p->centre_code), 32);
	/* A 20-digit seed makes "s<seed>-<code>-2020-<n>-<k>" longer than 64. */
	ck_assert_ptr_null(replay_new(p, UINT64_MAX, err, sizeof err));
	ck_assert_msg(strstr(err, "64") != NULL, "%s", err);
	struct replay *r = replay_new(p, 1, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	replay_free(r);
	/* Work order numbers carry "-city-" or "-prov-" where event ids carry
	 * "-<k>": "s1000000000000000000-<code>-2020-287-4" is 64 characters, the
	 * order "w1000000000000000000-<code>-2020-city-9" 65. */
	ck_assert_ptr_null(replay_new(p, UINT64_C(1000000000000000000), err, sizeof err));
	ck_assert_msg(strstr(err, "work order numbers of 65 characters") != NULL, "%s", err);
	p->work_orders_city = p->work_orders_province = 0;
	r = replay_new(p, UINT64_C(1000000000000000000), err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	replay_free(r);
	profile_free(p);
}
END_TEST

/* --- work orders ------------------------------------------------------------ */

/* What a plan's work orders add up to. */
struct order_tally {
	int64_t by_source[REPLAY_ORDER_SOURCES];
	int64_t by_category[CATEGORY_COUNT];
	int64_t urgent;
	int64_t first_received;       /* INT64_MAX when none */
	int64_t last_received;        /* INT64_MIN when none */
	int64_t weekday_office_hours; /* received Monday to Friday, 08:00 to 17:59 */
	size_t n;
};

/* Walks every order of the plan, checking what must hold of each: in
 * received order, numbered 1, 2, ... per source, numbers unique and in the
 * API's alphabet, received inside the plan's local year. */
static void order_tally(const struct replay *r, int year, struct order_tally *t)
{
	const int64_t year_start = timeutil_local_midnight(year, 1, 1);
	const int64_t year_end = timeutil_local_midnight(year + 1, 1, 1);
	struct strmap *numbers = strmap_new();
	struct replay_order o;
	uint64_t next_index[REPLAY_ORDER_SOURCES] = {1, 1};
	int64_t previous = INT64_MIN;

	ck_assert_ptr_nonnull(numbers);
	memset(t, 0, sizeof *t);
	t->first_received = INT64_MAX;
	t->last_received = INT64_MIN;
	for (size_t i = 0; replay_order_at(r, i, &o); i++) {
		ck_assert_uint_lt(o.source, REPLAY_ORDER_SOURCES);
		ck_assert_uint_eq(o.index, next_index[o.source]++);
		ck_assert_int_ge(o.received_usec, previous);
		previous = o.received_usec;
		ck_assert_msg(o.received_usec >= year_start && o.received_usec < year_end,
			      "order %s received outside the local year %d", o.external_no, year);
		size_t len = strlen(o.external_no);
		ck_assert_uint_ge(len, 1);
		ck_assert_uint_le(len, 64);
		ck_assert_msg(strspn(o.external_no,
				     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				     "0123456789._:-") == len,
			      "%s", o.external_no);
		ck_assert_msg(strmap_get(numbers, o.external_no, len) == NULL, "%s twice",
			      o.external_no);
		ck_assert_int_eq(strmap_put(numbers, o.external_no, len, numbers), 0);
		ck_assert_str_eq(o.centre, replay_centre_code(r, 0));
		t->by_source[o.source]++;
		t->by_category[o.category]++;
		t->urgent += o.urgent;
		if (o.received_usec < t->first_received)
			t->first_received = o.received_usec;
		if (o.received_usec > t->last_received)
			t->last_received = o.received_usec;
		int minute, weekday;
		timeutil_local_clock(o.received_usec, &minute, &weekday);
		t->weekday_office_hours += weekday <= 5 && minute >= 8 * 60 && minute < 18 * 60;
		t->n++;
	}
	ck_assert_uint_eq(t->n, replay_order_count(r));
	ck_assert_uint_eq(strmap_count(numbers), t->n);
	strmap_free(numbers);
}

START_TEST(test_orders_per_source_equal_the_scaled_profile)
{
	static const double scales[] = {1.0, 0.01, 0.002};
	use_zone("Asia/Shanghai");
	for (size_t k = 0; k < sizeof scales / sizeof scales[0]; k++) {
		struct profile *p = load_scaled("data/nanjing-2019.yaml", scales[k]);
		struct replay *r = plan_new(p, 1);
		struct order_tally t;

		order_tally(r, 2019, &t);
		ck_assert_int_eq(t.by_source[REPLAY_ORDER_CITY], p->work_orders_city);
		ck_assert_int_eq(t.by_source[REPLAY_ORDER_PROVINCE], p->work_orders_province);
		ck_assert_int_eq(replay_planned_orders(r, REPLAY_ORDER_CITY), p->work_orders_city);
		ck_assert_int_eq(replay_planned_orders(r, REPLAY_ORDER_PROVINCE),
				 p->work_orders_province);
		ck_assert_uint_eq(replay_order_count(r),
				  (size_t)(p->work_orders_city + p->work_orders_province));
		if (scales[k] == 1.0) {
			ck_assert_int_eq(t.by_source[REPLAY_ORDER_CITY], 11085);
			ck_assert_int_eq(t.by_source[REPLAY_ORDER_PROVINCE], 3631);
		}
		replay_free(r);
		profile_free(p);
	}
}
END_TEST

START_TEST(test_orders_are_mostly_complaints_some_urgent_in_office_hours)
{
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("data/nanjing-2019.yaml", 1.0);
	struct replay *r = plan_new(p, 5);
	struct order_tally t;

	order_tally(r, 2019, &t);
	int64_t n = (int64_t)t.n;
	ck_assert_int_eq(t.by_category[CATEGORY_COMPLAINT] + t.by_category[CATEGORY_CONSULTATION],
			 n);
	/* 80% complaints, 20% consultations, 2% urgent, give or take. */
	ck_assert_int_gt(t.by_category[CATEGORY_COMPLAINT] * 100, n * 76);
	ck_assert_int_lt(t.by_category[CATEGORY_COMPLAINT] * 100, n * 84);
	ck_assert_int_gt(t.urgent * 1000, n * 15);
	ck_assert_int_lt(t.urgent * 1000, n * 25);
	/* Most arrive on weekdays in office hours, and the year is covered. */
	ck_assert_int_gt(t.weekday_office_hours * 2, n);
	char first[TIMEUTIL_RFC3339_LEN], last[TIMEUTIL_RFC3339_LEN];
	timeutil_format_local(t.first_received, first);
	timeutil_format_local(t.last_received, last);
	ck_assert_msg(strncmp(first, "2019-01-0", 9) == 0, "%s", first);
	ck_assert_msg(strncmp(last, "2019-12-3", 9) == 0, "%s", last);
	replay_free(r);
	profile_free(p);
}
END_TEST

/* The local year decides: in New York the orders lie inside New York's year,
 * and a leap year has orders on 29 February. */
START_TEST(test_orders_stay_inside_the_local_year_of_any_zone)
{
	use_zone("America/New_York");
	struct profile *p = load_scaled("data/nanjing-2019.yaml", 0.1);
	struct replay *r = plan_new(p, 2);
	struct order_tally t;
	order_tally(r, 2019, &t);
	ck_assert_uint_gt(t.n, 1000);
	replay_free(r);
	profile_free(p);

	use_zone("Asia/Shanghai");
	p = load_scaled("tests/data/edge-2020.yaml", 1.0);
	p->work_orders_city = 3000; /* enough to reach every day */
	r = plan_new(p, 2);
	order_tally(r, 2020, &t);
	ck_assert_int_eq(t.by_source[REPLAY_ORDER_CITY], 3000);
	ck_assert_int_eq(t.by_source[REPLAY_ORDER_PROVINCE], 2);
	bool leap_day = false;
	struct replay_order o;
	char when[TIMEUTIL_RFC3339_LEN];
	for (size_t i = 0; replay_order_at(r, i, &o); i++) {
		timeutil_format_local(o.received_usec, when);
		leap_day = leap_day || strncmp(when, "2020-02-29", 10) == 0;
	}
	ck_assert(leap_day);
	replay_free(r);
	profile_free(p);
}
END_TEST

/* The body is what doc/workorders.md's intake takes, and nothing else. */
START_TEST(test_order_bodies_follow_the_intake_contract)
{
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("data/nanjing-2019.yaml", 0.01);
	struct replay *r = plan_new(p, 11);
	struct replay_order o;
	char body[REPLAY_ORDER_BODY_MAX];
	static const char *const keys[] = {"external_no", "centre", "received_at", "category",
					   "urgent",      "title",  "content",     "citizen"};

	ck_assert(replay_order_at(r, 0, &o));
	ck_assert_str_eq(replay_order_source_name(REPLAY_ORDER_CITY), "city_12345");
	ck_assert_str_eq(replay_order_source_name(REPLAY_ORDER_PROVINCE), "province_12345");
	for (size_t i = 0; replay_order_at(r, i, &o); i++) {
		int n = replay_format_order(&o, body, sizeof body);
		ck_assert_int_gt(n, 0);
		json_error_t jerr;
		json_t *root = json_loadb(body, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
		ck_assert_msg(root != NULL, "%s: %s", jerr.text, body);
		ck_assert_uint_eq(json_object_size(root), sizeof keys / sizeof keys[0]);
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
			ck_assert_msg(json_object_get(root, keys[k]) != NULL, "no %s in %s",
				      keys[k], body);
		ck_assert_str_eq(json_string_value(json_object_get(root, "external_no")),
				 o.external_no);
		ck_assert_str_eq(json_string_value(json_object_get(root, "centre")), "nanjing");
		int64_t received;
		ck_assert_int_eq(timeutil_parse_rfc3339(
					 json_string_value(json_object_get(root, "received_at")),
					 &received),
				 0);
		ck_assert_int_eq(received, o.received_usec);
		ck_assert_msg(strstr(json_string_value(json_object_get(root, "received_at")),
				     "+08:00") != NULL,
			      "%s", body);
		const char *cat = json_string_value(json_object_get(root, "category"));
		ck_assert_msg(strcmp(cat, "complaint") == 0 || strcmp(cat, "consultation") == 0,
			      "%s", body);
		ck_assert(json_is_boolean(json_object_get(root, "urgent")));
		ck_assert_int_eq(json_is_true(json_object_get(root, "urgent")), o.urgent);
		ck_assert_uint_gt(json_string_length(json_object_get(root, "title")), 0);
		ck_assert_uint_le(json_string_length(json_object_get(root, "content")), 8000);
		ck_assert_uint_gt(json_string_length(json_object_get(root, "content")), 0);
		json_t *citizen = json_object_get(root, "citizen");
		ck_assert_uint_eq(json_object_size(citizen), 2);
		ck_assert_uint_gt(json_string_length(json_object_get(citizen, "name")), 0);
		const char *phone = json_string_value(json_object_get(citizen, "phone"));
		ck_assert_uint_eq(strlen(phone), 11);
		ck_assert_uint_eq(strspn(phone, "0123456789"), 11);
		ck_assert_msg(phone[0] == '1', "%s", phone);
		json_decref(root);
	}
	/* Too small a buffer is refused, not truncated. */
	ck_assert(replay_order_at(r, 0, &o));
	ck_assert_int_eq(replay_format_order(&o, body, 40), -1);
	char id[REPLAY_ID_MAX];
	snprintf(id, sizeof id, "w11-nanjing-2019-%s-%llu",
		 o.source == REPLAY_ORDER_CITY ? "city" : "prov", (unsigned long long)o.index);
	ck_assert_str_eq(o.external_no, id);
	replay_free(r);
	profile_free(p);
}
END_TEST

/* An order is the same whenever it is asked for, with or without the calls
 * before it; the orders draw nothing from the calls' generator. */
START_TEST(test_orders_are_deterministic_and_leave_the_calls_alone)
{
	use_zone("Asia/Shanghai");
	struct profile *p = load_scaled("data/nanjing-2019.yaml", 0.01);
	struct replay *a = plan_new(p, 9), *b = plan_new(p, 9), *other = plan_new(p, 10);
	struct replay_order x, y;
	char bx[REPLAY_ORDER_BODY_MAX], by[REPLAY_ORDER_BODY_MAX];
	struct replay_call call;
	size_t n = replay_order_count(a);
	int differ = 0;

	ck_assert_uint_gt(n, 10);
	/* b asks backwards, after a day of calls. */
	for (int i = 0; i < 100; i++)
		ck_assert(replay_next(b, &call));
	for (size_t i = n; i-- > 0;) {
		ck_assert(replay_order_at(a, i, &x));
		ck_assert(replay_order_at(b, i, &y));
		ck_assert_int_gt(replay_format_order(&x, bx, sizeof bx), 0);
		ck_assert_int_gt(replay_format_order(&y, by, sizeof by), 0);
		ck_assert_str_eq(bx, by);
		ck_assert(replay_order_at(other, i, &y));
		differ += x.received_usec != y.received_usec;
	}
	ck_assert_int_gt(differ, (int)n / 2);
	ck_assert(!replay_order_at(a, n, &x));
	replay_free(a);
	replay_free(b);
	replay_free(other);

	/* The calls are those of a profile without orders. */
	struct tally with, without;
	plan_tally(p, 4, &with);
	p->work_orders_city = p->work_orders_province = 0;
	plan_tally(p, 4, &without);
	ck_assert_uint_eq(with.digest, without.digest);
	ck_assert_int_eq(with.calls, without.calls);
	profile_free(p);
}
END_TEST

START_TEST(test_a_profile_without_orders_plans_none)
{
	use_zone("Asia/Shanghai");
	struct profile *p = profile_from_text("schema: hotline-year-profile/1\n"
					      "profile: empty\n"
					      "year: 2021\n"
					      "centre: {code: quiet, name: Quiet}\n"
					      "calls: {total: 0, by_category: {}}\n"
					      "work_orders: {city_12345: 0, province_12345: 0}\n");
	struct replay *r = plan_new(p, 1);
	struct replay_order o;

	ck_assert_uint_eq(replay_order_count(r), 0);
	ck_assert_int_eq(replay_planned_orders(r, REPLAY_ORDER_CITY), 0);
	ck_assert(!replay_order_at(r, 0, &o));
	replay_free(r);
	profile_free(p);
}
END_TEST

static Suite *replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *counts = tcase_create("counts");
	TCase *time = tcase_create("time");
	TCase *events = tcase_create("events");
	TCase *orders = tcase_create("orders");

	tcase_set_timeout(counts, 60);
	tcase_set_timeout(time, 60);
	tcase_set_timeout(events, 60);
	tcase_set_timeout(orders, 60);
	tcase_add_test(counts, test_nanjing_plan_has_exactly_the_scaled_counts);
	tcase_add_test(counts, test_edge_profile_plan_has_exactly_its_counts);
	tcase_add_test(counts, test_planned_counts_are_reported_before_iteration);
	tcase_add_test(counts, test_abandoned_calls_are_extra_about_two_percent_and_flagged);
	tcase_add_test(time, test_calls_stay_inside_the_local_year_in_shanghai);
	tcase_add_test(time, test_calls_stay_inside_the_local_year_in_new_york);
	tcase_add_test(time, test_the_last_calls_of_the_year_may_end_in_the_next);
	tcase_add_test(time, test_leap_year_uses_all_366_days);
	tcase_add_test(time, test_edge_profile_covers_a_leap_year_and_a_single_call_centre);
	tcase_add_test(time, test_daily_rhythm_peaks_in_office_hours);
	tcase_add_test(time, test_weekends_are_quieter_than_weekdays);
	tcase_add_test(events, test_same_seed_same_plan_other_seed_other_plan);
	tcase_add_test(events, test_events_follow_the_gateway_protocol);
	tcase_add_test(events, test_planned_routes_agree_with_the_shipped_rules);
	tcase_add_test(events, test_events_can_name_the_agents_of_the_pool);
	tcase_add_test(counts, test_a_profile_without_calls_plans_nothing);
	tcase_add_test(counts, test_a_profile_without_province_plans_only_its_centre);
	tcase_add_test(events, test_centre_codes_outside_the_id_alphabet_are_refused);
	tcase_add_test(events, test_ids_longer_than_the_api_allows_are_refused);
	tcase_add_test(orders, test_orders_per_source_equal_the_scaled_profile);
	tcase_add_test(orders, test_orders_are_mostly_complaints_some_urgent_in_office_hours);
	tcase_add_test(orders, test_orders_stay_inside_the_local_year_of_any_zone);
	tcase_add_test(orders, test_order_bodies_follow_the_intake_contract);
	tcase_add_test(orders, test_orders_are_deterministic_and_leave_the_calls_alone);
	tcase_add_test(orders, test_a_profile_without_orders_plans_none);
	suite_add_tcase(s, counts);
	suite_add_tcase(s, time);
	suite_add_tcase(s, events);
	suite_add_tcase(s, orders);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(replay_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
