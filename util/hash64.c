/*
 * hash64 - a fast 64-bit hash of a byte string (see hash64.h)
 *
 * Each 8-byte word (the last one zero-padded, the length folded in first)
 * is multiplied into the state and rotated; the result goes through the
 * splitmix64 finaliser so every input bit reaches every output bit.
 */
#include <string.h>

#include "hash64.h"

#define K1	0x9e3779b97f4a7c15ULL
#define K2	0xbf58476d1ce4e5b9ULL
#define K3	0x94d049bb133111ebULL

static uint64_t
rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t
fmix(uint64_t h)
{
	h ^= h >> 30;
	h *= K2;
	h ^= h >> 27;
	h *= K3;
	h ^= h >> 31;
	return h;
}

uint64_t
hash64(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = seed ^ ((uint64_t)len * K1), w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = rotl(h ^ (w * K2), 29) * K1;
	}
	if (len > 0) {
		w = 0;
		memcpy(&w, s, len);
		h = rotl(h ^ (w * K2), 29) * K1;
	}
	return fmix(h);
}
