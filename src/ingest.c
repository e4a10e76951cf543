/* ingest.c: the gateway event path: check, classify, remember, commit,
 * answer (see ingest.h). HTTP stays in http.c; SQL stays in store.c. */
#include "ingest.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "bookings.h"
#include "statsfold.h"
#include "calls.h"
#include "jsonw.h"
#include "log.h"
#include "mirror.h"
#include "privacy.h"
#include "orders.h"
#include "router.h"
#include "store.h"
#include "strmap.h"
#include "workorder.h"
#include "timeutil.h"

struct live_event;

/* A call in progress, as memory holds it. */
struct live_call {
	struct call call;
	struct live_event *events; /* its event ids, for removal with the call */
};

/* An accepted event id. op is set while its commit is pending. */
struct live_event {
	char key[EVENT_CENTRE_MAX + EVENT_ID_MAX + 2]; /* centre \0 event_id */
	size_t key_len;
	unsigned char hash[EVENT_HASH_BYTES];
	char *result;
	struct live_event *next_in_call;
	struct ingest_op *op;
	bool committed; /* in PostgreSQL: only then may a retry get the result */
};

/* One request in flight. A follower is a retry that arrived while the first
 * copy was still being committed; it is answered with the first copy. */
struct ingest_op {
	struct store_op sop;
	struct ingest *in;
	ingest_reply_fn reply;
	void *request;
	struct live_event *lev;
	struct ingest_op *followers;
};

#define INGEST_SPARE_OPS_MAX 4096

struct ingest {
	struct event_base *base;
	struct store *store;
	struct mirror *mirror;
	struct router *router;
	struct orders *orders;
	struct bookings *bookings;
	struct statsfold *statsfold;
	struct store_statement *statements; /* the router's, the orders', the bookings', the fold's */
	struct metrics *metrics;
	const struct classifier *classifier;
	char *caller_key;
	int64_t retry_after_s;

	/* Finished ops kept for reuse: a request allocates nothing in the
	 * common case. At most INGEST_SPARE_OPS are kept. */
	struct ingest_op *spare_ops;
	size_t n_spare_ops;

	/* Calls changed by commits in this loop pass, mirrored in one go. */
	struct call *mirror_pending;
	size_t n_mirror_pending, mirror_pending_cap;
	struct event *ev_mirror;

	struct strmap *centres; /* code -> strdup'ed name */
	struct strmap *calls;   /* centre \0 call_id -> struct live_call */
	struct strmap *events;  /* centre \0 event_id -> struct live_event */
};

/* Returns an op for reuse (or frees it when enough are kept). */
static void ingest_op_free(struct ingest *in, struct ingest_op *op)
{
	if (op == NULL)
		return;
	if (in->n_spare_ops >= INGEST_SPARE_OPS_MAX) {
		free(op);
		return;
	}
	op->followers = in->spare_ops;
	in->spare_ops = op;
	in->n_spare_ops++;
}

/* --- keys and memory ------------------------------------------------------ */

static size_t ingest_key(char *out, const char *centre, const char *id)
{
	size_t a = strlen(centre), b = strlen(id);
	memcpy(out, centre, a);
	out[a] = '\0';
	memcpy(out + a + 1, id, b);
	return a + 1 + b;
}

#define INGEST_KEY_MAX (EVENT_CENTRE_MAX + EVENT_ID_MAX + 2)

static void ingest_free_value(const char *key, size_t key_len, void *value, void *arg)
{
	free(value);
}

static void ingest_free_event(const char *key, size_t key_len, void *value, void *arg)
{
	struct live_event *lev = value;
	free(lev->result);
	free(lev);
}

/* Frees every call, event id and centre memory holds (maps may be NULL). */
static void ingest_drop_memory(struct ingest *in)
{
	if (in->events)
		strmap_each(in->events, ingest_free_event, NULL);
	if (in->calls)
		strmap_each(in->calls, ingest_free_value, NULL);
	if (in->centres)
		strmap_each(in->centres, ingest_free_value, NULL);
	strmap_free(in->events);
	strmap_free(in->calls);
	strmap_free(in->centres);
	in->events = in->calls = in->centres = NULL;
}

/* Empties memory before a recovery fills it again. Returns 0, or -1 when out
 * of memory (the recovery then fails and is retried). */
static int ingest_clear_memory(struct ingest *in)
{
	ingest_drop_memory(in);
	in->events = strmap_new();
	in->calls = strmap_new();
	in->centres = strmap_new();
	return in->events && in->calls && in->centres ? 0 : -1;
}

static struct live_event *ingest_remember_event(struct ingest *in, struct live_call *lc,
						const char *event_id, const unsigned char *hash,
						const char *result)
{
	char key[INGEST_KEY_MAX];
	size_t klen = ingest_key(key, lc->call.centre, event_id);
	struct live_event *lev = calloc(1, sizeof *lev);
	if (lev == NULL)
		return NULL;
	lev->result = strdup(result);
	if (lev->result == NULL || strmap_put(in->events, key, klen, lev) != 0) {
		free(lev->result);
		free(lev);
		return NULL;
	}
	memcpy(lev->key, key, klen);
	lev->key_len = klen;
	memcpy(lev->hash, hash, EVENT_HASH_BYTES);
	lev->next_in_call = lc->events;
	lc->events = lev;
	return lev;
}

