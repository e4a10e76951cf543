/* profile.c: year profiles (hotline-year-profile/1): parsing with positions,
 * validation, scaling, apportionment, YAML/JSON output and field-by-field
 * comparison. The schema and its rules are in data/PROFILES.md.
 *
 * Field paths in messages are dotted, with list positions counted from 0:
 * "province.by_centre[2].calls". Comparison lines name rows by their key
 * instead: "province.by_centre[suzhou].calls".
 */
#include "profile.h"
#include "readfile.h"
#include "yamldoc.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

/* No single figure of a year comes near this; it keeps sums far from overflow. */
#define PROFILE_FIGURE_MAX INT64_C(1000000000000000)
#define PROFILE_FILE_MAX (64L * 1024 * 1024)
#define PROFILE_PATH_MAX 128

__extension__ typedef __int128 profile_int128;

static const char *const profile_channel_names[PROFILE_CHANNEL_COUNT] = {
	"online_12320",
	"phone",
	"clinic",
	"third_party",
};

const char *profile_channel_name(enum profile_channel c)
{
	return (unsigned)c < PROFILE_CHANNEL_COUNT ? profile_channel_names[c] : "unknown";
}

void profile_free(struct profile *p)
{
	if (p == NULL)
		return;
	free(p->profile);
	free(p->centre_code);
	free(p->centre_name);
	free(p->province_name);
	for (size_t i = 0; i < p->n_centres; i++) {
		free(p->centres[i].code);
		free(p->centres[i].name);
	}
	free(p->centres);
	for (size_t i = 0; i < p->n_hospitals; i++)
		free(p->hospitals[i].hospital);
	free(p->hospitals);
	for (size_t i = 0; i < p->n_platforms; i++)
		free(p->platforms[i].platform);
	free(p->platforms);
	free(p);
}

/* ------------------------------------------------------------------------ */
/* Validation                                                                */
/* ------------------------------------------------------------------------ */

static bool profile_code_is_valid(const char *code)
{
	size_t n = 0;

	if (code == NULL)
		return false;
	for (const char *c = code; *c; c++, n++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
		      *c == '-'))
			return false;
	}
	return n >= 1 && n <= 32;
}

/* Formats a field path into out (PROFILE_PATH_MAX bytes); paths that do not
 * fit are cut, which only shortens a message. */
__attribute__((format(printf, 2, 3))) static void profile_path(char *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, PROFILE_PATH_MAX, fmt, ap);
	va_end(ap);
}

struct profile_key_index {
	const char *key;
	size_t index;
};

static int profile_compare_key_index(const void *a, const void *b)
{
	const struct profile_key_index *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Finds two rows with the same key (keys[i] for i < n, via a stride over an
 * array of rows). Returns true and the earlier and later positions of the
 * duplicate whose later position comes first in the list; false when all keys
 * differ or memory runs out (then *oom is set). */
static bool profile_find_duplicate(const void *rows, size_t n, size_t stride, size_t key_offset,
				   size_t *first, size_t *later, bool *oom)
{
	struct profile_key_index *ix;
	bool found = false;

	*oom = false;
	if (n < 2)
		return false;
	ix = calloc(n, sizeof *ix);
	if (ix == NULL) {
		*oom = true;
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		const char *row = (const char *)rows + i * stride;
		ix[i].key = *(char *const *)(row + key_offset);
		ix[i].index = i;
	}
	qsort(ix, n, sizeof *ix, profile_compare_key_index);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(ix[i - 1].key, ix[i].key) == 0 && (!found || ix[i].index < *later)) {
			*first = ix[i - 1].index;
			*later = ix[i].index;
			found = true;
		}
	}
	free(ix);
	return found;
}

/* Sets path (from at) and the message; always returns -1, so that checks
 * read "return CHECK_FAIL(...)". */
__attribute__((format(printf, 6, 7))) static int profile_fail_check(char *path, size_t path_len,
								    const char *at, char *msg,
								    size_t msg_len,
								    const char *fmt, ...)
{
	va_list ap;

	snprintf(path, path_len, "%s", at);
	va_start(ap, fmt);
	vsnprintf(msg, msg_len, fmt, ap);
	va_end(ap);
	return -1;
}

#define CHECK_FAIL(...) profile_fail_check(path, path_len, check_path, msg, msg_len, __VA_ARGS__)

static bool profile_add(int64_t *sum, int64_t v)
{
	return !__builtin_add_overflow(*sum, v, sum);
}

/* The consistency rules of PROFILES.md over a profile in memory. On failure
 * returns -1 with the offending field's path (as the loader records it, so
 * that it can add the line and column) and a message for a person. */
