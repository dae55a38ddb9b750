/*
 * sha256 - SHA-256 digests through OpenSSL EVP (see sha256.h)
 *
 * The only file that includes an OpenSSL header (scripts/check-layers).
 * The algorithm is fetched once (pthread_once) instead of on every call:
 * the evidence writer hashes every record and verify hashes whole logs.
 * HMAC is RFC 2104 built on that digest, not OpenSSL's HMAC(), which
 * fetches the MAC and its digest by name on every call. A prepared key
 * keeps the two hash states after the padded key blocks; a MAC copies
 * them (EVP_MD_CTX_copy_ex), so it hashes only its data and the inner
 * digest: two compressions for a short message instead of four.
 *
 * Ownership: nothing is kept past a call but the fetched EVP_MD, which
 * lives for the process, and prepared keys (sha256_hmac_key_free).
 * Threads: safe; each call has its own context; a prepared key is only
 * read (copied from) after it is made.
 * Errors: a libcrypto failure aborts (see sha256.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sha256.h"
#include "xalloc.h"

#define SHA256_LEN	32
#define SHA256_BLOCK	64	/* the HMAC key block (RFC 2104 "B") */

struct sha256_hmac_key {
	EVP_MD_CTX	*inner;		/* after key ^ ipad */
	EVP_MD_CTX	*outer;		/* after key ^ opad */
};

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void
sha256_die(const char *what)
{
	/* No log call: this means libcrypto itself is broken. */
	fprintf(stderr, "aup: libcrypto failure in %s\n", what);
	abort();
}

/* A context started on SHA-256. */
static EVP_MD_CTX *
sha256_ctx_new(void)
{
	EVP_MD_CTX *ctx;

	pthread_once(&sha256_once, sha256_fetch);
	if (sha256_md == NULL)
		sha256_die("EVP_MD_fetch");
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		sha256_die("EVP_MD_CTX_new");
	if (EVP_DigestInit_ex2(ctx, sha256_md, NULL) != 1)
		sha256_die("EVP_DigestInit_ex2");
	return ctx;
}

static void
sha256_update(EVP_MD_CTX *ctx, const void *data, size_t len)
{
	if (EVP_DigestUpdate(ctx, data, len) != 1)
		sha256_die("EVP_DigestUpdate");
}

static void
sha256_final(EVP_MD_CTX *ctx, unsigned char md[SHA256_LEN])
{
	unsigned int mdlen = 0;

	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != SHA256_LEN)
		sha256_die("EVP_DigestFinal_ex");
}

static void
sha256_raw(const void *data, size_t len, unsigned char md[SHA256_LEN])
{
	EVP_MD_CTX *ctx = sha256_ctx_new();

	sha256_update(ctx, data, len);
	sha256_final(ctx, md);
	EVP_MD_CTX_free(ctx);
}

void
sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_LEN];

	sha256_raw(data, len, md);
	for (size_t i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[SHA256_HEX_LEN] = '\0';
}

/* The inner and outer key blocks of RFC 2104 (a long key is hashed). */
static void
sha256_hmac_pads(const void *key, size_t klen,
    unsigned char ipad[SHA256_BLOCK], unsigned char opad[SHA256_BLOCK])
{
	unsigned char k[SHA256_BLOCK];

	memset(k, 0, sizeof(k));
	if (klen > SHA256_BLOCK)
		sha256_raw(key, klen, k);
	else if (klen > 0)
		memcpy(k, key, klen);
	for (size_t i = 0; i < SHA256_BLOCK; i++) {
		ipad[i] = k[i] ^ 0x36;
		opad[i] = k[i] ^ 0x5c;
	}
	OPENSSL_cleanse(k, sizeof(k));
}

void
sha256_hmac(const void *key, size_t klen, const void *data, size_t len,
    unsigned char out[32])
{
	unsigned char ipad[SHA256_BLOCK], opad[SHA256_BLOCK], in[SHA256_LEN];
	EVP_MD_CTX *ctx;

	sha256_hmac_pads(key, klen, ipad, opad);
	ctx = sha256_ctx_new();
	sha256_update(ctx, ipad, sizeof(ipad));
	sha256_update(ctx, data, len);
	sha256_final(ctx, in);
	if (EVP_DigestInit_ex2(ctx, sha256_md, NULL) != 1)
		sha256_die("EVP_DigestInit_ex2");
	sha256_update(ctx, opad, sizeof(opad));
	sha256_update(ctx, in, sizeof(in));
	sha256_final(ctx, out);
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(ipad, sizeof(ipad));
	OPENSSL_cleanse(opad, sizeof(opad));
}

struct sha256_hmac_key *
sha256_hmac_key_new(const void *key, size_t klen)
{
	unsigned char ipad[SHA256_BLOCK], opad[SHA256_BLOCK];
	struct sha256_hmac_key *k;

	k = xcalloc(1, sizeof(*k));
	sha256_hmac_pads(key, klen, ipad, opad);
	k->inner = sha256_ctx_new();
	sha256_update(k->inner, ipad, sizeof(ipad));
	k->outer = sha256_ctx_new();
	sha256_update(k->outer, opad, sizeof(opad));
	OPENSSL_cleanse(ipad, sizeof(ipad));
	OPENSSL_cleanse(opad, sizeof(opad));
	return k;
}

void
sha256_hmac_key_free(struct sha256_hmac_key *k)
{
	if (k == NULL)
		return;
	EVP_MD_CTX_free(k->inner);
	EVP_MD_CTX_free(k->outer);
	free(k);
}

void
sha256_hmac_keyed(const struct sha256_hmac_key *k, const void *data,
    size_t len, unsigned char out[32])
{
	unsigned char in[SHA256_LEN];
	EVP_MD_CTX *ctx;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		sha256_die("EVP_MD_CTX_new");
	if (EVP_MD_CTX_copy_ex(ctx, k->inner) != 1)
		sha256_die("EVP_MD_CTX_copy_ex");
	sha256_update(ctx, data, len);
	sha256_final(ctx, in);
	if (EVP_MD_CTX_copy_ex(ctx, k->outer) != 1)
		sha256_die("EVP_MD_CTX_copy_ex");
	sha256_update(ctx, in, sizeof(in));
	sha256_final(ctx, out);
	EVP_MD_CTX_free(ctx);
}
