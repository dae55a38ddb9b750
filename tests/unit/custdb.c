/*
 * custdb.t - unit tests of lists/custdb.c on a real LMDB
 *
 * Everything happens in a mkdtemp() directory that is removed at the end.
 * The environment itself (growth, limits, processes, threads) is db.t's.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cidr.h"
#include "custdb.h"
#include "db.h"
#include "tap.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define KIB		1024u
#define MIB		(1024u * 1024u)

static char tmpdir[] = "/tmp/custdb.t.XXXXXX";
static char err[512];

/* ---- helpers: run one step in a write transaction ---- */

struct step {
	int	(*fn)(struct db_txn *, const struct step *);
	const char *id, *s;
	const void *raw;
	size_t	 rawlen;
	enum db_table table;
	unsigned flags;
	int	 n;
};

static int
step_run(struct db_txn *txn, void *arg)
{
	const struct step *st = arg;

	return st->fn(txn, st);
}

static int
write_step(struct db *db, const struct step *st)
{
	err[0] = '\0';
	return db_write(db, step_run, (void *)st, err, sizeof(err));
}

static int
fn_customer(struct db_txn *txn, const struct step *st)
{
	struct customer c;

	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "%s", st->id);
	snprintf(c.plan, sizeof(c.plan), "%s", st->s);
	snprintf(c.contact, sizeof(c.contact), "abuse@%s.example", st->id);
	c.flags = st->flags;
	c.created = 1795334400;		/* 2026-11-22T08:00:00Z */
	return custdb_customer_put(txn, &c);
}

static int
fn_login(struct db_txn *txn, const struct step *st)
{
	return custdb_login_add(txn, st->id, st->s);
}

static int
fn_network(struct db_txn *txn, const struct step *st)
{
	struct cidr net;

	if (cidr_parse(st->s, &net, NULL, 0) < 0)
		return db_txn_fail(txn, "test: bad network %s", st->s);
	return custdb_network_add(txn, st->id, &net);
}

static int
fn_domain(struct db_txn *txn, const struct step *st)
{
	return custdb_domain_add(txn, st->id, st->s, st->flags);
}

static int
fn_raw(struct db_txn *txn, const struct step *st)
{
	return db_put(txn, st->table, st->s, strlen(st->s), st->raw,
	    st->rawlen);
}

static int
fn_del(struct db_txn *txn, const struct step *st)
{
	return db_del(txn, st->table, st->s, strlen(st->s)) < 0 ? -1 : 0;
}

static struct db_txn *
rd(struct db *db)
{
	struct db_txn *txn = db_read_begin(db, err, sizeof(err));

	if (txn == NULL)
		bail("db_read_begin: %s", err);
	return txn;
}

/* ---- plans ---- */

static int
collect(const char *s, void *arg)
{
	char *buf = arg;

	strncat(buf, s, 255 - strlen(buf));
	strncat(buf, ",", 255 - strlen(buf));
	return 0;
}

static int
collect_plan(const struct plan *p, void *arg)
{
	return collect(p->name, arg);
}


static int
fn_plans(struct db_txn *txn, const struct step *st)
{
	struct plan p;

	plan_defaults(&p, "basic");
	if (custdb_plan_put(txn, &p) < 0)
		return -1;
	plan_defaults(&p, "pro");
	p.lim[PLAN_MSGS_PER_HOUR] = 5000;
	p.lim[PLAN_MAX_MSG_BYTES] = UINT64_C(1) << 40;
	return custdb_plan_put(txn, &p);
}

static int
fn_plan_bad(struct db_txn *txn, const struct step *st)
{
	struct plan p;

	plan_defaults(&p, st->id);
	p.lim[PLAN_WARN_PERCENT] = (uint64_t)st->n;
	return custdb_plan_put(txn, &p);
}

