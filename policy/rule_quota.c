/*
 * rule_quota - the quota rules: rate, bomb, msg_size, per-send rcpt_cap
 * (MAIL, RCPT and the end of a transaction; the charge at end of message
 * is rule_quota_eom.c's, the shared types rule_quota_priv.h's)
 *
 * See quota.h for the design (charge at end of message in one shared
 * write transaction; reservations at RCPT in the pending table). A rule
 * in "log" mode never refuses: what it would have refused is recorded as
 * a violation and the mail is charged as usual.
 *
 * Replies say which limit, its value, for whom, and when the window
 * resets, e.g. "451 4.7.1 Hourly message quota of 500 reached for
 * customer acme; resets 14:00 UTC (rule rate, ref 7f3a9c21e0b1)".
 *
 * Ownership: struct quota_txn hangs off its txn (t->quota) and is freed
 * by rule_quota_end(), which txn_free() calls on every path.
 * Threads: per-session state, plus the shared struct quota.
 * Errors: database failures follow DatabaseFailure (see quota.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "custdb.h"
#include "db_cache.h"
#include "log.h"
#include "quota.h"
#include "reply.h"
#include "rule_quota_priv.h"
#include "txn.h"
#include "window.h"
#include "xalloc.h"

_Static_assert(WINDOW_SEND_SECS <= QCACHE_HOUR,
    "a per-send window must fit the quota cache's hour filters");

static const enum plan_key kind_limit[] = {
	[QUOTA_MSGS_HOUR] = PLAN_MSGS_PER_HOUR,
	[QUOTA_RCPTS_DAY] = PLAN_RCPTS_PER_DAY,
	[QUOTA_RCPT_HOUR] = PLAN_PER_RCPT_PER_HOUR,
	[QUOTA_SEND] = PLAN_MAX_RCPTS_PER_MSG,
};

enum rule_id
kind_rule(enum quota_kind k)
{
	return k == QUOTA_RCPT_HOUR ? RULE_BOMB : k == QUOTA_SEND ?
	    RULE_RCPT_CAP : RULE_RATE;
}

const char *
scope_word(enum quota_scope sc)
{
	return sc == QUOTA_LOGIN ? "login" : "customer";
}

/* Take its window at now and clear what a check and charge fill in. */
void
qitem_window(struct qitem *it, int64_t now)
{
	if (it->kind == QUOTA_SEND) {
		it->start = now;
		it->end = now + WINDOW_SEND_SECS;
	} else {
		enum window_kind w = it->kind == QUOTA_RCPTS_DAY ?
		    WINDOW_DAY : WINDOW_HOUR;

		it->start = window_start(w, now);
		it->end = window_end(w, now);
	}
	memset(&it->cur, 0, sizeof(it->cur));
	it->known = 0;
	it->old = it->now = 0;
	it->cstart = it->cend = 0;
	it->over = 0;
}

/*
 * Fill it for counter kind of scope i; window taken at now. 0 / -1.
 * (Field by field: zeroing the whole item, key buffer and all, cost more
 * than the rest of the function.)
 */
int
qitem_make(struct quota_txn *qt, struct txn *t, struct qitem *it, int i,
    enum quota_kind kind, const char *tail, uint64_t n, int64_t now)
{
	const struct qscope *sc = &qt->sc[i];
	size_t tlen = tail != NULL ? strlen(tail) : 0;

	if (quota_key_make(&it->key, sc->scope, sc->id, kind, tail, tlen) < 0)
		return -1;
	it->kind = kind;
	it->sc = i;
	it->n = n;
	it->limit = sc->plan.lim[kind_limit[kind]];
	it->enforce = rule_action_enforced(config_rule_action(t->cfg,
	    kind_rule(kind)));
	qitem_window(it, now);
	return 0;
}

