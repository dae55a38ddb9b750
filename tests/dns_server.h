/*
 * dns_server.h - start the loopback test DNS server from a C unit test
 *
 * Runs tests/e2e/dns.sh (unbound with the test zones, and a server that
 * never answers; see that file for the data) in a temporary directory
 * and stops it at exit. The tests run from the top of the checkout (make
 * check runs prove there); AUP_SRCDIR overrides. Header-only: the unit
 * test programs link only tap.o.
 * Threads: call from the main thread before starting others.
 */
#ifndef AUP_TEST_DNS_SERVER_H
#define AUP_TEST_DNS_SERVER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

static char dns_server_dir[64];

static void
dns_server_stop(void)
{
	char cmd[512];
	const char *src = getenv("AUP_SRCDIR");

	if (dns_server_dir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "bash %s/tests/e2e/dns.sh stop %s/srv; "
	    "rm -rf %s", src != NULL ? src : ".", dns_server_dir,
	    dns_server_dir);
	if (system(cmd) != 0)
		diag("stopping the DNS server failed");
	dns_server_dir[0] = '\0';
}

/* Start it; *port: unbound, *silent: the server that never answers. */
static void
dns_server_start(int *port, int *silent)
{
	const char *src = getenv("AUP_SRCDIR");
	char cmd[512];
	FILE *fp;

	snprintf(dns_server_dir, sizeof(dns_server_dir),
	    "/tmp/aup-dns-test.XXXXXX");
	if (mkdtemp(dns_server_dir) == NULL)
		bail("mkdtemp");
	atexit(dns_server_stop);
	snprintf(cmd, sizeof(cmd), "bash %s/tests/e2e/dns.sh start %s/srv",
	    src != NULL ? src : ".", dns_server_dir);
	if ((fp = popen(cmd, "r")) == NULL ||
	    fscanf(fp, "%d %d", port, silent) != 2) {
		if (fp != NULL)
			pclose(fp);
		bail("cannot start the test DNS server (%s)", cmd);
	}
	pclose(fp);
}

#endif
