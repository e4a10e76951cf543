/* report.c: the report model (tables, cells, charts, definitions), the text
 * helpers every writer shares, and the two stream writers, CSV and JSON
 * (see report.h). The XLSX and HTML writers live in report_xlsx.c and
 * report_html.c. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DECIMALS_MAX 9

/* --- UTF-8 ---------------------------------------------------------------- */

/* Decodes one character at s (len bytes available). Returns its length in
 * bytes and stores the code point, or returns 0 for a byte that does not
 * start a well-formed character (overlong forms and surrogates included,
 * since XML and JSON readers refuse them). */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c;
	size_t n;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		c = s[0] & 0x1f;
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		c = s[0] & 0x0f;
		n = 3;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		c = s[0] & 0x07;
		n = 4;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* A copy of s that is valid UTF-8: each byte that does not start a
 * well-formed character becomes U+FFFD. NULL only when memory runs out. */
static char *text_copy(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), bad = 0;
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_decode(u + i, len - i, &cp);
		if (n == 0) {
			bad++;
			n = 1;
		}
		i += n;
	}
	if (bad == 0)
		return strdup(s);

	/* U+FFFD is 3 bytes where the bad byte was 1. */
	char *out = malloc(len + 2 * bad + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_decode(u + i, len - i, &cp);
		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}

/* Terminal columns of one code point, after East Asian Width (W and F),
 * coarsely: what matters here is that Chinese counts 2. */
static size_t code_point_width(uint32_t c)
{
	if (c == 0 || (c >= 0x300 && c <= 0x36f) || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0xfe00 && c <= 0xfe0f))
		return 0;
	if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0x303e) ||
	    (c >= 0x3041 && c <= 0x33ff) || (c >= 0x3400 && c <= 0x4dbf) ||
	    (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xa000 && c <= 0xa4cf) ||
	    (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	    (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
	    (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd))
		return 2;
	return 1;
}

size_t report_text_width(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), width = 0;
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_decode(u + i, len - i, &cp);
		if (n == 0) {
			/* Shown as U+FFFD, one column. */
			width++;
			i++;
			continue;
		}
		width += code_point_width(cp);
		i += n;
	}
	return width;
}

size_t report_text_cut(const char *s, size_t max_width)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), width = 0, i = 0;
	uint32_t cp;

	while (i < len) {
		size_t n = utf8_decode(u + i, len - i, &cp);
		size_t w = 1;
		if (n == 0)
			n = 1;
		else
			w = code_point_width(cp);
		if (width + w > max_width)
			break;
		width += w;
		i += n;
	}
	return i;
}

/* --- numbers as text ------------------------------------------------------ */

/* Appends text to buf (size bytes) at *len, truncating, always counting. */
static void text_append(char *buf, size_t size, size_t *len, const char *text, size_t n)
{
	if (*len < size) {
		size_t room = size - 1 - *len;
		memcpy(buf + *len, text, n < room ? n : room);
		buf[*len + (n < room ? n : room)] = '\0';
	}
	*len += n;
}

/* Writes sign, digits and decimals (digits only, in ASCII) with a comma
 * between each group of three integer digits when thousands is set. */
static size_t number_join(bool negative, const char *digits, size_t n_digits, const char *decimals,
			  size_t n_decimals, bool thousands, char *buf, size_t size)
{
	size_t len = 0;

	if (size > 0)
		buf[0] = '\0';
	if (negative)
		text_append(buf, size, &len, "-", 1);
	for (size_t i = 0; i < n_digits; i++) {
		text_append(buf, size, &len, digits + i, 1);
		size_t left = n_digits - 1 - i;
		if (thousands && left > 0 && left % 3 == 0)
			text_append(buf, size, &len, ",", 1);
	}
	if (n_decimals > 0) {
		text_append(buf, size, &len, ".", 1);
		text_append(buf, size, &len, decimals, n_decimals);
	}
	return len;
}

static size_t format_int(int64_t v, bool thousands, char *buf, size_t size)
{
	/* The magnitude as unsigned, so that INT64_MIN has one too. */
	uint64_t magnitude = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	char digits[24];
	int n = snprintf(digits, sizeof digits, "%" PRIu64, magnitude);

	return number_join(v < 0, digits, (size_t)n, "", 0, thousands, buf, size);
}

/* printf's %f follows LC_NUMERIC, and a report must read the same whatever
 * locale the program runs in: the integer and decimal digits are taken
 * apart from whatever separator printf used, and joined again with '.'. */
