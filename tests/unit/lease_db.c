/*
 * lease_db.t - unit tests of lists/lease_db.c over a real LMDB
 *
 * The lease in force at a time (start inclusive, end exclusive, open
 * leases), a new lease ending the open one of the address, overlaps
 * refused with a reason, unknown customers, the listing order, and the
 * span of time an answer holds over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "custdb.h"
#include "db.h"
#include "lease_db.h"
#include "tap.h"

static char dir[] = "/tmp/aup-lease-XXXXXX";

struct req {
	struct lease	l;
	struct lease	ended;
};

static int
setup(struct db_txn *t, void *arg)
{
	struct plan p;
	struct customer c = { 0 };

	plan_defaults(&p, "basic");
	if (custdb_plan_put(t, &p) < 0)
		return -1;
	snprintf(c.plan, sizeof(c.plan), "basic");
	snprintf(c.contact, sizeof(c.contact), "noc@x.example");
	snprintf(c.id, sizeof(c.id), "alpha");
	if (custdb_customer_put(t, &c) < 0)
		return -1;
	snprintf(c.id, sizeof(c.id), "beta");
	return custdb_customer_put(t, &c);
}

static int
add_txn(struct db_txn *t, void *arg)
{
	struct req *r = arg;

	return lease_add(t, &r->l, &r->ended);
}

static int
add(struct db *db, const char *ip, const char *id, int64_t from, int64_t to,
    char *err, struct lease *ended)
{
	struct req r = { 0 };
	int rc;

	cidr_parse_addr(ip, &r.l.addr);
	snprintf(r.l.customer, sizeof(r.l.customer), "%s", id);
	r.l.from = from;
	r.l.to = to;
	rc = db_write(db, add_txn, &r, err, 512);
	if (ended != NULL)
		*ended = r.ended;
	return rc;
}

/* Who held ip at when: the customer, "-" for nobody, "!" on error. */
static const char *
who(struct db *db, const char *ip, int64_t when)
{
	static char out[CUSTDB_ID_MAX];
	struct db_txn *t;
	struct lease l;
	struct cidr a;
	char err[256];
	int rc;

	cidr_parse_addr(ip, &a);
	if ((t = db_read_begin(db, err, sizeof(err))) == NULL)
		return "!";
	rc = lease_lookup(t, &a, when, &l);
	db_read_end(t);
	snprintf(out, sizeof(out), "%s", rc > 0 ? l.customer : rc == 0 ?
	    "-" : "!");
	return out;
}

/* Who held ip at when, and over which span: "alpha 1000 2000" ("-"). */
static const char *
span(struct db *db, const char *ip, int64_t when)
{
	static char out[128];
	struct db_txn *t;
	struct lease l;
	struct cidr a;
	char err[256], lo_s[24], hi_s[24];
	int64_t lo, hi;
	int rc;

	cidr_parse_addr(ip, &a);
	if ((t = db_read_begin(db, err, sizeof(err))) == NULL)
		return "!";
	rc = lease_lookup_span(t, &a, when, &l, &lo, &hi);
	db_read_end(t);
	snprintf(lo_s, sizeof(lo_s), "%lld", (long long)lo);
	snprintf(hi_s, sizeof(hi_s), "%lld", (long long)hi);
	snprintf(out, sizeof(out), "%s %s %s", rc > 0 ? l.customer :
	    rc == 0 ? "-" : "!", lo == INT64_MIN ? "min" : lo_s,
	    hi == INT64_MAX ? "max" : hi_s);
	return out;
}

static int
count_cb(const struct lease *l, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

int
main(void)
{
	char path[300], err[512];
	struct lease ended;
	struct db_txn *t;
	struct db *db;
	int n = 0;

	if (mkdtemp(dir) == NULL)
		bail("mkdtemp");
	snprintf(path, sizeof(path), "%s/db", dir);
	if ((db = db_open(path, 1 << 20, 16 << 20, 0, err, sizeof(err))) ==
	    NULL || db_write(db, setup, NULL, err, sizeof(err)) < 0)
		bail("%s", err);
	plan(26);
	is_int(add(db, "192.0.2.7", "alpha", 1000, 2000, err, NULL), 0,
	    "closed lease added");
	is_str(who(db, "192.0.2.7", 999), "-", "before it: nobody");
	is_str(who(db, "192.0.2.7", 1000), "alpha", "at its start: alpha");
	is_str(who(db, "192.0.2.7", 1999), "alpha", "just before its end");
	is_str(who(db, "192.0.2.7", 2000), "-", "at its end: nobody");
	is_str(who(db, "192.0.2.8", 1500), "-", "another address: nobody");
	ok(add(db, "192.0.2.7", "beta", 1500, 2500, err, NULL) < 0 &&
	    strstr(err, "leased to customer 'alpha'") != NULL,
	    "overlap refused: %s", err);
	is_int(add(db, "192.0.2.7", "beta", 2000, 0, err, NULL), 0,
	    "open lease from the end of the last");
	is_str(who(db, "192.0.2.7", 99999), "beta", "open lease in force");
	is_int(add(db, "192.0.2.7", "alpha", 3000, 0, err, &ended), 0,
	    "a later lease ends the open one");
	is_str(ended.customer, "beta", "the one it ended is reported");
	is_str(who(db, "192.0.2.7", 2999), "beta", "beta until 3000");
	is_str(who(db, "192.0.2.7", 3000), "alpha", "alpha from 3000");
	is_int(add(db, "192.0.2.7", "alpha", 3000, 0, err, NULL), 0,
	    "adding the same lease again is a no-op");
	ok(add(db, "2001:db8::7", "nobody", 10, 0, err, NULL) < 0 &&
	    strstr(err, "no such customer") != NULL, "unknown customer: %s",
	    err);
	ok(add(db, "2001:db8::7", "alpha", 10, 5, err, NULL) < 0,
	    "end before start refused: %s", err);
	is_int(add(db, "2001:db8::7", "beta", 10, 0, err, NULL), 0,
	    "IPv6 lease");
	is_str(who(db, "2001:db8::7", 11), "beta", "IPv6 lookup");
	/* The span an answer holds over (for caches of it). */
	is_str(span(db, "192.0.2.7", 500), "- min 1000",
	    "nobody until the first lease starts");
	is_str(span(db, "192.0.2.7", 1500), "alpha 1000 2000",
	    "a closed lease holds from its start to its end");
	is_str(span(db, "192.0.2.7", 2500), "beta 2000 3000",
	    "an ended open lease holds until the next one starts");
	is_str(span(db, "192.0.2.7", 99999), "alpha 3000 max",
	    "an open lease holds from its start on");
	is_str(span(db, "192.0.2.8", 1500), "- min max",
	    "no lease at all: nobody at any time");
	is_int(add(db, "192.0.2.9", "alpha", 100, 200, err, NULL), 0,
	    "a short lease");
	is_str(span(db, "192.0.2.9", 250), "- 200 max",
	    "after the last lease ended: nobody from its end on");
	if ((t = db_read_begin(db, err, sizeof(err))) == NULL)
		bail("%s", err);
	lease_each(t, NULL, count_cb, &n);
	db_read_end(t);
	is_int(n, 5, "history kept: 5 leases in all");
	db_close(db);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		diag("cleanup failed");
	return tap_done();
}
