/*
 * optout_db - opt-out (suppression) lists in LMDB: global and per customer
 *
 * SPEC rule `optout`: no further mail to a recipient who asked not to
 * receive it. One table (DB_OPTOUT) holds every list; the key is
 * "CUSTOMER\0ADDRESS", with an empty CUSTOMER for the global list, so one
 * list is one key range and a lookup is two point reads. Addresses are
 * stored as addrnorm_address() made them: callers normalise first, and
 * this module refuses an address that is not in that form's shape (no
 * '@', controls, too long) rather than store garbage.
 *
 * Entry value: u8 version=1, u8 source, i64 added (ms since the epoch,
 * little-endian), u8 ref length, ref (the evidence ref of the complaint or
 * of nothing). Re-adding an address keeps its first entry.
 *
 * Threads and lifetimes: as db.h; every struct filled here is a copy.
 * Errors: actions 0 / -1 (reason via db_txn_error); lookups -1 / 0 / 1.
 */
#ifndef AUP_OPTOUT_DB_H
#define AUP_OPTOUT_DB_H

#include <stddef.h>
#include <stdint.h>

#include "addrnorm.h"
#include "custdb.h"
#include "db.h"

enum optout_source {
	OPTOUT_SRC_ADMIN,	/* aupctl optout add */
	OPTOUT_SRC_IMPORT,	/* aupctl optout import */
	OPTOUT_SRC_COMPLAINT	/* aupctl complaint ingest */
};

struct optout_entry {
	char		customer[CUSTDB_ID_MAX];	/* "" for global */
	char		addr[ADDRNORM_MAX];
	int		source;				/* enum optout_source */
	int64_t		added_ms;
	char		ref[32];			/* "" if none */
};

/* "admin", "import", "complaint". */
const char *optout_source_name(int source);

/*
 * Add the normalised addr to customer's list (NULL or "": the global
 * list). The customer must exist. ref may be NULL. 1 added, 0 it was
 * already there (its entry is kept), -1 error.
 */
int	optout_add(struct db_txn *txn, const char *customer, const char *addr,
	    int source, int64_t now_ms, const char *ref);

/*
 * Bulk add: addrs[0..n) (normalised, sorted, without duplicates for
 * speed) to one list in the caller's write transaction. *added counts
 * the new ones. 0 / -1 (nothing of the transaction may be committed).
 */
int	optout_import(struct db_txn *txn, const char *customer,
	    char *const *addrs, size_t n, int source, int64_t now_ms,
	    long *added);

/* 1 removed, 0 was not listed, -1 error. */
int	optout_remove(struct db_txn *txn, const char *customer,
	    const char *addr);

/*
 * Is addr refused for customer? The customer's list is read first, then
 * the global list; on a hit e (may be NULL) says which (e->customer is ""
 * for the global list). customer NULL checks the global list only.
 * -1 / 0 / 1.
 */
int	optout_check(struct db_txn *txn, const char *customer,
	    const char *addr, struct optout_entry *e);

/* Every entry of one list in address order; stops when fn is non-zero. */
int	optout_each(struct db_txn *txn, const char *customer,
	    int (*fn)(const struct optout_entry *, void *), void *arg);

/* Entries of one list, -1 on error. */
long	optout_count(struct db_txn *txn, const char *customer);

/*
 * The id of the last write transaction that added or removed an entry of
 * any list (0: none recorded) into *id: -1 / 0 / 1. A reader that knew
 * the lists as of transaction T still knows them while this id is at
 * most T. Kept in DB_META by optout_add, optout_import, optout_remove.
 */
int	optout_changed(struct db_txn *txn, uint64_t *id);

/*
 * The table key of addr on customer's list (NULL or "": global) into
 * key (OPTOUT_KEY_MAX bytes), unchecked: its length, or 0 if a part is
 * too long. For in-memory filters of the table (optout_filter.h).
 */
#define OPTOUT_KEY_MAX	(CUSTDB_ID_MAX + ADDRNORM_MAX + 1)
size_t	optout_key_bytes(const char *customer, const char *addr,
	    uint8_t *key);

#endif
