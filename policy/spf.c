/*
 * spf - SPF through libspf2 over our resolver (see spf.h)
 *
 * libspf2 lets a program supply a DNS layer (SPF_dns_server_t, spf_dns.h):
 * its lookup() returns an SPF_dns_rr_t built with libspf2's own
 * allocators, which libspf2 frees. Ours answers from lists/resolver and
 * keeps per-evaluation counts (void lookups, DNS failures) in a context
 * that lives on the caller's stack for one evaluation. The SPF record
 * type (99) is obsolete (RFC 7208 3.1) and is answered "no data" without
 * asking. libspf2's log handlers are pointed at our log module once, so
 * nothing reaches stderr.
 *
 * Ownership: every libspf2 object is created and freed inside
 * spf_check(). Threads: each evaluation has its own server, request and
 * DNS layer; the handlers are set under pthread_once.
 */
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>

#include "log.h"
#include "spf.h"

#define SPF_VOID_MAX	2	/* RFC 7208 4.6.4 */

struct spf_ctx {
	SPF_dns_server_t layer;		/* must stay first: libspf2 sees it */
	struct resolver	*res;
	int64_t		 deadline_ms;
	int		 txt_lookups;
	int		 voids;
	int		 tempfail;
	char		 tempwhy[192];
};

static pthread_once_t spf_once = PTHREAD_ONCE_INIT;

static void spf_log_error(const char *, int, const char *)
    __attribute__((noreturn));

static void
spf_log_error(const char *file, int line, const char *msg)
{
	log_msg(LOG_ERR, "spf", "libspf2 internal error at %s:%d: %s",
	    file != NULL ? file : "?", line, msg != NULL ? msg : "");
	abort();
}

static void
spf_log_warning(const char *file, int line, const char *msg)
{
	log_msg(LOG_DEBUG, "spf", "libspf2: %s", msg != NULL ? msg : "");
}

static void
spf_log_quiet(const char *file, int line, const char *msg)
{
}

static void
spf_init_handlers(void)
{
	SPF_error_handler = spf_log_error;
	SPF_warning_handler = spf_log_warning;
	SPF_info_handler = spf_log_quiet;
	SPF_debug_handler = spf_log_quiet;
}

const char *
spf_result_name(enum spf_result r)
{
	static const char *const names[] = { "none", "neutral", "pass",
	    "fail", "softfail", "temperror", "permerror" };

	return (unsigned)r < 7 ? names[r] : "permerror";
}

/* Copy our records into rr; -1 if libspf2 could not allocate. */
static int
spf_fill_rr(SPF_dns_rr_t *rr, const struct resolver_answer *a,
    enum resolver_type type)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct resolver_rr *r = &a->rr[i];
		size_t len;

		if (type == RESOLVER_A || type == RESOLVER_AAAA)
			len = type == RESOLVER_A ? 4 : 16;
		else if (type == RESOLVER_TXT)
			len = r->textlen + 1;
		else
			len = strlen(r->name) + 1;
		if (SPF_dns_rr_buf_realloc(rr, (int)i, len) != SPF_E_SUCCESS)
			return -1;
		if (type == RESOLVER_A)
			memcpy(&rr->rr[i]->a, r->addr, 4);
		else if (type == RESOLVER_AAAA)
			memcpy(&rr->rr[i]->aaaa, r->addr, 16);
		else if (type == RESOLVER_TXT)
			memcpy(rr->rr[i]->txt, r->text, r->textlen + 1);
		else
			memcpy(rr->rr[i]->mx, r->name, len);
		rr->num_rr = (int)i + 1;
	}
	return 0;
}

