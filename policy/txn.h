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

struct optout_filter;
struct resolver;

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
	size_t		 rcpts_cap;		/* slots allocated */
	struct txn_rejected *rejected;
	size_t		 nrejected;
	struct txn_observed *observed;
	size_t		 nobserved;
	char		*header_from;
	char		*message_id;
	char		*subject;
	int		 nfrom;			/* From headers seen */
	int		 nfeedback;		/* the client's FeedbackHeader
						   copies (forged) */
	size_t		 size;			/* header and body bytes */
	struct quota_txn *quota;		/* reservations (rule_quota.c) */
	/* rule_sender.c: the return address, SPF and their DNS */
	int		 null_sender;		/* MAIL FROM:<> (a bounce) */
	struct resolver	*res;			/* held MAIL..end; NULL: none */
	int64_t		 dns_deadline_ms;	/* the DNSBudget of the txn */
	char		*spf;			/* JSON object; NULL: not run */
	char		*dns;			/* JSON array of DNS failures */
	/* rule_header.c: header_from, trace, dkim */
	struct header_txn *hdr;			/* NULL: no header examined */
	char		*header_from_name;	/* decoded display name */
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
	struct txn	*spare;		/* the last txn's memory, for the next */
};

struct engine {
	struct db	*db;
	struct evidence	*ev;
	struct feedback	*fb;	/* feedback token secret cache (feedback.c) */
	struct quota	*quota;	/* pending reservations, group commit */
	struct db_cache	*attrib_cache;	/* attrib.c: of db */
	struct db_cache	*authz_cache;	/* authz.c: of db */
	struct db_cache	*login_plan_cache;	/* rule_quota.c: of db */
	struct optout_filter *optout_filter;	/* rule_optout.c: of db */
	struct resolver	*res;	/* engine_dns.c: built from the config */
	char		*res_ns;	/* the config it was built from: */
	int		 res_timeout, res_tries;	/* Nameserver ("" none), */
	size_t		 res_cache;	/* DNSTimeout, DNSTries, DNSCacheSize */
};

void	txn_free(struct txn *t);

/*
 * engine_dns.c: the engine's resolver for cfg (a new reference; NULL with
 * err when it cannot be made). engine_dns_free() at engine_free().
 */
struct resolver *engine_resolver(struct engine *eng, const struct config *cfg,
	    char *err, size_t errlen);
void	engine_dns_free(struct engine *eng);

/*
 * rule_sender.c, at MAIL (after attribution): the return address
 * (syntax, authorized domain, operator domains, the domain exists in
 * DNS), the own-mail-server half of relay, and SPF. Returns 1 when the
 * transaction is refused (v filled, *rule the rule or -1 for a failure
 * not tied to one), else 0. At RCPT: 1 when a bounce (null sender) gets
 * a second recipient. rule_sender_free() releases the txn's DNS state.
 */
int	rule_sender_mail(struct session *s, const char *sender,
	    const char *const *args, struct verdict *v, int *rule);
int	rule_sender_rcpt(struct session *s, struct verdict *v);
void	rule_sender_free(struct txn *t);

/*
 * rule_header.c, for attributed transactions: rule_header_collect() sees
 * every header (bounded by HeaderMaxBytes), rule_header_body() every body
 * chunk (DKIM). rule_header_eom() runs header_from, trace and dkim before
 * the quota charge: the rule id of a refusal (v filled), or -1, with v
 * filled only for a database failure that tempfails. The dkim results as
 * a JSON array for the evidence (NULL: not verified).
 */
void	rule_header_collect(struct session *s, const char *name,
	    const char *value);
void	rule_header_body(struct session *s, const unsigned char *p,
	    size_t len);
int	rule_header_eom(struct session *s, struct verdict *v);
const char *rule_header_dkim_json(const struct txn *t);
void	rule_header_free(struct txn *t);

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
/*
 * mailbox as envaddr made it, norm its normalised form (addrnorm.h;
 * NULL when it has none: no list can hold it) (rule_optout.c).
 */
int	rule_optout_rcpt(struct session *s, const char *mailbox,
	    const char *norm, struct verdict *v);

/*
 * feedback.c: the token header of accepted attributed mail. feedback_stamp
 * fills v->hdr_name/hdr_value at end of message (nothing when the
 * transaction is unattributed or FeedbackHeader is none; no value when
 * the secret cannot be read), and in v->hdr_strip the copies the client
 * sent, to be removed: only the MTA's is believed.
 */
struct feedback *feedback_new(void);
void	feedback_free(struct feedback *fb);	/* NULL is a no-op */
void	feedback_stamp(struct session *s, struct verdict *v);

#endif
