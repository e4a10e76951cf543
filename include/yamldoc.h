/* yamldoc.h: exactly one YAML document from a buffer, for the loaders of
 * the rules, the calendar and the queues, with the same messages for what
 * goes wrong before their own checks begin; and the checks every such loader
 * makes on the nodes it reads, with positioned messages. */
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

/* Reads path (readfile_all) and parses it like yamldoc_load, naming path in
 * messages. Returns 0, or -1 with "PATH: cannot open: ..." and the like, or
 * one of yamldoc_load's messages, in err. */
int yamldoc_load_file(const char *path, const char *what, yaml_document_t *doc, char *err,
		      size_t err_len) __attribute__((warn_unused_result));

/* One loader's view of a loaded document: the name used in messages, the
 * document, and where the message goes. */
struct yamldoc_reader {
	const char *name;
	yaml_document_t *doc;
	char *err;
	size_t err_len;
};

/* Writes "NAME:LINE:COL: FIELD: <message>" at node's position into rd->err. */
void yamldoc_error(const struct yamldoc_reader *rd, const yaml_node_t *node, const char *field,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "a mapping", "a list" or "a single value", for messages. */
const char *yamldoc_node_kind(const yaml_node_t *node);

/* Each returns 0, or -1 with "expected ..., found <kind>" at node. example
 * shows the reader what was expected ("{name: ..., skill: ...}"). */
int yamldoc_expect_scalar(const struct yamldoc_reader *rd, const yaml_node_t *node,
			  const char *field) __attribute__((warn_unused_result));
int yamldoc_expect_mapping(const struct yamldoc_reader *rd, const yaml_node_t *node,
			   const char *field, const char *example)
	__attribute__((warn_unused_result));
int yamldoc_expect_list(const struct yamldoc_reader *rd, const yaml_node_t *node, const char *field,
			const char *example) __attribute__((warn_unused_result));

/* Checks that the mapping map has plain, unique keys, all among allowed
 * (NULL-terminated). Returns 0, or -1 naming the first unknown or repeated
 * key at its position. */
int yamldoc_check_keys(const struct yamldoc_reader *rd, const yaml_node_t *map, const char *field,
		       const char *const *allowed) __attribute__((warn_unused_result));

/* The value of key in a mapping checked by yamldoc_check_keys, or NULL.
 * yamldoc_require also reports a missing key, at the mapping. */
const yaml_node_t *yamldoc_get(const struct yamldoc_reader *rd, const yaml_node_t *map,
			       const char *key);
const yaml_node_t *yamldoc_require(const struct yamldoc_reader *rd, const yaml_node_t *map,
				   const char *field, const char *key);

/* Reads node as a plain whole number from min to max into *out ("20", not
 * "20.0" or "\"20\""). Returns 0, or -1 with "expected a whole number from
 * MIN to MAX, found 'V'" or "V is out of range; use MIN to MAX" at node. */
int yamldoc_take_int(const struct yamldoc_reader *rd, const yaml_node_t *node, const char *field,
		     int min, int max, int *out) __attribute__((warn_unused_result));

/* Items of a list node. */
size_t yamldoc_list_length(const yaml_node_t *list);
const yaml_node_t *yamldoc_list_item(const struct yamldoc_reader *rd, const yaml_node_t *list,
				     size_t i);

#endif
