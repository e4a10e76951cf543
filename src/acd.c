/* acd.c: the automatic call distributor core (see acd.h).
 *
 * Layout. Calls live in one slab (an array indexed by uint32, with a free
 * list) and agents in another; the id maps (strmap) give the index. Every
 * ordered set is an array-backed binary heap of indices whose elements
 * remember their own position, so removal from the middle is O(log n):
 *   - per lane, the waiting calls, by (crisis, priority, joined_at, seq);
 *   - per lane, the ready agents, by the queue's strategy key (round robin
 *     uses a bitmap in agent order instead, walked from the queue's pointer);
 *   - one heap of call timers (ring deadline or max-wait deadline) and one
 *     of agent timers (wrap-up end).
 * Every order is total (ties end on the arrival sequence or the agent
 * index), so decisions never depend on the shape of a heap: a core rebuilt
 * by acd_restore decides exactly like the original.
 *
 * Invariant kept after every input: no ready agent serves a lane that has a
 * waiting call. Hence a new call only looks at its own lane's ready agents,
 * and an agent who becomes ready only looks at the heads of its lanes.
 *
 * Nothing allocates on the hot path once the arrays have grown to the
 * working size; every growth happens before the state changes, so -ENOMEM
 * leaves the core as it was.
 */
#include "acd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

#define NONE UINT32_MAX
#define US_PER_S 1000000LL
#define HANDLE_TIME_WEIGHT_SHIFT 3 /* each ended call moves the average by 1/8 */

enum heap_kind { HEAP_CALLS, HEAP_AGENTS, HEAP_CALL_TIMERS, HEAP_AGENT_TIMERS };

struct acd_heap {
	uint32_t *item;
	uint32_t count;
	uint32_t cap;
	uint8_t kind;
	uint8_t lane;
};

struct acd_queue {
	char name[ACD_NAME_MAX + 1];
	char overflow_queue_name[ACD_NAME_MAX + 1];
	int priority;
	enum acd_strategy strategy;
	enum acd_overflow overflow;
	uint32_t skill;    /* skill id */
	uint32_t language; /* skill id, or NONE */
	uint32_t overflow_target;
	bool crisis;
	bool callback_on_abandon;
	int max_misses;
	int64_t ring_us;
	int64_t wrap_up_us;
	int64_t max_wait_us;
	int64_t handle_time_ms;    /* exponentially weighted average, talk + wrap-up */
	uint32_t round_robin_last; /* agent index, or NONE */
};

struct acd_lane {
	struct acd_heap calls;
	struct acd_heap agents; /* ready agents, unless round robin */
	uint64_t *ready_bits;   /* round robin: ready agents by index */
	uint32_t queue;
	uint32_t language; /* the lane's extra language (skill id), or NONE */
	uint32_t staffed;  /* able to serve it and working (ready, offered, on call, wrap-up) */
	uint32_t tail;     /* the last waiting call in order, or NONE when not known */
	uint32_t required[3];
	uint32_t n_required;
	bool round_robin;
};

struct acd_call {
	char id[ACD_ID_MAX + 1];
	uint8_t state; /* enum acd_call_state; ACD_CALL_GONE when the slot is free */
	uint8_t lane;
	bool crisis;
	bool callback;
	int32_t priority;
	uint32_t lane_pos;  /* in the lane's call heap while waiting */
	uint32_t timer_pos; /* in the call timer heap */
	uint32_t agent;     /* offered or connected agent; next free slot when free */
	uint32_t missed[ACD_MISSED_MAX];
	uint32_t reported_position;
	int64_t joined_at;
	int64_t enqueued_at;
	int64_t timer_at; /* waiting: max-wait end; offered: ring deadline; connected: answered */
	uint64_t seq;
};

struct acd_agent_skill {
	uint16_t skill;
	uint8_t level;
};

struct acd_agent {
	char id[ACD_ID_MAX + 1];
	char reason[ACD_REASON_MAX + 1];
	uint8_t state; /* enum acd_agent_state */
	uint8_t n_skills;
	uint16_t misses;
	struct acd_agent_skill skills[ACD_SKILLS_MAX];
	uint32_t call; /* offered or on a call, or NONE */
	uint32_t timer_pos;
	uint32_t calls_today;
	uint64_t lanes; /* bit per lane the agent can serve */
	int64_t state_since;
	int64_t idle_since;
	int64_t timer_at; /* wrap-up end */
};

/* Per (agent, lane): position in the lane's ready heap and the agent's
 * level in the lane's queue skill. */
struct acd_agent_lane {
	uint32_t pos;
	uint8_t level;
};

struct acd {
	char centre[ACD_NAME_MAX + 1];
	struct acd_queue *queues;
	uint32_t n_queues;
	uint32_t n_languages;
	uint32_t language_skill[ACD_LANGUAGES_MAX];
	struct acd_lane lanes[ACD_LANES_MAX];
	uint32_t n_lanes;
	uint32_t position_updates;
	int64_t handle_time_initial_ms;

	struct strmap *skill_ids; /* name -> id + 1 */
	char (*skill_names)[ACD_NAME_MAX + 1];
	uint32_t n_skills;
	uint32_t skills_cap;

	struct acd_call *calls;
	uint32_t calls_cap;
	uint32_t n_calls;
	uint32_t free_call;
	struct strmap *call_ids; /* id -> index + 1 */
	uint64_t next_seq;
	struct acd_heap call_timers;

	struct acd_agent *agents;
	struct acd_agent_lane *agent_lanes; /* agents_cap x n_lanes */
	uint32_t n_agents;
	uint32_t agents_cap;
	struct strmap *agent_ids; /* id -> index + 1 */
	struct acd_heap agent_timers;

	uint64_t dirty_lanes; /* lanes whose waiting calls changed during this input */
	bool settle_pending;  /* restored ready agents may have waiting calls */
	int64_t last_now;
};

static const char *const agent_state_names[] = {"logged_out", "ready",   "offered",
						"on_call",    "wrap_up", "not_ready"};
static const char *const call_state_names[] = {"waiting", "offered", "connected", "gone"};
static const char *const strategy_names[] = {"longest_idle", "fewest_calls", "round_robin",
					     "skill_level"};
static const char *const overflow_names[] = {"none", "queue", "callback", "ivr"};
static const char *const action_type_names[] = {"offer",       "cancel_offer",  "overflow",
						"agent_state", "callback_task", "position"};

const char *acd_agent_state_name(enum acd_agent_state s)
{
	return (unsigned)s < ACD_AGENT_STATE_COUNT ? agent_state_names[s] : "unknown";
}

const char *acd_call_state_name(enum acd_call_state s)
{
	return (unsigned)s <= ACD_CALL_GONE ? call_state_names[s] : "unknown";
}

const char *acd_strategy_name(enum acd_strategy s)
{
	return (unsigned)s < ACD_STRATEGY_COUNT ? strategy_names[s] : "unknown";
}

const char *acd_overflow_name(enum acd_overflow o)
{
	return (unsigned)o < ACD_OVERFLOW_COUNT ? overflow_names[o] : "unknown";
}

const char *acd_action_type_name(enum acd_action_type t)
{
	return (unsigned)t < ACD_ACT_COUNT ? action_type_names[t] : "unknown";
}

int acd_strategy_from_name(const char *name, enum acd_strategy *out)
{
	for (int i = 0; i < ACD_STRATEGY_COUNT; i++) {
		if (strcmp(name, strategy_names[i]) == 0) {
			*out = (enum acd_strategy)i;
			return 0;
		}
	}
	return -1;
}

int acd_overflow_from_name(const char *name, enum acd_overflow *out)
{
	for (int i = 0; i < ACD_OVERFLOW_COUNT; i++) {
		if (strcmp(name, overflow_names[i]) == 0) {
			*out = (enum acd_overflow)i;
			return 0;
		}
	}
	return -1;
}

