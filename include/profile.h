/* profile.h: year profiles (schema hotline-year-profile/1).
 *
 * A profile says what one centre handled in one year; see PROFILES in the
 * README. The same struct is the simulator's input (after profile_scale), the
 * year-end export's output, and what profile_compare checks one against the
 * other. Parsing is libyaml; every error names the field ("calls.by_category.
 * booking: expected a non-negative integer", with line and column).
 */
#ifndef HOTLINE_PROFILE_H
#define HOTLINE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "category.h"

#define PROFILE_SCHEMA "hotline-year-profile/1"

enum profile_channel {
	PROFILE_CHANNEL_ONLINE_12320,
	PROFILE_CHANNEL_PHONE,
	PROFILE_CHANNEL_CLINIC,
	PROFILE_CHANNEL_THIRD_PARTY,
	PROFILE_CHANNEL_COUNT
};

struct profile_centre {
	char *code;
	char *name;
	int64_t calls;
};

struct profile_hospital {
	int64_t rank;
	char *hospital;
	int64_t by_channel[PROFILE_CHANNEL_COUNT];
	int64_t all;
};

struct profile_platform {
	int64_t rank;
	char *platform;
	int64_t bookings;
};

struct profile {
	char *profile; /* the profile's name */
	int year;
	char *centre_code;
	char *centre_name;

	int64_t calls_total;
	int64_t calls_by_category[CATEGORY_COUNT];

	int64_t work_orders_city;     /* work_orders.city_12345 */
	int64_t work_orders_province; /* work_orders.province_12345 */

	bool has_province;
	char *province_name;
	int64_t province_total;
	struct profile_centre *centres; /* province.by_centre, in file order */
	size_t n_centres;

	bool has_bookings;
	int64_t bookings_total[PROFILE_CHANNEL_COUNT];
	int64_t bookings_total_all;
	int64_t bookings_cumulative_all_years; /* informational, 0 when absent */
	struct profile_hospital *hospitals;
	size_t n_hospitals;

	bool has_platforms;
	int64_t platforms_total;
	struct profile_platform *platforms;
	size_t n_platforms;
};

/* Sections compared by profile_compare. */
enum profile_section {
	PROFILE_SECTION_CALLS = 1u << 0,
	PROFILE_SECTION_WORK_ORDERS = 1u << 1,
	PROFILE_SECTION_PROVINCE = 1u << 2,
	PROFILE_SECTION_BOOKINGS = 1u << 3,
	PROFILE_SECTION_PLATFORMS = 1u << 4,
	PROFILE_SECTION_ALL = 0x1f,
};

const char *profile_channel_name(enum profile_channel c);

/* Parses and validates a profile file. Returns 0 and *out (free with
 * profile_free), or -1 with a message naming file, line, column and field in
 * err. */
int profile_load_file(const char *path, struct profile **out, char *err, size_t err_len)
	__attribute__((warn_unused_result));
/* The same from a buffer; name is used in messages. */
int profile_load_buffer(const char *name, const char *buf, size_t len, struct profile **out,
			char *err, size_t err_len) __attribute__((warn_unused_result));

/* Checks the consistency rules (totals are sums, phone bookings <= booking calls,
 * platforms <= online + third party, own centre in province). Returns 0 or -1
 * with the field named in err. */
int profile_validate(const struct profile *p, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* A new profile with every itemised figure n replaced by round(n * scale)
 * (half away from zero), totals re-summed, ranks recomputed. scale in (0, 1]. */
struct profile *profile_scale(const struct profile *p, double scale);

/* Largest-remainder apportionment of total over weights (n entries) into out. */
void profile_apportion(int64_t total, const int64_t *weights, size_t n, int64_t *out);

/* Writes the profile as hotline-year-profile/1 YAML (UTF-8, names quoted as needed). */
int profile_write_yaml(const struct profile *p, FILE *f) __attribute__((warn_unused_result));
/* Writes the same content as one JSON object. */
int profile_write_json(const struct profile *p, FILE *f) __attribute__((warn_unused_result));

/* The object profile_write_json writes, as a new jansson value (free with
 * json_decref), for callers that add keys of their own (hotline-stats adds
 * "definitions"). NULL when out of memory or a name is not UTF-8. */
struct json_t;
struct json_t *profile_to_json(const struct profile *p) __attribute__((warn_unused_result));

/* Compares the given sections field by field (centres, hospitals and platforms
 * matched by code/name, not by order). Writes one line per difference to
 * report (may be NULL). Returns the number of differences. */
size_t profile_compare(const struct profile *expected, const struct profile *actual,
		       unsigned sections, FILE *report);

void profile_free(struct profile *p);

#endif
