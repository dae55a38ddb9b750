/*
 * bench_engine - drive the policy engine directly and print messages/second
 *
 *   bench_engine DIR MESSAGES THREADS RCPTS SYNC SENDER [NAMESERVER]
 *
 * DIR holds a fresh LMDB environment and evidence log. The engine runs
 * as the daemon runs it: attribution by SMTP AUTH login (1000 customers,
 * one login each; a global opt-out list of 100,000 addresses and 10 on
 * each customer's list, none of them a recipient here), every rule the
 * build has (relay, return address with
 * DNS answers cached when NAMESERVER is given, opt-out, rcpt_cap, rate,
 * bomb, msg_size, the per-send sum), the quota charge in the counters'
 * LMDB environment with SYNC (QuotaSync full, meta or periodic; group
 * commit; see lists/qstore.h), and one evidence record per message to
 * the file. THREADS sessions run at once (connections of a
 * relay); the process is pinned to one CPU, so the figure is for one core.
 * Prints one line: the configuration, then "R msg/s", the LMDB commits
 * (messages per group commit) and CPU seconds (user, system).
 * Threads: one session per thread, the engine shared, as in the daemon.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cidr.h"
#include "config.h"
#include "custdb.h"
#include "db.h"
#include "engine.h"
#include "evidence.h"
#include "log.h"
#include "optout_db.h"
#include "qstore.h"

#define NCUST	1000
#define NRCPT	20000
#define NDOM	50
#define NOPTOUT	100000	/* on the global list */
#define NCOPTOUT 10	/* on each customer's */

/* Logins built before the clock starts (the harness is not measured). */
static char logins[NCUST][40];

static struct engine *eng;
static const char *sender, *syncmode;
static int nrcpts;
static atomic_long next_msg, accepted, refused;
static long total;

static int
provision(struct db_txn *t, void *arg)
{
	struct customer c = { 0 };
	struct plan p;
	char login[64];

	plan_defaults(&p, "bench");
	p.lim[PLAN_MSGS_PER_HOUR] = 10000000;
	p.lim[PLAN_RCPTS_PER_DAY] = 100000000;
	p.lim[PLAN_PER_RCPT_PER_HOUR] = 1000000;
	if (custdb_plan_put(t, &p) < 0)
		return -1;
	for (int i = 0; i < NCUST; i++) {
		snprintf(c.id, sizeof(c.id), "cust%d", i);
		snprintf(c.plan, sizeof(c.plan), "bench");
		snprintf(c.contact, sizeof(c.contact), "noc@cust%d.example", i);
		snprintf(login, sizeof(login), "user%d@cust%d.example", i, i);
		if (custdb_customer_put(t, &c) < 0 ||
		    custdb_login_add(t, c.id, login) < 0 ||
		    custdb_domain_add(t, c.id, "mx.test", 0) < 0)
			return -1;
		for (int j = 0; j < NCOPTOUT; j++) {
			snprintf(login, sizeof(login), "o%d@dest%d.example",
			    j, i % NDOM);
			if (optout_add(t, c.id, login, OPTOUT_SRC_IMPORT, 0,
			    NULL) < 0)
				return -1;
		}
	}
	for (int j = 0; j < NOPTOUT; j++) {
		snprintf(login, sizeof(login), "g%d@dest%d.example", j,
		    j % NDOM);
		if (optout_add(t, NULL, login, OPTOUT_SRC_IMPORT, 0,
		    NULL) < 0)
			return -1;
	}
	return 0;
}

static void
inputs_build(void)
{
	for (int i = 0; i < NCUST; i++)
		snprintf(logins[i], sizeof(logins[i]), "user%d@cust%d.example",
		    i, i);
}

/* s with the decimal digits of n appended; returns the end. */
static char *
put_num(char *s, long n)
{
	char d[24];
	int k = 0;

	do
		d[k++] = (char)('0' + n % 10);
	while ((n /= 10) > 0);
	while (k > 0)
		*s++ = d[--k];
	return s;
}

static void
one_message(struct session *s, long n, unsigned *seed)
{
	char rcpt[64], mid[64], *p;
	struct verdict v;
	int c = (int)(rand_r(seed) % NCUST), ok = 0;

	session_mail(s, sender, logins[c], NULL, &v);
	if (v.kind != VERDICT_CONTINUE) {
		atomic_fetch_add(&refused, 1);
		return;
	}
	for (int i = 0; i < nrcpts; i++) {
		/* "<r123@dest7.example>" */
		p = put_num(stpcpy(rcpt, "<r"), rand_r(seed) % NRCPT);
		p = put_num(stpcpy(p, "@dest"), rand_r(seed) % NDOM);
		strcpy(p, ".example>");
		session_rcpt(s, rcpt, NULL, &v);
		ok |= v.kind == VERDICT_CONTINUE;
	}
	if (!ok) {
		session_abort(s);
		atomic_fetch_add(&refused, 1);
		return;
	}
	p = put_num(stpcpy(mid, " <bench-"), n);
	strcpy(p, "@mx.test>");
	session_queue_id(s, "4BENCH0001");
	session_header(s, "From", " Sender <a@mx.test>");
	session_header(s, "To", " undisclosed-recipients:;");
	session_header(s, "Subject", " benchmark message");
	session_header(s, "Message-ID", mid);
	session_body(s, 4096);
	session_eom(s, &v);
	atomic_fetch_add(v.kind == VERDICT_CONTINUE ? &accepted : &refused, 1);
}

