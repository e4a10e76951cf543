/* workorder.c: the work order's stage table, and loading the work-order
 * config (see workorder.h).
 *
 * The five forward actions are numbered like the stages they leave
 * (sign leaves received, ..., close leaves revisited), so the forward part
 * of the table is "action a takes stage a to stage a + 1"; the others are
 * spelt out in wo_apply. Refusals are sentences for an agent: the action,
 * the stage, and what would work instead.
 *
 * Loading checks every value where it stands, so each error names the
 * file, line, column and key ("deadlines.complaint.reply_days",
 * "platforms[1].url"), and never shows a secret.
 */
#include "workorder.h"
#include "readfile.h"
#include "yamldoc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define WO_WHAT "work orders file"
#define WO_FIELD_MAX 64   /* "deadlines.ivr_self_service.urgent_hours" */
#define WO_SECRET_MAX 256 /* characters of a platform's secret */
#define WO_URL_MAX 512    /* characters of a platform's URL */
#define WO_YELLOW_DEFAULT 24
#define WO_YELLOW_MAX 720 /* 30 days */
#define WO_SIGN_DAYS_MAX 30
#define WO_REPLY_DAYS_MAX 365
#define WO_URGENT_HOURS_MAX 720

static const int64_t wo_usec_per_hour = 3600LL * 1000000LL;

static const char *const wo_stage_names[WO_STAGE_COUNT] = {
	"received", "signed", "in_progress", "replied", "revisited", "closed", "returned",
};

static const char *const wo_action_names[WO_ACTION_COUNT] = {
	"sign", "start", "reply", "revisit", "close", "return", "extend", "assign",
};

/* The action as a verb taking "an order" ("reply to an order"). */
static const char *const wo_action_verbs[WO_ACTION_COUNT] = {
	"sign", "start", "reply to", "revisit", "close", "return", "extend", "assign",
};

/* What a forward action has done to an order ("it was replied to already"). */
static const char *const wo_forward_done[] = {"signed", "started", "replied to", "revisited",
					      "closed"};

/* The platforms an order may come from (the SQL schema allows these two). */
static const char *const wo_platform_names[WO_PLATFORM_MAX] = {"city_12345", "province_12345"};

_Static_assert(WO_SIGN == (int)WO_RECEIVED && WO_START == (int)WO_SIGNED &&
		       WO_REPLY == (int)WO_IN_PROGRESS && WO_REVISIT == (int)WO_REPLIED &&
		       WO_CLOSE == (int)WO_REVISITED && WO_CLOSE + 1 == (int)WO_CLOSED,
	       "forward action a leaves stage a");

/* The index of name among n names, or -1. */
static int wo_name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return i;
	}
	return -1;
}

const char *wo_stage_name(enum wo_stage s)
{
	return (unsigned)s < WO_STAGE_COUNT ? wo_stage_names[s] : "unknown";
}

int wo_stage_from_name(const char *name, enum wo_stage *out)
{
	int i = wo_name_index(wo_stage_names, WO_STAGE_COUNT, name);
	if (i < 0)
		return -1;
	*out = (enum wo_stage)i;
	return 0;
}

const char *wo_action_name(enum wo_action a)
{
	return (unsigned)a < WO_ACTION_COUNT ? wo_action_names[a] : "unknown";
}

int wo_action_from_name(const char *name, enum wo_action *out)
{
	int i = wo_name_index(wo_action_names, WO_ACTION_COUNT, name);
	if (i < 0)
		return -1;
	*out = (enum wo_action)i;
	return 0;
}

bool wo_platform_must_learn(enum wo_action a)
{
	switch (a) {
	case WO_SIGN:
	case WO_REPLY:
	case WO_RETURN:
	case WO_EXTEND:
	case WO_REVISIT:
	case WO_CLOSE:
		return true;
	case WO_START:
	case WO_ASSIGN:
	case WO_ACTION_COUNT:
		break;
	}
	return false;
}

/* Writes the forward actions that take stage from to stage until, as the
 * start of a hint: "sign and start it", "reply and revisit it". */
static void wo_steps_before(enum wo_stage from, enum wo_stage until, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (int a = (int)from; a < (int)until && used < len; a++) {
		bool last = a + 1 == (int)until;
		const char *sep = a == (int)from ? "" : last ? " and " : ", ";
		/* Only the verb right before "it" keeps its preposition. */
		const char *verb = last ? wo_action_verbs[a] : wo_action_names[a];
		int n = snprintf(out + used, len - used, "%s%s", sep, verb);
		used += n > 0 ? (size_t)n : 0;
	}
	if (used < len)
		snprintf(out + used, len - used, " it");
}

