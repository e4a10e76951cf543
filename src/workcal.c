/* workcal.c: loading the working-day calendar from YAML and answering
 * deadline questions against it.
 *
 * Loading turns every date into a day number (days since 1970-01-01) and
 * marks each day from December of the year before the first year to January
 * of the year after the last one: ordinary, make-up workday, or inside
 * holiday i. The neighbouring months are kept because a year's notice may
 * reach into them (2019's New Year holiday starts on 2018-12-30), but only
 * the listed years answer queries. Queries are then array lookups with no
 * allocation. Errors name the file, line, column and the field
 * ("years[2019].holidays[3].to"; list entries count from 0).
 */
#include "workcal.h"
#include "yamldoc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yaml.h>

#include "timeutil.h"

#define WORKCAL_NAME_MAX 64         /* bytes of a holiday name (UTF-8) */
#define WORKCAL_HOLIDAY_DAYS_MAX 31 /* the longest range a notice may give */
#define WORKCAL_YEAR_MIN 1970
#define WORKCAL_YEAR_MAX 9998 /* so that January of the year after has four digits */
#define WORKCAL_FIELD_MAX 80  /* "years[2019].holidays[12].name" */
#define WORKCAL_DATE_LEN 11   /* "2019-10-01" and its NUL */
#define WORKCAL_FILE "calendar file"

/* What a day is marked with: 0 is an ordinary day, WORKCAL_MARK_WORKDAY a
 * make-up workday, anything else 1 + the index of its holiday. */
#define WORKCAL_MARK_ORDINARY 0u
#define WORKCAL_MARK_WORKDAY UINT32_MAX

static const int64_t workcal_usec_per_hour = 3600LL * 1000000LL;

struct workcal_holiday {
	char *name;
	int64_t from; /* day numbers, both included */
	int64_t to;
	int year; /* where it was listed, for messages */
	size_t index;
};

struct workcal_workday {
	int64_t day;
	int year;
	size_t index;
};

struct workcal {
	int first_year;
	int last_year;
	int64_t first_day; /* first_year-01-01 */
	int64_t last_day;  /* last_year-12-31 */
	int64_t base_day;  /* day number of marks[0]: December 1 of first_year - 1 */
	size_t n_days;
	uint32_t *marks;
	struct workcal_holiday *holidays;
	size_t n_holidays;
	struct workcal_workday *workdays;
	size_t n_workdays;
};

/* ---- dates ------------------------------------------------------------------ */

static bool workcal_valid_date(int year, int month, int day)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1)
		return false;
	if (month == 2 && timeutil_days_in_year(year) == 366)
		return day <= 29;
	return day <= dm[month - 1];
}

/* ISO weekday of a day number: 1 = Monday .. 7 = Sunday (1970-01-01 was a
 * Thursday). */
static int workcal_weekday(int64_t day)
{
	int64_t r = (day + 3) % 7;
	return (int)(r < 0 ? r + 7 : r) + 1;
}

static const char *workcal_weekday_name(int weekday)
{
	static const char *const names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
					    "Friday", "Saturday", "Sunday"};
	return names[weekday - 1];
}

static void workcal_format_day(int64_t day, char out[WORKCAL_DATE_LEN])
{
	int y, m, d;
	timeutil_civil_from_days(day, &y, &m, &d);
	snprintf(out, WORKCAL_DATE_LEN, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
		 (unsigned)d % 100u);
}

/* ---- the calendar ------------------------------------------------------------- */

void workcal_free(struct workcal *cal)
{
	if (cal == NULL)
		return;
	for (size_t i = 0; i < cal->n_holidays; i++)
		free(cal->holidays[i].name);
	free(cal->holidays);
	free(cal->workdays);
	free(cal->marks);
	free(cal);
}

int workcal_first_year(const struct workcal *cal)
{
	return cal->first_year;
}

int workcal_last_year(const struct workcal *cal)
{
	return cal->last_year;
}

