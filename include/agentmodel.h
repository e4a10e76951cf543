/* agentmodel.h: the agent's screen as plain data, and the one place where
 * a key, a line of the batch mode or a message from the broker changes it
 * (pure).
 *
 * hotline-agent is three layers: agentcli.c talks to the broker (requests,
 * the stream, reconnection, the draft file), agentui.c draws this model
 * with ncurses and turns keys into agentmodel_key, agentbatch.c turns lines
 * of standard input into the same form submissions. Everything the agent
 * sees and every rule about what may be done when lives here, so that the
 * unit tests check it without a terminal, a broker or a clock: times are
 * parameters (microseconds since the epoch), JSON comes in as text.
 *
 * What the agent typed is never thrown away by the model: a form keeps its
 * text when it is closed, when its submission fails (the broker's refusal
 * is shown on it), and while it is being sent; it is emptied only when the
 * core reports that the broker took it (agentmodel_sent). The notes of a
 * call stay until they went into a ticket or the agent clears them. The
 * draft (agentmodel_draft_json) holds all of it, for the file that lets it
 * survive a restart of the client.
 */
#ifndef HOTLINE_AGENTMODEL_H
#define HOTLINE_AGENTMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "textfield.h"

#define AGENTMODEL_ID_MAX 65     /* ids of the API: 1..64 characters, and the NUL */
#define AGENTMODEL_CODE_MAX 33   /* codes: reasons, dispositions, categories, queues */
#define AGENTMODEL_NAME_MAX 256  /* names and labels, UTF-8 */
#define AGENTMODEL_CALLER_MAX 40 /* a masked number: 138****5678 */
#define AGENTMODEL_MESSAGE_MAX 320
#define AGENTMODEL_PASSWORD_MAX 1024 /* bytes, the broker's limit */
#define AGENTMODEL_SUBJECT_CHARS 200 /* a ticket's subject (doc/workorders.md) */
#define AGENTMODEL_TEXT_CHARS 4000   /* notes, a reply: the broker's limit */
#define AGENTMODEL_HISTORY_MAX 20    /* queues.yaml history_max's default */
#define AGENTMODEL_TICKETS_MAX 10
#define AGENTMODEL_QUEUES_MAX 16
#define AGENTMODEL_REASONS_MAX 32
#define AGENTMODEL_ORDERS_MAX 200 /* the broker's list limit */
#define AGENTMODEL_LOG_MAX 6
#define AGENTMODEL_FIELDS_MAX 3
#define AGENTMODEL_DATE_LEN 11 /* YYYY-MM-DD and the NUL */

/* Whether the client hears the broker. */
enum agentmodel_link {
	AGENTMODEL_LINK_OFFLINE,    /* not logged in: nothing to hear */
	AGENTMODEL_LINK_CONNECTING, /* logged in, the stream is not up yet */
	AGENTMODEL_LINK_ONLINE,     /* the stream is up and the last request was answered */
	AGENTMODEL_LINK_BROKEN,     /* the stream or a request failed: reconnecting */
};

/* The agent's state as the broker last said (doc/api.md). */
enum agentmodel_state {
	AGENTMODEL_UNKNOWN,
	AGENTMODEL_LOGGED_OUT,
	AGENTMODEL_NOT_READY,
	AGENTMODEL_READY,
	AGENTMODEL_OFFERED,
	AGENTMODEL_ON_CALL,
	AGENTMODEL_WRAP_UP,
};

/* The forms; each keeps its fields while closed. */
enum agentmodel_form {
	AGENTMODEL_FORM_NONE,
	AGENTMODEL_FORM_LOGIN,
	AGENTMODEL_FORM_NOT_READY,   /* a reason */
	AGENTMODEL_FORM_WRAP_UP,     /* disposition, category correction, ready after */
	AGENTMODEL_FORM_TICKET,      /* kind, subject, first note */
	AGENTMODEL_FORM_BOOKING,     /* hospital, department, visit date */
	AGENTMODEL_FORM_ORDER_REPLY, /* a 12345 work order, the reply */
	AGENTMODEL_FORM_CALLBACK,    /* the outcome of a callback */
	AGENTMODEL_FORM_COUNT,
};

