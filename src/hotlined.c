/* hotlined.c: the broker's main: config, signals, the event loop. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "auth.h"
#include "classifier.h"
#include "config.h"
#include "http.h"
#include "ingest.h"
#include "queues.h"
#include "workorder.h"
#include "log.h"
#include "metrics.h"
#include "timeutil.h"

struct broker {
	struct event_base *base;
	char *config_path;
	struct config *cfg;
	struct classifier *classifier;
	struct queues_file *queues; /* until ingest_new takes it over */
	struct wo_config *workorders; /* likewise */
	struct metrics metrics;
	struct ingest *ingest;
	struct http_front *http;
	struct event *ev_hup, *ev_term, *ev_int, *ev_drain;
	int64_t drain_deadline;
};

static void broker_usage(FILE *f)
{
	fputs("usage: hotlined --config FILE [--check]\n"
	      "\n"
	      "  --config FILE   the broker's YAML config (see conf/hotline.yaml)\n"
	      "  --check         validate the config and the rules it names, then exit\n"
	      "  --print-defaults  print every config key with its default\n"
	      "\n"
	      "Signals: SIGHUP reloads the config and rules and re-reads the centres;\n"
	      "SIGTERM/SIGINT stop after the events in flight are committed (10 s at most).\n",
	      f);
}

/* Loads config and rules; on success the caller owns both. */
static int broker_load(const char *path, struct config **cfg_out, struct classifier **cls_out)
{
	char err[1024];
	struct config *cfg = NULL;
	struct classifier *cls = NULL;
	enum log_level level;

	if (config_load_file(path, &cfg, err, sizeof err) != 0) {
		log_error("config", "%s", err);
		return -1;
	}
	if (classifier_load_file(cfg->classifier_rules_file, &cls, err, sizeof err) != 0) {
		log_error("config", "%s", err);
		config_free(cfg);
		return -1;
	}
	if (log_parse_level(cfg->log_level, &level) == 0)
		log_threshold = level;
	*cfg_out = cfg;
	*cls_out = cls;
	return 0;
}

static void broker_on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct broker *b = arg;
	struct config *cfg = NULL;
	struct classifier *cls = NULL;
	char err[512];

	log_info("broker", "SIGHUP: reloading %s", b->config_path);
	if (broker_load(b->config_path, &cfg, &cls) != 0) {
		log_error("broker", "reload refused; the running config stays");
		return;
	}
	err[0] = '\0';
	if (config_check_reload(b->cfg, cfg, err, sizeof err) != 0 ||
	    http_front_set_config(b->http, cfg) != 0) {
		if (err[0] == '\0')
			snprintf(err, sizeof err, "out of memory");
		log_error("broker", "reload refused: %s; the running config stays", err);
		config_free(cfg);
		classifier_free(cls);
		return;
	}
	ingest_set_config(b->ingest, cfg, cls);
	classifier_free(b->classifier);
	config_free(b->cfg);
	b->cfg = cfg;
	b->classifier = cls;
	ingest_refresh_centres(b->ingest);
	log_info("broker", "reloaded: %zu classification rule(s)", classifier_rule_count(cls));
}

static void broker_on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct broker *b = arg;
	size_t backlog = ingest_store_backlog(b->ingest);

	if (backlog == 0 || timeutil_now_usec() > b->drain_deadline) {
		if (backlog > 0)
			log_warn("broker", "stopping with %zu event(s) not committed (not acknowledged)",
				 backlog);
		/* The last answers sit in connection buffers until the loop writes
		 * them: give it a moment before stopping. */
		struct timeval flush = {0, 200000};
		event_base_loopexit(b->base, &flush);
		return;
	}
	struct timeval tv = {0, 20000};
	evtimer_add(b->ev_drain, &tv);
}

