/*
 * bloom - a blocked Bloom filter (see bloom.h)
 *
 * The block is chosen by the hash's low bits, the BLOOM_PROBES bits
 * inside it by 9-bit fields from bit BLOOM_PROBE_SHIFT up, so the two
 * never share hash bits for up to 2^28 blocks (16 GB: never reached).
 */
#include <stdlib.h>
#include <string.h>

#include "bloom.h"
#include "xalloc.h"

#define BLOOM_PROBES		4
#define BLOOM_PROBE_SHIFT	28
#define BLOOM_MIN_BLOCKS	1024		/* 64 KB */
#define BLOOM_WORDS		8		/* 512 bits */

_Static_assert(BLOOM_PROBE_SHIFT + 9 * BLOOM_PROBES <= 64, "probe bits");

void
bloom_init(struct bloom *b, size_t keys)
{
	size_t want = keys / 51 + 1;	/* 512 bits per 51 keys: ~10 */

	b->nblocks = BLOOM_MIN_BLOCKS;
	while (b->nblocks < want && b->nblocks < ((size_t)1 << 27))
		b->nblocks <<= 1;
	b->bits = xcalloc(b->nblocks * BLOOM_WORDS, sizeof(uint64_t));
}

void
bloom_free(struct bloom *b)
{
	free(b->bits);
	b->bits = NULL;
	b->nblocks = 0;
}

void
bloom_clear(struct bloom *b)
{
	memset(b->bits, 0, b->nblocks * BLOOM_WORDS * sizeof(uint64_t));
}

void
bloom_add(struct bloom *b, uint64_t h)
{
	bloom_add_in(b, h, h);
}

void
bloom_add_in(struct bloom *b, uint64_t where, uint64_t h)
{
	uint64_t *blk = b->bits + (where & (b->nblocks - 1)) * BLOOM_WORDS;

	h >>= BLOOM_PROBE_SHIFT;
	for (int i = 0; i < BLOOM_PROBES; i++, h >>= 9)
		blk[(h & 511) / 64] |= 1ULL << (h % 64);
}

int
bloom_may_have(const struct bloom *b, uint64_t h)
{
	return bloom_may_have_in(b, h, h);
}

int
bloom_may_have_in(const struct bloom *b, uint64_t where, uint64_t h)
{
	const uint64_t *blk = b->bits + (where & (b->nblocks - 1)) *
	    BLOOM_WORDS;

	h >>= BLOOM_PROBE_SHIFT;
	for (int i = 0; i < BLOOM_PROBES; i++, h >>= 9)
		if ((blk[(h & 511) / 64] & (1ULL << (h % 64))) == 0)
			return 0;
	return 1;
}

void
bloom_prefetch(const struct bloom *b, uint64_t h)
{
	__builtin_prefetch(b->bits + (h & (b->nblocks - 1)) * BLOOM_WORDS);
}
