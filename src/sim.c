/* sim.c: hotline-sim, the gateway simulator: prints the scaled profile a
 * replay expects, and replays a year profile through POST /v1/calls/events.
 *
 * The plan (replay.c) fixes every call and event; this file only drives it:
 * a bounded set of calls in progress, each sending its events in order, one
 * request at a time, over a pool of keep-alive connections (httpc.c). The
 * interleaving depends on timing; what is sent does not.
 *
 * Retry policy: a connection failure, a timeout or a 5xx (and 429) is retried
 * with the same event id and the same body, after Retry-After when the broker
 * gives one, else with exponential backoff, for at most --retry-for seconds
 * per event. Any other answer than 200 is fatal and reported with its body,
 * except a 409 whose body is the very result a 200 would carry.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "auth.h"
#include "category.h"
#include "httpc.h"
#include "profile.h"
#include "replay.h"
#include "timeutil.h"

#define SIM_EVENTS_PATH "/v1/calls/events"
#define SIM_BODY_MAX 1024
#define SIM_DEFAULT_SCALE 0.01
#define SIM_DEFAULT_ZONE "Asia/Shanghai"
#define SIM_SECRET_MAX 4096
#define SIM_BACKOFF_FIRST_MS 50
#define SIM_BACKOFF_MAX_MS 2000
/* Classification mismatches reported one by one before only being counted. */
#define SIM_MISMATCH_REPORTS 5
/* Retries reported one by one before only being counted (events failing for
 * long are still reported every 20 attempts). */
#define SIM_RETRY_REPORTS 10

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
};

struct sim;

/* A call in progress: its plan, and the event being sent or waiting to be
 * retried. Slots are preallocated and recycled; nothing is freed mid-run. */
struct sim_call {
	struct sim *sim;
	struct replay_call plan;
	size_t event; /* index of the current event in plan.events */
	char event_id[REPLAY_ID_MAX];
	char body[SIM_BODY_MAX];
	size_t body_len;
	unsigned failures;          /* failed attempts of the current event */
	int64_t first_failure_usec; /* monotonic; 0 while the event has not failed */
	struct event *retry_timer;
	struct sim_call *next_free;
};

struct sim {
	struct event_base *base;
	struct httpc *http;
	struct replay *plan;
	int retry_for_s;

	struct sim_call *slots;
	size_t n_slots;
	struct sim_call *free_slots;
	size_t active;
	bool plan_exhausted;
	bool failed;
	bool interrupted;

	struct event *progress_timer;
	struct event *sigint_event;
	struct event *sigterm_event;

	int64_t started_usec; /* monotonic */
	int64_t planned_calls;
	uint64_t calls_done;
	uint64_t calls_abandoned;
	uint64_t events_ok;
	uint64_t events_replayed; /* answered with Idempotent-Replay: true */
	uint64_t retries;
	uint64_t mismatches;
};