static size_t format_real(double v, int decimals, bool thousands, char *buf, size_t size)
{
	char raw[400]; /* DBL_MAX has 309 digits */
	const char *p = raw, *digits, *fraction = "";
	size_t n_digits, n_fraction = 0;
	bool negative;

	if (!isfinite(v)) {
		if (size > 0)
			buf[0] = '\0';
		return 0;
	}
	snprintf(raw, sizeof raw, "%.*f", decimals, v);
	negative = *p == '-';
	if (negative)
		p++;
	digits = p;
	while (*p >= '0' && *p <= '9')
		p++;
	n_digits = (size_t)(p - digits);
	while (*p != '\0' && (*p < '0' || *p > '9'))
		p++;
	fraction = p;
	n_fraction = strlen(p);
	/* "-0.0" is a rounding artefact; a person reads 0. */
	if (negative && strspn(digits, "0") == n_digits && strspn(fraction, "0") == n_fraction)
		negative = false;
	return number_join(negative, digits, n_digits, fraction, n_fraction, thousands, buf, size);
}

bool report_cell_is_blank(const struct report_cell *c)
{
	switch (c->kind) {
	case REPORT_CELL_TEXT:
	case REPORT_CELL_INT:
		return false;
	case REPORT_CELL_REAL:
	case REPORT_CELL_PERCENT:
		return !isfinite(c->r);
	case REPORT_CELL_EMPTY:
	default:
		return true;
	}
}

static int decimals_clamp(int decimals)
{
	return decimals < 0 ? 0 : decimals > DECIMALS_MAX ? DECIMALS_MAX : decimals;
}

size_t report_cell_format(const struct report_cell *c, bool thousands, char *buf, size_t size)
{
	size_t len = 0;

	if (size > 0)
		buf[0] = '\0';
	if (report_cell_is_blank(c))
		return 0;
	switch (c->kind) {
	case REPORT_CELL_TEXT:
		if (c->text != NULL)
			text_append(buf, size, &len, c->text, strlen(c->text));
		return len;
	case REPORT_CELL_INT:
		return format_int(c->i, thousands, buf, size);
	case REPORT_CELL_REAL:
		return format_real(c->r, decimals_clamp(c->decimals), thousands, buf, size);
	case REPORT_CELL_PERCENT:
		if (!isfinite(c->r * 100))
			return 0;
		len = format_real(c->r * 100, decimals_clamp(c->decimals), thousands, buf, size);
		text_append(buf, size, &len, "%", 1);
		return len;
	case REPORT_CELL_EMPTY:
	default:
		return 0;
	}
}

/* --- the model -------------------------------------------------------------- */

struct report *report_new(const char *title, const char *subtitle)
{
	struct report *r = calloc(1, sizeof *r);

	if (r == NULL)
		return NULL;
	r->title = text_copy(title != NULL ? title : "");
	if (r->title == NULL)
		goto fail;
	if (subtitle != NULL) {
		r->subtitle = text_copy(subtitle);
		if (r->subtitle == NULL)
			goto fail;
	}
	return r;
fail:
	report_free(r);
	return NULL;
}

static void table_free(struct report_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
		free(t->cells[i].text);
	free(t->cells);
	if (t->headers != NULL)
		for (size_t i = 0; i < t->n_columns; i++)
			free(t->headers[i]);
	if (t->keys != NULL)
		for (size_t i = 0; i < t->n_columns; i++)
			free(t->keys[i]);
	free(t->headers);
	free(t->keys);
	free(t->id);
	free(t->title);
	free(t->sheet);
	free(t->note);
	free(t);
}

static void chart_free(struct report_chart *c)
{
	if (c == NULL)
		return;
	if (c->labels != NULL)
		for (size_t i = 0; i < c->n; i++)
			free(c->labels[i]);
	free(c->labels);
	free(c->values);
	free(c->id);
	free(c->title);
	free(c->unit);
	free(c);
}

void report_free(struct report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_definitions; i++)
		free(r->definitions[i]);
	free(r->definitions);
	for (size_t i = 0; i < r->n_tables; i++)
		table_free(r->tables[i]);
	free(r->tables);
	for (size_t i = 0; i < r->n_charts; i++)
		chart_free(r->charts[i]);
	free(r->charts);
	free(r->title);
	free(r->subtitle);
	free(r);
}

