/* textfield.c: a line of wide characters with a cursor, and the UTF-8 and
 * display-width arithmetic the agent client needs (see textfield.h). */
#include "textfield.h"

#include <errno.h>
#include <string.h>

static bool textfield_scalar_ok(wchar_t ch)
{
	unsigned long c = (unsigned long)ch;
	return c <= 0x10FFFFul && !(c >= 0xD800ul && c <= 0xDFFFul);
}

/* Control characters would break the one-line layout or the terminal. */
static bool textfield_printable(wchar_t ch)
{
	unsigned long c = (unsigned long)ch;
	return textfield_scalar_ok(ch) && c >= 0x20ul && !(c >= 0x7Ful && c < 0xA0ul);
}

void textfield_init(struct textfield *t, size_t max)
{
	t->text[0] = L'\0';
	t->len = 0;
	t->cursor = 0;
	t->max = max < 1 ? 1 : max > TEXTFIELD_CAP ? TEXTFIELD_CAP : max;
}

int textfield_insert(struct textfield *t, wchar_t ch)
{
	if (!textfield_printable(ch))
		return -EINVAL;
	if (t->len >= t->max)
		return -ENOSPC;
	memmove(&t->text[t->cursor + 1], &t->text[t->cursor],
		(t->len - t->cursor + 1) * sizeof t->text[0]);
	t->text[t->cursor] = ch;
	t->len++;
	t->cursor++;
	return 0;
}

void textfield_backspace(struct textfield *t)
{
	if (t->cursor == 0)
		return;
	t->cursor--;
	textfield_delete(t);
}

void textfield_delete(struct textfield *t)
{
	if (t->cursor >= t->len)
		return;
	memmove(&t->text[t->cursor], &t->text[t->cursor + 1],
		(t->len - t->cursor) * sizeof t->text[0]);
	t->len--;
}

void textfield_left(struct textfield *t)
{
	if (t->cursor > 0)
		t->cursor--;
}

void textfield_right(struct textfield *t)
{
	if (t->cursor < t->len)
		t->cursor++;
}

void textfield_home(struct textfield *t)
{
	t->cursor = 0;
}

void textfield_end(struct textfield *t)
{
	t->cursor = t->len;
}

void textfield_clear(struct textfield *t)
{
	t->text[0] = L'\0';
	t->len = 0;
	t->cursor = 0;
}

int textfield_decode_utf8(const char *s, size_t n, wchar_t *out)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long c;
	int len;

	if (n == 0)
		return -1;
	if (p[0] < 0x80) {
		*out = (wchar_t)p[0];
		return 1;
	} else if ((p[0] & 0xE0) == 0xC0) {
		c = p[0] & 0x1Ful;
		len = 2;
	} else if ((p[0] & 0xF0) == 0xE0) {
		c = p[0] & 0x0Ful;
		len = 3;
	} else if ((p[0] & 0xF8) == 0xF0) {
		c = p[0] & 0x07ul;
		len = 4;
	} else {
		return -1;
	}
	if ((size_t)len > n)
		return -1;
	for (int i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return -1;
		c = (c << 6) | (p[i] & 0x3Ful);
	}
	/* The shortest form only: overlong encodings hide characters. */
	static const unsigned long least[5] = {0, 0, 0x80ul, 0x800ul, 0x10000ul};
	if (c < least[len] || !textfield_scalar_ok((wchar_t)c))
		return -1;
	*out = (wchar_t)c;
	return len;
}

size_t textfield_encode_utf8(wchar_t ch, char out[4])
{
	unsigned long c = (unsigned long)ch;

	if (!textfield_scalar_ok(ch))
		return 0;
	if (c < 0x80ul) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800ul) {
		out[0] = (char)(0xC0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000ul) {
		out[0] = (char)(0xE0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

int textfield_set_utf8(struct textfield *t, const char *s)
{
	wchar_t tmp[TEXTFIELD_CAP + 1];
	size_t n = 0, at = 0, total = strlen(s);

	while (at < total) {
		wchar_t ch;
		int len = textfield_decode_utf8(s + at, total - at, &ch);
		if (len < 0 || !textfield_printable(ch))
			return -EINVAL;
		if (n >= t->max)
			return -ENOSPC;
		tmp[n++] = ch;
		at += (size_t)len;
	}
	memcpy(t->text, tmp, n * sizeof tmp[0]);
	t->text[n] = L'\0';
	t->len = n;
	t->cursor = n;
	return 0;
}

size_t textfield_utf8(const struct textfield *t, char *out, size_t out_len)
{
	size_t used = 0;

	for (size_t i = 0; i < t->len; i++) {
		char buf[4];
		size_t n = textfield_encode_utf8(t->text[i], buf);
		if (used + n + 1 > out_len)
			break;
		memcpy(out + used, buf, n);
		used += n;
	}
	out[used] = '\0';
	return used;
}

int textfield_char_width(wchar_t ch)
{
	int w = wcwidth(ch);
	return w < 0 ? 1 : w > 2 ? 2 : w;
}

size_t textfield_width(const struct textfield *t)
{
	size_t w = 0;
	for (size_t i = 0; i < t->len; i++)
		w += (size_t)textfield_char_width(t->text[i]);
	return w;
}

/*
 * Keeps the window where it was while the cursor stays inside it, and
 * otherwise moves it the least: left to the cursor, or right until the
 * cursor (and, at the end of the text, the cell after it) fits. Widths are
 * summed character by character because CJK takes two columns.
 */
size_t textfield_scroll(const struct textfield *t, size_t first, int cols)
{
	if (cols < 2)
		cols = 2;
	if (first > t->cursor)
		return t->cursor;
	/* The cursor's cell must fit: the columns from first to the cursor,
	 * plus the character under it (or one cell at the end). */
	for (;;) {
		size_t w = 0;
		for (size_t i = first; i < t->cursor; i++)
			w += (size_t)textfield_char_width(t->text[i]);
		w += t->cursor < t->len ? (size_t)textfield_char_width(t->text[t->cursor]) : 1;
		if (w <= (size_t)cols || first >= t->cursor)
			return first;
		first++;
	}
}

void textfield_wrap_position(const struct textfield *t, int cols, size_t i, int *row, int *col)
{
	int r = 0, c = 0;

	if (cols < 2)
		cols = 2;
	if (i > t->len)
		i = t->len;
	for (size_t k = 0; k < i; k++) {
		int w = textfield_char_width(t->text[k]);
		if (c + w > cols) {
			r++;
			c = 0;
		}
		c += w;
	}
	/* The end of a full row puts the cursor at the start of the next. */
	if (c >= cols) {
		r++;
		c = 0;
	} else if (i < t->len && c + textfield_char_width(t->text[i]) > cols) {
		r++;
		c = 0;
	}
	*row = r;
	*col = c;
}
