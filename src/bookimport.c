/* bookimport.c: other systems' booking batches into PostgreSQL with COPY,
 * and the hospitals reference file (see bookimport.h).
 *
 * A batch goes through three steps, all in one transaction:
 *   1. The CSV is read here, a record at a time, and streamed with COPY into
 *      a temporary staging table of text columns, each row with the number
 *      of the line it started on. Only what needs the file's own shape is
 *      refused here: CSV syntax, the number of fields, UTF-8. booked_at is
 *      also read here, by the API's own parser (timeutil_parse_rfc3339), so
 *      that both accept the same times; it goes along as microseconds, NULL
 *      when it is not a time. Parsing it in SQL cost a fifth of the import.
 *   2. Every value is checked in SQL, over the whole batch at once (the
 *      patterns, the dates, the times read in step 1, joins with
 *      hospitals, departments, platforms, calls and the bookings already
 *      there), into a second temporary table that also carries the payload
 *      hash and the call's caller. Nothing in those checks can raise an
 *      error, so the first bad line (the lowest number) is what is
 *      reported, with its field.
 *   3. INSERT ... SELECT ... ON CONFLICT DO NOTHING; rows skipped are
 *      replays when the stored row has the same hash. A booking_no taken by
 *      a different booking refuses the batch before the insert, and once
 *      more after it (a concurrent writer), and rolls it back.
 * The hash is booking_payload_sha256 (sql/006_bookings.sql), which the
 * broker's API uses too.
 */
#include "bookimport.h"
#include "yamldoc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "db.h"
#include "timeutil.h"

/* --- the CSV reader -------------------------------------------------------------- */

#define CSV_COLUMNS 8
#define CSV_FIELDS_MAX 16 /* more than this is reported as "too many" */
#define CSV_FIELD_MAX 256 /* bytes; every column is far shorter */
#define CSV_READ_CHUNK 65536
#define CSV_COPY_CHUNK (256 * 1024)

/* The columns a batch has, in the staging table's order. */
static const char *const csv_columns[CSV_COLUMNS] = {
	"booking_no", "hospital", "department", "visit_date",
	"channel",    "platform", "call_id",    "booked_at",
};
/* Columns whose empty value is SQL NULL (the rest stay ''). */
static const bool csv_empty_is_null[CSV_COLUMNS] = {false, false, false, false,
						    false, true,  true,  false};
#define CSV_BOOKED_AT 7 /* also sent as microseconds, after the text */

struct csv_reader {
	FILE *in;
	unsigned char buf[CSV_READ_CHUNK];
	size_t len, pos;
	bool eof, failed; /* failed: a read error */
	int64_t line;     /* the line of the next byte, from 1 */
	/* the record being read */
	char fields[CSV_FIELDS_MAX][CSV_FIELD_MAX + 1];
	size_t field_len[CSV_FIELDS_MAX];
	bool quoted[CSV_FIELDS_MAX];
	size_t n_fields;
	int64_t record_line;
};

/* The next byte, or -1 at the end of the input (or after a read error). */
static int csv_next(struct csv_reader *r)
{
	if (r->pos == r->len) {
		if (r->eof)
			return -1;
		r->len = fread(r->buf, 1, sizeof r->buf, r->in);
		r->pos = 0;
		if (r->len < sizeof r->buf) {
			r->eof = true;
			r->failed = ferror(r->in) != 0;
		}
		if (r->len == 0)
			return -1;
	}
	int c = r->buf[r->pos++];
	if (c == '\n')
		r->line++;
	return c;
}

static int csv_peek(struct csv_reader *r)
{
	int c = csv_next(r);
	if (c >= 0) {
		r->pos--;
		if (c == '\n')
			r->line--;
	}
	return c;
}

/* Whether s (len bytes) is UTF-8 without NUL and overlong or surrogate
 * forms (PostgreSQL would refuse those, naming no line). */
static bool csv_utf8_ok(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned c = s[i];
		size_t n;
		unsigned min;
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0) {
			n = 1;
			min = 0x80;
			c &= 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			n = 2;
			min = 0x800;
			c &= 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			n = 3;
			min = 0x10000;
			c &= 0x07;
		} else {
			return false;
		}
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
				return false;
			c = (c << 6) | (s[i + k] & 0x3F);
		}
		if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			return false;
		i += n + 1;
	}
	return true;
}

/* Reads one record into r->fields. Returns 1, 0 at the end of the input,
 * or -EINVAL / -EIO with err ("line N: ..."). A line that is empty is
 * skipped. */
