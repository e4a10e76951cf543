/* test_agent_tmux.c: hotline-agent as an agent and a supervisor use it,
 * against real PostgreSQL, Redis and hotlined: the real program runs in a
 * detached tmux (120×40), driven with send-keys and read with
 * capture-pane. An agent logs in, goes ready, gets an offered call with its
 * caller's history and open tickets, writes a note and a ticket in
 * Chinese, books an appointment, wraps up, goes to lunch, and keeps an
 * unsent form through two broker restarts; the wallboard shows the waiting
 * calls, the crisis alert and the agent's state; the line mode answers one
 * line per command.
 *
 * Every captured screen is saved as a file named by its step in the
 * artefact folder ($HOTLINE_AGENT_ARTEFACTS, else a folder under
 * HOTLINE_TEST_TMPDIR that the harness does not remove) and printed into
 * the log with its path. The tmux server is this test's child in the
 * foreground (-D), with a parent-death signal, and is killed on every exit
 * path (atexit, and Check's kill of a test that times out).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "timeutil.h"

#define AGENT_BIN_ENV "HOTLINE_AGENT_BIN"
#define ARTEFACTS_ENV "HOTLINE_AGENT_ARTEFACTS"
#define PASSWORD "a long test password"
#define CALLER "13812345678"
#define CALLER_MASKED "138****5678"
#define COLS 120
#define ROWS 40

/* Long timers: the test, not the distributor, decides when calls move on. */
static const char test_queues[] =
	"position_updates: 5\n"
	"handle_time_initial_s: 60\n"
	"crisis_queue: crisis\n"
	"default_queue: general\n"
	"not_ready_reasons: [break, lunch, meeting]\n"
	"queues:\n"
	"  - {name: crisis, priority: 0, crisis: true, skill: crisis, strategy: skill_level,\n"
	"     ring_timeout_s: 300, wrap_up_s: 600, max_misses: 5}\n"
	"  - {name: booking, priority: 4, skill: booking, ring_timeout_s: 300, wrap_up_s: 600,\n"
	"     max_misses: 5}\n"
	"  - {name: complaint, priority: 3, skill: complaint, ring_timeout_s: 300, wrap_up_s: 600}\n"
	"  - {name: general, priority: 5, skill: general, ring_timeout_s: 300, wrap_up_s: 600}\n";

static struct harness_broker broker;
static char *db;
static char dir[HARNESS_PATH_MAX];            /* this test's files */
static char artefact_base[HARNESS_PATH_MAX];  /* every test's screens */
static char artefacts[HARNESS_PATH_MAX + 64]; /* this test's screens */
static char queues_path[HARNESS_PATH_MAX + 32];
static char password_path[HARNESS_PATH_MAX + 32];
static char secret_path[HARNESS_PATH_MAX + 32];
static int shots;

/* --- files and programs ------------------------------------------------------------ */

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	size_t n = strlen(text);
	ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
	close(fd);
}

static char *run(const char *const argv[], int *code)
{
	char *out = NULL;
	int rc = -1;
	ck_assert_msg(harness_run(argv, &out, &rc) == 0, "cannot run %s", argv[0]);
	if (code != NULL)
		*code = rc;
	return out;
}

static void admin(const char *const *args)
{
	const char *argv[24] = {harness_program(HARNESS_ENV_ADMIN_BIN), "--db", db};
	size_t n = 3;
	for (size_t i = 0; args[i] != NULL && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	int code;
	char *out = run(argv, &code);
	ck_assert_msg(code == 0, "hotline-admin %s failed: %s", args[0], out);
	free(out);
}

static int64_t count(const char *sql)
{
	return harness_pg_query_int(db, sql);
}

/* Waits up to timeout_ms for a query to count at least want. */
static void wait_count(const char *sql, int64_t want, int timeout_ms)
{
	int64_t got = 0;
	for (int i = 0; i < timeout_ms / 50; i++) {
		got = count(sql);
		if (got >= want)
			return;
		usleep(50000);
	}
	ck_abort_msg("%s: %lld, expected %lld", sql, (long long)got, (long long)want);
}

/* --- the broker's API ------------------------------------------------------------------ */

static void now_text(char out[TIMEUTIL_RFC3339_LEN])
{
	timeutil_format_local(timeutil_now_usec(), out);
}

static void gateway(const char *call, const char *type, const char *extra)
{
	char body[768], when[TIMEUTIL_RFC3339_LEN];
	now_text(when);
	snprintf(body, sizeof body,
		 "{\"event_id\":\"%s-%s\",\"type\":\"call.%s\",\"call_id\":\"%s\","
		 "\"centre\":\"nanjing\",\"time\":\"%s\"%s}",
		 call, type, type, call, when, extra != NULL ? extra : "");
	struct harness_response r;
	ck_assert(harness_http_signed(broker.port, broker.gateway_secret, "POST",
				      "/v1/calls/events", body, &r) == 0);
	ck_assert_msg(r.status == 200, "%s %s refused (%d): %s", call, type, r.status, r.body);
	harness_response_free(&r);
}

static void offer(const char *call, const char *caller, const char *dialled, const char *ivr)
{
	char extra[256];
	snprintf(extra, sizeof extra, ",\"caller\":\"%s\",\"dialled\":\"%s\",\"ivr_path\":\"%s\"",
		 caller, dialled, ivr);
	gateway(call, "offered", extra);
}

static json_t *api(const char *method, const char *path, const char *token, const char *body,
		   int *status)
{
	char auth[256];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token != NULL ? token : "");
	const char *headers[] = {auth, NULL};
	struct harness_response r;
	ck_assert(harness_http(broker.port, method, path, token != NULL ? headers : NULL, body,
			       &r) == 0);
	*status = r.status;
	json_t *j = json_loads(r.body, 0, NULL);
	harness_response_free(&r);
	return j != NULL ? j : json_object();
}

