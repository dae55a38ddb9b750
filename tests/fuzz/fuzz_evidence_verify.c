/*
 * fuzz_evidence_verify - the evidence chain verifier of policy/evidence.h
 *
 * The input is written to the scratch file (fuzz.h) as one log file and
 * verified. Properties, each an abort() when broken: the answer is 0
 * (intact) or 1 (bad) - the file is always readable; an intact chain
 * names no file; a bad one names the file, a line past the intact
 * records and a reason; last_hash is always 64 hex digits.
 * Ownership: nothing allocated here. Threads: single.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evidence.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev_verify_result res;	/* 4 KiB: keep off the stack */
	const char *files[1];
	int rc;

	files[0] = fuzz_file(data, size);
	rc = evidence_verify(files, 1, &res);
	if (rc != 0 && rc != 1)
		abort();
	if (strlen(res.last_hash) != 64 ||
	    strspn(res.last_hash, "0123456789abcdef") != 64)
		abort();
	if (rc == 0 && res.file[0] != '\0')
		abort();
	if (rc == 1 && (strcmp(res.file, files[0]) != 0 ||
	    res.line != res.records + 1 || res.reason[0] == '\0'))
		abort();
	return 0;
}
