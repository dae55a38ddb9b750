/*
 * quota_db - quota counters in LMDB (SPEC "Plans and quotas")
 *
 * A counter counts inside one window of time and is stored under
 *
 *   key    scope (u8 'C' customer | 'L' login) | id | NUL | kind (u8) | tail
 *   value  u64 count | i64 window start | i64 window end (little-endian;
 *          earlier versions appended a u64 index stamp, still read)
 *
 * tail says what the counter is about: nothing for the customer-wide
 * counters, the normalised recipient for QUOTA_RCPT_HOUR (or "#" and its
 * SHA-256 when it is too long for a key), a hash of the Message-ID for
 * QUOTA_SEND. One key per counter (not per window): a counter whose window
 * has ended reads as zero and starts a new window when next charged, so
 * the table does not grow with time. Counters that stop being charged are
 * reclaimed by a sweep (quota_db_reclaim) that walks the table a slice at
 * a time, in key order, deleting those whose window has ended. There is
 * no expiry index any more: an index entry per new window cost a second
 * insert for most charges (every new recipient), for a table that a sweep
 * reads sequentially at a tiny fraction of that cost. The index table of
 * earlier versions (DB_QUOTA_EXPIRY) is emptied by the sweep.
 *
 * Exactness is the caller's: a check and the charge that follows it must
 * be made in one write transaction (LMDB serialises writers across threads
 * and processes), see db_batch.h.
 * Threads: as db.h (a transaction belongs to one thread).
 * Errors: actions 0 / -1 (reason in the txn); lookups -1 / 0 / 1.
 */
#ifndef AUP_QUOTA_DB_H
#define AUP_QUOTA_DB_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

enum quota_scope {
	QUOTA_CUSTOMER = 'C',
	QUOTA_LOGIN = 'L'
};

enum quota_kind {
	QUOTA_MSGS_HOUR = 1,	/* messages per hour (rule rate) */
	QUOTA_RCPTS_DAY = 2,	/* recipients per UTC day (rule rate) */
	QUOTA_RCPT_HOUR = 3,	/* messages to one recipient (rule bomb) */
	QUOTA_SEND = 4		/* recipients of one split send (rcpt_cap) */
};

#define QUOTA_KEY_MAX	480	/* below LMDB's key limit of 511 */
#define QUOTA_TAIL_MAX	400	/* longer tails are hashed */

/* buf last: a copy of len and hash plus buf's first len bytes is whole. */
struct quota_key {
	size_t	 len;
	uint64_t hash;	/* hash64(buf, len, 0), for tables in memory */
	uint8_t	 buf[QUOTA_KEY_MAX];
};

struct quota_counter {
	uint64_t count;
	int64_t	 start;		/* window [start, end), Unix seconds */
	int64_t	 end;
};

/* "msgs_per_hour", "rcpts_per_day", "per_rcpt_per_hour", "per_send". */
const char *quota_kind_name(enum quota_kind k);

/*
 * Build the key of a counter. id is a customer id or a login; tail may be
 * NULL. A tail longer than QUOTA_TAIL_MAX is replaced by "#" and its
 * SHA-256 in hex. 0, or -1 if id is empty or too long.
 */
int	quota_key_make(struct quota_key *k, enum quota_scope scope,
	    const char *id, enum quota_kind kind, const void *tail,
	    size_t tlen);

/*
 * The kind of key k (0 if k is not a counter key) and in *tlen the length
 * of its tail (0: a customer- or login-wide counter).
 */
enum quota_kind quota_key_kind(const uint8_t *key, size_t klen,
	    size_t *tlen);

/*
 * The counter k as it stands at now: 1 with c filled when it is in a
 * window that holds now, 0 (c zeroed) when it is absent or its window has
 * ended, -1 on error (a corrupt value is an error naming the key).
 */
int	quota_db_get(struct db_txn *txn, const struct quota_key *k,
	    int64_t now, struct quota_counter *c);

/*
 * Counter k as stored, whatever its window: 1 with c filled, 0 absent
 * (c zeroed), -1 on error (a corrupt value names the key).
 */
int	quota_db_get_stored(struct db_txn *txn, const struct quota_key *k,
	    struct quota_counter *c);

/*
 * Add n to counter k (write transaction). If it is absent or its window
 * has ended at now, a new window [start, end) begins with n. out (may be
 * NULL) gets the new value. 0 / -1.
 */
int	quota_db_add(struct db_txn *txn, const struct quota_key *k,
	    uint64_t n, int64_t now, int64_t start, int64_t end,
	    struct quota_counter *out);

/*
 * quota_db_add() for a counter already read: cur is what quota_db_get()
 * returned for k in this same write transaction (zeroed: no current
 * window, so [start, end) begins). One B-tree operation instead of two,
 * for the charge that checks every counter before it adds. 0 / -1.
 */
int	quota_db_charge(struct db_txn *txn, const struct quota_key *k,
	    const struct quota_counter *cur, uint64_t n, int64_t start,
	    int64_t end, struct quota_counter *out);

/*
 * Take n back from counter k (write transaction), if the window that was
 * charged ([start, end), as returned by quota_db_add) is still the
 * counter's; never below 0. For a charge whose message was not accepted
 * after all. 0 / -1.
 */
int	quota_db_sub(struct db_txn *txn, const struct quota_key *k,
	    uint64_t n, int64_t start, int64_t end);

/*
 * One slice of the sweep: visit at most max counters from the key in
 * *resume on (len 0: the first), deleting those whose window ended at or
 * before now (and any value that is not a counter), and up to max entries
 * of the old expiry index. *resume gets the key the next slice starts at,
 * len 0 when this slice reached the end (the pass is complete). Returns
 * the number of counters deleted, or -1.
 */
long	quota_db_reclaim(struct db_txn *txn, int64_t now, long max,
	    struct quota_key *resume);

/*
 * Call fn for every counter of scope/id that is current at now, in key
 * order (tail is the raw tail, not NUL-terminated), until fn returns
 * non-zero. -1 on error, else what the last fn returned.
 */
int	quota_db_each(struct db_txn *txn, enum quota_scope scope,
	    const char *id, int64_t now,
	    int (*fn)(enum quota_kind kind, const uint8_t *tail, size_t tlen,
	    const struct quota_counter *c, void *arg), void *arg);

/*
 * Call fn for every counter of the table (any window; c NULL for a value
 * that is not a counter, which quota_db_get reports as corrupt), in key
 * order, until fn returns non-zero. -1 on error, else what the last fn
 * returned.
 */
int	quota_db_scan(struct db_txn *txn,
	    int (*fn)(const uint8_t *key, size_t klen,
	    const struct quota_counter *c, void *arg), void *arg);

/* Delete every counter of scope/id (write txn); the number, or -1. */
long	quota_db_reset(struct db_txn *txn, enum quota_scope scope,
	    const char *id);

#endif
