/*
 * gen-synth - write a synthetic perf.data whose every sample is known, and
 * what the tools must make of it, for the conservation tests
 * (tests/cli/conservation.t).
 *
 *	gen-synth [-o FILE] [--pipe] [-z] [-n N] [--seed S] [--expect FILE]
 *		  [--period P]
 *
 * -o FILE	the recording ("-": standard output; default perf.data)
 * --pipe	perf's pipe format: HEADER_ATTR, HEADER_FEATURE (unpadded, as
 *		perf 6.1 writes them, then the end marker), EVENT_UPDATE names
 * -z		the ring-buffer records in PERF_RECORD_COMPRESSED records, one
 *		zstd stream flushed per chunk, with the COMPRESSED feature
 * -n N		samples (default 100000)
 * --seed S	the PRNG seed (default 1); the same arguments give the same bytes
 * --period P	every sample's period is P (1 to 2^64-1), for the tests of
 *		sums that pass 2^64 (tests/cli/weights.t); not with --expect,
 *		whose sums would wrap
 * --expect FILE  the exact results, tab-separated, one fact a line:
 *	total	samples|lost_events|lost_records|lost_samples|frames|max_frames	N
 *	event	EVENT	SAMPLES	PERIOD
 *	comm	EVENT	COMM	SAMPLES	PERIOD
 *	self	EVENT	DSO	SAMPLES	PERIOD		(the sample's own address)
 *	sym	EVENT	DSO	SYMBOL	SAMPLES	PERIOD	(pdtop's cell, self)
 *	child	EVENT	DSO	SAMPLES	PERIOD		(once per sample whose stack has DSO)
 *	thread	all	PID/TID	SAMPLES	PERIOD		(every event)
 *	fold	EVENT	period|samples	STACK COUNT	(pdcollapse --event=EVENT)
 *	addrs	EVENT	period|samples	STACK COUNT	(the same with --addrs)
 *   Within a kind and event, lines are sorted bytewise by key.
 *
 * The recording: three events ("cycles", "instructions", "page-faults"),
 * sample_type IDENTIFIER|IP|TID|TIME|CPU|PERIOD|CALLCHAIN with two ids each
 * (two CPUs), names in EVENT_DESC (file) or EVENT_UPDATE (pipe); varying
 * periods.  Processes and threads come from synthesized COMM/MMAP2 records
 * (time 0) and, during the recording, FORK (a thread, a process), COMM (a
 * thread renamed; an exec with new MMAP2s), MMAP2 (a library loaded late)
 * and EXIT.  Stacks come from per-image templates of 1 to 99 frames, some
 * recursive, with kernel parts (PERF_CONTEXT_KERNEL, then USER) on a
 * quarter of the samples and a kernel thread with kernel frames only.
 * Frames are in fake DSOs that exist nowhere (so they fold as
 * "[basename]"), in the kernel map ("[kernel.kallsyms]", with an OSRELEASE
 * no machine runs so no kallsyms is trusted), or under no map at all
 * ("[unknown]").  Records go out in rounds of 1000 samples, each CPU's
 * records together (so file order is not time order within a round),
 * then FINISHED_ROUND.  LOST and LOST_SAMPLES records are spread over the
 * recording.
 *
 * Exit status: 0 done, 2 bad usage or an output error.
 */
#include <getopt.h>
#include <inttypes.h>

#include "pd-uthash.h"

#include "perfwrite.h"

#define NR_CPUS			2
#define ROUND			1000		/* samples per FINISHED_ROUND */
#define T0			1000000000ull	/* time of sample 0, ns */
#define ZPIECE			65536		/* inflated bytes per COMPRESSED record at most */
#define COMP_MMAP_LEN		528384		/* the COMPRESSED feature's mmap_len, as perf */
#define SAMPLE_TYPE		(PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | \
				 PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_PERIOD | \
				 PERF_SAMPLE_CALLCHAIN)
#define HEADER_SAMPLE_TIME	21
#define MAX_FRAMES		128		/* more than a kernel and a user template */

/* ---------------------------------------------------------------- */
/* The PRNG: splitmix64. */

static uint64_t rng_state;

static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static uint64_t
below(uint64_t n)
{
	return rnd() % n;
}

/* ---------------------------------------------------------------- */
/* The model. */

struct event {
	const char *name;
	uint32_t type;
	uint64_t config;
	bool freq;
	uint64_t sample;		/* sample_freq or sample_period */
	unsigned share;			/* percent of the samples */
	uint64_t pmin, pspan;		/* periods in [pmin, pmin + pspan) */
};

static const struct event events[] = {
	{ "cycles", 0, 0, true, 4000, 50, 1000, 500000 },
	{ "instructions", 0, 1, true, 4000, 35, 2000, 900000 },
	{ "page-faults", 1, 2, false, 1, 15, 1, 8 },
};
#define NR_EVENTS		(sizeof(events) / sizeof(events[0]))

static uint64_t
event_id(size_t ev, unsigned cpu)
{
	return 0x5a00 + 0x10 * ev + cpu;
}

enum { D_APP, D_LIBSYNTH, D_LIBC, D_WORKER, D_EXEC, D_PLUGIN, NR_DSOS };

static const char *const dso_path[NR_DSOS] = {
	"/opt/pdsynth/bin/synth-app", "/opt/pdsynth/lib/libsynth.so.1",
	"/usr/lib/pdsynth/libc-synth.so.6", "/opt/pdsynth/bin/synth-worker",
	"/opt/pdsynth/bin/synth-exec", "/opt/pdsynth/lib/libplugin.so",
};

