/*
 * rfc5321 - the RFC 5321 reverse-path parser (see rfc5321.h)
 *
 * A recursive-descent scanner over a bounded buffer: each production is a
 * function that advances a cursor or records the error and where it is.
 * Nothing is allocated. Threads: pure.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "rfc5321.h"
#include "strcopy.h"

struct scan {
	const unsigned char *s;
	size_t		 len, pos;
	unsigned	 flags;
	int		 utf8;		/* saw non-ASCII */
	enum rfc5321_err err;
	size_t		 errpos;
};

static int
fail(struct scan *sc, enum rfc5321_err e)
{
	if (sc->err == RFC5321_OK) {
		sc->err = e;
		sc->errpos = sc->pos;
	}
	return -1;
}

/*
 * Length of the well-formed UTF-8 sequence at the cursor (2..4), or 0
 * with the error set (RFC 3629: no overlongs, surrogates or > U+10FFFF).
 */
static size_t
utf8_len(struct scan *sc)
{
	const unsigned char *p = sc->s + sc->pos;
	size_t left = sc->len - sc->pos, n;
	unsigned c = p[0], min;
	unsigned long cp;

	if (!(sc->flags & RFC5321_SMTPUTF8))
		return fail(sc, RFC5321_UTF8), 0;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07, min = 0x10000;
	else
		return fail(sc, RFC5321_BAD_UTF8), 0;
	if (left < n)
		return fail(sc, RFC5321_BAD_UTF8), 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return fail(sc, RFC5321_BAD_UTF8), 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return fail(sc, RFC5321_BAD_UTF8), 0;
	sc->utf8 = 1;
	return n;
}

static int
is_atext(unsigned c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", (int)c)
	    != NULL);
}

/* Dot-string: atoms of atext (or UTF-8) separated by single dots. */
static int
scan_dot_string(struct scan *sc)
{
	size_t atom = 0;

	while (sc->pos < sc->len) {
		unsigned c = sc->s[sc->pos];
		size_t n;

		if (c == '.') {
			if (atom == 0)
				return fail(sc, RFC5321_LOCAL);
			atom = 0;
			sc->pos++;
		} else if (c < 0x80 && is_atext(c)) {
			atom++;
			sc->pos++;
		} else if (c >= 0x80) {
			if ((n = utf8_len(sc)) == 0)
				return -1;
			atom++;
			sc->pos += n;
		} else
			break;
	}
	if (atom == 0)
		return fail(sc, RFC5321_LOCAL);
	return 0;
}

/* Quoted-string: qtextSMTP (32-33, 35-91, 93-126) or "\" 32-126. */
static int
scan_quoted(struct scan *sc)
{
	sc->pos++;	/* the opening quote */
	while (sc->pos < sc->len) {
		unsigned c = sc->s[sc->pos];
		size_t n;

		if (c == '"') {
			sc->pos++;
			return 0;
		}
		if (c == '\\') {
			sc->pos++;
			if (sc->pos >= sc->len || sc->s[sc->pos] < 32 ||
			    sc->s[sc->pos] > 126)
				return fail(sc, RFC5321_LOCAL);
			sc->pos++;
		} else if (c >= 32 && c <= 126)
			sc->pos++;
		else if (c >= 0x80) {
			if ((n = utf8_len(sc)) == 0)
				return -1;
			sc->pos += n;
		} else
			return fail(sc, RFC5321_LOCAL);
	}
	return fail(sc, RFC5321_LOCAL);
}

/*
 * Domain: sub-domains of Let-dig [Ldh-str] (no leading or trailing
 * hyphen, 1..63 octets), or U-labels under SMTPUTF8. Stops at the first
 * byte that cannot continue it.
 */