static void
test_plans(struct db *db)
{
	static const uint64_t defaults[PLAN_NKEYS] = {
		99, 10485760, 500, 2000, 20, 80
	};
	struct step st = { .fn = fn_plans };
	char names[256] = "";
	struct db_txn *txn;
	struct plan p;

	for (int k = 0; k < PLAN_NKEYS; k++) {
		is_int(plan_key_lookup(plan_key_name(k)), k, "plan key %s",
		    plan_key_name(k));
		plan_defaults(&p, "x");
		is_int((long long)p.lim[k], (long long)defaults[k],
		    "  default %s", plan_key_name(k));
	}
	is_int(plan_key_lookup("nope"), -1, "unknown plan key");
	ok(plan_key_name(PLAN_NKEYS) == NULL, "plan_key_name out of range");
	is_int(write_step(db, &st), 0, "put plans basic and pro");

	st = (struct step){ .fn = fn_plan_bad, .id = "bad", .n = 101 };
	is_int(write_step(db, &st), -1, "warn_percent 101 refused");
	ok(strstr(err, "warn_percent") != NULL, "  reason: %s", err);
	st = (struct step){ .fn = fn_plan_bad, .id = "bad plan", .n = 1 };
	is_int(write_step(db, &st), -1, "plan name with a space refused");

	txn = rd(db);
	is_int(custdb_plan_get(txn, "basic", &p), 1, "get basic");
	is_str(p.name, "basic", "  name");
	is_int((long long)p.lim[PLAN_MAX_RCPTS_PER_MSG], 99, "  rcpts 99");
	is_int(custdb_plan_get(txn, "pro", &p), 1, "get pro");
	is_int((long long)p.lim[PLAN_MSGS_PER_HOUR], 5000, "  msgs 5000");
	ok(p.lim[PLAN_MAX_MSG_BYTES] == UINT64_C(1) << 40, "  64-bit limit");
	is_int(custdb_plan_get(txn, "gold", &p), 0, "missing plan");
	is_int(custdb_plan_get(txn, "../x y", &p), -1, "bad plan name");
	ok(strstr(db_txn_error(txn), "invalid plan name") != NULL,
	    "  reason: %s", db_txn_error(txn));
	is_int(custdb_plan_each(txn, collect_plan, names), 0, "plan_each");
	is_str(names, "basic,pro,", "  in name order");
	db_read_end(txn);
}

/* ---- customers and logins ---- */

static int
collect_customer(const struct customer *c, void *arg)
{
	return collect(c->id, arg);
}

static void
test_customers(struct db *db)
{
	static const struct {
		const char *id, *plan;
		unsigned flags;
		int rc;
		const char *reason;
	} t[] = {
		{ "acme", "basic", 0, 0, NULL },
		{ "beta", "pro", CUST_OWN_MAIL_SERVER, 0, NULL },
		{ "gamma.net", "basic", 0, 0, NULL },
		{ "delta", "gold", 0, -1, "no such plan 'gold'" },
		{ "bad id", "basic", 0, -1, "invalid customer id" },
		{ "", "basic", 0, -1, "invalid customer id" },
	};
	struct db_txn *txn;
	struct customer c;
	char list[256] = "";

	for (size_t i = 0; i < NELEM(t); i++) {
		struct step st = { .fn = fn_customer, .id = t[i].id,
		    .s = t[i].plan, .flags = t[i].flags };

		is_int(write_step(db, &st), t[i].rc, "customer put '%s'",
		    t[i].id);
		if (t[i].reason != NULL)
			ok(strstr(err, t[i].reason) != NULL, "  reason: %s",
			    err);
	}
	txn = rd(db);
	is_int(custdb_customer_get(txn, "beta", &c), 1, "get beta");
	is_str(c.id, "beta", "  id");
	is_str(c.plan, "pro", "  plan");
	is_str(c.contact, "abuse@beta.example", "  contact");
	is_int(c.flags, CUST_OWN_MAIL_SERVER, "  flags");
	is_int(c.status, CUST_ACTIVE, "  status");
	is_int(c.created, 1795334400, "  created");
	is_int(custdb_customer_get(txn, "delta", &c), 0, "delta absent");
	is_int(custdb_customer_each(txn, collect_customer, list), 0, "each");
	is_str(list, "acme,beta,gamma.net,", "  all customers in order");
	is_int(db_count(txn, DB_CUSTOMERS), 3, "db_count customers");
	db_read_end(txn);
}

