/* test_sim.c: hotline-sim replay against a fake broker in the test process.
 *
 * The fake speaks doc/api.md's gateway and agent protocol with a toy
 * distributor that keeps the broker's rules (router.c): the first ready agent
 * of the centre gets the call (or a callback, first), and the gateway's
 * command stream is told to connect it; a transfer ends the answering
 * agent's part (it wraps up, the target is not the distributor's business);
 * a disposition is taken for the agent's current or last call only.
 * It checks every request as it comes (signatures, tokens, that an answer
 * names the agent the call was offered to, that a disposition comes from an
 * agent who handled the call and corrects no category) and stirs things up:
 * 503s, repeated connects, an offer moved to another agent, a refused
 * answer, an agent set not ready for missed offers, every stream dropped
 * once, callbacks for abandoned calls. Afterwards the events it accepted
 * must be the plan's, byte for byte, but for the agents the fake chose.
 * It also takes the 12345 platforms' work orders (doc/workorders.md), each
 * checked against its platform's secret, answering some 503 first and
 * losing the answer to one it took in; they too must be the plan's. And it
 * takes the phone bookings (doc/bookings.md) the agents make with their
 * tokens (or the gateway, signed) while they talk on the call, with 503s
 * and a lost answer too; they must be the bookings plan's, byte for byte,
 * while the other systems' daily batches go into a real PostgreSQL. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "agentpool.h"
#include "auth.h"
#include "bookplan.h"
#include "evserver.h"
#include "harness.h"
#include "profile.h"
#include "replay.h"
#include "strmap.h"
#include "timeutil.h"

extern char **environ;

#define SECRET "fake-gateway-secret-0123456789abcdef"
#define CITY_SECRET "fake-city-12345-secret-0123456789"
#define PROVINCE_SECRET "fake-province-12345-secret-987654"
#define PASSWORD "Pool password, 2019!"
#define PROFILE "tests/data/edge-2020.yaml"
#define SEED "20"
#define AGENTS 3
#define MAX_CENTRES 4
#define MAX_STREAMS 512
#define MAX_CALLBACKS 64
#define ID_MAX 65
#define SIM_LIMIT_S 150

/* --- the fake broker's world ------------------------------------------------ */

enum agent_state { A_LOGGED_OUT, A_NOT_READY, A_READY, A_OFFERED, A_ON_CALL, A_WRAP_UP };
static const char *const agent_state_names[] = {"logged_out", "not_ready", "ready",
						"offered",    "on_call",   "wrap_up"};

enum stream_kind { S_GATEWAY, S_AGENT };

struct fake;

struct stream {
	struct evserver_stream sse;
	enum stream_kind kind;
	size_t centre;
};

struct agent {
	size_t centre;
	char id[ID_MAX];
	char token[96];
	enum agent_state state;
	char reason[32];
	char call_id[ID_MAX];   /* offered, on call or wrapping up */
	char last_call[ID_MAX]; /* the last call (or callback) it talked on */
	bool callback;          /* that is a callback */
	struct stream *stream;
	int readies;
	bool set_no_answer; /* the fake set it not ready for missed offers */
	bool ready_again;   /* and the simulator made it ready again */
};

enum call_state { C_QUEUED, C_OFFERED, C_TALKING, C_IVR, C_DONE };

struct call {
	char id[ID_MAX];
	size_t centre;
	enum call_state state;
	struct agent *offered;
	struct agent *talking;
	char answered_by[ID_MAX];
	char transferred_to[ID_MAX];
	char *bodies[REPLAY_MAX_EVENTS]; /* the accepted events, as received */
	size_t n_bodies;
	struct call *next_queued;
};

struct callback {
	char call_id[ID_MAX];
	size_t centre;
	struct agent *agent;
	enum { CB_PENDING, CB_OFFERED, CB_ACCEPTED, CB_DONE } state;
};

struct fake {
	struct event_base *base;
	struct evhttp *http;
	int port;
	const char *password;
	bool never_offer; /* the distributor never offers a call */

	const char *centres[MAX_CENTRES];
	size_t n_centres;
	struct agent agents[MAX_CENTRES * AGENTS];
	struct strmap *calls;       /* call id -> struct call */
	struct strmap *events;      /* event id -> accepted body */
	struct strmap *failed_once; /* event ids answered 503 once */
	struct call *queue_head[MAX_CENTRES];
	struct call *queue_tail[MAX_CENTRES];
	struct callback callbacks[MAX_CALLBACKS];
	size_t n_callbacks;
	struct stream streams[MAX_STREAMS];
	size_t n_streams;

	int events_posted;
	int events_accepted;
	int events_503;
	struct strmap *orders; /* "<platform>/<external_no>" -> accepted body */
	int orders_posted;     /* requests */
	int orders_503;        /* answered 503 before their first try was kept */
	int orders_lost;       /* taken in, then answered 503 as if the answer was lost */
	int orders_replayed;   /* answered 200 Idempotent-Replay */
	struct strmap *bookings; /* "<source>/<booking_no>" -> accepted body */
	int bookings_posted;     /* requests */
	int bookings_503;        /* answered 503 before their first try was kept */
	int bookings_lost;       /* taken, then answered 503 as if the answer was lost */
	int bookings_replayed;   /* answered 200 Idempotent-Replay */
	int bookings_relogins;   /* answered 401: the agent's session had ended */
	int offers;
	int connects_sent;
	int gateway_streams_opened[MAX_CENTRES];
	int moved_offers;
	int answers_refused;
	int dispositions;
	int logins;
	int logouts;
	int dials;
	bool dropped;
	bool kicked;  /* an agent was found logged out of the distributor */
	bool revoked; /* an agent's token was revoked */
	int errors;
	char first_error[1024];
};

static void fake_error(struct fake *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fake_error(struct fake *f, const char *fmt, ...)
{
	va_list ap;

	if (f->errors++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(f->first_error, sizeof f->first_error, fmt, ap);
	va_end(ap);
}

/* --- HTTP and SSE ------------------------------------------------------------- */

static void reply_json(struct evhttp_request *req, int status, json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT);
	struct evbuffer *b = evbuffer_new();

	evbuffer_add(b, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	evhttp_send_reply(req, status, status == 200 ? "OK" : "Refused", b);
	evbuffer_free(b);
	free(text);
	json_decref(o);
}

static void reply_error(struct evhttp_request *req, int status, const char *code)
{
	reply_json(req, status,
		   json_pack("{s:{s:i, s:s, s:s}}", "error", "status", status, "code", code,
			     "message", code));
}

static struct stream *stream_open(struct fake *f, struct evhttp_request *req, enum stream_kind kind,
				  size_t centre)
{
	ck_assert_uint_lt(f->n_streams, MAX_STREAMS);
	struct stream *st = &f->streams[f->n_streams++];
	st->kind = kind;
	st->centre = centre;
	evserver_stream_start(&st->sse, req);
	return st;
}

static void stream_send(struct stream *st, const char *event, json_t *data)
{
	if (st != NULL && st->sse.req != NULL) {
		char *text = json_dumps(data, JSON_COMPACT), *message;
		int n = asprintf(&message, ": keep-alive\nevent: %s\ndata: %s\n\n", event, text);
		ck_assert_int_gt(n, 0);
		evserver_stream_send(&st->sse, message, (size_t)n);
		free(message);
		free(text);
	}
	json_decref(data);
}

/* Sends to every open command stream of the centre. */
static void gateway_send(struct fake *f, size_t centre, const char *event, json_t *data)
{
	for (size_t i = 0; i < f->n_streams; i++) {
		struct stream *st = &f->streams[i];
		if (st->kind == S_GATEWAY && st->centre == centre && st->sse.req != NULL)
			stream_send(st, event, json_incref(data));
	}
	json_decref(data);
}

static void agent_set_state(struct agent *a, enum agent_state state, const char *reason,
			    const char *call_id)
{
	a->state = state;
	snprintf(a->reason, sizeof a->reason, "%s", reason != NULL ? reason : "");
	snprintf(a->call_id, sizeof a->call_id, "%s", call_id != NULL ? call_id : "");
	stream_send(a->stream, "state",
		    json_pack("{s:s, s:s?, s:s, s:s?}", "state", agent_state_names[state], "reason",
			      reason, "since", "2024-01-01T00:00:00+08:00", "call_id", call_id));
}

/* --- the toy distributor -------------------------------------------------------- */

static struct agent *ready_agent(struct fake *f, size_t centre, const struct agent * not )
{
	for (size_t i = centre * AGENTS; i < (centre + 1) * AGENTS; i++)
		if (f->agents[i].state == A_READY && &f->agents[i] != not )
			return &f->agents[i];
	return NULL;
}

static void send_connect(struct fake *f, struct call *c)
{
	json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}", "call_id", c->id, "agent",
				 c->offered->id, "extension", "7001", "queue", "general",
				 "ring_timeout_s", 20, "ring_deadline",
				 "2024-01-01T00:00:20+08:00");
	f->connects_sent++;
	/* Every fifth connect comes twice, as after a reconnect. */
	if (f->connects_sent % 5 == 0)
		gateway_send(f, c->centre, "connect", json_incref(data));
	gateway_send(f, c->centre, "connect", data);
}

