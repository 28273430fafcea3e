/*
 * lib.c - unit tests of the library's building blocks: the bounded cursor,
 * growth buffer, arena, array growth, number parsing, demangling, sample
 * decoding for each sample_type bit, and the sample_id trailer.
 */
#include "pd-internal.h"
#include "../tap.h"

static void
test_cursor(void)
{
	unsigned char b[12] = { 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 3 };
	struct pd_cur c = pd_cur_make(b, sizeof(b), false), s;

	is_int(pd_cur_u32(&c), 1, "cur: u32 little-endian");
	s = c;
	s.swap = 1;
	is_int(pd_cur_u32(&s), 0x02000000, "cur: u32 swapped");
	is_int(pd_cur_u64(&c), 0x0300000000000002ull, "cur: u64");
	ok(!c.bad && c.left == 0, "cur: consumed exactly");
	is_int(pd_cur_u8(&c), 0, "cur: read past the end yields 0");
	ok(c.bad, "cur: and the error is sticky");
	is_int(pd_cur_u32(&c), 0, "cur: later reads yield 0 too");
	c = pd_cur_make(b, sizeof(b), false);
	s = pd_cur_sub(&c, 4);
	is_int(s.left, 4, "cur: sub-cursor has its size");
	is_int(c.left, 8, "cur: parent moved past it");
	pd_cur_u64(&s);
	ok(s.bad && !c.bad, "cur: overrun of a sub-cursor stays inside it");
	c = pd_cur_make(b, sizeof(b), false);
	pd_cur_skip(&c, SIZE_MAX);
	ok(c.bad, "cur: skipping SIZE_MAX fails without overflow");
	c = pd_cur_make(b, sizeof(b), false);
	s = pd_cur_sub(&c, 13);
	ok(c.bad && s.bad, "cur: sub-cursor larger than what is left fails");
}

static void
test_buf_arena(void)
{
	struct pd_buf b = PD_BUF_INIT;
	struct pd_arena a = { 0 };
	char *p;
	int *arr = NULL;
	size_t alloc = 0;

	ok(b.buf && b.buf[0] == '\0', "buf: empty buffer is a valid string");
	pd_buf_addstr(&b, "abc");
	pd_buf_addf(&b, "-%d-%s", 42, "x");
	is_str(b.buf, "abc-42-x", "buf: addstr and addf");
	is_int(b.len, 8, "buf: length");
	for (int i = 0; i < 1000; i++)
		pd_buf_add(&b, "0123456789", 10);
	is_int(b.len, 10008, "buf: grows");
	ok(b.buf[b.len] == '\0', "buf: stays NUL-terminated");
	pd_buf_reset(&b);
	is_str(b.buf, "", "buf: reset");
	pd_buf_release(&b);
	ok(b.buf == pd_buf_empty && b.alloc == 0, "buf: release");

	p = pd_arena_strdup(&a, "hello");
	is_str(p, "hello", "arena: strdup");
	p = pd_arena_alloc(&a, 1u << 20);
	ok(p != NULL, "arena: a large block");
	memset(p, 1, 1u << 20);
	p = pd_arena_strndup(&a, "abcdef", 3);
	is_str(p, "abc", "arena: strndup after a large block");
	pd_arena_release(&a);
	ok(a.head == NULL, "arena: release");

	ok(PD_GROW(arr, 100, alloc) == 0 && alloc >= 100, "grow: to 100");
	arr[99] = 7;
	ok(PD_GROW(arr, SIZE_MAX / 2, alloc) == -1, "grow: an overflowing size fails");
	is_int(arr[99], 7, "grow: the array survives a failed grow");
	free(arr);
}

