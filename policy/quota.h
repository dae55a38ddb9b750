/*
 * quota - the engine's quota state and the quota rules (engine-private)
 *
 * Rules of SPEC "Plans and quotas": rate (messages per hour, recipients
 * per UTC day), bomb (messages to one recipient per hour), msg_size (SIZE=
 * at MAIL and the real size at end of message) and the per-send sum of
 * rcpt_cap (transactions of one customer with the same Message-ID within
 * an hour add up). Each applies per customer, by its plan, and per login
 * when the login has a plan of its own.
 *
 * Exactness. Counters live in LMDB (quota_db.h) and are charged at end of
 * message only, so refused or abandoned mail is never charged. The charge
 * re-checks every limit against the committed counts in the same write
 * transaction that adds to them (db_batch.h: a group commit shared with
 * the other connections), so the committed count never passes a limit,
 * whatever races, in one process or several. At RCPT a recipient is
 * checked against committed plus pending counts and then reserved in a
 * pending table held in memory (one per process): concurrent transactions
 * see each other's reservations, so of 20 connections racing for the last
 * N messages exactly N pass RCPT and are charged at end of message. A
 * reservation is given back when its transaction ends in any way (charged,
 * refused, aborted, the client gone); because it lives in memory, a killed
 * daemon cannot leave one behind in the database.
 *
 * Threads: struct quota is shared by all threads (a mutex per part of the
 * pending table; the batch has its own). A struct quota_txn belongs to its txn.
 * Errors: a database failure is logged and handled as DatabaseFailure
 * says (tempfail, or accept and record "database":"failed-open").
 */
#ifndef AUP_QUOTA_H
#define AUP_QUOTA_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "quota_cache.h"
#include "quota_db.h"

struct quota;
struct quota_part;
struct quota_txn;
struct session;
struct txn;
struct verdict;

/*
 * db is borrowed. The counters are scanned once for the cache
 * (quota_cache.h); if that fails the engine reads every counter from db.
 */
struct quota *quota_new(struct db *db);
struct db *quota_db(struct quota *q);	/* the counters' environment */
/* The committed counters in memory; NULL when the scan failed. */
struct quota_cache *quota_counters_cache(struct quota *q);
void	quota_free(struct quota *q);	/* NULL is a no-op */

/*
 * The part of the pending table that holds customer's counters: every
 * counter a transaction reserves (its customer's, its login's) is in
 * the part of the customer it is attributed to.
 */
struct quota_part *quota_part(struct quota *q, const char *customer);
/* Pending reservations of counter k (in this process), part locked. */
uint64_t quota_pending(struct quota_part *qp, const struct quota_key *k);
/* Add (delta > 0) or give back (delta < 0) a reservation, part locked. */
void	quota_pending_add(struct quota_part *qp, const struct quota_key *k,
	    int64_t delta);
/*
 * Run a write in the shared group commit (db_batch_write). committed
 * tells the cache what the write did (quota_cache_commit_begin() with
 * the txnid it gets, ...): every write of the counters must have one.
 */
int	quota_write(struct quota *q, int (*fn)(struct db_txn *, void *),
	    void (*committed)(void *, uint64_t), void *arg, char *err,
	    size_t errlen);
/* Lock and unlock a part of the pending table around a check-and-reserve. */
void	quota_lock(struct quota_part *qp);
void	quota_unlock(struct quota_part *qp);
/*
 * Reclaim expired counters if the last reclaim is older than a minute;
 * one caller at a time does it, the others return at once.
 */
void	quota_maybe_reclaim(struct quota *q, int64_t now, const char *logid);

/*
 * The rule hooks, called by session.c. Each returns the rule that refused
 * (v filled; a database tempfail is charged to rule rate) or -1 when the
 * transaction goes on.
 *
 * rule_quota_mail: after attribution at MAIL; loads the login's plan and
 *   checks SIZE= of args against max_msg_bytes.
 * rule_quota_rcpt: rcpt is the recipient about to be accepted, norm its
 *   normalised form (NULL if it has none: rcpt is counted as spelled);
 *   checks and reserves rate and bomb, and the login plan's rcpt_cap.
 * rule_quota_eom: checks the size and the per-send sum, then charges
 *   every counter in one shared write transaction; records warn events.
 * rule_quota_end: from txn_free(); gives back what is still reserved.
 */
int	rule_quota_mail(struct session *s, const char *const *args,
	    struct verdict *v);
/* The cache of logins' own plans rule_quota_mail reads (engine's). */
struct db_cache *quota_login_plan_cache_new(struct db *db);
int	rule_quota_rcpt(struct session *s, const char *rcpt,
	    const char *norm, struct verdict *v);
int	rule_quota_eom(struct session *s, struct verdict *v);
void	rule_quota_end(struct txn *t);
/*
 * Give back what rule_quota_eom() charged, for a message that was not
 * accepted after all (its evidence record could not be written). Logged
 * if the refund itself fails.
 */
void	rule_quota_refund(struct session *s);

#endif
