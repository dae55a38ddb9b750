/*
 * quota_cache - the committed quota counters, known in memory (see
 * quota_cache.h for what is kept and why it is exact)
 *
 * Values: a chained hash table of customer-wide counters (key, present,
 * stored counter). Filters: QCACHE_FILTERS Bloom filters (bloom.h),
 * each for one hour [start, start + 1 h) holding every per-recipient and
 * per-send key whose window overlaps it. A filter for a newer window replaces the oldest; a window
 * older than every filter has none (lookups in it read LMDB).
 *
 * complete_from: no counter whose window reaches into an hour starting at
 * or after this time existed at the last scan (at start, and after a
 * commit of another process); a filter created for such an hour starts
 * complete.
 *
 * Ownership: entries and filters belong to the cache.
 * Threads: one mutex over everything; db_last_txnid() is read before it.
 * Errors: allocation failure aborts (xalloc); the scan's is returned.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bloom.h"
#include "hash64.h"
#include "log.h"
#include "quota_cache.h"
#include "xalloc.h"

#define QCACHE_BUCKETS		16384
#define QCACHE_VALUES_MAX	131072	/* entries; then emptied */
#define QCACHE_FILTERS		2
#define QCACHE_FILTER_KEYS	1600000	/* 10 bits each: 2 MB a filter */
#define QCACHE_NO_WINDOW	INT64_MIN

struct qvalue {
	struct qvalue	*next;
	uint64_t	 hash;
	struct quota_counter c;
	int		 present;
	size_t		 klen;
	uint8_t		 key[];
};

struct qfilter {
	int64_t		 start;		/* QCACHE_NO_WINDOW: unused */
	int		 complete;
	struct bloom	 bl;
};

struct quota_cache {
	struct db	*db;
	pthread_rwlock_t lk;		/* lookups share it */
	uint64_t	 known;		/* the commit the cache shows */
	int64_t		 complete_from;
	struct qvalue	*bucket[QCACHE_BUCKETS];
	size_t		 nvalues;
	struct qfilter	 filter[QCACHE_FILTERS];
	atomic_ulong	 hits, misses;	/* counted under the shared lock */
	unsigned long	 scans;
};

static int64_t
hour_of(int64_t t)
{
	int64_t r = t % QCACHE_HOUR;

	return t - (r < 0 ? r + QCACHE_HOUR : r);
}

/* ---- values ---- */

static struct qvalue **
qvalue_find(struct quota_cache *qc, const uint8_t *key, size_t klen,
    uint64_t h)
{
	struct qvalue **pp = &qc->bucket[h % QCACHE_BUCKETS];

	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->klen == klen &&
		    memcmp((*pp)->key, key, klen) == 0)
			break;
	return pp;
}

static void
qvalue_clear(struct quota_cache *qc)
{
	struct qvalue *v, *next;

	for (size_t i = 0; i < QCACHE_BUCKETS; i++) {
		for (v = qc->bucket[i]; v != NULL; v = next) {
			next = v->next;
			free(v);
		}
		qc->bucket[i] = NULL;
	}
	qc->nvalues = 0;
}

static void
qvalue_set(struct quota_cache *qc, const struct quota_key *k, int present,
    const struct quota_counter *c)
{
	uint64_t h = k->hash;
	struct qvalue **pp = qvalue_find(qc, k->buf, k->len, h), *v = *pp;

	if (v == NULL) {
		if (qc->nvalues >= QCACHE_VALUES_MAX) {
			qvalue_clear(qc);	/* refilled by reads */
			pp = qvalue_find(qc, k->buf, k->len, h);
		}
		v = xmalloc(sizeof(*v) + k->len);
		v->next = NULL;
		v->hash = h;
		v->klen = k->len;
		memcpy(v->key, k->buf, k->len);
		*pp = v;
		qc->nvalues++;
	}
	v->present = present;
	if (present)
		v->c = *c;
	else
		memset(&v->c, 0, sizeof(v->c));
}

static void
qvalue_drop(struct quota_cache *qc, const struct quota_key *k)
{
	uint64_t h = k->hash;
	struct qvalue **pp = qvalue_find(qc, k->buf, k->len, h), *v = *pp;

	if (v != NULL) {
		*pp = v->next;
		free(v);
		qc->nvalues--;
	}
}

/* ---- filters ---- */

