/* wallmodel.h: what the supervisors' wallboard shows, from the broker's
 * answers (pure).
 *
 * The wallboard (wallboard.c) reads GET /v1/centres/C/queues, .../callbacks
 * and, when it holds a token, GET /v1/workorders?view=overdue, and hands
 * the bodies here; this module keeps the figures per queue and per agent,
 * and works out the alerts a supervisor must not miss: a crisis call
 * waiting, urgent (crisis) callbacks not yet done, 12345 work orders past
 * due, and a wallboard that no longer hears the broker. Times are
 * parameters, so the tests need no clock.
 *
 * Service level. The broker's queue view counts today's offered, answered
 * and abandoned calls, but not how many were answered within the
 * threshold, so the board shows the answer rate (answered / offered) and
 * the service level only when the view carries "answered_in_sl_today"
 * (offered-based: answered within T / offered); otherwise "—". Nothing is
 * estimated from polls: a wallboard that guessed would not show the truth.
 */
#ifndef HOTLINE_WALLMODEL_H
#define HOTLINE_WALLMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WALLMODEL_QUEUES_MAX 64
#define WALLMODEL_ALERTS_MAX 8
#define WALLMODEL_CALLBACKS_SHOWN 8
#define WALLMODEL_ORDERS_SHOWN 8
#define WALLMODEL_TEXT_MAX 256

struct wallmodel_queue {
	char name[33];
	long waiting;
	long longest_wait_s;
	long offered, answered, abandoned; /* today */
	bool has_sl;
	long answered_in_sl;
	long crisis_waiting; /* crisis callers waiting on the line (not callbacks) */
	long crisis_longest_s;
};

struct wallmodel_agent {
	char id[65];
	char name[128];
	char state[16];
	char reason[33];
	char call_id[65];
	long in_state_s;
};

struct wallmodel_callback {
	char call_id[65];
	char queue[33];
	bool urgent;
	char reason[33];
	char state[16];
	char agent_id[65];
	char caller[40]; /* masked */
	int64_t joined_at;
};

struct wallmodel_order {
	long long id;
	char external_no[65];
	char title[WALLMODEL_TEXT_MAX];
	int64_t due;
	char stage[16];
};

enum wallmodel_alert_kind {
	WALLMODEL_ALERT_LINK,
	WALLMODEL_ALERT_CRISIS_WAITING,
	WALLMODEL_ALERT_CRISIS_CALLBACKS,
	WALLMODEL_ALERT_OVERDUE_ORDERS,
};

struct wallmodel_alert {
	enum wallmodel_alert_kind kind;
	char text[WALLMODEL_TEXT_MAX];
};

struct wallmodel {
	char centre[33];
	char exclude_agent[65]; /* the wallboard's own login, not a working agent */

	struct wallmodel_queue queues[WALLMODEL_QUEUES_MAX];
	size_t n_queues;
	struct wallmodel_agent *agents;
	size_t n_agents;
	int64_t queues_at; /* when the queue view last came; 0: never */

	size_t callbacks_open, callbacks_urgent;
	struct wallmodel_callback callbacks[WALLMODEL_CALLBACKS_SHOWN];
	size_t n_callbacks;
	int64_t callbacks_at;

	bool orders_known; /* the board can read work orders (a token) */
	size_t orders_overdue;
	struct wallmodel_order orders[WALLMODEL_ORDERS_SHOWN];
	size_t n_orders;
	int64_t orders_at;

	char error[WALLMODEL_TEXT_MAX]; /* the last failed read, "" when fine */
	int64_t error_since;

	struct wallmodel_alert alerts[WALLMODEL_ALERTS_MAX];
	size_t n_alerts;
};

/* An empty board for centre; exclude_agent (may be NULL) is left out of
 * the agents. */
void wallmodel_init(struct wallmodel *w, const char *centre, const char *exclude_agent);
void wallmodel_free(struct wallmodel *w);

/* The answers of the broker's views; 0, or -EINVAL (nothing changed) for
 * a body that is not the expected JSON, -ENOMEM. */
int wallmodel_on_queues(struct wallmodel *w, const char *body, size_t len, int64_t now)
	__attribute__((warn_unused_result));
int wallmodel_on_callbacks(struct wallmodel *w, const char *body, size_t len, int64_t now)
	__attribute__((warn_unused_result));
int wallmodel_on_orders(struct wallmodel *w, const char *body, size_t len, int64_t now)
	__attribute__((warn_unused_result));

/* A read failed (detail says how); cleared by the next answer. */
void wallmodel_failed(struct wallmodel *w, const char *detail, int64_t now);

/* Recomputes the alerts, the most urgent first. */
void wallmodel_alerts(struct wallmodel *w, int64_t now);

/* Sums over the queues. */
void wallmodel_totals(const struct wallmodel *w, struct wallmodel_queue *out);

/* Agents per state: ready, on a call (offered, on_call), wrap_up,
 * not_ready. */
void wallmodel_agent_counts(const struct wallmodel *w, size_t *ready, size_t *busy, size_t *wrap_up,
			    size_t *not_ready);

/* "83%" or "—" (no calls, or no figure). */
void wallmodel_percent(long part, long whole, bool known, char out[8]);

#endif
