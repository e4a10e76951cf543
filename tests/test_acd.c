/* test_acd.c: the ACD core (acd.h): every strategy, priorities and FIFO,
 * overflow and the crisis exemption, no-answer re-offers and misses,
 * wrap-up, callbacks, positions and estimated waits, restore, determinism,
 * and a long random stream checked against the routing invariants. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acd.h"

#define T0 (1551662102LL * 1000000) /* 2019-03-04T09:15:02+08:00 */
#define SECOND 1000000LL
#define AT(s) (T0 + (int64_t)(s)*SECOND)

/* Check records a checkpoint for every passing ck_assert; the random
 * streams check millions of things, so they use a plain if. */
#define expect(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)

static const char *const languages[] = {"english"};

/* The centre's queues: one per strategy and per overflow kind. */
static const struct acd_queue_config queues[] = {
	{.name = "crisis",
	 .priority = 0,
	 .skill = "crisis",
	 .crisis = true,
	 .strategy = ACD_STRATEGY_LONGEST_IDLE,
	 .ring_timeout_s = 15,
	 .wrap_up_s = 30,
	 .max_misses = 2},
	{.name = "expert_qa",
	 .priority = 2,
	 .skill = "expert_qa",
	 .strategy = ACD_STRATEGY_SKILL_LEVEL,
	 .ring_timeout_s = 15,
	 .wrap_up_s = 0,
	 .max_misses = 3},
	{.name = "consultation",
	 .priority = 3,
	 .skill = "consultation",
	 .strategy = ACD_STRATEGY_LONGEST_IDLE,
	 .ring_timeout_s = 15,
	 .wrap_up_s = 0,
	 .max_wait_s = 300,
	 .overflow = ACD_OVERFLOW_CALLBACK,
	 .max_misses = 3},
	{.name = "complaint",
	 .priority = 3,
	 .skill = "complaint",
	 .strategy = ACD_STRATEGY_FEWEST_CALLS,
	 .ring_timeout_s = 15,
	 .wrap_up_s = 0,
	 .max_wait_s = 600,
	 .overflow = ACD_OVERFLOW_IVR,
	 .max_misses = 3},
	{.name = "booking",
	 .priority = 4,
	 .skill = "booking",
	 .strategy = ACD_STRATEGY_LONGEST_IDLE,
	 .ring_timeout_s = 15,
	 .wrap_up_s = 10,
	 .max_wait_s = 120,
	 .overflow = ACD_OVERFLOW_QUEUE,
	 .overflow_queue = "consultation",
	 .max_misses = 2},
	{.name = "survey",
	 .priority = 6,
	 .skill = "survey",
	 .strategy = ACD_STRATEGY_ROUND_ROBIN,
	 .ring_timeout_s = 15,
	 .wrap_up_s = 0,
	 .max_misses = 3,
	 .callback_on_abandon = true},
};

static struct acd_config test_config(void)
{
	return (struct acd_config){
		.centre = "nanjing",
		.queues = queues,
		.n_queues = sizeof queues / sizeof queues[0],
		.languages = languages,
		.n_languages = 1,
		.position_updates = 3,
		.handle_time_initial_s = 180,
	};
}

static struct acd *core;
static struct acd_action items[1024];
static struct acd_actions out = {.items = items, .cap = sizeof items / sizeof items[0]};

static void setup(void)
{
	struct acd_config cfg = test_config();
	char err[200] = "";
	ck_assert_msg(acd_new(&cfg, &core, err, sizeof err) == 0, "acd_new: %s", err);
}

static void teardown(void)
{
	acd_free(core);
	core = NULL;
}

static int try_step(struct acd_input in, int64_t now)
{
	out.count = 0;
	return acd_step(core, &in, now, &out);
}

static void step(struct acd_input in, int64_t now)
{
	int rc = try_step(in, now);
	ck_assert_msg(rc == 0, "input %d failed: %s", (int)in.type, strerror(-rc));
}

/* Skills from "booking:5,english:3". */
static size_t parse_skills(const char *spec, struct acd_skill *skills)
{
	size_t n = 0;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", spec);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		ck_assert_ptr_nonnull(colon);
		*colon = '\0';
		snprintf(skills[n].name, sizeof skills[n].name, "%s", tok);
		skills[n++].level = atoi(colon + 1);
	}
	return n;
}

static void login(const char *agent, const char *skills_spec, int64_t now)
{
	struct acd_skill skills[ACD_SKILLS_MAX];
	size_t n = parse_skills(skills_spec, skills);
	step((struct acd_input){.type = ACD_IN_AGENT_LOGIN,
				.agent = agent,
				.skills = skills,
				.n_skills = n},
	     now);
}

static void ready(const char *agent, int64_t now)
{
	step((struct acd_input){.type = ACD_IN_AGENT_READY, .agent = agent}, now);
}

static void login_ready(const char *agent, const char *skills_spec, int64_t now)
{
	login(agent, skills_spec, now);
	ready(agent, now);
}

static void arrive(const char *call, const char *queue, int64_t now)
{
	step((struct acd_input){.type = ACD_IN_CALL_WAITING, .call = call, .queue = queue}, now);
}

static void answer(const char *call, int64_t now)
{
	step((struct acd_input){.type = ACD_IN_OFFER_ANSWERED, .call = call}, now);
}

static void end_call(const char *call, int64_t now)
{
	step((struct acd_input){.type = ACD_IN_CALL_ENDED, .call = call}, now);
}

static void tick(int64_t now)
{
	step((struct acd_input){.type = ACD_IN_TICK}, now);
}

/* The nth action of a type in the last step; fails the test if absent
 * (count_of checks for absence). */
static const struct acd_action *find_nth(enum acd_action_type type, int nth)
	__attribute__((returns_nonnull));

static const struct acd_action *find_nth(enum acd_action_type type, int nth)
{
	int want = nth;
	for (size_t i = 0; i < out.count; i++)
		if (items[i].type == type && nth-- == 0)
			return &items[i];
	ck_abort_msg("no %s action number %d among %zu", acd_action_type_name(type), want,
		     out.count);
	return &items[0];
}

static const struct acd_action *find(enum acd_action_type type) __attribute__((returns_nonnull));

static const struct acd_action *find(enum acd_action_type type)
{
	return find_nth(type, 0);
}

