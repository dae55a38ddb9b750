/*
 * json - JSON text for the evidence log: safe escaping and field reading
 *
 * Writing (json_str): bytes that are printable ASCII go out as they are,
 * '"' and '\' are backslash-escaped, C0 controls and DEL become \u00XX,
 * valid UTF-8 is kept except C1 controls and bidi controls (\uXXXX), and
 * every byte of an invalid UTF-8 sequence becomes the six characters
 * \\xNN (lower-case hex), i.e. the decoded text "\xNN".
 *
 * Reading: a cursor over obj[0..len) that never looks at end or beyond.
 * Values are skipped without recursion: nesting is tracked in a 64-bit
 * stack (one bit per level: object or array), and deeper input is
 * reported as malformed, so no input can exhaust the C stack. Strings are
 * checked as they are skipped (escapes well formed, no raw C0 control).
 * Decoding maps \uXXXX with surrogate pairs to UTF-8 and a lone surrogate
 * to U+FFFD.
 *
 * Ownership: callers own every strbuf. Threads: pure functions.
 * Errors: readers return -1 malformed / 0 absent or null / 1 found.
 */
#include <stdint.h>
#include <string.h>

#include "json.h"

#define JSON_MAX_DEPTH	64

static const char json_hex[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s (n bytes left) or 0; sets *cp. */
static size_t
json_utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need;
	uint32_t v;

	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* > U+10FFFF */
	} else
		return 0;
	if (n < need + 1)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i <= need; i++) {
		if (i > 1 && (s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	*cp = v;
	return need + 1;
}

static int
json_must_escape_cp(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) ||		/* C1 controls */
	    cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

static void
json_add_u(struct strbuf *sb, uint32_t cp)
{
	char b[6] = { '\\', 'u', json_hex[(cp >> 12) & 0xf],
	    json_hex[(cp >> 8) & 0xf], json_hex[(cp >> 4) & 0xf],
	    json_hex[cp & 0xf] };

	strbuf_add(sb, b, sizeof(b));
}

/*
 * Bytes that need no attention: printable ASCII except '"' and '\'. A
 * table, as the evidence writer runs every byte of a record through it.
 */
static const unsigned char json_plain_tab[256] = {	/* 0x80..: 0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0,
};

static int
json_plain(unsigned char c)
{
	return json_plain_tab[c];
}

/*
 * The opening quote and n plain bytes, copied at once, with room kept for
 * the closing quote (most strings are all plain).
 */
static void
json_open(struct strbuf *sb, const unsigned char *s, size_t n)
{
	strbuf_reserve(sb, n + 2);
	sb->s[sb->len++] = '"';
	if (n > 0)
		memcpy(sb->s + sb->len, s, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

/* The rest, from s[i] (a byte needing attention), and the closing quote. */
static void
json_rest(struct strbuf *sb, const unsigned char *s, size_t i, size_t len)
{
	size_t run, n;
	uint32_t cp;

	while (i < len) {
		if (s[i] == '"' || s[i] == '\\') {
			strbuf_addc(sb, '\\');
			strbuf_addc(sb, (char)s[i++]);
		} else if (s[i] < 0x80) {
			json_add_u(sb, s[i++]);
		} else if ((n = json_utf8_len(s + i, len - i, &cp)) == 0) {
			char b[6] = { '\\', '\\', 'x', json_hex[s[i] >> 4],
			    json_hex[s[i] & 0xf] };

			strbuf_add(sb, b, 5);
			i++;
		} else {
			if (json_must_escape_cp(cp))
				json_add_u(sb, cp);
			else
				strbuf_add(sb, s + i, n);
			i += n;
		}
		for (run = i; i < len && json_plain(s[i]); i++)
			;
		if (i > run)
			strbuf_add(sb, s + run, i - run);
	}
	strbuf_addc(sb, '"');
}

void
json_str(struct strbuf *sb, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len && json_plain(s[i]))
		i++;
	json_open(sb, s, i);
	json_rest(sb, s, i, len);
}

void
json_cstr(struct strbuf *sb, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	if (s == NULL) {
		strbuf_adds(sb, "null");
		return;
	}
	/* NUL is not plain: one pass finds the end of an all-plain string */
	while (json_plain(u[i]))
		i++;
	if (u[i] != '\0') {
		json_str(sb, s, i + strlen(s + i));
		return;
	}
	json_open(sb, u, i);
	sb->s[sb->len++] = '"';
	sb->s[sb->len] = '\0';
}

/* ---- reading ---------------------------------------------------------- */

static const char *
json_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

static int
json_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at p (caller checked 4 bytes exist) or -1. */
static long
json_hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int h = json_hexval(p[i]);

		if (h < 0)
			return -1;
		v = (v << 4) | h;
	}
	return v;
}

/*
 * p is at an opening quote: return the byte after the closing quote, or
 * NULL if the string is malformed or runs past end.
 */
static const char *
json_skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c != '\\')
			continue;
		if (++p >= end)
			return NULL;
		if (*p == 'u') {
			if (end - p < 5 || json_hex4(p + 1) < 0)
				return NULL;
			p += 4;
		} else if (strchr("\"\\/bfnrt", *p) == NULL || *p == '\0')
			return NULL;
	}
	return NULL;
}

