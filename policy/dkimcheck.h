/*
 * dkimcheck - DKIM verification of one message (the only libopendkim user)
 *
 * Named dkimcheck, not dkim, because libopendkim owns the dkim_* names.
 * libopendkim verifies the signatures; every key it needs is fetched
 * through lists/resolver (a key lookup callback replaces libopendkim's
 * own DNS), so key lookups share the cache, the name server and the
 * transaction's DNS budget, and tests answer them from the loopback DNS
 * server. Work is bounded: at most max_sigs signatures of a message are
 * verified (the others are reported "skipped", as OpenDKIM issue #271
 * showed unbounded signatures are a denial of service); header bytes are
 * bounded by the caller.
 *
 * Use: dkimcheck_new() at the first header, dkimcheck_header() per
 * header in order, dkimcheck_body() per body chunk, dkimcheck_finish()
 * at end of message, dkimcheck_free().
 *
 * Ownership: a struct dkimcheck owns its libopendkim handle; the resolver
 * is borrowed and must outlive it. Results stay valid until
 * dkimcheck_free(). Threads: one message per object; the library handle
 * is shared and set up once (libopendkim's library handle is thread-safe).
 * Errors: a message libopendkim cannot handle gives "permerror" results
 * with a reason, never a failure of the call.
 */
#ifndef AUP_DKIMCHECK_H
#define AUP_DKIMCHECK_H

#include <stddef.h>
#include <stdint.h>

struct resolver;
struct dkimcheck;

enum dkimcheck_result {
	DKIMCHECK_PASS,
	DKIMCHECK_FAIL,		/* signature or body hash does not verify */
	DKIMCHECK_PERMERROR,	/* no key, bad signature syntax, expired ... */
	DKIMCHECK_TEMPERROR,	/* the key lookup failed (DNS) */
	DKIMCHECK_SKIPPED	/* over the per-message cap */
};

struct dkimcheck_sig {
	char	domain[256];	/* d=, lower case; "" if unreadable */
	char	selector[128];	/* s= */
	enum dkimcheck_result result;
	char	reason[160];
};

/*
 * A verifier for one message. id names it in libopendkim's errors.
 * Never NULL (allocation aborts).
 */
struct dkimcheck *dkimcheck_new(struct resolver *res, size_t max_sigs,
	    const char *id);
/* One header field, value as the MTA gave it (LF or CRLF folding). */
void	dkimcheck_header(struct dkimcheck *d, const char *name,
	    const char *value);
void	dkimcheck_body(struct dkimcheck *d, const unsigned char *p,
	    size_t len);
/*
 * End of message: verify, fetching keys until deadline_ms (as
 * resolver_lookup()). *sigs gets the results, in header order; the count
 * is returned (0: the message has no DKIM-Signature). Call once.
 */
size_t	dkimcheck_finish(struct dkimcheck *d, int64_t deadline_ms,
	    const struct dkimcheck_sig **sigs);
void	dkimcheck_free(struct dkimcheck *d);	/* NULL is a no-op */

/* "pass", "fail", "permerror", "temperror", "skipped" */
const char *dkimcheck_result_name(enum dkimcheck_result r);

#endif
