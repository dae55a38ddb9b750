/*
 * optout_filter - "certainly not on any opt-out list" (see optout_filter.h)
 *
 * State under a read-write lock (lookups share it): the bits, valid_at (a transaction at which the
 * bits held a superset of the table), the entry count they were built
 * from, and the pacing of rebuilds. A caller that finds valid_at behind
 * the environment revalidates in its own read transaction (optout_changed
 * and the count) and, when the filter is stale and no rebuild is due
 * yet, remembers the transaction it found stale so the next callers
 * answer "maybe" without reading again.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bloom.h"
#include "hash64.h"
#include "optout_db.h"
#include "optout_filter.h"
#include "xalloc.h"

struct optout_filter {
	struct db	*db;
	pthread_rwlock_t lk;
	struct bloom	 bl;		/* bits NULL: not built */
	uint64_t	 valid_at;	/* the bits hold the table as of it */
	long		 count;		/* entries when built */
	uint64_t	 stale_at;	/* found stale here; 0: not */
	int64_t		 next_build;
	int		 building;
	atomic_ulong	 no, maybe;	/* counted under the shared lock */
	unsigned long	 builds;
};

/*
 * An address's two keys (global, the customer's) as hashes. Every key of
 * one address is kept in the block chosen by the address alone (where),
 * so both are tested in one cache line.
 */
struct probe {
	int		 maybe;		/* a key that cannot be made */
	int		 n;		/* keys to test */
	uint64_t	 where;
	uint64_t	 h[2];
};

struct optout_filter *
optout_filter_new(struct db *db)
{
	struct optout_filter *f = xcalloc(1, sizeof(*f));

	f->db = db;
	pthread_rwlock_init(&f->lk, NULL);
	return f;
}

void
optout_filter_free(struct optout_filter *f)
{
	if (f == NULL)
		return;
	bloom_free(&f->bl);
	pthread_rwlock_destroy(&f->lk);
	free(f);
}

/* The keys of addr, outside the lock (they do not depend on the bits). */
static void
probe_make(const char *customer, const char *addr, struct probe *p)
{
	uint8_t key[OPTOUT_KEY_MAX];
	size_t n;

	p->maybe = 0;
	p->n = 0;
	p->where = hash64(addr, strlen(addr), 0);
	if ((n = optout_key_bytes(NULL, addr, key)) == 0) {
		p->maybe = 1;
		return;
	}
	p->h[p->n++] = hash64(key, n, 0);
	if (customer == NULL || *customer == '\0')
		return;
	if ((n = optout_key_bytes(customer, addr, key)) == 0) {
		p->maybe = 1;
		return;
	}
	p->h[p->n++] = hash64(key, n, 0);
}

/* Under the lock, with valid bits: may either key be in the table? */
static int
filter_probe(struct optout_filter *f, const struct probe *p)
{
	if (p->maybe)
		return 1;
	for (int i = 0; i < p->n; i++)
		if (bloom_may_have_in(&f->bl, p->where, p->h[i]))
			return 1;
	return 0;
}

/* A table key is "customer NUL address" (optout_key_bytes). */
static int
filter_scan_cb(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	const uint8_t *nul = memchr(key, '\0', klen);
	const uint8_t *addr = nul != NULL ? nul + 1 : key;

	(void)val;
	(void)vlen;
	bloom_add_in(arg, hash64(addr, klen - (size_t)(addr -
	    (const uint8_t *)key), 0), hash64(key, klen, 0));
	return 0;
}

/*
 * Bring the filter up to rt's snapshot: revalidate, or rebuild if one is
 * due (the lock is dropped while scanning). 1 the bits hold rt's table,
 * 0 not (answer "maybe").
 */
static int
filter_refresh(struct optout_filter *f, struct db_txn *rt, int64_t now)
{
	uint64_t snap = db_txn_id(rt), changed;
	long count = db_count(rt, DB_OPTOUT);
	struct bloom nb;

	if (count < 0 || optout_changed(rt, &changed) < 0)
		return 0;
	pthread_rwlock_wrlock(&f->lk);
	if (f->bl.bits != NULL && changed <= f->valid_at && count == f->count) {
		if (snap > f->valid_at)
			f->valid_at = snap;
		pthread_rwlock_unlock(&f->lk);
		return 1;
	}
	if (f->building || now < f->next_build) {
		f->stale_at = db_last_txnid(f->db);
		pthread_rwlock_unlock(&f->lk);
		return 0;
	}
	f->building = 1;
	f->next_build = now + OPTOUT_FILTER_REBUILD;
	pthread_rwlock_unlock(&f->lk);

	bloom_init(&nb, (size_t)count + (size_t)count / 4 + 1024);
	if (db_iter(rt, DB_OPTOUT, NULL, 0, filter_scan_cb, &nb) < 0) {
		bloom_free(&nb);
		pthread_rwlock_wrlock(&f->lk);
		f->building = 0;
		pthread_rwlock_unlock(&f->lk);
		return 0;
	}
	pthread_rwlock_wrlock(&f->lk);
	bloom_free(&f->bl);
	f->bl = nb;
	f->valid_at = snap;
	f->count = count;
	f->stale_at = 0;
	f->building = 0;
	f->builds++;
	pthread_rwlock_unlock(&f->lk);
	return 1;
}

/* Under the lock: the answer of fresh bits (else "maybe"), counted. */
static int
filter_answer(struct optout_filter *f, int fresh, const struct probe *p)
{
	int r = fresh && f->bl.bits != NULL ? filter_probe(f, p) : 1;

	atomic_fetch_add_explicit(r ? &f->maybe : &f->no, 1,
	    memory_order_relaxed);
	return r;
}

int
optout_filter_may_list(struct optout_filter *f, const char *customer,
    const char *addr, int64_t now)
{
	struct db_txn *rt;
	struct probe p;
	uint64_t last;
	int r, fresh;
	char err[256];

	if (f == NULL)
		return 1;
	probe_make(customer, addr, &p);
	last = db_last_txnid(f->db);
	pthread_rwlock_rdlock(&f->lk);
	fresh = f->bl.bits != NULL && f->valid_at == last;
	if (fresh || (last == f->stale_at && (f->building ||
	    now < f->next_build))) {
		/* Current, or known stale with no rebuild due yet. */
		r = filter_answer(f, fresh, &p);
		pthread_rwlock_unlock(&f->lk);
		return r;
	}
	pthread_rwlock_unlock(&f->lk);
	if ((rt = db_read_begin(f->db, err, sizeof(err))) == NULL)
		return 1;
	fresh = filter_refresh(f, rt, now);
	db_read_end(rt);
	pthread_rwlock_rdlock(&f->lk);
	r = filter_answer(f, fresh, &p);
	pthread_rwlock_unlock(&f->lk);
	return r;
}

void
optout_filter_stats(struct optout_filter *f, unsigned long *no,
    unsigned long *maybe, unsigned long *builds)
{
	pthread_rwlock_rdlock(&f->lk);
	*no = atomic_load(&f->no);
	*maybe = atomic_load(&f->maybe);
	*builds = f->builds;
	pthread_rwlock_unlock(&f->lk);
}
