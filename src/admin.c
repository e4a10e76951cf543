/* admin.c: hotline-admin, the operator's command for the database:
 * migrations, the centres the broker serves, their agents, hospitals and
 * booking batches. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentpool.h"
#include "agents.h"
#include "bookimport.h"
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
	      "  agent add AGENT_ID --centre C --name NAME --extension EXT [--skill NAME:LEVEL ...]\n"
	      "            (--password-file FILE | --password-stdin)\n"
	      "                                   provision an agent of centre C; skills are\n"
	      "                                   categories or languages, level 1..9 (9 the most\n"
	      "                                   skilled), e.g. --skill booking:5 --skill mandarin:9\n"
	      "  agent set AGENT_ID --centre C [--name NAME] [--extension EXT] [--skill NAME:LEVEL ...]\n"
	      "            [--drop-skill NAME ...] [--password-file FILE | --password-stdin] [--enable]\n"
	      "                                   change what is given; a new password ends the\n"
	      "                                   agent's sessions\n"
	      "  agent pool --centre C --count N --skills NAME:LEVEL,... [--prefix sim-]\n"
	      "            [--first-extension 7001] (--password-file FILE | --password-stdin)\n"
	      "                                   create agents PREFIX001 .. PREFIXN (more digits\n"
	      "                                   when N > 999), extensions from 7001, every one\n"
	      "                                   with the skills given, in one transaction; ids\n"
	      "                                   that exist are left as they are, so it can be\n"
	      "                                   run again. For training and simulation: the\n"
	      "                                   pool shares one password, hashed once (Argon2id\n"
	      "                                   is slow on purpose; a thousand hashes would take\n"
	      "                                   minutes), so every agent stores the same hash\n"
	      "  agent list [--centre C]          one line per agent, tab-separated: centre, agent id,\n"
	      "                                   name, extension, enabled (yes/no), skills\n"
	      "                                   (name:level,...)\n"
	      "  agent disable AGENT_ID --centre C\n"
	      "                                   refuse the agent's logins and end its sessions;\n"
	      "                                   its history stays (agent set --enable undoes it)\n"
	      "  hospitals load FILE              insert or update the hospitals, departments and\n"
	      "                                   booking platforms of a hospitals file (see\n"
	      "                                   conf/hospitals.yaml) in one transaction; those of\n"
	      "                                   its centre that it no longer lists are disabled\n"
	      "  hospitals list --centre C        one line per row, tab-separated: hospital, code,\n"
	      "                                   name, enabled (yes/no); department, hospital code,\n"
	      "                                   code, name, enabled; platform, code, name\n"
	      "  bookings import --centre C --source S FILE|-\n"
	      "                                   import a CSV batch of bookings sent by system S\n"
	      "                                   (doc/bookings.md) in one transaction: a bad line\n"
	      "                                   imports nothing and is named; a batch imported\n"
	      "                                   again adds nothing\n"
	      "\n"
	      "--db defaults to the HOTLINE_DB environment variable (a libpq conninfo or URI).\n"
	      "The broker reads the centres when it connects and on SIGHUP.\n"
	      "Passwords are read from a file or standard input (one line, at least 10\n"
	      "characters), never from the command line, and stored only as an Argon2id hash.\n"
	      "Exit status: 0 done, 1 the database or the system failed, 2 the command or its\n"
	      "input was wrong.\n",
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

/* --- hospitals and bookings ------------------------------------------------------- */

/* Exit status for a bookimport_ error: the input, or the database and system. */
static int admin_bookimport_status(int rc)
{
	return rc == -EIO || rc == -ENOMEM ? 1 : 2;
}

/* Parses "--centre C" and "--source S" (when source is not NULL) of
 * `WHAT VERB ...`; the operands that follow are left at argv[optind..].
 * Prints what was wrong and returns 2, or returns 0. */