/* The mark of a day number inside the covered years; the caller checks. */
static uint32_t workcal_mark(const struct workcal *cal, int64_t day)
{
	return cal->marks[day - cal->base_day];
}

static bool workcal_covers(const struct workcal *cal, int64_t day)
{
	return day >= cal->first_day && day <= cal->last_day;
}

static bool workcal_day_is_working(const struct workcal *cal, int64_t day)
{
	uint32_t mark = workcal_mark(cal, day);
	if (mark == WORKCAL_MARK_WORKDAY)
		return true;
	if (mark != WORKCAL_MARK_ORDINARY)
		return false;
	return workcal_weekday(day) <= 5;
}

enum workcal_day workcal_is_working_day(const struct workcal *cal, int year, int month, int day)
{
	if (!workcal_valid_date(year, month, day))
		return WORKCAL_DAY_NO_SUCH_DATE;
	int64_t n = timeutil_days_from_civil(year, (unsigned)month, (unsigned)day);
	if (!workcal_covers(cal, n))
		return WORKCAL_DAY_UNKNOWN;
	return workcal_day_is_working(cal, n) ? WORKCAL_DAY_WORKING : WORKCAL_DAY_NOT_WORKING;
}

const char *workcal_holiday_name(const struct workcal *cal, int year, int month, int day)
{
	if (!workcal_valid_date(year, month, day))
		return NULL;
	int64_t n = timeutil_days_from_civil(year, (unsigned)month, (unsigned)day);
	if (!workcal_covers(cal, n))
		return NULL;
	uint32_t mark = workcal_mark(cal, n);
	if (mark == WORKCAL_MARK_ORDINARY || mark == WORKCAL_MARK_WORKDAY)
		return NULL;
	return cal->holidays[mark - 1].name;
}

/* Walks forward from the local date of start, which is not counted, to the
 * n-th working day, and answers the local midnight that ends it. Every day
 * looked at must be covered; the start day itself need not be, since its
 * kind never matters. */
int workcal_add_working_days(const struct workcal *cal, int64_t start_usec, int n,
			     int64_t *due_usec)
{
	time_t secs = (time_t)(start_usec / 1000000);
	struct tm tm;
	int y, m, d;

	if (n < 1)
		return -EINVAL;
	if (start_usec % 1000000 < 0)
		secs -= 1;
	if (localtime_r(&secs, &tm) == NULL)
		return -ERANGE;
	int64_t day = timeutil_days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
					      (unsigned)tm.tm_mday);
	for (int counted = 0; counted < n;) {
		day++;
		if (!workcal_covers(cal, day))
			return -ERANGE;
		if (workcal_day_is_working(cal, day))
			counted++;
	}
	timeutil_civil_from_days(day + 1, &y, &m, &d);
	*due_usec = timeutil_local_midnight(y, m, d);
	return 0;
}

int64_t workcal_add_hours(int64_t start_usec, int hours)
{
	return start_usec + (int64_t)hours * workcal_usec_per_hour;
}

enum workcal_status workcal_status(int64_t due_usec, int64_t now_usec, int64_t yellow_usec)
{
	if (now_usec >= due_usec)
		return WORKCAL_OVERDUE;
	/* The time left is positive and fits in 64 unsigned bits whatever the
	 * operands, so no subtraction here can overflow. */
	uint64_t left = (uint64_t)due_usec - (uint64_t)now_usec;
	if (yellow_usec > 0 && left <= (uint64_t)yellow_usec)
		return WORKCAL_NEAR_DUE;
	return WORKCAL_ON_TIME;
}

const char *workcal_status_name(enum workcal_status s)
{
	switch (s) {
	case WORKCAL_ON_TIME:
		return "on_time";
	case WORKCAL_NEAR_DUE:
		return "near_due";
	case WORKCAL_OVERDUE:
		return "overdue";
	}
	return "unknown";
}

