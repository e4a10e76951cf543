/* test_agentmodel.c: the agent client's pure parts without a terminal or a
 * broker: typed text (Chinese, widths, scrolling), the screen model (keys,
 * forms, what the broker's messages do, drafts, shortcuts) and the
 * wallboard's figures and alerts. */
#include <check.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentmodel.h"
#include "queues.h"
#include "textfield.h"
#include "timeutil.h"
#include "wallmodel.h"

/* 2019-03-04T09:15:00+08:00 */
#define NOW INT64_C(1551662100000000)
#define SEC INT64_C(1000000)

static struct agentmodel_key ch(wchar_t c)
{
	return (struct agentmodel_key){.kind = AGENTMODEL_KEY_CHAR, .ch = c};
}

static struct agentmodel_key key(enum agentmodel_key_kind k)
{
	return (struct agentmodel_key){.kind = k};
}

static struct agentmodel_key fn(int n)
{
	return (struct agentmodel_key){.kind = AGENTMODEL_KEY_FN, .fn = n};
}

/* Presses k; fails the test when it asks the broker for something unless
 * want says it should. */
static void press(struct agentmodel *m, struct agentmodel_key k, struct agentmodel_command *out,
		  enum agentmodel_command_kind want)
{
	struct agentmodel_command scratch;
	if (out == NULL)
		out = &scratch;
	bool asked = agentmodel_on_key(m, &k, NOW, out);
	ck_assert_int_eq(asked ? out->kind : AGENTMODEL_CMD_NONE, want);
}

static void type(struct agentmodel *m, const wchar_t *text)
{
	for (const wchar_t *p = text; *p; p++)
		press(m, ch(*p), NULL, AGENTMODEL_CMD_NONE);
}

static const char login_answer[] =
	"{\"token\":\"t\",\"expires_at\":\"2019-03-05T09:15:00+08:00\","
	"\"agent\":{\"centre\":\"nanjing\",\"agent_id\":\"a001\",\"name\":\"王芳\","
	"\"extension\":\"8001\",\"role\":\"agent\",\"skills\":[]},"
	"\"state\":{\"state\":\"not_ready\",\"reason\":\"login\","
	"\"since\":\"2019-03-04T09:14:00+08:00\",\"call_id\":\"\"}}";

static const char offer_c1[] =
	"{\"kind\":\"call\",\"call_id\":\"c1\",\"queue\":\"booking\",\"category\":\"booking\","
	"\"caller\":\"138****5678\",\"urgent\":false,\"ring_deadline\":\"2019-03-04T09:15:15+08:00\","
	"\"history\":[{\"call_id\":\"h1\",\"offered_at\":\"2019-03-01T10:00:00+08:00\","
	"\"category\":\"complaint\",\"outcome\":\"abandoned\"}]}";

/* A model logged in as a001 of nanjing. */
static struct agentmodel *logged_in(void)
{
	struct agentmodel *m = agentmodel_new("nanjing", "a001", NULL, 0, NOW);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(agentmodel_on_login(m, login_answer, strlen(login_answer), NOW), 0);
	return m;
}

static void stream(struct agentmodel *m, const char *event, const char *data)
{
	(void)agentmodel_on_stream(m, event, data, strlen(data), NOW);
}

/* The agent on call c1 (offered, then answered). */
static struct agentmodel *on_call(void)
{
	struct agentmodel *m = logged_in();
	stream(m, "offer", offer_c1);
	stream(m, "state",
	       "{\"state\":\"on_call\",\"reason\":\"\",\"since\":"
	       "\"2019-03-04T09:15:05+08:00\",\"call_id\":\"c1\"}");
	return m;
}

/* --- text fields ------------------------------------------------------------------ */

START_TEST(test_a_field_edits_chinese_one_character_at_a_time)
{
	struct textfield t;
	char out[64];
	textfield_init(&t, 10);
	ck_assert_int_eq(textfield_set_utf8(&t, "挂号难"), 0);
	ck_assert_uint_eq(t.len, 3);
	ck_assert_uint_eq(textfield_width(&t), 6); /* two columns each */
	textfield_left(&t);
	ck_assert_int_eq(textfield_insert(&t, L'很'), 0);
	textfield_utf8(&t, out, sizeof out);
	ck_assert_str_eq(out, "挂号很难");
	textfield_backspace(&t);
	textfield_home(&t);
	textfield_delete(&t);
	textfield_utf8(&t, out, sizeof out);
	ck_assert_str_eq(out, "号难");
	ck_assert_int_eq(textfield_insert(&t, L'a'), 0);
	ck_assert_uint_eq(textfield_width(&t), 5);
	/* Full: the eleventh character does not go in. */
	textfield_clear(&t);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(textfield_insert(&t, L'字'), 0);
	ck_assert_int_eq(textfield_insert(&t, L'字'), -ENOSPC);
	ck_assert_int_eq(textfield_set_utf8(&t, "一二三四五六七八九十一"), -ENOSPC);
	ck_assert_uint_eq(t.len, 10); /* unchanged */
	/* Cut at a character boundary when the buffer is short. */
	ck_assert_int_eq(textfield_set_utf8(&t, "a中b"), 0);
	ck_assert_uint_eq(textfield_utf8(&t, out, 4), 1);
	ck_assert_str_eq(out, "a");
}
END_TEST

