/*
 * evidence - the tamper-evident evidence log writer (see evidence.h)
 *
 * Design. The log is opened O_RDWR|O_APPEND|O_CREAT (0640, less the
 * umask; readable for step 2); "<log>.head" is both the lock and the
 * chain head (its line: evidence_head.c); "<log>.lock" is the gate to
 * the lock (see "The gate" below).
 *
 * Group commit (leader/follower, as lists/db_batch.c, with no thread of
 * its own): an append queues its record under the queue mutex; whoever
 * finds no leader at work becomes the leader, takes the queue (at most
 * EV_BATCH_MAX records), and with the queue mutex released writes the
 * whole batch under the I/O mutex (threads share one descriptor, and
 * flock(2) does not exclude holders of the same open file description)
 * and then under flock(LOCK_EX) on the head file (other processes:
 * aupctl, a second daemon instance), doing, once per batch and in order
 * (a holder: see "Holding the lock"):
 *
 *   1. rotation: if stat(path) no longer names the open file (or the path
 *      is gone), open the path again (creating it);
 *   2. head: the head file holds "<hash> <size> <dev> <ino>" of the last
 *      record and of the file just after it was written. If that still
 *      describes the open file, the hash is the head. Otherwise another
 *      writer died between its write and its head update, or the file was
 *      rotated or copy-truncated: an empty file continues the chain from
 *      the head file's hash (rotation), a non-empty one is re-derived from
 *      its last complete line (the log wins over the head file).
 *      The head file is read at every batch, even when the log still has
 *      the size, device and inode this writer left it with: after a
 *      copytruncate another writer's records can bring the log back to
 *      exactly that size, and only the head file (or the log) shows that
 *      the last record is no longer ours (see tests/unit/evidence_batch.c);
 *   3. every record is sealed onto the one before it (the first onto the
 *      head), and all go out in one writev(2); on failure (ENOSPC, EIO,
 *      EFBIG, short write) the file is truncated back to its old size
 *      where possible and the head is not advanced;
 *   4. the head file is rewritten in place (pwrite of a fixed-size line).
 *
 * The leader then marks each request done with its own outcome and wakes
 * exactly those callers, and the first caller still queued leads the
 * next batch (util/group.h). A failed batch fails every record in it:
 * none is in the file, unless the cut back failed, and then the records
 * whose whole line is in the file are reported written (they chain
 * correctly) and the others fail. Either way no record is reported
 * written that is not in the file, and the head never names a record
 * that is not. Each caller unseals its own record.
 *
 * A partial last line (power cut or disk full with truncation impossible)
 * is never extended: the next record is written after a "\n", so the
 * damaged line stays on a line of its own, which verify reports, and the
 * new record chains to the last complete record.
 *
 * Holding the lock (evidence_hold(): the daemon; aupctl does not): the
 * batch that takes the lock does steps 1 and 2, then keeps the lock for
 * hold_ms. Meanwhile the head's hash lives in memory and each batch does
 * step 3 alone: no lock, no stat, no head file. Nothing else changes the
 * log meanwhile, since every writer takes the lock first, except
 * logrotate: a rename leaves our file open and the path is followed at
 * the next acquisition (at most hold_ms later; at once on reopen); a
 * copytruncate empties the file, O_APPEND writes at 0, and the record
 * chains on the head, as step 2 continues an empty file from the head
 * file's hash. No partial line can be there: only a failed write of ours
 * leaves one, and that ends the hold. While held, the head file has the
 * hash of the acquisition and a size no log has, so if the process dies
 * holding, the next writer derives the head from the log. (A rename in
 * that window still breaks the chain: the new file continues from the
 * older hash, which verify reports; without a hold the same can happen
 * between a write and its head update, microseconds.) A hold ends with
 * step 4 (the hash from memory, size, dev and ino from fstat of the open
 * log) and the unlock: after the batch during which hold_ms ran out;
 * from the keeper thread, when no batch came by then; at reopen, close
 * and evidence_hold(); at once after a failed write, with a size that
 * matches no log, so the next writer derives the head as in step 2.
 *
 * The gate. flock(2) does not queue: a holder that releases the lock and
 * takes it again microseconds later (a busy daemon on one core, where the
 * woken aupctl has not run yet) would win every time. So every writer,
 * and every reader of a live log (evidence_verify.c), takes LOCK_EX on
 * "<log>.lock" before it waits for the head lock and drops it once it
 * has that lock: whoever waits for the head holds the gate, and a holder
 * coming back for the head waits at the gate behind it. Holders take
 * LOCK_EX too: with LOCK_SH two holding daemons on one log would share
 * the gate and take turns ahead of each other and of aupctl. A file of
 * its own rather than a byte-range lock of the head file, because on NFS
 * flock(2) is emulated with byte-range locks and the two would clash.
 * Created 0640 and opened read-only (locking needs no more); never
 * rotated. A writer that does not know the gate (an older aupctl) is
 * still correct, as it takes the head lock; it just may wait longer.
 *
 * fdatasync(2): every sync_interval seconds (0: every record, so every
 * batch), checked by the leader after each batch, and at reopen and
 * close. It runs after the flock is released so other processes do not
 * wait for the disk (a holder syncs under the lock, unless the hold ended
 * with that batch); if it fails, every record of the batch reports it.
 *
 * Ownership: struct evidence owns its descriptors, paths and keeper
 * thread. Threads: see evidence.h; the keeper works under the I/O mutex.
 * Errors: 0 / -1 with err "what path: strerror".
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "evidence.h"
#include "evidence_priv.h"
#include "group.h"
#include "log.h"
#include "sha256.h"
#include "strbuf.h"
#include "xalloc.h"

#define EV_BATCH_MAX	256	/* records per write; < IOV_MAX */

