/*
 * cidr.t - unit tests of lists/cidr.c
 *
 * Table-driven: parse (valid with canonical text, invalid with the reason
 * it must give), contains, mask, format and IPv4-mapped folding.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "tap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char	*in;
	int		 family;
	int		 plen;
	const char	*text;		/* cidr_format of the result */
} parse_ok[] = {
	{ "192.0.2.0/24", CIDR_V4, 24, "192.0.2.0/24" },
	{ "192.0.2.1", CIDR_V4, 32, "192.0.2.1" },
	{ "192.0.2.1/32", CIDR_V4, 32, "192.0.2.1" },
	{ "0.0.0.0/0", CIDR_V4, 0, "0.0.0.0/0" },
	{ "10.0.0.0/8", CIDR_V4, 8, "10.0.0.0/8" },
	{ "198.51.100.128/25", CIDR_V4, 25, "198.51.100.128/25" },
	{ "2001:db8::/32", CIDR_V6, 32, "2001:db8::/32" },
	{ "2001:DB8:0:0::/64", CIDR_V6, 64, "2001:db8::/64" },
	{ "2001:0db8:0000:0000:0000:0000:0000:0001", CIDR_V6, 128,
	    "2001:db8::1" },
	{ "::1", CIDR_V6, 128, "::1" },
	{ "::/0", CIDR_V6, 0, "::/0" },
	{ "fe80::/10", CIDR_V6, 10, "fe80::/10" },
	{ "::ffff:192.0.2.1", CIDR_V4, 32, "192.0.2.1" },
	{ "::ffff:192.0.2.0/120", CIDR_V4, 24, "192.0.2.0/24" },
	{ "::FFFF:c000:0201", CIDR_V4, 32, "192.0.2.1" },
	{ "::ffff:0:0/96", CIDR_V4, 0, "0.0.0.0/0" },
};

static const struct {
	const char	*in;
	const char	*reason;	/* a substring of the error */
} parse_bad[] = {
	{ "", "empty" },
	{ "1.2.3.4/", "missing prefix length" },
	{ "/24", "missing address" },
	{ "/", "missing address" },
	{ "1.2.3.4/33", "bad prefix length '33' for IPv4" },
	{ "::1/129", "bad prefix length '129' for IPv6" },
	{ " 1.2.3.4", "bad address" },
	{ "1.2.3.4 ", "bad address" },
	{ "1.2.3.0/24 ", "bad prefix length" },
	{ "1.2.3", "bad address" },
	{ "1.2.3.4.5", "bad address" },
	{ "256.1.1.1", "bad address" },
	{ "01.2.3.4", "bad address" },
	{ "1.2.3.0/+24", "bad prefix length" },
	{ "1.2.3.0/-24", "bad prefix length" },
	{ "1.2.3.0/024", "bad prefix length" },
	{ "1.2.3.0/00", "bad prefix length" },
	{ "1.2.3.0/24/24", "bad prefix length" },
	{ "1.2.3.0/2x", "bad prefix length" },
	{ "192.0.2.1/24", "host bits set" },
	{ "192.0.2.1/24", "the network is 192.0.2.0/24" },
	{ "2001:db8::1/32", "the network is 2001:db8::/32" },
	{ "::ffff:192.0.2.1/120", "the network is 192.0.2.0/24" },
	{ "2001:db8:::1", "bad address" },
	{ "fe80::1%eth0", "bad address" },
	{ "example.com", "bad address" },
	{ "1.2.3.4/99999999999999999999", "bad prefix length" },
	{ "::1/1288", "bad prefix length" },
};

static void
test_parse(void)
{
	char err[256], text[64];
	struct cidr c;
	size_t i;

	for (i = 0; i < NELEM(parse_ok); i++) {
		err[0] = '\0';
		if (!ok(cidr_parse(parse_ok[i].in, &c, err, sizeof(err)) == 0,
		    "parse '%s'", parse_ok[i].in)) {
			diag("error: %s", err);
			continue;
		}
		is_int(c.family, parse_ok[i].family, "  family");
		is_int(c.plen, parse_ok[i].plen, "  prefix length");
		cidr_format(&c, text, sizeof(text));
		is_str(text, parse_ok[i].text, "  canonical text");
	}
	for (i = 0; i < NELEM(parse_bad); i++) {
		err[0] = '\0';
		ok(cidr_parse(parse_bad[i].in, &c, err, sizeof(err)) == -1,
		    "refuse '%s'", parse_bad[i].in);
		if (!ok(strstr(err, parse_bad[i].reason) != NULL,
		    "  reason has '%s'", parse_bad[i].reason))
			diag("reason was: %s", err);
	}
	ok(cidr_parse("1.2.3.4/33", &c, NULL, 0) == -1, "NULL err is fine");
}

static void
test_parse_addr(void)
{
	static const struct {
		const char *in;
		int rc;
		const char *text;
	} t[] = {
		{ "192.0.2.7", 0, "192.0.2.7" },
		{ "2001:db8::7", 0, "2001:db8::7" },
		{ "::ffff:10.1.2.3", 0, "10.1.2.3" },
		{ "192.0.2.0/24", -1, NULL },
		{ "", -1, NULL },
		{ "localhost", -1, NULL },
	};
	char text[64];
	struct cidr c;

	for (size_t i = 0; i < NELEM(t); i++) {
		int rc = cidr_parse_addr(t[i].in, &c);

		is_int(rc, t[i].rc, "parse_addr '%s'", t[i].in);
		if (rc == 0) {
			cidr_format(&c, text, sizeof(text));
			is_str(text, t[i].text, "  text");
		}
	}
}