static int count_of(enum acd_action_type type)
{
	int n = 0;
	for (size_t i = 0; i < out.count; i++)
		n += items[i].type == type;
	return n;
}

/* Asserts the last step offered call to agent. */
static void assert_offer(const char *call, const char *agent)
{
	const struct acd_action *o = find(ACD_ACT_OFFER);
	ck_assert_str_eq(o->call, call);
	ck_assert_str_eq(o->agent, agent);
}

static enum acd_agent_state agent_state(const char *agent)
{
	struct acd_agent_record r;
	ck_assert_int_eq(acd_agent_get(core, agent, &r), 0);
	return r.state;
}

static enum acd_call_state call_state(const char *call)
{
	struct acd_call_record r;
	if (acd_call_get(core, call, &r) != 0)
		return ACD_CALL_GONE;
	return r.state;
}

static int position_of(const char *call)
{
	int position, wait;
	ck_assert_int_eq(acd_call_position(core, call, &position, &wait), 0);
	return position;
}

/* Takes an offered call through answer and end (booking wraps up 10 s). */
static void handle(const char *call, int64_t answered, int64_t ended)
{
	answer(call, answered);
	end_call(call, ended);
}

START_TEST (test_crisis_call_jumps_the_queue) {
	login("a1", "booking:5,crisis:5", AT(0));
	arrive("b1", "booking", AT(1));
	arrive("b2", "booking", AT(2));
	arrive("x1", "crisis", AT(3));
	ready("a1", AT(4));
	assert_offer("x1", "a1");

	/* A crisis-flagged caller in an ordinary queue goes first in it too. */
	step((struct acd_input){.type = ACD_IN_CALL_WAITING,
				.call = "b3",
				.queue = "booking",
				.crisis = true},
	     AT(5));
	ck_assert_int_eq(position_of("b3"), 1);
	ck_assert_int_eq(position_of("b1"), 2);
	ck_assert_int_eq(position_of("b2"), 3);
}
END_TEST

START_TEST (test_longest_idle_agent_gets_the_call) {
	login_ready("a1", "booking:5", AT(0));
	login_ready("a2", "booking:5", AT(0));
	login_ready("a3", "booking:5", AT(0));
	arrive("b1", "booking", AT(1));
	assert_offer("b1", "a1");
	arrive("b2", "booking", AT(2));
	assert_offer("b2", "a2");

	/* Idle since: a3 at 0, a2 at 30 (ended 20 + 10 s wrap-up), a1 at 40. */
	answer("b1", AT(3));
	answer("b2", AT(3));
	end_call("b2", AT(20));
	end_call("b1", AT(30));
	tick(AT(60));
	arrive("b3", "booking", AT(61));
	assert_offer("b3", "a3");
	arrive("b4", "booking", AT(62));
	assert_offer("b4", "a2");
	arrive("b5", "booking", AT(63));
	assert_offer("b5", "a1");
}
END_TEST

START_TEST (test_fewest_calls) {
	login_ready("a1", "complaint:5", AT(0));
	for (int i = 0; i < 2; i++) {
		char id[8];
		snprintf(id, sizeof id, "k%d", i);
		arrive(id, "complaint", AT(10 * i + 1));
		assert_offer(id, "a1");
		handle(id, AT(10 * i + 2), AT(10 * i + 5));
	}
	/* a1 has been idle since 15, a2 only since 30, but a2 has fewer calls. */
	login_ready("a2", "complaint:5", AT(30));
	arrive("k2", "complaint", AT(40));
	assert_offer("k2", "a2");
	arrive("k3", "complaint", AT(41));
	assert_offer("k3", "a1");

	/* A new day evens the counts: longest idle decides again. */
	handle("k2", AT(42), AT(50));
	handle("k3", AT(43), AT(45));
	step((struct acd_input){.type = ACD_IN_NEW_DAY}, AT(60));
	ck_assert_int_eq(out.count, 0);
	arrive("k4", "complaint", AT(61));
	assert_offer("k4", "a1");
}
END_TEST

START_TEST (test_round_robin_rotates) {
	login_ready("a1", "survey:5", AT(0));
	login_ready("a2", "survey:5", AT(0));
	login_ready("a3", "survey:5", AT(0));
	arrive("s1", "survey", AT(1));
	assert_offer("s1", "a1");
	arrive("s2", "survey", AT(2));
	assert_offer("s2", "a2");
	handle("s2", AT(3), AT(10));
	handle("s1", AT(3), AT(20));
	/* Longest idle would pick a3 and then a2; the pointer goes a3, a1. */
	arrive("s3", "survey", AT(30));
	assert_offer("s3", "a3");
	handle("s3", AT(31), AT(32));
	arrive("s4", "survey", AT(40));
	assert_offer("s4", "a1");
	arrive("s5", "survey", AT(41));
	assert_offer("s5", "a2");
}
END_TEST

START_TEST (test_round_robin_passes_over_the_agent_who_missed) {
	login_ready("x0", "survey:5", AT(0));
	login("x1", "survey:5", AT(0));
	login_ready("x2", "survey:5", AT(0));
	arrive("s1", "survey", AT(1));
	assert_offer("s1", "x0");
	tick(AT(16));
	assert_offer("s1", "x2");
	ready("x1", AT(17));
	ck_assert_int_eq(count_of(ACD_ACT_OFFER), 0);
	/* After x2 the pointer wraps to x0, who let s1 ring out: x1 gets it. */
	step((struct acd_input){.type = ACD_IN_OFFER_FAILED, .call = "s1"}, AT(18));
	assert_offer("s1", "x1");
}
END_TEST

START_TEST (test_skill_level_prefers_the_expert) {
	login_ready("novice", "expert_qa:3", AT(0));
	login_ready("expert", "expert_qa:8", AT(50));
	login_ready("middle", "expert_qa:5", AT(10));
	arrive("e1", "expert_qa", AT(60));
	assert_offer("e1", "expert");
	arrive("e2", "expert_qa", AT(61));
	assert_offer("e2", "middle");
	arrive("e3", "expert_qa", AT(62));
	assert_offer("e3", "novice");
}
END_TEST

