/* agentui.c: the agent's terminal view (see agentui.h): the status bar, the
 * call and its caller, the notes, the forms, the offer pop-up, the help and
 * the shortcut bar, drawn from the model on every change; keys read with
 * get_wch and handed to the model.
 *
 * Everything is drawn on stdscr from scratch on each redraw (ncurses sends
 * only what changed), so there is no window state to keep in step with the
 * model. Text is measured in columns (textfield_char_width) rather than
 * bytes or characters: CJK takes two.
 */
#include "agentui.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>
#include <event2/event.h>

#include "agentcli.h"
#include "agentmodel.h"
#include "termdraw.h"
#include "textfield.h"
#include "timeutil.h"

/* The smallest screen the layout fits; below it a notice asks for more. */
#define AGENTUI_MIN_COLS 64
#define AGENTUI_MIN_ROWS 20
#define AGENTUI_LINE_MAX 1024

enum agentui_pair {
	AGENTUI_PAIR_BAR = 1,
	AGENTUI_PAIR_ERROR,
	AGENTUI_PAIR_OK,
	AGENTUI_PAIR_ALARM,
	AGENTUI_PAIR_TITLE,
	AGENTUI_PAIR_WARN,
};

struct agentui {
	struct event_base *base;
	struct agentmodel *m;
	struct agentcli *c;
	char url[256];
	struct event *input_ev;
	struct event *redraw_ev;
	struct event *clock_ev;
	struct event *winch_ev;
	struct event *term_ev;
	struct event *hup_ev;
	bool redraw_pending;
	bool colours;
	bool screen_on;
	char last_offer[AGENTMODEL_ID_MAX];
	int last_overlay; /* what was on top at the last redraw */
	/* The first character shown of each one-line field, and of the notes:
	 * the window scrolls only when the cursor leaves it. */
	size_t scroll[AGENTMODEL_FORM_COUNT][AGENTMODEL_FIELDS_MAX];
	int cursor_y, cursor_x; /* -1: hidden */
};

static int64_t agentui_now(void)
{
	return timeutil_now_usec();
}

static attr_t agentui_attr(const struct agentui *u, enum agentui_pair pair, attr_t fallback)
{
	return u->colours ? (attr_t)COLOR_PAIR(pair) : fallback;
}

/* --- helpers ----------------------------------------------------------------------- */

static void agentui_box(const struct agentui *u, int y, int x, int h, int w, const char *title,
			attr_t border)
{
	termdraw_box(y, x, h, w, title, border,
		     agentui_attr(u, AGENTUI_PAIR_TITLE, A_BOLD) | A_BOLD);
}

static void agentui_section(const struct agentui *u, int y, int cols, const char *title)
{
	termdraw_section(y, cols, title, agentui_attr(u, AGENTUI_PAIR_TITLE, A_BOLD) | A_BOLD);
}

static void agentui_clock(int64_t usec, char out[16])
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, 16, "%H:%M:%S", &tm);
}

static void agentui_day_clock(int64_t usec, char out[24])
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, 24, "%Y-%m-%d %H:%M", &tm);
}

/* --- fields -------------------------------------------------------------------------- */

/* One line of a text field, scrolled so that the cursor shows; sets the
 * cursor position when focused. */
static void agentui_text_line(struct agentui *u, int y, int x, int width, const struct textfield *t,
			      bool secret, size_t *first, bool focused)
{
	*first = textfield_scroll(t, *first, width);
	int used = 0;
	wchar_t line[AGENTUI_LINE_MAX];
	size_t n = 0;
	int cursor_col = -1;
	for (size_t i = *first; i <= t->len && n < AGENTUI_LINE_MAX - 1; i++) {
		if (i == t->cursor)
			cursor_col = used;
		if (i == t->len)
			break;
		wchar_t ch = secret ? L'*' : t->text[i];
		int w = textfield_char_width(ch);
		if (used + w > width)
			break;
		line[n++] = ch;
		used += w;
	}
	line[n] = L'\0';
	attron(A_UNDERLINE);
	termdraw_blank(y, x, width);
	if (n > 0)
		mvaddnwstr(y, x, line, (int)n);
	attroff(A_UNDERLINE);
	if (focused && cursor_col >= 0) {
		u->cursor_y = y;
		u->cursor_x = x + cursor_col;
	}
}

/* A text field over rows lines, wrapped at width; the window follows the
 * cursor, showing the end of the text when it fits. */
static void agentui_text_block(struct agentui *u, int y, int x, int width, int rows,
			       const struct textfield *t, bool focused, bool underline)
{
	int cursor_row, cursor_col;
	textfield_wrap_position(t, width, t->cursor, &cursor_row, &cursor_col);
	int first_row = cursor_row - (rows - 1);
	if (first_row < 0)
		first_row = 0;
	if (underline)
		attron(A_UNDERLINE);
	for (int r = 0; r < rows; r++)
		termdraw_blank(y + r, x, width);
	int row = 0, col = 0;
	for (size_t i = 0; i < t->len; i++) {
		int w = textfield_char_width(t->text[i]);
		if (col + w > width) {
			row++;
			col = 0;
		}
		if (row >= first_row && row < first_row + rows) {
			wchar_t one[2] = {t->text[i], L'\0'};
			mvaddnwstr(y + row - first_row, x + col, one, 1);
		}
		col += w;
	}
	if (underline)
		attroff(A_UNDERLINE);
	if (focused && cursor_row >= first_row && cursor_row < first_row + rows) {
		u->cursor_y = y + cursor_row - first_row;
		u->cursor_x = x + cursor_col;
	}
}

