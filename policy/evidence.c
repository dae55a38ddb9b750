/*
 * evidence - the tamper-evident evidence log writer (see evidence.h)
 *
 * Design. The log is opened O_RDWR|O_APPEND|O_CREAT (0640, less the
 * umask; readable for step 2); "<log>.head" is both the lock and the chain head. Every append
 * runs under the internal mutex (threads share one descriptor, and
 * flock(2) does not exclude holders of the same open file description)
 * and then under flock(LOCK_EX) on the head file (other processes:
 * aupctl, a second daemon instance), and does, in order:
 *
 *   1. rotation: if stat(path) no longer names the open file (or the path
 *      is gone), open the path again (creating it);
 *   2. head: the head file holds "<hash> <size> <dev> <ino>" of the last
 *      record and of the file just after it was written. If that still
 *      describes the open file, the hash is the head. Otherwise another
 *      writer died between its write and its head update, or the file was
 *      rotated or copy-truncated: an empty file continues the chain from
 *      the head file's hash (rotation), a non-empty one is re-derived from
 *      its last complete line (the log wins over the head file);
 *   3. one write(2) of the sealed line; on failure (ENOSPC, EIO, short
 *      write) the file is truncated back to its old size where possible
 *      and the head is not advanced;
 *   4. the head file is rewritten in place (pwrite of a fixed-size line).
 *
 * A partial last line (power cut or disk full with truncation impossible)
 * is never extended: the next record is written after a "\n", so the
 * damaged line stays on a line of its own, which verify reports, and the
 * new record chains to the last complete record.
 *
 * fdatasync(2): every sync_interval seconds (0: every record), checked at
 * each append, and at reopen and close. It runs after the flock is
 * released so other processes do not wait for the disk.
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

struct evidence {
	pthread_mutex_t	 mu;
	char		*path;
	char		*headpath;
	int		 fd;		/* the log, O_APPEND */
	int		 hfd;		/* "<log>.head", flock()ed */
	int		 sync_interval;	/* seconds; 0 = every record */
	int64_t		 synced_at;	/* monotonic ms of the last sync */
	int		 dirty;		/* written since the last sync */
};

