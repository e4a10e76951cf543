/* test_event.c: decoding gateway call events (event.h): the valid form of
 * every event type, every error with its status, code and field as
 * doc/api.md lists them, and the payload hash used for idempotency. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "event.h"

/* 2019-03-04T09:15:02+08:00 is 01:15:02 UTC; `date -u -d 2019-03-04T01:15:02Z +%s`. */
#define OFFER_TIME "2019-03-04T09:15:02+08:00"
#define OFFER_USEC (1551662102LL * 1000000)

static const char *const common_fields[] = {"event_id", "type", "call_id", "centre", "time"};
#define N_COMMON (sizeof common_fields / sizeof common_fields[0])

/* A valid event of type t as a JSON object (the caller owns it). */
static json_t *valid_event(enum event_type t)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "event_id", "gw1-000001-1", "type",
			      event_type_name(t), "call_id", "gw1-000001", "centre", "nanjing",
			      "time", OFFER_TIME);
	ck_assert_ptr_nonnull(o);
	switch (t) {
	case EVENT_OFFERED:
		json_object_set_new(o, "caller", json_string("13812345678"));
		json_object_set_new(o, "dialled", json_string("12320"));
		json_object_set_new(o, "ivr_path", json_string("1"));
		break;
	case EVENT_ANSWERED:
	case EVENT_OFFER_FAILED:
		json_object_set_new(o, "agent", json_string("agent-017"));
		break;
	case EVENT_TRANSFERRED:
		json_object_set_new(o, "to_queue", json_string("crisis"));
		break;
	case EVENT_IVR_COMPLETED:
	case EVENT_ABANDONED:
	case EVENT_ENDED:
	case EVENT_TYPE_COUNT:
		break;
	}
	return o;
}

/* Serialises o (in insertion order) and decodes it; takes ownership of o. */
static int decode_object(json_t *o, struct call_event *ev, struct event_error *err)
{
	char *text = json_dumps(o, JSON_COMPACT);
	ck_assert_ptr_nonnull(text);
	json_decref(o);
	int rc = event_decode(text, strlen(text), ev, err);
	free(text);
	return rc;
}

static int decode_text(const char *text, struct call_event *ev, struct event_error *err)
{
	return event_decode(text, strlen(text), ev, err);
}

/* Decodes o (taking ownership) and expects exactly this error. */
static void expect_error_at(json_t *o, int status, const char *code, const char *field,
			    const char *what, int line)
{
	struct call_event ev;
	struct event_error err;
	char *text = json_dumps(o, JSON_COMPACT);

	memset(&err, 0, sizeof err);
	ck_assert_msg(decode_object(o, &ev, &err) == -1, "line %d, %s: %s was accepted", line, what,
		      text);
	ck_assert_msg(err.status == status && strcmp(err.code, code) == 0 &&
			      strcmp(err.field, field) == 0,
		      "line %d, %s: %s gave %d %s field '%s' (%s), want %d %s field '%s'", line,
		      what, text, err.status, err.code, err.field, err.message, status, code,
		      field);
	/* Every message names what is wrong; a field error names its field. */
	ck_assert_msg(err.message[0] != '\0', "line %d, %s: empty message", line, what);
	if (field[0] != '\0' && strcmp(code, "unknown_event_type") != 0)
		ck_assert_msg(strstr(err.message, field) != NULL,
			      "line %d, %s: message '%s' does not name %s", line, what, err.message,
			      field);
	free(text);
}
#define expect_error(o, status, code, field, what)                                                 \
	expect_error_at((o), (status), (code), (field), (what), __LINE__)

/* A valid event of type t with field set to value (stolen). */
static json_t *with_field(enum event_type t, const char *field, json_t *value)
{
	json_t *o = valid_event(t);
	json_object_set_new(o, field, value);
	return o;
}

static json_t *without_field(enum event_type t, const char *field)
{
	json_t *o = valid_event(t);
	ck_assert_int_eq(json_object_del(o, field), 0);
	return o;
}

/* A string of n copies of c. */
static json_t *repeated(char c, size_t n)
{
	char buf[256];
	ck_assert_uint_lt(n, sizeof buf);
	memset(buf, c, n);
	buf[n] = '\0';
	return json_string(buf);
}

START_TEST (test_offered_fields_land_in_the_struct) {
	struct call_event ev;
	struct event_error err;
	const char *body = "{\"event_id\":\"gw1-000001-1\",\"type\":\"call.offered\","
			   "\"call_id\":\"gw1-000001\",\"centre\":\"nanjing\","
			   "\"time\":\"" OFFER_TIME "\",\"caller\":\"+86 138-1234-5678\","
			   "\"dialled\":\"12320\",\"ivr_path\":\"1*#\","
			   "\"caller_flags\":[\"recent_crisis\",\"elderly\"]}";

	ck_assert_msg(decode_text(body, &ev, &err) == 0, "refused: %s", err.message);
	ck_assert_int_eq(ev.type, EVENT_OFFERED);
	ck_assert_str_eq(ev.event_id, "gw1-000001-1");
	ck_assert_str_eq(ev.call_id, "gw1-000001");
	ck_assert_str_eq(ev.centre, "nanjing");
	ck_assert_int_eq(ev.at, OFFER_USEC);
	ck_assert_str_eq(ev.caller, "13812345678");
	ck_assert_str_eq(ev.dialled, "12320");
	ck_assert_str_eq(ev.ivr_path, "1*#");
	ck_assert(ev.has_ivr_path);
	ck_assert_uint_eq(ev.n_flags, 2);
	ck_assert_str_eq(ev.flags[0], "recent_crisis");
	ck_assert_str_eq(ev.flags[1], "elderly");
}
END_TEST

