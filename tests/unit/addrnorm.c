/*
 * addrnorm unit test: a table of address pairs that must normalise to the
 * same form or to different forms, with and without an AddressRules file,
 * the rules file's FILE:LINE errors, and addresses that must be refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addrnorm.h"
#include "tap.h"

struct pair {
	const char	*a, *b;
	int		 equal;
};

/* Without rules: the domain folds, the local part is exact. */
static const struct pair bare[] = {
	{ "user@example.com", "user@EXAMPLE.COM", 1 },
	{ "user@example.com", "user@example.com.", 1 },
	{ "user@example.com", "<user@example.com>", 1 },
	{ "user@example.com", "  user@example.com \t", 1 },
	{ "user@bücher.example", "user@xn--bcher-kva.example", 1 },
	{ "user@BÜCHER.example", "user@xn--bcher-kva.example", 1 },
	{ "user@XN--BCHER-KVA.EXAMPLE", "user@bücher.example", 1 },
	{ "user@straße.de", "user@xn--strae-oqa.de", 1 },
	{ "\"user\"@example.com", "user@example.com", 1 },
	{ "User@example.com", "user@example.com", 0 },
	{ "user+tag@example.com", "user@example.com", 0 },
	{ "u.ser@example.com", "user@example.com", 0 },
	{ "user@example.com", "user@example.org", 0 },
	{ "user@strasse.de", "user@straße.de", 0 },
	{ "\"us er\"@example.com", "user@example.com", 0 },
	{ "user@[192.0.2.1]", "user@[192.0.2.1]", 1 },
};

/* With the rules file written by main(). */
static const struct pair ruled[] = {
	{ "User+Tag@Gmail.com", "user@gmail.com", 1 },
	{ "u.s.e.r@gmail.com", "user@gmail.com", 1 },
	{ "user-tag@deep.example.org", "user@deep.example.org", 1 },
	{ "user-tag@sub.example.org", "user@sub.example.org", 0 },
	{ "User@sub.example.org", "user@sub.example.org", 1 },
	{ "user+tag@sub.example.org", "user@sub.example.org", 0 },
	{ "User@example.org", "user@example.org", 1 },
	{ "User@other.test", "user@other.test", 1 },
	{ "User@exact.test", "user@exact.test", 0 },
	{ "+tag@gmail.com", "@gmail.com", 0 },	/* second is invalid */
	{ "User@bücher.example", "user@xn--bcher-kva.example", 1 },
};

static const char *const bad[] = {
	"", "user", "@example.com", "user@", "user@exa mple.com",
	"us er@example.com", "user@-bad.example", "user@xn--zz.example",
	"user@ex..ample.com", "a\001b@example.com", "user@example.com\001",
	"\xff@example.com", ".user@example.com", "us..er@example.com",
	"12345678901234567890123456789012345678901234567890123456789012345"
	    "@example.com",
};

static void
check_pairs(const struct addrnorm_rules *r, const struct pair *p, size_t n,
    const char *what)
{
	char a[ADDRNORM_MAX], b[ADDRNORM_MAX], err[256];

	for (size_t i = 0; i < n; i++) {
		int ra = addrnorm_address(r, p[i].a, a, sizeof(a), err,
		    sizeof(err));
		int rb = addrnorm_address(r, p[i].b, b, sizeof(b), err,
		    sizeof(err));

		if (ra < 0 || rb < 0) {
			ok(!p[i].equal && ra == 0, "%s: '%s' %s '%s' (%s)",
			    what, p[i].a, p[i].equal ? "==" : "!=", p[i].b,
			    err);
			continue;
		}
		ok((strcmp(a, b) == 0) == p[i].equal, "%s: '%s' %s '%s' "
		    "(%s, %s)", what, p[i].a, p[i].equal ? "==" : "!=",
		    p[i].b, a, b);
	}
}

static int
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

static void
check_bad_rules(const char *path, const char *text, const char *want)
{
	struct addrnorm_rules *r;
	char err[512] = "";

	write_file(path, text);
	r = addrnorm_rules_load(path, err, sizeof(err));
	ok(r == NULL && strstr(err, want) != NULL, "bad rules refused: %s",
	    err);
	addrnorm_rules_free(r);
}

int
main(void)
{
	char path[] = "/tmp/aup-addrnorm-XXXXXX", err[512], out[ADDRNORM_MAX];
	struct addrnorm_rules *r;
	size_t nb = sizeof(bad) / sizeof(bad[0]);
	int fd;

	plan_no_plan();
	check_pairs(NULL, bare, sizeof(bare) / sizeof(bare[0]), "exact");
	for (size_t i = 0; i < nb; i++)
		ok(addrnorm_address(NULL, bad[i], out, sizeof(out), err,
		    sizeof(err)) < 0 && err[0] != '\0',
		    "refused '%s': %s", bad[i], err);
	addrnorm_address(NULL, "Ab@Bücher.Example.", out, sizeof(out), err,
	    sizeof(err));
	is_str(out, "Ab@xn--bcher-kva.example", "stored form: A-label domain");

	if ((fd = mkstemp(path)) < 0)
		bail("mkstemp");
	close(fd);
	write_file(path, "# test rules\n"
	    "gmail.com  casefold subaddress=+ nodots\n"
	    ".example.org casefold subaddress=-\n"
	    "sub.example.org casefold   # exact wins over .example.org\n"
	    "\n"
	    "*  casefold\n"
	    "exact.test exact\n"
	    "BÜCHER.example casefold\n");
	r = addrnorm_rules_load(path, err, sizeof(err));
	ok(r != NULL, "rules load (%s)", r == NULL ? err : "ok");
	is_int((long long)addrnorm_rules_count(r), 6, "six rules");
	check_pairs(r, ruled, sizeof(ruled) / sizeof(ruled[0]), "rules");
	addrnorm_address(r, "\"A B\"@gmail.com", out, sizeof(out), err,
	    sizeof(err));
	is_str(out, "\"a b\"@gmail.com", "quoted local part: case folded, "
	    "kept quoted");
	addrnorm_rules_free(r);

	check_bad_rules(path, "gmail.com casefold\nx.test bogus\n",
	    ":2: unknown option 'bogus'");
	check_bad_rules(path, "gmail.com\n", ":1: no options");
	check_bad_rules(path, "bad..domain casefold\n", ":1: not a domain");
	check_bad_rules(path, "a.test casefold\nA.TEST exact\n",
	    ":2: second rule for 'a.test'");
	check_bad_rules(path, "a.test subaddress=\n", ":1: subaddress=");
	check_bad_rules(path, "a.test subaddress=@\n", "cannot be a sub");
	unlink(path);
	r = addrnorm_rules_load(path, err, sizeof(err));
	ok(r == NULL && strstr(err, "No such file") != NULL,
	    "missing rules file: %s", err);
	return tap_done();
}
