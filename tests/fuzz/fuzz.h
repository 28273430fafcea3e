/*
 * fuzz.h - what the perf.data fuzz targets share: a symbol-free session,
 * folding into memory, and the invariants every run must keep.  Each
 * target is linked on its own (with libFuzzer by make fuzz, with replay.c
 * by make), so this header holds static functions only, marked unused: a
 * target includes it for fuzz_fail alone.
 */
#ifndef PD_FUZZ_H
#define PD_FUZZ_H

#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pd.h"

/* A broken invariant: say which, and abort (libFuzzer keeps the input). */
__attribute__((format(printf, 1, 2), noreturn, unused)) static void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz invariant: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/*
 * The output of a run may be at most this many times the input, plus a
 * constant: one 8-byte call-chain entry can name a frame whose name (a DSO
 * path from an MMAP record) is at most a record's 64 KiB, so anything
 * beyond 8192 output bytes per input byte is a loop, not amplification.
 */
#define FUZZ_OUT_MULT 8192u
#define FUZZ_OUT_CONST (64u * 1024)

struct fuzz_run {
	int rc;				/* pd_session_run (or pd_reader_open) */
	char *err, *warn;		/* copies of the reader's messages */
	struct pd_stats stats;
	uint64_t delivered;		/* samples the callback saw */
	char *out;			/* the folded stacks */
	size_t out_len;
};

struct fuzz_ctx {
	struct pd_fold *fold;
	struct pd_session *session;
	uint64_t delivered;
	unsigned __int128 periods;	/* of the samples delivered, never wrapped */
	int fold_rc;			/* pd_fold_add's first error */
	bool limit;			/* the last sample's period took the total past 2^64-1 */
	uint64_t limit_period;
};

__attribute__((unused)) static int
fuzz_on_sample(void *ctx, const struct pd_sample *s)
{
	struct fuzz_ctx *c = ctx;
	int rc;

	c->delivered++;
	c->periods += s->period;
	if ((rc = pd_fold_add(c->fold, c->session, s)) < 0) {
		c->fold_rc = rc;
		if (rc == PD_E_LIMIT) {
			c->limit = true;
			c->limit_period = s->period;
		}
		return -1;
	}
	return 0;
}

/*
 * The weights (periods) folded, exactly: when folding succeeded, the total
 * is the sum of the periods delivered and the folded lines' counts add up
 * to it, so a sum past 2^64-1 cannot pass as a wrapped total; it has to be
 * an error of pd_fold_add, pd_fold_flush or pd_fold_write.
 */
__attribute__((unused)) static void
fuzz_check_weights(const struct fuzz_ctx *c, const char *out, size_t len)
{
	unsigned __int128 lines = 0;
	const char *p = out, *end = out + len;

	if ((unsigned __int128)pd_fold_weight(c->fold) != c->periods)
		fuzz_fail("periods delivered sum to %s2^64, the fold's total is %llu",
		    c->periods > UINT64_MAX ? "past " : "below ", (unsigned long long)pd_fold_weight(c->fold));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *q;
		unsigned __int128 v = 0;

		if (!nl)
			fuzz_fail("folded output without a final newline");
		for (q = nl; q > p && q[-1] >= '0' && q[-1] <= '9'; q--)
			;
		if (q == nl || q == p || q[-1] != ' ')
			fuzz_fail("folded line without a count: '%.*s'", (int)(nl - p > 200 ? 200 : nl - p), p);
		for (; q < nl; q++)
			v = v * 10 + (unsigned)(*q - '0');
		if (v > UINT64_MAX)
			fuzz_fail("a folded count past 2^64-1");
		lines += v;
		p = nl + 1;
	}
	if (lines != c->periods)
		fuzz_fail("the folded lines' counts sum to %s2^64, not to the periods delivered",
		    lines > UINT64_MAX ? "past " : "below ");
}

/* An error without a message, or without the byte offset, is a bug. */
__attribute__((unused)) static void
fuzz_check_error(const struct pd_reader *r, int rc)
{
	const char *msg = pd_reader_errmsg(r);

	if (rc >= 0 || rc == PD_E_NOMEM || rc == PD_E_CALLBACK)
		return;
	if (!msg[0] || !strstr(msg, "offset 0x"))
		fuzz_fail("error %d (%s) with message '%s'", rc, pd_strerror(rc), msg);
}

