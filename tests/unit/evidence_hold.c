/*
 * evidence_hold - unit tests of a writer holding the lock of the evidence
 * log between batches (evidence_hold(), as the daemon does): the lock
 * stays ours after an append; another process (aupctl) still gets in
 * while we keep appending, and a writer waiting at the gate goes before
 * the holder; the keeper ends an idle hold; a rename, a copytruncate, a
 * reopen or a failed write during a hold, and the death of the holder,
 * leave one chain holding every record. Holds of a minute make "during a
 * hold" certain; nothing here asserts how soon anything happens, only
 * that it does, and in which order. The shared helpers are in
 * tests/evidence_test.h. Everything happens in a mkdtemp() directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evidence.h"
#include "evidence_test.h"
#include "tap.h"

#define LONG_HOLD	60000	/* ms: outlasts any test */

/* Could another process take the lock of log now? (Never waits.) */
static int
lock_free(const char *log)
{
	char hp[600];
	int fd, got;

	snprintf(hp, sizeof(hp), "%s.head", log);
	if ((fd = open(hp, O_RDONLY)) < 0)
		bail("open %s: %s", hp, strerror(errno));
	got = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);	/* and with it the lock */
	return got;
}

/* Wait for the lock of log to be free: 1, or 0 after a long while. */
static int
wait_lock_free(const char *log)
{
	for (int i = 0; i < 20000; i++) {
		if (lock_free(log))
			return 1;
		usleep(1000);
	}
	return 0;
}

/* A writer opened for a few records, as aupctl: "w1", seq from seq. */
static void
ctl_append(const char *log, long seq, int n)
{
	struct evidence *ev = xopen(log);

	for (int i = 0; i < n; i++)
		if (append_one(ev, "w1", seq + i) < 0)
			bail("aupctl append failed");
	evidence_close(ev);
}

static int
verify_all(const char *const *files, int n, long want, const char *what)
{
	struct ev_verify_result res;
	int rc = evidence_verify(files, n, &res);

	if (res.line)
		diag("%s:%ld: %s", res.file, res.line, res.reason);
	is_int(rc, 0, "%s: one chain", what);
	is_int(res.records, want, "%s: every record", what);
	return rc;
}

/* The lock stays ours between appends, until the hold is ended. */
static void
test_held(void)
{
	struct ev_verify_result res;
	const char *log = tpath("held.log");
	struct evidence *ev = xopen(log);
	struct stat st;

	ok(lock_free(log), "held: the lock is free before a hold");
	evidence_hold(ev, LONG_HOLD);
	for (int i = 0; i < 3; i++)
		append_one(ev, "w0", i);
	ok(!lock_free(log), "held: after appends, the lock is still ours");
	is_int(count_lines(log), 3, "held: the records are in the file");
	ok(stat(tpath("held.log.lock"), &st) == 0 && S_ISREG(st.st_mode),
	    "held: the gate file exists");
	evidence_hold(ev, 0);
	ok(lock_free(log), "held: ending the hold releases the lock");
	ok(head_describes(log, tpath("held.log.head")),
	    "held: the head file names our last record");
	append_one(ev, "w0", 3);
	ok(lock_free(log), "held: no hold: released after each append");
	evidence_close(ev);
	ok(lines_complete(log, 1, 4), "held: every record once");
	is_int(verify(&res, 1, log), 0, "held: one chain");
	is_int(res.records, 4, "held: every record");
}

/* Pin this process (and its children) to one CPU; old: the set before. */
static void
pin_one_cpu(cpu_set_t *old)
{
	cpu_set_t one;

	if (sched_getaffinity(0, sizeof(*old), old) < 0)
		bail("sched_getaffinity: %s", strerror(errno));
	CPU_ZERO(&one);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, old)) {
			CPU_SET(c, &one);
			break;
		}
	if (sched_setaffinity(0, sizeof(one), &one) < 0)
		bail("sched_setaffinity: %s", strerror(errno));
}

#define CTL_RECORDS	5
#define OURS		4	/* our appending threads */
#define OURS_MAX	200000	/* records we write at most meanwhile */

static long ours_total;		/* records our threads wrote */
static int ours_stop;		/* aupctl is done */

