/*
 * txn - state of one SMTP transaction inside the engine (engine-private)
 *
 * Shared by session.c (lifecycle), the rule files (rule_*.c) and
 * txn_record.c (evidence and syslog). Not for use outside policy/.
 * Ownership: every pointer member is owned by the txn and freed by
 * txn_free(); the config reference is held from MAIL to the end.
 */
#ifndef AUP_TXN_H
#define AUP_TXN_H

#include <stddef.h>
#include <stdint.h>

#include "attrib.h"
#include "config.h"
#include "custdb.h"
#include "engine.h"
#include "evidence.h"
#include "rules.h"

#define TXN_HEADER_MAX	998	/* bytes kept of From, Message-ID, Subject */

struct txn_rejected {
	char		*rcpt;
	enum rule_id	 rule;
	char		*reply;		/* "550 5.7.1 ..." */
};

struct txn_observed {			/* a violation of a rule in log mode */
	enum rule_id	 rule;
	char		*detail;
};

struct txn {
	struct config	*cfg;
	char		 ref[EVIDENCE_REF_LEN + 1];
	char		*mail_from;		/* mailbox, "" for <> */
	char		*auth;			/* NULL: not authenticated */
	struct attribution attr;
	int		 db_failed_open;	/* DB down, DatabaseFailure accept */
	struct customer	 cust;
	struct plan	 plan;
	char		**rcpts;		/* accepted, normalised */
	size_t		 nrcpts;
	struct txn_rejected *rejected;
	size_t		 nrejected;
	struct txn_observed *observed;
	size_t		 nobserved;
	char		*header_from;
	char		*message_id;
	char		*subject;
	int		 nfrom;			/* From headers seen */
	size_t		 size;			/* header and body bytes */
};

struct session {
	struct engine	*eng;
	char		 id[32];
	char		 logid[96];
	int		 has_client;
	struct cidr	 client;
	char		*addr_text;
	char		*client_name;
	char		*helo;
	char		*queue_id;
	struct txn	*txn;
};

struct engine {
	struct db	*db;
	struct evidence	*ev;
};

void	txn_free(struct txn *t);

/*
 * A rule found a violation: apply its configured action. For reject and
 * tempfail v is filled (reply_set) and 1 is returned; for log the
 * violation is recorded in t->observed and 0 is returned.
 */
int	txn_violation(struct txn *t, struct verdict *v, enum rule_id rule,
	    const char *code, const char *xcode, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));

/*
 * Write the transaction's evidence record and its syslog line. action is
 * "accept", "reject", "tempfail" or "abort"; stage names where it was
 * decided; v is the final reply (NULL if none) and rule the rule behind
 * it (-1 if none). 0 / -1 (err set) when the record could not be written.
 */
int	txn_record(struct session *s, const char *action, const char *stage,
	    int rule, const struct verdict *v, char *err, size_t errlen);

/* Rules at RCPT: 1 the recipient is refused (v filled), 0 it passes. */
int	rule_relay_rcpt(struct session *s, const char *domain,
	    struct verdict *v);
int	rule_rcpt_cap_rcpt(struct session *s, struct verdict *v);

#endif
