/* kpi.c: service KPI formulas (see kpi.h for the definitions and where
 * each comes from).
 *
 * A call is sorted once, when it is added, by the thresholds the totals
 * were started with; the totals then hold only counts and sums, which is
 * what lets cells be merged and kept by the store. Every ratio goes through
 * ratio_or_undefined, the one place a denominator is checked.
 */
#include "kpi.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define USEC_PER_SEC 1000000.0

/* A wait may exceed the offer-to-answer time by this much (seconds): the
 * rounding of microseconds into a double of seconds, never a unit mix-up. */
#define WAIT_SLACK_S 1e-3

static const char *const variant_names[KPI_SL_VARIANT_COUNT] = {
	"answered_based",
	"offered_based",
	"sl2",
};

const char *kpi_variant_name(enum kpi_service_level_variant v)
{
	return (unsigned)v < KPI_SL_VARIANT_COUNT ? variant_names[v] : "unknown";
}

int kpi_variant_from_name(const char *name, enum kpi_service_level_variant *out)
{
	for (int i = 0; i < KPI_SL_VARIANT_COUNT; i++) {
		if (strcmp(name, variant_names[i]) == 0) {
			*out = (enum kpi_service_level_variant)i;
			return 0;
		}
	}
	return -EINVAL;
}

int kpi_definitions_check(const struct kpi_definitions *d)
{
	if (d->short_abandon_s < 0 || d->short_abandon_s > KPI_THRESHOLD_MAX_S)
		return -EINVAL;
	if (d->service_level_s < 0 || d->service_level_s > KPI_THRESHOLD_MAX_S)
		return -EINVAL;
	if ((unsigned)d->variant >= KPI_SL_VARIANT_COUNT)
		return -EINVAL;
	return 0;
}

int kpi_totals_init(struct kpi_totals *t, const struct kpi_definitions *d)
{
	if (kpi_definitions_check(d) != 0)
		return -EINVAL;
	memset(t, 0, sizeof *t);
	t->short_abandon_s = d->short_abandon_s;
	t->service_level_s = d->service_level_s;
	return 0;
}

static bool duration_ok(double s)
{
	return isfinite(s) && s >= 0;
}

/* The checks of kpi_add_call, in the order kpi.h lists them. */
static bool call_facts_consistent(const struct kpi_call *c)
{
	bool answered = c->answered_at != 0;

	if (answered && c->abandoned)
		return false;
	if (c->ended_at == 0 || c->ended_at < c->offered_at)
		return false;
	if (answered && (c->answered_at < c->offered_at || c->answered_at > c->ended_at))
		return false;
	if (!duration_ok(c->wait_s) || !duration_ok(c->talk_s) || !duration_ok(c->hold_s) ||
	    !duration_ok(c->wrap_up_s))
		return false;
	int64_t wait_end = answered ? c->answered_at : c->ended_at;
	if (c->wait_s > (double)(wait_end - c->offered_at) / USEC_PER_SEC + WAIT_SLACK_S)
		return false;
	if (!answered && (c->talk_s != 0 || c->hold_s != 0 || c->wrap_up_s != 0))
		return false;
	return true;
}

int kpi_add_call(struct kpi_totals *t, const struct kpi_call *c)
{
	if (!call_facts_consistent(c))
		return -EINVAL;

	bool within_sl = c->wait_s <= (double)t->service_level_s;
	if (c->answered_at != 0) {
		t->answered++;
		t->answered_within_sl += within_sl;
		t->answered_wait_s += c->wait_s;
		t->handle_s += c->talk_s + c->hold_s + c->wrap_up_s;
	} else if (c->abandoned) {
		if (c->wait_s < (double)t->short_abandon_s) {
			t->short_abandons++;
		} else {
			t->abandoned++;
			t->abandoned_within_sl += within_sl;
		}
	} else {
		t->overflowed++;
	}
	return 0;
}

int kpi_add_agent_time(struct kpi_totals *t, const struct kpi_agent_time *a)
{
	if (!duration_ok(a->logged_in_s) || !duration_ok(a->busy_s) || a->busy_s > a->logged_in_s)
		return -EINVAL;
	t->logged_in_s += a->logged_in_s;
	t->busy_s += a->busy_s;
	return 0;
}