static void
test_logins(struct db *db)
{
	static const struct {
		const char *id, *login;
		int rc;
		const char *reason;
	} add[] = {
		{ "acme", "alice@acme.example", 0, NULL },
		{ "acme", "bob", 0, NULL },
		{ "acme", "bob", 0, NULL },		/* again: no-op */
		{ "beta", "bob", -1, "login 'bob' belongs to customer 'acme'" },
		{ "beta", "carol", 0, NULL },
		{ "beta", "has space", -1, "invalid login" },
		{ "beta", "", -1, "invalid login" },
		{ "nobody", "dave", -1, "no such customer 'nobody'" },
	};
	static const struct {
		const char *login, *id;
		int rc;
	} look[] = {
		{ "alice@acme.example", "acme", 1 },
		{ "bob", "acme", 1 },
		{ "carol", "beta", 1 },
		{ "Bob", NULL, 0 },
		{ "dave", NULL, 0 },
		{ "bad login", NULL, 0 },
	};
	struct db_txn *txn;
	char id[CUSTDB_ID_MAX], list[256] = "";

	for (size_t i = 0; i < NELEM(add); i++) {
		struct step st = { .fn = fn_login, .id = add[i].id,
		    .s = add[i].login };

		is_int(write_step(db, &st), add[i].rc, "login add %s %s",
		    add[i].id, add[i].login);
		if (add[i].reason != NULL)
			ok(strstr(err, add[i].reason) != NULL, "  reason: %s",
			    err);
	}
	txn = rd(db);
	for (size_t i = 0; i < NELEM(look); i++) {
		id[0] = '\0';
		is_int(custdb_login_lookup(txn, look[i].login, id), look[i].rc,
		    "login lookup '%s'", look[i].login);
		if (look[i].rc == 1)
			is_str(id, look[i].id, "  customer");
	}
	is_int(custdb_login_each(txn, "acme", collect, list), 0, "login_each");
	is_str(list, "alice@acme.example,bob,", "  acme's logins");
	list[0] = '\0';
	custdb_login_each(txn, "gamma.net", collect, list);
	is_str(list, "", "  gamma.net has none");
	db_read_end(txn);
}

/* ---- networks ---- */

static int
collect_net(const struct cidr *net, void *arg)
{
	char text[64];

	cidr_format(net, text, sizeof(text));
	return collect(text, arg);
}

static void
test_networks(struct db *db)
{
	static const struct {
		const char *id, *net;
		int rc;
	} add[] = {
		{ "acme", "192.0.2.0/24", 0 },
		{ "beta", "192.0.2.128/25", 0 },	/* nested, other */
		{ "gamma.net", "192.0.2.200", 0 },	/* a /32 inside */
		{ "acme", "192.0.2.0/24", 0 },		/* again: no-op */
		{ "beta", "192.0.2.0/24", -1 },		/* same, other */
		{ "gamma.net", "10.0.0.0/8", 0 },
		{ "acme", "2001:db8::/32", 0 },
		{ "beta", "2001:db8:1::/48", 0 },
		{ "gamma.net", "2001:db8:1:2::/64", 0 },
		{ "beta", "2001:db8::/32", -1 },
		{ "nobody", "198.51.100.0/24", -1 },
	};
	static const struct {
		const char *addr, *id, *matched;
	} look[] = {
		{ "192.0.2.1", "acme", "192.0.2.0/24" },
		{ "192.0.2.127", "acme", "192.0.2.0/24" },
		{ "192.0.2.128", "beta", "192.0.2.128/25" },
		{ "192.0.2.199", "beta", "192.0.2.128/25" },
		{ "192.0.2.200", "gamma.net", "192.0.2.200" },
		{ "192.0.2.201", "beta", "192.0.2.128/25" },
		{ "::ffff:192.0.2.200", "gamma.net", "192.0.2.200" },
		{ "10.255.0.1", "gamma.net", "10.0.0.0/8" },
		{ "192.0.3.1", NULL, NULL },
		{ "2001:db8::1", "acme", "2001:db8::/32" },
		{ "2001:db8:1::1", "beta", "2001:db8:1::/48" },
		{ "2001:db8:1:2::99", "gamma.net", "2001:db8:1:2::/64" },
		{ "2001:db8:1:3::1", "beta", "2001:db8:1::/48" },
		{ "2001:db9::1", NULL, NULL },
		{ "::1", NULL, NULL },
	};
	struct db_txn *txn;
	struct cidr a, m;
	char id[CUSTDB_ID_MAX], text[64], list[256] = "";

	for (size_t i = 0; i < NELEM(add); i++) {
		struct step st = { .fn = fn_network, .id = add[i].id,
		    .s = add[i].net };

		is_int(write_step(db, &st), add[i].rc, "network add %s %s",
		    add[i].id, add[i].net);
		if (add[i].rc < 0)
			diag("reason: %s", err);
	}
	ok(strstr(err, "no such customer") != NULL, "  reason: %s", err);
	txn = rd(db);
	for (size_t i = 0; i < NELEM(look); i++) {
		int want = look[i].id != NULL;

		cidr_parse_addr(look[i].addr, &a);
		if (!is_int(custdb_network_lookup(txn, &a, id, &m), want,
		    "network lookup %s", look[i].addr) || !want)
			continue;
		is_str(id, look[i].id, "  customer");
		cidr_format(&m, text, sizeof(text));
		is_str(text, look[i].matched, "  longest prefix");
	}
	is_int(custdb_network_each(txn, "beta", collect_net, list), 0,
	    "network_each");
	is_str(list, "192.0.2.128/25,2001:db8:1::/48,", "  beta's networks");
	db_read_end(txn);
}

