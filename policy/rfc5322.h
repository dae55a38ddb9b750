/*
 * rfc5322 - address headers (From, Sender, Reply-To, To, Cc) as mail has them
 *
 * Parses an address-list (RFC 5322 3.4): mailboxes, name-addr and
 * addr-spec forms, groups ("undisclosed-recipients:;"), comments (nested,
 * with quoted pairs), quoted strings, folding (CR/LF followed by white
 * space), and the obsolete forms real mail still carries (obs-phrase with
 * dots, obs-local-part with CFWS around the dots, obs-route before the
 * addr-spec, empty list elements ",,"). UTF-8 (RFC 6532) is accepted in
 * atoms, quoted strings and domains. Display names are decoded: RFC 2047
 * encoded words (B and Q; UTF-8, US-ASCII and ISO-8859-1 natively, other
 * charsets through iconv; one that cannot be decoded is kept as written)
 * and quoted pairs, giving UTF-8 for checks and for the evidence.
 *
 * Pure and bounded: input up to RFC5322_INPUT_MAX bytes, at most max_addrs
 * addresses, comments nested at most RFC5322_NEST_MAX deep; no global
 * state. Errors carry the byte offset where parsing stopped.
 *
 * Ownership: rfc5322_parse() fills a list the caller releases with
 * rfc5322_list_free() (also after an error; a zeroed list is empty).
 * Threads: safe (iconv descriptors are per call).
 */
#ifndef AUP_RFC5322_H
#define AUP_RFC5322_H

#include <stddef.h>

#define RFC5322_INPUT_MAX	(256 * 1024)
#define RFC5322_NEST_MAX	16
#define RFC5322_LOCAL_MAX	64
#define RFC5322_DOMAIN_MAX	255

enum rfc5322_err {
	RFC5322_OK,
	RFC5322_EMPTY,		/* no address at all */
	RFC5322_TOO_LONG,	/* input over RFC5322_INPUT_MAX */
	RFC5322_TOO_MANY,	/* more than max_addrs addresses */
	RFC5322_NUL,		/* NUL or bare CR/LF not part of folding */
	RFC5322_COMMENT,	/* unterminated or too deeply nested comment */
	RFC5322_QUOTE,		/* unterminated quoted string */
	RFC5322_LITERAL,	/* bad or unterminated domain literal */
	RFC5322_ANGLE,		/* '<' without '>', or a stray '>' */
	RFC5322_NO_ADDRESS,	/* a phrase with no address after it */
	RFC5322_NO_AT,		/* an address without '@' */
	RFC5322_LOCAL,		/* bad local part */
	RFC5322_DOMAIN,		/* bad domain */
	RFC5322_GROUP,		/* nested or unterminated group */
	RFC5322_JUNK		/* unexpected character */
};

struct rfc5322_addr {
	char	*display;	/* decoded UTF-8; NULL when there is none */
	char	*local;		/* as written, without CFWS */
	char	*domain;	/* ASCII letters lower-cased; "[...]" literal */
	char	*mailbox;	/* local@domain */
	char	*group;		/* decoded group name; NULL outside a group */
	int	 literal;	/* the domain is an address literal */
};

struct rfc5322_list {
	struct rfc5322_addr *v;
	size_t	 n;		/* mailboxes */
	size_t	 ngroups;	/* groups, empty ones included */
};

/*
 * Parse s[0..len) (a header value, possibly folded) as an address-list.
 * max_addrs bounds the mailboxes (0: RFC5322_TOO_MANY at the first).
 * *pos (may be NULL) is set to the offset of an error. On error the list
 * holds what was parsed before it.
 */
enum rfc5322_err rfc5322_parse(const char *s, size_t len, size_t max_addrs,
	    struct rfc5322_list *out, size_t *pos);
void	rfc5322_list_free(struct rfc5322_list *l);
const char *rfc5322_strerror(enum rfc5322_err e);

/*
 * Decode unstructured text (a Subject, a display name already unquoted):
 * encoded words become UTF-8, whitespace between two encoded words is
 * dropped, folding is unfolded. Returns a new string.
 */
char	*rfc5322_decode_text(const char *s, size_t len);

#endif
