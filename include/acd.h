/* acd.h: the automatic call distributor core (pure: no I/O, no clock, no
 * globals, no randomness).
 *
 * One core serves one centre; a broker serving several centres keeps one
 * core per centre, so a call is only ever offered to an agent of its own
 * centre. The broker feeds inputs (a call is waiting, an agent is ready, the
 * gateway confirmed an answer, time passed...) with the current time, and the
 * core answers with actions (offer this call to that agent, cancel an offer,
 * send a call to its overflow target, an agent changed state, create a
 * callback task, a caller's position changed). The same inputs with the same
 * times give the same actions, always.
 *
 * Times are microseconds since the epoch, like the rest of hotline.
 *
 * Queues come from the config. Inside a queue, calls wait in lanes: one lane
 * for calls that need no language beyond the queue's, and one per configured
 * language for callers who need it; an agent serves a lane when they have
 * the queue's skill, the queue's language (if any) and the lane's language
 * (if any). Ordering is the same in every lane and across lanes: crisis calls
 * first, then lower priority number, then earlier joined_at (the original
 * join time, which a callback keeps), then arrival order.
 *
 * Agent states and the inputs that move them:
 *
 *   logged_out --login--> not_ready("login") --ready--> ready --offer--> offered
 *   offered --answered--> on_call --call_ended--> wrap_up --wrap_up_s--> ready
 *   offered --failed/ring timeout--> ready, or not_ready("no_answer") after
 *           max_misses consecutive misses
 *   offered --call_gone--> ready (the caller left; not a miss)
 *   ready, wrap_up, not_ready --not_ready(reason)--> not_ready
 *   ready, wrap_up, not_ready --logout--> logged_out
 *
 * Every agent state change is reported as an ACD_ACT_AGENT_STATE action, so
 * the broker can record each transition with its time.
 *
 * Routing. A waiting call goes to the best ready agent of its lane by the
 * queue's strategy; an agent who becomes ready takes the first call, in the
 * order above, at the heads of all the lanes they serve (so crisis first,
 * then the higher-priority queue). A call that rang out or failed is not
 * offered again to the last ACD_MISSED_MAX agents who missed it while any
 * other agent is ready. Crisis calls and callbacks have no max wait.
 *
 * Positions (ACD_ACT_POSITION), bounded: a call that starts waiting is told
 * its position; after each input, in every lane whose waiting calls
 * changed, each of the first K calls (config position_updates) whose
 * position differs from the one it was last told is told again. Calls
 * further back learn theirs through acd_call_position. The estimate is
 *   estimated_wait_s = ceil(position x handle_time / staffed)
 * with handle_time the queue's average of talk plus wrap-up time, weighted
 * 1/8 towards each call that ends, and staffed the agents able to serve the
 * lane who are ready, offered, on a call or wrapping up (-1 when none).
 *
 * The clock: a now earlier than the latest one seen counts as the latest.
 */
#ifndef HOTLINE_ACD_H
#define HOTLINE_ACD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACD_ID_MAX 64     /* call and agent ids, as EVENT_ID_MAX */
#define ACD_NAME_MAX 32   /* queue, skill and language names, centre */
#define ACD_REASON_MAX 32 /* not-ready reason codes */
#define ACD_SKILLS_MAX 16 /* skills per agent, languages included */
#define ACD_LANGUAGES_MAX 7
#define ACD_LANES_MAX 64 /* queues x (1 + languages) */
#define ACD_MISSED_MAX 2 /* agents remembered per call as not having answered it */
#define ACD_POSITION_UPDATES_MAX 16
#define ACD_SKILL_LEVEL_MIN 1
#define ACD_SKILL_LEVEL_MAX 9

/* Room that acd_step needs in the action buffer for one input (for a tick:
 * for each timer it handles). */
#define ACD_ACTIONS_PER_INPUT 64

