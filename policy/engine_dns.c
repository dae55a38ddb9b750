/*
 * engine_dns - the engine's resolver, built from the config (see txn.h)
 *
 * Every rule that needs DNS (return_address, spf; later dkim and
 * blocklist) asks the engine for its resolver at MAIL and holds a
 * reference until the transaction ends, so a reload that changes
 * Nameserver, DNSTimeout, DNSTries or DNSCacheSize gives new transactions
 * a new resolver (with an empty cache) while running ones keep theirs.
 *
 * Ownership: engine_resolver() returns a new reference; the engine keeps
 * its own, dropped by engine_dns_free(). Threads: one process-wide mutex
 * guards the engine's pointer (engines are few; lookups never take it).
 * Errors: NULL with err set when the resolver cannot be made (for
 * example no name server in /etc/resolv.conf): the caller treats that as
 * a DNS failure.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "resolver.h"
#include "txn.h"
#include "xalloc.h"

static pthread_mutex_t engine_dns_lock = PTHREAD_MUTEX_INITIALIZER;

/* 1 when the engine's resolver was built from cfg's DNS settings. */
static int
engine_dns_same(const struct engine *eng, const struct config *cfg)
{
	const char *ns = config_nameserver(cfg);

	return eng->res != NULL && eng->res_ns != NULL &&
	    strcmp(eng->res_ns, ns != NULL ? ns : "") == 0 &&
	    eng->res_timeout == config_dns_timeout(cfg) &&
	    eng->res_tries == config_dns_tries(cfg) &&
	    eng->res_cache == config_dns_cache_size(cfg);
}

struct resolver *
engine_resolver(struct engine *eng, const struct config *cfg, char *err,
    size_t errlen)
{
	struct resolver_conf rc = { 0 };
	struct resolver *r = NULL;
	const char *ns;

	pthread_mutex_lock(&engine_dns_lock);
	if (engine_dns_same(eng, cfg))
		r = resolver_ref(eng->res);
	pthread_mutex_unlock(&engine_dns_lock);
	if (r != NULL)
		return r;
	rc.nameserver = config_nameserver(cfg);
	rc.timeout_ms = config_dns_timeout(cfg) * 1000;
	rc.tries = config_dns_tries(cfg);
	rc.cache_max = config_dns_cache_size(cfg);
	rc.tempfail_ttl = 5;
	if ((r = resolver_new(&rc, err, errlen)) == NULL)
		return NULL;
	ns = config_nameserver(cfg);
	pthread_mutex_lock(&engine_dns_lock);
	resolver_unref(eng->res);
	eng->res = resolver_ref(r);
	free(eng->res_ns);
	eng->res_ns = xstrdup(ns != NULL ? ns : "");
	eng->res_timeout = config_dns_timeout(cfg);
	eng->res_tries = config_dns_tries(cfg);
	eng->res_cache = config_dns_cache_size(cfg);
	pthread_mutex_unlock(&engine_dns_lock);
	return r;
}

void
engine_dns_free(struct engine *eng)
{
	pthread_mutex_lock(&engine_dns_lock);
	resolver_unref(eng->res);
	eng->res = NULL;
	free(eng->res_ns);
	eng->res_ns = NULL;
	pthread_mutex_unlock(&engine_dns_lock);
}
