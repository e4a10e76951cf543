/* report_html.c: the HTML writer (see report.h): one self-contained page,
 * inline CSS, charts drawn as inline SVG here, no script and nothing
 * fetched, so that the file can be mailed, archived and printed as it is.
 *
 * Text widths in the charts are estimates (no fonts are measured): a CJK
 * character about one em, anything else about half; the layout leaves room
 * for that and cuts long labels with "…", the whole label in a tooltip. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHART_WIDTH 960.0
#define PLOT_HEIGHT 240.0
#define FONT_TICK 12.0
#define FONT_LABEL 12.0
#define FONT_VALUE 11.0
#define EM_PER_COLUMN 0.55 /* a terminal column (report_text_width) in ems */
#define LABEL_COLUMNS 14   /* longest label under a bar, in columns */
#define RANK_COLUMNS 24    /* longest label left of a ranking bar */
#define RANK_ROW 26.0
#define RANK_BAR 16.0
#define TICKS_WANTED 5

static const char page_style[] =
	"*{box-sizing:border-box}\n"
	"body{margin:0;background:#fff;color:#1f2328;font:14px/1.6 \"Noto Sans CJK SC\","
	"\"Source Han Sans SC\",\"PingFang SC\",\"Microsoft YaHei\",\"Hiragino Sans GB\","
	"\"WenQuanYi Micro Hei\",sans-serif}\n"
	"main{max-width:1080px;margin:0 auto;padding:32px 24px 48px}\n"
	"h1{font-size:26px;line-height:1.3;margin:0 0 6px}\n"
	".subtitle{color:#57606a;margin:0 0 8px}\n"
	"h2{font-size:18px;margin:36px 0 14px;padding-bottom:4px;border-bottom:2px solid #2f6db5}\n"
	"figure{margin:0 0 28px}\n"
	"figcaption{font-weight:600;font-size:15px;margin-bottom:4px}\n"
	"svg{display:block;width:100%;height:auto}\n"
	"svg text{font-family:inherit;fill:#1f2328}\n"
	"svg .tick,svg .unit{font-size:12px;fill:#57606a}\n"
	"svg .label{font-size:12px}\n"
	"svg .value{font-size:11px;fill:#24292f}\n"
	"svg .empty{font-size:14px;fill:#8c959f}\n"
	"svg .grid{stroke:#e4e7eb;stroke-width:1}\n"
	"svg .axis{stroke:#8c959f;stroke-width:1}\n"
	"svg .bar{fill:#2f6db5}\n"
	"svg .line{fill:none;stroke:#2f6db5;stroke-width:2.5;stroke-linejoin:round}\n"
	"svg .point{fill:#fff;stroke:#2f6db5;stroke-width:2}\n"
	".table-wrap{overflow-x:auto;margin:0 0 28px}\n"
	"table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}\n"
	"caption{caption-side:top;text-align:left;padding-bottom:6px}\n"
	"caption .title{display:block;font-weight:600;font-size:15px}\n"
	"caption .note{display:block;font-size:12.5px;color:#57606a;white-space:pre-line}\n"
	"th,td{padding:4px 12px;border-bottom:1px solid #e4e7eb;text-align:left;"
	"vertical-align:top}\n"
	"thead th{background:#f6f8fa;border-bottom:2px solid #57606a;white-space:nowrap}\n"
	"tbody tr:nth-child(even){background:#fafbfc}\n"
	".num{text-align:right;white-space:nowrap}\n"
	"td.empty{color:#8c959f}\n"
	"tr.total td{font-weight:700;border-top:2px solid #57606a;background:#fff}\n"
	".definitions li{margin-bottom:6px;white-space:pre-line}\n"
	"@page{size:A4;margin:14mm}\n"
	"@media print{main{max-width:none;padding:0}body{font-size:10.5pt}"
	".table-wrap{overflow:visible}thead{display:table-header-group}"
	"tr,figure{break-inside:avoid}h2{break-after:avoid}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

/* --- text ------------------------------------------------------------------- */

/* Text for HTML content and attribute values alike; control characters
 * (not allowed in HTML) become spaces. */
static void html_text(FILE *f, const char *s)
{
	if (s == NULL)
		return;
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputc(' ', f);
			else
				fputc(*s, f);
		}
	}
}

