/* sim.c: hotline-sim, the gateway simulator: prints the scaled profile a
 * replay expects and the hospitals file of a profile, and replays a year
 * profile through the broker's distributor, playing the gateway (POST
 * /v1/calls/events and the command stream of each centre), a pool of agents
 * per centre (simagents.c), the 12345 platforms that hand the own centre its
 * work orders (simorders.c), and the systems that make its bookings: the
 * agents (or the gateway) book during booking calls, and the other systems'
 * daily batches go into PostgreSQL (simbookings.c).
 *
 * The plan (replay.c) fixes every call and event; this file only drives it:
 * a bounded set of calls in progress, each sending its events in order, one
 * request at a time, over a pool of keep-alive connections (httpc.c). A call
 * the plan answers waits, after its offer, for the broker's connect command
 * naming the agent the distributor chose; that agent answers it after a
 * short ring. The interleaving and the agents depend on timing; everything
 * else that is sent does not.
 *
 * A call is in one of four states, changed only by sim_call_set_state:
 * sending (an event is on its way or waits for its retry), waiting for the
 * connect, ringing (the agent answers when the ring delay is over), booking
 * (a call that carries a phone booking holds its next event until the
 * booking, made between the answer and that event, is taken).
 *
 * Retry policy (simretry.h): a connection failure, a timeout or a 5xx (and
 * 429) is retried with the same event id and the same body, after
 * Retry-After when the broker gives one, else with exponential backoff, for
 * at most --retry-for seconds per event. Any other answer than 200 is fatal
 * and reported with its body, except a 409 whose body is the very result a
 * 200 would carry, and a 409 to call.answered: the offer was withdrawn
 * meanwhile, and the call waits for the next connect.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "agentpool.h"
#include "auth.h"
#include "bookplan.h"
#include "category.h"
#include "httpc.h"
#include "profile.h"
#include "replay.h"
#include "simagents.h"
#include "simbookings.h"
#include "simorders.h"
#include "simretry.h"
#include "ssec.h"
#include "strmap.h"
#include "timeutil.h"

#define SIM_EVENTS_PATH "/v1/calls/events"
#define SIM_COMMANDS_PATH "/v1/gateway/commands?centre="
#define SIM_BOOKINGS_PATH "/v1/bookings"
/* How often the loop looks at the booking batches' thread. */
#define SIM_BATCH_POLL_MS 100
#define SIM_BODY_MAX 1024
#define SIM_DEFAULT_SCALE 0.01
#define SIM_DEFAULT_ZONE "Asia/Shanghai"
#define SIM_SECRET_MAX 4096
/* As hotline-admin reads it (agents.h): one line of at most 1024 bytes. */
#define SIM_PASSWORD_MAX 1024
#define SIM_QUEUE_MAX 64
/* Classification mismatches reported one by one before only being counted. */
#define SIM_MISMATCH_REPORTS 5
/* Retries reported one by one before only being counted (events failing for
 * long are still reported every 20 attempts). */
#define SIM_RETRY_REPORTS 10
/* Withdrawn offers and ignored commands told one by one, then counted. */
#define SIM_ODDITY_REPORTS 5
/* About one answered call in SIM_DISPOSITION_EVERY gets a disposition at
 * wrap-up (never a category correction: the export must equal the plan). */
#define SIM_DISPOSITION_EVERY 10
#define SIM_DISPOSITION "resolved"
/* Connections of each 12345 platform, at most: orders are few. */
#define SIM_ORDER_CONNECTIONS 4

#define SIM_EXIT_OK 0
#define SIM_EXIT_FAILED 1
#define SIM_EXIT_USAGE 2

struct sim_options {
	const char *profile_path;
	double scale;
	uint64_t seed;
	const char *url;
	const char *secret_file;
	unsigned connections;
	int retry_for_s;
	int timeout_s;
	const char *zone;
	const char *expect_out;
	const char *format;
	bool progress;
	unsigned agents;
	const char *agent_prefix;
	const char *agent_password_file;
	int ring_delay_ms;
	int answer_timeout_s;
	const char *platform_secrets_file;
	const char *db;
	bool no_bookings;
	bool phone_by_gateway; /* --phone-bookings gateway */
	const char *out;       /* hospitals: the file to write */
};

struct sim;

enum sim_call_state {
	SIM_CALL_SENDING,       /* the current event is on its way or waits for its retry */
	SIM_CALL_AWAIT_CONNECT, /* the plan answers next: waiting for the broker's connect */
	SIM_CALL_RINGING,       /* connected to agent: answered when the ring is over */
	SIM_CALL_BOOKING,       /* answered: its phone booking is on its way */
};

/* A call in progress: its plan, and the event being sent or waiting to be
 * retried. Slots are preallocated and recycled; nothing is freed mid-run. */
struct sim_call {
	struct sim *sim;
	struct replay_call plan;
	enum sim_call_state state;
	size_t event; /* index of the current event in plan.events */
	char event_id[REPLAY_ID_MAX];
	char body[SIM_BODY_MAX];
	size_t body_len;
	struct simretry retry;
	/* retries (sending), the ring (ringing), the wait for the connect */
	struct event *timer;
	char agent[SIMAGENTS_ID_MAX];    /* who answered (or rings), then who talks */
	char to_agent[SIMAGENTS_ID_MAX]; /* the transfer's target */
	/* A connect that came while the call was sending (before its offer was
	 * acknowledged, or while its answer was on its way): used if needed. */
	char connect_agent[SIMAGENTS_ID_MAX];
	char queue[SIM_QUEUE_MAX]; /* the broker's queue, from the offer's answer */
	/* The phone booking the plan makes in this call, if any, and its body
	 * (formatted once: every retry sends the same bytes). */
	bool has_booking;
	bool booked;
	struct bookplan_booking booking;
	char booking_body[BOOKPLAN_JSON_MAX];
	size_t booking_len;
	struct sim_call *next_free;
};

/* The gateway's command stream of one centre. */
struct sim_gateway {
	struct sim *sim;
	size_t centre_index;
	struct ssec *stream;
	bool ever_connected;
};

struct sim {
	struct event_base *base;
	struct httpc *http;
	struct replay *plan;
	int retry_for_s;
	int ring_delay_ms;
	int answer_timeout_s;

	struct sim_call *slots;
	size_t n_slots;
	struct sim_call *free_slots;
	size_t active;
	struct strmap *calls; /* call id -> slot, for the commands */
	bool plan_exhausted;
	bool failed;
	bool interrupted;

	struct simagents *agents;
	struct simorders *orders; /* NULL without --platform-secrets */
	struct sim_gateway *gateways;
	size_t n_gateways;
	size_t gateways_connected;
	bool agents_ready;
	bool begun;     /* calls started */
	bool finishing; /* the calls are done: the agents log out */
	bool finished;  /* they did */

	struct event *progress_timer;
	struct event *startup_timer;
	struct event *sigint_event;
	struct event *sigterm_event;

	int64_t setup_usec;   /* monotonic: logins and streams began */
	int64_t started_usec; /* monotonic: calls began */
	int64_t planned_calls;
	uint64_t calls_done;
	uint64_t calls_abandoned;
	uint64_t events_ok;
	uint64_t events_replayed; /* answered with Idempotent-Replay: true */
	uint64_t retries;
	uint64_t mismatches;
	uint64_t connects;         /* connect commands that were answered */
	uint64_t connects_ignored; /* for calls not answered, or answered already */
	uint64_t offers_withdrawn; /* call.answered refused: the offer had moved on */
	uint64_t cancels;
	uint64_t overflows;
	uint64_t dials;
	uint64_t stream_drops; /* command streams lost and reconnected */
	uint64_t oddities;     /* told one by one up to SIM_ODDITY_REPORTS */

	/* Bookings: NULL plan when the profile has none or --no-bookings. */
	struct bookplan_ref *booking_ref;
	struct bookplan *bookings;
	struct bookplan_phone *phone;
	bool phone_by_gateway;
	bool bookings_skipped;                  /* --no-bookings with a profile that has some */
	struct simbookings_reference reference; /* what the hospitals load took */
	uint64_t phone_booked;                  /* taken by the broker */
	uint64_t phone_replayed;                /* of which it had already */
	uint64_t phone_retries;                 /* the gateway's; the agents' are the agents' */
	const char *db;
	const char *zone;
	struct simbookings *batches;
	struct event *batch_timer;
	bool batches_done;
	int64_t first_local_day; /* 1 January of the plan's year, days since 1970 */
	int released_day;        /* the batches released so far: through this day */
};