/* --- the parts of the screen ------------------------------------------------------------ */

static void agentui_status_bar(struct agentui *u, int cols, int64_t now)
{
	const struct agentmodel *m = u->m;
	char line[AGENTUI_LINE_MAX], since[16], clock[16];
	size_t used = 0;

	attron(agentui_attr(u, AGENTUI_PAIR_BAR, A_REVERSE));
	termdraw_blank(0, 0, cols);
	agentmodel_format_duration((now - m->state_since) / 1000000, since);
	used += (size_t)snprintf(
		line + used, sizeof line - used, " %s %s · 分机 %s │ %s%s%s %s",
		m->name[0] ? m->name : "坐席", m->agent_id, m->extension[0] ? m->extension : "-",
		agentmodel_state_label(m->state), m->state == AGENTMODEL_NOT_READY ? "·" : "",
		m->state == AGENTMODEL_NOT_READY ? agentmodel_reason_label(m->reason) : "", since);
	used += (size_t)snprintf(line + used, sizeof line - used, " │ 排队");
	if (m->n_queues == 0)
		used += (size_t)snprintf(line + used, sizeof line - used, " -");
	for (size_t i = 0; i < m->n_queues && used < sizeof line - 64; i++) {
		char wait[16];
		agentmodel_format_duration(m->queues[i].longest_wait_s, wait);
		used += (size_t)snprintf(line + used, sizeof line - used, " %s %ld",
					 agentmodel_queue_label(m->queues[i].name),
					 m->queues[i].waiting);
		if (m->queues[i].waiting > 0)
			used += (size_t)snprintf(line + used, sizeof line - used, "(最长 %s)",
						 wait);
	}
	int w = termdraw_put(0, 0, cols - 24, line);
	(void)w;
	agentui_clock(now, clock);
	char right[64];
	snprintf(right, sizeof right, "%s %s ", agentmodel_link_label(m->link), clock);
	termdraw_put(0, cols - termdraw_width(right), termdraw_width(right), right);
	attroff(agentui_attr(u, AGENTUI_PAIR_BAR, A_REVERSE));
}

static void agentui_banner(struct agentui *u, int cols, int64_t now)
{
	const struct agentmodel *m = u->m;
	char since[16];
	agentmodel_format_duration((now - m->link_since) / 1000000, since);
	if (m->link == AGENTMODEL_LINK_BROKEN) {
		attron(agentui_attr(u, AGENTUI_PAIR_ALARM, A_REVERSE) | A_BOLD);
		termdraw_blank(1, 0, cols);
		termdraw_printf(1, 1, cols - 2,
				"【连接中断 %s】正在重连，填写的内容不会丢失 · 未发送 %u 项 · %s",
				since, m->unsent, m->link_detail);
		attroff(agentui_attr(u, AGENTUI_PAIR_ALARM, A_REVERSE) | A_BOLD);
	} else if (m->link == AGENTMODEL_LINK_CONNECTING) {
		attron(agentui_attr(u, AGENTUI_PAIR_WARN, A_BOLD));
		termdraw_printf(1, 1, cols - 2, "连接中…… %s", m->link_detail);
		attroff(agentui_attr(u, AGENTUI_PAIR_WARN, A_BOLD));
	} else if (m->unsent > 0) {
		attron(agentui_attr(u, AGENTUI_PAIR_WARN, A_BOLD));
		termdraw_printf(1, 1, cols - 2, "未发送 %u 项，正在发送…… %s", m->unsent,
				m->link_detail);
		attroff(agentui_attr(u, AGENTUI_PAIR_WARN, A_BOLD));
	} else if (m->reconnects > 0) {
		attron(A_DIM);
		termdraw_printf(1, 1, cols - 2, "已连接 · 本次登录后重连 %u 次", m->reconnects);
		attroff(A_DIM);
	}
}

