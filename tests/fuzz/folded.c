/*
 * folded.c - fuzz target for the folded-text readers and writers that
 * flame.c does not cover: pdtop's (pd_top_read_folded, pd_top_write) and
 * pddiff's (pd_diff_read_folded, pd_diff_write in its three formats,
 * pd_diff_gate).  pdjson's tree and speedscope writers live in
 * tools/pdjson.c, not in the library, so they are not reached here; the
 * library's JSON writer has its own target (json.c).
 *
 * Input layout:
 *
 *   byte 0   bit 0 pdtop --children (else --no-children), 1 pdtop
 *            --weight=samples, 2 pdtop --relative, 3-4 pdtop's second
 *            output (text, tsv, json, text), 5 pddiff --strip-hex,
 *            6 pddiff --weight=samples, 7 pdtop sorted by symbol only
 *   byte 1   bits 0-4 pddiff's folded flags (scale, swap, no marks, header,
 *            fold samples), 5-6 pddiff's second output (folded, table,
 *            json, folded), 7 a row limit and a percent limit on pdtop's
 *            second output
 *   rest     folded text, read by both tools under the name "fuzz-input"
 *
 * Invariants (a broken one aborts through fuzz_fail):
 *  - an error (but out of memory) has a one-line message that names the
 *    input and a line or a byte offset;
 *  - the sum of the last counts of the lines that are stacks (what both
 *    readers count) is what they report: pdtop's JSON total and its rows'
 *    self counts, pddiff's totals of either side and its folded stream;
 *    a sum past 2^64-1 is an error of both, never a wrapped total;
 *  - every percentage pdtop writes (text and JSON) is a finite number in
 *    [0, 100];
 *  - the profile compared with itself: both sides read alike, the gate
 *    finds no regression, the folded stream has equal counts on both sides
 *    and no [NEW] or [GONE] marks;
 *  - every output is at most OUT_CONST + OUT_MULT bytes per input byte.
 */
#include "fuzz.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The bound on each output.  A frame costs at least two input bytes (a
 * name byte and its ';'); it becomes at most one row of pdtop (a table row
 * with two percentages and counts, about 100 bytes besides the name, or a
 * JSON row of about 200) or two of pddiff's table or JSON (self and
 * inclusive, about 300 bytes each with the statistics), its name escaped
 * at most 6 times.  1024 per input byte is several times that; more is a
 * loop or a duplication.
 */
#define OUT_CONST (64u * 1024)
#define OUT_MULT 1024u

#define NAME "fuzz-input"

/*
 * The harness's own scans of the text and the outputs are left out of the
 * coverage instrumentation, as in flame.c: traced per byte they cost more
 * than the code under test and say nothing about it.  ASan still checks
 * them.
 */
#if defined(__clang__) && __clang_major__ >= 13
#define NO_COV __attribute__((no_sanitize("coverage"), noinline))
#else
#define NO_COV
#endif

struct expect {
	uint64_t sum;			/* of the stacks' last counts */
	int wraps;			/* that sum passes 2^64-1 */
	int periods;			/* the first line says weight=period */
	int bad;			/* some line is not "stack COUNT": expect an error */
};

/* ---------------------------------------------------------------- */
/* What the text holds, by the rules of pd-formats(5), read independently. */

