/* jsonw.c: JSON text into fixed buffers, without printf (see jsonw.h). */
#include "jsonw.h"

#include <string.h>

void jsonw_init(struct jsonw *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->truncated = cap == 0;
}

void jsonw_raw(struct jsonw *w, const char *text, size_t len)
{
	if (w->truncated || w->len + len + 1 > w->cap) {
		w->truncated = true;
		return;
	}
	memcpy(w->buf + w->len, text, len);
	w->len += len;
}

void jsonw_string(struct jsonw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s);

	/* Worst case every byte becomes \u00XX. */
	if (w->truncated || w->len + 6 * n + 3 > w->cap) {
		w->truncated = true;
		return;
	}
	char *p = w->buf + w->len;
	*p++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c < 0x20) {
			*p++ = '\\';
			*p++ = 'u';
			*p++ = '0';
			*p++ = '0';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		} else {
			*p++ = (char)c;
		}
	}
	*p++ = '"';
	w->len = (size_t)(p - w->buf);
}

size_t jsonw_format_int(char *out, int64_t v)
{
	char tmp[24];
	size_t n = 0, len = 0;
	/* Work in unsigned so that INT64_MIN negates without overflow. */
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		out[len++] = '-';
	while (n > 0)
		out[len++] = tmp[--n];
	out[len] = '\0';
	return len;
}

void jsonw_int(struct jsonw *w, int64_t v)
{
	char tmp[24];
	size_t n = jsonw_format_int(tmp, v);
	jsonw_raw(w, tmp, n);
}

long jsonw_end(struct jsonw *w)
{
	if (w->truncated) {
		if (w->cap > 0)
			w->buf[w->cap - 1] = '\0';
		return -1;
	}
	w->buf[w->len] = '\0';
	return (long)w->len;
}