/* Explains why action a is illegal in stage from, a legal action being
 * ruled out before. */
static void wo_explain_refusal(enum wo_stage from, enum wo_action a, char *err, size_t err_len)
{
	const char *verb = wo_action_verbs[a];
	const char *stage = wo_stage_names[from];
	char steps[96];

	if (from == WO_CLOSED) {
		snprintf(err, err_len, "cannot %s an order that is closed; a closed order is final",
			 verb);
	} else if (from == WO_RETURNED) {
		snprintf(err, err_len,
			 "cannot %s an order that is returned; it went back to its platform and "
			 "is final",
			 verb);
	} else if (a <= WO_CLOSE && (int)from < (int)a) {
		wo_steps_before(from, (enum wo_stage)a, steps, sizeof steps);
		snprintf(err, err_len, "cannot %s an order that is %s; %s first", verb, stage,
			 steps);
	} else if (a <= WO_CLOSE) {
		snprintf(err, err_len, "cannot %s an order that is %s; it was %s already", verb,
			 stage, wo_forward_done[a]);
	} else if (a == WO_RETURN) {
		snprintf(err, err_len,
			 "cannot return an order that is %s; it was replied to already, and only "
			 "a received, signed or in_progress order can go back to its platform",
			 stage);
	} else if (a == WO_EXTEND && from == WO_RECEIVED) {
		snprintf(err, err_len, "cannot extend an order that is received; sign it first");
	} else {
		snprintf(err, err_len,
			 "cannot extend an order that is %s; it was replied to already, so no "
			 "deadline is left to extend",
			 stage);
	}
}

int wo_apply(enum wo_stage from, enum wo_action a, enum wo_stage *to, char *err, size_t err_len)
{
	bool open = from != WO_CLOSED && from != WO_RETURNED;
	bool legal;
	enum wo_stage next = from;

	if ((unsigned)from >= WO_STAGE_COUNT || (unsigned)a >= WO_ACTION_COUNT) {
		snprintf(err, err_len, "unknown stage %d or action %d", (int)from, (int)a);
		return -EINVAL;
	}
	switch (a) {
	case WO_SIGN:
	case WO_START:
	case WO_REPLY:
	case WO_REVISIT:
	case WO_CLOSE:
		legal = (int)from == (int)a;
		next = (enum wo_stage)(a + 1);
		break;
	case WO_RETURN:
		legal = from == WO_RECEIVED || from == WO_SIGNED || from == WO_IN_PROGRESS;
		next = WO_RETURNED;
		break;
	case WO_EXTEND:
		legal = from == WO_SIGNED || from == WO_IN_PROGRESS;
		break;
	case WO_ASSIGN:
	default:
		legal = open;
		break;
	}
	if (!legal) {
		wo_explain_refusal(from, a, err, err_len);
		return -EPERM;
	}
	*to = next;
	return 0;
}

/* ---- the config ------------------------------------------------------------ */

void wo_config_free(struct wo_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_platforms; i++) {
		struct wo_platform *p = &c->platforms[i];
		free(p->name);
		free(p->secret);
		free(p->url);
	}
	workcal_free(c->calendar);
	free(c->calendar_file);
	free(c->path);
	free(c);
}

const struct wo_platform *wo_platform_find(const struct wo_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_platforms; i++) {
		if (strcmp(c->platforms[i].name, name) == 0)
			return &c->platforms[i];
	}
	return NULL;
}

int wo_deadlines(const struct wo_config *c, enum category cat, bool urgent, int64_t received_at,
		 int64_t *sign_due, int64_t *reply_due)
{
	int64_t sign, reply;
	int rc;

	if ((unsigned)cat >= CATEGORY_COUNT)
		return -EINVAL;
	const struct wo_deadline *d = &c->deadlines[cat];
	if (urgent) {
		sign = workcal_add_hours(received_at, WO_URGENT_SIGN_HOURS);
		reply = workcal_add_hours(received_at, d->urgent_hours);
	} else if ((rc = workcal_add_working_days(c->calendar, received_at, d->sign_days, &sign)) !=
			   0 ||
		   (rc = workcal_add_working_days(c->calendar, received_at, d->reply_days,
						  &reply)) != 0) {
		return rc;
	}
	*sign_due = sign;
	*reply_due = reply;
	return 0;
}

int64_t wo_yellow_usec(const struct wo_config *c)
{
	return (int64_t)c->yellow_hours * wo_usec_per_hour;
}

