/*
 * evidence - unit tests of the evidence log: writer (threads, two
 * writers, rotation, stale head, partial line, failed write), verify
 * (tampering of every kind), search (each criterion and their bounds),
 * and time parsing. Group commit is tested in evidence_batch.c; the
 * shared helpers are in tests/evidence_test.h. Everything happens in a
 * mkdtemp() directory.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evidence.h"
#include "evidence_test.h"
#include "json.h"
#include "strbuf.h"
#include "tap.h"

/* ---- writer ----------------------------------------------------------- */

#define NTHREADS	8
#define PER_THREAD	300

static void *
worker_run(void *arg)
{
	struct worker *w = arg;

	for (long i = 0; i < PER_THREAD; i++)
		if (append_one(w->ev, w->who, i) < 0)
			w->fails++;
	return NULL;
}

static void
test_threads(void)
{
	struct ev_verify_result res;
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	struct evidence *ev = xopen(tpath("threads.log"));
	int fails = 0;

	for (int i = 0; i < NTHREADS; i++) {
		w[i].ev = ev;
		w[i].fails = 0;
		snprintf(w[i].who, sizeof(w[i].who), "w%d", i);
		pthread_create(&t[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		fails += w[i].fails;
	}
	evidence_close(ev);
	is_int(fails, 0, "threads: every append succeeded");
	is_int(count_lines(tpath("threads.log")), NTHREADS * PER_THREAD,
	    "threads: one line per record");
	ok(lines_complete(tpath("threads.log"), NTHREADS, PER_THREAD),
	    "threads: every line is JSON, none lost, none interleaved");
	is_int(verify(&res, 1, tpath("threads.log")), 0,
	    "threads: chain verifies");
	is_int(res.records, NTHREADS * PER_THREAD, "threads: records counted");
}

/* Two struct evidence on one path: the daemon and aupctl. */
static void
test_two_writers(void)
{
	struct ev_verify_result res;
	struct worker w[4];
	pthread_t t[4];
	int fails = 0;

	for (int i = 0; i < 4; i++) {
		w[i].ev = xopen(tpath("two.log"));
		w[i].fails = 0;
		snprintf(w[i].who, sizeof(w[i].who), "w%d", i);
	}
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker_run, &w[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		fails += w[i].fails;
		evidence_close(w[i].ev);
	}
	is_int(fails, 0, "two writers: every append succeeded");
	ok(lines_complete(tpath("two.log"), 4, PER_THREAD),
	    "two writers: lines whole and complete");
	is_int(verify(&res, 1, tpath("two.log")), 0,
	    "two writers: one chain verifies");
	if (res.line)
		diag("%s:%ld: %s", res.file, res.line, res.reason);
}

/* verify and search run against a log that is being written. */
static void
test_live_verify(void)
{
	struct ev_verify_result res;
	struct worker w = { NULL, "w0", 0 };
	const char *files[1] = { tpath("live.log") };
	pthread_t t;
	int bad = 0, rounds = 0, rc;

	w.ev = xopen(tpath("live.log"));
	append_one(w.ev, "w0", -1);
	pthread_create(&t, NULL, worker_run, &w);
	for (; rounds < 200; rounds++) {
		if ((rc = evidence_verify(files, 1, &res)) != 0) {
			diag("live: %s:%ld: %s", res.file, res.line,
			    res.reason);
			bad++;
		}
	}
	pthread_join(t, NULL);
	evidence_close(w.ev);
	is_int(bad, 0, "live log: %d verifies during appends all pass",
	    rounds);
}

/*
 * The older rotation gone (compressed away, deleted): the newer one is
 * verified from the last hash a verify of the older one printed.
 */
static void
test_anchor(void)
{
	const char *files[] = { tpath("rot.log") };
	const char *old1[] = { tpath("rot.log.1") };
	struct ev_verify_result res;
	char anchor[sizeof(res.last_hash)];

	is_int(evidence_verify(old1, 1, &res), 0, "anchor: the old file alone");
	memcpy(anchor, res.last_hash, sizeof(anchor));
	is_int(evidence_verify_from(files, 1, anchor, &res), 0,
	    "anchor: the new file verifies from the old one's last hash");
	is_int(res.records, 4, "anchor: ... all its records");
	anchor[10] = anchor[10] == '0' ? '1' : '0';
	is_int(evidence_verify_from(files, 1, anchor, &res), 1,
	    "anchor: from another hash it does not");
	is_int(res.line, 1, "anchor: ... at line 1");
	is_int(evidence_verify_from(files, 1, "abc", &res), -1,
	    "anchor: a malformed anchor is refused");
	ok(strstr(res.reason, "not a hash") != NULL, "anchor: ... saying so "
	    "(%s)", res.reason);
}

static void
test_rotation(void)
{
	struct ev_verify_result res;
	struct evidence *ev = xopen(tpath("rot.log"));
	struct evidence *ctl;
	char err[256];

	for (int i = 0; i < 5; i++)
		append_one(ev, "w0", i);
	if (rename(tpath("rot.log"), tpath("rot.log.1")) < 0)
		bail("rename: %s", strerror(errno));
	append_one(ev, "w0", 5);	/* no reopen: the writer notices */
	ok(access(tpath("rot.log"), F_OK) == 0,
	    "rotation: writer created the new file");
	is_int(count_lines(tpath("rot.log.1")), 5,
	    "rotation: nothing more went to the old file");
	ctl = xopen(tpath("rot.log"));	/* aupctl appends too */
	append_one(ctl, "w1", 0);
	evidence_close(ctl);
	append_one(ev, "w0", 6);
	is_int(evidence_reopen(ev, err, sizeof(err)), 0, "rotation: reopen");
	append_one(ev, "w0", 7);
	evidence_close(ev);
	is_int(count_lines(tpath("rot.log")), 4, "rotation: new file lines");
	is_int(verify(&res, 2, tpath("rot.log.1"), tpath("rot.log")), 0,
	    "rotation: [old, new] verifies as one chain");
	is_int(res.records, 9, "rotation: all records counted");
	is_int(verify(&res, 1, tpath("rot.log")), 1,
	    "rotation: [new] alone does not verify");
	is_int(res.line, 1, "rotation: ... at line 1");
	is_str(res.reason, "prev does not match previous record (line "
	    "removed or reordered)", "rotation: ... with the prev reason");
	is_int(verify(&res, 2, tpath("rot.log"), tpath("rot.log.1")), 1,
	    "rotation: files in the wrong order fail");
	test_anchor();
}

static void
test_copytruncate(void)
{
	struct ev_verify_result res;
	struct evidence *ev = xopen(tpath("ct.log"));
	size_t len;
	char *s;

	for (int i = 0; i < 3; i++)
		append_one(ev, "w0", i);
	s = slurp(tpath("ct.log"), &len);
	spit(tpath("ct.log.1"), s, len);	/* logrotate copytruncate */
	free(s);
	if (truncate(tpath("ct.log"), 0) < 0)
		bail("truncate");
	append_one(ev, "w0", 3);
	evidence_close(ev);
	is_int(verify(&res, 2, tpath("ct.log.1"), tpath("ct.log")), 0,
	    "copytruncate: chain continues");
}

/* The head file lost an update (writer killed between the two writes). */
static void
test_stale_head(void)
{
	struct ev_verify_result res;
	struct evidence *ev = xopen(tpath("stale.log"));
	struct evidence *ev2;
	size_t hlen;
	char *head;

	append_one(ev, "w0", 0);
	head = slurp(tpath("stale.log.head"), &hlen);
	append_one(ev, "w0", 1);
	spit(tpath("stale.log.head"), head, hlen);	/* lost update */
	append_one(ev, "w0", 2);	/* running writer re-derives */
	evidence_close(ev);
	is_int(verify(&res, 1, tpath("stale.log")), 0,
	    "stale head: a running writer re-derives the head from the log");
	spit(tpath("stale.log.head"), head, hlen);
	ev2 = xopen(tpath("stale.log"));	/* reconcile on open */
	append_one(ev2, "w0", 3);
	evidence_close(ev2);
	is_int(verify(&res, 1, tpath("stale.log")), 0,
	    "stale head: open reconciles, the last line wins");
	spit(tpath("stale.log.head"), "garbage", 7);
	ev2 = xopen(tpath("stale.log"));
	append_one(ev2, "w0", 4);
	evidence_close(ev2);
	is_int(verify(&res, 1, tpath("stale.log")), 0,
	    "stale head: a garbage head file is repaired");
	unlink(tpath("stale.log.head"));
	ev2 = xopen(tpath("stale.log"));
	append_one(ev2, "w0", 5);
	evidence_close(ev2);
	is_int(verify(&res, 1, tpath("stale.log")), 0,
	    "stale head: a missing head file is rebuilt");
	is_int(res.records, 6, "stale head: all records kept");
	free(head);
}

/* A crash mid-write left a partial line: it is never extended. */
static void
test_partial_line(void)
{
	struct ev_verify_result res;
	struct evidence *ev = xopen(tpath("part.log"));
	size_t len, cut;
	char *s;

	for (int i = 0; i < 3; i++)
		append_one(ev, "w0", i);
	evidence_close(ev);
	s = slurp(tpath("part.log"), &len);
	cut = len - 40;
	spit(tpath("part.log"), s, cut);	/* third line cut short */
	is_int(verify(&res, 1, tpath("part.log")), 1,
	    "partial: verify fails");
	is_int(res.line, 3, "partial: ... at the last line");
	is_str(res.reason, "truncated last line", "partial: ... truncated");
	ev = xopen(tpath("part.log"));
	append_one(ev, "w0", 3);
	evidence_close(ev);
	free(s);
	s = slurp(tpath("part.log"), &len);
	ok(s[cut] == '\n', "partial: a newline was put after the fragment");
	is_int(verify(&res, 1, tpath("part.log")), 1,
	    "partial: the damaged line is still reported");
	is_int(res.line, 3, "partial: ... as line 3");
	is_str(res.reason, "not a JSON object", "partial: ... not JSON");
	/* Without the fragment, the new record chains to line 2. */
	{
		char *nl1 = memchr(s, '\n', len);
		char *nl2 = memchr(nl1 + 1, '\n', len - (size_t)(nl1 + 1 - s));
		size_t head = (size_t)(nl2 - s) + 1;
		struct strbuf sb = STRBUF_INIT;

		strbuf_init(&sb, len);
		strbuf_add(&sb, s, head);
		strbuf_add(&sb, s + cut + 1, len - cut - 1);
		spit(tpath("part2.log"), sb.s, sb.len);
		strbuf_free(&sb);
	}
	is_int(verify(&res, 1, tpath("part2.log")), 0,
	    "partial: new record chains to the last complete record");
	free(s);
}

/* A write that fails (file size limit: EFBIG / short write). */
static void
test_failed_write(void)
{
	struct ev_verify_result res;
	struct evidence *ev = xopen(tpath("full.log"));
	struct rlimit old, lim;
	struct stat before, after;
	size_t hlen, hlen2;
	char *h1, *h2;
	int rc;

	append_one(ev, "w0", 0);
	stat(tpath("full.log"), &before);
	h1 = slurp(tpath("full.log.head"), &hlen);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = (rlim_t)before.st_size + 50;	/* half a record */
	setrlimit(RLIMIT_FSIZE, &lim);
	append_quiet = 1;
	rc = append_one(ev, "w0", 1);
	append_quiet = 0;
	setrlimit(RLIMIT_FSIZE, &old);
	is_int(rc, -1, "failed write: append returns -1");
	stat(tpath("full.log"), &after);
	is_int((long long)after.st_size, (long long)before.st_size,
	    "failed write: partial bytes cut back");
	h2 = slurp(tpath("full.log.head"), &hlen2);
	ok(hlen == hlen2 && memcmp(h1, h2, hlen) == 0,
	    "failed write: head not advanced");
	is_int(append_one(ev, "w0", 1), 0, "failed write: next append works");
	evidence_close(ev);
	is_int(verify(&res, 1, tpath("full.log")), 0,
	    "failed write: chain intact");
	free(h1);
	free(h2);
}

static void
test_sync_every_record(void)
{
	struct ev_verify_result res;
	char err[256];
	struct evidence *ev = evidence_open(tpath("sync.log"), 0, err,
	    sizeof(err));

	ok(ev != NULL, "sync 0: open");
	if (ev == NULL)
		return;
	is_int(append_one(ev, "w0", 0), 0, "sync 0: append with fdatasync");
	evidence_close(ev);
	is_int(verify(&res, 1, tpath("sync.log")), 0, "sync 0: verifies");
	ok(evidence_open("/nonexistent/dir/x.log", 1, err, sizeof(err)) ==
	    NULL && strstr(err, "/nonexistent/dir/x.log") != NULL,
	    "open error names the path: %s", err);
}

/* ---- verify: tampering ------------------------------------------------ */

/* Line starts of s (at most 64) and how many. */
static int
split_lines(const char *s, size_t len, size_t *start)
{
	int n = 0;

	for (size_t i = 0; i < len && n < 64; i++)
		if (i == 0 || s[i - 1] == '\n')
			start[n++] = i;
	return n;
}

struct tamper {
	const char	*name;
	int		 kind;		/* see tamper_apply */
	int		 line;		/* 1-based line acted on */
	long		 want_line;
	const char	*want_reason;
};

enum { T_BYTE, T_DELETE, T_SWAP, T_GARBAGE, T_BLANK, T_NOCHAIN, T_CUT };

static const struct tamper tampers[] = {
	{ "one byte changed in line 5", T_BYTE, 5, 5,
	    "hash mismatch (record altered)" },
	{ "line 5 deleted", T_DELETE, 5, 5,
	    "prev does not match previous record (line removed or "
	    "reordered)" },
	{ "first line deleted", T_DELETE, 1, 1,
	    "prev does not match previous record (line removed or "
	    "reordered)" },
	{ "lines 4 and 5 swapped", T_SWAP, 4, 4,
	    "prev does not match previous record (line removed or "
	    "reordered)" },
	{ "garbage line inserted before 3", T_GARBAGE, 3, 3,
	    "not a JSON object" },
	{ "blank line inserted before 3", T_BLANK, 3, 3, "not a JSON object" },
	{ "object without chain before 3", T_NOCHAIN, 3, 3,
	    "missing prev/hash" },
	{ "last line cut", T_CUT, 10, 10, "truncated last line" },
};

static void
tamper_apply(const struct tamper *t, const char *s, size_t len,
    struct strbuf *out)
{
	size_t st[64];
	int n = split_lines(s, len, st);
	size_t a = st[t->line - 1];
	size_t b = t->line < n ? st[t->line] : len;

	strbuf_reset(out);
	switch (t->kind) {
	case T_BYTE:
		strbuf_add(out, s, len);
		out->s[a + 30] ^= 0x01;	/* inside the ref value */
		break;
	case T_DELETE:
		strbuf_add(out, s, a);
		strbuf_add(out, s + b, len - b);
		break;
	case T_SWAP: {
		size_t c = st[t->line + 1];

		strbuf_add(out, s, a);
		strbuf_add(out, s + b, c - b);
		strbuf_add(out, s + a, b - a);
		strbuf_add(out, s + c, len - c);
		break;
	}
	case T_CUT:
		strbuf_add(out, s, len - 10);
		break;
	default:
		strbuf_add(out, s, a);
		strbuf_adds(out, t->kind == T_GARBAGE ? "\x1b[2Jhello\n" :
		    t->kind == T_BLANK ? "\n" : "{\"ts\":\"x\",\"a\":1}\n");
		strbuf_add(out, s + a, len - a);
		break;
	}
}

static void
test_tamper(void)
{
	struct ev_verify_result res;
	struct evidence *ev = xopen(tpath("base.log"));
	struct strbuf out = STRBUF_INIT;
	size_t len;
	char *s;

	for (int i = 0; i < 10; i++)
		append_one(ev, "w0", i);
	evidence_close(ev);
	is_int(verify(&res, 1, tpath("base.log")), 0, "tamper: base verifies");
	s = slurp(tpath("base.log"), &len);
	strbuf_init(&out, len);
	for (size_t i = 0; i < sizeof(tampers) / sizeof(*tampers); i++) {
		const struct tamper *t = &tampers[i];

		tamper_apply(t, s, len, &out);
		spit(tpath("t.log"), out.s, out.len);
		is_int(verify(&res, 1, tpath("t.log")), 1, "tamper: %s: bad",
		    t->name);
		is_int(res.line, t->want_line, "tamper: %s: line", t->name);
		is_str(res.reason, t->want_reason, "tamper: %s: reason",
		    t->name);
		ok(strcmp(res.file, tpath("t.log")) == 0, "tamper: %s: file",
		    t->name);
	}
	spit(tpath("empty.log"), "", 0);
	is_int(verify(&res, 1, tpath("empty.log")), 0, "empty file verifies");
	is_int(res.records, 0, "empty file: 0 records");
	is_int(verify(&res, 1, tpath("missing.log")), -1,
	    "missing file: -1");
	ok(strstr(res.reason, "missing.log") != NULL,
	    "missing file: reason names it (%s)", res.reason);
	strbuf_free(&out);
	free(s);
}

/* ---- search ----------------------------------------------------------- */

static void
put(struct evidence *ev, const char *ts, const char *ref, const char *mid,
    const char *ip, const char *cust, const char *rest)
{
	char err[256];
	struct evrec r;

	strbuf_init(&r.sb, 256);
	strbuf_addf(&r.sb, "{\"ts\":\"%s\",\"ref\":\"%s\",\"event\":"
	    "\"transaction\"", ts, ref);
	evrec_str(&r, "client_addr", ip);
	evrec_str(&r, "customer", cust);
	evrec_str(&r, "message_id", mid);
	if (rest != NULL)
		strbuf_adds(&r.sb, rest);
	if (evidence_append(ev, &r, err, sizeof(err)) < 0)
		bail("append: %s", err);
	evrec_free(&r);
}

static void
make_search_logs(void)
{
	struct evidence *ev = xopen(tpath("s1.log"));

	put(ev, "2026-11-22T08:00:00.000Z", "aaaaaaaaaaa1", "<m1@example.com>",
	    "192.0.2.1", "acme", ",\"rcpts\":[\"Bob@Example.COM\"],"
	    "\"rejected_rcpts\":[]");
	put(ev, "2026-11-22T09:00:00.000Z", "aaaaaaaaaaa2",
	    " <m2@example.com>", "2001:db8::1", "beta", ",\"rcpts\":"
	    "[\"x@y.org\"],\"rejected_rcpts\":[{\"rcpt\":\"Carol@Example.net\","
	    "\"rule\":\"optout\",\"reply\":\"550 5.7.1 no\"}]");
	put(ev, "2026-11-22T10:00:00.000Z", "aaaaaaaaaaa3", "<we\"ird\x1b@x>",
	    "192.0.2.10", "acme", ",\"subject\":\"\\\"message_id\\\":\\\""
	    "<m1@example.com>\\\" bob@example.com\",\"rcpts\":[\"q@q.q\"]");
	put(ev, "2026-11-23T00:00:00.000Z", "aaaaaaaaaaa4", NULL, NULL, "acme",
	    ",\"refs\":[\"aaaaaaaaaaa1\",\"aaaaaaaaaaa2\"]");
	put(ev, "2026-11-23T12:00:00.500Z", "aaaaaaaaaaa5", "<m1@example.com>",
	    "192.0.2.1", "gamma", ",\"rcpts\":[\"bob@example.com.evil\"]");
	evidence_close(ev);
	ev = xopen(tpath("s2.log"));
	put(ev, "2026-11-24T00:00:00.000Z", "aaaaaaaaaaa6", "m1@example.com",
	    "192.0.2.1", "acme", NULL);
	evidence_close(ev);
}

struct found {
	struct strbuf	refs;
	int		stop_after;
	int		n;
};

static int
found_cb(const char *line, size_t len, void *arg)
{
	struct found *f = arg;
	struct strbuf ref = STRBUF_INIT;

	strbuf_init(&ref, 16);
	json_field(line, len, "ref", &ref);
	if (f->refs.len > 0)
		strbuf_addc(&f->refs, ',');
	strbuf_add(&f->refs, ref.len > 11 ? ref.s + 11 : ref.s,
	    ref.len > 11 ? 1 : ref.len);	/* last digit of the ref */
	strbuf_free(&ref);
	return ++f->n == f->stop_after;
}

struct search_case {
	const char	*name;
	struct ev_query	 q;
	const char	*since, *until;
	int		 both_files;
	const char	*want;	/* last digits of the refs found, in order */
};

static const struct search_case search_cases[] = {
	{ "ref", { .ref = "aaaaaaaaaaa3" }, NULL, NULL, 0, "3" },
	{ "ref upper case, cited in refs", { .ref = "AAAAAAAAAAA1" }, NULL,
	    NULL, 0, "1,4" },
	{ "message-id without brackets", { .message_id = "m1@example.com" },
	    NULL, NULL, 0, "1,5" },
	{ "message-id with brackets, leading space stored",
	    { .message_id = "<m2@example.com>" }, NULL, NULL, 0, "2" },
	{ "message-id with quote and ESC", { .message_id = "<we\"ird\x1b@x>" },
	    NULL, NULL, 0, "3" },
	{ "message-id across files", { .message_id = "<m1@example.com>" },
	    NULL, NULL, 1, "1,5,6" },
	{ "message-id absent", { .message_id = "<nope@x>" }, NULL, NULL, 0,
	    "" },
	{ "ip v4 exact (not a prefix)", { .ip = "192.0.2.1" }, NULL, NULL, 0,
	    "1,5" },
	{ "ip v6 non-canonical query", { .ip = "2001:DB8:0::1" }, NULL, NULL,
	    0, "2" },
	{ "rcpt case-insensitive", { .rcpt = "bob@example.com" }, NULL, NULL,
	    0, "1" },
	{ "rcpt in rejected_rcpts", { .rcpt = "<CAROL@example.NET>" }, NULL,
	    NULL, 0, "2" },
	{ "customer", { .customer = "acme" }, NULL, NULL, 0, "1,3,4" },
	{ "customer is exact", { .customer = "ACME" }, NULL, NULL, 0, "" },
	{ "since inclusive", { 0 }, "2026-11-22T09:00:00Z", NULL, 0,
	    "2,3,4,5" },
	{ "until inclusive", { 0 }, NULL, "2026-11-22T09:00:00Z", 0, "1,2" },
	{ "since and until", { 0 }, "2026-11-22T09:00:00Z",
	    "2026-11-22T10:00:00Z", 0, "2,3" },
	{ "since with an offset", { 0 }, "2026-11-22T11:00:00+02:00", NULL, 0,
	    "2,3,4,5" },
	{ "until to the millisecond", { 0 }, "2026-11-23T12:00:00.500Z",
	    "2026-11-23T12:00:00.500Z", 0, "5" },
	{ "until one ms before", { 0 }, "2026-11-23T01:00:00Z",
	    "2026-11-23T12:00:00.499Z", 0, "" },
	{ "customer and since", { .customer = "acme" },
	    "2026-11-22T09:30:00Z", NULL, 0, "3,4" },
	{ "message-id and customer", { .message_id = "m1@example.com",
	    .customer = "gamma" }, NULL, NULL, 0, "5" },
	{ "all criteria", { .ref = "aaaaaaaaaaa1", .message_id = "m1@example.com",
	    .ip = "192.0.2.1", .rcpt = "BOB@example.com", .customer = "acme" },
	    "2026-11-22", "2026-11-22T08:00:00Z", 0, "1" },
};

static void
test_search(void)
{
	const char *files[2] = { tpath("s1.log"), tpath("s2.log") };
	struct found f = { STRBUF_INIT, 0, 0 };
	char err[256];
	long n;

	make_search_logs();
	strbuf_init(&f.refs, 0);
	for (size_t i = 0; i < sizeof(search_cases) / sizeof(*search_cases);
	    i++) {
		const struct search_case *c = &search_cases[i];
		struct ev_query q = c->q;

		if (c->since != NULL && evidence_parse_time(c->since,
		    &q.since_ms) < 0)
			bail("bad since in %s", c->name);
		if (c->until != NULL && evidence_parse_time(c->until,
		    &q.until_ms) < 0)
			bail("bad until in %s", c->name);
		strbuf_reset(&f.refs);
		f.n = 0;
		n = evidence_search(files, c->both_files ? 2 : 1, &q, found_cb,
		    &f, err, sizeof(err));
		is_str(f.refs.s, c->want, "search: %s", c->name);
		is_int(n, f.n, "search: %s: count returned", c->name);
	}
	strbuf_reset(&f.refs);
	f.n = 0;
	f.stop_after = 1;
	n = evidence_search(files, 2, &(struct ev_query){ .customer = "acme" },
	    found_cb, &f, err, sizeof(err));
	is_str(f.refs.s, "1", "search: callback stops the search");
	files[1] = tpath("nope.log");
	n = evidence_search(files, 2, &(struct ev_query){ .customer = "x" },
	    found_cb, &f, err, sizeof(err));
	is_int(n, -1, "search: unreadable file is an error");
	ok(strstr(err, "nope.log") != NULL, "search: error names it (%s)",
	    err);
	strbuf_free(&f.refs);
}

/* ---- time ------------------------------------------------------------- */

struct time_case {
	const char	*in;
	int		 rc;
	long long	 ms;
};

static const struct time_case time_cases[] = {
	{ "2026-11-22T08:00:00Z", 0, 1795334400000LL },
	{ "2026-11-22t08:00:00z", 0, 1795334400000LL },
	{ "2026-11-22 08:00:00Z", 0, 1795334400000LL },
	{ "2026-11-22T10:00:00+02:00", 0, 1795334400000LL },
	{ "2026-11-22T03:30:00-04:30", 0, 1795334400000LL },
	{ "2026-11-22T08:00:00.5Z", 0, 1795334400500LL },
	{ "2026-11-22T08:00:00.1239999Z", 0, 1795334400123LL },
	{ "2026-11-22", 0, 1795305600000LL },
	{ "2024-02-29T23:59:59.999Z", 0, 1709251199999LL },
	{ "2000-01-01T00:00:00Z", 0, 946684800000LL },
	{ "1969-12-31T23:59:59.999Z", 0, -1LL },
	{ "2026-02-29", -1, 0 },
	{ "2026-13-01", -1, 0 },
	{ "2026-00-10", -1, 0 },
	{ "2026-11-31", -1, 0 },
	{ "2026-11-22T24:00:00Z", -1, 0 },
	{ "2026-11-22T08:00:00", -1, 0 },
	{ "2026-11-22T08:00Z", -1, 0 },
	{ "2026-11-22T08:00:00.Z", -1, 0 },
	{ "2026-11-22T08:00:00+0200", -1, 0 },
	{ "2026-11-22T08:00:00Zjunk", -1, 0 },
	{ "2026-11-22x", -1, 0 },
	{ "26-11-22", -1, 0 },
	{ "", -1, 0 },
	{ "yesterday", -1, 0 },
};

static void
test_time(void)
{
	char buf[32], ref[EVIDENCE_REF_LEN + 1], ref2[EVIDENCE_REF_LEN + 1];
	int64_t ms;
	int bad = 0;

	for (size_t i = 0; i < sizeof(time_cases) / sizeof(*time_cases); i++) {
		const struct time_case *c = &time_cases[i];

		ms = 0;
		is_int(evidence_parse_time(c->in, &ms), c->rc, "parse '%s'",
		    c->in);
		if (c->rc == 0)
			is_int(ms, c->ms, "parse '%s': value", c->in);
	}
	evidence_timestamp(0, buf, sizeof(buf));
	is_str(buf, "1970-01-01T00:00:00.000Z", "timestamp epoch");
	evidence_timestamp(-1, buf, sizeof(buf));
	is_str(buf, "1969-12-31T23:59:59.999Z", "timestamp before epoch");
	evidence_timestamp(1795600000123LL, buf, sizeof(buf));
	is_str(buf, "2026-11-25T09:46:40.123Z", "timestamp 2026");
	for (int64_t t = -86400000LL * 800; t < 86400000LL * 366 * 200;
	    t += 86400000LL * 7 + 3723004) {
		evidence_timestamp(t, buf, sizeof(buf));
		if (evidence_parse_time(buf, &ms) < 0 || ms != t)
			bad++;
	}
	is_int(bad, 0, "timestamp and parse round-trip over two centuries");
	ms = evidence_now_ms();
	ok(ms > 1700000000000LL, "now is after 2023");
	evidence_new_ref(ref);
	evidence_new_ref(ref2);
	ok(strlen(ref) == EVIDENCE_REF_LEN &&
	    strspn(ref, "0123456789abcdef") == EVIDENCE_REF_LEN,
	    "new ref is %d hex digits (%s)", EVIDENCE_REF_LEN, ref);
	ok(strcmp(ref, ref2) != 0, "two refs differ");
}

/*
 * References come from a per-thread pool of random bytes: a forked child
 * must not repeat its parent's next ones (the daemon forks at start).
 */
static void
test_ref_fork(void)
{
	char mine[EVIDENCE_REF_LEN + 1], child[EVIDENCE_REF_LEN + 1] = "";
	int fds[2], st;
	pid_t pid = -1;

	evidence_new_ref(mine);	/* the pool is filled */
	if (pipe(fds) < 0 || (pid = fork()) < 0)
		bail("pipe/fork: %s", strerror(errno));
	if (pid == 0) {
		evidence_new_ref(child);
		_exit(write(fds[1], child, EVIDENCE_REF_LEN) ==
		    EVIDENCE_REF_LEN ? 0 : 1);
	}
	close(fds[1]);
	if (read(fds[0], child, EVIDENCE_REF_LEN) != EVIDENCE_REF_LEN)
		bail("read from child");
	close(fds[0]);
	waitpid(pid, &st, 0);
	evidence_new_ref(mine);
	ok(strcmp(mine, child) != 0, "after fork: parent and child draw "
	    "different refs (%s, %s)", mine, child);
}

static void
test_record_format(void)
{
	struct evidence *ev = xopen(tpath("fmt.log"));
	char err[256];
	struct evrec r;
	size_t len;
	char *s;

	evrec_begin(&r, "transaction", "0123456789ab");
	evrec_str(&r, "helo", "evil\r\nX-Injected: 1\xe2\x80\xae\xff");
	evrec_str(&r, "auth", NULL);
	evrec_int(&r, "size", -42);
	evrec_raw(&r, "spf", NULL);
	is_int(evidence_append(ev, &r, err, sizeof(err)), 0, "format: append");
	is_int(evidence_append(ev, &r, err, sizeof(err)), 0,
	    "format: the record can be appended again (left unsealed)");
	evrec_free(&r);
	evidence_close(ev);
	s = slurp(tpath("fmt.log"), &len);
	ok(len > 32 && memcmp(s, "{\"ts\":\"", 7) == 0 && s[30] == 'Z' &&
	    memcmp(s + 31, "\",\"ref\":\"0123456789ab\",\"event\":"
	    "\"transaction\",\"helo\":\"evil\\u000d\\u000aX-Injected: 1"
	    "\\u202e\\\\xff\",\"auth\":null,\"size\":-42,\"spf\":null,"
	    "\"prev\":\"0000", 130) == 0, "format: members in order, escaped");
	ok(strchr(s, '\r') == NULL && memchr(s, '\n', len) == s + len / 2 - 1,
	    "format: one line per record, no raw CR");
	free(s);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		bail("mkdtemp: %s", strerror(errno));
	plan_no_plan();
	test_time();
	test_ref_fork();
	test_record_format();
	test_threads();
	test_two_writers();
	test_live_verify();
	test_rotation();
	test_copytruncate();
	test_stale_head();
	test_partial_line();
	test_failed_write();
	test_sync_every_record();
	test_tamper();
	test_search();
	cleanup();
	return tap_done();
}
