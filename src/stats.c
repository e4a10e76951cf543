/* stats.c: hotline-stats, the supervisor's exports from PostgreSQL: the
 * year-end tables as a year profile (YAML), JSON or CSV; one day by hour,
 * with the 12345 work orders near due or overdue at its end; and a
 * field-by-field comparison of two profiles.
 *
 * Statistics come from recorded facts (DESIGN.md, invariant 7): every figure
 * is counted from the calls table by the time the call was offered, read in
 * the export's time zone, never from the time of the export. Each table is
 * one GROUP BY query over an index-friendly time range, so an export stays a
 * single scan of the year's rows. Definitions are printed with every export.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "category.h"
#include "db.h"
#include "profile.h"

#define STATS_EXIT_OK 0
#define STATS_EXIT_DIFFERENT 1
#define STATS_EXIT_ERROR 2

#define STATS_DEFAULT_ZONE "Asia/Shanghai"
/* --yellow-hours: as yellow_hours of the broker's workorders.file. */
#define STATS_DEFAULT_YELLOW_HOURS 24
#define STATS_MAX_YELLOW_HOURS 720

/* What counts as an accepted call, in SQL and in words. Both must change together. */
#define STATS_ACCEPTED_SQL "outcome IN ('handled', 'self_service')"
#define STATS_DEFINITION_ACCEPTED                                                                  \
	"accepted calls are calls whose outcome is handled (an agent took the call) or "          \
	"self_service (the IVR answered it); abandoned calls and calls still in progress are "    \
	"not accepted calls; a call counts under the category its agent set at wrap-up, if any, "  \
	"else the classifier's"
#define STATS_DEFINITION_TIME                                                                      \
	"a call belongs to the local date and hour at which it was offered (offered_at), in the " \
	"time zone"
#define STATS_DEFINITION_PROVINCE                                                                  \
	"province.by_centre lists every centre with accepted calls in the year (and the own "     \
	"centre always), by calls descending, then code"
#define STATS_DEFINITION_WORK_ORDERS_TABLE                                                         \
	"12345 work orders are counted from table work_orders by source, by the local date they " \
	"were received (received_at)"
#define STATS_DEFINITION_WORK_ORDERS_NONE                                                          \
	"12345 work orders are 0: this database has no work_orders table"
#define STATS_DEFINITION_ABANDONED                                                                 \
	"abandoned calls are calls whose outcome is abandoned, by the local date they were offered"
/* The day's work orders due; the SQL is stats_day_work_orders'. */
#define STATS_DEFINITION_WORK_ORDERS_DUE                                                           \
	"work orders due are listed as of the end of the local date (its next midnight), or now "  \
	"if that is earlier: the open orders (stage neither closed nor returned) received before " \
	"that moment whose due moment is at most --yellow-hours hours after it; an order's due "   \
	"moment is sign_due while its stage is received, else reply_due (an extension moves "      \
	"it); an order is overdue from its due moment on, near due from yellow hours before it; "  \
	"stage and due are the order's current ones, so an order closed since is not listed"
#define STATS_DEFINITION_WORK_ORDERS_DUE_NONE                                                      \
	"work orders due: none, this database has no work_orders table"

struct stats_options {
	const char *db;
	const char *zone;
	const char *command;
	const char *positional[2];
	int n_positional;
	int year;
	bool has_year;
	const char *centre;
	const char *date;
	const char *format;
	const char *out;
	const char *sections;
	int yellow_hours;
};

static void stats_usage(FILE *f)
{
	fputs("usage:\n"
	      "  hotline-stats [--db CONNINFO] [--tz ZONE] year --year Y --centre CODE\n"
	      "                [--format profile|json|csv] [--out FILE]\n"
	      "  hotline-stats [--db CONNINFO] [--tz ZONE] day --date YYYY-MM-DD [--centre CODE]\n"
	      "                [--yellow-hours N] [--format text|csv|json] [--out FILE]\n"
	      "  hotline-stats compare EXPECTED.yaml ACTUAL.yaml\n"
	      "                [--sections calls,work_orders,province,bookings,platforms]\n"
	      "\n"
	      "year     the year-end tables of one centre: calls accepted by category, 12345\n"
	      "         work orders by source, and calls by centre across the province.\n"
	      "         --format profile (default) writes a hotline-year-profile/1 file named\n"
	      "         CENTRE-YEAR; json the same as one object; csv one table per section.\n"
	      "day      calls accepted on one local date by category and by hour (0-23), and\n"
	      "         the abandoned calls; all centres unless --centre. Default format text.\n"
	      "         Then the 12345 work orders overdue or near due at the end of that\n"
	      "         date (or now, if earlier); near due is within --yellow-hours N hours\n"
	      "         of due (0 to 720, default 24, as the broker's yellow_hours).\n"
	      "compare  compares two profiles field by field (centres, hospitals and\n"
	      "         platforms matched by code or name); prints one line per difference.\n"
	      "         Exit status 0 when equal, 1 when they differ, 2 on error.\n"
	      "\n"
	      "--db CONNINFO  a libpq conninfo or URI; default $HOTLINE_DB, then libpq's own\n"
	      "--tz ZONE      the time zone that decides a call's local date and hour;\n"
	      "               default " STATS_DEFAULT_ZONE "\n"
	      "--out FILE     write there (replaced only when the export succeeds); default stdout\n"
	      "\n"
	      "Definitions:\n"
	      "  " STATS_DEFINITION_ACCEPTED ".\n"
	      "  " STATS_DEFINITION_TIME " given by --tz.\n"
	      "  " STATS_DEFINITION_PROVINCE ".\n"
	      "  " STATS_DEFINITION_WORK_ORDERS_TABLE ", when that table exists; else 0.\n"
	      "  " STATS_DEFINITION_WORK_ORDERS_DUE ".\n"
	      "Every export prints the definitions it used: YAML and CSV as # comments,\n"
	      "JSON as a \"definitions\" object, text at the end.\n",
	      f);
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                 */
/* ------------------------------------------------------------------------ */

static bool stats_code_is_valid(const char *code)
{
	size_t n = strlen(code);

	if (n < 1 || n > 32)
		return false;
	for (const char *c = code; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
		      *c == '-'))
			return false;
	return true;
}

/* A whole number in [min, max] written with decimal digits only. */
static int stats_parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* Strict YYYY-MM-DD naming a real date in 1970..9999. */
static int stats_parse_date(const char *s)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1970 || m < 1 || m > 12 || d < 1)
		return -1;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= days[m - 1] + (m == 2 && leap) ? 0 : -1;
}

