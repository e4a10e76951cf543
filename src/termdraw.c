/* termdraw.c: text in terminal columns on stdscr (see termdraw.h). */
#include "termdraw.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "textfield.h"

#define TERMDRAW_LINE_MAX 1024

int termdraw_put(int y, int x, int width, const char *text)
{
	wchar_t line[TERMDRAW_LINE_MAX];
	size_t n = 0, at = 0, len = strlen(text);
	int used = 0;

	while (at < len && n < TERMDRAW_LINE_MAX - 1) {
		wchar_t ch;
		int k = textfield_decode_utf8(text + at, len - at, &ch);
		if (k < 0) {
			ch = L'?';
			k = 1;
		}
		if (ch < 0x20 || (ch >= 0x7f && ch < 0xa0))
			ch = L' ';
		int w = textfield_char_width(ch);
		if (used + w > width)
			break;
		line[n++] = ch;
		used += w;
		at += (size_t)k;
	}
	line[n] = L'\0';
	if (n > 0)
		mvaddnwstr(y, x, line, (int)n);
	return used;
}

int termdraw_printf(int y, int x, int width, const char *fmt, ...)
{
	char buf[4 * TERMDRAW_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return termdraw_put(y, x, width, buf);
}

int termdraw_width(const char *text)
{
	int used = 0;
	size_t at = 0, len = strlen(text);
	while (at < len) {
		wchar_t ch;
		int k = textfield_decode_utf8(text + at, len - at, &ch);
		if (k < 0) {
			k = 1;
			ch = L'?';
		}
		used += textfield_char_width(ch);
		at += (size_t)k;
	}
	return used;
}

void termdraw_blank(int y, int x, int width)
{
	if (width > 0)
		mvhline(y, x, ' ', width);
}

/*
 * The whole area is blanked before the border is drawn: writing into the
 * second column of a CJK character makes ncurses blank its first column,
 * which must not be a border drawn a moment before.
 */
void termdraw_box(int y, int x, int h, int w, const char *title, attr_t border_attr,
		  attr_t title_attr)
{
	for (int r = 0; r < h; r++)
		termdraw_blank(y + r, x, w);
	attron(border_attr);
	mvaddch(y, x, ACS_ULCORNER);
	mvhline(y, x + 1, ACS_HLINE, w - 2);
	mvaddch(y, x + w - 1, ACS_URCORNER);
	for (int r = 1; r < h - 1; r++) {
		mvaddch(y + r, x, ACS_VLINE);
		mvaddch(y + r, x + w - 1, ACS_VLINE);
	}
	mvaddch(y + h - 1, x, ACS_LLCORNER);
	mvhline(y + h - 1, x + 1, ACS_HLINE, w - 2);
	mvaddch(y + h - 1, x + w - 1, ACS_LRCORNER);
	attroff(border_attr);
	if (title != NULL && title[0] != '\0') {
		attron(title_attr);
		mvaddch(y, x + 2, ' ');
		int used = termdraw_put(y, x + 3, w - 6, title);
		mvaddch(y, x + 3 + used, ' ');
		attroff(title_attr);
	}
}

void termdraw_section(int y, int cols, const char *title, attr_t title_attr)
{
	attron(A_DIM);
	mvhline(y, 0, ACS_HLINE, cols);
	attroff(A_DIM);
	attron(title_attr);
	mvaddch(y, 2, ' ');
	int used = termdraw_put(y, 3, cols - 6, title);
	mvaddch(y, 3 + used, ' ');
	attroff(title_attr);
}
