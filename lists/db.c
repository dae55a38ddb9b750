/*
 * db - the LMDB environment of aup-milter (see db.h)
 *
 * The environment: open and close, sync modes, map growth, the pool of
 * read handles and the transactions. The data operations (db_get, db_put,
 * db_del, db_iter, db_count) are in db_ops.c, and the structs both files
 * use in db_priv.h; only these reach LMDB. Every LMDB code is mapped to
 * the project's conventions and to a sentence that names the database
 * directory, and the recoverable conditions are handled as Postfix's
 * slmdb.c does: MDB_MAP_FULL aborts, grows the map (doubling, up to the
 * maximum) and runs the write again; MDB_MAP_RESIZED adopts the size that
 * another process chose; MDB_READERS_FULL clears dead readers and retries.
 * Retries are capped, so a caller never spins.
 *
 * Ownership: db_open() returns a struct db freed by db_close(); a struct
 * db_txn from db_read_begin() is freed by db_read_end(); db_write() keeps
 * its transaction on the stack. Values point into the map: copy them.
 *
 * Threads: mdb_env_set_mapsize() is only allowed while no transaction of
 * this process is active, so every transaction holds db->lock shared for
 * its whole life and a resize takes it exclusively (with a bounded wait:
 * a thread that nests transactions cannot deadlock the process, a write
 * fails instead). The environment is opened with
 * MDB_NOTLS, so read transactions may move between pooled threads.
 * Opening one environment twice in one process breaks LMDB's fcntl locks;
 * db_open() refuses it.
 *
 * Errors: 0 / -1 and -1 / 0 / 1 as db.h says; the text is in err or in
 * the transaction (db_txn_error()).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "db_priv.h"
#include "errbuf.h"
#include "log.h"
#include "xalloc.h"

#define DB_SCHEMA_VERSION	1
#define DB_MAXDBS		32	/* named tables, with room to grow */
#define DB_DEFAULT_MAPSIZE	(16 * 1024 * 1024)
#define DB_MAX_ATTEMPTS		32	/* runs of one write */
#define DB_READERS_TRIES	10	/* waits for a free reader slot */
#define DB_READERS_WAIT_MS	100
#define DB_RESIZE_WAIT_S	10	/* wait for other transactions */

const char *const db_table_names[DB_NTABLES] = {
	[DB_META] = "meta",
	[DB_PLANS] = "plans",
	[DB_CUSTOMERS] = "customers",
	[DB_LOGINS] = "logins",
	[DB_CUST_LOGINS] = "cust_logins",
	[DB_NETWORKS] = "networks",
	[DB_CUST_NETS] = "cust_nets",
	[DB_DOMAINS] = "domains",
	[DB_OPTOUT] = "optout",
	[DB_COMPLAINTS] = "complaints",
	[DB_QUOTA] = "quota",
	[DB_QUOTA_EXPIRY] = "quota_expiry",
	[DB_LOGIN_PLANS] = "login_plans",
	[DB_LEASES] = "leases",
};

/* Environments open in this process (see the header comment). */
static pthread_mutex_t db_list_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct db *db_list;

static void
db_size_text(size_t n, char *buf, size_t len)
{
	if (n >= (1u << 30) && n % (1u << 30) == 0)
		snprintf(buf, len, "%zu GiB", n >> 30);
	else if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(buf, len, "%zu MiB", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, len, "%zu KiB", n >> 10);
	else
		snprintf(buf, len, "%zu bytes", n);
}

static size_t
db_mapsize(struct db *db)
{
	MDB_envinfo info;

	if (mdb_env_info(db->env, &info) != 0)
		return 0;
	return info.me_mapsize;
}

