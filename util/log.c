/*
 * log - the one logging module (see log.h)
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static int log_sinks = LOG_TO_STDERR;
static int log_max = LOG_INFO;
static const char *log_ident = "aup";

void
log_open(const char *ident, int sinks, int max_prio)
{
	log_ident = ident;
	log_sinks = sinks;
	log_max = max_prio;
	if (sinks & LOG_TO_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_close(void)
{
	if (log_sinks & LOG_TO_SYSLOG)
		closelog();
}

void
log_msg(int prio, const char *id, const char *fmt, ...)
{
	char line[2048];
	size_t off = 0;
	va_list ap;
	int n;

	if (prio > log_max)
		return;
	if (id != NULL && *id != '\0') {
		n = snprintf(line, sizeof(line), "%s: ", id);
		off = n > 0 ? (size_t)n : 0;
		if (off >= sizeof(line))
			off = sizeof(line) - 1;
	}
	va_start(ap, fmt);
	vsnprintf(line + off, sizeof(line) - off, fmt, ap);
	va_end(ap);
	for (char *p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (log_sinks & LOG_TO_SYSLOG)
		syslog(prio, "%s", line);
	if (log_sinks & LOG_TO_STDERR)
		fprintf(stderr, "%s: %s\n", log_ident, line);
}
