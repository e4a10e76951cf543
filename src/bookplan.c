/* bookplan.c: the bookings plan (see bookplan.h): the reference data a
 * profile's hospitals and platforms become, and the deterministic bookings
 * of a scaled profile, phone ones inside the call plan's booking calls and
 * the others day by day.
 *
 * Exact counts come from drawing without replacement: every hospital of a
 * channel (and every platform) keeps a count of what it has left, and each
 * booking takes one unit from a hospital drawn with probability in
 * proportion to what it has left (a Fenwick tree keeps the draw logarithmic
 * in the number of hospitals). Which calls carry the phone bookings, and
 * which online and third-party bookings name a platform, is selection
 * sampling (Knuth's algorithm S): the next candidate is chosen with
 * probability wanted-left / candidates-left, which picks exactly the wanted
 * number from a stream whose length is known in advance.
 */
#include "bookplan.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "timeutil.h"
#include "yearplan.h"

/* Mixed into the seed of each iterator's generator, so that neither draws
 * from the other's, nor from the call plan's. */
#define BOOKPLAN_WEIGHTS_SEED_MIX UINT64_C(0x3c6ef372fe94f82b)
#define BOOKPLAN_DAYS_SEED_MIX UINT64_C(0xa54ff53a5f1d36f1)
#define BOOKPLAN_PHONE_SEED_MIX UINT64_C(0x510e527fade682d1)
/* Clinic bookings are made in the consulting room, in its hours (local). */
#define BOOKPLAN_CLINIC_FROM_S (8 * 3600)
#define BOOKPLAN_CLINIC_UNTIL_S (18 * 3600)
/* "h" or "p" and a number padded to the digits of the row count: room for
 * any size_t. */
#define BOOKPLAN_CODE_MAX 48

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

static const struct bookplan_department bookplan_departments[] = {
	{"internal", "内科"},     {"surgery", "外科"},       {"paediatrics", "儿科"},
	{"obstetrics", "妇产科"}, {"ophthalmology", "眼科"}, {"stomatology", "口腔科"},
	{"tcm", "中医科"},        {"psychiatry", "精神科"},
};
/* How often each department is booked, relatively. */
static const int64_t bookplan_department_weights[N_ELEMENTS(bookplan_departments)] = {
	30, 18, 16, 12, 7, 7, 6, 4,
};
#define BOOKPLAN_DEPARTMENT_WEIGHT_TOTAL 100

/* The first letter of a booking_no, by channel. */
static const char bookplan_channel_tags[PROFILE_CHANNEL_COUNT] = {'o', 'p', 'c', 't'};

/* --- reference data ---------------------------------------------------------------- */

struct bookplan_ref {
	char *centre;
	size_t n_hospitals;
	char **hospital_names;
	char (*hospital_codes)[BOOKPLAN_CODE_MAX];
	size_t n_platforms;
	char **platform_names;
	char (*platform_codes)[BOOKPLAN_CODE_MAX];
};

/* Decodes one UTF-8 sequence at s (NUL-terminated); returns its length and
 * sets *cp, or 0 when it is not well-formed (overlong forms, surrogates and
 * code points past U+10FFFF included). */