START_TEST (test_offered_caller_is_normalised) {
	static const struct {
		const char *raw, *want;
	} cases[] = {
		{"13812345678", "13812345678"},    {"+86 138-1234-5678", "13812345678"},
		{"+8613812345678", "13812345678"}, {"0086 138 1234 5678", "13812345678"},
		{"025-8327 1234", "02583271234"},  {"12320", "12320"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct call_event ev;
		struct event_error err;
		json_t *o = with_field(EVENT_OFFERED, "caller", json_string(cases[i].raw));
		ck_assert_msg(decode_object(o, &ev, &err) == 0, "'%s' refused: %s", cases[i].raw,
			      err.message);
		ck_assert_str_eq(ev.caller, cases[i].want);
	}
}
END_TEST

START_TEST (test_offered_optional_parts) {
	struct call_event ev;
	struct event_error err;

	/* No caller_flags at all, and an empty ivr_path (the caller pressed nothing). */
	ck_assert_int_eq(decode_object(with_field(EVENT_OFFERED, "ivr_path", json_string("")), &ev,
				       &err),
			 0);
	ck_assert_uint_eq(ev.n_flags, 0);
	ck_assert_str_eq(ev.ivr_path, "");
	ck_assert(ev.has_ivr_path);

	/* An empty flag list, and the longest accepted values. */
	json_t *o = with_field(EVENT_OFFERED, "caller_flags", json_array());
	json_object_set_new(o, "dialled", repeated('9', 32));
	json_object_set_new(o, "ivr_path", repeated('#', 32));
	ck_assert_msg(decode_object(o, &ev, &err) == 0, "refused: %s", err.message);
	ck_assert_uint_eq(ev.n_flags, 0);
	ck_assert_uint_eq(strlen(ev.dialled), 32);
	ck_assert_uint_eq(strlen(ev.ivr_path), 32);

	/* Eight flags of sixteen characters each is the most allowed. */
	json_t *flags = json_array();
	for (int i = 0; i < EVENT_MAX_FLAGS; i++) {
		char flag[EVENT_FLAG_MAX + 1];
		snprintf(flag, sizeof flag, "flag_%011d", i);
		ck_assert_uint_eq(strlen(flag), 16);
		json_array_append_new(flags, json_string(flag));
	}
	ck_assert_msg(decode_object(with_field(EVENT_OFFERED, "caller_flags", flags), &ev, &err) ==
			      0,
		      "refused: %s", err.message);
	ck_assert_uint_eq(ev.n_flags, 8);
	ck_assert_str_eq(ev.flags[0], "flag_00000000000");
	ck_assert_str_eq(ev.flags[7], "flag_00000000007");
}
END_TEST

START_TEST (test_answered_fields_land_in_the_struct) {
	struct call_event ev;
	struct event_error err;

	ck_assert_int_eq(decode_object(valid_event(EVENT_ANSWERED), &ev, &err), 0);
	ck_assert_int_eq(ev.type, EVENT_ANSWERED);
	ck_assert_str_eq(ev.event_id, "gw1-000001-1");
	ck_assert_str_eq(ev.call_id, "gw1-000001");
	ck_assert_str_eq(ev.centre, "nanjing");
	ck_assert_int_eq(ev.at, OFFER_USEC);
	ck_assert_str_eq(ev.agent, "agent-017");
	ck_assert_str_eq(ev.caller, "");
	ck_assert_str_eq(ev.to_queue, "");
}
END_TEST

START_TEST (test_transferred_to_a_queue_or_to_an_agent) {
	struct call_event ev;
	struct event_error err;

	ck_assert_int_eq(decode_object(valid_event(EVENT_TRANSFERRED), &ev, &err), 0);
	ck_assert_int_eq(ev.type, EVENT_TRANSFERRED);
	ck_assert_str_eq(ev.to_queue, "crisis");
	ck_assert_str_eq(ev.agent, "");

	json_t *o = without_field(EVENT_TRANSFERRED, "to_queue");
	json_object_set_new(o, "to_agent", json_string("agent-042"));
	ck_assert_msg(decode_object(o, &ev, &err) == 0, "refused: %s", err.message);
	ck_assert_int_eq(ev.type, EVENT_TRANSFERRED);
	ck_assert_str_eq(ev.agent, "agent-042");
	ck_assert_str_eq(ev.to_queue, "");
}
END_TEST

START_TEST (test_ivr_completed_with_and_without_a_path) {
	struct call_event ev;
	struct event_error err;

	ck_assert_int_eq(decode_object(valid_event(EVENT_IVR_COMPLETED), &ev, &err), 0);
	ck_assert_int_eq(ev.type, EVENT_IVR_COMPLETED);
	ck_assert(!ev.has_ivr_path);
	ck_assert_str_eq(ev.ivr_path, "");

	ck_assert_int_eq(
		decode_object(with_field(EVENT_IVR_COMPLETED, "ivr_path", json_string("2#1")), &ev,
			      &err),
		0);
	ck_assert(ev.has_ivr_path);
	ck_assert_str_eq(ev.ivr_path, "2#1");
}
END_TEST

START_TEST (test_abandoned_and_ended) {
	struct call_event ev;
	struct event_error err;

	ck_assert_int_eq(decode_object(valid_event(EVENT_ABANDONED), &ev, &err), 0);
	ck_assert_int_eq(ev.type, EVENT_ABANDONED);
	ck_assert_str_eq(ev.call_id, "gw1-000001");

	ck_assert_int_eq(decode_object(valid_event(EVENT_ENDED), &ev, &err), 0);
	ck_assert_int_eq(ev.type, EVENT_ENDED);
	ck_assert_str_eq(ev.cause, "");

	ck_assert_int_eq(decode_object(with_field(EVENT_ENDED, "cause",
						  json_string("caller hung up: normal")),
				       &ev, &err),
			 0);
	ck_assert_str_eq(ev.cause, "caller hung up: normal");

	ck_assert_int_eq(decode_object(valid_event(EVENT_OFFER_FAILED), &ev, &err), 0);
	ck_assert_int_eq(ev.type, EVENT_OFFER_FAILED);
	ck_assert_str_eq(ev.agent, "agent-017");
	expect_error(without_field(EVENT_OFFER_FAILED, "agent"), 400, "missing_field", "agent",
		     "offer_failed");
}
END_TEST

START_TEST (test_offered_language_is_optional_and_part_of_the_identity) {
	struct call_event plain, with_language;
	struct event_error err;

	ck_assert_int_eq(decode_object(valid_event(EVENT_OFFERED), &plain, &err), 0);
	ck_assert_str_eq(plain.language, "");
	ck_assert_int_eq(decode_object(with_field(EVENT_OFFERED, "language",
						  json_string("english")),
				       &with_language, &err),
			 0);
	ck_assert_str_eq(with_language.language, "english");
	ck_assert(memcmp(plain.payload_hash, with_language.payload_hash, EVENT_HASH_BYTES) != 0);
	expect_error(with_field(EVENT_OFFERED, "language", json_string("Eng lish")), 400,
		     "invalid_field", "language", "language");
	expect_error(with_field(EVENT_OFFERED, "language", json_integer(1)), 400,
		     "invalid_field", "language", "language");
}
END_TEST

START_TEST (test_time_forms) {
	static const struct {
		const char *text;
		long long usec;
	} cases[] = {
		{"2019-03-04T09:15:02+08:00", OFFER_USEC},
		{"2019-03-04T01:15:02Z", OFFER_USEC},
		{"2019-03-04T01:15:02.250Z", OFFER_USEC + 250000},
		{"2019-03-03T20:15:02-05:00", OFFER_USEC},
		{"2019-03-04T09:15:02.000001+08:00", OFFER_USEC + 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct call_event ev;
		struct event_error err;
		ck_assert_msg(decode_object(with_field(EVENT_ABANDONED, "time",
						       json_string(cases[i].text)),
					    &ev, &err) == 0,
			      "'%s' refused: %s", cases[i].text, err.message);
		ck_assert_msg(ev.at == cases[i].usec, "'%s' gave %lld, want %lld", cases[i].text,
			      (long long)ev.at, cases[i].usec);
	}
}
END_TEST

START_TEST (test_the_body_length_is_respected) {
	struct call_event ev;
	struct event_error err;
	json_t *o = valid_event(EVENT_ABANDONED);
	char *valid = json_dumps(o, JSON_COMPACT);
	json_decref(o);

	/* Bytes after len are not part of the body. */
	size_t n = strlen(valid);
	char *padded = malloc(n + 8);
	ck_assert_ptr_nonnull(padded);
	memcpy(padded, valid, n);
	memcpy(padded + n, "garbage", 8);
	ck_assert_int_eq(event_decode(padded, n, &ev, &err), 0);
	ck_assert_str_eq(ev.call_id, "gw1-000001");

	/* A body cut short is not JSON. */
	ck_assert_int_eq(event_decode(padded, n - 1, &ev, &err), -1);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "malformed_json");
	free(padded);
	free(valid);
}
END_TEST

START_TEST (test_malformed_json_gives_line_and_column) {
	struct call_event ev;
	struct event_error err;
	/* The ':' is missing on the third line. */
	const char *body = "{\n  \"event_id\": \"gw1-000001-1\",\n  \"type\" \"call.abandoned\"\n}";
	char want[32];
	int column = -1;

	ck_assert_int_eq(decode_text(body, &ev, &err), -1);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "malformed_json");
	ck_assert_str_eq(err.field, "");
	snprintf(want, sizeof want, "line %d", 3);
	ck_assert_msg(strstr(err.message, want) != NULL, "no '%s' in '%s'", want, err.message);
	const char *col = strstr(err.message, "column ");
	ck_assert_msg(col != NULL, "no column in '%s'", err.message);
	ck_assert_int_eq(sscanf(col, "column %d", &column), 1);
	/* The third line is 25 characters long; the error is somewhere on it. */
	ck_assert_msg(column >= 1 && column <= 25, "column %d", column);

	static const char *const bad[] = {
		"",
		"   ",
		"{",
		"{\"event_id\":}",
		"{'event_id':'x'}",
		"{\"event_id\":\"x\",}",
		"{\"event_id\":\"x\"} {}",
		"{\"event_id\":\"gw1\\u0000-1\"}",
		"\xff\xfe{}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&err, 0, sizeof err);
		ck_assert_msg(decode_text(bad[i], &ev, &err) == -1, "'%s' accepted", bad[i]);
		ck_assert_msg(err.status == 400 && strcmp(err.code, "malformed_json") == 0,
			      "'%s' gave %d %s", bad[i], err.status, err.code);
		ck_assert_msg(strstr(err.message, "line ") && strstr(err.message, "column "),
			      "'%s': message '%s' has no position", bad[i], err.message);
	}
}
END_TEST

