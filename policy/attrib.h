/*
 * attrib - who sent it: attribution of a transaction to a customer
 *
 * SPEC order: the SMTP AUTH login if it is a customer's login, else the
 * client IP inside a customer's static network (longest prefix wins), else
 * the client IP leased to a customer at the moment of the transaction
 * (lease_db.h), else unattributed.
 * Threads: safe; the cache is shared (db_cache.h). Errors: -1 / 0 / 1.
 */
#ifndef AUP_ATTRIB_H
#define AUP_ATTRIB_H

#include "cidr.h"
#include "custdb.h"
#include "db.h"
#include "db_cache.h"

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
 * What MAIL learns of the client: the attribution and, when attributed,
 * the customer and its plan. gap says what the database lacked: a
 * customer the attribution names (the transaction is then unattributed),
 * or the customer's plan (plan then holds the default limits).
 */
enum attrib_gap {
	ATTRIB_COMPLETE,
	ATTRIB_NO_CUSTOMER,
	ATTRIB_NO_PLAN
};

struct attrib_result {
	struct attribution attr;
	struct customer	cust;
	struct plan	plan;
	enum attrib_gap	gap;
};

/*
 * A cache of attributions for attrib_lookup() over db (db_cache.h):
 * a login's answer, and a client address's (network, or lease with the
 * time it holds). db_cache_free() frees it.
 */
struct db_cache *attrib_cache_new(struct db *db);

/*
 * Resolve auth (may be NULL) and client (may be NULL) at time now (a
 * lease must be in force then) to a customer and plan, from cache when
 * it holds the answer for the database as it is now (cache may be NULL),
 * else from one read transaction of db. Returns 1 attributed, 0 not
 * (res->attr.by is ATTRIB_NONE, or res->gap ATTRIB_NO_CUSTOMER), -1 on a
 * database error with err set (res holds what was read before it).
 */
int	attrib_lookup(struct db *db, struct db_cache *cache, const char *auth,
	    const struct cidr *client, int64_t now, struct attrib_result *res,
	    char *err, size_t errlen);

/* "login", "network", "lease", "none". */
const char *attrib_by_name(enum attrib_by by);

#endif
