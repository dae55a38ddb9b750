/*
 * custdb_login - a login's own plan (see custdb.h)
 *
 * A login may have a plan tighter than its customer's: its quota counters
 * are then kept and checked by that plan as well as the customer's.
 * Stored in DB_LOGIN_PLANS as login -> plan name; the login itself stays
 * in DB_LOGINS (custdb.c), so "customer login add" works as before.
 * Ownership: the plan name is copied out. Threads: as db.h.
 * Errors: actions 0 / -1 with the reason in the txn; lookups -1 / 0 / 1.
 */
#include <string.h>

#include "custdb.h"
#include "custdb_priv.h"
#include "db.h"

int
custdb_login_plan_set(struct db_txn *txn, const char *id, const char *login,
    const char *plan)
{
	char owner[CUSTDB_ID_MAX];
	struct plan p;
	int rc;

	if (custdb_need_customer(txn, id) < 0)
		return -1;
	if (!custdb_valid_login(login))
		return db_txn_fail(txn, "invalid login '%.64s'", login);
	if ((rc = custdb_login_lookup(txn, login, owner)) < 0)
		return -1;
	if (rc == 0 || strcmp(owner, id) != 0)
		return db_txn_fail(txn, "login '%s' is not a login of "
		    "customer '%s'", login, id);
	if (plan == NULL)
		return db_del(txn, DB_LOGIN_PLANS, login, strlen(login)) < 0 ?
		    -1 : 0;
	if ((rc = custdb_plan_get(txn, plan, &p)) <= 0)
		return rc < 0 ? -1 : db_txn_fail(txn, "no such plan '%s'",
		    plan);
	return db_put(txn, DB_LOGIN_PLANS, login, strlen(login), plan,
	    strlen(plan));
}

int
custdb_login_plan_get(struct db_txn *txn, const char *login, char *plan)
{
	const void *val;
	size_t vlen;
	int rc;

	if (!custdb_valid_login(login))
		return 0;
	rc = db_get(txn, DB_LOGIN_PLANS, login, strlen(login), &val, &vlen);
	if (rc <= 0)
		return rc;
	if (vlen == 0 || vlen >= CUSTDB_ID_MAX)
		return db_txn_fail(txn, "login_plans: corrupt record for "
		    "'%.64s'", login);
	memcpy(plan, val, vlen);
	plan[vlen] = '\0';
	if (!custdb_valid_id(plan))
		return db_txn_fail(txn, "login_plans: corrupt record for "
		    "'%.64s'", login);
	return 1;
}
