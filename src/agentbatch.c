/* agentbatch.c: the line mode of hotline-agent (see agentbatch.h): lines in,
 * one answer line out per command, through the same forms as the keys.
 *
 * One command is answered at a time: a command waits for its answer from
 * the core (a done callback carrying the command's sequence number, so
 * that one that comes after its timeout is ignored) or for a condition on
 * the model (checked on every change and every 200 ms); lines read
 * meanwhile wait in the buffer.
 */
#include "agentbatch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "agentcli.h"
#include "agentmodel.h"
#include "timeutil.h"

#define AGENTBATCH_TIMEOUT_S 30
#define AGENTBATCH_LINE_MAX (TEXTFIELD_UTF8_MAX + 256)
#define AGENTBATCH_TICK_MS 200
/* An offer is told with the caller's open tickets; if they do not come,
 * without them after this long. */
#define AGENTBATCH_TICKETS_WAIT_USEC 3000000

enum agentbatch_pending {
	AGENTBATCH_IDLE,
	AGENTBATCH_AWAIT_CORE,  /* a done callback */
	AGENTBATCH_AWAIT_MODEL, /* wait: a condition on the model */
};

/* The argument of a done callback: which command it answers. */
struct agentbatch_ticket {
	struct agentbatch_ticket *next;
	struct agentbatch *b;
	unsigned long seq;
};

struct agentbatch {
	struct agentbatch_options o;
	struct agentmodel *m;
	struct agentcli *c;
	char *password;
	struct event *read_ev;
	struct event *timeout_ev;
	struct event *tick_ev;
	struct event *next_ev;
	char *buf;
	size_t len;
	size_t cap;
	bool eof;
	bool finished;
	bool failed;
	bool quitting;

	enum agentbatch_pending pending;
	unsigned long seq;
	char verb[24];
	char wait_what[32];
	struct agentbatch_ticket *tickets;
};

static void agentbatch_schedule_next(struct agentbatch *b);

static int64_t agentbatch_now(void)
{
	return timeutil_now_usec();
}

/* Prints one answer line: newlines in messages become spaces. */
static void agentbatch_answer(struct agentbatch *b, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void agentbatch_answer(struct agentbatch *b, bool ok, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	for (char *p = line; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(b->o.out, "%s %s\n", ok ? "ok" : "error", line);
	fflush(b->o.out);
	if (!ok)
		b->failed = true;
	b->pending = AGENTBATCH_IDLE;
	b->seq++;
	evtimer_del(b->timeout_ev);
	evtimer_del(b->tick_ev);
	agentbatch_schedule_next(b);
}

static void agentbatch_finish(struct agentbatch *b)
{
	if (b->finished)
		return;
	b->finished = true;
	event_del(b->read_ev);
	event_base_loopbreak(b->o.base);
}

/* --- waiting on the model --------------------------------------------------------- */

static bool agentbatch_wait_met(struct agentbatch *b)
{
	const struct agentmodel *m = b->m;
	int64_t now = agentbatch_now();
	const char *w = b->wait_what;

	if (strcmp(w, "offer") == 0) {
		if (m->state != AGENTMODEL_OFFERED || !m->call.present || m->call.cancelled)
			return false;
		if (!m->call.tickets_loaded &&
		    now - m->call.offered_at < AGENTBATCH_TICKETS_WAIT_USEC)
			return false;
		agentbatch_answer(
			b, true,
			"offer %s kind=%s category=%s queue=%s caller=%s urgent=%d history=%zu "
			"tickets=%zu",
			m->call.call_id, m->call.callback ? "callback" : "call",
			m->call.category[0] ? m->call.category : "-",
			m->call.queue[0] ? m->call.queue : "-",
			m->call.caller[0] ? m->call.caller : "-", m->call.urgent ? 1 : 0,
			m->call.n_history, m->call.n_tickets);
		return true;
	}
	if (strcmp(w, "cancelled") == 0) {
		if (!m->call.present || !m->call.cancelled)
			return false;
		agentbatch_answer(b, true, "cancelled %s", m->call.call_id);
		return true;
	}
	if (strcmp(w, "online") == 0 || strcmp(w, "broken") == 0) {
		enum agentmodel_link want = w[0] == 'o' ? AGENTMODEL_LINK_ONLINE :
							  AGENTMODEL_LINK_BROKEN;
		if (m->link != want)
			return false;
		agentbatch_answer(b, true, "%s reconnects=%u unsent=%u", w, m->reconnects,
				  m->unsent);
		return true;
	}
	if (strcmp(w, "sent") == 0) {
		if (m->unsent > 0)
			return false;
		agentbatch_answer(b, true, "sent");
		return true;
	}
	enum agentmodel_state s = agentmodel_parse_state(w);
	if (s == AGENTMODEL_UNKNOWN || m->state != s)
		return false;
	agentbatch_answer(b, true, "state %s call=%s reason=%s", agentmodel_state_name(m->state),
			  m->state_call[0] ? m->state_call : "-", m->reason[0] ? m->reason : "-");
	return true;
}

static void agentbatch_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct agentbatch *b = arg;
	if (b->pending == AGENTBATCH_AWAIT_MODEL)
		(void)agentbatch_wait_met(b);
}

void agentbatch_changed(struct agentbatch *b)
{
	if (b->pending == AGENTBATCH_AWAIT_MODEL)
		(void)agentbatch_wait_met(b);
}

static void agentbatch_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct agentbatch *b = arg;
	if (b->pending == AGENTBATCH_AWAIT_MODEL)
		agentbatch_answer(b, false, "timeout %s did not happen (state %s, link %s)",
				  b->wait_what, agentmodel_state_name(b->m->state),
				  agentmodel_link_label(b->m->link));
	else if (b->pending == AGENTBATCH_AWAIT_CORE)
		agentbatch_answer(
			b, false,
			"timeout %s has no answer yet; it stays queued and is sent when the "
			"broker answers (%u unsent)",
			b->verb, b->m->unsent);
}

