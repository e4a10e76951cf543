/* simbookings.h: the simulator's booking systems that take no calls
 * (doc/bookings.md): the centre's hospitals file, loaded before the replay,
 * and the daily batches of the systems that send online_12320, clinic and
 * third_party bookings, imported with COPY (bookimport.h) straight into
 * PostgreSQL.
 *
 * The batches run on a thread of their own with its own connection, so that
 * blocking libpq never stalls the loop that plays the gateway and the
 * agents; the loop polls it. A day's batches go once the loop released that
 * day (as the systems send yesterday's bookings while today's calls come
 * in), so that their load spreads over the replay. One batch is one day of
 * one source, a CSV of
 * bookplan_days_next's bookings; a batch imported again adds nothing, so a
 * batch whose connection broke is imported again, on a new connection,
 * with backoff (50 ms doubling up to 2 s) for at most --retry-for seconds.
 * Any other refusal ends the batches with a message naming the day, the
 * source and the importer's reason.
 */
#ifndef HOTLINE_SIMBOOKINGS_H
#define HOTLINE_SIMBOOKINGS_H

#include <stddef.h>
#include <stdint.h>

#include "bookplan.h"
#include "profile.h"

struct simbookings_reference {
	size_t hospitals;
	size_t departments;
	size_t platforms;
};

/* Writes ref as the hospitals file into a temporary file and loads it
 * (bookimport_hospitals_yaml), on a connection of its own. Returns 0 and
 * fills out, or -1 with the reason in err. */
int simbookings_load_reference(const char *conninfo, const char *zone,
			       const struct bookplan_ref *ref, const char *profile_name,
			       struct simbookings_reference *out, char *err, size_t err_len)
	__attribute__((warn_unused_result));

struct simbookings_options {
	const char *conninfo;
	const char *zone;            /* the session's time zone */
	const struct bookplan *plan; /* must outlive the batches */
	int retry_for_s;
};

enum simbookings_state {
	SIMBOOKINGS_RUNNING,
	SIMBOOKINGS_DONE,   /* every day's batches are in */
	SIMBOOKINGS_FAILED, /* stopped; the reason is in simbookings_poll's err */
};

struct simbookings_counts {
	int64_t planned;  /* bookings of the batch channels in the plan */
	int64_t imported; /* lines taken in: inserted or replayed */
	int64_t imported_by_channel[PROFILE_CHANNEL_COUNT];
	int64_t inserted;
	int64_t replayed;  /* already there with the same content */
	int64_t platforms; /* imported lines naming a platform */
	int64_t batches;
	int64_t retries; /* batches imported again after a broken connection */
	int days_done;
};

struct simbookings;

/* Starts the thread. Returns NULL with the reason in err (out of memory, no
 * thread). */
struct simbookings *simbookings_start(const struct simbookings_options *o, char *err,
				      size_t err_len) __attribute__((warn_unused_result));

/* The batches of the plan's days up to through_day (0 = 1 January; INT_MAX
 * for all) may go. Days are released in order; an earlier day again is a
 * no-op. */
void simbookings_release(struct simbookings *b, int through_day);

/* Where the batches are: fills out (when not NULL) and, once FAILED, err. */
enum simbookings_state simbookings_poll(struct simbookings *b, struct simbookings_counts *out,
					char *err, size_t err_len);

/* Asks the thread to stop after the batch in hand, waits for it and frees
 * everything. */
void simbookings_free(struct simbookings *b);

#endif