static bool is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static void copy_text(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static void set_error(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_error(char *err, size_t err_len, const char *fmt, ...)
{
	if (err == NULL || err_len == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

/* --- ordering ------------------------------------------------------------ */

/* The one order of waiting calls, inside a lane and across lanes. */
static bool call_before(const struct acd_call *x, const struct acd_call *y)
{
	if (x->crisis != y->crisis)
		return x->crisis;
	if (x->priority != y->priority)
		return x->priority < y->priority;
	if (x->joined_at != y->joined_at)
		return x->joined_at < y->joined_at;
	return x->seq < y->seq;
}

static struct acd_agent_lane *agent_lane(const struct acd *a, uint32_t agent, uint32_t lane)
{
	return &a->agent_lanes[(size_t)agent * a->n_lanes + lane];
}

/* Which of two ready agents a lane prefers, per its queue's strategy. */
static bool agent_before(const struct acd *a, uint32_t lane, uint32_t x, uint32_t y)
{
	const struct acd_agent *gx = &a->agents[x], *gy = &a->agents[y];
	switch (a->queues[a->lanes[lane].queue].strategy) {
	case ACD_STRATEGY_SKILL_LEVEL: {
		uint8_t lx = agent_lane(a, x, lane)->level, ly = agent_lane(a, y, lane)->level;
		if (lx != ly)
			return lx > ly;
		break;
	}
	case ACD_STRATEGY_FEWEST_CALLS:
		if (gx->calls_today != gy->calls_today)
			return gx->calls_today < gy->calls_today;
		break;
	case ACD_STRATEGY_LONGEST_IDLE:
	case ACD_STRATEGY_ROUND_ROBIN:
	case ACD_STRATEGY_COUNT:
		break;
	}
	if (gx->idle_since != gy->idle_since)
		return gx->idle_since < gy->idle_since;
	return x < y;
}

/* --- heaps ----------------------------------------------------------------- */

static bool heap_before(const struct acd *a, const struct acd_heap *h, uint32_t x, uint32_t y)
{
	switch (h->kind) {
	case HEAP_CALLS:
		return call_before(&a->calls[x], &a->calls[y]);
	case HEAP_AGENTS:
		return agent_before(a, h->lane, x, y);
	case HEAP_CALL_TIMERS:
		if (a->calls[x].timer_at != a->calls[y].timer_at)
			return a->calls[x].timer_at < a->calls[y].timer_at;
		return a->calls[x].seq < a->calls[y].seq;
	default:
		if (a->agents[x].timer_at != a->agents[y].timer_at)
			return a->agents[x].timer_at < a->agents[y].timer_at;
		return x < y;
	}
}

static void heap_set_pos(struct acd *a, const struct acd_heap *h, uint32_t x, uint32_t pos)
{
	switch (h->kind) {
	case HEAP_CALLS:
		a->calls[x].lane_pos = pos;
		break;
	case HEAP_AGENTS:
		agent_lane(a, x, h->lane)->pos = pos;
		break;
	case HEAP_CALL_TIMERS:
		a->calls[x].timer_pos = pos;
		break;
	default:
		a->agents[x].timer_pos = pos;
		break;
	}
}

static void heap_place(struct acd *a, struct acd_heap *h, uint32_t pos, uint32_t x)
{
	h->item[pos] = x;
	heap_set_pos(a, h, x, pos);
}

static void heap_sift_up(struct acd *a, struct acd_heap *h, uint32_t pos)
{
	uint32_t x = h->item[pos];
	while (pos > 0) {
		uint32_t parent = (pos - 1) / 2;
		if (!heap_before(a, h, x, h->item[parent]))
			break;
		heap_place(a, h, pos, h->item[parent]);
		pos = parent;
	}
	heap_place(a, h, pos, x);
}

static void heap_sift_down(struct acd *a, struct acd_heap *h, uint32_t pos)
{
	uint32_t x = h->item[pos];
	for (;;) {
		uint32_t child = 2 * pos + 1;
		if (child >= h->count)
			break;
		if (child + 1 < h->count && heap_before(a, h, h->item[child + 1], h->item[child]))
			child++;
		if (!heap_before(a, h, h->item[child], x))
			break;
		heap_place(a, h, pos, h->item[child]);
		pos = child;
	}
	heap_place(a, h, pos, x);
}

static int heap_reserve(struct acd_heap *h, uint32_t need)
{
	if (h->cap >= need)
		return 0;
	uint32_t cap = h->cap ? h->cap : 16;
	while (cap < need)
		cap *= 2;
	uint32_t *item = realloc(h->item, (size_t)cap * sizeof *item);
	if (item == NULL)
		return -ENOMEM;
	h->item = item;
	h->cap = cap;
	return 0;
}

/* Needs room (heap_reserve beforehand). */
static void heap_push(struct acd *a, struct acd_heap *h, uint32_t x)
{
	h->item[h->count] = x;
	heap_sift_up(a, h, h->count++);
}

static void heap_remove(struct acd *a, struct acd_heap *h, uint32_t pos)
{
	uint32_t x = h->item[pos];
	uint32_t last = h->item[--h->count];
	heap_set_pos(a, h, x, NONE);
	if (pos == h->count)
		return;
	heap_place(a, h, pos, last);
	if (pos > 0 && heap_before(a, h, last, h->item[(pos - 1) / 2]))
		heap_sift_up(a, h, pos);
	else
		heap_sift_down(a, h, pos);
}

/* Number of elements ordered before x (x need not be in the heap). Visits
 * only those elements and their children, so the cost follows the rank. */
static uint32_t heap_rank(const struct acd *a, const struct acd_heap *h, uint32_t pos, uint32_t x)
{
	if (pos >= h->count || h->item[pos] == x || !heap_before(a, h, h->item[pos], x))
		return 0;
	return 1 + heap_rank(a, h, 2 * pos + 1, x) + heap_rank(a, h, 2 * pos + 2, x);
}

/* Fills first[] with the first n elements in order (best-first walk over
 * the heap: the frontier never exceeds n + 1 positions). Returns how many. */
static uint32_t heap_first(const struct acd *a, const struct acd_heap *h, uint32_t n,
			   uint32_t *first)
{
	uint32_t frontier[ACD_POSITION_UPDATES_MAX + 2];
	uint32_t nf = 0, got = 0;
	if (h->count > 0)
		frontier[nf++] = 0;
	while (nf > 0 && got < n) {
		uint32_t best = 0;
		for (uint32_t i = 1; i < nf; i++)
			if (heap_before(a, h, h->item[frontier[i]], h->item[frontier[best]]))
				best = i;
		uint32_t pos = frontier[best];
		frontier[best] = frontier[--nf];
		first[got++] = h->item[pos];
		for (uint32_t c = 2 * pos + 1; c <= 2 * pos + 2; c++)
			if (c < h->count)
				frontier[nf++] = c;
	}
	return got;
}

/* --- skills and lanes --------------------------------------------------------- */

static uint32_t skill_find(const struct acd *a, const char *name)
{
	void *v = strmap_get(a->skill_ids, name, strlen(name));
	return v ? (uint32_t)((uintptr_t)v - 1) : NONE;
}

static int skill_intern(struct acd *a, const char *name, uint32_t *out)
{
	uint32_t id = skill_find(a, name);
	if (id != NONE) {
		*out = id;
		return 0;
	}
	if (a->n_skills == UINT16_MAX)
		return -ENOMEM;
	if (a->n_skills == a->skills_cap) {
		uint32_t cap = a->skills_cap ? a->skills_cap * 2 : 16;
		char(*names)[ACD_NAME_MAX + 1] = realloc(a->skill_names, cap * sizeof *names);
		if (names == NULL)
			return -ENOMEM;
		a->skill_names = names;
		a->skills_cap = cap;
	}
	if (strmap_put(a->skill_ids, name, strlen(name), (void *)(uintptr_t)(a->n_skills + 1)) != 0)
		return -ENOMEM;
	copy_text(a->skill_names[a->n_skills], sizeof a->skill_names[0], name);
	*out = a->n_skills++;
	return 0;
}

static uint32_t queue_find(const struct acd *a, const char *name)
{
	for (uint32_t i = 0; i < a->n_queues; i++)
		if (strcmp(a->queues[i].name, name) == 0)
			return i;
	return NONE;
}

/* The lane for a queue and a caller's language (NULL or "": none). NONE for
 * a language the config does not list. */
static uint32_t lane_for(const struct acd *a, uint32_t queue, const char *language)
{
	uint32_t stride = 1 + a->n_languages;
	if (!is_set(language))
		return queue * stride;
	uint32_t skill = skill_find(a, language);
	if (skill == NONE)
		return NONE;
	if (skill == a->queues[queue].language)
		return queue * stride;
	for (uint32_t j = 0; j < a->n_languages; j++)
		if (a->language_skill[j] == skill)
			return queue * stride + 1 + j;
	return NONE;
}

static int agent_skill_level(const struct acd_agent *g, uint32_t skill)
{
	for (unsigned i = 0; i < g->n_skills; i++)
		if (g->skills[i].skill == skill)
			return g->skills[i].level;
	return 0;
}

/* Recomputes which lanes the agent serves and at which level. The agent
 * must be in no lane structure. */
static void agent_compute_lanes(struct acd *a, uint32_t ai)
{
	struct acd_agent *g = &a->agents[ai];
	g->lanes = 0;
	for (uint32_t l = 0; l < a->n_lanes; l++) {
		const struct acd_lane *lane = &a->lanes[l];
		bool ok = true;
		for (uint32_t r = 0; r < lane->n_required && ok; r++)
			ok = agent_skill_level(g, lane->required[r]) > 0;
		struct acd_agent_lane *al = agent_lane(a, ai, l);
		al->pos = NONE;
		al->level = (uint8_t)agent_skill_level(g, a->queues[lane->queue].skill);
		if (ok)
			g->lanes |= 1ULL << l;
	}
}

static bool agent_is_working(uint8_t state)
{
	return state == ACD_AGENT_READY || state == ACD_AGENT_OFFERED ||
	       state == ACD_AGENT_ON_CALL || state == ACD_AGENT_WRAP_UP;
}

/* --- ready agents -------------------------------------------------------------- */

/* The first set bit in [from, limit), or NONE. */
static uint32_t bit_next(const uint64_t *bits, uint32_t from, uint32_t limit)
{
	while (from < limit) {
		uint64_t w = bits[from / 64] >> (from % 64);
		if (w != 0) {
			uint32_t i = from + (uint32_t)__builtin_ctzll(w);
			return i < limit ? i : NONE;
		}
		from = (from / 64 + 1) * 64;
	}
	return NONE;
}

static void ready_insert(struct acd *a, uint32_t ai)
{
	for (uint64_t m = a->agents[ai].lanes; m; m &= m - 1) {
		struct acd_lane *lane = &a->lanes[__builtin_ctzll(m)];
		if (lane->round_robin)
			lane->ready_bits[ai / 64] |= 1ULL << (ai % 64);
		else
			heap_push(a, &lane->agents, ai);
	}
}

static void ready_remove(struct acd *a, uint32_t ai)
{
	for (uint64_t m = a->agents[ai].lanes; m; m &= m - 1) {
		uint32_t l = (uint32_t)__builtin_ctzll(m);
		struct acd_lane *lane = &a->lanes[l];
		if (lane->round_robin) {
			lane->ready_bits[ai / 64] &= ~(1ULL << (ai % 64));
		} else {
			uint32_t pos = agent_lane(a, ai, l)->pos;
			if (pos != NONE)
				heap_remove(a, &lane->agents, pos);
		}
	}
}

static bool call_missed_by(const struct acd_call *c, uint32_t ai)
{
	if (c == NULL)
		return false;
	for (int i = 0; i < ACD_MISSED_MAX; i++)
		if (c->missed[i] == ai)
			return true;
	return false;
}

/* The lane's best ready agent for call c: the strategy's first, passing
 * over agents who already missed c unless nobody else is ready. NONE when
 * no agent is ready. */
static uint32_t ready_best(const struct acd *a, uint32_t l, const struct acd_call *c)
{
	const struct acd_lane *lane = &a->lanes[l];
	uint32_t fallback = NONE;
	if (lane->round_robin) {
		uint32_t last = a->queues[lane->queue].round_robin_last;
		uint32_t start = last == NONE ? 0 : last + 1;
		for (int pass = 0; pass < 2; pass++) {
			uint32_t from = pass == 0 ? start : 0;
			uint32_t limit = pass == 0 ? a->n_agents : start;
			for (uint32_t i = bit_next(lane->ready_bits, from, limit); i != NONE;
			     i = bit_next(lane->ready_bits, i + 1, limit)) {
				if (!call_missed_by(c, i))
					return i;
				if (fallback == NONE)
					fallback = i;
			}
		}
		return fallback;
	}
	const struct acd_heap *h = &lane->agents;
	uint32_t frontier[2 * ACD_MISSED_MAX + 2];
	uint32_t nf = 0;
	if (h->count > 0)
		frontier[nf++] = 0;
	while (nf > 0) {
		uint32_t best = 0;
		for (uint32_t i = 1; i < nf; i++)
			if (heap_before(a, h, h->item[frontier[i]], h->item[frontier[best]]))
				best = i;
		uint32_t pos = frontier[best];
		frontier[best] = frontier[--nf];
		uint32_t ai = h->item[pos];
		if (!call_missed_by(c, ai))
			return ai;
		if (fallback == NONE)
			fallback = ai;
		for (uint32_t ch = 2 * pos + 1; ch <= 2 * pos + 2; ch++)
			if (ch < h->count)
				frontier[nf++] = ch;
	}
	return fallback;
}

/* --- actions -------------------------------------------------------------------- */

/* acd_step checks the room for a whole input beforehand; an input needs at
 * most ACD_ACTIONS_PER_INPUT actions (two offers with their state changes,
 * a cancel, an overflow or callback task, and positions for at most three
 * lanes), so this never runs out. */
static struct acd_action *action_add(struct acd_actions *out, enum acd_action_type type)
{
	struct acd_action *act = &out->items[out->count++];
	act->type = type;
	act->call[0] = '\0';
	act->agent[0] = '\0';
	act->queue = NULL;
	act->target_queue = NULL;
	act->overflow = ACD_OVERFLOW_NONE;
	act->agent_state = ACD_AGENT_LOGGED_OUT;
	act->reason[0] = '\0';
	act->urgent = false;
	act->at = 0;
	act->ring_deadline = 0;
	act->position = 0;
	act->estimated_wait_s = 0;
	return act;
}

static const struct acd_queue *call_queue(const struct acd *a, const struct acd_call *c)
{
	return &a->queues[a->lanes[c->lane].queue];
}

/* Estimated wait for the call at position p of lane l:
 *   ceil(p x handle_time / staffed)
 * where handle_time is the queue's weighted average of talk plus wrap-up
 * time, and staffed the agents able to serve the lane who are working
 * (ready, offered, on a call or wrapping up). -1 when nobody is. */
static int estimate_wait_s(const struct acd *a, uint32_t l, uint32_t p)
{
	const struct acd_lane *lane = &a->lanes[l];
	if (lane->staffed == 0)
		return -1;
	int64_t ms = a->queues[lane->queue].handle_time_ms * (int64_t)p;
	int64_t den = (int64_t)lane->staffed * 1000;
	int64_t s = (ms + den - 1) / den;
	return s > INT32_MAX ? INT32_MAX : (int)s;
}

/* Calls ahead of waiting call ci in its lane: O(1) for the lane's tail,
 * otherwise proportional to the answer. */
static uint32_t lane_rank(const struct acd *a, uint32_t ci)
{
	const struct acd_lane *lane = &a->lanes[a->calls[ci].lane];
	if (lane->tail == ci)
		return lane->calls.count - 1;
	return heap_rank(a, &lane->calls, 0, ci);
}

static void emit_position(struct acd *a, uint32_t ci, uint32_t position, struct acd_actions *out)
{
	struct acd_call *c = &a->calls[ci];
	struct acd_action *act = action_add(out, ACD_ACT_POSITION);
	copy_text(act->call, sizeof act->call, c->id);
	act->queue = call_queue(a, c)->name;
	act->position = (int)position;
	act->estimated_wait_s = estimate_wait_s(a, c->lane, position);
	c->reported_position = position;
}

/* Reports, for every lane whose waiting calls changed, the first K calls
 * whose position is not the one last reported. */
static void flush_positions(struct acd *a, struct acd_actions *out)
{
	uint32_t first[ACD_POSITION_UPDATES_MAX];
	for (uint64_t m = a->dirty_lanes; m; m &= m - 1) {
		const struct acd_heap *h = &a->lanes[__builtin_ctzll(m)].calls;
		uint32_t n = heap_first(a, h, a->position_updates, first);
		for (uint32_t i = 0; i < n; i++)
			if (a->calls[first[i]].reported_position != i + 1)
				emit_position(a, first[i], i + 1, out);
	}
	a->dirty_lanes = 0;
}

/* --- state changes -------------------------------------------------------------- */

/* The one place an agent's state changes: keeps the ready sets, the
 * wrap-up timer and the staffing counts in step, and reports it. */
static void agent_change_state(struct acd *a, uint32_t ai, enum acd_agent_state state,
			       const char *reason, int64_t now, struct acd_actions *out)
{
	struct acd_agent *g = &a->agents[ai];
	if (g->state == ACD_AGENT_READY)
		ready_remove(a, ai);
	if (g->timer_pos != NONE)
		heap_remove(a, &a->agent_timers, g->timer_pos);
	bool was_working = agent_is_working(g->state), working = agent_is_working(state);
	if (was_working != working)
		for (uint64_t m = g->lanes; m; m &= m - 1)
			a->lanes[__builtin_ctzll(m)].staffed += working ? 1 : (uint32_t)-1;
	g->state = (uint8_t)state;
	g->state_since = now;
	copy_text(g->reason, sizeof g->reason, state == ACD_AGENT_NOT_READY ? reason : NULL);

	struct acd_action *act = action_add(out, ACD_ACT_AGENT_STATE);
	copy_text(act->agent, sizeof act->agent, g->id);
	act->agent_state = state;
	copy_text(act->reason, sizeof act->reason, g->reason);
	act->at = now;
}

static void call_timer_stop(struct acd *a, uint32_t ci)
{
	if (a->calls[ci].timer_pos != NONE)
		heap_remove(a, &a->call_timers, a->calls[ci].timer_pos);
}

static void call_timer_start(struct acd *a, uint32_t ci, int64_t at)
{
	a->calls[ci].timer_at = at;
	heap_push(a, &a->call_timers, ci);
}

static bool call_has_max_wait(const struct acd *a, const struct acd_call *c)
{
	const struct acd_queue *q = call_queue(a, c);
	return !c->crisis && !c->callback && q->max_wait_us > 0 && q->overflow != ACD_OVERFLOW_NONE;
}

/* Puts a call (waiting state) into its lane, with its max-wait timer. The
 * lane and the timer heap must have room. The lane's tail stays known
 * while calls join behind it, which is what makes the position of an
 * ordinary arrival O(1) (lane_rank). */
static void call_enqueue(struct acd *a, uint32_t ci)
{
	struct acd_call *c = &a->calls[ci];
	struct acd_lane *lane = &a->lanes[c->lane];
	c->state = ACD_CALL_WAITING;
	if (lane->calls.count == 0 || (lane->tail != NONE && call_before(&a->calls[lane->tail], c)))
		lane->tail = ci;
	heap_push(a, &lane->calls, ci);
	if (call_has_max_wait(a, c))
		call_timer_start(a, ci, c->enqueued_at + call_queue(a, c)->max_wait_us);
	a->dirty_lanes |= 1ULL << c->lane;
}

static void call_dequeue(struct acd *a, uint32_t ci)
{
	struct acd_call *c = &a->calls[ci];
	if (a->lanes[c->lane].tail == ci)
		a->lanes[c->lane].tail = NONE;
	heap_remove(a, &a->lanes[c->lane].calls, c->lane_pos);
	call_timer_stop(a, ci);
	a->dirty_lanes |= 1ULL << c->lane;
}

static void call_release(struct acd *a, uint32_t ci)
{
	struct acd_call *c = &a->calls[ci];
	void *v = strmap_remove(a->call_ids, c->id, strlen(c->id));
	(void)v;
	c->state = ACD_CALL_GONE;
	c->agent = a->free_call;
	a->free_call = ci;
	a->n_calls--;
}

static void offer_call(struct acd *a, uint32_t ci, uint32_t ai, int64_t now,
		       struct acd_actions *out)
{
	struct acd_call *c = &a->calls[ci];
	struct acd_queue *q = &a->queues[a->lanes[c->lane].queue];
	call_dequeue(a, ci);
	c->state = ACD_CALL_OFFERED;
	c->agent = ai;
	call_timer_start(a, ci, now + q->ring_us);
	a->agents[ai].call = ci;
	q->round_robin_last = ai;

	struct acd_action *act = action_add(out, ACD_ACT_OFFER);
	copy_text(act->call, sizeof act->call, c->id);
	copy_text(act->agent, sizeof act->agent, a->agents[ai].id);
	act->queue = q->name;
	act->ring_deadline = c->timer_at;
	act->at = now;
	agent_change_state(a, ai, ACD_AGENT_OFFERED, NULL, now, out);
}

/* A waiting call looks for a ready agent in its lane. */
static void route_call(struct acd *a, uint32_t ci, int64_t now, struct acd_actions *out)
{
	uint32_t ai = ready_best(a, a->calls[ci].lane, &a->calls[ci]);
	if (ai != NONE)
		offer_call(a, ci, ai, now, out);
}

/* A ready agent (not in the ready sets) takes the best call at the head of
 * the lanes it serves, or joins the ready sets. */
static void route_agent(struct acd *a, uint32_t ai, int64_t now, struct acd_actions *out)
{
	uint32_t best = NONE;
	for (uint64_t m = a->agents[ai].lanes; m; m &= m - 1) {
		const struct acd_heap *h = &a->lanes[__builtin_ctzll(m)].calls;
		if (h->count > 0 &&
		    (best == NONE || call_before(&a->calls[h->item[0]], &a->calls[best])))
			best = h->item[0];
	}
	if (best != NONE)
		offer_call(a, best, ai, now, out);
	else
		ready_insert(a, ai);
}

static void agent_make_ready(struct acd *a, uint32_t ai, int64_t now, struct acd_actions *out)
{
	agent_change_state(a, ai, ACD_AGENT_READY, NULL, now, out);
	route_agent(a, ai, now, out);
}

/* An offered call was not answered (ring timeout or failed leg): the call
 * goes back to the head of its lane and to another agent if one is ready;
 * the agent counts a miss and is ready again, or not ready after
 * max_misses in a row. The lane needs room for one more call. */
static void offer_missed(struct acd *a, uint32_t ci, int64_t now, struct acd_actions *out)
{
	struct acd_call *c = &a->calls[ci];
	uint32_t ai = c->agent;
	struct acd_agent *g = &a->agents[ai];
	const struct acd_queue *q = call_queue(a, c);
	call_timer_stop(a, ci);
	for (int i = ACD_MISSED_MAX - 1; i > 0; i--)
		c->missed[i] = c->missed[i - 1];
	c->missed[0] = ai;
	c->agent = NONE;
	g->call = NONE;
	call_enqueue(a, ci);
	route_call(a, ci, now, out);
	if (g->misses < UINT16_MAX)
		g->misses++;
	if (g->misses >= q->max_misses)
		agent_change_state(a, ai, ACD_AGENT_NOT_READY, "no_answer", now, out);
	else
		agent_make_ready(a, ai, now, out);
}

/* --- creation ---------------------------------------------------------------------- */

static int queue_config_check(const struct acd_config *cfg, size_t i, char *err, size_t err_len)
{
	const struct acd_queue_config *qc = &cfg->queues[i];
	const char *name = qc->name;
	if (!is_set(name) || strlen(name) > ACD_NAME_MAX) {
		set_error(err, err_len, "queue %zu: a name of 1 to %d bytes is required", i + 1,
			  ACD_NAME_MAX);
		return -EINVAL;
	}
	for (size_t j = 0; j < i; j++) {
		if (strcmp(cfg->queues[j].name, name) == 0) {
			set_error(err, err_len, "queue %s: defined twice", name);
			return -EINVAL;
		}
	}
	if (!is_set(qc->skill) || strlen(qc->skill) > ACD_NAME_MAX) {
		set_error(err, err_len, "queue %s: a skill of 1 to %d bytes is required", name,
			  ACD_NAME_MAX);
		return -EINVAL;
	}
	if (is_set(qc->language) && strlen(qc->language) > ACD_NAME_MAX) {
		set_error(err, err_len, "queue %s: the language is longer than %d bytes", name,
			  ACD_NAME_MAX);
		return -EINVAL;
	}
	if ((unsigned)qc->strategy >= ACD_STRATEGY_COUNT) {
		set_error(err, err_len, "queue %s: unknown strategy %d", name, (int)qc->strategy);
		return -EINVAL;
	}
	if (qc->priority < 0) {
		set_error(err, err_len, "queue %s: priority must be 0 or more, not %d", name,
			  qc->priority);
		return -EINVAL;
	}
	if (qc->ring_timeout_s < 1 || qc->wrap_up_s < 0 || qc->max_wait_s < 0) {
		set_error(err, err_len,
			  "queue %s: ring_timeout_s must be at least 1, wrap_up_s and max_wait_s "
			  "at least 0",
			  name);
		return -EINVAL;
	}
	if (qc->max_misses < 1) {
		set_error(err, err_len, "queue %s: max_misses must be at least 1, not %d", name,
			  qc->max_misses);
		return -EINVAL;
	}
	if ((unsigned)qc->overflow >= ACD_OVERFLOW_COUNT) {
		set_error(err, err_len, "queue %s: unknown overflow kind %d", name,
			  (int)qc->overflow);
		return -EINVAL;
	}
	if (qc->crisis && (qc->max_wait_s > 0 || qc->overflow != ACD_OVERFLOW_NONE)) {
		set_error(err, err_len,
			  "queue %s: a crisis queue never overflows; remove max_wait_s and "
			  "overflow",
			  name);
		return -EINVAL;
	}
	if ((qc->max_wait_s > 0) != (qc->overflow != ACD_OVERFLOW_NONE)) {
		set_error(err, err_len,
			  "queue %s: max_wait_s and an overflow target go together (set both or "
			  "neither)",
			  name);
		return -EINVAL;
	}
	if (qc->overflow == ACD_OVERFLOW_QUEUE) {
		bool found = false;
		for (size_t j = 0; j < cfg->n_queues && !found; j++)
			found = is_set(qc->overflow_queue) && j != i &&
				strcmp(cfg->queues[j].name, qc->overflow_queue) == 0;
		if (!found) {
			set_error(err, err_len,
				  "queue %s: overflow_queue '%s' is not another configured queue",
				  name, qc->overflow_queue ? qc->overflow_queue : "");
			return -EINVAL;
		}
	}
	return 0;
}

static int config_check(const struct acd_config *cfg, char *err, size_t err_len)
{
	if (!is_set(cfg->centre) || strlen(cfg->centre) > ACD_NAME_MAX) {
		set_error(err, err_len, "centre: 1 to %d bytes required", ACD_NAME_MAX);
		return -EINVAL;
	}
	if (cfg->n_queues == 0) {
		set_error(err, err_len, "queues: at least one queue is required");
		return -EINVAL;
	}
	if (cfg->n_languages > ACD_LANGUAGES_MAX) {
		set_error(err, err_len, "languages: at most %d, not %zu", ACD_LANGUAGES_MAX,
			  cfg->n_languages);
		return -EINVAL;
	}
	if (cfg->n_queues * (1 + cfg->n_languages) > ACD_LANES_MAX) {
		set_error(err, err_len,
			  "queues x (1 + languages) is %zu, more than %d: use fewer queues or "
			  "languages",
			  cfg->n_queues * (1 + cfg->n_languages), ACD_LANES_MAX);
		return -EINVAL;
	}
	for (size_t j = 0; j < cfg->n_languages; j++) {
		if (!is_set(cfg->languages[j]) || strlen(cfg->languages[j]) > ACD_NAME_MAX) {
			set_error(err, err_len, "languages: entry %zu must be 1 to %d bytes", j + 1,
				  ACD_NAME_MAX);
			return -EINVAL;
		}
		for (size_t k = 0; k < j; k++) {
			if (strcmp(cfg->languages[k], cfg->languages[j]) == 0) {
				set_error(err, err_len, "languages: '%s' listed twice",
					  cfg->languages[j]);
				return -EINVAL;
			}
		}
	}
	if (cfg->position_updates < 0 || cfg->position_updates > ACD_POSITION_UPDATES_MAX) {
		set_error(err, err_len, "position_updates must be 0..%d, not %d",
			  ACD_POSITION_UPDATES_MAX, cfg->position_updates);
		return -EINVAL;
	}
	if (cfg->handle_time_initial_s < 1) {
		set_error(err, err_len, "handle_time_initial_s must be at least 1, not %d",
			  cfg->handle_time_initial_s);
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->n_queues; i++) {
		int rc = queue_config_check(cfg, i, err, err_len);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int acd_build(struct acd *a, const struct acd_config *cfg)
{
	copy_text(a->centre, sizeof a->centre, cfg->centre);
	a->position_updates = (uint32_t)cfg->position_updates;
	a->handle_time_initial_ms = (int64_t)cfg->handle_time_initial_s * 1000;
	a->free_call = NONE;
	a->next_seq = 1;
	a->skill_ids = strmap_new();
	a->call_ids = strmap_new();
	a->agent_ids = strmap_new();
	a->queues = calloc(cfg->n_queues, sizeof *a->queues);
	if (!a->skill_ids || !a->call_ids || !a->agent_ids || !a->queues)
		return -ENOMEM;
	a->call_timers.kind = HEAP_CALL_TIMERS;
	a->agent_timers.kind = HEAP_AGENT_TIMERS;
	a->n_queues = (uint32_t)cfg->n_queues;
	a->n_languages = (uint32_t)cfg->n_languages;
	for (uint32_t j = 0; j < a->n_languages; j++)
		if (skill_intern(a, cfg->languages[j], &a->language_skill[j]) != 0)
			return -ENOMEM;
	for (uint32_t i = 0; i < a->n_queues; i++) {
		const struct acd_queue_config *qc = &cfg->queues[i];
		struct acd_queue *q = &a->queues[i];
		copy_text(q->name, sizeof q->name, qc->name);
		copy_text(q->overflow_queue_name, sizeof q->overflow_queue_name,
			  qc->overflow_queue);
		q->priority = qc->priority;
		q->strategy = qc->strategy;
		q->overflow = qc->overflow;
		q->crisis = qc->crisis;
		q->callback_on_abandon = qc->callback_on_abandon;
		q->max_misses = qc->max_misses;
		q->ring_us = qc->ring_timeout_s * US_PER_S;
		q->wrap_up_us = qc->wrap_up_s * US_PER_S;
		q->max_wait_us = qc->max_wait_s * US_PER_S;
		q->handle_time_ms = a->handle_time_initial_ms;
		q->round_robin_last = NONE;
		q->language = NONE;
		if (skill_intern(a, qc->skill, &q->skill) != 0)
			return -ENOMEM;
		if (is_set(qc->language) && skill_intern(a, qc->language, &q->language) != 0)
			return -ENOMEM;
	}
	for (uint32_t i = 0; i < a->n_queues; i++)
		a->queues[i].overflow_target =
			a->queues[i].overflow == ACD_OVERFLOW_QUEUE ?
				queue_find(a, a->queues[i].overflow_queue_name) :
				NONE;
	a->n_lanes = a->n_queues * (1 + a->n_languages);
	for (uint32_t l = 0; l < a->n_lanes; l++) {
		struct acd_lane *lane = &a->lanes[l];
		uint32_t qi = l / (1 + a->n_languages), j = l % (1 + a->n_languages);
		const struct acd_queue *q = &a->queues[qi];
		lane->queue = qi;
		lane->language = j == 0 ? NONE : a->language_skill[j - 1];
		lane->round_robin = q->strategy == ACD_STRATEGY_ROUND_ROBIN;
		lane->tail = NONE;
		lane->calls.kind = HEAP_CALLS;
		lane->calls.lane = (uint8_t)l;
		lane->agents.kind = HEAP_AGENTS;
		lane->agents.lane = (uint8_t)l;
		lane->required[lane->n_required++] = q->skill;
		if (q->language != NONE)
			lane->required[lane->n_required++] = q->language;
		if (lane->language != NONE)
			lane->required[lane->n_required++] = lane->language;
	}
	return 0;
}

int acd_new(const struct acd_config *cfg, struct acd **out, char *err, size_t err_len)
{
	*out = NULL;
	int rc = config_check(cfg, err, err_len);
	if (rc != 0)
		return rc;
	struct acd *a = calloc(1, sizeof *a);
	if (a == NULL)
		return -ENOMEM;
	rc = acd_build(a, cfg);
	if (rc != 0) {
		set_error(err, err_len, "out of memory");
		acd_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void acd_free(struct acd *a)
{
	if (a == NULL)
		return;
	for (uint32_t l = 0; l < a->n_lanes; l++) {
		free(a->lanes[l].calls.item);
		free(a->lanes[l].agents.item);
		free(a->lanes[l].ready_bits);
	}
	free(a->call_timers.item);
	free(a->agent_timers.item);
	free(a->calls);
	free(a->agents);
	free(a->agent_lanes);
	free(a->skill_names);
	free(a->queues);
	strmap_free(a->skill_ids);
	strmap_free(a->call_ids);
	strmap_free(a->agent_ids);
	free(a);
}

/* --- capacity, before any change -------------------------------------------------- */

/* Room for one more agent in every per-agent structure. */
static int agents_reserve(struct acd *a)
{
	uint32_t need = a->n_agents + 1;
	if (need > a->agents_cap) {
		uint32_t cap = a->agents_cap ? a->agents_cap * 2 : 64;
		struct acd_agent *agents = realloc(a->agents, (size_t)cap * sizeof *agents);
		if (agents == NULL)
			return -ENOMEM;
		a->agents = agents;
		struct acd_agent_lane *al =
			realloc(a->agent_lanes, (size_t)cap * a->n_lanes * sizeof *al);
		if (al == NULL)
			return -ENOMEM;
		a->agent_lanes = al;
		size_t old_words = (a->agents_cap + 63) / 64, words = (cap + 63) / 64;
		for (uint32_t l = 0; l < a->n_lanes; l++) {
			struct acd_lane *lane = &a->lanes[l];
			if (!lane->round_robin)
				continue;
			uint64_t *bits = realloc(lane->ready_bits, words * sizeof *bits);
			if (bits == NULL)
				return -ENOMEM;
			memset(bits + old_words, 0, (words - old_words) * sizeof *bits);
			lane->ready_bits = bits;
		}
		a->agents_cap = cap;
	}
	for (uint32_t l = 0; l < a->n_lanes; l++)
		if (!a->lanes[l].round_robin && heap_reserve(&a->lanes[l].agents, need) != 0)
			return -ENOMEM;
	return heap_reserve(&a->agent_timers, need);
}

/* Room for one more call: a free slot, a timer, a place in lane l. */
static int calls_reserve(struct acd *a, uint32_t l)
{
	if (a->free_call == NONE) {
		uint32_t cap = a->calls_cap ? a->calls_cap * 2 : 64;
		struct acd_call *calls = realloc(a->calls, (size_t)cap * sizeof *calls);
		if (calls == NULL)
			return -ENOMEM;
		a->calls = calls;
		for (uint32_t i = cap; i-- > a->calls_cap;) {
			calls[i].state = ACD_CALL_GONE;
			calls[i].agent = a->free_call;
			a->free_call = i;
		}
		a->calls_cap = cap;
	}
	if (heap_reserve(&a->call_timers, a->n_calls + 1) != 0)
		return -ENOMEM;
	return heap_reserve(&a->lanes[l].calls, a->lanes[l].calls.count + 1);
}

/* --- lookups ------------------------------------------------------------------------- */

static uint32_t call_find(const struct acd *a, const char *id)
{
	if (!is_set(id))
		return NONE;
	void *v = strmap_get(a->call_ids, id, strlen(id));
	return v ? (uint32_t)((uintptr_t)v - 1) : NONE;
}

static uint32_t agent_find(const struct acd *a, const char *id)
{
	if (!is_set(id))
		return NONE;
	void *v = strmap_get(a->agent_ids, id, strlen(id));
	return v ? (uint32_t)((uintptr_t)v - 1) : NONE;
}

/* Adds a logged-out agent without skills. */
static int agent_add(struct acd *a, const char *id, uint32_t *out)
{
	int rc = agents_reserve(a);
	if (rc != 0)
		return rc;
	uint32_t ai = a->n_agents;
	if (strmap_put(a->agent_ids, id, strlen(id), (void *)(uintptr_t)(ai + 1)) != 0)
		return -ENOMEM;
	struct acd_agent *g = &a->agents[ai];
	memset(g, 0, sizeof *g);
	copy_text(g->id, sizeof g->id, id);
	g->state = ACD_AGENT_LOGGED_OUT;
	g->call = NONE;
	g->timer_pos = NONE;
	for (uint32_t l = 0; l < a->n_lanes; l++)
		*agent_lane(a, ai, l) = (struct acd_agent_lane){.pos = NONE};
	a->n_agents++;
	*out = ai;
	return 0;
}

/* Checks an agent's skill list and interns its names. */
static int agent_skills_parse(struct acd *a, const struct acd_skill *skills, size_t n,
			      struct acd_agent_skill *out)
{
	if (n > ACD_SKILLS_MAX || (n > 0 && skills == NULL))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (skills[i].name[0] == '\0' || skills[i].level < ACD_SKILL_LEVEL_MIN ||
		    skills[i].level > ACD_SKILL_LEVEL_MAX ||
		    strnlen(skills[i].name, sizeof skills[i].name) > ACD_NAME_MAX)
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(skills[i].name, skills[j].name) == 0)
				return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t id;
		if (skill_intern(a, skills[i].name, &id) != 0)
			return -ENOMEM;
		out[i] = (struct acd_agent_skill){.skill = (uint16_t)id,
						  .level = (uint8_t)skills[i].level};
	}
	return 0;
}

/* --- inputs ----------------------------------------------------------------------------- */

static int input_call_waiting(struct acd *a, const struct acd_input *in, int64_t now,
			      struct acd_actions *out, bool callback)
{
	if (!is_set(in->call) || strlen(in->call) > ACD_ID_MAX || !is_set(in->queue))
		return -EINVAL;
	if (callback && (in->joined_at <= 0 || in->joined_at > now))
		return -EINVAL;
	if (call_find(a, in->call) != NONE)
		return -EEXIST;
	uint32_t qi = queue_find(a, in->queue);
	if (qi == NONE)
		return -EINVAL;
	uint32_t l = lane_for(a, qi, in->language);
	if (l == NONE)
		return -EINVAL;
	if (calls_reserve(a, l) != 0)
		return -ENOMEM;
	uint32_t ci = a->free_call;
	if (strmap_put(a->call_ids, in->call, strlen(in->call), (void *)(uintptr_t)(ci + 1)) != 0)
		return -ENOMEM;
	struct acd_call *c = &a->calls[ci];
	a->free_call = c->agent;
	a->n_calls++;
	memset(c, 0, sizeof *c);
	copy_text(c->id, sizeof c->id, in->call);
	c->lane = (uint8_t)l;
	c->crisis = in->crisis || a->queues[qi].crisis;
	c->callback = callback;
	c->priority = in->priority_set ? in->priority : a->queues[qi].priority;
	c->lane_pos = c->timer_pos = c->agent = NONE;
	for (int i = 0; i < ACD_MISSED_MAX; i++)
		c->missed[i] = NONE;
	c->joined_at = in->joined_at > 0 ? in->joined_at : now;
	c->enqueued_at = now;
	c->seq = a->next_seq++;
	call_enqueue(a, ci);
	route_call(a, ci, now, out);
	if (c->state == ACD_CALL_WAITING) {
		uint32_t rank = lane_rank(a, ci);
		if (rank == a->lanes[l].calls.count - 1)
			a->lanes[l].tail = ci; /* learnt again after the tail left */
		emit_position(a, ci, 1 + rank, out);
	}
	return 0;
}

/* The caller hung up (CALL_GONE: callbacks as configured) or the call left
 * the ACD's hands otherwise (CALL_WITHDRAWN: never a callback). */
static int input_call_gone(struct acd *a, const struct acd_input *in, int64_t now,
			   struct acd_actions *out)
{
	bool withdrawn = in->type == ACD_IN_CALL_WITHDRAWN;
	uint32_t ci = call_find(a, in->call);
	if (ci == NONE)
		return -ENOENT;
	struct acd_call *c = &a->calls[ci];
	const struct acd_queue *q = call_queue(a, c);
	uint32_t ai = NONE;
	if (c->state == ACD_CALL_WAITING) {
		call_dequeue(a, ci);
	} else if (c->state == ACD_CALL_OFFERED) {
		ai = c->agent;
		call_timer_stop(a, ci);
		struct acd_action *act = action_add(out, ACD_ACT_CANCEL_OFFER);
		copy_text(act->call, sizeof act->call, c->id);
		copy_text(act->agent, sizeof act->agent, a->agents[ai].id);
		act->queue = q->name;
		act->at = now;
		a->agents[ai].call = NONE;
	} else {
		return -EINVAL;
	}
	if (!withdrawn && (c->crisis || q->callback_on_abandon)) {
		struct acd_action *act = action_add(out, ACD_ACT_CALLBACK_TASK);
		copy_text(act->call, sizeof act->call, c->id);
		act->queue = q->name;
		act->urgent = c->crisis;
		act->at = now;
	}
	call_release(a, ci);
	if (ai != NONE)
		agent_make_ready(a, ai, now, out);
	return 0;
}

/* The offered call named by in, checked against in->agent when given. */
static int offered_call(const struct acd *a, const struct acd_input *in, uint32_t *out)
{
	uint32_t ci = call_find(a, in->call);
	if (ci == NONE)
		return -ENOENT;
	const struct acd_call *c = &a->calls[ci];
	if (c->state != ACD_CALL_OFFERED)
		return -EINVAL;
	if (is_set(in->agent) && strcmp(in->agent, a->agents[c->agent].id) != 0)
		return -EINVAL;
	*out = ci;
	return 0;
}

static int input_offer_answered(struct acd *a, const struct acd_input *in, int64_t now,
				struct acd_actions *out)
{
	uint32_t ci;
	int rc = offered_call(a, in, &ci);
	if (rc != 0)
		return rc;
	struct acd_call *c = &a->calls[ci];
	struct acd_agent *g = &a->agents[c->agent];
	call_timer_stop(a, ci);
	c->state = ACD_CALL_CONNECTED;
	c->timer_at = now;
	g->calls_today++;
	g->misses = 0;
	agent_change_state(a, c->agent, ACD_AGENT_ON_CALL, NULL, now, out);
	return 0;
}

static int input_offer_failed(struct acd *a, const struct acd_input *in, int64_t now,
			      struct acd_actions *out)
{
	uint32_t ci;
	int rc = offered_call(a, in, &ci);
	if (rc != 0)
		return rc;
	struct acd_lane *lane = &a->lanes[a->calls[ci].lane];
	if (heap_reserve(&lane->calls, lane->calls.count + 1) != 0)
		return -ENOMEM;
	offer_missed(a, ci, now, out);
	return 0;
}

static int input_call_ended(struct acd *a, const struct acd_input *in, int64_t now,
			    struct acd_actions *out)
{
	uint32_t ci = call_find(a, in->call);
	if (ci == NONE)
		return -ENOENT;
	struct acd_call *c = &a->calls[ci];
	if (c->state != ACD_CALL_CONNECTED)
		return -EINVAL;
	uint32_t ai = c->agent;
	struct acd_queue *q = &a->queues[a->lanes[c->lane].queue];
	int64_t talk_ms = (now - c->timer_at) / 1000;
	int64_t sample = (talk_ms > 0 ? talk_ms : 0) + q->wrap_up_us / 1000;
	q->handle_time_ms += (sample - q->handle_time_ms) / (1 << HANDLE_TIME_WEIGHT_SHIFT);
	if (q->handle_time_ms < 1)
		q->handle_time_ms = 1;
	int64_t wrap_up_us = q->wrap_up_us;
	call_release(a, ci);
	struct acd_agent *g = &a->agents[ai];
	g->call = NONE;
	if (wrap_up_us == 0) {
		g->idle_since = now;
		agent_make_ready(a, ai, now, out);
		return 0;
	}
	agent_change_state(a, ai, ACD_AGENT_WRAP_UP, NULL, now, out);
	g->timer_at = now + wrap_up_us;
	heap_push(a, &a->agent_timers, ai);
	return 0;
}

static int input_agent_login(struct acd *a, const struct acd_input *in, int64_t now,
			     struct acd_actions *out)
{
	if (!is_set(in->agent) || strlen(in->agent) > ACD_ID_MAX)
		return -EINVAL;
	uint32_t ai = agent_find(a, in->agent);
	if (ai != NONE && a->agents[ai].state != ACD_AGENT_LOGGED_OUT)
		return -EALREADY;
	struct acd_agent_skill skills[ACD_SKILLS_MAX];
	int rc = agent_skills_parse(a, in->skills, in->n_skills, skills);
	if (rc != 0)
		return rc;
	if (ai == NONE && (rc = agent_add(a, in->agent, &ai)) != 0)
		return rc;
	struct acd_agent *g = &a->agents[ai];
	memcpy(g->skills, skills, in->n_skills * sizeof skills[0]);
	g->n_skills = (uint8_t)in->n_skills;
	g->misses = 0;
	g->idle_since = now;
	agent_compute_lanes(a, ai);
	agent_change_state(a, ai, ACD_AGENT_NOT_READY, "login", now, out);
	return 0;
}

static int input_agent_ready(struct acd *a, const struct acd_input *in, int64_t now,
			     struct acd_actions *out)
{
	uint32_t ai = agent_find(a, in->agent);
	if (ai == NONE)
		return -ENOENT;
	struct acd_agent *g = &a->agents[ai];
	switch (g->state) {
	case ACD_AGENT_READY:
		return 0;
	case ACD_AGENT_WRAP_UP:
		g->idle_since = now;
		break;
	case ACD_AGENT_NOT_READY:
		g->misses = 0;
		break;
	default:
		return -EINVAL;
	}
	agent_make_ready(a, ai, now, out);
	return 0;
}

static int input_agent_leave(struct acd *a, const struct acd_input *in, int64_t now,
			     struct acd_actions *out, enum acd_agent_state to)
{
	uint32_t ai = agent_find(a, in->agent);
	if (ai == NONE)
		return -ENOENT;
	if (to == ACD_AGENT_NOT_READY &&
	    (!is_set(in->reason) || strlen(in->reason) > ACD_REASON_MAX))
		return -EINVAL;
	switch (a->agents[ai].state) {
	case ACD_AGENT_OFFERED:
	case ACD_AGENT_ON_CALL:
		return -EBUSY;
	case ACD_AGENT_LOGGED_OUT:
		return -EINVAL;
	default:
		break;
	}
	if (a->agents[ai].state == ACD_AGENT_WRAP_UP)
		a->agents[ai].idle_since = now;
	agent_change_state(a, ai, to, in->reason, now, out);
	return 0;
}

static void input_new_day(struct acd *a)
{
	for (uint32_t ai = 0; ai < a->n_agents; ai++)
		if (a->agents[ai].state == ACD_AGENT_READY)
			ready_remove(a, ai);
	for (uint32_t ai = 0; ai < a->n_agents; ai++) {
		a->agents[ai].calls_today = 0;
		if (a->agents[ai].state == ACD_AGENT_READY)
			ready_insert(a, ai);
	}
}

/* Ready agents who serve a lane with waiting calls (only after a restore
 * from a snapshot that was not consistent) take their calls, in agent
 * order. Returns false when it stopped for room. */
static bool settle_ready_agents(struct acd *a, int64_t now, struct acd_actions *out)
{
	for (uint32_t ai = 0; ai < a->n_agents; ai++) {
		if (a->agents[ai].state != ACD_AGENT_READY)
			continue;
		bool waiting = false;
		for (uint64_t m = a->agents[ai].lanes; m && !waiting; m &= m - 1)
			waiting = a->lanes[__builtin_ctzll(m)].calls.count > 0;
		if (!waiting)
			continue;
		if (out->cap - out->count < ACD_ACTIONS_PER_INPUT)
			return false;
		ready_remove(a, ai);
		route_agent(a, ai, now, out);
		flush_positions(a, out);
	}
	a->settle_pending = false;
	return true;
}

/* Handles the earliest due timer (agents first on equal times). Returns 1
 * when it handled one, 0 when none is due, -ENOMEM with nothing changed. */
static int tick_one(struct acd *a, int64_t now, struct acd_actions *out)
{
	const struct acd_heap *at = &a->agent_timers, *ct = &a->call_timers;
	int64_t agent_due = at->count ? a->agents[at->item[0]].timer_at : INT64_MAX;
	int64_t call_due = ct->count ? a->calls[ct->item[0]].timer_at : INT64_MAX;
	if (agent_due > now && call_due > now)
		return 0;
	if (agent_due <= call_due) {
		uint32_t ai = at->item[0];
		a->agents[ai].idle_since = a->agents[ai].timer_at;
		agent_make_ready(a, ai, now, out);
		return 1;
	}
	uint32_t ci = ct->item[0];
	struct acd_call *c = &a->calls[ci];
	if (c->state == ACD_CALL_OFFERED) {
		struct acd_lane *lane = &a->lanes[c->lane];
		if (heap_reserve(&lane->calls, lane->calls.count + 1) != 0)
			return -ENOMEM;
		struct acd_action *act = action_add(out, ACD_ACT_CANCEL_OFFER);
		copy_text(act->call, sizeof act->call, c->id);
		copy_text(act->agent, sizeof act->agent, a->agents[c->agent].id);
		act->queue = call_queue(a, c)->name;
		act->at = now;
		offer_missed(a, ci, now, out);
		return 1;
	}
	/* Max wait: only non-crisis waiting calls have this timer. */
	const struct acd_queue *q = call_queue(a, c);
	uint32_t target = NONE;
	if (q->overflow == ACD_OVERFLOW_QUEUE) {
		uint32_t lang = a->lanes[c->lane].language;
		target =
			lane_for(a, q->overflow_target, lang == NONE ? NULL : a->skill_names[lang]);
		if (heap_reserve(&a->lanes[target].calls, a->lanes[target].calls.count + 1) != 0)
			return -ENOMEM;
	}
	struct acd_action *act = action_add(out, ACD_ACT_OVERFLOW);
	copy_text(act->call, sizeof act->call, c->id);
	act->queue = q->name;
	act->overflow = q->overflow;
	act->target_queue = target != NONE ? a->queues[q->overflow_target].name : NULL;
	act->at = now;
	call_dequeue(a, ci);
	if (target == NONE) {
		call_release(a, ci);
		return 1;
	}
	c->lane = (uint8_t)target;
	c->enqueued_at = now;
	c->reported_position = 0;
	call_enqueue(a, ci);
	route_call(a, ci, now, out);
	return 1;
}

static int input_tick(struct acd *a, int64_t now, struct acd_actions *out)
{
	if (a->settle_pending && !settle_ready_agents(a, now, out))
		return -EAGAIN;
	for (;;) {
		if (acd_next_deadline(a) > now)
			return 0;
		if (out->cap - out->count < ACD_ACTIONS_PER_INPUT)
			return -EAGAIN;
		int rc = tick_one(a, now, out);
		flush_positions(a, out);
		if (rc < 0)
			return rc;
	}
}

int acd_step(struct acd *a, const struct acd_input *in, int64_t now, struct acd_actions *out)
{
	if (in->type != ACD_IN_TICK && out->cap - out->count < ACD_ACTIONS_PER_INPUT)
		return -ENOBUFS;
	if (is_set(in->centre) && strcmp(in->centre, a->centre) != 0)
		return -EXDEV;
	if (now < a->last_now)
		now = a->last_now;
	a->last_now = now;
	int rc;
	switch (in->type) {
	case ACD_IN_CALL_WAITING:
		rc = input_call_waiting(a, in, now, out, false);
		break;
	case ACD_IN_CALLBACK_REQUESTED:
		rc = input_call_waiting(a, in, now, out, true);
		break;
	case ACD_IN_CALL_GONE:
	case ACD_IN_CALL_WITHDRAWN:
		rc = input_call_gone(a, in, now, out);
		break;
	case ACD_IN_OFFER_ANSWERED:
		rc = input_offer_answered(a, in, now, out);
		break;
	case ACD_IN_OFFER_FAILED:
		rc = input_offer_failed(a, in, now, out);
		break;
	case ACD_IN_CALL_ENDED:
		rc = input_call_ended(a, in, now, out);
		break;
	case ACD_IN_AGENT_LOGIN:
		rc = input_agent_login(a, in, now, out);
		break;
	case ACD_IN_AGENT_LOGOUT:
		rc = input_agent_leave(a, in, now, out, ACD_AGENT_LOGGED_OUT);
		break;
	case ACD_IN_AGENT_READY:
		rc = input_agent_ready(a, in, now, out);
		break;
	case ACD_IN_AGENT_NOT_READY:
		rc = input_agent_leave(a, in, now, out, ACD_AGENT_NOT_READY);
		break;
	case ACD_IN_TICK:
		return input_tick(a, now, out);
	case ACD_IN_NEW_DAY:
		input_new_day(a);
		rc = 0;
		break;
	default:
		return -EINVAL;
	}
	flush_positions(a, out);
	return rc;
}

int64_t acd_next_deadline(const struct acd *a)
{
	int64_t next = INT64_MAX;
	if (a->settle_pending)
		return INT64_MIN;
	if (a->agent_timers.count)
		next = a->agents[a->agent_timers.item[0]].timer_at;
	if (a->call_timers.count && a->calls[a->call_timers.item[0]].timer_at < next)
		next = a->calls[a->call_timers.item[0]].timer_at;
	return next;
}

/* --- queries ------------------------------------------------------------------------------ */

int acd_call_position(const struct acd *a, const char *call, int *position, int *estimated_wait_s)
{
	uint32_t ci = call_find(a, call);
	if (ci == NONE)
		return -ENOENT;
	const struct acd_call *c = &a->calls[ci];
	if (c->state != ACD_CALL_WAITING)
		return -EINVAL;
	uint32_t p = 1 + lane_rank(a, ci);
	*position = (int)p;
	*estimated_wait_s = estimate_wait_s(a, c->lane, p);
	return 0;
}

size_t acd_call_count(const struct acd *a)
{
	return a->n_calls;
}

size_t acd_waiting_count(const struct acd *a, const char *queue)
{
	uint32_t qi = queue_find(a, queue);
	size_t n = 0;
	if (qi == NONE)
		return 0;
	for (uint32_t j = 0; j <= a->n_languages; j++)
		n += a->lanes[qi * (1 + a->n_languages) + j].calls.count;
	return n;
}

static void agent_record_fill(const struct acd *a, uint32_t ai, struct acd_agent_record *r)
{
	const struct acd_agent *g = &a->agents[ai];
	memset(r, 0, sizeof *r);
	copy_text(r->id, sizeof r->id, g->id);
	r->state = (enum acd_agent_state)g->state;
	copy_text(r->reason, sizeof r->reason, g->reason);
	r->state_since = g->state_since;
	r->idle_since = g->idle_since;
	r->wrap_up_until = g->state == ACD_AGENT_WRAP_UP ? g->timer_at : 0;
	r->calls_today = g->calls_today;
	r->misses = g->misses;
	r->n_skills = g->n_skills;
	for (unsigned i = 0; i < g->n_skills; i++) {
		copy_text(r->skills[i].name, sizeof r->skills[i].name,
			  a->skill_names[g->skills[i].skill]);
		r->skills[i].level = g->skills[i].level;
	}
}

static void call_record_fill(const struct acd *a, uint32_t ci, struct acd_call_record *r)
{
	const struct acd_call *c = &a->calls[ci];
	const struct acd_lane *lane = &a->lanes[c->lane];
	const struct acd_queue *q = &a->queues[lane->queue];
	memset(r, 0, sizeof *r);
	copy_text(r->id, sizeof r->id, c->id);
	copy_text(r->queue, sizeof r->queue, q->name);
	if (lane->language != NONE)
		copy_text(r->language, sizeof r->language, a->skill_names[lane->language]);
	r->state = (enum acd_call_state)c->state;
	r->priority = c->priority;
	r->crisis = c->crisis;
	r->callback = c->callback;
	r->joined_at = c->joined_at;
	switch (c->state) {
	case ACD_CALL_WAITING:
		r->since = c->enqueued_at;
		break;
	case ACD_CALL_OFFERED:
		r->ring_deadline = c->timer_at;
		r->since = c->timer_at - q->ring_us;
		break;
	default:
		r->since = c->timer_at;
		break;
	}
	if (c->agent != NONE && c->state != ACD_CALL_GONE)
		copy_text(r->agent, sizeof r->agent, a->agents[c->agent].id);
	for (int i = 0; i < ACD_MISSED_MAX; i++)
		if (c->missed[i] != NONE)
			copy_text(r->missed[i], sizeof r->missed[i], a->agents[c->missed[i]].id);
	r->reported_position = (int)c->reported_position;
}

int acd_agent_get(const struct acd *a, const char *agent, struct acd_agent_record *out)
{
	uint32_t ai = agent_find(a, agent);
	if (ai == NONE)
		return -ENOENT;
	agent_record_fill(a, ai, out);
	return 0;
}

int acd_call_get(const struct acd *a, const char *call, struct acd_call_record *out)
{
	uint32_t ci = call_find(a, call);
	if (ci == NONE)
		return -ENOENT;
	call_record_fill(a, ci, out);
	return 0;
}

/* --- snapshot and restore ---------------------------------------------------------------- */

struct seq_index {
	uint64_t seq;
	uint32_t index;
};

static int seq_index_cmp(const void *x, const void *y)
{
	const struct seq_index *p = x, *q = y;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

int acd_snapshot_take(const struct acd *a, struct acd_snapshot *out)
{
	memset(out, 0, sizeof *out);
	struct seq_index *order = malloc(((size_t)a->n_calls + 1) * sizeof *order);
	out->agents = calloc((size_t)a->n_agents + 1, sizeof *out->agents);
	out->calls = calloc((size_t)a->n_calls + 1, sizeof *out->calls);
	out->queues = calloc(a->n_queues, sizeof *out->queues);
	if (!order || !out->agents || !out->calls || !out->queues) {
		free(order);
		acd_snapshot_free(out);
		return -ENOMEM;
	}
	for (uint32_t ai = 0; ai < a->n_agents; ai++)
		agent_record_fill(a, ai, &out->agents[ai]);
	out->n_agents = a->n_agents;
	size_t n = 0;
	for (uint32_t ci = 0; ci < a->calls_cap; ci++)
		if (a->calls[ci].state != ACD_CALL_GONE)
			order[n++] = (struct seq_index){a->calls[ci].seq, ci};
	qsort(order, n, sizeof *order, seq_index_cmp);
	for (size_t i = 0; i < n; i++)
		call_record_fill(a, order[i].index, &out->calls[i]);
	out->n_calls = n;
	free(order);
	for (uint32_t qi = 0; qi < a->n_queues; qi++) {
		const struct acd_queue *q = &a->queues[qi];
		copy_text(out->queues[qi].name, sizeof out->queues[qi].name, q->name);
		out->queues[qi].handle_time_ms = q->handle_time_ms;
		if (q->round_robin_last != NONE)
			copy_text(out->queues[qi].round_robin_last,
				  sizeof out->queues[qi].round_robin_last,
				  a->agents[q->round_robin_last].id);
	}
	out->n_queues = a->n_queues;
	return 0;
}

void acd_snapshot_free(struct acd_snapshot *s)
{
	free(s->agents);
	free(s->calls);
	free(s->queues);
	memset(s, 0, sizeof *s);
}

static int restore_agents(struct acd *a, const struct acd_snapshot *snap, char *err, size_t err_len)
{
	for (size_t i = 0; i < snap->n_agents; i++) {
		const struct acd_agent_record *r = &snap->agents[i];
		struct acd_agent_skill skills[ACD_SKILLS_MAX];
		uint32_t ai;
		if (!is_set(r->id) || agent_find(a, r->id) != NONE ||
		    (unsigned)r->state >= ACD_AGENT_STATE_COUNT) {
			set_error(err, err_len,
				  "agent %zu '%s': empty or repeated id, or bad state", i + 1,
				  r->id);
			return -EINVAL;
		}
		int rc = agent_skills_parse(a, r->skills, r->n_skills, skills);
		if (rc == -EINVAL)
			set_error(err, err_len,
				  "agent %s: skills need distinct names and levels %d..%d", r->id,
				  ACD_SKILL_LEVEL_MIN, ACD_SKILL_LEVEL_MAX);
		if (rc == 0)
			rc = agent_add(a, r->id, &ai);
		if (rc != 0)
			return rc;
		struct acd_agent *g = &a->agents[ai];
		memcpy(g->skills, skills, r->n_skills * sizeof skills[0]);
		g->n_skills = (uint8_t)r->n_skills;
		g->state = (uint8_t)r->state;
		copy_text(g->reason, sizeof g->reason,
			  r->state == ACD_AGENT_NOT_READY ? r->reason : NULL);
		g->state_since = r->state_since;
		g->idle_since = r->idle_since;
		g->calls_today = r->calls_today;
		g->misses = (uint16_t)(r->misses > UINT16_MAX ? UINT16_MAX : r->misses);
		agent_compute_lanes(a, ai);
		if (agent_is_working(g->state))
			for (uint64_t m = g->lanes; m; m &= m - 1)
				a->lanes[__builtin_ctzll(m)].staffed++;
		if (g->state == ACD_AGENT_WRAP_UP) {
			g->timer_at = r->wrap_up_until;
			heap_push(a, &a->agent_timers, ai);
		}
	}
	return 0;
}

static int restore_call(struct acd *a, const struct acd_call_record *r, char *err, size_t err_len)
{
	uint32_t qi = queue_find(a, r->queue);
	uint32_t l = qi == NONE ? NONE : lane_for(a, qi, r->language);
	if (!is_set(r->id) || call_find(a, r->id) != NONE || l == NONE ||
	    r->state > ACD_CALL_CONNECTED) {
		set_error(err, err_len,
			  "call '%s': empty or repeated id, unknown queue '%s' or language '%s', "
			  "or not waiting, offered or connected",
			  r->id, r->queue, r->language);
		return -EINVAL;
	}
	uint32_t ai = NONE;
	if (r->state != ACD_CALL_WAITING) {
		ai = agent_find(a, r->agent);
		enum acd_agent_state want = r->state == ACD_CALL_OFFERED ? ACD_AGENT_OFFERED :
									   ACD_AGENT_ON_CALL;
		if (ai == NONE || a->agents[ai].state != want || a->agents[ai].call != NONE) {
			set_error(err, err_len,
				  "call %s: %s to '%s', who is not %s with no other call", r->id,
				  acd_call_state_name(r->state), r->agent,
				  acd_agent_state_name(want));
			return -EINVAL;
		}
	}
	int rc = calls_reserve(a, l);
	if (rc != 0)
		return rc;
	uint32_t ci = a->free_call;
	if (strmap_put(a->call_ids, r->id, strlen(r->id), (void *)(uintptr_t)(ci + 1)) != 0)
		return -ENOMEM;
	struct acd_call *c = &a->calls[ci];
	a->free_call = c->agent;
	a->n_calls++;
	memset(c, 0, sizeof *c);
	copy_text(c->id, sizeof c->id, r->id);
	c->lane = (uint8_t)l;
	c->crisis = r->crisis || a->queues[qi].crisis;
	c->callback = r->callback;
	c->priority = r->priority;
	c->lane_pos = c->timer_pos = NONE;
	c->agent = ai;
	for (int i = 0; i < ACD_MISSED_MAX; i++)
		c->missed[i] = agent_find(a, r->missed[i]);
	c->reported_position = r->reported_position > 0 ? (uint32_t)r->reported_position : 0;
	c->joined_at = r->joined_at;
	c->enqueued_at = r->since;
	c->seq = a->next_seq++;
	if (r->state == ACD_CALL_WAITING) {
		call_enqueue(a, ci);
		return 0;
	}
	c->state = (uint8_t)r->state;
	a->agents[ai].call = ci;
	if (r->state == ACD_CALL_OFFERED)
		call_timer_start(a, ci, r->ring_deadline);
	else
		c->timer_at = r->since;
	return 0;
}

int acd_restore(const struct acd_config *cfg, const struct acd_snapshot *snap, struct acd **out,
		char *err, size_t err_len)
{
	struct acd *a;
	int rc = acd_new(cfg, &a, err, err_len);
	if (rc != 0)
		return rc;
	*out = NULL;
	for (size_t i = 0; i < snap->n_queues; i++) {
		uint32_t qi = queue_find(a, snap->queues[i].name);
		if (qi == NONE) {
			set_error(err, err_len, "queue record '%s': no such queue in the config",
				  snap->queues[i].name);
			rc = -EINVAL;
			goto fail;
		}
		if (snap->queues[i].handle_time_ms > 0)
			a->queues[qi].handle_time_ms = snap->queues[i].handle_time_ms;
	}
	if ((rc = restore_agents(a, snap, err, err_len)) != 0)
		goto fail;
	for (size_t i = 0; i < snap->n_calls; i++)
		if ((rc = restore_call(a, &snap->calls[i], err, err_len)) != 0)
			goto fail;
	for (uint32_t ai = 0; ai < a->n_agents; ai++) {
		const struct acd_agent *g = &a->agents[ai];
		if ((g->state == ACD_AGENT_OFFERED || g->state == ACD_AGENT_ON_CALL) &&
		    g->call == NONE) {
			set_error(err, err_len, "agent %s: %s but no call record names them", g->id,
				  acd_agent_state_name((enum acd_agent_state)g->state));
			rc = -EINVAL;
			goto fail;
		}
		if (g->state == ACD_AGENT_READY) {
			ready_insert(a, ai);
			for (uint64_t m = g->lanes; m; m &= m - 1)
				if (a->lanes[__builtin_ctzll(m)].calls.count > 0)
					a->settle_pending = true;
		}
	}
	for (size_t i = 0; i < snap->n_queues; i++)
		a->queues[queue_find(a, snap->queues[i].name)].round_robin_last =
			agent_find(a, snap->queues[i].round_robin_last);
	a->dirty_lanes = 0;
	*out = a;
	return 0;
fail:
	if (rc == -ENOMEM)
		set_error(err, err_len, "out of memory");
	acd_free(a);
	return rc;
}
