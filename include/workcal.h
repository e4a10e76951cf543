/* workcal.h: the working-day calendar behind work-order deadlines.
 *
 * The calendar comes from YAML (see conf/calendar.yaml): for each year, the
 * public holidays as date ranges and the make-up working days (调休补班), as
 * the State Council General Office announces them. The years listed must be
 * consecutive; any date outside them is unknown and every query says so
 * instead of guessing. A loaded calendar is immutable and may be shared.
 *
 * The module is pure: the caller passes every time in; nothing here reads the
 * clock or does I/O after loading. Times are microseconds since the Unix
 * epoch; dates are local dates in the process's zone (timeutil_set_zone), as
 * everywhere else in hotline.
 */
#ifndef HOTLINE_WORKCAL_H
#define HOTLINE_WORKCAL_H

#include <stddef.h>
#include <stdint.h>

struct workcal;

enum workcal_day {
	WORKCAL_DAY_WORKING,     /* Mon-Fri outside holidays, or a make-up workday */
	WORKCAL_DAY_NOT_WORKING, /* a holiday, or a Saturday or Sunday not made up */
	WORKCAL_DAY_UNKNOWN,     /* a real date outside the calendar's years */
	WORKCAL_DAY_NO_SUCH_DATE /* not a date at all, e.g. 2019-02-29 */
};

enum workcal_status {
	WORKCAL_ON_TIME,  /* more than the yellow window before the due moment */
	WORKCAL_NEAR_DUE, /* yellow: inside the window, not yet due */
	WORKCAL_OVERDUE   /* red: at or after the due moment */
};

/* Loads a calendar from a file or buffer (name used in messages). Returns 0
 * and *out, or -1 with "FILE:LINE:COL: field: what is wrong" in err, where
 * field is a path such as "years[2019].holidays[3].to" (list entries count
 * from 0, years are named by themselves). */
int workcal_load_file(const char *path, struct workcal **out, char *err, size_t err_len)
	__attribute__((warn_unused_result));
int workcal_load_buffer(const char *name, const char *buf, size_t len, struct workcal **out,
			char *err, size_t err_len) __attribute__((warn_unused_result));

void workcal_free(struct workcal *cal);

/* The first and last year the calendar covers, both whole. */
int workcal_first_year(const struct workcal *cal);
int workcal_last_year(const struct workcal *cal);

/* Whether a local date is a working day. Monday to Friday are working days
 * unless inside a holiday; Saturday and Sunday are not, unless listed as
 * make-up workdays. */
enum workcal_day workcal_is_working_day(const struct workcal *cal, int year, int month, int day)
	__attribute__((warn_unused_result));

/* The name of the holiday containing a local date ("国庆节"), owned by the
 * calendar, or NULL when the date is in no holiday or is unknown. */
const char *workcal_holiday_name(const struct workcal *cal, int year, int month, int day);

/* The deadline n working days after start (n >= 1).
 *
 * Convention: the day the order arrives is never counted, whatever its hour
 * and whether or not it is a working day; counting starts with the next
 * calendar day, and the order is due at the end of the n-th working day
 * found, i.e. at local 00:00 of the calendar day after it (24:00 of that
 * day), the moment workcal_status calls overdue. This follows the Civil
 * Code's rules for periods in days (民法典 第二百零一条: the starting day is
 * not counted; 第二百零三条: the last day ends at 24:00, and a last day that
 * falls on a holiday moves past it), which counting only working days
 * satisfies. So with n = 1, an order received on a Friday evening, on a Saturday
 * or on a Sunday is due at the end of Monday, or of the first working day
 * after Monday if Monday is a holiday; one received on a Monday at 08:00 is
 * due at the end of Tuesday.
 *
 * Returns 0 and *due; -EINVAL if n < 1; -ERANGE if a day that must be
 * looked at lies outside the calendar's years (the answer is unknown, *due
 * is untouched). */
int workcal_add_working_days(const struct workcal *cal, int64_t start_usec, int n,
			     int64_t *due_usec) __attribute__((warn_unused_result));

/* The deadline of an urgent order: hours of elapsed time after start,
 * nights, weekends and holidays included (民法典 第二百零一条: a period in
 * hours runs from the moment given). Elapsed time, not wall-clock reading:
 * a daylight-saving change does not lengthen or shorten it. hours >= 0. */
int64_t workcal_add_hours(int64_t start_usec, int hours) __attribute__((warn_unused_result));

/* Where an order stands at now against its due moment. The due moment is
 * exclusive: at now == due the order is overdue (red). It is near due
 * (yellow) from due - yellow_usec inclusive until due, and on time before.
 * A yellow_usec of 0 or below means no yellow stage. */
enum workcal_status workcal_status(int64_t due_usec, int64_t now_usec, int64_t yellow_usec)
	__attribute__((warn_unused_result));

/* "on_time", "near_due" or "overdue". */
const char *workcal_status_name(enum workcal_status s);

#endif