START_TEST(test_invalid_utf8_and_control_characters_are_refused)
{
	struct textfield t;
	wchar_t c;
	textfield_init(&t, 100);
	ck_assert_int_eq(textfield_set_utf8(&t, "ok"), 0);
	ck_assert_int_eq(textfield_set_utf8(&t, "bad\xff"), -EINVAL);
	ck_assert_int_eq(textfield_set_utf8(&t, "line\nbreak"), -EINVAL);
	ck_assert_int_eq(textfield_set_utf8(&t, "\xc0\xaf"), -EINVAL);     /* overlong '/' */
	ck_assert_int_eq(textfield_set_utf8(&t, "\xed\xa0\x80"), -EINVAL); /* a surrogate */
	ck_assert_uint_eq(t.len, 2);
	ck_assert_int_eq(textfield_insert(&t, L'\t'), -EINVAL);
	ck_assert_int_eq(textfield_insert(&t, (wchar_t)0x85), -EINVAL);
	ck_assert_int_eq(textfield_decode_utf8("\xe4\xb8", 2, &c), -1); /* cut short */
	ck_assert_int_eq(textfield_decode_utf8("\xf0\x9f\x98\x80", 4, &c), 4);
	ck_assert_int_eq(c, 0x1F600);
}
END_TEST

START_TEST(test_scrolling_keeps_the_cursor_visible_with_wide_characters)
{
	struct textfield t;
	textfield_init(&t, 100);
	ck_assert_int_eq(textfield_set_utf8(&t, "一二三四五六七八九十"), 0); /* 20 columns */
	/* Cursor at the end: 10 columns show four characters and the cursor. */
	size_t first = textfield_scroll(&t, 0, 10);
	ck_assert_uint_eq(first, 6);
	/* Moving left inside the window does not scroll it. */
	textfield_left(&t);
	ck_assert_uint_eq(textfield_scroll(&t, first, 10), 6);
	textfield_home(&t);
	ck_assert_uint_eq(textfield_scroll(&t, first, 10), 0);
}
END_TEST

START_TEST(test_a_wide_character_that_does_not_fit_wraps_to_the_next_row)
{
	struct textfield t;
	int row, col;
	textfield_init(&t, 100);
	ck_assert_int_eq(textfield_set_utf8(&t, "abc中文"), 0);
	/* 4 columns: "abc" then 中 does not fit (two columns at column 3). */
	textfield_wrap_position(&t, 4, 3, &row, &col);
	ck_assert_int_eq(row, 1);
	ck_assert_int_eq(col, 0);
	textfield_wrap_position(&t, 4, 5, &row, &col); /* the end, after 文 */
	ck_assert_int_eq(row, 2);
	ck_assert_int_eq(col, 0);
	textfield_wrap_position(&t, 10, 5, &row, &col);
	ck_assert_int_eq(row, 0);
	ck_assert_int_eq(col, 7);
}
END_TEST

/* --- the screen model --------------------------------------------------------------- */

START_TEST(test_the_login_form_builds_the_login_and_forgets_the_password)
{
	struct agentmodel *m = agentmodel_new("nanjing", "a001", NULL, 0, NOW);
	struct agentmodel_command cmd;
	ck_assert_int_eq(m->open, AGENTMODEL_FORM_LOGIN);
	ck_assert_uint_eq(m->forms[AGENTMODEL_FORM_LOGIN].focus, 2); /* the password */
	/* Nothing but the login before logging in. */
	press(m, fn(2), NULL, AGENTMODEL_CMD_NONE);
	press(m, key(AGENTMODEL_KEY_ENTER), NULL, AGENTMODEL_CMD_NONE);
	ck_assert_str_eq(m->forms[AGENTMODEL_FORM_LOGIN].error, "请输入密码");
	type(m, L"secret 密码");
	press(m, key(AGENTMODEL_KEY_ENTER), &cmd, AGENTMODEL_CMD_LOGIN);
	ck_assert_str_eq(cmd.centre, "nanjing");
	ck_assert_str_eq(cmd.agent_id, "a001");
	ck_assert_str_eq(cmd.password, "secret 密码");
	ck_assert_uint_eq(m->forms[AGENTMODEL_FORM_LOGIN].fields[2].text.len, 0);
	ck_assert(m->logging_in);
	/* The password is never in the draft. */
	char *draft = agentmodel_draft_json(m);
	ck_assert_ptr_null(strstr(draft, "secret"));
	free(draft);
	agentmodel_login_failed(m, "工号或密码错误", NOW);
	ck_assert_int_eq(m->open, AGENTMODEL_FORM_LOGIN);
	ck_assert_int_eq(agentmodel_on_login(m, login_answer, strlen(login_answer), NOW), 0);
	ck_assert(m->logged_in);
	ck_assert_int_eq(m->open, AGENTMODEL_FORM_NONE);
	ck_assert_str_eq(m->name, "王芳");
	ck_assert_int_eq(m->state, AGENTMODEL_NOT_READY);
	ck_assert_str_eq(m->reason, "login");
	ck_assert_int_eq(m->link, AGENTMODEL_LINK_CONNECTING);
	agentmodel_free(m);
}
END_TEST