static int profile_check(const struct profile *p, char *path, size_t path_len, char *msg,
			 size_t msg_len)
{
	char check_path[PROFILE_PATH_MAX];
	int64_t sum;
	bool oom;
	size_t first, later;

#define AT(...) profile_path(check_path, __VA_ARGS__)
#define FIGURE(value, ...)                                                                         \
	do {                                                                                       \
		if ((value) < 0 || (value) > PROFILE_FIGURE_MAX) {                                 \
			AT(__VA_ARGS__);                                                           \
			return CHECK_FAIL("expected a non-negative integer up to 10^15, got %" PRId64, \
					  (int64_t)(value));                                       \
		}                                                                                  \
	} while (0)

	AT("profile");
	if (p->profile == NULL || p->profile[0] == '\0')
		return CHECK_FAIL("expected a non-empty name");
	AT("year");
	if (p->year < 1970 || p->year > 9999)
		return CHECK_FAIL("expected a year from 1970 to 9999, got %d", p->year);
	AT("centre.code");
	if (!profile_code_is_valid(p->centre_code))
		return CHECK_FAIL("expected 1 to 32 characters of a-z, 0-9, '_' and '-', got \"%s\"",
				  p->centre_code ? p->centre_code : "");
	AT("centre.name");
	if (p->centre_name == NULL || p->centre_name[0] == '\0')
		return CHECK_FAIL("expected a non-empty name");

	sum = 0;
	for (int c = 0; c < CATEGORY_COUNT; c++) {
		FIGURE(p->calls_by_category[c], "calls.by_category.%s",
		       category_name((enum category)c));
		profile_add(&sum, p->calls_by_category[c]);
	}
	FIGURE(p->calls_total, "calls.total");
	AT("calls.total");
	if (p->calls_total != sum)
		return CHECK_FAIL("expected %" PRId64 " (the sum of calls.by_category), got %" PRId64,
				  sum, p->calls_total);
	FIGURE(p->work_orders_city, "work_orders.city_12345");
	FIGURE(p->work_orders_province, "work_orders.province_12345");

	if (p->has_province) {
		bool own_found = false;

		AT("province.name");
		if (p->province_name == NULL)
			return CHECK_FAIL("expected a name");
		sum = 0;
		for (size_t i = 0; i < p->n_centres; i++) {
			const struct profile_centre *c = &p->centres[i];
			AT("province.by_centre[%zu].code", i);
			if (!profile_code_is_valid(c->code))
				return CHECK_FAIL("expected 1 to 32 characters of a-z, 0-9, '_' and "
						  "'-', got \"%s\"",
						  c->code ? c->code : "");
			AT("province.by_centre[%zu].name", i);
			if (c->name == NULL || c->name[0] == '\0')
				return CHECK_FAIL("expected a non-empty name");
			FIGURE(c->calls, "province.by_centre[%zu].calls", i);
			if (!profile_add(&sum, c->calls)) {
				AT("province.total");
				return CHECK_FAIL("the sum of province.by_centre is too large");
			}
			if (strcmp(c->code, p->centre_code) == 0) {
				own_found = true;
				AT("province.by_centre[%zu].calls", i);
				if (c->calls != p->calls_total)
					return CHECK_FAIL("expected %" PRId64
							  " (calls.total of the profile's own "
							  "centre %s), got %" PRId64,
							  p->calls_total, p->centre_code, c->calls);
			}
		}
		if (profile_find_duplicate(p->centres, p->n_centres, sizeof *p->centres,
					   offsetof(struct profile_centre, code), &first, &later,
					   &oom)) {
			AT("province.by_centre[%zu].code", later);
			return CHECK_FAIL("\"%s\" is already the code of province.by_centre[%zu]",
					  p->centres[later].code, first);
		}
		if (!oom &&
		    profile_find_duplicate(p->centres, p->n_centres, sizeof *p->centres,
					   offsetof(struct profile_centre, name), &first, &later,
					   &oom)) {
			AT("province.by_centre[%zu].name", later);
			return CHECK_FAIL("\"%s\" is already the name of province.by_centre[%zu]",
					  p->centres[later].name, first);
		}
		if (oom) {
			AT("province.by_centre");
			return CHECK_FAIL("out of memory");
		}
		if (!own_found) {
			AT("province.by_centre");
			return CHECK_FAIL("the profile's own centre \"%s\" is missing",
					  p->centre_code);
		}
		FIGURE(p->province_total, "province.total");
		AT("province.total");
		if (p->province_total != sum)
			return CHECK_FAIL("expected %" PRId64
					  " (the sum of province.by_centre), got %" PRId64,
					  sum, p->province_total);
	}

	int64_t online_and_third_party = 0;
	if (p->has_bookings) {
		int64_t channel_sum[PROFILE_CHANNEL_COUNT] = {0};

		for (size_t i = 0; i < p->n_hospitals; i++) {
			const struct profile_hospital *h = &p->hospitals[i];
			int64_t row = 0;
			AT("bookings.by_hospital[%zu].hospital", i);
			if (h->hospital == NULL || h->hospital[0] == '\0')
				return CHECK_FAIL("expected a non-empty name");
			for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++) {
				FIGURE(h->by_channel[c], "bookings.by_hospital[%zu].%s", i,
				       profile_channel_names[c]);
				profile_add(&row, h->by_channel[c]);
				if (!profile_add(&channel_sum[c], h->by_channel[c])) {
					AT("bookings.total.%s", profile_channel_names[c]);
					return CHECK_FAIL("the sum of bookings.by_hospital is too "
							  "large");
				}
			}
			FIGURE(h->all, "bookings.by_hospital[%zu].all", i);
			AT("bookings.by_hospital[%zu].all", i);
			if (h->all != row)
				return CHECK_FAIL("expected %" PRId64
						  " (the sum of the row's channels), got %" PRId64,
						  row, h->all);
			AT("bookings.by_hospital[%zu].rank", i);
			if (h->rank != (int64_t)i + 1)
				return CHECK_FAIL("expected %zu: rows are listed by rank, from 1",
						  i + 1);
			if (i > 0 && h->all > p->hospitals[i - 1].all)
				return CHECK_FAIL("all (%" PRId64 ") is larger than the row above "
						  "(%" PRId64 "); rows are ranked by all, descending",
						  h->all, p->hospitals[i - 1].all);
		}
		if (profile_find_duplicate(p->hospitals, p->n_hospitals, sizeof *p->hospitals,
					   offsetof(struct profile_hospital, hospital), &first,
					   &later, &oom)) {
			AT("bookings.by_hospital[%zu].hospital", later);
			return CHECK_FAIL("\"%s\" is already the name of bookings.by_hospital[%zu]",
					  p->hospitals[later].hospital, first);
		}
		if (oom) {
			AT("bookings.by_hospital");
			return CHECK_FAIL("out of memory");
		}
		sum = 0;
		for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++) {
			FIGURE(p->bookings_total[c], "bookings.total.%s", profile_channel_names[c]);
			AT("bookings.total.%s", profile_channel_names[c]);
			if (p->bookings_total[c] != channel_sum[c])
				return CHECK_FAIL("expected %" PRId64
						  " (the sum of bookings.by_hospital), got %" PRId64,
						  channel_sum[c], p->bookings_total[c]);
			profile_add(&sum, p->bookings_total[c]);
		}
		FIGURE(p->bookings_total_all, "bookings.total.all");
		AT("bookings.total.all");
		if (p->bookings_total_all != sum)
			return CHECK_FAIL("expected %" PRId64
					  " (the sum of the channel totals), got %" PRId64,
					  sum, p->bookings_total_all);
		FIGURE(p->bookings_cumulative_all_years, "bookings.cumulative_all_years");
		AT("bookings.total.phone");
		if (p->bookings_total[PROFILE_CHANNEL_PHONE] > p->calls_by_category[CATEGORY_BOOKING])
			return CHECK_FAIL("%" PRId64 " phone bookings exceed the %" PRId64
					  " booking calls of calls.by_category.booking",
					  p->bookings_total[PROFILE_CHANNEL_PHONE],
					  p->calls_by_category[CATEGORY_BOOKING]);
		online_and_third_party = p->bookings_total[PROFILE_CHANNEL_ONLINE_12320] +
					 p->bookings_total[PROFILE_CHANNEL_THIRD_PARTY];
	}

	if (p->has_platforms) {
		sum = 0;
		for (size_t i = 0; i < p->n_platforms; i++) {
			const struct profile_platform *pl = &p->platforms[i];
			AT("booking_platforms.by_platform[%zu].platform", i);
			if (pl->platform == NULL || pl->platform[0] == '\0')
				return CHECK_FAIL("expected a non-empty name");
			FIGURE(pl->bookings, "booking_platforms.by_platform[%zu].bookings", i);
			if (!profile_add(&sum, pl->bookings)) {
				AT("booking_platforms.total");
				return CHECK_FAIL("the sum of booking_platforms.by_platform is too "
						  "large");
			}
			AT("booking_platforms.by_platform[%zu].rank", i);
			if (pl->rank != (int64_t)i + 1)
				return CHECK_FAIL("expected %zu: rows are listed by rank, from 1",
						  i + 1);
			if (i > 0 && pl->bookings > p->platforms[i - 1].bookings)
				return CHECK_FAIL("bookings (%" PRId64 ") is larger than the row "
						  "above (%" PRId64 "); rows are ranked by bookings, "
						  "descending",
						  pl->bookings, p->platforms[i - 1].bookings);
		}
		if (profile_find_duplicate(p->platforms, p->n_platforms, sizeof *p->platforms,
					   offsetof(struct profile_platform, platform), &first,
					   &later, &oom)) {
			AT("booking_platforms.by_platform[%zu].platform", later);
			return CHECK_FAIL("\"%s\" is already the name of "
					  "booking_platforms.by_platform[%zu]",
					  p->platforms[later].platform, first);
		}
		if (oom) {
			AT("booking_platforms.by_platform");
			return CHECK_FAIL("out of memory");
		}
		FIGURE(p->platforms_total, "booking_platforms.total");
		AT("booking_platforms.total");
		if (p->platforms_total != sum)
			return CHECK_FAIL("expected %" PRId64
					  " (the sum of booking_platforms.by_platform), got %" PRId64,
					  sum, p->platforms_total);
		if (p->platforms_total > online_and_third_party)
			return CHECK_FAIL("%" PRId64 " platform bookings exceed the %" PRId64
					  " online_12320 + third_party bookings of bookings.total",
					  p->platforms_total, online_and_third_party);
	}
	return 0;
#undef AT
#undef FIGURE
}

int profile_validate(const struct profile *p, char *err, size_t err_len)
{
	char path[PROFILE_PATH_MAX], msg[512];

	if (profile_check(p, path, sizeof path, msg, sizeof msg) == 0)
		return 0;
	snprintf(err, err_len, "%s: %s", path, msg);
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */
/* ------------------------------------------------------------------------ */

/* Where each field came from, so that the consistency checks, which run on
 * the finished struct, can still point at a line and column. */
struct profile_mark {
	char path[PROFILE_PATH_MAX];
	yaml_mark_t mark;
};

struct profile_loader {
	const char *name;
	const char *buf;
	size_t len;
	yaml_document_t *doc;
	struct profile *p;
	struct profile_mark *marks;
	size_t n_marks, cap_marks;
	char *err;
	size_t err_len;
};

/* Formats "NAME:LINE:COL: PATH: message" (PATH left out when empty); returns -1. */
__attribute__((format(printf, 4, 5))) static int loader_fail_at(struct profile_loader *l,
								 yaml_mark_t mark, const char *path,
								 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(l->err, l->err_len, "%s:%zu:%zu: %s%s%s", l->name, mark.line + 1, mark.column + 1,
		 path, *path ? ": " : "", msg);
	return -1;
}

#define loader_fail(l, node, path, ...) loader_fail_at((l), (node)->start_mark, (path), __VA_ARGS__)

static int loader_remember(struct profile_loader *l, const char *path, const yaml_node_t *node)
{
	if (l->n_marks == l->cap_marks) {
		size_t cap = l->cap_marks ? l->cap_marks * 2 : 256;
		struct profile_mark *grown = realloc(l->marks, cap * sizeof *grown);
		if (grown == NULL)
			return loader_fail(l, node, path, "out of memory");
		l->marks = grown;
		l->cap_marks = cap;
	}
	snprintf(l->marks[l->n_marks].path, PROFILE_PATH_MAX, "%s", path);
	l->marks[l->n_marks].mark = node->start_mark;
	l->n_marks++;
	return 0;
}

/* The mark of path, or of its nearest recorded parent ("a.b[2].c" -> "a.b[2]"
 * -> "a.b" -> "a"), or the start of the file. */
static yaml_mark_t loader_find_mark(const struct profile_loader *l, const char *path)
{
	char probe[PROFILE_PATH_MAX];
	yaml_mark_t none = {0, 0, 0};

	snprintf(probe, sizeof probe, "%s", path);
	for (;;) {
		for (size_t i = 0; i < l->n_marks; i++)
			if (strcmp(l->marks[i].path, probe) == 0)
				return l->marks[i].mark;
		char *dot = strrchr(probe, '.');
		char *bracket = strrchr(probe, '[');
		char *cut = dot > bracket ? dot : bracket;
		if (cut == NULL)
			return none;
		*cut = '\0';
	}
}

static void loader_path(char *out, const char *base, const char *key)
{
	profile_path(out, "%s%s%s", base, *base ? "." : "", key);
}

/* Checks that node is a mapping whose keys are all among names, each at most
 * once, and sets values[i] to the value of names[i] (NULL when absent). what
 * says what an unknown key is ("field", "category", "channel"). */
static int loader_mapping(struct profile_loader *l, yaml_node_t *node, const char *path,
			  const char *const *names, size_t n_names, yaml_node_t **values,
			  const char *what)
{
	char sub[PROFILE_PATH_MAX];

	if (node->type != YAML_MAPPING_NODE)
		return loader_fail(l, node, path, "expected a mapping, got %s",
				   yamldoc_node_kind(node));
	if (loader_remember(l, path, node) != 0)
		return -1;
	for (size_t i = 0; i < n_names; i++)
		values[i] = NULL;
	for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
	     pair < node->data.mapping.pairs.top; pair++) {
		yaml_node_t *key = yaml_document_get_node(l->doc, pair->key);
		yaml_node_t *value = yaml_document_get_node(l->doc, pair->value);
		size_t i;

		if (key->type != YAML_SCALAR_NODE)
			return loader_fail(l, key, path, "expected a field name, got %s",
					   yamldoc_node_kind(key));
		const char *k = (const char *)key->data.scalar.value;
		for (i = 0; i < n_names; i++)
			if (strlen(names[i]) == key->data.scalar.length && strcmp(k, names[i]) == 0)
				break;
		loader_path(sub, path, k);
		if (i == n_names) {
			char expected[256] = "";
			size_t used = 0;
			for (size_t j = 0; j < n_names && used < sizeof expected; j++)
				used += (size_t)snprintf(expected + used, sizeof expected - used,
							 "%s%s", j ? ", " : "", names[j]);
			return loader_fail(l, key, sub, "unknown %s (expected one of: %s)", what,
					   expected);
		}
		if (values[i] != NULL)
			return loader_fail(l, key, sub, "appears twice in %s",
					   *path ? path : "the file");
		values[i] = value;
	}
	return 0;
}