/* ---- loading: the calendar ---------------------------------------------------- */

/* Writes the path of a child field ("years[2019].holidays[3]" + "to").
 * Parents are at most 42 characters, so the bounds never cut a real one. */
static void workcal_field(char out[WORKCAL_FIELD_MAX], const char *parent, const char *child)
{
	snprintf(out, WORKCAL_FIELD_MAX, "%.56s.%.16s", parent, child);
}

/* Reads exactly n digits of s into *out. */
static bool workcal_digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Reads a year key: four digits in range. */
static int workcal_parse_year(const struct yamldoc_reader *ld, const yaml_node_t *node, int *year)
{
	if (yamldoc_expect_scalar(ld, node, "years") != 0)
		return -1;
	const char *v = (const char *)node->data.scalar.value;
	if (node->data.scalar.length != 4 || !workcal_digits(v, 4, year) ||
	    *year < WORKCAL_YEAR_MIN || *year > WORKCAL_YEAR_MAX) {
		yamldoc_error(ld, node, "years",
			      "'%s' is not a year; use four digits from %d to %d, e.g. 2019", v,
			      WORKCAL_YEAR_MIN, WORKCAL_YEAR_MAX);
		return -1;
	}
	return 0;
}

/* Reads a date "YYYY-MM-DD" listed under year into a day number. A year's
 * notice may reach into December of the year before and January of the year
 * after, no further. */
static int workcal_parse_date(const struct yamldoc_reader *ld, const yaml_node_t *node,
			      const char *field, int year, int64_t *day)
{
	int y, m, d;

	if (yamldoc_expect_scalar(ld, node, field) != 0)
		return -1;
	const char *v = (const char *)node->data.scalar.value;
	if (node->data.scalar.length != 10 || v[4] != '-' || v[7] != '-' ||
	    !workcal_digits(v, 4, &y) || !workcal_digits(v + 5, 2, &m) ||
	    !workcal_digits(v + 8, 2, &d) || !workcal_valid_date(y, m, d)) {
		yamldoc_error(ld, node, field, "'%s' is not a date YYYY-MM-DD (e.g. 2019-10-01)",
			      v);
		return -1;
	}
	*day = timeutil_days_from_civil(y, (unsigned)m, (unsigned)d);
	if (*day < timeutil_days_from_civil(year - 1, 12, 1) ||
	    *day > timeutil_days_from_civil(year + 1, 1, 31)) {
		yamldoc_error(ld, node, field,
			      "%s is not in %d; a year lists its own dates and at most "
			      "December of the year before and January of the year after",
			      v, year);
		return -1;
	}
	return 0;
}

/* Makes room for item n of an array of n items whose capacity is 8, then
 * doubles: it grows when n is 0, or 8 or more and a power of two. */
static int workcal_grow(void **items, size_t n, size_t size)
{
	if (n != 0 && (n < 8 || (n & (n - 1)) != 0))
		return 0;
	void *bigger = realloc(*items, (n ? n * 2 : 8) * size);
	if (bigger == NULL)
		return -1;
	*items = bigger;
	return 0;
}

/* Describes what already marks a day, for conflict messages. */
static void workcal_describe_mark(const struct workcal *cal, int64_t day, char *out, size_t len)
{
	uint32_t mark = cal->marks[day - cal->base_day];
	if (mark == WORKCAL_MARK_WORKDAY) {
		snprintf(out, len, "a make-up workday");
		for (size_t i = 0; i < cal->n_workdays; i++) {
			const struct workcal_workday *w = &cal->workdays[i];
			if (w->day == day)
				snprintf(out, len, "a make-up workday (years[%d].workdays[%zu])",
					 w->year, w->index);
		}
		return;
	}
	const struct workcal_holiday *h = &cal->holidays[mark - 1];
	snprintf(out, len, "in years[%d].holidays[%zu] (%s)", h->year, h->index, h->name);
}

