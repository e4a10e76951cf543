/* test_profile.c: year profiles (profile.c): the Nanjing reference loads with
 * its figures; every broken rule is reported at the right line, column and
 * field; scaling rounds half away from zero, re-sums totals and re-ranks;
 * YAML and JSON output survive any name; comparison finds each difference;
 * apportionment is exact and deterministic; the leap-year edge profile loads. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "profile.h"
#include "timeutil.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static char *read_source_file(const char *relative)
{
	const char *src = getenv("HOTLINE_SOURCE_DIR");
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	ck_assert_msg(src != NULL, "HOTLINE_SOURCE_DIR is not set (tests/meson.build sets it)");
	snprintf(path, sizeof path, "%s/%s", src, relative);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	ck_assert_int_eq(fseek(f, 0, SEEK_SET), 0);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static struct profile *load_source_profile(const char *relative)
{
	const char *src = getenv("HOTLINE_SOURCE_DIR");
	char path[1024], err[1024];
	struct profile *p = NULL;

	ck_assert_msg(src != NULL, "HOTLINE_SOURCE_DIR is not set (tests/meson.build sets it)");
	snprintf(path, sizeof path, "%s/%s", src, relative);
	ck_assert_msg(profile_load_file(path, &p, err, sizeof err) == 0, "%s", err);
	ck_assert_ptr_nonnull(p);
	return p;
}

static struct profile *load_text(const char *text)
{
	char err[1024];
	struct profile *p = NULL;

	ck_assert_msg(profile_load_buffer("inline.yaml", text, strlen(text), &p, err, sizeof err) ==
			      0,
		      "%s", err);
	return p;
}

/* The error loading text gives (the load must fail). */
static void load_error(const char *text, char *err, size_t err_len)
{
	struct profile *p = NULL;

	err[0] = '\0';
	int rc = profile_load_buffer("case.yaml", text, strlen(text), &p, err, err_len);
	ck_assert_msg(rc == -1, "expected the load to fail; it succeeded");
	ck_assert_ptr_null(p);
}

/* A copy of text with the first occurrence of from replaced by to. */
static char *replace_once(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	ck_assert_msg(at != NULL, "\"%s\" is not in the text", from);
	size_t head = (size_t)(at - text), from_len = strlen(from), to_len = strlen(to);
	char *out = malloc(strlen(text) - from_len + to_len + 1);
	ck_assert_ptr_nonnull(out);
	memcpy(out, text, head);
	memcpy(out + head, to, to_len);
	strcpy(out + head + to_len, at + from_len);
	return out;
}