/* Frees a final, committed call and the ids of its events. */
static void ingest_forget_call(struct ingest *in, struct live_call *lc)
{
	char key[INGEST_KEY_MAX];
	size_t klen = ingest_key(key, lc->call.centre, lc->call.call_id);

	for (struct live_event *lev = lc->events; lev != NULL;) {
		struct live_event *next = lev->next_in_call;
		strmap_remove(in->events, lev->key, lev->key_len);
		ingest_free_event(NULL, 0, lev, NULL);
		lev = next;
	}
	strmap_remove(in->calls, key, klen);
	free(lc);
}

/* --- answers -------------------------------------------------------------- */

static void ingest_send(struct ingest *in, ingest_reply_fn reply, void *request, int status,
			const char *body, bool replay)
{
	struct ingest_reply r = {
		.status = status,
		.body = body,
		.len = strlen(body),
		.replay = replay,
		.retry_after_s = status == 503 ? (int)in->retry_after_s : 0,
	};
	reply(request, &r);
}

static void ingest_send_error(struct ingest *in, ingest_reply_fn reply, void *request, int status,
			      const char *code, const char *field, const char *message)
{
	char body[2048];
	struct jsonw w;

	jsonw_init(&w, body, sizeof body);
	jsonw_lit(&w, "{\"error\":{\"status\":");
	jsonw_int(&w, status);
	jsonw_lit(&w, ",\"code\":");
	jsonw_string(&w, code);
	if (field && *field) {
		jsonw_lit(&w, ",\"field\":");
		jsonw_string(&w, field);
	}
	jsonw_lit(&w, ",\"message\":");
	jsonw_string(&w, message);
	jsonw_lit(&w, "}}");
	if (jsonw_end(&w) < 0)
		snprintf(body, sizeof body, "{\"error\":{\"status\":%d,\"code\":\"%s\"}}", status,
			 code);
	ingest_send(in, reply, request, status, body, false);
}

static void ingest_send_unavailable(struct ingest *in, ingest_reply_fn reply, void *request)
{
	ingest_send_error(in, reply, request, 503, "store_unavailable", NULL,
			  "PostgreSQL is unavailable; nothing was recorded, retry later");
}

static void ingest_send_conflict(struct ingest *in, ingest_reply_fn reply, void *request,
				 const char *event_id)
{
	char msg[200];
	snprintf(msg, sizeof msg,
		 "event_id %s was already used with a different payload; use a new event_id",
		 event_id);
	ingest_send_error(in, reply, request, 409, "event_id_conflict", "event_id", msg);
}

/* --- building what an event stores ----------------------------------------- */

static void ingest_build_result(const struct call_event *ev, const struct call *c,
				const struct router_position *pos, char *out, size_t cap)
{
	struct jsonw w;

	jsonw_init(&w, out, cap);
	jsonw_lit(&w, "{\"event_id\":");
	jsonw_string(&w, ev->event_id);
	jsonw_lit(&w, ",\"call_id\":");
	jsonw_string(&w, ev->call_id);
	jsonw_lit(&w, ",\"state\":");
	jsonw_string(&w, call_state_name(c->state));
	if (ev->type == EVENT_OFFERED) {
		jsonw_lit(&w, ",\"category\":");
		jsonw_string(&w, category_name(c->category));
		jsonw_lit(&w, ",\"queue\":");
		jsonw_string(&w, c->queue);
		jsonw_lit(&w, ",\"priority\":");
		jsonw_int(&w, c->priority);
		jsonw_lit(&w, ",\"rule\":");
		jsonw_string(&w, c->rule);
		if (pos->waiting) {
			jsonw_lit(&w, ",\"position\":");
			jsonw_int(&w, pos->position);
			jsonw_lit(&w, ",\"estimated_wait_s\":");
			jsonw_int(&w, pos->estimated_wait_s);
		}
	}
	jsonw_lit(&w, "}");
	(void)jsonw_end(&w); /* ids and names are bounded: it always fits */
}

/* Detail kept in the event log: everything but the caller's number, which
 * only appears masked. */
