/* config.c: the configuration key table, the YAML loader built on it, the
 * validation that runs after loading, and the reference file writer.
 *
 * The table (config_keys) is the single source of truth: loading, defaults,
 * reload checks and conf/hotline.yaml all come from it. A YAML file is nested
 * mappings ("database:\n  url: ..."); a key's dotted name is its path. The
 * loader keeps the line and column of every value so that each error can say
 * "FILE:LINE:COL: KEY: what is wrong".
 */
#include "config.h"
#include "readfile.h"
#include "yamldoc.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define CONFIG_ZONEINFO_DIR "/usr/share/zoneinfo"
#define CONFIG_MIN_GATEWAY_SECRET 16
#define CONFIG_MIN_CALLER_KEY 32
#define CONFIG_MIN_DATA_KEY 32

enum config_type {
	CONFIG_STRING,
	CONFIG_INT,
	CONFIG_ENUM, /* a string restricted to choices */
};

enum {
	CONFIG_RELOADABLE = 1 << 0,
	CONFIG_SECRET = 1 << 1,   /* never printed in messages */
	CONFIG_NONEMPTY = 1 << 2, /* "" is rejected at validation */
};

struct config_key {
	const char *name;
	enum config_type type;
	const char *default_text;   /* CONFIG_STRING, CONFIG_ENUM */
	int64_t default_int;        /* CONFIG_INT */
	int64_t min, max;           /* CONFIG_INT */
	const char *const *choices; /* CONFIG_ENUM, NULL-terminated */
	unsigned flags;
	const char *description;
	size_t offset;
};

static const char *const config_log_levels[] = {"debug", "info", "warn", "error", NULL};
/* kpi.h's variants, in the config's spelling (kpi_variant_from_name). */
static const char *const config_sl_variants[] = {"answered_based", "offered_based", "sl2", NULL};

#define CONFIG_STR(n, def, fl, desc, field)                                                        \
	{                                                                                          \
		n, CONFIG_STRING, def, 0, 0, 0, NULL, fl, desc, offsetof(struct config, field)     \
	}
#define CONFIG_NUM(n, def, lo, hi, fl, desc, field)                                                \
	{                                                                                          \
		n, CONFIG_INT, NULL, def, lo, hi, NULL, fl, desc, offsetof(struct config, field)   \
	}
#define CONFIG_ONE_OF(n, def, choices, fl, desc, field)                                            \
	{                                                                                          \
		n, CONFIG_ENUM, def, 0, 0, 0, choices, fl, desc, offsetof(struct config, field)    \
	}

/* Sections appear in conf/hotline.yaml in this order; keys of one section
 * must stay together. */