struct busy {
	struct evidence	*ev;
	pthread_t	 t;
	char		 who[16];
	long		 n;		/* records written */
};

static void *
busy_run(void *arg)
{
	struct busy *b = arg;

	while (!__atomic_load_n(&ours_stop, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&ours_total, __ATOMIC_RELAXED) < OURS_MAX) {
		if (append_one(b->ev, b->who, b->n) < 0)
			bail("append failed");
		b->n++;
		__atomic_add_fetch(&ours_total, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* aupctl: after the go, CTL_RECORDS appends as "w0"; their failures. */
static void
ctl_child(const char *log, int go, int done)
{
	struct evidence *ctl;
	char c, n = 0;

	if (read(go, &c, 1) != 1)
		_exit(2);
	ctl = xopen(log);
	for (int i = 0; i < CTL_RECORDS; i++)
		n += append_one(ctl, "w0", i) < 0;
	evidence_close(ctl);
	_exit(write(done, &n, 1) == 1 ? 0 : 2);
}

/*
 * On one CPU, aupctl (a child process, no hold) appends while OURS
 * threads keep appending with a hold, as the daemon's sessions do: it
 * gets in, each time, before we have written OURS_MAX records (a hold is
 * 10 ms; it takes a few thousand of ours here), and the log is one chain
 * with every record of all. (That it goes first once queued, whatever
 * the scheduler does, is test_gate's.)
 */
static void
test_other_process(void)
{
	const char *log = tpath("busy.log");
	struct evidence *ev = xopen(log);
	struct busy b[OURS];
	long per[OURS + 1] = { CTL_RECORDS };
	int go[2], done[2], status, fails = -1, got = 0;
	cpu_set_t old;
	pid_t pid;
	char c = 'g', n;

	evidence_hold(ev, 10);
	pin_one_cpu(&old);
	if (pipe(go) < 0 || pipe(done) < 0)
		bail("pipe: %s", strerror(errno));
	fflush(stdout);
	if ((pid = fork()) < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(go[1]);
		close(done[0]);
		ctl_child(log, go[0], done[1]);
	}
	close(go[0]);
	close(done[1]);
	append_one(ev, "w1", 0);	/* the lock is ours */
	for (int i = 0; i < OURS; i++) {
		b[i].ev = ev;
		b[i].n = i == 0;
		snprintf(b[i].who, sizeof(b[i].who), "w%d", i + 1);
		pthread_create(&b[i].t, NULL, busy_run, &b[i]);
	}
	if (write(go[1], &c, 1) != 1)
		bail("write: %s", strerror(errno));
	while (__atomic_load_n(&ours_total, __ATOMIC_RELAXED) < OURS_MAX) {
		struct pollfd p = { .fd = done[0], .events = POLLIN };

		if (poll(&p, 1, 1) == 1) {
			got = read(done[0], &n, 1) == 1;
			fails = got ? n : -1;
			break;
		}
	}
	__atomic_store_n(&ours_stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < OURS; i++) {
		pthread_join(b[i].t, NULL);
		per[i + 1] = b[i].n;
	}
	evidence_hold(ev, 0);	/* if it is still waiting */
	waitpid(pid, &status, 0);
	close(go[1]);
	close(done[0]);
	evidence_close(ev);
	sched_setaffinity(0, sizeof(old), &old);
	ok(got == 1, "other process: aupctl got in while we kept appending "
	    "(after %ld of our records)", ours_total);
	is_int(fails, 0, "other process: each of its appends succeeded");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "other process: it exited cleanly");
	ok(lines_complete_in((const char *[]){ log }, 1, OURS + 1, per),
	    "other process: every record of all, each once, whole");
	verify_all((const char *[]){ log }, 1, ours_total + 1 + CTL_RECORDS,
	    "other process");
}

static void *
gate_run(void *arg)
{
	append_one(arg, "w0", 1);
	return NULL;
}

/*
 * The gate: a writer waiting for the lock (it holds "<log>.lock", as
 * evidence.c's writers do while they wait) goes before a holder coming
 * back for the lock, even when the holder finds the lock free: the
 * holder waits at the gate. Here the waiting writer is the test itself.
 */
static void
test_gate(void)
{
	const char *log = tpath("gate.log");
	struct evidence *ev = xopen(log);
	char hp[600];
	pthread_t t;
	int gate, head;

	evidence_hold(ev, LONG_HOLD);
	append_one(ev, "w0", 0);
	if ((gate = open(tpath("gate.log.lock"), O_RDONLY)) < 0 ||
	    flock(gate, LOCK_EX) < 0)
		bail("gate: %s", strerror(errno));
	evidence_hold(ev, LONG_HOLD);	/* release; the next append holds */
	pthread_create(&t, NULL, gate_run, ev);
	usleep(100 * 1000);	/* time to get past the gate, if it could */
	is_int(count_lines(log), 1, "gate: the holder does not take the "
	    "free lock past a writer at the gate");
	snprintf(hp, sizeof(hp), "%s.head", log);
	if ((head = open(hp, O_RDONLY)) < 0)
		bail("open %s: %s", hp, strerror(errno));
	ok(flock(head, LOCK_EX | LOCK_NB) == 0, "gate: the waiting writer "
	    "gets the lock");
	close(gate);	/* the holder queues for the lock */
	close(head);
	pthread_join(t, NULL);
	is_int(count_lines(log), 2, "gate: then the holder appends");
	evidence_close(ev);
	verify_all((const char *[]){ log }, 1, 2, "gate");
}

/* An idle hold is ended by the keeper: another writer gets in. */
static void
test_keeper(void)
{
	const char *log = tpath("idle.log");
	struct evidence *ev = xopen(log);

	evidence_hold(ev, 20);
	append_one(ev, "w0", 0);
	append_one(ev, "w0", 1);
	if (!ok(wait_lock_free(log), "keeper: without another append, the "
	    "lock is released"))
		bail("keeper: the lock stays held; aupctl would wait forever");
	ok(head_describes(log, tpath("idle.log.head")),
	    "keeper: the head file names our last record");
	ctl_append(log, 0, 1);
	append_one(ev, "w0", 2);	/* holds again */
	verify_all((const char *[]){ log }, 1, 4, "keeper: verify of the "
	    "live log, held");
	evidence_close(ev);
	ok(lines_complete_in((const char *[]){ log }, 1, 2,
	    (const long[]){ 3, 1 }), "keeper: every record once");
	verify_all((const char *[]){ log }, 1, 4, "keeper");
}

/*
 * logrotate renames the log during a hold: our records go on into the
 * renamed file until the hold ends (by evidence_hold(), then by the
 * keeper), then into a new file at the path, one chain across the files.
 */
static void
test_rename(void)
{
	const char *log = tpath("mv.log"), *log1 = tpath("mv.log.1");
	const char *log2 = tpath("mv.log.2");
	struct evidence *ev = xopen(log);

	evidence_hold(ev, LONG_HOLD);
	for (int i = 0; i < 3; i++)
		append_one(ev, "w0", i);
	if (rename(log, log1) < 0)
		bail("rename: %s", strerror(errno));
	append_one(ev, "w0", 3);
	append_one(ev, "w0", 4);
	is_int(count_lines(log1), 5, "rename: during the hold, records go "
	    "on into the renamed file");
	ok(access(log, F_OK) < 0, "rename: ... and no new file yet");
	evidence_hold(ev, 20);	/* ends this hold */
	append_one(ev, "w0", 5);
	is_int(count_lines(log), 1, "rename: after the hold, the next "
	    "record is in a new file at the path");
	ctl_append(log, 0, 1);	/* waits for the keeper */
	append_one(ev, "w0", 6);
	if (rename(log, log2) < 0)
		bail("rename: %s", strerror(errno));
	if (!ok(wait_lock_free(log), "rename: the keeper ends the hold"))
		bail("rename: the lock stays held; aupctl would wait forever");
	append_one(ev, "w0", 7);
	is_int(count_lines(log2), 3, "rename: the renamed file keeps its "
	    "records");
	is_int(count_lines(log), 1, "rename: after the keeper's release, "
	    "the next record is in a new file");
	evidence_close(ev);
	ok(lines_complete_in((const char *[]){ log1, log2, log }, 3, 2,
	    (const long[]){ 8, 1 }), "rename: every record once");
	verify_all((const char *[]){ log1, log2, log }, 3, 9, "rename");
}

/*
 * logrotate copytruncate during a hold: the next records land at the
 * start of the emptied file and chain on; aupctl then continues the
 * chain from the head we store when the hold ends.
 */
static void
test_copytruncate(void)
{
	const char *log = tpath("ct.log"), *log1 = tpath("ct.log.1");
	struct evidence *ev = xopen(log);
	struct stat st;
	size_t len;
	char *s;

	evidence_hold(ev, LONG_HOLD);
	for (int i = 0; i < 3; i++)
		append_one(ev, "w0", i);
	s = slurp(log, &len);
	spit(log1, s, len);
	free(s);
	if (truncate(log, 0) < 0)
		bail("truncate: %s", strerror(errno));
	append_one(ev, "w0", 3);
	append_one(ev, "w0", 4);
	s = slurp(log, &len);
	stat(log, &st);
	ok(count_lines(log) == 2 && len > 0 && s[0] == '{' &&
	    (size_t)st.st_size == len, "copytruncate: records written at "
	    "the start of the emptied file");
	free(s);
	evidence_hold(ev, 0);
	ok(head_describes(log, tpath("ct.log.head")),
	    "copytruncate: the head file names our last record and the "
	    "emptied file's size");
	ctl_append(log, 0, 1);
	append_one(ev, "w0", 5);
	evidence_close(ev);
	ok(lines_complete_in((const char *[]){ log1, log }, 2, 2,
	    (const long[]){ 6, 1 }), "copytruncate: every record once");
	verify_all((const char *[]){ log1, log }, 2, 7, "copytruncate");
}

/* SIGUSR1 (evidence_reopen) during a hold: released, the new file next. */
static void
test_reopen(void)
{
	const char *log = tpath("ro.log"), *log1 = tpath("ro.log.1");
	struct evidence *ev = xopen(log);
	char err[512];

	evidence_hold(ev, LONG_HOLD);
	append_one(ev, "w0", 0);
	append_one(ev, "w0", 1);
	if (rename(log, log1) < 0)
		bail("rename: %s", strerror(errno));
	is_int(evidence_reopen(ev, err, sizeof(err)), 0, "reopen: works");
	ok(lock_free(log), "reopen: the hold was released");
	ctl_append(log, 0, 1);
	append_one(ev, "w0", 2);
	append_one(ev, "w0", 3);
	is_int(count_lines(log1), 2, "reopen: the old file has our first "
	    "records");
	is_int(count_lines(log), 3, "reopen: the new file the rest");
	evidence_close(ev);
	ok(lines_complete_in((const char *[]){ log1, log }, 2, 2,
	    (const long[]){ 4, 1 }), "reopen: every record once");
	verify_all((const char *[]){ log1, log }, 2, 5, "reopen");
}

/*
 * A write that fails during a hold is cut back, and the lock is released
 * at once; so too after a copytruncate emptied the file (aupctl then
 * takes the chain from the head file).
 */
static void
test_failed_write(void)
{
	const char *log = tpath("full.log"), *log1 = tpath("full.log.1");
	struct evidence *ev = xopen(log);
	struct stat before, after;
	size_t len;
	char *s;

	evidence_hold(ev, LONG_HOLD);
	append_one(ev, "w0", 0);
	append_one(ev, "w0", 1);
	stat(log, &before);
	is_int(append_cut(ev, log, 9), -1, "failed write: append returns -1");
	stat(log, &after);
	is_int((long long)after.st_size, (long long)before.st_size,
	    "failed write: partial bytes cut back");
	ok(lock_free(log), "failed write: the hold was released");
	ctl_append(log, 0, 1);
	append_one(ev, "w0", 2);
	ok(!lock_free(log), "failed write: the next append holds again");
	s = slurp(log, &len);
	spit(log1, s, len);
	free(s);
	if (truncate(log, 0) < 0)
		bail("truncate: %s", strerror(errno));
	is_int(append_cut(ev, log, 9), -1, "failed write after copytruncate: "
	    "append returns -1");
	stat(log, &after);
	is_int((long long)after.st_size, 0, "failed write after copytruncate: "
	    "cut back to empty");
	ok(lock_free(log), "failed write after copytruncate: released");
	ctl_append(log, 1, 1);
	append_one(ev, "w0", 3);
	evidence_close(ev);
	ok(lines_complete_in((const char *[]){ log1, log }, 2, 2,
	    (const long[]){ 4, 2 }), "failed write: every record once");
	verify_all((const char *[]){ log1, log }, 2, 6, "failed write");
}

/*
 * The log ends in a partial line (a crash); the batch that takes the lock
 * for a hold fails and is cut back to it. The release must not describe
 * that log as ending in our record: aupctl starts on a fresh line, the
 * fragment stays a line of its own, and the records chain past it.
 */
static void
test_failed_partial(void)
{
	const char *log = tpath("part.log");
	struct ev_verify_result res;
	struct evidence *ev = xopen(log);
	struct stat st;
	size_t len, cut;
	char *s;

	for (int i = 0; i < 2; i++)
		append_one(ev, "w0", i);
	evidence_close(ev);
	s = slurp(log, &len);
	cut = len - 40;
	spit(log, s, cut);	/* the second line cut short */
	free(s);
	ev = xopen(log);
	evidence_hold(ev, LONG_HOLD);
	is_int(append_cut(ev, log, 9), -1, "failed onto a partial line: "
	    "append returns -1");
	stat(log, &st);
	is_int((long long)st.st_size, (long long)cut, "failed onto a "
	    "partial line: cut back to the fragment");
	ctl_append(log, 0, 1);
	append_one(ev, "w0", 2);
	evidence_close(ev);
	s = slurp(log, &len);
	ok(len > cut && s[cut] == '\n', "failed onto a partial line: aupctl "
	    "started a fresh line after the fragment");
	free(s);
	is_int(count_lines(log), 4, "failed onto a partial line: four lines");
	is_int(verify(&res, 1, log), 1, "failed onto a partial line: the "
	    "fragment is still reported");
	is_int(res.line, 2, "failed onto a partial line: ... as line 2");
	is_str(res.reason, "not a JSON object", "failed onto a partial line: "
	    "... not JSON");
}

/*
 * A daemon dies holding the lock, after a copytruncate and records of its
 * own that brought the log back to the size it had when the lock was
 * taken (every record has one length). The next writer must not take
 * the head file's hash of that time: the chain goes on from the log.
 */
static void
test_died_holding(void)
{
	const char *log = tpath("died.log"), *log1 = tpath("died.log.1");
	struct evidence *ev = xopen(log);
	int status;
	pid_t pid;

	for (int i = 0; i < 3; i++)
		append_one(ev, "w0", i);
	evidence_close(ev);
	fflush(stdout);
	if ((pid = fork()) < 0)
		bail("fork: %s", strerror(errno));
	if (pid == 0) {
		size_t len;
		char *s;

		ev = xopen(log);
		evidence_hold(ev, LONG_HOLD);
		for (int i = 0; i < 3; i++)
			append_one(ev, "w1", i);
		s = slurp(log, &len);
		spit(log1, s, len);
		if (truncate(log, 0) < 0)
			_exit(2);
		for (int i = 3; i < 6; i++)
			append_one(ev, "w1", i);
		_exit(0);	/* holding: no release, no head stored */
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "died holding: the writer ran");
	ev = xopen(log);
	append_one(ev, "w0", 3);
	evidence_close(ev);
	ok(lines_complete_in((const char *[]){ log1, log }, 2, 2,
	    (const long[]){ 4, 6 }), "died holding: every record once");
	verify_all((const char *[]){ log1, log }, 2, 10, "died holding");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		bail("mkdtemp: %s", strerror(errno));
	plan_no_plan();
	test_held();
	test_other_process();
	test_gate();
	test_keeper();
	test_rename();
	test_copytruncate();
	test_reopen();
	test_failed_write();
	test_failed_partial();
	test_died_holding();
	cleanup();
	return tap_done();
}
