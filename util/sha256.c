/*
 * sha256 - SHA-256 digests through OpenSSL EVP (see sha256.h)
 *
 * The only file that includes an OpenSSL header (scripts/check-layers).
 * The algorithm is fetched once (pthread_once) instead of on every call:
 * the evidence writer hashes every record and verify hashes whole logs.
 *
 * Ownership: nothing is kept past a call but the fetched EVP_MD, which
 * lives for the process. Threads: safe; each call has its own context.
 * Errors: a libcrypto failure aborts (see sha256.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sha256.h"

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

void
sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;

	pthread_once(&sha256_once, sha256_fetch);
	if (sha256_md == NULL)
		sha256_die("EVP_MD_fetch");
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		sha256_die("EVP_MD_CTX_new");
	if (EVP_DigestInit_ex2(ctx, sha256_md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != sizeof(md))
		sha256_die("EVP_Digest");
	EVP_MD_CTX_free(ctx);
	for (size_t i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[SHA256_HEX_LEN] = '\0';
}

void
sha256_hmac(const void *key, size_t klen, const void *data, size_t len,
    unsigned char out[32])
{
	unsigned int mdlen = 0;

	if (HMAC(EVP_sha256(), key, (int)klen, data, len, out, &mdlen) ==
	    NULL || mdlen != 32)
		sha256_die("HMAC");
}