static const struct config_key config_keys[] = {
	CONFIG_STR("listen.address", "127.0.0.1", CONFIG_NONEMPTY,
		   "Address the HTTP server binds to.", listen_address),
	CONFIG_NUM("listen.port", 8320, 1, 65535, 0, "TCP port of the HTTP server.", listen_port),
	CONFIG_NUM("http.max_body_bytes", 65536, 256, 16777216, CONFIG_RELOADABLE,
		   "Largest request body accepted; larger requests get 413.", http_max_body_bytes),
	CONFIG_NUM("http.timeout_s", 30, 1, 3600, CONFIG_RELOADABLE,
		   "Seconds an idle or slow HTTP connection is kept.", http_timeout_s),
	CONFIG_STR("auth.gateway_secret", "", CONFIG_RELOADABLE | CONFIG_SECRET,
		   "Shared secret for signed gateway requests; required, at least 16 characters.",
		   auth_gateway_secret),
	CONFIG_NUM("auth.tolerance_s", 300, 1, 86400, CONFIG_RELOADABLE,
		   "Largest accepted clock skew of a signed request's timestamp, in seconds.",
		   auth_tolerance_s),
	CONFIG_STR("database.url", "host=127.0.0.1 port=5432 dbname=hotline user=hotline",
		   CONFIG_SECRET | CONFIG_NONEMPTY,
		   "libpq connection string of the PostgreSQL primary.", database_url),
	CONFIG_NUM("database.connections", 1, 1, 16, 0,
		   "Connections that commit batches side by side: while one waits for its "
		   "commit to reach the disk, another runs the next batch. Events of one call "
		   "are never in two uncommitted batches at once. More than 1 pays when "
		   "PostgreSQL has cores of its own; sharing two cores with the broker, 1 "
		   "commits the most.",
		   database_connections),
	CONFIG_NUM("database.max_batch", 2048, 1, 65536, CONFIG_RELOADABLE,
		   "Most requests committed together in one transaction.", database_max_batch),
	CONFIG_NUM("database.reconnect_min_ms", 100, 10, 60000, CONFIG_RELOADABLE,
		   "First delay before reconnecting to PostgreSQL, in milliseconds.",
		   database_reconnect_min_ms),
	CONFIG_NUM("database.reconnect_max_ms", 5000, 10, 600000, CONFIG_RELOADABLE,
		   "Longest delay between reconnection attempts, in milliseconds; at least "
		   "reconnect_min_ms.",
		   database_reconnect_max_ms),
	CONFIG_NUM("database.retry_after_s", 2, 1, 3600, CONFIG_RELOADABLE,
		   "Retry-After sent with 503 while PostgreSQL is unreachable, in seconds.",
		   database_retry_after_s),
	CONFIG_STR("redis.host", "127.0.0.1", CONFIG_NONEMPTY,
		   "Redis server holding the live mirror.", redis_host),
	CONFIG_NUM("redis.port", 6379, 1, 65535, 0, "Redis TCP port.", redis_port),
	CONFIG_STR("redis.key_prefix", "hotline", CONFIG_NONEMPTY,
		   "Prefix of every Redis key this broker writes.", redis_key_prefix),
	CONFIG_STR("privacy.caller_key", "", CONFIG_SECRET,
		   "Key of the caller-number hash; required, at least 32 characters. Changing "
		   "it orphans every stored caller history.",
		   privacy_caller_key),
	CONFIG_STR("privacy.data_key", "", CONFIG_SECRET,
		   "Key that seals citizens' phone numbers and names in PostgreSQL; required, at "
		   "least 32 characters. Changing it makes sealed data unreadable.",
		   privacy_data_key),
	CONFIG_STR("classifier.rules_file", "rules.yaml", CONFIG_RELOADABLE | CONFIG_NONEMPTY,
		   "Classification rules; a relative path is read from this file's folder.",
		   classifier_rules_file),
	CONFIG_STR("acd.queues_file", "queues.yaml", CONFIG_NONEMPTY,
		   "The call distributor's queues, not-ready reasons and caller history; a "
		   "relative path is read from this file's folder.",
		   acd_queues_file),
	CONFIG_STR("workorders.file", "workorders.yaml", CONFIG_NONEMPTY,
		   "The 12345 platforms, their secrets and URLs, the work-order deadlines and "
		   "their calendar; a relative path is read from this file's folder.",
		   workorders_file),
	CONFIG_NUM("agents.session_ttl_s", 43200, 300, 604800, CONFIG_RELOADABLE,
		   "Lifetime of an agent's login session in seconds.", agents_session_ttl_s),
	CONFIG_NUM("stats.short_abandon_s", 5, 0, 3600, 0,
		   "Callers who hang up after waiting less than this many seconds are short "
		   "abandons, counted apart (hotline-stats rebuild applies a change to the kept "
		   "statistics).",
		   stats_short_abandon_s),
	CONFIG_NUM("stats.service_level_s", 20, 0, 3600, 0,
		   "Service-level threshold T: calls answered (or abandoned, for sl2) within T "
		   "seconds.",
		   stats_service_level_s),
	CONFIG_ONE_OF("stats.service_level_variant", "offered_based", config_sl_variants, 0,
		      "Service level: answered_based (answered within T / answered), "
		      "offered_based (answered within T / answered + abandoned) or sl2 "
		      "((answered + abandoned within T) / offered).",
		      stats_service_level_variant),
	CONFIG_NUM("stats.fold_interval_ms", 5000, 100, 600000, CONFIG_RELOADABLE,
		   "How often the broker folds the statistics' deltas into their tables, in "
		   "milliseconds.",
		   stats_fold_interval_ms),
	CONFIG_STR("time.zone", "Asia/Shanghai", CONFIG_NONEMPTY,
		   "Local time zone of the centre (tz database name).", time_zone),
	CONFIG_ONE_OF("log.level", "info", config_log_levels, CONFIG_RELOADABLE,
		      "Lowest level logged: debug, info, warn or error.", log_level),
};