static NO_COV int
all_digits(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static NO_COV void
expect_of(const char *s, size_t n, struct expect *e)
{
	size_t start = 0, lineno = 0;

	memset(e, 0, sizeof(*e));
	while (start < n) {
		const char *nl = memchr(s + start, '\n', n - start);
		size_t len = nl ? (size_t)(nl - (s + start)) : n - start, end, sp;
		const char *l = s + start;
		uint64_t c = 0;
		int over = 0;

		start += len + 1;
		lineno++;
		if (len && l[len - 1] == '\r')
			len--;
		if (lineno == 1 && len && l[0] == '#') {
			struct pd_folded_meta m;
			char *copy = malloc(len + 1);

			if (!copy)
				abort();
			memcpy(copy, l, len);
			copy[len] = '\0';
			if (pd_folded_meta_parse(copy, len, &m))
				e->periods = m.weight == PD_WEIGHT_PERIOD;
			free(copy);
			continue;
		}
		if (len && l[0] == '#')
			continue;
		for (end = 0; end < len && (l[end] == ' ' || l[end] == '\t'); end++)
			;
		if (end == len)
			continue;
		if (memchr(l, '\0', len)) {
			e->bad = 1;
			continue;
		}
		end = len;
		while (end && (l[end - 1] == ' ' || l[end - 1] == '\t'))
			end--;
		for (sp = end; sp && l[sp - 1] != ' '; sp--)
			;
		if (!sp || !all_digits(l + sp, end - sp)) {
			e->bad = 1;
			continue;
		}
		for (size_t i = sp; i < end && !over; i++)
			over = __builtin_mul_overflow(c, 10, &c) ||
			    __builtin_add_overflow(c, (uint64_t)(l[i] - '0'), &c);
		if (over) {
			e->bad = 1;		/* a count past 2^64-1 */
			continue;
		}
		/*
		 * Something must be left for the stack, besides a count before it:
		 * "stack N M", one blank between the counts ("  5  56" is the stack
		 * "  5", as flamegraph.pl reads it too).
		 */
		end = sp - 1;
		{
			size_t k = end;

			while (k && l[k - 1] >= '0' && l[k - 1] <= '9')
				k--;
			/* "N M": the stack is "N". */
			if (k < end && k && l[k - 1] == ' ')
				end = k - 1;
		}
		while (end && l[end - 1] == ' ')
			end--;
		if (!end) {
			e->bad = 1;
			continue;
		}
		if (__builtin_add_overflow(e->sum, c, &e->sum))
			e->wraps = 1;
	}
}

/* ---------------------------------------------------------------- */

static FILE *
text_file(const uint8_t *text, size_t n, char **copy)
{
	FILE *fp;

	/* fmemopen of an empty buffer may fail; one byte that is never read. */
	if (!(*copy = malloc(n ? n : 1)))
		abort();
	memcpy(*copy, text, n);
	if (!(fp = fmemopen(*copy, n ? n : 1, "r")))
		abort();
	if (!n)
		fgetc(fp);
	return fp;
}

static void
check_msg(const char *who, int rc, const char *msg)
{
	if (rc == PD_E_NOMEM)
		return;
	if (!msg[0] || strchr(msg, '\n'))
		fuzz_fail("%s: error %d with message '%s' (empty, or more than one line)", who, rc, msg);
	if (!strstr(msg, "'" NAME "'"))
		fuzz_fail("%s: error %d, message '%s' does not name the input", who, rc, msg);
	/* A usage error (periods asked to count as samples) is about no place in the text. */
	if (rc != PD_E_USAGE && !strstr(msg, "line ") && !strstr(msg, "offset 0x"))
		fuzz_fail("%s: error %d, message '%s' names no line or offset", who, rc, msg);
}

static void
check_size(const char *what, size_t out, size_t in)
{
	if (out > OUT_CONST + (uint64_t)OUT_MULT * in)
		fuzz_fail("%zu bytes of %s from %zu bytes of input", out, what, in);
}

/* The unsigned number after each occurrence of KEY in S; their sum, or -1 when it wraps. */
static NO_COV int
sum_after(const char *s, size_t n, const char *key, uint64_t *sum, uint64_t *count)
{
	size_t kl = strlen(key);
	const char *p = s, *end = s + n;

	*sum = *count = 0;
	while ((p = memmem(p, (size_t)(end - p), key, kl))) {
		uint64_t v = 0;

		p += kl;
		if (p < end && *p == 'n')	/* null */
			continue;
		while (p < end && *p >= '0' && *p <= '9') {
			if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
				fuzz_fail("a count after %s past 2^64-1", key);
			p++;
		}
		if (__builtin_add_overflow(*sum, v, sum))
			return -1;
		++*count;
	}
	return 0;
}

/* Every number after KEY is a finite percentage in [0, 100]. */
static NO_COV void
check_pct_json(const char *s, size_t n, const char *key)
{
	size_t kl = strlen(key);
	const char *p = s, *end = s + n;

	while ((p = memmem(p, (size_t)(end - p), key, kl))) {
		char num[64];
		size_t k = 0;
		double v;

		p += kl;
		while (p < end && k < sizeof(num) - 1 && *p != ',' && *p != '}')
			num[k++] = *p++;
		num[k] = '\0';
		v = strtod(num, NULL);
		if (!isfinite(v) || v < 0 || v > 100 || !k || !strchr("0123456789", num[0]))
			fuzz_fail("pdtop JSON: %s%s is not a percentage", key, num);
	}
}

/* The text table: each row starts with one or two percentages. */
static NO_COV void
check_pct_text(const char *s, size_t n, int columns)
{
	const char *p = s, *end = s + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *q = p;

		if (q < le && *q != '#') {
			for (int c = 0; c < columns; c++) {
				char num[64];
				size_t k = 0;
				double v;

				while (q < le && *q == ' ')
					q++;
				while (q < le && *q != '%' && *q != ' ' && k < sizeof(num) - 1)
					num[k++] = *q++;
				num[k] = '\0';
				if (q >= le || *q != '%')
					fuzz_fail("pdtop text: a row without its percentage: '%.*s'",
					    (int)(le - p > 200 ? 200 : le - p), p);
				q++;
				v = strtod(num, NULL);
				if (!isfinite(v) || v < 0 || v > 100 || !k || !strchr("0123456789", num[0]))
					fuzz_fail("pdtop text: %s%% is not a percentage", num);
			}
		}
		p = le + 1;
	}
}

