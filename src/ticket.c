/* ticket.c: ticket kinds and states, and the table of legal changes of
 * state (see ticket.h). */
#include "ticket.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const ticket_state_names[TICKET_STATE_COUNT] = {
	"new", "open", "pending", "resolved", "closed",
};

static const char *const ticket_kind_names[TICKET_KIND_COUNT] = {
	"complaint",
	"consultation_followup",
	"callback",
	"crisis_callback",
};

/* legal[from][to]: a change of state a person may ask for. */
static const bool ticket_legal[TICKET_STATE_COUNT][TICKET_STATE_COUNT] = {
	[TICKET_NEW] = {[TICKET_OPEN] = true,
			[TICKET_PENDING] = true,
			[TICKET_RESOLVED] = true,
			[TICKET_CLOSED] = true},
	[TICKET_OPEN] = {[TICKET_PENDING] = true, [TICKET_RESOLVED] = true, [TICKET_CLOSED] = true},
	[TICKET_PENDING] = {[TICKET_OPEN] = true, [TICKET_RESOLVED] = true, [TICKET_CLOSED] = true},
	[TICKET_RESOLVED] = {[TICKET_OPEN] = true, [TICKET_CLOSED] = true},
};

/* The index of name among n names, or -1. */
static int ticket_name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return i;
	}
	return -1;
}

const char *ticket_state_name(enum ticket_state s)
{
	return (unsigned)s < TICKET_STATE_COUNT ? ticket_state_names[s] : "unknown";
}

int ticket_state_from_name(const char *name, enum ticket_state *out)
{
	int i = ticket_name_index(ticket_state_names, TICKET_STATE_COUNT, name);
	if (i < 0)
		return -1;
	*out = (enum ticket_state)i;
	return 0;
}

const char *ticket_kind_name(enum ticket_kind k)
{
	return (unsigned)k < TICKET_KIND_COUNT ? ticket_kind_names[k] : "unknown";
}

int ticket_kind_from_name(const char *name, enum ticket_kind *out)
{
	int i = ticket_name_index(ticket_kind_names, TICKET_KIND_COUNT, name);
	if (i < 0)
		return -1;
	*out = (enum ticket_kind)i;
	return 0;
}

int ticket_transition(enum ticket_state from, enum ticket_state to, char *err, size_t err_len)
{
	if ((unsigned)from >= TICKET_STATE_COUNT || (unsigned)to >= TICKET_STATE_COUNT) {
		snprintf(err, err_len, "unknown ticket state %d or %d", (int)from, (int)to);
		return -EINVAL;
	}
	if (from == to) {
		snprintf(err, err_len, "the ticket is %s already", ticket_state_names[to]);
		return -EALREADY;
	}
	if (ticket_legal[from][to])
		return 0;
	if (from == TICKET_CLOSED)
		snprintf(err, err_len,
			 "cannot move a ticket from closed to %s; a closed ticket is final, create "
			 "a new one",
			 ticket_state_names[to]);
	else if (to == TICKET_NEW)
		snprintf(err, err_len,
			 "cannot move a ticket from %s to new; a ticket is new only until someone "
			 "first works on it",
			 ticket_state_names[from]);
	else
		snprintf(err, err_len,
			 "cannot move a ticket from resolved to %s; reopen it (open) first",
			 ticket_state_names[to]);
	return -EPERM;
}