/* --- answers from the core --------------------------------------------------------- */

static void agentbatch_on_done(void *arg, const struct agentcli_result *r)
{
	struct agentbatch_ticket *t = arg;
	struct agentbatch *b = t->b;
	const struct agentmodel *m = b->m;

	if (t->seq != b->seq || b->pending != AGENTBATCH_AWAIT_CORE)
		return; /* answered by its timeout already */
	if (!r->ok) {
		agentbatch_answer(b, false, "%s %s", r->code[0] ? r->code : "failed", r->message);
		return;
	}
	if (strcmp(b->verb, "login") == 0) {
		agentbatch_answer(b, true, "login %s state=%s reason=%s", m->agent_id,
				  agentmodel_state_name(m->state), m->reason[0] ? m->reason : "-");
	} else if (strcmp(b->verb, "ready") == 0 || strcmp(b->verb, "not_ready") == 0) {
		agentbatch_answer(b, true, "state %s", r->value);
	} else if (strcmp(b->verb, "orders") == 0) {
		char ids[1024] = "";
		size_t used = 0;
		for (size_t i = 0; i < m->n_orders && used + 24 < sizeof ids; i++)
			used += (size_t)snprintf(ids + used, sizeof ids - used, " %s",
						 m->orders[i].value);
		agentbatch_answer(b, true, "orders %zu%s", m->n_orders, ids);
	} else if (strcmp(b->verb, "hospitals") == 0) {
		char codes[1024] = "";
		size_t used = 0;
		for (size_t i = 0; i < m->n_hospitals && used + 40 < sizeof codes; i++)
			used += (size_t)snprintf(codes + used, sizeof codes - used, " %s",
						 m->hospitals[i].code);
		agentbatch_answer(b, true, "hospitals %zu%s", m->n_hospitals, codes);
	} else if (strcmp(b->verb, "quit") == 0) {
		agentbatch_answer(b, true, "quit");
	} else {
		agentbatch_answer(b, true, "%s%s%s", b->verb, r->value[0] ? " " : "", r->value);
	}
}