/* A sentence for an LMDB or errno code, naming the database. */
static void
db_reason(struct db *db, const char *dir, int rc, char *buf, size_t len)
{
	char size[32];

	switch (rc) {
	case MDB_MAP_FULL:
		db_size_text(db != NULL ? db_mapsize(db) : 0, size,
		    sizeof(size));
		snprintf(buf, len, "database %s: map full at %s "
		    "(DatabaseMaxSize)", dir, size);
		return;
	case MDB_READERS_FULL:
		snprintf(buf, len, "database %s: all reader slots in use",
		    dir);
		return;
	case MDB_PANIC:
		snprintf(buf, len, "database %s: fatal LMDB error, the "
		    "process must be restarted", dir);
		return;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		snprintf(buf, len, "database %s: file is corrupted", dir);
		return;
	case MDB_INVALID:
		snprintf(buf, len, "database %s: not an LMDB database", dir);
		return;
	case MDB_VERSION_MISMATCH:
		snprintf(buf, len, "database %s: made by an incompatible "
		    "LMDB version", dir);
		return;
	case MDB_BAD_VALSIZE:
		snprintf(buf, len, "database %s: key or value too large or "
		    "empty", dir);
		return;
	case MDB_TXN_FULL:
		snprintf(buf, len, "database %s: transaction too large", dir);
		return;
	case EACCES:
	case EPERM:
		snprintf(buf, len, "database %s: permission denied", dir);
		return;
	default:
		snprintf(buf, len, "database %s: %s", dir, mdb_strerror(rc));
		return;
	}
}

/* Record an LMDB failure in txn; returns -1. */
int
db_txn_lmdb(struct db_txn *txn, int rc)
{
	if (txn->mdb_rc == 0)
		txn->mdb_rc = rc;
	db_reason(txn->db, txn->db->dir, rc, txn->err, sizeof(txn->err));
	return -1;
}

static void
db_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Change the map size with no transaction of this process active. size 0
 * adopts the size another process set. When grow_from is non-zero this is
 * a growth after MDB_MAP_FULL, skipped if someone already grew the map.
 */
static int
db_resize(struct db *db, size_t size, size_t grow_from, char *err,
    size_t errlen)
{
	char from[32], to[32];
	struct timespec ts;
	size_t cur;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += DB_RESIZE_WAIT_S;
	if ((rc = pthread_rwlock_timedwrlock(&db->lock, &ts)) != 0)
		return errbuf_set(err, errlen, "database %s: cannot resize the "
		    "map: transactions still active (%s)", db->dir,
		    strerror(rc));
	cur = db_mapsize(db);
	if (grow_from != 0 && cur > grow_from) {
		pthread_rwlock_unlock(&db->lock);
		return 0;
	}
	rc = mdb_env_set_mapsize(db->env, size);
	pthread_rwlock_unlock(&db->lock);
	if (rc != 0) {
		db_reason(db, db->dir, rc, err, errlen);
		return -1;
	}
	if (size != 0) {
		db_size_text(cur, from, sizeof(from));
		db_size_text(size, to, sizeof(to));
		log_msg(LOG_NOTICE, NULL, "database %s: map grown from %s "
		    "to %s", db->dir, from, to);
	}
	return 0;
}

/* After MDB_MAP_FULL in a transaction that began at map size seen. */
static int
db_grow(struct db *db, size_t seen, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t want;

	if (seen >= db->maxsize) {
		db_reason(db, db->dir, MDB_MAP_FULL, err, errlen);
		return -1;
	}
	want = seen > SIZE_MAX / 2 ? SIZE_MAX : seen * 2;
	if (page > 0 && want % (size_t)page != 0 &&
	    want < SIZE_MAX - (size_t)page)
		want += (size_t)page - want % (size_t)page;
	if (want > db->maxsize)
		want = db->maxsize;
	return db_resize(db, want, seen, err, errlen);
}

/*
 * Begin a transaction holding db->lock shared. Handles MDB_MAP_RESIZED
 * and MDB_READERS_FULL. On success the lock stays held until db_end().
 */
