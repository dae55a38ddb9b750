/*
 * evidence_batch - unit tests of the evidence writer's group commit (a
 * batch of records under one lock and one write, a failed batch) and of
 * the chain head carried from one batch to the next while other writers
 * (aupctl, a second daemon), rotation, copytruncate and failed writes
 * come between, with and without a hold of the lock (evidence_hold()).
 * The shared helpers are in tests/evidence_test.h.
 * Everything happens in a mkdtemp() directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence.h"
#include "evidence_test.h"
#include "tap.h"

/* ---- group commit ----------------------------------------------------- */

#define NBATCH		16
#define PER_BATCH	100

static int batch_ready;	/* threads about to append */

/* Wait until every thread is about to append, and a little more. */
static void
batch_wait_ready(int n)
{
	while (__atomic_load_n(&batch_ready, __ATOMIC_ACQUIRE) < n)
		usleep(1000);
	usleep(50 * 1000);	/* into the queue, behind the lock */
	__atomic_store_n(&batch_ready, 0, __ATOMIC_RELEASE);
}

static void *
worker_run_batch(void *arg)
{
	struct worker *w = arg;

	__atomic_add_fetch(&batch_ready, 1, __ATOMIC_RELEASE);
	for (long i = 0; i < PER_BATCH; i++)
		if (append_one(w->ev, w->who, i) < 0)
			w->fails++;
	return NULL;
}

/*
 * Group commit: a test holding the lock of "<log>.head" stalls the first
 * leader, so the other threads queue behind it and are written as a batch
 * when the lock is released.
 */
static int
hold_head_lock(const char *log)
{
	char hp[600];
	int fd;

	snprintf(hp, sizeof(hp), "%s.head", log);
	if ((fd = open(hp, O_RDWR)) < 0 || flock(fd, LOCK_EX) < 0)
		bail("lock %s: %s", hp, strerror(errno));
	return fd;
}

static void
test_batch(void)
{
	struct ev_verify_result res;
	struct worker w[NBATCH];
	pthread_t t[NBATCH];
	unsigned long batches, records;
	char err[256];
	struct evidence *ev;
	int fails = 0, lfd;

	/* Sync 0: every batch is fdatasync()ed by its leader. */
	if ((ev = evidence_open(tpath("batch.log"), 0, err, sizeof(err))) ==
	    NULL)
		bail("evidence_open: %s", err);
	lfd = hold_head_lock(tpath("batch.log"));
	for (int i = 0; i < NBATCH; i++) {
		w[i].ev = ev;
		w[i].fails = 0;
		snprintf(w[i].who, sizeof(w[i].who), "w%d", i);
		pthread_create(&t[i], NULL, worker_run_batch, &w[i]);
	}
	batch_wait_ready(NBATCH);
	close(lfd);
	for (int i = 0; i < NBATCH; i++) {
		pthread_join(t[i], NULL);
		fails += w[i].fails;
	}
	evidence_stats(ev, &batches, &records);
	evidence_close(ev);
	is_int(fails, 0, "batch: every append succeeded");
	is_int((long)records, NBATCH * PER_BATCH,
	    "batch: every record counted");
	ok(batches < records, "batch: records were written together "
	    "(%lu records in %lu writes)", records, batches);
	is_int(count_lines(tpath("batch.log")), NBATCH * PER_BATCH,
	    "batch: one line per record");
	ok(lines_complete(tpath("batch.log"), NBATCH, PER_BATCH),
	    "batch: every record present exactly once, none interleaved");
	is_int(verify(&res, 1, tpath("batch.log")), 0, "batch: chain verifies");
	is_int(res.records, NBATCH * PER_BATCH, "batch: records verified");
}

/* One record, appended, then (after the main thread's go) again. */
struct retry {
	struct evidence		*ev;
	pthread_barrier_t	*bar;
	int			 who;
	int			 rc1, rc2;
	char			 err[512];
};

static void *
retry_run(void *arg)
{
	struct retry *a = arg;
	char who[16], err2[512];
	struct evrec r;

	snprintf(who, sizeof(who), "w%d", a->who);
	evrec_begin(&r, "test", NULL);
	evrec_str(&r, "who", who);
	evrec_int(&r, "seq", 0);
	__atomic_add_fetch(&batch_ready, 1, __ATOMIC_RELEASE);
	a->rc1 = evidence_append(a->ev, &r, a->err, sizeof(a->err));
	pthread_barrier_wait(a->bar);	/* main checks the log */
	pthread_barrier_wait(a->bar);	/* main lifts the limit */
	a->rc2 = evidence_append(a->ev, &r, err2, sizeof(err2));
	if (a->rc2 < 0)
		diag("retry: %s", err2);
	evrec_free(&r);
	return NULL;
}

