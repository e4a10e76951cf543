/* simagents.c: the simulator's agent pools (see simagents.h): per agent a
 * queue of requests sent one at a time, its stream, and what its stream
 * last said about it.
 *
 * An agent's requests are tasks: log in, go ready, record a disposition,
 * accept a callback, finish it, log out. The head task is "in flight" from
 * the moment it is sent until its answer is judged (including the waits
 * between retries); simagent_next removes it and sends the next. Everything
 * that changes what an agent will do goes through simagent_push, so that a
 * "ready" asked for twice in a row is sent once.
 */
#include "simagents.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "agentpool.h"
#include "httpc.h"
#include "simretry.h"
#include "ssec.h"
#include "strmap.h"

#define SIMAGENTS_TASKS_MAX 16
/* First logins under way at once: each is an Argon2id check on the broker,
 * which answers 503 busy when too many wait. */
#define SIMAGENTS_LOGINS_AT_ONCE 4
/* After the last call: how long nothing may happen before the agents log
 * out (a callback task created by the last abandoned call is offered within
 * milliseconds), and how often that is checked. */
#define SIMAGENTS_QUIET_MS 500
#define SIMAGENTS_POLL_MS 100
/* A logout refused because the agent is busy is asked again after this. */
#define SIMAGENTS_LOGOUT_AGAIN_MS 200
/* Moot refusals and retries told one by one before they are only counted. */
#define SIMAGENTS_REPORTS 5
#define SIMAGENTS_DISPOSITION_MAX 33

#define SIMAGENTS_LOGIN_PATH "/v1/agents/login"
#define SIMAGENTS_STATE_PATH "/v1/agents/state"
#define SIMAGENTS_WRAP_UP_PATH "/v1/agents/wrap-up"
#define SIMAGENTS_ACCEPT_PATH "/v1/agents/callbacks/accept"
#define SIMAGENTS_FINISH_PATH "/v1/agents/callbacks/finish"
#define SIMAGENTS_LOGOUT_PATH "/v1/agents/logout"
#define SIMAGENTS_BOOKING_PATH "/v1/bookings"
#define SIMAGENTS_STREAM_PATH "/v1/agents/stream"

/* What the agent's stream last said (or what the simulator just made true). */
enum simagent_known {
	SIMAGENT_UNKNOWN,
	SIMAGENT_READY,
	SIMAGENT_OFFERED,
	SIMAGENT_ON_CALL,
	SIMAGENT_WRAP_UP,
	SIMAGENT_NOT_READY,
	SIMAGENT_LOGGED_OUT,
};

enum simagent_do {
	SIMAGENT_LOGIN,
	SIMAGENT_READY_UP,
	SIMAGENT_WRAP_UP_CALL,
	SIMAGENT_ACCEPT_CALLBACK,
	SIMAGENT_FINISH_CALLBACK,
	SIMAGENT_LOGOUT,
	SIMAGENT_BOOK, /* a phone booking made during a call */
};

struct simagent_task {
	enum simagent_do what;
	char call_id[SIMAGENTS_ID_MAX]; /* the call, or the callback's call */
	char disposition[SIMAGENTS_DISPOSITION_MAX];
	/* A booking's body (the simulator's, unchanged until booked is
	 * called) and whom to tell. */
	const char *payload;
	size_t payload_len;
	simagents_booked_fn booked;
	void *booked_arg;
};

struct simagent {
	struct simagents *pool;
	size_t centre_index;
	char id[SIMAGENTS_ID_MAX];
	char *token; /* NULL until logged in, and after the broker refused it */
	struct ssec *stream;
	enum simagent_known known;
	bool ever_logged_in;
	bool asked_ready; /* the first "ready" after the stream opened was queued */
	bool started;     /* the first "ready" was answered */
	bool logged_out;  /* by simagents_finish */
	/* The call (or callback) whose wrap-up a queued "ready" already ends,
	 * so that the stream's wrap_up for it asks for nothing more. */
	char readied_call[SIMAGENTS_ID_MAX];

	struct simagent_task tasks[SIMAGENTS_TASKS_MAX]; /* a ring */
	size_t head;
	size_t n;
	bool in_flight; /* tasks[head] is sent or waits for its retry */
	char *body;     /* of tasks[head] while in flight */
	struct simretry retry;
	struct event *retry_timer;
	struct event *logout_timer;
	int64_t logout_since_usec; /* first logout refused as busy; 0 when none */
};

struct simagents {
	struct event_base *base;
	struct httpc *http;
	char *url;
	char *password;
	char *prefix;
	const char *const *centres;
	size_t n_centres;
	unsigned per_centre;
	int retry_for_s;
	struct simagents_hooks hooks;

	struct simagent *agents;
	size_t n_agents;
	struct strmap *by_id; /* "<centre index> <agent id>" -> agent */

	size_t next_first_login;
	unsigned first_logins_in_flight;
	size_t started;
	size_t logged_out;
	bool told_all_ready;
	bool finishing;
	bool told_finished;
	bool failed;
	int64_t last_activity_usec;
	struct event *finish_timer;
	uint64_t reports;
	struct simagents_counts counts;
};

