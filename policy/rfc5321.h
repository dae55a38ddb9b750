/*
 * rfc5321 - the RFC 5321 reverse-path parser (MAIL FROM)
 *
 * A strict parser of the project's own for the return address:
 *
 *   Reverse-path = Path / "<>"
 *   Path         = "<" [ A-d-l ":" ] Mailbox ">"
 *   A-d-l        = At-domain *( "," At-domain )   ; source route: checked,
 *                                                 ; then ignored (4.1.1.3)
 *   Mailbox      = Local-part "@" ( Domain / address-literal )
 *   Local-part   = Dot-string / Quoted-string
 *
 * Limits of 4.5.3.1: local part 64 octets, domain 255, path 256 (with its
 * punctuation). With RFC5321_SMTPUTF8 (the client gave the SMTPUTF8
 * parameter, RFC 6531) atext, qtext and domain labels may also hold
 * well-formed UTF-8; without it any octet above 127 is an error. The
 * angle brackets may be missing (Postfix passes a bare address when the
 * client sent one and strict_rfc821_envelopes is off); the result says so.
 *
 * Ownership: the result is a value filled by the caller's struct.
 * Threads: pure. Errors: an enum with rfc5321_strerror() and the offset
 * of the first bad byte.
 */
#ifndef AUP_RFC5321_H
#define AUP_RFC5321_H

#include <stddef.h>

#define RFC5321_LOCAL_MAX	64
#define RFC5321_DOMAIN_MAX	255
#define RFC5321_PATH_MAX	256

#define RFC5321_SMTPUTF8	0x1	/* flags: UTF-8 allowed */

enum rfc5321_err {
	RFC5321_OK,
	RFC5321_EMPTY,		/* nothing at all */
	RFC5321_BRACKETS,	/* "<" without ">" or the reverse */
	RFC5321_ROUTE,		/* bad source route */
	RFC5321_NO_AT,		/* no "@domain" */
	RFC5321_LOCAL,		/* bad local part */
	RFC5321_LOCAL_LONG,	/* local part over 64 octets */
	RFC5321_DOMAIN,		/* bad domain */
	RFC5321_DOMAIN_LONG,	/* domain over 255 octets */
	RFC5321_LITERAL,	/* bad address literal */
	RFC5321_PATH_LONG,	/* path over 256 octets */
	RFC5321_UTF8,		/* non-ASCII without SMTPUTF8 */
	RFC5321_BAD_UTF8,	/* ill-formed UTF-8 */
	RFC5321_TRAILING	/* bytes after the path */
};

struct rfc5321_path {
	int	null;		/* "<>" */
	int	bare;		/* given without angle brackets */
	int	literal;	/* domain is an address literal "[...]" */
	int	utf8;		/* non-ASCII octets in the mailbox */
	int	routed;		/* a source route was given (and ignored) */
	char	local[RFC5321_LOCAL_MAX + 1];	/* as written */
	char	domain[RFC5321_DOMAIN_MAX + 1];	/* ASCII lower-cased */
	char	mailbox[RFC5321_LOCAL_MAX + RFC5321_DOMAIN_MAX + 2]; /* l@d */
};

/*
 * Parse s[0..len) (the path as the MTA passed it, NUL not allowed).
 * On success fills p; on failure *errpos (if not NULL) is the offset of
 * the first offending byte.
 */
enum rfc5321_err rfc5321_parse(const char *s, size_t len, unsigned flags,
	    struct rfc5321_path *p, size_t *errpos);

/* "local part longer than 64 octets", ... */
const char *rfc5321_strerror(enum rfc5321_err e);

#endif
