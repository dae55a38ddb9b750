/*
 * privdrop - become the configured user when started as root (privdrop.h)
 *
 * Supplementary groups are cleared, then the group and the user are set;
 * a failure of any step leaves the caller to stop.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "privdrop.h"

int
privdrop(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;

	if (user == NULL || geteuid() != 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL)
		return errbuf_set(err, errlen, "UserID %s: no such user", user);
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		return errbuf_set(err, errlen, "cannot become %s: %s", user,
		    strerror(errno));
	return 0;
}
