/*
 * db - the LMDB environment of aup-milter (db.c and db_ops.c wrap lmdb.h)
 *
 * One environment (a directory), with named tables. The daemon and aupctl
 * open the same environment at once; LMDB's lock file makes that safe, and
 * readers never block the single writer. The environment is opened with
 * MDB_NOTLS so read transactions may run on the milter's pooled threads.
 *
 * Recoverable LMDB conditions are handled here, Postfix slmdb style, so the
 * callers never see them: MDB_MAP_FULL grows the map (up to the configured
 * maximum) and retries the write; MDB_MAP_RESIZED adopts the new size;
 * MDB_READERS_FULL clears stale reader slots and retries. Stale readers of
 * dead processes are also cleared at open and by db_maintain().
 *
 * Lifetimes: data returned by db_get() and iteration points into the map
 * and is valid only until the transaction ends: copy before db_commit() /
 * db_abort(). No transaction may be held across milter callbacks.
 *
 * Threads: a struct db is shared by all threads. A struct db_txn belongs
 * to one thread. Write transactions are serialised by LMDB.
 *
 * Durability: by default full sync at commit (no MDB_NOSYNC), so a
 * committed change survives a crash or kill -9 of any process and a
 * power loss. db_set_sync(DB_SYNC_META) (MDB_NOMETASYNC) keeps the first
 * and drops the second for the last transaction only: see db_set_sync().
 *
 * Errors: actions return 0 / -1; lookups -1 error / 0 miss / 1 hit. The
 * last error text of a transaction is kept in it (db_txn_error()).
 *
 * A new table needs an enum db_table entry below and its name in
 * db_table_names[] in db.c (db_open() refuses an unnamed one).
 */
#ifndef AUP_DB_H
#define AUP_DB_H

#include <stddef.h>
#include <stdint.h>

enum db_table {
	DB_META,	/* "schema" -> version, other bookkeeping */
	DB_PLANS,	/* plan name -> encoded plan (custdb.c) */
	DB_CUSTOMERS,	/* customer id -> encoded customer (custdb.c) */
	DB_LOGINS,	/* login -> customer id */
	DB_CUST_LOGINS,	/* "id\0login" -> "" (per-customer listing) */
	DB_NETWORKS,	/* family|masked addr|plen -> customer id */
	DB_CUST_NETS,	/* "id\0" family|addr|plen -> "" */
	DB_DOMAINS,	/* "id\0domain" -> flags */
	DB_OPTOUT,	/* "id\0addr" ("" id: global) -> entry (optout_db.c) */
	DB_COMPLAINTS,	/* "id\0" u64 BE ms, ref -> type (complaint_db.c) */
	DB_QUOTA,	/* scope|id\0|kind|tail -> counter (quota_db.c) */
	DB_QUOTA_EXPIRY, /* old expiry index: emptied by the sweep */
	DB_LOGIN_PLANS,	/* login -> plan name (custdb_login.c) */
	DB_LEASES,	/* family|addr16|u64 BE from -> lease (lease_db.c) */
	DB_NTABLES
};

struct db;
struct db_txn;

/*
 * Open (creating if needed) the environment in directory dir. mapsize and
 * maxsize are bytes: the initial map and the most it may grow to. flags:
 * DB_RDONLY opens for reading only; DB_WRITEMAP has commits modify the
 * shared map in place instead of writing copies (cheaper commits; every
 * writer of one environment must use it alike, and a stray write into the
 * map is no longer caught). NULL on error with err set.
 * A writer creates dir (mode 0750) and the tables; a read-only opener
 * reads tables that do not exist yet as empty. mapsize 0 means 16 MiB; a
 * maxsize below mapsize means mapsize. The same environment may not be
 * opened twice in one process (LMDB's locks would break): that is refused.
 */
#define DB_RDONLY	1	/* open for reading only */
#define DB_WRITEMAP	2	/* MDB_WRITEMAP: commits write into the map */
struct db *db_open(const char *dir, size_t mapsize, size_t maxsize,
	    unsigned flags, char *err, size_t errlen);
void	db_close(struct db *db);	/* NULL is a no-op */

/*
 * How a commit reaches the disk (DatabaseSync in the config):
 * DB_SYNC_FULL flushes the data pages and then the meta page (two
 * fdatasync calls per commit). DB_SYNC_META (MDB_NOMETASYNC) flushes the
 * data pages and only writes the meta page; the next commit's flush, or
 * the OS within its writeback interval, makes it durable. A committed
 * transaction is in the kernel either way, so it survives kill -9 of any
 * process; on an OS crash or power loss DB_SYNC_META may undo the last
 * committed transaction (never tear the database: LMDB keeps atomicity
 * and consistency). DB_SYNC_PERIODIC does not flush at all: db_sync()
 * must be called (see qstore.h, the only user, for what a crash can lose
 * and why it is kept to the quota counters' own environment). Takes
 * db->lock exclusively, so it waits (up to 10 s)
 * for running transactions. 0 / -1 with err.
 */
