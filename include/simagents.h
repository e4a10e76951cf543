/* simagents.h: the simulator's agents: a pool per centre (agentpool.h names
 * them) that plays doc/api.md's agent side on the caller's loop. Each agent
 * logs in (POST /v1/agents/login), keeps its stream open (GET
 * /v1/agents/stream, ssec.h) and goes ready; takes the callbacks it is
 * offered (accept, finish "reached"); after a call it wraps up (a
 * disposition when the simulator asks for one) and goes ready at once; goes
 * ready again when the broker set it not ready for missing offers; logs in
 * again when its token is refused; and logs out at the end.
 *
 * Calls reach agents through the gateway (sim.c answers the broker's
 * connect commands); this module only learns of them through the calls
 * below, so that it knows which agent to wrap up and which are free.
 *
 * Each agent sends one request at a time, from a small queue of actions, and
 * retries as simretry.h says. A refusal that means the world moved on (a
 * "ready" while the broker just offered a call, a callback someone else
 * took) is counted, not fatal; anything unexpected ends the run through
 * hooks.failed after saying what happened.
 */
#ifndef HOTLINE_SIMAGENTS_H
#define HOTLINE_SIMAGENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct httpc;
struct simagents;

/* An agent id of the gateway API: 64 characters and the NUL. */
#define SIMAGENTS_ID_MAX 65

/* A phone booking was taken by the broker: created, or (replayed) found
 * there already with the same content. */
typedef void (*simagents_booked_fn)(void *arg, bool replayed);

/* What the simulator is told. Each is called from the loop. */
struct simagents_hooks {
	/* Something fatal happened, already printed on stderr: stop the run. */
	void (*failed)(void *arg);
	/* Every agent has logged in, opened its stream and been answered its
	 * first "ready": calls may start. Called once. */
	void (*all_ready)(void *arg);
	/* simagents_finish is done: every agent has logged out. */
	void (*finished)(void *arg);
	/* Whether the simulator still drives call_id: it will then report the
	 * call's end (simagents_call_ended), and the agent wrapping it up waits
	 * for that rather than going ready on its own. */
	bool (*call_in_progress)(const char *call_id, void *arg);
	void *arg;
};

struct simagents_options {
	struct event_base *base;
	struct httpc *http;         /* the requests share the simulator's pool */
	const char *url;            /* the broker, for the streams */
	const char *const *centres; /* the centre codes of the plan */
	size_t n_centres;
	unsigned per_centre;  /* agents per centre, 1..AGENTPOOL_MAX */
	const char *prefix;   /* the pool's id prefix ("sim-") */
	const char *password; /* the pool's password, copied (and wiped on free) */
	int retry_for_s;      /* how long one request may be retried */
	struct simagents_hooks hooks;
};

struct simagents_counts {
	unsigned agents;            /* in the pools */
	unsigned logged_in;         /* agents logged in now */
	uint64_t logins;            /* successful logins, first ones and again */
	uint64_t calls;             /* calls the pool's agents answered */
	uint64_t transfers;         /* calls transferred to an agent of the pool */
	uint64_t dispositions;      /* wrap-ups recorded with a disposition */
	uint64_t callbacks;         /* callbacks accepted and finished */
	uint64_t no_answer;         /* times an agent came back from not_ready/no_answer */
	uint64_t refused;           /* requests the broker refused as moot (409) */
	uint64_t bookings;          /* phone bookings the broker took */
	uint64_t bookings_replayed; /* of which it had already */
	uint64_t retries;           /* requests tried again */
};

/* Builds the pools (no I/O yet). Returns NULL with the reason in err: an id
 * the prefix makes too long, out of memory. */
struct simagents *simagents_new(const struct simagents_options *o, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* Starts logging the agents in, a few at a time (each login is an Argon2id
 * check on the broker); hooks.all_ready follows. */
void simagents_start(struct simagents *a);

/* True when centre_index's pool has agent_id. */
bool simagents_has(const struct simagents *a, size_t centre_index, const char *agent_id);

/* The gateway was told to ring agent_id for call_id (a connect): the agent
 * is offered, so not a transfer target. */
void simagents_offered(struct simagents *a, size_t centre_index, const char *agent_id);

/* call.answered was accepted: agent_id talks. */
void simagents_call_answered(struct simagents *a, size_t centre_index, const char *agent_id);

/* Picks the agent a call answered by from_agent is transferred to: an agent
 * of the pool other than from_agent, preferring one that is ready, the
 * search starting at pick (the plan's draw, so that the choice spreads).
 * Writes it to out; -1 when the pool has no other agent. */
int simagents_transfer_target(const struct simagents *a, size_t centre_index,
			      const char *from_agent, uint64_t pick, char out[SIMAGENTS_ID_MAX])
	__attribute__((warn_unused_result));

/* call.transferred of call_id to to_agent was accepted: to_agent talks, and
 * from_agent is done with the call: the distributor counts the call as
 * from_agent's and wraps it up now, so from_agent records disposition (when
 * not NULL) and goes ready as simagents_call_ended says. */
void simagents_call_transferred(struct simagents *a, size_t centre_index, const char *from_agent,
				const char *to_agent, const char *call_id, const char *disposition);

/* call.ended was accepted: agent_id (the last to talk) wraps up, recording
 * disposition when it is not NULL (no category: the export must equal the
 * profile), then goes ready, ending the wrap-up early. The disposition is
 * sent before "ready": the broker takes it for the agent's last call only. */
void simagents_call_ended(struct simagents *a, size_t centre_index, const char *agent_id,
			  const char *call_id, const char *disposition);

/* agent_id of centre_index's pool, talking on call_id, makes a phone booking
 * there: POST /v1/bookings with body (doc/bookings.md) and its token, after
 * whatever it has queued, retried as simretry.h says and after a new login
 * when its token is refused. body is not copied: it must stay unchanged
 * until booked is called, once, when the broker has the booking (201, or
 * 200 for the same body again). Any other answer (409 for a number taken by
 * another booking, 422 for an unknown hospital or call) ends the run through
 * hooks.failed after saying what was refused. Returns 0, or -1 when the
 * pool has no such agent. */
int simagents_post_booking(struct simagents *a, size_t centre_index, const char *agent_id,
			   const char *call_id, const char *body, size_t body_len,
			   simagents_booked_fn booked, void *arg)
	__attribute__((warn_unused_result));

/* The calls are done: once no agent has had anything to do for a moment
 * (a callback may still be on its way), every agent logs out; then
 * hooks.finished. */
void simagents_finish(struct simagents *a);

/* Agents that are not logged in, ready and idle, for a message that says
 * what the start is waiting for: writes up to out_len bytes. */
void simagents_describe_waiting(const struct simagents *a, char *out, size_t out_len);

void simagents_counts(const struct simagents *a, struct simagents_counts *out);

/* Closes the streams and frees everything; requests still queued in the
 * pool are the pool's (free it first). Not from inside a hook. */
void simagents_free(struct simagents *a);

#endif
