/*
 * quota_db - quota counters in LMDB (see quota_db.h)
 *
 * The encoding of counter keys and values and of the expiry index lives
 * here and only here. Reads are bounds-checked: a value that is not
 * exactly 32 (or, first format, 24) bytes, or whose window is inverted,
 * is reported as corrupt with the counter it belongs to, never half-used.
 *
 * Deleting while a cursor walks the same table is avoided: reclaim and
 * reset first collect the keys, then delete them.
 * Ownership: nothing allocated outlives a call. Threads: as db.h.
 * Errors: 0 / -1 and -1 / 0 / 1 with the reason in the txn.
 */
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "quota_db.h"
#include "sha256.h"
#include "xalloc.h"

#define QUOTA_VAL_LEN	32	/* count | start | end | stamp */
#define QUOTA_VAL_V1	24	/* the first format: no stamp */
#define QUOTA_IDX_MAX	(16 + QUOTA_KEY_MAX)	/* 496: below LMDB's 511 */
#define QUOTA_IDX_V2	2	/* value of a stamped index entry */

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

/* Big-endian so the index sorts by time; times before 1970 sort first. */
static void
put_be_time(uint8_t *p, int64_t t)
{
	bytes_put_be64(p, t < 0 ? 0 : (uint64_t)t);
}

static int64_t
get_be_time(const uint8_t *p)
{
	uint64_t v = bytes_get_be64(p);

	return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
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
	return 0;
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

/* stamp (may be NULL) gets the index stamp, 0 for the first format. */
static int
quota_decode(struct db_txn *txn, const uint8_t *key, size_t klen,
    const void *val, size_t vlen, struct quota_counter *c, uint64_t *stamp)
{
	char text[320];

	if (vlen == QUOTA_VAL_LEN || vlen == QUOTA_VAL_V1) {
		c->count = bytes_get_le64(val);
		c->start = (int64_t)bytes_get_le64((const uint8_t *)val + 8);
		c->end = (int64_t)bytes_get_le64((const uint8_t *)val + 16);
		if (stamp != NULL)
			*stamp = vlen == QUOTA_VAL_LEN ?
			    bytes_get_le64((const uint8_t *)val + 24) : 0;
		if (c->start < c->end)
			return 0;
	}
	quota_key_text(key, klen, text, sizeof(text));
	return db_txn_fail(txn, "quota counter %s: corrupt record", text);
}

/* The raw stored counter: -1 / 0 absent / 1. */
static int
quota_raw_get(struct db_txn *txn, const uint8_t *key, size_t klen,
    struct quota_counter *c, uint64_t *stamp)
{
	const void *val;
	size_t vlen;
	int rc;

	rc = db_get(txn, DB_QUOTA, key, klen, &val, &vlen);
	if (rc <= 0)
		return rc;
	return quota_decode(txn, key, klen, val, vlen, c, stamp) < 0 ? -1 :
	    1;
}

int
quota_db_get(struct db_txn *txn, const struct quota_key *k, int64_t now,
    struct quota_counter *c)
{
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = quota_raw_get(txn, k->buf, k->len, c, NULL)) <= 0)
		return rc;
	if (now < c->start || now >= c->end) {
		memset(c, 0, sizeof(*c));
		return 0;
	}
	return 1;
}

/* The index key of a counter; stamp 0: the first format. */
static size_t
quota_idx_key(uint8_t *idx, int64_t end, uint64_t stamp, const uint8_t *key,
    size_t klen)
{
	size_t off = stamp != 0 ? 16 : 8;

	put_be_time(idx, end);
	if (stamp != 0)
		put_be_time(idx + 8, (int64_t)stamp);
	memcpy(idx + off, key, klen);
	return off + klen;
}

/* Microseconds of the wall clock, never 0 (0 means "first format"). */
static uint64_t
quota_stamp(void)
{
	struct timespec ts;
	int64_t us;

	clock_gettime(CLOCK_REALTIME, &ts);
	us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	return us > 0 ? (uint64_t)us : 1;
}

int
quota_db_add(struct db_txn *txn, const struct quota_key *k, uint64_t n,
    int64_t now, int64_t start, int64_t end, struct quota_counter *out)
{
	uint8_t val[QUOTA_VAL_LEN], idx[QUOTA_IDX_MAX], v2 = QUOTA_IDX_V2;
	struct quota_counter c;
	uint64_t stamp = 0;
	int rc;

	if (start >= end || now < start || now >= end)
		return db_txn_fail(txn, "quota: bad window [%lld, %lld) at "
		    "%lld", (long long)start, (long long)end, (long long)now);
	if ((rc = quota_raw_get(txn, k->buf, k->len, &c, &stamp)) < 0)
		return -1;
	if (rc == 0 || now < c.start || now >= c.end) {
		c.count = 0;
		c.start = start;
		c.end = end;
		stamp = quota_stamp();
		if (db_put(txn, DB_QUOTA_EXPIRY, idx, quota_idx_key(idx, end,
		    stamp, k->buf, k->len), &v2, 1) < 0)
			return -1;
	}
	c.count = c.count > UINT64_MAX - n ? UINT64_MAX : c.count + n;
	bytes_put_le64(val, c.count);
	bytes_put_le64(val + 8, (uint64_t)c.start);
	bytes_put_le64(val + 16, (uint64_t)c.end);
	bytes_put_le64(val + 24, stamp);
	if (db_put(txn, DB_QUOTA, k->buf, k->len, val, sizeof(val)) < 0)
		return -1;
	if (out != NULL)
		*out = c;
	return 0;
}

