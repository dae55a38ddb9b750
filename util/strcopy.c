/*
 * strcopy - bounded string copies without printf (see strcopy.h)
 */
#include <string.h>

#include "strcopy.h"

size_t
strcopy(char *dst, size_t len, const char *src)
{
	size_t n;

	if (len == 0)
		return 0;
	n = strnlen(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}

size_t
strcopy2(char *dst, size_t len, const char *a, char sep, const char *b)
{
	size_t n;

	if (len == 0)
		return 0;
	n = strcopy(dst, len, a);
	if (sep != '\0' && n + 1 < len) {
		dst[n++] = sep;
		dst[n] = '\0';
	}
	return n + strcopy(dst + n, len - n, b);
}
