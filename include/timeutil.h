/* timeutil.h: RFC 3339 timestamps and local-time helpers.
 *
 * Times travel as RFC 3339 text with an explicit offset
 * ("2019-12-31T23:59:30+08:00", "2019-12-31T15:59:30.250Z") and live in memory
 * as microseconds since the Unix epoch (UTC). Local time means the zone named
 * by TZ, which the programs set from their config (timeutil_set_zone).
 */
#ifndef HOTLINE_TIMEUTIL_H
#define HOTLINE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define TIMEUTIL_RFC3339_LEN 40

/* Parses RFC 3339 (date, 'T' or ' ', time, optional fraction of up to 6 digits,
 * 'Z' or +hh:mm/-hh:mm). Returns 0 and sets *usec, or -1 if malformed or out
 * of range (years 1970..9999). */
int timeutil_parse_rfc3339(const char *s, int64_t *usec) __attribute__((warn_unused_result));

/* Formats usec as RFC 3339 in UTC ("...Z"), with microseconds only when non-zero. */
void timeutil_format_utc(int64_t usec, char out[TIMEUTIL_RFC3339_LEN]);

/* Formats usec as RFC 3339 in the local zone with its numeric offset. */
void timeutil_format_local(int64_t usec, char out[TIMEUTIL_RFC3339_LEN]);

/* Sets the process's local zone (e.g. "Asia/Shanghai"). Returns 0, or -1 if
 * the zone is unknown to the system's tz database. */
int timeutil_set_zone(const char *zone) __attribute__((warn_unused_result));

/* Local minute of day (0..1439) and ISO weekday (1 = Monday .. 7 = Sunday). */
void timeutil_local_clock(int64_t usec, int *minute_of_day, int *weekday);

/* The local date of usec, as days since 1970-01-01 (timeutil_civil_from_days
 * turns it back into a date). */
int64_t timeutil_local_day(int64_t usec);

/* Microseconds at local midnight starting the given local date; handles DST. */
int64_t timeutil_local_midnight(int year, int month, int day);

/* Days from 1970-01-01 to a proleptic Gregorian date, and back. */
int64_t timeutil_days_from_civil(int64_t year, unsigned month, unsigned day);
void timeutil_civil_from_days(int64_t days, int *year, int *month, int *day);

/* Days in a year (365 or 366). */
int timeutil_days_in_year(int year);

/* Wall clock now, in microseconds. The only clock read in this module. */
int64_t timeutil_now_usec(void);

#endif