static char *login(const char *agent)
{
	char body[256];
	int status;
	snprintf(body, sizeof body,
		 "{\"centre\":\"nanjing\",\"agent_id\":\"%s\",\"password\":\"" PASSWORD "\"}",
		 agent);
	json_t *j = api("POST", "/v1/agents/login", NULL, body, &status);
	ck_assert_int_eq(status, 200);
	char *token = strdup(json_string_value(json_object_get(j, "token")));
	json_decref(j);
	return token;
}

/* --- tmux ------------------------------------------------------------------------------- */

static pid_t tmux_server;
static char tmux_socket[HARNESS_PATH_MAX + 32];

static void tmux_kill(void)
{
	if (tmux_server <= 0)
		return;
	kill(tmux_server, SIGKILL);
	waitpid(tmux_server, NULL, 0);
	tmux_server = 0;
	unlink(tmux_socket);
}

/* tmux -S SOCKET args... ; its output (free it) */
static char *tmux(const char *first, ...)
{
	const char *argv[32] = {"tmux", "-S", tmux_socket, first};
	size_t n = 4;
	va_list ap;
	va_start(ap, first);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL && n < 31)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	int code;
	char *out = run(argv, &code);
	ck_assert_msg(code == 0, "tmux %s failed (%d)", first, code);
	return out;
}

/*
 * Starts a tmux server of our own: in the foreground (-D), so that it is
 * our child (killed by pid whatever happens, and by the parent-death
 * signal if this process dies first), and so that it does not need
 * daemon(3), which some sandboxes refuse. No config file: the same tmux
 * everywhere.
 */
static void tmux_start(void)
{
	char log_path[HARNESS_PATH_MAX + 128];
	snprintf(tmux_socket, sizeof tmux_socket, "%s/tmux.sock", dir);
	snprintf(log_path, sizeof log_path, "%s/tmux-server.log", artefacts);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int in = open("/dev/null", O_RDONLY);
		int out = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (in >= 0)
			dup2(in, 0);
		if (out >= 0) {
			dup2(out, 1);
			dup2(out, 2);
		}
		unsetenv("TMUX");
		execlp("tmux", "tmux", "-D", "-S", tmux_socket, "-f", "/dev/null", (char *)NULL);
		_exit(127);
	}
	tmux_server = pid;
	atexit(tmux_kill);
	struct stat st;
	for (int i = 0; i < 100 && stat(tmux_socket, &st) != 0; i++)
		usleep(50000);
	ck_assert_msg(stat(tmux_socket, &st) == 0, "tmux did not start (log: %s)", log_path);
}

/* Runs command (a shell line) in a new detached session of COLS×ROWS. The
 * pane stays after the program ends, saying how it ended. */
static void tmux_session(const char *name, const char *command)
{
	char line[4096], cols[8], rows[8];
	snprintf(cols, sizeof cols, "%d", COLS);
	snprintf(rows, sizeof rows, "%d", ROWS);
	snprintf(line, sizeof line, "%s; echo \"[the program exited with $?]\"; sleep 3600",
		 command);
	free(tmux("new-session", "-d", "-s", name, "-x", cols, "-y", rows, line, NULL));
}

static char *screen(const char *session)
{
	return tmux("capture-pane", "-p", "-t", session, NULL);
}

/* Saves a screen as the next artefact, step-named, and prints it. */
static void shot(const char *step, const char *text)
{
	char path[2 * HARNESS_PATH_MAX];
	snprintf(path, sizeof path, "%s/%02d-%s.txt", artefacts, ++shots, step);
	write_file(path, text, 0644);
	printf("=== screen %s (%s) ===\n%s=== end of %s ===\n", step, path, text, step);
	fflush(stdout);
}

/* Waits until the screen holds every one of needles (NULL-terminated);
 * saves it as step and returns it (free it). On a timeout the last screen
 * is saved too, and the test fails saying what was missing. */