/* Where a choice field's options come from. */
enum agentmodel_list {
	AGENTMODEL_LIST_NONE, /* a text field */
	AGENTMODEL_LIST_REASONS,
	AGENTMODEL_LIST_DISPOSITIONS,
	AGENTMODEL_LIST_CATEGORIES, /* with "" = no correction first */
	AGENTMODEL_LIST_YES_NO,
	AGENTMODEL_LIST_TICKET_KINDS,
	AGENTMODEL_LIST_HOSPITALS,
	AGENTMODEL_LIST_DEPARTMENTS, /* of the booking form's hospital */
	AGENTMODEL_LIST_ORDERS,
	AGENTMODEL_LIST_OUTCOMES,
};

struct agentmodel_field {
	const char *key;   /* its name in the draft and in batch errors */
	const char *label; /* what the agent reads */
	enum agentmodel_list list;
	bool secret; /* shown as '*' and never saved */
	/* A text field's text; a choice field's search (typed letters jump to
	 * the first option whose code or label contains them). */
	struct textfield text;
	char value[AGENTMODEL_NAME_MAX]; /* a choice field's value; "" for none */
};

struct agentmodel_form_state {
	struct agentmodel_field fields[AGENTMODEL_FIELDS_MAX];
	size_t n_fields;
	size_t focus;
	bool sending; /* submitted; the core has not said how it went */
	char error[AGENTMODEL_MESSAGE_MAX];
};

struct agentmodel_choice {
	char value[AGENTMODEL_NAME_MAX];
	char label[AGENTMODEL_NAME_MAX];
};

struct agentmodel_history {
	char call_id[AGENTMODEL_ID_MAX];
	int64_t offered_at;
	char category[AGENTMODEL_CODE_MAX];
	char outcome[AGENTMODEL_CODE_MAX];
	char disposition[AGENTMODEL_CODE_MAX];
};

struct agentmodel_ticket {
	int64_t id;
	char kind[AGENTMODEL_CODE_MAX];
	char state[AGENTMODEL_CODE_MAX];
	char subject[4 * AGENTMODEL_SUBJECT_CHARS + 1];
	int64_t due; /* 0: none */
};

/* The call on the screen: offered, on the line, or the last one. */
struct agentmodel_call {
	bool present;
	bool callback; /* a callback task (the agent calls the caller back) */
	bool urgent;   /* a crisis caller's */
	bool cancelled;
	char call_id[AGENTMODEL_ID_MAX];
	char queue[AGENTMODEL_CODE_MAX];
	char category[AGENTMODEL_CODE_MAX];
	char caller[AGENTMODEL_CALLER_MAX]; /* masked by the broker */
	int64_t offered_at;                 /* when the offer reached the client */
	int64_t ring_deadline;              /* 0: unknown */
	int64_t answered_at;                /* 0: not yet */
	int64_t ended_at;
	struct agentmodel_history history[AGENTMODEL_HISTORY_MAX];
	size_t n_history;
	struct agentmodel_ticket tickets[AGENTMODEL_TICKETS_MAX]; /* the caller's open ones */
	size_t n_tickets;
	bool tickets_loaded;
	bool wrapped; /* a disposition was recorded */
	unsigned tickets_made, bookings_made, replies_made;
};

struct agentmodel_queue {
	char name[AGENTMODEL_CODE_MAX];
	long waiting;
	long longest_wait_s;
};

struct agentmodel_hospital {
	char code[AGENTMODEL_CODE_MAX];
	char name[AGENTMODEL_NAME_MAX];
	struct agentmodel_choice *departments;
	size_t n_departments;
};

struct agentmodel_log_line {
	int64_t at;
	bool error;
	char text[AGENTMODEL_MESSAGE_MAX];
};

struct agentmodel {
	/* who */
	char centre[AGENTMODEL_CODE_MAX];
	char agent_id[AGENTMODEL_ID_MAX];
	char name[AGENTMODEL_NAME_MAX];
	char extension[AGENTMODEL_CODE_MAX];
	bool logged_in;
	bool logging_in;

	/* the line to the broker */
	enum agentmodel_link link;
	int64_t link_since;
	unsigned reconnects; /* times the link came back after breaking */
	char link_detail[AGENTMODEL_MESSAGE_MAX];
	unsigned unsent; /* actions the core still has to deliver */

