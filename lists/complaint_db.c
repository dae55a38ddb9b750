/*
 * complaint_db - complaint counts and the feedback token (see
 * complaint_db.h)
 *
 * The secret comes from getrandom(2); a failure to get one is an error,
 * never a weak key. Token comparison is over hex text of fixed length.
 * Ownership: nothing kept. Threads: as db.h.
 * Errors: 0 / -1 and -1 / 0 / 1 with the reason in the transaction.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "complaint_db.h"
#include "custdb.h"
#include "sha256.h"

#define COMPLAINT_REC_V1	1
#define COMPLAINT_TYPE_MAX	64
#define COMPLAINT_SECRET_KEY	"feedback_secret"

int
complaint_db_add(struct db_txn *txn, const char *customer, int64_t ms,
    const char *ref, const char *type)
{
	uint8_t key[CUSTDB_ID_MAX + 8 + 32], val[1 + COMPLAINT_TYPE_MAX];
	size_t n, rlen = ref != NULL ? strlen(ref) : 0;
	size_t tlen = type != NULL ? strlen(type) : 0;

	if (!custdb_valid_id(customer))
		return db_txn_fail(txn, "invalid customer id '%.64s'",
		    customer);
	if (rlen >= 32)
		return db_txn_fail(txn, "complaint: reference too long");
	n = strlen(customer);
	memcpy(key, customer, n);
	key[n++] = '\0';
	for (int i = 7; i >= 0; i--)
		key[n++] = (uint8_t)((uint64_t)ms >> (8 * i));
	memcpy(key + n, ref != NULL ? ref : "", rlen);
	n += rlen;
	if (tlen > COMPLAINT_TYPE_MAX)
		tlen = COMPLAINT_TYPE_MAX;
	val[0] = COMPLAINT_REC_V1;
	memcpy(val + 1, type != NULL ? type : "", tlen);
	return db_put(txn, DB_COMPLAINTS, key, n, val, 1 + tlen);
}

struct complaint_count {
	size_t	 skip;
	uint64_t since;
	long	 n;
};

static int
complaint_count_cb(const void *key, size_t klen, const void *val,
    size_t vlen, void *arg)
{
	struct complaint_count *cc = arg;
	const uint8_t *k = key;
	uint64_t ms = 0;

	if (klen < cc->skip + 8)
		return 0;	/* not ours: cannot happen with the prefix */
	for (int i = 0; i < 8; i++)
		ms = ms << 8 | k[cc->skip + i];
	if (ms >= cc->since)
		cc->n++;
	return 0;
}

long
complaint_db_count(struct db_txn *txn, const char *customer,
    int64_t since_ms)
{
	struct complaint_count cc = { 0, 0, 0 };
	uint8_t prefix[CUSTDB_ID_MAX];
	size_t n;

	if (!custdb_valid_id(customer))
		return db_txn_fail(txn, "invalid customer id '%.64s'",
		    customer);
	n = strlen(customer);
	memcpy(prefix, customer, n);
	prefix[n++] = '\0';
	cc.skip = n;
	cc.since = since_ms > 0 ? (uint64_t)since_ms : 0;
	if (db_iter(txn, DB_COMPLAINTS, prefix, n, complaint_count_cb,
	    &cc) < 0)
		return -1;
	return cc.n;
}

int
complaint_db_secret(struct db_txn *txn, int create,
    uint8_t key[COMPLAINT_SECRET_LEN])
{
	const void *v;
	size_t vlen, got = 0;
	ssize_t r;
	int rc;

	rc = db_get(txn, DB_META, COMPLAINT_SECRET_KEY,
	    strlen(COMPLAINT_SECRET_KEY), &v, &vlen);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		if (vlen != COMPLAINT_SECRET_LEN)
			return db_txn_fail(txn, "meta: corrupt feedback "
			    "secret (length %zu)", vlen);
		memcpy(key, v, COMPLAINT_SECRET_LEN);
		return 1;
	}
	if (!create)
		return 0;
	while (got < COMPLAINT_SECRET_LEN) {
		r = getrandom(key + got, COMPLAINT_SECRET_LEN - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return db_txn_fail(txn, "no random bytes for the "
			    "feedback secret: %s", strerror(errno));
		got += (size_t)r;
	}
	if (db_put(txn, DB_META, COMPLAINT_SECRET_KEY,
	    strlen(COMPLAINT_SECRET_KEY), key, COMPLAINT_SECRET_LEN) < 0)
		return -1;
	return 1;
}

/* "aup-feedback:" and customer into msg; its length. */
static size_t
complaint_token_msg(const char *customer, char msg[16 + CUSTDB_ID_MAX])
{
	/* The prefix keeps this MAC apart from any other use of the key. */
	static const char prefix[] = "aup-feedback:";
	size_t n = strlen(customer);

	if (n > 16 + CUSTDB_ID_MAX - sizeof(prefix))
		n = 16 + CUSTDB_ID_MAX - sizeof(prefix);	/* cut, as ever */
	memcpy(msg, prefix, sizeof(prefix) - 1);
	memcpy(msg + sizeof(prefix) - 1, customer, n);
	return sizeof(prefix) - 1 + n;
}

static void
complaint_token_hex(const unsigned char mac[32],
    char out[COMPLAINT_TOKEN_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < COMPLAINT_TOKEN_LEN / 2; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 0xf];
	}
	out[COMPLAINT_TOKEN_LEN] = '\0';
}

void
complaint_db_token(const uint8_t key[COMPLAINT_SECRET_LEN],
    const char *customer, char out[COMPLAINT_TOKEN_LEN + 1])
{
	char msg[16 + CUSTDB_ID_MAX];
	unsigned char mac[32];

	sha256_hmac(key, COMPLAINT_SECRET_LEN, msg,
	    complaint_token_msg(customer, msg), mac);
	complaint_token_hex(mac, out);
}

struct sha256_hmac_key *
complaint_db_token_key(const uint8_t key[COMPLAINT_SECRET_LEN])
{
	return sha256_hmac_key_new(key, COMPLAINT_SECRET_LEN);
}

void
complaint_db_token_keyed(const struct sha256_hmac_key *k,
    const char *customer, char out[COMPLAINT_TOKEN_LEN + 1])
{
	char msg[16 + CUSTDB_ID_MAX];
	unsigned char mac[32];

	sha256_hmac_keyed(k, msg, complaint_token_msg(customer, msg), mac);
	complaint_token_hex(mac, out);
}

struct complaint_find {
	struct sha256_hmac_key *key;
	const char	*token;
	char		*customer;
};

static int
complaint_find_cb(const struct customer *c, void *arg)
{
	struct complaint_find *f = arg;
	char tok[COMPLAINT_TOKEN_LEN + 1];

	complaint_db_token_keyed(f->key, c->id, tok);
	if (strcasecmp(tok, f->token) != 0)
		return 0;
	snprintf(f->customer, CUSTDB_ID_MAX, "%s", c->id);
	return 1;
}

int
complaint_db_token_lookup(struct db_txn *txn,
    const uint8_t key[COMPLAINT_SECRET_LEN], const char *token,
    char *customer)
{
	struct complaint_find f = { NULL, token, customer };
	int rc;

	if (strlen(token) != COMPLAINT_TOKEN_LEN)
		return 0;
	f.key = complaint_db_token_key(key);
	rc = custdb_customer_each(txn, complaint_find_cb, &f);
	sha256_hmac_key_free(f.key);
	return rc;
}