static void
json_add_utf8(struct strbuf *sb, uint32_t cp)
{
	char b[4];

	if (cp < 0x80) {
		strbuf_addc(sb, (char)cp);
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		strbuf_add(sb, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		strbuf_add(sb, b, 3);
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		strbuf_add(sb, b, 4);
	}
}

/* p at "\u" + 4 hex (checked); decode one code point, pairing surrogates. */
static const char *
json_decode_u(const char *p, const char *end, struct strbuf *out)
{
	long hi = json_hex4(p + 2), lo;

	p += 6;
	if (hi >= 0xd800 && hi <= 0xdbff && end - p >= 6 && p[0] == '\\' &&
	    p[1] == 'u' && (lo = json_hex4(p + 2)) >= 0xdc00 && lo <= 0xdfff) {
		json_add_utf8(out, 0x10000 + (((uint32_t)hi - 0xd800) << 10) +
		    ((uint32_t)lo - 0xdc00));
		return p + 6;
	}
	if (hi >= 0xd800 && hi <= 0xdfff)
		hi = 0xfffd;	/* lone surrogate */
	json_add_utf8(out, (uint32_t)hi);
	return p;
}

/* Decode the well-formed string literal s[0..len) (quotes included). */
static void
json_decode_checked(const char *s, size_t len, struct strbuf *out)
{
	const char *p = s + 1, *end = s + len - 1, *run;

	while (p < end) {
		for (run = p; p < end && *p != '\\'; p++)
			;
		if (p > run)
			strbuf_add(out, run, (size_t)(p - run));
		if (p >= end)
			break;
		switch (p[1]) {
		case 'b': strbuf_addc(out, '\b'); break;
		case 'f': strbuf_addc(out, '\f'); break;
		case 'n': strbuf_addc(out, '\n'); break;
		case 'r': strbuf_addc(out, '\r'); break;
		case 't': strbuf_addc(out, '\t'); break;
		case 'u':
			p = json_decode_u(p, end, out);
			continue;
		default: strbuf_addc(out, p[1]); break;
		}
		p += 2;
	}
}

int
json_decode(const char *s, size_t len, struct strbuf *out)
{
	if (len < 2 || s[0] != '"' || json_skip_string(s, s + len) != s + len)
		return -1;
	json_decode_checked(s, len, out);
	return 0;
}

/* A number or true/false/null at p: the byte after it, or NULL. */
static const char *
json_skip_literal(const char *p, const char *end)
{
	static const char *const words[] = { "true", "false", "null" };
	const char *q = p;

	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(words[i]);

		if ((size_t)(end - p) >= n && memcmp(p, words[i], n) == 0)
			return p + n;
	}
	if (q < end && *q == '-')
		q++;
	if (q >= end || *q < '0' || *q > '9')
		return NULL;
	if (*q == '0')
		q++;
	else
		while (q < end && *q >= '0' && *q <= '9')
			q++;
	if (q < end && *q == '.') {
		if (++q >= end || *q < '0' || *q > '9')
			return NULL;
		while (q < end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < end && (*q == 'e' || *q == 'E')) {
		if (++q < end && (*q == '+' || *q == '-'))
			q++;
		if (q >= end || *q < '0' || *q > '9')
			return NULL;
		while (q < end && *q >= '0' && *q <= '9')
			q++;
	}
	return q;
}

/* After '{' or ',' in an object: skip `ws "key" ws : ws`; NULL if bad. */
static const char *
json_skip_key(const char *p, const char *end)
{
	p = json_ws(p, end);
	if (p >= end || *p != '"' || (p = json_skip_string(p, end)) == NULL)
		return NULL;
	p = json_ws(p, end);
	if (p >= end || *p != ':')
		return NULL;
	return json_ws(p + 1, end);
}

/*
 * After a value inside containers: close finished containers and step
 * over ',' (and the next key in an object). *depth is updated; when it
 * reaches 0 the returned pointer is just after the outermost value.
 */
static const char *
json_after_value(const char *p, const char *end, uint64_t objs, int *depth)
{
	while (*depth > 0) {
		int isobj = (int)((objs >> (*depth - 1)) & 1);

		p = json_ws(p, end);
		if (p >= end)
			return NULL;
		if (*p == (isobj ? '}' : ']')) {
			(*depth)--;
			p++;
			continue;
		}
		if (*p != ',')
			return NULL;
		return isobj ? json_skip_key(p + 1, end) : json_ws(p + 1, end);
	}
	return p;
}

/*
 * Skip one value starting at p (no leading whitespace). Containers are
 * walked with an explicit stack: bit d of objs is set when level d is an
 * object. Returns the byte after the value, or NULL.
 */
static const char *
json_skip_value(const char *p, const char *end)
{
	uint64_t objs = 0;
	int depth = 0, isobj;

	for (;;) {
		if (p >= end)
			return NULL;
		if (*p == '{' || *p == '[') {
			if (depth == JSON_MAX_DEPTH)
				return NULL;
			isobj = *p == '{';
			if (isobj)
				objs |= 1ULL << depth;
			else
				objs &= ~(1ULL << depth);
			depth++;
			p = json_ws(p + 1, end);
			if (p < end && *p == (isobj ? '}' : ']')) {
				depth--;
				p++;
			} else {
				if (isobj && (p = json_skip_key(p, end)) == NULL)
					return NULL;
				continue;
			}
		} else if (*p == '"') {
			if ((p = json_skip_string(p, end)) == NULL)
				return NULL;
		} else if ((p = json_skip_literal(p, end)) == NULL)
			return NULL;
		if ((p = json_after_value(p, end, objs, &depth)) == NULL)
			return NULL;
		if (depth == 0)
			return p;
	}
}

/* 1 if the raw key literal k[0..klen) (quotes included) decodes to key. */
static int
json_key_is(const char *k, size_t klen, const char *key, size_t keylen)
{
	struct strbuf sb = STRBUF_INIT;
	int eq;

	if (memchr(k, '\\', klen) == NULL)
		return klen - 2 == keylen && memcmp(k + 1, key, keylen) == 0;
	strbuf_init(&sb, klen);
	json_decode_checked(k, klen, &sb);
	eq = sb.len == keylen && memcmp(sb.s, key, keylen) == 0;
	strbuf_free(&sb);
	return eq;
}

/*
 * Find top-level member key: its value is [*vs, *ve). Members before the
 * match are checked; the rest of the object is not (the search path
 * should stop early). -1 / 0 / 1.
 */
static int
json_member(const char *obj, size_t len, const char *key, const char **vs,
    const char **ve)
{
	const char *p = obj, *end = obj + len, *k;
	size_t keylen = strlen(key);
	int match;

	p = json_ws(p, end);
	if (p >= end || *p != '{')
		return -1;
	p = json_ws(p + 1, end);
	if (p < end && *p == '}')
		return 0;
	for (;;) {
		if (p >= end || *p != '"')
			return -1;
		k = p;
		if ((p = json_skip_string(p, end)) == NULL)
			return -1;
		match = json_key_is(k, (size_t)(p - k), key, keylen);
		p = json_ws(p, end);
		if (p >= end || *p != ':')
			return -1;
		*vs = p = json_ws(p + 1, end);
		if ((p = json_skip_value(p, end)) == NULL)
			return -1;
		*ve = p;
		if (match)
			return 1;
		p = json_ws(p, end);
		if (p < end && *p == '}')
			return 0;
		if (p >= end || *p != ',')
			return -1;
		p = json_ws(p + 1, end);
	}
}

int
json_field(const char *obj, size_t len, const char *key, struct strbuf *out)
{
	const char *vs, *ve;
	int rc;

	if ((rc = json_member(obj, len, key, &vs, &ve)) != 1)
		return rc;
	if (*vs == '"')
		json_decode_checked(vs, (size_t)(ve - vs), out);
	else if (ve - vs == 4 && memcmp(vs, "null", 4) == 0)
		return 0;
	else
		strbuf_add(out, vs, (size_t)(ve - vs));
	return 1;
}

int
json_array_each(const char *obj, size_t len, const char *key,
    int (*fn)(const char *s, size_t slen, void *arg), void *arg)
{
	struct strbuf sb = STRBUF_INIT;
	const char *vs, *ve, *p, *q;
	int rc;

	if ((rc = json_member(obj, len, key, &vs, &ve)) != 1)
		return rc;
	if (ve - vs == 4 && memcmp(vs, "null", 4) == 0)
		return 0;
	if (*vs != '[')
		return -1;
	/* The whole array was validated by json_member: walk it lightly. */
	for (p = json_ws(vs + 1, ve); p < ve && *p != ']';) {
		q = json_skip_value(p, ve);	/* cannot fail: validated */
		if (q == NULL)
			break;
		rc = 0;
		if (*p == '"') {
			strbuf_reset(&sb);
			json_decode_checked(p, (size_t)(q - p), &sb);
			rc = fn(strbuf_str(&sb), sb.len, arg);
		} else if (*p == '{')
			rc = fn(p, (size_t)(q - p), arg);
		if (rc != 0)
			break;
		p = json_ws(q, ve);
		if (p < ve && *p == ',')
			p = json_ws(p + 1, ve);
	}
	strbuf_free(&sb);
	return 1;
}

int
json_object_check(const char *obj, size_t len)
{
	const char *p = obj, *end = obj + len;

	p = json_ws(p, end);
	if (p >= end || *p != '{')
		return -1;
	if ((p = json_skip_value(p, end)) == NULL)
		return -1;
	return json_ws(p, end) == end ? 0 : -1;
}
