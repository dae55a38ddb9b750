/*
 * arf unit test: the corpus of feedback reports in tests/data/arf/ (well
 * formed in several providers' styles, headers only, no original, base64
 * and CRLF, and every kind of bad or truncated report), each with what
 * the parser must extract or the error it must give; plus RFC 5322 dates.
 * Run from the source tree (make check does); AUP_SRCDIR overrides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arf.h"
#include "strbuf.h"
#include "tap.h"

struct good {
	const char	*file;
	const char	*type, *rcpt, *ip, *mid, *token, *from;
	int64_t		 arrival_ms;
	int		 original;
	int		 nrcpt;
};

static const struct good goods[] = {
	{ "yahoo-full.eml", "abuse", "victim@remote.example", "192.0.2.25",
	    "<sale-42@acme.example>", "0123456789ab:00112233445566778899",
	    "sales@acme.example", 1795510931000LL, ARF_ORIG_MESSAGE, 1 },
	{ "aol-headers-only.eml", "abuse", "reader@aol.test", "192.0.2.25",
	    "<news-7@acme.example>", NULL, NULL, 1795618800000LL,
	    ARF_ORIG_HEADERS, 2 },
	{ "crlf-base64.eml", "fraud", "x@remote.example", "2001:db8::25",
	    "<b64-1@acme.example>", "aaaaaaaaaaaa:0123456789abcdef0123", NULL,
	    1795676400000LL, ARF_ORIG_MESSAGE, 1 },
	{ "no-original.eml", "abuse", "victim@remote.example", "192.0.2.25",
	    NULL, NULL, NULL, 1795694400000LL, ARF_ORIG_NONE, 1 },
};

struct bad {
	const char	*file;
	const char	*want;	/* a piece of the error text */
};

static const struct bad bads[] = {
	{ "empty.eml", "empty report" },
	{ "plain-text.eml", "not an ARF report: no Content-Type header" },
	{ "wrong-type-mixed.eml", "multipart/mixed, not multipart/report" },
	{ "wrong-report-type.eml", "'delivery-status', not 'feedback-report'" },
	{ "no-feedback-part.eml", "no message/feedback-report part" },
	{ "no-feedback-type.eml", "no Feedback-Type field" },
	{ "bad-version.eml", "Version 2; this reads version 1" },
	{ "bad-header-line.eml", "report header, line 2: not a header field" },
	{ "no-boundary.eml", "without a boundary parameter" },
	{ "boundary-missing-in-body.eml", "no part begins with the boundary" },
	{ "truncated.eml", "report truncated: the closing boundary" },
	{ "bad-feedback-field.eml", "feedback report, line 3: not a header" },
	{ "header-only.eml", "no body after the header" },
};

static int
slurp(const char *name, struct strbuf *sb)
{
	const char *dir = getenv("AUP_SRCDIR");
	char path[1024], buf[8192];
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/tests/data/arf/%s",
	    dir != NULL ? dir : ".", name);
	strbuf_reset(sb);
	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_add(sb, buf, n);
	fclose(fp);
	return 0;
}

static void
is_opt(const char *got, const char *want, const char *file, const char *what)
{
	if (want == NULL)
		ok(got == NULL, "%s: no %s (got %s)", file, what,
		    got != NULL ? got : "none");
	else
		is_str(got != NULL ? got : "(null)", want, "%s: %s", file,
		    what);
}

static void
check_good(const struct good *g, struct strbuf *sb)
{
	struct arf_report r;
	char err[512] = "";

	if (slurp(g->file, sb) < 0)
		bail("cannot read tests/data/arf/%s", g->file);
	if (!ok(arf_parse(sb->s, sb->len, "X-AUP-Feedback", &r, err,
	    sizeof(err)) == 0, "%s parses (%s)", g->file, err)) {
		arf_report_free(&r);
		return;
	}
	is_opt(r.feedback_type, g->type, g->file, "Feedback-Type");
	is_opt(r.original_rcpt_to, g->rcpt, g->file, "Original-Rcpt-To");
	is_int(r.nrcpt_to, g->nrcpt, "%s: Original-Rcpt-To count", g->file);
	is_opt(r.source_ip, g->ip, g->file, "Source-IP");
	is_opt(r.message_id, g->mid, g->file, "Message-ID of the original");
	is_opt(r.token, g->token, g->file, "token header (the last one)");
	is_opt(r.original_mail_from, g->from, g->file, "Original-Mail-From");
	is_int(r.arrival_ms, g->arrival_ms, "%s: Arrival-Date", g->file);
	is_int(r.original, g->original, "%s: kind of original", g->file);
	arf_report_free(&r);
}

static void
check_dates(void)
{
	static const struct { const char *s; int64_t ms; } d[] = {
		{ "Thu, 1 Jan 1970 00:00:00 +0000", 0 },
		{ "Tue, 24 Nov 2026 09:02:11 +0000", 1795510931000LL },
		{ "24 Nov 2026 10:02:11 +0100", 1795510931000LL },
		{ "Tue, 24 Nov 2026 04:02:11 EST", 1795510931000LL },
		{ "Tue, 24 Nov 26 09:02 GMT", 1795510920000LL },
		{ "Tue, 24 Nov 2026 09:02:11 -0000 (UTC)", 1795510931000LL },
	};
	static const char *const bad[] = { "", "yesterday",
	    "24 Foo 2026 09:02:11 +0000", "32 Nov 2026 09:02:11 +0000",
	    "24 Nov 2026 25:02:11 +0000", "24 Nov 2026 09:02:11 +01",
	    "Tue 24 Nov 2026 09:02:11 +0000" };
	int64_t ms;

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		ms = -1;
		ok(arf_parse_date(d[i].s, &ms) == 0 && ms == d[i].ms,
		    "date '%s' = %lld (got %lld)", d[i].s,
		    (long long)d[i].ms, (long long)ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(arf_parse_date(bad[i], &ms) < 0, "bad date '%s' refused",
		    bad[i]);
}

int
main(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct arf_report r;
	char err[512];

	plan_no_plan();
	strbuf_init(&sb, 8192);
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++)
		check_good(&goods[i], &sb);
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		if (slurp(bads[i].file, &sb) < 0)
			bail("cannot read tests/data/arf/%s", bads[i].file);
		err[0] = '\0';
		ok(arf_parse(sb.s, sb.len, "X-AUP-Feedback", &r, err,
		    sizeof(err)) < 0 && strstr(err, bads[i].want) != NULL,
		    "%s refused: %s", bads[i].file, err);
		arf_report_free(&r);
	}
	check_dates();
	strbuf_free(&sb);
	return tap_done();
}
