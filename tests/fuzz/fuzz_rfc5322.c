/*
 * fuzz_rfc5322 - the address-header parser of policy/rfc5322.h
 *
 * The first byte is the address cap (0..15); the rest, NULs included, is
 * the header value. Properties, each an abort() when broken: the result
 * is OK or a known error; the list never holds more than the cap; on
 * success there is a mailbox or a group, every mailbox is exactly
 * local@domain with a 1..64-octet local part, a 1..255-octet domain with
 * no upper-case ASCII, and "<mailbox>" parses again to the same mailbox;
 * an error offset lies inside the input. rfc5322_decode_text() of the
 * same bytes must not crash. Ownership: freed per input. Threads: single.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rfc5322.h"

#define FZ_TEXT_MAX	4096

static void
fz_check_addr(const struct rfc5322_addr *a)
{
	size_t ll = strlen(a->local), dl = strlen(a->domain);
	char again[RFC5322_LOCAL_MAX + RFC5322_DOMAIN_MAX + 8];
	struct rfc5322_list l;

	if (ll == 0 || ll > RFC5322_LOCAL_MAX || dl == 0 ||
	    dl > RFC5322_DOMAIN_MAX)
		abort();
	if (strlen(a->mailbox) != ll + dl + 1 ||
	    strncmp(a->mailbox, a->local, ll) != 0 || a->mailbox[ll] != '@' ||
	    strcmp(a->mailbox + ll + 1, a->domain) != 0)
		abort();
	for (const char *d = a->domain; *d != '\0'; d++)
		if (*d >= 'A' && *d <= 'Z')
			abort();
	snprintf(again, sizeof(again), "<%s>", a->mailbox);
	if (rfc5322_parse(again, strlen(again), 1, &l, NULL) != RFC5322_OK ||
	    l.n != 1 || strcmp(l.v[0].mailbox, a->mailbox) != 0)
		abort();
	rfc5322_list_free(&l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rfc5322_list l;
	enum rfc5322_err e;
	size_t max, pos = (size_t)-1;
	char *text;

	if (size < 1)
		return 0;
	max = data[0] & 15;
	data++, size--;
	if (size > FZ_TEXT_MAX)
		size = FZ_TEXT_MAX;
	e = rfc5322_parse((const char *)data, size, max, &l, &pos);
	if ((unsigned)e > RFC5322_JUNK || l.n > max)
		abort();
	if (e == RFC5322_OK) {
		if (l.n == 0 && l.ngroups == 0)
			abort();
		for (size_t i = 0; i < l.n; i++)
			fz_check_addr(&l.v[i]);
	} else if (pos > size)
		abort();
	rfc5322_list_free(&l);
	(void)rfc5322_strerror(e);
	text = rfc5322_decode_text((const char *)data, size);
	free(text);
	return 0;
}
