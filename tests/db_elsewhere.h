/*
 * db_elsewhere.h - commit a write from another process, as aupctl would
 *
 * The in-memory caches of the engine (db_cache, quota_cache,
 * optout_filter) must notice changes they did not make. db_elsewhere()
 * forks; the child opens the environment at path with its own handle,
 * runs fn in one write transaction and exits; the parent waits and bails
 * out if the child failed. Header-only: the unit test programs link only
 * tap.o. Threads: call from the main thread.
 */
#ifndef AUP_TEST_DB_ELSEWHERE_H
#define AUP_TEST_DB_ELSEWHERE_H

#include <sys/wait.h>

#include <stdio.h>
#include <unistd.h>

#include "db.h"
#include "tap.h"

static void
db_elsewhere(const char *path, int (*fn)(struct db_txn *, void *),
    void *arg)
{
	char err[512];
	struct db *other;
	pid_t pid;
	int st;

	fflush(NULL);
	if ((pid = fork()) < 0)
		bail("fork");
	if (pid == 0) {
		if ((other = db_open(path, 1 << 20, 64 << 20, 0, err,
		    sizeof(err))) == NULL || db_write(other, fn, arg, err,
		    sizeof(err)) < 0) {
			fprintf(stderr, "child: %s\n", err);
			_exit(1);
		}
		db_close(other);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		bail("the other process could not write");
}

#endif