static int
db_begin(struct db *db, struct db_txn *txn, unsigned flags)
{
	int rc, tries = 0, readers = 0, dead;

	for (;;) {
		if ((rc = pthread_rwlock_rdlock(&db->lock)) != 0)
			return errbuf_set(txn->err, sizeof(txn->err),
			    "database %s: lock: %s", db->dir, strerror(rc));
		rc = mdb_txn_begin(db->env, NULL, flags, &txn->txn);
		if (rc == 0) {
			txn->mapsize = db_mapsize(db);
			return 0;
		}
		pthread_rwlock_unlock(&db->lock);
		txn->txn = NULL;
		if (++tries >= DB_MAX_ATTEMPTS)
			break;
		if (rc == MDB_MAP_RESIZED) {
			if (db_resize(db, 0, 0, txn->err,
			    sizeof(txn->err)) < 0)
				return -1;
			continue;
		}
		if (rc == MDB_READERS_FULL && ++readers < DB_READERS_TRIES) {
			if (mdb_reader_check(db->env, &dead) != 0 || dead == 0)
				db_sleep_ms(DB_READERS_WAIT_MS);
			continue;
		}
		break;
	}
	txn->mdb_rc = rc;
	db_reason(db, db->dir, rc, txn->err, sizeof(txn->err));
	return -1;
}

/*
 * Commit (commit != 0) or abort, then release db->lock. Returns 0 or the
 * LMDB code of a failed commit (also recorded in txn).
 */
static int
db_end(struct db_txn *txn, int commit)
{
	int rc = 0;

	if (txn->txn == NULL)
		return 0;
	if (commit) {
		rc = mdb_txn_commit(txn->txn);
		if (rc == 0 && txn->write)
			__atomic_add_fetch(&txn->db->commits, 1,
			    __ATOMIC_RELAXED);
	} else
		mdb_txn_abort(txn->txn);
	txn->txn = NULL;
	memset(txn->putcur, 0, sizeof(txn->putcur));	/* LMDB freed them */
	if (rc != 0)	/* before unlocking: the text reads the map size */
		db_txn_lmdb(txn, rc);
	pthread_rwlock_unlock(&txn->db->lock);
	return rc;
}

/*
 * Read handles are pooled: ending a read transaction resets its handle
 * (mdb_txn_reset keeps the reader slot) and the next db_read_begin()
 * renews it, which skips LMDB's shared reader-table mutex, the slot
 * search and two allocations. At most DB_READ_POOL idle handles are kept,
 * so idle slots stay well below LMDB's 126 (aupctl needs some too).
 */
static struct db_txn *
db_pool_get(struct db *db)
{
	struct db_txn *txn = NULL;

	pthread_mutex_lock(&db->pool_mu);
	if (db->npool > 0)
		txn = db->pool[--db->npool];
	pthread_mutex_unlock(&db->pool_mu);
	return txn;
}

/* Renew a pooled handle under db->lock, as db_begin() would. 0 / -1. */
static int
db_renew(struct db *db, struct db_txn *txn)
{
	if (pthread_rwlock_rdlock(&db->lock) != 0)
		return -1;
	if (mdb_txn_renew(txn->txn) == 0) {
		txn->mapsize = db_mapsize(db);
		txn->mdb_rc = 0;
		txn->err[0] = '\0';
		return 0;
	}
	/* Resized or broken: drop the handle, db_begin() sorts it out. */
	pthread_rwlock_unlock(&db->lock);
	mdb_txn_abort(txn->txn);
	txn->txn = NULL;
	return -1;
}

struct db_txn *
db_read_begin(struct db *db, char *err, size_t errlen)
{
	struct db_txn *txn = db_pool_get(db);

	if (txn != NULL && db_renew(db, txn) == 0)
		return txn;
	if (txn == NULL)
		txn = xcalloc(1, sizeof(*txn));
	txn->db = db;
	txn->mdb_rc = 0;
	txn->err[0] = '\0';
	if (db_begin(db, txn, MDB_RDONLY) < 0) {
		errbuf_set(err, errlen, "%s", txn->err);
		free(txn);
		return NULL;
	}
	return txn;
}

void
db_read_end(struct db_txn *txn)
{
	struct db *db;
	int kept = 0;

	if (txn == NULL)
		return;
	db = txn->db;
	if (txn->txn == NULL || txn->mdb_rc != 0) {
		db_end(txn, 0);
		free(txn);
		return;
	}
	mdb_txn_reset(txn->txn);	/* before unlocking: see db_resize */
	pthread_rwlock_unlock(&db->lock);
	pthread_mutex_lock(&db->pool_mu);
	if (db->npool < DB_READ_POOL) {
		db->pool[db->npool++] = txn;
		kept = 1;
	}
	pthread_mutex_unlock(&db->pool_mu);
	if (!kept) {
		mdb_txn_abort(txn->txn);
		free(txn);
	}
}

