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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "category.h"
#include "config.h"
#include "db.h"
#include "kpi.h"
#include "profile.h"
#include "report.h"
#include "staffing.h"
#include "statsq.h"
#include "statsreport.h"

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
	"accepted calls are calls whose outcome is handled (an agent took the call) or "           \
	"self_service (the IVR answered it); abandoned calls and calls still in progress are "     \
	"not accepted calls; a call counts under the category its agent set at wrap-up, if any, "  \
	"else the classifier's"
#define STATS_DEFINITION_TIME                                                                      \
	"a call belongs to the local date and hour at which it was offered (offered_at), in the "  \
	"time zone"
#define STATS_DEFINITION_PROVINCE                                                                  \
	"province.by_centre lists every centre with accepted calls in the year (and the own "      \
	"centre always), by calls descending, then code"
#define STATS_DEFINITION_WORK_ORDERS_TABLE                                                         \
	"12345 work orders are counted from table work_orders by source, by the local date they "  \
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
	const char *from;
	const char *to; /* inclusive, as typed; to_exclusive is the day after */
	char to_exclusive[16];
	const char *format;
	const char *out;
	const char *sections;
	const char *config;
	int yellow_hours;
	bool bom;
	bool recompute;
	struct kpi_definitions kpi;
	/* staffing */
	int weeks;
	double target_sl;
	double shrinkage;
	double max_occupancy;
};

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

/* A decimal fraction in [min, max). */
static int stats_parse_fraction(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(v >= min && v < max))
		return -1;
	*out = v;
	return 0;
}

/* Strict YYYY-MM-DD naming a real date in 1970..9999; *days_out (optional)
 * gets the days since 1970-01-01. */
static int stats_parse_date_days(const char *s, long *days_out)
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
	if (d > days[m - 1] + (m == 2 && leap))
		return -1;
	if (days_out != NULL) {
		/* Days from civil (proleptic Gregorian). */
		long yy = y - (m <= 2);
		long era = yy / 400;
		long yoe = yy - era * 400;
		long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
		long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
		*days_out = era * 146097 + doe - 719468;
	}
	return 0;
}

static int stats_parse_date(const char *s)
{
	return stats_parse_date_days(s, NULL);
}

