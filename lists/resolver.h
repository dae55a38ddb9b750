/*
 * resolver - every DNS query of aup-milter (the only user of ldns)
 *
 * One module asks DNS for the whole product: the return-address check,
 * SPF (libspf2 is fed through it, see policy/spf.c), and later DKIM keys
 * and blocklists. It talks to one configured name server ("host" or
 * "host:port", IPv4 or IPv6) or, without one, to the system resolver
 * (/etc/resolv.conf). Each query is bounded: a per-try timeout, a number
 * of tries, TCP when a UDP answer is truncated, and a caller's deadline
 * (the transaction's DNS budget) that shortens the timeout and, once
 * passed, fails the query at once without asking.
 *
 * Answers are cached, honouring TTLs: positive answers for the smallest
 * TTL of the records used, NXDOMAIN and NODATA for the SOA minimum of the
 * authority section (RFC 2308; a default when there is none), and server
 * failures and timeouts for a few seconds so that a dead domain does not
 * cost every transaction the whole timeout.
 *
 * Results are our own types (struct resolver_answer): the status says
 * what DNS said; the records are copies the caller owns.
 *
 * Ownership: resolver_new() returns one reference; resolver_ref() adds
 * one, resolver_unref() drops one (NULL is a no-op) and frees the last.
 * An answer is freed with resolver_answer_free() (NULL is a no-op).
 * Threads: a struct resolver is shared by all threads: the cache is under
 * a mutex, and each query uses an ldns resolver taken from a pool, so no
 * ldns object is ever used by two threads at once.
 * Errors: resolver_new() fails with a reason; a lookup always returns a
 * status, with the reason of a failure in the answer's why.
 */
#ifndef AUP_RESOLVER_H
#define AUP_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

struct resolver;

enum resolver_type {
	RESOLVER_A = 1,
	RESOLVER_AAAA = 28,
	RESOLVER_MX = 15,
	RESOLVER_TXT = 16,
	RESOLVER_PTR = 12
};

enum resolver_status {
	RESOLVER_OK,		/* records of the type (n >= 1) */
	RESOLVER_NXDOMAIN,	/* the name does not exist */
	RESOLVER_NODATA,	/* the name exists, no record of the type */
	RESOLVER_TEMPFAIL,	/* timeout, SERVFAIL, REFUSED, network */
	RESOLVER_ERROR		/* a name we will not ask about, or bad answer */
};

struct resolver_rr {
	uint16_t pref;		/* MX preference */
	int	 family;	/* A: 4, AAAA: 6 */
	uint8_t	 addr[16];	/* A, AAAA: network order */
	char	*name;		/* MX exchange, PTR: lower case, no final dot;
				   "" for a null MX exchange "." */
	char	*text;		/* TXT: the strings joined, NUL-terminated */
	size_t	 textlen;	/* TXT: bytes (may contain NULs) */
};

struct resolver_answer {
	enum resolver_status status;
	int	 cached;	/* served from the cache */
	uint32_t ttl;		/* seconds the answer stays valid */
	char	 why[128];	/* TEMPFAIL/ERROR: "timeout", "SERVFAIL" ... */
	size_t	 n;
	struct resolver_rr *rr;
};

struct resolver_conf {
	const char *nameserver;	/* "host" or "host:port"; NULL: system */
	int	 timeout_ms;	/* per try (default 2000) */
	int	 tries;		/* tries per server (default 2) */
	size_t	 cache_max;	/* entries (default 10000; 0: no cache) */
	uint32_t tempfail_ttl;	/* seconds a failure is cached (default 5) */
};

/* NULL with err set when the name server cannot be used. */
struct resolver *resolver_new(const struct resolver_conf *conf, char *err,
	    size_t errlen);
struct resolver *resolver_ref(struct resolver *r);
void	resolver_unref(struct resolver *r);

/*
 * Look up name (an absolute domain name, trailing dot optional) for type.
 * deadline_ms is a CLOCK_MONOTONIC time in milliseconds (resolver_now_ms)
 * after which nothing more may be asked (0: none). *out is always set to
 * a new answer, freed by the caller; its status is returned.
 */
enum resolver_status resolver_lookup(struct resolver *r, const char *name,
	    enum resolver_type type, int64_t deadline_ms,
	    struct resolver_answer **out);
void	resolver_answer_free(struct resolver_answer *a);

/* Milliseconds of CLOCK_MONOTONIC, for deadlines. */
int64_t	resolver_now_ms(void);

/* "ok", "nxdomain", "nodata", "tempfail", "error". */
const char *resolver_status_name(enum resolver_status st);
/* "A", "AAAA", "MX", "TXT", "PTR". */
const char *resolver_type_name(enum resolver_type type);

/* Queries sent to the server and answers served from the cache. */
void	resolver_stats(struct resolver *r, unsigned long *sent,
	    unsigned long *hits);

/* Drop every cached answer (tests, reload). */
void	resolver_flush(struct resolver *r);

#endif
