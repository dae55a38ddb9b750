/*
 * evidence_time - the evidence log's timestamps (see evidence.h)
 *
 * Records carry RFC 3339 UTC with milliseconds ("2026-11-22T08:00:00.000Z"),
 * formatted by hand (once per record); search bounds (--since,
 * --until) are parsed with fractions and offsets. Dates are proleptic
 * Gregorian, converted with H. Hinnant's day-count algorithms, so no
 * libc time zone state is involved.
 *
 * Ownership: none. Threads: pure functions (the clock aside).
 * Errors: evidence_parse_time() returns -1 on malformed text.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "evidence.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
ev_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
ev_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

#define EV_TS_LEN	24	/* 2026-11-22T08:00:00.000Z */

/* v (0 <= v < 10^n) as n decimal digits at s. */
static void
ev_digits_put(char *s, int n, int v)
{
	while (n-- > 0) {
		s[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void
evidence_timestamp(int64_t ms, char *buf, size_t len)
{
	int64_t days = ms / 86400000, rem, y;
	int m, d;

	rem = ms % 86400000;
	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	ev_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999 || len < EV_TS_LEN + 1) {
		snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
		    (long long)y, m, d, (int)(rem / 3600000),
		    (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
		    (int)(rem % 1000));
		return;
	}
	/* The same text without printf: one per record. */
	ev_digits_put(buf, 4, (int)y);
	buf[4] = '-';
	ev_digits_put(buf + 5, 2, m);
	buf[7] = '-';
	ev_digits_put(buf + 8, 2, d);
	buf[10] = 'T';
	ev_digits_put(buf + 11, 2, (int)(rem / 3600000));
	buf[13] = ':';
	ev_digits_put(buf + 14, 2, (int)(rem / 60000 % 60));
	buf[16] = ':';
	ev_digits_put(buf + 17, 2, (int)(rem / 1000 % 60));
	buf[19] = '.';
	ev_digits_put(buf + 20, 3, (int)(rem % 1000));
	buf[23] = 'Z';
	buf[24] = '\0';
}

int64_t
evidence_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* n decimal digits at *s into *v, advancing *s. 0 / -1. */
static int
ev_digits(const char **s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*s)++) {
		if (**s < '0' || **s > '9')
			return -1;
		*v = *v * 10 + (**s - '0');
	}
	return 0;
}

/* "Thh:mm:ss[.frac]" and the offset; *ms is the time of day. 0 / -1. */
static int
ev_parse_clock(const char *s, int64_t *ms)
{
	int hh, mi, ss, frac = 0, oh, om, sign;

	if (ev_digits(&s, 2, &hh) < 0 || *s++ != ':' ||
	    ev_digits(&s, 2, &mi) < 0 || *s++ != ':' ||
	    ev_digits(&s, 2, &ss) < 0 || hh > 23 || mi > 59 || ss > 60)
		return -1;
	if (ss == 60)
		ss = 59;	/* a leap second sorts into its minute */
	if (*s == '.') {
		int scale = 100;

		if (*++s < '0' || *s > '9')
			return -1;
		for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
			frac += (*s - '0') * scale;	/* truncates */
	}
	*ms = ((int64_t)hh * 3600 + mi * 60 + ss) * 1000 + frac;
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
		return 0;
	if (*s != '+' && *s != '-')
		return -1;
	sign = *s++ == '-' ? 1 : -1;	/* 10:00+02:00 is 08:00Z */
	if (ev_digits(&s, 2, &oh) < 0 || *s++ != ':' ||
	    ev_digits(&s, 2, &om) < 0 || *s != '\0' || oh > 23 || om > 59)
		return -1;
	*ms += sign * ((int64_t)oh * 3600 + om * 60) * 1000;
	return 0;
}

int
evidence_parse_time(const char *s, int64_t *ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, mo, d, leap;
	int64_t tod = 0;

	if (s == NULL || ev_digits(&s, 4, &y) < 0 || *s++ != '-' ||
	    ev_digits(&s, 2, &mo) < 0 || *s++ != '-' ||
	    ev_digits(&s, 2, &d) < 0 || mo < 1 || mo > 12 || d < 1)
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
		return -1;
	if (*s != '\0') {
		if (*s != 'T' && *s != 't' && *s != ' ')
			return -1;
		if (ev_parse_clock(s + 1, &tod) < 0)
			return -1;
	}
	*ms = ev_days_from_civil(y, mo, d) * 86400000 + tod;
	return 0;
}