static void
test_contains(void)
{
	static const struct {
		const char *net, *addr;
		int want;
	} t[] = {
		{ "192.0.2.0/24", "192.0.2.0", 1 },
		{ "192.0.2.0/24", "192.0.2.255", 1 },
		{ "192.0.2.0/24", "192.0.3.0", 0 },
		{ "192.0.2.128/25", "192.0.2.127", 0 },
		{ "192.0.2.128/25", "192.0.2.200", 1 },
		{ "0.0.0.0/0", "203.0.113.9", 1 },
		{ "192.0.2.1", "192.0.2.1", 1 },
		{ "192.0.2.1", "192.0.2.2", 0 },
		{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
		{ "2001:db8::/32", "2001:db9::1", 0 },
		{ "2001:db8::/33", "2001:db8:8000::1", 0 },
		{ "::/0", "192.0.2.1", 0 },		/* families differ */
		{ "192.0.2.0/24", "::ffff:192.0.2.9", 1 },	/* folded */
		{ "192.0.2.0/24", "192.0.2.0/25", 1 },	/* a subnet */
		{ "192.0.2.0/25", "192.0.2.0/24", 0 },	/* a supernet */
	};
	struct cidr n, a;

	for (size_t i = 0; i < NELEM(t); i++) {
		if (cidr_parse(t[i].net, &n, NULL, 0) < 0 ||
		    cidr_parse(t[i].addr, &a, NULL, 0) < 0) {
			ok(0, "parse %s / %s", t[i].net, t[i].addr);
			continue;
		}
		is_int(cidr_contains(&n, &a), t[i].want, "%s contains %s",
		    t[i].net, t[i].addr);
	}
}

static void
test_mask(void)
{
	static const struct {
		const char *addr;
		int plen;
		const char *want;
	} t[] = {
		{ "192.0.2.255", 24, "192.0.2.0/24" },
		{ "192.0.2.255", 25, "192.0.2.128/25" },
		{ "192.0.2.255", 31, "192.0.2.254/31" },
		{ "192.0.2.255", 32, "192.0.2.255" },
		{ "192.0.2.255", 0, "0.0.0.0/0" },
		{ "192.0.2.255", 99, "192.0.2.255" },	/* clamped */
		{ "192.0.2.255", -5, "0.0.0.0/0" },	/* clamped */
		{ "2001:db8:abcd:ef01::1", 48, "2001:db8:abcd::/48" },
		{ "2001:db8:abcd:ef01::1", 52, "2001:db8:abcd:e000::/52" },
		{ "2001:db8:abcd:ef01::1", 127, "2001:db8:abcd:ef01::/127" },
		{ "2001:db8:abcd:ef01::1", 128, "2001:db8:abcd:ef01::1" },
	};
	struct cidr a, m;
	char text[64];

	for (size_t i = 0; i < NELEM(t); i++) {
		cidr_parse(t[i].addr, &a, NULL, 0);
		cidr_mask(&a, t[i].plen, &m);
		cidr_format(&m, text, sizeof(text));
		is_str(text, t[i].want, "mask %s to /%d", t[i].addr, t[i].plen);
	}
}

static void
test_sockaddr_and_format(void)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr sa;
	struct cidr c;
	char text[64];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "198.51.100.4", &sin.sin_addr);
	ok(cidr_from_sockaddr((struct sockaddr *)&sin, &c) == 0 &&
	    c.family == CIDR_V4 && c.plen == 32, "sockaddr_in");
	cidr_format(&c, text, sizeof(text));
	is_str(text, "198.51.100.4", "  text");

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:198.51.100.5", &sin6.sin6_addr);
	ok(cidr_from_sockaddr((struct sockaddr *)&sin6, &c) == 0 &&
	    c.family == CIDR_V4 && c.plen == 32, "mapped sockaddr_in6 folds");
	cidr_format(&c, text, sizeof(text));
	is_str(text, "198.51.100.5", "  text");
	is_int(cidr_addr_len(&c), 4, "  address length 4");

	inet_pton(AF_INET6, "2001:db8::5", &sin6.sin6_addr);
	ok(cidr_from_sockaddr((struct sockaddr *)&sin6, &c) == 0 &&
	    c.family == CIDR_V6 && c.plen == 128, "sockaddr_in6");
	is_int(cidr_addr_len(&c), 16, "  address length 16");

	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNIX;
	is_int(cidr_from_sockaddr(&sa, &c), -1, "AF_UNIX refused");
	is_int(cidr_from_sockaddr(NULL, &c), -1, "NULL refused");

	cidr_parse("2001:db8:1234:5678:9abc:def0:1234:5678", &c, NULL, 0);
	cidr_format(&c, text, 8);
	is_int((long long)strlen(text), 7, "format truncates to the buffer");
}

int
main(void)
{
	plan_no_plan();
	test_parse();
	test_parse_addr();
	test_contains();
	test_mask();
	test_sockaddr_and_format();
	return tap_done();
}