static int64_t sim_monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sim_usage(FILE *f)
{
	fputs("usage: hotline-sim expect --profile FILE [--scale S] [--format yaml|json]\n"
	      "       hotline-sim replay --profile FILE --url http://HOST:PORT [options]\n"
	      "\n"
	      "expect   validate a year profile and print the scaled profile a replay at\n"
	      "         that scale must reproduce (what the year-end export must equal)\n"
	      "replay   play the gateway: send every planned call's events to the broker\n"
	      "\n"
	      "options:\n"
	      "  --profile FILE      a hotline-year-profile/1 YAML file\n"
	      "  --scale S           0 < S <= 1, default 0.01\n"
	      "  --format F          expect: yaml (default) or json\n"
	      "  --seed N            replay: the plan's seed, default 1\n"
	      "  --url URL           replay: the broker, e.g. http://127.0.0.1:8320\n"
	      "  --secret-file F     replay: file holding auth.gateway_secret; else the\n"
	      "                      HOTLINE_GATEWAY_SECRET environment variable\n"
	      "  --connections N     replay: keep-alive connections, default 32\n"
	      "  --retry-for SEC     replay: how long one event may be retried, default 120\n"
	      "  --timeout SEC       replay: per request, default 30\n"
	      "  --tz ZONE           replay: the centre's local zone, default Asia/Shanghai\n"
	      "  --expect-out FILE   replay: also write the expected scaled profile there\n"
	      "  --progress          replay: a progress line on stderr every second\n"
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
		OPT_PROGRESS
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
			if (sim_parse_uint(optarg, 4096, &v) != 0 || v == 0) {
				fprintf(stderr,
					"hotline-sim: --connections: \"%s\": use 1 to 4096\n",
					optarg);
				return -1;
			}
			o->connections = (unsigned)v;
			break;
		case OPT_RETRY_FOR:
			if (sim_parse_uint(optarg, 86400, &v) != 0) {
				fprintf(stderr,
					"hotline-sim: --retry-for: \"%s\": use 0 to 86400 seconds\n",
					optarg);
				return -1;
			}
			o->retry_for_s = (int)v;
			break;
		case OPT_TIMEOUT:
			if (sim_parse_uint(optarg, 3600, &v) != 0 || v == 0) {
				fprintf(stderr,
					"hotline-sim: --timeout: \"%s\": use 1 to 3600 seconds\n",
					optarg);
				return -1;
			}
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
		case 'h':
			sim_usage(stdout);
			exit(SIM_EXIT_OK);
		default:
			sim_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hotline-sim: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (o->profile_path == NULL) {
		fprintf(stderr, "hotline-sim: --profile FILE is required\n");
		return -1;
	}
	return 0;
}

/* Loads, validates and scales the profile. Returns the scaled profile, or
 * NULL after printing an error that names the file and field. */
static struct profile *sim_load_scaled(const char *path, double scale)
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
	profile_free(p);
	return scaled;
}