START_TEST(test_an_offer_pops_up_with_category_masked_caller_history_and_open_tickets)
{
	struct agentmodel *m = logged_in();
	unsigned want = agentmodel_on_stream(m, "offer", offer_c1, strlen(offer_c1), NOW);
	ck_assert_uint_eq(want & AGENTMODEL_WANT_TICKETS, AGENTMODEL_WANT_TICKETS);
	ck_assert_int_eq(m->state, AGENTMODEL_OFFERED);
	ck_assert(m->call.present);
	ck_assert_str_eq(m->call.category, "booking");
	ck_assert_str_eq(agentmodel_category_label(m->call.category), "电话预约");
	ck_assert_str_eq(m->call.caller, "138****5678");
	ck_assert_uint_eq(m->call.n_history, 1);
	ck_assert_str_eq(m->call.history[0].outcome, "abandoned");
	ck_assert(m->call.ring_deadline > NOW);
	static const char tickets[] =
		"{\"tickets\":[{\"id\":7,\"kind\":\"complaint\",\"state\":\"open\",\"call_id\":\"h0\","
		"\"subject\":\"挂号难\",\"due\":null},{\"id\":8,\"kind\":\"callback\","
		"\"state\":\"closed\",\"subject\":\"done\"}]}";
	/* An answer for another call changes nothing. */
	ck_assert_int_eq(agentmodel_on_tickets(m, "zz", tickets, strlen(tickets)), 0);
	ck_assert(!m->call.tickets_loaded);
	ck_assert_int_eq(agentmodel_on_tickets(m, "c1", tickets, strlen(tickets)), 0);
	ck_assert(m->call.tickets_loaded);
	ck_assert_uint_eq(m->call.n_tickets, 1); /* the closed one is not open */
	ck_assert_str_eq(m->call.tickets[0].subject, "挂号难");
	/* The same offer again on a new stream (no history) keeps what came. */
	static const char again[] = "{\"kind\":\"call\",\"call_id\":\"c1\",\"queue\":\"booking\","
				    "\"category\":\"booking\",\"caller\":\"138****5678\","
				    "\"urgent\":false,\"history\":[]}";
	want = agentmodel_on_stream(m, "offer", again, strlen(again), NOW + SEC);
	ck_assert_uint_eq(want & AGENTMODEL_WANT_TICKETS, 0);
	ck_assert_uint_eq(m->call.n_history, 1);
	ck_assert_uint_eq(m->call.n_tickets, 1);
	/* The gateway connects it: on the line. */
	stream(m, "state",
	       "{\"state\":\"on_call\",\"reason\":\"\",\"since\":"
	       "\"2019-03-04T09:15:05+08:00\",\"call_id\":\"c1\"}");
	ck_assert_int_eq(m->state, AGENTMODEL_ON_CALL);
	ck_assert(m->call.answered_at > 0);
	agentmodel_free(m);
}
END_TEST

START_TEST(test_a_cancelled_offer_says_why)
{
	struct agentmodel *m = logged_in();
	stream(m, "offer", offer_c1);
	unsigned want = agentmodel_on_stream(
		m, "offer_cancelled", "{\"call_id\":\"c1\",\"reason\":\"ring_timeout\"}",
		strlen("{\"call_id\":\"c1\",\"reason\":\"ring_timeout\"}"), NOW);
	ck_assert_uint_eq(want & AGENTMODEL_WANT_ME, AGENTMODEL_WANT_ME);
	ck_assert(m->call.cancelled);
	ck_assert_ptr_nonnull(strstr(m->log[m->n_log - 1].text, "响铃超时"));
	agentmodel_free(m);
}
END_TEST

START_TEST(test_keys_write_the_notes_and_the_notes_become_the_tickets_record)
{
	struct agentmodel *m = on_call();
	struct agentmodel_command cmd;
	type(m, L"患者反映挂号难");
	ck_assert_uint_eq(m->notes.len, 7);
	ck_assert_str_eq(m->notes_call, "c1");
	ck_assert(m->draft_dirty);
	press(m, fn(4), NULL, AGENTMODEL_CMD_NONE);
	ck_assert_int_eq(m->open, AGENTMODEL_FORM_TICKET);
	ck_assert_uint_eq(m->forms[AGENTMODEL_FORM_TICKET].focus, 1); /* the subject */
	/* No subject: refused, nothing sent. */
	press(m, key(AGENTMODEL_KEY_ENTER), NULL, AGENTMODEL_CMD_NONE);
	ck_assert_str_eq(m->forms[AGENTMODEL_FORM_TICKET].error, "请填写工单主题");
	type(m, L"挂号难");
	press(m, key(AGENTMODEL_KEY_ENTER), &cmd, AGENTMODEL_CMD_TICKET);
	ck_assert_str_eq(cmd.call_id, "c1");
	ck_assert_str_eq(cmd.ticket_kind, "complaint");
	ck_assert_str_eq(cmd.subject, "挂号难");
	ck_assert_str_eq(cmd.text, "患者反映挂号难");
	ck_assert(m->forms[AGENTMODEL_FORM_TICKET].sending);
	agentmodel_sent(m, AGENTMODEL_FORM_TICKET, true, "工单 #12 已建立", NOW);
	ck_assert_int_eq(m->open, AGENTMODEL_FORM_NONE);
	ck_assert_uint_eq(m->forms[AGENTMODEL_FORM_TICKET].fields[1].text.len, 0);
	ck_assert(m->notes_used);
	ck_assert_uint_eq(m->call.tickets_made, 1);
	ck_assert_str_eq(m->log[m->n_log - 1].text, "工单 #12 已建立");
	/* The next ticket does not take the used notes again. */
	press(m, fn(4), NULL, AGENTMODEL_CMD_NONE);
	ck_assert_uint_eq(m->forms[AGENTMODEL_FORM_TICKET].fields[2].text.len, 0);
	agentmodel_free(m);
}
END_TEST

