/*
 * mkbad - write the malformed perf.data corpus (tests/data/bad/) from three
 * good recordings, one defect per output file, named after the defect.
 *
 *   mkbad BASE_FILE BASE_PIPE BASE_Z OUTDIR
 *
 * BASE_FILE is a file-mode recording with call graphs (tests/data/fp.data),
 * BASE_PIPE the same in pipe mode (pipe-fp.data) and BASE_Z a file-mode
 * recording with zstd-compressed records (z-fp.data).  Every output is a
 * copy of a base with one field changed, one record replaced or inserted,
 * or the file cut short; the classes follow RELIABILITY.md section 2.  The
 * bases must be little-endian recordings of perf 6.1 (tests/data/README):
 * the generator checks every structure it relies on and fails loudly when a
 * base does not have it, rather than writing a file with some other defect.
 * The output is deterministic, so rerunning it reproduces the corpus.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "pd-internal.h"

struct img {
	unsigned char *p;
	size_t len;
};

struct rec {
	size_t off;
	uint32_t type;
	uint16_t size;
};

/* What the generator knows about a base. */
struct base {
	struct img m;
	bool pipe;
	/* file mode */
	uint64_t attr_size, attrs_off, attrs_size, data_off, data_size, feat_off;
	uint64_t bits[4];
	unsigned nr_feat;
	uint64_t sample_type, attr_flags;
	/* both modes: the records of the data section or of the stream */
	struct rec *recs;
	size_t nr_recs;
};

static const char *outdir;
static unsigned nr_written;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("mkbad: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory");
	return p;
}

static struct img
load(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct img m = { NULL, 0 };
	size_t alloc = 0;

	if (!f)
		die("cannot open '%s': %s", path, strerror(errno));
	for (;;) {
		size_t k;

		if (m.len == alloc) {
			alloc = alloc ? 2 * alloc : 65536;
			m.p = realloc(m.p, alloc);
			if (!m.p)
				die("out of memory");
		}
		k = fread(m.p + m.len, 1, alloc - m.len, f);
		if (k == 0)
			break;
		m.len += k;
	}
	if (ferror(f))
		die("cannot read '%s'", path);
	fclose(f);
	return m;
}

static struct img
copy(const struct img *b)
{
	struct img m = { xmalloc(b->len), b->len };

	memcpy(m.p, b->p, b->len);
	return m;
}

/* Field access on a little-endian image, bounds-checked. */
static uint64_t
get(const struct img *m, size_t off, size_t n)
{
	uint64_t v = 0;

	if (off > m->len || n > m->len - off)
		die("read of %zu bytes at %#zx past the end of the base", n, off);
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)m->p[off + i] << (8 * i);
	return v;
}

static void
put(struct img *m, size_t off, size_t n, uint64_t v)
{
	if (off > m->len || n > m->len - off)
		die("write of %zu bytes at %#zx past the end of the base", n, off);
	for (size_t i = 0; i < n; i++)
		m->p[off + i] = (unsigned char)(v >> (8 * i));
}

static void
write_out(const char *name, const struct img *m, size_t len)
{
	char path[4096];
	FILE *f;

	if (len > m->len)
		die("%s: cut at %zu past the end (%zu)", name, len, m->len);
	snprintf(path, sizeof(path), "%s/%s.data", outdir, name);
	f = fopen(path, "wb");
	if (!f)
		die("cannot create '%s': %s", path, strerror(errno));
	if ((len && fwrite(m->p, 1, len, f) != len) || fclose(f) != 0)
		die("cannot write '%s'", path);
	nr_written++;
}

/* Write M (all of it) and free it. */
static void
emit(const char *name, struct img *m)
{
	write_out(name, m, m->len);
	free(m->p);
	m->p = NULL;
}

/* ---------------------------------------------------------------- */
/* Reading the bases. */

static void
walk_records(struct base *b, size_t from, size_t to)
{
	size_t off = from, alloc = 0;

	while (off < to) {
		struct rec r;

		if (to - off < 8)
			die("base: record header cut at %#zx", off);
		r.off = off;
		r.type = (uint32_t)get(&b->m, off, 4);
		r.size = (uint16_t)get(&b->m, off + 6, 2);
		if (r.size < 8 || r.size > to - off)
			die("base: bad record size %u at %#zx", r.size, off);
		if (r.type == PERF_RECORD_HEADER_TRACING_DATA || r.type == PERF_RECORD_AUXTRACE)
			die("base: record type %u with a payload is not supported", r.type);
		if (b->nr_recs == alloc) {
			alloc = alloc ? 2 * alloc : 256;
			b->recs = realloc(b->recs, alloc * sizeof(*b->recs));
			if (!b->recs)
				die("out of memory");
		}
		b->recs[b->nr_recs++] = r;
		off += r.size;
	}
}

