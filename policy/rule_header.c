/*
 * rule_header - no header forgery, at end of message: header_from, trace
 * and dkim
 *
 * For attributed (outbound) transactions only, like rule_sender.c.
 * Headers are collected as they arrive (rule_header_collect), at most
 * HeaderMaxBytes of them; DKIM-Signature verification is fed the same
 * headers and the body. At end of message, in order:
 *   header_from: exactly one From; From, Sender (at most one) and
 *     Reply-To (at most one) parse as RFC 5322 address lists (rfc5322.h)
 *     of at most HeaderMaxAddresses; every From address and the Sender's
 *     domain is authorized for the customer (an OperatorDomains domain
 *     needs an exact authorization); no From or Sender display name shows
 *     an address of a domain the customer is not authorized for
 *     ("support@bank.example" <x@customer.example>) -> 550 5.7.1.
 *   trace: no Received header names one of RelayHostnames (the provider's
 *     relays) as a host (a submitted message has not been through them:
 *     such a header forges its path) -> 550 5.7.1.
 *   dkim: every DKIM-Signature (at most DKIMMaxSignatures) is verified
 *     through dkimcheck.h; a signature of an authorized domain that
 *     fails -> 550 5.7.1; a key lookup that fails for one tempfails
 *     (451 4.4.3) unless DNSFailure accept. All results go into the
 *     evidence ("dkim").
 * Client-supplied Authentication-Results headers are never read: nothing
 * here trusts what the client says about authentication.
 * A rule in log mode records its violation and the next check runs.
 *
 * Ownership: the txn's header state (t->hdr) is freed by
 * rule_header_free(). Threads: per-session state.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addrnorm.h"
#include "authz.h"
#include "config.h"
#include "custdb.h"
#include "db.h"
#include "dkimcheck.h"
#include "json.h"
#include "log.h"
#include "reply.h"
#include "resolver.h"
#include "rfc5322.h"
#include "strbuf.h"
#include "txn.h"
#include "xalloc.h"

#define HDR_SHOW	80	/* bytes of a header value quoted in a reply */

struct header_txn {
	size_t		 bytes;		/* header bytes seen */
	int		 over;		/* HeaderMaxBytes passed */
	char		*from, *sender, *reply_to;	/* first of each */
	int		 nfrom, nsender, nreply_to;
	struct strbuf	 received;	/* Received values, NUL-separated */
	size_t		 nreceived;
	struct resolver	*res;		/* our reference, for DKIM keys */
	struct dkimcheck *dkim;
	char		*dkim_json;	/* evidence; NULL: not verified */
};

void
rule_header_free(struct txn *t)
{
	struct header_txn *h = t->hdr;

	if (h == NULL)
		return;
	free(h->from);
	free(h->sender);
	free(h->reply_to);
	strbuf_free(&h->received);
	dkimcheck_free(h->dkim);
	resolver_unref(h->res);
	free(h->dkim_json);
	free(h);
	t->hdr = NULL;
}

const char *
rule_header_dkim_json(const struct txn *t)
{
	return t->hdr != NULL ? t->hdr->dkim_json : NULL;
}

static int
header_applies(const struct txn *t)
{
	return t->attr.by != ATTRIB_NONE && !t->db_failed_open;
}

static void
header_keep(char **slot, int *count, const char *value)
{
	if ((*count)++ == 0)
		*slot = xstrdup(value);
}