static int csv_read_record(struct csv_reader *r, char *err, size_t err_len)
{
	enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED } state;
	for (;;) {
		int c = csv_peek(r);
		if (c < 0)
			break;
		r->record_line = r->line;
		r->n_fields = 0;
		r->field_len[0] = 0;
		r->quoted[0] = false;
		state = FIELD_START;
		bool done = false;
		while (!done) {
			c = csv_next(r);
			size_t f = r->n_fields;
			if (c < 0) {
				if (state == QUOTED) {
					snprintf(err, err_len,
						 "line %" PRId64
						 ": field %zu: a quoted field is not "
						 "closed before the end of the file",
						 r->record_line, f + 1);
					return -EINVAL;
				}
				done = true;
				break;
			}
			bool end_field = false, end_record = false;
			switch (state) {
			case FIELD_START:
			case UNQUOTED:
				if (c == ',') {
					end_field = true;
				} else if (c == '\n') {
					end_record = true;
				} else if (c == '\r') {
					int d = csv_peek(r);
					if (d >= 0 && d != '\n') {
						snprintf(err, err_len,
							 "line %" PRId64
							 ": a carriage return inside the "
							 "line (lines end in LF or CRLF)",
							 r->line);
						return -EINVAL;
					}
				} else if (c == '"' && state == FIELD_START) {
					r->quoted[f] = true;
					state = QUOTED;
				} else if (c == '"') {
					snprintf(
						err, err_len,
						"line %" PRId64
						": field %zu: a quote inside a field "
						"that does not start with one; quote the whole field "
						"and double the quote",
						r->line, f + 1);
					return -EINVAL;
				} else {
					state = UNQUOTED;
					goto append;
				}
				break;
			case QUOTED:
				if (c == '"')
					state = QUOTE_IN_QUOTED;
				else
					goto append;
				break;
			case QUOTE_IN_QUOTED:
				if (c == '"') {
					state = QUOTED;
					goto append;
				}
				if (c == ',') {
					end_field = true;
				} else if (c == '\n') {
					end_record = true;
				} else if (c == '\r' && (csv_peek(r) == '\n' || csv_peek(r) < 0)) {
					/* CRLF after the closing quote */
				} else {
					snprintf(err, err_len,
						 "line %" PRId64
						 ": field %zu: text after the closing "
						 "quote",
						 r->line, f + 1);
					return -EINVAL;
				}
				break;
			}
			if (end_field || end_record) {
				if (end_field) {
					if (++r->n_fields == CSV_FIELDS_MAX) {
						snprintf(err, err_len,
							 "line %" PRId64 ": more than %d fields; a "
							 "booking has %d",
							 r->record_line, CSV_FIELDS_MAX,
							 CSV_COLUMNS);
						return -EINVAL;
					}
					r->field_len[r->n_fields] = 0;
					r->quoted[r->n_fields] = false;
					state = FIELD_START;
				} else {
					done = true;
				}
			}
			continue;
append:
			if (r->field_len[f] == CSV_FIELD_MAX) {
				snprintf(err, err_len,
					 "line %" PRId64 ": field %zu is longer than %d bytes",
					 r->record_line, f + 1, CSV_FIELD_MAX);
				return -EINVAL;
			}
			r->fields[f][r->field_len[f]++] = (char)c;
		}
		r->n_fields++;
		if (r->failed)
			break;
		/* A line with nothing on it (a blank line, the end of the file). */
		if (r->n_fields == 1 && r->field_len[0] == 0 && !r->quoted[0])
			continue;
		for (size_t f = 0; f < r->n_fields; f++) {
			r->fields[f][r->field_len[f]] = '\0';
			if (!csv_utf8_ok((const unsigned char *)r->fields[f], r->field_len[f])) {
				snprintf(err, err_len,
					 "line %" PRId64 ": field %zu is not valid UTF-8 text",
					 r->record_line, f + 1);
				return -EINVAL;
			}
		}
		return 1;
	}
	if (r->failed) {
		snprintf(err, err_len, "reading the file failed near line %" PRId64, r->line);
		return -EIO;
	}
	return 0;
}

/* --- COPY ----------------------------------------------------------------------- */

struct copy_out {
	PGconn *conn;
	char *buf;
	size_t len;
};

static int copy_flush(struct copy_out *o, char *err, size_t err_len)
{
	if (o->len > 0 && PQputCopyData(o->conn, o->buf, (int)o->len) != 1) {
		snprintf(err, err_len, "sending the batch to PostgreSQL failed: %s",
			 PQerrorMessage(o->conn));
		return -EIO;
	}
	o->len = 0;
	return 0;
}

/* Appends one value in COPY's text format (backslash escapes). */
static void copy_value(struct copy_out *o, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		const char *esc = c == '\\' ? "\\\\" :
				  c == '\t' ? "\\t" :
				  c == '\n' ? "\\n" :
				  c == '\r' ? "\\r" :
					      NULL;
		if (esc) {
			o->buf[o->len++] = esc[0];
			o->buf[o->len++] = esc[1];
		} else {
			o->buf[o->len++] = c;
		}
	}
}

/* --- messages ------------------------------------------------------------------- */

/* A value from the file for a message: at most 60 bytes (whole characters),
 * control characters shown as '?'. */
static void bookimport_show(const char *value, char out[64])
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)value; *p && n < 60; p++) {
		if ((*p & 0xC0) == 0xC0) {
			size_t k = 1;
			while ((p[k] & 0xC0) == 0x80)
				k++;
			if (n + k > 60)
				break;
			memcpy(out + n, p, k);
			n += k;
			p += k - 1;
			continue;
		}
		out[n++] = *p < 0x20 || *p == 0x7F ? '?' : (char)*p;
	}
	out[n] = '\0';
}

/* Runs a statement whose rows are not needed; 0 or -EIO with err. */
static int bookimport_run(PGconn *conn, const char *sql, int n, const char *const *params,
			  char *err, size_t err_len)
{
	PGresult *r = db_exec(conn, sql, n, params, err, err_len);
	if (r == NULL)
		return -EIO;
	PQclear(r);
	return 0;
}

/* One statement of a fixed sequence: its text and parameters. */
struct bookimport_step {
	const char *sql;
	int n;
	const char *const *params;
};

/* Runs steps in order, rows not needed, and stops at the first that
 * fails: 0, or -EIO with err. */
static int bookimport_run_steps(PGconn *conn, const struct bookimport_step *steps, size_t n_steps,
				char *err, size_t err_len)
{
	for (size_t i = 0; i < n_steps; i++) {
		int rc = bookimport_run(conn, steps[i].sql, steps[i].n, steps[i].params, err,
					err_len);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Whether centre is registered; 0 with *known, or -EIO with err. Both the
 * batch and the hospitals file refuse an unknown centre, each in its own
 * words. */
static int bookimport_centre_known(PGconn *conn, const char *centre, bool *known, char *err,
				   size_t err_len)
{
	const char *params[1] = {centre};
	PGresult *r =
		db_exec(conn, "SELECT 1 FROM centres WHERE code = $1", 1, params, err, err_len);
	if (r == NULL)
		return -EIO;
	*known = PQntuples(r) == 1;
	PQclear(r);
	return 0;
}

static void bookimport_rollback(PGconn *conn)
{
	PQclear(PQexec(conn, "ROLLBACK"));
}

static bool bookimport_code_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n < 1 || n > max)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-'))
			return false;
	return true;
}

/* --- the batch -------------------------------------------------------------------- */

/* The values and their checks, one row per data line. problem names the
 * first thing wrong with the row (in this order), NULL when nothing is;
 * the hash is only computed for rows without a problem, and stored_sha is
 * the hash of the booking already there under the number, if any. The
 * OFFSET 0 keeps the problem's expression from being pasted into the
 * hash's condition and computed twice. */
