/*
 * engine unit test: drives the policy engine directly (no libmilter) over
 * a real LMDB environment and a real evidence log, and checks what a user
 * would see: the reply code and text, and the evidence record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cidr.h"
#include "config.h"
#include "dns_server.h"
#include "custdb.h"
#include "db.h"
#include "engine.h"
#include "evidence.h"
#include "json.h"
#include "log.h"
#include "tap.h"

static char dir[] = "/tmp/aup-engine-XXXXXX";
static char evpath[300];

static int
provision(struct db_txn *t, void *arg)
{
	struct plan p;
	struct customer c = { 0 };
	struct cidr net;
	char err[128];

	plan_defaults(&p, "tiny");
	p.lim[PLAN_MAX_RCPTS_PER_MSG] = 3;
	if (custdb_plan_put(t, &p) < 0)
		return -1;
	snprintf(c.id, sizeof(c.id), "acme");
	snprintf(c.plan, sizeof(c.plan), "tiny");
	snprintf(c.contact, sizeof(c.contact), "noc@acme.example");
	if (custdb_customer_put(t, &c) < 0 ||
	    custdb_login_add(t, "acme", "alice") < 0 ||
	    custdb_domain_add(t, "acme", "acme.example", 0) < 0)
		return -1;
	snprintf(c.id, sizeof(c.id), "netco");
	if (custdb_customer_put(t, &c) < 0 ||
	    cidr_parse("192.0.2.0/24", &net, err, sizeof(err)) < 0 ||
	    custdb_network_add(t, "netco", &net) < 0 ||
	    cidr_parse("2001:db8::/32", &net, err, sizeof(err)) < 0 ||
	    custdb_network_add(t, "netco", &net) < 0 ||
	    custdb_domain_add(t, "netco", "netco.example", 0) < 0)
		return -1;
	return 0;
}

/* The last line of the evidence log, and one field of it. */
static void
last_field(const char *key, struct strbuf *out)
{
	char line[65536], last[65536] = "";
	FILE *fp = fopen(evpath, "r");

	strbuf_reset(out);
	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		memcpy(last, line, sizeof(last));
	fclose(fp);
	json_field(last, strlen(last), key, out);
}

static int
field_is(const char *key, const char *want, const char *desc)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	last_field(key, &sb);
	r = is_str(strbuf_str(&sb), want, "%s", desc);
	strbuf_free(&sb);
	return r;
}

static struct session *
connect_from(struct engine *eng, const char *ip)
{
	struct cidr a;

	if (cidr_parse_addr(ip, &a) < 0)
		bail("bad test address %s", ip);
	return session_new(eng, "c1", &a, ip, "client.example");
}

