/* test_ticket.c: ticket kinds and states by name, and every change of state
 * against the table of doc/workorders.md. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ticket.h"

#define N TICKET_STATE_COUNT

/* The table as the contract gives it: 0 legal, -EALREADY, or -EPERM. */
static const int expected[N][N] = {
	/* to: new, open, pending, resolved, closed */
	[TICKET_NEW] = {-EALREADY, 0, 0, 0, 0},
	[TICKET_OPEN] = {-EPERM, -EALREADY, 0, 0, 0},
	[TICKET_PENDING] = {-EPERM, 0, -EALREADY, 0, 0},
	[TICKET_RESOLVED] = {-EPERM, 0, -EPERM, -EALREADY, 0},
	[TICKET_CLOSED] = {-EPERM, -EPERM, -EPERM, -EPERM, -EALREADY},
};

START_TEST (test_states_and_kinds_have_their_names) {
	static const char *const states[] = {"new", "open", "pending", "resolved", "closed"};
	static const char *const kinds[] = {"complaint", "consultation_followup", "callback",
					    "crisis_callback"};

	ck_assert_int_eq(TICKET_STATE_COUNT, 5);
	for (int i = 0; i < TICKET_STATE_COUNT; i++) {
		enum ticket_state s = TICKET_CLOSED;
		ck_assert_str_eq(ticket_state_name((enum ticket_state)i), states[i]);
		ck_assert_int_eq(ticket_state_from_name(states[i], &s), 0);
		ck_assert_int_eq(s, i);
	}
	ck_assert_int_eq(TICKET_KIND_COUNT, 4);
	for (int i = 0; i < TICKET_KIND_COUNT; i++) {
		enum ticket_kind k = TICKET_COMPLAINT;
		ck_assert_str_eq(ticket_kind_name((enum ticket_kind)i), kinds[i]);
		ck_assert_int_eq(ticket_kind_from_name(kinds[i], &k), 0);
		ck_assert_int_eq(k, i);
	}
	enum ticket_state s = TICKET_OPEN;
	enum ticket_kind k = TICKET_CALLBACK;
	ck_assert_int_eq(ticket_state_from_name("Open", &s), -1);
	ck_assert_int_eq(ticket_state_from_name("", &s), -1);
	ck_assert_int_eq(ticket_state_from_name("reopened", &s), -1);
	ck_assert_int_eq(s, TICKET_OPEN);
	ck_assert_int_eq(ticket_kind_from_name("consultation", &k), -1);
	ck_assert_int_eq(k, TICKET_CALLBACK);
	ck_assert_str_eq(ticket_state_name(TICKET_STATE_COUNT), "unknown");
	ck_assert_str_eq(ticket_kind_name(TICKET_KIND_COUNT), "unknown");
}
END_TEST

START_TEST (test_every_change_of_state_follows_the_table) {
	int legal = 0, already = 0, refused = 0;

	for (int from = 0; from < N; from++) {
		for (int to = 0; to < N; to++) {
			char err[256] = "";
			int rc = ticket_transition((enum ticket_state)from, (enum ticket_state)to,
						   err, sizeof err);
			ck_assert_msg(rc == expected[from][to],
				      "%s -> %s: got %d (%s), expected %d",
				      ticket_state_name((enum ticket_state)from),
				      ticket_state_name((enum ticket_state)to), rc, err,
				      expected[from][to]);
			if (rc == 0) {
				legal++;
				continue;
			}
			/* Every refusal is a sentence naming the state(s) involved. */
			ck_assert_ptr_nonnull(
				strstr(err, ticket_state_name((enum ticket_state)to)));
			if (rc == -EALREADY) {
				already++;
			} else {
				refused++;
				ck_assert_ptr_nonnull(
					strstr(err, ticket_state_name((enum ticket_state)from)));
				ck_assert_msg(strncmp(err, "cannot move a ticket from ", 26) == 0,
					      "%s", err);
			}
		}
	}
	ck_assert_int_eq(legal, 12);
	ck_assert_int_eq(already, 5);
	ck_assert_int_eq(refused, 8);
}
END_TEST

START_TEST (test_refusals_say_what_would_work) {
	char err[256];

	ck_assert_int_eq(ticket_transition(TICKET_CLOSED, TICKET_OPEN, err, sizeof err), -EPERM);
	ck_assert_str_eq(err, "cannot move a ticket from closed to open; a closed ticket is final, "
			      "create a new one");
	ck_assert_int_eq(ticket_transition(TICKET_RESOLVED, TICKET_PENDING, err, sizeof err),
			 -EPERM);
	ck_assert_str_eq(err, "cannot move a ticket from resolved to pending; reopen it (open) "
			      "first");
	ck_assert_int_eq(ticket_transition(TICKET_PENDING, TICKET_NEW, err, sizeof err), -EPERM);
	ck_assert_str_eq(err,
			 "cannot move a ticket from pending to new; a ticket is new only until "
			 "someone first works on it");
	ck_assert_int_eq(ticket_transition(TICKET_OPEN, TICKET_OPEN, err, sizeof err), -EALREADY);
	ck_assert_str_eq(err, "the ticket is open already");
}
END_TEST

START_TEST (test_reopening_a_resolved_ticket_is_legal) {
	char err[64] = "";
	ck_assert_int_eq(ticket_transition(TICKET_RESOLVED, TICKET_OPEN, err, sizeof err), 0);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST (test_states_out_of_range_are_invalid) {
	char err[128];
	ck_assert_int_eq(ticket_transition(TICKET_STATE_COUNT, TICKET_OPEN, err, sizeof err),
			 -EINVAL);
	ck_assert_int_eq(ticket_transition(TICKET_NEW, (enum ticket_state)(-1), err, sizeof err),
			 -EINVAL);
	/* A zero-length buffer is left alone. */
	ck_assert_int_eq(ticket_transition(TICKET_CLOSED, TICKET_NEW, NULL, 0), -EPERM);
}
END_TEST

static Suite *ticket_suite(void)
{
	Suite *s = suite_create("ticket");
	TCase *tc = tcase_create("ticket");

	tcase_add_test(tc, test_states_and_kinds_have_their_names);
	tcase_add_test(tc, test_every_change_of_state_follows_the_table);
	tcase_add_test(tc, test_refusals_say_what_would_work);
	tcase_add_test(tc, test_reopening_a_resolved_ticket_is_legal);
	tcase_add_test(tc, test_states_out_of_range_are_invalid);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ticket_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
