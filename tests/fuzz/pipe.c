/*
 * pipe.c - fuzz target for pipe-mode perf.data read in pieces of random
 * sizes, as from a pipe that delivers whatever the writer has written.
 *
 * The first 4 bytes of the input seed the piece sizes (1 byte up to 64 KiB,
 * often tiny); the rest is the stream, read through pd_reader_open_stream.
 * Besides fuzz_fold's invariants (tests/fuzz/fuzz.h), the result must not
 * depend on how the stream was cut: the same bytes read at once from
 * memory (pd_reader_open_mem) give the same status, messages, counters and
 * folded stacks.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct stream {
	const uint8_t *p;
	size_t left;
	uint32_t rng;
};

static ssize_t
stream_read(void *ctx, void *buf, size_t len)
{
	struct stream *s = ctx;
	size_t n;

	/* xorshift32; a seed of 0 stays 0, which reads one byte at a time. */
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 17;
	s->rng ^= s->rng << 5;
	switch (s->rng & 3) {
	case 0: n = 1 + (s->rng >> 8) % 8; break;		/* inside a header */
	case 1: n = 1 + (s->rng >> 8) % 256; break;
	case 2: n = 1 + (s->rng >> 8) % 65536; break;
	default: n = len; break;				/* all it can take */
	}
	if (n > len)
		n = len;
	if (n > s->left)
		n = s->left;
	memcpy(buf, s->p, n);
	s->p += n;
	s->left -= n;
	return (ssize_t)n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream st = { 0 };
	struct pd_reader *r1, *r2;
	struct fuzz_run a, b;
	int rc;

	if (size < 4)
		return 0;
	memcpy(&st.rng, data, 4);
	st.p = data + 4;
	st.left = size - 4;
	if (!(r1 = pd_reader_new()) || !(r2 = pd_reader_new()))
		abort();
	rc = pd_reader_open_stream(r1, "fuzz-input", stream_read, &st);
	fuzz_fold(r1, rc, size - 4, &a);
	/* A file-mode image is refused on a stream; the comparison is for pipe mode. */
	if (pd_reader_is_pipe(r1)) {
		fuzz_fold(r2, pd_reader_open_mem(r2, "fuzz-input", data + 4, size - 4), size - 4, &b);
		if (a.rc != b.rc || strcmp(a.err, b.err) || strcmp(a.warn, b.warn))
			fuzz_fail("in pieces: %d '%s' '%s'; at once: %d '%s' '%s'", a.rc, a.err, a.warn,
			    b.rc, b.err, b.warn);
		if (memcmp(&a.stats, &b.stats, sizeof(a.stats)))
			fuzz_fail("counters differ between reading in pieces and at once");
		if (a.out_len != b.out_len || memcmp(a.out, b.out, a.out_len))
			fuzz_fail("folded stacks differ between reading in pieces (%zu bytes) and at once (%zu bytes)",
			    a.out_len, b.out_len);
		fuzz_run_free(&b);
	}
	fuzz_run_free(&a);
	pd_reader_free(r1);
	pd_reader_free(r2);
	return 0;
}
