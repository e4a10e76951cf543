/* outbox.c: the outbox dispatcher (see outbox.h): a table of rows in flight,
 * one HTTP client pool per platform, and one timer that decides when to ask
 * the source for more.
 *
 * Each row in flight holds a slot, and each slot goes through
 *
 *   FREE -> POSTING -> RECORDING -> FREE
 *           (UNSENT)               (SETTLING)
 *
 * changed only by outbox_slot_set_state. UNSENT is a row that could not be
 * posted at all (no such platform, no memory): its outcome is handed to the
 * source from the next loop pass, never from inside outbox_rows. SETTLING is
 * a row whose outcome became durable while a fetch was outstanding: that
 * fetch may have read the row before the outcome was written, so the slot
 * keeps the id until the fetch answers, and the stale copy is dropped.
 *
 * When to fetch: at once after outbox_new, a kick, or a fetch that filled its
 * limit (there is more); when the earliest retry recorded by this dispatcher
 * comes due; and at least every poll interval, for rows another dispatcher
 * left behind. Never while a fetch is outstanding or every slot is taken: the
 * answer or a freed slot re-arms the timer.
 */
#include "outbox.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "httpc.h"
#include "log.h"
#include "timeutil.h"

#define OUTBOX_KEY_HEADER "Idempotency-Key"
#define OUTBOX_EXCERPT_MAX 200 /* bytes of a refusal's body kept in the error */
#define OUTBOX_ERROR_MAX 320
#define OUTBOX_IN_FLIGHT_MAX 10000 /* slots are searched linearly */

static const struct outbox_limits outbox_defaults = {
	.max_in_flight = 64,
	.connections = 8,
	.request_timeout_ms = 10000,
	.poll_interval_ms = 2000,
	.backoff_min_ms = 1000,
	.backoff_max_ms = 300000,
};

enum outbox_slot_state {
	OUTBOX_SLOT_FREE,
	OUTBOX_SLOT_POSTING,   /* the POST is on its platform's pool */
	OUTBOX_SLOT_UNSENT,    /* could not be posted; recorded from the next pass */
	OUTBOX_SLOT_RECORDING, /* the outcome is with the source */
	OUTBOX_SLOT_SETTLING,  /* recorded during a fetch; freed when it answers */
};

static const char *const outbox_slot_state_names[] = {
	[OUTBOX_SLOT_FREE] = "free",         [OUTBOX_SLOT_POSTING] = "posting",
	[OUTBOX_SLOT_UNSENT] = "unsent",     [OUTBOX_SLOT_RECORDING] = "recording",
	[OUTBOX_SLOT_SETTLING] = "settling",
};

struct outbox_target {
	char *name;
	struct httpc *pool;
};

struct outbox_slot {
	struct outbox *o;
	enum outbox_slot_state state;
	int64_t id;
	int attempts;                 /* recorded before this attempt */
	char *data;                   /* owned: key, payload and platform, each NUL-ended */
	const char *key;              /* in data */
	const char *payload;          /* in data */
	const char *platform;         /* in data */
	bool unsent_permanent;        /* UNSENT: the row can never be posted */
	bool retry;                   /* RECORDING: the outcome was a retry at... */
	int64_t next_attempt_at;      /* ...this time (usec) */
	char error[OUTBOX_ERROR_MAX]; /* UNSENT: why */
};

struct outbox {
	struct event_base *base;
	struct outbox_source src;
	struct outbox_limits limits;
	struct outbox_target *targets;
	size_t n_targets;

	struct outbox_slot *slots;
	size_t n_slots;
	size_t n_free;

	struct event *timer;
	bool fetching;      /* a fetch is outstanding */
	size_t fetch_limit; /* the outstanding fetch's limit */
	bool fetch_soon;    /* fetch as soon as allowed */
	bool backlog;       /* the last fetch filled its limit */
	bool have_unsent;   /* some slot is UNSENT */
	int64_t next_poll_usec;
	int64_t next_due_usec; /* the earliest retry recorded; INT64_MAX: none */

	struct outbox_stats stats;
};

/* --- pure helpers ----------------------------------------------------------- */

enum outbox_verdict outbox_classify_status(int status)
{
	if (status >= 200 && status < 300)
		return OUTBOX_DELIVERED;
	if (status >= 400 && status < 500 && status != 408 && status != 429)
		return OUTBOX_REFUSED;
	return OUTBOX_RETRY;
}

