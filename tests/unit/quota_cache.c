/*
 * quota_cache unit test, over a real LMDB environment: what the cache
 * answers must be what LMDB holds. Charges through the group commit reach
 * it in commit order; a value read at an old snapshot is not kept; a
 * commit by another process (a forked child, as aupctl would be) makes
 * the cache stop answering until our next commit, which scans the table
 * again; the scan sees the counters already there, including windows
 * reaching into later hours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "db_batch.h"
#include "db_elsewhere.h"
#include "log.h"
#include "quota_cache.h"
#include "quota_db.h"
#include "tap.h"

#define T0	INT64_C(1795334400)	/* 2026-11-22T08:00:00Z */
#define H	3600

static char dir[] = "/tmp/aup-quota-cache-XXXXXX";
static char path[256];

struct charge {
	struct quota_cache *qc;
	struct quota_key k[4];
	int		 n;
	int64_t		 now, start[4], end[4];
	struct quota_counter out[4];
};

static int
charge_txn(struct db_txn *txn, void *arg)
{
	struct charge *ch = arg;

	for (int i = 0; i < ch->n; i++)
		if (quota_db_add(txn, &ch->k[i], 1, ch->now, ch->start[i],
		    ch->end[i], &ch->out[i]) < 0)
			return -1;
	return 0;
}

static void
charge_committed(void *arg, uint64_t txnid)
{
	struct charge *ch = arg;

	quota_cache_commit_begin(ch->qc, txnid, ch->now);
	for (int i = 0; i < ch->n; i++)
		quota_cache_put(ch->qc, &ch->k[i], &ch->out[i]);
	quota_cache_commit_end(ch->qc);
}

static void
key(struct quota_key *k, enum quota_kind kind, const char *tail)
{
	if (quota_key_make(k, QUOTA_CUSTOMER, "acme", kind, tail,
	    tail != NULL ? strlen(tail) : 0) < 0)
		bail("quota_key_make");
}

/* Charge the counters of ch (windows set by the caller). */
static void
charge(struct db_batch *b, struct charge *ch)
{
	char err[512];

	if (db_batch_write(b, charge_txn, charge_committed, ch, err,
	    sizeof(err)) < 0)
		bail("charge: %s", err);
}

/* What LMDB says of k at now: the count, or -1 on error. */
static long long
lmdb_count(struct db *db, const struct quota_key *k, int64_t now)
{
	struct quota_counter c;
	struct db_txn *rt;
	char err[512];
	int r;

	if ((rt = db_read_begin(db, err, sizeof(err))) == NULL)
		bail("read: %s", err);
	r = quota_db_get(rt, k, now, &c);
	db_read_end(rt);
	return r < 0 ? -1 : (long long)c.count;
}

struct foreign {
	struct charge	ch;
	uint64_t	n;
};

static int
foreign_txn(struct db_txn *txn, void *arg)
{
	struct foreign *f = arg;

	for (uint64_t i = 0; i < f->n; i++)
		if (charge_txn(txn, &f->ch) < 0)
			return -1;
	return 0;
}

/* A commit by another process: it adds n to k at now. */
static void
foreign_charge(const struct quota_key *k, int64_t now, uint64_t n)
{
	struct foreign f = { .ch = { .n = 1, .now = now }, .n = n };

	f.ch.k[0] = *k;
	f.ch.start[0] = now - now % H;
	f.ch.end[0] = f.ch.start[0] + H;
	db_elsewhere(path, foreign_txn, &f);
}