START_TEST (test_fifo_within_priority) {
	arrive("b1", "booking", AT(0));
	ck_assert_int_eq(find(ACD_ACT_POSITION)->position, 1);
	arrive("b2", "booking", AT(1));
	ck_assert_int_eq(find(ACD_ACT_POSITION)->position, 2);
	/* Same join time: arrival order decides. */
	step((struct acd_input){.type = ACD_IN_CALL_WAITING,
				.call = "b3",
				.queue = "booking",
				.joined_at = AT(1)},
	     AT(2));
	ck_assert_int_eq(position_of("b3"), 3);
	/* A lower priority number goes ahead of every normal caller. */
	step((struct acd_input){.type = ACD_IN_CALL_WAITING,
				.call = "b4",
				.queue = "booking",
				.priority_set = true,
				.priority = 1},
	     AT(3));
	ck_assert_int_eq(position_of("b4"), 1);

	login_ready("a1", "booking:5", AT(4));
	const char *order[] = {"b4", "b1", "b2", "b3"};
	for (int i = 0; i < 4; i++) {
		if (i > 0) {
			handle(order[i - 1], AT(10 * i), AT(10 * i + 1));
			tick(AT(10 * i + 11));
		}
		assert_offer(order[i], "a1");
	}
}
END_TEST

START_TEST (test_max_wait_overflows_to_target) {
	login("c", "consultation:5", AT(0));
	arrive("b1", "booking", AT(0));
	ck_assert_int_eq(acd_next_deadline(core), AT(120));
	tick(AT(119));
	ck_assert_int_eq(out.count, 0);
	ready("c", AT(119));
	ck_assert_int_eq(count_of(ACD_ACT_OFFER), 0);

	tick(AT(120));
	const struct acd_action *o = find(ACD_ACT_OVERFLOW);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(o->call, "b1");
	ck_assert_int_eq(o->overflow, ACD_OVERFLOW_QUEUE);
	ck_assert_str_eq(o->queue, "booking");
	ck_assert_str_eq(o->target_queue, "consultation");
	assert_offer("b1", "c");
	answer("b1", AT(121));

	/* consultation gives up to a callback offer, complaint to the IVR. */
	arrive("c2", "consultation", AT(200));
	arrive("k1", "complaint", AT(200));
	tick(AT(499));
	ck_assert_int_eq(count_of(ACD_ACT_OVERFLOW), 0);
	tick(AT(500));
	o = find(ACD_ACT_OVERFLOW);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(o->call, "c2");
	ck_assert_int_eq(o->overflow, ACD_OVERFLOW_CALLBACK);
	ck_assert_ptr_null(o->target_queue);
	ck_assert_int_eq(call_state("c2"), ACD_CALL_GONE);
	tick(AT(800));
	o = find(ACD_ACT_OVERFLOW);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(o->call, "k1");
	ck_assert_int_eq(o->overflow, ACD_OVERFLOW_IVR);
	ck_assert_int_eq(acd_call_count(core), 1);
}
END_TEST

START_TEST (test_crisis_never_overflows) {
	step((struct acd_input){.type = ACD_IN_CALL_WAITING,
				.call = "b1",
				.queue = "booking",
				.crisis = true},
	     AT(0));
	arrive("x1", "crisis", AT(0));
	ck_assert_int_eq(acd_next_deadline(core), INT64_MAX);
	tick(AT(100000));
	ck_assert_int_eq(count_of(ACD_ACT_OVERFLOW), 0);
	ck_assert_int_eq(call_state("b1"), ACD_CALL_WAITING);
	ck_assert_int_eq(call_state("x1"), ACD_CALL_WAITING);

	/* A crisis queue with an overflow is a config error. */
	struct acd_queue_config bad = queues[0];
	bad.max_wait_s = 60;
	bad.overflow = ACD_OVERFLOW_IVR;
	struct acd_config cfg = test_config();
	cfg.queues = &bad;
	cfg.n_queues = 1;
	struct acd *other = NULL;
	char err[200] = "";
	ck_assert_int_eq(acd_new(&cfg, &other, err, sizeof err), -EINVAL);
	ck_assert_ptr_null(other);
	ck_assert_msg(strstr(err, "crisis queue never overflows") != NULL, "error: %s", err);
}
END_TEST

START_TEST (test_no_answer_reoffers_to_next_agent) {
	login_ready("a1", "booking:5", AT(0));
	login_ready("a2", "booking:5", AT(1));
	login_ready("a3", "booking:5", AT(2));
	arrive("b1", "booking", AT(10));
	assert_offer("b1", "a1");
	ck_assert_int_eq(find(ACD_ACT_OFFER)->ring_deadline, AT(25));
	tick(AT(24));
	ck_assert_int_eq(out.count, 0);

	tick(AT(25));
	const struct acd_action *c = find(ACD_ACT_CANCEL_OFFER);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->call, "b1");
	ck_assert_str_eq(c->agent, "a1");
	assert_offer("b1", "a2");
	ck_assert_int_eq(agent_state("a1"), ACD_AGENT_READY);

	/* a1 is ready and idle longest, but it already let b1 ring out. */
	step((struct acd_input){.type = ACD_IN_OFFER_FAILED, .call = "b1", .agent = "a2"}, AT(30));
	assert_offer("b1", "a3");
	/* An answer from another agent than the one offered is refused. */
	ck_assert_int_eq(try_step((struct acd_input){.type = ACD_IN_OFFER_ANSWERED,
						     .call = "b1",
						     .agent = "a1"},
				  AT(31)),
			 -EINVAL);
	ck_assert_int_eq(out.count, 0);
	answer("b1", AT(32));
	ck_assert_int_eq(agent_state("a3"), ACD_AGENT_ON_CALL);
}
END_TEST

START_TEST (test_misses_put_agent_not_ready) {
	login_ready("a1", "booking:5", AT(0));
	arrive("b1", "booking", AT(1));
	assert_offer("b1", "a1");
	tick(AT(16));
	/* Nobody else is ready: the same agent gets it again. */
	assert_offer("b1", "a1");
	tick(AT(31));
	const struct acd_action *s = find_nth(ACD_ACT_AGENT_STATE, 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->agent, "a1");
	ck_assert_int_eq(s->agent_state, ACD_AGENT_NOT_READY);
	ck_assert_str_eq(s->reason, "no_answer");
	ck_assert_int_eq(count_of(ACD_ACT_OFFER), 0);
	ck_assert_int_eq(call_state("b1"), ACD_CALL_WAITING);

	/* Back to ready with a fresh count; an answer also resets it. */
	ready("a1", AT(40));
	assert_offer("b1", "a1");
	tick(AT(55));
	assert_offer("b1", "a1");
	answer("b1", AT(56));
	struct acd_agent_record r;
	ck_assert_int_eq(acd_agent_get(core, "a1", &r), 0);
	ck_assert_uint_eq(r.misses, 0);
	ck_assert_uint_eq(r.calls_today, 1);
}
END_TEST