enum acd_agent_state {
	ACD_AGENT_LOGGED_OUT,
	ACD_AGENT_READY,
	ACD_AGENT_OFFERED,
	ACD_AGENT_ON_CALL,
	ACD_AGENT_WRAP_UP,
	ACD_AGENT_NOT_READY,
	ACD_AGENT_STATE_COUNT
};

enum acd_call_state { ACD_CALL_WAITING, ACD_CALL_OFFERED, ACD_CALL_CONNECTED, ACD_CALL_GONE };

enum acd_strategy {
	ACD_STRATEGY_LONGEST_IDLE, /* the agent idle longest since their last wrap-up */
	ACD_STRATEGY_FEWEST_CALLS, /* fewest calls answered today, then longest idle */
	ACD_STRATEGY_ROUND_ROBIN,  /* the next ready agent after the last one offered */
	ACD_STRATEGY_SKILL_LEVEL,  /* highest level in the queue's skill, then longest idle */
	ACD_STRATEGY_COUNT
};

enum acd_overflow {
	ACD_OVERFLOW_NONE,
	ACD_OVERFLOW_QUEUE,    /* move to another queue, keeping joined_at and priority */
	ACD_OVERFLOW_CALLBACK, /* leave the core; the broker offers the caller a callback */
	ACD_OVERFLOW_IVR,      /* leave the core; the broker sends the caller to the IVR */
	ACD_OVERFLOW_COUNT
};

struct acd_queue_config {
	const char *name;
	int priority; /* 0 is served first */
	enum acd_strategy strategy;
	const char *skill;    /* required, level >= 1 */
	const char *language; /* NULL or "": any */
	bool crisis;          /* its calls are crisis calls; no overflow allowed */
	int ring_timeout_s;   /* >= 1 */
	int wrap_up_s;        /* >= 0 */
	int max_wait_s;       /* 0: wait for ever; otherwise needs an overflow */
	enum acd_overflow overflow;
	const char *overflow_queue; /* for ACD_OVERFLOW_QUEUE */
	int max_misses;             /* >= 1: consecutive misses before not_ready("no_answer") */
	bool callback_on_abandon; /* a non-crisis caller who hangs up gets a normal callback task */
};

struct acd_config {
	const char *centre;
	const struct acd_queue_config *queues;
	size_t n_queues;
	const char *const *languages; /* languages a caller may need, beyond the queue's */
	size_t n_languages;
	int position_updates;      /* K, 0..ACD_POSITION_UPDATES_MAX: see ACD_ACT_POSITION */
	int handle_time_initial_s; /* the handle-time average before any call ended, >= 1 */
};

struct acd_skill {
	char name[ACD_NAME_MAX + 1];
	int level; /* ACD_SKILL_LEVEL_MIN..ACD_SKILL_LEVEL_MAX */
};

enum acd_input_type {
	ACD_IN_CALL_WAITING,       /* call, queue, [language, priority, crisis, joined_at] */
	ACD_IN_CALL_GONE,          /* call: the caller hung up before an agent answered */
	ACD_IN_OFFER_ANSWERED,     /* call, [agent]: the agent's leg answered */
	ACD_IN_OFFER_FAILED,       /* call, [agent]: the agent's leg could not be connected */
	ACD_IN_CALL_ENDED,         /* call: a connected call ended; its agent wraps up */
	ACD_IN_AGENT_LOGIN,        /* agent, skills */
	ACD_IN_AGENT_LOGOUT,       /* agent */
	ACD_IN_AGENT_READY,        /* agent */
	ACD_IN_AGENT_NOT_READY,    /* agent, reason */
	ACD_IN_CALLBACK_REQUESTED, /* call, queue, joined_at (original), [language, priority,
				      crisis] */
	ACD_IN_TICK,               /* time passed: ring timeouts, max waits, wrap-up ends */
	ACD_IN_NEW_DAY,            /* resets every agent's calls_today */
	ACD_IN_CALL_WITHDRAWN,     /* call: it left without the caller hanging up (answered
				      elsewhere, finished in the IVR): as call_gone, never a
				      callback task */
	ACD_IN_COUNT
};