int
main(void)
{
	char err[1024], path[300];
	struct config *cfg;
	struct db *db;
	struct evidence *ev;
	struct engine *eng;
	struct session *s;
	struct verdict v;
	FILE *fp;
	int dns_port, dns_silent;

	if (mkdtemp(dir) == NULL)
		bail("mkdtemp");
	log_open("engine-test", 0, LOG_ERR);
	snprintf(path, sizeof(path), "%s/aup.conf", dir);
	snprintf(evpath, sizeof(evpath), "%s/evidence.log", dir);
	if ((fp = fopen(path, "w")) == NULL)
		bail("cannot write config");
	/* Return addresses are checked in DNS: the loopback test server. */
	dns_server_start(&dns_port, &dns_silent);
	fprintf(fp, "Socket inet:8895@127.0.0.1\nDatabase db\n"
	    "EvidenceLog evidence.log\nLocalDomains example.net\n"
	    "Nameserver 127.0.0.1:%d\n", dns_port);
	fclose(fp);
	if ((cfg = config_load(path, err, sizeof(err))) == NULL)
		bail("%s", err);
	config_swap(cfg);
	snprintf(path, sizeof(path), "%s/db", dir);
	if ((db = db_open(path, 1 << 20, 64 << 20, 0, err, sizeof(err))) ==
	    NULL || (ev = evidence_open(evpath, 0, err, sizeof(err))) == NULL)
		bail("%s", err);
	if (db_write(db, provision, NULL, err, sizeof(err)) < 0)
		bail("provision: %s", err);
	eng = engine_new(db, NULL, ev);
	plan(26);

	/* Unattributed client: inbound to a local domain passes. */
	s = connect_from(eng, "198.51.100.7");
	session_helo(s, "client.example");
	session_mail(s, "<x@elsewhere.example>", NULL, NULL, &v);
	is_int(v.kind, VERDICT_CONTINUE, "unattributed MAIL continues");
	session_rcpt(s, "<User@Example.NET>", NULL, &v);
	is_int(v.kind, VERDICT_CONTINUE, "RCPT to a LocalDomain passes");
	session_rcpt(s, "<victim@remote.example>", NULL, &v);
	is_int(v.kind, VERDICT_REJECT, "RCPT to a remote domain refused");
	is_str(v.code, "550", "relay reply code");
	is_str(v.xcode, "5.7.1", "relay enhanced code");
	ok(strstr(v.text, "rule relay, ref ") != NULL, "reply names rule: %s",
	    v.text);
	session_queue_id(s, "4ABC123");
	session_header(s, "Message-ID", " <m1@elsewhere.example>");
	session_header(s, "Subject", " hello\n\tworld");
	session_eom(s, &v);
	is_int(v.kind, VERDICT_CONTINUE, "message accepted at EOM");
	field_is("action", "accept", "record: accepted");
	field_is("queue_id", "4ABC123", "record: queue id");
	field_is("rcpts", "[\"User@example.net\"]", "record: recipients");
	field_is("message_id", "<m1@elsewhere.example>", "record: message id");
	field_is("subject", "hello\tworld", "record: subject unfolded");
	session_free(s);

	/* Relay refused for every recipient, then QUIT: one reject record. */
	s = connect_from(eng, "198.51.100.7");
	session_mail(s, "<x@elsewhere.example>", NULL, NULL, &v);
	session_rcpt(s, "<a@remote.example>", NULL, &v);
	session_free(s);
	field_is("action", "reject", "all refused, close: reject record");
	field_is("rule", "relay", "record names the rule");

	/* AUTH login attribution and the recipient cap of 3. */
	s = connect_from(eng, "198.51.100.7");
	session_mail(s, "<a@acme.example>", "alice", NULL, &v);
	is_int(v.kind, VERDICT_CONTINUE, "customer MAIL continues");
	session_rcpt(s, "<r1@remote.example>", NULL, &v);
	session_rcpt(s, "<r2@remote.example>", NULL, &v);
	session_rcpt(s, "<r2@REMOTE.Example.>", NULL, &v);
	ok(v.kind == VERDICT_CONTINUE, "duplicate spelling not counted");
	session_rcpt(s, "<r3@remote.example>", NULL, &v);
	is_int(v.kind, VERDICT_CONTINUE, "third recipient accepted");
	session_rcpt(s, "<r4@remote.example>", NULL, &v);
	is_str(v.code, "452", "fourth recipient: 452");
	is_str(v.xcode, "4.5.3", "fourth recipient: 4.5.3");
	ok(strstr(v.text, "allows 3 per message") != NULL &&
	    strstr(v.text, "rule rcpt_cap") != NULL, "cap reply: %s", v.text);
	session_eom(s, &v);
	field_is("customer", "acme", "record: attributed to acme");
	field_is("attribution", "{\"by\":\"login\",\"value\":\"alice\","
	    "\"plan\":\"tiny\"}", "record: by login");
	session_free(s);

	/* Static network attribution, IPv4 and IPv6. */
	s = connect_from(eng, "192.0.2.55");
	session_mail(s, "<a@netco.example>", NULL, NULL, &v);
	session_rcpt(s, "<r@remote.example>", NULL, &v);
	is_int(v.kind, VERDICT_CONTINUE, "network customer may relay");
	session_eom(s, &v);
	field_is("customer", "netco", "record: IPv4 network customer");
	session_free(s);
	s = connect_from(eng, "2001:db8:1::25");
	session_mail(s, "<a@netco.example>", NULL, NULL, &v);
	session_rcpt(s, "<r@remote.example>", NULL, &v);
	session_eom(s, &v);
	field_is("customer", "netco", "record: IPv6 network customer");
	session_free(s);

	{
		const char *files[] = { evpath };
		struct ev_verify_result res;

		is_int(evidence_verify(files, 1, &res), 0,
		    "evidence chain verifies");
	}
	engine_free(eng);
	evidence_close(ev);
	db_close(db);
	config_swap(NULL);
	return tap_done();
}
