/*
 * db.t - unit tests of lists/db.c, the LMDB environment, on a real LMDB
 *
 * Growth of the map in one write, the DatabaseMaxSize limit, other
 * processes growing the map under us (with pooled read handles), a
 * read-only opener, threads writing while the map grows, and the errors
 * of opening something that is not an environment. Plans are the payload
 * (custdb), as the daemon's records would be. One environment is opened
 * per directory and process (LMDB's rule); cross-process cases fork a
 * child that opens its own struct db. Everything happens in a mkdtemp()
 * directory that is removed at the end.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "custdb.h"
#include "db.h"
#include "tap.h"

#define KIB		1024u
#define MIB		(1024u * 1024u)

static char tmpdir[] = "/tmp/db.t.XXXXXX";
static char err[512];

/* n plans PREFIX00000.., msgs_per_hour = their number, in one write. */
struct plans {
	const char	*prefix;
	int		 n;
};

static int
plans_put(struct db_txn *txn, void *arg)
{
	const struct plans *ps = arg;
	char name[CUSTDB_ID_MAX];
	struct plan p;

	for (int i = 0; i < ps->n; i++) {
		snprintf(name, sizeof(name), "%s%05d", ps->prefix, i);
		plan_defaults(&p, name);
		p.lim[PLAN_MSGS_PER_HOUR] = (uint64_t)i;
		if (custdb_plan_put(txn, &p) < 0)
			return -1;
	}
	return 0;
}

static int
write_plans(struct db *db, const char *prefix, int n)
{
	struct plans ps = { prefix, n };

	err[0] = '\0';
	return db_write(db, plans_put, &ps, err, sizeof(err));
}

static struct db_txn *
rd(struct db *db)
{
	struct db_txn *txn = db_read_begin(db, err, sizeof(err));

	if (txn == NULL)
		bail("db_read_begin: %s", err);
	return txn;
}

static int
check_many(struct db *db, const char *prefix, int n)
{
	char name[CUSTDB_ID_MAX];
	struct db_txn *txn = rd(db);
	struct plan p;
	int good = 0;

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%05d", prefix, i);
		if (custdb_plan_get(txn, name, &p) == 1 &&
		    p.lim[PLAN_MSGS_PER_HOUR] == (uint64_t)i)
			good++;
	}
	db_read_end(txn);
	return good;
}

static void
test_growth(const char *dir)
{
	struct db *db;
	int i, rc = 0;

	db = db_open(dir, 64 * KIB, 16 * MIB, 0, err, sizeof(err));
	if (!ok(db != NULL, "open with a 64 KiB map"))
		bail("%s", err);
	is_int(write_plans(db, "big", 3000), 0,
	    "one write of 3000 plans grows the map");
	if (err[0] != '\0')
		diag("%s", err);
	for (i = 0; i < 200 && rc == 0; i++) {
		char pre[16];

		snprintf(pre, sizeof(pre), "s%03d-", i);
		rc = write_plans(db, pre, 10);
	}
	is_int(rc, 0, "200 small writes");
	is_int(check_many(db, "big", 3000), 3000, "all 3000 plans present");
	is_int(check_many(db, "s199-", 10), 10, "last small write present");
	db_close(db);

	db = db_open(dir, 64 * KIB, 16 * MIB, 0, err, sizeof(err));
	ok(db != NULL, "reopen with a map smaller than the file");
	is_int(check_many(db, "big", 3000), 3000, "  data still there");
	db_close(db);
}

static void
test_map_limit(const char *dir)
{
	struct db *db;

	db = db_open(dir, 64 * KIB, 256 * KIB, 0, err, sizeof(err));
	if (!ok(db != NULL, "open with maxsize 256 KiB"))
		bail("%s", err);
	is_int(write_plans(db, "lim", 20000), -1,
	    "write beyond the maximum fails");
	ok(strstr(err, "map full at 256 KiB (DatabaseMaxSize)") != NULL &&
	    strstr(err, dir) != NULL, "  reason: %s", err);
	is_int(write_plans(db, "lim", 10), 0,
	    "a small write still works after");
	db_close(db);
}