static void
load_file_base(struct base *b, const char *path)
{
	uint64_t size;

	memset(b, 0, sizeof(*b));
	b->m = load(path);
	if (b->m.len < 104 || memcmp(b->m.p, "PERFILE2", 8))
		die("'%s' is not a little-endian perf.data file", path);
	size = get(&b->m, 8, 8);
	if (size != 104)
		die("'%s': header size %llu, not a file-mode perf.data", path, (unsigned long long)size);
	b->attr_size = get(&b->m, 16, 8);
	b->attrs_off = get(&b->m, 24, 8);
	b->attrs_size = get(&b->m, 32, 8);
	b->data_off = get(&b->m, 40, 8);
	b->data_size = get(&b->m, 48, 8);
	for (int i = 0; i < 4; i++) {
		b->bits[i] = get(&b->m, 72 + 8 * (size_t)i, 8);
		b->nr_feat += (unsigned)__builtin_popcountll(b->bits[i]);
	}
	b->feat_off = b->data_off + b->data_size;
	if (b->attrs_size != b->attr_size || b->attr_size < 128)
		die("'%s': want exactly one attr", path);
	if (b->data_size == 0 || b->feat_off + 16 * b->nr_feat > b->m.len)
		die("'%s': data section or feature table damaged", path);
	b->sample_type = get(&b->m, b->attrs_off + 24, 8);
	b->attr_flags = get(&b->m, b->attrs_off + 40, 8);
	walk_records(b, b->data_off, b->feat_off);
}

static void
load_pipe_base(struct base *b, const char *path)
{
	memset(b, 0, sizeof(*b));
	b->m = load(path);
	b->pipe = true;
	if (b->m.len < 16 || memcmp(b->m.p, "PERFILE2", 8) || get(&b->m, 8, 8) != 16)
		die("'%s' is not a little-endian pipe-mode perf.data", path);
	walk_records(b, 16, b->m.len);
}

/* The NTH record of TYPE (-1: the last one, -2: the middle one). */
static const struct rec *
find(const struct base *b, uint32_t type, long nth)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < b->nr_recs; i++)
		n += b->recs[i].type == type;
	if (n == 0)
		die("base has no record of type %u", type);
	if (nth == -1)
		nth = (long)n - 1;
	else if (nth == -2)
		nth = (long)n / 2;
	for (size_t i = 0; i < b->nr_recs; i++)
		if (b->recs[i].type == type && k++ == (size_t)nth)
			return &b->recs[i];
	die("base has fewer than %ld records of type %u", nth + 1, type);
}

/* The table slot of feature BIT in a file-mode base. */
static size_t
feat_slot(const struct base *b, unsigned bit)
{
	unsigned k = 0;

	if (!(b->bits[bit / 64] & (1ull << (bit % 64))))
		die("base has no feature %u", bit);
	for (unsigned i = 0; i < bit; i++)
		if (b->bits[i / 64] & (1ull << (i % 64)))
			k++;
	return b->feat_off + 16 * (size_t)k;
}

static uint64_t
feat_body(const struct base *b, unsigned bit, uint64_t *size)
{
	size_t slot = feat_slot(b, bit);

	*size = get(&b->m, slot + 8, 8);
	return get(&b->m, slot, 8);
}

/* Bytes of a SAMPLE before the callchain's nr (FORMAT-NOTES.md 4.1). */
static size_t
callchain_pos(const struct base *b)
{
	uint64_t st = b->sample_type;

	if (!(st & PERF_SAMPLE_CALLCHAIN) || (st & PERF_SAMPLE_READ))
		die("base samples have no call chain, or a READ group");
	return 8 + 8 * (size_t)__builtin_popcountll(st & (PERF_SAMPLE_IDENTIFIER |
	    PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR |
	    PERF_SAMPLE_ID | PERF_SAMPLE_STREAM_ID | PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD));
}

/* Bytes of the sample_id trailer of non-sample records (FORMAT-NOTES.md 3.2). */
static size_t
trailer_size(const struct base *b)
{
	if (!(b->attr_flags & PERF_ATTR_FLAG_SAMPLE_ID_ALL))
		return 0;
	return 8 * (size_t)__builtin_popcountll(b->sample_type & (PERF_SAMPLE_TID |
	    PERF_SAMPLE_TIME | PERF_SAMPLE_ID | PERF_SAMPLE_STREAM_ID | PERF_SAMPLE_CPU |
	    PERF_SAMPLE_IDENTIFIER));
}

/*
 * Replace OLDLEN bytes at AT with NEWLEN bytes of NEW.  In a file-mode base
 * the splice must lie in the data section; data.size and the feature
 * sections' offsets are moved along, so only the intended defect remains.
 */
