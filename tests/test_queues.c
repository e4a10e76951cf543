/* test_queues.c: the shipped queue file (conf/queues.yaml) against the core
 * and the shipped rules, the defaults, and every load error with its
 * position and key. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "acd.h"
#include "classifier.h"
#include "queues.h"
#include "testfiles.h"

/* The path of a file of the source tree (static buffer). */
static const char *source_path(const char *name)
{
	static char path[512];
	const char *src = getenv("HOTLINE_SOURCE_DIR");
	ck_assert_msg(src != NULL, "HOTLINE_SOURCE_DIR is not set");
	snprintf(path, sizeof path, "%s/%s", src, name);
	return path;
}

static struct queues_file *load_path(const char *path)
{
	struct queues_file *q = NULL;
	char err[512] = "";
	int rc = queues_load_file(path, &q, err, sizeof err);
	ck_assert_msg(rc == 0, "unexpected error: %s", err);
	ck_assert_ptr_nonnull(q);
	return q;
}

static struct queues_file *load_ok(const char *text)
{
	return load_path(test_write_file("good.yaml", text));
}

/* Loads text that must fail and checks the error starts with
 * "<test_dir>/bad.yaml:<line>:<col>: <rest>". */
static void assert_error_at(const char *text, int line, int col, const char *rest)
{
	struct queues_file *q = NULL;
	char err[512] = "", want[768];
	const char *path = test_write_file("bad.yaml", text);

	ck_assert_int_eq(queues_load_file(path, &q, err, sizeof err), -1);
	ck_assert_ptr_null(q);
	snprintf(want, sizeof want, "%s:%d:%d: %s", path, line, col, rest);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		      "error\n  %s\ndoes not start with\n  %s", err, want);
}

/* The smallest good file: lines 1 to 8. Tests append keys to the general
 * queue (line 9 on) or put top-level keys before it. */
#define CRISIS_AND_GENERAL                                                                         \
	"crisis_queue: crisis\n"                                                                   \
	"default_queue: general\n"                                                                 \
	"queues:\n"                                                                                \
	"  - name: crisis\n"                                                                       \
	"    skill: crisis\n"                                                                      \
	"    crisis: true\n"                                                                       \
	"  - name: general\n"                                                                      \
	"    skill: general\n"

/* ---- the shipped file ------------------------------------------------------ */

START_TEST (test_shipped_queues_load_and_make_a_core) {
	struct queues_file *q = load_path(source_path("conf/queues.yaml"));
	struct acd_config cfg = q->acd;
	struct acd *core = NULL;
	char err[256] = "";

	ck_assert_ptr_null(cfg.centre);
	cfg.centre = "nanjing";
	ck_assert_msg(acd_new(&cfg, &core, err, sizeof err) == 0, "%s", err);
	acd_free(core);

	ck_assert_str_eq(q->crisis_queue, "crisis");
	ck_assert_str_eq(q->default_queue, "general");
	ck_assert_int_eq(q->crisis_memory_days, 30);
	ck_assert_int_eq(q->history_days, 90);
	ck_assert_int_eq(q->history_max, 20);

	const struct acd_queue_config *crisis = queues_find(q, "crisis");
	ck_assert_ptr_nonnull(crisis);
	ck_assert(crisis->crisis);
	ck_assert_int_eq(crisis->priority, 0);
	ck_assert_str_eq(acd_strategy_name(crisis->strategy), "skill_level");
	ck_assert_str_eq(acd_overflow_name(crisis->overflow), "none");
	ck_assert_int_eq(crisis->max_wait_s, 0);

	const struct acd_queue_config *booking = queues_find(q, "booking");
	ck_assert_ptr_nonnull(booking);
	ck_assert_int_eq(booking->max_wait_s, 300);
	ck_assert_str_eq(acd_overflow_name(booking->overflow), "callback");
	ck_assert_ptr_null(queues_find(q, "nowhere"));
	queues_free(q);
}
END_TEST

