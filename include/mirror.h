/* mirror.h: the live view of calls in Redis (hiredis, async, on the loop).
 *
 * Redis is a mirror, never the truth: nothing waits for it, a command that
 * fails is dropped, and when the connection comes back the broker rewrites
 * the whole mirror from its memory (the resync hook). Keys, per centre C and
 * with the configured prefix P:
 *   P:C:calls    hash  call_id -> {"state","category","queue","priority",
 *                                   "offered_at","caller"(masked),"agent"}
 *   P:C:waiting  zset  call_id, score priority * 1e10 + offered_at seconds
 *                      (the order the ACD serves them)
 *   P:C:changes  pub/sub channel: one message per commit batch, a JSON array
 *                of the calls that changed (the objects above, plus "call_id")
 * Changes are written once per commit batch, a few commands per centre
 * whatever the batch size, so the mirror costs little per event.
 */
#ifndef HOTLINE_MIRROR_H
#define HOTLINE_MIRROR_H

#include <stdbool.h>
#include <stddef.h>

#include "calls.h"

struct event_base;
struct mirror;

/* resync(arg) is called after every (re)connection; it should call
 * mirror_clear_centre and mirror_put_call for everything live. */
struct mirror *mirror_new(struct event_base *base, const char *host, int port, const char *prefix,
			  void (*resync)(void *arg), void *arg);
void mirror_start(struct mirror *m);
bool mirror_is_up(const struct mirror *m);

/* Deletes a centre's mirror keys (before a rewrite). */
void mirror_clear_centre(struct mirror *m, const char *centre);
/* Writes calls' current states: in the calls hash, in or out of waiting,
 * removed from both once final. When a call appears more than once, the last
 * snapshot wins. publish adds one change message per centre. */
void mirror_put_calls(struct mirror *m, const struct call *calls, size_t n, bool publish);

void mirror_free(struct mirror *m);

#endif