/* The txn's header state, made at the first header. */
static struct header_txn *
header_state(struct session *s)
{
	struct txn *t = s->txn;
	struct header_txn *h;
	char why[256];

	if (t->hdr != NULL)
		return t->hdr;
	h = t->hdr = xcalloc(1, sizeof(*h));	/* h->received: empty */
	/* The resolver rule_sender.c took for this txn's config, if any:
	 * the one engine_resolver() would give, without its lookup. */
	if (t->res != NULL)
		h->res = resolver_ref(t->res);
	else if ((h->res = engine_resolver(s->eng, t->cfg, why,
	    sizeof(why))) == NULL)
		log_msg(LOG_ERR, s->logid, "resolver: %s", why);
	/* Rule.dkim off: nothing is verified and the evidence says null. */
	if (config_rule_action(t->cfg, RULE_DKIM) != ACTION_OFF)
		h->dkim = dkimcheck_new(h->res,
		    config_dkim_max_signatures(t->cfg), t->ref);
	return h;
}

void
rule_header_collect(struct session *s, const char *name, const char *value)
{
	struct txn *t = s->txn;
	struct header_txn *h;
	size_t n = strlen(name) + strlen(value) + 4;

	if (!header_applies(t))
		return;
	h = header_state(s);
	if (h->over) {
		if (strcasecmp(name, "From") == 0)
			h->nfrom++;	/* counted, not examined */
		return;
	}
	if ((h->bytes += n) > config_header_max_bytes(t->cfg)) {
		h->over = 1;
		log_msg(LOG_NOTICE, s->logid, "ref=%s headers over "
		    "HeaderMaxBytes (%zu): the rest is not examined", t->ref,
		    config_header_max_bytes(t->cfg));
		if (strcasecmp(name, "From") == 0)
			h->nfrom++;
		return;
	}
	if (h->dkim != NULL)
		dkimcheck_header(h->dkim, name, value);
	if (strcasecmp(name, "From") == 0)
		header_keep(&h->from, &h->nfrom, value);
	else if (strcasecmp(name, "Sender") == 0)
		header_keep(&h->sender, &h->nsender, value);
	else if (strcasecmp(name, "Reply-To") == 0)
		header_keep(&h->reply_to, &h->nreply_to, value);
	else if (strcasecmp(name, "Received") == 0) {
		strbuf_add(&h->received, value, strlen(value) + 1);
		h->nreceived++;
	}
}

void
rule_header_body(struct session *s, const unsigned char *p, size_t len)
{
	struct txn *t = s->txn;

	if (t != NULL && t->hdr != NULL && t->hdr->dkim != NULL &&
	    !t->hdr->over)
		dkimcheck_body(t->hdr->dkim, p, len);
}

/*
 * 1 authorized, 0 not, -1 DB error. IDN domains in their A-label form,
 * the one customers' domains are stored in; an OperatorDomains domain
 * must be listed itself, not only through a parent with subdomains.
 */
static int
header_authorized(struct session *s, const char *domain)
{
	char alabel[ADDRNORM_DOMAIN_MAX], err[512];
	int r, exact;

	if (addrnorm_domain(domain, alabel, sizeof(alabel), err,
	    sizeof(err)) < 0)
		return 0;
	r = authz_domain(s, alabel, &exact);
	if (r > 0 && config_is_operator_domain(s->txn->cfg, alabel))
		r = exact;
	return r;
}