#define CONFIG_KEY_COUNT (sizeof config_keys / sizeof config_keys[0])

/* Where a key's value was found in the file; line 0 means not in the file. */
struct config_mark {
	size_t line, column;
};

/* State of one load: the file name for messages and the value positions. */
struct config_loader {
	const char *path;
	struct config_mark marks[CONFIG_KEY_COUNT];
	char *err;
	size_t err_len;
};

size_t config_key_count(void)
{
	return CONFIG_KEY_COUNT;
}

const char *config_key_name(size_t i)
{
	return i < CONFIG_KEY_COUNT ? config_keys[i].name : NULL;
}

static char **config_string_field(struct config *cfg, const struct config_key *k)
{
	return (char **)((char *)cfg + k->offset);
}

static const char *config_string_value(const struct config *cfg, const struct config_key *k)
{
	return *(char *const *)((const char *)cfg + k->offset);
}

static int64_t *config_int_field(struct config *cfg, const struct config_key *k)
{
	return (int64_t *)((char *)cfg + k->offset);
}

static int64_t config_int_value(const struct config *cfg, const struct config_key *k)
{
	return *(const int64_t *)((const char *)cfg + k->offset);
}

static int config_key_find(const char *name, size_t len)
{
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		if (strlen(config_keys[i].name) == len &&
		    memcmp(config_keys[i].name, name, len) == 0)
			return (int)i;
	}
	return -1;
}

/* True if name (len bytes) is a section: a proper prefix of some key ending at a dot. */
static bool config_is_section(const char *name, size_t len)
{
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		const char *k = config_keys[i].name;
		if (strlen(k) > len && k[len] == '.' && memcmp(k, name, len) == 0)
			return true;
	}
	return false;
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		if (config_keys[i].type != CONFIG_INT)
			free(*config_string_field(cfg, &config_keys[i]));
	}
	free(cfg->path);
	free(cfg);
}

struct config *config_defaults(void)
{
	struct config *cfg = calloc(1, sizeof *cfg);

	if (cfg == NULL)
		return NULL;
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		const struct config_key *k = &config_keys[i];
		if (k->type == CONFIG_INT) {
			*config_int_field(cfg, k) = k->default_int;
		} else {
			char *s = strdup(k->default_text);
			if (s == NULL) {
				config_free(cfg);
				return NULL;
			}
			*config_string_field(cfg, k) = s;
		}
	}
	return cfg;
}

void config_format_value(const struct config *cfg, size_t i, char *out, size_t out_len)
{
	if (out_len == 0)
		return;
	if (i >= CONFIG_KEY_COUNT) {
		out[0] = '\0';
		return;
	}
	const struct config_key *k = &config_keys[i];
	if (k->type == CONFIG_INT)
		snprintf(out, out_len, "%" PRId64, config_int_value(cfg, k));
	else
		snprintf(out, out_len, "%s", config_string_value(cfg, k));
}

/* Edit distance between a and b, capped: returns cap + 1 once it is exceeded.
 * Used only to suggest the key a person probably meant. */
static size_t config_edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[128];

	if (lb >= sizeof row / sizeof row[0] || (la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0], best = i;
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t v = diag + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			if (up + 1 < v)
				v = up + 1;
			row[j] = v;
			diag = up;
			if (v < best)
				best = v;
		}
		if (best > cap)
			return cap + 1;
	}
	return row[lb];
}

/* The known key closest to name, if it is a likely misspelling, else NULL. */
static const char *config_suggest_key(const char *name)
{
	const char *best = NULL;
	size_t best_distance = 3;

	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		size_t d = config_edit_distance(name, config_keys[i].name, 2);
		if (d < best_distance) {
			best_distance = d;
			best = config_keys[i].name;
		}
	}
	return best;
}

/* Formats "FILE:LINE:COL: " (or "FILE: " without a position) and the rest into ld->err. */
static void config_error_at(struct config_loader *ld, size_t line, size_t column, const char *fmt,
			    ...) __attribute__((format(printf, 4, 5)));
