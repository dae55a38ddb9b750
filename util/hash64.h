/*
 * hash64 - a fast 64-bit hash of a byte string, for in-memory tables
 *
 * Not cryptographic and not stable across versions: for hash tables and
 * Bloom filters of this process only (nothing hashed with it is stored).
 * Reads eight bytes at a time, so a key costs a few multiplications per
 * word rather than one per byte (FNV-1a). seed makes independent hashes.
 * Threads: pure.
 */
#ifndef AUP_HASH64_H
#define AUP_HASH64_H

#include <stddef.h>
#include <stdint.h>

uint64_t hash64(const void *p, size_t len, uint64_t seed);

#endif
