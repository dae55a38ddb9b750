/*
 * bloom - a blocked Bloom filter over 64-bit hashes (hash64.h)
 *
 * "Certainly not added" or "maybe added": a lookup that says no is exact,
 * one that says maybe must ask the real table. All of a key's bits lie
 * in one 512-bit block (one cache line), so a lookup costs one cache miss
 * (a plain Bloom filter costs one per probe) for a slightly higher false
 * positive rate: about 1% at 10 bits per key (4 probes), growing with
 * more keys, which only costs lookups in the real table.
 * Ownership: the filter owns its bits. Threads: none of its own; readers
 * and writers must be serialised by the caller.
 */
#ifndef AUP_BLOOM_H
#define AUP_BLOOM_H

#include <stddef.h>
#include <stdint.h>

struct bloom {
	uint64_t	*bits;
	size_t		 nblocks;	/* a power of two */
};

/* Room for about keys keys at 10 bits each (at least 64 KB). */
void	bloom_init(struct bloom *b, size_t keys);
void	bloom_free(struct bloom *b);	/* bits NULL: no-op */
void	bloom_clear(struct bloom *b);
void	bloom_add(struct bloom *b, uint64_t h);
int	bloom_may_have(const struct bloom *b, uint64_t h);
/*
 * The same with the block chosen by where and the bits by h: keys that
 * share where (one address on several lists) share one cache line, so
 * testing them all costs one miss.
 */
void	bloom_add_in(struct bloom *b, uint64_t where, uint64_t h);
int	bloom_may_have_in(const struct bloom *b, uint64_t where, uint64_t h);
/*
 * Start fetching the block of h (or of where, for the _in calls):
 * callers with several keys to test fetch them all first, so their cache
 * misses overlap instead of adding up.
 */
void	bloom_prefetch(const struct bloom *b, uint64_t h);

#endif
