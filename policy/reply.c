/*
 * reply - SMTP reply text (see reply.h)
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "reply.h"

/* Postfix limits a reply line to 512 octets with the code; stay below. */
#define REPLY_TEXT_CAP	400

static void
reply_clean(char *s)
{
	size_t n = strlen(s);

	for (char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '%')
			*p = (*p == '%') ? '?' : ' ';
	if (n > REPLY_TEXT_CAP)
		s[REPLY_TEXT_CAP] = '\0';
}

static void
reply_codes(struct verdict *v, enum rule_action action, const char *code,
    const char *xcode)
{
	snprintf(v->code, sizeof(v->code), "%s", code);
	snprintf(v->xcode, sizeof(v->xcode), "%s", xcode);
	if (action == ACTION_TEMPFAIL && code[0] == '5') {
		snprintf(v->code, sizeof(v->code), "451");
		v->xcode[0] = '4';
	}
	v->kind = v->code[0] == '4' ? VERDICT_TEMPFAIL : VERDICT_REJECT;
}

void
reply_set(struct verdict *v, enum rule_action action, const char *code,
    const char *xcode, enum rule_id rule, const char *ref, const char *fmt,
    ...)
{
	/* Room is kept for the rule and ref even when the body is cut. */
	char body[REPLY_TEXT_CAP - 40];
	va_list ap;

	reply_codes(v, action, code, xcode);
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	snprintf(v->text, sizeof(v->text), "%s (rule %s, ref %s)", body,
	    rule_name(rule), ref);
	reply_clean(v->text);
}

void
reply_tempfail(struct verdict *v, const char *ref, const char *fmt, ...)
{
	char body[REPLY_TEXT_CAP - 40];
	va_list ap;

	reply_codes(v, ACTION_TEMPFAIL, "451", "4.3.0");
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	snprintf(v->text, sizeof(v->text), "%s; try again later (ref %s)",
	    body, ref);
	reply_clean(v->text);
}

void
reply_format(const struct verdict *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s %s", v->code, v->xcode, v->text);
}
