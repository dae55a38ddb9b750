/*
 * rule_optout - SPEC rule `optout`, at RCPT: no further mail to a
 * recipient who asked not to receive it
 *
 * The recipient, normalised by session_rcpt with the AddressRules of the
 * transaction's config snapshot (addrnorm.h), is looked up in the
 * customer's list, then the global list (optout_db.h), unless the
 * engine's filter (optout_filter.h) knows it is on neither. A hit refuses
 * that recipient only with 550 5.7.1 naming the list; the message still
 * goes to the others. Only attributed (outbound) mail is checked: inbound
 * mail to LocalDomains is outside the outbound policy. A recipient that is not an address
 * ("postmaster") cannot be listed and passes.
 *
 * A database failure follows DatabaseFailure: tempfail refuses the
 * recipient with 451 4.3.0 (the client retries), accept lets it through,
 * logs it and notes it in the evidence record's violations.
 * Threads: per-session state; one short read transaction per recipient.
 */
#include <stdio.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "optout_db.h"
#include "optout_filter.h"
#include "reply.h"
#include "txn.h"
#include "xalloc.h"

/* The list lookup failed: apply DatabaseFailure. 1 refused / 0 passes. */
static int
rule_optout_db_failed(struct session *s, const char *why,
    struct verdict *v)
{
	struct txn *t = s->txn;

	log_msg(LOG_ERR, s->logid, "ref=%s opt-out lists unavailable: %s",
	    t->ref, why);
	if (config_database_failure(t->cfg) == FAIL_TEMPFAIL) {
		reply_tempfail(v, t->ref, "Opt-out list unavailable");
		return 1;
	}
	t->observed = xrealloc(t->observed,
	    (t->nobserved + 1) * sizeof(*t->observed));
	t->observed[t->nobserved].rule = RULE_OPTOUT;
	t->observed[t->nobserved].detail = xstrdup("opt-out lists "
	    "unavailable; recipient accepted (DatabaseFailure accept)");
	t->nobserved++;
	return 0;
}

int
rule_optout_rcpt(struct session *s, const char *mailbox, const char *norm,
    struct verdict *v)
{
	struct txn *t = s->txn;
	char err[512];
	struct optout_entry e;
	struct db_txn *rt;
	int rc;

	if (t->attr.by == ATTRIB_NONE || t->db_failed_open || norm == NULL)
		return 0;
	/* Most recipients are on no list: known without reading it. */
	if (!optout_filter_may_list(s->eng->optout_filter, t->cust.id, norm,
	    (int64_t)time(NULL)))
		return 0;
	if ((rt = db_read_begin(s->eng->db, err, sizeof(err))) == NULL)
		return rule_optout_db_failed(s, err, v);
	rc = optout_check(rt, t->cust.id, norm, &e);
	if (rc < 0)
		snprintf(err, sizeof(err), "%s", db_txn_error(rt));
	db_read_end(rt);
	if (rc < 0)
		return rule_optout_db_failed(s, err, v);
	if (rc == 0)
		return 0;
	if (e.customer[0] == '\0')
		return txn_violation(t, v, RULE_OPTOUT, "550", "5.7.1",
		    "Recipient <%s> is on the global opt-out list; mail to it "
		    "is refused", mailbox);
	return txn_violation(t, v, RULE_OPTOUT, "550", "5.7.1",
	    "Recipient <%s> is on the opt-out list of customer %s; mail to it "
	    "is refused", mailbox, e.customer);
}