static void agentui_call_section(struct agentui *u, int y, int cols, int64_t now)
{
	const struct agentmodel *m = u->m;
	const struct agentmodel_call *call = &m->call;
	char a[16], b[16], c[16];

	agentui_section(u, y, cols, call->callback ? "当前回拨" : "当前通话");
	if (!call->present) {
		termdraw_put(y + 1, 2, cols - 4, "（暂无通话。就绪后来电会弹出提示）");
		return;
	}
	int x = 2;
	if (call->urgent) {
		attron(agentui_attr(u, AGENTUI_PAIR_ALARM, A_REVERSE) | A_BOLD);
		x += termdraw_put(y + 1, x, 8, " 紧急 ") + 1;
		attroff(agentui_attr(u, AGENTUI_PAIR_ALARM, A_REVERSE) | A_BOLD);
	}
	termdraw_printf(y + 1, x, cols - x - 2, "通话 %s   类别 %s   来电 %s   队列 %s",
			call->call_id,
			call->category[0] ? agentmodel_category_label(call->category) : "-",
			call->caller[0] ? call->caller : "-",
			call->queue[0] ? agentmodel_queue_label(call->queue) : "-");
	char line[AGENTUI_LINE_MAX];
	if (call->cancelled) {
		snprintf(line, sizeof line, "已取消（未接听）");
	} else if (call->answered_at == 0) {
		int64_t left = call->ring_deadline > 0 ? (call->ring_deadline - now) / 1000000 : -1;
		agentmodel_format_duration((now - call->offered_at) / 1000000, a);
		if (left >= 0)
			snprintf(line, sizeof line, "振铃中 %s，剩余 %lld 秒", a, (long long)left);
		else
			snprintf(line, sizeof line, "振铃中 %s", a);
	} else if (call->ended_at == 0) {
		agentui_clock(call->answered_at, a);
		agentmodel_format_duration((now - call->answered_at) / 1000000, b);
		snprintf(line, sizeof line, "通话中 %s（%s 接通）", b, a);
	} else {
		agentui_clock(call->answered_at, a);
		agentmodel_format_duration((call->ended_at - call->answered_at) / 1000000, b);
		agentmodel_format_duration((now - call->ended_at) / 1000000, c);
		snprintf(line, sizeof line, "已结束：通话 %s（%s 接通），话后 %s", b, a, c);
	}
	termdraw_printf(y + 2, 2, cols - 4,
			"%s   本通：工单 %u · 预约 %u · 12345 回复 %u · 小结 %s", line,
			call->tickets_made, call->bookings_made, call->replies_made,
			call->wrapped ? "已记录" : "未记录");
}

static void agentui_history(struct agentui *u, int y, int cols, int rows)
{
	const struct agentmodel_call *call = &u->m->call;
	char title[64];
	snprintf(title, sizeof title, "来电历史（%zu 次）与未结工单（%zu 件）", call->n_history,
		 call->n_tickets);
	agentui_section(u, y, cols, title);
	int r = 1;
	if (!call->present) {
		termdraw_put(y + 1, 2, cols - 4, "-");
		return;
	}
	if (call->n_history == 0)
		termdraw_put(y + r++, 2, cols - 4, "近期无来电记录");
	for (size_t i = 0; i < call->n_history && r < rows; i++) {
		const struct agentmodel_history *h = &call->history[i];
		char when[24];
		agentui_day_clock(h->offered_at, when);
		termdraw_printf(y + r++, 2, cols - 4, "%s  %-10s %s  %s  %s", when, h->call_id,
				agentmodel_category_label(h->category),
				h->outcome[0] ? agentmodel_outcome_label(h->outcome) : "进行中",
				h->disposition[0] ? h->disposition : "");
	}
	if (r < rows && !call->tickets_loaded)
		termdraw_put(y + r++, 2, cols - 4, "未结工单：读取中……");
	else if (r < rows && call->n_tickets == 0)
		termdraw_put(y + r++, 2, cols - 4, "未结工单：无");
	for (size_t i = 0; i < call->n_tickets && r < rows; i++) {
		const struct agentmodel_ticket *t = &call->tickets[i];
		termdraw_printf(y + r++, 2, cols - 4, "工单 #%lld  %s  %s  %s", (long long)t->id,
				agentmodel_ticket_label(t->kind), agentmodel_ticket_label(t->state),
				t->subject);
	}
}

static void agentui_log(struct agentui *u, int y, int cols, int rows)
{
	const struct agentmodel *m = u->m;
	agentui_section(u, y, cols, "操作记录");
	size_t first = m->n_log > (size_t)(rows - 1) ? m->n_log - (size_t)(rows - 1) : 0;
	int r = 1;
	for (size_t i = first; i < m->n_log && r < rows; i++, r++) {
		char clock[16];
		agentui_clock(m->log[i].at, clock);
		attr_t a = m->log[i].error ? agentui_attr(u, AGENTUI_PAIR_ERROR, A_BOLD) :
					     agentui_attr(u, AGENTUI_PAIR_OK, A_NORMAL);
		attron(a);
		termdraw_printf(y + r, 2, cols - 4, "%s %s", clock, m->log[i].text);
		attroff(a);
	}
}

static void agentui_shortcuts(struct agentui *u, int y, int cols)
{
	struct agentmodel_shortcut sc[AGENTMODEL_SHORTCUTS_MAX];
	size_t n = agentmodel_shortcuts(u->m, sc);
	int x = 0;
	termdraw_blank(y, 0, cols);
	for (size_t i = 0; i < n && x < cols; i++) {
		attr_t key = sc[i].enabled ?
				     (agentui_attr(u, AGENTUI_PAIR_BAR, A_REVERSE) | A_BOLD) :
				     A_DIM;
		attron(key);
		x += termdraw_put(y, x, cols - x, sc[i].key);
		attroff(key);
		x += termdraw_put(y, x, cols - x, " ");
		if (!sc[i].enabled)
			attron(A_DIM);
		x += termdraw_put(y, x, cols - x, sc[i].label);
		if (!sc[i].enabled)
			attroff(A_DIM);
		x += termdraw_put(y, x, cols - x, " ");
	}
}