static void sim_usage(FILE *f)
{
	fputs("usage: hotline-sim expect --profile FILE [--scale S] [--format yaml|json]\n"
	      "       hotline-sim hospitals PROFILE [--out FILE]\n"
	      "       hotline-sim replay --profile FILE --url http://HOST:PORT\n"
	      "                          --agent-password-file FILE --db CONNINFO [options]\n"
	      "\n"
	      "expect     validate a year profile and print the scaled profile a replay at\n"
	      "           that scale must reproduce (what the year-end export must equal),\n"
	      "           bookings and platforms included\n"
	      "hospitals  write the hospitals file of doc/bookings.md for the profile's\n"
	      "           centre: its hospitals coded h001.. and platforms p001.. in the\n"
	      "           profile's ranks, each hospital with the common departments; the\n"
	      "           replay loads the same (the profile also with --profile FILE)\n"
	      "replay     play the gateway and the agents: send every planned call's events\n"
	      "           to the broker; its distributor offers the calls to the agents;\n"
	      "           the agents book during booking calls, and the other systems'\n"
	      "           bookings go into PostgreSQL as daily batches\n"
	      "\n"
	      "options:\n"
	      "  --profile FILE      a hotline-year-profile/1 YAML file\n"
	      "  --scale S           0 < S <= 1, default 0.01\n"
	      "  --format F          expect: yaml (default) or json\n"
	      "  --out FILE          hospitals: write there instead of stdout\n"
	      "  --seed N            replay: the plan's seed, default 1\n"
	      "  --url URL           replay: the broker, e.g. http://127.0.0.1:8320\n"
	      "  --secret-file F     replay: file holding auth.gateway_secret; else the\n"
	      "                      HOTLINE_GATEWAY_SECRET environment variable\n"
	      "  --connections N     replay: keep-alive connections, default 32\n"
	      "  --retry-for SEC     replay: how long one request may be retried, default 120\n"
	      "  --timeout SEC       replay: per request, default 30\n"
	      "  --tz ZONE           replay: the centre's local zone, default Asia/Shanghai\n"
	      "  --expect-out FILE   replay: also write the expected scaled profile there\n"
	      "  --progress          replay: a progress line on stderr every second\n"
	      "  --agents N          replay: agents per centre, 2 to 99999, default 8\n"
	      "  --agent-prefix P    replay: their ids are P001 .. PN, default sim-\n"
	      "  --agent-password-file F\n"
	      "                      replay: the pool's password (one line), required\n"
	      "  --ring-delay-ms MS  replay: an agent answers within MS of the connect,\n"
	      "                      default 20\n"
	      "  --answer-timeout SEC\n"
	      "                      replay: how long a call the plan answers may wait for\n"
	      "                      the broker's connect, default 120\n"
	      "  --platform-secrets F\n"
	      "                      replay: also post the centre's 12345 work orders, signed\n"
	      "                      with the platforms' secrets from F, one line each:\n"
	      "                        city_12345 SECRET\n"
	      "                        province_12345 SECRET\n"
	      "                      (the broker's workorders.file platforms); without it\n"
	      "                      no work order is posted\n"
	      "  --db CONNINFO       replay: the broker's PostgreSQL, required when the profile\n"
	      "                      lists hospitals: before the calls the centre's hospitals\n"
	      "                      file is loaded there, and during them each day's\n"
	      "                      online_12320, clinic and third_party bookings are imported\n"
	      "                      as one batch per source (COPY) once the next day's calls\n"
	      "                      begin, as those systems send them\n"
	      "  --phone-bookings WHO\n"
	      "                      replay: who posts the phone bookings made in booking calls:\n"
	      "                      agent (default: the agent on the call, with its token) or\n"
	      "                      gateway (signed, naming the agent, as an IVR would)\n"
	      "  --no-bookings       replay: replay no booking at all (the export will lack them)\n"
	      "\n"
	      "The agents of every centre of the plan must exist with every skill of the\n"
	      "broker's queues file, e.g. for each centre C:\n"
	      "  hotline-admin agent pool --centre C --count 8 --password-file F \\\n"
	      "      --skills crisis:5,complaint:5,booking:5,consultation:5,expert:5,survey:5,general:5\n"
	      "\n"
	      "Exit status: 0 success, 1 a replay that did not complete, 2 bad usage or\n"
	      "an invalid profile.\n",
	      f);
}

static int sim_parse_scale(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0.0 && v <= 1.0))
		return -1;
	*out = v;
	return 0;
}

static int sim_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

/* A whole number option in [min, max]; says what is wrong otherwise. */
static int sim_parse_bounded(const char *option, const char *value, uint64_t min, uint64_t max,
			     const char *unit, uint64_t *out)
{
	if (sim_parse_uint(value, max, out) != 0 || *out < min) {
		fprintf(stderr, "hotline-sim: --%s: \"%s\": use %" PRIu64 " to %" PRIu64 "%s\n",
			option, value, min, max, unit);
		return -1;
	}
	return 0;
}

/* Parses argv after the subcommand. Returns 0, or -1 after printing why. */
static int sim_parse_options(int argc, char **argv, struct sim_options *o)
{
	enum {
		OPT_PROFILE = 256,
		OPT_SCALE,
		OPT_FORMAT,
		OPT_SEED,
		OPT_URL,
		OPT_SECRET_FILE,
		OPT_CONNECTIONS,
		OPT_RETRY_FOR,
		OPT_TIMEOUT,
		OPT_TZ,
		OPT_EXPECT_OUT,
		OPT_PROGRESS,
		OPT_AGENTS,
		OPT_AGENT_PREFIX,
		OPT_AGENT_PASSWORD_FILE,
		OPT_RING_DELAY_MS,
		OPT_ANSWER_TIMEOUT,
		OPT_PLATFORM_SECRETS,
		OPT_DB,
		OPT_NO_BOOKINGS,
		OPT_PHONE_BOOKINGS,
		OPT_OUT,
	};
	static const struct option longopts[] = {
		{"profile", required_argument, NULL, OPT_PROFILE},
		{"scale", required_argument, NULL, OPT_SCALE},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"seed", required_argument, NULL, OPT_SEED},
		{"url", required_argument, NULL, OPT_URL},
		{"secret-file", required_argument, NULL, OPT_SECRET_FILE},
		{"connections", required_argument, NULL, OPT_CONNECTIONS},
		{"retry-for", required_argument, NULL, OPT_RETRY_FOR},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"tz", required_argument, NULL, OPT_TZ},
		{"expect-out", required_argument, NULL, OPT_EXPECT_OUT},
		{"progress", no_argument, NULL, OPT_PROGRESS},
		{"agents", required_argument, NULL, OPT_AGENTS},
		{"agent-prefix", required_argument, NULL, OPT_AGENT_PREFIX},
		{"agent-password-file", required_argument, NULL, OPT_AGENT_PASSWORD_FILE},
		{"ring-delay-ms", required_argument, NULL, OPT_RING_DELAY_MS},
		{"answer-timeout", required_argument, NULL, OPT_ANSWER_TIMEOUT},
		{"platform-secrets", required_argument, NULL, OPT_PLATFORM_SECRETS},
		{"db", required_argument, NULL, OPT_DB},
		{"no-bookings", no_argument, NULL, OPT_NO_BOOKINGS},
		{"phone-bookings", required_argument, NULL, OPT_PHONE_BOOKINGS},
		{"out", required_argument, NULL, OPT_OUT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t v;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_PROFILE:
			o->profile_path = optarg;
			break;
		case OPT_SCALE:
			if (sim_parse_scale(optarg, &o->scale) != 0) {
				fprintf(stderr,
					"hotline-sim: --scale: \"%s\" is not a number in (0, 1]\n",
					optarg);
				return -1;
			}
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "yaml") != 0 && strcmp(optarg, "json") != 0) {
				fprintf(stderr, "hotline-sim: --format: \"%s\": use yaml or json\n",
					optarg);
				return -1;
			}
			o->format = optarg;
			break;
		case OPT_SEED:
			if (sim_parse_uint(optarg, UINT64_MAX, &o->seed) != 0) {
				fprintf(stderr,
					"hotline-sim: --seed: \"%s\" is not a non-negative integer\n",
					optarg);
				return -1;
			}
			break;
		case OPT_URL:
			o->url = optarg;
			break;
		case OPT_SECRET_FILE:
			o->secret_file = optarg;
			break;
		case OPT_CONNECTIONS:
			if (sim_parse_bounded("connections", optarg, 1, 4096, "", &v) != 0)
				return -1;
			o->connections = (unsigned)v;
			break;
		case OPT_RETRY_FOR:
			if (sim_parse_bounded("retry-for", optarg, 0, 86400, " seconds", &v) != 0)
				return -1;
			o->retry_for_s = (int)v;
			break;
		case OPT_TIMEOUT:
			if (sim_parse_bounded("timeout", optarg, 1, 3600, " seconds", &v) != 0)
				return -1;
			o->timeout_s = (int)v;
			break;
		case OPT_TZ:
			o->zone = optarg;
			break;
		case OPT_EXPECT_OUT:
			o->expect_out = optarg;
			break;
		case OPT_PROGRESS:
			o->progress = true;
			break;
		case OPT_AGENTS:
			/* Two at least: a transferred call needs a second agent. */
			if (sim_parse_bounded("agents", optarg, 2, AGENTPOOL_MAX, " per centre",
					      &v) != 0)
				return -1;
			o->agents = (unsigned)v;
			break;
		case OPT_AGENT_PREFIX:
			o->agent_prefix = optarg;
			break;
		case OPT_AGENT_PASSWORD_FILE:
			o->agent_password_file = optarg;
			break;
		case OPT_RING_DELAY_MS:
			if (sim_parse_bounded("ring-delay-ms", optarg, 0, 10000, " ms", &v) != 0)
				return -1;
			o->ring_delay_ms = (int)v;
			break;
		case OPT_ANSWER_TIMEOUT:
			if (sim_parse_bounded("answer-timeout", optarg, 1, 86400, " seconds", &v) !=
			    0)
				return -1;
			o->answer_timeout_s = (int)v;
			break;
		case OPT_PLATFORM_SECRETS:
			o->platform_secrets_file = optarg;
			break;
		case OPT_DB:
			o->db = optarg;
			break;
		case OPT_NO_BOOKINGS:
			o->no_bookings = true;
			break;
		case OPT_PHONE_BOOKINGS:
			if (strcmp(optarg, "agent") != 0 && strcmp(optarg, "gateway") != 0) {
				fprintf(stderr,
					"hotline-sim: --phone-bookings: \"%s\": use agent or gateway\n",
					optarg);
				return -1;
			}
			o->phone_by_gateway = strcmp(optarg, "gateway") == 0;
			break;
		case OPT_OUT:
			o->out = optarg;
			break;
		case 'h':
			sim_usage(stdout);
			exit(SIM_EXIT_OK);
		default:
			sim_usage(stderr);
			return -1;
		}
	}
	/* hotline-sim hospitals PROFILE: the one positional argument there is. */
	if (optind < argc && strcmp(argv[0], "hospitals") == 0 && o->profile_path == NULL)
		o->profile_path = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "hotline-sim: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (o->profile_path == NULL) {
		fprintf(stderr, "hotline-sim: %s\n",
			strcmp(argv[0], "hospitals") == 0 ?
				"hospitals needs a profile: hotline-sim hospitals PROFILE" :
				"--profile FILE is required");
		return -1;
	}
	return 0;
}
/* Loads, validates and scales the profile. Returns the scaled profile, and
 * the profile as loaded in *original when it is not NULL, or NULL after
 * printing an error that names the file and field. */