START_TEST(test_a_refused_form_keeps_its_text_and_a_form_on_its_way_is_not_sent_twice)
{
	struct agentmodel *m = on_call();
	struct agentmodel_command cmd;
	press(m, fn(4), NULL, AGENTMODEL_CMD_NONE);
	type(m, L"投诉医生态度");
	press(m, key(AGENTMODEL_KEY_ENTER), &cmd, AGENTMODEL_CMD_TICKET);
	/* While it is on its way: no edits, no second submission. */
	press(m, ch(L'x'), NULL, AGENTMODEL_CMD_NONE);
	press(m, key(AGENTMODEL_KEY_ENTER), NULL, AGENTMODEL_CMD_NONE);
	ck_assert_int_eq(agentmodel_submit(m, AGENTMODEL_FORM_TICKET, NOW, &cmd), -EBUSY);
	/* Closed meanwhile; then the broker refuses it. */
	press(m, key(AGENTMODEL_KEY_ESCAPE), NULL, AGENTMODEL_CMD_NONE);
	agentmodel_sent(m, AGENTMODEL_FORM_TICKET, false, "这通电话不是你接的", NOW);
	ck_assert(!m->forms[AGENTMODEL_FORM_TICKET].sending);
	ck_assert_str_eq(m->forms[AGENTMODEL_FORM_TICKET].error, "这通电话不是你接的");
	ck_assert_ptr_nonnull(strstr(m->log[m->n_log - 1].text, "F4"));
	char subject[64];
	textfield_utf8(&m->forms[AGENTMODEL_FORM_TICKET].fields[1].text, subject, sizeof subject);
	ck_assert_str_eq(subject, "投诉医生态度");
	agentmodel_free(m);
}
END_TEST

START_TEST(test_a_booking_checks_its_date_and_follows_the_hospitals_departments)
{
	struct agentmodel *m = on_call();
	struct agentmodel_command cmd;
	press(m, fn(5), &cmd, AGENTMODEL_CMD_LOAD_HOSPITALS);
	static const char hospitals[] =
		"{\"centre\":\"nanjing\",\"hospitals\":[{\"code\":\"h001\",\"name\":\"南京鼓楼医院\","
		"\"departments\":[{\"code\":\"internal\",\"name\":\"内科\"},{\"code\":\"surgery\","
		"\"name\":\"外科\"}]},{\"code\":\"h002\",\"name\":\"南京市儿童医院\","
		"\"departments\":[{\"code\":\"paediatrics\",\"name\":\"儿科\"}]}]}";
	ck_assert_int_eq(agentmodel_on_hospitals(m, hospitals, strlen(hospitals)), 0);
	struct agentmodel_form_state *fs = &m->forms[AGENTMODEL_FORM_BOOKING];
	ck_assert_str_eq(fs->fields[0].value, "h001");
	ck_assert_str_eq(fs->fields[1].value, "internal");
	ck_assert_str_eq(agentmodel_choice_label(m, AGENTMODEL_FORM_BOOKING, 0), "南京鼓楼医院");
	/* Tomorrow by default. */
	char date[16];
	textfield_utf8(&fs->fields[2].text, date, sizeof date);
	ck_assert_str_eq(date, "2019-03-05");
	/* The next hospital: its own department. */
	press(m, key(AGENTMODEL_KEY_RIGHT), NULL, AGENTMODEL_CMD_NONE);
	ck_assert_str_eq(fs->fields[0].value, "h002");
	ck_assert_str_eq(fs->fields[1].value, "paediatrics");
	/* Typing searches: "鼓楼" finds h001. */
	type(m, L"鼓楼");
	ck_assert_str_eq(fs->fields[0].value, "h001");
	press(m, key(AGENTMODEL_KEY_TAB), NULL, AGENTMODEL_CMD_NONE);
	press(m, key(AGENTMODEL_KEY_RIGHT), NULL, AGENTMODEL_CMD_NONE);
	ck_assert_str_eq(fs->fields[1].value, "surgery");
	press(m, key(AGENTMODEL_KEY_TAB), NULL, AGENTMODEL_CMD_NONE);
	press(m, key(AGENTMODEL_KEY_CLEAR), NULL, AGENTMODEL_CMD_NONE);
	type(m, L"2019-02-30");
	press(m, key(AGENTMODEL_KEY_ENTER), NULL, AGENTMODEL_CMD_NONE);
	ck_assert_ptr_nonnull(strstr(fs->error, "不存在"));
	press(m, key(AGENTMODEL_KEY_CLEAR), NULL, AGENTMODEL_CMD_NONE);
	type(m, L"2019-03-01");
	press(m, key(AGENTMODEL_KEY_ENTER), NULL, AGENTMODEL_CMD_NONE);
	ck_assert_ptr_nonnull(strstr(fs->error, "已经过去"));
	press(m, key(AGENTMODEL_KEY_CLEAR), NULL, AGENTMODEL_CMD_NONE);
	type(m, L"2019-03-06");
	press(m, key(AGENTMODEL_KEY_ENTER), &cmd, AGENTMODEL_CMD_BOOK);
	ck_assert_str_eq(cmd.hospital, "h001");
	ck_assert_str_eq(cmd.department, "surgery");
	ck_assert_str_eq(cmd.visit_date, "2019-03-06");
	ck_assert_str_eq(cmd.call_id, "c1");
	/* A taken booking keeps the date for the next caller. */
	agentmodel_sent(m, AGENTMODEL_FORM_BOOKING, true, "预约成功", NOW);
	textfield_utf8(&fs->fields[2].text, date, sizeof date);
	ck_assert_str_eq(date, "2019-03-06");
	ck_assert_uint_eq(m->call.bookings_made, 1);
	/* The line mode's values are checked against the lists. */
	ck_assert_int_eq(agentmodel_set_field(m, AGENTMODEL_FORM_BOOKING, "hospital", "h999"),
			 -EINVAL);
	ck_assert_int_eq(agentmodel_set_field(m, AGENTMODEL_FORM_BOOKING, "hospital", "h002"), 0);
	ck_assert_int_eq(agentmodel_set_field(m, AGENTMODEL_FORM_BOOKING, "nope", "x"), -ENOENT);
	agentmodel_free(m);
}
END_TEST