static void
test_parse(void)
{
	uint64_t v = 0;

	ok(pd_parse_u64("42", 0, 100, &v) == PD_OK && v == 42, "parse: 42");
	ok(pd_parse_u64("0x10", 0, 100, &v) == PD_OK && v == 16, "parse: hex");
	ok(pd_parse_u64("101", 0, 100, &v) == PD_E_USAGE, "parse: above max");
	ok(pd_parse_u64("-1", 0, 100, &v) == PD_E_USAGE, "parse: negative");
	ok(pd_parse_u64("12abc", 0, 100, &v) == PD_E_USAGE, "parse: trailing garbage");
	ok(pd_parse_u64("", 0, 100, &v) == PD_E_USAGE, "parse: empty");
	ok(pd_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v) == PD_E_USAGE, "parse: overflow");
	is_str(pd_strerror(PD_E_CORRUPT), "corrupt perf.data", "strerror");

	/* The one count parser and the one checked adder of every tool. */
	v = 7;
	ok(pd_parse_count("18446744073709551615", 20, &v) == PD_OK && v == UINT64_MAX, "count: 2^64-1");
	ok(pd_parse_count("0", 1, &v) == PD_OK && v == 0, "count: 0");
	ok(pd_parse_count("010", 3, &v) == PD_OK && v == 10, "count: decimal, not octal");
	v = 7;
	ok(pd_parse_count("18446744073709551616", 20, &v) == PD_E_FORMAT && v == 7, "count: 2^64 is not one");
	ok(pd_parse_count("99999999999999999999", 20, &v) == PD_E_FORMAT, "count: 10^20-1 is not one");
	ok(pd_parse_count("184467440737095516150", 21, &v) == PD_E_FORMAT, "count: 10 * (2^64-1) is not one");
	ok(pd_parse_count("", 0, &v) == PD_E_FORMAT, "count: empty");
	ok(pd_parse_count("0x10", 4, &v) == PD_E_FORMAT, "count: no hex");
	ok(pd_parse_count("+1", 2, &v) == PD_E_FORMAT && pd_parse_count("-1", 2, &v) == PD_E_FORMAT,
	    "count: no sign");
	ok(pd_parse_count("12 ", 3, &v) == PD_E_FORMAT, "count: no blank");
	ok(pd_parse_count("123", 2, &v) == PD_OK && v == 12, "count: LEN bytes only");
	v = UINT64_MAX - 1;
	ok(pd_add_weight(&v, 1) == PD_OK && v == UINT64_MAX, "add: up to 2^64-1");
	ok(pd_add_weight(&v, 0) == PD_OK && v == UINT64_MAX, "add: 0 to 2^64-1");
	ok(pd_add_weight(&v, 1) == PD_E_LIMIT && v == UINT64_MAX, "add: past 2^64-1 is refused, unchanged");
	v = 1ull << 63;
	ok(pd_add_weight(&v, 1ull << 63) == PD_E_LIMIT && v == 1ull << 63, "add: 2^63 + 2^63 is refused");
}

static void
test_demangle(void)
{
	struct pd_arena a = { 0 };

	/* perf 6.1 demangles without parameters (DMGL_NO_OPTS) unless -v. */
	is_str(pd_demangle(&a, "_ZN3foo3barEi"), "foo::bar", "demangle: C++, no argument list");
	is_str(pd_demangle(&a, "_ZN12_GLOBAL__N_13bazEv"), "(anonymous namespace)::baz", "demangle: C++ anonymous namespace");
	is_str(pd_demangle(&a, "_ZSt4sortIPiEvT_S1_"), "std::sort<int*>", "demangle: no return type of a template function");
	is_str(pd_demangle(&a, "_ZNK6shapes4AreaIlEclEl"), "shapes::Area<long>::operator()", "demangle: operator() keeps its name");
	is_str(pd_demangle(&a, "_ZN4core3fmt5write17h0123456789abcdefE"), "core::fmt::write",
	    "demangle: Rust legacy, hash dropped");
	is_str(pd_demangle(&a, "_RNvCs1234_7mycrate4main"), "mycrate::main", "demangle: Rust v0");
	ok(pd_demangle(&a, "main") == NULL, "demangle: C names stay");
	ok(pd_demangle(&a, "_Zgarbage") == NULL, "demangle: garbage stays");
	pd_arena_release(&a);
}