/* Free the idle handles (they hold reader slots). */
static void
db_pool_drain(struct db *db)
{
	pthread_mutex_lock(&db->pool_mu);
	while (db->npool > 0) {
		struct db_txn *txn = db->pool[--db->npool];

		mdb_txn_abort(txn->txn);
		free(txn);
	}
	pthread_mutex_unlock(&db->pool_mu);
}

/* Run fn once; 0 committed, else the LMDB code to recover from or -1. */
static int
db_write_once(struct db *db, struct db_txn *txn,
    int (*fn)(struct db_txn *, void *), void *arg)
{
	int frc;

	memset(txn, 0, sizeof(*txn));
	txn->db = db;
	txn->write = 1;
	if (db_begin(db, txn, 0) < 0)
		return -1;
	frc = fn(txn, arg);
	if (frc != 0 || txn->mdb_rc != 0) {
		db_end(txn, 0);
		if (txn->err[0] == '\0')
			errbuf_set(txn->err, sizeof(txn->err), "database %s: "
			    "write failed", db->dir);
		return txn->mdb_rc != 0 ? txn->mdb_rc : -1;
	}
	return db_end(txn, 1);
}

int
db_write(struct db *db, int (*fn)(struct db_txn *, void *), void *arg,
    char *err, size_t errlen)
{
	struct db_txn txn;
	int rc;

	if (db->readonly)
		return errbuf_set(err, errlen, "database %s: opened read-only",
		    db->dir);
	for (int attempt = 0; attempt < DB_MAX_ATTEMPTS; attempt++) {
		rc = db_write_once(db, &txn, fn, arg);
		if (rc == 0)
			return 0;
		if (rc == MDB_MAP_FULL) {
			if (db_grow(db, txn.mapsize, err, errlen) < 0)
				return -1;
			continue;
		}
		if (rc == MDB_MAP_RESIZED) {
			if (db_resize(db, 0, 0, err, errlen) < 0)
				return -1;
			continue;
		}
		return errbuf_set(err, errlen, "%s", txn.err);
	}
	return errbuf_set(err, errlen, "database %s: write gave up after %d "
	    "attempts (%s)", db->dir, DB_MAX_ATTEMPTS, txn.err);
}

int
db_txn_fail(struct db_txn *txn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(txn->err, sizeof(txn->err), fmt, ap);
	va_end(ap);
	return -1;
}

const char *
db_txn_error(const struct db_txn *txn)
{
	return txn->err;
}

unsigned long
db_commits(struct db *db)
{
	return __atomic_load_n(&db->commits, __ATOMIC_RELAXED);
}

int
db_set_sync(struct db *db, enum db_sync mode, char *err, size_t errlen)
{
	struct timespec ts;
	int rc;

	if (db->readonly)
		return 0;	/* a reader never commits */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += DB_RESIZE_WAIT_S;
	/* mdb_env_set_flags() must not race a commit reading the flags. */
	if ((rc = pthread_rwlock_timedwrlock(&db->lock, &ts)) != 0)
		return errbuf_set(err, errlen, "database %s: cannot change "
		    "the sync mode: transactions still active (%s)", db->dir,
		    strerror(rc));
	rc = mdb_env_set_flags(db->env, MDB_NOMETASYNC, mode == DB_SYNC_META);
	if (rc == 0)
		rc = mdb_env_set_flags(db->env, MDB_NOSYNC,
		    mode == DB_SYNC_PERIODIC);
	pthread_rwlock_unlock(&db->lock);
	if (rc != 0) {
		db_reason(db, db->dir, rc, err, errlen);
		return -1;
	}
	return 0;
}

uint64_t
db_last_txnid(struct db *db)
{
	MDB_envinfo info;

	if (mdb_env_info(db->env, &info) != 0)
		return 0;
	return (uint64_t)info.me_last_txnid;
}

