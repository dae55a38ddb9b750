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
#include <stdio.h>
#include <string.h>

#include "resolver.h"
#include "txn.h"

static pthread_mutex_t engine_dns_lock = PTHREAD_MUTEX_INITIALIZER;

static void
engine_dns_key(const struct config *cfg, char *key, size_t len)
{
	const char *ns = config_nameserver(cfg);

	snprintf(key, len, "%s|%d|%d|%zu", ns != NULL ? ns : "",
	    config_dns_timeout(cfg), config_dns_tries(cfg),
	    config_dns_cache_size(cfg));
}

struct resolver *
engine_resolver(struct engine *eng, const struct config *cfg, char *err,
    size_t errlen)
{
	struct resolver_conf rc = { 0 };
	struct resolver *r = NULL;
	char key[sizeof(eng->res_key)];

	engine_dns_key(cfg, key, sizeof(key));
	pthread_mutex_lock(&engine_dns_lock);
	if (eng->res != NULL && strcmp(eng->res_key, key) == 0)
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
	pthread_mutex_lock(&engine_dns_lock);
	resolver_unref(eng->res);
	eng->res = resolver_ref(r);
	snprintf(eng->res_key, sizeof(eng->res_key), "%s", key);
	pthread_mutex_unlock(&engine_dns_lock);
	return r;
}

void
engine_dns_free(struct engine *eng)
{
	pthread_mutex_lock(&engine_dns_lock);
	resolver_unref(eng->res);
	eng->res = NULL;
	pthread_mutex_unlock(&engine_dns_lock);
}
