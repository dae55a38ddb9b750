/*
 * sha256 - SHA-256 digests (the only user of OpenSSL's libcrypto)
 *
 * Threads: safe. Errors: none; a libcrypto failure aborts, as it means the
 * process is broken (allocation failure inside OpenSSL).
 */
#ifndef AUP_SHA256_H
#define AUP_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN	64

/* Digest of data[0..len) as 64 lower-case hex digits plus NUL. */
void	sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);

/* HMAC-SHA-256 (RFC 2104) of data[0..len) under key[0..klen): 32 bytes. */
void	sha256_hmac(const void *key, size_t klen, const void *data,
	    size_t len, unsigned char out[32]);

#endif
