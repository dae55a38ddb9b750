/*
 * db_cache - a bounded cache of answers read from one LMDB environment
 * (see db_cache.h for what it caches, when entries stop counting and why
 * that is safe)
 *
 * Layout: one array of slots, DB_CACHE_WAYS per set; a slot is a header,
 * the key (keymax bytes) and the value. The set of a key is picked by
 * its hash; set i is guarded by stripe i % DB_CACHE_STRIPES, whose use
 * counter stamps the slots for least-recently-used replacement (stamps
 * are only compared within one set, so within one stripe).
 * Ownership: the cache owns its slots. Threads: see db_cache.h.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_cache.h"
#include "hash64.h"
#include "xalloc.h"

#define DB_CACHE_WAYS		4
#define DB_CACHE_STRIPES	16
#define DB_CACHE_SEED		0x6462636163686531ULL	/* "dbcache1" */
#define DB_CACHE_ALIGN(n)	(((n) + 7) & ~(size_t)7)

struct db_cache_slot {
	uint64_t	hash;
	uint64_t	txnid;		/* of the snapshot; 0: free */
	uint64_t	used;		/* the stripe's counter at the last use */
	int64_t		lo, hi;		/* holds at times in [lo, hi) */
	size_t		klen;
	/* then the key (keymax bytes) and the value (valsize bytes) */
};

struct db_cache_stripe {
	pthread_mutex_t	mu;
	uint64_t	clock;
	unsigned long	hits, misses, stores;
};

struct db_cache {
	struct db	*db;
	size_t		 nsets;		/* a power of two */
	size_t		 keymax, valsize;
	size_t		 keyoff, valoff, slotsize;
	unsigned char	*slots;
	unsigned long	 uncached;	/* atomic: misses without a look */
	struct db_cache_stripe stripe[DB_CACHE_STRIPES];
};

struct db_cache *
db_cache_new(struct db *db, size_t entries, size_t keymax, size_t valsize)
{
	struct db_cache *c = xcalloc(1, sizeof(*c));

	c->db = db;
	c->nsets = 1;
	while (c->nsets * DB_CACHE_WAYS < entries)
		c->nsets *= 2;
	c->keymax = keymax;
	c->valsize = valsize;
	c->keyoff = DB_CACHE_ALIGN(sizeof(struct db_cache_slot));
	c->valoff = c->keyoff + DB_CACHE_ALIGN(keymax);
	c->slotsize = c->valoff + DB_CACHE_ALIGN(valsize);
	c->slots = xcalloc(c->nsets * DB_CACHE_WAYS, c->slotsize);
	for (int i = 0; i < DB_CACHE_STRIPES; i++)
		pthread_mutex_init(&c->stripe[i].mu, NULL);
	return c;
}

void
db_cache_free(struct db_cache *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < DB_CACHE_STRIPES; i++)
		pthread_mutex_destroy(&c->stripe[i].mu);
	free(c->slots);
	free(c);
}

uint64_t
db_cache_txnid(struct db_cache *c)
{
	return db_last_txnid(c->db);
}

static struct db_cache_slot *
db_cache_slot(const struct db_cache *c, size_t set, int way)
{
	return (struct db_cache_slot *)(void *)(c->slots +
	    (set * DB_CACHE_WAYS + (size_t)way) * c->slotsize);
}

static int
db_cache_same_key(const struct db_cache *c, const struct db_cache_slot *s,
    uint64_t h, const void *key, size_t klen)
{
	return s->hash == h && s->klen == klen &&
	    memcmp((const unsigned char *)s + c->keyoff, key, klen) == 0;
}

int
db_cache_get(struct db_cache *c, uint64_t txnid, const void *key,
    size_t klen, int64_t now, void *val)
{
	struct db_cache_stripe *st;
	struct db_cache_slot *s;
	uint64_t h;
	size_t set;

	if (txnid == 0 || klen > c->keymax) {
		__atomic_add_fetch(&c->uncached, 1, __ATOMIC_RELAXED);
		return 0;
	}
	h = hash64(key, klen, DB_CACHE_SEED);
	set = (size_t)h & (c->nsets - 1);
	st = &c->stripe[set % DB_CACHE_STRIPES];
	pthread_mutex_lock(&st->mu);
	for (int w = 0; w < DB_CACHE_WAYS; w++) {
		s = db_cache_slot(c, set, w);
		if (s->txnid != txnid || now < s->lo || now >= s->hi ||
		    !db_cache_same_key(c, s, h, key, klen))
			continue;
		memcpy(val, (unsigned char *)s + c->valoff, c->valsize);
		s->used = ++st->clock;
		st->hits++;
		pthread_mutex_unlock(&st->mu);
		return 1;
	}
	st->misses++;
	pthread_mutex_unlock(&st->mu);
	return 0;
}

/* The slot for a new entry of key read at txnid, or NULL: keep the one. */
static struct db_cache_slot *
db_cache_victim(struct db_cache *c, size_t set, uint64_t txnid, uint64_t h,
    const void *key, size_t klen)
{
	struct db_cache_slot *s, *v = NULL;

	for (int w = 0; w < DB_CACHE_WAYS; w++) {
		s = db_cache_slot(c, set, w);
		if (db_cache_same_key(c, s, h, key, klen))
			return s->txnid > txnid ? NULL : s;
		if (v != NULL && v->txnid != txnid)
			continue;	/* a free or stale slot goes first */
		if (v == NULL || s->txnid != txnid || s->used < v->used)
			v = s;
	}
	return v;
}

void
db_cache_put(struct db_cache *c, struct db_txn *txn, const void *key,
    size_t klen, int64_t lo, int64_t hi, const void *val)
{
	struct db_cache_stripe *st;
	struct db_cache_slot *s;
	uint64_t id = db_txn_id(txn), h;
	size_t set;

	if (id == 0 || klen > c->keymax || lo >= hi ||
	    id != db_last_txnid(c->db))
		return;		/* already stale, or not to be cached */
	h = hash64(key, klen, DB_CACHE_SEED);
	set = (size_t)h & (c->nsets - 1);
	st = &c->stripe[set % DB_CACHE_STRIPES];
	pthread_mutex_lock(&st->mu);
	if ((s = db_cache_victim(c, set, id, h, key, klen)) != NULL) {
		s->hash = h;
		s->txnid = id;
		s->used = ++st->clock;
		s->lo = lo;
		s->hi = hi;
		s->klen = klen;
		memcpy((unsigned char *)s + c->keyoff, key, klen);
		memcpy((unsigned char *)s + c->valoff, val, c->valsize);
		st->stores++;
	}
	pthread_mutex_unlock(&st->mu);
}

void
db_cache_stats(struct db_cache *c, struct db_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->misses = __atomic_load_n(&c->uncached, __ATOMIC_RELAXED);
	for (int i = 0; i < DB_CACHE_STRIPES; i++) {
		struct db_cache_stripe *st = &c->stripe[i];

		pthread_mutex_lock(&st->mu);
		out->hits += st->hits;
		out->misses += st->misses;
		out->stores += st->stores;
		pthread_mutex_unlock(&st->mu);
	}
}