/* One caller's record in the queue; lives on the caller's stack. */
struct ev_req {
	struct group_req g;		/* first: the batch links */
	struct evrec	*r;
	char		*err;
	size_t		 errlen;
	int		 rc;
};

/* The next request of a batch. */
static struct ev_req *
ev_next(const struct ev_req *q)
{
	return (struct ev_req *)q->g.next;
}

struct evidence {
	struct group	 grp;		/* the queue of records */
	pthread_mutex_t	 io;		/* the rest: leader, reopen */
	char		*path;
	char		*headpath;
	int		 fd;		/* the log, O_APPEND */
	unsigned long long dev, ino;	/* of fd */
	struct ev_headfile hf;		/* "<log>.head", flock()ed */
	int		 sync_interval;	/* seconds; 0 = every record */
	int64_t		 synced_at;	/* monotonic ms of the last sync */
	int		 dirty;		/* written since the last sync */
	char		*gatepath;
	int		 gfd;		/* "<log>.lock", the gate */
	unsigned	 hold_ms;	/* 0: unlock after every batch */
	int		 held;		/* the lock is ours between batches */
	int64_t		 held_until;	/* monotonic ms: release then */
	char		 hhash[SHA256_HEX_LEN + 1];	/* the head, held */
	pthread_cond_t	 kcv;		/* wakes the keeper (with io) */
	pthread_t	 keeper;
	int		 keeper_on, keeper_stop;
};

