/*
 * quota - the engine's quota state: pending reservations, the group
 * commit, the reclaim timer (see quota.h)
 *
 * The pending table is a chained hash of counter keys to reserved counts,
 * in QUOTA_PARTS parts by customer, each under its own mutex (a check
 * and reserve holds it for microseconds, five times per message of five
 * recipients: under one mutex for all, a thread preempted while holding
 * it stopped every other); an entry exists only while something is
 * reserved, so the table holds the in-flight transactions' counters and
 * no more.
 * Ownership: quota_new() returns an object freed by quota_free().
 * Threads: see quota.h. Errors: none here; writes report theirs.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_batch.h"
#include "hash64.h"
#include "log.h"
#include "quota.h"
#include "xalloc.h"

#define QUOTA_PARTS		64
#define QUOTA_BUCKETS		256	/* per part */
/*
 * Entries whose key fits PENDING_SMALL bytes (nearly all: a customer id
 * and a recipient) are all that size and are kept for reuse, up to
 * PENDING_SPARE per part: a message of five recipients makes and drops
 * seven of them.
 */
#define PENDING_SMALL		96
#define PENDING_SPARE		64
/*
 * The sweep of ended counters: a slice every QUOTA_RECLAIM_EVERY seconds,
 * of at least QUOTA_SLICE_MIN counters and enough that a pass over the
 * whole table takes at most QUOTA_PASS_SLICES slices (10 minutes), so an
 * ended counter lives at most that long after its window.
 */
#define QUOTA_RECLAIM_EVERY	10	/* seconds */
#define QUOTA_SLICE_MIN		20000	/* counters visited per slice */
#define QUOTA_PASS_SLICES	60

struct pending {
	struct pending	*next;
	uint64_t	 hash;		/* the key's */
	uint64_t	 n;
	size_t		 klen;
	uint8_t		 key[];
};

struct quota_part {
	pthread_mutex_t	 mu;
	struct pending	*bucket[QUOTA_BUCKETS];
	struct pending	*spare;		/* small entries for reuse */
	size_t		 nspare;
};

struct quota {
	struct db	*db;
	struct db_batch	*batch;
	struct quota_cache *cache;
	struct quota_part part[QUOTA_PARTS];
	atomic_llong	 next_reclaim;
	struct quota_key sweep_at;	/* where the next slice starts */
};

struct quota *
quota_new(struct db *db)
{
	struct quota *q = xcalloc(1, sizeof(*q));
	char err[512];

	q->db = db;
	q->batch = db_batch_new(db);
	if ((q->cache = quota_cache_new(db, (int64_t)time(NULL), err,
	    sizeof(err))) == NULL)
		log_msg(LOG_ERR, NULL, "quota: counters not cached, every "
		    "check reads the database: %s", err);
	for (size_t i = 0; i < QUOTA_PARTS; i++)
		pthread_mutex_init(&q->part[i].mu, NULL);
	atomic_init(&q->next_reclaim, 0);
	return q;
}

struct db *
quota_db(struct quota *q)
{
	return q->db;
}

struct quota_cache *
quota_counters_cache(struct quota *q)
{
	return q->cache;
}

void
quota_free(struct quota *q)
{
	struct pending *p, *next;

	if (q == NULL)
		return;
	for (size_t i = 0; i < QUOTA_PARTS; i++) {
		for (size_t j = 0; j < QUOTA_BUCKETS; j++)
			for (p = q->part[i].bucket[j]; p != NULL; p = next) {
				next = p->next;
				free(p);
			}
		for (p = q->part[i].spare; p != NULL; p = next) {
			next = p->next;
			free(p);
		}
		pthread_mutex_destroy(&q->part[i].mu);
	}
	db_batch_free(q->batch);
	quota_cache_free(q->cache);
	free(q);
}

static struct pending **
quota_find(struct quota_part *qp, const struct quota_key *k)
{
	struct pending **pp = &qp->bucket[k->hash % QUOTA_BUCKETS];

	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->hash == k->hash && (*pp)->klen == k->len &&
		    memcmp((*pp)->key, k->buf, k->len) == 0)
			break;
	return pp;
}

