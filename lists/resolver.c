/*
 * resolver - DNS queries over ldns with a TTL cache (see resolver.h)
 *
 * The only file that includes <ldns/ldns.h>. ldns resolver objects are
 * not safe to share between threads, so they live in a pool: a query
 * takes one (making one when the pool is empty), sets its timeout from the
 * caller's deadline, and gives it back. The cache is a chained hash table
 * under one mutex, keyed by type and lower-cased name; when it is full,
 * expired entries are swept and, if that is not enough, a slice of the
 * table is dropped, so an insert never costs more than one sweep.
 *
 * Ownership: cache entries own their answer; lookups hand out copies.
 * Threads: see resolver.h. Errors: statuses, with the reason in why.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <ldns/ldns.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resolver.h"
#include "xalloc.h"

#define RES_TTL_MAX		86400	/* cap on any cached positive TTL */
#define RES_NEG_TTL_DEFAULT	60	/* negative answer without an SOA */
#define RES_NEG_TTL_MAX		10800	/* RFC 2308 suggests <= 3 hours */
#define RES_BUCKETS		4096
#define RES_NAME_MAX		253

struct res_entry {
	struct res_entry *next;
	int64_t		 expires_ms;
	int		 type;
	char		*name;
	struct resolver_answer *ans;
};

struct resolver {
	pthread_mutex_t	 lock;		/* refs, pool, cache, stats */
	int		 refs;
	char		*ns_host;	/* NULL: system resolver */
	uint16_t	 ns_port;
	int		 ns_v6;
	int		 timeout_ms;
	int		 tries;
	size_t		 cache_max;
	uint32_t	 tempfail_ttl;
	ldns_resolver	**pool;
	size_t		 npool, pool_cap;
	struct res_entry *bucket[RES_BUCKETS];
	size_t		 nentries;
	size_t		 sweep_at;
	unsigned long	 sent, hits;
};

int64_t
resolver_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
resolver_status_name(enum resolver_status st)
{
	static const char *const names[] = { "ok", "nxdomain", "nodata",
	    "tempfail", "error" };

	return (unsigned)st < 5 ? names[st] : "error";
}

const char *
resolver_type_name(enum resolver_type type)
{
	switch (type) {
	case RESOLVER_A:
		return "A";
	case RESOLVER_AAAA:
		return "AAAA";
	case RESOLVER_MX:
		return "MX";
	case RESOLVER_TXT:
		return "TXT";
	case RESOLVER_PTR:
		return "PTR";
	}
	return "?";
}

/* "host", "host:port", "[v6]:port", "v6": an address, not a name. */
static int
res_parse_ns(struct resolver *r, const char *ns, char *err, size_t errlen)
{
	char host[128];
	const char *colon = strrchr(ns, ':'), *port = NULL;
	unsigned char buf[16];
	long p = 53;

	if (ns[0] == '[') {
		const char *end = strchr(ns, ']');

		if (end == NULL || (end[1] != '\0' && end[1] != ':') ||
		    (size_t)(end - ns) > sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(end - ns - 1),
		    ns + 1);
		port = end[1] == ':' ? end + 2 : NULL;
	} else if (colon != NULL && strchr(ns, ':') == colon) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - ns), ns);
		port = colon + 1;
	} else
		snprintf(host, sizeof(host), "%s", ns);
	if (port != NULL) {
		char *end;

		p = strtol(port, &end, 10);
		if (*port == '\0' || *end != '\0' || p < 1 || p > 65535)
			goto bad;
	}
	if (inet_pton(AF_INET, host, buf) == 1)
		r->ns_v6 = 0;
	else if (inet_pton(AF_INET6, host, buf) == 1)
		r->ns_v6 = 1;
	else {
		snprintf(err, errlen, "name server '%s' is not an IP address "
		    "(a name would need DNS to be found)", ns);
		return -1;
	}
	r->ns_host = xstrdup(host);
	r->ns_port = (uint16_t)p;
	return 0;
bad:
	snprintf(err, errlen, "bad name server '%s' (want host, host:port or "
	    "[ipv6]:port)", ns);
	return -1;
}