static const char bookimport_check_sql[] =
	"INSERT INTO booking_import_checked"
	" SELECT w.*, CASE WHEN w.problem IS NULL THEN booking_payload_sha256(w.booking_no,"
	" w.hospital, w.department, w.visit_date, w.channel, w.platform, w.call_id,"
	" w.booked_usec, NULL) END"
	" FROM (SELECT s.line, s.booking_no, s.hospital, s.department, s.visit_date, s.channel,"
	" s.platform, s.call_id, s.booked_at, s.booked_usec, c.caller_hash, c.caller_masked,"
	" b.payload_sha256, CASE"
	" WHEN char_length(s.booking_no) NOT BETWEEN 1 AND 64"
	"  OR s.booking_no ~ '[^A-Za-z0-9._:-]' THEN 'booking_no'"
	" WHEN s.channel NOT IN ('online_12320', 'phone', 'clinic', 'third_party') THEN 'channel'"
	" WHEN NOT booking_date_ok(s.visit_date) THEN 'visit_date'"
	" WHEN s.booked_usec IS NULL THEN 'booked_at'"
	" WHEN h.code IS NULL THEN 'hospital'"
	" WHEN d.code IS NULL THEN 'department'"
	" WHEN s.platform IS NOT NULL AND s.channel NOT IN ('online_12320', 'third_party')"
	"  THEN 'platform_channel'"
	" WHEN s.platform IS NOT NULL AND p.code IS NULL THEN 'platform'"
	" WHEN s.channel = 'phone' AND s.call_id IS NULL THEN 'call_missing'"
	" WHEN s.call_id IS NOT NULL AND c.call_id IS NULL THEN 'call_id'"
	" END AS problem"
	" FROM booking_import_stage s"
	" LEFT JOIN hospitals h ON h.centre = $1 AND h.code = s.hospital"
	" LEFT JOIN departments d ON d.centre = $1 AND d.hospital = s.hospital"
	"  AND d.code = s.department"
	" LEFT JOIN booking_platforms p ON p.centre = $1 AND p.code = s.platform"
	" LEFT JOIN calls c ON c.centre = $1 AND c.call_id = s.call_id"
	" LEFT JOIN bookings b ON b.centre = $1 AND b.source = $2 AND b.booking_no = s.booking_no"
	" OFFSET 0) w";

/* The first bad line: a row with a problem, a booking_no given twice in the
 * batch with other fields, or one already taken by another booking. */
static const char bookimport_first_bad_sql[] =
	"SELECT line, problem, a, b FROM ("
	" SELECT line, problem, CASE problem WHEN 'booking_no' THEN booking_no"
	"  WHEN 'channel' THEN channel WHEN 'visit_date' THEN visit_date"
	"  WHEN 'booked_at' THEN booked_at WHEN 'hospital' THEN hospital"
	"  WHEN 'department' THEN department WHEN 'platform' THEN platform"
	"  WHEN 'platform_channel' THEN channel WHEN 'call_id' THEN call_id END AS a,"
	"  hospital AS b FROM booking_import_checked WHERE problem IS NOT NULL"
	" UNION ALL"
	" SELECT line, 'same_no_in_batch', booking_no, first_line::text FROM ("
	"  SELECT line, booking_no, sha, first_value(sha) OVER w AS first_sha,"
	"  first_value(line) OVER w AS first_line FROM booking_import_checked"
	"  WHERE problem IS NULL AND booking_no IN (SELECT booking_no FROM booking_import_checked"
	"   WHERE problem IS NULL GROUP BY booking_no HAVING count(*) > 1)"
	"  WINDOW w AS (PARTITION BY booking_no ORDER BY line)) k WHERE sha <> first_sha"
	" UNION ALL"
	" SELECT line, 'taken', booking_no, NULL FROM booking_import_checked"
	"  WHERE problem IS NULL AND stored_sha <> sha"
	") x ORDER BY line LIMIT 1";

/* Writes the message for a bad line found by bookimport_first_bad_sql. */
static void bookimport_bad_line(const PGresult *r, const char *centre, const char *source,
				char *err, size_t err_len)
{
	const char *line = PQgetvalue(r, 0, 0), *problem = PQgetvalue(r, 0, 1);
	char a[64], b[64];
	bookimport_show(PQgetvalue(r, 0, 2), a);
	bookimport_show(PQgetvalue(r, 0, 3), b);
	if (strcmp(problem, "booking_no") == 0)
		snprintf(err, err_len,
			 "line %s: booking_no: '%s' is not 1 to 64 of A-Z a-z 0-9 . _ : -", line,
			 a);
	else if (strcmp(problem, "channel") == 0)
		snprintf(err, err_len,
			 "line %s: channel: '%s' is not online_12320, phone, clinic or third_party",
			 line, a);
	else if (strcmp(problem, "visit_date") == 0)
		snprintf(err, err_len,
			 "line %s: visit_date: '%s' is not a date YYYY-MM-DD that exists", line, a);
	else if (strcmp(problem, "booked_at") == 0)
		snprintf(err, err_len,
			 "line %s: booked_at: '%s' is not an RFC 3339 time with an offset, e.g. "
			 "2019-03-04T09:17:30+08:00",
			 line, a);
	else if (strcmp(problem, "hospital") == 0)
		snprintf(err, err_len,
			 "line %s: hospital: '%s' is not a hospital of centre %s (hotline-admin "
			 "hospitals list --centre %s)",
			 line, a, centre, centre);
	else if (strcmp(problem, "department") == 0)
		snprintf(err, err_len,
			 "line %s: department: '%s' is not a department of hospital %s", line, a,
			 b);
	else if (strcmp(problem, "platform_channel") == 0)
		snprintf(err, err_len,
			 "line %s: platform: a %s booking has no platform (only online_12320 and "
			 "third_party do); leave it empty",
			 line, a);
	else if (strcmp(problem, "platform") == 0)
		snprintf(err, err_len,
			 "line %s: platform: '%s' is not a booking platform of centre %s", line, a,
			 centre);
	else if (strcmp(problem, "call_missing") == 0)
		snprintf(err, err_len,
			 "line %s: call_id: a phone booking needs the call_id of its call", line);
	else if (strcmp(problem, "call_id") == 0)
		snprintf(err, err_len, "line %s: call_id: '%s' is not a call of centre %s", line, a,
			 centre);
	else if (strcmp(problem, "same_no_in_batch") == 0)
		snprintf(err, err_len,
			 "line %s: booking_no: '%s' is on line %s too, with other fields "
			 "(booking_no_conflict)",
			 line, a, b);
	else
		snprintf(err, err_len,
			 "line %s: booking_no: '%s' is already taken by a different booking from "
			 "%s (booking_no_conflict); nothing was imported",
			 line, a, source);
}

