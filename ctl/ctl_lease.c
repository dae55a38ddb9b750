/*
 * ctl_lease - "aupctl lease ...": dynamic address assignments
 *
 *   lease add IP ID FROM [TO]     IP leased to customer ID from FROM until
 *                                 TO (RFC 3339 UTC, 2026-11-22T08:00:00Z);
 *                                 no TO: still leased. An open earlier
 *                                 lease of IP ends where this one starts.
 *   lease list [IP] [--customer ID] [--at TIME]
 *                                 the history, oldest first per address;
 *                                 --at: only leases in force at TIME
 *
 * Syntax is checked before the database is opened (exit 2); what only the
 * database can decide (no such customer, an overlap) is a refusal (exit
 * 1). Each committed change is recorded in the evidence log.
 * Ownership: nothing outlives a call. Threads: single-threaded.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cidr.h"
#include "ctl.h"
#include "custdb.h"
#include "db.h"
#include "evidence.h"
#include "lease_db.h"
#include "timefmt.h"

#define CTL_LEASE_USAGE \
	"usage: aupctl lease add IP ID FROM [TO] | " \
	"lease list [IP] [--customer ID] [--at TIME]"

/* An RFC 3339 time to Unix seconds; CTL_OK or a usage error. */
static int
ctl_lease_parse_time(const char *what, const char *s, int64_t *out)
{
	int64_t ms;

	if (evidence_parse_time(s, &ms) < 0 || ms < 0)
		return ctl_usage("invalid %s time '%s' (want RFC 3339 UTC, "
		    "e.g. 2026-11-22T08:00:00Z)", what, s);
	*out = ms / 1000;
	return CTL_OK;
}

static int
ctl_lease_parse_ip(const char *s, struct cidr *a)
{
	if (strchr(s, '/') != NULL || cidr_parse_addr(s, a) < 0)
		return ctl_usage("invalid IP address '%s' (one address, no "
		    "prefix length)", s);
	return CTL_OK;
}

struct ctl_lease_req {
	struct lease	l;
	struct lease	ended;
};

static int
ctl_lease_add_txn(struct db_txn *txn, void *arg)
{
	struct ctl_lease_req *req = arg;

	return lease_add(txn, &req->l, &req->ended);
}

static int
ctl_lease_add(struct ctl *c, int argc, char **argv)
{
	struct ctl_lease_req req;
	char err[512], ip[64], from[32], to[32];
	struct db *db;
	int rc;

	memset(&req, 0, sizeof(req));
	if (argc != 3 && argc != 4)
		return ctl_usage(CTL_LEASE_USAGE);
	if ((rc = ctl_lease_parse_ip(argv[0], &req.l.addr)) != CTL_OK)
		return rc;
	if (!custdb_valid_id(argv[1]))
		return ctl_usage("invalid customer id '%s'", argv[1]);
	snprintf(req.l.customer, sizeof(req.l.customer), "%s", argv[1]);
	if ((rc = ctl_lease_parse_time("FROM", argv[2], &req.l.from)) !=
	    CTL_OK || (argc == 4 && (rc = ctl_lease_parse_time("TO",
	    argv[3], &req.l.to)) != CTL_OK))
		return rc;
	if (argc == 4 && req.l.to <= req.l.from)
		return ctl_usage("TO (%s) must be after FROM (%s)", argv[3],
		    argv[2]);
	if ((db = ctl_db(c)) == NULL)
		return CTL_REFUSED;
	if (db_write(db, ctl_lease_add_txn, &req, err, sizeof(err)) < 0)
		return ctl_fail("%s", err);
	cidr_format(&req.l.addr, ip, sizeof(ip));
	timefmt_utc(req.l.from, from, sizeof(from));
	timefmt_utc(req.l.to, to, sizeof(to));
	printf("lease %s: customer %s from %s %s%s\n", ip, req.l.customer,
	    from, req.l.to != 0 ? "to " : "(open)", req.l.to != 0 ? to : "");
	if (req.ended.customer[0] != '\0')
		printf("lease %s: the open lease of customer %s now ends at "
		    "%s\n", ip, req.ended.customer, from);
	ctl_record_admin(c, req.l.customer);
	return CTL_OK;
}

struct ctl_lease_filter {
	const char	*customer;	/* NULL: any */
	int		 at_set;
	int64_t		 at;
	int		 n;
};

static int
ctl_lease_print(const struct lease *l, void *arg)
{
	struct ctl_lease_filter *f = arg;
	char ip[64], from[32], to[32];

	if (f->customer != NULL && strcmp(f->customer, l->customer) != 0)
		return 0;
	if (f->at_set && (l->from > f->at || (l->to != 0 && f->at >= l->to)))
		return 0;
	cidr_format(&l->addr, ip, sizeof(ip));
	timefmt_utc(l->from, from, sizeof(from));
	if (l->to != 0)
		timefmt_utc(l->to, to, sizeof(to));
	else
		snprintf(to, sizeof(to), "-");
	printf("%s %s %s %s\n", ip, l->customer, from, to);
	f->n++;
	return 0;
}

static int
ctl_lease_list(struct ctl *c, int argc, char **argv)
{
	struct ctl_lease_filter f = { 0 };
	struct cidr addr;
	const char *iparg = NULL;
	struct db_txn *txn;
	char err[512];
	struct db *db;
	int rc;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--customer") == 0 && i + 1 < argc)
			f.customer = argv[++i];
		else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
			if ((rc = ctl_lease_parse_time("--at", argv[++i],
			    &f.at)) != CTL_OK)
				return rc;
			f.at_set = 1;
		} else if (argv[i][0] == '-' || iparg != NULL)
			return ctl_usage("unexpected argument '%s'; %s",
			    argv[i], CTL_LEASE_USAGE);
		else
			iparg = argv[i];
	}
	if (iparg != NULL && (rc = ctl_lease_parse_ip(iparg, &addr)) != CTL_OK)
		return rc;
	if ((db = ctl_db(c)) == NULL)
		return CTL_REFUSED;
	if ((txn = db_read_begin(db, err, sizeof(err))) == NULL)
		return ctl_fail("%s", err);
	rc = lease_each(txn, iparg != NULL ? &addr : NULL, ctl_lease_print,
	    &f);
	if (rc < 0)
		snprintf(err, sizeof(err), "%s", db_txn_error(txn));
	db_read_end(txn);
	if (rc < 0)
		return ctl_fail("%s", err);
	if (f.n == 0)
		printf("no leases\n");
	return CTL_OK;
}

int
ctl_lease_main(struct ctl *c, int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : "";

	if (strcmp(verb, "add") == 0)
		return ctl_lease_add(c, argc - 2, argv + 2);
	if (strcmp(verb, "list") == 0)
		return ctl_lease_list(c, argc - 2, argv + 2);
	if (*verb == '\0')
		return ctl_usage(CTL_LEASE_USAGE);
	return ctl_usage("unknown lease command '%s'; %s", verb,
	    CTL_LEASE_USAGE);
}
