/* agent.c: hotline-agent, the agents' terminal client and the supervisors'
 * wallboard: options, the locale, the password file, and which of the
 * three faces runs (the terminal view, --batch, --wallboard) on one
 * libevent loop.
 */
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "agentbatch.h"
#include "agentcli.h"
#include "agentmodel.h"
#include "agentui.h"
#include "queues.h"
#include "timeutil.h"
#include "wallboard.h"

#define AGENT_DEFAULT_URL "http://127.0.0.1:8320"
#define AGENT_SECRET_MAX 1024

struct agent_options {
	const char *url;
	const char *centre;
	const char *agent;
	const char *password_file;
	const char *secret_file;
	const char *queues_file;
	const char *draft;
	bool batch;
	bool wallboard;
	int timeout_s;
	int poll_ms;
};

static void agent_usage(FILE *out)
{
	fputs("usage: hotline-agent [--url URL] [--centre C] [--agent A] [--password-file F]\n"
	      "                     [--queues FILE] [--draft FILE]\n"
	      "       hotline-agent --batch --centre C --agent A --password-file F [--timeout S]\n"
	      "       hotline-agent --wallboard --centre C (--secret-file F | --agent A\n"
	      "                     --password-file F) [--batch]\n"
	      "\n"
	      "The 12320 agents' terminal client (ncurses, Chinese) and the supervisors'\n"
	      "wallboard, for a hotlined broker (doc/agent-client.md).\n"
	      "\n"
	      "  --url URL            the broker (default " AGENT_DEFAULT_URL ")\n"
	      "  --centre C           the centre code (the login screen asks when absent)\n"
	      "  --agent A            the agent id (likewise)\n"
	      "  --password-file F    the password as the file's one line: logs in at start\n"
	      "                       and again when the session ends; never give a password\n"
	      "                       on the command line\n"
	      "  --queues FILE        a queues.yaml whose not_ready_reasons the agent chooses\n"
	      "                       from (default: those conf/queues.yaml ships)\n"
	      "  --draft FILE         where unsent work and typed text are kept (default\n"
	      "                       $XDG_STATE_HOME/hotline/agent-C-A.json)\n"
	      "  --batch              read commands from standard input, one answer line each\n"
	      "  --timeout S          batch: the longest wait of a command (default 30)\n"
	      "  --wallboard          the supervisors' wallboard instead of the agent's screen\n"
	      "  --secret-file F      wallboard: the gateway secret, to read the views signed\n"
	      "  --help, --version\n",
	      out);
}

/* The first line of a small file, for a password or a secret: the file
 * must not be readable by others. Returns 0, or -1 having said why. */
static int agent_read_secret(const char *option, const char *path, char *out, size_t out_len)
{
	struct stat st;
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "hotline-agent: %s %s: %s\n", option, path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0077) != 0)
		fprintf(stderr, "hotline-agent: warning: %s %s is readable by others (chmod 600)\n",
			option, path);
	size_t n = fread(out, 1, out_len - 1, f);
	bool more = fgetc(f) != EOF;
	fclose(f);
	out[n] = '\0';
	char *nl = strpbrk(out, "\r\n");
	if (nl != NULL) {
		/* Only one line, and a line ending after it. */
		size_t rest = strspn(nl, "\r\n");
		if (nl[rest] != '\0') {
			sodium_memzero(out, out_len);
			fprintf(stderr, "hotline-agent: %s %s must hold one line\n", option, path);
			return -1;
		}
		*nl = '\0';
	}
	if (more || out[0] == '\0') {
		sodium_memzero(out, out_len);
		fprintf(stderr, "hotline-agent: %s %s: %s\n", option, path,
			more ? "longer than allowed" : "empty");
		return -1;
	}
	return 0;
}