static void
test_own_commits(struct db *db, struct db_batch *b, struct quota_cache *qc)
{
	struct quota_counter c;
	struct charge ch = { .qc = qc, .n = 3, .now = T0 + 100 };
	struct quota_key bob;
	struct db_txn *rt;
	char err[512];
	int r;

	key(&ch.k[0], QUOTA_MSGS_HOUR, NULL);
	key(&ch.k[1], QUOTA_RCPT_HOUR, "alice@example.net");
	key(&ch.k[2], QUOTA_SEND, "0123456789abcdef");
	key(&bob, QUOTA_RCPT_HOUR, "bob@example.net");
	ch.start[0] = ch.start[1] = T0;
	ch.end[0] = ch.end[1] = T0 + H;
	ch.start[2] = T0 + 100;
	ch.end[2] = T0 + 100 + H;

	ok(quota_cache_get(qc, &bob, T0 + 100, &c) == 1 && c.count == 0,
	    "empty table: a recipient's counter is known to be zero");
	ok(quota_cache_get(qc, &ch.k[0], T0 + 100, &c) == 0,
	    "a customer counter never read is not known");
	charge(b, &ch);
	ok(quota_cache_get(qc, &ch.k[0], T0 + 200, &c) == 1 &&
	    c.count == 1 && c.start == T0 && c.end == T0 + H,
	    "after a charge the customer counter is known: 1 in [T0, T0+1h)");
	ok(quota_cache_get(qc, &ch.k[1], T0 + 200, &c) == 0,
	    "a charged recipient is not answered (LMDB is asked)");
	ok(quota_cache_get(qc, &ch.k[2], T0 + 200, &c) == 0,
	    "a charged send is not answered");
	ok(quota_cache_get(qc, &bob, T0 + 200, &c) == 1 && c.count == 0,
	    "another recipient is still known to be zero");
	charge(b, &ch);
	ok(quota_cache_get(qc, &ch.k[0], T0 + 300, &c) == 1 &&
	    c.count == 2 && lmdb_count(db, &ch.k[0], T0 + 300) == 2,
	    "a second charge: cache and LMDB both say 2");
	ok(quota_cache_get(qc, &ch.k[0], T0 + H + 5, &c) == 1 &&
	    c.count == 0, "in the next hour the counter reads zero");
	ok(quota_cache_get(qc, &ch.k[2], T0 + H + 5, &c) == 0,
	    "the send window reaches into the next hour: not answered there");
	ok(quota_cache_get(qc, &ch.k[1], T0 + H + 5, &c) == 1 &&
	    c.count == 0, "the recipient's hour is over: zero in the next");

	/* A read at an old snapshot is not kept. */
	if ((rt = db_read_begin(db, err, sizeof(err))) == NULL)
		bail("read: %s", err);
	r = quota_db_get_stored(rt, &ch.k[0], &c);
	charge(b, &ch);	/* commits while the snapshot is open */
	quota_cache_fill(qc, db_txn_id(rt), &ch.k[0], r, &c);
	db_read_end(rt);
	ok(quota_cache_get(qc, &ch.k[0], T0 + 300, &c) == 1 &&
	    c.count == 3, "a value read before the last commit is ignored "
	    "(3, not the stale 2)");
}