static void offer_call(struct fake *f, struct call *c, struct agent *a)
{
	c->state = C_OFFERED;
	c->offered = a;
	a->callback = false;
	agent_set_state(a, A_OFFERED, NULL, c->id);
	stream_send(a->stream, "offer",
		    json_pack("{s:s, s:s, s:s, s:b}", "kind", "call", "call_id", c->id, "queue",
			      "general", "urgent", 0));
	send_connect(f, c);
}

static void dispatch(struct fake *f, size_t centre)
{
	struct agent *a;

	while (!f->never_offer && (a = ready_agent(f, centre, NULL)) != NULL) {
		struct callback *cb = NULL;
		for (size_t i = 0; i < f->n_callbacks && cb == NULL; i++)
			if (f->callbacks[i].centre == centre && f->callbacks[i].state == CB_PENDING)
				cb = &f->callbacks[i];
		if (cb != NULL) {
			cb->state = CB_OFFERED;
			cb->agent = a;
			a->callback = true;
			agent_set_state(a, A_OFFERED, NULL, cb->call_id);
			stream_send(a->stream, "offer",
				    json_pack("{s:s, s:s, s:s, s:b}", "kind", "callback", "call_id",
					      cb->call_id, "queue", "crisis", "urgent", 1));
			continue;
		}
		struct call *c = f->queue_head[centre];
		if (c == NULL)
			return;
		f->queue_head[centre] = c->next_queued;
		if (f->queue_head[centre] == NULL)
			f->queue_tail[centre] = NULL;
		offer_call(f, c, a);
		f->offers++;
		/* From the seventh on, the first offer made while another agent
		 * is ready rings out at once and goes to that agent. */
		struct agent *b = ready_agent(f, centre, a);
		if (f->offers >= 7 && f->moved_offers == 0 && b != NULL) {
			gateway_send(f, centre, "cancel",
				     json_pack("{s:s, s:s, s:s}", "call_id", c->id, "agent", a->id,
					       "reason", "ring_timeout"));
			stream_send(a->stream, "offer_cancelled",
				    json_pack("{s:s, s:s}", "call_id", c->id, "reason",
					      "ring_timeout"));
			offer_call(f, c, b);
			agent_set_state(a, A_READY, NULL, NULL);
			f->moved_offers++;
		}
	}
}

/* --- the gateway's events ------------------------------------------------------------ */

static size_t centre_index(struct fake *f, const char *code)
{
	for (size_t i = 0; code != NULL && i < f->n_centres; i++)
		if (strcmp(f->centres[i], code) == 0)
			return i;
	return SIZE_MAX;
}

static struct agent *find_agent(struct fake *f, size_t centre, const char *id)
{
	for (size_t i = centre * AGENTS; id != NULL && i < (centre + 1) * AGENTS; i++)
		if (strcmp(f->agents[i].id, id) == 0)
			return &f->agents[i];
	return NULL;
}

/* The caller left before an agent answered: the offer, if any, is cancelled. */
static void call_leaves_queue(struct fake *f, struct call *c)
{
	if (c->state == C_OFFERED) {
		gateway_send(f, c->centre, "cancel",
			     json_pack("{s:s, s:s, s:s}", "call_id", c->id, "agent", c->offered->id,
				       "reason", "caller_left"));
		stream_send(c->offered->stream, "offer_cancelled",
			    json_pack("{s:s, s:s}", "call_id", c->id, "reason", "caller_left"));
		agent_set_state(c->offered, A_READY, NULL, NULL);
		c->offered = NULL;
		return;
	}
	struct call **p = &f->queue_head[c->centre];
	struct call *prev = NULL;
	while (*p != NULL && *p != c) {
		prev = *p;
		p = &(*p)->next_queued;
	}
	if (*p == c) {
		*p = c->next_queued;
		if (f->queue_tail[c->centre] == c)
			f->queue_tail[c->centre] = prev;
	}
}

/* Applies an event to the call. Returns 0, or an HTTP status after replying. */
static int apply_event(struct fake *f, struct evhttp_request *req, json_t *ev, struct call **out)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *id = json_string_value(json_object_get(ev, "call_id"));
	size_t centre = centre_index(f, json_string_value(json_object_get(ev, "centre")));
	struct call *c = id != NULL ? strmap_get(f->calls, id, strlen(id)) : NULL;

	if (type == NULL || id == NULL || centre == SIZE_MAX) {
		fake_error(f, "an event without type, call_id or a known centre");
		reply_error(req, 400, "invalid_field");
		return 400;
	}
	if (strcmp(type, "call.offered") == 0) {
		if (c != NULL) {
			reply_error(req, 409, "call_exists");
			return 409;
		}
		c = calloc(1, sizeof *c);
		snprintf(c->id, sizeof c->id, "%s", id);
		c->centre = centre;
		ck_assert_int_eq(strmap_put(f->calls, id, strlen(id), c), 0);
		if (f->queue_tail[centre] != NULL)
			f->queue_tail[centre]->next_queued = c;
		else
			f->queue_head[centre] = c;
		f->queue_tail[centre] = c;
		*out = c;
		return 0;
	}
	if (c == NULL) {
		reply_error(req, 404, "unknown_call");
		return 404;
	}
	*out = c;
	const char *agent = json_string_value(json_object_get(ev, "agent"));
	if (strcmp(type, "call.answered") == 0) {
		if (c->state != C_OFFERED || agent == NULL || strcmp(agent, c->offered->id) != 0) {
			fake_error(f, "call %s answered by %s, but offered to %s", id,
				   agent ? agent : "nobody",
				   c->offered ? c->offered->id : "nobody");
			reply_error(req, 409, "illegal_transition");
			return 409;
		}
		if (f->events_accepted >= 30 && f->answers_refused == 0) {
			/* As if the offer had rung out just then: refused, offered again. */
			f->answers_refused++;
			reply_error(req, 409, "illegal_transition");
			send_connect(f, c);
			return 409;
		}
		c->state = C_TALKING;
		c->talking = c->offered;
		snprintf(c->answered_by, sizeof c->answered_by, "%s", agent);
		snprintf(c->talking->last_call, sizeof c->talking->last_call, "%s", c->id);
		agent_set_state(c->talking, A_ON_CALL, NULL, c->id);
		return 0;
	}
	if (strcmp(type, "call.transferred") == 0) {
		const char *to = json_string_value(json_object_get(ev, "to_agent"));
		struct agent *target = find_agent(f, centre, to);
		if (c->state != C_TALKING || target == NULL || strcmp(to, c->answered_by) == 0) {
			fake_error(f, "call %s transferred to %s: not another agent of the pool",
				   id, to ? to : "nobody");
			reply_error(req, 409, "illegal_transition");
			return 409;
		}
		/* As the broker does: the answering agent is done and wraps up;
		 * the target is the switch's business, not the distributor's. */
		if (c->talking != NULL)
			agent_set_state(c->talking, A_WRAP_UP, NULL, c->id);
		c->talking = NULL;
		snprintf(c->transferred_to, sizeof c->transferred_to, "%s", to);
		return 0;
	}
	if (strcmp(type, "call.ivr_completed") == 0 || strcmp(type, "call.abandoned") == 0) {
		if (c->state != C_QUEUED && c->state != C_OFFERED) {
			reply_error(req, 409, "illegal_transition");
			return 409;
		}
		call_leaves_queue(f, c);
		c->state = strcmp(type, "call.abandoned") == 0 ? C_DONE : C_IVR;
		/* Every abandoned caller gets a callback. */
		if (c->state == C_DONE && f->n_callbacks < MAX_CALLBACKS) {
			struct callback *cb = &f->callbacks[f->n_callbacks++];
			snprintf(cb->call_id, sizeof cb->call_id, "%s", id);
			cb->centre = centre;
		}
		return 0;
	}
	if (strcmp(type, "call.ended") == 0) {
		if (c->state != C_TALKING && c->state != C_IVR) {
			reply_error(req, 409, "illegal_transition");
			return 409;
		}
		if (c->talking != NULL && c->talking->state == A_ON_CALL &&
		    strcmp(c->talking->call_id, c->id) == 0)
			agent_set_state(c->talking, A_WRAP_UP, NULL, c->id);
		c->state = C_DONE;
		return 0;
	}
	reply_error(req, 422, "unknown_event_type");
	return 422;
}

