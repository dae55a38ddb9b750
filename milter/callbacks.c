/*
 * callbacks - libmilter glue (see callbacks.h)
 *
 * Message-level callbacks return through milter_apply(), which sets the
 * reply and maps the verdict to a libmilter status. libmilter calls abort
 * only for transactions it still considers open, so the engine ends the
 * transaction itself whenever a verdict ends it; session_abort() is a
 * no-op for a session with no transaction, so calling it is always safe.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "callbacks.h"
#include "cidr.h"
#include "config.h"
#include "engine.h"
#include "log.h"

static struct engine *cb_engine;
static atomic_ulong cb_next_id;
/* What the MTA offered; every connection of one MTA offers the same. */
static atomic_int cb_noreply_hdr, cb_noreply_body;

void
callbacks_set_engine(struct engine *eng)
{
	cb_engine = eng;
}

static struct session *
cb_session(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

static void
cb_queue_id(SMFICTX *ctx, struct session *s)
{
	const char *qid = smfi_getsymval(ctx, "i");

	if (qid != NULL)
		session_queue_id(s, qid);
}

static sfsistat
milter_apply(SMFICTX *ctx, struct session *s, const struct verdict *v,
    sfsistat pass)
{
	if (v->kind == VERDICT_CONTINUE) {
		/*
		 * Only EOM fills hdr_name; the header calls are valid only
		 * there. The client's copies go first, the last first, so
		 * the indexes of the others stay as counted.
		 */
		for (int i = v->hdr_strip; i >= 1 && v->hdr_name[0] != '\0';
		    i--)
			if (smfi_chgheader(ctx, (char *)v->hdr_name, i,
			    NULL) != MI_SUCCESS)
				log_msg(LOG_WARNING, session_log_id(s), "could "
				    "not remove the client's %s header",
				    v->hdr_name);
		if (v->hdr_name[0] != '\0' && v->hdr_value[0] != '\0' &&
		    smfi_addheader(ctx, (char *)v->hdr_name,
		    (char *)v->hdr_value) != MI_SUCCESS)
			log_msg(LOG_WARNING, session_log_id(s), "could not "
			    "add the %s header", v->hdr_name);
		return pass;
	}
	if (smfi_setreply(ctx, (char *)v->code, (char *)v->xcode,
	    (char *)v->text) != MI_SUCCESS)
		log_msg(LOG_WARNING, session_log_id(s), "smfi_setreply "
		    "refused the reply text; the MTA uses its default text");
	return v->kind == VERDICT_TEMPFAIL ? SMFIS_TEMPFAIL : SMFIS_REJECT;
}

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NOEOH;
	struct config *cfg = config_current();

	/* We never refuse at a header or body chunk: spare the round trip. */
	want |= f1 & (SMFIP_NR_HDR | SMFIP_NR_BODY);
	/*
	 * The body is read only for DKIM and the real size (msg_size): with
	 * both rules off, Postfix need not send it. Headers are always
	 * needed, the evidence records From, Message-ID and Subject. The
	 * choice holds for the connection, even across a reload.
	 */
	if (cfg != NULL && config_rule_action(cfg, RULE_DKIM) == ACTION_OFF &&
	    config_rule_action(cfg, RULE_MSG_SIZE) == ACTION_OFF)
		want |= SMFIP_NOBODY;
	config_unref(cfg);
	cb_noreply_hdr = (f1 & SMFIP_NR_HDR) != 0;
	cb_noreply_body = (f1 & SMFIP_NR_BODY) != 0;
	/* Actions: the feedback token header, and removing forged ones. */
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS);
	*pf1 = want & f1;
	*pf2 = 0;
	*pf3 = 0;
	smfi_setsymlist(ctx, SMFIM_CONNECT, "j {daemon_name}");
	smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen} {auth_type}");
	smfi_setsymlist(ctx, SMFIM_ENVRCPT, "i");
	smfi_setsymlist(ctx, SMFIM_EOM, "i");
	return SMFIS_CONTINUE;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	char id[32], text[INET6_ADDRSTRLEN + 2];
	struct cidr client, *cp = NULL;
	struct session *s;

	snprintf(id, sizeof(id), "c%lu", atomic_fetch_add(&cb_next_id, 1) + 1);
	text[0] = '\0';
	if (hostaddr != NULL && cidr_from_sockaddr(hostaddr, &client) == 0) {
		cp = &client;
		cidr_format(&client, text, sizeof(text));
	}
	s = session_new(cb_engine, id, cp, cp != NULL ? text : NULL,
	    hostname);
	if (smfi_setpriv(ctx, s) != MI_SUCCESS) {
		session_free(s);
		log_msg(LOG_ERR, id, "smfi_setpriv failed; tempfail");
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	struct session *s = cb_session(ctx);

	if (s != NULL && helo != NULL)
		session_helo(s, helo);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = cb_session(ctx);
	struct verdict v;

	if (s == NULL || argv == NULL || argv[0] == NULL)
		return SMFIS_TEMPFAIL;
	cb_queue_id(ctx, s);
	session_mail(s, argv[0], smfi_getsymval(ctx, "{auth_authen}"),
	    (const char *const *)argv + 1, &v);
	return milter_apply(ctx, s, &v, SMFIS_CONTINUE);
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct session *s = cb_session(ctx);
	struct verdict v;

	if (s == NULL || argv == NULL || argv[0] == NULL)
		return SMFIS_TEMPFAIL;
	cb_queue_id(ctx, s);
	session_rcpt(s, argv[0], (const char *const *)argv + 1, &v);
	return milter_apply(ctx, s, &v, SMFIS_CONTINUE);
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct session *s = cb_session(ctx);

	if (s != NULL && name != NULL && value != NULL)
		session_header(s, name, value);
	return cb_noreply_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct session *s = cb_session(ctx);

	if (s != NULL)
		session_body_data(s, chunk, len);
	return cb_noreply_body ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct session *s = cb_session(ctx);
	struct verdict v;

	if (s == NULL)
		return SMFIS_TEMPFAIL;
	cb_queue_id(ctx, s);
	session_eom(s, &v);
	return milter_apply(ctx, s, &v, SMFIS_ACCEPT);
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct session *s = cb_session(ctx);

	if (s != NULL)
		session_abort(s);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct session *s = cb_session(ctx);

	/* close may be the only callback, before connect: s may be NULL. */
	if (s != NULL) {
		smfi_setpriv(ctx, NULL);
		session_free(s);
	}
	return SMFIS_CONTINUE;
}

void
callbacks_describe(struct smfiDesc *d)
{
	memset(d, 0, sizeof(*d));
	d->xxfi_name = "aup-milter";
	d->xxfi_version = SMFI_VERSION;
	d->xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS;	/* feedback header */
	d->xxfi_connect = cb_connect;
	d->xxfi_helo = cb_helo;
	d->xxfi_envfrom = cb_envfrom;
	d->xxfi_envrcpt = cb_envrcpt;
	d->xxfi_header = cb_header;
	d->xxfi_body = cb_body;
	d->xxfi_eom = cb_eom;
	d->xxfi_abort = cb_abort;
	d->xxfi_close = cb_close;
	d->xxfi_negotiate = cb_negotiate;
}