	/* the agent's state */
	enum agentmodel_state state;
	char reason[AGENTMODEL_CODE_MAX];
	int64_t state_since;
	char state_call[AGENTMODEL_ID_MAX];
	char last_call[AGENTMODEL_ID_MAX];
	struct agentmodel_queue queues[AGENTMODEL_QUEUES_MAX];
	size_t n_queues;

	struct agentmodel_call call;
	struct textfield notes;
	char notes_call[AGENTMODEL_ID_MAX]; /* the call the notes were written on */
	bool notes_used;                    /* went into a ticket */

	struct agentmodel_form_state forms[AGENTMODEL_FORM_COUNT];
	enum agentmodel_form open;
	bool help;
	bool quit_asked; /* F10 once with unsent work: the next F10 quits */

	/* lists the choice fields offer */
	struct agentmodel_choice reasons[AGENTMODEL_REASONS_MAX];
	size_t n_reasons;
	struct agentmodel_hospital *hospitals;
	size_t n_hospitals;
	bool hospitals_loaded;
	struct agentmodel_choice orders[AGENTMODEL_ORDERS_MAX];
	size_t n_orders;
	bool orders_loaded;

	struct agentmodel_log_line log[AGENTMODEL_LOG_MAX]; /* newest last */
	size_t n_log;

	/* Set whenever something the draft holds changed; the core saves the
	 * draft and clears it. */
	bool draft_dirty;
};

/* --- keys ------------------------------------------------------------------ */

enum agentmodel_key_kind {
	AGENTMODEL_KEY_CHAR, /* ch: a printable character */
	AGENTMODEL_KEY_FN,   /* fn: F1..F12 */
	AGENTMODEL_KEY_UP,
	AGENTMODEL_KEY_DOWN,
	AGENTMODEL_KEY_LEFT,
	AGENTMODEL_KEY_RIGHT,
	AGENTMODEL_KEY_HOME,
	AGENTMODEL_KEY_END,
	AGENTMODEL_KEY_BACKSPACE,
	AGENTMODEL_KEY_DELETE,
	AGENTMODEL_KEY_ENTER,
	AGENTMODEL_KEY_TAB,
	AGENTMODEL_KEY_BACKTAB,
	AGENTMODEL_KEY_ESCAPE,
	AGENTMODEL_KEY_CLEAR, /* Ctrl-U: empty the field */
};

struct agentmodel_key {
	enum agentmodel_key_kind kind;
	wchar_t ch;
	int fn;
};

/* --- what the agent asks the broker for --------------------------------------- */

enum agentmodel_command_kind {
	AGENTMODEL_CMD_NONE,
	AGENTMODEL_CMD_LOGIN,
	AGENTMODEL_CMD_READY,
	AGENTMODEL_CMD_NOT_READY,
	AGENTMODEL_CMD_WRAP_UP,
	AGENTMODEL_CMD_TICKET,
	AGENTMODEL_CMD_BOOK,
	AGENTMODEL_CMD_ORDER_REPLY,
	AGENTMODEL_CMD_LOAD_ORDERS,
	AGENTMODEL_CMD_LOAD_HOSPITALS,
	AGENTMODEL_CMD_CALLBACK_ACCEPT,
	AGENTMODEL_CMD_CALLBACK_FINISH,
	AGENTMODEL_CMD_LOGOUT,
	AGENTMODEL_CMD_QUIT,
};

/* One request, with everything it needs copied out of the model (the
 * model may change while it is on its way). Only the fields of its kind
 * are set. Big: keep it off small stacks' hot paths. */
struct agentmodel_command {
	enum agentmodel_command_kind kind;
	enum agentmodel_form form; /* the form it came from, for agentmodel_sent */
	char call_id[AGENTMODEL_ID_MAX];
	char centre[AGENTMODEL_CODE_MAX];       /* login */
	char agent_id[AGENTMODEL_ID_MAX];       /* login */
	char password[AGENTMODEL_PASSWORD_MAX]; /* login: wipe after use */
	char reason[AGENTMODEL_CODE_MAX];
	char disposition[AGENTMODEL_CODE_MAX];
	char category[AGENTMODEL_CODE_MAX]; /* "" for no correction */
	bool then_ready;
	char ticket_kind[AGENTMODEL_CODE_MAX];
	char subject[4 * AGENTMODEL_SUBJECT_CHARS + 1];
	char text[TEXTFIELD_UTF8_MAX]; /* a ticket's first note, a reply */
	char hospital[AGENTMODEL_CODE_MAX];
	char department[AGENTMODEL_CODE_MAX];
	char visit_date[AGENTMODEL_DATE_LEN];
	int64_t order_id;
	char outcome[AGENTMODEL_CODE_MAX];
};

