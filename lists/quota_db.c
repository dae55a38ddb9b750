/*
 * quota_db - quota counters in LMDB (see quota_db.h)
 *
 * The encoding of counter keys and values lives here and only here.
 * Reads are bounds-checked: a value that is not exactly 24 (or, written
 * by an earlier version, 32) bytes, or whose window is inverted, is
 * reported as corrupt with the counter it belongs to, never half-used.
 *
 * Deleting while a cursor walks the same table is avoided: reclaim and
 * reset first collect the keys, then delete them.
 * Ownership: nothing allocated outlives a call. Threads: as db.h.
 * Errors: 0 / -1 and -1 / 0 / 1 with the reason in the txn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "hash64.h"
#include "quota_db.h"
#include "sha256.h"
#include "xalloc.h"

#define QUOTA_VAL_LEN	32	/* count | start | end | index stamp (old) */
#define QUOTA_VAL_V1	24	/* count | start | end: written today */

static const char *const quota_kind_names[] = {
	[QUOTA_MSGS_HOUR] = "msgs_per_hour",
	[QUOTA_RCPTS_DAY] = "rcpts_per_day",
	[QUOTA_RCPT_HOUR] = "per_rcpt_per_hour",
	[QUOTA_SEND] = "per_send",
};

const char *
quota_kind_name(enum quota_kind k)
{
	if ((unsigned)k >= sizeof(quota_kind_names) /
	    sizeof(quota_kind_names[0]) || quota_kind_names[k] == NULL)
		return "unknown";
	return quota_kind_names[k];
}

int
quota_key_make(struct quota_key *k, enum quota_scope scope, const char *id,
    enum quota_kind kind, const void *tail, size_t tlen)
{
	char hex[SHA256_HEX_LEN + 1];
	size_t n = id != NULL ? strlen(id) : 0;

	if (n == 0 || n > 255)
		return -1;
	if (tail == NULL)
		tlen = 0;
	if (tlen > QUOTA_TAIL_MAX) {
		sha256_hex(tail, tlen, hex);
		hex[0] = '#';	/* cannot start a real recipient's hash */
		tail = hex;
		tlen = SHA256_HEX_LEN;
	}
	k->buf[0] = (uint8_t)scope;
	memcpy(k->buf + 1, id, n);
	k->buf[1 + n] = '\0';
	k->buf[2 + n] = (uint8_t)kind;
	if (tlen > 0)
		memcpy(k->buf + 3 + n, tail, tlen);
	k->len = 3 + n + tlen;
	k->hash = hash64(k->buf, k->len, 0);
	return 0;
}

enum quota_kind
quota_key_kind(const uint8_t *key, size_t klen, size_t *tlen)
{
	const uint8_t *nul = klen > 1 ? memchr(key + 1, '\0', klen - 1) :
	    NULL;
	size_t off;

	*tlen = 0;
	if (nul == NULL || (off = (size_t)(nul - key) + 2) > klen)
		return 0;
	*tlen = klen - off;
	return (enum quota_kind)nul[1];
}

/* The key as text for error messages: "C acme msgs_per_hour". */
static void
quota_key_text(const uint8_t *key, size_t klen, char *buf, size_t len)
{
	const uint8_t *nul = memchr(key + 1, '\0', klen > 1 ? klen - 1 : 0);
	size_t idlen;

	if (klen < 3 || nul == NULL || (size_t)(nul - key) + 2 > klen) {
		snprintf(buf, len, "(bad key of %zu bytes)", klen);
		return;
	}
	idlen = (size_t)(nul - key) - 1;
	snprintf(buf, len, "%s %.*s %s", key[0] == QUOTA_LOGIN ? "login" :
	    "customer", (int)(idlen > 255 ? 255 : idlen),
	    (const char *)key + 1, quota_kind_name(nul[1]));
}

static int
quota_decode(struct db_txn *txn, const uint8_t *key, size_t klen,
    const void *val, size_t vlen, struct quota_counter *c)
{
	char text[320];

	if (vlen == QUOTA_VAL_LEN || vlen == QUOTA_VAL_V1) {
		c->count = bytes_get_le64(val);
		c->start = (int64_t)bytes_get_le64((const uint8_t *)val + 8);
		c->end = (int64_t)bytes_get_le64((const uint8_t *)val + 16);
		if (c->start < c->end)
			return 0;
	}
	quota_key_text(key, klen, text, sizeof(text));
	return db_txn_fail(txn, "quota counter %s: corrupt record", text);
}

/* The raw stored counter: -1 / 0 absent / 1. */
static int
quota_raw_get(struct db_txn *txn, const uint8_t *key, size_t klen,
    struct quota_counter *c)
{
	const void *val;
	size_t vlen;
	int rc;

	rc = db_get(txn, DB_QUOTA, key, klen, &val, &vlen);
	if (rc <= 0)
		return rc;
	return quota_decode(txn, key, klen, val, vlen, c) < 0 ? -1 :
	    1;
}

