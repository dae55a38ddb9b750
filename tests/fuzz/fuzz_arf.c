/*
 * fuzz_arf - the ARF feedback report parser of policy/arf.h
 *
 * The input is a whole report. Properties, each an abort() when broken:
 * a parse fails with a non-empty reason or succeeds with a lower-case
 * Feedback-Type and a Version of 1 or 0.1; every extracted string is
 * within ARF_FIELD_MAX; the kind of original is one of the enum. The
 * input, cut at its first NUL, is also given to arf_parse_date(), whose
 * result on success must be a time after 1970.
 * Ownership: the report is freed after each run. Threads: single.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arf.h"
#include "fuzz.h"

static void
fz_check_str(const char *s)
{
	if (s != NULL && strlen(s) > ARF_FIELD_MAX)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arf_report r;
	char err[512], date[256];
	int64_t ms;
	size_t n;

	err[0] = '\0';
	if (arf_parse((const char *)data, size, "X-AUP-Feedback", &r, err,
	    sizeof(err)) < 0) {
		if (err[0] == '\0')
			abort();
	} else {
		if (r.feedback_type == NULL || r.version == NULL ||
		    (strcmp(r.version, "1") != 0 &&
		    strcmp(r.version, "0.1") != 0))
			abort();
		for (const char *p = r.feedback_type; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
		if (r.original != ARF_ORIG_NONE &&
		    r.original != ARF_ORIG_HEADERS &&
		    r.original != ARF_ORIG_MESSAGE)
			abort();
		const char *s[] = { r.user_agent, r.original_mail_from,
		    r.original_rcpt_to, r.arrival_date, r.source_ip,
		    r.reported_domain, r.reporting_mta, r.incidents,
		    r.message_id, r.token, r.orig_from, r.orig_to,
		    r.orig_subject, r.orig_date };
		for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
			fz_check_str(s[i]);
	}
	arf_report_free(&r);
	n = size < sizeof(date) - 1 ? size : sizeof(date) - 1;
	memcpy(date, data, n);
	date[n] = '\0';
	if (arf_parse_date(date, &ms) == 0 && ms < 0)
		abort();
	return 0;
}