struct ev_head {
	char			hash[SHA256_HEX_LEN + 1];
	unsigned long long	size, dev, ino;
	int			valid;	/* head file was readable */
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

static void
ev_head_read(int hfd, struct ev_head *h)
{
	char buf[EV_HEAD_LEN + 1];
	ssize_t n;

	memset(h, 0, sizeof(*h));
	memcpy(h->hash, ev_zero_hash, sizeof(h->hash));
	n = pread(hfd, buf, EV_HEAD_LEN, 0);
	if (n != EV_HEAD_LEN || buf[SHA256_HEX_LEN] != ' ' ||
	    !ev_is_hash(buf))
		return;
	buf[n] = '\0';
	if (sscanf(buf + SHA256_HEX_LEN, " %llu %llu %llu", &h->size,
	    &h->dev, &h->ino) != 3)
		return;
	memcpy(h->hash, buf, SHA256_HEX_LEN);
	h->valid = 1;
}

static void
ev_head_write(struct evidence *ev, const struct ev_head *h)
{
	char buf[EV_HEAD_LEN + 1];

	snprintf(buf, sizeof(buf), "%.64s %020llu %020llu %020llu\n",
	    h->hash, h->size, h->dev, h->ino);
	/* A stale head is repaired by the next writer (the log wins). */
	if (pwrite(ev->hfd, buf, EV_HEAD_LEN, 0) != EV_HEAD_LEN)
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

	if (fstat(ev->fd, &st) < 0)
		return ev_fail(err, errlen, "stat", ev->path);
	ev_head_read(ev->hfd, &h);
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
	ev->hfd = open(ev->headpath, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
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
	free(ev->path);
	free(ev->headpath);
	free(ev);
}

int
evidence_reopen(struct evidence *ev, char *err, size_t errlen)
{
	int fd, rc = 0;

	pthread_mutex_lock(&ev->mu);
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
	pthread_mutex_unlock(&ev->mu);
	return rc;
}

/* Under the lock: reopen if the path names another file now. 0 / -1. */
static int
ev_follow_rotation(struct evidence *ev, struct stat *st, char *err,
    size_t errlen)
{
	struct stat sp;
	int fd;

	if (fstat(ev->fd, st) < 0)
		return ev_fail(err, errlen, "stat", ev->path);
	if (stat(ev->path, &sp) == 0 && sp.st_dev == st->st_dev &&
	    sp.st_ino == st->st_ino)
		return 0;
	if ((fd = ev_open_log(ev->path)) < 0)
		return ev_fail(err, errlen, "open", ev->path);
	ev_sync(ev);
	close(ev->fd);
	ev->fd = fd;
	if (fstat(ev->fd, st) < 0)
		return ev_fail(err, errlen, "stat", ev->path);
	return 0;
}

/* ---- appending -------------------------------------------------------- */

/*
 * Write line[0..n) with one write(2) (more only if the kernel stops
 * short, which for a file means the disk is full; the lock keeps other
 * writers out meanwhile). On failure cut the file back to oldsize so no
 * partial record stays behind. 0 / -1.
 */
static int
ev_write(struct evidence *ev, const char *line, size_t n, off_t oldsize,
    char *err, size_t errlen)
{
	size_t done = 0;
	ssize_t w;
	int saved, cut;

	while (done < n) {
		w = write(ev->fd, line + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w == 0)
			errno = ENOSPC;	/* no progress: treat as full */
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (done == n)
		return 0;
	saved = errno;
	if (done == 0) {
		ev_fail(err, errlen, "write", ev->path);
		return -1;
	}
	/* If the cut fails, the next writer starts on a fresh line. */
	cut = ftruncate(ev->fd, oldsize) == 0;
	snprintf(err, errlen, "write %s: %s (%zu of %zu bytes written, %s)",
	    ev->path, strerror(saved), done, n, cut ? "then removed" :
	    "left as a partial line");
	return -1;
}

/* Under the lock: seal r onto the current head, write it, move the head. */
static int
ev_append_locked(struct evidence *ev, struct evrec *r, char *err,
    size_t errlen)
{
	char hash[SHA256_HEX_LEN + 1];
	struct strbuf nl = STRBUF_INIT;
	struct ev_head h;
	struct stat st;
	int need_nl, rc;
	const char *line;
	size_t n;

	if (ev_follow_rotation(ev, &st, err, errlen) < 0)
		return -1;
	ev_head_read(ev->hfd, &h);
	if (ev_head_derive(ev, &h, &st, &need_nl, err, errlen) < 0)
		return -1;
	strbuf_adds(&r->sb, ",\"prev\":\"");
	strbuf_add(&r->sb, h.hash, SHA256_HEX_LEN);
	strbuf_addc(&r->sb, '"');
	sha256_hex(r->sb.s, r->sb.len, hash);
	strbuf_adds(&r->sb, ",\"hash\":\"");
	strbuf_add(&r->sb, hash, SHA256_HEX_LEN);
	strbuf_adds(&r->sb, "\"}\n");
	line = r->sb.s;
	n = r->sb.len;
	if (need_nl) {
		/* Never extend a partial line: start a fresh one. */
		strbuf_init(&nl, n + 1);
		strbuf_addc(&nl, '\n');
		strbuf_add(&nl, r->sb.s, n);
		line = nl.s;
		n = nl.len;
	}
	rc = ev_write(ev, line, n, st.st_size, err, errlen);
	strbuf_free(&nl);
	if (rc < 0)
		return -1;
	memcpy(h.hash, hash, sizeof(h.hash));
	h.size = (unsigned long long)st.st_size + n;
	ev_head_write(ev, &h);
	ev->dirty = 1;
	return 0;
}

int
evidence_append(struct evidence *ev, struct evrec *r, char *err,
    size_t errlen)
{
	size_t base = r->sb.len;
	int rc;

	pthread_mutex_lock(&ev->mu);
	if ((rc = ev_lock(ev, err, errlen)) == 0) {
		rc = ev_append_locked(ev, r, err, errlen);
		ev_unlock(ev);
	}
	if (rc == 0 && (ev->sync_interval == 0 ||
	    ev_mono_ms() - ev->synced_at >= ev->sync_interval * 1000LL)) {
		if (fdatasync(ev->fd) < 0) {
			/* Written but maybe not durable: the caller decides. */
			rc = ev_fail(err, errlen, "fdatasync", ev->path);
		} else {
			ev->dirty = 0;
			ev->synced_at = ev_mono_ms();
		}
	}
	pthread_mutex_unlock(&ev->mu);
	/* Unseal: r can be appended again (e.g. after a retry). */
	r->sb.len = base;
	r->sb.s[base] = '\0';
	return rc;
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

/* ---- time ------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
ev_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
ev_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void
evidence_timestamp(int64_t ms, char *buf, size_t len)
{
	int64_t days = ms / 86400000, rem, y;
	int m, d;

	rem = ms % 86400000;
	if (rem < 0) {
		rem += 86400000;
		days--;
	}
	ev_civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    (long long)y, m, d, (int)(rem / 3600000),
	    (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
	    (int)(rem % 1000));
}

int64_t
evidence_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* n decimal digits at *s into *v, advancing *s. 0 / -1. */
static int
ev_digits(const char **s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*s)++) {
		if (**s < '0' || **s > '9')
			return -1;
		*v = *v * 10 + (**s - '0');
	}
	return 0;
}

/* "Thh:mm:ss[.frac]" and the offset; *ms is the time of day. 0 / -1. */
static int
ev_parse_clock(const char *s, int64_t *ms)
{
	int hh, mi, ss, frac = 0, oh, om, sign;

	if (ev_digits(&s, 2, &hh) < 0 || *s++ != ':' ||
	    ev_digits(&s, 2, &mi) < 0 || *s++ != ':' ||
	    ev_digits(&s, 2, &ss) < 0 || hh > 23 || mi > 59 || ss > 60)
		return -1;
	if (ss == 60)
		ss = 59;	/* a leap second sorts into its minute */
	if (*s == '.') {
		int scale = 100;

		if (*++s < '0' || *s > '9')
			return -1;
		for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
			frac += (*s - '0') * scale;	/* truncates */
	}
	*ms = ((int64_t)hh * 3600 + mi * 60 + ss) * 1000 + frac;
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
		return 0;
	if (*s != '+' && *s != '-')
		return -1;
	sign = *s++ == '-' ? 1 : -1;	/* 10:00+02:00 is 08:00Z */
	if (ev_digits(&s, 2, &oh) < 0 || *s++ != ':' ||
	    ev_digits(&s, 2, &om) < 0 || *s != '\0' || oh > 23 || om > 59)
		return -1;
	*ms += sign * ((int64_t)oh * 3600 + om * 60) * 1000;
	return 0;
}

int
evidence_parse_time(const char *s, int64_t *ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, mo, d, leap;
	int64_t tod = 0;

	if (s == NULL || ev_digits(&s, 4, &y) < 0 || *s++ != '-' ||
	    ev_digits(&s, 2, &mo) < 0 || *s++ != '-' ||
	    ev_digits(&s, 2, &d) < 0 || mo < 1 || mo > 12 || d < 1)
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
		return -1;
	if (*s != '\0') {
		if (*s != 'T' && *s != 't' && *s != ' ')
			return -1;
		if (ev_parse_clock(s + 1, &tod) < 0)
			return -1;
	}
	*ms = ev_days_from_civil(y, mo, d) * 86400000 + tod;
	return 0;
}