START_TEST(test_wrap_up_and_not_ready_use_the_configured_codes)
{
	static const char *const reasons[] = {"lunch", "login", "no_answer", "meeting"};
	struct agentmodel *m = agentmodel_new("nanjing", "a001", reasons, 4, NOW);
	struct agentmodel_command cmd;
	ck_assert_int_eq(agentmodel_on_login(m, login_answer, strlen(login_answer), NOW), 0);
	/* The distributor's own codes are not offered. */
	ck_assert_uint_eq(m->n_reasons, 2);
	press(m, fn(3), NULL, AGENTMODEL_CMD_NONE);
	press(m, key(AGENTMODEL_KEY_RIGHT), NULL, AGENTMODEL_CMD_NONE);
	press(m, key(AGENTMODEL_KEY_ENTER), &cmd, AGENTMODEL_CMD_NOT_READY);
	ck_assert_str_eq(cmd.reason, "meeting");
	ck_assert_int_eq(agentmodel_set_field(m, AGENTMODEL_FORM_NOT_READY, "reason", "nap"),
			 -EINVAL);
	agentmodel_sent(m, AGENTMODEL_FORM_NOT_READY, true, "", NOW);

	/* A call, ended: wrap up with a disposition and a correction. */
	stream(m, "offer", offer_c1);
	stream(m, "state",
	       "{\"state\":\"on_call\",\"call_id\":\"c1\",\"reason\":\"\","
	       "\"since\":\"2019-03-04T09:15:05+08:00\"}");
	stream(m, "state",
	       "{\"state\":\"wrap_up\",\"call_id\":\"c1\",\"reason\":\"\","
	       "\"since\":\"2019-03-04T09:18:00+08:00\"}");
	ck_assert_str_eq(m->last_call, "c1");
	ck_assert(m->call.ended_at > m->call.answered_at);
	press(m, fn(7), NULL, AGENTMODEL_CMD_NONE);
	press(m, key(AGENTMODEL_KEY_DOWN), NULL, AGENTMODEL_CMD_NONE);
	type(m, L"complaint");
	press(m, key(AGENTMODEL_KEY_ENTER), &cmd, AGENTMODEL_CMD_WRAP_UP);
	ck_assert_str_eq(cmd.call_id, "c1");
	ck_assert_str_eq(cmd.disposition, "resolved");
	ck_assert_str_eq(cmd.category, "complaint");
	ck_assert(cmd.then_ready);
	agentmodel_free(m);
}
END_TEST

START_TEST(test_every_action_has_a_visible_shortcut_enabled_by_state)
{
	struct agentmodel *m = agentmodel_new("nanjing", "a001", NULL, 0, NOW);
	struct agentmodel_shortcut sc[AGENTMODEL_SHORTCUTS_MAX];
	size_t n = agentmodel_shortcuts(m, sc);
	ck_assert_uint_eq(n, 10);
	ck_assert_str_eq(sc[0].key, "F1");
	ck_assert_str_eq(sc[9].key, "F10");
	ck_assert(sc[0].enabled && sc[9].enabled); /* help and quit, always */
	ck_assert(!sc[1].enabled);                 /* not logged in */
	ck_assert_int_eq(agentmodel_on_login(m, login_answer, strlen(login_answer), NOW), 0);
	n = agentmodel_shortcuts(m, sc);
	ck_assert(sc[1].enabled);  /* ready */
	ck_assert(sc[2].enabled);  /* not ready */
	ck_assert(!sc[3].enabled); /* a ticket needs a call */
	ck_assert(!sc[7].enabled); /* no callback */
	stream(m, "offer", offer_c1);
	n = agentmodel_shortcuts(m, sc);
	ck_assert(!sc[1].enabled && !sc[2].enabled && !sc[8].enabled); /* ringing */
	/* A callback offer: F8 accepts it. */
	static const char cb[] =
		"{\"kind\":\"callback\",\"call_id\":\"x1\",\"queue\":\"crisis\","
		"\"category\":\"crisis\",\"caller\":\"137****0007\",\"urgent\":true,"
		"\"history\":[]}";
	stream(m, "offer", cb);
	struct agentmodel_command cmd;
	press(m, fn(8), &cmd, AGENTMODEL_CMD_CALLBACK_ACCEPT);
	ck_assert_str_eq(cmd.call_id, "x1");
	agentmodel_free(m);
}
END_TEST

START_TEST(test_quitting_with_unsent_work_asks_twice)
{
	struct agentmodel *m = logged_in();
	struct agentmodel_command cmd;
	m->unsent = 2;
	press(m, fn(10), NULL, AGENTMODEL_CMD_NONE);
	ck_assert_ptr_nonnull(strstr(m->log[m->n_log - 1].text, "还有 2 项未发送"));
	press(m, fn(10), &cmd, AGENTMODEL_CMD_QUIT);
	/* Anything in between starts over. */
	press(m, fn(10), NULL, AGENTMODEL_CMD_NONE);
	press(m, key(AGENTMODEL_KEY_LEFT), NULL, AGENTMODEL_CMD_NONE);
	press(m, fn(10), NULL, AGENTMODEL_CMD_NONE);
	m->unsent = 0;
	press(m, fn(10), &cmd, AGENTMODEL_CMD_QUIT);
	agentmodel_free(m);
}
END_TEST

