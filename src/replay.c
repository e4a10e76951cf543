/* replay.c: the simulator's plan generator: turns a scaled year profile and a
 * seed into a deterministic stream of calls with their gateway events.
 *
 * Randomness, the local days and the daily and weekly rhythm come from
 * yearplan.h (shared with the bookings plan): every draw is an integer, so
 * the plan does not depend on libm. The year is generated one local day at
 * a time: per-day counts come from a largest-remainder apportionment fixed
 * up front, a day's compact records are drawn, sorted by offered time and
 * expanded into full calls one by one. Work orders are few (14,716 in
 * Nanjing's year): their times are all drawn in replay_new, and each order's
 * details come from its own generator when it is asked for.
 */
#include "replay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"
#include "yearplan.h"

#define USEC_PER_SEC INT64_C(1000000)
/* Abandoned calls planned on top of the accepted ones, in percent. */
#define REPLAY_ABANDON_PERCENT 2
/* Simulated agents per centre ("a1" .. "a<n>"). */
#define REPLAY_AGENTS 60
/* The last accepted call of a centre is offered this long before the end of
 * the local year (23:59:00 on 31 December). */
#define REPLAY_LAST_CALL_BEFORE_END_S 60

/* Common Chinese mobile prefixes for fake caller numbers. */
static const char *const replay_mobile_prefixes[] = {
	"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
	"153", "155", "156", "157", "158", "159", "166", "170", "173", "176", "177", "178",
	"180", "181", "182", "183", "185", "186", "187", "188", "189", "198", "199",
};

/* IVR paths that lead to each category under conf/rules.yaml. */
static const char *const replay_paths_consultation[] = {"2", "21", "22", "23", "24"};
static const char *const replay_paths_complaint[] = {"3", "31", "32"};
static const char *const replay_paths_booking[] = {"1", "11", "12", "13"};
static const char *const replay_paths_expert_qa[] = {"4", "41", "42"};
static const char *const replay_paths_crisis_menu[] = {"5", "51", "52"};
static const char *const replay_paths_survey[] = {"6", "61"};
static const char *const replay_paths_self_service[] = {"9", "91", "92"};
static const char *const replay_paths_other[] = {"", "0", "00", "0#"};
/* What a caller flagged recent_crisis may have pressed: the flag decides. */
static const char *const replay_paths_flagged[] = {"", "0", "1", "2"};

#define REPLAY_DIALLED_NORMAL "12320"
#define REPLAY_DIALLED_CRISIS "12356"

/* Work orders: the share of consultations (the rest are complaints) and of
 * urgent orders, in percent. */
#define REPLAY_ORDER_CONSULTATION_PERCENT 20
#define REPLAY_ORDER_URGENT_PERCENT 2
/* Mixed into the seed of the orders' generator, so that they draw nothing
 * from the calls' generator. */
#define REPLAY_ORDER_SEED_MIX UINT64_C(0x6a09e667f3bcc909)

/* What citizens bring to the 12345 hotlines about health care. No quote or
 * backslash in any of them: the JSON needs no escaping. */
struct replay_order_text {
	const char *title;
	const char *content;
};
static const struct replay_order_text replay_order_complaints[] = {
	{"挂号难", "多次在网上和电话预约均显示无号，现场排队也挂不上专家号，希望增加号源。"},
	{"候诊时间过长", "上午八点到医院候诊，十一点仍未就诊，排队秩序混乱，希望改进。"},
	{"医务人员服务态度差", "就诊时医生态度生硬，不耐心解答病情问题，要求医院核实处理。"},
	{"医疗收费有疑问", "住院结算清单中有未使用的检查项目收费，要求医院核对并退还。"},
	{"急救车到达慢", "拨打120后等待四十分钟急救车才到，要求说明原因并改进调度。"},
	{"药品短缺", "医院药房长期缺少常用慢性病药品，患者只能到外面药店自费购买。"},
	{"体检报告延迟", "入职体检已过两周仍未拿到报告，影响入职，要求尽快出具。"},
	{"就医环境差", "门诊楼卫生间脏乱，候诊区座位不足，希望医院改善就医环境。"},
};
static const struct replay_order_text replay_order_consultations[] = {
	{"疫苗接种咨询", "孩子的第二针疫苗接种时间和地点如何安排，需要提前预约吗？"},
	{"医保报销咨询", "异地就医的住院费用怎样办理医保报销，需要准备哪些材料？"},
	{"健康证办理咨询", "办理食品从业人员健康证需要到哪里体检，多长时间可以领证？"},
	{"预约挂号方式咨询", "老年人不会使用手机，除了网上预约还有哪些挂号方式？"},
	{"传染病防控咨询", "家中有人确诊流感，其他家庭成员需要采取哪些防护措施？"},
	{"出生医学证明咨询", "出生医学证明信息填写有误，应当到哪里办理更正手续？"},
};
static const char *const replay_surnames[] = {
	"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
	"徐", "孙", "马", "朱", "胡", "郭", "何", "林", "高", "罗",
};
static const char *const replay_given_names[] = {
	"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊",   "军",
	"洋", "勇", "艳", "杰",   "娟", "涛", "明", "超", "秀兰", "霞",
};
static const char *const replay_order_source_names[REPLAY_ORDER_SOURCES] = {
	"city_12345",
	"province_12345",
};
/* The source's part of an external_no: short, so that ids stay in 64. */
static const char *const replay_order_source_tags[REPLAY_ORDER_SOURCES] = {"city", "prov"};

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* A day's call before expansion: everything needed to sort and to expand. */
struct replay_slot {
	int64_t offered_usec;
	uint32_t seq; /* generation order within the day: the last tiebreak */
	uint16_t centre;
	uint8_t category;
	uint8_t abandoned;
};