/* The DNS layer's lookup: our resolver, in libspf2's types. */
static SPF_dns_rr_t *
spf_dns_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type,
    int should_cache)
{
	struct spf_ctx *ctx = layer->hook;
	struct resolver_answer *a = NULL;
	enum resolver_type rtype;
	SPF_dns_rr_t *rr;
	int herrno;

	switch ((int)type) {
	case ns_t_a:	rtype = RESOLVER_A; break;
	case ns_t_aaaa:	rtype = RESOLVER_AAAA; break;
	case ns_t_mx:	rtype = RESOLVER_MX; break;
	case ns_t_txt:	rtype = RESOLVER_TXT; break;
	case ns_t_ptr:	rtype = RESOLVER_PTR; break;
	default:	/* type SPF (99) and anything else: no data */
		return SPF_dns_rr_new_init(layer, domain, type, 0, NO_DATA);
	}
	switch (resolver_lookup(ctx->res, domain, rtype, ctx->deadline_ms,
	    &a)) {
	case RESOLVER_OK:
		herrno = NETDB_SUCCESS;
		break;
	case RESOLVER_NODATA:
		herrno = NO_DATA;
		break;
	case RESOLVER_TEMPFAIL:
		herrno = TRY_AGAIN;
		if (!ctx->tempfail)
			snprintf(ctx->tempwhy, sizeof(ctx->tempwhy), "%s %s: "
			    "%s", resolver_type_name(rtype), domain, a->why);
		ctx->tempfail = 1;
		break;
	default:	/* NXDOMAIN, or a name that cannot exist */
		herrno = HOST_NOT_FOUND;
		break;
	}
	/* Void lookups: every empty answer but the first record lookup. */
	if ((herrno == NO_DATA || herrno == HOST_NOT_FOUND) &&
	    (rtype != RESOLVER_TXT || ctx->txt_lookups > 0))
		ctx->voids++;
	if (rtype == RESOLVER_TXT)
		ctx->txt_lookups++;
	rr = SPF_dns_rr_new_init(layer, domain, type, (int)a->ttl, herrno);
	if (rr != NULL && herrno == NETDB_SUCCESS &&
	    spf_fill_rr(rr, a, rtype) < 0) {
		SPF_dns_rr_free(rr);
		rr = SPF_dns_rr_new_init(layer, domain, type, 0, TRY_AGAIN);
		ctx->tempfail = 1;
		snprintf(ctx->tempwhy, sizeof(ctx->tempwhy), "out of memory");
	}
	resolver_answer_free(a);
	return rr;
}

static enum spf_result
spf_map(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:		return SPF_PASS;
	case SPF_RESULT_FAIL:		return SPF_FAIL;
	case SPF_RESULT_SOFTFAIL:	return SPF_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:	return SPF_NEUTRAL;
	case SPF_RESULT_NONE:		return SPF_NONE;
	case SPF_RESULT_TEMPERROR:	return SPF_TEMPERROR;
	default:			return SPF_PERMERROR;
	}
}

/* Set up the request; 0, or -1 with out->detail set. */
static int
spf_request(SPF_request_t *req, const struct cidr *client, const char *helo,
    const char *sender, struct spf_outcome *out)
{
	SPF_errcode_t e;

	if (client->family == CIDR_V4) {
		struct in_addr in;

		memcpy(&in, client->addr, 4);
		e = SPF_request_set_ipv4(req, in);
	} else {
		struct in6_addr in6;

		memcpy(&in6, client->addr, 16);
		e = SPF_request_set_ipv6(req, in6);
	}
	if (e == SPF_E_SUCCESS && helo != NULL && *helo != '\0')
		e = SPF_request_set_helo_dom(req, helo);
	if (e == SPF_E_SUCCESS && SPF_request_set_env_from(req, sender) != 0)
		e = SPF_E_INVALID_CHAR;
	if (e != SPF_E_SUCCESS) {
		snprintf(out->detail, sizeof(out->detail), "cannot evaluate: "
		    "%s", SPF_strerror(e));
		return -1;
	}
	return 0;
}

