/*
 * custdb - customers, plans, logins, networks and domains (see custdb.h)
 *
 * Record formats (all integers little-endian; version byte first so a
 * later release can read old records and refuse newer ones):
 *
 *   plan      u8 version=1, u8 n, n x u64 limit (in enum plan_key order;
 *             limits missing from an older record take the defaults)
 *   customer  u8 version=1, u8 status, u32 flags, i64 created,
 *             u8 plan length, plan, u16 contact length, contact
 *   domain    key: "id\0domain"; value: u32 flags
 *
 * Networks and their prefix-length bitmaps live in custdb_net.c; the
 * helpers both files use are declared in custdb_priv.h.
 *
 * A record that does not parse exactly is reported as corrupt with its key
 * and is never half-used: every read is bounds-checked against the value's
 * length.
 *
 * Ownership: every struct and string handed out is a copy owned by the
 * caller. Threads: as db.h (a txn belongs to one thread).
 * Errors: actions 0 / -1 with the reason in the txn; lookups -1 / 0 / 1.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "custdb.h"
#include "custdb_priv.h"
#include "db.h"
#include "strcopy.h"

#define CUSTDB_REC_V1	1
#define CUSTDB_LOGIN_MAX 255
#define CUSTDB_KEY_MAX	(CUSTDB_ID_MAX + CUSTDB_LOGIN_MAX + 2)

static const char *const plan_key_names[PLAN_NKEYS] = {
	[PLAN_MAX_RCPTS_PER_MSG] = "max_rcpts_per_msg",
	[PLAN_MAX_MSG_BYTES] = "max_msg_bytes",
	[PLAN_MSGS_PER_HOUR] = "msgs_per_hour",
	[PLAN_RCPTS_PER_DAY] = "rcpts_per_day",
	[PLAN_PER_RCPT_PER_HOUR] = "per_rcpt_per_hour",
	[PLAN_WARN_PERCENT] = "warn_percent",
};

static const uint64_t plan_key_defaults[PLAN_NKEYS] = {
	[PLAN_MAX_RCPTS_PER_MSG] = 99,
	[PLAN_MAX_MSG_BYTES] = 10485760,
	[PLAN_MSGS_PER_HOUR] = 500,
	[PLAN_RCPTS_PER_DAY] = 2000,
	[PLAN_PER_RCPT_PER_HOUR] = 20,
	[PLAN_WARN_PERCENT] = 80,
};

/* Bounds-checked little-endian reader over one value. */
struct custdb_rd {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	int		 bad;	/* a read went past the end */
};

static const uint8_t *
custdb_rd_take(struct custdb_rd *rd, size_t n)
{
	const uint8_t *p;

	if (rd->bad || n > rd->len - rd->off) {
		rd->bad = 1;
		return NULL;
	}
	p = rd->p + rd->off;
	rd->off += n;
	return p;
}

