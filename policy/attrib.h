/*
 * attrib - who sent it: attribution of a transaction to a customer
 *
 * SPEC order: the SMTP AUTH login if it is a customer's login, else the
 * client IP inside a customer's static network (longest prefix wins), else
 * unattributed. (Dynamic leases come with the return-address work.)
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
	ATTRIB_NETWORK
};

struct attribution {
	enum attrib_by	by;
	char		customer[CUSTDB_ID_MAX];
	char		via[256];	/* the login, or the network */
};

/*
 * Resolve auth (may be NULL) and client (may be NULL) to a customer.
 * Returns 1 attributed, 0 unattributed (a->by == ATTRIB_NONE), -1 on a
 * database error.
 */
int	attrib_resolve(struct db_txn *txn, const char *auth,
	    const struct cidr *client, struct attribution *a);

/* "login", "network", "none". */
const char *attrib_by_name(enum attrib_by by);

#endif