START_TEST (test_json_that_is_not_an_object) {
	static const char *const bodies[] = {
		"[]", "[{\"type\":\"call.ended\"}]", "\"call.ended\"", "42", "null", "true"};
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		struct call_event ev;
		struct event_error err;
		memset(&err, 0, sizeof err);
		ck_assert_msg(decode_text(bodies[i], &ev, &err) == -1, "'%s' accepted", bodies[i]);
		ck_assert_msg(err.status == 400 && strcmp(err.code, "not_an_object") == 0,
			      "'%s' gave %d %s (%s)", bodies[i], err.status, err.code, err.message);
		ck_assert_str_eq(err.field, "");
	}
}
END_TEST

START_TEST (test_every_missing_common_field_is_named) {
	for (int t = 0; t < EVENT_TYPE_COUNT; t++)
		for (size_t f = 0; f < N_COMMON; f++)
			expect_error(without_field((enum event_type)t, common_fields[f]), 400,
				     "missing_field", common_fields[f],
				     event_type_name((enum event_type)t));
}
END_TEST

START_TEST (test_every_missing_type_field_is_named) {
	expect_error(without_field(EVENT_OFFERED, "caller"), 400, "missing_field", "caller",
		     "offered");
	expect_error(without_field(EVENT_OFFERED, "dialled"), 400, "missing_field", "dialled",
		     "offered");
	expect_error(without_field(EVENT_OFFERED, "ivr_path"), 400, "missing_field", "ivr_path",
		     "offered");
	expect_error(without_field(EVENT_ANSWERED, "agent"), 400, "missing_field", "agent",
		     "answered");
}
END_TEST

