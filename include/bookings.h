/* bookings.h: appointment bookings in the broker (doc/bookings.md).
 *
 * POST /v1/bookings records one phone booking made during a call, by an
 * agent (bearer token: source "agent", the session's agent and centre) or
 * by the gateway for the IVR (signed like its events: source "gateway",
 * centre in the body, an optional agent). GET /v1/hospitals gives an
 * agent's client the centre's hospitals and departments that take
 * bookings; GET /v1/bookings?call_id=ID the bookings made in a call.
 *
 * Like orders.c, every request runs one named statement through the
 * store's statement ops and is answered only after its transaction
 * committed: a 201 means the booking is durable. A booking is unique by
 * (centre, source, booking_no); the same fields again get the stored
 * booking (200, Idempotent-Replay), other fields under that number 409.
 * Every check that needs the database (hospital, department, call, the
 * agent's call, the time of the offer) is made inside the statement,
 * which never fails on bad input: a failed statement would fail the whole
 * group commit around it.
 *
 * The booking carries no free text; the caller is copied from the calls
 * row (hash and masked form) by the statement, and nothing here ever sees
 * or logs a number.
 */
#ifndef HOTLINE_BOOKINGS_H
#define HOTLINE_BOOKINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "ingest.h"
#include "store.h"

struct bookings;
struct metrics;
struct router;

struct bookings *bookings_new(struct metrics *metrics);
/* The store the statements run on and the router that knows agents'
 * sessions and calls (both owned by ingest; NULL detaches). */
void bookings_attach(struct bookings *b, struct store *store, struct router *router);
/* What the store must prepare on every connection; stable for the
 * program's life. */
const struct store_statement *bookings_statements(size_t *n);

/* /v1/bookings and /v1/hospitals. path is what follows "/v1/", query the
 * URL's query string (may be NULL). gateway says that http.c found the
 * gateway's signature on the body valid; otherwise token (may be NULL) must
 * be an agent's. reply is called exactly once, like ingest's. */
void bookings_request(struct bookings *b, const char *method, const char *path, const char *query,
		      bool gateway, const char *token, const char *body, size_t len,
		      ingest_reply_fn reply, void *request);

void bookings_free(struct bookings *b);

#endif