static struct profile *sim_load_scaled(const char *path, double scale, struct profile **original)
{
	struct profile *p = NULL;
	struct profile *scaled = NULL;
	char err[2048];

	if (profile_load_file(path, &p, err, sizeof err) != 0) {
		fprintf(stderr, "hotline-sim: %s\n", err);
		goto done;
	}
	if (profile_validate(p, err, sizeof err) != 0) {
		fprintf(stderr, "hotline-sim: %s: %s\n", path, err);
		goto done;
	}
	scaled = profile_scale(p, scale);
	if (scaled == NULL) {
		fprintf(stderr, "hotline-sim: %s: cannot scale by %g (out of memory)\n", path,
			scale);
		goto done;
	}
	if (profile_validate(scaled, err, sizeof err) != 0) {
		fprintf(stderr, "hotline-sim: %s scaled by %g: %s\n", path, scale, err);
		profile_free(scaled);
		scaled = NULL;
	}
done:
	if (original != NULL && scaled != NULL) {
		*original = p;
		p = NULL;
	}
	profile_free(p);
	return scaled;
}

static int sim_expect(struct sim_options *o)
{
	struct profile *scaled = sim_load_scaled(o->profile_path, o->scale, NULL);
	int rc;

	if (scaled == NULL)
		return SIM_EXIT_USAGE;
	if (strcmp(o->format, "json") == 0)
		rc = profile_write_json(scaled, stdout);
	else
		rc = profile_write_yaml(scaled, stdout);
	if (rc == 0 && fflush(stdout) != 0)
		rc = -1;
	profile_free(scaled);
	if (rc != 0) {
		fprintf(stderr, "hotline-sim: writing the profile to stdout failed\n");
		return SIM_EXIT_FAILED;
	}
	return SIM_EXIT_OK;
}

/* hotline-sim hospitals: the reference data of the profile as loaded (its
 * codes do not depend on a scale), to stdout or --out. */
static int sim_hospitals(struct sim_options *o)
{
	struct profile *original = NULL;
	struct profile *scaled = sim_load_scaled(o->profile_path, 1.0, &original);
	struct bookplan_ref *ref = NULL;
	char err[1024];
	int rc = SIM_EXIT_USAGE;

	if (scaled == NULL)
		goto done;
	ref = bookplan_ref_new(original, err, sizeof err);
	if (ref == NULL) {
		fprintf(stderr, "hotline-sim: %s: %s\n", o->profile_path, err);
		goto done;
	}
	if (bookplan_ref_hospital_count(ref) == 0) {
		fprintf(stderr,
			"hotline-sim: %s lists no hospital (bookings.by_hospital), and a hospitals "
			"file lists at least one\n",
			o->profile_path);
		goto done;
	}
	FILE *f = o->out != NULL ? fopen(o->out, "w") : stdout;
	if (f == NULL) {
		fprintf(stderr, "hotline-sim: --out: cannot create %s: %s\n", o->out,
			strerror(errno));
		goto done;
	}
	int written = bookplan_ref_write_yaml(ref, original->profile, f);
	if ((f == stdout ? fflush(f) : fclose(f)) != 0 || written != 0) {
		fprintf(stderr, "hotline-sim: writing the hospitals file to %s failed\n",
			o->out != NULL ? o->out : "stdout");
		rc = SIM_EXIT_FAILED;
		goto done;
	}
	rc = SIM_EXIT_OK;
done:
	bookplan_ref_free(ref);
	profile_free(scaled);
	profile_free(original);
	return rc;
}

static int sim_write_expectation(const char *path, const struct profile *scaled)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "hotline-sim: --expect-out: cannot create %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	int rc = profile_write_yaml(scaled, f);
	if (fclose(f) != 0 || rc != 0) {
		fprintf(stderr, "hotline-sim: --expect-out: writing %s failed\n", path);
		return -1;
	}
	return 0;
}

/* Reads at most out_len - 1 bytes of path into out, NUL-terminated. Returns
 * the length, or -1 after saying what was wrong (option names the option). */
static long sim_read_small_file(const char *option, const char *path, char *out, size_t out_len)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "hotline-sim: --%s: cannot open %s: %s\n", option, path,
			strerror(errno));
		return -1;
	}
	size_t n = fread(out, 1, out_len - 1, f);
	bool too_long = n == out_len - 1 && fgetc(f) != EOF;
	fclose(f);
	out[n] = '\0';
	if (too_long) {
		sodium_memzero(out, out_len);
		fprintf(stderr, "hotline-sim: --%s: %s is longer than %zu bytes\n", option, path,
			out_len - 1);
		return -1;
	}
	return (long)n;
}

/* Reads the gateway secret: the file's content without trailing whitespace,
 * or the environment. Secrets never come from the command line, where any
 * user of the machine could read them. */
static int sim_read_secret(const char *path, char *out, size_t out_len)
{
	size_t n = 0;

	if (path != NULL) {
		long got = sim_read_small_file("secret-file", path, out, out_len);
		if (got < 0)
			return -1;
		n = (size_t)got;
	} else {
		const char *env = getenv("HOTLINE_GATEWAY_SECRET");
		if (env == NULL) {
			fprintf(stderr, "hotline-sim: no gateway secret: use --secret-file FILE or "
					"set HOTLINE_GATEWAY_SECRET\n");
			return -1;
		}
		n = strlen(env);
		if (n >= out_len) {
			fprintf(stderr, "hotline-sim: HOTLINE_GATEWAY_SECRET is too long\n");
			return -1;
		}
		memcpy(out, env, n + 1);
	}
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' ' ||
			 out[n - 1] == '\t'))
		out[--n] = '\0';
	if (n == 0) {
		fprintf(stderr, "hotline-sim: the gateway secret is empty\n");
		return -1;
	}
	return 0;
}

/* Reads the agents' password as hotline-admin reads a password file: its one
 * line without the final "\n" or "\r\n", spaces kept. */
static int sim_read_password(const char *path, char *out, size_t out_len)
{
	long got = sim_read_small_file("agent-password-file", path, out, out_len);
	if (got < 0)
		return -1;
	size_t n = (size_t)got;
	if (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '\r')
		out[--n] = '\0';
	if (n == 0 || memchr(out, '\n', n) != NULL || strlen(out) != n) {
		fprintf(stderr,
			"hotline-sim: --agent-password-file: %s must hold the password as its one "
			"line\n",
			path);
		return -1;
	}
	return 0;
}

static void sim_fill(struct sim *s);
static void sim_send(struct sim_call *call);

/* The other systems send a day's bookings the next day: once the calls of
 * a day start, the batches of the day before may go. */
static void sim_release_batches(struct sim *s, int64_t offered_usec)
{
	if (s->batches == NULL)
		return;
	int yesterday = (int)(timeutil_local_day(offered_usec) - s->first_local_day) - 1;
	if (yesterday > s->released_day) {
		s->released_day = yesterday;
		simbookings_release(s->batches, yesterday);
	}
}

static void sim_advance(struct sim_call *call);
static void sim_book(struct sim_call *call);

static void sim_stop(struct sim *s)
{
	event_base_loopbreak(s->base);
}

static void sim_fail(struct sim *s)
{
	s->failed = true;
	sim_stop(s);
}

static bool sim_tell_oddity(struct sim *s)
{
	return ++s->oddities <= SIM_ODDITY_REPORTS;
}

static void sim_call_set_state(struct sim_call *call, enum sim_call_state state)
{
	call->state = state;
	evtimer_del(call->timer);
}

static void sim_call_start_timer(struct sim_call *call, int64_t delay_ms)
{
	struct timeval tv = {.tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000};
	if (evtimer_add(call->timer, &tv) != 0) {
		fprintf(stderr, "hotline-sim: cannot start a timer for call %s\n",
			call->plan.call_id);
		sim_fail(call->sim);
	}
}

static void sim_release(struct sim_call *call)
{
	struct sim *s = call->sim;
	evtimer_del(call->timer);
	strmap_remove(s->calls, call->plan.call_id, strlen(call->plan.call_id));
	call->next_free = s->free_slots;
	s->free_slots = call;
	s->active--;
}

static const char *sim_or(const char *s, const char *fallback)
{
	return s != NULL ? s : fallback;
}

/* The event about to be sent, or being sent. */
static enum replay_event_type sim_call_event_type(const struct sim_call *call)
{
	return call->plan.events[call->event].type;
}

/* A 409 counts as success only when its body is the answer a 200 would have
 * carried: an object with our event and call ids and no error. */
static bool sim_is_identical_result(const struct sim_call *call, const struct httpc_response *r)
{
	json_t *root = json_loadb(r->body, r->body_len, 0, NULL);
	bool same = false;

	if (json_is_object(root) && json_object_get(root, "error") == NULL) {
		const char *ev = json_string_value(json_object_get(root, "event_id"));
		const char *id = json_string_value(json_object_get(root, "call_id"));
		same = ev != NULL && id != NULL && strcmp(ev, call->event_id) == 0 &&
		       strcmp(id, call->plan.call_id) == 0;
	}
	json_decref(root);
	return same;
}

/* The category the broker announces when it accepts the offer: the plan's,
 * except that a self-service call is only recategorised when it ends in the
 * IVR, so its offer is not checked. Keeps the queue for messages. */
static void sim_check_offer_answer(struct sim_call *call, const struct httpc_response *r)
{
	struct sim *s = call->sim;
	json_t *root = json_loadb(r->body, r->body_len, 0, NULL);

	snprintf(call->queue, sizeof call->queue, "%s",
		 sim_or(json_string_value(json_object_get(root, "queue")), "?"));
	const char *got = json_string_value(json_object_get(root, "category"));
	const char *want = category_name(call->plan.category);
	if (call->plan.outcome != REPLAY_OUTCOME_SELF_SERVICE && got != NULL &&
	    strcmp(got, want) != 0) {
		s->mismatches++;
		if (s->mismatches <= SIM_MISMATCH_REPORTS)
			fprintf(stderr,
				"hotline-sim: call %s (dialled %s, ivr_path \"%s\"%s) was classified "
				"%s, the plan says %s (rule %s)\n",
				call->plan.call_id, call->plan.dialled, call->plan.ivr_path,
				call->plan.recent_crisis ? ", recent_crisis" : "", got, want,
				sim_or(json_string_value(json_object_get(root, "rule")), "?"));
	}
	json_decref(root);
}

