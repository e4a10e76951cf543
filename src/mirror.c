/* mirror.c: Redis mirror through hiredis's libevent adapter (see mirror.h). */
#include "mirror.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/sds.h>

#include "jsonw.h"
#include "log.h"

struct mirror {
	struct event_base *base;
	char *host;
	int port;
	char *prefix;
	void (*resync)(void *arg);
	void *arg;
	redisAsyncContext *ctx;
	bool up;
	struct event *retry;
	int backoff_ms;
};

static void mirror_connect(struct mirror *m);

static void mirror_schedule(struct mirror *m)
{
	struct timeval tv = {.tv_sec = m->backoff_ms / 1000, .tv_usec = (m->backoff_ms % 1000) * 1000};
	evtimer_add(m->retry, &tv);
	m->backoff_ms = m->backoff_ms < 5000 ? m->backoff_ms * 2 : 5000;
}

/* hiredis contract: called once when the connection is established or failed. */
static void mirror_on_connect(const redisAsyncContext *c, int status)
{
	struct mirror *m = c->data;
	if (status != REDIS_OK) {
		log_warn("mirror", "cannot connect to Redis at %s:%d: %s; retrying", m->host, m->port,
			 c->errstr);
		m->ctx = NULL; /* hiredis frees the context after this callback */
		mirror_schedule(m);
		return;
	}
	m->up = true;
	m->backoff_ms = 100;
	log_info("mirror", "connected to Redis at %s:%d; rewriting the mirror", m->host, m->port);
	if (m->resync)
		m->resync(m->arg);
}

/* hiredis contract: called once when the connection goes away. */
static void mirror_on_disconnect(const redisAsyncContext *c, int status)
{
	struct mirror *m = c->data;
	if (m == NULL)
		return;
	m->up = false;
	m->ctx = NULL;
	if (status != REDIS_OK)
		log_warn("mirror", "lost Redis at %s:%d: %s; the broker keeps serving, retrying",
			 m->host, m->port, c->errstr);
	/* mirror_free clears data first, so this is a loss or our own drop for
	 * a backlog: either way, come back and rewrite the mirror. */
	mirror_schedule(m);
}

/* Redis that stalls without closing would make hiredis buffer commands
 * without end; past this much unsent data the mirror drops the connection,
 * and the rewrite on reconnect replaces what was lost. */
#define MIRROR_BACKLOG_MAX (64u << 20)

static bool mirror_backlog_ok(struct mirror *m)
{
	if (m->ctx == NULL || sdslen(m->ctx->c.obuf) <= MIRROR_BACKLOG_MAX)
		return true;
	log_warn("mirror", "Redis at %s:%d is not taking writes (%zu bytes waiting); reconnecting",
		 m->host, m->port, sdslen(m->ctx->c.obuf));
	m->up = false;
	/* Not redisAsyncDisconnect: that would wait for the stalled replies.
	 * The disconnect callback runs inside and schedules the reconnect. */
	redisAsyncContext *ctx = m->ctx;
	m->ctx = NULL;
	redisAsyncFree(ctx);
	return false;
}

static void mirror_on_retry(evutil_socket_t fd, short what, void *arg)
{
	mirror_connect(arg);
}

static void mirror_connect(struct mirror *m)
{
	redisAsyncContext *c = redisAsyncConnect(m->host, m->port);
	if (c == NULL || c->err) {
		log_warn("mirror", "cannot start a Redis connection: %s", c ? c->errstr : "out of memory");
		if (c)
			redisAsyncFree(c);
		mirror_schedule(m);
		return;
	}
	c->data = m;
	if (redisLibeventAttach(c, m->base) != REDIS_OK) {
		redisAsyncFree(c);
		mirror_schedule(m);
		return;
	}
	redisAsyncSetConnectCallback(c, mirror_on_connect);
	redisAsyncSetDisconnectCallback(c, mirror_on_disconnect);
	m->ctx = c;
}

struct mirror *mirror_new(struct event_base *base, const char *host, int port, const char *prefix,
			  void (*resync)(void *arg), void *arg)
{
	struct mirror *m = calloc(1, sizeof *m);
	if (m == NULL)
		return NULL;
	m->base = base;
	m->host = strdup(host);
	m->port = port;
	m->prefix = strdup(prefix);
	m->resync = resync;
	m->arg = arg;
	m->backoff_ms = 100;
	m->retry = evtimer_new(base, mirror_on_retry, m);
	if (m->host == NULL || m->prefix == NULL || m->retry == NULL) {
		mirror_free(m);
		return NULL;
	}
	return m;
}

void mirror_start(struct mirror *m)
{
	mirror_connect(m);
}

bool mirror_is_up(const struct mirror *m)
{
	return m->up;
}