static int loader_require(struct profile_loader *l, yaml_node_t *mapping, const char *path,
			  const char *key, const yaml_node_t *value)
{
	char sub[PROFILE_PATH_MAX];

	if (value != NULL)
		return 0;
	loader_path(sub, path, key);
	return loader_fail(l, mapping, sub, "required field is missing");
}

/* A non-negative decimal integer written as a plain scalar: "0", "1756440".
 * Quoted numbers, signs, leading zeros (octal in YAML 1.1), fractions and
 * exponents are refused. */
static int loader_integer(struct profile_loader *l, yaml_node_t *node, const char *path,
			  int64_t *out)
{
	if (loader_remember(l, path, node) != 0)
		return -1;
	if (node->type != YAML_SCALAR_NODE)
		return loader_fail(l, node, path, "expected a non-negative integer, got %s",
				   yamldoc_node_kind(node));
	const char *s = (const char *)node->data.scalar.value;
	size_t n = node->data.scalar.length;
	bool ok = node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && n > 0 &&
		  !(n > 1 && s[0] == '0');
	int64_t v = 0;
	for (size_t i = 0; ok && i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			ok = false;
		} else {
			v = v * 10 + (s[i] - '0');
			if (v > PROFILE_FIGURE_MAX)
				return loader_fail(l, node, path,
						   "expected a non-negative integer up to 10^15, "
						   "got %.40s",
						   s);
		}
	}
	if (!ok)
		return loader_fail(l, node, path, "expected a non-negative integer, got \"%.40s\"",
				   s);
	*out = v;
	return 0;
}

/* A text value. Plain empty, "~" and "null" are YAML's null and refused;
 * allow_empty admits a quoted "". */
static int loader_string(struct profile_loader *l, yaml_node_t *node, const char *path,
			 bool allow_empty, char **out)
{
	if (loader_remember(l, path, node) != 0)
		return -1;
	if (node->type != YAML_SCALAR_NODE)
		return loader_fail(l, node, path, "expected text, got %s", yamldoc_node_kind(node));
	const char *s = (const char *)node->data.scalar.value;
	size_t n = node->data.scalar.length;
	if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (n == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	     strcmp(s, "NULL") == 0))
		return loader_fail(l, node, path, "expected text, got null (quote it if it is a name)");
	if (n == 0 && !allow_empty)
		return loader_fail(l, node, path, "expected non-empty text");
	if (strlen(s) != n)
		return loader_fail(l, node, path, "must not contain a NUL character");
	char *copy = strdup(s);
	if (copy == NULL)
		return loader_fail(l, node, path, "out of memory");
	free(*out);
	*out = copy;
	return 0;
}

static int loader_sequence(struct profile_loader *l, yaml_node_t *node, const char *path,
			   size_t *count)
{
	if (node->type != YAML_SEQUENCE_NODE)
		return loader_fail(l, node, path, "expected a list, got %s",
				   yamldoc_node_kind(node));
	if (loader_remember(l, path, node) != 0)
		return -1;
	*count = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	return 0;
}

static yaml_node_t *loader_item(struct profile_loader *l, yaml_node_t *seq, size_t i)
{
	return yaml_document_get_node(l->doc, seq->data.sequence.items.start[i]);
}

static int loader_centre(struct profile_loader *l, yaml_node_t *node)
{
	static const char *const names[] = {"code", "name"};
	yaml_node_t *v[2];

	if (loader_mapping(l, node, "centre", names, 2, v, "field") != 0 ||
	    loader_require(l, node, "centre", "code", v[0]) != 0 ||
	    loader_require(l, node, "centre", "name", v[1]) != 0 ||
	    loader_string(l, v[0], "centre.code", false, &l->p->centre_code) != 0 ||
	    loader_string(l, v[1], "centre.name", false, &l->p->centre_name) != 0)
		return -1;
	return 0;
}

static int loader_calls(struct profile_loader *l, yaml_node_t *node)
{
	static const char *const names[] = {"total", "by_category"};
	yaml_node_t *v[2], *cat[CATEGORY_COUNT];
	const char *categories[CATEGORY_COUNT];
	char sub[PROFILE_PATH_MAX];

	if (loader_mapping(l, node, "calls", names, 2, v, "field") != 0 ||
	    loader_require(l, node, "calls", "total", v[0]) != 0 ||
	    loader_require(l, node, "calls", "by_category", v[1]) != 0 ||
	    loader_integer(l, v[0], "calls.total", &l->p->calls_total) != 0)
		return -1;
	for (int c = 0; c < CATEGORY_COUNT; c++)
		categories[c] = category_name((enum category)c);
	if (loader_mapping(l, v[1], "calls.by_category", categories, CATEGORY_COUNT, cat,
			   "category") != 0)
		return -1;
	for (int c = 0; c < CATEGORY_COUNT; c++) {
		l->p->calls_by_category[c] = 0; /* a missing category means 0 */
		loader_path(sub, "calls.by_category", categories[c]);
		if (cat[c] != NULL && loader_integer(l, cat[c], sub, &l->p->calls_by_category[c]) != 0)
			return -1;
	}
	return 0;
}

static int loader_work_orders(struct profile_loader *l, yaml_node_t *node)
{
	static const char *const names[] = {"city_12345", "province_12345"};
	yaml_node_t *v[2];

	if (loader_mapping(l, node, "work_orders", names, 2, v, "source") != 0)
		return -1;
	if (v[0] != NULL &&
	    loader_integer(l, v[0], "work_orders.city_12345", &l->p->work_orders_city) != 0)
		return -1;
	if (v[1] != NULL &&
	    loader_integer(l, v[1], "work_orders.province_12345", &l->p->work_orders_province) != 0)
		return -1;
	return 0;
}