/* Runs a query in bookimport_first_bad_sql's columns (line, problem, a,
 * b): 0 when it finds no row, -EINVAL with the message for the first row
 * it finds, -EIO with err when it fails. */
static int bookimport_find_bad(PGconn *conn, const char *sql, int n, const char *const *params,
			       const char *centre, const char *source, char *err, size_t err_len)
{
	PGresult *r = db_exec(conn, sql, n, params, err, err_len);
	if (r == NULL)
		return -EIO;
	int rc = 0;
	if (PQntuples(r) > 0) {
		bookimport_bad_line(r, centre, source, err, err_len);
		rc = -EINVAL;
	}
	PQclear(r);
	return rc;
}

/* Reads the header and maps its names to the staging columns. */
static int bookimport_header(struct csv_reader *rd, int map[CSV_COLUMNS], char *err, size_t err_len)
{
	int rc = csv_read_record(rd, err, err_len);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		snprintf(err, err_len,
			 "the file is empty; it needs a header line: booking_no,hospital,"
			 "department,visit_date,channel,platform,call_id,booked_at");
		return -EINVAL;
	}
	for (int c = 0; c < CSV_COLUMNS; c++)
		map[c] = -1;
	for (size_t f = 0; f < rd->n_fields; f++) {
		int found = -1;
		for (int c = 0; c < CSV_COLUMNS; c++)
			if (strcmp(rd->fields[f], csv_columns[c]) == 0)
				found = c;
		char shown[64];
		bookimport_show(rd->fields[f], shown);
		if (found < 0 || map[found] >= 0) {
			snprintf(
				err, err_len,
				"line %" PRId64 ": header: %s column '%s'; the columns are "
				"booking_no,hospital,department,visit_date,channel,platform,call_id,"
				"booked_at",
				rd->record_line, found < 0 ? "unknown" : "a second", shown);
			return -EINVAL;
		}
		map[found] = (int)f;
	}
	for (int c = 0; c < CSV_COLUMNS; c++)
		if (map[c] < 0) {
			snprintf(err, err_len, "line %" PRId64 ": header: the column %s is missing",
				 rd->record_line, csv_columns[c]);
			return -EINVAL;
		}
	return 0;
}

/* Streams the data records into COPY. Returns 0 with *lines set, or an
 * error with err; the caller ends the COPY either way. */
static int bookimport_copy_records(struct csv_reader *rd, const int map[CSV_COLUMNS],
				   struct copy_out *o, int64_t *lines, char *err, size_t err_len)
{
	int rc;
	*lines = 0;
	while ((rc = csv_read_record(rd, err, err_len)) == 1) {
		if (rd->n_fields != CSV_COLUMNS) {
			snprintf(
				err, err_len,
				"line %" PRId64 ": %zu field(s); a booking has %d (%s)",
				rd->record_line, rd->n_fields, CSV_COLUMNS,
				"booking_no,hospital,department,visit_date,channel,platform,call_id,"
				"booked_at");
			return -EINVAL;
		}
		/* Worst case: every byte escaped, plus the numbers and tabs. */
		if (o->len + CSV_COLUMNS * (2 * CSV_FIELD_MAX + 4) + 64 > CSV_COPY_CHUNK &&
		    (rc = copy_flush(o, err, err_len)) != 0)
			return rc;
		o->len += (size_t)snprintf(o->buf + o->len, 24, "%" PRId64, rd->record_line);
		for (int c = 0; c < CSV_COLUMNS; c++) {
			int f = map[c];
			o->buf[o->len++] = '\t';
			if (rd->field_len[f] == 0 && csv_empty_is_null[c]) {
				memcpy(o->buf + o->len, "\\N", 2);
				o->len += 2;
			} else {
				copy_value(o, rd->fields[f], rd->field_len[f]);
			}
		}
		int64_t usec;
		if (timeutil_parse_rfc3339(rd->fields[map[CSV_BOOKED_AT]], &usec) == 0)
			o->len += (size_t)snprintf(o->buf + o->len, 24, "\t%" PRId64, usec);
		else
			o->len += (size_t)snprintf(o->buf + o->len, 24, "\t\\N");
		o->buf[o->len++] = '\n';
		(*lines)++;
	}
	if (rc < 0)
		return rc;
	return copy_flush(o, err, err_len);
}

/* COPY of the file into booking_import_stage. A record that cannot be
 * read (CSV syntax, field count, UTF-8) ends the COPY there, with the
 * records before it staged, and is described in refusal (left "" when the
 * whole file was read): a line before it may be worse, and the first bad
 * line is the one to report. Returns 0, or an error with err. */
