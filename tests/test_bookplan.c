/* test_bookplan.c: the bookings plan (bookplan.c): for several profiles and
 * scales, every booking of the scaled profile exactly, hospital by channel
 * and platform by platform; phone bookings each in a distinct handled
 * booking call of the own centre, between its answer and the next event and
 * inside the year; the other channels day by day inside their local day,
 * with visits 0 to 7 days later, departments of the hospital and platforms
 * only where a channel takes one; unique numbers; determinism; the hospitals
 * file and its codes; and the names the hospitals tables cannot take. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bookplan.h"
#include "profile.h"
#include "replay.h"
#include "strmap.h"
#include "timeutil.h"
#include "yamldoc.h"

#define USEC INT64_C(1000000)
#define MAX_ROWS 64

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
	ck_assert_msg(profile_validate(p, err, sizeof err) == 0, "%s", err);
	return p;
}

static struct profile *profile_from_text(const char *text)
{
	struct profile *p = NULL;
	char err[512];
	ck_assert_msg(profile_load_buffer("inline", text, strlen(text), &p, err, sizeof err) == 0,
		      "%s", err);
	ck_assert_msg(profile_validate(p, err, sizeof err) == 0, "%s", err);
	return p;
}

/* A profile, its scaled form, the reference data of the original and the
 * plans of the calls and the bookings. */
struct fixture {
	struct profile *original;
	struct profile *scaled;
	struct bookplan_ref *ref;
	struct replay *calls;
	struct bookplan *plan;
};

static void fixture_from(struct fixture *f, struct profile *original, double scale, uint64_t seed)
{
	char err[512];

	memset(f, 0, sizeof *f);
	f->original = original;
	f->scaled = profile_scale(original, scale);
	ck_assert_ptr_nonnull(f->scaled);
	ck_assert_msg(profile_validate(f->scaled, err, sizeof err) == 0, "scaled by %g: %s", scale,
		      err);
	f->ref = bookplan_ref_new(original, err, sizeof err);
	ck_assert_msg(f->ref != NULL, "%s", err);
	f->calls = replay_new(f->scaled, seed, err, sizeof err);
	ck_assert_msg(f->calls != NULL, "%s", err);
	f->plan = bookplan_new(f->ref, f->scaled, seed, err, sizeof err);
	ck_assert_msg(f->plan != NULL, "%s", err);
}

static void fixture_load(struct fixture *f, const char *relative, double scale, uint64_t seed)
{
	fixture_from(f, load_profile(relative), scale, seed);
}