static int loader_province(struct profile_loader *l, yaml_node_t *node)
{
	static const char *const names[] = {"name", "total", "by_centre"};
	static const char *const row_names[] = {"code", "name", "calls"};
	yaml_node_t *v[3], *r[3];
	char base[PROFILE_PATH_MAX], sub[PROFILE_PATH_MAX];
	struct profile *p = l->p;
	size_t n = 0;

	if (loader_mapping(l, node, "province", names, 3, v, "field") != 0 ||
	    loader_require(l, node, "province", "name", v[0]) != 0 ||
	    loader_require(l, node, "province", "total", v[1]) != 0 ||
	    loader_require(l, node, "province", "by_centre", v[2]) != 0 ||
	    loader_string(l, v[0], "province.name", true, &p->province_name) != 0 ||
	    loader_integer(l, v[1], "province.total", &p->province_total) != 0 ||
	    loader_sequence(l, v[2], "province.by_centre", &n) != 0)
		return -1;
	p->has_province = true;
	p->centres = calloc(n ? n : 1, sizeof *p->centres);
	if (p->centres == NULL)
		return loader_fail(l, node, "province", "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *row = loader_item(l, v[2], i);
		struct profile_centre *c = &p->centres[i];
		p->n_centres = i + 1;
		profile_path(base, "province.by_centre[%zu]", i);
		if (loader_mapping(l, row, base, row_names, 3, r, "field") != 0)
			return -1;
		for (int k = 0; k < 3; k++)
			if (loader_require(l, row, base, row_names[k], r[k]) != 0)
				return -1;
		loader_path(sub, base, "code");
		if (loader_string(l, r[0], sub, false, &c->code) != 0)
			return -1;
		loader_path(sub, base, "name");
		if (loader_string(l, r[1], sub, false, &c->name) != 0)
			return -1;
		loader_path(sub, base, "calls");
		if (loader_integer(l, r[2], sub, &c->calls) != 0)
			return -1;
	}
	return 0;
}

/* A mapping of the four channels (missing ones are 0), plus "all" when
 * with_all; used for bookings.total and for each hospital row (with rank and
 * hospital in extra). */
static int loader_channels(struct profile_loader *l, yaml_node_t *node, const char *path,
			   int64_t by_channel[PROFILE_CHANNEL_COUNT], int64_t *all)
{
	static const char *const names[] = {"online_12320", "phone", "clinic", "third_party",
					    "all"};
	yaml_node_t *v[5];
	char sub[PROFILE_PATH_MAX];

	if (loader_mapping(l, node, path, names, 5, v, "channel") != 0 ||
	    loader_require(l, node, path, "all", v[4]) != 0)
		return -1;
	for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++) {
		by_channel[c] = 0;
		loader_path(sub, path, names[c]);
		if (v[c] != NULL && loader_integer(l, v[c], sub, &by_channel[c]) != 0)
			return -1;
	}
	loader_path(sub, path, "all");
	return loader_integer(l, v[4], sub, all);
}

static int loader_hospital(struct profile_loader *l, yaml_node_t *node, const char *path,
			   struct profile_hospital *h)
{
	static const char *const names[] = {"rank",	   "hospital",	  "online_12320", "phone",
					    "clinic",	   "third_party", "all"};
	yaml_node_t *v[7];
	char sub[PROFILE_PATH_MAX];

	if (loader_mapping(l, node, path, names, 7, v, "field") != 0 ||
	    loader_require(l, node, path, "rank", v[0]) != 0 ||
	    loader_require(l, node, path, "hospital", v[1]) != 0 ||
	    loader_require(l, node, path, "all", v[6]) != 0)
		return -1;
	loader_path(sub, path, "rank");
	if (loader_integer(l, v[0], sub, &h->rank) != 0)
		return -1;
	loader_path(sub, path, "hospital");
	if (loader_string(l, v[1], sub, false, &h->hospital) != 0)
		return -1;
	for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++) {
		h->by_channel[c] = 0; /* a channel left out means 0 */
		loader_path(sub, path, names[2 + c]);
		if (v[2 + c] != NULL && loader_integer(l, v[2 + c], sub, &h->by_channel[c]) != 0)
			return -1;
	}
	loader_path(sub, path, "all");
	return loader_integer(l, v[6], sub, &h->all);
}

static int loader_bookings(struct profile_loader *l, yaml_node_t *node)
{
	static const char *const names[] = {"channels", "total", "cumulative_all_years",
					    "by_hospital"};
	yaml_node_t *v[4];
	char sub[PROFILE_PATH_MAX];
	struct profile *p = l->p;
	size_t n = 0;

	if (loader_mapping(l, node, "bookings", names, 4, v, "field") != 0 ||
	    loader_require(l, node, "bookings", "total", v[1]) != 0 ||
	    loader_require(l, node, "bookings", "by_hospital", v[3]) != 0)
		return -1;
	if (v[0] != NULL) {
		/* Informational, but it must name the four channels, each once. */
		bool seen[PROFILE_CHANNEL_COUNT] = {false};
		if (loader_sequence(l, v[0], "bookings.channels", &n) != 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			yaml_node_t *item = loader_item(l, v[0], i);
			int c;
			profile_path(sub, "bookings.channels[%zu]", i);
			if (item->type != YAML_SCALAR_NODE)
				return loader_fail(l, item, sub, "expected a channel name");
			for (c = 0; c < PROFILE_CHANNEL_COUNT; c++)
				if (strcmp((const char *)item->data.scalar.value,
					   profile_channel_names[c]) == 0)
					break;
			if (c == PROFILE_CHANNEL_COUNT)
				return loader_fail(l, item, sub,
						   "unknown channel \"%.40s\" (expected one of: "
						   "online_12320, phone, clinic, third_party)",
						   (const char *)item->data.scalar.value);
			if (seen[c])
				return loader_fail(l, item, sub, "%s is listed twice",
						   profile_channel_names[c]);
			seen[c] = true;
		}
		for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++)
			if (!seen[c])
				return loader_fail(l, v[0], "bookings.channels", "%s is missing",
						   profile_channel_names[c]);
	}
	if (loader_channels(l, v[1], "bookings.total", p->bookings_total, &p->bookings_total_all) !=
	    0)
		return -1;
	if (v[2] != NULL && loader_integer(l, v[2], "bookings.cumulative_all_years",
					   &p->bookings_cumulative_all_years) != 0)
		return -1;
	if (loader_sequence(l, v[3], "bookings.by_hospital", &n) != 0)
		return -1;
	p->has_bookings = true;
	p->hospitals = calloc(n ? n : 1, sizeof *p->hospitals);
	if (p->hospitals == NULL)
		return loader_fail(l, node, "bookings", "out of memory");
	for (size_t i = 0; i < n; i++) {
		p->n_hospitals = i + 1;
		profile_path(sub, "bookings.by_hospital[%zu]", i);
		if (loader_hospital(l, loader_item(l, v[3], i), sub, &p->hospitals[i]) != 0)
			return -1;
	}
	return 0;
}

static int loader_platforms(struct profile_loader *l, yaml_node_t *node)
{
	static const char *const names[] = {"total", "by_platform"};
	static const char *const row_names[] = {"rank", "platform", "bookings"};
	yaml_node_t *v[2], *r[3];
	char base[PROFILE_PATH_MAX], sub[PROFILE_PATH_MAX];
	struct profile *p = l->p;
	size_t n = 0;

	if (loader_mapping(l, node, "booking_platforms", names, 2, v, "field") != 0 ||
	    loader_require(l, node, "booking_platforms", "total", v[0]) != 0 ||
	    loader_require(l, node, "booking_platforms", "by_platform", v[1]) != 0 ||
	    loader_integer(l, v[0], "booking_platforms.total", &p->platforms_total) != 0 ||
	    loader_sequence(l, v[1], "booking_platforms.by_platform", &n) != 0)
		return -1;
	p->has_platforms = true;
	p->platforms = calloc(n ? n : 1, sizeof *p->platforms);
	if (p->platforms == NULL)
		return loader_fail(l, node, "booking_platforms", "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *row = loader_item(l, v[1], i);
		struct profile_platform *pl = &p->platforms[i];
		p->n_platforms = i + 1;
		profile_path(base, "booking_platforms.by_platform[%zu]", i);
		if (loader_mapping(l, row, base, row_names, 3, r, "field") != 0)
			return -1;
		for (int k = 0; k < 3; k++)
			if (loader_require(l, row, base, row_names[k], r[k]) != 0)
				return -1;
		loader_path(sub, base, "rank");
		if (loader_integer(l, r[0], sub, &pl->rank) != 0)
			return -1;
		loader_path(sub, base, "platform");
		if (loader_string(l, r[1], sub, false, &pl->platform) != 0)
			return -1;
		loader_path(sub, base, "bookings");
		if (loader_integer(l, r[2], sub, &pl->bookings) != 0)
			return -1;
	}
	return 0;
}

/* The top level, in schema order: the schema string first, so that a file of
 * another kind is told so before anything else. */