static struct img
splice(const struct base *b, size_t at, size_t oldlen, const void *new, size_t newlen)
{
	struct img m;
	long long delta = (long long)newlen - (long long)oldlen;

	if (at > b->m.len || oldlen > b->m.len - at)
		die("splice past the end of the base");
	m.len = b->m.len - oldlen + newlen;
	m.p = xmalloc(m.len);
	memcpy(m.p, b->m.p, at);
	if (newlen)
		memcpy(m.p + at, new, newlen);
	memcpy(m.p + at + newlen, b->m.p + at + oldlen, b->m.len - at - oldlen);
	if (b->pipe)
		return m;
	if (at < b->data_off || at + oldlen > b->feat_off)
		die("splice outside the data section");
	put(&m, 48, 8, (uint64_t)((long long)b->data_size + delta));
	for (unsigned k = 0; k < b->nr_feat; k++) {
		size_t slot = (size_t)((long long)b->feat_off + delta) + 16 * k;
		uint64_t off = get(&m, slot, 8);

		if (off >= at + oldlen)
			put(&m, slot, 8, (uint64_t)((long long)off + delta));
	}
	return m;
}

/* A record header of TYPE, MISC and SIZE (>= 8) in BUF, the body zeroed. */
static unsigned char *
make_rec(unsigned char *buf, uint32_t type, uint16_t misc, uint16_t size)
{
	struct img m = { buf, size };

	memset(buf, 0, size);
	put(&m, 0, 4, type);
	put(&m, 4, 2, misc);
	put(&m, 6, 2, size);
	return buf;
}

/* ---------------------------------------------------------------- */
/* File structure (RELIABILITY.md 2.1). */

static void
file_header_defects(const struct base *b)
{
	struct img m;

	m = copy(&b->m);
	write_out("empty", &m, 0);
	write_out("truncated-magic", &m, 10);
	write_out("truncated-header", &m, 50);
	write_out("truncated-in-attrs", &m, (size_t)(b->attrs_off + b->attr_size / 2));
	memcpy(m.p, "PERFDATA", 8);
	emit("bad-magic", &m);

	m = copy(&b->m);
	memcpy(m.p, "PERFFILE", 8);
	emit("legacy-magic", &m);

	m = copy(&b->m);
	put(&m, 8, 8, 200);
	emit("header-size-bogus", &m);

	m = copy(&b->m);
	put(&m, 16, 8, 0);
	emit("attr-size-zero", &m);

	m = copy(&b->m);
	put(&m, 16, 8, 1ull << 40);
	emit("attr-size-huge", &m);

	m = copy(&b->m);
	put(&m, 24, 8, 1ull << 40);
	emit("attrs-past-eof", &m);

	m = copy(&b->m);
	put(&m, 32, 8, 1ull << 62);
	emit("attrs-size-huge", &m);

	m = copy(&b->m);
	put(&m, 32, 8, 0);
	emit("attrs-size-zero", &m);

	/* perf_event_attr.size inside the attr entry */
	m = copy(&b->m);
	put(&m, (size_t)b->attrs_off + 4, 4, 4096);
	emit("attr-struct-size-huge", &m);

	m = copy(&b->m);
	put(&m, (size_t)b->attrs_off + 4, 4, 8);
	emit("attr-struct-size-small", &m);

	/* every bit of sample_type: the samples no longer match their layout */
	m = copy(&b->m);
	put(&m, (size_t)b->attrs_off + 24, 8, UINT64_MAX);
	emit("sample-type-all-bits", &m);

	/* a sample_type bit no perf defines (bit 40): the layout is unknown, a warning */
	m = copy(&b->m);
	put(&m, (size_t)b->attrs_off + 24, 8, b->sample_type | 1ull << 40);
	emit("sample-type-unknown-bit", &m);

	/* the attr's id list: perf_file_section at the end of the entry */
	if (get(&b->m, (size_t)(b->attrs_off + b->attr_size - 8), 8) == 0)
		die("base attr has no ids");
	m = copy(&b->m);
	put(&m, (size_t)(b->attrs_off + b->attr_size - 16), 8, 1ull << 40);
	emit("ids-past-eof", &m);

	m = copy(&b->m);
	put(&m, (size_t)(b->attrs_off + b->attr_size - 8), 8, 1ull << 60);
	emit("ids-size-huge", &m);

	m = copy(&b->m);
	put(&m, 40, 8, b->m.len + 4096);
	emit("data-offset-past-eof", &m);

	/* data.size past EOF, the features gone: a file cut after its records */
	m = copy(&b->m);
	put(&m, 48, 8, b->data_size + 65536);
	write_out("data-size-lies", &m, (size_t)b->feat_off);
	free(m.p);

	/* data.size past EOF with the features still there: they are read as records */
	m = copy(&b->m);
	put(&m, 48, 8, b->data_size + (1u << 20));
	emit("data-size-past-features", &m);

	/* perf record killed: data.size never written, no feature table (FORMAT-NOTES 1.7) */
	m = copy(&b->m);
	put(&m, 48, 8, 0);
	write_out("killed-data-size-zero", &m, (size_t)b->feat_off);
	{
		const struct rec *r = find(b, PERF_RECORD_SAMPLE, -1);

		write_out("killed-mid-record", &m, r->off + r->size / 2);
	}
	/* data.size 0 but the feature table behind the records: garbage after them */
	emit("killed-with-features", &m);
}

