/* test_report.c: the report model and its writers (report.h), checked the
 * way a person receiving the files would: the CSV opens in Excel with its
 * Chinese and its quoted names intact, the JSON parses back to the same
 * figures, the XLSX is a workbook whose sheets are named as Excel allows,
 * and the HTML shows every table and chart without letting a name inject
 * markup or an empty chart draw NaN. */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "report.h"
#include "testfiles.h"

/* --- helpers ------------------------------------------------------------------ */

static const char *const category_headers[] = {"类别", "通话", "占比", "平均等待(秒)"};
static const char *const category_keys[] = {"category", "calls", "share", "asa_s"};

/* A small year report: a table of categories with a total, and a table of
 * hospitals whose names need quoting. */
static struct report *sample_report(void)
{
	struct report *r = report_new("南京 12320 2019 年度统计", "南京市 12320 · 2019 年");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(report_add_definition(r, "接通率 = 接通 / 呼入（不含 5 秒内放弃）"), 0);

	struct report_table *t = report_add_table(r, "by_category", "按类别", NULL, 4,
						  category_headers, category_keys);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(report_table_set_note(t, "口径：呼入总量"), 0);
	struct report_cell *row = report_table_add_row(t);
	ck_assert_int_eq(report_cell_set_text(&row[0], "预约挂号"), 0);
	report_cell_set_int(&row[1], 1500000);
	report_cell_set_percent(&row[2], 0.875, 1);
	report_cell_set_real(&row[3], 12.3456, 2);
	row = report_table_add_row(t);
	ck_assert_int_eq(report_cell_set_text(&row[0], "心理援助"), 0);
	report_cell_set_int(&row[1], 0);
	report_cell_set_percent(&row[2], 0, 1);
	/* row[3] stays EMPTY: no call answered, no ASA. */
	row = report_table_add_row(t);
	ck_assert_int_eq(report_cell_set_text(&row[0], "合计"), 0);
	report_cell_set_int(&row[1], 1756440);
	report_cell_set_percent(&row[2], 1, 1);
	report_cell_set_real(&row[3], 9.5, 2);
	t->last_row_is_total = true;

	static const char *const hospital_headers[] = {"医院", "预约"};
	static const char *const hospital_keys[] = {"hospital", "bookings"};
	t = report_add_table(r, "by_hospital", "按医院", "医院", 2, hospital_headers,
			     hospital_keys);
	ck_assert_ptr_nonnull(t);
	row = report_table_add_row(t);
	ck_assert_int_eq(report_cell_set_text(&row[0], "南京市第一医院, 河西院区"), 0);
	report_cell_set_int(&row[1], 1234);
	row = report_table_add_row(t);
	ck_assert_int_eq(report_cell_set_text(&row[0], "所谓\"名医\"门诊\n第二行"), 0);
	report_cell_set_int(&row[1], -5);
	return r;
}

/* The whole text a writer put into a memory stream. */
struct written {
	char *text;
	size_t len;
};