static void ingest_build_detail(const struct call_event *ev, const struct call *c, char *out,
				size_t cap)
{
	struct jsonw w;

	jsonw_init(&w, out, cap);
	jsonw_lit(&w, "{");
	switch (ev->type) {
	case EVENT_OFFERED:
		jsonw_lit(&w, "\"caller\":");
		jsonw_string(&w, c->caller_masked);
		jsonw_lit(&w, ",\"dialled\":");
		jsonw_string(&w, ev->dialled);
		jsonw_lit(&w, ",\"ivr_path\":");
		jsonw_string(&w, ev->ivr_path);
		jsonw_lit(&w, ",\"caller_flags\":[");
		for (size_t i = 0; i < ev->n_flags; i++) {
			if (i)
				jsonw_lit(&w, ",");
			jsonw_string(&w, ev->flags[i]);
		}
		jsonw_lit(&w, "]");
		if (ev->language[0]) {
			jsonw_lit(&w, ",\"language\":");
			jsonw_string(&w, ev->language);
		}
		break;
	case EVENT_OFFER_FAILED:
		jsonw_lit(&w, "\"agent\":");
		jsonw_string(&w, ev->agent);
		if (ev->cause[0]) {
			jsonw_lit(&w, ",\"cause\":");
			jsonw_string(&w, ev->cause);
		}
		break;
	case EVENT_ANSWERED:
		jsonw_lit(&w, "\"agent\":");
		jsonw_string(&w, ev->agent);
		break;
	case EVENT_TRANSFERRED:
		if (ev->to_queue[0]) {
			jsonw_lit(&w, "\"to_queue\":");
			jsonw_string(&w, ev->to_queue);
		} else {
			jsonw_lit(&w, "\"to_agent\":");
			jsonw_string(&w, ev->agent);
		}
		break;
	case EVENT_IVR_COMPLETED:
		if (ev->has_ivr_path) {
			jsonw_lit(&w, "\"ivr_path\":");
			jsonw_string(&w, ev->ivr_path);
		}
		break;
	case EVENT_ENDED:
		if (ev->cause[0]) {
			jsonw_lit(&w, "\"cause\":");
			jsonw_string(&w, ev->cause);
		}
		break;
	case EVENT_ABANDONED:
	case EVENT_TYPE_COUNT:
		break;
	}
	jsonw_lit(&w, "}");
	(void)jsonw_end(&w);
}

/* --- commit callbacks ------------------------------------------------------ */

static void ingest_answer_followers(struct ingest_op *op, int status, const char *body)
{
	struct ingest_op *f = op->followers;
	op->followers = NULL;
	while (f != NULL) {
		struct ingest_op *next = f->followers;
		if (status == 503)
			ingest_send_unavailable(f->in, f->reply, f->request);
		else
			ingest_send(f->in, f->reply, f->request, status, body, true);
		metrics_count_event(f->in->metrics, f->sop.ev.type,
				    status == 200 ? EVRES_REPLAYED : EVRES_REJECTED);
		ingest_op_free(f->in, f);
		f = next;
	}
}

/* Answers an op from what the database found instead of writing. */
static void ingest_answer_finding(struct ingest_op *op)
{
	struct ingest *in = op->in;
	struct store_op *s = &op->sop;
	char msg[256];

	switch (s->finding) {
	case STORE_FOUND_DUPLICATE:
		if (memcmp(s->stored_hash, s->ev.payload_hash, EVENT_HASH_BYTES) == 0) {
			ingest_send(in, op->reply, op->request, 200, s->stored_result, true);
			metrics_count_event(in->metrics, s->ev.type, EVRES_REPLAYED);
			return;
		}
		ingest_send_conflict(in, op->reply, op->request, s->ev.event_id);
		break;
	case STORE_FOUND_CALL_EXISTS:
		snprintf(msg, sizeof msg, "call %s already exists; call.offered needs a new call_id",
			 s->ev.call_id);
		ingest_send_error(in, op->reply, op->request, 409, "call_exists", "call_id", msg);
		break;
	case STORE_FOUND_VOIDED:
		snprintf(msg, sizeof msg, "the offer of call %s was refused, so %s cannot apply",
			 s->ev.call_id, event_type_name(s->ev.type));
		ingest_send_error(in, op->reply, op->request, 409, "illegal_transition", "call_id",
				  msg);
		break;
	case STORE_FOUND_CALL_STATE:
		snprintf(msg, sizeof msg, "%s is not allowed while call %s is %s",
			 event_type_name(s->ev.type), s->ev.call_id, s->stored_state);
		ingest_send_error(in, op->reply, op->request, 409, "illegal_transition", "type",
				  msg);
		break;
	case STORE_FOUND_UNKNOWN_CALL:
		snprintf(msg, sizeof msg, "call %s is unknown (send call.offered first)",
			 s->ev.call_id);
		ingest_send_error(in, op->reply, op->request, 404, "unknown_call", "call_id", msg);
		break;
	case STORE_FOUND_NOTHING:
		break;
	}
	metrics_count_event(in->metrics, s->ev.type, EVRES_REJECTED);
}

/* A write came back with a finding: the database knew the event or the call
 * and memory did not. The common case is an offer that memory took for a new
 * call (a retry of an old call, or a reuse of its id): that call exists in
 * memory only through this one event, so forgetting it makes memory right
 * again. Anything else means memory went wrong further, and is rebuilt. */
