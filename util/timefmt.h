/*
 * timefmt - Unix seconds as the RFC 3339 UTC text admins read
 *
 * "2026-11-22T08:00:00Z"; a time gmtime cannot represent is written
 * "@<seconds>" so nothing is hidden. (Evidence timestamps, with
 * milliseconds, are evidence_timestamp()'s.) Threads: pure.
 */
#ifndef AUP_TIMEFMT_H
#define AUP_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_LEN	32	/* enough for any output, with the NUL */

void	timefmt_utc(int64_t secs, char *buf, size_t len);

#endif
