/* classifier.c: loading classification rules from YAML and matching a call
 * against them.
 *
 * Loading does all the work that can be done once: names, numbers and
 * prefixes are copied with their lengths, the time window becomes two minute
 * counts, weekdays become a bit mask. Classifying is then a walk over the
 * rules with cheap comparisons and no allocation. Errors name the file,
 * line, column and the field ("rules[3].match.time"; rules count from 0).
 */
#include "classifier.h"
#include "yamldoc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define CLASSIFIER_NAME_MAX 64
#define CLASSIFIER_QUEUE_MAX 32
#define CLASSIFIER_NUMBER_MAX 20
#define CLASSIFIER_IVR_MAX 32
#define CLASSIFIER_FLAG_MAX 32
#define CLASSIFIER_PRIORITY_MAX 9
#define CLASSIFIER_DEFAULT_NAME "default"
#define CLASSIFIER_FIELD_MAX 64 /* "rules[N].match.caller_flag" */

struct classifier_string {
	char *text;
	size_t len;
};

struct classifier_rule {
	char *name;

	/* Conditions; an absent one is NULL, 0 or false and always holds. */
	struct classifier_string *dialled;
	size_t n_dialled;
	struct classifier_string ivr_path;
	struct classifier_string ivr_prefix;
	struct classifier_string caller_flag;
	bool has_time;
	int time_start;        /* minute of day, inclusive */
	int time_end;          /* minute of day, exclusive; below time_start when it wraps */
	unsigned weekday_mask; /* bit d set for ISO weekday d; 0 = every day */

	enum category category;
	char *queue;
	int priority;
};

struct classifier {
	struct classifier_rule *rules;
	size_t n_rules;
	enum category default_category;
	char *default_queue;
	int default_priority;
};

static void classifier_free_rule(struct classifier_rule *r)
{
	free(r->name);
	for (size_t i = 0; i < r->n_dialled; i++)
		free(r->dialled[i].text);
	free(r->dialled);
	free(r->ivr_path.text);
	free(r->ivr_prefix.text);
	free(r->caller_flag.text);
	free(r->queue);
}

void classifier_free(struct classifier *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_rules; i++)
		classifier_free_rule(&c->rules[i]);
	free(c->rules);
	free(c->default_queue);
	free(c);
}

size_t classifier_rule_count(const struct classifier *c)
{
	return c->n_rules;
}

/* Writes the path of a child field ("rules[3].match" + "time"). Paths are
 * at most three levels deep, so the bounds never cut a real one. */
static void classifier_field(char out[CLASSIFIER_FIELD_MAX], const char *parent, const char *child)
{
	snprintf(out, CLASSIFIER_FIELD_MAX, "%.36s.%.16s", parent, child);
}

/* True if every byte of s is in the set chars (or a lowercase letter when
 * letters is set). */
static bool classifier_all_in(const char *s, const char *chars, bool letters)
{
	for (; *s; s++) {
		if (letters && *s >= 'a' && *s <= 'z')
			continue;
		if (strchr(chars, *s) == NULL)
			return false;
	}
	return true;
}

/* Copies a scalar that must be 1..max characters of the given set into out. */
static int classifier_take_string(const struct yamldoc_reader *ld, const yaml_node_t *node,
				  const char *field, size_t min, size_t max, const char *chars,
				  bool letters, const char *what, struct classifier_string *out)
{
	if (yamldoc_expect_scalar(ld, node, field) != 0)
		return -1;
	const char *v = (const char *)node->data.scalar.value;
	size_t len = node->data.scalar.length;
	if (len < min || len > max || strlen(v) != len || !classifier_all_in(v, chars, letters)) {
		yamldoc_error(ld, node, field, "'%s' is not %s", v, what);
		return -1;
	}
	out->text = strdup(v);
	if (out->text == NULL) {
		yamldoc_error(ld, node, field, "out of memory");
		return -1;
	}
	out->len = len;
	return 0;
}