struct map {
	int dso;
	uint64_t start, len, pgoff;
};

#define KERNEL_START		0xffffffff81000000ull
#define KERNEL_LEN		0x1400000ull
#define UNMAPPED_START		0x0000200000000000ull	/* no map covers it */
#define UNMAPPED_LEN		0x100000ull

/* Address-space images: the maps a process has, the main binary first. */
enum { IMG_APP, IMG_APP_PLUGIN, IMG_WORKER, IMG_EXEC, NR_IMAGES };

static const struct map image_maps[NR_IMAGES][4] = {
	[IMG_APP] = {
		{ D_APP, 0x400000, 0x80000, 0 },
		{ D_LIBSYNTH, 0x7f3a12345000, 0x40000, 0x2000 },
		{ D_LIBC, 0x7f3a20000000, 0x180000, 0x28000 },
		{ -1, 0, 0, 0 },
	},
	[IMG_APP_PLUGIN] = {
		{ D_APP, 0x400000, 0x80000, 0 },
		{ D_LIBSYNTH, 0x7f3a12345000, 0x40000, 0x2000 },
		{ D_LIBC, 0x7f3a20000000, 0x180000, 0x28000 },
		{ D_PLUGIN, 0x7f3a40000000, 0x10000, 0 },
	},
	[IMG_WORKER] = {
		{ D_WORKER, 0x55d0c0000000, 0x20000, 0x1000 },
		{ D_LIBC, 0x7f9b00000000, 0x180000, 0x28000 },
		{ -1, 0, 0, 0 }, { -1, 0, 0, 0 },
	},
	[IMG_EXEC] = {
		{ D_EXEC, 0x400000, 0x30000, 0 },
		{ D_LIBC, 0x7fee00000000, 0x180000, 0x28000 },
		{ -1, 0, 0, 0 }, { -1, 0, 0, 0 },
	},
};

static size_t
image_nr_maps(int img)
{
	size_t n = 0;

	while (n < 4 && image_maps[img][n].dso >= 0)
		n++;
	return n;
}

/*
 * Threads, and the sample indices at which things happen (set from N).
 * A side-band record "at" index K is timed just before sample K.
 */
static uint64_t n_samples = 100000;
static uint64_t fork1_at, comm1_at, fork2_at, exec_at, plugin_at, exit_at;

enum { T_APP, T_APP2, T_APP_IO, T_WORKER, T_CHILD, T_KTHREAD, NR_THREADS };

struct thread_def {
	int32_t pid, tid;
	unsigned weight;		/* relative share of the samples */
};

static const struct thread_def threads[NR_THREADS] = {
	[T_APP] = { 1000, 1000, 30 },
	[T_APP2] = { 1000, 1001, 15 },
	[T_APP_IO] = { 1000, 1002, 15 },
	[T_WORKER] = { 2000, 2000, 20 },
	[T_CHILD] = { 3000, 3000, 15 },
	[T_KTHREAD] = { 77, 77, 5 },
};

static bool
alive(int t, uint64_t i)
{
	switch (t) {
	case T_APP2:
		return i < exit_at;
	case T_APP_IO:
		return i >= fork1_at;
	case T_CHILD:
		return i >= fork2_at;
	default:
		return true;
	}
}

/* The thread's comm at sample I, as a time-ordered reader must see it. */
static const char *
comm_at(int t, uint64_t i)
{
	switch (t) {
	case T_APP:
	case T_APP2:
		return "synth-app";
	case T_APP_IO:
		return i < comm1_at ? "synth-app" : "synth-io";
	case T_WORKER:
		return "synth worker";
	case T_CHILD:
		return i < exec_at ? "synth worker" : "synth-exec";
	default:
		return "kworker/1:2";
	}
}

/* The image thread T samples from at I (-1: kernel thread). */
static int
image_at(int t, uint64_t i)
{
	switch (t) {
	case T_APP:
	case T_APP2:
	case T_APP_IO:
		/* Once the plugin is loaded, a third of the stacks go through it. */
		return i >= plugin_at && below(3) == 0 ? IMG_APP_PLUGIN : IMG_APP;
	case T_WORKER:
		return IMG_WORKER;
	case T_CHILD:
		return i < exec_at ? IMG_WORKER : IMG_EXEC;
	default:
		return -1;
	}
}

/* ---------------------------------------------------------------- */
/* Stack templates: call chains, leaf first, as the kernel records them. */

struct frame {
	uint64_t ip;
	const struct map *map;		/* NULL: no map (or the kernel) */
	bool kernel;
	const char *fold[2];		/* folded name, without and with --addrs */
};

struct tmpl {
	struct frame *f;
	size_t n;
};

#define NR_UTMPL		48
#define NR_KTMPL		24

static struct tmpl utmpl[NR_IMAGES][NR_UTMPL], ktmpl[NR_KTMPL];
static struct pd_arena names;		/* the frames' folded names */

static void frame_names(struct frame *f);

static uint64_t
addr_in(uint64_t start, uint64_t len)
{
	return start + below(len / 4) * 4 + 1;
}

