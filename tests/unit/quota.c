/*
 * quota unit test: the quota rules through the engine (session_* calls)
 * over a real LMDB environment and evidence log - hourly messages, daily
 * recipients, bombing, size at MAIL and at end of message, the per-send
 * cap, a login's own plan, warn events, log mode, reservations given back,
 * counts kept across a reopen, and 20 threads racing for a quota.
 */
#include <pthread.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "custdb.h"
#include "db.h"
#include "engine.h"
#include "evidence.h"
#include "json.h"
#include "log.h"
#include "quota_db.h"
#include "tap.h"

/*
 * An address literal: the return-address rule (in log mode here) then has
 * no DNS to ask, so this test needs no name server.
 */
#define SENDER	"<a@[192.0.2.1]>"
#define BASE_CONFIG "Rule.return_address log\nRule.header_from log\n"

static char dir[] = "/tmp/aup-quota-XXXXXX";
static char evpath[300], dbpath[300];
static struct db *db;
static struct evidence *ev;
static struct engine *eng;

static void
set_plan(struct db_txn *t, const char *name, int k1, uint64_t v1, int k2,
    uint64_t v2)
{
	struct plan p;

	plan_defaults(&p, name);
	p.lim[PLAN_WARN_PERCENT] = 0;
	if (k1 >= 0)
		p.lim[k1] = v1;
	if (k2 >= 0)
		p.lim[k2] = v2;
	if (custdb_plan_put(t, &p) < 0)
		bail("plan %s: %s", name, db_txn_error(t));
}

static void
add_customer(struct db_txn *t, const char *id, const char *plan,
    const char *login)
{
	struct customer c = { 0 };

	snprintf(c.id, sizeof(c.id), "%s", id);
	snprintf(c.plan, sizeof(c.plan), "%s", plan);
	snprintf(c.contact, sizeof(c.contact), "noc@%s.example", id);
	if (custdb_customer_put(t, &c) < 0 ||
	    custdb_login_add(t, id, login) < 0)
		bail("customer %s: %s", id, db_txn_error(t));
}

static int
provision(struct db_txn *t, void *arg)
{
	set_plan(t, "hourly", PLAN_MSGS_PER_HOUR, 3, -1, 0);
	set_plan(t, "daily", PLAN_RCPTS_PER_DAY, 5, -1, 0);
	set_plan(t, "bomb", PLAN_PER_RCPT_PER_HOUR, 2, -1, 0);
	set_plan(t, "small", PLAN_MAX_MSG_BYTES, 1000, -1, 0);
	set_plan(t, "send", PLAN_MAX_RCPTS_PER_MSG, 3, -1, 0);
	set_plan(t, "warn", PLAN_MSGS_PER_HOUR, 4, PLAN_WARN_PERCENT, 50);
	set_plan(t, "tight", PLAN_MSGS_PER_HOUR, 1, -1, 0);
	set_plan(t, "race", PLAN_MSGS_PER_HOUR, 7, -1, 0);
	add_customer(t, "hco", "hourly", "h");
	add_customer(t, "dco", "daily", "d");
	add_customer(t, "bco", "bomb", "b");
	add_customer(t, "sco", "small", "s");
	add_customer(t, "pco", "send", "p");
	add_customer(t, "wco", "warn", "w");
	return 0;
}

static int
provision2(struct db_txn *t, void *arg)
{
	struct customer c = { 0 };

	set_plan(t, "basic", -1, 0, -1, 0);
	snprintf(c.id, sizeof(c.id), "lco");
	snprintf(c.plan, sizeof(c.plan), "basic");
	snprintf(c.contact, sizeof(c.contact), "noc@lco.example");
	if (custdb_customer_put(t, &c) < 0 ||
	    custdb_login_add(t, "lco", "bob") < 0 ||
	    custdb_login_add(t, "lco", "alice") < 0 ||
	    custdb_login_plan_set(t, "lco", "bob", "tight") < 0)
		return -1;
	if (custdb_login_plan_set(t, "lco", "h", "tight") == 0)
		return db_txn_fail(t, "a login of another customer got a plan");
	add_customer(t, "rco", "race", "r");
	add_customer(t, "gco", "hourly", "g");
	return 0;
}