static void fixture_free(struct fixture *f)
{
	bookplan_free(f->plan);
	replay_free(f->calls);
	bookplan_ref_free(f->ref);
	profile_free(f->scaled);
	profile_free(f->original);
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

/* What a whole plan yields. */
struct tally {
	int64_t by_hospital[MAX_ROWS][PROFILE_CHANNEL_COUNT];
	int64_t by_platform[MAX_ROWS];
	int64_t phone;
	int64_t others;
	int64_t booking_calls; /* handled booking calls of the own centre */
	int64_t by_weekday[8];
	int64_t office_hours; /* booked 08:00 to 17:59 local */
	uint64_t digest;      /* FNV-1a over every JSON body and CSV line, in order */
	size_t largest_day;
};

static void check_booking_fields(const struct fixture *f, const struct bookplan_booking *b,
				 const char *text)
{
	const struct bookplan_ref *ref = f->ref;
	int64_t booked_day = timeutil_local_day(b->booked_usec);

	ck_assert_msg(b->hospital < bookplan_ref_hospital_count(ref), "%s", text);
	ck_assert_msg(b->department < bookplan_department_count(), "%s", text);
	ck_assert_msg(b->visit_day >= booked_day &&
			      b->visit_day <= booked_day + BOOKPLAN_VISIT_DAYS_MAX,
		      "visit %lld, booked on %lld: %s", (long long)b->visit_day,
		      (long long)booked_day, text);
	if (b->platform >= 0) {
		ck_assert_msg(b->channel == PROFILE_CHANNEL_ONLINE_12320 ||
				      b->channel == PROFILE_CHANNEL_THIRD_PARTY,
			      "a platform on a %s booking: %s", profile_channel_name(b->channel),
			      text);
		ck_assert_uint_lt((size_t)b->platform, bookplan_ref_platform_count(ref));
	}
	/* A booking number of the API's alphabet, at most 64 characters. */
	size_t n = strlen(b->booking_no);
	ck_assert_msg(n >= 1 && n <= 64, "%s", b->booking_no);
	ck_assert_msg(strspn(b->booking_no, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					    "0123456789._:-") == n,
		      "%s", b->booking_no);
}

/* Runs the call plan through the phone iterator and the year through the
 * days iterator, checking each booking on the way, and counts. */
static void plan_tally(const struct fixture *f, uint64_t seed, struct tally *t)
{
	struct bookplan_phone *phone;
	struct bookplan_days *days;
	struct replay *calls;
	struct replay_call call;
	struct bookplan_booking b;
	struct strmap *numbers = strmap_new();
	char err[512], json[BOOKPLAN_JSON_MAX], csv[BOOKPLAN_CSV_MAX];
	const int64_t year_end = timeutil_local_midnight(f->scaled->year + 1, 1, 1);

	memset(t, 0, sizeof *t);
	t->digest = UINT64_C(0xcbf29ce484222325);
	ck_assert_uint_le(bookplan_ref_hospital_count(f->ref), MAX_ROWS);
	ck_assert_uint_le(bookplan_ref_platform_count(f->ref), MAX_ROWS);
	calls = replay_new(f->scaled, seed, err, sizeof err);
	ck_assert_msg(calls != NULL, "%s", err);
	phone = bookplan_phone_new(f->plan, calls, err, sizeof err);
	ck_assert_msg(phone != NULL, "%s", err);

	while (replay_next(calls, &call)) {
		bool booking_call = call.centre_index == 0 && call.category == CATEGORY_BOOKING &&
				    call.outcome == REPLAY_OUTCOME_HANDLED;
		t->booking_calls += booking_call;
		if (!bookplan_phone_next(phone, &call, &b))
			continue;
		int n = bookplan_format_json(f->plan, &b, NULL, NULL, json, sizeof json);
		ck_assert_int_gt(n, 0);
		t->digest = fnv1a(t->digest, json, (size_t)n);
		ck_assert_msg(booking_call, "a phone booking in call %s (%s, centre %zu)",
			      call.call_id, category_name(call.category), call.centre_index);
		ck_assert_int_eq(b.channel, PROFILE_CHANNEL_PHONE);
		ck_assert_str_eq(b.call_id, call.call_id);
		ck_assert_int_eq(b.platform, -1);
		/* Between the answer and the next event, inside the year. */
		size_t answered = 0;
		while (call.events[answered].type != REPLAY_EVENT_ANSWERED)
			answered++;
		ck_assert_uint_lt(answered + 1, call.n_events);
		ck_assert_msg(b.booked_usec >= call.events[answered].usec &&
				      b.booked_usec <= call.events[answered + 1].usec,
			      "booking %s at %lld outside its call %s (%lld..%lld)", b.booking_no,
			      (long long)b.booked_usec, call.call_id,
			      (long long)call.events[answered].usec,
			      (long long)call.events[answered + 1].usec);
		ck_assert_int_lt(b.booked_usec, year_end);
		ck_assert_int_eq(b.booked_usec % USEC, 0);
		check_booking_fields(f, &b, json);
		/* One booking per call, one call per booking number. */
		ck_assert_msg(strmap_put(numbers, b.booking_no, strlen(b.booking_no), numbers) ==
					      0 &&
				      strmap_count(numbers) == (size_t)t->phone + 1,
			      "booking number %s twice", b.booking_no);
		t->by_hospital[b.hospital][b.channel]++;
		t->phone++;
	}
	ck_assert_int_eq(bookplan_phone_issued(phone), t->phone);
	bookplan_phone_free(phone);
	replay_free(calls);

	days = bookplan_days_new(f->plan);
	ck_assert_ptr_nonnull(days);
	const struct bookplan_booking *list;
	size_t n_list;
	int day, expected_day = 0;
	while (bookplan_days_next(days, &day, &list, &n_list)) {
		ck_assert_int_eq(day, expected_day++);
		const int64_t midnight = timeutil_local_midnight(f->scaled->year, 1, 1 + day);
		const int64_t next = timeutil_local_midnight(f->scaled->year, 1, 2 + day);
		if (n_list > t->largest_day)
			t->largest_day = n_list;
		ck_assert_uint_le(n_list, bookplan_day_capacity(f->plan));
		for (size_t i = 0; i < n_list; i++) {
			const struct bookplan_booking *x = &list[i];
			int n = bookplan_format_csv(f->plan, x, csv, sizeof csv);
			ck_assert_int_gt(n, 0);
			t->digest = fnv1a(t->digest, csv, (size_t)n);
			ck_assert_msg(x->channel != PROFILE_CHANNEL_PHONE, "%s", csv);
			ck_assert_str_eq(x->call_id, "");
			ck_assert_msg(x->booked_usec >= midnight && x->booked_usec < next,
				      "day %d: %s", day, csv);
			/* By channel, then time; numbered from 1 per channel. */
			if (i > 0) {
				const struct bookplan_booking *prev = &list[i - 1];
				ck_assert_msg(prev->channel < x->channel ||
						      (prev->channel == x->channel &&
						       prev->booked_usec <= x->booked_usec),
					      "out of order: %s", csv);
			}
			check_booking_fields(f, x, csv);
			int minute, weekday;
			timeutil_local_clock(x->booked_usec, &minute, &weekday);
			if (x->channel == PROFILE_CHANNEL_CLINIC)
				ck_assert_msg(minute >= 8 * 60 && minute < 18 * 60,
					      "a clinic booking out of consulting hours: %s", csv);
			t->by_weekday[weekday]++;
			t->office_hours += minute >= 8 * 60 && minute < 18 * 60;
			ck_assert_msg(strmap_put(numbers, x->booking_no, strlen(x->booking_no),
						 numbers) == 0,
				      "out of memory");
			t->by_hospital[x->hospital][x->channel]++;
			if (x->platform >= 0)
				t->by_platform[x->platform]++;
			t->others++;
		}
	}
	ck_assert_int_eq(expected_day, timeutil_days_in_year(f->scaled->year));
	/* Every number once in the whole year (phone and batches never share
	 * one: their first letters differ). */
	ck_assert_uint_eq(strmap_count(numbers), (size_t)(t->phone + t->others));
	bookplan_days_free(days);
	strmap_free(numbers);
}

/* The tally equals the scaled profile, row by row, matched by name. */
static void assert_exact(const struct fixture *f, const struct tally *t)
{
	const struct profile *s = f->scaled;
	const struct bookplan_ref *ref = f->ref;
	int64_t want_total = 0;

	for (size_t i = 0; s->has_bookings && i < s->n_hospitals; i++) {
		const struct profile_hospital *h = &s->hospitals[i];
		size_t k = 0;
		while (k < bookplan_ref_hospital_count(ref) &&
		       strcmp(bookplan_ref_hospital_name(ref, k), h->hospital) != 0)
			k++;
		ck_assert_uint_lt(k, bookplan_ref_hospital_count(ref));
		for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++) {
			ck_assert_msg(t->by_hospital[k][c] == h->by_channel[c],
				      "%s %s (%s): planned %lld, the profile says %lld", s->profile,
				      h->hospital, profile_channel_name((enum profile_channel)c),
				      (long long)t->by_hospital[k][c], (long long)h->by_channel[c]);
			ck_assert_int_eq(bookplan_planned(f->plan, (enum profile_channel)c),
					 s->bookings_total[c]);
		}
		want_total += h->all;
	}
	ck_assert_int_eq(t->phone + t->others, want_total);
	ck_assert_int_eq(bookplan_planned_total(f->plan), want_total);
	int64_t platforms = 0;
	for (size_t i = 0; s->has_platforms && i < s->n_platforms; i++) {
		const struct profile_platform *pl = &s->platforms[i];
		size_t k = 0;
		while (k < bookplan_ref_platform_count(ref) &&
		       strcmp(bookplan_ref_platform_name(ref, k), pl->platform) != 0)
			k++;
		ck_assert_uint_lt(k, bookplan_ref_platform_count(ref));
		ck_assert_msg(t->by_platform[k] == pl->bookings,
			      "%s platform %s: planned %lld, the profile says %lld", s->profile,
			      pl->platform, (long long)t->by_platform[k], (long long)pl->bookings);
		platforms += pl->bookings;
	}
	ck_assert_int_eq(bookplan_planned_platforms(f->plan), platforms);
	/* Phone bookings need booking calls, and got distinct ones. */
	ck_assert_int_le(t->phone, t->booking_calls);
	ck_assert_int_eq(t->booking_calls, s->calls_by_category[CATEGORY_BOOKING]);
}