static struct frame
user_frame(int img, int want)
{
	const struct map *m;
	size_t nm = image_nr_maps(img);
	struct frame f = { 0, NULL, false, { NULL, NULL } };

	if (want < 0 && below(100) < 4) {
		f.ip = addr_in(UNMAPPED_START, UNMAPPED_LEN);
		frame_names(&f);
		return f;
	}
	m = &image_maps[img][want >= 0 ? (size_t)want : below(nm)];
	f.map = m;
	f.ip = addr_in(m->start, m->len);
	frame_names(&f);
	return f;
}

static void
make_templates(void)
{
	for (int img = 0; img < NR_IMAGES; img++) {
		size_t nm = image_nr_maps(img);

		for (size_t k = 0; k < NR_UTMPL; k++) {
			struct tmpl *t = &utmpl[img][k];
			uint64_t r = below(100);
			size_t n = r < 75 ? 1 + below(12) : r < 95 ? 12 + below(30) : 60 + below(40);

			t->f = calloc(n, sizeof(*t->f));
			if (!t->f)
				die("out of memory");
			t->n = n;
			/* The root in the main binary, the leaf often in a library. */
			for (size_t j = 0; j < n; j++)
				t->f[j] = user_frame(img, j == n - 1 ? 0 : -1);
			if (n > 1 && below(5) < 2)
				t->f[0] = user_frame(img, 1 + (int)below(nm - 1));
			/* Recursion: a run of one return address. */
			if (n > 6 && below(10) == 0)
				for (size_t j = 3; j < n - 2; j++)
					t->f[j] = t->f[2];
			/* The plugin image: every stack goes through the plugin. */
			if (img == IMG_APP_PLUGIN)
				t->f[below(n > 1 ? n - 1 : 1)] = user_frame(img, 3);
		}
	}
	for (size_t k = 0; k < NR_KTMPL; k++) {
		size_t n = 1 + below(14);

		ktmpl[k].f = calloc(n, sizeof(*ktmpl[k].f));
		if (!ktmpl[k].f)
			die("out of memory");
		ktmpl[k].n = n;
		for (size_t j = 0; j < n; j++) {
			ktmpl[k].f[j] = (struct frame){ addr_in(KERNEL_START, KERNEL_LEN), NULL, true,
			    { NULL, NULL } };
			frame_names(&ktmpl[k].f[j]);
		}
	}
}

/* Skewed towards the first templates, as real profiles are. */
static size_t
pick(size_t n)
{
	uint64_t a = below(n), b = below(n);

	return (size_t)(a < b ? a : b);
}

/* ---------------------------------------------------------------- */
/* Expected results: tallies by kind, event and key. */

enum { K_COMM, K_SELF, K_SYM, K_CHILD, K_FOLD, K_ADDRS, K_THREAD, NR_KINDS };

static const char *const kind_name[NR_KINDS] = {
	"comm", "self", "sym", "child", "fold", "addrs", "thread",
};

struct tally {
	char *key;
	uint64_t samples, period;
	UT_hash_handle hh;
};

static struct tally *tallies[NR_KINDS][NR_EVENTS];
static uint64_t ev_samples[NR_EVENTS], ev_period[NR_EVENTS];
static uint64_t lost_events, lost_records, lost_samples, nr_frames, max_frames;
static bool expecting;			/* --expect: keep the tallies */
static struct pd_buf key_buf = PD_BUF_INIT;	/* a tally's key being made */

static void
tally(int kind, size_t ev, const char *key, uint64_t period)
{
	struct tally *t;

	HASH_FIND_STR(tallies[kind][ev], key, t);
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t || !(t->key = strdup(key)))
			die("out of memory");
		HASH_ADD_KEYPTR(hh, tallies[kind][ev], t->key, strlen(t->key), t);
	}
	t->samples++;
	t->period += period;
}

static int
tally_cmp(const void *a, const void *b)
{
	return strcmp((*(struct tally *const *)a)->key, (*(struct tally *const *)b)->key);
}

/* A frame's DSO as perf's short name. */
static const char *
dso_short(const struct frame *f)
{
	const char *p;

	if (f->kernel)
		return "[kernel.kallsyms]";
	if (!f->map)
		return "[unknown]";
	p = strrchr(dso_path[f->map->dso], '/');
	return p + 1;
}

/* DSO-relative (file offset) address, as perf's map_ip. */
static uint64_t
rel_of(const struct frame *f)
{
	return f->map ? f->ip - f->map->start + f->map->pgoff : f->ip;
}

/*
 * The folded name of a frame without a symbol, pdcollapse's and
 * stackcollapse-perf.pl's: "[" DSO basename "]", so "[[kernel.kallsyms]]",
 * or "[unknown]" under no map.
 */
static void
frame_names(struct frame *f)
{
	const char *name = f->map || f->kernel ? dso_short(f) : "unknown";
	char buf[256];

	snprintf(buf, sizeof(buf), "[%s]", name);
	f->fold[0] = pd_arena_strdup(&names, buf);
	snprintf(buf, sizeof(buf), "[%s <%" PRIx64 ">]", name, f->kernel ? f->ip : rel_of(f));
	f->fold[1] = pd_arena_strdup(&names, buf);
	if (!f->fold[0] || !f->fold[1])
		die("out of memory");
}

