/* agentmodel.c: the agent's screen as plain data (see agentmodel.h): the
 * forms and their rules, keys, what the broker's messages and answers mean
 * for the screen, drafts, and the labels people read. */
#include "agentmodel.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agentjson.h"
#include "timeutil.h"

#define AGENTMODEL_DRAFT_VERSION 1

const char *const agentmodel_default_reasons[] = {
	"break", "lunch", "meeting", "training", "coaching", "after_call_work", NULL,
};

/* --- labels ---------------------------------------------------------------- */

struct agentmodel_label {
	const char *code;
	const char *label;
};

static const char *agentmodel_lookup(const struct agentmodel_label *table, size_t n,
				     const char *code, const char *fallback)
{
	for (size_t i = 0; code != NULL && i < n; i++)
		if (strcmp(table[i].code, code) == 0)
			return table[i].label;
	return fallback != NULL ? fallback : code;
}

#define AGENTMODEL_N(table) (sizeof(table) / sizeof((table)[0]))

/* Short labels for a status bar and a pop-up; the exports' long ones are
 * category.c's. */
static const struct agentmodel_label agentmodel_categories[] = {
	{"consultation", "健康咨询"},     {"complaint", "医疗投诉"}, {"booking", "电话预约"},
	{"expert_qa", "专家答疑"},        {"crisis", "心理危机"},    {"survey", "满意度调查"},
	{"ivr_self_service", "自助语音"}, {"other", "其他"},
};

static const struct agentmodel_label agentmodel_reasons[] = {
	{"break", "小休"},    {"lunch", "午餐"},       {"meeting", "会议"},
	{"training", "培训"}, {"coaching", "辅导"},    {"after_call_work", "话后处理"},
	{"login", "刚登录"},  {"no_answer", "未接听"},
};

static const struct agentmodel_label agentmodel_outcomes[] = {
	{"handled", "已处理"},     {"abandoned", "放弃"},     {"self_service", "自助"},
	{"overflow", "溢出"},      {"transferred", "已转接"}, {"reached", "已接通"},
	{"unreachable", "未接通"},
};

static const struct agentmodel_label agentmodel_queue_labels[] = {
	{"crisis", "危机"},  {"complaint", "投诉"},
	{"booking", "预约"}, {"consultation", "咨询"},
	{"night", "夜间"},   {"expert", "专家"},
	{"survey", "调查"},  {"self_service", "自助转人工"},
	{"general", "综合"},
};

/* The options of the fixed lists. The dispositions are what the centre
 * records at wrap-up (1..32 of a-z, 0-9, _ as the broker requires). */
static const struct agentmodel_choice agentmodel_dispositions[] = {
	{"resolved", "已解答"},
	{"booked", "已预约"},
	{"complaint_taken", "投诉已受理"},
	{"referred", "已转介"},
	{"callback_needed", "需回访"},
	{"info_given", "已告知"},
	{"silent_call", "无声来电"},
	{"other", "其他"},
};

static const struct agentmodel_choice agentmodel_category_choices[] = {
	{"", "不更正"},           {"consultation", "健康咨询"},     {"complaint", "医疗投诉"},
	{"booking", "电话预约"},  {"expert_qa", "专家答疑"},        {"crisis", "心理危机"},
	{"survey", "满意度调查"}, {"ivr_self_service", "自助语音"}, {"other", "其他"},
};

static const struct agentmodel_choice agentmodel_yes_no[] = {
	{"yes", "是"},
	{"no", "否"},
};

/* crisis_callback is the distributor's own; agents open the other three. */
static const struct agentmodel_choice agentmodel_ticket_kinds[] = {
	{"complaint", "投诉"},
	{"consultation_followup", "咨询回访"},
	{"callback", "回拨"},
};

static const struct agentmodel_choice agentmodel_callback_outcomes[] = {
	{"reached", "已接通"},
	{"unreachable", "未接通"},
};

static const struct agentmodel_label agentmodel_stages[] = {
	{"received", "待签收"}, {"signed", "已签收"},    {"in_progress", "处理中"},
	{"replied", "已回复"},  {"revisited", "已回访"}, {"closed", "已办结"},
	{"returned", "已退单"},
};

static const struct agentmodel_label agentmodel_due_status[] = {
	{"on_time", "未到期"},
	{"near_due", "即将到期"},
	{"overdue", "已超期"},
};

const char *agentmodel_state_name(enum agentmodel_state s)
{
	switch (s) {
	case AGENTMODEL_UNKNOWN:
		return "unknown";
	case AGENTMODEL_LOGGED_OUT:
		return "logged_out";
	case AGENTMODEL_NOT_READY:
		return "not_ready";
	case AGENTMODEL_READY:
		return "ready";
	case AGENTMODEL_OFFERED:
		return "offered";
	case AGENTMODEL_ON_CALL:
		return "on_call";
	case AGENTMODEL_WRAP_UP:
		return "wrap_up";
	}
	return "unknown";
}

const char *agentmodel_state_label(enum agentmodel_state s)
{
	switch (s) {
	case AGENTMODEL_UNKNOWN:
		return "未知";
	case AGENTMODEL_LOGGED_OUT:
		return "已注销";
	case AGENTMODEL_NOT_READY:
		return "示忙";
	case AGENTMODEL_READY:
		return "就绪";
	case AGENTMODEL_OFFERED:
		return "振铃";
	case AGENTMODEL_ON_CALL:
		return "通话中";
	case AGENTMODEL_WRAP_UP:
		return "话后整理";
	}
	return "未知";
}

enum agentmodel_state agentmodel_parse_state(const char *name)
{
	for (int s = AGENTMODEL_LOGGED_OUT; name != NULL && s <= AGENTMODEL_WRAP_UP; s++)
		if (strcmp(name, agentmodel_state_name((enum agentmodel_state)s)) == 0)
			return (enum agentmodel_state)s;
	return AGENTMODEL_UNKNOWN;
}

const char *agentmodel_reason_label(const char *reason)
{
	return agentmodel_lookup(agentmodel_reasons, AGENTMODEL_N(agentmodel_reasons), reason,
				 NULL);
}

const char *agentmodel_category_label(const char *category)
{
	return agentmodel_lookup(agentmodel_categories, AGENTMODEL_N(agentmodel_categories),
				 category, NULL);
}

const char *agentmodel_outcome_label(const char *outcome)
{
	return agentmodel_lookup(agentmodel_outcomes, AGENTMODEL_N(agentmodel_outcomes), outcome,
				 NULL);
}

const char *agentmodel_queue_label(const char *queue)
{
	return agentmodel_lookup(agentmodel_queue_labels, AGENTMODEL_N(agentmodel_queue_labels),
				 queue, NULL);
}

static const struct agentmodel_label agentmodel_ticket_labels[] = {
	{"complaint", "投诉"}, {"consultation_followup", "咨询回访"},
	{"callback", "回拨"},  {"crisis_callback", "危机回拨"},
	{"new", "新建"},       {"open", "处理中"},
	{"pending", "待回复"}, {"resolved", "已解决"},
	{"closed", "已关闭"},
};

const char *agentmodel_ticket_label(const char *code)
{
	return agentmodel_lookup(agentmodel_ticket_labels, AGENTMODEL_N(agentmodel_ticket_labels),
				 code, NULL);
}

const char *agentmodel_form_title(enum agentmodel_form f)
{
	switch (f) {
	case AGENTMODEL_FORM_NONE:
	case AGENTMODEL_FORM_COUNT:
		return "";
	case AGENTMODEL_FORM_LOGIN:
		return "登录";
	case AGENTMODEL_FORM_NOT_READY:
		return "示忙原因";
	case AGENTMODEL_FORM_WRAP_UP:
		return "话后小结";
	case AGENTMODEL_FORM_TICKET:
		return "建立工单";
	case AGENTMODEL_FORM_BOOKING:
		return "电话预约挂号";
	case AGENTMODEL_FORM_ORDER_REPLY:
		return "回复 12345 工单";
	case AGENTMODEL_FORM_CALLBACK:
		return "回拨结果";
	}
	return "";
}

const char *agentmodel_link_label(enum agentmodel_link l)
{
	switch (l) {
	case AGENTMODEL_LINK_OFFLINE:
		return "未登录";
	case AGENTMODEL_LINK_CONNECTING:
		return "连接中";
	case AGENTMODEL_LINK_ONLINE:
		return "已连接";
	case AGENTMODEL_LINK_BROKEN:
		return "连接中断";
	}
	return "";
}

void agentmodel_format_duration(int64_t seconds, char out[16])
{
	if (seconds < 0)
		seconds = 0;
	if (seconds > 99 * 3600 + 3599)
		seconds = 99 * 3600 + 3599;
	if (seconds >= 3600)
		snprintf(out, 16, "%d:%02d:%02d", (int)(seconds / 3600), (int)(seconds / 60 % 60),
			 (int)(seconds % 60));
	else
		snprintf(out, 16, "%02d:%02d", (int)(seconds / 60), (int)(seconds % 60));
}

/* --- small helpers -------------------------------------------------------------- */

void agentmodel_note(struct agentmodel *m, int64_t now, bool error, const char *fmt, ...)
{
	if (m->n_log == AGENTMODEL_LOG_MAX) {
		memmove(&m->log[0], &m->log[1], (AGENTMODEL_LOG_MAX - 1) * sizeof m->log[0]);
		m->n_log--;
	}
	struct agentmodel_log_line *l = &m->log[m->n_log++];
	l->at = now;
	l->error = error;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->text, sizeof l->text, fmt, ap);
	va_end(ap);
}