int report_add_definition(struct report *r, const char *text)
{
	char *copy = text_copy(text != NULL ? text : "");
	char **grown = NULL;

	if (copy != NULL)
		grown = realloc(r->definitions, (r->n_definitions + 1) * sizeof *grown);
	if (grown == NULL) {
		free(copy);
		return -ENOMEM;
	}
	r->definitions = grown;
	r->definitions[r->n_definitions++] = copy;
	return 0;
}

/* ids and keys become JSON keys, CSV block names and HTML ids. */
static bool name_is_valid(const char *s)
{
	return s != NULL && *s != '\0' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s);
}

/* Copies src (NULL stays NULL) into *dst; false when memory ran out. */
static bool optional_copy(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return true;
	*dst = text_copy(src);
	return *dst != NULL;
}

struct report_table *report_add_table(struct report *r, const char *id, const char *title,
				      const char *sheet, size_t n_columns,
				      const char *const *headers, const char *const *keys)
{
	struct report_table *t = NULL;

	if (!name_is_valid(id) || title == NULL || n_columns == 0 || headers == NULL ||
	    keys == NULL)
		goto invalid;
	for (size_t i = 0; i < r->n_tables; i++)
		if (strcmp(r->tables[i]->id, id) == 0)
			goto invalid;
	for (size_t i = 0; i < n_columns; i++) {
		if (!name_is_valid(keys[i]))
			goto invalid;
		for (size_t j = 0; j < i; j++)
			if (strcmp(keys[i], keys[j]) == 0)
				goto invalid;
	}

	t = calloc(1, sizeof *t);
	if (t == NULL)
		goto nomem;
	t->headers = calloc(n_columns, sizeof *t->headers);
	t->keys = calloc(n_columns, sizeof *t->keys);
	if (t->headers == NULL || t->keys == NULL)
		goto nomem;
	/* Counted now so that table_free frees whatever was copied so far. */
	t->n_columns = n_columns;
	for (size_t i = 0; i < n_columns; i++) {
		t->headers[i] = text_copy(headers[i] != NULL ? headers[i] : "");
		t->keys[i] = strdup(keys[i]);
		if (t->headers[i] == NULL || t->keys[i] == NULL)
			goto nomem;
	}
	if (!optional_copy(&t->id, id) || !optional_copy(&t->title, title) ||
	    !optional_copy(&t->sheet, sheet))
		goto nomem;
	struct report_table **grown = realloc(r->tables, (r->n_tables + 1) * sizeof *grown);
	if (grown == NULL)
		goto nomem;
	r->tables = grown;
	r->tables[r->n_tables++] = t;
	return t;
invalid:
	errno = EINVAL;
	return NULL;
nomem:
	table_free(t);
	errno = ENOMEM;
	return NULL;
}

int report_table_set_note(struct report_table *t, const char *note)
{
	char *copy = NULL;

	if (!optional_copy(&copy, note))
		return -ENOMEM;
	free(t->note);
	t->note = copy;
	return 0;
}

struct report_cell *report_table_add_row(struct report_table *t)
{
	if (t->n_rows == t->cap_rows) {
		size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
		if (cap < t->cap_rows || cap > SIZE_MAX / sizeof *t->cells / t->n_columns) {
			errno = ENOMEM;
			return NULL;
		}
		struct report_cell *grown = realloc(t->cells, cap * t->n_columns * sizeof *grown);
		if (grown == NULL)
			return NULL;
		t->cells = grown;
		t->cap_rows = cap;
	}
	struct report_cell *row = t->cells + t->n_rows * t->n_columns;
	/* All zero is n_columns EMPTY cells without text. */
	memset(row, 0, t->n_columns * sizeof *row);
	t->n_rows++;
	return row;
}

int report_cell_set_text(struct report_cell *c, const char *text)
{
	char *copy = text_copy(text != NULL ? text : "");

	if (copy == NULL)
		return -ENOMEM;
	free(c->text);
	*c = (struct report_cell){.kind = REPORT_CELL_TEXT, .text = copy};
	return 0;
}

void report_cell_set_int(struct report_cell *c, int64_t v)
{
	free(c->text);
	*c = (struct report_cell){.kind = REPORT_CELL_INT, .i = v};
}