static void assert_plan_is_exact(const char *relative, double scale, uint64_t seed)
{
	struct fixture f;
	struct tally t;

	fixture_load(&f, relative, scale, seed);
	plan_tally(&f, seed, &t);
	assert_exact(&f, &t);
	fixture_free(&f);
}

/* --- exact counts -------------------------------------------------------------------------- */

START_TEST (test_nanjing_bookings_are_exact_at_small_scales) {
	use_zone("Asia/Shanghai");
	assert_plan_is_exact("data/nanjing-2019.yaml", 0.01, 1);
	assert_plan_is_exact("data/nanjing-2019.yaml", 0.0037, 99);
}
END_TEST

START_TEST (test_edge_profile_bookings_are_exact_at_full_and_half_scale) {
	use_zone("Asia/Shanghai");
	assert_plan_is_exact("tests/data/edge-2020.yaml", 1.0, 20);
	assert_plan_is_exact("tests/data/edge-2020.yaml", 0.5, 3);
	assert_plan_is_exact("tests/data/edge-2020.yaml", 0.07, 3);
}
END_TEST

START_TEST (test_harbour_profile_bookings_are_exact_at_many_scales) {
	static const double scales[] = {1.0, 0.5, 0.37, 0.3, 0.1, 0.05, 0.01};
	use_zone("Europe/Berlin");
	for (size_t i = 0; i < sizeof scales / sizeof scales[0]; i++)
		assert_plan_is_exact("tests/data/harbour-2021.yaml", scales[i], 7 + i);
}
END_TEST

/* The bound reached: every online and third-party booking names a platform. */
START_TEST (test_platforms_may_name_every_online_and_third_party_booking) {
	struct fixture f;
	struct tally t;

	use_zone("Asia/Shanghai");
	fixture_load(&f, "tests/data/harbour-2021.yaml", 1.0, 5);
	plan_tally(&f, 5, &t);
	assert_exact(&f, &t);
	ck_assert_int_eq(bookplan_planned_platforms(f.plan),
			 bookplan_planned(f.plan, PROFILE_CHANNEL_ONLINE_12320) +
				 bookplan_planned(f.plan, PROFILE_CHANNEL_THIRD_PARTY));
	/* The platform without bookings got none, the hospitals without
	 * bookings none either; the clinic-only one only clinic ones. */
	ck_assert_int_eq(t.by_platform[3], 0);
	for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++) {
		ck_assert_int_eq(t.by_hospital[6][c], 0);
		ck_assert_int_eq(t.by_hospital[7][c], 0);
		if (c != PROFILE_CHANNEL_CLINIC)
			ck_assert_int_eq(t.by_hospital[3][c], 0);
	}
	ck_assert_int_eq(t.by_hospital[3][PROFILE_CHANNEL_CLINIC], 25);
	fixture_free(&f);
}
END_TEST

/* Nanjing's whole year of batches (2.6 M bookings) at scale 1, without the
 * calls: exact per hospital and channel, one day in memory at a time. */
