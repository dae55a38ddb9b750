/*
 * attrib - attribution of a transaction to a customer (see attrib.h)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "attrib.h"
#include "timefmt.h"
#include "lease_db.h"
#include "strcopy.h"

/* "192.0.2.7 2026-11-22T08:00:00Z/-": the address, start and end. */
static void
attrib_lease_text(const struct lease *l, char *buf, size_t len)
{
	char ip[64], from[TIMEFMT_LEN], to[TIMEFMT_LEN];

	cidr_format(&l->addr, ip, sizeof(ip));
	timefmt_utc(l->from, from, sizeof(from));
	if (l->to == 0)
		snprintf(to, sizeof(to), "-");
	else
		timefmt_utc(l->to, to, sizeof(to));
	snprintf(buf, len, "%s %s/%s", ip, from, to);
}

int
attrib_resolve(struct db_txn *txn, const char *auth,
    const struct cidr *client, struct attribution *a)
{
	struct cidr net;
	struct lease l;
	int r;

	memset(a, 0, sizeof(*a));
	a->by = ATTRIB_NONE;
	if (auth != NULL && *auth != '\0') {
		r = custdb_login_lookup(txn, auth, a->customer);
		if (r < 0)
			return -1;
		if (r > 0) {
			a->by = ATTRIB_LOGIN;
			strcopy(a->via, sizeof(a->via), auth);
			return 1;
		}
	}
	if (client != NULL) {
		r = custdb_network_lookup(txn, client, a->customer, &net);
		if (r < 0)
			return -1;
		if (r > 0) {
			a->by = ATTRIB_NETWORK;
			cidr_format(&net, a->via, sizeof(a->via));
			return 1;
		}
		r = lease_lookup(txn, client, (int64_t)time(NULL), &l);
		if (r < 0)
			return -1;
		if (r > 0) {
			a->by = ATTRIB_LEASE;
			snprintf(a->customer, sizeof(a->customer), "%s",
			    l.customer);
			attrib_lease_text(&l, a->via, sizeof(a->via));
			return 1;
		}
	}
	a->customer[0] = '\0';
	return 0;
}

const char *
attrib_by_name(enum attrib_by by)
{
	switch (by) {
	case ATTRIB_LOGIN:
		return "login";
	case ATTRIB_NETWORK:
		return "network";
	case ATTRIB_LEASE:
		return "lease";
	default:
		return "none";
	}
}
