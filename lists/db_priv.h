/*
 * db_priv - what db.c and db_ops.c share
 *
 * Not a public interface: only lists/db.c and lists/db_ops.c include this
 * (make layers checks it), and <lmdb.h> with it. The public functions are
 * declared in db.h.
 *
 * Ownership, threads and errors: as db.c's header comment says.
 */
#ifndef AUP_DB_PRIV_H
#define AUP_DB_PRIV_H

#include <sys/types.h>

#include <lmdb.h>
#include <pthread.h>
#include <stddef.h>

#include "db.h"

#define DB_ERR_MAX		512
#define DB_READ_POOL		32	/* idle read handles kept (slots) */

struct db {
	MDB_env		*env;
	MDB_dbi		 dbi[DB_NTABLES];
	unsigned char	 have[DB_NTABLES];	/* 0: absent (rdonly) */
	char		*dir;
	size_t		 maxsize;
	int		 readonly;
	int		 writemap;	/* DB_WRITEMAP */
	pthread_rwlock_t lock;	/* shared: any txn; exclusive: resize */
	pthread_mutex_t	 pool_mu;	/* the idle read handles below */
	struct db_txn	*pool[DB_READ_POOL];	/* reset, ready to renew */
	int		 npool;
	unsigned long	 commits;	/* atomic: db_commits() */
	dev_t		 dev;	/* for the once-per-process check */
	ino_t		 ino;
	pid_t		 pid;
	struct db	*next;
};

struct db_txn {
	struct db	*db;
	MDB_txn		*txn;
	int		 write;
	unsigned long	 writes;	/* db_put/db_del calls so far */
	/*
	 * A write transaction's cursor per table for db_put, opened on
	 * first use and freed by LMDB when the transaction ends: a put
	 * whose key falls on the page of the one before skips the
	 * descent from the root (mdb_cursor_set checks the current page).
	 */
	MDB_cursor	*putcur[DB_NTABLES];
	int		 mdb_rc;	/* first LMDB failure, 0 if none */
	size_t		 mapsize;	/* map size when the txn began */
	char		 err[DB_ERR_MAX];
};

/* Table names by enum db_table (db.c). */
extern const char *const db_table_names[DB_NTABLES];

/* Record an LMDB failure rc in txn (first code and its text); returns -1. */
int	db_txn_lmdb(struct db_txn *txn, int rc);

#endif