/*
 * Run an opened reader (OPEN_RC from pd_reader_open*) through a session
 * without symbol files and fold what it delivers.  Checks: errors carry an
 * offset; every sample read is delivered or counted as bad or of an unknown
 * event (the run may stop on the one sample that ends it); every delivered
 * sample is folded; the folded weights are the exact sum of the periods
 * delivered, or folding failed (fuzz_check_weights); the folded text is
 * bounded by the input size.
 */
__attribute__((unused)) static void
fuzz_fold(struct pd_reader *r, int open_rc, size_t in_len, struct fuzz_run *res)
{
	struct pd_session_opts so = {
		.symfs = "/nonexistent/pd-fuzz",
		.kallsyms = "/dev/null",
		.home = "/nonexistent/pd-fuzz",
	};
	struct fuzz_ctx c = { 0 };
	FILE *mem;
	int rc = open_rc, frc = PD_OK;

	memset(res, 0, sizeof(*res));
	c.session = pd_session_new(&so);
	c.fold = pd_fold_new(PD_FOLD_PID | PD_FOLD_KERNEL | PD_FOLD_JIT | PD_FOLD_ADDRS);
	if (!c.session || !c.fold || !(mem = open_memstream(&res->out, &res->out_len)))
		abort();
	if (rc == PD_OK) {
		const struct pd_stats *st;
		uint64_t accounted;

		rc = pd_session_run(c.session, r, fuzz_on_sample, &c);
		if ((frc = pd_fold_flush(c.fold, c.session)) == PD_OK)
			frc = pd_fold_write(c.fold, mem);
		st = pd_session_stats(c.session);
		accounted = c.delivered + st->samples_bad + st->samples_unknown_id;
		if (rc != PD_E_NOMEM && !(st->samples == accounted || (rc < 0 && st->samples == accounted + 1)))
			fuzz_fail("%llu samples read, %llu delivered, %llu bad, %llu of unknown events (rc %d)",
			    (unsigned long long)st->samples, (unsigned long long)c.delivered,
			    (unsigned long long)st->samples_bad, (unsigned long long)st->samples_unknown_id, rc);
		/* A sample whose period would take the sum past 2^64-1 is refused, and ends the run. */
		if (c.limit && (rc != PD_E_CALLBACK || pd_fold_weight(c.fold) <= UINT64_MAX - c.limit_period))
			fuzz_fail("a weight refused (rc %d) that fits: %llu + %llu", rc,
			    (unsigned long long)pd_fold_weight(c.fold), (unsigned long long)c.limit_period);
		if (rc != PD_E_NOMEM && pd_fold_samples(c.fold) != c.delivered - c.limit)
			fuzz_fail("%llu samples delivered, %llu folded", (unsigned long long)c.delivered,
			    (unsigned long long)pd_fold_samples(c.fold));
		if (c.fold_rc < 0 && c.fold_rc != PD_E_NOMEM && c.periods <= UINT64_MAX)
			fuzz_fail("pd_fold_add failed (%d) with periods summing below 2^64", c.fold_rc);
		res->stats = *st;
	}
	if (fflush(mem))
		abort();
	if (rc == PD_OK && frc == PD_OK && c.fold_rc == 0)
		fuzz_check_weights(&c, res->out, res->out_len);
	fclose(mem);
	if (res->out_len > FUZZ_OUT_CONST + (uint64_t)FUZZ_OUT_MULT * in_len)
		fuzz_fail("%zu bytes of folded output from %zu bytes of input", res->out_len, in_len);
	fuzz_check_error(r, rc);
	res->rc = rc;
	res->delivered = c.delivered;
	if (!(res->err = strdup(pd_reader_errmsg(r))) || !(res->warn = strdup(pd_reader_warning(r))))
		abort();
	pd_fold_free(c.fold);
	pd_session_free(c.session);
}

__attribute__((unused)) static void
fuzz_run_free(struct fuzz_run *res)
{
	free(res->out);
	free(res->err);
	free(res->warn);
}

#endif