/* The filter of the hour starting at w, made if create allows. */
static struct qfilter *
qfilter_for(struct quota_cache *qc, int64_t w, int create)
{
	struct qfilter *f, *old = &qc->filter[0];

	for (int i = 0; i < QCACHE_FILTERS; i++) {
		f = &qc->filter[i];
		if (f->start == w)
			return f;
		if (f->start < old->start)
			old = f;
	}
	if (!create || (old->start != QCACHE_NO_WINDOW && old->start > w))
		return NULL;	/* older than every filter kept */
	bloom_clear(&old->bl);
	old->start = w;
	old->complete = w >= qc->complete_from;
	return old;
}

/* A per-recipient counter stored with window c: into the filters. */
static void
qfilter_put(struct quota_cache *qc, uint64_t h, const struct quota_counter *c)
{
	struct qfilter *f;
	int n = 0;

	/* Every hour the window overlaps (one, for aligned windows). */
	for (int64_t w = hour_of(c->start); w < c->end && n < QCACHE_FILTERS;
	    w += QCACHE_HOUR, n++)
		if ((f = qfilter_for(qc, w, 1)) != NULL)
			bloom_add(&f->bl, h);
}

/* Kept by presence: per-recipient and per-send counters. */
static int
qfiltered(enum quota_kind kind, size_t tlen)
{
	return tlen > 0 && (kind == QUOTA_RCPT_HOUR || kind == QUOTA_SEND);
}

/* ---- the scan ---- */

/*
 * A scan reads the table into a filter of its own (scratch) for hour w,
 * holding no lock of the cache: it opens a read transaction, which takes
 * the database's lock, and the charges take the cache's lock inside
 * their write transactions; taking them the other way round could stall
 * a map resize (lock order: database, then cache). qscan_install() then
 * puts the result in place under the cache's exclusive lock.
 */
struct qscan {
	struct bloom	 bl;		/* the keys overlapping hour w */
	int64_t		 w;
	int64_t		 maxend;	/* latest window end seen */
};

static int
qscan_cb(const uint8_t *key, size_t klen, const struct quota_counter *c,
    void *arg)
{
	struct qscan *sc = arg;
	enum quota_kind kind;
	size_t tlen;

	kind = quota_key_kind(key, klen, &tlen);
	if (!qfiltered(kind, tlen))
		return 0;
	if (c == NULL) {	/* corrupt: LMDB must be asked, and says so */
		bloom_add(&sc->bl, hash64(key, klen, 0));
		return 0;
	}
	if (c->end > sc->w && c->start < sc->w + QCACHE_HOUR)
		bloom_add(&sc->bl, hash64(key, klen, 0));
	if (c->end > sc->maxend)
		sc->maxend = c->end;
	return 0;
}

/* Hour w's keys from the table as db has it now: 0, or -1 with err. */
static int
qscan_collect(struct db *db, int64_t w, struct qscan *sc, char *err,
    size_t errlen)
{
	struct db_txn *rt;
	int rc;

	sc->w = w;
	sc->maxend = INT64_MIN;
	bloom_init(&sc->bl, QCACHE_FILTER_KEYS);
	if ((rt = db_read_begin(db, err, errlen)) == NULL) {
		bloom_free(&sc->bl);
		return -1;
	}
	rc = quota_db_scan(rt, qscan_cb, sc);
	if (rc < 0)
		snprintf(err, errlen, "%s", db_txn_error(rt));
	db_read_end(rt);
	if (rc < 0)
		bloom_free(&sc->bl);
	return rc < 0 ? -1 : 0;
}

/*
 * Under the exclusive lock: the hour a scan should fill, now's, or if
 * now is older than every filter kept (a charge whose clock was read
 * before the hour turned, a clock stepped back) the newest one's.
 */
static int64_t
qscan_hour(struct quota_cache *qc, int64_t now)
{
	struct qfilter *f;

	if (qfilter_for(qc, hour_of(now), 1) != NULL)
		return hour_of(now);
	f = &qc->filter[0];
	for (int i = 1; i < QCACHE_FILTERS; i++)
		if (qc->filter[i].start > f->start)
			f = &qc->filter[i];
	return f->start;
}

/*
 * Under the exclusive lock: the scan becomes hour sc->w's filter, which
 * is complete; the table's windows tell from when on later hours start
 * complete (a filter already made for a later hour stays incomplete
 * unless it starts there); earlier hours stay incomplete. 0, or -1 if
 * the hour is no longer kept (every filter then stays incomplete).
 */
