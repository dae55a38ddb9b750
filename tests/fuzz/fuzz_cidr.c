/*
 * fuzz_cidr - the address and network parser of lists/cidr.h
 *
 * The input, cut at its first NUL, goes to cidr_parse and
 * cidr_parse_addr. Properties, each an abort() when broken:
 *   - cidr_parse answers the same with and without an error buffer, and
 *     a refusal leaves a NUL-terminated reason;
 *   - a parsed value is canonical: family 4 or 6, prefix within the
 *     width, no bits beyond the prefix (nor beyond 4 bytes for IPv4),
 *     and it contains its own first address;
 *   - cidr_format of it parses back to exactly the same value;
 *   - cidr_parse_addr yields a full-width address that also round-trips.
 * Ownership: stack buffers only. Threads: single.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "fuzz.h"

#define FZ_TEXT_MAX	256	/* far beyond any address; keeps runs fast */

static int
fz_same(const struct cidr *a, const struct cidr *b)
{
	return a->family == b->family && a->plen == b->plen &&
	    memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

static void
fz_canonical(const struct cidr *c)
{
	static const uint8_t zero[16];
	struct cidr m, first;
	int width;

	if (c->family != CIDR_V4 && c->family != CIDR_V6)
		abort();
	width = c->family == CIDR_V4 ? 32 : 128;
	if (c->plen < 0 || c->plen > width)
		abort();
	if (c->family == CIDR_V4 && memcmp(c->addr + 4, zero, 12) != 0)
		abort();
	cidr_mask(c, c->plen, &m);
	if (!fz_same(&m, c))
		abort();
	first = *c;
	first.plen = width;
	if (!cidr_contains(c, &first))
		abort();
}

static void
fz_roundtrip(const struct cidr *c, int addr_only)
{
	char text[128], err[256];
	struct cidr back;

	cidr_format(c, text, sizeof(text));
	if (cidr_parse(text, &back, err, sizeof(err)) < 0 ||
	    !fz_same(&back, c))
		abort();
	if (addr_only && (cidr_parse_addr(text, &back) < 0 ||
	    !fz_same(&back, c)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[FZ_TEXT_MAX + 1], err[256];
	struct cidr c, c2;
	int rc;

	if (size > FZ_TEXT_MAX)
		size = FZ_TEXT_MAX;
	memcpy(s, data, size);
	s[size] = '\0';

	memset(err, 0xa5, sizeof(err));
	rc = cidr_parse(s, &c, err, sizeof(err));
	if (cidr_parse(s, &c2, NULL, 0) != rc)
		abort();
	if (rc < 0 && memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	if (rc == 0) {
		fz_canonical(&c);
		if (!fz_same(&c, &c2))
			abort();
		fz_roundtrip(&c, 0);
	}
	if (cidr_parse_addr(s, &c) == 0) {
		fz_canonical(&c);
		if (c.plen != (c.family == CIDR_V4 ? 32 : 128))
			abort();
		fz_roundtrip(&c, 1);
	}
	return 0;
}