/* "calls,province" -> a profile_section mask. */
static int stats_parse_sections(const char *list, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{"calls", PROFILE_SECTION_CALLS},
		{"work_orders", PROFILE_SECTION_WORK_ORDERS},
		{"province", PROFILE_SECTION_PROVINCE},
		{"bookings", PROFILE_SECTION_BOOKINGS},
		{"platforms", PROFILE_SECTION_PLATFORMS},
		{"booking_platforms", PROFILE_SECTION_PLATFORMS},
	};
	const char *p = list;
	unsigned mask = 0;

	while (*p) {
		size_t n = strcspn(p, ",");
		size_t i;
		for (i = 0; i < sizeof names / sizeof *names; i++)
			if (strlen(names[i].name) == n && strncmp(p, names[i].name, n) == 0)
				break;
		if (i == sizeof names / sizeof *names) {
			fprintf(stderr,
				"hotline-stats: --sections: unknown section \"%.*s\" (expected "
				"calls, work_orders, province, bookings, platforms)\n",
				(int)n, p);
			return -1;
		}
		mask |= names[i].bit;
		p += n;
		if (*p == ',')
			p++;
	}
	if (mask == 0) {
		fprintf(stderr, "hotline-stats: --sections: name at least one section\n");
		return -1;
	}
	*out = mask;
	return 0;
}

/* Parses the whole command line (options may come before or after the
 * command) and checks that each option belongs to the command. Prints what
 * is wrong and returns -1; returns 1 after --help. */
static int stats_parse_args(int argc, char **argv, struct stats_options *o)
{
	enum {
		OPT_DB = 1,
		OPT_TZ,
		OPT_YEAR,
		OPT_CENTRE,
		OPT_DATE,
		OPT_FORMAT,
		OPT_OUT,
		OPT_SECTIONS,
		OPT_YELLOW_HOURS,
	};
	static const struct option long_options[] = {
		{"db", required_argument, NULL, OPT_DB},
		{"tz", required_argument, NULL, OPT_TZ},
		{"year", required_argument, NULL, OPT_YEAR},
		{"centre", required_argument, NULL, OPT_CENTRE},
		{"date", required_argument, NULL, OPT_DATE},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"out", required_argument, NULL, OPT_OUT},
		{"sections", required_argument, NULL, OPT_SECTIONS},
		{"yellow-hours", required_argument, NULL, OPT_YELLOW_HOURS},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *year_text = NULL, *yellow_text = NULL;
	int c;

	memset(o, 0, sizeof *o);
	o->zone = STATS_DEFAULT_ZONE;
	o->yellow_hours = STATS_DEFAULT_YELLOW_HOURS;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_DB:
			o->db = optarg;
			break;
		case OPT_TZ:
			o->zone = optarg;
			break;
		case OPT_YEAR:
			year_text = optarg;
			break;
		case OPT_CENTRE:
			o->centre = optarg;
			break;
		case OPT_DATE:
			o->date = optarg;
			break;
		case OPT_FORMAT:
			o->format = optarg;
			break;
		case OPT_OUT:
			o->out = optarg;
			break;
		case OPT_SECTIONS:
			o->sections = optarg;
			break;
		case OPT_YELLOW_HOURS:
			yellow_text = optarg;
			break;
		case 'h':
			stats_usage(stdout);
			return 1;
		default:
			if (optopt != 0)
				fprintf(stderr, "hotline-stats: option -%c: unknown or missing its value\n",
					optopt);
			else
				fprintf(stderr,
					"hotline-stats: %s: unknown option or missing its value\n",
					argv[optind - 1]);
			fprintf(stderr, "Try hotline-stats --help.\n");
			return -1;
		}
	}
	if (optind >= argc) {
		stats_usage(stderr);
		return -1;
	}
	o->command = argv[optind++];
	while (optind < argc) {
		if (o->n_positional == 2) {
			fprintf(stderr, "hotline-stats: unexpected argument \"%s\"\n", argv[optind]);
			return -1;
		}
		o->positional[o->n_positional++] = argv[optind++];
	}

	bool is_year = strcmp(o->command, "year") == 0;
	bool is_day = strcmp(o->command, "day") == 0;
	bool is_compare = strcmp(o->command, "compare") == 0;
	if (!is_year && !is_day && !is_compare) {
		fprintf(stderr, "hotline-stats: unknown command \"%s\" (expected year, day or compare)\n",
			o->command);
		return -1;
	}
