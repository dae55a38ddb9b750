/*
 * json - unit tests: escaping table, field reading on tricky lines, and a
 * small deterministic fuzz pass (every prefix and random mutations of the
 * tricky lines must be answered without reading past len: run under ASan)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "strbuf.h"
#include "tap.h"
#include "xalloc.h"

struct esc_case {
	const char	*name;
	const char	*in;
	size_t		 len;	/* 0: strlen(in) */
	const char	*want;	/* JSON text */
};

#define S(x)	x, sizeof(x) - 1

static const struct esc_case esc_cases[] = {
	{ "plain ascii", S("hello world"), "\"hello world\"" },
	{ "empty", S(""), "\"\"" },
	{ "quote", S("a\"b"), "\"a\\\"b\"" },
	{ "backslash", S("a\\b"), "\"a\\\\b\"" },
	{ "slash kept", S("a/b"), "\"a/b\"" },
	{ "NUL", S("a\0b"), "\"a\\u0000b\"" },
	{ "CR LF", S("a\r\nb"), "\"a\\u000d\\u000ab\"" },
	{ "tab", S("\t"), "\"\\u0009\"" },
	{ "ESC (ANSI)", S("\x1b[31m"), "\"\\u001b[31m\"" },
	{ "unit sep", S("\x1f"), "\"\\u001f\"" },
	{ "DEL", S("\x7f"), "\"\\u007f\"" },
	{ "C1 U+0085", S("\xc2\x85"), "\"\\u0085\"" },
	{ "C1 U+009F", S("\xc2\x9f"), "\"\\u009f\"" },
	{ "U+00A0 kept", S("\xc2\xa0"), "\"\xc2\xa0\"" },
	{ "RLO U+202E", S("a\xe2\x80\xae" "b"), "\"a\\u202eb\"" },
	{ "LRE U+202A", S("\xe2\x80\xaa"), "\"\\u202a\"" },
	{ "RLI U+2067", S("\xe2\x81\xa7"), "\"\\u2067\"" },
	{ "PDI U+2069", S("\xe2\x81\xa9"), "\"\\u2069\"" },
	{ "LRM U+200E", S("\xe2\x80\x8e"), "\"\\u200e\"" },
	{ "ALM U+061C", S("\xd8\x9c"), "\"\\u061c\"" },
	{ "U+2010 kept", S("\xe2\x80\x90"), "\"\xe2\x80\x90\"" },
	{ "e acute kept", S("caf\xc3\xa9"), "\"caf\xc3\xa9\"" },
	{ "CJK kept", S("\xe4\xb8\xad"), "\"\xe4\xb8\xad\"" },
	{ "emoji kept", S("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"" },
	{ "U+10FFFF kept", S("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"" },
	{ "lone continuation", S("\x80"), "\"\\\\x80\"" },
	{ "overlong /", S("\xc0\xaf"), "\"\\\\xc0\\\\xaf\"" },
	{ "overlong C1 lead", S("\xc1\xbf"), "\"\\\\xc1\\\\xbf\"" },
	{ "overlong 3-byte", S("\xe0\x80\xaf"),
	    "\"\\\\xe0\\\\x80\\\\xaf\"" },
	{ "surrogate D800", S("\xed\xa0\x80"), "\"\\\\xed\\\\xa0\\\\x80\"" },
	{ "> U+10FFFF", S("\xf4\x90\x80\x80"),
	    "\"\\\\xf4\\\\x90\\\\x80\\\\x80\"" },
	{ "F5 lead", S("\xf5"), "\"\\\\xf5\"" },
	{ "FF byte", S("\xff"), "\"\\\\xff\"" },
	{ "truncated 2-byte at end", S("a\xc3"), "\"a\\\\xc3\"" },
	{ "truncated 3-byte then ascii", S("\xe2\x80" "z"),
	    "\"\\\\xe2\\\\x80z\"" },
	{ "truncated 4-byte", S("\xf0\x9f\x98"),
	    "\"\\\\xf0\\\\x9f\\\\x98\"" },
	{ "invalid then valid", S("\xff\xc3\xa9"), "\"\\\\xff\xc3\xa9\"" },
	{ "literal backslash-x text", S("\\x41"), "\"\\\\x41\"" },
};

static void
test_escaping(void)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
		const struct esc_case *c = &esc_cases[i];

		strbuf_init(&sb, 0);
		json_str(&sb, c->in, c->len);
		is_str(sb.s, c->want, "json_str: %s", c->name);
		strbuf_free(&sb);
	}
	strbuf_init(&sb, 0);
	json_cstr(&sb, NULL);
	is_str(sb.s, "null", "json_cstr(NULL) is null");
	strbuf_free(&sb);
}

/* Every byte of every escaped output is printable ASCII or valid UTF-8. */
static void
test_escape_all_bytes(void)
{
	struct strbuf sb = STRBUF_INIT, back = STRBUF_INIT;
	char in[256];
	int bad = 0;

	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	strbuf_init(&sb, 0);
	json_str(&sb, in, sizeof(in));
	for (size_t i = 0; i < sb.len; i++)
		if ((unsigned char)sb.s[i] < 0x20 ||
		    (unsigned char)sb.s[i] >= 0x7f)
			bad++;
	is_int(bad, 0, "all 256 bytes: output is printable ASCII");
	strbuf_init(&back, 0);
	is_int(json_decode(sb.s, sb.len, &back), 0, "output decodes");
	/* 128 ASCII bytes back as they were, 128 others as "\xNN" text. */
	is_int((long long)back.len, 128 + 128 * 4, "decoded length");
	ok(memcmp(back.s, in, 128) == 0, "ASCII round-trips");
	ok(memcmp(back.s + 128, "\\x80\\x81", 8) == 0,
	    "high bytes decode to \\xNN text");
	strbuf_free(&sb);
	strbuf_free(&back);
}

struct field_case {
	const char	*name;
	const char	*obj;
	const char	*key;
	int		 rc;
	const char	*want;	/* decoded / raw value when rc == 1 */
};

static const struct field_case field_cases[] = {
	{ "simple", "{\"a\":\"x\",\"b\":\"y\"}", "b", 1, "y" },
	{ "first", "{\"a\":\"x\",\"b\":\"y\"}", "a", 1, "x" },
	{ "absent", "{\"a\":\"x\"}", "b", 0, NULL },
	{ "empty object", "{}", "a", 0, NULL },
	{ "spaces", " { \"a\" : \"x\" , \"b\" : 12 } ", "b", 1, "12" },
	{ "escaped quote in value", "{\"a\":\"x\\\"y\",\"b\":\"z\"}", "a", 1,
	    "x\"y" },
	{ "key inside a string value", "{\"s\":\"\\\"b\\\":\\\"no\",\"b\":"
	    "\"yes\"}", "b", 1, "yes" },
	{ "key text as value only", "{\"s\":\"b\"}", "b", 0, NULL },
	{ "key nested in object", "{\"o\":{\"b\":\"no\"}}", "b", 0, NULL },
	{ "key nested in array", "{\"r\":[{\"b\":1}],\"c\":2}", "b", 0,
	    NULL },
	{ "nested value raw", "{\"o\":{\"x\":[1,2,{\"y\":\"]\"}]},\"n\":1}",
	    "o", 1, "{\"x\":[1,2,{\"y\":\"]\"}]}" },
	{ "array value raw", "{\"r\":[\"a\",\"b\"]}", "r", 1,
	    "[\"a\",\"b\"]" },
	{ "null is absent", "{\"a\":null}", "a", 0, NULL },
	{ "true raw", "{\"a\":true}", "a", 1, "true" },
	{ "negative exp number", "{\"a\":-1.5e+3}", "a", 1, "-1.5e+3" },
	{ "unicode escape", "{\"a\":\"\\u00e9\\u202e\"}", "a", 1,
	    "\xc3\xa9\xe2\x80\xae" },
	{ "surrogate pair", "{\"a\":\"\\ud83d\\ude00\"}", "a", 1,
	    "\xf0\x9f\x98\x80" },
	{ "lone surrogate", "{\"a\":\"\\ud83dx\"}", "a", 1,
	    "\xef\xbf\xbdx" },
	{ "short escapes", "{\"a\":\"\\n\\t\\/\\\\\"}", "a", 1, "\n\t/\\" },
	{ "escaped key", "{\"\\u0062\":\"v\"}", "b", 1, "v" },
	{ "hex text", "{\"a\":\"\\\\xff\"}", "a", 1, "\\xff" },
	{ "truncated string", "{\"a\":\"x", "a", -1, NULL },
	{ "truncated after key", "{\"a\":", "a", -1, NULL },
	{ "truncated before key", "{\"a\":1,", "b", -1, NULL },
	{ "found before damage", "{\"a\":1,\"b\":", "a", 1, "1" },
	{ "not an object", "[1,2]", "a", -1, NULL },
	{ "garbage", "hello", "a", -1, NULL },
	{ "empty input", "", "a", -1, NULL },
	{ "bad escape", "{\"a\":\"\\q\"}", "a", -1, NULL },
	{ "short \\u", "{\"a\":\"\\u12\"}", "a", -1, NULL },
	{ "raw control in string", "{\"a\":\"x\ny\"}", "a", -1, NULL },
	{ "missing colon", "{\"a\" \"x\"}", "a", -1, NULL },
	{ "bad literal", "{\"a\":tru}", "a", -1, NULL },
	{ "unbalanced nesting", "{\"o\":[1,2},\"a\":1}", "a", -1, NULL },
	{ "leading zero", "{\"z\":01,\"a\":1}", "a", -1, NULL },
};

static void
test_field(void)
{
	struct strbuf out = STRBUF_INIT;

	for (size_t i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]);
	    i++) {
		const struct field_case *c = &field_cases[i];
		int rc;

		strbuf_init(&out, 0);
		rc = json_field(c->obj, strlen(c->obj), c->key, &out);
		is_int(rc, c->rc, "json_field rc: %s", c->name);
		if (c->rc == 1)
			is_str(out.s, c->want, "json_field value: %s", c->name);
		strbuf_free(&out);
	}
}

