/*
 * qstore unit test: the counters' environment and QuotaSync - a count
 * survives a crash of the process (a child that _exit()s without closing,
 * as kill -9 would leave it), the "synced" record, an environment left by
 * a crash of the system (another boot, unflushed commits) set aside, a
 * reader refused such an environment, full mode removing the record.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "qstore.h"
#include "quota_db.h"
#include "tap.h"

static char dir[] = "/tmp/aup-qstore-XXXXXX";
static int64_t now;

static int
charge(struct db_txn *txn, void *arg)
{
	const struct quota_key *k = arg;

	return quota_db_add(txn, k, 1, now, now - now % 3600,
	    now - now % 3600 + 3600, NULL);
}

static struct qstore *
open_qs(enum db_sync mode, unsigned flags, char *err, size_t errlen)
{
	return qstore_open(dir, mode, 1, 1 << 20, 64 << 20, flags, err,
	    errlen);
}

/* As open_qs, for the steps whose failure ends the test. */
static struct qstore *
must_open(enum db_sync mode, unsigned flags)
{
	char err[512];
	struct qstore *qs = open_qs(mode, flags, err, sizeof(err));

	if (qs == NULL)
		bail("%s", err);
	return qs;
}

static long long
count(struct qstore *qs, const struct quota_key *k)
{
	struct quota_counter c;
	struct db_txn *rt;
	char err[512];

	if ((rt = db_read_begin(qstore_db(qs), err, sizeof(err))) == NULL)
		bail("%s", err);
	if (quota_db_get(rt, k, now, &c) < 0)
		bail("get: %s", db_txn_error(rt));
	db_read_end(rt);
	return (long long)c.count;
}

/* The record's text, "" if absent. */
static void
record(char *buf, size_t len)
{
	char path[300];
	FILE *fp;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/quota/synced", dir);
	if ((fp = fopen(path, "r")) == NULL)
		return;
	if (fgets(buf, (int)len, fp) == NULL)
		buf[0] = '\0';
	fclose(fp);
}

static void
write_record(const char *text)
{
	char path[300];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/quota/synced", dir);
	if ((fp = fopen(path, "w")) == NULL)
		bail("%s: cannot write", path);
	fputs(text, fp);
	fclose(fp);
}

/* Directories "quota.torn-*" in dir. */
static int
torn_dirs(void)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		bail("opendir %s", dir);
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, "quota.torn-", 11) == 0;
	closedir(d);
	return n;
}

/* A child that charges n times in periodic mode and dies unflushed. */
static void
crash_child(const struct quota_key *k, int n)
{
	char err[512];
	struct qstore *qs;
	pid_t pid = fork();
	int st;

	if (pid < 0)
		bail("fork");
	if (pid == 0) {
		if ((qs = open_qs(DB_SYNC_PERIODIC, 0, err, sizeof(err))) ==
		    NULL)
			_exit(3);
		for (int i = 0; i < n; i++)
			if (db_write(qstore_db(qs), charge, (void *)k, err,
			    sizeof(err)) < 0)
				_exit(4);
		_exit(0);	/* no close, no flush: as kill -9 leaves it */
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		bail("crash child failed (status %d)", st);
}

int
main(void)
{
	char err[512], rec[128], boot[64] = "";
	struct quota_key k;
	struct qstore *qs;
	FILE *fp;

	if (mkdtemp(dir) == NULL)
		bail("mkdtemp");
	log_open("qstore-test", 0, LOG_CRIT);
	now = (int64_t)time(NULL);
	if ((fp = fopen("/proc/sys/kernel/random/boot_id", "r")) != NULL) {
		if (fgets(boot, sizeof(boot), fp) == NULL)
			boot[0] = '\0';
		boot[strcspn(boot, "\n")] = '\0';
		fclose(fp);
	}
	if (boot[0] == '\0')
		skip_all("no /proc/sys/kernel/random/boot_id");
	plan(15);
	quota_key_make(&k, QUOTA_CUSTOMER, "acme", QUOTA_MSGS_HOUR, NULL, 0);

	/* Periodic: a clean close flushes and records this boot. */
	qs = open_qs(DB_SYNC_PERIODIC, 0, err, sizeof(err));
	ok(qs != NULL, "periodic: opens %s/quota", dir);
	if (qs == NULL)
		bail("%s", err);
	for (int i = 0; i < 3; i++)
		db_write(qstore_db(qs), charge, &k, err, sizeof(err));
	qstore_close(qs);
	record(rec, sizeof(rec));
	ok(strncmp(rec, boot, strlen(boot)) == 0, "the record names this "
	    "boot: %s", rec);

	/* A crash of the process loses nothing (same boot). */
	crash_child(&k, 4);
	qs = open_qs(DB_SYNC_PERIODIC, 0, err, sizeof(err));
	ok(qs != NULL, "reopened after the child died unflushed");
	is_int(count(qs, &k), 7, "the 4 unflushed charges of the dead "
	    "process are there: 3 + 4");
	is_int(torn_dirs(), 0, "nothing set aside");
	qstore_close(qs);

	/* A crash of the system: unflushed commits under another boot. */
	crash_child(&k, 2);
	write_record("00000000-0000-0000-0000-000000000000 "
	    "00000000000000000001\n");
	qs = open_qs(DB_SYNC_FULL, DB_RDONLY, err, sizeof(err));
	ok(qs == NULL && strstr(err, "the daemon sets it aside") != NULL,
	    "a reader refuses it: %s", err);
	qs = open_qs(DB_SYNC_PERIODIC, 0, err, sizeof(err));
	ok(qs != NULL, "a writer opens it after a system crash");
	if (qs == NULL)
		bail("%s", err);
	is_int(torn_dirs(), 1, "the old environment is set aside as "
	    "quota.torn-*");
	is_int(count(qs, &k), 0, "the counters start from zero");
	db_write(qstore_db(qs), charge, &k, err, sizeof(err));
	qstore_close(qs);

	/* A record that cannot be read counts as a system crash. */
	write_record("garbage\n");
	qs = open_qs(DB_SYNC_PERIODIC, 0, err, sizeof(err));
	ok(qs != NULL && torn_dirs() == 2, "a garbled record: set aside too "
	    "(beside the first, in the same second): %s", qs ? "" : err);
	qstore_close(qs);

	/* Flushed before the other boot: kept. */
	qs = must_open(DB_SYNC_PERIODIC, 0);
	db_write(qstore_db(qs), charge, &k, err, sizeof(err));
	qstore_close(qs);	/* flushed: the record holds the last txn */
	record(rec, sizeof(rec));
	memcpy(rec, "11111111", 8);	/* the same txn, another boot */
	write_record(rec);
	qs = must_open(DB_SYNC_PERIODIC, 0);
	ok(torn_dirs() == 2, "another boot, nothing unflushed: kept");
	is_int(count(qs, &k), 1, "  with its count");
	qstore_close(qs);

	/* Full mode: flushes what periodic left and drops the record. */
	crash_child(&k, 1);
	qs = must_open(DB_SYNC_FULL, 0);
	record(rec, sizeof(rec));
	is_str(rec, "", "full mode: no record");
	is_int(count(qs, &k), 2, "  and the counts stay");
	qstore_close(qs);
	qs = must_open(DB_SYNC_FULL, DB_RDONLY);
	is_int(count(qs, &k), 2, "a reader reads them");
	qstore_close(qs);
	return tap_done();
}