static void agentui_main(struct agentui *u, int rows, int cols, int64_t now)
{
	const struct agentmodel *m = u->m;
	agentui_status_bar(u, cols, now);
	agentui_banner(u, cols, now);

	/* Rows 2.. rows-2: the call (3), history and tickets, the notes, the
	 * log; what is left over goes to the notes. */
	int y = 2;
	agentui_call_section(u, y, cols, now);
	y += 3;
	int log_rows = 4;
	int history_rows =
		m->call.present ? 1 + (int)(m->call.n_history < 4 ? m->call.n_history : 4) +
					  (int)(m->call.n_tickets < 3 ? m->call.n_tickets : 3) + 1 :
				  2;
	int notes_rows = rows - 1 - y - history_rows - log_rows - 1;
	if (notes_rows < 2) {
		history_rows -= 2 - notes_rows;
		notes_rows = 2;
	}
	/* Eight rows of notes (about 450 characters at 120 columns) are
	 * plenty on screen; what is left shows more of the log. */
	if (notes_rows > 8)
		notes_rows = 8;
	if (history_rows < 2)
		history_rows = 2;
	agentui_history(u, y, cols, history_rows);
	y += history_rows;
	char title[AGENTMODEL_MESSAGE_MAX];
	snprintf(title, sizeof title, "备注%s%s（直接输入；F4 建工单时作为记录）%s",
		 m->notes_call[0] ? " · 通话 " : "", m->notes_call,
		 m->notes_used ? " · 已写入工单" : "");
	agentui_section(u, y, cols, title);
	agentui_text_block(u, y + 1, 2, cols - 4, notes_rows, &m->notes,
			   m->open == AGENTMODEL_FORM_NONE && !m->help, false);
	y += notes_rows + 1;
	agentui_log(u, y, cols, rows - 2 - y);
	agentui_shortcuts(u, rows - 1, cols);
}

/* The form f in a box in the middle of the screen. */
static void agentui_form(struct agentui *u, enum agentmodel_form f, int rows, int cols, int top)
{
	struct agentmodel *m = u->m;
	struct agentmodel_form_state *fs = &m->forms[f];
	int w = cols - 4 > 84 ? 84 : cols - 4;
	int label_w = 12;
	int field_w = w - 4 - label_w;
	int h = 2; /* borders */
	for (size_t i = 0; i < fs->n_fields; i++)
		h += fs->fields[i].list == AGENTMODEL_LIST_NONE && fs->fields[i].text.max > 256 ?
			     5 :
			     2;
	h += 3; /* status, hints, spacing */
	if (h > rows - top - 1)
		h = rows - top - 1;
	int x = (cols - w) / 2;
	int y = top;
	char title[128];
	snprintf(title, sizeof title, "%s", agentmodel_form_title(f));
	agentui_box(u, y, x, h, w, title, agentui_attr(u, AGENTUI_PAIR_TITLE, A_BOLD));
	int r = y + 1;
	for (size_t i = 0; i < fs->n_fields && r < y + h - 3; i++) {
		const struct agentmodel_field *fl = &fs->fields[i];
		bool focused = fs->focus == i;
		/* The focus shows as a mark too: not every terminal shows
		 * reverse video clearly. */
		if (focused)
			attron(A_BOLD | A_REVERSE);
		termdraw_printf(r, x + 1, label_w + 1, "%s%s", focused ? ">" : " ", fl->label);
		if (focused)
			attroff(A_BOLD | A_REVERSE);
		if (fl->list == AGENTMODEL_LIST_NONE) {
			bool block = fl->text.max > 256; /* notes, replies */
			if (block) {
				int lines = 4;
				if (r + lines > y + h - 3)
					lines = y + h - 3 - r;
				if (lines < 1)
					lines = 1;
				agentui_text_block(u, r, x + 2 + label_w, field_w, lines, &fl->text,
						   focused, true);
				termdraw_printf(r + lines, x + 2 + label_w, field_w, "%zu/%zu 字",
						fl->text.len, fl->text.max);
				r += lines + 1;
			} else {
				agentui_text_line(u, r, x + 2 + label_w, field_w, &fl->text,
						  fl->secret, &u->scroll[f][i], focused);
				r += 2;
			}
			continue;
		}
		/* A choice: < label (code) >, and the search typed so far. */
		const char *label = agentmodel_choice_label(m, f, i);
		char line[AGENTUI_LINE_MAX];
		if (fl->value[0] == '\0' && label[0] == '\0')
			snprintf(line, sizeof line, "< %s >",
				 fl->list == AGENTMODEL_LIST_HOSPITALS && !m->hospitals_loaded ?
					 "载入中……" :
				 fl->list == AGENTMODEL_LIST_ORDERS && !m->orders_loaded ?
					 "载入中……" :
					 "（无）");
		else if (label[0] == '\0' || strcmp(label, fl->value) == 0)
			snprintf(line, sizeof line, "< %s >", fl->value);
		else if (fl->list == AGENTMODEL_LIST_HOSPITALS ||
			 fl->list == AGENTMODEL_LIST_DEPARTMENTS)
			snprintf(line, sizeof line, "< %s（%s）>", label, fl->value);
		else
			snprintf(line, sizeof line, "< %s >", label);
		if (focused)
			attron(A_BOLD);
		termdraw_put(r, x + 2 + label_w, field_w, line);
		if (focused)
			attroff(A_BOLD);
		if (focused && fl->text.len > 0) {
			char search[4 * 32 + 1];
			textfield_utf8(&fl->text, search, sizeof search);
			attron(A_DIM);
			termdraw_printf(r + 1, x + 2 + label_w, field_w, "筛选：%s", search);
			attroff(A_DIM);
			u->cursor_y = -1;
		}
		r += 2;
	}
	/* Status: the error, or that it is on its way. */
	int status_y = y + h - 3;
	if (fs->error[0] != '\0') {
		attron(agentui_attr(u, AGENTUI_PAIR_ERROR, A_BOLD) | A_BOLD);
		termdraw_printf(status_y, x + 2, w - 4, "%s", fs->error);
		attroff(agentui_attr(u, AGENTUI_PAIR_ERROR, A_BOLD) | A_BOLD);
	} else if (fs->sending || (f == AGENTMODEL_FORM_LOGIN && m->logging_in)) {
		attron(agentui_attr(u, AGENTUI_PAIR_WARN, A_BOLD));
		termdraw_printf(
			status_y, x + 2, w - 4, "%s",
			m->link == AGENTMODEL_LINK_BROKEN ||
					(f == AGENTMODEL_FORM_LOGIN && m->link_detail[0]) ?
				"发送中：服务器暂时无应答，恢复后自动发送（可按 Esc 关闭）" :
				"发送中……");
		attroff(agentui_attr(u, AGENTUI_PAIR_WARN, A_BOLD));
	}
	attron(A_DIM);
	termdraw_put(
		y + h - 2, x + 2, w - 4,
		f == AGENTMODEL_FORM_LOGIN ?
			"Tab/↑↓ 切换  Enter 登录  F10 退出" :
			"Tab/↑↓ 切换  ←→ 选择  打字筛选  Enter 提交  Esc 关闭(内容保留)  Ctrl-U 清空");
	attroff(A_DIM);
}