/* --- answering: connect, ring, call.answered ---------------------------------- */

/* The agent rings for a moment before answering: up to --ring-delay-ms,
 * spread over the calls by their index. */
static int64_t sim_ring_delay_ms(const struct sim_call *call)
{
	uint64_t spread = call->plan.index * UINT64_C(0x9e3779b97f4a7c15);
	return (int64_t)((spread >> 33) % (uint64_t)(call->sim->ring_delay_ms + 1));
}

static void sim_ring(struct sim_call *call, const char *agent)
{
	snprintf(call->agent, sizeof call->agent, "%s", agent);
	call->connect_agent[0] = '\0';
	simagents_offered(call->sim->agents, call->plan.centre_index, agent);
	sim_call_set_state(call, SIM_CALL_RINGING);
	sim_call_start_timer(call, sim_ring_delay_ms(call));
}

/* The next event is call.answered: it needs the agent from a connect. */
static void sim_await_connect(struct sim_call *call)
{
	if (call->connect_agent[0] != '\0') {
		char agent[SIMAGENTS_ID_MAX];
		snprintf(agent, sizeof agent, "%s", call->connect_agent);
		sim_ring(call, agent);
		return;
	}
	sim_call_set_state(call, SIM_CALL_AWAIT_CONNECT);
	sim_call_start_timer(call, (int64_t)call->sim->answer_timeout_s * 1000);
}

/* Whether the plan still has call.answered to send for this call (it is
 * being sent counts too). */
static bool sim_call_answer_pending(const struct sim_call *call)
{
	if (call->plan.outcome != REPLAY_OUTCOME_HANDLED)
		return false;
	for (size_t i = call->event; i < call->plan.n_events; i++)
		if (call->plan.events[i].type == REPLAY_EVENT_ANSWERED)
			return true;
	return false;
}

/* The broker picked agent for call_id: answer it, unless the plan does not
 * answer the call (abandoned, self-service: the broker cancels the offer
 * when the caller leaves) or it is answered already (a connect repeated
 * after the stream reconnected). */
static void sim_on_connect(struct sim *s, size_t centre_index, const char *call_id,
			   const char *agent)
{
	struct sim_call *call = strmap_get(s->calls, call_id, strlen(call_id));

	if (call == NULL || call->plan.centre_index != centre_index ||
	    !sim_call_answer_pending(call)) {
		s->connects_ignored++;
		return;
	}
	s->connects++;
	switch (call->state) {
	case SIM_CALL_AWAIT_CONNECT:
		sim_ring(call, agent);
		break;
	case SIM_CALL_RINGING:
		/* The same offer again, or a new one after a cancel we missed. */
		snprintf(call->agent, sizeof call->agent, "%s", agent);
		break;
	case SIM_CALL_SENDING:
		/* Its offer's answer has not come yet, or its call.answered is on
		 * its way: the latest connect is kept for when it is needed. */
		snprintf(call->connect_agent, sizeof call->connect_agent, "%s", agent);
		break;
	case SIM_CALL_BOOKING:
		/* Answered already: sim_call_answer_pending said no above. */
		break;
	}
}

/* The broker withdrew the offer of call_id to agent (ring timeout, caller
 * gone): forget it, and wait for the next connect if it was the one. */
static void sim_on_cancel(struct sim *s, const char *call_id, const char *agent)
{
	struct sim_call *call = strmap_get(s->calls, call_id, strlen(call_id));

	s->cancels++;
	if (call == NULL || agent == NULL)
		return;
	if (strcmp(call->connect_agent, agent) == 0)
		call->connect_agent[0] = '\0';
	if (call->state == SIM_CALL_RINGING && strcmp(call->agent, agent) == 0)
		sim_await_connect(call);
}

/* A call left its queue. Into another queue: its connect will come from
 * there. Back to the IVR or to a callback: the plan answers it, so the
 * export could not match; the run stops and says why. */
static void sim_on_overflow(struct sim *s, const char *call_id, const char *target)
{
	struct sim_call *call = strmap_get(s->calls, call_id, strlen(call_id));

	s->overflows++;
	if (call == NULL || !sim_call_answer_pending(call) || target == NULL ||
	    strcmp(target, "queue") == 0)
		return;
	fprintf(stderr,
		"hotline-sim: call %s of centre %s waited too long in queue %s and overflowed to "
		"%s, but the plan has an agent answer it; the export could not match the "
		"profile. Give the centres more agents (--agents, and as many in "
		"`hotline-admin agent pool --count`) or check that they are ready\n",
		call_id, call->plan.centre, call->queue, target);
	sim_fail(s);
}

/* --- sending events ---------------------------------------------------------------- */

/*
 * Decides what a failed attempt means. Transport failures, 5xx and 429 are
 * retried until the event has been failing for --retry-for seconds; the wait
 * is Retry-After when given, else 50 ms doubling up to 2 s.
 */
static void sim_retry_or_fail(struct sim_call *call, const struct httpc_response *r)
{
	struct sim *s = call->sim;
	const enum replay_event_type type = sim_call_event_type(call);
	char what[256];

	simretry_describe(r, what, sizeof what);
	if (!simretry_retryable(r)) {
		fprintf(stderr,
			"hotline-sim: event %s (%s of call %s, centre %s) was refused: %s: %.*s\n",
			call->event_id, replay_event_type_name(type), call->plan.call_id,
			call->plan.centre, what, simretry_body_len(r, 2000), r->body);
		sim_fail(s);
		return;
	}
	int64_t delay_ms = simretry_delay_ms(&call->retry, r, s->retry_for_s, simretry_now_usec());
	if (delay_ms < 0) {
		fprintf(stderr,
			"hotline-sim: event %s (%s of call %s) still failing after %d s of retries; "
			"last: %s%s%.*s\n",
			call->event_id, replay_event_type_name(type), call->plan.call_id,
			s->retry_for_s, what, r->body_len > 0 ? ": " : "",
			simretry_body_len(r, 2000), r->body);
		sim_fail(s);
		return;
	}
	s->retries++;
	/* The first few retries of the run are told; after that only events
	 * that keep failing, and the counts in the summary. */
	if (s->retries <= SIM_RETRY_REPORTS || call->retry.failures % 20 == 0)
		fprintf(stderr,
			"hotline-sim: event %s (%s of call %s): %s; retry %u in %" PRId64 " ms%s\n",
			call->event_id, replay_event_type_name(type), call->plan.call_id, what,
			call->retry.failures, delay_ms,
			s->retries == SIM_RETRY_REPORTS ? " (further retries are only counted)" :
							  "");
	sim_call_start_timer(call, delay_ms);
}

/* A 409 to call.answered that is not our own earlier answer: the offer moved
 * on (rung out, or the broker restarted without it). The call waits for the
 * next connect; the event id is reused, since the broker recorded nothing. */
static void sim_offer_withdrawn(struct sim_call *call, const struct httpc_response *r)
{
	struct sim *s = call->sim;

	s->offers_withdrawn++;
	if (sim_tell_oddity(s))
		fprintf(stderr,
			"hotline-sim: call.answered of call %s by %s was refused (%.*s); waiting for "
			"the next connect\n",
			call->plan.call_id, call->agent, simretry_body_len(r, 300), r->body);
	simretry_reset(&call->retry);
	sim_await_connect(call);
}

/* About one answered call in SIM_DISPOSITION_EVERY gets a disposition at
 * wrap-up, by the agent who answered it; the others none. */
static const char *sim_disposition(const struct sim_call *call)
{
	return call->plan.index % SIM_DISPOSITION_EVERY == 3 ? SIM_DISPOSITION : NULL;
}

/* What an accepted event means for the agents. */
static void sim_event_done(struct sim_call *call, const struct httpc_response *r)
{
	struct sim *s = call->sim;
	const size_t centre = call->plan.centre_index;

	switch (sim_call_event_type(call)) {
	case REPLAY_EVENT_OFFERED:
		sim_check_offer_answer(call, r);
		break;
	case REPLAY_EVENT_ANSWERED:
		simagents_call_answered(s->agents, centre, call->agent);
		break;
	case REPLAY_EVENT_TRANSFERRED:
		/* The answering agent's part ends here, and so its wrap-up. */
		simagents_call_transferred(s->agents, centre, call->agent, call->to_agent,
					   call->plan.call_id, sim_disposition(call));
		snprintf(call->agent, sizeof call->agent, "%s", call->to_agent);
		break;
	case REPLAY_EVENT_ENDED:
		/* A transferred call was wrapped up at its transfer; its target
		 * was never the distributor's (if the broker made it wrap up all
		 * the same, its stream says so and it goes ready from there). */
		if (call->plan.outcome == REPLAY_OUTCOME_HANDLED && call->plan.transfer_agent == 0)
			simagents_call_ended(s->agents, centre, call->agent, call->plan.call_id,
					     sim_disposition(call));
		break;
	case REPLAY_EVENT_IVR_COMPLETED:
	case REPLAY_EVENT_ABANDONED:
		break;
	}
}

/* httpc's callback for an event: advance the call, retry, or stop the run. */
static void sim_on_answer(const struct httpc_response *r, void *arg)
{
	struct sim_call *call = arg;
	struct sim *s = call->sim;

	if (s->failed || s->interrupted)
		return;
	bool ok = r->status == 200 || (r->status == 409 && sim_is_identical_result(call, r));
	if (!ok && r->status == 409 && sim_call_event_type(call) == REPLAY_EVENT_ANSWERED) {
		sim_offer_withdrawn(call, r);
		return;
	}
	if (!ok) {
		sim_retry_or_fail(call, r);
		return;
	}
	s->events_ok++;
	if (r->idempotent_replay)
		s->events_replayed++;
	sim_event_done(call, r);
	simretry_reset(&call->retry);
	const enum replay_event_type done = sim_call_event_type(call);
	call->event++;
	if (done == REPLAY_EVENT_ANSWERED && call->has_booking && !call->booked) {
		sim_book(call);
		return;
	}
	sim_advance(call);
}