static void
expect_sample(size_t ev, int t, const char *comm, const struct frame *fr, size_t nf, uint64_t period)
{
	struct pd_buf *b = &key_buf;
	const char *seen[MAX_FRAMES];
	size_t nseen = 0;
	char tid[32];

	ev_samples[ev]++;
	ev_period[ev] += period;
	nr_frames += nf;
	if (nf > max_frames)
		max_frames = nf;
	tally(K_COMM, ev, comm, period);
	snprintf(tid, sizeof(tid), "%d/%d", (int)threads[t].pid, (int)threads[t].tid);
	tally(K_THREAD, 0, tid, period);	/* every event together */
	tally(K_SELF, ev, dso_short(&fr[0]), period);
	pd_buf_reset(b);
	if (pd_buf_addf(b, "%s\t[%c] 0x%016" PRIx64, dso_short(&fr[0]), fr[0].kernel ? 'k' : '.',
	    rel_of(&fr[0])) < 0)
		die("out of memory");
	tally(K_SYM, ev, b->buf, period);
	for (size_t j = 0; j < nf; j++) {
		const char *d = dso_short(&fr[j]);
		size_t k = 0;

		while (k < nseen && strcmp(seen[k], d))
			k++;
		if (k == nseen) {
			seen[nseen++] = d;
			tally(K_CHILD, ev, d, period);
		}
	}
	for (int addrs = 0; addrs < 2; addrs++) {
		pd_buf_reset(b);
		for (const char *p = comm; *p; p++)
			buf_add(b, *p == ' ' ? "_" : p, 1);
		for (size_t j = nf; j-- > 0;) {
			buf_add(b, ";", 1);
			buf_add(b, fr[j].fold[addrs], strlen(fr[j].fold[addrs]));
		}
		tally(addrs ? K_ADDRS : K_FOLD, ev, b->buf, period);
	}
}

static void
write_expect(const char *path)
{
	struct pd_buf b = PD_BUF_INIT;
	int ok = 0;

	ok |= pd_buf_addf(&b, "# gen-synth expect v1 samples=%" PRIu64 "\n", n_samples);
	ok |= pd_buf_addf(&b, "total\tsamples\t%" PRIu64 "\n", n_samples);
	ok |= pd_buf_addf(&b, "total\tlost_events\t%" PRIu64 "\n", lost_events);
	ok |= pd_buf_addf(&b, "total\tlost_records\t%" PRIu64 "\n", lost_records);
	ok |= pd_buf_addf(&b, "total\tlost_samples\t%" PRIu64 "\n", lost_samples);
	ok |= pd_buf_addf(&b, "total\tframes\t%" PRIu64 "\n", nr_frames);
	ok |= pd_buf_addf(&b, "total\tmax_frames\t%" PRIu64 "\n", max_frames);
	for (size_t ev = 0; ev < NR_EVENTS; ev++)
		ok |= pd_buf_addf(&b, "event\t%s\t%" PRIu64 "\t%" PRIu64 "\n", events[ev].name,
		    ev_samples[ev], ev_period[ev]);
	for (int kind = 0; kind < NR_KINDS; kind++) {
		for (size_t ev = 0; ev < NR_EVENTS; ev++) {
			size_t n = HASH_COUNT(tallies[kind][ev]), i = 0;
			struct tally **v = calloc(n ? n : 1, sizeof(*v)), *t, *tmp;

			if (!v)
				die("out of memory");
			HASH_ITER(hh, tallies[kind][ev], t, tmp)
				v[i++] = t;
			qsort(v, n, sizeof(*v), tally_cmp);
			for (i = 0; i < n; i++) {
				if (kind == K_FOLD || kind == K_ADDRS) {
					ok |= pd_buf_addf(&b, "%s\t%s\tperiod\t%s %" PRIu64 "\n",
					    kind_name[kind], events[ev].name, v[i]->key, v[i]->period);
					continue;
				}
				ok |= pd_buf_addf(&b, "%s\t%s\t%s\t%" PRIu64 "\t%" PRIu64 "\n",
				    kind_name[kind], kind == K_THREAD ? "all" : events[ev].name,
				    v[i]->key, v[i]->samples, v[i]->period);
			}
			/* The sample-weighted stacks, after the period ones. */
			for (i = 0; (kind == K_FOLD || kind == K_ADDRS) && i < n; i++)
				ok |= pd_buf_addf(&b, "%s\t%s\tsamples\t%s %" PRIu64 "\n",
				    kind_name[kind], events[ev].name, v[i]->key, v[i]->samples);
			free(v);
		}
	}
	if (ok < 0)
		die("out of memory");
	write_output(path, &b);
	pd_buf_release(&b);
}

/* ---------------------------------------------------------------- */
/* Records. */

static bool pipe_mode, compress;
static struct pd_buf out = PD_BUF_INIT;		/* the whole recording */
static struct pd_buf cpu_buf[NR_CPUS];		/* this round's records, per CPU */
static struct pw_zstd zs;
static uint64_t first_time, last_time;

/* The sample_id trailer: TID, TIME, CPU, IDENTIFIER (all zero when synthesized). */
static void
trailer(struct pw_rec *r, int32_t pid, int32_t tid, uint64_t time, unsigned cpu, uint64_t id)
{
	pw_u32(r, (uint32_t)pid);
	pw_u32(r, (uint32_t)tid);
	pw_u64(r, time);
	pw_u32(r, cpu);
	pw_u32(r, 0);
	pw_u64(r, id);
}

static void
synth_trailer(struct pw_rec *r)
{
	trailer(r, 0, 0, 0, 0, 0);
}

