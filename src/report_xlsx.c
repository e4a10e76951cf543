/* report_xlsx.c: the XLSX writer (see report.h). The only file that
 * includes libxlsxwriter: a first sheet 说明 with the title and the
 * definitions, then one sheet per table, numbers stored as numbers with
 * Excel formats so that a person can sum and sort them. */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xlsxwriter.h>

#define SHEET_NAME_UNITS 31 /* Excel's limit, in UTF-16 code units */
#define INTRO_SHEET "说明"
#define INTRO_WIDTH 100 /* columns of the 说明 sheet's one wide column */
#define COLUMN_WIDTH_MIN 6
#define COLUMN_WIDTH_MAX 50
#define DECIMALS_MAX 9
#define HEADER_ROW 2 /* title, note (or nothing), then the headers */

enum xlsx_number {
	XLSX_TEXT,
	XLSX_INT,
	XLSX_REAL,
	XLSX_PERCENT,
	XLSX_NUMBER_KINDS,
};

/* The workbook's formats, made when first needed: one per kind of cell,
 * number of decimals, and whether the cell is in a total row. libxlsxwriter
 * owns them; the workbook frees them. */
struct xlsx_formats {
	lxw_format *title;
	lxw_format *subtitle;
	lxw_format *note;
	lxw_format *heading;
	lxw_format *paragraph;
	lxw_format *header[2]; /* [numeric]: right-aligned over numbers */
	lxw_format *cell[XLSX_NUMBER_KINDS][DECIMALS_MAX + 1][2];
};

static int xlsx_errno(lxw_error err)
{
	switch (err) {
	case LXW_NO_ERROR:
		return 0;
	case LXW_ERROR_MEMORY_MALLOC_FAILED:
		return -ENOMEM;
	case LXW_ERROR_CREATING_XLSX_FILE:
	case LXW_ERROR_CREATING_TMPFILE:
	case LXW_ERROR_READING_TMPFILE:
	case LXW_ERROR_ZIP_FILE_OPERATION:
	case LXW_ERROR_ZIP_PARAMETER_ERROR:
	case LXW_ERROR_ZIP_BAD_ZIP_FILE:
	case LXW_ERROR_ZIP_INTERNAL_ERROR:
	case LXW_ERROR_ZIP_FILE_ADD:
	case LXW_ERROR_ZIP_CLOSE:
		return -EIO;
	default:
		return -EINVAL;
	}
}

/* The length in bytes of the UTF-8 character starting with byte b (the
 * report's strings are valid UTF-8, see report.h). */
static size_t utf8_length(unsigned char b)
{
	return b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
}

/* name as Excel accepts it, into out (LXW_MAX_SHEETNAME_LENGTH bytes): the
 * characters Excel forbids ([]:*?/\ and control characters) become '_', an
 * apostrophe at either end too, and the name is cut to at most max_units
 * UTF-16 units (Excel counts those; a character outside the BMP is two),
 * never inside a character. */
static void sheet_name_clean(const char *name, size_t max_units, char *out)
{
	size_t units = 0, o = 0;

	for (const char *p = name; *p != '\0';) {
		size_t n = utf8_length((unsigned char)*p);
		size_t u = n == 4 ? 2 : 1;
		if (units + u > max_units || strnlen(p, n) < n)
			break;
		if ((unsigned char)*p < 0x20 || strchr("[]:*?/\\", *p) != NULL) {
			out[o++] = '_';
		} else {
			memcpy(out + o, p, n);
			o += n;
		}
		units += u;
		p += n;
	}
	out[o] = '\0';
	if (o > 0 && out[0] == '\'')
		out[0] = '_';
	if (o > 0 && out[o - 1] == '\'')
		out[o - 1] = '_';
}

/* Excel compares sheet names without case (libxlsxwriter too, for ASCII). */
static bool sheet_name_taken(char (*names)[LXW_MAX_SHEETNAME_LENGTH], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(names[i], name) == 0)
			return true;
	return false;
}

/* The sheet name for wanted, unique among the n names already given: the
 * clean name, or, when taken, the clean name cut shorter to make room for
 * " (2)", " (3)"... Excel reserves "History", so it gets a suffix too. */
