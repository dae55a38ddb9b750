/*
 * rfc5322_word - RFC 2047 encoded words, decoded to UTF-8 (see rfc5322.h)
 *
 * "=?charset?B|Q?text?=": UTF-8 and US-ASCII are copied, ISO-8859-1 is
 * widened byte by byte, any other charset goes through iconv. A word
 * whose charset is unknown or whose text does not convert is left as
 * written, as RFC 2047 6.2 asks: the caller keeps the raw text. NUL
 * octets are dropped (they would cut a C string short).
 * Ownership: results go into the caller's strbuf. Threads: safe.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "rfc5322.h"
#include "rfc5322_priv.h"
#include "strbuf.h"

#define EWORD_MAX	1024	/* longer than RFC 2047's 75: real mail */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode B or Q text into raw octets; -1 on a bad character. */
static int
eword_octets(int enc, const char *t, size_t n, struct strbuf *out)
{
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)t[i], v;

		if (enc == 'b') {
			if (c == '=')
				break;
			if ((v = base64_value(c)) < 0)
				return -1;
			acc = (acc << 6) | (unsigned)v;
			if ((bits += 6) >= 8) {
				bits -= 8;
				strbuf_addc(out, (char)((acc >> bits) & 0xff));
			}
		} else if (c == '_')
			strbuf_addc(out, ' ');
		else if (c == '=') {
			int h, l;

			if (i + 2 >= n || (h = hexval(t[i + 1])) < 0 ||
			    (l = hexval(t[i + 2])) < 0)
				return -1;
			strbuf_addc(out, (char)(h * 16 + l));
			i += 2;
		} else
			strbuf_addc(out, (char)c);
	}
	return 0;
}

static int
charset_is(const char *cs, size_t n, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strlen(*names) == n && strncasecmp(cs, *names, n) == 0)
			return 1;
	return 0;
}

/* raw octets in charset -> UTF-8 appended to out; -1 if impossible. */
static int
eword_convert(const char *cs, size_t csn, const struct strbuf *raw,
    struct strbuf *out)
{
	static const char *const utf8[] = { "utf-8", "utf8", "us-ascii",
	    "ascii", NULL };
	static const char *const latin1[] = { "iso-8859-1", "latin1",
	    "iso_8859-1", "l1", NULL };
	char name[64], buf[256], *in, *o;
	size_t inleft, oleft;
	iconv_t cd;
	int rc = 0;

	if (charset_is(cs, csn, utf8)) {
		strbuf_add(out, raw->s, raw->len);
		return 0;
	}
	if (charset_is(cs, csn, latin1)) {
		for (size_t i = 0; i < raw->len; i++) {
			unsigned char c = (unsigned char)raw->s[i];

			if (c < 0x80)
				strbuf_addc(out, (char)c);
			else {
				strbuf_addc(out, (char)(0xc0 | (c >> 6)));
				strbuf_addc(out, (char)(0x80 | (c & 0x3f)));
			}
		}
		return 0;
	}
	if (csn == 0 || csn >= sizeof(name))
		return -1;
	memcpy(name, cs, csn);
	name[csn] = '\0';
	if ((cd = iconv_open("UTF-8", name)) == (iconv_t)-1)
		return -1;
	in = raw->s;
	inleft = raw->len;
	while (inleft > 0 && rc == 0) {
		o = buf;
		oleft = sizeof(buf);
		if (iconv(cd, &in, &inleft, &o, &oleft) == (size_t)-1 &&
		    errno != E2BIG)
			rc = -1;
		strbuf_add(out, buf, sizeof(buf) - oleft);
	}
	iconv_close(cd);
	return rc;
}

size_t
rfc5322_eword_len(const char *s, size_t n)
{
	size_t i = 2, q = 0;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	for (; i < n && i < EWORD_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f)
			return 0;
		if (c != '?')
			continue;
		q++;
		if (q == 2 && (i < 2 || strchr("BbQq", s[i - 1]) == NULL ||
		    s[i - 2] != '?'))
			return 0;
		if (q == 3)
			return i + 1 < n && s[i + 1] == '=' ? i + 2 : 0;
	}
	return 0;
}

int
rfc5322_eword_decode(const char *s, size_t n, struct strbuf *out)
{
	const char *cs = s + 2, *q1, *text;
	struct strbuf raw;
	size_t csn;
	int enc, rc;

	q1 = memchr(cs, '?', n - 2);
	if (q1 == NULL)
		return -1;
	csn = (size_t)(q1 - cs);
	enc = tolower((unsigned char)q1[1]);
	text = q1 + 3;
	if (text > s + n - 2)
		return -1;
	/* RFC 2231: charset*language */
	for (size_t i = 0; i < csn; i++)
		if (cs[i] == '*') {
			csn = i;
			break;
		}
	strbuf_init(&raw, 64);
	rc = eword_octets(enc, text, (size_t)(s + n - 2 - text), &raw);
	if (rc == 0) {
		struct strbuf conv;

		strbuf_init(&conv, raw.len + 8);
		rc = eword_convert(cs, csn, &raw, &conv);
		if (rc == 0)
			for (size_t i = 0; i < conv.len; i++)
				if (conv.s[i] != '\0')
					strbuf_addc(out, conv.s[i]);
		strbuf_free(&conv);
	}
	strbuf_free(&raw);
	return rc;
}

char *
rfc5322_decode_text(const char *s, size_t len)
{
	struct strbuf out, ws;
	int prev_eword = 0;
	size_t i = 0;

	strbuf_init(&out, len + 1);
	strbuf_init(&ws, 8);
	while (i < len) {
		size_t start = i, ew;

		if (s[i] == '\r' || s[i] == '\n') {
			i++;
			continue;
		}
		if (s[i] == ' ' || s[i] == '\t') {
			strbuf_addc(&ws, s[i++]);
			continue;
		}
		while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
		    s[i] != '\n')
			i++;
		ew = rfc5322_eword_len(s + start, i - start);
		if (ew == i - start) {
			struct strbuf dec;

			strbuf_init(&dec, ew);
			if (rfc5322_eword_decode(s + start, ew, &dec) == 0) {
				if (!prev_eword)
					strbuf_add(&out, ws.s, ws.len);
				strbuf_add(&out, dec.s, dec.len);
				strbuf_free(&dec);
				strbuf_reset(&ws);
				prev_eword = 1;
				continue;
			}
			strbuf_free(&dec);
		}
		strbuf_add(&out, ws.s, ws.len);
		strbuf_reset(&ws);
		for (size_t k = start; k < i; k++)
			if (s[k] != '\0')
				strbuf_addc(&out, s[k]);
		prev_eword = 0;
	}
	strbuf_free(&ws);
	return strbuf_detach(&out);
}
