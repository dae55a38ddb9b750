/*
 * complaint - a parsed feedback report turned into action: find the
 * original transaction, opt the complainer out, count the complaint,
 * record it (SPEC "Abuse teams", `aupctl complaint ingest`)
 *
 * Matching, most certain first:
 *   1. the feedback token header of the original (feedback.c stamps
 *      "<ref>:<token>"): the token names the customer even when the
 *      evidence has rotated away; the ref finds the record;
 *   2. the original's Message-ID (with the complaining recipient if the
 *      report names one, then without);
 *   3. the complaining recipient and the arrival time (a transaction
 *      accepted at most 5 days before Arrival-Date, the newest first),
 *      with client_addr = Source-IP first, then without: Source-IP is
 *      usually the address of our relay, not of the customer, so it can
 *      only narrow the search when the customer's own server is named.
 * Only accepted transaction records count as originals; when the token
 * names a customer, a record of another customer is not taken.
 *
 * Then, in one write transaction: the complaining recipient (normalised
 * with AddressRules) is added to the customer's opt-out list and the
 * complaint is counted against the customer (complaint_db.h). Then a
 * "complaint" evidence record is written: ref (new), refs [the original's
 * ref] when matched, matched, match, customer, the report's fields and
 * what was done. A report that matches nothing and names no customer is
 * still recorded, with "matched":false.
 *
 * Ownership: nothing kept. Threads: single caller (aupctl).
 * Errors: 0, or -1 with err (evidence unreadable, database failure, the
 * record not written); a failure before the database change changes
 * nothing.
 */
#ifndef AUP_COMPLAINT_H
#define AUP_COMPLAINT_H

#include <stddef.h>

#include "addrnorm.h"
#include "arf.h"
#include "custdb.h"
#include "evidence.h"

struct config;
struct db;

struct complaint_result {
	char		 ref[EVIDENCE_REF_LEN + 1];	/* the complaint record */
	int		 matched;			/* an original found */
	char		 orig_ref[EVIDENCE_REF_LEN + 1];
	const char	*match;		/* "feedback-token", "message-id", ... */
	char		 customer[CUSTDB_ID_MAX];	/* "" if unknown */
	int		 token_customer;	/* the token named the customer */
	char		 rcpt[ADDRNORM_MAX];	/* normalised, "" if none */
	int		 optout;	/* 1 added, 0 already listed, -1 none */
	long		 complaints;	/* the customer's count, -1 if none */
};

/*
 * Act on report r. files[0..nfiles) are the evidence files to search,
 * oldest first. The token header name and AddressRules come from cfg.
 */
int	complaint_ingest(struct db *db, struct evidence *ev,
	    const struct config *cfg, const char *const *files, int nfiles,
	    const struct arf_report *r, struct complaint_result *res,
	    char *err, size_t errlen);

#endif