static void sheet_name_choose(const char *wanted, char (*names)[LXW_MAX_SHEETNAME_LENGTH], size_t n,
			      char *out)
{
	char base[LXW_MAX_SHEETNAME_LENGTH];

	sheet_name_clean(wanted, SHEET_NAME_UNITS, out);
	if (out[0] == '\0')
		snprintf(out, LXW_MAX_SHEETNAME_LENGTH, "Sheet");
	if (!sheet_name_taken(names, n, out) && strcasecmp(out, "History") != 0)
		return;
	for (unsigned k = 2;; k++) {
		char suffix[16];
		int len = snprintf(suffix, sizeof suffix, " (%u)", k);
		sheet_name_clean(wanted, SHEET_NAME_UNITS - (size_t)len, base);
		if (base[0] == '\0')
			snprintf(base, sizeof base, "Sheet");
		/* At most 31 - len units of 4 bytes, then len bytes: it fits. */
		size_t b = strlen(base);
		memcpy(out, base, b);
		memcpy(out + b, suffix, (size_t)len + 1);
		if (!sheet_name_taken(names, n, out))
			return;
	}
}

static lxw_format *format_new(lxw_workbook *wb, bool bold, double size)
{
	lxw_format *format = workbook_add_format(wb);

	if (format == NULL)
		return NULL;
	if (bold)
		format_set_bold(format);
	if (size > 0)
		format_set_font_size(format, size);
	format_set_align(format, LXW_ALIGN_VERTICAL_CENTER);
	return format;
}

static int formats_create(lxw_workbook *wb, struct xlsx_formats *fm)
{
	fm->title = format_new(wb, true, 14);
	fm->subtitle = format_new(wb, false, 0);
	fm->note = format_new(wb, false, 0);
	fm->heading = format_new(wb, true, 0);
	fm->paragraph = format_new(wb, false, 0);
	fm->header[0] = format_new(wb, true, 0);
	fm->header[1] = format_new(wb, true, 0);
	if (fm->title == NULL || fm->subtitle == NULL || fm->note == NULL || fm->heading == NULL ||
	    fm->paragraph == NULL || fm->header[0] == NULL || fm->header[1] == NULL)
		return -ENOMEM;
	format_set_font_color(fm->subtitle, 0x595959);
	format_set_font_color(fm->note, 0x595959);
	format_set_italic(fm->note);
	format_set_text_wrap(fm->subtitle);
	format_set_text_wrap(fm->paragraph);
	format_set_align(fm->paragraph, LXW_ALIGN_VERTICAL_TOP);
	for (int numeric = 0; numeric < 2; numeric++) {
		format_set_bottom(fm->header[numeric], LXW_BORDER_THIN);
		format_set_bg_color(fm->header[numeric], 0xF2F2F2);
	}
	format_set_align(fm->header[1], LXW_ALIGN_RIGHT);
	return 0;
}

static enum xlsx_number cell_number_kind(const struct report_cell *c)
{
	switch (c->kind) {
	case REPORT_CELL_INT:
		return XLSX_INT;
	case REPORT_CELL_REAL:
		return XLSX_REAL;
	case REPORT_CELL_PERCENT:
		return XLSX_PERCENT;
	case REPORT_CELL_TEXT:
	case REPORT_CELL_EMPTY:
	default:
		return XLSX_TEXT;
	}
}

/* The format of a cell (NULL: none needed, or out of memory, told apart by
 * *err): counts with thousands separators, REAL with its decimals,
 * percentages as Excel percentages, a total row bold under a rule. */
