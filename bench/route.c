/* route.c: decision latency and memory of the ACD core (acd.h), measured
 * on the core alone: no broker, no network, no database.
 *
 * A centre of 1,000 agents with mixed skills and levels over 8 queues (one
 * per strategy at least, a crisis queue, overflows to another queue and to
 * a callback, two caller languages) starts with 6,000 callers waiting; once
 * every agent has taken one, 5,000 still wait. Then a simulated stream of
 * inputs plays the centre's life on a simulated clock: arrivals that keep
 * about 5,000 callers waiting, answers after a ring delay, a few failed
 * legs and ring timeouts, calls that end after a sampled handle time,
 * wrap-ups that end on ticks, agents' breaks, hang-ups, overflows and
 * callbacks. Every acd_step call is timed with clock_gettime(MONOTONIC);
 * the simulation around it is not.
 *
 * Memory is the core's own heap (mallinfo2: bytes in use, mapped chunks
 * included) for 10,000 callers waiting in a core that already holds the
 * agents, per 1,000. The broker's RSS per 1,000 calls in progress is
 * measured by the script bench/route, which runs this program first.
 *
 * Usage: route [--inputs N] [--seed N]
 * Last line:
 *   route: p50 <us> us, p99 <us> us, <N> decisions/s, <KiB> KiB per 1000 calls in progress
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acd.h"

#define N_AGENTS 1000
#define N_WAITING 5000
#define MEMORY_CALLS 10000
#define MAX_CALLS 2000000
#define SECOND 1000000LL
#define START (1551657600LL * SECOND) /* 2019-03-04T08:00:00+08:00 */

static const char *const languages[] = {"english", "local_dialect"};

static const struct acd_queue_config queues[] = {
	{.name = "crisis",
	 .priority = 0,
	 .skill = "crisis",
	 .crisis = true,
	 .strategy = ACD_STRATEGY_LONGEST_IDLE,
	 .ring_timeout_s = 20,
	 .wrap_up_s = 60,
	 .max_misses = 2},
	{.name = "expert_qa",
	 .priority = 2,
	 .skill = "expert_qa",
	 .strategy = ACD_STRATEGY_SKILL_LEVEL,
	 .ring_timeout_s = 15,
	 .wrap_up_s = 20,
	 .max_misses = 3},
	{.name = "complaint",
	 .priority = 3,
	 .skill = "complaint",
	 .strategy = ACD_STRATEGY_FEWEST_CALLS,
	 .ring_timeout_s = 15,
	 .wrap_up_s = 30,
	 .max_misses = 3},
	{.name = "consultation",
	 .priority = 3,
	 .skill = "consultation",
	 .strategy = ACD_STRATEGY_LONGEST_IDLE,
	 .ring_timeout_s = 15,
	 .wrap_up_s = 10,
	 .max_wait_s = 1200,
	 .overflow = ACD_OVERFLOW_CALLBACK,
	 .max_misses = 3},
	{.name = "booking",
	 .priority = 4,
	 .skill = "booking",
	 .strategy = ACD_STRATEGY_LONGEST_IDLE,
	 .ring_timeout_s = 15,
	 .wrap_up_s = 5,
	 .max_wait_s = 900,
	 .overflow = ACD_OVERFLOW_QUEUE,
	 .overflow_queue = "consultation",
	 .max_misses = 3},
	{.name = "survey",
	 .priority = 6,
	 .skill = "survey",
	 .strategy = ACD_STRATEGY_ROUND_ROBIN,
	 .ring_timeout_s = 15,
	 .wrap_up_s = 5,
	 .max_misses = 3,
	 .callback_on_abandon = true},
	{.name = "work_order",
	 .priority = 5,
	 .skill = "work_order",
	 .strategy = ACD_STRATEGY_ROUND_ROBIN,
	 .ring_timeout_s = 15,
	 .wrap_up_s = 30,
	 .max_misses = 3},
	{.name = "other",
	 .priority = 5,
	 .skill = "other",
	 .strategy = ACD_STRATEGY_FEWEST_CALLS,
	 .ring_timeout_s = 15,
	 .wrap_up_s = 10,
	 .max_misses = 3},
};
#define N_QUEUES 8