int kpi_totals_merge(struct kpi_totals *into, const struct kpi_totals *from)
{
	if (into->short_abandon_s != from->short_abandon_s ||
	    into->service_level_s != from->service_level_s)
		return -EINVAL;
	into->answered += from->answered;
	into->answered_within_sl += from->answered_within_sl;
	into->abandoned += from->abandoned;
	into->abandoned_within_sl += from->abandoned_within_sl;
	into->short_abandons += from->short_abandons;
	into->overflowed += from->overflowed;
	into->answered_wait_s += from->answered_wait_s;
	into->handle_s += from->handle_s;
	into->logged_in_s += from->logged_in_s;
	into->busy_s += from->busy_s;
	return 0;
}

static double ratio_or_undefined(double numerator, double denominator)
{
	return denominator > 0 ? numerator / denominator : KPI_UNDEFINED;
}

int kpi_compute(const struct kpi_totals *t, const struct kpi_definitions *d, struct kpi_result *out)
{
	if (kpi_definitions_check(d) != 0 || d->short_abandon_s != t->short_abandon_s ||
	    d->service_level_s != t->service_level_s)
		return -EINVAL;

	struct kpi_result r;
	memset(&r, 0, sizeof r);
	r.answered = t->answered;
	r.abandoned = t->abandoned;
	r.offered = t->answered + t->abandoned;
	r.short_abandons = t->short_abandons;
	r.overflowed = t->overflowed;
	r.answered_within_sl = t->answered_within_sl;
	r.abandoned_within_sl = t->abandoned_within_sl;

	r.asa_s = ratio_or_undefined(t->answered_wait_s, (double)t->answered);
	r.aht_s = ratio_or_undefined(t->handle_s, (double)t->answered);
	r.occupancy = ratio_or_undefined(t->busy_s, t->logged_in_s);

	switch (d->variant) {
	case KPI_SL_ANSWERED_BASED:
		r.service_level =
			ratio_or_undefined((double)t->answered_within_sl, (double)t->answered);
		break;
	case KPI_SL_OFFERED_BASED:
		r.service_level =
			ratio_or_undefined((double)t->answered_within_sl, (double)r.offered);
		break;
	case KPI_SL_SL2:
	case KPI_SL_VARIANT_COUNT:
		r.service_level =
			ratio_or_undefined((double)(t->answered_within_sl + t->abandoned_within_sl),
					   (double)r.offered);
		break;
	}
	*out = r;
	return 0;
}

/* The sentence saying what d's service level is. */
static void describe_variant(const struct kpi_definitions *d, char *buf, size_t len)
{
	switch (d->variant) {
	case KPI_SL_ANSWERED_BASED:
		snprintf(buf, len,
			 "Service level (answered-based) is the share of answered calls that were "
			 "answered within %d s.",
			 d->service_level_s);
		break;
	case KPI_SL_OFFERED_BASED:
		snprintf(buf, len,
			 "Service level (offered-based) is the calls answered within %d s divided "
			 "by the answered calls plus the abandoned calls.",
			 d->service_level_s);
		break;
	case KPI_SL_SL2:
	case KPI_SL_VARIANT_COUNT:
		snprintf(buf, len,
			 "Service level (SL2, as Asterisk's ServicelevelPerf2) is the calls "
			 "answered or abandoned within %d s divided by the offered calls.",
			 d->service_level_s);
		break;
	}
}

int kpi_describe(const struct kpi_definitions *d, char *buf, size_t len)
{
	if (kpi_definitions_check(d) != 0)
		return -EINVAL;

	char shorts[200];
	if (d->short_abandon_s > 0)
		snprintf(shorts, sizeof shorts,
			 "Callers who hung up after waiting less than %d s are short abandons: "
			 "counted apart, in neither offered nor abandoned.",
			 d->short_abandon_s);
	else
		snprintf(shorts, sizeof shorts,
			 "Every caller who hung up while waiting counts as abandoned (no "
			 "short-abandon threshold).");

	char variant[200];
	describe_variant(d, variant, sizeof variant);

	int n = snprintf(
		buf, len,
		"Offered calls are the calls answered or abandoned in the queue; calls "
		"sent on to an overflow target are counted apart. %s %s A call is within "
		"%d s when it waited %d s or less. ASA is the mean queue wait of answered "
		"calls. AHT is talk plus hold plus wrap-up time per answered call. "
		"Occupancy is the agents' talk, hold and wrap-up time divided by their "
		"logged-in time. A figure with nothing to divide by is undefined, not zero.",
		shorts, variant, d->service_level_s, d->service_level_s);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}