START_TEST (test_wrong_types_are_invalid_fields) {
	static const struct {
		enum event_type type;
		const char *field;
	} fields[] = {
		{EVENT_ABANDONED, "event_id"},     {EVENT_ABANDONED, "type"},
		{EVENT_ABANDONED, "call_id"},      {EVENT_ABANDONED, "centre"},
		{EVENT_ABANDONED, "time"},         {EVENT_OFFERED, "caller"},
		{EVENT_OFFERED, "dialled"},        {EVENT_OFFERED, "ivr_path"},
		{EVENT_ANSWERED, "agent"},         {EVENT_TRANSFERRED, "to_queue"},
		{EVENT_IVR_COMPLETED, "ivr_path"}, {EVENT_ENDED, "cause"},
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		json_t *wrong[] = {json_integer(42),     json_real(1.5), json_true(),
				   json_null(),          json_array(),   json_object(),
				   json_pack("[s]", "x")};
		for (size_t k = 0; k < sizeof wrong / sizeof wrong[0]; k++)
			expect_error(with_field(fields[i].type, fields[i].field, wrong[k]), 400,
				     "invalid_field", fields[i].field, fields[i].field);
	}

	/* to_agent alone, of the wrong type. */
	json_t *o = without_field(EVENT_TRANSFERRED, "to_queue");
	json_object_set_new(o, "to_agent", json_integer(42));
	expect_error(o, 400, "invalid_field", "to_agent", "to_agent");

	/* A caller written as a number is not accepted either. */
	expect_error(with_field(EVENT_OFFERED, "caller", json_integer(13812345678LL)), 400,
		     "invalid_field", "caller", "numeric caller");
}
END_TEST

START_TEST (test_id_length_and_alphabet) {
	static const char *const id_fields[] = {"event_id", "call_id"};
	static const char *const bad[] = {"",         "gw1 000001", "gw1/000001",  "gw1#1",
					  "gw1,1",    "gw1\t1",     "caf\xc3\xa9", "gw1+1",
					  "<script>", "gw1\"1"};
	for (size_t f = 0; f < 2; f++) {
		struct call_event ev;
		struct event_error err;

		/* 64 characters of the whole alphabet is the longest id. */
		char longest[65];
		const char *alphabet = "AZaz09._:-";
		for (int i = 0; i < 64; i++)
			longest[i] = alphabet[i % 10];
		longest[64] = '\0';
		ck_assert_msg(decode_object(with_field(EVENT_ABANDONED, id_fields[f],
						       json_string(longest)),
					    &ev, &err) == 0,
			      "%s: 64 characters refused: %s", id_fields[f], err.message);
		ck_assert_str_eq(strcmp(id_fields[f], "event_id") == 0 ? ev.event_id : ev.call_id,
				 longest);

		expect_error(with_field(EVENT_ABANDONED, id_fields[f], repeated('a', 65)), 400,
			     "invalid_field", id_fields[f], "65 characters");
		expect_error(with_field(EVENT_ABANDONED, id_fields[f], repeated('a', 200)), 400,
			     "invalid_field", id_fields[f], "200 characters");
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
			expect_error(with_field(EVENT_ABANDONED, id_fields[f], json_string(bad[i])),
				     400, "invalid_field", id_fields[f], bad[i]);
	}
}
END_TEST