/* Adds the scalar at key in map (a mapping node of doc) to names, once. */
static void collect_queue(yaml_document_t *doc, yaml_node_t *map, char names[][33], size_t *n)
{
	ck_assert_int_eq(map->type, YAML_MAPPING_NODE);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (strcmp((const char *)k->data.scalar.value, "queue") != 0)
			continue;
		const char *v =
			(const char *)yaml_document_get_node(doc, p->value)->data.scalar.value;
		for (size_t i = 0; i < *n; i++) {
			if (strcmp(names[i], v) == 0)
				return;
		}
		ck_assert_uint_lt(*n, 64);
		snprintf(names[(*n)++], 33, "%s", v);
	}
}

static yaml_node_t *mapping_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (strcmp((const char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	ck_abort_msg("no key %s", key);
	return NULL;
}

/* The queues the shipped rules can give a call: the default's and every
 * rule's, read from the same file the classifier loads. */
START_TEST (test_every_queue_the_shipped_rules_route_to_is_defined) {
	const char *rules_path = source_path("conf/rules.yaml");
	struct classifier *rules = NULL;
	char err[512] = "";
	ck_assert_msg(classifier_load_file(rules_path, &rules, err, sizeof err) == 0, "%s", err);

	FILE *f = fopen(rules_path, "rb");
	ck_assert_ptr_nonnull(f);
	yaml_parser_t parser;
	yaml_document_t doc;
	ck_assert(yaml_parser_initialize(&parser));
	yaml_parser_set_input_file(&parser, f);
	ck_assert(yaml_parser_load(&parser, &doc));
	yaml_node_t *root = yaml_document_get_root_node(&doc);

	char names[64][33];
	size_t n = 0;
	collect_queue(&doc, mapping_get(&doc, root, "default"), names, &n);
	yaml_node_t *list = mapping_get(&doc, root, "rules");
	size_t n_rules = 0;
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++, n_rules++) {
		yaml_node_t *rule = yaml_document_get_node(&doc, *it);
		collect_queue(&doc, mapping_get(&doc, rule, "then"), names, &n);
	}
	ck_assert_uint_eq(n_rules, classifier_rule_count(rules));
	ck_assert_uint_ge(n, 2);

	struct queues_file *q = load_path(source_path("conf/queues.yaml"));
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(queues_find(q, names[i]) != NULL,
			      "conf/rules.yaml routes to queue '%s', which conf/queues.yaml lacks",
			      names[i]);
	queues_free(q);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	classifier_free(rules);
}
END_TEST

START_TEST (test_login_and_no_answer_are_always_reasons) {
	struct queues_file *q = load_path(source_path("conf/queues.yaml"));
	ck_assert(queues_has_reason(q, "login"));
	ck_assert(queues_has_reason(q, "no_answer"));
	ck_assert(queues_has_reason(q, "lunch"));
	ck_assert(!queues_has_reason(q, "holiday"));
	queues_free(q);

	q = load_ok(CRISIS_AND_GENERAL);
	ck_assert_uint_eq(q->n_reasons, 2);
	ck_assert_str_eq(q->reasons[0], "login");
	ck_assert_str_eq(q->reasons[1], "no_answer");
	queues_free(q);

	/* Listed by the file: kept where they are, not added again. */
	q = load_ok("not_ready_reasons: [no_answer, break]\n" CRISIS_AND_GENERAL);
	ck_assert_uint_eq(q->n_reasons, 3);
	ck_assert_str_eq(q->reasons[0], "no_answer");
	ck_assert_str_eq(q->reasons[1], "break");
	ck_assert_str_eq(q->reasons[2], "login");
	queues_free(q);
}
END_TEST

/* ---- values and defaults ------------------------------------------------------ */

START_TEST (test_keys_left_out_get_their_defaults) {
	struct queues_file *q = load_ok(CRISIS_AND_GENERAL);

	ck_assert_int_eq(q->acd.position_updates, 5);
	ck_assert_int_eq(q->acd.handle_time_initial_s, 180);
	ck_assert_uint_eq(q->acd.n_languages, 0);
	ck_assert_int_eq(q->crisis_memory_days, 30);
	ck_assert_int_eq(q->history_days, 90);
	ck_assert_int_eq(q->history_max, 20);
	ck_assert_uint_eq(q->acd.n_queues, 2);

	const struct acd_queue_config *g = queues_find(q, "general");
	ck_assert_ptr_eq(g, &q->acd.queues[1]);
	ck_assert_str_eq(g->skill, "general");
	ck_assert_ptr_null(g->language);
	ck_assert_int_eq(g->priority, 5);
	ck_assert_str_eq(acd_strategy_name(g->strategy), "longest_idle");
	ck_assert(!g->crisis);
	ck_assert_int_eq(g->ring_timeout_s, 20);
	ck_assert_int_eq(g->wrap_up_s, 30);
	ck_assert_int_eq(g->max_wait_s, 0);
	ck_assert_str_eq(acd_overflow_name(g->overflow), "none");
	ck_assert_ptr_null(g->overflow_queue);
	ck_assert_int_eq(g->max_misses, 2);
	ck_assert(!g->callback_on_abandon);
	queues_free(q);
}
END_TEST

START_TEST (test_every_value_is_read) {
	struct queues_file *q =
		load_ok("position_updates: 0\n"
			"handle_time_initial_s: 240\n"
			"languages: [english, wu]\n"
			"crisis_memory_days: 365\n"
			"history_days: 3650\n"
			"history_max: 200\n" CRISIS_AND_GENERAL "    priority: 9\n"
			"    strategy: round_robin\n"
			"    language: mandarin\n"
			"    ring_timeout_s: 600\n"
			"    wrap_up_s: 0\n"
			"    max_wait_s: 86400\n"
			"    overflow: queue\n"
			"    overflow_queue: self-service\n"
			"    max_misses: 100\n"
			"    callback_on_abandon: true\n"
			"  - {name: self-service, skill: general, language: \"\"}\n");

	ck_assert_int_eq(q->acd.position_updates, 0);
	ck_assert_int_eq(q->acd.handle_time_initial_s, 240);
	ck_assert_uint_eq(q->acd.n_languages, 2);
	ck_assert_str_eq(q->acd.languages[0], "english");
	ck_assert_str_eq(q->acd.languages[1], "wu");
	ck_assert_int_eq(q->crisis_memory_days, 365);
	ck_assert_int_eq(q->history_days, 3650);
	ck_assert_int_eq(q->history_max, 200);

	const struct acd_queue_config *g = queues_find(q, "general");
	ck_assert_int_eq(g->priority, 9);
	ck_assert_str_eq(acd_strategy_name(g->strategy), "round_robin");
	ck_assert_str_eq(g->language, "mandarin");
	ck_assert_int_eq(g->ring_timeout_s, 600);
	ck_assert_int_eq(g->wrap_up_s, 0);
	ck_assert_int_eq(g->max_wait_s, 86400);
	ck_assert_str_eq(acd_overflow_name(g->overflow), "queue");
	ck_assert_str_eq(g->overflow_queue, "self-service");
	ck_assert_int_eq(g->max_misses, 100);
	ck_assert(g->callback_on_abandon);
	ck_assert_ptr_null(queues_find(q, "self-service")->language);
	queues_free(q);
}
END_TEST

START_TEST (test_queue_names_take_the_classifiers_alphabet) {
	struct queues_file *q = load_ok(CRISIS_AND_GENERAL "  - {name: night-2_b, skill: night}\n");
	ck_assert_ptr_nonnull(queues_find(q, "night-2_b"));
	queues_free(q);

	assert_error_at(CRISIS_AND_GENERAL "  - {name: Night, skill: night}\n", 9, 12,
			"queues[2].name: 'Night' is not a queue name of 1 to 32 characters a-z, "
			"0-9, '_' or '-'");
	assert_error_at(CRISIS_AND_GENERAL
			"  - {name: q23456789012345678901234567890123, skill: night}\n",
			9, 12, "queues[2].name: 'q23456789012345678901234567890123' is not");
	assert_error_at(CRISIS_AND_GENERAL "  - {name: night, skill: night-team}\n", 9, 26,
			"queues[2].skill: 'night-team' is not a name of 1 to 32 characters a-z, "
			"0-9 or '_'");
}
END_TEST

/* ---- load errors -------------------------------------------------------------- */

START_TEST (test_unknown_key_is_refused_with_its_position) {
	assert_error_at("queue_file: x\n" CRISIS_AND_GENERAL, 1, 1,
			"queues file: unknown key 'queue_file'; expected position_updates, ");
	assert_error_at(CRISIS_AND_GENERAL "    colour: red\n", 9, 5,
			"queues[1]: unknown key 'colour'; expected name, priority, ");
	assert_error_at(CRISIS_AND_GENERAL "    skill: other\n", 9, 5,
			"queues[1]: duplicate key 'skill' (first given at line 8)");
}
END_TEST

START_TEST (test_bad_strategy_is_refused) {
	assert_error_at(CRISIS_AND_GENERAL "    strategy: fastest\n", 9, 15,
			"queues[1].strategy: 'fastest' is not a strategy; use longest_idle, "
			"fewest_calls, round_robin or skill_level");
	assert_error_at(CRISIS_AND_GENERAL "    overflow: voicemail\n", 9, 15,
			"queues[1].overflow: 'voicemail' is not an overflow; use none, queue, "
			"callback or ivr");
}
END_TEST

START_TEST (test_duplicate_queue_is_refused) {
	assert_error_at(CRISIS_AND_GENERAL "  - name: crisis\n"
					   "    skill: crisis\n",
			9, 11, "queues[2].name: 'crisis' is already the name of queues[0]");
}
END_TEST

START_TEST (test_max_wait_and_overflow_go_together) {
	assert_error_at(CRISIS_AND_GENERAL "    max_wait_s: 300\n", 9, 17,
			"queues[1].max_wait_s: needs an overflow (queue, callback or ivr)");
	assert_error_at(CRISIS_AND_GENERAL "    overflow: callback\n", 9, 15,
			"queues[1].overflow: needs max_wait_s above 0");
	assert_error_at(CRISIS_AND_GENERAL "    max_wait_s: 300\n"
					   "    overflow: queue\n",
			10, 15, "queues[1].overflow: overflow: queue needs overflow_queue");
	assert_error_at(CRISIS_AND_GENERAL "    max_wait_s: 300\n"
					   "    overflow: callback\n"
					   "    overflow_queue: crisis\n",
			11, 21, "queues[1].overflow_queue: is only used with overflow: queue");
	assert_error_at(CRISIS_AND_GENERAL "    max_wait_s: 300\n"
					   "    overflow: queue\n"
					   "    overflow_queue: general\n",
			11, 21, "queues[1].overflow_queue: 'general' is this queue");
}
END_TEST

START_TEST (test_crisis_queue_never_overflows) {
	assert_error_at("crisis_queue: crisis\n"
			"default_queue: crisis\n"
			"queues:\n"
			"  - name: crisis\n"
			"    skill: crisis\n"
			"    crisis: true\n"
			"    max_wait_s: 60\n"
			"    overflow: callback\n",
			8, 15, "queues[0].overflow: a crisis queue never overflows");
	assert_error_at("crisis_queue: crisis\n"
			"default_queue: crisis\n"
			"queues:\n"
			"  - name: crisis\n"
			"    skill: crisis\n"
			"    crisis: true\n"
			"    max_wait_s: 60\n",
			7, 17, "queues[0].max_wait_s: a crisis queue has no max wait");
}
END_TEST

START_TEST (test_unknown_overflow_queue_is_refused) {
	assert_error_at(CRISIS_AND_GENERAL "    max_wait_s: 300\n"
					   "    overflow: queue\n"
					   "    overflow_queue: elsewhere\n",
			11, 21,
			"queues[1].overflow_queue: 'elsewhere' is not a queue of this file");
}
END_TEST

START_TEST (test_unknown_default_queue_is_refused) {
	assert_error_at("crisis_queue: crisis\n"
			"default_queue: other\n"
			"queues:\n"
			"  - {name: crisis, skill: crisis, crisis: true}\n",
			2, 16, "default_queue: 'other' is not a queue of this file");
	assert_error_at("crisis_queue: crisis\n"
			"queues:\n"
			"  - {name: crisis, skill: crisis, crisis: true}\n",
			1, 1, "queues file: 'default_queue' is missing");
}
END_TEST

START_TEST (test_crisis_queue_must_be_a_crisis_queue) {
	assert_error_at("crisis_queue: general\n"
			"default_queue: general\n"
			"queues:\n"
			"  - {name: general, skill: general}\n",
			1, 15, "crisis_queue: 'general' is not a crisis queue");
	assert_error_at("crisis_queue: crisis\n"
			"default_queue: general\n"
			"queues:\n"
			"  - {name: general, skill: general}\n",
			1, 15, "crisis_queue: 'crisis' is not a queue of this file");
}
END_TEST

START_TEST (test_out_of_range_numbers_are_refused) {
	assert_error_at("position_updates: 17\n" CRISIS_AND_GENERAL, 1, 19,
			"position_updates: 17 is out of range; use 0 to 16");
	assert_error_at("handle_time_initial_s: 0\n" CRISIS_AND_GENERAL, 1, 24,
			"handle_time_initial_s: 0 is out of range; use 1 to 86400");
	assert_error_at("crisis_memory_days: 366\n" CRISIS_AND_GENERAL, 1, 21,
			"crisis_memory_days: 366 is out of range; use 1 to 365");
	assert_error_at("history_days: 0\n" CRISIS_AND_GENERAL, 1, 15,
			"history_days: 0 is out of range; use 1 to 3650");
	assert_error_at("history_max: 201\n" CRISIS_AND_GENERAL, 1, 14,
			"history_max: 201 is out of range; use 1 to 200");
	assert_error_at(CRISIS_AND_GENERAL "    priority: 10\n", 9, 15,
			"queues[1].priority: 10 is out of range; use 0 to 9");
	assert_error_at(CRISIS_AND_GENERAL "    priority: -1\n", 9, 15,
			"queues[1].priority: -1 is out of range; use 0 to 9");
	assert_error_at(CRISIS_AND_GENERAL "    ring_timeout_s: 0\n", 9, 21,
			"queues[1].ring_timeout_s: 0 is out of range; use 1 to 600");
	assert_error_at(CRISIS_AND_GENERAL "    wrap_up_s: 3601\n", 9, 16,
			"queues[1].wrap_up_s: 3601 is out of range; use 0 to 3600");
	assert_error_at(
		CRISIS_AND_GENERAL "    max_wait_s: 99999999999999999999\n", 9, 17,
		"queues[1].max_wait_s: 99999999999999999999 is out of range; use 0 to 86400");
	assert_error_at(CRISIS_AND_GENERAL "    max_misses: 0\n", 9, 17,
			"queues[1].max_misses: 0 is out of range; use 1 to 100");
}
END_TEST

START_TEST (test_values_of_the_wrong_type_are_refused) {
	assert_error_at(CRISIS_AND_GENERAL "    wrap_up_s: 30s\n", 9, 16,
			"queues[1].wrap_up_s: expected a whole number from 0 to 3600, found '30s'");
	assert_error_at(CRISIS_AND_GENERAL "    priority: \"5\"\n", 9, 15,
			"queues[1].priority: expected a whole number from 0 to 9, found '5'");
	assert_error_at(CRISIS_AND_GENERAL "    crisis: yes\n", 9, 13,
			"queues[1].crisis: expected true or false, found 'yes'");
	assert_error_at(CRISIS_AND_GENERAL "  - {name: night, skill: [a, b]}\n", 9, 26,
			"queues[2].skill: expected a single value, found a list");
	assert_error_at("languages: english\n" CRISIS_AND_GENERAL, 1, 12,
			"languages: expected a list like [a, b], found a single value");
	assert_error_at("languages: [english, wu, english]\n" CRISIS_AND_GENERAL, 1, 26,
			"languages[2]: 'english' is already languages[0]");
	assert_error_at("languages: [a, b, c, d, e, f, g, h]\n" CRISIS_AND_GENERAL, 1, 12,
			"languages: lists 8 names; at most 7 are allowed");
	assert_error_at("not_ready_reasons: [break, Lunch]\n" CRISIS_AND_GENERAL, 1, 28,
			"not_ready_reasons[1]: 'Lunch' is not a name of 1 to 32 characters");
	assert_error_at("crisis_queue: crisis\n"
			"default_queue: general\n"
			"queues: {name: general}\n",
			3, 9, "queues: expected a list like ");
	assert_error_at("crisis_queue: crisis\n"
			"default_queue: general\n"
			"queues: []\n",
			3, 9, "queues: at least one queue is required");
	assert_error_at("crisis_queue: crisis\n"
			"default_queue: general\n"
			"queues:\n"
			"  - {name: general}\n",
			4, 5, "queues[0]: 'skill' is missing");
}
END_TEST

/* What only the core can see is still reported with a position: here 9
 * queues with 7 languages make 72 lanes, more than ACD_LANES_MAX. */
START_TEST (test_what_the_core_refuses_is_reported_at_its_key) {
	assert_error_at("languages: [a, b, c, d, e, f, g]\n" CRISIS_AND_GENERAL
			"  - {name: q3, skill: s}\n"
			"  - {name: q4, skill: s}\n"
			"  - {name: q5, skill: s}\n"
			"  - {name: q6, skill: s}\n"
			"  - {name: q7, skill: s}\n"
			"  - {name: q8, skill: s}\n"
			"  - {name: q9, skill: s}\n",
			5, 3, "queues: queues x (1 + languages) is 72, more than 64");
}
END_TEST

START_TEST (test_empty_missing_and_malformed_files_are_refused) {
	struct queues_file *q = NULL;
	char err[512], path[512];

	snprintf(path, sizeof path, "%s/absent.yaml", test_dir);
	ck_assert_int_eq(queues_load_file(path, &q, err, sizeof err), -1);
	ck_assert_ptr_null(q);
	ck_assert_ptr_nonnull(strstr(err, "absent.yaml: cannot open: "));

	assert_error_at("", 1, 1, "queues file: is empty");
	assert_error_at("- a\n", 1, 1, "queues file: expected a mapping like ");
	assert_error_at("queues: [\n", 2, 1, "malformed YAML: ");
	assert_error_at(CRISIS_AND_GENERAL "---\n{}\n", 10, 1,
			"queues file: only one YAML document is allowed");
}
END_TEST

static Suite *queues_suite(void)
{
	Suite *s = suite_create("queues");
	TCase *tc = tcase_create("queues");

	tcase_add_checked_fixture(tc, test_dir_create, test_dir_remove);
	tcase_add_test(tc, test_shipped_queues_load_and_make_a_core);
	tcase_add_test(tc, test_every_queue_the_shipped_rules_route_to_is_defined);
	tcase_add_test(tc, test_login_and_no_answer_are_always_reasons);
	tcase_add_test(tc, test_keys_left_out_get_their_defaults);
	tcase_add_test(tc, test_every_value_is_read);
	tcase_add_test(tc, test_queue_names_take_the_classifiers_alphabet);
	tcase_add_test(tc, test_unknown_key_is_refused_with_its_position);
	tcase_add_test(tc, test_bad_strategy_is_refused);
	tcase_add_test(tc, test_duplicate_queue_is_refused);
	tcase_add_test(tc, test_max_wait_and_overflow_go_together);
	tcase_add_test(tc, test_crisis_queue_never_overflows);
	tcase_add_test(tc, test_unknown_overflow_queue_is_refused);
	tcase_add_test(tc, test_unknown_default_queue_is_refused);
	tcase_add_test(tc, test_crisis_queue_must_be_a_crisis_queue);
	tcase_add_test(tc, test_out_of_range_numbers_are_refused);
	tcase_add_test(tc, test_values_of_the_wrong_type_are_refused);
	tcase_add_test(tc, test_what_the_core_refuses_is_reported_at_its_key);
	tcase_add_test(tc, test_empty_missing_and_malformed_files_are_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(queues_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
