/*
 * ctl_customer - "aupctl customer ...": customers and what identifies them
 *
 *   customer add ID --plan P --contact ADDR [--own-mail-server]
 *   customer show ID | customer list
 *   customer login add ID LOGIN
 *   customer network add ID CIDR
 *   customer domain add ID DOMAIN [--subdomains]
 *
 * Syntax (ids, logins, networks, domains, the contact) is checked before
 * the database is opened: a bad argument is a usage error (exit 2). What
 * only the database can decide (no such plan, id taken, a login or network
 * owned by another customer) is a refusal (exit 1) with custdb's reason.
 * Each committed change is recorded in the evidence log afterwards.
 * Ownership: nothing outlives a call. Threads: single-threaded.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cidr.h"
#include "ctl.h"
#include "complaint_db.h"
#include "custdb.h"
#include "db.h"
#include "timefmt.h"

#define CTL_CUSTOMER_USAGE \
	"usage: aupctl customer add ID --plan P --contact ADDR " \
	"[--own-mail-server] | show ID | list | login add ID LOGIN | " \
	"network add ID CIDR | domain add ID DOMAIN [--subdomains]"

/* One change: the request, filled by the parser, run by db_write(). */
struct ctl_cust_req {
	int		(*fn)(struct db_txn *, struct ctl_cust_req *);
	const char	*id;
	const char	*arg;		/* login, network or domain */
	struct customer	 cust;		/* add */
	struct cidr	 net;		/* network add */
	unsigned	 flags;		/* domain add */
};

static int
ctl_cust_run(struct db_txn *txn, void *arg)
{
	struct ctl_cust_req *req = arg;

	return req->fn(txn, req);
}

/* Commit req, report it, record it in the evidence. */
static int
ctl_cust_commit(struct ctl *c, struct ctl_cust_req *req, const char *done)
{
	char err[512];
	struct db *db;

	if ((db = ctl_db(c)) == NULL)
		return CTL_REFUSED;
	if (db_write(db, ctl_cust_run, req, err, sizeof(err)) < 0)
		return ctl_fail("%s", err);
	printf("customer %s: %s\n", req->id, done);
	ctl_record_admin(c, req->id);
	return CTL_OK;
}

static int
ctl_cust_check_id(const char *id)
{
	if (!custdb_valid_id(id))
		return ctl_usage("invalid customer id '%s' (1 to 63 of "
		    "A-Z a-z 0-9 . _ -)", id);
	return CTL_OK;
}

/* A contact must look like local@domain, with a real domain. */
static int
ctl_cust_check_contact(const char *addr)
{
	char dom[CUSTDB_DOMAIN_MAX];
	const char *at = strrchr(addr, '@');

	if (strlen(addr) >= CUSTDB_ADDR_MAX || at == NULL || at == addr ||
	    strpbrk(addr, " \t\r\n<>\"") != NULL ||
	    custdb_domain_normalize(at + 1, dom, sizeof(dom)) < 0)
		return ctl_usage("invalid contact address '%s'", addr);
	return CTL_OK;
}

static int
ctl_cust_add_txn(struct db_txn *txn, struct ctl_cust_req *req)
{
	struct customer old;
	int rc;

	if ((rc = custdb_customer_get(txn, req->id, &old)) < 0)
		return -1;
	if (rc == 1)
		return db_txn_fail(txn, "customer '%s' already exists",
		    req->id);
	return custdb_customer_put(txn, &req->cust);
}