static void
test_depth(void)
{
	struct strbuf sb = STRBUF_INIT, out = STRBUF_INIT;

	strbuf_init(&sb, 0);
	strbuf_adds(&sb, "{\"a\":");
	for (int i = 0; i < 63; i++)
		strbuf_addc(&sb, '[');
	for (int i = 0; i < 63; i++)
		strbuf_addc(&sb, ']');
	strbuf_adds(&sb, ",\"b\":1}");
	strbuf_init(&out, 0);
	is_int(json_field(sb.s, sb.len, "b", &out), 1, "depth 64 is read");
	strbuf_reset(&sb);
	strbuf_adds(&sb, "{\"a\":");
	for (int i = 0; i < 100000; i++)
		strbuf_addc(&sb, '[');
	is_int(json_field(sb.s, sb.len, "b", &out), -1,
	    "100000 open brackets: malformed, no crash");
	is_int(json_object_check(sb.s, sb.len), -1, "object_check agrees");
	strbuf_free(&sb);
	strbuf_free(&out);
}

struct collect {
	struct strbuf	sb;
	int		n;
	int		stop_at;
};

static int
collect_cb(const char *s, size_t len, void *arg)
{
	struct collect *c = arg;

	if (c->n++ > 0)
		strbuf_addc(&c->sb, '|');
	strbuf_add(&c->sb, s, len);
	return c->n == c->stop_at;
}

