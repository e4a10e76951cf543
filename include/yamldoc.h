/* yamldoc.h: exactly one YAML document from a buffer, for the loaders of
 * the rules and the calendar, with the same messages for what goes wrong
 * before their own checks begin. */
#ifndef HOTLINE_YAMLDOC_H
#define HOTLINE_YAMLDOC_H

#include <stddef.h>

#include <yaml.h>

/* Parses buf (len bytes, name used in messages) into doc, which the caller
 * then deletes with yaml_document_delete. An empty document is not an error
 * here (its root is NULL). Returns 0, or -1 with one of these in err:
 *   "NAME: out of memory"
 *   "NAME:LINE:COL: malformed YAML: <libyaml's words> [(started at line L, column C)]"
 *   "NAME:LINE:COL: WHAT: only one YAML document is allowed" */
int yamldoc_load(const char *name, const char *buf, size_t len, const char *what,
		 yaml_document_t *doc, char *err, size_t err_len) __attribute__((warn_unused_result));

#endif
