/* admin.c: hotline-admin, the operator's command for the database:
 * migrations and the centres the broker serves. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "profile.h"

static void admin_usage(FILE *f)
{
	fputs("usage: hotline-admin [--db CONNINFO] COMMAND ...\n"
	      "\n"
	      "  migrate [--sql-dir DIR]          apply the sql/NNN_*.sql files not yet applied\n"
	      "  centre add CODE NAME [--province NAME]\n"
	      "                                   register a centre (or rename it)\n"
	      "  centre import PROFILE            register the profile's centre and every centre\n"
	      "                                   of its province, with their names\n"
	      "  centre list                      print the registered centres\n"
	      "\n"
	      "--db defaults to the HOTLINE_DB environment variable (a libpq conninfo or URI).\n"
	      "The broker reads the centres when it connects and on SIGHUP.\n",
	      f);
}

static int admin_upsert_centre(PGconn *conn, const char *code, const char *name,
			       const char *province)
{
	char err[1024];
	const char *params[3] = {code, name, province ? province : ""};
	PGresult *r = db_exec(conn,
			      "INSERT INTO centres (code, name, province) VALUES ($1, $2, $3)"
			      " ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
			      " province = CASE WHEN excluded.province = '' THEN centres.province"
			      " ELSE excluded.province END",
			      3, params, err, sizeof err);
	if (r == NULL) {
		fprintf(stderr, "hotline-admin: centre %s: %s\n", code, err);
		return -1;
	}
	PQclear(r);
	return 0;
}

static int admin_centre(PGconn *conn, int argc, char **argv)
{
	char err[2048];

	if (argc >= 1 && strcmp(argv[0], "list") == 0) {
		PGresult *r = db_exec(conn, "SELECT code, name, province FROM centres ORDER BY code",
				      0, NULL, err, sizeof err);
		if (r == NULL) {
			fprintf(stderr, "hotline-admin: %s\n", err);
			return 1;
		}
		for (int i = 0; i < PQntuples(r); i++)
			printf("%s\t%s\t%s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
			       PQgetvalue(r, i, 2));
		PQclear(r);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[0], "add") == 0) {
		const char *province = NULL;
		if (argc == 5 && strcmp(argv[3], "--province") == 0)
			province = argv[4];
		else if (argc != 3) {
			admin_usage(stderr);
			return 2;
		}
		return admin_upsert_centre(conn, argv[1], argv[2], province) == 0 ? 0 : 1;
	}
	if (argc == 2 && strcmp(argv[0], "import") == 0) {
		struct profile *p = NULL;
		if (profile_load_file(argv[1], &p, err, sizeof err) != 0) {
			fprintf(stderr, "hotline-admin: %s\n", err);
			return 2;
		}
		const char *province = p->has_province ? p->province_name : NULL;
		int rc = 0;
		PGresult *begin = PQexec(conn, "BEGIN");
		if (PQresultStatus(begin) != PGRES_COMMAND_OK)
			rc = 1;
		PQclear(begin);
		if (rc == 0)
			rc = admin_upsert_centre(conn, p->centre_code, p->centre_name, province);
		for (size_t i = 0; rc == 0 && i < p->n_centres; i++)
			rc = admin_upsert_centre(conn, p->centres[i].code, p->centres[i].name,
						 province);
		PGresult *r = PQexec(conn, rc == 0 ? "COMMIT" : "ROLLBACK");
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = -1;
		PQclear(r);
		if (rc == 0)
			printf("imported %zu centre(s) from %s\n",
			       p->n_centres > 0 ? p->n_centres : (size_t)1, argv[1]);
		profile_free(p);
		return rc == 0 ? 0 : 1;
	}
	admin_usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *conninfo = NULL;
	char err[2048];
	int c, rc;

	while ((c = getopt_long(argc, argv, "+d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			conninfo = optarg;
			break;
		case 'h':
			admin_usage(stdout);
			return 0;
		default:
			admin_usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		admin_usage(stderr);
		return 2;
	}
	PGconn *conn = db_connect(conninfo, NULL, err, sizeof err);
	if (conn == NULL) {
		fprintf(stderr, "hotline-admin: %s\n", err);
		return 1;
	}
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	if (strcmp(argv[0], "migrate") == 0) {
		const char *dir = "sql";
		if (argc == 3 && strcmp(argv[1], "--sql-dir") == 0)
			dir = argv[2];
		else if (argc != 1) {
			admin_usage(stderr);
			PQfinish(conn);
			return 2;
		}
		int n = db_migrate(conn, dir, stdout, err, sizeof err);
		if (n < 0) {
			fprintf(stderr, "hotline-admin: %s\n", err);
			rc = 1;
		} else {
			printf("schema up to date (%d migration(s) applied now)\n", n);
			rc = 0;
		}
	} else if (strcmp(argv[0], "centre") == 0) {
		rc = admin_centre(conn, argc - 1, argv + 1);
	} else {
		admin_usage(stderr);
		rc = 2;
	}
	PQfinish(conn);
	return rc;
}