/* Parses "HH:MM" at s into minutes; 24:00 only when end is set. */
static int classifier_parse_clock(const char *s, bool end, int *minutes)
{
	for (int i = 0; i < 5; i++) {
		if (i == 2 ? s[i] != ':' : (s[i] < '0' || s[i] > '9'))
			return -1;
	}
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (!end || m != 0)))
		return -1;
	*minutes = h * 60 + m;
	return 0;
}

static int classifier_parse_time(const struct yamldoc_reader *ld, const yaml_node_t *node,
				 const char *field, struct classifier_rule *r)
{
	if (yamldoc_expect_scalar(ld, node, field) != 0)
		return -1;
	const char *v = (const char *)node->data.scalar.value;
	if (strlen(v) != 11 || v[5] != '-' ||
	    classifier_parse_clock(v, false, &r->time_start) != 0 ||
	    classifier_parse_clock(v + 6, true, &r->time_end) != 0) {
		yamldoc_error(ld, node, field,
			      "'%s' is not a window HH:MM-HH:MM (e.g. \"22:00-08:00\"; the "
			      "end is excluded)",
			      v);
		return -1;
	}
	if (r->time_end % 1440 == r->time_start) {
		yamldoc_error(ld, node, field,
			      "'%s' starts and ends at the same minute; leave 'time' out "
			      "to match the whole day",
			      v);
		return -1;
	}
	if (r->time_end == 1440)
		r->time_end = 0;
	r->has_time = true;
	return 0;
}

static int classifier_parse_weekdays(const struct yamldoc_reader *ld, const yaml_node_t *node,
				     const char *field, struct classifier_rule *r)
{
	if (node->type != YAML_SEQUENCE_NODE || yamldoc_list_length(node) == 0) {
		yamldoc_error(ld, node, field,
			      "expected a non-empty list of ISO weekdays like [1, 2, 3, 4, 5] "
			      "(1 = Monday, 7 = Sunday)");
		return -1;
	}
	for (size_t i = 0; i < yamldoc_list_length(node); i++) {
		const yaml_node_t *day = yamldoc_list_item(ld, node, i);
		if (yamldoc_expect_scalar(ld, day, field) != 0)
			return -1;
		const char *v = (const char *)day->data.scalar.value;
		if (strlen(v) != 1 || v[0] < '1' || v[0] > '7') {
			yamldoc_error(ld, day, field,
				      "'%s' is not a weekday; use 1 (Monday) to 7 (Sunday)", v);
			return -1;
		}
		unsigned bit = 1u << (v[0] - '0');
		if (r->weekday_mask & bit) {
			yamldoc_error(ld, day, field, "weekday %s is listed twice", v);
			return -1;
		}
		r->weekday_mask |= bit;
	}
	return 0;
}