static void ingest_reconcile(struct ingest *in, struct ingest_op *op)
{
	char key[INGEST_KEY_MAX];
	size_t klen = ingest_key(key, op->sop.ev.centre, op->sop.ev.call_id);
	struct live_call *lc = strmap_get(in->calls, key, klen);

	if (op->sop.ev.type == EVENT_OFFERED && lc != NULL && lc->events == op->lev &&
	    op->lev != NULL && op->lev->next_in_call == NULL) {
		ingest_forget_call(in, lc);
		router_call_withdrawn(in->router, op->sop.ev.centre, op->sop.ev.call_id);
		return;
	}
	log_warn("ingest", "event %s of call %s: memory disagreed with PostgreSQL; reloading",
		 op->sop.ev.event_id, op->sop.ev.call_id);
	store_request_resync(in->store);
}

static void ingest_on_mirror(evutil_socket_t fd, short what, void *arg)
{
	struct ingest *in = arg;
	mirror_put_calls(in->mirror, in->mirror_pending, in->n_mirror_pending, true);
	in->n_mirror_pending = 0;
}

/* Queues a committed call's state for the mirror; the writes go out once the
 * whole batch has been answered. Dropped (with the rest of the mirror's
 * freshness) only when memory runs out or Redis is down. */
static void ingest_mirror_later(struct ingest *in, const struct call *c)
{
	if (!mirror_is_up(in->mirror))
		return;
	if (in->n_mirror_pending == in->mirror_pending_cap) {
		size_t cap = in->mirror_pending_cap ? in->mirror_pending_cap * 2 : 256;
		struct call *grown = realloc(in->mirror_pending, cap * sizeof *grown);
		if (grown == NULL)
			return;
		in->mirror_pending = grown;
		in->mirror_pending_cap = cap;
	}
	in->mirror_pending[in->n_mirror_pending++] = *c;
	if (in->n_mirror_pending == 1)
		event_active(in->ev_mirror, EV_TIMEOUT, 0);
}

/* store_op.done: see store.h for the contract. */
static void ingest_on_done(struct store_op *sop, enum store_status status)
{
	struct ingest_op *op = (struct ingest_op *)sop;
	struct ingest *in = op->in;

	if (op->lev)
		op->lev->op = NULL;
	if (status != STORE_COMMITTED) {
		/* Nothing acknowledged. The store reloads memory before it accepts
		 * anything again, so the state advanced for this op is discarded. */
		ingest_send_unavailable(in, op->reply, op->request);
		metrics_count_event(in->metrics, sop->ev.type, EVRES_REJECTED);
		ingest_answer_followers(op, 503, NULL);
		ingest_op_free(in, op);
		return;
	}
	if (sop->finding != STORE_FOUND_NOTHING) {
		ingest_answer_finding(op);
		/* Retries that waited on this copy get what the database said. */
		for (struct ingest_op *f = op->followers; f != NULL; f = f->followers) {
			f->sop.finding = sop->finding;
			memcpy(f->sop.stored_hash, sop->stored_hash, EVENT_HASH_BYTES);
			memcpy(f->sop.stored_result, sop->stored_result, sizeof f->sop.stored_result);
			memcpy(f->sop.stored_state, sop->stored_state, sizeof f->sop.stored_state);
		}
		while (op->followers != NULL) {
			struct ingest_op *f = op->followers;
			op->followers = f->followers;
			ingest_answer_finding(f);
			ingest_op_free(in, f);
		}
		if (sop->kind == STORE_OP_WRITE)
			ingest_reconcile(in, op);
		ingest_op_free(in, op);
		return;
	}
	if (op->lev)
		op->lev->committed = true;
	ingest_send(in, op->reply, op->request, 200, sop->result, false);
	metrics_count_event(in->metrics, sop->ev.type, EVRES_ACCEPTED);
	ingest_answer_followers(op, 200, sop->result);

	char key[INGEST_KEY_MAX];
	size_t klen = ingest_key(key, sop->row.centre, sop->row.call_id);
	struct live_call *lc = strmap_get(in->calls, key, klen);
	if (lc != NULL) {
		ingest_mirror_later(in, &sop->row);
		if (call_state_is_final(sop->row.state))
			ingest_forget_call(in, lc);
	}
	ingest_op_free(in, op);
}

/* --- the request path --------------------------------------------------------- */

static struct ingest_op *ingest_op_new(struct ingest *in, const struct call_event *ev,
				       ingest_reply_fn reply, void *request)
{
	struct ingest_op *op = in->spare_ops;
	if (op != NULL) {
		in->spare_ops = op->followers;
		in->n_spare_ops--;
	} else {
		op = malloc(sizeof *op);
		if (op == NULL)
			return NULL;
	}
	/* Only the header is cleared; the text buffers are written before use. */
	memset(&op->sop, 0, offsetof(struct store_op, ev));
	op->in = in;
	op->reply = reply;
	op->request = request;
	op->lev = NULL;
	op->followers = NULL;
	op->sop.ev = *ev;
	op->sop.kind = STORE_OP_WRITE;
	op->sop.finding = STORE_FOUND_NOTHING;
	op->sop.done = ingest_on_done;
	op->sop.owner = op;
	return op;
}