static int workcal_parse_holiday(const struct yamldoc_reader *ld, const yaml_node_t *node, int year,
				 size_t index, struct workcal *cal)
{
	static const char *const keys[] = {"name", "from", "to", NULL};
	char field[WORKCAL_FIELD_MAX], sub[WORKCAL_FIELD_MAX];
	const yaml_node_t *v;
	struct workcal_holiday h = {.year = year, .index = index};

	snprintf(field, sizeof field, "years[%d].holidays[%zu]", year, index);
	if (yamldoc_expect_mapping(ld, node, field,
				   "{name: 国庆节, from: 2019-10-01, to: 2019-10-07}") != 0 ||
	    yamldoc_check_keys(ld, node, field, keys) != 0)
		return -1;

	workcal_field(sub, field, "name");
	if ((v = yamldoc_require(ld, node, field, "name")) == NULL ||
	    yamldoc_expect_scalar(ld, v, sub) != 0)
		return -1;
	const char *name = (const char *)v->data.scalar.value;
	size_t name_len = v->data.scalar.length;
	if (name_len == 0 || name_len > WORKCAL_NAME_MAX || strlen(name) != name_len) {
		yamldoc_error(ld, v, sub, "'%s' is not a holiday name of 1 to %d bytes", name,
			      WORKCAL_NAME_MAX);
		return -1;
	}

	workcal_field(sub, field, "from");
	if ((v = yamldoc_require(ld, node, field, "from")) == NULL ||
	    workcal_parse_date(ld, v, sub, year, &h.from) != 0)
		return -1;
	workcal_field(sub, field, "to");
	if ((v = yamldoc_require(ld, node, field, "to")) == NULL ||
	    workcal_parse_date(ld, v, sub, year, &h.to) != 0)
		return -1;
	if (h.to < h.from) {
		char from[WORKCAL_DATE_LEN];
		workcal_format_day(h.from, from);
		yamldoc_error(ld, v, sub,
			      "date before from (%s is before %s); a one-day holiday has "
			      "the same date in both",
			      (const char *)v->data.scalar.value, from);
		return -1;
	}
	if (h.to - h.from + 1 > WORKCAL_HOLIDAY_DAYS_MAX) {
		yamldoc_error(ld, v, sub,
			      "makes a holiday of %lld days; no notice gives more than %d, "
			      "check the dates",
			      (long long)(h.to - h.from + 1), WORKCAL_HOLIDAY_DAYS_MAX);
		return -1;
	}
	for (int64_t day = h.from; day <= h.to; day++) {
		if (cal->marks[day - cal->base_day] != WORKCAL_MARK_ORDINARY) {
			char date[WORKCAL_DATE_LEN], what[192];
			workcal_format_day(day, date);
			workcal_describe_mark(cal, day, what, sizeof what);
			yamldoc_error(ld, node, field, "%s is already %s; a day has one kind", date,
				      what);
			return -1;
		}
	}

	if (workcal_grow((void **)&cal->holidays, cal->n_holidays, sizeof *cal->holidays) != 0 ||
	    (h.name = strdup(name)) == NULL) {
		yamldoc_error(ld, node, field, "out of memory");
		return -1;
	}
	cal->holidays[cal->n_holidays++] = h;
	for (int64_t day = h.from; day <= h.to; day++)
		cal->marks[day - cal->base_day] = (uint32_t)cal->n_holidays;
	return 0;
}

