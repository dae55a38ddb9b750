/*
 * evidence_verify - prove an evidence chain intact or name its first bad
 * line (see evidence.h), and map log files for verify and search
 *
 * Each line must be, in this order of checks: one well-formed JSON object
 * ("not a JSON object"); ending in ,"prev":"<64 hex>","hash":"<64 hex>"}
 * ("missing prev/hash"); hashed correctly ("hash mismatch (record
 * altered)"); and chained to the record before it, across files in the
 * order given, the first one to 64 zeros ("prev does not match previous
 * record (line removed or reordered)"). A last line without its newline
 * is "truncated last line". The trailing members are checked by position,
 * not by a JSON reader, because the hash is defined over exactly the bytes
 * before the final ,"hash":" of the line.
 *
 * Files are mmap()ed read-only (MADV_SEQUENTIAL), so a multi-gigabyte log
 * costs address space, not memory; the reader never looks past a line.
 * The size of a live log (one with a "<log>.head" beside it) is taken
 * under a shared flock of the head file (waited for through the gate
 * "<log>.lock", see evidence.c), so a record being written is not
 * mistaken for a truncated last line.
 * Ownership: struct ev_map owns its mapping or buffer (evidence_unmap).
 * Threads: no shared state. Errors: see evidence.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence.h"
#include "json.h"
#include "sha256.h"
#include "strbuf.h"
#include "xalloc.h"

#define EVV_PREV_LEN	74	/* ,"prev":"<64 hex>" */
#define EVV_HASH_LEN	75	/* ,"hash":"<64 hex>"} */

static const char evv_zero_hash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* ---- mapping ---------------------------------------------------------- */

static int
evv_read_all(int fd, struct ev_map *m, const char *path, char *err,
    size_t errlen)
{
	size_t cap = 65536, len = 0;
	char *buf = xmalloc(cap);
	ssize_t n;

	for (;;) {
		if (len == cap)
			buf = xrealloc(buf, cap *= 2);
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "read %s: %s", path,
			    strerror(errno));
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	m->data = buf;
	m->len = len;
	m->mapped = 0;
	return 0;
}

static int
evv_flock(int fd, int op)
{
	while (flock(fd, op) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/*
 * A shared lock on "<path>.head" if there is one (a live log), so that
 * the size read by fstat() falls between two records: a writer holds the
 * exclusive lock across its write(). It is waited for through the gate
 * "<path>.lock", as writers do (see evidence.c), so that a daemon holding
 * the lock lets us in within its hold time. -1 when there is nothing to
 * lock.
 */
static int
evv_lock_live(const char *path)
{
	struct strbuf hp = STRBUF_INIT;
	int fd, gate;

	strbuf_addf(&hp, "%s.lock", path);
	gate = open(hp.s, O_RDONLY | O_CLOEXEC);
	strbuf_reset(&hp);
	strbuf_addf(&hp, "%s.head", path);
	fd = open(hp.s, O_RDONLY | O_CLOEXEC);
	strbuf_free(&hp);
	if (gate >= 0 && evv_flock(gate, LOCK_EX) < 0) {
		close(gate);	/* without it: only slower */
		gate = -1;
	}
	if (fd >= 0 && evv_flock(fd, LOCK_SH) < 0) {
		close(fd);
		fd = -1;
	}
	if (gate >= 0)
		close(gate);	/* and with it its lock */
	return fd;
}

static int
evv_map_fd(int fd, const struct stat *st, struct ev_map *m,
    const char *path, char *err, size_t errlen)
{
	void *p;

	if (!S_ISREG(st->st_mode))
		return evv_read_all(fd, m, path, err, errlen);
	if (st->st_size == 0)
		return 0;
	p = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "mmap %s: %s", path, strerror(errno));
		return -1;
	}
	madvise(p, (size_t)st->st_size, MADV_SEQUENTIAL);
	m->data = p;
	m->len = (size_t)st->st_size;
	m->mapped = 1;
	return 0;
}