/* Evidence lines: the last one with "event":"<event>", one field of it. */
static void
last_event_field(const char *event, const char *key, struct strbuf *out)
{
	char line[65536], last[65536] = "", pat[64];
	FILE *fp = fopen(evpath, "r");

	strbuf_reset(out);
	if (fp == NULL)
		return;
	snprintf(pat, sizeof(pat), "\"event\":\"%s\"", event);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, pat) != NULL)
			memcpy(last, line, sizeof(last));
	fclose(fp);
	json_field(last, strlen(last), key, out);
}

static int
field_is(const char *event, const char *key, const char *want,
    const char *desc)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	last_event_field(event, key, &sb);
	r = is_str(strbuf_str(&sb), want, "%s", desc);
	strbuf_free(&sb);
	return r;
}

static int
count_events(const char *event)
{
	char line[65536], pat[64];
	FILE *fp = fopen(evpath, "r");
	int n = 0;

	if (fp == NULL)
		return 0;
	snprintf(pat, sizeof(pat), "\"event\":\"%s\"", event);
	while (fgets(line, sizeof(line), fp) != NULL)
		n += strstr(line, pat) != NULL;
	fclose(fp);
	return n;
}

/*
 * One message by login, to the comma-separated rcpts, with message id mid
 * (NULL: none) and body bytes; rv gets the last RCPT verdict, returns the
 * EOM verdict kind (or the RCPT one if no recipient passed).
 */
static int
sendmsg_(const char *login, const char *rcpts, const char *mid,
    size_t body, const char *const *margs, struct verdict *rv,
    struct verdict *ev_)
{
	struct cidr a;
	struct session *s;
	char list[1024], *r, *save;
	struct verdict mv, dummy;
	int any = 0;

	if (ev_ == NULL)
		ev_ = &dummy;
	cidr_parse_addr("198.51.100.9", &a);
	s = session_new(eng, "c1", &a, "198.51.100.9", "client.example");
	session_mail(s, SENDER, login, margs, &mv);
	if (mv.kind != VERDICT_CONTINUE) {
		*rv = mv;
		*ev_ = mv;
		session_free(s);
		return mv.kind;
	}
	snprintf(list, sizeof(list), "%s", rcpts);
	for (r = strtok_r(list, ",", &save); r != NULL;
	    r = strtok_r(NULL, ",", &save)) {
		char path[300];

		snprintf(path, sizeof(path), "<%s>", r);
		session_rcpt(s, path, NULL, rv);
		any |= rv->kind == VERDICT_CONTINUE;
	}
	if (!any) {
		session_free(s);
		*ev_ = *rv;
		return rv->kind;
	}
	if (mid != NULL)
		session_header(s, "Message-ID", mid);
	session_body(s, body);
	session_eom(s, ev_);
	session_free(s);
	return ev_->kind;
}

#define SEND(l, r, m, rv, e)	sendmsg_(l, r, m, 10, NULL, rv, e)

static uint64_t
counter(enum quota_scope sc, const char *id, enum quota_kind k,
    const char *tail)
{
	struct quota_key key;
	struct quota_counter c;
	struct db_txn *rt;
	char err[256];

	quota_key_make(&key, sc, id, k, tail, tail ? strlen(tail) : 0);
	if ((rt = db_read_begin(db, err, sizeof(err))) == NULL)
		bail("%s", err);
	if (quota_db_get(rt, &key, (int64_t)time(NULL), &c) < 0)
		bail("%s", db_txn_error(rt));
	db_read_end(rt);
	return c.count;
}

static void
load_config(const char *extra)
{
	char path[300], err[1024];
	struct config *cfg;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/aup.conf", dir);
	if ((fp = fopen(path, "w")) == NULL)
		bail("cannot write config");
	fprintf(fp, "Socket inet:8895@127.0.0.1\nDatabase db\n"
	    "EvidenceLog evidence.log\n" BASE_CONFIG "%s", extra);
	fclose(fp);
	if ((cfg = config_load(path, err, sizeof(err))) == NULL)
		bail("%s", err);
	config_swap(cfg);
}

static void
open_all(void)
{
	char err[512];

	if ((db = db_open(dbpath, 1 << 20, 64 << 20, 0, err, sizeof(err))) ==
	    NULL || (ev = evidence_open(evpath, 0, err, sizeof(err))) == NULL)
		bail("%s", err);
	eng = engine_new(db, NULL, ev);
}

static void
close_all(void)
{
	engine_free(eng);
	evidence_close(ev);
	db_close(db);
}

