/*
 * rule_sender - the return address at MAIL: return_address, the
 * own-mail-server half of relay, and spf
 *
 * For attributed (outbound) transactions only; unattributed mail is
 * inbound and outside the outbound policy. In order:
 *   1. MAIL FROM parses as an RFC 5321 reverse-path (rfc5321.h), with
 *      UTF-8 only when MAIL carried SMTPUTF8 -> 553 5.1.7. The null
 *      sender is a bounce: allowed, with one recipient (a second RCPT is
 *      refused, 550 5.5.3); no other check applies to it.
 *   2. A customer flagged own_mail_server may only use its own domains:
 *      another domain is third-party relaying -> relay, 550 5.7.1.
 *   3. The domain is one of the customer's authorized domains (or a
 *      subdomain of one authorized with subdomains); an OperatorDomains
 *      domain needs an exact authorization -> 550 5.1.8.
 *   4. The domain exists for mail: MX, else A, else AAAA; a null MX
 *      (RFC 7505) or NXDOMAIN -> 550 5.1.8.
 *   5. SPF for customers attributed by IP (network, lease), not for SMTP
 *      AUTH submissions: fail -> spf, 550 5.7.23; the result is recorded.
 * A DNS failure (timeout, SERVFAIL) in 4 or 5 tempfails with 451 4.4.3,
 * or, with DNSFailure accept (or the rule in log mode), is accepted; the
 * evidence record's "dns" member says which. A rule in log mode records
 * its violation and the next check still runs.
 *
 * Ownership: the txn's resolver reference, spf and dns texts are freed by
 * rule_sender_free(). Threads: per-session state; the resolver is shared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addrnorm.h"
#include "authz.h"
#include "config.h"
#include "custdb.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "reply.h"
#include "resolver.h"
#include "rfc5321.h"
#include "spf.h"
#include "strbuf.h"
#include "txn.h"
#include "xalloc.h"

#define SENDER_SHOW	100	/* bytes of a bad address quoted in a reply */

void
rule_sender_free(struct txn *t)
{
	resolver_unref(t->res);
	t->res = NULL;
	free(t->spf);
	free(t->dns);
	t->spf = t->dns = NULL;
}

/* Append {"check","query","error","outcome"} to the txn's dns array. */
static void
sender_dns_note(struct txn *t, enum rule_id rule, const char *query,
    const char *why, int failed_open)
{
	struct strbuf sb;

	strbuf_init(&sb, 128);
	if (t->dns != NULL) {
		strbuf_adds(&sb, t->dns);
		sb.len--;		/* reopen the array */
		sb.s[sb.len] = '\0';
		strbuf_addc(&sb, ',');
	} else
		strbuf_addc(&sb, '[');
	strbuf_adds(&sb, "{\"check\":");
	json_cstr(&sb, rule_name(rule));
	strbuf_adds(&sb, ",\"query\":");
	json_cstr(&sb, query);
	strbuf_adds(&sb, ",\"error\":");
	json_cstr(&sb, why);
	strbuf_adds(&sb, ",\"outcome\":");
	json_cstr(&sb, failed_open ? "failed open" : "failed closed");
	strbuf_adds(&sb, "}]");
	free(t->dns);
	t->dns = xstrdup(sb.s);
	strbuf_free(&sb);
}

/*
 * DNS could not answer for rule: tempfail (1, v filled) or, with
 * DNSFailure accept or the rule in log mode, go on (0). Either way noted.
 */
static int
sender_dns_failure(struct session *s, enum rule_id rule, const char *query,
    const char *why, struct verdict *v)
{
	struct txn *t = s->txn;
	int open = config_dns_failure(t->cfg) == FAIL_ACCEPT ||
	    !rule_action_enforced(config_rule_action(t->cfg, rule));

	sender_dns_note(t, rule, query, why, open);
	log_msg(LOG_WARNING, s->logid, "ref=%s rule=%s dns=\"%s: %s\" %s",
	    t->ref, rule_name(rule), query, why,
	    open ? "failed open (accepted)" : "failed closed (tempfail)");
	if (open)
		return 0;
	reply_set(v, ACTION_TEMPFAIL, "451", "4.4.3", rule, t->ref,
	    "Cannot check %s now: DNS lookup of %s failed (%s); try again "
	    "later", rule == RULE_SPF ? "SPF" : "the return address", query,
	    why);
	return 1;
}

/* Make sure the txn holds a resolver; 0, or -1 with why. */
static int
sender_resolver(struct session *s, char *why, size_t len)
{
	struct txn *t = s->txn;

	if (t->res != NULL)
		return 0;
	t->res = engine_resolver(s->eng, t->cfg, why, len);
	if (t->res == NULL)
		log_msg(LOG_ERR, s->logid, "resolver: %s", why);
	return t->res != NULL ? 0 : -1;
}

