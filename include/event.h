/* event.h: the gateway's call events, decoded from JSON and checked.
 *
 * event_decode turns a request body into a struct call_event or a precise
 * error (HTTP status, code, field, message) as doc/api.md lists them. It is
 * pure: no I/O, no clock. The payload hash identifies the request for
 * idempotency: a SHA-256 over every decoded field in a fixed order, so a retry
 * that re-serialises the same object (other key order, white space, escapes,
 * offset spelling of the same instant) still matches, and any changed value
 * does not.
 */
#ifndef HOTLINE_EVENT_H
#define HOTLINE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "privacy.h"

#define EVENT_ID_MAX 64
#define EVENT_CENTRE_MAX 32
#define EVENT_SHORT_MAX 32
#define EVENT_MAX_FLAGS 8
#define EVENT_FLAG_MAX 16
#define EVENT_HASH_BYTES 32

enum event_type {
	EVENT_OFFERED,
	EVENT_ANSWERED,
	EVENT_TRANSFERRED,
	EVENT_IVR_COMPLETED,
	EVENT_ABANDONED,
	EVENT_ENDED,
	EVENT_OFFER_FAILED, /* the agent's extension could not be rung; the ACD offers again */
	EVENT_TYPE_COUNT
};

struct call_event {
	enum event_type type;
	char event_id[EVENT_ID_MAX + 1];
	char call_id[EVENT_ID_MAX + 1];
	char centre[EVENT_CENTRE_MAX + 1];
	int64_t at; /* usec since the epoch */

	/* call.offered */
	char caller[PRIVACY_NUMBER_MAX]; /* normalised */
	char dialled[EVENT_SHORT_MAX + 1];
	char ivr_path[EVENT_SHORT_MAX + 1];
	bool has_ivr_path; /* call.ivr_completed may omit it */
	char flags[EVENT_MAX_FLAGS][EVENT_FLAG_MAX + 1];
	size_t n_flags;
	char language[EVENT_SHORT_MAX + 1]; /* "" when the caller needs none */

	/* call.answered, call.offer_failed: agent; call.transferred: to_agent or to_queue */
	char agent[EVENT_ID_MAX + 1];
	char to_queue[EVENT_SHORT_MAX + 1];

	/* call.ended, call.offer_failed */
	char cause[EVENT_ID_MAX + 1];

	unsigned char payload_hash[EVENT_HASH_BYTES];
};

struct event_error {
	int status;       /* 400, 413, 422 ... */
	const char *code; /* "missing_field", ... (static string) */
	char field[48];   /* the offending field, "" if none */
	char message[256];
};

/* Decodes body (not NUL-terminated, len bytes). Returns 0 and fills ev, or -1
 * and fills err. */
int event_decode(const char *body, size_t len, struct call_event *ev, struct event_error *err)
	__attribute__((warn_unused_result));

const char *event_type_name(enum event_type t);

/* The alphabets of the API's ids (event, call, agent: A-Z a-z 0-9 . _ : -)
 * and of centre codes (a-z 0-9 _ -), for the tools that take the same ids. */
bool event_id_char_ok(unsigned char c);
bool event_centre_char_ok(unsigned char c);

#endif