static int
ev_fail(char *err, size_t errlen, const char *what, const char *path)
{
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

static int64_t
ev_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- opening ---------------------------------------------------------- */

static int
ev_open_log(const char *path)
{
	/* Readable too: the head may have to be re-derived from the tail. */
	return open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

/* fstat the open log into st and remember its identity. 0 / -1. */
static int
ev_fstat(struct evidence *ev, struct stat *st, char *err, size_t errlen)
{
	if (fstat(ev->fd, st) < 0)
		return ev_fail(err, errlen, "stat", ev->path);
	ev->dev = (unsigned long long)st->st_dev;
	ev->ino = (unsigned long long)st->st_ino;
	return 0;
}

static int
ev_flock(int fd, int op)
{
	while (flock(fd, op) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/*
 * The head lock, through the gate: whoever waits for the head holds the
 * gate meanwhile, so a holder coming back for the head (it takes the
 * gate first, like everyone) queues behind a writer already waiting,
 * instead of taking the lock again before that writer has run.
 */
static int
ev_lock(struct evidence *ev, char *err, size_t errlen)
{
	/* A gate that cannot be locked costs fairness, not correctness. */
	int gated = ev_flock(ev->gfd, LOCK_EX) == 0;

	if (ev_flock(ev->hf.fd, LOCK_EX) < 0) {
		ev_fail(err, errlen, "lock", ev->headpath);
		if (gated)
			flock(ev->gfd, LOCK_UN);
		return -1;
	}
	if (gated)
		flock(ev->gfd, LOCK_UN);
	return 0;
}

static void
ev_unlock(struct evidence *ev)
{
	flock(ev->hf.fd, LOCK_UN);
}

/* Under the lock: make the head file describe the open log. 0 / -1. */
static int
ev_reconcile(struct evidence *ev, char *err, size_t errlen)
{
	struct ev_head h, before;
	struct stat st;
	int need_nl;

	if (ev_fstat(ev, &st, err, errlen) < 0)
		return -1;
	evidence_head_read(&ev->hf, &h);
	before = h;
	if (evidence_head_derive(ev->fd, ev->path, &h, &st, &need_nl,
	    err, errlen) < 0)
		return -1;
	if (!before.valid || strcmp(before.hash, h.hash) != 0 ||
	    before.size != h.size || before.dev != h.dev || before.ino != h.ino)
		evidence_head_write(&ev->hf, &h);
	return 0;
}

static void
ev_sync(struct evidence *ev)
{
	if (ev->dirty && fdatasync(ev->fd) < 0)
		log_msg(LOG_ERR, NULL, "evidence: fdatasync %s: %s", ev->path,
		    strerror(errno));
	ev->dirty = 0;
	ev->synced_at = ev_mono_ms();
}

/* ---- holding the lock ------------------------------------------------- */

/*
 * The lock is ours from now on, for up to hold_ms: h (just read and
 * derived) is the head, kept in memory while held. The head file says
 * so meanwhile, with a size no file has: were this process to die with
 * the lock, the next writer re-derives the head from the log.
 */
static void
ev_hold_begin(struct evidence *ev, const struct ev_head *h)
{
	struct ev_head m = *h;

	memcpy(ev->hhash, h->hash, sizeof(ev->hhash));
	m.size = EVIDENCE_SIZE_NONE;
	evidence_head_write(&ev->hf, &m);
	ev->held = 1;
	ev->held_until = ev_mono_ms() + ev->hold_ms;
	pthread_cond_signal(&ev->kcv);
}

/*
 * Store the held head and unlock. The head file describes the log as it
 * is (fstat: a copytruncate may have emptied it since). After a failed
 * write (failed) the size is left unmatched, as after a failed write
 * without a hold: the log may end in a partial line (of this batch, or
 * of the one the lock was taken on), so the next writer derives the head
 * from the log's last complete line and starts on a fresh line, or takes
 * the hash if the log is empty. Under io.
 */
static void
ev_release(struct evidence *ev, int failed)
{
	struct ev_head h;
	struct stat st;

	if (fstat(ev->fd, &st) == 0) {
		memcpy(h.hash, ev->hhash, sizeof(h.hash));
		h.size = failed ? EVIDENCE_SIZE_NONE :
		    (unsigned long long)st.st_size;
		h.dev = (unsigned long long)st.st_dev;
		h.ino = (unsigned long long)st.st_ino;
		h.valid = 1;
		evidence_head_write(&ev->hf, &h);
	}	/* else the head file keeps its held size: the log wins */
	ev_unlock(ev);
	ev->held = 0;
}

static void
ev_abs_time(int64_t ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000L;
}

/* The keeper: releases a hold whose time is up when no batch came. */
static void *
ev_keeper(void *arg)
{
	struct evidence *ev = arg;
	struct timespec ts;

	pthread_mutex_lock(&ev->io);
	while (!ev->keeper_stop) {
		if (!ev->held) {
			pthread_cond_wait(&ev->kcv, &ev->io);
		} else if (ev_mono_ms() >= ev->held_until) {
			ev_release(ev, 0);
		} else {
			ev_abs_time(ev->held_until, &ts);
			pthread_cond_timedwait(&ev->kcv, &ev->io, &ts);
		}
	}
	pthread_mutex_unlock(&ev->io);
	return NULL;
}

void
evidence_hold(struct evidence *ev, unsigned ms)
{
	sigset_t all, old;
	int stop, rc;

	pthread_mutex_lock(&ev->io);
	if (ev->held)
		ev_release(ev, 0);
	ev->hold_ms = ms;
	if (ms > 0 && !ev->keeper_on) {
		/* No signal for the keeper: they are the application's. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		if ((rc = pthread_create(&ev->keeper, NULL, ev_keeper,
		    ev)) == 0)
			ev->keeper_on = 1;
		else {
			/* Without a keeper an idle hold would never end. */
			log_msg(LOG_WARNING, NULL, "evidence: no keeper "
			    "thread (%s); not holding the lock of %s",
			    strerror(rc), ev->headpath);
			ev->hold_ms = 0;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	stop = ms == 0 && ev->keeper_on;
	ev->keeper_stop = stop;
	pthread_cond_signal(&ev->kcv);
	pthread_mutex_unlock(&ev->io);
	if (stop) {
		pthread_join(ev->keeper, NULL);
		ev->keeper_on = ev->keeper_stop = 0;
	}
}

struct evidence *
evidence_open(const char *path, int sync_interval, char *err, size_t errlen)
{
	struct evidence *ev = xcalloc(1, sizeof(*ev));
	struct strbuf hp = STRBUF_INIT;
	pthread_condattr_t ca;

	group_init(&ev->grp, EV_BATCH_MAX);
	pthread_mutex_init(&ev->io, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ev->kcv, &ca);
	pthread_condattr_destroy(&ca);
	ev->path = xstrdup(path);
	strbuf_addf(&hp, "%s.head", path);
	ev->headpath = strbuf_detach(&hp);
	ev->hf.path = ev->headpath;
	strbuf_addf(&hp, "%s.lock", path);
	ev->gatepath = strbuf_detach(&hp);
	ev->sync_interval = sync_interval < 0 ? 0 : sync_interval;
	ev->synced_at = ev_mono_ms();
	ev->fd = ev->hf.fd = ev->gfd = -1;
	if ((ev->fd = ev_open_log(path)) < 0) {
		ev_fail(err, errlen, "open", path);
		goto fail;
	}
	/*
	 * No atime: the head is read after every write of it, so relatime
	 * would dirty its inode at every record. O_NOATIME needs the owner
	 * (or CAP_FOWNER); anyone else opens it plainly.
	 */
	ev->hf.fd = open(ev->headpath, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOATIME, 0640);
	if (ev->hf.fd < 0 && errno == EPERM)
		ev->hf.fd = open(ev->headpath, O_RDWR | O_CREAT | O_CLOEXEC,
		    0640);
	if (ev->hf.fd < 0) {
		ev_fail(err, errlen, "open", ev->headpath);
		goto fail;
	}
	/*
	 * Only ever locked, but opened for writing as the head is: where
	 * flock(2) is emulated with byte-range locks (NFS) an exclusive
	 * lock needs a descriptor open for writing.
	 */
	if ((ev->gfd = open(ev->gatepath, O_RDWR | O_CREAT | O_CLOEXEC,
	    0640)) < 0) {
		ev_fail(err, errlen, "open", ev->gatepath);
		goto fail;
	}
	if (ev_lock(ev, err, errlen) < 0)
		goto fail;
	if (ev_reconcile(ev, err, errlen) < 0) {
		ev_unlock(ev);
		goto fail;
	}
	ev_unlock(ev);
	return ev;
fail:
	evidence_close(ev);
	return NULL;
}

void
evidence_close(struct evidence *ev)
{
	if (ev == NULL)
		return;
	evidence_hold(ev, 0);
	if (ev->fd >= 0) {
		ev_sync(ev);
		close(ev->fd);
	}
	if (ev->hf.fd >= 0)
		close(ev->hf.fd);
	if (ev->gfd >= 0)
		close(ev->gfd);
	group_destroy(&ev->grp);
	pthread_mutex_destroy(&ev->io);
	pthread_cond_destroy(&ev->kcv);
	free(ev->path);
	free(ev->headpath);
	free(ev->gatepath);
	free(ev);
}

int
evidence_reopen(struct evidence *ev, char *err, size_t errlen)
{
	int fd, rc = 0;

	pthread_mutex_lock(&ev->io);
	if (ev->held)
		ev_release(ev, 0);
	if ((fd = ev_open_log(ev->path)) < 0) {
		/* Keep writing to the old file rather than nowhere. */
		rc = ev_fail(err, errlen, "open", ev->path);
	} else {
		ev_sync(ev);
		close(ev->fd);
		ev->fd = fd;
		if (ev_lock(ev, err, errlen) < 0)
			rc = -1;
		else {
			rc = ev_reconcile(ev, err, errlen);
			ev_unlock(ev);
		}
	}
	pthread_mutex_unlock(&ev->io);
	return rc;
}

/*
 * st_dev, st_ino and st_size of path (the rest zero), without asking for
 * its times: stat(2) asks for ctime, and a queried ctime makes the next
 * write stamp a fine-grained one and dirty the inode (multigrain
 * timestamps, Linux 6.13): once per record. 0 / -1.
 */
static int
ev_stat_path(const char *path, struct stat *st)
{
	struct statx sx;

	if (statx(AT_FDCWD, path, 0, STATX_INO | STATX_SIZE, &sx) < 0)
		return stat(path, st);	/* no statx (old kernel, seccomp)? */
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
	st->st_ino = (ino_t)sx.stx_ino;
	st->st_size = (off_t)sx.stx_size;
	return 0;
}

/*
 * Under the lock: reopen if the path names another file now, and st the
 * open log (dev, ino, size). While the path names the open file, its
 * stat is the file's: one statx(2) serves both. 0 / -1.
 */
static int
ev_follow_rotation(struct evidence *ev, struct stat *st, char *err,
    size_t errlen)
{
	int fd;

	if (ev_stat_path(ev->path, st) == 0 &&
	    (unsigned long long)st->st_dev == ev->dev &&
	    (unsigned long long)st->st_ino == ev->ino)
		return 0;
	if ((fd = ev_open_log(ev->path)) < 0)
		return ev_fail(err, errlen, "open", ev->path);
	ev_sync(ev);
	close(ev->fd);
	ev->fd = fd;
	return ev_fstat(ev, st, err, errlen);
}

/* ---- appending -------------------------------------------------------- */

/*
 * Write iov[0..iovcnt), n bytes in all, with one writev(2) (more only if
 * the kernel stops short, which for a file means the disk is full; the
 * lock keeps other writers out meanwhile). On failure cut the file back
 * to oldsize so no partial record stays behind; *kept is how many of the
 * n bytes stay in the file (0 unless the cut failed). An oldsize of -1
 * (a held lock: not looked up) is the size now less the bytes written,
 * since no one else writes; a copytruncate since may have emptied the
 * file, so the size before is not known. 0 / -1.
 */
static int
ev_write(struct evidence *ev, struct iovec *iov, int iovcnt, size_t n,
    off_t oldsize, size_t *kept, char *err, size_t errlen)
{
	size_t done = 0;
	ssize_t w;
	int saved, cut;

	*kept = 0;
	while (done < n) {
		w = writev(ev->fd, iov, iovcnt);
		if (w < 0 && errno == EINTR)
			continue;
		if (w == 0)
			errno = ENOSPC;	/* no progress: treat as full */
		if (w <= 0)
			break;
		done += (size_t)w;
		for (; iovcnt > 0 && (size_t)w >= iov->iov_len; iov++, iovcnt--)
			w -= (ssize_t)iov->iov_len;
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	if (done == n)
		return 0;
	saved = errno;
	if (done == 0) {
		ev_fail(err, errlen, "write", ev->path);
		return -1;
	}
	if (oldsize < 0) {
		struct stat st;

		if (fstat(ev->fd, &st) == 0 && st.st_size >= (off_t)done)
			oldsize = st.st_size - (off_t)done;
	}
	/* If the cut fails, the next writer starts on a fresh line. */
	if (!(cut = oldsize >= 0 && ftruncate(ev->fd, oldsize) == 0))
		*kept = done;
	snprintf(err, errlen, "write %s: %s (%zu of %zu bytes written, %s)",
	    ev->path, strerror(saved), done, n, cut ? "then removed" :
	    "left as a partial line");
	return -1;
}

/* Close r with prev and its hash (see evidence.h); the hash into hash. */
static void
ev_seal(struct evrec *r, const char *prev, char hash[SHA256_HEX_LEN + 1])
{
	strbuf_adds(&r->sb, ",\"prev\":\"");
	strbuf_add(&r->sb, prev, SHA256_HEX_LEN);
	strbuf_addc(&r->sb, '"');
	sha256_hex(r->sb.s, r->sb.len, hash);
	strbuf_adds(&r->sb, ",\"hash\":\"");
	strbuf_add(&r->sb, hash, SHA256_HEX_LEN);
	strbuf_adds(&r->sb, "\"}\n");
}

/*
 * Under the lock: seal the batch onto hash (the head), each record onto
 * the one before it, and write all with one writev(2), after a newline
 * when need_nl (the log ends in a partial line). oldsize: see ev_write.
 * hash becomes the hash of the last record whose whole line is in the
 * file, and a request's rc 0 only when its whole line is in the file;
 * when any is not, err says why, *kept how many bytes of the batch stayed
 * in the file, and -1 is returned. *n: the bytes written.
 */
static int
ev_append_locked(struct evidence *ev, struct ev_req *batch,
    char hash[SHA256_HEX_LEN + 1], int need_nl, off_t oldsize, size_t *n,
    size_t *kept, char *err, size_t errlen)
{
	static char nl[] = "\n";
	struct iovec iov[EV_BATCH_MAX + 1];
	char h[SHA256_HEX_LEN + 1];
	struct ev_req *q;
	size_t end;
	int iovcnt = 0;

	*n = 0;
	if (need_nl) {
		/* Never extend a partial line: start a fresh one. */
		iov[iovcnt].iov_base = nl;
		iov[iovcnt++].iov_len = 1;
		*n = 1;
	}
	memcpy(h, hash, sizeof(h));
	for (q = batch; q != NULL; q = ev_next(q)) {
		ev_seal(q->r, h, h);
		iov[iovcnt].iov_base = q->r->sb.s;
		iov[iovcnt++].iov_len = q->r->sb.len;
		*n += q->r->sb.len;
	}
	if (ev_write(ev, iov, iovcnt, *n, oldsize, kept, err, errlen) < 0) {
		/* The records that are whole in the file chain on. */
		for (end = (size_t)need_nl, q = batch; q != NULL;
		    q = ev_next(q))
			if ((end += q->r->sb.len) <= *kept) {
				q->rc = 0;
				/* ...,"hash":"<hash>"}\n */
				memcpy(hash, q->r->sb.s + q->r->sb.len - 3 -
				    SHA256_HEX_LEN, SHA256_HEX_LEN);
			}
		ev->dirty |= *kept > 0;
		return -1;
	}
	memcpy(hash, h, SHA256_HEX_LEN);
	ev->dirty = 1;
	for (q = batch; q != NULL; q = ev_next(q))
		q->rc = 0;
	return 0;
}

/*
 * A batch while the lock is held: the head is in memory, the log is the
 * open file (a rename is seen at the next acquisition). A failed write
 * releases the lock and leaves the head to the head file and the log.
 */
static void
ev_batch_held(struct evidence *ev, struct ev_req *batch, int need_nl,
    off_t oldsize, char *err, size_t errlen)
{
	size_t n, kept;

	if (ev_append_locked(ev, batch, ev->hhash, need_nl, oldsize, &n,
	    &kept, err, errlen) < 0)
		ev_release(ev, 1);
}

/*
 * A batch that takes the lock: follow a rotation, find the head, append;
 * then store the head and unlock, or, with a hold time, keep both.
 */
static void
ev_batch(struct evidence *ev, struct ev_req *batch, char *err,
    size_t errlen)
{
	struct ev_head h;
	struct stat st;
	size_t n, kept;
	int need_nl;

	if (ev_lock(ev, err, errlen) < 0)
		return;
	if (ev_follow_rotation(ev, &st, err, errlen) < 0)
		goto unlock;
	evidence_head_read(&ev->hf, &h);
	if (evidence_head_derive(ev->fd, ev->path, &h, &st, &need_nl,
	    err, errlen) < 0)
		goto unlock;
	if (ev->hold_ms > 0) {
		ev_hold_begin(ev, &h);
		ev_batch_held(ev, batch, need_nl, st.st_size, err, errlen);
		return;
	}
	/* On failure the head stays: the next writer re-derives it. */
	if (ev_append_locked(ev, batch, h.hash, need_nl, st.st_size, &n,
	    &kept, err, errlen) == 0) {
		h.size = (unsigned long long)st.st_size + n;
		evidence_head_write(&ev->hf, &h);
	}
unlock:
	ev_unlock(ev);
}

static void
ev_req_fail(struct ev_req *q, const char *err)
{
	q->rc = -1;
	if (q->errlen > 0)
		snprintf(q->err, q->errlen, "%s", err);
}

/*
 * The leader's work, outside the queue mutex: one lock, one write and
 * one head update for the batch, then the sync when one is due. Every
 * request gets its own outcome (rc, and err on failure).
 */
static void
ev_lead(struct evidence *ev, struct ev_req *batch)
{
	char err[512] = "";
	struct ev_req *q;
	int written = 0;

	pthread_mutex_lock(&ev->io);
	if (ev->held)
		ev_batch_held(ev, batch, 0, -1, err, sizeof(err));
	else
		ev_batch(ev, batch, err, sizeof(err));
	if (ev->held && ev_mono_ms() >= ev->held_until)
		ev_release(ev, 0);
	for (q = batch; q != NULL; q = ev_next(q))
		if (q->rc < 0)
			ev_req_fail(q, err);
		else
			written = 1;
	if (written && (ev->sync_interval == 0 ||
	    ev_mono_ms() - ev->synced_at >= ev->sync_interval * 1000LL)) {
		if (fdatasync(ev->fd) < 0) {
			/* Written but maybe not durable: the callers decide. */
			ev_fail(err, sizeof(err), "fdatasync", ev->path);
			for (q = batch; q != NULL; q = ev_next(q))
				if (q->rc == 0)
					ev_req_fail(q, err);
		} else {
			ev->dirty = 0;
			ev->synced_at = ev_mono_ms();
		}
	}
	pthread_mutex_unlock(&ev->io);
}

int
evidence_append(struct evidence *ev, struct evrec *r, char *err,
    size_t errlen)
{
	struct ev_req req = { .r = r, .err = err, .errlen = errlen, .rc = -1 };
	struct group_req *batch;
	size_t base = r->sb.len;

	if ((batch = group_join(&ev->grp, &req.g)) != NULL) {
		ev_lead(ev, (struct ev_req *)batch);
		group_done(&ev->grp, batch);
	}
	/* Unseal: r can be appended again (e.g. after a retry). */
	r->sb.len = base;
	r->sb.s[base] = '\0';
	return req.rc;
}

void
evidence_stats(struct evidence *ev, unsigned long *batches,
    unsigned long *records)
{
	group_stats(&ev->grp, batches, records);
}
