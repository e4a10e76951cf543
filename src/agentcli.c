/* agentcli.c: the agent client's link to the broker (see agentcli.h): a
 * queue of actions sent one at a time with retries, the reads that keep the
 * screen true (the agent's state, the caller's tickets, hospitals, work
 * orders), the stream, logins again, and the draft file.
 *
 * Each action is a small state machine of steps (most have one): a ticket
 * is created, then gets its first note; a reply to a 12345 order reads the
 * order and signs, starts and replies as its stage requires. One step is on
 * the wire at a time; its answer is judged into one of: next step, done,
 * failed, retry later, or log in again first.
 */
#include "agentcli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "httpc.h"
#include "readfile.h"
#include "ssec.h"
#include "timeutil.h"

#define AGENTCLI_CONNECTIONS 3
/* A login waits for an Argon2id check on the broker: the slowest request. */
#define AGENTCLI_TIMEOUT_MS 8000
#define AGENTCLI_BACKOFF_FIRST_MS 250
#define AGENTCLI_BACKOFF_MAX_MS 5000
#define AGENTCLI_POLL_MS 2000
#define AGENTCLI_DRAFT_DELAY_MS 300
#define AGENTCLI_DRAFT_MAX (4u << 20)
#define AGENTCLI_PATH_MAX 512
/* Reads of an order after a refusal, before the reply gives up. */
#define AGENTCLI_REREADS_MAX 3
#define AGENTCLI_BOOKING_NO_MAX 64

enum agentcli_do {
	AGENTCLI_DO_LOGIN,
	AGENTCLI_DO_STATE,
	AGENTCLI_DO_WRAP_UP,
	AGENTCLI_DO_TICKET,
	AGENTCLI_DO_BOOK,
	AGENTCLI_DO_ORDER_REPLY,
	AGENTCLI_DO_CALLBACK_ACCEPT,
	AGENTCLI_DO_CALLBACK_FINISH,
	AGENTCLI_DO_LOGOUT,
	AGENTCLI_DO_COUNT,
};

static const char *const agentcli_do_names[AGENTCLI_DO_COUNT] = {
	"login",       "state",           "wrap_up",         "ticket", "booking",
	"order_reply", "callback_accept", "callback_finish", "logout",
};

/* What the agent reads while an action waits to be sent again. */
static const char *const agentcli_do_labels[AGENTCLI_DO_COUNT] = {
	"登录",       "状态切换", "话后小结", "工单", "预约",
	"12345 回复", "接受回拨", "回拨结果", "注销",
};

enum agentcli_step {
	AGENTCLI_STEP_FIRST,
	AGENTCLI_STEP_TICKET_FIND, /* did the create that got no answer arrive? */
	AGENTCLI_STEP_TICKET_NOTE,
	AGENTCLI_STEP_TICKET_NOTE_FIND,
	AGENTCLI_STEP_ORDER_READ,
	AGENTCLI_STEP_ORDER_SIGN,
	AGENTCLI_STEP_ORDER_START,
	AGENTCLI_STEP_ORDER_REPLY,
};

struct agentcli_action {
	struct agentcli_action *next;
	enum agentcli_do what;
	enum agentmodel_form form; /* told how it went; NONE for none */
	json_t *args;              /* what was asked; the draft keeps work actions' */
	int step;
	int64_t ticket_id;
	bool ambiguous;  /* the last attempt may have been carried out */
	bool reply_sent; /* an order's reply went out, perhaps */
	unsigned attempts;
	unsigned rereads;
	agentcli_done_fn done;
	void *done_arg;
};

/* A read outside the queue: one of each kind at a time. */
enum agentcli_read_kind {
	AGENTCLI_READ_ME,
	AGENTCLI_READ_TICKETS,
	AGENTCLI_READ_HOSPITALS,
	AGENTCLI_READ_ORDERS,
	AGENTCLI_READ_COUNT,
};

struct agentcli_read {
	struct agentcli *c;
	enum agentcli_read_kind kind;
	bool in_flight;
	bool again; /* asked again while in flight */
	char call_id[AGENTMODEL_ID_MAX];
	agentcli_done_fn done;
	void *done_arg;
};

struct agentcli {
	struct event_base *base;
	struct agentmodel *m;
	struct agentcli_options o;
	char *url;
	struct httpc *http;
	struct ssec *stream;
	char *token;
	char *password;
	char draft_path[AGENTCLI_PATH_MAX];
	bool draft_loaded;

	struct agentcli_action *head;
	struct agentcli_action *tail;
	unsigned n_actions;
	bool in_flight;
	char *body; /* of the step on the wire */
	int backoff_ms;
	struct event *retry_timer;
	bool retry_armed;

	struct agentcli_read reads[AGENTCLI_READ_COUNT];
	struct event *poll_timer;
	bool poll_failed;
	bool stream_up;
	struct event *draft_timer;
	bool draft_armed;
	bool health_in_flight; /* is a 401 a lost session or a broker starting? */
	unsigned booking_seq;
};

static void agentcli_pump(struct agentcli *c);
static void agentcli_read(struct agentcli *c, enum agentcli_read_kind kind, const char *call_id,
			  agentcli_done_fn done, void *arg);

static int64_t agentcli_now(void)
{
	return timeutil_now_usec();
}

static void agentcli_changed(struct agentcli *c)
{
	c->m->unsent = 0;
	for (struct agentcli_action *a = c->head; a != NULL; a = a->next)
		if (a->what != AGENTCLI_DO_LOGIN)
			c->m->unsent++;
	if (c->m->draft_dirty)
		agentcli_model_changed(c);
	if (c->o.changed != NULL)
		c->o.changed(c->o.arg);
}

static void agentcli_wipe_free(char *s)
{
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

static void agentcli_report(agentcli_done_fn done, void *arg, bool ok, const char *code,
			    const char *message, const char *value)
{
	if (done == NULL)
		return;
	const struct agentcli_result r = {
		.ok = ok,
		.code = code != NULL ? code : "",
		.message = message != NULL ? message : "",
		.value = value != NULL ? value : "",
	};
	done(arg, &r);
}

/* --- the broker's errors, in the agent's words ------------------------------------ */

struct agentcli_error {
	char code[48];
	char field[48];
	char message[256];
};

static void agentcli_parse_error(const struct httpc_response *r, struct agentcli_error *e)
{
	json_t *o = json_loadb(r->body, r->body_len, 0, NULL);
	json_t *err = json_object_get(o, "error");
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *field = json_string_value(json_object_get(err, "field"));
	const char *msg = json_string_value(json_object_get(err, "message"));

	if (code != NULL)
		snprintf(e->code, sizeof e->code, "%s", code);
	else if (r->status == 0)
		snprintf(e->code, sizeof e->code, "unreachable");
	else
		snprintf(e->code, sizeof e->code, "http_%d", r->status);
	snprintf(e->field, sizeof e->field, "%s", field != NULL ? field : "");
	snprintf(e->message, sizeof e->message, "%s",
		 msg != NULL    ? msg :
		 r->status == 0 ? r->failure :
				  "");
	json_decref(o);
}

/* What a refusal means for the agent; the broker's own sentence follows
 * for what this table does not know. */
static void agentcli_explain(const struct agentcli_error *e, char *out, size_t out_len)
{
	static const struct {
		const char *code;
		const char *text;
	} known[] = {
		{"bad_credentials", "工号或密码错误"},
		{"agent_disabled", "该工号已停用，请联系班长"},
		{"agent_busy", "振铃或通话中不能这样做"},
		{"illegal_state", "当前状态不能切换就绪"},
		{"not_logged_in", "服务器上已不在线，请重新登录"},
		{"unknown_reason", "这个示忙原因不在服务器的配置里"},
		{"not_your_call", "这通电话不是你接的"},
		{"unknown_hospital", "医院不存在"},
		{"disabled_hospital", "该医院已停止预约"},
		{"unknown_department", "科室不存在"},
		{"disabled_department", "该科室已停止预约"},
		{"unknown_call", "通话不存在"},
		{"booking_no_conflict", "预约号已被占用"},
		{"illegal_transition", "工单当前阶段不允许这一步"},
		{"unknown_order", "工单不存在"},
		{"unknown_ticket", "工单不存在"},
		{"unknown_callback", "回拨任务不存在或已被他人接受"},
		{"other_centre", "不是本中心的数据"},
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(e->code, known[i].code) == 0) {
			snprintf(out, out_len, "%s", known[i].text);
			return;
		}
	if (strcmp(e->code, "invalid_field") == 0 || strcmp(e->code, "missing_field") == 0)
		snprintf(out, out_len, "填写有误（%.40s）：%.200s", e->field, e->message);
	else
		snprintf(out, out_len, "服务器拒绝（%.40s）：%.200s", e->code, e->message);
}

/* The transport's failures (httpc.h, ssec.h) in the agent's words; what
 * this table does not know is shown as it is. */
static const char *agentcli_failure_text(const char *failure)
{
	static const struct {
		const char *prefix;
		const char *text;
	} known[] = {
		{"connection failed", "无法连接服务器"},
		{"connection closed by the server", "服务器断开了连接"},
		{"the server ended the stream", "服务器结束了消息流"},
		{"timeout", "服务器无应答（超时）"},
		{"HTTP 503", "服务器暂不可用"},
		{"HTTP 401", "会话未被接受"},
		{"could not start the request", "请求无法发出"},
		{"cannot create a connection", "无法建立连接"},
	};
	if (failure == NULL)
		return "";
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strncmp(failure, known[i].prefix, strlen(known[i].prefix)) == 0)
			return known[i].text;
	return failure;
}