static size_t bookplan_utf8_decode(const unsigned char *s, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Whether name can go into the hospitals tables: well-formed UTF-8, 1 to
 * BOOKPLAN_NAME_CHARS_MAX characters, none of them a control character (C0,
 * DEL, C1: what PostgreSQL's [[:cntrl:]] refuses). Says why in why. */
static bool bookplan_name_is_storable(const char *name, char *why, size_t why_len)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t chars = 0;

	if (name == NULL || *name == '\0') {
		snprintf(why, why_len, "the name is empty");
		return false;
	}
	while (*s != '\0') {
		uint32_t cp;
		size_t n = bookplan_utf8_decode(s, &cp);
		if (n == 0) {
			snprintf(why, why_len, "the name is not UTF-8");
			return false;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			snprintf(why, why_len, "the name holds the control character U+%04" PRIX32,
				 cp);
			return false;
		}
		s += n;
		chars++;
	}
	if (chars > BOOKPLAN_NAME_CHARS_MAX) {
		snprintf(why, why_len, "the name has %zu characters; the hospitals tables take %d",
			 chars, BOOKPLAN_NAME_CHARS_MAX);
		return false;
	}
	return true;
}

void bookplan_ref_free(struct bookplan_ref *ref)
{
	if (ref == NULL)
		return;
	for (size_t i = 0; ref->hospital_names != NULL && i < ref->n_hospitals; i++)
		free(ref->hospital_names[i]);
	for (size_t i = 0; ref->platform_names != NULL && i < ref->n_platforms; i++)
		free(ref->platform_names[i]);
	free(ref->hospital_names);
	free(ref->hospital_codes);
	free(ref->platform_names);
	free(ref->platform_codes);
	free(ref->centre);
	free(ref);
}

/* Digits of a code's number: 3, or more when there are 1000 rows or more,
 * so that the codes sort as their numbers do (an export breaks ties in the
 * ranking by code). */
static int bookplan_code_width(size_t n)
{
	int width = 1;
	for (size_t v = n; v >= 10; v /= 10)
		width++;
	return width < 3 ? 3 : width;
}

/* "h001": letter and number, zero-padded to the width of n's rows. */
static void bookplan_code(char out[BOOKPLAN_CODE_MAX], char letter, size_t n, size_t number)
{
	char digits[BOOKPLAN_CODE_MAX];
	int len = snprintf(digits, sizeof digits, "%zu", number);
	int pad = bookplan_code_width(n) - len;
	size_t k = 0;

	out[k++] = letter;
	while (pad-- > 0)
		out[k++] = '0';
	memcpy(out + k, digits, (size_t)len + 1); /* 1 + 20 + 20 digits at most: fits */
}

/* Codes follow the rows' order in the profile, which a valid profile lists
 * by rank: h001 is the first hospital at any scale, since the scaled
 * profile's rows are matched back by name. Ties of the scaled ranking keep
 * the profile's order (profile_scale), which is the codes' order too. */
struct bookplan_ref *bookplan_ref_new(const struct profile *p, char *err, size_t err_len)
{
	struct bookplan_ref *ref = calloc(1, sizeof *ref);
	char why[128];

	if (ref == NULL)
		goto oom;
	ref->centre = strdup(p->centre_code != NULL ? p->centre_code : "");
	ref->n_hospitals = p->has_bookings ? p->n_hospitals : 0;
	ref->n_platforms = p->has_platforms ? p->n_platforms : 0;
	ref->hospital_names = calloc(ref->n_hospitals + 1, sizeof *ref->hospital_names);
	ref->hospital_codes = calloc(ref->n_hospitals + 1, sizeof *ref->hospital_codes);
	ref->platform_names = calloc(ref->n_platforms + 1, sizeof *ref->platform_names);
	ref->platform_codes = calloc(ref->n_platforms + 1, sizeof *ref->platform_codes);
	if (ref->centre == NULL || ref->hospital_names == NULL || ref->hospital_codes == NULL ||
	    ref->platform_names == NULL || ref->platform_codes == NULL)
		goto oom;
	for (size_t i = 0; i < ref->n_hospitals; i++) {
		const char *name = p->hospitals[i].hospital;
		if (!bookplan_name_is_storable(name, why, sizeof why)) {
			snprintf(err, err_len, "bookings.by_hospital[%zu].hospital: %s", i, why);
			bookplan_ref_free(ref);
			return NULL;
		}
		bookplan_code(ref->hospital_codes[i], 'h', ref->n_hospitals, i + 1);
		if ((ref->hospital_names[i] = strdup(name)) == NULL)
			goto oom;
	}
	for (size_t i = 0; i < ref->n_platforms; i++) {
		const char *name = p->platforms[i].platform;
		if (!bookplan_name_is_storable(name, why, sizeof why)) {
			snprintf(err, err_len, "booking_platforms.by_platform[%zu].platform: %s", i,
				 why);
			bookplan_ref_free(ref);
			return NULL;
		}
		bookplan_code(ref->platform_codes[i], 'p', ref->n_platforms, i + 1);
		if ((ref->platform_names[i] = strdup(name)) == NULL)
			goto oom;
	}
	return ref;
oom:
	snprintf(err, err_len, "out of memory");
	bookplan_ref_free(ref);
	return NULL;
}

const char *bookplan_ref_centre(const struct bookplan_ref *ref)
{
	return ref->centre;
}

size_t bookplan_ref_hospital_count(const struct bookplan_ref *ref)
{
	return ref->n_hospitals;
}

const char *bookplan_ref_hospital_code(const struct bookplan_ref *ref, size_t i)
{
	return i < ref->n_hospitals ? ref->hospital_codes[i] : NULL;
}

const char *bookplan_ref_hospital_name(const struct bookplan_ref *ref, size_t i)
{
	return i < ref->n_hospitals ? ref->hospital_names[i] : NULL;
}

size_t bookplan_ref_platform_count(const struct bookplan_ref *ref)
{
	return ref->n_platforms;
}

const char *bookplan_ref_platform_code(const struct bookplan_ref *ref, size_t i)
{
	return i < ref->n_platforms ? ref->platform_codes[i] : NULL;
}

const char *bookplan_ref_platform_name(const struct bookplan_ref *ref, size_t i)
{
	return i < ref->n_platforms ? ref->platform_names[i] : NULL;
}

size_t bookplan_department_count(void)
{
	return N_ELEMENTS(bookplan_departments);
}

const struct bookplan_department *bookplan_department_at(size_t i)
{
	return i < N_ELEMENTS(bookplan_departments) ? &bookplan_departments[i] : NULL;
}

/* Writes s as a double-quoted scalar: JSON's escapes are YAML's too. */
static int bookplan_write_quoted(FILE *f, const char *s)
{
	json_t *j = json_string(s);
	char *text = j != NULL ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	int rc = text != NULL && fputs(text, f) >= 0 ? 0 : -1;

	free(text);
	json_decref(j);
	return rc;
}

int bookplan_ref_write_yaml(const struct bookplan_ref *ref, const char *profile_name, FILE *f)
{
	int rc = 0;

	fputs("# Hospitals, their departments and the booking platforms of a centre\n"
	      "# (doc/bookings.md), written by hotline-sim hospitals for profile ",
	      f);
	rc |= bookplan_write_quoted(f, profile_name != NULL ? profile_name : "");
	fputs(".\n# Codes follow the profile's ranks; the replay books under the same codes.\n", f);
	/* Centre codes are [a-z0-9_-] (a valid profile's): no quoting. */
	fprintf(f, "centre: %s\n", ref->centre);
	fputs(ref->n_hospitals > 0 ? "hospitals:\n" : "hospitals: []\n", f);
	for (size_t i = 0; i < ref->n_hospitals; i++) {
		fprintf(f, "  - code: %s\n    name: ", ref->hospital_codes[i]);
		rc |= bookplan_write_quoted(f, ref->hospital_names[i]);
		fputs("\n    departments:\n", f);
		for (size_t d = 0; d < N_ELEMENTS(bookplan_departments); d++) {
			fprintf(f, "      - {code: %s, name: ", bookplan_departments[d].code);
			rc |= bookplan_write_quoted(f, bookplan_departments[d].name);
			fputs("}\n", f);
		}
	}
	fputs(ref->n_platforms > 0 ? "platforms:\n" : "platforms: []\n", f);
	for (size_t i = 0; i < ref->n_platforms; i++) {
		fprintf(f, "  - {code: %s, name: ", ref->platform_codes[i]);
		rc |= bookplan_write_quoted(f, ref->platform_names[i]);
		fputs("}\n", f);
	}
	if (ferror(f))
		rc = -1;
	return rc == 0 ? 0 : -1;
}

/* --- drawing without replacement ------------------------------------------------------ */

/* Counts left per item in a Fenwick tree (1-based sums), so that an item
 * drawn in proportion to what it has left, and the unit it gives up, cost
 * O(log n). */
struct bookplan_tree {
	int64_t *sum;
	size_t n;
	size_t top; /* the largest power of two <= n; 0 when n is 0 */
	int64_t total;
};

/* Builds the tree over n counts read every stride int64_t from counts. */
static int bookplan_tree_init(struct bookplan_tree *t, const int64_t *counts, size_t stride,
			      size_t n)
{
	t->sum = calloc(n + 1, sizeof *t->sum);
	if (t->sum == NULL)
		return -1;
	t->n = n;
	t->total = 0;
	for (size_t i = 1; i <= n; i++) {
		int64_t c = counts[(i - 1) * stride];
		t->sum[i] += c;
		t->total += c;
		size_t parent = i + (i & (0 - i));
		if (parent <= n)
			t->sum[parent] += t->sum[i];
	}
	t->top = 0;
	if (n > 0)
		for (t->top = 1; t->top <= n / 2; t->top *= 2)
			;
	return 0;
}

static void bookplan_tree_free(struct bookplan_tree *t)
{
	free(t->sum);
	t->sum = NULL;
}

/* Draws an item with probability (its count left) / total and takes one
 * unit from it; total must be > 0. */
static size_t bookplan_tree_draw(struct bookplan_tree *t, struct yearplan_rng *g)
{
	int64_t r = (int64_t)yearplan_rng_below(g, (uint64_t)t->total);
	size_t pos = 0;

	/* Descends to the last position whose prefix sum is <= r: the item
	 * after it holds unit r. */
	for (size_t step = t->top; step > 0; step >>= 1) {
		if (pos + step <= t->n && t->sum[pos + step] <= r) {
			pos += step;
			r -= t->sum[pos];
		}
	}
	for (size_t i = pos + 1; i <= t->n; i += i & (0 - i))
		t->sum[i]--;
	t->total--;
	return pos;
}

/* --- the plan ------------------------------------------------------------------------ */

struct bookplan {
	const struct bookplan_ref *ref;
	uint64_t seed;
	int year;
	int days;
	int64_t year_end_usec;
	int64_t *counts; /* [hospital * PROFILE_CHANNEL_COUNT + channel], reference order */
	int64_t planned[PROFILE_CHANNEL_COUNT];
	int64_t planned_total;
	int64_t *platform_counts; /* reference order */
	int64_t platforms_total;
	int64_t *day_counts; /* [channel * days + day]; phone's stay 0 */
	size_t capacity;
};

const char *bookplan_batch_source(enum profile_channel c)
{
	if (c == PROFILE_CHANNEL_PHONE || (unsigned)c >= PROFILE_CHANNEL_COUNT)
		return NULL;
	return profile_channel_name(c);
}

static size_t bookplan_find_name(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return n;
}

void bookplan_free(struct bookplan *p)
{
	if (p == NULL)
		return;
	free(p->counts);
	free(p->platform_counts);
	free(p->day_counts);
	free(p);
}

/*
 * Fixes every count up front: per hospital and channel, per platform (both
 * in the reference's order, matched by name), and per day for each channel
 * sent in batches, apportioned by largest remainder over day weights drawn
 * like the call plan's (the weekday's volume with a little noise).
 */
struct bookplan *bookplan_new(const struct bookplan_ref *ref, const struct profile *scaled,
			      uint64_t seed, char *err, size_t err_len)
{
	struct bookplan *p = calloc(1, sizeof *p);
	int64_t *weights = NULL;
	struct yearplan_rng g;

	if (p == NULL)
		goto oom;
	if (scaled->year < 1971 || scaled->year > 9998) {
		snprintf(err, err_len, "year: %d cannot be replayed (1971..9998)", scaled->year);
		goto fail;
	}
	p->ref = ref;
	p->seed = seed;
	p->year = scaled->year;
	p->days = timeutil_days_in_year(scaled->year);
	p->year_end_usec = timeutil_local_midnight(scaled->year + 1, 1, 1);
	p->counts = calloc(ref->n_hospitals * PROFILE_CHANNEL_COUNT + 1, sizeof *p->counts);
	p->platform_counts = calloc(ref->n_platforms + 1, sizeof *p->platform_counts);
	p->day_counts = calloc((size_t)p->days * PROFILE_CHANNEL_COUNT, sizeof *p->day_counts);
	weights = calloc((size_t)p->days, sizeof *weights);
	if (p->counts == NULL || p->platform_counts == NULL || p->day_counts == NULL ||
	    weights == NULL)
		goto oom;

	for (size_t i = 0; scaled->has_bookings && i < scaled->n_hospitals; i++) {
		const struct profile_hospital *h = &scaled->hospitals[i];
		size_t k = bookplan_find_name(ref->hospital_names, ref->n_hospitals, h->hospital);
		if (k == ref->n_hospitals) {
			snprintf(
				err, err_len,
				"bookings.by_hospital[%zu].hospital: \"%s\" is not a hospital of the "
				"reference data",
				i, h->hospital);
			goto fail;
		}
		for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++) {
			if (h->by_channel[c] < 0) {
				snprintf(err, err_len, "bookings.by_hospital[%zu].%s: negative", i,
					 profile_channel_name((enum profile_channel)c));
				goto fail;
			}
			p->counts[k * PROFILE_CHANNEL_COUNT + (size_t)c] += h->by_channel[c];
			p->planned[c] += h->by_channel[c];
			p->planned_total += h->by_channel[c];
		}
	}
	for (size_t i = 0; scaled->has_platforms && i < scaled->n_platforms; i++) {
		const struct profile_platform *pl = &scaled->platforms[i];
		size_t k = bookplan_find_name(ref->platform_names, ref->n_platforms, pl->platform);
		if (k == ref->n_platforms) {
			snprintf(err, err_len,
				 "booking_platforms.by_platform[%zu].platform: \"%s\" is not a "
				 "platform of the reference data",
				 i, pl->platform);
			goto fail;
		}
		if (pl->bookings < 0) {
			snprintf(err, err_len,
				 "booking_platforms.by_platform[%zu].bookings: negative", i);
			goto fail;
		}
		p->platform_counts[k] += pl->bookings;
		p->platforms_total += pl->bookings;
	}
	if (p->platforms_total >
	    p->planned[PROFILE_CHANNEL_ONLINE_12320] + p->planned[PROFILE_CHANNEL_THIRD_PARTY]) {
		snprintf(err, err_len,
			 "booking_platforms.total: %" PRId64
			 " platform bookings exceed the %" PRId64
			 " online_12320 + third_party bookings",
			 p->platforms_total,
			 p->planned[PROFILE_CHANNEL_ONLINE_12320] +
				 p->planned[PROFILE_CHANNEL_THIRD_PARTY]);
		goto fail;
	}

	yearplan_rng_seed(&g, seed ^ BOOKPLAN_WEIGHTS_SEED_MIX);
	for (int d = 0; d < p->days; d++) {
		int minute, weekday;
		timeutil_local_clock(timeutil_local_midnight(p->year, 1, 1 + d), &minute, &weekday);
		weights[d] = yearplan_weekday_weight(weekday) *
			     (int64_t)(90 + yearplan_rng_below(&g, 21));
	}
	for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++)
		if (c != PROFILE_CHANNEL_PHONE)
			profile_apportion(p->planned[c], weights, (size_t)p->days,
					  &p->day_counts[(size_t)c * (size_t)p->days]);
	for (int d = 0; d < p->days; d++) {
		int64_t on_day = 0;
		for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++)
			on_day += p->day_counts[(size_t)c * (size_t)p->days + (size_t)d];
		if (on_day > UINT32_MAX) {
			snprintf(err, err_len,
				 "bookings.total: %" PRId64
				 " bookings in one day cannot be planned",
				 on_day);
			goto fail;
		}
		if ((size_t)on_day > p->capacity)
			p->capacity = (size_t)on_day;
	}
	free(weights);
	return p;
