/* simbookings.c: the hospitals file and the daily booking batches of the
 * simulator (see simbookings.h). The thread owns its connection and its
 * day iterator; the counts, the state and the error are shared under one
 * mutex, which the loop takes a few times a second. */
#include "simbookings.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bookimport.h"
#include "db.h"
#include "simretry.h"
#include "timeutil.h"

/* Room for an importer's message and what this module says around it. */
#define SIMBOOKINGS_ERR_MAX 1024
#define SIMBOOKINGS_MESSAGE_MAX (SIMBOOKINGS_ERR_MAX + 256)

int simbookings_load_reference(const char *conninfo, const char *zone,
			       const struct bookplan_ref *ref, const char *profile_name,
			       struct simbookings_reference *out, char *err, size_t err_len)
{
	const char *dir = getenv("TMPDIR");
	char path[4096], why[SIMBOOKINGS_ERR_MAX / 2];
	PGconn *conn = NULL;
	FILE *f = NULL;
	int fd, rc = -1;

	snprintf(path, sizeof path, "%s/hotline-sim-hospitals-XXXXXX.yaml",
		 dir != NULL && *dir != '\0' ? dir : "/tmp");
	fd = mkstemps(path, 5);
	if (fd < 0) {
		snprintf(err, err_len, "cannot create a temporary file like %s: %s", path,
			 strerror(errno));
		return -1;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		snprintf(err, err_len, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		goto done;
	}
	int written = bookplan_ref_write_yaml(ref, profile_name, f);
	if (fclose(f) != 0 || written != 0) {
		snprintf(err, err_len, "cannot write %s", path);
		goto done;
	}
	conn = db_connect(conninfo, zone, why, sizeof why);
	if (conn == NULL) {
		snprintf(err, err_len, "--db: %s", why);
		goto done;
	}
	if (bookimport_hospitals_yaml(conn, path, &out->hospitals, &out->departments,
				      &out->platforms, why, sizeof why) != 0) {
		snprintf(err, err_len, "loading the hospitals of centre %s: %s",
			 bookplan_ref_centre(ref), why);
		goto done;
	}
	rc = 0;
done:
	if (conn != NULL)
		PQfinish(conn);
	unlink(path);
	return rc;
}

struct simbookings {
	char *conninfo;
	char *zone;
	const struct bookplan *plan;
	int retry_for_s;
	pthread_t thread;
	bool started;

