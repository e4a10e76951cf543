/* queues.c: loading the call distributor's queue file (see queues.h).
 *
 * Every value is checked where it stands, so each error names the file,
 * line, column and field ("queues[2].overflow_queue"; queues count from 0).
 * The rules that tie fields together are checked here too, with the
 * position of the value to change; acd_new then checks the result once
 * more, so a file that loads is one the core accepts.
 *
 * The names the acd_config points to live in fixed buffers of one
 * allocation per kind, so freeing never has to cast a const pointer.
 */
#include "queues.h"
#include "yamldoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define QUEUES_WHAT "queues file"
#define QUEUES_FIELD_MAX 64 /* "queues[N].callback_on_abandon" */
#define QUEUES_PRIORITY_MAX 9
#define QUEUES_REASONS_MAX 32
#define QUEUES_NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_"
/* The classifier's queue alphabet (classifier.c), so every queue a rule
 * names can be defined here. */
#define QUEUES_QUEUE_CHARS QUEUES_NAME_CHARS "-"

typedef char queues_name[ACD_NAME_MAX + 1];
_Static_assert(ACD_NAME_MAX <= ACD_REASON_MAX, "a reason is read as a name");

/* What one queue's config points to. */
struct queues_names {
	queues_name name;
	queues_name skill;
	queues_name language;
	queues_name overflow_queue;
};

/* The public struct and the storage its acd_config points into. */
struct queues_storage {
	struct queues_file file; /* first: queues_free converts back */
	struct acd_queue_config *queues;
	struct queues_names *queue_names;
	queues_name *language_names;
	const char **languages;
};

/* An integer key: its range and its default when left out. */
struct queues_int_key {
	const char *key;
	int min, max, fallback;
};

static const struct queues_int_key queues_position_updates = {"position_updates", 0,
							      ACD_POSITION_UPDATES_MAX, 5};
static const struct queues_int_key queues_handle_time = {"handle_time_initial_s", 1, 86400, 180};
static const struct queues_int_key queues_crisis_memory = {"crisis_memory_days", 1, 365, 30};
static const struct queues_int_key queues_history_days = {"history_days", 1, 3650, 90};
static const struct queues_int_key queues_history_max = {"history_max", 1, 200, 20};
static const struct queues_int_key queues_priority = {"priority", 0, QUEUES_PRIORITY_MAX, 5};
static const struct queues_int_key queues_ring_timeout = {"ring_timeout_s", 1, 600, 20};
static const struct queues_int_key queues_wrap_up = {"wrap_up_s", 0, 3600, 30};
static const struct queues_int_key queues_max_wait = {"max_wait_s", 0, 86400, 0};
static const struct queues_int_key queues_max_misses = {"max_misses", 1, 100, 2};

void queues_free(struct queues_file *q)
{
	if (q == NULL)
		return;
	struct queues_storage *st = (struct queues_storage *)q;
	for (size_t i = 0; i < q->n_reasons; i++)
		free(q->reasons[i]);
	free(q->reasons);
	free(q->crisis_queue);
	free(q->default_queue);
	free(q->path);
	free(st->queues);
	free(st->queue_names);
	free(st->language_names);
	free(st->languages);
	free(st);
}

bool queues_has_reason(const struct queues_file *q, const char *reason)
{
	for (size_t i = 0; i < q->n_reasons; i++) {
		if (strcmp(q->reasons[i], reason) == 0)
			return true;
	}
	return false;
}

const struct acd_queue_config *queues_find(const struct queues_file *q, const char *name)
{
	for (size_t i = 0; i < q->acd.n_queues; i++) {
		if (strcmp(q->acd.queues[i].name, name) == 0)
			return &q->acd.queues[i];
	}
	return NULL;
}

/* Writes the path of a child field ("queues[3]" + "skill"). */
static void queues_field(char out[QUEUES_FIELD_MAX], const char *parent, const char *child)
{
	snprintf(out, QUEUES_FIELD_MAX, "%.24s.%.32s", parent, child);
}

/* Reads the integer key k of map into *out, or its default when absent.
 * Only plain whole numbers are accepted ("20", not "20.0" or "\"20\""). */
