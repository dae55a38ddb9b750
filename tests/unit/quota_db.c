/*
 * quota_db unit test: counters over a real LMDB environment - windows,
 * renewal, the sweep of past windows (in slices), reset, earlier value
 * formats and the old expiry index, corrupt values, a map that
 * cannot grow any more, and exact check-and-charge through the group
 * commit with many threads racing.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "db_batch.h"
#include "log.h"
#include "quota_db.h"
#include "tap.h"

#define T0	INT64_C(1795334400)	/* 2026-11-22T08:00:00Z */
#define H	3600

static char dir[] = "/tmp/aup-quota-db-XXXXXX";

struct op {
	struct quota_key k;
	uint64_t	 n;
	int64_t		 now, start, end;
	struct quota_counter out;
	long		 reclaimed;
	long		 slice;		/* reclaim: counters per slice */
	struct quota_key at;		/* reclaim: where a slice starts */
	uint64_t	 limit;		/* check-and-charge */
	int		 admitted;
};

static int
op_add(struct db_txn *txn, void *arg)
{
	struct op *o = arg;

	return quota_db_add(txn, &o->k, o->n, o->now, o->start, o->end,
	    &o->out);
}

static int
op_reclaim(struct db_txn *txn, void *arg)
{
	struct op *o = arg;

	return (o->reclaimed = quota_db_reclaim(txn, o->now,
	    o->slice > 0 ? o->slice : 1000, &o->at)) < 0 ? -1 : 0;
}

static int
op_reset(struct db_txn *txn, void *arg)
{
	struct op *o = arg;

	return (o->reclaimed = quota_db_reset(txn, QUOTA_CUSTOMER, "acme")) <
	    0 ? -1 : 0;
}

static int
op_charge(struct db_txn *txn, void *arg)
{
	struct op *o = arg;
	struct quota_counter c;

	o->admitted = 0;
	if (quota_db_get(txn, &o->k, o->now, &c) < 0)
		return -1;
	if (c.count + o->n > o->limit)
		return 0;
	o->admitted = 1;
	return quota_db_add(txn, &o->k, o->n, o->now, o->start, o->end, NULL);
}

static int
op_corrupt(struct db_txn *txn, void *arg)
{
	struct op *o = arg;

	return db_put(txn, DB_QUOTA, o->k.buf, o->k.len, "xyz", 3);
}

/*
 * A counter as an earlier version wrote it: 24 bytes (the first format)
 * or 32 with an index stamp, plus its entry in the old expiry index.
 */
static int
op_put_old(struct db_txn *txn, void *arg)
{
	struct op *o = arg;
	uint8_t val[32], idx[8 + QUOTA_KEY_MAX];
	uint64_t f[4] = { o->n, (uint64_t)o->start, (uint64_t)o->end, 77 };
	size_t vlen = o->limit == 32 ? 32 : 24;

	for (int i = 0; i < 32; i++)
		val[i] = (uint8_t)(f[i / 8] >> (8 * (i % 8)));
	for (int i = 0; i < 8; i++)
		idx[i] = (uint8_t)((uint64_t)o->end >> (8 * (7 - i)));
	memcpy(idx + 8, o->k.buf, o->k.len);
	if (db_put(txn, DB_QUOTA, o->k.buf, o->k.len, val, vlen) < 0)
		return -1;
	return db_put(txn, DB_QUOTA_EXPIRY, idx, 8 + o->k.len, NULL, 0);
}

static uint64_t
count_at(struct db *db, const struct quota_key *k, int64_t now)
{
	struct quota_counter c;
	struct db_txn *rt;
	char err[512];

	if ((rt = db_read_begin(db, err, sizeof(err))) == NULL)
		bail("%s", err);
	if (quota_db_get(rt, k, now, &c) < 0)
		bail("get: %s", db_txn_error(rt));
	db_read_end(rt);
	return c.count;
}

static long
entries(struct db *db, enum db_table t)
{
	struct db_txn *rt;
	char err[512];
	long n;

	if ((rt = db_read_begin(db, err, sizeof(err))) == NULL)
		bail("%s", err);
	n = db_count(rt, t);
	db_read_end(rt);
	return n;
}

static int
each_cb(enum quota_kind kind, const uint8_t *tail, size_t tlen,
    const struct quota_counter *c, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%s:%.*s=%llu;",
	    quota_kind_name(kind), (int)tlen, (const char *)tail,
	    (unsigned long long)c->count);
	return 0;
}

struct race {
	struct db_batch	*b;
	struct op	 o;
	int		 admitted;
	int		 failed;
};

