/*
 * cidr - IPv4/IPv6 addresses and networks (see cidr.h)
 *
 * Parsing is strict on purpose: a network list is security configuration,
 * so text that inet_pton would half-accept, a prefix with a sign, spaces or
 * leading zeros, or host bits beyond the prefix are refused with a reason
 * instead of being silently "fixed" into a different network.
 * Ownership: no allocation; callers own every buffer.
 * Threads: pure functions, safe.
 * Errors: -1 with a reason in err (when err is non-NULL).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "errbuf.h"

/* Longest address text we accept, with room for a mapped IPv4 tail. */
#define CIDR_ADDR_TEXT	64

static const uint8_t cidr_v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

int
cidr_addr_len(const struct cidr *c)
{
	return c->family == CIDR_V4 ? 4 : 16;
}

static int
cidr_width(int family)
{
	return family == CIDR_V4 ? 32 : 128;
}

/* Fold ::ffff:a.b.c.d (prefix >= 96) into the IPv4 network a.b.c.d. */
static void
cidr_fold_mapped(struct cidr *c)
{
	if (c->family != CIDR_V6 || c->plen < 96 ||
	    memcmp(c->addr, cidr_v4mapped, sizeof(cidr_v4mapped)) != 0)
		return;
	c->family = CIDR_V4;
	memmove(c->addr, c->addr + 12, 4);
	memset(c->addr + 4, 0, 12);
	c->plen -= 96;
}

/* Address text only: no '/', no spaces, dotted quad or IPv6. */
static int
cidr_pton(const char *s, size_t len, struct cidr *out)
{
	char buf[CIDR_ADDR_TEXT];

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(out, 0, sizeof(*out));
	if (memchr(buf, ':', len) != NULL) {
		if (inet_pton(AF_INET6, buf, out->addr) != 1)
			return -1;
		out->family = CIDR_V6;
		out->plen = 128;
	} else {
		if (inet_pton(AF_INET, buf, out->addr) != 1)
			return -1;
		out->family = CIDR_V4;
		out->plen = 32;
	}
	return 0;
}

int
cidr_parse_addr(const char *s, struct cidr *out)
{
	if (s == NULL || strchr(s, '/') != NULL)
		return -1;
	if (cidr_pton(s, strlen(s), out) < 0)
		return -1;
	cidr_fold_mapped(out);
	return 0;
}

/* Decimal 0..max, no sign, no leading zero (except "0" itself). */
static int
cidr_parse_plen(const char *s, int max)
{
	int v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	return v;
}

static int
cidr_host_bits_clear(const struct cidr *c)
{
	struct cidr m;

	cidr_mask(c, c->plen, &m);
	return memcmp(m.addr, c->addr, sizeof(m.addr)) == 0;
}

int
cidr_parse(const char *s, struct cidr *out, char *err, size_t errlen)
{
	char net[CIDR_ADDR_TEXT + 8];
	const char *slash;
	size_t alen;
	struct cidr m;
	int plen;

	if (s == NULL || *s == '\0')
		return errbuf_set(err, errlen, "empty network");
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen == 0)
		return errbuf_set(err, errlen, "missing address before '/'");
	if (slash != NULL && slash[1] == '\0')
		return errbuf_set(err, errlen, "missing prefix length after "
		    "'/'");
	if (cidr_pton(s, alen, out) < 0)
		return errbuf_set(err, errlen, "bad address '%.*s'",
		    (int)(alen > 64 ? 64 : alen), s);
	if (slash != NULL) {
		plen = cidr_parse_plen(slash + 1, cidr_width(out->family));
		if (plen < 0)
			return errbuf_set(err, errlen, "bad prefix length "
			    "'%.8s' for %s", slash + 1,
			    out->family == CIDR_V4 ? "IPv4" : "IPv6");
		out->plen = plen;
	}
	if (!cidr_host_bits_clear(out)) {
		cidr_mask(out, out->plen, &m);
		cidr_fold_mapped(&m);
		cidr_format(&m, net, sizeof(net));
		return errbuf_set(err, errlen, "host bits set beyond the "
		    "prefix in '%.80s' (the network is %s)", s, net);
	}
	cidr_fold_mapped(out);
	return 0;
}

int
cidr_from_sockaddr(const struct sockaddr *sa, struct cidr *out)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	if (sa == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(out->addr, &sin->sin_addr, 4);
		out->family = CIDR_V4;
		out->plen = 32;
		return 0;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(out->addr, &sin6->sin6_addr, 16);
		out->family = CIDR_V6;
		out->plen = 128;
		cidr_fold_mapped(out);
		return 0;
	default:
		return -1;
	}
}

int
cidr_contains(const struct cidr *net, const struct cidr *addr)
{
	struct cidr m;

	if (net->family != addr->family || addr->plen < net->plen)
		return 0;
	cidr_mask(addr, net->plen, &m);
	return memcmp(m.addr, net->addr, sizeof(m.addr)) == 0;
}

void
cidr_mask(const struct cidr *addr, int plen, struct cidr *out)
{
	int width = cidr_width(addr->family), i;

	if (plen < 0)
		plen = 0;
	if (plen > width)
		plen = width;
	*out = *addr;
	out->plen = plen;
	for (i = 0; i < 16; i++) {
		if (plen >= 8)
			plen -= 8;
		else {
			out->addr[i] &= (uint8_t)(0xff00u >> plen);
			plen = 0;
		}
	}
}

void
cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char text[INET6_ADDRSTRLEN];

	if (len == 0)
		return;
	if (inet_ntop(c->family == CIDR_V4 ? AF_INET : AF_INET6, c->addr,
	    text, sizeof(text)) == NULL) {
		snprintf(buf, len, "?");
		return;
	}
	if (c->plen == cidr_width(c->family))
		snprintf(buf, len, "%s", text);
	else
		snprintf(buf, len, "%s/%d", text, c->plen);
}