/* ---- domains ---- */

static void
test_domain_normalize(void)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "Example.COM", "example.com" },
		{ "example.com.", "example.com" },
		{ "xn--bcher-kva.example", "xn--bcher-kva.example" },
		{ "a-b.c0", "a-b.c0" },
		{ "localhost", "localhost" },
		{ "example.com..", NULL },
		{ ".example.com", NULL },
		{ "a..b", NULL },
		{ "", NULL },
		{ ".", NULL },
		{ "-a.com", NULL },
		{ "a-.com", NULL },
		{ "a_b.com", NULL },
		{ "a b.com", NULL },
		{ "b\xc3\xbc" "cher.example", NULL },
		{ "1234567890123456789012345678901234567890123456789012345678"
		    "901234.com", NULL },		/* 64-byte label */
	};
	char out[CUSTDB_DOMAIN_MAX], big[300];

	for (size_t i = 0; i < NELEM(t); i++) {
		int rc = custdb_domain_normalize(t[i].in, out, sizeof(out));

		is_int(rc, t[i].out != NULL ? 0 : -1, "normalize '%s'",
		    t[i].in);
		if (rc == 0 && t[i].out != NULL)
			is_str(out, t[i].out, "  as '%s'", t[i].out);
	}
	/* 4 x 63 + 3 dots = 255 > 253; 3 x 63 + 61 + 3 = 253 ok */
	memset(big, 'a', sizeof(big));
	big[63] = big[127] = big[191] = '.';
	big[255] = '\0';
	is_int(custdb_domain_normalize(big, out, sizeof(out)), -1,
	    "255-byte domain refused");
	big[253] = '\0';
	is_int(custdb_domain_normalize(big, out, sizeof(out)), 0,
	    "253-byte domain accepted");
	big[253] = '.';
	big[254] = '\0';
	is_int(custdb_domain_normalize(big, out, sizeof(out)), 0,
	    "253-byte domain with a trailing dot accepted");
}

static int
collect_domain(const char *d, unsigned flags, void *arg)
{
	char item[300];

	snprintf(item, sizeof(item), "%s%s", d,
	    flags & DOMAIN_SUBDOMAINS ? "+" : "");
	return collect(item, arg);
}