static void
file_truncations(const struct base *b)
{
	const struct rec *last = find(b, PERF_RECORD_SAMPLE, -1);
	const struct rec *mid = find(b, PERF_RECORD_SAMPLE, -2);

	write_out("truncated-mid-record", &b->m, last->off + last->size / 2);
	write_out("truncated-mid-header", &b->m, mid->off + 4);
	write_out("truncated-in-feature-table", &b->m, (size_t)b->feat_off + 24);
	write_out("truncated-in-features", &b->m,
	    (size_t)(b->feat_off + 16 * b->nr_feat + (b->m.len - b->feat_off - 16 * b->nr_feat) / 2));
}

/* ---------------------------------------------------------------- */
/* Feature sections (RELIABILITY.md F18-F21). */

static void
feature_defects(const struct base *b)
{
	struct img m;
	uint64_t off, size;

	m = copy(&b->m);
	put(&m, feat_slot(b, HEADER_HOSTNAME), 8, 1ull << 40);
	emit("feature-offset-past-eof", &m);

	m = copy(&b->m);
	put(&m, feat_slot(b, HEADER_HOSTNAME) + 8, 8, 1ull << 40);
	emit("feature-size-huge", &m);

	off = feat_body(b, HEADER_HOSTNAME, &size);
	m = copy(&b->m);
	put(&m, (size_t)off, 4, 0xfffffff0u);
	emit("feature-string-len-huge", &m);

	m = copy(&b->m);
	memset(m.p + off + 4, 'A', (size_t)size - 4);
	emit("feature-string-no-nul", &m);

	/* the hostname's length 8 bytes past its section (not absurd, just wrong) */
	m = copy(&b->m);
	put(&m, (size_t)off, 4, size - 4 + 8);
	emit("hostname-len-past-section", &m);

	off = feat_body(b, HEADER_BUILD_ID, &size);
	m = copy(&b->m);
	put(&m, (size_t)off + 6, 2, 0xffff);
	emit("buildid-entry-size-ffff", &m);

	m = copy(&b->m);
	put(&m, (size_t)off + 6, 2, 16);
	emit("buildid-entry-size-small", &m);

	off = feat_body(b, HEADER_CMDLINE, &size);
	m = copy(&b->m);
	put(&m, (size_t)off, 4, 0xffffffffu);
	emit("cmdline-nr-huge", &m);

	/* a cmdline section of 1 byte: too short for its count */
	m = copy(&b->m);
	put(&m, feat_slot(b, HEADER_CMDLINE) + 8, 8, 1);
	emit("cmdline-size-one", &m);

	off = feat_body(b, HEADER_EVENT_DESC, &size);
	m = copy(&b->m);
	put(&m, (size_t)off, 4, 0xffffffffu);
	emit("event-desc-nr-huge", &m);

	m = copy(&b->m);
	put(&m, (size_t)off + 4, 4, 0xffffffffu);
	emit("event-desc-attr-size-huge", &m);
}

/* ---------------------------------------------------------------- */
/* Records (RELIABILITY.md 2.2). */

static void chain_defects(const struct base *b, const struct rec *mid, size_t cc);
static void order_defects(const struct base *b);

