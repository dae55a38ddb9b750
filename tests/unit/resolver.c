/*
 * resolver.t - unit tests of lists/resolver.c against a real DNS server
 *
 * unbound on loopback serves the test zones (tests/e2e/dns.sh): record
 * types, NXDOMAIN and NODATA, null MX, TXT strings, the TTL cache
 * (positive and negative, with expiry), timeouts against a server that
 * never answers, the caller's deadline, bad names and name servers, and
 * many threads at once.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dns_server.h"
#include "resolver.h"
#include "tap.h"

static struct resolver *
make(int port, int timeout_ms, int tries)
{
	struct resolver_conf rc = { 0 };
	char ns[64], err[256];
	struct resolver *r;

	snprintf(ns, sizeof(ns), "127.0.0.1:%d", port);
	rc.nameserver = ns;
	rc.timeout_ms = timeout_ms;
	rc.tries = tries;
	rc.cache_max = 1000;
	rc.tempfail_ttl = 5;
	if ((r = resolver_new(&rc, err, sizeof(err))) == NULL)
		bail("resolver_new: %s", err);
	return r;
}

static enum resolver_status
look(struct resolver *r, const char *name, enum resolver_type t,
    struct resolver_answer **a)
{
	return resolver_lookup(r, name, t, 0, a);
}

static void
test_types(struct resolver *r)
{
	struct resolver_answer *a;
	char ip[64];

	is_int(look(r, "mx.test", RESOLVER_MX, &a), RESOLVER_OK, "MX found");
	ok(a->n == 1 && a->rr[0].pref == 10 &&
	    strcmp(a->rr[0].name, "mail.mx.test") == 0,
	    "MX 10 mail.mx.test (got %zu, %s)", a->n, a->n ? a->rr[0].name :
	    "-");
	ok(a->ttl > 0 && a->ttl <= 300, "TTL from the record: %u", a->ttl);
	resolver_answer_free(a);
	is_int(look(r, "aonly.test", RESOLVER_MX, &a), RESOLVER_NODATA,
	    "no MX: NODATA");
	resolver_answer_free(a);
	is_int(look(r, "aonly.test.", RESOLVER_A, &a), RESOLVER_OK,
	    "A found (trailing dot)");
	inet_ntop(AF_INET, a->rr[0].addr, ip, sizeof(ip));
	is_str(ip, "192.0.2.26", "A address");
	resolver_answer_free(a);
	is_int(look(r, "aaaaonly.test", RESOLVER_AAAA, &a), RESOLVER_OK,
	    "AAAA found");
	inet_ntop(AF_INET6, a->rr[0].addr, ip, sizeof(ip));
	is_str(ip, "2001:db8::26", "AAAA address");
	resolver_answer_free(a);
	is_int(look(r, "nullmx.test", RESOLVER_MX, &a), RESOLVER_OK,
	    "null MX is an answer");
	ok(a->n == 1 && a->rr[0].pref == 0 && a->rr[0].name[0] == '\0',
	    "null MX: preference 0, exchange \"\"");
	resolver_answer_free(a);
	is_int(look(r, "nx.test", RESOLVER_MX, &a), RESOLVER_NXDOMAIN,
	    "unknown name: NXDOMAIN");
	resolver_answer_free(a);
	is_int(look(r, "txt.test", RESOLVER_TXT, &a), RESOLVER_OK, "TXT");
	ok(a->n == 1 && a->rr[0].textlen == 10 &&
	    strcmp(a->rr[0].text, "helloworld") == 0,
	    "TXT strings joined: %s", a->n ? a->rr[0].text : "-");
	resolver_answer_free(a);
	is_int(look(r, "a..b.test", RESOLVER_A, &a), RESOLVER_ERROR,
	    "empty label: error, not asked");
	resolver_answer_free(a);
	is_int(look(r, "a b.test", RESOLVER_A, &a), RESOLVER_ERROR,
	    "space in a name: error");
	resolver_answer_free(a);
}

static void
test_cache(struct resolver *r)
{
	struct resolver_answer *a;
	unsigned long sent0, hits0, sent, hits;

	resolver_stats(r, &sent0, &hits0);
	look(r, "MX.Test.", RESOLVER_MX, &a);
	ok(a->cached, "second MX lookup (other case) comes from the cache");
	resolver_answer_free(a);
	resolver_stats(r, &sent, &hits);
	ok(sent == sent0 && hits == hits0 + 1, "no query sent for it");
	look(r, "ttl1.test", RESOLVER_A, &a);
	ok(!a->cached, "TTL 1 record fetched");
	resolver_answer_free(a);
	look(r, "ttl1.test", RESOLVER_A, &a);
	ok(a->cached, "and cached at once");
	resolver_answer_free(a);
	usleep(1100 * 1000);
	look(r, "ttl1.test", RESOLVER_A, &a);
	ok(!a->cached && a->status == RESOLVER_OK,
	    "after its TTL it is fetched again");
	resolver_answer_free(a);
	is_int(look(r, "x.neg.test", RESOLVER_A, &a), RESOLVER_NXDOMAIN,
	    "NXDOMAIN in a zone with an SOA");
	is_int(a->ttl, 2, "negative TTL is the SOA minimum");
	resolver_answer_free(a);
	look(r, "x.neg.test", RESOLVER_A, &a);
	ok(a->cached && a->status == RESOLVER_NXDOMAIN,
	    "NXDOMAIN cached (negative caching)");
	resolver_answer_free(a);
	usleep(2100 * 1000);
	look(r, "x.neg.test", RESOLVER_A, &a);
	ok(!a->cached, "negative answer expires after the SOA minimum");
	resolver_answer_free(a);
}

static void
test_failures(int port, int silent)
{
	struct resolver *r = make(silent, 300, 1);
	struct resolver_answer *a;
	int64_t t0 = resolver_now_ms(), took;
	char err[256];
	struct resolver_conf bad = { .nameserver = "dns.example.net" };

	is_int(look(r, "mx.test", RESOLVER_MX, &a), RESOLVER_TEMPFAIL,
	    "silent server: tempfail");
	took = resolver_now_ms() - t0;
	ok(strncmp(a->why, "timeout", 7) == 0, "reason: %s", a->why);
	/* Only the lower bound: an upper one would be a timed assertion on
	 * a shared, noisy machine. That it gives up at all is the tempfail. */
	ok(took >= 250, "waited for the timeout before giving up (%lld ms)",
	    (long long)took);
	resolver_answer_free(a);
	look(r, "mx.test", RESOLVER_MX, &a);
	ok(a->cached && a->status == RESOLVER_TEMPFAIL,
	    "a failure is cached briefly (a dead domain costs one timeout)");
	resolver_answer_free(a);
	resolver_flush(r);
	is_int(look(r, "aaaaonly.test", RESOLVER_A, &a), RESOLVER_TEMPFAIL,
	    "the server is asked again after a timeout (not given up on)");
	ok(strncmp(a->why, "timeout", 7) == 0, "timeout again: %s", a->why);
	resolver_answer_free(a);
	is_int(resolver_lookup(r, "aonly.test", RESOLVER_A,
	    resolver_now_ms() - 1, &a), RESOLVER_TEMPFAIL,
	    "deadline passed: tempfail without asking");
	ok(strstr(a->why, "budget") != NULL, "reason: %s", a->why);
	resolver_answer_free(a);
	resolver_unref(r);

	r = make(port, 500, 1);
	is_int(look(r, "x.slow.test", RESOLVER_A, &a), RESOLVER_TEMPFAIL,
	    "name delegated to a silent server: tempfail");
	ok(a->why[0] != '\0', "with a reason (%s)", a->why);
	resolver_answer_free(a);
	resolver_unref(r);

	ok(resolver_new(&bad, err, sizeof(err)) == NULL &&
	    strstr(err, "not an IP address") != NULL,
	    "Nameserver must be an address: %s", err);
	bad.nameserver = "127.0.0.1:99999";
	ok(resolver_new(&bad, err, sizeof(err)) == NULL, "bad port: %s", err);
	bad.nameserver = "[::1]:53";
	r = resolver_new(&bad, err, sizeof(err));
	ok(r != NULL, "[::1]:53 accepted");
	resolver_unref(r);
}