static void
perf_attr(struct pd_buf *b, size_t ev)
{
	const struct event *e = &events[ev];
	unsigned char a[128] = { 0 };
	/* disabled inherit enable_on_exec sample_id_all (+ freq); side-band on the first */
	uint64_t flags = 1ull << 0 | 1ull << 1 | 1ull << 12 | PERF_ATTR_FLAG_SAMPLE_ID_ALL;

	if (e->freq)
		flags |= PERF_ATTR_FLAG_FREQ;
	if (ev == 0)	/* mmap comm task mmap2 comm_exec */
		flags |= 1ull << 8 | 1ull << 9 | 1ull << 13 | 1ull << 23 | 1ull << 24;
	pw_st32(a, e->type, false);
	pw_st32(a + 4, sizeof(a), false);
	pw_st64(a + 8, e->config, false);
	pw_st64(a + 16, e->sample, false);
	pw_st64(a + 24, SAMPLE_TYPE, false);
	pw_st64(a + 32, PERF_FORMAT_ID | PERF_FORMAT_LOST, false);
	pw_st64(a + 40, flags, false);
	buf_add(b, a, sizeof(a));
}

static void
comm_record(struct pd_buf *b, uint16_t misc, int32_t pid, int32_t tid, const char *comm,
    uint64_t time, unsigned cpu)
{
	struct pw_rec r = pw_begin(b, PERF_RECORD_COMM, misc, false);

	pw_u32(&r, (uint32_t)pid);
	pw_u32(&r, (uint32_t)tid);
	pw_cstr(&r, comm);
	if (time)
		trailer(&r, pid, tid, time, cpu, event_id(0, cpu));
	else
		synth_trailer(&r);
	pw_end(&r, true);
}

static void
mmap2_record(struct pd_buf *b, int32_t pid, const struct map *m, uint64_t time, unsigned cpu)
{
	struct pw_rec r = pw_begin(b, PERF_RECORD_MMAP2, PERF_RECORD_MISC_USER, false);

	pw_u32(&r, (uint32_t)pid);
	pw_u32(&r, (uint32_t)pid);
	pw_u64(&r, m->start);
	pw_u64(&r, m->len);
	pw_u64(&r, m->pgoff);
	pw_u32(&r, 0xfe);		/* maj */
	pw_u32(&r, 1);			/* min */
	pw_u64(&r, 1000 + (uint64_t)m->dso);	/* ino */
	pw_u64(&r, 0);			/* ino_generation */
	pw_u32(&r, 5);			/* PROT_READ | PROT_EXEC */
	pw_u32(&r, 2);			/* MAP_PRIVATE */
	pw_cstr(&r, dso_path[m->dso]);
	if (time)
		trailer(&r, pid, pid, time, cpu, event_id(0, cpu));
	else
		synth_trailer(&r);
	pw_end(&r, true);
}

static void
mmap2_image(struct pd_buf *b, int32_t pid, int img, size_t from, uint64_t time, unsigned cpu)
{
	for (size_t k = from; k < image_nr_maps(img); k++)
		mmap2_record(b, pid, &image_maps[img][k], time, cpu);
}

/* FORK or EXIT. */
static void
task_record(struct pd_buf *b, uint32_t type, int32_t pid, int32_t ppid, int32_t tid, int32_t ptid,
    uint64_t time, unsigned cpu)
{
	struct pw_rec r = pw_begin(b, type, 0, false);

	pw_u32(&r, (uint32_t)pid);
	pw_u32(&r, (uint32_t)ppid);
	pw_u32(&r, (uint32_t)tid);
	pw_u32(&r, (uint32_t)ptid);
	pw_u64(&r, time);
	trailer(&r, pid, tid, time, cpu, event_id(0, cpu));
	pw_end(&r, true);
}

/* What perf record synthesizes for the tasks that exist when it starts. */
static void
synthesize(struct pd_buf *b)
{
	struct pw_rec r = pw_begin(b, PERF_RECORD_MMAP, PERF_RECORD_MISC_KERNEL, false);

	pw_u32(&r, UINT32_MAX);
	pw_u32(&r, 0);
	pw_u64(&r, KERNEL_START);
	pw_u64(&r, KERNEL_LEN);
	pw_u64(&r, KERNEL_START);
	pw_cstr(&r, "[kernel.kallsyms]_text");
	synth_trailer(&r);
	pw_end(&r, true);
	comm_record(b, 0, 77, 77, "kworker/1:2", 0, 0);
	comm_record(b, 0, 1000, 1000, "synth-app", 0, 0);
	comm_record(b, 0, 1000, 1001, "synth-app", 0, 0);
	mmap2_image(b, 1000, IMG_APP, 0, 0, 0);
	comm_record(b, 0, 2000, 2000, "synth worker", 0, 0);
	mmap2_image(b, 2000, IMG_WORKER, 0, 0, 0);
}

