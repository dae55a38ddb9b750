/*
 * ctl_evidence - "aupctl evidence search|verify": the abuse team's view of
 * the evidence log
 *
 *   evidence search [--ref R] [--message-id M] [--ip A] [--rcpt R]
 *                   [--customer C] [--since T] [--until T] [--file F]...
 *   evidence verify [--anchor HASH] [FILE...]
 *
 * Files: by default the config's EvidenceLog preceded by its uncompressed
 * rotations that exist, oldest first (<log>.N ... <log>.1, counting up
 * from .1 until one is missing); --file (search, repeatable) or the FILE
 * arguments (verify) replace that list. "-" is standard input, so a
 * compressed rotation can be given as <(zcat evidence.log.2.gz).
 *
 * search prints each matching record as its JSON line on standard output,
 * in file order; exit 0 if any matched, 1 if none ("no matching records")
 * or a file cannot be read, 2 on a usage error. Times are RFC 3339 (Z or
 * an offset) or a plain date; a plain date as --until means the end of
 * that day. verify prints "OK: N records, chain intact (last hash H)"
 * and exits 0, or prints "FILE:LINE: reason" and exits 1. --anchor H
 * verifies a chain whose older files are gone (compressed away,
 * deleted): its first record must name H, the last hash a verify of
 * those files printed, as its prev.
 *
 * Output: records are already JSON-escaped; bytes a damaged line may
 * still carry (C0 controls, DEL) are shown as '?' so the terminal is safe.
 * Ownership: the file list is built and freed here. Threads: single.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "evidence.h"
#include "strbuf.h"
#include "xalloc.h"

#define CTLE_MAX_FILES		1024
#define CTLE_DAY_MS		86400000LL

struct ctle_files {
	char	*v[CTLE_MAX_FILES];
	int	 n;
};

static void
ctle_files_add(struct ctle_files *f, const char *path)
{
	if (f->n < CTLE_MAX_FILES)
		f->v[f->n++] = xstrdup(path);
}

static void
ctle_files_free(struct ctle_files *f)
{
	for (int i = 0; i < f->n; i++)
		free(f->v[i]);
	f->n = 0;
}

/* The EvidenceLog and its uncompressed rotations, oldest first. */
static int
ctle_default_files(struct ctl *c, struct ctle_files *f)
{
	const char *log = c->cfg != NULL ? config_evidence_log(c->cfg) : NULL;
	struct strbuf sb = STRBUF_INIT;
	int last = 0;

	if (log == NULL)
		return ctl_fail("no EvidenceLog configured; give the files");
	for (int i = 1; i < CTLE_MAX_FILES; i++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s.%d", log, i);
		if (access(sb.s, F_OK) != 0)
			break;
		last = i;
	}
	for (int i = last; i >= 1; i--) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s.%d", log, i);
		ctle_files_add(f, sb.s);
	}
	ctle_files_add(f, log);
	strbuf_free(&sb);
	return CTL_OK;
}

/* The default file list for other nouns (complaint ingest); see ctl.h. */
int
ctl_evidence_files(struct ctl *c, char ***files, int *nfiles)
{
	struct ctle_files *f = xcalloc(1, sizeof(*f));
	int rc;

	if ((rc = ctle_default_files(c, f)) != CTL_OK) {
		ctle_files_free(f);
		free(f);
		return rc;
	}
	*nfiles = f->n;
	*files = xcalloc((size_t)f->n + 1, sizeof(**files));
	memcpy(*files, f->v, (size_t)f->n * sizeof(**files));
	free(f);
	return CTL_OK;
}

/* ---- search ----------------------------------------------------------- */

static int
ctle_print(const char *line, size_t len, void *arg)
{
	size_t i, run = 0;

	(void)arg;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch >= 0x20 && ch != 0x7f)
			continue;
		fwrite(line + run, 1, i - run, stdout);
		putchar('?');
		run = i + 1;
	}
	fwrite(line + run, 1, len - run, stdout);
	putchar('\n');
	return 0;
}

/* --since/--until value; a plain date as an upper bound ends the day. */
static int
ctle_time(const char *opt, const char *val, int upper, int64_t *ms)
{
	if (evidence_parse_time(val, ms) < 0)
		return ctl_usage("bad time for %s: '%s' (want RFC 3339, e.g. "
		    "2026-11-22T08:00:00Z, or a date)", opt, val);
	if (upper && strlen(val) == 10)
		*ms += CTLE_DAY_MS - 1;
	return CTL_OK;
}

/* Split "--opt=value" or take the next argument. NULL if missing. */
static const char *
ctle_optval(int argc, char **argv, int *i, const char *opt)
{
	size_t n = strlen(opt);

	if (strncmp(argv[*i], opt, n) == 0 && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], opt) != 0 || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int