/* The value of --name or --name=value at argv[*i]; NULL if missing. */
static const char *
ctl_cust_optval(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0' || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int
ctl_cust_add(struct ctl *c, int argc, char **argv)
{
	struct ctl_cust_req req = { .fn = ctl_cust_add_txn };
	const char *plan = NULL, *contact = NULL, *v;
	int rc;

	for (int i = 0; i < argc; i++) {
		if ((v = ctl_cust_optval(argc, argv, &i, "--plan")) != NULL)
			plan = v;
		else if ((v = ctl_cust_optval(argc, argv, &i,
		    "--contact")) != NULL)
			contact = v;
		else if (strcmp(argv[i], "--own-mail-server") == 0)
			req.cust.flags |= CUST_OWN_MAIL_SERVER;
		else if (argv[i][0] == '-' || req.id != NULL)
			return ctl_usage("unexpected argument '%s'; %s",
			    argv[i], CTL_CUSTOMER_USAGE);
		else
			req.id = argv[i];
	}
	if (req.id == NULL || plan == NULL || contact == NULL)
		return ctl_usage("customer add needs ID, --plan and "
		    "--contact");
	if ((rc = ctl_cust_check_id(req.id)) != CTL_OK)
		return rc;
	if (!custdb_valid_id(plan))
		return ctl_usage("invalid plan name '%s'", plan);
	if ((rc = ctl_cust_check_contact(contact)) != CTL_OK)
		return rc;
	snprintf(req.cust.id, sizeof(req.cust.id), "%s", req.id);
	snprintf(req.cust.plan, sizeof(req.cust.plan), "%s", plan);
	snprintf(req.cust.contact, sizeof(req.cust.contact), "%s", contact);
	req.cust.status = CUST_ACTIVE;
	req.cust.created = (int64_t)time(NULL);
	return ctl_cust_commit(c, &req, "added");
}

static int
ctl_cust_login_txn(struct db_txn *txn, struct ctl_cust_req *req)
{
	return custdb_login_add(txn, req->id, req->arg);
}

static int
ctl_cust_network_txn(struct db_txn *txn, struct ctl_cust_req *req)
{
	return custdb_network_add(txn, req->id, &req->net);
}

static int
ctl_cust_domain_txn(struct db_txn *txn, struct ctl_cust_req *req)
{
	return custdb_domain_add(txn, req->id, req->arg, req->flags);
}

/*
 * Positional arguments of "NOUN add ID VALUE" into pos[2]; --subdomains
 * (domain only) may stand anywhere after "add". CTL_OK or usage.
 */
static int
ctl_cust_sub_args(int argc, char **argv, const char *pos[2], int *sub)
{
	int n = 0;

	*sub = 0;
	if (argc < 2 || strcmp(argv[1], "add") != 0)
		return ctl_usage(CTL_CUSTOMER_USAGE);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--subdomains") == 0 &&
		    strcmp(argv[0], "domain") == 0)
			*sub = 1;
		else if (argv[i][0] == '-' && argv[i][1] == '-')
			return ctl_usage("unknown option '%s'", argv[i]);
		else if (n < 2)
			pos[n++] = argv[i];
		else
			return ctl_usage("unexpected argument '%s'", argv[i]);
	}
	if (n != 2)
		return ctl_usage("usage: aupctl customer %s add ID %s%s",
		    argv[0], strcmp(argv[0], "network") == 0 ? "CIDR" :
		    strcmp(argv[0], "login") == 0 ? "LOGIN" : "DOMAIN",
		    *sub || strcmp(argv[0], "domain") == 0 ?
		    " [--subdomains]" : "");
	return CTL_OK;
}

