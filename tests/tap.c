/*
 * tap - the project's small TAP producer (see tap.h)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static int tap_planned = -1;
static int tap_run;
static int tap_failed;

void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

void
plan_no_plan(void)
{
	tap_planned = -1;
}

void
skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

void
bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(255);
}

static void
tap_vdiag(const char *fmt, va_list ap)
{
	char buf[4096];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	for (char *line = strtok(buf, "\n"); line != NULL;
	    line = strtok(NULL, "\n"))
		fprintf(stderr, "# %s\n", line);
}

void
diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vdiag(fmt, ap);
	va_end(ap);
}

static int
tap_vok(int cond, const char *fmt, va_list ap)
{
	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	return cond;
}

int
is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	int cond = got == want;

	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		diag("     got: %lld\n expected: %lld", got, want);
	return cond;
}

int
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int cond;

	if (got == NULL || want == NULL)
		cond = got == want;
	else
		cond = strcmp(got, want) == 0;
	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		diag("     got: '%s'\n expected: '%s'", got ? got : "(null)",
		    want ? want : "(null)");
	return cond;
}

int
tap_done(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_run);
	else if (tap_planned != tap_run)
		diag("planned %d tests but ran %d", tap_planned, tap_run);
	fflush(stdout);
	return tap_failed > 0 || (tap_planned >= 0 && tap_planned != tap_run);
}
