/*
 * evidence_test.h - helpers of the evidence unit tests
 *
 * tests/unit/evidence.c (writer, verify, search, time) and
 * tests/unit/evidence_batch.c (group commit, and the chain head carried
 * from one batch to the next among several writers) share these: a
 * mkdtemp() directory and paths in it, whole-file reads and writes, one
 * test record appended, verify over files given in order, and a check
 * that each (who, seq) record is in a log exactly once. Header-only: the
 * unit test programs link only tap.o. Each program calls
 * mkdtemp(dir) first and cleanup() last.
 * Threads: append_one() and lines_complete() from any thread; the rest
 * from the main thread.
 */
#ifndef AUP_TEST_EVIDENCE_TEST_H
#define AUP_TEST_EVIDENCE_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Every line is an object and each (who, seq) appears exactly once. */
static int
lines_complete(const char *path, int nwho, long per)
{
	size_t len;
	char *s = slurp(path, &len), *p = s, *nl;
	char *seen = xcalloc((size_t)nwho * (size_t)per, 1);
	struct strbuf who = STRBUF_INIT, seq = STRBUF_INIT;
	int good = 1;

	strbuf_init(&who, 0);
	strbuf_init(&seq, 0);
	for (; (nl = memchr(p, '\n', len - (size_t)(p - s))) != NULL;
	    p = nl + 1) {
		strbuf_reset(&who);
		strbuf_reset(&seq);
		if (json_object_check(p, (size_t)(nl - p)) < 0 ||
		    json_field(p, (size_t)(nl - p), "who", &who) != 1 ||
		    json_field(p, (size_t)(nl - p), "seq", &seq) != 1) {
			good = 0;
			continue;
		}
		int w = atoi(who.s + 1);
		long q = atol(seq.s);
		if (w < 0 || w >= nwho || q < 0 || q >= per ||
		    seen[w * per + q]++)
			good = 0;
	}
	for (long i = 0; i < nwho * per; i++)
		if (seen[i] != 1)
			good = 0;
	free(seen);
	free(s);
	strbuf_free(&who);
	strbuf_free(&seq);
	return good;
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
