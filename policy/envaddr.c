/*
 * envaddr - the address inside an SMTP envelope path (see envaddr.h)
 */
#include <ctype.h>
#include <string.h>

#include "envaddr.h"

int
envaddr_parse(const char *path, struct envaddr *a)
{
	const char *p = path, *end;
	char *at;
	size_t n;

	a->mailbox[0] = '\0';
	a->domain = a->mailbox;
	while (*p == ' ')
		p++;
	end = p + strlen(p);
	while (end > p && end[-1] == ' ')
		end--;
	if (end > p && *p == '<') {
		if (end[-1] != '>')
			return -1;
		p++;
		end--;
	}
	/* Source route: "@a,@b:mailbox" - ignored as RFC 5321 4.1.1.3 says. */
	if (p < end && *p == '@') {
		const char *colon = memchr(p, ':', (size_t)(end - p));

		if (colon == NULL)
			return -1;
		p = colon + 1;
	}
	n = (size_t)(end - p);
	if (n >= sizeof(a->mailbox) || memchr(p, '\0', n) != NULL)
		return -1;
	memcpy(a->mailbox, p, n);
	a->mailbox[n] = '\0';
	if (n == 0)
		return 0;
	at = strrchr(a->mailbox, '@');
	if (at == NULL) {
		a->domain = a->mailbox + n;	/* "postmaster": local */
		return 0;
	}
	if (at == a->mailbox || at[1] == '\0')
		return -1;
	a->domain = at + 1;
	for (char *d = a->domain; *d != '\0'; d++)
		*d = (char)tolower((unsigned char)*d);
	n = strlen(a->domain);
	if (n > 1 && a->domain[n - 1] == '.')
		a->domain[n - 1] = '\0';
	return 0;
}