/* ---------------------------------------------------------------- */
/* pdtop. */

static void
run_top(uint8_t f0, uint8_t f1, const uint8_t *text, size_t n, size_t in_size, const struct expect *e)
{
	static const enum pd_top_format fmts[4] = { PD_TOP_TEXT, PD_TOP_TSV, PD_TOP_JSON, PD_TOP_TEXT };
	struct pd_top_opts to = {
		.children = f0 & 1,
		.weight_samples = !!(f0 & 2),
		.relative = !!(f0 & 4),
	};
	struct pd_top_print pj = { .format = PD_TOP_JSON }, p2 = { .format = fmts[(f0 >> 3) & 3] };
	struct pd_top *t = pd_top_new(&to);
	char *copy, *out = NULL;
	size_t out_len = 0;
	FILE *in, *mem;
	int rc;

	if (!t)
		abort();
	if ((f0 & 128) && pd_top_set_sort(t, "symbol") != PD_OK)
		fuzz_fail("pdtop: sort by symbol refused");
	in = text_file(text, n, &copy);
	rc = pd_top_read_folded(t, in, NAME);
	fclose(in);
	free(copy);
	if (rc < 0) {
		check_msg("pdtop", rc, pd_top_errmsg(t));
		/* Good lines summing past 2^64-1 and a weight mix-up are the only other errors. */
		if (rc != PD_E_NOMEM && !e->bad && !e->wraps && !(e->periods && to.weight_samples))
			fuzz_fail("pdtop: error '%s' on input that parses", pd_top_errmsg(t));
		pd_top_free(t);
		return;
	}
	if (e->bad)
		fuzz_fail("pdtop: a line that does not parse was accepted");
	if (e->wraps)
		fuzz_fail("pdtop: counts past 2^64-1 were accepted");
	if (e->periods && to.weight_samples)
		fuzz_fail("pdtop: --weight=samples on periods was accepted");

	/* JSON, whole: the totals and the rows' self counts are the sum read. */
	if (!(mem = open_memstream(&out, &out_len)))
		abort();
	rc = pd_top_write(t, mem, &pj);
	if (fclose(mem))
		abort();
	if (rc != PD_OK && rc != PD_E_NOMEM)
		fuzz_fail("pdtop: pd_top_write (JSON) returned %d (%s)", rc, pd_top_errmsg(t));
	if (rc == PD_OK) {
		const char *tot = e->periods ? ",\"period\":" : ",\"samples\":";
		/* With children the rows' self counts have their own key; without, the counts are self. */
		const char *self = to.children ? (e->periods ? ",\"self_period\":" : ",\"self_samples\":") : tot;
		const char *ev = memmem(out, out_len, "{\"event\":", 9);
		const char *rows = ev ? memmem(ev, out_len - (size_t)(ev - out), ",\"rows\":[", 9) : NULL;
		uint64_t selfsum = 0, nself = 0;

		check_size("pdtop JSON", out_len, in_size);
		/* The rows' self counts: each line counts once, at its leaf (children may add past 2^64). */
		if (rows && sum_after(rows, out_len - (size_t)(rows - out), self, &selfsum, &nself) < 0)
			fuzz_fail("pdtop JSON: self counts that add up past 2^64-1");
		if (!ev || !rows) {
			if (e->sum || nself)
				fuzz_fail("pdtop JSON: no event table, yet the lines sum to %llu",
				    (unsigned long long)e->sum);
		} else {
			uint64_t evtotal, k;

			/* The table's own total, between its name and its rows. */
			if (sum_after(ev, (size_t)(rows - ev), tot, &evtotal, &k) < 0 || k != 1)
				fuzz_fail("pdtop JSON: %llu totals in the event's header", (unsigned long long)k);
			if (evtotal != e->sum)
				fuzz_fail("pdtop JSON: total %llu, the lines sum to %llu", (unsigned long long)evtotal,
				    (unsigned long long)e->sum);
			if (selfsum != e->sum)
				fuzz_fail("pdtop JSON: the rows' self counts sum to %llu, the lines to %llu",
				    (unsigned long long)selfsum, (unsigned long long)e->sum);
		}
		check_pct_json(out, out_len, "{\"overhead\":");
		check_pct_json(out, out_len, ",\"self\":");
	}
	free(out);
	out = NULL;
	out_len = 0;

	/* The second output, maybe cut by rows and a percent limit. */
	if (f1 & 128) {
		p2.rows = 1 + (f0 & 7);
		p2.percent_limit = 0.5;
	}
	if (!(mem = open_memstream(&out, &out_len)))
		abort();
	rc = pd_top_write(t, mem, &p2);
	if (fclose(mem))
		abort();
	if (rc != PD_OK && rc != PD_E_NOMEM)
		fuzz_fail("pdtop: pd_top_write (format %d) returned %d (%s)", p2.format, rc, pd_top_errmsg(t));
	if (rc == PD_OK) {
		check_size("pdtop output", out_len, in_size);
		if (p2.format == PD_TOP_TEXT)
			check_pct_text(out, out_len, to.children ? 2 : 1);
	}
	free(out);
	pd_top_free(t);
}