static int agent_parse(int argc, char **argv, struct agent_options *o)
{
	enum {
		OPT_URL = 256,
		OPT_CENTRE,
		OPT_AGENT,
		OPT_PASSWORD_FILE,
		OPT_SECRET_FILE,
		OPT_QUEUES,
		OPT_DRAFT,
		OPT_BATCH,
		OPT_WALLBOARD,
		OPT_TIMEOUT,
		OPT_POLL_MS,
		OPT_HELP,
		OPT_VERSION
	};
	static const struct option longs[] = {
		{"url", required_argument, NULL, OPT_URL},
		{"centre", required_argument, NULL, OPT_CENTRE},
		{"agent", required_argument, NULL, OPT_AGENT},
		{"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
		{"secret-file", required_argument, NULL, OPT_SECRET_FILE},
		{"queues", required_argument, NULL, OPT_QUEUES},
		{"draft", required_argument, NULL, OPT_DRAFT},
		{"batch", no_argument, NULL, OPT_BATCH},
		{"wallboard", no_argument, NULL, OPT_WALLBOARD},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"poll-ms", required_argument, NULL, OPT_POLL_MS},
		{"help", no_argument, NULL, OPT_HELP},
		{"version", no_argument, NULL, OPT_VERSION},
		{NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct agent_options){.url = AGENT_DEFAULT_URL};
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case OPT_URL:
			o->url = optarg;
			break;
		case OPT_CENTRE:
			o->centre = optarg;
			break;
		case OPT_AGENT:
			o->agent = optarg;
			break;
		case OPT_PASSWORD_FILE:
			o->password_file = optarg;
			break;
		case OPT_SECRET_FILE:
			o->secret_file = optarg;
			break;
		case OPT_QUEUES:
			o->queues_file = optarg;
			break;
		case OPT_DRAFT:
			o->draft = optarg;
			break;
		case OPT_BATCH:
			o->batch = true;
			break;
		case OPT_WALLBOARD:
			o->wallboard = true;
			break;
		case OPT_TIMEOUT:
			o->timeout_s = atoi(optarg);
			if (o->timeout_s <= 0 || o->timeout_s > 86400) {
				fprintf(stderr, "hotline-agent: --timeout: 1 to 86400 seconds\n");
				return -1;
			}
			break;
		case OPT_POLL_MS:
			o->poll_ms = atoi(optarg);
			if (o->poll_ms < 100 || o->poll_ms > 60000) {
				fprintf(stderr, "hotline-agent: --poll-ms: 100 to 60000\n");
				return -1;
			}
			break;
		case OPT_HELP:
			agent_usage(stdout);
			exit(0);
		case OPT_VERSION:
			puts("hotline-agent 0.1.0");
			exit(0);
		default:
			agent_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"hotline-agent: unexpected argument '%s' (a password never goes on "
			"the command line: use --password-file)\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

/* What the core, the view and the line mode tell each other. */
struct agent_run {
	struct agentui *ui;
	struct agentbatch *batch;
};

static void agent_changed(void *arg)
{
	struct agent_run *run = arg;
	if (run->ui != NULL)
		agentui_changed(run->ui);
	if (run->batch != NULL)
		agentbatch_changed(run->batch);
}

/* The line mode on SIGTERM, SIGINT or SIGHUP: stop; main saves the draft. */
static void agent_on_signal(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void agent_quit(void *arg)
{
	struct agent_run *run = arg;
	if (run->ui != NULL)
		agentui_quit(run->ui);
	if (run->batch != NULL)
		agentbatch_quit(run->batch);
}

int main(int argc, char **argv)
{
	struct agent_options o;
	char password[AGENT_SECRET_MAX] = "", secret[AGENT_SECRET_MAX] = "", err[512];
	struct event_base *base = NULL;
	struct queues_file *qf = NULL;
	struct agentmodel *m = NULL;
	struct agentcli *cli = NULL;
	struct agent_run run = {0};
	struct event *signals[3] = {NULL, NULL, NULL};
	int status = 1;

	if (agent_parse(argc, argv, &o) != 0)
		return 2;
	if (sodium_init() < 0) {
		fprintf(stderr, "hotline-agent: libsodium cannot start\n");
		return 1;
	}
	/* Chinese in and out: a UTF-8 locale. The line mode falls back to
	 * C.UTF-8 (only display widths depend on it); a terminal that is not
	 * UTF-8 would garble every character, so the view refuses it. */
	setlocale(LC_ALL, "");
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0) {
		if ((o.batch || o.wallboard) && setlocale(LC_CTYPE, "C.UTF-8") != NULL) {
			/* fine for lines */
		} else if (!o.batch) {
			fprintf(stderr,
				"hotline-agent: the terminal's locale is %s, not UTF-8; "
				"start it with e.g. LANG=C.UTF-8 (or zh_CN.UTF-8)\n",
				nl_langinfo(CODESET));
			return 1;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (o.password_file != NULL &&
	    agent_read_secret("--password-file", o.password_file, password, sizeof password) != 0)
		goto out;
	if (o.secret_file != NULL &&
	    agent_read_secret("--secret-file", o.secret_file, secret, sizeof secret) != 0)
		goto out;
	base = event_base_new();
	if (base == NULL) {
		fprintf(stderr, "hotline-agent: cannot create the event loop\n");
		goto out;
	}

	if (o.wallboard) {
		if (o.centre == NULL ||
		    (o.secret_file == NULL && (o.agent == NULL || o.password_file == NULL))) {
			fprintf(stderr, "hotline-agent --wallboard: needs --centre and either "
					"--secret-file or --agent with --password-file\n");
			goto out;
		}
		const struct wallboard_options wo = {
			.base = base,
			.url = o.url,
			.centre = o.centre,
			.secret = o.secret_file != NULL ? secret : NULL,
			.agent = o.agent,
			.password = o.password_file != NULL ? password : NULL,
			.batch = o.batch,
			.poll_ms = o.poll_ms,
		};
		status = wallboard_run(&wo);
		goto out;
	}

	const char *const *reasons = NULL;
	size_t n_reasons = 0;
	if (o.queues_file != NULL) {
		if (queues_load_file(o.queues_file, &qf, err, sizeof err) != 0) {
			fprintf(stderr, "hotline-agent: --queues: %s\n", err);
			goto out;
		}
		reasons = (const char *const *)qf->reasons;
		n_reasons = qf->n_reasons;
	}
	m = agentmodel_new(o.centre, o.agent, reasons, n_reasons, timeutil_now_usec());
	if (m == NULL) {
		fprintf(stderr, "hotline-agent: out of memory\n");
		goto out;
	}
	if (o.batch) {
		const struct agentbatch_options bo = {
			.base = base,
			.model = m,
			.in_fd = STDIN_FILENO,
			.out = stdout,
			.timeout_s = o.timeout_s,
			.password = o.password_file != NULL ? password : NULL,
		};
		run.batch = agentbatch_new(&bo, err, sizeof err);
	} else {
		run.ui = agentui_new(base, m, o.url, err, sizeof err);
	}
	if (run.batch == NULL && run.ui == NULL) {
		fprintf(stderr, "hotline-agent: %s\n", err);
		goto out;
	}
	const struct agentcli_options co = {
		.base = base,
		.url = o.url,
		/* The line mode logs in when told to; the view at once. */
		.password = !o.batch && o.password_file != NULL ? password : NULL,
		.draft_path = o.draft,
		.poll_ms = o.poll_ms,
		.changed = agent_changed,
		.quit = agent_quit,
		.arg = &run,
	};
	cli = agentcli_new(&co, m, err, sizeof err);
	if (cli == NULL) {
		agentui_free(run.ui);
		run.ui = NULL;
		fprintf(stderr, "hotline-agent: %s\n", err);
		goto out;
	}
	if (run.batch != NULL) {
		for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
			static const int which[] = {SIGTERM, SIGINT, SIGHUP};
			signals[i] = evsignal_new(base, which[i], agent_on_signal, base);
			if (signals[i] == NULL || event_add(signals[i], NULL) != 0) {
				fprintf(stderr, "hotline-agent: cannot watch signals\n");
				goto out;
			}
		}
		agentbatch_attach(run.batch, cli);
		int rc = agentbatch_start(run.batch);
		if (rc != 0) {
			fprintf(stderr, "hotline-agent: reading standard input: %s\n",
				strerror(-rc));
			goto out;
		}
	} else {
		agentui_attach(run.ui, cli);
	}
	sodium_memzero(password, sizeof password);
	event_base_dispatch(base);
	status = run.batch != NULL && agentbatch_failed(run.batch) ? 1 : 0;
	int rc = agentcli_save_draft(cli);
	if (run.ui != NULL) {
		agentui_free(run.ui);
		run.ui = NULL;
	}
	if (rc != 0)
		fprintf(stderr, "hotline-agent: the draft could not be saved to %s: %s\n",
			agentcli_draft_file(cli), strerror(-rc));
	else if (agentcli_unsent(cli) > 0)
		fprintf(stderr,
			"hotline-agent: unsent actions: %u; kept in %s and sent after the next "
			"login\n",
			agentcli_unsent(cli), agentcli_draft_file(cli));
out:
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if (signals[i] != NULL)
			event_free(signals[i]);
	agentcli_free(cli);
	agentui_free(run.ui);
	agentbatch_free(run.batch);
	agentmodel_free(m);
	queues_free(qf);
	if (base != NULL)
		event_base_free(base);
	sodium_memzero(password, sizeof password);
	sodium_memzero(secret, sizeof secret);
	return status;
}