/* Side-band records timed just before sample I, on a random CPU. */
static void
side_band(uint64_t i)
{
	uint64_t t = T0 + 1000 * i - 500;
	unsigned cpu = (unsigned)below(NR_CPUS);
	struct pd_buf *b = &cpu_buf[cpu];

	if (i == fork1_at)
		task_record(b, PERF_RECORD_FORK, 1000, 1000, 1002, 1000, t++, cpu);
	if (i == comm1_at)
		comm_record(b, 0, 1000, 1002, "synth-io", t++, cpu);
	if (i == fork2_at)
		task_record(b, PERF_RECORD_FORK, 3000, 2000, 3000, 2000, t++, cpu);
	if (i == exec_at) {
		comm_record(b, PERF_RECORD_MISC_COMM_EXEC, 3000, 3000, "synth-exec", t++, cpu);
		for (size_t k = 0; k < image_nr_maps(IMG_EXEC); k++)
			mmap2_record(b, 3000, &image_maps[IMG_EXEC][k], t++, cpu);
	}
	if (i == plugin_at)
		mmap2_image(b, 1000, IMG_APP_PLUGIN, 3, t++, cpu);
	if (i == exit_at)
		task_record(b, PERF_RECORD_EXIT, 1000, 1, 1001, 1, t++, cpu);

	/* Losses, now and then, attributed to an event by its id. */
	t = T0 + 1000 * i - 200;
	if (i % ROUND == 500 && (i / ROUND) % 17 == 5) {
		size_t ev = (size_t)below(NR_EVENTS);
		uint64_t n = 1 + below(50);
		struct pw_rec r = pw_begin(b, PERF_RECORD_LOST, 0, false);

		pw_u64(&r, event_id(ev, cpu));
		pw_u64(&r, n);
		trailer(&r, 1000, 1000, t, cpu, event_id(ev, cpu));
		pw_end(&r, true);
		lost_events += n;
		lost_records++;
	}
	if (i % ROUND == 700 && (i / ROUND) % 23 == 11) {
		size_t ev = (size_t)below(NR_EVENTS);
		uint64_t n = 1 + below(20);
		struct pw_rec r = pw_begin(b, PERF_RECORD_LOST_SAMPLES, 0, false);

		pw_u64(&r, n);
		trailer(&r, 2000, 2000, t, cpu, event_id(ev, cpu));
		pw_end(&r, true);
		lost_samples += n;
	}
}

static uint64_t fixed_period;	/* --period: every sample's, or 0 */

static void
sample(uint64_t i)
{
	struct frame fr[MAX_FRAMES];
	uint64_t chain[MAX_FRAMES + 2], time = T0 + 1000 * i, period;
	size_t nf = 0, nc = 0, ev = 0;
	unsigned total = 0, cpu = (unsigned)below(NR_CPUS), share;
	int t = 0, img;
	struct pw_rec r;
	uint64_t pick_t, pick_e = below(100);

	for (int k = 0; k < NR_THREADS; k++)
		total += alive(k, i) ? threads[k].weight : 0;
	pick_t = below(total);
	for (t = 0; t < NR_THREADS; t++) {
		if (!alive(t, i))
			continue;
		if (pick_t < threads[t].weight)
			break;
		pick_t -= threads[t].weight;
	}
	for (share = 0; ev < NR_EVENTS - 1; ev++) {
		share += events[ev].share;
		if (pick_e < share)
			break;
	}
	period = events[ev].pmin + below(events[ev].pspan);
	if (fixed_period)
		period = fixed_period;

	img = image_at(t, i);
	if (img < 0 || below(4) == 0) {
		const struct tmpl *k = &ktmpl[pick(NR_KTMPL)];

		chain[nc++] = PERF_CONTEXT_KERNEL;
		for (size_t j = 0; j < k->n; j++) {
			fr[nf++] = k->f[j];
			chain[nc++] = k->f[j].ip;
		}
	}
	if (img >= 0) {
		const struct tmpl *u = &utmpl[img][pick(NR_UTMPL)];

		chain[nc++] = PERF_CONTEXT_USER;
		for (size_t j = 0; j < u->n; j++) {
			fr[nf++] = u->f[j];
			chain[nc++] = u->f[j].ip;
		}
	}

	r = pw_begin(&cpu_buf[cpu], PERF_RECORD_SAMPLE,
	    fr[0].kernel ? PERF_RECORD_MISC_KERNEL : PERF_RECORD_MISC_USER, false);
	pw_u64(&r, event_id(ev, cpu));
	pw_u64(&r, fr[0].ip);
	pw_u32(&r, (uint32_t)threads[t].pid);
	pw_u32(&r, (uint32_t)threads[t].tid);
	pw_u64(&r, time);
	pw_u32(&r, cpu);
	pw_u32(&r, 0);
	pw_u64(&r, period);
	pw_u64(&r, nc);
	for (size_t j = 0; j < nc; j++)
		pw_u64(&r, chain[j]);
	pw_end(&r, true);

	if (!first_time)
		first_time = time;
	last_time = time;
	if (expecting)
		expect_sample(ev, t, comm_at(t, i), fr, nf, period);
}

/* The records of a round, CPU by CPU as perf drains its rings, then FINISHED_ROUND. */
static void
end_round(struct pd_buf *data)
{
	struct pw_rec r;

	for (unsigned c = 0; c < NR_CPUS; c++) {
		if (compress)
			pw_compress(&zs, data, cpu_buf[c].buf, cpu_buf[c].len, ZPIECE,
			    PERF_RECORD_COMPRESSED, 1, false, false);
		else
			buf_add(data, cpu_buf[c].buf, cpu_buf[c].len);
		pd_buf_reset(&cpu_buf[c]);
	}
	r = pw_begin(data, PERF_RECORD_FINISHED_ROUND, 0, false);
	pw_end(&r, false);
}

/* ---------------------------------------------------------------- */
/* Features (FORMAT-NOTES.md 1.5). */