static void
record_defects(const struct base *b)
{
	const struct rec *mid = find(b, PERF_RECORD_SAMPLE, -2);
	const struct rec *r;
	unsigned char buf[64];
	struct img m;
	size_t cc = callchain_pos(b);

	m = copy(&b->m);
	put(&m, mid->off + 6, 2, 0);
	emit("size-zero-record", &m);

	m = copy(&b->m);
	put(&m, mid->off + 6, 2, 4);
	emit("size-four-record", &m);

	r = &b->recs[b->nr_recs - 1];
	m = copy(&b->m);
	put(&m, r->off + 6, 2, 0xfff8);
	emit("record-size-past-data-end", &m);

	/* a SAMPLE of 16 bytes where sample_type wants more; framing intact */
	memcpy(buf, b->m.p + mid->off, 16);
	put(&(struct img){ buf, 16 }, 6, 2, 16);
	m = splice(b, mid->off, mid->size, buf, 16);
	emit("sample-shorter-than-sample-type", &m);

	m = copy(&b->m);
	put(&m, mid->off + cc, 8, 1ull << 61);
	emit("callchain-nr-huge", &m);

	m = copy(&b->m);
	put(&m, mid->off + cc, 8, get(&b->m, mid->off + cc, 8) + 1);
	emit("callchain-nr-plus-one", &m);

	/* a perf-tool type no perf knows, and an unknown kernel type with a trailer */
	r = find(b, PERF_RECORD_THREAD_MAP, 0);
	m = copy(&b->m);
	put(&m, r->off, 4, 200);
	emit("unknown-record-type", &m);

	r = find(b, PERF_RECORD_EXIT, 0);
	m = copy(&b->m);
	put(&m, r->off, 4, 50);
	emit("unknown-kernel-record-type", &m);

	/* the EXIT turned into a FORK of a thread into itself (tid == ptid) */
	r = find(b, PERF_RECORD_EXIT, 0);
	m = copy(&b->m);
	put(&m, r->off, 4, PERF_RECORD_FORK);
	put(&m, r->off + 8, 4, 4242);		/* pid != ppid: a new process */
	put(&m, r->off + 20, 4, get(&b->m, r->off + 16, 4));
	emit("fork-tid-equals-ptid", &m);

	/* MMAP2: a file name without its NUL, a length that wraps */
	r = find(b, PERF_RECORD_MMAP2, 0);
	if (r->size < 72 + trailer_size(b) + 8)
		die("base MMAP2 too short");
	m = copy(&b->m);
	memset(m.p + r->off + 72, 'A', r->size - 72 - trailer_size(b));
	emit("mmap2-filename-no-nul", &m);

	m = copy(&b->m);
	put(&m, r->off + 24, 8, UINT64_MAX);
	emit("mmap2-len-wraps", &m);

	/* a COMM whose name fills its record: no NUL before the sample_id trailer */
	r = find(b, PERF_RECORD_COMM, 0);
	if (r->size < 16 + trailer_size(b) + 8)
		die("base COMM too short");
	m = copy(&b->m);
	memset(m.p + r->off + 16, 'A', r->size - 16 - trailer_size(b));
	emit("comm-no-nul", &m);

	/* COMM cut to its header */
	r = find(b, PERF_RECORD_COMM, 0);
	m = splice(b, r->off, r->size, make_rec(buf, PERF_RECORD_COMM, 0, 8), 8);
	emit("comm-header-only", &m);

	/* records whose payload is not counted in header.size (FORMAT-NOTES 3.4) */
	make_rec(buf, PERF_RECORD_HEADER_TRACING_DATA, 0, 16);
	put(&(struct img){ buf, 16 }, 8, 4, 0xfffffff0u);
	m = splice(b, mid->off, 0, buf, 16);
	emit("tracing-data-size-huge", &m);

	make_rec(buf, PERF_RECORD_AUXTRACE, 0, 48);
	put(&(struct img){ buf, 48 }, 8, 8, 1ull << 62);
	m = splice(b, mid->off, 0, buf, 48);
	emit("auxtrace-size-huge", &m);

	/* COMPRESSED2 (newer perf) whose data_size exceeds its record */
	make_rec(buf, PERF_RECORD_COMPRESSED2, 0, 24);
	put(&(struct img){ buf, 24 }, 8, 8, 1000);
	m = splice(b, mid->off, 0, buf, 24);
	emit("compressed2-size-lies", &m);

	chain_defects(b, mid, cc);
	order_defects(b);
}

/*
 * A copy of sample S whose call chain is replaced by the NR entries of
 * CHAIN (the fields after the chain are kept), spliced in place of S.
 */
static struct img
with_chain(const struct base *b, const struct rec *s, size_t cc, const uint64_t *chain, size_t nr)
{
	uint64_t old = get(&b->m, s->off + cc, 8);
	size_t tail = s->size - cc - 8 - 8 * (size_t)old, len = cc + 8 + 8 * nr + tail;
	unsigned char *buf;
	struct img r, m;

	if (old > (s->size - cc - 8) / 8 || len > 0xfff8)
		die("base sample chain does not fit");
	buf = xmalloc(len);
	r = (struct img){ buf, len };
	memcpy(buf, b->m.p + s->off, cc);
	put(&r, 6, 2, len);
	put(&r, cc, 8, nr);
	for (size_t i = 0; i < nr; i++)
		put(&r, cc + 8 + 8 * i, 8, chain[i]);
	memcpy(buf + cc + 8 + 8 * nr, b->m.p + s->off + cc + 8 + 8 * old, tail);
	m = splice(b, s->off, s->size, buf, len);
	free(buf);
	return m;
}