START_TEST(test_the_draft_round_trips_and_another_agents_is_ignored)
{
	struct agentmodel *m = on_call();
	type(m, L"备注：患者要求回电");
	press(m, fn(4), NULL, AGENTMODEL_CMD_NONE);
	type(m, L"未写完的主题");
	press(m, key(AGENTMODEL_KEY_ESCAPE), NULL, AGENTMODEL_CMD_NONE);
	press(m, fn(3), NULL, AGENTMODEL_CMD_NONE); /* not while on a call */
	ck_assert_int_eq(m->open, AGENTMODEL_FORM_NONE);
	char *draft = agentmodel_draft_json(m);
	ck_assert_ptr_nonnull(draft);

	struct agentmodel *again = agentmodel_new("nanjing", "a001", NULL, 0, NOW);
	ck_assert_int_eq(agentmodel_draft_load(again, draft, strlen(draft)), 0);
	char text[256];
	textfield_utf8(&again->notes, text, sizeof text);
	ck_assert_str_eq(text, "备注：患者要求回电");
	ck_assert_str_eq(again->notes_call, "c1");
	textfield_utf8(&again->forms[AGENTMODEL_FORM_TICKET].fields[1].text, text, sizeof text);
	ck_assert_str_eq(text, "未写完的主题");
	agentmodel_free(again);

	struct agentmodel *other = agentmodel_new("nanjing", "a002", NULL, 0, NOW);
	ck_assert_int_eq(agentmodel_draft_load(other, draft, strlen(draft)), -EPERM);
	ck_assert_uint_eq(other->notes.len, 0);
	ck_assert_int_eq(agentmodel_draft_load(other, "{nope", 5), -EINVAL);
	agentmodel_free(other);
	free(draft);
	agentmodel_free(m);
}
END_TEST

START_TEST(test_unused_notes_stay_when_the_next_call_comes)
{
	struct agentmodel *m = on_call();
	type(m, L"没写进工单的备注");
	stream(m, "state",
	       "{\"state\":\"wrap_up\",\"call_id\":\"c1\",\"reason\":\"\","
	       "\"since\":\"2019-03-04T09:18:00+08:00\"}");
	stream(m, "state",
	       "{\"state\":\"on_call\",\"call_id\":\"c2\",\"reason\":\"\","
	       "\"since\":\"2019-03-04T09:20:00+08:00\"}");
	ck_assert_str_eq(m->call.call_id, "c2");
	ck_assert_uint_eq(m->notes.len, 8);
	ck_assert_str_eq(m->notes_call, "c1");
	ck_assert_ptr_nonnull(strstr(m->log[m->n_log - 1].text, "仍保留"));
	/* Cleared by the agent, the next call's notes start fresh. */
	press(m, key(AGENTMODEL_KEY_CLEAR), NULL, AGENTMODEL_CMD_NONE);
	type(m, L"新");
	ck_assert_str_eq(m->notes_call, "c2");
	agentmodel_free(m);
}
END_TEST

START_TEST(test_after_a_reconnect_me_restores_the_state_and_the_queues)
{
	struct agentmodel *m = logged_in();
	agentmodel_set_link(m, AGENTMODEL_LINK_ONLINE, "", NOW);
	ck_assert_uint_eq(m->reconnects, 0);
	agentmodel_set_link(m, AGENTMODEL_LINK_BROKEN, "connection failed", NOW + SEC);
	ck_assert_str_eq(agentmodel_link_label(m->link), "连接中断");
	static const char me[] =
		"{\"agent\":{\"centre\":\"nanjing\",\"agent_id\":\"a001\",\"name\":\"王芳\","
		"\"extension\":\"8001\"},\"state\":{\"state\":\"not_ready\",\"reason\":\"lunch\","
		"\"since\":\"2019-03-04T09:10:00+08:00\",\"call_id\":\"\"},\"last_call_id\":\"c0\","
		"\"queues\":[{\"queue\":\"booking\",\"waiting\":3,\"longest_wait_s\":75}]}";
	ck_assert_int_eq(agentmodel_on_me(m, me, strlen(me), NOW + 2 * SEC), 0);
	agentmodel_set_link(m, AGENTMODEL_LINK_ONLINE, "", NOW + 2 * SEC);
	ck_assert_uint_eq(m->reconnects, 1);
	ck_assert_int_eq(m->state, AGENTMODEL_NOT_READY);
	ck_assert_str_eq(agentmodel_reason_label(m->reason), "午餐");
	ck_assert_str_eq(m->last_call, "c0");
	ck_assert_uint_eq(m->n_queues, 1);
	ck_assert_int_eq(m->queues[0].waiting, 3);
	char d[16];
	agentmodel_format_duration((NOW - m->state_since) / SEC, d);
	ck_assert_str_eq(d, "05:00");
	agentmodel_format_duration(3725, d);
	ck_assert_str_eq(d, "1:02:05");
	ck_assert_int_eq(agentmodel_on_me(m, "[]", 2, NOW), -EINVAL);

	/* The broker's reasons replace the configured copy, without the
	 * distributor's own; a new code shows as itself. */
	static const char with_reasons[] =
		"{\"state\":{\"state\":\"ready\",\"reason\":\"\",\"since\":null,\"call_id\":\"\"},"
		"\"queues\":[],\"reasons\":[\"login\",\"lunch\",\"no_answer\",\"team_huddle\"]}";
	ck_assert_int_eq(agentmodel_on_me(m, with_reasons, strlen(with_reasons), NOW + 3 * SEC),
			 0);
	ck_assert_uint_eq(m->n_reasons, 2);
	ck_assert_str_eq(m->reasons[0].value, "lunch");
	ck_assert_str_eq(m->reasons[0].label, "午餐");
	ck_assert_str_eq(m->reasons[1].value, "team_huddle");
	ck_assert_str_eq(m->reasons[1].label, "team_huddle");
	agentmodel_free(m);
}
END_TEST

