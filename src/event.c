/* event.c: decoding and checking gateway call events (see doc/api.md). */
#include "event.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "timeutil.h"

static const char *const event_type_names[EVENT_TYPE_COUNT] = {
	"call.offered",  "call.answered", "call.transferred",
	"call.ivr_completed", "call.abandoned", "call.ended", "call.offer_failed",
};

const char *event_type_name(enum event_type t)
{
	return (unsigned)t < EVENT_TYPE_COUNT ? event_type_names[t] : "unknown";
}

__attribute__((format(printf, 5, 6))) static int event_fail(struct event_error *err, int status,
							    const char *code, const char *field,
							    const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	err->code = code;
	snprintf(err->field, sizeof err->field, "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return -1;
}

/* Character classes of the string fields. */
enum event_charset { CHARSET_ID, CHARSET_CENTRE, CHARSET_DIGITS, CHARSET_IVR, CHARSET_FLAG, CHARSET_TEXT };

static bool event_char_ok(enum event_charset cs, unsigned char c)
{
	bool alnum_lower = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
	switch (cs) {
	case CHARSET_ID:
		return alnum_lower || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == ':' ||
		       c == '-';
	case CHARSET_CENTRE:
		return alnum_lower || c == '_' || c == '-';
	case CHARSET_DIGITS:
		return c >= '0' && c <= '9';
	case CHARSET_IVR:
		return (c >= '0' && c <= '9') || c == '*' || c == '#';
	case CHARSET_FLAG:
		return alnum_lower || c == '_';
	case CHARSET_TEXT:
		return alnum_lower || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == ':' ||
		       c == '-' || c == ' ';
	}
	return false;
}

bool event_id_char_ok(unsigned char c)
{
	return event_char_ok(CHARSET_ID, c);
}

bool event_centre_char_ok(unsigned char c)
{
	return event_char_ok(CHARSET_CENTRE, c);
}

static const char *const event_charset_hint[] = {
	"letters, digits and . _ : -", "lower-case letters, digits, _ and -", "digits",
	"digits, * and #",             "lower-case letters, digits and _",    "letters, digits, spaces and . _ : -",
};

/* Copies a string member into out after checking type, length and alphabet. */
static int event_string(json_t *obj, const char *field, bool required, size_t min, size_t max,
			enum event_charset cs, char *out, bool *present, struct event_error *err)
{
	json_t *v = json_object_get(obj, field);
	if (present)
		*present = v != NULL;
	if (v == NULL) {
		out[0] = '\0';
		if (required)
			return event_fail(err, 400, "missing_field", field, "%s: required field is missing",
					  field);
		return 0;
	}
	if (!json_is_string(v))
		return event_fail(err, 400, "invalid_field", field, "%s: expected a string", field);
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n < min || n > max)
		return event_fail(err, 400, "invalid_field", field,
				  "%s: expected %zu to %zu characters, got %zu", field, min, max, n);
	for (size_t i = 0; i < n; i++)
		if (!event_char_ok(cs, (unsigned char)s[i]))
			return event_fail(err, 400, "invalid_field", field,
					  "%s: character %zu is not allowed (use %s)", field, i + 1,
					  event_charset_hint[cs]);
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* Fields allowed per type beyond the common five. */
static const char *const event_extra_fields[EVENT_TYPE_COUNT][6] = {
	[EVENT_OFFERED] = {"caller", "dialled", "ivr_path", "caller_flags", "language"},
	[EVENT_ANSWERED] = {"agent", NULL},
	[EVENT_TRANSFERRED] = {"to_queue", "to_agent", NULL},
	[EVENT_IVR_COMPLETED] = {"ivr_path", NULL},
	[EVENT_ABANDONED] = {NULL},
	[EVENT_ENDED] = {"cause", NULL},
	[EVENT_OFFER_FAILED] = {"agent", "cause", NULL},
};

static bool event_field_allowed(enum event_type t, const char *key)
{
	static const char *const common[] = {"event_id", "type", "call_id", "centre", "time"};
	for (size_t i = 0; i < 5; i++)
		if (strcmp(key, common[i]) == 0)
			return true;
	for (size_t i = 0; event_extra_fields[t][i] != NULL; i++)
		if (strcmp(key, event_extra_fields[t][i]) == 0)
			return true;
	return false;
}

static int event_decode_offered(json_t *root, struct call_event *ev, struct event_error *err)
{
	char raw[64];
	json_t *v = json_object_get(root, "caller");

	if (v == NULL)
		return event_fail(err, 400, "missing_field", "caller", "caller: required field is missing");
	if (!json_is_string(v) || json_string_length(v) >= sizeof raw)
		return event_fail(err, 400, "invalid_field", "caller",
				  "caller: expected a phone number as a string");
	memcpy(raw, json_string_value(v), json_string_length(v) + 1);
	if (privacy_normalise_number(raw, ev->caller) != 0)
		return event_fail(err, 400, "invalid_field", "caller",
				  "caller: expected a phone number (digits, optional +, spaces or -)");
	if (event_string(root, "dialled", true, 1, EVENT_SHORT_MAX, CHARSET_DIGITS, ev->dialled, NULL,
			 err) ||
	    event_string(root, "ivr_path", true, 0, EVENT_SHORT_MAX, CHARSET_IVR, ev->ivr_path,
			 &ev->has_ivr_path, err))
		return -1;
	if (event_string(root, "language", false, 1, EVENT_SHORT_MAX, CHARSET_FLAG, ev->language,
			 NULL, err))
		return -1;
	v = json_object_get(root, "caller_flags");
	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return event_fail(err, 400, "invalid_field", "caller_flags",
				  "caller_flags: expected an array of strings");
	if (json_array_size(v) > EVENT_MAX_FLAGS)
		return event_fail(err, 400, "invalid_field", "caller_flags",
				  "caller_flags: at most %d flags", EVENT_MAX_FLAGS);
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *f = json_array_get(v, i);
		const char *s = json_string_value(f);
		size_t n = s ? json_string_length(f) : 0;
		bool ok = s != NULL && n >= 1 && n <= EVENT_FLAG_MAX;
		for (size_t k = 0; ok && k < n; k++)
			ok = event_char_ok(CHARSET_FLAG, (unsigned char)s[k]);
		if (!ok)
			return event_fail(err, 400, "invalid_field", "caller_flags",
					  "caller_flags[%zu]: expected 1 to %d of %s", i,
					  EVENT_FLAG_MAX, event_charset_hint[CHARSET_FLAG]);
		memcpy(ev->flags[ev->n_flags++], s, n + 1);
	}
	return 0;
}