static struct written write_to_memory(int (*writer)(const struct report *, FILE *),
				      const struct report *r)
{
	struct written w = {0};
	FILE *f = open_memstream(&w.text, &w.len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(writer(r, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return w;
}

static int write_csv_with_bom(const struct report *r, FILE *f)
{
	return report_write_csv(r, f, true);
}

static int write_csv_without_bom(const struct report *r, FILE *f)
{
	return report_write_csv(r, f, false);
}

static bool contains(const char *haystack, const char *needle)
{
	return strstr(haystack, needle) != NULL;
}

static size_t count(const char *haystack, const char *needle)
{
	size_t n = 0;
	for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* --- a minimal ZIP reader: the central directory, stored or deflated entries --- */

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

struct zip {
	unsigned char *data;
	size_t len;
	size_t directory; /* offset of the central directory */
	size_t entries;
};

static struct zip zip_open(const char *path)
{
	struct zip z = {0};
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s was not written", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	long len = ftell(f);
	ck_assert_int_gt(len, 22);
	rewind(f);
	z.data = malloc((size_t)len);
	ck_assert_ptr_nonnull(z.data);
	ck_assert_uint_eq(fread(z.data, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	z.len = (size_t)len;
	ck_assert_msg(memcmp(z.data, "PK\x03\x04", 4) == 0, "%s is not a zip", path);

	/* The end of central directory record, searched from the end (a
	 * comment may follow it). */
	size_t end = z.len - 22;
	while (end > 0 && le32(z.data + end) != 0x06054b50)
		end--;
	ck_assert_msg(le32(z.data + end) == 0x06054b50, "no end of central directory");
	z.entries = le16(z.data + end + 10);
	z.directory = le32(z.data + end + 16);
	ck_assert_uint_lt(z.directory, end);
	return z;
}

/* The names of the entries, one per line. */
static char *zip_names(const struct zip *z)
{
	char *names = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&names, &len);
	size_t p = z->directory;

	ck_assert_ptr_nonnull(out);
	for (size_t i = 0; i < z->entries; i++) {
		ck_assert_uint_le(p + 46, z->len);
		ck_assert_uint_eq(le32(z->data + p), 0x02014b50);
		size_t name_len = le16(z->data + p + 28);
		fprintf(out, "%.*s\n", (int)name_len, (const char *)z->data + p + 46);
		p += 46 + name_len + le16(z->data + p + 30) + le16(z->data + p + 32);
	}
	fclose(out);
	return names;
}

/* The content of entry name, NUL-terminated, or NULL when there is none. */
static char *zip_read(const struct zip *z, const char *name)
{
	size_t p = z->directory;

	for (size_t i = 0; i < z->entries; i++) {
		size_t name_len = le16(z->data + p + 28);
		if (name_len == strlen(name) && memcmp(z->data + p + 46, name, name_len) == 0) {
			uint32_t method = le16(z->data + p + 10);
			size_t packed = le32(z->data + p + 20), size = le32(z->data + p + 24);
			size_t local = le32(z->data + p + 42);
			ck_assert_uint_eq(le32(z->data + local), 0x04034b50);
			size_t start = local + 30 + le16(z->data + local + 26) +
				       le16(z->data + local + 28);
			ck_assert_uint_le(start + packed, z->len);
			char *text = malloc(size + 1);
			ck_assert_ptr_nonnull(text);
			if (method == 0) {
				memcpy(text, z->data + start, size);
			} else {
				ck_assert_uint_eq(method, 8);
				z_stream s = {0};
				ck_assert_int_eq(inflateInit2(&s, -MAX_WBITS), Z_OK);
				s.next_in = z->data + start;
				s.avail_in = (uInt)packed;
				s.next_out = (Bytef *)text;
				s.avail_out = (uInt)size;
				ck_assert_int_eq(inflate(&s, Z_FINISH), Z_STREAM_END);
				ck_assert_uint_eq(s.total_out, size);
				inflateEnd(&s);
			}
			text[size] = '\0';
			return text;
		}
		p += 46 + name_len + le16(z->data + p + 30) + le16(z->data + p + 32);
	}
	return NULL;
}

static void zip_close(struct zip *z)
{
	free(z->data);
}

/* The sheet names workbook.xml lists, in order, one per line. */
static char *workbook_sheet_names(const struct zip *z)
{
	char *workbook = zip_read(z, "xl/workbook.xml");
	char *names = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&names, &len);

	ck_assert_ptr_nonnull(workbook);
	ck_assert_ptr_nonnull(out);
	for (const char *p = workbook; (p = strstr(p, "<sheet name=\"")) != NULL;) {
		p += strlen("<sheet name=\"");
		const char *end = strchr(p, '"');
		ck_assert_ptr_nonnull(end);
		fprintf(out, "%.*s\n", (int)(end - p), p);
		p = end;
	}
	fclose(out);
	free(workbook);
	return names;
}

static size_t utf8_characters(const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static const char *xlsx_path(const char *name)
{
	static char path[TEST_DIR_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", test_dir, name);
	return path;
}

/* --- the model ------------------------------------------------------------------- */

START_TEST (test_tables_refuse_ids_and_keys_json_could_not_keep_apart) {
	struct report *r = report_new("t", NULL);
	static const char *const headers[] = {"A", "B"};
	static const char *const keys[] = {"a", "b"};
	static const char *const same_keys[] = {"a", "a"};
	static const char *const bad_keys[] = {"a", "B-2"};

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(report_add_table(r, "calls", "通话", NULL, 2, headers, keys));
	errno = 0;
	ck_assert_ptr_null(report_add_table(r, "calls", "again", NULL, 2, headers, keys));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(report_add_table(r, "Calls-2", "通话", NULL, 2, headers, keys));
	ck_assert_ptr_null(report_add_table(r, "x", "通话", NULL, 2, headers, same_keys));
	ck_assert_ptr_null(report_add_table(r, "y", "通话", NULL, 2, headers, bad_keys));
	ck_assert_ptr_null(report_add_table(r, "z", "通话", NULL, 0, headers, keys));
	ck_assert_uint_eq(r->n_tables, 1);
	report_free(r);
}
END_TEST

START_TEST (test_setters_replace_what_a_cell_held) {
	struct report *r = report_new("t", NULL);
	static const char *const headers[] = {"A"};
	static const char *const keys[] = {"a"};
	struct report_table *t = report_add_table(r, "t", "T", NULL, 1, headers, keys);
	struct report_cell *c = NULL;

	ck_assert_ptr_nonnull(t);
	/* Enough rows to grow the array several times. */
	for (int i = 0; i < 100; i++) {
		c = report_table_add_row(t);
		ck_assert_ptr_nonnull(c);
		ck_assert_int_eq(c->kind, REPORT_CELL_EMPTY);
		ck_assert_int_eq(report_cell_set_text(c, "first"), 0);
	}
	ck_assert_int_eq(report_cell_set_text(c, "second"), 0);
	ck_assert_str_eq(c->text, "second");
	report_cell_set_int(c, 7); /* frees "second": LeakSanitizer would tell */
	ck_assert_int_eq(c->kind, REPORT_CELL_INT);
	ck_assert_ptr_null(c->text);
	report_cell_set_real(c, NAN, 1);
	ck_assert_int_eq(c->kind, REPORT_CELL_EMPTY);
	report_cell_set_percent(c, 0.5, 42);
	ck_assert_int_eq(c->decimals, 9);
	ck_assert_uint_eq(t->n_rows, 100);
	report_free(r);
}
END_TEST

START_TEST (test_invalid_utf8_is_copied_as_replacement_characters) {
	struct report *r = report_new("bad \xff byte, cut \xe5\x8d", NULL);

	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->title, "bad \xef\xbf\xbd byte, cut \xef\xbf\xbd\xef\xbf\xbd");
	report_free(r);
}
END_TEST

START_TEST (test_cells_format_with_thousands_and_a_dot_for_decimals) {
	struct report_cell c = {0};
	char buf[64];

	report_cell_set_int(&c, 1756440);
	report_cell_format(&c, true, buf, sizeof buf);
	ck_assert_str_eq(buf, "1,756,440");
	report_cell_format(&c, false, buf, sizeof buf);
	ck_assert_str_eq(buf, "1756440");
	report_cell_set_int(&c, INT64_MIN);
	report_cell_format(&c, true, buf, sizeof buf);
	ck_assert_str_eq(buf, "-9,223,372,036,854,775,808");
	report_cell_set_int(&c, -999);
	report_cell_format(&c, true, buf, sizeof buf);
	ck_assert_str_eq(buf, "-999");
	report_cell_set_real(&c, 12345.678, 2);
	report_cell_format(&c, true, buf, sizeof buf);
	ck_assert_str_eq(buf, "12,345.68");
	report_cell_set_real(&c, -0.001, 1);
	report_cell_format(&c, true, buf, sizeof buf);
	ck_assert_str_eq(buf, "0.0");
	report_cell_set_percent(&c, 0.875, 1);
	report_cell_format(&c, true, buf, sizeof buf);
	ck_assert_str_eq(buf, "87.5%");
	report_cell_set_percent(&c, 0.5, 0);
	ck_assert_uint_eq(report_cell_format(&c, true, buf, 3), 3);
	ck_assert_str_eq(buf, "50");
	c = (struct report_cell){.kind = REPORT_CELL_REAL, .r = INFINITY};
	ck_assert(report_cell_is_blank(&c));
	ck_assert_uint_eq(report_cell_format(&c, true, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST (test_chinese_counts_two_columns) {
	ck_assert_uint_eq(report_text_width("abc"), 3);
	ck_assert_uint_eq(report_text_width("南京12320"), 9);
	ck_assert_uint_eq(report_text_width("（全角）"), 8);
	/* Cutting never splits 京 (3 bytes) in two. */
	ck_assert_uint_eq(report_text_cut("南京市", 3), 3);
	ck_assert_uint_eq(report_text_cut("南京市", 4), 6);
	ck_assert_uint_eq(report_text_cut("ab", 10), 2);
}
END_TEST

/* --- CSV --------------------------------------------------------------------------- */

START_TEST (test_csv_starts_with_a_bom_only_when_asked) {
	struct report *r = sample_report();
	struct written with = write_to_memory(write_csv_with_bom, r);
	struct written without = write_to_memory(write_csv_without_bom, r);

	ck_assert(with.len > 3 && memcmp(with.text, "\xef\xbb\xbf# 南京", 9) == 0);
	ck_assert(memcmp(without.text, "# 南京 12320 2019 年度统计\n", 31) == 0);
	ck_assert_uint_eq(with.len, without.len + 3);
	ck_assert(!contains(with.text, "\r"));
	free(with.text);
	free(without.text);
	report_free(r);
}
END_TEST

START_TEST (test_csv_quotes_commas_quotes_and_newlines) {
	struct report *r = sample_report();
	struct written w = write_to_memory(write_csv_without_bom, r);

	ck_assert_msg(contains(w.text, "\n\"南京市第一医院, 河西院区\",1234\n"), "%s", w.text);
	ck_assert_msg(contains(w.text, "\n\"所谓\"\"名医\"\"门诊\n第二行\",-5\n"), "%s", w.text);
	free(w.text);
	report_free(r);
}
END_TEST

START_TEST (test_csv_has_titles_as_comments_and_a_blank_line_between_tables) {
	struct report *r = sample_report();
	struct written w = write_to_memory(write_csv_without_bom, r);
	const char *expected_category_block = "\n# by_category: 按类别\n"
					      "# 口径：呼入总量\n"
					      "类别,通话,占比,平均等待(秒)\n"
					      "预约挂号,1500000,87.5%,12.35\n"
					      "心理援助,0,0.0%,\n"
					      "合计,1756440,100.0%,9.50\n"
					      "\n# by_hospital: 按医院\n";

	ck_assert_msg(contains(w.text, "# 接通率 = 接通 / 呼入（不含 5 秒内放弃）\n"), "%s",
		      w.text);
	ck_assert_msg(contains(w.text, expected_category_block), "%s", w.text);
	free(w.text);
	report_free(r);
}
END_TEST

START_TEST (test_csv_comment_lines_keep_a_multiline_definition_a_comment) {
	struct report *r = report_new("t", "a\nb");
	ck_assert_ptr_nonnull(r);
	struct written w = write_to_memory(write_csv_without_bom, r);

	ck_assert_str_eq(w.text, "# t\n# a\n# b\n");
	free(w.text);
	report_free(r);
}
END_TEST

START_TEST (test_writers_report_a_failed_write_as_eio) {
	struct report *r = sample_report();
	FILE *full = fopen("/dev/full", "w");

	ck_assert_ptr_nonnull(full);
	ck_assert_int_eq(report_write_csv(r, full, true), -EIO);
	clearerr(full);
	ck_assert_int_eq(report_write_json(r, full), -EIO);
	clearerr(full);
	ck_assert_int_eq(report_write_html(r, full), -EIO);
	fclose(full);
	ck_assert_int_eq(report_write_xlsx(r, xlsx_path("no-such-folder/report.xlsx")), -EIO);
	report_free(r);
}
END_TEST

/* --- JSON ------------------------------------------------------------------------- */

START_TEST (test_json_round_trips_through_jansson) {
	struct report *r = sample_report();
	struct written w = write_to_memory(report_write_json, r);
	json_error_t error;
	json_t *root = json_loads(w.text, 0, &error);

	ck_assert_msg(root != NULL, "%s: %s", error.text, w.text);
	ck_assert_str_eq(json_string_value(json_object_get(root, "title")),
			 "南京 12320 2019 年度统计");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(root, "definitions"), 0)),
			 "接通率 = 接通 / 呼入（不含 5 秒内放弃）");

	json_t *rows = json_object_get(json_object_get(root, "tables"), "by_category");
	ck_assert(json_is_array(rows));
	ck_assert_uint_eq(json_array_size(rows), 3);
	json_t *first = json_array_get(rows, 0), *second = json_array_get(rows, 1);
	ck_assert_str_eq(json_string_value(json_object_get(first, "category")), "预约挂号");
	ck_assert(json_is_integer(json_object_get(first, "calls")));
	ck_assert_int_eq(json_integer_value(json_object_get(first, "calls")), 1500000);
	ck_assert(json_is_real(json_object_get(first, "share")));
	ck_assert_double_eq_tol(json_real_value(json_object_get(first, "share")), 0.875, 1e-12);
	ck_assert_double_eq_tol(json_real_value(json_object_get(first, "asa_s")), 12.3456, 1e-12);
	ck_assert(json_is_null(json_object_get(second, "asa_s")));
	ck_assert_uint_eq(json_object_size(first), 4);

	json_t *hospitals = json_object_get(json_object_get(root, "tables"), "by_hospital");
	ck_assert_str_eq(
		json_string_value(json_object_get(json_array_get(hospitals, 1), "hospital")),
		"所谓\"名医\"门诊\n第二行");
	ck_assert_int_eq(
		json_integer_value(json_object_get(json_array_get(hospitals, 1), "bookings")), -5);

	json_t *info = json_object_get(json_object_get(root, "table_info"), "by_category");
	ck_assert_str_eq(json_string_value(json_object_get(info, "title")), "按类别");
	ck_assert(json_is_true(json_object_get(info, "last_row_is_total")));
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(info, "columns"), 3), "header")),
			 "平均等待(秒)");
	json_decref(root);
	free(w.text);
	report_free(r);
}
END_TEST

/* --- XLSX --------------------------------------------------------------------------- */

START_TEST (test_xlsx_is_a_workbook_naming_every_sheet) {
	struct report *r = sample_report();
	const char *path = xlsx_path("report.xlsx");

	ck_assert_int_eq(report_write_xlsx(r, path), 0);
	struct zip z = zip_open(path);
	char *entries = zip_names(&z);
	ck_assert_msg(contains(entries, "xl/workbook.xml\n"), "%s", entries);
	ck_assert_msg(contains(entries, "xl/worksheets/sheet3.xml\n"), "%s", entries);
	ck_assert_msg(!contains(entries, "xl/worksheets/sheet4.xml\n"), "%s", entries);

	/* 说明 first, then the table titled 按类别 (no sheet name given), then
	 * the one whose sheet is named 医院. */
	char *names = workbook_sheet_names(&z);
	ck_assert_str_eq(names, "说明\n按类别\n医院\n");

	/* Chinese text lands in the shared strings, numbers as numbers. */
	char *strings = zip_read(&z, "xl/sharedStrings.xml");
	ck_assert_ptr_nonnull(strings);
	ck_assert(contains(strings, "接通率 = 接通 / 呼入（不含 5 秒内放弃）"));
	ck_assert(contains(strings, "所谓&quot;名医&quot;门诊") ||
		  contains(strings, "所谓\"名医\"门诊"));
	char *sheet = zip_read(&z, "xl/worksheets/sheet2.xml");
	ck_assert_ptr_nonnull(sheet);
	ck_assert_msg(contains(sheet, "<v>1756440</v>"), "%s", sheet);
	ck_assert_msg(contains(sheet, "<v>0.875</v>"), "%s", sheet);
	ck_assert_msg(contains(sheet, "<pane ySplit=\"3\""), "the headers are not frozen: %s",
		      sheet);
	char *styles = zip_read(&z, "xl/styles.xml");
	ck_assert_ptr_nonnull(styles);
	ck_assert_msg(contains(styles, "formatCode=\"#,##0\""), "%s", styles);
	ck_assert_msg(contains(styles, "formatCode=\"0.0%\""), "%s", styles);
	ck_assert_msg(contains(styles, "formatCode=\"#,##0.00\""), "%s", styles);
	free(styles);
	free(sheet);
	free(strings);
	free(names);
	free(entries);
	zip_close(&z);
	report_free(r);
}
END_TEST

START_TEST (test_xlsx_sheet_names_are_cut_to_31_characters_and_made_unique) {
	struct report *r = report_new("t", NULL);
	static const char *const headers[] = {"A"};
	static const char *const keys[] = {"a"};
	/* 40 characters, all Chinese: 120 bytes, 31 characters allowed. */
	const char *long_title =
		"南京市一二三四五六七八九十甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥东南西北中";
	const char *ids[] = {"a", "b", "c", "d", "e"};
	const char *sheets[] = {NULL, NULL, "呼入/呼出[2019]:*?\\", "说明", "'quoted'"};

	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(utf8_characters(long_title), 40);
	for (size_t i = 0; i < 5; i++)
		ck_assert_ptr_nonnull(
			report_add_table(r, ids[i], long_title, sheets[i], 1, headers, keys));
	const char *path = xlsx_path("names.xlsx");
	ck_assert_int_eq(report_write_xlsx(r, path), 0);
	struct zip z = zip_open(path);
	char *names = workbook_sheet_names(&z);

	char *line = names, *next;
	char seen[6][200];
	size_t n = 0;
	for (; (next = strchr(line, '\n')) != NULL; line = next + 1, n++) {
		*next = '\0';
		ck_assert_uint_lt(n, 6);
		ck_assert_msg(utf8_characters(line) <= 31, "%s is longer than 31", line);
		for (size_t j = 0; j < n; j++)
			ck_assert_msg(strcmp(seen[j], line) != 0, "%s twice", line);
		snprintf(seen[n], sizeof seen[n], "%s", line);
	}
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(seen[0], "说明");
	ck_assert_uint_eq(utf8_characters(seen[1]), 31);
	ck_assert(strncmp(seen[1], long_title, strlen(seen[1])) == 0);
	ck_assert_uint_eq(utf8_characters(seen[2]), 31);
	ck_assert_msg(strcmp(seen[2] + strlen(seen[2]) - 4, " (2)") == 0, "%s", seen[2]);
	ck_assert_str_eq(seen[3], "呼入_呼出_2019_____");
	ck_assert_str_eq(seen[4], "说明 (2)");
	ck_assert_str_eq(seen[5], "_quoted_");
	free(names);
	zip_close(&z);
	report_free(r);
}
END_TEST

/* --- HTML --------------------------------------------------------------------------- */

/* Whether text between <svg and </svg> holds "nan" or "inf", any case. */
static bool svg_has_non_number(const char *html)
{
	for (const char *p = html; (p = strstr(p, "<svg")) != NULL;) {
		const char *end = strstr(p, "</svg>");
		ck_assert_ptr_nonnull(end);
		for (const char *q = p; q < end; q++)
			if (strncasecmp(q, "nan", 3) == 0 || strncasecmp(q, "inf", 3) == 0)
				return true;
		p = end;
	}
	return false;
}

/* Every number in every attribute of every SVG element is finite and on
 * the page: a coordinate computed from a division by zero cannot hide
 * behind a formatter that never prints "nan". */
static void assert_svg_numbers_sane(const char *html)
{
	for (const char *p = html; (p = strstr(p, "<svg")) != NULL;) {
		const char *end = strstr(p, "</svg>");
		ck_assert_ptr_nonnull(end);
		for (const char *q = p; (q = strstr(q, "=\"")) != NULL && q < end;) {
			q += 2;
			const char *close = strchr(q, '"');
			ck_assert_ptr_nonnull(close);
			char value[512];
			snprintf(value, sizeof value, "%.*s", (int)(close - q), q);
			for (char *save = NULL, *token = strtok_r(value, " ,()", &save);
			     token != NULL; token = strtok_r(NULL, " ,()", &save)) {
				if (!(*token == '-' || (*token >= '0' && *token <= '9')))
					continue;
				char *rest;
				double v = strtod(token, &rest);
				ck_assert_msg(*rest == '\0' && isfinite(v) && fabs(v) < 10000,
					      "%s in %s", token, value);
			}
			q = close;
		}
		p = end;
	}
}

/* Every chart has an axis with ticks at 0 and 1 at least (the all-zero
 * and empty ones from 0 to 1). */
static void assert_every_svg_has_ticks_0_and_1(const char *html)
{
	for (const char *p = html; (p = strstr(p, "<svg")) != NULL;) {
		const char *end = strstr(p, "</svg>");
		char *svg = strndup(p, (size_t)(end - p));
		ck_assert_ptr_nonnull(svg);
		ck_assert_msg(contains(svg, "class=\"tick\"") && contains(svg, ">0</text>") &&
				      contains(svg, ">1</text>"),
			      "%s", svg);
		free(svg);
		p = end;
	}
}

static const char *const month_labels[] = {"1月", "2月", "3月", "4月",  "5月",  "6月",
					   "7月", "8月", "9月", "10月", "11月", "12月"};

START_TEST (test_html_escapes_markup_in_every_name) {
	struct report *r = report_new("<script>alert(1)</script> & 'x'", "\"sub\"");
	static const char *const headers[] = {"<b>名称</b>"};
	static const char *const keys[] = {"name"};
	const char *labels[] = {"<script>evil()</script>"};
	const double values[] = {3};

	ck_assert_ptr_nonnull(r);
	struct report_table *t = report_add_table(r, "t", "<i>表</i>", NULL, 1, headers, keys);
	ck_assert_ptr_nonnull(t);
	struct report_cell *row = report_table_add_row(t);
	ck_assert_int_eq(report_cell_set_text(&row[0], "<script>steal()</script>"), 0);
	ck_assert_int_eq(report_add_definition(r, "a<b"), 0);
	ck_assert_ptr_nonnull(report_add_chart(r, "c", "<svg onload=x>", REPORT_CHART_HBAR, "<u>",
					       1, labels, values));
	struct written w = write_to_memory(report_write_html, r);

	ck_assert_msg(strcasestr(w.text, "<script") == NULL, "%s", w.text);
	ck_assert(!contains(w.text, "<b>") && !contains(w.text, "<i>") && !contains(w.text, "<u>"));
	ck_assert(!contains(w.text, "<svg onload"));
	ck_assert(contains(w.text, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;x&#39;"));
	ck_assert(contains(w.text, "&quot;sub&quot;"));
	ck_assert(contains(w.text, "&lt;script&gt;steal()&lt;/script&gt;"));
	ck_assert(contains(w.text, "&lt;script&gt;evil()&lt;/script&gt;"));
	ck_assert(contains(w.text, "a&lt;b"));
	free(w.text);
	report_free(r);
}
END_TEST

START_TEST (test_html_draws_one_svg_per_chart) {
	struct report *r = sample_report();
	const double calls[] = {120000, 98000,  150321, 143000, 151000, 149500,
				160000, 171000, 140000, 152000, 149000, 170619};
	const char *categories[] = {"预约挂号", "咨询", "投诉", "心理援助"};
	const double by_category[] = {1500000, 180000, 20000, 5000};

	ck_assert_ptr_nonnull(report_add_chart(r, "months", "月度呼入", REPORT_CHART_LINE, "通话",
					       12, month_labels, calls));
	ck_assert_ptr_nonnull(report_add_chart(r, "categories", "类别", REPORT_CHART_BAR, "通话", 4,
					       categories, by_category));
	ck_assert_ptr_nonnull(report_add_chart(r, "ranking", "医院排行", REPORT_CHART_HBAR, "预约",
					       4, categories, by_category));
	struct written w = write_to_memory(report_write_html, r);

	ck_assert_uint_eq(count(w.text, "<svg "), 3);
	ck_assert_uint_eq(count(w.text, "</svg>"), 3);
	ck_assert_uint_eq(count(w.text, "viewBox=\"0 0 960 "), 3);
	ck_assert_uint_eq(count(w.text, "<polyline"), 1);
	assert_svg_numbers_sane(w.text);
	ck_assert(contains(w.text, "<meta charset=\"utf-8\">"));
	/* Values carry thousands separators, on the bars and on the axis. */
	ck_assert_msg(contains(w.text, ">1,500,000</text>"), "%s", w.text);
	ck_assert(contains(w.text, ">170,619</text>"));
	/* Self-contained: nothing to fetch, nothing to run. */
	ck_assert(!contains(w.text, "http://") && !contains(w.text, "https://"));
	ck_assert(!contains(w.text, "<script") && !contains(w.text, "<link"));
	free(w.text);
	report_free(r);
}
END_TEST

/* A ranking is drawn largest first, whatever order it was given in. */
START_TEST (test_html_ranking_puts_the_longest_bar_first) {
	struct report *r = report_new("t", NULL);
	const char *labels[] = {"乙医院", "甲医院", "丙医院"};
	const double values[] = {10, 30, 20};

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(
		report_add_chart(r, "rank", "排行", REPORT_CHART_HBAR, NULL, 3, labels, values));
	struct written w = write_to_memory(report_write_html, r);
	const char *first = strstr(w.text, "甲医院"), *second = strstr(w.text, "丙医院"),
		   *third = strstr(w.text, "乙医院");

	ck_assert(first != NULL && second != NULL && third != NULL);
	ck_assert(first < second && second < third);
	free(w.text);
	report_free(r);
}
END_TEST

START_TEST (test_html_charts_without_data_have_no_nan_or_inf) {
	struct report *r = report_new("empty", NULL);
	const double zeros[12] = {0};
	const double missing[] = {NAN, 5, INFINITY};
	const char *labels[] = {"a", "b", "c"};

	ck_assert_ptr_nonnull(r);
	for (int kind = REPORT_CHART_BAR; kind <= REPORT_CHART_LINE; kind++) {
		char id[16];
		snprintf(id, sizeof id, "none%d", kind);
		ck_assert_ptr_nonnull(report_add_chart(r, id, "无", kind, "通话", 0, NULL, NULL));
		snprintf(id, sizeof id, "zero%d", kind);
		ck_assert_ptr_nonnull(
			report_add_chart(r, id, "零", kind, "通话", 12, month_labels, zeros));
		snprintf(id, sizeof id, "gap%d", kind);
		ck_assert_ptr_nonnull(
			report_add_chart(r, id, "缺", kind, "通话", 3, labels, missing));
	}
	struct written w = write_to_memory(report_write_html, r);

	ck_assert_uint_eq(count(w.text, "</svg>"), 9);
	ck_assert_msg(!svg_has_non_number(w.text), "%s", w.text);
	/* A self-check: the scan does see a NaN when there is one. */
	ck_assert(svg_has_non_number("<svg x=\"NaN\"></svg>"));
	assert_svg_numbers_sane(w.text);
	assert_every_svg_has_ticks_0_and_1(w.text);
	free(w.text);
	report_free(r);
}
END_TEST

START_TEST (test_html_shows_every_table_with_its_figures) {
	struct report *r = sample_report();
	struct written w = write_to_memory(report_write_html, r);

	ck_assert(contains(w.text, "<caption><span class=\"title\">按类别</span>"
				   "<span class=\"note\">口径：呼入总量</span></caption>"));
	ck_assert(contains(w.text, "<caption><span class=\"title\">按医院</span></caption>"));
	ck_assert(contains(w.text, "<td class=\"num\">1,500,000</td>"));
	ck_assert(contains(w.text, "<td class=\"num\">87.5%</td>"));
	ck_assert(contains(w.text, "<td class=\"num\">-5</td>"));
	ck_assert(contains(w.text,
			   "<tr class=\"total\"><td>合计</td><td class=\"num\">1,756,440</td>"));
	ck_assert(contains(w.text, "<td class=\"num empty\">–</td>"));
	ck_assert(contains(w.text, "<th scope=\"col\" class=\"num\">通话</th>"));
	ck_assert(contains(w.text, "<li>接通率 = 接通 / 呼入（不含 5 秒内放弃）</li>"));
	ck_assert(contains(w.text, "<title>南京 12320 2019 年度统计</title>"));
	ck_assert_uint_eq(count(w.text, "<table "), 2);
	free(w.text);
	report_free(r);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *model = tcase_create("model");
	TCase *writers = tcase_create("writers");

	tcase_add_test(model, test_tables_refuse_ids_and_keys_json_could_not_keep_apart);
	tcase_add_test(model, test_setters_replace_what_a_cell_held);
	tcase_add_test(model, test_invalid_utf8_is_copied_as_replacement_characters);
	tcase_add_test(model, test_cells_format_with_thousands_and_a_dot_for_decimals);
	tcase_add_test(model, test_chinese_counts_two_columns);
	suite_add_tcase(s, model);

	tcase_add_checked_fixture(writers, test_dir_create, test_dir_remove);
	tcase_add_test(writers, test_csv_starts_with_a_bom_only_when_asked);
	tcase_add_test(writers, test_csv_quotes_commas_quotes_and_newlines);
	tcase_add_test(writers, test_csv_has_titles_as_comments_and_a_blank_line_between_tables);
	tcase_add_test(writers, test_csv_comment_lines_keep_a_multiline_definition_a_comment);
	tcase_add_test(writers, test_writers_report_a_failed_write_as_eio);
	tcase_add_test(writers, test_json_round_trips_through_jansson);
	tcase_add_test(writers, test_xlsx_is_a_workbook_naming_every_sheet);
	tcase_add_test(writers, test_xlsx_sheet_names_are_cut_to_31_characters_and_made_unique);
	tcase_add_test(writers, test_html_escapes_markup_in_every_name);
	tcase_add_test(writers, test_html_draws_one_svg_per_chart);
	tcase_add_test(writers, test_html_ranking_puts_the_longest_bar_first);
	tcase_add_test(writers, test_html_charts_without_data_have_no_nan_or_inf);
	tcase_add_test(writers, test_html_shows_every_table_with_its_figures);
	suite_add_tcase(s, writers);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(report_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