/* A coordinate with one decimal, '.' whatever the locale, no "-0". Every
 * coordinate is computed from finite values over a nonempty range, so
 * never NaN; a guard keeps a bug from writing one anyway. */
static const char *svg_number(double v, char buf[32])
{
	long long tenths = isfinite(v) ? llround(v * 10) : 0;
	long long magnitude = tenths < 0 ? -tenths : tenths;

	if (magnitude % 10 == 0)
		snprintf(buf, 32, "%s%lld", tenths < 0 ? "-" : "", magnitude / 10);
	else
		snprintf(buf, 32, "%s%lld.%lld", tenths < 0 ? "-" : "", magnitude / 10,
			 magnitude % 10);
	return buf;
}

/* Writes fmt with every %N replaced by the next double as an SVG number:
 * geometry reads better as one template than as a row of fprintf calls. */
static void svg_element(FILE *f, const char *fmt, size_t n, const double *v)
{
	char number[32];
	size_t next = 0;

	for (const char *p = fmt; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 'N' && next < n) {
			fputs(svg_number(v[next++], number), f);
			p++;
		} else {
			fputc(*p, f);
		}
	}
}

static double text_px(const char *s, double font_size)
{
	return (double)report_text_width(s) * EM_PER_COLUMN * font_size;
}

/* s cut to max_columns, with "…" when something was cut; free the result. */
static char *label_cut(const char *s, size_t max_columns)
{
	if (report_text_width(s) <= max_columns)
		return strdup(s);
	size_t keep = report_text_cut(s, max_columns - 1);
	char *out = malloc(keep + 4);
	if (out != NULL) {
		memcpy(out, s, keep);
		memcpy(out + keep, "\xe2\x80\xa6", 4);
	}
	return out;
}

static bool is_integral(double v)
{
	return fabs(v - round(v)) < 1e-9 * fmax(1, fabs(v));
}

/* A chart value as a person reads it: a count with thousands separators;
 * a fraction with as few decimals as its size needs. */
static void value_text(double v, char *buf, size_t size)
{
	struct report_cell c = {.kind = REPORT_CELL_REAL, .r = v};

	if (!isfinite(v)) {
		snprintf(buf, size, "–");
		return;
	}
	if (!is_integral(v))
		c.decimals = fabs(v) >= 1000 ? 0 : fabs(v) >= 10 ? 1 : 2;
	report_cell_format(&c, true, buf, size);
	if (strchr(buf, '.') != NULL) {
		size_t len = strlen(buf);
		while (len > 0 && buf[len - 1] == '0')
			buf[--len] = '\0';
		if (len > 0 && buf[len - 1] == '.')
			buf[--len] = '\0';
	}
}

/* --- axes ------------------------------------------------------------------- */

struct axis {
	double lo, hi, step;
	size_t n_ticks;
	int decimals;
};

/* 1, 2, 2.5, 5 or 10 times a power of ten, the nearest to x: rounding
 * up instead would turn a step of 5,100 into 10,000 and leave a third of
 * the chart empty. */
static double nice_step(double x)
{
	if (!(x > 0) || !isfinite(x))
		return 1;
	double power = pow(10, floor(log10(x)));
	double f = x / power;
	return (f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10) * power;
}

/* An axis from 0 (or below, for negative values) to a round number above
 * the largest value, with about TICKS_WANTED gridlines at round steps.
 * Counts never get steps below 1. With no values, or only zeros, the axis
 * is 0..1: a flat chart, but never a division by zero. */
static struct axis axis_nice(const double *values, size_t n)
{
	struct axis a = {0};
	double lo = 0, hi = 0;
	bool integral = true;