static int queues_take_int(const struct yamldoc_reader *rd, const yaml_node_t *map,
			   const char *parent, const struct queues_int_key *k, int *out)
{
	char field[QUEUES_FIELD_MAX];
	const yaml_node_t *node = yamldoc_get(rd, map, k->key);

	*out = k->fallback;
	if (node == NULL)
		return 0;
	if (parent != NULL)
		queues_field(field, parent, k->key);
	else
		snprintf(field, sizeof field, "%s", k->key);
	return yamldoc_take_int(rd, node, field, k->min, k->max, out);
}

/* Reads the boolean key of map into *out; false when absent. */
static int queues_take_bool(const struct yamldoc_reader *rd, const yaml_node_t *map,
			    const char *parent, const char *key, bool *out)
{
	char field[QUEUES_FIELD_MAX];
	const yaml_node_t *node = yamldoc_get(rd, map, key);

	*out = false;
	if (node == NULL)
		return 0;
	queues_field(field, parent, key);
	if (yamldoc_expect_scalar(rd, node, field) != 0)
		return -1;
	const char *v = (const char *)node->data.scalar.value;
	if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)) {
		*out = v[0] == 't';
		return 0;
	}
	yamldoc_error(rd, node, field, "expected true or false, found '%s'", v);
	return -1;
}

/* Copies a name of 1 to ACD_NAME_MAX characters of chars into out; "" too
 * when empty_ok. what describes a good name in the message. */
static int queues_take_name(const struct yamldoc_reader *rd, const yaml_node_t *node,
			    const char *field, const char *chars, bool empty_ok, const char *what,
			    queues_name out)
{
	if (yamldoc_expect_scalar(rd, node, field) != 0)
		return -1;
	const char *v = (const char *)node->data.scalar.value;
	size_t len = node->data.scalar.length;
	if ((len == 0 && !empty_ok) || len > ACD_NAME_MAX || strlen(v) != len ||
	    strspn(v, chars) != len) {
		yamldoc_error(rd, node, field, "'%s' is not %s", v, what);
		return -1;
	}
	memcpy(out, v, len + 1);
	return 0;
}

static int queues_take_plain_name(const struct yamldoc_reader *rd, const yaml_node_t *node,
				  const char *field, bool empty_ok, queues_name out)
{
	return queues_take_name(rd, node, field, QUEUES_NAME_CHARS, empty_ok,
				"a name of 1 to 32 characters a-z, 0-9 or '_'", out);
}

static int queues_take_queue_name(const struct yamldoc_reader *rd, const yaml_node_t *node,
				  const char *field, queues_name out)
{
	return queues_take_name(rd, node, field, QUEUES_QUEUE_CHARS, false,
				"a queue name of 1 to 32 characters a-z, 0-9, '_' or '-'", out);
}

/* Reports v as not one of the n names, listing them. */
static int queues_refuse_choice(const struct yamldoc_reader *rd, const yaml_node_t *node,
				const char *field, const char *what, const char *const *names,
				int n)
{
	char list[256] = "";

	for (int i = 0; i < n; i++) {
		size_t used = strlen(list);
		snprintf(list + used, sizeof list - used, "%s%s",
			 i == 0    ? "" :
			 i + 1 < n ? ", " :
				     " or ",
			 names[i]);
	}
	yamldoc_error(rd, node, field, "'%s' is not %s; use %s",
		      node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : "",
		      what, list);
	return -1;
}

static int queues_take_strategy(const struct yamldoc_reader *rd, const yaml_node_t *node,
				const char *field, enum acd_strategy *out)
{
	const char *names[ACD_STRATEGY_COUNT];

	if (yamldoc_expect_scalar(rd, node, field) != 0)
		return -1;
	if (acd_strategy_from_name((const char *)node->data.scalar.value, out) == 0)
		return 0;
	for (int i = 0; i < ACD_STRATEGY_COUNT; i++)
		names[i] = acd_strategy_name((enum acd_strategy)i);
	return queues_refuse_choice(rd, node, field, "a strategy", names, ACD_STRATEGY_COUNT);
}

static int queues_take_overflow(const struct yamldoc_reader *rd, const yaml_node_t *node,
				const char *field, enum acd_overflow *out)
{
	const char *names[ACD_OVERFLOW_COUNT];

	if (yamldoc_expect_scalar(rd, node, field) != 0)
		return -1;
	if (acd_overflow_from_name((const char *)node->data.scalar.value, out) == 0)
		return 0;
	for (int i = 0; i < ACD_OVERFLOW_COUNT; i++)
		names[i] = acd_overflow_name((enum acd_overflow)i);
	return queues_refuse_choice(rd, node, field, "an overflow", names, ACD_OVERFLOW_COUNT);
}

