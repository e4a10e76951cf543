/* wallboard.h: hotline-agent --wallboard: the supervisors' live view of a
 * centre.
 *
 * Reads the broker's supervisor views once a second (GET
 * /v1/centres/C/queues and .../callbacks) and, when logged in with an
 * agent account (a supervisor's), the overdue 12345 work orders every ten
 * seconds (GET /v1/workorders?view=overdue); draws them with ncurses, or
 * with batch prints one snapshot as lines and exits.
 *
 * Why the broker's HTTP views and not Redis (doc/redis.md): they are the
 * broker's memory, the truth, at no cost to it (one small JSON a second
 * per board); Redis is a mirror that may lag or be down, and a desktop
 * reaching it would need the mirror exposed beyond the broker's host. Only
 * mirror.c speaks to Redis, and it stays so.
 *
 * Credentials: the gateway secret (the views are signed like the
 * gateway's requests; no work orders then), or an agent account. Logging
 * in puts that account into the distributor as not ready (doc/api.md), so
 * the board leaves it out of its list of agents and logs it out at exit.
 */
#ifndef HOTLINE_WALLBOARD_H
#define HOTLINE_WALLBOARD_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;

struct wallboard_options {
	struct event_base *base;
	const char *url;
	const char *centre;
	const char *secret; /* the gateway secret, or NULL */
	const char *agent;  /* with password: log in as this account */
	const char *password;
	bool batch;  /* print one snapshot and exit */
	int poll_ms; /* 0: 1000 */
};

/* Runs the board until the viewer quits (q, F10, Ctrl-C, SIGTERM) or, in
 * batch, the snapshot is printed. Returns the exit status: 0, or 1 with
 * the reason on stderr. */
int wallboard_run(const struct wallboard_options *o);

#endif