static const int features[] = {
	HEADER_HOSTNAME, HEADER_OSRELEASE, HEADER_VERSION, HEADER_ARCH, HEADER_NRCPUS,
	HEADER_CPUDESC, HEADER_TOTAL_MEM, HEADER_CMDLINE, HEADER_EVENT_DESC, HEADER_SAMPLE_TIME,
	HEADER_COMPRESSED,
};
#define NR_FEATURES		(sizeof(features) / sizeof(features[0]))

/*
 * Whether FEAT is written.  A pipe carries no EVENT_DESC (its names come in
 * EVENT_UPDATE) and no SAMPLE_TIME, as perf's.
 */
static bool
feature_on(int feat)
{
	if (feat == HEADER_COMPRESSED)
		return compress;
	if (pipe_mode && (feat == HEADER_EVENT_DESC || feat == HEADER_SAMPLE_TIME))
		return false;
	return true;
}

static void
feature_body(struct pd_buf *b, int feat)
{
	unsigned char v[8];

	switch (feat) {
	case HEADER_HOSTNAME:
		pw_feat_string(b, "pdsynth", false);
		break;
	case HEADER_OSRELEASE:
		/* No kernel runs this: kallsyms is never trusted for the fake kernel frames. */
		pw_feat_string(b, "0.0.0-pdsynth", false);
		break;
	case HEADER_VERSION:
		pw_feat_string(b, "6.1.0-gen-synth", false);
		break;
	case HEADER_ARCH:
		pw_feat_string(b, "x86_64", false);
		break;
	case HEADER_NRCPUS:
		pw_st32(v, NR_CPUS, false);
		pw_st32(v + 4, NR_CPUS, false);
		buf_add(b, v, 8);
		break;
	case HEADER_CPUDESC:
		pw_feat_string(b, "pdtools synthetic CPU", false);
		break;
	case HEADER_TOTAL_MEM:
		pw_st64(v, 1048576, false);
		buf_add(b, v, 8);
		break;
	case HEADER_CMDLINE:
		pw_st32(v, 1, false);
		buf_add(b, v, 4);
		pw_feat_string(b, "gen-synth", false);
		break;
	case HEADER_EVENT_DESC:
		pw_st32(v, NR_EVENTS, false);
		pw_st32(v + 4, 128, false);
		buf_add(b, v, 8);
		for (size_t ev = 0; ev < NR_EVENTS; ev++) {
			perf_attr(b, ev);
			pw_st32(v, NR_CPUS, false);
			buf_add(b, v, 4);
			pw_feat_string(b, events[ev].name, false);
			for (unsigned c = 0; c < NR_CPUS; c++) {
				pw_st64(v, event_id(ev, c), false);
				buf_add(b, v, 8);
			}
		}
		break;
	case HEADER_SAMPLE_TIME:
		pw_st64(v, first_time, false);
		buf_add(b, v, 8);
		pw_st64(v, last_time, false);
		buf_add(b, v, 8);
		break;
	case HEADER_COMPRESSED: {
		/* version 0, zstd, level 1, ratio, mmap_len */
		uint32_t c[5] = { 0, 1, 1, (uint32_t)(zs.packed ? zs.raw / zs.packed : 0),
		    COMP_MMAP_LEN };

		for (int k = 0; k < 5; k++) {
			pw_st32(v, c[k], false);
			buf_add(b, v, 4);
		}
		break;
	}
	default:
		break;
	}
}

/* ---------------------------------------------------------------- */
/* The two formats. */

/*
 * Pipe: the header records, then the stream.  The COMPRESSED feature comes
 * before any COMPRESSED record, its ratio not known yet.
 */
static void
pipe_head(void)
{
	uint64_t h[2] = { 0x32454c4946524550ull, 16 };
	struct pw_rec r;

	buf_add(&out, h, sizeof(h));
	for (size_t ev = 0; ev < NR_EVENTS; ev++) {
		r = pw_begin(&out, PERF_RECORD_HEADER_ATTR, 0, false);
		perf_attr(&out, ev);
		for (unsigned c = 0; c < NR_CPUS; c++)
			pw_u64(&r, event_id(ev, c));
		pw_end(&r, false);
	}
	for (size_t k = 0; k <= NR_FEATURES; k++) {
		int feat = k < NR_FEATURES ? features[k] : HEADER_LAST_FEATURE;

		if (k < NR_FEATURES && !feature_on(feat))
			continue;
		r = pw_begin(&out, PERF_RECORD_HEADER_FEATURE, 0, false);
		pw_u64(&r, (uint64_t)feat);
		if (k < NR_FEATURES)
			feature_body(&out, feat);
		pw_end(&r, false);	/* unpadded, as perf 6.1 */
	}
	for (size_t ev = 0; ev < NR_EVENTS; ev++) {
		r = pw_begin(&out, PERF_RECORD_EVENT_UPDATE, 0, false);
		pw_u64(&r, 2);		/* PERF_EVENT_UPDATE__NAME */
		pw_u64(&r, event_id(ev, 0));
		pw_cstr(&r, events[ev].name);
		pw_end(&r, true);
	}
}

