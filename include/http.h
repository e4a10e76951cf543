/* http.h: the broker's HTTP front (evhttp). It translates HTTP into module
 * calls and back, and holds no business logic: signatures (auth), size and
 * media-type limits, routing, JSON error bodies, metrics per route. */
#ifndef HOTLINE_HTTP_H
#define HOTLINE_HTTP_H

#include "config.h"
#include "ingest.h"
#include "metrics.h"

struct event_base;
struct http_front;

struct http_front *http_front_new(struct event_base *base, const struct config *cfg,
				  struct ingest *in, struct metrics *metrics);

/* Binds listen.address:listen.port. Returns 0, or -1 (logged). */
int http_front_listen(struct http_front *h, const char *address, int port)
	__attribute__((warn_unused_result));

/* Applies the reloadable keys (secret, tolerance, body limit, timeout). */
int http_front_set_config(struct http_front *h, const struct config *cfg)
	__attribute__((warn_unused_result));

/* Stops listening; event requests on open connections get 503
 * shutting_down (with Retry-After and Connection: close) from now on. */
void http_front_close(struct http_front *h);

void http_front_free(struct http_front *h);

#endif