static int classifier_parse_dialled(const struct yamldoc_reader *ld, const yaml_node_t *node,
				    const char *field, struct classifier_rule *r)
{
	size_t n = 0;

	if (node->type == YAML_SEQUENCE_NODE)
		n = yamldoc_list_length(node);
	if (n == 0) {
		yamldoc_error(ld, node, field,
			      "expected a non-empty list of numbers like [\"12356\"]");
		return -1;
	}
	r->dialled = calloc(n, sizeof *r->dialled);
	if (r->dialled == NULL) {
		yamldoc_error(ld, node, field, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (classifier_take_string(ld, yamldoc_list_item(ld, node, i), field, 1,
					   CLASSIFIER_NUMBER_MAX, "0123456789", false,
					   "a number of 1 to 20 digits", &r->dialled[i]) != 0)
			return -1;
		r->n_dialled = i + 1;
	}
	return 0;
}

/* Reads "category", "queue" and "priority" of a rule's then: or of default:. */
static int classifier_parse_result(const struct yamldoc_reader *ld, const yaml_node_t *node,
				   const char *field, enum category *category, char **queue,
				   int *priority)
{
	static const char *const keys[] = {"category", "queue", "priority", NULL};
	char sub[CLASSIFIER_FIELD_MAX];
	const yaml_node_t *v;

	if (yamldoc_expect_mapping(ld, node, field,
				   "{category: other, queue: general, priority: 5}") != 0 ||
	    yamldoc_check_keys(ld, node, field, keys) != 0)
		return -1;

	classifier_field(sub, field, "category");
	if ((v = yamldoc_require(ld, node, field, "category")) == NULL ||
	    yamldoc_expect_scalar(ld, v, sub) != 0)
		return -1;
	if (category_from_name((const char *)v->data.scalar.value, category) != 0) {
		char names[256] = "";
		for (int c = 0; c < CATEGORY_COUNT; c++) {
			size_t used = strlen(names);
			snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "",
				 category_name((enum category)c));
		}
		yamldoc_error(ld, v, sub, "'%s' is not a category; use one of %s",
			      (const char *)v->data.scalar.value, names);
		return -1;
	}

	struct classifier_string q = {0};
	classifier_field(sub, field, "queue");
	if ((v = yamldoc_require(ld, node, field, "queue")) == NULL ||
	    classifier_take_string(ld, v, sub, 1, CLASSIFIER_QUEUE_MAX, "0123456789_-", true,
				   "a queue name of 1 to 32 characters a-z, 0-9, '_' or '-'",
				   &q) != 0)
		return -1;
	*queue = q.text;

	classifier_field(sub, field, "priority");
	if ((v = yamldoc_require(ld, node, field, "priority")) == NULL ||
	    yamldoc_expect_scalar(ld, v, sub) != 0)
		return -1;
	const char *p = (const char *)v->data.scalar.value;
	if (v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || strlen(p) != 1 || p[0] < '0' ||
	    p[0] > '0' + CLASSIFIER_PRIORITY_MAX) {
		yamldoc_error(ld, v, sub,
			      "'%s' is not a priority; use a number 0 (served first) to 9", p);
		return -1;
	}
	*priority = p[0] - '0';
	return 0;
}

static int classifier_parse_match(const struct yamldoc_reader *ld, const yaml_node_t *node,
				  const char *field, struct classifier_rule *r)
{
	static const char *const keys[] = {"dialled", "ivr_path", "ivr_prefix", "caller_flag",
					   "time",    "weekdays", NULL};
	char sub[CLASSIFIER_FIELD_MAX];
	const yaml_node_t *v;

	if (yamldoc_expect_mapping(ld, node, field, "{ivr_prefix: \"1\"}") != 0 ||
	    yamldoc_check_keys(ld, node, field, keys) != 0)
		return -1;
	if (node->data.mapping.pairs.start == node->data.mapping.pairs.top) {
		yamldoc_error(ld, node, field,
			      "a rule needs at least one condition; calls that match no "
			      "rule get 'default'");
		return -1;
	}
	if ((v = yamldoc_get(ld, node, "dialled")) != NULL) {
		classifier_field(sub, field, "dialled");
		if (classifier_parse_dialled(ld, v, sub, r) != 0)
			return -1;
	}
	if ((v = yamldoc_get(ld, node, "ivr_path")) != NULL) {
		classifier_field(sub, field, "ivr_path");
		if (classifier_take_string(ld, v, sub, 0, CLASSIFIER_IVR_MAX, "0123456789*#", false,
					   "an IVR path of up to 32 keys 0-9, '*' or '#'",
					   &r->ivr_path) != 0)
			return -1;
	}
	if ((v = yamldoc_get(ld, node, "ivr_prefix")) != NULL) {
		classifier_field(sub, field, "ivr_prefix");
		if (classifier_take_string(ld, v, sub, 1, CLASSIFIER_IVR_MAX, "0123456789*#", false,
					   "an IVR prefix of 1 to 32 keys 0-9, '*' or '#'",
					   &r->ivr_prefix) != 0)
			return -1;
	}
	if ((v = yamldoc_get(ld, node, "caller_flag")) != NULL) {
		classifier_field(sub, field, "caller_flag");
		if (classifier_take_string(ld, v, sub, 1, CLASSIFIER_FLAG_MAX, "0123456789_-", true,
					   "a flag of 1 to 32 characters a-z, 0-9, '_' or '-'",
					   &r->caller_flag) != 0)
			return -1;
	}
	if ((v = yamldoc_get(ld, node, "time")) != NULL) {
		classifier_field(sub, field, "time");
		if (classifier_parse_time(ld, v, sub, r) != 0)
			return -1;
	}
	if ((v = yamldoc_get(ld, node, "weekdays")) != NULL) {
		classifier_field(sub, field, "weekdays");
		if (classifier_parse_weekdays(ld, v, sub, r) != 0)
			return -1;
	}
	return 0;
}