static int
qscan_install(struct quota_cache *qc, struct qscan *sc)
{
	struct qfilter *f = qfilter_for(qc, sc->w, 1);
	struct bloom old;

	for (int i = 0; i < QCACHE_FILTERS; i++)
		qc->filter[i].complete = 0;
	if (f == NULL) {
		bloom_free(&sc->bl);
		return -1;
	}
	old = f->bl;
	f->bl = sc->bl;
	bloom_free(&old);
	f->complete = 1;
	qc->complete_from = sc->maxend > sc->w + QCACHE_HOUR ? sc->maxend :
	    sc->w + QCACHE_HOUR;
	for (int i = 0; i < QCACHE_FILTERS; i++)
		if (&qc->filter[i] != f &&
		    qc->filter[i].start != QCACHE_NO_WINDOW &&
		    qc->filter[i].start >= qc->complete_from)
			qc->filter[i].complete = 1;
	qc->scans++;
	return 0;
}

struct quota_cache *
quota_cache_new(struct db *db, int64_t now, char *err, size_t errlen)
{
	struct quota_cache *qc = xcalloc(1, sizeof(*qc));
	pthread_rwlockattr_t ra;
	struct qscan sc;

	qc->db = db;
	/* Commits must not wait behind a stream of lookups. */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&qc->lk, &ra);
	pthread_rwlockattr_destroy(&ra);
	for (int i = 0; i < QCACHE_FILTERS; i++) {
		qc->filter[i].start = QCACHE_NO_WINDOW;
		bloom_init(&qc->filter[i].bl, QCACHE_FILTER_KEYS);
	}
	qc->complete_from = INT64_MAX;	/* nothing complete until scanned */
	qc->known = db_last_txnid(db);	/* before: a later commit is a gap */
	if (qscan_collect(db, qscan_hour(qc, now), &sc, err, errlen) < 0 ||
	    qscan_install(qc, &sc) < 0) {
		quota_cache_free(qc);
		return NULL;
	}
	return qc;
}

void
quota_cache_free(struct quota_cache *qc)
{
	if (qc == NULL)
		return;
	qvalue_clear(qc);
	for (int i = 0; i < QCACHE_FILTERS; i++)
		bloom_free(&qc->filter[i].bl);
	pthread_rwlock_destroy(&qc->lk);
	free(qc);
}

/* ---- lookups ---- */

/*
 * Under the lock (shared: nothing here writes), with the cache current:
 * 1 known / 0 not. (quota_cache_begin made the filter of now's hour.)
 */
static int
qcache_lookup(struct quota_cache *qc, const struct quota_key *k,
    int64_t now, struct quota_counter *c)
{
	enum quota_kind kind;
	struct qvalue *v;
	struct qfilter *f;
	size_t tlen;

	kind = quota_key_kind(k->buf, k->len, &tlen);
	if (kind != 0 && tlen == 0) {
		v = *qvalue_find(qc, k->buf, k->len, k->hash);
		if (v == NULL)
			return 0;
		if (v->present && now >= v->c.start && now < v->c.end)
			*c = v->c;
		return 1;
	}
	if (!qfiltered(kind, tlen))
		return 0;
	f = qfilter_for(qc, hour_of(now), 0);
	return f != NULL && f->complete && !bloom_may_have(&f->bl, k->hash);
}

int
quota_cache_begin(struct quota_cache *qc, int64_t now)
{
	int64_t w = hour_of(now);
	uint64_t last;

	if (qc == NULL)
		return 0;
	last = db_last_txnid(qc->db);
	pthread_rwlock_rdlock(&qc->lk);
	if (qfilter_for(qc, w, 0) == NULL) {	/* a new hour: make it */
		pthread_rwlock_unlock(&qc->lk);
		pthread_rwlock_wrlock(&qc->lk);
		(void)qfilter_for(qc, w, 1);
		pthread_rwlock_unlock(&qc->lk);
		pthread_rwlock_rdlock(&qc->lk);
	}
	return last == qc->known;
}

int
quota_cache_lookup(struct quota_cache *qc, int current,
    const struct quota_key *k, int64_t now, struct quota_counter *c)
{
	int known;

	memset(c, 0, sizeof(*c));
	if (qc == NULL)
		return 0;
	known = current && qcache_lookup(qc, k, now, c);
	atomic_fetch_add_explicit(known ? &qc->hits : &qc->misses, 1,
	    memory_order_relaxed);
	return known;
}

void
quota_cache_prefetch(struct quota_cache *qc, const struct quota_key *k,
    int64_t now)
{
	enum quota_kind kind;
	struct qfilter *f;
	size_t tlen;

	if (qc == NULL)
		return;
	kind = quota_key_kind(k->buf, k->len, &tlen);
	if (kind != 0 && tlen == 0)
		__builtin_prefetch(&qc->bucket[k->hash % QCACHE_BUCKETS]);
	else if (qfiltered(kind, tlen) &&
	    (f = qfilter_for(qc, hour_of(now), 0)) != NULL)
		bloom_prefetch(&f->bl, k->hash);
}