/* What child_grow writes (set before forking). */
static const char *child_prefix = "kid";
static int child_n = 4000;

/* Child: open the env itself, grow it a lot, report by exit status. */
static void
child_grow(const char *dir)
{
	struct db *db = db_open(dir, 64 * KIB, 32 * MIB, 0, err, sizeof(err));

	if (db == NULL) {
		fprintf(stderr, "# child: %s\n", err);
		_exit(2);
	}
	if (write_plans(db, child_prefix, child_n) < 0) {
		fprintf(stderr, "# child: %s\n", err);
		_exit(3);
	}
	db_close(db);
	_exit(0);
}

/* Child: open read-only, read, and check that writes are refused. */
static void
child_readonly(const char *dir)
{
	struct db *db = db_open(dir, 0, 0, 1, err, sizeof(err));
	struct db_txn *txn;
	struct plan p;
	int rc;

	if (db == NULL)
		_exit(2);
	if ((txn = db_read_begin(db, err, sizeof(err))) == NULL)
		_exit(3);
	rc = custdb_plan_get(txn, "dad00000", &p);
	db_read_end(txn);
	if (rc != 1)
		_exit(4);
	if (write_plans(db, "ro", 1) != -1 || strstr(err, "read-only") == NULL)
		_exit(5);
	db_close(db);
	_exit(0);
}

