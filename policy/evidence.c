/*
 * evidence - the tamper-evident evidence log writer (see evidence.h)
 *
 * Design. The log is opened O_RDWR|O_APPEND|O_CREAT (0640, less the
 * umask; readable for step 2); "<log>.head" is both the lock and the chain head.
 *
 * Group commit (leader/follower, as lists/db_batch.c, with no thread of
 * its own): an append queues its record under the queue mutex; whoever
 * finds no leader at work becomes the leader, takes the queue (at most
 * EV_BATCH_MAX records), and with the queue mutex released writes the
 * whole batch under the I/O mutex (threads share one descriptor, and
 * flock(2) does not exclude holders of the same open file description)
 * and then under flock(LOCK_EX) on the head file (other processes:
 * aupctl, a second daemon instance), doing, once per batch and in order:
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
 * exactly those callers (one condition variable per request), and the
 * first caller still queued leads the next batch. A failed batch fails
 * every record in it: none is in the file, unless the cut back failed,
 * and then the records whose whole line is in the file are reported
 * written (they chain correctly) and the others fail. Either way no
 * record is reported written that is not in the file, and the head never
 * names a record that is not. Each caller unseals its own record.
 *
 * A partial last line (power cut or disk full with truncation impossible)
 * is never extended: the next record is written after a "\n", so the
 * damaged line stays on a line of its own, which verify reports, and the
 * new record chains to the last complete record.
 *
 * fdatasync(2): every sync_interval seconds (0: every record, so every
 * batch), checked by the leader after each batch, and at reopen and
 * close. It runs after the flock is released so other processes do not
 * wait for the disk; if it fails, every record of the batch reports it.
 *
 * Ownership: struct evidence owns its descriptors and paths; a struct
 * evrec owns its strbuf (evrec_free). Threads: see evidence.h.
 * Errors: 0 / -1 with err "what path: strerror".
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "evidence.h"
#include "json.h"
#include "log.h"
#include "sha256.h"
#include "strbuf.h"
#include "xalloc.h"

#define EV_HEAD_LEN	128	/* "%64s %020llu %020llu %020llu\n" */
#define EV_HASH_SUFFIX	75	/* ,"hash":"<64 hex>"} */
#define EV_TAIL_MAX	(16 * 1024 * 1024)	/* longest line looked back */
#define EV_BATCH_MAX	256	/* records per write; < IOV_MAX */

struct ev_head {
	char			hash[SHA256_HEX_LEN + 1];
	unsigned long long	size, dev, ino;
	int			valid;	/* head file was readable */
};

/* One caller's record in the queue; lives on the caller's stack. */
struct ev_req {
	struct evrec	*r;
	char		*err;
	size_t		 errlen;
	int		 rc;
	int		 done;
	pthread_cond_t	 cv;		/* its own: no thundering herd */
	struct ev_req	*next;
};

struct evidence {
	pthread_mutex_t	 mu;		/* the queue and leading */
	struct ev_req	*head, **tail;
	int		 leading;	/* a leader is at work */
	unsigned long	 batches, records;
	pthread_mutex_t	 io;		/* the rest: leader, reopen */
	char		*path;
	char		*headpath;
	int		 fd;		/* the log, O_APPEND */
	unsigned long long dev, ino;	/* of fd */
	int		 hfd;		/* "<log>.head", flock()ed */
	int		 sync_interval;	/* seconds; 0 = every record */
	int64_t		 synced_at;	/* monotonic ms of the last sync */
	int		 dirty;		/* written since the last sync */
	char		 hline[EV_HEAD_LEN];	/* a head line, and */
	struct ev_head	 hlast;		/* its parse (valid 0: none yet) */
};

static const char ev_zero_hash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

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