struct quota_part *
quota_part(struct quota *q, const char *customer)
{
	return &q->part[hash64(customer, strlen(customer), 0) % QUOTA_PARTS];
}

void
quota_lock(struct quota_part *qp)
{
	pthread_mutex_lock(&qp->mu);
}

void
quota_unlock(struct quota_part *qp)
{
	pthread_mutex_unlock(&qp->mu);
}

/* Called with the lock held. */
uint64_t
quota_pending(struct quota_part *qp, const struct quota_key *k)
{
	struct pending *p = *quota_find(qp, k);

	return p != NULL ? p->n : 0;
}

/* Called with the lock held. */
void
quota_pending_add(struct quota_part *qp, const struct quota_key *k,
    int64_t delta)
{
	struct pending **pp = quota_find(qp, k), *p = *pp;

	if (p == NULL) {
		if (delta <= 0)
			return;
		if (k->len > PENDING_SMALL)
			p = xmalloc(sizeof(*p) + k->len);
		else if ((p = qp->spare) != NULL) {
			qp->spare = p->next;
			qp->nspare--;
		} else
			p = xmalloc(sizeof(*p) + PENDING_SMALL);
		p->next = NULL;
		p->hash = k->hash;
		p->n = 0;
		p->klen = k->len;
		memcpy(p->key, k->buf, k->len);
		*pp = p;
	}
	if (delta < 0 && (uint64_t)-delta >= p->n) {
		*pp = p->next;
		if (p->klen <= PENDING_SMALL && qp->nspare < PENDING_SPARE) {
			p->next = qp->spare;
			qp->spare = p;
			qp->nspare++;
		} else
			free(p);
		return;
	}
	p->n = (uint64_t)((int64_t)p->n + delta);
}

int
quota_write(struct quota *q, int (*fn)(struct db_txn *, void *),
    void (*committed)(void *, uint64_t), void *arg, char *err, size_t errlen)
{
	return db_batch_write(q->batch, fn, committed, arg, err, errlen);
}

struct quota_reclaim {
	struct quota	*q;
	int64_t		 now;
	long		 deleted;
};

/* One slice; only the caller that won next_reclaim touches sweep_at. */
static int
quota_reclaim_txn(struct db_txn *txn, void *arg)
{
	struct quota_reclaim *r = arg;
	struct quota_key at = r->q->sweep_at;
	long n = db_count(txn, DB_QUOTA), slice;

	if (n < 0)
		return -1;
	slice = n / QUOTA_PASS_SLICES;
	if (slice < QUOTA_SLICE_MIN)
		slice = QUOTA_SLICE_MIN;
	r->deleted = quota_db_reclaim(txn, r->now, slice, &at);
	if (r->deleted < 0)
		return -1;
	r->q->sweep_at = at;	/* a batch failed later skips a slice: harmless */
	return 0;
}

/*
 * The sweep deleted only counters whose window had ended (they read as
 * zero, cached or not) and values that were not counters (never cached).
 */
static void
quota_reclaim_committed(void *arg, uint64_t txnid)
{
	struct quota_reclaim *r = arg;

	quota_cache_commit_begin(r->q->cache, txnid, r->now);
	quota_cache_commit_end(r->q->cache);
}

void
quota_maybe_reclaim(struct quota *q, int64_t now, const char *logid)
{
	long long due = atomic_load(&q->next_reclaim);
	struct quota_reclaim r = { q, now, 0 };
	char err[512];

	if (now < due || !atomic_compare_exchange_strong(&q->next_reclaim,
	    &due, (long long)now + QUOTA_RECLAIM_EVERY))
		return;
	if (quota_write(q, quota_reclaim_txn, quota_reclaim_committed, &r,
	    err, sizeof(err)) < 0)
		log_msg(LOG_ERR, logid, "quota: reclaiming expired counters "
		    "failed: %s", err);
	else if (r.deleted > 0)
		log_msg(LOG_DEBUG, logid, "quota: reclaimed %ld expired "
		    "counters", r.deleted);
}