/* --- life ---------------------------------------------------------------------- */

/* A model for centre and agent_id (either may be NULL or "": the login
 * form asks), with the not-ready reasons agents may give (NULL: the ones
 * conf/queues.yaml ships). now is for the visit date's default. Returns
 * NULL when out of memory. */
struct agentmodel *agentmodel_new(const char *centre, const char *agent_id,
				  const char *const *reasons, size_t n_reasons, int64_t now)
	__attribute__((warn_unused_result));
void agentmodel_free(struct agentmodel *m);

/* The reasons conf/queues.yaml ships, NULL-terminated (a test keeps them in
 * step with the file). */
extern const char *const agentmodel_default_reasons[];

/* --- input --------------------------------------------------------------------- */

/* Applies a key. Returns true and fills *out when the key asks the broker
 * for something (out->kind != NONE). */
bool agentmodel_on_key(struct agentmodel *m, const struct agentmodel_key *key, int64_t now,
		       struct agentmodel_command *out) __attribute__((warn_unused_result));

/* Opens form f (after checking that it makes sense now; if not, says why
 * in the log and returns false). *out asks for a list the form needs
 * (orders, hospitals) when out->kind != NONE. */
bool agentmodel_open_form(struct agentmodel *m, enum agentmodel_form f, int64_t now,
			  struct agentmodel_command *out) __attribute__((warn_unused_result));

/* Sets a field of form f by key: a text field's text, or a choice field's
 * value (checked against the list when the list is known). For the batch
 * mode. Returns 0, -ENOENT for no such field, -EINVAL (with the form's
 * error set) for a value the field cannot take. */
int agentmodel_set_field(struct agentmodel *m, enum agentmodel_form f, const char *key,
			 const char *value) __attribute__((warn_unused_result));

/* Checks form f and turns it into a command: 0 and *out, or -EINVAL with
 * the form's error saying what to fix (the form is not sent then). A form
 * being sent is refused with -EBUSY. */
int agentmodel_submit(struct agentmodel *m, enum agentmodel_form f, int64_t now,
		      struct agentmodel_command *out) __attribute__((warn_unused_result));

/* The command of a key that needs no form (ready, accept a callback,
 * logout): fills *out or says in the log why not now. */
bool agentmodel_simple_command(struct agentmodel *m, enum agentmodel_command_kind kind, int64_t now,
			       struct agentmodel_command *out) __attribute__((warn_unused_result));

/* Replaces the notes (batch mode). -EINVAL/-ENOSPC as textfield_set_utf8. */
int agentmodel_set_notes(struct agentmodel *m, const char *utf8)
	__attribute__((warn_unused_result));

/* --- what the core reports -------------------------------------------------------- */

/* The answer of POST /v1/agents/login (200). Returns 0, or -EINVAL when it
 * is not the expected JSON. */
int agentmodel_on_login(struct agentmodel *m, const char *body, size_t len, int64_t now)
	__attribute__((warn_unused_result));
/* A login refused or impossible: back to the login form with message. */
void agentmodel_login_failed(struct agentmodel *m, const char *message, int64_t now);
/* The session ended (logout, or a token the broker no longer knows and no
 * password to log in again with): the login form, every draft kept. */
void agentmodel_logged_out(struct agentmodel *m, const char *message, int64_t now);

/* What a stream message means for the screen (event: state, offer,
 * offer_cancelled, call). Returns AGENTMODEL_WANT_* bits for what the core
 * should fetch. */
#define AGENTMODEL_WANT_TICKETS 1u /* the open tickets of the offered caller */
#define AGENTMODEL_WANT_ME 2u      /* the agent's state and queues */
unsigned agentmodel_on_stream(struct agentmodel *m, const char *event, const char *data, size_t len,
			      int64_t now);

