/*
 * fuzz - the scratch file shared by the file-reading fuzz targets (fuzz.h)
 *
 * A memfd rather than a file on disk: nothing to clean up when libFuzzer
 * kills the process, and millions of rewrites never touch a disk. It is
 * reached through /proc/self/fd so the code under test opens it by path,
 * exactly as it opens a real file (each open gets its own offset).
 * Ownership: the descriptor lives as long as the process, on purpose.
 * Threads: not thread-safe (one fuzzing thread). Errors: abort().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

static int fuzz_fd = -1;
static char fuzz_path[64];

const char *
fuzz_file(const uint8_t *data, size_t size)
{
	size_t off = 0;
	ssize_t n;

	if (fuzz_fd < 0) {
		if ((fuzz_fd = memfd_create("aup-fuzz", MFD_CLOEXEC)) < 0) {
			perror("fuzz: memfd_create");
			abort();
		}
		snprintf(fuzz_path, sizeof(fuzz_path), "/proc/self/fd/%d",
		    fuzz_fd);
	}
	if (ftruncate(fuzz_fd, 0) < 0) {
		perror("fuzz: ftruncate");
		abort();
	}
	while (off < size) {
		n = pwrite(fuzz_fd, data + off, size - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			perror("fuzz: pwrite");
			abort();
		}
		off += (size_t)n;
	}
	return fuzz_path;
}