static int
scan_domain(struct scan *sc)
{
	size_t start = sc->pos, label = 0;
	unsigned prev = 0;

	while (sc->pos < sc->len) {
		unsigned c = sc->s[sc->pos];
		size_t n = 1;

		if (c == '.') {
			if (label == 0 || prev == '-')
				return fail(sc, RFC5321_DOMAIN);
			label = 0;
		} else if (isalnum(c) && c < 0x80) {
			label++;
		} else if (c == '-') {
			if (label == 0)
				return fail(sc, RFC5321_DOMAIN);
			label++;
		} else if (c >= 0x80) {
			if ((n = utf8_len(sc)) == 0)
				return -1;
			label += n;
		} else
			break;
		if (label > 63)
			return fail(sc, RFC5321_DOMAIN);
		prev = c;
		sc->pos += n;
	}
	if (label == 0 || prev == '-')
		return fail(sc, RFC5321_DOMAIN);
	if (sc->pos - start > RFC5321_DOMAIN_MAX) {
		sc->pos = start;
		return fail(sc, RFC5321_DOMAIN_LONG);
	}
	return 0;
}

/* "[1.2.3.4]", "[IPv6:...]" or "[tag:dcontent]". */
static int
scan_literal(struct scan *sc)
{
	size_t start = ++sc->pos, end = start, colon = 0;
	char buf[64];
	unsigned char addr[16];

	while (end < sc->len && sc->s[end] != ']') {
		unsigned c = sc->s[end];

		if (c == ':' && colon == 0)
			colon = end;
		else if (c < 33 || c > 126 || c == '[' || c == '\\')
			return sc->pos = end, fail(sc, RFC5321_LITERAL);
		end++;
	}
	if (end >= sc->len || end == start || end - start >= sizeof(buf))
		return fail(sc, RFC5321_LITERAL);
	memcpy(buf, sc->s + start, end - start);
	buf[end - start] = '\0';
	if (colon == 0) {
		if (inet_pton(AF_INET, buf, addr) != 1)
			return fail(sc, RFC5321_LITERAL);
	} else if (strncasecmp(buf, "IPv6:", 5) == 0) {
		if (inet_pton(AF_INET6, buf + 5, addr) != 1)
			return fail(sc, RFC5321_LITERAL);
	} else {
		/* Standardized-tag = Ldh-str: letters, digits, hyphens. */
		for (size_t i = start; i < colon; i++)
			if (!isalnum(sc->s[i]) && sc->s[i] != '-')
				return sc->pos = i, fail(sc, RFC5321_LITERAL);
		if (colon == start || colon + 1 == end)
			return fail(sc, RFC5321_LITERAL);
	}
	sc->pos = end + 1;
	return 0;
}

/* A-d-l ":" - each At-domain must be a domain; the route is dropped. */
static int
scan_route(struct scan *sc)
{
	for (;;) {
		if (sc->pos >= sc->len || sc->s[sc->pos] != '@')
			return fail(sc, RFC5321_ROUTE);
		sc->pos++;
		if (scan_domain(sc) < 0) {
			sc->err = RFC5321_ROUTE;
			return -1;
		}
		if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
			sc->pos++;
			continue;
		}
		if (sc->pos < sc->len && sc->s[sc->pos] == ':') {
			sc->pos++;
			return 0;
		}
		return fail(sc, RFC5321_ROUTE);
	}
}

static void
copy_lower(char *dst, const unsigned char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)(src[i] < 0x80 ? tolower(src[i]) : src[i]);
	dst[n] = '\0';
}

