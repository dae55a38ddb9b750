/*
 * optout_filter - "certainly not on any opt-out list" (see optout_filter.h)
 *
 * State under the mutex: the bits, valid_at (a transaction at which the
 * bits held a superset of the table), the entry count they were built
 * from, and the pacing of rebuilds. A caller that finds valid_at behind
 * the environment revalidates in its own read transaction (optout_changed
 * and the count) and, when the filter is stale and no rebuild is due
 * yet, remembers the transaction it found stale so the next callers
 * answer "maybe" without reading again.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bloom.h"
#include "hash64.h"
#include "optout_db.h"
#include "optout_filter.h"
#include "xalloc.h"

struct optout_filter {
	struct db	*db;
	pthread_mutex_t	 mu;
	struct bloom	 bl;		/* bits NULL: not built */
	uint64_t	 valid_at;	/* the bits hold the table as of it */
	long		 count;		/* entries when built */
	uint64_t	 stale_at;	/* found stale here; 0: not */
	int64_t		 next_build;
	int		 building;
	unsigned long	 no, maybe, builds;
};

struct optout_filter *
optout_filter_new(struct db *db)
{
	struct optout_filter *f = xcalloc(1, sizeof(*f));

	f->db = db;
	pthread_mutex_init(&f->mu, NULL);
	return f;
}

void
optout_filter_free(struct optout_filter *f)
{
	if (f == NULL)
		return;
	bloom_free(&f->bl);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

/* Under the lock, with valid bits: may either key be in the table? */
static int
filter_probe(struct optout_filter *f, const char *customer, const char *addr)
{
	uint8_t key[OPTOUT_KEY_MAX];
	size_t n;

	if ((n = optout_key_bytes(NULL, addr, key)) == 0 ||
	    bloom_may_have(&f->bl, hash64(key, n, 0)))
		return 1;
	if (customer != NULL && *customer != '\0' &&
	    ((n = optout_key_bytes(customer, addr, key)) == 0 ||
	    bloom_may_have(&f->bl, hash64(key, n, 0))))
		return 1;
	return 0;
}

static int
filter_scan_cb(const void *key, size_t klen, const void *val, size_t vlen,
    void *arg)
{
	(void)val;
	(void)vlen;
	bloom_add(arg, hash64(key, klen, 0));
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
	pthread_mutex_lock(&f->mu);
	if (f->bl.bits != NULL && changed <= f->valid_at && count == f->count) {
		if (snap > f->valid_at)
			f->valid_at = snap;
		pthread_mutex_unlock(&f->mu);
		return 1;
	}
	if (f->building || now < f->next_build) {
		f->stale_at = db_last_txnid(f->db);
		pthread_mutex_unlock(&f->mu);
		return 0;
	}
	f->building = 1;
	f->next_build = now + OPTOUT_FILTER_REBUILD;
	pthread_mutex_unlock(&f->mu);

	bloom_init(&nb, (size_t)count + (size_t)count / 4 + 1024);
	if (db_iter(rt, DB_OPTOUT, NULL, 0, filter_scan_cb, &nb) < 0) {
		bloom_free(&nb);
		pthread_mutex_lock(&f->mu);
		f->building = 0;
		pthread_mutex_unlock(&f->mu);
		return 0;
	}
	pthread_mutex_lock(&f->mu);
	bloom_free(&f->bl);
	f->bl = nb;
	f->valid_at = snap;
	f->count = count;
	f->stale_at = 0;
	f->building = 0;
	f->builds++;
	pthread_mutex_unlock(&f->mu);
	return 1;
}

/* Under the lock: the answer of fresh bits (else "maybe"), counted. */
static int
filter_answer(struct optout_filter *f, int fresh, const char *customer,
    const char *addr)
{
	int r = fresh && f->bl.bits != NULL ?
	    filter_probe(f, customer, addr) : 1;

	if (r)
		f->maybe++;
	else
		f->no++;
	return r;
}

int
optout_filter_may_list(struct optout_filter *f, const char *customer,
    const char *addr, int64_t now)
{
	struct db_txn *rt;
	uint64_t last;
	int r, fresh;
	char err[256];

	if (f == NULL)
		return 1;
	last = db_last_txnid(f->db);
	pthread_mutex_lock(&f->mu);
	fresh = f->bl.bits != NULL && f->valid_at == last;
	if (fresh || (last == f->stale_at && (f->building ||
	    now < f->next_build))) {
		/* Current, or known stale with no rebuild due yet. */
		r = filter_answer(f, fresh, customer, addr);
		pthread_mutex_unlock(&f->mu);
		return r;
	}
	pthread_mutex_unlock(&f->mu);
	if ((rt = db_read_begin(f->db, err, sizeof(err))) == NULL)
		return 1;
	fresh = filter_refresh(f, rt, now);
	db_read_end(rt);
	pthread_mutex_lock(&f->mu);
	r = filter_answer(f, fresh, customer, addr);
	pthread_mutex_unlock(&f->mu);
	return r;
}

void
optout_filter_stats(struct optout_filter *f, unsigned long *no,
    unsigned long *maybe, unsigned long *builds)
{
	pthread_mutex_lock(&f->mu);
	*no = f->no;
	*maybe = f->maybe;
	*builds = f->builds;
	pthread_mutex_unlock(&f->mu);
}
