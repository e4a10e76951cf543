/* test_calls.c: one call's state machine (calls.h): every (state, event
 * type) pair against the table in calls.h, the time check, categories,
 * outcomes, transfers and what call_start keeps of the caller. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"

#define T0 (1551662102LL * 1000000) /* 2019-03-04T09:15:02+08:00 */
#define SECOND 1000000LL

#define N_STATES 5
#define NO_STATE (-1)

static const unsigned char caller_hash[PRIVACY_HASH_BYTES] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32, 0x54,
	0x76, 0x98, 0xba, 0xdc, 0xfe, 0xaa, 0x55, 0xaa, 0x55, 0x00, 0xff,
	0x00, 0xff, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
};

static struct call_event make_event(enum event_type type, int64_t at)
{
	struct call_event ev;
	memset(&ev, 0, sizeof ev);
	ev.type = type;
	snprintf(ev.event_id, sizeof ev.event_id, "gw1-000001-%d", (int)type);
	snprintf(ev.call_id, sizeof ev.call_id, "gw1-000001");
	snprintf(ev.centre, sizeof ev.centre, "nanjing");
	ev.at = at;
	return ev;
}

static struct call_event answered(const char *agent, int64_t at)
{
	struct call_event ev = make_event(EVENT_ANSWERED, at);
	snprintf(ev.agent, sizeof ev.agent, "%s", agent);
	return ev;
}

static struct call_event transferred_to_queue(const char *queue, int64_t at)
{
	struct call_event ev = make_event(EVENT_TRANSFERRED, at);
	snprintf(ev.to_queue, sizeof ev.to_queue, "%s", queue);
	return ev;
}

static struct call_event transferred_to_agent(const char *agent, int64_t at)
{
	struct call_event ev = make_event(EVENT_TRANSFERRED, at);
	snprintf(ev.agent, sizeof ev.agent, "%s", agent);
	return ev;
}

/* A call offered at T0 from "13812345678", classified into category. */
static void start_call_as(struct call *c, enum category category)
{
	struct call_event ev = make_event(EVENT_OFFERED, T0);
	struct classify_result cls = {
		.category = category, .queue = "booking", .priority = 4, .rule = "ivr-booking"};

	snprintf(ev.caller, sizeof ev.caller, "13812345678");
	snprintf(ev.dialled, sizeof ev.dialled, "12320");
	snprintf(ev.ivr_path, sizeof ev.ivr_path, "1");
	ev.has_ivr_path = true;
	call_start(c, &ev, &cls, caller_hash);
}

static void start_call(struct call *c)
{
	start_call_as(c, CATEGORY_BOOKING);
}

/* Checks and applies ev, which must be legal. */
static void step(struct call *c, struct call_event ev)
{
	struct event_error err;
	memset(&err, 0, sizeof err);
	ck_assert_msg(call_check_event(c, &ev, &err) == 0, "%s refused in %s: %d %s (%s)",
		      event_type_name(ev.type), call_state_name(c->state), err.status, err.code,
		      err.message);
	call_apply_event(c, &ev);
}

/* Brings a fresh call into state s by legal events, one second apart. */
static void call_in_state(struct call *c, enum call_state s)
{
	start_call(c);
	switch (s) {
	case CALL_QUEUED:
		break;
	case CALL_TALKING:
		step(c, answered("agent-017", T0 + 1 * SECOND));
		break;
	case CALL_IVR_DONE:
		step(c, make_event(EVENT_IVR_COMPLETED, T0 + 1 * SECOND));
		break;
	case CALL_ENDED:
		step(c, answered("agent-017", T0 + 1 * SECOND));
		step(c, make_event(EVENT_ENDED, T0 + 2 * SECOND));
		break;
	case CALL_ABANDONED:
		step(c, make_event(EVENT_ABANDONED, T0 + 1 * SECOND));
		break;
	}
	ck_assert_int_eq(c->state, s);
}

/* The table in calls.h, one event variant per row: the state each event
 * leads to from each state, or NO_STATE where it is illegal. */
enum variant {
	V_ANSWERED,
	V_TO_QUEUE,
	V_TO_AGENT,
	V_IVR_COMPLETED,
	V_ABANDONED,
	V_ENDED,
	V_OFFER_FAILED,
	N_VARIANTS
};

