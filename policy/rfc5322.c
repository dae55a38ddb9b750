/*
 * rfc5322 - address-list parser (see rfc5322.h)
 *
 * Two passes: a lexer turns the value into tokens (atoms, quoted strings,
 * domain literals, specials), dropping CFWS but remembering that it was
 * there; the parser walks the tokens: address-list, group, name-addr,
 * addr-spec. The token array is bounded by the input length, which is
 * bounded by RFC5322_INPUT_MAX.
 * Ownership: see rfc5322.h. Threads: no shared state.
 */
#include <stdlib.h>
#include <string.h>

#include "rfc5322.h"
#include "rfc5322_priv.h"
#include "strbuf.h"
#include "xalloc.h"

enum tok_kind { T_END, T_ATOM, T_QSTR, T_LIT, T_SPECIAL };

struct tok {
	enum tok_kind	 kind;
	char		 c;		/* T_SPECIAL */
	int		 ws;		/* CFWS before it */
	int		 eword;		/* T_ATOM that is one encoded word */
	size_t		 off, len;	/* raw span in the input */
};

struct lex {
	const char	*s;
	size_t		 n, i;
	struct tok	*t;
	size_t		 nt;
	enum rfc5322_err err;
	size_t		 errpos;
};

struct parse {
	struct lex	*lx;
	size_t		 i;		/* current token */
	size_t		 max;
	struct rfc5322_list *out;
};

static int
is_atext(unsigned char c)
{
	if (c >= 0x80)
		return 1;	/* RFC 6532 */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
lex_fail(struct lex *lx, enum rfc5322_err e, size_t pos)
{
	lx->err = e;
	lx->errpos = pos;
	return -1;
}

/* Folding: CR? LF followed by WSP; 1 consumed, 0 not folding. */
static int
lex_fold(struct lex *lx)
{
	size_t i = lx->i;

	if (i < lx->n && lx->s[i] == '\r')
		i++;
	if (i >= lx->n || lx->s[i] != '\n')
		return 0;
	i++;
	if (i < lx->n && lx->s[i] != ' ' && lx->s[i] != '\t')
		return 0;
	lx->i = i;
	return 1;
}

static int
lex_comment(struct lex *lx)
{
	size_t start = lx->i;
	int depth = 0;

	while (lx->i < lx->n) {
		char c = lx->s[lx->i];

		if (c == '\\' && lx->i + 1 < lx->n && lx->s[lx->i + 1] != '\0')
			lx->i += 2;
		else if (c == '(') {
			if (++depth > RFC5322_NEST_MAX)
				return lex_fail(lx, RFC5322_COMMENT, lx->i);
			lx->i++;
		} else if (c == ')') {
			lx->i++;
			if (--depth == 0)
				return 0;
		} else if (c == '\0')
			return lex_fail(lx, RFC5322_NUL, lx->i);
		else if ((c == '\r' || c == '\n') && !lex_fold(lx))
			return lex_fail(lx, RFC5322_NUL, lx->i);
		else if (c != '\r' && c != '\n')
			lx->i++;
	}
	return lex_fail(lx, RFC5322_COMMENT, start);
}

/* Skip CFWS; 1 if any was skipped, -1 on error. */
static int
lex_cfws(struct lex *lx)
{
	int any = 0;

	while (lx->i < lx->n) {
		char c = lx->s[lx->i];

		if (c == ' ' || c == '\t')
			lx->i++;
		else if (c == '\r' || c == '\n') {
			if (!lex_fold(lx)) {
				/* a line end that closes the value is fine */
				size_t j = lx->i;

				while (j < lx->n && (lx->s[j] == '\r' ||
				    lx->s[j] == '\n'))
					j++;
				if (j < lx->n)
					return lex_fail(lx, RFC5322_NUL, lx->i);
				lx->i = j;
			}
		} else if (c == '(') {
			if (lex_comment(lx) < 0)
				return -1;
		} else
			break;
		any = 1;
	}
	return any;
}

/* Scan a quoted string or domain literal ending in close. */
static int
lex_delimited(struct lex *lx, char close, enum rfc5322_err e)
{
	size_t start = lx->i++;

	while (lx->i < lx->n) {
		char c = lx->s[lx->i];

		if (c == '\\' && lx->i + 1 < lx->n && lx->s[lx->i + 1] != '\0')
			lx->i += 2;
		else if (c == close) {
			lx->i++;
			return 0;
		} else if (c == '\0' || (close == ']' && c == '['))
			return lex_fail(lx, c == '\0' ? RFC5322_NUL : e, lx->i);
		else if ((c == '\r' || c == '\n') && !lex_fold(lx))
			return lex_fail(lx, RFC5322_NUL, lx->i);
		else if (c != '\r' && c != '\n')
			lx->i++;
	}
	return lex_fail(lx, e, start);
}

static int
lex_one(struct lex *lx, struct tok *t)
{
	const char *s = lx->s;
	unsigned char c = (unsigned char)s[lx->i];
	size_t ew;

	t->off = lx->i;
	if (c == '"') {
		t->kind = T_QSTR;
		if (lex_delimited(lx, '"', RFC5322_QUOTE) < 0)
			return -1;
	} else if (c == '[') {
		t->kind = T_LIT;
		if (lex_delimited(lx, ']', RFC5322_LITERAL) < 0)
			return -1;
	} else if ((ew = rfc5322_eword_len(s + lx->i, lx->n - lx->i)) > 0 &&
	    (lx->i + ew == lx->n || !is_atext((unsigned char)s[lx->i + ew]))) {
		t->kind = T_ATOM;
		t->eword = 1;
		lx->i += ew;
	} else if (is_atext(c)) {
		t->kind = T_ATOM;
		while (lx->i < lx->n && is_atext((unsigned char)s[lx->i]))
			lx->i++;
	} else if (c != '\0' && strchr("<>:;@,.", c) != NULL) {
		t->kind = T_SPECIAL;
		t->c = (char)c;
		lx->i++;
	} else
		return lex_fail(lx, c == '\0' ? RFC5322_NUL : c == ')' ?
		    RFC5322_COMMENT : c == ']' ? RFC5322_LITERAL :
		    RFC5322_JUNK, lx->i);
	t->len = lx->i - t->off;
	return 0;
}

static int
lex_all(struct lex *lx)
{
	lx->t = xcalloc(lx->n + 1, sizeof(*lx->t));
	for (;;) {
		struct tok *t = &lx->t[lx->nt];
		int ws = lex_cfws(lx);

		if (ws < 0)
			return -1;
		t->ws = ws;
		if (lx->i >= lx->n) {
			t->kind = T_END;
			t->off = lx->n;
			lx->nt++;
			return 0;
		}
		if (lex_one(lx, t) < 0)
			return -1;
		lx->nt++;
	}
}

/* ---- the parser ---------------------------------------------------- */

static const struct tok *
cur(const struct parse *p)
{
	return &p->lx->t[p->i];
}

static int
is_special(const struct tok *t, char c)
{
	return t->kind == T_SPECIAL && t->c == c;
}

static int
is_word(const struct tok *t)
{
	return t->kind == T_ATOM || t->kind == T_QSTR;
}

static int
fail(struct parse *p, enum rfc5322_err e)
{
	p->lx->err = e;
	p->lx->errpos = cur(p)->off;
	return -1;
}

static int
fail_at(struct parse *p, enum rfc5322_err e, size_t off)
{
	p->lx->err = e;
	p->lx->errpos = off;
	return -1;
}

/* Append a quoted string's content, quoted pairs resolved. */
static void
qstr_content(const char *s, size_t len, struct strbuf *sb)
{
	for (size_t i = 1; i + 1 < len; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '\\' && i + 2 < len)
			i++;
		strbuf_addc(sb, s[i]);
	}
}