/* --- the draft file -------------------------------------------------------------------- */

int agentcli_draft_path(const char *centre, const char *agent, char *out, size_t out_len)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (state != NULL && state[0] == '/')
		n = snprintf(out, out_len, "%s/hotline/agent-%s-%s.json", state, centre, agent);
	else if (home != NULL && home[0] != '\0')
		n = snprintf(out, out_len, "%s/.local/state/hotline/agent-%s-%s.json", home, centre,
			     agent);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= out_len ? -ENAMETOOLONG : 0;
}

const char *agentcli_draft_file(const struct agentcli *c)
{
	return c->draft_path;
}

unsigned agentcli_unsent(const struct agentcli *c)
{
	return c->m->unsent;
}

/* The work the draft keeps: what the agent wrote, not state changes (after
 * a restart of the client the agent decides those again). */
static bool agentcli_persistent(enum agentcli_do what)
{
	return what == AGENTCLI_DO_WRAP_UP || what == AGENTCLI_DO_TICKET ||
	       what == AGENTCLI_DO_BOOK || what == AGENTCLI_DO_ORDER_REPLY;
}

/* mkdir -p of path's folder, each new folder 0700. */
static int agentcli_make_parent(const char *path)
{
	char dir[AGENTCLI_PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int agentcli_write_file(const char *path, const char *text)
{
	char tmp[AGENTCLI_PATH_MAX + 8];
	int rc = agentcli_make_parent(path);
	if (rc != 0)
		return rc;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text), done = 0;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = -errno;
			close(fd);
			unlink(tmp);
			return rc != 0 ? rc : -EIO;
		}
		done += (size_t)n;
	}
	/* Renamed only once on disk: a crash leaves the old draft or the new. */
	if (fsync(fd) != 0 || close(fd) != 0) {
		rc = -errno;
		unlink(tmp);
		return rc;
	}
	if (rename(tmp, path) != 0) {
		rc = -errno;
		unlink(tmp);
		return rc;
	}
	return 0;
}

int agentcli_save_draft(struct agentcli *c)
{
	if (c->draft_path[0] == '\0')
		return 0;
	char *model = agentmodel_draft_json(c->m);
	json_t *root = model != NULL ? json_loads(model, 0, NULL) : NULL;
	free(model);
	json_t *actions = json_array();
	if (root == NULL || actions == NULL) {
		json_decref(root);
		json_decref(actions);
		return -ENOMEM;
	}
	for (struct agentcli_action *a = c->head; a != NULL; a = a->next) {
		if (!agentcli_persistent(a->what))
			continue;
		json_array_append_new(
			actions,
			json_pack("{s:s,s:i,s:O,s:i,s:I,s:b,s:b}", "do", agentcli_do_names[a->what],
				  "form", (int)a->form, "args", a->args, "step", a->step,
				  "ticket_id", (json_int_t)a->ticket_id, "ambiguous",
				  a->ambiguous || a->attempts > 0 || (c->in_flight && a == c->head),
				  "reply_sent",
				  a->reply_sent || (c->in_flight && a == c->head &&
						    a->step == AGENTCLI_STEP_ORDER_REPLY)));
	}
	json_object_set_new(root, "actions", actions);
	char *text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (text == NULL)
		return -ENOMEM;
	int rc = agentcli_write_file(c->draft_path, text);
	free(text);
	if (rc == 0)
		c->m->draft_dirty = false;
	return rc;
}

static void agentcli_on_draft_timer(evutil_socket_t fd, short what, void *arg)
{
	struct agentcli *c = arg;
	c->draft_armed = false;
	int rc = agentcli_save_draft(c);
	if (rc != 0) {
		agentmodel_note(c->m, agentcli_now(), true, "草稿无法保存到 %s：%s", c->draft_path,
				strerror(-rc));
		c->m->draft_dirty = false; /* said once; the next change tries again */
		if (c->o.changed != NULL)
			c->o.changed(c->o.arg);
	}
}

void agentcli_model_changed(struct agentcli *c)
{
	if (!c->m->draft_dirty || c->draft_armed || c->draft_path[0] == '\0')
		return;
	struct timeval tv = {0, AGENTCLI_DRAFT_DELAY_MS * 1000};
	if (evtimer_add(c->draft_timer, &tv) == 0)
		c->draft_armed = true;
}

