/*
 * db_cache unit test: the caches in front of attribution (attrib_lookup)
 * and authorized domains (authz_lookup) over a real LMDB environment.
 *
 * Nothing changed: the second lookup is a hit and gives the same answer,
 * negative answers included. Every change committed to the database, by
 * this process (db_write) or by another one with its own handle as aupctl
 * does, is seen by the very next lookup: a customer moved to another
 * plan, a plan's limits, a login removed or added, a domain removed or
 * added, a lease added. A lease answer holds only for its time: at its
 * end (or at the start of a later one) the next lookup reads again. The
 * engine, driven as the milter drives it, applies a plan change to the
 * next transaction. A test time is passed in: nothing here waits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attrib.h"
#include "authz.h"
#include "cidr.h"
#include "config.h"
#include "custdb.h"
#include "db.h"
#include "db_cache.h"
#include "db_elsewhere.h"
#include "engine.h"
#include "evidence.h"
#include "lease_db.h"
#include "log.h"
#include "tap.h"

#define NOW	1800000000LL		/* 2027-01-15 */

static char dir[] = "/tmp/aup-db_cache-XXXXXX";
static char dbpath[300];
static struct db *db;
static struct db_cache *ac, *zc;	/* attribution, authorized domains */

static int
put_plan(struct db_txn *t, const char *name, uint64_t rcpts)
{
	struct plan p;

	plan_defaults(&p, name);
	p.lim[PLAN_MAX_RCPTS_PER_MSG] = rcpts;
	return custdb_plan_put(t, &p);
}

static int
put_customer(struct db_txn *t, const char *id, const char *plan)
{
	struct customer c = { 0 };

	snprintf(c.id, sizeof(c.id), "%s", id);
	snprintf(c.plan, sizeof(c.plan), "%s", plan);
	snprintf(c.contact, sizeof(c.contact), "noc@%s.example", id);
	return custdb_customer_put(t, &c);
}

static int
put_lease(struct db_txn *t, const char *ip, const char *id, int64_t from,
    int64_t to)
{
	struct lease l = { .from = from, .to = to };

	cidr_parse_addr(ip, &l.addr);
	snprintf(l.customer, sizeof(l.customer), "%s", id);
	return lease_add(t, &l, NULL);
}

static int
provision(struct db_txn *t, void *arg)
{
	struct cidr net;
	char err[128];

	if (put_plan(t, "small", 3) < 0 || put_plan(t, "big", 50) < 0 ||
	    put_customer(t, "acme", "small") < 0 ||
	    custdb_login_add(t, "acme", "alice") < 0 ||
	    custdb_domain_add(t, "acme", "acme.example", 0) < 0 ||
	    put_customer(t, "netco", "small") < 0 ||
	    cidr_parse("192.0.2.0/24", &net, err, sizeof(err)) < 0 ||
	    custdb_network_add(t, "netco", &net) < 0 ||
	    put_customer(t, "dynco", "small") < 0 ||
	    put_lease(t, "198.51.100.9", "dynco", NOW - 100, NOW + 100) < 0 ||
	    put_lease(t, "198.51.100.10", "dynco", NOW + 50, 0) < 0)
		return -1;
	return 0;
}

/* Changes, as aupctl makes them (each one a committed write). */
enum change {
	MOVE_ACME_BIG, PLAN_BIG_60, DEL_LOGIN_ALICE, ADD_LOGIN_MALLORY,
	DEL_DOMAIN_ACME, ADD_DOMAIN_OTHER, ADD_LEASE_11, MOVE_ACME_SMALL,
	MALLORY_PLAN_SMALL
};

static int
change_txn(struct db_txn *t, void *arg)
{
	static const char acme_dom[] = "acme\0acme.example";

	switch (*(enum change *)arg) {
	case MOVE_ACME_BIG:
		return put_customer(t, "acme", "big");
	case MOVE_ACME_SMALL:
		return put_customer(t, "acme", "small");
	case PLAN_BIG_60:
		return put_plan(t, "big", 60);
	case DEL_LOGIN_ALICE:
		return db_del(t, DB_LOGINS, "alice", 5) == 1 ? 0 : -1;
	case ADD_LOGIN_MALLORY:
		return custdb_login_add(t, "acme", "mallory");
	case DEL_DOMAIN_ACME:
		return db_del(t, DB_DOMAINS, acme_dom, sizeof(acme_dom) - 1) ==
		    1 ? 0 : -1;
	case ADD_DOMAIN_OTHER:
		return custdb_domain_add(t, "acme", "other.example", 0);
	case ADD_LEASE_11:
		return put_lease(t, "198.51.100.11", "dynco", NOW - 10, 0);
	case MALLORY_PLAN_SMALL:
		return custdb_login_plan_set(t, "acme", "mallory", "small");
	}
	return -1;
}

static void
change(enum change c)
{
	char err[512];

	if (db_write(db, change_txn, &c, err, sizeof(err)) < 0)
		bail("change %d: %s", (int)c, err);
}