/* Reads a list of plain names (languages, reasons) into names[], refusing
 * repeats and more than max. Returns the count, or -1. */
static int queues_take_name_list(const struct yamldoc_reader *rd, const yaml_node_t *list,
				 const char *key, size_t max, queues_name *names)
{
	char field[QUEUES_FIELD_MAX];

	if (yamldoc_expect_list(rd, list, key, "[a, b]") != 0)
		return -1;
	size_t n = yamldoc_list_length(list);
	if (n > max) {
		yamldoc_error(rd, list, key, "lists %zu names; at most %zu are allowed", n, max);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const yaml_node_t *item = yamldoc_list_item(rd, list, i);
		snprintf(field, sizeof field, "%s[%zu]", key, i);
		if (queues_take_plain_name(rd, item, field, false, names[i]) != 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(names[j], names[i]) == 0) {
				yamldoc_error(rd, item, field, "'%s' is already %s[%zu]", names[i],
					      key, j);
				return -1;
			}
		}
	}
	return (int)n;
}

static int queues_parse_languages(const struct yamldoc_reader *rd, const yaml_node_t *root,
				  struct queues_storage *st)
{
	const yaml_node_t *list = yamldoc_get(rd, root, "languages");

	if (list == NULL)
		return 0;
	size_t n = list->type == YAML_SEQUENCE_NODE ? yamldoc_list_length(list) : 0;
	st->language_names = calloc(n + 1, sizeof *st->language_names);
	st->languages = calloc(n + 1, sizeof *st->languages);
	if (st->language_names == NULL || st->languages == NULL) {
		yamldoc_error(rd, list, "languages", "out of memory");
		return -1;
	}
	int got =
		queues_take_name_list(rd, list, "languages", ACD_LANGUAGES_MAX, st->language_names);
	if (got < 0)
		return -1;
	for (int i = 0; i < got; i++)
		st->languages[i] = st->language_names[i];
	st->file.acd.languages = st->languages;
	st->file.acd.n_languages = (size_t)got;
	return 0;
}

/* Reads not_ready_reasons and adds the two reasons the core sets itself. */
static int queues_parse_reasons(const struct yamldoc_reader *rd, const yaml_node_t *root,
				struct queues_file *q)
{
	static const char *const own[] = {QUEUES_REASON_LOGIN, QUEUES_REASON_NO_ANSWER};
	const yaml_node_t *list = yamldoc_get(rd, root, "not_ready_reasons");
	queues_name names[QUEUES_REASONS_MAX];
	int n = 0;

	if (list != NULL && (n = queues_take_name_list(rd, list, "not_ready_reasons",
						       QUEUES_REASONS_MAX, names)) < 0)
		return -1;
	q->reasons = calloc((size_t)n + 2, sizeof *q->reasons);
	if (q->reasons == NULL)
		goto oom;
	for (int i = 0; i < n; i++) {
		if ((q->reasons[q->n_reasons] = strdup(names[i])) == NULL)
			goto oom;
		q->n_reasons++;
	}
	for (size_t i = 0; i < 2; i++) {
		if (queues_has_reason(q, own[i]))
			continue;
		if ((q->reasons[q->n_reasons] = strdup(own[i])) == NULL)
			goto oom;
		q->n_reasons++;
	}
	return 0;
oom:
	yamldoc_error(rd, root, QUEUES_WHAT, "out of memory");
	return -1;
}

/* Refuses what a queue's own fields cannot hold together: a crisis queue
 * that overflows, a max wait without an overflow or the other way round,
 * and an overflow_queue without overflow: queue. */
