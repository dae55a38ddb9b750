/*
 * custdb_priv - helpers shared by custdb.c and custdb_net.c
 *
 * Not a public interface: only the custdb*.c files include this. The
 * public functions are all declared in custdb.h.
 * Threads and errors: as custdb.h (a txn belongs to one thread; failures
 * are -1 with the reason set by db_txn_fail).
 */
#ifndef AUP_CUSTDB_PRIV_H
#define AUP_CUSTDB_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "custdb.h"
#include "db.h"

/* Iteration context shared by the *_each functions. */
struct custdb_iter {
	struct db_txn	*txn;
	int		 failed;	/* a callback found a corrupt record */
	size_t		 skip;		/* bytes of key prefix */
	union {
		int	(*plan)(const struct plan *, void *);
		int	(*cust)(const struct customer *, void *);
		int	(*login)(const char *, void *);
		int	(*net)(const struct cidr *, void *);
		int	(*domain)(const char *, unsigned, void *);
	} fn;
	void		*arg;
};

/*
 * Run db_iter over table t with prefix[0..plen) and cb, with it as the
 * callback argument (it->skip = plen). -1 if cb marked it->failed,
 * otherwise what db_iter returned.
 */
int	custdb_iter_run(struct db_txn *txn, enum db_table t,
	    const void *prefix, size_t plen,
	    int (*cb)(const void *, size_t, const void *, size_t, void *),
	    struct custdb_iter *it);

/*
 * Write the key "id\0" followed by tail[0..tlen) into key (room for
 * CUSTDB_ID_MAX + tlen bytes); returns the key length.
 */
size_t	custdb_idkey(uint8_t *key, const char *id, const void *tail,
	    size_t tlen);

/*
 * Copy a stored customer id value val[0..vlen) into id (CUSTDB_ID_MAX
 * bytes), checking it; what names the table in the error. 0 / -1.
 */
int	custdb_copy_id(struct db_txn *txn, const char *what, const void *val,
	    size_t vlen, char *id);

/* Changes hang off an existing customer: 0, or -1 with the reason. */
int	custdb_need_customer(struct db_txn *txn, const char *id);

#endif