/* The same change from another process with its own handle (aupctl). */
static void
change_elsewhere(enum change c)
{
	db_elsewhere(dbpath, change_txn, &c);
}

/*
 * Who sent it: "acme/login/small/3", "-" for nobody, "!" on error, and
 * whether the cache answered (*hit).
 */
static const char *
who(const char *auth, const char *ip, int64_t now, int *hit)
{
	static char out[600];
	struct db_cache_stats a, b;
	struct attrib_result res;
	struct cidr addr;
	char err[512];
	int r;

	if (ip != NULL)
		cidr_parse_addr(ip, &addr);
	db_cache_stats(ac, &a);
	r = attrib_lookup(db, ac, auth, ip != NULL ? &addr : NULL, now, &res,
	    err, sizeof(err));
	db_cache_stats(ac, &b);
	if (hit != NULL)
		*hit = b.stores == a.stores && b.hits > a.hits;
	if (r < 0)
		snprintf(out, sizeof(out), "! %s", err);
	else if (r == 0)
		snprintf(out, sizeof(out), "-");
	else
		snprintf(out, sizeof(out), "%s/%s/%s/%llu", res.cust.id,
		    attrib_by_name(res.attr.by), res.plan.name,
		    (unsigned long long)res.plan.lim[PLAN_MAX_RCPTS_PER_MSG]);
	return out;
}

/* Is domain authorized for id: "yes", "no" or "!"; *hit as for who(). */
static const char *
authz(const char *id, const char *domain, int *hit)
{
	struct db_cache_stats a, b;
	char err[512];
	int r, exact;

	db_cache_stats(zc, &a);
	r = authz_lookup(db, zc, id, domain, &exact, err, sizeof(err));
	db_cache_stats(zc, &b);
	*hit = b.stores == a.stores && b.hits > a.hits;
	return r < 0 ? "!" : r > 0 ? "yes" : "no";
}

static void
test_unchanged(void)
{
	int hit;

	is_str(who("alice", "203.0.113.1", NOW, &hit), "acme/login/small/3",
	    "login alice: customer acme, plan small");
	ok(!hit, "first lookup read from the database");
	is_str(who("alice", "203.0.113.1", NOW, &hit), "acme/login/small/3",
	    "the same again");
	ok(hit, "second lookup answered by the cache");
	is_str(who("alice", "203.0.113.77", NOW, &hit), "acme/login/small/3",
	    "the login from another address");
	ok(hit, "a login's answer does not depend on the address");
	is_str(who("nobody", NULL, NOW, &hit), "-", "unknown login: nobody");
	is_str(who("nobody", NULL, NOW, &hit), "-", "unknown login again");
	ok(hit, "a negative login answer is cached");
	is_str(who("nobody", "192.0.2.5", NOW, &hit), "netco/network/small/3",
	    "unknown login inside netco's network: netco");
	is_str(who("nobody", "192.0.2.5", NOW, &hit), "netco/network/small/3",
	    "again");
	ok(hit, "login miss and network hit both from the cache");
	is_str(who(NULL, "203.0.113.1", NOW, &hit), "-", "unknown address");
	is_str(who(NULL, "203.0.113.1", NOW, &hit), "-", "again");
	ok(hit, "a negative address answer is cached");
	is_str(authz("acme", "acme.example", &hit), "yes",
	    "acme.example is acme's");
	is_str(authz("acme", "acme.example", &hit), "yes", "again");
	ok(hit, "authorized domain answered by the cache");
	is_str(authz("acme", "other.example", &hit), "no",
	    "other.example is not acme's");
	is_str(authz("acme", "other.example", &hit), "no", "again");
	ok(hit, "a refused domain is cached too");
}

static void
test_changes(void)
{
	int hit;

	change_elsewhere(MOVE_ACME_BIG);
	is_str(who("alice", NULL, NOW, &hit), "acme/login/big/50",
	    "acme moved to plan big by another process: seen at once");
	ok(!hit, "the commit invalidated the cached answer");
	is_str(who("alice", NULL, NOW, &hit), "acme/login/big/50", "again");
	ok(hit, "and the new answer is cached");
	change(PLAN_BIG_60);
	is_str(who("alice", NULL, NOW, NULL), "acme/login/big/60",
	    "plan big's limit changed: seen");
	change(DEL_LOGIN_ALICE);
	is_str(who("alice", NULL, NOW, NULL), "-",
	    "login alice removed: nobody");
	is_str(who("mallory", NULL, NOW, NULL), "-", "mallory: nobody yet");
	is_str(who("mallory", NULL, NOW, &hit), "-", "again");
	ok(hit, "(from the cache)");
	change_elsewhere(ADD_LOGIN_MALLORY);
	is_str(who("mallory", NULL, NOW, NULL), "acme/login/big/60",
	    "a cached unknown login, then added elsewhere: seen");
	change(MOVE_ACME_SMALL);
	is_str(who("mallory", NULL, NOW, NULL), "acme/login/small/3",
	    "acme moved back to plan small: seen");
	is_str(authz("acme", "acme.example", &hit), "yes",
	    "acme.example read again");
	change(DEL_DOMAIN_ACME);
	is_str(authz("acme", "acme.example", &hit), "no",
	    "acme.example removed: refused at once");
	ok(!hit, "(read from the database)");
	is_str(authz("acme", "other.example", &hit), "no", "other.example");
	change(ADD_DOMAIN_OTHER);
	is_str(authz("acme", "other.example", &hit), "yes",
	    "a cached refusal, then the domain added: authorized");
}

