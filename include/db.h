/* db.h: blocking PostgreSQL helpers for the command-line tools
 * (hotline-admin, hotline-stats, tests). The broker never uses this module;
 * it has its own non-blocking store (store.h).
 *
 * The connection string is a libpq conninfo or URI; when NULL, the
 * HOTLINE_DB environment variable, then libpq's own defaults, apply.
 */
#ifndef HOTLINE_DB_H
#define HOTLINE_DB_H

#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

/* Connects; returns NULL with the server's message in err. Sets the session
 * time zone to zone when not NULL. */
PGconn *db_connect(const char *conninfo, const char *zone, char *err, size_t err_len);

/* Runs one parameterised statement (text parameters). Returns the result when
 * its status is PGRES_COMMAND_OK or PGRES_TUPLES_OK, else NULL with the error in
 * err (the result is cleared). */
PGresult *db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
		  char *err, size_t err_len);

/* Applies every sql/NNN_name.sql file in dir not yet recorded in
 * schema_version, each in its own transaction, in order; prints one line per
 * applied file to out. Returns the number applied, or -1 with err. Safe to
 * run concurrently (advisory lock). */
int db_migrate(PGconn *conn, const char *dir, FILE *out, char *err, size_t err_len);

#endif
