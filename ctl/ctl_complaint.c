/*
 * ctl_complaint - "aupctl complaint ingest [FILE]": act on an ARF
 * feedback report (RFC 5965) from a mailbox provider or a person
 *
 * The report is read from FILE or standard input (at most ARF_MAX_BYTES),
 * parsed (arf.h), matched against the evidence log and its rotations, and
 * acted on (complaint.h): the complaining recipient joins the customer's
 * opt-out list, the complaint is counted, and a "complaint" evidence
 * record links to the original's ref. A report that matches nothing is
 * recorded as unmatched and still exits 0: it was ingested. Output is one
 * summary line per fact on standard output.
 *
 * Exit: 0 ingested (matched or not); 1 the report is bad or truncated
 * (the parser's reason, nothing recorded) or the evidence or database
 * failed; 2 usage. Wire it to a feedback-loop mailbox with a pipe alias:
 *   fbl: "|/usr/sbin/aupctl complaint ingest"
 * Ownership: everything is freed before return. Threads: single.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arf.h"
#include "complaint.h"
#include "config.h"
#include "ctl.h"
#include "strbuf.h"

/* Read all of fp, at most ARF_MAX_BYTES + 1; 0 / -1 on a read error. */
static int
ctlc_slurp(FILE *fp, struct strbuf *sb)
{
	char buf[65536];
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		strbuf_add(sb, buf, n);
		if (sb->len > ARF_MAX_BYTES)
			break;
	}
	return ferror(fp) ? -1 : 0;
}

static void
ctlc_report(const struct complaint_result *res, const struct arf_report *r)
{
	const char *cust = res->customer[0] != '\0' ? res->customer : NULL;

	printf("complaint %s: %s report", res->ref, r->feedback_type);
	if (res->matched)
		printf(", matched transaction %s by %s", res->orig_ref,
		    res->match);
	else
		printf(", unmatched: no transaction found in the evidence");
	if (cust != NULL)
		printf(" (customer %s%s)", cust, res->token_customer ?
		    ", named by the feedback token" : "");
	putchar('\n');
	if (cust != NULL && res->optout >= 0)
		printf("%s %s the opt-out list of customer %s\n", res->rcpt,
		    res->optout ? "added to" : "already on", cust);
	else if (cust != NULL && res->rcpt[0] == '\0')
		printf("no usable complaining recipient: no opt-out added\n");
	if (cust != NULL && res->complaints >= 0)
		printf("customer %s: %ld complaint%s\n", cust, res->complaints,
		    res->complaints == 1 ? "" : "s");
	else if (cust != NULL)
		printf("customer %s no longer exists: nothing changed\n",
		    cust);
}

static int
ctlc_ingest(struct ctl *c, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	struct complaint_result res;
	struct arf_report r;
	struct evidence *ev;
	struct db *db;
	char err[1024], **files = NULL;
	int nfiles = 0, rc = CTL_REFUSED;
	FILE *fp = path == NULL || strcmp(path, "-") == 0 ? stdin :
	    fopen(path, "rb");
	const char *name = fp == stdin ? "(stdin)" : path;

	if (fp == NULL)
		return ctl_fail("%s: %s", path, strerror(errno));
	strbuf_init(&sb, 65536);
	if (ctlc_slurp(fp, &sb) < 0) {
		ctl_fail("%s: read error: %s", name, strerror(errno));
		goto out;
	}
	if (arf_parse(sb.s, sb.len, config_feedback_header(c->cfg), &r, err,
	    sizeof(err)) < 0) {
		arf_report_free(&r);
		ctl_fail("%s: bad feedback report: %s", name, err);
		goto out;
	}
	if ((db = ctl_db(c)) != NULL && (ev = ctl_evidence(c)) != NULL &&
	    (rc = ctl_evidence_files(c, &files, &nfiles)) == CTL_OK) {
		if (complaint_ingest(db, ev, c->cfg, (const char *const *)files,
		    nfiles, &r, &res, err, sizeof(err)) < 0)
			rc = ctl_fail("%s: %s", name, err);
		else
			ctlc_report(&res, &r);
	} else
		rc = CTL_REFUSED;
	arf_report_free(&r);
out:
	for (int i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	strbuf_free(&sb);
	if (fp != stdin)
		fclose(fp);
	return rc;
}

int
ctl_complaint_main(struct ctl *c, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage("complaint: give a verb: ingest");
	if (strcmp(argv[1], "ingest") != 0)
		return ctl_usage("complaint: unknown verb '%s'", argv[1]);
	if (argc > 3)
		return ctl_usage("complaint ingest: at most one FILE");
	if (argc == 3 && argv[2][0] == '-' && argv[2][1] != '\0')
		return ctl_usage("complaint ingest: unknown option '%s'",
		    argv[2]);
	return ctlc_ingest(c, argc == 3 ? argv[2] : NULL);
}
