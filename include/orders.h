/* orders.h: 12345 work orders and tickets in the broker (doc/workorders.md).
 *
 * Intake from the platforms (each signs with its own secret), the stages of
 * an order with their deadlines in working days (workorder.h), tickets
 * (ticket.h), and the outbox: every change a platform must learn is written
 * in the transaction of the change and delivered by the dispatcher
 * (outbox.h) until the platform acknowledges it.
 *
 * Like the router, it writes through the store's statement ops and answers
 * only after they commit. Citizens' phone numbers and names are sealed
 * (privacy_seal) and shown masked; a supervisor's clear read is recorded in
 * pii_audit in the transaction that reads it. Order contents are never
 * logged.
 */
#ifndef HOTLINE_ORDERS_H
#define HOTLINE_ORDERS_H

#include <stddef.h>

#include "config.h"
#include "ingest.h"
#include "store.h"

struct event_base;
struct metrics;
struct orders;
struct router;
struct wo_config;

/* wc is taken over (freed by orders_free). */
struct orders *orders_new(struct event_base *base, const struct config *cfg,
			  struct wo_config *wc, struct metrics *metrics);
void orders_attach(struct orders *o, struct store *store, struct router *router);
const struct store_statement *orders_statements(size_t *n);

/* The secret a platform signs with, or NULL for an unknown platform. */
const char *orders_platform_secret(const struct orders *o, const char *platform);

/* POST /v1/workorders from a platform whose signature http.c checked. */
void orders_intake(struct orders *o, const char *platform, const char *body, size_t len,
		   ingest_reply_fn reply, void *request);

/* /v1/workorders... and /v1/tickets... for agents and supervisors; path is
 * what follows "/v1/", query the URL's query string (may be NULL). */
void orders_request(struct orders *o, const char *method, const char *path, const char *query,
		    const char *token, const char *body, size_t len, ingest_reply_fn reply,
		    void *request);

/* The store is ready again (after a recovery): the dispatcher looks for
 * rows left undelivered. */
void orders_store_ready(struct orders *o);

/* The dispatcher's counts, into the metrics. */
void orders_fill_metrics(const struct orders *o, struct metrics *m);

void orders_free(struct orders *o);

#endif
