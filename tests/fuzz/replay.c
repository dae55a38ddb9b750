/*
 * replay - run a fuzz target over its corpus without libFuzzer, as a TAP
 * test (see fuzz.h)
 *
 * Usage: fuzz_<name>.t [DIR...]. Every regular file in each DIR is read
 * and handed to LLVMFuzzerTestOneInput() once, in name order; each DIR is one test point
 * naming the count replayed. Without arguments the corpus is
 * FUZZ_CORPUS/<name>, the name taken from the program's own file name
 * (fuzz_json.t replays corpus/json), so prove(1) can run the binary bare.
 * A property that fails in a target aborts, and prove reports the program
 * as failed; under SAN=1 so does any sanitizer finding. An empty or
 * missing corpus directory is a failure: it would make the test vacuous.
 * Ownership: each input is a malloc()ed copy of exactly its size, so
 * ASan sees a read one byte past the end. Threads: single.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "strbuf.h"
#include "tap.h"
#include "xalloc.h"

#ifndef FUZZ_CORPUS
#define FUZZ_CORPUS	"tests/fuzz/corpus"
#endif

/* Read path into a buffer of exactly its size; 0 / -1 with errno. */
static int
replay_read(const char *path, uint8_t **data, size_t *size)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	size_t n;
	FILE *fp;
	int bad;

	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_add(&sb, buf, n);
	bad = ferror(fp);
	fclose(fp);
	if (bad) {
		strbuf_free(&sb);
		errno = EIO;
		return -1;
	}
	*size = sb.len;
	*data = xmalloc(sb.len);
	memcpy(*data, strbuf_str(&sb), sb.len);
	strbuf_free(&sb);
	return 0;
}

static int
replay_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every regular file of dir in name order; count, or -1. */
static long
replay_dir(const char *dir)
{
	struct strbuf path = STRBUF_INIT;
	struct dirent *de;
	char **names = NULL;
	size_t nnames = 0;
	long count = 0;
	struct stat st;
	uint8_t *data;
	size_t size;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		diag("%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = xrealloc(names, (nnames + 1) * sizeof(*names));
		names[nnames++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, nnames, sizeof(*names), replay_name_cmp);
	for (size_t i = 0; i < nnames && count >= 0; i++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", dir, names[i]);
		if (stat(path.s, &st) == 0 && !S_ISREG(st.st_mode))
			continue;
		if (replay_read(path.s, &data, &size) < 0) {
			diag("%s: %s", path.s, strerror(errno));
			count = -1;
			break;
		}
		LLVMFuzzerTestOneInput(data, size);
		free(data);
		count++;
	}
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	strbuf_free(&path);
	return count;
}

/* "dir/fuzz_json.t" -> FUZZ_CORPUS "/json", into sb. */
static void
replay_default_dir(const char *argv0, struct strbuf *sb)
{
	const char *base = strrchr(argv0, '/');
	size_t n;

	base = base != NULL ? base + 1 : argv0;
	if (strncmp(base, "fuzz_", 5) == 0)
		base += 5;
	n = strcspn(base, ".");
	strbuf_addf(sb, "%s/%.*s", FUZZ_CORPUS, (int)n, base);
}

int
main(int argc, char **argv)
{
	struct strbuf def = STRBUF_INIT;
	const char *const *dirs = (const char *const *)argv + 1;
	const char *one[1];
	int ndirs = argc - 1;
	long n;

	if (ndirs == 0) {
		replay_default_dir(argv[0], &def);
		one[0] = def.s;
		dirs = one;
		ndirs = 1;
	}
	plan(ndirs);
	for (int i = 0; i < ndirs; i++) {
		n = replay_dir(dirs[i]);
		ok(n > 0, "%s: %ld inputs replayed", dirs[i], n < 0 ? 0 : n);
	}
	strbuf_free(&def);
	return tap_done();
}