static void on_event(struct fake *f, struct evhttp_request *req, const char *body, size_t len)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	if (auth_verify(SECRET, evhttp_find_header(in, AUTH_HEADER_TIMESTAMP),
			evhttp_find_header(in, AUTH_HEADER_SIGNATURE), body, len,
			(int64_t)time(NULL), 300) != AUTH_OK) {
		fake_error(f, "an unsigned event");
		reply_error(req, 401, "unauthorised");
		return;
	}
	json_t *ev = json_loadb(body, len, 0, NULL);
	const char *event_id = json_string_value(json_object_get(ev, "event_id"));
	const char *call_id = json_string_value(json_object_get(ev, "call_id"));
	if (event_id == NULL || call_id == NULL) {
		fake_error(f, "an event without ids: %.*s", (int)len, body);
		reply_error(req, 400, "missing_field");
		json_decref(ev);
		return;
	}
	const char *stored = strmap_get(f->events, event_id, strlen(event_id));
	json_t *answer = json_pack("{s:s, s:s, s:s, s:s}", "event_id", event_id, "call_id", call_id,
				   "state", "queued", "queue", "general");
	if (stored != NULL) {
		if (strlen(stored) != len || memcmp(stored, body, len) != 0) {
			fake_error(f, "event %s sent again with another body", event_id);
			reply_error(req, 409, "event_id_conflict");
			json_decref(answer);
		} else {
			evhttp_add_header(evhttp_request_get_output_headers(req),
					  "Idempotent-Replay", "true");
			reply_json(req, 200, answer);
		}
		json_decref(ev);
		return;
	}
	/* Every 37th event fails once: retried with the same body. */
	if (++f->events_posted % 37 == 0 &&
	    strmap_get(f->failed_once, event_id, strlen(event_id)) == NULL) {
		ck_assert_int_eq(strmap_put(f->failed_once, event_id, strlen(event_id), f), 0);
		f->events_503++;
		reply_error(req, 503, "store_unavailable");
		json_decref(answer);
		json_decref(ev);
		return;
	}
	struct call *c = NULL;
	if (apply_event(f, req, ev, &c) != 0) {
		json_decref(answer);
		json_decref(ev);
		return;
	}
	char *copy = strndup(body, len);
	ck_assert_int_eq(strmap_put(f->events, event_id, strlen(event_id), copy), 0);
	ck_assert_uint_lt(c->n_bodies, REPLAY_MAX_EVENTS);
	c->bodies[c->n_bodies++] = copy;
	f->events_accepted++;
	reply_json(req, 200, answer);
	json_decref(ev);
	dispatch(f, c->centre);
	/* Every stream is dropped once, as when the broker restarts. */
	if (f->events_accepted == 150 && !f->dropped) {
		f->dropped = true;
		for (size_t i = 0; i < f->n_streams; i++)
			evserver_stream_end(&f->streams[i].sse);
		/* And the sixth agent's session ends: it must log in again. */
		f->agents[5].token[0] = '\0';
		f->revoked = true;
	}
}

/* --- the 12345 platforms' work orders ------------------------------------------ */

static const char *platform_secret(const char *platform)
{
	if (platform != NULL && strcmp(platform, "city_12345") == 0)
		return CITY_SECRET;
	if (platform != NULL && strcmp(platform, "province_12345") == 0)
		return PROVINCE_SECRET;
	return NULL;
}

/* POST /v1/workorders as the broker answers it: 201 for a new order, 200
 * with Idempotent-Replay for one taken in before with the same body, 409
 * for another body. Every third new order is answered 503 first, and the
 * fifth is taken in but answered 503, as if the answer was lost. */
static void on_order(struct fake *f, struct evhttp_request *req, const char *body, size_t len)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *platform = evhttp_find_header(in, "X-Hotline-Platform");
	const char *secret = platform_secret(platform);

	f->orders_posted++;
	if (secret == NULL || auth_verify(secret, evhttp_find_header(in, AUTH_HEADER_TIMESTAMP),
					  evhttp_find_header(in, AUTH_HEADER_SIGNATURE), body, len,
					  (int64_t)time(NULL), 300) != AUTH_OK) {
		fake_error(f, "a work order not signed by its platform %s",
			   platform ? platform : "?");
		reply_error(req, 401, "unauthorised");
		return;
	}
	json_t *o = json_loadb(body, len, 0, NULL);
	const char *external_no = json_string_value(json_object_get(o, "external_no"));
	if (external_no == NULL) {
		fake_error(f, "a work order without external_no: %.*s", (int)len, body);
		reply_error(req, 400, "missing_field");
		json_decref(o);
		return;
	}
	char key[128];
	snprintf(key, sizeof key, "%s/%s", platform, external_no);
	const char *stored = strmap_get(f->orders, key, strlen(key));
	json_t *answer = json_pack("{s:s, s:s, s:s}", "external_no", external_no, "source",
				   platform, "stage", "received");
	if (stored != NULL) {
		if (strlen(stored) != len || memcmp(stored, body, len) != 0) {
			fake_error(f, "work order %s sent again with another body", key);
			reply_error(req, 409, "external_no_conflict");
			json_decref(answer);
		} else {
			f->orders_replayed++;
			evhttp_add_header(evhttp_request_get_output_headers(req),
					  "Idempotent-Replay", "true");
			reply_json(req, 200, answer);
		}
		json_decref(o);
		return;
	}
	if (f->orders_posted % 3 == 0) {
		f->orders_503++;
		reply_error(req, 503, "store_unavailable");
		json_decref(answer);
		json_decref(o);
		return;
	}
	ck_assert_int_eq(strmap_put(f->orders, key, strlen(key), strndup(body, len)), 0);
	if (strmap_count(f->orders) == 5) {
		f->orders_lost++;
		reply_error(req, 503, "store_unavailable");
		json_decref(answer);
	} else {
		reply_json(req, 201, answer);
	}
	json_decref(o);
}

/* --- the agents' requests ------------------------------------------------------------------ */

static struct agent *agent_of(struct fake *f, struct evhttp_request *req)
{
	const char *auth =
		evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0)
		return NULL;
	for (size_t i = 0; i < f->n_centres * AGENTS; i++)
		if (f->agents[i].token[0] != '\0' && strcmp(f->agents[i].token, auth + 7) == 0)
			return &f->agents[i];
	return NULL;
}

static struct callback *callback_of(struct fake *f, const struct agent *a, const char *id)
{
	for (size_t i = 0; id != NULL && i < f->n_callbacks; i++)
		if (f->callbacks[i].agent == a && strcmp(f->callbacks[i].call_id, id) == 0)
			return &f->callbacks[i];
	return NULL;
}

static void on_login(struct fake *f, struct evhttp_request *req, json_t *body)
{
	size_t centre = centre_index(f, json_string_value(json_object_get(body, "centre")));
	struct agent *a =
		centre == SIZE_MAX ?
			NULL :
			find_agent(f, centre, json_string_value(json_object_get(body, "agent_id")));
	const char *password = json_string_value(json_object_get(body, "password"));

	if (a == NULL || password == NULL || strcmp(password, f->password) != 0) {
		reply_error(req, 401, "bad_credentials");
		return;
	}
	f->logins++;
	snprintf(a->token, sizeof a->token, "tok-%s-%s-%d", f->centres[centre], a->id, f->logins);
	if (a->state == A_LOGGED_OUT)
		agent_set_state(a, A_NOT_READY, "login", NULL);
	reply_json(req, 200,
		   json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s}}", "token", a->token,
			     "expires_at", "2024-01-02T00:00:00+08:00", "agent", "agent_id", a->id,
			     "name", a->id, "extension", "7001", "state", "state",
			     agent_state_names[a->state]));
}