/* Append a u64 / two u32 to a sample body under construction. */
static size_t
put64(unsigned char *p, size_t at, uint64_t v)
{
	memcpy(p + at, &v, 8);
	return at + 8;
}

static size_t
put32x2(unsigned char *p, size_t at, uint32_t a, uint32_t b)
{
	memcpy(p + at, &a, 4);
	memcpy(p + at + 4, &b, 4);
	return at + 8;
}

static void
test_sample(void)
{
	struct pd_attr a;
	struct pd_raw_sample s;
	unsigned char body[512];
	size_t n = 0;
	uint64_t t, id;
	bool has;

	memset(&a, 0, sizeof(a));
	a.info.sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID |
	    PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR | PERF_SAMPLE_ID | PERF_SAMPLE_STREAM_ID |
	    PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_RAW |
	    PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER | PERF_SAMPLE_WEIGHT;
	a.sample_regs_user = 0x7;
	n = put64(body, n, 99);			/* identifier */
	n = put64(body, n, 0x401000);		/* ip */
	n = put32x2(body, n, 10, 11);		/* pid, tid */
	n = put64(body, n, 123456);		/* time */
	n = put64(body, n, 0xdead);		/* addr */
	n = put64(body, n, 99);			/* id */
	n = put64(body, n, 5);			/* stream id */
	n = put32x2(body, n, 1, 0);		/* cpu */
	n = put64(body, n, 250000);		/* period */
	n = put64(body, n, 3);			/* callchain nr */
	n = put64(body, n, PERF_CONTEXT_USER);
	n = put64(body, n, 0x401000);
	n = put64(body, n, 0x402000);
	n = put32x2(body, n, 4, 0);		/* raw: size 4 + 4 bytes */
	n = put64(body, n, 2);			/* regs abi */
	n = put64(body, n, 1);
	n = put64(body, n, 2);
	n = put64(body, n, 3);
	n = put64(body, n, 16);			/* stack size */
	n = put64(body, n, 0);
	n = put64(body, n, 0);
	n = put64(body, n, 8);			/* dyn size */
	n = put64(body, n, 77);			/* weight */
	ok(pd_sample_parse(&a, body, n, false, &s) == PD_OK, "sample: all common bits decode");
	is_int(s.id, 99, "sample: id");
	is_int(s.ip, 0x401000, "sample: ip");
	is_int(s.pid, 10, "sample: pid");
	is_int(s.tid, 11, "sample: tid");
	is_int(s.time, 123456, "sample: time");
	is_int(s.cpu, 1, "sample: cpu");
	is_int(s.period, 250000, "sample: period");
	is_int(s.nr_callchain, 3, "sample: callchain length");
	is_int(pd_load64(s.callchain + 16, false), 0x402000, "sample: callchain entry");
	ok(pd_sample_parse(&a, body, n - 8, false, &s) == PD_E_CORRUPT, "sample: one field short is corrupt");
	put64(body, 8 * 9, UINT64_MAX / 8);
	ok(pd_sample_parse(&a, body, n, false, &s) == PD_E_CORRUPT, "sample: a huge callchain count is corrupt");
	put64(body, 8 * 9, 3);
	put64(body, n - 16, 17);
	ok(pd_sample_parse(&a, body, n, false, &s) == PD_E_CORRUPT, "sample: dyn_size > size is corrupt");

	/* Without PERIOD the attr's sample_period is the weight (perf does this). */
	memset(&a, 0, sizeof(a));
	a.info.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID;
	a.sample_period = 4000;
	n = put64(body, 0, 1);
	n = put32x2(body, n, 1, 2);
	ok(pd_sample_parse(&a, body, n, false, &s) == PD_OK && s.period == 4000, "sample: period from the attr");

	/* Trailer, read from the end: TID TIME ID CPU IDENTIFIER. */
	memset(&a, 0, sizeof(a));
	a.info.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ID | PERF_SAMPLE_CPU |
	    PERF_SAMPLE_IDENTIFIER;
	a.trailer_size = 40;
	n = put64(body, 0, 0xffff);		/* body before the trailer */
	n = put32x2(body, n, 1, 2);
	n = put64(body, n, 555);
	n = put64(body, n, 7);
	n = put32x2(body, n, 0, 0);
	n = put64(body, n, 8);
	pd_trailer_parse(&a, body, n, false, &t, &id, &has);
	ok(has && t == 555, "trailer: time");
	is_int(id, 8, "trailer: IDENTIFIER wins over ID");
	pd_trailer_parse(&a, body, 16, false, &t, &id, &has);
	ok(!has, "trailer: a record too short for its trailer has no time");
}

