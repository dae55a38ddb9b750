/*
 * Unit tests for util/hash64: every byte counts, seeds differ, keys that
 * differ only slightly spread evenly over a table's buckets.
 */
#include <stdio.h>
#include <string.h>

#include "hash64.h"
#include "tap.h"

static void
test_every_byte(void)
{
	char key[40] = "C cust1234\0\003r77@dest9.example.net";
	uint64_t base = hash64(key, sizeof(key), 0);
	int same = 0;

	for (size_t len = 1; len <= sizeof(key); len++)
		for (size_t i = 0; i < len; i++) {
			uint64_t h0 = hash64(key, len, 0);

			key[i] ^= 0x01;
			same += hash64(key, len, 0) == h0;
			key[i] ^= 0x01;
		}
	ok(same == 0, "flipping any bit of any byte (lengths 1-40) changes "
	    "the hash");
	ok(hash64(key, sizeof(key), 0) == base, "the same input hashes alike");
	ok(hash64(key, sizeof(key), 1) != base, "another seed, another hash");
	ok(hash64("", 0, 0) != hash64("\0", 1, 0), "the length counts");
}

static void
test_spread(void)
{
	enum { KEYS = 200000, BUCKETS = 4096 };
	static unsigned load[BUCKETS];
	char key[64];
	unsigned max = 0;
	int len;

	for (int i = 0; i < KEYS; i++) {
		len = snprintf(key, sizeof(key), "C cust%d%c%cr%d@dest%d.example",
		    i % 1000, 0, 3, i, i % 50);
		load[hash64(key, (size_t)len, 0) % BUCKETS]++;
	}
	for (int i = 0; i < BUCKETS; i++)
		if (load[i] > max)
			max = load[i];
	/* Mean 48.8; a uniform spread stays under 90 with near certainty. */
	ok(max < 90, "200000 similar keys in 4096 buckets: fullest has %u "
	    "(mean 48.8)", max);
}

int
main(void)
{
	plan_no_plan();
	test_every_byte();
	test_spread();
	return tap_done();
}
