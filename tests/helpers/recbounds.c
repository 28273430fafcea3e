/*
 * recbounds - the byte layout of a perf.data file: where every region and
 * every record starts and ends, for cutting the file at each boundary
 * (tests/cli/truncation.t).
 *
 *   recbounds FILE
 *
 * One line per region or record, sorted by offset (file order), each
 * "OFFSET KIND SIZE [ARGS]" in decimal, the region being [OFFSET,
 * OFFSET + SIZE):
 *
 *   0 header SIZE                 the file header (104 or 72; 16 in pipe mode)
 *   OFF ids SIZE IDX              file mode: the id list of attr IDX
 *   OFF attrs SIZE NR             file mode: the attr section, NR attrs
 *   OFF data SIZE                 the data section (pipe mode: the stream
 *                                 after the header, to the end of the file)
 *   OFF record SIZE TYPE          a record, as pd_reader_next returned it
 *   OFF compressed SIZE NREC NSAMPLES
 *                                 a PERF_RECORD_COMPRESSED(2) record
 *   OFF features SIZE NR          file mode: the feature table (NR entries)
 *   OFF feature SIZE BIT          file mode: a feature section
 *   SIZE eof 0                    the end of the file
 *
 * The record lines come from the library (pd_reader_open, pd_reader_next),
 * whose struct pd_record.offset is the record's file offset.  The reader
 * never returns a COMPRESSED record: it inflates it and returns the records
 * inside, each with the offset of the COMPRESSED record whose inflation
 * completed it (a record split across two COMPRESSED records, as perf
 * writes them, gets the offset of the second).  Those offsets are not
 * boundaries of anything but the COMPRESSED records, so the helper also
 * walks the framing of the data section itself (8-byte headers and their
 * size fields, plus the payloads of HEADER_TRACING_DATA and AUXTRACE,
 * which the size does not count) and prints each COMPRESSED record with
 * NREC, how many records the reader attributed to it, and NSAMPLES, how
 * many of them are PERF_RECORD_SAMPLE.  For a record line SIZE is the
 * record's extent in the file (payload included).
 *
 * The walk and the reader must agree: every record the reader returns at
 * its own offset is a record of the walk, of the same type, returned once
 * and in order, and every inflated record carries the offset of a
 * COMPRESSED record of the walk.  Otherwise, and when the reader or the
 * walk fails (the helper is meant for whole, good recordings), it prints
 * one line "recbounds: FILE: why" and exits 2.
 *
 * A truncated copy that ends at OFF + SIZE of some lines holds all the
 * records and COMPRESSED records before it, whole: the samples a reader
 * can salvage from it are the SAMPLE records and the NSAMPLES of the
 * COMPRESSED records that end at or before the cut.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pd-internal.h"

#define PERF_MAGIC2	0x32454c4946524550ull
#define PERF_MAGIC2_SW	0x50455246494c4532ull

struct line {
	uint64_t off, size, a, b;
	const char *kind;
	int nargs;
	size_t seq;
};

/* A record of the walk. */
struct wrec {
	uint64_t off, size;
	uint32_t type;
	uint64_t seen, inflated, inflated_samples;
};

static const char *path;
static struct line *lines;
static size_t nr_lines, alloc_lines;
static struct wrec *recs;
static size_t nr_recs, alloc_recs;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "recbounds: %s: ", path ? path : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *
grow(void *p, size_t *alloc, size_t need, size_t elem)
{
	if (need <= *alloc)
		return p;
	*alloc = *alloc ? *alloc * 2 : 64;
	if (*alloc < need)
		*alloc = need;
	p = realloc(p, *alloc * elem);
	if (!p)
		die("out of memory");
	return p;
}

static void
add_line(uint64_t off, const char *kind, uint64_t size, int nargs, uint64_t a, uint64_t b)
{
	lines = grow(lines, &alloc_lines, nr_lines + 1, sizeof(*lines));
	lines[nr_lines] = (struct line){ off, size, a, b, kind, nargs, nr_lines };
	nr_lines++;
}