/* Mailbox = Local-part "@" ( Domain / address-literal ), into p. */
static int
scan_mailbox(struct scan *sc, struct rfc5321_path *p)
{
	size_t lstart = sc->pos, dstart;

	if (sc->pos < sc->len && sc->s[sc->pos] == '"') {
		if (scan_quoted(sc) < 0)
			return -1;
	} else if (scan_dot_string(sc) < 0)
		return -1;
	if (sc->pos - lstart > RFC5321_LOCAL_MAX) {
		sc->pos = lstart;
		return fail(sc, RFC5321_LOCAL_LONG);
	}
	if (sc->pos >= sc->len || sc->s[sc->pos] != '@')
		return fail(sc, sc->pos >= sc->len ? RFC5321_NO_AT :
		    RFC5321_LOCAL);
	memcpy(p->local, sc->s + lstart, sc->pos - lstart);
	p->local[sc->pos - lstart] = '\0';
	dstart = ++sc->pos;
	if (sc->pos < sc->len && sc->s[sc->pos] == '[') {
		p->literal = 1;
		if (scan_literal(sc) < 0)
			return -1;
		if (sc->pos - dstart > RFC5321_DOMAIN_MAX)
			return sc->pos = dstart, fail(sc, RFC5321_DOMAIN_LONG);
	} else if (scan_domain(sc) < 0)
		return -1;
	copy_lower(p->domain, sc->s + dstart, sc->pos - dstart);
	return 0;
}

enum rfc5321_err
rfc5321_parse(const char *s, size_t len, unsigned flags,
    struct rfc5321_path *p, size_t *errpos)
{
	struct scan sc = { (const unsigned char *)s, len, 0, flags, 0,
	    RFC5321_OK, 0 };
	size_t end = len;

	memset(p, 0, sizeof(*p));
	if (len == 0)
		return RFC5321_EMPTY;
	if (sc.s[0] == '<') {
		if (sc.s[len - 1] != '>' || len < 2) {
			sc.pos = len - 1;
			fail(&sc, RFC5321_BRACKETS);
			goto out;
		}
		sc.pos = 1;
		end = len - 1;
	} else if (sc.s[len - 1] == '>') {
		sc.pos = len - 1;
		fail(&sc, RFC5321_BRACKETS);
		goto out;
	} else
		p->bare = 1;
	if (len + (p->bare ? 2 : 0) > RFC5321_PATH_MAX) {
		/* The first octet past the limit (a bare path's brackets count). */
		sc.pos = RFC5321_PATH_MAX - (p->bare ? 2 : 0);
		fail(&sc, RFC5321_PATH_LONG);
		goto out;
	}
	if (!p->bare && end == 1) {
		p->null = 1;
		return RFC5321_OK;
	}
	sc.len = end;
	if (sc.s[sc.pos] == '@') {
		if (scan_route(&sc) < 0)
			goto out;
		p->routed = 1;
	}
	if (scan_mailbox(&sc, p) < 0)
		goto out;
	if (sc.pos != end) {
		fail(&sc, RFC5321_TRAILING);
		goto out;
	}
	p->utf8 = sc.utf8;
	strcopy2(p->mailbox, sizeof(p->mailbox), p->local, '@', p->domain);
	return RFC5321_OK;
out:
	if (errpos != NULL)
		*errpos = sc.errpos;
	memset(p, 0, sizeof(*p));
	return sc.err;
}

const char *
rfc5321_strerror(enum rfc5321_err e)
{
	static const char *const msgs[] = {
		[RFC5321_OK] = "valid",
		[RFC5321_EMPTY] = "empty path",
		[RFC5321_BRACKETS] = "unbalanced angle brackets",
		[RFC5321_ROUTE] = "bad source route",
		[RFC5321_NO_AT] = "no @domain",
		[RFC5321_LOCAL] = "bad local part",
		[RFC5321_LOCAL_LONG] = "local part longer than 64 octets",
		[RFC5321_DOMAIN] = "bad domain",
		[RFC5321_DOMAIN_LONG] = "domain longer than 255 octets",
		[RFC5321_LITERAL] = "bad address literal",
		[RFC5321_PATH_LONG] = "path longer than 256 octets",
		[RFC5321_UTF8] = "non-ASCII address without SMTPUTF8",
		[RFC5321_BAD_UTF8] = "ill-formed UTF-8",
		[RFC5321_TRAILING] = "unexpected characters after the address",
	};

	return (unsigned)e < sizeof(msgs) / sizeof(msgs[0]) ? msgs[e] :
	    "unknown error";
}