/* Hands cmd to the core and waits for its answer. */
static void agentbatch_send(struct agentbatch *b, struct agentmodel_command *cmd)
{
	struct agentbatch_ticket *t = calloc(1, sizeof *t);
	if (t == NULL) {
		agentbatch_answer(b, false, "internal out of memory");
		return;
	}
	t->b = b;
	t->seq = b->seq;
	t->next = b->tickets;
	b->tickets = t;
	b->pending = AGENTBATCH_AWAIT_CORE;
	struct timeval tv = {b->o.timeout_s, 0};
	(void)evtimer_add(b->timeout_ev, &tv);
	if (agentcli_execute(b->c, cmd, agentbatch_on_done, t) != 0) {
		if (cmd->form != AGENTMODEL_FORM_NONE)
			b->m->forms[cmd->form].sending = false;
		agentbatch_answer(b, false, "internal the command could not be queued");
	}
}

/* Fills form f's fields (key, value pairs, NULL-terminated) and sends it. */
static void agentbatch_form(struct agentbatch *b, enum agentmodel_form f, const char *const *kv)
{
	struct agentmodel *m = b->m;
	struct agentmodel_command *cmd = calloc(1, sizeof *cmd);
	if (cmd == NULL) {
		agentbatch_answer(b, false, "internal out of memory");
		return;
	}
	for (size_t i = 0; kv[i] != NULL; i += 2) {
		int rc = agentmodel_set_field(m, f, kv[i], kv[i + 1]);
		if (rc != 0) {
			agentbatch_answer(b, false, "invalid_input %s",
					  rc == -ENOENT ? kv[i] : m->forms[f].error);
			free(cmd);
			return;
		}
	}
	int rc = agentmodel_submit(m, f, agentbatch_now(), cmd);
	if (rc != 0)
		agentbatch_answer(b, false, "%s %s", rc == -EBUSY ? "busy" : "invalid_input",
				  m->forms[f].error);
	else
		agentbatch_send(b, cmd);
	free(cmd);
}

/* --- commands ------------------------------------------------------------------------ */

/* Splits the next word off *rest (spaces and tabs); NULL when none. */
static char *agentbatch_word(char **rest)
{
	char *p = *rest;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		*rest = p;
		return NULL;
	}
	char *start = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*rest = p;
	return start;
}

static char *agentbatch_rest(char *rest)
{
	while (*rest == ' ' || *rest == '\t')
		rest++;
	size_t n = strlen(rest);
	while (n > 0 && (rest[n - 1] == ' ' || rest[n - 1] == '\t'))
		rest[--n] = '\0';
	return rest;
}

static void agentbatch_simple(struct agentbatch *b, enum agentmodel_command_kind kind)
{
	struct agentmodel_command *cmd = calloc(1, sizeof *cmd);
	if (cmd == NULL) {
		agentbatch_answer(b, false, "internal out of memory");
		return;
	}
	size_t before = b->m->n_log;
	if (agentmodel_simple_command(b->m, kind, agentbatch_now(), cmd))
		agentbatch_send(b, cmd);
	else
		agentbatch_answer(b, false, "not_now %s",
				  b->m->n_log > 0 && b->m->n_log >= before ?
					  b->m->log[b->m->n_log - 1].text :
					  "not possible now");
	free(cmd);
}

static void agentbatch_status(struct agentbatch *b)
{
	const struct agentmodel *m = b->m;
	char notes[TEXTFIELD_UTF8_MAX];
	textfield_utf8(&m->notes, notes, sizeof notes);
	agentbatch_answer(
		b, true,
		"status agent=%s state=%s reason=%s call=%s last_call=%s link=%s unsent=%u "
		"reconnects=%u notes_chars=%zu draft=%s",
		m->agent_id[0] ? m->agent_id : "-", agentmodel_state_name(m->state),
		m->reason[0] ? m->reason : "-", m->state_call[0] ? m->state_call : "-",
		m->last_call[0] ? m->last_call : "-",
		m->link == AGENTMODEL_LINK_ONLINE     ? "online" :
		m->link == AGENTMODEL_LINK_BROKEN     ? "broken" :
		m->link == AGENTMODEL_LINK_CONNECTING ? "connecting" :
							"offline",
		m->unsent, m->reconnects, m->notes.len,
		agentcli_draft_file(b->c)[0] ? agentcli_draft_file(b->c) : "-");
}