/* The folded metadata line, the unit of periods, and pdflame's unit from them. */
static void
test_folded_meta(void)
{
	static const char l1[] = "# pd-folded v1 weight=period event=cpu-clock:pppH tool=pdcollapse";
	static const char l2[] = "# pd-diff v1 weight=samples event=cycles base_runs=1 tool=pddiff";
	struct pd_folded_meta m;
	struct pd_flame_opts o;
	struct pd_flame *f;

	is_int(pd_folded_meta_parse(l1, strlen(l1), &m), 1, "meta: a pd-folded line");
	is_int(m.weight, PD_WEIGHT_PERIOD, "meta: weight=period");
	is_str(m.event, "cpu-clock:pppH", "meta: event=");
	is_int(pd_folded_meta_parse(l2, strlen(l2), &m), 1, "meta: a pd-diff line");
	ok(m.weight == PD_WEIGHT_SAMPLES && !strcmp(m.event, "cycles"), "meta: its weight and event");
	/* Only LEN bytes count: the event stops at the cut. */
	is_int(pd_folded_meta_parse(l1, 40, &m), 1, "meta: a cut line");
	is_str(m.event, "cpu-c", "meta: read up to LEN");
	is_int(pd_folded_meta_parse("# a comment", 11, &m), 0, "meta: another comment is not one");
	ok(m.weight == PD_WEIGHT_UNKNOWN && !m.event[0], "meta: and leaves nothing behind");
	is_int(pd_folded_meta_parse("# pd-folded v1 weight=bogus x=y", 31, &m), 1, "meta: unknown values");
	is_int(m.weight, PD_WEIGHT_UNKNOWN, "meta: an unknown weight is unknown");

	is_str(pd_period_unit("cpu-clock"), "ns", "unit: cpu-clock is ns");
	is_str(pd_period_unit("task-clock:u"), "ns", "unit: task-clock:u is ns");
	is_str(pd_period_unit("cycles:u"), "cycles:u", "unit: a counting event names itself");
	is_str(pd_period_unit("cpu-clockx"), "cpu-clockx", "unit: only the clock events are ns");
	is_str(pd_period_unit("all"), "periods", "unit: all events");
	is_str(pd_period_unit(NULL), "periods", "unit: no event");

	pd_flame_opts_init(&o);
	f = pd_flame_new(&o);
	pd_flame_add_line(f, "a;b 3", 5);
	is_str(pd_flame_count_unit(f), "samples", "flame unit: no metadata line: samples");
	pd_flame_free(f);
	f = pd_flame_new(&o);
	pd_flame_add_line(f, l1, strlen(l1));
	pd_flame_add_line(f, "a;b 3", 5);
	is_str(pd_flame_count_unit(f), "ns", "flame unit: cpu-clock periods: ns");
	pd_flame_free(f);
	f = pd_flame_new(&o);
	pd_flame_add_line(f, "a;b 3", 5);
	pd_flame_add_line(f, l1, strlen(l1));
	is_str(pd_flame_count_unit(f), "samples", "flame unit: a metadata line after the first line is a comment");
	pd_flame_free(f);
}

int
main(void)
{
	test_cursor();
	test_buf_arena();
	test_parse();
	test_demangle();
	test_sample();
	test_folded_meta();
	return done_testing();
}