static void *
worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;
	struct cidr a;
	struct session *s;
	long n;

	cidr_parse_addr("198.51.100.7", &a);
	s = session_new(eng, "bench", &a, "198.51.100.7", "client.example");
	session_helo(s, "client.example");
	while ((n = atomic_fetch_add(&next_msg, 1)) < total)
		one_message(s, n, &seed);
	session_free(s);
	return NULL;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + tv->tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	char path[512], err[1024];
	const char *ns;
	struct config *cfg;
	struct evidence *ev;
	struct qstore *qs;
	struct db *db;
	pthread_t *th;
	cpu_set_t cpus;
	struct rusage ru0, ru1;
	unsigned long commits, evw0, evr0, evw1, evr1;
	double t0, t1;
	int nthreads;
	FILE *fp;

	if (argc < 7) {
		fprintf(stderr, "usage: bench_engine DIR MESSAGES THREADS "
		    "RCPTS SYNC SENDER [NAMESERVER]\n");
		return 2;
	}
	total = atol(argv[2]);
	nthreads = atoi(argv[3]);
	nrcpts = atoi(argv[4]);
	syncmode = argv[5];
	sender = argv[6];
	if (total <= 0 || nthreads <= 0 || nrcpts <= 0)
		return 2;
	ns = argc > 7 ? argv[7] : NULL;
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) < 0)
		perror("sched_setaffinity (continuing unpinned)");
	log_open("bench-engine", 0, LOG_CRIT);
	inputs_build();
	snprintf(path, sizeof(path), "%s/aup.conf", argv[1]);
	if ((fp = fopen(path, "w")) == NULL)
		return perror(path), 1;
	fprintf(fp, "Socket inet:8895@127.0.0.1\nDatabase db\n"
	    "QuotaSync %s\nEvidenceLog evidence.log\n"
	    "LocalDomains example.net\n%s%s\n", syncmode,
	    ns != NULL ? "Nameserver " : "# no name server",
	    ns != NULL ? ns : "");
	if (ns == NULL)	/* an address-literal sender: no DNS to ask */
		fprintf(fp, "Rule.return_address log\n");
	fclose(fp);
	if ((cfg = config_load(path, err, sizeof(err))) == NULL)
		return fprintf(stderr, "%s\n", err), 1;
	config_swap(cfg);
	snprintf(path, sizeof(path), "%s/db", argv[1]);
	if ((db = db_open(path, 64 << 20, 4096UL << 20, 0, err,
	    sizeof(err))) == NULL)
		return fprintf(stderr, "%s\n", err), 1;
	if ((qs = qstore_open(path, config_quota_sync(cfg),
	    config_quota_sync_interval(cfg), 64 << 20, 4096UL << 20, 0, err,
	    sizeof(err))) == NULL)
		return fprintf(stderr, "%s\n", err), 1;
	snprintf(path, sizeof(path), "%s/evidence.log", argv[1]);
	if ((ev = evidence_open(path, 1, err, sizeof(err))) == NULL)
		return fprintf(stderr, "%s\n", err), 1;
	evidence_hold(ev, 10);	/* as the daemon (milter/main.c) */
	if (db_write(db, provision, NULL, err, sizeof(err)) < 0)
		return fprintf(stderr, "provision: %s\n", err), 1;
	eng = engine_new(db, qstore_db(qs), ev);
	/* Warm up: the first messages fill the DNS cache. */
	total = 200;
	worker((void *)1);
	atomic_store(&next_msg, 0);
	atomic_store(&accepted, 0);
	atomic_store(&refused, 0);
	total = atol(argv[2]);
	th = calloc((size_t)nthreads, sizeof(*th));
	commits = db_commits(qstore_db(qs));
	evidence_stats(ev, &evw0, &evr0);
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_s();
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i + 2));
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	t1 = now_s();
	getrusage(RUSAGE_SELF, &ru1);
	commits = db_commits(qstore_db(qs)) - commits;
	evidence_stats(ev, &evw1, &evr1);
	printf("sync=%s sessions=%d rcpts=%d messages=%ld: %.0f msg/s "
	    "(%.2f s; %lu commits, %.1f msgs/commit; %.1f records/evidence "
	    "write; cpu user %.2f s, sys %.2f s; %ld accepted, %ld "
	    "refused)\n", syncmode, nthreads, nrcpts, total,
	    (double)total / (t1 - t0), t1 - t0, commits,
	    commits > 0 ? (double)total / (double)commits : 0.0,
	    evw1 > evw0 ? (double)(evr1 - evr0) / (double)(evw1 - evw0) : 0.0,
	    tv_s(&ru1.ru_utime) - tv_s(&ru0.ru_utime),
	    tv_s(&ru1.ru_stime) - tv_s(&ru0.ru_stime),
	    (long)atomic_load(&accepted), (long)atomic_load(&refused));
	engine_free(eng);
	evidence_close(ev);
	qstore_close(qs);
	db_close(db);
	config_swap(NULL);
	free(th);
	return atomic_load(&refused) > 0 ? 1 : 0;
}
