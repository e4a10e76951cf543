/* calls.h: one call's state machine (pure: no I/O, no clock).
 *
 *   new --offered--> queued --answered--> talking --ended--> ended
 *                    queued --ivr_completed--> ivr_done --ended--> ended
 *                    queued --abandoned--> abandoned
 *                    talking --transferred(to_queue)--> queued
 *                    talking --transferred(to_agent)--> talking
 *                    queued --offer_failed--> queued (the ACD tries another agent)
 *
 * A call that completes in the IVR becomes ivr_self_service. The final
 * outcome is handled (ended after an agent), self_service (ended in the IVR)
 * or abandoned. call_check_event says whether an event is legal now;
 * call_apply_event applies one that is; the live broker and the restart
 * recovery both go through these two functions.
 */
#ifndef HOTLINE_CALLS_H
#define HOTLINE_CALLS_H

#include <stdbool.h>
#include <stdint.h>

#include "category.h"
#include "classifier.h"
#include "event.h"
#include "privacy.h"

enum call_state { CALL_QUEUED, CALL_TALKING, CALL_IVR_DONE, CALL_ENDED, CALL_ABANDONED };

struct call {
	char centre[EVENT_CENTRE_MAX + 1];
	char call_id[EVENT_ID_MAX + 1];
	enum call_state state;
	enum category category;
	char queue[EVENT_SHORT_MAX + 1];
	int priority;
	char rule[EVENT_SHORT_MAX + 1];
	unsigned char caller_hash[PRIVACY_HASH_BYTES];
	char caller_masked[PRIVACY_NUMBER_MAX];
	char dialled[EVENT_SHORT_MAX + 1];
	char ivr_path[EVENT_SHORT_MAX + 1];
	char language[EVENT_SHORT_MAX + 1]; /* a language the caller needs, "" if none */
	char agent[EVENT_ID_MAX + 1];
	int64_t offered_at;
	int64_t answered_at; /* 0 until answered */
	int64_t ended_at;    /* 0 until final */
	int64_t accepted_at; /* the database's clock when the broker took the offer; 0 unknown */
};

const char *call_state_name(enum call_state s);
int call_state_from_name(const char *name, enum call_state *out) __attribute__((warn_unused_result));
bool call_state_is_final(enum call_state s);

/* "handled", "self_service", "abandoned", or NULL while in progress. */
const char *call_outcome(const struct call *c);

/* Starts a call from its call.offered event and the classifier's answer. */
void call_start(struct call *c, const struct call_event *ev, const struct classify_result *cls,
		const unsigned char caller_hash[PRIVACY_HASH_BYTES]);

/* Whether ev (not an offer) is legal for c now. Returns 0, or -1 with err
 * filled (409 illegal_transition, 422 time_before_offer). */
int call_check_event(const struct call *c, const struct call_event *ev, struct event_error *err)
	__attribute__((warn_unused_result));

/* Applies a checked, non-offer event. */
void call_apply_event(struct call *c, const struct call_event *ev);

#endif
