/*
 * authz - authorized domains of the attributed customer (see authz.h)
 */
#include "authz.h"
#include "custdb.h"
#include "db.h"
#include "log.h"
#include "txn.h"

int
authz_domain(struct session *s, const char *domain, int *exact)
{
	struct txn *t = s->txn;
	struct db_txn *rt;
	char err[512];
	int r;

	*exact = 0;
	if ((rt = db_read_begin(s->eng->db, err, sizeof(err))) == NULL) {
		log_msg(LOG_ERR, s->logid, "database: %s", err);
		return -1;
	}
	r = custdb_domain_match(rt, t->cust.id, domain, exact);
	if (r < 0)
		log_msg(LOG_ERR, s->logid, "database: %s", db_txn_error(rt));
	db_read_end(rt);
	return r;
}
