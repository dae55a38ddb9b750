/*
 * lease_db - dynamic address leases in LMDB (see lease_db.h)
 *
 * The key sorts the leases of one address by start, so the lease in force
 * at a time is the last one starting at or before it, if it has not ended.
 * Threads: as db.h. Errors: 0 / -1 and -1 / 0 / 1 with db_txn_fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "cidr.h"
#include "custdb.h"
#include "db.h"
#include "lease_db.h"
#include "timefmt.h"
#include "xalloc.h"

#define LEASE_KEY	25	/* family, 16 address bytes, u64 from */
#define LEASE_VERSION	1

/* The address part of the key (17 bytes). */
static void
lease_addr_key(uint8_t *key, const struct cidr *a)
{
	memset(key, 0, 17);
	key[0] = (uint8_t)a->family;
	memcpy(key + 1, a->addr, (size_t)cidr_addr_len(a));
}

/* Decode one record; 0, or -1 (with the reason) when it is corrupt. */
static int
lease_decode(struct db_txn *txn, const uint8_t *key, size_t klen,
    const uint8_t *val, size_t vlen, struct lease *l)
{
	size_t idlen = vlen > 9 ? vlen - 9 : 0;

	memset(l, 0, sizeof(*l));
	if (klen != LEASE_KEY || (key[0] != CIDR_V4 && key[0] != CIDR_V6) ||
	    vlen < 10 || val[0] != LEASE_VERSION || idlen >= CUSTDB_ID_MAX)
		return db_txn_fail(txn, "leases: corrupt record");
	l->addr.family = key[0];
	memcpy(l->addr.addr, key + 1, (size_t)cidr_addr_len(&l->addr));
	l->addr.plen = key[0] == CIDR_V4 ? 32 : 128;
	l->from = (int64_t)bytes_get_be64(key + 17);
	l->to = (int64_t)bytes_get_be64(val + 1);
	memcpy(l->customer, val + 9, idlen);
	l->customer[idlen] = '\0';
	if (!custdb_valid_id(l->customer) || l->from < 0 ||
	    (l->to != 0 && l->to <= l->from))
		return db_txn_fail(txn, "leases: corrupt record");
	return 0;
}

static int
lease_put(struct db_txn *txn, const struct lease *l)
{
	uint8_t key[LEASE_KEY], val[9 + CUSTDB_ID_MAX];
	size_t idlen = strlen(l->customer);

	lease_addr_key(key, &l->addr);
	bytes_put_be64(key + 17, (uint64_t)l->from);
	val[0] = LEASE_VERSION;
	bytes_put_be64(val + 1, (uint64_t)l->to);
	memcpy(val + 9, l->customer, idlen);
	return db_put(txn, DB_LEASES, key, sizeof(key), val, 9 + idlen);
}

struct lease_iter {
	struct db_txn	*txn;
	int		 failed;
	int		(*fn)(const struct lease *, void *);
	void		*arg;
};

static int
lease_iter_cb(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct lease_iter *it = arg;
	struct lease l;

	if (lease_decode(it->txn, key, klen, val, vlen, &l) < 0) {
		it->failed = 1;
		return -1;
	}
	return it->fn(&l, it->arg);
}

int
lease_each(struct db_txn *txn, const struct cidr *addr,
    int (*fn)(const struct lease *, void *), void *arg)
{
	struct lease_iter it = { txn, 0, fn, arg };
	uint8_t prefix[17];
	int rc;

	if (addr != NULL)
		lease_addr_key(prefix, addr);
	rc = db_iter(txn, DB_LEASES, prefix, addr != NULL ? 17 : 0,
	    lease_iter_cb, &it);
	return it.failed ? -1 : rc;
}

struct lease_find {
	int64_t		when;
	int		found;
	struct lease	best;
	int64_t		next;		/* start of the first later lease */
};

static int
lease_find_cb(const struct lease *l, void *arg)
{
	struct lease_find *f = arg;

	if (l->from > f->when) {
		f->next = l->from;
		return 1;		/* sorted by start: nothing later fits */
	}
	f->best = *l;
	f->found = 1;
	return 0;
}

int
lease_lookup(struct db_txn *txn, const struct cidr *addr, int64_t when,
    struct lease *out)
{
	int64_t lo, hi;

