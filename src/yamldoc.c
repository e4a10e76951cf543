/* yamldoc.c: one YAML document, or a positioned error, and the node checks
 * the loaders share (see yamldoc.h). */
#include "yamldoc.h"
#include "readfile.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libyaml's own words, at the position it stopped. */
static void yamldoc_syntax_error(const char *name, const yaml_parser_t *parser, char *err,
				 size_t err_len)
{
	const yaml_mark_t *mark = parser->error == YAML_READER_ERROR ? &parser->mark :
								       &parser->problem_mark;
	const char *problem = parser->problem ? parser->problem : "cannot be parsed";

	if (parser->context != NULL)
		snprintf(err, err_len,
			 "%s:%zu:%zu: malformed YAML: %s %s (started at line %zu, column %zu)", name,
			 (size_t)mark->line + 1, (size_t)mark->column + 1, problem, parser->context,
			 (size_t)parser->context_mark.line + 1,
			 (size_t)parser->context_mark.column + 1);
	else
		snprintf(err, err_len, "%s:%zu:%zu: malformed YAML: %s", name,
			 (size_t)mark->line + 1, (size_t)mark->column + 1, problem);
}

int yamldoc_load(const char *name, const char *buf, size_t len, const char *what,
		 yaml_document_t *doc, char *err, size_t err_len)
{
	yaml_parser_t parser;
	yaml_document_t next;
	int rc = -1;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, err_len, "%s: out of memory", name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, doc)) {
		yamldoc_syntax_error(name, &parser, err, err_len);
		goto out;
	}
	/* A second document would be silently ignored; refuse it instead. */
	if (!yaml_parser_load(&parser, &next)) {
		yamldoc_syntax_error(name, &parser, err, err_len);
		yaml_document_delete(doc);
		goto out;
	}
	const yaml_node_t *next_root = yaml_document_get_root_node(&next);
	if (next_root != NULL) {
		snprintf(err, err_len, "%s:%zu:%zu: %s: only one YAML document is allowed", name,
			 (size_t)next_root->start_mark.line + 1,
			 (size_t)next_root->start_mark.column + 1, what);
		yaml_document_delete(&next);
		yaml_document_delete(doc);
		goto out;
	}
	yaml_document_delete(&next);
	rc = 0;
out:
	yaml_parser_delete(&parser);
	return rc;
}

int yamldoc_load_file(const char *path, const char *what, yaml_document_t *doc, char *err,
		      size_t err_len)
{
	char *buf = NULL;
	size_t len = 0;

	if (readfile_all(path, 0, &buf, &len, err, err_len) != 0)
		return -1;
	/* The document owns copies of what it holds: the text can go. */
	int rc = yamldoc_load(path, buf, len, what, doc, err, err_len);
	free(buf);
	return rc;
}