START_TEST (test_other_string_fields_are_checked) {
	static const struct {
		enum event_type type;
		const char *field, *value;
		size_t repeat; /* value is one character repeated this often, if > 0 */
	} bad[] = {
		{EVENT_ABANDONED, "centre", "Nanjing", 0},
		{EVENT_ABANDONED, "centre", "nan jing", 0},
		{EVENT_ABANDONED, "centre", "nanjing.1", 0},
		{EVENT_ABANDONED, "centre", "", 0},
		{EVENT_ABANDONED, "centre", "n", 33},
		{EVENT_OFFERED, "caller", "", 0},
		{EVENT_OFFERED, "caller", "138abc45678", 0},
		{EVENT_OFFERED, "caller", "(025)83271234", 0},
		{EVENT_OFFERED, "caller", "1", 21},
		{EVENT_OFFERED, "caller", "1", 100},
		{EVENT_OFFERED, "dialled", "", 0},
		{EVENT_OFFERED, "dialled", "12 320", 0},
		{EVENT_OFFERED, "dialled", "+12320", 0},
		{EVENT_OFFERED, "dialled", "1", 33},
		{EVENT_OFFERED, "ivr_path", "1a", 0},
		{EVENT_OFFERED, "ivr_path", "1 2", 0},
		{EVENT_OFFERED, "ivr_path", "1", 33},
		{EVENT_ANSWERED, "agent", "", 0},
		{EVENT_ANSWERED, "agent", "agent 17", 0},
		{EVENT_ANSWERED, "agent", "a", 65},
		{EVENT_TRANSFERRED, "to_queue", "", 0},
		{EVENT_TRANSFERRED, "to_queue", "Crisis", 0},
		{EVENT_TRANSFERRED, "to_queue", "q", 33},
		{EVENT_IVR_COMPLETED, "ivr_path", "9x", 0},
		{EVENT_IVR_COMPLETED, "ivr_path", "1", 33},
		{EVENT_ENDED, "cause", "", 0},
		{EVENT_ENDED, "cause", "hung/up", 0},
		{EVENT_ENDED, "cause", "c", 65},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *v = bad[i].repeat ? repeated(bad[i].value[0], bad[i].repeat) :
					    json_string(bad[i].value);
		expect_error(with_field(bad[i].type, bad[i].field, v), 400, "invalid_field",
			     bad[i].field, bad[i].value);
	}

	/* to_agent has the id alphabet and length. */
	static const char *const bad_agents[] = {"", "agent 42", "agent/42"};
	for (size_t i = 0; i < 3; i++) {
		json_t *o = without_field(EVENT_TRANSFERRED, "to_queue");
		json_object_set_new(o, "to_agent", json_string(bad_agents[i]));
		expect_error(o, 400, "invalid_field", "to_agent", bad_agents[i]);
	}
	json_t *o = without_field(EVENT_TRANSFERRED, "to_queue");
	json_object_set_new(o, "to_agent", repeated('a', 65));
	expect_error(o, 400, "invalid_field", "to_agent", "65 characters");
}
END_TEST

