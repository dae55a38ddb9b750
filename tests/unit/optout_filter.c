/*
 * optout_filter unit test, over a real LMDB environment: the filter must
 * never say "not listed" for an address on a list, whoever added it and
 * however recently; it says so for most others; commits that add nothing
 * keep it without a rebuild; rebuilds are paced. Changes come from a
 * forked process with its own handle, as aupctl makes them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "custdb.h"
#include "db_elsewhere.h"
#include "db.h"
#include "log.h"
#include "optout_db.h"
#include "optout_filter.h"
#include "tap.h"

#define NOW	INT64_C(1795334400)

static char dir[] = "/tmp/aup-optout-filter-XXXXXX";
static char path[300];
static struct db *db;

enum change { ADD_GLOBAL, ADD_ACME, ADD_CUSTOMER, RAW_PUT, REMOVE_GLOBAL };
static const char *change_addr;

static int
change_txn(struct db_txn *t, void *arg)
{
	struct customer c = { 0 };
	uint8_t key[OPTOUT_KEY_MAX], val[11] = { 1 };
	size_t n;

	switch (*(enum change *)arg) {
	case ADD_GLOBAL:
		return optout_add(t, NULL, change_addr, OPTOUT_SRC_ADMIN, 0,
		    NULL) < 0 ? -1 : 0;
	case ADD_ACME:
		return optout_add(t, "acme", change_addr, OPTOUT_SRC_ADMIN, 0,
		    NULL) < 0 ? -1 : 0;
	case ADD_CUSTOMER:
		snprintf(c.id, sizeof(c.id), "%s", change_addr);
		snprintf(c.plan, sizeof(c.plan), "default");
		snprintf(c.contact, sizeof(c.contact), "noc@%s.example",
		    change_addr);
		return custdb_customer_put(t, &c);
	case RAW_PUT:	/* a writer that does not record its additions */
		n = optout_key_bytes(NULL, change_addr, key);
		return db_put(t, DB_OPTOUT, key, n, val, sizeof(val));
	case REMOVE_GLOBAL:
		return optout_remove(t, NULL, change_addr) < 0 ? -1 : 0;
	}
	return -1;
}

/* The change, committed by another process. */
static void
elsewhere(enum change c, const char *addr)
{
	change_addr = addr;
	db_elsewhere(path, change_txn, &c);
}

static int
provision(struct db_txn *t, void *arg)
{
	struct customer c = { 0 };
	struct plan p;
	char a[64];

	(void)arg;
	plan_defaults(&p, "default");
	if (custdb_plan_put(t, &p) < 0)
		return -1;
	snprintf(c.id, sizeof(c.id), "acme");
	snprintf(c.plan, sizeof(c.plan), "default");
	snprintf(c.contact, sizeof(c.contact), "noc@acme.example");
	if (custdb_customer_put(t, &c) < 0)
		return -1;
	for (int i = 0; i < 5000; i++) {
		snprintf(a, sizeof(a), "g%d@list.example", i);
		if (optout_add(t, NULL, a, OPTOUT_SRC_IMPORT, 0, NULL) < 0)
			return -1;
		snprintf(a, sizeof(a), "c%d@list.example", i);
		if (optout_add(t, "acme", a, OPTOUT_SRC_IMPORT, 0, NULL) < 0)
			return -1;
	}
	return 0;
}

/* How many of n unlisted addresses the filter calls "not listed". */
static int
unlisted_no(struct optout_filter *f, int64_t now, int n)
{
	char a[64];
	int no = 0;

	for (int i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "r%d@other.example", i);
		no += !optout_filter_may_list(f, "acme", a, now);
	}
	return no;
}

