/*
 * aupctl - administer aup-milter's database and evidence log
 *
 * A thin front end: it loads the same config as the daemon, opens the same
 * LMDB environment (safely shared with the running daemon) and the same
 * evidence chain, and hands the command to the noun's ctl_<noun>.c.
 * Exit status: 0 success, 1 refused request, 2 usage error.
 */
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "custdb.h"
#include "db.h"
#include "evidence.h"
#include "log.h"
#include "privdrop.h"
#include "qstore.h"

#define AUPCTL_DEFAULT_CONFIG	"/etc/aup-milter/aup-milter.conf"

static const struct {
	const char *noun;
	int (*fn)(struct ctl *, int, char **);
} ctl_nouns[] = {
	{ "plan", ctl_plan_main },
	{ "customer", ctl_customer_main },
	{ "evidence", ctl_evidence_main },
	{ "optout", ctl_optout_main },
	{ "complaint", ctl_complaint_main },
	{ "lease", ctl_lease_main },
	{ "quota", ctl_quota_main },
};

static void
ctl_print_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: aupctl [-c FILE] <noun> <verb> [args...]\n"
	    "  plan set NAME key=value...      plan show NAME | plan list\n"
	    "  customer add ID --plan P --contact ADDR [--own-mail-server]\n"
	    "  customer show ID | customer list\n"
	    "  customer login add ID LOGIN\n"
	    "  customer login plan ID LOGIN PLAN|none  (a login's own plan)\n"
	    "  customer network add ID CIDR\n"
	    "  customer domain add ID DOMAIN [--subdomains]\n"
	    "  evidence search [--ref R] [--message-id M] [--ip A] [--rcpt R]\n"
	    "                  [--customer C] [--since T] [--until T] "
	    "[--file F]...\n"
	    "  evidence verify [--anchor HASH] [FILE...]\n"
	    "  optout add|remove [--customer ID] ADDR...\n"
	    "  optout list|export [--customer ID]\n"
	    "  optout import [--customer ID] [--skip-bad] FILE|-\n"
	    "  complaint ingest [FILE]           (an ARF report; default stdin)\n"
	    "  lease add IP ID FROM [TO]       (times RFC 3339 UTC; no TO: open)\n"
	    "  lease list [IP] [--customer ID] [--at TIME]\n"
	    "  quota show ID | quota reset ID\n"
	    "The default config file is " AUPCTL_DEFAULT_CONFIG ".\n");
}

int
ctl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("aupctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_REFUSED;
}

int
ctl_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("aupctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (aupctl -h for usage)\n", stderr);
	return CTL_USAGE;
}

/*
 * Before the daemon's state is opened (and maybe created): become its
 * UserID when run as root, so what aupctl creates is the daemon's. Only
 * then: reading evidence files given on the command line (search,
 * verify) keeps root's access to archives. 0 / -1 (said).
 */
static int
ctl_as_daemon_user(struct ctl *c)
{
	char err[512];

	if (c->as_user)
		return 0;
	if (privdrop(config_user(c->cfg), err, sizeof(err)) < 0)
		return ctl_fail("%s", err), -1;
	c->as_user = 1;
	return 0;
}

struct db *
ctl_db(struct ctl *c)
{
	char err[512];

	if (c->db != NULL)
		return c->db;
	if (ctl_as_daemon_user(c) < 0)
		return NULL;
	c->db = db_open(config_database(c->cfg),
	    config_database_size(c->cfg), config_database_max_size(c->cfg),
	    0, err, sizeof(err));
	if (c->db == NULL)
		ctl_fail("%s", err);
	return c->db;
}

struct db *
ctl_counters(struct ctl *c)
{
	char err[512];

	if (c->qs == NULL && ctl_as_daemon_user(c) < 0)
		return NULL;
	if (c->qs == NULL)
		c->qs = qstore_open(config_database(c->cfg),
		    config_quota_sync(c->cfg),
		    config_quota_sync_interval(c->cfg),
		    config_database_size(c->cfg),
		    config_database_max_size(c->cfg), 0, err, sizeof(err));
	if (c->qs == NULL) {
		ctl_fail("%s", err);
		return NULL;
	}
	return qstore_db(c->qs);
}

