/* ticket.h: the centre's own follow-up work from calls (doc/workorders.md,
 * "Tickets"): a ticket's kinds, its states and the one function that says
 * which change of state is legal. Pure: no I/O, no clock reads.
 */
#ifndef HOTLINE_TICKET_H
#define HOTLINE_TICKET_H

#include <stddef.h>

enum ticket_state {
	TICKET_NEW,      /* created, nobody has worked on it yet */
	TICKET_OPEN,     /* being worked */
	TICKET_PENDING,  /* waiting for someone outside the centre (the citizen, a hospital) */
	TICKET_RESOLVED, /* done; may be reopened */
	TICKET_CLOSED,   /* final */
	TICKET_STATE_COUNT
};

enum ticket_kind {
	TICKET_COMPLAINT,
	TICKET_CONSULTATION_FOLLOWUP,
	TICKET_CALLBACK,        /* from the ACD: a caller who gave up waiting */
	TICKET_CRISIS_CALLBACK, /* from the ACD: a crisis caller hung up before an answer */
	TICKET_KIND_COUNT
};

/* "new", "open", "pending", "resolved", "closed"; "unknown" out of range. */
const char *ticket_state_name(enum ticket_state s);
/* Returns 0 and *out, or -1 for a name that is none of them. */
int ticket_state_from_name(const char *name, enum ticket_state *out)
	__attribute__((warn_unused_result));

/* "complaint", "consultation_followup", "callback", "crisis_callback";
 * "unknown" out of range. */
const char *ticket_kind_name(enum ticket_kind k);
int ticket_kind_from_name(const char *name, enum ticket_kind *out)
	__attribute__((warn_unused_result));

/* Whether a ticket in state from may move to state to:
 *
 *   new      -> open | pending | resolved | closed
 *   open     -> pending | resolved | closed
 *   pending  -> open | resolved | closed
 *   resolved -> open (reopen) | closed
 *   closed   -> nothing
 *
 * Returns 0 when legal; -EALREADY when to is from (nothing to do);
 * -EPERM with a sentence naming both states and saying what would work;
 * -EINVAL for a state out of range. */
int ticket_transition(enum ticket_state from, enum ticket_state to, char *err, size_t err_len)
	__attribute__((warn_unused_result));

#endif