void mirror_clear_centre(struct mirror *m, const char *centre)
{
	if (!m->up)
		return;
	redisAsyncCommand(m->ctx, NULL, NULL, "DEL %s:%s:calls %s:%s:waiting %s:%s:agents "
			  "%s:%s:queues %s:%s:today %s:%s:callbacks",
			  m->prefix, centre, m->prefix, centre, m->prefix, centre, m->prefix, centre,
			  m->prefix, centre, m->prefix, centre);
}

/* The generic writes of the ACD's view: each is one command, dropped when
 * Redis is down (the rewrite on reconnect replaces it). */
void mirror_hset(struct mirror *m, const char *centre, const char *key, const char *field,
		 const char *value)
{
	if (m->up && mirror_backlog_ok(m))
		redisAsyncCommand(m->ctx, NULL, NULL, "HSET %s:%s:%s %s %s", m->prefix, centre, key,
				  field, value);
}

void mirror_hdel(struct mirror *m, const char *centre, const char *key, const char *field)
{
	if (m->up && mirror_backlog_ok(m))
		redisAsyncCommand(m->ctx, NULL, NULL, "HDEL %s:%s:%s %s", m->prefix, centre, key,
				  field);
}

void mirror_zadd(struct mirror *m, const char *centre, const char *key, const char *member,
		 double score)
{
	char text[32];
	snprintf(text, sizeof text, "%.0f", score);
	if (m->up && mirror_backlog_ok(m))
		redisAsyncCommand(m->ctx, NULL, NULL, "ZADD %s:%s:%s %s %s", m->prefix, centre, key,
				  text, member);
}

void mirror_zrem(struct mirror *m, const char *centre, const char *key, const char *member)
{
	if (m->up && mirror_backlog_ok(m))
		redisAsyncCommand(m->ctx, NULL, NULL, "ZREM %s:%s:%s %s", m->prefix, centre, key,
				  member);
}

void mirror_del(struct mirror *m, const char *centre, const char *key)
{
	if (m->up && mirror_backlog_ok(m))
		redisAsyncCommand(m->ctx, NULL, NULL, "DEL %s:%s:%s", m->prefix, centre, key);
}

void mirror_publish(struct mirror *m, const char *centre, const char *message)
{
	if (m->up && mirror_backlog_ok(m))
		redisAsyncCommand(m->ctx, NULL, NULL, "PUBLISH %s:%s:changes %s", m->prefix, centre,
				  message);
}

/* A growing argv for redisAsyncCommandArgv. Strings are copied into one
 * arena so that the snapshots can go away before hiredis formats them. */
struct mirror_cmd {
	const char **argv;
	size_t *lens;
	size_t argc, cap;
};

static int mirror_cmd_push(struct mirror_cmd *c, const char *s, size_t len)
{
	if (c->argc == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		const char **argv = realloc(c->argv, cap * sizeof *argv);
		if (argv == NULL)
			return -1;
		c->argv = argv;
		size_t *lens = realloc(c->lens, cap * sizeof *lens);
		if (lens == NULL)
			return -1;
		c->lens = lens;
		c->cap = cap;
	}
	c->argv[c->argc] = s;
	c->lens[c->argc] = len;
	c->argc++;
	return 0;
}

static void mirror_cmd_send(struct mirror *m, struct mirror_cmd *c, size_t min_args)
{
	if (c->argc > min_args)
		redisAsyncCommandArgv(m->ctx, NULL, NULL, (int)c->argc, c->argv, c->lens);
	c->argc = 0;
}

static int mirror_compare_keys(const void *a, const void *b, void *arg)
{
	const struct call *calls = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int d = strcmp(calls[i].centre, calls[j].centre);
	if (d == 0)
		d = strcmp(calls[i].call_id, calls[j].call_id);
	if (d == 0)
		d = i < j ? -1 : i > j;
	return d;
}

static int mirror_json(const struct call *c, char *out, size_t cap)
{
	struct jsonw w;

	jsonw_init(&w, out, cap);
	jsonw_lit(&w, "{\"call_id\":");
	jsonw_string(&w, c->call_id);
	jsonw_lit(&w, ",\"state\":");
	jsonw_string(&w, call_state_name(c->state));
	jsonw_lit(&w, ",\"category\":");
	jsonw_string(&w, category_name(c->category));
	jsonw_lit(&w, ",\"queue\":");
	jsonw_string(&w, c->queue);
	jsonw_lit(&w, ",\"priority\":");
	jsonw_int(&w, c->priority);
	jsonw_lit(&w, ",\"offered_at\":");
	jsonw_int(&w, c->offered_at / 1000000);
	jsonw_lit(&w, ",\"caller\":");
	jsonw_string(&w, c->caller_masked);
	jsonw_lit(&w, ",\"agent\":");
	jsonw_string(&w, c->agent);
	jsonw_lit(&w, "}");
	return (int)jsonw_end(&w);
}

#define MIRROR_JSON_MAX 512