static char *write_yaml_to_string(const struct profile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(profile_write_yaml(p, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static char *compare_to_string(const struct profile *e, const struct profile *a, unsigned sections,
			       size_t *differences)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	*differences = profile_compare(e, a, sections, f);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static void replace_name(char **slot, const char *name)
{
	free(*slot);
	*slot = strdup(name);
	ck_assert_ptr_nonnull(*slot);
}

/* A small valid profile in block and flow style, with categories left out. */
static const char small_yaml[] =
	"schema: hotline-year-profile/1\n"
	"profile: small\n"
	"year: 2021\n"
	"centre: {code: small, name: Small}\n"
	"calls:\n"
	"  total: 13\n"
	"  by_category: {consultation: 5, complaint: 3, booking: 4, crisis: 1}\n"
	"work_orders: {city_12345: 3, province_12345: 1}\n"
	"province:\n"
	"  name: P\n"
	"  total: 16\n"
	"  by_centre:\n"
	"    - code: small\n"
	"      name: Small\n"
	"      calls: 13\n"
	"    - {code: other, name: Other, calls: 3}\n"
	"bookings:\n"
	"  total: {online_12320: 6, phone: 1, clinic: 1, third_party: 1, all: 9}\n"
	"  by_hospital:\n"
	"    - {rank: 1, hospital: A, online_12320: 5, all: 5}\n"
	"    - {rank: 2, hospital: B, online_12320: 1, phone: 1, clinic: 1, third_party: 1, all: 4}\n"
	"booking_platforms:\n"
	"  total: 7\n"
	"  by_platform:\n"
	"    - {rank: 1, platform: P1, bookings: 3}\n"
	"    - {rank: 2, platform: P2, bookings: 3}\n"
	"    - {rank: 3, platform: P3, bookings: 1}\n";

/* A profile with only calls, the eight categories given in enum order. */
static struct profile *calls_only_profile(const int64_t by_category[CATEGORY_COUNT])
{
	char text[2048];
	int64_t total = 0;
	int n;

	for (int c = 0; c < CATEGORY_COUNT; c++)
		total += by_category[c];
	n = snprintf(text, sizeof text,
		     "schema: hotline-year-profile/1\nprofile: calls-only\nyear: 2022\n"
		     "centre: {code: c1, name: C1}\ncalls:\n  total: %lld\n  by_category:\n",
		     (long long)total);
	for (int c = 0; c < CATEGORY_COUNT; c++)
		n += snprintf(text + n, sizeof text - (size_t)n, "    %s: %lld\n",
			      category_name((enum category)c), (long long)by_category[c]);
	return load_text(text);
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(test_nanjing_reference_loads_with_its_figures)
{
	struct profile *p = load_source_profile("data/nanjing-2019.yaml");

	ck_assert_str_eq(p->profile, "nanjing-2019");
	ck_assert_int_eq(p->year, 2019);
	ck_assert_str_eq(p->centre_code, "nanjing");
	ck_assert_str_eq(p->centre_name, "南京");
	ck_assert_int_eq(p->calls_total, 1756440);
	ck_assert_int_eq(p->calls_by_category[CATEGORY_BOOKING], 1495884);
	ck_assert_int_eq(p->calls_by_category[CATEGORY_OTHER], 6315);
	ck_assert_int_eq(p->work_orders_city, 11085);
	ck_assert_int_eq(p->work_orders_province, 3631);
	ck_assert(p->has_province);
	ck_assert_str_eq(p->province_name, "江苏");
	ck_assert_int_eq(p->province_total, 2120693);
	ck_assert_uint_eq(p->n_centres, 9);
	ck_assert_str_eq(p->centres[8].code, "lianyungang");
	ck_assert_int_eq(p->centres[8].calls, 7457);
	ck_assert(p->has_bookings);
	ck_assert_uint_eq(p->n_hospitals, 52);
	ck_assert_str_eq(p->hospitals[0].hospital, "南京鼓楼医院");
	ck_assert_int_eq(p->hospitals[0].by_channel[PROFILE_CHANNEL_PHONE], 543673);
	ck_assert_int_eq(p->hospitals[51].rank, 52);
	ck_assert_int_eq(p->bookings_total_all, 4088041);
	ck_assert_int_eq(p->bookings_cumulative_all_years, 18407209);
	ck_assert(p->has_platforms);
	ck_assert_uint_eq(p->n_platforms, 9);
	ck_assert_int_eq(p->platforms_total, 1170144);
	ck_assert_str_eq(p->platforms[8].platform, "电信手机");
	profile_free(p);
}
END_TEST

START_TEST(test_missing_categories_and_channels_mean_zero_in_either_style)
{
	struct profile *p = load_text(small_yaml);

	ck_assert_int_eq(p->calls_by_category[CATEGORY_EXPERT_QA], 0);
	ck_assert_int_eq(p->calls_by_category[CATEGORY_OTHER], 0);
	ck_assert_int_eq(p->calls_by_category[CATEGORY_CRISIS], 1);
	ck_assert_int_eq(p->hospitals[0].by_channel[PROFILE_CHANNEL_PHONE], 0);
	ck_assert_str_eq(p->centres[0].name, "Small");
	ck_assert_int_eq(p->bookings_cumulative_all_years, 0);
	profile_free(p);
}
END_TEST

START_TEST(test_optional_sections_may_be_left_out)
{
	const int64_t calls[CATEGORY_COUNT] = {1, 0, 0, 0, 0, 0, 0, 0};
	struct profile *p = calls_only_profile(calls);

	ck_assert(!p->has_province);
	ck_assert(!p->has_bookings);
	ck_assert(!p->has_platforms);
	ck_assert_int_eq(p->work_orders_city, 0);
	profile_free(p);
}
END_TEST

START_TEST(test_leap_year_edge_profile_loads)
{
	struct profile *p = load_source_profile("tests/data/edge-2020.yaml");
	char err[512];

	ck_assert_int_eq(p->year, 2020);
	ck_assert_int_eq(timeutil_days_in_year(p->year), 366);
	ck_assert_str_eq(p->centre_code, "edge");
	ck_assert_str_eq(p->centre_name, "Edge, \"Test\" 中心");
	ck_assert_int_eq(p->calls_by_category[CATEGORY_SURVEY], 0);
	ck_assert_int_lt(p->calls_total, 1000);
	ck_assert_uint_eq(p->n_centres, 3);
	bool one_call = false;
	for (size_t i = 0; i < p->n_centres; i++)
		one_call = one_call || p->centres[i].calls == 1;
	ck_assert(one_call);
	ck_assert_int_eq(profile_validate(p, err, sizeof err), 0);
	profile_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

struct error_case {
	const char *from;
	const char *to;
	const char *expected; /* a substring of the message */
};

/* Each mutation of the Nanjing file breaks one rule; the message must name
 * the field (and, where given, the line and column). */
static const struct error_case nanjing_cases[] = {
	{"    booking: 1495884", "    bookng: 1495884",
	 "case.yaml:20:5: calls.by_category.bookng: unknown category"},
	{"{code: yangzhou, name: 扬州, calls: 23702}", "{code: yangzhou, name: 扬州, calls: -3}",
	 "case.yaml:40:41: province.by_centre[3].calls: expected a non-negative integer"},
	{"calls: 23702}", "calls: 2.5}", "province.by_centre[3].calls: expected a non-negative integer"},
	{"schema: hotline-year-profile/1", "schema: hotline-year-profile/2",
	 "case.yaml:9:9: schema: expected \"hotline-year-profile/1\""},
	{"year: 2019", "year: 1969", "case.yaml:11:7: year: expected a year from 1970 to 9999"},
	{"year: 2019", "year: 10000", "year: expected a year from 1970 to 9999"},
	{"year: 2019\n", "", "year: required field is missing"},
	{"  total: 1756440", "  total: 1756441",
	 "case.yaml:16:10: calls.total: expected 1756440 (the sum of calls.by_category)"},
	{"  total: 1756440", "  total: 1756440\n  total: 1756440",
	 "calls.total: appears twice"},
	{"  total: 2120693", "  total: 2120694", "case.yaml:35:10: province.total: expected 2120693"},
	{"{code: suzhou,", "{code: wuxi,", "province.by_centre[7].code: \"wuxi\" is already"},
	{"name: 苏州", "name: 无锡", "province.by_centre[7].name: \"无锡\" is already"},
	{"{code: suzhou,", "{code: Suzhou,", "province.by_centre[1].code: expected 1 to 32"},
	{"{code: nanjing, name: 南京, calls: 1756440}", "{code: nanjing2, name: 南京, calls: 1756440}",
	 "province.by_centre: the profile's own centre \"nanjing\" is missing"},
	{"{code: nanjing, name: 南京, calls: 1756440}", "{code: nanjing, name: 南京, calls: 1756441}",
	 "case.yaml:37:40: province.by_centre[0].calls: expected 1756440"},
	{"centre: {code: nanjing,", "centre: {code: Nan Jing,", "centre.code: expected 1 to 32"},
	{"centre: {code: nanjing, name: 南京}", "centre: {code: nanjing}",
	 "centre.name: required field is missing"},
	{"phone: 543673, clinic: 163398", "phone: 543674, clinic: 163398",
	 "case.yaml:55:114: bookings.by_hospital[0].all: expected 1893129"},
	{"phone: 1477316", "phone: 1477317", "bookings.total.phone: expected 1477316"},
	{"all: 4088041}", "all: 4088042}", "bookings.total.all: expected 4088041"},
	{"    booking: 1495884", "    booking: 1000000",
	 "calls.total: expected 1260556"},
	{"{rank: 2, hospital: 南京市儿童医院", "{rank: 3, hospital: 南京市儿童医院",
	 "case.yaml:56:14: bookings.by_hospital[1].rank: expected 2"},
	{"hospital: 南京市儿童医院", "hospital: 南京鼓楼医院",
	 "bookings.by_hospital[1].hospital: \"南京鼓楼医院\" is already"},
	{"channels: [online_12320, phone, clinic, third_party]",
	 "channels: [online_12320, phone, clinic]", "bookings.channels: third_party is missing"},
	{"channels: [online_12320, phone, clinic, third_party]",
	 "channels: [online_12320, phone, clinic, 3rd_party]",
	 "bookings.channels[3]: unknown channel"},
	{"total: {online_12320: 1007769,", "total: {online: 1007769,",
	 "bookings.total.online: unknown channel"},
	{"  total: 1170144", "  total: 1170145",
	 "case.yaml:111:10: booking_platforms.total: expected 1170144"},
	{"bookings: 33}", "bookings: \"33\"}",
	 "case.yaml:121:43: booking_platforms.by_platform[8].bookings: expected a non-negative "
	 "integer"},
	{"bookings: 33}", "bookings: 33, foo: 1}",
	 "booking_platforms.by_platform[8].foo: unknown field"},
	{"platform: 我的南京客户端", "platform: 健康南京客户端",
	 "booking_platforms.by_platform[2].platform: \"健康南京客户端\" is already"},
	{"{rank: 2, platform: 南京卫生12320微信平台, bookings: 263568}",
	 "{rank: 2, platform: 南京卫生12320微信平台, bookings: 763568}",
	 "booking_platforms.by_platform[1].rank: bookings (763568) is larger than the row above"},
	{"work_orders:\n", "work_order:\n", "work_order: unknown field"},
	{"  city_12345: 11085", "  city_12345: [11085]",
	 "work_orders.city_12345: expected a non-negative integer, got a list"},
	{"province:\n  name: 江苏", "province:\n  name: [江苏",
	 "YAML syntax error"},
	{"centre: {code: nanjing, name: 南京}", "centre: {code: nanjing, name: ~}",
	 "centre.name: expected text, got null"},
};

START_TEST(test_every_error_names_its_field)
{
	char *nanjing = read_source_file("data/nanjing-2019.yaml");
	const struct error_case *c = &nanjing_cases[_i];
	char err[1024];

	char *text = replace_once(nanjing, c->from, c->to);
	load_error(text, err, sizeof err);
	ck_assert_msg(strstr(err, c->expected) != NULL, "case %d: expected \"%s\" in \"%s\"", _i,
		      c->expected, err);
	ck_assert_msg(strncmp(err, "case.yaml:", 10) == 0, "case %d: no file:line:col in \"%s\"",
		      _i, err);
	free(text);
	free(nanjing);
}
END_TEST

/* Rules the Nanjing figures cannot break on their own, on the small profile. */
START_TEST(test_booking_bounds_are_enforced)
{
	char err[1024];

	/* More phone bookings than booking calls. */
	char *text = replace_once(small_yaml, "booking: 4, crisis: 1}", "booking: 0, crisis: 1}");
	char *fixed = replace_once(text, "  total: 13\n", "  total: 9\n");
	free(text);
	text = fixed;
	fixed = replace_once(text, "      calls: 13\n", "      calls: 9\n");
	free(text);
	text = replace_once(fixed, "  total: 16\n", "  total: 12\n");
	free(fixed);
	load_error(text, err, sizeof err);
	ck_assert_msg(strstr(err, "bookings.total.phone: 1 phone bookings exceed the 0 booking "
				  "calls") != NULL,
		      "%s", err);
	free(text);

	/* More platform bookings than online and third-party bookings. */
	text = replace_once(small_yaml, "{rank: 3, platform: P3, bookings: 1}",
			    "{rank: 3, platform: P3, bookings: 2}");
	fixed = replace_once(text, "  total: 7\n", "  total: 8\n");
	load_error(fixed, err, sizeof err);
	ck_assert_msg(strstr(err, "booking_platforms.total: 8 platform bookings exceed the 7") !=
			      NULL,
		      "%s", err);
	ck_assert_msg(strncmp(err, "case.yaml:", 10) == 0, "%s", err);
	free(text);
	free(fixed);
}
END_TEST

START_TEST(test_documents_that_are_not_one_profile_are_refused)
{
	char err[1024];

	load_error("", err, sizeof err);
	ck_assert_msg(strstr(err, "case.yaml:1:1: the file is empty") != NULL, "%s", err);
	load_error("- a\n- b\n", err, sizeof err);
	ck_assert_msg(strstr(err, "expected a mapping of profile fields") != NULL, "%s", err);

	size_t n = strlen(small_yaml);
	char *two = malloc(2 * n + 8);
	ck_assert_ptr_nonnull(two);
	sprintf(two, "%s---\n%s", small_yaml, small_yaml);
	load_error(two, err, sizeof err);
	ck_assert_msg(strstr(err, "a second YAML document") != NULL, "%s", err);
	free(two);

	load_error("schema: \"hotline-year-profile/1\xff\"\n", err, sizeof err);
	ck_assert_msg(strncmp(err, "case.yaml:1:", 12) == 0, "%s", err);
}
END_TEST

START_TEST(test_validate_names_the_field_of_a_struct)
{
	struct profile *p = load_source_profile("data/nanjing-2019.yaml");
	char err[512];

	ck_assert_int_eq(profile_validate(p, err, sizeof err), 0);
	p->calls_by_category[CATEGORY_CRISIS]++;
	ck_assert_int_eq(profile_validate(p, err, sizeof err), -1);
	ck_assert_msg(strncmp(err, "calls.total: expected 1756441", 29) == 0, "%s", err);
	p->calls_by_category[CATEGORY_CRISIS]--;
	p->hospitals[3].by_channel[PROFILE_CHANNEL_CLINIC] = -1;
	ck_assert_int_eq(profile_validate(p, err, sizeof err), -1);
	ck_assert_msg(strncmp(err, "bookings.by_hospital[3].clinic: expected a non-negative", 55) ==
			      0,
		      "%s", err);
	p->hospitals[3].by_channel[PROFILE_CHANNEL_CLINIC] = 28312;
	p->year = 1969;
	ck_assert_int_eq(profile_validate(p, err, sizeof err), -1);
	ck_assert_msg(strncmp(err, "year:", 5) == 0, "%s", err);
	profile_free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Scaling                                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(test_scale_rounds_half_away_from_zero)
{
	/* At 0.01: 250 -> 2.5 -> 3, 150 -> 1.5 -> 2, 50 -> 0.5 -> 1, 49 -> 0.49 -> 0,
	 * 351 -> 3.51 -> 4, 349 -> 3.49 -> 3, 1495884 -> 14958.84 -> 14959. */
	const int64_t hundredth[CATEGORY_COUNT] = {250, 150, 1495884, 50, 49, 351, 349, 0};
	const int64_t expect_hundredth[CATEGORY_COUNT] = {3, 2, 14959, 1, 0, 4, 3, 0};
	/* At 0.5: 5 -> 3, 3 -> 2, 1 -> 1, 0 -> 0, 2 -> 1, 7 -> 4, 9 -> 5, 4 -> 2. */
	const int64_t half[CATEGORY_COUNT] = {5, 3, 1, 0, 2, 7, 9, 4};
	const int64_t expect_half[CATEGORY_COUNT] = {3, 2, 1, 0, 1, 4, 5, 2};
	char err[512];

	struct profile *p = calls_only_profile(hundredth);
	struct profile *s = profile_scale(p, 0.01);
	ck_assert_ptr_nonnull(s);
	int64_t sum = 0;
	for (int c = 0; c < CATEGORY_COUNT; c++) {
		ck_assert_int_eq(s->calls_by_category[c], expect_hundredth[c]);
		sum += expect_hundredth[c];
	}
	ck_assert_int_eq(s->calls_total, sum);
	ck_assert_int_eq(profile_validate(s, err, sizeof err), 0);
	profile_free(s);
	profile_free(p);

	p = calls_only_profile(half);
	s = profile_scale(p, 0.5);
	ck_assert_ptr_nonnull(s);
	sum = 0;
	for (int c = 0; c < CATEGORY_COUNT; c++) {
		ck_assert_int_eq(s->calls_by_category[c], expect_half[c]);
		sum += expect_half[c];
	}
	ck_assert_int_eq(s->calls_total, sum);
	profile_free(s);

	s = profile_scale(p, 1.0);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(profile_compare(p, s, PROFILE_SECTION_ALL, NULL), 0);
	profile_free(s);
	ck_assert_ptr_null(profile_scale(p, 0.0));
	ck_assert_ptr_null(profile_scale(p, 1.5));
	ck_assert_ptr_null(profile_scale(p, -0.5));
	profile_free(p);
}
END_TEST

START_TEST(test_scale_resums_totals_and_scales_the_own_centre_as_its_total)
{
	struct profile *p = load_source_profile("data/nanjing-2019.yaml");
	struct profile *s = profile_scale(p, 0.01);
	char err[512];

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->calls_by_category[CATEGORY_BOOKING], 14959);
	ck_assert_int_eq(s->calls_by_category[CATEGORY_CONSULTATION], 2300);
	/* The sum of the rounded categories, not round(1756440 * 0.01) = 17564 by luck. */
	int64_t sum = 0;
	for (int c = 0; c < CATEGORY_COUNT; c++)
		sum += s->calls_by_category[c];
	ck_assert_int_eq(s->calls_total, sum);
	ck_assert_int_eq(s->centres[0].calls, s->calls_total);
	ck_assert_int_eq(s->centres[1].calls, 2326);
	int64_t province = 0;
	for (size_t i = 0; i < s->n_centres; i++)
		province += s->centres[i].calls;
	ck_assert_int_eq(s->province_total, province);
	int64_t all = 0;
	for (size_t i = 0; i < s->n_hospitals; i++)
		all += s->hospitals[i].all;
	ck_assert_int_eq(s->bookings_total_all, all);
	ck_assert_int_eq(s->work_orders_city, 111);
	ck_assert_int_eq(s->work_orders_province, 36);
	ck_assert_str_eq(s->profile, "nanjing-2019");
	ck_assert_msg(profile_validate(s, err, sizeof err) == 0, "%s", err);
	profile_free(s);

	/* The Nanjing categories themselves are all above 2, so at 0.5 the rounding is visible
	 * only where a figure is odd: 2177 -> 1088.5 -> 1089. */
	s = profile_scale(p, 0.5);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->calls_by_category[CATEGORY_COMPLAINT], 1089);
	ck_assert_int_eq(s->calls_by_category[CATEGORY_EXPERT_QA], 1759);
	ck_assert_msg(profile_validate(s, err, sizeof err) == 0, "%s", err);
	profile_free(s);
	profile_free(p);
}
END_TEST

START_TEST(test_scale_reranks_rows_keeping_ties_in_order)
{
	struct profile *p = load_text(small_yaml);
	struct profile *s = profile_scale(p, 0.5);
	char err[512];

	ck_assert_ptr_nonnull(s);
	/* A: 5 -> 3; B: 1+1+1+1 (each 0.5 -> 1) = 4, so B now ranks first. */
	ck_assert_str_eq(s->hospitals[0].hospital, "B");
	ck_assert_int_eq(s->hospitals[0].rank, 1);
	ck_assert_int_eq(s->hospitals[0].all, 4);
	ck_assert_str_eq(s->hospitals[1].hospital, "A");
	ck_assert_int_eq(s->hospitals[1].rank, 2);
	ck_assert_int_eq(s->hospitals[1].all, 3);
	ck_assert_int_eq(s->bookings_total[PROFILE_CHANNEL_ONLINE_12320], 4);
	ck_assert_int_eq(s->bookings_total_all, 7);
	/* P1 and P2 tie at 2 and keep their order. */
	ck_assert_str_eq(s->platforms[0].platform, "P1");
	ck_assert_str_eq(s->platforms[1].platform, "P2");
	ck_assert_int_eq(s->platforms[1].rank, 2);
	ck_assert_str_eq(s->platforms[2].platform, "P3");
	ck_assert_int_eq(s->platforms_total, 5);
	/* Own centre 8 (3 + 2 + 2 + 1), the other 3 -> 2. */
	ck_assert_int_eq(s->centres[0].calls, 8);
	ck_assert_int_eq(s->centres[1].calls, 2);
	ck_assert_int_eq(s->province_total, 10);
	ck_assert_msg(profile_validate(s, err, sizeof err) == 0, "%s", err);
	profile_free(s);
	profile_free(p);
}
END_TEST

START_TEST(test_scale_keeps_phone_bookings_within_booking_calls)
{
	static const char text[] =
		"schema: hotline-year-profile/1\nprofile: tight\nyear: 2023\n"
		"centre: {code: t, name: T}\n"
		"calls: {total: 3, by_category: {booking: 3}}\n"
		"bookings:\n"
		"  total: {phone: 3, all: 3}\n"
		"  by_hospital:\n"
		"    - {rank: 1, hospital: A, phone: 1, all: 1}\n"
		"    - {rank: 2, hospital: B, phone: 1, all: 1}\n"
		"    - {rank: 3, hospital: C, phone: 1, all: 1}\n";
	struct profile *p = load_text(text);
	struct profile *s = profile_scale(p, 0.5);
	char err[512];

	ck_assert_ptr_nonnull(s);
	/* 3 booking calls -> 2; three phone bookings of 1 -> 1 each = 3 > 2: one
	 * is taken back from the first of the largest (A). */
	ck_assert_int_eq(s->calls_by_category[CATEGORY_BOOKING], 2);
	ck_assert_int_eq(s->bookings_total[PROFILE_CHANNEL_PHONE], 2);
	ck_assert_str_eq(s->hospitals[0].hospital, "B");
	ck_assert_str_eq(s->hospitals[2].hospital, "A");
	ck_assert_int_eq(s->hospitals[2].all, 0);
	ck_assert_msg(profile_validate(s, err, sizeof err) == 0, "%s", err);
	profile_free(s);
	profile_free(p);
}
END_TEST

/* A pseudo-random number for the property test below (an LCG: the test must
 * not depend on the C library's rand). */
static uint64_t next_random(uint64_t *state)
{
	*state = *state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	return *state >> 33;
}

/* Every scaled valid profile is valid, whatever the scale: the bounds that
 * the rounding of separate rows could break (phone bookings within booking
 * calls, platforms within online + third party) are held at their tightest,
 * with many small rows that each round up. */
START_TEST(test_scaled_valid_profiles_stay_valid_at_any_scale)
{
	static const double scales[] = {1.0, 0.999, 0.75, 0.5, 0.5001, 0.37, 0.25, 0.1,
					0.05, 0.015, 0.01, 0.005, 0.001, 1e-6};
	uint64_t state = 12320;
	char err[1024];

	for (int round = 0; round < 300; round++) {
		int n_hospitals = 1 + (int)(next_random(&state) % 12);
		int n_platforms = (int)(next_random(&state) % 5);
		int64_t sums[4] = {0}, rows[12][4];
		for (int i = 0; i < n_hospitals; i++)
			for (int c = 0; c < 4; c++) {
				/* Mostly tiny figures: 1s and 3s round up at 0.5. */
				uint64_t r = next_random(&state) % 10;
				rows[i][c] = r < 3 ? 0 : r < 7 ? (int64_t)(r % 2 ? 1 : 3) :
								  (int64_t)(next_random(&state) % 400);
				sums[c] += rows[i][c];
			}
		/* Booking calls: exactly the phone bookings, or a little more. */
		int64_t booking = sums[1] + (int64_t)(next_random(&state) % 3);
		/* Sort the rows by their sum, descending, as ranks require. */
		for (int i = 0; i < n_hospitals; i++)
			for (int j = i + 1; j < n_hospitals; j++) {
				int64_t a = rows[i][0] + rows[i][1] + rows[i][2] + rows[i][3];
				int64_t b = rows[j][0] + rows[j][1] + rows[j][2] + rows[j][3];
				if (b > a)
					for (int c = 0; c < 4; c++) {
						int64_t t = rows[i][c];
						rows[i][c] = rows[j][c];
						rows[j][c] = t;
					}
			}
		/* Platforms: the bound itself, split into small pieces. */
		int64_t bound = sums[0] + sums[3], platforms[5] = {0}, left = bound;
		for (int k = 0; k < n_platforms; k++) {
			platforms[k] = k == n_platforms - 1 ? left :
							      (int64_t)(next_random(&state) %
									(uint64_t)(left + 1));
			left -= platforms[k];
		}
		for (int i = 0; i < n_platforms; i++)
			for (int j = i + 1; j < n_platforms; j++)
				if (platforms[j] > platforms[i]) {
					int64_t t = platforms[i];
					platforms[i] = platforms[j];
					platforms[j] = t;
				}

		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		ck_assert_ptr_nonnull(f);
		fprintf(f,
			"schema: hotline-year-profile/1\nprofile: random\nyear: 2021\n"
			"centre: {code: r, name: R}\n"
			"calls: {total: %lld, by_category: {booking: %lld}}\n"
			"bookings:\n  total: {online_12320: %lld, phone: %lld, clinic: %lld, "
			"third_party: %lld, all: %lld}\n  by_hospital:\n",
			(long long)booking, (long long)booking, (long long)sums[0],
			(long long)sums[1], (long long)sums[2], (long long)sums[3],
			(long long)(sums[0] + sums[1] + sums[2] + sums[3]));
		for (int i = 0; i < n_hospitals; i++)
			fprintf(f,
				"    - {rank: %d, hospital: H%d, online_12320: %lld, phone: %lld, "
				"clinic: %lld, third_party: %lld, all: %lld}\n",
				i + 1, i, (long long)rows[i][0], (long long)rows[i][1],
				(long long)rows[i][2], (long long)rows[i][3],
				(long long)(rows[i][0] + rows[i][1] + rows[i][2] + rows[i][3]));
		if (n_platforms > 0) {
			fprintf(f, "booking_platforms:\n  total: %lld\n  by_platform:\n",
				(long long)bound);
			for (int k = 0; k < n_platforms; k++)
				fprintf(f, "    - {rank: %d, platform: P%d, bookings: %lld}\n", k + 1,
					k, (long long)platforms[k]);
		}
		ck_assert_int_eq(fclose(f), 0);
		struct profile *p = load_text(text);
		ck_assert_msg(profile_validate(p, err, sizeof err) == 0, "%s\n%s", err, text);
		for (size_t i = 0; i < sizeof scales / sizeof scales[0]; i++) {
			struct profile *scaled = profile_scale(p, scales[i]);
			ck_assert_ptr_nonnull(scaled);
			ck_assert_msg(profile_validate(scaled, err, sizeof err) == 0,
				      "scaled by %g: %s\n%s", scales[i], err, text);
			ck_assert_int_le(scaled->bookings_total[PROFILE_CHANNEL_PHONE],
					 scaled->calls_by_category[CATEGORY_BOOKING]);
			ck_assert_int_le(scaled->platforms_total,
					 scaled->bookings_total[PROFILE_CHANNEL_ONLINE_12320] +
						 scaled->bookings_total[PROFILE_CHANNEL_THIRD_PARTY]);
			profile_free(scaled);
		}
		profile_free(p);
		free(text);
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Writing and comparing                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(test_yaml_round_trip_of_nanjing_is_equal)
{
	struct profile *p = load_source_profile("data/nanjing-2019.yaml");
	char *yaml = write_yaml_to_string(p);
	struct profile *back = load_text(yaml);
	size_t differences;
	char *report = compare_to_string(p, back, PROFILE_SECTION_ALL, &differences);

	ck_assert_msg(differences == 0, "%s", report);
	ck_assert_str_eq(back->profile, p->profile);
	ck_assert_int_eq(back->bookings_cumulative_all_years, p->bookings_cumulative_all_years);
	ck_assert_ptr_nonnull(strstr(yaml, "schema: hotline-year-profile/1\n"));
	ck_assert_ptr_nonnull(strstr(yaml, "    - {code: suzhou, name: \"苏州\", calls: 232606}\n"));
	free(report);
	free(yaml);
	profile_free(back);
	profile_free(p);
}
END_TEST

START_TEST(test_yaml_round_trip_keeps_hard_names)
{
	static const char *const names[] = {
		"中心 \"甲\", [乙]: 丙", "a, \"b\"", "x: y", "[z]", " leading space",
		"#hash", "null", "tab\tand\nnewline", "back\\slash", "{brace} & *star",
		"- dash", "line\u2028separator",
	};
	struct profile *p = load_source_profile("tests/data/edge-2020.yaml");
	size_t k = 0;

	replace_name(&p->profile, names[k++]);
	replace_name(&p->centre_name, names[k++]);
	replace_name(&p->centres[0].name, names[k++]);
	replace_name(&p->centres[1].name, names[k++]);
	replace_name(&p->centres[2].name, names[k++]);
	replace_name(&p->province_name, names[k++]);
	replace_name(&p->hospitals[0].hospital, names[k++]);
	replace_name(&p->hospitals[1].hospital, names[k++]);
	replace_name(&p->hospitals[2].hospital, names[k++]);
	replace_name(&p->platforms[0].platform, names[k++]);
	replace_name(&p->platforms[1].platform, names[k++]);
	replace_name(&p->platforms[2].platform, names[k++]);
	ck_assert_uint_eq(k, sizeof names / sizeof *names);

	char *yaml = write_yaml_to_string(p);
	struct profile *back = load_text(yaml);
	size_t differences;
	char *report = compare_to_string(p, back, PROFILE_SECTION_ALL, &differences);
	ck_assert_msg(differences == 0, "%s\n%s", report, yaml);
	ck_assert_str_eq(back->profile, p->profile);
	ck_assert_str_eq(back->centre_name, p->centre_name);
	ck_assert_str_eq(back->province_name, p->province_name);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_str_eq(back->centres[i].name, p->centres[i].name);
		ck_assert_str_eq(back->hospitals[i].hospital, p->hospitals[i].hospital);
		ck_assert_str_eq(back->platforms[i].platform, p->platforms[i].platform);
	}
	free(report);
	free(yaml);
	profile_free(back);

	/* Codes YAML would read as something else are quoted too. */
	replace_name(&p->centres[1].code, "123");
	replace_name(&p->centres[2].code, "no");
	yaml = write_yaml_to_string(p);
	ck_assert_ptr_nonnull(strstr(yaml, "code: \"123\""));
	ck_assert_ptr_nonnull(strstr(yaml, "code: \"no\""));
	back = load_text(yaml);
	ck_assert_str_eq(back->centres[1].code, "123");
	free(yaml);
	profile_free(back);

	/* Text that is not UTF-8 cannot be written. */
	replace_name(&p->centre_name, "bad \xc3\x28");
	FILE *devnull = fopen("/dev/null", "w");
	ck_assert_ptr_nonnull(devnull);
	ck_assert_int_eq(profile_write_yaml(p, devnull), -1);
	fclose(devnull);
	profile_free(p);
}
END_TEST

START_TEST(test_json_has_the_same_content)
{
	struct profile *p = load_source_profile("data/nanjing-2019.yaml");
	char *buf = NULL;
	size_t len = 0;
	json_error_t jerr;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(profile_write_json(p, f), 0);
	fclose(f);
	json_t *root = json_loads(buf, 0, &jerr);
	ck_assert_msg(root != NULL, "%s", jerr.text);
	ck_assert_str_eq(json_string_value(json_object_get(root, "schema")), PROFILE_SCHEMA);
	ck_assert_int_eq(json_integer_value(json_object_get(root, "year")), 2019);
	json_t *calls = json_object_get(root, "calls");
	ck_assert_int_eq(json_integer_value(json_object_get(calls, "total")), 1756440);
	ck_assert_int_eq(
		json_integer_value(json_object_get(json_object_get(calls, "by_category"), "booking")),
		1495884);
	json_t *centres = json_object_get(json_object_get(root, "province"), "by_centre");
	ck_assert_uint_eq(json_array_size(centres), 9);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(centres, 0), "name")),
			 "南京");
	json_t *hospitals = json_object_get(json_object_get(root, "bookings"), "by_hospital");
	ck_assert_uint_eq(json_array_size(hospitals), 52);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(hospitals, 1), "clinic")),
			 547942);
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(root, "booking_platforms"), "total")),
			 1170144);
	json_decref(root);
	free(buf);
	profile_free(p);
}
END_TEST

