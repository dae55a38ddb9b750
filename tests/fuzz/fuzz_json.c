/*
 * fuzz_json - the JSON reader and writer of util/json.h
 *
 * The input is an object line as evidence search and verify read it:
 * json_object_check, json_field and json_array_each for a few keys, and
 * json_decode of the whole input as a string literal. Properties, each
 * an abort() when broken:
 *   - a line json_object_check accepts is never "malformed" to
 *     json_field, nor to json_array_each unless the member is not an
 *     array;
 *   - json_str of the input (any bytes) is one string literal that
 *     json_decode accepts, is valid UTF-8, and holds no raw C0, DEL, C1
 *     or bidi control; for input that is valid UTF-8 it decodes back to
 *     exactly the input.
 * Ownership: every strbuf is freed here. Threads: single.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "strbuf.h"

/* Keys of real records, the empty key and one that needs decoding. */
static const char *const fz_keys[] = {
	"ref", "event", "rcpts", "rejected_rcpts", "hash", "a", "",
	"caf\xc3\xa9",
};

#define NKEYS	(sizeof(fz_keys) / sizeof(fz_keys[0]))

/* Length of the strictly valid UTF-8 sequence at s, or 0; sets *cp. */
static size_t
fz_utf8(const uint8_t *s, size_t n, uint32_t *cp)
{
	size_t need, i;
	uint32_t v, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		need = 1, v = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 2, v = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 3, v = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	if (n < need + 1)
		return 0;
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return need + 1;
}

static int
fz_valid_utf8(const uint8_t *s, size_t n)
{
	uint32_t cp;
	size_t k;

	for (size_t i = 0; i < n; i += k)
		if ((k = fz_utf8(s + i, n - i, &cp)) == 0)
			return 0;
	return 1;
}

/* A code point json_str must never write raw. */
static int
fz_control(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static void
fz_escape(const uint8_t *data, size_t size)
{
	struct strbuf sb = STRBUF_INIT, back = STRBUF_INIT;
	const uint8_t *s;
	uint32_t cp;
	size_t k;

	json_str(&sb, (const char *)data, size);
	s = (const uint8_t *)sb.s;
	if (sb.len < 2 || s[0] != '"' || s[sb.len - 1] != '"')
		abort();
	for (size_t i = 0; i < sb.len; i += k) {
		if ((k = fz_utf8(s + i, sb.len - i, &cp)) == 0)
			abort();	/* invalid UTF-8 written */
		if (fz_control(cp))
			abort();	/* raw control written */
	}
	if (json_decode(sb.s, sb.len, &back) < 0)
		abort();		/* not one string literal */
	if (fz_valid_utf8(data, size) &&
	    (back.len != size ||
	    (size > 0 && memcmp(back.s, data, size) != 0)))
		abort();		/* valid text did not round-trip */
	strbuf_free(&back);
	strbuf_free(&sb);
}

/*
 * Touch every byte handed out, and read into what looks like an object
 * element as search does with rejected_rcpts. Its well-formedness is not
 * a property: a string element is handed out decoded, and may decode to
 * text that begins with '{' (the API does not tell the two apart).
 */
static int
fz_elem(const char *s, size_t len, void *arg)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned *sum = arg;

	for (size_t i = 0; i < len; i++)
		*sum += (unsigned char)s[i];
	if (len > 0 && s[0] == '{') {
		json_field(s, len, "rcpt", &sb);
		strbuf_free(&sb);
	}
	return 0;
}

static void
fz_read(const char *obj, size_t len)
{
	struct strbuf out = STRBUF_INIT;
	int wellformed = json_object_check(obj, len) == 0;
	unsigned sum = 0;
	int rc;

	for (size_t i = 0; i < NKEYS; i++) {
		strbuf_reset(&out);
		rc = json_field(obj, len, fz_keys[i], &out);
		if (wellformed && rc < 0)
			abort();
		/* -1 here only for a member that is there but no array. */
		rc = json_array_each(obj, len, fz_keys[i], fz_elem, &sum);
		if (wellformed && rc < 0 && json_field(obj, len, fz_keys[i],
		    &out) != 1)
			abort();
	}
	strbuf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf sb = STRBUF_INIT;

	fz_read((const char *)data, size);
	json_decode((const char *)data, size, &sb);
	strbuf_free(&sb);
	fz_escape(data, size);
	return 0;
}
