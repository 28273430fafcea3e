/*
 * reader.c - the reader and the session on perf.data images built here in
 * memory: file and pipe mode, record ordering by time, comm and map state,
 * a truncated tail and a zero-sized record.
 */
#include "pd-internal.h"
#include "../tap.h"

struct img {
	unsigned char b[8192];
	size_t n;
};

static void
put(struct img *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void
u64(struct img *m, uint64_t v) { put(m, &v, 8); }
static void
u32(struct img *m, uint32_t v) { put(m, &v, 4); }
static void
u16(struct img *m, uint16_t v) { put(m, &v, 2); }

static void
hdr(struct img *m, uint32_t type, uint16_t misc, uint16_t size)
{
	u32(m, type);
	u16(m, misc);
	u16(m, size);
}

/* sample_type IP|TID|TIME|PERIOD, sample_id_all: trailer TID, TIME. */
#define ST (PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_PERIOD)

static void
attr(struct img *m)
{
	size_t at = m->n;

	u32(m, 1);		/* PERF_TYPE_SOFTWARE */
	u32(m, 128);
	u64(m, 0);		/* cpu-clock */
	u64(m, 4000);
	u64(m, ST);
	u64(m, 0);
	u64(m, PERF_ATTR_FLAG_SAMPLE_ID_ALL | PERF_ATTR_FLAG_FREQ);
	while (m->n < at + 128)
		u32(m, 0);
}

static void
comm(struct img *m, uint32_t pid, const char *name, uint64_t time)
{
	char s[16] = { 0 };

	snprintf(s, sizeof(s), "%s", name);
	hdr(m, PERF_RECORD_COMM, 0, 8 + 8 + 16 + 16);
	u32(m, pid);
	u32(m, pid);
	put(m, s, 16);
	u32(m, pid);
	u32(m, pid);
	u64(m, time);
}

static void
mmap2(struct img *m, uint32_t pid, uint64_t start, const char *name, uint64_t time)
{
	char s[24] = { 0 };

	snprintf(s, sizeof(s), "%s", name);
	hdr(m, PERF_RECORD_MMAP2, PERF_RECORD_MISC_USER, 8 + 64 + 24 + 16);
	u32(m, pid);
	u32(m, pid);
	u64(m, start);
	u64(m, 0x1000);
	u64(m, 0x2000);		/* pgoff */
	u32(m, 8);
	u32(m, 1);
	u64(m, 1234);
	u64(m, 0);
	u32(m, 5);		/* PROT_READ | PROT_EXEC */
	u32(m, 2);		/* MAP_PRIVATE */
	put(m, s, 24);
	u32(m, pid);
	u32(m, pid);
	u64(m, time);
}

static void
sample(struct img *m, uint32_t pid, uint64_t ip, uint64_t time, uint64_t period)
{
	hdr(m, PERF_RECORD_SAMPLE, PERF_RECORD_MISC_USER, 8 + 32);
	u64(m, ip);
	u32(m, pid);
	u32(m, pid);
	u64(m, time);
	u64(m, period);
}

static void
round_end(struct img *m)
{
	hdr(m, PERF_RECORD_FINISHED_ROUND, 0, 8);
}

/* The records every image carries; samples out of time order on purpose. */
static void
records(struct img *m)
{
	sample(m, 100, 0x400100, 5, 1);		/* before the COMM: ":100" */
	sample(m, 100, 0x400200, 30, 2);	/* in the file before its MMAP2 */
	comm(m, 100, "myprog", 10);
	mmap2(m, 100, 0x400000, "/nonexistent/x", 20);
	round_end(m);
	sample(m, 100, 0x400300, 40, 4);
	round_end(m);
}

static struct img
file_image(void)
{
	struct img m = { .n = 0 };
	size_t data;

	u64(&m, 0x32454c4946524550ull);		/* PERFILE2 */
	u64(&m, 104);
	u64(&m, 144);				/* attr_size */
	u64(&m, 104);				/* attrs */
	u64(&m, 144);
	u64(&m, 0);				/* data, patched below */
	u64(&m, 0);
	u64(&m, 0);
	u64(&m, 0);
	u64(&m, 0);				/* no features */
	u64(&m, 0);
	u64(&m, 0);
	u64(&m, 0);
	attr(&m);
	u64(&m, 0);				/* ids */
	u64(&m, 0);
	data = m.n;
	records(&m);
	memcpy(m.b + 40, &(uint64_t){ data }, 8);
	memcpy(m.b + 48, &(uint64_t){ m.n - data }, 8);
	return m;
}

static struct img
pipe_image(void)
{
	struct img m = { .n = 0 };

	u64(&m, 0x32454c4946524550ull);
	u64(&m, 16);
	hdr(&m, PERF_RECORD_HEADER_ATTR, 0, 8 + 128);
	attr(&m);
	/* An unpadded HEADER_FEATURE (HOSTNAME, as perf 6.1 writes it). */
	hdr(&m, PERF_RECORD_HEADER_FEATURE, 0, 8 + 8 + 4 + 8 - 4);
	u64(&m, HEADER_HOSTNAME);
	u32(&m, 4);
	put(&m, "box", 4);
	records(&m);
	return m;
}

struct got {
	int n;
	char comm[3][16];
	uint64_t rel[3], period[3], time[3];
	char dso[3][32];
};

static int
collect(void *ctx, const struct pd_sample *s)
{
	struct got *g = ctx;

	if (g->n < 3) {
		snprintf(g->comm[g->n], 16, "%s", s->comm);
		g->rel[g->n] = s->nr_frames ? s->frames[0].rel : 0;
		snprintf(g->dso[g->n], 32, "%s", s->nr_frames && s->frames[0].dso ?
		    pd_dso_name(s->frames[0].dso) : "-");
		g->period[g->n] = s->period;
		g->time[g->n] = s->time;
	}
	g->n++;
	return 0;
}

static void
check_run(const char *what, struct img *m)
{
	struct pd_reader *r = pd_reader_new();
	struct pd_session *s = pd_session_new(NULL);
	struct got g = { 0 };
	char name[128];
	int rc;

	rc = pd_reader_open_mem(r, what, m->b, m->n);
	snprintf(name, sizeof(name), "%s: opens", what);
	is_int(rc, PD_OK, name);
	rc = pd_session_run(s, r, collect, &g);
	snprintf(name, sizeof(name), "%s: runs to the end", what);
	is_int(rc, PD_OK, name);
	snprintf(name, sizeof(name), "%s: three samples", what);
	is_int(g.n, 3, name);
	snprintf(name, sizeof(name), "%s: samples in time order", what);
	ok(g.time[0] == 5 && g.time[1] == 30 && g.time[2] == 40, name);
	snprintf(name, sizeof(name), "%s: a sample before its COMM is named :PID", what);
	is_str(g.comm[0], ":100", name);
	snprintf(name, sizeof(name), "%s: a later sample has the comm", what);
	is_str(g.comm[1], "myprog", name);
	snprintf(name, sizeof(name), "%s: the map written after the sample still applies (ordering)", what);
	is_str(g.dso[1], "/nonexistent/x", name);
	snprintf(name, sizeof(name), "%s: DSO-relative address = ip - start + pgoff", what);
	is_int(g.rel[1], 0x2200, name);
	snprintf(name, sizeof(name), "%s: periods", what);
	ok(g.period[0] == 1 && g.period[1] == 2 && g.period[2] == 4, name);
	snprintf(name, sizeof(name), "%s: event named from the attr", what);
	is_str(pd_reader_event(r, 0)->name, "cpu-clock", name);
	is_int(pd_session_stats(s)->samples, 3, "stats count the samples");
	pd_session_free(s);
	pd_reader_free(r);
}

int
main(void)
{
	struct img f = file_image(), p = pipe_image(), t;
	struct pd_reader *r;
	struct pd_session *s;
	struct got g = { 0 };
	int rc;

	check_run("file mode", &f);
	check_run("pipe mode", &p);
	r = pd_reader_new();
	pd_reader_open_mem(r, "pipe", p.b, p.n);
	s = pd_session_new(NULL);
	pd_session_run(s, r, collect, &g);
	is_str(pd_reader_feature(r, PD_FEAT_HOSTNAME), "box", "pipe mode: HEADER_FEATURE read unaligned");
	is_str(pd_reader_warning(r), "", "clean pipe: no warning");
	pd_session_free(s);
	pd_reader_free(r);

	/* A pipe cut inside its last record: the rest delivered, then the error. */
	t = p;
	t.n -= 4;	/* inside the last FINISHED_ROUND */
	r = pd_reader_new();
	s = pd_session_new(NULL);
	memset(&g, 0, sizeof(g));
	pd_reader_open_mem(r, "cut", t.b, t.n);
	rc = pd_session_run(s, r, collect, &g);
	is_int(rc, PD_E_CORRUPT, "truncated tail: an error, after the records");
	is_int(g.n, 3, "truncated tail: every whole sample delivered");
	ok(strstr(pd_reader_errmsg(r), "ends inside a record (4 bytes of it) at offset 0x") != NULL,
	    "truncated tail: the error says where");
	is_str(pd_reader_warning(r), "", "truncated tail: no warning besides");
	pd_session_free(s);
	pd_reader_free(r);

	/* A record of size 0 in the middle: corrupt, with its offset. */
	t = f;
	memset(t.b + 104 + 144 + 40 + 6, 0, 2);	/* the second sample's size */
	r = pd_reader_new();
	s = pd_session_new(NULL);
	memset(&g, 0, sizeof(g));
	pd_reader_open_mem(r, "zero", t.b, t.n);
	rc = pd_session_run(s, r, collect, &g);
	is_int(rc, PD_E_CORRUPT, "size-0 record: corrupt");
	is_str(pd_reader_errmsg(r), "'zero': record of type 9 has size 0 < 8 at offset 0x120",
	    "size-0 record: message with the offset");
	is_int(g.n, 1, "size-0 record: the sample before it is delivered");
	pd_session_free(s);
	pd_reader_free(r);

	/*
	 * Damaged metadata (issue 18): noted per class, with a count and the
	 * first offset, in one warning line.  Three records of an unknown type
	 * holding most of the bytes, and two COMMs without a NUL.
	 */
	t = pipe_image();
	{
		size_t first = t.n;
		char want[160];

		for (int i = 0; i < 3; i++) {
			hdr(&t, 300, 0, 2000);
			for (int k = 0; k < 2000 - 8; k++)
				put(&t, "", 1);
		}
		for (int i = 0; i < 2; i++) {
			hdr(&t, PERF_RECORD_COMM, 0, 8 + 8 + 8 + 16);
			u32(&t, 100);
			u32(&t, 100);
			put(&t, "abcdefgh", 8);
			u32(&t, 100);			/* trailer: pid, tid, time */
			u32(&t, 100);
			u64(&t, 50);
		}
		r = pd_reader_new();
		s = pd_session_new(NULL);
		memset(&g, 0, sizeof(g));
		pd_reader_open_mem(r, "dmg", t.b, t.n);
		rc = pd_session_run(s, r, collect, &g);
		is_int(rc, PD_OK, "damaged metadata: read to the end");
		is_int(g.n, 3, "damaged metadata: every sample delivered");
		snprintf(want, sizeof(want), "'dmg': record of an unknown type (3 of them; the first: "
		    "type 300, 2000 bytes; %d%% of the bytes of the records) at offset 0x%zx",
		    (int)(6000 * 100 / (t.n - 16)), first);
		ok(strstr(pd_reader_warning(r), want) != NULL, "unknown records: count, share, first offset");
		printf("# %s\n", pd_reader_warning(r));
		snprintf(want, sizeof(want), "'dmg': COMM record without a NUL (2 of them; the first: 8 bytes, kept) "
		    "at offset 0x%zx", first + 6000);
		ok(strstr(pd_reader_warning(r), want) != NULL, "COMM without a NUL: count, first offset");
		ok(strchr(pd_reader_warning(r), '\n') == NULL, "damaged metadata: one line");
		is_int(pd_reader_stats(r)->unknown_records, 3, "unknown records counted");
		pd_session_free(s);
		pd_reader_free(r);
	}

	/* A pipe of nothing but a record of an unknown type: the line says no samples were read. */
	t = (struct img){ .n = 0 };
	u64(&t, 0x32454c4946524550ull);
	u64(&t, 16);
	hdr(&t, PERF_RECORD_HEADER_ATTR, 0, 8 + 128);
	attr(&t);
	hdr(&t, 200, 0, 16);
	u64(&t, 0);
	r = pd_reader_new();
	s = pd_session_new(NULL);
	pd_reader_open_mem(r, "retyped", t.b, t.n);
	rc = pd_session_run(s, r, collect, &g);
	is_int(rc, PD_OK, "retyped: exit 0");
	is_str(pd_reader_warning(r), "'retyped': record of an unknown type (type 200, 16 bytes; no samples "
	    "were read: they may all be in these) at offset 0x98", "retyped: the warning says no samples were read");
	pd_session_free(s);
	pd_reader_free(r);

	/* Not perf.data. */
	r = pd_reader_new();
	rc = pd_reader_open_mem(r, "junk", "hello, world, junk", 18);
	is_int(rc, PD_E_FORMAT, "junk: not perf.data");
	pd_reader_free(r);
	return done_testing();
}
