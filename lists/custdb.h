/*
 * custdb - customers, plans, logins, networks and domains in LMDB
 *
 * The customer map of SPEC "Who sent it: attribution" and "Plans and
 * quotas", stored in the tables of db.h. Records are encoded here and only
 * here (little-endian, versioned), so mdb_dump of the database and the
 * daemon agree with aupctl.
 *
 * Identifiers: a customer id or plan name is 1..63 of [A-Za-z0-9._-];
 * a login is 1..255 printable non-space bytes; domains are stored in lower
 * case without a trailing dot. Functions that take names validate them and
 * fail with a reason (db_txn_fail) rather than storing garbage.
 *
 * Threads and lifetimes: as db.h; every struct filled here is a copy the
 * caller owns, valid after the transaction ends.
 * Errors: actions 0 / -1 (reason via db_txn_error); lookups -1 / 0 / 1.
 */
#ifndef AUP_CUSTDB_H
#define AUP_CUSTDB_H

#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "db.h"

#define CUSTDB_ID_MAX	64	/* buffer size for ids and plan names */
#define CUSTDB_ADDR_MAX	256	/* buffer size for a contact address */
#define CUSTDB_DOMAIN_MAX 254	/* buffer size for a normalized domain */

enum plan_key {
	PLAN_MAX_RCPTS_PER_MSG,
	PLAN_MAX_MSG_BYTES,
	PLAN_MSGS_PER_HOUR,
	PLAN_RCPTS_PER_DAY,
	PLAN_PER_RCPT_PER_HOUR,
	PLAN_WARN_PERCENT,
	PLAN_NKEYS
};

struct plan {
	char		name[CUSTDB_ID_MAX];
	uint64_t	lim[PLAN_NKEYS];
};

/* "max_rcpts_per_msg" etc.; NULL for an out-of-range key. */
const char *plan_key_name(enum plan_key k);
/* The key named s, or -1. */
int	plan_key_lookup(const char *s);
/* Fill p with the defaults (max_rcpts_per_msg 99, ...) and name. */
void	plan_defaults(struct plan *p, const char *name);
/* Largest value key k may take (warn_percent: 100; others: UINT64_MAX). */
uint64_t plan_key_max(enum plan_key k);

#define CUST_OWN_MAIL_SERVER	0x1

enum cust_status {
	CUST_ACTIVE,
	CUST_SUSPENDED
};

struct customer {
	char		id[CUSTDB_ID_MAX];
	char		plan[CUSTDB_ID_MAX];
	char		contact[CUSTDB_ADDR_MAX];
	unsigned	flags;		/* CUST_* */
	int		status;		/* enum cust_status */
	int64_t		created;	/* Unix seconds */
};

/* 1 if s is a valid customer id or plan name. */
int	custdb_valid_id(const char *s);
/* 1 if s is a valid login: 1..255 bytes of printable ASCII, no space. */
int	custdb_valid_login(const char *s);
/*
 * Lower-case in and cut one trailing dot into out (CUSTDB_DOMAIN_MAX
 * bytes), checking it is a domain: LDH labels of 1..63 (xn-- included),
 * no empty label, at most 253 in all. 0, or -1 if it is not a domain.
 */
int	custdb_domain_normalize(const char *in, char *out, size_t outlen);

int	custdb_plan_get(struct db_txn *txn, const char *name, struct plan *p);
int	custdb_plan_put(struct db_txn *txn, const struct plan *p);
/* Call fn for every plan in name order (stop when fn returns non-zero). */
int	custdb_plan_each(struct db_txn *txn,
	    int (*fn)(const struct plan *, void *), void *arg);

int	custdb_customer_get(struct db_txn *txn, const char *id,
	    struct customer *c);
/* Insert or replace. The plan must exist. */
int	custdb_customer_put(struct db_txn *txn, const struct customer *c);
int	custdb_customer_each(struct db_txn *txn,
	    int (*fn)(const struct customer *, void *), void *arg);

/* Add a login to customer id; fails if it belongs to another customer. */
int	custdb_login_add(struct db_txn *txn, const char *id, const char *login);
/* Lookup: customer id of login into id (CUSTDB_ID_MAX bytes). */
int	custdb_login_lookup(struct db_txn *txn, const char *login, char *id);
int	custdb_login_each(struct db_txn *txn, const char *id,
	    int (*fn)(const char *login, void *), void *arg);

/*
 * A login's own plan, tighter than its customer's (custdb_login.c). set:
 * the login must belong to customer id and the plan exist; plan NULL
 * removes it. get: the plan name into plan (CUSTDB_ID_MAX bytes), -1 / 0
 * none / 1.
 */
int	custdb_login_plan_set(struct db_txn *txn, const char *id,
	    const char *login, const char *plan);
int	custdb_login_plan_get(struct db_txn *txn, const char *login,
	    char *plan);

/* Add a static network; fails if the same network belongs to another. */
int	custdb_network_add(struct db_txn *txn, const char *id,
	    const struct cidr *net);
/*
 * Longest-prefix match of addr over every customer's networks. On a hit
 * fills id (CUSTDB_ID_MAX bytes) and, if non-NULL, the matching network.
 */
int	custdb_network_lookup(struct db_txn *txn, const struct cidr *addr,
	    char *id, struct cidr *matched);
int	custdb_network_each(struct db_txn *txn, const char *id,
	    int (*fn)(const struct cidr *, void *), void *arg);

#define DOMAIN_SUBDOMAINS	0x1	/* also authorizes sub.domain */

/* Authorize a domain for the customer (lower-cased, trailing dot cut). */
int	custdb_domain_add(struct db_txn *txn, const char *id,
	    const char *domain, unsigned flags);
/*
 * Is domain authorized for customer id? Exact match, or a parent domain
 * added with DOMAIN_SUBDOMAINS. Case-insensitive. -1 / 0 / 1.
 */
int	custdb_domain_check(struct db_txn *txn, const char *id,
	    const char *domain);
/* The same; *exact (if not NULL) is 1 when domain itself is listed. */
int	custdb_domain_match(struct db_txn *txn, const char *id,
	    const char *domain, int *exact);
int	custdb_domain_each(struct db_txn *txn, const char *id,
	    int (*fn)(const char *domain, unsigned flags, void *), void *arg);

#endif