static int
line_cmp(const void *x, const void *y)
{
	const struct line *a = x, *b = y;

	if (a->off != b->off)
		return a->off < b->off ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static unsigned char *
slurp(const char *name, size_t *len)
{
	FILE *f = fopen(name, "rb");
	unsigned char *buf = NULL;
	size_t alloc = 0, n = 0;

	if (!f)
		die("cannot open: %s", strerror(errno));
	for (;;) {
		size_t k;

		buf = grow(buf, &alloc, n + 65536, 1);
		k = fread(buf + n, 1, alloc - n, f);
		n += k;
		if (k == 0)
			break;
	}
	if (ferror(f))
		die("read error: %s", strerror(errno));
	fclose(f);
	*len = n;
	return buf;
}

static uint64_t
ld(const unsigned char *p, size_t n, bool swap)
{
	struct pd_cur c = pd_cur_make(p, n, swap);

	switch (n) {
	case 2:
		return pd_cur_u16(&c);
	case 4:
		return pd_cur_u32(&c);
	default:
		return pd_cur_u64(&c);
	}
}

/* Walk the framing of [start, end) of the image. */
static void
walk(const unsigned char *img, uint64_t start, uint64_t end, bool swap)
{
	uint64_t off = start;

	while (off < end) {
		uint32_t type;
		uint64_t size;

		if (end - off < 8)
			die("walk: %llu bytes after the last record at offset %#llx",
			    (unsigned long long)(end - off), (unsigned long long)off);
		type = (uint32_t)ld(img + off, 4, swap);
		size = ld(img + off + 6, 2, swap);
		if (size < 8 || size > end - off)
			die("walk: record of type %u and size %llu at offset %#llx", type,
			    (unsigned long long)size, (unsigned long long)off);
		if (type == PERF_RECORD_HEADER_TRACING_DATA || type == PERF_RECORD_AUXTRACE) {
			uint64_t extra;

			if (size < 16)
				die("walk: record of type %u too short at offset %#llx", type,
				    (unsigned long long)off);
			extra = type == PERF_RECORD_AUXTRACE ? ld(img + off + 8, 8, swap) :
			    (ld(img + off + 8, 4, swap) + 7) & ~7ull;
			if (extra > end - off - size)
				die("walk: payload past the end at offset %#llx", (unsigned long long)off);
			size += extra;
		}
		recs = grow(recs, &alloc_recs, nr_recs + 1, sizeof(*recs));
		recs[nr_recs++] = (struct wrec){ .off = off, .size = size, .type = type };
		off += size;
	}
}

static struct wrec *
find_rec(uint64_t off)
{
	size_t lo = 0, hi = nr_recs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (recs[mid].off == off)
			return &recs[mid];
		if (recs[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool
is_compressed(uint32_t type)
{
	return type == PERF_RECORD_COMPRESSED || type == PERF_RECORD_COMPRESSED2;
}

int
main(int argc, char **argv)
{
	unsigned char *img;
	size_t len;
	uint64_t magic, hsize;
	bool swap;
	struct pd_reader *r;
	struct pd_record rec;
	size_t next = 0;
	int rc;

	if (argc != 2) {
		fputs("usage: recbounds FILE\n", stderr);
		return 2;
	}
	path = argv[1];
	img = slurp(path, &len);
	if (len < 16)
		die("too short for a perf.data header");
	memcpy(&magic, img, 8);
	if (magic != PERF_MAGIC2 && magic != PERF_MAGIC2_SW)
		die("bad magic");
	swap = magic == PERF_MAGIC2_SW;
	hsize = ld(img + 8, 8, swap);

	if (hsize == 16) {
		add_line(0, "header", 16, 0, 0, 0);
		add_line(16, "data", len - 16, 0, 0, 0);
		walk(img, 16, len, swap);
	} else {
		uint64_t attr_size, attrs_off, attrs_size, data_off, data_size, bits[4] = { 0 };
		uint64_t nr, table;
		unsigned nr_feat = 0, k = 0;

		if ((hsize != 104 && hsize != 72) || len < hsize)
			die("header of size %llu", (unsigned long long)hsize);
		attr_size = ld(img + 16, 8, swap);
		attrs_off = ld(img + 24, 8, swap);
		attrs_size = ld(img + 32, 8, swap);
		data_off = ld(img + 40, 8, swap);
		data_size = ld(img + 48, 8, swap);
		if (hsize == 104)
			for (int i = 0; i < 4; i++)
				bits[i] = ld(img + 72 + 8 * i, 8, swap);
		if (attr_size < 80 || attrs_off > len || attrs_size > len - attrs_off ||
		    data_off > len || data_size > len - data_off || data_size == 0)
			die("header describes no complete file (a killed or cut recording?)");
		add_line(0, "header", hsize, 0, 0, 0);
		nr = attrs_size / attr_size;
		add_line(attrs_off, "attrs", attrs_size, 1, nr, 0);
		for (uint64_t i = 0; i < nr; i++) {
			const unsigned char *e = img + attrs_off + i * attr_size + attr_size - 16;
			uint64_t ids_off = ld(e, 8, swap), ids_size = ld(e + 8, 8, swap);

			if (ids_size == 0)
				continue;
			if (ids_off > len || ids_size > len - ids_off)
				die("id list of attr %llu past the end", (unsigned long long)i);
			add_line(ids_off, "ids", ids_size, 1, i, 0);
		}
		add_line(data_off, "data", data_size, 0, 0, 0);
		walk(img, data_off, data_off + data_size, swap);
		table = data_off + data_size;
		for (int i = 0; i < 4; i++)
			nr_feat += (unsigned)__builtin_popcountll(bits[i]);
		if (nr_feat) {
			if ((uint64_t)nr_feat * 16 > len - table)
				die("feature table past the end");
			add_line(table, "features", (uint64_t)nr_feat * 16, 1, nr_feat, 0);
			for (unsigned bit = 0; bit < 256; bit++) {
				const unsigned char *e;
				uint64_t off, size;

				if (!(bits[bit / 64] & (1ull << (bit % 64))))
					continue;
				e = img + table + 16 * k++;
				off = ld(e, 8, swap);
				size = ld(e + 8, 8, swap);
				if (off > len || size > len - off)
					die("feature %u section past the end", bit);
				add_line(off, "feature", size, 1, bit, 0);
			}
		}
	}

	/* The records as the library reads them. */
	r = pd_reader_new();
	if (!r)
		die("out of memory");
	if (pd_reader_open(r, path, 0) < 0)
		die("pd_reader_open: %s", pd_reader_errmsg(r));
	while ((rc = pd_reader_next(r, &rec)) == PD_OK) {
		struct wrec *w = find_rec(rec.offset);

		if (!w)
			die("the reader returns a record (type %u) at offset %#llx, where the framing has none",
			    rec.type, (unsigned long long)rec.offset);
		if (is_compressed(w->type)) {
			w->inflated++;
			if (rec.type == PERF_RECORD_SAMPLE)
				w->inflated_samples++;
			continue;
		}
		/* Records of their own come in file order, once each. */
		while (next < nr_recs && is_compressed(recs[next].type) && &recs[next] != w)
			next++;
		if (&recs[next] != w || w->seen)
			die("the reader returns the record at offset %#llx out of order or twice",
			    (unsigned long long)rec.offset);
		if (rec.type != w->type)
			die("the reader returns type %u at offset %#llx, the framing says %u",
			    rec.type, (unsigned long long)rec.offset, w->type);
		w->seen++;
		next++;
	}
	if (rc < 0)
		die("pd_reader_next: %s", pd_reader_errmsg(r));
	for (size_t i = 0; i < nr_recs; i++) {
		if (is_compressed(recs[i].type)) {
			add_line(recs[i].off, "compressed", recs[i].size, 2, recs[i].inflated,
			    recs[i].inflated_samples);
		} else {
			if (!recs[i].seen)
				die("the reader skips the record (type %u) at offset %#llx", recs[i].type,
				    (unsigned long long)recs[i].off);
			add_line(recs[i].off, "record", recs[i].size, 1, recs[i].type, 0);
		}
	}
	pd_reader_free(r);
	add_line(len, "eof", 0, 0, 0, 0);

	qsort(lines, nr_lines, sizeof(*lines), line_cmp);
	for (size_t i = 0; i < nr_lines; i++) {
		const struct line *l = &lines[i];

		printf("%llu %s %llu", (unsigned long long)l->off, l->kind, (unsigned long long)l->size);
		if (l->nargs >= 1)
			printf(" %llu", (unsigned long long)l->a);
		if (l->nargs >= 2)
			printf(" %llu", (unsigned long long)l->b);
		putchar('\n');
	}
	free(lines);
	free(recs);
	free(img);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("write error");
	return 0;
}