static int
ev_is_hash(const char *s)
{
	for (int i = 0; i < SHA256_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return 1;
}

/* ---- the head file ---------------------------------------------------- */

/*
 * The head line is fixed: "<64 hex> <20 digits> <20 digits> <20 digits>\n"
 * (EV_HEAD_LEN bytes), so it is read and written by position, with no
 * scanf or printf at every record. After the hash (p below): spaces at
 * p[0], p[21], p[42] before size, dev and ino, the newline at p[63].
 */
#define EV_NUM_LEN	20
_Static_assert(SHA256_HEX_LEN + 3 * (1 + EV_NUM_LEN) + 1 == EV_HEAD_LEN,
    "head line layout");

static int
ev_head_num(const char *s, unsigned long long *v)
{
	*v = 0;
	for (int i = 0; i < EV_NUM_LEN; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned long long)(s[i] - '0');
	}
	return 0;
}

static void
ev_head_put_num(char *s, unsigned long long v)
{
	for (int i = EV_NUM_LEN; i-- > 0; v /= 10)
		s[i] = (char)('0' + v % 10);
}

/*
 * The head file into h. The line last written or read (ev->hline) is
 * kept with its parse (ev->hlast): when the file still holds those very
 * bytes, as it does from one batch to the next while no other writer
 * comes between, their parse is reused. The file is still read every
 * time: the bytes, not a guess, decide.
 */
static void
ev_head_read(struct evidence *ev, struct ev_head *h)
{
	char buf[EV_HEAD_LEN], *p = buf + SHA256_HEX_LEN;

	memset(h, 0, sizeof(*h));
	memcpy(h->hash, ev_zero_hash, sizeof(h->hash));
	if (pread(ev->hfd, buf, EV_HEAD_LEN, 0) != EV_HEAD_LEN)
		return;
	if (ev->hlast.valid && memcmp(buf, ev->hline, EV_HEAD_LEN) == 0) {
		*h = ev->hlast;
		return;
	}
	if (!ev_is_hash(buf) ||
	    p[0] != ' ' || ev_head_num(p + 1, &h->size) < 0 ||
	    p[21] != ' ' || ev_head_num(p + 22, &h->dev) < 0 ||
	    p[42] != ' ' || ev_head_num(p + 43, &h->ino) < 0 ||
	    p[63] != '\n')
		return;
	memcpy(h->hash, buf, SHA256_HEX_LEN);
	h->valid = 1;
	memcpy(ev->hline, buf, EV_HEAD_LEN);
	ev->hlast = *h;
}

/*
 * h into the head file, by way of ev->hline (which then reads back as h):
 * from one batch to the next only the hash and the size change.
 */
static void
ev_head_write(struct evidence *ev, const struct ev_head *h)
{
	char *p = ev->hline + SHA256_HEX_LEN;

	if (!ev->hlast.valid || ev->hlast.dev != h->dev ||
	    ev->hlast.ino != h->ino) {
		p[0] = p[21] = p[42] = ' ';
		ev_head_put_num(p + 22, h->dev);
		ev_head_put_num(p + 43, h->ino);
		p[63] = '\n';
	}
	memcpy(ev->hline, h->hash, SHA256_HEX_LEN);
	ev_head_put_num(p + 1, h->size);
	ev->hlast = *h;
	ev->hlast.valid = 1;
	/* A stale head is repaired by the next writer (the log wins). */
	if (pwrite(ev->hfd, ev->hline, EV_HEAD_LEN, 0) != EV_HEAD_LEN)
		log_msg(LOG_WARNING, NULL, "evidence: cannot update %s: %s",
		    ev->headpath, strerror(errno));
}

/*
 * The hash of the last complete line of fd (size bytes) into hash; *good
 * is the size up to the end of that line, less than size when the file
 * ends in a partial line. 1 found / 0 no usable line / -1 read error.
 */
static int
ev_tail_hash(int fd, off_t size, char *hash, off_t *good)
{
	char buf[65536];
	off_t pos = size, eol = -1;
	ssize_t n;

	while (pos > 0 && size - pos < EV_TAIL_MAX && eol < 0) {
		size_t want = pos > (off_t)sizeof(buf) ? sizeof(buf) :
		    (size_t)pos;

		pos -= (off_t)want;
		if ((n = pread(fd, buf, want, pos)) != (ssize_t)want)
			return -1;
		for (size_t i = want; i-- > 0;)
			if (buf[i] == '\n') {
				eol = pos + (off_t)i;
				break;
			}
	}
	*good = eol + 1;
	if (eol < EV_HASH_SUFFIX)
		return 0;
	if (pread(fd, buf, EV_HASH_SUFFIX, eol - EV_HASH_SUFFIX) !=
	    EV_HASH_SUFFIX)
		return -1;
	if (memcmp(buf, ",\"hash\":\"", 9) != 0 || !ev_is_hash(buf + 9) ||
	    memcmp(buf + 9 + SHA256_HEX_LEN, "\"}", 2) != 0)
		return 0;
	memcpy(hash, buf + 9, SHA256_HEX_LEN);
	hash[SHA256_HEX_LEN] = '\0';
	return 1;
}

