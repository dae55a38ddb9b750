/*
 * fuzz_envaddr - the envelope path parser of policy/envaddr.h
 *
 * The input, cut at its first NUL, is a MAIL FROM / RCPT TO argument.
 * Properties of an accepted path, each an abort() when broken: the
 * mailbox is a terminated string within ENVADDR_MAX; the domain points
 * into it, either at its end (no domain) or just after an '@' that is
 * not the first byte; the domain has no upper-case ASCII.
 * Ownership: stack buffers only. Threads: single.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envaddr.h"
#include "fuzz.h"

#define FZ_TEXT_MAX	2048	/* well past ENVADDR_MAX, to test the limit */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[FZ_TEXT_MAX + 1];
	struct envaddr a;
	size_t n;

	if (size > FZ_TEXT_MAX)
		size = FZ_TEXT_MAX;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&a, 0xa5, sizeof(a));
	if (envaddr_parse(s, &a) < 0)
		return 0;
	if ((n = strnlen(a.mailbox, sizeof(a.mailbox))) == sizeof(a.mailbox))
		abort();
	if (a.domain < a.mailbox || a.domain > a.mailbox + n)
		abort();
	if (a.domain != a.mailbox + n &&
	    (a.domain < a.mailbox + 2 || a.domain[-1] != '@'))
		abort();
	for (const char *d = a.domain; *d != '\0'; d++)
		if (*d >= 'A' && *d <= 'Z')
			abort();
	return 0;
}