oom:
	snprintf(err, err_len, "out of memory");
fail:
	free(weights);
	bookplan_free(p);
	return NULL;
}

const struct bookplan_ref *bookplan_reference(const struct bookplan *p)
{
	return p->ref;
}

int64_t bookplan_planned(const struct bookplan *p, enum profile_channel c)
{
	return (unsigned)c < PROFILE_CHANNEL_COUNT ? p->planned[c] : 0;
}

int64_t bookplan_planned_total(const struct bookplan *p)
{
	return p->planned_total;
}

int64_t bookplan_planned_platforms(const struct bookplan *p)
{
	return p->platforms_total;
}

int bookplan_day_count(const struct bookplan *p)
{
	return p->days;
}

size_t bookplan_day_capacity(const struct bookplan *p)
{
	return p->capacity;
}

/* "<tag><seed>-<yyyymmdd>-<n>": at most 1 + 20 + 1 + 8 + 1 + 20 = 51
 * characters, whatever the seed, year and number. */
static void bookplan_number(struct bookplan_booking *b, uint64_t seed, int64_t local_day,
			    uint64_t n)
{
	int y, m, d;

	timeutil_civil_from_days(local_day, &y, &m, &d);
	snprintf(b->booking_no, sizeof b->booking_no, "%c%" PRIu64 "-%04d%02d%02d-%" PRIu64,
		 bookplan_channel_tags[b->channel], seed, y, m, d, n);
}

