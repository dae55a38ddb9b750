/*
 * addrnorm - address normalisation and the AddressRules file (see
 * addrnorm.h)
 *
 * The only user of libidn2. ASCII domains without an "xn--" label take a
 * fast path (lower-case, LDH check), as a million-line import must not
 * pay for IDNA; everything else goes through idn2_to_ascii_8z() with NFC
 * input and UTS #46 non-transitional processing, which also lower-cases
 * and rejects A-labels that do not decode.
 *
 * Rules are kept in an array sorted by key ("example.com" for a domain,
 * ".example.com" for a subtree, "*"), searched with bsearch(3).
 * Ownership: the rules own their keys; out buffers belong to the caller.
 * Threads: reentrant; rules are read-only once loaded.
 * Errors: 0 / -1 with a sentence in err.
 */
#include <ctype.h>
#include <errno.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrnorm.h"
#include "errbuf.h"
#include "xalloc.h"

#define AN_LINE_MAX	1024
#define AN_SUBADDR_MAX	8

struct an_rule {
	char		*key;			/* "d", ".d" or "*" */
	unsigned	 flags;			/* ADDRNORM_* */
	char		 subaddr[AN_SUBADDR_MAX + 1];	/* separators */
};

struct addrnorm_rules {
	struct an_rule	*v;
	size_t		 n;
};

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
an_utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* 1 if s[0..n) is valid UTF-8 with no controls (C0, DEL). */
static int
an_clean_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 0;
		if ((k = an_utf8_len(p + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* LDH labels (underscore tolerated), none empty or over 63. */
static int
an_ldh(const char *d)
{
	size_t label = 0;

	for (const char *p = d;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || label > 63 || p[-1] == '-' ||
			    p[-label] == '-')
				return 0;
			if (*p == '\0')
				return 1;
			label = 0;
		} else if (isalnum((unsigned char)*p) || *p == '-' ||
		    *p == '_')
			label++;
		else
			return 0;
	}
}

/*
 * The common case in one pass: in[0..n) plain ASCII, lower-cased into buf
 * (NUL-terminated) and *ldh set as an_ldh() would say. 1 done; 0 when the
 * slow path must run (a byte above 0x7f, or "xn--" anywhere: an A-label
 * that libidn2 must check); -1 for a control character (an error on
 * either path).
 */
static int
an_ascii(const char *in, size_t n, char *buf, int *ldh)
{
	size_t label = 0;
	int xn = 0;

	*ldh = 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_') {
			buf[i] = (char)c;
			label++;
		} else if (c >= 'A' && c <= 'Z') {
			buf[i] = (char)(c - 'A' + 'a');
			label++;
		} else if (c == '-') {
			buf[i] = '-';
			if (label++ == 0)	/* a label starts with '-' */
				*ldh = 0;
			if (i >= 3 && buf[i - 1] == '-' && buf[i - 2] == 'n' &&
			    buf[i - 3] == 'x')
				xn = 1;
		} else if (c == '.') {
			buf[i] = '.';
			if (label == 0 || label > 63 || buf[i - 1] == '-')
				*ldh = 0;
			label = 0;
		} else if (c >= 0x80)
			return 0;
		else if (c < 0x20 || c == 0x7f)
			return -1;
		else {			/* other printable ASCII */
			buf[i] = (char)c;
			*ldh = 0;
			label++;
		}
	}
	buf[n] = '\0';
	if (label == 0 || label > 63 || buf[n - 1] == '-')
		*ldh = 0;
	return xn ? 0 : 1;
}

/* A domain literal "[192.0.2.1]" or "[IPv6:...]": kept, lower-cased. */
static int
an_literal(const char *in, size_t n, char *out, size_t outlen, char *err,
    size_t errlen)
{
	if (n < 3 || in[n - 1] != ']' || n >= outlen)
		return errbuf_set(err, errlen, "bad address literal");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c <= 0x20 || c >= 0x7f || ((c == '[' || c == ']') &&
		    i != 0 && i != n - 1))
			return errbuf_set(err, errlen, "bad address literal");
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	return 0;
}

