/*
 * attrib - attribution of a transaction to a customer (see attrib.h)
 */
#include <stdio.h>
#include <string.h>

#include "attrib.h"

int
attrib_resolve(struct db_txn *txn, const char *auth,
    const struct cidr *client, struct attribution *a)
{
	struct cidr net;
	int r;

	memset(a, 0, sizeof(*a));
	a->by = ATTRIB_NONE;
	if (auth != NULL && *auth != '\0') {
		r = custdb_login_lookup(txn, auth, a->customer);
		if (r < 0)
			return -1;
		if (r > 0) {
			a->by = ATTRIB_LOGIN;
			snprintf(a->via, sizeof(a->via), "%s", auth);
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
	default:
		return "none";
	}
}