struct replay_centre {
	const char *code;
	int64_t accepted[CATEGORY_COUNT];
	int64_t accepted_total;
	int64_t remaining[CATEGORY_COUNT]; /* accepted calls not yet drawn */
	int64_t remaining_total;
	int64_t abandon_weight[CATEGORY_COUNT]; /* the mix abandoned calls are drawn from */
	int64_t abandon_weight_total;
	int64_t abandoned;
	int n_edge;             /* 0, 1 or 2 boundary calls */
	int64_t *day_accepted;  /* per local day, boundary calls excluded */
	int64_t *day_abandoned; /* per local day */
	uint64_t issued;        /* calls expanded so far: the last index */
};

/* A work order before expansion: when, and from where. */
struct replay_order_slot {
	int64_t received_usec;
	uint32_t index; /* the draw's sequence number, then the 1-based per source */
	uint8_t source;
};

struct replay {
	const struct profile *profile;
	uint64_t seed;
	int year;
	int days;
	struct yearplan_rng rng;
	struct replay_centre *centres;
	size_t n_centres;
	int64_t planned_calls;

	int next_day; /* the next local day to generate */
	struct replay_slot *slots;
	size_t n_slots;
	size_t cap_slots;
	size_t next_slot;

	int64_t planned_orders[REPLAY_ORDER_SOURCES];
	struct replay_order_slot *orders; /* in received order */
	size_t n_orders;
};

static const char *replay_rng_pick(struct yearplan_rng *g, const char *const *items, size_t n)
{
	return items[yearplan_rng_below(g, n)];
}