int
ctl_read(struct ctl *c, int (*fn)(struct db_txn *, void *), void *arg)
{
	struct db_txn *txn;
	char err[512];
	struct db *db;
	int rc;

	if ((db = ctl_db(c)) == NULL)
		return -1;
	if ((txn = db_read_begin(db, err, sizeof(err))) == NULL) {
		ctl_fail("%s", err);
		return -1;
	}
	if ((rc = fn(txn, arg)) < 0)
		snprintf(err, sizeof(err), "%s", db_txn_error(txn));
	db_read_end(txn);
	if (rc < 0)
		ctl_fail("%s", err);
	return rc;
}

struct evidence *
ctl_evidence(struct ctl *c)
{
	char err[512];

	if (c->ev != NULL)
		return c->ev;
	if (ctl_as_daemon_user(c) < 0)
		return NULL;
	c->ev = evidence_open(config_evidence_log(c->cfg),
	    config_evidence_sync(c->cfg), err, sizeof(err));
	if (c->ev == NULL)
		ctl_fail("%s", err);
	return c->ev;
}

/* The user who ran aupctl, kept before it becomes UserID. */
static void
ctl_actor(struct ctl *c)
{
	struct passwd *pw = getpwuid(getuid());

	c->actor_uid = (long long)getuid();
	snprintf(c->actor, sizeof(c->actor), "%s", pw != NULL ? pw->pw_name :
	    "unknown");
}

int
ctl_record_admin(struct ctl *c, const char *customer)
{
	char ref[EVIDENCE_REF_LEN + 1], err[512];
	struct evidence *ev;
	struct evrec r;
	int rc;

	if ((ev = ctl_evidence(c)) == NULL)
		return -1;
	evidence_new_ref(ref);
	evrec_begin(&r, "admin", ref);
	evrec_str(&r, "command", c->command);
	evrec_str(&r, "actor", c->actor);
	evrec_int(&r, "uid", c->actor_uid);
	evrec_str(&r, "customer", customer);
	rc = evidence_append(ev, &r, err, sizeof(err));
	evrec_free(&r);
	if (rc < 0)
		fprintf(stderr, "aupctl: warning: change made but not "
		    "recorded in the evidence log: %s\n", err);
	return rc;
}

static void
ctl_join_command(struct ctl *c, int argc, char **argv)
{
	size_t off = 0;

	c->command[0] = '\0';
	for (int i = 0; i < argc && off < sizeof(c->command) - 1; i++) {
		int n = snprintf(c->command + off, sizeof(c->command) - off,
		    "%s%s", i ? " " : "", argv[i]);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

int
main(int argc, char **argv)
{
	const char *path = AUPCTL_DEFAULT_CONFIG;
	struct ctl c = { 0 };
	char err[1024];
	int opt, rc;

	log_open("aupctl", LOG_TO_STDERR, LOG_WARNING);
	while ((opt = getopt(argc, argv, "+c:h")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			ctl_print_usage(stdout);
			return CTL_OK;
		default:
			ctl_print_usage(stderr);
			return CTL_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		ctl_print_usage(stderr);
		return CTL_USAGE;
	}
	for (size_t i = 0; i < sizeof(ctl_nouns) / sizeof(ctl_nouns[0]); i++) {
		if (strcmp(argv[0], ctl_nouns[i].noun) != 0)
			continue;
		if ((c.cfg = config_load(path, err, sizeof(err))) == NULL)
			return ctl_fail("%s", err);
		ctl_actor(&c);
		ctl_join_command(&c, argc, argv);
		rc = ctl_nouns[i].fn(&c, argc, argv);
		evidence_close(c.ev);
		qstore_close(c.qs);
		db_close(c.db);
		config_unref(c.cfg);
		return rc;
	}
	return ctl_usage("unknown command '%s'", argv[0]);
}
