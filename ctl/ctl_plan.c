/*
 * ctl_plan - "aupctl plan set|show|list": the quota plans
 *
 *   plan set NAME [key=value...]   create NAME from the defaults if it is
 *                                  absent, then set the given limits
 *   plan show NAME                 one limit per line
 *   plan list                      one plan per line, limits as key=value
 *
 * Arguments are checked before the database is touched, so a typo is a
 * usage error (exit 2) naming the key or value, and never half-applied.
 * Storage and the record format are custdb's; this file only parses and
 * prints. Ownership: nothing outlives a call. Threads: single-threaded.
 * Errors: exit status per ctl.h (0 / 1 refused / 2 usage).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "custdb.h"
#include "db.h"

#define CTL_PLAN_USAGE \
	"usage: aupctl plan set NAME key=value... | show NAME | list"

struct ctl_plan_set {
	const char	*name;
	int		 given[PLAN_NKEYS];
	uint64_t	 val[PLAN_NKEYS];
	int		 created;	/* out: the plan did not exist */
	struct plan	 result;	/* out: as stored */
};

/* Strict unsigned decimal: digits only, no sign, no overflow. */
static int
ctl_plan_number(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* Parse "key=value" arguments into req; CTL_OK or a usage status. */
static int
ctl_plan_parse(struct ctl_plan_set *req, int argc, char **argv)
{
	char key[64];
	const char *eq;
	int k;

	for (int i = 0; i < argc; i++) {
		if ((eq = strchr(argv[i], '=')) == NULL ||
		    (size_t)(eq - argv[i]) >= sizeof(key))
			return ctl_usage("expected key=value, got '%s'",
			    argv[i]);
		memcpy(key, argv[i], (size_t)(eq - argv[i]));
		key[eq - argv[i]] = '\0';
		if ((k = plan_key_lookup(key)) < 0)
			return ctl_usage("unknown plan key '%s'", key);
		if (ctl_plan_number(eq + 1, plan_key_max(k), &req->val[k]) < 0)
			return ctl_usage("bad value '%s' for %s (a whole "
			    "number from 0 to %" PRIu64 ")", eq + 1, key,
			    plan_key_max(k));
		req->given[k] = 1;
	}
	return CTL_OK;
}

static int
ctl_plan_set_txn(struct db_txn *txn, void *arg)
{
	struct ctl_plan_set *req = arg;
	struct plan p;
	int rc;

	if ((rc = custdb_plan_get(txn, req->name, &p)) < 0)
		return -1;
	req->created = rc == 0;
	if (rc == 0)
		plan_defaults(&p, req->name);
	for (int k = 0; k < PLAN_NKEYS; k++)
		if (req->given[k])
			p.lim[k] = req->val[k];
	if (custdb_plan_put(txn, &p) < 0)
		return -1;
	req->result = p;
	return 0;
}

static void
ctl_plan_print_limits(const struct plan *p, const char *indent)
{
	for (int k = 0; k < PLAN_NKEYS; k++)
		printf("%s%-18s %" PRIu64 "\n", indent, plan_key_name(k),
		    p->lim[k]);
}

static int
ctl_plan_set(struct ctl *c, int argc, char **argv)
{
	struct ctl_plan_set req;
	char err[512];
	struct db *db;
	int rc;

	if (argc < 1)
		return ctl_usage(CTL_PLAN_USAGE);
	memset(&req, 0, sizeof(req));
	req.name = argv[0];
	if (!custdb_valid_id(req.name))
		return ctl_usage("invalid plan name '%s' (1 to 63 of "
		    "A-Z a-z 0-9 . _ -)", req.name);
	if ((rc = ctl_plan_parse(&req, argc - 1, argv + 1)) != CTL_OK)
		return rc;
	if ((db = ctl_db(c)) == NULL)
		return CTL_REFUSED;
	if (db_write(db, ctl_plan_set_txn, &req, err, sizeof(err)) < 0)
		return ctl_fail("%s", err);
	printf("plan %s %s\n", req.name, req.created ? "created" : "updated");
	ctl_plan_print_limits(&req.result, "  ");
	ctl_record_admin(c, NULL);
	return CTL_OK;
}

struct ctl_plan_get {
	const char	*name;
	struct plan	 p;
};

static int
ctl_plan_get_txn(struct db_txn *txn, void *arg)
{
	struct ctl_plan_get *g = arg;

	return custdb_plan_get(txn, g->name, &g->p);
}

static int
ctl_plan_show(struct ctl *c, int argc, char **argv)
{
	struct ctl_plan_get g;
	int rc;

	if (argc != 1)
		return ctl_usage(CTL_PLAN_USAGE);
	if (!custdb_valid_id(argv[0]))
		return ctl_usage("invalid plan name '%s'", argv[0]);
	g.name = argv[0];
	if ((rc = ctl_read(c, ctl_plan_get_txn, &g)) < 0)
		return CTL_REFUSED;
	if (rc == 0)
		return ctl_fail("no such plan '%s'", argv[0]);
	printf("plan %s\n", g.p.name);
	ctl_plan_print_limits(&g.p, "  ");
	return CTL_OK;
}

static int
ctl_plan_list_one(const struct plan *p, void *arg)
{
	printf("%s", p->name);
	for (int k = 0; k < PLAN_NKEYS; k++)
		printf(" %s=%" PRIu64, plan_key_name(k), p->lim[k]);
	printf("\n");
	return 0;
}

static int
ctl_plan_list_txn(struct db_txn *txn, void *arg)
{
	return custdb_plan_each(txn, ctl_plan_list_one, arg);
}

static int
ctl_plan_list(struct ctl *c, int argc, char **argv)
{
	if (argc != 0)
		return ctl_usage(CTL_PLAN_USAGE);
	return ctl_read(c, ctl_plan_list_txn, NULL) < 0 ? CTL_REFUSED : CTL_OK;
}

int
ctl_plan_main(struct ctl *c, int argc, char **argv)
{
	static const struct {
		const char *verb;
		int (*fn)(struct ctl *, int, char **);
	} verbs[] = {
		{ "set", ctl_plan_set },
		{ "show", ctl_plan_show },
		{ "list", ctl_plan_list },
	};

	if (argc < 2)
		return ctl_usage(CTL_PLAN_USAGE);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].verb) == 0)
			return verbs[i].fn(c, argc - 2, argv + 2);
	return ctl_usage("unknown plan command '%s'; %s", argv[1],
	    CTL_PLAN_USAGE);
}