void mirror_put_calls(struct mirror *m, const struct call *calls, size_t n, bool publish)
{
	size_t *order = NULL, *last = NULL;
	char *json = NULL, *scores = NULL, *message = NULL;
	struct mirror_cmd hset = {0}, hdel = {0}, zadd = {0}, zrem = {0};
	size_t n_last = 0;

	if (!m->up || n == 0 || !mirror_backlog_ok(m))
		return;
	order = malloc(n * sizeof *order);
	last = malloc(n * sizeof *last);
	json = malloc(n * MIRROR_JSON_MAX);
	scores = malloc(n * 24);
	message = malloc(n * (MIRROR_JSON_MAX + 1) + 2);
	if (!order || !last || !json || !scores || !message)
		goto out;

	/* The last snapshot of each call, grouped by centre. */
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof *order, mirror_compare_keys, (void *)calls);
	for (size_t k = 0; k < n; k++) {
		size_t i = order[k];
		if (k + 1 < n && strcmp(calls[i].centre, calls[order[k + 1]].centre) == 0 &&
		    strcmp(calls[i].call_id, calls[order[k + 1]].call_id) == 0)
			continue;
		last[n_last++] = i;
	}

	for (size_t from = 0; from < n_last;) {
		const char *centre = calls[last[from]].centre;
		char k_calls[128], k_waiting[128], k_changes[128];
		size_t to = from, msg_len = 0;
		snprintf(k_calls, sizeof k_calls, "%s:%s:calls", m->prefix, centre);
		snprintf(k_waiting, sizeof k_waiting, "%s:%s:waiting", m->prefix, centre);
		snprintf(k_changes, sizeof k_changes, "%s:%s:changes", m->prefix, centre);
		if (mirror_cmd_push(&hset, "HSET", 4) || mirror_cmd_push(&hset, k_calls, strlen(k_calls)) ||
		    mirror_cmd_push(&hdel, "HDEL", 4) || mirror_cmd_push(&hdel, k_calls, strlen(k_calls)) ||
		    mirror_cmd_push(&zadd, "ZADD", 4) ||
		    mirror_cmd_push(&zadd, k_waiting, strlen(k_waiting)) ||
		    mirror_cmd_push(&zrem, "ZREM", 4) ||
		    mirror_cmd_push(&zrem, k_waiting, strlen(k_waiting)))
			goto out;
		message[msg_len++] = '[';
		for (; to < n_last && strcmp(calls[last[to]].centre, centre) == 0; to++) {
			size_t i = last[to];
			const struct call *c = &calls[i];
			char *j = json + i * MIRROR_JSON_MAX;
			char *score = scores + i * 24;
			int jl = mirror_json(c, j, MIRROR_JSON_MAX);
			if (jl < 0 || jl >= MIRROR_JSON_MAX)
				continue;
			if (msg_len > 1)
				message[msg_len++] = ',';
			memcpy(message + msg_len, j, (size_t)jl);
			msg_len += (size_t)jl;
			int rc = 0;
			if (call_state_is_final(c->state)) {
				rc |= mirror_cmd_push(&hdel, c->call_id, strlen(c->call_id));
				rc |= mirror_cmd_push(&zrem, c->call_id, strlen(c->call_id));
			} else {
				rc |= mirror_cmd_push(&hset, c->call_id, strlen(c->call_id));
				rc |= mirror_cmd_push(&hset, j, (size_t)jl);
				if (c->state == CALL_QUEUED) {
					int sl = (int)jsonw_format_int(
						score, (int64_t)c->priority * 10000000000LL +
							       c->offered_at / 1000000);
					rc |= mirror_cmd_push(&zadd, score, (size_t)sl);
					rc |= mirror_cmd_push(&zadd, c->call_id, strlen(c->call_id));
				} else {
					rc |= mirror_cmd_push(&zrem, c->call_id, strlen(c->call_id));
				}
			}
			if (rc)
				goto out;
		}
		message[msg_len++] = ']';
		mirror_cmd_send(m, &hset, 2);
		mirror_cmd_send(m, &hdel, 2);
		mirror_cmd_send(m, &zadd, 2);
		mirror_cmd_send(m, &zrem, 2);
		if (publish) {
			const char *argv[3] = {"PUBLISH", k_changes, message};
			size_t lens[3] = {7, strlen(k_changes), msg_len};
			redisAsyncCommandArgv(m->ctx, NULL, NULL, 3, argv, lens);
		}
		from = to;
	}
out:
	free(hset.argv);
	free(hset.lens);
	free(hdel.argv);
	free(hdel.lens);
	free(zadd.argv);
	free(zadd.lens);
	free(zrem.argv);
	free(zrem.lens);
	free(order);
	free(last);
	free(json);
	free(scores);
	free(message);
}

void mirror_free(struct mirror *m)
{
	if (m == NULL)
		return;
	if (m->ctx) {
		m->ctx->data = NULL;
		redisAsyncFree(m->ctx);
	}
	if (m->retry)
		event_free(m->retry);
	free(m->host);
	free(m->prefix);
	free(m);
}