static int classifier_parse_rule(const struct yamldoc_reader *ld, const yaml_node_t *node,
				 size_t index, struct classifier *c)
{
	static const char *const keys[] = {"name", "match", "then", NULL};
	struct classifier_rule *r = &c->rules[index];
	struct classifier_string name = {0};
	char field[CLASSIFIER_FIELD_MAX], sub[CLASSIFIER_FIELD_MAX];
	const yaml_node_t *v;

	snprintf(field, sizeof field, "rules[%zu]", index);
	if (yamldoc_expect_mapping(ld, node, field, "{name: ..., match: {...}, then: {...}}") !=
		    0 ||
	    yamldoc_check_keys(ld, node, field, keys) != 0)
		return -1;

	classifier_field(sub, field, "name");
	if ((v = yamldoc_require(ld, node, field, "name")) == NULL ||
	    classifier_take_string(ld, v, sub, 1, CLASSIFIER_NAME_MAX, "0123456789_-", true,
				   "a rule name of 1 to 64 characters a-z, 0-9, '_' or '-'",
				   &name) != 0)
		return -1;
	r->name = name.text;
	if (strcmp(r->name, CLASSIFIER_DEFAULT_NAME) == 0) {
		yamldoc_error(ld, v, sub,
			      "'default' is reserved for calls that match no rule; pick "
			      "another name");
		return -1;
	}
	for (size_t i = 0; i < index; i++) {
		if (strcmp(c->rules[i].name, r->name) == 0) {
			yamldoc_error(ld, v, sub, "'%s' is already the name of rules[%zu]", r->name,
				      i);
			return -1;
		}
	}

	classifier_field(sub, field, "match");
	if ((v = yamldoc_require(ld, node, field, "match")) == NULL ||
	    classifier_parse_match(ld, v, sub, r) != 0)
		return -1;

	classifier_field(sub, field, "then");
	if ((v = yamldoc_require(ld, node, field, "then")) == NULL ||
	    classifier_parse_result(ld, v, sub, &r->category, &r->queue, &r->priority) != 0)
		return -1;
	return 0;
}

static int classifier_parse_root(const struct yamldoc_reader *ld, const yaml_node_t *root,
				 struct classifier *c)
{
	static const char *const keys[] = {"default", "rules", NULL};
	const yaml_node_t *v;