static void config_error_at(struct config_loader *ld, size_t line, size_t column, const char *fmt,
			    ...)
{
	va_list ap;
	int n;

	if (ld->err_len == 0)
		return;
	if (line > 0)
		n = snprintf(ld->err, ld->err_len, "%s:%zu:%zu: ", ld->path, line, column);
	else
		n = snprintf(ld->err, ld->err_len, "%s: ", ld->path);
	if (n < 0 || (size_t)n >= ld->err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->err_len - (size_t)n, fmt, ap);
	va_end(ap);
}

static void config_error_node(struct config_loader *ld, const yaml_node_t *node, const char *fmt,
			      ...) __attribute__((format(printf, 3, 4)));
static void config_error_node(struct config_loader *ld, const yaml_node_t *node, const char *fmt,
			      ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	config_error_at(ld, node->start_mark.line + 1, node->start_mark.column + 1, "%s", msg);
}

/* A plain "", "~" or "null" is YAML's null. */
static bool config_node_is_null(const yaml_node_t *node)
{
	if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)node->data.scalar.value;
	return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* Strict decimal integer: optional sign, digits only. Returns 0, -1 if not an
 * integer, -2 if it does not fit in int64. */
static int config_parse_int(const char *s, int64_t *out)
{
	const char *p = s;
	char *end;

	if (*p == '-' || *p == '+')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	for (const char *q = p; *q; q++) {
		if (*q < '0' || *q > '9')
			return -1;
	}
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -2;
	*out = v;
	return 0;
}

/* Stores one scalar value for key k into cfg, checking its type and range. */
static int config_set_value(struct config_loader *ld, struct config *cfg,
			    const struct config_key *k, const yaml_node_t *node)
{
	const char *text;

	if (node->type != YAML_SCALAR_NODE) {
		config_error_node(ld, node, "%s: expected %s, found %s", k->name,
				  k->type == CONFIG_INT ? "a whole number" : "a string",
				  yamldoc_node_kind(node));
		return -1;
	}
	text = (const char *)node->data.scalar.value;
	if (k->type == CONFIG_INT) {
		int64_t v;
		if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
			config_error_node(
				ld, node,
				"%s: \"%s\" is quoted, so it is a string; write the number "
				"without quotes",
				k->name, text);
			return -1;
		}
		if (*text == '\0') {
			config_error_node(ld, node,
					  "%s: no value; expected a whole number in %" PRId64
					  "..%" PRId64,
					  k->name, k->min, k->max);
			return -1;
		}
		int rc = config_parse_int(text, &v);
		if (rc == -1) {
			config_error_node(ld, node, "%s: '%s' is not a whole number", k->name,
					  text);
			return -1;
		}
		if (rc == -2 || v < k->min || v > k->max) {
			config_error_node(ld, node, "%s: %s is out of range %" PRId64 "..%" PRId64,
					  k->name, text, k->min, k->max);
			return -1;
		}
		*config_int_field(cfg, k) = v;
		return 0;
	}
	if (config_node_is_null(node))
		text = "";
	if (k->type == CONFIG_ENUM) {
		bool found = false;
		char choices[256] = "";
		for (const char *const *c = k->choices; *c; c++) {
			if (strcmp(*c, text) == 0)
				found = true;
			size_t used = strlen(choices);
			snprintf(choices + used, sizeof choices - used, "%s%s", used ? ", " : "",
				 *c);
		}
		if (!found) {
			config_error_node(ld, node, "%s: '%s' is not one of %s", k->name, text,
					  choices);
			return -1;
		}
	}
	char *copy = strdup(text);
	if (copy == NULL) {
		config_error_node(ld, node, "%s: out of memory", k->name);
		return -1;
	}
	char **field = config_string_field(cfg, k);
	free(*field);
	*field = copy;
	return 0;
}

/* Walks a mapping whose dotted path is prefix (prefix_len bytes, 0 at the
 * top), storing leaves and descending into sections. Every key in a mapping
 * must be unique, known, and hold the right kind of node. */
static int config_walk_mapping(struct config_loader *ld, yaml_document_t *doc,
			       const yaml_node_t *map, char *prefix, size_t prefix_len,
			       struct config *cfg)
{
	const yaml_node_pair_t *start = map->data.mapping.pairs.start;
	const yaml_node_pair_t *top = map->data.mapping.pairs.top;