enum db_sync {
	DB_SYNC_FULL,
	DB_SYNC_META,
	DB_SYNC_PERIODIC	/* MDB_NOSYNC: only db_sync() flushes */
};

int	db_set_sync(struct db *db, enum db_sync mode, char *err, size_t errlen);

/*
 * Flush every committed transaction to disk now (mdb_env_sync, forced);
 * *txnid gets the last transaction id committed before the flush began,
 * so everything up to it is durable. For DB_SYNC_PERIODIC. 0 / -1.
 */
int	db_sync(struct db *db, uint64_t *txnid, char *err, size_t errlen);

/* The id of the last committed transaction (of any process), 0 if unknown. */
uint64_t db_last_txnid(struct db *db);

/* Write transactions this process has committed (for benchmarks, logs). */
unsigned long db_commits(struct db *db);

/* Clear reader slots of dead processes; returns how many, or -1. */
int	db_maintain(struct db *db);

/*
 * Begin a read-only transaction; NULL on error with err set. Handles are
 * reused: db_read_end() resets one and keeps it (at most 32 idle, each
 * holding one of LMDB's 126 reader slots), so a begin usually renews a
 * kept handle without touching LMDB's shared reader table.
 */
struct db_txn *db_read_begin(struct db *db, char *err, size_t errlen);
/* End a read-only transaction (NULL is a no-op). */
void	db_read_end(struct db_txn *txn);

/*
 * Run fn inside one write transaction and commit it. fn returns 0 to
 * commit or -1 to abort (it explains why in the txn with db_txn_fail()).
 * On MDB_MAP_FULL the map is grown and fn is run again from the start, so
 * fn must not keep side effects outside the transaction. Returns 0 when
 * committed, -1 otherwise with err set (fn's reason or LMDB's).
 * Do not call it while the same thread holds a read transaction (never
 * nest transactions in one thread): growing the map waits for every
 * transaction of the process, and gives up with an error after 10 s.
 */
int	db_write(struct db *db, int (*fn)(struct db_txn *, void *), void *arg,
	    char *err, size_t errlen);

/* Record why fn failed; returns -1 for use as "return db_txn_fail(...)". */
int	db_txn_fail(struct db_txn *txn, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
const char *db_txn_error(const struct db_txn *txn);

/* -1 error / 0 miss / 1 hit. *val is valid until the transaction ends. */
int	db_get(struct db_txn *txn, enum db_table t, const void *key,
	    size_t klen, const void **val, size_t *vlen);
/* 0 / -1. Write transactions only. */
int	db_put(struct db_txn *txn, enum db_table t, const void *key,
	    size_t klen, const void *val, size_t vlen);
/* 1 deleted / 0 was absent / -1 error. */
int	db_del(struct db_txn *txn, enum db_table t, const void *key,
	    size_t klen);

/*
 * Call fn for every key starting with prefix (plen 0: every key), in key
 * order, until fn returns non-zero. Returns -1 on error, else the last
 * value fn returned (0 when it visited everything).
 */
int	db_iter(struct db_txn *txn, enum db_table t, const void *prefix,
	    size_t plen, int (*fn)(const void *key, size_t klen,
	    const void *val, size_t vlen, void *arg), void *arg);

/* As db_iter, from the first key >= start (slen 0: the first) to the end. */
int	db_iter_from(struct db_txn *txn, enum db_table t, const void *start,
	    size_t slen, int (*fn)(const void *key, size_t klen,
	    const void *val, size_t vlen, void *arg), void *arg);

/* Entries in a table, -1 on error. */
long	db_count(struct db_txn *txn, enum db_table t);

/*
 * Whether write transaction txn has changed anything yet (a db_put, or a
 * db_del that deleted): while it has not, it sees exactly the last
 * commit, and committing it commits nothing (LMDB does not use up its
 * id: the next write transaction gets the same one).
 */
int	db_txn_dirty(struct db_txn *txn);

/*
 * The id of the transaction txn (which must be open): for a read
 * transaction, that of the last committed transaction its snapshot
 * shows, to compare with db_last_txnid() (a cache tells it is current);
 * for a write transaction, the id its commit will have. 0 if unknown.
 */
uint64_t db_txn_id(struct db_txn *txn);

#endif