	for (size_t i = 0; i < n; i++) {
		if (!isfinite(values[i]))
			continue;
		lo = fmin(lo, values[i]);
		hi = fmax(hi, values[i]);
		integral = integral && is_integral(values[i]);
	}
	if (!(hi > lo))
		hi = lo + 1;
	a.step = nice_step((hi - lo) / (TICKS_WANTED - 1));
	if (integral && a.step != floor(a.step))
		a.step = a.step < 1 ? 1 : floor(a.step);
	a.lo = floor(lo / a.step) * a.step;
	a.hi = ceil(hi / a.step) * a.step;
	double ticks = round((a.hi - a.lo) / a.step) + 1;
	if (!isfinite(ticks) || ticks < 2 || ticks > 4 * TICKS_WANTED || !(a.hi > a.lo)) {
		/* Values so large that the steps lost their precision. */
		a.lo = lo;
		a.hi = hi;
		a.step = (hi - lo) / (TICKS_WANTED - 1);
		ticks = TICKS_WANTED;
	}
	a.n_ticks = (size_t)ticks;
	while (a.decimals < 6 && !is_integral(a.step * pow(10, a.decimals)))
		a.decimals++;
	return a;
}

static void axis_tick_text(const struct axis *a, size_t k, char *buf, size_t size)
{
	struct report_cell c = {.kind = REPORT_CELL_REAL,
				.r = a->lo + (double)k * a->step,
				.decimals = a->decimals};

	report_cell_format(&c, true, buf, size);
}

static double axis_tick_px(const struct axis *a)
{
	char text[64];
	double widest = 0;

	for (size_t k = 0; k < a->n_ticks; k++) {
		axis_tick_text(a, k, text, sizeof text);
		widest = fmax(widest, text_px(text, FONT_TICK));
	}
	return widest;
}

/* Where v falls between from (at a->lo) and to (at a->hi). */
static double axis_map(const struct axis *a, double v, double from, double to)
{
	return from + (to - from) * (v - a->lo) / (a->hi - a->lo);
}

/* --- BAR and LINE: labels along the bottom, values up ------------------------ */

struct columns {
	const struct report_chart *chart;
	char **labels; /* cut to LABEL_COLUMNS */
	struct axis axis;
	double left, right, top, plot_h, bottom, slot;
	bool rotate_labels;
	size_t label_every;
	bool show_values, rotate_values;
};

static void columns_free(struct columns *c)
{
	if (c->labels != NULL)
		for (size_t i = 0; i < c->chart->n; i++)
			free(c->labels[i]);
	free(c->labels);
}

/* The layout of a BAR or LINE chart: room on the left for the tick labels,
 * below for the labels (turned 45° when they do not fit under their bar,
 * and only every k-th when even that is too tight), above for the values
 * (a BAR's turned upright when too wide; a LINE's left out then). */
static int columns_layout(struct columns *c, const struct report_chart *chart)
{
	double widest_label = 0, widest_value = 0;
	size_t n = chart->n;
	char text[64];

	*c = (struct columns){.chart = chart, .label_every = 1, .show_values = true};
	c->labels = calloc(n > 0 ? n : 1, sizeof *c->labels);
	if (c->labels == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		c->labels[i] = label_cut(chart->labels[i], LABEL_COLUMNS);
		if (c->labels[i] == NULL)
			return -ENOMEM;
		widest_label = fmax(widest_label, text_px(c->labels[i], FONT_LABEL));
		value_text(chart->values[i], text, sizeof text);
		widest_value = fmax(widest_value, text_px(text, FONT_VALUE));
	}
	c->axis = axis_nice(chart->values, n);
	c->left = 20 + axis_tick_px(&c->axis);
	c->right = 16;
	c->slot = (CHART_WIDTH - c->left - c->right) / (double)(n > 0 ? n : 1);
	c->plot_h = PLOT_HEIGHT;

	c->bottom = 30;
	if (widest_label > c->slot - 6) {
		c->rotate_labels = true;
		c->bottom = 20 + widest_label * M_SQRT1_2 + 10;
		/* Turned labels need about a line's height between them. */
		c->label_every = (size_t)ceil(18 / c->slot);
	}

	c->top = 28 + 16;
	if (widest_value > c->slot - 2) {
		if (chart->kind == REPORT_CHART_BAR && c->slot >= FONT_VALUE + 2) {
			c->rotate_values = true;
			c->top = 28 + widest_value + 8;
		} else {
			c->show_values = false;
			c->top = 28;
		}
	}
	return 0;
}

static double columns_height(const struct columns *c)
{
	return c->top + c->plot_h + c->bottom;
}

static double columns_y(const struct columns *c, double v)
{
	return axis_map(&c->axis, v, c->top + c->plot_h, c->top);
}

static double columns_x(const struct columns *c, size_t i)
{
	return c->left + c->slot * ((double)i + 0.5);
}