START_TEST (test_bad_time_forms) {
	static const char *const bad[] = {
		"",
		"yesterday",
		"1551662102",
		"2019-03-04",
		"2019-03-04T09:15:02",        /* no offset */
		"2019-03-04T09:15",           /* no seconds */
		"2019-03-04T09:15:02+0800",   /* offset without ':' */
		"2019-03-04T09:15:02+08",     /* offset without minutes */
		"2019-03-04T09:15:02.Z",      /* empty fraction */
		"2019-03-04T09:15:02Z junk",  /* trailing text */
		"2019-3-4T09:15:02Z",         /* one-digit month and day */
		"2019-02-29T00:00:00Z",       /* 2019 is not a leap year */
		"2019-13-01T00:00:00Z",       /* month 13 */
		"2019-03-04T24:00:00Z",       /* hour 24 */
		"2019-03-04T09:60:00Z",       /* minute 60 */
		"2019-03-04T09:15:02+24:00",  /* offset out of range */
		"1969-12-31T23:59:59Z",       /* before the epoch */
		"04/03/2019 09:15:02 +08:00", /* another format altogether */
		"2019-03-04T09:15:02.2500000000000000000000000000000000000000000000000000Z",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_error(with_field(EVENT_ENDED, "time", json_string(bad[i])), 400,
			     "invalid_field", "time", bad[i]);
	/* The time as a number of seconds is the wrong type. */
	expect_error(with_field(EVENT_ENDED, "time", json_integer(1551662102)), 400,
		     "invalid_field", "time", "number");
}
END_TEST

START_TEST (test_unknown_field_is_named) {
	expect_error(with_field(EVENT_OFFERED, "colour", json_string("blue")), 400, "unknown_field",
		     "colour", "made-up field");
	/* A typo of a real field. */
	expect_error(with_field(EVENT_OFFERED, "dialed", json_string("12320")), 400,
		     "unknown_field", "dialed", "typo");
	expect_error(with_field(EVENT_ABANDONED, "Call_id", json_string("gw1-000001")), 400,
		     "unknown_field", "Call_id", "case");
	/* Fields that belong to another event type. */
	expect_error(with_field(EVENT_ANSWERED, "caller", json_string("13812345678")), 400,
		     "unknown_field", "caller", "caller on answered");
	expect_error(with_field(EVENT_OFFERED, "agent", json_string("agent-017")), 400,
		     "unknown_field", "agent", "agent on offered");
	expect_error(with_field(EVENT_ABANDONED, "cause", json_string("gone")), 400,
		     "unknown_field", "cause", "cause on abandoned");
	expect_error(with_field(EVENT_ENDED, "to_queue", json_string("crisis")), 400,
		     "unknown_field", "to_queue", "to_queue on ended");
	expect_error(with_field(EVENT_IVR_COMPLETED, "caller_flags", json_array()), 400,
		     "unknown_field", "caller_flags", "flags on ivr_completed");
	expect_error(with_field(EVENT_ANSWERED, "to_agent", json_string("agent-042")), 400,
		     "unknown_field", "to_agent", "to_agent on answered");
	/* Even a null unknown field is refused. */
	expect_error(with_field(EVENT_ABANDONED, "note", json_null()), 400, "unknown_field", "note",
		     "null field");
}
END_TEST

START_TEST (test_unknown_type_is_422) {
	static const char *const types[] = {
		"call.started", "call.offer", "CALL.OFFERED", "call.offered ",
		"offered",      "",           "call/offered", "通话.接通",
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		expect_error(with_field(EVENT_ABANDONED, "type", json_string(types[i])), 422,
			     "unknown_event_type", "type", types[i]);
	expect_error(with_field(EVENT_ABANDONED, "type", repeated('x', 100)), 422,
		     "unknown_event_type", "type", "100 characters");
}
END_TEST

START_TEST (test_caller_flags_must_be_an_array_of_short_names) {
	json_t *nine = json_array();
	for (int i = 0; i < EVENT_MAX_FLAGS + 1; i++)
		json_array_append_new(nine, json_string("elderly"));
	json_t *shapes[] = {
		json_string("recent_crisis"),
		json_object(),
		json_integer(1),
		json_null(),
		json_pack("[s,i]", "elderly", 1),
		json_pack("[[s]]", "elderly"),
		json_pack("[n]"),
		json_pack("[s]", ""),
		json_pack("[s]", "Recent_crisis"),
		json_pack("[s]", "recent-crisis"),
		json_pack("[s]", "recent crisis"),
		json_pack("[s]", "abcdefghijklmnopq"), /* 17 characters */
		nine,
	};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		char what[32];
		snprintf(what, sizeof what, "shape %zu", i);
		expect_error(with_field(EVENT_OFFERED, "caller_flags", shapes[i]), 400,
			     "invalid_field", "caller_flags", what);
	}
}
END_TEST

START_TEST (test_transferred_needs_exactly_one_target) {
	struct call_event ev;
	struct event_error err;

	/* Neither. */
	memset(&err, 0, sizeof err);
	ck_assert_int_eq(decode_object(without_field(EVENT_TRANSFERRED, "to_queue"), &ev, &err),
			 -1);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "missing_field");
	ck_assert_msg(strcmp(err.field, "to_queue") == 0 || strcmp(err.field, "to_agent") == 0,
		      "field '%s'", err.field);
	ck_assert_ptr_nonnull(strstr(err.message, "to_queue"));
	ck_assert_ptr_nonnull(strstr(err.message, "to_agent"));

	/* Both. */
	memset(&err, 0, sizeof err);
	ck_assert_int_eq(
		decode_object(with_field(EVENT_TRANSFERRED, "to_agent", json_string("agent-042")),
			      &ev, &err),
		-1);
	ck_assert_int_eq(err.status, 400);
	ck_assert_str_eq(err.code, "invalid_field");
	ck_assert_msg(strcmp(err.field, "to_queue") == 0 || strcmp(err.field, "to_agent") == 0,
		      "field '%s'", err.field);
	ck_assert_ptr_nonnull(strstr(err.message, "to_queue"));
	ck_assert_ptr_nonnull(strstr(err.message, "to_agent"));
}
END_TEST

START_TEST (test_duplicate_keys_are_rejected) {
	static const char *const bodies[] = {
		"{\"event_id\":\"gw1-000001-1\",\"type\":\"call.abandoned\",\"call_id\":\"gw1-000001\","
		"\"centre\":\"nanjing\",\"time\":\"" OFFER_TIME "\",\"call_id\":\"gw1-000002\"}",
		/* The same value twice is still a duplicate. */
		"{\"event_id\":\"gw1-000001-1\",\"type\":\"call.abandoned\",\"type\":\"call.abandoned\","
		"\"call_id\":\"gw1-000001\",\"centre\":\"nanjing\",\"time\":\"" OFFER_TIME "\"}",
	};
	for (size_t i = 0; i < 2; i++) {
		struct call_event ev;
		struct event_error err;
		memset(&err, 0, sizeof err);
		ck_assert_msg(decode_text(bodies[i], &ev, &err) == -1, "duplicate %zu accepted", i);
		ck_assert_int_eq(err.status, 400);
		ck_assert_str_eq(err.code, "malformed_json");
		ck_assert_msg(strstr(err.message, "duplicate") != NULL, "message '%s'",
			      err.message);
	}
}
END_TEST

START_TEST (test_event_type_names) {
	static const char *const names[EVENT_TYPE_COUNT] = {
		"call.offered",       "call.answered",  "call.transferred",
		"call.ivr_completed", "call.abandoned", "call.ended",
		"call.offer_failed",
	};
	for (int t = 0; t < EVENT_TYPE_COUNT; t++)
		ck_assert_str_eq(event_type_name((enum event_type)t), names[t]);
	ck_assert_str_eq(event_type_name(EVENT_TYPE_COUNT), "unknown");
}
END_TEST

