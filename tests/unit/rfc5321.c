/*
 * rfc5321.t - unit tests of policy/rfc5321.c, the reverse-path parser
 *
 * Table-driven: valid paths with the mailbox and domain they give, and
 * invalid ones with the error and the offset it must name. Covers quoted
 * local parts, address literals, source routes, the 64/255/256 limits,
 * SMTPUTF8 and the null path.
 */
#include <stdio.h>
#include <string.h>

#include "rfc5321.h"
#include "tap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define U	RFC5321_SMTPUTF8

static const struct {
	const char	*in;
	unsigned	 flags;
	const char	*mailbox;	/* "" for <> */
	const char	*domain;
} good[] = {
	{ "<user@example.com>", 0, "user@example.com", "example.com" },
	{ "<User.Name+tag@Example.COM>", 0, "User.Name+tag@example.com",
	    "example.com" },
	{ "<>", 0, "", "" },
	{ "user@example.com", 0, "user@example.com", "example.com" },
	{ "<\"john doe\"@example.com>", 0, "\"john doe\"@example.com",
	    "example.com" },
	{ "<\"a\\\"b\"@example.com>", 0, "\"a\\\"b\"@example.com",
	    "example.com" },
	{ "<\"\"@example.com>", 0, "\"\"@example.com", "example.com" },
	{ "<!#$%&'*+-/=?^_`{|}~@example.com>", 0,
	    "!#$%&'*+-/=?^_`{|}~@example.com", "example.com" },
	{ "<@relay.example,@b.example:user@c.example>", 0,
	    "user@c.example", "c.example" },
	{ "<user@[192.0.2.1]>", 0, "user@[192.0.2.1]", "[192.0.2.1]" },
	{ "<user@[IPv6:2001:db8::1]>", 0, "user@[ipv6:2001:db8::1]",
	    "[ipv6:2001:db8::1]" },
	{ "<user@[x-tag:abc]>", 0, "user@[x-tag:abc]", "[x-tag:abc]" },
	{ "<user@a-b.example>", 0, "user@a-b.example", "a-b.example" },
	{ "<user@localhost>", 0, "user@localhost", "localhost" },
	{ "<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", U,
	    "j\xc3\xb6rg@b\xc3\xbc" "cher.example",
	    "b\xc3\xbc" "cher.example" },
	{ "<\"\xe2\x82\xac\"@example.com>", U, "\"\xe2\x82\xac\"@example.com",
	    "example.com" },
};

static const struct {
	const char	*in;
	unsigned	 flags;
	enum rfc5321_err err;
	size_t		 pos;
} bad[] = {
	{ "", 0, RFC5321_EMPTY, 0 },
	{ "<user@example.com", 0, RFC5321_BRACKETS, 16 },
	{ "user@example.com>", 0, RFC5321_BRACKETS, 16 },
	{ "<postmaster>", 0, RFC5321_NO_AT, 11 },
	{ "<a..b@example.com>", 0, RFC5321_LOCAL, 3 },
	{ "<.a@example.com>", 0, RFC5321_LOCAL, 1 },
	{ "<a.@example.com>", 0, RFC5321_LOCAL, 3 },
	{ "<a b@example.com>", 0, RFC5321_LOCAL, 2 },
	{ "<a(b)@example.com>", 0, RFC5321_LOCAL, 2 },
	{ "<\"a@example.com>", 0, RFC5321_LOCAL, 15 },
	{ "<\"a\tb\"@example.com>", 0, RFC5321_LOCAL, 3 },
	{ "<a@>", 0, RFC5321_DOMAIN, 3 },
	{ "<a@-example.com>", 0, RFC5321_DOMAIN, 3 },
	{ "<a@example-.com>", 0, RFC5321_DOMAIN, 11 },
	{ "<a@example..com>", 0, RFC5321_DOMAIN, 11 },
	{ "<a@example.com.>", 0, RFC5321_DOMAIN, 15 },
	{ "<a@exa_mple.com>", 0, RFC5321_TRAILING, 6 },
	{ "<a@[300.1.1.1]>", 0, RFC5321_LITERAL, 4 },
	{ "<a@[IPv6:1::2::3]>", 0, RFC5321_LITERAL, 4 },
	{ "<a@[192.0.2.1>", 0, RFC5321_LITERAL, 4 },
	{ "<a@[:x]>", 0, RFC5321_LITERAL, 4 },
	{ "<@relay.example:>", 0, RFC5321_LOCAL, 16 },
	{ "<@relay.example user@x.example>", 0, RFC5321_ROUTE, 15 },
	{ "<@:user@x.example>", 0, RFC5321_ROUTE, 2 },
	{ "<a@example.com> SIZE=10", 0, RFC5321_BRACKETS, 22 },
	{ "<a@example.com x>", 0, RFC5321_TRAILING, 14 },
	{ "<j\xc3\xb6rg@example.com>", 0, RFC5321_UTF8, 2 },
	{ "<jorg@b\xc3\xbc" "cher.example>", 0, RFC5321_UTF8, 7 },
	{ "<\xc0\xaf@example.com>", U, RFC5321_BAD_UTF8, 1 },
	{ "<\xed\xa0\x80@example.com>", U, RFC5321_BAD_UTF8, 1 },
	{ "<\xc3@example.com>", U, RFC5321_BAD_UTF8, 1 },
};

