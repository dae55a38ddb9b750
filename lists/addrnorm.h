/*
 * addrnorm - one recipient, however it is spelled: address normalisation
 *
 * The form in which opt-out lists store and compare addresses. An address
 * "local@domain" becomes:
 *
 *   domain  lower case, trailing dot cut, and in IDNA A-label form
 *           (UTS #46 non-transitional mapping, NFC): "Bücher.Example",
 *           "bücher.example" and "xn--bcher-kva.example" are one domain.
 *           An A-label that does not decode is an error, not a new name.
 *   local   exact by default (RFC 5321 2.4: only the receiving host may
 *           interpret it); a quoted local part whose content is a plain
 *           dot-atom loses its quotes ("john"@x is john@x). Per-domain
 *           rules may fold its ASCII case, cut a sub-address ("user+tag"
 *           is "user") and drop dots (Gmail).
 *
 * Rules come from the list file named by the config key AddressRules.
 * Format: one rule per line, "DOMAIN OPTION...", '#' starts a comment:
 *
 *   gmail.com       casefold subaddress=+ nodots
 *   .example.org    casefold         # example.org and every subdomain
 *   *               casefold         # every domain without its own rule
 *
 * DOMAIN is a domain (U-labels allowed), ".domain" for the domain and its
 * subdomains, or "*". The most specific rule wins: the exact domain, then
 * the nearest ".parent", then "*"; without one the local part is exact.
 * Options: casefold (ASCII letters of the local part compare without
 * case), subaddress=CHARS (the local part ends before the first of CHARS
 * that is not its first byte), nodots (dots of the local part are
 * ignored), exact (none of these; overrides "*").
 * Errors in the file are "FILE:LINE: reason"; the first one fails the load.
 *
 * Ownership: addrnorm_rules_load() returns rules freed by
 * addrnorm_rules_free() (NULL is a no-op); NULL rules mean "no rules".
 * Threads: loaded rules are immutable and may be shared; the functions are
 * reentrant. This is the only file that uses libidn2.
 * Errors: 0 / -1 with the reason in err.
 */
#ifndef AUP_ADDRNORM_H
#define AUP_ADDRNORM_H

#include <stddef.h>

#define ADDRNORM_MAX	512	/* buffer size for a normalised address */
#define ADDRNORM_LOCAL_MAX 64	/* RFC 5321 4.5.3.1.1 */
#define ADDRNORM_DOMAIN_MAX 254	/* 253 and the NUL */

#define ADDRNORM_CASEFOLD	0x1
#define ADDRNORM_NODOTS		0x2

struct addrnorm_rules;

/* Load the rules file path; NULL with "path:line: reason" in err. */
struct addrnorm_rules *addrnorm_rules_load(const char *path, char *err,
	    size_t errlen);
void	addrnorm_rules_free(struct addrnorm_rules *r);
/* Number of rules (0 for NULL). */
size_t	addrnorm_rules_count(const struct addrnorm_rules *r);

/*
 * Normalise the domain in (U- or A-labels, any case, optional trailing
 * dot) into out (ADDRNORM_DOMAIN_MAX bytes): 0, or -1 with the reason.
 */
int	addrnorm_domain(const char *in, char *out, size_t outlen, char *err,
	    size_t errlen);

/*
 * Normalise the address in ("local@domain", optionally in angle brackets
 * and surrounded by white space) into out (ADDRNORM_MAX bytes) with the
 * rules r (may be NULL). 0, or -1 with the reason (no '@', empty or
 * over-long parts, control characters, invalid UTF-8, a bad domain).
 */
int	addrnorm_address(const struct addrnorm_rules *r, const char *in,
	    char *out, size_t outlen, char *err, size_t errlen);

#endif