static void
test_foreign(struct db *db, struct db_batch *b, struct quota_cache *qc)
{
	struct quota_counter c;
	struct charge ch = { .qc = qc, .n = 1, .now = T0 + 400 };
	struct quota_key carol, dave;
	unsigned long hits, misses, scans, h2, m2, s2;

	key(&ch.k[0], QUOTA_MSGS_HOUR, NULL);
	key(&carol, QUOTA_RCPT_HOUR, "carol@example.net");
	key(&dave, QUOTA_RCPT_HOUR, "dave@example.net");
	ch.start[0] = T0;
	ch.end[0] = T0 + H;
	ok(quota_cache_get(qc, &carol, T0 + 400, &c) == 1,
	    "before: carol's counter known to be zero");
	foreign_charge(&carol, T0 + 400, 2);
	foreign_charge(&ch.k[0], T0 + 400, 5);
	quota_cache_stats(qc, &hits, &misses, &scans);
	ok(quota_cache_get(qc, &carol, T0 + 400, &c) == 0 &&
	    quota_cache_get(qc, &ch.k[0], T0 + 400, &c) == 0,
	    "another process committed: nothing is answered");
	quota_cache_stats(qc, &h2, &m2, &s2);
	ok(h2 == hits && m2 == misses + 2, "the stats count two misses");
	ok(lmdb_count(db, &carol, T0 + 400) == 2, "LMDB has carol at 2");
	charge(b, &ch);	/* our next commit sees the gap */
	ok(quota_cache_get(qc, &ch.k[0], T0 + 450, &c) == 1 &&
	    c.count == 3 + 5 + 1 && lmdb_count(db, &ch.k[0], T0 + 450) == 9,
	    "after our commit: the customer counter is 9 (3 + 5 theirs + 1)");
	quota_cache_stats(qc, &h2, &m2, &s2);
	is_int((long long)s2, (long long)scans + 1, "the gap made it scan "
	    "the table again");
	ok(quota_cache_get(qc, &carol, T0 + 450, &c) == 0,
	    "rescanned: the other process's recipient is found (LMDB asked)");
	ok(quota_cache_get(qc, &dave, T0 + 450, &c) == 1 && c.count == 0,
	    "and a recipient nobody charged is known to be zero this hour");
	ok(quota_cache_get(qc, &dave, T0 + H + 10, &c) == 0,
	    "the next hour is not vouched for (a send window seen reaches "
	    "into it)");
	ch.now = T0 + 2 * H + 10;
	ch.start[0] = T0 + 2 * H;
	ch.end[0] = T0 + 3 * H;
	charge(b, &ch);
	ok(quota_cache_get(qc, &dave, T0 + 2 * H + 20, &c) == 1 &&
	    c.count == 0, "two hours on: known again");
}

/*
 * A commit that changes nothing (a charge refused, a sweep with nothing
 * to delete) does not use up its txnid: a foreign commit then takes it,
 * and the cache must not take that one for its own.
 */
static void
test_empty_commit(struct db *db, struct db_batch *b, struct quota_cache *qc)
{
	struct quota_counter c;
	struct charge none = { .qc = qc, .n = 0, .now = T0 + 2 * H + 30 };
	struct charge ch = { .qc = qc, .n = 1, .now = T0 + 2 * H + 40 };
	struct quota_key hank;
	unsigned long h0, m0, s0, s1;

	key(&hank, QUOTA_RCPT_HOUR, "hank@example.net");
	key(&ch.k[0], QUOTA_MSGS_HOUR, NULL);
	ch.start[0] = T0 + 2 * H;
	ch.end[0] = T0 + 3 * H;
	ok(quota_cache_get(qc, &hank, T0 + 2 * H + 30, &c) == 1,
	    "before: hank known to have no counter");
	charge(b, &none);	/* writes nothing */
	foreign_charge(&hank, T0 + 2 * H + 35, 4);
	ok(lmdb_count(db, &hank, T0 + 2 * H + 35) == 4, "LMDB: hank at 4");
	ok(quota_cache_get(qc, &hank, T0 + 2 * H + 35, &c) == 0,
	    "after an empty commit of ours and one of another process: "
	    "hank is not answered from the cache");
	quota_cache_stats(qc, &h0, &m0, &s0);
	charge(b, &ch);
	quota_cache_stats(qc, &h0, &m0, &s1);
	is_int((long long)s1, (long long)s0 + 1, "our next commit sees the "
	    "gap and rescans");
	ok(quota_cache_get(qc, &hank, T0 + 2 * H + 45, &c) == 0,
	    "hank may have a counter: LMDB is asked");
}

/*
 * A charge whose clock was read before the hour turned commits after
 * newer hours' filters replaced its own, with another process's commit
 * in between: the rescan must rebuild the newest hour instead.
 */