static struct agentcli_action *agentcli_action_new(enum agentcli_do what, enum agentmodel_form form,
						   json_t *args, agentcli_done_fn done, void *arg)
{
	struct agentcli_action *a = calloc(1, sizeof *a);
	if (a == NULL) {
		json_decref(args);
		return NULL;
	}
	a->what = what;
	a->form = form;
	a->args = args != NULL ? args : json_object();
	a->done = done;
	a->done_arg = arg;
	if (a->args == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

static void agentcli_action_free(struct agentcli_action *a)
{
	if (a == NULL)
		return;
	json_decref(a->args);
	free(a);
}

static void agentcli_push_back(struct agentcli *c, struct agentcli_action *a)
{
	a->next = NULL;
	if (c->tail != NULL)
		c->tail->next = a;
	else
		c->head = a;
	c->tail = a;
	c->n_actions++;
}

/* Before everything queued, or right after the head when it is on the wire
 * (its answer is awaited). */
static void agentcli_push_front(struct agentcli *c, struct agentcli_action *a)
{
	if (c->in_flight && c->head != NULL) {
		a->next = c->head->next;
		c->head->next = a;
		if (c->tail == c->head)
			c->tail = a;
	} else {
		a->next = c->head;
		c->head = a;
		if (c->tail == NULL)
			c->tail = a;
	}
	c->n_actions++;
}

/* Loads the draft of the model's agent (once). */
static void agentcli_load_draft(struct agentcli *c)
{
	char err[256];
	char *text = NULL;
	size_t len = 0;

	if (c->draft_loaded || c->m->centre[0] == '\0' || c->m->agent_id[0] == '\0')
		return;
	c->draft_loaded = true;
	if (c->draft_path[0] == '\0' &&
	    agentcli_draft_path(c->m->centre, c->m->agent_id, c->draft_path,
				sizeof c->draft_path) != 0) {
		agentmodel_note(c->m, agentcli_now(), true,
				"没有保存草稿的位置（请设置 HOME 或 XDG_STATE_HOME）");
		c->draft_path[0] = '\0';
		return;
	}
	if (access(c->draft_path, F_OK) != 0)
		return;
	if (readfile_all(c->draft_path, AGENTCLI_DRAFT_MAX, &text, &len, err, sizeof err) != 0) {
		agentmodel_note(c->m, agentcli_now(), true, "草稿无法读取：%s", err);
		return;
	}
	int rc = agentmodel_draft_load(c->m, text, len);
	if (rc == -EPERM) {
		free(text);
		return;
	}
	if (rc != 0)
		agentmodel_note(c->m, agentcli_now(), true, "草稿 %s 有部分内容无法恢复",
				c->draft_path);
	json_t *root = json_loadb(text, len, 0, NULL);
	json_t *actions = json_object_get(root, "actions");
	unsigned restored = 0;
	for (size_t i = 0; i < json_array_size(actions); i++) {
		json_t *j = json_array_get(actions, i);
		const char *name = json_string_value(json_object_get(j, "do"));
		for (int w = 0; name != NULL && w < AGENTCLI_DO_COUNT; w++) {
			if (strcmp(name, agentcli_do_names[w]) != 0 ||
			    !agentcli_persistent((enum agentcli_do)w))
				continue;
			int form = (int)json_integer_value(json_object_get(j, "form"));
			if (form <= AGENTMODEL_FORM_NONE || form >= AGENTMODEL_FORM_COUNT)
				form = AGENTMODEL_FORM_NONE;
			struct agentcli_action *a = agentcli_action_new(
				(enum agentcli_do)w, (enum agentmodel_form)form,
				json_incref(json_object_get(j, "args")), NULL, NULL);
			if (a == NULL)
				break;
			a->step = (int)json_integer_value(json_object_get(j, "step"));
			a->ticket_id = (int64_t)json_integer_value(json_object_get(j, "ticket_id"));
			a->ambiguous = json_is_true(json_object_get(j, "ambiguous"));
			a->reply_sent = json_is_true(json_object_get(j, "reply_sent"));
			/* The form is on its way again: not to be sent twice. */
			if (a->form != AGENTMODEL_FORM_NONE)
				c->m->forms[a->form].sending = true;
			agentcli_push_back(c, a);
			restored++;
		}
	}
	json_decref(root);
	free(text);
	agentmodel_note(c->m, agentcli_now(), false, "已恢复草稿%s",
			restored > 0 ? "和未发送的操作" : "");
	if (restored > 0)
		agentmodel_note(c->m, agentcli_now(), false, "%u 项未发送的操作将在登录后发送",
				restored);
}

/* --- the link ----------------------------------------------------------------------- */

/* ONLINE while the stream is up and the last read was answered. */
static void agentcli_update_link(struct agentcli *c, const char *detail)
{
	int64_t now = agentcli_now();
	if (!c->m->logged_in)
		return;
	if (c->stream_up && !c->poll_failed)
		agentmodel_set_link(c->m, AGENTMODEL_LINK_ONLINE, "", now);
	else if (c->poll_failed || c->m->link == AGENTMODEL_LINK_ONLINE ||
		 c->m->link == AGENTMODEL_LINK_BROKEN)
		agentmodel_set_link(c->m, AGENTMODEL_LINK_BROKEN, detail, now);
	else
		agentmodel_set_link(c->m, AGENTMODEL_LINK_CONNECTING, detail, now);
}

static void agentcli_on_stream_message(const char *event, const char *data, size_t len, void *arg)
{
	struct agentcli *c = arg;
	unsigned want = agentmodel_on_stream(c->m, event, data, len, agentcli_now());
	if (want & AGENTMODEL_WANT_TICKETS)
		agentcli_read(c, AGENTCLI_READ_TICKETS, c->m->call.call_id, NULL, NULL);
	if (want & AGENTMODEL_WANT_ME)
		agentcli_read(c, AGENTCLI_READ_ME, NULL, NULL, NULL);
	agentcli_changed(c);
}

static void agentcli_relogin(struct agentcli *c, const char *why);
static void agentcli_check_session(struct agentcli *c);

static void agentcli_on_stream_state(enum ssec_state state, const char *detail, void *arg)
{
	struct agentcli *c = arg;
	switch (state) {
	case SSEC_CONNECTED:
		c->stream_up = true;
		/* Whatever happened while away: the broker says where we are. */
		agentcli_read(c, AGENTCLI_READ_ME, NULL, NULL, NULL);
		break;
	case SSEC_DISCONNECTED:
		c->stream_up = false;
		agentcli_update_link(c, agentcli_failure_text(detail));
		break;
	case SSEC_UNAUTHORISED:
		c->stream_up = false;
		agentcli_check_session(c);
		break;
	}
	agentcli_changed(c);
}

static int agentcli_open_stream(struct agentcli *c)
{
	char err[256];
	if (c->stream != NULL)
		return ssec_set_bearer(c->stream, c->token);
	const struct ssec_auth auth = {.kind = SSEC_AUTH_BEARER, .secret = c->token};
	c->stream = ssec_new(c->base, c->url, "/v1/agents/stream", &auth,
			     agentcli_on_stream_message, agentcli_on_stream_state, c, err,
			     sizeof err);
	if (c->stream == NULL) {
		agentmodel_note(c->m, agentcli_now(), true, "无法打开消息流：%s", err);
		return -EIO;
	}
	return 0;
}

static void agentcli_on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct agentcli *c = arg;
	if (c->token != NULL)
		agentcli_read(c, AGENTCLI_READ_ME, NULL, NULL, NULL);
}

static void agentcli_start_polling(struct agentcli *c)
{
	int ms = c->o.poll_ms > 0 ? c->o.poll_ms : AGENTCLI_POLL_MS;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	if (!evtimer_pending(c->poll_timer, NULL))
		(void)evtimer_add(c->poll_timer, &tv);
}

/* The token is gone: log in again with the password, or ask the agent. */
static void agentcli_relogin(struct agentcli *c, const char *why)
{
	agentcli_wipe_free(c->token);
	c->token = NULL;
	if (c->head != NULL && c->head->what == AGENTCLI_DO_LOGIN)
		return;
	for (struct agentcli_action *a = c->head; a != NULL; a = a->next)
		if (a->what == AGENTCLI_DO_LOGIN)
			return;
	if (c->password != NULL) {
		struct agentcli_action *a = agentcli_action_new(
			AGENTCLI_DO_LOGIN, AGENTMODEL_FORM_NONE,
			json_pack("{s:s,s:s}", "centre", c->m->centre, "agent_id", c->m->agent_id),
			NULL, NULL);
		if (a != NULL) {
			agentcli_push_front(c, a);
			agentcli_pump(c);
		}
		return;
	}
	char message[AGENTMODEL_MESSAGE_MAX];
	snprintf(message, sizeof message, "%s，请重新登录（草稿和未发送的操作都保留）", why);
	ssec_free(c->stream);
	c->stream = NULL;
	c->stream_up = false;
	evtimer_del(c->poll_timer);
	agentmodel_logged_out(c->m, message, agentcli_now());
}

/* The answer of GET /healthz after a 401. */
static void agentcli_on_health(const struct httpc_response *r, void *arg)
{
	struct agentcli *c = arg;
	c->health_in_flight = false;
	if (r->status == 200) {
		/* The broker is up and has its sessions back: ours is gone. */
		agentcli_relogin(c, "会话已失效");
	} else {
		c->poll_failed = true;
		agentcli_update_link(c, "服务器正在启动");
	}
	agentcli_changed(c);
	agentcli_pump(c);
}

/*
 * A 401 is a lost session only once the broker has recovered: a broker
 * that is starting answers before its sessions are back from PostgreSQL
 * (its /healthz says 503 until then). So a 401 is checked against
 * /healthz first, and logging in again (a new session each time) waits
 * for a broker that is really up.
 */
static void agentcli_check_session(struct agentcli *c)
{
	if (c->health_in_flight || c->token == NULL)
		return;
	if (httpc_get(c->http, "/healthz", NULL, agentcli_on_health, c) == 0)
		c->health_in_flight = true;
	else
		agentcli_relogin(c, "会话已失效");
}

/* --- reads ------------------------------------------------------------------------------ */

static void agentcli_on_read(const struct httpc_response *r, void *arg)
{
	struct agentcli_read *rd = arg;
	struct agentcli *c = rd->c;
	int64_t now = agentcli_now();
	agentcli_done_fn done = rd->done;
	void *done_arg = rd->done_arg;
	bool ok = r->status == 200;
	int rc = 0;

	rd->in_flight = false;
	rd->done = NULL;
	if (r->status == 401) {
		agentcli_report(done, done_arg, false, "unauthorised", "会话未被接受", NULL);
		agentcli_check_session(c);
		agentcli_changed(c);
		return;
	}
	switch (rd->kind) {
	case AGENTCLI_READ_ME:
		c->poll_failed = !ok;
		if (ok)
			rc = agentmodel_on_me(c->m, r->body, r->body_len, now);
		agentcli_update_link(c, ok             ? "" :
					r->status == 0 ? agentcli_failure_text(r->failure) :
							 "读取状态失败");
		break;
	case AGENTCLI_READ_TICKETS:
		if (ok)
			rc = agentmodel_on_tickets(c->m, rd->call_id, r->body, r->body_len);
		break;
	case AGENTCLI_READ_HOSPITALS:
		if (ok)
			rc = agentmodel_on_hospitals(c->m, r->body, r->body_len);
		break;
	case AGENTCLI_READ_ORDERS:
		if (ok)
			rc = agentmodel_on_orders(c->m, r->body, r->body_len, now);
		break;
	case AGENTCLI_READ_COUNT:
		break;
	}
	if (ok && rc != 0)
		ok = false;
	if (!ok && rd->kind != AGENTCLI_READ_ME) {
		struct agentcli_error e;
		memset(&e, 0, sizeof e);
		char text[AGENTMODEL_MESSAGE_MAX];
		agentcli_parse_error(r, &e);
		agentcli_explain(&e, text, sizeof text);
		agentmodel_note(c->m, now, true, "读取%s失败：%s",
				rd->kind == AGENTCLI_READ_TICKETS   ? "来电者的工单" :
				rd->kind == AGENTCLI_READ_HOSPITALS ? "医院列表" :
								      "12345 工单",
				text);
		agentcli_report(done, done_arg, false, e.code, text, NULL);
	} else if (!ok) {
		agentcli_report(done, done_arg, false, "unreachable", "读取状态失败", NULL);
	} else {
		agentcli_report(done, done_arg, true, "", "", NULL);
	}
	if (rd->again) {
		rd->again = false;
		agentcli_read(c, rd->kind, rd->call_id, NULL, NULL);
	}
	agentcli_changed(c);
}

static void agentcli_read(struct agentcli *c, enum agentcli_read_kind kind, const char *call_id,
			  agentcli_done_fn done, void *arg)
{
	struct agentcli_read *rd = &c->reads[kind];
	char path[AGENTCLI_PATH_MAX];

	if (c->token == NULL) {
		agentcli_report(done, arg, false, "not_logged_in", "请先登录", NULL);
		return;
	}
	if (rd->in_flight) {
		/* One at a time; a newer question is asked once this returns. */
		rd->again = true;
		if (call_id != NULL)
			snprintf(rd->call_id, sizeof rd->call_id, "%s", call_id);
		if (done != NULL) {
			agentcli_report(rd->done, rd->done_arg, false, "superseded",
					"被新的请求取代", NULL);
			rd->done = done;
			rd->done_arg = arg;
		}
		return;
	}
	switch (kind) {
	case AGENTCLI_READ_ME:
		snprintf(path, sizeof path, "/v1/agents/me");
		break;
	case AGENTCLI_READ_TICKETS:
		snprintf(rd->call_id, sizeof rd->call_id, "%s", call_id != NULL ? call_id : "");
		/* Call ids are of the API's URL-safe alphabet. */
		snprintf(path, sizeof path, "/v1/tickets?caller_call_id=%s", rd->call_id);
		break;
	case AGENTCLI_READ_HOSPITALS:
		snprintf(path, sizeof path, "/v1/hospitals");
		break;
	case AGENTCLI_READ_ORDERS:
		snprintf(path, sizeof path, "/v1/workorders?view=open");
		break;
	case AGENTCLI_READ_COUNT:
		return;
	}
	rd->done = done;
	rd->done_arg = arg;
	if (httpc_get(c->http, path, c->token, agentcli_on_read, rd) != 0) {
		rd->done = NULL;
		agentcli_report(done, arg, false, "internal", "内存不足", NULL);
		return;
	}
	rd->in_flight = true;
}

/* --- actions: their requests ---------------------------------------------------------- */

static const char *agentcli_arg(const struct agentcli_action *a, const char *key)
{
	const char *v = json_string_value(json_object_get(a->args, key));
	return v != NULL ? v : "";
}

/* The request of a's current step: path, GET or POST, and the body (kept
 * in c->body until its answer: httpc does not copy it). */
static int agentcli_prepare(struct agentcli *c, struct agentcli_action *a, char *path,
			    size_t path_len, bool *get)
{
	json_t *body = NULL;
	*get = false;
	free(c->body);
	c->body = NULL;

	switch (a->what) {
	case AGENTCLI_DO_LOGIN:
		snprintf(path, path_len, "/v1/agents/login");
		body = json_pack("{s:s,s:s,s:s}", "centre", agentcli_arg(a, "centre"), "agent_id",
				 agentcli_arg(a, "agent_id"), "password",
				 c->password != NULL ? c->password : "");
		break;
	case AGENTCLI_DO_STATE:
		snprintf(path, path_len, "/v1/agents/state");
		body = json_deep_copy(a->args);
		break;
	case AGENTCLI_DO_WRAP_UP:
		snprintf(path, path_len, "/v1/agents/wrap-up");
		body = json_pack("{s:s,s:s}", "call_id", agentcli_arg(a, "call_id"), "disposition",
				 agentcli_arg(a, "disposition"));
		if (body != NULL && agentcli_arg(a, "category")[0] != '\0')
			json_object_set_new(body, "category",
					    json_string(agentcli_arg(a, "category")));
		break;
	case AGENTCLI_DO_TICKET:
		if (a->step == AGENTCLI_STEP_FIRST && a->ambiguous)
			a->step = AGENTCLI_STEP_TICKET_FIND;
		if (a->step == AGENTCLI_STEP_TICKET_NOTE && a->ambiguous)
			a->step = AGENTCLI_STEP_TICKET_NOTE_FIND;
		switch (a->step) {
		case AGENTCLI_STEP_TICKET_FIND:
			*get = true;
			snprintf(path, path_len, "/v1/tickets?caller_call_id=%s&mine=1",
				 agentcli_arg(a, "call_id"));
			break;
		case AGENTCLI_STEP_TICKET_NOTE:
			snprintf(path, path_len, "/v1/tickets/%lld/entries",
				 (long long)a->ticket_id);
			body = json_pack("{s:s,s:s}", "kind", "note", "body",
					 agentcli_arg(a, "note"));
			break;
		case AGENTCLI_STEP_TICKET_NOTE_FIND:
			*get = true;
			snprintf(path, path_len, "/v1/tickets/%lld", (long long)a->ticket_id);
			break;
		default:
			a->step = AGENTCLI_STEP_FIRST;
			snprintf(path, path_len, "/v1/tickets");
			body = json_pack("{s:s,s:s,s:s}", "kind", agentcli_arg(a, "kind"),
					 "call_id", agentcli_arg(a, "call_id"), "subject",
					 agentcli_arg(a, "subject"));
			break;
		}
		break;
	case AGENTCLI_DO_BOOK:
		snprintf(path, path_len, "/v1/bookings");
		body = json_deep_copy(a->args);
		break;
	case AGENTCLI_DO_ORDER_REPLY: {
		long long id = (long long)json_integer_value(json_object_get(a->args, "order_id"));
		if (a->step == AGENTCLI_STEP_FIRST || a->ambiguous)
			a->step = AGENTCLI_STEP_ORDER_READ;
		if (a->step == AGENTCLI_STEP_ORDER_READ) {
			*get = true;
			snprintf(path, path_len, "/v1/workorders/%lld", id);
			break;
		}
		snprintf(path, path_len, "/v1/workorders/%lld/actions", id);
		if (a->step == AGENTCLI_STEP_ORDER_SIGN)
			body = json_pack("{s:s}", "action", "sign");
		else if (a->step == AGENTCLI_STEP_ORDER_START)
			body = json_pack("{s:s}", "action", "start");
		else
			body = json_pack("{s:s,s:s}", "action", "reply", "text",
					 agentcli_arg(a, "text"));
		break;
	}
	case AGENTCLI_DO_CALLBACK_ACCEPT:
		snprintf(path, path_len, "/v1/agents/callbacks/accept");
		body = json_pack("{s:s}", "callback_id", agentcli_arg(a, "call_id"));
		break;
	case AGENTCLI_DO_CALLBACK_FINISH:
		snprintf(path, path_len, "/v1/agents/callbacks/finish");
		body = json_pack("{s:s,s:s}", "callback_id", agentcli_arg(a, "call_id"), "outcome",
				 agentcli_arg(a, "outcome"));
		break;
	case AGENTCLI_DO_LOGOUT:
		snprintf(path, path_len, "/v1/agents/logout");
		body = json_object();
		break;
	case AGENTCLI_DO_COUNT:
		return -EINVAL;
	}
	if (*get)
		return 0;
	c->body = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	return c->body != NULL ? 0 : -ENOMEM;
}

/* --- actions: their answers ------------------------------------------------------------ */

enum agentcli_verdict {
	AGENTCLI_DONE,
	AGENTCLI_NEXT, /* the next step, at once */
	AGENTCLI_FAILED,
	AGENTCLI_RETRY,
	AGENTCLI_RELOGIN,
};

/* The head action is over: tell its form, its caller and the screen. */
static void agentcli_finish(struct agentcli *c, bool ok, const char *code, const char *message,
			    const char *value)
{
	struct agentcli_action *a = c->head;
	int64_t now = agentcli_now();

	c->head = a->next;
	if (c->head == NULL)
		c->tail = NULL;
	c->n_actions--;
	c->backoff_ms = AGENTCLI_BACKOFF_FIRST_MS;
	if (a->form != AGENTMODEL_FORM_NONE)
		agentmodel_sent(c->m, a->form, ok, message, now);
	else if (message != NULL && message[0] != '\0')
		agentmodel_note(c->m, now, !ok, "%s", message);
	if (agentcli_persistent(a->what))
		c->m->draft_dirty = true;
	agentcli_report(a->done, a->done_arg, ok, code, message, value);
	agentcli_action_free(a);
}

/* A login went through: the token, the model, the stream, the reads. */
static void agentcli_logged_in(struct agentcli *c, json_t *answer, const struct httpc_response *r)
{
	const char *token = json_string_value(json_object_get(answer, "token"));
	agentcli_wipe_free(c->token);
	c->token = strdup(token);
	if (agentmodel_on_login(c->m, r->body, r->body_len, agentcli_now()) != 0 ||
	    c->token == NULL)
		return;
	agentcli_load_draft(c);
	if (agentcli_open_stream(c) != 0)
		agentmodel_note(c->m, agentcli_now(), true, "消息流无法打开，状态靠定时读取");
	agentcli_start_polling(c);
	agentcli_read(c, AGENTCLI_READ_ME, NULL, NULL, NULL);
	if (!c->m->hospitals_loaded)
		agentcli_read(c, AGENTCLI_READ_HOSPITALS, NULL, NULL, NULL);
}

/* Finds in a ticket list (GET /v1/tickets) the one this action created. */
static int64_t agentcli_find_ticket(struct agentcli *c, struct agentcli_action *a, json_t *answer)
{
	json_t *list = json_object_get(answer, "tickets");
	char creator[AGENTMODEL_ID_MAX + 8];
	snprintf(creator, sizeof creator, "agent:%s", c->m->agent_id);
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *t = json_array_get(list, i);
		const char *call = json_string_value(json_object_get(t, "call_id"));
		const char *subject = json_string_value(json_object_get(t, "subject"));
		const char *by = json_string_value(json_object_get(t, "created_by"));
		if (call != NULL && subject != NULL &&
		    strcmp(call, agentcli_arg(a, "call_id")) == 0 &&
		    strcmp(subject, agentcli_arg(a, "subject")) == 0 &&
		    (by == NULL || strcmp(by, creator) == 0 || strcmp(by, c->m->agent_id) == 0))
			return (int64_t)json_integer_value(json_object_get(t, "id"));
	}
	return 0;
}

