/*
 * session - one SMTP connection and its transactions (see engine.h)
 *
 * Each event extracts what it needs, runs the rules of its stage and says
 * what to reply. Every path that ends a transaction goes through
 * session_end_txn(), which writes the evidence record and frees the
 * transaction, so no path forgets either.
 * Threads: a session is used by one thread at a time; the engine's db and
 * evidence are thread-safe.
 */
#include <ctype.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addrnorm.h"
#include "authz.h"
#include "db.h"
#include "db_cache.h"
#include "envaddr.h"
#include "log.h"
#include "optout_filter.h"
#include "quota.h"
#include "reply.h"
#include "strcopy.h"
#include "txn.h"
#include "xalloc.h"

struct engine *
engine_new(struct db *db, struct db *counters, struct evidence *ev)
{
	struct engine *eng = xcalloc(1, sizeof(*eng));

	eng->db = db;
	eng->ev = ev;
	eng->fb = feedback_new();
	eng->quota = quota_new(counters != NULL ? counters : db);
	eng->attrib_cache = attrib_cache_new(db);
	eng->authz_cache = authz_cache_new(db);
	eng->login_plan_cache = quota_login_plan_cache_new(db);
	eng->optout_filter = optout_filter_new(db);
	return eng;
}

void
engine_free(struct engine *eng)
{
	if (eng == NULL)
		return;
	feedback_free(eng->fb);
	quota_free(eng->quota);
	db_cache_free(eng->attrib_cache);
	db_cache_free(eng->authz_cache);
	db_cache_free(eng->login_plan_cache);
	optout_filter_free(eng->optout_filter);
	engine_dns_free(eng);
	free(eng);
}

/*
 * Every field reads as empty: the strings are cut at their first byte,
 * not zeroed whole (the struct is most of a kilobyte and this runs at
 * every event); nothing reads past a string's NUL.
 */
static void
verdict_clear(struct verdict *v)
{
	v->kind = VERDICT_CONTINUE;
	v->ends_txn = 0;
	v->code[0] = '\0';
	v->xcode[0] = '\0';
	v->text[0] = '\0';
	v->hdr_name[0] = '\0';
	v->hdr_value[0] = '\0';
	v->hdr_strip = 0;
}

static void
session_set_logid(struct session *s)
{
	if (s->queue_id != NULL)
		strcopy2(s->logid, sizeof(s->logid), s->id, ' ', s->queue_id);
	else
		strcopy(s->logid, sizeof(s->logid), s->id);
}

struct session *
session_new(struct engine *eng, const char *id, const struct cidr *client,
    const char *addr_text, const char *name)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->eng = eng;
	snprintf(s->id, sizeof(s->id), "%s", id);
	if (client != NULL) {
		s->has_client = 1;
		s->client = *client;
	}
	s->addr_text = addr_text != NULL ? xstrdup(addr_text) : NULL;
	s->client_name = name != NULL ? xstrdup(name) : NULL;
	session_set_logid(s);
	return s;
}

const char *
session_log_id(const struct session *s)
{
	return s->logid;
}

void
session_helo(struct session *s, const char *helo)
{
	free(s->helo);
	s->helo = xstrndup(helo, 255);
}

void
session_queue_id(struct session *s, const char *qid)
{
	if (qid == NULL || *qid == '\0' ||
	    (s->queue_id != NULL && strcmp(s->queue_id, qid) == 0))
		return;
	free(s->queue_id);
	s->queue_id = xstrndup(qid, 64);
	session_set_logid(s);
}

/* What t holds, not t itself. */
static void
txn_release(struct txn *t)
{
	for (size_t i = 0; i < t->nrcpts; i++)
		free(t->rcpts[i]);
	free(t->rcpts);
	for (size_t i = 0; i < t->nrejected; i++) {
		free(t->rejected[i].rcpt);
		free(t->rejected[i].reply);
	}
	free(t->rejected);
	for (size_t i = 0; i < t->nobserved; i++)
		free(t->observed[i].detail);
	free(t->observed);
	free(t->mail_from);
	free(t->auth);
	free(t->header_from);
	free(t->message_id);
	free(t->subject);
	free(t->header_from_name);
	rule_quota_end(t);	/* gives back what is still reserved */
	rule_sender_free(t);
	rule_header_free(t);
	config_unref(t->cfg);
}

void
txn_free(struct txn *t)
{
	if (t == NULL)
		return;
	txn_release(t);
	free(t);
}