static void agentbatch_run(struct agentbatch *b, char *line)
{
	char *rest = line;
	char *verb = agentbatch_word(&rest);

	if (verb == NULL || verb[0] == '#') {
		agentbatch_schedule_next(b);
		return;
	}
	snprintf(b->verb, sizeof b->verb, "%s", verb);
	struct agentmodel *m = b->m;

	if (strcmp(verb, "login") == 0) {
		if (b->password == NULL) {
			agentbatch_answer(b, false, "no_password start with --password-file FILE");
			return;
		}
		if (m->centre[0] == '\0' || m->agent_id[0] == '\0') {
			agentbatch_answer(b, false, "no_agent start with --centre C --agent A");
			return;
		}
		struct agentmodel_command *cmd = calloc(1, sizeof *cmd);
		if (cmd == NULL) {
			agentbatch_answer(b, false, "internal out of memory");
			return;
		}
		cmd->kind = AGENTMODEL_CMD_LOGIN;
		snprintf(cmd->centre, sizeof cmd->centre, "%s", m->centre);
		snprintf(cmd->agent_id, sizeof cmd->agent_id, "%s", m->agent_id);
		snprintf(cmd->password, sizeof cmd->password, "%s", b->password);
		agentbatch_send(b, cmd);
		sodium_memzero(cmd, sizeof *cmd);
		free(cmd);
	} else if (strcmp(verb, "ready") == 0) {
		agentbatch_simple(b, AGENTMODEL_CMD_READY);
	} else if (strcmp(verb, "not_ready") == 0) {
		char *reason = agentbatch_word(&rest);
		if (reason == NULL) {
			agentbatch_answer(b, false, "usage not_ready REASON");
			return;
		}
		const char *kv[] = {"reason", reason, NULL};
		agentbatch_form(b, AGENTMODEL_FORM_NOT_READY, kv);
	} else if (strcmp(verb, "wait") == 0) {
		char *what = agentbatch_word(&rest);
		char *secs = agentbatch_word(&rest);
		int timeout = secs != NULL ? atoi(secs) : b->o.timeout_s;
		if (what == NULL || timeout <= 0) {
			agentbatch_answer(
				b, false,
				"usage wait offer|cancelled|online|broken|sent|STATE [SECONDS]");
			return;
		}
		snprintf(b->wait_what, sizeof b->wait_what, "%s", what);
		b->pending = AGENTBATCH_AWAIT_MODEL;
		if (agentbatch_wait_met(b))
			return;
		struct timeval tv = {timeout, 0}, tick = {0, AGENTBATCH_TICK_MS * 1000};
		(void)evtimer_add(b->timeout_ev, &tv);
		(void)event_add(b->tick_ev, &tick);
	} else if (strcmp(verb, "note") == 0) {
		int rc = agentmodel_set_notes(m, agentbatch_rest(rest));
		if (rc != 0)
			agentbatch_answer(b, false, "invalid_input %s",
					  rc == -ENOSPC ? "note too long" :
							  "note: invalid characters");
		else
			agentbatch_answer(b, true, "note %zu", m->notes.len);
	} else if (strcmp(verb, "ticket") == 0) {
		char *kind = agentbatch_word(&rest);
		char *subject = agentbatch_rest(rest);
		if (kind == NULL || subject[0] == '\0') {
			agentbatch_answer(b, false, "usage ticket KIND SUBJECT");
			return;
		}
		char note[TEXTFIELD_UTF8_MAX];
		textfield_utf8(&m->notes, note, sizeof note);
		const char *kv[] = {
			"kind", kind, "subject", subject, "note", m->notes_used ? "" : note, NULL};
		agentbatch_form(b, AGENTMODEL_FORM_TICKET, kv);
	} else if (strcmp(verb, "book") == 0) {
		char *hospital = agentbatch_word(&rest);
		char *department = agentbatch_word(&rest);
		char *date = agentbatch_word(&rest);
		if (date == NULL) {
			agentbatch_answer(b, false, "usage book HOSPITAL DEPARTMENT YYYY-MM-DD");
			return;
		}
		snprintf(b->verb, sizeof b->verb, "booking");
		const char *kv[] = {"hospital", hospital, "department", department,
				    "date",     date,     NULL};
		agentbatch_form(b, AGENTMODEL_FORM_BOOKING, kv);
	} else if (strcmp(verb, "reply") == 0) {
		char *order = agentbatch_word(&rest);
		char *text = agentbatch_rest(rest);
		if (order == NULL || text[0] == '\0') {
			agentbatch_answer(b, false, "usage reply ORDER_ID TEXT");
			return;
		}
		const char *kv[] = {"order", order, "text", text, NULL};
		agentbatch_form(b, AGENTMODEL_FORM_ORDER_REPLY, kv);
	} else if (strcmp(verb, "wrapup") == 0) {
		char *disposition = agentbatch_word(&rest);
		char *category = agentbatch_word(&rest);
		if (disposition == NULL) {
			agentbatch_answer(b, false, "usage wrapup DISPOSITION [CATEGORY]");
			return;
		}
		const char *kv[] = {"disposition", disposition,
				    "category",    category != NULL ? category : "",
				    "then_ready",  "no",
				    NULL};
		agentbatch_form(b, AGENTMODEL_FORM_WRAP_UP, kv);
	} else if (strcmp(verb, "callback") == 0) {
		char *sub = agentbatch_word(&rest);
		if (sub != NULL && strcmp(sub, "accept") == 0) {
			snprintf(b->verb, sizeof b->verb, "callback accepted");
			agentbatch_simple(b, AGENTMODEL_CMD_CALLBACK_ACCEPT);
		} else if (sub != NULL && strcmp(sub, "finish") == 0) {
			char *outcome = agentbatch_word(&rest);
			snprintf(b->verb, sizeof b->verb, "callback finished");
			const char *kv[] = {"outcome", outcome != NULL ? outcome : "reached", NULL};
			agentbatch_form(b, AGENTMODEL_FORM_CALLBACK, kv);
		} else {
			agentbatch_answer(
				b, false,
				"usage callback accept | callback finish reached|unreachable");
		}
	} else if (strcmp(verb, "orders") == 0) {
		agentbatch_simple(b, AGENTMODEL_CMD_LOAD_ORDERS);
	} else if (strcmp(verb, "hospitals") == 0) {
		agentbatch_simple(b, AGENTMODEL_CMD_LOAD_HOSPITALS);
	} else if (strcmp(verb, "status") == 0) {
		agentbatch_status(b);
	} else if (strcmp(verb, "logout") == 0) {
		agentbatch_simple(b, AGENTMODEL_CMD_LOGOUT);
	} else if (strcmp(verb, "quit") == 0) {
		b->quitting = true;
		agentbatch_simple(b, AGENTMODEL_CMD_QUIT);
	} else {
		agentbatch_answer(
			b, false,
			"unknown_command %s (login, ready, not_ready, wait, note, ticket, book, "
			"orders, reply, wrapup, callback, hospitals, status, logout, quit)",
			verb);
	}
}