START_TEST (test_nanjing_batches_at_full_scale_are_exact_one_day_at_a_time) {
	struct fixture f;
	static int64_t got[MAX_ROWS][PROFILE_CHANNEL_COUNT];
	static int64_t platforms[MAX_ROWS];
	const struct bookplan_booking *list;
	size_t n;
	int day;
	int64_t largest = 0, total = 0;

	use_zone("Asia/Shanghai");
	fixture_load(&f, "data/nanjing-2019.yaml", 1.0, 1);
	memset(got, 0, sizeof got);
	memset(platforms, 0, sizeof platforms);
	struct bookplan_days *days = bookplan_days_new(f.plan);
	ck_assert_ptr_nonnull(days);
	while (bookplan_days_next(days, &day, &list, &n)) {
		for (size_t i = 0; i < n; i++) {
			got[list[i].hospital][list[i].channel]++;
			if (list[i].platform >= 0)
				platforms[list[i].platform]++;
		}
		if ((int64_t)n > largest)
			largest = (int64_t)n;
		total += (int64_t)n;
	}
	bookplan_days_free(days);
	for (size_t k = 0; k < f.original->n_hospitals; k++)
		for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++)
			if (c != PROFILE_CHANNEL_PHONE)
				ck_assert_int_eq(got[k][c], f.original->hospitals[k].by_channel[c]);
	for (size_t k = 0; k < f.original->n_platforms; k++)
		ck_assert_int_eq(platforms[k], f.original->platforms[k].bookings);
	ck_assert_int_eq(total, 1007769 + 745010 + 857946);
	/* A day's buffer is a little more than an average day: 2.6 M / 365 is
	 * about 7,100. */
	ck_assert_int_eq(largest, (int64_t)bookplan_day_capacity(f.plan));
	ck_assert_int_lt(largest, 12000);
	fixture_free(&f);
}
END_TEST

START_TEST (test_a_profile_without_bookings_plans_none) {
	use_zone("Asia/Shanghai");
	struct profile *p =
		profile_from_text("schema: hotline-year-profile/1\nprofile: quiet\nyear: 2022\n"
				  "centre: {code: quiet, name: Quiet}\n"
				  "calls: {total: 5, by_category: {booking: 5}}\n"
				  "work_orders: {city_12345: 0, province_12345: 0}\n");
	struct fixture f;
	struct tally t;

	fixture_from(&f, p, 1.0, 1);
	ck_assert_uint_eq(bookplan_ref_hospital_count(f.ref), 0);
	ck_assert_uint_eq(bookplan_ref_platform_count(f.ref), 0);
	plan_tally(&f, 1, &t);
	ck_assert_int_eq(t.phone + t.others, 0);
	ck_assert_int_eq(bookplan_planned_total(f.plan), 0);
	ck_assert_uint_eq(bookplan_day_capacity(f.plan), 0);
	fixture_free(&f);
}
END_TEST

/* Bookings without a platforms section, and phone bookings in every
 * booking call there is. */
START_TEST (test_phone_bookings_may_fill_every_booking_call) {
	use_zone("America/New_York");
	struct profile *p = profile_from_text(
		"schema: hotline-year-profile/1\nprofile: full\nyear: 2024\n"
		"centre: {code: full, name: Full}\n"
		"calls: {total: 40, by_category: {booking: 30, consultation: 10}}\n"
		"work_orders: {city_12345: 0, province_12345: 0}\n"
		"bookings:\n"
		"  total: {online_12320: 2, phone: 30, clinic: 1, third_party: 0, all: 33}\n"
		"  by_hospital:\n"
		"    - {rank: 1, hospital: \"North\", online_12320: 0, phone: 21, clinic: 0, all: 21}\n"
		"    - {rank: 2, hospital: \"South\", online_12320: 2, phone: 9, clinic: 1, all: 12}\n");
	struct fixture f;
	struct tally t;

	fixture_from(&f, p, 1.0, 11);
	plan_tally(&f, 11, &t);
	assert_exact(&f, &t);
	ck_assert_int_eq(t.phone, 30);
	ck_assert_int_eq(t.booking_calls, 30);
	fixture_free(&f);
}
END_TEST

/* --- when and how ------------------------------------------------------------------------- */

START_TEST (test_bookings_follow_the_weekly_and_daily_rhythm) {
	struct fixture f;
	struct tally t;

	use_zone("Asia/Shanghai");
	fixture_load(&f, "data/nanjing-2019.yaml", 0.01, 1);
	plan_tally(&f, 1, &t);
	/* Mondays busier than Sundays; most bookings in office hours. */
	ck_assert_int_gt(t.by_weekday[1], t.by_weekday[7] * 3 / 2);
	ck_assert_int_gt(t.office_hours, t.others * 7 / 10);
	fixture_free(&f);
}
END_TEST

START_TEST (test_same_seed_same_bookings_other_seed_other_bookings) {
	struct fixture f;
	struct tally a, b, c;

	use_zone("Asia/Shanghai");
	fixture_load(&f, "tests/data/edge-2020.yaml", 1.0, 4);
	plan_tally(&f, 4, &a);
	plan_tally(&f, 4, &b);
	ck_assert_uint_eq(a.digest, b.digest);
	bookplan_free(f.plan);
	char err[256];
	f.plan = bookplan_new(f.ref, f.scaled, 5, err, sizeof err);
	ck_assert_ptr_nonnull(f.plan);
	plan_tally(&f, 5, &c);
	ck_assert_uint_ne(a.digest, c.digest);
	assert_exact(&f, &c);
	fixture_free(&f);
}
END_TEST

/* The last booking calls of the year may end in the next one; their
 * bookings stay in the year they were made in. */