static void
test_limits(void)
{
	char buf[600], local[80], label[70];
	struct rfc5321_path p;
	size_t pos = 0;

	memset(local, 'a', 64);
	local[64] = '\0';
	snprintf(buf, sizeof(buf), "<%s@example.com>", local);
	is_int(rfc5321_parse(buf, strlen(buf), 0, &p, &pos), RFC5321_OK,
	    "local part of 64 octets");
	memset(local, 'a', 65);
	local[65] = '\0';
	snprintf(buf, sizeof(buf), "<%s@example.com>", local);
	is_int(rfc5321_parse(buf, strlen(buf), 0, &p, &pos),
	    RFC5321_LOCAL_LONG, "local part of 65 octets");
	memset(label, 'b', 63);
	label[63] = '\0';
	snprintf(buf, sizeof(buf), "<a@%s.%s.%s.ex>", label, label, label);
	is_int(rfc5321_parse(buf, strlen(buf), 0, &p, &pos), RFC5321_OK,
	    "domain of %zu octets, path of %zu", strlen(buf) - 4,
	    strlen(buf));
	snprintf(buf, sizeof(buf), "<%.60s@%s.%s.%s.ex>", local, label,
	    label, label);
	is_int(rfc5321_parse(buf, strlen(buf), 0, &p, &pos),
	    RFC5321_PATH_LONG, "path of %zu octets", strlen(buf));
	snprintf(buf, sizeof(buf), "%.60s@%s.%s.%s.ex", local, label, label,
	    label);
	is_int(rfc5321_parse(buf, strlen(buf), 0, &p, &pos),
	    RFC5321_PATH_LONG, "bare path counts its brackets too");
	memset(label, 'b', 64);
	label[64] = '\0';
	snprintf(buf, sizeof(buf), "<a@%s.ex>", label);
	is_int(rfc5321_parse(buf, strlen(buf), 0, &p, &pos), RFC5321_DOMAIN,
	    "label of 64 octets");
	is_int(rfc5321_parse("<a@b.example>", 13, 0, &p, NULL), RFC5321_OK,
	    "errpos may be NULL");
	is_int(rfc5321_parse("<a\0b@x.example>", 15, 0, &p, &pos),
	    RFC5321_LOCAL, "NUL inside the path");
}

int
main(void)
{
	struct rfc5321_path p;
	size_t pos;

	plan((int)(NELEM(good) * 2 + NELEM(bad) * 2 + 8 + 3));
	for (size_t i = 0; i < NELEM(good); i++) {
		enum rfc5321_err e = rfc5321_parse(good[i].in,
		    strlen(good[i].in), good[i].flags, &p, &pos);

		is_int(e, RFC5321_OK, "valid: %s (%s)", good[i].in,
		    rfc5321_strerror(e));
		ok(strcmp(p.mailbox, good[i].mailbox) == 0 &&
		    strcmp(p.domain, good[i].domain) == 0,
		    "  mailbox %s domain %s", p.mailbox, p.domain);
	}
	for (size_t i = 0; i < NELEM(bad); i++) {
		enum rfc5321_err e;

		pos = 999;
		e = rfc5321_parse(bad[i].in, strlen(bad[i].in), bad[i].flags,
		    &p, &pos);
		is_str(rfc5321_strerror(e), rfc5321_strerror(bad[i].err),
		    "invalid: %s", bad[i].in);
		ok(bad[i].err == RFC5321_EMPTY || pos == bad[i].pos,
		    "  at offset %zu (want %zu)", pos, bad[i].pos);
	}
	test_limits();
	rfc5321_parse("<>", 2, 0, &p, &pos);
	ok(p.null && p.mailbox[0] == '\0', "<> is the null path");
	rfc5321_parse("<@a.example:u@b.example>", 24, 0, &p, &pos);
	ok(p.routed && !p.bare, "source route noted, then ignored");
	rfc5321_parse("u@b.example", 11, 0, &p, &pos);
	ok(p.bare, "a path without brackets is noted as bare");
	return tap_done();
}
