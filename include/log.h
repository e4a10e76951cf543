/* log.h: levelled logging to stderr (journald picks it up under systemd).
 *
 * Each line: "<time> <level> <module>: <message>". The level is checked before
 * any formatting happens. Callers mask personal data themselves
 * (privacy_mask_number) and never pass complaint texts.
 */
#ifndef HOTLINE_LOG_H
#define HOTLINE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

extern enum log_level log_threshold;

/* Parses "debug", "info", "warn", "error"; returns 0 or -1. */
int log_parse_level(const char *name, enum log_level *out) __attribute__((warn_unused_result));

void log_write(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_at(level, module, ...)                                                                 \
	do {                                                                                       \
		if ((level) >= log_threshold)                                                      \
			log_write((level), (module), __VA_ARGS__);                                 \
	} while (0)
#define log_debug(module, ...) log_at(LOG_DEBUG, module, __VA_ARGS__)
#define log_info(module, ...) log_at(LOG_INFO, module, __VA_ARGS__)
#define log_warn(module, ...) log_at(LOG_WARN, module, __VA_ARGS__)
#define log_error(module, ...) log_at(LOG_ERROR, module, __VA_ARGS__)

#endif
