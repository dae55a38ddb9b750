/*
 * window unit test: hour and day windows at their edges, before 1970 and
 * at the ends of the range, and the reset text of replies.
 */
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "window.h"

#define H	3600
#define D	86400
#define T0	INT64_C(1795334400)	/* 2026-11-22T08:00:00Z */

static const struct {
	enum window_kind k;
	int64_t		 now, start, end;
	const char	*what;
} cases[] = {
	{ WINDOW_HOUR, T0, T0, T0 + H, "on the hour: a new window starts" },
	{ WINDOW_HOUR, T0 - 1, T0 - H, T0, "one second before the hour" },
	{ WINDOW_HOUR, T0 + 1, T0, T0 + H, "one second after the hour" },
	{ WINDOW_HOUR, T0 + H - 1, T0, T0 + H, "last second of the hour" },
	{ WINDOW_HOUR, 0, 0, H, "the epoch" },
	{ WINDOW_HOUR, -1, -H, 0, "one second before the epoch (floored)" },
	{ WINDOW_HOUR, -H, -H, 0, "an hour before the epoch" },
	{ WINDOW_DAY, T0, T0 - 8 * H, T0 + 16 * H, "08:00: day from midnight" },
	{ WINDOW_DAY, T0 - 8 * H, T0 - 8 * H, T0 + 16 * H, "midnight itself" },
	{ WINDOW_DAY, T0 - 8 * H - 1, T0 - 8 * H - D, T0 - 8 * H,
	    "one second before midnight" },
	{ WINDOW_DAY, T0 + 16 * H - 1, T0 - 8 * H, T0 + 16 * H,
	    "23:59:59" },
	{ WINDOW_DAY, -1, -D, 0, "day before the epoch (floored)" },
	{ WINDOW_HOUR, INT64_MAX, INT64_MAX - INT64_MAX % H, INT64_MAX,
	    "end of range: the end saturates" },
	{ WINDOW_HOUR, INT64_MIN, INT64_MIN, INT64_MIN + H,
	    "start of range: the start saturates" },
};

int
main(void)
{
	char buf[64];
	size_t n = sizeof(cases) / sizeof(cases[0]);

	plan((int)(2 * n) + 8);
	for (size_t i = 0; i < n; i++) {
		is_int(window_start(cases[i].k, cases[i].now),
		    cases[i].start, "start: %s", cases[i].what);
		is_int(window_end(cases[i].k, cases[i].now), cases[i].end,
		    "end: %s", cases[i].what);
	}
	is_int(window_length(WINDOW_HOUR), H, "an hour is 3600 s");
	is_int(window_length(WINDOW_DAY), D, "a day is 86400 s");
	is_str(window_reset_text(window_end(WINDOW_HOUR, T0 + 5 * 60), buf,
	    sizeof(buf)), "09:00 UTC", "hourly reset at 08:05 is 09:00 UTC");
	is_str(window_reset_text(window_end(WINDOW_HOUR, T0 + 15 * H + 1),
	    buf, sizeof(buf)), "00:00 UTC", "hourly reset at 23:00:01 is "
	    "00:00 UTC");
	is_str(window_reset_text(window_end(WINDOW_DAY, T0), buf,
	    sizeof(buf)), "00:00 UTC", "daily reset is 00:00 UTC");
	is_str(window_time_text(window_end(WINDOW_DAY, T0), buf, sizeof(buf)),
	    "2026-11-23T00:00:00Z", "daily reset, full time");
	is_str(window_time_text(T0, buf, sizeof(buf)), "2026-11-22T08:00:00Z",
	    "T0 is 2026-11-22T08:00:00Z");
	is_str(window_time_text(INT64_MAX, buf, sizeof(buf)),
	    "@9223372036854775807", "a time out of range is printed raw");
	return tap_done();
}