static uint32_t bookplan_draw_department(struct yearplan_rng *g)
{
	return (uint32_t)yearplan_rng_weighted(g, bookplan_department_weights,
					       N_ELEMENTS(bookplan_departments),
					       BOOKPLAN_DEPARTMENT_WEIGHT_TOTAL);
}

/* --- phone bookings ------------------------------------------------------------------- */

struct bookplan_phone {
	const struct bookplan *plan;
	struct yearplan_rng rng;
	struct bookplan_tree hospitals; /* phone bookings left per hospital */
	int64_t calls_left;             /* booking calls of the own centre not yet seen */
	int64_t issued;
};

struct bookplan_phone *bookplan_phone_new(const struct bookplan *p, const struct replay *calls,
					  char *err, size_t err_len)
{
	struct bookplan_phone *it = calloc(1, sizeof *it);
	const int64_t booking_calls = replay_planned_accepted(calls, 0, CATEGORY_BOOKING);

	if (it == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	it->plan = p;
	it->calls_left = booking_calls;
	yearplan_rng_seed(&it->rng, p->seed ^ BOOKPLAN_PHONE_SEED_MIX);
	if (bookplan_tree_init(&it->hospitals, &p->counts[PROFILE_CHANNEL_PHONE],
			       PROFILE_CHANNEL_COUNT, p->ref->n_hospitals) != 0) {
		snprintf(err, err_len, "out of memory");
		bookplan_phone_free(it);
		return NULL;
	}
	if (it->hospitals.total > booking_calls) {
		snprintf(err, err_len,
			 "bookings.total.phone: %" PRId64 " phone bookings, but the call plan has "
			 "only %" PRId64 " booking calls of centre %s to make them in",
			 it->hospitals.total, booking_calls, p->ref->centre);
		bookplan_phone_free(it);
		return NULL;
	}
	return it;
}

/* The moment of a phone booking: a whole second from the call's answer to
 * the plan's next event (the transfer, or the end), but never past the
 * year's last second: the last calls of the year may end in the next one,
 * and a booking counts in the year it was made. */
static int64_t bookplan_phone_moment(struct bookplan_phone *it, const struct replay_call *call)
{
	int64_t answered = call->offered_usec, until = INT64_MAX;

	for (size_t i = 0; i < call->n_events; i++) {
		if (call->events[i].type != REPLAY_EVENT_ANSWERED)
			continue;
		answered = call->events[i].usec;
		if (i + 1 < call->n_events)
			until = call->events[i + 1].usec;
		break;
	}
	const int64_t year_last = it->plan->year_end_usec - YEARPLAN_USEC_PER_SEC;
	if (until > year_last)
		until = year_last;
	if (until < answered)
		until = answered;
	uint64_t span = (uint64_t)((until - answered) / YEARPLAN_USEC_PER_SEC);
	return answered + (int64_t)yearplan_rng_below(&it->rng, span + 1) * YEARPLAN_USEC_PER_SEC;
}

bool bookplan_phone_next(struct bookplan_phone *it, const struct replay_call *call,
			 struct bookplan_booking *out)
{
	if (call->centre_index != 0 || call->category != CATEGORY_BOOKING ||
	    call->outcome != REPLAY_OUTCOME_HANDLED || it->calls_left <= 0)
		return false;
	/* Selection sampling: this call carries one of the bookings left with
	 * probability bookings left / calls left. */
	bool chosen = (int64_t)yearplan_rng_below(&it->rng, (uint64_t)it->calls_left) <
		      it->hospitals.total;
	it->calls_left--;
	if (!chosen)
		return false;

	memset(out, 0, sizeof *out);
	out->channel = PROFILE_CHANNEL_PHONE;
	out->hospital = (uint32_t)bookplan_tree_draw(&it->hospitals, &it->rng);
	out->department = bookplan_draw_department(&it->rng);
	out->platform = -1;
	out->booked_usec = bookplan_phone_moment(it, call);
	const int64_t day = timeutil_local_day(out->booked_usec);
	out->visit_day = day + (int64_t)yearplan_rng_below(&it->rng, BOOKPLAN_VISIT_DAYS_MAX + 1);
	snprintf(out->call_id, sizeof out->call_id, "%s", call->call_id);
	out->call_index = call->index;
	bookplan_number(out, it->plan->seed, day, call->index);
	it->issued++;
	return true;
}

int64_t bookplan_phone_issued(const struct bookplan_phone *it)
{
	return it->issued;
}

void bookplan_phone_free(struct bookplan_phone *it)
{
	if (it == NULL)
		return;
	bookplan_tree_free(&it->hospitals);
	free(it);
}

/* --- the other channels, day by day ------------------------------------------------------- */

/* A booking before it is sorted and numbered. */
struct bookplan_slot {
	int64_t booked_usec;
	int64_t visit_day;
	uint32_t seq; /* generation order within the day: the last tiebreak */
	uint32_t hospital;
	uint32_t department;
	int32_t platform;
	uint8_t channel;
};

struct bookplan_days {
	const struct bookplan *plan;
	struct yearplan_rng rng;
	struct bookplan_tree hospitals[PROFILE_CHANNEL_COUNT]; /* phone's unused */
	struct bookplan_tree platforms;
	int64_t eligible_left; /* online_12320 and third_party bookings not yet drawn */
	int next_day;
	struct bookplan_slot *slots;
	struct bookplan_booking *bookings;
};

void bookplan_days_free(struct bookplan_days *it)
{
	if (it == NULL)
		return;
	for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++)
		bookplan_tree_free(&it->hospitals[c]);
	bookplan_tree_free(&it->platforms);
	free(it->slots);
	free(it->bookings);
	free(it);
}

