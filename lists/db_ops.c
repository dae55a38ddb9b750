/*
 * db_ops - the data operations on the LMDB environment (see db.h)
 *
 * db_get, db_put, db_del, db_iter, db_iter_from and db_count, with their
 * checks of the table and the key length. The environment and its
 * transactions are db.c's; the structs both files use are in db_priv.h.
 *
 * Ownership: keys and values handed to a caller point into the map and
 * are valid only until the transaction ends: the caller copies them.
 *
 * Threads: a struct db_txn is used by one thread at a time; its
 * transaction already holds db->lock shared (db.c), nothing here locks.
 *
 * Errors: lookups -1 / 0 / 1, actions 0 / -1, as db.h says. An LMDB
 * failure is recorded in the transaction (db_txn_lmdb()), so db_write()
 * aborts the write and, on MDB_MAP_FULL, grows the map and runs it again.
 */
#include <lmdb.h>
#include <stddef.h>
#include <string.h>

#include "db.h"
#include "db_priv.h"

static int
db_check_key(struct db_txn *txn, enum db_table t, size_t klen)
{
	if ((unsigned)t >= DB_NTABLES)
		return db_txn_fail(txn, "database %s: no table %d",
		    txn->db->dir, (int)t);
	if (klen == 0 || klen > (size_t)mdb_env_get_maxkeysize(txn->db->env))
		return db_txn_fail(txn, "database %s: bad key length %zu "
		    "for table %s", txn->db->dir, klen, db_table_names[t]);
	return 0;
}

int
db_get(struct db_txn *txn, enum db_table t, const void *key, size_t klen,
    const void **val, size_t *vlen)
{
	MDB_val k, v;
	int rc;

	if (db_check_key(txn, t, klen) < 0)
		return -1;
	if (!txn->db->have[t])
		return 0;
	k.mv_data = (void *)key;
	k.mv_size = klen;
	rc = mdb_get(txn->txn, txn->db->dbi[t], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return db_txn_lmdb(txn, rc);
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 1;
}

int
db_put(struct db_txn *txn, enum db_table t, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	MDB_val k, v;
	int rc;

	if (db_check_key(txn, t, klen) < 0)
		return -1;
	if (!txn->write)
		return db_txn_fail(txn, "database %s: write in a read-only "
		    "transaction", txn->db->dir);
	k.mv_data = (void *)key;
	k.mv_size = klen;
	v.mv_data = val != NULL ? (void *)val : (void *)"";
	v.mv_size = vlen;
	txn->writes++;
	if (txn->putcur[t] == NULL && (rc = mdb_cursor_open(txn->txn,
	    txn->db->dbi[t], &txn->putcur[t])) != 0)
		return db_txn_lmdb(txn, rc);
	if ((rc = mdb_cursor_put(txn->putcur[t], &k, &v, 0)) != 0)
		return db_txn_lmdb(txn, rc);
	return 0;
}

int
db_del(struct db_txn *txn, enum db_table t, const void *key, size_t klen)
{
	MDB_val k;
	int rc;

	if (db_check_key(txn, t, klen) < 0)
		return -1;
	if (!txn->write)
		return db_txn_fail(txn, "database %s: delete in a read-only "
		    "transaction", txn->db->dir);
	k.mv_data = (void *)key;
	k.mv_size = klen;
	rc = mdb_del(txn->txn, txn->db->dbi[t], &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;	/* nothing changed: not a write (db_txn_dirty) */
	txn->writes++;
	if (rc != 0)
		return db_txn_lmdb(txn, rc);
	return 1;
}

/* From the first key >= start; bounded: only keys starting with start. */
static int
db_walk(struct db_txn *txn, enum db_table t, const void *start,
    size_t slen, int bounded, int (*fn)(const void *key, size_t klen,
    const void *val, size_t vlen, void *arg), void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = 0;

	if ((unsigned)t >= DB_NTABLES)
		return db_txn_fail(txn, "database %s: no table %d",
		    txn->db->dir, (int)t);
	if (!txn->db->have[t])
		return 0;
	if ((rc = mdb_cursor_open(txn->txn, txn->db->dbi[t], &cur)) != 0)
		return db_txn_lmdb(txn, rc);
	k.mv_data = (void *)start;
	k.mv_size = slen;
	rc = mdb_cursor_get(cur, &k, &v, slen > 0 ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		if (bounded && slen > 0 && (k.mv_size < slen ||
		    memcmp(k.mv_data, start, slen) != 0))
			break;
		if ((ret = fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size,
		    arg)) != 0)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return db_txn_lmdb(txn, rc);
	return ret;
}

int
db_iter(struct db_txn *txn, enum db_table t, const void *prefix,
    size_t plen, int (*fn)(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg), void *arg)
{
	return db_walk(txn, t, prefix, plen, 1, fn, arg);
}

int
db_iter_from(struct db_txn *txn, enum db_table t, const void *start,
    size_t slen, int (*fn)(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg), void *arg)
{
	return db_walk(txn, t, start, slen, 0, fn, arg);
}

long
db_count(struct db_txn *txn, enum db_table t)
{
	MDB_stat st;
	int rc;

	if ((unsigned)t >= DB_NTABLES)
		return db_txn_fail(txn, "database %s: no table %d",
		    txn->db->dir, (int)t);
	if (!txn->db->have[t])
		return 0;
	if ((rc = mdb_stat(txn->txn, txn->db->dbi[t], &st)) != 0)
		return db_txn_lmdb(txn, rc);
	return (long)st.ms_entries;
}

int
db_txn_dirty(struct db_txn *txn)
{
	return txn->writes > 0;
}