START_TEST (test_wrap_up_then_ready_after_wrap_up_time) {
	login_ready("a1", "booking:5", AT(0));
	arrive("b1", "booking", AT(1));
	answer("b1", AT(3));
	arrive("b2", "booking", AT(50));
	end_call("b1", AT(100));
	const struct acd_action *s = find(ACD_ACT_AGENT_STATE);
	ck_assert_int_eq(s->agent_state, ACD_AGENT_WRAP_UP);
	ck_assert_int_eq(s->at, AT(100));
	ck_assert_int_eq(acd_next_deadline(core), AT(110));
	tick(AT(109));
	ck_assert_int_eq(out.count, 0);
	tick(AT(110));
	s = find(ACD_ACT_AGENT_STATE);
	ck_assert_int_eq(s->agent_state, ACD_AGENT_READY);
	assert_offer("b2", "a1");
	struct acd_agent_record r;
	ck_assert_int_eq(acd_agent_get(core, "a1", &r), 0);
	ck_assert_int_eq(r.idle_since, AT(110));

	/* Ready during wrap-up ends it early. */
	answer("b2", AT(111));
	end_call("b2", AT(120));
	ready("a1", AT(122));
	ck_assert_int_eq(agent_state("a1"), ACD_AGENT_READY);
	ck_assert_int_eq(acd_next_deadline(core), INT64_MAX);
}
END_TEST

START_TEST (test_callback_keeps_original_join_time) {
	arrive("c1", "consultation", AT(0));
	arrive("c2", "consultation", AT(10));
	arrive("c3", "consultation", AT(20));
	step((struct acd_input){.type = ACD_IN_CALL_GONE, .call = "c1"}, AT(25));
	ck_assert_int_eq(count_of(ACD_ACT_CALLBACK_TASK), 0);

	step((struct acd_input){.type = ACD_IN_CALLBACK_REQUESTED,
				.call = "c1",
				.queue = "consultation",
				.joined_at = AT(0)},
	     AT(30));
	ck_assert_int_eq(position_of("c1"), 1);
	/* Joined at 15: behind c2 (10), ahead of c3 (20), never ahead of c2. */
	step((struct acd_input){.type = ACD_IN_CALLBACK_REQUESTED,
				.call = "c4",
				.queue = "consultation",
				.joined_at = AT(15)},
	     AT(40));
	ck_assert_int_eq(position_of("c4"), 3);
	ck_assert_int_eq(position_of("c2"), 2);
	ck_assert_int_eq(position_of("c3"), 4);

	/* Callbacks do not time out again; c2 and c3 do. */
	tick(AT(400));
	ck_assert_int_eq(count_of(ACD_ACT_OVERFLOW), 2);
	ck_assert_int_eq(call_state("c1"), ACD_CALL_WAITING);
	ck_assert_int_eq(call_state("c4"), ACD_CALL_WAITING);

	/* A callback needs its original join time. */
	ck_assert_int_eq(try_step((struct acd_input){.type = ACD_IN_CALLBACK_REQUESTED,
						     .call = "c9",
						     .queue = "consultation"},
				  AT(401)),
			 -EINVAL);
	login_ready("a1", "consultation:5", AT(500));
	assert_offer("c1", "a1");
}
END_TEST

START_TEST (test_crisis_hang_up_creates_urgent_callback) {
	arrive("x1", "crisis", AT(0));
	step((struct acd_input){.type = ACD_IN_CALL_GONE, .call = "x1"}, AT(5));
	const struct acd_action *t = find(ACD_ACT_CALLBACK_TASK);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t->call, "x1");
	ck_assert(t->urgent);
	ck_assert_int_eq(t->at, AT(5));

	/* Ringing at an agent: the offer is cancelled, the agent is free again. */
	login_ready("a1", "crisis:5", AT(6));
	arrive("x2", "crisis", AT(7));
	assert_offer("x2", "a1");
	step((struct acd_input){.type = ACD_IN_CALL_GONE, .call = "x2"}, AT(8));
	ck_assert_ptr_nonnull(find(ACD_ACT_CANCEL_OFFER));
	ck_assert(find(ACD_ACT_CALLBACK_TASK)->urgent);
	ck_assert_int_eq(agent_state("a1"), ACD_AGENT_READY);

	/* A non-crisis caller leaves nothing, unless the queue offers callbacks. */
	arrive("b1", "booking", AT(9));
	step((struct acd_input){.type = ACD_IN_CALL_GONE, .call = "b1"}, AT(10));
	ck_assert_int_eq(count_of(ACD_ACT_CALLBACK_TASK), 0);
	arrive("s1", "survey", AT(11));
	step((struct acd_input){.type = ACD_IN_CALL_GONE, .call = "s1"}, AT(12));
	t = find(ACD_ACT_CALLBACK_TASK);
	ck_assert_ptr_nonnull(t);
	ck_assert(!t->urgent);
}
END_TEST

START_TEST (test_withdrawn_crisis_call_leaves_no_callback_and_no_miss) {
	login_ready("a1", "crisis:5", AT(0));
	arrive("x1", "crisis", AT(1));
	assert_offer("x1", "a1");
	step((struct acd_input){.type = ACD_IN_CALL_WITHDRAWN, .call = "x1"}, AT(2));
	ck_assert_ptr_nonnull(find(ACD_ACT_CANCEL_OFFER));
	ck_assert_int_eq(count_of(ACD_ACT_CALLBACK_TASK), 0);
	ck_assert_int_eq(agent_state("a1"), ACD_AGENT_READY);
	struct acd_agent_record rec;
	ck_assert_int_eq(acd_agent_get(core, "a1", &rec), 0);
	ck_assert_uint_eq(rec.misses, 0);
	ck_assert_uint_eq(acd_call_count(core), 0);
}
END_TEST

