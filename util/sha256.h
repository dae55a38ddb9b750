/*
 * sha256 - SHA-256 digests (the only user of OpenSSL's libcrypto)
 *
 * Threads: safe; a prepared HMAC key is read-only once made and may be
 * shared by threads. Errors: none; a libcrypto failure aborts, as it
 * means the process is broken (allocation failure inside OpenSSL).
 */
#ifndef AUP_SHA256_H
#define AUP_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN	64

struct sha256_hmac_key;

/* Digest of data[0..len) as 64 lower-case hex digits plus NUL. */
void	sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);

/* HMAC-SHA-256 (RFC 2104) of data[0..len) under key[0..klen): 32 bytes. */
void	sha256_hmac(const void *key, size_t klen, const void *data,
	    size_t len, unsigned char out[32]);

/*
 * key[0..klen) made ready for many MACs: the hash states after the inner
 * and outer padded key, so each sha256_hmac_keyed() hashes only its data.
 * Same result as sha256_hmac() under that key. Freed by
 * sha256_hmac_key_free() (NULL is a no-op).
 */
struct sha256_hmac_key *sha256_hmac_key_new(const void *key, size_t klen);
void	sha256_hmac_key_free(struct sha256_hmac_key *k);
void	sha256_hmac_keyed(const struct sha256_hmac_key *k, const void *data,
	    size_t len, unsigned char out[32]);

#endif