static void on_agent_request(struct fake *f, struct evhttp_request *req, const char *path,
			     json_t *body)
{
	struct agent *a = agent_of(f, req);
	const char *id = json_string_value(json_object_get(body, "callback_id"));

	if (a == NULL) {
		reply_error(req, 401, "unauthorised");
		return;
	}
	bool busy = a->state == A_OFFERED || a->state == A_ON_CALL;
	if (strcmp(path, "/v1/agents/state") == 0) {
		const char *state = json_string_value(json_object_get(body, "state"));
		if (state == NULL || strcmp(state, "ready") != 0)
			fake_error(f, "agent %s asked for state %s", a->id, state ? state : "?");
		if (busy) {
			reply_error(req, 409, "illegal_state");
			return;
		}
		/* After the streams dropped, the fifth agent is found logged out of
		 * the distributor though its session is valid. */
		if (f->dropped && a == &f->agents[4] && !f->kicked) {
			f->kicked = true;
			agent_set_state(a, A_LOGGED_OUT, NULL, NULL);
			reply_error(req, 409, "not_logged_in");
			return;
		}
		a->readies++;
		if (a->set_no_answer)
			a->ready_again = true;
		agent_set_state(a, A_READY, NULL, NULL);
		reply_json(req, 200, json_pack("{s:s}", "state", "ready"));
		/* The second agent of the first centre misses offers once. */
		if (a == &f->agents[1] && a->readies == 3) {
			a->set_no_answer = true;
			agent_set_state(a, A_NOT_READY, "no_answer", NULL);
		}
		dispatch(f, a->centre);
	} else if (strcmp(path, "/v1/agents/wrap-up") == 0) {
		const char *call_id = json_string_value(json_object_get(body, "call_id"));
		struct call *c = call_id ? strmap_get(f->calls, call_id, strlen(call_id)) : NULL;
		if (c == NULL || strcmp(c->answered_by, a->id) != 0 ||
		    (strcmp(a->call_id, call_id) != 0 && strcmp(a->last_call, call_id) != 0)) {
			fake_error(f, "wrap-up of %s by %s, whose last call is %s",
				   call_id ? call_id : "?", a->id, a->last_call);
			reply_error(req, 409, "not_your_call");
			return;
		}
		if (json_object_get(body, "category") != NULL ||
		    json_string_value(json_object_get(body, "disposition")) == NULL)
			fake_error(f, "wrap-up of %s: a category, or no disposition", call_id);
		f->dispositions++;
		reply_json(req, 200, json_pack("{s:s}", "call_id", call_id));
	} else if (strcmp(path, "/v1/agents/callbacks/accept") == 0) {
		struct callback *cb = callback_of(f, a, id);
		if (cb == NULL || cb->state != CB_OFFERED) {
			reply_error(req, 409, "not_offered");
			return;
		}
		cb->state = CB_ACCEPTED;
		snprintf(a->last_call, sizeof a->last_call, "%s", id);
		agent_set_state(a, A_ON_CALL, NULL, id);
		f->dials++;
		gateway_send(f, a->centre, "dial",
			     json_pack("{s:s, s:s, s:s}", "callback_id", id, "agent", a->id,
				       "extension", "7001"));
		reply_json(req, 200, json_pack("{s:s}", "callback_id", id));
	} else if (strcmp(path, "/v1/agents/callbacks/finish") == 0) {
		struct callback *cb = callback_of(f, a, id);
		const char *outcome = json_string_value(json_object_get(body, "outcome"));
		if (cb == NULL || cb->state != CB_ACCEPTED || outcome == NULL ||
		    strcmp(outcome, "reached") != 0) {
			fake_error(f, "callback %s finished by %s without accepting it",
				   id ? id : "?", a->id);
			reply_error(req, 409, "not_accepted");
			return;
		}
		cb->state = CB_DONE;
		agent_set_state(a, A_WRAP_UP, NULL, id);
		reply_json(req, 200, json_pack("{s:s}", "callback_id", id));
	} else if (strcmp(path, "/v1/agents/logout") == 0) {
		if (busy) {
			reply_error(req, 409, "agent_busy");
			return;
		}
		f->logouts++;
		agent_set_state(a, A_LOGGED_OUT, NULL, NULL);
		a->token[0] = '\0';
		reply_json(req, 200, json_pack("{s:s}", "state", "logged_out"));
		if (a->stream != NULL)
			evserver_stream_end(&a->stream->sse);
	} else {
		reply_error(req, 404, "not_found");
	}
}

/* --- phone bookings ------------------------------------------------------------------ */

/* The time of the call's accepted call.answered, or -1. */
static int64_t call_answered_usec(const struct call *c)
{
	for (size_t i = 0; i < c->n_bodies; i++) {
		json_t *ev = json_loads(c->bodies[i], 0, NULL);
		const char *type = json_string_value(json_object_get(ev, "type"));
		int64_t at = -1;
		if (type != NULL && strcmp(type, "call.answered") == 0 &&
		    timeutil_parse_rfc3339(json_string_value(json_object_get(ev, "time")), &at) != 0)
			at = -1;
		json_decref(ev);
		if (at >= 0)
			return at;
	}
	return -1;
}

/* POST /v1/bookings as the broker answers it: an agent's token (source
 * agent: the agent must be talking on the call) or the gateway's signature
 * (source gateway: centre and agent in the body, the agent the one talking);
 * 201 for a new booking, 200 with Idempotent-Replay for the same body
 * again, 409 for another body under a number taken. Every fourth new
 * booking is answered 503 first, and the third kept one is answered 503 as
 * if the answer was lost. */
static void on_booking(struct fake *f, struct evhttp_request *req, const char *body, size_t len)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *source = "agent";
	struct agent *a = NULL;

	f->bookings_posted++;
	if (evhttp_find_header(in, "Authorization") != NULL) {
		a = agent_of(f, req);
		if (a == NULL) {
			f->bookings_relogins++;
			reply_error(req, 401, "unauthorised");
			return;
		}
	} else {
		source = "gateway";
		if (auth_verify(SECRET, evhttp_find_header(in, AUTH_HEADER_TIMESTAMP),
				evhttp_find_header(in, AUTH_HEADER_SIGNATURE), body, len,
				(int64_t)time(NULL), 300) != AUTH_OK) {
			fake_error(f, "a booking neither signed nor with a token");
			reply_error(req, 401, "unauthorised");
			return;
		}
	}
	json_t *o = json_loadb(body, len, 0, NULL);
	const char *no = json_string_value(json_object_get(o, "booking_no"));
	const char *call_id = json_string_value(json_object_get(o, "call_id"));
	const char *channel = json_string_value(json_object_get(o, "channel"));
	char key[128];
	snprintf(key, sizeof key, "%s/%s", source, no != NULL ? no : "");
	const char *stored = strmap_get(f->bookings, key, strlen(key));
	if (stored != NULL) {
		if (strlen(stored) != len || memcmp(stored, body, len) != 0) {
			fake_error(f, "booking %s sent again with another body", key);
			reply_error(req, 409, "booking_no_conflict");
		} else {
			f->bookings_replayed++;
			evhttp_add_header(evhttp_request_get_output_headers(req),
					  "Idempotent-Replay", "true");
			reply_json(req, 200, json_pack("{s:{s:s}}", "booking", "booking_no", no));
		}
		json_decref(o);
		return;
	}
	struct call *c = call_id != NULL ? strmap_get(f->calls, call_id, strlen(call_id)) : NULL;
	if (no == NULL || channel == NULL || strcmp(channel, "phone") != 0 || c == NULL) {
		fake_error(f, "a booking without a number, not by phone, or of no call: %.*s",
			   (int)len, body);
		reply_error(req, 422, "invalid_field");
		json_decref(o);
		return;
	}
	/* Made while the agent who answered talks on the call, after the answer. */
	const char *agent = a != NULL ? a->id : json_string_value(json_object_get(o, "agent"));
	int64_t booked_at = -1, answered = call_answered_usec(c);
	if (c->state != C_TALKING || c->talking == NULL || agent == NULL ||
	    strcmp(agent, c->talking->id) != 0 || strcmp(agent, c->answered_by) != 0) {
		fake_error(f, "booking %s in call %s by %s, who does not talk on it", no, call_id,
			   agent != NULL ? agent : "nobody");
		reply_error(req, 422, "call_not_yours");
		json_decref(o);
		return;
	}
	if (a == NULL) {
		const char *centre = json_string_value(json_object_get(o, "centre"));
		if (centre == NULL || centre_index(f, centre) != c->centre)
			fake_error(f, "the gateway's booking %s names centre %s", no,
				   centre != NULL ? centre : "none");
	}
	if (timeutil_parse_rfc3339(json_string_value(json_object_get(o, "booked_at")),
				   &booked_at) != 0 ||
	    booked_at < answered)
		fake_error(f, "booking %s booked at %lld, before its call was answered (%lld)", no,
			   (long long)booked_at, (long long)answered);
	if (f->bookings_posted % 4 == 0 &&
	    strmap_get(f->failed_once, key, strlen(key)) == NULL) {
		ck_assert_int_eq(strmap_put(f->failed_once, key, strlen(key), f), 0);
		f->bookings_503++;
		reply_error(req, 503, "store_unavailable");
		json_decref(o);
		return;
	}
	ck_assert_int_eq(strmap_put(f->bookings, key, strlen(key), strndup(body, len)), 0);
	if (strmap_count(f->bookings) == 3) {
		f->bookings_lost++;
		reply_error(req, 503, "store_unavailable");
	} else {
		reply_json(req, 201, json_pack("{s:{s:s, s:s}}", "booking", "booking_no", no, "source",
					       source));
	}
	json_decref(o);
}

/* --- routes ----------------------------------------------------------------------------- */

