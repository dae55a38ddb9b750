/*
 * privdrop - become the configured user (UserID) when started as root
 *
 * The daemon drops to UserID after opening its socket; aupctl drops to it
 * before opening anything, so the database and evidence files it creates
 * belong to the user the daemon runs as (an aupctl run as root used to
 * leave root-owned files the daemon could not open).
 * Errors: -1 with err set ("UserID x: no such user", "cannot become x:
 * ..."). Threads: call before any thread exists.
 */
#ifndef AUP_PRIVDROP_H
#define AUP_PRIVDROP_H

#include <stddef.h>

/* Nothing (0) when user is NULL or the process is not root. */
int	privdrop(const char *user, char *err, size_t errlen);

#endif