START_TEST(test_compare_reports_each_difference)
{
	struct profile *e = load_source_profile("data/nanjing-2019.yaml");
	struct profile *a = load_source_profile("data/nanjing-2019.yaml");
	size_t differences;
	char *report;

	/* Order of rows, the profile name and cumulative_all_years do not matter. */
	struct profile_centre swap = a->centres[1];
	a->centres[1] = a->centres[2];
	a->centres[2] = swap;
	replace_name(&a->profile, "another-name");
	a->bookings_cumulative_all_years = 1;
	report = compare_to_string(e, a, PROFILE_SECTION_ALL, &differences);
	ck_assert_msg(differences == 0, "%s", report);
	free(report);

	a->calls_by_category[CATEGORY_BOOKING]--;
	a->calls_total--;
	a->centres[2].calls++; /* suzhou, now third in the list */
	free(a->hospitals[5].hospital);
	a->hospitals[5].hospital = strdup("新医院");
	a->platforms[0].bookings = 7;
	a->work_orders_province = 0;
	report = compare_to_string(e, a, PROFILE_SECTION_ALL, &differences);
	ck_assert_ptr_nonnull(strstr(report, "calls.by_category.booking: expected 1495884, got "
					     "1495883\n"));
	ck_assert_ptr_nonnull(strstr(report, "calls.total: expected 1756440, got 1756439\n"));
	ck_assert_ptr_nonnull(strstr(report, "province.by_centre[suzhou].calls: expected 232606, "
					     "got 232607\n"));
	ck_assert_ptr_nonnull(strstr(report, "bookings.by_hospital[南京脑科医院]: missing\n"));
	ck_assert_ptr_nonnull(strstr(report, "bookings.by_hospital[新医院]: unexpected row\n"));
	ck_assert_ptr_nonnull(strstr(report, "booking_platforms.by_platform[健康南京客户端].bookings: "
					     "expected 526291, got 7\n"));
	ck_assert_ptr_nonnull(strstr(report, "work_orders.province_12345: expected 3631, got 0\n"));
	ck_assert_uint_eq(differences, 7);
	free(report);

	/* Only the sections asked for. */
	report = compare_to_string(e, a, PROFILE_SECTION_CALLS, &differences);
	ck_assert_msg(differences == 2, "%s", report);
	free(report);
	ck_assert_uint_eq(profile_compare(e, a, PROFILE_SECTION_PROVINCE, NULL), 1);

	/* A missing section is a difference when asked for. */
	a->has_platforms = false;
	ck_assert_uint_eq(profile_compare(e, a, PROFILE_SECTION_PLATFORMS, NULL), 1);
	a->has_platforms = true;
	a->year = 2020;
	ck_assert_uint_eq(profile_compare(e, a, 0, NULL), 1);
	profile_free(a);
	profile_free(e);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Apportionment                                                             */
/* ------------------------------------------------------------------------ */

START_TEST(test_apportion_by_largest_remainder)
{
	int64_t out[8];

	/* 7 over 5:3:2 -> quotas 3.5, 2.1, 1.4 -> 3, 2, 1 and the leftover unit to 3.5. */
	const int64_t w1[] = {5, 3, 2};
	profile_apportion(7, w1, 3, out);
	ck_assert_int_eq(out[0], 4);
	ck_assert_int_eq(out[1], 2);
	ck_assert_int_eq(out[2], 1);

	/* Equal remainders: the earlier entries first, every time. */
	const int64_t w2[] = {1, 1, 1};
	for (int run = 0; run < 3; run++) {
		profile_apportion(10, w2, 3, out);
		ck_assert_int_eq(out[0], 4);
		ck_assert_int_eq(out[1], 3);
		ck_assert_int_eq(out[2], 3);
	}
	profile_apportion(2, w2, 3, out);
	ck_assert_int_eq(out[0], 1);
	ck_assert_int_eq(out[1], 1);
	ck_assert_int_eq(out[2], 0);

	/* Zero weights get nothing; all-zero weights share equally. */
	const int64_t w3[] = {0, 2, 0, 1};
	profile_apportion(5, w3, 4, out);
	ck_assert_int_eq(out[0], 0);
	ck_assert_int_eq(out[2], 0);
	ck_assert_int_eq(out[1] + out[3], 5);
	ck_assert_int_eq(out[1], 3);
	const int64_t w4[] = {0, 0};
	profile_apportion(3, w4, 2, out);
	ck_assert_int_eq(out[0], 2);
	ck_assert_int_eq(out[1], 1);

	/* Large figures: the Nanjing categories over the province's centres. */
	const int64_t w5[] = {1756440, 232606, 41821, 23702, 22797, 15251, 11671, 8948, 7457};
	int64_t big[9], sum = 0;
	profile_apportion(1495884, w5, 9, big);
	for (int i = 0; i < 9; i++) {
		sum += big[i];
		ck_assert_int_ge(big[i], 0);
	}
	ck_assert_int_eq(sum, 1495884);
}
END_TEST

START_TEST(test_apportion_sums_exactly_and_stays_within_one_of_the_quota)
{
	uint64_t state = 12320;
	int64_t weights[8], out[8];

	for (int run = 0; run < 2000; run++) {
		size_t n = 1 + (size_t)(run % 8);
		int64_t total, weight_sum = 0;
		state = state * 6364136223846793005u + 1442695040888963407u;
		total = (int64_t)(state >> 40) % 100000;
		for (size_t i = 0; i < n; i++) {
			state = state * 6364136223846793005u + 1442695040888963407u;
			weights[i] = (int64_t)(state >> 44) % 5000;
			weight_sum += weights[i];
		}
		profile_apportion(total, weights, n, out);
		int64_t sum = 0;
		for (size_t i = 0; i < n; i++) {
			sum += out[i];
			if (weight_sum > 0) {
				/* floor(quota) <= out <= floor(quota) + 1 */
				__extension__ __int128 q = (__int128)total * weights[i];
				int64_t floor_quota = (int64_t)(q / weight_sum);
				ck_assert_int_ge(out[i], floor_quota);
				ck_assert_int_le(out[i], floor_quota + 1);
			}
		}
		ck_assert_int_eq(sum, total);
	}
}
END_TEST

static Suite *profile_suite(void)
{
	Suite *s = suite_create("profile");
	TCase *load = tcase_create("load");
	TCase *errors = tcase_create("errors");
	TCase *scale = tcase_create("scale");
	TCase *write = tcase_create("write");
	TCase *apportion = tcase_create("apportion");

	tcase_add_test(load, test_nanjing_reference_loads_with_its_figures);
	tcase_add_test(load, test_missing_categories_and_channels_mean_zero_in_either_style);
	tcase_add_test(load, test_optional_sections_may_be_left_out);
	tcase_add_test(load, test_leap_year_edge_profile_loads);
	suite_add_tcase(s, load);

	tcase_add_loop_test(errors, test_every_error_names_its_field, 0,
			    (int)(sizeof nanjing_cases / sizeof *nanjing_cases));
	tcase_add_test(errors, test_booking_bounds_are_enforced);
	tcase_add_test(errors, test_documents_that_are_not_one_profile_are_refused);
	tcase_add_test(errors, test_validate_names_the_field_of_a_struct);
	suite_add_tcase(s, errors);

	tcase_add_test(scale, test_scale_rounds_half_away_from_zero);
	tcase_add_test(scale, test_scale_resums_totals_and_scales_the_own_centre_as_its_total);
	tcase_add_test(scale, test_scale_reranks_rows_keeping_ties_in_order);
	tcase_add_test(scale, test_scale_keeps_phone_bookings_within_booking_calls);
	tcase_add_test(scale, test_scaled_valid_profiles_stay_valid_at_any_scale);
	suite_add_tcase(s, scale);

	tcase_add_test(write, test_yaml_round_trip_of_nanjing_is_equal);
	tcase_add_test(write, test_yaml_round_trip_keeps_hard_names);
	tcase_add_test(write, test_json_has_the_same_content);
	tcase_add_test(write, test_compare_reports_each_difference);
	suite_add_tcase(s, write);

	tcase_add_test(apportion, test_apportion_by_largest_remainder);
	tcase_add_test(apportion, test_apportion_sums_exactly_and_stays_within_one_of_the_quota);
	suite_add_tcase(s, apportion);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(profile_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
