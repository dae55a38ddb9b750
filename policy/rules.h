/*
 * rules - the rule ids of SPEC "The policy, rule by rule" and their actions
 *
 * The ids are fixed names: they appear in the config (Rule.<id>), in
 * replies and in the evidence. Threads: constant tables, safe.
 */
#ifndef AUP_RULES_H
#define AUP_RULES_H

enum rule_id {
	RULE_RELAY,
	RULE_RETURN_ADDRESS,
	RULE_SPF,
	RULE_HEADER_FROM,
	RULE_TRACE,
	RULE_DKIM,
	RULE_RCPT_CAP,
	RULE_MSG_SIZE,
	RULE_RATE,
	RULE_BOMB,
	RULE_OPTOUT,
	RULE_BLOCKLIST,
	RULE_SUSPENDED,
	RULE_COMPROMISED,
	RULE_NRULES
};

/* What a rule does when it finds a violation. */
enum rule_action {
	ACTION_REJECT,
	ACTION_TEMPFAIL,
	ACTION_LOG,	/* observe: accept and record the violation */
	ACTION_OFF	/* not enforced and not recorded */
};

const char *rule_name(enum rule_id id);		/* "relay" */
int	rule_lookup(const char *name);		/* enum rule_id or -1 */
const char *rule_action_name(enum rule_action a);	/* "reject" */
int	rule_action_lookup(const char *name);	/* enum rule_action or -1 */
/* 1 if the action refuses mail (reject, tempfail), 0 for log and off. */
int	rule_action_enforced(enum rule_action a);

#endif