/* Ids of the API: 1..64 of A-Z a-z 0-9 . _ : - (doc/api.md). */
static bool agentmodel_id_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == n;
}

static struct agentmodel_field *agentmodel_field_find(struct agentmodel *m, enum agentmodel_form f,
						      const char *key, size_t *index)
{
	struct agentmodel_form_state *fs = &m->forms[f];
	for (size_t i = 0; i < fs->n_fields; i++)
		if (strcmp(fs->fields[i].key, key) == 0) {
			if (index != NULL)
				*index = i;
			return &fs->fields[i];
		}
	return NULL;
}

static void agentmodel_field_text(const struct agentmodel_field *fl, char *out, size_t out_len)
{
	textfield_utf8(&fl->text, out, out_len);
}

static void agentmodel_add_field(struct agentmodel_form_state *fs, const char *key,
				 const char *label, enum agentmodel_list list, size_t max,
				 bool secret, const char *value)
{
	struct agentmodel_field *fl = &fs->fields[fs->n_fields++];
	fl->key = key;
	fl->label = label;
	fl->list = list;
	fl->secret = secret;
	textfield_init(&fl->text, list == AGENTMODEL_LIST_NONE ? max : 32);
	agentjson_copy(fl->value, sizeof fl->value, value);
}

/* "YYYY-MM-DD" of the local day of usec. */
static void agentmodel_local_date(int64_t usec, char out[AGENTMODEL_DATE_LEN])
{
	int y, mo, d;
	timeutil_civil_from_days(timeutil_local_day(usec), &y, &mo, &d);
	snprintf(out, AGENTMODEL_DATE_LEN, "%04u-%02u-%02u", (unsigned)y % 10000u,
		 (unsigned)mo % 100u, (unsigned)d % 100u);
}

/* --- life ------------------------------------------------------------------------ */

/* The not-ready reasons the agent may choose: reasons, without the
 * distributor's own ("login", "no_answer"), which are not the agent's to
 * give. */
static void agentmodel_set_reasons(struct agentmodel *m, const char *const *reasons,
				   size_t n_reasons)
{
	m->n_reasons = 0;
	for (size_t i = 0; i < n_reasons && m->n_reasons < AGENTMODEL_REASONS_MAX; i++) {
		if (strcmp(reasons[i], "login") == 0 || strcmp(reasons[i], "no_answer") == 0)
			continue;
		struct agentmodel_choice *c = &m->reasons[m->n_reasons++];
		agentjson_copy(c->value, sizeof c->value, reasons[i]);
		agentjson_copy(c->label, sizeof c->label, agentmodel_reason_label(reasons[i]));
	}
}

struct agentmodel *agentmodel_new(const char *centre, const char *agent_id,
				  const char *const *reasons, size_t n_reasons, int64_t now)
{
	struct agentmodel *m = calloc(1, sizeof *m);
	if (m == NULL)
		return NULL;
	agentjson_copy(m->centre, sizeof m->centre, centre);
	agentjson_copy(m->agent_id, sizeof m->agent_id, agent_id);
	m->link = AGENTMODEL_LINK_OFFLINE;
	m->state = AGENTMODEL_UNKNOWN;
	textfield_init(&m->notes, AGENTMODEL_TEXT_CHARS);

	if (reasons == NULL) {
		reasons = agentmodel_default_reasons;
		for (n_reasons = 0; reasons[n_reasons] != NULL; n_reasons++)
			;
	}
	agentmodel_set_reasons(m, reasons, n_reasons);

	struct agentmodel_form_state *fs = &m->forms[AGENTMODEL_FORM_LOGIN];
	agentmodel_add_field(fs, "centre", "中心", AGENTMODEL_LIST_NONE, 32, false, "");
	agentmodel_add_field(fs, "agent", "工号", AGENTMODEL_LIST_NONE, 64, false, "");
	agentmodel_add_field(fs, "password", "密码", AGENTMODEL_LIST_NONE, 256, true, "");
	if (textfield_set_utf8(&fs->fields[0].text, m->centre) != 0 ||
	    textfield_set_utf8(&fs->fields[1].text, m->agent_id) != 0)
		textfield_clear(&fs->fields[0].text);
	fs->focus = m->centre[0] == '\0' ? 0 : m->agent_id[0] == '\0' ? 1 : 2;

	fs = &m->forms[AGENTMODEL_FORM_NOT_READY];
	agentmodel_add_field(fs, "reason", "原因", AGENTMODEL_LIST_REASONS, 0, false,
			     m->n_reasons > 0 ? m->reasons[0].value : "");

	fs = &m->forms[AGENTMODEL_FORM_WRAP_UP];
	agentmodel_add_field(fs, "disposition", "处理结果", AGENTMODEL_LIST_DISPOSITIONS, 0, false,
			     "resolved");
	agentmodel_add_field(fs, "category", "更正类别", AGENTMODEL_LIST_CATEGORIES, 0, false, "");
	agentmodel_add_field(fs, "then_ready", "提交后就绪", AGENTMODEL_LIST_YES_NO, 0, false,
			     "yes");

	fs = &m->forms[AGENTMODEL_FORM_TICKET];
	agentmodel_add_field(fs, "kind", "类型", AGENTMODEL_LIST_TICKET_KINDS, 0, false,
			     "complaint");
	agentmodel_add_field(fs, "subject", "主题", AGENTMODEL_LIST_NONE, AGENTMODEL_SUBJECT_CHARS,
			     false, "");
	agentmodel_add_field(fs, "note", "记录", AGENTMODEL_LIST_NONE, AGENTMODEL_TEXT_CHARS, false,
			     "");
	fs->focus = 1;

	fs = &m->forms[AGENTMODEL_FORM_BOOKING];
	agentmodel_add_field(fs, "hospital", "医院", AGENTMODEL_LIST_HOSPITALS, 0, false, "");
	agentmodel_add_field(fs, "department", "科室", AGENTMODEL_LIST_DEPARTMENTS, 0, false, "");
	agentmodel_add_field(fs, "date", "就诊日期", AGENTMODEL_LIST_NONE, 10, false, "");
	char tomorrow[AGENTMODEL_DATE_LEN];
	agentmodel_local_date(now + 86400 * INT64_C(1000000), tomorrow);
	if (textfield_set_utf8(&fs->fields[2].text, tomorrow) != 0)
		textfield_clear(&fs->fields[2].text);

	fs = &m->forms[AGENTMODEL_FORM_ORDER_REPLY];
	agentmodel_add_field(fs, "order", "工单", AGENTMODEL_LIST_ORDERS, 0, false, "");
	agentmodel_add_field(fs, "text", "回复内容", AGENTMODEL_LIST_NONE, AGENTMODEL_TEXT_CHARS,
			     false, "");

	fs = &m->forms[AGENTMODEL_FORM_CALLBACK];
	agentmodel_add_field(fs, "outcome", "结果", AGENTMODEL_LIST_OUTCOMES, 0, false, "reached");

	m->open = AGENTMODEL_FORM_LOGIN;
	return m;
}

static void agentmodel_free_hospitals(struct agentmodel *m)
{
	for (size_t i = 0; i < m->n_hospitals; i++)
		free(m->hospitals[i].departments);
	free(m->hospitals);
	m->hospitals = NULL;
	m->n_hospitals = 0;
}

void agentmodel_free(struct agentmodel *m)
{
	if (m == NULL)
		return;
	agentmodel_free_hospitals(m);
	/* The password field may still hold what was typed. */
	struct textfield *pw = &m->forms[AGENTMODEL_FORM_LOGIN].fields[2].text;
	memset(pw->text, 0, sizeof pw->text);
	free(m);
}

/* --- choices ----------------------------------------------------------------------- */

static const struct agentmodel_hospital *agentmodel_hospital_find(const struct agentmodel *m,
								  const char *code)
{
	for (size_t i = 0; i < m->n_hospitals; i++)
		if (strcmp(m->hospitals[i].code, code) == 0)
			return &m->hospitals[i];
	return NULL;
}

const struct agentmodel_choice *agentmodel_choices(const struct agentmodel *m,
						   enum agentmodel_form f, size_t field, size_t *n)
{
	*n = 0;
	if (f <= AGENTMODEL_FORM_NONE || f >= AGENTMODEL_FORM_COUNT ||
	    field >= m->forms[f].n_fields)
		return NULL;
	switch (m->forms[f].fields[field].list) {
	case AGENTMODEL_LIST_NONE:
		return NULL;
	case AGENTMODEL_LIST_REASONS:
		*n = m->n_reasons;
		return m->reasons;
	case AGENTMODEL_LIST_DISPOSITIONS:
		*n = AGENTMODEL_N(agentmodel_dispositions);
		return agentmodel_dispositions;
	case AGENTMODEL_LIST_CATEGORIES:
		*n = AGENTMODEL_N(agentmodel_category_choices);
		return agentmodel_category_choices;
	case AGENTMODEL_LIST_YES_NO:
		*n = AGENTMODEL_N(agentmodel_yes_no);
		return agentmodel_yes_no;
	case AGENTMODEL_LIST_TICKET_KINDS:
		*n = AGENTMODEL_N(agentmodel_ticket_kinds);
		return agentmodel_ticket_kinds;
	case AGENTMODEL_LIST_OUTCOMES:
		*n = AGENTMODEL_N(agentmodel_callback_outcomes);
		return agentmodel_callback_outcomes;
	case AGENTMODEL_LIST_ORDERS:
		*n = m->n_orders;
		return m->orders;
	case AGENTMODEL_LIST_HOSPITALS: {
		/* Hospitals are kept with their departments; their choices are
		 * built on the fly from a static view of the list. */
		return NULL;
	}
	case AGENTMODEL_LIST_DEPARTMENTS: {
		const struct agentmodel_hospital *h = agentmodel_hospital_find(
			m, m->forms[AGENTMODEL_FORM_BOOKING].fields[0].value);
		if (h == NULL)
			return NULL;
		*n = h->n_departments;
		return h->departments;
	}
	}
	return NULL;
}

