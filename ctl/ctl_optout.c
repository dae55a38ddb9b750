/*
 * ctl_optout - "aupctl optout ...": the opt-out (suppression) lists
 *
 *   optout add [--customer ID] ADDR...
 *   optout remove [--customer ID] ADDR...
 *   optout list [--customer ID]       address, added (UTC), source, ref
 *   optout export [--customer ID]     addresses only, one a line
 *   optout import [--customer ID] [--skip-bad] FILE   ("-": stdin)
 *
 * Without --customer the global list is meant (it refuses the address for
 * every customer). Addresses are normalised as the milter compares them
 * (addrnorm.h, with the config's AddressRules), so "User@Bücher.Example"
 * and "User@xn--bcher-kva.example" are one entry; list and export show the
 * stored form.
 *
 * import reads one address per line (blank lines and lines starting with
 * '#' are skipped) and is all-or-nothing: every bad line is reported as
 * "FILE:LINE: reason" and, unless --skip-bad, nothing is changed (exit 1).
 * The good addresses are sorted and written in one LMDB write transaction
 * (a million take seconds). Re-adding a listed address keeps its entry.
 *
 * Exit: 0 done; 1 refused (no such customer, bad lines, remove of an
 * address not listed, database); 2 usage (bad option or address syntax).
 * Each committed change is recorded in the evidence log ("admin").
 * Ownership: everything is freed before return. Threads: single.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addrnorm.h"
#include "config.h"
#include "ctl.h"
#include "custdb.h"
#include "db.h"
#include "evidence.h"
#include "optout_db.h"
#include "xalloc.h"

struct cto_req {
	const char	*customer;	/* NULL: global */
	char		**addrs;	/* normalised */
	size_t		 n;
	int		 source;
	int64_t		 now;
	long		 added, removed, missing;
	int		 remove;
};

static const char *
cto_list_name(const char *customer, char *buf, size_t len)
{
	if (customer == NULL)
		return "the global opt-out list";
	snprintf(buf, len, "the opt-out list of customer %s", customer);
	return buf;
}

/* Parse [--customer ID] [--skip-bad] options; args start at *i. */
static int
cto_opts(int argc, char **argv, int *i, const char **customer,
    int *skip_bad)
{
	for (; *i < argc && strncmp(argv[*i], "--", 2) == 0; (*i)++) {
		if (strcmp(argv[*i], "--") == 0) {
			(*i)++;
			break;
		}
		if (strcmp(argv[*i], "--customer") == 0 && *i + 1 < argc)
			*customer = argv[++*i];
		else if (strncmp(argv[*i], "--customer=", 11) == 0)
			*customer = argv[*i] + 11;
		else if (skip_bad != NULL && strcmp(argv[*i],
		    "--skip-bad") == 0)
			*skip_bad = 1;
		else
			return ctl_usage("optout %s: unknown option '%s'",
			    argv[1], argv[*i]);
	}
	if (*customer != NULL && !custdb_valid_id(*customer))
		return ctl_usage("invalid customer id '%s'", *customer);
	return CTL_OK;
}

static void
cto_free(struct cto_req *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->addrs[i]);
	free(r->addrs);
}

static void
cto_push(struct cto_req *r, const char *addr, size_t *cap)
{
	if (r->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		r->addrs = xrealloc(r->addrs, *cap * sizeof(*r->addrs));
	}
	r->addrs[r->n++] = xstrdup(addr);
}

static int
cto_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort and drop duplicates. */
static void
cto_sort(struct cto_req *r)
{
	size_t w = 0;

	qsort(r->addrs, r->n, sizeof(*r->addrs), cto_cmp);
	for (size_t i = 0; i < r->n; i++) {
		if (w > 0 && strcmp(r->addrs[w - 1], r->addrs[i]) == 0) {
			free(r->addrs[i]);
			continue;
		}
		r->addrs[w++] = r->addrs[i];
	}
	r->n = w;
}

