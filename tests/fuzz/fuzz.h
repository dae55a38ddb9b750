/*
 * fuzz - what every fuzz target provides and the one helper they share
 *
 * A target is one file tests/fuzz/fuzz_<name>.c defining
 * LLVMFuzzerTestOneInput() over a pure function of the modules. Built with
 * clang -fsanitize=fuzzer it is a libFuzzer binary (make fuzz); linked with
 * replay.c it replays the corpus tests/fuzz/corpus/<name>/ as a TAP test
 * under any compiler (make check). A target checks properties of what it
 * calls and abort()s when one fails, so both drivers report it as a crash.
 * Threads: single-threaded, like libFuzzer's driver.
 */
#ifndef AUP_FUZZ_H
#define AUP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Run one input; always returns 0 (libFuzzer's contract). */
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * For modules that read a file (config, evidence): replace the contents
 * of this process's one scratch file (a memfd) with data[0..size) and
 * return its path, "/proc/self/fd/N". The path is the same on every call
 * and stays valid for the life of the process; aborts if the file cannot
 * be created or written, as that is a harness failure, not a finding.
 */
const char *fuzz_file(const uint8_t *data, size_t size);

#endif