static void hash_of(const char *body, unsigned char out[EVENT_HASH_BYTES])
{
	struct call_event ev;
	struct event_error err;
	ck_assert_msg(decode_text(body, &ev, &err) == 0, "refused: %s (%s)", err.message, body);
	memcpy(out, ev.payload_hash, EVENT_HASH_BYTES);
}

START_TEST (test_payload_hash_is_sha256_of_the_decoded_fields) {
	/* The hashed bytes are: the type (1 byte), the time in microseconds
	 * (8 bytes, little-endian), a byte of has_ivr_path | n_flags << 1, then
	 * each field as a length byte and its bytes, in the order event_id,
	 * call_id, centre, caller, dialled, ivr_path, flags..., agent, to_queue,
	 * cause. Computed independently with Python's hashlib:
	 *   b = bytes([4]) + struct.pack('<Q', 1551662160000000) + bytes([0])
	 *   for f in ['gw1-000001-2', 'gw1-000001', 'nanjing'] + [''] * 6:
	 *       b += bytes([len(f)]) + f.encode()
	 *   hashlib.sha256(b).hexdigest() */
	static const unsigned char want[EVENT_HASH_BYTES] = {
		0xf7, 0xde, 0xdc, 0x8f, 0xf5, 0x3e, 0xda, 0xc5, 0xc8, 0x6d, 0x38,
		0xf0, 0xbf, 0xdb, 0x9b, 0xeb, 0x20, 0x66, 0x3e, 0xf1, 0x1e, 0xec,
		0xfe, 0x5d, 0x59, 0x19, 0x4c, 0x61, 0xb1, 0x03, 0xa5, 0xac,
	};
	unsigned char got[EVENT_HASH_BYTES];

	hash_of("{ \"type\": \"call.abandoned\", \"event_id\": \"gw1-000001-2\",\n"
		"  \"time\": \"2019-03-04T09:16:00+08:00\", \"centre\": \"nanjing\",\n"
		"  \"call_id\": \"gw1-000001\" }",
		got);
	ck_assert_mem_eq(got, want, EVENT_HASH_BYTES);
}
END_TEST

START_TEST (test_payload_hash_is_the_same_for_the_same_meaning) {
	unsigned char a[EVENT_HASH_BYTES], b[EVENT_HASH_BYTES], c[EVENT_HASH_BYTES];

	/* The same instant with another offset, the same number written
	 * another way. */
	hash_of("{\"event_id\":\"e\",\"type\":\"call.offered\",\"call_id\":\"c\",\"centre\":\"nanjing\","
		"\"time\":\"2019-03-04T09:15:02+08:00\",\"caller\":\"13812345678\",\"dialled\":\"12320\","
		"\"ivr_path\":\"1\"}",
		a);
	hash_of("{\"event_id\":\"e\",\"type\":\"call.offered\",\"call_id\":\"c\",\"centre\":\"nanjing\","
		"\"time\":\"2019-03-04T01:15:02Z\",\"caller\":\"13812345678\",\"dialled\":\"12320\","
		"\"ivr_path\":\"1\"}",
		b);
	hash_of("{\"event_id\":\"e\",\"type\":\"call.offered\",\"call_id\":\"c\",\"centre\":\"nanjing\","
		"\"time\":\"2019-03-04T09:15:02.000+08:00\",\"caller\":\"+86 138-1234-5678\","
		"\"dialled\":\"12320\",\"ivr_path\":\"1\"}",
		c);
	ck_assert_mem_eq(a, b, EVENT_HASH_BYTES);
	ck_assert_mem_eq(a, c, EVENT_HASH_BYTES);
}
END_TEST

START_TEST (test_payload_hash_ignores_key_order_and_whitespace) {
	unsigned char a[EVENT_HASH_BYTES], b[EVENT_HASH_BYTES], c[EVENT_HASH_BYTES],
		d[EVENT_HASH_BYTES];

	hash_of("{\"event_id\":\"gw1-000001-1\",\"type\":\"call.offered\",\"call_id\":\"gw1-000001\","
		"\"centre\":\"nanjing\",\"time\":\"" OFFER_TIME "\",\"caller\":\"13812345678\","
		"\"dialled\":\"12320\",\"ivr_path\":\"1\",\"caller_flags\":[\"elderly\"]}",
		a);
	hash_of("{\"caller_flags\":[\"elderly\"],\"ivr_path\":\"1\",\"dialled\":\"12320\","
		"\"caller\":\"13812345678\",\"time\":\"" OFFER_TIME "\",\"centre\":\"nanjing\","
		"\"call_id\":\"gw1-000001\",\"type\":\"call.offered\",\"event_id\":\"gw1-000001-1\"}",
		b);
	hash_of("\n{\r\n\t\"centre\" :\"nanjing\",  \"event_id\":   \"gw1-000001-1\",\n"
		"\t\"caller_flags\" : [ \"elderly\" ] ,\"type\":\"call.offered\",\n"
		"\t\"time\":\"" OFFER_TIME "\", \"call_id\":\"gw1-000001\",\n"
		"\t\"dialled\" : \"12320\", \"caller\":\"13812345678\", \"ivr_path\":\"1\"\n}\n",
		c);
	/* The same characters written as escapes are the same value. */
	hash_of("{\"event_id\":\"gw1-000001-1\",\"type\":\"call.offered\",\"call_id\":\"gw1-000001\","
		"\"centre\":\"\\u006eanjing\",\"time\":\"" OFFER_TIME
		"\",\"caller\":\"13812345678\","
		"\"dialled\":\"12320\",\"ivr_path\":\"1\",\"caller_flags\":[\"elderly\"]}",
		d);
	ck_assert_mem_eq(a, b, EVENT_HASH_BYTES);
	ck_assert_mem_eq(a, c, EVENT_HASH_BYTES);
	ck_assert_mem_eq(a, d, EVENT_HASH_BYTES);
}
END_TEST