START_TEST(test_the_order_list_keeps_only_orders_a_reply_can_reach)
{
	struct agentmodel *m = logged_in();
	struct agentmodel_command cmd;
	press(m, fn(6), &cmd, AGENTMODEL_CMD_LOAD_ORDERS);
	static const char orders[] =
		"{\"orders\":[{\"id\":3,\"external_no\":\"NJ-1\",\"title\":\"挂号难\",\"stage\":"
		"\"received\",\"status\":\"overdue\",\"due\":\"2019-03-05T00:00:00+08:00\"},"
		"{\"id\":4,\"external_no\":\"NJ-2\",\"title\":\"x\",\"stage\":\"replied\"},"
		"{\"id\":5,\"external_no\":\"NJ-3\",\"title\":\"y\",\"stage\":\"in_progress\","
		"\"status\":\"on_time\"}]}";
	ck_assert_int_eq(agentmodel_on_orders(m, orders, strlen(orders), NOW), 0);
	ck_assert_uint_eq(m->n_orders, 2);
	ck_assert_str_eq(m->orders[0].value, "3");
	ck_assert_ptr_nonnull(strstr(m->orders[0].label, "已超期"));
	ck_assert_str_eq(m->forms[AGENTMODEL_FORM_ORDER_REPLY].fields[0].value, "3");
	press(m, key(AGENTMODEL_KEY_DOWN), NULL, AGENTMODEL_CMD_NONE);
	type(m, L"已联系医院处理");
	press(m, key(AGENTMODEL_KEY_ENTER), &cmd, AGENTMODEL_CMD_ORDER_REPLY);
	ck_assert_int_eq(cmd.order_id, 3);
	ck_assert_str_eq(cmd.text, "已联系医院处理");
	agentmodel_free(m);
}
END_TEST

/* The reasons built in are those conf/queues.yaml ships (login and
 * no_answer are the distributor's). */
START_TEST(test_the_default_reasons_are_those_of_conf_queues_yaml)
{
	const char *src = getenv("HOTLINE_SOURCE_DIR");
	char path[512], err[256];
	struct queues_file *qf = NULL;
	ck_assert_ptr_nonnull(src);
	snprintf(path, sizeof path, "%s/conf/queues.yaml", src);
	ck_assert_msg(queues_load_file(path, &qf, err, sizeof err) == 0, "%s", err);
	size_t n = 0;
	for (size_t i = 0; i < qf->n_reasons; i++) {
		if (strcmp(qf->reasons[i], "login") == 0 ||
		    strcmp(qf->reasons[i], "no_answer") == 0)
			continue;
		ck_assert_ptr_nonnull(agentmodel_default_reasons[n]);
		ck_assert_str_eq(agentmodel_default_reasons[n], qf->reasons[i]);
		n++;
	}
	ck_assert_ptr_null(agentmodel_default_reasons[n]);
	queues_free(qf);
}
END_TEST

/* --- the wallboard ------------------------------------------------------------------ */

static const char queues_view[] =
	"{\"centre\":\"nanjing\",\"queues\":["
	"{\"queue\":\"crisis\",\"waiting\":1,\"longest_wait_s\":35,\"offered_today\":2,"
	"\"answered_today\":1,\"abandoned_today\":0,\"calls\":[{\"call_id\":\"x2\",\"position\":1,"
	"\"waiting_s\":35,\"crisis\":true,\"callback\":false},{\"call_id\":\"x1\",\"position\":2,"
	"\"waiting_s\":90,\"crisis\":true,\"callback\":true}]},"
	"{\"queue\":\"booking\",\"waiting\":2,\"longest_wait_s\":80,\"offered_today\":40,"
	"\"answered_today\":30,\"abandoned_today\":5,\"calls\":[]}],"
	"\"agents\":[{\"agent_id\":\"b2\",\"name\":\"乙\",\"state\":\"not_ready\",\"reason\":\"lunch\","
	"\"in_state_s\":100,\"call_id\":\"\"},{\"agent_id\":\"a1\",\"name\":\"甲\",\"state\":"
	"\"on_call\",\"reason\":\"\",\"in_state_s\":20,\"call_id\":\"c9\"},{\"agent_id\":\"sup\","
	"\"name\":\"班长\",\"state\":\"not_ready\",\"reason\":\"login\",\"in_state_s\":5,"
	"\"call_id\":\"\"}]}";

START_TEST(test_the_wallboard_raises_crisis_and_overdue_alerts)
{
	struct wallmodel w;
	wallmodel_init(&w, "nanjing", "sup");
	wallmodel_alerts(&w, NOW);
	ck_assert_uint_eq(w.n_alerts, 1);
	ck_assert_int_eq(w.alerts[0].kind, WALLMODEL_ALERT_LINK);
	ck_assert_int_eq(wallmodel_on_queues(&w, queues_view, strlen(queues_view), NOW), 0);
	/* The board's own login is not a working agent; the rest by id. */
	ck_assert_uint_eq(w.n_agents, 2);
	ck_assert_str_eq(w.agents[0].id, "a1");
	static const char callbacks[] =
		"{\"callbacks\":[{\"call_id\":\"x1\",\"queue\":\"crisis\",\"urgent\":true,"
		"\"reason\":\"crisis_abandoned\",\"joined_at\":\"2019-03-04T09:00:00+08:00\","
		"\"state\":\"pending\",\"agent_id\":\"\",\"caller\":\"137****0007\"},"
		"{\"call_id\":\"v1\",\"queue\":\"survey\",\"urgent\":false,\"reason\":\"overflow\"}]}";
	ck_assert_int_eq(wallmodel_on_callbacks(&w, callbacks, strlen(callbacks), NOW), 0);
	static const char orders[] = "{\"orders\":[{\"id\":1,\"external_no\":\"NJ-1\","
				     "\"title\":\"挂号难\",\"stage\":\"received\"}]}";
	ck_assert_int_eq(wallmodel_on_orders(&w, orders, strlen(orders), NOW), 0);
	wallmodel_alerts(&w, NOW);
	ck_assert_uint_eq(w.n_alerts, 3);
	ck_assert_int_eq(w.alerts[0].kind, WALLMODEL_ALERT_CRISIS_WAITING);
	/* The callback of a caller who hung up is not a caller waiting. */
	ck_assert_ptr_nonnull(strstr(w.alerts[0].text, "1 通，最长 0 分 35 秒"));
	ck_assert_int_eq(w.alerts[1].kind, WALLMODEL_ALERT_CRISIS_CALLBACKS);
	ck_assert_int_eq(w.alerts[2].kind, WALLMODEL_ALERT_OVERDUE_ORDERS);
	ck_assert_uint_eq(w.callbacks_open, 2);
	ck_assert_uint_eq(w.callbacks_urgent, 1);
	/* Ten seconds without an answer: the board says it shows the past. */
	wallmodel_failed(&w, "connection failed", NOW + 10 * SEC);
	wallmodel_alerts(&w, NOW + 10 * SEC);
	ck_assert_int_eq(w.alerts[0].kind, WALLMODEL_ALERT_LINK);
	ck_assert_ptr_nonnull(strstr(w.alerts[0].text, "10 秒"));
	size_t ready, busy, wrap, nr;
	wallmodel_agent_counts(&w, &ready, &busy, &wrap, &nr);
	ck_assert_uint_eq(busy, 1);
	ck_assert_uint_eq(nr, 1);
	wallmodel_free(&w);
}
END_TEST

