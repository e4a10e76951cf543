/* report.h: an export as plain data (titled tables, charts and the
 * definitions it used), and the writers that turn it into CSV, JSON, XLSX
 * or a self-contained HTML page with SVG charts.
 *
 * hotline-stats fills a struct report from its queries and hands it to one
 * writer; the writers know nothing of calls or bookings, so every export
 * (the year, a day, a date range) looks the same in every format. A report
 * owns every string it holds (copied on add); report_free frees them.
 *
 * Text is UTF-8 throughout (table titles and headers are Chinese, as in the
 * year report, names are whatever the data holds). Writers escape what
 * their format needs (CSV quotes, HTML entities, XML in the XLSX). A string
 * that is not valid UTF-8 is copied with each bad byte replaced by U+FFFD,
 * so that no writer can produce a file its reader rejects.
 */
#ifndef HOTLINE_REPORT_H
#define HOTLINE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum report_cell_kind {
	REPORT_CELL_EMPTY,   /* nothing (a figure that is undefined, e.g. ASA with no answers) */
	REPORT_CELL_TEXT,    /* a name, a date, a code */
	REPORT_CELL_INT,     /* a count */
	REPORT_CELL_REAL,    /* seconds and the like, printed with `decimals` digits */
	REPORT_CELL_PERCENT, /* a fraction in [0, 1], shown as a percentage with `decimals` digits */
};

struct report_cell {
	enum report_cell_kind kind;
	char *text; /* REPORT_CELL_TEXT */
	int64_t i;  /* REPORT_CELL_INT */
	double r;   /* REPORT_CELL_REAL and REPORT_CELL_PERCENT */
	int decimals;
};

/* One table: a sheet of the XLSX, a table of the HTML page, a block of the
 * CSV. id is ASCII ([a-z0-9_]), stable, for JSON keys, CSV block names and
 * tests; title is what a person reads (Chinese); the XLSX sheet is named
 * after sheet (at most 31 characters, no []:*?/\), title when NULL. */
struct report_table {
	char *id;
	char *title;
	char *sheet;
	char *note; /* optional line under the title (a definition, a source) */
	size_t n_columns;
	char **headers; /* n_columns */
	char **keys;    /* n_columns ASCII keys for JSON ([a-z0-9_]) */
	size_t n_rows;
	size_t cap_rows;
	struct report_cell *cells; /* n_rows * n_columns, row-major */
	bool last_row_is_total;    /* written bold / apart */
};

enum report_chart_kind {
	REPORT_CHART_BAR,  /* vertical bars, one per label (categories, hours) */
	REPORT_CHART_HBAR, /* horizontal bars, one per label, longest first (a ranking) */
	REPORT_CHART_LINE, /* a line over the labels in order (a monthly trend) */
};

/* One chart of the HTML report (other formats ignore charts: their data is
 * always in a table too). */
struct report_chart {
	char *id;
	char *title;
	enum report_chart_kind kind;
	char *unit; /* the values' unit, shown on the axis ("通话" / "calls") */
	size_t n;
	char **labels;
	double *values;
};

struct report {
	char *title;    /* "南京 12320 2019 年度统计" */
	char *subtitle; /* centre, period, time zone, when generated */
	size_t n_definitions;
	char **definitions; /* one paragraph each, printed with every format */
	size_t n_tables;
	struct report_table **tables;
	size_t n_charts;
	struct report_chart **charts;
};

/* All return NULL or -ENOMEM when memory runs out; the report is unchanged then. */
struct report *report_new(const char *title, const char *subtitle);
void report_free(struct report *r);
int report_add_definition(struct report *r, const char *text) __attribute__((warn_unused_result));

/* A new empty table with n_columns columns: headers[i] for people, keys[i]
 * for JSON. The report owns it; the pointer stays valid until report_free.
 * Also NULL, with errno EINVAL, when id or a key is not [a-z0-9_]+, id is
 * already a table's, a key repeats, n_columns is 0 or title is NULL (the
 * JSON would otherwise lose a table or a column silently). */
struct report_table *report_add_table(struct report *r, const char *id, const char *title,
				      const char *sheet, size_t n_columns,
				      const char *const *headers, const char *const *keys);
int report_table_set_note(struct report_table *t, const char *note)
	__attribute__((warn_unused_result));
/* Appends a row of n_columns empty cells and returns it (to be filled with
 * the setters below), or NULL. The row moves when the next row is added:
 * fill it before adding another. */
struct report_cell *report_table_add_row(struct report_table *t);
int report_cell_set_text(struct report_cell *c, const char *text)
	__attribute__((warn_unused_result));
void report_cell_set_int(struct report_cell *c, int64_t v);
void report_cell_set_real(struct report_cell *c, double v, int decimals);
void report_cell_set_percent(struct report_cell *c, double fraction, int decimals);
/* (The setters clamp decimals to 0..9; a value that is not finite makes the
 * cell EMPTY, since no format can show it.) */

/* A chart over n labels and values (copied). */
struct report_chart *report_add_chart(struct report *r, const char *id, const char *title,
				      enum report_chart_kind kind, const char *unit, size_t n,
				      const char *const *labels, const double *values);

/* Text helpers the writers share; a terminal printer may use them too. */

/* True when c shows nothing: EMPTY, or a REAL or PERCENT that is not finite. */
bool report_cell_is_blank(const struct report_cell *c);
/* Formats c as a person reads it into buf (size bytes, always terminated when
 * size > 0): a count as "1,756,440" (thousands: true) or "1756440", a REAL
 * with its decimals, a PERCENT as "87.5%", TEXT as it is, a blank cell as "".
 * The decimal point is always '.', whatever the locale. Returns the length
 * the whole text needs, like snprintf. */
size_t report_cell_format(const struct report_cell *c, bool thousands, char *buf, size_t size);
/* The width of UTF-8 text in terminal columns: CJK and other wide
 * characters count 2, combining marks 0, everything else 1. */
size_t report_text_width(const char *s);
/* The length in bytes of the longest prefix of s at most max_width columns
 * wide, never cutting a character in two. */
size_t report_text_cut(const char *s, size_t max_width);

/* Writers. Each returns 0, or -errno (-EIO when a write failed, -ENOMEM). */

/* CSV (RFC 4180, UTF-8, CRLF-free: lines end in \n): the definitions and
 * titles as lines starting with '#', then each table as a header line and
 * its rows, a blank line between tables. bom: start with the UTF-8 byte
 * order mark so that Excel reads the Chinese right. */
int report_write_csv(const struct report *r, FILE *f, bool bom) __attribute__((warn_unused_result));
/* One JSON object: title, subtitle, definitions, and tables keyed by id,
 * each an array of row objects keyed by the columns' keys. */
int report_write_json(const struct report *r, FILE *f) __attribute__((warn_unused_result));
/* An XLSX workbook at path (libxlsxwriter writes files, not streams): one
 * sheet per table with its title, note and headers, numbers as numbers,
 * percentages formatted as such; a first sheet 说明 with the title and the
 * definitions. */
int report_write_xlsx(const struct report *r, const char *path)
	__attribute__((warn_unused_result));
/* One self-contained HTML5 page (inline CSS and SVG, no script, nothing
 * fetched): title, the charts, every table, the definitions. */
int report_write_html(const struct report *r, FILE *f) __attribute__((warn_unused_result));

#endif
