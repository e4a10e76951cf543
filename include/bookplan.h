/* bookplan.h: the bookings a year profile turns into (doc/bookings.md).
 *
 * Two parts, both pure (no I/O but the FILE given, no clock; local days from
 * the zone set by the caller, timeutil_set_zone):
 *
 * The reference data (struct bookplan_ref), built from the profile as
 * written, at any scale the same: its hospitals coded h001, h002, ... in the
 * profile's rank order, each with the same common departments, and its
 * booking platforms coded p001, ... in theirs. `hotline-sim hospitals`
 * writes it as the hospitals file, and the replay loads the same.
 *
 * The plan (struct bookplan) of a scaled, valid profile and a seed: every
 * booking of bookings.by_hospital, hospital by channel exactly, each with a
 * booked_at inside the local year by the calls' daily and weekly rhythm
 * (yearplan.h), a visit date 0 to 7 days later and a department of its
 * hospital; booking_platforms, platform by platform exactly, attached to
 * online_12320 and third_party bookings (the others name none). It is read
 * through two iterators that share nothing mutable, so that each may run on
 * a thread of its own:
 *   - bookplan_phone: phone bookings, made inside the call plan's booking
 *     calls (replay.h): fed every call in plan order, it attaches each phone
 *     booking to a distinct booking call of the own centre, booked between
 *     the call's answer and the agent's next event (never after the year);
 *   - bookplan_days: the other channels, one local day at a time, as the
 *     daily batches of the systems that send them; memory is one day's
 *     bookings whatever the scale.
 * The same inputs give the same bookings, byte for byte.
 */
#ifndef HOTLINE_BOOKPLAN_H
#define HOTLINE_BOOKPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "profile.h"
#include "replay.h"

/* A booking_no (1 to 64 of A-Z a-z 0-9 . _ : -) plus the NUL. */
#define BOOKPLAN_NO_MAX 65
/* Room for any booking's JSON body (bookplan_format_json) and CSV line. */
#define BOOKPLAN_JSON_MAX 768
#define BOOKPLAN_CSV_MAX 512
/* The visit is this many days after the booking, at most. */
#define BOOKPLAN_VISIT_DAYS_MAX 7
/* What the hospitals tables take as a name (sql/006_bookings.sql). */
#define BOOKPLAN_NAME_CHARS_MAX 100

/* The CSV's header line of doc/bookings.md, with its newline. */
#define BOOKPLAN_CSV_HEADER                                                                        \
	"booking_no,hospital,department,visit_date,channel,platform,call_id,booked_at\n"

struct bookplan_department {
	const char *code; /* [a-z0-9_-] */
	const char *name; /* UTF-8 */
};

/* --- reference data ---------------------------------------------------------------- */

struct bookplan_ref;

/* The reference data of profile p (as loaded, unscaled or scaled: only its
 * rows' order and names count). Returns NULL with the field and the reason
 * in err when a name cannot go into the hospitals tables (not UTF-8, more
 * than 100 characters, a control character) or out of memory. p may be
 * freed afterwards. */
struct bookplan_ref *bookplan_ref_new(const struct profile *p, char *err, size_t err_len)
	__attribute__((warn_unused_result));

const char *bookplan_ref_centre(const struct bookplan_ref *ref);
size_t bookplan_ref_hospital_count(const struct bookplan_ref *ref);
/* "h001" ...; NULL out of range. */
const char *bookplan_ref_hospital_code(const struct bookplan_ref *ref, size_t i);
const char *bookplan_ref_hospital_name(const struct bookplan_ref *ref, size_t i);
size_t bookplan_ref_platform_count(const struct bookplan_ref *ref);
/* "p001" ...; NULL out of range. */
const char *bookplan_ref_platform_code(const struct bookplan_ref *ref, size_t i);
const char *bookplan_ref_platform_name(const struct bookplan_ref *ref, size_t i);

/* The departments every hospital has (internal 内科, surgery 外科, ...). */
size_t bookplan_department_count(void);
const struct bookplan_department *bookplan_department_at(size_t i);

/* Writes the hospitals file of doc/bookings.md (YAML, names double-quoted
 * with JSON's escapes, which YAML reads the same). Returns 0, or -1 when
 * writing failed. */
int bookplan_ref_write_yaml(const struct bookplan_ref *ref, const char *profile_name, FILE *f)
	__attribute__((warn_unused_result));

void bookplan_ref_free(struct bookplan_ref *ref);

/* --- the plan ------------------------------------------------------------------------ */