int
addrnorm_domain(const char *in, char *out, size_t outlen, char *err,
    size_t errlen)
{
	char buf[4 * ADDRNORM_DOMAIN_MAX], *idn = NULL;
	size_t n = strlen(in);
	int ldh, rc;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0)
		return errbuf_set(err, errlen, "empty domain");
	if (in[0] == '[')
		return an_literal(in, n, out, outlen, err, errlen);
	if (n >= sizeof(buf))
		return errbuf_set(err, errlen, "domain too long");
	if ((rc = an_ascii(in, n, buf, &ldh)) < 0)
		return errbuf_set(err, errlen, "domain is not valid UTF-8 text");
	if (rc == 0) {		/* UTF-8, or an A-label to check */
		if (!an_clean_utf8(in, n))
			return errbuf_set(err, errlen, "domain is not valid "
			    "UTF-8 text");
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)tolower((unsigned char)in[i]);
		buf[n] = '\0';
		rc = idn2_to_ascii_8z(buf, &idn, IDN2_NFC_INPUT |
		    IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK)
			return errbuf_set(err, errlen, "bad international "
			    "domain: %s", idn2_strerror(rc));
		n = strlen(idn);
		if (n >= sizeof(buf)) {
			idn2_free(idn);
			return errbuf_set(err, errlen, "domain too long");
		}
		for (size_t i = 0; i <= n; i++)
			buf[i] = (char)tolower((unsigned char)idn[i]);
		idn2_free(idn);
		ldh = an_ldh(buf);
	}
	if (n > 253 || n >= outlen || n >= ADDRNORM_DOMAIN_MAX)
		return errbuf_set(err, errlen, "domain too long");
	if (!ldh)
		return errbuf_set(err, errlen, "not a domain name");
	memcpy(out, buf, n + 1);
	return 0;
}

/* ---- rules ------------------------------------------------------------ */

static int
an_rule_cmp(const void *a, const void *b)
{
	return strcmp(((const struct an_rule *)a)->key,
	    ((const struct an_rule *)b)->key);
}

static const struct an_rule *
an_find(const struct addrnorm_rules *r, const char *key)
{
	struct an_rule k = { .key = (char *)key };

	if (r->n == 0)
		return NULL;
	return bsearch(&k, r->v, r->n, sizeof(*r->v), an_rule_cmp);
}

/* The rule for domain d (normalised): exact, nearest ".parent", "*". */
static const struct an_rule *
an_rule_for(const struct addrnorm_rules *r, const char *d)
{
	const struct an_rule *hit;
	char key[ADDRNORM_DOMAIN_MAX + 1];

	if (r == NULL || r->n == 0)
		return NULL;
	if ((hit = an_find(r, d)) != NULL)
		return hit;
	for (const char *p = d; p != NULL; p = strchr(p + 1, '.')) {
		size_t n = strlen(p);

		if (*p != '.') {	/* the domain itself: ".d" */
			if (n + 1 >= sizeof(key))
				n = sizeof(key) - 2;	/* cut, as before */
			key[0] = '.';
			memcpy(key + 1, p, n);
			key[n + 1] = '\0';
			if ((hit = an_find(r, key)) != NULL)
				return hit;
		} else if ((hit = an_find(r, p)) != NULL)
			return hit;
	}
	return an_find(r, "*");
}

static int
an_parse_option(struct an_rule *rule, const char *opt, char *why,
    size_t wlen)
{
	if (strcmp(opt, "casefold") == 0)
		rule->flags |= ADDRNORM_CASEFOLD;
	else if (strcmp(opt, "nodots") == 0)
		rule->flags |= ADDRNORM_NODOTS;
	else if (strcmp(opt, "exact") == 0)
		;
	else if (strncmp(opt, "subaddress=", 11) == 0) {
		const char *s = opt + 11;

		if (*s == '\0' || strlen(s) > AN_SUBADDR_MAX)
			return errbuf_set(why, wlen, "subaddress= wants 1 to %d "
			    "separator characters", AN_SUBADDR_MAX);
		for (const char *p = s; *p != '\0'; p++)
			if (!ispunct((unsigned char)*p) || *p == '@' ||
			    *p == '"' || *p == '.')
				return errbuf_set(why, wlen, "'%c' cannot be a "
				    "sub-address separator", *p);
		snprintf(rule->subaddr, sizeof(rule->subaddr), "%s", s);
	} else
		return errbuf_set(why, wlen, "unknown option '%s' (casefold, "
		    "subaddress=CHARS, nodots, exact)", opt);
	return 0;
}