static void agentui_offer(struct agentui *u, int rows, int cols, int64_t now)
{
	const struct agentmodel *m = u->m;
	const struct agentmodel_call *call = &m->call;
	int w = cols - 6 > 76 ? 76 : cols - 6;
	int hist = (int)(call->n_history < 5 ? call->n_history : 5);
	int tick = (int)(call->n_tickets < 3 ? call->n_tickets : 3);
	int h = 9 + hist + tick;
	if (h > rows - 4)
		h = rows - 4;
	int x = (cols - w) / 2, y = 3;
	char title[128];
	int64_t left = call->ring_deadline > 0 ? (call->ring_deadline - now) / 1000000 : -1;
	snprintf(title, sizeof title, "%s%s%s", call->urgent ? "紧急 " : "",
		 call->callback ? "回拨任务" : "来电振铃", left == 0 ? " · 即将超时" : "");
	attr_t border = call->urgent || strcmp(call->category, "crisis") == 0 ?
				(agentui_attr(u, AGENTUI_PAIR_ALARM, A_REVERSE) | A_BOLD) :
				(agentui_attr(u, AGENTUI_PAIR_TITLE, A_BOLD) | A_BOLD);
	agentui_box(u, y, x, h, w, title, border);
	int r = y + 1;
	attron(A_BOLD);
	termdraw_printf(r++, x + 2, w - 4, "类别：%s    来电号码：%s",
			call->category[0] ? agentmodel_category_label(call->category) : "-",
			call->caller[0] ? call->caller : "-");
	attroff(A_BOLD);
	termdraw_printf(r++, x + 2, w - 4, "队列：%s    通话号：%s",
			call->queue[0] ? agentmodel_queue_label(call->queue) : "-", call->call_id);
	if (left >= 0) {
		char secs[48];
		snprintf(secs, sizeof secs, "剩余振铃 %lld 秒", (long long)left);
		termdraw_put(r - 1, x + w - 2 - termdraw_width(secs), termdraw_width(secs), secs);
	}
	termdraw_printf(r++, x + 2, w - 4, "近期来电（%zu 次）：", call->n_history);
	for (int i = 0; i < hist && r < y + h - 3; i++) {
		const struct agentmodel_history *hi = &call->history[i];
		char when[24];
		agentui_day_clock(hi->offered_at, when);
		termdraw_printf(r++, x + 4, w - 6, "%s  %s  %s  %s", when,
				agentmodel_category_label(hi->category),
				hi->outcome[0] ? agentmodel_outcome_label(hi->outcome) : "进行中",
				hi->disposition);
	}
	if (!call->tickets_loaded)
		termdraw_put(r++, x + 2, w - 4, "未结工单：读取中……");
	else
		termdraw_printf(r++, x + 2, w - 4, "未结工单（%zu 件）：%s", call->n_tickets,
				call->n_tickets == 0 ? "无" : "");
	for (int i = 0; i < tick && r < y + h - 2; i++)
		termdraw_printf(r++, x + 4, w - 6, "#%lld %s %s %s", (long long)call->tickets[i].id,
				agentmodel_ticket_label(call->tickets[i].kind),
				agentmodel_ticket_label(call->tickets[i].state),
				call->tickets[i].subject);
	attron(A_BOLD);
	if (call->callback)
		termdraw_put(y + h - 2, x + 2, w - 4, "按 F8 接受回拨，系统将为你拨通来电者");
	else
		termdraw_printf(y + h - 2, x + 2, w - 4, "请拿起话机接听（分机 %s）",
				m->extension[0] ? m->extension : "-");
	attroff(A_BOLD);
}