START_TEST (test_a_booking_in_the_last_call_of_the_year_stays_in_the_year) {
	use_zone("Asia/Shanghai");
	struct profile *p =
		profile_from_text("schema: hotline-year-profile/1\nprofile: last\nyear: 2023\n"
				  "centre: {code: last, name: Last}\n"
				  "calls: {total: 2, by_category: {booking: 2}}\n"
				  "work_orders: {city_12345: 0, province_12345: 0}\n"
				  "bookings:\n"
				  "  total: {phone: 2, all: 2}\n"
				  "  by_hospital:\n"
				  "    - {rank: 1, hospital: Only, phone: 2, all: 2}\n");
	const int64_t year_end = timeutil_local_midnight(2024, 1, 1);
	struct replay_call call;
	struct bookplan_booking b;
	struct fixture f;
	char err[256];
	int found = 0;

	/* Over many seeds, the year's last call (23:59:00, 31 December) often
	 * ends after midnight: its booking must not. */
	for (uint64_t seed = 1; seed <= 40; seed++) {
		fixture_from(&f,
			     seed == 1 ? p :
					 profile_from_text("schema: hotline-year-profile/1\n"
							   "profile: last\nyear: 2023\n"
							   "centre: {code: last, name: Last}\n"
							   "calls: {total: 2, by_category: "
							   "{booking: 2}}\n"
							   "work_orders: {city_12345: 0, "
							   "province_12345: 0}\n"
							   "bookings:\n"
							   "  total: {phone: 2, all: 2}\n"
							   "  by_hospital:\n"
							   "    - {rank: 1, hospital: Only, "
							   "phone: 2, all: 2}\n"),
			     1.0, seed);
		struct bookplan_phone *it = bookplan_phone_new(f.plan, f.calls, err, sizeof err);
		ck_assert_ptr_nonnull(it);
		while (replay_next(f.calls, &call)) {
			if (!bookplan_phone_next(it, &call, &b))
				continue;
			ck_assert_int_lt(b.booked_usec, year_end);
			if (call.events[call.n_events - 1].usec >= year_end)
				found++;
		}
		ck_assert_int_eq(bookplan_phone_issued(it), 2);
		bookplan_phone_free(it);
		fixture_free(&f);
	}
	ck_assert_int_gt(found, 0);
}
END_TEST

START_TEST (test_bodies_follow_the_booking_contract) {
	struct fixture f;
	struct replay_call call;
	struct bookplan_booking b;
	char err[256], json[BOOKPLAN_JSON_MAX], csv[BOOKPLAN_CSV_MAX];
	int phone = 0, batches = 0;

	use_zone("Asia/Shanghai");
	fixture_load(&f, "tests/data/harbour-2021.yaml", 1.0, 2);
	struct bookplan_phone *it = bookplan_phone_new(f.plan, f.calls, err, sizeof err);
	ck_assert_ptr_nonnull(it);
	while (replay_next(f.calls, &call)) {
		if (!bookplan_phone_next(it, &call, &b))
			continue;
		/* As an agent sends it, and as the gateway does. */
		for (int as_gateway = 0; as_gateway < 2; as_gateway++) {
			int n = bookplan_format_json(f.plan, &b, as_gateway ? "harbour" : NULL,
						     as_gateway ? "sim-007" : NULL, json,
						     sizeof json);
			ck_assert_int_gt(n, 0);
			ck_assert_uint_eq(strlen(json), (size_t)n);
			json_error_t jerr;
			json_t *o = json_loads(json, 0, &jerr);
			ck_assert_msg(o != NULL, "%s: %s", json, jerr.text);
			ck_assert_str_eq(json_string_value(json_object_get(o, "booking_no")),
					 b.booking_no);
			ck_assert_str_eq(json_string_value(json_object_get(o, "channel")), "phone");
			ck_assert_str_eq(json_string_value(json_object_get(o, "call_id")),
					 call.call_id);
			const char *hospital = json_string_value(json_object_get(o, "hospital"));
			ck_assert_str_eq(hospital, bookplan_ref_hospital_code(f.ref, b.hospital));
			ck_assert_ptr_null(json_object_get(o, "platform"));
			int64_t at;
			ck_assert_int_eq(timeutil_parse_rfc3339(
						 json_string_value(json_object_get(o, "booked_at")),
						 &at),
					 0);
			ck_assert_int_eq(at, b.booked_usec);
			ck_assert_ptr_nonnull(strstr(
				json_string_value(json_object_get(o, "booked_at")), "+08:00"));
			const char *visit = json_string_value(json_object_get(o, "visit_date"));
			ck_assert_uint_eq(strlen(visit), 10);
			if (as_gateway) {
				ck_assert_str_eq(json_string_value(json_object_get(o, "centre")),
						 "harbour");
				ck_assert_str_eq(json_string_value(json_object_get(o, "agent")),
						 "sim-007");
			} else {
				ck_assert_ptr_null(json_object_get(o, "centre"));
				ck_assert_ptr_null(json_object_get(o, "agent"));
			}
			json_decref(o);
		}
		ck_assert_int_lt(bookplan_format_json(f.plan, &b, NULL, NULL, json, 40), 0);
		phone++;
	}
	bookplan_phone_free(it);
	ck_assert_int_eq(phone, 156);

	struct bookplan_days *days = bookplan_days_new(f.plan);
	const struct bookplan_booking *list;
	size_t n;
	int day;
	while (bookplan_days_next(days, &day, &list, &n)) {
		for (size_t i = 0; i < n; i++) {
			int len = bookplan_format_csv(f.plan, &list[i], csv, sizeof csv);
			ck_assert_int_gt(len, 0);
			ck_assert_int_eq(csv[len - 1], '\n');
			/* Eight columns, no quoting needed. */
			int commas = 0;
			for (int k = 0; k < len; k++)
				commas += csv[k] == ',';
			ck_assert_int_eq(commas, 7);
			ck_assert_ptr_null(strchr(csv, '"'));
			char no[80], hospital[40], department[40], visit[20], channel[20],
				platform[20];
			ck_assert_int_eq(sscanf(csv, "%79[^,],%39[^,],%39[^,],%19[^,],%19[^,],", no,
						hospital, department, visit, channel),
					 5);
			ck_assert_str_eq(no, list[i].booking_no);
			ck_assert_str_eq(channel, profile_channel_name(list[i].channel));
			const char *after = csv;
			for (int k = 0; k < 5; k++)
				after = strchr(after, ',') + 1;
			size_t plen = strcspn(after, ",");
			snprintf(platform, sizeof platform, "%.*s", (int)plen, after);
			if (list[i].platform >= 0)
				ck_assert_str_eq(platform,
						 bookplan_ref_platform_code(
							 f.ref, (size_t)list[i].platform));
			else
				ck_assert_str_eq(platform, "");
			ck_assert_ptr_nonnull(strstr(csv, ",,"));
			batches++;
		}
	}
	bookplan_days_free(days);
	ck_assert_int_eq(batches, 317 - 156);
	ck_assert_str_eq(BOOKPLAN_CSV_HEADER,
			 "booking_no,hospital,department,visit_date,channel,platform,call_id,"
			 "booked_at\n");
	ck_assert_str_eq(bookplan_batch_source(PROFILE_CHANNEL_ONLINE_12320), "online_12320");
	ck_assert_str_eq(bookplan_batch_source(PROFILE_CHANNEL_CLINIC), "clinic");
	ck_assert_str_eq(bookplan_batch_source(PROFILE_CHANNEL_THIRD_PARTY), "third_party");
	ck_assert_ptr_null(bookplan_batch_source(PROFILE_CHANNEL_PHONE));
	fixture_free(&f);
}
END_TEST

