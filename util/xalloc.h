/*
 * xalloc - allocation that cannot fail
 *
 * Every allocation in aup-milter goes through these. On exhaustion they log
 * and abort(): per-message buffers are bounded by configuration, and Postfix
 * tempfails the transaction when the milter is gone, so no mail is lost.
 * Threads: safe. Ownership: the caller frees the result with free().
 */
#ifndef AUP_XALLOC_H
#define AUP_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
