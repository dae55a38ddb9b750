/*
 * ctl_quota - "aupctl quota show|reset ID" and "customer login plan"
 *
 *   quota show ID                 every counter of customer ID and of its
 *                                 logins: value, limit, window reset time
 *   quota reset ID                clear them all (recorded in the evidence)
 *   customer login plan ID LOGIN PLAN|none
 *                                 give a login its own, tighter plan
 *
 * Counts shown are the committed ones; recipients reserved by
 * transactions still open in the daemon are not in the database and are
 * given back or charged when those transactions end. Storage is
 * quota_db's and custdb's; this file parses and prints.
 * Ownership: nothing outlives a call. Threads: single-threaded.
 * Errors: exit status per ctl.h (0 / 1 refused / 2 usage).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "custdb.h"
#include "db.h"
#include "quota_db.h"
#include "window.h"
#include "xalloc.h"

#define CTL_QUOTA_USAGE	"usage: aupctl quota show ID | quota reset ID"
#define CTL_LPLAN_USAGE	"usage: aupctl customer login plan ID LOGIN PLAN|none"

struct ctl_quota_show {
	const struct plan *plan;
	int64_t		 now;
	int		 seen[5];	/* kinds printed */
};

static uint64_t
ctl_quota_limit(const struct plan *p, enum quota_kind k)
{
	switch (k) {
	case QUOTA_MSGS_HOUR:
		return p->lim[PLAN_MSGS_PER_HOUR];
	case QUOTA_RCPTS_DAY:
		return p->lim[PLAN_RCPTS_PER_DAY];
	case QUOTA_RCPT_HOUR:
		return p->lim[PLAN_PER_RCPT_PER_HOUR];
	case QUOTA_SEND:
		return p->lim[PLAN_MAX_RCPTS_PER_MSG];
	}
	return 0;
}

static void
ctl_quota_line(enum quota_kind k, const char *what, uint64_t count,
    uint64_t limit, int64_t end)
{
	char when[32];

	printf("  %-18s %s%s%" PRIu64 " of %" PRIu64 ", resets %s\n",
	    quota_kind_name(k), what, *what != '\0' ? " " : "", count, limit,
	    window_time_text(end, when, sizeof(when)));
}

static int
ctl_quota_show_one(enum quota_kind kind, const uint8_t *tail, size_t tlen,
    const struct quota_counter *c, void *arg)
{
	struct ctl_quota_show *sh = arg;
	char what[QUOTA_TAIL_MAX + 16];

	if ((unsigned)kind < 5)
		sh->seen[kind] = 1;
	if (kind == QUOTA_SEND)
		snprintf(what, sizeof(what), "send %.*s", (int)tlen,
		    (const char *)tail);
	else
		snprintf(what, sizeof(what), "%.*s", (int)tlen,
		    (const char *)tail);
	ctl_quota_line(kind, what, c->count, ctl_quota_limit(sh->plan, kind),
	    c->end);
	return 0;
}

/* The counters of one scope; the two window counters even when 0. */
static int
ctl_quota_show_scope(struct db_txn *txn, enum quota_scope scope,
    const char *id, const struct plan *p, int64_t now)
{
	struct ctl_quota_show sh = { p, now, { 0 } };

	if (quota_db_each(txn, scope, id, now, ctl_quota_show_one, &sh) < 0)
		return -1;
	if (!sh.seen[QUOTA_MSGS_HOUR])
		ctl_quota_line(QUOTA_MSGS_HOUR, "", 0, p->lim[PLAN_MSGS_PER_HOUR],
		    window_end(WINDOW_HOUR, now));
	if (!sh.seen[QUOTA_RCPTS_DAY])
		ctl_quota_line(QUOTA_RCPTS_DAY, "", 0,
		    p->lim[PLAN_RCPTS_PER_DAY], window_end(WINDOW_DAY, now));
	return 0;
}

struct ctl_quota_logins {
	struct db_txn	*txn;		/* customers, logins, plans */
	struct db_txn	*ct;		/* the counters (qstore.h) */
	int64_t		 now;
};

static int
ctl_quota_show_login(const char *login, void *arg)
{
	struct ctl_quota_logins *l = arg;
	char name[CUSTDB_ID_MAX];
	struct plan p;
	int rc;

	if ((rc = custdb_login_plan_get(l->txn, login, name)) < 0)
		return -1;
	if (rc == 0 || (rc = custdb_plan_get(l->txn, name, &p)) == 0) {
		printf("login %s: counted with its customer (no plan of its "
		    "own)\n", login);
		return 0;
	}
	if (rc < 0)
		return -1;
	printf("login %s (plan %s):\n", login, p.name);
	return ctl_quota_show_scope(l->ct, QUOTA_LOGIN, login, &p, l->now);
}

