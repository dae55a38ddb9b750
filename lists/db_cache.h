/*
 * db_cache - a bounded cache of answers read from one LMDB environment
 *
 * For lookups the daemon repeats at every message over tables it never
 * writes per message: the customer map behind attribution (policy/attrib.c)
 * and the authorized domains (policy/authz.c). Those tables change only
 * when a write transaction commits (aupctl, or an enforcement action of
 * the daemon), and every commit raises the environment's last transaction
 * id, which db_last_txnid() reads from the map without a system call.
 *
 * What it caches: a fixed-size value under a byte-string key, stored with
 * the id of the read snapshot it was read in and the span of time
 * [lo, hi) over which the answer holds (a lease ends, another starts;
 * INT64_MIN, INT64_MAX for answers that do not depend on the clock).
 *
 * When it is invalidated: an entry answers only while the environment's
 * last committed transaction id is still the id of its snapshot, and
 * only at a time inside its span. Any commit of any process to any table
 * of the environment invalidates every entry at once; nothing is flushed,
 * stale entries are simply never matched and are the first replaced.
 *
 * Why it is safe: an entry is stored only if its snapshot was the last
 * committed state when it is stored (db_txn_id() == db_last_txnid()),
 * and used only while that is still so: a hit gives what a new read
 * transaction would read (never older; a reader beginning in the instant
 * a commit publishes may still read the state before it, the cache then
 * simply misses). Transaction ids only grow, so a stale entry never
 * becomes valid again. A failed read (-1) is never stored; a negative
 * answer ("no such login") is stored like any other, under the same rule.
 * A decision read from several keys passes the one id it took from
 * db_cache_txnid() to every db_cache_get(), so all come from one state.
 *
 * Bounded: a fixed number of entries in sets of four; a new entry takes
 * the slot of its own key, else a free or stale one, else the least
 * recently used of its set. A key longer than keymax is never cached.
 * Ownership: values are copied in and out. Threads: shared by all threads;
 * each set is guarded by one of a few mutexes, held for a key compare and
 * a copy. Errors: none; a lookup that cannot be answered misses.
 */
#ifndef AUP_DB_CACHE_H
#define AUP_DB_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct db_cache;

struct db_cache_stats {
	unsigned long	hits;
	unsigned long	misses;
	unsigned long	stores;		/* entries written */
};

/*
 * A cache of about entries values of valsize bytes (rounded up to a
 * power of two, at least four) under keys of at most keymax bytes, for
 * environment db (borrowed; it must outlive the cache).
 */
struct db_cache *db_cache_new(struct db *db, size_t entries, size_t keymax,
	    size_t valsize);
void	db_cache_free(struct db_cache *c);	/* NULL is a no-op */

/* The state lookups are answered for now: db_last_txnid() of the db. */
uint64_t db_cache_txnid(struct db_cache *c);

/*
 * The value of key read at txnid (from db_cache_txnid()) and holding at
 * time now, copied into val (valsize bytes): 1, or 0 on a miss.
 */
int	db_cache_get(struct db_cache *c, uint64_t txnid, const void *key,
	    size_t klen, int64_t now, void *val);

/*
 * Store val (valsize bytes) for key, read in txn (a read transaction of
 * the cache's db, still open), holding over [lo, hi). Not stored when
 * txn's snapshot is no longer the last committed state, or the key is
 * too long.
 */
void	db_cache_put(struct db_cache *c, struct db_txn *txn, const void *key,
	    size_t klen, int64_t lo, int64_t hi, const void *val);

/* Counts since db_cache_new (for tests and benchmarks). */
void	db_cache_stats(struct db_cache *c, struct db_cache_stats *st);

#endif
