/*
 * errbuf - the one way a module explains a failure to its caller
 *
 * Functions that can fail for a reason take (char *err, size_t errlen)
 * and fill it with one line naming what was wrong and where. errbuf_set()
 * formats that line (a NULL or empty buffer is allowed) and returns -1, so
 * a failure path is one statement: return errbuf_set(err, len, "...", x);
 * Threads: pure.
 */
#ifndef AUP_ERRBUF_H
#define AUP_ERRBUF_H

#include <stddef.h>

int	errbuf_set(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