/* Share of arrivals per queue, in percent (booking dominates, as in 2019). */
static const int queue_share[N_QUEUES] = {1, 4, 6, 20, 55, 4, 5, 5};

static uint64_t rng = 0x12320;

static uint64_t rand_next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int64_t rand_between(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rand_next() % (uint64_t)(hi - lo + 1));
}

/* --- the simulation's calendar ----------------------------------------------- */

enum ev_kind {
	EV_ARRIVE,
	EV_ANSWER,
	EV_FAIL,
	EV_END,
	EV_GONE,
	EV_CALLBACK,
	EV_BREAK,
	EV_BACK,
	EV_TICK
};

struct ev {
	int64_t at;
	uint64_t seq;
	uint32_t kind;
	uint32_t id;
};

static struct ev *cal;
static size_t cal_n, cal_cap;
static uint64_t cal_seq;

static int ev_before(const struct ev *x, const struct ev *y)
{
	return x->at != y->at ? x->at < y->at : x->seq < y->seq;
}

static void cal_push(int64_t at, enum ev_kind kind, uint32_t id)
{
	if (cal_n == cal_cap) {
		cal_cap = cal_cap ? cal_cap * 2 : 1024;
		cal = realloc(cal, cal_cap * sizeof *cal);
		if (cal == NULL) {
			perror("route: calendar");
			exit(1);
		}
	}
	size_t i = cal_n++;
	struct ev e = {at, cal_seq++, kind, id};
	while (i > 0 && ev_before(&e, &cal[(i - 1) / 2])) {
		cal[i] = cal[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	cal[i] = e;
}

static struct ev cal_pop(void)
{
	struct ev top = cal[0], last = cal[--cal_n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= cal_n)
			break;
		if (c + 1 < cal_n && ev_before(&cal[c + 1], &cal[c]))
			c++;
		if (!ev_before(&cal[c], &last))
			break;
		cal[i] = cal[c];
		i = c;
	}
	if (cal_n > 0)
		cal[i] = last;
	return top;
}

/* --- calls and agents, as the simulated gateway knows them --------------------- */

struct sim_call {
	char id[16];
	int64_t joined_at;
	uint8_t queue;
	uint8_t language; /* 0 none, 1 english, 2 local_dialect */
	uint8_t crisis;
	uint8_t state;  /* 0 waiting, 1 offered, 2 connected, 3 gone */
	uint32_t agent; /* the agent last offered the call */
};

static struct sim_call *calls;
static uint32_t n_calls;
static char agent_ids[N_AGENTS][16];
static struct acd_skill agent_skills[N_AGENTS][ACD_SKILLS_MAX];
static size_t agent_n_skills[N_AGENTS];

static uint32_t new_call(int64_t now)
{
	if (n_calls == MAX_CALLS) {
		fprintf(stderr, "route: more than %d calls; use fewer --inputs\n", MAX_CALLS);
		exit(1);
	}
	uint32_t i = n_calls++;
	struct sim_call *c = &calls[i];
	snprintf(c->id, sizeof c->id, "nj-%07" PRIu32, i);
	c->joined_at = now;
	int r = (int)rand_between(0, 99), q = 0;
	while (r >= queue_share[q]) {
		r -= queue_share[q];
		q++;
	}
	c->queue = (uint8_t)q;
	int l = (int)rand_between(0, 99);
	c->language = l < 3 ? 1 : l < 8 ? 2 : 0;
	c->crisis = rand_between(0, 999) < 3;
	return i;
}

static void make_agents(void)
{
	for (int i = 0; i < N_AGENTS; i++) {
		snprintf(agent_ids[i], sizeof agent_ids[i], "agent-%04d", i);
		size_t n = 0;
		/* Everyone books; most take two or three other queues; a few
		 * are crisis counsellors. */
		int first = 1 + (int)rand_between(0, N_QUEUES - 2);
		for (int q = 0; q < N_QUEUES; q++) {
			bool has = q == 4 || q == first || rand_between(0, 99) < 25 ||
				   (q == 0 && i % 20 == 0);
			if (q == 0 && i % 20 != 0)
				has = false;
			if (!has)
				continue;
			snprintf(agent_skills[i][n].name, ACD_NAME_MAX + 1, "%s", queues[q].skill);
			agent_skills[i][n++].level = (int)rand_between(1, 9);
		}
		if (rand_between(0, 99) < 15) {
			snprintf(agent_skills[i][n].name, ACD_NAME_MAX + 1, "english");
			agent_skills[i][n++].level = (int)rand_between(1, 9);
		}
		if (rand_between(0, 99) < 40) {
			snprintf(agent_skills[i][n].name, ACD_NAME_MAX + 1, "local_dialect");
			agent_skills[i][n++].level = (int)rand_between(1, 9);
		}
		agent_n_skills[i] = n;
	}
}

static struct acd_input call_input(enum acd_input_type type, uint32_t ci)
{
	const struct sim_call *c = &calls[ci];
	struct acd_input in = {
		.type = type, .call = c->id, .queue = queues[c->queue].name, .crisis = c->crisis};
	if (c->language)
		in.language = languages[c->language - 1];
	if (type == ACD_IN_CALLBACK_REQUESTED)
		in.joined_at = c->joined_at;
	return in;
}

/* --- measurement ------------------------------------------------------------------- */

static struct acd_action action_buf[4096];
static uint32_t *lat_ns;
static size_t n_lat, lat_cap;
static uint64_t n_errors;
static uint64_t n_answers;

static int64_t ns_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000000000LL + (t1.tv_nsec - t0->tv_nsec);
}