/* Gridlines with their tick labels, the unit, the zero line, and a note
 * when there is nothing to draw. */
static void columns_axes(FILE *f, const struct columns *c)
{
	char text[64];

	if (c->chart->unit != NULL && *c->chart->unit != '\0') {
		svg_element(f, "<text class=\"unit\" x=\"%N\" y=\"16\">", 1, (double[]){8});
		html_text(f, c->chart->unit);
		fputs("</text>\n", f);
	}
	for (size_t k = 0; k < c->axis.n_ticks; k++) {
		double y = columns_y(c, c->axis.lo + (double)k * c->axis.step);
		svg_element(f, "<line class=\"grid\" x1=\"%N\" x2=\"%N\" y1=\"%N\" y2=\"%N\"/>", 4,
			    (double[]){c->left, CHART_WIDTH - c->right, y, y});
		axis_tick_text(&c->axis, k, text, sizeof text);
		svg_element(f, "<text class=\"tick\" x=\"%N\" y=\"%N\" text-anchor=\"end\">", 2,
			    (double[]){c->left - 8, y + 4});
		html_text(f, text);
		fputs("</text>\n", f);
	}
	double zero = columns_y(c, 0);
	svg_element(f, "<line class=\"axis\" x1=\"%N\" x2=\"%N\" y1=\"%N\" y2=\"%N\"/>\n", 4,
		    (double[]){c->left, CHART_WIDTH - c->right, zero, zero});
	if (c->chart->n == 0)
		svg_element(f,
			    "<text class=\"empty\" x=\"%N\" y=\"%N\" text-anchor=\"middle\">"
			    "无数据</text>\n",
			    2,
			    (double[]){(c->left + CHART_WIDTH - c->right) / 2,
				       c->top + c->plot_h / 2});
}

static void columns_labels(FILE *f, const struct columns *c)
{
	double y = c->top + c->plot_h + 18;

	for (size_t i = 0; i < c->chart->n; i += c->label_every) {
		double x = columns_x(c, i);
		if (c->rotate_labels)
			svg_element(f,
				    "<text class=\"label\" x=\"%N\" y=\"%N\" text-anchor=\"end\" "
				    "transform=\"rotate(-45 %N %N)\">",
				    4, (double[]){x + 4, y - 4, x + 4, y - 4});
		else
			svg_element(f,
				    "<text class=\"label\" x=\"%N\" y=\"%N\" "
				    "text-anchor=\"middle\">",
				    2, (double[]){x, y});
		html_text(f, c->labels[i]);
		fputs("</text>\n", f);
	}
}

/* A tooltip: the whole label, the value and the unit. */
static void svg_tooltip(FILE *f, const struct report_chart *chart, size_t i)
{
	char text[64];

	value_text(chart->values[i], text, sizeof text);
	fputs("<title>", f);
	html_text(f, chart->labels[i]);
	fputs(": ", f);
	html_text(f, text);
	if (chart->unit != NULL && *chart->unit != '\0') {
		fputc(' ', f);
		html_text(f, chart->unit);
	}
	fputs("</title>", f);
}

static void bar_chart(FILE *f, const struct columns *c)
{
	const struct report_chart *chart = c->chart;
	double bar_w = fmin(c->slot * 0.68, 56);
	char text[64];

	columns_axes(f, c);
	for (size_t i = 0; i < chart->n; i++) {
		double v = chart->values[i];
		if (!isfinite(v))
			continue;
		double x = columns_x(c, i);
		double y_top = columns_y(c, fmax(v, 0)), y_bottom = columns_y(c, fmin(v, 0));
		svg_element(f, "<rect class=\"bar\" x=\"%N\" y=\"%N\" width=\"%N\" height=\"%N\">",
			    4, (double[]){x - bar_w / 2, y_top, bar_w, y_bottom - y_top});
		svg_tooltip(f, chart, i);
		fputs("</rect>\n", f);
		if (!c->show_values)
			continue;
		value_text(v, text, sizeof text);
		if (c->rotate_values)
			svg_element(f,
				    "<text class=\"value\" x=\"%N\" y=\"%N\" "
				    "transform=\"rotate(-90 %N %N)\">",
				    4, (double[]){x + 4, y_top - 4, x + 4, y_top - 4});
		else if (v < 0)
			svg_element(f,
				    "<text class=\"value\" x=\"%N\" y=\"%N\" "
				    "text-anchor=\"middle\">",
				    2, (double[]){x, y_bottom + 13});
		else
			svg_element(f,
				    "<text class=\"value\" x=\"%N\" y=\"%N\" "
				    "text-anchor=\"middle\">",
				    2, (double[]){x, y_top - 5});
		html_text(f, text);
		fputs("</text>\n", f);
	}
	columns_labels(f, c);
}