static char *wait_screen(const char *session, const char *step, int timeout_ms, ...)
{
	const char *needles[16];
	size_t n = 0;
	va_list ap;
	va_start(ap, timeout_ms);
	const char *s;
	while ((s = va_arg(ap, const char *)) != NULL && n < 16)
		needles[n++] = s;
	va_end(ap);

	char *text = NULL;
	const char *missing = NULL;
	for (int waited = 0; waited <= timeout_ms; waited += 100) {
		free(text);
		text = screen(session);
		missing = NULL;
		for (size_t i = 0; i < n && missing == NULL; i++)
			if (strstr(text, needles[i]) == NULL)
				missing = needles[i];
		if (missing == NULL)
			break;
		usleep(100000);
	}
	char name[128];
	snprintf(name, sizeof name, "%s%s", step, missing != NULL ? "-TIMEOUT" : "");
	shot(name, text);
	ck_assert_msg(missing == NULL, "step %s: \"%s\" not on the screen within %d ms", step,
		      missing, timeout_ms);
	/* A caller's number never shows unmasked. */
	ck_assert_msg(strstr(text, CALLER) == NULL, "step %s shows an unmasked number", step);
	return text;
}

static void keys(const char *session, const char *first, ...)
{
	const char *argv[32] = {"tmux", "-S", tmux_socket, "send-keys", "-t", session, first};
	size_t n = 7;
	va_list ap;
	va_start(ap, first);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL && n < 31)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	int code;
	free(run(argv, &code));
	ck_assert_int_eq(code, 0);
	usleep(150000); /* the client reads and redraws */
}

/* Types text literally (UTF-8: Chinese as an input method delivers it). */
static void text(const char *session, const char *utf8)
{
	keys(session, "-l", utf8, NULL);
}

/* --- set-up ------------------------------------------------------------------------------- */

/* The screens of the test that is running go to a folder of its own. */
static void artefacts_for(const char *test)
{
	snprintf(artefacts, sizeof artefacts, "%s/%s", artefact_base, test);
	mkdir(artefacts, 0755);
	shots = 0;
	printf("artefacts of %s: %s\n", test, artefacts);
	fflush(stdout);
}

static void setup(void)
{
	const char *keep = getenv(ARTEFACTS_ENV);
	ck_assert_msg(harness_program(AGENT_BIN_ENV) != NULL, "hotline-agent is not built");
	ck_assert_int_eq(harness_tmpdir("agent", dir), 0);
	/* The artefacts outlive the test: not a harness folder. */
	if (keep != NULL && keep[0] != '\0') {
		snprintf(artefact_base, sizeof artefact_base, "%s", keep);
	} else {
		const char *base = getenv(HARNESS_ENV_TMPDIR);
		snprintf(artefact_base, sizeof artefact_base, "%s/agent-tmux-screens-%ld",
			 base != NULL ? base : "/tmp", (long)getppid());
	}
	mkdir(artefact_base, 0755);
	snprintf(artefacts, sizeof artefacts, "%s", artefact_base);
	shots = 0;

	db = harness_db_create(NULL);
	ck_assert_msg(db != NULL, "%s", harness_error());
	snprintf(queues_path, sizeof queues_path, "%s/queues.yaml", dir);
	write_file(queues_path, test_queues, 0644);
	snprintf(password_path, sizeof password_path, "%s/agent.pw", dir);
	write_file(password_path, PASSWORD "\n", 0600);

	const char *centre[] = {"centre", "add", "nanjing", "南京", "--province", "江苏", NULL};
	admin(centre);
	const char *a001[] = {"agent",       "add",     "a001",      "--centre",
			      "nanjing",     "--name",  "王芳",      "--extension",
			      "8001",        "--skill", "booking:5", "--skill",
			      "complaint:5", "--skill", "crisis:5",  "--password-file",
			      password_path, NULL};
	admin(a001);
	const char *a002[] = {"agent",       "add",     "a002",      "--centre",
			      "nanjing",     "--name",  "李明",      "--extension",
			      "8002",        "--skill", "general:5", "--password-file",
			      password_path, NULL};
	admin(a002);
	char hospitals[HARNESS_PATH_MAX + 32];
	snprintf(hospitals, sizeof hospitals, "%s/conf/hospitals.yaml", harness_source_dir());
	const char *load[] = {"hospitals", "load", hospitals, NULL};
	admin(load);

	const char *settings[] = {"acd.queues_file", queues_path, NULL};
	struct harness_broker_options opt = {.database_url = db, .settings = settings};
	ck_assert_msg(harness_broker_start(&broker, &opt) == 0, "%s", harness_error());
	ck_assert_msg(harness_broker_wait_healthy(&broker) == 0, "%s", harness_error());
	snprintf(secret_path, sizeof secret_path, "%s/gateway.secret", dir);
	char secret_line[300];
	snprintf(secret_line, sizeof secret_line, "%s\n", broker.gateway_secret);
	write_file(secret_path, secret_line, 0600);
	tmux_start();
}