static bool agentcli_ticket_has_note(struct agentcli_action *a, json_t *answer)
{
	json_t *entries = json_object_get(answer, "entries");
	for (size_t i = 0; i < json_array_size(entries); i++) {
		json_t *e = json_array_get(entries, i);
		const char *kind = json_string_value(json_object_get(e, "kind"));
		const char *body = json_string_value(json_object_get(e, "body"));
		if (kind != NULL && body != NULL && strcmp(kind, "note") == 0 &&
		    strcmp(body, agentcli_arg(a, "note")) == 0)
			return true;
	}
	return false;
}

/* Judges a 2xx (or a refusal that a step expects) for a's current step;
 * value gets what to report when it is done. */
static enum agentcli_verdict agentcli_judge_success(struct agentcli *c, struct agentcli_action *a,
						    const struct httpc_response *r, json_t *answer,
						    char *value, size_t value_len, char *message,
						    size_t message_len)
{
	switch (a->what) {
	case AGENTCLI_DO_LOGIN:
		if (json_string_value(json_object_get(answer, "token")) == NULL) {
			snprintf(message, message_len, "登录应答无法识别");
			return AGENTCLI_FAILED;
		}
		agentcli_logged_in(c, answer, r);
		snprintf(value, value_len, "%s", agentmodel_state_name(c->m->state));
		return AGENTCLI_DONE;
	case AGENTCLI_DO_STATE:
		if (agentmodel_on_state_answer(c->m, r->body, r->body_len, agentcli_now()) != 0)
			agentmodel_note(c->m, agentcli_now(), true, "状态应答无法识别");
		snprintf(value, value_len, "%s%s%s", agentmodel_state_name(c->m->state),
			 c->m->state == AGENTMODEL_NOT_READY ? " " : "",
			 c->m->state == AGENTMODEL_NOT_READY ? c->m->reason : "");
		if (c->m->state == AGENTMODEL_NOT_READY)
			snprintf(message, message_len, "已示忙：%s",
				 agentmodel_reason_label(c->m->reason));
		else
			snprintf(message, message_len, "状态：%s",
				 agentmodel_state_label(c->m->state));
		return AGENTCLI_DONE;
	case AGENTCLI_DO_WRAP_UP:
		snprintf(value, value_len, "%s", agentcli_arg(a, "call_id"));
		snprintf(message, message_len, "通话 %s 的小结已记录", agentcli_arg(a, "call_id"));
		if (json_is_true(json_object_get(a->args, "then_ready"))) {
			struct agentcli_action *ready = agentcli_action_new(
				AGENTCLI_DO_STATE, AGENTMODEL_FORM_NONE,
				json_pack("{s:s}", "state", "ready"), NULL, NULL);
			if (ready != NULL) {
				/* Right behind this wrap-up, before anything else. */
				ready->next = a->next;
				a->next = ready;
				if (c->tail == a)
					c->tail = ready;
				c->n_actions++;
			}
		}
		return AGENTCLI_DONE;
	case AGENTCLI_DO_TICKET:
		switch (a->step) {
		case AGENTCLI_STEP_TICKET_FIND:
			/* Created by the try that got no answer, or not at all. */
			a->ambiguous = false;
			a->ticket_id = agentcli_find_ticket(c, a, answer);
			if (a->ticket_id <= 0) {
				a->step = AGENTCLI_STEP_FIRST;
				return AGENTCLI_NEXT;
			}
			break;
		case AGENTCLI_STEP_TICKET_NOTE_FIND:
			a->ambiguous = false;
			if (!agentcli_ticket_has_note(a, answer)) {
				a->step = AGENTCLI_STEP_TICKET_NOTE;
				return AGENTCLI_NEXT;
			}
			goto ticket_done;
		case AGENTCLI_STEP_TICKET_NOTE:
			goto ticket_done;
		default:
			a->ticket_id = (int64_t)json_integer_value(json_object_get(answer, "id"));
			if (a->ticket_id <= 0) {
				snprintf(message, message_len, "工单应答无法识别");
				return AGENTCLI_FAILED;
			}
			break;
		}
		/* The ticket exists: its first note next, if there is one. */
		if (agentcli_arg(a, "note")[0] != '\0') {
			a->step = AGENTCLI_STEP_TICKET_NOTE;
			return AGENTCLI_NEXT;
		}
ticket_done:
		snprintf(value, value_len, "%lld", (long long)a->ticket_id);
		snprintf(message, message_len, "工单 #%lld 已建立", (long long)a->ticket_id);
		return AGENTCLI_DONE;
	case AGENTCLI_DO_BOOK:
		snprintf(value, value_len, "%s", agentcli_arg(a, "booking_no"));
		snprintf(message, message_len, "预约成功，预约号 %s",
			 agentcli_arg(a, "booking_no"));
		return AGENTCLI_DONE;
	case AGENTCLI_DO_ORDER_REPLY: {
		long long id = (long long)json_integer_value(json_object_get(a->args, "order_id"));
		if (a->step == AGENTCLI_STEP_ORDER_READ) {
			const char *stage = json_string_value(json_object_get(answer, "stage"));
			a->ambiguous = false;
			if (stage == NULL)
				stage = "";
			if (strcmp(stage, "received") == 0) {
				a->step = AGENTCLI_STEP_ORDER_SIGN;
			} else if (strcmp(stage, "signed") == 0) {
				a->step = AGENTCLI_STEP_ORDER_START;
			} else if (strcmp(stage, "in_progress") == 0) {
				a->step = AGENTCLI_STEP_ORDER_REPLY;
			} else if (a->reply_sent && (strcmp(stage, "replied") == 0 ||
						     strcmp(stage, "revisited") == 0 ||
						     strcmp(stage, "closed") == 0)) {
				break; /* the reply that got no answer did arrive */
			} else {
				snprintf(message, message_len, "工单 #%lld 处于“%s”阶段，不能回复",
					 id, stage);
				return AGENTCLI_FAILED;
			}
			return AGENTCLI_NEXT;
		}
		if (a->step == AGENTCLI_STEP_ORDER_SIGN) {
			a->step = AGENTCLI_STEP_ORDER_START;
			return AGENTCLI_NEXT;
		}
		if (a->step == AGENTCLI_STEP_ORDER_START) {
			a->step = AGENTCLI_STEP_ORDER_REPLY;
			return AGENTCLI_NEXT;
		}
		break;
	}
	case AGENTCLI_DO_CALLBACK_ACCEPT:
		snprintf(value, value_len, "%s", agentcli_arg(a, "call_id"));
		snprintf(message, message_len, "已接受回拨 %s，请等待电话接通",
			 agentcli_arg(a, "call_id"));
		return AGENTCLI_DONE;
	case AGENTCLI_DO_CALLBACK_FINISH:
		snprintf(value, value_len, "%s", agentcli_arg(a, "call_id"));
		snprintf(message, message_len, "回拨 %s 已结束：%s", agentcli_arg(a, "call_id"),
			 agentmodel_outcome_label(agentcli_arg(a, "outcome")));
		return AGENTCLI_DONE;
	case AGENTCLI_DO_LOGOUT:
		/* The agent left: nothing logs in for them any more. */
		agentcli_wipe_free(c->token);
		c->token = NULL;
		agentcli_wipe_free(c->password);
		c->password = NULL;
		ssec_free(c->stream);
		c->stream = NULL;
		c->stream_up = false;
		evtimer_del(c->poll_timer);
		agentmodel_logged_out(c->m, "已注销", agentcli_now());
		snprintf(message, message_len, "已注销");
		return AGENTCLI_DONE;
	case AGENTCLI_DO_COUNT:
		return AGENTCLI_FAILED;
	}
	/* An order's reply. */
	snprintf(value, value_len, "%lld",
		 (long long)json_integer_value(json_object_get(a->args, "order_id")));
	snprintf(message, message_len, "12345 工单 #%s 已回复", value);
	return AGENTCLI_DONE;
}