static int bookimport_copy(PGconn *conn, FILE *csv, int64_t *lines, char *refusal,
			   size_t refusal_len, char *err, size_t err_len)
{
	struct csv_reader *rd = calloc(1, sizeof *rd);
	struct copy_out o = {conn, malloc(CSV_COPY_CHUNK), 0};
	int map[CSV_COLUMNS];
	int rc;

	if (rd == NULL || o.buf == NULL) {
		free(rd);
		free(o.buf);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	rd->in = csv;
	rd->line = 1;
	/* A byte-order mark (as some spreadsheets write) is not part of the
	 * header's first name. */
	if (csv_peek(rd) == 0xEF && rd->len - rd->pos >= 3 && rd->buf[rd->pos + 1] == 0xBB &&
	    rd->buf[rd->pos + 2] == 0xBF)
		rd->pos += 3;
	rc = bookimport_header(rd, map, err, err_len);
	if (rc != 0)
		goto out;
	PGresult *r = PQexec(conn, "COPY booking_import_stage FROM STDIN");
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		snprintf(err, err_len, "starting COPY failed: %s", PQresultErrorMessage(r));
		PQclear(r);
		rc = -EIO;
		goto out;
	}
	PQclear(r);
	rc = bookimport_copy_records(rd, map, &o, lines, refusal, refusal_len);
	if (rc == -EINVAL) {
		/* Keep what came before the unreadable record. */
		rc = copy_flush(&o, err, err_len);
	} else if (rc != 0) {
		snprintf(err, err_len, "%s", refusal);
		refusal[0] = '\0';
	}
	/* Ending with an error message makes the server abandon the COPY. */
	if (PQputCopyEnd(conn, rc == 0 ? NULL : "the import failed") != 1 && rc == 0) {
		snprintf(err, err_len, "ending COPY failed: %s", PQerrorMessage(conn));
		rc = -EIO;
	}
	while ((r = PQgetResult(conn)) != NULL) {
		if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK) {
			snprintf(err, err_len, "COPY failed: %s", PQresultErrorMessage(r));
			rc = -EIO;
		}
		PQclear(r);
	}
out:
	free(o.buf);
	free(rd);
	return rc;
}

int bookimport_csv(PGconn *conn, const char *centre, const char *source, FILE *csv,
		   struct bookimport_result *res, char *err, size_t err_len)
{
	const char *params[2] = {centre, source};
	char refusal[1024] = "";
	int rc;

	memset(res, 0, sizeof *res);
	if (!bookimport_code_ok(centre, 32)) {
		snprintf(err, err_len, "centre '%s' is not a centre code (a-z, 0-9, _ and -)",
			 centre);
		return -EINVAL;
	}
	if (!bookimport_code_ok(source, 32)) {
		snprintf(err, err_len,
			 "source '%s' is not a source name: 1 to 32 of a-z, 0-9, _ and -, the "
			 "sending system's (online_12320, a platform's code...)",
			 source);
		return -EINVAL;
	}
	if (strcmp(source, "agent") == 0 || strcmp(source, "gateway") == 0) {
		snprintf(err, err_len,
			 "source '%s' is the broker's API's; give the sending system's name",
			 source);
		return -EINVAL;
	}
	if ((rc = bookimport_run(conn, "BEGIN", 0, NULL, err, err_len)) != 0)
		return rc;
	bool known;
	if ((rc = bookimport_centre_known(conn, centre, &known, err, err_len)) != 0)
		goto fail;
	if (!known) {
		snprintf(err, err_len,
			 "centre '%s' is not registered (hotline-admin centre add %s NAME)", centre,
			 centre);
		rc = -ENOENT;
		goto fail;
	}
	const struct bookimport_step setup[] = {
		/* Sorts and hashes of a big batch stay in memory. */
		{"SET LOCAL work_mem = '64MB'", 0, NULL},
		{"CREATE TEMP TABLE booking_import_stage (line bigint,"
		 " booking_no text, hospital text, department text, visit_date text,"
		 " channel text, platform text, call_id text, booked_at text,"
		 " booked_usec bigint) ON COMMIT DROP",
		 0, NULL},
		/* a small sample says how many lines name a call */
		{"ALTER TABLE booking_import_stage ALTER call_id SET STATISTICS 10", 0, NULL},
		{"CREATE TEMP TABLE booking_import_checked (line bigint,"
		 " booking_no text, hospital text, department text, visit_date text,"
		 " channel text, platform text, call_id text, booked_at text,"
		 " booked_usec bigint, caller_hash bytea, caller_masked text,"
		 " stored_sha bytea, problem text, sha bytea) ON COMMIT DROP",
		 0, NULL},
	};
	if ((rc = bookimport_run_steps(conn, setup, sizeof setup / sizeof setup[0], err,
				       err_len)) != 0)
		goto fail;
	if ((rc = bookimport_copy(conn, csv, &res->lines, refusal, sizeof refusal, err, err_len)) !=
	    0)
		goto fail;
	const struct bookimport_step check[] = {
		/* How many lines name a call lets the planner look calls up by
		 * index rather than scan a year of them. */
		{"ANALYZE booking_import_stage (call_id)", 0, NULL},
		{bookimport_check_sql, 2, params},
		/* and how many are good, for the joins that look for conflicts */
		{"ANALYZE booking_import_checked (problem, booking_no)", 0, NULL},
	};
	if ((rc = bookimport_run_steps(conn, check, sizeof check / sizeof check[0], err,
				       err_len)) != 0 ||
	    (rc = bookimport_find_bad(conn, bookimport_first_bad_sql, 0, NULL, centre, source, err,
				      err_len)) != 0)
		goto fail;
	if (refusal[0] != '\0') {
		snprintf(err, err_len, "%s", refusal);
		rc = -EINVAL;
		goto fail;
	}
	PGresult *r = db_exec(
		conn,
		"INSERT INTO bookings (centre, source, booking_no, hospital, department,"
		" visit_date, channel, platform, call_id, caller_hash, caller_masked, booked_at,"
		" payload_sha256)"
		" SELECT $1, $2, booking_no, hospital, department, visit_date::date, channel,"
		" platform, call_id, caller_hash, caller_masked, hotline_usec(booked_usec), sha"
		" FROM booking_import_checked WHERE stored_sha IS NULL"
		" ON CONFLICT (centre, source, booking_no) DO NOTHING",
		2, params, err, err_len);
	if (r == NULL) {
		rc = -EIO;
		goto fail;
	}
	res->inserted = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	res->replayed = res->lines - res->inserted;
	if (res->replayed > 0) {
		/* Rows the insert skipped must be there with the same hash: another
		 * writer may have taken a number between the check and the insert.
		 * (Rows there before the check were compared by it, and bookings
		 * never change.) */
		if ((rc = bookimport_find_bad(
			     conn,
			     "SELECT k.line, 'taken', k.booking_no, NULL FROM booking_import_checked k"
			     " LEFT JOIN bookings b ON b.centre = $1 AND b.source = $2"
			     " AND b.booking_no = k.booking_no WHERE k.stored_sha IS NULL"
			     " AND b.payload_sha256 IS DISTINCT FROM k.sha ORDER BY k.line LIMIT 1",
			     2, params, centre, source, err, err_len)) != 0)
			goto fail;
	}
	if ((rc = bookimport_run(conn, "COMMIT", 0, NULL, err, err_len)) != 0) {
		memset(res, 0, sizeof *res);
		return rc;
	}
	return 0;
fail:
	bookimport_rollback(conn);
	res->inserted = res->replayed = 0;
	return rc;
}