/* The value of a header, one line, cut for a reply. */
static void
header_show(const char *v, char *buf, size_t len)
{
	size_t o = 0;

	for (; *v != '\0' && o + 4 < len && o < HDR_SHOW; v++)
		if (*v != '\r' && *v != '\n')
			buf[o++] = *v == '\t' ? ' ' : *v;
	if (*v != '\0' && o + 4 < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
}

/*
 * The domain of an address shown in a display name ("support@bank.example",
 * also with a fullwidth at sign), lower case; 0 none found.
 */
static int
display_domain(const char *disp, char *out, size_t len)
{
	const char *p = disp;

	while (*p != '\0') {
		size_t skip = 0, o = 0;

		if (*p == '@')
			skip = 1;
		else if (strncmp(p, "\xef\xbc\xa0", 3) == 0)	/* U+FF20 */
			skip = 3;
		else if (strncmp(p, "\xef\xb9\xab", 3) == 0)	/* U+FE6B */
			skip = 3;
		if (skip == 0) {
			p++;
			continue;
		}
		p += skip;
		while (*p != '\0' && o + 1 < len && (isalnum((unsigned char)*p)
		    || *p == '-' || *p == '.' || (unsigned char)*p >= 0x80)) {
			out[o++] = (char)tolower((unsigned char)*p);
			p++;
		}
		while (o > 0 && out[o - 1] == '.')
			o--;
		out[o] = '\0';
		if (strchr(out, '.') != NULL)
			return 1;
	}
	return 0;
}

/* Parse one header; 1 refused (v), 0 fine (l filled), -1 DB failure. */
static int
header_parse(struct session *s, const char *hname, const char *value,
    struct rfc5322_list *l, struct verdict *v)
{
	struct txn *t = s->txn;
	char shown[HDR_SHOW + 8];
	enum rfc5322_err e;
	size_t pos = 0;

	e = rfc5322_parse(value, strlen(value),
	    config_header_max_addresses(t->cfg), l, &pos);
	if (e == RFC5322_OK)
		return 0;
	header_show(value, shown, sizeof(shown));
	if (e == RFC5322_EMPTY)
		return txn_violation(t, v, RULE_HEADER_FROM, "550", "5.7.1",
		    "The %s header is empty", hname) ? 1 : 2;
	if (e == RFC5322_TOO_MANY)
		return txn_violation(t, v, RULE_HEADER_FROM, "550", "5.7.1",
		    "The %s header has more than %zu addresses", hname,
		    config_header_max_addresses(t->cfg)) ? 1 : 2;
	return txn_violation(t, v, RULE_HEADER_FROM, "550", "5.7.1",
	    "The %s header does not parse: %s at character %zu of \"%s\"",
	    hname, rfc5322_strerror(e), pos + 1, shown) ? 1 : 2;
}

/* Authorization and display names of From or Sender addresses. */
static int
header_check_addrs(struct session *s, const char *hname,
    const struct rfc5322_list *l, struct verdict *v)
{
	struct txn *t = s->txn;
	char dom[256];
	int r;

	for (size_t i = 0; i < l->n; i++) {
		const struct rfc5322_addr *a = &l->v[i];

		if ((r = a->literal ? 0 : header_authorized(s, a->domain)) < 0)
			return -1;
		if (r == 0 && txn_violation(t, v, RULE_HEADER_FROM, "550",
		    "5.7.1", "%s header address <%s>: domain %s is not "
		    "authorized for customer %s", hname, a->mailbox, a->domain,
		    t->cust.id))
			return 1;
		if (a->display == NULL || !display_domain(a->display, dom,
		    sizeof(dom)))
			continue;
		if ((r = header_authorized(s, dom)) < 0)
			return -1;
		if (r == 0 && txn_violation(t, v, RULE_HEADER_FROM, "550",
		    "5.7.1", "%s header display name shows an address of "
		    "another domain (%s) than its own <%s>", hname, dom,
		    a->mailbox))
			return 1;
	}
	return 0;
}

/* header_from; 1 refused, 0 go on, -1 DB failure. */
static int
header_from_check(struct session *s, struct verdict *v)
{
	struct txn *t = s->txn;
	struct header_txn *h = t->hdr;
	struct rfc5322_list l;
	int r;

	if (h->nfrom == 0)
		return txn_violation(t, v, RULE_HEADER_FROM, "550", "5.7.1",
		    "The message has no From header");
	if (h->nfrom > 1)
		return txn_violation(t, v, RULE_HEADER_FROM, "550", "5.7.1",
		    "The message has %d From headers; exactly one is allowed",
		    h->nfrom);
	if (h->from == NULL)
		return txn_violation(t, v, RULE_HEADER_FROM, "550", "5.7.1",
		    "The From header lies past the first %zu header bytes "
		    "examined", config_header_max_bytes(t->cfg));
	if (h->nsender > 1 && txn_violation(t, v, RULE_HEADER_FROM, "550",
	    "5.7.1", "The message has %d Sender headers; at most one is "
	    "allowed", h->nsender))
		return 1;
	if (h->nreply_to > 1 && txn_violation(t, v, RULE_HEADER_FROM, "550",
	    "5.7.1", "The message has %d Reply-To headers; at most one is "
	    "allowed", h->nreply_to))
		return 1;
	if ((r = header_parse(s, "From", h->from, &l, v)) == 0) {
		if (l.n > 0) {	/* the evidence shows the decoded address */
			free(t->header_from);
			t->header_from = xstrdup(l.v[0].mailbox);
			free(t->header_from_name);
			t->header_from_name = l.v[0].display != NULL ?
			    xstrdup(l.v[0].display) : NULL;
		}
		if (l.n == 0)
			r = txn_violation(t, v, RULE_HEADER_FROM, "550",
			    "5.7.1", "The From header names no mailbox") ?
			    1 : 0;
		else
			r = header_check_addrs(s, "From", &l, v);
	}
	rfc5322_list_free(&l);
	if (r == 1 || r < 0)
		return r;
	if (h->sender != NULL &&
	    (r = header_parse(s, "Sender", h->sender, &l, v)) == 0) {
		if (l.n != 1)
			r = txn_violation(t, v, RULE_HEADER_FROM, "550",
			    "5.7.1", "The Sender header must name exactly one "
			    "mailbox, not %zu", l.n) ? 1 : 0;
		else
			r = header_check_addrs(s, "Sender", &l, v);
	}
	rfc5322_list_free(&l);
	if (r == 1 || r < 0)
		return r;
	if (h->reply_to != NULL)
		r = header_parse(s, "Reply-To", h->reply_to, &l, v);
	rfc5322_list_free(&l);
	return r == 1 ? 1 : 0;
}

/*
 * The host names a Received value mentions (from, by, the parenthesised
 * reverse name and HELO), not the addresses of its "for" clause. 1 and
 * name filled when one is a relay hostname.
 */
static int
trace_names_relay(const struct config *cfg, const char *v, char *name,
    size_t len)
{
	const char *semi = strrchr(v, ';'), *end = semi != NULL ? semi :
	    v + strlen(v), *p = v;

	while (p < end) {
		const char *q = p;
		size_t n;

		while (q < end && (isalnum((unsigned char)*q) || *q == '-' ||
		    *q == '.' || *q == '_'))
			q++;
		n = (size_t)(q - p);
		if (n > 0 && n < len && memchr(p, '.', n) != NULL &&
		    (p == v || p[-1] != '@') && (q == end || *q != '@')) {
			memcpy(name, p, n);
			name[n] = '\0';
			if (config_is_relay_hostname(cfg, name))
				return 1;
		}
		p = q < end ? q + 1 : q;
	}
	return 0;
}

/* trace; 1 refused, 0 go on. */
static int
header_trace_check(struct session *s, struct verdict *v)
{
	struct txn *t = s->txn;
	struct header_txn *h = t->hdr;
	const char *p = h->received.s;
	char name[256];

	for (size_t i = 0; i < h->nreceived; i++, p += strlen(p) + 1)
		if (trace_names_relay(t->cfg, p, name, sizeof(name)) &&
		    txn_violation(t, v, RULE_TRACE, "550", "5.7.1", "Forged "
		    "trace header: Received header %zu claims the message "
		    "passed through %s, a relay of this provider", i + 1, name))
			return 1;
	return 0;
}

static void
dkim_json_add(struct strbuf *sb, const char *dom, const char *sel,
    const char *result, const char *reason)
{
	if (sb->len > 1)
		strbuf_addc(sb, ',');
	strbuf_adds(sb, "{\"domain\":");
	json_cstr(sb, dom);
	strbuf_adds(sb, ",\"selector\":");
	json_cstr(sb, sel);
	strbuf_adds(sb, ",\"result\":");
	json_cstr(sb, result);
	strbuf_adds(sb, ",\"reason\":");
	json_cstr(sb, reason);
	strbuf_addc(sb, '}');
}

/* One signature's verdict; 1 refused, 0 go on, -1 DB failure. */
static int
header_dkim_sig(struct session *s, const struct dkimcheck_sig *g,
    struct verdict *v)
{
	struct txn *t = s->txn;
	int r, open;

	if (g->result != DKIMCHECK_FAIL && g->result != DKIMCHECK_TEMPERROR)
		return 0;
	if (g->domain[0] == '\0' || (r = header_authorized(s, g->domain)) == 0)
		return 0;	/* another domain's signature: recorded only */
	if (r < 0)
		return -1;
	if (g->result == DKIMCHECK_FAIL)
		return txn_violation(t, v, RULE_DKIM, "550", "5.7.1", "DKIM "
		    "signature of %s (selector %s) fails: %s", g->domain,
		    g->selector, g->reason);
	open = config_dns_failure(t->cfg) == FAIL_ACCEPT ||
	    !rule_action_enforced(config_rule_action(t->cfg, RULE_DKIM));
	log_msg(LOG_WARNING, s->logid, "ref=%s rule=dkim dns=\"%s._domainkey."
	    "%s: %s\" %s", t->ref, g->selector, g->domain, g->reason,
	    open ? "failed open (accepted)" : "failed closed (tempfail)");
	if (open)
		return 0;
	reply_set(v, ACTION_TEMPFAIL, "451", "4.4.3", RULE_DKIM, t->ref,
	    "Cannot check the DKIM signature of %s now: %s; try again later",
	    g->domain, g->reason);
	return 1;
}

/* dkim; 1 refused, 0 go on, -1 DB failure. Fills the evidence. */
static int
header_dkim_check(struct session *s, struct verdict *v)
{
	struct txn *t = s->txn;
	struct header_txn *h = t->hdr;
	const struct dkimcheck_sig *sigs;
	struct strbuf sb;
	size_t n;
	int r = 0;

	if (h->dkim == NULL)
		return 0;	/* Rule.dkim off */
	strbuf_init(&sb, 128);
	strbuf_addc(&sb, '[');
	if (h->over) {
		dkim_json_add(&sb, NULL, NULL, "skipped", "headers over "
		    "HeaderMaxBytes");
		n = 0;
	} else
		n = dkimcheck_finish(h->dkim, resolver_now_ms() +
		    (int64_t)config_dns_budget(t->cfg) * 1000, &sigs);
	for (size_t i = 0; i < n; i++)
		dkim_json_add(&sb, sigs[i].domain, sigs[i].selector,
		    dkimcheck_result_name(sigs[i].result), sigs[i].reason);
	strbuf_addc(&sb, ']');
	free(h->dkim_json);
	h->dkim_json = strbuf_detach(&sb);
	for (size_t i = 0; i < n && r == 0; i++)
		r = header_dkim_sig(s, &sigs[i], v);
	return r;
}

int
rule_header_eom(struct session *s, struct verdict *v)
{
	struct txn *t = s->txn;
	int r;

	if (!header_applies(t))
		return -1;
	(void)header_state(s);	/* a message may have no header at all */
	if ((r = header_from_check(s, v)) > 0)
		return RULE_HEADER_FROM;
	if (r == 0 && header_trace_check(s, v))
		return RULE_TRACE;
	if (r == 0 && (r = header_dkim_check(s, v)) > 0)
		return RULE_DKIM;
	if (r < 0) {
		if (config_database_failure(t->cfg) == FAIL_ACCEPT) {
			t->db_failed_open = 1;
			return -1;
		}
		reply_tempfail(v, t->ref, "Policy database unavailable");
		return -1;	/* refused (v), no rule to name */
	}
	return -1;
}
