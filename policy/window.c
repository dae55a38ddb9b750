/*
 * window - quota window arithmetic (see window.h)
 *
 * Unix time has no leap seconds, so aligned hours and UTC days are plain
 * modular arithmetic; the only care needed is flooring for negative times
 * and not overflowing at the ends of int64_t.
 * Threads: pure. Errors: none.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "window.h"

int64_t
window_length(enum window_kind k)
{
	return k == WINDOW_DAY ? 86400 : 3600;
}

int64_t
window_start(enum window_kind k, int64_t now)
{
	int64_t len = window_length(k), r = now % len;

	if (r < 0)
		r += len;	/* floor, not truncate, before 1970 */
	if (now < INT64_MIN + r)
		return INT64_MIN;	/* saturate at the start of the range */
	return now - r;
}

int64_t
window_end(enum window_kind k, int64_t now)
{
	int64_t start = window_start(k, now), len = window_length(k);

	if (start > INT64_MAX - len)
		return INT64_MAX;
	return start + len;
}

/* gmtime_r of t, or 0 if t does not fit a time_t / a struct tm. */
static int
window_gmtime(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	if ((int64_t)tt != t || gmtime_r(&tt, tm) == NULL)
		return 0;
	return 1;
}

char *
window_reset_text(int64_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!window_gmtime(t, &tm))
		snprintf(buf, len, "@%" PRId64, t);
	else
		snprintf(buf, len, "%02d:%02d UTC", tm.tm_hour, tm.tm_min);
	return buf;
}

char *
window_time_text(int64_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!window_gmtime(t, &tm) ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%" PRId64, t);
	return buf;
}