static void cell_set_fraction(struct report_cell *c, enum report_cell_kind kind, double v,
			      int decimals)
{
	free(c->text);
	if (!isfinite(v))
		*c = (struct report_cell){.kind = REPORT_CELL_EMPTY};
	else
		*c = (struct report_cell){
			.kind = kind, .r = v, .decimals = decimals_clamp(decimals)};
}

void report_cell_set_real(struct report_cell *c, double v, int decimals)
{
	cell_set_fraction(c, REPORT_CELL_REAL, v, decimals);
}

void report_cell_set_percent(struct report_cell *c, double fraction, int decimals)
{
	cell_set_fraction(c, REPORT_CELL_PERCENT, fraction, decimals);
}

struct report_chart *report_add_chart(struct report *r, const char *id, const char *title,
				      enum report_chart_kind kind, const char *unit, size_t n,
				      const char *const *labels, const double *values)
{
	struct report_chart *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->kind = kind;
	if (!optional_copy(&c->id, id != NULL ? id : "") ||
	    !optional_copy(&c->title, title != NULL ? title : "") || !optional_copy(&c->unit, unit))
		goto fail;
	if (n > 0) {
		c->labels = calloc(n, sizeof *c->labels);
		c->values = calloc(n, sizeof *c->values);
		if (c->labels == NULL || c->values == NULL)
			goto fail;
		c->n = n;
		for (size_t i = 0; i < n; i++) {
			const char *label = labels != NULL && labels[i] != NULL ? labels[i] : "";
			c->labels[i] = text_copy(label);
			if (c->labels[i] == NULL)
				goto fail;
			c->values[i] = values != NULL ? values[i] : 0;
		}
	}
	struct report_chart **grown = realloc(r->charts, (r->n_charts + 1) * sizeof *grown);
	if (grown == NULL)
		goto fail;
	r->charts = grown;
	r->charts[r->n_charts++] = c;
	return c;
fail:
	chart_free(c);
	errno = ENOMEM;
	return NULL;
}

/* --- CSV -------------------------------------------------------------------- */

/* A comment line ("# text"); a line break inside text starts a new comment
 * line, so that no reader mistakes the rest for data. */
static void csv_comment(FILE *f, const char *text)
{
	fputs("# ", f);
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\n' || *p == '\r')
			fputs("\n# ", f);
		else
			fputc(*p, f);
	}
	fputc('\n', f);
}

/* RFC 4180 quoting, and a little more: a field starting with '#' is quoted
 * too, so that it is never read as one of our comment lines, and one with
 * spaces at either end, which some readers trim. */