	for (const yaml_node_pair_t *pair = start; pair < top; pair++) {
		const yaml_node_t *key = yaml_document_get_node(doc, pair->key);
		const yaml_node_t *value = yaml_document_get_node(doc, pair->value);
		size_t len = prefix_len;

		if (key->type != YAML_SCALAR_NODE) {
			config_error_node(ld, key, "%s%skeys must be plain names, found %s", prefix,
					  prefix_len ? ": " : "", yamldoc_node_kind(key));
			return -1;
		}
		const char *name = (const char *)key->data.scalar.value;
		size_t name_len = key->data.scalar.length;
		if (len + (len ? 1 : 0) + name_len + 1 > 128) {
			config_error_node(ld, key, "unknown key '%.*s%s%s'", (int)prefix_len,
					  prefix, prefix_len ? "." : "", name);
			return -1;
		}
		if (len)
			prefix[len++] = '.';
		memcpy(prefix + len, name, name_len);
		len += name_len;
		prefix[len] = '\0';

		for (const yaml_node_pair_t *earlier = start; earlier < pair; earlier++) {
			const yaml_node_t *ek = yaml_document_get_node(doc, earlier->key);
			if (ek->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)ek->data.scalar.value, name) == 0) {
				config_error_node(ld, key,
						  "%s: duplicate key (first given at line %zu)",
						  prefix, (size_t)ek->start_mark.line + 1);
				return -1;
			}
		}

		int idx = config_key_find(prefix, len);
		if (idx >= 0) {
			if (ld->marks[idx].line != 0) {
				config_error_node(ld, key,
						  "%s: duplicate key (first given at line %zu)",
						  prefix, ld->marks[idx].line);
				return -1;
			}
			if (config_set_value(ld, cfg, &config_keys[idx], value) != 0)
				return -1;
			ld->marks[idx].line = value->start_mark.line + 1;
			ld->marks[idx].column = value->start_mark.column + 1;
		} else if (config_is_section(prefix, len)) {
			if (value->type == YAML_MAPPING_NODE) {
				if (config_walk_mapping(ld, doc, value, prefix, len, cfg) != 0)
					return -1;
			} else if (!config_node_is_null(value)) {
				config_error_node(ld, value,
						  "%s: expected a mapping of keys, found %s",
						  prefix, yamldoc_node_kind(value));
				return -1;
			}
		} else {
			/* Name the first leaf below a misspelt section: "databse.url"
			 * says more, and has a closer suggestion, than "databse". */
			while (value->type == YAML_MAPPING_NODE &&
			       value->data.mapping.pairs.start < value->data.mapping.pairs.top) {
				const yaml_node_pair_t *first = value->data.mapping.pairs.start;
				const yaml_node_t *k2 = yaml_document_get_node(doc, first->key);
				if (k2->type != YAML_SCALAR_NODE ||
				    len + 1 + k2->data.scalar.length + 1 > 128)
					break;
				prefix[len++] = '.';
				memcpy(prefix + len, k2->data.scalar.value, k2->data.scalar.length);
				len += k2->data.scalar.length;
				prefix[len] = '\0';
				key = k2;
				value = yaml_document_get_node(doc, first->value);
			}
			const char *hint = config_suggest_key(prefix);
			config_error_node(ld, key, "unknown key '%s'%s%s%s", prefix,
					  hint ? "; did you mean '" : "", hint ? hint : "",
					  hint ? "'?" : "");
			return -1;
		}
		prefix[prefix_len] = '\0';
	}
	return 0;
}

/* The dotted key whose text was being read when libyaml gave up: reads the
 * file again event by event, keeping a stack of mapping keys, until the
 * error. Writes "" when the error is outside any key. */
