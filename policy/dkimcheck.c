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
 * Most mail has no DKIM-Signature, and for it libopendkim finds nothing
 * to verify (dkim_eoh says DKIM_STAT_NOSIG). So the libopendkim handle is
 * made only when a header named DKIM-Signature arrives: until then the
 * headers are kept, formatted, and replayed in order into the new handle;
 * a message without one never costs a handle.
 * Ownership: the DKIM handle is freed by dkimcheck_free(). Threads: see
 * dkimcheck.h.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
	DKIM		*dkim;		/* NULL: none yet, or refused */
	int		 started;	/* a signature header was seen */
	char		 id[64];	/* for libopendkim's messages */
	struct strbuf	 held;		/* headers before the first signature,
					   formatted, each ending in NUL */
	struct strbuf	 line;		/* one formatted header */
	char		 setup_err[160];
	struct resolver	*res;
	int64_t		 deadline_ms;
	size_t		 max_sigs;
	int		 eoh_done;
	int		 nosig;		/* dkim_eoh said: no signature */
	char		 eoh_err[160];	/* dkim_eoh failed otherwise */
	struct dkimcheck_dnsfail *fails;	/* DKIMCHECK_FAILS_MAX, made
						   at the first failure */
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
		if (d->fails == NULL)
			d->fails = xcalloc(DKIMCHECK_FAILS_MAX,
			    sizeof(*d->fails));
		if (d->nfails < DKIMCHECK_FAILS_MAX) {
			struct dkimcheck_dnsfail *f = &d->fails[d->nfails++];

			snprintf(f->name, sizeof(f->name), "%s", name);
			snprintf(f->why, sizeof(f->why), "%s", a->why);
		}
		/*
		 * Not TRYAGAIN: libopendkim fetches keys in dkim_eoh, and
		 * a TRYAGAIN there fails the whole handle, so no signature
		 * of the message could be reported. As "not found" the
		 * others are still verified, and dkimcheck_judge() turns
		 * this one into a temperror from the failure kept above.
		 */
		rc = DKIM_CBSTAT_NOTFOUND;
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

	d->res = res;
	d->max_sigs = max_sigs;
	if (id != NULL)		/* cut to fit, like snprintf */
		memcpy(d->id, id, strnlen(id, sizeof(d->id) - 1));
	return d;
}

/* The libopendkim handle, at the first signature header. */
static void
dkimcheck_start(struct dkimcheck *d)
{
	DKIM_STAT st = DKIM_STAT_INTERNAL;

	d->started = 1;
	pthread_once(&dkimcheck_once, dkimcheck_init);
	if (dkimcheck_lib != NULL)
		d->dkim = dkim_verify(dkimcheck_lib,
		    (const unsigned char *)d->id, NULL, &st);
	if (d->dkim == NULL)
		snprintf(d->setup_err, sizeof(d->setup_err), "libopendkim "
		    "unavailable: %s", dkim_getresultstr(st));
	else
		(void)dkim_set_user_context(d->dkim, d);
}

/* "name: value" into sb, each LF not after a CR made CRLF. */
static void
dkimcheck_format(struct strbuf *sb, const char *name, const char *value)
{
	const char *p, *run;

	strbuf_adds(sb, name);
	strbuf_add(sb, ": ", 2);
	for (run = p = value; *p != '\0'; p++)
		if (*p == '\n' && (p == value || p[-1] != '\r')) {
			strbuf_add(sb, run, (size_t)(p - run));
			strbuf_addc(sb, '\r');
			run = p;
		}
	strbuf_add(sb, run, (size_t)(p - run));
}

/* libopendkim looks for signatures by the name before the colon. */
static int
dkimcheck_is_signature(const char *name)
{
	return strncasecmp(name, "DKIM-Signature", 14) == 0;
}

void
dkimcheck_header(struct dkimcheck *d, const char *name, const char *value)
{
	if (d->eoh_done)
		return;
	if (!d->started && !dkimcheck_is_signature(name)) {
		if (d->held.s == NULL)	/* room for a typical header block */
			strbuf_init(&d->held, 500);
		dkimcheck_format(&d->held, name, value);
		strbuf_addc(&d->held, '\0');
		return;
	}
	if (!d->started) {	/* replay what came before, in order */
		dkimcheck_start(d);
		for (size_t o = 0; d->dkim != NULL && o < d->held.len;) {
			size_t n = strlen(d->held.s + o);

			(void)dkim_header(d->dkim, (u_char *)d->held.s + o, n);
			o += n + 1;
		}
		strbuf_free(&d->held);
	}
	if (d->dkim == NULL)
		return;
	strbuf_reset(&d->line);
	dkimcheck_format(&d->line, name, value);
	(void)dkim_header(d->dkim, (u_char *)d->line.s, d->line.len);
}

static void
dkimcheck_eoh(struct dkimcheck *d)
{
	DKIM_STAT st;

	if (d->eoh_done)
		return;
	d->eoh_done = 1;
	strbuf_free(&d->held);
	if (!d->started) {	/* no signature: what dkim_eoh would say */
		d->nosig = 1;
		return;
	}
	if (d->dkim == NULL)
		return;
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
	strbuf_free(&d->held);
	strbuf_free(&d->line);
	free(d->fails);
	free(d->sigs);
	free(d);
}