static void
test_array(void)
{
	const char *line = "{\"rcpts\":[\"a@x\", \"b\\\"@y\",3,{\"rcpt\":"
	    "\"c@z\",\"n\":[1]}],\"e\":[],\"s\":\"str\",\"z\":null}";
	struct collect c = { STRBUF_INIT, 0, 0 };

	strbuf_init(&c.sb, 0);
	is_int(json_array_each(line, strlen(line), "rcpts", collect_cb, &c), 1,
	    "array_each: found");
	is_str(c.sb.s, "a@x|b\"@y|{\"rcpt\":\"c@z\",\"n\":[1]}",
	    "array_each: strings decoded, objects raw, numbers skipped");
	strbuf_reset(&c.sb);
	c.n = 0;
	c.stop_at = 1;
	json_array_each(line, strlen(line), "rcpts", collect_cb, &c);
	is_str(c.sb.s, "a@x", "array_each: stops when fn says so");
	c.stop_at = 0;
	c.n = 0;
	is_int(json_array_each(line, strlen(line), "e", collect_cb, &c), 1,
	    "array_each: empty array is found");
	is_int(c.n, 0, "array_each: no call for an empty array");
	is_int(json_array_each(line, strlen(line), "nope", collect_cb, &c), 0,
	    "array_each: absent");
	is_int(json_array_each(line, strlen(line), "z", collect_cb, &c), 0,
	    "array_each: null is absent");
	is_int(json_array_each(line, strlen(line), "s", collect_cb, &c), -1,
	    "array_each: a string is not an array");
	is_int(json_array_each(line, 20, "rcpts", collect_cb, &c), -1,
	    "array_each: truncated");
	strbuf_free(&c.sb);
}