ctle_is_opt(const char *arg, const char *opt)
{
	size_t n = strlen(opt);

	return strncmp(arg, opt, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

/* Criteria and --file of "evidence search"; CTL_OK or an exit status. */
static int
ctle_search_args(int argc, char **argv, struct ev_query *q,
    struct ctle_files *f)
{
	const struct { const char *name; const char **dst; } crit[] = {
		{ "--ref", &q->ref }, { "--message-id", &q->message_id },
		{ "--ip", &q->ip }, { "--rcpt", &q->rcpt },
		{ "--customer", &q->customer },
	};
	const size_t ncrit = sizeof(crit) / sizeof(crit[0]);
	int have = 0, rc, upper;
	const char *v, *name;
	size_t k;

	for (int i = 2; i < argc; i++) {
		for (k = 0; k < ncrit && !ctle_is_opt(argv[i], crit[k].name);)
			k++;
		upper = ctle_is_opt(argv[i], "--until");
		if (k < ncrit)
			name = crit[k].name;
		else if (upper || ctle_is_opt(argv[i], "--since"))
			name = upper ? "--until" : "--since";
		else if (ctle_is_opt(argv[i], "--file"))
			name = "--file";
		else
			return ctl_usage("evidence search: unknown option '%s'",
			    argv[i]);
		if ((v = ctle_optval(argc, argv, &i, name)) == NULL || *v == 0)
			return ctl_usage("evidence search: %s needs a value",
			    name);
		if (k < ncrit) {
			if (*crit[k].dst != NULL)
				return ctl_usage("evidence search: %s given "
				    "twice", name);
			*crit[k].dst = v;
			have = 1;
		} else if (name[2] == 'f')
			ctle_files_add(f, v);
		else if ((rc = ctle_time(name, v, upper, upper ? &q->until_ms :
		    &q->since_ms)) != CTL_OK)
			return rc;
		else
			have = 1;
	}
	if (!have)
		return ctl_usage("evidence search: give at least one of --ref, "
		    "--message-id, --ip, --rcpt, --customer, --since, "
		    "--until");
	if (q->since_ms != 0 && q->until_ms != 0 && q->since_ms > q->until_ms)
		return ctl_usage("evidence search: --since is after --until");
	return CTL_OK;
}

static int
ctle_search(struct ctl *c, int argc, char **argv)
{
	struct ev_query q = { 0 };
	struct ctle_files f = { .n = 0 };
	char err[1024];
	long n;
	int rc;

	if ((rc = ctle_search_args(argc, argv, &q, &f)) == CTL_OK &&
	    (f.n > 0 || (rc = ctle_default_files(c, &f)) == CTL_OK)) {
		n = evidence_search((const char *const *)f.v, f.n, &q,
		    ctle_print, NULL, err, sizeof(err));
		if (fflush(stdout) == EOF || ferror(stdout))
			rc = ctl_fail("cannot write the results");
		else if (n < 0)
			rc = ctl_fail("%s", err);
		else if (n == 0)
			rc = ctl_fail("no matching records");
	}
	ctle_files_free(&f);
	return rc;
}

/* ---- verify ----------------------------------------------------------- */

static int
ctle_verify(struct ctl *c, int argc, char **argv)
{
	struct ctle_files f = { .n = 0 };
	struct ev_verify_result *res = xcalloc(1, sizeof(*res));
	const char *anchor = NULL;
	int rc = CTL_OK, v;

	for (int i = 2; i < argc && rc == CTL_OK; i++)
		if (strcmp(argv[i], "--anchor") == 0) {
			if (i + 1 >= argc)
				rc = ctl_usage("evidence verify: --anchor "
				    "needs a hash");
			else
				anchor = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != '\0')
			rc = ctl_usage("evidence verify: unknown option '%s'",
			    argv[i]);
		else
			ctle_files_add(&f, argv[i]);
	if (rc == CTL_OK && f.n == 0)
		rc = ctle_default_files(c, &f);
	if (rc != CTL_OK)
		goto out;
	v = evidence_verify_from((const char *const *)f.v, f.n, anchor, res);
	if (v < 0)
		rc = ctl_fail("%s", res->reason);
	else if (v > 0) {
		printf("%s:%ld: %s\n", res->file, res->line, res->reason);
		if (res->line == 1 && strcmp(res->file, f.v[0]) == 0 &&
		    strncmp(res->reason, "prev does not", 13) == 0)
			fprintf(stderr, "aupctl: the chain may begin in an "
			    "older file: give the older rotations first, or "
			    "--anchor with the last hash a verify of them "
			    "printed\n");
		rc = CTL_REFUSED;
	} else
		printf("OK: %ld records, chain intact (last hash %s)\n",
		    res->records, res->last_hash);
out:
	ctle_files_free(&f);
	free(res);
	return rc;
}

int
ctl_evidence_main(struct ctl *c, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage("evidence: give a verb: search or verify");
	if (strcmp(argv[1], "search") == 0)
		return ctle_search(c, argc, argv);
	if (strcmp(argv[1], "verify") == 0)
		return ctle_verify(c, argc, argv);
	return ctl_usage("evidence: unknown verb '%s'", argv[1]);
}
