/*
 * db_batch - group commit of concurrent writes (see db_batch.h)
 *
 * Leader/follower, with no thread of its own: a request is queued under
 * the mutex; whoever finds no leader at work becomes the leader, takes the
 * whole queue, releases the mutex for the LMDB work, then marks its batch
 * done and wakes the waiters. A waiter whose request is still queued when
 * the leader finishes becomes the next leader: each request has its own
 * condition variable, so the leader wakes exactly the callers it answered
 * and the first of the next batch, not every waiting thread.
 *
 * Ownership: requests live on their callers' stacks until marked done.
 * Threads: one mutex per batch object, one condition variable per
 * request; the LMDB work runs outside the mutex.
 * Errors: a failed batch is run again request by request, so each
 * caller gets the outcome of its own request.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "db_batch.h"
#include "xalloc.h"

struct db_batch_req {
	int		(*fn)(struct db_txn *, void *);
	void		(*committed)(void *, uint64_t);
	void		*arg;
	uint64_t	 txnid;		/* of the transaction it ran in */
	pthread_cond_t	 cv;		/* its own: no thundering herd */
	int		 done;
	int		 rc;
	char		 err[512];
	struct db_batch_req *next;
};

struct db_batch {
	struct db	*db;
	pthread_mutex_t	 mu;
	struct db_batch_req *head, **tail;
	int		 leading;	/* a leader is at work */
	unsigned long	 batches, requests;
};

struct db_batch *
db_batch_new(struct db *db)
{
	struct db_batch *b = xcalloc(1, sizeof(*b));

	b->db = db;
	pthread_mutex_init(&b->mu, NULL);
	b->tail = &b->head;
	return b;
}

void
db_batch_free(struct db_batch *b)
{
	if (b == NULL)
		return;
	pthread_mutex_destroy(&b->mu);
	free(b);
}

static int
db_batch_run(struct db_txn *txn, void *arg)
{
	uint64_t id;

	for (struct db_batch_req *r = arg; r != NULL; r = r->next)
		if (r->fn(txn, r->arg) < 0)
			return -1;
	/* Nothing changed: LMDB commits nothing and reuses the id. */
	id = db_txn_dirty(txn) ? db_txn_id(txn) : 0;
	for (struct db_batch_req *r = arg; r != NULL; r = r->next)
		r->txnid = id;
	return 0;
}

/* One request on its own (after its batch failed). */
static int
db_batch_one(struct db_txn *txn, void *arg)
{
	struct db_batch_req *r = arg;

	if (r->fn(txn, r->arg) < 0)
		return -1;
	r->txnid = db_txn_dirty(txn) ? db_txn_id(txn) : 0;
	return 0;
}

/* The leader, in commit order: tell a committed request. */
static void
db_batch_committed(struct db_batch_req *r)
{
	r->rc = 0;
	if (r->committed != NULL)
		r->committed(r->arg, r->txnid);
}

/* The leader's work, outside the mutex: one transaction for the batch. */
static void
db_batch_lead(struct db_batch *b, struct db_batch_req *batch)
{
	char err[512];
	struct db_batch_req *r;

	if (db_write(b->db, db_batch_run, batch, err, sizeof(err)) == 0) {
		for (r = batch; r != NULL; r = r->next)
			db_batch_committed(r);
		return;
	}
	if (batch->next == NULL) {
		batch->rc = -1;
		snprintf(batch->err, sizeof(batch->err), "%s", err);
		return;
	}
	/* One request failed them all: give each its own outcome. */
	for (r = batch; r != NULL; r = r->next)
		if ((r->rc = db_write(b->db, db_batch_one, r, r->err,
		    sizeof(r->err))) == 0)
			db_batch_committed(r);
}

int
db_batch_write(struct db_batch *b, int (*fn)(struct db_txn *, void *),
    void (*committed)(void *, uint64_t), void *arg, char *err, size_t errlen)
{
	struct db_batch_req req = { .fn = fn, .committed = committed,
	    .arg = arg };
	struct db_batch_req *batch, *r, *next;
	unsigned long n;

	pthread_cond_init(&req.cv, NULL);
	pthread_mutex_lock(&b->mu);
	*b->tail = &req;
	b->tail = &req.next;
	while (!req.done) {
		if (b->leading) {
			pthread_cond_wait(&req.cv, &b->mu);
			continue;
		}
		b->leading = 1;
		batch = b->head;
		b->head = NULL;
		b->tail = &b->head;
		pthread_mutex_unlock(&b->mu);
		db_batch_lead(b, batch);
		pthread_mutex_lock(&b->mu);
		for (n = 0, r = batch; r != NULL; r = next, n++) {
			next = r->next;	/* r may be gone once done is seen */
			r->next = NULL;
			r->done = 1;
			pthread_cond_signal(&r->cv);
		}
		b->batches++;
		b->requests += n;
		b->leading = 0;
		if (b->head != NULL)	/* the next batch: its first leads */
			pthread_cond_signal(&b->head->cv);
	}
	pthread_mutex_unlock(&b->mu);
	pthread_cond_destroy(&req.cv);
	if (req.rc < 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", req.err);
	return req.rc;
}

void
db_batch_stats(struct db_batch *b, unsigned long *batches,
    unsigned long *requests)
{
	pthread_mutex_lock(&b->mu);
	*batches = b->batches;
	*requests = b->requests;
	pthread_mutex_unlock(&b->mu);
}
