/*
 * lease_db - history of dynamically assigned addresses (DB_LEASES)
 *
 * SPEC "Who sent it", step 3: the client IP was leased to a customer at
 * the moment of the transaction. The AUP requires keeping the logs of
 * dynamically assigned addresses, so leases are never deleted: a lease
 * has a start and, once it ends, an end. One address has at most one
 * lease in force at any moment: adding an open lease (no end) that
 * starts while an earlier open lease of the same address is in force
 * ends that one where the new one starts (the address changed hands);
 * any other overlap is refused with the lease it collides with.
 *
 * Times are Unix seconds, UTC; a lease covers [from, to), to 0 = open.
 * Record: key u8 family (4|6), 16 address bytes (IPv4 in the first 4),
 * u64 BE from; value u8 version (1), i64 BE to, customer id.
 *
 * Ownership: every struct lease filled here is a copy the caller owns.
 * Threads: as db.h (a txn belongs to one thread).
 * Errors: actions 0 / -1 with the reason in the txn (db_txn_fail);
 * lookups -1 / 0 / 1.
 */
#ifndef AUP_LEASE_DB_H
#define AUP_LEASE_DB_H

#include <stdint.h>

#include "cidr.h"
#include "custdb.h"
#include "db.h"

struct lease {
	struct cidr	addr;			/* a full-length address */
	char		customer[CUSTDB_ID_MAX];
	int64_t		from;			/* inclusive, >= 0 */
	int64_t		to;			/* exclusive; 0: still leased */
};

/*
 * Record lease l (the customer must exist, to > from unless 0). An open
 * l ends an open earlier lease of the address at l->from; any other
 * overlap is refused. Adding the same lease again is a no-op. If ended is not NULL
 * it receives the lease that was ended (ended->customer[0] is '\0' if
 * none).
 */
int	lease_add(struct db_txn *txn, const struct lease *l,
	    struct lease *ended);

/* The lease of addr in force at time when, into out. -1 / 0 / 1. */
int	lease_lookup(struct db_txn *txn, const struct cidr *addr, int64_t when,
	    struct lease *out);

/*
 * The same, and the time span [*lo, *hi) around when over which the
 * answer (this lease, or none) stays the same as long as the table does
 * (INT64_MIN, INT64_MAX: unbounded); for caches of the answer.
 */
int	lease_lookup_span(struct db_txn *txn, const struct cidr *addr,
	    int64_t when, struct lease *out, int64_t *lo, int64_t *hi);

/*
 * Call fn for each lease of addr (NULL: of every address) in address and
 * start order, until fn returns non-zero. -1 on error, else fn's last
 * value (0 when all were visited).
 */
int	lease_each(struct db_txn *txn, const struct cidr *addr,
	    int (*fn)(const struct lease *, void *), void *arg);

#endif