/* --- the hospitals file ----------------------------------------------------------- */

#define HOSPITALS_WHAT "hospitals file"
#define HOSPITALS_NAME_MAX 100 /* characters, as the tables' checks */
#define HOSPITALS_FIELD_MAX 96

/* What the file says, as JSON arrays for jsonb_to_recordset, and the nodes
 * of the names, to point at when the database refuses one. */
struct hospitals_file {
	const char *centre;
	const yaml_node_t *centre_node;
	json_t *hospitals;   /* [{code, name}] */
	json_t *departments; /* [{hospital, code, name}] */
	json_t *platforms;   /* [{code, name}] */
	const yaml_node_t **hospital_names, **platform_names;
};

/* The scalar under key of map, with field set to "parent.key" for its
 * messages; NULL (reported) when it is missing or not a scalar. */
static const yaml_node_t *hospitals_take_scalar(const struct yamldoc_reader *rd,
						const yaml_node_t *map, const char *parent,
						const char *key, char field[HOSPITALS_FIELD_MAX])
{
	snprintf(field, HOSPITALS_FIELD_MAX, "%.80s.%s", parent, key);
	const yaml_node_t *v = yamldoc_require(rd, map, parent, key);
	if (v == NULL || yamldoc_expect_scalar(rd, v, field) != 0)
		return NULL;
	return v;
}

static int hospitals_take_code(const struct yamldoc_reader *rd, const yaml_node_t *map,
			       const char *parent, const char **out)
{
	char field[HOSPITALS_FIELD_MAX];
	const yaml_node_t *v = hospitals_take_scalar(rd, map, parent, "code", field);
	if (v == NULL)
		return -1;
	const char *s = (const char *)v->data.scalar.value;
	if (strlen(s) != v->data.scalar.length || !bookimport_code_ok(s, 32)) {
		yamldoc_error(rd, v, field, "'%s' is not a code of 1 to 32 of a-z, 0-9, _ and -",
			      s);
		return -1;
	}
	*out = s;
	return 0;
}

static int hospitals_take_name(const struct yamldoc_reader *rd, const yaml_node_t *map,
			       const char *parent, const char **out, const yaml_node_t **node)
{
	char field[HOSPITALS_FIELD_MAX];
	const yaml_node_t *v = hospitals_take_scalar(rd, map, parent, "name", field);
	if (v == NULL)
		return -1;
	const char *s = (const char *)v->data.scalar.value;
	size_t chars = 0;
	bool control = strlen(s) != v->data.scalar.length;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		chars += (*p & 0xC0) != 0x80;
		control = control || *p < 0x20 || *p == 0x7F;
	}
	if (chars < 1 || chars > HOSPITALS_NAME_MAX || control) {
		yamldoc_error(rd, v, field,
			      "a name is 1 to %d characters without tabs, line breaks or other "
			      "control characters",
			      HOSPITALS_NAME_MAX);
		return -1;
	}
	*out = s;
	if (node)
		*node = v;
	return 0;
}

/* Whether list (JSON objects) already has one whose key is value; reports
 * the duplicate at node. */
static bool hospitals_duplicate(const struct yamldoc_reader *rd, json_t *list, const char *key,
				const char *value, const yaml_node_t *node, const char *field,
				const char *what)
{
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item)
	{
		if (strcmp(json_string_value(json_object_get(item, key)), value) == 0) {
			yamldoc_error(rd, node, field, "'%s' is given twice: %s must differ", value,
				      what);
			return true;
		}
	}
	return false;
}

/* The node of a mapping's key's value, for duplicate messages. */
static const yaml_node_t *hospitals_at(const struct yamldoc_reader *rd, const yaml_node_t *map,
				       const char *key)
{
	const yaml_node_t *v = yamldoc_get(rd, map, key);
	return v ? v : map;
}

/* The slots for the nodes of a list's n names; NULL (reported) when
 * memory is short. */
static const yaml_node_t **hospitals_names_new(const struct yamldoc_reader *rd, size_t n)
{
	const yaml_node_t **names = calloc(n ? n : 1, sizeof *names);
	if (names == NULL)
		snprintf(rd->err, rd->err_len, "%s: out of memory", rd->name);
	return names;
}

/* One entry of the hospitals or the platforms list at field (a mapping
 * like example, with the keys keys): its code and name, neither given
 * before in list (codes_what and names_what say which must differ), added
 * to list as {code, name}, the name's node put in *name_node. 0, or -1
 * when it is reported. */
static int hospitals_take_entry(const struct yamldoc_reader *rd, const yaml_node_t *node,
				const char *field, const char *example, const char *const *keys,
				json_t *list, const char *codes_what, const char *names_what,
				const char **code, const char **name, const yaml_node_t **name_node)
{
	char sub[HOSPITALS_FIELD_MAX];
	if (yamldoc_expect_mapping(rd, node, field, example) != 0 ||
	    yamldoc_check_keys(rd, node, field, keys) != 0 ||
	    hospitals_take_code(rd, node, field, code) != 0 ||
	    hospitals_take_name(rd, node, field, name, name_node) != 0)
		return -1;
	snprintf(sub, sizeof sub, "%.80s.code", field);
	if (hospitals_duplicate(rd, list, "code", *code, hospitals_at(rd, node, "code"), sub,
				codes_what))
		return -1;
	snprintf(sub, sizeof sub, "%.80s.name", field);
	if (hospitals_duplicate(rd, list, "name", *name, hospitals_at(rd, node, "name"), sub,
				names_what))
		return -1;
	json_array_append_new(list, json_pack("{s:s,s:s}", "code", *code, "name", *name));
	return 0;
}

