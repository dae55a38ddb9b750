/*
 * optout_db - opt-out lists in LMDB (see optout_db.h)
 *
 * Keys are "CUSTOMER\0ADDRESS" (CUSTOMER empty for the global list).
 * A bulk import calls optout_add() for addresses it has sorted, inside one
 * write transaction: LMDB then touches each leaf page once in order, which
 * is what makes a million addresses take seconds.
 *
 * Ownership: entries handed out are copies. Threads: as db.h.
 * Errors: 0 / -1 and -1 / 0 / 1 with the reason in the transaction.
 */
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "optout_db.h"

#define OPTOUT_REC_V1	1
#define OPTOUT_CHANGED	"optout-changed"	/* DB_META: optout_changed() */

static const char *const optout_sources[] = {
	[OPTOUT_SRC_ADMIN] = "admin",
	[OPTOUT_SRC_IMPORT] = "import",
	[OPTOUT_SRC_COMPLAINT] = "complaint",
};

const char *
optout_source_name(int source)
{
	if (source < 0 || source > OPTOUT_SRC_COMPLAINT)
		return "unknown";
	return optout_sources[source];
}

/* The list's key prefix "CUSTOMER\0" into key; its length, or 0 if bad. */
static size_t
optout_prefix(struct db_txn *txn, const char *customer, uint8_t *key)
{
	size_t n;

	if (customer == NULL || *customer == '\0') {
		key[0] = '\0';
		return 1;
	}
	if (!custdb_valid_id(customer)) {
		db_txn_fail(txn, "invalid customer id '%.64s'", customer);
		return 0;
	}
	n = strlen(customer);
	memcpy(key, customer, n);
	key[n] = '\0';
	return n + 1;
}

/* Build the full key; its length, or 0 with the reason set. */
static size_t
optout_key(struct db_txn *txn, const char *customer, const char *addr,
    uint8_t *key)
{
	size_t p, n;

	if ((p = optout_prefix(txn, customer, key)) == 0)
		return 0;
	n = strlen(addr);
	if (n == 0 || n >= ADDRNORM_MAX || strchr(addr, '@') == NULL) {
		db_txn_fail(txn, "not a normalised address: '%.80s'", addr);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)addr[i] < 0x20 || addr[i] == 0x7f) {
			db_txn_fail(txn, "control character in address");
			return 0;
		}
	memcpy(key + p, addr, n);
	return p + n;
}

static int
optout_decode(struct db_txn *txn, const uint8_t *key, size_t klen,
    const uint8_t *v, size_t vlen, struct optout_entry *e)
{
	const uint8_t *nul = memchr(key, '\0', klen);
	size_t clen, alen, rlen;
	uint64_t ms = 0;

	memset(e, 0, sizeof(*e));
	if (nul == NULL || (clen = (size_t)(nul - key)) >= CUSTDB_ID_MAX ||
	    (alen = klen - clen - 1) == 0 || alen >= ADDRNORM_MAX)
		return db_txn_fail(txn, "optout: corrupt key");
	if (vlen < 11 || v[0] != OPTOUT_REC_V1 ||
	    (rlen = v[10]) != vlen - 11 || rlen >= sizeof(e->ref))
		return db_txn_fail(txn, "optout: corrupt entry for '%.*s'",
		    (int)alen, (const char *)nul + 1);
	memcpy(e->customer, key, clen);
	memcpy(e->addr, nul + 1, alen);
	e->source = v[1];
	for (int i = 7; i >= 0; i--)
		ms = ms << 8 | v[2 + i];
	e->added_ms = (int64_t)ms;
	memcpy(e->ref, v + 11, rlen);
	return 0;
}

/* The list's customer must exist (the global list always does). */
static int
optout_need_customer(struct db_txn *txn, const char *customer)
{
	struct customer c;
	int rc;

	if (customer == NULL || *customer == '\0')
		return 0;
	if ((rc = custdb_customer_get(txn, customer, &c)) <= 0)
		return rc < 0 ? -1 : db_txn_fail(txn, "no customer '%s'",
		    customer);
	return 0;
}

/* Record that this write transaction changes a list (once per txn). */
static int
optout_mark_changed(struct db_txn *txn)
{
	uint64_t id = db_txn_id(txn), old;
	uint8_t v[8];
	int rc;

	if ((rc = optout_changed(txn, &old)) < 0)
		return -1;
	if (rc > 0 && old == id)
		return 0;
	bytes_put_le64(v, id);
	return db_put(txn, DB_META, OPTOUT_CHANGED, sizeof(OPTOUT_CHANGED) - 1,
	    v, sizeof(v));
}

int
optout_changed(struct db_txn *txn, uint64_t *id)
{
	const void *val;
	size_t vlen;
	int rc;

	*id = 0;
	if ((rc = db_get(txn, DB_META, OPTOUT_CHANGED, sizeof(OPTOUT_CHANGED) - 1,
	    &val, &vlen)) <= 0)
		return rc;
	if (vlen != 8)
		return db_txn_fail(txn, "meta %s: corrupt record",
		    OPTOUT_CHANGED);
	*id = bytes_get_le64(val);
	return 1;
}

size_t
optout_key_bytes(const char *customer, const char *addr, uint8_t *key)
{
	size_t c = customer != NULL ? strlen(customer) : 0, n = strlen(addr);

	if (c >= CUSTDB_ID_MAX || n >= ADDRNORM_MAX)
		return 0;
	memcpy(key, customer != NULL ? customer : "", c);
	key[c] = '\0';
	memcpy(key + c + 1, addr, n);
	return c + 1 + n;
}