int
db_sync(struct db *db, uint64_t *txnid, char *err, size_t errlen)
{
	int rc;

	if (db->readonly)
		return 0;
	*txnid = db_last_txnid(db);	/* before: the flush covers it */
	if ((rc = mdb_env_sync(db->env, 1)) != 0) {
		db_reason(db, db->dir, rc, err, errlen);
		return -1;
	}
	return 0;
}

int
db_maintain(struct db *db)
{
	int dead = 0;

	if (mdb_reader_check(db->env, &dead) != 0)
		return -1;
	return dead;	/* the caller logs it, with its own context */
}

/* The schema record: absent in a new database, else our version. */
static int
db_check_schema(struct db_txn *txn)
{
	uint8_t ver[4] = { DB_SCHEMA_VERSION, 0, 0, 0 };
	const void *val;
	const uint8_t *p;
	size_t vlen;
	int rc;

	if ((rc = db_get(txn, DB_META, "schema", 6, &val, &vlen)) < 0)
		return -1;
	if (rc == 0)
		return txn->write ? db_put(txn, DB_META, "schema", 6, ver, 4) :
		    0;
	p = val;
	if (vlen != 4)
		return db_txn_fail(txn, "database %s: damaged schema record",
		    txn->db->dir);
	if (p[0] != DB_SCHEMA_VERSION || p[1] || p[2] || p[3])
		return db_txn_fail(txn, "database %s: schema version %u, this "
		    "program reads version %d", txn->db->dir,
		    (unsigned)p[0] | (unsigned)p[1] << 8 |
		    (unsigned)p[2] << 16 | (unsigned)p[3] << 24,
		    DB_SCHEMA_VERSION);
	return 0;
}

/* Open every named table; in a read-only env a missing one is absent. */
static int
db_open_tables(struct db_txn *txn, void *arg)
{
	struct db *db = txn->db;
	unsigned flags = txn->write ? MDB_CREATE : 0;
	int rc;

	for (int t = 0; t < DB_NTABLES; t++) {
		db->have[t] = 0;
		if (db_table_names[t] == NULL)	/* enum grew, not names */
			return db_txn_fail(txn, "database %s: table %d has no "
			    "name in db.c", db->dir, t);
		rc = mdb_dbi_open(txn->txn, db_table_names[t], flags,
		    &db->dbi[t]);
		if (rc == MDB_NOTFOUND && !txn->write)
			continue;
		if (rc != 0)
			return db_txn_lmdb(txn, rc);
		db->have[t] = 1;
	}
	return db_check_schema(txn);
}

static int
db_open_tables_readonly(struct db *db, char *err, size_t errlen)
{
	struct db_txn txn;

	memset(&txn, 0, sizeof(txn));
	txn.db = db;
	if (db_begin(db, &txn, MDB_RDONLY) < 0)
		return errbuf_set(err, errlen, "%s", txn.err);
	if (db_open_tables(&txn, NULL) < 0) {
		db_end(&txn, 0);
		return errbuf_set(err, errlen, "%s", txn.err);
	}
	/* Committing a read transaction keeps its table handles. */
	if (db_end(&txn, 1) != 0)
		return errbuf_set(err, errlen, "database %s: cannot open tables",
		    db->dir);
	return 0;
}

/* Refuse a second open of one environment in this process; 0 or -1. */
static int
db_register(struct db *db, char *err, size_t errlen)
{
	struct db *p;

	pthread_mutex_lock(&db_list_mutex);
	for (p = db_list; p != NULL; p = p->next)
		if (p->dev == db->dev && p->ino == db->ino &&
		    p->pid == db->pid)
			break;
	if (p == NULL) {
		db->next = db_list;
		db_list = db;
	}
	pthread_mutex_unlock(&db_list_mutex);
	if (p != NULL)
		return errbuf_set(err, errlen, "database %s: already open in "
		    "this process", db->dir);
	return 0;
}

static void
db_unregister(struct db *db)
{
	struct db **pp;

	pthread_mutex_lock(&db_list_mutex);
	for (pp = &db_list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == db) {
			*pp = db->next;
			break;
		}
	pthread_mutex_unlock(&db_list_mutex);
}

