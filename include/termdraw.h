/* termdraw.h: drawing text measured in terminal columns on ncurses' stdscr,
 * for the agent's view and the wallboard.
 *
 * Chinese takes two columns a character, so widths are counted with
 * textfield_char_width (wcwidth), never in bytes or characters; text that
 * does not fit is cut at a character boundary, never in the middle of one.
 * Needs ncursesw and a UTF-8 locale.
 */
#ifndef HOTLINE_TERMDRAW_H
#define HOTLINE_TERMDRAW_H

#include <curses.h>

/* Draws UTF-8 text at (y, x) within width columns; returns the columns
 * used. Bytes that are not UTF-8 show as '?', control characters as ' '. */
int termdraw_put(int y, int x, int width, const char *text);

/* The same, printf-style. */
int termdraw_printf(int y, int x, int width, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Columns UTF-8 text takes. */
int termdraw_width(const char *text);

/* Spaces over width columns. */
void termdraw_blank(int y, int x, int width);

/* A box of h rows and w columns with title in its top border (title_attr)
 * and border drawn with border_attr; its inside is cleared. */
void termdraw_box(int y, int x, int h, int w, const char *title, attr_t border_attr,
		  attr_t title_attr);

/* "── title ──────" over cols columns of row y. */
void termdraw_section(int y, int cols, const char *title, attr_t title_attr);

#endif