	pthread_mutex_t lock; /* guards what follows */
	pthread_cond_t released_cond;
	int released; /* the last day whose batches may go */
	bool stop;
	enum simbookings_state state;
	struct simbookings_counts counts;
	char err[SIMBOOKINGS_MESSAGE_MAX];
};

/* Waits until day's batches may go; false when asked to stop meanwhile. */
static bool simbookings_wait_for_day(struct simbookings *b, int day)
{
	pthread_mutex_lock(&b->lock);
	while (!b->stop && b->released < day)
		pthread_cond_wait(&b->released_cond, &b->lock);
	bool go = !b->stop;
	pthread_mutex_unlock(&b->lock);
	return go;
}

static bool simbookings_stopping(struct simbookings *b)
{
	pthread_mutex_lock(&b->lock);
	bool stop = b->stop;
	pthread_mutex_unlock(&b->lock);
	return stop;
}

static void simbookings_finish(struct simbookings *b, enum simbookings_state state, const char *why)
{
	pthread_mutex_lock(&b->lock);
	b->state = state;
	if (why != NULL)
		snprintf(b->err, sizeof b->err, "%s", why);
	pthread_mutex_unlock(&b->lock);
}

static void simbookings_sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Writes the CSV of one source's day (bookings[0..n)) into a buffer. */
static char *simbookings_csv(const struct bookplan *plan, const struct bookplan_booking *bookings,
			     size_t n, size_t *len)
{
	char *text = NULL, line[BOOKPLAN_CSV_MAX];
	FILE *f = open_memstream(&text, len);

	if (f == NULL)
		return NULL;
	fputs(BOOKPLAN_CSV_HEADER, f);
	for (size_t i = 0; i < n; i++) {
		int k = bookplan_format_csv(plan, &bookings[i], line, sizeof line);
		if (k > 0)
			fwrite(line, 1, (size_t)k, f);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/*
 * Imports one batch, on *conn, connecting again when the connection broke
 * (a PostgreSQL restart): the same file again adds nothing it already
 * added. Returns 0, or -1 with the reason in why.
 */
static int simbookings_import(struct simbookings *b, PGconn **conn, const char *source,
			      const char *csv, size_t len, struct bookimport_result *res, char *why,
			      size_t why_len)
{
	struct simretry retry = {0};
	const char *centre = bookplan_ref_centre(bookplan_reference(b->plan));

	for (;;) {
		char reason[SIMBOOKINGS_ERR_MAX / 2];
		if (*conn != NULL) {
			FILE *in = fmemopen((void *)csv, len, "r");
			if (in == NULL) {
				snprintf(why, why_len, "out of memory");
				return -1;
			}
			memset(res, 0, sizeof *res);
			int rc = bookimport_csv(*conn, centre, source, in, res, reason,
						sizeof reason);
			fclose(in);
			if (rc == 0)
				return 0;
			if (PQstatus(*conn) == CONNECTION_OK) {
				snprintf(why, why_len, "%s", reason);
				return -1;
			}
			PQfinish(*conn);
			*conn = NULL;
		} else {
			*conn = db_connect(b->conninfo, b->zone, reason, sizeof reason);
			if (*conn != NULL)
				continue;
		}
		/* No connection: wait as the HTTP clients do, then try again. */
		struct httpc_response none = {.status = 0,
					      .failure = "connection failed",
					      .body = "",
					      .retry_after_s = -1};
		int64_t delay =
			simretry_delay_ms(&retry, &none, b->retry_for_s, simretry_now_usec());
		if (delay < 0) {
			snprintf(why, why_len, "no connection to PostgreSQL for %d s; last: %s",
				 b->retry_for_s, reason);
			return -1;
		}
		pthread_mutex_lock(&b->lock);
		b->counts.retries++;
		pthread_mutex_unlock(&b->lock);
		if (simbookings_stopping(b)) {
			snprintf(why, why_len, "stopped");
			return -1;
		}
		simbookings_sleep_ms(delay);
	}
}

static void *simbookings_main(void *arg)
{
	struct simbookings *b = arg;
	struct bookplan_days *days = bookplan_days_new(b->plan);
	PGconn *conn = NULL;
	char why[SIMBOOKINGS_ERR_MAX], message[SIMBOOKINGS_MESSAGE_MAX];
	const struct bookplan_booking *list;
	size_t n;
	int day;

	if (days == NULL) {
		simbookings_finish(b, SIMBOOKINGS_FAILED, "out of memory for a day of bookings");
		return NULL;
	}
	for (int next = 0;
	     simbookings_wait_for_day(b, next) && bookplan_days_next(days, &day, &list, &n);
	     next = day + 1) {
		/* The day's bookings come by channel: one batch per source. */
		for (size_t start = 0; start < n;) {
			const enum profile_channel channel = list[start].channel;
			size_t end = start;
			int64_t platforms = 0;
			while (end < n && list[end].channel == channel)
				platforms += list[end++].platform >= 0;
			size_t len = 0;
			char *csv = simbookings_csv(b->plan, &list[start], end - start, &len);
			struct bookimport_result res;
			const char *source = bookplan_batch_source(channel);
			if (csv == NULL) {
				simbookings_finish(b, SIMBOOKINGS_FAILED, "out of memory");
				goto done;
			}
			int rc = simbookings_import(b, &conn, source, csv, len, &res, why,
						    sizeof why);
			free(csv);
			if (rc != 0) {
				char date[TIMEUTIL_RFC3339_LEN];
				timeutil_format_local(list[start].booked_usec, date);
				date[10] = '\0';
				snprintf(message, sizeof message,
					 "the %s batch of %s (%zu bookings) was refused: %s",
					 source, date, end - start, why);
				simbookings_finish(b, SIMBOOKINGS_FAILED, message);
				goto done;
			}
			pthread_mutex_lock(&b->lock);
			b->counts.batches++;
			b->counts.imported += res.inserted + res.replayed;
			b->counts.imported_by_channel[channel] += res.inserted + res.replayed;
			b->counts.inserted += res.inserted;
			b->counts.replayed += res.replayed;
			b->counts.platforms += platforms;
			pthread_mutex_unlock(&b->lock);
			start = end;
		}
		pthread_mutex_lock(&b->lock);
		b->counts.days_done = day + 1;
		pthread_mutex_unlock(&b->lock);
	}
	simbookings_finish(b, simbookings_stopping(b) ? SIMBOOKINGS_FAILED : SIMBOOKINGS_DONE,
			   simbookings_stopping(b) ? "stopped" : NULL);
done:
	if (conn != NULL)
		PQfinish(conn);
	bookplan_days_free(days);
	return NULL;
}

struct simbookings *simbookings_start(const struct simbookings_options *o, char *err,
				      size_t err_len)
{
	struct simbookings *b = calloc(1, sizeof *b);

	if (b == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	b->conninfo = strdup(o->conninfo);
	b->zone = o->zone != NULL ? strdup(o->zone) : NULL;
	b->plan = o->plan;
	b->retry_for_s = o->retry_for_s;
	b->state = SIMBOOKINGS_RUNNING;
	b->released = -1;
	for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++)
		if (c != PROFILE_CHANNEL_PHONE)
			b->counts.planned += bookplan_planned(o->plan, (enum profile_channel)c);
	if (b->conninfo == NULL || (o->zone != NULL && b->zone == NULL) ||
	    pthread_mutex_init(&b->lock, NULL) != 0) {
		snprintf(err, err_len, "out of memory");
		free(b->conninfo);
		free(b->zone);
		free(b);
		return NULL;
	}
	if (pthread_cond_init(&b->released_cond, NULL) != 0) {
		snprintf(err, err_len, "out of memory");
		pthread_mutex_destroy(&b->lock);
		free(b->conninfo);
		free(b->zone);
		free(b);
		return NULL;
	}
	int rc = pthread_create(&b->thread, NULL, simbookings_main, b);
	if (rc != 0) {
		snprintf(err, err_len, "cannot start the booking batches' thread: %s",
			 strerror(rc));
		simbookings_free(b);
		return NULL;
	}
	b->started = true;
	return b;
}

void simbookings_release(struct simbookings *b, int through_day)
{
	pthread_mutex_lock(&b->lock);
	if (through_day > b->released) {
		b->released = through_day;
		pthread_cond_signal(&b->released_cond);
	}
	pthread_mutex_unlock(&b->lock);
}

enum simbookings_state simbookings_poll(struct simbookings *b, struct simbookings_counts *out,
					char *err, size_t err_len)
{
	pthread_mutex_lock(&b->lock);
	enum simbookings_state state = b->state;
	if (out != NULL)
		*out = b->counts;
	if (state == SIMBOOKINGS_FAILED && err != NULL)
		snprintf(err, err_len, "%s", b->err);
	pthread_mutex_unlock(&b->lock);
	return state;
}

void simbookings_free(struct simbookings *b)
{
	if (b == NULL)
		return;
	if (b->started) {
		pthread_mutex_lock(&b->lock);
		b->stop = true;
		pthread_cond_signal(&b->released_cond);
		pthread_mutex_unlock(&b->lock);
		pthread_join(b->thread, NULL);
	}
	pthread_cond_destroy(&b->released_cond);
	pthread_mutex_destroy(&b->lock);
	free(b->conninfo);
	free(b->zone);
	free(b);
}
