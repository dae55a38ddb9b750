/*
 * ctl - shared state and helpers of the aupctl front end
 *
 * aupctl is thin: each noun (plan, customer, evidence, ...) lives in its
 * own ctl_<noun>.c and calls the same modules as the daemon. Exit status:
 * 0 success, 1 refused request (one line on stderr), 2 usage error.
 * Threads: single-threaded program.
 */
#ifndef AUP_CTL_H
#define AUP_CTL_H

#include <stdio.h>

struct config;
struct db;
struct evidence;

#define CTL_OK		0
#define CTL_REFUSED	1
#define CTL_USAGE	2

struct ctl {
	struct config	*cfg;
	struct db	*db;	/* opened on first use by ctl_db() */
	struct qstore	*qs;	/* the counters: ctl_counters() */
	struct evidence	*ev;	/* opened on first use by ctl_evidence() */
	char		 command[1024];	/* argv as typed, for the evidence */
	/* Who ran it (before aupctl became UserID), for the evidence. */
	long long	 actor_uid;
	char		 actor[64];
	int		 as_user;	/* became UserID (ctl_db...) */
};

/* Open on first use; NULL after printing the reason to stderr. */
struct db *ctl_db(struct ctl *c);
struct db *ctl_counters(struct ctl *c);	/* the quota counters (qstore.h) */
struct evidence *ctl_evidence(struct ctl *c);

struct db_txn;

/*
 * Run fn inside one read transaction of the database. Returns what fn
 * returned (>= 0), or -1 after printing the reason (the database could
 * not be opened or read, or fn returned -1 with its reason in the txn).
 */
int	ctl_read(struct ctl *c, int (*fn)(struct db_txn *, void *), void *arg);

/* Print "aupctl: <reason>" to stderr; return CTL_REFUSED / CTL_USAGE. */
int	ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	ctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Append an "admin" evidence record for a change that was committed:
 * command, actor (user name), and customer (may be NULL). Returns 0, or
 * prints a warning and returns -1: the change itself stands.
 */
int	ctl_record_admin(struct ctl *c, const char *customer);

/*
 * The evidence files "evidence search" reads by default (EvidenceLog and
 * its uncompressed rotations, oldest first): a NULL-terminated array of
 * strings, each and the array freed by the caller. CTL_OK or a status.
 */
int	ctl_evidence_files(struct ctl *c, char ***files, int *nfiles);

/* Nouns: argv[0] is the noun itself. Return an exit status. */
int	ctl_plan_main(struct ctl *c, int argc, char **argv);
int	ctl_customer_main(struct ctl *c, int argc, char **argv);
int	ctl_evidence_main(struct ctl *c, int argc, char **argv);
int	ctl_optout_main(struct ctl *c, int argc, char **argv);
int	ctl_complaint_main(struct ctl *c, int argc, char **argv);
int	ctl_lease_main(struct ctl *c, int argc, char **argv);
int	ctl_quota_main(struct ctl *c, int argc, char **argv);
/* "customer login plan ID LOGIN PLAN|none": argv[0] is ID (ctl_quota.c). */
int	ctl_login_plan(struct ctl *c, int argc, char **argv);

#endif