void ingest_submit(struct ingest *in, const char *body, size_t len, ingest_reply_fn reply,
		   void *request)
{
	struct call_event ev;
	struct event_error err;
	char ekey[INGEST_KEY_MAX], ckey[INGEST_KEY_MAX];
	struct ingest_op *op = NULL;

	if (!store_is_ready(in->store)) {
		ingest_send_unavailable(in, reply, request);
		return;
	}
	if (event_decode(body, len, &ev, &err) != 0) {
		ingest_send_error(in, reply, request, err.status, err.code, err.field, err.message);
		metrics_count_event(in->metrics, EVENT_TYPE_COUNT, EVRES_REJECTED);
		return;
	}
	if (strmap_get(in->centres, ev.centre, strlen(ev.centre)) == NULL) {
		char msg[128];
		snprintf(msg, sizeof msg, "centre '%s' is not configured (hotline-admin centre add)",
			 ev.centre);
		ingest_send_error(in, reply, request, 422, "unknown_centre", "centre", msg);
		metrics_count_event(in->metrics, ev.type, EVRES_REJECTED);
		return;
	}

	/* A known event id: a retry (same payload) or a conflict. */
	size_t eklen = ingest_key(ekey, ev.centre, ev.event_id);
	struct live_event *lev = strmap_get(in->events, ekey, eklen);
	if (lev != NULL) {
		if (memcmp(lev->hash, ev.payload_hash, EVENT_HASH_BYTES) != 0) {
			ingest_send_conflict(in, reply, request, ev.event_id);
			metrics_count_event(in->metrics, ev.type, EVRES_REJECTED);
			return;
		}
		if (lev->op == NULL && !lev->committed) {
			/* Its write failed or was refused, and memory is about to be
			 * rebuilt: nothing to replay yet. */
			ingest_send_unavailable(in, reply, request);
			metrics_count_event(in->metrics, ev.type, EVRES_REJECTED);
			return;
		}
		if (lev->op == NULL) {
			ingest_send(in, reply, request, 200, lev->result, true);
			metrics_count_event(in->metrics, ev.type, EVRES_REPLAYED);
			return;
		}
		op = ingest_op_new(in, &ev, reply, request);
		if (op == NULL)
			goto oom;
		op->followers = lev->op->followers;
		lev->op->followers = op;
		return;
	}

	size_t cklen = ingest_key(ckey, ev.centre, ev.call_id);
	struct live_call *lc = strmap_get(in->calls, ckey, cklen);
	op = ingest_op_new(in, &ev, reply, request);
	if (op == NULL)
		goto oom;

	if (ev.type == EVENT_OFFERED) {
		if (lc != NULL) {
			char msg[200];
			snprintf(msg, sizeof msg,
				 "call %s already exists (state %s); call.offered needs a new call_id",
				 ev.call_id, call_state_name(lc->call.state));
			ingest_send_error(in, reply, request, 409, "call_exists", "call_id", msg);
			metrics_count_event(in->metrics, ev.type, EVRES_REJECTED);
			ingest_op_free(in, op);
			return;
		}
		struct classify_input ci = {
			.dialled = ev.dialled,
			.ivr_path = ev.ivr_path,
			.n_flags = ev.n_flags,
		};
		const char *flags[EVENT_MAX_FLAGS];
		for (size_t i = 0; i < ev.n_flags; i++)
			flags[i] = ev.flags[i];
		ci.flags = flags;
		timeutil_local_clock(ev.at, &ci.minute_of_day, &ci.weekday);
		struct classify_result cr;
		classifier_classify(in->classifier, &ci, &cr);
		unsigned char caller_hash[PRIVACY_HASH_BYTES];
		privacy_hash_number((const unsigned char *)in->caller_key, strlen(in->caller_key),
				    ev.caller, caller_hash);
		lc = calloc(1, sizeof *lc);
		if (lc == NULL)
			goto oom;
		call_start(&lc->call, &ev, &cr, caller_hash);
		router_route_offer(in->router, &lc->call);
		if (strmap_put(in->calls, ckey, cklen, lc) != 0) {
			free(lc);
			goto oom;
		}
	} else {
		if (lc == NULL) {
			/* Not in memory: ended long ago, or never existed, or a retry
			 * of an event of a finished call. The database knows. */
			op->sop.kind = STORE_OP_LOOKUP;
			if (store_submit(in->store, &op->sop) != 0) {
				ingest_op_free(in, op);
				ingest_send_unavailable(in, reply, request);
			}
			return;
		}
		if (call_check_event(&lc->call, &ev, &err) != 0) {
			ingest_send_error(in, reply, request, err.status, err.code, err.field,
					  err.message);
			metrics_count_event(in->metrics, ev.type, EVRES_REJECTED);
			ingest_op_free(in, op);
			return;
		}
		call_apply_event(&lc->call, &ev);
	}

	/* The ACD takes the event now; the rows it writes follow the event's. */
	struct router_position pos;
	router_call_event(in->router, &lc->call, &ev, &pos);
	op->sop.kind = STORE_OP_WRITE;
	op->sop.row = lc->call;
	ingest_build_result(&ev, &lc->call, &pos, op->sop.result, sizeof op->sop.result);
	ingest_build_detail(&ev, &lc->call, op->sop.detail, sizeof op->sop.detail);
	op->lev = ingest_remember_event(in, lc, ev.event_id, ev.payload_hash, op->sop.result);
	if (op->lev == NULL)
		goto oom;
	op->lev->op = op;
	if (store_submit(in->store, &op->sop) != 0) {
		/* Unreachable while the store is ready (checked above); keep the
		 * answer honest anyway, and memory, which moved on, is rebuilt. */
		op->lev->op = NULL;
		store_request_resync(in->store);
		ingest_send_unavailable(in, reply, request);
		ingest_op_free(in, op);
	}
	router_flush(in->router);
	return;
oom:
	log_error("ingest", "out of memory while accepting event %s of call %s", ev.event_id,
		  ev.call_id);
	/* Memory may hold a change that will not be written: rebuild it. */
	store_request_resync(in->store);
	ingest_op_free(in, op);
	ingest_send_error(in, reply, request, 500, "internal", NULL, "out of memory");
}