static uint64_t
custdb_rd_uint(struct custdb_rd *rd, size_t n)
{
	const uint8_t *p = custdb_rd_take(rd, n);
	uint64_t v = 0;

	if (p == NULL)
		return 0;
	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

static size_t
custdb_put_uint(uint8_t *buf, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(v >> (8 * i));
	return n;
}

const char *
plan_key_name(enum plan_key k)
{
	if ((unsigned)k >= PLAN_NKEYS)
		return NULL;
	return plan_key_names[k];
}

int
plan_key_lookup(const char *s)
{
	for (int k = 0; k < PLAN_NKEYS; k++)
		if (strcmp(plan_key_names[k], s) == 0)
			return k;
	return -1;
}

uint64_t
plan_key_max(enum plan_key k)
{
	return k == PLAN_WARN_PERCENT ? 100 : UINT64_MAX;
}

void
plan_defaults(struct plan *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	strcopy(p->name, sizeof(p->name), name != NULL ? name : "");
	memcpy(p->lim, plan_key_defaults, sizeof(p->lim));
}

int
custdb_valid_id(const char *s)
{
	size_t n;

	if (s == NULL || (n = strnlen(s, CUSTDB_ID_MAX)) == 0 ||
	    n >= CUSTDB_ID_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' &&
		    *s != '-')
			return 0;
	return 1;
}

int
custdb_valid_login(const char *s)
{
	size_t n;

	if (s == NULL || (n = strnlen(s, CUSTDB_LOGIN_MAX + 1)) == 0 ||
	    n > CUSTDB_LOGIN_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* LDH label: 1..63 of [a-z0-9-], no hyphen first or last (xn-- is LDH). */
static int
custdb_valid_label(const char *s, size_t n)
{
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

int
custdb_domain_normalize(const char *in, char *out, size_t outlen)
{
	size_t n, i, start;

	if (in == NULL || outlen == 0)
		return -1;
	n = strnlen(in, CUSTDB_DOMAIN_MAX + 1);
	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n >= CUSTDB_DOMAIN_MAX || n >= outlen)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	for (start = 0, i = 0; i <= n; i++) {
		if (i < n && out[i] != '.')
			continue;
		if (!custdb_valid_label(out + start, i - start))
			return -1;
		start = i + 1;
	}
	return 0;
}

size_t
custdb_idkey(uint8_t *key, const char *id, const void *tail, size_t tlen)
{
	size_t n = strlen(id);

	memcpy(key, id, n);
	key[n] = '\0';
	if (tlen > 0)
		memcpy(key + n + 1, tail, tlen);
	return n + 1 + tlen;
}

int
custdb_copy_id(struct db_txn *txn, const char *what, const void *val,
    size_t vlen, char *id)
{
	if (vlen == 0 || vlen >= CUSTDB_ID_MAX)
		return db_txn_fail(txn, "%s: corrupt record (owner length "
		    "%zu)", what, vlen);
	memcpy(id, val, vlen);
	id[vlen] = '\0';
	if (!custdb_valid_id(id))
		return db_txn_fail(txn, "%s: corrupt record (bad owner id)",
		    what);
	return 0;
}

int
custdb_iter_run(struct db_txn *txn, enum db_table t, const void *prefix,
    size_t plen, int (*cb)(const void *, size_t, const void *, size_t,
    void *), struct custdb_iter *it)
{
	int rc;

	it->txn = txn;
	it->failed = 0;
	it->skip = plen;
	rc = db_iter(txn, t, prefix, plen, cb, it);
	return it->failed ? -1 : rc;
}

/* ---- plans ---- */

static int
custdb_plan_decode(struct db_txn *txn, const char *name, const void *val,
    size_t vlen, struct plan *p)
{
	struct custdb_rd rd = { val, vlen, 0, 0 };
	unsigned ver, n;

	plan_defaults(p, name);
	ver = (unsigned)custdb_rd_uint(&rd, 1);
	n = (unsigned)custdb_rd_uint(&rd, 1);
	if (rd.bad)
		return db_txn_fail(txn, "plan '%s': corrupt record "
		    "(truncated)", name);
	if (ver != CUSTDB_REC_V1)
		return db_txn_fail(txn, "plan '%s': record version %u not "
		    "supported", name, ver);
	if (n == 0 || vlen != 2 + (size_t)n * 8)
		return db_txn_fail(txn, "plan '%s': corrupt record (length "
		    "%zu for %u limits)", name, vlen, n);
	for (unsigned k = 0; k < n; k++) {
		uint64_t v = custdb_rd_uint(&rd, 8);

		if (k < PLAN_NKEYS)
			p->lim[k] = v;
	}
	return 0;
}

int
custdb_plan_get(struct db_txn *txn, const char *name, struct plan *p)
{
	const void *val;
	size_t vlen;
	int rc;

	if (!custdb_valid_id(name))
		return db_txn_fail(txn, "invalid plan name '%.64s'", name);
	rc = db_get(txn, DB_PLANS, name, strlen(name), &val, &vlen);
	if (rc <= 0)
		return rc;
	if (custdb_plan_decode(txn, name, val, vlen, p) < 0)
		return -1;
	return 1;
}

int
custdb_plan_put(struct db_txn *txn, const struct plan *p)
{
	uint8_t buf[2 + PLAN_NKEYS * 8];
	size_t off = 0;

	if (!custdb_valid_id(p->name))
		return db_txn_fail(txn, "invalid plan name '%.64s'", p->name);
	for (int k = 0; k < PLAN_NKEYS; k++)
		if (p->lim[k] > plan_key_max(k))
			return db_txn_fail(txn, "plan '%s': %s must be at "
			    "most %llu", p->name, plan_key_names[k],
			    (unsigned long long)plan_key_max(k));
	buf[off++] = CUSTDB_REC_V1;
	buf[off++] = PLAN_NKEYS;
	for (int k = 0; k < PLAN_NKEYS; k++)
		off += custdb_put_uint(buf + off, p->lim[k], 8);
	return db_put(txn, DB_PLANS, p->name, strlen(p->name), buf, off);
}

static int
custdb_plan_cb(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct custdb_iter *it = arg;
	char name[CUSTDB_ID_MAX];
	struct plan p;

	if (klen >= sizeof(name)) {
		it->failed = 1;
		return db_txn_fail(it->txn, "plans: corrupt key");
	}
	memcpy(name, key, klen);
	name[klen] = '\0';
	if (custdb_plan_decode(it->txn, name, val, vlen, &p) < 0) {
		it->failed = 1;
		return -1;
	}
	return it->fn.plan(&p, it->arg);
}

int
custdb_plan_each(struct db_txn *txn, int (*fn)(const struct plan *, void *),
    void *arg)
{
	struct custdb_iter it = { .fn.plan = fn, .arg = arg };

	return custdb_iter_run(txn, DB_PLANS, NULL, 0, custdb_plan_cb, &it);
}

/* ---- customers ---- */

/* A contact is stored as given, but never with controls or spaces. */
static int
custdb_valid_contact(const char *s)
{
	size_t n = strnlen(s, CUSTDB_ADDR_MAX);

	if (n == 0 || n >= CUSTDB_ADDR_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
custdb_customer_decode(struct db_txn *txn, const char *id, const void *val,
    size_t vlen, struct customer *c)
{
	struct custdb_rd rd = { val, vlen, 0, 0 };
	const uint8_t *plan, *contact;
	unsigned ver, plen, clen;

	memset(c, 0, sizeof(*c));
	ver = (unsigned)custdb_rd_uint(&rd, 1);
	if (!rd.bad && ver != CUSTDB_REC_V1)
		return db_txn_fail(txn, "customer '%s': record version %u "
		    "not supported", id, ver);
	c->status = (int)custdb_rd_uint(&rd, 1);
	c->flags = (unsigned)custdb_rd_uint(&rd, 4);
	c->created = (int64_t)custdb_rd_uint(&rd, 8);
	plen = (unsigned)custdb_rd_uint(&rd, 1);
	plan = custdb_rd_take(&rd, plen);
	clen = (unsigned)custdb_rd_uint(&rd, 2);
	contact = custdb_rd_take(&rd, clen);
	if (rd.bad || rd.off != vlen)
		return db_txn_fail(txn, "customer '%s': corrupt record "
		    "(%s)", id, rd.bad ? "truncated" : "trailing bytes");
	if (plen == 0 || plen >= sizeof(c->plan) ||
	    clen >= sizeof(c->contact))
		return db_txn_fail(txn, "customer '%s': corrupt record (field "
		    "length)", id);
	memcpy(c->plan, plan, plen);
	memcpy(c->contact, contact, clen);
	if (!custdb_valid_id(c->plan) || strlen(c->plan) != plen ||
	    !custdb_valid_contact(c->contact) || strlen(c->contact) != clen ||
	    (c->status != CUST_ACTIVE && c->status != CUST_SUSPENDED))
		return db_txn_fail(txn, "customer '%s': corrupt record (bad "
		    "field)", id);
	strcopy(c->id, sizeof(c->id), id);
	return 0;
}

int
custdb_customer_get(struct db_txn *txn, const char *id, struct customer *c)
{
	const void *val;
	size_t vlen;
	int rc;

	if (!custdb_valid_id(id))
		return db_txn_fail(txn, "invalid customer id '%.64s'", id);
	rc = db_get(txn, DB_CUSTOMERS, id, strlen(id), &val, &vlen);
	if (rc <= 0)
		return rc;
	if (custdb_customer_decode(txn, id, val, vlen, c) < 0)
		return -1;
	return 1;
}

int
custdb_customer_put(struct db_txn *txn, const struct customer *c)
{
	uint8_t buf[1 + 1 + 4 + 8 + 1 + CUSTDB_ID_MAX + 2 + CUSTDB_ADDR_MAX];
	size_t off = 0, plen, clen;
	struct plan p;
	int rc;

	if (!custdb_valid_id(c->id))
		return db_txn_fail(txn, "invalid customer id '%.64s'", c->id);
	if (!custdb_valid_contact(c->contact))
		return db_txn_fail(txn, "customer '%s': invalid contact "
		    "address", c->id);
	if (c->status != CUST_ACTIVE && c->status != CUST_SUSPENDED)
		return db_txn_fail(txn, "customer '%s': invalid status %d",
		    c->id, c->status);
	if ((rc = custdb_plan_get(txn, c->plan, &p)) <= 0)
		return rc < 0 ? -1 : db_txn_fail(txn, "no such plan '%s'",
		    c->plan);
	plen = strlen(c->plan);
	clen = strlen(c->contact);
	buf[off++] = CUSTDB_REC_V1;
	buf[off++] = (uint8_t)c->status;
	off += custdb_put_uint(buf + off, c->flags, 4);
	off += custdb_put_uint(buf + off, (uint64_t)c->created, 8);
	buf[off++] = (uint8_t)plen;
	memcpy(buf + off, c->plan, plen);
	off += plen;
	off += custdb_put_uint(buf + off, clen, 2);
	memcpy(buf + off, c->contact, clen);
	off += clen;
	return db_put(txn, DB_CUSTOMERS, c->id, strlen(c->id), buf, off);
}

static int
custdb_customer_cb(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct custdb_iter *it = arg;
	char id[CUSTDB_ID_MAX];
	struct customer c;

	if (klen >= sizeof(id)) {
		it->failed = 1;
		return db_txn_fail(it->txn, "customers: corrupt key");
	}
	memcpy(id, key, klen);
	id[klen] = '\0';
	if (custdb_customer_decode(it->txn, id, val, vlen, &c) < 0) {
		it->failed = 1;
		return -1;
	}
	return it->fn.cust(&c, it->arg);
}

int
custdb_customer_each(struct db_txn *txn,
    int (*fn)(const struct customer *, void *), void *arg)
{
	struct custdb_iter it = { .fn.cust = fn, .arg = arg };

	return custdb_iter_run(txn, DB_CUSTOMERS, NULL, 0, custdb_customer_cb,
	    &it);
}

int
custdb_need_customer(struct db_txn *txn, const char *id)
{
	const void *val;
	size_t vlen;
	int rc;

	if (!custdb_valid_id(id))
		return db_txn_fail(txn, "invalid customer id '%.64s'", id);
	if ((rc = db_get(txn, DB_CUSTOMERS, id, strlen(id), &val, &vlen)) < 0)
		return -1;
	if (rc == 0)
		return db_txn_fail(txn, "no such customer '%s'", id);
	return 0;
}

/* ---- logins ---- */

int
custdb_login_add(struct db_txn *txn, const char *id, const char *login)
{
	uint8_t key[CUSTDB_KEY_MAX];
	char owner[CUSTDB_ID_MAX];
	const void *val;
	size_t vlen, llen;
	int rc;

	if (custdb_need_customer(txn, id) < 0)
		return -1;
	if (!custdb_valid_login(login))
		return db_txn_fail(txn, "invalid login '%.64s'", login);
	llen = strlen(login);
	if ((rc = db_get(txn, DB_LOGINS, login, llen, &val, &vlen)) < 0)
		return -1;
	if (rc == 1) {
		if (custdb_copy_id(txn, "logins", val, vlen, owner) < 0)
			return -1;
		if (strcmp(owner, id) != 0)
			return db_txn_fail(txn, "login '%s' belongs to "
			    "customer '%s'", login, owner);
	}
	if (db_put(txn, DB_LOGINS, login, llen, id, strlen(id)) < 0)
		return -1;
	return db_put(txn, DB_CUST_LOGINS, key,
	    custdb_idkey(key, id, login, llen), NULL, 0);
}

int
custdb_login_lookup(struct db_txn *txn, const char *login, char *id)
{
	const void *val;
	size_t vlen;
	int rc;

	if (!custdb_valid_login(login))
		return 0;
	rc = db_get(txn, DB_LOGINS, login, strlen(login), &val, &vlen);
	if (rc <= 0)
		return rc;
	if (custdb_copy_id(txn, "logins", val, vlen, id) < 0)
		return -1;
	return 1;
}

static int
custdb_login_cb(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct custdb_iter *it = arg;
	char login[CUSTDB_LOGIN_MAX + 1];
	size_t n = klen - it->skip;

	if (n == 0 || n > CUSTDB_LOGIN_MAX) {
		it->failed = 1;
		return db_txn_fail(it->txn, "cust_logins: corrupt key");
	}
	memcpy(login, (const uint8_t *)key + it->skip, n);
	login[n] = '\0';
	if (!custdb_valid_login(login)) {
		it->failed = 1;
		return db_txn_fail(it->txn, "cust_logins: corrupt key");
	}
	return it->fn.login(login, it->arg);
}

int
custdb_login_each(struct db_txn *txn, const char *id,
    int (*fn)(const char *login, void *), void *arg)
{
	struct custdb_iter it = { .fn.login = fn, .arg = arg };
	uint8_t prefix[CUSTDB_ID_MAX + 1];

	if (!custdb_valid_id(id))
		return db_txn_fail(txn, "invalid customer id '%.64s'", id);
	return custdb_iter_run(txn, DB_CUST_LOGINS, prefix,
	    custdb_idkey(prefix, id, NULL, 0), custdb_login_cb, &it);
}

/* ---- domains ---- */

int
custdb_domain_add(struct db_txn *txn, const char *id, const char *domain,
    unsigned flags)
{
	uint8_t key[CUSTDB_ID_MAX + 1 + CUSTDB_DOMAIN_MAX], val[4];
	char dom[CUSTDB_DOMAIN_MAX];

	if (custdb_need_customer(txn, id) < 0)
		return -1;
	if (custdb_domain_normalize(domain, dom, sizeof(dom)) < 0)
		return db_txn_fail(txn, "invalid domain '%.255s'", domain);
	custdb_put_uint(val, flags & DOMAIN_SUBDOMAINS, 4);
	return db_put(txn, DB_DOMAINS, key,
	    custdb_idkey(key, id, dom, strlen(dom)), val, sizeof(val));
}

/* Flags of the entry id/dom: -1 / 0 absent / 1 with *flags set. */
static int
custdb_domain_get(struct db_txn *txn, const char *id, const char *dom,
    unsigned *flags)
{
	uint8_t key[CUSTDB_ID_MAX + 1 + CUSTDB_DOMAIN_MAX];
	struct custdb_rd rd;
	const void *val;
	size_t vlen;
	int rc;

	rc = db_get(txn, DB_DOMAINS, key,
	    custdb_idkey(key, id, dom, strlen(dom)), &val, &vlen);
	if (rc <= 0)
		return rc;
	rd = (struct custdb_rd){ val, vlen, 0, 0 };
	*flags = (unsigned)custdb_rd_uint(&rd, 4);
	if (rd.bad || vlen != 4)
		return db_txn_fail(txn, "domain '%s' of customer '%s': "
		    "corrupt record", dom, id);
	return 1;
}

int
custdb_domain_check(struct db_txn *txn, const char *id, const char *domain)
{
	return custdb_domain_match(txn, id, domain, NULL);
}

int
custdb_domain_match(struct db_txn *txn, const char *id, const char *domain,
    int *exact)
{
	char dom[CUSTDB_DOMAIN_MAX];
	unsigned flags;
	const char *p;
	int rc;

	if (exact != NULL)
		*exact = 0;
	if (!custdb_valid_id(id))
		return db_txn_fail(txn, "invalid customer id '%.64s'", id);
	if (custdb_domain_normalize(domain, dom, sizeof(dom)) < 0)
		return 0;
	if ((rc = custdb_domain_get(txn, id, dom, &flags)) != 0) {
		if (rc > 0 && exact != NULL)
			*exact = 1;
		return rc;
	}
	for (p = strchr(dom, '.'); p != NULL; p = strchr(p + 1, '.')) {
		if ((rc = custdb_domain_get(txn, id, p + 1, &flags)) < 0)
			return -1;
		if (rc == 1 && (flags & DOMAIN_SUBDOMAINS))
			return 1;
	}
	return 0;
}

static int
custdb_domain_cb(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct custdb_iter *it = arg;
	char dom[CUSTDB_DOMAIN_MAX], norm[CUSTDB_DOMAIN_MAX];
	struct custdb_rd rd = { val, vlen, 0, 0 };
	size_t n = klen - it->skip;
	unsigned flags;

	flags = (unsigned)custdb_rd_uint(&rd, 4);
	if (n == 0 || n >= sizeof(dom) || rd.bad || vlen != 4)
		goto corrupt;
	memcpy(dom, (const uint8_t *)key + it->skip, n);
	dom[n] = '\0';
	if (custdb_domain_normalize(dom, norm, sizeof(norm)) < 0 ||
	    strcmp(dom, norm) != 0)
		goto corrupt;
	return it->fn.domain(dom, flags, it->arg);
corrupt:
	it->failed = 1;
	return db_txn_fail(it->txn, "domains: corrupt record");
}

int
custdb_domain_each(struct db_txn *txn, const char *id,
    int (*fn)(const char *domain, unsigned flags, void *), void *arg)
{
	struct custdb_iter it = { .fn.domain = fn, .arg = arg };
	uint8_t prefix[CUSTDB_ID_MAX + 1];

	if (!custdb_valid_id(id))
		return db_txn_fail(txn, "invalid customer id '%.64s'", id);
	return custdb_iter_run(txn, DB_DOMAINS, prefix,
	    custdb_idkey(prefix, id, NULL, 0), custdb_domain_cb, &it);
}