int
main(void)
{
	struct optout_filter *f;
	unsigned long no, maybe, builds, b0;
	char err[512], a[64];
	int missed = 0;

	plan_no_plan();
	log_open("optout_filter", 0, LOG_CRIT);
	if (mkdtemp(dir) == NULL)
		bail("mkdtemp");
	snprintf(path, sizeof(path), "%s/db", dir);
	if ((db = db_open(path, 1 << 20, 64 << 20, 0, err, sizeof(err))) ==
	    NULL || db_write(db, provision, NULL, err, sizeof(err)) < 0)
		bail("%s", err);
	f = optout_filter_new(db);

	for (int i = 0; i < 5000; i++) {
		snprintf(a, sizeof(a), "g%d@list.example", i);
		missed += !optout_filter_may_list(f, "acme", a, NOW);
		missed += !optout_filter_may_list(f, NULL, a, NOW);
		snprintf(a, sizeof(a), "c%d@list.example", i);
		missed += !optout_filter_may_list(f, "acme", a, NOW);
	}
	is_int(missed, 0, "every listed address (global, acme's) may be "
	    "listed");
	ok(unlisted_no(f, NOW, 1000) > 950, "most unlisted addresses are "
	    "known not listed");
	for (int i = 0; i < 1000; i++) {
		snprintf(a, sizeof(a), "c%d@list.example", i);
		missed += !optout_filter_may_list(f, "beta", a, NOW);
	}
	ok(missed > 950, "acme's addresses for another customer: %d of "
	    "1000 known not listed", missed);
	missed = 0;
	optout_filter_stats(f, &no, &maybe, &builds);
	is_int((long long)builds, 1, "built once");

	elsewhere(ADD_GLOBAL, "new1@x.example");
	ok(optout_filter_may_list(f, "acme", "new1@x.example", NOW + 1),
	    "added elsewhere to the global list: may be listed at once");
	optout_filter_stats(f, &no, &maybe, &b0);
	is_int((long long)b0, 1, "no rebuild yet (one every %d s)",
	    OPTOUT_FILTER_REBUILD);
	elsewhere(ADD_ACME, "new2@x.example");
	ok(optout_filter_may_list(f, "acme", "new2@x.example", NOW + 2),
	    "added to acme's list too: may be listed");
	is_int(unlisted_no(f, NOW + 2, 100), 0, "while stale, nothing is "
	    "said to be unlisted");
	ok(optout_filter_may_list(f, "acme", "new2@x.example",
	    NOW + OPTOUT_FILTER_REBUILD) && optout_filter_may_list(f, "acme",
	    "new1@x.example", NOW + OPTOUT_FILTER_REBUILD),
	    "rebuilt: both new addresses may be listed");
	optout_filter_stats(f, &no, &maybe, &builds);
	is_int((long long)builds, 2, "rebuilt once");
	ok(unlisted_no(f, NOW + OPTOUT_FILTER_REBUILD, 1000) > 950,
	    "and unlisted ones are known again");

	elsewhere(ADD_CUSTOMER, "beta");
	ok(unlisted_no(f, NOW + OPTOUT_FILTER_REBUILD + 1, 1000) > 950,
	    "a commit that adds no opt-out: still known");
	optout_filter_stats(f, &no, &maybe, &b0);
	is_int((long long)b0, (long long)builds, "without a rebuild");

	elsewhere(RAW_PUT, "raw@x.example");
	ok(optout_filter_may_list(f, NULL, "raw@x.example",
	    NOW + OPTOUT_FILTER_REBUILD + 2), "an addition not recorded "
	    "(the count changed): may be listed");
	/* A removal restores the count; it is recorded, so still stale. */
	elsewhere(REMOVE_GLOBAL, "g1@list.example");
	ok(optout_filter_may_list(f, NULL, "raw@x.example",
	    NOW + 3 * OPTOUT_FILTER_REBUILD), "a removal evening the count "
	    "out: the unrecorded addition may still be listed");

	optout_filter_free(f);
	ok(optout_filter_may_list(NULL, "acme", "x@y.example", NOW) == 1,
	    "no filter: always maybe");
	db_close(db);
	snprintf(err, sizeof(err), "rm -rf %s", dir);
	if (system(err) != 0)
		diag("cleanup failed");
	return tap_done();
}
