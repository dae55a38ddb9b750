/*
 * group - the queue and hand-off of a leader/follower group commit
 * (see group.h)
 *
 * A request's word goes WAIT -> (SLEEP) -> LEAD or DONE. A follower
 * about to sleep first marks its word SLEEP, so the leader makes the
 * futex call only for requests whose callers really sleep (not for its
 * own, nor for one that has not got that far yet).
 */
#ifndef __linux__
#error "util/group.c waits with futex(2): Linux only"
#endif

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "group.h"

enum { GR_WAIT, GR_SLEEP, GR_LEAD, GR_DONE };

static void
word_wait(atomic_int *w, int val)
{
	/* EAGAIN (changed already) and EINTR: the caller looks again. */
	(void)syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

/*
 * Set r's word to state, waking its caller if it sleeps. After this the
 * request may be gone; a wake that lands on its reused stack is a
 * spurious wake-up, which every futex user must tolerate.
 */
static void
word_set(struct group_req *r, int state)
{
	if (atomic_exchange_explicit(&r->state, state,
	    memory_order_acq_rel) == GR_SLEEP)
		(void)syscall(SYS_futex, &r->state, FUTEX_WAKE_PRIVATE, 1,
		    NULL, NULL, 0);
}

void
group_init(struct group *g, size_t max)
{
	pthread_mutex_init(&g->mu, NULL);
	g->head = NULL;
	g->tail = &g->head;
	g->leading = 0;
	g->max = max;
	g->batches = g->requests = 0;
}

void
group_destroy(struct group *g)
{
	pthread_mutex_destroy(&g->mu);
}

/* Under mu: the first max requests of the queue (the leader's first). */
static struct group_req *
group_take(struct group *g)
{
	struct group_req *batch = g->head, **end = &g->head;

	for (size_t n = 0; *end != NULL && (g->max == 0 || n < g->max); n++)
		end = &(*end)->next;
	g->head = *end;
	*end = NULL;
	if (g->head == NULL)
		g->tail = &g->head;
	return batch;
}

struct group_req *
group_join(struct group *g, struct group_req *r)
{
	struct group_req *batch;
	int s;

	atomic_store_explicit(&r->state, GR_WAIT, memory_order_relaxed);
	r->next = NULL;
	pthread_mutex_lock(&g->mu);
	*g->tail = r;
	g->tail = &r->next;
	if (!g->leading) {	/* nobody at work: the queue was empty */
		g->leading = 1;
		batch = group_take(g);
		pthread_mutex_unlock(&g->mu);
		return batch;
	}
	pthread_mutex_unlock(&g->mu);
	for (;;) {
		s = atomic_load_explicit(&r->state, memory_order_acquire);
		if (s == GR_DONE)
			return NULL;
		if (s == GR_LEAD) {	/* named by the last leader: first */
			pthread_mutex_lock(&g->mu);
			batch = group_take(g);
			pthread_mutex_unlock(&g->mu);
			return batch;
		}
		if (s == GR_WAIT && !atomic_compare_exchange_strong_explicit(
		    &r->state, &s, GR_SLEEP, memory_order_acq_rel,
		    memory_order_acquire))
			continue;	/* set meanwhile: look again */
		word_wait(&r->state, GR_SLEEP);
	}
}

void
group_done(struct group *g, struct group_req *batch)
{
	struct group_req *r, *next;
	unsigned long n = 0;

	for (r = batch; r != NULL; r = r->next)
		n++;
	pthread_mutex_lock(&g->mu);
	g->batches++;
	g->requests += n;
	next = g->head;
	if (next == NULL)
		g->leading = 0;
	pthread_mutex_unlock(&g->mu);
	/*
	 * The next leader first, so the next batch's work starts at once.
	 * It stays queued (it cannot be done) until it takes the queue.
	 */
	if (next != NULL)
		word_set(next, GR_LEAD);
	for (r = batch; r != NULL; r = next) {
		next = r->next;	/* r may be gone once done */
		word_set(r, GR_DONE);
	}
}

void
group_stats(struct group *g, unsigned long *batches, unsigned long *requests)
{
	pthread_mutex_lock(&g->mu);
	*batches = g->batches;
	*requests = g->requests;
	pthread_mutex_unlock(&g->mu);
}