/* One planned booking. Strings are inline, so it can be copied and kept. */
struct bookplan_booking {
	enum profile_channel channel;
	char booking_no[BOOKPLAN_NO_MAX];
	uint32_t hospital;   /* index into the reference data */
	uint32_t department; /* index of bookplan_department_at */
	int32_t platform;    /* index into the reference data's platforms, -1 for none */
	int64_t booked_usec;
	int64_t visit_day;           /* local date, days since 1970-01-01 */
	char call_id[REPLAY_ID_MAX]; /* phone: the call it was made in; else "" */
	uint64_t call_index;         /* phone: that call's index; else 0 */
};

struct bookplan;

/* The plan of scaled (valid; every hospital and platform named as in ref)
 * for seed, in the current local zone. ref must outlive it; scaled need
 * not. Booking numbers are "<o|p|c|t><seed>-<yyyymmdd>-<n>" (n per channel
 * and day, or the call's index for phone), at most 51 characters. Returns
 * NULL with the reason in err: a hospital or platform of scaled that ref
 * lacks, more platform bookings than online and third-party ones, a year
 * out of range, too many bookings in one day, out of memory. */
struct bookplan *bookplan_new(const struct bookplan_ref *ref, const struct profile *scaled,
			      uint64_t seed, char *err, size_t err_len)
	__attribute__((warn_unused_result));

const struct bookplan_ref *bookplan_reference(const struct bookplan *p);

/* Bookings planned through a channel, all channels, and with a platform
 * (whole year, whatever the iterators did). */
int64_t bookplan_planned(const struct bookplan *p, enum profile_channel c);
int64_t bookplan_planned_total(const struct bookplan *p);
int64_t bookplan_planned_platforms(const struct bookplan *p);

/* The system that sends a channel's daily batches, the source of its
 * bookings: "online_12320", "clinic", "third_party" (the channel's name);
 * NULL for phone, whose bookings are made during calls. */
const char *bookplan_batch_source(enum profile_channel c);

/* Local days of the plan's year (365 or 366), and the most bookings of the
 * other channels that any one day holds. */
int bookplan_day_count(const struct bookplan *p);
size_t bookplan_day_capacity(const struct bookplan *p);

/* --- phone bookings, in the calls ----------------------------------------------------- */

struct bookplan_phone;

/* An iterator over the phone bookings of p for the call plan calls (of the
 * same scaled profile). NULL with err when the profile has more phone
 * bookings than calls has booking calls of the own centre (a scaled valid
 * profile never has), or out of memory. */
struct bookplan_phone *bookplan_phone_new(const struct bookplan *p, const struct replay *calls,
					  char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* Feed it every call of the call plan, in plan order: returns true and
 * fills *out when call carries a phone booking (a handled booking call of
 * the own centre, chosen so that exactly the planned number do, each
 * hospital with its own count), else false. */
bool bookplan_phone_next(struct bookplan_phone *it, const struct replay_call *call,
			 struct bookplan_booking *out) __attribute__((warn_unused_result));

/* Phone bookings handed out so far. */
int64_t bookplan_phone_issued(const struct bookplan_phone *it);

void bookplan_phone_free(struct bookplan_phone *it);

/* --- the other channels, day by day ---------------------------------------------------- */

struct bookplan_days;

struct bookplan_days *bookplan_days_new(const struct bookplan *p)
	__attribute__((warn_unused_result));

/* Generates the next local day's bookings of online_12320, clinic and
 * third_party: returns true, sets *day (0 = 1 January), *bookings (valid
 * until the next call) and *n (0 for a day without any). They are ordered
 * by channel, then booked_at; numbered per channel and day from 1, so that
 * a channel's day is one batch. Returns false when the year is done. */
bool bookplan_days_next(struct bookplan_days *it, int *day,
			const struct bookplan_booking **bookings, size_t *n)
	__attribute__((warn_unused_result));

void bookplan_days_free(struct bookplan_days *it);

/* --- what is sent ---------------------------------------------------------------------- */

/* The body of POST /v1/bookings for a phone booking, times in the local zone
 * with their offset. An agent sends it as it is (centre and agent NULL);
 * the gateway adds its centre and the agent on the call. Both must be of
 * the API's id alphabet. Returns the length written (without the NUL), or
 * -1 when len is too small (BOOKPLAN_JSON_MAX always suffices). */
int bookplan_format_json(const struct bookplan *p, const struct bookplan_booking *b,
			 const char *centre, const char *agent, char *buf, size_t len)
	__attribute__((warn_unused_result));

/* The booking as a line of the batch CSV (BOOKPLAN_CSV_HEADER's columns),
 * with its newline. Returns the length, or -1 when len is too small
 * (BOOKPLAN_CSV_MAX always suffices). */
int bookplan_format_csv(const struct bookplan *p, const struct bookplan_booking *b, char *buf,
			size_t len) __attribute__((warn_unused_result));

void bookplan_free(struct bookplan *p);

#endif