static int loader_root(struct profile_loader *l, yaml_node_t *root)
{
	static const char *const names[] = {"schema",	   "profile",	  "year",
					    "centre",	   "calls",	  "work_orders",
					    "province",	   "bookings",	  "booking_platforms"};
	yaml_node_t *v[9];
	char *schema = NULL;
	int64_t year;

	if (root->type != YAML_MAPPING_NODE)
		return loader_fail(l, root, "", "expected a mapping of profile fields, got %s",
				   yamldoc_node_kind(root));
	if (loader_mapping(l, root, "", names, 9, v, "field") != 0 ||
	    loader_require(l, root, "", "schema", v[0]) != 0 ||
	    loader_string(l, v[0], "schema", false, &schema) != 0)
		return -1;
	if (strcmp(schema, PROFILE_SCHEMA) != 0) {
		loader_fail(l, v[0], "schema", "expected \"" PROFILE_SCHEMA "\", got \"%.60s\"",
			    schema);
		free(schema);
		return -1;
	}
	free(schema);
	if (loader_require(l, root, "", "profile", v[1]) != 0 ||
	    loader_require(l, root, "", "year", v[2]) != 0 ||
	    loader_require(l, root, "", "centre", v[3]) != 0 ||
	    loader_require(l, root, "", "calls", v[4]) != 0 ||
	    loader_string(l, v[1], "profile", false, &l->p->profile) != 0 ||
	    loader_integer(l, v[2], "year", &year) != 0)
		return -1;
	if (year < 1970 || year > 9999)
		return loader_fail(l, v[2], "year", "expected a year from 1970 to 9999, got %" PRId64,
				   year);
	l->p->year = (int)year;
	if (loader_centre(l, v[3]) != 0 || loader_calls(l, v[4]) != 0)
		return -1;
	if (v[5] != NULL && loader_work_orders(l, v[5]) != 0)
		return -1;
	if (v[6] != NULL && loader_province(l, v[6]) != 0)
		return -1;
	if (v[7] != NULL && loader_bookings(l, v[7]) != 0)
		return -1;
	if (v[8] != NULL && loader_platforms(l, v[8]) != 0)
		return -1;
	return 0;
}

/* libyaml's reader reports bad input (invalid UTF-8, control characters) by
 * byte offset; turn it into a line and column (in characters) like the other
 * errors. */
static yaml_mark_t loader_mark_of_offset(const char *buf, size_t len, size_t offset)
{
	yaml_mark_t m = {offset, 0, 0};

	for (size_t i = 0; i < offset && i < len; i++) {
		if (buf[i] == '\n') {
			m.line++;
			m.column = 0;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			m.column++;
		}
	}
	return m;
}

static int loader_syntax_error(struct profile_loader *l, const yaml_parser_t *parser)
{
	yaml_mark_t mark = parser->problem_mark;

	if (parser->error == YAML_READER_ERROR)
		mark = loader_mark_of_offset(l->buf, l->len, parser->problem_offset);
	if (parser->error == YAML_MEMORY_ERROR)
		return loader_fail_at(l, mark, "", "out of memory");
	if (parser->context != NULL)
		return loader_fail_at(l, mark, "", "YAML syntax error: %s (%s started at line %zu)",
				      parser->problem ? parser->problem : "malformed input",
				      parser->context, parser->context_mark.line + 1);
	return loader_fail_at(l, mark, "", "YAML syntax error: %s",
			      parser->problem ? parser->problem : "malformed input");
}

int profile_load_buffer(const char *name, const char *buf, size_t len, struct profile **out,
			char *err, size_t err_len)
{
	struct profile_loader l = {.name = name, .buf = buf, .len = len, .err = err,
				   .err_len = err_len};
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	int rc = -1;

	*out = NULL;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, err_len, "%s: out of memory", name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		loader_syntax_error(&l, &parser);
		yaml_parser_delete(&parser);
		return -1;
	}
	l.doc = &doc;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		yaml_mark_t start = {0, 0, 0};
		loader_fail_at(&l, start, "", "the file is empty; expected a profile");
		goto out;
	}
	/* A second document would be silently ignored; say so instead. */
	if (!yaml_parser_load(&parser, &extra)) {
		loader_syntax_error(&l, &parser);
		goto out;
	}
	yaml_node_t *extra_root = yaml_document_get_root_node(&extra);
	if (extra_root != NULL) {
		loader_fail(&l, extra_root, "", "a second YAML document; a profile is one document");
		yaml_document_delete(&extra);
		goto out;
	}
	yaml_document_delete(&extra);

	l.p = calloc(1, sizeof *l.p);
	if (l.p == NULL) {
		snprintf(err, err_len, "%s: out of memory", name);
		goto out;
	}
	if (loader_root(&l, root) != 0)
		goto out;

	char path[PROFILE_PATH_MAX], msg[512];
	if (profile_check(l.p, path, sizeof path, msg, sizeof msg) != 0) {
		loader_fail_at(&l, loader_find_mark(&l, path), path, "%s", msg);
		goto out;
	}
	*out = l.p;
	l.p = NULL;
	rc = 0;
out:
	profile_free(l.p);
	free(l.marks);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int profile_load_file(const char *path, struct profile **out, char *err, size_t err_len)
{
	char *buf = NULL;
	size_t len = 0;

	*out = NULL;
	if (readfile_all(path, PROFILE_FILE_MAX, &buf, &len, err, err_len) != 0)
		return -1;
	int rc = profile_load_buffer(path, buf, len, out, err, err_len);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Scaling and apportionment                                                 */
/* ------------------------------------------------------------------------ */

/* round(n * scale), half away from zero. The product is computed in long
 * double; a product meant to end in exactly .5 (15 * 0.1) may land a hair
 * below it in binary, so anything within a tiny tolerance of the half counts
 * as the half. Decimal scales put real fractions far from that band. */
static int64_t profile_round_scaled(int64_t n, double scale)
{
	if (n < 0)
		return -profile_round_scaled(-n, scale);
	long double x = (long double)n * (long double)scale;
	long double whole = floorl(x);
	long double tolerance = 1e-9L + x * 1e-15L;
	return (int64_t)whole + (x - whole >= 0.5L - tolerance ? 1 : 0);
}

struct profile_rank_key {
	int64_t figure;
	size_t index;
};

static int profile_compare_rank_key(const void *a, const void *b)
{
	const struct profile_rank_key *x = a, *y = b;
	if (x->figure != y->figure)
		return x->figure > y->figure ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Returns a permutation of 0..n-1 ordering figures descending, ties in input
 * order, or NULL when out of memory. */
static size_t *profile_rank_order(const int64_t *figures, size_t stride_figures, size_t n)
{
	struct profile_rank_key *keys = calloc(n ? n : 1, sizeof *keys);
	size_t *order = calloc(n ? n : 1, sizeof *order);

	if (keys == NULL || order == NULL) {
		free(keys);
		free(order);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		keys[i].figure = *(const int64_t *)((const char *)figures + i * stride_figures);
		keys[i].index = i;
	}
	qsort(keys, n, sizeof *keys, profile_compare_rank_key);
	for (size_t i = 0; i < n; i++)
		order[i] = keys[i].index;
	free(keys);
	return order;
}

/* Takes excess units, one at a time, from the largest figure (the first of
 * equals), so that a constraint broken by rounding holds again. */
static void profile_take_from_largest(int64_t *figures, size_t stride, size_t n, int64_t excess)
{
	while (excess > 0) {
		int64_t *best = NULL;
		for (size_t i = 0; i < n; i++) {
			int64_t *f = (int64_t *)((char *)figures + i * stride);
			if (best == NULL || *f > *best)
				best = f;
		}
		if (best == NULL || *best == 0)
			return;
		(*best)--;
		excess--;
	}
}

static char *profile_strdup_or_null(const char *s, bool *oom)
{
	if (s == NULL)
		return NULL;
	char *copy = strdup(s);
	if (copy == NULL)
		*oom = true;
	return copy;
}

/* Every itemised figure n becomes round(n * scale); totals are re-summed, the
 * own centre's province entry is the scaled calls.total, and rows are
 * re-ranked (stable: ties keep their order). Rounding each hospital's phone
 * bookings (or each platform) separately can push a sum past its bound
 * (phone bookings <= booking calls; platforms <= online + third party); the
 * excess is then taken back, one booking at a time, from the largest figures,
 * so that the result is valid whenever the input is. NULL (errno EINVAL) for
 * a scale outside (0, 1], or ENOMEM. */
struct profile *profile_scale(const struct profile *p, double scale)
{
	struct profile *s;
	size_t *order = NULL;
	bool oom = false;

	if (!(scale > 0.0 && scale <= 1.0)) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->profile = profile_strdup_or_null(p->profile, &oom);
	s->year = p->year;
	s->centre_code = profile_strdup_or_null(p->centre_code, &oom);
	s->centre_name = profile_strdup_or_null(p->centre_name, &oom);

	s->calls_total = 0;
	for (int c = 0; c < CATEGORY_COUNT; c++) {
		s->calls_by_category[c] = profile_round_scaled(p->calls_by_category[c], scale);
		s->calls_total += s->calls_by_category[c];
	}
	s->work_orders_city = profile_round_scaled(p->work_orders_city, scale);
	s->work_orders_province = profile_round_scaled(p->work_orders_province, scale);

	s->has_province = p->has_province;
	if (p->has_province) {
		s->province_name = profile_strdup_or_null(p->province_name, &oom);
		s->centres = calloc(p->n_centres ? p->n_centres : 1, sizeof *s->centres);
		if (s->centres == NULL)
			goto fail;
		s->n_centres = p->n_centres;
		for (size_t i = 0; i < p->n_centres; i++) {
			const struct profile_centre *from = &p->centres[i];
			struct profile_centre *to = &s->centres[i];
			to->code = profile_strdup_or_null(from->code, &oom);
			to->name = profile_strdup_or_null(from->name, &oom);
			if (from->code != NULL && p->centre_code != NULL &&
			    strcmp(from->code, p->centre_code) == 0)
				to->calls = s->calls_total;
			else
				to->calls = profile_round_scaled(from->calls, scale);
			s->province_total += to->calls;
		}
	}

	s->has_bookings = p->has_bookings;
	if (p->has_bookings) {
		struct profile_hospital *rows =
			calloc(p->n_hospitals ? p->n_hospitals : 1, sizeof *rows);
		if (rows == NULL)
			goto fail;
		int64_t phone = 0;
		for (size_t i = 0; i < p->n_hospitals; i++) {
			for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++)
				rows[i].by_channel[c] =
					profile_round_scaled(p->hospitals[i].by_channel[c], scale);
			phone += rows[i].by_channel[PROFILE_CHANNEL_PHONE];
		}
		if (phone > s->calls_by_category[CATEGORY_BOOKING])
			profile_take_from_largest(&rows[0].by_channel[PROFILE_CHANNEL_PHONE],
						  sizeof *rows, p->n_hospitals,
						  phone - s->calls_by_category[CATEGORY_BOOKING]);
		for (size_t i = 0; i < p->n_hospitals; i++) {
			rows[i].all = 0;
			for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++)
				rows[i].all += rows[i].by_channel[c];
		}
		order = profile_rank_order(&rows[0].all, sizeof *rows, p->n_hospitals);
		s->hospitals = calloc(p->n_hospitals ? p->n_hospitals : 1, sizeof *s->hospitals);
		if (order == NULL || s->hospitals == NULL) {
			free(rows);
			goto fail;
		}
		s->n_hospitals = p->n_hospitals;
		for (size_t i = 0; i < p->n_hospitals; i++) {
			struct profile_hospital *to = &s->hospitals[i];
			*to = rows[order[i]];
			to->rank = (int64_t)i + 1;
			to->hospital = profile_strdup_or_null(p->hospitals[order[i]].hospital, &oom);
			for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++)
				s->bookings_total[c] += to->by_channel[c];
			s->bookings_total_all += to->all;
		}
		free(rows);
		free(order);
		order = NULL;
		s->bookings_cumulative_all_years =
			profile_round_scaled(p->bookings_cumulative_all_years, scale);
	}

	s->has_platforms = p->has_platforms;
	if (p->has_platforms) {
		struct profile_platform *rows =
			calloc(p->n_platforms ? p->n_platforms : 1, sizeof *rows);
		if (rows == NULL)
			goto fail;
		int64_t sum = 0;
		int64_t bound = s->bookings_total[PROFILE_CHANNEL_ONLINE_12320] +
				s->bookings_total[PROFILE_CHANNEL_THIRD_PARTY];
		for (size_t i = 0; i < p->n_platforms; i++) {
			rows[i].bookings = profile_round_scaled(p->platforms[i].bookings, scale);
			sum += rows[i].bookings;
		}
		if (sum > bound)
			profile_take_from_largest(&rows[0].bookings, sizeof *rows, p->n_platforms,
						  sum - bound);
		order = profile_rank_order(&rows[0].bookings, sizeof *rows, p->n_platforms);
		s->platforms = calloc(p->n_platforms ? p->n_platforms : 1, sizeof *s->platforms);
		if (order == NULL || s->platforms == NULL) {
			free(rows);
			goto fail;
		}
		s->n_platforms = p->n_platforms;
		for (size_t i = 0; i < p->n_platforms; i++) {
			struct profile_platform *to = &s->platforms[i];
			to->bookings = rows[order[i]].bookings;
			to->rank = (int64_t)i + 1;
			to->platform = profile_strdup_or_null(p->platforms[order[i]].platform, &oom);
			s->platforms_total += to->bookings;
		}
		free(rows);
		free(order);
		order = NULL;
	}
	if (oom)
		goto fail;
	return s;