/* --- the hospitals file -------------------------------------------------------------------- */

static const yaml_node_t *map_get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
	ck_assert_int_eq(map->type, YAML_MAPPING_NODE);
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k = yaml_document_get_node(doc, pair->key);
		if (strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, pair->value);
	}
	return NULL;
}

static const char *scalar(const yaml_node_t *node)
{
	ck_assert_ptr_nonnull(node);
	ck_assert_int_eq(node->type, YAML_SCALAR_NODE);
	return (const char *)node->data.scalar.value;
}

static size_t list_length(const yaml_node_t *node)
{
	ck_assert_ptr_nonnull(node);
	ck_assert_int_eq(node->type, YAML_SEQUENCE_NODE);
	return (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
}

static const yaml_node_t *list_item(yaml_document_t *doc, const yaml_node_t *node, size_t i)
{
	return yaml_document_get_node(doc, node->data.sequence.items.start[i]);
}

/* Writes the file of a profile and reads it back with libyaml: the centre,
 * codes h001.. and p001.. in the profile's order, every name byte for byte,
 * the same departments for every hospital. */
static void assert_hospitals_file_round_trips(const char *relative)
{
	struct profile *p = load_profile(relative);
	struct bookplan_ref *ref;
	char err[512], *text = NULL;
	size_t len = 0;
	yaml_document_t doc;

	ref = bookplan_ref_new(p, err, sizeof err);
	ck_assert_msg(ref != NULL, "%s", err);
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(bookplan_ref_write_yaml(ref, p->profile, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_msg(yamldoc_load(relative, text, len, "hospitals", &doc, err, sizeof err) == 0,
		      "%s\n%s", err, text);
	const yaml_node_t *root = yaml_document_get_root_node(&doc);
	ck_assert_str_eq(scalar(map_get(&doc, root, "centre")), p->centre_code);
	const yaml_node_t *hospitals = map_get(&doc, root, "hospitals");
	ck_assert_uint_eq(list_length(hospitals), p->has_bookings ? p->n_hospitals : 0);
	for (size_t i = 0; i < list_length(hospitals); i++) {
		const yaml_node_t *h = list_item(&doc, hospitals, i);
		char code[24];
		snprintf(code, sizeof code, "h%03zu", i + 1);
		ck_assert_str_eq(scalar(map_get(&doc, h, "code")), code);
		ck_assert_str_eq(scalar(map_get(&doc, h, "name")), p->hospitals[i].hospital);
		ck_assert_str_eq(bookplan_ref_hospital_code(ref, i), code);
		const yaml_node_t *departments = map_get(&doc, h, "departments");
		ck_assert_uint_eq(list_length(departments), bookplan_department_count());
		for (size_t d = 0; d < bookplan_department_count(); d++) {
			const yaml_node_t *dep = list_item(&doc, departments, d);
			ck_assert_str_eq(scalar(map_get(&doc, dep, "code")),
					 bookplan_department_at(d)->code);
			ck_assert_str_eq(scalar(map_get(&doc, dep, "name")),
					 bookplan_department_at(d)->name);
		}
	}
	const yaml_node_t *platforms = map_get(&doc, root, "platforms");
	ck_assert_uint_eq(list_length(platforms), p->has_platforms ? p->n_platforms : 0);
	for (size_t i = 0; i < list_length(platforms); i++) {
		const yaml_node_t *pl = list_item(&doc, platforms, i);
		char code[24];
		snprintf(code, sizeof code, "p%03zu", i + 1);
		ck_assert_str_eq(scalar(map_get(&doc, pl, "code")), code);
		ck_assert_str_eq(scalar(map_get(&doc, pl, "name")), p->platforms[i].platform);
	}
	yaml_document_delete(&doc);
	free(text);
	bookplan_ref_free(ref);
	profile_free(p);
}

START_TEST (test_hospitals_file_round_trips_every_name) {
	assert_hospitals_file_round_trips("data/nanjing-2019.yaml");
	assert_hospitals_file_round_trips("tests/data/edge-2020.yaml");
	assert_hospitals_file_round_trips("tests/data/harbour-2021.yaml");
}
END_TEST

START_TEST (test_departments_are_the_common_ones) {
	static const char *const codes[] = {"internal",   "surgery",       "paediatrics",
					    "obstetrics", "ophthalmology", "stomatology",
					    "tcm",        "psychiatry"};
	ck_assert_uint_eq(bookplan_department_count(), 8);
	for (size_t i = 0; i < 8; i++) {
		ck_assert_str_eq(bookplan_department_at(i)->code, codes[i]);
		ck_assert_uint_eq(strspn(codes[i], "abcdefghijklmnopqrstuvwxyz0123456789_-"),
				  strlen(codes[i]));
	}
	ck_assert_str_eq(bookplan_department_at(0)->name, "内科");
	ck_assert_str_eq(bookplan_department_at(2)->name, "儿科");
	ck_assert_ptr_null(bookplan_department_at(8));
}
END_TEST

/* Codes are the profile's ranks, not the scaled ones: a replay at any scale
 * books under the codes `hotline-sim hospitals` wrote. */
START_TEST (test_codes_do_not_move_when_scaling_reranks_the_rows) {
	struct fixture f;
	struct tally t;

	use_zone("Asia/Shanghai");
	/* B overtakes A at scale 0.5 (test_profile's small case). */
	struct profile *p = profile_from_text(
		"schema: hotline-year-profile/1\nprofile: swap\nyear: 2023\n"
		"centre: {code: swap, name: Swap}\n"
		"calls: {total: 10, by_category: {booking: 10}}\n"
		"work_orders: {city_12345: 0, province_12345: 0}\n"
		"bookings:\n"
		"  total: {online_12320: 6, phone: 1, clinic: 1, third_party: 1, all: 9}\n"
		"  by_hospital:\n"
		"    - {rank: 1, hospital: A, online_12320: 5, all: 5}\n"
		"    - {rank: 2, hospital: B, online_12320: 1, phone: 1, clinic: 1, "
		"third_party: 1, all: 4}\n");
	fixture_from(&f, p, 0.5, 1);
	ck_assert_str_eq(f.scaled->hospitals[0].hospital, "B");
	ck_assert_str_eq(bookplan_ref_hospital_name(f.ref, 0), "A");
	ck_assert_str_eq(bookplan_ref_hospital_code(f.ref, 0), "h001");
	ck_assert_str_eq(bookplan_ref_hospital_code(f.ref, 1), "h002");
	plan_tally(&f, 1, &t);
	assert_exact(&f, &t);
	ck_assert_int_eq(t.by_hospital[0][PROFILE_CHANNEL_ONLINE_12320], 3);
	ck_assert_int_eq(t.by_hospital[1][PROFILE_CHANNEL_PHONE], 1);
	fixture_free(&f);
}
END_TEST

/* Exports break ties in the ranking by code: codes sort as their numbers,
 * also past 999 rows (h0001 .. h1001), and a thousand hospitals plan
 * exactly. */
START_TEST (test_codes_sort_as_their_numbers_past_999_rows) {
	enum { N = 1001 };
	char *text = NULL, err[512];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	use_zone("Asia/Shanghai");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"schema: hotline-year-profile/1\nprofile: many\nyear: 2022\n"
		"centre: {code: many, name: Many}\n"
		"calls: {total: 0, by_category: {}}\n"
		"bookings:\n  total: {clinic: %d, all: %d}\n  by_hospital:\n",
		N, N);
	for (int i = 0; i < N; i++)
		fprintf(f, "    - {rank: %d, hospital: \"医院 %d\", clinic: 1, all: 1}\n", i + 1,
			i);
	ck_assert_int_eq(fclose(f), 0);
	struct profile *p = profile_from_text(text);
	free(text);
	struct fixture fx;
	fixture_from(&fx, p, 1.0, 3);
	ck_assert_str_eq(bookplan_ref_hospital_code(fx.ref, 0), "h0001");
	ck_assert_str_eq(bookplan_ref_hospital_code(fx.ref, N - 1), "h1001");
	for (size_t i = 1; i < N; i++)
		ck_assert_int_lt(strcmp(bookplan_ref_hospital_code(fx.ref, i - 1),
					bookplan_ref_hospital_code(fx.ref, i)),
				 0);
	static int64_t got[N];
	memset(got, 0, sizeof got);
	struct bookplan_days *days = bookplan_days_new(fx.plan);
	const struct bookplan_booking *list;
	size_t n;
	int day;
	while (bookplan_days_next(days, &day, &list, &n))
		for (size_t i = 0; i < n; i++)
			got[list[i].hospital]++;
	bookplan_days_free(days);
	for (size_t i = 0; i < N; i++)
		ck_assert_int_eq(got[i], 1);
	/* Three rows keep three digits. */
	struct profile *small = load_profile("tests/data/edge-2020.yaml");
	struct bookplan_ref *ref = bookplan_ref_new(small, err, sizeof err);
	ck_assert_ptr_nonnull(ref);
	ck_assert_str_eq(bookplan_ref_hospital_code(ref, 2), "h003");
	ck_assert_str_eq(bookplan_ref_platform_code(ref, 0), "p001");
	bookplan_ref_free(ref);
	profile_free(small);
	fixture_free(&fx);
}
END_TEST

/* --- refusals -------------------------------------------------------------------------------- */

START_TEST (test_names_the_hospitals_tables_cannot_take_are_refused) {
	struct profile *p = load_profile("tests/data/edge-2020.yaml");
	char err[512], long_name[400];

	struct {
		const char *name;
		const char *says;
	} cases[] = {
		{"Tab\there", "control character U+0009"},
		{"New\nline", "control character U+000A"},
		{"C1 \xc2\x85 next line", "control character U+0085"},
		{"bad \xff byte", "not UTF-8"},
		{"overlong \xc0\xaf", "not UTF-8"},
		{"surrogate \xed\xa0\x80", "not UTF-8"},
		{long_name, "101 characters"},
	};
	/* 101 characters, 303 bytes. */
	long_name[0] = '\0';
	for (int i = 0; i < 101; i++)
		strcat(long_name, "院");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *saved = p->hospitals[1].hospital;
		p->hospitals[1].hospital = (char *)cases[i].name;
		ck_assert_ptr_null(bookplan_ref_new(p, err, sizeof err));
		ck_assert_msg(strstr(err, "bookings.by_hospital[1].hospital") != NULL, "%s", err);
		ck_assert_msg(strstr(err, cases[i].says) != NULL, "%s: %s", cases[i].says, err);
		p->hospitals[1].hospital = saved;

		saved = p->platforms[2].platform;
		p->platforms[2].platform = (char *)cases[i].name;
		ck_assert_ptr_null(bookplan_ref_new(p, err, sizeof err));
		ck_assert_msg(strstr(err, "booking_platforms.by_platform[2].platform") != NULL,
			      "%s", err);
		p->platforms[2].platform = saved;
	}
	/* 100 characters are fine. */
	long_name[strlen(long_name) - strlen("院")] = '\0';
	char *saved = p->hospitals[1].hospital;
	p->hospitals[1].hospital = long_name;
	struct bookplan_ref *ref = bookplan_ref_new(p, err, sizeof err);
	ck_assert_msg(ref != NULL, "%s", err);
	bookplan_ref_free(ref);
	p->hospitals[1].hospital = saved;
	profile_free(p);
}
END_TEST

START_TEST (test_a_plan_refuses_what_the_reference_lacks_or_calls_cannot_hold) {
	struct fixture f;
	char err[512];

	use_zone("Asia/Shanghai");
	fixture_load(&f, "tests/data/edge-2020.yaml", 1.0, 1);
	/* A scaled profile naming a hospital the reference does not have. */
	char *saved = f.scaled->hospitals[2].hospital;
	f.scaled->hospitals[2].hospital = (char *)"Elsewhere";
	ck_assert_ptr_null(bookplan_new(f.ref, f.scaled, 1, err, sizeof err));
	ck_assert_msg(strstr(err, "bookings.by_hospital[2].hospital: \"Elsewhere\"") != NULL, "%s",
		      err);
	f.scaled->hospitals[2].hospital = saved;
	saved = f.scaled->platforms[0].platform;
	f.scaled->platforms[0].platform = (char *)"Nowhere";
	ck_assert_ptr_null(bookplan_new(f.ref, f.scaled, 1, err, sizeof err));
	ck_assert_msg(strstr(err, "booking_platforms.by_platform[0]") != NULL, "%s", err);
	f.scaled->platforms[0].platform = saved;

	/* A call plan with fewer booking calls than phone bookings (an invalid
	 * profile: the plan says so instead of miscounting). */
	f.scaled->calls_by_category[CATEGORY_BOOKING] = 10;
	struct replay *few = replay_new(f.scaled, 1, err, sizeof err);
	ck_assert_ptr_nonnull(few);
	ck_assert_ptr_null(bookplan_phone_new(f.plan, few, err, sizeof err));
	ck_assert_msg(strstr(err, "60 phone bookings") != NULL && strstr(err, "10 booking calls"),
		      "%s", err);
	replay_free(few);
	fixture_free(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bookplan");
	TCase *counts = tcase_create("counts");
	TCase *when = tcase_create("when");
	TCase *reference = tcase_create("reference");

	tcase_set_timeout(counts, 300);
	tcase_add_test(counts, test_nanjing_bookings_are_exact_at_small_scales);
	tcase_add_test(counts, test_edge_profile_bookings_are_exact_at_full_and_half_scale);
	tcase_add_test(counts, test_harbour_profile_bookings_are_exact_at_many_scales);
	tcase_add_test(counts, test_platforms_may_name_every_online_and_third_party_booking);
	tcase_add_test(counts, test_nanjing_batches_at_full_scale_are_exact_one_day_at_a_time);
	tcase_add_test(counts, test_a_profile_without_bookings_plans_none);
	tcase_add_test(counts, test_phone_bookings_may_fill_every_booking_call);
	tcase_add_test(when, test_bookings_follow_the_weekly_and_daily_rhythm);
	tcase_add_test(when, test_same_seed_same_bookings_other_seed_other_bookings);
	tcase_add_test(when, test_a_booking_in_the_last_call_of_the_year_stays_in_the_year);
	tcase_add_test(when, test_bodies_follow_the_booking_contract);
	tcase_add_test(reference, test_hospitals_file_round_trips_every_name);
	tcase_add_test(reference, test_departments_are_the_common_ones);
	tcase_add_test(reference, test_codes_do_not_move_when_scaling_reranks_the_rows);
	tcase_add_test(reference, test_codes_sort_as_their_numbers_past_999_rows);
	tcase_add_test(reference, test_names_the_hospitals_tables_cannot_take_are_refused);
	tcase_add_test(reference,
		       test_a_plan_refuses_what_the_reference_lacks_or_calls_cannot_hold);
	suite_add_tcase(s, counts);
	suite_add_tcase(s, when);
	suite_add_tcase(s, reference);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
