/*
 * complaint - match a feedback report to the evidence and act on it (see
 * complaint.h)
 *
 * The evidence is searched with evidence_search() (the same engine as
 * "aupctl evidence search"), once per matching step until one finds an
 * accepted transaction; every candidate line is read with json_field().
 * The database change is one db_write(); the evidence record follows it.
 *
 * Ownership: everything is freed before return. Threads: single caller.
 * Errors: 0 / -1 with err.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "complaint.h"
#include "complaint_db.h"
#include "config.h"
#include "db.h"
#include "errbuf.h"
#include "json.h"
#include "optout_db.h"
#include "strbuf.h"

#define CP_BEFORE_MS	(5LL * 86400 * 1000)	/* a queue's life */
#define CP_AFTER_MS	(10LL * 60 * 1000)	/* clock skew */

/* The best original seen by a search: the last accepted transaction. */
struct cp_find {
	const char	*want_customer;	/* from the token, or NULL */
	int		 found;
	char		 ref[EVIDENCE_REF_LEN + 1];
	char		 customer[CUSTDB_ID_MAX];
};

static int
cp_field(const char *line, size_t len, const char *key, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	int eq;

	strbuf_init(&sb, 64);
	eq = json_field(line, len, key, &sb) == 1 && strcmp(sb.s, want) == 0;
	strbuf_free(&sb);
	return eq;
}

static int
cp_find_cb(const char *line, size_t len, void *arg)
{
	struct cp_find *f = arg;
	struct strbuf ref = STRBUF_INIT, cust = STRBUF_INIT;

	if (!cp_field(line, len, "event", "transaction") ||
	    !cp_field(line, len, "action", "accept"))
		return 0;
	strbuf_init(&ref, 32);
	strbuf_init(&cust, 64);
	if (json_field(line, len, "ref", &ref) == 1 &&
	    ref.len == EVIDENCE_REF_LEN) {
		if (json_field(line, len, "customer", &cust) != 1)
			strbuf_reset(&cust);
		if ((f->want_customer == NULL ||
		    strcmp(cust.s, f->want_customer) == 0) &&
		    cust.len < sizeof(f->customer)) {
			f->found = 1;
			memcpy(f->ref, ref.s, ref.len + 1);
			memcpy(f->customer, cust.s, cust.len + 1);
		}
	}
	strbuf_free(&ref);
	strbuf_free(&cust);
	return 0;
}

/* Run one query; -1 on error, else whether an original was found. */
static int
cp_search(const char *const *files, int nfiles, const struct ev_query *q,
    struct cp_find *f, char *err, size_t errlen)
{
	f->found = 0;
	if (evidence_search(files, nfiles, q, cp_find_cb, f, err, errlen) < 0)
		return -1;
	return f->found;
}

/* Split "<ref>:<token>"; either may be missing or malformed. */
static void
cp_split_token(const char *v, char *ref, char *token)
{
	const char *colon = v != NULL ? strrchr(v, ':') : NULL;
	size_t rlen;

	ref[0] = token[0] = '\0';
	if (colon == NULL)
		return;
	rlen = (size_t)(colon - v);
	if (rlen == EVIDENCE_REF_LEN)
		snprintf(ref, EVIDENCE_REF_LEN + 1, "%.*s", (int)rlen, v);
	if (strlen(colon + 1) == COMPLAINT_TOKEN_LEN)
		snprintf(token, COMPLAINT_TOKEN_LEN + 1, "%s", colon + 1);
	for (char *p = ref; *p != '\0'; p++)
		if (!isxdigit((unsigned char)*p))
			ref[0] = '\0';
}

/* The customer the token names, into res; -1 on a database error. */
static int
cp_token_customer(struct db *db, const char *token,
    struct complaint_result *res, char *err, size_t errlen)
{
	uint8_t key[COMPLAINT_SECRET_LEN];
	struct db_txn *rt;
	int rc;

	if (token[0] == '\0')
		return 0;
	if ((rt = db_read_begin(db, err, errlen)) == NULL)
		return -1;
	if ((rc = complaint_db_secret(rt, 0, key)) == 1)
		rc = complaint_db_token_lookup(rt, key, token, res->customer);
	if (rc < 0)
		errbuf_set(err, errlen, "%s", db_txn_error(rt));
	db_read_end(rt);
	if (rc == 1)
		res->token_customer = 1;
	return rc < 0 ? -1 : 0;
}