static int workcal_parse_workday(const struct yamldoc_reader *ld, const yaml_node_t *node, int year,
				 size_t index, struct workcal *cal)
{
	char field[WORKCAL_FIELD_MAX];
	int64_t day;

	snprintf(field, sizeof field, "years[%d].workdays[%zu]", year, index);
	if (workcal_parse_date(ld, node, field, year, &day) != 0)
		return -1;
	const char *v = (const char *)node->data.scalar.value;
	int weekday = workcal_weekday(day);
	if (weekday <= 5) {
		yamldoc_error(ld, node, field,
			      "%s is a %s, a working day anyway; make-up workdays are "
			      "Saturdays or Sundays",
			      v, workcal_weekday_name(weekday));
		return -1;
	}
	if (cal->marks[day - cal->base_day] != WORKCAL_MARK_ORDINARY) {
		char what[192];
		workcal_describe_mark(cal, day, what, sizeof what);
		yamldoc_error(ld, node, field, "%s is already %s; a day has one kind", v, what);
		return -1;
	}
	if (workcal_grow((void **)&cal->workdays, cal->n_workdays, sizeof *cal->workdays) != 0) {
		yamldoc_error(ld, node, field, "out of memory");
		return -1;
	}
	cal->workdays[cal->n_workdays++] =
		(struct workcal_workday){.day = day, .year = year, .index = index};
	cal->marks[day - cal->base_day] = WORKCAL_MARK_WORKDAY;
	return 0;
}

static int workcal_parse_year_entry(const struct yamldoc_reader *ld, const yaml_node_t *node,
				    int year, struct workcal *cal)
{
	static const char *const keys[] = {"holidays", "workdays", NULL};
	char field[WORKCAL_FIELD_MAX], sub[WORKCAL_FIELD_MAX];
	const yaml_node_t *v;

	snprintf(field, sizeof field, "years[%d]", year);
	if (yamldoc_expect_mapping(ld, node, field, "{holidays: [...], workdays: [...]}") != 0 ||
	    yamldoc_check_keys(ld, node, field, keys) != 0)
		return -1;

	workcal_field(sub, field, "holidays");
	if ((v = yamldoc_require(ld, node, field, "holidays")) == NULL)
		return -1;
	if (v->type != YAML_SEQUENCE_NODE || yamldoc_list_length(v) == 0) {
		yamldoc_error(ld, v, sub,
			      "expected a non-empty list of holidays like [{name: 元旦, "
			      "from: %d-01-01, to: %d-01-01}]",
			      year, year);
		return -1;
	}
	for (size_t i = 0; i < yamldoc_list_length(v); i++) {
		if (workcal_parse_holiday(ld, yamldoc_list_item(ld, v, i), year, i, cal) != 0)
			return -1;
	}

	workcal_field(sub, field, "workdays");
	if ((v = yamldoc_require(ld, node, field, "workdays")) == NULL)
		return -1;
	if (v->type != YAML_SEQUENCE_NODE) {
		yamldoc_error(ld, v, sub,
			      "expected a list of dates like [%d-09-29], or [] when the "
			      "notice has no make-up workday",
			      year);
		return -1;
	}
	for (size_t i = 0; i < yamldoc_list_length(v); i++) {
		if (workcal_parse_workday(ld, yamldoc_list_item(ld, v, i), year, i, cal) != 0)
			return -1;
	}
	return 0;
}

/* Reads the years mapping: first the keys, which must run without a gap so
 * that no date inside the range is guessed, then each year's entry. */
static int workcal_parse_years(const struct yamldoc_reader *ld, const yaml_node_t *years,
			       struct workcal *cal)
{
	const yaml_node_pair_t *start = years->data.mapping.pairs.start;
	const yaml_node_pair_t *top = years->data.mapping.pairs.top;
	int prev = 0;