/* A new ldns resolver for the configured server; NULL with err. */
static ldns_resolver *
res_make(const struct resolver *r, char *err, size_t errlen)
{
	ldns_resolver *lr = NULL;
	ldns_status st;

	if (r->ns_host == NULL) {
		st = ldns_resolver_new_frm_file(&lr, NULL);
		if (st != LDNS_STATUS_OK) {
			snprintf(err, errlen, "system resolver "
			    "(/etc/resolv.conf): %s", ldns_get_errorstr_by_id(st));
			return NULL;
		}
	} else {
		ldns_rdf *addr = ldns_rdf_new_frm_str(r->ns_v6 ?
		    LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, r->ns_host);

		lr = ldns_resolver_new();
		if (addr == NULL || lr == NULL ||
		    ldns_resolver_push_nameserver(lr, addr) != LDNS_STATUS_OK) {
			snprintf(err, errlen, "name server %s: cannot set up",
			    r->ns_host);
			ldns_rdf_deep_free(addr);
			ldns_resolver_deep_free(lr);
			return NULL;
		}
		ldns_rdf_deep_free(addr);
		ldns_resolver_set_port(lr, r->ns_port);
	}
	ldns_resolver_set_recursive(lr, true);
	ldns_resolver_set_dnssec(lr, false);
	ldns_resolver_set_fallback(lr, true);	/* TC -> TCP */
	ldns_resolver_set_igntc(lr, false);
	ldns_resolver_set_defnames(lr, false);
	ldns_resolver_set_dnsrch(lr, false);
	ldns_resolver_set_retrans(lr, 0);
	return lr;
}

struct resolver *
resolver_new(const struct resolver_conf *conf, char *err, size_t errlen)
{
	struct resolver *r = xcalloc(1, sizeof(*r));
	ldns_resolver *lr;

	pthread_mutex_init(&r->lock, NULL);
	r->refs = 1;
	r->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 2000;
	r->tries = conf->tries > 0 ? conf->tries : 2;
	r->cache_max = conf->cache_max;
	r->tempfail_ttl = conf->tempfail_ttl;
	if (conf->nameserver != NULL && *conf->nameserver != '\0' &&
	    res_parse_ns(r, conf->nameserver, err, errlen) < 0) {
		resolver_unref(r);
		return NULL;
	}
	/* Make one now, so a bad setup is reported at start, not at MAIL. */
	if ((lr = res_make(r, err, errlen)) == NULL) {
		resolver_unref(r);
		return NULL;
	}
	if (ldns_resolver_nameserver_count(lr) == 0) {
		snprintf(err, errlen, "system resolver: no name server in "
		    "/etc/resolv.conf");
		ldns_resolver_deep_free(lr);
		resolver_unref(r);
		return NULL;
	}
	r->pool = xmalloc(sizeof(*r->pool));
	r->pool[0] = lr;
	r->npool = r->pool_cap = 1;
	return r;
}

struct resolver *
resolver_ref(struct resolver *r)
{
	pthread_mutex_lock(&r->lock);
	r->refs++;
	pthread_mutex_unlock(&r->lock);
	return r;
}

void
resolver_answer_free(struct resolver_answer *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->rr[i].name);
		free(a->rr[i].text);
	}
	free(a->rr);
	free(a);
}

static void
res_cache_clear(struct resolver *r)
{
	for (size_t i = 0; i < RES_BUCKETS; i++) {
		struct res_entry *e = r->bucket[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			free(e->name);
			resolver_answer_free(e->ans);
			free(e);
		}
		r->bucket[i] = NULL;
	}
	r->nentries = 0;
}

