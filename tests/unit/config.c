/*
 * config unit test: good files, defaults, and every kind of bad line with
 * the FILE:LINE: reason the admin would see.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static char dir[] = "/tmp/aup-config-XXXXXX";

static const char *
write_conf(const char *text)
{
	static char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/test.conf", dir);
	if ((fp = fopen(path, "w")) == NULL)
		bail("cannot write %s", path);
	fputs(text, fp);
	fclose(fp);
	return path;
}

#define REQ "Socket inet:8895@127.0.0.1\nDatabase db\nEvidenceLog ev.log\n"

static const struct {
	const char *text;
	const char *want;	/* substring of the error after the path */
} bad[] = {
	{ "Socket inet:8895@127.0.0.1\nDatabase db\n",
	    "required key 'EvidenceLog' is missing" },
	{ REQ "Frobnicate yes\n", ":4: unknown key 'Frobnicate'" },
	{ REQ "Syslog maybe\n", ":4: Syslog: 'maybe' is not yes or no" },
	{ REQ "EvidenceSync -1\n", ":4: EvidenceSync: '-1' is not a number" },
	{ REQ "EvidenceSync 99999\n", ":4: EvidenceSync: 99999 out of range" },
	{ REQ "QuotaSync sometimes\n", ":4: QuotaSync: 'sometimes' is not "
	    "full, periodic or meta" },
	{ REQ "DatabaseSync periodic\n",
	    ":4: DatabaseSync: 'periodic' is not full or meta" },
	{ REQ "QuotaSyncInterval 0\n", ":4: QuotaSyncInterval: 0 out of range" },
	{ REQ "Rule.nosuch reject\n", ":4: Rule.nosuch: unknown rule 'nosuch'" },
	{ REQ "Rule.relay bounce\n",
	    ":4: Rule.relay: 'bounce' is not reject, tempfail, log or off" },
	{ "Socket tcp:25\nDatabase db\nEvidenceLog e\n",
	    ":1: Socket: socket 'tcp:25' must start with inet:" },
	{ "Socket inet:99999@127.0.0.1\n", ":1: Socket: bad port '99999'" },
	{ REQ "LocalDomains exa mple..com\n", "is not a domain name" },
	{ REQ "DNSFailure maybe\n",
	    ":4: DNSFailure: 'maybe' is not tempfail or accept" },
	{ REQ "LogLevel\n", ":4: key 'LogLevel' has no value" },
	{ REQ "DatabaseSize 100\nDatabaseMaxSize 10\n",
	    "DatabaseMaxSize (10) is smaller than DatabaseSize (100)" },
};

int
main(void)
{
	struct config *cfg;
	char err[1024], want[512];

	if (mkdtemp(dir) == NULL)
		bail("mkdtemp");
	plan(30 + (int)(sizeof(bad) / sizeof(bad[0])));

	cfg = config_load(write_conf(
	    "# comment\n\n  Socket   inet:8895@127.0.0.1  # trailing\n"
	    "database db\nEvidenceLog /var/log/ev.log\n"
	    "LocalDomains example.net, Example.ORG.\nLocalDomains .sub.test\n"
	    "Rule.relay log\nRule.rcpt_cap tempfail\nDatabaseFailure accept\n"
	    "DatabaseSize 8\n"), err, sizeof(err));
	if (!ok(cfg != NULL, "good file loads"))
		diag("%s", err);
	if (cfg == NULL)
		return tap_done();
	is_str(config_socket(cfg), "inet:8895@127.0.0.1", "socket");
	snprintf(want, sizeof(want), "%s/db", dir);
	is_str(config_database(cfg), want, "relative path from config dir");
	is_str(config_evidence_log(cfg), "/var/log/ev.log", "absolute path");
	ok(config_is_local_domain(cfg, "example.net"), "local exact");
	ok(config_is_local_domain(cfg, "EXAMPLE.net."), "local case, dot");
	ok(config_is_local_domain(cfg, "example.org"), "second of a list");
	ok(!config_is_local_domain(cfg, "a.example.net"), "no subdomain");
	ok(config_is_local_domain(cfg, "a.sub.test"), "dot entry: subdomain");
	ok(!config_is_local_domain(cfg, "sub.test"), "dot entry: not itself");
	ok(!config_is_local_domain(cfg, "evil-example.net"), "no suffix trick");
	ok(!config_is_local_domain(cfg, ""), "empty is not local");
	is_int(config_rule_action(cfg, RULE_RELAY), ACTION_LOG, "Rule.relay");
	is_int(config_rule_action(cfg, RULE_RCPT_CAP), ACTION_TEMPFAIL,
	    "Rule.rcpt_cap");
	is_int(config_rule_action(cfg, RULE_SPF), ACTION_REJECT,
	    "rules default to reject");
	is_int(config_database_failure(cfg), FAIL_ACCEPT, "DatabaseFailure");
	is_int(config_evidence_failure(cfg), FAIL_TEMPFAIL,
	    "EvidenceFailure default");
	is_int((long long)config_database_size(cfg), 8LL << 20, "size in MiB");
	is_int(config_evidence_sync(cfg), 1, "EvidenceSync default");
	is_int(config_quota_sync(cfg), DB_SYNC_FULL, "QuotaSync default full");
	is_int(config_quota_sync_interval(cfg), 1, "QuotaSyncInterval default");
	ok(config_syslog(cfg), "Syslog default yes");
	is_int(config_umask(cfg), 07, "UMask default 007");
	ok(config_pid_file(cfg) == NULL, "no PidFile by default");

	/* Reference counting and the current pointer. */
	config_swap(config_ref(cfg));
	{
		struct config *cur = config_current();

		ok(cur == cfg, "current is the swapped-in snapshot");
		config_unref(cur);
	}
	config_swap(NULL);
	ok(config_current() == NULL, "swap to NULL");
	config_unref(cfg);

	cfg = config_load(write_conf("Socket unix:aup.sock\nDatabase d\n"
	    "EvidenceLog e\n"), err, sizeof(err));
	ok(cfg != NULL, "relative unix socket");
	snprintf(want, sizeof(want), "unix:%s/aup.sock", dir);
	if (cfg != NULL)
		is_str(config_socket(cfg), want, "unix socket made absolute");
	else
		ok(0, "unix socket made absolute");
	config_unref(cfg);

	ok(config_load("/nonexistent/aup.conf", err, sizeof(err)) == NULL &&
	    strstr(err, "/nonexistent/aup.conf: No such file") != NULL,
	    "missing file named");
	{
		char big[6000];

		memset(big, 'x', sizeof(big) - 2);
		big[sizeof(big) - 2] = '\n';
		big[sizeof(big) - 1] = '\0';
		ok(config_load(write_conf(big), err, sizeof(err)) == NULL &&
		    strstr(err, ":1: line longer than") != NULL,
		    "over-long line refused");
	}

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = write_conf(bad[i].text);

		cfg = config_load(p, err, sizeof(err));
		if (!ok(cfg == NULL && strncmp(err, p, strlen(p)) == 0 &&
		    strstr(err, bad[i].want) != NULL, "bad config %zu: %s",
		    i, bad[i].want))
			diag("error was: %s", err);
		config_unref(cfg);
	}
	unlink(write_conf(""));
	rmdir(dir);
	return tap_done();
}
