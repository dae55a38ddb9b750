/*
 * evidence_priv - what evidence.c and evidence_head.c share
 * (module-private): the chain head file "<log>.head" (see evidence.c)
 */
#ifndef AUP_EVIDENCE_PRIV_H
#define AUP_EVIDENCE_PRIV_H

#include <sys/stat.h>

#include "sha256.h"

#define EVIDENCE_HEAD_LEN	128	/* "%64s %020llu %020llu %020llu\n" */
#define EVIDENCE_SIZE_NONE	18446744073709551615ULL	/* no log's size */

/* A head line parsed: the last record's hash, the log's size, dev, ino. */
struct ev_head {
	char			hash[SHA256_HEX_LEN + 1];
	unsigned long long	size, dev, ino;
	int			valid;	/* head file was readable */
};

/* The head file, and the line last read or written there with its parse. */
struct ev_headfile {
	int			 fd;
	const char		*path;		/* borrowed */
	char			 line[EVIDENCE_HEAD_LEN];
	struct ev_head		 last;		/* valid 0: none yet */
};

/* The head file into h (64 zeros, valid 0, if it holds no head line). */
void	evidence_head_read(struct ev_headfile *hf, struct ev_head *h);
/* h into the head file (a failure is logged: the next writer repairs). */
void	evidence_head_write(struct ev_headfile *hf, const struct ev_head *h);
/*
 * Bring h in line with the open log fd (path, its stat st). Sets *need_nl
 * when the log ends in a partial line. 0 / -1 with err.
 */
int	evidence_head_derive(int fd, const char *path, struct ev_head *h,
	    const struct stat *st, int *need_nl, char *err, size_t errlen);

#endif