static lxw_format *cell_format(lxw_workbook *wb, struct xlsx_formats *fm, enum xlsx_number kind,
			       int decimals, bool total, int *err)
{
	char number_format[32] = "";
	int d = decimals < 0 ? 0 : decimals > DECIMALS_MAX ? DECIMALS_MAX : decimals;
	lxw_format **slot =
		&fm->cell[kind][kind == XLSX_REAL || kind == XLSX_PERCENT ? d : 0][total];

	if (*slot != NULL || (kind == XLSX_TEXT && !total))
		return *slot;
	*slot = workbook_add_format(wb);
	if (*slot == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	switch (kind) {
	case XLSX_INT:
		snprintf(number_format, sizeof number_format, "#,##0");
		break;
	case XLSX_REAL:
		snprintf(number_format, sizeof number_format, "#,##0%s%.*s", d > 0 ? "." : "", d,
			 "000000000");
		break;
	case XLSX_PERCENT:
		snprintf(number_format, sizeof number_format, "0%s%.*s%%", d > 0 ? "." : "", d,
			 "000000000");
		break;
	case XLSX_TEXT:
	case XLSX_NUMBER_KINDS:
	default:
		break;
	}
	if (number_format[0] != '\0')
		format_set_num_format(*slot, number_format);
	if (total) {
		format_set_bold(*slot);
		format_set_top(*slot, LXW_BORDER_THIN);
	}
	return *slot;
}

/* A column holds numbers when it has a number and no text: its header is
 * then right-aligned over them. */
static bool column_is_numeric(const struct report_table *t, size_t col)
{
	bool number = false;

	for (size_t row = 0; row < t->n_rows; row++) {
		const struct report_cell *c = &t->cells[row * t->n_columns + col];
		if (c->kind == REPORT_CELL_TEXT)
			return false;
		if (!report_cell_is_blank(c))
			number = true;
	}
	return number;
}

/* Wide enough for the header and every cell as Excel shows it (a CJK
 * character takes two columns), within reason; the title and note are left
 * to spill over the empty cells to their right. */
static double column_width(const struct report_table *t, size_t col)
{
	char text[128];
	size_t width = report_text_width(t->headers[col]);

	for (size_t row = 0; row < t->n_rows; row++) {
		const struct report_cell *c = &t->cells[row * t->n_columns + col];
		size_t w;
		if (c->kind == REPORT_CELL_TEXT) {
			w = report_text_width(c->text != NULL ? c->text : "");
		} else {
			report_cell_format(c, true, text, sizeof text);
			w = report_text_width(text);
		}
		if (w > width)
			width = w;
	}
	width += 2;
	if (width < COLUMN_WIDTH_MIN)
		width = COLUMN_WIDTH_MIN;
	if (width > COLUMN_WIDTH_MAX)
		width = COLUMN_WIDTH_MAX;
	return (double)width;
}

/* libxlsxwriter does not size rows to wrapped text, and Excel does so only
 * when it edits a cell: the height is estimated from the text's width. */
static double paragraph_height(const char *text)
{
	size_t lines = 0, width = 0;
	const char *start = text;

	for (const char *p = text;; p++) {
		if (*p == '\n' || *p == '\0') {
			char *line = strndup(start, (size_t)(p - start));
			width = line != NULL ? report_text_width(line) : (size_t)(p - start);
			free(line);
			lines += width / (INTRO_WIDTH - 4) + 1;
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
	return 15.0 * (double)lines + 3;
}

static int write_intro_sheet(lxw_workbook *wb, struct xlsx_formats *fm, const struct report *r)
{
	lxw_worksheet *ws = workbook_add_worksheet(wb, INTRO_SHEET);
	lxw_row_t row = 0;
	lxw_error err;

	if (ws == NULL)
		return -ENOMEM;
	worksheet_set_column(ws, 0, 0, INTRO_WIDTH, NULL);
	err = worksheet_write_string(ws, row++, 0, r->title, fm->title);
	worksheet_set_row(ws, 0, 22, NULL);
	if (err == LXW_NO_ERROR && r->subtitle != NULL && *r->subtitle != '\0') {
		worksheet_set_row(ws, row, paragraph_height(r->subtitle), NULL);
		err = worksheet_write_string(ws, row++, 0, r->subtitle, fm->subtitle);
	}
	if (err == LXW_NO_ERROR && r->n_definitions > 0) {
		row++;
		err = worksheet_write_string(ws, row++, 0, "口径与说明", fm->heading);
	}
	for (size_t i = 0; i < r->n_definitions && err == LXW_NO_ERROR; i++) {
		worksheet_set_row(ws, row, paragraph_height(r->definitions[i]), NULL);
		err = worksheet_write_string(ws, row++, 0, r->definitions[i], fm->paragraph);
	}
	/* The one wide column is wider than a portrait page. */
	worksheet_fit_to_pages(ws, 1, 0);
	return xlsx_errno(err);
}

static lxw_error write_cell(lxw_workbook *wb, lxw_worksheet *ws, struct xlsx_formats *fm,
			    lxw_row_t row, lxw_col_t col, const struct report_cell *c, bool total,
			    int *err)
{
	bool blank = report_cell_is_blank(c);
	lxw_format *format = cell_format(wb, fm, blank ? XLSX_TEXT : cell_number_kind(c),
					 c->decimals, total, err);

	if (*err < 0)
		return LXW_ERROR_MEMORY_MALLOC_FAILED;
	if (blank)
		/* Written only when formatted: the total row's rule runs on. */
		return format != NULL ? worksheet_write_blank(ws, row, col, format) : LXW_NO_ERROR;
	switch (c->kind) {
	case REPORT_CELL_TEXT:
		return worksheet_write_string(ws, row, col, c->text != NULL ? c->text : "", format);
	case REPORT_CELL_INT:
		return worksheet_write_number(ws, row, col, (double)c->i, format);
	case REPORT_CELL_REAL:
	case REPORT_CELL_PERCENT:
		return worksheet_write_number(ws, row, col, c->r, format);
	case REPORT_CELL_EMPTY:
	default:
		return LXW_NO_ERROR;
	}
}

static int write_table_sheet(lxw_workbook *wb, struct xlsx_formats *fm,
			     const struct report_table *t, const char *sheet_name)
{
	lxw_worksheet *ws = NULL;
	lxw_error err;
	int format_err = 0;

	/* add_worksheet says only NULL; this says why a name would be refused. */
	err = workbook_validate_sheet_name(wb, sheet_name);
	if (err != LXW_NO_ERROR)
		return xlsx_errno(err);
	ws = workbook_add_worksheet(wb, sheet_name);
	if (ws == NULL)
		return -ENOMEM;
	err = worksheet_write_string(ws, 0, 0, t->title, fm->title);
	worksheet_set_row(ws, 0, 22, NULL);
	if (err == LXW_NO_ERROR && t->note != NULL && *t->note != '\0')
		err = worksheet_write_string(ws, 1, 0, t->note, fm->note);
	for (size_t col = 0; col < t->n_columns && err == LXW_NO_ERROR; col++) {
		bool numeric = column_is_numeric(t, col);
		worksheet_set_column(ws, (lxw_col_t)col, (lxw_col_t)col, column_width(t, col),
				     NULL);
		err = worksheet_write_string(ws, HEADER_ROW, (lxw_col_t)col, t->headers[col],
					     fm->header[numeric]);
	}
	for (size_t row = 0; row < t->n_rows && err == LXW_NO_ERROR; row++) {
		bool total = t->last_row_is_total && row + 1 == t->n_rows;
		for (size_t col = 0; col < t->n_columns && err == LXW_NO_ERROR; col++)
			err = write_cell(wb, ws, fm, (lxw_row_t)(HEADER_ROW + 1 + row),
					 (lxw_col_t)col, &t->cells[row * t->n_columns + col], total,
					 &format_err);
	}
	if (err != LXW_NO_ERROR)
		return format_err < 0 ? format_err : xlsx_errno(err);
	/* The headers stay in view when scrolling and on every printed page. */
	worksheet_freeze_panes(ws, HEADER_ROW + 1, 0);
	worksheet_repeat_rows(ws, HEADER_ROW, HEADER_ROW);
	worksheet_fit_to_pages(ws, 1, 0);
	return 0;
}

/* Everything is written into the workbook in memory first; only
 * workbook_close creates the file, so a failure before it leaves no half
 * file behind (lxw_workbook_free drops the workbook without writing). */
int report_write_xlsx(const struct report *r, const char *path)
{
	lxw_workbook *wb = NULL;
	struct xlsx_formats *fm = NULL;
	char(*names)[LXW_MAX_SHEETNAME_LENGTH] = NULL;
	int err = -ENOMEM;

	fm = calloc(1, sizeof *fm);
	names = calloc(r->n_tables + 1, sizeof *names);
	if (fm == NULL || names == NULL)
		goto cleanup;
	wb = workbook_new(path);
	if (wb == NULL)
		goto cleanup;
	err = formats_create(wb, fm);
	if (err < 0)
		goto cleanup;
	snprintf(names[0], sizeof names[0], "%s", INTRO_SHEET);
	err = write_intro_sheet(wb, fm, r);
	if (err < 0)
		goto cleanup;
	for (size_t i = 0; i < r->n_tables; i++) {
		const struct report_table *t = r->tables[i];
		sheet_name_choose(t->sheet != NULL ? t->sheet : t->title, names, i + 1,
				  names[i + 1]);
		err = write_table_sheet(wb, fm, t, names[i + 1]);
		if (err < 0)
			goto cleanup;
	}
	err = xlsx_errno(workbook_close(wb));
	wb = NULL; /* closed, written or not, and freed */
cleanup:
	if (wb != NULL)
		lxw_workbook_free(wb);
	free(names);
	free(fm);
	return err;
}