int
quota_db_get_stored(struct db_txn *txn, const struct quota_key *k,
    struct quota_counter *c)
{
	memset(c, 0, sizeof(*c));
	return quota_raw_get(txn, k->buf, k->len, c);
}

int
quota_db_get(struct db_txn *txn, const struct quota_key *k, int64_t now,
    struct quota_counter *c)
{
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = quota_raw_get(txn, k->buf, k->len, c)) <= 0)
		return rc;
	if (now < c->start || now >= c->end) {
		memset(c, 0, sizeof(*c));
		return 0;
	}
	return 1;
}

/* The value of c, in the current format (no index stamp). */
static int
quota_put(struct db_txn *txn, const struct quota_key *k,
    const struct quota_counter *c)
{
	uint8_t val[QUOTA_VAL_V1];

	bytes_put_le64(val, c->count);
	bytes_put_le64(val + 8, (uint64_t)c->start);
	bytes_put_le64(val + 16, (uint64_t)c->end);
	return db_put(txn, DB_QUOTA, k->buf, k->len, val, sizeof(val));
}

int
quota_db_charge(struct db_txn *txn, const struct quota_key *k,
    const struct quota_counter *cur, uint64_t n, int64_t start, int64_t end,
    struct quota_counter *out)
{
	struct quota_counter c = *cur;

	if (c.start >= c.end) {	/* no current window: a new one */
		if (start >= end)
			return db_txn_fail(txn, "quota: bad window [%lld, "
			    "%lld)", (long long)start, (long long)end);
		c.count = 0;
		c.start = start;
		c.end = end;
	}
	c.count = c.count > UINT64_MAX - n ? UINT64_MAX : c.count + n;
	if (quota_put(txn, k, &c) < 0)
		return -1;
	if (out != NULL)
		*out = c;
	return 0;
}

int
quota_db_add(struct db_txn *txn, const struct quota_key *k, uint64_t n,
    int64_t now, int64_t start, int64_t end, struct quota_counter *out)
{
	struct quota_counter c;

	if (start >= end || now < start || now >= end)
		return db_txn_fail(txn, "quota: bad window [%lld, %lld) at "
		    "%lld", (long long)start, (long long)end, (long long)now);
	if (quota_db_get(txn, k, now, &c) < 0)
		return -1;
	return quota_db_charge(txn, k, &c, n, start, end, out);
}

int
quota_db_sub(struct db_txn *txn, const struct quota_key *k, uint64_t n,
    int64_t start, int64_t end)
{
	struct quota_counter c;
	int rc;

	if ((rc = quota_raw_get(txn, k->buf, k->len, &c)) <= 0)
		return rc;	/* gone (reclaimed): nothing to give back */
	if (c.start != start || c.end != end)
		return 0;	/* a later window: the charge is history */
	c.count = c.count > n ? c.count - n : 0;
	return quota_put(txn, k, &c);
}

/* Keys collected by a walk, deleted after it. */
struct quota_keys {
	uint8_t	**v;
	size_t	 *len;
	size_t	  n;
};

static void
quota_keys_push(struct quota_keys *ks, const void *key, size_t klen)
{
	ks->v = xrealloc(ks->v, (ks->n + 1) * sizeof(*ks->v));
	ks->len = xrealloc(ks->len, (ks->n + 1) * sizeof(*ks->len));
	ks->v[ks->n] = xmalloc(klen);
	memcpy(ks->v[ks->n], key, klen);
	ks->len[ks->n++] = klen;
}

static void
quota_keys_free(struct quota_keys *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->v[i]);
	free(ks->v);
	free(ks->len);
}

/* Delete the collected keys from table t; -1 on error. */
static long
quota_keys_del(struct db_txn *txn, enum db_table t, struct quota_keys *ks)
{
	long deleted = 0;
	int d;

	for (size_t i = 0; i < ks->n; i++) {
		if ((d = db_del(txn, t, ks->v[i], ks->len[i])) < 0)
			return -1;
		deleted += d;
	}
	return deleted;
}

struct quota_sweep {
	struct quota_keys dead;
	struct quota_key *resume;
	long		  seen, max;
	int64_t		  now;
};

static int
quota_sweep_cb(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct quota_sweep *sw = arg;

	if (sw->seen++ >= sw->max) {	/* enough: the next run starts here */
		if (klen <= QUOTA_KEY_MAX) {
			memcpy(sw->resume->buf, key, klen);
			sw->resume->len = klen;
		}
		return 1;
	}
	/* Ended, or not a counter at all (corrupt): garbage either way. */
	if ((vlen != QUOTA_VAL_LEN && vlen != QUOTA_VAL_V1) ||
	    (int64_t)bytes_get_le64((const uint8_t *)val + 16) <= sw->now)
		quota_keys_push(&sw->dead, key, klen);
	return 0;
}

