/*
 * qstore - the quota counters' own LMDB environment (see qstore.h)
 *
 * The record "synced" holds one fixed-size line, "<boot id> <txnid>\n",
 * rewritten in place (pwrite, fdatasync) under flock, so the daemon and
 * aupctl never interleave; a writer never moves it backwards within one
 * boot. The boot id is the kernel's (/proc/sys/kernel/random/boot_id);
 * where it cannot be read every open counts as a new boot, which only
 * makes the check stricter.
 *
 * Ownership, threads, errors: see qstore.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "log.h"
#include "qstore.h"
#include "timefmt.h"
#include "xalloc.h"

#define QS_REC_LEN	64	/* 36-byte boot id, a space, 20 digits, LF */
#define QS_BOOT_LEN	40

struct qstore {
	struct db	*db;
	char		*dir;		/* <dbdir>/quota */
	char		*rec;		/* <dbdir>/quota/synced */
	enum db_sync	 mode;
	int		 interval;
	int		 readonly;
	char		 boot[QS_BOOT_LEN];
	pthread_t	 thread;
	int		 running;	/* the flush thread exists */
	int		 stop;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
};

int
qstore_path(const char *dbdir, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/quota", dbdir);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void
qs_boot_id(char *buf, size_t len)
{
	FILE *fp = fopen("/proc/sys/kernel/random/boot_id", "r");

	snprintf(buf, len, "unknown");
	if (fp == NULL)
		return;
	if (fgets(buf, (int)len, fp) == NULL || strcspn(buf, "\n") < 8)
		snprintf(buf, len, "unknown");
	buf[strcspn(buf, "\n")] = '\0';
	fclose(fp);
}

/* 1 read (boot, txnid), 0 no record, -1 unreadable or garbage. */
static int
qs_rec_parse(int fd, char *boot, size_t blen, uint64_t *txnid)
{
	char buf[QS_REC_LEN + 1], b[QS_BOOT_LEN];
	unsigned long long t;
	ssize_t n;
	char c;

	if ((n = pread(fd, buf, QS_REC_LEN, 0)) < 0)
		return -1;
	if (n == 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%39s %20llu%c", b, &t, &c) != 3 || c != '\n')
		return -1;
	snprintf(boot, blen, "%s", b);
	*txnid = t;
	return 1;
}

static int
qs_rec_read(const struct qstore *qs, char *boot, size_t blen,
    uint64_t *txnid)
{
	int fd = open(qs->rec, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	flock(fd, LOCK_SH);
	rc = qs_rec_parse(fd, boot, blen, txnid);
	close(fd);
	return rc;
}

/* Record that everything up to txnid is on disk. 0 / -1 with err. */
static int
qs_rec_write(const struct qstore *qs, uint64_t txnid, char *err,
    size_t errlen)
{
	char line[QS_REC_LEN + 1], boot[QS_BOOT_LEN];
	uint64_t had;
	int fd, ok;

	if ((fd = open(qs->rec, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0)
		return errbuf_set(err, errlen, "quota database %s: %s: %s",
		    qs->dir, qs->rec, strerror(errno));
	flock(fd, LOCK_EX);
	if (qs_rec_parse(fd, boot, sizeof(boot), &had) == 1 &&
	    strcmp(boot, qs->boot) == 0 && had > txnid)
		txnid = had;	/* another writer flushed further */
	snprintf(line, sizeof(line), "%-36s %020" PRIu64 "\n", qs->boot,
	    txnid);
	ok = pwrite(fd, line, strlen(line), 0) == (ssize_t)strlen(line) &&
	    ftruncate(fd, (off_t)strlen(line)) == 0 && fdatasync(fd) == 0;
	if (!ok)
		errbuf_set(err, errlen, "quota database %s: writing %s: %s",
		    qs->dir, qs->rec, strerror(errno));
	close(fd);
	return ok ? 0 : -1;
}

int
qstore_flush(struct qstore *qs, char *err, size_t errlen)
{
	uint64_t txnid;

	if (qs->readonly || qs->mode != DB_SYNC_PERIODIC)
		return 0;
	if (db_sync(qs->db, &txnid, err, errlen) < 0)
		return -1;
	return qs_rec_write(qs, txnid, err, errlen);
}

/*
 * 1 if the environment may be torn: commits newer than the last record
 * of a flush, made under another boot (or a record that cannot be read).
 */
static int
qs_torn(struct qstore *qs, uint64_t *flushed)
{
	char boot[QS_BOOT_LEN];
	int rc = qs_rec_read(qs, boot, sizeof(boot), flushed);

	if (rc == 0)
		return 0;
	if (rc < 0)
		return db_last_txnid(qs->db) > 0;
	return strcmp(boot, qs->boot) != 0 && db_last_txnid(qs->db) > *flushed;
}

/* Move a torn environment aside; 0 / -1 with err. */
static int
qs_set_aside(struct qstore *qs, uint64_t flushed, char *err, size_t errlen)
{
	char when[TIMEFMT_LEN], *aside;
	uint64_t last = db_last_txnid(qs->db);
	size_t len = strlen(qs->dir) + 8 + TIMEFMT_LEN;

	int rc, n = 1;

	timefmt_utc((int64_t)time(NULL), when, sizeof(when));
	aside = xmalloc(len + 8);
	snprintf(aside, len + 8, "%s.torn-%s", qs->dir, when);
	db_close(qs->db);
	qs->db = NULL;
	/* Never onto an earlier one: a second crash in the same second. */
	while ((rc = rename(qs->dir, aside)) < 0 &&
	    (errno == EEXIST || errno == ENOTEMPTY) && n < 100)
		snprintf(aside, len + 8, "%s.torn-%s.%d", qs->dir, when, ++n);
	if (rc < 0) {
		errbuf_set(err, errlen, "quota database %s: may be damaged "
		    "after a system crash and cannot be moved to %s: %s",
		    qs->dir, aside, strerror(errno));
		free(aside);
		return -1;
	}
	log_msg(LOG_ERR, NULL, "quota database %s: the system stopped with "
	    "commits %" PRIu64 "..%" PRIu64 " not yet flushed (QuotaSync "
	    "periodic); LMDB cannot vouch for it, so it was moved to %s and "
	    "the quota counters start again from zero", qs->dir, flushed + 1,
	    last, aside);
	free(aside);
	return 0;
}

static void *
qs_flusher(void *arg)
{
	struct qstore *qs = arg;
	struct timespec ts;
	char err[512];

	pthread_mutex_lock(&qs->mu);
	while (!qs->stop) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += qs->interval;
		while (!qs->stop && pthread_cond_timedwait(&qs->cv, &qs->mu,
		    &ts) == 0)
			;
		if (qs->stop)
			break;
		pthread_mutex_unlock(&qs->mu);
		if (qstore_flush(qs, err, sizeof(err)) < 0)
			log_msg(LOG_ERR, NULL, "%s", err);
		pthread_mutex_lock(&qs->mu);
	}
	pthread_mutex_unlock(&qs->mu);
	return NULL;
}

static int
qs_open_env(struct qstore *qs, size_t mapsize, size_t maxsize, char *err,
    size_t errlen)
{
	unsigned flags = qs->readonly ? DB_RDONLY :
	    qs->mode == DB_SYNC_PERIODIC ? DB_WRITEMAP : 0;

	qs->db = db_open(qs->dir, mapsize, maxsize, flags, err, errlen);
	if (qs->db == NULL)
		return -1;
	return db_set_sync(qs->db, qs->mode, err, errlen);
}

/* The check and the flush every writer makes at open. 0 / -1. */
static int
qs_settle(struct qstore *qs, size_t mapsize, size_t maxsize, char *err,
    size_t errlen)
{
	uint64_t flushed = 0, txnid;

	if (qs_torn(qs, &flushed)) {
		if (qs->readonly)
			return errbuf_set(err, errlen, "quota database %s: "
			    "the system stopped before its last commits were "
			    "flushed (QuotaSync periodic); the daemon sets it "
			    "aside when it starts", qs->dir);
		if (qs_set_aside(qs, flushed, err, errlen) < 0 ||
		    qs_open_env(qs, mapsize, maxsize, err, errlen) < 0)
			return -1;
	}
	if (qs->readonly)
		return 0;
	/* Whatever an earlier periodic run left in the page cache: now. */
	if (db_sync(qs->db, &txnid, err, errlen) < 0)
		return -1;
	if (qs->mode == DB_SYNC_PERIODIC)
		return qs_rec_write(qs, txnid, err, errlen);
	if (unlink(qs->rec) < 0 && errno != ENOENT)
		return errbuf_set(err, errlen, "quota database %s: %s: %s",
		    qs->dir, qs->rec, strerror(errno));
	return 0;
}

struct qstore *
qstore_open(const char *dbdir, enum db_sync mode, int interval,
    size_t mapsize, size_t maxsize, unsigned flags, char *err,
    size_t errlen)
{
	struct qstore *qs = xcalloc(1, sizeof(*qs));
	size_t len = strlen(dbdir) + 16;
	pthread_condattr_t ca;

	qs->dir = xmalloc(len);
	qstore_path(dbdir, qs->dir, len);
	qs->rec = xmalloc(len + 8);
	snprintf(qs->rec, len + 8, "%s/synced", qs->dir);
	qs->mode = mode;
	qs->interval = interval > 0 ? interval : 1;
	qs->readonly = (flags & DB_RDONLY) != 0;
	qs_boot_id(qs->boot, sizeof(qs->boot));
	pthread_mutex_init(&qs->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&qs->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (mode == DB_SYNC_PERIODIC && !qs->readonly &&
	    strncmp(qs->boot, "unknown", 7) == 0) {
		errbuf_set(err, errlen, "quota database %s: QuotaSync periodic "
		    "needs the kernel's boot id (/proc/sys/kernel/random/"
		    "boot_id) to tell a crash of the daemon from one of the "
		    "system", qs->dir);
		goto fail;
	}
	if (qs_open_env(qs, mapsize, maxsize, err, errlen) < 0 ||
	    qs_settle(qs, mapsize, maxsize, err, errlen) < 0)
		goto fail;
	if (!qs->readonly && mode == DB_SYNC_PERIODIC) {
		if (pthread_create(&qs->thread, NULL, qs_flusher, qs) != 0) {
			errbuf_set(err, errlen, "quota database %s: cannot "
			    "start the flush thread", qs->dir);
			goto fail;
		}
		qs->running = 1;
	}
	return qs;
fail:
	qstore_close(qs);
	return NULL;
}

struct db *
qstore_db(struct qstore *qs)
{
	return qs->db;
}

void
qstore_close(struct qstore *qs)
{
	char err[512];

	if (qs == NULL)
		return;
	if (qs->running) {
		pthread_mutex_lock(&qs->mu);
		qs->stop = 1;
		pthread_cond_signal(&qs->cv);
		pthread_mutex_unlock(&qs->mu);
		pthread_join(qs->thread, NULL);
	}
	if (qs->db != NULL && qs->running &&
	    qstore_flush(qs, err, sizeof(err)) < 0)
		log_msg(LOG_ERR, NULL, "%s", err);
	db_close(qs->db);
	pthread_cond_destroy(&qs->cv);
	pthread_mutex_destroy(&qs->mu);
	free(qs->dir);
	free(qs->rec);
	free(qs);
}