fail:
	free(order);
	profile_free(s);
	errno = ENOMEM;
	return NULL;
}

struct profile_remainder {
	profile_int128 remainder;
	size_t index;
};

static int profile_compare_remainder(const void *a, const void *b)
{
	const struct profile_remainder *x = a, *y = b;
	if (x->remainder != y->remainder)
		return x->remainder > y->remainder ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Hamilton's method in exact integer arithmetic: each share is
 * floor(total * w / W), and the units left over go one each to the largest
 * remainders, the earlier entry first among equals. Negative weights count
 * as 0; when all weights are 0 the total is shared equally (again earlier
 * entries first); a negative total is apportioned as its absolute value and
 * negated. The outputs always sum to total. */
void profile_apportion(int64_t total, const int64_t *weights, size_t n, int64_t *out)
{
	profile_int128 weight_sum = 0, magnitude = total < 0 ? -(profile_int128)total : total;
	int64_t given = 0;
	struct profile_remainder *rem;
	bool equal;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		weight_sum += weights[i] > 0 ? weights[i] : 0;
	equal = weight_sum == 0;
	if (equal)
		weight_sum = (profile_int128)n;
	rem = calloc(n, sizeof *rem);
	for (size_t i = 0; i < n; i++) {
		profile_int128 w = equal ? 1 : (weights[i] > 0 ? weights[i] : 0);
		profile_int128 product = magnitude * w;
		out[i] = (int64_t)(product / weight_sum);
		given += out[i];
		if (rem != NULL) {
			rem[i].remainder = product % weight_sum;
			rem[i].index = i;
		}
	}
	int64_t left = (int64_t)magnitude - given; /* < n */
	if (rem != NULL) {
		qsort(rem, n, sizeof *rem, profile_compare_remainder);
		for (size_t i = 0; i < n && left > 0; i++, left--)
			out[rem[i].index]++;
		free(rem);
	} else {
		/* Out of memory for the sort: still hand out every unit, in order. */
		for (size_t i = 0; i < n && left > 0; i++, left--)
			out[i]++;
	}
	if (total < 0)
		for (size_t i = 0; i < n; i++)
			out[i] = -out[i];
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

/* Decodes one UTF-8 sequence at s; returns its length and sets *cp, or 0 when
 * it is not well-formed (overlong forms and surrogates included). */
static size_t profile_utf8_decode(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf && (s[1] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		return 2;
	}
	if (s[0] >= 0xe0 && s[0] <= 0xef && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) |
		      (s[2] & 0x3f);
		if (*cp < 0x800 || (*cp >= 0xd800 && *cp <= 0xdfff))
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 &&
	    (s[3] & 0xc0) == 0x80) {
		*cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
		      ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
		if (*cp < 0x10000 || *cp > 0x10ffff)
			return 0;
		return 4;
	}
	return 0;
}

/* Writes s as a YAML double-quoted scalar. Everything YAML does not count as
 * printable, line breaks, '"' and '\' are escaped, so any UTF-8 text (commas,
 * colons, brackets, '#', leading spaces, "null") survives a round trip.
 * Returns -1 (errno EILSEQ) when s is not UTF-8. */
static int profile_write_quoted(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		uint32_t cp;
		size_t n = profile_utf8_decode(p, &cp);
		if (n == 0) {
			errno = EILSEQ;
			return -1;
		}
		if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (int)cp);
		else if (cp == '\t')
			fputs("\\t", f);
		else if (cp == '\n')
			fputs("\\n", f);
		else if (cp == '\r')
			fputs("\\r", f);
		else if (cp < 0x20 || cp == 0x7f)
			fprintf(f, "\\x%02X", (unsigned)cp);
		else if ((cp >= 0x80 && cp < 0xa0) || cp == 0x2028 || cp == 0x2029 ||
			 cp == 0xfeff || cp == 0xfffe || cp == 0xffff)
			fprintf(f, "\\u%04X", (unsigned)cp);
		else
			fwrite(p, 1, n, f);
		p += n;
	}
	fputc('"', f);
	return 0;
}

/* Centre codes are plain when YAML could not read them as anything but text
 * (a letter first, and not one of YAML 1.1's booleans or null); otherwise
 * they are quoted like names. */
static int profile_write_code(FILE *f, const char *code)
{
	static const char *const reserved[] = {"y",  "n",  "yes",  "no",  "on",
					       "off", "true", "false", "null"};
	bool plain = code[0] >= 'a' && code[0] <= 'z';

	for (const char *c = code; plain && *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
		      *c == '-'))
			plain = false;
	for (size_t i = 0; plain && i < sizeof reserved / sizeof *reserved; i++)
		if (strcmp(code, reserved[i]) == 0)
			plain = false;
	if (plain) {
		fputs(code, f);
		return 0;
	}
	return profile_write_quoted(f, code);
}