/* A choice list as (value, label) pairs, hospitals included: the index-th
 * option, or NULL past the end. */
static bool agentmodel_option(const struct agentmodel *m, enum agentmodel_form f, size_t field,
			      size_t index, const char **value, const char **label)
{
	if (m->forms[f].fields[field].list == AGENTMODEL_LIST_HOSPITALS) {
		if (index >= m->n_hospitals)
			return false;
		*value = m->hospitals[index].code;
		*label = m->hospitals[index].name;
		return true;
	}
	size_t n;
	const struct agentmodel_choice *c = agentmodel_choices(m, f, field, &n);
	if (c == NULL || index >= n)
		return false;
	*value = c[index].value;
	*label = c[index].label;
	return true;
}

static size_t agentmodel_option_count(const struct agentmodel *m, enum agentmodel_form f,
				      size_t field)
{
	if (m->forms[f].fields[field].list == AGENTMODEL_LIST_HOSPITALS)
		return m->n_hospitals;
	size_t n;
	(void)agentmodel_choices(m, f, field, &n);
	return n;
}

/* The index of the field's value in its list, or -1. */
static long agentmodel_option_index(const struct agentmodel *m, enum agentmodel_form f,
				    size_t field)
{
	const char *want = m->forms[f].fields[field].value, *value, *label;
	for (size_t i = 0; agentmodel_option(m, f, field, i, &value, &label); i++)
		if (strcmp(value, want) == 0)
			return (long)i;
	return -1;
}

const char *agentmodel_choice_label(const struct agentmodel *m, enum agentmodel_form f,
				    size_t field)
{
	const char *value, *label;
	long i = agentmodel_option_index(m, f, field);
	if (i < 0 || !agentmodel_option(m, f, field, (size_t)i, &value, &label))
		return "";
	return label;
}

/* After the hospital changed: a department of the new hospital. */
static void agentmodel_fix_department(struct agentmodel *m)
{
	struct agentmodel_form_state *fs = &m->forms[AGENTMODEL_FORM_BOOKING];
	const struct agentmodel_hospital *h = agentmodel_hospital_find(m, fs->fields[0].value);
	if (h == NULL) {
		fs->fields[1].value[0] = '\0';
		return;
	}
	for (size_t i = 0; i < h->n_departments; i++)
		if (strcmp(h->departments[i].value, fs->fields[1].value) == 0)
			return;
	agentjson_copy(fs->fields[1].value, sizeof fs->fields[1].value,
		       h->n_departments > 0 ? h->departments[0].value : "");
}

static void agentmodel_choose(struct agentmodel *m, enum agentmodel_form f, size_t field,
			      size_t index)
{
	const char *value, *label;
	if (!agentmodel_option(m, f, field, index, &value, &label))
		return;
	struct agentmodel_field *fl = &m->forms[f].fields[field];
	agentjson_copy(fl->value, sizeof fl->value, value);
	if (fl->list == AGENTMODEL_LIST_HOSPITALS)
		agentmodel_fix_department(m);
	m->draft_dirty = true;
}

/* Moves a choice by delta (wrapping round). */
static void agentmodel_choice_step(struct agentmodel *m, enum agentmodel_form f, size_t field,
				   int delta)
{
	size_t n = agentmodel_option_count(m, f, field);
	if (n == 0)
		return;
	long i = agentmodel_option_index(m, f, field);
	long next = i < 0 ? (delta > 0 ? 0 : (long)n - 1) : (i + delta + (long)n) % (long)n;
	agentmodel_choose(m, f, field, (size_t)next);
}

/* ASCII case folded, other bytes as they are: enough for codes and CJK. */
static bool agentmodel_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0)
		return true;
	for (const char *p = hay; *p != '\0'; p++) {
		size_t k = 0;
		while (k < n && p[k] != '\0') {
			char a = p[k], b = needle[k];
			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (b >= 'A' && b <= 'Z')
				b = (char)(b - 'A' + 'a');
			if (a != b)
				break;
			k++;
		}
		if (k == n)
			return true;
	}
	return false;
}

/* The search of a choice field changed: jump to the first match. */
static void agentmodel_choice_search(struct agentmodel *m, enum agentmodel_form f, size_t field)
{
	char needle[4 * 32 + 1];
	const char *value, *label;
	textfield_utf8(&m->forms[f].fields[field].text, needle, sizeof needle);
	for (size_t i = 0; agentmodel_option(m, f, field, i, &value, &label); i++)
		if (agentmodel_contains(value, needle) || agentmodel_contains(label, needle)) {
			agentmodel_choose(m, f, field, i);
			return;
		}
}

/* --- what may be done now ------------------------------------------------------------ */

/* The call the work forms are about: the one on the line or in wrap-up,
 * else the agent's last one. */
static const char *agentmodel_work_call(const struct agentmodel *m)
{
	if ((m->state == AGENTMODEL_ON_CALL || m->state == AGENTMODEL_WRAP_UP) &&
	    m->state_call[0] != '\0')
		return m->state_call;
	if (m->last_call[0] != '\0')
		return m->last_call;
	if (m->call.present && m->call.answered_at > 0)
		return m->call.call_id;
	return "";
}

enum agentmodel_action {
	AGENTMODEL_ACT_HELP,
	AGENTMODEL_ACT_READY,
	AGENTMODEL_ACT_NOT_READY,
	AGENTMODEL_ACT_TICKET,
	AGENTMODEL_ACT_BOOKING,
	AGENTMODEL_ACT_ORDER,
	AGENTMODEL_ACT_WRAP_UP,
	AGENTMODEL_ACT_CALLBACK,
	AGENTMODEL_ACT_LOGOUT,
	AGENTMODEL_ACT_QUIT,
	AGENTMODEL_ACT_COUNT,
};

static const struct {
	const char *key;
	const char *label;
} agentmodel_action_keys[AGENTMODEL_ACT_COUNT] = {
	{"F1", "帮助"},  {"F2", "就绪"}, {"F3", "示忙"}, {"F4", "工单"}, {"F5", "预约"},
	{"F6", "12345"}, {"F7", "小结"}, {"F8", "回拨"}, {"F9", "注销"}, {"F10", "退出"},
};

/* Whether action a makes sense now; why not in *why. The broker has the
 * last word: these only spare the agent requests it would refuse. */
static bool agentmodel_enabled(const struct agentmodel *m, enum agentmodel_action a,
			       const char **why)
{
	const char *dummy;
	if (why == NULL)
		why = &dummy;
	*why = "";
	if (a == AGENTMODEL_ACT_HELP || a == AGENTMODEL_ACT_QUIT)
		return true;
	if (!m->logged_in) {
		*why = "请先登录";
		return false;
	}
	bool idle = m->state == AGENTMODEL_READY || m->state == AGENTMODEL_NOT_READY ||
		    m->state == AGENTMODEL_WRAP_UP;
	switch (a) {
	case AGENTMODEL_ACT_READY:
		/* Ready while ready is harmless (the broker records nothing). */
		if (idle || m->state == AGENTMODEL_UNKNOWN)
			return true;
		*why = "振铃或通话中不能切换就绪";
		return false;
	case AGENTMODEL_ACT_NOT_READY:
	case AGENTMODEL_ACT_LOGOUT:
		if (idle || m->state == AGENTMODEL_UNKNOWN)
			return true;
		*why = "振铃或通话中不能示忙或注销";
		return false;
	case AGENTMODEL_ACT_TICKET:
	case AGENTMODEL_ACT_BOOKING:
	case AGENTMODEL_ACT_WRAP_UP:
		if (agentmodel_work_call(m)[0] != '\0')
			return true;
		*why = "还没有接听过电话";
		return false;
	case AGENTMODEL_ACT_ORDER:
		return true;
	case AGENTMODEL_ACT_CALLBACK:
		if (m->call.present && m->call.callback && !m->call.cancelled &&
		    (m->state == AGENTMODEL_OFFERED || m->state == AGENTMODEL_ON_CALL))
			return true;
		*why = "没有待处理的回拨";
		return false;
	case AGENTMODEL_ACT_HELP:
	case AGENTMODEL_ACT_QUIT:
	case AGENTMODEL_ACT_COUNT:
		break;
	}
	return true;
}

size_t agentmodel_shortcuts(const struct agentmodel *m,
			    struct agentmodel_shortcut out[AGENTMODEL_SHORTCUTS_MAX])
{
	size_t n = 0;
	for (int a = 0; a < AGENTMODEL_ACT_COUNT && n < AGENTMODEL_SHORTCUTS_MAX; a++) {
		out[n].key = agentmodel_action_keys[a].key;
		out[n].label = agentmodel_action_keys[a].label;
		out[n].enabled = agentmodel_enabled(m, (enum agentmodel_action)a, NULL);
		n++;
	}
	return n;
}

static bool agentmodel_any_sending(const struct agentmodel *m)
{
	for (int f = 0; f < AGENTMODEL_FORM_COUNT; f++)
		if (m->forms[f].sending)
			return true;
	return false;
}