/* Decode the phrase of tokens [from, to) into a new UTF-8 string. */
static char *
phrase_decode(const struct lex *lx, size_t from, size_t to)
{
	struct strbuf sb;
	int prev_eword = 0;

	strbuf_init(&sb, 32);
	for (size_t k = from; k < to; k++) {
		const struct tok *t = &lx->t[k];
		const char *raw = lx->s + t->off;
		size_t mark = sb.len;

		if (t->kind == T_ATOM && t->eword && prev_eword) {
			/* whitespace between encoded words is dropped */
		} else if (t->ws && k > from)
			strbuf_addc(&sb, ' ');
		if (t->kind == T_ATOM && t->eword) {
			if (rfc5322_eword_decode(raw, t->len, &sb) == 0) {
				prev_eword = 1;
				continue;
			}
			strbuf_add(&sb, raw, t->len);
		} else if (t->kind == T_QSTR) {
			char *dec;
			struct strbuf q;

			strbuf_init(&q, t->len);
			qstr_content(raw, t->len, &q);
			/* encoded words in quotes: wrong, and everywhere */
			dec = rfc5322_decode_text(q.s, q.len);
			strbuf_adds(&sb, dec);
			free(dec);
			strbuf_free(&q);
		} else
			strbuf_add(&sb, raw, t->len);
		(void)mark;
		prev_eword = 0;
	}
	return strbuf_detach(&sb);
}