/* The reply (or the logged violation) for item it over its limit. */
int
qitem_violation(struct txn *t, const struct quota_txn *qt,
    const struct qitem *it, const char *rcpt, struct verdict *v)
{
	const struct qscope *sc = &qt->sc[it->sc];
	unsigned long long lim = (unsigned long long)it->limit;
	const char *who = scope_word(sc->scope);
	char reset[32];

	window_reset_text(it->end, reset, sizeof(reset));
	switch (it->kind) {
	case QUOTA_MSGS_HOUR:
		return txn_violation(t, v, RULE_RATE, "451", "4.7.1",
		    "Hourly message quota of %llu reached for %s %s; resets "
		    "%s", lim, who, sc->id, reset);
	case QUOTA_RCPTS_DAY:
		return txn_violation(t, v, RULE_RATE, "451", "4.7.1",
		    "Daily recipient quota of %llu reached for %s %s; resets "
		    "%s", lim, who, sc->id, reset);
	case QUOTA_RCPT_HOUR:
		return txn_violation(t, v, RULE_BOMB, "451", "4.7.1",
		    "Hourly limit of %llu messages to %.200s reached for %s "
		    "%s; resets %s", lim, rcpt != NULL ? rcpt : "one recipient",
		    who, sc->id, reset);
	case QUOTA_SEND:
		return txn_violation(t, v, RULE_RCPT_CAP, "550", "5.7.1",
		    "Mailing refused: with this transaction the send "
		    "%.100s reaches %llu recipients, over the limit of %llu "
		    "per send for %s %s (split sends add up for an hour)",
		    t->message_id, (unsigned long long)(it->old + it->n), lim,
		    who, sc->id);
	}
	return 0;
}

/* A database failure: per DatabaseFailure, refuse (1) or go on (0). */
int
quota_db_failed(struct session *s, struct verdict *v, const char *what,
    const char *err)
{
	struct txn *t = s->txn;

	log_msg(LOG_ERR, s->logid, "quota: %s failed (%s): %s", what,
	    config_database_failure(t->cfg) == FAIL_ACCEPT ? "accepting, "
	    "DatabaseFailure accept" : "tempfail", err);
	if (config_database_failure(t->cfg) == FAIL_ACCEPT) {
		t->db_failed_open = 1;
		return 0;
	}
	reply_tempfail(v, t->ref, "Policy database unavailable");
	return 1;
}

/* ---- MAIL ---- */

/* A login's own plan as read (cached in the engine's login_plan_cache). */
struct login_plan {
	int		r;	/* 1 a plan, 0 none (or unknown: name set) */
	char		name[CUSTDB_ID_MAX];
	struct plan	plan;
};

struct db_cache *
quota_login_plan_cache_new(struct db *db)
{
	return db_cache_new(db, 2048, 256, sizeof(struct login_plan));
}

/* The login's own plan into qt->sc[1]; -1 on a database error. */
static int
quota_login_plan(struct session *s, struct quota_txn *qt, char *err,
    size_t errlen)
{
	struct txn *t = s->txn;
	struct db_cache *cache = s->eng->login_plan_cache;
	const char *login = t->attr.via;
	struct login_plan lp;
	struct db_txn *rt;
	int r;

	if (!db_cache_get(cache, db_cache_txnid(cache), login, strlen(login),
	    0, &lp)) {
		memset(&lp, 0, sizeof(lp));
		if ((rt = db_read_begin(s->eng->db, err, errlen)) == NULL)
			return -1;
		r = custdb_login_plan_get(rt, login, lp.name);
		if (r > 0)
			r = custdb_plan_get(rt, lp.name, &lp.plan);
		if (r < 0) {
			snprintf(err, errlen, "%s", db_txn_error(rt));
			db_read_end(rt);
			return -1;
		}
		lp.r = r;
		db_cache_put(cache, rt, login, strlen(login), INT64_MIN,
		    INT64_MAX, &lp);
		db_read_end(rt);
	}
	r = lp.r;
	if (r == 0 && lp.name[0] != '\0')
		log_msg(LOG_WARNING, s->logid, "login %s has unknown plan %s; "
		    "only its customer's limits apply", login, lp.name);
	if (r > 0) {
		qt->sc[1].plan = lp.plan;
		qt->sc[1].scope = QUOTA_LOGIN;
		snprintf(qt->sc[1].id, sizeof(qt->sc[1].id), "%s",
		    t->attr.via);
		qt->nsc = 2;
	}
	return 0;
}

/* SIZE=n among the MAIL parameters: 1 with *size, 0 if absent or bad. */
static int
quota_size_param(const char *const *args, uint64_t *size)
{
	const char *p;
	char *end;

	for (; args != NULL && *args != NULL; args++) {
		if (strncasecmp(*args, "SIZE=", 5) != 0)
			continue;
		p = *args + 5;
		if (*p < '0' || *p > '9')
			return 0;
		errno = 0;
		*size = strtoull(p, &end, 10);
		if (*end != '\0')
			return 0;
		if (errno == ERANGE)
			*size = UINT64_MAX;
		return 1;
	}
	return 0;
}