static void config_find_error_key(FILE *f, char *key, size_t key_len)
{
	struct {
		bool mapping;
		bool want_key; /* the next scalar of this mapping is a key */
		char name[64];
	} frames[16];
	int depth = 0, skipped = 0; /* levels deeper than frames[] are only counted */
	yaml_parser_t parser;
	yaml_event_t event;

	key[0] = '\0';
	rewind(f);
	if (!yaml_parser_initialize(&parser))
		return;
	yaml_parser_set_input_file(&parser, f);
	while (yaml_parser_parse(&parser, &event)) {
		yaml_event_type_t type = event.type;
		if (type == YAML_SCALAR_EVENT || type == YAML_ALIAS_EVENT) {
			if (skipped == 0 && depth > 0 && frames[depth - 1].mapping) {
				if (frames[depth - 1].want_key && type == YAML_SCALAR_EVENT)
					snprintf(frames[depth - 1].name, sizeof frames[0].name,
						 "%s", (const char *)event.data.scalar.value);
				frames[depth - 1].want_key = !frames[depth - 1].want_key;
			}
		} else if (type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT) {
			if (skipped > 0 || depth == (int)(sizeof frames / sizeof frames[0])) {
				skipped++;
			} else {
				frames[depth].mapping = type == YAML_MAPPING_START_EVENT;
				frames[depth].want_key = true;
				frames[depth].name[0] = '\0';
				depth++;
			}
		} else if (type == YAML_MAPPING_END_EVENT || type == YAML_SEQUENCE_END_EVENT) {
			if (skipped > 0) {
				skipped--;
			} else if (depth > 0) {
				depth--;
				if (depth > 0 && frames[depth - 1].mapping)
					frames[depth - 1].want_key = true;
			}
		}
		yaml_event_delete(&event);
		if (type == YAML_STREAM_END_EVENT)
			break;
	}
	for (int i = 0; i < depth; i++) {
		if (!frames[i].mapping || frames[i].want_key)
			break;
		size_t used = strlen(key);
		snprintf(key + used, key_len - used, "%s%s", used ? "." : "", frames[i].name);
	}
	yaml_parser_delete(&parser);
}

/* Reports a libyaml error: position, the key being read if known, and
 * libyaml's own words. f is the file that failed to parse. */
static void config_error_yaml(struct config_loader *ld, const yaml_parser_t *parser, FILE *f)
{
	const yaml_mark_t *mark = parser->error == YAML_READER_ERROR ? &parser->mark :
								       &parser->problem_mark;
	const char *problem = parser->problem ? parser->problem : "cannot be parsed";
	char key[128], context[160] = "";

	config_find_error_key(f, key, sizeof key);
	if (parser->context != NULL)
		snprintf(context, sizeof context, " %s (started at line %zu, column %zu)",
			 parser->context, (size_t)parser->context_mark.line + 1,
			 (size_t)parser->context_mark.column + 1);
	config_error_at(ld, mark->line + 1, mark->column + 1, "%s%smalformed YAML: %s%s", key,
			*key ? ": " : "", problem, context);
}

/* True if zone names a compiled zone file of the tz database (or is "UTC").
 * Unlike timeutil_set_zone this leaves TZ alone, so validation has no effect
 * on the running process. */
static bool config_zone_exists(const char *zone)
{
	char path[512];
	char magic[4];

	if (strcmp(zone, "UTC") == 0)
		return true;
	if (*zone == '\0' || *zone == '/' || strstr(zone, "..") != NULL)
		return false;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", CONFIG_ZONEINFO_DIR, zone) >= sizeof path)
		return false;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return false;
	size_t n = fread(magic, 1, sizeof magic, f);
	fclose(f);
	return n == sizeof magic && memcmp(magic, "TZif", 4) == 0;
}

static int config_key_index(const char *name)
{
	return config_key_find(name, strlen(name));
}

/* Checks what single keys cannot: lengths of secrets, the zone, and relations
 * between keys. Errors point at the value in the file, or name only the file
 * when the key was left out. */