START_TEST (test_agent_serving_two_queues_takes_the_higher_priority_call) {
	login("a1", "booking:5,consultation:5", AT(0));
	arrive("b1", "booking", AT(0));
	arrive("c1", "consultation", AT(50));
	ready("a1", AT(60));
	assert_offer("c1", "a1");
	answer("c1", AT(61));
	end_call("c1", AT(70));
	/* consultation has no wrap-up: ready at once, and b1 is next. */
	assert_offer("b1", "a1");
}
END_TEST

START_TEST (test_position_and_estimated_wait) {
	/* Two working booking agents, both busy. */
	login_ready("a1", "booking:5", AT(0));
	login_ready("a2", "booking:5", AT(0));
	arrive("b0", "booking", AT(1));
	arrive("bz", "booking", AT(1));
	answer("b0", AT(2));
	answer("bz", AT(2));

	/* estimated wait = ceil(position x 180 s / 2 agents) */
	const char *ids[] = {"b1", "b2", "b3", "b4", "b5"};
	for (int i = 0; i < 5; i++) {
		arrive(ids[i], "booking", AT(10 + i));
		ck_assert_int_eq(out.count, 1);
		const struct acd_action *p = find(ACD_ACT_POSITION);
		ck_assert_str_eq(p->call, ids[i]);
		ck_assert_int_eq(p->position, i + 1);
		ck_assert_int_eq(p->estimated_wait_s, (i + 1) * 90);
	}
	/* b1 leaves: the first K=3 move up and are told; b5 is beyond K. */
	step((struct acd_input){.type = ACD_IN_CALL_GONE, .call = "b1"}, AT(20));
	ck_assert_int_eq(count_of(ACD_ACT_POSITION), 3);
	for (int i = 0; i < 3; i++) {
		const struct acd_action *p = find_nth(ACD_ACT_POSITION, i);
		ck_assert_str_eq(p->call, ids[i + 1]);
		ck_assert_int_eq(p->position, i + 1);
	}
	ck_assert_int_eq(position_of("b5"), 4);

	/* A call of 100 s plus 10 s wrap-up moves the average by 1/8:
	 * 180 + (110 - 180) / 8 = 171.25 s. The agent takes b2. */
	end_call("b0", AT(102));
	tick(AT(112));
	assert_offer("b2", "a1");
	/* b5 moves from 4 into the first K as well. */
	ck_assert_int_eq(count_of(ACD_ACT_POSITION), 3);
	const struct acd_action *p = find_nth(ACD_ACT_POSITION, 0);
	ck_assert_str_eq(p->call, "b3");
	ck_assert_int_eq(p->position, 1);
	ck_assert_int_eq(p->estimated_wait_s, 86); /* ceil(171.25 / 2) */
	p = find_nth(ACD_ACT_POSITION, 2);
	ck_assert_str_eq(p->call, "b5");
	ck_assert_int_eq(p->position, 3);
	int position, wait;
	ck_assert_int_eq(acd_call_position(core, "b5", &position, &wait), 0);
	ck_assert_int_eq(position, 3);
	ck_assert_int_eq(wait, 257); /* ceil(3 x 171.25 / 2) */

	/* Nobody able to serve the queue is working: the wait is unknown. */
	arrive("e1", "expert_qa", AT(113));
	ck_assert_int_eq(find(ACD_ACT_POSITION)->estimated_wait_s, -1);
}
END_TEST

START_TEST (test_language_lane_needs_the_language) {
	login_ready("mandarin_only", "consultation:5", AT(0));
	step((struct acd_input){.type = ACD_IN_CALL_WAITING,
				.call = "en1",
				.queue = "consultation",
				.language = "english"},
	     AT(10));
	ck_assert_int_eq(count_of(ACD_ACT_OFFER), 0);
	login_ready("bilingual", "consultation:5,english:4", AT(20));
	assert_offer("en1", "bilingual");
	ck_assert_int_eq(try_step((struct acd_input){.type = ACD_IN_CALL_WAITING,
						     .call = "x",
						     .queue = "consultation",
						     .language = "klingon"},
				  AT(21)),
			 -EINVAL);
}
END_TEST

START_TEST (test_refusals_change_nothing) {
	login_ready("a1", "booking:5", AT(0));
	arrive("b1", "booking", AT(1));
	struct acd_action small[4];
	struct acd_actions tight = {.items = small, .cap = 4};
	struct acd_input in = {.type = ACD_IN_CALL_WAITING, .call = "b2", .queue = "booking"};
	ck_assert_int_eq(acd_step(core, &in, AT(2), &tight), -ENOBUFS);
	ck_assert_int_eq(try_step(in, AT(2)), 0);
	ck_assert_int_eq(try_step(in, AT(3)), -EEXIST);
	in.centre = "suzhou";
	in.call = "b3";
	ck_assert_int_eq(try_step(in, AT(3)), -EXDEV);
	ck_assert_int_eq(try_step((struct acd_input){.type = ACD_IN_AGENT_LOGOUT, .agent = "a1"},
				  AT(4)),
			 -EBUSY);
	ck_assert_int_eq(try_step((struct acd_input){.type = ACD_IN_AGENT_NOT_READY,
						     .agent = "a1",
						     .reason = "lunch"},
				  AT(4)),
			 -EBUSY);
	ck_assert_int_eq(try_step((struct acd_input){.type = ACD_IN_AGENT_LOGIN, .agent = "a1"},
				  AT(4)),
			 -EALREADY);
	ck_assert_int_eq(try_step((struct acd_input){.type = ACD_IN_CALL_ENDED, .call = "b1"},
				  AT(4)),
			 -EINVAL);
	ck_assert_int_eq(try_step((struct acd_input){.type = ACD_IN_CALL_GONE, .call = "zz"},
				  AT(4)),
			 -ENOENT);
	ck_assert_int_eq(acd_call_count(core), 2);
	ck_assert_int_eq(acd_waiting_count(core, "booking"), 1);
}
END_TEST

/* --- random streams ------------------------------------------------------------- */

#define N_AGENTS 14
#define MAX_CALLS 4000

static const char *const queue_names[] = {"crisis",    "expert_qa", "consultation",
					  "complaint", "booking",   "survey"};
#define N_QUEUES 6

struct gen {
	uint64_t rng;
	int64_t now;
	int next_call;
	char call_ids[MAX_CALLS][24];
	int64_t joined[MAX_CALLS];
	char queue_of[MAX_CALLS];
	char agent_ids[N_AGENTS][16];
	struct acd_skill skills[N_AGENTS][ACD_SKILLS_MAX];
	size_t n_skills[N_AGENTS];
	char buf[ACD_ID_MAX + 1];
};