static int hospitals_parse(const struct yamldoc_reader *rd, const yaml_node_t *root,
			   struct hospitals_file *hf)
{
	static const char *const root_keys[] = {"centre", "hospitals", "platforms", NULL};
	static const char *const hospital_keys[] = {"code", "name", "departments", NULL};
	static const char *const pair_keys[] = {"code", "name", NULL};
	char field[HOSPITALS_FIELD_MAX], sub[HOSPITALS_FIELD_MAX];

	if (yamldoc_expect_mapping(rd, root, HOSPITALS_WHAT,
				   "{centre: ..., hospitals: [...], platforms: [...]}") != 0 ||
	    yamldoc_check_keys(rd, root, HOSPITALS_WHAT, root_keys) != 0)
		return -1;
	const yaml_node_t *c = yamldoc_require(rd, root, HOSPITALS_WHAT, "centre");
	if (c == NULL || yamldoc_expect_scalar(rd, c, "centre") != 0)
		return -1;
	hf->centre = (const char *)c->data.scalar.value;
	hf->centre_node = c;
	if (!bookimport_code_ok(hf->centre, 32)) {
		yamldoc_error(rd, c, "centre", "'%s' is not a centre code (a-z, 0-9, _ and -)",
			      hf->centre);
		return -1;
	}
	const yaml_node_t *list = yamldoc_require(rd, root, HOSPITALS_WHAT, "hospitals");
	if (list == NULL || yamldoc_expect_list(rd, list, "hospitals",
						"[{code: h001, name: ..., departments: "
						"[{code: ..., name: ...}]}]") != 0)
		return -1;
	size_t n = yamldoc_list_length(list);
	if (n == 0) {
		yamldoc_error(rd, list, "hospitals",
			      "the list is empty; a file lists every hospital that takes bookings");
		return -1;
	}
	hf->hospital_names = hospitals_names_new(rd, n);
	if (hf->hospital_names == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const yaml_node_t *h = yamldoc_list_item(rd, list, i);
		const char *code, *name;
		snprintf(field, sizeof field, "hospitals[%zu]", i);
		if (hospitals_take_entry(
			    rd, h, field, "{code: h001, name: ..., departments: [...]}",
			    hospital_keys, hf->hospitals, "hospital codes", "hospital names", &code,
			    &name, &hf->hospital_names[i]) != 0)
			return -1;
		const yaml_node_t *deps = yamldoc_get(rd, h, "departments");
		if (deps == NULL)
			continue;
		snprintf(sub, sizeof sub, "%.40s.departments", field);
		if (yamldoc_expect_list(rd, deps, sub, "[{code: internal, name: 内科}]") != 0)
			return -1;
		json_t *mine = json_array();
		for (size_t k = 0; k < yamldoc_list_length(deps); k++) {
			const yaml_node_t *d = yamldoc_list_item(rd, deps, k);
			const char *dcode, *dname;
			char dfield[HOSPITALS_FIELD_MAX], code_field[HOSPITALS_FIELD_MAX];
			snprintf(dfield, sizeof dfield, "%.40s.departments[%zu]", field, k);
			snprintf(code_field, sizeof code_field, "%.80s.code", dfield);
			if (yamldoc_expect_mapping(rd, d, dfield, "{code: internal, name: 内科}") !=
				    0 ||
			    yamldoc_check_keys(rd, d, dfield, pair_keys) != 0 ||
			    hospitals_take_code(rd, d, dfield, &dcode) != 0 ||
			    hospitals_take_name(rd, d, dfield, &dname, NULL) != 0 ||
			    hospitals_duplicate(rd, mine, "code", dcode,
						hospitals_at(rd, d, "code"), code_field,
						"a hospital's department codes")) {
				json_decref(mine);
				return -1;
			}
			json_array_append_new(mine, json_pack("{s:s}", "code", dcode));
			json_array_append_new(hf->departments,
					      json_pack("{s:s,s:s,s:s}", "hospital", code, "code",
							dcode, "name", dname));
		}
		json_decref(mine);
	}
	const yaml_node_t *plats = yamldoc_get(rd, root, "platforms");
	if (plats == NULL)
		return 0;
	if (yamldoc_expect_list(rd, plats, "platforms", "[{code: p001, name: ...}]") != 0)
		return -1;
	n = yamldoc_list_length(plats);
	hf->platform_names = hospitals_names_new(rd, n);
	if (hf->platform_names == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const yaml_node_t *p = yamldoc_list_item(rd, plats, i);
		const char *code, *name;
		snprintf(field, sizeof field, "platforms[%zu]", i);
		if (hospitals_take_entry(rd, p, field, "{code: p001, name: ...}", pair_keys,
					 hf->platforms, "platform codes", "platform names", &code,
					 &name, &hf->platform_names[i]) != 0)
			return -1;
	}
	return 0;
}

/* A name of the file that another row of the centre, one the file does not
 * list, already has: the unique name would refuse the commit. Reports it at
 * the name's node. */
static int hospitals_check_names(PGconn *conn, const struct yamldoc_reader *rd,
				 const struct hospitals_file *hf, const char *table,
				 const char *list_text, json_t *list,
				 const yaml_node_t *const *nodes, const char *what, char *err,
				 size_t err_len)
{
	char sql[512];
	const char *params[2] = {hf->centre, list_text};
	snprintf(sql, sizeof sql,
		 "SELECT x.ord - 1, t.code FROM ROWS FROM (jsonb_to_recordset($2::jsonb)"
		 " AS (code text, name text)) WITH ORDINALITY AS x(code, name, ord)"
		 " JOIN %s t ON t.centre = $1 AND t.name = x.name AND t.code <> x.code"
		 " WHERE t.code NOT IN (SELECT y.code FROM jsonb_to_recordset($2::jsonb)"
		 " AS y(code text, name text)) ORDER BY x.ord LIMIT 1",
		 table);
	PGresult *r = db_exec(conn, sql, 2, params, err, err_len);
	if (r == NULL)
		return -EIO;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	size_t i = (size_t)strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	char field[HOSPITALS_FIELD_MAX];
	snprintf(field, sizeof field, "%s[%zu].name", what, i);
	yamldoc_error(rd, nodes[i], field,
		      "'%s' is the name of %s %s, which this file does not list; give it that "
		      "code, or another name",
		      json_string_value(json_object_get(json_array_get(list, i), "name")),
		      strcmp(what, "hospitals") == 0 ? "hospital" : "platform",
		      PQgetvalue(r, 0, 1));
	PQclear(r);
	return -EINVAL;
}

