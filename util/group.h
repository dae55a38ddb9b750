/*
 * group - the queue and hand-off of a leader/follower group commit
 *
 * Callers that each need one piece of shared work done (a write
 * transaction, a write to the evidence log) queue a request; the first
 * to find nobody at work leads: it takes the queue (up to max requests),
 * does the work for all of them outside any lock, and then
 * group_done() hands the lead to the first request still queued and
 * marks each request of its batch done. There is no thread of its own.
 *
 * Waiting is on the request's own word (a futex): a follower sleeps
 * once and, woken, returns without taking any lock. (With a mutex and a
 * condition variable per request, the woken follower first had to take
 * the mutex the leader still held: on a busy core that put a third of
 * all context switches of the engine on that mutex.)
 *
 *	struct my_req { struct group_req g; ... };
 *	struct group_req *batch = group_join(&grp, &req.g);
 *	if (batch != NULL) {	// lead: req is in batch
 *		do the work of every request of batch;
 *		group_done(&grp, batch);
 *	}
 *	// req is done here, by us or by another leader
 *
 * Ownership: requests live on their callers' stacks; a leader must not
 * touch a request after group_done() marked it done (its caller may be
 * gone). Threads: any. Errors: none; the work's outcome is the caller's.
 * Linux only (futex(2)).
 */
#ifndef AUP_GROUP_H
#define AUP_GROUP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

struct group_req {
	atomic_int	 state;		/* private to group.c */
	struct group_req *next;		/* the batch, for the leader */
};

struct group {
	pthread_mutex_t	 mu;
	struct group_req *head, **tail;
	int		 leading;	/* a leader is at work or named */
	size_t		 max;		/* requests per batch; 0: all */
	unsigned long	 batches, requests;
};

/* max: most requests one leader takes (0: the whole queue). */
void	group_init(struct group *g, size_t max);
void	group_destroy(struct group *g);

/*
 * Queue r and wait. NULL once another leader did r; otherwise the batch
 * this caller now leads, a list (by next) that holds r.
 */
struct group_req *group_join(struct group *g, struct group_req *r);

/* The leader, after the work: hand on the lead, mark batch done. */
void	group_done(struct group *g, struct group_req *batch);

/* Batches led and requests done so far. */
void	group_stats(struct group *g, unsigned long *batches,
	    unsigned long *requests);

#endif