static void agentui_help(struct agentui *u, int rows, int cols)
{
	static const char *const lines[] = {
		"F1  帮助（再按一次关闭）",
		"F2  就绪：开始接听来电；话后整理中按下即结束整理",
		"F3  示忙：选择原因（小休、午餐、会议……）",
		"F4  建立工单：投诉、咨询回访、回拨；备注作为第一条记录",
		"F5  电话预约挂号：医院、科室、就诊日期",
		"F6  回复 12345 工单：自动签收、开始处理后回复",
		"F7  话后小结：处理结果、更正类别、是否随即就绪",
		"F8  回拨：接受回拨任务 / 记录回拨结果",
		"F9  注销    F10 退出（草稿自动保存，下次启动恢复）",
		"",
		"表单中：Tab/↑↓ 切换项目，←→ 选择，打字筛选选项，",
		"        Enter 提交，Esc 关闭（内容保留），Ctrl-U 清空当前项",
		"无表单时：直接输入即写入备注；支持中文输入法",
		"断线时：自动重连并恢复状态，未发送的操作会自动补发",
	};
	size_t n = sizeof lines / sizeof lines[0];
	int w = cols - 4 > 72 ? 72 : cols - 4;
	int h = (int)n + 3;
	if (h > rows - 2)
		h = rows - 2;
	int x = (cols - w) / 2, y = (rows - h) / 2;
	agentui_box(u, y, x, h, w, "帮助（Esc 关闭）", agentui_attr(u, AGENTUI_PAIR_TITLE, A_BOLD));
	for (size_t i = 0; i < n && (int)i < h - 3; i++)
		termdraw_put(y + 1 + (int)i, x + 2, w - 4, lines[i]);
}

static void agentui_login(struct agentui *u, int rows, int cols)
{
	const struct agentmodel *m = u->m;
	attron(A_BOLD);
	const char *title = "12320 卫生健康热线 · 坐席终端";
	termdraw_put(1, (cols - termdraw_width(title)) / 2, cols, title);
	attroff(A_BOLD);
	attron(A_DIM);
	termdraw_printf(2, 2, cols - 4, "服务器 %s", u->url);
	attroff(A_DIM);
	agentui_form(u, AGENTMODEL_FORM_LOGIN, rows, cols, 4);
	if (m->logging_in && m->link_detail[0] != '\0') {
		attron(agentui_attr(u, AGENTUI_PAIR_WARN, A_BOLD));
		termdraw_printf(rows - 3, 2, cols - 4, "正在登录：%s", m->link_detail);
		attroff(agentui_attr(u, AGENTUI_PAIR_WARN, A_BOLD));
	}
	if (m->n_log > 0) {
		attr_t a = m->log[m->n_log - 1].error ?
				   agentui_attr(u, AGENTUI_PAIR_ERROR, A_BOLD) :
				   A_NORMAL;
		attron(a);
		termdraw_put(rows - 2, 2, cols - 4, m->log[m->n_log - 1].text);
		attroff(a);
	}
	agentui_shortcuts(u, rows - 1, cols);
}