/* --- recovery (store hooks) ------------------------------------------------ */

static int ingest_recover_begin(void *arg)
{
	struct ingest *in = arg;
	if (router_recover_begin(in->router) != 0)
		return -1;
	return ingest_clear_memory(in);
}

static int ingest_recover_rows(void *arg, size_t index, const struct store_rows *rows)
{
	struct ingest *in = arg;
	return router_recover_rows(in->router, index, rows);
}

static int ingest_centres_reset(void *arg)
{
	struct ingest *in = arg;
	struct strmap *fresh = strmap_new();
	if (fresh == NULL)
		return -1;
	strmap_each(in->centres, ingest_free_value, NULL);
	strmap_free(in->centres);
	in->centres = fresh;
	return 0;
}

static int ingest_recover_centre(void *arg, const char *code, const char *name)
{
	struct ingest *in = arg;
	if (router_recover_centre(in->router, code) != 0)
		return -1;
	char *copy = strdup(name);
	if (copy == NULL)
		return -1;
	char *old = strmap_get(in->centres, code, strlen(code));
	if (strmap_put(in->centres, code, strlen(code), copy) != 0) {
		free(copy);
		return -1;
	}
	free(old);
	return 0;
}

static int ingest_recover_call(void *arg, const struct call *c)
{
	struct ingest *in = arg;
	char key[INGEST_KEY_MAX];
	size_t klen = ingest_key(key, c->centre, c->call_id);
	struct live_call *lc = calloc(1, sizeof *lc);

	if (lc == NULL)
		return -1;
	lc->call = *c;
	/* The row says how the call started; its events say where it is now. */
	lc->call.state = CALL_QUEUED;
	lc->call.answered_at = 0;
	if (strmap_put(in->calls, key, klen, lc) != 0) {
		free(lc);
		return -1;
	}
	return 0;
}

/* Rebuilds the event a logged row stands for, enough to replay it. */
static int ingest_event_from_log(const struct store_recovered_event *e, struct call_event *ev)
{
	json_error_t jerr;
	json_t *d;
	int t;

	memset(ev, 0, sizeof *ev);
	for (t = 0; t < EVENT_TYPE_COUNT; t++)
		if (strcmp(e->type, event_type_name((enum event_type)t)) == 0)
			break;
	if (t == EVENT_TYPE_COUNT)
		return -1;
	ev->type = (enum event_type)t;
	ev->at = e->at;
	snprintf(ev->centre, sizeof ev->centre, "%s", e->centre);
	snprintf(ev->call_id, sizeof ev->call_id, "%s", e->call_id);
	snprintf(ev->event_id, sizeof ev->event_id, "%s", e->event_id);
	d = json_loads(e->detail, 0, &jerr);
	if (d == NULL)
		return -1;
	const char *agent = json_string_value(json_object_get(d, "agent"));
	const char *to_agent = json_string_value(json_object_get(d, "to_agent"));
	const char *to_queue = json_string_value(json_object_get(d, "to_queue"));
	const char *ivr = json_string_value(json_object_get(d, "ivr_path"));
	const char *language = json_string_value(json_object_get(d, "language"));
	if (language && ev->type == EVENT_OFFERED)
		snprintf(ev->language, sizeof ev->language, "%s", language);
	if (agent || to_agent)
		snprintf(ev->agent, sizeof ev->agent, "%s", agent ? agent : to_agent);
	if (to_queue)
		snprintf(ev->to_queue, sizeof ev->to_queue, "%s", to_queue);
	if (ivr && ev->type == EVENT_IVR_COMPLETED) {
		snprintf(ev->ivr_path, sizeof ev->ivr_path, "%s", ivr);
		ev->has_ivr_path = true;
	}
	json_decref(d);
	return 0;
}

