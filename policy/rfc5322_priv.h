/*
 * rfc5322_priv - what rfc5322.c and rfc5322_word.c share (module-private)
 */
#ifndef AUP_RFC5322_PRIV_H
#define AUP_RFC5322_PRIV_H

#include <stddef.h>

struct strbuf;

/* Length of the encoded word at s (0: s does not start with one). */
size_t	rfc5322_eword_len(const char *s, size_t n);
/* Append the UTF-8 of the encoded word s[0..n) to out; -1 if it cannot. */
int	rfc5322_eword_decode(const char *s, size_t n, struct strbuf *out);

#endif
