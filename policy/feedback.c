/*
 * feedback - the feedback token header on accepted outbound mail
 *
 * So that a complaint maps back to the customer even when the original's
 * Message-ID was rewritten or the evidence has rotated away, every
 * accepted attributed message gets one header (FeedbackHeader, default
 * X-AUP-Feedback) added by the MTA at end of message:
 *
 *   X-AUP-Feedback: <ref>:<token>
 *
 * ref is the transaction's evidence reference (random, the one of its
 * evidence record) and token the customer's opaque token (complaint_db.h:
 * an HMAC of the customer id under a secret kept in the database), in the
 * spirit of Gmail's Feedback-ID, whose last field is the stable sender
 * id. Neither reveals the customer's name.
 *
 * The secret is read once and cached in the engine (struct feedback), made
 * ready for HMAC once (sha256.h), so a token costs two hash compressions;
 * the first daemon that needs it and finds none creates it. When the
 * database cannot give it, messages go out unstamped (logged, and tried
 * again after a minute): the header helps abuse handling but is no reason
 * to refuse mail.
 * Ownership: feedback_new() / feedback_free(). Threads: the cache is
 * under a mutex; stamping is per-session.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complaint_db.h"
#include "db.h"
#include "log.h"
#include "sha256.h"
#include "strcopy.h"
#include "txn.h"
#include "xalloc.h"

#define FEEDBACK_RETRY_MS	60000

struct feedback {
	pthread_mutex_t	 lock;
	int		 have;
	int64_t		 retry_ms;	/* no new attempt before this */
	uint8_t		 key[COMPLAINT_SECRET_LEN];
	struct sha256_hmac_key *hk;	/* key made ready; set with have */
};

struct feedback *
feedback_new(void)
{
	struct feedback *fb = xcalloc(1, sizeof(*fb));

	pthread_mutex_init(&fb->lock, NULL);
	return fb;
}

void
feedback_free(struct feedback *fb)
{
	if (fb == NULL)
		return;
	pthread_mutex_destroy(&fb->lock);
	sha256_hmac_key_free(fb->hk);
	free(fb);
}

static int
feedback_create(struct db_txn *txn, void *arg)
{
	return complaint_db_secret(txn, 1, arg) < 0 ? -1 : 0;
}

/* Read (or create) the secret into fb->key; 0 / -1 with err. */
static int
feedback_load(struct db *db, struct feedback *fb, char *err, size_t errlen)
{
	struct db_txn *rt;
	int rc;

	if ((rt = db_read_begin(db, err, errlen)) == NULL)
		return -1;
	rc = complaint_db_secret(rt, 0, fb->key);
	if (rc < 0)
		snprintf(err, errlen, "%s", db_txn_error(rt));
	db_read_end(rt);
	if (rc == 0)	/* none yet: create it, in its own transaction */
		rc = db_write(db, feedback_create, fb->key, err, errlen) < 0 ?
		    -1 : 1;
	return rc < 0 ? -1 : 0;
}

/*
 * The secret made ready for HMAC, or NULL when it cannot be had now. It
 * is set once under the lock and never changes until feedback_free().
 */
static const struct sha256_hmac_key *
feedback_key(struct session *s)
{
	struct feedback *fb = s->eng->fb;
	const struct sha256_hmac_key *hk = NULL;
	char err[512];
	int64_t now;

	pthread_mutex_lock(&fb->lock);
	if (!fb->have && (now = evidence_now_ms()) >= fb->retry_ms) {
		if (feedback_load(s->eng->db, fb, err, sizeof(err)) < 0) {
			fb->retry_ms = now + FEEDBACK_RETRY_MS;
			log_msg(LOG_ERR, s->logid, "feedback token secret "
			    "unavailable, mail goes out unstamped: %s", err);
		} else {
			fb->hk = complaint_db_token_key(fb->key);
			fb->have = 1;
		}
	}
	if (fb->have)
		hk = fb->hk;
	pthread_mutex_unlock(&fb->lock);
	return hk;
}

void
feedback_stamp(struct session *s, struct verdict *v)
{
	struct txn *t = s->txn;
	const struct sha256_hmac_key *hk;
	char token[COMPLAINT_TOKEN_LEN + 1];
	const char *name;

	/* Unattributed (inbound) mail is not ours to stamp or clean. */
	if (t == NULL || t->attr.by == ATTRIB_NONE ||
	    (name = config_feedback_header(t->cfg)) == NULL)
		return;
	strcopy(v->hdr_name, sizeof(v->hdr_name), name);
	/* A customer's copy could send complaints to another customer. */
	if ((v->hdr_strip = t->nfeedback) > 0)
		log_msg(LOG_NOTICE, s->logid, "ref=%s removing %d %s header%s "
		    "the client sent", t->ref, t->nfeedback, name,
		    t->nfeedback > 1 ? "s" : "");
	if ((hk = feedback_key(s)) == NULL)
		return;
	complaint_db_token_keyed(hk, t->cust.id, token);
	strcopy2(v->hdr_value, sizeof(v->hdr_value), t->ref, ':', token);
}
