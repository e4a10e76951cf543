/* test_config.c: the configuration table, loader, validation, reload check
 * and the reference file (conf/hotline.yaml). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "config.h"
#include "testfiles.h"

/* Four lines, which the positions in the tests below count on. */
#define GOOD_SECRETS                                                                               \
	"auth: {gateway_secret: \"0123456789abcdef\"}\n"                                           \
	"privacy:\n"                                                                               \
	"  caller_key: \"0123456789abcdef0123456789abcdef\"\n"                                     \
	"  data_key: \"fedcba9876543210fedcba9876543210\"\n"

/* Loads text as a config that must fail; returns the error (static buffer). */
static const char *load_error(const char *text)
{
	static char err[512];
	struct config *cfg = NULL;
	const char *path = test_write_file("bad.yaml", text);
	ck_assert_int_eq(config_load_file(path, &cfg, err, sizeof err), -1);
	ck_assert_ptr_null(cfg);
	return err;
}

static struct config *load_ok(const char *name, const char *text)
{
	char err[512] = "";
	struct config *cfg = NULL;
	const char *path = test_write_file(name, text);
	int rc = config_load_file(path, &cfg, err, sizeof err);
	ck_assert_msg(rc == 0, "unexpected error: %s", err);
	ck_assert_ptr_nonnull(cfg);
	return cfg;
}

/* Asserts err starts with "<test_dir>/bad.yaml:<line>:<col>: <rest>". */
static void assert_error_at(const char *err, int line, int col, const char *rest)
{
	char want[768];
	snprintf(want, sizeof want, "%s/bad.yaml:%d:%d: %s", test_dir, line, col, rest);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		      "error\n  %s\ndoes not start with\n  %s", err, want);
}

/* A flat view of a YAML file of nested mappings: dotted key -> scalar text. */
struct flat_yaml {
	char *keys[64];
	char *values[64];
	size_t n;
};

static void flatten_node(yaml_document_t *doc, yaml_node_t *node, const char *prefix,
			 struct flat_yaml *out)
{
	if (node->type == YAML_SCALAR_NODE) {
		ck_assert_uint_lt(out->n, 64);
		out->keys[out->n] = strdup(prefix);
		out->values[out->n] = strdup((const char *)node->data.scalar.value);
		out->n++;
		return;
	}
	ck_assert_int_eq(node->type, YAML_MAPPING_NODE);
	for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		char path[256];
		snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "",
			 (const char *)k->data.scalar.value);
		flatten_node(doc, yaml_document_get_node(doc, p->value), path, out);
	}
}