static int
ctl_quota_show(struct ctl *c, const char *id)
{
	struct ctl_quota_logins l;
	struct customer cu;
	char err[512];
	struct db *db, *cdb;
	struct plan p;
	int rc;

	if ((db = ctl_db(c)) == NULL || (cdb = ctl_counters(c)) == NULL)
		return CTL_REFUSED;
	if ((l.txn = db_read_begin(db, err, sizeof(err))) == NULL)
		return ctl_fail("%s", err);
	if ((l.ct = db_read_begin(cdb, err, sizeof(err))) == NULL) {
		db_read_end(l.txn);
		return ctl_fail("%s", err);
	}
	l.now = (int64_t)time(NULL);
	if ((rc = custdb_customer_get(l.txn, id, &cu)) == 1 &&
	    (rc = custdb_plan_get(l.txn, cu.plan, &p)) == 0) {
		plan_defaults(&p, cu.plan);
		rc = 1;
	}
	if (rc == 1) {
		printf("customer %s (plan %s):\n", id, p.name);
		if (ctl_quota_show_scope(l.ct, QUOTA_CUSTOMER, id, &p,
		    l.now) < 0 || custdb_login_each(l.txn, id,
		    ctl_quota_show_login, &l) < 0)
			rc = -1;
	}
	if (rc < 0)
		snprintf(err, sizeof(err), "%s", *db_txn_error(l.ct) != '\0' ?
		    db_txn_error(l.ct) : db_txn_error(l.txn));
	db_read_end(l.ct);
	db_read_end(l.txn);
	if (rc < 0)
		return ctl_fail("%s", err);
	if (rc == 0)
		return ctl_fail("no such customer '%s'", id);
	return CTL_OK;
}

struct ctl_quota_reset {
	const char	*id;
	char		**logins;	/* the customer's, read first */
	size_t		  nlogins;
	long		  cleared;
};

static int
ctl_quota_collect_login(const char *login, void *arg)
{
	struct ctl_quota_reset *r = arg;

	r->logins = xrealloc(r->logins, (r->nlogins + 1) *
	    sizeof(*r->logins));
	r->logins[r->nlogins++] = xstrdup(login);
	return 0;
}

/* The customer must exist; its logins are collected. */
static int
ctl_quota_reset_read(struct db_txn *txn, void *arg)
{
	struct ctl_quota_reset *r = arg;
	struct customer cu;
	int rc;

	if ((rc = custdb_customer_get(txn, r->id, &cu)) <= 0)
		return rc < 0 ? -1 : db_txn_fail(txn, "no such customer '%s'",
		    r->id);
	return custdb_login_each(txn, r->id, ctl_quota_collect_login, r);
}

static int
ctl_quota_reset_txn(struct db_txn *txn, void *arg)
{
	struct ctl_quota_reset *r = arg;
	long n;

	if ((r->cleared = quota_db_reset(txn, QUOTA_CUSTOMER, r->id)) < 0)
		return -1;
	for (size_t i = 0; i < r->nlogins; i++) {
		if ((n = quota_db_reset(txn, QUOTA_LOGIN, r->logins[i])) < 0)
			return -1;
		r->cleared += n;
	}
	return 0;
}

static int
ctl_quota_reset(struct ctl *c, const char *id)
{
	struct ctl_quota_reset r = { id, NULL, 0, 0 };
	char err[512];
	struct db *cdb;
	int rc = CTL_OK;

	if (ctl_read(c, ctl_quota_reset_read, &r) < 0)
		rc = CTL_REFUSED;
	else if ((cdb = ctl_counters(c)) == NULL)
		rc = CTL_REFUSED;
	else if (db_write(cdb, ctl_quota_reset_txn, &r, err,
	    sizeof(err)) < 0)
		rc = ctl_fail("%s", err);
	for (size_t i = 0; i < r.nlogins; i++)
		free(r.logins[i]);
	free(r.logins);
	if (rc != CTL_OK)
		return rc;
	printf("customer %s: quota counters reset (%ld cleared)\n", id,
	    r.cleared);
	ctl_record_admin(c, id);
	return CTL_OK;
}

int
ctl_quota_main(struct ctl *c, int argc, char **argv)
{
	if (argc != 3)
		return ctl_usage(CTL_QUOTA_USAGE);
	if (!custdb_valid_id(argv[2]))
		return ctl_usage("invalid customer id '%s' (1 to 63 of "
		    "A-Z a-z 0-9 . _ -)", argv[2]);
	if (strcmp(argv[1], "show") == 0)
		return ctl_quota_show(c, argv[2]);
	if (strcmp(argv[1], "reset") == 0)
		return ctl_quota_reset(c, argv[2]);
	return ctl_usage("unknown quota command '%s'; %s", argv[1],
	    CTL_QUOTA_USAGE);
}

struct ctl_lplan {
	const char	*id, *login, *plan;	/* plan NULL: remove */
};

static int
ctl_lplan_txn(struct db_txn *txn, void *arg)
{
	struct ctl_lplan *lp = arg;

	return custdb_login_plan_set(txn, lp->id, lp->login, lp->plan);
}

int
ctl_login_plan(struct ctl *c, int argc, char **argv)
{
	struct ctl_lplan lp;
	char err[512];
	struct db *db;

	if (argc != 3)
		return ctl_usage(CTL_LPLAN_USAGE);
	lp.id = argv[0];
	lp.login = argv[1];
	lp.plan = strcmp(argv[2], "none") == 0 ? NULL : argv[2];
	if (!custdb_valid_id(lp.id))
		return ctl_usage("invalid customer id '%s'", lp.id);
	if (!custdb_valid_login(lp.login))
		return ctl_usage("invalid login '%s'", lp.login);
	if (lp.plan != NULL && !custdb_valid_id(lp.plan))
		return ctl_usage("invalid plan name '%s'", lp.plan);
	if ((db = ctl_db(c)) == NULL)
		return CTL_REFUSED;
	if (db_write(db, ctl_lplan_txn, &lp, err, sizeof(err)) < 0)
		return ctl_fail("%s", err);
	if (lp.plan != NULL)
		printf("customer %s: login %s now has plan %s\n", lp.id,
		    lp.login, lp.plan);
	else
		printf("customer %s: login %s has no plan of its own\n",
		    lp.id, lp.login);
	ctl_record_admin(c, lp.id);
	return CTL_OK;
}
