/*
 * custdb_net - customer networks and their longest-prefix match (custdb.h)
 *
 * Record formats (see custdb.c for the others):
 *
 *   network   key: u8 family (4|6), masked address (4|16), u8 plen;
 *             value: customer id
 *   cust_nets key: "id\0" followed by the network key; value: empty
 *   meta      "nets4", "nets6": bitmap of the prefix lengths in use
 *             (5 and 17 bytes, bit plen%8 of byte plen/8)
 *
 * The prefix-length bitmaps let the longest-prefix match probe only the
 * lengths that exist (typically two or three), longest first.
 *
 * Ownership: the id and cidr filled in are the caller's copies. Threads:
 * as db.h (a txn belongs to one thread). Errors: actions 0 / -1 with the
 * reason in the txn; lookups -1 / 0 / 1.
 */
#include <stdint.h>
#include <string.h>

#include "cidr.h"
#include "custdb.h"
#include "custdb_priv.h"
#include "db.h"

#define CUSTDB_NETKEY	18		/* family, 16 bytes, plen */

static size_t
custdb_netkey(uint8_t *key, const struct cidr *net)
{
	size_t n = (size_t)cidr_addr_len(net);

	key[0] = (uint8_t)net->family;
	memcpy(key + 1, net->addr, n);
	key[n + 1] = (uint8_t)net->plen;
	return n + 2;
}

/* Inverse of custdb_netkey; 0 or -1 when the bytes are not a network. */
static int
custdb_netkey_decode(const uint8_t *key, size_t klen, struct cidr *net)
{
	struct cidr m;

	memset(net, 0, sizeof(*net));
	if (klen == 6 && key[0] == CIDR_V4)
		net->family = CIDR_V4;
	else if (klen == 18 && key[0] == CIDR_V6)
		net->family = CIDR_V6;
	else
		return -1;
	memcpy(net->addr, key + 1, klen - 2);
	net->plen = key[klen - 1];
	if (net->plen > (net->family == CIDR_V4 ? 32 : 128))
		return -1;
	cidr_mask(net, net->plen, &m);
	return memcmp(m.addr, net->addr, sizeof(m.addr)) == 0 ? 0 : -1;
}

static const char *
custdb_bitmap_key(int family)
{
	return family == CIDR_V4 ? "nets4" : "nets6";
}

/*
 * The bitmap of prefix lengths in use for a family into bits (17 bytes,
 * zero when absent). Returns its length in bytes, or -1.
 */
static int
custdb_bitmap_get(struct db_txn *txn, int family, uint8_t bits[17])
{
	const char *key = custdb_bitmap_key(family);
	size_t want = family == CIDR_V4 ? 5 : 17, vlen;
	const void *val;
	int rc;

	memset(bits, 0, 17);
	if ((rc = db_get(txn, DB_META, key, strlen(key), &val, &vlen)) < 0)
		return -1;
	if (rc == 0)
		return (int)want;
	if (vlen != want)
		return db_txn_fail(txn, "meta '%s': corrupt record (length "
		    "%zu)", key, vlen);
	memcpy(bits, val, vlen);
	return (int)want;
}

static int
custdb_bitmap_set(struct db_txn *txn, int family, int plen)
{
	const char *key = custdb_bitmap_key(family);
	uint8_t bits[17];
	int n;

	if ((n = custdb_bitmap_get(txn, family, bits)) < 0)
		return -1;
	if (bits[plen / 8] & (1u << (plen % 8)))
		return 0;
	bits[plen / 8] |= (uint8_t)(1u << (plen % 8));
	return db_put(txn, DB_META, key, strlen(key), bits, (size_t)n);
}

static int
custdb_valid_net(const struct cidr *net)
{
	struct cidr m;

	if (net->family != CIDR_V4 && net->family != CIDR_V6)
		return 0;
	if (net->plen < 0 || net->plen > (net->family == CIDR_V4 ? 32 : 128))
		return 0;
	cidr_mask(net, net->plen, &m);
	return memcmp(m.addr, net->addr, sizeof(m.addr)) == 0;
}

int
custdb_network_add(struct db_txn *txn, const char *id,
    const struct cidr *net)
{
	uint8_t nk[CUSTDB_NETKEY], key[CUSTDB_ID_MAX + 1 + CUSTDB_NETKEY];
	char owner[CUSTDB_ID_MAX], text[64];
	const void *val;
	size_t nlen, vlen;
	int rc;

	if (custdb_need_customer(txn, id) < 0)
		return -1;
	if (!custdb_valid_net(net))
		return db_txn_fail(txn, "invalid network");
	nlen = custdb_netkey(nk, net);
	if ((rc = db_get(txn, DB_NETWORKS, nk, nlen, &val, &vlen)) < 0)
		return -1;
	if (rc == 1) {
		if (custdb_copy_id(txn, "networks", val, vlen, owner) < 0)
			return -1;
		if (strcmp(owner, id) != 0) {
			cidr_format(net, text, sizeof(text));
			return db_txn_fail(txn, "network %s belongs to "
			    "customer '%s'", text, owner);
		}
	}
	if (db_put(txn, DB_NETWORKS, nk, nlen, id, strlen(id)) < 0 ||
	    db_put(txn, DB_CUST_NETS, key, custdb_idkey(key, id, nk, nlen),
	    NULL, 0) < 0)
		return -1;
	return custdb_bitmap_set(txn, net->family, net->plen);
}

int
custdb_network_lookup(struct db_txn *txn, const struct cidr *addr,
    char *id, struct cidr *matched)
{
	uint8_t bits[17], nk[CUSTDB_NETKEY];
	const void *val;
	struct cidr m;
	size_t vlen;
	int plen, rc;

	if (addr->family != CIDR_V4 && addr->family != CIDR_V6)
		return 0;
	if (custdb_bitmap_get(txn, addr->family, bits) < 0)
		return -1;
	plen = addr->plen;
	if (plen > (addr->family == CIDR_V4 ? 32 : 128))
		plen = addr->family == CIDR_V4 ? 32 : 128;
	for (; plen >= 0; plen--) {
		if (!(bits[plen / 8] & (1u << (plen % 8))))
			continue;
		cidr_mask(addr, plen, &m);
		rc = db_get(txn, DB_NETWORKS, nk, custdb_netkey(nk, &m), &val,
		    &vlen);
		if (rc < 0)
			return -1;
		if (rc == 0)
			continue;
		if (custdb_copy_id(txn, "networks", val, vlen, id) < 0)
			return -1;
		if (matched != NULL)
			*matched = m;
		return 1;
	}
	return 0;
}

static int
custdb_network_cb(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct custdb_iter *it = arg;
	struct cidr net;

	if (custdb_netkey_decode((const uint8_t *)key + it->skip,
	    klen - it->skip, &net) < 0) {
		it->failed = 1;
		return db_txn_fail(it->txn, "cust_nets: corrupt key");
	}
	return it->fn.net(&net, it->arg);
}

int
custdb_network_each(struct db_txn *txn, const char *id,
    int (*fn)(const struct cidr *, void *), void *arg)
{
	struct custdb_iter it = { .fn.net = fn, .arg = arg };
	uint8_t prefix[CUSTDB_ID_MAX + 1];

	if (!custdb_valid_id(id))
		return db_txn_fail(txn, "invalid customer id '%.64s'", id);
	return custdb_iter_run(txn, DB_CUST_NETS, prefix,
	    custdb_idkey(prefix, id, NULL, 0), custdb_network_cb, &it);
}