static void flatten_yaml(const char *text, size_t len, struct flat_yaml *out)
{
	yaml_parser_t parser;
	yaml_document_t doc;

	memset(out, 0, sizeof *out);
	ck_assert(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	ck_assert_msg(yaml_parser_load(&parser, &doc), "YAML error: %s", parser.problem);
	flatten_node(&doc, yaml_document_get_root_node(&doc), "", out);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
}

static void flat_yaml_free(struct flat_yaml *fy)
{
	for (size_t i = 0; i < fy->n; i++) {
		free(fy->keys[i]);
		free(fy->values[i]);
	}
}

static const char *flat_get(const struct flat_yaml *fy, const char *key)
{
	for (size_t i = 0; i < fy->n; i++) {
		if (strcmp(fy->keys[i], key) == 0)
			return fy->values[i];
	}
	return NULL;
}

/* Every key of the table appears in fy with exactly its default, and fy has no other key. */
static void assert_shows_every_default(const struct flat_yaml *fy, const char *what)
{
	struct config *def = config_defaults();
	char want[256];

	ck_assert_ptr_nonnull(def);
	ck_assert_uint_eq(fy->n, config_key_count());
	for (size_t i = 0; i < config_key_count(); i++) {
		const char *got = flat_get(fy, config_key_name(i));
		config_format_value(def, i, want, sizeof want);
		ck_assert_msg(got != NULL, "%s does not mention %s", what, config_key_name(i));
		ck_assert_msg(strcmp(got, want) == 0, "%s: %s is '%s', the default is '%s'", what,
			      config_key_name(i), got, want);
	}
	config_free(def);
}

static char *read_whole_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	char *buf = malloc(1 << 16);
	ck_assert_ptr_nonnull(buf);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

START_TEST (test_shipped_config_shows_every_key_with_its_default) {
	const char *src = getenv("HOTLINE_SOURCE_DIR");
	char path[512];
	size_t len;
	struct flat_yaml fy;

	ck_assert_msg(src != NULL, "HOTLINE_SOURCE_DIR is not set");
	snprintf(path, sizeof path, "%s/conf/hotline.yaml", src);
	char *text = read_whole_file(path, &len);
	flatten_yaml(text, len, &fy);
	assert_shows_every_default(&fy, "conf/hotline.yaml");
	flat_yaml_free(&fy);
	free(text);
}
END_TEST

START_TEST (test_reference_output_round_trips) {
	char *text = NULL;
	size_t len = 0;
	struct flat_yaml fy;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	config_write_reference(f);
	ck_assert_int_eq(fclose(f), 0);
	flatten_yaml(text, len, &fy);
	assert_shows_every_default(&fy, "config_write_reference");
	flat_yaml_free(&fy);

	/* With the secrets filled in, the loader reads it back as the defaults. */
	const char *secret_line = "gateway_secret: \"\"";
	const char *key_line = "caller_key: \"\"";
	const char *data_line = "data_key: \"\"";
	ck_assert_ptr_nonnull(strstr(text, secret_line));
	ck_assert_ptr_nonnull(strstr(text, key_line));
	ck_assert_ptr_nonnull(strstr(text, data_line));
	char *filled = malloc(len + 192);
	ck_assert_ptr_nonnull(filled);
	char *p = strstr(text, secret_line);
	char *q = strstr(text, key_line);
	char *r = strstr(text, data_line);
	ck_assert(p < q && q < r);
	snprintf(filled, len + 192,
		 "%.*sgateway_secret: \"0123456789abcdef\"%.*scaller_key: "
		 "\"0123456789abcdef0123456789abcdef\"%.*sdata_key: "
		 "\"fedcba9876543210fedcba9876543210\"%s",
		 (int)(p - text), text, (int)(q - (p + strlen(secret_line))),
		 p + strlen(secret_line), (int)(r - (q + strlen(key_line))), q + strlen(key_line),
		 r + strlen(data_line));
	struct config *cfg = load_ok("reference.yaml", filled);
	struct config *def = config_defaults();
	char a[256], b[256];
	for (size_t i = 0; i < config_key_count(); i++) {
		const char *name = config_key_name(i);
		if (strcmp(name, "auth.gateway_secret") == 0 ||
		    strcmp(name, "privacy.caller_key") == 0 ||
		    strcmp(name, "privacy.data_key") == 0 ||
		    strcmp(name, "classifier.rules_file") == 0 ||
		    strcmp(name, "acd.queues_file") == 0 || strcmp(name, "workorders.file") == 0)
			continue;
		config_format_value(cfg, i, a, sizeof a);
		config_format_value(def, i, b, sizeof b);
		ck_assert_msg(strcmp(a, b) == 0, "%s read back as '%s', default '%s'", name, a, b);
	}
	ck_assert_str_eq(cfg->auth_gateway_secret, "0123456789abcdef");
	ck_assert_str_eq(cfg->privacy_data_key, "fedcba9876543210fedcba9876543210");
	config_free(def);
	config_free(cfg);
	free(filled);
	free(text);
}
END_TEST

START_TEST (test_defaults_match_the_documented_values) {
	struct config *def = config_defaults();

	ck_assert_ptr_nonnull(def);
	ck_assert_ptr_null(def->path);
	ck_assert_str_eq(def->listen_address, "127.0.0.1");
	ck_assert_int_eq(def->listen_port, 8320);
	ck_assert_int_eq(def->http_max_body_bytes, 65536);
	ck_assert_int_eq(def->http_timeout_s, 30);
	ck_assert_str_eq(def->auth_gateway_secret, "");
	ck_assert_int_eq(def->auth_tolerance_s, 300);
	ck_assert_str_eq(def->database_url, "host=127.0.0.1 port=5432 dbname=hotline user=hotline");
	ck_assert_int_eq(def->database_connections, 1);
	ck_assert_int_eq(def->database_max_batch, 2048);
	ck_assert_int_eq(def->database_reconnect_min_ms, 100);
	ck_assert_int_eq(def->database_reconnect_max_ms, 5000);
	ck_assert_int_eq(def->database_retry_after_s, 2);
	ck_assert_str_eq(def->redis_host, "127.0.0.1");
	ck_assert_int_eq(def->redis_port, 6379);
	ck_assert_str_eq(def->redis_key_prefix, "hotline");
	ck_assert_str_eq(def->privacy_caller_key, "");
	ck_assert_str_eq(def->privacy_data_key, "");
	ck_assert_str_eq(def->classifier_rules_file, "rules.yaml");
	ck_assert_str_eq(def->acd_queues_file, "queues.yaml");
	ck_assert_str_eq(def->workorders_file, "workorders.yaml");
	ck_assert_int_eq(def->agents_session_ttl_s, 43200);
	ck_assert_int_eq(def->stats_short_abandon_s, 5);
	ck_assert_int_eq(def->stats_service_level_s, 20);
	ck_assert_str_eq(def->stats_service_level_variant, "offered_based");
	ck_assert_int_eq(def->stats_fold_interval_ms, 5000);
	ck_assert_str_eq(def->time_zone, "Asia/Shanghai");
	ck_assert_str_eq(def->log_level, "info");
	ck_assert_uint_eq(config_key_count(), 27);
	ck_assert_ptr_null(config_key_name(config_key_count()));
	config_free(def);
}
END_TEST

START_TEST (test_values_from_the_file_replace_defaults) {
	struct config *cfg = load_ok("good.yaml", GOOD_SECRETS "listen:\n"
							       "  address: 0.0.0.0\n"
							       "  port: 9000\n"
							       "database:\n"
							       "  max_batch: 64\n"
							       "  url: 'dbname=x'\n"
							       "time: {zone: UTC}\n"
							       "log:\n"
							       "  level: debug\n");
	char path[512];

	snprintf(path, sizeof path, "%s/good.yaml", test_dir);
	ck_assert_str_eq(cfg->path, path);
	ck_assert_str_eq(cfg->listen_address, "0.0.0.0");
	ck_assert_int_eq(cfg->listen_port, 9000);
	ck_assert_int_eq(cfg->database_max_batch, 64);
	ck_assert_str_eq(cfg->database_url, "dbname=x");
	ck_assert_str_eq(cfg->time_zone, "UTC");
	ck_assert_str_eq(cfg->log_level, "debug");
	ck_assert_int_eq(cfg->redis_port, 6379);
	config_free(cfg);
}
END_TEST

START_TEST (test_unknown_key_is_named_with_a_suggestion) {
	const char *err = load_error(GOOD_SECRETS "databse:\n"
						  "  url: x\n");
	assert_error_at(err, 6, 3, "unknown key 'databse.url'; did you mean 'database.url'?");

	err = load_error(GOOD_SECRETS "listen:\n"
				      "  colour: blue\n");
	assert_error_at(err, 6, 3, "unknown key 'listen.colour'");
	ck_assert_ptr_null(strstr(err, "did you mean"));
}
END_TEST

START_TEST (test_wrong_type_is_an_error) {
	assert_error_at(load_error(GOOD_SECRETS "listen:\n"
						"  port: abc\n"),
			6, 9, "listen.port: 'abc' is not a whole number");
	assert_error_at(load_error(GOOD_SECRETS "listen:\n"
						"  port: \"8320\"\n"),
			6, 9, "listen.port: \"8320\" is quoted");
	assert_error_at(load_error(GOOD_SECRETS "listen:\n"
						"  port: [1, 2]\n"),
			6, 9, "listen.port: expected a whole number, found a list");
	assert_error_at(load_error(GOOD_SECRETS "redis:\n"
						"  host: {a: b}\n"),
			6, 9, "redis.host: expected a string, found a mapping");
	assert_error_at(load_error(GOOD_SECRETS "redis: 5\n"), 5, 8,
			"redis: expected a mapping of keys, found a single value");
	assert_error_at(load_error(GOOD_SECRETS "log:\n"
						"  level: verbose\n"),
			6, 10, "log.level: 'verbose' is not one of debug, info, warn, error");
	assert_error_at(load_error("- a\n- b\n"), 1, 1, "expected a mapping of sections");
}
END_TEST

START_TEST (test_out_of_range_is_an_error) {
	assert_error_at(load_error(GOOD_SECRETS "database:\n"
						"  url: x\n"
						"  max_batch: 0\n"),
			7, 14, "database.max_batch: 0 is out of range 1..65536");
	assert_error_at(load_error(GOOD_SECRETS "listen:\n"
						"  port: 65536\n"),
			6, 9, "listen.port: 65536 is out of range 1..65535");
	assert_error_at(load_error(GOOD_SECRETS "http:\n"
						"  max_body_bytes: 99999999999999999999999\n"),
			6, 19, "http.max_body_bytes: 99999999999999999999999 is out of range");
	assert_error_at(load_error(GOOD_SECRETS "agents:\n"
						"  session_ttl_s: 299\n"),
			6, 18, "agents.session_ttl_s: 299 is out of range 300..604800");
	assert_error_at(load_error(GOOD_SECRETS "database:\n"
						"  reconnect_min_ms: 6000\n"),
			6, 21,
			"database.reconnect_min_ms: database.reconnect_min_ms (6000) must not "
			"exceed database.reconnect_max_ms (5000)");
}
END_TEST

START_TEST (test_unknown_zone_is_an_error) {
	assert_error_at(load_error(GOOD_SECRETS "time:\n"
						"  zone: Asia/Shangai\n"),
			6, 9, "time.zone: 'Asia/Shangai' is not a zone");
	/* A folder of the tz database is not a zone. */
	assert_error_at(load_error(GOOD_SECRETS "time:\n"
						"  zone: Asia\n"),
			6, 9, "time.zone: 'Asia' is not a zone");
	assert_error_at(load_error(GOOD_SECRETS "time:\n"
						"  zone: ../../etc/passwd\n"),
			6, 9, "time.zone:");
	/* Validation must not change the process's zone. */
	const char *tz_before = getenv("TZ");
	char *saved = tz_before ? strdup(tz_before) : NULL;
	struct config *cfg = load_ok("zone.yaml", GOOD_SECRETS "time:\n"
							       "  zone: Europe/Paris\n");
	const char *tz_after = getenv("TZ");
	ck_assert(saved == NULL ? tz_after == NULL : tz_after && strcmp(saved, tz_after) == 0);
	free(saved);
	config_free(cfg);
}
END_TEST

START_TEST (test_short_or_missing_secret_is_an_error) {
	char want[512];
	const char *err = load_error("auth:\n"
				     "  gateway_secret: tooshort\n"
				     "privacy:\n"
				     "  caller_key: \"0123456789abcdef0123456789abcdef\"\n"
				     "  data_key: \"fedcba9876543210fedcba9876543210\"\n");
	assert_error_at(err, 2, 19,
			"auth.gateway_secret: is 8 characters long; it must be at least 16");
	ck_assert_ptr_null(strstr(err, "tooshort"));

	err = load_error("auth:\n"
			 "  gateway_secret: \"0123456789abcdef\"\n"
			 "privacy:\n"
			 "  caller_key: \"0123456789abcdef0123456789abcde\"\n"
			 "  data_key: \"fedcba9876543210fedcba9876543210\"\n");
	assert_error_at(err, 4, 15,
			"privacy.caller_key: is 31 characters long; it must be at least 32");

	/* The sealing key: required, as long, and not the hash key again. */
	err = load_error("auth:\n"
			 "  gateway_secret: \"0123456789abcdef\"\n"
			 "privacy:\n"
			 "  caller_key: \"0123456789abcdef0123456789abcdef\"\n"
			 "  data_key: \"sealing-key-too-short\"\n");
	assert_error_at(err, 5, 13,
			"privacy.data_key: is 21 characters long; it must be at least 32");
	ck_assert_ptr_null(strstr(err, "sealing-key"));
	err = load_error("auth:\n"
			 "  gateway_secret: \"0123456789abcdef\"\n"
			 "privacy:\n"
			 "  caller_key: \"0123456789abcdef0123456789abcdef\"\n");
	snprintf(want, sizeof want,
		 "%s/bad.yaml: privacy.data_key: is required; add it under 'privacy:' with at "
		 "least 32 random characters",
		 test_dir);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got %s", err);
	err = load_error("auth:\n"
			 "  gateway_secret: \"0123456789abcdef\"\n"
			 "privacy:\n"
			 "  caller_key: \"0123456789abcdef0123456789abcdef\"\n"
			 "  data_key: \"0123456789abcdef0123456789abcdef\"\n");
	assert_error_at(err, 5, 13,
			"privacy.data_key: is the same as privacy.caller_key; give each its own "
			"random value");
	ck_assert_ptr_null(strstr(err, "0123"));

	snprintf(want, sizeof want, "%s/bad.yaml: auth.gateway_secret: is required", test_dir);
	err = load_error("listen:\n  port: 8000\n");
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got %s", err);
}
END_TEST

START_TEST (test_duplicate_key_is_an_error) {
	assert_error_at(load_error(GOOD_SECRETS "listen:\n"
						"  port: 1000\n"
						"  port: 2000\n"),
			7, 3, "listen.port: duplicate key (first given at line 6)");
	assert_error_at(load_error(GOOD_SECRETS "listen:\n"
						"  port: 1000\n"
						"listen:\n"
						"  address: ::1\n"),
			7, 1, "listen: duplicate key (first given at line 5)");
	/* The same key written nested and dotted is still the same key. */
	assert_error_at(load_error(GOOD_SECRETS "listen:\n"
						"  port: 1000\n"
						"listen.port: 2000\n"),
			7, 1, "listen.port: duplicate key (first given at line 6)");
}
END_TEST

START_TEST (test_malformed_yaml_names_position_and_key) {
	assert_error_at(load_error(GOOD_SECRETS "listen:\n"
						"  address: \"127.0.0.1\n"
						"  port: 1\n"),
			8, 1, "listen.address: malformed YAML: ");
	assert_error_at(load_error(GOOD_SECRETS "redis:\n"
						"  host: a\n"
						"   port: 1\n"),
			7, 8, "redis: malformed YAML: mapping values are not allowed");
	const char *err = load_error("listen: [1, 2\n");
	assert_error_at(err, 2, 1, "listen: malformed YAML: ");
	assert_error_at(load_error(GOOD_SECRETS "---\nlisten: {}\n"), 6, 1,
			"only one YAML document is allowed");
}
END_TEST

START_TEST (test_relative_file_names_are_resolved_against_the_config_folder) {
	char want[512];
	struct config *cfg = load_ok("default-rules.yaml", GOOD_SECRETS);
	snprintf(want, sizeof want, "%s/rules.yaml", test_dir);
	ck_assert_str_eq(cfg->classifier_rules_file, want);
	snprintf(want, sizeof want, "%s/queues.yaml", test_dir);
	ck_assert_str_eq(cfg->acd_queues_file, want);
	snprintf(want, sizeof want, "%s/workorders.yaml", test_dir);
	ck_assert_str_eq(cfg->workorders_file, want);
	config_free(cfg);

	cfg = load_ok("sub-orders.yaml", GOOD_SECRETS "workorders:\n"
						      "  file: orders/12345.yaml\n");
	snprintf(want, sizeof want, "%s/orders/12345.yaml", test_dir);
	ck_assert_str_eq(cfg->workorders_file, want);
	config_free(cfg);

	cfg = load_ok("abs-orders.yaml", GOOD_SECRETS "workorders:\n"
						      "  file: /etc/hotline/workorders.yaml\n");
	ck_assert_str_eq(cfg->workorders_file, "/etc/hotline/workorders.yaml");
	config_free(cfg);
	assert_error_at(load_error(GOOD_SECRETS "workorders:\n"
						"  file: \"\"\n"),
			6, 9, "workorders.file: must not be empty");

	cfg = load_ok("sub-queues.yaml", GOOD_SECRETS "acd:\n"
						      "  queues_file: acd/queues.yaml\n");
	snprintf(want, sizeof want, "%s/acd/queues.yaml", test_dir);
	ck_assert_str_eq(cfg->acd_queues_file, want);
	config_free(cfg);

	cfg = load_ok("sub-rules.yaml", GOOD_SECRETS "classifier:\n"
						     "  rules_file: rules/night.yaml\n");
	snprintf(want, sizeof want, "%s/rules/night.yaml", test_dir);
	ck_assert_str_eq(cfg->classifier_rules_file, want);
	config_free(cfg);

	cfg = load_ok("abs-rules.yaml", GOOD_SECRETS "classifier:\n"
						     "  rules_file: /etc/hotline/rules.yaml\n");
	ck_assert_str_eq(cfg->classifier_rules_file, "/etc/hotline/rules.yaml");
	config_free(cfg);

	/* A config file named without a folder leaves the path relative to the
	 * working directory, which is where that file is. */
	char cwd[512];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	ck_assert_int_eq(chdir(test_dir), 0);
	char err[512];
	ck_assert_msg(config_load_file("abs-rules.yaml", &cfg, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(cfg->classifier_rules_file, "/etc/hotline/rules.yaml");
	config_free(cfg);
	ck_assert_msg(config_load_file("default-rules.yaml", &cfg, err, sizeof err) == 0, "%s",
		      err);
	ck_assert_str_eq(cfg->classifier_rules_file, "rules.yaml");
	ck_assert_str_eq(cfg->acd_queues_file, "queues.yaml");
	ck_assert_str_eq(cfg->workorders_file, "workorders.yaml");
	config_free(cfg);
	ck_assert_int_eq(chdir(cwd), 0);
}
END_TEST

START_TEST (test_missing_file_is_an_error) {
	char err[512], path[512];
	struct config *cfg = NULL;

	snprintf(path, sizeof path, "%s/absent.yaml", test_dir);
	ck_assert_int_eq(config_load_file(path, &cfg, err, sizeof err), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(strstr(err, "absent.yaml: cannot open"));
}
END_TEST

START_TEST (test_reload_refuses_restart_keys_and_accepts_reloadable_ones) {
	struct config *old_cfg = load_ok("a.yaml", GOOD_SECRETS);
	struct config *port = load_ok("b.yaml", GOOD_SECRETS "listen:\n  port: 8321\n");
	struct config *level = load_ok("c.yaml", GOOD_SECRETS "log:\n  level: debug\n");
	struct config *ttl = load_ok("e.yaml", GOOD_SECRETS "agents:\n  session_ttl_s: 3600\n");
	struct config *queues = load_ok("f.yaml", GOOD_SECRETS "acd:\n  queues_file: /q.yaml\n");
	struct config *orders = load_ok("g.yaml", GOOD_SECRETS "workorders:\n  file: /w.yaml\n");
	struct config *key = load_ok("d.yaml",
				     "auth:\n"
				     "  gateway_secret: \"0123456789abcdef\"\n"
				     "privacy:\n"
				     "  caller_key: \"ffffffffffffffffffffffffffffffff\"\n"
				     "  data_key: \"fedcba9876543210fedcba9876543210\"\n");
	struct config *data_key = load_ok("h.yaml",
					  "auth:\n"
					  "  gateway_secret: \"0123456789abcdef\"\n"
					  "privacy:\n"
					  "  caller_key: \"0123456789abcdef0123456789abcdef\"\n"
					  "  data_key: \"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\"\n");
	char err[512] = "";

	ck_assert_int_eq(config_check_reload(old_cfg, port, err, sizeof err), -1);
	ck_assert_str_eq(err, "listen.port: changed from '8320' to '8321', but it needs a restart; "
			      "the old value stays in effect");

	ck_assert_int_eq(config_check_reload(old_cfg, level, err, sizeof err), 0);
	ck_assert_int_eq(config_check_reload(old_cfg, ttl, err, sizeof err), 0);

	ck_assert_int_eq(config_check_reload(old_cfg, queues, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "acd.queues_file: changed from '"));
	ck_assert_ptr_nonnull(strstr(err, "' to '/q.yaml', but it needs a restart"));

	ck_assert_int_eq(config_check_reload(old_cfg, orders, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "workorders.file: changed from '"));
	ck_assert_ptr_nonnull(strstr(err, "' to '/w.yaml', but it needs a restart"));

	ck_assert_int_eq(config_check_reload(old_cfg, key, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "privacy.caller_key: changed"));
	ck_assert_ptr_null(strstr(err, "ffff"));
	ck_assert_ptr_null(strstr(err, "0123"));

	ck_assert_int_eq(config_check_reload(old_cfg, data_key, err, sizeof err), -1);
	ck_assert_str_eq(err, "privacy.data_key: changed, but it needs a restart; the old value "
			      "stays in effect");

	ck_assert_int_eq(config_check_reload(old_cfg, old_cfg, err, sizeof err), 0);
	config_free(old_cfg);
	config_free(port);
	config_free(level);
	config_free(ttl);
	config_free(queues);
	config_free(orders);
	config_free(key);
	config_free(data_key);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, test_dir_create, test_dir_remove);
	tcase_add_test(tc, test_shipped_config_shows_every_key_with_its_default);
	tcase_add_test(tc, test_reference_output_round_trips);
	tcase_add_test(tc, test_defaults_match_the_documented_values);
	tcase_add_test(tc, test_values_from_the_file_replace_defaults);
	tcase_add_test(tc, test_unknown_key_is_named_with_a_suggestion);
	tcase_add_test(tc, test_wrong_type_is_an_error);
	tcase_add_test(tc, test_out_of_range_is_an_error);
	tcase_add_test(tc, test_unknown_zone_is_an_error);
	tcase_add_test(tc, test_short_or_missing_secret_is_an_error);
	tcase_add_test(tc, test_duplicate_key_is_an_error);
	tcase_add_test(tc, test_malformed_yaml_names_position_and_key);
	tcase_add_test(tc, test_relative_file_names_are_resolved_against_the_config_folder);
	tcase_add_test(tc, test_missing_file_is_an_error);
	tcase_add_test(tc, test_reload_refuses_restart_keys_and_accepts_reloadable_ones);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