/* --- forms --------------------------------------------------------------------------- */

bool agentmodel_open_form(struct agentmodel *m, enum agentmodel_form f, int64_t now,
			  struct agentmodel_command *out)
{
	static const enum agentmodel_action action_of[AGENTMODEL_FORM_COUNT] = {
		[AGENTMODEL_FORM_NOT_READY] = AGENTMODEL_ACT_NOT_READY,
		[AGENTMODEL_FORM_WRAP_UP] = AGENTMODEL_ACT_WRAP_UP,
		[AGENTMODEL_FORM_TICKET] = AGENTMODEL_ACT_TICKET,
		[AGENTMODEL_FORM_BOOKING] = AGENTMODEL_ACT_BOOKING,
		[AGENTMODEL_FORM_ORDER_REPLY] = AGENTMODEL_ACT_ORDER,
		[AGENTMODEL_FORM_CALLBACK] = AGENTMODEL_ACT_CALLBACK,
	};
	const char *why = "";

	if (out != NULL)
		out->kind = AGENTMODEL_CMD_NONE;
	if (f <= AGENTMODEL_FORM_NONE || f >= AGENTMODEL_FORM_COUNT)
		return false;
	if (f != AGENTMODEL_FORM_LOGIN && !agentmodel_enabled(m, action_of[f], &why)) {
		agentmodel_note(m, now, true, "%s：%s", agentmodel_form_title(f), why);
		return false;
	}
	struct agentmodel_form_state *fs = &m->forms[f];
	if (!fs->sending)
		fs->error[0] = '\0';
	m->open = f;
	m->help = false;
	switch (f) {
	case AGENTMODEL_FORM_TICKET: {
		/* The call's notes are the ticket's first record unless the
		 * agent wrote one already. */
		struct agentmodel_field *note = &fs->fields[2];
		if (textfield_empty(&note->text) && !textfield_empty(&m->notes) && !m->notes_used) {
			note->text = m->notes;
			m->draft_dirty = true;
		}
		break;
	}
	case AGENTMODEL_FORM_BOOKING:
		if (!m->hospitals_loaded && out != NULL)
			out->kind = AGENTMODEL_CMD_LOAD_HOSPITALS;
		if (fs->fields[0].value[0] == '\0' && m->n_hospitals > 0)
			agentmodel_choose(m, f, 0, 0);
		break;
	case AGENTMODEL_FORM_ORDER_REPLY:
		if (out != NULL)
			out->kind = AGENTMODEL_CMD_LOAD_ORDERS;
		break;
	default:
		break;
	}
	return true;
}

int agentmodel_set_field(struct agentmodel *m, enum agentmodel_form f, const char *key,
			 const char *value)
{
	size_t index;
	if (f <= AGENTMODEL_FORM_NONE || f >= AGENTMODEL_FORM_COUNT)
		return -ENOENT;
	struct agentmodel_field *fl = agentmodel_field_find(m, f, key, &index);
	struct agentmodel_form_state *fs = &m->forms[f];
	if (fl == NULL)
		return -ENOENT;
	if (fl->list == AGENTMODEL_LIST_NONE) {
		int rc = textfield_set_utf8(&fl->text, value);
		if (rc != 0) {
			snprintf(fs->error, sizeof fs->error, "%s：%s", fl->label,
				 rc == -ENOSPC ? "太长" : "含有不能显示的字符");
			return -EINVAL;
		}
		m->draft_dirty = !fl->secret || m->draft_dirty;
		return 0;
	}
	/* A choice: one of its options when the list is known; hospitals and
	 * orders not yet loaded are left for the broker to judge. */
	size_t n = agentmodel_option_count(m, f, index);
	bool dynamic = fl->list == AGENTMODEL_LIST_HOSPITALS ||
		       fl->list == AGENTMODEL_LIST_DEPARTMENTS ||
		       fl->list == AGENTMODEL_LIST_ORDERS;
	const char *v, *label;
	for (size_t i = 0; i < n; i++)
		if (agentmodel_option(m, f, index, i, &v, &label) && strcmp(v, value) == 0) {
			agentmodel_choose(m, f, index, i);
			return 0;
		}
	if (dynamic && (n == 0 || (fl->list == AGENTMODEL_LIST_ORDERS && !m->orders_loaded))) {
		agentjson_copy(fl->value, sizeof fl->value, value);
		m->draft_dirty = true;
		return 0;
	}
	snprintf(fs->error, sizeof fs->error, "%s：没有“%s”这一项", fl->label, value);
	return -EINVAL;
}

static bool agentmodel_date_ok(const char *s, int64_t now, char *why, size_t why_len)
{
	int y, mo, d, end = 0;
	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &end) != 3 || end != 10 ||
	    mo < 1 || mo > 12 || d < 1 || d > 31) {
		snprintf(why, why_len, "就诊日期：请按 YYYY-MM-DD 填写，例如 2019-03-06");
		return false;
	}
	int y2, mo2, d2;
	int64_t days = timeutil_days_from_civil(y, (unsigned)mo, (unsigned)d);
	timeutil_civil_from_days(days, &y2, &mo2, &d2);
	if (y2 != y || mo2 != mo || d2 != d) {
		snprintf(why, why_len, "就诊日期：%s 不存在", s);
		return false;
	}
	if (days < timeutil_local_day(now)) {
		snprintf(why, why_len, "就诊日期：%s 已经过去", s);
		return false;
	}
	return true;
}