/* The directory: created (0750) for a writer, and a directory. */
static int
db_prepare_dir(struct db *db, char *err, size_t errlen)
{
	struct stat st;

	if (!db->readonly && mkdir(db->dir, 0750) < 0 && errno != EEXIST)
		return errbuf_set(err, errlen, "database %s: cannot create "
		    "directory: %s", db->dir, strerror(errno));
	if (stat(db->dir, &st) < 0)
		return errbuf_set(err, errlen, "database %s: %s", db->dir,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return errbuf_set(err, errlen, "database %s: not a directory",
		    db->dir);
	db->dev = st.st_dev;
	db->ino = st.st_ino;
	db->pid = getpid();
	return 0;
}

static int
db_open_env(struct db *db, size_t mapsize, char *err, size_t errlen)
{
	unsigned flags = MDB_NOTLS | (db->readonly ? MDB_RDONLY :
	    db->writemap ? MDB_WRITEMAP : 0);
	int rc, dead;

	if ((rc = mdb_env_create(&db->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(db->env, DB_MAXDBS)) != 0 ||
	    (rc = mdb_env_set_mapsize(db->env, mapsize)) != 0) {
		db_reason(NULL, db->dir, rc, err, errlen);
		return -1;
	}
	if ((rc = mdb_env_open(db->env, db->dir, flags, 0640)) != 0) {
		if (rc == ENOENT && db->readonly)
			return errbuf_set(err, errlen, "database %s: no database "
			    "here yet (data.mdb missing)", db->dir);
		if (rc == EAGAIN || rc == EROFS)
			return errbuf_set(err, errlen, "database %s: cannot "
			    "lock the environment (%s)", db->dir,
			    strerror(rc));
		db_reason(NULL, db->dir, rc, err, errlen);
		return -1;
	}
	if (mdb_reader_check(db->env, &dead) == 0 && dead > 0)
		log_msg(LOG_NOTICE, NULL, "database %s: cleared %d stale "
		    "reader slot%s", db->dir, dead, dead == 1 ? "" : "s");
	return 0;
}

/*
 * Writer-preferring, so a waiting resize stops new transactions from
 * starting and runs as soon as the current ones end, however busy the
 * readers are. The price: a thread that nests transactions could wait on
 * itself; the resize's bounded wait turns that into a failed write.
 */
static void
db_lock_init(struct db *db)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&db->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&db->pool_mu, NULL);
}

/* Undo db_open, as far as it got (registered: db_register succeeded). */
static void
db_free(struct db *db, int registered)
{
	if (registered)
		db_unregister(db);
	if (db->env != NULL) {
		db_pool_drain(db);
		mdb_env_close(db->env);
	}
	pthread_rwlock_destroy(&db->lock);
	pthread_mutex_destroy(&db->pool_mu);
	free(db->dir);
	free(db);
}

struct db *
db_open(const char *dir, size_t mapsize, size_t maxsize, unsigned flags,
    char *err, size_t errlen)
{
	struct db *db = xcalloc(1, sizeof(*db));
	int registered = 0, readonly = (flags & DB_RDONLY) != 0;

	db->dir = xstrdup(dir);
	db->readonly = readonly;
	db->writemap = (flags & DB_WRITEMAP) != 0;
	if (mapsize == 0)
		mapsize = DB_DEFAULT_MAPSIZE;
	db->maxsize = maxsize > mapsize ? maxsize : mapsize;
	db_lock_init(db);
	if (db_prepare_dir(db, err, errlen) < 0 ||
	    db_register(db, err, errlen) < 0)
		goto fail;
	registered = 1;
	if (db_open_env(db, mapsize, err, errlen) < 0)
		goto fail;
	if (readonly ? db_open_tables_readonly(db, err, errlen) :
	    db_write(db, db_open_tables, NULL, err, errlen))
		goto fail;
	return db;
fail:
	db_free(db, registered);
	return NULL;
}

void
db_close(struct db *db)
{
	if (db != NULL)
		db_free(db, 1);
}

uint64_t
db_txn_id(struct db_txn *txn)
{
	if (txn == NULL || txn->txn == NULL)
		return 0;
	return (uint64_t)mdb_txn_id(txn->txn);
}