/* The line breaks where a value is missing (not finite) rather than
 * pretending it was zero. */
static void line_chart(FILE *f, const struct columns *c)
{
	const struct report_chart *chart = c->chart;
	char text[64];
	bool open = false;

	columns_axes(f, c);
	for (size_t i = 0; i < chart->n; i++) {
		if (!isfinite(chart->values[i])) {
			if (open)
				fputs("\"/>\n", f);
			open = false;
			continue;
		}
		if (!open)
			fputs("<polyline class=\"line\" points=\"", f);
		svg_element(f, open ? " %N,%N" : "%N,%N", 2,
			    (double[]){columns_x(c, i), columns_y(c, chart->values[i])});
		open = true;
	}
	if (open)
		fputs("\"/>\n", f);
	for (size_t i = 0; i < chart->n; i++) {
		double v = chart->values[i];
		if (!isfinite(v))
			continue;
		double x = columns_x(c, i), y = columns_y(c, v);
		svg_element(f, "<circle class=\"point\" cx=\"%N\" cy=\"%N\" r=\"3.5\">", 2,
			    (double[]){x, y});
		svg_tooltip(f, chart, i);
		fputs("</circle>\n", f);
		if (!c->show_values)
			continue;
		/* Under a dip, where the line is not. */
		bool dip = i > 0 && i + 1 < chart->n && v < chart->values[i - 1] &&
			   v < chart->values[i + 1];
		value_text(v, text, sizeof text);
		svg_element(f, "<text class=\"value\" x=\"%N\" y=\"%N\" text-anchor=\"middle\">", 2,
			    (double[]){x, dip ? y + 18 : y - 9});
		html_text(f, text);
		fputs("</text>\n", f);
	}
	columns_labels(f, c);
}

/* An SVG as wide as every chart, height tall, described by its caption. */
static void svg_open(FILE *f, double height, const char *caption_id)
{
	svg_element(f, "<svg viewBox=\"0 0 %N %N\" role=\"img\" aria-labelledby=\"", 2,
		    (double[]){CHART_WIDTH, height});
	fputs(caption_id, f);
	fputs("\">\n", f);
}

/* --- HBAR: a ranking ---------------------------------------------------------- */

struct ranked {
	double value;
	size_t index;
};

/* Largest first; missing values last; equal values in the order given. */
static int ranked_compare(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	bool x_ok = isfinite(x->value), y_ok = isfinite(y->value);

	if (x_ok != y_ok)
		return x_ok ? -1 : 1;
	if (x_ok && x->value != y->value)
		return x->value > y->value ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index ? 1 : 0;
}