static int
cto_write_txn(struct db_txn *txn, void *arg)
{
	struct cto_req *r = arg;
	int rc;

	r->added = r->removed = r->missing = 0;
	if (!r->remove)
		return optout_import(txn, r->customer, r->addrs, r->n,
		    r->source, r->now, &r->added);
	for (size_t i = 0; i < r->n; i++) {
		if ((rc = optout_remove(txn, r->customer, r->addrs[i])) < 0)
			return -1;
		if (rc == 0) {
			r->missing++;
			fprintf(stderr, "aupctl: %s is not on the list\n",
			    r->addrs[i]);
		}
		r->removed += rc;
	}
	return 0;
}

static int
cto_commit(struct ctl *c, struct cto_req *r)
{
	char err[512];
	struct db *db;

	if ((db = ctl_db(c)) == NULL)
		return CTL_REFUSED;
	r->now = evidence_now_ms();
	if (db_write(db, cto_write_txn, r, err, sizeof(err)) < 0)
		return ctl_fail("%s", err);
	ctl_record_admin(c, r->customer);
	return CTL_OK;
}

/* add / remove ADDR... */
static int
cto_add_remove(struct ctl *c, int argc, char **argv, int remove)
{
	struct cto_req r = { .source = OPTOUT_SRC_ADMIN, .remove = remove };
	char norm[ADDRNORM_MAX], err[256], lbuf[128];
	size_t cap = 0;
	int i = 2, rc;

	if ((rc = cto_opts(argc, argv, &i, &r.customer, NULL)) != CTL_OK)
		return rc;
	if (i >= argc)
		return ctl_usage("optout %s: give one or more addresses",
		    argv[1]);
	for (; i < argc; i++) {
		if (addrnorm_address(config_address_rules(c->cfg), argv[i],
		    norm, sizeof(norm), err, sizeof(err)) < 0) {
			cto_free(&r);
			return ctl_usage("invalid address '%s': %s", argv[i],
			    err);
		}
		cto_push(&r, norm, &cap);
	}
	cto_sort(&r);
	if ((rc = cto_commit(c, &r)) == CTL_OK) {
		if (remove)
			printf("%ld removed from %s\n", r.removed,
			    cto_list_name(r.customer, lbuf, sizeof(lbuf)));
		else
			printf("%ld added to %s (%ld already listed)\n",
			    r.added, cto_list_name(r.customer, lbuf,
			    sizeof(lbuf)), (long)r.n - r.added);
		if (r.missing > 0)
			rc = ctl_fail("%ld address%s not on the list",
			    r.missing, r.missing == 1 ? " was" : "es were");
	}
	cto_free(&r);
	return rc;
}

/* Read FILE into r; every bad line to stderr. Bad lines, or -1. */
static long
cto_read(struct ctl *c, const char *path, struct cto_req *r)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL, norm[ADDRNORM_MAX], err[256], *p;
	const char *name = fp == stdin ? "(stdin)" : path;
	size_t lcap = 0, cap = 0;
	long lineno = 0, bad = 0;
	ssize_t n;

	if (fp == NULL) {
		ctl_fail("%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &lcap, fp)) >= 0) {
		lineno++;
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (memchr(line, '\0', (size_t)n) != NULL)
			snprintf(err, sizeof(err), "NUL byte in line");
		else if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
			continue;
		else if (addrnorm_address(config_address_rules(c->cfg), p,
		    norm, sizeof(norm), err, sizeof(err)) == 0) {
			cto_push(r, norm, &cap);
			continue;
		}
		bad++;
		line[strcspn(line, "\r\n")] = '\0';
		fprintf(stderr, "%s:%ld: %s ('%.60s')\n", name, lineno, err,
		    line);
	}
	if (ferror(fp)) {
		ctl_fail("%s: read error: %s", name, strerror(errno));
		bad = -1;
	}
	free(line);
	if (fp != stdin)
		fclose(fp);
	return bad;
}

