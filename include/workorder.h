/* workorder.h: the 12345 work order's stages and actions, and the deadline
 * config (workorders.file, see conf/workorders.yaml and doc/workorders.md).
 *
 * An order moves through its stages by actions, and wo_apply alone says
 * which action is legal in which stage. The config names the platforms that
 * hand orders over (their secrets and the URLs the outbox posts to), the
 * deadlines per call category, and the working-day calendar they count in.
 *
 * The module is pure after loading: no I/O, no clock reads. Callers pass
 * every time in, as microseconds since the Unix epoch; dates are local
 * dates in the process's zone (timeutil_set_zone). A loaded config is
 * immutable and may be shared.
 */
#ifndef HOTLINE_WORKORDER_H
#define HOTLINE_WORKORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "category.h"
#include "workcal.h"

enum wo_stage {
	WO_RECEIVED,    /* handed over by a platform */
	WO_SIGNED,      /* an agent took it on (签收) */
	WO_IN_PROGRESS, /* being worked */
	WO_REPLIED,     /* the answer went to the citizen and the platform */
	WO_REVISITED,   /* the citizen was called back (回访) */
	WO_CLOSED,      /* final */
	WO_RETURNED,    /* sent back to the platform as not ours (退单); final */
	WO_STAGE_COUNT
};

enum wo_action {
	WO_SIGN,    /* received -> signed */
	WO_START,   /* signed -> in_progress */
	WO_REPLY,   /* in_progress -> replied */
	WO_REVISIT, /* replied -> revisited */
	WO_CLOSE,   /* revisited -> closed */
	WO_RETURN,  /* received | signed | in_progress -> returned */
	WO_EXTEND,  /* signed | in_progress, stage kept: a new due (延期) */
	WO_ASSIGN,  /* any stage but closed and returned, stage kept */
	WO_ACTION_COUNT
};

/* "received", "signed", "in_progress", "replied", "revisited", "closed",
 * "returned"; "unknown" for a value out of range. */
const char *wo_stage_name(enum wo_stage s);
/* Returns 0 and *out, or -1 for a name that is none of them. */
int wo_stage_from_name(const char *name, enum wo_stage *out) __attribute__((warn_unused_result));

/* "sign", "start", "reply", "revisit", "close", "return", "extend",
 * "assign"; "unknown" for a value out of range. */
const char *wo_action_name(enum wo_action a);
int wo_action_from_name(const char *name, enum wo_action *out) __attribute__((warn_unused_result));

/* The stage an order in stage from reaches by action a (doc/workorders.md):
 *
 *   received --sign--> signed --start--> in_progress --reply--> replied
 *   replied --revisit--> revisited --close--> closed
 *   received | signed | in_progress --return--> returned
 *   signed | in_progress --extend--> the same stage
 *   every stage but closed and returned --assign--> the same stage
 *
 * Returns 0 and *to, or -EPERM with a sentence for the person who asked,
 * naming the action and the stage and saying what would work ("cannot reply
 * to an order that is received; sign and start it first"); -EINVAL for a
 * stage or action out of range. *to is untouched on error. */
int wo_apply(enum wo_stage from, enum wo_action a, enum wo_stage *to, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* Whether the order's platform must be told of a (sign, reply, return,
 * extend, revisit, close): such changes go to the outbox in the
 * transaction that makes them. start and assign are the centre's own. */
bool wo_platform_must_learn(enum wo_action a);

/* ---- the config ------------------------------------------------------------ */

#define WO_PLATFORM_MAX 2      /* city_12345 and province_12345 */
#define WO_SECRET_MIN 16       /* characters of a platform's secret */
#define WO_URGENT_SIGN_HOURS 2 /* an urgent order is signed within this */

/* A platform that hands orders over. */
struct wo_platform {
	char *name;   /* "city_12345" or "province_12345": X-Hotline-Platform */
	char *secret; /* signs its requests; at least WO_SECRET_MIN characters */
	char *url;    /* "http://host[:port]/path": where the outbox posts */
};

/* The deadlines of one category. */
struct wo_deadline {
	int sign_days;    /* working days after received_at to sign */
	int reply_days;   /* working days after received_at to reply; >= sign_days */
	int urgent_hours; /* an urgent order's reply, in elapsed hours; >= WO_URGENT_SIGN_HOURS */
};

struct wo_config {
	char *path;          /* the file it came from */
	char *calendar_file; /* as resolved against path's folder */
	struct workcal *calendar;
	int yellow_hours; /* near due within this many hours of due; 0: no yellow */
	struct wo_platform platforms[WO_PLATFORM_MAX];
	size_t n_platforms;
	/* Per category: what the category's entry gives, and the file's
	 * default for what it leaves out or for a category not listed. */
	struct wo_deadline deadlines[CATEGORY_COUNT];
};

/* Loads path and the calendar it names (calendar_file, relative to path's
 * folder). Every key is checked and unknown keys are refused. Returns 0 and
 * *out, or -1 with "FILE:LINE:COL: key.path: what is wrong" in err
 * ("platforms[1].secret"; list entries count from 0), or "FILE: ..." when
 * the file cannot be read. A calendar that fails to load is reported at
 * calendar_file with the calendar's own message after it. */
int wo_config_load_file(const char *path, struct wo_config **out, char *err, size_t err_len)
	__attribute__((warn_unused_result));

void wo_config_free(struct wo_config *c);

/* The platform called name, or NULL. */
const struct wo_platform *wo_platform_find(const struct wo_config *c, const char *name);

/* The due moments of an order of category cat received at received_at.
 *
 * A normal order's sign and reply are due at the end of the sign_days-th
 * and reply_days-th working day after the day it arrived (the arrival day
 * is never counted; see workcal_add_working_days). An urgent order's are in
 * elapsed hours, nights and holidays included: sign within
 * WO_URGENT_SIGN_HOURS, reply within the category's urgent_hours; the
 * calendar is not asked.
 *
 * Returns 0 with *sign_due and *reply_due; -EINVAL for a category out of
 * range; -ERANGE when the calendar cannot answer, i.e. a day that must be
 * counted lies outside its years (add the year to the calendar). Nothing is
 * written on error. */
int wo_deadlines(const struct wo_config *c, enum category cat, bool urgent, int64_t received_at,
		 int64_t *sign_due, int64_t *reply_due) __attribute__((warn_unused_result));

/* Where something due at due stands at now: on time, near due (yellow, from
 * yellow_hours before due) or overdue (red, from due itself on); see
 * workcal_status. */
enum workcal_status wo_status(const struct wo_config *c, int64_t due, int64_t now)
	__attribute__((warn_unused_result));

/* The yellow window in microseconds (yellow_hours), for queries that pick
 * near-due orders themselves; 0 when there is no yellow stage. */
int64_t wo_yellow_usec(const struct wo_config *c);

#endif