static int hbar_chart(FILE *f, const struct report_chart *chart, const char *caption_id)
{
	size_t n = chart->n;
	struct ranked *order = NULL;
	char **labels = NULL;
	double widest_label = 0, widest_value = 0;
	char text[64];
	int err = -ENOMEM;

	order = calloc(n > 0 ? n : 1, sizeof *order);
	labels = calloc(n > 0 ? n : 1, sizeof *labels);
	if (order == NULL || labels == NULL)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		order[i] = (struct ranked){.value = chart->values[i], .index = i};
		labels[i] = label_cut(chart->labels[i], RANK_COLUMNS);
		if (labels[i] == NULL)
			goto cleanup;
		widest_label = fmax(widest_label, text_px(labels[i], FONT_LABEL));
		value_text(chart->values[i], text, sizeof text);
		widest_value = fmax(widest_value, text_px(text, FONT_VALUE));
	}
	qsort(order, n, sizeof *order, ranked_compare);

	struct axis axis = axis_nice(chart->values, n);
	double left = 16 + widest_label + 10, right = 16 + widest_value + 8, top = 8;
	double plot_h = RANK_ROW * (double)(n > 0 ? n : 1), bottom = 44;
	double x_from = left, x_to = CHART_WIDTH - right;

	svg_open(f, top + plot_h + bottom, caption_id);
	for (size_t k = 0; k < axis.n_ticks; k++) {
		double x = axis_map(&axis, axis.lo + (double)k * axis.step, x_from, x_to);
		svg_element(f, "<line class=\"grid\" x1=\"%N\" x2=\"%N\" y1=\"%N\" y2=\"%N\"/>", 4,
			    (double[]){x, x, top, top + plot_h});
		axis_tick_text(&axis, k, text, sizeof text);
		svg_element(f, "<text class=\"tick\" x=\"%N\" y=\"%N\" text-anchor=\"middle\">", 2,
			    (double[]){x, top + plot_h + 16});
		html_text(f, text);
		fputs("</text>\n", f);
	}
	double zero = axis_map(&axis, 0, x_from, x_to);
	svg_element(f, "<line class=\"axis\" x1=\"%N\" x2=\"%N\" y1=\"%N\" y2=\"%N\"/>\n", 4,
		    (double[]){zero, zero, top, top + plot_h});
	if (chart->unit != NULL && *chart->unit != '\0') {
		svg_element(f, "<text class=\"unit\" x=\"%N\" y=\"%N\" text-anchor=\"end\">", 2,
			    (double[]){x_to, top + plot_h + 36});
		html_text(f, chart->unit);
		fputs("</text>\n", f);
	}
	if (n == 0)
		svg_element(f,
			    "<text class=\"empty\" x=\"%N\" y=\"%N\" text-anchor=\"middle\">"
			    "无数据</text>\n",
			    2, (double[]){(x_from + x_to) / 2, top + RANK_ROW / 2 + 5});

	for (size_t rank = 0; rank < n; rank++) {
		size_t i = order[rank].index;
		double v = chart->values[i], y = top + RANK_ROW * (double)rank;
		double middle = y + RANK_ROW / 2;
		svg_element(f, "<text class=\"label\" x=\"%N\" y=\"%N\" text-anchor=\"end\">", 2,
			    (double[]){left - 10, middle + 4});
		html_text(f, labels[i]);
		fputs("</text>\n", f);
		if (!isfinite(v))
			continue;
		double x0 = axis_map(&axis, fmin(v, 0), x_from, x_to);
		double x1 = axis_map(&axis, fmax(v, 0), x_from, x_to);
		svg_element(f, "<rect class=\"bar\" x=\"%N\" y=\"%N\" width=\"%N\" height=\"%N\">",
			    4, (double[]){x0, middle - RANK_BAR / 2, x1 - x0, RANK_BAR});
		svg_tooltip(f, chart, i);
		fputs("</rect>\n", f);
		value_text(v, text, sizeof text);
		if (v < 0)
			svg_element(f,
				    "<text class=\"value\" x=\"%N\" y=\"%N\" "
				    "text-anchor=\"end\">",
				    2, (double[]){x0 - 6, middle + 4});
		else
			svg_element(f, "<text class=\"value\" x=\"%N\" y=\"%N\">", 2,
				    (double[]){x1 + 6, middle + 4});
		html_text(f, text);
		fputs("</text>\n", f);
	}
	fputs("</svg>\n", f);
	err = 0;
cleanup:
	if (labels != NULL)
		for (size_t i = 0; i < n; i++)
			free(labels[i]);
	free(labels);
	free(order);
	return err;
}

static int write_chart(FILE *f, const struct report_chart *chart, size_t number)
{
	char id[32];
	struct columns c = {.chart = chart};
	int err = 0;

	/* The caption's id is ours, not made of the caller's chart id, so
	 * that no chart id can make two elements share one. */
	snprintf(id, sizeof id, "caption-%zu", number + 1);
	fputs("<figure class=\"chart\" id=\"chart-", f);
	html_text(f, chart->id);
	fputs("\">\n<figcaption id=\"", f);
	fputs(id, f);
	fputs("\">", f);
	html_text(f, chart->title);
	fputs("</figcaption>\n", f);
	if (chart->kind == REPORT_CHART_HBAR) {
		err = hbar_chart(f, chart, id);
	} else {
		err = columns_layout(&c, chart);
		if (err == 0) {
			svg_open(f, columns_height(&c), id);
			if (chart->kind == REPORT_CHART_LINE)
				line_chart(f, &c);
			else
				bar_chart(f, &c);
			fputs("</svg>\n", f);
		}
		columns_free(&c);
	}
	fputs("</figure>\n", f);
	return err;
}