/* The same layout as data/nanjing-2019.yaml: block mappings for sections,
 * one flow mapping per row, every category and channel written out. */
int profile_write_yaml(const struct profile *p, FILE *f)
{
	int rc = 0;

	fputs("schema: " PROFILE_SCHEMA "\nprofile: ", f);
	rc |= profile_write_quoted(f, p->profile ? p->profile : "");
	fprintf(f, "\nyear: %d\ncentre: {code: ", p->year);
	rc |= profile_write_code(f, p->centre_code ? p->centre_code : "");
	fputs(", name: ", f);
	rc |= profile_write_quoted(f, p->centre_name ? p->centre_name : "");
	fputs("}\n\n# Calls accepted in the year, by category.\ncalls:\n", f);
	fprintf(f, "  total: %" PRId64 "\n  by_category:\n", p->calls_total);
	for (int c = 0; c < CATEGORY_COUNT; c++)
		fprintf(f, "    %s: %" PRId64 "\n", category_name((enum category)c),
			p->calls_by_category[c]);
	fprintf(f,
		"\n# Work orders received from the 12345 hotlines.\nwork_orders:\n"
		"  city_12345: %" PRId64 "\n  province_12345: %" PRId64 "\n",
		p->work_orders_city, p->work_orders_province);

	if (p->has_province) {
		fputs("\n# Calls by centre across the province.\nprovince:\n  name: ", f);
		rc |= profile_write_quoted(f, p->province_name ? p->province_name : "");
		fprintf(f, "\n  total: %" PRId64 "\n  by_centre:%s\n", p->province_total,
			p->n_centres ? "" : " []");
		for (size_t i = 0; i < p->n_centres; i++) {
			fputs("    - {code: ", f);
			rc |= profile_write_code(f, p->centres[i].code);
			fputs(", name: ", f);
			rc |= profile_write_quoted(f, p->centres[i].name);
			fprintf(f, ", calls: %" PRId64 "}\n", p->centres[i].calls);
		}
	}

	if (p->has_bookings) {
		fputs("\n# Bookings by hospital and channel.\nbookings:\n"
		      "  channels: [online_12320, phone, clinic, third_party]\n  total: {",
		      f);
		for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++)
			fprintf(f, "%s: %" PRId64 ", ", profile_channel_names[c],
				p->bookings_total[c]);
		fprintf(f, "all: %" PRId64 "}\n", p->bookings_total_all);
		if (p->bookings_cumulative_all_years != 0)
			fprintf(f, "  cumulative_all_years: %" PRId64 "\n",
				p->bookings_cumulative_all_years);
		fprintf(f, "  by_hospital:%s\n", p->n_hospitals ? "" : " []");
		for (size_t i = 0; i < p->n_hospitals; i++) {
			const struct profile_hospital *h = &p->hospitals[i];
			fprintf(f, "    - {rank: %" PRId64 ", hospital: ", h->rank);
			rc |= profile_write_quoted(f, h->hospital);
			for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++)
				fprintf(f, ", %s: %" PRId64, profile_channel_names[c],
					h->by_channel[c]);
			fprintf(f, ", all: %" PRId64 "}\n", h->all);
		}
	}

	if (p->has_platforms) {
		fprintf(f,
			"\n# Bookings by platform.\nbooking_platforms:\n  total: %" PRId64
			"\n  by_platform:%s\n",
			p->platforms_total, p->n_platforms ? "" : " []");
		for (size_t i = 0; i < p->n_platforms; i++) {
			fprintf(f, "    - {rank: %" PRId64 ", platform: ", p->platforms[i].rank);
			rc |= profile_write_quoted(f, p->platforms[i].platform);
			fprintf(f, ", bookings: %" PRId64 "}\n", p->platforms[i].bookings);
		}
	}
	if (rc != 0)
		return -1;
	if (fflush(f) != 0 || ferror(f))
		return -1;
	return 0;
}

/* Adds a new reference to object, remembering a failure in *ok. */
static void profile_json_set(json_t *object, const char *key, json_t *value, bool *ok)
{
	if (value == NULL || json_object_set_new(object, key, value) != 0)
		*ok = false;
}

static json_t *profile_json_string(const char *s, bool *ok)
{
	json_t *v = json_string(s ? s : "");
	if (v == NULL)
		*ok = false;
	return v;
}

