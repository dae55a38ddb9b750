/*
 * dkimcheck - DKIM verification through libopendkim (see dkimcheck.h)
 *
 * One DKIM_LIB for the process, made under pthread_once, with two
 * callbacks: the key lookup (our resolver instead of libopendkim's DNS)
 * and the prescreen, which marks every signature past the cap "ignore"
 * before any key is fetched. Per message, a DKIM handle carries our
 * struct dkimcheck as its user context, which the callbacks use to reach
 * the resolver and to note DNS failures (libopendkim reports a failed
 * callback only as a status, so we keep the reason ourselves).
 *
 * Headers are given to libopendkim as "Name: value" with CRLF line ends,
 * as OpenDKIM's filter rebuilds them from the milter's header events.
 * Ownership: the DKIM handle is freed by dkimcheck_free(). Threads: see
 * dkimcheck.h.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <opendkim/dkim.h>

#include "dkimcheck.h"
#include "log.h"
#include "resolver.h"
#include "strbuf.h"
#include "xalloc.h"

#define DKIMCHECK_FAILS_MAX	8	/* DNS failures remembered */

struct dkimcheck_dnsfail {
	char	name[400];	/* selector._domainkey.domain */
	char	why[128];
};

struct dkimcheck {
	DKIM		*dkim;		/* NULL: libopendkim refused */
	char		 setup_err[160];
	struct resolver	*res;
	int64_t		 deadline_ms;
	size_t		 max_sigs;
	int		 eoh_done;
	int		 nosig;		/* dkim_eoh said: no signature */
	char		 eoh_err[160];	/* dkim_eoh failed otherwise */
	struct dkimcheck_dnsfail fails[DKIMCHECK_FAILS_MAX];
	size_t		 nfails;
	struct dkimcheck_sig *sigs;
	size_t		 nsigs;
};

static pthread_once_t dkimcheck_once = PTHREAD_ONCE_INIT;
static DKIM_LIB *dkimcheck_lib;

const char *
dkimcheck_result_name(enum dkimcheck_result r)
{
	static const char *const names[] = { "pass", "fail", "permerror",
	    "temperror", "skipped" };

	return (unsigned)r <= DKIMCHECK_SKIPPED ? names[r] : "permerror";
}

/* The key lookup: selector._domainkey.domain TXT through our resolver. */
static DKIM_CBSTAT
dkimcheck_key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf,
    size_t buflen)
{
	struct dkimcheck *d = dkim_get_user_context(dkim);
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	struct resolver_answer *a = NULL;
	enum resolver_status st;
	char name[256];
	DKIM_CBSTAT rc;

	if (d == NULL || sel == NULL || dom == NULL || buflen < 2)
		return DKIM_CBSTAT_ERROR;
	if ((size_t)snprintf(name, sizeof(name), "%s._domainkey.%s", sel,
	    dom) >= sizeof(name))
		return DKIM_CBSTAT_NOTFOUND;
	st = resolver_lookup(d->res, name, RESOLVER_TXT, d->deadline_ms, &a);
	switch (st) {
	case RESOLVER_OK: {
		size_t n = a->rr[0].textlen < buflen - 1 ? a->rr[0].textlen :
		    buflen - 1;

		memcpy(buf, a->rr[0].text, n);
		buf[n] = '\0';
		rc = DKIM_CBSTAT_CONTINUE;
		break;
	}
	case RESOLVER_TEMPFAIL:
		if (d->nfails < DKIMCHECK_FAILS_MAX) {
			struct dkimcheck_dnsfail *f = &d->fails[d->nfails++];

			snprintf(f->name, sizeof(f->name), "%s", name);
			snprintf(f->why, sizeof(f->why), "%s", a->why);
		}
		rc = DKIM_CBSTAT_TRYAGAIN;
		break;
	default:
		rc = DKIM_CBSTAT_NOTFOUND;
		break;
	}
	resolver_answer_free(a);
	return rc;
}

/* Before any key is fetched: verify at most max_sigs signatures. */
static DKIM_CBSTAT
dkimcheck_prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	struct dkimcheck *d = dkim_get_user_context(dkim);

	for (int i = 0; d != NULL && i < nsigs; i++)
		if ((size_t)i >= d->max_sigs)
			dkim_sig_ignore(sigs[i]);
	return DKIM_CBSTAT_CONTINUE;
}

static void
dkimcheck_init(void)
{
	dkimcheck_lib = dkim_init(NULL, NULL);
	if (dkimcheck_lib == NULL)
		return;
	(void)dkim_set_key_lookup(dkimcheck_lib, dkimcheck_key_lookup);
	(void)dkim_set_prescreen(dkimcheck_lib, dkimcheck_prescreen);
}

struct dkimcheck *
dkimcheck_new(struct resolver *res, size_t max_sigs, const char *id)
{
	struct dkimcheck *d = xcalloc(1, sizeof(*d));
	DKIM_STAT st = DKIM_STAT_INTERNAL;

	pthread_once(&dkimcheck_once, dkimcheck_init);
	d->res = res;
	d->max_sigs = max_sigs;
	if (dkimcheck_lib != NULL)
		d->dkim = dkim_verify(dkimcheck_lib,
		    (const unsigned char *)id, NULL, &st);
	if (d->dkim == NULL)
		snprintf(d->setup_err, sizeof(d->setup_err), "libopendkim "
		    "unavailable: %s", dkim_getresultstr(st));
	else
		(void)dkim_set_user_context(d->dkim, d);
	return d;
}