static void on_request(struct evhttp_request *req, void *arg)
{
	struct fake *f = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = evhttp_uri_get_path(uri);
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);

	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		if (strcmp(path, "/v1/gateway/commands") == 0) {
			struct evkeyvalq q;
			evhttp_parse_query_str(evhttp_uri_get_query(uri), &q);
			size_t centre = centre_index(f, evhttp_find_header(&q, "centre"));
			evhttp_clear_headers(&q);
			if (auth_verify(SECRET, evhttp_find_header(in, AUTH_HEADER_TIMESTAMP),
					evhttp_find_header(in, AUTH_HEADER_SIGNATURE), "", 0,
					(int64_t)time(NULL), 300) != AUTH_OK ||
			    centre == SIZE_MAX) {
				fake_error(f, "a command stream unsigned or for no centre");
				reply_error(req, 401, "unauthorised");
				return;
			}
			stream_open(f, req, S_GATEWAY, centre);
			f->gateway_streams_opened[centre]++;
			/* First a connect for every offer still waiting. */
			for (size_t i = centre * AGENTS; i < (centre + 1) * AGENTS; i++) {
				struct agent *a = &f->agents[i];
				struct call *c = a->state == A_OFFERED && !a->callback ?
							 strmap_get(f->calls, a->call_id,
								    strlen(a->call_id)) :
							 NULL;
				if (c != NULL)
					send_connect(f, c);
			}
			return;
		}
		if (strcmp(path, "/v1/agents/stream") == 0) {
			struct agent *a = agent_of(f, req);
			if (a == NULL) {
				reply_error(req, 401, "unauthorised");
				return;
			}
			char reason[sizeof a->reason], call_id[sizeof a->call_id];
			snprintf(reason, sizeof reason, "%s", a->reason);
			snprintf(call_id, sizeof call_id, "%s", a->call_id);
			a->stream = stream_open(f, req, S_AGENT, a->centre);
			agent_set_state(a, a->state, reason[0] ? reason : NULL,
					call_id[0] ? call_id : NULL);
			return;
		}
		reply_error(req, 404, "not_found");
		return;
	}
	struct evbuffer *b = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(b);
	char *body = malloc(len + 1);
	evbuffer_copyout(b, body, len);
	body[len] = '\0';
	if (strcmp(path, "/v1/calls/events") == 0) {
		on_event(f, req, body, len);
	} else if (strcmp(path, "/v1/workorders") == 0) {
		on_order(f, req, body, len);
	} else if (strcmp(path, "/v1/bookings") == 0) {
		on_booking(f, req, body, len);
	} else {
		json_t *o = json_loadb(body, len, 0, NULL);
		if (!json_is_object(o)) {
			fake_error(f, "%s: the body is not a JSON object: %s", path, body);
			reply_error(req, 400, "not_an_object");
		} else if (strcmp(path, "/v1/agents/login") == 0) {
			on_login(f, req, o);
		} else {
			on_agent_request(f, req, path, o);
		}
		json_decref(o);
	}
	free(body);
}

/* --- running the simulator ----------------------------------------------------------------- */

struct run {
	struct fake fake;
	char dir[HARNESS_PATH_MAX];
	char log[HARNESS_PATH_MAX + 16];
	char platform_secrets[HARNESS_PATH_MAX + 16]; /* the fake platforms' secrets */
	struct replay *plan;
	struct profile *profile;
	char *db; /* a database for the booking batches; NULL: --no-bookings */
	pid_t pid;
	int status;
	int64_t started;
};

static void write_text(const char *path, const char *text)
{
	FILE *out = fopen(path, "w");
	ck_assert_msg(out != NULL, "cannot write %s", path);
	fputs(text, out);
	ck_assert_int_eq(fclose(out), 0);
}