static int agentmodel_refuse(struct agentmodel_form_state *fs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int agentmodel_refuse(struct agentmodel_form_state *fs, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fs->error, sizeof fs->error, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int agentmodel_submit(struct agentmodel *m, enum agentmodel_form f, int64_t now,
		      struct agentmodel_command *out)
{
	if (f <= AGENTMODEL_FORM_NONE || f >= AGENTMODEL_FORM_COUNT)
		return -EINVAL;
	struct agentmodel_form_state *fs = &m->forms[f];
	if (fs->sending) {
		snprintf(fs->error, sizeof fs->error, "正在发送，请稍候");
		return -EBUSY;
	}
	memset(out, 0, sizeof *out);
	out->form = f;
	fs->error[0] = '\0';
	const char *call = agentmodel_work_call(m);

	switch (f) {
	case AGENTMODEL_FORM_LOGIN:
		agentmodel_field_text(&fs->fields[0], out->centre, sizeof out->centre);
		agentmodel_field_text(&fs->fields[1], out->agent_id, sizeof out->agent_id);
		textfield_utf8(&fs->fields[2].text, out->password, sizeof out->password);
		/* What was typed goes with the command; the field forgets it. */
		memset(fs->fields[2].text.text, 0, sizeof fs->fields[2].text.text);
		textfield_clear(&fs->fields[2].text);
		if (!agentmodel_id_ok(out->centre, 32))
			return agentmodel_refuse(fs, "中心：请填写中心代码，例如 nanjing");
		if (!agentmodel_id_ok(out->agent_id, 64))
			return agentmodel_refuse(fs, "工号：1 到 64 个字母、数字或 . _ : -");
		if (out->password[0] == '\0') {
			fs->focus = 2;
			return agentmodel_refuse(fs, "请输入密码");
		}
		out->kind = AGENTMODEL_CMD_LOGIN;
		m->logging_in = true;
		return 0;
	case AGENTMODEL_FORM_NOT_READY:
		if (fs->fields[0].value[0] == '\0')
			return agentmodel_refuse(fs, "请选择示忙原因");
		agentjson_copy(out->reason, sizeof out->reason, fs->fields[0].value);
		out->kind = AGENTMODEL_CMD_NOT_READY;
		break;
	case AGENTMODEL_FORM_WRAP_UP:
		if (call[0] == '\0')
			return agentmodel_refuse(fs, "还没有接听过电话");
		if (fs->fields[0].value[0] == '\0')
			return agentmodel_refuse(fs, "请选择处理结果");
		agentjson_copy(out->call_id, sizeof out->call_id, call);
		agentjson_copy(out->disposition, sizeof out->disposition, fs->fields[0].value);
		agentjson_copy(out->category, sizeof out->category, fs->fields[1].value);
		out->then_ready = strcmp(fs->fields[2].value, "no") != 0;
		out->kind = AGENTMODEL_CMD_WRAP_UP;
		break;
	case AGENTMODEL_FORM_TICKET:
		if (call[0] == '\0')
			return agentmodel_refuse(fs, "还没有接听过电话，工单无法关联");
		agentmodel_field_text(&fs->fields[1], out->subject, sizeof out->subject);
		if (strspn(out->subject, " ") == strlen(out->subject)) {
			fs->focus = 1;
			return agentmodel_refuse(fs, "请填写工单主题");
		}
		agentjson_copy(out->call_id, sizeof out->call_id, call);
		agentjson_copy(out->ticket_kind, sizeof out->ticket_kind, fs->fields[0].value);
		agentmodel_field_text(&fs->fields[2], out->text, sizeof out->text);
		out->kind = AGENTMODEL_CMD_TICKET;
		break;
	case AGENTMODEL_FORM_BOOKING: {
		char why[AGENTMODEL_MESSAGE_MAX];
		if (call[0] == '\0')
			return agentmodel_refuse(fs, "还没有接听过电话，预约无法关联");
		if (fs->fields[0].value[0] == '\0')
			return agentmodel_refuse(fs, m->hospitals_loaded ?
							     "请选择医院" :
							     "医院列表尚未载入，请稍候");
		if (fs->fields[1].value[0] == '\0')
			return agentmodel_refuse(fs, "请选择科室");
		agentmodel_field_text(&fs->fields[2], out->visit_date, sizeof out->visit_date);
		if (!agentmodel_date_ok(out->visit_date, now, why, sizeof why)) {
			fs->focus = 2;
			return agentmodel_refuse(fs, "%s", why);
		}
		agentjson_copy(out->call_id, sizeof out->call_id, call);
		agentjson_copy(out->hospital, sizeof out->hospital, fs->fields[0].value);
		agentjson_copy(out->department, sizeof out->department, fs->fields[1].value);
		out->kind = AGENTMODEL_CMD_BOOK;
		break;
	}
	case AGENTMODEL_FORM_ORDER_REPLY: {
		char *end = NULL;
		long long id = strtoll(fs->fields[0].value, &end, 10);
		if (fs->fields[0].value[0] == '\0' || end == NULL || *end != '\0' || id <= 0)
			return agentmodel_refuse(fs, m->n_orders > 0 ? "请选择工单" :
								       "没有待处理的 12345 工单");
		agentmodel_field_text(&fs->fields[1], out->text, sizeof out->text);
		if (strspn(out->text, " ") == strlen(out->text)) {
			fs->focus = 1;
			return agentmodel_refuse(fs, "请填写回复内容");
		}
		out->order_id = id;
		out->kind = AGENTMODEL_CMD_ORDER_REPLY;
		break;
	}
	case AGENTMODEL_FORM_CALLBACK:
		if (!m->call.present || !m->call.callback)
			return agentmodel_refuse(fs, "没有进行中的回拨");
		agentjson_copy(out->call_id, sizeof out->call_id, m->call.call_id);
		agentjson_copy(out->outcome, sizeof out->outcome, fs->fields[0].value);
		out->kind = AGENTMODEL_CMD_CALLBACK_FINISH;
		break;
	case AGENTMODEL_FORM_NONE:
	case AGENTMODEL_FORM_COUNT:
		return -EINVAL;
	}
	fs->sending = true;
	return 0;
}

bool agentmodel_simple_command(struct agentmodel *m, enum agentmodel_command_kind kind, int64_t now,
			       struct agentmodel_command *out)
{
	const char *why = "";
	memset(out, 0, sizeof *out);
	switch (kind) {
	case AGENTMODEL_CMD_READY:
		if (!agentmodel_enabled(m, AGENTMODEL_ACT_READY, &why))
			break;
		out->kind = kind;
		return true;
	case AGENTMODEL_CMD_LOGOUT:
		if (!agentmodel_enabled(m, AGENTMODEL_ACT_LOGOUT, &why))
			break;
		out->kind = kind;
		return true;
	case AGENTMODEL_CMD_CALLBACK_ACCEPT:
		if (!agentmodel_enabled(m, AGENTMODEL_ACT_CALLBACK, &why))
			break;
		if (m->state != AGENTMODEL_OFFERED) {
			why = "回拨已接受";
			break;
		}
		out->kind = kind;
		agentjson_copy(out->call_id, sizeof out->call_id, m->call.call_id);
		return true;
	case AGENTMODEL_CMD_LOAD_ORDERS:
	case AGENTMODEL_CMD_LOAD_HOSPITALS:
	case AGENTMODEL_CMD_QUIT:
		out->kind = kind;
		return true;
	default:
		why = "这个操作需要填写表单";
		break;
	}
	agentmodel_note(m, now, true, "%s", why);
	return false;
}

int agentmodel_set_notes(struct agentmodel *m, const char *utf8)
{
	int rc = textfield_set_utf8(&m->notes, utf8);
	if (rc == 0) {
		agentjson_copy(m->notes_call, sizeof m->notes_call, agentmodel_work_call(m));
		m->notes_used = false;
		m->draft_dirty = true;
	}
	return rc;
}

/* --- keys ------------------------------------------------------------------------------ */

/* Editing keys on a text field; true when the text changed. */
static bool agentmodel_edit_text(struct textfield *t, const struct agentmodel_key *key,
				 struct agentmodel *m, int64_t now)
{
	switch (key->kind) {
	case AGENTMODEL_KEY_CHAR: {
		int rc = textfield_insert(t, key->ch);
		if (rc == -ENOSPC)
			agentmodel_note(m, now, true, "已达字数上限（%zu 字）", t->max);
		return rc == 0;
	}
	case AGENTMODEL_KEY_BACKSPACE:
		if (t->cursor == 0)
			return false;
		textfield_backspace(t);
		return true;
	case AGENTMODEL_KEY_DELETE:
		if (t->cursor >= t->len)
			return false;
		textfield_delete(t);
		return true;
	case AGENTMODEL_KEY_LEFT:
		textfield_left(t);
		return false;
	case AGENTMODEL_KEY_RIGHT:
		textfield_right(t);
		return false;
	case AGENTMODEL_KEY_HOME:
		textfield_home(t);
		return false;
	case AGENTMODEL_KEY_END:
		textfield_end(t);
		return false;
	case AGENTMODEL_KEY_CLEAR:
		if (t->len == 0)
			return false;
		textfield_clear(t);
		return true;
	default:
		return false;
	}
}

static bool agentmodel_key_in_form(struct agentmodel *m, const struct agentmodel_key *key,
				   int64_t now, struct agentmodel_command *out)
{
	enum agentmodel_form f = m->open;
	struct agentmodel_form_state *fs = &m->forms[f];
	struct agentmodel_field *fl = &fs->fields[fs->focus];

	switch (key->kind) {
	case AGENTMODEL_KEY_ESCAPE:
		if (f == AGENTMODEL_FORM_LOGIN)
			return false;
		m->open = AGENTMODEL_FORM_NONE; /* the text stays for next time */
		return false;
	case AGENTMODEL_KEY_TAB:
	case AGENTMODEL_KEY_DOWN:
	case AGENTMODEL_KEY_BACKTAB:
	case AGENTMODEL_KEY_UP: {
		bool back = key->kind == AGENTMODEL_KEY_BACKTAB || key->kind == AGENTMODEL_KEY_UP;
		if (fl->list != AGENTMODEL_LIST_NONE)
			textfield_clear(&fl->text); /* a search ends with its field */
		fs->focus = (fs->focus + (back ? fs->n_fields - 1 : 1)) % fs->n_fields;
		return false;
	}
	case AGENTMODEL_KEY_ENTER:
		if (fs->sending)
			return false;
		return agentmodel_submit(m, f, now, out) == 0;
	default:
		break;
	}
	if (fs->sending)
		return false; /* what is on its way is not edited under it */
	if (fl->list == AGENTMODEL_LIST_NONE) {
		if (agentmodel_edit_text(&fl->text, key, m, now) && !fl->secret)
			m->draft_dirty = true;
		return false;
	}
	switch (key->kind) {
	case AGENTMODEL_KEY_LEFT:
		textfield_clear(&fl->text);
		agentmodel_choice_step(m, f, fs->focus, -1);
		break;
	case AGENTMODEL_KEY_RIGHT:
		textfield_clear(&fl->text);
		agentmodel_choice_step(m, f, fs->focus, +1);
		break;
	case AGENTMODEL_KEY_HOME:
		agentmodel_choose(m, f, fs->focus, 0);
		break;
	case AGENTMODEL_KEY_END: {
		size_t n = agentmodel_option_count(m, f, fs->focus);
		if (n > 0)
			agentmodel_choose(m, f, fs->focus, n - 1);
		break;
	}
	case AGENTMODEL_KEY_CHAR:
	case AGENTMODEL_KEY_BACKSPACE:
	case AGENTMODEL_KEY_CLEAR:
		if (agentmodel_edit_text(&fl->text, key, m, now))
			agentmodel_choice_search(m, f, fs->focus);
		break;
	default:
		break;
	}
	return false;
}

bool agentmodel_on_key(struct agentmodel *m, const struct agentmodel_key *key, int64_t now,
		       struct agentmodel_command *out)
{
	memset(out, 0, sizeof *out);
	if (!(key->kind == AGENTMODEL_KEY_FN && key->fn == 10))
		m->quit_asked = false;

	if (key->kind == AGENTMODEL_KEY_FN) {
		switch (key->fn) {
		case 1:
			m->help = !m->help;
			return false;
		case 10:
			if ((m->unsent > 0 || agentmodel_any_sending(m)) && !m->quit_asked) {
				m->quit_asked = true;
				agentmodel_note(m, now, true,
						"还有 %u 项未发送（草稿已保存，下次启动继续发送）；"
						"再按 F10 退出",
						m->unsent > 0 ? m->unsent : 1u);
				return false;
			}
			m->quit_asked = false;
			out->kind = AGENTMODEL_CMD_QUIT;
			return true;
		default:
			break;
		}
		if (!m->logged_in) {
			agentmodel_note(m, now, true, "请先登录");
			return false;
		}
		switch (key->fn) {
		case 2:
			return agentmodel_simple_command(m, AGENTMODEL_CMD_READY, now, out);
		case 3:
			return agentmodel_open_form(m, AGENTMODEL_FORM_NOT_READY, now, out) &&
			       out->kind != AGENTMODEL_CMD_NONE;
		case 4:
			return agentmodel_open_form(m, AGENTMODEL_FORM_TICKET, now, out) &&
			       out->kind != AGENTMODEL_CMD_NONE;
		case 5:
			return agentmodel_open_form(m, AGENTMODEL_FORM_BOOKING, now, out) &&
			       out->kind != AGENTMODEL_CMD_NONE;
		case 6:
			return agentmodel_open_form(m, AGENTMODEL_FORM_ORDER_REPLY, now, out) &&
			       out->kind != AGENTMODEL_CMD_NONE;
		case 7:
			return agentmodel_open_form(m, AGENTMODEL_FORM_WRAP_UP, now, out) &&
			       out->kind != AGENTMODEL_CMD_NONE;
		case 8:
			if (m->state == AGENTMODEL_OFFERED && m->call.callback)
				return agentmodel_simple_command(m, AGENTMODEL_CMD_CALLBACK_ACCEPT,
								 now, out);
			return agentmodel_open_form(m, AGENTMODEL_FORM_CALLBACK, now, out) &&
			       out->kind != AGENTMODEL_CMD_NONE;
		case 9:
			return agentmodel_simple_command(m, AGENTMODEL_CMD_LOGOUT, now, out);
		default:
			return false;
		}
	}
	if (m->help) {
		if (key->kind == AGENTMODEL_KEY_ESCAPE || key->kind == AGENTMODEL_KEY_ENTER)
			m->help = false;
		return false;
	}
	if (m->open != AGENTMODEL_FORM_NONE)
		return agentmodel_key_in_form(m, key, now, out);
	if (!m->logged_in) {
		/* Logged out with the login form closed (cannot happen from
		 * keys, but a draft may leave it so): show it again. */
		m->open = AGENTMODEL_FORM_LOGIN;
		return false;
	}
	/* No form: the keys write the call's notes. */
	bool was_empty = textfield_empty(&m->notes);
	if (agentmodel_edit_text(&m->notes, key, m, now)) {
		if (was_empty) {
			agentjson_copy(m->notes_call, sizeof m->notes_call,
				       m->call.present ? m->call.call_id : agentmodel_work_call(m));
			m->notes_used = false;
		}
		m->draft_dirty = true;
	}
	return false;
}

/* --- what the broker says ---------------------------------------------------------------- */

/* A call comes on the line: notes written on another call move on with
 * the agent only if they were used or empty; unused ones stay (and say so)
 * rather than vanish. */
static void agentmodel_notes_for_call(struct agentmodel *m, const char *call_id, int64_t now)
{
	if (strcmp(m->notes_call, call_id) == 0)
		return;
	if (textfield_empty(&m->notes) || m->notes_used) {
		textfield_clear(&m->notes);
		agentjson_copy(m->notes_call, sizeof m->notes_call, call_id);
		m->notes_used = false;
		m->draft_dirty = true;
		return;
	}
	agentmodel_note(m, now, true, "通话 %s 的备注还没有写进工单，仍保留在备注栏",
			m->notes_call);
}

static void agentmodel_apply_state(struct agentmodel *m, json_t *st, int64_t now)
{
	if (!json_is_object(st))
		return;
	enum agentmodel_state s = agentmodel_parse_state(agentjson_str(st, "state"));
	const char *call = agentjson_str(st, "call_id");
	int64_t since = agentjson_time(st, "since");

	m->state = s;
	agentjson_copy(m->reason, sizeof m->reason, agentjson_str(st, "reason"));
	m->state_since = since > 0 ? since : now;
	agentjson_copy(m->state_call, sizeof m->state_call, call);
	if (s == AGENTMODEL_LOGGED_OUT)
		return;
	if ((s == AGENTMODEL_ON_CALL || s == AGENTMODEL_WRAP_UP) && call[0] != '\0') {
		if (!m->call.present || strcmp(m->call.call_id, call) != 0) {
			/* A call this client did not see offered (taken while
			 * it was away): what the state says is all there is. */
			memset(&m->call, 0, sizeof m->call);
			m->call.present = true;
			agentjson_copy(m->call.call_id, sizeof m->call.call_id, call);
		}
		m->call.cancelled = false;
		if (m->call.answered_at == 0)
			m->call.answered_at = s == AGENTMODEL_ON_CALL ? m->state_since : now;
		if (s == AGENTMODEL_WRAP_UP) {
			if (m->call.ended_at == 0)
				m->call.ended_at = m->state_since;
			agentjson_copy(m->last_call, sizeof m->last_call, call);
		}
		agentmodel_notes_for_call(m, call, now);
	}
}

static void agentmodel_apply_offer(struct agentmodel *m, json_t *o, int64_t now)
{
	const char *call = agentjson_str(o, "call_id");
	bool same = m->call.present && strcmp(m->call.call_id, call) == 0;
	struct agentmodel_call keep = m->call;

	memset(&m->call, 0, sizeof m->call);
	m->call.present = true;
	agentjson_copy(m->call.call_id, sizeof m->call.call_id, call);
	m->call.callback = strcmp(agentjson_str(o, "kind"), "callback") == 0;
	m->call.urgent = json_is_true(json_object_get(o, "urgent"));
	agentjson_copy(m->call.queue, sizeof m->call.queue, agentjson_str(o, "queue"));
	agentjson_copy(m->call.category, sizeof m->call.category, agentjson_str(o, "category"));
	agentjson_copy(m->call.caller, sizeof m->call.caller, agentjson_str(o, "caller"));
	m->call.offered_at = same ? keep.offered_at : now;
	m->call.ring_deadline = agentjson_time(o, "ring_deadline");
	json_t *history = json_object_get(o, "history");
	for (size_t i = 0; i < json_array_size(history) && i < AGENTMODEL_HISTORY_MAX; i++) {
		json_t *h = json_array_get(history, i);
		struct agentmodel_history *row = &m->call.history[m->call.n_history++];
		agentjson_copy(row->call_id, sizeof row->call_id, agentjson_str(h, "call_id"));
		row->offered_at = agentjson_time(h, "offered_at");
		agentjson_copy(row->category, sizeof row->category, agentjson_str(h, "category"));
		agentjson_copy(row->outcome, sizeof row->outcome, agentjson_str(h, "outcome"));
		agentjson_copy(row->disposition, sizeof row->disposition,
			       agentjson_str(h, "disposition"));
	}
	if (same) {
		/* The offer again on a new stream carries no history: keep
		 * what the first one said. */
		if (m->call.n_history == 0) {
			memcpy(m->call.history, keep.history, sizeof keep.history);
			m->call.n_history = keep.n_history;
		}
		memcpy(m->call.tickets, keep.tickets, sizeof keep.tickets);
		m->call.n_tickets = keep.n_tickets;
		m->call.tickets_loaded = keep.tickets_loaded;
	}
	m->state = AGENTMODEL_OFFERED;
	agentjson_copy(m->state_call, sizeof m->state_call, call);
	if (!same)
		m->state_since = now;
	/* A new call is the agent's attention: forms stay, but closed. */
	if (m->open != AGENTMODEL_FORM_LOGIN)
		m->open = AGENTMODEL_FORM_NONE;
	m->help = false;
}

unsigned agentmodel_on_stream(struct agentmodel *m, const char *event, const char *data, size_t len,
			      int64_t now)
{
	json_t *o = json_loadb(data, len, 0, NULL);
	unsigned want = 0;

	if (!json_is_object(o)) {
		json_decref(o);
		return 0;
	}
	if (strcmp(event, "state") == 0) {
		enum agentmodel_state before = m->state;
		agentmodel_apply_state(m, o, now);
		if (m->state == AGENTMODEL_LOGGED_OUT && before != AGENTMODEL_LOGGED_OUT)
			want |= AGENTMODEL_WANT_ME;
	} else if (strcmp(event, "offer") == 0) {
		bool same = m->call.present &&
			    strcmp(m->call.call_id, agentjson_str(o, "call_id")) == 0;
		agentmodel_apply_offer(m, o, now);
		if (!same || !m->call.tickets_loaded)
			want |= AGENTMODEL_WANT_TICKETS;
	} else if (strcmp(event, "offer_cancelled") == 0) {
		const char *call = agentjson_str(o, "call_id");
		const char *reason = agentjson_str(o, "reason");
		if (m->call.present && strcmp(m->call.call_id, call) == 0 &&
		    m->call.answered_at == 0) {
			m->call.cancelled = true;
			agentmodel_note(m, now, true, "来电 %s 已取消：%s", call,
					strcmp(reason, "ring_timeout") == 0 ?
						"响铃超时，转给其他坐席" :
					strcmp(reason, "caller_left") == 0 ? "来电者已挂断" :
									     reason);
		}
		want |= AGENTMODEL_WANT_ME;
	} else if (strcmp(event, "call") == 0) {
		const char *call = agentjson_str(o, "call_id");
		const char *state = agentjson_str(o, "state");
		if (m->call.present && strcmp(m->call.call_id, call) == 0) {
			if (strcmp(state, "talking") == 0 && m->call.answered_at == 0)
				m->call.answered_at = now;
			else if (strcmp(state, "ended") == 0 && m->call.ended_at == 0)
				m->call.ended_at = now;
		}
	}
	json_decref(o);
	return want;
}

static void agentmodel_apply_agent(struct agentmodel *m, json_t *a)
{
	if (!json_is_object(a))
		return;
	const char *centre = agentjson_str(a, "centre");
	if (centre[0] != '\0')
		agentjson_copy(m->centre, sizeof m->centre, centre);
	agentjson_copy(m->agent_id, sizeof m->agent_id, agentjson_str(a, "agent_id"));
	agentjson_copy(m->name, sizeof m->name, agentjson_str(a, "name"));
	agentjson_copy(m->extension, sizeof m->extension, agentjson_str(a, "extension"));
}

int agentmodel_on_login(struct agentmodel *m, const char *body, size_t len, int64_t now)
{
	json_t *o = json_loadb(body, len, 0, NULL);
	json_t *agent = json_object_get(o, "agent");
	if (!json_is_object(agent)) {
		json_decref(o);
		return -EINVAL;
	}
	char centre[AGENTMODEL_CODE_MAX];
	agentmodel_field_text(&m->forms[AGENTMODEL_FORM_LOGIN].fields[0], centre, sizeof centre);
	if (centre[0] != '\0')
		agentjson_copy(m->centre, sizeof m->centre, centre);
	agentmodel_apply_agent(m, agent);
	agentmodel_apply_state(m, json_object_get(o, "state"), now);
	m->logged_in = true;
	m->logging_in = false;
	m->forms[AGENTMODEL_FORM_LOGIN].error[0] = '\0';
	if (m->open == AGENTMODEL_FORM_LOGIN)
		m->open = AGENTMODEL_FORM_NONE;
	if (m->link == AGENTMODEL_LINK_OFFLINE)
		agentmodel_set_link(m, AGENTMODEL_LINK_CONNECTING, "", now);
	agentmodel_note(m, now, false, "%s（%s）已登录，分机 %s", m->name, m->agent_id,
			m->extension);
	json_decref(o);
	return 0;
}

void agentmodel_login_failed(struct agentmodel *m, const char *message, int64_t now)
{
	struct agentmodel_form_state *fs = &m->forms[AGENTMODEL_FORM_LOGIN];
	m->logging_in = false;
	agentjson_copy(fs->error, sizeof fs->error, message);
	fs->focus = 2;
	if (!m->logged_in)
		m->open = AGENTMODEL_FORM_LOGIN;
	else
		agentmodel_note(m, now, true, "%s", message);
}

void agentmodel_logged_out(struct agentmodel *m, const char *message, int64_t now)
{
	m->logged_in = false;
	m->logging_in = false;
	m->state = AGENTMODEL_LOGGED_OUT;
	m->state_since = now;
	m->link = AGENTMODEL_LINK_OFFLINE;
	m->link_since = now;
	m->open = AGENTMODEL_FORM_LOGIN;
	m->help = false;
	struct agentmodel_form_state *fs = &m->forms[AGENTMODEL_FORM_LOGIN];
	agentjson_copy(fs->error, sizeof fs->error, message);
	fs->focus = 2;
	if (textfield_set_utf8(&fs->fields[0].text, m->centre) != 0 ||
	    textfield_set_utf8(&fs->fields[1].text, m->agent_id) != 0)
		fs->focus = 0;
}

int agentmodel_on_me(struct agentmodel *m, const char *body, size_t len, int64_t now)
{
	json_t *o = json_loadb(body, len, 0, NULL);
	json_t *state = json_object_get(o, "state");
	if (!json_is_object(state)) {
		json_decref(o);
		return -EINVAL;
	}
	agentmodel_apply_agent(m, json_object_get(o, "agent"));
	enum agentmodel_state s = agentmodel_parse_state(agentjson_str(state, "state"));
	/* The stream's offer carries more than the state: an offer this
	 * client saw stays as it was; one it missed shows what /me says. */
	if (!(s == AGENTMODEL_OFFERED && m->state == AGENTMODEL_OFFERED &&
	      strcmp(m->state_call, agentjson_str(state, "call_id")) == 0))
		agentmodel_apply_state(m, state, now);
	const char *last = agentjson_str(o, "last_call_id");
	if (last[0] != '\0')
		agentjson_copy(m->last_call, sizeof m->last_call, last);
	/* The broker's own reasons, when it says them, replace the configured
	 * copy: they are what it will accept. */
	json_t *reasons = json_object_get(o, "reasons");
	if (json_array_size(reasons) > 0) {
		const char *codes[AGENTMODEL_REASONS_MAX + 2];
		size_t n = 0;
		for (size_t i = 0; i < json_array_size(reasons) && n < AGENTMODEL_REASONS_MAX + 2;
		     i++) {
			const char *code = json_string_value(json_array_get(reasons, i));
			if (code != NULL && code[0] != '\0' && strlen(code) < AGENTMODEL_CODE_MAX)
				codes[n++] = code;
		}
		if (n > 0)
			agentmodel_set_reasons(m, codes, n);
	}
	json_t *queues = json_object_get(o, "queues");
	m->n_queues = 0;
	for (size_t i = 0; i < json_array_size(queues) && m->n_queues < AGENTMODEL_QUEUES_MAX;
	     i++) {
		json_t *q = json_array_get(queues, i);
		struct agentmodel_queue *mq = &m->queues[m->n_queues++];
		agentjson_copy(mq->name, sizeof mq->name, agentjson_str(q, "queue"));
		mq->waiting = (long)json_integer_value(json_object_get(q, "waiting"));
		mq->longest_wait_s = (long)json_integer_value(json_object_get(q, "longest_wait_s"));
	}
	json_decref(o);
	return 0;
}

int agentmodel_on_state_answer(struct agentmodel *m, const char *body, size_t len, int64_t now)
{
	json_t *o = json_loadb(body, len, 0, NULL);
	if (!json_is_object(o) || json_string_value(json_object_get(o, "state")) == NULL) {
		json_decref(o);
		return -EINVAL;
	}
	enum agentmodel_state s = agentmodel_parse_state(agentjson_str(o, "state"));
	/* Offered at once: the stream's offer (with the caller) follows or
	 * came already; do not blank it. */
	if (!(s == AGENTMODEL_OFFERED && m->state == AGENTMODEL_OFFERED))
		agentmodel_apply_state(m, o, now);
	json_decref(o);
	return 0;
}

int agentmodel_on_tickets(struct agentmodel *m, const char *call_id, const char *body, size_t len)
{
	json_t *list;
	json_t *o = agentjson_load_list(body, len, "tickets", &list);
	if (o == NULL)
		return -EINVAL;
	if (m->call.present && strcmp(m->call.call_id, call_id) == 0) {
		m->call.n_tickets = 0;
		for (size_t i = 0; i < json_array_size(list); i++) {
			json_t *t = json_array_get(list, i);
			const char *state = agentjson_str(t, "state");
			if (strcmp(state, "resolved") == 0 || strcmp(state, "closed") == 0)
				continue;
			if (m->call.n_tickets == AGENTMODEL_TICKETS_MAX)
				break;
			struct agentmodel_ticket *mt = &m->call.tickets[m->call.n_tickets++];
			mt->id = (int64_t)json_integer_value(json_object_get(t, "id"));
			agentjson_copy(mt->kind, sizeof mt->kind, agentjson_str(t, "kind"));
			agentjson_copy(mt->state, sizeof mt->state, state);
			agentjson_copy(mt->subject, sizeof mt->subject,
				       agentjson_str(t, "subject"));
			mt->due = agentjson_time(t, "due");
		}
		m->call.tickets_loaded = true;
	}
	json_decref(o);
	return 0;
}

int agentmodel_on_hospitals(struct agentmodel *m, const char *body, size_t len)
{
	json_t *list;
	json_t *o = agentjson_load_list(body, len, "hospitals", &list);
	if (o == NULL)
		return -EINVAL;
	size_t n = json_array_size(list);
	struct agentmodel_hospital *hs = calloc(n > 0 ? n : 1, sizeof *hs);
	if (hs == NULL) {
		json_decref(o);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *h = json_array_get(list, i);
		json_t *deps = json_object_get(h, "departments");
		agentjson_copy(hs[i].code, sizeof hs[i].code, agentjson_str(h, "code"));
		agentjson_copy(hs[i].name, sizeof hs[i].name, agentjson_str(h, "name"));
		size_t nd = json_array_size(deps);
		hs[i].departments = calloc(nd > 0 ? nd : 1, sizeof *hs[i].departments);
		if (hs[i].departments == NULL) {
			for (size_t k = 0; k < i; k++)
				free(hs[k].departments);
			free(hs);
			json_decref(o);
			return -ENOMEM;
		}
		for (size_t k = 0; k < nd; k++) {
			json_t *d = json_array_get(deps, k);
			agentjson_copy(hs[i].departments[k].value,
				       sizeof hs[i].departments[k].value, agentjson_str(d, "code"));
			agentjson_copy(hs[i].departments[k].label,
				       sizeof hs[i].departments[k].label, agentjson_str(d, "name"));
		}
		hs[i].n_departments = nd;
	}
	agentmodel_free_hospitals(m);
	m->hospitals = hs;
	m->n_hospitals = n;
	m->hospitals_loaded = true;
	struct agentmodel_form_state *fs = &m->forms[AGENTMODEL_FORM_BOOKING];
	/* A draft's hospital stays if it still takes bookings. */
	if (agentmodel_hospital_find(m, fs->fields[0].value) == NULL)
		agentjson_copy(fs->fields[0].value, sizeof fs->fields[0].value,
			       n > 0 ? hs[0].code : "");
	agentmodel_fix_department(m);
	json_decref(o);
	return 0;
}

int agentmodel_on_orders(struct agentmodel *m, const char *body, size_t len, int64_t now)
{
	json_t *list;
	json_t *o = agentjson_load_list(body, len, "orders", &list);
	if (o == NULL)
		return -EINVAL;
	m->n_orders = 0;
	for (size_t i = 0; i < json_array_size(list) && m->n_orders < AGENTMODEL_ORDERS_MAX; i++) {
		json_t *w = json_array_get(list, i);
		const char *stage = agentjson_str(w, "stage");
		/* Orders a reply can still reach, through sign and start. */
		if (strcmp(stage, "received") != 0 && strcmp(stage, "signed") != 0 &&
		    strcmp(stage, "in_progress") != 0)
			continue;
		struct agentmodel_choice *c = &m->orders[m->n_orders++];
		int64_t due = agentjson_time(w, "due");
		char due_text[24] = "";
		if (due > 0) {
			int y, mo, d;
			timeutil_civil_from_days(timeutil_local_day(due), &y, &mo, &d);
			snprintf(due_text, sizeof due_text, " 到期 %04u-%02u-%02u",
				 (unsigned)y % 10000u, (unsigned)mo % 100u, (unsigned)d % 100u);
		}
		long long id = (long long)json_integer_value(json_object_get(w, "id"));
		snprintf(c->value, sizeof c->value, "%lld", id);
		snprintf(c->label, sizeof c->label, "#%lld %.80s %.60s（%s，%s%s）", id,
			 agentjson_str(w, "external_no"), agentjson_str(w, "title"),
			 agentmodel_lookup(agentmodel_stages, AGENTMODEL_N(agentmodel_stages),
					   stage, NULL),
			 agentmodel_lookup(agentmodel_due_status,
					   AGENTMODEL_N(agentmodel_due_status),
					   agentjson_str(w, "status"), NULL),
			 due_text);
	}
	m->orders_loaded = true;
	struct agentmodel_form_state *fs = &m->forms[AGENTMODEL_FORM_ORDER_REPLY];
	if (agentmodel_option_index(m, AGENTMODEL_FORM_ORDER_REPLY, 0) < 0)
		agentjson_copy(fs->fields[0].value, sizeof fs->fields[0].value,
			       m->n_orders > 0 ? m->orders[0].value : "");
	if (m->n_orders == 0)
		agentmodel_note(m, now, false, "没有待回复的 12345 工单");
	json_decref(o);
	return 0;
}

void agentmodel_sent(struct agentmodel *m, enum agentmodel_form f, bool ok, const char *message,
		     int64_t now)
{
	if (f <= AGENTMODEL_FORM_NONE || f >= AGENTMODEL_FORM_COUNT) {
		if (message != NULL && message[0] != '\0')
			agentmodel_note(m, now, !ok, "%s", message);
		return;
	}
	struct agentmodel_form_state *fs = &m->forms[f];
	fs->sending = false;
	if (!ok) {
		agentjson_copy(fs->error, sizeof fs->error, message);
		if (m->open != f)
			agentmodel_note(m, now, true, "%s未完成：%s（按 %s 修改后重新提交）",
					agentmodel_form_title(f), message,
					f == AGENTMODEL_FORM_TICKET      ? "F4" :
					f == AGENTMODEL_FORM_BOOKING     ? "F5" :
					f == AGENTMODEL_FORM_ORDER_REPLY ? "F6" :
					f == AGENTMODEL_FORM_WRAP_UP     ? "F7" :
					f == AGENTMODEL_FORM_NOT_READY   ? "F3" :
									   "F8");
		return;
	}
	fs->error[0] = '\0';
	if (f == AGENTMODEL_FORM_TICKET) {
		/* The notes that went in as the ticket's record are used. */
		if (!textfield_empty(&m->notes) && fs->fields[2].text.len == m->notes.len &&
		    wmemcmp(fs->fields[2].text.text, m->notes.text, m->notes.len) == 0)
			m->notes_used = true;
		m->call.tickets_made++;
	} else if (f == AGENTMODEL_FORM_BOOKING) {
		m->call.bookings_made++;
	} else if (f == AGENTMODEL_FORM_ORDER_REPLY) {
		m->call.replies_made++;
	} else if (f == AGENTMODEL_FORM_WRAP_UP) {
		m->call.wrapped = true;
	}
	/* Text is done with; choices stay as the agent's habits. The visit
	 * date is kept too: the next caller often wants the same day. */
	for (size_t i = 0; i < fs->n_fields; i++)
		if (fs->fields[i].list != AGENTMODEL_LIST_NONE || f != AGENTMODEL_FORM_BOOKING)
			textfield_clear(&fs->fields[i].text);
	/* The next one starts where a new one does: a ticket at its subject. */
	fs->focus = f == AGENTMODEL_FORM_TICKET ? 1 : 0;
	if (m->open == f)
		m->open = AGENTMODEL_FORM_NONE;
	m->draft_dirty = true;
	if (message != NULL && message[0] != '\0')
		agentmodel_note(m, now, false, "%s", message);
}

void agentmodel_set_link(struct agentmodel *m, enum agentmodel_link link, const char *detail,
			 int64_t now)
{
	if (link == m->link) {
		if (detail != NULL && detail[0] != '\0')
			agentjson_copy(m->link_detail, sizeof m->link_detail, detail);
		return;
	}
	if (link == AGENTMODEL_LINK_ONLINE && m->link == AGENTMODEL_LINK_BROKEN) {
		m->reconnects++;
		agentmodel_note(m, now, false, "已重新连接（第 %u 次），状态已恢复", m->reconnects);
	} else if (link == AGENTMODEL_LINK_BROKEN) {
		agentmodel_note(m, now, true, "与服务器的连接中断，正在重连；填写的内容不会丢失");
	}
	m->link = link;
	m->link_since = now;
	agentjson_copy(m->link_detail, sizeof m->link_detail, detail);
}

/* --- drafts ------------------------------------------------------------------------------ */

static json_t *agentmodel_text_json(const struct textfield *t)
{
	char *buf = malloc(TEXTFIELD_UTF8_MAX);
	if (buf == NULL)
		return NULL;
	textfield_utf8(t, buf, TEXTFIELD_UTF8_MAX);
	json_t *j = json_string(buf);
	free(buf);
	return j;
}

static const char *const agentmodel_form_keys[AGENTMODEL_FORM_COUNT] = {
	[AGENTMODEL_FORM_LOGIN] = "login",       [AGENTMODEL_FORM_NOT_READY] = "not_ready",
	[AGENTMODEL_FORM_WRAP_UP] = "wrap_up",   [AGENTMODEL_FORM_TICKET] = "ticket",
	[AGENTMODEL_FORM_BOOKING] = "booking",   [AGENTMODEL_FORM_ORDER_REPLY] = "order_reply",
	[AGENTMODEL_FORM_CALLBACK] = "callback",
};

char *agentmodel_draft_json(const struct agentmodel *m)
{
	json_t *root = json_pack("{s:i,s:s,s:s,s:o,s:s,s:b}", "version", AGENTMODEL_DRAFT_VERSION,
				 "centre", m->centre, "agent", m->agent_id, "notes",
				 agentmodel_text_json(&m->notes), "notes_call", m->notes_call,
				 "notes_used", m->notes_used);
	json_t *forms = json_object();
	if (root == NULL || forms == NULL) {
		json_decref(root);
		json_decref(forms);
		return NULL;
	}
	for (int f = AGENTMODEL_FORM_LOGIN; f < AGENTMODEL_FORM_COUNT; f++) {
		const struct agentmodel_form_state *fs = &m->forms[f];
		json_t *fields = json_object();
		for (size_t i = 0; fields != NULL && i < fs->n_fields; i++) {
			const struct agentmodel_field *fl = &fs->fields[i];
			if (fl->secret)
				continue;
			json_object_set_new(fields, fl->key,
					    fl->list == AGENTMODEL_LIST_NONE ?
						    agentmodel_text_json(&fl->text) :
						    json_string(fl->value));
		}
		json_object_set_new(forms, agentmodel_form_keys[f], fields);
	}
	json_object_set_new(root, "forms", forms);
	char *text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return text;
}

int agentmodel_draft_load(struct agentmodel *m, const char *text, size_t len)
{
	json_t *root = json_loadb(text, len, 0, NULL);
	int rc = 0;

	if (!json_is_object(root) ||
	    json_integer_value(json_object_get(root, "version")) != AGENTMODEL_DRAFT_VERSION) {
		rc = -EINVAL;
		goto out;
	}
	if (strcmp(agentjson_str(root, "centre"), m->centre) != 0 ||
	    strcmp(agentjson_str(root, "agent"), m->agent_id) != 0) {
		rc = -EPERM;
		goto out;
	}
	if (textfield_set_utf8(&m->notes, agentjson_str(root, "notes")) != 0)
		textfield_clear(&m->notes);
	agentjson_copy(m->notes_call, sizeof m->notes_call, agentjson_str(root, "notes_call"));
	m->notes_used = json_is_true(json_object_get(root, "notes_used"));
	json_t *forms = json_object_get(root, "forms");
	for (int f = AGENTMODEL_FORM_LOGIN; f < AGENTMODEL_FORM_COUNT; f++) {
		json_t *fields = json_object_get(forms, agentmodel_form_keys[f]);
		struct agentmodel_form_state *fs = &m->forms[f];
		for (size_t i = 0; json_is_object(fields) && i < fs->n_fields; i++) {
			struct agentmodel_field *fl = &fs->fields[i];
			const char *v = json_string_value(json_object_get(fields, fl->key));
			if (v == NULL || fl->secret || f == AGENTMODEL_FORM_LOGIN)
				continue;
			if (fl->list == AGENTMODEL_LIST_NONE) {
				if (textfield_set_utf8(&fl->text, v) != 0)
					rc = -EINVAL; /* the rest still loads */
			} else {
				agentjson_copy(fl->value, sizeof fl->value, v);
			}
		}
	}
	if (m->hospitals_loaded)
		agentmodel_fix_department(m);
out:
	json_decref(root);
	return rc;
}