static void agentui_draw(struct agentui *u)
{
	struct agentmodel *m = u->m;
	int rows, cols;
	int64_t now = agentui_now();

	u->redraw_pending = false;
	getmaxyx(stdscr, rows, cols);
	erase();
	u->cursor_y = u->cursor_x = -1;
	if (rows < AGENTUI_MIN_ROWS || cols < AGENTUI_MIN_COLS) {
		termdraw_printf(0, 0, cols, "窗口太小（%d×%d）：至少需要 %d×%d", cols, rows,
				AGENTUI_MIN_COLS, AGENTUI_MIN_ROWS);
		curs_set(0);
		refresh();
		return;
	}
	/* A pop-up that comes or goes repaints the terminal whole: updating
	 * cells under it one by one can leave a CJK character half drawn
	 * (its two columns are one cell for the terminal). */
	bool offer_on = m->state == AGENTMODEL_OFFERED && m->call.present && !m->call.cancelled;
	int overlay = !m->logged_in                   ? -1 :
		      m->help                         ? 100 :
		      m->open != AGENTMODEL_FORM_NONE ? (int)m->open :
		      offer_on                        ? 200 :
							0;
	if (overlay != u->last_overlay) {
		clearok(curscr, TRUE);
		u->last_overlay = overlay;
	}
	if (!m->logged_in) {
		agentui_login(u, rows, cols);
	} else {
		agentui_main(u, rows, cols, now);
		bool offer = m->state == AGENTMODEL_OFFERED && m->call.present &&
			     !m->call.cancelled;
		if (offer && strcmp(u->last_offer, m->call.call_id) != 0) {
			snprintf(u->last_offer, sizeof u->last_offer, "%s", m->call.call_id);
			beep();
		}
		if (m->help) {
			u->cursor_y = -1;
			agentui_help(u, rows, cols);
		} else if (m->open != AGENTMODEL_FORM_NONE) {
			u->cursor_y = -1;
			agentui_form(u, m->open, rows, cols, 3);
		} else if (offer) {
			agentui_offer(u, rows, cols, now);
		}
		/* The newest line of the log, above the shortcuts. */
		if (m->n_log > 0) {
			attr_t a = m->log[m->n_log - 1].error ?
					   agentui_attr(u, AGENTUI_PAIR_ERROR, A_BOLD) | A_BOLD :
					   A_NORMAL;
			termdraw_blank(rows - 2, 0, cols);
			attron(a);
			termdraw_put(rows - 2, 1, cols - 2, m->log[m->n_log - 1].text);
			attroff(a);
		}
	}
	if (u->cursor_y >= 0) {
		curs_set(1);
		move(u->cursor_y, u->cursor_x);
	} else {
		curs_set(0);
	}
	refresh();
}

/* --- events ----------------------------------------------------------------------------- */

static void agentui_on_redraw(evutil_socket_t fd, short what, void *arg)
{
	agentui_draw(arg);
}

void agentui_changed(struct agentui *u)
{
	if (u->redraw_pending)
		return;
	struct timeval soon = {0, 10000};
	if (evtimer_add(u->redraw_ev, &soon) == 0)
		u->redraw_pending = true;
}

static void agentui_on_clock(evutil_socket_t fd, short what, void *arg)
{
	agentui_draw(arg);
}

/* The terminal's key codes as the model's keys; false for keys it has no
 * use for. */
static bool agentui_map_key(int kind, wint_t ch, struct agentmodel_key *out)
{
	memset(out, 0, sizeof *out);
	if (kind == KEY_CODE_YES) {
		if (ch >= (wint_t)KEY_F(1) && ch <= (wint_t)KEY_F(12)) {
			out->kind = AGENTMODEL_KEY_FN;
			out->fn = (int)(ch - (wint_t)KEY_F(0));
			return true;
		}
		switch (ch) {
		case KEY_UP:
			out->kind = AGENTMODEL_KEY_UP;
			return true;
		case KEY_DOWN:
			out->kind = AGENTMODEL_KEY_DOWN;
			return true;
		case KEY_LEFT:
			out->kind = AGENTMODEL_KEY_LEFT;
			return true;
		case KEY_RIGHT:
			out->kind = AGENTMODEL_KEY_RIGHT;
			return true;
		case KEY_HOME:
			out->kind = AGENTMODEL_KEY_HOME;
			return true;
		case KEY_END:
			out->kind = AGENTMODEL_KEY_END;
			return true;
		case KEY_BACKSPACE:
			out->kind = AGENTMODEL_KEY_BACKSPACE;
			return true;
		case KEY_DC:
			out->kind = AGENTMODEL_KEY_DELETE;
			return true;
		case KEY_ENTER:
			out->kind = AGENTMODEL_KEY_ENTER;
			return true;
		case KEY_BTAB:
			out->kind = AGENTMODEL_KEY_BACKTAB;
			return true;
		default:
			return false;
		}
	}
	switch (ch) {
	case L'\n':
	case L'\r':
		out->kind = AGENTMODEL_KEY_ENTER;
		return true;
	case L'\t':
		out->kind = AGENTMODEL_KEY_TAB;
		return true;
	case 27:
		out->kind = AGENTMODEL_KEY_ESCAPE;
		return true;
	case 127:
	case 8:
		out->kind = AGENTMODEL_KEY_BACKSPACE;
		return true;
	case 21: /* Ctrl-U */
		out->kind = AGENTMODEL_KEY_CLEAR;
		return true;
	case 3: /* Ctrl-C: quit, asking first when work is unsent */
		out->kind = AGENTMODEL_KEY_FN;
		out->fn = 10;
		return true;
	case 12: /* Ctrl-L: redraw */
		clearok(curscr, TRUE);
		return false;
	default:
		if (ch < 0x20)
			return false;
		out->kind = AGENTMODEL_KEY_CHAR;
		out->ch = (wchar_t)ch;
		return true;
	}
}

static void agentui_resize(struct agentui *u)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
	agentui_draw(u);
}

