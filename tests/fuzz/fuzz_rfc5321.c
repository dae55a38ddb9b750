/*
 * fuzz_rfc5321 - the reverse-path parser of policy/rfc5321.h
 *
 * The first byte chooses the flags (bit 0: SMTPUTF8); the rest, NULs
 * included, is the path. Properties, each an abort() when broken: a
 * result is OK or a known error; on success the local part is 1..64
 * octets, the domain 1..255 with no upper-case ASCII, the mailbox is
 * exactly local@domain, no octet above 127 appears without SMTPUTF8, and
 * parsing the canonical "<mailbox>" again gives the same mailbox; a null
 * path has empty fields; on failure the error offset is inside the input.
 * Ownership: stack buffers only. Threads: single.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "rfc5321.h"

#define FZ_TEXT_MAX	1024	/* well past the 256-octet path limit */

static void
fz_check_ok(const struct rfc5321_path *p, unsigned flags)
{
	char again[sizeof(p->mailbox) + 2], both[sizeof(p->mailbox)];
	struct rfc5321_path q;
	size_t ll = strlen(p->local), dl = strlen(p->domain);

	if (p->null) {
		if (p->local[0] != '\0' || p->domain[0] != '\0' ||
		    p->mailbox[0] != '\0')
			abort();
		return;
	}
	if (ll == 0 || ll > RFC5321_LOCAL_MAX || dl == 0 ||
	    dl > RFC5321_DOMAIN_MAX)
		abort();
	snprintf(both, sizeof(both), "%s@%s", p->local, p->domain);
	if (strcmp(both, p->mailbox) != 0)
		abort();
	for (const unsigned char *c = (const unsigned char *)p->mailbox; *c;
	    c++) {
		if (*c > 127 && !(flags & RFC5321_SMTPUTF8))
			abort();
	}
	for (const char *d = p->domain; *d != '\0'; d++)
		if (*d >= 'A' && *d <= 'Z')
			abort();
	snprintf(again, sizeof(again), "<%s>", p->mailbox);
	if (rfc5321_parse(again, strlen(again), flags, &q, NULL) !=
	    RFC5321_OK || strcmp(q.mailbox, p->mailbox) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rfc5321_path p;
	enum rfc5321_err e;
	unsigned flags;
	size_t pos = (size_t)-1;

	if (size < 1)
		return 0;
	flags = data[0] & 1 ? RFC5321_SMTPUTF8 : 0;
	data++, size--;
	if (size > FZ_TEXT_MAX)
		size = FZ_TEXT_MAX;
	memset(&p, 0xa5, sizeof(p));
	e = rfc5321_parse((const char *)data, size, flags, &p, &pos);
	if ((unsigned)e > RFC5321_TRAILING)
		abort();
	if (e == RFC5321_OK)
		fz_check_ok(&p, flags);
	else if (e != RFC5321_EMPTY && (pos == (size_t)-1 || pos > size))
		abort();
	(void)rfc5321_strerror(e);
	return 0;
}