/* A batch whose write fails: every caller in it fails, the log stays. */
static void
test_batch_failed_write(void)
{
	struct ev_verify_result res;
	struct retry a[NBATCH];
	pthread_t t[NBATCH];
	pthread_barrier_t bar;
	struct rlimit old, lim;
	struct stat st;
	unsigned long b0, r0, b1, r1;
	struct evidence *ev = xopen(tpath("bfull.log"));
	size_t hlen, hlen2;
	char *h1, *h2;
	int rc1 = 0, rc2 = 0, said = 0, lfd;

	h1 = slurp(tpath("bfull.log.head"), &hlen);
	evidence_stats(ev, &b0, &r0);
	pthread_barrier_init(&bar, NULL, NBATCH + 1);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 50;	/* part of the first record */
	setrlimit(RLIMIT_FSIZE, &lim);
	lfd = hold_head_lock(tpath("bfull.log"));
	for (int i = 0; i < NBATCH; i++) {
		a[i] = (struct retry){ .ev = ev, .bar = &bar, .who = i };
		pthread_create(&t[i], NULL, retry_run, &a[i]);
	}
	batch_wait_ready(NBATCH);
	close(lfd);
	pthread_barrier_wait(&bar);
	evidence_stats(ev, &b1, &r1);
	setrlimit(RLIMIT_FSIZE, &old);
	for (int i = 0; i < NBATCH; i++) {
		rc1 += a[i].rc1 == -1;
		said += strstr(a[i].err, "written, then removed") != NULL;
	}
	is_int(rc1, NBATCH, "failed batch: every caller got -1");
	is_int(said, NBATCH, "failed batch: every caller's err says what "
	    "happened (%s)", a[0].err);
	ok(b1 - b0 < r1 - r0, "failed batch: records were written together "
	    "(%lu records in %lu writes)", r1 - r0, b1 - b0);
	stat(tpath("bfull.log"), &st);
	is_int((long long)st.st_size, 0,
	    "failed batch: partial bytes cut back");
	h2 = slurp(tpath("bfull.log.head"), &hlen2);
	ok(hlen == hlen2 && memcmp(h1, h2, hlen) == 0,
	    "failed batch: head not advanced");
	pthread_barrier_wait(&bar);
	for (int i = 0; i < NBATCH; i++) {
		pthread_join(t[i], NULL);
		rc2 += a[i].rc2 == 0;
	}
	pthread_barrier_destroy(&bar);
	evidence_close(ev);
	is_int(rc2, NBATCH, "failed batch: each record appended again works");
	ok(lines_complete(tpath("bfull.log"), NBATCH, 1),
	    "failed batch: each record present exactly once");
	is_int(verify(&res, 1, tpath("bfull.log")), 0,
	    "failed batch: chain verifies");
	is_int(res.records, NBATCH, "failed batch: records verified");
	free(h1);
	free(h2);
}

/* ---- the head from one batch to the next ------------------------------ */

/*
 * Between two batches of writer A (the daemon) anything below may happen;
 * afterwards the files, oldest first, verify as one chain holding every
 * record written. Steps:
 *   a  A appends
 *   b  B appends: a second writer kept open (a second daemon)
 *   c  C appends: a writer opened for one record (aupctl)
 *   d  as c, but C dies before its head update (the old head is put back)
 *   r  logrotate renames the log (A is not told)
 *   t  logrotate copytruncate: the log is copied aside, then truncated
 *   o  A reopens (SIGUSR1)
 *   f  A's append fails (file size limit) and is cut back
 * Every record has the same length, so after t the log can be refilled
 * to exactly the size A last left it at: only the head file (or the log)
 * tells A that another writer's record is now the last.
 */
struct interleave {
	const char	*name;
	const char	*steps;
};

static const struct interleave interleaves[] = {
	{ "a second daemon between ours", "abababa" },
	{ "aupctl between ours", "acacca" },
	{ "aupctl died before its head update", "adadda" },
	{ "rotation, aupctl first into the new file", "arcaca" },
	{ "rotation, the second daemon first", "abrbaba" },
	{ "reopen, then aupctl", "aocaoa" },
	{ "copytruncate, then ours", "atata" },
	{ "copytruncate, aupctl refills to our size", "atca" },
	{ "copytruncate, the second daemon refills to our size", "abtba" },
	{ "copytruncate twice, refilled each time", "atcatca" },
	{ "our write failed, then aupctl", "afcafa" },
	{ "copytruncate, our write failed, aupctl", "atfca" },
};