static void agentui_on_input(evutil_socket_t fd, short what, void *arg)
{
	struct agentui *u = arg;
	struct agentmodel_command *cmd = malloc(sizeof *cmd);
	wint_t ch;
	int kind;

	if (cmd == NULL)
		return;
	while ((kind = get_wch(&ch)) != ERR) {
		if (kind == KEY_CODE_YES && ch == KEY_RESIZE) {
			/* resizeterm (our SIGWINCH handler) queues this key: the
			 * screen has its new size already; resizing again here
			 * would queue another, for ever. */
			continue;
		}
		struct agentmodel_key key;
		if (!agentui_map_key(kind, ch, &key))
			continue;
		if (agentmodel_on_key(u->m, &key, agentui_now(), cmd) && u->c != NULL) {
			if (agentcli_execute(u->c, cmd, NULL, NULL) != 0) {
				if (cmd->form != AGENTMODEL_FORM_NONE)
					agentmodel_sent(u->m, cmd->form, false,
							"内存不足，未能发送", agentui_now());
			}
		}
		if (u->c != NULL)
			agentcli_model_changed(u->c);
	}
	free(cmd);
	agentui_changed(u);
}

static void agentui_on_winch(evutil_socket_t fd, short what, void *arg)
{
	agentui_resize(arg);
}

static void agentui_on_term(evutil_socket_t fd, short what, void *arg)
{
	struct agentui *u = arg;
	if (u->c != NULL && agentcli_save_draft(u->c) != 0)
		agentmodel_note(u->m, agentui_now(), true, "草稿未能保存");
	event_base_loopbreak(u->base);
}

void agentui_quit(struct agentui *u)
{
	event_base_loopbreak(u->base);
}

/* --- life ------------------------------------------------------------------------------- */

struct agentui *agentui_new(struct event_base *base, struct agentmodel *m, const char *url,
			    char *err, size_t err_len)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		snprintf(err, err_len,
			 "standard input and output must be a terminal (use --batch for scripts)");
		return NULL;
	}
	struct agentui *u = calloc(1, sizeof *u);
	if (u == NULL) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	u->base = base;
	u->m = m;
	snprintf(u->url, sizeof u->url, "%s", url);
	u->input_ev = event_new(base, STDIN_FILENO, EV_READ | EV_PERSIST, agentui_on_input, u);
	u->redraw_ev = evtimer_new(base, agentui_on_redraw, u);
	u->clock_ev = event_new(base, -1, EV_PERSIST, agentui_on_clock, u);
	u->winch_ev = evsignal_new(base, SIGWINCH, agentui_on_winch, u);
	u->term_ev = evsignal_new(base, SIGTERM, agentui_on_term, u);
	u->hup_ev = evsignal_new(base, SIGHUP, agentui_on_term, u);
	if (u->input_ev == NULL || u->redraw_ev == NULL || u->clock_ev == NULL ||
	    u->winch_ev == NULL || u->term_ev == NULL || u->hup_ev == NULL) {
		snprintf(err, err_len, "out of memory");
		agentui_free(u);
		return NULL;
	}
	/* A short wait for the rest of an escape sequence: Esc closes forms
	 * and must not feel slow. */
	set_escdelay(25);
	if (initscr() == NULL) {
		snprintf(err, err_len, "cannot start the terminal (TERM=%s)",
			 getenv("TERM") != NULL ? getenv("TERM") : "");
		agentui_free(u);
		return NULL;
	}
	u->screen_on = true;
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(AGENTUI_PAIR_BAR, COLOR_BLACK, COLOR_CYAN);
		init_pair(AGENTUI_PAIR_ERROR, COLOR_RED, -1);
		init_pair(AGENTUI_PAIR_OK, COLOR_GREEN, -1);
		init_pair(AGENTUI_PAIR_ALARM, COLOR_WHITE, COLOR_RED);
		init_pair(AGENTUI_PAIR_TITLE, COLOR_YELLOW, -1);
		init_pair(AGENTUI_PAIR_WARN, COLOR_YELLOW, -1);
		u->colours = true;
	}
	/* After initscr: ours replaces ncurses' own SIGWINCH handler. */
	struct timeval second = {1, 0};
	if (event_add(u->input_ev, NULL) != 0 || event_add(u->clock_ev, &second) != 0 ||
	    event_add(u->winch_ev, NULL) != 0 || event_add(u->term_ev, NULL) != 0 ||
	    event_add(u->hup_ev, NULL) != 0) {
		snprintf(err, err_len, "cannot watch the terminal");
		agentui_free(u);
		return NULL;
	}
	agentui_changed(u);
	return u;
}

void agentui_attach(struct agentui *u, struct agentcli *c)
{
	u->c = c;
}

void agentui_free(struct agentui *u)
{
	if (u == NULL)
		return;
	if (u->screen_on)
		endwin();
	if (u->input_ev != NULL)
		event_free(u->input_ev);
	if (u->redraw_ev != NULL)
		event_free(u->redraw_ev);
	if (u->clock_ev != NULL)
		event_free(u->clock_ev);
	if (u->winch_ev != NULL)
		event_free(u->winch_ev);
	if (u->term_ev != NULL)
		event_free(u->term_ev);
	if (u->hup_ev != NULL)
		event_free(u->hup_ev);
	free(u);
}
