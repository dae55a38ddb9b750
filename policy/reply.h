/*
 * reply - the one place SMTP reply text is built
 *
 * Every refusal names its rule and carries the transaction's evidence
 * reference: "Relaying denied ... (rule relay, ref 7f3a9c21e0b1)". This
 * module keeps the reply class and the enhanced code consistent (a 4xx code
 * gets a 4.x.x enhanced code), replaces CR, LF and other controls, strips
 * '%' games (libmilter treats '%' as a format character), and caps the
 * length so the MTA never sees an over-long line.
 * Threads: pure functions.
 */
#ifndef AUP_REPLY_H
#define AUP_REPLY_H

#include "engine.h"
#include "rules.h"

/*
 * Fill v. code/xcode are the rule's reply when it rejects ("550","5.7.1");
 * when action is ACTION_TEMPFAIL they are turned into their 4xx form
 * ("451","4.7.1"; a 4xx code is kept). The text gets " (rule R, ref REF)".
 */
void	reply_set(struct verdict *v, enum rule_action action, const char *code,
	    const char *xcode, enum rule_id rule, const char *ref,
	    const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* A tempfail not tied to a rule (database, evidence): 451 4.3.0. */
void	reply_tempfail(struct verdict *v, const char *ref, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));

/* "550 5.7.1 text" into buf, for the evidence record. */
void	reply_format(const struct verdict *v, char *buf, size_t len);

#endif