static int queues_check_overflow(const struct yamldoc_reader *rd, const yaml_node_t *node,
				 const char *field, const struct acd_queue_config *qc)
{
	char sub[QUEUES_FIELD_MAX];
	const yaml_node_t *max_wait = yamldoc_get(rd, node, "max_wait_s");
	const yaml_node_t *overflow = yamldoc_get(rd, node, "overflow");
	const yaml_node_t *target = yamldoc_get(rd, node, "overflow_queue");

	if (qc->crisis && qc->overflow != ACD_OVERFLOW_NONE) {
		queues_field(sub, field, "overflow");
		yamldoc_error(rd, overflow, sub,
			      "a crisis queue never overflows: its callers wait for an agent; "
			      "use none or remove it");
		return -1;
	}
	if (qc->crisis && qc->max_wait_s > 0) {
		queues_field(sub, field, "max_wait_s");
		yamldoc_error(rd, max_wait, sub,
			      "a crisis queue has no max wait: its callers wait for an agent; "
			      "use 0 or remove it");
		return -1;
	}
	if (qc->max_wait_s > 0 && qc->overflow == ACD_OVERFLOW_NONE) {
		queues_field(sub, field, "max_wait_s");
		yamldoc_error(rd, max_wait, sub,
			      "needs an overflow (queue, callback or ivr) saying where a call goes "
			      "after waiting %d s",
			      qc->max_wait_s);
		return -1;
	}
	if (qc->max_wait_s == 0 && qc->overflow != ACD_OVERFLOW_NONE) {
		queues_field(sub, field, "overflow");
		yamldoc_error(rd, overflow, sub,
			      "needs max_wait_s above 0 saying how long a call waits before it "
			      "overflows");
		return -1;
	}
	if (qc->overflow == ACD_OVERFLOW_QUEUE && qc->overflow_queue == NULL) {
		queues_field(sub, field, "overflow");
		yamldoc_error(rd, overflow, sub, "overflow: queue needs overflow_queue");
		return -1;
	}
	if (qc->overflow != ACD_OVERFLOW_QUEUE && target != NULL) {
		queues_field(sub, field, "overflow_queue");
		yamldoc_error(rd, target, sub, "is only used with overflow: queue");
		return -1;
	}
	if (qc->overflow_queue != NULL && strcmp(qc->overflow_queue, qc->name) == 0) {
		queues_field(sub, field, "overflow_queue");
		yamldoc_error(rd, target, sub, "'%s' is this queue; name another one", qc->name);
		return -1;
	}
	return 0;
}

static int queues_parse_queue(const struct yamldoc_reader *rd, const yaml_node_t *node, size_t i,
			      struct queues_storage *st)
{
	static const char *const keys[] = {"name",
					   "priority",
					   "strategy",
					   "skill",
					   "language",
					   "crisis",
					   "ring_timeout_s",
					   "wrap_up_s",
					   "max_wait_s",
					   "overflow",
					   "overflow_queue",
					   "max_misses",
					   "callback_on_abandon",
					   NULL};
	struct acd_queue_config *qc = &st->queues[i];
	struct queues_names *names = &st->queue_names[i];
	char field[QUEUES_FIELD_MAX], sub[QUEUES_FIELD_MAX];
	const yaml_node_t *v;

	snprintf(field, sizeof field, "queues[%zu]", i);
	if (yamldoc_expect_mapping(rd, node, field, "{name: general, skill: general}") != 0 ||
	    yamldoc_check_keys(rd, node, field, keys) != 0)
		return -1;

	queues_field(sub, field, "name");
	if ((v = yamldoc_require(rd, node, field, "name")) == NULL ||
	    queues_take_queue_name(rd, v, sub, names->name) != 0)
		return -1;
	qc->name = names->name;
	for (size_t j = 0; j < i; j++) {
		if (strcmp(st->queues[j].name, qc->name) == 0) {
			yamldoc_error(rd, v, sub, "'%s' is already the name of queues[%zu]",
				      qc->name, j);
			return -1;
		}
	}

	queues_field(sub, field, "skill");
	if ((v = yamldoc_require(rd, node, field, "skill")) == NULL ||
	    queues_take_plain_name(rd, v, sub, false, names->skill) != 0)
		return -1;
	qc->skill = names->skill;

	if ((v = yamldoc_get(rd, node, "language")) != NULL) {
		queues_field(sub, field, "language");
		if (queues_take_plain_name(rd, v, sub, true, names->language) != 0)
			return -1;
		if (names->language[0] != '\0')
			qc->language = names->language;
	}