/* The call's next event, or its end. */
static void sim_advance(struct sim_call *call)
{
	struct sim *s = call->sim;

	if (call->event < call->plan.n_events) {
		if (sim_call_event_type(call) == REPLAY_EVENT_ANSWERED)
			sim_await_connect(call);
		else
			sim_send(call);
		return;
	}
	s->calls_done++;
	if (call->plan.outcome == REPLAY_OUTCOME_ABANDONED)
		s->calls_abandoned++;
	sim_release(call);
	sim_fill(s);
}

/* --- phone bookings ------------------------------------------------------------------ */

/* The broker has the call's booking: the call goes on. */
static void sim_booked(struct sim_call *call, bool replayed)
{
	struct sim *s = call->sim;

	if (s->failed || s->interrupted)
		return;
	s->phone_booked++;
	if (replayed)
		s->phone_replayed++;
	call->booked = true;
	simretry_reset(&call->retry);
	sim_advance(call);
}

static void sim_on_agent_booked(void *arg, bool replayed)
{
	sim_booked(arg, replayed);
}

/* httpc's callback for a booking the gateway posts: 201 created, 200 had it
 * already; retried like an event; anything else stops the run. */
static void sim_on_booking_answer(const struct httpc_response *r, void *arg)
{
	struct sim_call *call = arg;
	struct sim *s = call->sim;
	char what[256];

	if (s->failed || s->interrupted)
		return;
	if (r->status == 201 || r->status == 200) {
		sim_booked(call, r->idempotent_replay);
		return;
	}
	simretry_describe(r, what, sizeof what);
	if (!simretry_retryable(r)) {
		fprintf(stderr,
			"hotline-sim: the phone booking %s in call %s (centre %s) was refused: %s: "
			"%.*s\nhotline-sim: the booking was: %.*s\n",
			call->booking.booking_no, call->plan.call_id, call->plan.centre, what,
			simretry_body_len(r, 2000), r->body, (int)call->booking_len,
			call->booking_body);
		sim_fail(s);
		return;
	}
	int64_t delay_ms = simretry_delay_ms(&call->retry, r, s->retry_for_s, simretry_now_usec());
	if (delay_ms < 0) {
		fprintf(stderr,
			"hotline-sim: the phone booking %s in call %s still failing after %d s of "
			"retries; last: %s%s%.*s\n",
			call->booking.booking_no, call->plan.call_id, s->retry_for_s, what,
			r->body_len > 0 ? ": " : "", simretry_body_len(r, 2000), r->body);
		sim_fail(s);
		return;
	}
	s->phone_retries++;
	if (s->phone_retries <= SIM_RETRY_REPORTS)
		fprintf(stderr, "hotline-sim: booking %s of call %s: %s; retry in %" PRId64 " ms\n",
			call->booking.booking_no, call->plan.call_id, what, delay_ms);
	sim_call_start_timer(call, delay_ms);
}

/*
 * The call was answered and the plan books in it: the agent on the call
 * posts the booking with its token (or the gateway, signed, naming that
 * agent), and the call's next event waits until the broker has it, so that
 * the booking is made while the call is on, as its booked_at says.
 */
static void sim_book(struct sim_call *call)
{
	struct sim *s = call->sim;
	int rc;

	sim_call_set_state(call, SIM_CALL_BOOKING);
	if (call->booking_len == 0) {
		int n = bookplan_format_json(s->bookings, &call->booking,
					     s->phone_by_gateway ? call->plan.centre : NULL,
					     s->phone_by_gateway ? call->agent : NULL,
					     call->booking_body, sizeof call->booking_body);
		if (n < 0) {
			fprintf(stderr,
				"hotline-sim: the booking of call %s does not fit in %d bytes\n",
				call->plan.call_id, BOOKPLAN_JSON_MAX);
			sim_fail(s);
			return;
		}
		call->booking_len = (size_t)n;
	}
	if (s->phone_by_gateway)
		rc = httpc_post_json(s->http, SIM_BOOKINGS_PATH, call->booking_body,
				     call->booking_len, sim_on_booking_answer, call);
	else
		rc = simagents_post_booking(s->agents, call->plan.centre_index, call->agent,
					    call->plan.call_id, call->booking_body,
					    call->booking_len, sim_on_agent_booked, call);
	if (rc != 0 && !s->failed) {
		fprintf(stderr, "hotline-sim: cannot post the booking of call %s by %s%s\n",
			call->plan.call_id, s->phone_by_gateway ? "the gateway" : "agent ",
			s->phone_by_gateway ? "" : call->agent);
		sim_fail(s);
	}
}

/* Formats the current event: the plan's, with the agents of the pool. */
static int sim_format(struct sim_call *call)
{
	struct sim *s = call->sim;

	if (sim_call_event_type(call) == REPLAY_EVENT_TRANSFERRED &&
	    simagents_transfer_target(s->agents, call->plan.centre_index, call->agent,
				      call->plan.transfer_agent, call->to_agent) != 0) {
		fprintf(stderr,
			"hotline-sim: call %s is transferred, and its centre has no other "
			"agent to take it\n",
			call->plan.call_id);
		return -1;
	}
	int n = replay_format_event_as(&call->plan, call->event, call->agent, call->to_agent,
				       call->body, sizeof call->body);
	if (n < 0) {
		fprintf(stderr, "hotline-sim: event %zu of call %s does not fit in %d bytes\n",
			call->event + 1, call->plan.call_id, SIM_BODY_MAX);
		return -1;
	}
	call->body_len = (size_t)n;
	replay_event_id(&call->plan, call->event, call->event_id);
	return 0;
}

/* Sends (or resends) the call's current event; the body is formatted once
 * per event so that every retry carries the same bytes. */
static void sim_send(struct sim_call *call)
{
	struct sim *s = call->sim;

	sim_call_set_state(call, SIM_CALL_SENDING);
	if (call->retry.failures == 0 && sim_format(call) != 0) {
		sim_fail(s);
		return;
	}
	int rc = httpc_post_json(s->http, SIM_EVENTS_PATH, call->body, call->body_len,
				 sim_on_answer, call);
	if (rc != 0) {
		fprintf(stderr, "hotline-sim: cannot queue event %s: %s\n", call->event_id,
			strerror(-rc));
		sim_fail(s);
	}
}

static void sim_on_call_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sim_call *call = arg;
	struct sim *s = call->sim;

	if (s->failed)
		return;
	switch (call->state) {
	case SIM_CALL_SENDING: /* the wait before a retry is over */
	case SIM_CALL_RINGING: /* the agent picks up */
		sim_send(call);
		break;
	case SIM_CALL_BOOKING: /* the wait before the gateway's booking is retried */
		sim_book(call);
		break;
	case SIM_CALL_AWAIT_CONNECT:
		fprintf(stderr,
			"hotline-sim: call %s of centre %s has waited %d s in queue %s without a "
			"connect: no agent of the pool took it. Are the agents logged in and ready, "
			"with the skill that queue needs (conf/queues.yaml)?\n",
			call->plan.call_id, call->plan.centre, s->answer_timeout_s, call->queue);
		sim_fail(s);
		break;
	}
}

/* Starts planned calls while slots are free; once the plan is exhausted and
 * the last call finished, the agents log out. */
static void sim_fill(struct sim *s)
{
	while (!s->failed && !s->plan_exhausted && s->free_slots != NULL) {
		struct sim_call *call = s->free_slots;
		if (!replay_next(s->plan, &call->plan)) {
			s->plan_exhausted = true;
			if (s->batches != NULL)
				simbookings_release(s->batches, INT_MAX);
			break;
		}
		sim_release_batches(s, call->plan.offered_usec);
		s->free_slots = call->next_free;
		s->active++;
		call->event = 0;
		call->agent[0] = call->to_agent[0] = call->connect_agent[0] = '\0';
		/* Every call goes past the phone iterator, in plan order, so that
		 * it picks exactly the planned number of booking calls. */
		call->has_booking = s->phone != NULL &&
				    bookplan_phone_next(s->phone, &call->plan, &call->booking);
		call->booked = false;
		call->booking_len = 0;
		snprintf(call->queue, sizeof call->queue, "?");
		simretry_reset(&call->retry);
		if (strmap_put(s->calls, call->plan.call_id, strlen(call->plan.call_id), call) !=
		    0) {
			fprintf(stderr, "hotline-sim: out of memory\n");
			sim_fail(s);
			return;
		}
		sim_send(call);
	}
	if (s->plan_exhausted && s->active == 0 && !s->finishing && !s->failed) {
		s->finishing = true;
		simagents_finish(s->agents);
	}
}

/* --- the command streams -------------------------------------------------------------- */

static void sim_on_command(const char *event, const char *data, size_t len, void *arg)
{
	struct sim_gateway *gw = arg;
	struct sim *s = gw->sim;

	if (s->failed || s->interrupted)
		return;
	json_t *o = json_loadb(data, len, 0, NULL);
	const char *call_id = json_string_value(json_object_get(o, "call_id"));
	const char *agent = json_string_value(json_object_get(o, "agent"));
	if (strcmp(event, "connect") == 0 && call_id != NULL && agent != NULL) {
		sim_on_connect(s, gw->centre_index, call_id, agent);
	} else if (strcmp(event, "cancel") == 0 && call_id != NULL) {
		sim_on_cancel(s, call_id, agent);
	} else if (strcmp(event, "overflow") == 0 && call_id != NULL) {
		sim_on_overflow(s, call_id, json_string_value(json_object_get(o, "target")));
	} else if (strcmp(event, "dial") == 0) {
		/* The callback's call is between the agent and the caller; the
		 * agent's side (accept, finish) is simagents.c's. */
		s->dials++;
	} else if (strcmp(event, "connect") == 0 || strcmp(event, "cancel") == 0 ||
		   strcmp(event, "overflow") == 0) {
		if (sim_tell_oddity(s))
			fprintf(stderr, "hotline-sim: a %s command without its fields: %.200s\n",
				event, data);
	}
	json_decref(o);
}