static void fake_start(struct run *r, const char *password)
{
	struct fake *f = &r->fake;
	char err[512], path[HARNESS_PATH_MAX];
	const char *src = harness_source_dir();

	ck_assert_ptr_nonnull(src);
	ck_assert_int_eq(timeutil_set_zone("Asia/Shanghai"), 0);
	snprintf(path, sizeof path, "%s/%s", src, PROFILE);
	struct profile *p = NULL;
	ck_assert_msg(profile_load_file(path, &p, err, sizeof err) == 0, "%s", err);
	r->profile = profile_scale(p, 1.0);
	profile_free(p);
	r->plan = replay_new(r->profile, 20, err, sizeof err);
	ck_assert_msg(r->plan != NULL, "%s", err);

	f->password = password;
	f->n_centres = replay_centre_count(r->plan);
	ck_assert_uint_le(f->n_centres, MAX_CENTRES);
	for (size_t c = 0; c < f->n_centres; c++) {
		f->centres[c] = replay_centre_code(r->plan, c);
		for (unsigned i = 1; i <= AGENTS; i++) {
			struct agent *a = &f->agents[c * AGENTS + i - 1];
			a->centre = c;
			ck_assert_int_eq(agentpool_id("sim-", i, AGENTS, a->id, sizeof a->id), 0);
		}
	}
	f->calls = strmap_new();
	f->events = strmap_new();
	f->orders = strmap_new();
	f->bookings = strmap_new();
	f->failed_once = strmap_new();
	f->base = event_base_new();
	f->http = evhttp_new(f->base);
	evhttp_set_allowed_methods(f->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(f->http, on_request, f);
	f->port = evserver_bind(f->http, 0);
	ck_assert_int_eq(harness_tmpdir("sim", r->dir), 0);
	snprintf(r->log, sizeof r->log, "%s/sim.log", r->dir);
	snprintf(r->platform_secrets, sizeof r->platform_secrets, "%s/platforms", r->dir);
	write_text(r->platform_secrets, "# the fake's 12345 platforms\n"
					"city_12345 " CITY_SECRET "\n"
					"\tprovince_12345   " PROVINCE_SECRET "  \r\n");
}

static void free_body(const char *key, size_t key_len, void *value, void *arg)
{
	free(value);
}

static void free_call(const char *key, size_t key_len, void *value, void *arg)
{
	free(value);
}

static void fake_stop(struct run *r)
{
	struct fake *f = &r->fake;
	for (size_t i = 0; i < f->n_streams; i++)
		evserver_stream_forget(&f->streams[i].sse);
	evhttp_free(f->http);
	event_base_free(f->base);
	strmap_each(f->events, free_body, NULL);
	strmap_each(f->orders, free_body, NULL);
	strmap_each(f->bookings, free_body, NULL);
	strmap_each(f->calls, free_call, NULL);
	strmap_free(f->events);
	strmap_free(f->orders);
	strmap_free(f->bookings);
	strmap_free(f->calls);
	strmap_free(f->failed_once);
	replay_free(r->plan);
	profile_free(r->profile);
}

/* A fresh database that knows the profile's centres, for the bookings the
 * simulator imports in daily batches (the fake broker takes only HTTP). */
static void run_db_create(struct run *r)
{
	char profile[HARNESS_PATH_MAX];
	snprintf(profile, sizeof profile, "%s/%s", harness_source_dir(), PROFILE);
	r->db = harness_db_create(NULL);
	ck_assert_msg(r->db != NULL, "%s", harness_error());
	const char *admin = harness_program(HARNESS_ENV_ADMIN_BIN);
	ck_assert_msg(admin != NULL, "hotline-admin was not built");
	const char *argv[] = {admin, "--db", r->db, "centre", "import", profile, NULL};
	char *out = NULL, *err = NULL;
	int code = -1;
	ck_assert_int_eq(harness_run_full(argv, NULL, NULL, &out, &err, &code), 0);
	ck_assert_msg(code == 0, "centre import: %s", err);
	free(out);
	free(err);
}

static void run_db_drop(struct run *r)
{
	harness_db_drop(r->db);
	free(r->db);
	r->db = NULL;
}

/* Every phone booking of the plan arrived, byte for byte, from the agent who
 * answered its call (or from the gateway naming that agent), and nothing
 * else; returns how many. */
static size_t assert_phone_bookings_are_the_plans(struct run *r, bool by_gateway)
{
	struct fake *f = &r->fake;
	char path[HARNESS_PATH_MAX], err[512], want[BOOKPLAN_JSON_MAX], key[128];
	struct profile *original = NULL;
	struct replay_call call;
	struct bookplan_booking b;
	size_t n = 0;

	snprintf(path, sizeof path, "%s/%s", harness_source_dir(), PROFILE);
	ck_assert_msg(profile_load_file(path, &original, err, sizeof err) == 0, "%s", err);
	struct bookplan_ref *ref = bookplan_ref_new(original, err, sizeof err);
	ck_assert_msg(ref != NULL, "%s", err);
	struct bookplan *plan = bookplan_new(ref, r->profile, 20, err, sizeof err);
	ck_assert_msg(plan != NULL, "%s", err);
	struct replay *calls = replay_new(r->profile, 20, err, sizeof err);
	ck_assert_msg(calls != NULL, "%s", err);
	struct bookplan_phone *phone = bookplan_phone_new(plan, calls, err, sizeof err);
	ck_assert_msg(phone != NULL, "%s", err);
	while (replay_next(calls, &call)) {
		if (!bookplan_phone_next(phone, &call, &b))
			continue;
		struct call *c = strmap_get(f->calls, call.call_id, strlen(call.call_id));
		ck_assert_ptr_nonnull(c);
		ck_assert_int_gt(bookplan_format_json(plan, &b, by_gateway ? call.centre : NULL,
						      by_gateway ? c->answered_by : NULL, want,
						      sizeof want),
				 0);
		snprintf(key, sizeof key, "%s/%s", by_gateway ? "gateway" : "agent", b.booking_no);
		const char *got = strmap_get(f->bookings, key, strlen(key));
		ck_assert_msg(got != NULL, "booking %s of call %s never came", key, call.call_id);
		ck_assert_str_eq(got, want);
		n++;
	}
	ck_assert_uint_eq(strmap_count(f->bookings), n);
	bookplan_phone_free(phone);
	replay_free(calls);
	bookplan_free(plan);
	bookplan_ref_free(ref);
	profile_free(original);
	return n;
}

/* The batches landed in PostgreSQL: every booking of the other channels,
 * and the hospitals file before them. */
static void assert_batches_are_in_the_database(const struct run *r)
{
	static const struct {
		const char *sql;
		int64_t want;
	} checks[] = {
		{"SELECT count(*) FROM bookings WHERE source = 'online_12320'"
		 " AND channel = 'online_12320'",
		 43},
		{"SELECT count(*) FROM bookings WHERE source = 'clinic' AND channel = 'clinic'", 5},
		{"SELECT count(*) FROM bookings WHERE source = 'third_party'"
		 " AND channel = 'third_party'",
		 13},
		{"SELECT count(*) FROM bookings WHERE platform IS NOT NULL", 44},
		{"SELECT count(*) FROM bookings WHERE centre <> 'edge' OR call_id IS NOT NULL", 0},
		{"SELECT count(*) FROM hospitals WHERE centre = 'edge'", 3},
		{"SELECT count(*) FROM departments WHERE centre = 'edge'", 24},
		{"SELECT count(*) FROM booking_platforms WHERE centre = 'edge'", 3},
		{"SELECT count(*) FROM hospitals WHERE code = 'h001' AND name = "
		 "'Hospital A: \"Main\", 第一'",
		 1},
	};
	for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
		ck_assert_msg(harness_pg_query_int(r->db, checks[i].sql) == checks[i].want,
			      "%s: %lld, want %lld", checks[i].sql,
			      (long long)harness_pg_query_int(r->db, checks[i].sql),
			      (long long)checks[i].want);
}

static void on_child_poll(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	if (waitpid(r->pid, &r->status, WNOHANG) == r->pid) {
		r->pid = 0;
		event_base_loopbreak(r->fake.base);
	} else if (time(NULL) - r->started > SIM_LIMIT_S) {
		kill(r->pid, SIGKILL);
	}
}

/* Runs hotline-sim replay against the fake with extra options; its stdout and
 * stderr go to the run's log. Returns its exit status. */
static int run_sim(struct run *r, const char *const *extra)
{
	char url[64], secret_file[HARNESS_PATH_MAX + 16], password_file[HARNESS_PATH_MAX + 16];
	char profile[HARNESS_PATH_MAX];
	const char *argv[48];
	size_t n = 0;
	FILE *out;

	snprintf(url, sizeof url, "http://127.0.0.1:%d", r->fake.port);
	snprintf(profile, sizeof profile, "%s/%s", harness_source_dir(), PROFILE);
	snprintf(secret_file, sizeof secret_file, "%s/secret", r->dir);
	snprintf(password_file, sizeof password_file, "%s/password", r->dir);
	ck_assert_ptr_nonnull(out = fopen(secret_file, "w"));
	fputs(SECRET "\n", out);
	fclose(out);
	ck_assert_ptr_nonnull(out = fopen(password_file, "w"));
	fputs(PASSWORD "\n", out);
	fclose(out);

	const char *sim = harness_program(HARNESS_ENV_SIM_BIN);
	ck_assert_msg(sim != NULL, "hotline-sim was not built");
	const char *bookings[] = {"--db", r->db, NULL};
	const char *no_bookings[] = {"--no-bookings", NULL};
	const char *base[] = {sim,
			      "replay",
			      "--profile",
			      profile,
			      "--scale",
			      "1",
			      "--seed",
			      SEED,
			      "--url",
			      url,
			      "--secret-file",
			      secret_file,
			      "--agents",
			      "3",
			      "--agent-password-file",
			      password_file,
			      "--connections",
			      "4",
			      "--ring-delay-ms",
			      "3",
			      NULL};
	for (size_t i = 0; base[i] != NULL; i++)
		argv[n++] = base[i];
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		argv[n++] = extra[i];
	for (const char *const *b = r->db != NULL ? bookings : no_bookings; *b != NULL; b++)
		argv[n++] = *b;
	argv[n] = NULL;

	posix_spawn_file_actions_t fa;
	ck_assert_int_eq(posix_spawn_file_actions_init(&fa), 0);
	ck_assert_int_eq(posix_spawn_file_actions_addopen(&fa, 1, r->log,
							  O_WRONLY | O_CREAT | O_TRUNC, 0644),
			 0);
	ck_assert_int_eq(posix_spawn_file_actions_adddup2(&fa, 1, 2), 0);
	ck_assert_int_eq(posix_spawn(&r->pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	r->started = time(NULL);

	struct event *poll = event_new(r->fake.base, -1, EV_PERSIST, on_child_poll, r);
	struct timeval tv = {0, 20000};
	evtimer_add(poll, &tv);
	event_base_dispatch(r->fake.base);
	event_free(poll);
	ck_assert_int_eq(r->pid, 0);
	return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128 + WTERMSIG(r->status);
}

/* What the fake's distributor holds, for a failure's message. */
static void fake_dump(const struct fake *f)
{
	for (size_t i = 0; i < f->n_centres * AGENTS; i++) {
		const struct agent *a = &f->agents[i];
		fprintf(stderr, "fake: %s/%s %s %s call %s%s stream %s\n", f->centres[a->centre],
			a->id, agent_state_names[a->state], a->reason, a->call_id,
			a->callback ? " (callback)" : "",
			a->stream != NULL && a->stream->sse.req != NULL ? "open" : "closed");
	}
	for (size_t c = 0; c < f->n_centres; c++)
		for (const struct call *q = f->queue_head[c]; q != NULL; q = q->next_queued)
			fprintf(stderr, "fake: queued in %s: %s\n", f->centres[c], q->id);
}

static char *sim_log(const struct run *r)
{
	char *text = harness_read_file(r->log, NULL);
	ck_assert_ptr_nonnull(text);
	return text;
}

/* --- the tests -----------------------------------------------------------------------------------
 */

START_TEST(test_replay_through_the_distributor_sends_the_plan_with_the_pool_agents)
{
	struct run r;
	memset(&r, 0, sizeof r);
	fake_start(&r, PASSWORD);
	run_db_create(&r);
	const char *extra[] = {"--platform-secrets", r.platform_secrets, NULL};
	int code = run_sim(&r, extra);
	char *log = sim_log(&r);
	fprintf(stderr, "hotline-sim against the fake broker:\n%s\n", log);
	if (code != 0)
		fake_dump(&r.fake);
	ck_assert_msg(code == 0, "hotline-sim exited %d:\n%s", code, log);
	struct fake *f = &r.fake;
	ck_assert_msg(f->errors == 0, "%d protocol errors; the first: %s", f->errors,
		      f->first_error);
	ck_assert_ptr_nonnull(strstr(log, "hotline-sim: replayed 326 of 326 calls"));

	/* Every planned call's events, byte for byte, the agents aside. */
	struct replay_call call;
	char want[1024];
	int handled = 0, with_disposition = 0, transfers = 0;
	while (replay_next(r.plan, &call)) {
		struct call *c = strmap_get(f->calls, call.call_id, strlen(call.call_id));
		ck_assert_msg(c != NULL, "call %s never came", call.call_id);
		ck_assert_uint_eq(c->n_bodies, call.n_events);
		for (size_t i = 0; i < call.n_events; i++) {
			ck_assert_int_gt(replay_format_event_as(&call, i, c->answered_by,
								c->transferred_to, want,
								sizeof want),
					 0);
			ck_assert_str_eq(c->bodies[i], want);
		}
		if (call.outcome == REPLAY_OUTCOME_HANDLED) {
			handled++;
			with_disposition += call.index % 10 == 3;
			transfers += call.transfer_agent != 0;
			ck_assert_msg(find_agent(f, c->centre, c->answered_by) != NULL,
				      "call %s answered by %s", c->id, c->answered_by);
		}
	}
	ck_assert_int_gt(transfers, 0);
	ck_assert_int_eq(f->dispositions, with_disposition);

	/* What the fake stirred up was met. */
	ck_assert_int_gt(f->events_503, 0);
	ck_assert_int_eq(f->moved_offers, 1);
	ck_assert_int_eq(f->answers_refused, 1);
	ck_assert(f->dropped);
	for (size_t i = 0; i < f->n_centres; i++)
		ck_assert_int_ge(f->gateway_streams_opened[i], 2);
	ck_assert(f->agents[1].set_no_answer);
	ck_assert(f->agents[1].ready_again);
	ck_assert_uint_gt(f->n_callbacks, 0);
	for (size_t i = 0; i < f->n_callbacks; i++)
		ck_assert_int_eq(f->callbacks[i].state, CB_DONE);
	ck_assert_int_eq(f->dials, (int)f->n_callbacks);
	char figure[64];
	snprintf(figure, sizeof figure, "%zu callbacks handled", f->n_callbacks);
	ck_assert_msg(strstr(log, figure) != NULL, "no \"%s\" in the summary", figure);
	ck_assert_ptr_nonnull(strstr(log, "1 offers withdrawn"));
	ck_assert_ptr_nonnull(strstr(log, "1 back from no_answer"));

	/* The agents found logged out, or whose token was refused, came back. */
	ck_assert(f->kicked && f->revoked);
	ck_assert_int_ge(f->logins, (int)(f->n_centres * AGENTS) + 2);
	ck_assert_int_gt(f->agents[4].readies, 0);

	/* Everybody logged out at the end. */
	ck_assert_int_eq(f->logouts, (int)(f->n_centres * AGENTS));
	for (size_t i = 0; i < f->n_centres * AGENTS; i++)
		ck_assert_int_eq(f->agents[i].state, A_LOGGED_OUT);

	/* Every planned work order, byte for byte, from its own platform; the
	 * 503s were retried with the same body, and the order whose answer was
	 * lost came again and was found taken in. */
	struct replay_order order;
	char body[REPLAY_ORDER_BODY_MAX], key[128];
	size_t n_orders = 0;
	for (size_t i = 0; replay_order_at(r.plan, i, &order); i++) {
		snprintf(key, sizeof key, "%s/%s", replay_order_source_name(order.source),
			 order.external_no);
		const char *got = strmap_get(f->orders, key, strlen(key));
		ck_assert_msg(got != NULL, "work order %s never came", key);
		ck_assert_int_gt(replay_format_order(&order, body, sizeof body), 0);
		ck_assert_str_eq(got, body);
		n_orders++;
	}
	ck_assert_uint_eq(n_orders, 11);
	ck_assert_uint_eq(strmap_count(f->orders), n_orders);
	ck_assert_int_gt(f->orders_503, 0);
	ck_assert_int_eq(f->orders_lost, 1);
	ck_assert_int_eq(f->orders_replayed, 1);
	ck_assert_msg(strstr(log, "hotline-sim: work orders: posted 11 of 11 for centre edge "
				  "(city_12345 9 of 9, province_12345 2 of 2), 10 new, 1 taken in "
				  "before, ") != NULL,
		      "%s", log);

	/* Every phone booking of the plan, by the agent on its call, while it
	 * talked; the 503s retried with the same body, the lost answer found
	 * taken. The other channels went into PostgreSQL in daily batches. */
	ck_assert_uint_eq(assert_phone_bookings_are_the_plans(&r, false), 60);
	ck_assert_int_gt(f->bookings_503, 0);
	ck_assert_int_eq(f->bookings_lost, 1);
	ck_assert_int_eq(f->bookings_replayed, 1);
	ck_assert_msg(strstr(log, "hotline-sim: bookings: hospitals file of centre edge loaded: 3 "
				  "hospitals, 24 departments, 3 platforms") != NULL,
		      "%s", log);
	ck_assert_msg(strstr(log, "hotline-sim: bookings: phone: posted 60 of 60 by the agents in "
				  "booking calls, 59 new, 1 taken in before") != NULL,
		      "%s", log);
	ck_assert_msg(strstr(log, "hotline-sim: bookings: batches: imported 61 of 61 in ") != NULL,
		      "%s", log);
	ck_assert_msg(strstr(log, "(online_12320 43 of 43, clinic 5 of 5, third_party 13 of 13), "
				  "61 new, 0 already there, 44 naming a platform (of 44), 0 "
				  "retries") != NULL,
		      "%s", log);
	assert_batches_are_in_the_database(&r);
	free(log);
	fake_stop(&r);
	run_db_drop(&r);
}
END_TEST

/* The gateway may post the phone bookings itself (as an IVR would), signed,
 * naming the centre and the agent on the call. A second replay of the same
 * plan imports every batch again and adds nothing. */
START_TEST(test_the_gateway_posts_phone_bookings_and_batches_import_once)
{
	struct run r;
	memset(&r, 0, sizeof r);
	fake_start(&r, PASSWORD);
	run_db_create(&r);
	const char *extra[] = {"--phone-bookings", "gateway", NULL};
	int code = run_sim(&r, extra);
	char *log = sim_log(&r);
	if (code != 0)
		fake_dump(&r.fake);
	ck_assert_msg(code == 0, "hotline-sim exited %d:\n%s", code, log);
	ck_assert_msg(r.fake.errors == 0, "%d protocol errors; the first: %s", r.fake.errors,
		      r.fake.first_error);
	ck_assert_uint_eq(assert_phone_bookings_are_the_plans(&r, true), 60);
	ck_assert_msg(strstr(log, "hotline-sim: bookings: phone: posted 60 of 60 by the gateway in "
				  "booking calls, 59 new, 1 taken in before, ") != NULL,
		      "%s", log);
	ck_assert_msg(strstr(log, "61 new, 0 already there, 44 naming a platform") != NULL, "%s",
		      log);
	assert_batches_are_in_the_database(&r);
	free(log);
	fake_stop(&r);

	/* Again, against a fresh fake broker and the same database. */
	memset(&r.fake, 0, sizeof r.fake);
	fake_start(&r, PASSWORD);
	code = run_sim(&r, extra);
	log = sim_log(&r);
	ck_assert_msg(code == 0, "hotline-sim exited %d:\n%s", code, log);
	ck_assert_msg(strstr(log, "imported 61 of 61 in ") != NULL &&
			      strstr(log, "0 new, 61 already there, 44 naming a platform") != NULL,
		      "%s", log);
	assert_batches_are_in_the_database(&r);
	free(log);
	fake_stop(&r);
	run_db_drop(&r);
}
END_TEST

START_TEST(test_a_wrong_platform_secret_stops_the_replay_with_advice)
{
	struct run r;
	memset(&r, 0, sizeof r);
	fake_start(&r, PASSWORD);
	write_text(r.platform_secrets, "city_12345 not-the-city-platforms-secret\n"
				       "province_12345 " PROVINCE_SECRET "\n");
	const char *extra[] = {"--platform-secrets", r.platform_secrets, NULL};
	int code = run_sim(&r, extra);
	char *log = sim_log(&r);
	ck_assert_msg(code == 1, "exit %d:\n%s", code, log);
	ck_assert_msg(strstr(log, "of city_12345 (centre edge) was refused: HTTP 401") != NULL,
		      "%s", log);
	ck_assert_msg(strstr(log, "platforms[].secret") != NULL, "%s", log);
	ck_assert_ptr_nonnull(strstr(log, "INCOMPLETE"));
	free(log);
	fake_stop(&r);
}
END_TEST

START_TEST(test_a_wrong_pool_password_stops_the_replay_with_advice)
{
	struct run r;
	memset(&r, 0, sizeof r);
	fake_start(&r, "another password");
	int code = run_sim(&r, NULL);
	char *log = sim_log(&r);
	ck_assert_msg(code == 1, "exit %d:\n%s", code, log);
	ck_assert_msg(strstr(log, "cannot log in: HTTP 401") != NULL, "%s", log);
	ck_assert_msg(strstr(log, "hotline-admin agent pool --centre") != NULL, "%s", log);
	ck_assert_int_eq(r.fake.events_posted, 0);
	free(log);
	fake_stop(&r);
}
END_TEST

START_TEST(test_a_call_nobody_is_offered_stops_the_replay_after_the_answer_timeout)
{
	struct run r;
	memset(&r, 0, sizeof r);
	fake_start(&r, PASSWORD);
	r.fake.never_offer = true;
	const char *extra[] = {"--answer-timeout", "2", NULL};
	int code = run_sim(&r, extra);
	char *log = sim_log(&r);
	ck_assert_msg(code == 1, "exit %d:\n%s", code, log);
	ck_assert_msg(strstr(log, "has waited 2 s in queue general without a connect") != NULL,
		      "%s", log);
	ck_assert_ptr_nonnull(strstr(log, "INCOMPLETE"));
	/* Without --platform-secrets no order is posted, and the summary says so. */
	ck_assert_msg(strstr(log, "hotline-sim: work orders: NOT posted (no --platform-secrets): "
				  "the profile plans 11 for centre edge") != NULL,
		      "%s", log);
	ck_assert_int_eq(r.fake.orders_posted, 0);
	free(log);
	fake_stop(&r);
}
END_TEST

START_TEST(test_replay_options_are_checked)
{
	const char *sim = harness_program(HARNESS_ENV_SIM_BIN);
	ck_assert_ptr_nonnull(sim);
	static const char *const bad[][3] = {
		{"--agents", "1", "--agents: \"1\": use 2 to 99999 per centre"},
		{"--agents", "100000", "use 2 to 99999"},
		{"--ring-delay-ms", "x", "--ring-delay-ms: \"x\""},
		{"--answer-timeout", "0", "--answer-timeout: \"0\": use 1 to 86400 seconds"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *argv[] = {sim,       "replay",  "--profile", "p.yaml",
				      bad[i][0], bad[i][1], NULL};
		char *out = NULL, *err = NULL;
		int code = -1;
		ck_assert_int_eq(harness_run_full(argv, NULL, NULL, &out, &err, &code), 0);
		ck_assert_int_eq(code, 2);
		ck_assert_msg(strstr(err, bad[i][2]) != NULL, "%s %s: %s", bad[i][0], bad[i][1],
			      err);
		free(out);
		free(err);
	}
	char profile[HARNESS_PATH_MAX];
	snprintf(profile, sizeof profile, "%s/%s", harness_source_dir(), PROFILE);
	const char *argv[] = {sim, "replay", "--profile", profile, "--url", "http://127.0.0.1:1",
			      NULL};
	const char *env[] = {"HOTLINE_GATEWAY_SECRET=x", NULL};
	char *out = NULL, *err = NULL;
	int code = -1;
	ck_assert_int_eq(harness_run_full(argv, env, NULL, &out, &err, &code), 0);
	ck_assert_int_eq(code, 2);
	ck_assert_msg(strstr(err, "replay needs --agent-password-file FILE") != NULL, "%s", err);
	free(out);
	free(err);

	const char *who[] = {sim, "replay", "--profile", profile, "--phone-bookings", "ivr", NULL};
	ck_assert_int_eq(harness_run_full(who, env, NULL, &out, &err, &code), 0);
	ck_assert_int_eq(code, 2);
	ck_assert_msg(strstr(err, "--phone-bookings: \"ivr\": use agent or gateway") != NULL, "%s",
		      err);
	free(out);
	free(err);

	/* A secrets file must name known platforms, once each, and every
	 * platform the profile has orders from. */
	char dir[HARNESS_PATH_MAX], password[HARNESS_PATH_MAX + 16], secrets[HARNESS_PATH_MAX + 16];
	ck_assert_int_eq(harness_tmpdir("sim-options", dir), 0);
	snprintf(password, sizeof password, "%s/password", dir);
	snprintf(secrets, sizeof secrets, "%s/platforms", dir);
	write_text(password, PASSWORD "\n");
	static const char *const bad_secrets[][2] = {
		{"city_12345 a-secret\ntown_12345 b-secret\n",
		 "platforms:2: \"town_12345\" is not a platform"},
		{"city_12345 a-secret\ncity_12345 b-secret\n", "city_12345 is named a second time"},
		{"city_12345\n", "platforms:1: city_12345 has no secret"},
		{"city_12345 a secret\n", "more than a platform and its secret"},
		{"city_12345 a-secret\n", "names no secret for province_12345, and the profile "
					  "plans 2 of its work orders"},
	};
	/* A profile with bookings needs the database its batches go into. */
	const char *no_db[] = {sim,
			       "replay",
			       "--profile",
			       profile,
			       "--scale",
			       "1",
			       "--url",
			       "http://127.0.0.1:1",
			       "--agent-password-file",
			       password,
			       NULL};
	ck_assert_int_eq(harness_run_full(no_db, env, NULL, &out, &err, &code), 0);
	ck_assert_int_eq(code, 2);
	ck_assert_msg(strstr(err, "has bookings (121 at scale 1): replay needs --db CONNINFO") !=
				      NULL &&
			      strstr(err, "--no-bookings") != NULL,
		      "%s", err);
	free(out);
	free(err);

	for (size_t i = 0; i < sizeof bad_secrets / sizeof bad_secrets[0]; i++) {
		write_text(secrets, bad_secrets[i][0]);
		const char *with[] = {sim,
				      "replay",
				      "--profile",
				      profile,
				      "--scale",
				      "1",
				      "--url",
				      "http://127.0.0.1:1",
				      "--agent-password-file",
				      password,
				      "--platform-secrets",
				      secrets,
				      "--no-bookings",
				      NULL};
		ck_assert_int_eq(harness_run_full(with, env, NULL, &out, &err, &code), 0);
		ck_assert_int_eq(code, 2);
		ck_assert_msg(strstr(err, bad_secrets[i][1]) != NULL, "%s: %s", bad_secrets[i][0],
			      err);
		ck_assert_msg(strstr(err, "a-secret") == NULL && strstr(err, "b-secret") == NULL,
			      "a secret was shown: %s", err);
		free(out);
		free(err);
	}
}
END_TEST

/* hotline-sim hospitals: the file of doc/bookings.md, to stdout or --out. */
START_TEST(test_hospitals_writes_the_reference_the_replay_loads)
{
	const char *sim = harness_program(HARNESS_ENV_SIM_BIN);
	char profile[HARNESS_PATH_MAX], dir[HARNESS_PATH_MAX], file[HARNESS_PATH_MAX + 32];
	char *out = NULL, *err = NULL;
	int code = -1;

	ck_assert_ptr_nonnull(sim);
	snprintf(profile, sizeof profile, "%s/%s", harness_source_dir(), PROFILE);
	const char *to_stdout[] = {sim, "hospitals", profile, NULL};
	ck_assert_int_eq(harness_run_full(to_stdout, NULL, NULL, &out, &err, &code), 0);
	ck_assert_msg(code == 0, "%s", err);
	ck_assert_ptr_nonnull(strstr(out, "centre: edge\nhospitals:\n  - code: h001\n    name: "
					  "\"Hospital A: \\\"Main\\\", 第一\"\n"));
	ck_assert_ptr_nonnull(strstr(out, "      - {code: paediatrics, name: \"儿科\"}\n"));
	ck_assert_ptr_nonnull(strstr(out, "  - {code: p002, name: \"WeChat: 微信\"}\n"));
	free(out);
	free(err);

	ck_assert_int_eq(harness_tmpdir("sim-hospitals", dir), 0);
	snprintf(file, sizeof file, "%s/hospitals.yaml", dir);
	const char *to_file[] = {sim, "hospitals", "--profile", profile, "--out", file, NULL};
	ck_assert_int_eq(harness_run_full(to_file, NULL, NULL, &out, &err, &code), 0);
	ck_assert_msg(code == 0, "%s", err);
	ck_assert_str_eq(out, "");
	char *text = harness_read_file(file, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "  - code: h003\n    name: \"C # not a comment\"\n"));
	free(text);
	free(out);
	free(err);

	const char *missing[] = {sim, "hospitals", NULL};
	ck_assert_int_eq(harness_run_full(missing, NULL, NULL, &out, &err, &code), 0);
	ck_assert_int_eq(code, 2);
	ck_assert_msg(strstr(err, "hospitals needs a profile") != NULL, "%s", err);
	free(out);
	free(err);
}
END_TEST

int main(void)
{
	if (auth_init() != 0)
		return EXIT_FAILURE;
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("replay");
	tcase_set_timeout(tc, SIM_LIMIT_S + 30);
	tcase_add_test(tc, test_replay_through_the_distributor_sends_the_plan_with_the_pool_agents);
	tcase_add_test(tc, test_a_wrong_pool_password_stops_the_replay_with_advice);
	tcase_add_test(tc, test_a_wrong_platform_secret_stops_the_replay_with_advice);
	tcase_add_test(tc, test_a_call_nobody_is_offered_stops_the_replay_after_the_answer_timeout);
	tcase_add_test(tc, test_replay_options_are_checked);
	tcase_add_test(tc, test_the_gateway_posts_phone_bookings_and_batches_import_once);
	tcase_add_test(tc, test_hospitals_writes_the_reference_the_replay_loads);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