	if (root->type != YAML_MAPPING_NODE) {
		yamldoc_error(ld, root, "rules file",
			      "expected a mapping with 'default' and 'rules', found %s",
			      yamldoc_node_kind(root));
		return -1;
	}
	if (yamldoc_check_keys(ld, root, "rules file", keys) != 0)
		return -1;
	if ((v = yamldoc_require(ld, root, "rules file", "default")) == NULL ||
	    classifier_parse_result(ld, v, "default", &c->default_category, &c->default_queue,
				    &c->default_priority) != 0)
		return -1;
	if ((v = yamldoc_require(ld, root, "rules file", "rules")) == NULL)
		return -1;
	if (v->type != YAML_SEQUENCE_NODE) {
		yamldoc_error(ld, v, "rules", "expected a list of rules, found %s",
			      yamldoc_node_kind(v));
		return -1;
	}
	size_t n = yamldoc_list_length(v);
	if (n > 0) {
		c->rules = calloc(n, sizeof *c->rules);
		if (c->rules == NULL) {
			yamldoc_error(ld, v, "rules", "out of memory");
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		c->n_rules = i + 1; /* so that classifier_free releases a half-read rule */
		if (classifier_parse_rule(ld, yamldoc_list_item(ld, v, i), i, c) != 0)
			return -1;
	}
	return 0;
}

/* Reads the rules from a loaded document; messages name name. The caller
 * deletes doc. */
static int classifier_read_document(const char *name, yaml_document_t *doc, struct classifier **out,
				    char *err, size_t err_len)
{
	const struct yamldoc_reader ld = {.name = name, .doc = doc, .err = err, .err_len = err_len};
	const yaml_node_t *root = yaml_document_get_root_node(doc);
	if (root == NULL) {
		snprintf(err, err_len,
			 "%s:1:1: rules file: is empty; it needs 'default' and 'rules'", name);
		return -1;
	}
	struct classifier *c = calloc(1, sizeof *c);
	if (c == NULL) {
		snprintf(err, err_len, "%s: out of memory", name);
		return -1;
	}
	if (classifier_parse_root(&ld, root, c) != 0) {
		classifier_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int classifier_load_buffer(const char *name, const char *buf, size_t len, struct classifier **out,
			   char *err, size_t err_len)
{
	yaml_document_t doc;

	*out = NULL;
	if (err_len > 0)
		err[0] = '\0';
	if (yamldoc_load(name, buf, len, "rules file", &doc, err, err_len) != 0)
		return -1;
	int rc = classifier_read_document(name, &doc, out, err, err_len);
	yaml_document_delete(&doc);
	return rc;
}

int classifier_load_file(const char *path, struct classifier **out, char *err, size_t err_len)
{
	yaml_document_t doc;

	*out = NULL;
	if (err_len > 0)
		err[0] = '\0';
	if (yamldoc_load_file(path, "rules file", &doc, err, err_len) != 0)
		return -1;
	int rc = classifier_read_document(path, &doc, out, err, err_len);
	yaml_document_delete(&doc);
	return rc;
}

/* True if the rule's conditions all hold for in. Cheap integer tests come
 * first; string comparisons use the lengths computed at load. */
static bool classifier_rule_matches(const struct classifier_rule *r,
				    const struct classify_input *in, const char *dialled,
				    const char *ivr_path, size_t ivr_len)
{
	if (r->weekday_mask != 0 &&
	    (in->weekday < 1 || in->weekday > 7 || !(r->weekday_mask & (1u << in->weekday))))
		return false;
	if (r->has_time) {
		int m = in->minute_of_day;
		bool inside = r->time_start < r->time_end ?
				      (m >= r->time_start && m < r->time_end) :
				      (m >= r->time_start || m < r->time_end);
		if (!inside)
			return false;
	}
	if (r->ivr_prefix.text != NULL &&
	    (ivr_len < r->ivr_prefix.len ||
	     memcmp(ivr_path, r->ivr_prefix.text, r->ivr_prefix.len) != 0))
		return false;
	if (r->ivr_path.text != NULL &&
	    (ivr_len != r->ivr_path.len || memcmp(ivr_path, r->ivr_path.text, ivr_len) != 0))
		return false;
	if (r->n_dialled > 0) {
		bool found = false;
		for (size_t i = 0; i < r->n_dialled && !found; i++)
			found = strcmp(dialled, r->dialled[i].text) == 0;
		if (!found)
			return false;
	}
	if (r->caller_flag.text != NULL) {
		bool found = false;
		for (size_t i = 0; i < in->n_flags && !found; i++)
			found = in->flags[i] != NULL &&
				strcmp(in->flags[i], r->caller_flag.text) == 0;
		if (!found)
			return false;
	}
	return true;
}

void classifier_classify(const struct classifier *c, const struct classify_input *in,
			 struct classify_result *out)
{
	const char *dialled = in->dialled ? in->dialled : "";
	const char *ivr_path = in->ivr_path ? in->ivr_path : "";
	size_t ivr_len = strlen(ivr_path);

	for (size_t i = 0; i < c->n_rules; i++) {
		const struct classifier_rule *r = &c->rules[i];
		if (classifier_rule_matches(r, in, dialled, ivr_path, ivr_len)) {
			out->category = r->category;
			out->queue = r->queue;
			out->priority = r->priority;
			out->rule = r->name;
			return;
		}
	}
	out->category = c->default_category;
	out->queue = c->default_queue;
	out->priority = c->default_priority;
	out->rule = CLASSIFIER_DEFAULT_NAME;
}
