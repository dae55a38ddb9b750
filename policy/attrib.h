/*
 * attrib - who sent it: attribution of a transaction to a customer
 *
 * SPEC order: the SMTP AUTH login if it is a customer's login, else the
 * client IP inside a customer's static network (longest prefix wins), else
 * the client IP leased to a customer at the moment of the transaction
 * (lease_db.h), else unattributed.
 * Threads: pure over a read transaction. Errors: -1 / 0 / 1 lookups.
 */
#ifndef AUP_ATTRIB_H
#define AUP_ATTRIB_H

#include "cidr.h"
#include "custdb.h"
#include "db.h"

enum attrib_by {
	ATTRIB_NONE,
	ATTRIB_LOGIN,
	ATTRIB_NETWORK,
	ATTRIB_LEASE
};

struct attribution {
	enum attrib_by	by;
	char		customer[CUSTDB_ID_MAX];
	char		via[256];	/* the login, the network, or the lease
					   ("192.0.2.7 2026-11-22T08:00:00Z/-") */
};

/*
 * Resolve auth (may be NULL) and client (may be NULL) to a customer; a
 * lease must be in force now. Returns 1 attributed, 0 unattributed
 * (a->by == ATTRIB_NONE), -1 on a database error.
 */
int	attrib_resolve(struct db_txn *txn, const char *auth,
	    const struct cidr *client, struct attribution *a);

/* "login", "network", "lease", "none". */
const char *attrib_by_name(enum attrib_by by);

#endif
