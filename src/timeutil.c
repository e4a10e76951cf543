/* timeutil.c: RFC 3339 parsing and formatting, local-zone helpers. */
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Howard Hinnant's days_from_civil and civil_from_days. */
int64_t timeutil_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void timeutil_civil_from_days(int64_t z, int *year, int *month, int *day)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	const unsigned d = doy - (153 * mp + 2) / 5 + 1;
	const unsigned m = mp < 10 ? mp + 3 : mp - 9;
	*year = (int)((int64_t)yoe + era * 400 + (m <= 2));
	*month = (int)m;
	*day = (int)d;
}

int timeutil_days_in_year(int year)
{
	return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 366 : 365;
}

static int timeutil_days_in_month(int year, int month)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (month == 2 && timeutil_days_in_year(year) == 366)
		return 29;
	return dm[month - 1];
}

/* Reads exactly n digits at *p, advancing it. */
static int timeutil_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int timeutil_parse_rfc3339(const char *s, int64_t *usec)
{
	int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;
	int64_t frac = 0;
	const char *p = s;

	if (s == NULL)
		return -1;
	if (timeutil_digits(&p, 4, &Y) || *p++ != '-' || timeutil_digits(&p, 2, &M) ||
	    *p++ != '-' || timeutil_digits(&p, 2, &D))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (timeutil_digits(&p, 2, &h) || *p++ != ':' || timeutil_digits(&p, 2, &m) ||
	    *p++ != ':' || timeutil_digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		int nd = 0;
		p++;
		while (*p >= '0' && *p <= '9') {
			if (nd < 6) {
				frac = frac * 10 + (*p - '0');
				nd++;
			} else if (nd >= 9) {
				return -1;
			} else {
				nd++;
			}
			p++;
		}
		if (nd == 0)
			return -1;
		for (int i = nd < 6 ? nd : 6; i < 6; i++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		p++;
		if (timeutil_digits(&p, 2, &oh) || *p++ != ':' || timeutil_digits(&p, 2, &om))
			return -1;
		if (oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > timeutil_days_in_month(Y, M) || h > 23 ||
	    m > 59 || sec > 59)
		return -1;
	int64_t days = timeutil_days_from_civil(Y, (unsigned)M, (unsigned)D);
	int64_t secs = days * 86400 + h * 3600 + m * 60 + sec - sign * (oh * 3600 + om * 60);
	if (secs < 0)
		return -1;
	*usec = secs * 1000000 + frac;
	return 0;
}

static void timeutil_format(int64_t usec, char out[TIMEUTIL_RFC3339_LEN], int local)
{
	time_t secs = (time_t)(usec / 1000000);
	long frac = (long)(usec % 1000000);
	struct tm tm;
	char fraction[16] = "";
	char zone[16];

	if (frac < 0) {
		frac += 1000000;
		secs -= 1;
	}
	if (local)
		localtime_r(&secs, &tm);
	else
		gmtime_r(&secs, &tm);
	if (frac != 0)
		snprintf(fraction, sizeof fraction, ".%06ld", frac);
	if (local) {
		long off = tm.tm_gmtoff;
		char sign = off < 0 ? '-' : '+';
		if (off < 0)
			off = -off;
		snprintf(zone, sizeof zone, "%c%02d:%02d", sign, (int)(off / 3600 % 100),
			 (int)(off % 3600 / 60));
	} else {
		strcpy(zone, "Z");
	}
	/* strftime for the date, so that the compiler does not assume every
	 * field of tm may be eleven digits wide (years stop at 9999). */
	size_t n = strftime(out, TIMEUTIL_RFC3339_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, TIMEUTIL_RFC3339_LEN - n, "%s%s", fraction, zone);
}

void timeutil_format_utc(int64_t usec, char out[TIMEUTIL_RFC3339_LEN])
{
	timeutil_format(usec, out, 0);
}

void timeutil_format_local(int64_t usec, char out[TIMEUTIL_RFC3339_LEN])
{
	timeutil_format(usec, out, 1);
}

int timeutil_set_zone(const char *zone)
{
	char path[512];

	if (zone == NULL || *zone == '\0' || strstr(zone, "..") != NULL)
		return -1;
	if (strcmp(zone, "UTC") != 0) {
		char magic[4];
		snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zone);
		FILE *f = fopen(path, "rb");
		if (f == NULL)
			return -1;
		/* A folder such as "Asia" opens too; only compiled zone files
		 * start with "TZif", and glibc silently uses UTC for anything else. */
		size_t n = fread(magic, 1, sizeof magic, f);
		fclose(f);
		if (n != sizeof magic || memcmp(magic, "TZif", 4) != 0)
			return -1;
	}
	if (setenv("TZ", zone, 1) != 0)
		return -1;
	tzset();
	return 0;
}

void timeutil_local_clock(int64_t usec, int *minute_of_day, int *weekday)
{
	time_t secs = (time_t)(usec / 1000000);
	struct tm tm;

	localtime_r(&secs, &tm);
	*minute_of_day = tm.tm_hour * 60 + tm.tm_min;
	*weekday = tm.tm_wday == 0 ? 7 : tm.tm_wday;
}

int64_t timeutil_local_day(int64_t usec)
{
	time_t secs = (time_t)(usec / 1000000);
	struct tm tm;

	localtime_r(&secs, &tm);
	return timeutil_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
					(unsigned)tm.tm_mday);
}

int64_t timeutil_local_midnight(int year, int month, int day)
{
	struct tm tm = {0};

	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000000;
}

int64_t timeutil_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