static void event_hash_field(crypto_hash_sha256_state *st, const char *s)
{
	/* Length-prefixed, so that no two field lists hash the same bytes. */
	unsigned char n = (unsigned char)strlen(s);
	crypto_hash_sha256_update(st, &n, 1);
	crypto_hash_sha256_update(st, (const unsigned char *)s, n);
}

/* The identity of an event for idempotency: every field, after decoding,
 * in a fixed order. Two requests that mean the same thing (keys in another
 * order, other white space or escapes, the same instant written with another
 * offset, the same number written another way) hash alike; any change of a
 * value does not. */
static void event_hash(struct call_event *ev)
{
	crypto_hash_sha256_state st;
	unsigned char fixed[10];
	uint64_t at = (uint64_t)ev->at;

	crypto_hash_sha256_init(&st);
	fixed[0] = (unsigned char)ev->type;
	for (int i = 0; i < 8; i++)
		fixed[1 + i] = (unsigned char)(at >> (8 * i));
	fixed[9] = (unsigned char)((ev->has_ivr_path ? 1 : 0) | (unsigned char)(ev->n_flags << 1));
	crypto_hash_sha256_update(&st, fixed, sizeof fixed);
	event_hash_field(&st, ev->event_id);
	event_hash_field(&st, ev->call_id);
	event_hash_field(&st, ev->centre);
	event_hash_field(&st, ev->caller);
	event_hash_field(&st, ev->dialled);
	event_hash_field(&st, ev->ivr_path);
	for (size_t i = 0; i < ev->n_flags; i++)
		event_hash_field(&st, ev->flags[i]);
	event_hash_field(&st, ev->agent);
	event_hash_field(&st, ev->to_queue);
	event_hash_field(&st, ev->cause);
	/* Hashed only when present, so that events stored before the field
	 * existed keep their identity. */
	if (ev->language[0] != '\0')
		event_hash_field(&st, ev->language);
	crypto_hash_sha256_final(&st, ev->payload_hash);
}