static enum agentcli_verdict agentcli_judge(struct agentcli *c, struct agentcli_action *a,
					    const struct httpc_response *r, char *code,
					    size_t code_len, char *value, size_t value_len,
					    char *message, size_t message_len)
{
	struct agentcli_error e;
	memset(&e, 0, sizeof e);

	code[0] = value[0] = message[0] = '\0';
	if (r->status == 0) {
		/* A refused connection carried nothing; anything else may have. */
		a->ambiguous = a->ambiguous || strcmp(r->failure, "connection failed") != 0;
		if (a->what == AGENTCLI_DO_ORDER_REPLY && a->step == AGENTCLI_STEP_ORDER_REPLY)
			a->reply_sent = true;
		snprintf(message, message_len, "%s", r->failure);
		return AGENTCLI_RETRY;
	}
	if (r->status == 502 || r->status == 503 || r->status == 504) {
		agentcli_parse_error(r, &e);
		snprintf(message, message_len, "%s", e.message);
		return AGENTCLI_RETRY;
	}
	if (r->status == 401 && a->what != AGENTCLI_DO_LOGIN)
		return AGENTCLI_RELOGIN;
	if (r->status >= 200 && r->status < 300) {
		json_t *answer = json_loadb(r->body, r->body_len, 0, NULL);
		enum agentcli_verdict v = agentcli_judge_success(c, a, r, answer, value, value_len,
								 message, message_len);
		json_decref(answer);
		if (v == AGENTCLI_FAILED)
			snprintf(code, code_len, "bad_answer");
		return v;
	}
	agentcli_parse_error(r, &e);
	snprintf(code, code_len, "%s", e.code);
	/* Refusals some steps expect. */
	if (a->what == AGENTCLI_DO_ORDER_REPLY && r->status == 409 &&
	    a->step != AGENTCLI_STEP_ORDER_READ && a->rereads++ < AGENTCLI_REREADS_MAX) {
		a->step = AGENTCLI_STEP_ORDER_READ; /* the stage moved: look again */
		return AGENTCLI_NEXT;
	}
	if (a->what == AGENTCLI_DO_TICKET && r->status == 409 &&
	    strcmp(e.code, "changed_meanwhile") == 0)
		return AGENTCLI_RETRY;
	if ((a->what == AGENTCLI_DO_CALLBACK_ACCEPT || a->what == AGENTCLI_DO_CALLBACK_FINISH) &&
	    r->status == 409 && a->ambiguous) {
		/* The first try, unanswered, did it. */
		snprintf(value, value_len, "%s", agentcli_arg(a, "call_id"));
		snprintf(message, message_len, "回拨 %s 已处理", agentcli_arg(a, "call_id"));
		code[0] = '\0';
		return AGENTCLI_DONE;
	}
	agentcli_explain(&e, message, message_len);
	if (a->what == AGENTCLI_DO_LOGIN) {
		/* A wrong password is not tried again and again. */
		agentcli_wipe_free(c->password);
		c->password = NULL;
		agentmodel_login_failed(c->m, message, agentcli_now());
	}
	return AGENTCLI_FAILED;
}