/* Not within a few seconds of an hour boundary: windows must not roll. */
static void
avoid_boundary(void)
{
	time_t now = time(NULL);

	if (3600 - now % 3600 < 15) {
		diag("waiting %ld s for the hour to turn",
		    (long)(3600 - now % 3600) + 1);
		sleep((unsigned)(3600 - now % 3600) + 1);
	}
}

static void
test_hourly(void)
{
	struct verdict rv, e;

	for (int i = 0; i < 3; i++)
		SEND("h", "r@remote.example", NULL, &rv, &e);
	is_int(e.kind, VERDICT_CONTINUE, "hourly: third message accepted");
	is_int((long long)counter(QUOTA_CUSTOMER, "hco", QUOTA_MSGS_HOUR,
	    NULL), 3, "hourly: 3 charged");
	SEND("h", "r@remote.example", NULL, &rv, &e);
	is_str(rv.code, "451", "hourly: fourth refused at RCPT with 451");
	is_str(rv.xcode, "4.7.1", "hourly: 4.7.1");
	ok(strstr(rv.text, "Hourly message quota of 3 reached for customer "
	    "hco; resets ") != NULL && strstr(rv.text, ":00 UTC (rule rate, "
	    "ref ") != NULL, "hourly: reply names limit, value, reset, rule "
	    "and ref: %s", rv.text);
	field_is("transaction", "rule", "rate", "hourly: evidence rule rate");
	is_int((long long)counter(QUOTA_CUSTOMER, "hco", QUOTA_MSGS_HOUR,
	    NULL), 3, "hourly: the refused message is not charged");
}

/*
 * An accepted message whose evidence record cannot be written is
 * tempfailed (EvidenceFailure tempfail), so its charge is given back.
 */
static void
test_evidence_failure(void)
{
	char moved[320];
	uint64_t before;
	struct verdict rv, e;

	before = counter(QUOTA_CUSTOMER, "lco", QUOTA_MSGS_HOUR, NULL);
	snprintf(moved, sizeof(moved), "%s.moved", evpath);
	if (rename(evpath, moved) < 0 || mkdir(evpath, 0700) < 0)
		bail("cannot break the evidence log");
	SEND("alice", "r@remote.example", NULL, &rv, &e);
	is_str(e.code, "451", "evidence failure: the message is tempfailed");
	ok(strstr(e.text, "Evidence log unavailable") != NULL,
	    "evidence failure: the reply says why: %s", e.text);
	is_int((long long)counter(QUOTA_CUSTOMER, "lco", QUOTA_MSGS_HOUR,
	    NULL), (long long)before, "evidence failure: the charge is given "
	    "back");
	if (rmdir(evpath) < 0 || rename(moved, evpath) < 0)
		bail("cannot restore the evidence log");
	SEND("alice", "r@remote.example", NULL, &rv, &e);
	is_int(e.kind, VERDICT_CONTINUE, "evidence back: accepted");
	is_int((long long)counter(QUOTA_CUSTOMER, "lco", QUOTA_MSGS_HOUR,
	    NULL), (long long)before + 1, "evidence back: charged once");
}

static void
test_daily_and_release(void)
{
	struct verdict rv, e;
	struct session *s;
	struct cidr a;

	/* Reserve 4 recipients, then abort: they are given back. */
	cidr_parse_addr("198.51.100.9", &a);
	s = session_new(eng, "c2", &a, "198.51.100.9", NULL);
	session_mail(s, SENDER, "d", NULL, &rv);
	session_rcpt(s, "<a1@remote.example>", NULL, &rv);
	session_rcpt(s, "<a2@remote.example>", NULL, &rv);
	session_rcpt(s, "<a3@remote.example>", NULL, &rv);
	session_rcpt(s, "<a4@remote.example>", NULL, &rv);
	SEND("d", "x1@remote.example,x2@remote.example", NULL, &rv, &e);
	is_str(rv.code, "451", "daily: with 4 reserved, the 2nd recipient of "
	    "another transaction is refused");
	ok(strstr(rv.text, "Daily recipient quota of 5 reached for customer "
	    "dco; resets 00:00 UTC") != NULL, "daily: reply: %s", rv.text);
	is_int(e.kind, VERDICT_CONTINUE, "daily: its first recipient went");
	session_abort(s);	/* RSET */
	session_mail(s, SENDER, "d", NULL, &rv);
	session_rcpt(s, "<a5@remote.example>", NULL, &rv);
	session_free(s);	/* the client is gone */
	is_int((long long)counter(QUOTA_CUSTOMER, "dco", QUOTA_RCPTS_DAY,
	    NULL), 1, "daily: aborted and dropped transactions charge "
	    "nothing");
	SEND("d", "y1@remote.example,y2@remote.example,Y2@REMOTE.example,"
	    "y3@remote.example,y4@remote.example", NULL, &rv, &e);
	is_int(e.kind, VERDICT_CONTINUE, "daily: reservations were given "
	    "back: 4 more recipients (one spelled twice) accepted");
	is_int((long long)counter(QUOTA_CUSTOMER, "dco", QUOTA_RCPTS_DAY,
	    NULL), 5, "daily: 5 charged in all");
}