void
dkimcheck_header(struct dkimcheck *d, const char *name, const char *value)
{
	struct strbuf sb;

	if (d->dkim == NULL || d->eoh_done)
		return;
	strbuf_init(&sb, strlen(name) + strlen(value) + 16);
	strbuf_adds(&sb, name);
	strbuf_adds(&sb, ": ");
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\n' && (p == value || p[-1] != '\r'))
			strbuf_addc(&sb, '\r');
		strbuf_addc(&sb, *p);
	}
	(void)dkim_header(d->dkim, (u_char *)sb.s, sb.len);
	strbuf_free(&sb);
}

static void
dkimcheck_eoh(struct dkimcheck *d)
{
	DKIM_STAT st;

	if (d->eoh_done || d->dkim == NULL)
		return;
	d->eoh_done = 1;
	st = dkim_eoh(d->dkim);
	if (st == DKIM_STAT_NOSIG)
		d->nosig = 1;
	else if (st != DKIM_STAT_OK) {
		const char *e = dkim_geterror(d->dkim);

		snprintf(d->eoh_err, sizeof(d->eoh_err), "%s",
		    e != NULL && *e != '\0' ? e : dkim_getresultstr(st));
	}
}

void
dkimcheck_body(struct dkimcheck *d, const unsigned char *p, size_t len)
{
	dkimcheck_eoh(d);
	if (d->dkim == NULL || d->nosig || d->eoh_err[0] != '\0' || len == 0)
		return;
	(void)dkim_body(d->dkim, (u_char *)p, len);
}

/* The DNS failure noted for sig's key, or NULL. */
static const char *
dkimcheck_dnsfail(const struct dkimcheck *d, const struct dkimcheck_sig *r)
{
	char name[400];

	snprintf(name, sizeof(name), "%s._domainkey.%s", r->selector,
	    r->domain);
	for (size_t i = 0; i < d->nfails; i++)
		if (strcasecmp(d->fails[i].name, name) == 0)
			return d->fails[i].why;
	return NULL;
}

static void
dkimcheck_judge(const struct dkimcheck *d, DKIM_SIGINFO *sig,
    struct dkimcheck_sig *r)
{
	unsigned flags = dkim_sig_getflags(sig);
	int err = dkim_sig_geterror(sig), bh = dkim_sig_getbh(sig);
	const char *dns;

	if (flags & DKIM_SIGFLAG_IGNORE) {
		r->result = DKIMCHECK_SKIPPED;
		snprintf(r->reason, sizeof(r->reason), "over the limit of %zu "
		    "signatures verified per message", d->max_sigs);
	} else if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH) {
		r->result = DKIMCHECK_PASS;
		snprintf(r->reason, sizeof(r->reason), "signature verified");
	} else if ((dns = dkimcheck_dnsfail(d, r)) != NULL) {
		r->result = DKIMCHECK_TEMPERROR;
		snprintf(r->reason, sizeof(r->reason), "key lookup failed: %s",
		    dns);
	} else if (bh == DKIM_SIGBH_MISMATCH) {
		r->result = DKIMCHECK_FAIL;
		snprintf(r->reason, sizeof(r->reason), "body hash does not "
		    "match (body altered)");
	} else if (err == DKIM_SIGERROR_BADSIG || (err == DKIM_SIGERROR_OK &&
	    (flags & DKIM_SIGFLAG_PROCESSED) && !(flags &
	    DKIM_SIGFLAG_PASSED))) {
		r->result = DKIMCHECK_FAIL;
		snprintf(r->reason, sizeof(r->reason), "signature does not "
		    "verify (message altered or wrong key)");
	} else {
		r->result = DKIMCHECK_PERMERROR;
		snprintf(r->reason, sizeof(r->reason), "%s",
		    err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_UNKNOWN ?
		    "key not found or unusable" : dkim_sig_geterrorstr(err));
	}
}

size_t
dkimcheck_finish(struct dkimcheck *d, int64_t deadline_ms,
    const struct dkimcheck_sig **sigs)
{
	DKIM_SIGINFO **list = NULL;
	int n = 0;

	*sigs = NULL;
	d->deadline_ms = deadline_ms;
	dkimcheck_eoh(d);
	if (d->dkim == NULL || d->nosig)
		return 0;
	if (d->eoh_err[0] == '\0')
		(void)dkim_eom(d->dkim, NULL);
	if (dkim_getsiglist(d->dkim, &list, &n) != DKIM_STAT_OK || n <= 0)
		return 0;
	d->sigs = xcalloc((size_t)n, sizeof(*d->sigs));
	for (int i = 0; i < n; i++) {
		struct dkimcheck_sig *r = &d->sigs[i];
		const char *dom = (const char *)dkim_sig_getdomain(list[i]);
		const char *sel = (const char *)dkim_sig_getselector(list[i]);

		snprintf(r->domain, sizeof(r->domain), "%s",
		    dom != NULL ? dom : "");
		for (char *p = r->domain; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		snprintf(r->selector, sizeof(r->selector), "%s",
		    sel != NULL ? sel : "");
		if (d->eoh_err[0] != '\0') {
			r->result = DKIMCHECK_PERMERROR;
			snprintf(r->reason, sizeof(r->reason), "%s",
			    d->eoh_err);
		} else
			dkimcheck_judge(d, list[i], r);
	}
	d->nsigs = (size_t)n;
	*sigs = d->sigs;
	return d->nsigs;
}

void
dkimcheck_free(struct dkimcheck *d)
{
	if (d == NULL)
		return;
	if (d->dkim != NULL)
		dkim_free(d->dkim);
	free(d->sigs);
	free(d);
}