struct bookplan_days *bookplan_days_new(const struct bookplan *p)
{
	struct bookplan_days *it = calloc(1, sizeof *it);

	if (it == NULL)
		return NULL;
	it->plan = p;
	yearplan_rng_seed(&it->rng, p->seed ^ BOOKPLAN_DAYS_SEED_MIX);
	for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++) {
		size_t n = c == PROFILE_CHANNEL_PHONE ? 0 : p->ref->n_hospitals;
		if (bookplan_tree_init(&it->hospitals[c], &p->counts[c], PROFILE_CHANNEL_COUNT,
				       n) != 0)
			goto fail;
	}
	if (bookplan_tree_init(&it->platforms, p->platform_counts, 1, p->ref->n_platforms) != 0)
		goto fail;
	it->eligible_left =
		p->planned[PROFILE_CHANNEL_ONLINE_12320] + p->planned[PROFILE_CHANNEL_THIRD_PARTY];
	it->slots = calloc(p->capacity + 1, sizeof *it->slots);
	it->bookings = calloc(p->capacity + 1, sizeof *it->bookings);
	if (it->slots == NULL || it->bookings == NULL)
		goto fail;
	return it;
fail:
	bookplan_days_free(it);
	return NULL;
}

static int bookplan_slot_compare(const void *a, const void *b)
{
	const struct bookplan_slot *x = a, *y = b;
	if (x->channel != y->channel)
		return x->channel < y->channel ? -1 : 1;
	if (x->booked_usec != y->booked_usec)
		return x->booked_usec < y->booked_usec ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* Draws one booking of channel c on the day into *s. */
static void bookplan_draw_slot(struct bookplan_days *it, const struct yearplan_day *day,
			       enum profile_channel c, struct bookplan_slot *s)
{
	struct yearplan_rng *g = &it->rng;
	int64_t lo = 0, hi = day->seconds;

	if (c == PROFILE_CHANNEL_CLINIC && day->seconds > BOOKPLAN_CLINIC_UNTIL_S) {
		lo = BOOKPLAN_CLINIC_FROM_S;
		hi = BOOKPLAN_CLINIC_UNTIL_S;
	}
	s->channel = (uint8_t)c;
	s->hospital = (uint32_t)bookplan_tree_draw(&it->hospitals[c], g);
	s->department = bookplan_draw_department(g);
	s->booked_usec =
		day->midnight + yearplan_sample_offset(g, day, lo, hi) * YEARPLAN_USEC_PER_SEC;
	s->visit_day = timeutil_local_day(s->booked_usec) +
		       (int64_t)yearplan_rng_below(g, BOOKPLAN_VISIT_DAYS_MAX + 1);
	s->platform = -1;
	if (c == PROFILE_CHANNEL_ONLINE_12320 || c == PROFILE_CHANNEL_THIRD_PARTY) {
		/* Selection sampling over the year's online and third-party
		 * bookings: exactly the platforms' total of them name one. */
		bool named = (int64_t)yearplan_rng_below(g, (uint64_t)it->eligible_left) <
			     it->platforms.total;
		it->eligible_left--;
		if (named)
			s->platform = (int32_t)bookplan_tree_draw(&it->platforms, g);
	}
}

bool bookplan_days_next(struct bookplan_days *it, int *day_index,
			const struct bookplan_booking **bookings, size_t *n)
{
	const struct bookplan *p = it->plan;
	struct yearplan_day day;
	size_t count = 0;

	if (it->next_day >= p->days)
		return false;
	const int d = it->next_day++;
	yearplan_day_frame(p->year, d, &day);
	for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++) {
		const int64_t want = p->day_counts[(size_t)c * (size_t)p->days + (size_t)d];
		for (int64_t k = 0; k < want; k++) {
			struct bookplan_slot *s = &it->slots[count];
			bookplan_draw_slot(it, &day, (enum profile_channel)c, s);
			s->seq = (uint32_t)count++;
		}
	}
	qsort(it->slots, count, sizeof *it->slots, bookplan_slot_compare);

	const int64_t local_day = timeutil_local_day(day.midnight);
	uint64_t number = 0;
	for (size_t i = 0; i < count; i++) {
		const struct bookplan_slot *s = &it->slots[i];
		struct bookplan_booking *b = &it->bookings[i];
		memset(b, 0, sizeof *b);
		b->channel = (enum profile_channel)s->channel;
		b->hospital = s->hospital;
		b->department = s->department;
		b->platform = s->platform;
		b->booked_usec = s->booked_usec;
		b->visit_day = s->visit_day;
		number = i > 0 && it->slots[i - 1].channel == s->channel ? number + 1 : 1;
		bookplan_number(b, p->seed, local_day, number);
	}
	*day_index = d;
	*bookings = it->bookings;
	*n = count;
	return true;
}