	if (start == top) {
		yamldoc_error(ld, years, "years", "is empty; list at least one year");
		return -1;
	}
	for (const yaml_node_pair_t *pair = start; pair < top; pair++) {
		const yaml_node_t *key = yaml_document_get_node(ld->doc, pair->key);
		int year;
		if (workcal_parse_year(ld, key, &year) != 0)
			return -1;
		if (pair != start && year <= prev) {
			yamldoc_error(ld, key, "years",
				      "%d comes after %d; list the years in order, each once", year,
				      prev);
			return -1;
		}
		if (pair != start && year > prev + 1) {
			yamldoc_error(ld, key, "years",
				      "%d follows %d; every year between must be listed, or "
				      "its dates would be guessed",
				      year, prev);
			return -1;
		}
		if (pair == start)
			cal->first_year = year;
		prev = year;
	}
	cal->last_year = prev;
	cal->first_day = timeutil_days_from_civil(cal->first_year, 1, 1);
	cal->last_day = timeutil_days_from_civil(cal->last_year, 12, 31);
	cal->base_day = timeutil_days_from_civil(cal->first_year - 1, 12, 1);
	cal->n_days =
		(size_t)(timeutil_days_from_civil(cal->last_year + 1, 1, 31) - cal->base_day + 1);
	cal->marks = calloc(cal->n_days, sizeof *cal->marks);
	if (cal->marks == NULL) {
		yamldoc_error(ld, years, "years", "out of memory");
		return -1;
	}

	int year = cal->first_year;
	for (const yaml_node_pair_t *pair = start; pair < top; pair++, year++) {
		const yaml_node_t *entry = yaml_document_get_node(ld->doc, pair->value);
		if (workcal_parse_year_entry(ld, entry, year, cal) != 0)
			return -1;
	}
	return 0;
}

static int workcal_parse_root(const struct yamldoc_reader *ld, const yaml_node_t *root,
			      struct workcal *cal)
{
	static const char *const keys[] = {"years", NULL};
	const yaml_node_t *v;

	if (root->type != YAML_MAPPING_NODE) {
		yamldoc_error(ld, root, WORKCAL_FILE, "expected a mapping with 'years', found %s",
			      yamldoc_node_kind(root));
		return -1;
	}
	if (yamldoc_check_keys(ld, root, WORKCAL_FILE, keys) != 0 ||
	    (v = yamldoc_require(ld, root, WORKCAL_FILE, "years")) == NULL ||
	    yamldoc_expect_mapping(ld, v, "years", "{2019: {holidays: [...], workdays: [...]}}") !=
		    0)
		return -1;
	return workcal_parse_years(ld, v, cal);
}

/* Reads the calendar from a loaded document; messages name name. The
 * caller deletes doc. */
static int workcal_read_document(const char *name, yaml_document_t *doc, struct workcal **out,
				 char *err, size_t err_len)
{
	const struct yamldoc_reader ld = {.name = name, .doc = doc, .err = err, .err_len = err_len};

	const yaml_node_t *root = yaml_document_get_root_node(doc);
	if (root == NULL) {
		snprintf(err, err_len, "%s:1:1: %s: is empty; it needs 'years'", name,
			 WORKCAL_FILE);
		return -1;
	}
	struct workcal *cal = calloc(1, sizeof *cal);
	if (cal == NULL) {
		snprintf(err, err_len, "%s: out of memory", name);
		return -1;
	}
	if (workcal_parse_root(&ld, root, cal) != 0) {
		workcal_free(cal);
		return -1;
	}
	*out = cal;
	return 0;
}

int workcal_load_buffer(const char *name, const char *buf, size_t len, struct workcal **out,
			char *err, size_t err_len)
{
	yaml_document_t doc;

	*out = NULL;
	if (err_len > 0)
		err[0] = '\0';
	if (yamldoc_load(name, buf, len, WORKCAL_FILE, &doc, err, err_len) != 0)
		return -1;
	int rc = workcal_read_document(name, &doc, out, err, err_len);
	yaml_document_delete(&doc);
	return rc;
}

int workcal_load_file(const char *path, struct workcal **out, char *err, size_t err_len)
{
	yaml_document_t doc;

	*out = NULL;
	if (err_len > 0)
		err[0] = '\0';
	if (yamldoc_load_file(path, WORKCAL_FILE, &doc, err, err_len) != 0)
		return -1;
	int rc = workcal_read_document(path, &doc, out, err, err_len);
	yaml_document_delete(&doc);
	return rc;
}