void
resolver_unref(struct resolver *r)
{
	int last;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	last = --r->refs == 0;
	pthread_mutex_unlock(&r->lock);
	if (!last)
		return;
	res_cache_clear(r);
	for (size_t i = 0; i < r->npool; i++)
		ldns_resolver_deep_free(r->pool[i]);
	free(r->pool);
	free(r->ns_host);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void
resolver_flush(struct resolver *r)
{
	pthread_mutex_lock(&r->lock);
	res_cache_clear(r);
	pthread_mutex_unlock(&r->lock);
}

void
resolver_stats(struct resolver *r, unsigned long *sent, unsigned long *hits)
{
	pthread_mutex_lock(&r->lock);
	*sent = r->sent;
	*hits = r->hits;
	pthread_mutex_unlock(&r->lock);
}

static struct resolver_answer *
res_answer_dup(const struct resolver_answer *a)
{
	struct resolver_answer *c = xmalloc(sizeof(*c));

	*c = *a;
	c->rr = a->n > 0 ? xcalloc(a->n, sizeof(*c->rr)) : NULL;
	for (size_t i = 0; i < a->n; i++) {
		c->rr[i] = a->rr[i];
		if (a->rr[i].name != NULL)
			c->rr[i].name = xstrdup(a->rr[i].name);
		if (a->rr[i].text != NULL) {
			c->rr[i].text = xmalloc(a->rr[i].textlen + 1);
			memcpy(c->rr[i].text, a->rr[i].text,
			    a->rr[i].textlen + 1);
		}
	}
	return c;
}

static size_t
res_hash(const char *name, int type)
{
	size_t h = 5381 + (size_t)type;

	for (; *name != '\0'; name++)
		h = h * 33 + (unsigned char)*name;
	return h % RES_BUCKETS;
}

/* A copy of the cached answer, or NULL. Called with the lock held. */
static struct resolver_answer *
res_cache_get(struct resolver *r, const char *name, int type, int64_t now)
{
	struct res_entry **pp = &r->bucket[res_hash(name, type)], *e;

	while ((e = *pp) != NULL) {
		if (e->expires_ms <= now) {
			*pp = e->next;
			free(e->name);
			resolver_answer_free(e->ans);
			free(e);
			r->nentries--;
			continue;
		}
		if (e->type == type && strcmp(e->name, name) == 0) {
			struct resolver_answer *c = res_answer_dup(e->ans);

			c->cached = 1;
			c->ttl = (uint32_t)((e->expires_ms - now) / 1000);
			return c;
		}
		pp = &e->next;
	}
	return NULL;
}

/* Make room: drop expired entries, then a slice of buckets. Locked. */
static void
res_cache_evict(struct resolver *r, int64_t now)
{
	for (size_t i = 0; i < RES_BUCKETS; i++) {
		struct res_entry **pp = &r->bucket[i], *e;

		while ((e = *pp) != NULL) {
			int drop = e->expires_ms <= now;

			/* Still full after the expired ones: drop a slice. */
			if (!drop && r->nentries >= r->cache_max &&
			    (i - r->sweep_at) % RES_BUCKETS < RES_BUCKETS / 8)
				drop = 1;
			if (!drop) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			free(e->name);
			resolver_answer_free(e->ans);
			free(e);
			r->nentries--;
		}
	}
	r->sweep_at = (r->sweep_at + RES_BUCKETS / 8) % RES_BUCKETS;
}

static void
res_cache_put(struct resolver *r, const char *name, int type,
    const struct resolver_answer *a, int64_t now)
{
	struct res_entry *e;
	size_t h;

	if (r->cache_max == 0 || a->ttl == 0)
		return;
	if (r->nentries >= r->cache_max)
		res_cache_evict(r, now);
	if (r->nentries >= r->cache_max)
		res_cache_evict(r, now);
	e = xcalloc(1, sizeof(*e));
	e->type = type;
	e->name = xstrdup(name);
	e->ans = res_answer_dup(a);
	e->ans->cached = 0;
	e->expires_ms = now + (int64_t)a->ttl * 1000;
	h = res_hash(name, type);
	e->next = r->bucket[h];
	r->bucket[h] = e;
	r->nentries++;
}

static ldns_resolver *
res_pool_get(struct resolver *r, char *err, size_t errlen)
{
	ldns_resolver *lr = NULL;

	pthread_mutex_lock(&r->lock);
	if (r->npool > 0)
		lr = r->pool[--r->npool];
	pthread_mutex_unlock(&r->lock);
	return lr != NULL ? lr : res_make(r, err, errlen);
}

static void
res_pool_put(struct resolver *r, ldns_resolver *lr)
{
	pthread_mutex_lock(&r->lock);
	if (r->npool == r->pool_cap) {
		r->pool_cap = r->pool_cap * 2 + 1;
		r->pool = xrealloc(r->pool, r->pool_cap * sizeof(*r->pool));
	}
	r->pool[r->npool++] = lr;
	pthread_mutex_unlock(&r->lock);
}

/*
 * Lower-case name into out without a final dot, checking it is a name we
 * may ask about: printable ASCII without space or backslash (ldns would
 * read escapes), labels of 1..63, 253 in all. 0 or -1.
 */
static int
res_norm_name(const char *name, char *out)
{
	size_t n = strlen(name), label = 0;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > RES_NAME_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 0x20 || c >= 0x7f || c == '\\')
			return -1;
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (++label > 63)
			return -1;
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	return 0;
}

/* Smallest of the TTLs of list (capped). */
static uint32_t
res_min_ttl(const ldns_rr_list *list, uint32_t cap)
{
	uint32_t ttl = cap;

	for (size_t i = 0; i < ldns_rr_list_rr_count(list); i++) {
		uint32_t t = ldns_rr_ttl(ldns_rr_list_rr(list, i));

		if (t < ttl)
			ttl = t;
	}
	return ttl;
}