/*
 * An SMTPUTF8 domain in U-labels is checked (authorization, DNS) in its
 * A-label form, the one customers' domains are stored in and DNS knows.
 * 0, or -1 when the name is no valid IDN.
 */
static int
sender_alabel(struct rfc5321_path *p)
{
	char out[ADDRNORM_DOMAIN_MAX], err[128];
	const unsigned char *c;

	if (p->literal)
		return 0;
	for (c = (const unsigned char *)p->domain; *c != '\0' && *c < 0x80;
	    c++)
		;
	if (*c == '\0')
		return 0;
	if (addrnorm_domain(p->domain, out, sizeof(out), err, sizeof(err)) < 0
	    || strlen(out) >= sizeof(p->domain))
		return -1;
	snprintf(p->domain, sizeof(p->domain), "%s", out);
	snprintf(p->mailbox, sizeof(p->mailbox), "%s@%s", p->local, out);
	return 0;
}

/* 1 when args (ESMTP parameters of MAIL) include SMTPUTF8. */
static int
sender_smtputf8(const char *const *args)
{
	for (; args != NULL && *args != NULL; args++)
		if (strcasecmp(*args, "SMTPUTF8") == 0)
			return 1;
	return 0;
}

/*
 * Is domain one of the customer's? 1 yes, 0 no, -1 DB error. *exact says
 * the domain itself is listed (not only a parent with subdomains).
 */
/* Steps 2 and 3; 1 refused (v, *rule), 0 go on, -1 DB failure. */
static int
sender_domain_policy(struct session *s, const struct rfc5321_path *p,
    struct verdict *v, int *rule)
{
	struct txn *t = s->txn;
	int ok, exact = 0;

	if (p->literal)
		ok = 0;
	else if ((ok = authz_domain(s, p->domain, &exact)) < 0)
		return -1;
	if (!ok && (t->cust.flags & CUST_OWN_MAIL_SERVER) &&
	    txn_violation(t, v, RULE_RELAY, "550", "5.7.1", "Relaying denied: "
	    "customer %s runs its own mail server and may only send as its "
	    "own domains, not %s", t->cust.id, p->domain))
		return *rule = RULE_RELAY, 1;
	if (!ok && txn_violation(t, v, RULE_RETURN_ADDRESS, "550", "5.1.8",
	    p->literal ? "Return address <%s> has an address literal; "
	    "customer %s must use one of its domains" : "Return address "
	    "domain %s is not authorized for customer %s", p->literal ?
	    p->mailbox : p->domain, t->cust.id))
		return *rule = RULE_RETURN_ADDRESS, 1;
	if (ok && !exact && config_is_operator_domain(t->cfg, p->domain) &&
	    txn_violation(t, v, RULE_RETURN_ADDRESS, "550", "5.1.8",
	    "Return address domain %s belongs to the provider and is not "
	    "authorized for customer %s", p->domain, t->cust.id))
		return *rule = RULE_RETURN_ADDRESS, 1;
	return 0;
}

/* Step 4; 1 refused (v, *rule), 0 go on. */
static int
sender_domain_exists(struct session *s, const char *domain,
    struct verdict *v, int *rule)
{
	static const enum resolver_type order[] = { RESOLVER_MX, RESOLVER_A,
	    RESOLVER_AAAA };
	struct txn *t = s->txn;
	struct resolver_answer *a = NULL;
	char why[256], query[300];
	const char *gone = NULL;
	enum resolver_status st = RESOLVER_NODATA;
	size_t i, last = 0;

	*rule = RULE_RETURN_ADDRESS;
	if (sender_resolver(s, why, sizeof(why)) < 0)
		return sender_dns_failure(s, RULE_RETURN_ADDRESS, domain, why,
		    v);
	for (i = 0; i < 3 && st == RESOLVER_NODATA; i++) {
		resolver_answer_free(a);
		st = resolver_lookup(t->res, domain, order[i],
		    t->dns_deadline_ms, &a);
		last = i;
		if (st == RESOLVER_OK && order[i] == RESOLVER_MX &&
		    a->n == 1 && a->rr[0].name[0] == '\0')
			gone = "has a null MX (RFC 7505): it accepts no mail";
	}
	if (st == RESOLVER_TEMPFAIL) {
		snprintf(query, sizeof(query), "%s %s", domain,
		    resolver_type_name(order[last]));
		snprintf(why, sizeof(why), "%s", a->why);
		resolver_answer_free(a);
		return sender_dns_failure(s, RULE_RETURN_ADDRESS, query, why,
		    v);
	}
	if (st == RESOLVER_NXDOMAIN || st == RESOLVER_ERROR)
		gone = "does not exist in DNS";
	else if (st == RESOLVER_NODATA)
		gone = "has no MX or address records in DNS";
	resolver_answer_free(a);
	if (gone != NULL && txn_violation(t, v, RULE_RETURN_ADDRESS, "550",
	    "5.1.8", "Return address domain %s %s", domain, gone))
		return 1;
	return 0;
}

