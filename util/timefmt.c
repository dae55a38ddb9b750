/*
 * timefmt - RFC 3339 UTC text (see timefmt.h)
 */
#include <stdio.h>
#include <time.h>

#include "timefmt.h"

void
timefmt_utc(int64_t secs, char *buf, size_t len)
{
	time_t tt = (time_t)secs;
	struct tm tm;

	if ((int64_t)tt != secs || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%lld", (long long)secs);
}