static const int next_state[N_VARIANTS][N_STATES] = {
	/*                  queued        talking       ivr_done   ended     abandoned */
	[V_ANSWERED] = {CALL_TALKING, NO_STATE, NO_STATE, NO_STATE, NO_STATE},
	[V_TO_QUEUE] = {NO_STATE, CALL_QUEUED, NO_STATE, NO_STATE, NO_STATE},
	[V_TO_AGENT] = {NO_STATE, CALL_TALKING, NO_STATE, NO_STATE, NO_STATE},
	[V_IVR_COMPLETED] = {CALL_IVR_DONE, NO_STATE, NO_STATE, NO_STATE, NO_STATE},
	[V_ABANDONED] = {CALL_ABANDONED, NO_STATE, NO_STATE, NO_STATE, NO_STATE},
	[V_ENDED] = {NO_STATE, CALL_ENDED, CALL_ENDED, NO_STATE, NO_STATE},
	[V_OFFER_FAILED] = {CALL_QUEUED, NO_STATE, NO_STATE, NO_STATE, NO_STATE},
};

static struct call_event variant_event(enum variant v, int64_t at)
{
	switch (v) {
	case V_ANSWERED:
		return answered("agent-099", at);
	case V_TO_QUEUE:
		return transferred_to_queue("crisis", at);
	case V_TO_AGENT:
		return transferred_to_agent("agent-042", at);
	case V_IVR_COMPLETED:
		return make_event(EVENT_IVR_COMPLETED, at);
	case V_ABANDONED:
		return make_event(EVENT_ABANDONED, at);
	case V_OFFER_FAILED:
		return make_event(EVENT_OFFER_FAILED, at);
	case V_ENDED:
	case N_VARIANTS:
		break;
	}
	return make_event(EVENT_ENDED, at);
}

START_TEST (test_every_state_and_event_pair_follows_the_table) {
	int legal = 0;
	for (int s = 0; s < N_STATES; s++) {
		for (int v = 0; v < N_VARIANTS; v++) {
			struct call c;
			struct event_error err;
			struct call_event ev = variant_event((enum variant)v, T0 + 10 * SECOND);
			const char *type = event_type_name(ev.type);
			const char *state = call_state_name((enum call_state)s);

			call_in_state(&c, (enum call_state)s);
			memset(&err, 0, sizeof err);
			int rc = call_check_event(&c, &ev, &err);
			if (next_state[v][s] == NO_STATE) {
				ck_assert_msg(rc == -1, "%s accepted in %s", type, state);
				ck_assert_msg(err.status == 409 &&
						      strcmp(err.code, "illegal_transition") == 0,
					      "%s in %s gave %d %s", type, state, err.status,
					      err.code);
				ck_assert_msg(strstr(err.message, type) != NULL &&
						      strstr(err.message, state) != NULL,
					      "%s in %s: message '%s' does not name both", type,
					      state, err.message);
				continue;
			}
			legal++;
			ck_assert_msg(rc == 0, "%s refused in %s: %s", type, state, err.message);
			call_apply_event(&c, &ev);
			ck_assert_msg((int)c.state == next_state[v][s],
				      "%s in %s led to %s, want %s", type, state,
				      call_state_name(c.state),
				      call_state_name((enum call_state)next_state[v][s]));
		}
	}
	/* answered, ivr_completed, abandoned, offer_failed from queued; both
	 * transfers and ended from talking; ended from ivr_done. */
	ck_assert_int_eq(legal, 8);
}
END_TEST

START_TEST (test_offer_for_an_existing_call_is_call_exists) {
	for (int s = 0; s < N_STATES; s++) {
		struct call c;
		struct event_error err;
		struct call_event ev = make_event(EVENT_OFFERED, T0 + 10 * SECOND);

		call_in_state(&c, (enum call_state)s);
		memset(&err, 0, sizeof err);
		ck_assert_int_eq(call_check_event(&c, &ev, &err), -1);
		ck_assert_int_eq(err.status, 409);
		ck_assert_str_eq(err.code, "call_exists");
		ck_assert_ptr_nonnull(strstr(err.message, "gw1-000001"));
	}
}
END_TEST

START_TEST (test_time_before_offer_is_422) {
	for (int v = 0; v < N_VARIANTS; v++) {
		struct call c;
		struct event_error err;
		/* Every variant is legal in some state; try it there. */
		int s = 0;
		while (next_state[v][s] == NO_STATE)
			s++;
		call_in_state(&c, (enum call_state)s);

		struct call_event early = variant_event((enum variant)v, T0 - 1);
		memset(&err, 0, sizeof err);
		ck_assert_int_eq(call_check_event(&c, &early, &err), -1);
		ck_assert_int_eq(err.status, 422);
		ck_assert_str_eq(err.code, "time_before_offer");
		ck_assert_str_eq(err.field, "time");

		/* The offer's own instant is not before it. */
		struct call_event same = variant_event((enum variant)v, T0);
		ck_assert_int_eq(call_check_event(&c, &same, &err), 0);
	}
}
END_TEST