/* ---------------------------------------------------------------- */
/* pddiff: the profile against itself. */

static NO_COV void
check_diff_folded(const char *s, size_t n, const struct expect *e, int sum_known, int marks_in_input)
{
	const char *p = s, *end = s + n;
	uint64_t sum = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *b, *a;
		uint64_t va = 0, vb = 0;

		if (le == p || *p == '#') {
			p = le + 1;
			continue;
		}
		for (b = le; b > p && b[-1] != ' '; b--)
			;
		for (a = b - 1; a > p && a[-1] != ' '; a--)
			;
		if (b <= p || a <= p || !all_digits(b, (size_t)(le - b)) || !all_digits(a, (size_t)(b - 1 - a)))
			fuzz_fail("pddiff folded: line '%.*s' is not \"stack BASE NEW\"",
			    (int)(le - p > 200 ? 200 : le - p), p);
		if ((size_t)(b - 1 - a) != (size_t)(le - b) || memcmp(a, b, (size_t)(le - b)))
			fuzz_fail("pddiff folded: a profile against itself gives '%.*s'",
			    (int)(le - p > 200 ? 200 : le - p), p);
		/* A name of the input may hold the words; pddiff adds none of its own. */
		if (!marks_in_input &&
		    (memmem(p, (size_t)(a - p), " [NEW]", 6) || memmem(p, (size_t)(a - p), " [GONE]", 7)))
			fuzz_fail("pddiff folded: a mark in a profile against itself: '%.*s'",
			    (int)(le - p > 200 ? 200 : le - p), p);
		for (const char *q = b; q < le; q++)
			vb = vb * 10 + (uint64_t)(*q - '0');
		(void)va;
		if (__builtin_add_overflow(sum, vb, &sum))
			fuzz_fail("pddiff folded: the stream's counts add up past 2^64-1");
		p = le + 1;
	}
	if (sum_known && sum != e->sum)
		fuzz_fail("pddiff folded: the stream sums to %llu, the lines to %llu", (unsigned long long)sum,
		    (unsigned long long)e->sum);
}

