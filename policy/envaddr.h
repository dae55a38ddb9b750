/*
 * envaddr - the address inside an SMTP envelope path
 *
 * Turns "<user@Example.COM>" (as the MTA passes MAIL FROM / RCPT TO) into
 * the mailbox "user@example.com" and its domain: angle brackets and an
 * RFC 5321 source route ("@a,@b:") are removed, the domain is lower-cased
 * and a trailing dot cut; the local part is kept exactly. Recipients are
 * compared in this form, so one recipient counts once however its domain
 * is spelled.
 * Threads: pure. Errors: -1 when there is no usable mailbox.
 */
#ifndef AUP_ENVADDR_H
#define AUP_ENVADDR_H

#include <stddef.h>

#define ENVADDR_MAX	512	/* RFC 5321 path limit is 256; room to spare */

struct envaddr {
	char	 mailbox[ENVADDR_MAX];	/* "" for the null path <> */
	char	*domain;		/* into mailbox; "" if none */
};

/* 0 on success (including "<>"), -1 if path is not a usable path. */
int	envaddr_parse(const char *path, struct envaddr *a);

#endif
