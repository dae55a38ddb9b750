/*
 * rule_envelope - rules decided on the envelope: relay, rcpt_cap
 *
 * relay: a client attributed to no customer may only send to LocalDomains
 * (that is inbound mail, outside the outbound policy).
 * rcpt_cap: at most the plan's max_rcpts_per_msg recipients in one
 * transaction; the one over the cap gets 452 4.5.3 so the client sends the
 * rest later (RFC 5321 4.5.3.1.10), and the message still goes to the
 * recipients already accepted.
 * Threads: per-session state only.
 */
#include "config.h"
#include "txn.h"

int
rule_relay_rcpt(struct session *s, const char *domain, struct verdict *v)
{
	struct txn *t = s->txn;

	if (t->attr.by != ATTRIB_NONE || t->db_failed_open)
		return 0;
	/* No domain ("postmaster") is always local (RFC 5321 4.5.1). */
	if (*domain == '\0' || config_is_local_domain(t->cfg, domain))
		return 0;
	return txn_violation(t, v, RULE_RELAY, "550", "5.7.1",
	    "Relaying to %s denied: client %s is not a customer of this "
	    "relay; authenticate first", domain,
	    s->addr_text != NULL ? s->addr_text : "unknown");
}

int
rule_rcpt_cap_rcpt(struct session *s, struct verdict *v)
{
	struct txn *t = s->txn;
	uint64_t cap = t->plan.lim[PLAN_MAX_RCPTS_PER_MSG];

	if (t->attr.by == ATTRIB_NONE || t->nrcpts < cap)
		return 0;
	return txn_violation(t, v, RULE_RCPT_CAP, "452", "4.5.3",
	    "Too many recipients: plan %s allows %llu per message for "
	    "customer %s", t->plan.name, (unsigned long long)cap,
	    t->cust.id);
}
