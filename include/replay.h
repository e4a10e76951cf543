/* replay.h: the simulator's plan, the calls a year profile turns into.
 *
 * Pure and deterministic: the plan depends only on the (scaled) profile, the
 * seed and the local zone set by the caller (timeutil_set_zone); it does no
 * I/O and reads no clock. The same inputs give a byte-identical plan.
 *
 * The plan holds, for the profile's own centre, exactly calls.by_category of
 * accepted calls (outcome handled or self-service); for every other centre of
 * province.by_centre, its calls split over the categories in the own centre's
 * mix by largest remainder. On top of these come about 2% abandoned calls per
 * centre, which the year-end export does not count. Calls are offered over the
 * local calendar year with a daily and weekly rhythm; each centre's first
 * accepted call is offered at 00:00:00 on 1 January and its last at 23:59:00
 * on 31 December, local time.
 *
 * Generation streams day by day: memory is a few counters per centre and per
 * day plus one day of compact call records, whatever the scale.
 *
 * The plan also holds the own centre's 12345 work orders: exactly
 * work_orders.city_12345 and work_orders.province_12345 of the (scaled)
 * profile, received over the same local year with the same weekly rhythm and
 * the weekday's office hours, mostly complaints, some consultations, about 2%
 * urgent. They are drawn up front (16 bytes an order) from a generator of
 * their own, so they leave the calls' plan as it was.
 */
#ifndef HOTLINE_REPLAY_H
#define HOTLINE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "category.h"
#include "profile.h"

/* The gateway API's limit on ids (64 characters) plus the NUL. */
#define REPLAY_ID_MAX 65
#define REPLAY_MAX_EVENTS 4
#define REPLAY_NUMBER_MAX 16
#define REPLAY_PATH_MAX 8
/* A citizen's name (UTF-8, two to four characters) plus the NUL. */
#define REPLAY_NAME_MAX 16
/* Room for any work order's JSON body (replay_format_order). */
#define REPLAY_ORDER_BODY_MAX 1024
/* At most this many work orders a plan (both sources). */
#define REPLAY_ORDERS_MAX 10000000

enum replay_outcome {
	REPLAY_OUTCOME_HANDLED,      /* answered by an agent, then ended */
	REPLAY_OUTCOME_SELF_SERVICE, /* ended inside the IVR */
	REPLAY_OUTCOME_ABANDONED,    /* caller hung up while queued; not counted */
};

enum replay_event_type {
	REPLAY_EVENT_OFFERED,
	REPLAY_EVENT_ANSWERED,
	REPLAY_EVENT_TRANSFERRED,
	REPLAY_EVENT_IVR_COMPLETED,
	REPLAY_EVENT_ABANDONED,
	REPLAY_EVENT_ENDED,
};

struct replay_event {
	enum replay_event_type type;
	int64_t usec; /* the event's time, microseconds since the epoch */
};

/* One planned call, complete with its lifecycle. All strings are inline so a
 * call can be copied and outlive the iterator's next step. */
struct replay_call {
	const char *centre;  /* the centre code, owned by the plan */
	size_t centre_index; /* 0 is the profile's own centre */
	uint64_t index;      /* 1-based, per centre, in offered order */
	char call_id[REPLAY_ID_MAX];
	enum category category; /* what the classifier assigns (ivr_self_service
				 * once the call ends in the IVR) */
	enum replay_outcome outcome;
	int64_t offered_usec;
	char caller[REPLAY_NUMBER_MAX];
	char dialled[REPLAY_NUMBER_MAX];
	char ivr_path[REPLAY_PATH_MAX];       /* digits pressed before the offer */
	char ivr_final_path[REPLAY_PATH_MAX]; /* sent with call.ivr_completed */
	bool recent_crisis;                   /* caller_flags: ["recent_crisis"] */
	unsigned agent;                       /* answering agent "a<n>"; 0 if none */
	unsigned transfer_agent;              /* agent transferred to; 0 if none */
	struct replay_event events[REPLAY_MAX_EVENTS];
	size_t n_events;
};

/* The 12345 platforms that hand work orders to the centre. */
enum replay_order_source {
	REPLAY_ORDER_CITY,     /* city_12345 */
	REPLAY_ORDER_PROVINCE, /* province_12345 */
	REPLAY_ORDER_SOURCES
};