/* "login|network|domain add ID VALUE"; argv[0] is the noun. */
static int
ctl_cust_sub_add(struct ctl *c, int argc, char **argv)
{
	struct ctl_cust_req req = { 0 };
	char text[CUSTDB_DOMAIN_MAX + 64], reason[256];
	const char *pos[2];
	int rc, sub;

	if ((rc = ctl_cust_sub_args(argc, argv, pos, &sub)) != CTL_OK ||
	    (rc = ctl_cust_check_id(pos[0])) != CTL_OK)
		return rc;
	req.id = pos[0];
	req.arg = pos[1];
	if (strcmp(argv[0], "login") == 0) {
		if (!custdb_valid_login(req.arg))
			return ctl_usage("invalid login '%s' (1 to 255 "
			    "printable characters, no spaces)", req.arg);
		req.fn = ctl_cust_login_txn;
		snprintf(text, sizeof(text), "login %s added", req.arg);
	} else if (strcmp(argv[0], "network") == 0) {
		if (cidr_parse(req.arg, &req.net, reason, sizeof(reason)) < 0)
			return ctl_usage("invalid network: %s", reason);
		req.fn = ctl_cust_network_txn;
		cidr_format(&req.net, reason, sizeof(reason));
		snprintf(text, sizeof(text), "network %s added", reason);
	} else {
		if (custdb_domain_normalize(req.arg, reason,
		    sizeof(reason)) < 0)
			return ctl_usage("invalid domain '%s'", req.arg);
		req.fn = ctl_cust_domain_txn;
		req.flags = sub ? DOMAIN_SUBDOMAINS : 0;
		snprintf(text, sizeof(text), "domain %s%s added", reason,
		    sub ? " (and its subdomains)" : "");
	}
	return ctl_cust_commit(c, &req, text);
}

/* ---- show and list ---- */

static const char *
ctl_cust_status(int status)
{
	return status == CUST_SUSPENDED ? "suspended" : "active";
}

/* Items of one list section, printed as they come. */
struct ctl_cust_list {
	const char	*title;
	int		 n;
};

static void
ctl_cust_item(struct ctl_cust_list *l, const char *item, const char *note)
{
	if (l->n++ == 0)
		printf("%s:\n", l->title);
	printf("  %s%s\n", item, note);
}

/* Logins are shown with their own plan, if they have one. */
struct ctl_cust_logins {
	struct ctl_cust_list	 l;
	struct db_txn		*txn;
};

static int
ctl_cust_show_login(const char *login, void *arg)
{
	struct ctl_cust_logins *x = arg;
	char plan[CUSTDB_ID_MAX], note[CUSTDB_ID_MAX + 16] = "";
	int r = custdb_login_plan_get(x->txn, login, plan);

	if (r < 0)
		return -1;
	if (r > 0)
		snprintf(note, sizeof(note), " (plan %s)", plan);
	ctl_cust_item(&x->l, login, note);
	return 0;
}

static int
ctl_cust_show_net(const struct cidr *net, void *arg)
{
	char text[64];

	cidr_format(net, text, sizeof(text));
	ctl_cust_item(arg, text, "");
	return 0;
}

static int
ctl_cust_show_domain(const char *dom, unsigned flags, void *arg)
{
	ctl_cust_item(arg, dom, flags & DOMAIN_SUBDOMAINS ?
	    " (and subdomains)" : "");
	return 0;
}

static void
ctl_cust_print(const struct customer *cu, const struct plan *p)
{
	char when[64];

	timefmt_utc(cu->created, when, sizeof(when));
	printf("customer: %s\n", cu->id);
	printf("plan: %s%s\n", cu->plan, p == NULL ? " (missing!)" : "");
	for (int k = 0; p != NULL && k < PLAN_NKEYS; k++)
		printf("  %-18s %" PRIu64 "\n", plan_key_name(k), p->lim[k]);
	printf("contact: %s\n", cu->contact);
	printf("flags: %s\n", cu->flags & CUST_OWN_MAIL_SERVER ?
	    "own_mail_server" : "none");
	printf("status: %s\n", ctl_cust_status(cu->status));
	printf("created: %s\n", when);
}

static void
ctl_cust_list_end(const struct ctl_cust_list *l)
{
	if (l->n == 0)
		printf("%s: none\n", l->title);
}