static void
spf_finish(struct spf_ctx *ctx, SPF_response_t *resp, struct spf_outcome *out)
{
	const char *comment = SPF_response_get_smtp_comment(resp);

	out->result = spf_map(SPF_response_result(resp));
	if (ctx->tempfail) {
		out->result = SPF_TEMPERROR;
		snprintf(out->detail, sizeof(out->detail), "DNS failure: %s",
		    ctx->tempwhy);
	} else if (ctx->voids > SPF_VOID_MAX) {
		out->result = SPF_PERMERROR;
		snprintf(out->detail, sizeof(out->detail), "more than %d void "
		    "DNS lookups (RFC 7208 4.6.4)", SPF_VOID_MAX);
	} else if (out->result == SPF_PERMERROR ||
	    SPF_response_errcode(resp) != SPF_E_SUCCESS)
		snprintf(out->detail, sizeof(out->detail), "%s",
		    SPF_strerror(SPF_response_errcode(resp)));
	else if (comment != NULL)
		snprintf(out->detail, sizeof(out->detail), "%s", comment);
	else
		snprintf(out->detail, sizeof(out->detail), "%s",
		    SPF_strreason(SPF_response_reason(resp)));
}

/*
 * SPF_request_query_mailfrom() without its "localhost" free ride: that
 * gives every loopback client a pass, which RFC 7208 does not, and would
 * hide the records of a customer's own servers on loopback. The rest is
 * libspf2's own sequence (spf_request.c): find the record, interpret it.
 */
static SPF_response_t *
spf_query(SPF_server_t *srv, SPF_request_t *req)
{
	SPF_response_t *resp = SPF_response_new(req);
	SPF_record_t *rec = NULL;
	SPF_errcode_t err;

	if (resp == NULL)
		return NULL;
	req->use_helo = 0;
	req->cur_dom = req->env_from_dp;
	err = SPF_server_get_record(srv, req, resp, &rec);
	if (err != SPF_E_SUCCESS) {
		if (rec != NULL)
			SPF_record_free(rec);
		SPF_i_done(resp, resp->result, resp->reason, resp->err);
		return resp;
	}
	resp->spf_record_exp = rec;
	SPF_record_interpret(rec, req, resp, 0);
	SPF_record_free(rec);
	resp->spf_record_exp = NULL;
	return resp;
}

void
spf_check(struct resolver *res, int64_t deadline_ms,
    const struct cidr *client, const char *helo, const char *sender,
    struct spf_outcome *out)
{
	struct spf_ctx ctx;
	SPF_server_t *srv;
	SPF_request_t *req = NULL;
	SPF_response_t *resp = NULL;
	const char *at = strrchr(sender, '@');

	pthread_once(&spf_once, spf_init_handlers);
	memset(out, 0, sizeof(*out));
	out->result = SPF_PERMERROR;
	snprintf(out->domain, sizeof(out->domain), "%s",
	    at != NULL ? at + 1 : helo != NULL ? helo : "");
	memset(&ctx, 0, sizeof(ctx));
	ctx.layer.lookup = spf_dns_lookup;
	ctx.layer.name = "aup-resolver";
	ctx.layer.hook = &ctx;
	ctx.res = res;
	ctx.deadline_ms = deadline_ms;
	if ((srv = SPF_server_new_dns(&ctx.layer, 0)) == NULL ||
	    (req = SPF_request_new(srv)) == NULL) {
		snprintf(out->detail, sizeof(out->detail), "cannot set up "
		    "libspf2");
		out->result = SPF_TEMPERROR;
		goto done;
	}
	if (spf_request(req, client, helo, sender, out) < 0)
		goto done;
	resp = spf_query(srv, req);
	if (resp == NULL) {
		out->result = SPF_TEMPERROR;
		snprintf(out->detail, sizeof(out->detail), "no answer from "
		    "libspf2");
		goto done;
	}
	spf_finish(&ctx, resp, out);
done:
	if (resp != NULL)
		SPF_response_free(resp);
	if (req != NULL)
		SPF_request_free(req);
	if (srv != NULL)
		SPF_server_free(srv);
}