/*
 * A zeroed transaction for a new MAIL. The memory of the session's last
 * one is used again: a txn is over a kilobyte, and such an allocation
 * costs malloc more than a small one.
 */
static struct txn *
session_txn_new(struct session *s)
{
	struct txn *t = s->spare;

	s->spare = NULL;
	if (t == NULL)
		return xcalloc(1, sizeof(*t));
	memset(t, 0, sizeof(*t));
	return t;
}

int
txn_violation(struct txn *t, struct verdict *v, enum rule_id rule,
    const char *code, const char *xcode, const char *fmt, ...)
{
	enum rule_action act = config_rule_action(t->cfg, rule);
	char detail[VERDICT_TEXT_MAX];
	va_list ap;

	if (act == ACTION_OFF)
		return 0;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (act == ACTION_LOG) {
		t->observed = xrealloc(t->observed,
		    (t->nobserved + 1) * sizeof(*t->observed));
		t->observed[t->nobserved].rule = rule;
		t->observed[t->nobserved].detail = xstrdup(detail);
		t->nobserved++;
		return 0;
	}
	reply_set(v, act, code, xcode, rule, t->ref, "%s", detail);
	return 1;
}

/*
 * End the transaction: record it and free it. A record that cannot be
 * written is logged; the caller decides whether that changes the reply.
 */
static int
session_end_txn(struct session *s, const char *action, const char *stage,
    int rule, const struct verdict *v)
{
	char err[512];
	int rc;

	if (s->txn == NULL)
		return 0;
	rc = txn_record(s, action, stage, rule, v, err, sizeof(err));
	if (rc < 0) {
		log_msg(LOG_ERR, s->logid, "evidence record %s not written: "
		    "%s", s->txn->ref, err);
		/* An accept that cannot be recorded is tempfailed (unless
		 * EvidenceFailure accept): then it must not stay charged. */
		if (strcmp(action, "accept") == 0 &&
		    config_evidence_failure(s->txn->cfg) == FAIL_TEMPFAIL)
			rule_quota_refund(s);
	}
	txn_release(s->txn);
	free(s->spare);
	s->spare = s->txn;	/* for the next MAIL (session_txn_new) */
	s->txn = NULL;
	free(s->queue_id);
	s->queue_id = NULL;
	session_set_logid(s);
	return rc;
}

void
session_abort(struct session *s)
{
	struct txn *t = s->txn;
	struct verdict v;

	if (t == NULL)
		return;
	/* Every recipient refused: the outcome is that refusal. */
	if (t->nrcpts == 0 && t->nrejected > 0) {
		const struct txn_rejected *last = &t->rejected[t->nrejected - 1];

		verdict_clear(&v);
		snprintf(v.code, sizeof(v.code), "%.3s", last->reply);
		snprintf(v.xcode, sizeof(v.xcode), "%.*s",
		    (int)strcspn(last->reply + 4, " "), last->reply + 4);
		snprintf(v.text, sizeof(v.text), "%s",
		    last->reply + 5 + strlen(v.xcode));
		session_end_txn(s, v.code[0] == '4' ? "tempfail" : "reject",
		    "rcpt", (int)last->rule, &v);
		return;
	}
	session_end_txn(s, "abort", "abort", -1, NULL);
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	session_abort(s);
	free(s->spare);
	free(s->addr_text);
	free(s->client_name);
	free(s->helo);
	free(s->queue_id);
	free(s);
}

/*
 * Attribution and the customer's plan, at MAIL (attrib_lookup: usually
 * from its cache). -1 on a DB failure.
 */
static int
session_attribute(struct session *s, struct txn *t)
{
	struct attrib_result res;
	char err[512];
	int r;

	r = attrib_lookup(s->eng->db, s->eng->attrib_cache, t->auth,
	    s->has_client ? &s->client : NULL, (int64_t)time(NULL), &res,
	    err, sizeof(err));
	if (r < 0)
		log_msg(LOG_ERR, s->logid, "database: %s", err);
	else if (res.gap == ATTRIB_NO_CUSTOMER) {
		log_msg(LOG_WARNING, s->logid, "%s %s names customer %s, "
		    "which does not exist", attrib_by_name(res.attr.by),
		    res.attr.via, res.attr.customer);
		return 0;
	} else if (res.gap == ATTRIB_NO_PLAN)
		log_msg(LOG_WARNING, s->logid, "customer %s has unknown plan "
		    "%s; using the default limits", res.cust.id,
		    res.cust.plan);
	t->attr = res.attr;
	t->cust = res.cust;
	t->plan = res.plan;
	return r < 0 ? -1 : 0;
}

