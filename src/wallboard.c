/* wallboard.c: the supervisors' wallboard (see wallboard.h): the polls,
 * an optional login, and the screen (or one printed snapshot).
 *
 * Each view has at most one read on the wire; a poll that finds its read
 * still out skips it, so a slow broker is not buried in requests.
 */
#include "wallboard.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>
#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "agentmodel.h"
#include "httpc.h"
#include "termdraw.h"
#include "timeutil.h"
#include "wallmodel.h"

#define WALLBOARD_POLL_MS 1000
#define WALLBOARD_ORDERS_EVERY_USEC (10 * INT64_C(1000000))
#define WALLBOARD_TIMEOUT_MS 5000
/* Batch: the longest wait for a complete snapshot. */
#define WALLBOARD_BATCH_DEADLINE_S 15
#define WALLBOARD_LOGOUT_WAIT_MS 2000

enum wallboard_pair {
	WALLBOARD_PAIR_BAR = 1,
	WALLBOARD_PAIR_ALARM,
	WALLBOARD_PAIR_OK,
	WALLBOARD_PAIR_TITLE,
};

enum wallboard_view {
	WALLBOARD_QUEUES,
	WALLBOARD_CALLBACKS,
	WALLBOARD_ORDERS,
	WALLBOARD_LOGIN,
	WALLBOARD_LOGOUT,
	WALLBOARD_VIEWS,
};

struct wallboard;

struct wallboard_read {
	struct wallboard *b;
	enum wallboard_view view;
	bool in_flight;
	bool answered; /* at least once */
};

struct wallboard {
	struct wallboard_options o;
	struct httpc *http;
	char *token;
	char *login_body;
	struct wallmodel w;
	struct wallboard_read reads[WALLBOARD_VIEWS];
	int64_t orders_polled;
	struct event *poll_ev;
	struct event *input_ev;
	struct event *winch_ev;
	struct event *term_ev;
	struct event *hup_ev;
	struct event *int_ev;
	struct event *deadline_ev;
	bool screen;
	bool colours;
	bool logging_out;
	int status;
};

static int64_t wallboard_now(void)
{
	return timeutil_now_usec();
}

static attr_t wallboard_attr(const struct wallboard *b, enum wallboard_pair p, attr_t fallback)
{
	return b->colours ? (attr_t)COLOR_PAIR(p) : fallback;
}

/* --- the snapshot as lines ---------------------------------------------------------- */

static void wallboard_print(struct wallboard *b, FILE *out)
{
	const struct wallmodel *w = &b->w;
	struct wallmodel_queue total;
	char rate[8], sl[8];

	wallmodel_totals(w, &total);
	fprintf(out,
		"board centre=%s agents=%zu waiting=%ld offered=%ld answered=%ld abandoned=%ld\n",
		w->centre, w->n_agents, total.waiting, total.offered, total.answered,
		total.abandoned);
	for (size_t i = 0; i < w->n_queues; i++) {
		const struct wallmodel_queue *q = &w->queues[i];
		wallmodel_percent(q->answered, q->offered, true, rate);
		wallmodel_percent(q->answered_in_sl, q->offered, q->has_sl, sl);
		fprintf(out,
			"queue %s waiting=%ld longest_wait_s=%ld offered=%ld answered=%ld "
			"abandoned=%ld answer_rate=%s service_level=%s crisis_waiting=%ld\n",
			q->name, q->waiting, q->longest_wait_s, q->offered, q->answered,
			q->abandoned, rate, sl, q->crisis_waiting);
	}
	for (size_t i = 0; i < w->n_agents; i++) {
		const struct wallmodel_agent *a = &w->agents[i];
		fprintf(out, "agent %s state=%s reason=%s in_state_s=%ld call=%s\n", a->id,
			a->state, a->reason[0] ? a->reason : "-", a->in_state_s,
			a->call_id[0] ? a->call_id : "-");
	}
	fprintf(out, "callbacks open=%zu urgent=%zu\n", w->callbacks_open, w->callbacks_urgent);
	if (w->orders_known)
		fprintf(out, "orders overdue=%zu\n", w->orders_overdue);
	else
		fprintf(out, "orders unknown (log in with --agent to read work orders)\n");
	for (size_t i = 0; i < w->n_alerts; i++) {
		static const char *const kinds[] = {"link", "crisis_waiting", "crisis_callbacks",
						    "overdue_orders"};
		fprintf(out, "alert %s %s\n", kinds[w->alerts[i].kind], w->alerts[i].text);
	}
	fflush(out);
}