static void
test_bomb(void)
{
	struct verdict rv, e;

	SEND("b", "victim@remote.example", NULL, &rv, &e);
	SEND("b", "victim@REMOTE.example", NULL, &rv, &e);
	is_int(e.kind, VERDICT_CONTINUE, "bomb: 2 messages to one recipient");
	SEND("b", "other@remote.example,victim@Remote.Example", NULL, &rv, &e);
	is_str(rv.code, "451", "bomb: the third to it is refused at RCPT");
	ok(strstr(rv.text, "Hourly limit of 2 messages to "
	    "victim@remote.example reached for customer bco") != NULL &&
	    strstr(rv.text, "rule bomb") != NULL, "bomb: reply: %s", rv.text);
	is_int(e.kind, VERDICT_CONTINUE, "bomb: the other recipient still "
	    "gets it");
	is_int((long long)counter(QUOTA_CUSTOMER, "bco", QUOTA_RCPT_HOUR,
	    "victim@remote.example"), 2, "bomb: victim counted twice");
}

static void
test_size(void)
{
	const char *big[] = { "SIZE=1001", NULL }, *fits[] = { "SIZE=999",
	    NULL };
	struct verdict rv, e;

	sendmsg_("s", "r@remote.example", NULL, 10, big, &rv, &e);
	is_str(rv.code, "552", "size: SIZE=1001 refused at MAIL with 552");
	ok(strstr(rv.text, "Message size 1001 exceeds the limit of 1000 bytes "
	    "for customer sco (rule msg_size") != NULL, "size: reply: %s",
	    rv.text);
	field_is("transaction", "stage", "mail", "size: recorded at mail");
	sendmsg_("s", "r@remote.example", NULL, 2000, fits, &rv, &e);
	is_str(e.code, "552", "size: a real size over the limit is refused "
	    "at EOM");
	is_str(e.xcode, "5.3.4", "size: 5.3.4");
	is_int((long long)counter(QUOTA_CUSTOMER, "sco", QUOTA_MSGS_HOUR,
	    NULL), 0, "size: nothing charged");
	sendmsg_("s", "r@remote.example", NULL, 500, fits, &rv, &e);
	is_int(e.kind, VERDICT_CONTINUE, "size: a message under it passes");
}

static void
test_send(void)
{
	struct verdict rv, e;

	SEND("p", "a@r.example,b@r.example", "<split@p.example>", &rv, &e);
	is_int(e.kind, VERDICT_CONTINUE, "send: first part (2) accepted");
	SEND("p", "c@r.example", "<split@p.example>", &rv, &e);
	is_int(e.kind, VERDICT_CONTINUE, "send: second part takes it to 3");
	SEND("p", "d@r.example,e@r.example", "<split@p.example>", &rv, &e);
	is_str(e.code, "550", "send: the part that goes over 3 is refused "
	    "whole at EOM with 550");
	ok(strstr(e.text, "reaches 5 recipients, over the limit of 3 per "
	    "send for customer pco") != NULL && strstr(e.text,
	    "rule rcpt_cap") != NULL, "send: reply: %s", e.text);
	is_int((long long)counter(QUOTA_CUSTOMER, "pco", QUOTA_MSGS_HOUR,
	    NULL), 2, "send: the refused part is not charged");
	SEND("p", "d@r.example,e@r.example", "<other@p.example>", &rv, &e);
	is_int(e.kind, VERDICT_CONTINUE, "send: another Message-ID is "
	    "another send");
}