static void
test_domains(struct db *db)
{
	static const struct {
		const char *id, *dom;
		unsigned flags;
		int rc;
	} add[] = {
		{ "acme", "acme.example", 0, 0 },
		{ "acme", "Acme.ORG.", DOMAIN_SUBDOMAINS, 0 },
		{ "beta", "beta.example", DOMAIN_SUBDOMAINS, 0 },
		{ "beta", "mail.acme.example", 0, 0 },
		{ "beta", "bad..example", 0, -1 },
		{ "nobody", "x.example", 0, -1 },
	};
	static const struct {
		const char *id, *dom;
		int rc;
	} check[] = {
		{ "acme", "acme.example", 1 },
		{ "acme", "ACME.example.", 1 },
		{ "acme", "sub.acme.example", 0 },	/* no subdomains */
		{ "acme", "acme.org", 1 },
		{ "acme", "a.b.acme.org", 1 },
		{ "acme", "xacme.org", 0 },
		{ "acme", "org", 0 },
		{ "acme", "beta.example", 0 },
		{ "beta", "beta.example", 1 },
		{ "beta", "x.beta.example", 1 },
		{ "beta", "mail.acme.example", 1 },
		{ "beta", "acme.example", 0 },
		{ "beta", "x.mail.acme.example", 0 },
		{ "beta", "", 0 },
		{ "beta", "bad..example", 0 },
		{ "gamma.net", "acme.example", 0 },
		{ "no such", "acme.example", -1 },
	};
	struct db_txn *txn;
	char list[256] = "";

	for (size_t i = 0; i < NELEM(add); i++) {
		struct step st = { .fn = fn_domain, .id = add[i].id,
		    .s = add[i].dom, .flags = add[i].flags };

		is_int(write_step(db, &st), add[i].rc, "domain add %s %s",
		    add[i].id, add[i].dom);
	}
	txn = rd(db);
	for (size_t i = 0; i < NELEM(check); i++)
		is_int(custdb_domain_check(txn, check[i].id, check[i].dom),
		    check[i].rc, "domain check %s '%s'", check[i].id,
		    check[i].dom);
	{
		int exact = -1;

		is_int(custdb_domain_match(txn, "acme", "ACME.org", &exact), 1,
		    "domain match acme.org");
		is_int(exact, 1, "  listed itself: exact");
		is_int(custdb_domain_match(txn, "acme", "a.acme.org", &exact),
		    1, "domain match a.acme.org");
		is_int(exact, 0, "  through its parent: not exact");
	}
	is_int(custdb_domain_each(txn, "acme", collect_domain, list), 0,
	    "domain_each");
	is_str(list, "acme.example,acme.org+,", "  acme's domains");
	db_read_end(txn);
}

/* ---- corrupt records ---- */

static void
test_corrupt(struct db *db)
{
	static const uint8_t trunc[] = { 1, 0, 0, 0 };
	static const uint8_t trailing[] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 5, 'b', 'a', 's', 'i', 'c', 0, 0, 'x' };
	static const uint8_t badver[] = { 9, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 5, 'b', 'a', 's', 'i', 'c', 0, 0 };
	static const uint8_t hugelen[] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 250, 'b' };
	static const uint8_t planbad[] = { 1, 6, 1, 2, 3 };
	static const struct {
		enum db_table table;
		const char *key;
		const void *val;
		size_t len;
		const char *reason;
	} t[] = {
		{ DB_CUSTOMERS, "c-empty", "", 0, "truncated" },
		{ DB_CUSTOMERS, "c-trunc", trunc, sizeof(trunc), "truncated" },
		{ DB_CUSTOMERS, "c-trail", trailing, sizeof(trailing),
		    "trailing" },
		{ DB_CUSTOMERS, "c-ver", badver, sizeof(badver),
		    "version 9" },
		{ DB_CUSTOMERS, "c-huge", hugelen, sizeof(hugelen),
		    "truncated" },
		{ DB_PLANS, "p-bad", planbad, sizeof(planbad), "corrupt" },
		{ DB_PLANS, "p-empty", "", 0, "truncated" },
	};
	struct customer c;
	struct plan p;
	struct db_txn *txn;
	char list[256] = "";
	int rc;

	for (size_t i = 0; i < NELEM(t); i++) {
		struct step st = { .fn = fn_raw, .table = t[i].table,
		    .s = t[i].key, .raw = t[i].val, .rawlen = t[i].len };

		if (write_step(db, &st) < 0)
			bail("raw put: %s", err);
		txn = rd(db);
		rc = t[i].table == DB_PLANS ?
		    custdb_plan_get(txn, t[i].key, &p) :
		    custdb_customer_get(txn, t[i].key, &c);
		is_int(rc, -1, "corrupt record %s rejected", t[i].key);
		ok(strstr(db_txn_error(txn), t[i].reason) != NULL,
		    "  reason: %s", db_txn_error(txn));
		if (t[i].table == DB_CUSTOMERS)
			is_int(custdb_customer_each(txn, collect_customer,
			    list), -1, "  customer_each fails on it");
		db_read_end(txn);
		st.fn = fn_del;
		write_step(db, &st);
	}
}