static int admin_booking_options(const char *what, int argc, char **argv, const char **centre,
				 const char **source)
{
	static const struct option opts[] = {
		{"centre", required_argument, NULL, 'c'},
		{"source", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 0; /* glibc: start a fresh scan (main's getopt ran before) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == '?' || c == ':' || (c == 's' && source == NULL)) {
			fprintf(stderr, "hotline-admin %s %s: %s %s; see `hotline-admin --help`\n",
				what, argv[0],
				c == ':' ? "missing value for" : "unknown option", argv[optind - 1]);
			return 2;
		}
		if (c == 'c')
			*centre = optarg;
		else
			*source = optarg;
	}
	if (*centre == NULL || (source != NULL && *source == NULL)) {
		fprintf(stderr, "hotline-admin %s %s: --centre C%s is required\n", what, argv[0],
			source ? " and --source S are" : "");
		return 2;
	}
	return 0;
}

static int admin_hospitals(PGconn *conn, int argc, char **argv)
{
	char err[2048];
	if (argc == 2 && strcmp(argv[0], "load") == 0) {
		size_t nh, nd, np;
		int rc = bookimport_hospitals_yaml(conn, argv[1], &nh, &nd, &np, err, sizeof err);
		if (rc != 0) {
			fprintf(stderr, "hotline-admin hospitals load: %s\n", err);
			return admin_bookimport_status(rc);
		}
		printf("loaded %s: %zu hospital(s), %zu department(s), %zu platform(s)\n", argv[1],
		       nh, nd, np);
		return 0;
	}
	if (argc >= 1 && strcmp(argv[0], "list") == 0) {
		const char *centre = NULL;
		if (admin_booking_options("hospitals", argc, argv, &centre, NULL) != 0)
			return 2;
		if (optind != argc) {
			fprintf(stderr, "hotline-admin hospitals list: takes no operand ('%s')\n",
				argv[optind]);
			return 2;
		}
		const char *params[1] = {centre};
		PGresult *r = db_exec(conn, "SELECT 1 FROM centres WHERE code = $1", 1, params, err,
				      sizeof err);
		if (r == NULL) {
			fprintf(stderr, "hotline-admin hospitals list: %s\n", err);
			return 1;
		}
		bool known = PQntuples(r) == 1;
		PQclear(r);
		if (!known) {
			fprintf(stderr, "hotline-admin hospitals list: centre %s is not registered\n",
				centre);
			return 2;
		}
		r = db_exec(conn,
			    "SELECT 'hospital', code, name, CASE WHEN enabled THEN 'yes' ELSE 'no' END,"
			    " NULL, 0, code COLLATE \"C\", '' COLLATE \"C\" FROM hospitals"
			    " WHERE centre = $1"
			    " UNION ALL SELECT 'department', hospital, code, name,"
			    " CASE WHEN enabled THEN 'yes' ELSE 'no' END, 0, hospital, code"
			    " FROM departments WHERE centre = $1"
			    " UNION ALL SELECT 'platform', code, name, NULL, NULL, 1, '', code"
			    " FROM booking_platforms WHERE centre = $1"
			    " ORDER BY 6, 7, 8",
			    1, params, err, sizeof err);
		if (r == NULL) {
			fprintf(stderr, "hotline-admin hospitals list: %s\n", err);
			return 1;
		}
		for (int i = 0; i < PQntuples(r); i++) {
			fputs(PQgetvalue(r, i, 0), stdout);
			for (int col = 1; col <= 4 && !PQgetisnull(r, i, col); col++)
				printf("\t%s", PQgetvalue(r, i, col));
			putchar('\n');
		}
		if (PQntuples(r) == 0)
			fprintf(stderr,
				"hotline-admin hospitals list: centre %s has no hospitals yet "
				"(hotline-admin hospitals load FILE)\n",
				centre);
		PQclear(r);
		return 0;
	}
	admin_usage(stderr);
	return 2;
}

static int admin_bookings(PGconn *conn, int argc, char **argv)
{
	char err[2048];
	const char *centre = NULL, *source = NULL;
	if (argc < 1 || strcmp(argv[0], "import") != 0) {
		admin_usage(stderr);
		return 2;
	}
	if (admin_booking_options("bookings", argc, argv, &centre, &source) != 0)
		return 2;
	if (optind + 1 != argc) {
		fprintf(stderr, "hotline-admin bookings import: give one FILE (or - for standard "
				"input)\n");
		return 2;
	}
	const char *path = argv[optind];
	bool from_stdin = strcmp(path, "-") == 0;
	FILE *f = from_stdin ? stdin : fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "hotline-admin bookings import: cannot open %s: %s\n", path,
			strerror(errno));
		return 2;
	}
	struct bookimport_result res;
	int rc = bookimport_csv(conn, centre, source, f, &res, err, sizeof err);
	if (!from_stdin)
		fclose(f);
	const char *name = from_stdin ? "standard input" : path;
	if (rc != 0) {
		fprintf(stderr, "hotline-admin bookings import: %s: %s\n", name, err);
		return admin_bookimport_status(rc);
	}
	printf("imported %s: %lld line(s), %lld new booking(s), %lld already there\n", name,
	       (long long)res.lines, (long long)res.inserted, (long long)res.replayed);
	return 0;
}

/* What the agent subcommands were given, gathered before anything is checked. */
struct admin_agent_args {
	const char *agent_id;
	const char *centre;
	const char *name;
	const char *extension;
	const char *password_file;
	bool password_stdin;
	bool enable;
	struct agents_skill skills[AGENTS_SKILLS_MAX];
	size_t n_skills;
	const char *drop_skills[AGENTS_SKILLS_MAX];
	size_t n_drop_skills;
	/* agent pool */
	const char *prefix;
	unsigned count;
	unsigned long long first_extension;
};

static const struct option admin_agent_options[] = {
	{"centre", required_argument, NULL, 'c'},
	{"name", required_argument, NULL, 'n'},
	{"extension", required_argument, NULL, 'x'},
	{"skill", required_argument, NULL, 's'},
	{"drop-skill", required_argument, NULL, 'D'},
	{"password-file", required_argument, NULL, 'f'},
	{"password-stdin", no_argument, NULL, 'i'},
	{"enable", no_argument, NULL, 'E'},
	{"count", required_argument, NULL, 'N'},
	{"prefix", required_argument, NULL, 'p'},
	{"first-extension", required_argument, NULL, 'X'},
	{"skills", required_argument, NULL, 'S'},
	/* Only to say why it is refused: a password in argv shows in ps and history. */
	{"password", optional_argument, NULL, 'P'},
	{NULL, 0, NULL, 0},
};

static const char *admin_agent_option_name(int code)
{
	for (const struct option *o = admin_agent_options; o->name != NULL; o++)
		if (o->val == code)
			return o->name;
	return "?";
}

/* Appends the skills of --skills "NAME:LEVEL,NAME:LEVEL,..." to a. Prints
 * what was wrong and returns 2, or returns 0. */
static int admin_agent_skill_list(const char *verb, const char *list, struct admin_agent_args *a)
{
	char spec[AGENTS_SKILL_NAME_MAX + 8];
	char err[512];

	for (const char *p = list;;) {
		size_t len = strcspn(p, ",");
		if (a->n_skills == AGENTS_SKILLS_MAX) {
			fprintf(stderr,
				"hotline-admin agent %s: more than %d skills; an agent has at "
				"most %d\n",
				verb, AGENTS_SKILLS_MAX, AGENTS_SKILLS_MAX);
			return 2;
		}
		/* A spec too long for the buffer is too long for a skill: cut it one
		 * byte past the limit and let the parser say so. */
		snprintf(spec, sizeof spec, "%.*s",
			 (int)(len < sizeof spec - 1 ? len : sizeof spec - 1), p);
		if (agents_parse_skill(spec, &a->skills[a->n_skills], err, sizeof err) != 0) {
			fprintf(stderr, "hotline-admin agent %s: --skills: %s\n", verb, err);
			return 2;
		}
		a->n_skills++;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

/* A whole decimal number in [min, max], or -1. */
static long long admin_parse_number(const char *s, long long min, long long max)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	return v;
}

/* Parses `agent VERB ...` (argv[0] is VERB) into a. allowed lists the option
 * codes VERB takes; positional says whether it takes an AGENT_ID. Prints what
 * was wrong and returns 2, or returns 0. */
static int admin_agent_parse(int argc, char **argv, const char *allowed, bool positional,
			     struct admin_agent_args *a)
{
	const char *verb = argv[0];
	char err[512];
	int c;

	memset(a, 0, sizeof *a);
	a->prefix = "sim-";
	a->first_extension = 7001;
	optind = 0; /* glibc: start a fresh scan (main's getopt ran before) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", admin_agent_options, NULL)) != -1) {
		if (c == '?' || c == ':') {
			fprintf(stderr,
				"hotline-admin agent %s: %s %s; see `hotline-admin --help`\n", verb,
				c == '?' ? "unknown option" : "missing value for",
				argv[optind - 1]);
			return 2;
		}
		if (c == 'P') {
			fprintf(stderr,
				"hotline-admin agent %s: passwords are never taken on the command line "
				"(they would show in ps and in the shell's history): put it in a file "
				"for --password-file FILE, or pipe it into --password-stdin\n",
				verb);
			return 2;
		}
		if (strchr(allowed, c) == NULL) {
			fprintf(stderr, "hotline-admin agent %s: --%s does not apply here\n", verb,
				admin_agent_option_name(c));
			return 2;
		}
		switch (c) {
		case 'c':
			a->centre = optarg;
			break;
		case 'n':
			a->name = optarg;
			break;
		case 'x':
			a->extension = optarg;
			break;
		case 's':
		case 'D':
			if ((c == 's' ? a->n_skills : a->n_drop_skills) == AGENTS_SKILLS_MAX) {
				fprintf(stderr,
					"hotline-admin agent %s: more than %d --%s options; an agent "
					"has at most %d skills\n",
					verb, AGENTS_SKILLS_MAX, admin_agent_option_name(c),
					AGENTS_SKILLS_MAX);
				return 2;
			}
			if (c == 'D') {
				struct agents_skill probe;
				char spec[AGENTS_SKILL_NAME_MAX + 8];
				/* The same name rules as --skill: a typo is refused, not ignored.
				 */
				snprintf(spec, sizeof spec, "%.*s:1", AGENTS_SKILL_NAME_MAX + 1,
					 optarg);
				if (strchr(optarg, ':') != NULL ||
				    agents_parse_skill(spec, &probe, err, sizeof err) != 0) {
					fprintf(stderr,
						"hotline-admin agent %s: --drop-skill '%s': give a skill "
						"name alone (1 to %d of a-z, 0-9 and _), e.g. "
						"--drop-skill booking\n",
						verb, optarg, AGENTS_SKILL_NAME_MAX);
					return 2;
				}
				a->drop_skills[a->n_drop_skills++] = optarg;
				break;
			}
			if (agents_parse_skill(optarg, &a->skills[a->n_skills], err, sizeof err) !=
			    0) {
				fprintf(stderr, "hotline-admin agent %s: %s\n", verb, err);
				return 2;
			}
			a->n_skills++;
			break;
		case 'f':
			a->password_file = optarg;
			break;
		case 'i':
			a->password_stdin = true;
			break;
		case 'E':
			a->enable = true;
			break;
		case 'N': {
			long long n = admin_parse_number(optarg, 1, AGENTPOOL_MAX);
			if (n < 0) {
				fprintf(stderr,
					"hotline-admin agent %s: --count '%s': give a number from 1 "
					"to %d\n",
					verb, optarg, AGENTPOOL_MAX);
				return 2;
			}
			a->count = (unsigned)n;
			break;
		}
		case 'p':
			a->prefix = optarg;
			break;
		case 'X':
			if (agents_check_extension(optarg, err, sizeof err) != 0) {
				fprintf(stderr, "hotline-admin agent %s: --first-extension: %s\n",
					verb, err);
				return 2;
			}
			a->first_extension = strtoull(optarg, NULL, 10);
			break;
		case 'S':
			if (admin_agent_skill_list(verb, optarg, a) != 0)
				return 2;
			break;
		}
	}
	if (positional && optind + 1 == argc)
		a->agent_id = argv[optind];
	else if (optind != argc || positional) {
		fprintf(stderr, "hotline-admin agent %s: %s; see `hotline-admin --help`\n", verb,
			positional ? "give exactly one AGENT_ID" : "takes no AGENT_ID");
		return 2;
	}
	if (a->password_file != NULL && a->password_stdin) {
		fprintf(stderr,
			"hotline-admin agent %s: give one of --password-file and --password-stdin\n",
			verb);
		return 2;
	}
	if ((positional || strchr(allowed, 'N') != NULL) && a->centre == NULL) {
		fprintf(stderr, "hotline-admin agent %s: --centre C is required\n", verb);
		return 2;
	}
	if ((a->agent_id != NULL && agents_check_id(a->agent_id, err, sizeof err) != 0) ||
	    (a->centre != NULL && agents_check_centre(a->centre, err, sizeof err) != 0) ||
	    (a->name != NULL && agents_check_name(a->name, err, sizeof err) != 0) ||
	    (a->extension != NULL && agents_check_extension(a->extension, err, sizeof err) != 0)) {
		fprintf(stderr, "hotline-admin agent %s: %s\n", verb, err);
		return 2;
	}
	return 0;
}

/* Reads the password from where the options say and hashes it. 0, or the exit
 * status after saying what went wrong. */
static int admin_agent_password(const char *verb, const struct admin_agent_args *a,
				char hash[AGENTS_PASSWORD_HASH_MAX])
{
	char err[1024];
	FILE *f = a->password_stdin ? stdin : fopen(a->password_file, "rb");

	if (f == NULL) {
		fprintf(stderr, "hotline-admin agent %s: cannot open the password file %s: %s\n",
			verb, a->password_file, strerror(errno));
		return 2;
	}
	/* Unbuffered: no copy of the password stays behind in a stdio buffer. */
	setvbuf(f, NULL, _IONBF, 0);
	int rc = agents_read_password_hash(
		f, a->password_stdin ? "standard input" : a->password_file, hash, err, sizeof err);
	if (f != stdin)
		fclose(f);
	if (rc != 0) {
		fprintf(stderr, "hotline-admin agent %s: %s\n", verb, err);
		return rc == -EINVAL ? 2 : 1;
	}
	return 0;
}

/* Exit status for an agents_ error: the input, or the database and system. */
static int admin_agent_status(int rc)
{
	return rc == -EIO || rc == -ENOMEM ? 1 : 2;
}

static int admin_agent(PGconn *conn, int argc, char **argv)
{
	struct admin_agent_args a;
	char err[2048], hash[AGENTS_PASSWORD_HASH_MAX];
	int rc;

	if (argc < 1) {
		admin_usage(stderr);
		return 2;
	}
	const char *verb = argv[0];
	if (strcmp(verb, "add") == 0) {
		if ((rc = admin_agent_parse(argc, argv, "cnxsfi", true, &a)) != 0)
			return rc;
		if (a.name == NULL || a.extension == NULL ||
		    (a.password_file == NULL && !a.password_stdin)) {
			fprintf(stderr, "hotline-admin agent add: --name, --extension and one of "
					"--password-file and --password-stdin are required\n");
			return 2;
		}
		if ((rc = admin_agent_password(verb, &a, hash)) != 0)
			return rc;
		struct agents_new n = {.centre = a.centre,
				       .agent_id = a.agent_id,
				       .name = a.name,
				       .extension = a.extension,
				       .skills = a.skills,
				       .n_skills = a.n_skills,
				       .password_hash = hash};
		if ((rc = agents_add(conn, &n, err, sizeof err)) != 0) {
			fprintf(stderr, "hotline-admin agent add: %s\n", err);
			return admin_agent_status(rc);
		}
		printf("added agent %s to centre %s (extension %s, %zu skill(s))\n", a.agent_id,
		       a.centre, a.extension, a.n_skills);
		return 0;
	}
	if (strcmp(verb, "set") == 0) {
		if ((rc = admin_agent_parse(argc, argv, "cnxsDfiE", true, &a)) != 0)
			return rc;
		bool password = a.password_file != NULL || a.password_stdin;
		if (a.name == NULL && a.extension == NULL && a.n_skills == 0 &&
		    a.n_drop_skills == 0 && !password && !a.enable) {
			fprintf(stderr,
				"hotline-admin agent set: nothing to change; give --name, "
				"--extension, --skill, --drop-skill, a password or --enable\n");
			return 2;
		}
		if (password && (rc = admin_agent_password(verb, &a, hash)) != 0)
			return rc;
		struct agents_change ch = {.centre = a.centre,
					   .agent_id = a.agent_id,
					   .name = a.name,
					   .extension = a.extension,
					   .set_skills = a.skills,
					   .n_set_skills = a.n_skills,
					   .drop_skills = a.drop_skills,
					   .n_drop_skills = a.n_drop_skills,
					   .password_hash = password ? hash : NULL,
					   .enable = a.enable};
		if ((rc = agents_set(conn, &ch, err, sizeof err)) != 0) {
			fprintf(stderr, "hotline-admin agent set: %s\n", err);
			return admin_agent_status(rc);
		}
		printf("updated agent %s in centre %s%s\n", a.agent_id, a.centre,
		       password ? "; its sessions ended" : "");
		return 0;
	}
	if (strcmp(verb, "pool") == 0) {
		unsigned created, existing;
		char first[AGENTS_ID_MAX + 1], last[AGENTS_ID_MAX + 1];
		if ((rc = admin_agent_parse(argc, argv, "cNpXSfi", false, &a)) != 0)
			return rc;
		if (a.count == 0 || a.n_skills == 0 ||
		    (a.password_file == NULL && !a.password_stdin)) {
			fprintf(stderr, "hotline-admin agent pool: --count, --skills and one of "
					"--password-file and --password-stdin are required\n");
			return 2;
		}
		struct agents_pool pool = {.centre = a.centre,
					   .prefix = a.prefix,
					   .count = a.count,
					   .first_extension = a.first_extension,
					   .skills = a.skills,
					   .n_skills = a.n_skills};
		/* Everything is checked before the slow hash. */
		if ((rc = agents_check_pool(&pool, err, sizeof err)) != 0) {
			fprintf(stderr, "hotline-admin agent pool: %s\n", err);
			return 2;
		}
		if ((rc = admin_agent_password(verb, &a, hash)) != 0)
			return rc;
		pool.password_hash = hash;
		rc = agents_add_pool(conn, &pool, &created, &existing, err, sizeof err);
		if (rc != 0) {
			fprintf(stderr, "hotline-admin agent pool: %s\n", err);
			return admin_agent_status(rc);
		}
		if (agentpool_id(pool.prefix, 1, pool.count, first, sizeof first) != 0 ||
		    agentpool_id(pool.prefix, pool.count, pool.count, last, sizeof last) != 0)
			first[0] = last[0] = '\0'; /* checked above: cannot happen */
		printf("pool %s .. %s in centre %s: %u agent(s) created, %u already existed\n",
		       first, last, a.centre, created, existing);
		return 0;
	}
	if (strcmp(verb, "list") == 0) {
		if ((rc = admin_agent_parse(argc, argv, "c", false, &a)) != 0)
			return rc;
		if ((rc = agents_list(conn, a.centre, stdout, err, sizeof err)) != 0) {
			fprintf(stderr, "hotline-admin agent list: %s\n", err);
			return admin_agent_status(rc);
		}
		return 0;
	}
	if (strcmp(verb, "disable") == 0) {
		bool was_enabled = false;
		if ((rc = admin_agent_parse(argc, argv, "c", true, &a)) != 0)
			return rc;
		if ((rc = agents_disable(conn, a.centre, a.agent_id, &was_enabled, err,
					 sizeof err)) != 0) {
			fprintf(stderr, "hotline-admin agent disable: %s\n", err);
			return admin_agent_status(rc);
		}
		if (was_enabled)
			printf("disabled agent %s in centre %s; its sessions ended\n", a.agent_id,
			       a.centre);
		else
			printf("agent %s in centre %s was already disabled\n", a.agent_id,
			       a.centre);
		return 0;
	}
	fprintf(stderr,
		"hotline-admin agent: unknown command '%s': use add, set, pool, list or disable\n",
		verb);
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
	} else if (strcmp(argv[0], "agent") == 0) {
		rc = admin_agent(conn, argc - 1, argv + 1);
	} else if (strcmp(argv[0], "hospitals") == 0) {
		rc = admin_hospitals(conn, argc - 1, argv + 1);
	} else if (strcmp(argv[0], "bookings") == 0) {
		rc = admin_bookings(conn, argc - 1, argv + 1);
	} else {
		admin_usage(stderr);
		rc = 2;
	}
	PQfinish(conn);
	return rc;
}