START_TEST (test_ivr_completed_makes_ivr_self_service) {
	struct call c;
	start_call(&c);
	ck_assert_int_eq(c.category, CATEGORY_BOOKING);

	struct call_event ev = make_event(EVENT_IVR_COMPLETED, T0 + 30 * SECOND);
	snprintf(ev.ivr_path, sizeof ev.ivr_path, "1*3#");
	ev.has_ivr_path = true;
	step(&c, ev);
	ck_assert_int_eq(c.state, CALL_IVR_DONE);
	ck_assert_int_eq(c.category, CATEGORY_IVR_SELF_SERVICE);
	ck_assert_str_eq(c.ivr_path, "1*3#");
	ck_assert_int_eq(c.answered_at, 0);
	ck_assert_int_eq(c.ended_at, 0);
}
END_TEST

START_TEST (test_ivr_completed_without_a_path_keeps_the_offer_path) {
	struct call c;
	start_call(&c);
	step(&c, make_event(EVENT_IVR_COMPLETED, T0 + 30 * SECOND));
	ck_assert_str_eq(c.ivr_path, "1");
	ck_assert_int_eq(c.category, CATEGORY_IVR_SELF_SERVICE);
}
END_TEST

START_TEST (test_outcomes) {
	struct call c;

	/* In progress: no outcome yet. */
	for (int s = CALL_QUEUED; s <= CALL_IVR_DONE; s++) {
		call_in_state(&c, (enum call_state)s);
		ck_assert_ptr_null(call_outcome(&c));
		ck_assert(!call_state_is_final(c.state));
	}

	/* Ended after an agent. */
	call_in_state(&c, CALL_ENDED);
	ck_assert_str_eq(call_outcome(&c), "handled");
	ck_assert(call_state_is_final(c.state));
	ck_assert_int_eq(c.ended_at, T0 + 2 * SECOND);

	/* Ended in the IVR. */
	start_call(&c);
	step(&c, make_event(EVENT_IVR_COMPLETED, T0 + 20 * SECOND));
	step(&c, make_event(EVENT_ENDED, T0 + 25 * SECOND));
	ck_assert_int_eq(c.state, CALL_ENDED);
	ck_assert_str_eq(call_outcome(&c), "self_service");
	ck_assert_int_eq(c.ended_at, T0 + 25 * SECOND);

	/* Abandoned in the queue. */
	start_call(&c);
	step(&c, make_event(EVENT_ABANDONED, T0 + 40 * SECOND));
	ck_assert_str_eq(call_outcome(&c), "abandoned");
	ck_assert(call_state_is_final(c.state));
	ck_assert_int_eq(c.ended_at, T0 + 40 * SECOND);
	ck_assert_int_eq(c.answered_at, 0);

	/* Abandoned after a transfer back to a queue: still abandoned. */
	start_call(&c);
	step(&c, answered("agent-017", T0 + SECOND));
	step(&c, transferred_to_queue("crisis", T0 + 2 * SECOND));
	step(&c, make_event(EVENT_ABANDONED, T0 + 3 * SECOND));
	ck_assert_str_eq(call_outcome(&c), "abandoned");

	/* A call the classifier put in ivr_self_service but an agent answered
	 * was handled by that agent. */
	start_call_as(&c, CATEGORY_IVR_SELF_SERVICE);
	step(&c, answered("agent-017", T0 + SECOND));
	step(&c, make_event(EVENT_ENDED, T0 + 2 * SECOND));
	ck_assert_str_eq(call_outcome(&c), "handled");
}
END_TEST

START_TEST (test_transfer_to_a_queue_requeues_the_call) {
	struct call c;
	call_in_state(&c, CALL_TALKING);
	step(&c, transferred_to_queue("crisis", T0 + 5 * SECOND));
	ck_assert_int_eq(c.state, CALL_QUEUED);
	ck_assert_str_eq(c.queue, "crisis");
	ck_assert_int_eq(c.answered_at, T0 + SECOND);
	ck_assert_ptr_null(call_outcome(&c));
}
END_TEST

START_TEST (test_transfer_to_an_agent_keeps_the_call_talking) {
	struct call c;
	call_in_state(&c, CALL_TALKING);
	step(&c, transferred_to_agent("agent-042", T0 + 5 * SECOND));
	ck_assert_int_eq(c.state, CALL_TALKING);
	ck_assert_str_eq(c.agent, "agent-042");
	ck_assert_str_eq(c.queue, "booking");
	ck_assert_int_eq(c.answered_at, T0 + SECOND);

	/* And it can be transferred again, then ended. */
	step(&c, transferred_to_agent("agent-043", T0 + 6 * SECOND));
	ck_assert_str_eq(c.agent, "agent-043");
	step(&c, make_event(EVENT_ENDED, T0 + 7 * SECOND));
	ck_assert_str_eq(call_outcome(&c), "handled");
}
END_TEST