static void agentcli_on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct agentcli *c = arg;
	c->retry_armed = false;
	agentcli_pump(c);
}

static void agentcli_on_answer(const struct httpc_response *r, void *arg)
{
	struct agentcli *c = arg;
	struct agentcli_action *a = c->head;
	char code[64], value[128], message[AGENTMODEL_MESSAGE_MAX];

	c->in_flight = false;
	if (c->body != NULL && a != NULL && a->what == AGENTCLI_DO_LOGIN)
		sodium_memzero(c->body, strlen(c->body));
	free(c->body);
	c->body = NULL;
	if (a == NULL)
		return;
	enum agentcli_verdict v = agentcli_judge(c, a, r, code, sizeof code, value, sizeof value,
						 message, sizeof message);
	switch (v) {
	case AGENTCLI_DONE:
		agentcli_finish(c, true, "", message, value);
		break;
	case AGENTCLI_FAILED:
		agentcli_finish(c, false, code, message, value);
		break;
	case AGENTCLI_NEXT:
		a->attempts = 0;
		c->m->draft_dirty = c->m->draft_dirty || agentcli_persistent(a->what);
		break;
	case AGENTCLI_RELOGIN: {
		/* Waits for the verdict on the session, then goes again. */
		struct timeval tv = {0, AGENTCLI_BACKOFF_FIRST_MS * 1000};
		agentcli_check_session(c);
		if (c->token != NULL && evtimer_add(c->retry_timer, &tv) == 0)
			c->retry_armed = true;
		break;
	}
	case AGENTCLI_RETRY: {
		a->attempts++;
		if (r->status == 0) {
			c->poll_failed = true;
			agentcli_update_link(c, agentcli_failure_text(message));
		}
		char detail[AGENTMODEL_MESSAGE_MAX];
		snprintf(detail, sizeof detail, "%s未送达，%d 毫秒后重试（%s）",
			 agentcli_do_labels[a->what], c->backoff_ms,
			 agentcli_failure_text(message));
		snprintf(c->m->link_detail, sizeof c->m->link_detail, "%s", detail);
		struct timeval tv = {c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000};
		c->backoff_ms = c->backoff_ms * 2 > AGENTCLI_BACKOFF_MAX_MS ?
					AGENTCLI_BACKOFF_MAX_MS :
					c->backoff_ms * 2;
		if (agentcli_persistent(a->what))
			c->m->draft_dirty = true;
		if (evtimer_add(c->retry_timer, &tv) == 0)
			c->retry_armed = true;
		agentcli_changed(c);
		return;
	}
	}
	agentcli_changed(c);
	agentcli_pump(c);
}

