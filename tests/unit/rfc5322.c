/*
 * rfc5322 unit test - the address-header parser over real-world and
 * hostile values (policy/rfc5322.h)
 *
 * Each good case lists the mailboxes as "display|mailbox" (display empty
 * when there is none), joined with ";"; each bad case the error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc5322.h"
#include "strbuf.h"
#include "tap.h"

struct good {
	const char	*in;
	const char	*want;
	size_t		 ngroups;
};

static const struct good goods[] = {
	{ "alice@acme.example", "|alice@acme.example", 0 },
	{ "Alice <alice@acme.example>", "Alice|alice@acme.example", 0 },
	{ "\"Smith, John\" <j@ACME.Example>", "Smith, John|j@acme.example", 0 },
	{ "<bare@acme.example>", "|bare@acme.example", 0 },
	{ "alice@acme.example (Alice Liddell)", "|alice@acme.example", 0 },
	{ "(c) Alice (x(nested)y) <a@b.example>", "Alice|a@b.example", 0 },
	{ "John Q.  Public <jqp@x.example>", "John Q. Public|jqp@x.example", 0 },
	{ "a@x.example, B <b@y.example>,,", "|a@x.example;B|b@y.example", 0 },
	{ "undisclosed-recipients:;", "", 1 },
	{ "undisclosed-recipients:", "", 1 },
	{ "Team: a@x.example, B <b@x.example>;, c@y.example",
	    "|a@x.example;B|b@x.example;|c@y.example", 1 },
	{ "\"john doe\"@acme.example", "|\"john doe\"@acme.example", 0 },
	{ "john . doe @ acme . example", "|john.doe@acme.example", 0 },
	{ "<@relay.example,@r2.example:a@acme.example>", "|a@acme.example", 0 },
	{ "x@[192.0.2.1]", "|x@[192.0.2.1]", 0 },
	{ "Folded\r\n Name <f@acme.example>", "Folded Name|f@acme.example", 0 },
	{ "Folded\n\tName\n <f@acme.example>\n", "Folded Name|f@acme.example",
	    0 },
	{ "=?UTF-8?Q?Andr=C3=A9?= <andre@acme.example>",
	    "Andr\xc3\xa9|andre@acme.example", 0 },
	{ "=?utf-8?B?w6lsb2k=?= <e@acme.example>", "\xc3\xa9loi|e@acme.example",
	    0 },
	{ "=?ISO-8859-1?Q?Fran=E7ois?= <f@acme.example>",
	    "Fran\xc3\xa7ois|f@acme.example", 0 },
	{ "=?utf-8?q?a?= =?utf-8?q?b?= <ab@acme.example>", "ab|ab@acme.example",
	    0 },
	{ "=?utf-8*fr?q?Z=C3=A9?= <z@acme.example>", "Z\xc3\xa9|z@acme.example",
	    0 },
	{ "\"=?utf-8?q?support=40bank.example?=\" <x@acme.example>",
	    "support@bank.example|x@acme.example", 0 },
	{ "=?utf-8?q?support=40bank.example?= <x@acme.example>",
	    "support@bank.example|x@acme.example", 0 },
	{ "=?x-unknown?q?raw?= <r@acme.example>",
	    "=?x-unknown?q?raw?=|r@acme.example", 0 },
	{ "=?windows-1252?q?=80?= <w@acme.example>",
	    "\xe2\x82\xac|w@acme.example", 0 },
	{ "\"support@bank.example\" <x@customer.example>",
	    "support@bank.example|x@customer.example", 0 },
	{ "J\xc3\xb6rg <j@b\xc3\xbc" "cher.example>",
	    "J\xc3\xb6rg|j@b\xc3\xbc" "cher.example", 0 },
	{ "\"quoted \\\"pair\\\"\" <q@acme.example>",
	    "quoted \"pair\"|q@acme.example", 0 },
	{ "Mr. Smith <s@acme.example>", "Mr. Smith|s@acme.example", 0 },
};

struct bad {
	const char	*in;
	enum rfc5322_err want;
};

static const struct bad bads[] = {
	{ "", RFC5322_EMPTY },
	{ "   ", RFC5322_EMPTY },
	{ ",,", RFC5322_EMPTY },
	{ "alice", RFC5322_NO_AT },
	{ "Alice Liddell", RFC5322_NO_ADDRESS },
	{ "Alice <alice>", RFC5322_NO_AT },
	{ "Alice <alice@acme.example", RFC5322_ANGLE },
	{ "alice@acme.example>", RFC5322_ANGLE },
	{ "Alice <<alice@acme.example>>", RFC5322_JUNK },
	{ "\"unterminated <a@acme.example>", RFC5322_QUOTE },
	{ "(unterminated a@acme.example", RFC5322_COMMENT },
	{ "a@acme.example)", RFC5322_COMMENT },
	{ "a..b@acme.example", RFC5322_LOCAL },
	{ ".a@acme.example", RFC5322_LOCAL },
	{ "a.@acme.example", RFC5322_LOCAL },
	{ "John Smith@acme.example", RFC5322_LOCAL },
	{ "a@", RFC5322_DOMAIN },
	{ "a@acme..example", RFC5322_DOMAIN },
	{ "a@acme.example.", RFC5322_DOMAIN },
	{ "a@-x!y.example", RFC5322_DOMAIN },
	{ "a@[192.0.2.1", RFC5322_LITERAL },
	{ "a@acme.example b@acme.example", RFC5322_JUNK },
	{ "G: a@x.example, H: b@y.example;;", RFC5322_GROUP },
	{ "a@acme.example\r\nBcc: x@evil.example", RFC5322_NUL },
	{ "a@x.example;", RFC5322_JUNK },
	{ "@acme.example", RFC5322_LOCAL },
};

/* The input with CR, LF, TAB shown as escapes (TAP names are one line). */
static const char *
shown(const char *in)
{
	static char buf[256];
	size_t o = 0;

	for (; *in != '\0' && o + 3 < sizeof(buf); in++) {
		const char *esc = *in == '\r' ? "\\r" : *in == '\n' ? "\\n" :
		    *in == '\t' ? "\\t" : NULL;

		if (esc != NULL) {
			memcpy(buf + o, esc, 2);
			o += 2;
		} else
			buf[o++] = *in;
	}
	buf[o] = '\0';
	return buf;
}