/* msg_size against every scope's plan; 1 refused. */
int
quota_size_check(struct txn *t, const struct quota_txn *qt, uint64_t size,
    struct verdict *v)
{
	for (int i = 0; i < qt->nsc; i++) {
		uint64_t lim = qt->sc[i].plan.lim[PLAN_MAX_MSG_BYTES];

		if (size <= lim)
			continue;
		if (txn_violation(t, v, RULE_MSG_SIZE, "552", "5.3.4",
		    "Message size %" PRIu64 " exceeds the limit of %" PRIu64
		    " bytes for %s %s", size, lim, scope_word(qt->sc[i].scope),
		    qt->sc[i].id))
			return 1;
		break;
	}
	return 0;
}

int
rule_quota_mail(struct session *s, const char *const *args,
    struct verdict *v)
{
	struct txn *t = s->txn;
	struct quota_txn *qt;
	char err[512];
	uint64_t size;

	if (t == NULL || t->attr.by == ATTRIB_NONE || t->db_failed_open)
		return -1;
	qt = t->quota = xcalloc(1, sizeof(*qt));
	qt->q = s->eng->quota;
	qt->part = quota_part(qt->q, t->cust.id);
	qt->sc[0].scope = QUOTA_CUSTOMER;
	snprintf(qt->sc[0].id, sizeof(qt->sc[0].id), "%s", t->cust.id);
	qt->sc[0].plan = t->plan;
	qt->nsc = 1;
	if (t->attr.by == ATTRIB_LOGIN &&
	    quota_login_plan(s, qt, err, sizeof(err)) < 0)
		return quota_db_failed(s, v, "reading the login's plan", err) ?
		    RULE_RATE : -1;
	if (quota_size_param(args, &size) && quota_size_check(t, qt, size, v))
		return RULE_MSG_SIZE;
	return -1;
}

/* ---- RCPT ---- */

/* The counters one more recipient touches; how many. */
static int
quota_candidates(struct txn *t, struct quota_txn *qt, const char *rcpt,
    int64_t now, struct qitem *c)
{
	int n = 0;

	for (int i = 0; i < qt->nsc; i++) {
		if (!qt->msg_reserved && qitem_make(qt, t, &c[n], i,
		    QUOTA_MSGS_HOUR, NULL, 1, now) == 0)
			n++;
		if (qitem_make(qt, t, &c[n], i, QUOTA_RCPTS_DAY, NULL, 1,
		    now) == 0)
			n++;
		if (qitem_make(qt, t, &c[n], i, QUOTA_RCPT_HOUR, rcpt, 1,
		    now) == 0)
			n++;
	}
	return n;
}

/*
 * The committed counts of the candidates into cnt: from the cache
 * (quota_cache.h) where it knows them, the others in one read
 * transaction (and remembered). 0 / -1 with err.
 */
static int
quota_committed(struct quota *q, const struct qitem *c, int n, int64_t now,
    uint64_t *cnt, char *err, size_t errlen)
{
	struct quota_cache *qc = quota_counters_cache(q);
	struct quota_counter v;
	struct db_txn *rt = NULL;
	int known[QCAND_MAX], r = 0, cur;

	cur = quota_cache_begin(qc, now);
	for (int i = 0; i < n && cur; i++)
		quota_cache_prefetch(qc, &c[i].key, now);
	for (int i = 0; i < n; i++) {
		known[i] = quota_cache_lookup(qc, cur, &c[i].key, now, &v);
		cnt[i] = v.count;
	}
	quota_cache_end(qc);
	for (int i = 0; i < n && r >= 0; i++) {
		if (known[i])
			continue;
		if (rt == NULL && (rt = db_read_begin(quota_db(q), err,
		    errlen)) == NULL)
			return -1;
		if ((r = quota_db_get_stored(rt, &c[i].key, &v)) < 0) {
			snprintf(err, errlen, "%s", db_txn_error(rt));
			break;
		}
		quota_cache_fill(qc, db_txn_id(rt), &c[i].key, r, &v);
		cnt[i] = r > 0 && now >= v.start && now < v.end ? v.count : 0;
	}
	if (rt != NULL)
		db_read_end(rt);
	return r < 0 ? -1 : 0;
}

/* This transaction's reservation of counter k, or NULL. */
static struct qitem *
qitem_find(const struct quota_txn *qt, const struct quota_key *k)
{
	for (size_t i = 0; i < qt->nitems; i++)
		if (qt->items[i].key.hash == k->hash &&
		    qt->items[i].key.len == k->len &&
		    memcmp(qt->items[i].key.buf, k->buf, k->len) == 0)
			return &qt->items[i];
	return NULL;
}

/*
 * Check the candidates against committed plus pending counts and reserve
 * them, under the lock of the customer's part of the pending table.
 * Pending counts are read before the committed ones: a charge that
 * commits in between is then counted twice (a refusal that a retry
 * clears) but never missed (a reservation is given back only after its
 * charge's commit reached the cache).
 * Returns the index of the first enforced candidate over its limit, -1 if
 * all were reserved, -2 on a database error (err set).
 */