/* One planned work order, as its platform sends it (doc/workorders.md).
 * Strings are inline or static, so an order can be copied and kept. */
struct replay_order {
	enum replay_order_source source;
	uint64_t index; /* 1-based, per source, in received order */
	/* "w<seed>-<centre>-<year>-city-<index>" (or "-prov-"): unique per
	 * platform, and across seeds, centres and years */
	char external_no[REPLAY_ID_MAX];
	const char *centre; /* the own centre's code, owned by the plan */
	int64_t received_usec;
	enum category category; /* complaint or consultation */
	bool urgent;
	const char *title;   /* static UTF-8 text */
	const char *content; /* static UTF-8 text */
	char citizen_name[REPLAY_NAME_MAX];
	char citizen_phone[REPLAY_NUMBER_MAX];
};

struct replay;

/* Builds the plan for a scaled, valid profile and a seed, in the current
 * local zone. Returns NULL with the reason in err when the profile cannot be
 * replayed (a centre code outside the API's id alphabet, event ids or work
 * order numbers that would exceed 64 characters, a duplicate centre, more
 * than REPLAY_ORDERS_MAX work orders). The profile must outlive the plan. */
struct replay *replay_new(const struct profile *scaled, uint64_t seed, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* Fills *out with the next call in offered order (ties in a fixed order) and
 * returns true, or returns false when the plan is exhausted. */
bool replay_next(struct replay *r, struct replay_call *out) __attribute__((warn_unused_result));

/* Centres in the plan: the own centre first, then the others in file order. */
size_t replay_centre_count(const struct replay *r);
const char *replay_centre_code(const struct replay *r, size_t centre_index);

/* Accepted calls planned for a centre and category, and abandoned calls
 * planned for a centre (whole year, independent of iteration progress). */
int64_t replay_planned_accepted(const struct replay *r, size_t centre_index, enum category c);
int64_t replay_planned_abandoned(const struct replay *r, size_t centre_index);

/* Every call the plan will yield, accepted and abandoned, all centres. */
int64_t replay_planned_calls(const struct replay *r);

/* "city_12345" or "province_12345": X-Hotline-Platform, work_orders.source,
 * the profile's work_orders key; "unknown" out of range. */
const char *replay_order_source_name(enum replay_order_source s);

/* Work orders planned from a source (the profile's figure), and in all. */
int64_t replay_planned_orders(const struct replay *r, enum replay_order_source s);
size_t replay_order_count(const struct replay *r);

/* Fills *out with order i (0-based, in received order; ties by source, then
 * index) and returns true, or returns false when i >= replay_order_count.
 * Any order can be asked for at any time, in any order. */
bool replay_order_at(const struct replay *r, size_t i, struct replay_order *out)
	__attribute__((warn_unused_result));

/* Writes the JSON body of POST /v1/workorders for o, received_at in the
 * local zone with its offset. Returns the length written (without the NUL),
 * or -1 if len is too small (REPLAY_ORDER_BODY_MAX always suffices). */
int replay_format_order(const struct replay_order *o, char *buf, size_t len)
	__attribute__((warn_unused_result));

/* The gateway's name for an event type ("call.offered", ...). */
const char *replay_event_type_name(enum replay_event_type t);

/* The event id of call's i-th event: "<call_id>-<i+1>". */
void replay_event_id(const struct replay_call *call, size_t i, char out[REPLAY_ID_MAX]);

/* Writes the JSON body of call's i-th event for POST /v1/calls/events, times
 * in the local zone with their offset. Returns the length written (without
 * the NUL), or -1 if i is out of range or len too small. */
int replay_format_event(const struct replay_call *call, size_t i, char *buf, size_t len)
	__attribute__((warn_unused_result));

/* The same with the agents named by the caller instead of the plan's
 * "a<n>": agent for call.answered, to_agent for call.transferred (the
 * simulator's pool, as the broker's distributor picked them). Both must be
 * ids of the gateway API's alphabet (1 to 64 of A-Z a-z 0-9 . _ : -); the
 * other events ignore them. */
int replay_format_event_as(const struct replay_call *call, size_t i, const char *agent,
			   const char *to_agent, char *buf, size_t len)
	__attribute__((warn_unused_result));

void replay_free(struct replay *r);

#endif
