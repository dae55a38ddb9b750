/*
 * spf.t - unit tests of policy/spf.c (libspf2 over our resolver)
 *
 * Against the loopback DNS server (tests/e2e/dns.sh): every result a
 * record can give, an include chain, the RFC 7208 limits (more than 10
 * DNS-causing terms, more than 2 void lookups), a DNS timeout inside the
 * evaluation (temperror), IPv6, and that every query went through our
 * resolver's cache.
 */
#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "dns_server.h"
#include "resolver.h"
#include "spf.h"
#include "tap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char	*client;
	const char	*sender;
	enum spf_result	 want;
	const char	*detail;	/* substring of the detail, or NULL */
} cases[] = {
	{ "127.0.0.1", "a@spf-pass.test", SPF_PASS, NULL },
	{ "::1", "a@spf-pass.test", SPF_PASS, NULL },
	{ "127.0.0.1", "a@spf-fail.test", SPF_FAIL, NULL },
	{ "192.0.2.1", "a@spf-fail.test", SPF_PASS, NULL },
	{ "127.0.0.1", "a@spf-softfail.test", SPF_SOFTFAIL, NULL },
	{ "127.0.0.1", "a@spf-neutral.test", SPF_NEUTRAL, NULL },
	{ "127.0.0.1", "a@mx.test", SPF_NONE, NULL },
	{ "127.0.0.1", "a@nx.test", SPF_NONE, NULL },
	{ "127.0.0.1", "a@spf-include.test", SPF_PASS, NULL },
	{ "192.0.2.9", "a@spf-include.test", SPF_FAIL, NULL },
	{ "127.0.0.1", "a@spf-toomany.test", SPF_PERMERROR, NULL },
	{ "127.0.0.1", "a@spf-void.test", SPF_PERMERROR, "void" },
	{ "127.0.0.1", "a@spf-permerror.test", SPF_PERMERROR, NULL },
	{ "127.0.0.1", "a@spf-temp.test", SPF_TEMPERROR, "slow.test" },
};

int
main(void)
{
	struct resolver_conf rc = { 0 };
	struct resolver *r;
	struct spf_outcome o;
	unsigned long sent, hits;
	char ns[64], err[256];
	int port, silent;

	dns_server_start(&port, &silent);
	snprintf(ns, sizeof(ns), "127.0.0.1:%d", port);
	rc.nameserver = ns;
	rc.timeout_ms = 500;
	rc.tries = 1;
	rc.cache_max = 1000;
	if ((r = resolver_new(&rc, err, sizeof(err))) == NULL)
		bail("%s", err);
	plan((int)NELEM(cases) * 2 + 4);
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct cidr c;

		if (cidr_parse_addr(cases[i].client, &c) < 0)
			bail("bad address %s", cases[i].client);
		spf_check(r, resolver_now_ms() + 5000, &c, "helo.test",
		    cases[i].sender, &o);
		is_str(spf_result_name(o.result),
		    spf_result_name(cases[i].want), "%s from %s (%s)",
		    cases[i].sender, cases[i].client, o.detail);
		ok(cases[i].detail == NULL ||
		    strstr(o.detail, cases[i].detail) != NULL,
		    "detail names the cause: %s", o.detail);
	}
	is_str(o.domain, "spf-temp.test", "outcome names the domain");
	resolver_stats(r, &sent, &hits);
	{
		struct cidr c;

		cidr_parse_addr("127.0.0.1", &c);
		spf_check(r, resolver_now_ms() + 5000, &c, "helo.test",
		    "a@spf-include.test", &o);
		resolver_stats(r, &sent, &hits);
		ok(hits >= 3, "libspf2's queries went through our cache "
		    "(%lu hits)", hits);
		spf_check(r, resolver_now_ms() - 1, &c, "helo.test",
		    "a@spf-fail.test", &o);
		is_str(spf_result_name(o.result), "fail",
		    "cached answers need no budget (%s)", o.detail);
		spf_check(r, resolver_now_ms() - 1, &c, "helo.test",
		    "a@spf-neutral-uncached.test", &o);
		is_str(spf_result_name(o.result), "temperror",
		    "budget used up: temperror (%s)", o.detail);
	}
	resolver_unref(r);
	return tap_done();
}
