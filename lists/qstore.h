/*
 * qstore - the quota counters' own LMDB environment (QuotaSync)
 *
 * The counters live in "<Database>/quota", an environment apart from the
 * customers, plans, logins and opt-outs, because they are the only data
 * written for every message and the only data whose sync mode may be
 * relaxed (QuotaSync):
 *
 *   full      every group commit is flushed (fdatasync) before the
 *             message is accepted. Nothing committed is ever lost.
 *   meta      the data pages are flushed, the meta page rides on the
 *             next commit (DatabaseSync meta, see db.h).
 *   periodic  commits are not flushed; a thread flushes the environment
 *             every QuotaSyncInterval seconds, and at close. Commits
 *             modify the shared map in place (DB_WRITEMAP).
 *
 * What a crash can lose with periodic: a crash of the daemon (kill -9,
 * abort) loses nothing - a committed charge is in the kernel's page cache,
 * which outlives the process. A crash of the system (power cut, kernel
 * panic) loses the charges of the last interval, and LMDB cannot promise
 * that an environment whose unflushed commits were cut off is intact. So
 * each flush records "<boot id> <last flushed transaction>" in the file
 * "synced" beside the environment, and an opener that finds commits newer
 * than that record made under an earlier boot sets the environment aside
 * ("quota.torn-<UTC time>", kept for inspection), logs it at error level
 * and starts with empty counters: after a system crash, the windows that
 * were running start again from zero. In full and meta modes the record
 * is removed (after a flush of anything an earlier periodic run left).
 *
 * Every writer of one environment must open it alike (DB_WRITEMAP or
 * not): the daemon and aupctl both take the mode from the configuration,
 * so QuotaSync may only change while the daemon is stopped.
 *
 * Ownership: qstore_open() returns an object owning its environment and
 * flush thread, freed by qstore_close(). Threads: the db is shared as
 * db.h says; the flush thread is the object's own.
 * Errors: NULL with err set; the flush thread logs its failures.
 */
#ifndef AUP_QSTORE_H
#define AUP_QSTORE_H

#include <stddef.h>

#include "db.h"

struct qstore;

/*
 * Open (creating) "<dbdir>/quota" in mode (interval: seconds between
 * flushes for DB_SYNC_PERIODIC). flags: DB_RDONLY for readers, who see
 * what the writers committed whatever the mode. NULL on error.
 */
struct qstore *qstore_open(const char *dbdir, enum db_sync mode,
	    int interval, size_t mapsize, size_t maxsize, unsigned flags,
	    char *err, size_t errlen);

struct db *qstore_db(struct qstore *qs);

/* Flush now and record it (periodic); 0 / -1 with err. */
int	qstore_flush(struct qstore *qs, char *err, size_t errlen);

/* Stop the flush thread, flush, record, close. NULL is a no-op. */
void	qstore_close(struct qstore *qs);

/* The environment's directory for dbdir: "<dbdir>/quota" (for messages). */
int	qstore_path(const char *dbdir, char *buf, size_t len);

#endif