static int config_validate(struct config_loader *ld, const struct config *cfg)
{
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		const struct config_key *k = &config_keys[i];
		if ((k->flags & CONFIG_NONEMPTY) && *config_string_value(cfg, k) == '\0') {
			config_error_at(ld, ld->marks[i].line, ld->marks[i].column,
					"%s: must not be empty", k->name);
			return -1;
		}
	}

	static const struct {
		const char *key;
		size_t min;
		const char *section;
	} secrets[] = {
		{"auth.gateway_secret", CONFIG_MIN_GATEWAY_SECRET, "auth"},
		{"privacy.caller_key", CONFIG_MIN_CALLER_KEY, "privacy"},
		{"privacy.data_key", CONFIG_MIN_DATA_KEY, "privacy"},
	};
	for (size_t s = 0; s < sizeof secrets / sizeof secrets[0]; s++) {
		int i = config_key_index(secrets[s].key);
		size_t len = strlen(config_string_value(cfg, &config_keys[i]));
		if (len >= secrets[s].min)
			continue;
		if (ld->marks[i].line == 0)
			config_error_at(ld, 0, 0,
					"%s: is required; add it under '%s:' with at least %zu "
					"random characters (e.g. from 'openssl rand -hex 32')",
					secrets[s].key, secrets[s].section, secrets[s].min);
		else
			config_error_at(ld, ld->marks[i].line, ld->marks[i].column,
					"%s: is %zu characters long; it must be at least %zu "
					"(e.g. from 'openssl rand -hex 32')",
					secrets[s].key, len, secrets[s].min);
		return -1;
	}
	/* One key serving as both the hash key and the sealing key would tie
	 * the two together: rotating one would break the other. */
	if (strcmp(cfg->privacy_data_key, cfg->privacy_caller_key) == 0) {
		int di = config_key_index("privacy.data_key");
		config_error_at(ld, ld->marks[di].line, ld->marks[di].column,
				"privacy.data_key: is the same as privacy.caller_key; give each "
				"its own random value (e.g. from 'openssl rand -hex 32')");
		return -1;
	}

	int zi = config_key_index("time.zone");
	if (!config_zone_exists(cfg->time_zone)) {
		config_error_at(ld, ld->marks[zi].line, ld->marks[zi].column,
				"time.zone: '%s' is not a zone of the tz database in %s "
				"(e.g. Asia/Shanghai or UTC)",
				cfg->time_zone, CONFIG_ZONEINFO_DIR);
		return -1;
	}

	if (cfg->database_reconnect_min_ms > cfg->database_reconnect_max_ms) {
		int mi = config_key_index("database.reconnect_min_ms");
		if (ld->marks[mi].line == 0)
			mi = config_key_index("database.reconnect_max_ms");
		config_error_at(ld, ld->marks[mi].line, ld->marks[mi].column,
				"%s: database.reconnect_min_ms (%" PRId64
				") must not exceed database.reconnect_max_ms (%" PRId64 ")",
				config_keys[mi].name, cfg->database_reconnect_min_ms,
				cfg->database_reconnect_max_ms);
		return -1;
	}
	return 0;
}

/* Makes a relative file name (*file: the rules, the queues, the work
 * orders) relative to the folder of the config file, so that the broker
 * finds it whatever its working directory. */
static int config_resolve_path(const struct config *cfg, char **file)
{
	char *resolved = readfile_path_beside(cfg->path, *file);

	if (resolved == NULL)
		return -1;
	free(*file);
	*file = resolved;
	return 0;
}

int config_load_file(const char *path, struct config **out, char *err, size_t err_len)
{
	struct config_loader ld = {.path = path, .err = err, .err_len = err_len};
	yaml_parser_t parser;
	yaml_document_t doc;
	bool have_parser = false, have_doc = false;
	struct config *cfg = NULL;
	char prefix[128] = "";
	int rc = -1;

	*out = NULL;
	if (err_len > 0)
		err[0] = '\0';
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		config_error_at(&ld, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	cfg = config_defaults();
	if (cfg == NULL || (cfg->path = strdup(path)) == NULL) {
		config_error_at(&ld, 0, 0, "out of memory");
		goto out;
	}
	if (!yaml_parser_initialize(&parser)) {
		config_error_at(&ld, 0, 0, "out of memory");
		goto out;
	}
	have_parser = true;
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		config_error_yaml(&ld, &parser, f);
		goto out;
	}
	have_doc = true;

	const yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root != NULL && !config_node_is_null(root)) {
		if (root->type != YAML_MAPPING_NODE) {
			config_error_node(
				&ld, root,
				"expected a mapping of sections such as 'listen:' at the top, "
				"found %s",
				yamldoc_node_kind(root));
			goto out;
		}
		if (config_walk_mapping(&ld, &doc, root, prefix, 0, cfg) != 0)
			goto out;
		/* A second document would be silently ignored; refuse it instead. */
		yaml_document_t next;
		if (!yaml_parser_load(&parser, &next)) {
			config_error_yaml(&ld, &parser, f);
			goto out;
		}
		const yaml_node_t *next_root = yaml_document_get_root_node(&next);
		if (next_root != NULL) {
			config_error_node(&ld, next_root, "only one YAML document is allowed");
			yaml_document_delete(&next);
			goto out;
		}
		yaml_document_delete(&next);
	}
	if (config_validate(&ld, cfg) != 0)
		goto out;
	if (config_resolve_path(cfg, &cfg->classifier_rules_file) != 0 ||
	    config_resolve_path(cfg, &cfg->acd_queues_file) != 0 ||
	    config_resolve_path(cfg, &cfg->workorders_file) != 0) {
		config_error_at(&ld, 0, 0, "out of memory");
		goto out;
	}
	*out = cfg;
	cfg = NULL;
	rc = 0;