	qc->strategy = ACD_STRATEGY_LONGEST_IDLE;
	if ((v = yamldoc_get(rd, node, "strategy")) != NULL) {
		queues_field(sub, field, "strategy");
		if (queues_take_strategy(rd, v, sub, &qc->strategy) != 0)
			return -1;
	}
	qc->overflow = ACD_OVERFLOW_NONE;
	if ((v = yamldoc_get(rd, node, "overflow")) != NULL) {
		queues_field(sub, field, "overflow");
		if (queues_take_overflow(rd, v, sub, &qc->overflow) != 0)
			return -1;
	}
	if ((v = yamldoc_get(rd, node, "overflow_queue")) != NULL) {
		queues_field(sub, field, "overflow_queue");
		if (queues_take_queue_name(rd, v, sub, names->overflow_queue) != 0)
			return -1;
		qc->overflow_queue = names->overflow_queue;
	}

	if (queues_take_int(rd, node, field, &queues_priority, &qc->priority) != 0 ||
	    queues_take_int(rd, node, field, &queues_ring_timeout, &qc->ring_timeout_s) != 0 ||
	    queues_take_int(rd, node, field, &queues_wrap_up, &qc->wrap_up_s) != 0 ||
	    queues_take_int(rd, node, field, &queues_max_wait, &qc->max_wait_s) != 0 ||
	    queues_take_int(rd, node, field, &queues_max_misses, &qc->max_misses) != 0 ||
	    queues_take_bool(rd, node, field, "crisis", &qc->crisis) != 0 ||
	    queues_take_bool(rd, node, field, "callback_on_abandon", &qc->callback_on_abandon) != 0)
		return -1;
	return queues_check_overflow(rd, node, field, qc);
}

static int queues_parse_queues(const struct yamldoc_reader *rd, const yaml_node_t *root,
			       struct queues_storage *st)
{
	const yaml_node_t *list = yamldoc_require(rd, root, QUEUES_WHAT, "queues");

	if (list == NULL || yamldoc_expect_list(rd, list, "queues", "[{name: general, ...}]") != 0)
		return -1;
	size_t n = yamldoc_list_length(list);
	if (n == 0) {
		yamldoc_error(rd, list, "queues", "at least one queue is required");
		return -1;
	}
	st->queues = calloc(n, sizeof *st->queues);
	st->queue_names = calloc(n, sizeof *st->queue_names);
	if (st->queues == NULL || st->queue_names == NULL) {
		yamldoc_error(rd, list, "queues", "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (queues_parse_queue(rd, yamldoc_list_item(rd, list, i), i, st) != 0)
			return -1;
	}
	st->file.acd.queues = st->queues;
	st->file.acd.n_queues = n;

	/* Overflow targets, now that every queue is known. */
	for (size_t i = 0; i < n; i++) {
		const char *target = st->queues[i].overflow_queue;
		if (target == NULL || queues_find(&st->file, target) != NULL)
			continue;
		char field[QUEUES_FIELD_MAX];
		snprintf(field, sizeof field, "queues[%zu].overflow_queue", i);
		yamldoc_error(rd, yamldoc_get(rd, yamldoc_list_item(rd, list, i), "overflow_queue"),
			      field, "'%s' is not a queue of this file", target);
		return -1;
	}
	return 0;
}

/* Reads the queue named by key (crisis_queue, default_queue), which must be
 * one of the file's queues, and a crisis queue when crisis is set. */
static int queues_take_queue_ref(const struct yamldoc_reader *rd, const yaml_node_t *root,
				 const char *key, bool crisis, const struct queues_file *q,
				 char **out)
{
	queues_name name;
	const yaml_node_t *v = yamldoc_require(rd, root, QUEUES_WHAT, key);

	if (v == NULL || queues_take_queue_name(rd, v, key, name) != 0)
		return -1;
	const struct acd_queue_config *qc = queues_find(q, name);
	if (qc == NULL) {
		yamldoc_error(rd, v, key, "'%s' is not a queue of this file", name);
		return -1;
	}
	if (crisis && !qc->crisis) {
		yamldoc_error(rd, v, key,
			      "'%s' is not a crisis queue; give it crisis: true or name one that "
			      "is",
			      name);
		return -1;
	}
	if ((*out = strdup(name)) == NULL) {
		yamldoc_error(rd, v, key, "out of memory");
		return -1;
	}
	return 0;
}

/* Builds a core from the result, as the broker will, and reports what the
 * core refuses at the queue or key its sentence names. */
static int queues_check_with_core(const struct yamldoc_reader *rd, const yaml_node_t *root,
				  const struct queues_file *q)
{
	static const char *const keys[] = {"languages", "position_updates", "handle_time_initial_s",
					   "queues", NULL};
	struct acd_config cfg = q->acd;
	struct acd *core = NULL;
	char sentence[256];

	cfg.centre = "check";
	if (acd_new(&cfg, &core, sentence, sizeof sentence) == 0) {
		acd_free(core);
		return 0;
	}
	const yaml_node_t *at = root;
	const char *field = QUEUES_WHAT;
	char queue_field[QUEUES_FIELD_MAX];
	const yaml_node_t *list = yamldoc_get(rd, root, "queues");
	for (size_t i = 0; i < q->acd.n_queues; i++) {
		size_t len = strlen(q->acd.queues[i].name);
		if (strncmp(sentence, "queue ", 6) == 0 &&
		    strncmp(sentence + 6, q->acd.queues[i].name, len) == 0 &&
		    sentence[6 + len] == ':') {
			snprintf(queue_field, sizeof queue_field, "queues[%zu]", i);
			at = yamldoc_list_item(rd, list, i);
			field = queue_field;
		}
	}
	for (const char *const *k = keys; *k && at == root; k++) {
		size_t len = strlen(*k);
		const yaml_node_t *v = yamldoc_get(rd, root, *k);
		if (v != NULL && strncmp(sentence, *k, len) == 0 &&
		    (sentence[len] == ' ' || sentence[len] == ':')) {
			at = v;
			field = *k;
		}
	}
	yamldoc_error(rd, at, field, "%s", sentence);
	return -1;
}

static int queues_parse_root(const struct yamldoc_reader *rd, const yaml_node_t *root,
			     struct queues_storage *st)
{
	static const char *const keys[] = {"position_updates",
					   "handle_time_initial_s",
					   "languages",
					   "crisis_queue",
					   "default_queue",
					   "crisis_memory_days",
					   "history_days",
					   "history_max",
					   "not_ready_reasons",
					   "queues",
					   NULL};
	struct queues_file *q = &st->file;