static bool replay_code_is_id_safe(const char *code)
{
	if (code == NULL || *code == '\0')
		return false;
	for (const char *p = code; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

static int replay_decimal_digits(uint64_t v)
{
	int n = 1;
	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* The per-centre counts, checks and per-day apportionment. Own centre first,
 * then the others of province.by_centre in file order. */
static int replay_plan_centres(struct replay *r, const int64_t *day_weight, char *err,
			       size_t err_len)
{
	const struct profile *p = r->profile;
	size_t n = 1;

	for (size_t i = 0; p->has_province && i < p->n_centres; i++)
		if (p->centres[i].code == NULL || strcmp(p->centres[i].code, p->centre_code) != 0)
			n++;
	if (n > UINT16_MAX) {
		snprintf(err, err_len,
			 "province.by_centre: %zu centres, at most %u can be replayed", n,
			 (unsigned)UINT16_MAX);
		return -1;
	}
	r->centres = calloc(n, sizeof *r->centres);
	if (r->centres == NULL) {
		snprintf(err, err_len, "out of memory planning %zu centres", n);
		return -1;
	}
	r->n_centres = n;

	struct replay_centre *own = &r->centres[0];
	own->code = p->centre_code;
	for (int c = 0; c < CATEGORY_COUNT; c++)
		own->accepted[c] = p->calls_by_category[c];

	size_t k = 1;
	for (size_t i = 0; p->has_province && i < p->n_centres; i++) {
		const struct profile_centre *pc = &p->centres[i];
		if (pc->code != NULL && strcmp(pc->code, p->centre_code) == 0)
			continue;
		struct replay_centre *rc = &r->centres[k++];
		rc->code = pc->code;
		if (pc->calls <= 0)
			continue;
		int64_t own_total = 0;
		for (int c = 0; c < CATEGORY_COUNT; c++)
			own_total += own->accepted[c];
		if (own_total > 0)
			profile_apportion(pc->calls, own->accepted, CATEGORY_COUNT, rc->accepted);
		else
			rc->accepted[CATEGORY_OTHER] = pc->calls;
	}

	for (size_t i = 0; i < n; i++) {
		struct replay_centre *rc = &r->centres[i];
		const char *field = i == 0 ? "centre.code" : "province.by_centre.code";

		if (!replay_code_is_id_safe(rc->code)) {
			snprintf(err, err_len,
				 "%s: \"%s\" cannot be sent to the gateway API: use only "
				 "A-Z a-z 0-9 . _ : -",
				 field, rc->code != NULL ? rc->code : "");
			return -1;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(r->centres[j].code, rc->code) == 0) {
				snprintf(err, err_len, "%s: centre \"%s\" appears twice", field,
					 rc->code);
				return -1;
			}
		}
		for (int c = 0; c < CATEGORY_COUNT; c++) {
			if (rc->accepted[c] < 0) {
				snprintf(err, err_len, "calls.by_category.%s: negative count",
					 category_name((enum category)c));
				return -1;
			}
			rc->accepted_total += rc->accepted[c];
			rc->remaining[c] = rc->accepted[c];
			/* An abandoned call never ends in the IVR. */
			rc->abandon_weight[c] = c == CATEGORY_IVR_SELF_SERVICE ? 0 :
										 rc->accepted[c];
			rc->abandon_weight_total += rc->abandon_weight[c];
		}
		rc->remaining_total = rc->accepted_total;
		rc->abandoned = (rc->accepted_total * REPLAY_ABANDON_PERCENT + 50) / 100;
		rc->n_edge = rc->accepted_total >= 2 ? 2 : (int)rc->accepted_total;

		/* "s<seed>-<centre>-<year>-<index>" and the event suffix "-<n>". */
		uint64_t max_index = (uint64_t)(rc->accepted_total + rc->abandoned);
		size_t id_len = 1 + (size_t)replay_decimal_digits(r->seed) + 1 + strlen(rc->code) +
				1 + (size_t)replay_decimal_digits((uint64_t)r->year) + 1 +
				(size_t)replay_decimal_digits(max_index) + 2;
		if (id_len > REPLAY_ID_MAX - 1) {
			snprintf(err, err_len,
				 "%s: \"%s\" makes event ids of %zu characters with seed %" PRIu64
				 "; the gateway API allows %d (use a shorter code or seed)",
				 field, rc->code, id_len, r->seed, REPLAY_ID_MAX - 1);
			return -1;
		}

		rc->day_accepted = calloc((size_t)r->days, sizeof(int64_t));
		rc->day_abandoned = calloc((size_t)r->days, sizeof(int64_t));
		if (rc->day_accepted == NULL || rc->day_abandoned == NULL) {
			snprintf(err, err_len, "out of memory planning centre %s", rc->code);
			return -1;
		}
		profile_apportion(rc->accepted_total - rc->n_edge, day_weight, (size_t)r->days,
				  rc->day_accepted);
		profile_apportion(rc->abandoned, day_weight, (size_t)r->days, rc->day_abandoned);
		r->planned_calls += rc->accepted_total + rc->abandoned;
	}
	return 0;
}

static int replay_order_slot_compare(const void *a, const void *b)
{
	const struct replay_order_slot *x = a, *y = b;
	if (x->received_usec != y->received_usec)
		return x->received_usec < y->received_usec ? -1 : 1;
	if (x->source != y->source)
		return x->source < y->source ? -1 : 1;
	return x->index < y->index ? -1 : (x->index > y->index);
}

/*
 * Draws when each of the own centre's work orders is received: each source's
 * count apportioned over the days like the calls, each order placed in its
 * day by the daily rhythm, anywhere from 00:00:00 to the day's last second,
 * so that every order lies inside the local year. Sorted by that time, the
 * orders of each source are then numbered from 1.
 */
static int replay_plan_orders(struct replay *r, const int64_t *day_weight, char *err,
			      size_t err_len)
{
	const struct profile *p = r->profile;
	const char *centre = r->centres[0].code;
	int64_t *per_day = NULL;
	int64_t total = 0;
	struct yearplan_rng g;

	r->planned_orders[REPLAY_ORDER_CITY] = p->work_orders_city;
	r->planned_orders[REPLAY_ORDER_PROVINCE] = p->work_orders_province;
	for (int s = 0; s < REPLAY_ORDER_SOURCES; s++) {
		const int64_t n = r->planned_orders[s];
		if (n < 0 || n > REPLAY_ORDERS_MAX) {
			snprintf(err, err_len,
				 "work_orders.%s: %" PRId64
				 " work orders cannot be planned (0 to %d)",
				 replay_order_source_names[s], n, REPLAY_ORDERS_MAX);
			return -1;
		}
		total += n;
		/* "w<seed>-<centre>-<year>-<tag>-<index>" */
		size_t id_len = 1 + (size_t)replay_decimal_digits(r->seed) + 1 + strlen(centre) +
				1 + (size_t)replay_decimal_digits((uint64_t)r->year) + 1 +
				strlen(replay_order_source_tags[s]) + 1 +
				(size_t)replay_decimal_digits((uint64_t)n);
		if (n > 0 && id_len > REPLAY_ID_MAX - 1) {
			snprintf(err, err_len,
				 "centre.code: \"%s\" makes work order numbers of %zu characters "
				 "with seed %" PRIu64 "; the API allows %d (use a shorter code or "
				 "seed)",
				 centre, id_len, r->seed, REPLAY_ID_MAX - 1);
			return -1;
		}
	}
	if (total > REPLAY_ORDERS_MAX) {
		snprintf(err, err_len,
			 "work_orders: %" PRId64 " work orders cannot be planned "
			 "(at most %d)",
			 total, REPLAY_ORDERS_MAX);
		return -1;
	}
	if (total == 0)
		return 0;
	r->orders = calloc((size_t)total, sizeof *r->orders);
	per_day = calloc((size_t)r->days, sizeof *per_day);
	if (r->orders == NULL || per_day == NULL) {
		free(per_day);
		snprintf(err, err_len, "out of memory for %" PRId64 " work orders", total);
		return -1;
	}
	yearplan_rng_seed(&g, r->seed ^ REPLAY_ORDER_SEED_MIX);
	for (int s = 0; s < REPLAY_ORDER_SOURCES; s++) {
		profile_apportion(r->planned_orders[s], day_weight, (size_t)r->days, per_day);
		for (int d = 0; d < r->days; d++) {
			struct yearplan_day day;
			if (per_day[d] == 0)
				continue;
			yearplan_day_frame(r->year, d, &day);
			for (int64_t k = 0; k < per_day[d]; k++) {
				struct replay_order_slot *o = &r->orders[r->n_orders];
				int64_t at = yearplan_sample_offset(&g, &day, 0, day.seconds);
				o->received_usec = day.midnight + at * USEC_PER_SEC;
				o->index = (uint32_t)r->n_orders++;
				o->source = (uint8_t)s;
			}
		}
	}
	free(per_day);
	qsort(r->orders, r->n_orders, sizeof *r->orders, replay_order_slot_compare);
	uint32_t next[REPLAY_ORDER_SOURCES] = {0};
	for (size_t i = 0; i < r->n_orders; i++)
		r->orders[i].index = ++next[r->orders[i].source];
	return 0;
}

/*
 * Builds the plan. The day weights (weekday rhythm with a little day-to-day
 * noise) are drawn first, then every count is fixed: what follows only decides
 * where inside a day each call falls. The largest day buffer is sized here so
 * that iteration never allocates.
 */
struct replay *replay_new(const struct profile *scaled, uint64_t seed, char *err, size_t err_len)
{
	struct replay *r = NULL;
	int64_t *day_weight = NULL;

	if (scaled == NULL || scaled->centre_code == NULL) {
		snprintf(err, err_len, "centre.code: missing");
		goto fail;
	}
	if (scaled->year < 1971 || scaled->year > 9998) {
		snprintf(err, err_len, "year: %d cannot be replayed (1971..9998)", scaled->year);
		goto fail;
	}
	r = calloc(1, sizeof *r);
	if (r == NULL) {
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	r->profile = scaled;
	r->seed = seed;
	r->year = scaled->year;
	r->days = timeutil_days_in_year(scaled->year);
	yearplan_rng_seed(&r->rng, seed);

	day_weight = calloc((size_t)r->days, sizeof *day_weight);
	if (day_weight == NULL) {
		snprintf(err, err_len, "out of memory");
		goto fail;
	}
	for (int d = 0; d < r->days; d++) {
		int minute, weekday;
		timeutil_local_clock(timeutil_local_midnight(r->year, 1, 1 + d), &minute, &weekday);
		day_weight[d] = yearplan_weekday_weight(weekday) *
				(int64_t)(90 + yearplan_rng_below(&r->rng, 21));
	}
	if (replay_plan_centres(r, day_weight, err, err_len) != 0 ||
	    replay_plan_orders(r, day_weight, err, err_len) != 0)
		goto fail;

	size_t cap = 0;
	for (int d = 0; d < r->days; d++) {
		size_t on_day = 0;
		for (size_t i = 0; i < r->n_centres; i++) {
			const struct replay_centre *rc = &r->centres[i];
			on_day += (size_t)(rc->day_accepted[d] + rc->day_abandoned[d]) + 2;
		}
		if (on_day > cap)
			cap = on_day;
	}
	if (cap > UINT32_MAX) {
		snprintf(err, err_len, "calls.total: too many calls in one day to plan");
		goto fail;
	}
	r->slots = calloc(cap > 0 ? cap : 1, sizeof *r->slots);
	if (r->slots == NULL) {
		snprintf(err, err_len, "out of memory for %zu calls a day", cap);
		goto fail;
	}
	r->cap_slots = cap;
	free(day_weight);
	return r;

fail:
	free(day_weight);
	replay_free(r);
	return NULL;
}

void replay_free(struct replay *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_centres; i++) {
		free(r->centres[i].day_accepted);
		free(r->centres[i].day_abandoned);
	}
	free(r->centres);
	free(r->slots);
	free(r->orders);
	free(r);
}

static enum category replay_draw_accepted(struct yearplan_rng *g, struct replay_centre *rc)
{
	size_t c = yearplan_rng_weighted(g, rc->remaining, CATEGORY_COUNT, rc->remaining_total);
	rc->remaining[c]--;
	rc->remaining_total--;
	return (enum category)c;
}

static enum category replay_draw_abandoned(struct yearplan_rng *g, const struct replay_centre *rc)
{
	if (rc->abandon_weight_total <= 0)
		return CATEGORY_OTHER;
	return (enum category)yearplan_rng_weighted(g, rc->abandon_weight, CATEGORY_COUNT,
						    rc->abandon_weight_total);
}

static int replay_slot_compare(const void *a, const void *b)
{
	const struct replay_slot *x = a, *y = b;
	if (x->offered_usec != y->offered_usec)
		return x->offered_usec < y->offered_usec ? -1 : 1;
	if (x->centre != y->centre)
		return x->centre < y->centre ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static void replay_push_slot(struct replay *r, int64_t offered_usec, size_t centre, enum category c,
			     bool abandoned)
{
	struct replay_slot *s = &r->slots[r->n_slots];
	s->offered_usec = offered_usec;
	s->seq = (uint32_t)r->n_slots;
	s->centre = (uint16_t)centre;
	s->category = (uint8_t)c;
	s->abandoned = abandoned ? 1 : 0;
	r->n_slots++;
}

/*
 * Draws local day d of every centre into the slot buffer, sorted by offered
 * time. Day 0 starts with each centre's first boundary call at midnight and
 * keeps its other calls strictly after it; the last day ends with the call at
 * 23:59:00 and keeps the others strictly before it, so the boundary calls are
 * each centre's first and last accepted calls. Day lengths come from the zone
 * (23 or 25 hours across a DST change).
 */
static void replay_generate_day(struct replay *r, int d)
{
	struct yearplan_day day;

	yearplan_day_frame(r->year, d, &day);
	const int64_t midnight = day.midnight;
	const int64_t last_offset = day.seconds - REPLAY_LAST_CALL_BEFORE_END_S;
	const bool first_day = d == 0;
	const bool last_day = d == r->days - 1;
	const int64_t lo = first_day ? 1 : 0;
	const int64_t hi = last_day ? last_offset : day.seconds;

	r->n_slots = 0;
	r->next_slot = 0;
	for (size_t i = 0; i < r->n_centres; i++) {
		struct replay_centre *rc = &r->centres[i];

		if (first_day && rc->n_edge >= 1)
			replay_push_slot(r, midnight, i, replay_draw_accepted(&r->rng, rc), false);
		if (last_day && rc->n_edge >= 2)
			replay_push_slot(r, midnight + last_offset * USEC_PER_SEC, i,
					 replay_draw_accepted(&r->rng, rc), false);
		for (int64_t k = 0; k < rc->day_accepted[d]; k++) {
			int64_t s = yearplan_sample_offset(&r->rng, &day, lo, hi);
			replay_push_slot(r, midnight + s * USEC_PER_SEC, i,
					 replay_draw_accepted(&r->rng, rc), false);
		}
		for (int64_t k = 0; k < rc->day_abandoned[d]; k++) {
			int64_t s = yearplan_sample_offset(&r->rng, &day, lo, hi);
			replay_push_slot(r, midnight + s * USEC_PER_SEC, i,
					 replay_draw_abandoned(&r->rng, rc), true);
		}
	}
	qsort(r->slots, r->n_slots, sizeof *r->slots, replay_slot_compare);
}

/* Dialled number, IVR path and caller flag that make the classifier choose c. */
static void replay_choose_route(struct yearplan_rng *g, enum category c, struct replay_call *out)
{
	const char *path = "";

	snprintf(out->dialled, sizeof out->dialled, "%s", REPLAY_DIALLED_NORMAL);
	switch (c) {
	case CATEGORY_CONSULTATION:
		path = replay_rng_pick(g, replay_paths_consultation,
				       N_ELEMENTS(replay_paths_consultation));
		break;
	case CATEGORY_COMPLAINT:
		path = replay_rng_pick(g, replay_paths_complaint,
				       N_ELEMENTS(replay_paths_complaint));
		break;
	case CATEGORY_BOOKING:
		path = replay_rng_pick(g, replay_paths_booking, N_ELEMENTS(replay_paths_booking));
		break;
	case CATEGORY_EXPERT_QA:
		path = replay_rng_pick(g, replay_paths_expert_qa,
				       N_ELEMENTS(replay_paths_expert_qa));
		break;
	case CATEGORY_CRISIS: {
		/* The three ways a call reaches crisis: the dedicated line, the
		 * crisis menu, or the gateway flagging a recent crisis caller. */
		uint64_t way = yearplan_rng_below(g, 100);
		if (way < 40) {
			snprintf(out->dialled, sizeof out->dialled, "%s", REPLAY_DIALLED_CRISIS);
		} else if (way < 75) {
			path = replay_rng_pick(g, replay_paths_crisis_menu,
					       N_ELEMENTS(replay_paths_crisis_menu));
		} else {
			out->recent_crisis = true;
			path = replay_rng_pick(g, replay_paths_flagged,
					       N_ELEMENTS(replay_paths_flagged));
		}
		break;
	}
	case CATEGORY_SURVEY:
		path = replay_rng_pick(g, replay_paths_survey, N_ELEMENTS(replay_paths_survey));
		break;
	case CATEGORY_IVR_SELF_SERVICE:
		path = replay_rng_pick(g, replay_paths_self_service,
				       N_ELEMENTS(replay_paths_self_service));
		break;
	case CATEGORY_OTHER:
	case CATEGORY_COUNT:
		path = replay_rng_pick(g, replay_paths_other, N_ELEMENTS(replay_paths_other));
		break;
	}
	snprintf(out->ivr_path, sizeof out->ivr_path, "%s", path);
}

static void replay_add_event(struct replay_call *out, enum replay_event_type t, int64_t usec)
{
	out->events[out->n_events].type = t;
	out->events[out->n_events].usec = usec;
	out->n_events++;
}

/*
 * Turns a slot into a full call. The details (caller, route, agents, waits
 * and durations) come from a generator seeded by (seed, centre, index), so
 * they do not depend on how many draws other calls used.
 */
static void replay_expand(struct replay *r, const struct replay_slot *s, struct replay_call *out)
{
	struct replay_centre *rc = &r->centres[s->centre];
	const enum category c = (enum category)s->category;
	struct yearplan_rng g;

	memset(out, 0, sizeof *out);
	out->centre = rc->code;
	out->centre_index = s->centre;
	out->index = ++rc->issued;
	snprintf(out->call_id, sizeof out->call_id, "s%" PRIu64 "-%s-%d-%" PRIu64, r->seed,
		 rc->code, r->year, out->index);
	out->category = c;
	out->offered_usec = s->offered_usec;

	uint64_t mix = r->seed ^ (UINT64_C(0xd1b54a32d192ed03) * ((uint64_t)s->centre + 1)) ^
		       (UINT64_C(0x8cb92ba72f3d8dd7) * out->index);
	yearplan_rng_seed(&g, mix);

	snprintf(out->caller, sizeof out->caller, "%s%08" PRIu64,
		 replay_rng_pick(&g, replay_mobile_prefixes, N_ELEMENTS(replay_mobile_prefixes)),
		 yearplan_rng_below(&g, 100000000));
	replay_choose_route(&g, c, out);

	int64_t t = s->offered_usec;
	replay_add_event(out, REPLAY_EVENT_OFFERED, t);
	if (s->abandoned) {
		out->outcome = REPLAY_OUTCOME_ABANDONED;
		t += (int64_t)(3 + yearplan_rng_below(&g, 60) + yearplan_rng_below(&g, 60)) *
		     USEC_PER_SEC;
		replay_add_event(out, REPLAY_EVENT_ABANDONED, t);
		return;
	}
	if (c == CATEGORY_IVR_SELF_SERVICE) {
		out->outcome = REPLAY_OUTCOME_SELF_SERVICE;
		size_t plen = strlen(out->ivr_path); /* at most 2: see replay_paths_self_service */
		memcpy(out->ivr_final_path, out->ivr_path, plen);
		out->ivr_final_path[plen] = (char)('1' + yearplan_rng_below(&g, 4));
		out->ivr_final_path[plen + 1] = '\0';
		t += (int64_t)(20 + yearplan_rng_below(&g, 100) + yearplan_rng_below(&g, 60)) *
		     USEC_PER_SEC;
		replay_add_event(out, REPLAY_EVENT_IVR_COMPLETED, t);
		t += (int64_t)(1 + yearplan_rng_below(&g, 5)) * USEC_PER_SEC;
		replay_add_event(out, REPLAY_EVENT_ENDED, t);
		return;
	}

	out->outcome = REPLAY_OUTCOME_HANDLED;
	out->agent = 1 + (unsigned)yearplan_rng_below(&g, REPLAY_AGENTS);
	int64_t wait_s = c == CATEGORY_CRISIS ? (int64_t)(1 + yearplan_rng_below(&g, 8)) :
						(int64_t)(2 + yearplan_rng_below(&g, 24) +
							  yearplan_rng_below(&g, 24));
	int64_t handle_s = (int64_t)(20 + yearplan_rng_below(&g, 120) +
				     yearplan_rng_below(&g, 180) + yearplan_rng_below(&g, 300));
	if (c == CATEGORY_CRISIS)
		handle_s += (int64_t)(300 + yearplan_rng_below(&g, 900));
	t += wait_s * USEC_PER_SEC;
	replay_add_event(out, REPLAY_EVENT_ANSWERED, t);
	if (yearplan_rng_below(&g, 100) < 4) {
		unsigned to = 1 + (unsigned)yearplan_rng_below(&g, REPLAY_AGENTS - 1);
		out->transfer_agent = to >= out->agent ? to + 1 : to;
		int64_t after_s = 5 + (int64_t)yearplan_rng_below(&g, (uint64_t)(handle_s - 10));
		replay_add_event(out, REPLAY_EVENT_TRANSFERRED, t + after_s * USEC_PER_SEC);
	}
	replay_add_event(out, REPLAY_EVENT_ENDED, t + handle_s * USEC_PER_SEC);
}

bool replay_next(struct replay *r, struct replay_call *out)
{
	while (r->next_slot >= r->n_slots) {
		if (r->next_day >= r->days)
			return false;
		replay_generate_day(r, r->next_day++);
	}
	replay_expand(r, &r->slots[r->next_slot++], out);
	return true;
}

size_t replay_centre_count(const struct replay *r)
{
	return r->n_centres;
}

const char *replay_centre_code(const struct replay *r, size_t centre_index)
{
	return centre_index < r->n_centres ? r->centres[centre_index].code : NULL;
}

int64_t replay_planned_accepted(const struct replay *r, size_t centre_index, enum category c)
{
	if (centre_index >= r->n_centres || (unsigned)c >= CATEGORY_COUNT)
		return 0;
	return r->centres[centre_index].accepted[c];
}

int64_t replay_planned_abandoned(const struct replay *r, size_t centre_index)
{
	return centre_index < r->n_centres ? r->centres[centre_index].abandoned : 0;
}

int64_t replay_planned_calls(const struct replay *r)
{
	return r->planned_calls;
}

const char *replay_order_source_name(enum replay_order_source s)
{
	return (unsigned)s < REPLAY_ORDER_SOURCES ? replay_order_source_names[s] : "unknown";
}

int64_t replay_planned_orders(const struct replay *r, enum replay_order_source s)
{
	return (unsigned)s < REPLAY_ORDER_SOURCES ? r->planned_orders[s] : 0;
}

size_t replay_order_count(const struct replay *r)
{
	return r->n_orders;
}

/* The details come from a generator seeded by (seed, source, index), like a
 * call's, so they do not depend on which orders were asked for before. */
bool replay_order_at(const struct replay *r, size_t i, struct replay_order *out)
{
	if (i >= r->n_orders)
		return false;
	const struct replay_order_slot *slot = &r->orders[i];
	const enum replay_order_source source = (enum replay_order_source)slot->source;
	struct yearplan_rng g;

	memset(out, 0, sizeof *out);
	out->source = source;
	out->index = slot->index;
	out->centre = r->centres[0].code;
	out->received_usec = slot->received_usec;
	snprintf(out->external_no, sizeof out->external_no, "w%" PRIu64 "-%s-%d-%s-%" PRIu64,
		 r->seed, out->centre, r->year, replay_order_source_tags[source], out->index);

	uint64_t mix = r->seed ^ REPLAY_ORDER_SEED_MIX ^
		       (UINT64_C(0xd1b54a32d192ed03) * ((uint64_t)source + 1)) ^
		       (UINT64_C(0x8cb92ba72f3d8dd7) * out->index);
	yearplan_rng_seed(&g, mix);
	const struct replay_order_text *text;
	if (yearplan_rng_below(&g, 100) < REPLAY_ORDER_CONSULTATION_PERCENT) {
		out->category = CATEGORY_CONSULTATION;
		text = &replay_order_consultations[yearplan_rng_below(
			&g, N_ELEMENTS(replay_order_consultations))];
	} else {
		out->category = CATEGORY_COMPLAINT;
		text = &replay_order_complaints[yearplan_rng_below(
			&g, N_ELEMENTS(replay_order_complaints))];
	}
	out->title = text->title;
	out->content = text->content;
	out->urgent = yearplan_rng_below(&g, 100) < REPLAY_ORDER_URGENT_PERCENT;
	snprintf(out->citizen_name, sizeof out->citizen_name, "%s%s",
		 replay_rng_pick(&g, replay_surnames, N_ELEMENTS(replay_surnames)),
		 replay_rng_pick(&g, replay_given_names, N_ELEMENTS(replay_given_names)));
	snprintf(out->citizen_phone, sizeof out->citizen_phone, "%s%08" PRIu64,
		 replay_rng_pick(&g, replay_mobile_prefixes, N_ELEMENTS(replay_mobile_prefixes)),
		 yearplan_rng_below(&g, 100000000));
	return true;
}

/* Every string of an order is from a fixed alphabet or a fixed list without
 * quotes or backslashes (see replay_order_complaints), so the JSON needs no
 * escaping. */
int replay_format_order(const struct replay_order *o, char *buf, size_t len)
{
	char when[TIMEUTIL_RFC3339_LEN];

	timeutil_format_local(o->received_usec, when);
	int n = snprintf(buf, len,
			 "{\"external_no\":\"%s\",\"centre\":\"%s\",\"received_at\":\"%s\","
			 "\"category\":\"%s\",\"urgent\":%s,\"title\":\"%s\",\"content\":\"%s\","
			 "\"citizen\":{\"name\":\"%s\",\"phone\":\"%s\"}}",
			 o->external_no, o->centre, when, category_name(o->category),
			 o->urgent ? "true" : "false", o->title, o->content, o->citizen_name,
			 o->citizen_phone);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

const char *replay_event_type_name(enum replay_event_type t)
{
	switch (t) {
	case REPLAY_EVENT_OFFERED:
		return "call.offered";
	case REPLAY_EVENT_ANSWERED:
		return "call.answered";
	case REPLAY_EVENT_TRANSFERRED:
		return "call.transferred";
	case REPLAY_EVENT_IVR_COMPLETED:
		return "call.ivr_completed";
	case REPLAY_EVENT_ABANDONED:
		return "call.abandoned";
	case REPLAY_EVENT_ENDED:
		return "call.ended";
	}
	return "unknown";
}

/* replay_new checked that every call id leaves room for "-<n>" (n < 10). */
void replay_event_id(const struct replay_call *call, size_t i, char out[REPLAY_ID_MAX])
{
	size_t n = strnlen(call->call_id, REPLAY_ID_MAX - 3);

	memcpy(out, call->call_id, n);
	out[n] = '-';
	out[n + 1] = (char)('1' + (i < REPLAY_MAX_EVENTS ? i : 0));
	out[n + 2] = '\0';
}

/*
 * Every string in a planned call is from a fixed alphabet (centre codes are
 * checked in replay_new; numbers and paths are digits, '*' and '#'), and so
 * are agent ids (the API's id alphabet), so the JSON needs no escaping.
 */
int replay_format_event(const struct replay_call *call, size_t i, char *buf, size_t len)
{
	char agent[16], to_agent[16];

	snprintf(agent, sizeof agent, "a%u", call->agent);
	snprintf(to_agent, sizeof to_agent, "a%u", call->transfer_agent);
	return replay_format_event_as(call, i, agent, to_agent, buf, len);
}

int replay_format_event_as(const struct replay_call *call, size_t i, const char *agent,
			   const char *to_agent, char *buf, size_t len)
{
	char event_id[REPLAY_ID_MAX];
	char when[TIMEUTIL_RFC3339_LEN];
	char extra[128];
	int n;

	if (i >= call->n_events)
		return -1;
	const struct replay_event *ev = &call->events[i];
	replay_event_id(call, i, event_id);
	timeutil_format_local(ev->usec, when);
	extra[0] = '\0';
	switch (ev->type) {
	case REPLAY_EVENT_OFFERED:
		snprintf(extra, sizeof extra,
			 ",\"caller\":\"%s\",\"dialled\":\"%s\",\"ivr_path\":\"%s\"%s",
			 call->caller, call->dialled, call->ivr_path,
			 call->recent_crisis ? ",\"caller_flags\":[\"recent_crisis\"]" : "");
		break;
	case REPLAY_EVENT_ANSWERED:
		snprintf(extra, sizeof extra, ",\"agent\":\"%s\"", agent);
		break;
	case REPLAY_EVENT_TRANSFERRED:
		snprintf(extra, sizeof extra, ",\"to_agent\":\"%s\"", to_agent);
		break;
	case REPLAY_EVENT_IVR_COMPLETED:
		snprintf(extra, sizeof extra, ",\"ivr_path\":\"%s\"", call->ivr_final_path);
		break;
	case REPLAY_EVENT_ABANDONED:
	case REPLAY_EVENT_ENDED:
		break;
	}
	n = snprintf(buf, len,
		     "{\"event_id\":\"%s\",\"type\":\"%s\",\"call_id\":\"%s\",\"centre\":\"%s\","
		     "\"time\":\"%s\"%s}",
		     event_id, replay_event_type_name(ev->type), call->call_id, call->centre, when,
		     extra);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}
