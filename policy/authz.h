/*
 * authz - is a domain one of the attributed customer's domains?
 *
 * One place for the question the return-address and header rules both
 * ask, so they cannot disagree. Domains are compared in ASCII (A-label)
 * form, the one customers' domains are stored in. The answers, yes and
 * no, are cached for the database as it is (db_cache.h).
 * Threads: per-session; the cache is shared. Errors: -1 (a database
 * failure, logged by authz_domain).
 */
#ifndef AUP_AUTHZ_H
#define AUP_AUTHZ_H

#include <stddef.h>

struct db;
struct db_cache;
struct session;

/*
 * 1 if domain is authorized for the session's customer, 0 if not, -1 on
 * a database error. *exact is 1 when the domain is listed itself rather
 * than through a parent added with --subdomains (OperatorDomains need
 * an exact listing).
 */
int	authz_domain(struct session *s, const char *domain, int *exact);

/*
 * The same for customer id over db, through cache (NULL: none); -1 with
 * err set. authz_cache_new() makes a cache for it (db_cache_free()).
 */
int	authz_lookup(struct db *db, struct db_cache *cache, const char *id,
	    const char *domain, int *exact, char *err, size_t errlen);
struct db_cache *authz_cache_new(struct db *db);

#endif