void yamldoc_error(const struct yamldoc_reader *rd, const yaml_node_t *node, const char *field,
		   const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (rd->err_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(rd->err, rd->err_len, "%s:%zu:%zu: %s: %s", rd->name,
		 (size_t)node->start_mark.line + 1, (size_t)node->start_mark.column + 1, field,
		 msg);
}

const char *yamldoc_node_kind(const yaml_node_t *node)
{
	switch (node->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a single value";
	}
}

int yamldoc_expect_scalar(const struct yamldoc_reader *rd, const yaml_node_t *node,
			  const char *field)
{
	if (node->type == YAML_SCALAR_NODE)
		return 0;
	yamldoc_error(rd, node, field, "expected a single value, found %s",
		      yamldoc_node_kind(node));
	return -1;
}

int yamldoc_expect_mapping(const struct yamldoc_reader *rd, const yaml_node_t *node,
			   const char *field, const char *example)
{
	if (node->type == YAML_MAPPING_NODE)
		return 0;
	yamldoc_error(rd, node, field, "expected a mapping like %s, found %s", example,
		      yamldoc_node_kind(node));
	return -1;
}

int yamldoc_expect_list(const struct yamldoc_reader *rd, const yaml_node_t *node, const char *field,
			const char *example)
{
	if (node->type == YAML_SEQUENCE_NODE)
		return 0;
	yamldoc_error(rd, node, field, "expected a list like %s, found %s", example,
		      yamldoc_node_kind(node));
	return -1;
}

int yamldoc_check_keys(const struct yamldoc_reader *rd, const yaml_node_t *map, const char *field,
		       const char *const *allowed)
{
	const yaml_node_pair_t *start = map->data.mapping.pairs.start;
	const yaml_node_pair_t *top = map->data.mapping.pairs.top;
	char expected[512] = "";

	for (const char *const *a = allowed; *a; a++) {
		size_t used = strlen(expected);
		snprintf(expected + used, sizeof expected - used, "%s%s", used ? ", " : "", *a);
	}
	for (const yaml_node_pair_t *pair = start; pair < top; pair++) {
		const yaml_node_t *key = yaml_document_get_node(rd->doc, pair->key);
		if (key->type != YAML_SCALAR_NODE) {
			yamldoc_error(rd, key, field, "keys must be plain names, found %s",
				      yamldoc_node_kind(key));
			return -1;
		}
		const char *name = (const char *)key->data.scalar.value;
		bool known = false;
		for (const char *const *a = allowed; *a && !known; a++)
			known = strcmp(*a, name) == 0;
		if (!known) {
			yamldoc_error(rd, key, field, "unknown key '%s'; expected %s", name,
				      expected);
			return -1;
		}
		for (const yaml_node_pair_t *earlier = start; earlier < pair; earlier++) {
			const yaml_node_t *ek = yaml_document_get_node(rd->doc, earlier->key);
			if (strcmp((const char *)ek->data.scalar.value, name) == 0) {
				yamldoc_error(rd, key, field,
					      "duplicate key '%s' (first given at line %zu)", name,
					      (size_t)ek->start_mark.line + 1);
				return -1;
			}
		}
	}
	return 0;
}

const yaml_node_t *yamldoc_get(const struct yamldoc_reader *rd, const yaml_node_t *map,
			       const char *key)
{
	for (const yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k = yaml_document_get_node(rd->doc, pair->key);
		if (strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(rd->doc, pair->value);
	}
	return NULL;
}

const yaml_node_t *yamldoc_require(const struct yamldoc_reader *rd, const yaml_node_t *map,
				   const char *field, const char *key)
{
	const yaml_node_t *v = yamldoc_get(rd, map, key);
	if (v == NULL)
		yamldoc_error(rd, map, field, "'%s' is missing", key);
	return v;
}

int yamldoc_take_int(const struct yamldoc_reader *rd, const yaml_node_t *node, const char *field,
		     int min, int max, int *out)
{
	if (yamldoc_expect_scalar(rd, node, field) != 0)
		return -1;
	const char *v = (const char *)node->data.scalar.value;
	const char *digits = v[0] == '-' ? v + 1 : v;
	size_t n = strlen(digits);
	bool number = node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && n > 0 &&
		      strspn(digits, "0123456789") == n;
	if (!number) {
		yamldoc_error(rd, node, field, "expected a whole number from %d to %d, found '%s'",
			      min, max, v);
		return -1;
	}
	/* More than ten digits is outside every int range (and maybe outside long long). */
	long long value = n > 10 ? (v[0] == '-' ? (long long)min - 1 : (long long)max + 1) :
				   atoll(v);
	if (value < min || value > max) {
		yamldoc_error(rd, node, field, "%s is out of range; use %d to %d", v, min, max);
		return -1;
	}
	*out = (int)value;
	return 0;
}

size_t yamldoc_list_length(const yaml_node_t *list)
{
	return (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
}

const yaml_node_t *yamldoc_list_item(const struct yamldoc_reader *rd, const yaml_node_t *list,
				     size_t i)
{
	return yaml_document_get_node(rd->doc, list->data.sequence.items.start[i]);
}