/*
 * Bring h in line with the open log (st): see step 2 of the design.
 * Sets *need_nl when the file ends in a partial line; h->size then stays
 * short of st_size, so the next writer checks the tail again. 0 / -1.
 */
static int
ev_head_derive(struct evidence *ev, struct ev_head *h, const struct stat *st,
    int *need_nl, char *err, size_t errlen)
{
	char hash[SHA256_HEX_LEN + 1];
	off_t good = st->st_size;
	int rc;

	*need_nl = 0;
	if (h->valid && h->size == (unsigned long long)st->st_size &&
	    h->dev == (unsigned long long)st->st_dev &&
	    h->ino == (unsigned long long)st->st_ino)
		return 0;
	if (st->st_size > 0) {
		rc = ev_tail_hash(ev->fd, st->st_size, hash, &good);
		if (rc < 0)
			return ev_fail(err, errlen, "read", ev->path);
		if (rc == 1)
			memcpy(h->hash, hash, sizeof(h->hash));
		else
			log_msg(LOG_WARNING, NULL, "evidence: %s ends without "
			    "a complete record; chaining to %.12s...",
			    ev->path, h->hash);
		*need_nl = good < st->st_size;
	}
	h->size = (unsigned long long)good;
	h->dev = (unsigned long long)st->st_dev;
	h->ino = (unsigned long long)st->st_ino;
	h->valid = 1;
	return 0;
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
ev_lock(struct evidence *ev, char *err, size_t errlen)
{
	while (flock(ev->hfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return ev_fail(err, errlen, "lock", ev->headpath);
	return 0;
}

static void
ev_unlock(struct evidence *ev)
{
	flock(ev->hfd, LOCK_UN);
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
	ev_head_read(ev, &h);
	before = h;
	if (ev_head_derive(ev, &h, &st, &need_nl, err, errlen) < 0)
		return -1;
	if (!before.valid || strcmp(before.hash, h.hash) != 0 ||
	    before.size != h.size || before.dev != h.dev || before.ino != h.ino)
		ev_head_write(ev, &h);
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

struct evidence *
evidence_open(const char *path, int sync_interval, char *err, size_t errlen)
{
	struct evidence *ev = xcalloc(1, sizeof(*ev));
	struct strbuf hp = STRBUF_INIT;

	pthread_mutex_init(&ev->mu, NULL);
	pthread_mutex_init(&ev->io, NULL);
	ev->tail = &ev->head;
	ev->path = xstrdup(path);
	strbuf_addf(&hp, "%s.head", path);
	ev->headpath = strbuf_detach(&hp);
	ev->sync_interval = sync_interval < 0 ? 0 : sync_interval;
	ev->synced_at = ev_mono_ms();
	ev->fd = ev->hfd = -1;
	if ((ev->fd = ev_open_log(path)) < 0) {
		ev_fail(err, errlen, "open", path);
		goto fail;
	}
	/*
	 * No atime: the head is read after every write of it, so relatime
	 * would dirty its inode at every record. O_NOATIME needs the owner
	 * (or CAP_FOWNER); anyone else opens it plainly.
	 */
	ev->hfd = open(ev->headpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOATIME,
	    0640);
	if (ev->hfd < 0 && errno == EPERM)
		ev->hfd = open(ev->headpath, O_RDWR | O_CREAT | O_CLOEXEC,
		    0640);
	if (ev->hfd < 0) {
		ev_fail(err, errlen, "open", ev->headpath);
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
	if (ev->fd >= 0) {
		ev_sync(ev);
		close(ev->fd);
	}
	if (ev->hfd >= 0)
		close(ev->hfd);
	pthread_mutex_destroy(&ev->mu);
	pthread_mutex_destroy(&ev->io);
	free(ev->path);
	free(ev->headpath);
	free(ev);
}

int
evidence_reopen(struct evidence *ev, char *err, size_t errlen)
{
	int fd, rc = 0;

	pthread_mutex_lock(&ev->io);
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
 * n bytes stay in the file (0 unless the cut failed). 0 / -1.
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
	/* If the cut fails, the next writer starts on a fresh line. */
	if (!(cut = ftruncate(ev->fd, oldsize) == 0))
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
 * Under the lock: seal the batch onto the current head, each record onto
 * the one before it, write all with one writev(2), move the head once.
 * A request's rc becomes 0 only when its whole line is in the file; when
 * any is not, err says why and -1 is returned.
 */
static int
ev_append_locked(struct evidence *ev, struct ev_req *batch, char *err,
    size_t errlen)
{
	static char nl[] = "\n";
	struct iovec iov[EV_BATCH_MAX + 1];
	char hash[SHA256_HEX_LEN + 1];
	struct ev_head h;
	struct stat st;
	struct ev_req *q;
	size_t n = 0, kept, end;
	int need_nl, iovcnt = 0;

	if (ev_follow_rotation(ev, &st, err, errlen) < 0)
		return -1;
	ev_head_read(ev, &h);
	if (ev_head_derive(ev, &h, &st, &need_nl, err, errlen) < 0)
		return -1;
	if (need_nl) {
		/* Never extend a partial line: start a fresh one. */
		iov[iovcnt].iov_base = nl;
		iov[iovcnt++].iov_len = 1;
		n = 1;
	}
	for (q = batch; q != NULL; q = q->next) {
		ev_seal(q->r, h.hash, hash);
		memcpy(h.hash, hash, sizeof(h.hash));
		iov[iovcnt].iov_base = q->r->sb.s;
		iov[iovcnt++].iov_len = q->r->sb.len;
		n += q->r->sb.len;
	}
	if (ev_write(ev, iov, iovcnt, n, st.st_size, &kept, err, errlen) < 0) {
		/* The head stays: the next writer re-derives it. */
		for (end = (size_t)need_nl, q = batch; q != NULL; q = q->next)
			if ((end += q->r->sb.len) <= kept)
				q->rc = 0;
		ev->dirty |= kept > 0;
		return -1;
	}
	h.size = (unsigned long long)st.st_size + n;
	ev_head_write(ev, &h);
	ev->dirty = 1;
	for (q = batch; q != NULL; q = q->next)
		q->rc = 0;
	return 0;
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
	if (ev_lock(ev, err, sizeof(err)) == 0) {
		ev_append_locked(ev, batch, err, sizeof(err));
		ev_unlock(ev);
	}
	for (q = batch; q != NULL; q = q->next)
		if (q->rc < 0)
			ev_req_fail(q, err);
		else
			written = 1;
	if (written && (ev->sync_interval == 0 ||
	    ev_mono_ms() - ev->synced_at >= ev->sync_interval * 1000LL)) {
		if (fdatasync(ev->fd) < 0) {
			/* Written but maybe not durable: the callers decide. */
			ev_fail(err, sizeof(err), "fdatasync", ev->path);
			for (q = batch; q != NULL; q = q->next)
				if (q->rc == 0)
					ev_req_fail(q, err);
		} else {
			ev->dirty = 0;
			ev->synced_at = ev_mono_ms();
		}
	}
	pthread_mutex_unlock(&ev->io);
}

/* Under the queue mutex: the first EV_BATCH_MAX requests of the queue. */
static struct ev_req *
ev_take(struct evidence *ev)
{
	struct ev_req *batch = ev->head, **end = &ev->head;

	for (int n = 0; *end != NULL && n < EV_BATCH_MAX; n++)
		end = &(*end)->next;
	ev->head = *end;
	*end = NULL;
	if (ev->head == NULL)
		ev->tail = &ev->head;
	return batch;
}

int
evidence_append(struct evidence *ev, struct evrec *r, char *err,
    size_t errlen)
{
	struct ev_req req = { .r = r, .err = err, .errlen = errlen, .rc = -1 };
	struct ev_req *batch, *q, *next;
	size_t base = r->sb.len;

	pthread_cond_init(&req.cv, NULL);
	pthread_mutex_lock(&ev->mu);
	*ev->tail = &req;
	ev->tail = &req.next;
	while (!req.done) {
		if (ev->leading) {
			pthread_cond_wait(&req.cv, &ev->mu);
			continue;
		}
		ev->leading = 1;
		batch = ev_take(ev);
		pthread_mutex_unlock(&ev->mu);
		ev_lead(ev, batch);
		pthread_mutex_lock(&ev->mu);
		for (q = batch; q != NULL; q = next) {
			next = q->next;
			q->next = NULL;
			q->done = 1;
			pthread_cond_signal(&q->cv);
			ev->records++;
		}
		ev->batches++;
		ev->leading = 0;
		if (ev->head != NULL)	/* the next batch's first leads */
			pthread_cond_signal(&ev->head->cv);
	}
	pthread_mutex_unlock(&ev->mu);
	pthread_cond_destroy(&req.cv);
	/* Unseal: r can be appended again (e.g. after a retry). */
	r->sb.len = base;
	r->sb.s[base] = '\0';
	return req.rc;
}

void
evidence_stats(struct evidence *ev, unsigned long *batches,
    unsigned long *records)
{
	pthread_mutex_lock(&ev->mu);
	*batches = ev->batches;
	*records = ev->records;
	pthread_mutex_unlock(&ev->mu);
}

/* ---- records ---------------------------------------------------------- */

void
evidence_new_ref(char ref[EVIDENCE_REF_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	static unsigned long fallback;
	unsigned char rnd[EVIDENCE_REF_LEN / 2];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(rnd)) {
		n = getrandom(rnd + got, sizeof(rnd) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof(rnd)) {
		/* No kernel entropy call: unique, if guessable, refs. */
		unsigned long long v = (unsigned long long)evidence_now_ms() ^
		    ((unsigned long long)getpid() << 40) ^
		    __atomic_add_fetch(&fallback, 1, __ATOMIC_RELAXED);

		for (size_t i = 0; i < sizeof(rnd); i++, v >>= 8)
			rnd[i] = (unsigned char)v;
	}
	for (size_t i = 0; i < sizeof(rnd); i++) {
		ref[2 * i] = hex[rnd[i] >> 4];
		ref[2 * i + 1] = hex[rnd[i] & 0xf];
	}
	ref[EVIDENCE_REF_LEN] = '\0';
}

/* A NULL ref gets a fresh one, so every record can be quoted. */
void
evrec_begin(struct evrec *r, const char *event, const char *ref)
{
	char ts[32], fresh[EVIDENCE_REF_LEN + 1];

	if (ref == NULL) {
		evidence_new_ref(fresh);
		ref = fresh;
	}
	evidence_timestamp(evidence_now_ms(), ts, sizeof(ts));
	strbuf_init(&r->sb, 1024);
	strbuf_adds(&r->sb, "{\"ts\":\"");
	strbuf_adds(&r->sb, ts);
	strbuf_adds(&r->sb, "\",\"ref\":");
	json_cstr(&r->sb, ref);
	strbuf_adds(&r->sb, ",\"event\":");
	json_cstr(&r->sb, event);
}

static void
evrec_key(struct evrec *r, const char *key)
{
	strbuf_addc(&r->sb, ',');
	json_cstr(&r->sb, key);
	strbuf_addc(&r->sb, ':');
}

void
evrec_str(struct evrec *r, const char *key, const char *val)
{
	evrec_key(r, key);
	json_cstr(&r->sb, val);
}

void
evrec_int(struct evrec *r, const char *key, long long val)
{
	evrec_key(r, key);
	strbuf_addf(&r->sb, "%lld", val);
}

void
evrec_raw(struct evrec *r, const char *key, const char *json)
{
	evrec_key(r, key);
	strbuf_adds(&r->sb, json != NULL ? json : "null");
}

void
evrec_free(struct evrec *r)
{
	strbuf_free(&r->sb);
}
