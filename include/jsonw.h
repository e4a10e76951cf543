/* jsonw.h: a small writer of JSON text into a caller's fixed buffer.
 *
 * For the answers and log rows the broker builds on every request, where
 * printf-style formatting cost more than the rest of the work. Writes never
 * overflow: once the buffer is full the writer is marked truncated and
 * later writes do nothing; jsonw_end reports it.
 */
#ifndef HOTLINE_JSONW_H
#define HOTLINE_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jsonw {
	char *buf;
	size_t cap;
	size_t len;
	bool truncated;
};

void jsonw_init(struct jsonw *w, char *buf, size_t cap);

/* Appends text as it is (punctuation, keys written by the caller). */
void jsonw_raw(struct jsonw *w, const char *text, size_t len);
#define jsonw_lit(w, literal) jsonw_raw((w), (literal), sizeof(literal) - 1)

/* Appends s as a JSON string, quotes included, escaping what JSON requires. */
void jsonw_string(struct jsonw *w, const char *s);

/* Appends a decimal integer. */
void jsonw_int(struct jsonw *w, int64_t v);

/* NUL-terminates; returns the length, or -1 if anything was cut off. */
long jsonw_end(struct jsonw *w);

/* Writes v in decimal into out (at least 21 bytes); returns the length. */
size_t jsonw_format_int(char *out, int64_t v);

#endif