int event_decode(const char *body, size_t len, struct call_event *ev, struct event_error *err)
{
	json_error_t jerr;
	json_t *root = NULL;
	const char *key;
	json_t *value;
	char type[40], time_text[64];
	int rc = -1;

	memset(ev, 0, sizeof *ev);
	/* JSON_DECODE_ANY: a bare string or number is JSON, just not an object,
	 * and is answered as such rather than as malformed. */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL)
		return event_fail(err, 400, "malformed_json", NULL,
				  "malformed JSON at line %d, column %d: %s", jerr.line, jerr.column,
				  jerr.text);
	if (!json_is_object(root)) {
		event_fail(err, 400, "not_an_object", NULL, "the body must be a JSON object");
		goto out;
	}
	if (event_string(root, "type", true, 1, sizeof type - 1, CHARSET_TEXT, type, NULL, err)) {
		if (strcmp(err->code, "invalid_field") == 0 && json_is_string(json_object_get(root, "type")))
			event_fail(err, 422, "unknown_event_type", "type",
				   "type: unknown event type (expected call.offered, call.answered, "
				   "call.transferred, call.ivr_completed, call.abandoned or call.ended)");
		goto out;
	}
	int t;
	for (t = 0; t < EVENT_TYPE_COUNT; t++)
		if (strcmp(type, event_type_names[t]) == 0)
			break;
	if (t == EVENT_TYPE_COUNT) {
		event_fail(err, 422, "unknown_event_type", "type",
			   "type: unknown event type '%s' (expected call.offered, call.answered, "
			   "call.transferred, call.ivr_completed, call.abandoned, call.ended or "
			   "call.offer_failed)",
			   type);
		goto out;
	}
	ev->type = (enum event_type)t;
	json_object_foreach(root, key, value) {
		if (!event_field_allowed(ev->type, key)) {
			event_fail(err, 400, "unknown_field", key, "%.40s: unknown field for %s", key,
				   type);
			goto out;
		}
	}
	if (event_string(root, "event_id", true, 1, EVENT_ID_MAX, CHARSET_ID, ev->event_id, NULL,
			 err) ||
	    event_string(root, "call_id", true, 1, EVENT_ID_MAX, CHARSET_ID, ev->call_id, NULL,
			 err) ||
	    event_string(root, "centre", true, 1, EVENT_CENTRE_MAX, CHARSET_CENTRE, ev->centre, NULL,
			 err))
		goto out;
	json_t *tv = json_object_get(root, "time");
	if (tv == NULL) {
		event_fail(err, 400, "missing_field", "time", "time: required field is missing");
		goto out;
	}
	if (!json_is_string(tv) || json_string_length(tv) >= sizeof time_text) {
		event_fail(err, 400, "invalid_field", "time",
			   "time: expected RFC 3339 with an offset, e.g. 2019-03-04T09:15:02+08:00");
		goto out;
	}
	memcpy(time_text, json_string_value(tv), json_string_length(tv) + 1);
	if (timeutil_parse_rfc3339(time_text, &ev->at) != 0) {
		event_fail(err, 400, "invalid_field", "time",
			   "time: expected RFC 3339 with an offset, e.g. 2019-03-04T09:15:02+08:00");
		goto out;
	}

	switch (ev->type) {
	case EVENT_OFFERED:
		if (event_decode_offered(root, ev, err))
			goto out;
		break;
	case EVENT_ANSWERED:
		if (event_string(root, "agent", true, 1, EVENT_ID_MAX, CHARSET_ID, ev->agent, NULL,
				 err))
			goto out;
		break;
	case EVENT_TRANSFERRED: {
		bool has_queue, has_agent;
		if (event_string(root, "to_queue", false, 1, EVENT_SHORT_MAX, CHARSET_CENTRE,
				 ev->to_queue, &has_queue, err) ||
		    event_string(root, "to_agent", false, 1, EVENT_ID_MAX, CHARSET_ID, ev->agent,
				 &has_agent, err))
			goto out;
		if (has_queue == has_agent) {
			event_fail(err, 400, has_queue ? "invalid_field" : "missing_field", "to_queue",
				   "call.transferred needs exactly one of to_queue and to_agent");
			goto out;
		}
		break;
	}
	case EVENT_IVR_COMPLETED:
		if (event_string(root, "ivr_path", false, 0, EVENT_SHORT_MAX, CHARSET_IVR,
				 ev->ivr_path, &ev->has_ivr_path, err))
			goto out;
		break;
	case EVENT_ABANDONED:
		break;
	case EVENT_ENDED:
		if (event_string(root, "cause", false, 1, EVENT_ID_MAX, CHARSET_TEXT, ev->cause, NULL,
				 err))
			goto out;
		break;
	case EVENT_OFFER_FAILED:
		if (event_string(root, "agent", true, 1, EVENT_ID_MAX, CHARSET_ID, ev->agent, NULL,
				 err) ||
		    event_string(root, "cause", false, 1, EVENT_ID_MAX, CHARSET_TEXT, ev->cause, NULL,
				 err))
			goto out;
		break;
	case EVENT_TYPE_COUNT:
		break;
	}

	event_hash(ev);
	rc = 0;
out:
	json_decref(root);
	return rc;
}