static void teardown(void)
{
	tmux_kill();
	harness_broker_free(&broker);
	harness_db_drop(db);
	free(db);
}

/* The shell line that runs hotline-agent with args in a pane: a UTF-8
 * locale, the centre's time zone, its stderr kept (ASan would write
 * there). */
static void agent_command(char *out, size_t len, const char *err_name, const char *args)
{
	snprintf(out, len,
		 "env LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=Asia/Shanghai HOME=%s XDG_STATE_HOME=%s/state "
		 "%s --url %s %s 2>>%s/%s",
		 dir, dir, harness_program(AGENT_BIN_ENV), broker.url, args, artefacts, err_name);
}

/* The client's stderr holds no sanitizer report. */
static void check_stderr(const char *err_name)
{
	char path[2 * HARNESS_PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", artefacts, err_name);
	char *err = harness_read_file(path, NULL);
	if (err == NULL)
		return;
	ck_assert_msg(strstr(err, "Sanitizer") == NULL && strstr(err, "runtime error") == NULL,
		      "hotline-agent's stderr: %s", err);
	free(err);
}

/* A 12345 work order, posted as the city platform (conf/workorders.yaml's
 * placeholder secret, which the harness's broker uses); its id. */
static long long post_order(void)
{
	static const char body[] =
		"{\"external_no\":\"NJ12345-T-0001\",\"centre\":\"nanjing\","
		"\"received_at\":\"2019-03-04T09:15:02+08:00\",\"category\":\"complaint\","
		"\"urgent\":false,\"title\":\"挂号难\",\"content\":\"不应出现在日志里的投诉内容\","
		"\"citizen\":{\"name\":\"张三\",\"phone\":\"13812345678\"}}";
	struct harness_request req = {
		.method = "POST",
		.path = "/v1/workorders",
		.headers = (const char *const[]){"X-Hotline-Platform: city_12345", NULL},
		.body = body,
		.sign_secret = "CHANGE-ME-city-12345-placeholder-secret",
	};
	struct harness_response r;
	ck_assert(harness_http_request(broker.port, &req, &r) == 0);
	ck_assert_msg(r.status == 201, "work order refused (%d): %s", r.status, r.body);
	json_t *j = json_loads(r.body, 0, NULL);
	long long id = (long long)json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	harness_response_free(&r);
	return id;
}

/* --- the tests ----------------------------------------------------------------------------- */

START_TEST(test_an_agent_works_a_call_in_the_terminal_and_survives_broker_restarts)
{
	char command[4096], args[2048], sql[512];
	int status;

	artefacts_for("terminal");
	long long order = post_order();
	/* The caller called before and has an open ticket from then. */
	offer("h1", CALLER, "12320", "3");
	gateway("h1", "abandoned", NULL);
	char *t2 = login("a002");
	json_t *j =
		api("POST", "/v1/tickets", t2,
		    "{\"kind\":\"complaint\",\"call_id\":\"h1\",\"subject\":\"上次投诉：挂号难\"}",
		    &status);
	ck_assert_int_eq(status, 201);
	json_decref(j);
	free(t2);

	snprintf(args, sizeof args,
		 "--centre nanjing --agent a001 --queues %s --draft %s/draft.json", queues_path,
		 dir);
	agent_command(command, sizeof command, "agent.stderr", args);
	tmux_session("agent", command);

	/* 1. The login screen; the password is typed, never on a command line. */
	free(wait_screen("agent", "login", 10000, "坐席终端", "密码", "F10 退出", NULL));
	text("agent", PASSWORD);
	keys("agent", "Enter", NULL);
	free(wait_screen("agent", "logged-in", 10000, "王芳 a001", "分机 8001", "示忙·刚登录",
			 "已连接", "F2 就绪", NULL));

	/* 2. Ready; a booking call comes through the gateway API. */
	keys("agent", "F2", NULL);
	free(wait_screen("agent", "ready", 5000, "│ 就绪 ", NULL));
	offer("c1", CALLER, "12320", "1");
	free(wait_screen("agent", "offer", 10000, "来电振铃", "类别：电话预约", CALLER_MASKED,
			 "近期来电（1 次）", "未结工单（1 件）", "上次投诉：挂号难",
			 "请拿起话机接听（分机 8001）", NULL));

	/* 3. The gateway connects it; the agent writes notes in Chinese. */
	gateway("c1", "answered", ",\"agent\":\"a001\"");
	free(wait_screen("agent", "on-call", 5000, "│ 通话中 ", "通话中 00:", NULL));
	text("agent", "患者咨询儿科挂号，反映排队太久");
	free(wait_screen("agent", "notes", 5000, "患者咨询儿科挂号，反映排队太久", "备注 · 通话 c1",
			 NULL));

	/* 4. A ticket: the notes are its first record. */
	keys("agent", "F4", NULL);
	free(wait_screen("agent", "ticket-form", 5000, "建立工单", ">主题", "记录", NULL));
	text("agent", "儿科挂号排队太久");
	keys("agent", "Enter", NULL);
	/* Ticket 1 is the one of the earlier call: this is number 2. */
	free(wait_screen("agent", "ticket-created", 5000, "工单 #2 已建立", "本通：工单 1", NULL));
	ck_assert_int_eq(
		count("SELECT count(*) FROM tickets t JOIN ticket_entries e ON"
		      " e.ticket_id = t.id WHERE t.call_id = 'c1'"
		      " AND t.subject = '儿科挂号排队太久' AND t.caller_masked = '138****5678'"
		      " AND e.kind = 'note' AND e.body = '患者咨询儿科挂号，反映排队太久'"),
		1);

	/* 5. A phone booking: the children's hospital found by typing. */
	keys("agent", "F5", NULL);
	free(wait_screen("agent", "booking-form", 5000, "电话预约挂号", "南京鼓楼医院", NULL));
	text("agent", "儿童");
	keys("agent", "Tab", NULL);
	text("agent", "小儿外科"); /* departments come sorted by code: search */
	free(wait_screen("agent", "booking-chosen", 5000, "南京市儿童医院（h002）",
			 "小儿外科（paediatric_surgery）", NULL));
	keys("agent", "Enter", NULL);
	free(wait_screen("agent", "booked", 5000, "预约成功", "本通：工单 1 · 预约 1", NULL));
	ck_assert_int_eq(count("SELECT count(*) FROM bookings WHERE call_id = 'c1'"
			       " AND hospital = 'h002' AND department = 'paediatric_surgery'"
			       " AND channel = 'phone' AND agent_id = 'a001'"),
			 1);

	/* 5b. A reply to the 12345 work order of this complaint: the order is
	 * signed and started on the way. */
	keys("agent", "F6", NULL);
	free(wait_screen("agent", "order-form", 5000, "回复 12345 工单", "NJ12345-T-0001 挂号难",
			 "待签收", NULL));
	keys("agent", "Tab", NULL);
	text("agent", "已联系医院，患者已改约明日上午");
	keys("agent", "Enter", NULL);
	char replied[64];
	snprintf(replied, sizeof replied, "12345 工单 #%lld 已回复", order);
	free(wait_screen("agent", "order-replied", 5000, replied, "12345 回复 1", NULL));
	snprintf(sql, sizeof sql,
		 "SELECT count(*) FROM work_orders WHERE id = %lld AND stage = 'replied'", order);
	ck_assert_int_eq(count(sql), 1);

	/* 6. The caller hangs up; the wrap-up records a disposition and
	 * corrects the category; then lunch. */
	gateway("c1", "ended", NULL);
	free(wait_screen("agent", "wrap-up", 5000, "│ 话后整理 ", NULL));
	keys("agent", "F7", NULL);
	keys("agent", "Right", NULL); /* resolved -> booked */
	keys("agent", "Down", NULL);
	text("agent", "complaint");
	free(wait_screen("agent", "wrap-up-form", 5000, "话后小结", "< 已预约 >", "< 医疗投诉 >",
			 NULL));
	keys("agent", "Enter", NULL);
	free(wait_screen("agent", "wrapped-up", 5000, "小结已记录", "│ 就绪 ", NULL));
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE call_id = 'c1'"
			       " AND disposition = 'booked' AND corrected_category = 'complaint'"
			       " AND wrapped_by = 'a001'"),
			 1);
	keys("agent", "F3", NULL);
	keys("agent", "Right", NULL); /* break -> lunch */
	keys("agent", "Enter", NULL);
	free(wait_screen("agent", "lunch", 5000, "示忙·午餐", NULL));

	/* 7. A ticket half typed when the broker goes away. */
	keys("agent", "F4", NULL);
	text("agent", "断线时未发送的草稿");
	free(wait_screen("agent", "draft-typed", 5000, "断线时未发送的草稿", NULL));
	ck_assert_int_eq(harness_broker_stop(&broker), 0);
	free(wait_screen("agent", "broker-down", 10000, "【连接中断", "正在重连",
			 "断线时未发送的草稿", NULL));
	ck_assert_int_eq(harness_broker_restart(&broker), 0);
	ck_assert_msg(harness_broker_wait_healthy(&broker) == 0, "%s", harness_error());
	free(wait_screen("agent", "reconnected", 15000, "本次登录后重连 1 次", "示忙·午餐",
			 "断线时未发送的草稿", "已连接", NULL));
	keys("agent", "Enter", NULL);
	free(wait_screen("agent", "draft-sent", 5000, "工单 #3 已建立", NULL));
	ck_assert_int_eq(count("SELECT count(*) FROM tickets WHERE subject = '断线时未发送的草稿'"
			       " AND call_id = 'c1'"),
			 1);

	/* 8. A ticket submitted while the broker is down waits, then goes. */
	ck_assert_int_eq(harness_broker_stop(&broker), 0);
	free(wait_screen("agent", "broker-down-again", 10000, "【连接中断", NULL));
	keys("agent", "F4", NULL);
	text("agent", "断线时提交的工单");
	keys("agent", "Enter", NULL);
	free(wait_screen("agent", "queued-while-down", 10000, "未发送 1 项",
			 "服务器暂时无应答，恢复后自动发送", NULL));
	ck_assert_int_eq(harness_broker_restart(&broker), 0);
	ck_assert_msg(harness_broker_wait_healthy(&broker) == 0, "%s", harness_error());
	free(wait_screen("agent", "delivered-after-restart", 15000, "工单 #4 已建立",
			 "本次登录后重连 2 次", "示忙·午餐", NULL));
	wait_count("SELECT count(*) FROM tickets WHERE subject = '断线时提交的工单'", 1, 10000);
	snprintf(sql, sizeof sql,
		 "SELECT count(*) FROM tickets WHERE subject = '断线时提交的工单'");
	ck_assert_int_eq(count(sql), 1); /* once, whatever the retries */

	/* 8b. The network stops answering (the broker frozen, connections
	 * open): the reads time out, the screen says so, and it recovers. */
	ck_assert_int_eq(harness_broker_signal(&broker, SIGSTOP), 0);
	char *frozen = wait_screen("agent", "network-silent", 20000, "【连接中断", NULL);
	free(frozen);
	ck_assert_int_eq(harness_broker_signal(&broker, SIGCONT), 0);
	free(wait_screen("agent", "network-back", 15000, "本次登录后重连 3 次", "示忙·午餐", NULL));

	/* 9. A smaller window: everything still fits, the shortcuts show. */
	free(tmux("resize-window", "-t", "agent", "-x", "100", "-y", "30", NULL));
	free(wait_screen("agent", "resized", 5000, "F10 退出", "示忙·午餐", NULL));

	/* 10. Quitting with work unsent asks first; the work and the notes
	 * outlive the client in its draft file. */
	ck_assert_int_eq(harness_broker_stop(&broker), 0);
	free(wait_screen("agent", "broker-down-at-quit", 10000, "【连接中断", NULL));
	keys("agent", "F4", NULL);
	text("agent", "客户端重启后补发的工单");
	keys("agent", "Enter", NULL);
	keys("agent", "Escape", NULL);
	keys("agent", "F10", NULL);
	free(wait_screen("agent", "quit-asks", 5000, "还有 1 项未发送", NULL));
	keys("agent", "F10", NULL);
	free(wait_screen("agent", "quit-with-unsent", 5000, "[the program exited with 0]", NULL));
	check_stderr("agent.stderr");
	ck_assert_int_eq(harness_broker_restart(&broker), 0);
	ck_assert_msg(harness_broker_wait_healthy(&broker) == 0, "%s", harness_error());
	ck_assert_int_eq(count("SELECT count(*) FROM tickets WHERE subject = '客户端重启后补发的工单'"),
			 0);

	/* 11. The client again: the draft comes back, the queued ticket goes
	 * once the agent has logged in, the state is where it was. */
	tmux_session("again", command);
	free(wait_screen("again", "restart-login", 10000, "1 项未发送的操作将在登录后发送", "密码",
			 NULL));
	text("again", PASSWORD);
	keys("again", "Enter", NULL);
	free(wait_screen("again", "restart-sent", 10000, "工单 #5 已建立", "示忙·午餐",
			 "患者咨询儿科挂号，反映排队太久", NULL));
	ck_assert_int_eq(count("SELECT count(*) FROM tickets WHERE subject = '客户端重启后补发的工单'"),
			 1);
	keys("again", "F10", NULL);
	free(wait_screen("again", "quit", 5000, "[the program exited with 0]", NULL));
	check_stderr("agent.stderr");
	char draft[HARNESS_PATH_MAX + 32];
	snprintf(draft, sizeof draft, "%s/draft.json", dir);
	char *saved = harness_read_file(draft, NULL);
	ck_assert_ptr_nonnull(saved);
	ck_assert_ptr_nonnull(strstr(saved, "\"agent\":\"a001\""));
	ck_assert_ptr_null(strstr(saved, PASSWORD));
	free(saved);
	struct stat st;
	ck_assert_int_eq(stat(draft, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* The broker's log never saw the caller's number or a note. */
	char *log = harness_broker_log(&broker);
	ck_assert_ptr_null(strstr(log, CALLER));
	ck_assert_ptr_null(strstr(log, "排队太久"));
	free(log);
}
END_TEST

START_TEST(test_the_wallboard_shows_waiting_calls_the_crisis_alert_and_the_agents_state)
{
	char command[4096], args[2048];
	int status;

	artefacts_for("wallboard");
	char *t1 = login("a001");
	json_t *j = api("POST", "/v1/agents/state", t1,
			"{\"state\":\"not_ready\",\"reason\":\"lunch\"}", &status);
	ck_assert_int_eq(status, 200);
	json_decref(j);
	offer("w1", "13900000001", "12320", "1"); /* booking: nobody ready, it waits */
	offer("x1", "13700000007", "12356", "");  /* the crisis line */

	snprintf(args, sizeof args, "--wallboard --centre nanjing --secret-file %s", secret_path);
	agent_command(command, sizeof command, "wallboard.stderr", args);
	tmux_session("board", command);
	free(wait_screen("board", "wallboard", 10000, "12320 实时监控 · 中心 nanjing",
			 "告警：心理危机来电等待 1 通", "a001", "王芳", "示忙", "午餐",
			 "坐席 在线 1", NULL));
	/* The rows of the waiting queues: one call each. */
	char *board = screen("board");
	ck_assert_ptr_nonnull(strstr(board, " 危机         1 "));
	ck_assert_ptr_nonnull(strstr(board, " 预约         1 "));
	free(board);

	/* The caller in crisis hangs up: an urgent callback, on the board. */
	gateway("x1", "abandoned", NULL);
	char *after = wait_screen("board", "wallboard-callback", 10000, "紧急回拨待处理 1 个",
				  "回拨待处理 1 个（紧急 1）", NULL);
	ck_assert_msg(strstr(after, "心理危机来电等待") == NULL,
		      "a callback is not a crisis caller waiting");
	free(after);
	keys("board", "q", NULL);
	free(wait_screen("board", "wallboard-quit", 5000, "[the program exited with 0]", NULL));
	check_stderr("wallboard.stderr");

	/* The same in lines, for scripts. */
	const char *argv[] = {harness_program(AGENT_BIN_ENV),
			      "--wallboard",
			      "--batch",
			      "--url",
			      broker.url,
			      "--centre",
			      "nanjing",
			      "--secret-file",
			      secret_path,
			      NULL};
	const char *env[] = {"LANG=C.UTF-8", NULL};
	char *out = NULL;
	int code = -1;
	ck_assert_int_eq(harness_run_full(argv, env, NULL, &out, NULL, &code), 0);
	printf("=== wallboard --batch ===\n%s", out);
	ck_assert_int_eq(code, 0);
	ck_assert_ptr_nonnull(strstr(out, "queue booking waiting=1 "));
	ck_assert_ptr_nonnull(strstr(out, "agent a001 state=not_ready reason=lunch "));
	ck_assert_ptr_nonnull(strstr(out, "callbacks open=1 urgent=1"));
	ck_assert_ptr_nonnull(strstr(out, "alert crisis_callbacks "));
	ck_assert_ptr_null(strstr(out, "13700000007"));
	free(out);
	free(t1);
}
END_TEST

/* --- the line mode --------------------------------------------------------------------------- */

struct batch {
	pid_t pid;
	int in;  /* its standard input */
	int out; /* its standard output */
	char buf[8192];
	size_t len;
};

static void batch_start(struct batch *b, const char *draft)
{
	int to[2], from[2];
	ck_assert_int_eq(pipe(to), 0);
	ck_assert_int_eq(pipe(from), 0);
	b->pid = fork();
	ck_assert_int_ge(b->pid, 0);
	if (b->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		setenv("LANG", "C.UTF-8", 1);
		setenv("TZ", "Asia/Shanghai", 1);
		execl(harness_program(AGENT_BIN_ENV), "hotline-agent", "--batch", "--url",
		      broker.url, "--centre", "nanjing", "--agent", "a001", "--password-file",
		      password_path, "--queues", queues_path, "--draft", draft, "--timeout", "20",
		      (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	b->in = to[1];
	b->out = from[0];
	b->len = 0;
}

/* Sends one command and returns its answer line (free it). */
static char *batch(struct batch *b, const char *line)
{
	char cmd[2048];
	int n = snprintf(cmd, sizeof cmd, "%s\n", line);
	ck_assert_int_eq(write(b->in, cmd, (size_t)n), n);
	for (int waited = 0; waited < 30000;) {
		char *nl = memchr(b->buf, '\n', b->len);
		if (nl != NULL) {
			size_t k = (size_t)(nl - b->buf);
			char *answer = strndup(b->buf, k);
			memmove(b->buf, nl + 1, b->len - k - 1);
			b->len -= k + 1;
			printf("batch> %s\nbatch< %s\n", line, answer);
			return answer;
		}
		struct pollfd p = {.fd = b->out, .events = POLLIN};
		if (poll(&p, 1, 200) <= 0) {
			waited += 200;
			continue;
		}
		ssize_t got = read(b->out, b->buf + b->len, sizeof b->buf - b->len - 1);
		ck_assert_msg(got > 0, "hotline-agent --batch ended before answering '%s'", line);
		b->len += (size_t)got;
	}
	ck_abort_msg("no answer to '%s' within 30 s", line);
	return NULL;
}

static void batch_expect(struct batch *b, const char *line, const char *prefix)
{
	char *answer = batch(b, line);
	ck_assert_msg(strncmp(answer, prefix, strlen(prefix)) == 0,
		      "'%s' answered '%s', not '%s...'", line, answer, prefix);
	free(answer);
}

static int batch_end(struct batch *b)
{
	int status;
	close(b->in);
	ck_assert_int_eq(waitpid(b->pid, &status, 0), b->pid);
	close(b->out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

START_TEST(test_the_line_mode_answers_one_line_per_command)
{
	struct batch b;
	char draft[HARNESS_PATH_MAX + 32], line[512];
	artefacts_for("batch");
	snprintf(draft, sizeof draft, "%s/batch-draft.json", dir);
	long long order = post_order();

	batch_start(&b, draft);
	batch_expect(&b, "status", "ok status agent=a001 state=unknown");
	batch_expect(&b, "ready", "error not_now ");
	batch_expect(&b, "login", "ok login a001 state=not_ready reason=login");
	batch_expect(&b, "not_ready nap", "error invalid_input ");
	batch_expect(&b, "ready", "ok state ready");
	offer("b1", CALLER, "12320", "1");
	batch_expect(&b, "wait offer 10",
		     "ok offer b1 kind=call category=booking queue=booking "
		     "caller=" CALLER_MASKED);
	gateway("b1", "answered", ",\"agent\":\"a001\"");
	batch_expect(&b, "wait on_call 10", "ok state on_call call=b1");
	batch_expect(&b, "note 来电者要求预约眼科", "ok note 9");
	batch_expect(&b, "ticket consultation_followup 眼科预约回访", "ok ticket ");
	batch_expect(&b, "book h001 nowhere 2099-01-01", "error invalid_input ");
	batch_expect(&b, "book h001 ophthalmology 2019-01-01", "error invalid_input ");
	batch_expect(&b, "book h001 ophthalmology 2099-01-01", "ok booking a001-");
	snprintf(line, sizeof line, "reply %lld 已联系医院，患者已预约成功", order);
	batch_expect(&b, line, "ok reply ");
	gateway("b1", "ended", NULL);
	batch_expect(&b, "wait wrap_up 10", "ok state wrap_up call=b1");
	batch_expect(&b, "wrapup booked", "ok wrapup b1");
	batch_expect(&b, "not_ready meeting", "ok state not_ready meeting");
	batch_expect(&b, "status", "ok status agent=a001 state=not_ready reason=meeting");
	batch_expect(&b, "dance", "error unknown_command ");
	batch_expect(&b, "quit", "ok quit");
	/* Two commands were refused on purpose: the status says so. */
	ck_assert_int_eq(batch_end(&b), 1);

	ck_assert_int_eq(count("SELECT count(*) FROM tickets t JOIN ticket_entries e ON"
			       " e.ticket_id = t.id WHERE t.call_id = 'b1' AND t.kind ="
			       " 'consultation_followup' AND e.body = '来电者要求预约眼科'"),
			 1);
	ck_assert_int_eq(count("SELECT count(*) FROM bookings WHERE call_id = 'b1'"
			       " AND department = 'ophthalmology' AND visit_date = '2099-01-01'"),
			 1);
	snprintf(line, sizeof line,
		 "SELECT count(*) FROM work_orders WHERE id = %lld"
		 " AND stage = 'replied'",
		 order);
	ck_assert_int_eq(count(line), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM calls WHERE call_id = 'b1'"
			       " AND disposition = 'booked'"),
			 1);
	char *log = harness_broker_log(&broker);
	ck_assert_ptr_null(strstr(log, "不应出现在日志里"));
	free(log);
}
END_TEST

static Suite *agent_tmux_suite(void)
{
	Suite *s = suite_create("agent_tmux");
	TCase *tc = tcase_create("agent_tmux");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 200);
	tcase_add_test(tc, test_an_agent_works_a_call_in_the_terminal_and_survives_broker_restarts);
	tcase_add_test(
		tc, test_the_wallboard_shows_waiting_calls_the_crisis_alert_and_the_agents_state);
	tcase_add_test(tc, test_the_line_mode_answers_one_line_per_command);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *tmux_argv[] = {"tmux", "-V", NULL};
	int code = -1;
	char *out = NULL;
	if (harness_run(tmux_argv, &out, &code) != 0 || code != 0) {
		fprintf(stderr, "tmux is not installed (tools/deps installs it)\n");
		free(out);
		return 77;
	}
	free(out);
	if (harness_shared_pg() == NULL || harness_shared_redis_port() < 0) {
		fprintf(stderr, "%s\n", harness_error());
		return 77;
	}
	if (timeutil_set_zone("Asia/Shanghai") != 0)
		return 77;
	SRunner *sr = srunner_create(agent_tmux_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