static void
test_login_plan_and_warn(void)
{
	struct verdict rv, e;

	SEND("bob", "r@remote.example", NULL, &rv, &e);
	is_int(e.kind, VERDICT_CONTINUE, "login plan: bob's first message");
	SEND("bob", "r2@remote.example", NULL, &rv, &e);
	ok(strstr(rv.text, "Hourly message quota of 1 reached for login bob")
	    != NULL, "login plan: bob's own plan stops the second: %s",
	    rv.text);
	SEND("alice", "r@remote.example", NULL, &rv, &e);
	is_int(e.kind, VERDICT_CONTINUE, "login plan: alice, same customer, "
	    "goes on");
	is_int((long long)counter(QUOTA_CUSTOMER, "lco", QUOTA_MSGS_HOUR,
	    NULL), 2, "login plan: the customer counts both logins");

	SEND("w", "r@remote.example", NULL, &rv, &e);
	is_int(count_events("warn"), 0, "warn: 1 of 4 is under 50%%");
	SEND("w", "r@remote.example", NULL, &rv, &e);
	is_int(count_events("warn"), 1, "warn: 2 of 4 crosses 50%%: one "
	    "warn event");
	field_is("warn", "counter", "msgs_per_hour", "warn: names the counter");
	field_is("warn", "customer", "wco", "warn: names the customer");
	SEND("w", "r@remote.example", NULL, &rv, &e);
	is_int(count_events("warn"), 1, "warn: once per window");
}

struct racer {
	int	accepted;
};

static void *
race_one(void *arg)
{
	struct racer *r = arg;
	struct verdict rv, e;

	for (int i = 0; i < 3; i++)
		if (SEND("r", "t@remote.example", NULL, &rv, &e) ==
		    VERDICT_CONTINUE)
			r->accepted++;
	return NULL;
}

static void
test_race(void)
{
	struct racer r[20];
	pthread_t th[20];
	int accepted = 0;

	for (int i = 0; i < 20; i++) {
		r[i].accepted = 0;
		pthread_create(&th[i], NULL, race_one, &r[i]);
	}
	for (int i = 0; i < 20; i++) {
		pthread_join(th[i], NULL);
		accepted += r[i].accepted;
	}
	is_int(accepted, 7, "race: 20 threads x 3 messages, quota 7: exactly "
	    "7 accepted");
	is_int((long long)counter(QUOTA_CUSTOMER, "rco", QUOTA_MSGS_HOUR,
	    NULL), 7, "race: 7 charged");
}

int
main(void)
{
	struct verdict rv, e;
	char err[512];

	if (mkdtemp(dir) == NULL)
		bail("mkdtemp");
	log_open("quota-test", 0, LOG_CRIT);
	snprintf(evpath, sizeof(evpath), "%s/evidence.log", dir);
	snprintf(dbpath, sizeof(dbpath), "%s/db", dir);
	load_config("");
	open_all();
	if (db_write(db, provision, NULL, err, sizeof(err)) < 0 ||
	    db_write(db, provision2, NULL, err, sizeof(err)) < 0)
		bail("provision: %s", err);
	plan(53);
	avoid_boundary();
	test_hourly();
	test_daily_and_release();
	test_bomb();
	test_size();
	test_send();
	test_login_plan_and_warn();
	test_race();
	test_evidence_failure();

	/* Counts survive closing and reopening everything. */
	close_all();
	open_all();
	is_int((long long)counter(QUOTA_CUSTOMER, "hco", QUOTA_MSGS_HOUR,
	    NULL), 3, "reopen: the committed count is still 3");
	SEND("h", "r@remote.example", NULL, &rv, &e);
	is_str(rv.code, "451", "reopen: and still enforced");

	/* Rule.rate log: observed, accepted, charged. */
	load_config("Rule.rate log\n");
	SEND("g", "r@remote.example", NULL, &rv, &e);
	SEND("g", "r@remote.example", NULL, &rv, &e);
	SEND("g", "r@remote.example", NULL, &rv, &e);
	SEND("g", "r@remote.example", NULL, &rv, &e);
	is_int(e.kind, VERDICT_CONTINUE, "log mode: the 4th of 3 is accepted");
	{
		struct strbuf sb = STRBUF_INIT;

		last_event_field("transaction", "violations", &sb);
		ok(strstr(strbuf_str(&sb), "\"rule\":\"rate\"") != NULL,
		    "log mode: recorded as a violation: %s", strbuf_str(&sb));
		strbuf_free(&sb);
	}
	is_int((long long)counter(QUOTA_CUSTOMER, "gco", QUOTA_MSGS_HOUR,
	    NULL), 4, "log mode: charged");
	{
		const char *files[] = { evpath };
		struct ev_verify_result res;

		is_int(evidence_verify(files, 1, &res), 0,
		    "evidence chain verifies");
	}
	close_all();
	config_swap(NULL);
	return tap_done();
}