	return lease_lookup_span(txn, addr, when, out, &lo, &hi);
}

/*
 * The answer at when is the last lease starting at or before it, if it
 * has not ended: it holds from that start (or that lease's end, for no
 * answer) until the earlier of its end and the next lease's start.
 */
int
lease_lookup_span(struct db_txn *txn, const struct cidr *addr, int64_t when,
    struct lease *out, int64_t *lo, int64_t *hi)
{
	struct lease_find f = { .when = when, .next = INT64_MAX };

	*lo = INT64_MIN;
	*hi = INT64_MAX;
	if ((addr->family != CIDR_V4 && addr->family != CIDR_V6) ||
	    addr->plen != (addr->family == CIDR_V4 ? 32 : 128))
		return 0;
	if (lease_each(txn, addr, lease_find_cb, &f) < 0)
		return -1;
	*hi = f.next;
	if (!f.found)
		return 0;
	if (f.best.to != 0 && when >= f.best.to) {
		*lo = f.best.to;
		return 0;
	}
	*lo = f.best.from;
	if (f.best.to != 0 && f.best.to < *hi)
		*hi = f.best.to;
	*out = f.best;
	return 1;
}

/* Collected leases of one address, for the overlap check. */
struct lease_list {
	struct lease	*v;
	size_t		 n;
};

static int
lease_collect_cb(const struct lease *l, void *arg)
{
	struct lease_list *ll = arg;

	ll->v = xrealloc(ll->v, (ll->n + 1) * sizeof(*ll->v));
	ll->v[ll->n++] = *l;
	return 0;
}

static int
lease_overlap(const struct lease *a, const struct lease *b)
{
	int64_t aend = a->to == 0 ? INT64_MAX : a->to;
	int64_t bend = b->to == 0 ? INT64_MAX : b->to;

	return a->from < bend && b->from < aend;
}

/* Check l against the address's leases; index of one to end, -1, or -2. */
static int
lease_plan_add(struct db_txn *txn, const struct lease *l,
    const struct lease_list *ll, int *same)
{
	char a[64], f[32], t[32];
	int end = -1;

	*same = 0;
	for (size_t i = 0; i < ll->n; i++) {
		const struct lease *e = &ll->v[i];

		if (e->from == l->from && e->to == l->to &&
		    strcmp(e->customer, l->customer) == 0) {
			*same = 1;
			return -1;
		}
		if (e->to == 0 && l->to == 0 && e->from < l->from) {
			end = (int)i;	/* handed over: ends where l starts */
			continue;
		}
		if (lease_overlap(e, l)) {
			cidr_format(&l->addr, a, sizeof(a));
			timefmt_utc(e->from, f, sizeof(f));
			timefmt_utc(e->to, t, sizeof(t));
			db_txn_fail(txn, "address %s is leased to customer "
			    "'%s' from %s to %s; the new lease overlaps it",
			    a, e->customer, f, e->to != 0 ? t : "now (open)");
			return -2;
		}
	}
	return end;
}

int
lease_add(struct db_txn *txn, const struct lease *l, struct lease *ended)
{
	struct lease_list ll = { NULL, 0 };
	struct customer c;
	int rc, same, end;

	if (ended != NULL)
		memset(ended, 0, sizeof(*ended));
	if (l->from < 0 || (l->to != 0 && l->to <= l->from))
		return db_txn_fail(txn, "a lease must end after it starts");
	if (l->addr.plen != (l->addr.family == CIDR_V4 ? 32 : 128))
		return db_txn_fail(txn, "a lease is for one address, not a "
		    "network");
	if ((rc = custdb_customer_get(txn, l->customer, &c)) <= 0)
		return rc < 0 ? -1 : db_txn_fail(txn, "no such customer "
		    "'%s'", l->customer);
	if (lease_each(txn, &l->addr, lease_collect_cb, &ll) < 0) {
		free(ll.v);
		return -1;
	}
	end = lease_plan_add(txn, l, &ll, &same);
	if (end >= 0 && !same) {
		struct lease closed = ll.v[end];

		closed.to = l->from;
		if (lease_put(txn, &closed) < 0)
			end = -2;
		else if (ended != NULL)
			*ended = closed;
	}
	free(ll.v);
	if (end == -2)
		return -1;
	return same ? 0 : lease_put(txn, l);
}