static void sim_begin(struct sim *s);

static void sim_on_command_stream(enum ssec_state state, const char *detail, void *arg)
{
	struct sim_gateway *gw = arg;
	struct sim *s = gw->sim;
	const char *centre = replay_centre_code(s->plan, gw->centre_index);

	switch (state) {
	case SSEC_CONNECTED:
		if (!gw->ever_connected) {
			gw->ever_connected = true;
			s->gateways_connected++;
			sim_begin(s);
		}
		break;
	case SSEC_DISCONNECTED:
		s->stream_drops++;
		break;
	case SSEC_UNAUTHORISED:
		fprintf(stderr,
			"hotline-sim: the broker refused the command stream of centre %s (%s): is "
			"the gateway secret the broker's auth.gateway_secret?\n",
			centre, detail);
		sim_fail(s);
		break;
	}
}

static int sim_open_command_streams(struct sim *s, const char *url, const char *secret)
{
	char path[sizeof SIM_COMMANDS_PATH + 64], err[512];
	const struct ssec_auth auth = {SSEC_AUTH_SIGNED, secret};

	s->n_gateways = replay_centre_count(s->plan);
	s->gateways = calloc(s->n_gateways, sizeof *s->gateways);
	if (s->gateways == NULL) {
		fprintf(stderr, "hotline-sim: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < s->n_gateways; i++) {
		struct sim_gateway *gw = &s->gateways[i];
		gw->sim = s;
		gw->centre_index = i;
		/* Centre codes are of [a-z0-9_-] (replay_new checked): no escaping. */
		snprintf(path, sizeof path, "%s%s", SIM_COMMANDS_PATH,
			 replay_centre_code(s->plan, i));
		gw->stream = ssec_new(s->base, url, path, &auth, sim_on_command,
				      sim_on_command_stream, gw, err, sizeof err);
		if (gw->stream == NULL) {
			fprintf(stderr, "hotline-sim: --url: %s\n", err);
			return -1;
		}
	}
	return 0;
}

/* --- start and end --------------------------------------------------------------------- */

static void sim_end_if_done(struct sim *s);

/* The loop looks at the batches' thread: done, or failed with a reason. */
static void sim_on_batch_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sim *s = arg;
	char err[1200];

	switch (simbookings_poll(s->batches, NULL, err, sizeof err)) {
	case SIMBOOKINGS_RUNNING:
		break;
	case SIMBOOKINGS_FAILED:
		event_del(s->batch_timer);
		fprintf(stderr, "hotline-sim: bookings: %s\n", err);
		sim_fail(s);
		break;
	case SIMBOOKINGS_DONE:
		event_del(s->batch_timer);
		s->batches_done = true;
		sim_end_if_done(s);
		break;
	}
}

/* The other systems' daily batches start with the calls, on their thread. */
static int sim_start_batches(struct sim *s)
{
	struct simbookings_options bo = {
		.conninfo = s->db,
		.zone = s->zone,
		.plan = s->bookings,
		.retry_for_s = s->retry_for_s,
	};
	struct timeval every = {0, SIM_BATCH_POLL_MS * 1000};
	char err[512];

	s->batch_timer = event_new(s->base, -1, EV_PERSIST, sim_on_batch_timer, s);
	if (s->batch_timer == NULL || evtimer_add(s->batch_timer, &every) != 0) {
		fprintf(stderr, "hotline-sim: cannot start the booking batches' timer\n");
		return -1;
	}
	s->batches = simbookings_start(&bo, err, sizeof err);
	if (s->batches == NULL) {
		fprintf(stderr, "hotline-sim: bookings: %s\n", err);
		return -1;
	}
	return 0;
}

/* Calls start once every agent is ready and every command stream is open. */
static void sim_begin(struct sim *s)
{
	if (s->begun || s->failed || !s->agents_ready || s->gateways_connected < s->n_gateways)
		return;
	s->begun = true;
	evtimer_del(s->startup_timer);
	s->started_usec = simretry_now_usec();
	if (s->orders != NULL)
		simorders_start(s->orders);
	if (s->bookings != NULL && sim_start_batches(s) != 0) {
		sim_fail(s);
		return;
	}
	sim_fill(s);
}

static void sim_on_agents_ready(void *arg)
{
	struct sim *s = arg;
	s->agents_ready = true;
	sim_begin(s);
}

/* The run ends once the agents have logged out after the last call, every
 * work order was taken in and every day's booking batches were imported,
 * whichever comes last. */
static void sim_end_if_done(struct sim *s)
{
	if (s->finished && (s->orders == NULL || simorders_done(s->orders)) &&
	    (s->bookings == NULL || s->batches_done))
		sim_stop(s);
}

static void sim_on_agents_finished(void *arg)
{
	struct sim *s = arg;
	s->finished = true;
	sim_end_if_done(s);
}

static void sim_on_orders_finished(void *arg)
{
	sim_end_if_done(arg);
}

static void sim_on_agents_failed(void *arg)
{
	sim_fail(arg);
}

static void sim_on_orders_failed(void *arg)
{
	sim_fail(arg);
}

static bool sim_call_in_progress(const char *call_id, void *arg)
{
	struct sim *s = arg;
	return strmap_get(s->calls, call_id, strlen(call_id)) != NULL;
}

/* The agents and streams did not come up within --retry-for: say which. */
static void sim_on_startup_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct sim *s = arg;
	char agents[512];

	simagents_describe_waiting(s->agents, agents, sizeof agents);
	for (size_t i = 0; i < s->n_gateways; i++) {
		const struct sim_gateway *gw = &s->gateways[i];
		if (!gw->ever_connected) {
			fprintf(stderr,
				"hotline-sim: the command stream of centre %s did not open in %d s: "
				"%s\n",
				replay_centre_code(s->plan, i), s->retry_for_s,
				ssec_err(gw->stream) != 0 ? ssec_errstr(gw->stream) : "no answer");
			break;
		}
	}
	fprintf(stderr, "hotline-sim: not started after %d s: %s\n", s->retry_for_s, agents);
	sim_fail(s);
}

static void sim_print_progress(const struct sim *s, FILE *f)
{
	int64_t since = s->begun ? s->started_usec : s->setup_usec;
	double elapsed = (double)(simretry_now_usec() - since) / 1e6;
	struct simagents_counts a;

	char orders[64] = "";
	if (s->orders != NULL) {
		struct simorders_counts oc;
		simorders_counts(s->orders, &oc);
		snprintf(orders, sizeof orders, ", %" PRIu64 "/%zu work orders", oc.posted,
			 oc.planned);
	}
	char bookings[128] = "";
	if (s->bookings != NULL) {
		struct simbookings_counts bc = {0};
		if (s->batches != NULL)
			simbookings_poll(s->batches, &bc, NULL, 0);
		snprintf(bookings, sizeof bookings,
			 ", %" PRIu64 "/%" PRId64 " phone bookings, %" PRId64 "/%" PRId64
			 " bookings in batches",
			 s->phone_booked, bookplan_planned(s->bookings, PROFILE_CHANNEL_PHONE),
			 bc.imported,
			 bookplan_planned_total(s->bookings) -
				 bookplan_planned(s->bookings, PROFILE_CHANNEL_PHONE));
	}
	simagents_counts(s->agents, &a);
	fprintf(f,
		"hotline-sim: %" PRIu64 "/%" PRId64 " calls, %" PRIu64 " events, %.0f events/s, "
		"%" PRIu64 " retries, %u/%u agents logged in, %" PRIu64
		" callbacks%s%s, %.1f s%s\n",
		s->calls_done, s->planned_calls, s->events_ok,
		elapsed > 0 ? (double)s->events_ok / elapsed : 0.0, s->retries, a.logged_in,
		a.agents, a.callbacks, orders, bookings, elapsed,
		s->begun ? "" : " (logging the agents in)");
}

static void sim_on_progress(evutil_socket_t fd, short what, void *arg)
{
	sim_print_progress(arg, stderr);
}

static void sim_on_signal(evutil_socket_t fd, short what, void *arg)
{
	struct sim *s = arg;
	fprintf(stderr, "hotline-sim: interrupted, stopping\n");
	s->interrupted = true;
	sim_stop(s);
}

/* Every agent keeps a stream open, and each centre a command stream: raise
 * the limit on open files to what that needs, within the hard limit. */
