/*
 * window - the arithmetic of quota windows (pure, unit-tested at the edges)
 *
 * Counters of SPEC "Plans and quotas" count inside fixed windows of
 * Unix time (UTC, no leap seconds, so every day is 86400 s):
 *
 *   WINDOW_HOUR  aligned to the hour:  [hh:00:00, hh+1:00:00)
 *   WINDOW_DAY   aligned to UTC midnight: [00:00:00, next 00:00:00)
 *
 * A time exactly on a boundary belongs to the window that starts there.
 * Times before 1970 are floored, not truncated, so the arithmetic has no
 * hole at 0. The per-send window of rcpt_cap is not aligned: it starts at
 * the first transaction of a send and lasts WINDOW_SEND_SECS.
 * Threads: pure functions. Errors: none (every int64_t is valid input;
 * the results saturate near the ends of the range).
 */
#ifndef AUP_WINDOW_H
#define AUP_WINDOW_H

#include <stddef.h>
#include <stdint.h>

enum window_kind {
	WINDOW_HOUR,
	WINDOW_DAY
};

#define WINDOW_SEND_SECS	3600	/* a split send adds up for an hour */

/* Length of a window in seconds (3600, 86400). */
int64_t	window_length(enum window_kind k);
/* Start of the window holding now. */
int64_t	window_start(enum window_kind k, int64_t now);
/* End of the window holding now: the first second of the next one. */
int64_t	window_end(enum window_kind k, int64_t now);

/*
 * The reset time for a reply, "14:00 UTC", into buf (>= 16 bytes): the
 * time of day of t in UTC. Returns buf.
 */
char	*window_reset_text(int64_t t, char *buf, size_t len);
/* The full time "2026-11-22T14:00:00Z" into buf (>= 32 bytes). */
char	*window_time_text(int64_t t, char *buf, size_t len);

#endif