START_TEST (test_answered_at_is_kept_from_the_first_answer) {
	struct call c;
	start_call(&c);
	step(&c, answered("agent-017", T0 + 10 * SECOND));
	ck_assert_int_eq(c.answered_at, T0 + 10 * SECOND);
	ck_assert_str_eq(c.agent, "agent-017");

	step(&c, transferred_to_queue("crisis", T0 + 20 * SECOND));
	step(&c, answered("agent-042", T0 + 30 * SECOND));
	ck_assert_int_eq(c.state, CALL_TALKING);
	ck_assert_str_eq(c.agent, "agent-042");
	ck_assert_int_eq(c.answered_at, T0 + 10 * SECOND);

	step(&c, make_event(EVENT_ENDED, T0 + 40 * SECOND));
	ck_assert_int_eq(c.answered_at, T0 + 10 * SECOND);
	ck_assert_int_eq(c.ended_at, T0 + 40 * SECOND);
}
END_TEST

START_TEST (test_call_start_keeps_the_offer_and_masks_the_number) {
	struct call c;

	memset(&c, 0x5a, sizeof c); /* call_start must not rely on a zeroed call */
	start_call(&c);
	ck_assert_str_eq(c.centre, "nanjing");
	ck_assert_str_eq(c.call_id, "gw1-000001");
	ck_assert_int_eq(c.state, CALL_QUEUED);
	ck_assert_int_eq(c.category, CATEGORY_BOOKING);
	ck_assert_str_eq(c.queue, "booking");
	ck_assert_int_eq(c.priority, 4);
	ck_assert_str_eq(c.rule, "ivr-booking");
	ck_assert_mem_eq(c.caller_hash, caller_hash, PRIVACY_HASH_BYTES);
	ck_assert_str_eq(c.dialled, "12320");
	ck_assert_str_eq(c.ivr_path, "1");
	ck_assert_str_eq(c.agent, "");
	ck_assert_int_eq(c.offered_at, T0);
	ck_assert_int_eq(c.answered_at, 0);
	ck_assert_int_eq(c.ended_at, 0);

	/* First three and last four digits; the middle four never kept. */
	ck_assert_str_eq(c.caller_masked, "138****5678");
	ck_assert_ptr_null(strstr(c.caller_masked, "1234"));
	ck_assert_ptr_null(memmem(&c, sizeof c, "13812345678", 11));
}
END_TEST

START_TEST (test_state_names_round_trip) {
	static const char *const names[N_STATES] = {"queued", "talking", "ivr_done", "ended",
						    "abandoned"};
	for (int s = 0; s < N_STATES; s++) {
		enum call_state back;
		ck_assert_str_eq(call_state_name((enum call_state)s), names[s]);
		ck_assert_int_eq(call_state_from_name(names[s], &back), 0);
		ck_assert_int_eq(back, s);
	}
	enum call_state unused;
	ck_assert_int_eq(call_state_from_name("new", &unused), -1);
	ck_assert_int_eq(call_state_from_name("", &unused), -1);
	ck_assert_int_eq(call_state_from_name("Queued", &unused), -1);
	ck_assert_str_eq(call_state_name((enum call_state)N_STATES), "unknown");
}
END_TEST

static Suite *calls_suite(void)
{
	Suite *s = suite_create("calls");
	TCase *tc = tcase_create("calls");

	tcase_add_test(tc, test_every_state_and_event_pair_follows_the_table);
	tcase_add_test(tc, test_offer_for_an_existing_call_is_call_exists);
	tcase_add_test(tc, test_time_before_offer_is_422);
	tcase_add_test(tc, test_ivr_completed_makes_ivr_self_service);
	tcase_add_test(tc, test_ivr_completed_without_a_path_keeps_the_offer_path);
	tcase_add_test(tc, test_outcomes);
	tcase_add_test(tc, test_transfer_to_a_queue_requeues_the_call);
	tcase_add_test(tc, test_transfer_to_an_agent_keeps_the_call_talking);
	tcase_add_test(tc, test_answered_at_is_kept_from_the_first_answer);
	tcase_add_test(tc, test_call_start_keeps_the_offer_and_masks_the_number);
	tcase_add_test(tc, test_state_names_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(calls_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