static void
test_good(const struct good *g)
{
	struct rfc5322_list l;
	struct strbuf sb;
	enum rfc5322_err e;
	size_t pos;

	e = rfc5322_parse(g->in, strlen(g->in), 10, &l, &pos);
	strbuf_init(&sb, 64);
	for (size_t i = 0; i < l.n; i++)
		strbuf_addf(&sb, "%s%s|%s", i > 0 ? ";" : "",
		    l.v[i].display != NULL ? l.v[i].display : "",
		    l.v[i].mailbox);
	if (!is_int(e, RFC5322_OK, "parses: %s", shown(g->in)))
		diag("error %s at %zu", rfc5322_strerror(e), pos);
	is_str(sb.s, g->want, "mailboxes of %s", shown(g->in));
	is_int((long long)l.ngroups, (long long)g->ngroups, "groups of %s",
	    shown(g->in));
	strbuf_free(&sb);
	rfc5322_list_free(&l);
}

static void
test_bounds(void)
{
	struct rfc5322_list l;
	struct strbuf sb;
	char *big;
	size_t pos;

	strbuf_init(&sb, 4096);
	for (int i = 0; i < 101; i++)
		strbuf_addf(&sb, "%sa%d@acme.example", i ? "," : "", i);
	is_int(rfc5322_parse(sb.s, sb.len, 100, &l, &pos), RFC5322_TOO_MANY,
	    "101 addresses with a cap of 100");
	is_int((long long)l.n, 100, "the first 100 are kept");
	rfc5322_list_free(&l);
	is_int(rfc5322_parse(sb.s, sb.len, 101, &l, &pos), RFC5322_OK,
	    "101 addresses with a cap of 101");
	rfc5322_list_free(&l);
	strbuf_free(&sb);
	big = malloc(RFC5322_INPUT_MAX + 1);
	memset(big, 'a', RFC5322_INPUT_MAX + 1);
	is_int(rfc5322_parse(big, RFC5322_INPUT_MAX + 1, 10, &l, &pos),
	    RFC5322_TOO_LONG, "input over the limit");
	rfc5322_list_free(&l);
	memset(big, '(', 100);
	is_int(rfc5322_parse(big, 100, 10, &l, &pos), RFC5322_COMMENT,
	    "comments nested 100 deep");
	free(big);
	is_int(rfc5322_parse("a\0@x.example", 12, 10, &l, &pos), RFC5322_NUL,
	    "a NUL byte");
	is_int((long long)pos, 1, "NUL: offset");
	rfc5322_list_free(&l);
	{
		char local[80];

		memset(local, 'l', 65);
		strcpy(local + 65, "@x.example");
		is_int(rfc5322_parse(local, strlen(local), 10, &l, &pos),
		    RFC5322_LOCAL, "65-octet local part");
		rfc5322_list_free(&l);
	}
}

static void
test_decode_text(void)
{
	const char *in = "Re: =?utf-8?q?caf=C3=A9?=\n =?utf-8?q?_au_lait?= now";
	char *s = rfc5322_decode_text(in, strlen(in));

	is_str(s, "Re: caf\xc3\xa9 au lait now", "decode_text: subject");
	free(s);
	s = rfc5322_decode_text("=?utf-8?b?AGE=?=", 16);
	is_str(s, "a", "decode_text: NUL octets dropped");
	free(s);
	s = rfc5322_decode_text("=?utf-8?q?bad=zz?=", 18);
	is_str(s, "=?utf-8?q?bad=zz?=", "decode_text: a bad word stays raw");
	free(s);
}

int
main(void)
{
	size_t ng = sizeof(goods) / sizeof(goods[0]);
	size_t nb = sizeof(bads) / sizeof(bads[0]);

	plan((int)(ng * 3 + nb + 8 + 3));
	for (size_t i = 0; i < ng; i++)
		test_good(&goods[i]);
	for (size_t i = 0; i < nb; i++) {
		struct rfc5322_list l;
		size_t pos;
		enum rfc5322_err e = rfc5322_parse(bads[i].in,
		    strlen(bads[i].in), 10, &l, &pos);

		if (!is_int(e, bads[i].want, "refused: %s (%s)", shown(bads[i].in),
		    rfc5322_strerror(bads[i].want)))
			diag("got %s at %zu", rfc5322_strerror(e), pos);
		rfc5322_list_free(&l);
	}
	test_bounds();
	test_decode_text();
	return tap_done();
}
