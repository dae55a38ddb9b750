/*
 * evidence - the tamper-evident evidence log (SPEC "Evidence log")
 *
 * Append-only JSON Lines. Each record is one object on one line, written
 * (with the records of concurrent callers, see below) by a single
 * writev(2) on an O_APPEND descriptor while holding an exclusive flock(2)
 * on the chain-head file "<log>.head". Every record ends with two members:
 *
 *   ...,"prev":"<64 hex>","hash":"<64 hex>"}\n
 *
 * where hash = SHA-256 of the line's bytes from the opening '{' up to and
 * including the closing quote of the prev value (that is, everything before
 * ',"hash":'), and prev is the hash of the record written before it, in
 * this file or, after rotation, in the previous file. The first record
 * ever written has prev = 64 zeros.
 *
 * Several writers (the daemon's threads, aupctl) share one chain: under
 * the lock the writer reads the current head from "<log>.head", appends,
 * then stores the new head. If a writer died between the two, the head is
 * stale; on open the last line of the log wins over the head file. If the
 * log path now names a new file (logrotate moved it), the writer reopens
 * when it next takes the lock (before its next record; a writer holding
 * the lock, see evidence_hold(): when the hold ends), so the chain
 * continues into the new file whether or not SIGUSR1 has been delivered.
 *
 * Durability: a record reaches the kernel before evidence_append()
 * returns, so it survives a crash of the process. It is fdatasync()ed when
 * sync_interval seconds have passed since the last sync (0: every record),
 * and at reopen and close; a power loss can lose at most the records of
 * the last sync_interval seconds.
 *
 * Threads: one struct evidence is shared by all threads (internal mutex).
 * Appends of concurrent threads are group-committed: one caller writes
 * the records queued meanwhile, in order, under one lock, with one write
 * and one head update (and one fdatasync when due); each caller still
 * returns only when its own record is written, or not. A caller alone
 * never waits for others. A struct evrec belongs to one thread.
 * Errors: 0 / -1 with err set; a failed append leaves the chain intact.
 */
#ifndef AUP_EVIDENCE_H
#define AUP_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define EVIDENCE_REF_LEN	12	/* hex digits of a reference */

struct evidence;

struct evidence *evidence_open(const char *path, int sync_interval,
	    char *err, size_t errlen);
void	evidence_close(struct evidence *ev);	/* NULL is a no-op */
/* Close and open the path again (after rotation); 0 / -1. */
int	evidence_reopen(struct evidence *ev, char *err, size_t errlen);
/*
 * Keep the lock of "<log>.head" between batches for up to ms
 * milliseconds after taking it (0, the default: release it after every
 * batch). For a busy daemon: the batches in between skip the lock, the
 * rotation check and the head file, and the head lives in memory. Other
 * writers wait at most ms plus one batch: a holder going back for the
 * lock queues behind them (see "<log>.lock" in evidence.c). A keeper
 * thread (all signals blocked) ends a hold no batch came to end; start
 * it in the process that appends (after a daemon's fork). A lock held
 * now is released first; a rename of the log is seen when the hold
 * ends, or at once by evidence_reopen(). Any thread; not concurrently
 * with itself or evidence_close().
 */
void	evidence_hold(struct evidence *ev, unsigned ms);

/* A fresh random reference: EVIDENCE_REF_LEN hex digits plus NUL. */
void	evidence_new_ref(char ref[EVIDENCE_REF_LEN + 1]);

/*
 * A record under construction. Members appear in the order they are
 * added. evrec_begin() writes ts (now, RFC 3339 UTC with milliseconds),
 * ref and event. Keys are trusted constants; values are escaped.
 */
struct evrec {
	struct strbuf	sb;
};

void	evrec_begin(struct evrec *r, const char *event, const char *ref);
void	evrec_str(struct evrec *r, const char *key, const char *val);
void	evrec_int(struct evrec *r, const char *key, long long val);
/* A value that is already JSON text (array, object, number, null). */
void	evrec_raw(struct evrec *r, const char *key, const char *json);
void	evrec_free(struct evrec *r);

/*
 * Seal r with prev and hash and append it as one line. 0: the line is in
 * the file (and on disk, if a sync was due); -1 with err: it is not, or
 * the sync that was due failed. r stays valid (and unsealed) either way;
 * the caller frees it.
 */
int	evidence_append(struct evidence *ev, struct evrec *r, char *err,
	    size_t errlen);
/* Group commit so far: writes (batches) and the records they carried. */
void	evidence_stats(struct evidence *ev, unsigned long *batches,
	    unsigned long *records);

/* Current time as RFC 3339 UTC with milliseconds into buf (>= 25 bytes). */
void	evidence_timestamp(int64_t ms, char *buf, size_t len);
/* Milliseconds since the epoch, now. */
int64_t	evidence_now_ms(void);
/* Parse "2026-11-22T08:00:00Z" (fraction and offsets allowed): 0 / -1. */
int	evidence_parse_time(const char *s, int64_t *ms);

/*
 * Verification: check every line of the files, in the order given, as one
 * chain (the first record of a later file must name the last hash of the
 * file before it). Returns 0 if intact, 1 if not (res says where and why),
 * -1 if a file cannot be read (res.reason says which).
 */
struct ev_verify_result {
	long	records;		/* records checked */
	char	file[4096];		/* file of the first bad line */
	long	line;			/* its line number, 1-based */
	char	reason[256];		/* "hash mismatch", "prev does not ..." */
	char	last_hash[64 + 1];
};

int	evidence_verify(const char *const *files, int nfiles,
	    struct ev_verify_result *res);
/*
 * The same for a chain that does not start at the files given: the first
 * record must name anchor (64 hex digits: the last hash a verify of the
 * older files printed) as its prev. NULL: the chain's start (all zero).
 */
int	evidence_verify_from(const char *const *files, int nfiles,
	    const char *anchor, struct ev_verify_result *res);

/*
 * Search: every criterion given (non-NULL / non-zero) must match. ip and
 * customer compare client_addr and customer exactly; rcpt matches an
 * element of rcpts or of rejected_rcpts (case-insensitive); since/until
 * bound ts (milliseconds, inclusive). fn gets each matching line without
 * its newline and stops the search by returning non-zero. Files are read
 * with mmap and pre-filtered with memmem on the escaped needle, so a
 * search costs about one pass of grep -F. Returns matches, or -1 with err.
 */
struct ev_query {
	const char	*ref;
	const char	*message_id;
	const char	*ip;
	const char	*rcpt;
	const char	*customer;
	int64_t		 since_ms;	/* 0: unbounded */
	int64_t		 until_ms;	/* 0: unbounded */
};

long	evidence_search(const char *const *files, int nfiles,
	    const struct ev_query *q,
	    int (*fn)(const char *line, size_t len, void *arg), void *arg,
	    char *err, size_t errlen);

/*
 * A whole log file in memory for verify and search: mmap(2) of a regular
 * file, or read into a buffer for anything else (a pipe, "-" for standard
 * input, e.g. "<(zcat evidence.log.2.gz)"). A live log's size is read
 * under a shared flock of "<log>.head" (waiting as writers do, see
 * evidence_hold()), so it never ends inside a record being written. data
 * is NULL for an empty file. 0 / -1 with err naming the file.
 */
struct ev_map {
	const char	*data;
	size_t		 len;
	int		 mapped;	/* 1: munmap, 0: free */
};

int	evidence_map(const char *path, struct ev_map *m, char *err,
	    size_t errlen);
void	evidence_unmap(struct ev_map *m);

#endif
