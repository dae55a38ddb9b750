/*
 * spf - SPF (RFC 7208) for the MAIL FROM domain (the only libspf2 user)
 *
 * libspf2 evaluates the record; every DNS query it makes goes through
 * lists/resolver (a DNS layer of our own is plugged under libspf2), so it
 * shares the cache, the name server and the transaction's DNS budget. The
 * RFC 7208 limits are kept: at most 10 DNS-causing terms (libspf2), 10
 * MX and 10 PTR names, and at most 2 void lookups (here); exceeding one
 * is permerror. A DNS failure anywhere in the evaluation is temperror
 * (4.4: evaluation stops), whatever libspf2 would have made of it.
 *
 * Ownership: the outcome is a value. Threads: safe; each evaluation has
 * its own libspf2 objects. Errors: the result carries them (temperror,
 * permerror, with a detail).
 */
#ifndef AUP_SPF_H
#define AUP_SPF_H

#include <stdint.h>

#include "cidr.h"
#include "resolver.h"

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR
};

struct spf_outcome {
	enum spf_result result;
	char	domain[256];	/* the domain checked */
	char	detail[256];	/* why: libspf2's comment or our reason */
};

/*
 * check_host() for client, with sender the MAIL FROM mailbox
 * ("local@domain"; "" for the null sender: postmaster@helo) and helo the
 * HELO name (may be NULL). deadline_ms as resolver_lookup().
 * Always fills out.
 */
void	spf_check(struct resolver *res, int64_t deadline_ms,
	    const struct cidr *client, const char *helo, const char *sender,
	    struct spf_outcome *out);

/* "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" */
const char *spf_result_name(enum spf_result r);

#endif