static void *
race_thread(void *arg)
{
	struct race *r = arg;
	char err[512];

	for (int i = 0; i < 10; i++) {
		if (db_batch_write(r->b, op_charge, NULL, &r->o, err,
		    sizeof(err)) < 0)
			r->failed++;
		else
			r->admitted += r->o.admitted;
	}
	return NULL;
}

/* Counters written by earlier versions read, charge and are swept. */
static void
test_formats(struct db *db)
{
	char err[512];
	struct op o;

	memset(&o, 0, sizeof(o));
	o.now = T0 + 3 * H + 1;
	o.start = T0 + 3 * H;
	o.end = T0 + 4 * H;
	quota_key_make(&o.k, QUOTA_CUSTOMER, "old", QUOTA_RCPTS_DAY, NULL, 0);
	o.n = 7;
	db_write(db, op_put_old, &o, err, sizeof(err));
	is_int((long long)count_at(db, &o.k, o.now), 7, "first format: a "
	    "counter of 24 bytes reads");
	quota_key_make(&o.k, QUOTA_CUSTOMER, "old", QUOTA_MSGS_HOUR, NULL, 0);
	o.limit = 32;
	o.n = 4;
	db_write(db, op_put_old, &o, err, sizeof(err));
	is_int((long long)count_at(db, &o.k, o.now), 4, "second format: a "
	    "counter of 32 bytes (index stamp) reads");
	o.n = 1;
	is_int(db_write(db, op_add, &o, err, sizeof(err)), 0, "second format: "
	    "charged");
	is_int((long long)o.out.count, 5, "  to 5");
	ok(entries(db, DB_QUOTA_EXPIRY) == 2, "the old index holds the two "
	    "entries");
	o.now = T0 + 4 * H;
	o.at.len = 0;
	db_write(db, op_reclaim, &o, err, sizeof(err));
	is_int(o.reclaimed, 4, "sweep: the two old-format counters, "
	    "alice's of the earlier window and the corrupt one");
	is_int(entries(db, DB_QUOTA_EXPIRY), 0, "sweep: the old index is "
	    "emptied");
	is_int((long long)count_at(db, &o.k, T0 + 3 * H + 1), 0, "  gone");
}

/* A sweep in slices visits every counter once per pass. */
static void
test_slices(struct db *db)
{
	char err[512], rcpt[32];
	long deleted = 0, slices = 0;
	struct op o;

	memset(&o, 0, sizeof(o));
	o.n = 1;
	o.now = T0 + 5 * H + 1;
	o.start = T0 + 5 * H;
	o.end = T0 + 6 * H;
	for (int i = 0; i < 25; i++) {
		snprintf(rcpt, sizeof(rcpt), "s%02d@example.net", i);
		quota_key_make(&o.k, QUOTA_CUSTOMER, "slice", QUOTA_RCPT_HOUR,
		    rcpt, strlen(rcpt));
		if (i % 5 == 0) {	/* these stay: a later window */
			o.start = T0 + 6 * H;
			o.end = T0 + 7 * H;
			o.now = T0 + 6 * H;
		}
		db_write(db, op_add, &o, err, sizeof(err));
		o.start = T0 + 5 * H;
		o.end = T0 + 6 * H;
		o.now = T0 + 5 * H + 1;
	}
	o.now = T0 + 6 * H;
	o.slice = 4;
	o.at.len = 0;
	do {
		if (db_write(db, op_reclaim, &o, err, sizeof(err)) < 0)
			bail("sweep: %s", err);
		deleted += o.reclaimed;
		slices++;
	} while (o.at.len > 0 && slices < 100);
	is_int(deleted, 20, "slices of 4: the 20 ended counters are deleted");
	ok(slices >= 25 / 4, "  in %ld slices, resuming where each stopped",
	    slices);
	is_int(entries(db, DB_QUOTA) >= 5, 1, "  the 5 current ones stay");
}