/* One "DOMAIN OPTION..." line (comment already cut); 0 blank / 1 / -1. */
static int
an_parse_line(char *line, struct an_rule *rule, char *why, size_t wlen)
{
	char dom[ADDRNORM_DOMAIN_MAX], *save = NULL, *tok, *d;
	int sub;

	if ((tok = strtok_r(line, " \t\r\n", &save)) == NULL)
		return 0;
	memset(rule, 0, sizeof(*rule));
	if (strcmp(tok, "*") == 0)
		rule->key = xstrdup("*");
	else {
		sub = tok[0] == '.';
		d = tok + sub;
		if (addrnorm_domain(d, dom, sizeof(dom), why, wlen) < 0)
			return -1;
		if (dom[0] == '[')
			return errbuf_set(why, wlen, "an address literal cannot "
			    "have rules");
		rule->key = xmalloc(strlen(dom) + 2);
		sprintf(rule->key, "%s%s", sub ? "." : "", dom);
	}
	if ((tok = strtok_r(NULL, " \t\r\n", &save)) == NULL) {
		free(rule->key);
		return errbuf_set(why, wlen, "no options (casefold, "
		    "subaddress=CHARS, nodots, exact)");
	}
	for (; tok != NULL; tok = strtok_r(NULL, " \t\r\n", &save))
		if (an_parse_option(rule, tok, why, wlen) < 0) {
			free(rule->key);
			return -1;
		}
	return 1;
}

/* Read every rule of fp into r; -1 with "path:line: reason". */
static int
an_read(struct addrnorm_rules *r, FILE *fp, const char *path, char *err,
    size_t errlen)
{
	char *line = NULL, why[256], *hash;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	struct an_rule rule;
	int rc = 0, got;

	while (rc == 0 && (len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if ((size_t)len >= AN_LINE_MAX)
			rc = errbuf_set(err, errlen, "%s:%ld: line longer than "
			    "%d bytes", path, lineno, AN_LINE_MAX - 1);
		else if (memchr(line, '\0', (size_t)len) != NULL)
			rc = errbuf_set(err, errlen, "%s:%ld: NUL byte in line",
			    path, lineno);
		if (rc < 0)
			break;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		if ((got = an_parse_line(line, &rule, why, sizeof(why))) < 0)
			rc = errbuf_set(err, errlen, "%s:%ld: %s", path, lineno,
			    why);
		else if (got > 0 && an_find(r, rule.key) != NULL) {
			rc = errbuf_set(err, errlen, "%s:%ld: second rule for "
			    "'%s'", path, lineno, rule.key);
			free(rule.key);
		} else if (got > 0) {
			r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
			r->v[r->n++] = rule;
			qsort(r->v, r->n, sizeof(*r->v), an_rule_cmp);
		}
	}
	free(line);
	if (rc == 0 && ferror(fp))
		rc = errbuf_set(err, errlen, "%s: read error: %s", path,
		    strerror(errno));
	return rc;
}

struct addrnorm_rules *
addrnorm_rules_load(const char *path, char *err, size_t errlen)
{
	struct addrnorm_rules *r;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	if (an_read(r, fp, path, err, errlen) < 0) {
		addrnorm_rules_free(r);
		r = NULL;
	}
	fclose(fp);
	return r;
}

void
addrnorm_rules_free(struct addrnorm_rules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].key);
	free(r->v);
	free(r);
}

size_t
addrnorm_rules_count(const struct addrnorm_rules *r)
{
	return r != NULL ? r->n : 0;
}

/* ---- addresses -------------------------------------------------------- */

