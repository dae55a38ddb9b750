/*
 * complaint_db - complaints counted against customers, and the key of
 * the feedback token that maps a complaint back to a customer
 *
 * Complaints: one entry per complaint ingested (DB_COMPLAINTS), keyed
 * "CUSTOMER\0" + u64 big-endian milliseconds + evidence ref, so a
 * customer's complaints are one key range in time order and the count
 * over any window (SPEC "complaints over threshold") is a range scan.
 * Value: u8 version=1, then the Feedback-Type text (may be empty).
 * Kept apart from the customer record (custdb.c) on purpose: counting a
 * complaint never rewrites the customer.
 *
 * Feedback token: the milter stamps accepted outbound mail with an opaque
 * per-customer token, HMAC-SHA-256(secret, customer id) cut to
 * COMPLAINT_TOKEN_LEN hex digits; the secret (32 random bytes) lives in
 * DB_META under "feedback_secret", created by the first writer that needs
 * it, so the token names no customer and cannot be made without the
 * database. Mapping a token back tries every customer (an admin command
 * does it, not the mail path).
 *
 * Threads and lifetimes: as db.h. Errors: actions 0 / -1 (reason via
 * db_txn_error); lookups -1 / 0 / 1.
 */
#ifndef AUP_COMPLAINT_DB_H
#define AUP_COMPLAINT_DB_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct sha256_hmac_key;

#define COMPLAINT_SECRET_LEN	32
#define COMPLAINT_TOKEN_LEN	20	/* hex digits: 80 bits */

/* Count one complaint (ref and type may be NULL) against customer. */
int	complaint_db_add(struct db_txn *txn, const char *customer,
	    int64_t ms, const char *ref, const char *type);

/* Complaints of customer at or after since_ms (0: all); -1 on error. */
long	complaint_db_count(struct db_txn *txn, const char *customer,
	    int64_t since_ms);

/*
 * The feedback secret into key. With create (a write transaction) a
 * missing secret is made and stored. -1 error / 0 none yet / 1 found.
 */
int	complaint_db_secret(struct db_txn *txn, int create,
	    uint8_t key[COMPLAINT_SECRET_LEN]);

/* The token of customer under key: COMPLAINT_TOKEN_LEN hex and NUL. */
void	complaint_db_token(const uint8_t key[COMPLAINT_SECRET_LEN],
	    const char *customer, char out[COMPLAINT_TOKEN_LEN + 1]);

/*
 * For many tokens under one key: the key made ready once (freed with
 * sha256_hmac_key_free(); may be shared by threads), and the token of
 * customer under it, the same as complaint_db_token() gives.
 */
struct sha256_hmac_key *complaint_db_token_key(
	    const uint8_t key[COMPLAINT_SECRET_LEN]);
void	complaint_db_token_keyed(const struct sha256_hmac_key *k,
	    const char *customer, char out[COMPLAINT_TOKEN_LEN + 1]);

/*
 * The customer whose token is token (case-insensitive) into customer
 * (CUSTDB_ID_MAX bytes). -1 / 0 / 1.
 */
int	complaint_db_token_lookup(struct db_txn *txn,
	    const uint8_t key[COMPLAINT_SECRET_LEN], const char *token,
	    char *customer);

#endif