/* Every line of the files has the same length. */
static int
one_length(const char *const *files, int n)
{
	size_t len, want = 0;
	char *s, *p, *nl;
	int same = 1;

	for (int i = 0; i < n; i++) {
		s = slurp(files[i], &len);
		for (p = s; (nl = memchr(p, '\n', len - (size_t)(p - s))) !=
		    NULL; p = nl + 1) {
			if (want == 0)
				want = (size_t)(nl - p);
			same &= (size_t)(nl - p) == want;
		}
		free(s);
	}
	return same;
}

struct il_run {
	struct evidence	*a, *b;
	char		 log[600], head[640];
	char		 aside[8][640];	/* rotated and copied logs */
	int		 naside;
	int		 written;	/* records appended */
	int		 lost;		/* failed appends that did not fail */
};

/* Step c of steps[i] (see above). */
static void
interleave_step(struct il_run *run, char c, long seq)
{
	struct evidence *ev;
	char err[512], *s, *to;
	size_t len;

	switch (c) {
	case 'a':
		run->written += append_one(run->a, "w0", seq) == 0;
		break;
	case 'b':
		if (run->b == NULL)
			run->b = xopen(run->log);
		run->written += append_one(run->b, "w1", seq) == 0;
		break;
	case 'c':
	case 'd':
		s = slurp(run->head, &len);
		ev = xopen(run->log);
		run->written += append_one(ev, "w2", seq) == 0;
		evidence_close(ev);
		if (c == 'd')
			spit(run->head, s, len);
		free(s);
		break;
	case 'r':
	case 't':
		if (run->naside == 8)
			bail("interleave: too many rotations");
		to = run->aside[run->naside++];
		snprintf(to, sizeof(run->aside[0]), "%s.%d", run->log,
		    run->naside);
		if (c == 'r' && rename(run->log, to) < 0)
			bail("rename: %s", strerror(errno));
		if (c == 't') {
			s = slurp(run->log, &len);
			spit(to, s, len);
			free(s);
			if (truncate(run->log, 0) < 0)
				bail("truncate: %s", strerror(errno));
		}
		break;
	case 'o':
		if (evidence_reopen(run->a, err, sizeof(err)) < 0)
			bail("reopen: %s", err);
		break;
	case 'f':
		run->lost += append_cut(run->a, run->log, seq) == 0;
		break;
	}
}

/*
 * hold: A holds the lock that many ms (evidence_hold(), as the daemon):
 * the other writers wait for its keeper, and the rotations, reopens and
 * failed writes of A mostly fall inside a hold (evidence_hold.c makes
 * sure of each).
 */
static void
test_interleave(const struct interleave *t, int k, unsigned hold)
{
	struct ev_verify_result res;
	struct il_run run = { 0 };
	const char *files[9];
	char name[32];
	int n;

	snprintf(name, sizeof(name), "il%d%s.log", k, hold ? "h" : "");
	snprintf(run.log, sizeof(run.log), "%s", tpath(name));
	snprintf(run.head, sizeof(run.head), "%s.head", run.log);
	run.a = xopen(run.log);
	evidence_hold(run.a, hold);
	for (int i = 0; t->steps[i] != '\0'; i++)
		interleave_step(&run, t->steps[i], i % 10);	/* one digit */
	evidence_hold(run.a, 0);	/* a hold ends: the head stored */
	ok(head_describes(run.log, run.head), "interleave%s: %s: the head "
	    "file names our last record", hold ? " (held)" : "", t->name);
	evidence_close(run.a);
	evidence_close(run.b);
	for (n = 0; n < run.naside; n++)
		files[n] = run.aside[n];
	files[n++] = run.log;
	if (strchr(t->steps, 'f') != NULL)
		is_int(run.lost, 0, "interleave%s: %s: our failed append "
		    "returned -1", hold ? " (held)" : "", t->name);
	ok(one_length(files, n), "interleave%s: %s: records of one length",
	    hold ? " (held)" : "", t->name);
	is_int(evidence_verify(files, n, &res), 0, "interleave%s: %s: one "
	    "chain", hold ? " (held)" : "", t->name);
	if (res.line)
		diag("%s:%ld: %s", res.file, res.line, res.reason);
	is_int(res.records, run.written, "interleave%s: %s: every record",
	    hold ? " (held)" : "", t->name);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		bail("mkdtemp: %s", strerror(errno));
	plan_no_plan();
	test_batch();
	test_batch_failed_write();
	for (unsigned hold = 0; hold <= 20; hold += 20)
		for (size_t i = 0; i < sizeof(interleaves) /
		    sizeof(*interleaves); i++)
			test_interleave(&interleaves[i], (int)i, hold);
	cleanup();
	return tap_done();
}