static int ingest_recover_event(void *arg, const struct store_recovered_event *e)
{
	struct ingest *in = arg;
	char key[INGEST_KEY_MAX];
	size_t klen = ingest_key(key, e->centre, e->call_id);
	struct live_call *lc = strmap_get(in->calls, key, klen);
	struct call_event ev;

	if (lc == NULL || ingest_event_from_log(e, &ev) != 0) {
		log_error("ingest", "recovery: cannot replay event %s of call %s", e->event_id,
			  e->call_id);
		return -1;
	}
	if (ev.type != EVENT_OFFERED)
		call_apply_event(&lc->call, &ev);
	else
		memcpy(lc->call.language, ev.language, sizeof lc->call.language);
	struct live_event *lev = ingest_remember_event(in, lc, e->event_id, e->hash, e->result);
	if (lev == NULL)
		return -1;
	lev->committed = true;
	return 0;
}

static void ingest_mirror_collect(const char *key, size_t key_len, void *value, void *arg)
{
	struct live_call *lc = value;
	struct call **cursor = arg;
	*(*cursor)++ = lc->call;
}

static void ingest_mirror_clear_centre(const char *code, size_t key_len, void *value, void *arg)
{
	mirror_clear_centre(arg, code);
}

/* Rewrites the whole Redis mirror from memory (mirror resync hook). */
static void ingest_mirror_resync(void *arg)
{
	struct ingest *in = arg;
	size_t n = strmap_count(in->calls);
	struct call *all = malloc((n ? n : 1) * sizeof *all);
	struct call *cursor = all;

	strmap_each(in->centres, ingest_mirror_clear_centre, in->mirror);
	if (all == NULL) {
		log_warn("ingest", "out of memory while rewriting the Redis mirror");
		return;
	}
	strmap_each(in->calls, ingest_mirror_collect, &cursor);
	mirror_put_calls(in->mirror, all, n, false);
	free(all);
	router_mirror_resync(in->router);
}

struct ingest_restore {
	struct router *router;
	int failed;
};

static void ingest_restore_call(const char *key, size_t key_len, void *value, void *arg)
{
	struct live_call *lc = value;
	struct ingest_restore *st = arg;
	if (router_recover_call(st->router, &lc->call) != 0)
		st->failed = 1;
}

static void ingest_recover_done(void *arg, size_t n_calls, size_t n_events)
{
	struct ingest *in = arg;
	struct ingest_restore st = {in->router, 0};
	strmap_each(in->calls, ingest_restore_call, &st);
	if (st.failed || router_recover_done(in->router) != 0) {
		log_error("ingest", "the ACD could not be rebuilt from PostgreSQL; reloading again");
		store_request_resync(in->store);
	}
	orders_store_ready(in->orders);
	in->metrics->recoveries++;
	log_info("ingest", "state loaded from PostgreSQL: %zu centre(s), %zu call(s) in progress, "
		 "%zu event(s)", strmap_count(in->centres), n_calls, n_events);
	if (mirror_is_up(in->mirror))
		ingest_mirror_resync(in);
}

static void ingest_went_down(void *arg, const char *why)
{
	struct ingest *in = arg;
	in->metrics->store_disconnects++;
}

static void ingest_batch_done(void *arg, size_t n_ops, int64_t usec, bool ok)
{
	struct ingest *in = arg;
	metrics_count_batch(in->metrics, n_ops, (double)usec / 1e6, ok);
}

/* --- lifecycle -------------------------------------------------------------- */

static struct store_limits ingest_limits(const struct config *cfg)
{
	struct store_limits l = {
		.connections = cfg->database_connections,
		.max_batch = cfg->database_max_batch,
		.reconnect_min_ms = cfg->database_reconnect_min_ms,
		.reconnect_max_ms = cfg->database_reconnect_max_ms,
	};
	return l;
}

/* router_queue_fn: the ACD moved a call (overflow). */
static void ingest_on_queue_change(void *arg, const char *centre, const char *call_id,
				   const char *queue)
{
	struct ingest *in = arg;
	char key[INGEST_KEY_MAX];
	size_t klen = ingest_key(key, centre, call_id);
	struct live_call *lc = strmap_get(in->calls, key, klen);
	if (lc != NULL)
		snprintf(lc->call.queue, sizeof lc->call.queue, "%s", queue);
}