/* --- what is sent ------------------------------------------------------------------------ */

static void bookplan_format_date(int64_t local_day, char out[16])
{
	int y, m, d;
	timeutil_civil_from_days(local_day, &y, &m, &d);
	snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
}

/* Every string sent is a code ([a-z0-9_-]), a booking_no or call id (the
 * API's id alphabet), a date or an RFC 3339 time: the JSON and the CSV need
 * no escaping or quoting. */
int bookplan_format_json(const struct bookplan *p, const struct bookplan_booking *b,
			 const char *centre, const char *agent, char *buf, size_t len)
{
	char visit[16], booked[TIMEUTIL_RFC3339_LEN], platform[64] = "", call[96] = "",
						      sender[160] = "";

	bookplan_format_date(b->visit_day, visit);
	timeutil_format_local(b->booked_usec, booked);
	if (b->platform >= 0)
		snprintf(platform, sizeof platform, ",\"platform\":\"%s\"",
			 bookplan_ref_platform_code(p->ref, (size_t)b->platform));
	if (b->call_id[0] != '\0')
		snprintf(call, sizeof call, ",\"call_id\":\"%s\"", b->call_id);
	if (centre != NULL)
		snprintf(sender, sizeof sender, ",\"centre\":\"%s\"%s%s%s", centre,
			 agent != NULL ? ",\"agent\":\"" : "", agent != NULL ? agent : "",
			 agent != NULL ? "\"" : "");
	int n = snprintf(buf, len,
			 "{\"booking_no\":\"%s\",\"hospital\":\"%s\",\"department\":\"%s\","
			 "\"visit_date\":\"%s\",\"channel\":\"%s\"%s%s,\"booked_at\":\"%s\"%s}",
			 b->booking_no, bookplan_ref_hospital_code(p->ref, b->hospital),
			 bookplan_departments[b->department].code, visit,
			 profile_channel_name(b->channel), platform, call, booked, sender);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

int bookplan_format_csv(const struct bookplan *p, const struct bookplan_booking *b, char *buf,
			size_t len)
{
	char visit[16], booked[TIMEUTIL_RFC3339_LEN];

	bookplan_format_date(b->visit_day, visit);
	timeutil_format_local(b->booked_usec, booked);
	int n = snprintf(
		buf, len, "%s,%s,%s,%s,%s,%s,%s,%s\n", b->booking_no,
		bookplan_ref_hospital_code(p->ref, b->hospital),
		bookplan_departments[b->department].code, visit, profile_channel_name(b->channel),
		b->platform >= 0 ? bookplan_ref_platform_code(p->ref, (size_t)b->platform) : "",
		b->call_id, booked);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}