out:
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	fclose(f);
	config_free(cfg);
	return rc;
}

int config_check_reload(const struct config *old_cfg, const struct config *new_cfg, char *err,
			size_t err_len)
{
	char before[256], after[256];

	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		const struct config_key *k = &config_keys[i];
		if (k->flags & CONFIG_RELOADABLE)
			continue;
		config_format_value(old_cfg, i, before, sizeof before);
		config_format_value(new_cfg, i, after, sizeof after);
		if (strcmp(before, after) == 0)
			continue;
		if (k->flags & CONFIG_SECRET)
			snprintf(
				err, err_len,
				"%s: changed, but it needs a restart; the old value stays in effect",
				k->name);
		else
			snprintf(err, err_len,
				 "%s: changed from '%s' to '%s', but it needs a restart; the old "
				 "value stays in effect",
				 k->name, before, after);
		return -1;
	}
	return 0;
}

/* Writes s as a double-quoted YAML scalar. */
static void config_write_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* Writes text as "  # ..." lines, wrapped before 80 columns at spaces that
 * are not inside parentheses, so "(reload with SIGHUP)" stays on one line. */
static void config_write_comment(FILE *f, const char *text)
{
	const size_t width = 80 - 4;

	while (*text) {
		size_t len = strlen(text);
		if (len > width) {
			size_t cut = 0;
			int depth = 0;
			for (size_t i = 0; i < len && (i <= width || cut == 0); i++) {
				if (text[i] == '(')
					depth++;
				else if (text[i] == ')')
					depth--;
				else if (text[i] == ' ' && depth == 0)
					cut = i;
			}
			if (cut > 0)
				len = cut;
		}
		fprintf(f, "  # %.*s\n", (int)len, text);
		text += len;
		while (*text == ' ')
			text++;
	}
}

void config_write_reference(FILE *f)
{
	const char *section = NULL;
	size_t section_len = 0;

	fputs("# hotlined configuration: every key with its default.\n"
	      "# Keys marked \"(reload with SIGHUP)\" take effect on reload; the others need a\n"
	      "# restart, and a reload that changes them is refused.\n",
	      f);
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		const struct config_key *k = &config_keys[i];
		const char *dot = strchr(k->name, '.');
		size_t len = (size_t)(dot - k->name);

		if (section == NULL || len != section_len || memcmp(section, k->name, len) != 0) {
			section = k->name;
			section_len = len;
			fprintf(f, "\n%.*s:\n", (int)len, k->name);
		}
		char comment[512];
		int n = snprintf(comment, sizeof comment, "%s", k->description);
		if (k->type == CONFIG_INT)
			n += snprintf(comment + n, sizeof comment - (size_t)n,
				      " Range %" PRId64 "..%" PRId64 ".", k->min, k->max);
		snprintf(comment + n, sizeof comment - (size_t)n, " %s",
			 (k->flags & CONFIG_RELOADABLE) ? "(reload with SIGHUP)" :
							  "(needs restart)");
		config_write_comment(f, comment);
		fprintf(f, "  %s: ", dot + 1);
		if (k->type == CONFIG_INT)
			fprintf(f, "%" PRId64, k->default_int);
		else
			config_write_quoted(f, k->default_text);
		fputc('\n', f);
	}
}