static void
test_race(struct db *db)
{
	struct db_batch *b = db_batch_new(db);
	struct race r[20];
	pthread_t th[20];
	unsigned long batches, reqs;
	int admitted = 0, failed = 0;

	for (int i = 0; i < 20; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].b = b;
		quota_key_make(&r[i].o.k, QUOTA_CUSTOMER, "racer",
		    QUOTA_MSGS_HOUR, NULL, 0);
		r[i].o.n = 1;
		r[i].o.now = T0 + 10;
		r[i].o.start = T0;
		r[i].o.end = T0 + H;
		r[i].o.limit = 37;
		pthread_create(&th[i], NULL, race_thread, &r[i]);
	}
	for (int i = 0; i < 20; i++) {
		pthread_join(th[i], NULL);
		admitted += r[i].admitted;
		failed += r[i].failed;
	}
	db_batch_stats(b, &batches, &reqs);
	is_int(failed, 0, "race: no write failed");
	is_int(admitted, 37, "race: 200 charges by 20 threads, quota 37: "
	    "exactly 37 admitted");
	is_int((long long)count_at(db, &r[0].o.k, T0 + 10), 37,
	    "race: the committed count is 37");
	is_int((long long)reqs, 200, "race: every request ran once");
	diag("group commit: %lu requests in %lu batches", reqs, batches);
	db_batch_free(b);
}

/* A map that cannot grow: the write fails with a reason, nothing breaks. */
static void
test_map_full(void)
{
	char path[300], err[512];
	struct db *db;
	struct op o = { .n = 1, .now = T0, .start = T0, .end = T0 + H };
	int rc = 0, i;

	snprintf(path, sizeof(path), "%s/full", dir);
	if ((db = db_open(path, 64 << 10, 128 << 10, 0, err, sizeof(err))) ==
	    NULL)
		bail("%s", err);
	for (i = 0; i < 100000 && rc == 0; i++) {
		char rcpt[64];

		snprintf(rcpt, sizeof(rcpt), "r%d@example.net", i);
		quota_key_make(&o.k, QUOTA_CUSTOMER, "acme", QUOTA_RCPT_HOUR,
		    rcpt, strlen(rcpt));
		rc = db_write(db, op_add, &o, err, sizeof(err));
	}
	ok(rc < 0, "map full: a write fails after %d counters", i - 1);
	ok(strstr(err, "map full") != NULL && strstr(err, "DatabaseMaxSize"),
	    "map full: the reason names DatabaseMaxSize: %s", err);
	quota_key_make(&o.k, QUOTA_CUSTOMER, "acme", QUOTA_RCPT_HOUR,
	    "r0@example.net", 14);
	is_int((long long)count_at(db, &o.k, T0), 1,
	    "map full: committed counters are intact");
	db_close(db);
}

