/* bookimport.h: other systems' daily booking batches into PostgreSQL with
 * COPY (doc/bookings.md), and the hospitals reference file.
 *
 * Blocking libpq, for the command-line tools (hotline-admin, hotline-sim),
 * never the broker. One batch is one transaction: checked as a whole,
 * nothing lands when any line is bad, and a batch imported again adds
 * nothing.
 *
 * Error convention (as agents.h): 0, or a negative errno with a sentence
 * in err saying what was wrong and where:
 *   -EINVAL  the input is wrong (a line, a field, a YAML node, a conflict)
 *   -ENOENT  the centre is not registered, or the file cannot be opened
 *   -EIO     the database (or reading the input) failed
 *   -ENOMEM  out of memory
 */
#ifndef HOTLINE_BOOKIMPORT_H
#define HOTLINE_BOOKIMPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

struct bookimport_result {
	int64_t lines;    /* data lines read (the header not counted) */
	int64_t inserted; /* new bookings */
	int64_t replayed; /* already there with the same content */
};

/* Imports the CSV read from csv (header line first, optional UTF-8 BOM) as
 * bookings of centre sent by source. Returns 0 and fills res, or a negative
 * errno (above) with a message in err naming the line (1 = the header) and
 * field: a malformed line, an unknown hospital, department, platform or
 * call, a bad channel or date, or a booking_no already taken by a different
 * booking. Nothing is written on error. source is a system's name
 * ([a-z0-9_-]{1,32}); "agent" and "gateway" are the broker's API's and are
 * refused, so that imported and API bookings never share a number space.
 * The header names the eight columns in any order; fields may be quoted
 * (RFC 4180), lines end in LF or CRLF, and a line that is empty is
 * skipped. */
int bookimport_csv(PGconn *conn, const char *centre, const char *source, FILE *csv,
		   struct bookimport_result *res, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* Loads a hospitals file (doc/bookings.md) in one transaction: upserts its
 * hospitals, departments and platforms; disables the centre's hospitals and
 * departments the file no longer lists. Returns 0, or a negative errno with
 * err (a YAML error with its line, a bad code, a duplicate, an unknown
 * centre). */
int bookimport_hospitals_yaml(PGconn *conn, const char *path, size_t *n_hospitals,
			      size_t *n_departments, size_t *n_platforms, char *err, size_t err_len)
	__attribute__((warn_unused_result));

#endif