/* Print every list of customer id; 0 or -1 (reason in the txn). */
static int
ctl_cust_print_lists(struct db_txn *txn, const char *id)
{
	struct ctl_cust_logins logins = { { "logins", 0 }, txn };
	struct ctl_cust_list nets = { "networks", 0 };
	struct ctl_cust_list doms = { "domains", 0 };
	long complaints;

	if (custdb_login_each(txn, id, ctl_cust_show_login, &logins) < 0)
		return -1;
	ctl_cust_list_end(&logins.l);
	if (custdb_network_each(txn, id, ctl_cust_show_net, &nets) < 0)
		return -1;
	ctl_cust_list_end(&nets);
	if (custdb_domain_each(txn, id, ctl_cust_show_domain, &doms) < 0)
		return -1;
	ctl_cust_list_end(&doms);
	if ((complaints = complaint_db_count(txn, id, 0)) < 0)
		return -1;
	printf("complaints: %ld\n", complaints);
	return 0;
}

static int
ctl_cust_show(struct ctl *c, int argc, char **argv)
{
	struct customer cu;
	struct db_txn *txn;
	struct plan p;
	char err[512];
	struct db *db;
	int rc, prc = 0;

	if (argc != 1)
		return ctl_usage(CTL_CUSTOMER_USAGE);
	if ((rc = ctl_cust_check_id(argv[0])) != CTL_OK)
		return rc;
	if ((db = ctl_db(c)) == NULL)
		return CTL_REFUSED;
	if ((txn = db_read_begin(db, err, sizeof(err))) == NULL)
		return ctl_fail("%s", err);
	/* Everything is copied out by custdb, so printing inside is fine. */
	if ((rc = custdb_customer_get(txn, argv[0], &cu)) == 1 &&
	    (prc = custdb_plan_get(txn, cu.plan, &p)) >= 0) {
		ctl_cust_print(&cu, prc == 1 ? &p : NULL);
		if (ctl_cust_print_lists(txn, cu.id) < 0)
			rc = -1;
	}
	if (rc < 0 || prc < 0)
		snprintf(err, sizeof(err), "%s", db_txn_error(txn));
	db_read_end(txn);
	if (rc < 0 || prc < 0)
		return ctl_fail("%s", err);
	if (rc == 0)
		return ctl_fail("no such customer '%s'", argv[0]);
	return CTL_OK;
}

static int
ctl_cust_list_one(const struct customer *cu, void *arg)
{
	printf("%s plan=%s status=%s contact=%s%s\n", cu->id, cu->plan,
	    ctl_cust_status(cu->status), cu->contact,
	    cu->flags & CUST_OWN_MAIL_SERVER ? " own_mail_server" : "");
	return 0;
}

static int
ctl_cust_list_txn(struct db_txn *txn, void *arg)
{
	return custdb_customer_each(txn, ctl_cust_list_one, arg);
}

static int
ctl_cust_list(struct ctl *c, int argc, char **argv)
{
	if (argc != 0)
		return ctl_usage(CTL_CUSTOMER_USAGE);
	return ctl_read(c, ctl_cust_list_txn, NULL) < 0 ? CTL_REFUSED : CTL_OK;
}

int
ctl_customer_main(struct ctl *c, int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : "";

	if (strcmp(verb, "add") == 0)
		return ctl_cust_add(c, argc - 2, argv + 2);
	if (strcmp(verb, "show") == 0)
		return ctl_cust_show(c, argc - 2, argv + 2);
	if (strcmp(verb, "list") == 0)
		return ctl_cust_list(c, argc - 2, argv + 2);
	if (strcmp(verb, "login") == 0 && argc >= 3 &&
	    strcmp(argv[2], "plan") == 0)
		return ctl_login_plan(c, argc - 3, argv + 3);
	if (strcmp(verb, "login") == 0 || strcmp(verb, "network") == 0 ||
	    strcmp(verb, "domain") == 0)
		return ctl_cust_sub_add(c, argc - 1, argv + 1);
	if (*verb == '\0')
		return ctl_usage(CTL_CUSTOMER_USAGE);
	return ctl_usage("unknown customer command '%s'; %s", verb,
	    CTL_CUSTOMER_USAGE);
}