/* Random values under customer and plan keys: a clean -1 or 1, no crash. */
static int
fn_fuzz(struct db_txn *txn, const struct step *st)
{
	uint32_t seed = 12345;
	uint8_t val[48];
	char key[16];

	for (int i = 0; i < st->n; i++) {
		size_t len;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % sizeof(val);
		for (size_t j = 0; j < len; j++) {
			seed = seed * 1103515245u + 12345u;
			val[j] = (uint8_t)(seed >> 16);
		}
		if (len > 0 && i % 2 == 0)
			val[0] = 1;	/* mostly past the version check */
		snprintf(key, sizeof(key), "fz%04d", i);
		if (st->flags) {	/* remove them */
			if (db_del(txn, DB_CUSTOMERS, key, strlen(key)) < 0 ||
			    db_del(txn, DB_PLANS, key, strlen(key)) < 0)
				return -1;
		} else if (db_put(txn, DB_CUSTOMERS, key, strlen(key), val,
		    len) < 0 || db_put(txn, DB_PLANS, key, strlen(key), val,
		    len) < 0)
			return -1;
	}
	return 0;
}

static void
test_fuzz_records(struct db *db)
{
	struct step st = { .fn = fn_fuzz, .n = 2000 };
	struct customer c;
	struct db_txn *txn;
	struct plan p;
	char key[16];
	int bad = 0, rc;

	is_int(write_step(db, &st), 0, "store 2000 random records");
	txn = rd(db);
	for (int i = 0; i < st.n; i++) {
		snprintf(key, sizeof(key), "fz%04d", i);
		rc = custdb_customer_get(txn, key, &c);
		bad += rc != -1 && rc != 1;
		rc = custdb_plan_get(txn, key, &p);
		bad += rc != -1 && rc != 1;
	}
	db_read_end(txn);
	is_int(bad, 0, "  each decodes or fails cleanly");
	st.flags = 1;
	is_int(write_step(db, &st), 0, "  removed");
}

static void
test_corrupt_refs(struct db *db)
{
	static const char longid[80] = "0123456789012345678901234567890123456"
	    "7890123456789012345678901234567890";
	struct step st = { .fn = fn_raw, .table = DB_LOGINS, .s = "mallory",
	    .raw = longid, .rawlen = sizeof(longid) - 1 };
	struct db_txn *txn;
	struct cidr a;
	char id[CUSTDB_ID_MAX];

	write_step(db, &st);
	txn = rd(db);
	is_int(custdb_login_lookup(txn, "mallory", id), -1,
	    "over-long owner of a login rejected");
	db_read_end(txn);
	st.fn = fn_del;
	write_step(db, &st);

	st = (struct step){ .fn = fn_raw, .table = DB_META, .s = "nets4",
	    .raw = "xy", .rawlen = 2 };
	write_step(db, &st);
	txn = rd(db);
	cidr_parse_addr("192.0.2.1", &a);
	is_int(custdb_network_lookup(txn, &a, id, NULL), -1,
	    "corrupt prefix bitmap rejected");
	ok(strstr(db_txn_error(txn), "nets4") != NULL, "  reason: %s",
	    db_txn_error(txn));
	db_read_end(txn);
}

int
main(void)
{
	char dir[600];
	struct stat st;
	struct db *db;

	plan_no_plan();
	if (mkdtemp(tmpdir) == NULL)
		bail("mkdtemp");
	snprintf(dir, sizeof(dir), "%s/db", tmpdir);
	db = db_open(dir, 64 * KIB, 64 * MIB, 0, err, sizeof(err));
	if (db == NULL)
		bail("db_open %s: %s", dir, err);
	ok(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0750,
	    "directory created with mode 0750");
	test_plans(db);
	test_customers(db);
	test_logins(db);
	test_networks(db);
	test_domain_normalize();
	test_domains(db);
	test_corrupt(db);
	test_fuzz_records(db);
	test_corrupt_refs(db);
	db_close(db);
	if (getenv("AUP_KEEP_TMP") == NULL) {
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			diag("could not remove %s", tmpdir);
	}
	return tap_done();
}
