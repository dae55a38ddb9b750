/*
 * engine - the policy engine, driven by plain calls (no libmilter here)
 *
 * The milter layer (or a test, fuzzer or benchmark) creates one session
 * per SMTP connection and feeds it the events of the conversation. Each
 * event that can refuse fills a struct verdict that the caller applies.
 * The engine owns everything a decision needs: the config snapshot, the
 * attribution of the client to a customer, the rules, the evidence record.
 *
 * Transactions: session_mail() starts one; it ends (and its evidence record
 * is written) when session_eom() returns, when session_abort() is called
 * (RSET, a new MAIL, the client gave up), when a verdict says ends_txn, or
 * when the session is freed. Calling session_abort() with no transaction is
 * harmless, so the milter may call it from every path.
 *
 * Ownership: strings passed in are borrowed for the call; the session
 * copies what it keeps. session_free(NULL) is a no-op.
 * Threads: a struct engine is shared by all threads; a session belongs to
 * one connection, used by one thread at a time.
 */
#ifndef AUP_ENGINE_H
#define AUP_ENGINE_H

#include <stddef.h>

#include "cidr.h"

struct db;
struct evidence;
struct engine;
struct session;

#define VERDICT_TEXT_MAX	512
#define VERDICT_HDR_NAME_MAX	72
#define VERDICT_HDR_VALUE_MAX	96

enum verdict_kind {
	VERDICT_CONTINUE,	/* go on; nothing to say */
	VERDICT_REJECT,		/* 5xx (or 4xx for a single recipient) */
	VERDICT_TEMPFAIL	/* 4xx */
};

struct verdict {
	enum verdict_kind kind;
	int	ends_txn;		/* the transaction is over */
	char	code[4];		/* "550" */
	char	xcode[8];		/* "5.7.1" */
	char	text[VERDICT_TEXT_MAX];	/* one line, no CR/LF, no '%' games */
	/*
	 * When the message is accepted (kind VERDICT_CONTINUE at end of
	 * message): the feedback token header. The milter first removes the
	 * hdr_strip copies of hdr_name the message already has (a client's
	 * forgeries; smfi_chgheader, last first), then adds hdr_name:
	 * hdr_value if the value is not empty (smfi_addheader). Empty
	 * hdr_name: neither.
	 */
	char	hdr_name[VERDICT_HDR_NAME_MAX];
	char	hdr_value[VERDICT_HDR_VALUE_MAX];
	int	hdr_strip;
};

/*
 * db (customers, plans, opt-outs...), counters (the quota counters, see
 * qstore.h; NULL: kept in db) and ev are borrowed and must outlive the
 * engine.
 */
struct engine *engine_new(struct db *db, struct db *counters,
	    struct evidence *ev);
void	engine_free(struct engine *eng);

/*
 * A new connection. id names it in logs ("c17"); client is NULL when the
 * MTA gave no address (local submission); addr_text and name are what the
 * MTA reported ("[192.0.2.1]", "mail.example.com" or "unknown").
 */
struct session *session_new(struct engine *eng, const char *id,
	    const struct cidr *client, const char *addr_text,
	    const char *name);
void	session_free(struct session *s);
void	session_helo(struct session *s, const char *helo);
/* The MTA's queue id, whenever it becomes known (macro "i"). */
void	session_queue_id(struct session *s, const char *qid);

/*
 * MAIL FROM. sender is the path as given ("<a@b>" or "<>"), auth the SMTP
 * AUTH login or NULL, args the ESMTP parameters (NULL-terminated, may be
 * NULL).
 */
void	session_mail(struct session *s, const char *sender, const char *auth,
	    const char *const *args, struct verdict *v);
void	session_rcpt(struct session *s, const char *rcpt,
	    const char *const *args, struct verdict *v);
/* One header, as the MTA delivers it (value may contain folding). */
void	session_header(struct session *s, const char *name, const char *value);
/* A chunk of body: counted, and hashed for DKIM. */
void	session_body_data(struct session *s, const unsigned char *chunk,
	    size_t len);
/* Only the length of a chunk (tests, benchmarks): DKIM sees no body. */
void	session_body(struct session *s, size_t len);
void	session_eom(struct session *s, struct verdict *v);
void	session_abort(struct session *s);

/* The log id: "c17" or "c17 QUEUEID". Valid until the next call. */
const char *session_log_id(const struct session *s);

#endif
