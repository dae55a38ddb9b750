/*
 * json - JSON text for the evidence log: safe escaping and field reading
 *
 * Writing: every string reaching the evidence log passes json_str(), which
 * guarantees RFC 8259 output that is also safe to show on a terminal: C0
 * controls, DEL, C1 controls and the bidi controls (U+202A..U+202E,
 * U+2066..U+2069, U+200E, U+200F, U+061C) are written as \uXXXX; each byte
 * of invalid UTF-8 (overlongs, surrogates, truncated sequences, > U+10FFFF)
 * becomes the text \xNN (JSON "\\xNN"), so the file stays valid UTF-8
 * and a reader can still see which bytes were sent.
 *
 * Reading: json_field() extracts one top-level member of a single-line
 * object without building a tree; it is what evidence search and verify
 * use to confirm a match. It never reads past len.
 *
 * Threads: pure functions. Errors: readers return -1 malformed / 0 absent
 * or null / 1 found.
 */
#ifndef AUP_JSON_H
#define AUP_JSON_H

#include <stddef.h>

#include "strbuf.h"

/* Append s[0..len) as a quoted, escaped JSON string. */
void	json_str(struct strbuf *sb, const char *s, size_t len);
/* Append a NUL-terminated string, or the literal null for NULL. */
void	json_cstr(struct strbuf *sb, const char *s);

/*
 * Find top-level member key of the object obj[0..len). For a string value
 * the decoded text is appended to out; for any other value (number, array,
 * object, true/false) its raw JSON text is appended. -1 / 0 / 1.
 */
int	json_field(const char *obj, size_t len, const char *key,
	    struct strbuf *out);

/*
 * Call fn for each string element of the top-level array member key
 * (decoded), or for each object element's raw text when the elements are
 * objects. Stops when fn returns non-zero. -1 / 0 absent / 1 found.
 */
int	json_array_each(const char *obj, size_t len, const char *key,
	    int (*fn)(const char *s, size_t slen, void *arg), void *arg);

/*
 * Decode the JSON string literal s[0..len) (quotes included) into out:
 * \uXXXX to UTF-8 (surrogate pairs joined, a lone surrogate as U+FFFD).
 * 0 / -1 if s is not exactly one well-formed string literal.
 */
int	json_decode(const char *s, size_t len, struct strbuf *out);

/*
 * Check that obj[0..len) is exactly one well-formed JSON object (nesting
 * at most 64 deep, surrounding whitespace allowed): 0 / -1.
 */
int	json_object_check(const char *obj, size_t len);

#endif