int
evidence_map(const char *path, struct ev_map *m, char *err, size_t errlen)
{
	struct stat st;
	int fd, lock, rc;

	memset(m, 0, sizeof(*m));
	if (strcmp(path, "-") == 0) {
		lock = -1;
		fd = dup(0);
	} else {
		lock = evv_lock_live(path);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		rc = -1;
	} else
		rc = evv_map_fd(fd, &st, m, path, err, errlen);
	if (fd >= 0)
		close(fd);
	if (lock >= 0)
		close(lock);	/* releases the shared lock */
	return rc;
}

void
evidence_unmap(struct ev_map *m)
{
	if (m->data != NULL && m->mapped)
		munmap((void *)m->data, m->len);
	else
		free((void *)m->data);
	memset(m, 0, sizeof(*m));
}

/* ---- verification ----------------------------------------------------- */

static int
evv_is_hash(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return 1;
}

/*
 * Check one complete line against the expected prev; on success copy its
 * hash into hash. NULL if good, else the reason.
 */
static const char *
evv_line(const char *line, size_t len, const char *prev, char *hash)
{
	const char *ph, *pp;
	char digest[SHA256_HEX_LEN + 1];

	if (json_object_check(line, len) < 0)
		return "not a JSON object";
	if (len < 1 + EVV_PREV_LEN + EVV_HASH_LEN)
		return "missing prev/hash";
	ph = line + len - EVV_HASH_LEN;
	pp = ph - EVV_PREV_LEN;
	if (memcmp(ph, ",\"hash\":\"", 9) != 0 || !evv_is_hash(ph + 9) ||
	    memcmp(ph + 9 + 64, "\"}", 2) != 0 ||
	    memcmp(pp, ",\"prev\":\"", 9) != 0 || !evv_is_hash(pp + 9) ||
	    pp[9 + 64] != '"')
		return "missing prev/hash";
	sha256_hex(line, (size_t)(ph - line), digest);
	if (memcmp(digest, ph + 9, 64) != 0)
		return "hash mismatch (record altered)";
	if (memcmp(pp + 9, prev, 64) != 0)
		return "prev does not match previous record (line removed or "
		    "reordered)";
	memcpy(hash, digest, sizeof(digest));
	return NULL;
}

/* Walk one file's lines; 0 intact, 1 bad (res->line, res->reason set). */
static int
evv_buf(const char *data, size_t len, char *prev,
    struct ev_verify_result *res)
{
	const char *p = data, *end, *nl, *why;
	char hash[SHA256_HEX_LEN + 1];
	long lineno = 0;

	if (len == 0)
		return 0;	/* an empty file maps to NULL */
	end = data + len;
	while (p < end) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			why = "truncated last line";
		else
			why = evv_line(p, (size_t)(nl - p), prev, hash);
		if (why != NULL) {
			res->line = lineno;
			snprintf(res->reason, sizeof(res->reason), "%s", why);
			return 1;
		}
		memcpy(prev, hash, SHA256_HEX_LEN + 1);
		res->records++;
		p = nl + 1;
	}
	return 0;
}

int
evidence_verify(const char *const *files, int nfiles,
    struct ev_verify_result *res)
{
	return evidence_verify_from(files, nfiles, NULL, res);
}

int
evidence_verify_from(const char *const *files, int nfiles,
    const char *anchor, struct ev_verify_result *res)
{
	char prev[SHA256_HEX_LEN + 1];
	struct ev_map m;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (anchor != NULL && (strlen(anchor) != SHA256_HEX_LEN ||
	    !evv_is_hash(anchor))) {
		snprintf(res->reason, sizeof(res->reason), "anchor '%.70s' is "
		    "not a hash (64 lower-case hex digits)", anchor);
		return -1;
	}
	memcpy(prev, anchor != NULL ? anchor : evv_zero_hash, sizeof(prev));
	for (int i = 0; i < nfiles && rc == 0; i++) {
		snprintf(res->file, sizeof(res->file), "%s", files[i]);
		if (evidence_map(files[i], &m, res->reason,
		    sizeof(res->reason)) < 0)
			rc = -1;
		else {
			rc = evv_buf(m.data, m.len, prev, res);
			evidence_unmap(&m);
		}
	}
	memcpy(res->last_hash, prev, sizeof(res->last_hash));
	if (rc == 0)
		res->file[0] = '\0';
	return rc;
}