/* Runs one input, timed when measuring, and lets the simulated gateway and
 * agents react to the actions. */
static int run(struct acd *a, const struct acd_input *in, int64_t now, bool measure)
{
	struct acd_actions out = {.items = action_buf, .cap = 4096};
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = acd_step(a, in, now, &out);
	int64_t ns = ns_since(&t0);
	if (measure && n_lat < lat_cap)
		lat_ns[n_lat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
	if (rc != 0 && rc != -EAGAIN)
		n_errors++;
	for (size_t k = 0; k < out.count; k++) {
		const struct acd_action *act = &out.items[k];
		uint32_t ci = act->call[0] ? (uint32_t)atol(act->call + 3) : 0;
		switch (act->type) {
		case ACD_ACT_OFFER: {
			calls[ci].state = 1;
			calls[ci].agent = (uint32_t)atol(act->agent + strlen("agent-"));
			int r = (int)rand_between(0, 99);
			if (r < 96)
				cal_push(now + rand_between(2, 9) * SECOND, EV_ANSWER, ci);
			else if (r < 98)
				cal_push(now + 3 * SECOND, EV_FAIL, ci);
			/* otherwise it rings out, and a tick re-offers it */
			break;
		}
		case ACD_ACT_OVERFLOW:
			if (act->overflow == ACD_OVERFLOW_CALLBACK) {
				calls[ci].state = 3;
				cal_push(now + 60 * SECOND, EV_CALLBACK, ci);
			} else if (act->overflow != ACD_OVERFLOW_QUEUE) {
				calls[ci].state = 3;
			}
			break;
		case ACD_ACT_CANCEL_OFFER:
			calls[ci].state = 0;
			break;
		default:
			break;
		}
	}
	return rc;
}

static struct acd_config bench_config(void)
{
	return (struct acd_config){.centre = "nanjing",
				   .queues = queues,
				   .n_queues = N_QUEUES,
				   .languages = languages,
				   .n_languages = 2,
				   .position_updates = 10,
				   .handle_time_initial_s = 180};
}

static struct acd *new_core(void)
{
	struct acd_config cfg = bench_config();
	struct acd *a;
	char err[256];
	if (acd_new(&cfg, &a, err, sizeof err) != 0) {
		fprintf(stderr, "route: %s\n", err);
		exit(1);
	}
	for (int i = 0; i < N_AGENTS; i++) {
		struct acd_input in = {.type = ACD_IN_AGENT_LOGIN,
				       .agent = agent_ids[i],
				       .skills = agent_skills[i],
				       .n_skills = agent_n_skills[i]};
		if (run(a, &in, START, false) != 0) {
			fprintf(stderr, "route: login of %s refused\n", agent_ids[i]);
			exit(1);
		}
	}
	return a;
}

/* Heap bytes the core uses for MEMORY_CALLS waiting callers, per 1,000. */
static double memory_per_1000_kib(void)
{
	struct acd *a = new_core();
	uint32_t first = n_calls;
	struct mallinfo2 before = mallinfo2();
	for (int i = 0; i < MEMORY_CALLS; i++) {
		struct acd_input in = call_input(ACD_IN_CALL_WAITING, new_call(START));
		if (run(a, &in, START, false) != 0) {
			fprintf(stderr, "route: arrival refused while measuring memory\n");
			exit(1);
		}
	}
	struct mallinfo2 after = mallinfo2();
	acd_free(a);
	n_calls = first;
	/* uordblks leaves out chunks malloc maps on their own (hblkhd): the
	 * large arrays are those. */
	double bytes =
		(double)(after.uordblks + after.hblkhd) - (double)(before.uordblks + before.hblkhd);
	return bytes / (MEMORY_CALLS / 1000) / 1024.0;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

int main(int argc, char **argv)
{
	long inputs = 500000;
	static const struct option opts[] = {{"inputs", required_argument, NULL, 'n'},
					     {"seed", required_argument, NULL, 's'},
					     {NULL, 0, NULL, 0}};
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		if (c == 'n')
			inputs = atol(optarg);
		else if (c == 's')
			rng = strtoull(optarg, NULL, 0) | 1;
		else {
			fprintf(stderr, "usage: route [--inputs N] [--seed N]\n");
			return 2;
		}
	}
	if (inputs < 1000 || inputs > 5000000) {
		fprintf(stderr, "route: --inputs must be 1000..5000000\n");
		return 2;
	}
	calls = calloc(MAX_CALLS, sizeof *calls);
	lat_cap = (size_t)inputs;
	lat_ns = malloc(lat_cap * sizeof *lat_ns);
	if (calls == NULL || lat_ns == NULL) {
		perror("route");
		return 1;
	}
	make_agents();
	double kib = memory_per_1000_kib();

	/* The centre at 08:00: everybody logged in, 6,000 callers waiting;
	 * agents get ready one by one and each takes a caller. */
	struct acd *a = new_core();
	int64_t now = START;
	for (int i = 0; i < N_WAITING + N_AGENTS; i++) {
		uint32_t ci = new_call(now);
		struct acd_input in = call_input(ACD_IN_CALL_WAITING, ci);
		if (run(a, &in, now, false) != 0) {
			fprintf(stderr, "route: arrival refused during set-up\n");
			return 1;
		}
	}
	for (int i = 0; i < N_AGENTS; i++) {
		struct acd_input in = {.type = ACD_IN_AGENT_READY, .agent = agent_ids[i]};
		if (run(a, &in, now, false) != 0) {
			fprintf(stderr, "route: ready refused during set-up\n");
			return 1;
		}
	}
	size_t waiting = 0;
	for (int q = 0; q < N_QUEUES; q++)
		waiting += acd_waiting_count(a, queues[q].name);
	printf("route: %d agents, %d queues, %zu callers waiting, %zu calls in the core at the "
	       "start\n",
	       N_AGENTS, N_QUEUES, waiting, acd_call_count(a));
	cal_push(now + SECOND, EV_TICK, 0);

	uint64_t counts[EV_TICK + 1] = {0};
	int64_t sum_ns = 0;
	while ((long)n_lat < inputs && cal_n > 0) {
		struct ev e = cal_pop();
		now = e.at;
		struct sim_call *c = &calls[e.id];
		struct acd_input in;
		switch (e.kind) {
		case EV_TICK:
			in = (struct acd_input){.type = ACD_IN_TICK};
			cal_push(now + SECOND / 4, EV_TICK, 0);
			break;
		case EV_ARRIVE: {
			uint32_t ci = new_call(now);
			in = call_input(ACD_IN_CALL_WAITING, ci);
			if (rand_between(0, 99) < 4)
				cal_push(now + rand_between(30, 900) * SECOND, EV_GONE, ci);
			break;
		}
		case EV_ANSWER:
		case EV_FAIL:
			if (c->state != 1)
				continue;
			in = (struct acd_input){.type = e.kind == EV_ANSWER ?
								ACD_IN_OFFER_ANSWERED :
								ACD_IN_OFFER_FAILED,
						.call = c->id};
			if (e.kind == EV_ANSWER) {
				c->state = 2;
				cal_push(now + rand_between(40, 400) * SECOND, EV_END, e.id);
				/* a caller reached an agent: another one dials in (not
				 * for the first agents' calls, which were never waiting
				 * in the measured state) */
				if (++n_answers > N_AGENTS)
					cal_push(now + rand_between(0, 4) * SECOND, EV_ARRIVE, 0);
			}
			break;
		case EV_END:
			in = (struct acd_input){.type = ACD_IN_CALL_ENDED, .call = c->id};
			c->state = 3;
			/* now and then the agent takes a break after the wrap-up */
			if (rand_between(0, 99) < 3)
				cal_push(now + SECOND, EV_BREAK, c->agent);
			break;
		case EV_GONE:
			if (c->state > 1)
				continue;
			in = (struct acd_input){.type = ACD_IN_CALL_GONE, .call = c->id};
			c->state = 3;
			cal_push(now + rand_between(0, 30) * SECOND, EV_ARRIVE, 0);
			break;
		case EV_CALLBACK:
			in = call_input(ACD_IN_CALLBACK_REQUESTED, e.id);
			c->state = 0;
			break;
		case EV_BREAK:
			in = (struct acd_input){.type = ACD_IN_AGENT_NOT_READY,
						.agent = agent_ids[e.id],
						.reason = "break"};
			break;
		default:
			in = (struct acd_input){.type = ACD_IN_AGENT_READY,
						.agent = agent_ids[e.id]};
			break;
		}
		counts[e.kind]++;
		size_t before = n_lat;
		int rc = run(a, &in, now, true);
		if (e.kind == EV_BREAK && rc == 0)
			cal_push(now + rand_between(60, 900) * SECOND, EV_BACK, e.id);
		if (n_lat > before)
			sum_ns += lat_ns[n_lat - 1];
	}
	waiting = 0;
	for (int q = 0; q < N_QUEUES; q++)
		waiting += acd_waiting_count(a, queues[q].name);
	acd_free(a);

	qsort(lat_ns, n_lat, sizeof *lat_ns, cmp_u32);
	double p50 = lat_ns[n_lat / 2] / 1000.0;
	double p99 = lat_ns[(size_t)((double)n_lat * 0.99)] / 1000.0;
	double max = lat_ns[n_lat - 1] / 1000.0;
	double per_s = (double)n_lat / ((double)sum_ns / 1e9);
	printf("route: %zu inputs over %.0f simulated minutes: %" PRIu64 " arrivals, %" PRIu64
	       " answers, %" PRIu64 " failed legs, %" PRIu64 " ends, %" PRIu64 " hang-ups, %" PRIu64
	       " callbacks, %" PRIu64 " breaks, %" PRIu64 " returns, %" PRIu64 " ticks; %" PRIu64
	       " refused\n",
	       n_lat, (double)(now - START) / 60e6, counts[EV_ARRIVE], counts[EV_ANSWER],
	       counts[EV_FAIL], counts[EV_END], counts[EV_GONE], counts[EV_CALLBACK],
	       counts[EV_BREAK], counts[EV_BACK], counts[EV_TICK], n_errors);
	printf("route: %zu callers waiting at the end\n", waiting);
	printf("route: per input in the core: p50 %.2f us, p99 %.2f us, max %.2f us\n", p50, p99,
	       max);
	printf("route: memory is the ACD core's own heap (mallinfo2) for %d waiting callers; the "
	       "broker's RSS is measured separately\n",
	       MEMORY_CALLS);
	printf("route: p50 %.2f us, p99 %.2f us, %.0f decisions/s, %.1f KiB per 1000 calls in "
	       "progress\n",
	       p50, p99, per_s, kib);
	free(lat_ns);
	free(calls);
	free(cal);
	return 0;
}