/* The matching steps of complaint.h; -1 on error. */
static int
cp_match(const char *const *files, int nfiles, const struct arf_report *r,
    const char *tref, struct complaint_result *res, char *err,
    size_t errlen)
{
	struct cp_find f = { .want_customer = res->token_customer ?
	    res->customer : NULL };
	struct ev_query q;
	int rc = 0;

	memset(&q, 0, sizeof(q));
	if (tref[0] != '\0') {
		q.ref = tref;
		if ((rc = cp_search(files, nfiles, &q, &f, err, errlen)) != 0)
			res->match = "feedback-token";
	}
	if (rc == 0 && r->message_id != NULL && r->message_id[0] != '\0') {
		memset(&q, 0, sizeof(q));
		q.message_id = r->message_id;
		q.rcpt = r->original_rcpt_to;
		if (q.rcpt != NULL &&
		    (rc = cp_search(files, nfiles, &q, &f, err, errlen)) == 0)
			q.rcpt = NULL;
		if (rc == 0)
			rc = cp_search(files, nfiles, &q, &f, err, errlen);
		if (rc > 0)
			res->match = "message-id";
	}
	if (rc == 0 && r->original_rcpt_to != NULL && r->arrival_ms > 0) {
		memset(&q, 0, sizeof(q));
		q.rcpt = r->original_rcpt_to;
		q.since_ms = r->arrival_ms - CP_BEFORE_MS;
		q.until_ms = r->arrival_ms + CP_AFTER_MS;
		q.ip = r->source_ip;
		if (q.ip != NULL &&
		    (rc = cp_search(files, nfiles, &q, &f, err, errlen)) == 0)
			q.ip = NULL;
		if (rc == 0)
			rc = cp_search(files, nfiles, &q, &f, err, errlen);
		if (rc > 0)
			res->match = q.ip != NULL ? "rcpt-ip-time" :
			    "rcpt-time";
	}
	if (rc <= 0)
		return rc;
	res->matched = 1;
	snprintf(res->orig_ref, sizeof(res->orig_ref), "%s", f.ref);
	if (!res->token_customer)
		snprintf(res->customer, sizeof(res->customer), "%s",
		    f.customer);
	return 0;
}

struct cp_write {
	const struct arf_report	*r;
	struct complaint_result	*res;
	int64_t			 now;
};

static int
cp_write_txn(struct db_txn *txn, void *arg)
{
	struct cp_write *w = arg;
	struct complaint_result *res = w->res;
	struct customer c;
	int rc;

	res->optout = -1;
	res->complaints = -1;
	/* A customer of old evidence may be gone: record, change nothing. */
	if ((rc = custdb_customer_get(txn, res->customer, &c)) <= 0)
		return rc;
	if (res->rcpt[0] != '\0' && (res->optout = optout_add(txn,
	    res->customer, res->rcpt, OPTOUT_SRC_COMPLAINT, w->now,
	    res->ref)) < 0)
		return -1;
	if (complaint_db_add(txn, res->customer, w->now, res->ref,
	    w->r->feedback_type) < 0)
		return -1;
	return (res->complaints = complaint_db_count(txn, res->customer,
	    0)) < 0 ? -1 : 0;
}

static void
cp_record_fields(struct evrec *rec, const struct arf_report *r,
    const struct complaint_result *res)
{
	static const char *const optout[] = { "none", "already-listed",
	    "added" };
	char refs[EVIDENCE_REF_LEN + 8];

	if (res->matched) {
		snprintf(refs, sizeof(refs), "[\"%s\"]", res->orig_ref);
		evrec_raw(rec, "refs", refs);
	} else
		evrec_raw(rec, "refs", "[]");
	evrec_raw(rec, "matched", res->matched ? "true" : "false");
	evrec_str(rec, "match", res->match);
	evrec_str(rec, "customer", res->customer[0] != '\0' ? res->customer :
	    NULL);
	evrec_str(rec, "feedback_type", r->feedback_type);
	evrec_str(rec, "user_agent", r->user_agent);
	evrec_str(rec, "source_ip", r->source_ip);
	evrec_str(rec, "arrival_date", r->arrival_date);
	evrec_str(rec, "rcpt", r->original_rcpt_to);
	evrec_str(rec, "mail_from", r->original_mail_from);
	evrec_str(rec, "message_id", r->message_id);
	evrec_str(rec, "reported_domain", r->reported_domain);
	evrec_str(rec, "reporting_mta", r->reporting_mta);
	evrec_str(rec, "feedback_token", r->token);
	evrec_str(rec, "optout", optout[res->optout + 1]);
	if (res->complaints >= 0)
		evrec_int(rec, "complaints", res->complaints);
	else
		evrec_raw(rec, "complaints", "null");
}

/* The complaining recipient: Original-Rcpt-To, else a lone To. */
static void
cp_rcpt(const struct config *cfg, const struct arf_report *r,
    struct complaint_result *res)
{
	const char *v = r->original_rcpt_to;
	char err[256];

	if (v == NULL && r->orig_to != NULL && strchr(r->orig_to, ',') == NULL)
		v = r->orig_to;
	if (v == NULL || addrnorm_address(config_address_rules(cfg), v,
	    res->rcpt, sizeof(res->rcpt), err, sizeof(err)) < 0)
		res->rcpt[0] = '\0';
}

int
complaint_ingest(struct db *db, struct evidence *ev,
    const struct config *cfg, const char *const *files, int nfiles,
    const struct arf_report *r, struct complaint_result *res, char *err,
    size_t errlen)
{
	char tref[EVIDENCE_REF_LEN + 1], token[COMPLAINT_TOKEN_LEN + 1];
	struct cp_write w = { r, res, evidence_now_ms() };
	struct evrec rec;
	int rc;

	memset(res, 0, sizeof(*res));
	res->optout = -1;
	res->complaints = -1;
	evidence_new_ref(res->ref);
	cp_split_token(r->token, tref, token);
	if (cp_token_customer(db, token, res, err, errlen) < 0 ||
	    cp_match(files, nfiles, r, tref, res, err, errlen) < 0)
		return -1;
	cp_rcpt(cfg, r, res);
	if (res->customer[0] != '\0' &&
	    db_write(db, cp_write_txn, &w, err, errlen) < 0)
		return -1;
	evrec_begin(&rec, "complaint", res->ref);
	cp_record_fields(&rec, r, res);
	rc = evidence_append(ev, &rec, err, errlen);
	evrec_free(&rec);
	return rc;
}
