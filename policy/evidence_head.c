/*
 * evidence_head - the chain head file "<log>.head" of the evidence log
 * writer (see evidence.c, step 2 of its design)
 *
 * The head line is fixed: "<64 hex> <20 digits> <20 digits> <20 digits>\n"
 * (EVIDENCE_HEAD_LEN bytes): the last record's hash and the log's size,
 * device and inode just after it was written. It is read and written by
 * position, with no scanf or printf at every record, and derived again
 * from the log's last complete line when it no longer describes the log.
 * Ownership: struct ev_headfile belongs to its struct evidence.
 * Threads: the caller serialises (the writer's I/O mutex and flock).
 * Errors: see evidence_priv.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence_priv.h"
#include "log.h"
#include "sha256.h"

#define EV_HASH_SUFFIX	75	/* ,"hash":"<64 hex>"} */
#define EV_TAIL_MAX	(16 * 1024 * 1024)	/* longest line looked back */

static const char ev_zero_hash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static int
ev_is_hash(const char *s)
{
	for (int i = 0; i < SHA256_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return 1;
}

/*
 * After the hash (p below): spaces at p[0], p[21], p[42] before size, dev
 * and ino, the newline at p[63].
 */
#define EV_NUM_LEN	20
_Static_assert(SHA256_HEX_LEN + 3 * (1 + EV_NUM_LEN) + 1 ==
    EVIDENCE_HEAD_LEN, "head line layout");

static int
ev_head_num(const char *s, unsigned long long *v)
{
	*v = 0;
	for (int i = 0; i < EV_NUM_LEN; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned long long)(s[i] - '0');
	}
	return 0;
}

static void
ev_head_put_num(char *s, unsigned long long v)
{
	for (int i = EV_NUM_LEN; i-- > 0; v /= 10)
		s[i] = (char)('0' + v % 10);
}

/*
 * The head file into h. The line last written or read (hf->line) is
 * kept with its parse (hf->last): when the file still holds those very
 * bytes, as it does from one batch to the next while no other writer
 * comes between, their parse is reused. The file is still read every
 * time: the bytes, not a guess, decide.
 */
void
evidence_head_read(struct ev_headfile *hf, struct ev_head *h)
{
	char buf[EVIDENCE_HEAD_LEN], *p = buf + SHA256_HEX_LEN;

	memset(h, 0, sizeof(*h));
	memcpy(h->hash, ev_zero_hash, sizeof(h->hash));
	if (pread(hf->fd, buf, EVIDENCE_HEAD_LEN, 0) != EVIDENCE_HEAD_LEN)
		return;
	if (hf->last.valid &&
	    memcmp(buf, hf->line, EVIDENCE_HEAD_LEN) == 0) {
		*h = hf->last;
		return;
	}
	if (!ev_is_hash(buf) ||
	    p[0] != ' ' || ev_head_num(p + 1, &h->size) < 0 ||
	    p[21] != ' ' || ev_head_num(p + 22, &h->dev) < 0 ||
	    p[42] != ' ' || ev_head_num(p + 43, &h->ino) < 0 ||
	    p[63] != '\n')
		return;
	memcpy(h->hash, buf, SHA256_HEX_LEN);
	h->valid = 1;
	memcpy(hf->line, buf, EVIDENCE_HEAD_LEN);
	hf->last = *h;
}

/*
 * h into the head file, by way of hf->line (which then reads back as h):
 * from one batch to the next only the hash and the size change.
 */
void
evidence_head_write(struct ev_headfile *hf, const struct ev_head *h)
{
	char *p = hf->line + SHA256_HEX_LEN;

	if (!hf->last.valid || hf->last.dev != h->dev ||
	    hf->last.ino != h->ino) {
		p[0] = p[21] = p[42] = ' ';
		ev_head_put_num(p + 22, h->dev);
		ev_head_put_num(p + 43, h->ino);
		p[63] = '\n';
	}
	memcpy(hf->line, h->hash, SHA256_HEX_LEN);
	ev_head_put_num(p + 1, h->size);
	hf->last = *h;
	hf->last.valid = 1;
	/* A stale head is repaired by the next writer (the log wins). */
	if (pwrite(hf->fd, hf->line, EVIDENCE_HEAD_LEN, 0) !=
	    EVIDENCE_HEAD_LEN)
		log_msg(LOG_WARNING, NULL, "evidence: cannot update %s: %s",
		    hf->path, strerror(errno));
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
int
evidence_head_derive(int fd, const char *path, struct ev_head *h,
    const struct stat *st, int *need_nl, char *err, size_t errlen)
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
		rc = ev_tail_hash(fd, st->st_size, hash, &good);
		if (rc < 0) {
			snprintf(err, errlen, "read %s: %s", path,
			    strerror(errno));
			return -1;
		}
		if (rc == 1)
			memcpy(h->hash, hash, sizeof(h->hash));
		else
			log_msg(LOG_WARNING, NULL, "evidence: %s ends without "
			    "a complete record; chaining to %.12s...",
			    path, h->hash);
		*need_nl = good < st->st_size;
	}
	h->size = (unsigned long long)good;
	h->dev = (unsigned long long)st->st_dev;
	h->ino = (unsigned long long)st->st_ino;
	h->valid = 1;
	return 0;
}