/* Sends the head action's current step unless one is on the wire or
 * waiting for its retry. */
static void agentcli_pump(struct agentcli *c)
{
	char path[AGENTCLI_PATH_MAX];
	bool get;

	if (c->in_flight || c->retry_armed || c->head == NULL)
		return;
	struct agentcli_action *a = c->head;
	if (a->what != AGENTCLI_DO_LOGIN && c->token == NULL) {
		/* Waits for a login: the password's, or the agent's. */
		if (c->password != NULL)
			agentcli_relogin(c, "");
		return;
	}
	if (a->what == AGENTCLI_DO_LOGIN && c->password == NULL) {
		agentcli_finish(c, false, "no_password", "请输入密码登录", "");
		agentmodel_logged_out(c->m, "请输入密码登录", agentcli_now());
		agentcli_changed(c);
		return;
	}
	if (agentcli_prepare(c, a, path, sizeof path, &get) != 0) {
		agentcli_finish(c, false, "internal", "内存不足", "");
		agentcli_changed(c);
		return;
	}
	const char *token = a->what == AGENTCLI_DO_LOGIN ? NULL : c->token;
	int rc = get ? httpc_get(c->http, path, token, agentcli_on_answer, c) :
		       httpc_post_json_bearer(c->http, path, c->body, strlen(c->body), token,
					      agentcli_on_answer, c);
	if (rc != 0) {
		agentcli_finish(c, false, "internal", "请求无法发出", "");
		agentcli_changed(c);
		return;
	}
	c->in_flight = true;
}

/* --- commands -------------------------------------------------------------------------- */

/* A booking number the broker has not seen from this agent: the agent, the
 * second, a counter; 64 characters at most. */
static void agentcli_booking_no(struct agentcli *c, char out[AGENTCLI_BOOKING_NO_MAX + 1])
{
	char stamp[TIMEUTIL_RFC3339_LEN];
	int64_t now = agentcli_now();
	timeutil_format_utc(now - now % 1000000, stamp);
	char digits[20];
	size_t n = 0;
	for (const char *p = stamp; *p != '\0' && n < 14; p++)
		if (*p >= '0' && *p <= '9')
			digits[n++] = *p;
	digits[n] = '\0';
	snprintf(out, AGENTCLI_BOOKING_NO_MAX + 1, "%.40s-%s-%u", c->m->agent_id, digits,
		 ++c->booking_seq % 1000u);
}