/* atext of RFC 5322 3.2.3, plus UTF-8 (RFC 6531). */
static int
an_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80)
		return 1;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '/': case '=': case '?':
	case '^': case '_': case '`': case '{': case '|': case '}':
	case '~':
	case '\0':	/* as strchr() found it; a local part has none */
		return 1;
	default:
		return 0;
	}
}

/* 1 if s[0..n) is a dot-atom: atext runs separated by single dots. */
static int
an_dot_atom(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '.' ? s[i + 1] == '.' :
		    !an_atext((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * The local part in[0..n) into out (ADDRNORM_LOCAL_MAX + 3 bytes) with
 * rule (may be NULL); quotes of a plain quoted dot-atom are dropped.
 */
static int
an_local(const char *in, size_t n, const struct an_rule *rule, char *out,
    char *err, size_t errlen)
{
	size_t len = 0, i;
	int quoted = n >= 2 && in[0] == '"' && in[n - 1] == '"';

	if (quoted && an_dot_atom(in + 1, n - 2)) {
		in++;
		n -= 2;
		quoted = 0;
	}
	if (n == 0)
		return errbuf_set(err, errlen, "empty local part");
	if (n > ADDRNORM_LOCAL_MAX + (quoted ? 2 : 0))
		return errbuf_set(err, errlen, "local part longer than %d bytes",
		    ADDRNORM_LOCAL_MAX);
	if (!an_clean_utf8(in, n))
		return errbuf_set(err, errlen, "local part has control "
		    "characters or invalid UTF-8");
	if (!quoted && !an_dot_atom(in, n))
		return errbuf_set(err, errlen, "local part is not a dot-atom "
		    "(quote it)");
	if (!quoted && rule != NULL && rule->subaddr[0] != '\0') {
		i = strcspn(in + 1, rule->subaddr) + 1;
		if (i < n)
			n = i;
	}
	for (i = 0; i < n; i++) {
		char c = in[i];

		if (!quoted && c == '.' && rule != NULL &&
		    (rule->flags & ADDRNORM_NODOTS))
			continue;
		if (rule != NULL && (rule->flags & ADDRNORM_CASEFOLD) &&
		    c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out[len++] = c;
	}
	if (len == 0)
		return errbuf_set(err, errlen, "empty local part");
	out[len] = '\0';
	return 0;
}

int
addrnorm_address(const struct addrnorm_rules *r, const char *in, char *out,
    size_t outlen, char *err, size_t errlen)
{
	char local[ADDRNORM_LOCAL_MAX + 3], dom[ADDRNORM_DOMAIN_MAX];
	const char *s = in, *e, *at;
	size_t n, dn;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		e--;
	if (e - s >= 2 && *s == '<' && e[-1] == '>')
		s++, e--;
	n = (size_t)(e - s);
	if (n == 0)
		return errbuf_set(err, errlen, "empty address");
	if (n >= ADDRNORM_MAX)
		return errbuf_set(err, errlen, "address longer than %d bytes",
		    ADDRNORM_MAX - 1);
	if ((at = memrchr(s, '@', n)) == NULL)
		return errbuf_set(err, errlen, "no '@' in address");
	if (at == s)
		return errbuf_set(err, errlen, "empty local part");
	if ((size_t)(e - at - 1) >= sizeof(dom) * 2)
		return errbuf_set(err, errlen, "domain too long");
	{
		char dbuf[ADDRNORM_DOMAIN_MAX * 2];

		memcpy(dbuf, at + 1, (size_t)(e - at - 1));
		dbuf[e - at - 1] = '\0';
		if (addrnorm_domain(dbuf, dom, sizeof(dom), err, errlen) < 0)
			return -1;
	}
	if (an_local(s, (size_t)(at - s), an_rule_for(r, dom), local, err,
	    errlen) < 0)
		return -1;
	if ((n = strlen(local)) + 1 + (dn = strlen(dom)) >= outlen)
		return errbuf_set(err, errlen, "address too long");
	memcpy(out, local, n);
	out[n] = '@';
	memcpy(out + n + 1, dom, dn + 1);
	return 0;
}