void
quota_cache_end(struct quota_cache *qc)
{
	if (qc != NULL)
		pthread_rwlock_unlock(&qc->lk);
}

int
quota_cache_get(struct quota_cache *qc, const struct quota_key *k,
    int64_t now, struct quota_counter *c)
{
	int known, current;

	current = quota_cache_begin(qc, now);
	known = quota_cache_lookup(qc, current, k, now, c);
	quota_cache_end(qc);
	return known;
}

void
quota_cache_fill(struct quota_cache *qc, uint64_t txnid,
    const struct quota_key *k, int present, const struct quota_counter *c)
{
	size_t tlen;

	if (qc == NULL || quota_key_kind(k->buf, k->len, &tlen) == 0 ||
	    tlen != 0)
		return;
	pthread_rwlock_wrlock(&qc->lk);
	if (txnid == qc->known)
		qvalue_set(qc, k, present, c);
	pthread_rwlock_unlock(&qc->lk);
}

/* ---- commits ---- */

void
quota_cache_commit_begin(struct quota_cache *qc, uint64_t txnid,
    int64_t now)
{
	char err[512];
	struct qscan sc;
	int64_t from, w;
	int scanned;

	if (qc == NULL)
		return;
	pthread_rwlock_wrlock(&qc->lk);
	if (txnid == 0)
		return;		/* nothing was committed: known stays */
	if (txnid == qc->known || txnid == qc->known + 1) {
		qc->known = txnid;
		return;		/* ours, in order: the puts follow */
	}
	/*
	 * Another process committed since (aupctl quota reset, a second
	 * daemon): what it changed is unknown. Values go, to be read
	 * again; the current hour's filter is rebuilt from the table
	 * (aupctl's changes are rare; a scan of a million counters takes a
	 * fraction of a second, during which lookups read LMDB). The scan
	 * holds no lock of the cache (lock order: see the header); only
	 * the group commit's leader calls this, one commit at a time, so
	 * known cannot move meanwhile. If the scan fails, filters are
	 * complete again only for hours the other process cannot have
	 * written into (an hour's margin for its clock).
	 */
	w = qscan_hour(qc, now);
	pthread_rwlock_unlock(&qc->lk);
	scanned = qscan_collect(qc->db, w, &sc, err, sizeof(err)) == 0;
	pthread_rwlock_wrlock(&qc->lk);
	qvalue_clear(qc);
	if (scanned && qscan_install(qc, &sc) < 0) {
		snprintf(err, sizeof(err), "hour %lld no longer kept",
		    (long long)w);
		scanned = 0;
	}
	if (!scanned) {
		log_msg(LOG_ERR, NULL, "quota: counters cache not rebuilt "
		    "(counters are read from the database until the next "
		    "hour): %s", err);
		for (int i = 0; i < QCACHE_FILTERS; i++)
			qc->filter[i].complete = 0;
		from = hour_of(now) + 2 * QCACHE_HOUR;
		if (from > qc->complete_from)
			qc->complete_from = from;
	}
	qc->known = txnid;
}

void
quota_cache_put(struct quota_cache *qc, const struct quota_key *k,
    const struct quota_counter *c)
{
	enum quota_kind kind;
	size_t tlen;

	if (qc == NULL)
		return;
	kind = quota_key_kind(k->buf, k->len, &tlen);
	if (kind != 0 && tlen == 0)
		qvalue_set(qc, k, 1, c);
	else if (qfiltered(kind, tlen))
		qfilter_put(qc, k->hash, c);
}

void
quota_cache_drop(struct quota_cache *qc, const struct quota_key *k)
{
	if (qc != NULL)
		qvalue_drop(qc, k);
}

void
quota_cache_commit_end(struct quota_cache *qc)
{
	if (qc != NULL)
		pthread_rwlock_unlock(&qc->lk);
}

void
quota_cache_stats(struct quota_cache *qc, unsigned long *hits,
    unsigned long *misses, unsigned long *scans)
{
	*hits = *misses = *scans = 0;
	if (qc == NULL)
		return;
	pthread_rwlock_rdlock(&qc->lk);
	*hits = atomic_load(&qc->hits);
	*misses = atomic_load(&qc->misses);
	*scans = qc->scans;
	pthread_rwlock_unlock(&qc->lk);
}