/* --- input ------------------------------------------------------------------------------ */

/* Runs the buffered lines while nothing waits; ends the run at the end of
 * input. */
static void agentbatch_on_next(evutil_socket_t fd, short what, void *arg)
{
	struct agentbatch *b = arg;
	while (!b->finished && b->pending == AGENTBATCH_IDLE) {
		if (b->quitting) {
			agentbatch_finish(b);
			return;
		}
		char *nl = memchr(b->buf, '\n', b->len);
		if (nl == NULL && !(b->eof && b->len > 0)) {
			if (b->eof)
				agentbatch_finish(b);
			return;
		}
		size_t n = nl != NULL ? (size_t)(nl - b->buf) : b->len;
		char *line = malloc(n + 1);
		if (line == NULL) {
			agentbatch_answer(b, false, "internal out of memory");
			agentbatch_finish(b);
			return;
		}
		memcpy(line, b->buf, n);
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		size_t used = nl != NULL ? n + 1 : n;
		memmove(b->buf, b->buf + used, b->len - used);
		b->len -= used;
		/* Answers schedule the next line themselves; running it here
		 * keeps the order and stops at the first that waits. */
		agentbatch_run(b, line);
		free(line);
		event_del(b->next_ev);
	}
}

static void agentbatch_schedule_next(struct agentbatch *b)
{
	struct timeval zero = {0, 0};
	(void)evtimer_add(b->next_ev, &zero);
}

