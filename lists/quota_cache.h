/*
 * quota_cache - the committed quota counters, known in memory
 *
 * Every recipient at RCPT is checked against three counters (quota.h):
 * its customer's (or login's) messages this hour and recipients today,
 * and its own per-recipient hourly counter (rule bomb); the charge at end
 * of message checks them again with the per-send counter. Reading them
 * from LMDB was a third of the engine's time. This cache answers most of
 * those reads exactly, without a B-tree lookup:
 *
 *   - customer-wide counters (keys without a tail) by value: a table of
 *     their committed values, bounded (QCACHE_VALUES_MAX; emptied when
 *     full, refilled from reads);
 *   - per-recipient and per-send counters by presence: a Bloom filter per
 *     hour of the keys whose window overlaps it. A key not in the
 *     (complete) filter of the hour that holds now has no window holding
 *     now, so it reads as zero; a key that may be in it (or an incomplete
 *     filter) is read from LMDB. Most recipients are new in the hour, and
 *     most Message-IDs new, so most reads end here.
 *
 * Exactness. The cache is valid at one transaction id, known: it holds
 * the counters' environment as of that commit. Our own commits are
 * applied in commit order by the group commit's leader (db_batch.h,
 * committed hook): quota_cache_commit_begin() with the commit's id, one
 * quota_cache_put() per counter written, quota_cache_commit_end(). A
 * commit whose id is not known + 1 means another process (aupctl quota
 * reset, a second daemon) committed in between: the values are dropped
 * and the current hour's filter is rebuilt by a scan of the table (as at
 * start), which our commits wait for. (A transaction of ours that
 * changed nothing commits nothing and leaves its id to the next writer:
 * its hook gets 0 and known stays.) A lookup trusts the cache only when
 * the environment's last committed id (db_last_txnid) still equals
 * known; otherwise the caller reads LMDB, and a value it read is kept
 * only if its snapshot is the cache's (quota_cache_fill).
 *
 * The scan: per-recipient and per-send counters that overlap the current
 * hour fill its filter (complete), and the latest end of any window seen
 * bounds which later hours start complete.
 *
 * Windows longer than an hour are kept in the filters of their first two
 * hours only: the per-send window (WINDOW_SEND_SECS) must not exceed
 * QCACHE_HOUR (rule_quota.c asserts it).
 *
 * Memory: QCACHE_FILTERS filters of 2 MB each (QCACHE_FILTER_KEYS;
 * about 1% false positives at 1.7 million recipients an hour, more above,
 * which only costs LMDB reads) plus the value table.
 * Ownership: the cache owns its tables; db is borrowed.
 * Threads: all calls are thread-safe (one read-write lock: lookups share
 * it, commit_begin holds it exclusively until commit_end). Lock order:
 * the database's (any transaction) before the cache's; a rescan reads
 * the table holding no lock of the cache, so none is taken the other way.
 * Errors: quota_cache_new() fails only if the scan fails (err set).
 */
#ifndef AUP_QUOTA_CACHE_H
#define AUP_QUOTA_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "quota_db.h"

#define QCACHE_HOUR	3600

struct quota_cache;

/* Scan db's counters as of now (Unix seconds). NULL on error. */
struct quota_cache *quota_cache_new(struct db *db, int64_t now, char *err,
	    size_t errlen);
void	quota_cache_free(struct quota_cache *qc);	/* NULL: no-op */

/*
 * Counter k as quota_db_get() would read it at now from the last commit:
 * 1 known (c filled; zeroed when absent or ended), 0 not known here.
 */
int	quota_cache_get(struct quota_cache *qc, const struct quota_key *k,
	    int64_t now, struct quota_counter *c);

/*
 * Several lookups at now under one shared lock: current =
 * quota_cache_begin() (1 if the cache is at the last commit), then
 * quota_cache_lookup() (as quota_cache_get) for each, then
 * quota_cache_end(). Nothing else may be called in between.
 */
int	quota_cache_begin(struct quota_cache *qc, int64_t now);
int	quota_cache_lookup(struct quota_cache *qc, int current,
	    const struct quota_key *k, int64_t now, struct quota_counter *c);
/*
 * Between begin and end (or commit_begin and commit_end): start fetching
 * what a lookup (or put) of k will read.
 * Prefetching every key before looking any up overlaps the cache misses.
 */
void	quota_cache_prefetch(struct quota_cache *qc,
	    const struct quota_key *k, int64_t now);
void	quota_cache_end(struct quota_cache *qc);

/*
 * What a read at snapshot txnid found for k: present 1 with the stored
 * counter c (any window), 0 absent. Kept if txnid is the cache's.
 */
void	quota_cache_fill(struct quota_cache *qc, uint64_t txnid,
	    const struct quota_key *k, int present,
	    const struct quota_counter *c);

/*
 * A commit of ours with id txnid (every request of it calls this, in
 * commit order; 0: the transaction changed nothing), at now. Then
 * quota_cache_put() for each counter the request wrote (c as stored) and quota_cache_drop() for each it changed
 * without saying how, then quota_cache_commit_end().
 */
void	quota_cache_commit_begin(struct quota_cache *qc, uint64_t txnid,
	    int64_t now);
void	quota_cache_put(struct quota_cache *qc, const struct quota_key *k,
	    const struct quota_counter *c);
void	quota_cache_drop(struct quota_cache *qc, const struct quota_key *k);
void	quota_cache_commit_end(struct quota_cache *qc);

/* Lookups answered and not, and table scans, since creation (tests). */
void	quota_cache_stats(struct quota_cache *qc, unsigned long *hits,
	    unsigned long *misses, unsigned long *scans);

#endif
