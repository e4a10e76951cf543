/* calls.c: the call state machine (see calls.h). */
#include "calls.h"

#include <stdio.h>
#include <string.h>

static const char *const call_state_names[] = {"queued", "talking", "ivr_done", "ended",
					       "abandoned"};

const char *call_state_name(enum call_state s)
{
	return (unsigned)s <= CALL_ABANDONED ? call_state_names[s] : "unknown";
}

int call_state_from_name(const char *name, enum call_state *out)
{
	for (int i = 0; i <= CALL_ABANDONED; i++) {
		if (strcmp(name, call_state_names[i]) == 0) {
			*out = (enum call_state)i;
			return 0;
		}
	}
	return -1;
}

bool call_state_is_final(enum call_state s)
{
	return s == CALL_ENDED || s == CALL_ABANDONED;
}

const char *call_outcome(const struct call *c)
{
	if (c->state == CALL_ABANDONED)
		return "abandoned";
	if (c->state != CALL_ENDED)
		return NULL;
	return c->category == CATEGORY_IVR_SELF_SERVICE && c->answered_at == 0 ? "self_service"
										 : "handled";
}

void call_start(struct call *c, const struct call_event *ev, const struct classify_result *cls,
		const unsigned char caller_hash[PRIVACY_HASH_BYTES])
{
	memset(c, 0, sizeof *c);
	memcpy(c->centre, ev->centre, sizeof c->centre);
	memcpy(c->call_id, ev->call_id, sizeof c->call_id);
	c->state = CALL_QUEUED;
	c->category = cls->category;
	snprintf(c->queue, sizeof c->queue, "%s", cls->queue);
	c->priority = cls->priority;
	snprintf(c->rule, sizeof c->rule, "%s", cls->rule);
	memcpy(c->caller_hash, caller_hash, PRIVACY_HASH_BYTES);
	privacy_mask_number(ev->caller, c->caller_masked);
	memcpy(c->dialled, ev->dialled, sizeof c->dialled);
	memcpy(c->ivr_path, ev->ivr_path, sizeof c->ivr_path);
	memcpy(c->language, ev->language, sizeof c->language);
	c->offered_at = ev->at;
}

/* The states in which each event type is legal (bit per state). */
static unsigned call_legal_states(enum event_type t)
{
	switch (t) {
	case EVENT_ANSWERED:
	case EVENT_IVR_COMPLETED:
	case EVENT_ABANDONED:
	case EVENT_OFFER_FAILED:
		return 1u << CALL_QUEUED;
	case EVENT_TRANSFERRED:
		return 1u << CALL_TALKING;
	case EVENT_ENDED:
		return 1u << CALL_TALKING | 1u << CALL_IVR_DONE;
	case EVENT_OFFERED:
	case EVENT_TYPE_COUNT:
		break;
	}
	return 0;
}

int call_check_event(const struct call *c, const struct call_event *ev, struct event_error *err)
{
	if ((call_legal_states(ev->type) & (1u << c->state)) == 0) {
		err->status = 409;
		err->code = ev->type == EVENT_OFFERED ? "call_exists" : "illegal_transition";
		snprintf(err->field, sizeof err->field, "type");
		if (ev->type == EVENT_OFFERED)
			snprintf(err->message, sizeof err->message,
				 "call %s already exists (state %s); call.offered needs a new call_id",
				 c->call_id, call_state_name(c->state));
		else
			snprintf(err->message, sizeof err->message,
				 "%s is not allowed while call %s is %s", event_type_name(ev->type),
				 c->call_id, call_state_name(c->state));
		return -1;
	}
	if (ev->at < c->offered_at) {
		err->status = 422;
		err->code = "time_before_offer";
		snprintf(err->field, sizeof err->field, "time");
		snprintf(err->message, sizeof err->message,
			 "time: %s is earlier than the call's offer", event_type_name(ev->type));
		return -1;
	}
	return 0;
}

void call_apply_event(struct call *c, const struct call_event *ev)
{
	switch (ev->type) {
	case EVENT_ANSWERED:
		c->state = CALL_TALKING;
		memcpy(c->agent, ev->agent, sizeof c->agent);
		if (c->answered_at == 0)
			c->answered_at = ev->at;
		break;
	case EVENT_TRANSFERRED:
		if (ev->to_queue[0] != '\0') {
			c->state = CALL_QUEUED;
			memcpy(c->queue, ev->to_queue, sizeof c->queue);
		} else {
			memcpy(c->agent, ev->agent, sizeof c->agent);
		}
		break;
	case EVENT_IVR_COMPLETED:
		c->state = CALL_IVR_DONE;
		c->category = CATEGORY_IVR_SELF_SERVICE;
		if (ev->has_ivr_path)
			memcpy(c->ivr_path, ev->ivr_path, sizeof c->ivr_path);
		break;
	case EVENT_ABANDONED:
		c->state = CALL_ABANDONED;
		c->ended_at = ev->at;
		break;
	case EVENT_ENDED:
		c->state = CALL_ENDED;
		c->ended_at = ev->at;
		break;
	case EVENT_OFFER_FAILED: /* the call keeps waiting; the ACD tries another agent */
	case EVENT_OFFERED:
	case EVENT_TYPE_COUNT:
		break;
	}
}
