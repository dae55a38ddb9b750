/*
 * optout_db.t - unit tests of lists/optout_db.c on a real LMDB: which list
 * optout_check() finds an address on, and its refusals of bad input
 *
 * Everything happens in a mkdtemp() directory that is removed at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custdb.h"
#include "db.h"
#include "optout_db.h"
#include "tap.h"

static char tmpdir[] = "/tmp/optout_db.t.XXXXXX";
static char err[512];

static int
setup(struct db_txn *txn, void *arg)
{
	struct customer c;
	struct plan p;

	plan_defaults(&p, "basic");
	if (custdb_plan_put(txn, &p) < 0)
		return -1;
	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "acme");
	snprintf(c.plan, sizeof(c.plan), "basic");
	snprintf(c.contact, sizeof(c.contact), "noc@acme.example");
	if (custdb_customer_put(txn, &c) < 0)
		return -1;
	if (optout_add(txn, "acme", "own@x.example", OPTOUT_SRC_ADMIN, 1000,
	    "r1") < 0 ||
	    optout_add(txn, NULL, "global@x.example", OPTOUT_SRC_IMPORT, 2000,
	    NULL) < 0 ||
	    optout_add(txn, "acme", "both@x.example", OPTOUT_SRC_ADMIN, 3000,
	    NULL) < 0 ||
	    optout_add(txn, "", "both@x.example", OPTOUT_SRC_COMPLAINT, 4000,
	    "r2") < 0)
		return -1;
	return 0;
}

struct check_case {
	const char	*customer;
	const char	*addr;
	int		 want;		/* optout_check() */
	const char	*list;		/* e.customer on a hit */
	int		 source;
};

static const struct check_case cases[] = {
	{ "acme", "own@x.example", 1, "acme", OPTOUT_SRC_ADMIN },
	{ "acme", "global@x.example", 1, "", OPTOUT_SRC_IMPORT },
	{ "acme", "both@x.example", 1, "acme", OPTOUT_SRC_ADMIN },
	{ "acme", "none@x.example", 0, NULL, 0 },
	{ "other", "own@x.example", 0, NULL, 0 },
	{ "other", "global@x.example", 1, "", OPTOUT_SRC_IMPORT },
	{ NULL, "own@x.example", 0, NULL, 0 },
	{ NULL, "both@x.example", 1, "", OPTOUT_SRC_COMPLAINT },
	{ "", "global@x.example", 1, "", OPTOUT_SRC_IMPORT },
	{ "", "own@x.example", 0, NULL, 0 },
	{ "bad id!", "own@x.example", -1, NULL, 0 },
	{ "acme", "no-at-sign", -1, NULL, 0 },
	{ NULL, "", -1, NULL, 0 },
	{ "acme", "ctl\001@x.example", -1, NULL, 0 },
};

int
main(void)
{
	struct optout_entry e;
	struct db_txn *rt;
	struct db *db;
	char cmd[64];
	int rc;

	plan_no_plan();
	if (mkdtemp(tmpdir) == NULL)
		bail("mkdtemp: %s", tmpdir);
	if ((db = db_open(tmpdir, 1 << 20, 64 << 20, 0, err,
	    sizeof(err))) == NULL)
		bail("db_open: %s", err);
	if (db_write(db, setup, NULL, err, sizeof(err)) < 0)
		bail("setup: %s", err);
	if ((rt = db_read_begin(db, err, sizeof(err))) == NULL)
		bail("db_read_begin: %s", err);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const struct check_case *c = &cases[i];

		memset(&e, 0x55, sizeof(e));
		rc = optout_check(rt, c->customer, c->addr, &e);
		is_int(rc, c->want, "check %s for %s", c->addr,
		    c->customer != NULL ? c->customer : "(global)");
		if (rc == 1 && c->list != NULL) {
			is_str(e.customer, c->list, "  found on list '%s'",
			    c->list);
			is_str(e.addr, c->addr, "  entry address");
			is_int(e.source, c->source, "  entry source");
		}
		if (rc == 1)
			ok(optout_check(rt, c->customer, c->addr, NULL) == 1,
			    "  and without an entry to fill");
	}
	db_read_end(rt);
	db_close(db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return tap_done();
}