static void simagent_pump(struct simagent *ag);

/* Frees a string that may hold the password (a login's body, the pool's
 * password), wiping it first. */
static void simagents_wipe_free(char *text)
{
	if (text != NULL) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
}

static const char *simagent_do_name(enum simagent_do what)
{
	switch (what) {
	case SIMAGENT_LOGIN:
		return "login";
	case SIMAGENT_READY_UP:
		return "ready";
	case SIMAGENT_WRAP_UP_CALL:
		return "wrap-up";
	case SIMAGENT_ACCEPT_CALLBACK:
		return "callback accept";
	case SIMAGENT_FINISH_CALLBACK:
		return "callback finish";
	case SIMAGENT_LOGOUT:
		return "logout";
	case SIMAGENT_BOOK:
		return "booking";
	}
	return "?";
}

static const char *simagent_centre(const struct simagent *ag)
{
	return ag->pool->centres[ag->centre_index];
}

static void simagents_fail(struct simagents *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void simagents_fail(struct simagents *a, const char *fmt, ...)
{
	va_list ap;

	if (a->failed)
		return;
	a->failed = true;
	fputs("hotline-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	a->hooks.failed(a->hooks.arg);
}

/* Tells the first few of a kind of event that is otherwise only counted. */
static bool simagents_tell(struct simagents *a)
{
	return ++a->reports <= SIMAGENTS_REPORTS;
}

static void simagents_touch(struct simagents *a)
{
	a->last_activity_usec = simretry_now_usec();
}

static struct simagent_task *simagent_task_at(struct simagent *ag, size_t i)
{
	return &ag->tasks[(ag->head + i) % SIMAGENTS_TASKS_MAX];
}

/* Drops the queued tasks (not the one in flight) that do what, for call_id
 * when it is not NULL. */
static void simagent_drop(struct simagent *ag, enum simagent_do what, const char *call_id)
{
	struct simagent_task kept[SIMAGENTS_TASKS_MAX];
	size_t n = 0;

	for (size_t i = 0; i < ag->n; i++) {
		struct simagent_task *t = simagent_task_at(ag, i);
		if ((i == 0 && ag->in_flight) || t->what != what ||
		    (call_id != NULL && strcmp(t->call_id, call_id) != 0))
			kept[n++] = *t;
	}
	for (size_t i = 0; i < n; i++)
		*simagent_task_at(ag, i) = kept[i];
	ag->n = n;
}

/* Queues task at the end (or, with front, before the head, which must not
 * be in flight). A "ready" right after a queued "ready", and a login while
 * one is queued, are not queued again. */
static void simagent_queue_task(struct simagent *ag, const struct simagent_task *task, bool front)
{
	struct simagents *a = ag->pool;
	const enum simagent_do what = task->what;

	if (a->failed || ag->logged_out)
		return;
	if (what == SIMAGENT_READY_UP && ag->n > 0 && !(ag->n == 1 && ag->in_flight) &&
	    simagent_task_at(ag, ag->n - 1)->what == SIMAGENT_READY_UP)
		return;
	if (what == SIMAGENT_LOGIN && front)
		simagent_drop(ag, SIMAGENT_LOGIN, NULL);
	for (size_t i = 0; what == SIMAGENT_LOGIN && i < ag->n; i++)
		if (simagent_task_at(ag, i)->what == SIMAGENT_LOGIN)
			return;
	if (ag->n == SIMAGENTS_TASKS_MAX) {
		simagents_fail(a, "agent %s of centre %s: more than %d requests waiting", ag->id,
			       simagent_centre(ag), SIMAGENTS_TASKS_MAX);
		return;
	}
	struct simagent_task *t;
	if (front) {
		ag->head = (ag->head + SIMAGENTS_TASKS_MAX - 1) % SIMAGENTS_TASKS_MAX;
		t = &ag->tasks[ag->head];
	} else {
		t = simagent_task_at(ag, ag->n);
	}
	ag->n++;
	*t = *task;
	simagent_pump(ag);
}

static void simagent_queue(struct simagent *ag, enum simagent_do what, const char *call_id,
			   const char *disposition, bool front)
{
	struct simagent_task t = {.what = what};

	snprintf(t.call_id, sizeof t.call_id, "%s", call_id != NULL ? call_id : "");
	snprintf(t.disposition, sizeof t.disposition, "%s", disposition != NULL ? disposition : "");
	simagent_queue_task(ag, &t, front);
}

static void simagent_push(struct simagent *ag, enum simagent_do what, const char *call_id)
{
	simagent_queue(ag, what, call_id, NULL, false);
}

/* Whether a task for callback call_id is queued or in flight. */
static bool simagent_has_callback(struct simagent *ag, const char *call_id)
{
	for (size_t i = 0; i < ag->n; i++) {
		const struct simagent_task *t = simagent_task_at(ag, i);
		if ((t->what == SIMAGENT_ACCEPT_CALLBACK || t->what == SIMAGENT_FINISH_CALLBACK) &&
		    strcmp(t->call_id, call_id) == 0)
			return true;
	}
	return false;
}

/* Drops the queued (not in flight) callback tasks of call_id. */
static void simagent_drop_callback(struct simagent *ag, const char *call_id)
{
	simagent_drop(ag, SIMAGENT_ACCEPT_CALLBACK, call_id);
	simagent_drop(ag, SIMAGENT_FINISH_CALLBACK, call_id);
}

/* The body of a task, as compact JSON (jansson escapes the password). */
static char *simagent_body(const struct simagent *ag, const struct simagent_task *t)
{
	json_t *o = NULL;

	switch (t->what) {
	case SIMAGENT_LOGIN:
		o = json_pack("{s:s, s:s, s:s}", "centre", simagent_centre(ag), "agent_id", ag->id,
			      "password", ag->pool->password);
		break;
	case SIMAGENT_READY_UP:
		o = json_pack("{s:s}", "state", "ready");
		break;
	case SIMAGENT_WRAP_UP_CALL:
		o = json_pack("{s:s, s:s}", "call_id", t->call_id, "disposition", t->disposition);
		break;
	case SIMAGENT_ACCEPT_CALLBACK:
		o = json_pack("{s:s}", "callback_id", t->call_id);
		break;
	case SIMAGENT_FINISH_CALLBACK:
		o = json_pack("{s:s, s:s}", "callback_id", t->call_id, "outcome", "reached");
		break;
	case SIMAGENT_LOGOUT:
		o = json_object();
		break;
	case SIMAGENT_BOOK:
		/* Formatted by the simulator once, so that a retry sends the
		 * same bytes. */
		return strndup(t->payload, t->payload_len);
	}
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

static const char *simagent_path(enum simagent_do what)
{
	switch (what) {
	case SIMAGENT_LOGIN:
		return SIMAGENTS_LOGIN_PATH;
	case SIMAGENT_READY_UP:
		return SIMAGENTS_STATE_PATH;
	case SIMAGENT_WRAP_UP_CALL:
		return SIMAGENTS_WRAP_UP_PATH;
	case SIMAGENT_ACCEPT_CALLBACK:
		return SIMAGENTS_ACCEPT_PATH;
	case SIMAGENT_FINISH_CALLBACK:
		return SIMAGENTS_FINISH_PATH;
	case SIMAGENT_LOGOUT:
		return SIMAGENTS_LOGOUT_PATH;
	case SIMAGENT_BOOK:
		return SIMAGENTS_BOOKING_PATH;
	}
	return "/";
}

static void simagent_on_answer(const struct httpc_response *r, void *arg);

static void simagent_send(struct simagent *ag)
{
	const struct simagent_task *t = simagent_task_at(ag, 0);
	const char *token = t->what == SIMAGENT_LOGIN ? NULL : ag->token;
	int rc = httpc_post_json_bearer(ag->pool->http, simagent_path(t->what), ag->body,
					strlen(ag->body), token, simagent_on_answer, ag);

	if (rc != 0)
		simagents_fail(ag->pool, "agent %s of centre %s: cannot queue its %s: %s", ag->id,
			       simagent_centre(ag), simagent_do_name(t->what), strerror(-rc));
}

static void simagent_on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
	struct simagent *ag = arg;
	if (!ag->pool->failed)
		simagent_send(ag);
}

/* Sends the head task unless one is in flight. A task that needs a token
 * the agent lacks is preceded by a login. */
static void simagent_pump(struct simagent *ag)
{
	if (ag->pool->failed || ag->in_flight || ag->n == 0)
		return;
	const struct simagent_task *t = simagent_task_at(ag, 0);
	if (t->what != SIMAGENT_LOGIN && ag->token == NULL) {
		simagent_queue(ag, SIMAGENT_LOGIN, NULL, NULL, true);
		return;
	}
	ag->body = simagent_body(ag, t);
	if (ag->body == NULL) {
		simagents_fail(ag->pool, "out of memory");
		return;
	}
	ag->in_flight = true;
	simretry_reset(&ag->retry);
	simagent_send(ag);
}

/* The head task is over: the next one goes. */
static void simagent_next(struct simagent *ag)
{
	simagents_wipe_free(ag->body);
	ag->body = NULL;
	ag->in_flight = false;
	ag->head = (ag->head + 1) % SIMAGENTS_TASKS_MAX;
	ag->n--;
	simagents_touch(ag->pool);
	simagent_pump(ag);
}

/* --- the stream ------------------------------------------------------------- */

static enum simagent_known simagent_parse_state(const char *s)
{
	static const struct {
		const char *name;
		enum simagent_known known;
	} names[] = {
		{"ready", SIMAGENT_READY},         {"offered", SIMAGENT_OFFERED},
		{"on_call", SIMAGENT_ON_CALL},     {"wrap_up", SIMAGENT_WRAP_UP},
		{"not_ready", SIMAGENT_NOT_READY}, {"logged_out", SIMAGENT_LOGGED_OUT},
	};
	for (size_t i = 0; s != NULL && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].known;
	return SIMAGENT_UNKNOWN;
}

/* A state message: what the agent does about the state it is in. */
static void simagent_on_state_message(struct simagent *ag, json_t *data)
{
	struct simagents *a = ag->pool;
	const char *state = json_string_value(json_object_get(data, "state"));
	const char *reason = json_string_value(json_object_get(data, "reason"));
	const char *call_id = json_string_value(json_object_get(data, "call_id"));

	ag->known = simagent_parse_state(state);
	switch (ag->known) {
	case SIMAGENT_WRAP_UP:
		/* A call the simulator still drives gets its wrap-up when its
		 * end is acknowledged, and a finished callback when its finish
		 * is; any other is ended here. */
		if (call_id != NULL && (strcmp(call_id, ag->readied_call) == 0 ||
					a->hooks.call_in_progress(call_id, a->hooks.arg)))
			break;
		simagent_push(ag, SIMAGENT_READY_UP, NULL);
		break;
	case SIMAGENT_NOT_READY:
		if (reason != NULL && strcmp(reason, "no_answer") == 0) {
			a->counts.no_answer++;
			simagent_push(ag, SIMAGENT_READY_UP, NULL);
		} else if (reason != NULL && strcmp(reason, "login") == 0) {
			simagent_push(ag, SIMAGENT_READY_UP, NULL);
		}
		break;
	case SIMAGENT_LOGGED_OUT:
		if (!a->finishing) {
			simagent_push(ag, SIMAGENT_LOGIN, NULL);
			simagent_push(ag, SIMAGENT_READY_UP, NULL);
		}
		break;
	case SIMAGENT_OFFERED:
		/* Offered something while the stream was down (its state comes
		 * first on a new stream): a call the simulator drives is the
		 * gateway's to answer; anything else is a callback, taken as if
		 * its offer had arrived. */
		if (call_id != NULL && *call_id != '\0' &&
		    !a->hooks.call_in_progress(call_id, a->hooks.arg) &&
		    !simagent_has_callback(ag, call_id)) {
			simagent_push(ag, SIMAGENT_ACCEPT_CALLBACK, call_id);
			simagent_push(ag, SIMAGENT_FINISH_CALLBACK, call_id);
		}
		break;
	case SIMAGENT_UNKNOWN:
	case SIMAGENT_READY:
	case SIMAGENT_ON_CALL:
		break;
	}
}

static void simagent_on_message(const char *event, const char *data, size_t len, void *arg)
{
	struct simagent *ag = arg;
	struct simagents *a = ag->pool;

	if (a->failed || ag->logged_out)
		return;
	simagents_touch(a);
	json_t *o = json_loadb(data, len, 0, NULL);
	if (!json_is_object(o)) {
		if (simagents_tell(a))
			fprintf(stderr,
				"hotline-sim: agent %s of centre %s: a %s message that is not a JSON "
				"object on its stream: %.200s\n",
				ag->id, simagent_centre(ag), event, data);
		json_decref(o);
		return;
	}
	const char *call_id = json_string_value(json_object_get(o, "call_id"));
	if (strcmp(event, "state") == 0) {
		simagent_on_state_message(ag, o);
	} else if (strcmp(event, "offer") == 0) {
		const char *kind = json_string_value(json_object_get(o, "kind"));
		ag->known = SIMAGENT_OFFERED;
		if (kind != NULL && strcmp(kind, "callback") == 0 && call_id != NULL &&
		    !simagent_has_callback(ag, call_id)) {
			simagent_push(ag, SIMAGENT_ACCEPT_CALLBACK, call_id);
			simagent_push(ag, SIMAGENT_FINISH_CALLBACK, call_id);
		}
	} else if (strcmp(event, "offer_cancelled") == 0 && call_id != NULL) {
		simagent_drop_callback(ag, call_id);
	}
	json_decref(o);
}

static void simagent_on_stream_state(enum ssec_state state, const char *detail, void *arg)
{
	struct simagent *ag = arg;

	if (ag->pool->failed || ag->logged_out)
		return;
	if (state == SSEC_CONNECTED && !ag->asked_ready) {
		ag->asked_ready = true;
		simagent_push(ag, SIMAGENT_READY_UP, NULL);
	} else if (state == SSEC_UNAUTHORISED && !ag->pool->finishing) {
		/* The token is no longer valid (expired, or the agent was
		 * disabled): log in again; the stream uses the new token on its
		 * next attempt. */
		free(ag->token);
		ag->token = NULL;
		simagent_push(ag, SIMAGENT_LOGIN, NULL);
	}
}

/* --- answers ---------------------------------------------------------------------- */

static void simagents_start_first_logins(struct simagents *a);

static void simagent_logged_in(struct simagent *ag, const struct httpc_response *r)
{
	struct simagents *a = ag->pool;
	char err[256];
	json_t *o = json_loadb(r->body, r->body_len, 0, NULL);
	const char *token = json_string_value(json_object_get(o, "token"));

	if (token == NULL || token[0] == '\0' || strlen(token) > HTTPC_TOKEN_MAX) {
		json_decref(o);
		simagents_fail(a,
			       "agent %s of centre %s: the login answer has no usable token: %.*s",
			       ag->id, simagent_centre(ag), simretry_body_len(r, 500), r->body);
		return;
	}
	free(ag->token);
	ag->token = strdup(token);
	json_decref(o);
	if (ag->token == NULL) {
		simagents_fail(a, "out of memory");
		return;
	}
	a->counts.logins++;
	if (ag->stream == NULL) {
		const struct ssec_auth auth = {SSEC_AUTH_BEARER, ag->token};
		ag->stream = ssec_new(a->base, a->url, SIMAGENTS_STREAM_PATH, &auth,
				      simagent_on_message, simagent_on_stream_state, ag, err,
				      sizeof err);
		if (ag->stream == NULL) {
			simagents_fail(a, "agent %s of centre %s: cannot open its stream: %s",
				       ag->id, simagent_centre(ag), err);
			return;
		}
	} else if (ssec_set_bearer(ag->stream, ag->token) != 0) {
		simagents_fail(a, "agent %s of centre %s: the login answer's token is unusable",
			       ag->id, simagent_centre(ag));
		return;
	}
	if (!ag->ever_logged_in) {
		ag->ever_logged_in = true;
		a->first_logins_in_flight--;
		simagents_start_first_logins(a);
	}
}

static void simagents_check_finished(struct simagents *a)
{
	if (a->logged_out == a->n_agents && !a->told_finished) {
		a->told_finished = true;
		a->hooks.finished(a->hooks.arg);
	}
}

/* The agent's first "ready" was answered (or found moot: it is working). */
static void simagent_started(struct simagent *ag)
{
	struct simagents *a = ag->pool;

	if (ag->started)
		return;
	ag->started = true;
	if (++a->started == a->n_agents && !a->told_all_ready) {
		a->told_all_ready = true;
		a->hooks.all_ready(a->hooks.arg);
	}
}

/* A 200: what the task achieved. */
static void simagent_succeeded(struct simagent *ag, const struct httpc_response *r)
{
	struct simagents *a = ag->pool;
	const struct simagent_task *t = simagent_task_at(ag, 0);

	switch (t->what) {
	case SIMAGENT_LOGIN:
		simagent_logged_in(ag, r);
		break;
	case SIMAGENT_READY_UP:
		simagent_started(ag);
		break;
	case SIMAGENT_WRAP_UP_CALL:
		a->counts.dispositions++;
		break;
	case SIMAGENT_ACCEPT_CALLBACK:
		ag->known = SIMAGENT_ON_CALL;
		break;
	case SIMAGENT_FINISH_CALLBACK:
		a->counts.callbacks++;
		snprintf(ag->readied_call, sizeof ag->readied_call, "%s", t->call_id);
		simagent_push(ag, SIMAGENT_READY_UP, NULL);
		break;
	case SIMAGENT_LOGOUT:
		ag->logged_out = true;
		ag->known = SIMAGENT_LOGGED_OUT;
		ssec_free(ag->stream);
		ag->stream = NULL;
		a->logged_out++;
		break;
	case SIMAGENT_BOOK:
		a->counts.bookings++;
		if (r->idempotent_replay)
			a->counts.bookings_replayed++;
		break;
	}
}

static void simagent_on_logout_timer(evutil_socket_t fd, short what, void *arg)
{
	struct simagent *ag = arg;
	simagent_push(ag, SIMAGENT_LOGOUT, NULL);
}

/*
 * A 409 (or a 404 for a callback): the broker says the request no longer
 * applies: the agent was offered a call just before its "ready", someone else
 * took the callback, the agent is busy at logout. Counted, and the agent
 * carries on. Returns false when the refusal is not one of these.
 */
static bool simagent_moot(struct simagent *ag, const struct httpc_response *r)
{
	struct simagents *a = ag->pool;
	const struct simagent_task *t = simagent_task_at(ag, 0);
	bool callback = t->what == SIMAGENT_ACCEPT_CALLBACK || t->what == SIMAGENT_FINISH_CALLBACK;

	if (r->status != 409 && !(r->status == 404 && callback))
		return false;
	/* A booking refused is never moot: the export would lack it. */
	if (t->what == SIMAGENT_LOGIN || t->what == SIMAGENT_BOOK)
		return false;
	a->counts.refused++;
	if (t->what == SIMAGENT_READY_UP)
		simagent_started(ag);
	if (t->what == SIMAGENT_LOGOUT) {
		int64_t now = simretry_now_usec();
		if (ag->logout_since_usec == 0)
			ag->logout_since_usec = now;
		if (now - ag->logout_since_usec > (int64_t)a->retry_for_s * 1000000) {
			simagents_fail(a,
				       "agent %s of centre %s: still busy after %d s of logout "
				       "attempts: %.*s",
				       ag->id, simagent_centre(ag), a->retry_for_s,
				       simretry_body_len(r, 500), r->body);
			return true;
		}
		struct timeval tv = {0, SIMAGENTS_LOGOUT_AGAIN_MS * 1000};
		evtimer_add(ag->logout_timer, &tv);
		return true;
	}
	if ((t->what == SIMAGENT_WRAP_UP_CALL || callback) && simagents_tell(a))
		fprintf(stderr,
			"hotline-sim: agent %s of centre %s: %s of %s refused: HTTP %d: %.*s\n",
			ag->id, simagent_centre(ag), simagent_do_name(t->what), t->call_id,
			r->status, simretry_body_len(r, 300), r->body);
	if (t->what == SIMAGENT_ACCEPT_CALLBACK)
		simagent_drop_callback(ag, t->call_id);
	if (callback)
		simagent_push(ag, SIMAGENT_READY_UP, NULL);
	return true;
}

static void simagent_retry_or_fail(struct simagent *ag, const struct httpc_response *r)
{
	struct simagents *a = ag->pool;
	const struct simagent_task *t = simagent_task_at(ag, 0);
	char what[128];

	simretry_describe(r, what, sizeof what);
	int64_t delay_ms = simretry_delay_ms(&ag->retry, r, a->retry_for_s, simretry_now_usec());
	if (delay_ms < 0) {
		simagents_fail(a,
			       "agent %s of centre %s: %s still failing after %d s of retries; "
			       "last: %s%s%.*s",
			       ag->id, simagent_centre(ag), simagent_do_name(t->what),
			       a->retry_for_s, what, r->body_len > 0 ? ": " : "",
			       simretry_body_len(r, 500), r->body);
		return;
	}
	a->counts.retries++;
	if (a->counts.retries <= SIMAGENTS_REPORTS)
		fprintf(stderr,
			"hotline-sim: agent %s of centre %s: %s: %s; retry in %" PRId64 " ms%s\n",
			ag->id, simagent_centre(ag), simagent_do_name(t->what), what, delay_ms,
			a->counts.retries == SIMAGENTS_REPORTS ?
				" (further agent retries are only counted)" :
				"");
	struct timeval tv = {.tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000};
	if (evtimer_add(ag->retry_timer, &tv) != 0)
		simagents_fail(a, "cannot schedule a retry");
}

/* Whether the answer is status with the error code (doc/api.md's error body). */
static bool simagent_error_is(const struct httpc_response *r, int status, const char *code)
{
	if (r->status != status)
		return false;
	json_t *o = json_loadb(r->body, r->body_len, 0, NULL);
	const char *got = json_string_value(json_object_get(json_object_get(o, "error"), "code"));
	bool same = got != NULL && strcmp(got, code) == 0;
	json_decref(o);
	return same;
}

/* httpc's callback for an agent's request. */
static void simagent_on_answer(const struct httpc_response *r, void *arg)
{
	struct simagent *ag = arg;
	struct simagents *a = ag->pool;
	const enum simagent_do what = simagent_task_at(ag, 0)->what;

	if (a->failed)
		return;
	/* A booking is created (201), or was already (200). */
	if (r->status == 200 || (what == SIMAGENT_BOOK && r->status == 201)) {
		const struct simagent_task done = *simagent_task_at(ag, 0);
		simagent_succeeded(ag, r);
		simagent_next(ag);
		if (what == SIMAGENT_LOGOUT)
			simagents_check_finished(a);
		/* Told after the agent moved on, so that the simulator may
		 * queue more for it. */
		if (what == SIMAGENT_BOOK && !a->failed)
			done.booked(done.booked_arg, r->idempotent_replay);
		return;
	}
	if (simretry_retryable(r)) {
		simagent_retry_or_fail(ag, r);
		return;
	}
	if ((r->status == 401 || simagent_error_is(r, 409, "not_logged_in")) &&
	    what != SIMAGENT_LOGIN) {
		/* The token was refused, or the distributor does not have the
		 * agent logged in: log in again (simagent_pump puts the login
		 * first), then this request. */
		free(ag->token);
		ag->token = NULL;
		simagents_wipe_free(ag->body);
		ag->body = NULL;
		ag->in_flight = false;
		simagent_pump(ag);
		return;
	}
	if (simagent_moot(ag, r)) {
		simagent_next(ag);
		return;
	}
	if (what == SIMAGENT_LOGIN && (r->status == 401 || r->status == 403)) {
		simagents_fail(
			a,
			"agent %s of centre %s cannot log in: HTTP %d: %.*s\n"
			"hotline-sim: provision the pool first, with the password of "
			"--agent-password-file: hotline-admin agent pool --centre %s --count %u "
			"--prefix %s --skills ... --password-file FILE",
			ag->id, simagent_centre(ag), r->status, simretry_body_len(r, 500), r->body,
			simagent_centre(ag), a->per_centre, a->prefix);
		return;
	}
	if (what == SIMAGENT_BOOK) {
		simagents_fail(a,
			       "agent %s of centre %s: the phone booking in call %s was refused: "
			       "HTTP %d: %.*s\nhotline-sim: the booking was: %.*s",
			       ag->id, simagent_centre(ag), simagent_task_at(ag, 0)->call_id,
			       r->status, simretry_body_len(r, 2000), r->body,
			       (int)simagent_task_at(ag, 0)->payload_len,
			       simagent_task_at(ag, 0)->payload);
		return;
	}
	simagents_fail(a, "agent %s of centre %s: %s refused: HTTP %d: %.*s", ag->id,
		       simagent_centre(ag), simagent_do_name(what), r->status,
		       simretry_body_len(r, 2000), r->body);
}

/* --- the public side ------------------------------------------------------------------ */

static int simagents_key(size_t centre_index, const char *agent_id, char *out, size_t out_len)
{
	return snprintf(out, out_len, "%zu %s", centre_index, agent_id);
}

static struct simagent *simagents_find(const struct simagents *a, size_t centre_index,
				       const char *agent_id)
{
	char key[32 + SIMAGENTS_ID_MAX];
	int n = simagents_key(centre_index, agent_id, key, sizeof key);

	if (n < 0 || (size_t)n >= sizeof key)
		return NULL;
	return strmap_get(a->by_id, key, (size_t)n);
}

struct simagents *simagents_new(const struct simagents_options *o, char *err, size_t err_len)
{
	struct simagents *a = calloc(1, sizeof *a);
	char key[32 + SIMAGENTS_ID_MAX];

	if (a == NULL)
		goto oom;
	a->base = o->base;
	a->http = o->http;
	a->centres = o->centres;
	a->n_centres = o->n_centres;
	a->per_centre = o->per_centre;
	a->retry_for_s = o->retry_for_s;
	a->hooks = o->hooks;
	a->url = strdup(o->url);
	a->password = strdup(o->password);
	a->prefix = strdup(o->prefix);
	a->by_id = strmap_new();
	a->finish_timer = NULL;
	a->n_agents = o->n_centres * o->per_centre;
	a->agents = calloc(a->n_agents > 0 ? a->n_agents : 1, sizeof *a->agents);
	if (a->url == NULL || a->password == NULL || a->prefix == NULL || a->by_id == NULL ||
	    a->agents == NULL)
		goto oom;
	for (size_t c = 0; c < o->n_centres; c++) {
		for (unsigned i = 1; i <= o->per_centre; i++) {
			struct simagent *ag = &a->agents[c * o->per_centre + i - 1];
			ag->pool = a;
			ag->centre_index = c;
			if (agentpool_id(o->prefix, i, o->per_centre, ag->id, sizeof ag->id) != 0) {
				snprintf(err, err_len,
					 "--agent-prefix '%s' with --agents %u: the ids would be "
					 "longer than %d characters",
					 o->prefix, o->per_centre, SIMAGENTS_ID_MAX - 1);
				goto fail;
			}
			ag->retry_timer = evtimer_new(a->base, simagent_on_retry_timer, ag);
			ag->logout_timer = evtimer_new(a->base, simagent_on_logout_timer, ag);
			int n = simagents_key(c, ag->id, key, sizeof key);
			if (ag->retry_timer == NULL || ag->logout_timer == NULL ||
			    strmap_put(a->by_id, key, (size_t)n, ag) != 0)
				goto oom;
		}
	}
	return a;

oom:
	snprintf(err, err_len, "out of memory");
fail:
	simagents_free(a);
	return NULL;
}

/* Starts first logins while fewer than SIMAGENTS_LOGINS_AT_ONCE are under way. */
static void simagents_start_first_logins(struct simagents *a)
{
	while (!a->failed && a->first_logins_in_flight < SIMAGENTS_LOGINS_AT_ONCE &&
	       a->next_first_login < a->n_agents) {
		struct simagent *ag = &a->agents[a->next_first_login++];
		a->first_logins_in_flight++;
		simagent_push(ag, SIMAGENT_LOGIN, NULL);
	}
}

void simagents_start(struct simagents *a)
{
	simagents_touch(a);
	simagents_start_first_logins(a);
}

bool simagents_has(const struct simagents *a, size_t centre_index, const char *agent_id)
{
	return simagents_find(a, centre_index, agent_id) != NULL;
}

void simagents_offered(struct simagents *a, size_t centre_index, const char *agent_id)
{
	struct simagent *ag = simagents_find(a, centre_index, agent_id);
	if (ag != NULL)
		ag->known = SIMAGENT_OFFERED;
}

void simagents_call_answered(struct simagents *a, size_t centre_index, const char *agent_id)
{
	struct simagent *ag = simagents_find(a, centre_index, agent_id);
	if (ag != NULL) {
		ag->known = SIMAGENT_ON_CALL;
		a->counts.calls++;
	}
}

int simagents_transfer_target(const struct simagents *a, size_t centre_index,
			      const char *from_agent, uint64_t pick, char out[SIMAGENTS_ID_MAX])
{
	const struct simagent *pool = &a->agents[centre_index * a->per_centre];
	const struct simagent *other = NULL;

	if (a->per_centre < 2)
		return -1;
	for (unsigned k = 0; k < a->per_centre; k++) {
		const struct simagent *ag = &pool[(pick + k) % a->per_centre];
		if (strcmp(ag->id, from_agent) == 0)
			continue;
		if (other == NULL)
			other = ag;
		if (ag->known == SIMAGENT_READY) {
			other = ag;
			break;
		}
	}
	snprintf(out, SIMAGENTS_ID_MAX, "%s", other->id);
	return 0;
}

void simagents_call_transferred(struct simagents *a, size_t centre_index, const char *from_agent,
				const char *to_agent, const char *call_id, const char *disposition)
{
	struct simagent *from = simagents_find(a, centre_index, from_agent);
	struct simagent *to = simagents_find(a, centre_index, to_agent);

	if (to != NULL)
		a->counts.transfers++;
	if (from != NULL)
		simagents_call_ended(a, centre_index, from_agent, call_id, disposition);
}

void simagents_call_ended(struct simagents *a, size_t centre_index, const char *agent_id,
			  const char *call_id, const char *disposition)
{
	struct simagent *ag = simagents_find(a, centre_index, agent_id);

	if (ag == NULL)
		return;
	ag->known = SIMAGENT_WRAP_UP;
	snprintf(ag->readied_call, sizeof ag->readied_call, "%s", call_id);
	if (disposition != NULL)
		simagent_queue(ag, SIMAGENT_WRAP_UP_CALL, call_id, disposition, false);
	simagent_push(ag, SIMAGENT_READY_UP, NULL);
}

int simagents_post_booking(struct simagents *a, size_t centre_index, const char *agent_id,
			   const char *call_id, const char *body, size_t body_len,
			   simagents_booked_fn booked, void *arg)
{
	struct simagent *ag = simagents_find(a, centre_index, agent_id);
	struct simagent_task t = {.what = SIMAGENT_BOOK,
				  .payload = body,
				  .payload_len = body_len,
				  .booked = booked,
				  .booked_arg = arg};

	if (ag == NULL || ag->logged_out || a->failed)
		return -1;
	snprintf(t.call_id, sizeof t.call_id, "%s", call_id);
	simagent_queue_task(ag, &t, false);
	return 0;
}

static bool simagents_idle(const struct simagents *a)
{
	for (size_t i = 0; i < a->n_agents; i++)
		if (a->agents[i].n > 0 || a->agents[i].in_flight)
			return false;
	return true;
}

/* Waits for a quiet moment, then logs everybody out. */
static void simagents_on_finish_timer(evutil_socket_t fd, short what, void *arg)
{
	struct simagents *a = arg;

	if (a->failed || !simagents_idle(a) ||
	    simretry_now_usec() - a->last_activity_usec < SIMAGENTS_QUIET_MS * 1000)
		return;
	event_del(a->finish_timer);
	for (size_t i = 0; i < a->n_agents; i++) {
		struct simagent *ag = &a->agents[i];
		if (ag->token == NULL) {
			/* Never logged in (or refused): nothing to end. */
			ag->logged_out = true;
			a->logged_out++;
			continue;
		}
		simagent_push(ag, SIMAGENT_LOGOUT, NULL);
	}
	simagents_check_finished(a);
}

void simagents_finish(struct simagents *a)
{
	struct timeval tv = {0, SIMAGENTS_POLL_MS * 1000};

	a->finishing = true;
	a->finish_timer = event_new(a->base, -1, EV_PERSIST, simagents_on_finish_timer, a);
	if (a->finish_timer == NULL || evtimer_add(a->finish_timer, &tv) != 0)
		simagents_fail(a, "cannot start the logout timer");
}

void simagents_describe_waiting(const struct simagents *a, char *out, size_t out_len)
{
	size_t waiting = 0;
	const struct simagent *first = NULL;

	for (size_t i = 0; i < a->n_agents; i++) {
		if (!a->agents[i].started) {
			waiting++;
			if (first == NULL)
				first = &a->agents[i];
		}
	}
	if (first == NULL) {
		snprintf(out, out_len, "every agent is ready");
		return;
	}
	const char *doing = first->token == NULL ? "not logged in" :
			    first->stream == NULL || !ssec_connected(first->stream) ?
						   "its stream is not open" :
						   "no answer to its first ready";
	snprintf(out, out_len,
		 "%zu of %zu agents are not ready yet (the first, %s of centre %s: %s%s%s)",
		 waiting, a->n_agents, first->id, a->centres[first->centre_index], doing,
		 first->stream != NULL && ssec_err(first->stream) != 0 ? "; " : "",
		 first->stream != NULL ? ssec_errstr(first->stream) : "");
}

void simagents_counts(const struct simagents *a, struct simagents_counts *out)
{
	*out = a->counts;
	out->agents = (unsigned)a->n_agents;
	out->logged_in = 0;
	for (size_t i = 0; i < a->n_agents; i++)
		if (a->agents[i].token != NULL && !a->agents[i].logged_out)
			out->logged_in++;
}

void simagents_free(struct simagents *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; a->agents != NULL && i < a->n_agents; i++) {
		struct simagent *ag = &a->agents[i];
		ssec_free(ag->stream);
		if (ag->retry_timer != NULL)
			event_free(ag->retry_timer);
		if (ag->logout_timer != NULL)
			event_free(ag->logout_timer);
		simagents_wipe_free(ag->body);
		free(ag->token);
	}
	if (a->finish_timer != NULL)
		event_free(a->finish_timer);
	simagents_wipe_free(a->password);
	free(a->agents);
	strmap_free(a->by_id);
	free(a->url);
	free(a->prefix);
	free(a);
}