json_t *profile_to_json(const struct profile *p)
{
	bool ok = true;
	json_t *root = json_object();
	json_t *x;

	if (root == NULL)
		return NULL;
	profile_json_set(root, "schema", json_string(PROFILE_SCHEMA), &ok);
	profile_json_set(root, "profile", profile_json_string(p->profile, &ok), &ok);
	profile_json_set(root, "year", json_integer(p->year), &ok);
	x = json_object();
	if (x != NULL) {
		profile_json_set(x, "code", profile_json_string(p->centre_code, &ok), &ok);
		profile_json_set(x, "name", profile_json_string(p->centre_name, &ok), &ok);
	}
	profile_json_set(root, "centre", x, &ok);

	x = json_object();
	if (x != NULL) {
		json_t *by = json_object();
		profile_json_set(x, "total", json_integer(p->calls_total), &ok);
		for (int c = 0; by != NULL && c < CATEGORY_COUNT; c++)
			profile_json_set(by, category_name((enum category)c),
					 json_integer(p->calls_by_category[c]), &ok);
		profile_json_set(x, "by_category", by, &ok);
	}
	profile_json_set(root, "calls", x, &ok);

	x = json_object();
	if (x != NULL) {
		profile_json_set(x, "city_12345", json_integer(p->work_orders_city), &ok);
		profile_json_set(x, "province_12345", json_integer(p->work_orders_province), &ok);
	}
	profile_json_set(root, "work_orders", x, &ok);

	if (p->has_province) {
		x = json_object();
		json_t *rows = json_array();
		if (x != NULL) {
			profile_json_set(x, "name", profile_json_string(p->province_name, &ok),
					 &ok);
			profile_json_set(x, "total", json_integer(p->province_total), &ok);
		}
		for (size_t i = 0; rows != NULL && i < p->n_centres; i++) {
			json_t *row = json_object();
			if (row != NULL) {
				profile_json_set(row, "code",
						 profile_json_string(p->centres[i].code, &ok), &ok);
				profile_json_set(row, "name",
						 profile_json_string(p->centres[i].name, &ok), &ok);
				profile_json_set(row, "calls", json_integer(p->centres[i].calls),
						 &ok);
			}
			if (row == NULL || json_array_append_new(rows, row) != 0)
				ok = false;
		}
		if (x != NULL)
			profile_json_set(x, "by_centre", rows, &ok);
		else
			json_decref(rows);
		profile_json_set(root, "province", x, &ok);
	}

	if (p->has_bookings) {
		x = json_object();
		json_t *channels = json_array(), *total = json_object(), *rows = json_array();
		for (int c = 0; channels != NULL && c < PROFILE_CHANNEL_COUNT; c++)
			if (json_array_append_new(channels, json_string(profile_channel_names[c])) !=
			    0)
				ok = false;
		for (int c = 0; total != NULL && c < PROFILE_CHANNEL_COUNT; c++)
			profile_json_set(total, profile_channel_names[c],
					 json_integer(p->bookings_total[c]), &ok);
		if (total != NULL)
			profile_json_set(total, "all", json_integer(p->bookings_total_all), &ok);
		for (size_t i = 0; rows != NULL && i < p->n_hospitals; i++) {
			const struct profile_hospital *h = &p->hospitals[i];
			json_t *row = json_object();
			if (row != NULL) {
				profile_json_set(row, "rank", json_integer(h->rank), &ok);
				profile_json_set(row, "hospital",
						 profile_json_string(h->hospital, &ok), &ok);
				for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++)
					profile_json_set(row, profile_channel_names[c],
							 json_integer(h->by_channel[c]), &ok);
				profile_json_set(row, "all", json_integer(h->all), &ok);
			}
			if (row == NULL || json_array_append_new(rows, row) != 0)
				ok = false;
		}
		if (x != NULL) {
			profile_json_set(x, "channels", channels, &ok);
			profile_json_set(x, "total", total, &ok);
			profile_json_set(x, "cumulative_all_years",
					 json_integer(p->bookings_cumulative_all_years), &ok);
			profile_json_set(x, "by_hospital", rows, &ok);
		} else {
			json_decref(channels);
			json_decref(total);
			json_decref(rows);
		}
		profile_json_set(root, "bookings", x, &ok);
	}

	if (p->has_platforms) {
		x = json_object();
		json_t *rows = json_array();
		for (size_t i = 0; rows != NULL && i < p->n_platforms; i++) {
			json_t *row = json_object();
			if (row != NULL) {
				profile_json_set(row, "rank", json_integer(p->platforms[i].rank),
						 &ok);
				profile_json_set(row, "platform",
						 profile_json_string(p->platforms[i].platform, &ok),
						 &ok);
				profile_json_set(row, "bookings",
						 json_integer(p->platforms[i].bookings), &ok);
			}
			if (row == NULL || json_array_append_new(rows, row) != 0)
				ok = false;
		}
		if (x != NULL) {
			profile_json_set(x, "total", json_integer(p->platforms_total), &ok);
			profile_json_set(x, "by_platform", rows, &ok);
		} else {
			json_decref(rows);
		}
		profile_json_set(root, "booking_platforms", x, &ok);
	}
	if (!ok) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int profile_write_json(const struct profile *p, FILE *f)
{
	json_t *root = profile_to_json(p);
	int rc;

	if (root == NULL)
		return -1;
	rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (rc != 0 || fputc('\n', f) == EOF || fflush(f) != 0 || ferror(f))
		return -1;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Comparison                                                                */
/* ------------------------------------------------------------------------ */

struct profile_compare_state {
	FILE *report;
	size_t differences;
};

__attribute__((format(printf, 2, 3))) static void compare_report(struct profile_compare_state *st,
								  const char *fmt, ...)
{
	va_list ap;

	st->differences++;
	if (st->report == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(st->report, fmt, ap);
	va_end(ap);
	fputc('\n', st->report);
}

static void compare_figure(struct profile_compare_state *st, const char *path, int64_t expected,
			   int64_t actual)
{
	if (expected != actual)
		compare_report(st, "%s: expected %" PRId64 ", got %" PRId64, path, expected, actual);
}

static void compare_text(struct profile_compare_state *st, const char *path, const char *expected,
			 const char *actual)
{
	if (strcmp(expected ? expected : "", actual ? actual : "") != 0)
		compare_report(st, "%s: expected \"%s\", got \"%s\"", path, expected ? expected : "",
			       actual ? actual : "");
}

static bool compare_section_presence(struct profile_compare_state *st, const char *section,
				     bool expected, bool actual)
{
	if (expected == actual)
		return expected;
	compare_report(st, "%s: expected %s, got %s", section,
		       expected ? "the section" : "no such section",
		       actual ? "the section" : "no such section");
	return false;
}

/* Index of the row whose key (a char * at key_offset) equals key, or n.
 * Linear: rows are at most a few hundred. */
static size_t compare_find(const void *rows, size_t n, size_t stride, size_t key_offset,
			   const char *key)
{
	for (size_t i = 0; i < n; i++) {
		const char *k = *(char *const *)((const char *)rows + i * stride + key_offset);
		if (k != NULL && key != NULL && strcmp(k, key) == 0)
			return i;
	}
	return n;
}

/* Reports rows of b with no counterpart in a as "unexpected". */
static void compare_extra_rows(struct profile_compare_state *st, const char *what,
			       const void *a, size_t na, const void *b, size_t nb, size_t stride,
			       size_t key_offset)
{
	for (size_t i = 0; i < nb; i++) {
		const char *k = *(char *const *)((const char *)b + i * stride + key_offset);
		if (compare_find(a, na, stride, key_offset, k) == na)
			compare_report(st, "%s[%s]: unexpected row", what, k);
	}
}

size_t profile_compare(const struct profile *expected, const struct profile *actual,
		       unsigned sections, FILE *report)
{
	struct profile_compare_state st = {report, 0};
	char path[512];
	const struct profile *e = expected, *a = actual;

	/* Which year and centre: always, whatever the sections. */
	compare_figure(&st, "year", e->year, a->year);
	compare_text(&st, "centre.code", e->centre_code, a->centre_code);
	compare_text(&st, "centre.name", e->centre_name, a->centre_name);

	if (sections & PROFILE_SECTION_CALLS) {
		compare_figure(&st, "calls.total", e->calls_total, a->calls_total);
		for (int c = 0; c < CATEGORY_COUNT; c++) {
			snprintf(path, sizeof path, "calls.by_category.%s",
				 category_name((enum category)c));
			compare_figure(&st, path, e->calls_by_category[c], a->calls_by_category[c]);
		}
	}
	if (sections & PROFILE_SECTION_WORK_ORDERS) {
		compare_figure(&st, "work_orders.city_12345", e->work_orders_city,
			       a->work_orders_city);
		compare_figure(&st, "work_orders.province_12345", e->work_orders_province,
			       a->work_orders_province);
	}
	if ((sections & PROFILE_SECTION_PROVINCE) &&
	    compare_section_presence(&st, "province", e->has_province, a->has_province)) {
		compare_text(&st, "province.name", e->province_name, a->province_name);
		compare_figure(&st, "province.total", e->province_total, a->province_total);
		for (size_t i = 0; i < e->n_centres; i++) {
			const struct profile_centre *ec = &e->centres[i];
			size_t j = compare_find(a->centres, a->n_centres, sizeof *a->centres,
						offsetof(struct profile_centre, code), ec->code);
			if (j == a->n_centres) {
				compare_report(&st, "province.by_centre[%s]: missing (expected "
						    "%" PRId64 " calls)",
					       ec->code, ec->calls);
				continue;
			}
			snprintf(path, sizeof path, "province.by_centre[%s].name", ec->code);
			compare_text(&st, path, ec->name, a->centres[j].name);
			snprintf(path, sizeof path, "province.by_centre[%s].calls", ec->code);
			compare_figure(&st, path, ec->calls, a->centres[j].calls);
		}
		compare_extra_rows(&st, "province.by_centre", e->centres, e->n_centres, a->centres,
				   a->n_centres, sizeof *a->centres,
				   offsetof(struct profile_centre, code));
	}
	if ((sections & PROFILE_SECTION_BOOKINGS) &&
	    compare_section_presence(&st, "bookings", e->has_bookings, a->has_bookings)) {
		for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++) {
			snprintf(path, sizeof path, "bookings.total.%s", profile_channel_names[c]);
			compare_figure(&st, path, e->bookings_total[c], a->bookings_total[c]);
		}
		compare_figure(&st, "bookings.total.all", e->bookings_total_all,
			       a->bookings_total_all);
		for (size_t i = 0; i < e->n_hospitals; i++) {
			const struct profile_hospital *eh = &e->hospitals[i];
			size_t j = compare_find(a->hospitals, a->n_hospitals, sizeof *a->hospitals,
						offsetof(struct profile_hospital, hospital),
						eh->hospital);
			if (j == a->n_hospitals) {
				compare_report(&st, "bookings.by_hospital[%s]: missing",
					       eh->hospital);
				continue;
			}
			const struct profile_hospital *ah = &a->hospitals[j];
			snprintf(path, sizeof path, "bookings.by_hospital[%s].rank", eh->hospital);
			compare_figure(&st, path, eh->rank, ah->rank);
			for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++) {
				snprintf(path, sizeof path, "bookings.by_hospital[%s].%s",
					 eh->hospital, profile_channel_names[c]);
				compare_figure(&st, path, eh->by_channel[c], ah->by_channel[c]);
			}
			snprintf(path, sizeof path, "bookings.by_hospital[%s].all", eh->hospital);
			compare_figure(&st, path, eh->all, ah->all);
		}
		compare_extra_rows(&st, "bookings.by_hospital", e->hospitals, e->n_hospitals,
				   a->hospitals, a->n_hospitals, sizeof *a->hospitals,
				   offsetof(struct profile_hospital, hospital));
	}
	if ((sections & PROFILE_SECTION_PLATFORMS) &&
	    compare_section_presence(&st, "booking_platforms", e->has_platforms,
				     a->has_platforms)) {
		compare_figure(&st, "booking_platforms.total", e->platforms_total,
			       a->platforms_total);
		for (size_t i = 0; i < e->n_platforms; i++) {
			const struct profile_platform *ep = &e->platforms[i];
			size_t j = compare_find(a->platforms, a->n_platforms, sizeof *a->platforms,
						offsetof(struct profile_platform, platform),
						ep->platform);
			if (j == a->n_platforms) {
				compare_report(&st, "booking_platforms.by_platform[%s]: missing",
					       ep->platform);
				continue;
			}
			snprintf(path, sizeof path, "booking_platforms.by_platform[%s].rank",
				 ep->platform);
			compare_figure(&st, path, ep->rank, a->platforms[j].rank);
			snprintf(path, sizeof path, "booking_platforms.by_platform[%s].bookings",
				 ep->platform);
			compare_figure(&st, path, ep->bookings, a->platforms[j].bookings);
		}
		compare_extra_rows(&st, "booking_platforms.by_platform", e->platforms,
				   e->n_platforms, a->platforms, a->n_platforms,
				   sizeof *a->platforms,
				   offsetof(struct profile_platform, platform));
	}
	return st.differences;
}
