/* textfield.h: one line of text the agent types, as wide characters, with
 * a cursor (pure).
 *
 * The agent client keeps every field the agent types into (notes, a
 * ticket's subject, a reply to a 12345 order, the login) in one of these.
 * Characters are Unicode code points (wchar_t is UTF-32 on the systems we
 * build for), so that Chinese typed through the terminal's input method is
 * edited one character at a time, whatever its UTF-8 length; the text
 * travels as UTF-8, converted here without the C library's locale, so that
 * what a draft file or the broker holds does not depend on the terminal.
 *
 * Only the display widths (textfield_char_width and what uses it) ask the
 * C library (wcwidth), which needs a UTF-8 LC_CTYPE: CJK characters take two
 * columns, combining marks none.
 */
#ifndef HOTLINE_TEXTFIELD_H
#define HOTLINE_TEXTFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <wchar.h>

/* The most characters a field may hold: a reply to a 12345 order may have
 * 4000 (doc/workorders.md), the longest text the broker takes. */
#define TEXTFIELD_CAP 4000
/* UTF-8 bytes of a full field and its NUL. */
#define TEXTFIELD_UTF8_MAX (4 * TEXTFIELD_CAP + 1)

struct textfield {
	wchar_t text[TEXTFIELD_CAP + 1]; /* NUL-terminated */
	size_t len;                      /* characters */
	size_t cursor;                   /* 0..len: the insertion point */
	size_t max;                      /* this field's limit, 1..TEXTFIELD_CAP */
};

/* An empty field taking at most max characters (clamped to 1..CAP). */
void textfield_init(struct textfield *t, size_t max);

/* Inserts ch at the cursor. -ENOSPC when the field is full, -EINVAL for a
 * control character (C0, DEL, C1), a surrogate or a value beyond U+10FFFF:
 * fields are one line, and nothing the terminal cannot show goes in. */
int textfield_insert(struct textfield *t, wchar_t ch) __attribute__((warn_unused_result));

/* Editing at the cursor; each does nothing at the edge it moves against. */
void textfield_backspace(struct textfield *t);
void textfield_delete(struct textfield *t);
void textfield_left(struct textfield *t);
void textfield_right(struct textfield *t);
void textfield_home(struct textfield *t);
void textfield_end(struct textfield *t);
void textfield_clear(struct textfield *t);

/* Replaces the text with UTF-8 s (the cursor goes to the end). Invalid
 * UTF-8 and control characters are refused with -EINVAL, text longer than
 * the field with -ENOSPC; the field is unchanged then. */
int textfield_set_utf8(struct textfield *t, const char *s) __attribute__((warn_unused_result));

/* Writes the text as UTF-8 into out (out_len >= 1; TEXTFIELD_UTF8_MAX
 * always suffices), cut at a character boundary when it does not fit.
 * Returns the bytes written, without the NUL. */
size_t textfield_utf8(const struct textfield *t, char *out, size_t out_len);

/* Decodes one UTF-8 character at s (n bytes available): returns its length
 * (1..4) and the code point in *out, or -1 for an invalid or overlong
 * sequence, a surrogate, or one cut short. */
int textfield_decode_utf8(const char *s, size_t n, wchar_t *out)
	__attribute__((warn_unused_result));

/* Encodes ch as UTF-8 into out (4 bytes); returns the length, or 0 for a
 * value that is not a Unicode scalar. */
size_t textfield_encode_utf8(wchar_t ch, char out[4]);

/* Columns ch takes on a terminal: 0, 1 or 2; characters the terminal
 * cannot show count as 1 (they are drawn as '?'). */
int textfield_char_width(wchar_t ch);

/* Columns the whole text takes. */
size_t textfield_width(const struct textfield *t);

/* The first character to show so that the cursor is visible in a window
 * of cols columns (cols >= 2), given the one shown before (first): the
 * window scrolls only when the cursor leaves it. */
size_t textfield_scroll(const struct textfield *t, size_t first, int cols);

/* Where character index i falls when the text is wrapped at cols columns
 * (a wide character that would straddle the edge starts the next row):
 * its row and column. i may be len (the end). */
void textfield_wrap_position(const struct textfield *t, int cols, size_t i, int *row, int *col);

static inline bool textfield_empty(const struct textfield *t)
{
	return t->len == 0;
}

#endif
