/* yamldoc.c: one YAML document, or a positioned error (see yamldoc.h). */
#include "yamldoc.h"

#include <stdio.h>

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
