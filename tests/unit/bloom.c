/*
 * Unit tests for util/bloom: what was added is always found (no false
 * negative), what was not is rarely "maybe" at the sized load, and a
 * cleared filter holds nothing.
 */
#include <stdio.h>
#include <string.h>

#include "bloom.h"
#include "hash64.h"
#include "tap.h"

/* The hash of "<prefix><i>@<domain>". */
static uint64_t
key_hash(const char *prefix, int i, const char *domain)
{
	char k[64];
	int n = snprintf(k, sizeof(k), "%s%d@%s", prefix, i, domain);

	return hash64(k, (size_t)n, 0);
}

int
main(void)
{
	enum { N = 200000 };
	struct bloom b;
	int missing = 0, fp = 0, left = 0;

	plan_no_plan();
	bloom_init(&b, N);
	ok(b.nblocks >= N / 51 && (b.nblocks & (b.nblocks - 1)) == 0,
	    "sized for %d keys: %zu blocks, a power of two", N, b.nblocks);
	for (int i = 0; i < N; i++)
		bloom_add(&b, key_hash("g", i, "dest.example"));
	for (int i = 0; i < N; i++)
		missing += !bloom_may_have(&b, key_hash("g", i, "dest.example"));
	is_int(missing, 0, "every key added is found");
	for (int i = 0; i < N; i++)
		fp += bloom_may_have(&b, key_hash("r", i, "other.example"));
	/* About 1% expected at 10 bits a key; 3% would mean a bad filter. */
	ok(fp < N * 3 / 100, "keys never added: %d of %d maybe (%.2f%%)", fp,
	    N, 100.0 * fp / N);
	bloom_clear(&b);
	for (int i = 0; i < N; i++)
		left += bloom_may_have(&b, key_hash("g", i, "dest.example"));
	is_int(left, 0, "cleared: nothing is found");
	/* Keys placed by another hash (one address on several lists). */
	missing = fp = 0;
	for (int i = 0; i < N / 2; i++)
		bloom_add_in(&b, key_hash("a", i, "where.example"),
		    key_hash("k", i, "what.example"));
	for (int i = 0; i < N / 2; i++)
		missing += !bloom_may_have_in(&b, key_hash("a", i,
		    "where.example"), key_hash("k", i, "what.example"));
	is_int(missing, 0, "placed by where: every key added is found");
	for (int i = 0; i < N / 2; i++)
		fp += bloom_may_have_in(&b, key_hash("a", i, "where.example"),
		    key_hash("z", i, "what.example"));
	ok(fp < N / 2 * 3 / 100, "same block, other keys: %d of %d maybe",
	    fp, N / 2);
	bloom_free(&b);
	ok(b.bits == NULL, "freed");
	return tap_done();
}