int
main(void)
{
	char err[512], path[300], shown[256], big[1000];
	struct quota_key k, k2;
	struct db *db;
	struct op o;

	if (mkdtemp(dir) == NULL)
		bail("mkdtemp");
	log_open("quota-db-test", 0, LOG_CRIT);
	snprintf(path, sizeof(path), "%s/db", dir);
	if ((db = db_open(path, 1 << 20, 256 << 20, 0, err, sizeof(err))) ==
	    NULL)
		bail("%s", err);
	plan(45);

	/* Keys. */
	ok(quota_key_make(&k, QUOTA_CUSTOMER, "", QUOTA_MSGS_HOUR, NULL, 0) <
	    0, "key: an empty id is refused");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(quota_key_make(&k, QUOTA_LOGIN, big, QUOTA_MSGS_HOUR, NULL, 0) < 0,
	    "key: an id over 255 bytes is refused");
	ok(quota_key_make(&k, QUOTA_CUSTOMER, "acme", QUOTA_RCPT_HOUR, big,
	    strlen(big)) == 0 && k.len == 1 + 4 + 1 + 1 + 64 &&
	    k.buf[7] == '#', "key: an over-long recipient is hashed");
	quota_key_make(&k2, QUOTA_CUSTOMER, "acme", QUOTA_RCPT_HOUR, big,
	    strlen(big) - 1);
	ok(memcmp(k.buf, k2.buf, k.len) != 0, "key: different long "
	    "recipients hash apart");

	/* Add and read within a window and across its end. */
	memset(&o, 0, sizeof(o));
	quota_key_make(&o.k, QUOTA_CUSTOMER, "acme", QUOTA_MSGS_HOUR, NULL, 0);
	o.n = 3;
	o.now = T0 + 5;
	o.start = T0;
	o.end = T0 + H;
	is_int(db_write(db, op_add, &o, err, sizeof(err)), 0, "add 3");
	is_int((long long)o.out.count, 3, "add: new value 3");
	o.n = 2;
	o.now = T0 + H - 1;
	db_write(db, op_add, &o, err, sizeof(err));
	is_int((long long)count_at(db, &o.k, T0 + H - 1), 5,
	    "add 2 in the last second of the window: 5");
	is_int((long long)count_at(db, &o.k, T0 + H), 0,
	    "at the end of the window the counter reads 0");
	is_int((long long)count_at(db, &o.k, T0 - 1), 0,
	    "before the window it reads 0");
	o.n = 1;
	o.now = T0 + H;
	o.start = T0 + H;
	o.end = T0 + 2 * H;
	db_write(db, op_add, &o, err, sizeof(err));
	is_int((long long)o.out.count, 1, "next window starts from 1");
	is_int(o.out.start, T0 + H, "and records its start");
	o.now = T0;
	ok(db_write(db, op_add, &o, err, sizeof(err)) < 0 &&
	    strstr(err, "bad window") != NULL, "add outside its window is "
	    "refused: %s", err);

	/* Reclaim: past windows go, current ones stay. */
	memset(&o, 0, sizeof(o));
	o.n = 1;
	o.now = T0 + 10;
	o.start = T0;
	o.end = T0 + H;
	for (int i = 0; i < 50; i++) {
		char rcpt[32];

		snprintf(rcpt, sizeof(rcpt), "r%d@example.net", i);
		quota_key_make(&o.k, QUOTA_CUSTOMER, "acme", QUOTA_RCPT_HOUR,
		    rcpt, strlen(rcpt));
		db_write(db, op_add, &o, err, sizeof(err));
	}
	quota_key_make(&o.k, QUOTA_CUSTOMER, "acme", QUOTA_RCPTS_DAY, NULL, 0);
	o.start = T0 - 8 * H;
	o.end = T0 + 16 * H;
	db_write(db, op_add, &o, err, sizeof(err));
	is_int(entries(db, DB_QUOTA), 52, "52 counters stored");
	o.now = T0 + H - 1;
	db_write(db, op_reclaim, &o, err, sizeof(err));
	is_int(o.reclaimed, 0, "reclaim before the hour ends: nothing");
	o.now = T0 + H + 5;
	is_int(db_write(db, op_reclaim, &o, err, sizeof(err)), 0,
	    "reclaim after the hour");
	is_int(o.reclaimed, 50, "the 50 per-recipient counters of the past "
	    "hour are reclaimed");
	is_int(entries(db, DB_QUOTA), 2, "the renewed hourly counter and "
	    "the daily one stay");
	is_int(entries(db, DB_QUOTA_EXPIRY), 0, "no expiry index entries are "
	    "written any more");
	quota_key_make(&k, QUOTA_CUSTOMER, "acme", QUOTA_MSGS_HOUR, NULL, 0);
	is_int((long long)count_at(db, &k, T0 + H + 5), 1,
	    "the renewed counter keeps its count");

	/* Each and reset. */
	shown[0] = '\0';
	{
		struct db_txn *rt = db_read_begin(db, err, sizeof(err));

		is_int(quota_db_each(rt, QUOTA_CUSTOMER, "acme", T0 + H + 5,
		    each_cb, shown), 0, "each: runs");
		db_read_end(rt);
	}
	is_str(shown, "msgs_per_hour:=1;rcpts_per_day:=1;",
	    "each: the current counters of acme");
	quota_key_make(&o.k, QUOTA_LOGIN, "alice", QUOTA_MSGS_HOUR, NULL, 0);
	o.now = T0 + H + 5;
	o.start = T0 + H;
	o.end = T0 + 2 * H;
	db_write(db, op_add, &o, err, sizeof(err));
	is_int(db_write(db, op_reset, &o, err, sizeof(err)), 0, "reset acme");
	is_int(o.reclaimed, 2, "reset: two counters deleted");
	is_int(entries(db, DB_QUOTA), 1, "reset: the login's counter stays");

	/* A corrupt value is an error naming the counter, not a crash. */
	quota_key_make(&o.k, QUOTA_CUSTOMER, "broken", QUOTA_RCPTS_DAY, NULL,
	    0);
	db_write(db, op_corrupt, &o, err, sizeof(err));
	{
		struct db_txn *rt = db_read_begin(db, err, sizeof(err));
		struct quota_counter c;

		is_int(quota_db_get(rt, &o.k, T0, &c), -1, "corrupt value: "
		    "error");
		ok(strstr(db_txn_error(rt), "customer broken rcpts_per_day: "
		    "corrupt record") != NULL, "corrupt value: names the "
		    "counter: %s", db_txn_error(rt));
		db_read_end(rt);
	}
	o.now = T0 + 1;
	o.start = T0;
	o.end = T0 + H;
	ok(db_write(db, op_add, &o, err, sizeof(err)) < 0,
	    "corrupt value: a charge fails instead of overwriting");

	test_formats(db);
	test_slices(db);
	test_race(db);
	test_map_full();
	db_close(db);
	return tap_done();
}