static uint64_t gen_next(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

static int gen_pick(struct gen *g, int n)
{
	return (int)(gen_next(g) % (uint64_t)n);
}

static void gen_init(struct gen *g, uint64_t seed)
{
	memset(g, 0, sizeof *g);
	g->rng = seed;
	g->now = T0;
	for (int i = 0; i < N_AGENTS; i++) {
		snprintf(g->agent_ids[i], sizeof g->agent_ids[i], "agent-%02d", i);
		size_t n = 0;
		for (int q = 0; q < N_QUEUES; q++) {
			if (q == i % N_QUEUES || gen_pick(g, 3) == 0) {
				snprintf(g->skills[i][n].name, ACD_NAME_MAX + 1, "%s",
					 queue_names[q]);
				g->skills[i][n++].level = 1 + gen_pick(g, 9);
			}
		}
		if (gen_pick(g, 3) == 0) {
			snprintf(g->skills[i][n].name, ACD_NAME_MAX + 1, "english");
			g->skills[i][n++].level = 1 + gen_pick(g, 9);
		}
		g->n_skills[i] = n;
	}
}

/* An existing call id (possibly finished) or NULL. */
static const char *gen_some_call(struct gen *g)
{
	if (g->next_call == 0)
		return NULL;
	int lo = g->next_call > 60 ? g->next_call - 60 : 0;
	return g->call_ids[lo + gen_pick(g, g->next_call - lo)];
}

/* The next input of a stream in which everything happens: arrivals of
 * every kind, answers, failures, ends, hang-ups, callbacks, agents coming
 * and going, ticks. Some inputs are illegal in the state they meet. */
static struct acd_input gen_input(struct gen *g)
{
	struct acd_input in = {.type = ACD_IN_TICK};
	g->now += (int64_t)gen_pick(g, 4000) * 1000;
	int r = gen_pick(g, 100);
	int agent = gen_pick(g, N_AGENTS);
	if (r < 26 && g->next_call < MAX_CALLS) {
		int i = g->next_call++;
		snprintf(g->call_ids[i], sizeof g->call_ids[i], "call-%05d", i);
		g->queue_of[i] = (char)gen_pick(g, N_QUEUES);
		g->joined[i] = g->now;
		in = (struct acd_input){.type = ACD_IN_CALL_WAITING,
					.call = g->call_ids[i],
					.queue = queue_names[(int)g->queue_of[i]],
					.crisis = gen_pick(g, 12) == 0};
		if (gen_pick(g, 6) == 0)
			in.language = "english";
		if (gen_pick(g, 8) == 0) {
			in.priority_set = true;
			in.priority = gen_pick(g, 7);
		}
	} else if (r < 42) {
		in = (struct acd_input){.type = ACD_IN_OFFER_ANSWERED, .call = gen_some_call(g)};
	} else if (r < 46) {
		in = (struct acd_input){.type = ACD_IN_OFFER_FAILED, .call = gen_some_call(g)};
	} else if (r < 58) {
		in = (struct acd_input){.type = ACD_IN_CALL_ENDED, .call = gen_some_call(g)};
	} else if (r < 62) {
		in = (struct acd_input){.type = ACD_IN_CALL_GONE, .call = gen_some_call(g)};
	} else if (r < 65 && g->next_call > 0) {
		int i = gen_pick(g, g->next_call);
		in = (struct acd_input){.type = ACD_IN_CALLBACK_REQUESTED,
					.call = g->call_ids[i],
					.queue = queue_names[(int)g->queue_of[i]],
					.joined_at = g->joined[i]};
	} else if (r < 76) {
		in = (struct acd_input){.type = ACD_IN_AGENT_READY, .agent = g->agent_ids[agent]};
	} else if (r < 79) {
		in = (struct acd_input){.type = ACD_IN_AGENT_NOT_READY,
					.agent = g->agent_ids[agent],
					.reason = "break"};
	} else if (r < 80) {
		in = (struct acd_input){.type = ACD_IN_AGENT_LOGOUT, .agent = g->agent_ids[agent]};
	} else if (r < 84) {
		in = (struct acd_input){.type = ACD_IN_AGENT_LOGIN,
					.agent = g->agent_ids[agent],
					.skills = g->skills[agent],
					.n_skills = g->n_skills[agent]};
	} else if (r < 85) {
		in.type = ACD_IN_NEW_DAY;
	}
	return in;
}

static bool action_equal(const struct acd_action *x, const struct acd_action *y)
{
	bool q = (x->queue == NULL) == (y->queue == NULL) &&
		 (x->queue == NULL || strcmp(x->queue, y->queue) == 0);
	bool t = (x->target_queue == NULL) == (y->target_queue == NULL) &&
		 (x->target_queue == NULL || strcmp(x->target_queue, y->target_queue) == 0);
	return q && t && x->type == y->type && strcmp(x->call, y->call) == 0 &&
	       strcmp(x->agent, y->agent) == 0 && x->overflow == y->overflow &&
	       x->agent_state == y->agent_state && strcmp(x->reason, y->reason) == 0 &&
	       x->urgent == y->urgent && x->at == y->at && x->ring_deadline == y->ring_deadline &&
	       x->position == y->position && x->estimated_wait_s == y->estimated_wait_s;
}

static struct acd_action items_b[1024];

/* Feeds n inputs of g to a and b (b may be NULL) and requires the same
 * answers and actions from both. */
static void run_pair(struct gen *g, struct acd *a, struct acd *b, int n)
{
	for (int i = 0; i < n; i++) {
		struct acd_input in = gen_input(g);
		struct acd_actions oa = {.items = items, .cap = 1024};
		struct acd_actions ob = {.items = items_b, .cap = 1024};
		int ra = acd_step(a, &in, g->now, &oa);
		if (b == NULL)
			continue;
		int rb = acd_step(b, &in, g->now, &ob);
		expect(ra == rb && oa.count == ob.count, "step %d: rc %d/%d, %zu/%zu actions", i,
		       ra, rb, oa.count, ob.count);
		for (size_t k = 0; k < oa.count; k++)
			expect(action_equal(&items[k], &items_b[k]),
			       "step %d: action %zu differs (%s)", i, k,
			       acd_action_type_name(items[k].type));
	}
}

START_TEST (test_same_inputs_give_the_same_actions) {
	struct acd_config cfg = test_config();
	struct acd *a, *b;
	ck_assert_int_eq(acd_new(&cfg, &a, NULL, 0), 0);
	ck_assert_int_eq(acd_new(&cfg, &b, NULL, 0), 0);
	static struct gen g;
	gen_init(&g, 0x5eed0001);
	run_pair(&g, a, b, 20000);
	acd_free(a);
	acd_free(b);
}
END_TEST

static bool snapshots_equal(const struct acd_snapshot *x, const struct acd_snapshot *y)
{
	if (x->n_agents != y->n_agents || x->n_calls != y->n_calls || x->n_queues != y->n_queues)
		return false;
	return memcmp(x->agents, y->agents, x->n_agents * sizeof *x->agents) == 0 &&
	       memcmp(x->calls, y->calls, x->n_calls * sizeof *x->calls) == 0 &&
	       memcmp(x->queues, y->queues, x->n_queues * sizeof *x->queues) == 0;
}

START_TEST (test_restore_gives_the_same_decisions) {
	struct acd_config cfg = test_config();
	struct acd *a, *b;
	ck_assert_int_eq(acd_new(&cfg, &a, NULL, 0), 0);
	static struct gen g;
	gen_init(&g, 0x5eed0002);
	for (int round = 0; round < 5; round++) {
		run_pair(&g, a, NULL, 1500);
		struct acd_snapshot snap, again;
		ck_assert_int_eq(acd_snapshot_take(a, &snap), 0);
		ck_assert_uint_gt(snap.n_calls, 0);
		char err[200] = "";
		ck_assert_msg(acd_restore(&cfg, &snap, &b, err, sizeof err) == 0, "restore: %s",
			      err);
		ck_assert_int_eq(acd_snapshot_take(b, &again), 0);
		ck_assert(snapshots_equal(&snap, &again));
		ck_assert_int_eq(acd_next_deadline(b), acd_next_deadline(a));
		for (size_t i = 0; i < snap.n_calls; i++) {
			int pa, wa, pb, wb;
			if (snap.calls[i].state != ACD_CALL_WAITING)
				continue;
			ck_assert_int_eq(acd_call_position(a, snap.calls[i].id, &pa, &wa), 0);
			ck_assert_int_eq(acd_call_position(b, snap.calls[i].id, &pb, &wb), 0);
			ck_assert_int_eq(pa, pb);
			ck_assert_int_eq(wa, wb);
		}
		acd_snapshot_free(&snap);
		acd_snapshot_free(&again);
		run_pair(&g, a, b, 1500);
		acd_free(a);
		a = b;
	}
	acd_free(a);
}
END_TEST

START_TEST (test_restore_refuses_an_inconsistent_snapshot) {
	login("a1", "booking:5", AT(0));
	arrive("b1", "booking", AT(1));
	struct acd_snapshot snap;
	ck_assert_int_eq(acd_snapshot_take(core, &snap), 0);
	snap.calls[0].state = ACD_CALL_OFFERED;
	snprintf(snap.calls[0].agent, sizeof snap.calls[0].agent, "a1");
	struct acd_config cfg = test_config();
	struct acd *b = NULL;
	char err[200] = "";
	ck_assert_int_eq(acd_restore(&cfg, &snap, &b, err, sizeof err), -EINVAL);
	ck_assert_ptr_null(b);
	ck_assert_msg(strstr(err, "b1") != NULL, "error: %s", err);

	/* A ready agent next to a waiting call (rows from an unclean stop)
	 * gets the call on the first tick. */
	snap.calls[0].state = ACD_CALL_WAITING;
	snap.agents[0].state = ACD_AGENT_READY;
	ck_assert_int_eq(acd_restore(&cfg, &snap, &b, err, sizeof err), 0);
	ck_assert_int_eq(acd_next_deadline(b), INT64_MIN);
	out.count = 0;
	struct acd_input in = {.type = ACD_IN_TICK};
	ck_assert_int_eq(acd_step(b, &in, AT(2), &out), 0);
	assert_offer("b1", "a1");
	acd_snapshot_free(&snap);
	acd_free(b);
}
END_TEST

/* What the actions say about each agent and call. */
struct model {
	enum acd_agent_state agent[N_AGENTS];
	int offered_call[N_AGENTS]; /* call index, -1 */
	bool crisis[MAX_CALLS];
};

static int agent_index(const char *id)
{
	return atoi(id + strlen("agent-"));
}

static int call_index(const char *id)
{
	return atoi(id + strlen("call-"));
}

/* Applies one step's actions to the model, checking the invariants. */
static void model_apply(struct model *m, const struct acd_actions *o, int step_no)
{
	for (size_t k = 0; k < o->count; k++) {
		const struct acd_action *act = &o->items[k];
		switch (act->type) {
		case ACD_ACT_OFFER: {
			int ai = agent_index(act->agent);
			expect(m->agent[ai] == ACD_AGENT_READY, "step %d: offer to %s in state %s",
			       step_no, act->agent, acd_agent_state_name(m->agent[ai]));
			expect(m->offered_call[ai] < 0, "step %d: second offer to %s", step_no,
			       act->agent);
			m->offered_call[ai] = call_index(act->call);
			break;
		}
		case ACD_ACT_AGENT_STATE: {
			int ai = agent_index(act->agent);
			m->agent[ai] = act->agent_state;
			if (act->agent_state != ACD_AGENT_OFFERED)
				m->offered_call[ai] = -1;
			break;
		}
		case ACD_ACT_OVERFLOW:
			expect(!m->crisis[call_index(act->call)],
			       "step %d: crisis call %s overflowed", step_no, act->call);
			break;
		default:
			break;
		}
	}
}

/* No ready agent can serve a waiting call. */
static void check_no_idle_match(const struct acd *a, int step_no)
{
	struct acd_snapshot s;
	ck_assert_int_eq(acd_snapshot_take(a, &s), 0);
	for (size_t c = 0; c < s.n_calls; c++) {
		if (s.calls[c].state != ACD_CALL_WAITING)
			continue;
		for (size_t i = 0; i < s.n_agents; i++) {
			if (s.agents[i].state != ACD_AGENT_READY)
				continue;
			bool queue = false, language = s.calls[c].language[0] == '\0';
			for (size_t k = 0; k < s.agents[i].n_skills; k++) {
				queue |= strcmp(s.agents[i].skills[k].name, s.calls[c].queue) == 0;
				language |= strcmp(s.agents[i].skills[k].name,
						   s.calls[c].language) == 0;
			}
			expect(!(queue && language), "step %d: %s ready while %s waits", step_no,
			       s.agents[i].id, s.calls[c].id);
		}
	}
	acd_snapshot_free(&s);
}

START_TEST (test_random_stream_keeps_the_invariants) {
	static struct gen g;
	static struct model m;
	gen_init(&g, 0x5eed0003);
	for (int i = 0; i < N_AGENTS; i++)
		m.offered_call[i] = -1;
	int steps = 0;
	while (g.next_call < MAX_CALLS) {
		struct acd_input in = gen_input(&g);
		if (in.type == ACD_IN_CALL_WAITING)
			m.crisis[call_index(in.call)] = in.crisis ||
							strcmp(in.queue, "crisis") == 0;
		out.count = 0;
		int rc = acd_step(core, &in, g.now, &out);
		expect(rc == 0 || (in.type != ACD_IN_TICK && out.count == 0),
		       "step %d: input %d refused (%d) after appending %zu actions", steps,
		       (int)in.type, rc, out.count);
		model_apply(&m, &out, steps);
		if (++steps % 97 == 0)
			check_no_idle_match(core, steps);
	}

	/* Every agent logs in with every skill and works until no call is left. */
	static struct acd_skill all[ACD_SKILLS_MAX];
	for (int q = 0; q < N_QUEUES; q++) {
		snprintf(all[q].name, sizeof all[q].name, "%s", queue_names[q]);
		all[q].level = 5;
	}
	snprintf(all[N_QUEUES].name, sizeof all[N_QUEUES].name, "english");
	all[N_QUEUES].level = 5;
	for (int i = 0; i < N_AGENTS; i++) {
		struct acd_agent_record r;
		if (acd_agent_get(core, g.agent_ids[i], &r) != 0 || r.state == ACD_AGENT_OFFERED ||
		    r.state == ACD_AGENT_ON_CALL)
			continue;
		out.count = 0;
		if (r.state != ACD_AGENT_LOGGED_OUT) {
			struct acd_input lo = {.type = ACD_IN_AGENT_LOGOUT,
					       .agent = g.agent_ids[i]};
			ck_assert_int_eq(acd_step(core, &lo, g.now, &out), 0);
		}
		struct acd_input li = {.type = ACD_IN_AGENT_LOGIN,
				       .agent = g.agent_ids[i],
				       .skills = all,
				       .n_skills = N_QUEUES + 1};
		ck_assert_int_eq(acd_step(core, &li, g.now, &out), 0);
		model_apply(&m, &out, steps);
	}
	for (int round = 0; round < 100000 && acd_call_count(core) > 0; round++) {
		g.now += SECOND;
		for (int i = 0; i < N_AGENTS; i++) {
			struct acd_agent_record r;
			ck_assert_int_eq(acd_agent_get(core, g.agent_ids[i], &r), 0);
			struct acd_input in = {.agent = g.agent_ids[i]};
			if (r.state == ACD_AGENT_NOT_READY || r.state == ACD_AGENT_LOGGED_OUT) {
				if (r.state == ACD_AGENT_LOGGED_OUT)
					continue;
				in.type = ACD_IN_AGENT_READY;
			} else if (r.state == ACD_AGENT_OFFERED || r.state == ACD_AGENT_ON_CALL) {
				struct acd_snapshot s;
				ck_assert_int_eq(acd_snapshot_take(core, &s), 0);
				for (size_t c = 0; c < s.n_calls; c++)
					if (strcmp(s.calls[c].agent, r.id) == 0)
						snprintf(g.buf, sizeof g.buf, "%s", s.calls[c].id);
				acd_snapshot_free(&s);
				in.type = r.state == ACD_AGENT_OFFERED ? ACD_IN_OFFER_ANSWERED :
									 ACD_IN_CALL_ENDED;
				in.call = g.buf;
			} else {
				continue;
			}
			out.count = 0;
			ck_assert_int_eq(acd_step(core, &in, g.now, &out), 0);
			model_apply(&m, &out, steps);
		}
		out.count = 0;
		struct acd_input t = {.type = ACD_IN_TICK};
		ck_assert_int_eq(acd_step(core, &t, g.now, &out), 0);
		model_apply(&m, &out, steps);
	}
	ck_assert_int_eq(acd_call_count(core), 0);
}
END_TEST

static Suite *acd_suite(void)
{
	Suite *s = suite_create("acd");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_crisis_call_jumps_the_queue);
	tcase_add_test(tc, test_withdrawn_crisis_call_leaves_no_callback_and_no_miss);
	tcase_add_test(tc, test_longest_idle_agent_gets_the_call);
	tcase_add_test(tc, test_fewest_calls);
	tcase_add_test(tc, test_round_robin_rotates);
	tcase_add_test(tc, test_round_robin_passes_over_the_agent_who_missed);
	tcase_add_test(tc, test_skill_level_prefers_the_expert);
	tcase_add_test(tc, test_fifo_within_priority);
	tcase_add_test(tc, test_max_wait_overflows_to_target);
	tcase_add_test(tc, test_crisis_never_overflows);
	tcase_add_test(tc, test_no_answer_reoffers_to_next_agent);
	tcase_add_test(tc, test_misses_put_agent_not_ready);
	tcase_add_test(tc, test_wrap_up_then_ready_after_wrap_up_time);
	tcase_add_test(tc, test_callback_keeps_original_join_time);
	tcase_add_test(tc, test_crisis_hang_up_creates_urgent_callback);
	tcase_add_test(tc, test_agent_serving_two_queues_takes_the_higher_priority_call);
	tcase_add_test(tc, test_position_and_estimated_wait);
	tcase_add_test(tc, test_language_lane_needs_the_language);
	tcase_add_test(tc, test_refusals_change_nothing);
	tcase_add_test(tc, test_same_inputs_give_the_same_actions);
	tcase_add_test(tc, test_restore_gives_the_same_decisions);
	tcase_add_test(tc, test_restore_refuses_an_inconsistent_snapshot);
	tcase_add_test(tc, test_random_stream_keeps_the_invariants);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(acd_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