static void broker_on_term(evutil_socket_t sig, short what, void *arg)
{
	struct broker *b = arg;
	log_info("broker", "signal %d: stopping after the events in flight", (int)sig);
	http_front_close(b->http);
	ingest_close_streams(b->ingest);
	b->drain_deadline = timeutil_now_usec() + 10 * 1000000;
	broker_on_drain(-1, 0, b);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'k'},
		{"print-defaults", no_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct broker b;
	int check_only = 0, c, rc = 1;

	memset(&b, 0, sizeof b);
	while ((c = getopt_long(argc, argv, "c:kph", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			b.config_path = optarg;
			break;
		case 'k':
			check_only = 1;
			break;
		case 'p':
			config_write_reference(stdout);
			return 0;
		case 'h':
			broker_usage(stdout);
			return 0;
		default:
			broker_usage(stderr);
			return 2;
		}
	}
	if (b.config_path == NULL || optind != argc) {
		broker_usage(stderr);
		return 2;
	}
	if (auth_init() != 0) {
		log_error("broker", "cannot initialise libsodium");
		return 1;
	}
	if (broker_load(b.config_path, &b.cfg, &b.classifier) != 0)
		return 2;
	char qerr[1024];
	if (queues_load_file(b.cfg->acd_queues_file, &b.queues, qerr, sizeof qerr) != 0) {
		log_error("config", "%s", qerr);
		rc = 2;
		goto out;
	}
	if (wo_config_load_file(b.cfg->workorders_file, &b.workorders, qerr, sizeof qerr) != 0) {
		log_error("config", "%s", qerr);
		rc = 2;
		goto out;
	}
	if (timeutil_set_zone(b.cfg->time_zone) != 0) {
		log_error("config", "%s: time.zone: unknown zone '%s'", b.config_path, b.cfg->time_zone);
		goto out;
	}
	if (check_only) {
		printf("%s: ok (%zu classification rule(s), %zu queue(s))\n", b.config_path,
		       classifier_rule_count(b.classifier), b.queues->acd.n_queues);
		rc = 0;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);

	b.base = event_base_new();
	if (b.base == NULL)
		goto out;
	b.ingest = ingest_new(b.base, b.cfg, b.classifier, b.queues, b.workorders, &b.metrics);
	b.queues = NULL; /* ingest_new took them, even when it failed */
	b.workorders = NULL;
	b.http = b.ingest ? http_front_new(b.base, b.cfg, b.ingest, &b.metrics) : NULL;
	if (b.http == NULL) {
		log_error("broker", "cannot set up the broker (out of memory)");
		goto out;
	}
	if (http_front_listen(b.http, b.cfg->listen_address, (int)b.cfg->listen_port) != 0)
		goto out;
	b.ev_hup = evsignal_new(b.base, SIGHUP, broker_on_hup, &b);
	b.ev_term = evsignal_new(b.base, SIGTERM, broker_on_term, &b);
	b.ev_int = evsignal_new(b.base, SIGINT, broker_on_term, &b);
	b.ev_drain = evtimer_new(b.base, broker_on_drain, &b);
	if (!b.ev_hup || !b.ev_term || !b.ev_int || !b.ev_drain || evsignal_add(b.ev_hup, NULL) ||
	    evsignal_add(b.ev_term, NULL) || evsignal_add(b.ev_int, NULL))
		goto out;
	ingest_start(b.ingest);
	log_info("broker", "hotlined started (time zone %s, %zu classification rule(s))",
		 b.cfg->time_zone, classifier_rule_count(b.classifier));
	event_base_dispatch(b.base);
	log_info("broker", "hotlined stopped");
	rc = 0;
out:
	if (b.ev_hup)
		event_free(b.ev_hup);
	if (b.ev_term)
		event_free(b.ev_term);
	if (b.ev_int)
		event_free(b.ev_int);
	if (b.ev_drain)
		event_free(b.ev_drain);
	http_front_free(b.http);
	ingest_free(b.ingest);
	queues_free(b.queues);
	wo_config_free(b.workorders);
	classifier_free(b.classifier);
	config_free(b.cfg);
	if (b.base)
		event_base_free(b.base);
	return rc;
}