static int
quota_reserve(struct session *s, struct quota_txn *qt, struct qitem *c,
    int n, int64_t now, char *err, size_t errlen)
{
	uint64_t pend[QCAND_MAX], cnt[QCAND_MAX];
	int over = -1;

	quota_lock(qt->part);
	for (int i = 0; i < n; i++)
		pend[i] = quota_pending(qt->part, &c[i].key);
	if (quota_committed(qt->q, c, n, now, cnt, err, errlen) < 0) {
		quota_unlock(qt->part);
		return -2;
	}
	for (int i = 0; i < n; i++) {
		c[i].old = cnt[i] + pend[i];
		c[i].over = c[i].old + c[i].n > c[i].limit ||
		    c[i].old + c[i].n < c[i].old;
		if (c[i].over && c[i].enforce && over < 0)
			over = i;
	}
	if (over >= 0) {
		quota_unlock(qt->part);
		return over;
	}
	for (int i = 0; i < n; i++)
		quota_pending_add(qt->part, &c[i].key, (int64_t)c[i].n);
	quota_unlock(qt->part);
	for (int i = 0; i < n; i++) {
		struct qitem *same;

		/* The daily count of 5 recipients: one item of 5. */
		if (c[i].kind == QUOTA_RCPTS_DAY &&
		    (same = qitem_find(qt, &c[i].key)) != NULL) {
			same->n += c[i].n;
			continue;
		}
		if (qt->nitems == qt->items_cap) {
			qt->items_cap = qt->items_cap == 0 ? 8 :
			    2 * qt->items_cap;
			qt->items = xrealloc(qt->items, qt->items_cap *
			    sizeof(*qt->items));
		}
		qitem_copy(&qt->items[qt->nitems++], &c[i]);
		if (c[i].kind == QUOTA_MSGS_HOUR)
			qt->msg_reserved = 1;
	}
	qt->nrcpts++;
	return -1;
}

/* The login plan's own per-transaction cap (the customer's is rcpt_cap's). */
static int
quota_login_cap(struct txn *t, const struct quota_txn *qt, struct verdict *v)
{
	uint64_t cap;

	if (qt->nsc < 2)
		return 0;
	cap = qt->sc[1].plan.lim[PLAN_MAX_RCPTS_PER_MSG];
	if (t->nrcpts < cap)
		return 0;
	return txn_violation(t, v, RULE_RCPT_CAP, "452", "4.5.3",
	    "Too many recipients: plan %s allows %llu per message for login "
	    "%s", qt->sc[1].plan.name, (unsigned long long)cap, qt->sc[1].id);
}

int
rule_quota_rcpt(struct session *s, const char *rcpt, const char *norm,
    struct verdict *v)
{
	struct txn *t = s->txn;
	struct quota_txn *qt = t != NULL ? t->quota : NULL;
	struct qitem c[QCAND_MAX];
	int64_t now = (int64_t)time(NULL);
	char err[512];
	int n, over;

	if (qt == NULL || t->db_failed_open)
		return -1;
	if (quota_login_cap(t, qt, v))
		return RULE_RCPT_CAP;
	/* One recipient counts once however it is spelled (AddressRules). */
	if (norm != NULL)
		rcpt = norm;
	n = quota_candidates(t, qt, rcpt, now, c);
	if (n == 0 || qitem_find(qt, &c[n - 1].key) != NULL)
		return -1;	/* the same recipient, spelled otherwise */
	over = quota_reserve(s, qt, c, n, now, err, sizeof(err));
	if (over == -2)
		return quota_db_failed(s, v, "reading the counters", err) ?
		    RULE_RATE : -1;
	if (over >= 0)
		return qitem_violation(t, qt, &c[over], rcpt, v) ?
		    (int)kind_rule(c[over].kind) : -1;
	for (int i = 0; i < n; i++)	/* rules in log mode: record */
		if (c[i].over)
			qitem_violation(t, qt, &c[i], rcpt, v);
	return -1;
}

void
rule_quota_end(struct txn *t)
{
	struct quota_txn *qt = t->quota;

	if (qt == NULL)
		return;
	quota_lock(qt->part);
	for (size_t i = 0; i < qt->nitems; i++)
		quota_pending_add(qt->part, &qt->items[i].key,
		    -(int64_t)qt->items[i].n);
	quota_unlock(qt->part);
	free(qt->items);
	free(qt->charged);
	free(qt);
	t->quota = NULL;
}