struct worker {
	struct resolver	*r;
	int		 bad;
};

static void *
worker_run(void *arg)
{
	static const char *const names[] = { "mx.test", "spf-pass.test",
	    "acme.example", "nx.test", "aonly.test" };
	struct worker *w = arg;

	for (int i = 0; i < 300; i++) {
		struct resolver_answer *a;
		const char *n = names[i % 5];
		enum resolver_status st = look(w->r, n, RESOLVER_MX, &a);

		if (st != (i % 5 == 3 ? RESOLVER_NXDOMAIN : i % 5 == 4 ?
		    RESOLVER_NODATA : RESOLVER_OK))
			w->bad++;
		resolver_answer_free(a);
		if (i % 50 == 0)
			resolver_flush(w->r);
	}
	return NULL;
}

static void
test_threads(int port)
{
	struct resolver *r = make(port, 2000, 2);
	struct worker w[8];
	pthread_t th[8];
	int bad = 0;

	for (int i = 0; i < 8; i++) {
		w[i].r = r;
		w[i].bad = 0;
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		bad += w[i].bad;
	}
	is_int(bad, 0, "8 threads x 300 lookups with flushes: all right");
	resolver_unref(r);
}

int
main(void)
{
	struct resolver *r;
	int port, silent;

	dns_server_start(&port, &silent);
	plan(38);
	r = make(port, 2000, 2);
	test_types(r);
	test_cache(r);
	resolver_unref(r);
	test_failures(port, silent);
	test_threads(port);
	return tap_done();
}
