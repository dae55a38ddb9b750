/*
 * strcopy - bounded string copies without printf
 *
 * snprintf(dst, len, "%s", src) is the house's way to copy a string into
 * a fixed buffer; on the per-message path its format parsing is a
 * measurable cost, so hot paths use these instead. Same result: dst is
 * always NUL-terminated (len > 0) and src is cut to fit.
 * Threads: pure.
 */
#ifndef AUP_STRCOPY_H
#define AUP_STRCOPY_H

#include <stddef.h>

/* src into dst[0..len), cut to fit; the bytes copied (no NUL). */
size_t	strcopy(char *dst, size_t len, const char *src);

/* a, then sep (if not '\0'), then b into dst[0..len), cut to fit. */
size_t	strcopy2(char *dst, size_t len, const char *a, char sep,
	    const char *b);

#endif
