/* router.h: the live ACD of the broker. It holds one pure ACD core per
 * centre (acd.h) and everything around it that does I/O: agents' sessions
 * and requests, the gateway's command streams and the agents' streams (SSE),
 * the rows that make routing survive a restart, callback tasks, and the
 * Redis view of queues and agents.
 *
 * The rule it keeps: whatever it tells the outside world (an answer to an
 * agent, a command to the gateway, an offer on an agent's stream) follows
 * the commit of the rows that record it. Its inputs are applied to the core
 * at once, in the order the broker accepts them; the rows go through the
 * store's queue in that same order (statement ops run on one connection);
 * the effects go out when those ops commit, and only if they still hold
 * then (an offer cancelled meanwhile is never sent). When a commit fails,
 * the store rebuilds memory from PostgreSQL, and the router with it.
 *
 * Time: the broker's clock (timeutil_now_usec) drives the cores: queue
 * order, ring timeouts, wrap-ups and max waits. Gateway event times are
 * only recorded (calls.offered_at) and used for caller histories.
 */
#ifndef HOTLINE_ROUTER_H
#define HOTLINE_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calls.h"
#include "config.h"
#include "ingest.h"
#include "queues.h"
#include "store.h"

struct event_base;
struct evhttp_request;
struct mirror;
struct metrics;
struct router;

/* The queue place of a call just offered, for the gateway's answer. */
struct router_position {
	bool waiting; /* false: the call does not wait for an agent (IVR) */
	int position;
	int estimated_wait_s;
};

/* qf is taken over (freed by router_free). */
struct router *router_new(struct event_base *base, const struct config *cfg,
			  struct queues_file *qf, struct metrics *metrics);
/* The store and mirror the router writes to (owned by ingest). */
void router_attach(struct router *r, struct store *store, struct mirror *mirror);

/* Called when the ACD moves a call to another queue (overflow), so that the
 * call's record in memory, which its final row is written from, says so. */
typedef void (*router_queue_fn)(void *arg, const char *centre, const char *call_id,
				const char *queue);
void router_on_queue_change(struct router *r, router_queue_fn fn, void *arg);

/* What the store must prepare on every connection and read at recovery;
 * stable for the router's life. */
const struct store_statement *router_statements(size_t *n);
const struct store_query *router_recovery_queries(struct router *r, size_t *n);

/* --- from the ingest path ---------------------------------------------------
 * Called while an event is accepted, before its op is submitted; the rows
 * they produce wait for router_flush, which ingest calls right after it
 * submitted the event's op, so that they follow the event in the store. */

/* A new call: a caller in crisis in the last days goes to the crisis queue,
 * and a queue the config does not know is replaced by the default one. */
void router_route_offer(struct router *r, struct call *c);
/* An accepted event changed call c (its state after the event). */
void router_call_event(struct router *r, const struct call *c, const struct call_event *ev,
		       struct router_position *pos);
void router_flush(struct router *r);
/* An offer that PostgreSQL refused (the call existed already): memory had
 * taken it for a new call; the core forgets it without a trace. */
void router_call_withdrawn(struct router *r, const char *centre, const char *call_id);

/* --- recovery (called by ingest's store hooks) ------------------------------ */
int router_recover_begin(struct router *r);
int router_recover_centre(struct router *r, const char *code);
int router_recover_rows(struct router *r, size_t index, const struct store_rows *rows);
/* Each call in progress after its events were replayed. */
int router_recover_call(struct router *r, const struct call *c);
/* Builds the cores; tells open streams where things stand. */
int router_recover_done(struct router *r);
/* Rewrites the Redis view (mirror resync). */
void router_mirror_resync(struct router *r);

/* --- HTTP (http.c) ------------------------------------------------------------
 * Answers go through reply exactly once, like ingest's. token is the bearer
 * token the request presented (NULL when none). */
void router_login(struct router *r, const char *body, size_t len, ingest_reply_fn reply,
		  void *request);
void router_agent_post(struct router *r, const char *action, const char *token,
		       const char *body, size_t len, ingest_reply_fn reply, void *request);
void router_agent_me(struct router *r, const char *token, ingest_reply_fn reply, void *request);
/* Supervisor views of a centre; signed says the gateway secret signed the
 * request, else token must be an agent of that centre. */
void router_centre_get(struct router *r, const char *centre, const char *what, bool signed_ok,
		       const char *token, ingest_reply_fn reply, void *request);
/* Streams: take over req (answered here, also on error). */
void router_open_gateway_stream(struct router *r, const char *centre,
				struct evhttp_request *req);
void router_open_agent_stream(struct router *r, const char *token, struct evhttp_request *req);

/* Who a bearer token stands for, for other modules' APIs. Returns 0, or -1
 * for a token that is unknown or expired. */
struct router_identity {
	char centre[EVENT_CENTRE_MAX + 1];
	char agent[EVENT_ID_MAX + 1];
	bool supervisor;
};
int router_identify(struct router *r, const char *token, struct router_identity *out)
	__attribute__((warn_unused_result));

/* Whether the ACD's memory holds agent of centre as talking on call_id or
 * wrapping it up, or as having talked on it last: the calls row names its
 * agent only once the call has ended, and a booking is made during it. */
bool router_agent_handles_call(struct router *r, const char *centre, const char *agent,
			       const char *call_id);

void router_set_config(struct router *r, const struct config *cfg);
/* Ends every stream (shutdown). */
void router_close_streams(struct router *r);
size_t router_agents_logged_in(const struct router *r);
void router_free(struct router *r);

#endif