/*
 * A preemption point, where the thread holds no lock. With more runnable
 * sessions than cores (a saturated daemon, bench-engine), the kernel
 * takes the CPU from a thread wherever its time slice ends: often inside
 * one of the short critical sections (a group commit's leader, a lock),
 * and every other session then piles up behind it and sleeps. Giving the
 * CPU up every SESSION_YIELD_EVERY transactions of a thread (under a
 * millisecond of work, less than a slice) ends most slices here instead:
 * at 64 sessions on one core the context switches fell to a third and
 * the messages per second rose by about 15% (README). With nothing else
 * runnable, sched_yield(2) returns at once.
 */
#define SESSION_YIELD_EVERY	16

static void
session_yield_point(void)
{
	static _Thread_local unsigned n;

	if (++n % SESSION_YIELD_EVERY == 0)
		sched_yield();
}

void
session_mail(struct session *s, const char *sender, const char *auth,
    const char *const *args, struct verdict *v)
{
	struct envaddr ea;
	struct txn *t;
	int rule = -1;

	verdict_clear(v);
	session_abort(s);	/* a new MAIL without RSET ends the last one */
	session_yield_point();
	t = s->txn = session_txn_new(s);
	if ((t->cfg = config_current()) == NULL)
		abort();	/* the daemon installs a config before serving */
	evidence_new_ref(t->ref);
	t->mail_from = xstrdup(envaddr_parse(sender, &ea) == 0 ?
	    ea.mailbox : sender);
	t->auth = auth != NULL && *auth != '\0' ? xstrdup(auth) : NULL;
	if (session_attribute(s, t) < 0) {
		if (config_database_failure(t->cfg) == FAIL_ACCEPT) {
			t->db_failed_open = 1;
			return;
		}
		reply_tempfail(v, t->ref, "Policy database unavailable");
		v->ends_txn = 1;
		session_end_txn(s, "tempfail", "mail", -1, v);
		return;
	}
	if ((rule = rule_quota_mail(s, args, v)) >= 0) {	/* SIZE= */
		v->ends_txn = 1;
		session_end_txn(s, v->kind == VERDICT_TEMPFAIL ? "tempfail" :
		    "reject", "mail", rule, v);
		return;
	}
	if (rule_sender_mail(s, sender, args, v, &rule)) {	/* DNS, SPF */
		v->ends_txn = 1;
		session_end_txn(s, v->kind == VERDICT_TEMPFAIL ? "tempfail" :
		    "reject", "mail", rule, v);
	}
}

static int
txn_has_rcpt(const struct txn *t, const char *mailbox)
{
	for (size_t i = 0; i < t->nrcpts; i++)
		if (strcmp(t->rcpts[i], mailbox) == 0)
			return 1;
	return 0;
}

static void
txn_add_rejected(struct txn *t, const char *rcpt, enum rule_id rule,
    const struct verdict *v)
{
	char reply[VERDICT_TEXT_MAX + 16];

	reply_format(v, reply, sizeof(reply));
	t->rejected = xrealloc(t->rejected,
	    (t->nrejected + 1) * sizeof(*t->rejected));
	t->rejected[t->nrejected].rcpt = xstrdup(rcpt);
	t->rejected[t->nrejected].rule = rule;
	t->rejected[t->nrejected].reply = xstrdup(reply);
	t->nrejected++;
}

void
session_rcpt(struct session *s, const char *rcpt, const char *const *args,
    struct verdict *v)
{
	struct txn *t = s->txn;
	char normbuf[ADDRNORM_MAX], err[256];
	const char *norm = NULL;
	struct envaddr ea;
	int rule = -1;