/* Call chains that are legal but extreme (RELIABILITY.md 2.2 R8, R9). */
static void
chain_defects(const struct base *b, const struct rec *mid, size_t cc)
{
	uint64_t nr = get(&b->m, mid->off + cc, 8), ip = 0, chain[8000];
	struct img m;

	/* a user address of the base chain, to repeat */
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t v = get(&b->m, mid->off + cc + 8 + 8 * i, 8);

		if (v < PERF_CONTEXT_MAX && v < 0x800000000000ull)
			ip = v;
	}
	if (!ip)
		die("base sample has no user frame");

	/* 8000 frames deep, the most a 64 KiB record holds: kept, cut for display */
	chain[0] = PERF_CONTEXT_USER;
	for (size_t i = 1; i < 8000; i++)
		chain[i] = ip;
	m = with_chain(b, mid, cc, chain, 8000);
	emit("callchain-deep", &m);

	/* only context markers: an empty chain, the sample IP is its stack */
	chain[0] = PERF_CONTEXT_KERNEL;
	chain[1] = PERF_CONTEXT_USER;
	m = with_chain(b, mid, cc, chain, 2);
	emit("callchain-only-markers", &m);

	/* a guest context marker: perf drops the chain, we count it */
	chain[0] = PERF_CONTEXT_GUEST;
	chain[1] = ip;
	m = with_chain(b, mid, cc, chain, 2);
	emit("callchain-guest-context", &m);
}

/*
 * Time order (R14): a sample moved behind the second FINISHED_ROUND that
 * follows it, so that it arrives after its time was flushed.
 */
static void
order_defects(const struct base *b)
{
	const struct rec *s = NULL, *fr = NULL;
	unsigned rounds = 0;
	struct img m;

	/* Behind the second round: the first only flushes up to the round before. */
	for (size_t i = 0; i < b->nr_recs && !fr; i++) {
		if (b->recs[i].type == PERF_RECORD_SAMPLE && !s)
			s = &b->recs[i];
		else if (b->recs[i].type == PERF_RECORD_FINISHED_ROUND && s && ++rounds == 2)
			fr = &b->recs[i];
	}
	if (!fr)
		die("base has no two FINISHED_ROUNDs after a sample");
	/* [s ... fr] -> [... fr s]: the same bytes, the sample later in the file */
	m = copy(&b->m);
	memmove(m.p + s->off, b->m.p + s->off + s->size, fr->off + fr->size - s->off - s->size);
	memcpy(m.p + fr->off + fr->size - s->size, b->m.p + s->off, s->size);
	emit("sample-after-its-round", &m);
}

/* ---------------------------------------------------------------- */
/* Pipe mode (RELIABILITY.md 2.3). */

static void
pipe_defects(const struct base *b)
{
	const struct rec *mid = find(b, PERF_RECORD_SAMPLE, -2);
	const struct rec *last = find(b, PERF_RECORD_SAMPLE, -1);
	const struct rec *attr = find(b, PERF_RECORD_HEADER_ATTR, 0);
	const struct rec *r;
	unsigned char buf[64];
	struct img m;

	write_out("pipe-header-only", &b->m, 16);
	write_out("pipe-truncated", &b->m, last->off + last->size / 2);

	m = copy(&b->m);
	put(&m, 8, 8, 17);
	emit("pipe-header-size-bogus", &m);

	m = copy(&b->m);
	put(&m, mid->off + 6, 2, 0);
	emit("pipe-size-zero-record", &m);

	r = &b->recs[b->nr_recs - 1];
	m = copy(&b->m);
	put(&m, r->off + 6, 2, 0xfff8);
	emit("pipe-record-size-past-eof", &m);

	/* HEADER_ATTR of 16 bytes whose attr says it is attr.size bytes long */
	memcpy(buf, b->m.p + attr->off, 16);
	put(&(struct img){ buf, 16 }, 6, 2, 16);
	m = splice(b, attr->off, attr->size, buf, 16);
	emit("pipe-attr-size-underflow", &m);

	m = copy(&b->m);
	put(&m, attr->off + 12, 4, 8);
	emit("pipe-attr-size-small", &m);

	/* attr.size 0 means PERF_ATTR_SIZE_VER0: 64 bytes of attr, then ids */
	m = copy(&b->m);
	put(&m, attr->off + 12, 4, 0);
	emit("pipe-attr-size-zero", &m);

	/* no event described: HEADER_ATTR turned into an unknown type */
	m = copy(&b->m);
	put(&m, attr->off, 4, 200);
	emit("pipe-sample-before-attr", &m);

	/* HEADER_FEATURE of a feature id no perf has */
	r = find(b, PERF_RECORD_HEADER_FEATURE, -1);
	m = copy(&b->m);
	put(&m, r->off + 8, 8, 1000);
	emit("pipe-feature-id-unknown", &m);

	/* EVENT_UPDATE name without its NUL */
	r = find(b, PERF_RECORD_EVENT_UPDATE, 0);
	m = copy(&b->m);
	memset(m.p + r->off + 24, 'A', r->size - 24u);
	emit("pipe-event-update-no-nul", &m);

	/* HEADER_TRACING_DATA announcing 4 GiB that never come */
	make_rec(buf, PERF_RECORD_HEADER_TRACING_DATA, 0, 16);
	put(&(struct img){ buf, 16 }, 8, 4, 0xfffffff0u);
	m = splice(b, mid->off, 0, buf, 16);
	emit("pipe-tracing-data-huge", &m);

	/* HEADER_BUILD_ID shorter than its fixed part */
	make_rec(buf, PERF_RECORD_HEADER_BUILD_ID, PERF_RECORD_MISC_USER, 16);
	m = splice(b, mid->off, 0, buf, 16);
	emit("pipe-buildid-short", &m);
}

