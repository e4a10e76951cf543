/* apireq.h: the JSON requests and answers of the broker's agent, supervisor
 * and platform APIs (router.c, orders.c, bookings.c): one way to read a body, check its
 * fields, answer an error, and keep the rows a statement returned.
 *
 * Answers go through an ingest_reply_fn, exactly once per request, like the
 * gateway's. Errors have the body {"error":{"status","code","field"?,
 * "message"}} of doc/api.md. */
#ifndef HOTLINE_APIREQ_H
#define HOTLINE_APIREQ_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ingest.h"
#include "store.h"

/* Answers status with body (a 503 carries Retry-After: 2). */
void apireq_send(ingest_reply_fn reply, void *request, int status, const char *body, bool replay);

/* Answers an error; a message that is not valid UTF-8 leaves the code alone. */
void apireq_error(ingest_reply_fn reply, void *request, int status, const char *code,
		  const char *field, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Answers j (taken) as compact JSON, or 500 when it cannot be written. */
void apireq_reply_json(ingest_reply_fn reply, void *request, int status, json_t *j, bool replay);

/* The body as a JSON object, or NULL after answering 400 (malformed_json,
 * not_an_object). */
json_t *apireq_parse(const char *body, size_t len, ingest_reply_fn reply, void *request);

/* Whether every key of root is one of allowed (NULL-terminated); otherwise
 * answers 400 unknown_field and returns false. */
bool apireq_only(json_t *root, const char *const *allowed, ingest_reply_fn reply, void *request);

/* A string field of 1 to max_chars characters: NULL when absent (and not
 * required) or after answering 400 (missing_field, invalid_field) and
 * setting *failed. Does nothing and returns NULL once *failed is set, so
 * that fields can be read one after another. */
const char *apireq_string(json_t *root, const char *name, bool required, size_t max_chars,
			  ingest_reply_fn reply, void *request, bool *failed);

/* Characters (not bytes) of UTF-8 text. */
size_t apireq_chars(const char *s);

/* A statement's rows as a JSON array of arrays of strings (null for NULL). */
json_t *apireq_rows(const struct store_rows *rows);

/* One statement of an API module through the store: the store op, the
 * module's own copies of its parameters, the rows the statement returned
 * (apireq_rows, kept before the commit), and whom to answer. A module puts
 * it first in its own op, so that the store's op is the module's. */
struct apireq_op {
	struct store_op sop; /* first: the store hands back &sop */
	char *params[STORE_STMT_PARAMS];
	json_t *rows; /* arrays of strings (null for NULL), or NULL */
	ingest_reply_fn reply;
	void *request;
};

/* Makes op a statement op of stmt, answered through done (owner is the
 * module's op). */
void apireq_op_init(struct apireq_op *op, const char *stmt,
		    void (*done)(struct store_op *sop, enum store_status status), void *owner,
		    ingest_reply_fn reply, void *request);
/* Adds a text parameter, copied (NULL for SQL NULL). Returns -1 when out of
 * memory (the parameter is then NULL). */
int apireq_op_param(struct apireq_op *op, const char *value) __attribute__((warn_unused_result));
/* Frees the parameters and the rows (not op itself). */
void apireq_op_release(struct apireq_op *op);

#endif