/* One input. Strings are the caller's and are copied; NULL and "" mean
 * absent. centre, when present, must be the core's. */
struct acd_input {
	enum acd_input_type type;
	const char *centre;
	const char *call;
	const char *agent;
	const char *queue;
	const char *language;
	bool priority_set; /* otherwise the queue's priority */
	int priority;
	bool crisis;       /* a crisis queue makes every call crisis anyway */
	int64_t joined_at; /* call_waiting: 0 means now; callback_requested: required */
	const char *reason;
	const struct acd_skill *skills;
	size_t n_skills;
};

enum acd_action_type {
	ACD_ACT_OFFER,         /* call, agent, queue, ring_deadline */
	ACD_ACT_CANCEL_OFFER,  /* call, agent: the ring time passed, or the caller left */
	ACD_ACT_OVERFLOW,      /* call, queue (the one it left), overflow, target_queue */
	ACD_ACT_AGENT_STATE,   /* agent, agent_state, reason (not_ready only), at */
	ACD_ACT_CALLBACK_TASK, /* call, queue, urgent, at */
	ACD_ACT_POSITION,      /* call, queue, position (1 = next), estimated_wait_s */
	ACD_ACT_COUNT
};

/* One action. Ids are copied; queue and target_queue point into the core's
 * config and stay valid until acd_free. */
struct acd_action {
	enum acd_action_type type;
	char call[ACD_ID_MAX + 1];
	char agent[ACD_ID_MAX + 1];
	const char *queue;
	const char *target_queue;
	enum acd_overflow overflow;
	enum acd_agent_state agent_state;
	char reason[ACD_REASON_MAX + 1];
	bool urgent;
	int64_t at;
	int64_t ring_deadline;
	int position;
	int estimated_wait_s; /* -1: nobody able to serve the call is working */
};

/* The caller's action buffer: acd_step appends from items[count]. */
struct acd_actions {
	struct acd_action *items;
	size_t cap;
	size_t count;
};

/* Agent and call as the core sees them: what acd_snapshot_take gives and
 * acd_restore takes back, and what acd_agent_get / acd_call_get fill. */
struct acd_agent_record {
	char id[ACD_ID_MAX + 1];
	enum acd_agent_state state;
	char reason[ACD_REASON_MAX + 1]; /* not_ready only */
	int64_t state_since;
	int64_t idle_since;    /* end of the last wrap-up, or the login */
	int64_t wrap_up_until; /* wrap_up only */
	unsigned calls_today;
	unsigned misses; /* consecutive */
	struct acd_skill skills[ACD_SKILLS_MAX];
	size_t n_skills;
};

struct acd_call_record {
	char id[ACD_ID_MAX + 1];
	char queue[ACD_NAME_MAX + 1];
	char language[ACD_NAME_MAX + 1]; /* "" when none beyond the queue's */
	enum acd_call_state state;
	int priority;
	bool crisis;
	bool callback; /* re-enqueued by callback_requested: no max wait */
	int64_t joined_at;
	int64_t since; /* waiting: entered this queue; offered: offered; connected: answered */
	int64_t ring_deadline;                       /* offered only */
	char agent[ACD_ID_MAX + 1];                  /* offered or connected */
	char missed[ACD_MISSED_MAX][ACD_ID_MAX + 1]; /* most recent first; "" when none */
	int reported_position;                       /* last position action, 0 if none */
};

struct acd_queue_record {
	char name[ACD_NAME_MAX + 1];
	int64_t handle_time_ms;                /* the average; 0: the config's initial value */
	char round_robin_last[ACD_ID_MAX + 1]; /* the agent last offered a call; "" if none */
};

/* Calls appear in arrival order, agents in the order the core first saw them. */
struct acd_snapshot {
	struct acd_agent_record *agents;
	size_t n_agents;
	struct acd_call_record *calls;
	size_t n_calls;
	struct acd_queue_record *queues;
	size_t n_queues;
};

struct acd;