struct ingest *ingest_new(struct event_base *base, const struct config *cfg,
			  const struct classifier *cls, struct queues_file *qf,
			  struct wo_config *wc, struct metrics *metrics)
{
	struct ingest *in = calloc(1, sizeof *in);
	if (in == NULL) {
		queues_free(qf);
		wo_config_free(wc);
		return NULL;
	}
	in->router = router_new(base, cfg, qf, metrics);
	in->orders = orders_new(base, cfg, wc, metrics);
	in->bookings = bookings_new(metrics);
	in->statsfold = statsfold_new(base, cfg->stats_fold_interval_ms);
	size_t n_router, n_orders, n_bookings, n_fold;
	const struct store_statement *rs = router_statements(&n_router);
	const struct store_statement *os = orders_statements(&n_orders);
	const struct store_statement *bs = bookings_statements(&n_bookings);
	const struct store_statement *fs = statsfold_statements(&n_fold);
	in->statements =
		calloc(n_router + n_orders + n_bookings + n_fold, sizeof *in->statements);
	if (in->router == NULL || in->orders == NULL || in->bookings == NULL ||
	    in->statsfold == NULL || in->statements == NULL) {
		router_free(in->router);
		orders_free(in->orders);
		bookings_free(in->bookings);
		statsfold_free(in->statsfold);
		free(in->statements);
		free(in);
		return NULL;
	}
	memcpy(in->statements, rs, n_router * sizeof *rs);
	memcpy(in->statements + n_router, os, n_orders * sizeof *os);
	memcpy(in->statements + n_router + n_orders, bs, n_bookings * sizeof *bs);
	memcpy(in->statements + n_router + n_orders + n_bookings, fs, n_fold * sizeof *fs);
	struct store_hooks hooks = {
		.recover_begin = ingest_recover_begin,
		.recover_centre = ingest_recover_centre,
		.centres_reset = ingest_centres_reset,
		.recover_call = ingest_recover_call,
		.recover_event = ingest_recover_event,
		.recover_rows = ingest_recover_rows,
		.recover_done = ingest_recover_done,
		.went_down = ingest_went_down,
		.batch_done = ingest_batch_done,
	};
	hooks.statements = in->statements;
	hooks.n_statements = n_router + n_orders + n_bookings + n_fold;
	hooks.recovery_queries = router_recovery_queries(in->router, &hooks.n_recovery_queries);
	in->base = base;
	in->metrics = metrics;
	in->classifier = cls;
	in->retry_after_s = cfg->database_retry_after_s;
	in->caller_key = strdup(cfg->privacy_caller_key);
	in->centres = strmap_new();
	in->calls = strmap_new();
	in->events = strmap_new();
	in->ev_mirror = event_new(base, -1, 0, ingest_on_mirror, in);
	struct store_limits limits = ingest_limits(cfg);
	in->store = store_new(base, cfg->database_url, &limits, &hooks, in);
	in->mirror = mirror_new(base, cfg->redis_host, (int)cfg->redis_port, cfg->redis_key_prefix,
				ingest_mirror_resync, in);
	if (in->caller_key == NULL || in->centres == NULL || in->calls == NULL ||
	    in->events == NULL || in->store == NULL || in->mirror == NULL || in->ev_mirror == NULL) {
		ingest_free(in);
		return NULL;
	}
	router_attach(in->router, in->store, in->mirror);
	router_on_queue_change(in->router, ingest_on_queue_change, in);
	orders_attach(in->orders, in->store, in->router);
	bookings_attach(in->bookings, in->store, in->router);
	statsfold_attach(in->statsfold, in->store);
	return in;
}

void ingest_start(struct ingest *in)
{
	store_start(in->store);
	mirror_start(in->mirror);
}

void ingest_set_config(struct ingest *in, const struct config *cfg, const struct classifier *cls)
{
	struct store_limits limits = ingest_limits(cfg);
	store_set_limits(in->store, &limits);
	in->retry_after_s = cfg->database_retry_after_s;
	in->classifier = cls;
	router_set_config(in->router, cfg);
	statsfold_set_interval(in->statsfold, cfg->stats_fold_interval_ms);
}

struct statsfold_counts ingest_statsfold_counts(const struct ingest *in)
{
	return statsfold_counts(in->statsfold);
}

struct router *ingest_router(struct ingest *in)
{
	return in->router;
}

struct orders *ingest_orders(struct ingest *in)
{
	return in->orders;
}

struct bookings *ingest_bookings(struct ingest *in)
{
	return in->bookings;
}

void ingest_close_streams(struct ingest *in)
{
	router_close_streams(in->router);
}

void ingest_refresh_centres(struct ingest *in)
{
	store_refresh_centres(in->store);
}

const char *ingest_store_state(const struct ingest *in)
{
	return store_state_name(in->store);
}

bool ingest_store_ready(const struct ingest *in)
{
	return store_is_ready(in->store);
}

bool ingest_redis_up(const struct ingest *in)
{
	return mirror_is_up(in->mirror);
}

size_t ingest_calls_in_progress(const struct ingest *in)
{
	return strmap_count(in->calls);
}

size_t ingest_store_backlog(const struct ingest *in)
{
	return store_backlog(in->store);
}

void ingest_free(struct ingest *in)
{
	if (in == NULL)
		return;
	/* The store fails what is still queued; answers go out before memory goes. */
	store_free(in->store);
	router_attach(in->router, NULL, NULL);
	router_free(in->router);
	orders_attach(in->orders, NULL, NULL);
	orders_free(in->orders);
	bookings_attach(in->bookings, NULL, NULL);
	bookings_free(in->bookings);
	statsfold_attach(in->statsfold, NULL);
	statsfold_free(in->statsfold);
	free(in->statements);
	if (in->ev_mirror)
		event_free(in->ev_mirror);
	free(in->mirror_pending);
	while (in->spare_ops != NULL) {
		struct ingest_op *next = in->spare_ops->followers;
		free(in->spare_ops);
		in->spare_ops = next;
	}
	mirror_free(in->mirror);
	ingest_drop_memory(in);
	free(in->caller_key);
	free(in);
}