/* --- the screen ----------------------------------------------------------------------- */

static void wallboard_draw(struct wallboard *b)
{
	struct wallmodel *w = &b->w;
	int64_t now = wallboard_now();
	int rows, cols;
	char clock[32], buf[128];

	wallmodel_alerts(w, now);
	getmaxyx(stdscr, rows, cols);
	erase();
	if (rows < 16 || cols < 70) {
		termdraw_printf(0, 0, cols, "窗口太小（%d×%d）：至少需要 70×16", cols, rows);
		refresh();
		return;
	}
	time_t t = (time_t)(now / 1000000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(clock, sizeof clock, "%Y-%m-%d %H:%M:%S", &tm);

	attron(wallboard_attr(b, WALLBOARD_PAIR_BAR, A_REVERSE));
	termdraw_blank(0, 0, cols);
	termdraw_printf(0, 1, cols - 2, "12320 实时监控 · 中心 %s", w->centre);
	if (w->queues_at > 0)
		snprintf(buf, sizeof buf, "%s · 更新于 %lld 秒前", clock,
			 (long long)((now - w->queues_at) / 1000000));
	else
		snprintf(buf, sizeof buf, "%s · 等待数据", clock);
	termdraw_put(0, cols - 1 - termdraw_width(buf), termdraw_width(buf), buf);
	attroff(wallboard_attr(b, WALLBOARD_PAIR_BAR, A_REVERSE));

	int y = 1;
	if (w->n_alerts == 0) {
		attron(wallboard_attr(b, WALLBOARD_PAIR_OK, A_NORMAL));
		termdraw_put(y++, 1, cols - 2, "无告警");
		attroff(wallboard_attr(b, WALLBOARD_PAIR_OK, A_NORMAL));
	}
	for (size_t i = 0; i < w->n_alerts && y < 6; i++) {
		attron(wallboard_attr(b, WALLBOARD_PAIR_ALARM, A_REVERSE) | A_BOLD);
		termdraw_blank(y, 0, cols);
		termdraw_printf(y++, 1, cols - 2, "告警：%s", w->alerts[i].text);
		attroff(wallboard_attr(b, WALLBOARD_PAIR_ALARM, A_REVERSE) | A_BOLD);
	}

	/* Queues: one column per figure, placed by column, since CJK labels
	 * are two columns a character. */
	static const struct {
		const char *title;
		int x;
	} qcols[] = {{"队列", 1},  {"排队", 14},   {"最长等待", 20}, {"今日呼入", 30}, {"接通", 40},
		     {"放弃", 47}, {"接通率", 54}, {"服务水平", 62}, {"危机等待", 72}};
	y++;
	termdraw_section(y++, cols, "队列（今日）",
			 wallboard_attr(b, WALLBOARD_PAIR_TITLE, A_BOLD) | A_BOLD);
	attron(A_BOLD);
	for (size_t k = 0; k < sizeof qcols / sizeof qcols[0]; k++)
		if (qcols[k].x < cols - 4)
			termdraw_put(y, qcols[k].x, cols - qcols[k].x - 1, qcols[k].title);
	attroff(A_BOLD);
	y++;
	struct wallmodel_queue total;
	wallmodel_totals(w, &total);
	for (size_t i = 0; i <= w->n_queues && y < rows - 6; i++) {
		const struct wallmodel_queue *q = i < w->n_queues ? &w->queues[i] : &total;
		char cells[9][24], rate[8], sl[8], wait[16];
		wallmodel_percent(q->answered, q->offered, true, rate);
		wallmodel_percent(q->answered_in_sl, q->offered, q->has_sl, sl);
		agentmodel_format_duration(q->longest_wait_s, wait);
		snprintf(cells[0], sizeof cells[0], "%s",
			 i < w->n_queues ? agentmodel_queue_label(q->name) : "合计");
		snprintf(cells[1], sizeof cells[1], "%ld", q->waiting);
		snprintf(cells[2], sizeof cells[2], "%s", wait);
		snprintf(cells[3], sizeof cells[3], "%ld", q->offered);
		snprintf(cells[4], sizeof cells[4], "%ld", q->answered);
		snprintf(cells[5], sizeof cells[5], "%ld", q->abandoned);
		snprintf(cells[6], sizeof cells[6], "%s", rate);
		snprintf(cells[7], sizeof cells[7], "%s", sl);
		snprintf(cells[8], sizeof cells[8], "%ld", q->crisis_waiting);
		bool alarm = q->crisis_waiting > 0;
		attr_t a = alarm ? wallboard_attr(b, WALLBOARD_PAIR_ALARM, A_REVERSE) | A_BOLD :
			   i == w->n_queues ? A_BOLD :
					      A_NORMAL;
		attron(a);
		for (size_t k = 0; k < 9; k++)
			if (qcols[k].x < cols - 4)
				termdraw_put(y, qcols[k].x, cols - qcols[k].x - 1, cells[k]);
		attroff(a);
		y++;
	}

	size_t ready, busy, wrap, nr;
	wallmodel_agent_counts(w, &ready, &busy, &wrap, &nr);
	char title[160];
	snprintf(title, sizeof title,
		 "坐席 在线 %zu：就绪 %zu · 振铃/通话 %zu · 话后 %zu · 示忙 %zu", w->n_agents,
		 ready, busy, wrap, nr);
	y++;
	termdraw_section(y++, cols, title,
			 wallboard_attr(b, WALLBOARD_PAIR_TITLE, A_BOLD) | A_BOLD);
	int agent_rows = rows - y - 4;
	/* Two columns of agents when the screen is wide. */
	int per_row = cols >= 120 ? 2 : 1;
	int col_w = cols / per_row;
	size_t shown = 0;
	for (int r = 0; r < agent_rows && shown < w->n_agents; r++) {
		for (int k = 0; k < per_row && shown < w->n_agents; k++, shown++) {
			const struct wallmodel_agent *ag = &w->agents[shown];
			char dur[16];
			agentmodel_format_duration(ag->in_state_s, dur);
			enum agentmodel_state s = agentmodel_parse_state(ag->state);
			int x = 1 + k * col_w;
			termdraw_put(y, x, 12, ag->id);
			termdraw_put(y, x + 13, 10, ag->name);
			attr_t a = s == AGENTMODEL_READY ?
					   wallboard_attr(b, WALLBOARD_PAIR_OK, A_NORMAL) :
				   s == AGENTMODEL_NOT_READY ? A_DIM :
							       A_BOLD;
			attron(a);
			termdraw_put(y, x + 24, 10, agentmodel_state_label(s));
			attroff(a);
			termdraw_put(y, x + 34, 9, dur);
			termdraw_put(y, x + 43, col_w - 45,
				     s == AGENTMODEL_NOT_READY ?
					     agentmodel_reason_label(ag->reason) :
					     ag->call_id);
		}
		y++;
	}
	if (shown < w->n_agents)
		termdraw_printf(y++, 1, cols - 2, "……另有 %zu 位坐席", w->n_agents - shown);

	y = rows - 3;
	termdraw_section(y++, cols, "回拨与 12345 工单",
			 wallboard_attr(b, WALLBOARD_PAIR_TITLE, A_BOLD) | A_BOLD);
	if (w->orders_known)
		termdraw_printf(y++, 1, cols - 2,
				"回拨待处理 %zu 个（紧急 %zu）    超期 12345 工单 %zu 件",
				w->callbacks_open, w->callbacks_urgent, w->orders_overdue);
	else
		termdraw_printf(
			y++, 1, cols - 2,
			"回拨待处理 %zu 个（紧急 %zu）    12345 工单：用 --agent 登录后显示",
			w->callbacks_open, w->callbacks_urgent);
	attron(A_DIM);
	termdraw_put(rows - 1, 1, cols - 2, "q / F10 退出 · 每秒刷新");
	attroff(A_DIM);
	refresh();
}

/* --- reads ----------------------------------------------------------------------------- */

static void wallboard_stop(struct wallboard *b, int status)
{
	b->status = status;
	event_base_loopbreak(b->o.base);
}

static bool wallboard_complete(const struct wallboard *b)
{
	return b->reads[WALLBOARD_QUEUES].answered && b->reads[WALLBOARD_CALLBACKS].answered &&
	       (b->token == NULL || b->reads[WALLBOARD_ORDERS].answered);
}

static void wallboard_poll(struct wallboard *b);

static void wallboard_on_answer(const struct httpc_response *r, void *arg)
{
	struct wallboard_read *rd = arg;
	struct wallboard *b = rd->b;
	int64_t now = wallboard_now();
	int rc = 0;

	rd->in_flight = false;
	if (rd->view == WALLBOARD_LOGOUT) {
		event_base_loopbreak(b->o.base);
		return;
	}
	if (rd->view == WALLBOARD_LOGIN) {
		if (b->login_body != NULL) {
			sodium_memzero(b->login_body, strlen(b->login_body));
			free(b->login_body);
			b->login_body = NULL;
		}
		json_t *o = r->status == 200 ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
		const char *token = json_string_value(json_object_get(o, "token"));
		if (token == NULL) {
			fprintf(stderr,
				"hotline-agent --wallboard: login of %s refused (HTTP %d%s%s)\n",
				b->o.agent, r->status, r->status == 0 ? ": " : "",
				r->status == 0 ? r->failure : "");
			json_decref(o);
			wallboard_stop(b, 1);
			return;
		}
		b->token = strdup(token);
		json_decref(o);
		if (b->token == NULL) {
			wallboard_stop(b, 1);
			return;
		}
		wallboard_poll(b);
		return;
	}
	if (r->status != 200) {
		char detail[WALLMODEL_TEXT_MAX];
		snprintf(detail, sizeof detail, "%s：%s",
			 rd->view == WALLBOARD_QUEUES    ? "队列" :
			 rd->view == WALLBOARD_CALLBACKS ? "回拨" :
							   "工单",
			 r->status == 0   ? r->failure :
			 r->status == 401 ? "无权读取（401）" :
					    "服务器拒绝");
		wallmodel_failed(&b->w, detail, now);
	} else {
		if (rd->view == WALLBOARD_QUEUES)
			rc = wallmodel_on_queues(&b->w, r->body, r->body_len, now);
		else if (rd->view == WALLBOARD_CALLBACKS)
			rc = wallmodel_on_callbacks(&b->w, r->body, r->body_len, now);
		else
			rc = wallmodel_on_orders(&b->w, r->body, r->body_len, now);
		if (rc == 0)
			rd->answered = true;
		else
			wallmodel_failed(&b->w, "应答无法识别", now);
	}
	if (b->o.batch) {
		if (wallboard_complete(b)) {
			wallmodel_alerts(&b->w, now);
			wallboard_print(b, stdout);
			wallboard_stop(b, 0);
		}
		return;
	}
	wallboard_draw(b);
}

static void wallboard_get(struct wallboard *b, enum wallboard_view view, const char *path)
{
	struct wallboard_read *rd = &b->reads[view];
	if (rd->in_flight)
		return;
	if (httpc_get(b->http, path, b->token, wallboard_on_answer, rd) == 0)
		rd->in_flight = true;
}

static void wallboard_poll(struct wallboard *b)
{
	char path[160];
	if (b->logging_out || b->reads[WALLBOARD_LOGIN].in_flight)
		return;
	snprintf(path, sizeof path, "/v1/centres/%s/queues", b->o.centre);
	wallboard_get(b, WALLBOARD_QUEUES, path);
	snprintf(path, sizeof path, "/v1/centres/%s/callbacks", b->o.centre);
	wallboard_get(b, WALLBOARD_CALLBACKS, path);
	int64_t now = wallboard_now();
	if (b->token != NULL &&
	    (b->orders_polled == 0 || now - b->orders_polled >= WALLBOARD_ORDERS_EVERY_USEC)) {
		b->orders_polled = now;
		wallboard_get(b, WALLBOARD_ORDERS, "/v1/workorders?view=overdue");
	}
}

static void wallboard_on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct wallboard *b = arg;
	wallboard_poll(b);
	if (b->screen)
		wallboard_draw(b);
}