/* Creates a core from cfg (copied). Returns 0, or -EINVAL with a sentence
 * in err saying which queue or key is wrong and why, or -ENOMEM. */
int acd_new(const struct acd_config *cfg, struct acd **out, char *err, size_t err_len)
	__attribute__((warn_unused_result));
void acd_free(struct acd *a);

/* Applies one input at time now (never earlier than the previous now) and
 * appends its actions to out.
 *
 * Returns 0; or, with nothing changed and nothing appended:
 *   -ENOBUFS  fewer than ACD_ACTIONS_PER_INPUT free items in out
 *   -ENOENT   unknown call or agent
 *   -EEXIST   call_waiting / callback_requested for a call the core holds
 *   -EALREADY login of an agent who is logged in
 *   -EBUSY    logout or not_ready of an agent offered a call or on a call
 *   -EINVAL   anything else illegal now (wrong state, unknown queue or
 *             language, missing field, answer from another agent, ...)
 *   -EXDEV    a centre other than the core's
 *   -ENOMEM
 * A tick handles due timers in time order while out has room for another;
 * it returns -EAGAIN when it stopped for room with timers still due (the
 * actions appended are valid: call it again with room). acd_next_deadline
 * says when the next tick is needed. A reset day or ready with nothing to
 * do appends nothing. */
int acd_step(struct acd *a, const struct acd_input *in, int64_t now, struct acd_actions *out)
	__attribute__((warn_unused_result));

/* The earliest time a tick has work, or INT64_MAX. */
int64_t acd_next_deadline(const struct acd *a);

/* A waiting call's position (1 = next in its lane) and estimated wait.
 * Returns 0, -ENOENT, or -EINVAL when the call is not waiting. The cost is
 * proportional to the position. */
int acd_call_position(const struct acd *a, const char *call, int *position, int *estimated_wait_s)
	__attribute__((warn_unused_result));

int acd_agent_get(const struct acd *a, const char *agent, struct acd_agent_record *out)
	__attribute__((warn_unused_result));
int acd_call_get(const struct acd *a, const char *call, struct acd_call_record *out)
	__attribute__((warn_unused_result));

/* Calls the core holds (waiting, offered or connected), and waiting ones in a queue. */
size_t acd_call_count(const struct acd *a);
size_t acd_waiting_count(const struct acd *a, const char *queue);

/* Copies the whole state into out (allocated; acd_snapshot_free releases it).
 * Returns 0 or -ENOMEM. */
int acd_snapshot_take(const struct acd *a, struct acd_snapshot *out)
	__attribute__((warn_unused_result));
void acd_snapshot_free(struct acd_snapshot *s);

/* Builds a core from cfg and a snapshot, as after a restart: positions,
 * agent states, offers in progress and wrap-ups come back, and the restored
 * core then decides exactly as the one the snapshot was taken from. A
 * snapshot rebuilt from stored rows may leave out what was not stored:
 * queue records (the handle-time average then starts from the config, the
 * round robin from the first agent), missed lists and reported positions.
 * Ready agents who could serve a waiting call (a snapshot not taken by
 * acd_snapshot_take may hold some) get their offers on the first tick.
 * Returns 0, or -EINVAL with err naming the record and what is wrong
 * (unknown queue, an offered call whose agent is not offered, ...), or
 * -ENOMEM. */
int acd_restore(const struct acd_config *cfg, const struct acd_snapshot *snap, struct acd **out,
		char *err, size_t err_len) __attribute__((warn_unused_result));

const char *acd_agent_state_name(enum acd_agent_state s);
const char *acd_call_state_name(enum acd_call_state s);
const char *acd_strategy_name(enum acd_strategy s);
const char *acd_overflow_name(enum acd_overflow o);
const char *acd_action_type_name(enum acd_action_type t);
int acd_strategy_from_name(const char *name, enum acd_strategy *out)
	__attribute__((warn_unused_result));
int acd_overflow_from_name(const char *name, enum acd_overflow *out)
	__attribute__((warn_unused_result));

#endif