START_TEST(test_the_service_level_shows_only_when_the_broker_counts_it)
{
	struct wallmodel w;
	struct wallmodel_queue total;
	char pct[8];
	wallmodel_init(&w, "nanjing", NULL);
	ck_assert_int_eq(wallmodel_on_queues(&w, queues_view, strlen(queues_view), NOW), 0);
	wallmodel_totals(&w, &total);
	ck_assert_int_eq(total.offered, 42);
	ck_assert_int_eq(total.answered, 31);
	ck_assert_int_eq(total.abandoned, 5);
	ck_assert_int_eq(total.waiting, 3);
	ck_assert_int_eq(total.longest_wait_s, 80);
	ck_assert(!total.has_sl);
	wallmodel_percent(total.answered_in_sl, total.offered, total.has_sl, pct);
	ck_assert_str_eq(pct, "—");
	wallmodel_percent(total.answered, total.offered, true, pct);
	ck_assert_str_eq(pct, "74%");
	wallmodel_percent(0, 0, true, pct);
	ck_assert_str_eq(pct, "—");
	static const char with_sl[] =
		"{\"queues\":[{\"queue\":\"booking\",\"waiting\":0,\"offered_today\":10,"
		"\"answered_today\":9,\"abandoned_today\":1,\"answered_in_sl_today\":8,\"calls\":[]}],"
		"\"agents\":[]}";
	ck_assert_int_eq(wallmodel_on_queues(&w, with_sl, strlen(with_sl), NOW), 0);
	wallmodel_totals(&w, &total);
	ck_assert(total.has_sl);
	wallmodel_percent(total.answered_in_sl, total.offered, total.has_sl, pct);
	ck_assert_str_eq(pct, "80%");
	ck_assert_int_eq(wallmodel_on_queues(&w, "{}", 2, NOW), -EINVAL);
	ck_assert_uint_eq(w.n_queues, 1);
	wallmodel_free(&w);
}
END_TEST

int main(void)
{
	/* Display widths come from the C library's UTF-8 tables. */
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL && setlocale(LC_CTYPE, "C.utf8") == NULL) {
		fprintf(stderr, "no C.UTF-8 locale\n");
		return 77;
	}
	if (timeutil_set_zone("Asia/Shanghai") != 0)
		return 77;
	Suite *s = suite_create("agentmodel");
	TCase *tc = tcase_create("textfield");
	tcase_add_test(tc, test_a_field_edits_chinese_one_character_at_a_time);
	tcase_add_test(tc, test_invalid_utf8_and_control_characters_are_refused);
	tcase_add_test(tc, test_scrolling_keeps_the_cursor_visible_with_wide_characters);
	tcase_add_test(tc, test_a_wide_character_that_does_not_fit_wraps_to_the_next_row);
	suite_add_tcase(s, tc);
	tc = tcase_create("model");
	tcase_add_test(tc, test_the_login_form_builds_the_login_and_forgets_the_password);
	tcase_add_test(tc,
		       test_an_offer_pops_up_with_category_masked_caller_history_and_open_tickets);
	tcase_add_test(tc, test_a_cancelled_offer_says_why);
	tcase_add_test(tc, test_keys_write_the_notes_and_the_notes_become_the_tickets_record);
	tcase_add_test(tc,
		       test_a_refused_form_keeps_its_text_and_a_form_on_its_way_is_not_sent_twice);
	tcase_add_test(tc, test_a_booking_checks_its_date_and_follows_the_hospitals_departments);
	tcase_add_test(tc, test_wrap_up_and_not_ready_use_the_configured_codes);
	tcase_add_test(tc, test_every_action_has_a_visible_shortcut_enabled_by_state);
	tcase_add_test(tc, test_quitting_with_unsent_work_asks_twice);
	tcase_add_test(tc, test_the_draft_round_trips_and_another_agents_is_ignored);
	tcase_add_test(tc, test_unused_notes_stay_when_the_next_call_comes);
	tcase_add_test(tc, test_after_a_reconnect_me_restores_the_state_and_the_queues);
	tcase_add_test(tc, test_the_order_list_keeps_only_orders_a_reply_can_reach);
	tcase_add_test(tc, test_the_default_reasons_are_those_of_conf_queues_yaml);
	suite_add_tcase(s, tc);
	tc = tcase_create("wallboard");
	tcase_add_test(tc, test_the_wallboard_raises_crisis_and_overdue_alerts);
	tcase_add_test(tc, test_the_service_level_shows_only_when_the_broker_counts_it);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