/* The date `days` days after 1970-01-01, as YYYY-MM-DD. */
static void stats_format_date(long z, char *out, size_t len)
{
	z += 719468;
	long era = z / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long y = yoe + era * 400;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	long d = doy - (153 * mp + 2) / 5 + 1;
	long m = mp + (mp < 10 ? 3 : -9);
	snprintf(out, len, "%04d-%02d-%02d", (int)((y + (m <= 2)) % 10000), (int)(m % 100),
		 (int)(d % 100));
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                 */
/* ------------------------------------------------------------------------ */

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

static void stats_usage(FILE *f)
{
	fputs("usage:\n"
	      "  hotline-stats [--db CONNINFO] [--tz ZONE] year --year Y --centre CODE\n"
	      "                [--format profile|json|csv|xlsx|html] [--bom] [--out FILE]\n"
	      "                [--recompute] [KPI options]\n"
	      "  hotline-stats [--db CONNINFO] [--tz ZONE] day --date YYYY-MM-DD [--centre CODE]\n"
	      "                [--yellow-hours N] [--format text|csv|json|xlsx|html] [--bom]\n"
	      "                [--out FILE] [KPI options]\n"
	      "  hotline-stats [--db CONNINFO] [--tz ZONE] day --from YYYY-MM-DD --to YYYY-MM-DD\n"
	      "                [--centre CODE] [--format csv|json|xlsx|html] [--bom] [--out FILE]\n"
	      "  hotline-stats [--db CONNINFO] [--tz ZONE] staffing --date YYYY-MM-DD\n"
	      "                --centre CODE [--weeks N] [--target-sl F] [--shrinkage F]\n"
	      "                [--max-occupancy F] [--format text|csv|json|xlsx|html] [--out FILE]\n"
	      "  hotline-stats [--db CONNINFO] rebuild [KPI options]\n"
	      "  hotline-stats compare EXPECTED.yaml ACTUAL.yaml\n"
	      "                [--sections calls,work_orders,province,bookings,platforms]\n"
	      "\n"
	      "year      the year report of one centre: calls accepted by category, 12345 work\n"
	      "          orders by source, calls by centre across the province, bookings by\n"
	      "          hospital and channel and by platform, and the service KPIs by category,\n"
	      "          queue, month, hour and agent. --format profile (default) writes a\n"
	      "          hotline-year-profile/1 file; json the same as one object with every\n"
	      "          table; csv every table; xlsx one sheet per table (--out required);\n"
	      "          html one page with charts to forward as it is.\n"
	      "          --recompute first counts the year again from the raw rows and checks\n"
	      "          that the kept statistics agree (exit 1 when they do not).\n"
	      "day       one local date (--date) or the dates --from .. --to (inclusive): calls\n"
	      "          accepted by category and by hour (or day), the KPIs by category, queue,\n"
	      "          hour (or day) and agent, the bookings, and (one date) the 12345 work\n"
	      "          orders overdue or near due at its end (--yellow-hours N, 0 to 720,\n"
	      "          default 24). All centres unless --centre. Default format text (one\n"
	      "          date) or csv (a range).\n"
	      "staffing  agents to schedule per half hour of --date (Erlang C): each half hour's\n"
	      "          calls are the mean of the same weekday over the last --weeks weeks\n"
	      "          (default 4), with their mean handle time; --target-sl (default 0.8)\n"
	      "          within the service-level threshold, --max-occupancy (default 0.85),\n"
	      "          then --shrinkage (default 0.3) for breaks, training and absence.\n"
	      "rebuild   recounts every kept statistic from the raw rows under the KPI\n"
	      "          thresholds given (writers wait meanwhile).\n"
	      "compare   compares two profiles field by field (centres, hospitals and\n"
	      "          platforms matched by code or name); prints one line per difference.\n"
	      "          Exit status 0 when equal, 1 when they differ, 2 on error.\n"
	      "\n"
	      "--db CONNINFO  a libpq conninfo or URI; default $HOTLINE_DB, then libpq's own\n"
	      "--tz ZONE      the time zone that decides a call's local date and hour;\n"
	      "               default " STATS_DEFAULT_ZONE "; its offset must be whole hours\n"
	      "--out FILE     write there (replaced only when the export succeeds); default stdout\n"
	      "--bom          csv: start with a UTF-8 byte order mark (for Excel)\n"
	      "KPI options    --config FILE (the broker's hotline.yaml: its stats section), then\n"
	      "               --short-abandon S, --service-level T (seconds) and\n"
	      "               --sl-variant answered_based|offered_based|sl2 override it;\n"
	      "               defaults 5 s, 20 s, offered_based\n"
	      "\n"
	      "Definitions:\n"
	      "  " STATS_DEFINITION_ACCEPTED ".\n"
	      "  " STATS_DEFINITION_TIME " given by --tz.\n"
	      "  " STATS_DEFINITION_PROVINCE ".\n"
	      "  " STATS_DEFINITION_WORK_ORDERS_TABLE ", when that table exists; else 0.\n"
	      "  " STATS_DEFINITION_WORK_ORDERS_DUE ".\n"
	      "Every export prints the definitions it used: YAML and CSV as # comments,\n"
	      "JSON as a \"definitions\" member, XLSX on its first sheet, HTML and text at the\n"
	      "end.\n",
	      f);
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
		OPT_FROM,
		OPT_TO,
		OPT_FORMAT,
		OPT_OUT,
		OPT_SECTIONS,
		OPT_YELLOW_HOURS,
		OPT_BOM,
		OPT_RECOMPUTE,
		OPT_CONFIG,
		OPT_SHORT_ABANDON,
		OPT_SERVICE_LEVEL,
		OPT_SL_VARIANT,
		OPT_WEEKS,
		OPT_TARGET_SL,
		OPT_SHRINKAGE,
		OPT_MAX_OCCUPANCY,
	};
	static const struct option long_options[] = {
		{"db", required_argument, NULL, OPT_DB},
		{"tz", required_argument, NULL, OPT_TZ},
		{"year", required_argument, NULL, OPT_YEAR},
		{"centre", required_argument, NULL, OPT_CENTRE},
		{"date", required_argument, NULL, OPT_DATE},
		{"from", required_argument, NULL, OPT_FROM},
		{"to", required_argument, NULL, OPT_TO},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"out", required_argument, NULL, OPT_OUT},
		{"sections", required_argument, NULL, OPT_SECTIONS},
		{"yellow-hours", required_argument, NULL, OPT_YELLOW_HOURS},
		{"bom", no_argument, NULL, OPT_BOM},
		{"recompute", no_argument, NULL, OPT_RECOMPUTE},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"short-abandon", required_argument, NULL, OPT_SHORT_ABANDON},
		{"service-level", required_argument, NULL, OPT_SERVICE_LEVEL},
		{"sl-variant", required_argument, NULL, OPT_SL_VARIANT},
		{"weeks", required_argument, NULL, OPT_WEEKS},
		{"target-sl", required_argument, NULL, OPT_TARGET_SL},
		{"shrinkage", required_argument, NULL, OPT_SHRINKAGE},
		{"max-occupancy", required_argument, NULL, OPT_MAX_OCCUPANCY},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *year_text = NULL, *yellow_text = NULL, *short_text = NULL, *sl_text = NULL;
	const char *variant_text = NULL, *weeks_text = NULL, *target_text = NULL;
	const char *shrinkage_text = NULL, *occupancy_text = NULL;
	int c;

	memset(o, 0, sizeof *o);
	o->zone = STATS_DEFAULT_ZONE;
	o->yellow_hours = STATS_DEFAULT_YELLOW_HOURS;
	o->kpi.short_abandon_s = 5;
	o->kpi.service_level_s = 20;
	o->kpi.variant = KPI_SL_OFFERED_BASED;
	o->weeks = 4;
	o->target_sl = 0.8;
	o->shrinkage = 0.3;
	o->max_occupancy = 0.85;
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
		case OPT_FROM:
			o->from = optarg;
			break;
		case OPT_TO:
			o->to = optarg;
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
		case OPT_BOM:
			o->bom = true;
			break;
		case OPT_RECOMPUTE:
			o->recompute = true;
			break;
		case OPT_CONFIG:
			o->config = optarg;
			break;
		case OPT_SHORT_ABANDON:
			short_text = optarg;
			break;
		case OPT_SERVICE_LEVEL:
			sl_text = optarg;
			break;
		case OPT_SL_VARIANT:
			variant_text = optarg;
			break;
		case OPT_WEEKS:
			weeks_text = optarg;
			break;
		case OPT_TARGET_SL:
			target_text = optarg;
			break;
		case OPT_SHRINKAGE:
			shrinkage_text = optarg;
			break;
		case OPT_MAX_OCCUPANCY:
			occupancy_text = optarg;
			break;
		case 'h':
			stats_usage(stdout);
			return 1;
		default:
			if (optopt != 0)
				fprintf(stderr,
					"hotline-stats: option -%c: unknown or missing its value\n",
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
			fprintf(stderr, "hotline-stats: unexpected argument \"%s\"\n",
				argv[optind]);
			return -1;
		}
		o->positional[o->n_positional++] = argv[optind++];
	}

	bool is_year = strcmp(o->command, "year") == 0;
	bool is_day = strcmp(o->command, "day") == 0;
	bool is_staffing = strcmp(o->command, "staffing") == 0;
	bool is_rebuild = strcmp(o->command, "rebuild") == 0;
	bool is_compare = strcmp(o->command, "compare") == 0;
	if (!is_year && !is_day && !is_compare && !is_staffing && !is_rebuild) {
		fprintf(stderr,
			"hotline-stats: unknown command \"%s\" (expected year, day, staffing, "
			"rebuild or compare)\n",
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
	bool exports = is_year || is_day || is_staffing;
	NOT_FOR(!is_year && year_text, "--year");
	NOT_FOR(!is_day && !is_staffing && o->date, "--date");
	NOT_FOR(!is_day && o->from, "--from");
	NOT_FOR(!is_day && o->to, "--to");
	NOT_FOR((is_compare || is_rebuild) && o->centre, "--centre");
	NOT_FOR(!exports && o->format, "--format");
	NOT_FOR(!exports && o->out, "--out");
	NOT_FOR(!exports && o->bom, "--bom");
	NOT_FOR(!is_compare && o->sections, "--sections");
	NOT_FOR(!is_day && yellow_text, "--yellow-hours");
	NOT_FOR(!is_year && o->recompute, "--recompute");
	NOT_FOR(is_compare && (o->config || short_text || sl_text || variant_text), "a KPI option");
	NOT_FOR(!is_staffing && (weeks_text || target_text || shrinkage_text || occupancy_text),
		"a staffing option");
#undef NOT_FOR
	if (is_compare) {
		if (o->n_positional != 2) {
			fprintf(stderr,
				"hotline-stats: compare needs EXPECTED.yaml and ACTUAL.yaml\n");
			return -1;
		}
		return 0;
	}
	if (o->n_positional != 0) {
		fprintf(stderr, "hotline-stats: unexpected argument \"%s\"\n", o->positional[0]);
		return -1;
	}
	if (o->config != NULL) {
		struct config *cfg = NULL;
		char err[1024];
		if (config_load_file(o->config, &cfg, err, sizeof err) != 0) {
			fprintf(stderr, "hotline-stats: --config: %s\n", err);
			return -1;
		}
		o->kpi.short_abandon_s = (int)cfg->stats_short_abandon_s;
		o->kpi.service_level_s = (int)cfg->stats_service_level_s;
		int bad = kpi_variant_from_name(cfg->stats_service_level_variant, &o->kpi.variant);
		config_free(cfg);
		if (bad != 0)
			return -1;
	}
	if (short_text != NULL &&
	    stats_parse_int(short_text, 0, KPI_THRESHOLD_MAX_S, &o->kpi.short_abandon_s) != 0) {
		fprintf(stderr,
			"hotline-stats: --short-abandon \"%s\": whole seconds from 0 to %d\n",
			short_text, KPI_THRESHOLD_MAX_S);
		return -1;
	}
	if (sl_text != NULL &&
	    stats_parse_int(sl_text, 0, KPI_THRESHOLD_MAX_S, &o->kpi.service_level_s) != 0) {
		fprintf(stderr,
			"hotline-stats: --service-level \"%s\": whole seconds from 0 to %d\n",
			sl_text, KPI_THRESHOLD_MAX_S);
		return -1;
	}
	if (variant_text != NULL && kpi_variant_from_name(variant_text, &o->kpi.variant) != 0) {
		fprintf(stderr,
			"hotline-stats: --sl-variant \"%s\": expected answered_based, offered_based "
			"or sl2\n",
			variant_text);
		return -1;
	}
	if (is_rebuild)
		return 0;
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
	const char *formats;
	if (is_year) {
		if (year_text == NULL || stats_parse_int(year_text, 1970, 9998, &o->year) != 0) {
			fprintf(stderr, "hotline-stats: year needs --year with a year from 1970 to "
					"9998\n");
			return -1;
		}
		o->has_year = true;
		if (o->centre == NULL) {
			fprintf(stderr, "hotline-stats: year needs --centre CODE\n");
			return -1;
		}
		if (o->format == NULL)
			o->format = "profile";
		formats = "profile,json,csv,xlsx,html";
	} else if (is_staffing) {
		if (o->date == NULL || stats_parse_date(o->date) != 0) {
			fprintf(stderr,
				"hotline-stats: staffing needs --date YYYY-MM-DD (the day to "
				"plan)\n");
			return -1;
		}
		if (o->centre == NULL) {
			fprintf(stderr, "hotline-stats: staffing needs --centre CODE\n");
			return -1;
		}
		if (weeks_text != NULL && stats_parse_int(weeks_text, 1, 52, &o->weeks) != 0) {
			fprintf(stderr, "hotline-stats: --weeks \"%s\": 1 to 52\n", weeks_text);
			return -1;
		}
		if (target_text != NULL && stats_parse_fraction(target_text, 0, 1, &o->target_sl)) {
			fprintf(stderr, "hotline-stats: --target-sl \"%s\": a fraction in [0, 1)\n",
				target_text);
			return -1;
		}
		if (shrinkage_text != NULL &&
		    stats_parse_fraction(shrinkage_text, 0, 1, &o->shrinkage) != 0) {
			fprintf(stderr, "hotline-stats: --shrinkage \"%s\": a fraction in [0, 1)\n",
				shrinkage_text);
			return -1;
		}
		if (occupancy_text != NULL &&
		    (stats_parse_fraction(occupancy_text, 0, 1.0000001, &o->max_occupancy) != 0 ||
		     o->max_occupancy <= 0)) {
			fprintf(stderr,
				"hotline-stats: --max-occupancy \"%s\": a fraction in (0, 1]\n",
				occupancy_text);
			return -1;
		}
		if (o->format == NULL)
			o->format = "text";
		formats = "text,csv,json,xlsx,html";
	} else {
		long from_days, to_days;
		if (o->date != NULL && (o->from != NULL || o->to != NULL)) {
			fprintf(stderr,
				"hotline-stats: day takes --date or --from and --to, not both\n");
			return -1;
		}
		if (o->date == NULL && (o->from == NULL || o->to == NULL)) {
			fprintf(stderr,
				"hotline-stats: day needs --date YYYY-MM-DD, or --from and --to "
				"(a real date, 1970 or later)\n");
			return -1;
		}
		if (o->date != NULL && stats_parse_date(o->date) != 0) {
			fprintf(stderr, "hotline-stats: day needs --date YYYY-MM-DD (a real date, "
					"1970 or later)\n");
			return -1;
		}
		if (o->date == NULL) {
			if (stats_parse_date_days(o->from, &from_days) != 0 ||
			    stats_parse_date_days(o->to, &to_days) != 0) {
				fprintf(stderr,
					"hotline-stats: --from and --to are dates YYYY-MM-DD "
					"(1970 or later)\n");
				return -1;
			}
			if (to_days < from_days || to_days - from_days > 3660) {
				fprintf(stderr,
					"hotline-stats: --to %s must be on or after --from %s, "
					"at most ten years later\n",
					o->to, o->from);
				return -1;
			}
			stats_format_date(to_days + 1, o->to_exclusive, sizeof o->to_exclusive);
			if (yellow_text != NULL) {
				fprintf(stderr,
					"hotline-stats: --yellow-hours is for one --date\n");
				return -1;
			}
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
			o->format = o->date != NULL ? "text" : "csv";
		formats = o->date != NULL ? "text,csv,json,xlsx,html" : "csv,json,xlsx,html";
	}
	/* The format must be one of the command's. */
	size_t len = strlen(o->format);
	const char *hit = strstr(formats, o->format);
	if (len == 0 || hit == NULL || (hit != formats && hit[-1] != ',') ||
	    (hit[len] != ',' && hit[len] != '\0')) {
		fprintf(stderr, "hotline-stats: --format %s: %s writes %s\n", o->format, o->command,
			formats);
		return -1;
	}
	if (strcmp(o->format, "xlsx") == 0 && o->out == NULL) {
		fprintf(stderr, "hotline-stats: --format xlsx needs --out FILE.xlsx\n");
		return -1;
	}
	if (o->bom && strcmp(o->format, "csv") != 0) {
		fprintf(stderr, "hotline-stats: --bom is for --format csv\n");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */
/* ------------------------------------------------------------------------ */

/* Opens the destination: stdout, or a temporary file beside --out that
 * stats_close_output renames over it, so that a failed export never leaves
 * a truncated file where a good one was. */
/* True when path names something other than a regular file (a device such
 * as /dev/null, a pipe): it is written in place, never replaced. */
static bool stats_out_is_special(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

static FILE *stats_open_output(const struct stats_options *o, char *tmp, size_t tmp_len)
{
	if (o->out == NULL)
		return stdout;
	if (stats_out_is_special(o->out)) {
		tmp[0] = '\0';
		FILE *f = fopen(o->out, "w");
		if (f == NULL)
			fprintf(stderr, "hotline-stats: %s: cannot write: %s\n", o->out,
				strerror(errno));
		return f;
	}
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
	if (tmp[0] == '\0') /* written in place */
		return ok ? 0 : -1;
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
		snprintf(err, err_len, "unknown centre \"%s\" (no such code in table centres)",
			 code);
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
	column " >= (make_timestamp($1::int, 1, 1, 0, 0, 0) AT TIME ZONE $2) AND " column          \
	       " < (make_timestamp($1::int + 1, 1, 1, 0, 0, 0) AT TIME ZONE $2)"

static int stats_compare_centres(const void *a, const void *b)
{
	const struct profile_centre *x = a, *y = b;
	if (x->calls != y->calls)
		return x->calls > y->calls ? -1 : 1;
	return strcmp(x->code, y->code);
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
		r = db_exec(
			conn,
			"SELECT source, count(*) FROM work_orders WHERE centre = $3 AND " STATS_YEAR_RANGE(
				"received_at") " GROUP BY source",
			3, params, err, err_len);
	else
		r = db_exec(conn,
			    "SELECT source, count(*) FROM work_orders WHERE " STATS_YEAR_RANGE(
				    "received_at") " GROUP BY source",
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
	stats_comment(f, work_orders_table ? "  " STATS_DEFINITION_WORK_ORDERS_TABLE "." :
					     "  " STATS_DEFINITION_WORK_ORDERS_NONE ".");
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

static json_t *stats_report_json(const struct report *r);

/* Adds the report's tables to root ("tables") and its definitions to
 * definitions ("report"); both take the values even on failure. */
static int stats_json_add_report(json_t *root, json_t *definitions, const struct report *r)
{
	json_t *j = stats_report_json(r);
	if (j == NULL)
		return -1;
	json_t *tables = json_object_get(j, "tables"), *defs = json_object_get(j, "definitions");
	int rc = tables && defs && json_object_set(root, "tables", tables) == 0 &&
				 json_object_set(definitions, "report", defs) == 0 ?
			 0 :
			 -1;
	json_decref(j);
	return rc;
}

static int stats_write_year_json(FILE *f, const struct stats_options *o, const struct profile *p,
				 bool work_orders_table, const struct report *report)
{
	json_t *root = profile_to_json(p);
	int rc = -1;

	if (root == NULL)
		return -1;
	json_t *definitions = stats_json_definitions(o, work_orders_table ?
								STATS_DEFINITION_WORK_ORDERS_TABLE :
								STATS_DEFINITION_WORK_ORDERS_NONE);
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
	if (stats_json_add_report(root, definitions, report) != 0) {
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
	PGresult *r = db_exec(conn,
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

static int stats_write_day_json(FILE *f, const struct stats_options *o, const struct stats_day *d,
				const struct stats_day_orders *w, const struct report *report)
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
		ok = stats_json_add_report(root, definitions, report) == 0 && ok;
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

/* ------------------------------------------------------------------------ */
/* Reports                                                                   */
/* ------------------------------------------------------------------------ */

/* Display width of UTF-8 text: East Asian characters take two columns. */
static int stats_text_width(const char *s)
{
	int w = 0;
	for (const unsigned char *c = (const unsigned char *)s; *c;) {
		if (*c < 0x80) {
			w++;
			c++;
		} else {
			int n = *c >= 0xf0 ? 4 : *c >= 0xe0 ? 3 : 2;
			w += n >= 3 ? 2 : 1;
			for (int i = 0; i < n && *c; i++)
				c++;
		}
	}
	return w;
}

static void stats_cell_text(const struct report_cell *c, char *buf, size_t len)
{
	switch (c->kind) {
	case REPORT_CELL_TEXT:
		snprintf(buf, len, "%s", c->text);
		break;
	case REPORT_CELL_INT:
		snprintf(buf, len, "%" PRId64, c->i);
		break;
	case REPORT_CELL_REAL:
		snprintf(buf, len, "%.*f", c->decimals, c->r);
		break;
	case REPORT_CELL_PERCENT:
		snprintf(buf, len, "%.*f%%", c->decimals, c->r * 100);
		break;
	default:
		snprintf(buf, len, "-");
	}
}

/* The report's tables as aligned text, for the terminal. */
static void stats_write_report_text(FILE *f, const struct report *r, bool definitions,
				    const char *const *skip)
{
	char buf[512];
	for (size_t t = 0; t < r->n_tables; t++) {
		const struct report_table *tb = r->tables[t];
		bool skipped = false;
		for (size_t i = 0; skip && skip[i]; i++)
			skipped = skipped || strcmp(skip[i], tb->id) == 0;
		if (skipped)
			continue;
		int width[32] = {0};
		size_t nc = tb->n_columns < 32 ? tb->n_columns : 32;
		for (size_t c = 0; c < nc; c++)
			width[c] = stats_text_width(tb->headers[c]);
		for (size_t row = 0; row < tb->n_rows; row++)
			for (size_t c = 0; c < nc; c++) {
				stats_cell_text(&tb->cells[row * tb->n_columns + c], buf,
						sizeof buf);
				int w = stats_text_width(buf);
				if (w > width[c])
					width[c] = w;
			}
		fprintf(f, "%s\n", tb->title);
		if (tb->note)
			fprintf(f, "(%s)\n", tb->note);
		for (size_t row = 0; row <= tb->n_rows; row++) {
			for (size_t c = 0; c < nc; c++) {
				const struct report_cell *cell =
					row ? &tb->cells[(row - 1) * tb->n_columns + c] : NULL;
				if (cell)
					stats_cell_text(cell, buf, sizeof buf);
				else
					snprintf(buf, sizeof buf, "%s", tb->headers[c]);
				int pad = width[c] - stats_text_width(buf);
				bool right = cell && cell->kind != REPORT_CELL_TEXT;
				fprintf(f, "%s%*s%s%*s", c ? "  " : "", right ? pad : 0, "", buf,
					right ? 0 : (c + 1 < nc ? pad : 0), "");
			}
			fputc('\n', f);
		}
		fputc('\n', f);
	}
	if (definitions && r->n_definitions) {
		fputs("Definitions:\n", f);
		for (size_t i = 0; i < r->n_definitions; i++)
			fprintf(f, "  %s\n", r->definitions[i]);
	}
}

/* The report's JSON object (report_write_json's), parsed back. */
static json_t *stats_report_json(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	json_t *j = NULL;
	if (m == NULL)
		return NULL;
	int rc = report_write_json(r, m);
	if (fclose(m) == 0 && rc == 0)
		j = json_loadb(buf, len, 0, NULL);
	free(buf);
	return j;
}

/* Writes a report in a format of the writers (csv, json, xlsx, html), or
 * text. xlsx goes to a temporary file renamed over --out. */
static int stats_write_report(const struct stats_options *o, const struct report *r)
{
	char tmp[4096];
	int written;

	if (strcmp(o->format, "xlsx") == 0) {
		if (stats_out_is_special(o->out))
			snprintf(tmp, sizeof tmp, "%s", o->out);
		else
			snprintf(tmp, sizeof tmp, "%s.tmp.%ld.xlsx", o->out, (long)getpid());
		written = report_write_xlsx(r, tmp);
		if (written == 0 && strcmp(tmp, o->out) != 0 && rename(tmp, o->out) != 0) {
			fprintf(stderr, "hotline-stats: %s: cannot write: %s\n", o->out,
				strerror(errno));
			written = -errno;
		}
		if (written != 0) {
			unlink(tmp);
			fprintf(stderr, "hotline-stats: writing the xlsx export failed\n");
			return STATS_EXIT_ERROR;
		}
		return STATS_EXIT_OK;
	}
	FILE *f = stats_open_output(o, tmp, sizeof tmp);
	if (f == NULL)
		return STATS_EXIT_ERROR;
	if (strcmp(o->format, "csv") == 0)
		written = report_write_csv(r, f, o->bom);
	else if (strcmp(o->format, "json") == 0)
		written = report_write_json(r, f);
	else if (strcmp(o->format, "html") == 0)
		written = report_write_html(r, f);
	else {
		fprintf(f, "%s\n%s\n\n", r->title, r->subtitle ? r->subtitle : "");
		stats_write_report_text(f, r, true, NULL);
		written = ferror(f) ? -EIO : 0;
	}
	if (written != 0)
		fprintf(stderr, "hotline-stats: writing the %s export failed\n", o->format);
	return stats_close_output(o, f, tmp, written == 0) == 0 && written == 0 ? STATS_EXIT_OK :
										  STATS_EXIT_ERROR;
}

static void stats_now(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

/* Opens the statistics session of [from, to) for centre (NULL: all). */
static struct statsq *stats_open_period(PGconn *conn, const struct stats_options *o,
					const char *centre, const char *from, const char *to)
{
	struct statsq_scope scope = {
		.centre = centre,
		.zone = o->zone,
		.from_date = from,
		.to_date = to,
		.definitions = o->kpi,
	};
	struct statsq *q = NULL;
	char err[1024];

	if (kpi_definitions_check(&o->kpi) != 0) {
		fprintf(stderr, "hotline-stats: invalid KPI definitions\n");
		return NULL;
	}
	if (statsq_open(conn, &scope, &q, err, sizeof err) != 0) {
		fprintf(stderr, "hotline-stats: %s\n", err);
		return NULL;
	}
	if (!statsq_from_aggregates(q)) {
		int s, t;
		statsq_kept_thresholds(q, &s, &t);
		fprintf(stderr,
			"hotline-stats: note: the kept statistics sort calls by thresholds %d s and "
			"%d s, not %d s and %d s: counting the calls from the raw rows (slower); "
			"hotline-stats rebuild applies new thresholds\n",
			s, t, o->kpi.short_abandon_s, o->kpi.service_level_s);
	}
	return q;
}

/* --recompute: the kept statistics against the raw rows. */
static int stats_recompute(struct statsq *q, const char *what)
{
	struct statsq_check check;
	char err[1024];

	if (statsq_recompute(q, &check, err, sizeof err) != 0) {
		fprintf(stderr, "hotline-stats: recompute: %s\n", err);
		return STATS_EXIT_ERROR;
	}
	for (int i = 0; i < STATSQ_CHECK_TABLES; i++) {
		const struct statsq_check_table *t = &check.tables[i];
		fprintf(stderr,
			"hotline-stats: recompute %s: %s: %" PRId64 " keys from %" PRId64
			" raw rows; %" PRId64 " kept keys differ, %" PRId64 " raw keys differ\n",
			what, t->table, t->keys, t->facts, t->only_kept, t->only_facts);
	}
	fprintf(stderr, "hotline-stats: recompute %s: %s\n", what,
		check.agree ? "the kept statistics agree with the raw rows" :
			      "THE KEPT STATISTICS DIFFER FROM THE RAW ROWS");
	return check.agree ? STATS_EXIT_OK : STATS_EXIT_DIFFERENT;
}

/* Province and categories from the kept statistics: accepted calls by
 * (centre, category) for every centre. */
static int stats_year_calls_kept(PGconn *conn, struct statsq *q, struct profile *p, char *err,
				 size_t err_len)
{
	struct statsq_cell *cells = NULL;
	size_t n = 0;
	PGresult *names = NULL;

	if (statsq_calls(q, STATSQ_CENTRE_CATEGORY, &cells, &n, err, err_len) != 0)
		return -1;
	names = db_exec(conn, "SELECT code, name FROM centres", 0, NULL, err, err_len);
	if (names == NULL)
		goto fail;
	p->has_province = true;
	p->centres = calloc(n + 2, sizeof *p->centres);
	if (p->centres == NULL)
		goto oom;
	bool own_listed = false;
	for (size_t i = 0; i < n; i++) {
		const char *code = cells[i].key;
		struct profile_centre *c = p->n_centres ? &p->centres[p->n_centres - 1] : NULL;
		enum category category;
		if (cells[i].accepted == 0)
			continue;
		if (c == NULL || strcmp(c->code, code) != 0) {
			const char *name = code;
			for (int r = 0; r < PQntuples(names); r++)
				if (strcmp(PQgetvalue(names, r, 0), code) == 0)
					name = PQgetvalue(names, r, 1);
			c = &p->centres[p->n_centres++];
			c->code = strdup(code);
			c->name = strdup(name);
			if (c->code == NULL || c->name == NULL)
				goto oom;
		}
		c->calls += cells[i].accepted;
		p->province_total += cells[i].accepted;
		if (strcmp(code, p->centre_code) == 0) {
			own_listed = true;
			if (category_from_name(cells[i].key2, &category) != 0)
				category = CATEGORY_OTHER;
			p->calls_by_category[category] += cells[i].accepted;
			p->calls_total += cells[i].accepted;
		}
	}
	if (!own_listed) {
		struct profile_centre *c = &p->centres[p->n_centres++];
		c->code = strdup(p->centre_code);
		c->name = strdup(p->centre_name);
		if (c->code == NULL || c->name == NULL)
			goto oom;
	}
	qsort(p->centres, p->n_centres, sizeof *p->centres, stats_compare_centres);
	PQclear(names);
	free(cells);
	return 0;
oom:
	snprintf(err, err_len, "out of memory");
fail:
	PQclear(names);
	free(cells);
	return -1;
}

/* Bookings by hospital and by platform into the profile. */
static int stats_year_bookings(struct statsq *q, struct profile *p, char *err, size_t err_len)
{
	struct statsq_hospital *hs = NULL;
	struct statsq_platform *ps = NULL;
	size_t nh = 0, np = 0;
	int64_t without = 0;
	bool has_hospitals = false, has_platforms = false;

	if (statsq_has_booking_reference(q, &has_hospitals, &has_platforms, err, err_len) != 0 ||
	    statsq_bookings_by_hospital(q, &hs, &nh, err, err_len) != 0 ||
	    statsq_bookings_by_platform(q, &ps, &np, &without, err, err_len) != 0 ||
	    statsq_bookings_before_end(q, &p->bookings_cumulative_all_years, err, err_len) != 0)
		goto fail;
	p->has_bookings = has_hospitals || nh > 0;
	p->hospitals = calloc(nh + 1, sizeof *p->hospitals);
	p->has_platforms = has_platforms || np > 0;
	p->platforms = calloc(np + 1, sizeof *p->platforms);
	if (p->hospitals == NULL || p->platforms == NULL)
		goto oom;
	for (size_t i = 0; i < nh; i++) {
		struct profile_hospital *h = &p->hospitals[p->n_hospitals++];
		h->rank = (int64_t)i + 1;
		h->hospital = strdup(hs[i].name);
		if (h->hospital == NULL)
			goto oom;
		for (int c = 0; c < PROFILE_CHANNEL_COUNT; c++) {
			h->by_channel[c] = hs[i].by_channel[c];
			p->bookings_total[c] += hs[i].by_channel[c];
		}
		h->all = hs[i].all;
		p->bookings_total_all += hs[i].all;
	}
	for (size_t i = 0; i < np; i++) {
		struct profile_platform *pl = &p->platforms[p->n_platforms++];
		pl->rank = (int64_t)i + 1;
		pl->platform = strdup(ps[i].name);
		if (pl->platform == NULL)
			goto oom;
		pl->bookings = ps[i].bookings;
		p->platforms_total += ps[i].bookings;
	}
	free(hs);
	free(ps);
	return 0;
oom:
	snprintf(err, err_len, "out of memory");
fail:
	free(hs);
	free(ps);
	return -1;
}

static int stats_run_year(PGconn *conn, const struct stats_options *o)
{
	char err[1024], year[16], tmp[4096], from[16], to[16], title[512], subtitle[512], now[32];
	char *province = NULL;
	struct profile *p = calloc(1, sizeof *p);
	struct report *report = NULL;
	struct statsq *q = NULL;
	bool work_orders_table = false;
	int rc = STATS_EXIT_ERROR;
	FILE *f = NULL;

	if (p == NULL) {
		fprintf(stderr, "hotline-stats: out of memory\n");
		return STATS_EXIT_ERROR;
	}
	snprintf(year, sizeof year, "%d", o->year);
	/* The parser keeps the year in 1970..9998. */
	snprintf(from, sizeof from, "%04d-01-01", o->year % 10000);
	snprintf(to, sizeof to, "%04d-01-01", (o->year + 1) % 10000);
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

	q = stats_open_period(conn, o, NULL, from, to);
	if (q == NULL)
		goto out;
	if (o->recompute) {
		rc = stats_recompute(q, year);
		if (rc != STATS_EXIT_OK)
			goto out;
		rc = STATS_EXIT_ERROR;
	}
	if (stats_year_calls_kept(conn, q, p, err, sizeof err) != 0 ||
	    stats_year_work_orders(conn, o, year, p, &work_orders_table, err, sizeof err) != 0 ||
	    statsq_set_centre(q, o->centre) != 0 || stats_year_bookings(q, p, err, sizeof err) != 0)
		goto fail;
	if (profile_validate(p, err, sizeof err) != 0)
		goto fail;

	snprintf(title, sizeof title, "%s 12320 %d 年度统计", p->centre_name, o->year);
	stats_now(now, sizeof now);
	snprintf(subtitle, sizeof subtitle, "中心 %s · %d-01-01 至 %d-12-31 · 时区 %s · 生成于 %s",
		 o->centre, o->year, o->year, o->zone, now);
	report = report_new(title, subtitle);
	if (report == NULL || statsreport_add_definitions(report, q, &o->kpi, o->zone) != 0 ||
	    report_add_definition(report, STATS_DEFINITION_PROVINCE) != 0) {
		snprintf(err, sizeof err, "out of memory");
		goto fail;
	}
	if (statsreport_year(report, p, q, &o->kpi, err, sizeof err) != 0)
		goto fail;

	if (strcmp(o->format, "profile") != 0 && strcmp(o->format, "json") != 0) {
		rc = stats_write_report(o, report);
		goto out;
	}
	f = stats_open_output(o, tmp, sizeof tmp);
	if (f == NULL)
		goto out;
	int written;
	if (strcmp(o->format, "profile") == 0) {
		stats_year_definitions(f, o, work_orders_table);
		fputc('\n', f);
		written = profile_write_yaml(p, f);
	} else {
		written = stats_write_year_json(f, o, p, work_orders_table, report);
	}
	if (written != 0)
		fprintf(stderr, "hotline-stats: writing the %s export failed\n", o->format);
	if (stats_close_output(o, f, tmp, written == 0) == 0 && written == 0)
		rc = STATS_EXIT_OK;
	goto out;
fail:
	fprintf(stderr, "hotline-stats: year %d, centre %s: %s\n", o->year, o->centre, err);
out:
	statsq_close(q);
	report_free(report);
	free(province);
	profile_free(p);
	return rc;
}

/* The day's accepted calls by hour and category (the legacy query's). */
static int stats_day_hour_table(struct report *r, const struct stats_day *d)
{
	const char *headers[CATEGORY_COUNT + 2], *keys[CATEGORY_COUNT + 2];
	headers[0] = "时段";
	keys[0] = "hour";
	for (int c = 0; c < CATEGORY_COUNT; c++) {
		keys[c + 1] = category_name((enum category)c);
		headers[c + 1] = statsreport_category_label(keys[c + 1]);
	}
	headers[CATEGORY_COUNT + 1] = "合计";
	keys[CATEGORY_COUNT + 1] = "total";
	struct report_table *t = report_add_table(r, "calls_by_hour", "来电受理（按时段、类别）",
						  NULL, CATEGORY_COUNT + 2, headers, keys);
	if (t == NULL)
		return -ENOMEM;
	for (int h = 0; h <= 24; h++) {
		struct report_cell *row = report_table_add_row(t);
		char label[16];
		snprintf(label, sizeof label, "%02d:00", h);
		if (row == NULL || report_cell_set_text(&row[0], h == 24 ? "合计" : label) != 0)
			return -ENOMEM;
		for (int c = 0; c < CATEGORY_COUNT; c++)
			report_cell_set_int(&row[c + 1],
					    h == 24 ? d->by_category[c] : d->by_hour[h][c]);
		report_cell_set_int(&row[CATEGORY_COUNT + 1],
				    h == 24 ? d->total : d->hour_total[h]);
	}
	t->last_row_is_total = true;
	return 0;
}

/* The work orders overdue or near due at the end of the day. */
static int stats_day_orders_table(struct report *r, const struct stats_options *o,
				  const struct stats_day_orders *w)
{
	static const char *const headers[] = {"编号", "中心", "来源", "工单号", "阶段",
					      "类别", "紧急", "到期", "状态",   "距到期（分钟）"};
	static const char *const keys[] = {"id",     "centre",        "source", "external_no",
					   "stage",  "category",      "urgent", "due",
					   "status", "minutes_to_due"};
	static const int columns[] = {STATS_DUE_ID,          STATS_DUE_CENTRE, STATS_DUE_SOURCE,
				      STATS_DUE_EXTERNAL_NO, STATS_DUE_STAGE,  STATS_DUE_CATEGORY,
				      STATS_DUE_URGENT,      STATS_DUE_DUE,    STATS_DUE_STATUS};
	struct report_table *t = report_add_table(r, "work_orders_due", "12345工单：超期与临期",
						  NULL, 10, headers, keys);
	char summary[256];

	if (t == NULL)
		return -ENOMEM;
	if (!w->table)
		return report_table_set_note(t, STATS_DEFINITION_WORK_ORDERS_DUE_NONE);
	stats_day_orders_summary(o, w, summary, sizeof summary);
	if (report_table_set_note(t, summary) != 0)
		return -ENOMEM;
	for (int i = 0; i < PQntuples(w->rows); i++) {
		struct report_cell *row = report_table_add_row(t);
		if (row == NULL)
			return -ENOMEM;
		for (int c = 0; c < 9; c++) {
			const char *v = PQgetvalue(w->rows, i, columns[c]);
			if (columns[c] == STATS_DUE_URGENT)
				v = stats_due_urgent(w, i) ? "是" : "否";
			if (report_cell_set_text(&row[c], v) != 0)
				return -ENOMEM;
		}
		report_cell_set_int(&row[9],
				    stats_count(PQgetvalue(w->rows, i, STATS_DUE_MINUTES)));
	}
	return 0;
}

static int stats_run_day(PGconn *conn, const struct stats_options *o)
{
	char err[1024], tmp[4096], label[256], to[16], title[256], subtitle[512], now[32];
	struct stats_day d;
	struct stats_day_orders w = {0};
	struct statsq *q = NULL;
	struct report *report = NULL;
	FILE *f;
	int written = 0;
	int rc = STATS_EXIT_ERROR;
	bool one_day = o->date != NULL;
	const char *from = one_day ? o->date : o->from;

	if (o->centre != NULL) {
		char *name = NULL, *province = NULL;
		if (stats_read_centre(conn, o->centre, &name, &province, err, sizeof err) != 0) {
			free(name);
			free(province);
			fprintf(stderr, "hotline-stats: day %s: %s\n", from, err);
			return STATS_EXIT_ERROR;
		}
		snprintf(label, sizeof label, "centre %s (%s)", o->centre, name);
		free(name);
		free(province);
	} else {
		snprintf(label, sizeof label, "all centres");
	}
	if (one_day) {
		long days;
		if (stats_parse_date_days(o->date, &days) != 0)
			return STATS_EXIT_ERROR;
		stats_format_date(days + 1, to, sizeof to);
	} else {
		snprintf(to, sizeof to, "%s", o->to_exclusive);
	}
	/* One snapshot for every table of the export, the legacy day's too. */
	q = stats_open_period(conn, o, o->centre, from, to);
	if (q == NULL)
		goto out;
	if (one_day && (stats_day_query(conn, o, &d, err, sizeof err) != 0 ||
			stats_day_work_orders(conn, o, &w, err, sizeof err) != 0)) {
		fprintf(stderr, "hotline-stats: day %s: %s\n", o->date, err);
		goto out;
	}
	if (one_day)
		snprintf(title, sizeof title, "12320 日报 %s", o->date);
	else
		snprintf(title, sizeof title, "12320 统计 %s 至 %s", o->from, o->to);
	stats_now(now, sizeof now);
	snprintf(subtitle, sizeof subtitle, "%s · 时区 %s · 生成于 %s", label, o->zone, now);
	report = report_new(title, subtitle);
	if (report == NULL || statsreport_add_definitions(report, q, &o->kpi, o->zone) != 0 ||
	    (one_day && (report_add_definition(report, STATS_DEFINITION_ABANDONED) != 0 ||
			 report_add_definition(report, stats_day_orders_definition(&w)) != 0))) {
		fprintf(stderr, "hotline-stats: out of memory\n");
		goto out;
	}
	snprintf(err, sizeof err, "out of memory");
	if (statsreport_period(report, q, &o->kpi, one_day, err, sizeof err) != 0 ||
	    (one_day && (stats_day_hour_table(report, &d) != 0 ||
			 stats_day_orders_table(report, o, &w) != 0))) {
		fprintf(stderr, "hotline-stats: day %s: %s\n", from, err);
		goto out;
	}
	if (!one_day || (strcmp(o->format, "text") != 0 && strcmp(o->format, "json") != 0)) {
		rc = stats_write_report(o, report);
		goto out;
	}
	f = stats_open_output(o, tmp, sizeof tmp);
	if (f == NULL)
		goto out;
	if (strcmp(o->format, "text") == 0) {
		/* The legacy text has these three; the report adds the rest. */
		static const char *const shown[] = {"calls_by_category", "calls_by_hour",
						    "work_orders_due", NULL};
		stats_write_day_text(f, o, &d, &w, label);
		fputc('\n', f);
		stats_write_report_text(f, report, true, shown);
	} else {
		written = stats_write_day_json(f, o, &d, &w, report);
	}
	if (written != 0)
		fprintf(stderr, "hotline-stats: writing the %s export failed\n", o->format);
	if (stats_close_output(o, f, tmp, written == 0) == 0 && written == 0)
		rc = STATS_EXIT_OK;
out:
	statsq_close(q);
	report_free(report);
	PQclear(w.rows);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* staffing and rebuild                                                      */
/* ------------------------------------------------------------------------ */

/* The history: the same weekday in each of the last o->weeks weeks, per
 * local half hour, read from the raw calls (the kept statistics are per
 * hour, too coarse for a half-hour plan; a few weeks of one weekday is a
 * small indexed range). */
static int stats_staffing_history(PGconn *conn, const struct stats_options *o,
				  struct staffing_history *h, char *err, size_t err_len)
{
	char weeks[16];
	snprintf(weeks, sizeof weeks, "%d", o->weeks);
	const char *params[4] = {o->date, o->zone, o->centre, weeks};
	PGresult *r = db_exec(
		conn,
		"SELECT (extract(hour FROM offered_at AT TIME ZONE $2) * 2"
		"        + (extract(minute FROM offered_at AT TIME ZONE $2) >= 30)::int)::int,"
		" count(*) FILTER (WHERE outcome IN ('handled', 'abandoned')),"
		" count(*) FILTER (WHERE outcome = 'handled' AND answered_at IS NOT NULL),"
		" coalesce(sum(extract(epoch FROM ended_at - answered_at)"
		"     + coalesce(wrap_up_us, 0) / 1000000.0)"
		"   FILTER (WHERE outcome = 'handled' AND answered_at IS NOT NULL), 0)"
		" FROM calls"
		" WHERE centre = $3"
		" AND offered_at >= (($1::date - 7 * $4::int)::timestamp AT TIME ZONE $2)"
		" AND offered_at < ($1::date::timestamp AT TIME ZONE $2)"
		" AND extract(isodow FROM offered_at AT TIME ZONE $2) = extract(isodow FROM $1::date)"
		" GROUP BY 1",
		4, params, err, err_len);
	if (r == NULL)
		return -1;
	memset(h, 0, sizeof *h);
	h->weeks = o->weeks;
	for (int i = 0; i < PQntuples(r); i++) {
		int slot = atoi(PQgetvalue(r, i, 0));
		if (slot < 0 || slot >= STAFFING_SLOTS)
			continue;
		h->offered[slot] = stats_count(PQgetvalue(r, i, 1));
		h->answered[slot] = stats_count(PQgetvalue(r, i, 2));
		h->handle_s[slot] = strtod(PQgetvalue(r, i, 3), NULL);
	}
	PQclear(r);
	return 0;
}

static int stats_run_staffing(PGconn *conn, const struct stats_options *o)
{
	char err[1024], title[256], subtitle[512], now[32], text[1024];
	struct staffing_history h;
	struct staffing_slot plan[STAFFING_SLOTS];
	struct staffing_params params = {
		.target_service_level = o->target_sl,
		.answer_within_s = o->kpi.service_level_s,
		.max_occupancy = o->max_occupancy,
		.shrinkage = o->shrinkage,
	};
	char *name = NULL, *province = NULL;
	struct report *r = NULL;
	int rc = STATS_EXIT_ERROR;

	if (stats_read_centre(conn, o->centre, &name, &province, err, sizeof err) != 0 ||
	    stats_staffing_history(conn, o, &h, err, sizeof err) != 0) {
		fprintf(stderr, "hotline-stats: staffing %s: %s\n", o->date, err);
		goto out;
	}
	int bad = staffing_plan(&h, &params, plan);
	if (bad != 0) {
		fprintf(stderr, "hotline-stats: staffing %s: %s\n", o->date,
			bad == -ERANGE ? "the forecast traffic is beyond what Erlang C can staff" :
					 "invalid staffing parameters");
		goto out;
	}
	snprintf(title, sizeof title, "%s 12320 排班建议 %s", name, o->date);
	stats_now(now, sizeof now);
	snprintf(subtitle, sizeof subtitle,
		 "中心 %s · 依据前 %d 周同一星期几 · 目标服务水平 %.0f%% / %d 秒 · 缺勤率 %.0f%% · "
		 "时区 %s · 生成于 %s",
		 o->centre, o->weeks, o->target_sl * 100, o->kpi.service_level_s,
		 o->shrinkage * 100, o->zone, now);
	r = report_new(title, subtitle);
	snprintf(text, sizeof text,
		 "Forecast: each half hour's calls are the mean of the calls that entered a queue "
		 "(answered or abandoned) in that half hour on the same weekday of the %d weeks "
		 "before %s (a week without calls counts 0); its handle time is the mean talk + "
		 "wrap-up of the answered ones (the history's mean when none was answered then).",
		 o->weeks, o->date);
	if (r == NULL || report_add_definition(r, text) != 0)
		goto oom;
	snprintf(text, sizeof text,
		 "Agents: Erlang C, the smallest group that answers %.0f%% of calls within %d s "
		 "with an occupancy of at most %.0f%% (calls wait in one queue, arrive at random, "
		 "and nobody hangs up); scheduled = ceil(agents / (1 - shrinkage %.2f)) for "
		 "breaks, training and absence. Service level, ASA and occupancy are Erlang C's "
		 "at that many agents on the phones.",
		 o->target_sl * 100, o->kpi.service_level_s, o->max_occupancy * 100, o->shrinkage);
	if (report_add_definition(r, text) != 0)
		goto oom;
	const char *headers[] = {"时段",     "预测来电", "AHT (秒)", "话务量 (Erlang)", "在线坐席",
				 "服务水平", "ASA (秒)", "占用率",   "排班人数"};
	const char *keys[] = {"slot",          "calls", "aht_s",     "traffic_erlangs", "agents",
			      "service_level", "asa_s", "occupancy", "scheduled"};
	struct report_table *t =
		report_add_table(r, "staffing", "排班建议（每半小时）", NULL, 9, headers, keys);
	double calls = 0, agent_hours = 0, scheduled_hours = 0;
	int peak = 0;
	if (t == NULL)
		goto oom;
	for (int i = 0; i < STAFFING_SLOTS; i++) {
		struct report_cell *row = report_table_add_row(t);
		char slot[32];
		snprintf(slot, sizeof slot, "%02d:%02d-%02d:%02d", i / 2, i % 2 * 30,
			 (i + 1) / 2 % 24, (i + 1) % 2 * 30);
		if (row == NULL || report_cell_set_text(&row[0], slot) != 0)
			goto oom;
		report_cell_set_real(&row[1], plan[i].calls, 1);
		if (plan[i].calls > 0) {
			report_cell_set_real(&row[2], plan[i].aht_s, 0);
			report_cell_set_real(&row[3], plan[i].traffic, 2);
			report_cell_set_percent(&row[5], plan[i].service_level, 1);
			report_cell_set_real(&row[6], plan[i].asa_s, 1);
			report_cell_set_percent(&row[7], plan[i].occupancy, 1);
		}
		report_cell_set_int(&row[4], plan[i].agents);
		report_cell_set_int(&row[8], plan[i].scheduled);
		calls += plan[i].calls;
		agent_hours += plan[i].agents / 2.0;
		scheduled_hours += plan[i].scheduled / 2.0;
		if (plan[i].scheduled > peak)
			peak = plan[i].scheduled;
	}
	snprintf(text, sizeof text,
		 "forecast %.0f calls; %.1f agent-hours on the phones, %.1f scheduled; peak %d "
		 "scheduled",
		 calls, agent_hours, scheduled_hours, peak);
	if (report_table_set_note(t, text) != 0)
		goto oom;
	{
		char names[STAFFING_SLOTS][8];
		const char *labels[STAFFING_SLOTS];
		double values[STAFFING_SLOTS];
		for (int i = 0; i < STAFFING_SLOTS; i++) {
			snprintf(names[i], sizeof names[i], "%02d:%02d", i / 2, i % 2 * 30);
			labels[i] = names[i];
			values[i] = plan[i].scheduled;
		}
		if (report_add_chart(r, "staffing", "排班人数（每半小时）", REPORT_CHART_BAR, "人",
				     STAFFING_SLOTS, labels, values) == NULL)
			goto oom;
	}
	rc = stats_write_report(o, r);
	goto out;
oom:
	fprintf(stderr, "hotline-stats: out of memory\n");
out:
	report_free(r);
	free(name);
	free(province);
	return rc;
}

static int stats_run_rebuild(PGconn *conn, const struct stats_options *o)
{
	char err[1024], s[16], t[16];
	snprintf(s, sizeof s, "%d", o->kpi.short_abandon_s);
	snprintf(t, sizeof t, "%d", o->kpi.service_level_s);
	const char *params[2] = {s, t};
	PGresult *r = NULL;
	/* The rebuild gives way to the broker's batches (a short lock timeout,
	 * sql/008): try again a while before giving up. */
	for (int attempt = 1; attempt <= 60; attempt++) {
		r = db_exec(conn, "BEGIN", 0, NULL, err, sizeof err);
		if (r != NULL) {
			PQclear(r);
			r = db_exec(conn, "SELECT hotline_stats_rebuild($1::int, $2::int)", 2,
				    params, err, sizeof err);
		}
		if (r != NULL) {
			PQclear(r);
			r = db_exec(conn, "COMMIT", 0, NULL, err, sizeof err);
		}
		if (r != NULL)
			break;
		PQclear(PQexec(conn, "ROLLBACK"));
		if (strstr(err, "lock timeout") == NULL && strstr(err, "deadlock") == NULL)
			break;
		usleep(500 * 1000);
	}
	if (r == NULL) {
		fprintf(stderr, "hotline-stats: rebuild: %s\n", err);
		return STATS_EXIT_ERROR;
	}
	PQclear(r);
	printf("rebuilt the kept statistics from the raw rows: short abandon %d s, service level "
	       "%d s\n",
	       o->kpi.short_abandon_s, o->kpi.service_level_s);
	return STATS_EXIT_OK;
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
	else if (strcmp(o.command, "staffing") == 0)
		rc = stats_run_staffing(conn, &o);
	else if (strcmp(o.command, "rebuild") == 0)
		rc = stats_run_rebuild(conn, &o);
	else
		rc = stats_run_day(conn, &o);
	PQfinish(conn);
	return rc;
}