static void wallboard_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct wallboard *b = arg;
	fprintf(stderr, "hotline-agent --wallboard: no complete view within %d s%s%s\n",
		WALLBOARD_BATCH_DEADLINE_S, b->w.error[0] ? ": " : "", b->w.error);
	wallboard_stop(b, 1);
}

static void wallboard_on_input(evutil_socket_t fd, short what, void *arg)
{
	struct wallboard *b = arg;
	wint_t ch;
	int kind;
	while ((kind = get_wch(&ch)) != ERR) {
		if ((kind == OK && (ch == L'q' || ch == L'Q' || ch == 3)) ||
		    (kind == KEY_CODE_YES && ch == (wint_t)KEY_F(10))) {
			wallboard_stop(b, 0);
			return;
		}
		if (kind == KEY_CODE_YES && ch == KEY_RESIZE)
			wallboard_draw(b);
	}
}

static void wallboard_on_winch(evutil_socket_t fd, short what, void *arg)
{
	struct wallboard *b = arg;
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
	wallboard_draw(b);
}

static void wallboard_on_signal(evutil_socket_t fd, short what, void *arg)
{
	wallboard_stop(arg, 0);
}

/* --- life ------------------------------------------------------------------------------ */

static int wallboard_start_screen(struct wallboard *b)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "hotline-agent --wallboard: needs a terminal (or --batch)\n");
		return -1;
	}
	if (initscr() == NULL)
		return -1;
	b->screen = true;
	raw();
	noecho();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(WALLBOARD_PAIR_BAR, COLOR_BLACK, COLOR_CYAN);
		init_pair(WALLBOARD_PAIR_ALARM, COLOR_WHITE, COLOR_RED);
		init_pair(WALLBOARD_PAIR_OK, COLOR_GREEN, -1);
		init_pair(WALLBOARD_PAIR_TITLE, COLOR_YELLOW, -1);
		b->colours = true;
	}
	b->input_ev =
		event_new(b->o.base, STDIN_FILENO, EV_READ | EV_PERSIST, wallboard_on_input, b);
	b->winch_ev = evsignal_new(b->o.base, SIGWINCH, wallboard_on_winch, b);
	if (b->input_ev == NULL || b->winch_ev == NULL || event_add(b->input_ev, NULL) != 0 ||
	    event_add(b->winch_ev, NULL) != 0)
		return -1;
	wallboard_draw(b);
	return 0;
}