START_TEST (test_payload_hash_changes_with_any_value) {
	static const struct {
		const char *field, *value;
	} changes[] = {
		{"event_id", "gw1-000001-2"},
		{"call_id", "gw1-000002"},
		{"centre", "suzhou"},
		{"time", "2019-03-04T09:15:03+08:00"},
		{"time", "2019-03-04T09:15:02.000001+08:00"},
		{"caller", "13812345679"},
		{"dialled", "12321"},
		{"ivr_path", "2"},
		{"ivr_path", ""},
	};
	struct call_event base, ev;
	struct event_error err;
	json_t *o = with_field(EVENT_OFFERED, "caller_flags", json_pack("[s,s]", "elderly", "vip"));

	ck_assert_int_eq(decode_object(json_deep_copy(o), &base, &err), 0);
	for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
		json_t *c = json_deep_copy(o);
		json_object_set_new(c, changes[i].field, json_string(changes[i].value));
		ck_assert_msg(decode_object(c, &ev, &err) == 0, "%s=%s refused: %s",
			      changes[i].field, changes[i].value, err.message);
		ck_assert_msg(memcmp(ev.payload_hash, base.payload_hash, EVENT_HASH_BYTES) != 0,
			      "%s=%s did not change the hash", changes[i].field, changes[i].value);
	}

	/* Flags: another flag, the order of the flags, no flags, an empty list. */
	json_t *flag_lists[] = {json_pack("[s,s]", "elderly", "vi"),
				json_pack("[s,s]", "vip", "elderly"), json_pack("[s]", "elderly"),
				json_array(), NULL};
	for (size_t i = 0; i < sizeof flag_lists / sizeof flag_lists[0]; i++) {
		json_t *c = json_deep_copy(o);
		if (flag_lists[i])
			json_object_set_new(c, "caller_flags", flag_lists[i]);
		else
			json_object_del(c, "caller_flags");
		ck_assert_int_eq(decode_object(c, &ev, &err), 0);
		ck_assert_msg(memcmp(ev.payload_hash, base.payload_hash, EVENT_HASH_BYTES) != 0,
			      "flag list %zu did not change the hash", i);
	}

	/* Another type with the same common fields. */
	ck_assert_int_eq(decode_object(valid_event(EVENT_ABANDONED), &ev, &err), 0);
	ck_assert(memcmp(ev.payload_hash, base.payload_hash, EVENT_HASH_BYTES) != 0);
	json_decref(o);
}
END_TEST

static Suite *event_suite(void)
{
	Suite *s = suite_create("event");
	TCase *valid = tcase_create("valid");
	TCase *errors = tcase_create("errors");
	TCase *hash = tcase_create("hash");

	tcase_add_test(valid, test_offered_fields_land_in_the_struct);
	tcase_add_test(valid, test_offered_caller_is_normalised);
	tcase_add_test(valid, test_offered_optional_parts);
	tcase_add_test(valid, test_offered_language_is_optional_and_part_of_the_identity);
	tcase_add_test(valid, test_answered_fields_land_in_the_struct);
	tcase_add_test(valid, test_transferred_to_a_queue_or_to_an_agent);
	tcase_add_test(valid, test_ivr_completed_with_and_without_a_path);
	tcase_add_test(valid, test_abandoned_and_ended);
	tcase_add_test(valid, test_time_forms);
	tcase_add_test(valid, test_the_body_length_is_respected);
	tcase_add_test(valid, test_event_type_names);
	suite_add_tcase(s, valid);

	tcase_add_test(errors, test_malformed_json_gives_line_and_column);
	tcase_add_test(errors, test_json_that_is_not_an_object);
	tcase_add_test(errors, test_every_missing_common_field_is_named);
	tcase_add_test(errors, test_every_missing_type_field_is_named);
	tcase_add_test(errors, test_wrong_types_are_invalid_fields);
	tcase_add_test(errors, test_id_length_and_alphabet);
	tcase_add_test(errors, test_other_string_fields_are_checked);
	tcase_add_test(errors, test_bad_time_forms);
	tcase_add_test(errors, test_unknown_field_is_named);
	tcase_add_test(errors, test_unknown_type_is_422);
	tcase_add_test(errors, test_caller_flags_must_be_an_array_of_short_names);
	tcase_add_test(errors, test_transferred_needs_exactly_one_target);
	tcase_add_test(errors, test_duplicate_keys_are_rejected);
	suite_add_tcase(s, errors);

	tcase_add_test(hash, test_payload_hash_is_sha256_of_the_decoded_fields);
	tcase_add_test(hash, test_payload_hash_is_the_same_for_the_same_meaning);
	tcase_add_test(hash, test_payload_hash_ignores_key_order_and_whitespace);
	tcase_add_test(hash, test_payload_hash_changes_with_any_value);
	suite_add_tcase(s, hash);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(event_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