/* Add one address; checked tells that the customer exists. */
static int
optout_add1(struct db_txn *txn, const char *customer, const char *addr,
    int source, int64_t now_ms, const char *ref, int checked)
{
	uint8_t key[OPTOUT_KEY_MAX], val[11 + 32];
	const void *old;
	size_t klen, vlen, rlen = ref != NULL ? strlen(ref) : 0;
	int rc;

	if ((klen = optout_key(txn, customer, addr, key)) == 0)
		return -1;
	if (rlen >= 32)
		return db_txn_fail(txn, "optout: reference too long");
	if ((rc = db_get(txn, DB_OPTOUT, key, klen, &old, &vlen)) != 0)
		return rc < 0 ? -1 : 0;
	/* Checked after the common case (already listed) on purpose. */
	if (!checked && optout_need_customer(txn, customer) < 0)
		return -1;
	val[0] = OPTOUT_REC_V1;
	val[1] = (uint8_t)source;
	for (int i = 0; i < 8; i++)
		val[2 + i] = (uint8_t)((uint64_t)now_ms >> (8 * i));
	val[10] = (uint8_t)rlen;
	if (rlen > 0)
		memcpy(val + 11, ref, rlen);
	if (db_put(txn, DB_OPTOUT, key, klen, val, 11 + rlen) < 0 ||
	    optout_mark_changed(txn) < 0)
		return -1;
	return 1;
}

int
optout_add(struct db_txn *txn, const char *customer, const char *addr,
    int source, int64_t now_ms, const char *ref)
{
	return optout_add1(txn, customer, addr, source, now_ms, ref, 0);
}

int
optout_import(struct db_txn *txn, const char *customer, char *const *addrs,
    size_t n, int source, int64_t now_ms, long *added)
{
	int rc;

	*added = 0;
	if (optout_need_customer(txn, customer) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if ((rc = optout_add1(txn, customer, addrs[i], source, now_ms,
		    NULL, 1)) < 0)
			return -1;
		*added += rc;
	}
	return 0;
}

int
optout_remove(struct db_txn *txn, const char *customer, const char *addr)
{
	uint8_t key[OPTOUT_KEY_MAX];
	size_t klen;

	int rc;

	if ((klen = optout_key(txn, customer, addr, key)) == 0)
		return -1;
	if ((rc = db_del(txn, DB_OPTOUT, key, klen)) > 0 &&
	    optout_mark_changed(txn) < 0)
		return -1;
	return rc;
}

/* The entry at key[0..klen): -1 / 0 / 1, filling e on a hit. */
static int
optout_lookup(struct db_txn *txn, const uint8_t *key, size_t klen,
    struct optout_entry *e)
{
	const void *v;
	size_t vlen;
	int rc;

	if ((rc = db_get(txn, DB_OPTOUT, key, klen, &v, &vlen)) <= 0)
		return rc;
	if (e != NULL && optout_decode(txn, key, klen, v, vlen, e) < 0)
		return -1;
	return 1;
}

int
optout_check(struct db_txn *txn, const char *customer, const char *addr,
    struct optout_entry *e)
{
	uint8_t key[OPTOUT_KEY_MAX];
	size_t klen, skip = 0;
	int rc;

	if (customer != NULL && *customer == '\0')
		customer = NULL;
	if ((klen = optout_key(txn, customer, addr, key)) == 0)
		return -1;
	if (customer != NULL) {
		if ((rc = optout_lookup(txn, key, klen, e)) != 0)
			return rc;
		/* "CUSTOMER\0ADDRESS" ends in the global key "\0ADDRESS" */
		skip = strlen(customer);
	}
	return optout_lookup(txn, key + skip, klen - skip, e);
}

struct optout_iter {
	struct db_txn	*txn;
	int		(*fn)(const struct optout_entry *, void *);
	void		*arg;
	int		 failed;
	long		 n;
};

static int
optout_iter_cb(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct optout_iter *it = arg;
	struct optout_entry e;

	if (optout_decode(it->txn, key, klen, val, vlen, &e) < 0) {
		it->failed = 1;
		return -1;
	}
	it->n++;
	return it->fn != NULL ? it->fn(&e, it->arg) : 0;
}

int
optout_each(struct db_txn *txn, const char *customer,
    int (*fn)(const struct optout_entry *, void *), void *arg)
{
	struct optout_iter it = { txn, fn, arg, 0, 0 };
	uint8_t prefix[CUSTDB_ID_MAX];
	size_t plen;
	int rc;

	if ((plen = optout_prefix(txn, customer, prefix)) == 0)
		return -1;
	rc = db_iter(txn, DB_OPTOUT, prefix, plen, optout_iter_cb, &it);
	return it.failed ? -1 : rc;
}

long
optout_count(struct db_txn *txn, const char *customer)
{
	struct optout_iter it = { txn, NULL, NULL, 0, 0 };
	uint8_t prefix[CUSTDB_ID_MAX];
	size_t plen;

	if ((plen = optout_prefix(txn, customer, prefix)) == 0)
		return -1;
	if (db_iter(txn, DB_OPTOUT, prefix, plen, optout_iter_cb, &it) < 0 ||
	    it.failed)
		return -1;
	return it.n;
}