	if (yamldoc_expect_mapping(rd, root, QUEUES_WHAT,
				   "{crisis_queue: ..., default_queue: ..., queues: [...]}") != 0 ||
	    yamldoc_check_keys(rd, root, QUEUES_WHAT, keys) != 0)
		return -1;
	if (queues_take_int(rd, root, NULL, &queues_position_updates, &q->acd.position_updates) !=
		    0 ||
	    queues_take_int(rd, root, NULL, &queues_handle_time, &q->acd.handle_time_initial_s) !=
		    0 ||
	    queues_take_int(rd, root, NULL, &queues_crisis_memory, &q->crisis_memory_days) != 0 ||
	    queues_take_int(rd, root, NULL, &queues_history_days, &q->history_days) != 0 ||
	    queues_take_int(rd, root, NULL, &queues_history_max, &q->history_max) != 0)
		return -1;
	if (queues_parse_languages(rd, root, st) != 0 || queues_parse_reasons(rd, root, q) != 0 ||
	    queues_parse_queues(rd, root, st) != 0)
		return -1;
	if (queues_take_queue_ref(rd, root, "crisis_queue", true, q, &q->crisis_queue) != 0 ||
	    queues_take_queue_ref(rd, root, "default_queue", false, q, &q->default_queue) != 0)
		return -1;
	return queues_check_with_core(rd, root, q);
}

int queues_load_file(const char *path, struct queues_file **out, char *err, size_t err_len)
{
	struct yamldoc_reader rd = {.name = path, .err = err, .err_len = err_len};
	struct queues_storage *st = NULL;
	yaml_document_t doc;
	int rc = -1;

	*out = NULL;
	if (err_len > 0)
		err[0] = '\0';
	if (yamldoc_load_file(path, QUEUES_WHAT, &doc, err, err_len) != 0)
		return -1;
	rd.doc = &doc;

	const yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		snprintf(err, err_len,
			 "%s:1:1: %s: is empty; it needs 'queues', 'crisis_queue' and "
			 "'default_queue'",
			 path, QUEUES_WHAT);
		goto out;
	}
	st = calloc(1, sizeof *st);
	if (st == NULL || (st->file.path = strdup(path)) == NULL) {
		snprintf(err, err_len, "%s: out of memory", path);
		goto out;
	}
	if (queues_parse_root(&rd, root, st) != 0)
		goto out;

	*out = &st->file;
	st = NULL;
	rc = 0;
out:
	queues_free(st ? &st->file : NULL);
	yaml_document_delete(&doc);
	return rc;
}
