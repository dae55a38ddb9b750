/*
 * attrib - attribution of a transaction to a customer (see attrib.h)
 *
 * The answers are cached (db_cache.h) under two kinds of key, so a login
 * keeps its entry whatever address it connects from: "L" and the login
 * (the login's customer, with its plan; or "not a customer's login"),
 * and "A" and the client address (what steps 2 and 3 say, with the time
 * a lease answer holds). A cache answer is used only when every key the
 * decision needs hits at one database state; otherwise the whole
 * decision is read again in one transaction and its keys are stored.
 * Threads: as attrib.h. Errors: -1 / 0 / 1 with the reason in err.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "attrib.h"
#include "errbuf.h"
#include "timefmt.h"
#include "lease_db.h"
#include "strcopy.h"

#define ATTRIB_CACHE_ENTRIES	2048
#define ATTRIB_LOGIN_MAX	255	/* longer: no login (custdb.h) */
#define ATTRIB_KEY_MAX		(1 + ATTRIB_LOGIN_MAX)

/* The cache keys of one lookup; a length of 0: not asked. */
struct attrib_keys {
	uint8_t	login[ATTRIB_KEY_MAX];
	size_t	llen;
	uint8_t	addr[3 + 16];
	size_t	alen;
};

/* "192.0.2.7 2026-11-22T08:00:00Z/-": the address, start and end. */
static void
attrib_lease_text(const struct lease *l, char *buf, size_t len)
{
	char ip[64], from[TIMEFMT_LEN], to[TIMEFMT_LEN];

	cidr_format(&l->addr, ip, sizeof(ip));
	timefmt_utc(l->from, from, sizeof(from));
	if (l->to == 0)
		snprintf(to, sizeof(to), "-");
	else
		timefmt_utc(l->to, to, sizeof(to));
	snprintf(buf, len, "%s %s/%s", ip, from, to);
}

/*
 * Steps 1-3 at time now. [*lo, *hi) is the time over which the answer
 * holds while the database does not change (only a lease depends on it).
 */
static int
attrib_resolve(struct db_txn *txn, const char *auth,
    const struct cidr *client, int64_t now, struct attribution *a,
    int64_t *lo, int64_t *hi)
{
	struct cidr net;
	struct lease l;
	int r;

	memset(a, 0, sizeof(*a));
	a->by = ATTRIB_NONE;
	*lo = INT64_MIN;
	*hi = INT64_MAX;
	if (auth != NULL) {
		r = custdb_login_lookup(txn, auth, a->customer);
		if (r < 0)
			return -1;
		if (r > 0) {
			a->by = ATTRIB_LOGIN;
			strcopy(a->via, sizeof(a->via), auth);
			return 1;
		}
	}
	if (client != NULL) {
		r = custdb_network_lookup(txn, client, a->customer, &net);
		if (r < 0)
			return -1;
		if (r > 0) {
			a->by = ATTRIB_NETWORK;
			cidr_format(&net, a->via, sizeof(a->via));
			return 1;
		}
		r = lease_lookup_span(txn, client, now, &l, lo, hi);
		if (r < 0)
			return -1;
		if (r > 0) {
			a->by = ATTRIB_LEASE;
			snprintf(a->customer, sizeof(a->customer), "%s",
			    l.customer);
			attrib_lease_text(&l, a->via, sizeof(a->via));
			return 1;
		}
	}
	a->customer[0] = '\0';
	return 0;
}

/* The attributed customer and its plan into res. -1 / 0 / 1. */
static int
attrib_customer(struct db_txn *txn, struct attrib_result *res)
{
	int r;

	r = custdb_customer_get(txn, res->attr.customer, &res->cust);
	if (r == 0)
		res->gap = ATTRIB_NO_CUSTOMER;
	if (r <= 0)
		return r;
	if ((r = custdb_plan_get(txn, res->cust.plan, &res->plan)) < 0)
		return -1;
	if (r == 0) {
		plan_defaults(&res->plan, res->cust.plan);
		res->gap = ATTRIB_NO_PLAN;
	}
	return 1;
}