static void agentbatch_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct agentbatch *b = arg;
	for (;;) {
		if (b->cap - b->len < 4096) {
			size_t cap = b->cap * 2;
			char *p = realloc(b->buf, cap);
			if (p == NULL)
				break;
			b->buf = p;
			b->cap = cap;
		}
		ssize_t n = read(fd, b->buf + b->len, b->cap - b->len);
		if (n > 0) {
			b->len += (size_t)n;
			if (b->len > AGENTBATCH_LINE_MAX && memchr(b->buf, '\n', b->len) == NULL) {
				agentbatch_answer(b, false,
						  "line_too_long a line is longer than %d bytes",
						  AGENTBATCH_LINE_MAX);
				b->len = 0;
			}
			continue;
		}
		if (n == 0) {
			b->eof = true;
			event_del(b->read_ev);
		}
		break; /* EAGAIN, EOF or an error (treated as the end) */
	}
	agentbatch_schedule_next(b);
}

/* --- life --------------------------------------------------------------------------------- */

struct agentbatch *agentbatch_new(const struct agentbatch_options *o, char *err, size_t err_len)
{
	struct agentbatch *b = calloc(1, sizeof *b);
	if (b == NULL)
		goto oom;
	b->o = *o;
	if (b->o.timeout_s <= 0)
		b->o.timeout_s = AGENTBATCH_TIMEOUT_S;
	b->o.password = NULL;
	b->m = o->model;
	b->cap = 8192;
	b->buf = malloc(b->cap);
	b->read_ev = event_new(o->base, o->in_fd, EV_READ | EV_PERSIST, agentbatch_on_read, b);
	b->timeout_ev = evtimer_new(o->base, agentbatch_on_timeout, b);
	b->tick_ev = event_new(o->base, -1, EV_PERSIST, agentbatch_on_tick, b);
	b->next_ev = evtimer_new(o->base, agentbatch_on_next, b);
	if (o->password != NULL)
		b->password = strdup(o->password);
	if (b->buf == NULL || b->read_ev == NULL || b->timeout_ev == NULL || b->tick_ev == NULL ||
	    b->next_ev == NULL || (o->password != NULL && b->password == NULL))
		goto oom;
	return b;
oom:
	snprintf(err, err_len, "out of memory");
	agentbatch_free(b);
	return NULL;
}

void agentbatch_attach(struct agentbatch *b, struct agentcli *c)
{
	b->c = c;
}

int agentbatch_start(struct agentbatch *b)
{
	int flags = fcntl(b->o.in_fd, F_GETFL);
	if (flags < 0 || fcntl(b->o.in_fd, F_SETFL, flags | O_NONBLOCK) != 0)
		return -errno;
	if (event_add(b->read_ev, NULL) != 0) {
		/* A regular file cannot be polled (epoll refuses it): read it
		 * all now, it does not block. */
		agentbatch_on_read(b->o.in_fd, EV_READ, b);
		while (!b->eof) {
			size_t before = b->len;
			agentbatch_on_read(b->o.in_fd, EV_READ, b);
			if (b->len == before && !b->eof)
				break;
		}
		b->eof = true;
	}
	return 0;
}

void agentbatch_quit(struct agentbatch *b)
{
	b->quitting = true;
}

bool agentbatch_finished(const struct agentbatch *b)
{
	return b->finished;
}

bool agentbatch_failed(const struct agentbatch *b)
{
	return b->failed;
}

void agentbatch_free(struct agentbatch *b)
{
	if (b == NULL)
		return;
	if (b->read_ev != NULL)
		event_free(b->read_ev);
	if (b->timeout_ev != NULL)
		event_free(b->timeout_ev);
	if (b->tick_ev != NULL)
		event_free(b->tick_ev);
	if (b->next_ev != NULL)
		event_free(b->next_ev);
	while (b->tickets != NULL) {
		struct agentbatch_ticket *t = b->tickets;
		b->tickets = t->next;
		free(t);
	}
	if (b->password != NULL) {
		sodium_memzero(b->password, strlen(b->password));
		free(b->password);
	}
	free(b->buf);
	free(b);
}
