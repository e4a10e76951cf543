/* config.h: hotlined's configuration, loaded from YAML through a key table.
 *
 * Every key has a name ("database.url"), a type, a default, a range and a
 * reloadable flag (config.c, config_keys). Loading builds a new immutable
 * struct config; a reload (SIGHUP) validates the new file completely and
 * swaps it in only if it is good and no non-reloadable key changed.
 * Errors name the file, line, column and key.
 */
#ifndef HOTLINE_CONFIG_H
#define HOTLINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config {
	char *path; /* the file it came from */

	char *listen_address;
	int64_t listen_port;
	int64_t http_max_body_bytes;
	int64_t http_timeout_s;

	char *auth_gateway_secret;
	int64_t auth_tolerance_s;

	char *database_url;
	int64_t database_connections;
	int64_t database_max_batch;
	int64_t database_reconnect_min_ms;
	int64_t database_reconnect_max_ms;
	int64_t database_retry_after_s;

	char *redis_host;
	int64_t redis_port;
	char *redis_key_prefix;

	char *privacy_caller_key;
	char *privacy_data_key; /* seals citizens' personal data (work orders) */

	char *classifier_rules_file; /* resolved against the config file's folder */

	char *acd_queues_file; /* resolved against the config file's folder */

	char *workorders_file; /* resolved against the config file's folder */

	int64_t agents_session_ttl_s;

	int64_t stats_short_abandon_s;
	int64_t stats_service_level_s;
	char *stats_service_level_variant;
	int64_t stats_fold_interval_ms;
	char *time_zone;
	char *log_level;
};

/* Loads and validates path. Returns 0 and *out, or -1 with
 * "FILE:LINE:COL: KEY: what is wrong" in err. */
int config_load_file(const char *path, struct config **out, char *err, size_t err_len)
	__attribute__((warn_unused_result));

/* The default for every key, as a config (path NULL). Secrets are empty, so
 * a defaults-only config does not validate for the broker. */
struct config *config_defaults(void);

/* Checks that a reload from old to new changes only reloadable keys; returns 0
 * or -1 naming the first key that needs a restart. */
int config_check_reload(const struct config *old_cfg, const struct config *new_cfg, char *err,
			size_t err_len) __attribute__((warn_unused_result));

/* Writes every key with its default and description, as conf/hotline.yaml shows them. */
void config_write_reference(FILE *f);

/* Number of keys and the i-th key's dotted name, for tests. */
size_t config_key_count(void);
const char *config_key_name(size_t i);

/* Writes the i-th key's value in cfg as it would appear in YAML, unquoted
 * ("8320", "Asia/Shanghai"); "" for an index out of range. Secrets are
 * written too: callers that log must not pass them. */
void config_format_value(const struct config *cfg, size_t i, char *out, size_t out_len);

void config_free(struct config *cfg);

#endif