static void
run_diff(uint8_t f0, uint8_t f1, const uint8_t *text, size_t n, size_t in_size, const struct expect *e)
{
	static const enum pd_diff_format fmts[4] = { PD_DIFF_FOLDED, PD_DIFF_TABLE, PD_DIFF_JSON, PD_DIFF_FOLDED };
	struct pd_diff_opts o;
	struct pd_diff_side_info si[2];
	struct pd_diff *d;
	unsigned flags = f1 & 31;
	char *copy, *out = NULL, *msg0 = NULL;
	size_t out_len = 0;
	int rc[2], g;
	FILE *in, *mem;

	pd_diff_opts_init(&o);
	o.strip_hex = !!(f0 & 32);
	o.weight_samples = !!(f0 & 64);
	if (!(d = pd_diff_new(&o)))
		abort();
	for (int side = 0; side < 2; side++) {
		in = text_file(text, n, &copy);
		rc[side] = pd_diff_read_folded(d, side, in, NAME);
		fclose(in);
		free(copy);
		if (rc[side] < 0) {
			check_msg("pddiff", rc[side], pd_diff_errmsg(d));
			if (rc[side] != PD_E_NOMEM && !e->bad && !e->wraps)
				fuzz_fail("pddiff: error '%s' on input that parses", pd_diff_errmsg(d));
			if (!side && !(msg0 = strdup(pd_diff_errmsg(d))))
				abort();
			break;
		}
	}
	if (rc[0] < 0) {
		free(msg0);
		pd_diff_free(d);
		return;
	}
	if (rc[1] < 0) {
		/* Once read, the same text reads the same way into the other side. */
		if (rc[1] != PD_E_NOMEM)
			fuzz_fail("pddiff: BASE read, the same text as NEW: '%s'", pd_diff_errmsg(d));
		pd_diff_free(d);
		return;
	}
	if (e->bad)
		fuzz_fail("pddiff: a line that does not parse was accepted");
	if (e->wraps)
		fuzz_fail("pddiff: counts past 2^64-1 were accepted");
	if (pd_diff_info(d, 0, &si[0]) < 0 || pd_diff_info(d, 1, &si[1]) < 0)
		fuzz_fail("pd_diff_info failed");
	if (si[0].runs != 1 || si[1].runs != 1 || si[0].samples != si[1].samples ||
	    si[0].weight != si[1].weight || si[0].stacks != si[1].stacks ||
	    si[0].samples_unknown != si[1].samples_unknown || si[0].periods != si[1].periods)
		fuzz_fail("pddiff: the two sides of one text differ");
	if (si[0].weight != e->sum)
		fuzz_fail("pddiff: total weight %llu, the lines sum to %llu", (unsigned long long)si[0].weight,
		    (unsigned long long)e->sum);
	if (!e->periods && si[0].samples != e->sum)
		fuzz_fail("pddiff: %llu samples, the lines sum to %llu", (unsigned long long)si[0].samples,
		    (unsigned long long)e->sum);

	/* The gate: nothing regressed, and nothing is reported. */
	if (!(mem = open_memstream(&out, &out_len)))
		abort();
	g = pd_diff_gate(d, mem);
	if (fclose(mem))
		abort();
	if (g != 0 && g != PD_E_NOMEM)
		fuzz_fail("pddiff: a profile against itself: gate %d (%s), report '%.*s'", g, pd_diff_errmsg(d),
		    (int)(out_len > 300 ? 300 : out_len), out ? out : "");
	if (g == 0 && out_len)
		fuzz_fail("pddiff: no regression, yet a report of %zu bytes", out_len);
	free(out);

	/* The folded stream, then the second output. */
	for (int k = 0; k < 2; k++) {
		enum pd_diff_format fmt = k ? fmts[(f1 >> 5) & 3] : PD_DIFF_FOLDED;
		int w;

		out = NULL;
		out_len = 0;
		if (!(mem = open_memstream(&out, &out_len)))
			abort();
		w = pd_diff_write(d, mem, fmt, flags);
		if (fclose(mem))
			abort();
		if (w < 0 && w != PD_E_NOMEM)
			fuzz_fail("pddiff: pd_diff_write (format %d, flags %#x) returned %d (%s)", fmt, flags, w,
			    pd_diff_errmsg(d));
		if (w >= 0) {
			check_size("pddiff output", out_len, in_size);
			if (fmt == PD_DIFF_FOLDED)
				check_diff_folded(out, out_len, e,
				    !o.weight_samples && !(flags & PD_DIFF_FOLD_SAMPLES),
				    memmem(text, n, " [NEW]", 6) || memmem(text, n, " [GONE]", 7));
		}
		free(out);
	}
	pd_diff_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct expect e;

	if (size < 2)
		return 0;
	expect_of((const char *)data + 2, size - 2, &e);
	run_top(data[0], data[1], data + 2, size - 2, size, &e);
	run_diff(data[0], data[1], data + 2, size - 2, size, &e);
	return 0;
}
