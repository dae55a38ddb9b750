/*
 * db_batch - group commit: concurrent writes share one LMDB transaction
 *
 * A durable LMDB commit costs a disk flush (two fdatasync calls), which
 * bounds a writer that commits per message to a few hundred commits a
 * second. db_batch_write() lets the threads that want to write at the same
 * time share one transaction: the first caller becomes the leader, takes
 * every request queued so far, runs them one after another inside one
 * db_write() and commits once; the others wait and get their answer only
 * after that commit, so every write is durable before its caller goes on
 * (the same guarantee as a commit of its own). Requests that arrive while
 * the leader commits form the next batch.
 *
 * The requests of a batch run in queue order in one transaction, each
 * seeing the writes of the ones before it, so a check-and-charge in a
 * request is exact however many threads race.
 *
 * Contract of a request fn(txn, arg): return 0 to keep what it wrote, or
 * -1 on a database error (the reason set with db_txn_fail()). A request
 * that decides not to write (a refusal) must decide before its first
 * write and return 0. fn may be run more than once (db_write() reruns the
 * batch after growing a full map; a failed batch is rerun request by
 * request so one bad request cannot fail the others), so it must reset its
 * outputs when it starts.
 *
 * Threads: a struct db_batch is shared by all threads of a process.
 * Errors: 0 committed / -1 with err set.
 */
#ifndef AUP_DB_BATCH_H
#define AUP_DB_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct db_batch;

/* db is borrowed and must outlive the batch. */
struct db_batch *db_batch_new(struct db *db);
void	db_batch_free(struct db_batch *b);	/* NULL is a no-op */

/*
 * Run fn in a shared write transaction; see above. 0 / -1 with err.
 * committed (may be NULL) is called once the transaction fn ran in has
 * committed, with arg and that transaction's id (db_txn_id), or 0 when
 * the transaction changed nothing (no request of it wrote: LMDB then
 * commits nothing and the next transaction gets the same id), before
 * db_batch_write returns: by the leader, in commit order (every request
 * of one commit, in queue order, before any of the next commit). It must
 * be quick and must not write to the database.
 */
int	db_batch_write(struct db_batch *b, int (*fn)(struct db_txn *, void *),
	    void (*committed)(void *, uint64_t), void *arg, char *err,
	    size_t errlen);

/* Batches committed and requests run so far (for benchmarks and logs). */
void	db_batch_stats(struct db_batch *b, unsigned long *batches,
	    unsigned long *requests);

#endif
