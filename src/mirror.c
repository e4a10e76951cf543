/* mirror.c: Redis mirror through hiredis's libevent adapter (see mirror.h). */
#include "mirror.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

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
	if (status != REDIS_OK) {
		log_warn("mirror", "lost Redis at %s:%d: %s; the broker keeps serving, retrying",
			 m->host, m->port, c->errstr);
		mirror_schedule(m);
	}
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
	redisAsyncCommand(m->ctx, NULL, NULL, "DEL %s:%s:calls %s:%s:waiting", m->prefix, centre,
			  m->prefix, centre);
}

void mirror_put_call(struct mirror *m, const struct call *c, bool publish)
{
	char json[512];

	if (!m->up)
		return;
	snprintf(json, sizeof json,
		 "{\"call_id\":\"%s\",\"state\":\"%s\",\"category\":\"%s\",\"queue\":\"%s\","
		 "\"priority\":%d,\"offered_at\":%lld,\"caller\":\"%s\",\"agent\":\"%s\"}",
		 c->call_id, call_state_name(c->state), category_name(c->category), c->queue,
		 c->priority, (long long)(c->offered_at / 1000000), c->caller_masked, c->agent);
	if (call_state_is_final(c->state)) {
		redisAsyncCommand(m->ctx, NULL, NULL, "HDEL %s:%s:calls %s", m->prefix, c->centre,
				  c->call_id);
		redisAsyncCommand(m->ctx, NULL, NULL, "ZREM %s:%s:waiting %s", m->prefix, c->centre,
				  c->call_id);
	} else {
		redisAsyncCommand(m->ctx, NULL, NULL, "HSET %s:%s:calls %s %s", m->prefix, c->centre,
				  c->call_id, json);
		if (c->state == CALL_QUEUED) {
			char score[32];
			snprintf(score, sizeof score, "%lld",
				 (long long)c->priority * 10000000000LL + c->offered_at / 1000000);
			redisAsyncCommand(m->ctx, NULL, NULL, "ZADD %s:%s:waiting %s %s", m->prefix,
					  c->centre, score, c->call_id);
		} else {
			redisAsyncCommand(m->ctx, NULL, NULL, "ZREM %s:%s:waiting %s", m->prefix,
					  c->centre, c->call_id);
		}
	}
	if (publish)
		redisAsyncCommand(m->ctx, NULL, NULL, "PUBLISH %s:%s:changes %s", m->prefix,
				  c->centre, json);
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