int agentcli_execute(struct agentcli *c, struct agentmodel_command *cmd, agentcli_done_fn done,
		     void *arg)
{
	enum agentcli_do what;
	json_t *args = NULL;

	switch (cmd->kind) {
	case AGENTMODEL_CMD_NONE:
		agentcli_report(done, arg, true, "", "", "");
		return 0;
	case AGENTMODEL_CMD_QUIT: {
		int rc = agentcli_save_draft(c);
		agentcli_report(done, arg, rc == 0, rc == 0 ? "" : "draft",
				rc == 0 ? "" : strerror(-rc), "");
		if (c->o.quit != NULL)
			c->o.quit(c->o.arg);
		return 0;
	}
	case AGENTMODEL_CMD_LOAD_ORDERS:
		agentcli_read(c, AGENTCLI_READ_ORDERS, NULL, done, arg);
		return 0;
	case AGENTMODEL_CMD_LOAD_HOSPITALS:
		agentcli_read(c, AGENTCLI_READ_HOSPITALS, NULL, done, arg);
		return 0;
	case AGENTMODEL_CMD_LOGIN:
		what = AGENTCLI_DO_LOGIN;
		agentcli_wipe_free(c->password);
		c->password = strdup(cmd->password);
		sodium_memzero(cmd->password, sizeof cmd->password);
		if (c->password == NULL)
			return -ENOMEM;
		snprintf(c->m->centre, sizeof c->m->centre, "%s", cmd->centre);
		snprintf(c->m->agent_id, sizeof c->m->agent_id, "%s", cmd->agent_id);
		args = json_pack("{s:s,s:s}", "centre", cmd->centre, "agent_id", cmd->agent_id);
		break;
	case AGENTMODEL_CMD_READY:
		what = AGENTCLI_DO_STATE;
		args = json_pack("{s:s}", "state", "ready");
		break;
	case AGENTMODEL_CMD_NOT_READY:
		what = AGENTCLI_DO_STATE;
		args = json_pack("{s:s,s:s}", "state", "not_ready", "reason", cmd->reason);
		break;
	case AGENTMODEL_CMD_WRAP_UP:
		what = AGENTCLI_DO_WRAP_UP;
		args = json_pack("{s:s,s:s,s:s,s:b}", "call_id", cmd->call_id, "disposition",
				 cmd->disposition, "category", cmd->category, "then_ready",
				 cmd->then_ready);
		break;
	case AGENTMODEL_CMD_TICKET:
		what = AGENTCLI_DO_TICKET;
		args = json_pack("{s:s,s:s,s:s,s:s}", "call_id", cmd->call_id, "kind",
				 cmd->ticket_kind, "subject", cmd->subject, "note", cmd->text);
		break;
	case AGENTMODEL_CMD_BOOK: {
		char number[AGENTCLI_BOOKING_NO_MAX + 1];
		what = AGENTCLI_DO_BOOK;
		agentcli_booking_no(c, number);
		/* The number is fixed now, so that every retry is the same
		 * booking (doc/bookings.md: the idempotency key). */
		args = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "booking_no", number, "hospital",
				 cmd->hospital, "department", cmd->department, "visit_date",
				 cmd->visit_date, "channel", "phone", "call_id", cmd->call_id);
		break;
	}
	case AGENTMODEL_CMD_ORDER_REPLY:
		what = AGENTCLI_DO_ORDER_REPLY;
		args = json_pack("{s:I,s:s}", "order_id", (json_int_t)cmd->order_id, "text",
				 cmd->text);
		break;
	case AGENTMODEL_CMD_CALLBACK_ACCEPT:
		what = AGENTCLI_DO_CALLBACK_ACCEPT;
		args = json_pack("{s:s}", "call_id", cmd->call_id);
		break;
	case AGENTMODEL_CMD_CALLBACK_FINISH:
		what = AGENTCLI_DO_CALLBACK_FINISH;
		args = json_pack("{s:s,s:s}", "call_id", cmd->call_id, "outcome", cmd->outcome);
		break;
	case AGENTMODEL_CMD_LOGOUT:
		what = AGENTCLI_DO_LOGOUT;
		break;
	default:
		return -EINVAL;
	}
	struct agentcli_action *a = agentcli_action_new(what, cmd->form, args, done, arg);
	if (a == NULL)
		return -ENOMEM;
	if (what == AGENTCLI_DO_LOGIN) {
		/* A login goes first; one already queued gives way to it. */
		for (struct agentcli_action **p = &c->head; *p != NULL;) {
			struct agentcli_action *q = *p;
			if (q->what == AGENTCLI_DO_LOGIN && !(c->in_flight && q == c->head)) {
				*p = q->next;
				c->n_actions--;
				agentcli_report(q->done, q->done_arg, false, "superseded",
						"被新的登录取代", "");
				agentcli_action_free(q);
				continue;
			}
			p = &q->next;
		}
		c->tail = NULL;
		for (struct agentcli_action *q = c->head; q != NULL; q = q->next)
			c->tail = q;
		agentcli_push_front(c, a);
		c->m->logging_in = true;
		agentcli_load_draft(c);
	} else {
		agentcli_push_back(c, a);
		if (agentcli_persistent(what))
			c->m->draft_dirty = true;
	}
	agentcli_changed(c);
	agentcli_pump(c);
	return 0;
}

/* --- life ------------------------------------------------------------------------------- */

struct agentcli *agentcli_new(const struct agentcli_options *o, struct agentmodel *m, char *err,
			      size_t err_len)
{
	struct agentcli *c = calloc(1, sizeof *c);
	if (c == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	c->base = o->base;
	c->m = m;
	c->o = *o;
	c->backoff_ms = AGENTCLI_BACKOFF_FIRST_MS;
	c->url = strdup(o->url);
	c->o.url = c->url;
	c->o.password = NULL;
	if (o->password != NULL)
		c->password = strdup(o->password);
	if (o->draft_path != NULL)
		snprintf(c->draft_path, sizeof c->draft_path, "%s", o->draft_path);
	c->retry_timer = evtimer_new(c->base, agentcli_on_retry, c);
	c->poll_timer = event_new(c->base, -1, EV_PERSIST, agentcli_on_poll, c);
	c->draft_timer = evtimer_new(c->base, agentcli_on_draft_timer, c);
	for (int k = 0; k < AGENTCLI_READ_COUNT; k++) {
		c->reads[k].c = c;
		c->reads[k].kind = (enum agentcli_read_kind)k;
	}
	if (c->url == NULL || (o->password != NULL && c->password == NULL) ||
	    c->retry_timer == NULL || c->poll_timer == NULL || c->draft_timer == NULL) {
		snprintf(err, err_len, "out of memory");
		agentcli_free(c);
		return NULL;
	}
	c->http = httpc_new(c->base, o->url, "", AGENTCLI_CONNECTIONS, AGENTCLI_TIMEOUT_MS, err,
			    err_len);
	if (c->http == NULL) {
		agentcli_free(c);
		return NULL;
	}
	agentcli_load_draft(c);
	if (c->password != NULL && m->centre[0] != '\0' && m->agent_id[0] != '\0') {
		struct agentcli_action *a = agentcli_action_new(
			AGENTCLI_DO_LOGIN, AGENTMODEL_FORM_NONE,
			json_pack("{s:s,s:s}", "centre", m->centre, "agent_id", m->agent_id), NULL,
			NULL);
		if (a == NULL) {
			snprintf(err, err_len, "out of memory");
			agentcli_free(c);
			return NULL;
		}
		agentcli_push_front(c, a);
		m->logging_in = true;
		agentcli_pump(c);
	}
	agentcli_changed(c);
	return c;
}

void agentcli_free(struct agentcli *c)
{
	if (c == NULL)
		return;
	if (c->http != NULL && c->m->draft_dirty && agentcli_save_draft(c) != 0)
		c->m->draft_dirty = true; /* nowhere left to say it: main said it */
	ssec_free(c->stream);
	httpc_free(c->http);
	if (c->retry_timer != NULL)
		event_free(c->retry_timer);
	if (c->poll_timer != NULL)
		event_free(c->poll_timer);
	if (c->draft_timer != NULL)
		event_free(c->draft_timer);
	while (c->head != NULL) {
		struct agentcli_action *a = c->head;
		c->head = a->next;
		agentcli_action_free(a);
	}
	if (c->body != NULL)
		sodium_memzero(c->body, strlen(c->body));
	free(c->body);
	agentcli_wipe_free(c->token);
	agentcli_wipe_free(c->password);
	free(c->url);
	free(c);
}
