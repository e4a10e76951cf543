/* queues.h: the call distributor's queue file (acd.queues_file, see
 * conf/queues.yaml), loaded into what the broker needs.
 *
 * The file holds the ACD's queues with their strategies, timers and
 * overflow, the languages a caller may need, the not-ready reasons agents
 * may choose, where recent crisis callers and unrouted calls go, and how
 * much caller history an offer shows. Loading checks every value and then
 * asks acd_new whether the queues make a valid core, so a file that loads
 * is one the core accepts. A loaded file is immutable and may be shared.
 */
#ifndef HOTLINE_QUEUES_H
#define HOTLINE_QUEUES_H

#include <stdbool.h>
#include <stddef.h>

#include "acd.h"

#define QUEUES_REASON_LOGIN "login"         /* the core's reason after a login */
#define QUEUES_REASON_NO_ANSWER "no_answer" /* the core's reason after max_misses */

struct queues_file {
	char *path; /* the file it came from */

	/* Ready for acd_new and acd_restore once centre is set on a copy (it
	 * is NULL here: one file serves every centre's core). Its pointers
	 * point into this struct's own storage and live until queues_free. */
	struct acd_config acd;

	/* The not-ready reason codes agents may choose, in the file's order;
	 * "login" and "no_answer", which the core itself sets, are always
	 * there (appended when the file leaves them out). */
	char **reasons;
	size_t n_reasons;

	char *crisis_queue;     /* where recent crisis callers go; a queue with crisis: true */
	char *default_queue;    /* where a call goes whose classified queue is not in the file */
	int crisis_memory_days; /* how long a crisis caller counts as recent, 1..365 */
	int history_days;       /* how far back an offer shows the caller's history, 1..3650 */
	int history_max;        /* most history entries on an offer, 1..200 */
};

/* Loads and checks path. Returns 0 and *out, or -1 with
 * "FILE:LINE:COL: key.path: what is wrong" in err ("FILE: ..." when the file
 * cannot be read). */
int queues_load_file(const char *path, struct queues_file **out, char *err, size_t err_len)
	__attribute__((warn_unused_result));

void queues_free(struct queues_file *q);

/* True if reason is one of q's not-ready reasons. */
bool queues_has_reason(const struct queues_file *q, const char *reason);

/* The queue called name, or NULL. */
const struct acd_queue_config *queues_find(const struct queues_file *q, const char *name);

#endif