/* The writes of a checked file, in the caller's transaction. */
static int hospitals_write(PGconn *conn, const struct yamldoc_reader *rd,
			   const struct hospitals_file *hf, char *err, size_t err_len)
{
	char *hospitals = json_dumps(hf->hospitals, JSON_COMPACT);
	char *departments = json_dumps(hf->departments, JSON_COMPACT);
	char *platforms = json_dumps(hf->platforms, JSON_COMPACT);
	int rc = -ENOMEM;
	if (hospitals == NULL || departments == NULL || platforms == NULL) {
		snprintf(err, err_len, "out of memory");
		goto out;
	}
	bool known;
	if ((rc = bookimport_centre_known(conn, hf->centre, &known, err, err_len)) != 0)
		goto out;
	if (!known) {
		yamldoc_error(rd, hf->centre_node, "centre",
			      "'%s' is not registered; add it first with hotline-admin centre add",
			      hf->centre);
		rc = -ENOENT;
		goto out;
	}
	if ((rc = hospitals_check_names(conn, rd, hf, "hospitals", hospitals, hf->hospitals,
					hf->hospital_names, "hospitals", err, err_len)) != 0 ||
	    (rc = hospitals_check_names(conn, rd, hf, "booking_platforms", platforms, hf->platforms,
					hf->platform_names, "platforms", err, err_len)) != 0)
		goto out;
	const char *ph[2] = {hf->centre, hospitals};
	const char *pd[2] = {hf->centre, departments};
	const char *pp[2] = {hf->centre, platforms};
	const struct bookimport_step writes[] = {
		/* Names may move between codes within the file: the unique names
		 * are checked at the commit, once every row is in. */
		{"SET CONSTRAINTS hospitals_name_unique, booking_platforms_name_unique"
		 " DEFERRED",
		 0, NULL},
		{"INSERT INTO hospitals (centre, code, name, enabled)"
		 " SELECT $1, x.code, x.name, true FROM jsonb_to_recordset($2::jsonb)"
		 " AS x(code text, name text)"
		 " ON CONFLICT (centre, code) DO UPDATE SET name = excluded.name,"
		 " enabled = true",
		 2, ph},
		{"UPDATE hospitals SET enabled = false WHERE centre = $1 AND enabled"
		 " AND code NOT IN (SELECT x.code FROM jsonb_to_recordset($2::jsonb)"
		 " AS x(code text, name text))",
		 2, ph},
		{"INSERT INTO departments (centre, hospital, code, name, enabled)"
		 " SELECT $1, x.hospital, x.code, x.name, true"
		 " FROM jsonb_to_recordset($2::jsonb)"
		 " AS x(hospital text, code text, name text)"
		 " ON CONFLICT (centre, hospital, code) DO UPDATE"
		 " SET name = excluded.name, enabled = true",
		 2, pd},
		{"UPDATE departments SET enabled = false WHERE centre = $1 AND enabled"
		 " AND (hospital, code) NOT IN (SELECT x.hospital, x.code"
		 " FROM jsonb_to_recordset($2::jsonb)"
		 " AS x(hospital text, code text, name text))",
		 2, pd},
		{"INSERT INTO booking_platforms (centre, code, name)"
		 " SELECT $1, x.code, x.name FROM jsonb_to_recordset($2::jsonb)"
		 " AS x(code text, name text)"
		 " ON CONFLICT (centre, code) DO UPDATE SET name = excluded.name",
		 2, pp},
	};
	rc = bookimport_run_steps(conn, writes, sizeof writes / sizeof writes[0], err, err_len);
out:
	free(hospitals);
	free(departments);
	free(platforms);
	return rc;
}

int bookimport_hospitals_yaml(PGconn *conn, const char *path, size_t *n_hospitals,
			      size_t *n_departments, size_t *n_platforms, char *err, size_t err_len)
{
	struct yamldoc_reader rd = {.name = path, .err = err, .err_len = err_len};
	struct hospitals_file hf = {0};
	yaml_document_t doc;
	int rc;

	*n_hospitals = *n_departments = *n_platforms = 0;
	if (yamldoc_load_file(path, HOSPITALS_WHAT, &doc, err, err_len) != 0)
		return strstr(err, "cannot open") ? -ENOENT : -EINVAL;
	rd.doc = &doc;
	hf.hospitals = json_array();
	hf.departments = json_array();
	hf.platforms = json_array();
	const yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (hf.hospitals == NULL || hf.departments == NULL || hf.platforms == NULL) {
		snprintf(err, err_len, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	if (root == NULL) {
		snprintf(err, err_len, "%s:1:1: %s: is empty; it needs 'centre' and 'hospitals'",
			 path, HOSPITALS_WHAT);
		rc = -EINVAL;
		goto out;
	}
	if (hospitals_parse(&rd, root, &hf) != 0) {
		rc = strstr(err, "out of memory") ? -ENOMEM : -EINVAL;
		goto out;
	}
	if ((rc = bookimport_run(conn, "BEGIN", 0, NULL, err, err_len)) != 0)
		goto out;
	rc = hospitals_write(conn, &rd, &hf, err, err_len);
	if (rc == 0)
		rc = bookimport_run(conn, "COMMIT", 0, NULL, err, err_len);
	else
		bookimport_rollback(conn);
	if (rc == 0) {
		*n_hospitals = json_array_size(hf.hospitals);
		*n_departments = json_array_size(hf.departments);
		*n_platforms = json_array_size(hf.platforms);
	}
out:
	json_decref(hf.hospitals);
	json_decref(hf.departments);
	json_decref(hf.platforms);
	free(hf.hospital_names);
	free(hf.platform_names);
	yaml_document_delete(&doc);
	return rc;
}
