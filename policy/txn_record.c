/*
 * txn_record - a transaction's evidence record and its syslog line
 *
 * The fields are SPEC's "Required fields of a transaction record", in that
 * order, plus stage, attribution, violations (rules in log mode) and conn.
 * Message bodies are never logged. The syslog line is the key=value
 * summary that admins and fail2ban parse, keyed by the queue id.
 * Threads: per-session; the evidence writer is thread-safe.
 */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "reply.h"
#include "strbuf.h"
#include "txn.h"

static void
record_rcpts(struct evrec *r, const struct txn *t)
{
	struct strbuf sb;

	strbuf_init(&sb, 256);
	strbuf_addc(&sb, '[');
	for (size_t i = 0; i < t->nrcpts; i++) {
		if (i > 0)
			strbuf_addc(&sb, ',');
		json_cstr(&sb, t->rcpts[i]);
	}
	strbuf_addc(&sb, ']');
	evrec_raw(r, "rcpts", sb.s);
	strbuf_reset(&sb);
	strbuf_addc(&sb, '[');
	for (size_t i = 0; i < t->nrejected; i++) {
		if (i > 0)
			strbuf_addc(&sb, ',');
		strbuf_adds(&sb, "{\"rcpt\":");
		json_cstr(&sb, t->rejected[i].rcpt);
		strbuf_adds(&sb, ",\"rule\":");
		json_cstr(&sb, rule_name(t->rejected[i].rule));
		strbuf_adds(&sb, ",\"reply\":");
		json_cstr(&sb, t->rejected[i].reply);
		strbuf_addc(&sb, '}');
	}
	strbuf_addc(&sb, ']');
	evrec_raw(r, "rejected_rcpts", sb.s);
	strbuf_free(&sb);
}

static void
record_extras(struct evrec *r, const struct txn *t)
{
	struct strbuf sb;

	strbuf_init(&sb, 128);
	if (t->attr.by != ATTRIB_NONE) {
		strbuf_adds(&sb, "{\"by\":");
		json_cstr(&sb, attrib_by_name(t->attr.by));
		strbuf_adds(&sb, ",\"value\":");
		json_cstr(&sb, t->attr.via);
		strbuf_adds(&sb, ",\"plan\":");
		json_cstr(&sb, t->plan.name);
		strbuf_addc(&sb, '}');
		evrec_raw(r, "attribution", sb.s);
	} else
		evrec_raw(r, "attribution", "null");
	strbuf_reset(&sb);
	strbuf_addc(&sb, '[');
	for (size_t i = 0; i < t->nobserved; i++) {
		if (i > 0)
			strbuf_addc(&sb, ',');
		strbuf_adds(&sb, "{\"rule\":");
		json_cstr(&sb, rule_name(t->observed[i].rule));
		strbuf_adds(&sb, ",\"action\":\"log\",\"detail\":");
		json_cstr(&sb, t->observed[i].detail);
		strbuf_addc(&sb, '}');
	}
	strbuf_addc(&sb, ']');
	evrec_raw(r, "violations", sb.s);
	if (t->db_failed_open)
		evrec_str(r, "database", "failed-open");
	if (t->dns != NULL)		/* DNS failures, failed open/closed */
		evrec_raw(r, "dns", t->dns);
	if (t->header_from_name != NULL)	/* decoded display name */
		evrec_str(r, "header_from_name", t->header_from_name);
	strbuf_free(&sb);
}

static void
record_syslog(const struct session *s, const struct txn *t,
    const char *action, int rule, const char *reply)
{
	log_msg(LOG_INFO, s->logid, "ref=%s action=%s rule=%s customer=%s "
	    "auth=%s client=%s from=<%s> nrcpt=%zu nrejected=%zu size=%zu%s%s%s",
	    t->ref, action, rule >= 0 ? rule_name((enum rule_id)rule) : "-",
	    t->attr.by != ATTRIB_NONE ? t->cust.id : "-",
	    t->auth != NULL ? t->auth : "-",
	    s->addr_text != NULL ? s->addr_text : "-", t->mail_from,
	    t->nrcpts, t->nrejected, t->size,
	    reply != NULL ? " reply=\"" : "", reply != NULL ? reply : "",
	    reply != NULL ? "\"" : "");
}

int
txn_record(struct session *s, const char *action, const char *stage,
    int rule, const struct verdict *v, char *err, size_t errlen)
{
	const struct txn *t = s->txn;
	char reply[VERDICT_TEXT_MAX + 16];
	struct evrec r;
	int rc;

	if (v != NULL)
		reply_format(v, reply, sizeof(reply));
	evrec_begin(&r, "transaction", t->ref);
	evrec_str(&r, "queue_id", s->queue_id);
	evrec_str(&r, "client_addr", s->addr_text);
	evrec_str(&r, "client_name", s->client_name);
	evrec_str(&r, "helo", s->helo);
	evrec_str(&r, "auth", t->auth);
	evrec_str(&r, "customer", t->attr.by != ATTRIB_NONE ? t->cust.id :
	    NULL);
	evrec_str(&r, "mail_from", t->mail_from);
	record_rcpts(&r, t);
	evrec_str(&r, "header_from", t->header_from);
	evrec_str(&r, "message_id", t->message_id);
	evrec_str(&r, "subject", t->subject);
	if (strcmp(stage, "eom") == 0)
		evrec_int(&r, "size", (long long)t->size);
	else
		evrec_raw(&r, "size", "null");
	evrec_str(&r, "rule", rule >= 0 ? rule_name((enum rule_id)rule) :
	    NULL);
	evrec_str(&r, "action", action);
	evrec_str(&r, "reply", v != NULL ? reply : NULL);
	evrec_raw(&r, "spf", t->spf != NULL ? t->spf : "null");
	evrec_raw(&r, "dkim", rule_header_dkim_json(t) != NULL ?
	    rule_header_dkim_json(t) : "null");
	evrec_str(&r, "stage", stage);
	record_extras(&r, t);
	evrec_str(&r, "conn", s->id);
	rc = evidence_append(s->eng->ev, &r, err, errlen);
	evrec_free(&r);
	record_syslog(s, t, action, rule, v != NULL ? reply : NULL);
	return rc;
}