static int
cto_import(struct ctl *c, int argc, char **argv)
{
	struct cto_req r = { .source = OPTOUT_SRC_IMPORT };
	int i = 2, skip_bad = 0, rc;
	char lbuf[128];
	long bad;

	if ((rc = cto_opts(argc, argv, &i, &r.customer, &skip_bad)) != CTL_OK)
		return rc;
	if (i + 1 != argc)
		return ctl_usage("optout import: give one FILE (- for standard "
		    "input)");
	if ((bad = cto_read(c, argv[i], &r)) < 0) {
		cto_free(&r);
		return CTL_REFUSED;
	}
	if (bad > 0 && !skip_bad) {
		cto_free(&r);
		return ctl_fail("%ld bad line%s: nothing imported (fix them, or "
		    "--skip-bad to import the rest)", bad, bad == 1 ? "" : "s");
	}
	cto_sort(&r);
	if ((rc = cto_commit(c, &r)) == CTL_OK)
		printf("imported into %s: %zu addresses, %ld new, %ld already "
		    "listed%s%ld bad line%s skipped\n", cto_list_name(r.customer,
		    lbuf, sizeof(lbuf)), r.n, r.added, (long)r.n - r.added,
		    ", ", bad, bad == 1 ? "" : "s");
	cto_free(&r);
	return rc;
}

static int
cto_print(const struct optout_entry *e, void *arg)
{
	char ts[32];

	if (*(int *)arg) {
		puts(e->addr);
		return 0;
	}
	evidence_timestamp(e->added_ms, ts, sizeof(ts));
	printf("%s\t%s\t%s\t%s\n", e->addr, ts, optout_source_name(e->source),
	    e->ref[0] != '\0' ? e->ref : "-");
	return 0;
}

/* list / export */
static int
cto_show(struct ctl *c, int argc, char **argv, int bare)
{
	const char *customer = NULL;
	struct customer cust;
	char err[512];
	struct db_txn *rt;
	struct db *db;
	int i = 2, rc;

	if ((rc = cto_opts(argc, argv, &i, &customer, NULL)) != CTL_OK)
		return rc;
	if (i != argc)
		return ctl_usage("optout %s: unexpected argument '%s'",
		    argv[1], argv[i]);
	if ((db = ctl_db(c)) == NULL)
		return CTL_REFUSED;
	if ((rt = db_read_begin(db, err, sizeof(err))) == NULL)
		return ctl_fail("%s", err);
	if (customer != NULL &&
	    (rc = custdb_customer_get(rt, customer, &cust)) <= 0) {
		snprintf(err, sizeof(err), "%s", rc < 0 ? db_txn_error(rt) :
		    "no such customer");
		db_read_end(rt);
		return ctl_fail("%s: %s", customer, err);
	}
	rc = optout_each(rt, customer, cto_print, &bare);
	if (rc < 0)
		snprintf(err, sizeof(err), "%s", db_txn_error(rt));
	db_read_end(rt);
	if (rc < 0)
		return ctl_fail("%s", err);
	if (fflush(stdout) == EOF || ferror(stdout))
		return ctl_fail("cannot write the list");
	return CTL_OK;
}

int
ctl_optout_main(struct ctl *c, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage("optout: give a verb: add, remove, list, "
		    "import or export");
	if (strcmp(argv[1], "add") == 0)
		return cto_add_remove(c, argc, argv, 0);
	if (strcmp(argv[1], "remove") == 0)
		return cto_add_remove(c, argc, argv, 1);
	if (strcmp(argv[1], "import") == 0)
		return cto_import(c, argc, argv);
	if (strcmp(argv[1], "list") == 0)
		return cto_show(c, argc, argv, 0);
	if (strcmp(argv[1], "export") == 0)
		return cto_show(c, argc, argv, 1);
	return ctl_usage("optout: unknown verb '%s'", argv[1]);
}