	verdict_clear(v);
	if (t == NULL)
		return;
	if (envaddr_parse(rcpt, &ea) < 0 || ea.mailbox[0] == '\0')
		return;		/* the MTA has judged the syntax already */
	if (txn_has_rcpt(t, ea.mailbox))
		return;		/* the same recipient counts once */
	if (rule_relay_rcpt(s, ea.domain, v))
		rule = RULE_RELAY;
	else if (rule_sender_rcpt(s, v))
		rule = RULE_RETURN_ADDRESS;
	else {
		/* Normalised once for the opt-out lists and the counters. */
		if (addrnorm_address(config_address_rules(t->cfg), ea.mailbox,
		    normbuf, sizeof(normbuf), err, sizeof(err)) == 0)
			norm = normbuf;
		if (rule_optout_rcpt(s, ea.mailbox, norm, v))
			rule = RULE_OPTOUT;
		else if (rule_rcpt_cap_rcpt(s, v))
			rule = RULE_RCPT_CAP;
		else	/* last: it reserves quota for what it lets pass */
			rule = rule_quota_rcpt(s, ea.mailbox, norm, v);
	}
	if (rule >= 0) {
		txn_add_rejected(t, ea.mailbox, (enum rule_id)rule, v);
		log_msg(LOG_INFO, s->logid, "ref=%s rule=%s rcpt=<%s> "
		    "reply=\"%s %s\"", t->ref, rule_name((enum rule_id)rule),
		    ea.mailbox, v->code, v->xcode);
		return;
	}
	if (t->nrcpts == t->rcpts_cap) {
		t->rcpts_cap = t->rcpts_cap == 0 ? 8 : 2 * t->rcpts_cap;
		t->rcpts = xrealloc(t->rcpts, t->rcpts_cap * sizeof(*t->rcpts));
	}
	t->rcpts[t->nrcpts++] = xstrdup(ea.mailbox);
}

/* Keep the first value of a header, unfolded and bounded. */
static void
txn_keep_header(char **slot, const char *value)
{
	char *p, *q;

	if (*slot != NULL)
		return;
	*slot = xstrndup(value, TXN_HEADER_MAX);
	for (p = q = *slot; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n')
			continue;
		*q++ = *p;
	}
	*q = '\0';
	for (p = *slot; isspace((unsigned char)*p); p++)
		;
	memmove(*slot, p, strlen(p) + 1);
}

void
session_header(struct session *s, const char *name, const char *value)
{
	struct txn *t = s->txn;
	const char *fb;

	if (t == NULL)
		return;
	t->size += strlen(name) + strlen(value) + 4;
	if (strcasecmp(name, "From") == 0) {
		t->nfrom++;
		txn_keep_header(&t->header_from, value);
	} else if (strcasecmp(name, "Message-ID") == 0)
		txn_keep_header(&t->message_id, value);
	else if (strcasecmp(name, "Subject") == 0)
		txn_keep_header(&t->subject, value);
	else if ((fb = config_feedback_header(t->cfg)) != NULL &&
	    strcasecmp(name, fb) == 0)
		t->nfeedback++;	/* the client's: removed at end of message */
	rule_header_collect(s, name, value);	/* header_from, trace, dkim */
}

void
session_body_data(struct session *s, const unsigned char *chunk, size_t len)
{
	if (s->txn == NULL)
		return;
	s->txn->size += len;
	if (chunk != NULL)
		rule_header_body(s, chunk, len);	/* DKIM body hash */
}

void
session_body(struct session *s, size_t len)
{
	session_body_data(s, NULL, len);
}

void
session_eom(struct session *s, struct verdict *v)
{
	char ref[EVIDENCE_REF_LEN + 1];
	enum fail_mode on_fail;
	int rule;

	verdict_clear(v);
	v->ends_txn = 1;
	if (s->txn == NULL)
		return;
	s->txn->size += 2;	/* the blank line between header and body */
	/* header_from, trace, dkim: before the quota charge, so refused
	 * mail is never charged */
	rule = rule_header_eom(s, v);
	if (v->kind != VERDICT_CONTINUE) {
		session_end_txn(s, v->kind == VERDICT_TEMPFAIL ? "tempfail" :
		    "reject", "eom", rule, v);
		return;
	}
	/* msg_size, the per-send rcpt_cap, and the quota charge */
	if ((rule = rule_quota_eom(s, v)) >= 0) {
		session_end_txn(s, v->kind == VERDICT_TEMPFAIL ? "tempfail" :
		    "reject", "eom", rule, v);
		return;
	}
	strcopy(ref, sizeof(ref), s->txn->ref);
	on_fail = config_evidence_failure(s->txn->cfg);
	feedback_stamp(s, v);	/* applied only if v stays "continue" */
	if (session_end_txn(s, "accept", "eom", -1, NULL) < 0 &&
	    on_fail == FAIL_TEMPFAIL)
		reply_tempfail(v, ref, "Evidence log unavailable");
}