/* limits with every zero field replaced by its default. */
static struct outbox_limits outbox_effective_limits(const struct outbox_limits *limits)
{
	struct outbox_limits l = limits != NULL ? *limits : outbox_defaults;

	if (l.max_in_flight == 0)
		l.max_in_flight = outbox_defaults.max_in_flight;
	if (l.connections == 0)
		l.connections = outbox_defaults.connections;
	if (l.request_timeout_ms == 0)
		l.request_timeout_ms = outbox_defaults.request_timeout_ms;
	if (l.poll_interval_ms == 0)
		l.poll_interval_ms = outbox_defaults.poll_interval_ms;
	if (l.backoff_min_ms == 0)
		l.backoff_min_ms = outbox_defaults.backoff_min_ms;
	if (l.backoff_max_ms == 0)
		l.backoff_max_ms = outbox_defaults.backoff_max_ms;
	return l;
}

int64_t outbox_backoff_usec(const struct outbox_limits *limits, int attempts, int retry_after_s)
{
	const struct outbox_limits l = outbox_effective_limits(limits);
	const int64_t max = (int64_t)l.backoff_max_ms * 1000;
	int64_t delay = (int64_t)l.backoff_min_ms * 1000;

	for (int i = 1; i < attempts && delay < max; i++)
		delay *= 2;
	if (retry_after_s >= 0 && (int64_t)retry_after_s * 1000000 > delay)
		delay = (int64_t)retry_after_s * 1000000;
	return delay < max ? delay : max;
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0. */
static size_t outbox_utf8_sequence(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0; /* not overlong */
	else if (s[0] == 0xed)
		hi = 0x9f; /* not a surrogate */
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f; /* not above U+10FFFF */
	if (len > n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* Appends to out (NUL-terminated, cap bytes) at most max bytes of body as
 * text a database column takes: control characters become spaces, bytes that
 * are not UTF-8 become '?', and a cut is marked "...". */
static void outbox_append_excerpt(char *out, size_t cap, const char *body, size_t body_len,
				  size_t max)
{
	const unsigned char *s = (const unsigned char *)body;
	size_t len = strlen(out);
	size_t taken = 0;

	if (cap < len + 4)
		return;
	const size_t room = cap - 4 - len; /* "..." and the NUL stay free */
	if (max > room)
		max = room;
	while (taken < body_len) {
		const size_t seq = outbox_utf8_sequence(s + taken, body_len - taken);
		const size_t step = seq > 0 ? seq : 1;
		if (taken + step > max)
			break;
		if (seq == 0) {
			out[len] = '?';
		} else if (seq == 1) {
			out[len] = (s[taken] < 0x20 || s[taken] == 0x7f) ? ' ' : (char)s[taken];
		} else {
			memcpy(out + len, s + taken, seq);
		}
		len += step;
		taken += step;
	}
	if (taken < body_len) {
		memcpy(out + len, "...", 3);
		len += 3;
	}
	out[len] = '\0';
}

/* --- slots ------------------------------------------------------------------ */

static void outbox_schedule(struct outbox *o);

/* The one place a slot changes state; frees the row's copy once its outcome
 * is with the source for good. */
static void outbox_slot_set_state(struct outbox_slot *slot, enum outbox_slot_state to)
{
	struct outbox *o = slot->o;

	log_debug("outbox", "row %" PRId64 ": %s -> %s", slot->id,
		  outbox_slot_state_names[slot->state], outbox_slot_state_names[to]);
	if (slot->state == OUTBOX_SLOT_FREE)
		o->n_free--;
	if (to == OUTBOX_SLOT_FREE)
		o->n_free++;
	if (to == OUTBOX_SLOT_FREE || to == OUTBOX_SLOT_SETTLING) {
		free(slot->data);
		slot->data = NULL;
		slot->key = slot->payload = slot->platform = NULL;
	}
	slot->state = to;
}

static struct outbox_slot *outbox_slot_in_flight(struct outbox *o, int64_t id)
{
	for (size_t i = 0; i < o->n_slots; i++)
		if (o->slots[i].state != OUTBOX_SLOT_FREE && o->slots[i].id == id)
			return &o->slots[i];
	return NULL;
}

static struct outbox_slot *outbox_slot_free_one(struct outbox *o)
{
	for (size_t i = 0; i < o->n_slots; i++)
		if (o->slots[i].state == OUTBOX_SLOT_FREE)
			return &o->slots[i];
	return NULL;
}

static struct outbox_target *outbox_target_find(struct outbox *o, const char *name)
{
	for (size_t i = 0; i < o->n_targets; i++)
		if (strcmp(o->targets[i].name, name) == 0)
			return &o->targets[i];
	return NULL;
}

/* --- attempts --------------------------------------------------------------- */

/*
 * Hands one attempt's outcome to the source. error goes to the source,
 * summary (no response body: a platform may echo personal data) to the log.
 * The slot is RECORDING before record runs, since the source may call
 * outbox_recorded from inside it.
 */
static void outbox_record_attempt(struct outbox_slot *slot, enum outbox_verdict verdict,
				  const char *error, const char *summary, int retry_after_s)
{
	struct outbox *o = slot->o;
	const int attempt = slot->attempts + 1;
	int64_t next = 0;

	slot->retry = verdict == OUTBOX_RETRY;
	switch (verdict) {
	case OUTBOX_DELIVERED:
		o->stats.delivered++;
		log_debug("outbox", "row %" PRId64 " delivered to %s (key %s, attempt %d)",
			  slot->id, slot->platform, slot->key, attempt);
		break;
	case OUTBOX_REFUSED:
		o->stats.failed++;
		log_error("outbox",
			  "row %" PRId64 " refused for good by %s (key %s, attempt %d): %s; "
			  "it will not be retried",
			  slot->id, slot->platform, slot->key, attempt, summary);
		break;
	case OUTBOX_RETRY: {
		const int64_t delay = outbox_backoff_usec(&o->limits, attempt, retry_after_s);
		next = timeutil_now_usec() + delay;
		o->stats.retried++;
		log_warn("outbox",
			 "row %" PRId64 " not delivered to %s (key %s, attempt %d): %s; "
			 "retrying in %" PRId64 " ms",
			 slot->id, slot->platform, slot->key, attempt, summary, delay / 1000);
		break;
	}
	}
	slot->next_attempt_at = next;
	outbox_slot_set_state(slot, OUTBOX_SLOT_RECORDING);
	o->src.record(o->src.arg, slot->id, verdict == OUTBOX_DELIVERED, verdict == OUTBOX_REFUSED,
		      next, verdict == OUTBOX_DELIVERED ? NULL : error);
}

/* httpc's answer to a row's POST. */
static void outbox_on_answer(const struct httpc_response *r, void *arg)
{
	struct outbox_slot *slot = arg;
	char error[OUTBOX_ERROR_MAX];
	char summary[32];

	if (r->status == 0) {
		snprintf(error, sizeof error, "%s", r->failure);
		outbox_record_attempt(slot, OUTBOX_RETRY, error, error, -1);
		return;
	}
	snprintf(summary, sizeof summary, "HTTP %d", r->status);
	snprintf(error, sizeof error, "HTTP %d: ", r->status);
	outbox_append_excerpt(error, sizeof error, r->body, r->body_len, OUTBOX_EXCERPT_MAX);
	outbox_record_attempt(slot, outbox_classify_status(r->status), error, summary,
			      r->retry_after_s);
}

/* Leaves slot UNSENT, to be recorded from the next loop pass. */
static void outbox_slot_unsent(struct outbox_slot *slot, bool permanent, const char *why)
{
	slot->unsent_permanent = permanent;
	snprintf(slot->error, sizeof slot->error, "%s", why);
	outbox_slot_set_state(slot, OUTBOX_SLOT_UNSENT);
	slot->o->have_unsent = true;
}

/* Copies row into slot and posts it. */
static void outbox_post_row(struct outbox *o, struct outbox_slot *slot,
			    const struct outbox_row *row)
{
	const size_t key_len = strlen(row->key);
	const size_t payload_len = strlen(row->payload);
	const size_t platform_len = strlen(row->platform);

	slot->id = row->id;
	slot->attempts = row->attempts;
	slot->data = malloc(key_len + payload_len + platform_len + 3);
	if (slot->data == NULL) {
		/* The row keeps its slot (so is not fetched again at once) and is
		 * retried after the backoff. */
		slot->key = slot->payload = slot->platform = "";
		outbox_slot_unsent(slot, false, "out of memory");
		return;
	}
	memcpy(slot->data, row->key, key_len + 1);
	memcpy(slot->data + key_len + 1, row->payload, payload_len + 1);
	memcpy(slot->data + key_len + payload_len + 2, row->platform, platform_len + 1);
	slot->key = slot->data;
	slot->payload = slot->data + key_len + 1;
	slot->platform = slot->data + key_len + payload_len + 2;
	outbox_slot_set_state(slot, OUTBOX_SLOT_POSTING);

	struct outbox_target *t = outbox_target_find(o, row->platform);
	if (t == NULL) {
		/* Retried, not failed: the platform may come back with the config. */
		char why[OUTBOX_ERROR_MAX];
		snprintf(why, sizeof why, "no platform named \"%s\" is configured", slot->platform);
		outbox_slot_unsent(slot, false, why);
		return;
	}
	int rc = httpc_post_json_header(t->pool, "", slot->payload, payload_len, OUTBOX_KEY_HEADER,
					slot->key, outbox_on_answer, slot);
	if (rc == -EINVAL)
		outbox_slot_unsent(slot, true,
				   "the idempotency key is empty, too long or holds control "
				   "characters: it cannot be sent as a header");
	else if (rc != 0)
		outbox_slot_unsent(slot, false, "out of memory");
}

/* Hands the outcomes of UNSENT slots to the source. */
static void outbox_record_unsent(struct outbox *o)
{
	o->have_unsent = false;
	for (size_t i = 0; i < o->n_slots; i++) {
		struct outbox_slot *slot = &o->slots[i];
		if (slot->state == OUTBOX_SLOT_UNSENT)
			outbox_record_attempt(
				slot, slot->unsent_permanent ? OUTBOX_REFUSED : OUTBOX_RETRY,
				slot->error, slot->error, -1);
	}
}

/* --- fetching --------------------------------------------------------------- */

static void outbox_start_fetch(struct outbox *o, int64_t now)
{
	o->fetching = true;
	o->fetch_soon = false;
	o->fetch_limit = o->n_free;
	o->next_poll_usec = now + (int64_t)o->limits.poll_interval_ms * 1000;
	if (o->next_due_usec <= now)
		o->next_due_usec = INT64_MAX; /* this fetch finds them */
	o->stats.fetches++;
	o->src.fetch(o->src.arg, o->fetch_limit);
	/* outbox_rows may have run already. */
}

static void outbox_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct outbox *o = arg;

	if (o->have_unsent)
		outbox_record_unsent(o);
	const int64_t now = timeutil_now_usec();
	if (!o->fetching && o->n_free > 0 &&
	    (o->fetch_soon || now >= o->next_poll_usec || now >= o->next_due_usec))
		outbox_start_fetch(o, now);
	outbox_schedule(o);
}

/* Arms the timer for the next thing to do, or leaves it off while a fetch
 * answer or a recorded outcome will call again. */
static void outbox_schedule(struct outbox *o)
{
	int64_t delay;

	if (o->have_unsent) {
		delay = 0;
	} else if (o->fetching || o->n_free == 0) {
		event_del(o->timer);
		return;
	} else if (o->fetch_soon) {
		delay = 0;
	} else {
		const int64_t at = o->next_poll_usec < o->next_due_usec ? o->next_poll_usec :
									  o->next_due_usec;
		delay = at - timeutil_now_usec();
		if (delay < 0)
			delay = 0;
	}
	struct timeval tv = {.tv_sec = delay / 1000000, .tv_usec = delay % 1000000};
	event_add(o->timer, &tv);
}

void outbox_rows(struct outbox *o, const struct outbox_row *rows, size_t n)
{
	size_t accepted = 0, skipped = 0;

	if (!o->fetching) {
		log_warn("outbox", "%zu rows arrived with no fetch outstanding; ignored", n);
		return;
	}
	o->fetching = false;
	for (size_t i = 0; i < n; i++) {
		if (outbox_slot_in_flight(o, rows[i].id) != NULL) {
			skipped++;
			continue;
		}
		struct outbox_slot *slot = outbox_slot_free_one(o);
		if (slot == NULL) {
			log_warn("outbox",
				 "the source returned %zu rows for a fetch of %zu; "
				 "the rest wait for the next fetch",
				 n, o->fetch_limit);
			break;
		}
		outbox_post_row(o, slot, &rows[i]);
		accepted++;
	}
	/* The fetch that might have read their old state has answered. */
	for (size_t i = 0; i < o->n_slots; i++)
		if (o->slots[i].state == OUTBOX_SLOT_SETTLING)
			outbox_slot_set_state(&o->slots[i], OUTBOX_SLOT_FREE);
	if (n > 0)
		log_debug("outbox", "fetched %zu rows: %zu posted, %zu already in flight", n,
			  accepted, skipped);
	/* A full answer means more may be waiting; but one made only of rows in
	 * flight must not turn into a loop of fetches. */
	o->backlog = n >= o->fetch_limit;
	if (o->backlog && accepted > 0)
		o->fetch_soon = true;
	outbox_schedule(o);
}

void outbox_recorded(struct outbox *o, int64_t id)
{
	struct outbox_slot *slot = outbox_slot_in_flight(o, id);

	if (slot == NULL || slot->state != OUTBOX_SLOT_RECORDING) {
		log_debug("outbox", "row %" PRId64 " recorded but not awaiting it; ignored", id);
		return;
	}
	if (slot->retry && slot->next_attempt_at < o->next_due_usec)
		o->next_due_usec = slot->next_attempt_at;
	outbox_slot_set_state(slot, o->fetching ? OUTBOX_SLOT_SETTLING : OUTBOX_SLOT_FREE);
	if (o->backlog)
		o->fetch_soon = true;
	outbox_schedule(o);
}

void outbox_kick(struct outbox *o)
{
	o->fetch_soon = true;
	outbox_schedule(o);
}

struct outbox_stats outbox_get_stats(const struct outbox *o)
{
	struct outbox_stats s = o->stats;
	s.in_flight = o->n_slots - o->n_free;
	return s;
}

/* --- lifecycle -------------------------------------------------------------- */

static bool outbox_limits_valid(const struct outbox_limits *l)
{
	if (l->max_in_flight > OUTBOX_IN_FLIGHT_MAX || l->request_timeout_ms < 0 ||
	    l->poll_interval_ms < 0 || l->backoff_min_ms < 0 || l->backoff_max_ms < 0) {
		log_error("outbox",
			  "limits: max_in_flight must be at most %d and the times "
			  "positive",
			  OUTBOX_IN_FLIGHT_MAX);
		return false;
	}
	if (l->backoff_min_ms > l->backoff_max_ms) {
		log_error("outbox", "limits: backoff_min_ms %d is above backoff_max_ms %d",
			  l->backoff_min_ms, l->backoff_max_ms);
		return false;
	}
	return true;
}

struct outbox *outbox_new(struct event_base *base, const struct outbox_platform *platforms,
			  size_t n, const struct outbox_source *src,
			  const struct outbox_limits *limits)
{
	struct outbox *o = NULL;
	const struct outbox_limits l = outbox_effective_limits(limits);
	char err[256];

	if (!outbox_limits_valid(&l))
		return NULL;
	o = calloc(1, sizeof *o);
	if (o == NULL)
		goto oom;
	o->base = base;
	o->src = *src;
	o->limits = l;
	o->next_due_usec = INT64_MAX;
	o->fetch_soon = true;
	o->targets = calloc(n ? n : 1, sizeof *o->targets);
	o->slots = calloc(l.max_in_flight, sizeof *o->slots);
	o->timer = event_new(base, -1, 0, outbox_on_timer, o);
	if (o->targets == NULL || o->slots == NULL || o->timer == NULL)
		goto oom;
	o->n_slots = o->n_free = l.max_in_flight;
	for (size_t i = 0; i < l.max_in_flight; i++)
		o->slots[i].o = o;
	for (size_t i = 0; i < n; i++) {
		struct outbox_target *t = &o->targets[o->n_targets];
		t->name = strdup(platforms[i].name);
		if (t->name == NULL)
			goto oom;
		o->n_targets++;
		t->pool = httpc_new(base, platforms[i].url, platforms[i].secret, l.connections,
				    l.request_timeout_ms, err, sizeof err);
		if (t->pool == NULL) {
			log_error("outbox", "platform %s: %s", platforms[i].name, err);
			goto fail;
		}
	}
	outbox_schedule(o);
	return o;

oom:
	log_error("outbox", "out of memory while setting up the dispatcher");
fail:
	outbox_free(o);
	return NULL;
}

void outbox_free(struct outbox *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->n_targets; i++) {
		httpc_free(o->targets[i].pool);
		free(o->targets[i].name);
	}
	for (size_t i = 0; o->slots != NULL && i < o->n_slots; i++)
		free(o->slots[i].data);
	if (o->timer != NULL)
		event_free(o->timer);
	free(o->targets);
	free(o->slots);
	free(o);
}
