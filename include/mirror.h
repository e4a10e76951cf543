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

/* The ACD's view (router.c), one command each, under P:C:key:
 *   P:C:agents          hash  agent_id -> {"state","reason","since","call_id",
 *                                          "name","extension"}
 *   P:C:queues          hash  queue -> {"waiting","oldest_joined_at",
 *                                      "offered_today","answered_today",
 *                                      "abandoned_today"}
 *   P:C:queue:Q         zset  call_id, score = the ACD's serving order
 *   P:C:today           hash  date, offered, answered, abandoned,
 *                             callbacks_open, urgent_callbacks_open
 *   P:C:callbacks       hash  call_id -> {"queue","urgent","reason","joined_at",
 *                                          "state","agent_id"}
 * plus messages on P:C:changes ({"type":"agent"|"queue"|"callback"|"today",...}).
 * Dropped while Redis is down; the resync hook rewrites everything. */
void mirror_hset(struct mirror *m, const char *centre, const char *key, const char *field,
		 const char *value);
void mirror_hdel(struct mirror *m, const char *centre, const char *key, const char *field);
void mirror_zadd(struct mirror *m, const char *centre, const char *key, const char *member,
		 double score);
void mirror_zrem(struct mirror *m, const char *centre, const char *key, const char *member);
void mirror_del(struct mirror *m, const char *centre, const char *key);
void mirror_publish(struct mirror *m, const char *centre, const char *message);

void mirror_free(struct mirror *m);

#endif
