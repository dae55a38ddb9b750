/*
 * db_batch - group commit of concurrent writes (see db_batch.h)
 *
 * Leader/follower (util/group.h): whoever finds no leader at work leads,
 * takes the queue and runs one LMDB write transaction for the whole
 * batch; each request then gets its own outcome and is marked done.
 *
 * Ownership: requests live on their callers' stacks until marked done.
 * Threads: the queue is group.h's; the LMDB work runs outside any lock.
 * Errors: a failed batch is run again request by request, so each
 * caller gets the outcome of its own request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "db_batch.h"
#include "group.h"
#include "xalloc.h"

struct db_batch_req {
	struct group_req g;		/* first: the batch links */
	int		(*fn)(struct db_txn *, void *);
	void		(*committed)(void *, uint64_t);
	void		*arg;
	uint64_t	 txnid;		/* of the transaction it ran in */
	int		 rc;
	char		 err[512];
};

#define REQ(p)	((struct db_batch_req *)(p))

struct db_batch {
	struct db	*db;
	struct group	 grp;
};

struct db_batch *
db_batch_new(struct db *db)
{
	struct db_batch *b = xcalloc(1, sizeof(*b));

	b->db = db;
	group_init(&b->grp, 0);
	return b;
}

void
db_batch_free(struct db_batch *b)
{
	if (b == NULL)
		return;
	group_destroy(&b->grp);
	free(b);
}

static int
db_batch_run(struct db_txn *txn, void *arg)
{
	uint64_t id;

	for (struct group_req *p = arg; p != NULL; p = p->next)
		if (REQ(p)->fn(txn, REQ(p)->arg) < 0)
			return -1;
	/* Nothing changed: LMDB commits nothing and reuses the id. */
	id = db_txn_dirty(txn) ? db_txn_id(txn) : 0;
	for (struct group_req *p = arg; p != NULL; p = p->next)
		REQ(p)->txnid = id;
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
db_batch_lead(struct db_batch *b, struct group_req *batch)
{
	char err[512];
	struct group_req *p;

	if (db_write(b->db, db_batch_run, batch, err, sizeof(err)) == 0) {
		for (p = batch; p != NULL; p = p->next)
			db_batch_committed(REQ(p));
		return;
	}
	if (batch->next == NULL) {
		REQ(batch)->rc = -1;
		snprintf(REQ(batch)->err, sizeof(REQ(batch)->err), "%s", err);
		return;
	}
	/* One request failed them all: give each its own outcome. */
	for (p = batch; p != NULL; p = p->next)
		if ((REQ(p)->rc = db_write(b->db, db_batch_one, REQ(p),
		    REQ(p)->err, sizeof(REQ(p)->err))) == 0)
			db_batch_committed(REQ(p));
}

int
db_batch_write(struct db_batch *b, int (*fn)(struct db_txn *, void *),
    void (*committed)(void *, uint64_t), void *arg, char *err, size_t errlen)
{
	struct db_batch_req req = { .fn = fn, .committed = committed,
	    .arg = arg, .rc = -1 };
	struct group_req *batch;

	if ((batch = group_join(&b->grp, &req.g)) != NULL) {
		db_batch_lead(b, batch);
		group_done(&b->grp, batch);
	}
	if (req.rc < 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", req.err);
	return req.rc;
}

void
db_batch_stats(struct db_batch *b, unsigned long *batches,
    unsigned long *requests)
{
	group_stats(&b->grp, batches, requests);
}