/* local-part: word *("." word); the tokens [from, to). */
static int
local_part(struct parse *p, size_t from, size_t to, struct strbuf *sb)
{
	const struct lex *lx = p->lx;

	if (from == to)
		return -1;
	for (size_t k = from; k < to; k++) {
		const struct tok *t = &lx->t[k];
		int want_word = (k - from) % 2 == 0;

		if (want_word != is_word(t) ||
		    (!want_word && !is_special(t, '.')))
			return -1;
		strbuf_add(sb, lx->s + t->off, t->len);
	}
	if ((to - from) % 2 == 0)
		return -1;	/* ends with a dot */
	return sb->len <= RFC5322_LOCAL_MAX ? 0 : -1;
}

static int
domain_label_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(c >= 0x80 || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* domain after '@': dot-atom of LDH labels, or a literal. */
static int
domain_part(struct parse *p, struct strbuf *sb, int *literal)
{
	const struct lex *lx = p->lx;
	const struct tok *t = cur(p);

	*literal = 0;
	if (t->kind == T_LIT) {
		for (size_t k = 0; k < t->len; k++) {
			char c = lx->s[t->off + k];

			if ((unsigned char)c <= ' ')
				return fail(p, RFC5322_LITERAL);
			strbuf_addc(sb, c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		if (sb->len > RFC5322_DOMAIN_MAX)
			return fail(p, RFC5322_LITERAL);
		*literal = 1;
		p->i++;
		return 0;
	}
	for (;;) {
		t = cur(p);
		if (t->kind != T_ATOM || !domain_label_ok(lx->s + t->off,
		    t->len))
			return fail(p, RFC5322_DOMAIN);
		for (size_t k = 0; k < t->len; k++) {
			char c = lx->s[t->off + k];

			strbuf_addc(sb, c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		p->i++;
		if (!is_special(cur(p), '.'))
			break;
		strbuf_addc(sb, '.');
		p->i++;
	}
	if (sb->len > RFC5322_DOMAIN_MAX)
		return fail(p, RFC5322_DOMAIN);
	return 0;
}

static int
add_addr(struct parse *p, size_t dfrom, size_t dto, size_t lfrom,
    size_t lto, const char *group)
{
	struct rfc5322_list *l = p->out;
	struct rfc5322_addr a;
	struct strbuf local, dom, mbox;
	size_t at = p->i;

	memset(&a, 0, sizeof(a));
	strbuf_init(&local, 32);
	strbuf_init(&dom, 32);
	if (local_part(p, lfrom, lto, &local) < 0) {
		p->i = lfrom;
		strbuf_free(&local);
		strbuf_free(&dom);
		return fail(p, RFC5322_LOCAL);
	}
	p->i = at + 1;			/* past '@' */
	if (domain_part(p, &dom, &a.literal) < 0) {
		strbuf_free(&local);
		strbuf_free(&dom);
		return -1;
	}
	if (l->n >= p->max) {
		strbuf_free(&local);
		strbuf_free(&dom);
		return fail(p, RFC5322_TOO_MANY);
	}
	strbuf_init(&mbox, local.len + dom.len + 2);
	strbuf_add(&mbox, local.s, local.len);	/* no NUL: the lexer */
	strbuf_addc(&mbox, '@');		/* refuses one */
	strbuf_add(&mbox, dom.s, dom.len);
	a.display = dto > dfrom ? phrase_decode(p->lx, dfrom, dto) : NULL;
	a.local = strbuf_detach(&local);
	a.domain = strbuf_detach(&dom);
	a.mailbox = strbuf_detach(&mbox);
	a.group = group != NULL ? xstrdup(group) : NULL;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = a;
	return 0;
}

/* The tokens of a phrase or local part: words and dots. */
static size_t
scan_words(const struct parse *p, size_t i)
{
	const struct tok *t = p->lx->t;

	while (is_word(&t[i]) || is_special(&t[i], '.'))
		i++;
	return i;
}

/* name-addr or addr-spec at the current token. */
static int
mailbox(struct parse *p, const char *group)
{
	size_t from = p->i, end = scan_words(p, p->i);
	const struct tok *t = &p->lx->t[end];

	if (is_special(t, '@')) {
		p->i = end;
		return add_addr(p, 0, 0, from, end, group);
	}
	if (!is_special(t, '<')) {
		p->i = end;
		if (end == from)
			return fail(p, RFC5322_JUNK);
		if (is_special(t, ':'))
			return fail(p, RFC5322_GROUP);
		return fail(p, t->kind == T_END || is_special(t, ',') ?
		    (end - from == 1 ? RFC5322_NO_AT : RFC5322_NO_ADDRESS) :
		    RFC5322_JUNK);
	}
	p->i = end + 1;
	/* obs-route: "@a,@b:" before the addr-spec, ignored */
	if (is_special(cur(p), '@')) {
		while (!is_special(cur(p), ':')) {
			if (cur(p)->kind == T_END || is_special(cur(p), '>'))
				return fail_at(p, RFC5322_ANGLE, t->off);
			p->i++;
		}
		p->i++;
	}
	{
		size_t lfrom = p->i, lto = scan_words(p, p->i);

		p->i = lto;
		if (cur(p)->kind == T_END)	/* point at the unclosed '<' */
			return fail_at(p, RFC5322_ANGLE, t->off);
		if (!is_special(cur(p), '@'))
			return fail(p, is_special(cur(p), '>') && lto > lfrom ?
			    RFC5322_NO_AT : lto == lfrom &&
			    is_special(cur(p), '>') ? RFC5322_LOCAL :
			    RFC5322_JUNK);
		if (add_addr(p, from, end, lfrom, lto, group) < 0)
			return -1;
	}
	if (cur(p)->kind == T_END)
		return fail_at(p, RFC5322_ANGLE, t->off);
	if (!is_special(cur(p), '>'))
		return fail(p, RFC5322_JUNK);
	p->i++;
	return 0;
}

/* display-name ":" [mailbox-list] ";" at the current token. */
static int
group(struct parse *p, size_t end)
{
	char *name = phrase_decode(p->lx, p->i, end);
	int rc = 0;

	p->out->ngroups++;
	p->i = end + 1;
	for (;;) {
		while (is_special(cur(p), ','))
			p->i++;
		if (is_special(cur(p), ';')) {
			p->i++;
			break;
		}
		if (cur(p)->kind == T_END)
			break;	/* "undisclosed-recipients:" without ';' */
		if ((rc = mailbox(p, name)) < 0)
			break;
		if (!is_special(cur(p), ',') && !is_special(cur(p), ';') &&
		    cur(p)->kind != T_END) {
			rc = fail(p, is_special(cur(p), ':') ? RFC5322_GROUP :
			    RFC5322_JUNK);
			break;
		}
	}
	free(name);
	return rc;
}

static int
address_list(struct parse *p)
{
	int any = 0;

	for (;;) {
		size_t end;

		while (is_special(cur(p), ','))
			p->i++;
		if (cur(p)->kind == T_END)
			break;
		end = scan_words(p, p->i);
		if (is_special(&p->lx->t[end], ':')) {
			if (group(p, end) < 0)
				return -1;
		} else if (mailbox(p, NULL) < 0)
			return -1;
		any = 1;
		if (!is_special(cur(p), ',') && cur(p)->kind != T_END)
			return fail(p, is_special(cur(p), '>') ?
			    RFC5322_ANGLE : RFC5322_JUNK);
	}
	if (!any)
		return fail(p, RFC5322_EMPTY);
	return 0;
}

enum rfc5322_err
rfc5322_parse(const char *s, size_t len, size_t max_addrs,
    struct rfc5322_list *out, size_t *pos)
{
	struct lex lx;
	struct parse p;

	memset(out, 0, sizeof(*out));
	memset(&lx, 0, sizeof(lx));
	if (pos != NULL)
		*pos = 0;
	if (len > RFC5322_INPUT_MAX)
		return RFC5322_TOO_LONG;
	lx.s = s;
	lx.n = len;
	if (lex_all(&lx) == 0) {
		memset(&p, 0, sizeof(p));
		p.lx = &lx;
		p.max = max_addrs;
		p.out = out;
		(void)address_list(&p);
	}
	free(lx.t);
	if (pos != NULL)
		*pos = lx.errpos;
	return lx.err;
}

void
rfc5322_list_free(struct rfc5322_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].display);
		free(l->v[i].local);
		free(l->v[i].domain);
		free(l->v[i].mailbox);
		free(l->v[i].group);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

const char *
rfc5322_strerror(enum rfc5322_err e)
{
	static const char *const msg[] = {
		[RFC5322_OK] = "ok",
		[RFC5322_EMPTY] = "no address",
		[RFC5322_TOO_LONG] = "header too long",
		[RFC5322_TOO_MANY] = "too many addresses",
		[RFC5322_NUL] = "NUL or line break inside the value",
		[RFC5322_COMMENT] = "unbalanced comment",
		[RFC5322_QUOTE] = "unterminated quoted string",
		[RFC5322_LITERAL] = "bad domain literal",
		[RFC5322_ANGLE] = "unbalanced angle brackets",
		[RFC5322_NO_ADDRESS] = "a name with no address",
		[RFC5322_NO_AT] = "an address without @",
		[RFC5322_LOCAL] = "bad local part",
		[RFC5322_DOMAIN] = "bad domain",
		[RFC5322_GROUP] = "bad group",
		[RFC5322_JUNK] = "unexpected character",
	};

	if ((unsigned)e > RFC5322_JUNK)
		return "unknown error";
	return msg[e];
}
