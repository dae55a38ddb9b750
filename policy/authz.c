/*
 * authz - authorized domains of the attributed customer (see authz.h)
 *
 * Cache key: the customer id, a NUL and the domain as asked; value: the
 * answer and whether the domain is listed itself. The answer does not
 * depend on the clock. A longer domain than a key holds is read each time.
 */
#include <string.h>

#include "authz.h"
#include "custdb.h"
#include "db.h"
#include "db_cache.h"
#include "errbuf.h"
#include "log.h"
#include "txn.h"

#define AUTHZ_CACHE_ENTRIES	2048
#define AUTHZ_KEY_MAX		(CUSTDB_ID_MAX + CUSTDB_DOMAIN_MAX)

struct authz_answer {
	int	r;
	int	exact;
};

struct db_cache *
authz_cache_new(struct db *db)
{
	return db_cache_new(db, AUTHZ_CACHE_ENTRIES, AUTHZ_KEY_MAX,
	    sizeof(struct authz_answer));
}

int
authz_lookup(struct db *db, struct db_cache *cache, const char *id,
    const char *domain, int *exact, char *err, size_t errlen)
{
	char key[AUTHZ_KEY_MAX];
	size_t ilen = strlen(id), dlen = strlen(domain), klen = 0;
	struct authz_answer a;
	struct db_txn *rt;

	*exact = 0;
	if (cache != NULL && ilen + 1 + dlen <= sizeof(key)) {
		memcpy(key, id, ilen + 1);
		memcpy(key + ilen + 1, domain, dlen);
		klen = ilen + 1 + dlen;
		if (db_cache_get(cache, db_cache_txnid(cache), key, klen, 0,
		    &a)) {
			*exact = a.exact;
			return a.r;
		}
	}
	if ((rt = db_read_begin(db, err, errlen)) == NULL)
		return -1;
	a.r = custdb_domain_match(rt, id, domain, &a.exact);
	if (a.r < 0)
		errbuf_set(err, errlen, "%s", db_txn_error(rt));
	else if (klen > 0)
		db_cache_put(cache, rt, key, klen, INT64_MIN, INT64_MAX, &a);
	db_read_end(rt);
	*exact = a.exact;
	return a.r;
}

int
authz_domain(struct session *s, const char *domain, int *exact)
{
	char err[512];
	int r;

	r = authz_lookup(s->eng->db, s->eng->authz_cache, s->txn->cust.id,
	    domain, exact, err, sizeof(err));
	if (r < 0)
		log_msg(LOG_ERR, s->logid, "database: %s", err);
	return r;
}
