/*
 * arf - parser of Abuse Reporting Format feedback reports (RFC 5965)
 *
 * An ARF report is a message whose Content-Type is multipart/report with
 * report-type=feedback-report, holding a human-readable part, a
 * message/feedback-report part (header-like fields: Feedback-Type,
 * User-Agent, Version, Original-Mail-From, Original-Rcpt-To, Arrival-Date,
 * Source-IP, Reported-Domain, Reporting-MTA, Incidents...) and the
 * original message (message/rfc822) or only its headers
 * (text/rfc822-headers). arf_parse() takes the raw bytes (LF or CRLF line
 * ends, an mbox "From " line tolerated) and extracts what complaint
 * matching needs: the feedback fields, and from the original its
 * Message-ID, To, From, Subject, Date and our feedback token header.
 *
 * Parts may come in any order; base64 and quoted-printable transfer
 * encodings are decoded; a missing original is allowed (r->original is
 * ARF_ORIG_NONE) because the feedback fields can still be matched, as
 * providers that redact reports send. Everything else that is not a
 * feedback report is an error with a sentence naming what was wrong and,
 * for header syntax, the line: not multipart/report, another report-type,
 * no boundary, a boundary never closed (truncated), no or two feedback
 * parts, a feedback part without Feedback-Type or with a Version other
 * than 1 (0.1 of early reports is accepted), bad header lines.
 *
 * A pure function over memory: no I/O, no global state, bounded work
 * (inputs over ARF_MAX_BYTES are refused; fields over ARF_FIELD_MAX are
 * cut), so it can be fuzzed.
 * Ownership: arf_report_free() frees every string of a filled report
 * (also after a failed parse). Threads: reentrant.
 * Errors: 0, or -1 with the reason in err.
 */
#ifndef AUP_ARF_H
#define AUP_ARF_H

#include <stddef.h>
#include <stdint.h>

#define ARF_MAX_BYTES	(16 * 1024 * 1024)
#define ARF_FIELD_MAX	998		/* bytes kept of one field value */

enum arf_original {
	ARF_ORIG_NONE,		/* the report carries no original */
	ARF_ORIG_HEADERS,	/* text/rfc822-headers */
	ARF_ORIG_MESSAGE	/* message/rfc822 */
};

struct arf_report {
	/* message/feedback-report fields; NULL when absent */
	char	*feedback_type;		/* lower case: "abuse", ... */
	char	*user_agent;
	char	*version;
	char	*original_mail_from;	/* angle brackets removed */
	char	*original_rcpt_to;	/* the first one, brackets removed */
	int	 nrcpt_to;		/* Original-Rcpt-To fields seen */
	char	*arrival_date;		/* as written */
	int64_t	 arrival_ms;		/* parsed, 0 if absent or bad */
	char	*source_ip;
	char	*reported_domain;
	char	*reporting_mta;
	char	*incidents;
	/* the original message or its headers */
	enum arf_original original;
	char	*message_id;		/* as written, e.g. "<id@host>" */
	char	*token;			/* value of the token header */
	char	*orig_from;
	char	*orig_to;
	char	*orig_subject;
	char	*orig_date;
};

/*
 * Parse data[0..len). token_header names our feedback token header
 * (case-insensitive; NULL: none). r is cleared first.
 */
int	arf_parse(const char *data, size_t len, const char *token_header,
	    struct arf_report *r, char *err, size_t errlen);
void	arf_report_free(struct arf_report *r);

/*
 * An RFC 5322 date-time ("Thu, 8 Mar 2005 14:00:00 -0500", day name and
 * seconds optional, obsolete zones UT GMT EST.. and Z accepted) to
 * milliseconds since the epoch: 0 / -1.
 */
int	arf_parse_date(const char *s, int64_t *ms);

#endif