static void csv_field(FILE *f, const char *s)
{
	size_t len = strlen(s);
	bool quote = strpbrk(s, ",\"\r\n") != NULL || s[0] == '#' ||
		     (len > 0 && (s[0] == ' ' || s[len - 1] == ' '));

	if (!quote) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

/* stdio keeps the first error in the stream; checked once, after a flush,
 * since a full disk often shows only then. */
static int stream_result(FILE *f)
{
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}

int report_write_csv(const struct report *r, FILE *f, bool bom)
{
	char number[128];

	if (bom)
		fputs("\xef\xbb\xbf", f);
	csv_comment(f, r->title);
	if (r->subtitle != NULL && *r->subtitle != '\0')
		csv_comment(f, r->subtitle);
	for (size_t i = 0; i < r->n_definitions; i++)
		csv_comment(f, r->definitions[i]);

	for (size_t ti = 0; ti < r->n_tables; ti++) {
		const struct report_table *t = r->tables[ti];
		char *heading = NULL;

		fputc('\n', f);
		if (asprintf(&heading, "%s: %s", t->id, t->title) < 0)
			return -ENOMEM;
		csv_comment(f, heading);
		free(heading);
		if (t->note != NULL && *t->note != '\0')
			csv_comment(f, t->note);
		for (size_t c = 0; c < t->n_columns; c++) {
			if (c > 0)
				fputc(',', f);
			csv_field(f, t->headers[c]);
		}
		fputc('\n', f);
		for (size_t row = 0; row < t->n_rows; row++) {
			for (size_t c = 0; c < t->n_columns; c++) {
				const struct report_cell *cell = &t->cells[row * t->n_columns + c];
				if (c > 0)
					fputc(',', f);
				if (cell->kind == REPORT_CELL_TEXT) {
					csv_field(f, cell->text != NULL ? cell->text : "");
				} else {
					/* Plain digits: a reader parses "1,234" as two fields. */
					report_cell_format(cell, false, number, sizeof number);
					fputs(number, f);
				}
			}
			fputc('\n', f);
		}
	}
	return stream_result(f);
}

/* --- JSON ------------------------------------------------------------------- */

static json_t *json_text(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* The cell as JSON: a count as an integer, a REAL as a number, a PERCENT as
 * its fraction (0.875, not 87.5: the reader formats), nothing as null. */
static json_t *json_cell(const struct report_cell *c)
{
	if (report_cell_is_blank(c))
		return json_null();
	switch (c->kind) {
	case REPORT_CELL_TEXT:
		return json_string(c->text != NULL ? c->text : "");
	case REPORT_CELL_INT:
		return json_integer(c->i);
	case REPORT_CELL_REAL:
	case REPORT_CELL_PERCENT:
		return json_real(c->r);
	case REPORT_CELL_EMPTY:
	default:
		return json_null();
	}
}

/* set_new steals the value even when it fails, so a NULL value (out of
 * memory) needs no freeing here. */
static int json_put(json_t *object, const char *key, json_t *value)
{
	if (value == NULL || json_object_set_new(object, key, value) < 0)
		return -ENOMEM;
	return 0;
}

static int json_push(json_t *array, json_t *value)
{
	if (value == NULL || json_array_append_new(array, value) < 0)
		return -ENOMEM;
	return 0;
}

/* The rows of t as an array of objects keyed by the columns' keys. */
static json_t *json_table_rows(const struct report_table *t)
{
	json_t *rows = json_array();

	if (rows == NULL)
		return NULL;
	for (size_t row = 0; row < t->n_rows; row++) {
		json_t *object = json_object();
		if (json_push(rows, object) < 0)
			goto fail;
		for (size_t c = 0; c < t->n_columns; c++)
			if (json_put(object, t->keys[c],
				     json_cell(&t->cells[row * t->n_columns + c])) < 0)
				goto fail;
	}
	return rows;
fail:
	json_decref(rows);
	return NULL;
}

/* What a reader needs besides the rows: the title and note, each key's
 * header, and whether the last row is a total (not to be summed again). */
static json_t *json_table_info(const struct report_table *t)
{
	json_t *info = json_object(), *columns = NULL;

	if (info == NULL)
		return NULL;
	if (json_put(info, "title", json_text(t->title)) < 0 ||
	    json_put(info, "note", json_text(t->note)) < 0 ||
	    json_put(info, "columns", columns = json_array()) < 0 ||
	    json_put(info, "last_row_is_total", json_boolean(t->last_row_is_total)) < 0)
		goto fail;
	for (size_t c = 0; c < t->n_columns; c++) {
		json_t *column = json_object();
		if (json_push(columns, column) < 0 ||
		    json_put(column, "key", json_string(t->keys[c])) < 0 ||
		    json_put(column, "header", json_string(t->headers[c])) < 0)
			goto fail;
	}
	return info;
fail:
	json_decref(info);
	return NULL;
}

int report_write_json(const struct report *r, FILE *f)
{
	json_t *root = json_object(), *definitions = NULL, *tables = NULL, *info = NULL;
	int err = -ENOMEM;

	if (root == NULL)
		goto cleanup;
	/* Each container goes into root as soon as it exists, so that root's
	 * one decref frees everything on every path. */
	if (json_put(root, "title", json_text(r->title)) < 0 ||
	    json_put(root, "subtitle", json_text(r->subtitle)) < 0 ||
	    json_put(root, "definitions", definitions = json_array()) < 0 ||
	    json_put(root, "tables", tables = json_object()) < 0 ||
	    json_put(root, "table_info", info = json_object()) < 0)
		goto cleanup;
	for (size_t i = 0; i < r->n_definitions; i++)
		if (json_push(definitions, json_string(r->definitions[i])) < 0)
			goto cleanup;
	for (size_t i = 0; i < r->n_tables; i++) {
		const struct report_table *t = r->tables[i];
		if (json_put(tables, t->id, json_table_rows(t)) < 0 ||
		    json_put(info, t->id, json_table_info(t)) < 0)
			goto cleanup;
	}
	/* 15 significant digits: 0.1 stays "0.1", not 0.10000000000000001. */
	if (json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) < 0 ||
	    fputc('\n', f) == EOF) {
		err = -EIO;
		goto cleanup;
	}
	err = stream_result(f);
cleanup:
	json_decref(root);
	return err;
}
