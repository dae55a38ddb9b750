/*
 * evidence_test.h - helpers of the evidence unit tests
 *
 * tests/unit/evidence.c (writer, verify, search, time),
 * tests/unit/evidence_batch.c (group commit, and the chain head carried
 * from one batch to the next among several writers) and
 * tests/unit/evidence_hold.c (a writer holding the lock) share these: a
 * mkdtemp() directory and paths in it, whole-file reads and writes, one
 * test record appended (or one cut short by a size limit), verify over
 * files given in order, a check that each (who, seq) record is in the
 * logs exactly once, and one that the head file describes the log
 * (marked unused: not every program needs it). Header-only: the unit
 * test programs link only tap.o. Each program calls mkdtemp(dir) first
 * and cleanup() last.
 * Threads: append_one() and lines_complete() from any thread; the rest
 * from the main thread.
 */
#ifndef AUP_TEST_EVIDENCE_TEST_H
#define AUP_TEST_EVIDENCE_TEST_H

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "evidence.h"
#include "json.h"
#include "strbuf.h"
#include "tap.h"
#include "xalloc.h"

static char dir[] = "/tmp/aup-evidence-XXXXXX";

static char *
tpath(const char *name)
{
	static char buf[8][512];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	size_t n;

	strbuf_init(&sb, 0);
	if (fp != NULL) {
		while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
			strbuf_add(&sb, buf, n);
		fclose(fp);
	}
	*len = sb.len;
	return strbuf_detach(&sb);
}

static void
spit(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	if (fp == NULL || fwrite(data, 1, len, fp) != len || fclose(fp) != 0)
		bail("cannot write %s", path);
}

static struct evidence *
xopen(const char *path)
{
	char err[512];
	struct evidence *ev = evidence_open(path, 60, err, sizeof(err));

	if (ev == NULL)
		bail("evidence_open: %s", err);
	return ev;
}

static int append_quiet;	/* an expected failure: no diag */

static int
append_one(struct evidence *ev, const char *who, long seq)
{
	char err[512];
	struct evrec r;
	int rc;

	evrec_begin(&r, "test", NULL);
	evrec_str(&r, "who", who);
	evrec_int(&r, "seq", seq);
	evrec_raw(&r, "rcpts", "[\"a@example.com\"]");
	rc = evidence_append(ev, &r, err, sizeof(err));
	if (rc < 0 && !append_quiet)
		diag("append: %s", err);
	else if (rc < 0)
		ok(strstr(err, "written, then removed") != NULL,
		    "failed write: err says what happened (%s)", err);
	evrec_free(&r);
	return rc;
}

/* 0 intact, 1 bad, -1 error; res filled. */
static int
verify(struct ev_verify_result *res, int n, ...)
{
	const char *files[8];
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		files[i] = va_arg(ap, const char *);
	va_end(ap);
	return evidence_verify(files, n, res);
}

static long
count_lines(const char *path)
{
	size_t len;
	char *s = slurp(path, &len);
	long n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	free(s);
	return n;
}

/* One thread of appends and how many failed. */
struct worker {
	struct evidence	*ev;
	char		 who[16];
	int		 fails;
};

/*
 * Every line of the n files paths is an object, and each (who, seq) with
 * seq < per[who] appears in them exactly once, and no other.
 */
static int
lines_complete_in(const char *const *paths, int n, int nwho,
    const long *per)
{
	long maxper = 0;
	char *seen;
	struct strbuf who = STRBUF_INIT, seq = STRBUF_INIT;
	int good = 1;

	for (int w = 0; w < nwho; w++)
		if (per[w] > maxper)
			maxper = per[w];
	seen = xcalloc((size_t)nwho * (size_t)maxper + 1, 1);
	strbuf_init(&who, 0);
	strbuf_init(&seq, 0);
	for (int f = 0; f < n; f++) {
		size_t len;
		char *s = slurp(paths[f], &len), *p = s, *nl;

		for (; (nl = memchr(p, '\n', len - (size_t)(p - s))) !=
		    NULL; p = nl + 1) {
			size_t ll = (size_t)(nl - p);

			strbuf_reset(&who);
			strbuf_reset(&seq);
			if (json_object_check(p, ll) < 0 ||
			    json_field(p, ll, "who", &who) != 1 ||
			    json_field(p, ll, "seq", &seq) != 1) {
				good = 0;
				continue;
			}
			int w = atoi(who.s + 1);
			long q = atol(seq.s);
			if (w < 0 || w >= nwho || q < 0 || q >= per[w] ||
			    seen[w * maxper + q]++)
				good = 0;
		}
		free(s);
	}
	for (int w = 0; w < nwho; w++)
		for (long q = 0; q < per[w]; q++)
			if (seen[w * maxper + q] != 1)
				good = 0;
	free(seen);
	strbuf_free(&who);
	strbuf_free(&seq);
	return good;
}

/* Every line is an object and each (who, seq) appears exactly once. */
static int
lines_complete(const char *path, int nwho, long per)
{
	long *each = xcalloc((size_t)nwho, sizeof(*each));
	int good;

	for (int w = 0; w < nwho; w++)
		each[w] = per;
	good = lines_complete_in(&path, 1, nwho, each);
	free(each);
	return good;
}

/*
 * The head file names the log's last record, size, device and inode, as
 * a writer leaves it: "<hash> <size> <dev> <ino>", numbers in 20 digits.
 */
static __attribute__((unused)) int
head_describes(const char *log, const char *head)
{
	char want[160], *s, *h;
	size_t len, hlen;
	struct stat st;
	int same;

	if (stat(log, &st) < 0)
		return 0;
	s = slurp(log, &len);
	h = slurp(head, &hlen);
	/* the last line ends: ,"hash":"<64 hex>"}\n */
	snprintf(want, sizeof(want), "%.64s %020llu %020llu %020llu\n",
	    len >= 67 ? s + len - 67 : "", (unsigned long long)st.st_size,
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	same = hlen == strlen(want) && memcmp(h, want, hlen) == 0;
	if (!same)
		diag("head %.*s, want %s", (int)hlen, h, want);
	free(s);
	free(h);
	return same;
}

/*
 * An append by "w0" against a size limit half a record past the file's
 * end (a disk full): it fails, and the bytes written are cut back. The
 * limit is at least the head line's 128 bytes: a full disk still lets
 * the head file, which never grows, be rewritten in place, and a limit
 * of a few bytes (after a copytruncate) would forbid that too.
 */
static __attribute__((unused)) int
append_cut(struct evidence *ev, const char *log, long seq)
{
	struct rlimit old, lim;
	struct stat st;
	int rc;

	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = (rlim_t)(stat(log, &st) == 0 ? st.st_size : 0) + 50;
	if (lim.rlim_cur < 128)
		lim.rlim_cur = 128;
	setrlimit(RLIMIT_FSIZE, &lim);
	append_quiet = 1;
	rc = append_one(ev, "w0", seq);
	append_quiet = 0;
	setrlimit(RLIMIT_FSIZE, &old);
	return rc;
}

static void
cleanup(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (getenv("AUP_KEEP_TMP") == NULL && system(cmd) != 0)
		diag("cleanup of %s failed", dir);
}

#endif