static void
test_check_and_decode(void)
{
	struct strbuf out = STRBUF_INIT;

	is_int(json_object_check(S("{\"a\":[1,{\"b\":null}]}\n")), 0,
	    "object_check: good, trailing newline");
	is_int(json_object_check(S("{\"a\":1}{")), -1,
	    "object_check: trailing garbage");
	is_int(json_object_check(S("{\"a\":1,}")), -1,
	    "object_check: trailing comma");
	is_int(json_object_check(S("{\"a\"}")), -1,
	    "object_check: member without value");
	strbuf_init(&out, 0);
	is_int(json_decode(S("\"a\\u0041\""), &out), 0, "decode: ok");
	is_str(out.s, "aA", "decode: value");
	is_int(json_decode(S("\"a\" "), &out), -1, "decode: trailing byte");
	is_int(json_decode(S("\"a"), &out), -1, "decode: unterminated");
	strbuf_free(&out);
}

static const char *const fuzz_seeds[] = {
	"{\"ts\":\"2026-11-22T10:01:02.123Z\",\"ref\":\"0123456789ab\","
	    "\"rcpts\":[\"a@x\",\"b@y\"],\"rejected_rcpts\":[{\"rcpt\":"
	    "\"c@z\",\"rule\":\"optout\"}],\"n\":-1.5e3,\"t\":true,"
	    "\"o\":{\"x\":[[],{}]},\"u\":\"\\ud83d\\ude00\\u00e9\\\"\"}",
	"{\"a\":\"\\\\x41\\n\",\"b\":[1,[2,[3,[4]]]],\"c\":null}",
};

/* Prefixes and byte mutations: the readers must never misbehave. */
static void
test_fuzz(void)
{
	static const char *const keys[] = { "ts", "rcpts", "rejected_rcpts",
	    "u", "c", "zz" };
	struct collect c = { STRBUF_INIT, 0, 0 };
	struct strbuf out = STRBUF_INIT;
	unsigned int seed = 12345;
	long calls = 0;

	strbuf_init(&c.sb, 0);
	strbuf_init(&out, 0);
	for (size_t s = 0; s < sizeof(fuzz_seeds) / sizeof(*fuzz_seeds); s++) {
		size_t len = strlen(fuzz_seeds[s]);
		char *buf = xmalloc(len);

		for (int round = 0; round < 4000; round++) {
			size_t n = round < (int)len ? (size_t)round : len;

			memcpy(buf, fuzz_seeds[s], len);
			if (round >= (int)len)
				for (int k = 0; k < 3; k++) {
					seed = seed * 1103515245 + 12345;
					buf[(seed >> 8) % len] = (char)(seed >> 20);
				}
			/* An exact-size heap copy: ASan sees any overread. */
			char *exact = xmalloc(n ? n : 1);
			memcpy(exact, buf, n);
			for (size_t k = 0; k < sizeof(keys) / sizeof(*keys); k++) {
				strbuf_reset(&out);
				json_field(exact, n, keys[k], &out);
				strbuf_reset(&c.sb);
				c.n = 0;
				json_array_each(exact, n, keys[k], collect_cb, &c);
				calls += 2;
			}
			json_object_check(exact, n);
			strbuf_reset(&out);
			json_decode(exact, n, &out);
			free(exact);
		}
		free(buf);
	}
	ok(calls > 0, "fuzz: %ld reader calls on prefixes and mutations", calls);
	strbuf_free(&c.sb);
	strbuf_free(&out);
}

int
main(void)
{
	plan_no_plan();
	test_escaping();
	test_escape_all_bytes();
	test_field();
	test_depth();
	test_array();
	test_check_and_decode();
	test_fuzz();
	return tap_done();
}