static int
attrib_status(const struct attrib_result *res)
{
	return res->attr.by != ATTRIB_NONE && res->gap != ATTRIB_NO_CUSTOMER;
}

/* 1 with res filled when the cache answers for every key asked. */
static int
attrib_cached(struct db_cache *cache, const struct attrib_keys *k,
    int64_t now, struct attrib_result *res)
{
	uint64_t id = db_cache_txnid(cache);

	if (k->llen > 0) {
		if (!db_cache_get(cache, id, k->login, k->llen, now, res))
			return 0;
		if (res->attr.by == ATTRIB_LOGIN || k->alen == 0)
			return 1;	/* the login's customer, or nobody */
	}
	return db_cache_get(cache, id, k->addr, k->alen, now, res);
}

/* Store what txn read for the keys asked. */
static void
attrib_store(struct db_cache *cache, struct db_txn *txn,
    const struct attrib_keys *k, int64_t lo, int64_t hi,
    const struct attrib_result *res)
{
	struct attrib_result none;

	if (res->attr.by == ATTRIB_LOGIN) {
		db_cache_put(cache, txn, k->login, k->llen, lo, hi, res);
		return;
	}
	if (k->llen > 0) {	/* not a customer's login, at any time */
		memset(&none, 0, sizeof(none));
		none.attr.by = ATTRIB_NONE;
		db_cache_put(cache, txn, k->login, k->llen, INT64_MIN,
		    INT64_MAX, &none);
	}
	if (k->alen > 0)
		db_cache_put(cache, txn, k->addr, k->alen, lo, hi, res);
}

struct db_cache *
attrib_cache_new(struct db *db)
{
	return db_cache_new(db, ATTRIB_CACHE_ENTRIES, ATTRIB_KEY_MAX,
	    sizeof(struct attrib_result));
}

int
attrib_lookup(struct db *db, struct db_cache *cache, const char *auth,
    const struct cidr *client, int64_t now, struct attrib_result *res,
    char *err, size_t errlen)
{
	struct attrib_keys k;
	struct db_txn *rt;
	int64_t lo, hi;
	int r;

	memset(res, 0, sizeof(*res));
	res->attr.by = ATTRIB_NONE;
	if (auth != NULL && *auth == '\0')
		auth = NULL;
	if (auth == NULL && client == NULL)
		return 0;
	k.llen = k.alen = 0;
	if (auth != NULL && (k.llen = strlen(auth)) <= ATTRIB_LOGIN_MAX) {
		k.login[0] = 'L';
		memcpy(k.login + 1, auth, k.llen++);
	} else if (auth != NULL)
		cache = NULL;	/* no login; not worth a key of its own */
	if (client != NULL) {
		k.addr[0] = 'A';
		k.addr[1] = (uint8_t)client->family;
		k.addr[2] = (uint8_t)client->plen;
		memset(k.addr + 3, 0, sizeof(client->addr));
		memcpy(k.addr + 3, client->addr, (size_t)cidr_addr_len(client));
		k.alen = sizeof(k.addr);
	}
	if (cache != NULL && attrib_cached(cache, &k, now, res))
		return attrib_status(res);
	if ((rt = db_read_begin(db, err, errlen)) == NULL)
		return -1;
	r = attrib_resolve(rt, auth, client, now, &res->attr, &lo, &hi);
	if (r > 0)
		r = attrib_customer(rt, res);
	if (r < 0)
		errbuf_set(err, errlen, "%s", db_txn_error(rt));
	else if (cache != NULL)
		attrib_store(cache, rt, &k, lo, hi, res);
	db_read_end(rt);
	return r < 0 ? -1 : attrib_status(res);
}

const char *
attrib_by_name(enum attrib_by by)
{
	switch (by) {
	case ATTRIB_LOGIN:
		return "login";
	case ATTRIB_NETWORK:
		return "network";
	case ATTRIB_LEASE:
		return "lease";
	default:
		return "none";
	}
}
