/*
 * optout_filter - "certainly not on any opt-out list", from memory
 *
 * Every recipient of attributed mail is looked up in its customer's
 * opt-out list and the global one (optout_db.h): two B-tree lookups in a
 * read transaction, a tenth of the engine's time, for an answer that is
 * almost always "not listed". This filter holds every key of the opt-out
 * table in a Bloom filter (bloom.h): when it says no for both keys the
 * recipient is on neither list and the database is not read; when it
 * says maybe, the caller asks optout_check() as before.
 *
 * Exactness. The filter is built from one read snapshot (a scan of the
 * table) and answers only while it still holds a superset of the table:
 * while the environment's last committed transaction is the one it knows
 * (db_last_txnid), or, after other commits, while optout_changed() shows
 * no list changed since its snapshot and the table has as many entries
 * as when it was built (the count catches a writer that does not record
 * its changes, unless it both added and removed as many).
 * Otherwise it answers "maybe" and is rebuilt by the next caller, at most
 * once every OPTOUT_FILTER_REBUILD seconds (a 1,000,000-entry table scans
 * in about 0.2 s; between rebuilds the database answers).
 *
 * Ownership: the filter owns its bits; db is borrowed.
 * Threads: shared; a read-write lock around the bits (lookups share it),
 * none held while scanning.
 * Errors: none reach the caller: a scan that fails leaves the filter
 * answering "maybe".
 */
#ifndef AUP_OPTOUT_FILTER_H
#define AUP_OPTOUT_FILTER_H

#include <stdint.h>

#include "db.h"

#define OPTOUT_FILTER_REBUILD	10	/* seconds between rebuilds */

struct optout_filter;

struct optout_filter *optout_filter_new(struct db *db);
void	optout_filter_free(struct optout_filter *f);	/* NULL: no-op */

/*
 * 0: the normalised addr is on neither customer's list (NULL: none) nor
 * the global list; 1: it may be, ask optout_check(). now (Unix seconds)
 * paces rebuilds. f NULL: always 1.
 */
int	optout_filter_may_list(struct optout_filter *f, const char *customer,
	    const char *addr, int64_t now);

/* Answers "not listed", "maybe", and rebuilds since creation (tests). */
void	optout_filter_stats(struct optout_filter *f, unsigned long *no,
	    unsigned long *maybe, unsigned long *builds);

#endif