/* ---------------------------------------------------------------- */
/* zstd (RELIABILITY.md R15). */

/* A frame of N zero bytes, compressed in 1 MiB steps. */
static struct img
zstd_zeros(size_t n)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t cap = ZSTD_compressBound(1u << 20) * (n / (1u << 20) + 1);
	struct img out = { xmalloc(cap), 0 };
	unsigned char *zero = calloc(1, 1u << 20);

	if (!cc || !zero)
		die("out of memory");
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 3);
	while (n) {
		size_t step = n > (1u << 20) ? (1u << 20) : n;
		ZSTD_inBuffer in = { zero, step, 0 };

		n -= step;
		for (;;) {
			ZSTD_outBuffer o = { out.p, cap, out.len };
			size_t rc = ZSTD_compressStream2(cc, &o, &in, n ? ZSTD_e_continue : ZSTD_e_end);

			if (ZSTD_isError(rc))
				die("zstd: %s", ZSTD_getErrorName(rc));
			out.len = o.pos;
			if (n ? in.pos == in.size : rc == 0)
				break;
		}
	}
	ZSTD_freeCCtx(cc);
	free(zero);
	return out;
}

/* The records inside all COMPRESSED records of B, as one buffer. */
static struct img
zstd_inflate_all(const struct base *b)
{
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	size_t cap = 1u << 22;
	struct img out = { xmalloc(cap), 0 };

	if (!dc)
		die("out of memory");
	for (size_t i = 0; i < b->nr_recs; i++) {
		ZSTD_inBuffer in;

		if (b->recs[i].type != PERF_RECORD_COMPRESSED)
			continue;
		in = (ZSTD_inBuffer){ b->m.p + b->recs[i].off + 8, b->recs[i].size - 8u, 0 };
		while (in.pos < in.size) {
			ZSTD_outBuffer o = { out.p, cap, out.len };
			size_t rc = ZSTD_decompressStream(dc, &o, &in);

			if (ZSTD_isError(rc) || o.pos == cap)
				die("base zstd data: %s", ZSTD_isError(rc) ? ZSTD_getErrorName(rc) : "too large");
			out.len = o.pos;
		}
	}
	ZSTD_freeDCtx(dc);
	return out;
}

static void
zstd_defects(const struct base *b)
{
	const struct rec *first = find(b, PERF_RECORD_COMPRESSED, 0);
	const struct rec *last = find(b, PERF_RECORD_COMPRESSED, -1);
	unsigned char *rec;
	struct img m, z;
	uint32_t x = 2463534242u;

	/* the first COMPRESSED payload replaced by noise (xorshift32, fixed seed) */
	m = copy(&b->m);
	for (size_t i = first->off + 8; i < first->off + first->size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		m.p[i] = (unsigned char)x;
	}
	emit("zstd-garbage", &m);

	/* cut inside the last COMPRESSED record */
	write_out("zstd-truncated", &b->m, last->off + last->size / 2);

	/* one COMPRESSED record that inflates to 96 MiB of zeros */
	z = zstd_zeros(96u << 20);
	if (z.len > 65535 - 8)
		die("zstd bomb does not fit one record (%zu bytes)", z.len);
	rec = xmalloc(8 + z.len);
	make_rec(rec, PERF_RECORD_COMPRESSED, 0, (uint16_t)(8 + z.len));
	memcpy(rec + 8, z.p, z.len);
	m = splice(b, first->off, 0, rec, 8 + z.len);
	emit("zstd-bomb", &m);
	free(rec);
	free(z.p);

	/*
	 * A well-formed zstd frame whose middle inner record has size 0: the
	 * inflated stream of the base, damaged and recompressed into the first
	 * COMPRESSED record; the other COMPRESSED records are dropped.
	 */
	{
		struct img in = zstd_inflate_all(b), tmp;
		struct base inner = { .m = in, .pipe = true };
		const struct rec *s;
		size_t cap = ZSTD_compressBound(in.len);

		walk_records(&inner, 0, in.len);
		s = find(&inner, PERF_RECORD_SAMPLE, -2);
		put(&in, s->off + 6, 2, 0);
		rec = xmalloc(8 + cap);
		z.len = ZSTD_compress(rec + 8, cap, in.p, in.len, 3);
		if (ZSTD_isError(z.len) || z.len > 65535 - 8)
			die("cannot recompress the base");
		make_rec(rec, PERF_RECORD_COMPRESSED, 0, 8);
		put(&(struct img){ rec, 8 }, 6, 2, 8 + z.len);
		/* drop the later COMPRESSED records, last first, then replace the first */
		m = copy(&b->m);
		for (size_t i = b->nr_recs; i-- > 0;) {
			const struct rec *r = &b->recs[i];
			struct base cur = *b;

			if (r->type != PERF_RECORD_COMPRESSED || r == first)
				continue;
			cur.m = m;
			cur.data_size = get(&m, 48, 8);
			cur.feat_off = cur.data_off + cur.data_size;
			tmp = splice(&cur, r->off, r->size, NULL, 0);
			free(m.p);
			m = tmp;
		}
		{
			struct base cur = *b;

			cur.m = m;
			cur.data_size = get(&m, 48, 8);
			cur.feat_off = cur.data_off + cur.data_size;
			tmp = splice(&cur, first->off, first->size, rec, 8 + z.len);
			free(m.p);
			m = tmp;
		}
		emit("zstd-inner-size-zero", &m);
		free(rec);
		free(in.p);
		free(inner.recs);
	}
}

