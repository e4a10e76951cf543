/* db.c: blocking libpq helpers for the command-line tools, and migrations. */
#include "db.h"
#include "readfile.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies a libpq message into err without its trailing newline. */
static void db_set_error(char *err, size_t err_len, const char *what, const char *msg)
{
	snprintf(err, err_len, "%s: %s", what, msg ? msg : "unknown error");
	size_t n = strlen(err);
	while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
		err[--n] = '\0';
}

PGconn *db_connect(const char *conninfo, const char *zone, char *err, size_t err_len)
{
	if (conninfo == NULL)
		conninfo = getenv("HOTLINE_DB");
	PGconn *conn = PQconnectdb(conninfo ? conninfo : "");
	if (PQstatus(conn) != CONNECTION_OK) {
		db_set_error(err, err_len, "connecting to PostgreSQL", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	if (zone != NULL) {
		const char *params[1] = {zone};
		PGresult *r = db_exec(conn, "SELECT set_config('TimeZone', $1, false)", 1, params,
				      err, err_len);
		if (r == NULL) {
			PQfinish(conn);
			return NULL;
		}
		PQclear(r);
	}
	return conn;
}

PGresult *db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params, char *err,
		  size_t err_len)
{
	PGresult *r = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	db_set_error(err, err_len, "query failed", PQresultErrorMessage(r));
	PQclear(r);
	return NULL;
}

/* Runs a statement whose result is not needed; 0 or -1 with err. */
static int db_run(PGconn *conn, const char *sql, char *err, size_t err_len)
{
	PGresult *r = db_exec(conn, sql, 0, NULL, err, err_len);
	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

static int db_compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}


/* A migration file is NNN_name.sql: three digits, underscore, name. */
static int db_migration_version(const char *name)
{
	size_t n = strlen(name);
	if (n < 9 || strcmp(name + n - 4, ".sql") != 0 || name[3] != '_')
		return -1;
	for (int i = 0; i < 3; i++)
		if (name[i] < '0' || name[i] > '9')
			return -1;
	return (name[0] - '0') * 100 + (name[1] - '0') * 10 + (name[2] - '0');
}

int db_migrate(PGconn *conn, const char *dir, FILE *out, char *err, size_t err_len)
{
	DIR *d = NULL;
	char **names = NULL;
	size_t n_names = 0, cap = 0;
	int applied = 0, rc = -1;
	struct dirent *de;

	if (db_run(conn,
		   "CREATE TABLE IF NOT EXISTS schema_version ("
		   " version integer PRIMARY KEY, name text NOT NULL,"
		   " applied_at timestamptz NOT NULL DEFAULT now())",
		   err, err_len) != 0)
		return -1;
	d = opendir(dir);
	if (d == NULL) {
		snprintf(err, err_len, "%s: cannot open the migrations folder: %s", dir,
			 strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (db_migration_version(de->d_name) < 0)
			continue;
		if (n_names == cap) {
			cap = cap ? cap * 2 : 16;
			char **grown = realloc(names, cap * sizeof *names);
			if (grown == NULL) {
				snprintf(err, err_len, "out of memory");
				goto out;
			}
			names = grown;
		}
		names[n_names] = strdup(de->d_name);
		if (names[n_names] == NULL) {
			snprintf(err, err_len, "out of memory");
			goto out;
		}
		n_names++;
	}
	qsort(names, n_names, sizeof *names, db_compare_names);

	for (size_t i = 0; i < n_names; i++) {
		char version[16], path[4096];
		snprintf(version, sizeof version, "%d", db_migration_version(names[i]));
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);

		/* One transaction per file; the advisory lock serialises concurrent
		 * migrators, and the version check inside it makes them idempotent. */
		if (db_run(conn, "BEGIN", err, err_len) != 0)
			goto out;
		if (db_run(conn, "SELECT pg_advisory_xact_lock(12320)", err, err_len) != 0)
			goto rollback;
		const char *params[2] = {version, names[i]};
		PGresult *r = db_exec(conn, "SELECT 1 FROM schema_version WHERE version = $1", 1,
				      params, err, err_len);
		if (r == NULL)
			goto rollback;
		int done = PQntuples(r) > 0;
		PQclear(r);
		if (done) {
			if (db_run(conn, "COMMIT", err, err_len) != 0)
				goto out;
			continue;
		}
		char *sql = NULL;
		size_t sql_len = 0;
		if (readfile_all(path, 0, &sql, &sql_len, err, err_len) != 0)
			goto rollback;
		PGresult *mr = PQexec(conn, sql);
		free(sql);
		if (PQresultStatus(mr) != PGRES_COMMAND_OK && PQresultStatus(mr) != PGRES_TUPLES_OK) {
			char what[4200];
			snprintf(what, sizeof what, "migration %s", path);
			db_set_error(err, err_len, what, PQresultErrorMessage(mr));
			PQclear(mr);
			goto rollback;
		}
		PQclear(mr);
		r = db_exec(conn, "INSERT INTO schema_version (version, name) VALUES ($1, $2)", 2,
			    params, err, err_len);
		if (r == NULL)
			goto rollback;
		PQclear(r);
		if (db_run(conn, "COMMIT", err, err_len) != 0)
			goto out;
		if (out != NULL)
			fprintf(out, "applied %s\n", names[i]);
		applied++;
	}
	rc = applied;
	goto out;
rollback:
	PQclear(PQexec(conn, "ROLLBACK"));
out:
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	if (d != NULL)
		closedir(d);
	return rc;
}
