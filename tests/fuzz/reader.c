/*
 * reader.c - fuzz target for the whole reading path over one perf.data
 * image in memory (file or pipe form): pd_reader_open_mem, pd_session_run
 * and the folding, without symbol files.  The invariants are fuzz_fold's
 * (tests/fuzz/fuzz.h): errors name their offset, every sample read is
 * folded or counted as dropped, the output is bounded by the input.
 *
 * make fuzz links it with libFuzzer (build-fuzz/reader-fuzz); make links it
 * with tests/fuzz/replay.c (build/tests/fuzz/reader-replay), which replays
 * the committed corpus and every crash ever found in make check.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pd_reader *r = pd_reader_new();
	struct fuzz_run res;

	if (!r)
		abort();
	fuzz_fold(r, pd_reader_open_mem(r, "fuzz-input", data, size), size, &res);
	fuzz_run_free(&res);
	pd_reader_free(r);
	return 0;
}