static int sim_raise_file_limit(const struct sim_options *o, size_t n_centres)
{
	struct rlimit rl;
	/* The 64 spare cover the booking batches' connection too. */
	rlim_t need = (rlim_t)o->connections + (rlim_t)n_centres * (o->agents + 1) +
		      (rlim_t)REPLAY_ORDER_SOURCES * SIM_ORDER_CONNECTIONS + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		fprintf(stderr,
			"hotline-sim: %zu centres of %u agents and %u connections need %llu open "
			"files; the limit is %llu (ulimit -n)\n",
			n_centres, o->agents, o->connections, (unsigned long long)need,
			(unsigned long long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		fprintf(stderr, "hotline-sim: cannot raise the limit on open files to %llu: %s\n",
			(unsigned long long)need, strerror(errno));
		return -1;
	}
	return 0;
}

static void sim_free(struct sim *s)
{
	/* The batches' thread first: it reads the bookings plan. */
	simbookings_free(s->batches);
	if (s->batch_timer != NULL)
		event_free(s->batch_timer);
	/* The pools next: their requests point at calls, agents and orders. */
	httpc_free(s->http);
	simorders_free(s->orders);
	for (size_t i = 0; s->gateways != NULL && i < s->n_gateways; i++)
		ssec_free(s->gateways[i].stream);
	free(s->gateways);
	simagents_free(s->agents);
	for (size_t i = 0; s->slots != NULL && i < s->n_slots; i++)
		if (s->slots[i].timer != NULL)
			event_free(s->slots[i].timer);
	free(s->slots);
	strmap_free(s->calls);
	if (s->progress_timer != NULL)
		event_free(s->progress_timer);
	if (s->startup_timer != NULL)
		event_free(s->startup_timer);
	if (s->sigint_event != NULL)
		event_free(s->sigint_event);
	if (s->sigterm_event != NULL)
		event_free(s->sigterm_event);
	bookplan_phone_free(s->phone);
	bookplan_free(s->bookings);
	bookplan_ref_free(s->booking_ref);
	replay_free(s->plan);
	if (s->base != NULL)
		event_base_free(s->base);
}

/* The work orders' line of the summary: what was posted, or why none was. */
static void sim_print_orders_summary(const struct sim *s)
{
	const int64_t city = replay_planned_orders(s->plan, REPLAY_ORDER_CITY);
	const int64_t province = replay_planned_orders(s->plan, REPLAY_ORDER_PROVINCE);
	const char *centre = replay_centre_code(s->plan, 0);
	struct simorders_counts c;

	if (city + province == 0) {
		printf("hotline-sim: work orders: the profile plans none\n");
		return;
	}
	if (s->orders == NULL) {
		printf("hotline-sim: work orders: NOT posted (no --platform-secrets): the "
		       "profile plans %" PRId64 " for centre %s (city_12345 %" PRId64
		       ", province_12345 %" PRId64 "), which the export will lack\n",
		       city + province, centre, city, province);
		return;
	}
	simorders_counts(s->orders, &c);
	printf("hotline-sim: work orders: posted %" PRIu64
	       " of %zu for centre %s (city_12345 %" PRIu64 " of %" PRId64
	       ", province_12345 %" PRIu64 " of %" PRId64 "), %" PRIu64 " new, %" PRIu64
	       " taken in before, %" PRIu64 " retries\n",
	       c.posted, c.planned, centre, c.posted_by_source[REPLAY_ORDER_CITY], city,
	       c.posted_by_source[REPLAY_ORDER_PROVINCE], province, c.created, c.replayed,
	       c.retries);
}

/* The bookings' lines of the summary: what was booked and imported, or why
 * nothing was. */
static void sim_print_bookings_summary(const struct sim *s, const struct profile *scaled)
{
	const char *centre = replay_centre_code(s->plan, 0);

	if (s->bookings_skipped) {
		printf("hotline-sim: bookings: NOT replayed (--no-bookings): the profile plans "
		       "%" PRId64 " for centre %s (phone %" PRId64 ", online_12320 %" PRId64
		       ", clinic %" PRId64 ", third_party %" PRId64
		       "), which the export will lack\n",
		       scaled->bookings_total_all, centre,
		       scaled->bookings_total[PROFILE_CHANNEL_PHONE],
		       scaled->bookings_total[PROFILE_CHANNEL_ONLINE_12320],
		       scaled->bookings_total[PROFILE_CHANNEL_CLINIC],
		       scaled->bookings_total[PROFILE_CHANNEL_THIRD_PARTY]);
		return;
	}
	if (s->bookings == NULL) {
		printf("hotline-sim: bookings: the profile has none\n");
		return;
	}
	const struct bookplan *b = s->bookings;
	struct simbookings_counts bc = {0};
	if (s->batches != NULL)
		simbookings_poll(s->batches, &bc, NULL, 0);
	printf("hotline-sim: bookings: hospitals file of centre %s loaded: %zu hospitals, %zu "
	       "departments, %zu platforms\n",
	       centre, s->reference.hospitals, s->reference.departments, s->reference.platforms);
	printf("hotline-sim: bookings: phone: posted %" PRIu64 " of %" PRId64
	       " by the %s in booking calls, %" PRIu64 " new, %" PRIu64 " taken in before",
	       s->phone_booked, bookplan_planned(b, PROFILE_CHANNEL_PHONE),
	       s->phone_by_gateway ? "gateway" : "agents", s->phone_booked - s->phone_replayed,
	       s->phone_replayed);
	if (s->phone_by_gateway)
		printf(", %" PRIu64 " retries", s->phone_retries);
	printf("\n");
	printf("hotline-sim: bookings: batches: imported %" PRId64 " of %" PRId64 " in %" PRId64
	       " daily batches (online_12320 %" PRId64 " of %" PRId64 ", clinic %" PRId64
	       " of %" PRId64 ", third_party %" PRId64 " of %" PRId64 "), %" PRId64 " new, %" PRId64
	       " already there, %" PRId64 " naming a platform (of %" PRId64 "), %" PRId64
	       " retries\n",
	       bc.imported, bc.planned, bc.batches,
	       bc.imported_by_channel[PROFILE_CHANNEL_ONLINE_12320],
	       bookplan_planned(b, PROFILE_CHANNEL_ONLINE_12320),
	       bc.imported_by_channel[PROFILE_CHANNEL_CLINIC],
	       bookplan_planned(b, PROFILE_CHANNEL_CLINIC),
	       bc.imported_by_channel[PROFILE_CHANNEL_THIRD_PARTY],
	       bookplan_planned(b, PROFILE_CHANNEL_THIRD_PARTY), bc.inserted, bc.replayed,
	       bc.platforms, bookplan_planned_platforms(b), bc.retries);
}

static void sim_print_summary(const struct sim *s, const struct profile *scaled, bool complete)
{
	double elapsed = s->begun ? (double)(simretry_now_usec() - s->started_usec) / 1e6 : 0.0;
	struct simagents_counts a;

	printf("hotline-sim: %s %" PRIu64 " of %" PRId64 " calls (%" PRIu64 " accepted, %" PRIu64
	       " abandoned) in %zu centres, %" PRIu64 " events (%" PRIu64
	       " idempotent replays), %" PRIu64 " retries, %.1f s, %.0f events/s\n",
	       complete ? "replayed" : "INCOMPLETE:", s->calls_done, s->planned_calls,
	       s->calls_done - s->calls_abandoned, s->calls_abandoned, replay_centre_count(s->plan),
	       s->events_ok, s->events_replayed, s->retries, elapsed,
	       elapsed > 0 ? (double)s->events_ok / elapsed : 0.0);
	simagents_counts(s->agents, &a);
	printf("hotline-sim: agents: %u in %zu centres (%u still logged in), %" PRIu64
	       " calls answered, %" PRIu64 " transferred, %" PRIu64 " dispositions, %" PRIu64
	       " callbacks handled, %" PRIu64 " back from no_answer, %" PRIu64
	       " logins; commands: %" PRIu64 " connects (%" PRIu64 " ignored), %" PRIu64
	       " offers withdrawn, %" PRIu64 " cancels, %" PRIu64 " overflows, %" PRIu64
	       " dials; %" PRIu64 " agent retries, %" PRIu64 " agent requests moot, %" PRIu64
	       " stream drops\n",
	       a.agents, replay_centre_count(s->plan), a.logged_in, a.calls, a.transfers,
	       a.dispositions, a.callbacks, a.no_answer, a.logins, s->connects, s->connects_ignored,
	       s->offers_withdrawn, s->cancels, s->overflows, s->dials, a.retries, a.refused,
	       s->stream_drops);
	sim_print_orders_summary(s);
	sim_print_bookings_summary(s, scaled);
	if (s->mismatches > 0)
		printf("hotline-sim: %" PRIu64 " calls were classified differently from the plan; "
		       "the export will not match\n",
		       s->mismatches);
}

/* The loop's events: a timer per call slot, the signals, the progress line,
 * the startup deadline. Returns 0, or -1 after saying why. */
static int sim_setup_events(struct sim *s, const struct sim_options *o)
{
	for (size_t i = s->n_slots; i-- > 0;) {
		struct sim_call *call = &s->slots[i];
		call->sim = s;
		call->timer = evtimer_new(s->base, sim_on_call_timer, call);
		if (call->timer == NULL) {
			fprintf(stderr, "hotline-sim: out of memory\n");
			return -1;
		}
		call->next_free = s->free_slots;
		s->free_slots = call;
	}
	s->sigint_event = evsignal_new(s->base, SIGINT, sim_on_signal, s);
	s->sigterm_event = evsignal_new(s->base, SIGTERM, sim_on_signal, s);
	if (s->sigint_event == NULL || s->sigterm_event == NULL ||
	    evsignal_add(s->sigint_event, NULL) != 0 || evsignal_add(s->sigterm_event, NULL) != 0) {
		fprintf(stderr, "hotline-sim: cannot install signal handlers\n");
		return -1;
	}
	struct timeval startup = {.tv_sec = o->retry_for_s > 0 ? o->retry_for_s : 1, .tv_usec = 0};
	s->startup_timer = evtimer_new(s->base, sim_on_startup_timeout, s);
	if (s->startup_timer == NULL || evtimer_add(s->startup_timer, &startup) != 0) {
		fprintf(stderr, "hotline-sim: cannot start the startup timer\n");
		return -1;
	}
	if (o->progress) {
		struct timeval second = {.tv_sec = 1, .tv_usec = 0};
		s->progress_timer = event_new(s->base, -1, EV_PERSIST, sim_on_progress, s);
		if (s->progress_timer == NULL || evtimer_add(s->progress_timer, &second) != 0) {
			fprintf(stderr, "hotline-sim: cannot start the progress timer\n");
			return -1;
		}
	}
	return 0;
}

/* The bookings of the replay: none when the profile lists no hospital
 * (then it books nothing, and a hospitals file must list one); else the
 * plan, and the centre's hospitals file loaded into --db, which the profile
 * then needs (or --no-bookings). Returns 0, or -1 after saying why (usage
 * when *usage). */
static int sim_setup_bookings(struct sim *s, const struct sim_options *o,
			      const struct profile *original, const struct profile *scaled,
			      bool *usage)
{
	char err[1024];

	*usage = true;
	if (!scaled->has_bookings || scaled->n_hospitals == 0)
		return 0;
	if (o->no_bookings) {
		s->bookings_skipped = true;
		return 0;
	}
	if (o->db == NULL) {
		fprintf(stderr,
			"hotline-sim: %s has bookings (%" PRId64 " at scale %g): replay needs --db "
			"CONNINFO, the broker's PostgreSQL, where the centre's hospitals file is "
			"loaded and the other systems' daily batches are imported (or "
			"--no-bookings to replay without them)\n",
			o->profile_path, scaled->bookings_total_all, o->scale);
		return -1;
	}
	s->booking_ref = bookplan_ref_new(original, err, sizeof err);
	if (s->booking_ref != NULL)
		s->bookings = bookplan_new(s->booking_ref, scaled, o->seed, err, sizeof err);
	if (s->bookings != NULL)
		s->phone = bookplan_phone_new(s->bookings, s->plan, err, sizeof err);
	if (s->phone == NULL) {
		fprintf(stderr, "hotline-sim: %s: %s\n", o->profile_path, err);
		return -1;
	}
	s->db = o->db;
	s->zone = o->zone;
	s->first_local_day = timeutil_local_day(timeutil_local_midnight(scaled->year, 1, 1));
	s->released_day = -1;
	s->phone_by_gateway = o->phone_by_gateway;
	*usage = false;
	if (simbookings_load_reference(o->db, o->zone, s->booking_ref, original->profile,
				       &s->reference, err, sizeof err) != 0) {
		fprintf(stderr, "hotline-sim: bookings: %s\n", err);
		return -1;
	}
	return 0;
}

static int sim_replay(struct sim_options *o)
{
	struct profile *original = NULL;
	struct profile *scaled = NULL;
	struct event_config *cfg = NULL;
	struct sim s = {0};
	struct simorders_secrets platform_secrets;
	char secret[SIM_SECRET_MAX];
	char password[SIM_PASSWORD_MAX + 3]; /* its line, "\r\n" and the NUL */
	char err[1024];
	const char **centres = NULL;
	int rc = SIM_EXIT_USAGE;

	secret[0] = password[0] = '\0';
	memset(&platform_secrets, 0, sizeof platform_secrets);
	if (o->url == NULL) {
		fprintf(stderr, "hotline-sim: replay needs --url http://HOST:PORT\n");
		goto done;
	}
	if (o->agent_password_file == NULL) {
		fprintf(stderr,
			"hotline-sim: replay needs --agent-password-file FILE, the password "
			"the agent pools were provisioned with (hotline-admin agent pool)\n");
		goto done;
	}
	if (timeutil_set_zone(o->zone) != 0) {
		fprintf(stderr,
			"hotline-sim: --tz: \"%s\" is not a time zone known to this system\n",
			o->zone);
		goto done;
	}
	if (sim_read_secret(o->secret_file, secret, sizeof secret) != 0 ||
	    sim_read_password(o->agent_password_file, password, sizeof password) != 0)
		goto done;
	if (o->platform_secrets_file != NULL &&
	    simorders_read_secrets(o->platform_secrets_file, &platform_secrets, err, sizeof err) !=
		    0) {
		fprintf(stderr, "hotline-sim: --platform-secrets: %s\n", err);
		goto done;
	}
	if (auth_init() != 0) {
		fprintf(stderr, "hotline-sim: cannot initialise libsodium\n");
		rc = SIM_EXIT_FAILED;
		goto done;
	}
	scaled = sim_load_scaled(o->profile_path, o->scale, &original);
	if (scaled == NULL)
		goto done;
	s.plan = replay_new(scaled, o->seed, err, sizeof err);
	if (s.plan == NULL) {
		fprintf(stderr, "hotline-sim: %s: %s\n", o->profile_path, err);
		goto done;
	}
	bool usage;
	if (sim_setup_bookings(&s, o, original, scaled, &usage) != 0) {
		rc = usage ? SIM_EXIT_USAGE : SIM_EXIT_FAILED;
		goto done;
	}
	if (o->expect_out != NULL && sim_write_expectation(o->expect_out, scaled) != 0)
		goto done;
	if (sim_raise_file_limit(o, replay_centre_count(s.plan)) != 0)
		goto done;

	rc = SIM_EXIT_FAILED;
	/* evhttp switches a connection's read and write events on and off
	 * several times per request; the changelist turns those into at most
	 * one epoll_ctl per descriptor per loop pass. */
	cfg = event_config_new();
	if (cfg == NULL || event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) != 0) {
		fprintf(stderr, "hotline-sim: cannot configure the event loop\n");
		goto done;
	}
	s.base = event_base_new_with_config(cfg);
	if (s.base == NULL) {
		fprintf(stderr, "hotline-sim: cannot create the event loop\n");
		goto done;
	}
	s.http = httpc_new(s.base, o->url, secret, o->connections, o->timeout_s * 1000, err,
			   sizeof err);
	if (s.http == NULL) {
		fprintf(stderr, "hotline-sim: %s\n", err);
		rc = SIM_EXIT_USAGE;
		goto done;
	}
	s.retry_for_s = o->retry_for_s;
	s.ring_delay_ms = o->ring_delay_ms;
	s.answer_timeout_s = o->answer_timeout_s;
	s.planned_calls = replay_planned_calls(s.plan);
	/* Two calls per connection keep every connection busy while some calls
	 * wait between a failure and its retry, or for their connect. */
	s.n_slots = (size_t)o->connections * 2;
	s.slots = calloc(s.n_slots, sizeof *s.slots);
	s.calls = strmap_new();
	centres = calloc(replay_centre_count(s.plan), sizeof *centres);
	if (s.slots == NULL || s.calls == NULL || centres == NULL) {
		fprintf(stderr, "hotline-sim: out of memory\n");
		goto done;
	}
	for (size_t i = 0; i < replay_centre_count(s.plan); i++)
		centres[i] = replay_centre_code(s.plan, i);
	struct simagents_options ao = {
		.base = s.base,
		.http = s.http,
		.url = o->url,
		.centres = centres,
		.n_centres = replay_centre_count(s.plan),
		.per_centre = o->agents,
		.prefix = o->agent_prefix,
		.password = password,
		.retry_for_s = o->retry_for_s,
		.hooks = {.failed = sim_on_agents_failed,
			  .all_ready = sim_on_agents_ready,
			  .finished = sim_on_agents_finished,
			  .call_in_progress = sim_call_in_progress,
			  .arg = &s},
	};
	s.agents = simagents_new(&ao, err, sizeof err);
	sodium_memzero(password, sizeof password);
	if (s.agents == NULL) {
		fprintf(stderr, "hotline-sim: %s\n", err);
		rc = SIM_EXIT_USAGE;
		goto done;
	}
	if (o->platform_secrets_file != NULL) {
		struct simorders_options so = {
			.base = s.base,
			.url = o->url,
			.plan = s.plan,
			.secrets = &platform_secrets,
			.connections = o->connections < SIM_ORDER_CONNECTIONS ?
					       o->connections :
					       SIM_ORDER_CONNECTIONS,
			.timeout_ms = o->timeout_s * 1000,
			.retry_for_s = o->retry_for_s,
			.hooks = {.failed = sim_on_orders_failed,
				  .finished = sim_on_orders_finished,
				  .arg = &s},
		};
		s.orders = simorders_new(&so, err, sizeof err);
		sodium_memzero(&platform_secrets, sizeof platform_secrets);
		if (s.orders == NULL) {
			fprintf(stderr, "hotline-sim: %s\n", err);
			rc = SIM_EXIT_USAGE;
			goto done;
		}
	}
	if (sim_open_command_streams(&s, o->url, secret) != 0)
		goto done;
	sodium_memzero(secret, sizeof secret);
	if (sim_setup_events(&s, o) != 0)
		goto done;

	s.setup_usec = simretry_now_usec();
	simagents_start(s.agents);
	event_base_dispatch(s.base);

	bool complete =
		!s.failed && !s.interrupted && s.plan_exhausted && s.active == 0 && s.finished &&
		(s.orders == NULL || simorders_done(s.orders)) &&
		(s.bookings == NULL ||
		 (s.batches_done &&
		  s.phone_booked == (uint64_t)bookplan_planned(s.bookings, PROFILE_CHANNEL_PHONE)));
	sim_print_summary(&s, scaled, complete);
	fflush(stdout);
	rc = complete ? SIM_EXIT_OK : SIM_EXIT_FAILED;

done:
	sodium_memzero(secret, sizeof secret);
	sodium_memzero(password, sizeof password);
	sodium_memzero(&platform_secrets, sizeof platform_secrets);
	sim_free(&s);
	free(centres);
	if (cfg != NULL)
		event_config_free(cfg);
	profile_free(scaled);
	profile_free(original);
	return rc;
}

int main(int argc, char **argv)
{
	struct sim_options o = {
		.scale = SIM_DEFAULT_SCALE,
		.seed = 1,
		.connections = 32,
		.retry_for_s = 120,
		.timeout_s = 30,
		.zone = SIM_DEFAULT_ZONE,
		.format = "yaml",
		.agents = 8,
		.agent_prefix = "sim-",
		.ring_delay_ms = 20,
		.answer_timeout_s = 120,
	};

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		sim_usage(stderr);
		return SIM_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		sim_usage(stdout);
		return SIM_EXIT_OK;
	}
	const char *command = argv[1];
	if (strcmp(command, "expect") != 0 && strcmp(command, "replay") != 0 &&
	    strcmp(command, "hospitals") != 0) {
		fprintf(stderr, "hotline-sim: unknown command \"%s\"\n", command);
		sim_usage(stderr);
		return SIM_EXIT_USAGE;
	}
	if (sim_parse_options(argc - 1, argv + 1, &o) != 0)
		return SIM_EXIT_USAGE;
	if (strcmp(command, "expect") == 0)
		return sim_expect(&o);
	if (strcmp(command, "hospitals") == 0)
		return sim_hospitals(&o);
	return sim_replay(&o);
}