enum workcal_status wo_status(const struct wo_config *c, int64_t due, int64_t now)
{
	return workcal_status(due, now, wo_yellow_usec(c));
}

/* ---- loading ---------------------------------------------------------------- */

/* Writes the path of a child field ("platforms[1]" + "url"). */
static void wo_field(char out[WO_FIELD_MAX], const char *parent, const char *child)
{
	snprintf(out, WO_FIELD_MAX, "%.40s.%.20s", parent, child);
}

/* Reads node as a single value of 1 to max bytes without NUL into *out (a
 * pointer into the document). */
static int wo_take_text(const struct yamldoc_reader *rd, const yaml_node_t *node, const char *field,
			size_t max, const char **out)
{
	if (yamldoc_expect_scalar(rd, node, field) != 0)
		return -1;
	const char *v = (const char *)node->data.scalar.value;
	size_t len = node->data.scalar.length;
	if (len == 0 || len > max || strlen(v) != len) {
		yamldoc_error(rd, node, field, "must be 1 to %zu characters", max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Why url is not one the outbox can post to, or NULL when it is: plain
 * http://, a host of letters, digits, dots and hyphens, an optional port
 * and an optional path of printable characters. */
static const char *wo_url_problem(const char *url)
{
	if (strncmp(url, "https://", 8) == 0)
		return "the outbox posts plain http only; put a TLS proxy on loopback in front of "
		       "an https platform";
	if (strncmp(url, "http://", 7) != 0)
		return "is not an http:// URL such as http://127.0.0.1:8080/v1/notify";
	const char *host = url + 7;
	size_t host_len = strcspn(host, ":/");
	if (host_len == 0)
		return "has no host after http://";
	for (size_t i = 0; i < host_len; i++) {
		if (!isalnum((unsigned char)host[i]) && host[i] != '.' && host[i] != '-')
			return "has a host with characters other than letters, digits, '.' and '-'";
	}
	const char *p = host + host_len;
	if (*p == ':') {
		size_t digits = strspn(p + 1, "0123456789");
		long port = digits >= 1 && digits <= 5 ? strtol(p + 1, NULL, 10) : 0;
		if (port < 1 || port > 65535 || (p[1 + digits] != '\0' && p[1 + digits] != '/'))
			return "has a port that is not a number from 1 to 65535";
		p += 1 + digits;
	}
	for (; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return "has a space or a character that is not printable ASCII in its path";
	}
	return NULL;
}

static int wo_parse_platform(const struct yamldoc_reader *rd, const yaml_node_t *node, size_t i,
			     struct wo_config *c)
{
	static const char *const keys[] = {"name", "secret", "url", NULL};
	struct wo_platform *p = &c->platforms[i];
	char field[WO_FIELD_MAX], sub[WO_FIELD_MAX];
	const char *name, *secret, *url;
	const yaml_node_t *v;

	snprintf(field, sizeof field, "platforms[%zu]", i);
	if (yamldoc_expect_mapping(rd, node, field,
				   "{name: city_12345, secret: \"...\", url: \"http://...\"}") !=
		    0 ||
	    yamldoc_check_keys(rd, node, field, keys) != 0)
		return -1;

	wo_field(sub, field, "name");
	if ((v = yamldoc_require(rd, node, field, "name")) == NULL ||
	    yamldoc_expect_scalar(rd, v, sub) != 0)
		return -1;
	name = (const char *)v->data.scalar.value;
	if (wo_name_index(wo_platform_names, WO_PLATFORM_MAX, name) < 0) {
		yamldoc_error(rd, v, sub, "'%s' is not a platform; use %s or %s", name,
			      wo_platform_names[0], wo_platform_names[1]);
		return -1;
	}
	for (size_t j = 0; j < i; j++) {
		if (strcmp(c->platforms[j].name, name) == 0) {
			yamldoc_error(rd, v, sub, "'%s' is already platforms[%zu]", name, j);
			return -1;
		}
	}

	wo_field(sub, field, "secret");
	if ((v = yamldoc_require(rd, node, field, "secret")) == NULL ||
	    yamldoc_expect_scalar(rd, v, sub) != 0)
		return -1;
	secret = (const char *)v->data.scalar.value;
	size_t secret_len = v->data.scalar.length;
	if (secret_len < WO_SECRET_MIN || secret_len > WO_SECRET_MAX ||
	    strlen(secret) != secret_len) {
		yamldoc_error(rd, v, sub,
			      "is %zu characters long; it must be %d to %d (e.g. from 'openssl "
			      "rand -hex 32')",
			      secret_len, WO_SECRET_MIN, WO_SECRET_MAX);
		return -1;
	}
	for (size_t j = 0; j < i; j++) {
		if (strcmp(c->platforms[j].secret, secret) == 0) {
			yamldoc_error(
				rd, v, sub,
				"is the same as platforms[%zu].secret; each platform needs its "
				"own, or one could sign as the other",
				j);
			return -1;
		}
	}

	wo_field(sub, field, "url");
	if ((v = yamldoc_require(rd, node, field, "url")) == NULL ||
	    wo_take_text(rd, v, sub, WO_URL_MAX, &url) != 0)
		return -1;
	const char *problem = wo_url_problem(url);
	if (problem != NULL) {
		yamldoc_error(rd, v, sub, "'%s' %s", url, problem);
		return -1;
	}

	/* Counted before the copies, so that wo_config_free frees what is there. */
	c->n_platforms = i + 1;
	if ((p->name = strdup(name)) == NULL || (p->secret = strdup(secret)) == NULL ||
	    (p->url = strdup(url)) == NULL) {
		yamldoc_error(rd, node, field, "out of memory");
		return -1;
	}
	return 0;
}

static int wo_parse_platforms(const struct yamldoc_reader *rd, const yaml_node_t *root,
			      struct wo_config *c)
{
	const yaml_node_t *list = yamldoc_require(rd, root, WO_WHAT, "platforms");

	if (list == NULL ||
	    yamldoc_expect_list(rd, list, "platforms", "[{name: city_12345, ...}]") != 0)
		return -1;
	size_t n = yamldoc_list_length(list);
	if (n == 0 || n > WO_PLATFORM_MAX) {
		yamldoc_error(rd, list, "platforms", "lists %zu platforms; list 1 or 2 (%s, %s)", n,
			      wo_platform_names[0], wo_platform_names[1]);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (wo_parse_platform(rd, yamldoc_list_item(rd, list, i), i, c) != 0)
			return -1;
	}
	return 0;
}

/* Reads one entry of deadlines (name: "default" or a category) into *d.
 * Without fallback every key is required (the default); with it, a key
 * left out keeps the fallback's value. */
static int wo_parse_deadline(const struct yamldoc_reader *rd, const yaml_node_t *node,
			     const char *name, const struct wo_deadline *fallback,
			     struct wo_deadline *d)
{
	static const char *const keys[] = {"sign_days", "reply_days", "urgent_hours", NULL};
	static const struct {
		const char *key;
		int min, max;
		size_t offset;
	} ints[] = {
		{"sign_days", 1, WO_SIGN_DAYS_MAX, offsetof(struct wo_deadline, sign_days)},
		{"reply_days", 1, WO_REPLY_DAYS_MAX, offsetof(struct wo_deadline, reply_days)},
		{"urgent_hours", WO_URGENT_SIGN_HOURS, WO_URGENT_HOURS_MAX,
		 offsetof(struct wo_deadline, urgent_hours)},
	};
	char field[WO_FIELD_MAX], sub[WO_FIELD_MAX];
	const yaml_node_t *v;

	snprintf(field, sizeof field, "deadlines.%s", name);
	if (yamldoc_expect_mapping(rd, node, field,
				   "{sign_days: 1, reply_days: 5, urgent_hours: 24}") != 0 ||
	    yamldoc_check_keys(rd, node, field, keys) != 0)
		return -1;
	if (fallback != NULL)
		*d = *fallback;
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		wo_field(sub, field, ints[i].key);
		v = fallback == NULL ? yamldoc_require(rd, node, field, ints[i].key) :
				       yamldoc_get(rd, node, ints[i].key);
		if (v == NULL && fallback == NULL)
			return -1;
		if (v != NULL && yamldoc_take_int(rd, v, sub, ints[i].min, ints[i].max,
						  (int *)((char *)d + ints[i].offset)) != 0)
			return -1;
	}
	if (d->reply_days < d->sign_days) {
		/* At the value given here, or at the entry when both came from the default. */
		const char *key = yamldoc_get(rd, node, "reply_days") != NULL ? "reply_days" :
										"sign_days";
		v = yamldoc_get(rd, node, key);
		wo_field(sub, field, key);
		yamldoc_error(rd, v != NULL ? v : node, v != NULL ? sub : field,
			      "reply_days (%d) is less than sign_days (%d); an order is signed "
			      "before it is replied to",
			      d->reply_days, d->sign_days);
		return -1;
	}
	return 0;
}

/* Reads deadlines: default, required, then each category listed; the
 * categories not listed take the default. */
static int wo_parse_deadlines(const struct yamldoc_reader *rd, const yaml_node_t *root,
			      struct wo_config *c)
{
	const char *keys[CATEGORY_COUNT + 2];
	const yaml_node_t *map = yamldoc_require(rd, root, WO_WHAT, "deadlines");
	struct wo_deadline fallback;

	keys[0] = "default";
	for (int i = 0; i < CATEGORY_COUNT; i++)
		keys[i + 1] = category_name((enum category)i);
	keys[CATEGORY_COUNT + 1] = NULL;
	if (map == NULL ||
	    yamldoc_expect_mapping(rd, map, "deadlines",
				   "{default: {sign_days: 1, reply_days: 5, urgent_hours: 24}}") !=
		    0 ||
	    yamldoc_check_keys(rd, map, "deadlines", keys) != 0)
		return -1;
	const yaml_node_t *v = yamldoc_require(rd, map, "deadlines", "default");
	if (v == NULL || wo_parse_deadline(rd, v, "default", NULL, &fallback) != 0)
		return -1;
	for (int i = 0; i < CATEGORY_COUNT; i++) {
		c->deadlines[i] = fallback;
		v = yamldoc_get(rd, map, keys[i + 1]);
		if (v != NULL &&
		    wo_parse_deadline(rd, v, keys[i + 1], &fallback, &c->deadlines[i]) != 0)
			return -1;
	}
	return 0;
}

/* Reads calendar_file, resolves it beside the file and loads it. */
static int wo_parse_calendar(const struct yamldoc_reader *rd, const yaml_node_t *root,
			     struct wo_config *c)
{
	const yaml_node_t *v = yamldoc_require(rd, root, WO_WHAT, "calendar_file");
	const char *name;
	char cal_err[512];

	if (v == NULL || wo_take_text(rd, v, "calendar_file", PATH_MAX, &name) != 0)
		return -1;
	if ((c->calendar_file = readfile_path_beside(c->path, name)) == NULL) {
		yamldoc_error(rd, v, "calendar_file", "out of memory");
		return -1;
	}
	if (workcal_load_file(c->calendar_file, &c->calendar, cal_err, sizeof cal_err) != 0) {
		yamldoc_error(rd, v, "calendar_file", "%s", cal_err);
		return -1;
	}
	return 0;
}

static int wo_parse_root(const struct yamldoc_reader *rd, const yaml_node_t *root,
			 struct wo_config *c)
{
	static const char *const keys[] = {"calendar_file", "yellow_hours", "platforms",
					   "deadlines", NULL};
	const yaml_node_t *v;

	if (yamldoc_expect_mapping(rd, root, WO_WHAT,
				   "{calendar_file: ..., platforms: [...], deadlines: {...}}") !=
		    0 ||
	    yamldoc_check_keys(rd, root, WO_WHAT, keys) != 0)
		return -1;
	c->yellow_hours = WO_YELLOW_DEFAULT;
	if ((v = yamldoc_get(rd, root, "yellow_hours")) != NULL &&
	    yamldoc_take_int(rd, v, "yellow_hours", 0, WO_YELLOW_MAX, &c->yellow_hours) != 0)
		return -1;
	if (wo_parse_calendar(rd, root, c) != 0 || wo_parse_platforms(rd, root, c) != 0 ||
	    wo_parse_deadlines(rd, root, c) != 0)
		return -1;
	return 0;
}

int wo_config_load_file(const char *path, struct wo_config **out, char *err, size_t err_len)
{
	struct yamldoc_reader rd = {.name = path, .err = err, .err_len = err_len};
	struct wo_config *c = NULL;
	yaml_document_t doc;
	int rc = -1;

	*out = NULL;
	if (err_len > 0)
		err[0] = '\0';
	if (yamldoc_load_file(path, WO_WHAT, &doc, err, err_len) != 0)
		return -1;
	rd.doc = &doc;

	const yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		snprintf(err, err_len,
			 "%s:1:1: %s: is empty; it needs 'calendar_file', 'platforms' and "
			 "'deadlines'",
			 path, WO_WHAT);
		goto out;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL || (c->path = strdup(path)) == NULL) {
		snprintf(err, err_len, "%s: out of memory", path);
		goto out;
	}
	if (wo_parse_root(&rd, root, c) != 0)
		goto out;

	*out = c;
	c = NULL;
	rc = 0;
out:
	wo_config_free(c);
	yaml_document_delete(&doc);
	return rc;
}