/* --- tables ------------------------------------------------------------------- */

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

static int write_table(FILE *f, const struct report_table *t)
{
	bool *numeric = calloc(t->n_columns, sizeof *numeric);
	char text[128];

	if (numeric == NULL)
		return -ENOMEM;
	fputs("<div class=\"table-wrap\">\n<table id=\"table-", f);
	html_text(f, t->id);
	fputs("\">\n<caption><span class=\"title\">", f);
	html_text(f, t->title);
	fputs("</span>", f);
	if (t->note != NULL && *t->note != '\0') {
		fputs("<span class=\"note\">", f);
		html_text(f, t->note);
		fputs("</span>", f);
	}
	fputs("</caption>\n<thead><tr>", f);
	for (size_t col = 0; col < t->n_columns; col++) {
		numeric[col] = column_is_numeric(t, col);
		fputs(numeric[col] ? "<th scope=\"col\" class=\"num\">" : "<th scope=\"col\">", f);
		html_text(f, t->headers[col]);
		fputs("</th>", f);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t row = 0; row < t->n_rows; row++) {
		/* Not a <tfoot>: print would repeat it at the foot of every page. */
		bool total = t->last_row_is_total && row + 1 == t->n_rows;
		fputs(total ? "<tr class=\"total\">" : "<tr>", f);
		for (size_t col = 0; col < t->n_columns; col++) {
			const struct report_cell *c = &t->cells[row * t->n_columns + col];
			if (report_cell_is_blank(c)) {
				fputs(numeric[col] ? "<td class=\"num empty\">–</td>" : "<td></td>",
				      f);
				continue;
			}
			if (c->kind == REPORT_CELL_TEXT) {
				fputs("<td>", f);
				html_text(f, c->text);
			} else {
				report_cell_format(c, true, text, sizeof text);
				fputs("<td class=\"num\">", f);
				html_text(f, text);
			}
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n</div>\n", f);
	free(numeric);
	return 0;
}

/* --- the page ----------------------------------------------------------------- */

int report_write_html(const struct report *r, FILE *f)
{
	int err = 0;

	fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>",
	      f);
	html_text(f, r->title);
	fputs("</title>\n<style>\n", f);
	fputs(page_style, f);
	fputs("</style>\n</head>\n<body>\n<main>\n<header>\n<h1>", f);
	html_text(f, r->title);
	fputs("</h1>\n", f);
	if (r->subtitle != NULL && *r->subtitle != '\0') {
		fputs("<p class=\"subtitle\">", f);
		html_text(f, r->subtitle);
		fputs("</p>\n", f);
	}
	fputs("</header>\n", f);

	if (r->n_charts > 0)
		fputs("<section class=\"charts\">\n<h2>图表</h2>\n", f);
	for (size_t i = 0; i < r->n_charts && err == 0; i++)
		err = write_chart(f, r->charts[i], i);
	if (err < 0)
		return err;
	if (r->n_charts > 0)
		fputs("</section>\n", f);

	if (r->n_tables > 0)
		fputs("<section class=\"tables\">\n<h2>数据表</h2>\n", f);
	for (size_t i = 0; i < r->n_tables && err == 0; i++)
		err = write_table(f, r->tables[i]);
	if (err < 0)
		return err;
	if (r->n_tables > 0)
		fputs("</section>\n", f);

	if (r->n_definitions > 0) {
		fputs("<section class=\"definitions\">\n<h2>口径与说明</h2>\n<ol>\n", f);
		for (size_t i = 0; i < r->n_definitions; i++) {
			fputs("<li>", f);
			html_text(f, r->definitions[i]);
			fputs("</li>\n", f);
		}
		fputs("</ol>\n</section>\n", f);
	}
	fputs("</main>\n</body>\n</html>\n", f);
	/* stdio keeps the first error; a full disk often shows only on flush. */
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}
