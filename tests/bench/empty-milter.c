/*
 * empty-milter - the baseline of scripts/bench-relay: a libmilter filter
 * that asks for the same events as aup-milter and accepts everything.
 * Its cost is the floor set by libmilter and the milter protocol, so the
 * benchmark reports aup-milter's throughput as a ratio to it.
 *
 * usage: empty-milter SOCKET     (e.g. unix:/tmp/empty.sock)
 */
#include <stdio.h>
#include <string.h>

#include <libmilter/mfapi.h>

static sfsistat
em_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	*pf0 = 0;
	*pf1 = f1 & (SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NOEOH |
	    SMFIP_NR_HDR | SMFIP_NR_BODY);
	*pf2 = *pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat em_continue(SMFICTX *ctx) { return SMFIS_CONTINUE; }
static sfsistat em_connect(SMFICTX *c, char *h, _SOCK_ADDR *a)
{ return SMFIS_CONTINUE; }
static sfsistat em_helo(SMFICTX *c, char *h) { return SMFIS_CONTINUE; }
static sfsistat em_env(SMFICTX *c, char **argv) { return SMFIS_CONTINUE; }
static sfsistat em_header(SMFICTX *c, char *n, char *v)
{ return SMFIS_NOREPLY; }
static sfsistat em_body(SMFICTX *c, unsigned char *b, size_t n)
{ return SMFIS_NOREPLY; }
static sfsistat em_eom(SMFICTX *c) { return SMFIS_ACCEPT; }

int
main(int argc, char **argv)
{
	struct smfiDesc d;

	if (argc != 2) {
		fprintf(stderr, "usage: empty-milter SOCKET\n");
		return 64;
	}
	memset(&d, 0, sizeof(d));
	d.xxfi_name = "empty-milter";
	d.xxfi_version = SMFI_VERSION;
	d.xxfi_connect = em_connect;
	d.xxfi_helo = em_helo;
	d.xxfi_envfrom = em_env;
	d.xxfi_envrcpt = em_env;
	d.xxfi_header = em_header;
	d.xxfi_body = em_body;
	d.xxfi_eom = em_eom;
	d.xxfi_abort = em_continue;
	d.xxfi_close = em_continue;
	d.xxfi_negotiate = em_negotiate;
	if (smfi_setconn(argv[1]) != MI_SUCCESS ||
	    smfi_register(d) != MI_SUCCESS || smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "empty-milter: cannot listen on %s\n", argv[1]);
		return 69;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 70;
}
