/*
 * base64 - the RFC 4648 base64 alphabet, for the MIME and RFC 2047 decoders
 *
 * Each decoder keeps its own rules for padding and white space (MIME
 * bodies are lenient, encoded words are not); the alphabet is one.
 * Threads: pure.
 */
#ifndef AUP_BASE64_H
#define AUP_BASE64_H

/* The 6-bit value of base64 character c, or -1 (also for '='). */
int	base64_value(int c);

#endif
