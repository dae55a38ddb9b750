/*
 * rules - rule ids and actions by name (see rules.h)
 */
#include <string.h>

#include "rules.h"

static const char *const rule_names[RULE_NRULES] = {
	[RULE_RELAY] = "relay",
	[RULE_RETURN_ADDRESS] = "return_address",
	[RULE_SPF] = "spf",
	[RULE_HEADER_FROM] = "header_from",
	[RULE_TRACE] = "trace",
	[RULE_DKIM] = "dkim",
	[RULE_RCPT_CAP] = "rcpt_cap",
	[RULE_MSG_SIZE] = "msg_size",
	[RULE_RATE] = "rate",
	[RULE_BOMB] = "bomb",
	[RULE_OPTOUT] = "optout",
	[RULE_BLOCKLIST] = "blocklist",
	[RULE_SUSPENDED] = "suspended",
	[RULE_COMPROMISED] = "compromised",
};

static const char *const action_names[] = {
	[ACTION_REJECT] = "reject",
	[ACTION_TEMPFAIL] = "tempfail",
	[ACTION_LOG] = "log",
	[ACTION_OFF] = "off",
};

const char *
rule_name(enum rule_id id)
{
	if ((unsigned)id >= RULE_NRULES)
		return "unknown";
	return rule_names[id];
}

int
rule_lookup(const char *name)
{
	for (int i = 0; i < RULE_NRULES; i++)
		if (strcmp(rule_names[i], name) == 0)
			return i;
	return -1;
}

const char *
rule_action_name(enum rule_action a)
{
	if ((unsigned)a > ACTION_OFF)
		return "unknown";
	return action_names[a];
}

int
rule_action_lookup(const char *name)
{
	for (int i = 0; i <= ACTION_OFF; i++)
		if (strcmp(action_names[i], name) == 0)
			return i;
	return -1;
}

int
rule_action_enforced(enum rule_action a)
{
	return a == ACTION_REJECT || a == ACTION_TEMPFAIL;
}