/*
 * Retyped COMPRESSED records (issue 18): the whole profile is in records of
 * a type no reader knows.  File form: the zstd base's COMPRESSED records
 * get type 200.  Pipe form: the pipe base's kernel records (type < 64),
 * compressed into one zstd frame in records of type 200 in place of them.
 */
static void
retyped_defects(const struct base *z, const struct base *p)
{
	struct img m = copy(&z->m), raw, out;
	size_t n = 0, first = 0;
	bool seen = false;

	for (size_t i = 0; i < z->nr_recs; i++)
		if (z->recs[i].type == PERF_RECORD_COMPRESSED) {
			put(&m, z->recs[i].off, 4, 200);
			n++;
		}
	if (!n)
		die("zstd base has no COMPRESSED record");
	emit("compressed-retyped", &m);

	raw.p = xmalloc(p->m.len);
	raw.len = 0;
	out.p = xmalloc(p->m.len + 65536);
	memcpy(out.p, p->m.p, 16);
	out.len = 16;
	for (size_t i = 0; i < p->nr_recs; i++) {
		const struct rec *r = &p->recs[i];

		if (r->type < 64) {
			if (!seen)
				first = out.len;
			seen = true;
			memcpy(raw.p + raw.len, p->m.p + r->off, r->size);
			raw.len += r->size;
		} else {
			memcpy(out.p + out.len, p->m.p + r->off, r->size);
			out.len += r->size;
		}
	}
	if (!seen)
		die("pipe base has no kernel record");
	{
		size_t cap = ZSTD_compressBound(raw.len);
		unsigned char *z8 = xmalloc(8 + cap);
		size_t zl = ZSTD_compress(z8 + 8, cap, raw.p, raw.len, 3);

		if (ZSTD_isError(zl) || zl > 65535 - 8)
			die("cannot compress the pipe base's records into one record");
		make_rec(z8, 200, 0, 8);
		put(&(struct img){ z8, 8 }, 6, 2, 8 + zl);
		/* the compressed record where the first kernel record was */
		memmove(out.p + first + 8 + zl, out.p + first, out.len - first);
		memcpy(out.p + first, z8, 8 + zl);
		out.len += 8 + zl;
		free(z8);
	}
	emit("pipe-compressed-retyped", &out);
	free(raw.p);
}

int
main(int argc, char **argv)
{
	struct base f, p, z;

	if (argc != 5) {
		fprintf(stderr, "usage: mkbad BASE_FILE BASE_PIPE BASE_Z OUTDIR\n");
		return 2;
	}
	outdir = argv[4];
	load_file_base(&f, argv[1]);
	load_pipe_base(&p, argv[2]);
	load_file_base(&z, argv[3]);

	file_header_defects(&f);
	file_truncations(&f);
	feature_defects(&f);
	record_defects(&f);
	pipe_defects(&p);
	zstd_defects(&z);
	retyped_defects(&z, &p);

	printf("mkbad: wrote %u files to %s\n", nr_written, outdir);
	free(f.m.p);
	free(f.recs);
	free(p.m.p);
	free(p.recs);
	free(z.m.p);
	free(z.recs);
	return 0;
}
