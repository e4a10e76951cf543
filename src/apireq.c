/* apireq.c: the JSON requests and answers of the broker's APIs (see apireq.h). */
#include "apireq.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void apireq_send(ingest_reply_fn reply, void *request, int status, const char *body, bool replay)
{
	struct ingest_reply rep = {
		.status = status,
		.body = body,
		.len = strlen(body),
		.replay = replay,
		.retry_after_s = status == 503 ? 2 : 0,
	};
	reply(request, &rep);
}

void apireq_error(ingest_reply_fn reply, void *request, int status, const char *code,
		  const char *field, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_t *e = json_pack("{s:i,s:s,s:s}", "status", status, "code", code, "message", msg);
	if (e != NULL && field != NULL)
		json_object_set_new(e, "field", json_string(field));
	/* The wrapper owns e; it was never released, so every error answer
	 * leaked its body. */
	json_t *wrapped = e ? json_pack("{s:o}", "error", e) : NULL;
	char *text = wrapped ? json_dumps(wrapped, JSON_COMPACT) : NULL;
	json_decref(wrapped);
	if (text == NULL) {
		/* the message was not valid UTF-8 (a key cut short): the code alone */
		char plain[160];
		snprintf(plain, sizeof plain, "{\"error\":{\"status\":%d,\"code\":\"%s\"}}", status,
			 code);
		apireq_send(reply, request, status, plain, false);
		return;
	}
	apireq_send(reply, request, status, text, false);
	free(text);
}

void apireq_reply_json(ingest_reply_fn reply, void *request, int status, json_t *j, bool replay)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (text == NULL) {
		apireq_error(reply, request, 500, "internal", NULL, "out of memory");
		return;
	}
	apireq_send(reply, request, status, text, replay);
	free(text);
}

json_t *apireq_parse(const char *body, size_t len, ingest_reply_fn reply, void *request)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		apireq_error(reply, request, 400, "malformed_json", NULL, "line %d, column %d: %s",
			     jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		apireq_error(reply, request, 400, "not_an_object", NULL,
			     "the body must be a JSON object");
		return NULL;
	}
	return root;
}

bool apireq_only(json_t *root, const char *const *allowed, ingest_reply_fn reply, void *request)
{
	const char *key;
	json_t *value;
	json_object_foreach(root, key, value) {
		bool ok = false;
		for (size_t i = 0; allowed[i] != NULL; i++)
			ok = ok || strcmp(key, allowed[i]) == 0;
		if (!ok) {
			apireq_error(reply, request, 400, "unknown_field", key, "%.40s: unknown field",
				     key);
			return false;
		}
	}
	return true;
}

size_t apireq_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

const char *apireq_string(json_t *root, const char *name, bool required, size_t max_chars,
			  ingest_reply_fn reply, void *request, bool *failed)
{
	if (*failed)
		return NULL;
	json_t *v = json_object_get(root, name);
	if (v == NULL) {
		if (required) {
			apireq_error(reply, request, 400, "missing_field", name,
				     "%s: required field is missing", name);
			*failed = true;
		}
		return NULL;
	}
	if (!json_is_string(v) || json_string_length(v) < 1 ||
	    apireq_chars(json_string_value(v)) > max_chars) {
		apireq_error(reply, request, 400, "invalid_field", name,
			     "%s: expected a string of 1 to %zu characters", name, max_chars);
		*failed = true;
		return NULL;
	}
	return json_string_value(v);
}

json_t *apireq_rows(const struct store_rows *rows)
{
	json_t *all = json_array();
	for (int i = 0; i < store_rows_count(rows); i++) {
		json_t *row = json_array();
		for (int c = 0; c < store_rows_columns(rows); c++)
			json_array_append_new(row, store_rows_is_null(rows, i, c)
							   ? json_null()
							   : json_string(store_rows_value(rows, i, c)));
		json_array_append_new(all, row);
	}
	return all;
}

static void apireq_keep_rows(struct store_op *sop, const struct store_rows *rows)
{
	struct apireq_op *op = (struct apireq_op *)sop;
	json_decref(op->rows);
	op->rows = apireq_rows(rows);
}

void apireq_op_init(struct apireq_op *op, const char *stmt,
		    void (*done)(struct store_op *sop, enum store_status status), void *owner,
		    ingest_reply_fn reply, void *request)
{
	op->reply = reply;
	op->request = request;
	op->sop.kind = STORE_OP_STMT;
	op->sop.stmt.name = stmt;
	op->sop.stmt.rows = apireq_keep_rows;
	op->sop.done = done;
	op->sop.owner = owner;
}

int apireq_op_param(struct apireq_op *op, const char *value)
{
	int i = op->sop.stmt.n_params++;
	op->params[i] = value ? strdup(value) : NULL;
	op->sop.stmt.params[i] = op->params[i];
	return value != NULL && op->params[i] == NULL ? -1 : 0;
}

void apireq_op_release(struct apireq_op *op)
{
	for (int i = 0; i < op->sop.stmt.n_params; i++)
		free(op->params[i]);
	json_decref(op->rows);
	op->rows = NULL;
}