/* Step 5; 1 refused (v, *rule), 0 go on. */
static int
sender_spf(struct session *s, const char *mailbox, struct verdict *v,
    int *rule)
{
	struct txn *t = s->txn;
	struct spf_outcome o;
	struct strbuf sb;
	char why[256], ip[64];

	*rule = RULE_SPF;
	if (sender_resolver(s, why, sizeof(why)) < 0)
		return sender_dns_failure(s, RULE_SPF, mailbox, why, v);
	spf_check(t->res, t->dns_deadline_ms, &s->client, s->helo, mailbox, &o);
	strbuf_init(&sb, 128);
	strbuf_adds(&sb, "{\"result\":");
	json_cstr(&sb, spf_result_name(o.result));
	strbuf_adds(&sb, ",\"domain\":");
	json_cstr(&sb, o.domain);
	strbuf_adds(&sb, ",\"detail\":");
	json_cstr(&sb, o.detail);
	strbuf_addc(&sb, '}');
	free(t->spf);
	t->spf = xstrdup(sb.s);
	strbuf_free(&sb);
	cidr_format(&s->client, ip, sizeof(ip));
	if (o.result == SPF_TEMPERROR)
		return sender_dns_failure(s, RULE_SPF, o.domain, o.detail, v);
	if (o.result == SPF_FAIL)
		return txn_violation(t, v, RULE_SPF, "550", "5.7.23", "SPF "
		    "check failed: %s does not allow %s to send its mail",
		    o.domain, ip);
	return 0;
}

int
rule_sender_mail(struct session *s, const char *sender,
    const char *const *args, struct verdict *v, int *rule)
{
	struct txn *t = s->txn;
	struct rfc5321_path p;
	enum rfc5321_err e;
	size_t pos = 0;
	int r;

	*rule = -1;
	if (t->attr.by == ATTRIB_NONE || t->db_failed_open)
		return 0;
	t->dns_deadline_ms = resolver_now_ms() +
	    (int64_t)config_dns_budget(t->cfg) * 1000;
	e = rfc5321_parse(sender, strlen(sender), sender_smtputf8(args) ?
	    RFC5321_SMTPUTF8 : 0, &p, &pos);
	if (e != RFC5321_OK) {
		*rule = RULE_RETURN_ADDRESS;
		return txn_violation(t, v, RULE_RETURN_ADDRESS, "553", "5.1.7",
		    "Invalid return address %.*s%s: %s at character %zu",
		    SENDER_SHOW, sender, strlen(sender) > SENDER_SHOW ? "..." :
		    "", rfc5321_strerror(e), pos + 1);
	}
	if (p.null) {
		t->null_sender = 1;
		return 0;
	}
	if (sender_alabel(&p) < 0) {
		*rule = RULE_RETURN_ADDRESS;
		return txn_violation(t, v, RULE_RETURN_ADDRESS, "553", "5.1.7",
		    "Invalid return address domain %.*s: not a valid "
		    "internationalized domain name", SENDER_SHOW, p.domain);
	}
	if ((r = sender_domain_policy(s, &p, v, rule)) != 0) {
		if (r > 0)
			return 1;
		if (config_database_failure(t->cfg) == FAIL_ACCEPT) {
			t->db_failed_open = 1;
			return 0;
		}
		reply_tempfail(v, t->ref, "Policy database unavailable");
		return 1;
	}
	if (!p.literal && sender_domain_exists(s, p.domain, v, rule))
		return 1;
	if (s->has_client && (t->attr.by == ATTRIB_NETWORK ||
	    t->attr.by == ATTRIB_LEASE) && sender_spf(s, p.mailbox, v, rule))
		return 1;
	*rule = -1;
	return 0;
}

int
rule_sender_rcpt(struct session *s, struct verdict *v)
{
	struct txn *t = s->txn;

	if (!t->null_sender || t->nrcpts < 1)
		return 0;
	return txn_violation(t, v, RULE_RETURN_ADDRESS, "550", "5.5.3",
	    "The null sender <> is for bounces, which have one recipient; "
	    "customer %s may not send it to more", t->cust.id);
}