#define NOT_FOR(cond, opt)                                                                         \
	do {                                                                                       \
		if (cond) {                                                                        \
			fprintf(stderr, "hotline-stats: %s is not an option of %s\n", opt,         \
				o->command);                                                       \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)
	NOT_FOR(!is_year && year_text, "--year");
	NOT_FOR(!is_day && o->date, "--date");
	NOT_FOR(is_compare && o->centre, "--centre");
	NOT_FOR(is_compare && o->format, "--format");
	NOT_FOR(is_compare && o->out, "--out");
	NOT_FOR(!is_compare && o->sections, "--sections");
	NOT_FOR(!is_day && yellow_text, "--yellow-hours");
#undef NOT_FOR
	if (is_compare) {
		if (o->n_positional != 2) {
			fprintf(stderr, "hotline-stats: compare needs EXPECTED.yaml and ACTUAL.yaml\n");
			return -1;
		}
		return 0;
	}
	if (o->n_positional != 0) {
		fprintf(stderr, "hotline-stats: unexpected argument \"%s\"\n", o->positional[0]);
		return -1;
	}
	if (o->centre != NULL && !stats_code_is_valid(o->centre)) {
		fprintf(stderr,
			"hotline-stats: --centre \"%s\": a centre code is 1 to 32 characters of "
			"a-z, 0-9, '_' and '-'\n",
			o->centre);
		return -1;
	}
	if (*o->zone == '\0') {
		fprintf(stderr, "hotline-stats: --tz: name a time zone, e.g. Asia/Shanghai\n");
		return -1;
	}
	if (is_year) {
		if (year_text == NULL || stats_parse_int(year_text, 1970, 9999, &o->year) != 0) {
			fprintf(stderr, "hotline-stats: year needs --year with a year from 1970 to "
					"9999\n");
			return -1;
		}
		o->has_year = true;
		if (o->centre == NULL) {
			fprintf(stderr, "hotline-stats: year needs --centre CODE\n");
			return -1;
		}
		if (o->format == NULL)
			o->format = "profile";
		if (strcmp(o->format, "profile") != 0 && strcmp(o->format, "json") != 0 &&
		    strcmp(o->format, "csv") != 0) {
			fprintf(stderr, "hotline-stats: --format %s: year writes profile, json or csv\n",
				o->format);
			return -1;
		}
	} else {
		if (o->date == NULL || stats_parse_date(o->date) != 0) {
			fprintf(stderr, "hotline-stats: day needs --date YYYY-MM-DD (a real date, "
					"1970 or later)\n");
			return -1;
		}
		if (yellow_text != NULL && stats_parse_int(yellow_text, 0, STATS_MAX_YELLOW_HOURS,
							   &o->yellow_hours) != 0) {
			fprintf(stderr,
				"hotline-stats: --yellow-hours \"%s\": a whole number of hours from 0 "
				"to %d\n",
				yellow_text, STATS_MAX_YELLOW_HOURS);
			return -1;
		}
		if (o->format == NULL)
			o->format = "text";
		if (strcmp(o->format, "text") != 0 && strcmp(o->format, "json") != 0 &&
		    strcmp(o->format, "csv") != 0) {
			fprintf(stderr, "hotline-stats: --format %s: day writes text, csv or json\n",
				o->format);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */
/* ------------------------------------------------------------------------ */

/* Opens the destination: stdout, or a temporary file beside --out that
 * stats_close_output renames over it, so that a failed export never leaves
 * a truncated file where a good one was. */
static FILE *stats_open_output(const struct stats_options *o, char *tmp, size_t tmp_len)
{
	if (o->out == NULL)
		return stdout;
	snprintf(tmp, tmp_len, "%s.tmp.%ld", o->out, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		fprintf(stderr, "hotline-stats: %s: cannot write: %s\n", tmp, strerror(errno));
	return f;
}

static int stats_close_output(const struct stats_options *o, FILE *f, const char *tmp, bool ok)
{
	if (f == stdout) {
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "hotline-stats: writing to standard output failed\n");
			return -1;
		}
		return ok ? 0 : -1;
	}
	if (ferror(f))
		ok = false;
	if (fclose(f) != 0)
		ok = false;
	if (ok && rename(tmp, o->out) != 0) {
		fprintf(stderr, "hotline-stats: %s: cannot write: %s\n", o->out, strerror(errno));
		ok = false;
	}
	if (!ok) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* RFC 4180: a field holding a comma, a quote or a line break is quoted and
 * its quotes doubled. Fields starting with '#' (our comment marker) or with
 * leading or trailing spaces are quoted too, so that no reader drops them. */
static void stats_csv_field(FILE *f, const char *s)
{
	size_t n = strlen(s);
	bool quote = strpbrk(s, ",\"\r\n") != NULL || s[0] == '#' ||
		     (n > 0 && (s[0] == ' ' || s[n - 1] == ' '));

	if (!quote) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (const char *c = s; *c; c++) {
		if (*c == '"')
			fputc('"', f);
		fputc(*c, f);
	}
	fputc('"', f);
}

/* Writes text as "# "-prefixed comment lines (one per line of text). */
static void stats_comment(FILE *f, const char *text)
{
	fputs("# ", f);
	for (const char *c = text; *c; c++) {
		fputc(*c, f);
		if (*c == '\n' && c[1] != '\0')
			fputs("# ", f);
	}
	fputc('\n', f);
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                   */
/* ------------------------------------------------------------------------ */

static int64_t stats_count(const char *s)
{
	return strtoll(s, NULL, 10);
}

/* Centre name and province, or -1 with "unknown centre" in err. */
static int stats_read_centre(PGconn *conn, const char *code, char **name, char **province,
			     char *err, size_t err_len)
{
	const char *params[1] = {code};
	PGresult *r = db_exec(conn, "SELECT name, province FROM centres WHERE code = $1", 1, params,
			      err, err_len);

	if (r == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		snprintf(err, err_len, "unknown centre \"%s\" (no such code in table centres)", code);
		PQclear(r);
		return -1;
	}
	*name = strdup(PQgetvalue(r, 0, 0));
	*province = strdup(PQgetvalue(r, 0, 1));
	PQclear(r);
	if (*name == NULL || *province == NULL) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	return 0;
}

/* The local year [Y-01-01 00:00, Y+1-01-01 00:00) in zone $2, as bounds on a
 * timestamp column; written so that an index on the column serves it. */
#define STATS_YEAR_RANGE(column)                                                                   \
	column " >= (make_timestamp($1::int, 1, 1, 0, 0, 0) AT TIME ZONE $2) AND " column           \
	       " < (make_timestamp($1::int + 1, 1, 1, 0, 0, 0) AT TIME ZONE $2)"

static int stats_compare_centres(const void *a, const void *b)
{
	const struct profile_centre *x = a, *y = b;
	if (x->calls != y->calls)
		return x->calls > y->calls ? -1 : 1;
	return strcmp(x->code, y->code);
}

/* Both the calls table and the province table from one scan of the year:
 * accepted calls grouped by (centre, category), joined to the centres' names
 * after grouping. The own centre's rows give calls.by_category; every
 * centre's sum gives province.by_centre, ordered by calls descending then
 * code (byte order). The own centre is listed with 0 when it had no calls,
 * so that the profile stays valid. */
static int stats_year_calls(PGconn *conn, const struct stats_options *o, const char *year,
			    struct profile *p, char *err, size_t err_len)
{
	const char *params[2] = {year, o->zone};
	PGresult *r = db_exec(conn,
			      "SELECT g.centre, ce.name, g.category, g.n FROM"
			      " (SELECT centre, coalesce(corrected_category, category) AS category,"
			      "  count(*) AS n FROM calls"
			      "  WHERE " STATS_ACCEPTED_SQL " AND " STATS_YEAR_RANGE("offered_at")
			      "  GROUP BY 1, 2) g"
			      " JOIN centres ce ON ce.code = g.centre"
			      " ORDER BY g.centre",
			      2, params, err, err_len);
	size_t rows;

	if (r == NULL)
		return -1;
	rows = (size_t)PQntuples(r);
	p->has_province = true;
	p->centres = calloc(rows + 1, sizeof *p->centres);
	if (p->centres == NULL)
		goto oom;
	for (size_t i = 0; i < rows; i++) {
		const char *code = PQgetvalue(r, (int)i, 0);
		int64_t n = stats_count(PQgetvalue(r, (int)i, 3));
		struct profile_centre *c = p->n_centres ? &p->centres[p->n_centres - 1] : NULL;
		enum category category;

		/* Rows come ordered by centre: a new code starts a new entry. */
		if (c == NULL || strcmp(c->code, code) != 0) {
			c = &p->centres[p->n_centres++];
			c->code = strdup(code);
			c->name = strdup(PQgetvalue(r, (int)i, 1));
			if (c->code == NULL || c->name == NULL)
				goto oom;
		}
		c->calls += n;
		p->province_total += n;
		if (strcmp(code, p->centre_code) == 0) {
			if (category_from_name(PQgetvalue(r, (int)i, 2), &category) != 0)
				category = CATEGORY_OTHER;
			p->calls_by_category[category] += n;
			p->calls_total += n;
		}
	}
	PQclear(r);
	r = NULL;
	bool own_listed = false;
	for (size_t i = 0; i < p->n_centres; i++)
		own_listed = own_listed || strcmp(p->centres[i].code, p->centre_code) == 0;
	if (!own_listed) {
		struct profile_centre *c = &p->centres[p->n_centres++];
		c->code = strdup(p->centre_code);
		c->name = strdup(p->centre_name);
		if (c->code == NULL || c->name == NULL)
			goto oom;
	}
	qsort(p->centres, p->n_centres, sizeof *p->centres, stats_compare_centres);
	return 0;
oom:
	PQclear(r);
	snprintf(err, err_len, "out of memory");
	return -1;
}

/* Which of the n columns names table has: has[i] for names[i], all false
 * when there is no such table (a database older than its migration). */
static int stats_table_columns(PGconn *conn, const char *table, const char *const *names, size_t n,
			       bool *has, char *err, size_t err_len)
{
	const char *params[1] = {table};
	PGresult *r = db_exec(conn,
			      "SELECT attname FROM pg_attribute"
			      " WHERE attrelid = to_regclass($1::text) AND attnum > 0"
			      " AND NOT attisdropped",
			      1, params, err, err_len);

	if (r == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		has[i] = false;
		for (int row = 0; row < PQntuples(r); row++)
			has[i] = has[i] || strcmp(PQgetvalue(r, row, 0), names[i]) == 0;
	}
	PQclear(r);
	return 0;
}

/* Counts table work_orders when it exists with columns source and
 * received_at (and per centre when it has a centre column); otherwise the
 * figures stay 0. Sets *from_table accordingly, for the definitions. */
static int stats_year_work_orders(PGconn *conn, const struct stats_options *o, const char *year,
				  struct profile *p, bool *from_table, char *err, size_t err_len)
{
	static const char *const columns[] = {"source", "received_at", "centre"};
	bool has[3];
	PGresult *r;

	*from_table = false;
	if (stats_table_columns(conn, "work_orders", columns, 3, has, err, err_len) != 0)
		return -1;
	if (!has[0] || !has[1])
		return 0;

	const char *params[3] = {year, o->zone, o->centre};
	if (has[2])
		r = db_exec(conn,
			    "SELECT source, count(*) FROM work_orders WHERE centre = $3 AND "
			    STATS_YEAR_RANGE("received_at") " GROUP BY source",
			    3, params, err, err_len);
	else
		r = db_exec(conn,
			    "SELECT source, count(*) FROM work_orders WHERE "
			    STATS_YEAR_RANGE("received_at") " GROUP BY source",
			    2, params, err, err_len);
	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *source = PQgetvalue(r, i, 0);
		if (strcmp(source, "city_12345") == 0)
			p->work_orders_city += stats_count(PQgetvalue(r, i, 1));
		else if (strcmp(source, "province_12345") == 0)
			p->work_orders_province += stats_count(PQgetvalue(r, i, 1));
	}
	PQclear(r);
	*from_table = true;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* year                                                                      */
/* ------------------------------------------------------------------------ */

static void stats_year_definitions(FILE *f, const struct stats_options *o, bool work_orders_table)
{
	fprintf(f,
		"# hotline-stats year export: centre %s, year %d, time zone %s.\n"
		"# Definitions:\n",
		o->centre, o->year, o->zone);
	stats_comment(f, "  " STATS_DEFINITION_ACCEPTED ";");
	fprintf(f, "#   " STATS_DEFINITION_TIME " %s;\n", o->zone);
	stats_comment(f, "  " STATS_DEFINITION_PROVINCE ";");
	stats_comment(f, work_orders_table ? "  " STATS_DEFINITION_WORK_ORDERS_TABLE "."
					   : "  " STATS_DEFINITION_WORK_ORDERS_NONE ".");
}

static json_t *stats_json_definitions(const struct stats_options *o, const char *work_orders)
{
	char time[256];

	snprintf(time, sizeof time, STATS_DEFINITION_TIME " %s", o->zone);
	json_t *d = json_pack("{s:s, s:s, s:[s,s], s:s, s:s}", "time_zone", o->zone,
			      "accepted_calls", STATS_DEFINITION_ACCEPTED, "accepted_outcomes",
			      "handled", "self_service", "local_time", time, "abandoned_calls",
			      STATS_DEFINITION_ABANDONED);
	if (d != NULL && work_orders != NULL &&
	    json_object_set_new(d, "work_orders", json_string(work_orders)) != 0) {
		json_decref(d);
		return NULL;
	}
	return d;
}

static int stats_write_year_csv(FILE *f, const struct stats_options *o, const struct profile *p,
				bool work_orders_table)
{
	char *summary = NULL;

	stats_year_definitions(f, o, work_orders_table);
	if (asprintf(&summary,
		     "centre %s (%s), province %s: %" PRId64 " accepted calls, %" PRId64
		     " across the province",
		     p->centre_code, p->centre_name, p->province_name, p->calls_total,
		     p->province_total) < 0)
		return -1;
	stats_comment(f, summary);
	free(summary);
	fputs("category,calls\n", f);
	for (int c = 0; c < CATEGORY_COUNT; c++)
		fprintf(f, "%s,%" PRId64 "\n", category_name((enum category)c),
			p->calls_by_category[c]);
	fputs("\nsource,work_orders\n", f);
	fprintf(f, "city_12345,%" PRId64 "\nprovince_12345,%" PRId64 "\n", p->work_orders_city,
		p->work_orders_province);
	fputs("\ncentre_code,centre_name,calls\n", f);
	for (size_t i = 0; i < p->n_centres; i++) {
		stats_csv_field(f, p->centres[i].code);
		fputc(',', f);
		stats_csv_field(f, p->centres[i].name);
		fprintf(f, ",%" PRId64 "\n", p->centres[i].calls);
	}
	return ferror(f) ? -1 : 0;
}

static int stats_write_year_json(FILE *f, const struct stats_options *o, const struct profile *p,
				 bool work_orders_table)
{
	json_t *root = profile_to_json(p);
	int rc = -1;

	if (root == NULL)
		return -1;
	json_t *definitions = stats_json_definitions(
		o, work_orders_table ? STATS_DEFINITION_WORK_ORDERS_TABLE
				     : STATS_DEFINITION_WORK_ORDERS_NONE);
	/* json_object_set_new takes the value even when it fails. */
	if (definitions == NULL) {
		json_decref(root);
		return -1;
	}
	if (json_object_set_new(definitions, "province", json_string(STATS_DEFINITION_PROVINCE)) !=
	    0) {
		json_decref(definitions);
		json_decref(root);
		return -1;
	}
	if (json_object_set_new(root, "definitions", definitions) == 0) {
		rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (rc == 0 && fputc('\n', f) == EOF)
			rc = -1;
	}
	json_decref(root);
	return rc;
}

static int stats_run_year(PGconn *conn, const struct stats_options *o)
{
	char err[1024], year[16], tmp[4096];
	char *province = NULL;
	struct profile *p = calloc(1, sizeof *p);
	bool work_orders_table = false;
	int rc = STATS_EXIT_ERROR;
	FILE *f = NULL;

	if (p == NULL) {
		fprintf(stderr, "hotline-stats: out of memory\n");
		return STATS_EXIT_ERROR;
	}
	snprintf(year, sizeof year, "%d", o->year);
	p->year = o->year;
	p->centre_code = strdup(o->centre);
	if (asprintf(&p->profile, "%s-%d", o->centre, o->year) < 0)
		p->profile = NULL;
	if (p->centre_code == NULL || p->profile == NULL) {
		snprintf(err, sizeof err, "out of memory");
		goto fail;
	}
	if (stats_read_centre(conn, o->centre, &p->centre_name, &province, err, sizeof err) != 0)
		goto fail;
	p->province_name = province;
	province = NULL;
	if (stats_year_calls(conn, o, year, p, err, sizeof err) != 0 ||
	    stats_year_work_orders(conn, o, year, p, &work_orders_table, err, sizeof err) != 0)
		goto fail;
	if (profile_validate(p, err, sizeof err) != 0)
		goto fail;

	f = stats_open_output(o, tmp, sizeof tmp);
	if (f == NULL)
		goto out;
	int written;
	if (strcmp(o->format, "profile") == 0) {
		stats_year_definitions(f, o, work_orders_table);
		fputc('\n', f);
		written = profile_write_yaml(p, f);
	} else if (strcmp(o->format, "json") == 0) {
		written = stats_write_year_json(f, o, p, work_orders_table);
	} else {
		written = stats_write_year_csv(f, o, p, work_orders_table);
	}
	if (written != 0)
		fprintf(stderr, "hotline-stats: writing the %s export failed\n", o->format);
	if (stats_close_output(o, f, tmp, written == 0) == 0 && written == 0)
		rc = STATS_EXIT_OK;
	goto out;
fail:
	fprintf(stderr, "hotline-stats: year %d, centre %s: %s\n", o->year, o->centre, err);
out:
	free(province);
	profile_free(p);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* day                                                                       */
/* ------------------------------------------------------------------------ */

struct stats_day {
	int64_t by_hour[24][CATEGORY_COUNT];
	int64_t by_category[CATEGORY_COUNT];
	int64_t hour_total[24];
	int64_t total;
	int64_t abandoned;
};

/* One GROUP BY (local hour, category) over the local day's rows, counting
 * accepted and abandoned calls in the same pass. */
static int stats_day_query(PGconn *conn, const struct stats_options *o, struct stats_day *d,
			   char *err, size_t err_len)
{
	const char *params[3] = {o->date, o->zone, o->centre};
	PGresult *r = db_exec(
		conn,
		"SELECT extract(hour FROM offered_at AT TIME ZONE $2)::int,"
		" coalesce(corrected_category, category),"
		" count(*) FILTER (WHERE " STATS_ACCEPTED_SQL "),"
		" count(*) FILTER (WHERE outcome = 'abandoned')"
		" FROM calls"
		" WHERE offered_at >= ($1::date::timestamp AT TIME ZONE $2)"
		" AND offered_at < (($1::date + 1)::timestamp AT TIME ZONE $2)"
		" AND ($3::text IS NULL OR centre = $3)"
		" GROUP BY 1, 2",
		3, params, err, err_len);

	if (r == NULL)
		return -1;
	memset(d, 0, sizeof *d);
	for (int i = 0; i < PQntuples(r); i++) {
		int hour = atoi(PQgetvalue(r, i, 0));
		enum category c;
		if (hour < 0 || hour > 23)
			continue;
		if (category_from_name(PQgetvalue(r, i, 1), &c) != 0)
			c = CATEGORY_OTHER;
		int64_t accepted = stats_count(PQgetvalue(r, i, 2));
		d->by_hour[hour][c] += accepted;
		d->by_category[c] += accepted;
		d->hour_total[hour] += accepted;
		d->total += accepted;
		d->abandoned += stats_count(PQgetvalue(r, i, 3));
	}
	PQclear(r);
	return 0;
}

/* The work orders due at the end of the day (see STATS_DEFINITION_WORK_ORDERS_DUE). */
struct stats_day_orders {
	bool table;     /* false: the database has no work_orders table */
	char as_of[40]; /* the moment of the listing, RFC 3339 in the zone */
	int64_t open;   /* open orders received before as_of */
	int64_t overdue;
	int64_t near_due;
	PGresult *rows; /* STATS_DUE_* columns, due first */
};

enum {
	STATS_DUE_ID,
	STATS_DUE_CENTRE,
	STATS_DUE_SOURCE,
	STATS_DUE_EXTERNAL_NO,
	STATS_DUE_STAGE,
	STATS_DUE_CATEGORY,
	STATS_DUE_URGENT,
	STATS_DUE_DUE,
	STATS_DUE_STATUS,
	STATS_DUE_MINUTES, /* whole minutes from as_of to due, negative when overdue */
};

/* $1 date, $2 zone, $3 centre or NULL: the open orders received before the
 * moment of the listing (the end of the local date, or now if earlier), with
 * their due moment. */
#define STATS_OPEN_ORDERS_SQL                                                                      \
	"WITH a AS (SELECT least(($1::date + 1)::timestamp AT TIME ZONE $2, now()) AS as_of),"     \
	" o AS (SELECT w.*, CASE WHEN w.stage = 'received' THEN w.sign_due ELSE w.reply_due END"   \
	"  AS due FROM work_orders w, a"                                                           \
	"  WHERE w.stage NOT IN ('closed', 'returned') AND w.received_at < a.as_of"                \
	"  AND ($3::text IS NULL OR w.centre = $3))"
#define STATS_RFC3339_SQL(column) "to_char(" column ", 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM')"

/* The open orders near due or overdue at the end of the day, due first,
 * and how many are open at all; the session's zone is --tz (db_connect),
 * so the due moments are written in it. */
static int stats_day_work_orders(PGconn *conn, const struct stats_options *o,
				 struct stats_day_orders *w, char *err, size_t err_len)
{
	static const char *const columns[] = {"stage", "sign_due", "reply_due", "received_at"};
	bool has[4];
	char yellow[16];

	memset(w, 0, sizeof *w);
	if (stats_table_columns(conn, "work_orders", columns, 4, has, err, err_len) != 0)
		return -1;
	if (!has[0] || !has[1] || !has[2] || !has[3])
		return 0;
	w->table = true;

	snprintf(yellow, sizeof yellow, "%d", o->yellow_hours);
	const char *params[4] = {o->date, o->zone, o->centre, yellow};
	PGresult *r = db_exec(conn,
			      STATS_OPEN_ORDERS_SQL " SELECT " STATS_RFC3339_SQL(
				      "a.as_of") ", count(o.id) FROM a"
						 " LEFT JOIN o ON true GROUP BY a.as_of",
			      3, params, err, err_len);
	if (r == NULL)
		return -1;
	snprintf(w->as_of, sizeof w->as_of, "%s", PQgetvalue(r, 0, 0));
	w->open = stats_count(PQgetvalue(r, 0, 1));
	PQclear(r);

	w->rows = db_exec(
		conn,
		STATS_OPEN_ORDERS_SQL
		" SELECT o.id, o.centre, o.source, o.external_no, o.stage, o.category,"
		" o.urgent, " STATS_RFC3339_SQL(
			"o.due") ","
				 " CASE WHEN o.due <= a.as_of THEN 'overdue' ELSE 'near_due' END,"
				 " floor(extract(epoch FROM o.due - a.as_of) / 60)::bigint"
				 " FROM o, a WHERE o.due <= a.as_of + make_interval(hours => $4::int)"
				 " ORDER BY o.due, o.id",
		4, params, err, err_len);
	if (w->rows == NULL)
		return -1;
	for (int i = 0; i < PQntuples(w->rows); i++) {
		if (strcmp(PQgetvalue(w->rows, i, STATS_DUE_STATUS), "overdue") == 0)
			w->overdue++;
		else
			w->near_due++;
	}
	return 0;
}

static bool stats_due_urgent(const struct stats_day_orders *w, int row)
{
	return strcmp(PQgetvalue(w->rows, row, STATS_DUE_URGENT), "t") == 0;
}

static const char *stats_day_orders_definition(const struct stats_day_orders *w)
{
	return w->table ? STATS_DEFINITION_WORK_ORDERS_DUE : STATS_DEFINITION_WORK_ORDERS_DUE_NONE;
}

/* The heading of the listing, for text and CSV. */
static void stats_day_orders_summary(const struct stats_options *o,
				     const struct stats_day_orders *w, char *out, size_t len)
{
	snprintf(out, len,
		 "as of %s: %" PRId64 " open, %" PRId64 " overdue, %" PRId64
		 " near due (within %d hours of due)",
		 w->as_of, w->open, w->overdue, w->near_due, o->yellow_hours);
}

/* Widest value of column in the rows, at least min. */
static int stats_due_width(const struct stats_day_orders *w, int column, int min)
{
	int width = min;
	for (int i = 0; i < PQntuples(w->rows); i++) {
		int n = (int)strlen(PQgetvalue(w->rows, i, column));
		if (n > width)
			width = n;
	}
	return width;
}

static void stats_write_day_orders_text(FILE *f, const struct stats_options *o,
					const struct stats_day_orders *w)
{
	char summary[256];

	if (!w->table) {
		fputs("Work orders due: none, this database has no work_orders table.\n\n", f);
		return;
	}
	stats_day_orders_summary(o, w, summary, sizeof summary);
	fprintf(f, "Work orders due %s\n\n", summary);
	if (PQntuples(w->rows) == 0) {
		fputs("(no work order is overdue or near due)\n\n", f);
		return;
	}
	int wid = stats_due_width(w, STATS_DUE_ID, 2);
	int wcentre = stats_due_width(w, STATS_DUE_CENTRE, 6);
	int wno = stats_due_width(w, STATS_DUE_EXTERNAL_NO, 11);
	fprintf(f, "%-8s %-*s %-*s %-14s %-*s %-11s %-16s %-6s %-25s %s\n", "status", wid, "id",
		wcentre, "centre", "source", wno, "external_no", "stage", "category", "urgent",
		"due", "hours to due");
	for (int i = 0; i < PQntuples(w->rows); i++) {
		const char *status = PQgetvalue(w->rows, i, STATS_DUE_STATUS);
		fprintf(f, "%-8s %-*s %-*s %-14s %-*s %-11s %-16s %-6s %-25s %.1f\n",
			strcmp(status, "overdue") == 0 ? "overdue" : "near due", wid,
			PQgetvalue(w->rows, i, STATS_DUE_ID), wcentre,
			PQgetvalue(w->rows, i, STATS_DUE_CENTRE),
			PQgetvalue(w->rows, i, STATS_DUE_SOURCE), wno,
			PQgetvalue(w->rows, i, STATS_DUE_EXTERNAL_NO),
			PQgetvalue(w->rows, i, STATS_DUE_STAGE),
			PQgetvalue(w->rows, i, STATS_DUE_CATEGORY),
			stats_due_urgent(w, i) ? "yes" : "no",
			PQgetvalue(w->rows, i, STATS_DUE_DUE),
			(double)stats_count(PQgetvalue(w->rows, i, STATS_DUE_MINUTES)) / 60.0);
	}
	fputc('\n', f);
}

static void stats_write_day_orders_csv(FILE *f, const struct stats_options *o,
				       const struct stats_day_orders *w)
{
	if (!w->table)
		return;
	fprintf(f,
		"\nwork_orders_as_of,open,overdue,near_due,yellow_hours\n%s,%" PRId64 ",%" PRId64
		",%" PRId64 ",%d\n",
		w->as_of, w->open, w->overdue, w->near_due, o->yellow_hours);
	fputs("\nwork_order_id,centre,source,external_no,stage,category,urgent,due,status,"
	      "minutes_to_due\n",
	      f);
	for (int i = 0; i < PQntuples(w->rows); i++) {
		for (int c = STATS_DUE_ID; c <= STATS_DUE_MINUTES; c++) {
			if (c > STATS_DUE_ID)
				fputc(',', f);
			if (c == STATS_DUE_URGENT)
				fputs(stats_due_urgent(w, i) ? "true" : "false", f);
			else
				stats_csv_field(f, PQgetvalue(w->rows, i, c));
		}
		fputc('\n', f);
	}
}

/* {"as_of", "yellow_hours", "open", "overdue", "near_due", "orders": [...]},
 * or null when the database has no work_orders table. */
static json_t *stats_day_orders_json(const struct stats_options *o,
				     const struct stats_day_orders *w)
{
	if (!w->table)
		return json_null();
	json_t *orders = json_array();
	for (int i = 0; orders != NULL && i < PQntuples(w->rows); i++) {
		json_t *row = json_pack(
			"{s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:I}", "id",
			(json_int_t)stats_count(PQgetvalue(w->rows, i, STATS_DUE_ID)), "centre",
			PQgetvalue(w->rows, i, STATS_DUE_CENTRE), "source",
			PQgetvalue(w->rows, i, STATS_DUE_SOURCE), "external_no",
			PQgetvalue(w->rows, i, STATS_DUE_EXTERNAL_NO), "stage",
			PQgetvalue(w->rows, i, STATS_DUE_STAGE), "category",
			PQgetvalue(w->rows, i, STATS_DUE_CATEGORY), "urgent",
			stats_due_urgent(w, i), "due", PQgetvalue(w->rows, i, STATS_DUE_DUE),
			"status", PQgetvalue(w->rows, i, STATS_DUE_STATUS), "minutes_to_due",
			(json_int_t)stats_count(PQgetvalue(w->rows, i, STATS_DUE_MINUTES)));
		if (row == NULL || json_array_append_new(orders, row) != 0) {
			json_decref(orders);
			orders = NULL;
		}
	}
	if (orders == NULL)
		return NULL;
	return json_pack("{s:s, s:i, s:I, s:I, s:I, s:o}", "as_of", w->as_of, "yellow_hours",
			 o->yellow_hours, "open", (json_int_t)w->open, "overdue",
			 (json_int_t)w->overdue, "near_due", (json_int_t)w->near_due, "orders",
			 orders);
}

static void stats_write_day_text(FILE *f, const struct stats_options *o, const struct stats_day *d,
				 const struct stats_day_orders *w, const char *centre_label)
{
	int width[CATEGORY_COUNT];

	fprintf(f, "Calls accepted on %s (local time, %s), %s\n\n", o->date, o->zone, centre_label);
	fputs("hour ", f);
	for (int c = 0; c < CATEGORY_COUNT; c++) {
		const char *name = category_name((enum category)c);
		width[c] = (int)strlen(name) < 6 ? 6 : (int)strlen(name);
		fprintf(f, " %*s", width[c], name);
	}
	fprintf(f, " %8s\n", "total");
	for (int h = 0; h < 24; h++) {
		fprintf(f, "%02d   ", h);
		for (int c = 0; c < CATEGORY_COUNT; c++)
			fprintf(f, " %*" PRId64, width[c], d->by_hour[h][c]);
		fprintf(f, " %8" PRId64 "\n", d->hour_total[h]);
	}
	fputs("total", f);
	for (int c = 0; c < CATEGORY_COUNT; c++)
		fprintf(f, " %*" PRId64, width[c], d->by_category[c]);
	fprintf(f, " %8" PRId64 "\n\n", d->total);
	fprintf(f, "abandoned calls: %" PRId64 "\n\n", d->abandoned);
	stats_write_day_orders_text(f, o, w);
	fprintf(f,
		"Definitions:\n  " STATS_DEFINITION_ACCEPTED ";\n  " STATS_DEFINITION_TIME
		" %s;\n  " STATS_DEFINITION_ABANDONED ";\n  %s.\n",
		o->zone, stats_day_orders_definition(w));
}

static int stats_write_day_csv(FILE *f, const struct stats_options *o, const struct stats_day *d,
			       const struct stats_day_orders *w, const char *centre_label)
{
	char *title = NULL;

	if (asprintf(&title, "hotline-stats day export: %s, %s, time zone %s.", o->date,
		     centre_label, o->zone) < 0)
		return -1;
	stats_comment(f, title);
	free(title);
	fputs("# Definitions:\n", f);
	stats_comment(f, "  " STATS_DEFINITION_ACCEPTED ";");
	fprintf(f, "#   " STATS_DEFINITION_TIME " %s;\n", o->zone);
	stats_comment(f, "  " STATS_DEFINITION_ABANDONED ";");
	/* One line each: neither holds a line break. */
	fprintf(f, "#   %s.\n", stats_day_orders_definition(w));
	if (w->table) {
		char summary[256];
		stats_day_orders_summary(o, w, summary, sizeof summary);
		fprintf(f, "# Work orders due %s.\n", summary);
	}
	fputs("category,calls\n", f);
	for (int c = 0; c < CATEGORY_COUNT; c++)
		fprintf(f, "%s,%" PRId64 "\n", category_name((enum category)c), d->by_category[c]);
	fputs("\nhour", f);
	for (int c = 0; c < CATEGORY_COUNT; c++)
		fprintf(f, ",%s", category_name((enum category)c));
	fputs(",total\n", f);
	for (int h = 0; h < 24; h++) {
		fprintf(f, "%d", h);
		for (int c = 0; c < CATEGORY_COUNT; c++)
			fprintf(f, ",%" PRId64, d->by_hour[h][c]);
		fprintf(f, ",%" PRId64 "\n", d->hour_total[h]);
	}
	fprintf(f, "\noutcome,calls\naccepted,%" PRId64 "\nabandoned,%" PRId64 "\n", d->total,
		d->abandoned);
	stats_write_day_orders_csv(f, o, w);
	return ferror(f) ? -1 : 0;
}

static int stats_write_day_json(FILE *f, const struct stats_options *o, const struct stats_day *d,
				const struct stats_day_orders *w)
{
	json_t *root = json_object(), *by_category = json_object(), *by_hour = json_array();
	json_t *definitions = stats_json_definitions(o, NULL);
	json_t *orders = stats_day_orders_json(o, w);
	bool ok = root && by_category && by_hour && definitions && orders &&
		  json_object_set_new(definitions, "work_orders_due",
				      json_string(stats_day_orders_definition(w))) == 0;
	int rc = -1;

	for (int c = 0; ok && c < CATEGORY_COUNT; c++)
		ok = json_object_set_new(by_category, category_name((enum category)c),
					 json_integer(d->by_category[c])) == 0;
	/* json_object_set_new and json_array_append_new take the value even when
	 * they fail, so every path below hands each new value to exactly one owner. */
	for (int h = 0; ok && h < 24; h++) {
		json_t *cats = json_object(), *row = json_object();
		if (cats == NULL || row == NULL) {
			json_decref(cats);
			json_decref(row);
			ok = false;
			break;
		}
		for (int c = 0; c < CATEGORY_COUNT; c++)
			ok = json_object_set_new(cats, category_name((enum category)c),
						 json_integer(d->by_hour[h][c])) == 0 &&
			     ok;
		ok = json_object_set_new(row, "hour", json_integer(h)) == 0 && ok;
		ok = json_object_set_new(row, "by_category", cats) == 0 && ok;
		ok = json_object_set_new(row, "total", json_integer(d->hour_total[h])) == 0 && ok;
		ok = json_array_append_new(by_hour, row) == 0 && ok;
	}
	if (ok) {
		ok = json_object_set_new(root, "date", json_string(o->date)) == 0 &&
		     json_object_set_new(root, "time_zone", json_string(o->zone)) == 0 &&
		     json_object_set_new(root, "centre",
					 o->centre ? json_string(o->centre) : json_null()) == 0 &&
		     json_object_set_new(root, "accepted", json_integer(d->total)) == 0 &&
		     json_object_set_new(root, "abandoned", json_integer(d->abandoned)) == 0;
		ok = json_object_set_new(root, "by_category", by_category) == 0 && ok;
		ok = json_object_set_new(root, "by_hour", by_hour) == 0 && ok;
		ok = json_object_set_new(root, "work_orders_due", orders) == 0 && ok;
		ok = json_object_set_new(root, "definitions", definitions) == 0 && ok;
		by_category = by_hour = definitions = orders = NULL;
	}
	if (ok) {
		rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (rc == 0 && fputc('\n', f) == EOF)
			rc = -1;
	}
	json_decref(by_category);
	json_decref(by_hour);
	json_decref(definitions);
	json_decref(orders);
	json_decref(root);
	return rc;
}

static int stats_run_day(PGconn *conn, const struct stats_options *o)
{
	char err[1024], tmp[4096], label[256];
	struct stats_day d;
	struct stats_day_orders w = {0};
	FILE *f;
	int written = 0;
	int rc = STATS_EXIT_ERROR;

	if (o->centre != NULL) {
		char *name = NULL, *province = NULL;
		if (stats_read_centre(conn, o->centre, &name, &province, err, sizeof err) != 0) {
			free(name);
			free(province);
			fprintf(stderr, "hotline-stats: day %s: %s\n", o->date, err);
			return STATS_EXIT_ERROR;
		}
		snprintf(label, sizeof label, "centre %s (%s)", o->centre, name);
		free(name);
		free(province);
	} else {
		snprintf(label, sizeof label, "all centres");
	}
	if (stats_day_query(conn, o, &d, err, sizeof err) != 0 ||
	    stats_day_work_orders(conn, o, &w, err, sizeof err) != 0) {
		fprintf(stderr, "hotline-stats: day %s: %s\n", o->date, err);
		goto out;
	}
	f = stats_open_output(o, tmp, sizeof tmp);
	if (f == NULL)
		goto out;
	if (strcmp(o->format, "text") == 0)
		stats_write_day_text(f, o, &d, &w, label);
	else if (strcmp(o->format, "csv") == 0)
		written = stats_write_day_csv(f, o, &d, &w, label);
	else
		written = stats_write_day_json(f, o, &d, &w);
	if (written != 0)
		fprintf(stderr, "hotline-stats: writing the %s export failed\n", o->format);
	if (stats_close_output(o, f, tmp, written == 0) == 0 && written == 0)
		rc = STATS_EXIT_OK;
out:
	PQclear(w.rows);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* compare                                                                   */
/* ------------------------------------------------------------------------ */

static int stats_run_compare(const struct stats_options *o)
{
	struct profile *expected = NULL, *actual = NULL;
	unsigned sections = PROFILE_SECTION_ALL;
	char err[1024];
	int rc = STATS_EXIT_ERROR;

	if (o->sections != NULL && stats_parse_sections(o->sections, &sections) != 0)
		return STATS_EXIT_ERROR;
	if (profile_load_file(o->positional[0], &expected, err, sizeof err) != 0 ||
	    profile_load_file(o->positional[1], &actual, err, sizeof err) != 0) {
		fprintf(stderr, "hotline-stats: %s\n", err);
		goto out;
	}
	size_t differences = profile_compare(expected, actual, sections, stdout);
	if (differences == 0) {
		printf("no differences\n");
		rc = STATS_EXIT_OK;
	} else {
		printf("%zu difference%s\n", differences, differences == 1 ? "" : "s");
		rc = STATS_EXIT_DIFFERENT;
	}
	if (fflush(stdout) != 0)
		rc = STATS_EXIT_ERROR;
out:
	profile_free(expected);
	profile_free(actual);
	return rc;
}

int main(int argc, char **argv)
{
	struct stats_options o;
	char err[1024];
	int rc;

	rc = stats_parse_args(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? STATS_EXIT_OK : STATS_EXIT_ERROR;
	if (strcmp(o.command, "compare") == 0)
		return stats_run_compare(&o);

	PGconn *conn = db_connect(o.db, o.zone, err, sizeof err);
	if (conn == NULL) {
		fprintf(stderr, "hotline-stats: %s\n", err);
		return STATS_EXIT_ERROR;
	}
	if (strcmp(o.command, "year") == 0)
		rc = stats_run_year(conn, &o);
	else
		rc = stats_run_day(conn, &o);
	PQfinish(conn);
	return rc;
}