static void wallboard_logout(struct wallboard *b)
{
	static const char empty[] = "{}";
	if (b->token == NULL)
		return;
	b->logging_out = true;
	struct wallboard_read *rd = &b->reads[WALLBOARD_LOGOUT];
	if (httpc_post_json_bearer(b->http, "/v1/agents/logout", empty, strlen(empty), b->token,
				   wallboard_on_answer, rd) != 0)
		return;
	struct timeval wait = {0, WALLBOARD_LOGOUT_WAIT_MS * 1000};
	event_base_loopexit(b->o.base, &wait);
	event_base_dispatch(b->o.base);
}

int wallboard_run(const struct wallboard_options *o)
{
	struct wallboard *b = calloc(1, sizeof *b);
	char err[256];
	int status = 1;

	if (b == NULL)
		return 1;
	b->o = *o;
	b->status = 1;
	wallmodel_init(&b->w, o->centre, o->agent != NULL && o->password != NULL ? o->agent : NULL);
	for (int v = 0; v < WALLBOARD_VIEWS; v++) {
		b->reads[v].b = b;
		b->reads[v].view = (enum wallboard_view)v;
	}
	b->http = httpc_new(o->base, o->url, o->secret != NULL ? o->secret : "", 4,
			    WALLBOARD_TIMEOUT_MS, err, sizeof err);
	if (b->http == NULL) {
		fprintf(stderr, "hotline-agent --wallboard: %s\n", err);
		goto out;
	}
	int ms = o->poll_ms > 0 ? o->poll_ms : WALLBOARD_POLL_MS;
	struct timeval every = {ms / 1000, (ms % 1000) * 1000};
	b->poll_ev = event_new(o->base, -1, EV_PERSIST, wallboard_on_poll, b);
	b->term_ev = evsignal_new(o->base, SIGTERM, wallboard_on_signal, b);
	b->hup_ev = evsignal_new(o->base, SIGHUP, wallboard_on_signal, b);
	b->int_ev = evsignal_new(o->base, SIGINT, wallboard_on_signal, b);
	if (b->poll_ev == NULL || b->term_ev == NULL || b->hup_ev == NULL || b->int_ev == NULL ||
	    event_add(b->poll_ev, &every) != 0 || event_add(b->term_ev, NULL) != 0 ||
	    event_add(b->hup_ev, NULL) != 0 || event_add(b->int_ev, NULL) != 0) {
		fprintf(stderr, "hotline-agent --wallboard: cannot set up the loop\n");
		goto out;
	}
	if (o->batch) {
		struct timeval deadline = {WALLBOARD_BATCH_DEADLINE_S, 0};
		b->deadline_ev = evtimer_new(o->base, wallboard_on_deadline, b);
		if (b->deadline_ev == NULL || evtimer_add(b->deadline_ev, &deadline) != 0)
			goto out;
	} else if (wallboard_start_screen(b) != 0) {
		goto out;
	}
	if (o->agent != NULL && o->password != NULL) {
		json_t *body = json_pack("{s:s,s:s,s:s}", "centre", o->centre, "agent_id", o->agent,
					 "password", o->password);
		b->login_body = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
		json_decref(body);
		if (b->login_body == NULL ||
		    httpc_post_json_bearer(b->http, "/v1/agents/login", b->login_body,
					   strlen(b->login_body), NULL, wallboard_on_answer,
					   &b->reads[WALLBOARD_LOGIN]) != 0)
			goto out;
		b->reads[WALLBOARD_LOGIN].in_flight = true;
	} else {
		wallboard_poll(b);
	}
	event_base_dispatch(o->base);
	status = b->status;
	event_del(b->poll_ev);
	wallboard_logout(b);
out:
	if (b->screen)
		endwin();
	struct event *events[] = {b->poll_ev, b->input_ev, b->winch_ev,   b->term_ev,
				  b->hup_ev,  b->int_ev,   b->deadline_ev};
	for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
		if (events[i] != NULL)
			event_free(events[i]);
	httpc_free(b->http);
	if (b->login_body != NULL) {
		sodium_memzero(b->login_body, strlen(b->login_body));
		free(b->login_body);
	}
	free(b->token);
	wallmodel_free(&b->w);
	free(b);
	return status;
}
