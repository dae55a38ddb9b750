/*
 * strbuf - growable byte string, always NUL-terminated
 *
 * The one string builder of the project. A struct strbuf is a small public
 * value: initialise with STRBUF_INIT or strbuf_init(), release with
 * strbuf_free(). The bytes may contain NULs; len excludes the terminator.
 * Threads: a strbuf is owned by one thread at a time.
 */
#ifndef AUP_STRBUF_H
#define AUP_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char	*s;	/* never NULL after init; NUL-terminated */
	size_t	 len;
	size_t	 cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

void	strbuf_init(struct strbuf *sb, size_t hint);
void	strbuf_free(struct strbuf *sb);
/* Empty the buffer, keeping its allocation. */
void	strbuf_reset(struct strbuf *sb);
/* Room for n more bytes: appends of up to n bytes do not reallocate. */
void	strbuf_reserve(struct strbuf *sb, size_t n);
void	strbuf_add(struct strbuf *sb, const void *p, size_t n);
void	strbuf_adds(struct strbuf *sb, const char *s);
void	strbuf_addc(struct strbuf *sb, char c);
void	strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/* Hand the string over to the caller (who frees it); sb is emptied. */
char	*strbuf_detach(struct strbuf *sb);
/* Pointer to the contents ("" for a never-used buffer). */
const char *strbuf_str(const struct strbuf *sb);

#endif
