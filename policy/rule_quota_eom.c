/*
 * rule_quota_eom - the quota charge at end of message (see quota.h and
 * rule_quota.c): every counter the transaction reserved, plus the
 * per-send ones, checked against the committed counts and charged in one
 * shared write transaction (db_batch.h), warn records, and the refund of
 * a charge whose message was not accepted after all.
 *
 * Ownership: the charged items stay on the quota_txn for a refund until
 * rule_quota_end(). Threads: per-session state, plus the shared struct
 * quota. Errors: database failures follow DatabaseFailure (quota.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evidence.h"
#include "log.h"
#include "rule_quota_priv.h"
#include "sha256.h"
#include "txn.h"
#include "window.h"
#include "xalloc.h"

struct quota_charge {
	struct quota	*q;
	struct qitem	*items;
	struct qitem	**order;	/* the items in key order */
	size_t		 n;
	int64_t		 now;
	long		 over;		/* out: enforced item over, or -1 */
};

/* qsort: quota items by key (bytes, then length). */
static int
qitem_key_cmp(const void *a, const void *b)
{
	const struct quota_key *x = &(*(struct qitem *const *)a)->key;
	const struct quota_key *y = &(*(struct qitem *const *)b)->key;
	int c = memcmp(x->buf, y->buf, x->len < y->len ? x->len : y->len);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/*
 * Check every item against the committed counts, then charge them all.
 * While the transaction has written nothing (the first of its batch to
 * write) it sees the last commit, which the cache knows when it is
 * current: counts come from there where it can tell.
 */
static int
quota_charge_txn(struct db_txn *txn, void *arg)
{
	struct quota_charge *ch = arg;
	struct quota_cache *qc = quota_counters_cache(ch->q);
	struct quota_counter c;

	ch->over = -1;
	if (!db_txn_dirty(txn)) {
		int cur = quota_cache_begin(qc, ch->now);

		for (size_t i = 0; i < ch->n && cur; i++)
			quota_cache_prefetch(qc, &ch->items[i].key, ch->now);
		for (size_t i = 0; i < ch->n; i++)
			ch->items[i].known = quota_cache_lookup(qc, cur,
			    &ch->items[i].key, ch->now, &ch->items[i].cur);
		quota_cache_end(qc);
	} else
		for (size_t i = 0; i < ch->n; i++)
			ch->items[i].known = 0;
	for (size_t i = 0; i < ch->n; i++) {
		struct qitem *it = &ch->items[i];

		if (!it->known &&
		    quota_db_get(txn, &it->key, ch->now, &it->cur) < 0)
			return -1;
		it->old = it->cur.count;
		it->over = it->old + it->n > it->limit ||
		    it->old + it->n < it->old;
		if (it->over && it->enforce) {
			ch->over = (long)i;
			return 0;	/* nothing written: nothing charged */
		}
	}
	/*
	 * Written in key order: a customer's counters lie together in the
	 * table, and a write that lands on the page of the one before skips
	 * the descent from the root (db_put).
	 */
	for (size_t i = 0; i < ch->n; i++)
		ch->order[i] = &ch->items[i];
	qsort(ch->order, ch->n, sizeof(*ch->order), qitem_key_cmp);
	for (size_t i = 0; i < ch->n; i++) {
		struct qitem *it = ch->order[i];

		if (quota_db_charge(txn, &it->key, &it->cur, it->n, it->start,
		    it->end, &c) < 0)
			return -1;
		it->now = c.count;
		it->cstart = c.start;
		it->cend = c.end;
	}
	return 0;
}

/* Committed: what the charge wrote, into the cache. */
static void
quota_charge_committed(void *arg, uint64_t txnid)
{
	struct quota_charge *ch = arg;
	struct quota_cache *qc = quota_counters_cache(ch->q);

	quota_cache_commit_begin(qc, txnid, ch->now);
	for (size_t i = 0; ch->over < 0 && i < ch->n; i++)
		quota_cache_prefetch(qc, &ch->items[i].key, ch->now);
	for (size_t i = 0; ch->over < 0 && i < ch->n; i++) {
		struct quota_counter c = { ch->items[i].now,
		    ch->items[i].cstart, ch->items[i].cend };

		quota_cache_put(qc, &ch->items[i].key, &c);
	}
	quota_cache_commit_end(qc);
}

/* The reserved items, re-windowed at now, plus the per-send counters. */
static size_t
quota_charge_list(struct txn *t, struct quota_txn *qt, int64_t now,
    struct qitem **out)
{
	struct qitem *v = xmalloc((qt->nitems + QSCOPE_MAX) * sizeof(*v));
	char hash[SHA256_HEX_LEN + 1];
	size_t n = 0;

	/* One item per counter already (quota_reserve merges). */
	for (size_t i = 0; i < qt->nitems; i++) {
		qitem_copy(&v[n], &qt->items[i]);
		qitem_window(&v[n++], now);
	}
	if (t->message_id != NULL && *t->message_id != '\0') {
		sha256_hex(t->message_id, strlen(t->message_id), hash);
		hash[32] = '\0';
		for (int i = 0; i < qt->nsc; i++)
			if (qitem_make(qt, t, &v[n], i, QUOTA_SEND, hash,
			    qt->nrcpts, now) == 0)
				n++;
	}
	*out = v;
	return n;
}

/* Recipient of a QUOTA_RCPT_HOUR item, from its key tail. */
static const char *
qitem_rcpt(const struct qitem *it, char *buf, size_t len)
{
	const uint8_t *nul = memchr(it->key.buf + 1, '\0', it->key.len - 1);
	size_t off = (size_t)(nul - it->key.buf) + 2;

	snprintf(buf, len, "%.*s", (int)(it->key.len - off),
	    (const char *)it->key.buf + off);
	return buf;
}

/* A "warn" evidence record when a charge crosses warn_percent. */
static void
quota_warn(struct session *s, const struct quota_txn *qt,
    const struct qitem *it)
{
	const struct qscope *sc = &qt->sc[it->sc];
	uint64_t pct = sc->plan.lim[PLAN_WARN_PERCENT];
	unsigned __int128 mark = (unsigned __int128)it->limit * pct;
	char err[512], when[32];
	struct evrec r;

	if ((it->kind != QUOTA_MSGS_HOUR && it->kind != QUOTA_RCPTS_DAY) ||
	    pct == 0 || it->limit == 0 ||
	    (unsigned __int128)it->old * 100 >= mark ||
	    (unsigned __int128)it->now * 100 < mark)
		return;
	evrec_begin(&r, "warn", s->txn->ref);
	evrec_str(&r, "customer", s->txn->cust.id);
	evrec_str(&r, "login", sc->scope == QUOTA_LOGIN ? sc->id : NULL);
	evrec_str(&r, "rule", "rate");
	evrec_str(&r, "counter", quota_kind_name(it->kind));
	evrec_int(&r, "value", (long long)it->now);
	evrec_int(&r, "limit", (long long)it->limit);
	evrec_int(&r, "warn_percent", (long long)pct);
	evrec_str(&r, "plan", sc->plan.name);
	evrec_str(&r, "resets", window_time_text(it->end, when,
	    sizeof(when)));
	if (evidence_append(s->eng->ev, &r, err, sizeof(err)) < 0)
		log_msg(LOG_ERR, s->logid, "evidence: warn record not "
		    "written: %s", err);
	log_msg(LOG_NOTICE, s->logid, "ref=%s warn %s %s %s=%" PRIu64 "/%"
	    PRIu64 " (%" PRIu64 "%%)", s->txn->ref, scope_word(sc->scope),
	    sc->id, quota_kind_name(it->kind), it->now, it->limit, pct);
	evrec_free(&r);
}

int
rule_quota_eom(struct session *s, struct verdict *v)
{
	struct txn *t = s->txn;
	struct quota_txn *qt = t != NULL ? t->quota : NULL;
	struct quota_charge ch;
	char err[512], rcpt[QUOTA_KEY_MAX];
	int refused = -1, rc;

	if (qt == NULL || t->db_failed_open)
		return -1;
	if (quota_size_check(t, qt, t->size, v))
		return RULE_MSG_SIZE;
	if (qt->nrcpts == 0)
		return -1;	/* nothing reserved, nothing to charge */
	ch.q = qt->q;
	ch.now = (int64_t)time(NULL);
	ch.n = quota_charge_list(t, qt, ch.now, &ch.items);
	ch.order = xmalloc(ch.n * sizeof(*ch.order) + 1);
	rc = quota_write(qt->q, quota_charge_txn, quota_charge_committed, &ch,
	    err, sizeof(err));
	free(ch.order);
	if (rc < 0) {
		free(ch.items);
		return quota_db_failed(s, v, "charging the counters", err) ?
		    RULE_RATE : -1;
	}
	for (size_t i = 0; i < ch.n && refused < 0; i++) {
		const struct qitem *it = &ch.items[i];

		if (!it->over || (ch.over >= 0 && (size_t)ch.over != i))
			continue;
		if (qitem_violation(t, qt, it, it->kind == QUOTA_RCPT_HOUR ?
		    qitem_rcpt(it, rcpt, sizeof(rcpt)) : NULL, v))
			refused = (int)kind_rule(it->kind);
	}
	for (size_t i = 0; ch.over < 0 && i < ch.n; i++)
		quota_warn(s, qt, &ch.items[i]);
	if (ch.over < 0 && refused < 0) {	/* charged: kept for a refund */
		qt->charged = ch.items;
		qt->ncharged = ch.n;
	} else
		free(ch.items);
	quota_maybe_reclaim(qt->q, ch.now, s->logid);
	return refused;
}

struct quota_refund {
	struct quota		*q;
	const struct qitem	*items;
	size_t			 n;
	int64_t			 now;
};

static int
quota_refund_txn(struct db_txn *txn, void *arg)
{
	const struct quota_refund *rf = arg;

	for (size_t i = 0; i < rf->n; i++)
		if (quota_db_sub(txn, &rf->items[i].key, rf->items[i].n,
		    rf->items[i].cstart, rf->items[i].cend) < 0)
			return -1;
	return 0;
}

/* Committed: the counters refunded are forgotten, then read again. */
static void
quota_refund_committed(void *arg, uint64_t txnid)
{
	const struct quota_refund *rf = arg;
	struct quota_cache *qc = quota_counters_cache(rf->q);

	quota_cache_commit_begin(qc, txnid, rf->now);
	for (size_t i = 0; i < rf->n; i++)
		quota_cache_drop(qc, &rf->items[i].key);
	quota_cache_commit_end(qc);
}

void
rule_quota_refund(struct session *s)
{
	struct quota_txn *qt = s->txn != NULL ? s->txn->quota : NULL;
	struct quota_refund rf;
	char err[512];

	if (qt == NULL || qt->charged == NULL)
		return;
	rf.q = qt->q;
	rf.items = qt->charged;
	rf.n = qt->ncharged;
	rf.now = (int64_t)time(NULL);
	if (quota_write(qt->q, quota_refund_txn, quota_refund_committed, &rf,
	    err, sizeof(err)) < 0)
		log_msg(LOG_ERR, s->logid, "ref=%s quota refund failed, the "
		    "tempfailed message stays charged: %s", s->txn->ref, err);
	free(qt->charged);
	qt->charged = NULL;
	qt->ncharged = 0;
}
