/*
 * rule_quota_priv - what the quota rules' two files share: rule_quota.c
 * (MAIL, RCPT, the end of a transaction) and rule_quota_eom.c (the charge
 * at end of message, warn records, refunds). Private to policy/.
 *
 * A quota item is one counter a transaction reserves or charges: its
 * key, kind, scope (the customer, or the login with a plan of its own),
 * amount, limit and window, and what the charge's check read and wrote.
 */
#ifndef AUP_RULE_QUOTA_PRIV_H
#define AUP_RULE_QUOTA_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "custdb.h"
#include "quota.h"
#include "rules.h"

struct session;
struct txn;
struct verdict;

#define QSCOPE_MAX	2	/* the customer, and the login with a plan */

#define QCAND_MAX	(3 * QSCOPE_MAX)

struct qscope {
	enum quota_scope scope;
	char		 id[256];	/* customer id or login */
	struct plan	 plan;
};

/* The key last: qitem_copy() copies what is used of it, not 480 bytes. */
struct qitem {
	enum quota_kind	 kind;
	int		 sc;		/* index into quota_txn.sc */
	uint64_t	 n;
	uint64_t	 limit;
	int		 enforce;	/* rule not in log mode */
	int64_t		 start, end;	/* window for a charge */
	struct quota_counter cur;	/* read by the charge's check */
	int		 known;		/* cur came from the cache */
	uint64_t	 old, now;	/* counts before/after the charge */
	int64_t		 cstart, cend;	/* the window actually charged */
	int		 over;		/* over the limit (log mode) */
	struct quota_key key;
};

#define QITEM_USED(it)	(offsetof(struct qitem, key.buf) + (it)->key.len)

/*
 * A session's items are copied a few times per message; copying only
 * their used bytes keeps the memory each session touches small (with
 * many sessions on one core, what does not fit the cache is read again).
 */
static inline void
qitem_copy(struct qitem *dst, const struct qitem *src)
{
	memcpy(dst, src, QITEM_USED(src));
}

struct quota_txn {
	struct quota	*q;
	struct quota_part *part;	/* of the pending table: t->cust's */
	struct qscope	 sc[QSCOPE_MAX];
	int		 nsc;
	struct qitem	*items;		/* reserved in the pending table */
	size_t		 nitems, items_cap;
	int		 msg_reserved;
	uint64_t	 nrcpts;	/* distinct recipients reserved */
	struct qitem	*charged;	/* committed by rule_quota_eom */
	size_t		 ncharged;
};


enum rule_id kind_rule(enum quota_kind k);
const char *scope_word(enum quota_scope sc);
/* Take its window at now and clear what a check and charge fill in. */
void	qitem_window(struct qitem *it, int64_t now);
/* Fill it for counter kind of scope i; window taken at now. 0 / -1. */
int	qitem_make(struct quota_txn *qt, struct txn *t, struct qitem *it,
	    int i, enum quota_kind kind, const char *tail, uint64_t n,
	    int64_t now);
/* The reply (or the logged violation) for item it over its limit. */
int	qitem_violation(struct txn *t, const struct quota_txn *qt,
	    const struct qitem *it, const char *rcpt, struct verdict *v);
/* A database failure: per DatabaseFailure, refuse (1) or go on (0). */
int	quota_db_failed(struct session *s, struct verdict *v, const char *what,
	    const char *err);
/* msg_size against every scope's plan; 1 refused. */
int	quota_size_check(struct txn *t, const struct quota_txn *qt,
	    uint64_t size, struct verdict *v);

#endif