/* File: header, ids, attrs, data, feature table and bodies (FORMAT-NOTES.md 1.2). */
static void
file_out(const struct pd_buf *data)
{
	uint64_t ids_off = 104, attrs_off = ids_off + 8 * NR_EVENTS * NR_CPUS;
	uint64_t data_off = attrs_off + (128 + 16) * NR_EVENTS, feat_off, body_off;
	uint64_t bits = 0;
	unsigned nfeat = 0;
	unsigned char v[16];
	struct pd_buf bodies = PD_BUF_INIT;

	for (size_t k = 0; k < NR_FEATURES; k++)
		if (feature_on(features[k])) {
			bits |= 1ull << features[k];
			nfeat++;
		}
	pw_st64(v, 0x32454c4946524550ull, false);
	pw_st64(v + 8, 104, false);
	buf_add(&out, v, 16);
	{
		uint64_t hdr[11] = {
			128 + 16, attrs_off, (128 + 16) * NR_EVENTS, data_off, data->len, 0, 0,
			bits, 0, 0, 0,
		};

		for (int k = 0; k < 11; k++) {
			pw_st64(v, hdr[k], false);
			buf_add(&out, v, 8);
		}
	}
	for (size_t ev = 0; ev < NR_EVENTS; ev++)
		for (unsigned c = 0; c < NR_CPUS; c++) {
			pw_st64(v, event_id(ev, c), false);
			buf_add(&out, v, 8);
		}
	for (size_t ev = 0; ev < NR_EVENTS; ev++) {
		perf_attr(&out, ev);
		pw_st64(v, ids_off + 8 * NR_CPUS * ev, false);
		pw_st64(v + 8, 8 * NR_CPUS, false);
		buf_add(&out, v, 16);
	}
	if (out.len != data_off)
		die("internal error: the data section would start at %zu, not %" PRIu64, out.len,
		    data_off);
	buf_add(&out, data->buf, data->len);
	feat_off = out.len;
	body_off = feat_off + 16 * (uint64_t)nfeat;
	for (size_t k = 0; k < NR_FEATURES; k++) {
		size_t at = bodies.len;

		if (!feature_on(features[k]))
			continue;
		feature_body(&bodies, features[k]);
		pw_st64(v, body_off + at, false);
		pw_st64(v + 8, bodies.len - at, false);
		buf_add(&out, v, 16);
	}
	buf_add(&out, bodies.buf, bodies.len);
	pd_buf_release(&bodies);
}

static void
usage(void)
{
	fputs("usage: gen-synth [-o FILE] [--pipe] [-z] [-n N] [--seed S] [--expect FILE] [--period P]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pipe", no_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "expect", required_argument, NULL, 'e' },
		{ "period", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = "perf.data", *expect = NULL;
	uint64_t seed = 1;
	struct pd_buf data = PD_BUF_INIT, *stream;
	int c;

	while ((c = getopt_long(argc, argv, "o:zn:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			path = optarg;
			break;
		case 'p':
			pipe_mode = true;
			break;
		case 'z':
			compress = true;
			break;
		case 'n':
			if (pd_parse_u64(optarg, 1, 10000000, &n_samples) < 0)
				die("-n wants a number of samples from 1 to 10000000, not '%s'", optarg);
			break;
		case 's':
			if (pd_parse_u64(optarg, 0, UINT64_MAX, &seed) < 0)
				die("--seed wants a number, not '%s'", optarg);
			break;
		case 'e':
			expect = optarg;
			break;
		case 'P':
			if (pd_parse_u64(optarg, 1, UINT64_MAX, &fixed_period) < 0)
				die("--period wants a number from 1 to 18446744073709551615, not '%s'", optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (fixed_period && expect)
		die("--period and --expect do not go together: the expected sums would wrap");
	rng_state = seed;
	expecting = expect != NULL;
	fork1_at = n_samples / 10;
	comm1_at = fork1_at + 3;
	fork2_at = n_samples / 5;
	exec_at = n_samples / 2;
	plugin_at = 3 * n_samples / 5;
	exit_at = 4 * n_samples / 5;
	for (unsigned k = 0; k < NR_CPUS; k++)
		cpu_buf[k] = (struct pd_buf)PD_BUF_INIT;
	make_templates();

	/* In pipe mode the stream follows the header records directly. */
	if (pipe_mode)
		pipe_head();
	stream = pipe_mode ? &out : &data;
	synthesize(stream);
	{
		struct pw_rec r = pw_begin(stream, PERF_RECORD_FINISHED_INIT, 0, false);

		pw_end(&r, false);
	}
	for (uint64_t i = 0; i < n_samples; i++) {
		side_band(i);
		sample(i);
		if ((i + 1) % ROUND == 0 || i + 1 == n_samples)
			end_round(stream);
	}
	if (!pipe_mode)
		file_out(&data);
	write_output(path, &out);
	if (expect)
		write_expect(expect);

	for (int kind = 0; kind < NR_KINDS; kind++)
		for (size_t ev = 0; ev < NR_EVENTS; ev++) {
			struct tally *t, *tmp;

			HASH_ITER(hh, tallies[kind][ev], t, tmp) {
				HASH_DEL(tallies[kind][ev], t);
				free(t->key);
				free(t);
			}
		}
	for (int img = 0; img < NR_IMAGES; img++)
		for (size_t k = 0; k < NR_UTMPL; k++)
			free(utmpl[img][k].f);
	for (size_t k = 0; k < NR_KTMPL; k++)
		free(ktmpl[k].f);
	for (unsigned k = 0; k < NR_CPUS; k++)
		pd_buf_release(&cpu_buf[k]);
	pw_zstd_free(&zs);
	pd_arena_release(&names);
	pd_buf_release(&key_buf);
	pd_buf_release(&data);
	pd_buf_release(&out);
	return 0;
}