static void
test_late_commit(struct db_batch *b, struct quota_cache *qc)
{
	struct quota_counter c;
	struct charge send = { .qc = qc, .n = 1, .now = T0 + 3 * H + 5 };
	struct charge late = { .qc = qc, .n = 1, .now = T0 + 2 * H + 50 };
	struct quota_key ivan, judy;
	unsigned long h0, m0, s0, s1;

	key(&send.k[0], QUOTA_SEND, "fedcba9876543210");
	send.start[0] = T0 + 3 * H + 5;
	send.end[0] = T0 + 4 * H + 5;
	charge(b, &send);	/* filters now for hours 3 and 4 */
	key(&ivan, QUOTA_RCPT_HOUR, "ivan@example.net");
	key(&judy, QUOTA_RCPT_HOUR, "judy@example.net");
	foreign_charge(&ivan, T0 + 4 * H + 1, 1);
	key(&late.k[0], QUOTA_MSGS_HOUR, NULL);
	late.start[0] = T0 + 2 * H;
	late.end[0] = T0 + 3 * H;
	quota_cache_stats(qc, &h0, &m0, &s0);
	charge(b, &late);	/* hour 2: older than both filters */
	quota_cache_stats(qc, &h0, &m0, &s1);
	is_int((long long)s1, (long long)s0 + 1, "a late commit after a "
	    "foreign one rescans");
	ok(quota_cache_get(qc, &judy, T0 + 4 * H + 10, &c) == 1 &&
	    c.count == 0, "the newest hour (4) was rebuilt: judy known zero");
	ok(quota_cache_get(qc, &ivan, T0 + 4 * H + 10, &c) == 0,
	    "and the other process's ivan is found there (LMDB asked)");
	ok(quota_cache_get(qc, &judy, T0 + 2 * H + 60, &c) == 0,
	    "the late hour has no filter: LMDB is asked");
}

static void
test_scan(void)
{
	struct quota_counter c;
	struct quota_key erin, frank, gina;
	struct quota_cache *qc;
	struct db *db;
	char err[512];

	key(&erin, QUOTA_RCPT_HOUR, "erin@example.net");
	key(&frank, QUOTA_RCPT_HOUR, "frank@example.net");
	key(&gina, QUOTA_RCPT_HOUR, "gina@example.net");
	foreign_charge(&erin, T0 + 4 * H + 5, 1);	/* hour 4 */
	foreign_charge(&gina, T0 + 6 * H + 5, 1);	/* hour 6: ahead */
	if ((db = db_open(path, 1 << 20, 64 << 20, 0, err,
	    sizeof(err))) == NULL)
		bail("reopen: %s", err);
	if ((qc = quota_cache_new(db, T0 + 4 * H + 60, err,
	    sizeof(err))) == NULL)
		bail("quota_cache_new: %s", err);
	ok(quota_cache_get(qc, &erin, T0 + 4 * H + 60, &c) == 0,
	    "scan: erin's counter of this hour is found (LMDB asked)");
	ok(quota_cache_get(qc, &frank, T0 + 4 * H + 60, &c) == 1 &&
	    c.count == 0, "scan: frank has none this hour");
	ok(quota_cache_get(qc, &frank, T0 + 5 * H + 60, &c) == 0,
	    "scan saw a window in hour 6: hour 5 is not vouched for");
	ok(quota_cache_get(qc, &frank, T0 + 7 * H + 60, &c) == 1,
	    "hour 7, after every window seen: vouched for");
	quota_cache_free(qc);
	db_close(db);
}

int
main(void)
{
	struct quota_cache *qc;
	struct db_batch *b;
	struct db *db;
	char err[512];

	plan_no_plan();
	log_open("quota_cache", 0, LOG_CRIT);
	if (mkdtemp(dir) == NULL)
		bail("mkdtemp");
	snprintf(path, sizeof(path), "%s/quota", dir);
	if ((db = db_open(path, 1 << 20, 64 << 20, 0, err,
	    sizeof(err))) == NULL)
		bail("db_open: %s", err);
	if ((qc = quota_cache_new(db, T0 + 50, err, sizeof(err))) == NULL)
		bail("quota_cache_new: %s", err);
	b = db_batch_new(db);
	test_own_commits(db, b, qc);
	test_foreign(db, b, qc);
	test_empty_commit(db, b, qc);
	test_late_commit(b, qc);
	db_batch_free(b);
	quota_cache_free(qc);
	db_close(db);
	test_scan();
	if (system(NULL) != 0) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return tap_done();
}