static int sim_expect(struct sim_options *o)
{
	struct profile *scaled = sim_load_scaled(o->profile_path, o->scale);
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

/* Reads the gateway secret: the file's content without trailing whitespace,
 * or the environment. Secrets never come from the command line, where any
 * user of the machine could read them. */
static int sim_read_secret(const char *path, char *out, size_t out_len)
{
	size_t n = 0;

	if (path != NULL) {
		FILE *f = fopen(path, "r");
		if (f == NULL) {
			fprintf(stderr, "hotline-sim: --secret-file: cannot open %s: %s\n", path,
				strerror(errno));
			return -1;
		}
		n = fread(out, 1, out_len - 1, f);
		bool too_long = n == out_len - 1 && fgetc(f) != EOF;
		fclose(f);
		if (too_long) {
			fprintf(stderr, "hotline-sim: --secret-file: %s is longer than %zu bytes\n",
				path, out_len - 1);
			return -1;
		}
		out[n] = '\0';
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

static void sim_fill(struct sim *s);
static void sim_send(struct sim_call *call);

static void sim_stop(struct sim *s)
{
	event_base_loopbreak(s->base);
}

static void sim_fail(struct sim *s)
{
	s->failed = true;
	sim_stop(s);
}

static void sim_release(struct sim_call *call)
{
	struct sim *s = call->sim;
	call->next_free = s->free_slots;
	s->free_slots = call;
	s->active--;
}

static const char *sim_or(const char *s, const char *fallback)
{
	return s != NULL ? s : fallback;
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
 * IVR, so its offer is not checked. */
static void sim_check_offer_answer(struct sim_call *call, const struct httpc_response *r)
{
	struct sim *s = call->sim;

	if (call->plan.outcome == REPLAY_OUTCOME_SELF_SERVICE)
		return;
	json_t *root = json_loadb(r->body, r->body_len, 0, NULL);
	const char *got = json_string_value(json_object_get(root, "category"));
	const char *want = category_name(call->plan.category);
	if (got != NULL && strcmp(got, want) != 0) {
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

static void sim_on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sim_call *call = arg;
	if (!call->sim->failed)
		sim_send(call);
}

/*
 * Decides what a failed attempt means. Transport failures, 5xx and 429 are
 * retried until the event has been failing for --retry-for seconds; the wait
 * is Retry-After when given, else 50 ms doubling up to 2 s.
 */
static void sim_retry_or_fail(struct sim_call *call, const struct httpc_response *r)
{
	struct sim *s = call->sim;
	const struct replay_event *ev = &call->plan.events[call->event];
	const bool retryable = r->status == 0 || r->status >= 500 || r->status == 429;
	const int64_t now = sim_monotonic_usec();
	char what[256];

	if (r->status == 0)
		snprintf(what, sizeof what, "%s", r->failure != NULL ? r->failure : "no response");
	else
		snprintf(what, sizeof what, "HTTP %d", r->status);

	if (!retryable) {
		fprintf(stderr,
			"hotline-sim: event %s (%s of call %s, centre %s) was refused: %s: %.*s\n",
			call->event_id, replay_event_type_name(ev->type), call->plan.call_id,
			call->plan.centre, what, (int)(r->body_len > 2000 ? 2000 : r->body_len),
			r->body);
		sim_fail(s);
		return;
	}
	if (call->first_failure_usec == 0)
		call->first_failure_usec = now;
	int64_t failing_ms = (now - call->first_failure_usec) / 1000;
	int64_t budget_ms = (int64_t)s->retry_for_s * 1000 - failing_ms;
	if (budget_ms <= 0) {
		fprintf(stderr,
			"hotline-sim: event %s (%s of call %s) still failing after %d s of retries; "
			"last: %s%s%.*s\n",
			call->event_id, replay_event_type_name(ev->type), call->plan.call_id,
			s->retry_for_s, what, r->body_len > 0 ? ": " : "",
			(int)(r->body_len > 2000 ? 2000 : r->body_len), r->body);
		sim_fail(s);
		return;
	}
	int64_t delay_ms;
	if (r->retry_after_s >= 0) {
		delay_ms = (int64_t)r->retry_after_s * 1000;
	} else {
		unsigned shift = call->failures < 6 ? call->failures : 6;
		delay_ms = (int64_t)SIM_BACKOFF_FIRST_MS << shift;
		if (delay_ms > SIM_BACKOFF_MAX_MS)
			delay_ms = SIM_BACKOFF_MAX_MS;
	}
	if (delay_ms > budget_ms)
		delay_ms = budget_ms;
	call->failures++;
	s->retries++;
	/* The first few retries of the run are told; after that only events
	 * that keep failing, and the counts in the summary. */
	if (s->retries <= SIM_RETRY_REPORTS || call->failures % 20 == 0)
		fprintf(stderr,
			"hotline-sim: event %s (%s of call %s): %s; retry %u in %" PRId64 " ms%s\n",
			call->event_id, replay_event_type_name(ev->type), call->plan.call_id, what,
			call->failures, delay_ms,
			s->retries == SIM_RETRY_REPORTS ? " (further retries are only counted)" :
							  "");
	struct timeval tv = {.tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000};
	if (evtimer_add(call->retry_timer, &tv) != 0) {
		fprintf(stderr, "hotline-sim: cannot schedule a retry of event %s\n",
			call->event_id);
		sim_fail(s);
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
	if (!ok) {
		sim_retry_or_fail(call, r);
		return;
	}
	s->events_ok++;
	if (r->idempotent_replay)
		s->events_replayed++;
	if (call->plan.events[call->event].type == REPLAY_EVENT_OFFERED)
		sim_check_offer_answer(call, r);
	call->failures = 0;
	call->first_failure_usec = 0;
	call->event++;
	if (call->event < call->plan.n_events) {
		sim_send(call);
		return;
	}
	s->calls_done++;
	if (call->plan.outcome == REPLAY_OUTCOME_ABANDONED)
		s->calls_abandoned++;
	sim_release(call);
	sim_fill(s);
}

/* Sends (or resends) the call's current event; the body is formatted once
 * per event so that every retry carries the same bytes. */
static void sim_send(struct sim_call *call)
{
	struct sim *s = call->sim;

	if (call->failures == 0) {
		int n = replay_format_event(&call->plan, call->event, call->body,
					    sizeof call->body);
		if (n < 0) {
			fprintf(stderr,
				"hotline-sim: event %zu of call %s does not fit in %d bytes\n",
				call->event + 1, call->plan.call_id, SIM_BODY_MAX);
			sim_fail(s);
			return;
		}
		call->body_len = (size_t)n;
		replay_event_id(&call->plan, call->event, call->event_id);
	}
	int rc = httpc_post_json(s->http, SIM_EVENTS_PATH, call->body, call->body_len,
				 sim_on_answer, call);
	if (rc != 0) {
		fprintf(stderr, "hotline-sim: cannot queue event %s: %s\n", call->event_id,
			strerror(-rc));
		sim_fail(s);
	}
}

/* Starts planned calls while slots are free; ends the loop when the plan is
 * exhausted and the last call finished. */
static void sim_fill(struct sim *s)
{
	while (!s->failed && !s->plan_exhausted && s->free_slots != NULL) {
		struct sim_call *call = s->free_slots;
		if (!replay_next(s->plan, &call->plan)) {
			s->plan_exhausted = true;
			break;
		}
		s->free_slots = call->next_free;
		s->active++;
		call->event = 0;
		call->failures = 0;
		call->first_failure_usec = 0;
		sim_send(call);
	}
	if (s->plan_exhausted && s->active == 0)
		sim_stop(s);
}

static void sim_print_progress(const struct sim *s, FILE *f)
{
	double elapsed = (double)(sim_monotonic_usec() - s->started_usec) / 1e6;
	fprintf(f,
		"hotline-sim: %" PRIu64 "/%" PRId64 " calls, %" PRIu64 " events, %.0f events/s, "
		"%" PRIu64 " retries, %.1f s\n",
		s->calls_done, s->planned_calls, s->events_ok,
		elapsed > 0 ? (double)s->events_ok / elapsed : 0.0, s->retries, elapsed);
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

static void sim_free(struct sim *s)
{
	for (size_t i = 0; s->slots != NULL && i < s->n_slots; i++)
		if (s->slots[i].retry_timer != NULL)
			event_free(s->slots[i].retry_timer);
	free(s->slots);
	if (s->progress_timer != NULL)
		event_free(s->progress_timer);
	if (s->sigint_event != NULL)
		event_free(s->sigint_event);
	if (s->sigterm_event != NULL)
		event_free(s->sigterm_event);
	httpc_free(s->http);
	replay_free(s->plan);
	if (s->base != NULL)
		event_base_free(s->base);
}

static int sim_replay(struct sim_options *o)
{
	struct profile *scaled = NULL;
	struct event_config *cfg = NULL;
	struct sim s = {0};
	char secret[SIM_SECRET_MAX];
	char err[1024];
	int rc = SIM_EXIT_USAGE;

	if (o->url == NULL) {
		fprintf(stderr, "hotline-sim: replay needs --url http://HOST:PORT\n");
		goto done;
	}
	if (timeutil_set_zone(o->zone) != 0) {
		fprintf(stderr,
			"hotline-sim: --tz: \"%s\" is not a time zone known to this system\n",
			o->zone);
		goto done;
	}
	if (sim_read_secret(o->secret_file, secret, sizeof secret) != 0)
		goto done;
	if (auth_init() != 0) {
		fprintf(stderr, "hotline-sim: cannot initialise libsodium\n");
		rc = SIM_EXIT_FAILED;
		goto done;
	}
	scaled = sim_load_scaled(o->profile_path, o->scale);
	if (scaled == NULL)
		goto done;
	s.plan = replay_new(scaled, o->seed, err, sizeof err);
	if (s.plan == NULL) {
		fprintf(stderr, "hotline-sim: %s: %s\n", o->profile_path, err);
		goto done;
	}
	if (o->expect_out != NULL && sim_write_expectation(o->expect_out, scaled) != 0)
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
	sodium_memzero(secret, sizeof secret);
	if (s.http == NULL) {
		fprintf(stderr, "hotline-sim: %s\n", err);
		rc = SIM_EXIT_USAGE;
		goto done;
	}
	s.retry_for_s = o->retry_for_s;
	s.planned_calls = replay_planned_calls(s.plan);
	/* Two calls per connection keep every connection busy while some calls
	 * wait between a failure and its retry. */
	s.n_slots = (size_t)o->connections * 2;
	s.slots = calloc(s.n_slots, sizeof *s.slots);
	if (s.slots == NULL) {
		fprintf(stderr, "hotline-sim: out of memory\n");
		goto done;
	}
	for (size_t i = s.n_slots; i-- > 0;) {
		struct sim_call *call = &s.slots[i];
		call->sim = &s;
		call->retry_timer = evtimer_new(s.base, sim_on_retry_timer, call);
		if (call->retry_timer == NULL) {
			fprintf(stderr, "hotline-sim: out of memory\n");
			goto done;
		}
		call->next_free = s.free_slots;
		s.free_slots = call;
	}
	s.sigint_event = evsignal_new(s.base, SIGINT, sim_on_signal, &s);
	s.sigterm_event = evsignal_new(s.base, SIGTERM, sim_on_signal, &s);
	if (s.sigint_event == NULL || s.sigterm_event == NULL ||
	    evsignal_add(s.sigint_event, NULL) != 0 || evsignal_add(s.sigterm_event, NULL) != 0) {
		fprintf(stderr, "hotline-sim: cannot install signal handlers\n");
		goto done;
	}
	if (o->progress) {
		struct timeval second = {.tv_sec = 1, .tv_usec = 0};
		s.progress_timer = event_new(s.base, -1, EV_PERSIST, sim_on_progress, &s);
		if (s.progress_timer == NULL || evtimer_add(s.progress_timer, &second) != 0) {
			fprintf(stderr, "hotline-sim: cannot start the progress timer\n");
			goto done;
		}
	}

	s.started_usec = sim_monotonic_usec();
	sim_fill(&s);
	if (!(s.plan_exhausted && s.active == 0) && !s.failed)
		event_base_dispatch(s.base);

	double elapsed = (double)(sim_monotonic_usec() - s.started_usec) / 1e6;
	bool complete = !s.failed && !s.interrupted && s.plan_exhausted && s.active == 0;
	printf("hotline-sim: %s %" PRIu64 " of %" PRId64 " calls (%" PRIu64 " accepted, %" PRIu64
	       " abandoned) in %zu centres, %" PRIu64 " events (%" PRIu64
	       " idempotent replays), %" PRIu64 " retries, %.1f s, %.0f events/s; "
	       "bookings and work orders are not replayed yet (later features)\n",
	       complete ? "replayed" : "INCOMPLETE:", s.calls_done, s.planned_calls,
	       s.calls_done - s.calls_abandoned, s.calls_abandoned, replay_centre_count(s.plan),
	       s.events_ok, s.events_replayed, s.retries, elapsed,
	       elapsed > 0 ? (double)s.events_ok / elapsed : 0.0);
	if (s.mismatches > 0)
		printf("hotline-sim: %" PRIu64 " calls were classified differently from the plan; "
		       "the export will not match\n",
		       s.mismatches);
	fflush(stdout);
	rc = complete ? SIM_EXIT_OK : SIM_EXIT_FAILED;

done:
	sodium_memzero(secret, sizeof secret);
	sim_free(&s);
	if (cfg != NULL)
		event_config_free(cfg);
	profile_free(scaled);
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
	if (strcmp(command, "expect") != 0 && strcmp(command, "replay") != 0) {
		fprintf(stderr, "hotline-sim: unknown command \"%s\"\n", command);
		sim_usage(stderr);
		return SIM_EXIT_USAGE;
	}
	if (sim_parse_options(argc - 1, argv + 1, &o) != 0)
		return SIM_EXIT_USAGE;
	if (strcmp(command, "expect") == 0)
		return sim_expect(&o);
	return sim_replay(&o);
}
