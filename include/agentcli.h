/* agentcli.h: the agent client's link to the broker: the session, the
 * agent's requests, the stream, reconnection, and the draft file.
 *
 * One agentcli serves one agentmodel (agentmodel.h) on the caller's libevent
 * loop, for the terminal view (agentui.c) and the line mode (agentbatch.c)
 * alike. It turns the model's commands into doc/api.md's requests, feeds
 * every answer and stream message back into the model, and calls
 * options.changed after each change so that the view can redraw.
 *
 * Delivery. The agent's actions (state changes, wrap-ups, tickets,
 * bookings, replies to 12345 orders, callbacks, logout) go out one at a
 * time, in the order asked, from a queue. An action the broker did not
 * answer (refused connection, timeout, 503 while PostgreSQL or the broker
 * restarts) stays at the head and is tried again with backoff (250 ms
 * doubling to 5 s) for as long as it takes; the model shows how many wait.
 * The queued work (wrap-ups, tickets, bookings, replies) is also written to
 * the draft file, so that it is still sent after a restart of the client.
 * Retries are safe: bookings carry their number (idempotent), wrap-ups and
 * states are idempotent, and a ticket, a ticket note or an order action
 * whose first try may have arrived is looked up before it is sent again.
 * A refusal (4xx) ends the action; the form it came from keeps its text
 * and shows why (agentmodel_sent).
 *
 * Reconnection. The stream (ssec.h) reconnects by itself; the client also
 * reads GET /v1/agents/me every two seconds (the queues' waits, and the
 * truth about the agent's state) and at once whenever the stream comes
 * back, which restores the screen after a broker restart or a network
 * break. A token the broker no longer knows is replaced by logging in again
 * with the password the agent gave at start (kept in memory, wiped on
 * free); without one the login form comes back, every draft kept.
 *
 * The draft file (agentcli_draft_path) holds the model's draft and the
 * queued work: mode 0600 in a 0700 folder, since notes and complaints are
 * personal data; written atomically (a temporary file renamed over it) a
 * moment after each change and at exit, removed never: an empty draft is
 * small.
 *
 * Nothing here logs: the client has a screen; what goes wrong is told there
 * (agentmodel_note), never with a caller's number or a complaint's text.
 */
#ifndef HOTLINE_AGENTCLI_H
#define HOTLINE_AGENTCLI_H

#include <stdbool.h>
#include <stddef.h>

#include "agentmodel.h"

struct event_base;
struct agentcli;

/* The outcome of one command, for the line mode: ok, or the broker's (or
 * the client's) error code and a message; value is what was made (a ticket
 * id, a booking number, the new state). Strings valid only during the
 * callback. */
struct agentcli_result {
	bool ok;
	const char *code;    /* "" when ok */
	const char *message; /* for people */
	const char *value;   /* "" when none */
};

/* Called exactly once per command agentcli_execute accepted, unless the
 * client is freed first. */
typedef void (*agentcli_done_fn)(void *arg, const struct agentcli_result *r);

struct agentcli_options {
	struct event_base *base;
	const char *url;        /* the broker: http://host:port */
	const char *password;   /* copied and kept for logins; NULL: typed at the login form */
	const char *draft_path; /* NULL: agentcli_draft_path's default */
	int poll_ms;            /* GET /v1/agents/me every so often; 0: 2000 */
	/* The model changed (redraw); may be NULL. */
	void (*changed)(void *arg);
	/* The agent asked to quit (the draft is saved already); may be NULL. */
	void (*quit)(void *arg);
	void *arg;
};

/* Builds the client (no I/O yet). When the model knows its centre and
 * agent, the draft is loaded now; when a password is given too, the login
 * starts on the loop's next pass. Returns NULL with the reason in err. */
struct agentcli *agentcli_new(const struct agentcli_options *o, struct agentmodel *m, char *err,
			      size_t err_len) __attribute__((warn_unused_result));

/* Carries out cmd (a copy is taken; a login's password in it is wiped).
 * done (may be NULL) hears how it went. Returns 0, or -ENOMEM. */
int agentcli_execute(struct agentcli *c, struct agentmodel_command *cmd, agentcli_done_fn done,
		     void *arg) __attribute__((warn_unused_result));

/* Tells the client that the model changed outside it (a key): saves the
 * draft soon if it is dirty. */
void agentcli_model_changed(struct agentcli *c);

/* Writes the draft now. Returns 0 or -errno (the view says so). */
int agentcli_save_draft(struct agentcli *c) __attribute__((warn_unused_result));

/* The draft file's path for centre and agent: $XDG_STATE_HOME/hotline/
 * agent-<centre>-<agent>.json, or ~/.local/state/hotline/... Writes up to
 * out_len bytes; -ENAMETOOLONG or -ENOENT (no HOME). */
int agentcli_draft_path(const char *centre, const char *agent, char *out, size_t out_len)
	__attribute__((warn_unused_result));

/* The draft file in use ("" until the agent is known). */
const char *agentcli_draft_file(const struct agentcli *c);

/* Actions waiting to be delivered. */
unsigned agentcli_unsent(const struct agentcli *c);

/* Saves the draft, closes the stream and the connections, wipes the
 * password. Pending commands' done callbacks are not called. */
void agentcli_free(struct agentcli *c);

#endif