static int
run_child(void (*fn)(const char *), const char *dir)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0)
		bail("fork");
	if (pid == 0)
		fn(dir);
	if (waitpid(pid, &status, 0) < 0)
		bail("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void
test_processes(struct db *db, const char *dir)
{
	struct db_txn *txn;

	ok(db_open(dir, 0, 0, 0, err, sizeof(err)) == NULL,
	    "second open in one process refused");
	ok(strstr(err, "already open in this process") != NULL,
	    "  reason: %s", err);
	/* Make sure this process holds a smaller map than the child's. */
	txn = rd(db);
	db_read_end(txn);
	is_int(run_child(child_grow, dir), 0, "child grows the map");
	is_int(write_plans(db, "dad", 50), 0, "parent writes after the child "
	    "grew the map");
	is_int(check_many(db, "kid", 4000), 4000,
	    "parent adopts the grown map and sees all the child's data");
	/*
	 * Read handles are pooled (reset, then renewed): one renewed after
	 * another process grew the map far beyond ours must adopt the new
	 * size, with no write in between to do it first.
	 */
	txn = rd(db);
	db_read_end(txn);
	child_prefix = "kid2-";
	child_n = 30000;
	is_int(run_child(child_grow, dir), 0, "child grows the map again");
	is_int(check_many(db, "kid2-", 30000), 30000, "a pooled read handle "
	    "renewed after that sees all the child's data");
	is_int(run_child(child_readonly, dir), 0, "read-only child reads, "
	    "may not write");
	ok(db_maintain(db) >= 0, "db_maintain");
}

/* Threads writing and reading at once while the map grows under them. */
struct worker {
	struct db	*db;
	int		 no;
	int		 failed;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	char pre[16], e[512];
	struct db_txn *txn;
	struct plan p;

	snprintf(pre, sizeof(pre), "t%d-", w->no);
	for (int i = 0; i < 150; i++) {
		struct plans ps = { pre, 5 };

		snprintf(pre, sizeof(pre), "t%d-%03d-", w->no, i);
		if (db_write(w->db, plans_put, &ps, e, sizeof(e)) < 0) {
			w->failed++;
			continue;
		}
		if ((txn = db_read_begin(w->db, e, sizeof(e))) == NULL) {
			w->failed++;
			continue;
		}
		if (custdb_plan_get(txn, "t0-000-00000", &p) < 0)
			w->failed++;
		db_read_end(txn);
	}
	return NULL;
}

static void
test_threads(const char *dir)
{
	struct worker w[4];
	pthread_t tid[4];
	struct db *db;
	int failed = 0, found = 0;
	char pre[32];

	db = db_open(dir, 64 * KIB, 64 * MIB, 0, err, sizeof(err));
	if (db == NULL)
		bail("%s", err);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ db, i, 0 };
		pthread_create(&tid[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		failed += w[i].failed;
	}
	is_int(failed, 0, "4 threads x 150 writes and reads, no failure");
	for (int t = 0; t < 4; t++)
		for (int i = 0; i < 150; i++) {
			snprintf(pre, sizeof(pre), "t%d-%03d-", t, i);
			found += check_many(db, pre, 1);
		}
	is_int(found, 600, "  all 600 writes present");
	db_close(db);
}

static void
test_open_errors(void)
{
	char path[600], dump[700], cmd[1500];
	struct db_txn *txn;
	struct customer c;
	struct db *db;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/file", tmpdir);
	fclose(fopen(path, "w"));
	ok(db_open(path, 0, 0, 0, err, sizeof(err)) == NULL &&
	    strstr(err, "not a directory") != NULL, "file: %s", err);

	snprintf(path, sizeof(path), "%s/garbage", tmpdir);
	mkdir(path, 0750);
	snprintf(dump, sizeof(dump), "%s/data.mdb", path);
	fp = fopen(dump, "w");
	for (int i = 0; i < 3000; i++)
		fputs("not a database ", fp);
	fclose(fp);
	ok(db_open(path, 0, 0, 0, err, sizeof(err)) == NULL &&
	    strstr(err, "not an LMDB database") != NULL &&
	    strstr(err, path) != NULL, "garbage: %s", err);

	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	ok(db_open(path, 0, 0, 1, err, sizeof(err)) == NULL,
	    "read-only open of a missing directory fails: %s", err);

	/* An environment without our tables: read-only lookups miss. */
	snprintf(path, sizeof(path), "%s/empty", tmpdir);
	snprintf(dump, sizeof(dump), "%s/empty.dump", tmpdir);
	fp = fopen(dump, "w");
	fputs("VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n"
	    "DATA=END\n", fp);
	fclose(fp);
	mkdir(path, 0750);
	snprintf(cmd, sizeof(cmd), "mdb_load -f %s %s 2>/dev/null", dump,
	    path);
	if (system(cmd) != 0) {
		ok(1, "# SKIP mdb_load not available");
		return;
	}
	db = db_open(path, 0, 0, 1, err, sizeof(err));
	if (!ok(db != NULL, "read-only open of an env without tables"))
		diag("%s", err);
	if (db == NULL)
		return;
	txn = rd(db);
	is_int(custdb_customer_get(txn, "acme", &c), 0, "  lookups miss");
	is_int(db_count(txn, DB_CUSTOMERS), 0, "  count is 0");
	db_read_end(txn);
	db_close(db);
}

int
main(void)
{
	char dir[600], sub[600];
	struct stat st;
	struct db *db;

	plan_no_plan();
	if (mkdtemp(tmpdir) == NULL)
		bail("mkdtemp");
	snprintf(dir, sizeof(dir), "%s/db", tmpdir);
	db = db_open(dir, 64 * KIB, 64 * MIB, 0, err, sizeof(err));
	if (db == NULL)
		bail("db_open %s: %s", dir, err);
	ok(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0750,
	    "directory created with mode 0750");
	test_processes(db, dir);
	db_close(db);
	snprintf(sub, sizeof(sub), "%s/grow", tmpdir);
	test_growth(sub);
	snprintf(sub, sizeof(sub), "%s/limit", tmpdir);
	test_map_limit(sub);
	snprintf(sub, sizeof(sub), "%s/threads", tmpdir);
	test_threads(sub);
	test_open_errors();
	if (getenv("AUP_KEEP_TMP") == NULL) {
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			diag("could not remove %s", tmpdir);
	}
	return tap_done();
}