/* Answers of the agent's GETs: /v1/agents/me, /v1/tickets?caller_call_id=,
 * /v1/hospitals, /v1/workorders. Each returns 0 or -EINVAL (not the JSON
 * expected: nothing changed). */
int agentmodel_on_me(struct agentmodel *m, const char *body, size_t len, int64_t now)
	__attribute__((warn_unused_result));
int agentmodel_on_tickets(struct agentmodel *m, const char *call_id, const char *body, size_t len)
	__attribute__((warn_unused_result));
int agentmodel_on_hospitals(struct agentmodel *m, const char *body, size_t len)
	__attribute__((warn_unused_result));
int agentmodel_on_orders(struct agentmodel *m, const char *body, size_t len, int64_t now)
	__attribute__((warn_unused_result));

/* The answer of POST /v1/agents/state: the state it gives. */
int agentmodel_on_state_answer(struct agentmodel *m, const char *body, size_t len, int64_t now)
	__attribute__((warn_unused_result));

/* The core's word on a command of form f: taken (the form is emptied and
 * closed; message, e.g. "工单 #12 已创建", goes to the log), or refused or
 * undeliverable (the form keeps its text and shows message). */
void agentmodel_sent(struct agentmodel *m, enum agentmodel_form f, bool ok, const char *message,
		     int64_t now);

/* The line to the broker changed. Coming back ONLINE after BROKEN counts a
 * reconnection. */
void agentmodel_set_link(struct agentmodel *m, enum agentmodel_link link, const char *detail,
			 int64_t now);

/* A line for the log under the call (results, refusals), printf-style. */
void agentmodel_note(struct agentmodel *m, int64_t now, bool error, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* --- drafts ---------------------------------------------------------------------- */

/* The draft as compact JSON (free with free()): notes and every form's
 * fields except secrets; NULL when out of memory. */
char *agentmodel_draft_json(const struct agentmodel *m) __attribute__((warn_unused_result));
/* Restores what agentmodel_draft_json saved for the same centre and agent
 * (a draft of someone else is ignored: -EPERM). 0, or -EINVAL. */
int agentmodel_draft_load(struct agentmodel *m, const char *text, size_t len)
	__attribute__((warn_unused_result));

/* --- what the view shows (pure helpers) ------------------------------------------------ */

const char *agentmodel_state_name(enum agentmodel_state s);     /* "on_call" */
const char *agentmodel_state_label(enum agentmodel_state s);    /* "通话中" */
const char *agentmodel_reason_label(const char *reason);        /* "午餐", or the code */
const char *agentmodel_category_label(const char *category);    /* "电话预约" */
const char *agentmodel_outcome_label(const char *outcome);      /* "已处理" */
const char *agentmodel_form_title(enum agentmodel_form f);      /* "建立工单" */
const char *agentmodel_link_label(enum agentmodel_link l);      /* "已连接" */
const char *agentmodel_queue_label(const char *queue);          /* "预约" */
const char *agentmodel_ticket_label(const char *kind_or_state); /* "投诉", "新建" */

/* "mm:ss", or "h:mm:ss" from an hour on; negative counts as 0. */
void agentmodel_format_duration(int64_t seconds, char out[16]);

/* The options of a choice field of form f (NULL and 0 for a text field).
 * Valid until the model changes. */
const struct agentmodel_choice *agentmodel_choices(const struct agentmodel *m,
						   enum agentmodel_form f, size_t field, size_t *n);
/* The label of a choice field's current value ("" for none). */
const char *agentmodel_choice_label(const struct agentmodel *m, enum agentmodel_form f,
				    size_t field);

/* A shortcut of the bottom bar: every action has one, shown whether or not
 * it can be used now (enabled says which). */
struct agentmodel_shortcut {
	const char *key;   /* "F2" */
	const char *label; /* "就绪" */
	bool enabled;
};
#define AGENTMODEL_SHORTCUTS_MAX 12
size_t agentmodel_shortcuts(const struct agentmodel *m,
			    struct agentmodel_shortcut out[AGENTMODEL_SHORTCUTS_MAX]);

/* Parses the state names of the API ("on_call"): UNKNOWN for others. */
enum agentmodel_state agentmodel_parse_state(const char *name);

#endif