/* RFC 2308: a negative answer lives min(SOA TTL, SOA minimum). */
static uint32_t
res_neg_ttl(const ldns_pkt *pkt)
{
	ldns_rr_list *auth = ldns_pkt_authority(pkt);

	for (size_t i = 0; auth != NULL && i < ldns_rr_list_rr_count(auth);
	    i++) {
		ldns_rr *rr = ldns_rr_list_rr(auth, i);
		ldns_rdf *min;
		uint32_t ttl;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
		    (min = ldns_rr_rdf(rr, 6)) == NULL ||
		    ldns_rdf_size(min) != 4)
			continue;
		ttl = ldns_rdf2native_int32(min);
		if (ldns_rr_ttl(rr) < ttl)
			ttl = ldns_rr_ttl(rr);
		return ttl < RES_NEG_TTL_MAX ? ttl : RES_NEG_TTL_MAX;
	}
	return RES_NEG_TTL_DEFAULT;
}

/* A domain name rdf as lower-case text without the final dot. */
static char *
res_dname(const ldns_rdf *rdf)
{
	char *s = rdf != NULL ? ldns_rdf2str(rdf) : NULL, *c;
	size_t n;

	if (s == NULL)
		return xstrdup("");
	n = strlen(s);
	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = '\0';
	for (char *p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	c = xstrdup(s);
	free(s);
	return c;
}

/* One record into rr; 0, or -1 when its data is not what the type says. */
static int
res_fill_rr(const ldns_rr *lrr, enum resolver_type type,
    struct resolver_rr *rr)
{
	ldns_rdf *d = ldns_rr_rdf(lrr, 0);

	switch (type) {
	case RESOLVER_A:
	case RESOLVER_AAAA:
		rr->family = type == RESOLVER_A ? 4 : 6;
		if (d == NULL || ldns_rdf_size(d) != (type == RESOLVER_A ?
		    4u : 16u))
			return -1;
		memcpy(rr->addr, ldns_rdf_data(d), ldns_rdf_size(d));
		return 0;
	case RESOLVER_MX:
		if (d == NULL || ldns_rdf_size(d) != 2 ||
		    ldns_rr_rdf(lrr, 1) == NULL)
			return -1;
		rr->pref = ldns_rdf2native_int16(d);
		rr->name = res_dname(ldns_rr_rdf(lrr, 1));
		return 0;
	case RESOLVER_PTR:
		rr->name = res_dname(d);
		return 0;
	case RESOLVER_TXT: {
		size_t len = 0, nrd = ldns_rr_rd_count(lrr);

		for (size_t i = 0; i < nrd; i++) {
			ldns_rdf *s = ldns_rr_rdf(lrr, i);

			if (ldns_rdf_size(s) >= 1)
				len += ldns_rdf_size(s) - 1;
		}
		rr->text = xmalloc(len + 1);
		for (size_t i = 0; i < nrd; i++) {
			ldns_rdf *s = ldns_rr_rdf(lrr, i);

			if (ldns_rdf_size(s) < 1)
				continue;
			memcpy(rr->text + rr->textlen, ldns_rdf_data(s) + 1,
			    ldns_rdf_size(s) - 1);
			rr->textlen += ldns_rdf_size(s) - 1;
		}
		rr->text[rr->textlen] = '\0';
		return 0;
	}
	}
	return -1;
}

static void
res_fill_answer(ldns_pkt *pkt, enum resolver_type type,
    struct resolver_answer *a)
{
	ldns_rr_list *list = ldns_pkt_rr_list_by_type(pkt,
	    (ldns_rr_type)type, LDNS_SECTION_ANSWER);
	size_t n = list != NULL ? ldns_rr_list_rr_count(list) : 0;

	if (n == 0) {
		a->status = RESOLVER_NODATA;
		a->ttl = res_neg_ttl(pkt);
		ldns_rr_list_deep_free(list);
		return;
	}
	a->rr = xcalloc(n, sizeof(*a->rr));
	for (size_t i = 0; i < n; i++) {
		if (res_fill_rr(ldns_rr_list_rr(list, i), type,
		    &a->rr[a->n]) == 0)
			a->n++;
	}
	a->status = a->n > 0 ? RESOLVER_OK : RESOLVER_ERROR;
	a->ttl = a->n > 0 ? res_min_ttl(list, RES_TTL_MAX) : 0;
	if (a->n == 0)
		snprintf(a->why, sizeof(a->why), "malformed %s records",
		    resolver_type_name(type));
	ldns_rr_list_deep_free(list);
}

/* Ask the server; fills a (status, ttl, records, why). */
static void
res_ask(struct resolver *r, const char *name, enum resolver_type type,
    int64_t budget_ms, struct resolver_answer *a)
{
	ldns_resolver *lr;
	ldns_rdf *dn;
	ldns_pkt *pkt = NULL;
	ldns_status st;
	int64_t t0 = resolver_now_ms();
	int timeout = r->timeout_ms;
	struct timeval tv;

	a->ttl = r->tempfail_ttl;
	a->status = RESOLVER_TEMPFAIL;
	if ((lr = res_pool_get(r, a->why, sizeof(a->why))) == NULL)
		return;
	/* Every try must fit in what is left of the budget. */
	if (budget_ms > 0 && timeout * r->tries > budget_ms)
		timeout = (int)(budget_ms / r->tries) + 1;
	tv.tv_sec = timeout / 1000;
	tv.tv_usec = (timeout % 1000) * 1000;
	ldns_resolver_set_timeout(lr, tv);
	ldns_resolver_set_retry(lr, (uint8_t)r->tries);
	/* ldns marks a server that timed out as unreachable for good: every
	   query starts afresh, the servers' state is ours to judge. */
	for (size_t i = 0; i < ldns_resolver_nameserver_count(lr); i++)
		ldns_resolver_set_nameserver_rtt(lr, i, LDNS_RESOLV_RTT_MIN);
	if ((dn = ldns_dname_new_frm_str(name)) == NULL) {
		a->status = RESOLVER_ERROR;
		a->ttl = 0;
		snprintf(a->why, sizeof(a->why), "not a valid domain name");
		res_pool_put(r, lr);
		return;
	}
	st = ldns_resolver_query_status(&pkt, lr, dn, (ldns_rr_type)type,
	    LDNS_RR_CLASS_IN, LDNS_RD);
	ldns_rdf_deep_free(dn);
	res_pool_put(r, lr);
	if (st != LDNS_STATUS_OK || pkt == NULL) {
		int64_t took = resolver_now_ms() - t0;

		if (took >= (int64_t)timeout * r->tries - 50)
			snprintf(a->why, sizeof(a->why), "timeout after %lld ms",
			    (long long)took);
		else
			snprintf(a->why, sizeof(a->why), "%s",
			    ldns_get_errorstr_by_id(st));
		ldns_pkt_free(pkt);
		return;
	}
	switch (ldns_pkt_get_rcode(pkt)) {
	case LDNS_RCODE_NOERROR:
		res_fill_answer(pkt, type, a);
		break;
	case LDNS_RCODE_NXDOMAIN:
		a->status = RESOLVER_NXDOMAIN;
		a->ttl = res_neg_ttl(pkt);
		break;
	case LDNS_RCODE_SERVFAIL:
		snprintf(a->why, sizeof(a->why), "SERVFAIL");
		break;
	case LDNS_RCODE_REFUSED:
		snprintf(a->why, sizeof(a->why), "REFUSED");
		break;
	default:
		snprintf(a->why, sizeof(a->why), "rcode %d",
		    (int)ldns_pkt_get_rcode(pkt));
		break;
	}
	ldns_pkt_free(pkt);
}

enum resolver_status
resolver_lookup(struct resolver *r, const char *name,
    enum resolver_type type, int64_t deadline_ms,
    struct resolver_answer **out)
{
	struct resolver_answer *a;
	char norm[RES_NAME_MAX + 1];
	int64_t now = resolver_now_ms();

	if (res_norm_name(name, norm) < 0) {
		a = *out = xcalloc(1, sizeof(*a));
		a->status = RESOLVER_ERROR;
		snprintf(a->why, sizeof(a->why), "not a valid domain name");
		return a->status;
	}
	pthread_mutex_lock(&r->lock);
	a = res_cache_get(r, norm, (int)type, now);
	if (a != NULL)
		r->hits++;
	pthread_mutex_unlock(&r->lock);
	if (a != NULL)
		return (*out = a)->status;
	a = *out = xcalloc(1, sizeof(*a));
	if (deadline_ms > 0 && now >= deadline_ms) {
		a->status = RESOLVER_TEMPFAIL;
		snprintf(a->why, sizeof(a->why), "DNS time budget used up");
		return a->status;	/* not cached: it says nothing of DNS */
	}
	res_ask(r, norm, type, deadline_ms > 0 ? deadline_ms - now : 0, a);
	pthread_mutex_lock(&r->lock);
	r->sent++;
	res_cache_put(r, norm, (int)type, a, resolver_now_ms());
	pthread_mutex_unlock(&r->lock);
	return a->status;
}