static void
test_leases(void)
{
	int hit;

	is_str(who(NULL, "198.51.100.9", NOW, &hit), "dynco/lease/small/3",
	    "leased address: dynco");
	is_str(who(NULL, "198.51.100.9", NOW + 99, &hit),
	    "dynco/lease/small/3", "just before the lease ends");
	ok(hit, "(from the cache)");
	is_str(who(NULL, "198.51.100.9", NOW + 100, &hit), "-",
	    "the lease expired, nothing written: nobody");
	ok(!hit, "the cached lease was not used past its end");
	is_str(who(NULL, "198.51.100.10", NOW, &hit), "-",
	    "an address leased from later on: nobody now");
	is_str(who(NULL, "198.51.100.10", NOW + 49, &hit), "-",
	    "just before that lease starts");
	ok(hit, "(from the cache)");
	is_str(who(NULL, "198.51.100.10", NOW + 50, &hit),
	    "dynco/lease/small/3", "once it starts: dynco");
	ok(!hit, "the cached refusal was not used past the lease's start");
	is_str(who(NULL, "198.51.100.11", NOW, &hit), "-", "no lease yet");
	change(ADD_LEASE_11);
	is_str(who(NULL, "198.51.100.11", NOW, &hit), "dynco/lease/small/3",
	    "a lease added: seen at once");
}

/* The engine applies a plan change to the next transaction (rcpt_cap). */
static int
rcpts_accepted(struct engine *eng)
{
	static const char *const rcpt[] = { "<a@x.example>", "<b@x.example>",
	    "<c@x.example>", "<d@x.example>", "<e@x.example>" };
	struct session *s;
	struct verdict v;
	struct cidr a;
	int n = 0;

	cidr_parse_addr("203.0.113.5", &a);
	s = session_new(eng, "c1", &a, "203.0.113.5", "client.example");
	session_mail(s, "<a@[192.0.2.1]>", "mallory", NULL, &v);
	if (v.kind != VERDICT_CONTINUE) {
		session_free(s);
		return -1;
	}
	for (size_t i = 0; i < sizeof(rcpt) / sizeof(rcpt[0]); i++) {
		session_rcpt(s, rcpt[i], NULL, &v);
		n += v.kind == VERDICT_CONTINUE;
	}
	session_free(s);
	return n;
}

static void
test_engine(void)
{
	char path[400], err[1024];
	struct config *cfg;
	struct evidence *ev;
	struct engine *eng;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/aup.conf", dir);
	if ((fp = fopen(path, "w")) == NULL)
		bail("cannot write config");
	fprintf(fp, "Socket inet:8895@127.0.0.1\nDatabase db\n"
	    "EvidenceLog evidence.log\nLocalDomains example.net\n"
	    "Rule.return_address log\n");
	fclose(fp);
	if ((cfg = config_load(path, err, sizeof(err))) == NULL)
		bail("%s", err);
	config_swap(cfg);
	snprintf(path, sizeof(path), "%s/evidence.log", dir);
	if ((ev = evidence_open(path, 0, err, sizeof(err))) == NULL)
		bail("%s", err);
	eng = engine_new(db, NULL, ev);
	is_int(rcpts_accepted(eng), 3, "plan small: 3 of 5 recipients");
	is_int(rcpts_accepted(eng), 3, "the next message: the same");
	change_elsewhere(MOVE_ACME_BIG);
	is_int(rcpts_accepted(eng), 5, "moved to plan big (max 60): all 5 "
	    "recipients of the next message");
	is_int(rcpts_accepted(eng), 5, "the next message: the same (no "
	    "plan of the login's own, cached)");
	change_elsewhere(MALLORY_PLAN_SMALL);
	is_int(rcpts_accepted(eng), 3, "the login gets plan small of its own "
	    "(max 3): 3 of 5 recipients of the next message");
	engine_free(eng);
	evidence_close(ev);
}

int
main(void)
{
	char err[1024], cmd[400];

	if (mkdtemp(dir) == NULL)
		bail("mkdtemp");
	log_open("db_cache-test", 0, LOG_ERR);
	snprintf(dbpath, sizeof(dbpath), "%s/db", dir);
	if ((db = db_open(dbpath, 1 << 20, 64 << 20, 0, err, sizeof(err))) ==
	    NULL || db_write(db, provision, NULL, err, sizeof(err)) < 0)
		bail("%s", err);
	ac = attrib_cache_new(db);
	zc = authz_cache_new(db);
	plan(54);
	test_unchanged();
	test_changes();
	test_leases();
	test_engine();
	db_cache_free(ac);
	db_cache_free(zc);
	db_close(db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("cleanup failed");
	return tap_done();
}
