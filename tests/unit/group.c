/*
 * Unit tests for util/group: under many threads every request is done
 * exactly once, by one leader at a time, in a batch that holds the
 * leader's own request and no more than max; followers really wait
 * (their results are there when group_join returns) and really batch.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "group.h"
#include "tap.h"

enum { THREADS = 16, PER_THREAD = 3000 };

struct req {
	struct group_req g;
	uint64_t	 add;
	int		 times;		/* done how often */
	uint64_t	 sum_after;	/* the total once it was added */
};

struct run {
	struct group	 grp;
	size_t		 max;
	atomic_int	 leading;	/* leaders at work now */
	atomic_int	 overlap;	/* two leaders at once: a failure */
	atomic_int	 own_missing;	/* a batch without its leader's */
	atomic_int	 too_big;	/* a batch over max */
	atomic_int	 not_done;	/* returned before its work was done */
	atomic_int	 multi;		/* batches of more than one */
	uint64_t	 sum;		/* only leaders touch it */
};

static void
lead(struct run *run, struct group_req *batch, struct req *own)
{
	size_t n = 0;
	int found = 0;

	if (atomic_fetch_add(&run->leading, 1) != 0)
		atomic_fetch_add(&run->overlap, 1);
	sched_yield();	/* let followers queue up behind us */
	for (struct group_req *p = batch; p != NULL; p = p->next, n++) {
		struct req *r = (struct req *)p;

		found |= r == own;
		run->sum += r->add;
		r->sum_after = run->sum;
		r->times++;
	}
	if (!found)
		atomic_fetch_add(&run->own_missing, 1);
	if (run->max > 0 && n > run->max)
		atomic_fetch_add(&run->too_big, 1);
	if (n > 1)
		atomic_fetch_add(&run->multi, 1);
	atomic_fetch_sub(&run->leading, 1);
}

static void *
worker(void *arg)
{
	struct run *run = arg;
	struct req r;
	struct group_req *batch;

	for (int i = 0; i < PER_THREAD; i++) {
		r.add = (uint64_t)i + 1;
		r.times = 0;
		r.sum_after = 0;
		if ((batch = group_join(&run->grp, &r.g)) != NULL) {
			lead(run, batch, &r);
			group_done(&run->grp, batch);
		}
		if (r.times != 1 || r.sum_after == 0)
			atomic_fetch_add(&run->not_done, 1);
	}
	return NULL;
}

static void
test_run(size_t max)
{
	static struct run run;
	pthread_t th[THREADS];
	unsigned long batches, requests;
	uint64_t want = (uint64_t)THREADS * PER_THREAD * (PER_THREAD + 1) / 2;

	memset(&run, 0, sizeof(run));
	run.max = max;
	group_init(&run.grp, max);
	for (int i = 0; i < THREADS; i++)
		if (pthread_create(&th[i], NULL, worker, &run) != 0)
			bail("pthread_create");
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	group_stats(&run.grp, &batches, &requests);
	diag("max %zu: %lu requests in %lu batches", max, requests, batches);
	is_int((long long)requests, (long long)THREADS * PER_THREAD,
	    "max %zu: every request counted once", max);
	ok(run.sum == want, "max %zu: every request's work done once (sum "
	    "%llu, want %llu)", max, (unsigned long long)run.sum,
	    (unsigned long long)want);
	is_int(atomic_load(&run.not_done), 0, "max %zu: no caller returned "
	    "before its request was done, or with it done twice", max);
	is_int(atomic_load(&run.overlap), 0, "max %zu: one leader at a time",
	    max);
	is_int(atomic_load(&run.own_missing), 0, "max %zu: every batch holds "
	    "its leader's own request", max);
	is_int(atomic_load(&run.too_big), 0, "max %zu: no batch over max", max);
	ok(atomic_load(&run.multi) > 0 && batches < requests, "max %zu: "
	    "followers were batched (%d batches of more than one)", max,
	    atomic_load(&run.multi));
	group_destroy(&run.grp);
}

int
main(void)
{
	plan_no_plan();
	test_run(0);
	test_run(3);
	return tap_done();
}