int
quota_db_sub(struct db_txn *txn, const struct quota_key *k, uint64_t n,
    int64_t start, int64_t end)
{
	uint8_t val[QUOTA_VAL_LEN];
	struct quota_counter c;
	uint64_t stamp = 0;
	int rc;

	if ((rc = quota_raw_get(txn, k->buf, k->len, &c, &stamp)) <= 0)
		return rc;	/* gone (reclaimed): nothing to give back */
	if (c.start != start || c.end != end)
		return 0;	/* a later window: the charge is history */
	c.count = c.count > n ? c.count - n : 0;
	bytes_put_le64(val, c.count);
	bytes_put_le64(val + 8, (uint64_t)c.start);
	bytes_put_le64(val + 16, (uint64_t)c.end);
	bytes_put_le64(val + 24, stamp);
	return db_put(txn, DB_QUOTA, k->buf, k->len, val, sizeof(val));
}

/* Keys collected by a walk, deleted after it. */
struct quota_keys {
	uint8_t	**v;
	size_t	 *len;
	size_t	 *off;		/* expiry walk: where the counter key starts */
	size_t	  n;
	long	  max;
	int64_t	  now;
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

/* An expiry entry: its key and where the counter key starts in it. */
static void
quota_keys_push_idx(struct quota_keys *ks, const void *key, size_t klen,
    size_t off)
{
	ks->off = xrealloc(ks->off, (ks->n + 1) * sizeof(*ks->off));
	ks->off[ks->n] = off;
	quota_keys_push(ks, key, klen);
}

static void
quota_keys_free(struct quota_keys *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->v[i]);
	free(ks->v);
	free(ks->len);
	free(ks->off);
}

static int
quota_expired_cb(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct quota_keys *ks = arg;
	size_t off = vlen == 1 && *(const uint8_t *)val == QUOTA_IDX_V2 ?
	    16 : 8;

	if ((long)ks->n >= ks->max || klen < off + 3 ||
	    get_be_time(key) > ks->now)
		return 1;	/* the index is in time order: done */
	quota_keys_push_idx(ks, key, klen, off);
	return 0;
}

long
quota_db_reclaim(struct db_txn *txn, int64_t now, long max)
{
	struct quota_keys ks = { .max = max, .now = now };
	const void *val;
	size_t vlen;
	long deleted = 0;
	int rc = 0, r;

	if (db_iter(txn, DB_QUOTA_EXPIRY, NULL, 0, quota_expired_cb, &ks) < 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < ks.n; i++) {
		const uint8_t *key = ks.v[i] + ks.off[i];
		size_t klen = ks.len[i] - ks.off[i];

		if ((r = db_get(txn, DB_QUOTA, key, klen, &val, &vlen)) < 0) {
			rc = -1;
			break;
		}
		/*
		 * A counter renewed since has a later index entry: keep it.
		 * A corrupt one is garbage: drop it.
		 */
		if (r == 1 && ((vlen != QUOTA_VAL_LEN &&
		    vlen != QUOTA_VAL_V1) ||
		    (int64_t)bytes_get_le64((const uint8_t *)val + 16) <= now)) {
			if (db_del(txn, DB_QUOTA, key, klen) < 0)
				rc = -1;
			else
				deleted++;
		}
		if (rc == 0 && db_del(txn, DB_QUOTA_EXPIRY, ks.v[i],
		    ks.len[i]) < 0)
			rc = -1;
	}
	quota_keys_free(&ks);
	return rc < 0 ? -1 : deleted;
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
	    &c, NULL) < 0) {
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

/* Counters of one scope/id and their index entries, for a reset. */
struct quota_reset {
	struct quota_keys counters;
	struct quota_keys index;
};

static int
quota_collect_cb(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	struct quota_reset *r = arg;
	uint8_t idx[QUOTA_IDX_MAX];
	uint64_t stamp;

	quota_keys_push(&r->counters, key, klen);
	if ((vlen == QUOTA_VAL_LEN || vlen == QUOTA_VAL_V1) &&
	    klen <= QUOTA_KEY_MAX) {
		stamp = vlen == QUOTA_VAL_LEN ?
		    bytes_get_le64((const uint8_t *)val + 24) : 0;
		quota_keys_push(&r->index, idx, quota_idx_key(idx,
		    (int64_t)bytes_get_le64((const uint8_t *)val + 16), stamp, key,
		    klen));
	}
	return 0;
}

long
quota_db_reset(struct db_txn *txn, enum quota_scope scope, const char *id)
{
	struct quota_reset r = { { 0 }, { 0 } };
	struct quota_key k;
	long deleted = 0;
	int rc, d;

	if (quota_key_make(&k, scope, id, QUOTA_MSGS_HOUR, NULL, 0) < 0)
		return db_txn_fail(txn, "quota: bad id '%.64s'", id != NULL ?
		    id : "");
	rc = db_iter(txn, DB_QUOTA, k.buf, k.len - 1, quota_collect_cb, &r);
	for (size_t i = 0; rc >= 0 && i < r.counters.n; i++) {
		if ((d = db_del(txn, DB_QUOTA, r.counters.v[i],
		    r.counters.len[i])) < 0)
			rc = -1;
		deleted += d > 0;
	}
	for (size_t i = 0; rc >= 0 && i < r.index.n; i++)
		if (db_del(txn, DB_QUOTA_EXPIRY, r.index.v[i],
		    r.index.len[i]) < 0)
			rc = -1;
	quota_keys_free(&r.counters);
	quota_keys_free(&r.index);
	return rc < 0 ? -1 : deleted;
}