static int
quota_legacy_cb(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct quota_sweep *sw = arg;

	if (sw->seen++ >= sw->max)
		return 1;
	quota_keys_push(&sw->dead, key, klen);
	return 0;
}

long
quota_db_reclaim(struct db_txn *txn, int64_t now, long max,
    struct quota_key *resume)
{
	struct quota_sweep sw = { .resume = resume, .max = max, .now = now };
	struct quota_key from = *resume;
	long deleted;
	int rc;

	resume->len = 0;	/* unless the walk stops early */
	rc = db_iter_from(txn, DB_QUOTA, from.buf, from.len, quota_sweep_cb,
	    &sw);
	deleted = rc < 0 ? -1 : quota_keys_del(txn, DB_QUOTA, &sw.dead);
	quota_keys_free(&sw.dead);
	if (deleted < 0)
		return -1;
	/* The expiry index of earlier versions: emptied, a slice a run. */
	memset(&sw.dead, 0, sizeof(sw.dead));
	sw.seen = 0;
	rc = db_iter(txn, DB_QUOTA_EXPIRY, NULL, 0, quota_legacy_cb, &sw);
	if (rc < 0 || quota_keys_del(txn, DB_QUOTA_EXPIRY, &sw.dead) < 0)
		deleted = -1;
	quota_keys_free(&sw.dead);
	return deleted;
}

struct quota_each {
	struct db_txn	*txn;
	size_t		 plen;
	int64_t		 now;
	int		 failed;
	int		 (*fn)(enum quota_kind, const uint8_t *, size_t,
			    const struct quota_counter *, void *);
	void		*arg;
};

static int
quota_each_cb(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct quota_each *e = arg;
	const uint8_t *k = key;
	struct quota_counter c;

	if (klen <= e->plen || quota_decode(e->txn, key, klen, val, vlen,
	    &c) < 0) {
		e->failed = 1;
		return db_txn_fail(e->txn, "quota: corrupt counter record");
	}
	if (e->now < c.start || e->now >= c.end)
		return 0;
	return e->fn((enum quota_kind)k[e->plen], k + e->plen + 1,
	    klen - e->plen - 1, &c, e->arg);
}

int
quota_db_each(struct db_txn *txn, enum quota_scope scope, const char *id,
    int64_t now, int (*fn)(enum quota_kind, const uint8_t *, size_t,
    const struct quota_counter *, void *), void *arg)
{
	struct quota_each e = { txn, 0, now, 0, fn, arg };
	struct quota_key k;
	int rc;

	if (quota_key_make(&k, scope, id, QUOTA_MSGS_HOUR, NULL, 0) < 0)
		return db_txn_fail(txn, "quota: bad id '%.64s'", id != NULL ?
		    id : "");
	e.plen = k.len - 1;	/* scope|id|NUL */
	rc = db_iter(txn, DB_QUOTA, k.buf, e.plen, quota_each_cb, &e);
	return e.failed ? -1 : rc;
}

static int
quota_collect_cb(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	quota_keys_push(arg, key, klen);
	return 0;
}

long
quota_db_reset(struct db_txn *txn, enum quota_scope scope, const char *id)
{
	struct quota_keys ks = { 0 };
	struct quota_key k;
	long deleted = -1;

	if (quota_key_make(&k, scope, id, QUOTA_MSGS_HOUR, NULL, 0) < 0)
		return db_txn_fail(txn, "quota: bad id '%.64s'", id != NULL ?
		    id : "");
	if (db_iter(txn, DB_QUOTA, k.buf, k.len - 1, quota_collect_cb,
	    &ks) >= 0)
		deleted = quota_keys_del(txn, DB_QUOTA, &ks);
	quota_keys_free(&ks);
	return deleted;
}

struct quota_scan {
	int	(*fn)(const uint8_t *, size_t, const struct quota_counter *,
		    void *);
	void	*arg;
};

static int
quota_scan_cb(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct quota_scan *sc = arg;
	struct quota_counter c;

	if (vlen != QUOTA_VAL_LEN && vlen != QUOTA_VAL_V1)
		return sc->fn(key, klen, NULL, sc->arg);	/* corrupt */
	c.count = bytes_get_le64(val);
	c.start = (int64_t)bytes_get_le64((const uint8_t *)val + 8);
	c.end = (int64_t)bytes_get_le64((const uint8_t *)val + 16);
	if (c.start >= c.end)
		return sc->fn(key, klen, NULL, sc->arg);
	return sc->fn(key, klen, &c, sc->arg);
}

int
quota_db_scan(struct db_txn *txn, int (*fn)(const uint8_t *, size_t,
    const struct quota_counter *, void *), void *arg)
{
	struct quota_scan sc = { fn, arg };

	return db_iter(txn, DB_QUOTA, NULL, 0, quota_scan_cb, &sc);
}
