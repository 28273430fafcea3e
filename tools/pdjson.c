/*
 * pdjson - JSON for machines from perf.data (file or pipe form) or folded
 * stacks: NDJSON sample streams with decoded tracepoint fields, a summary
 * with metadata, event counts, derived metrics, top functions and health
 * figures, speedscope files, and d3-flame-graph trees.  See pdjson(1),
 * which documents every format and its schema_version.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pd-uthash.h"

#include "common.h"

static const char usage[] =
    "usage: pdjson [-hqvV] [-f samples|summary|speedscope|tree] [-n N] [--event name|all]\n"
    "              [--weight period|samples] [--per thread|process] [--inline | --no-inline]\n"
    "              [--lines]"
    "              [--no-demangle] [--symfs dir] [--kallsyms file] [--progress] [file]";

enum {
	OPT_EVENT = 0x100, OPT_WEIGHT, OPT_PER, OPT_INLINE, OPT_NO_INLINE, OPT_LINES, OPT_NO_DEMANGLE,
	OPT_SYMFS, OPT_KALLSYMS,
};

static const struct tool_opt opts[] = {
	{ "format", required_argument, 'f', "samples|summary|speedscope|tree", "what to write (default: samples)" },
	{ "rows", required_argument, 'n', "N", "summary: the first N functions of each top table (default 10)" },
	{ "event", required_argument, OPT_EVENT, "event", "speedscope, tree: this event, or all (default: the first)" },
	{ "weight", required_argument, OPT_WEIGHT, "period|samples", "speedscope, tree: weigh by period (default) or sample count" },
	{ "per", required_argument, OPT_PER, "thread|process", "speedscope: one profile per thread (default) or process" },
	{ "inline", no_argument, OPT_INLINE, NULL, "samples: add the functions inlined at each frame (DWARF)" },
	{ "no-inline", no_argument, OPT_NO_INLINE, NULL, "no inlined functions, also for frames of --call-graph dwarf chains" },
	{ "lines", no_argument, OPT_LINES, NULL, "samples: add file and line to each frame (DWARF)" },
	{ "no-demangle", no_argument, OPT_NO_DEMANGLE, NULL, "print C++ and Rust names as mangled" },
	{ "symfs", required_argument, OPT_SYMFS, "dir", "look for binaries and debug files under dir" },
	{ "kallsyms", required_argument, OPT_KALLSYMS, "file", "kernel symbols from file, not /proc/kallsyms" },
	TOOL_OPT_PROGRESS,
	{ NULL, 0, 0, NULL, NULL }
};

enum format { F_SAMPLES, F_SUMMARY, F_SPEEDSCOPE, F_TREE };

#define SCHEMA_VERSION 1
#define SPEEDSCOPE_SCHEMA "https://www.speedscope.app/file-format-schema.json"

/* perf_event_attr.sample_type bits the samples format looks at. */
#define SAMPLE_TIME	(1u << 2)
#define SAMPLE_CPU	(1u << 7)

/* ---------------------------------------------------------------- */
/* Aggregated stacks (speedscope, tree): frames, profiles, stacks. */

struct frame {
	char *name;
	char *dso;			/* NULL: none */
	uint32_t id, rank;		/* id: order of first use; rank: sorted order */
	UT_hash_handle hh;		/* key: name "\0" dso */
	char *key;
	size_t keylen;
};

struct addr {
	struct { uint64_t dso, rel, kind; } k;
	uint32_t frame;
	UT_hash_handle hh;
};

struct profile {
	char *key;			/* "pid/tid", "pid" or the folded root frame */
	char *name;
	int64_t pid, tid;		/* -1 for folded input */
	uint32_t id;
	uint64_t total;
	UT_hash_handle hh;
};

struct stack {
	uint32_t *ids;			/* ids[0] = profile, then frame ids, root first */
	size_t n;
	uint64_t weight;
	UT_hash_handle hh;
};

struct agg {
	struct frame *frames, **by_id;
	size_t nr_frames, alloc_by_id;
	struct addr *addrs;		/* per session */
	struct profile *profiles;
	size_t nr_profiles;
	struct stack *stacks;
	uint32_t *scratch;
	size_t alloc_scratch;
	uint64_t total;
};

/* ---------------------------------------------------------------- */

struct evstat {
	uint64_t samples, period;
};

struct run {
	enum format fmt;
	const char *file;
	struct pd_reader *r;
	struct pd_session *s;
	struct pd_json *j;
	struct pd_trace *trace;
	bool trace_tried;
	bool inline_src;
	bool no_inline;			/* --no-inline: no "src" for DWARF-unwound frames */
	/* Event choice of speedscope and tree. */
	const char *event;
	long selected;			/* event index, PD_EVENT_*, or -2 not chosen yet */
	uint64_t other_event;
	bool weight_samples;
	bool per_process;
	/* Summary. */
	struct evstat *ev;
	size_t nr_ev, alloc_ev;
	struct pd_top *top_self, *top_children;
	bool top_begun;
	uint64_t samples, frames, frames_unresolved, samples_unresolved;
	struct agg agg;
	int error;			/* a PD_E_* from inside the callback */
	bool damaged;			/* the reader stopped at damage (pd_reader_errmsg) */
	const char *errmsg;
	char limit_msg[512];		/* a sum past 2^64-1: the file and the sample's offset */
	struct pd_srcframe src[64];
};

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		pd_die("out of memory");
	return p;
}

/* Grow *ARR (of *ALLOC elements of ELEM bytes) to hold N, doubling; dies when out of memory. */
static void
grow(void **arr, size_t n, size_t *alloc, size_t elem)
{
	size_t want = *alloc < 16 ? 16 : *alloc;
	void *p;

	if (n <= *alloc)
		return;
	while (want < n)
		if (__builtin_mul_overflow(want, 2, &want))
			pd_die("out of memory");
	if (__builtin_mul_overflow(want, elem, &elem) || !(p = realloc(*arr, elem)))
		pd_die("out of memory");
	*arr = p;
	*alloc = want;
}
#define GROW(arr, n, alloc) grow((void **)&(arr), (n), &(alloc), sizeof(*(arr)))

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		pd_die("out of memory");
	return p;
}

static void
choose_event(struct run *ru)
{
	ru->selected = pd_reader_pick_event(ru->r, ru->event);
}

/* "[libc.so.6]" for a frame without a symbol, as pdcollapse names it; "[unknown]" without a DSO. */
static char *
unknown_name(const struct pd_frame *fr)
{
	const char *n, *sl;
	char *out;

	if (!fr->dso)
		return xstrdup("[unknown]");
	n = pd_dso_name(fr->dso);
	sl = strrchr(n, '/');
	out = xmalloc(strlen(sl ? sl + 1 : n) + 3);
	sprintf(out, "[%s]", sl ? sl + 1 : n);
	return out;
}

static const char *
kind_name(uint8_t kind)
{
	switch (kind) {
	case PD_FRAME_KERNEL: return "kernel";
	case PD_FRAME_HV: return "hypervisor";
	case PD_FRAME_GUEST: return "guest";
	}
	return "user";
}

/* ---------------------------------------------------------------- */
/* samples: one line per sample. */

static void
write_frame(struct run *ru, const struct pd_sample *s, size_t i)
{
	const struct pd_frame *fr = &s->frames[i];
	struct pd_json *j = ru->j;
	uint64_t off = 0;
	const char *sym = fr->dso ? pd_dso_symbolize(ru->s, fr->dso, fr->rel, &off) : NULL;

	pd_json_begin_object(j);
	pd_json_key(j, "symbol");
	pd_json_str(j, sym);
	pd_json_key(j, "offset");
	if (sym)
		pd_json_hex(j, off);
	else
		pd_json_null(j);
	pd_json_key(j, "dso");
	pd_json_str(j, fr->dso ? pd_dso_name(fr->dso) : NULL);
	pd_json_key(j, "address");
	pd_json_hex(j, fr->ip);
	pd_json_key(j, "kind");
	pd_json_str(j, kind_name(fr->kind));
	if (ru->inline_src || (fr->unwound && !ru->no_inline && fr->kind == PD_FRAME_USER)) {
		/* Below the IP, frames are return addresses (see stack.c), but for user frames under kernel ones. */
		int ret = i > 0 && s->frames[i - 1].kind != PD_FRAME_KERNEL;
		size_t n = pd_session_frame_src(ru->s, fr, ret, ru->src, sizeof(ru->src) / sizeof(ru->src[0]));

		pd_json_key(j, "src");
		pd_json_begin_array(j);
		for (size_t k = 0; k < n; k++) {
			pd_json_begin_object(j);
			pd_json_key(j, "function");
			pd_json_str(j, ru->src[k].func);
			pd_json_key(j, "file");
			pd_json_str(j, ru->src[k].file);
			pd_json_key(j, "line");
			if (ru->src[k].file)
				pd_json_u64(j, ru->src[k].line);
			else
				pd_json_null(j);
			pd_json_end_object(j);
		}
		pd_json_end_array(j);
	}
	pd_json_end_object(j);
}

static void
write_sample(struct run *ru, const struct pd_sample *s)
{
	const struct pd_event_info *e = pd_reader_event(ru->r, s->event);
	struct pd_json *j = ru->j;

	pd_json_begin_object(j);
	pd_json_key(j, "time");
	if (e && (e->sample_type & SAMPLE_TIME))
		pd_json_u64(j, s->time);
	else
		pd_json_null(j);
	pd_json_key(j, "pid");
	pd_json_i64(j, (int32_t)s->pid);
	pd_json_key(j, "tid");
	pd_json_i64(j, (int32_t)s->tid);
	pd_json_key(j, "comm");
	pd_json_str(j, s->comm);
	pd_json_key(j, "cpu");
	if (e && (e->sample_type & SAMPLE_CPU))
		pd_json_u64(j, s->cpu);
	else
		pd_json_null(j);
	pd_json_key(j, "event");
	pd_json_str(j, e ? e->name : NULL);
	pd_json_key(j, "period");
	pd_json_u64(j, s->period);
	pd_json_key(j, "frames");
	pd_json_begin_array(j);
	for (size_t i = 0; i < s->nr_frames; i++)
		write_frame(ru, s, i);
	pd_json_end_array(j);
	if (s->raw) {
		const char *print = NULL;

		if (!ru->trace_tried) {
			size_t len;
			const void *blob = pd_reader_tracing_data(ru->r, &len);

			ru->trace_tried = true;
			if (blob) {
				ru->trace = pd_trace_new(blob, len);
				if (!ru->trace)
					pd_die("out of memory");
				if (pd_trace_errmsg(ru->trace)[0])
					pd_warn("'%s': %s; tracepoint fields are not decoded",
					    pd_reader_name(ru->r), pd_trace_errmsg(ru->trace));
			} else {
				pd_warn("'%s': no tracing data; tracepoint fields are not decoded",
				    pd_reader_name(ru->r));
			}
		}
		pd_json_key(j, "fields");
		if (!ru->trace || !e || e->type != 2 ||
		    pd_trace_write_fields(ru->trace, e->config, s->raw, s->raw_size, s->cpu, j, &print) != PD_OK)
			pd_json_null(j);
		pd_json_key(j, "trace");
		pd_json_str(j, print);
	}
	pd_json_end_object(j);
	pd_json_newline(j);
}

/* ---------------------------------------------------------------- */
/* Aggregation for speedscope and tree. */

static uint32_t
frame_id(struct agg *a, const char *name, const char *dso)
{
	size_t nl = strlen(name), dl = dso ? strlen(dso) + 1 : 0, kl = nl + 1 + dl;
	char *key = xmalloc(kl);
	struct frame *f;

	memcpy(key, name, nl + 1);
	if (dso)
		memcpy(key + nl + 1, dso, dl);
	HASH_FIND(hh, a->frames, key, kl, f);
	if (f) {
		free(key);
		return f->id;
	}
	f = xmalloc(sizeof(*f));
	f->key = key;
	f->keylen = kl;
	f->name = key;
	f->dso = dso ? key + nl + 1 : NULL;
	f->id = (uint32_t)a->nr_frames;
	GROW(a->by_id, a->nr_frames + 1, a->alloc_by_id);
	a->by_id[a->nr_frames++] = f;
	HASH_ADD_KEYPTR(hh, a->frames, f->key, f->keylen, f);
	return f->id;
}

/* The frame id of a resolved address, named once per distinct address of the session. */
static uint32_t
addr_frame(struct run *ru, const struct pd_frame *fr)
{
	struct agg *a = &ru->agg;
	struct addr key, *e;
	uint64_t off;
	const char *sym;

	memset(&key, 0, sizeof(key));
	key.k.dso = (uint64_t)(uintptr_t)fr->dso;
	key.k.rel = fr->dso ? fr->rel : fr->ip;
	key.k.kind = fr->kind;
	HASH_FIND(hh, a->addrs, &key.k, sizeof(key.k), e);
	if (e)
		return e->frame;
	sym = fr->dso ? pd_dso_symbolize(ru->s, fr->dso, fr->rel, &off) : NULL;
	e = xmalloc(sizeof(*e));
	e->k = key.k;
	if (sym) {
		e->frame = frame_id(a, sym, pd_dso_name(fr->dso));
	} else {
		char *name = unknown_name(fr);

		e->frame = frame_id(a, name, fr->dso ? pd_dso_name(fr->dso) : NULL);
		free(name);
	}
	HASH_ADD(hh, a->addrs, k, sizeof(e->k), e);
	return e->frame;
}

static uint32_t
profile_id(struct agg *a, const char *key, const char *name, int64_t pid, int64_t tid)
{
	struct profile *p;

	HASH_FIND_STR(a->profiles, key, p);
	if (p)
		return p->id;
	p = xmalloc(sizeof(*p));
	p->key = xstrdup(key);
	p->name = xstrdup(name);
	p->pid = pid;
	p->tid = tid;
	p->total = 0;
	p->id = (uint32_t)a->nr_profiles++;
	HASH_ADD_KEYPTR(hh, a->profiles, p->key, strlen(p->key), p);
	return p->id;
}

/*
 * Add the stack in a->scratch[0, n) (profile id first) with weight W; -1
 * when the total would pass 2^64-1.  Every stack, profile and tree node
 * weighs a part of the total, so checking it checks them all.
 */
static int
add_stack(struct agg *a, size_t n, uint64_t w)
{
	struct stack *st;

	if (pd_add_weight(&a->total, w) < 0)
		return -1;
	HASH_FIND(hh, a->stacks, a->scratch, n * sizeof(uint32_t), st);
	if (!st) {
		st = xmalloc(sizeof(*st));
		st->ids = xmalloc(n * sizeof(uint32_t));
		memcpy(st->ids, a->scratch, n * sizeof(uint32_t));
		st->n = n;
		st->weight = 0;
		HASH_ADD_KEYPTR(hh, a->stacks, st->ids, n * sizeof(uint32_t), st);
	}
	st->weight += w;
	return 0;
}

static void
scratch_grow(struct agg *a, size_t n)
{
	GROW(a->scratch, n, a->alloc_scratch);
}

static int
agg_sample(struct run *ru, const struct pd_sample *s)
{
	struct agg *a = &ru->agg;
	uint64_t w = ru->weight_samples ? 1 : s->period;
	size_t n = 0;
	const char *comm = s->comm ? s->comm : "[unknown]";

	scratch_grow(a, s->nr_frames + 2);
	if (ru->fmt == F_TREE) {
		a->scratch[n++] = 0;
		a->scratch[n++] = frame_id(a, comm, NULL);
	} else {
		char key[48], name[128];

		/* Comms are at most 16 bytes (TASK_COMM_LEN); a longer one is cut, the same way each time. */
		if (ru->per_process) {
			snprintf(key, sizeof(key), "%d", (int)s->pid);
			snprintf(name, sizeof(name), "%s (%d)", comm, (int)s->pid);
		} else {
			snprintf(key, sizeof(key), "%d/%d", (int)s->pid, (int)s->tid);
			snprintf(name, sizeof(name), "%s (%d/%d)", comm, (int)s->pid, (int)s->tid);
		}
		a->scratch[n++] = profile_id(a, key, name, (int32_t)s->pid,
		    ru->per_process ? -1 : (int32_t)s->tid);
	}
	for (size_t i = s->nr_frames; i-- > 0;)
		a->scratch[n++] = addr_frame(ru, &s->frames[i]);
	return add_stack(a, n, w);
}

/* After a session: the address cache names its DSOs, which die with it. */
static void
agg_forget_addrs(struct agg *a)
{
	struct addr *e, *tmp;

	HASH_ITER(hh, a->addrs, e, tmp) {
		HASH_DEL(a->addrs, e);
		free(e);
	}
}

static void
agg_free(struct agg *a)
{
	struct frame *f, *ft;
	struct profile *p, *pt;
	struct stack *st, *stt;

	agg_forget_addrs(a);
	HASH_ITER(hh, a->frames, f, ft) {
		HASH_DEL(a->frames, f);
		free(f->key);
		free(f);
	}
	HASH_ITER(hh, a->profiles, p, pt) {
		HASH_DEL(a->profiles, p);
		free(p->key);
		free(p->name);
		free(p);
	}
	HASH_ITER(hh, a->stacks, st, stt) {
		HASH_DEL(a->stacks, st);
		free(st->ids);
		free(st);
	}
	free(a->by_id);
	free(a->scratch);
}

static int
frame_cmp(const void *x, const void *y)
{
	const struct frame *a = *(struct frame *const *)x, *b = *(struct frame *const *)y;
	int c = strcmp(a->name, b->name);

	if (c)
		return c;
	if (!a->dso || !b->dso)
		return !!a->dso - !!b->dso;
	return strcmp(a->dso, b->dso);
}

/* Rank the frames by name, then DSO: the output order, whatever the input order. */
static void
rank_frames(struct agg *a)
{
	struct frame **v = xmalloc(a->nr_frames * sizeof(*v));

	/* No samples, no frames: by_id is NULL, which memcpy must not get even for 0 bytes. */
	if (a->nr_frames)
		memcpy(v, a->by_id, a->nr_frames * sizeof(*v));
	qsort(v, a->nr_frames, sizeof(*v), frame_cmp);
	for (size_t i = 0; i < a->nr_frames; i++)
		v[i]->rank = (uint32_t)i;
	free(v);
}

/* ---------------------------------------------------------------- */
/* speedscope */

static struct agg *sort_agg;	/* qsort has no context argument */

static int
stack_cmp(const void *x, const void *y)
{
	const struct stack *a = *(struct stack *const *)x, *b = *(struct stack *const *)y;
	size_t n = a->n < b->n ? a->n : b->n;

	/* Profile order first (ids[0] is the profile's rank by then). */
	if (a->ids[0] != b->ids[0])
		return a->ids[0] < b->ids[0] ? -1 : 1;
	for (size_t i = 1; i < n; i++) {
		uint32_t ra = sort_agg->by_id[a->ids[i]]->rank, rb = sort_agg->by_id[b->ids[i]]->rank;

		if (ra != rb)
			return ra < rb ? -1 : 1;
	}
	return a->n < b->n ? -1 : a->n > b->n;
}

static int
profile_cmp(const void *x, const void *y)
{
	const struct profile *a = *(struct profile *const *)x, *b = *(struct profile *const *)y;

	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	if (a->tid != b->tid)
		return a->tid < b->tid ? -1 : 1;
	return strcmp(a->key, b->key);
}

static void
write_speedscope(struct run *ru, const char *unit, const char *title)
{
	struct agg *a = &ru->agg;
	struct pd_json *j = ru->j;
	size_t np = a->nr_profiles, ns = HASH_COUNT(a->stacks), k = 0;
	struct profile **pv = xmalloc(np * sizeof(*pv)), *p, *pt;
	struct stack **sv = xmalloc(ns * sizeof(*sv)), *st, *stt;
	uint32_t *rank_of = xmalloc(np * sizeof(*rank_of));
	struct frame **fv = xmalloc(a->nr_frames * sizeof(*fv));

	rank_frames(a);
	HASH_ITER(hh, a->profiles, p, pt)
		pv[k++] = p;
	qsort(pv, np, sizeof(*pv), profile_cmp);
	for (size_t i = 0; i < np; i++)
		rank_of[pv[i]->id] = (uint32_t)i;
	k = 0;
	HASH_ITER(hh, a->stacks, st, stt) {
		st->ids[0] = rank_of[st->ids[0]];
		pv[st->ids[0]]->total += st->weight;
		sv[k++] = st;
	}
	sort_agg = a;
	qsort(sv, ns, sizeof(*sv), stack_cmp);
	for (size_t i = 0; i < a->nr_frames; i++)
		fv[a->by_id[i]->rank] = a->by_id[i];

	pd_json_begin_object(j);
	pd_json_key(j, "$schema");
	pd_json_str(j, SPEEDSCOPE_SCHEMA);
	pd_json_key(j, "exporter");
	pd_json_str(j, "pdjson " PD_VERSION);
	pd_json_key(j, "name");
	pd_json_str(j, title);
	pd_json_key(j, "activeProfileIndex");
	pd_json_u64(j, 0);
	pd_json_key(j, "shared");
	pd_json_begin_object(j);
	pd_json_key(j, "frames");
	pd_json_begin_array(j);
	for (size_t i = 0; i < a->nr_frames; i++) {
		pd_json_begin_object(j);
		pd_json_key(j, "name");
		pd_json_str(j, fv[i]->name);
		if (fv[i]->dso) {
			pd_json_key(j, "file");
			pd_json_str(j, fv[i]->dso);
		}
		pd_json_end_object(j);
	}
	pd_json_end_array(j);
	pd_json_end_object(j);
	pd_json_key(j, "profiles");
	pd_json_begin_array(j);
	k = 0;
	for (size_t i = 0; i < np; i++) {
		size_t first = k;

		pd_json_begin_object(j);
		pd_json_key(j, "type");
		pd_json_str(j, "sampled");
		pd_json_key(j, "name");
		pd_json_str(j, pv[i]->name);
		pd_json_key(j, "unit");
		pd_json_str(j, unit);
		pd_json_key(j, "startValue");
		pd_json_u64(j, 0);
		pd_json_key(j, "endValue");
		pd_json_u64(j, pv[i]->total);
		pd_json_key(j, "samples");
		pd_json_begin_array(j);
		for (; k < ns && sv[k]->ids[0] == i; k++) {
			pd_json_begin_array(j);
			for (size_t f = 1; f < sv[k]->n; f++)
				pd_json_u64(j, a->by_id[sv[k]->ids[f]]->rank);
			pd_json_end_array(j);
		}
		pd_json_end_array(j);
		pd_json_key(j, "weights");
		pd_json_begin_array(j);
		for (size_t m = first; m < k; m++)
			pd_json_u64(j, sv[m]->weight);
		pd_json_end_array(j);
		pd_json_end_object(j);
	}
	pd_json_end_array(j);
	pd_json_end_object(j);
	pd_json_newline(j);
	free(pv);
	free(sv);
	free(rank_of);
	free(fv);
}

/* ---------------------------------------------------------------- */
/* tree: d3-flame-graph's {name, value, children}. */

struct node {
	uint32_t frame;			/* UINT32_MAX: the root */
	uint64_t value;
	size_t parent;			/* the root: 0 */
	size_t first, nr;		/* children: kids[first, first + nr) */
};

struct tree {
	struct node *nodes;
	size_t nr, alloc;
	size_t *kids;
	struct agg *a;
	/* Open addressing over (parent, frame): node + 1, 0 empty; at most half full. */
	size_t *slot, cap;
};

static size_t
edge_hash(size_t parent, uint32_t frame)
{
	uint64_t h = ((uint64_t)parent * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)frame * 0xc2b2ae3d27d4eb4full);

	return (size_t)(h ^ (h >> 29));
}

/* The child of PARENT for FRAME, made when missing. */
static size_t
tree_child(struct tree *t, size_t parent, uint32_t frame)
{
	size_t mask, j;

	if (t->nr * 2 >= t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		size_t *slot = calloc(cap, sizeof(*slot));

		if (!slot)
			pd_die("out of memory");
		for (size_t i = 1; i < t->nr; i++) {
			for (j = edge_hash(t->nodes[i].parent, t->nodes[i].frame) & (cap - 1); slot[j];
			    j = (j + 1) & (cap - 1))
				;
			slot[j] = i + 1;
		}
		free(t->slot);
		t->slot = slot;
		t->cap = cap;
	}
	mask = t->cap - 1;
	for (j = edge_hash(parent, frame) & mask; t->slot[j]; j = (j + 1) & mask) {
		const struct node *nd = &t->nodes[t->slot[j] - 1];

		if (nd->parent == parent && nd->frame == frame)
			return t->slot[j] - 1;
	}
	GROW(t->nodes, t->nr + 1, t->alloc);
	t->nodes[t->nr] = (struct node){ frame, 0, parent, 0, 0 };
	t->nodes[parent].nr++;
	t->slot[j] = ++t->nr;
	return t->nr - 1;
}

static struct tree *sort_tree;

static int
kid_cmp(const void *x, const void *y)
{
	const struct node *a = &sort_tree->nodes[*(const size_t *)x];
	const struct node *b = &sort_tree->nodes[*(const size_t *)y];
	uint32_t ra = sort_tree->a->by_id[a->frame]->rank, rb = sort_tree->a->by_id[b->frame]->rank;

	return ra < rb ? -1 : ra > rb;
}

/* Open node N's object up to its children array. */
static void
open_node(struct tree *t, struct pd_json *j, size_t n)
{
	const struct node *nd = &t->nodes[n];

	pd_json_begin_object(j);
	pd_json_key(j, "name");
	pd_json_str(j, nd->frame == UINT32_MAX ? "root" : t->a->by_id[nd->frame]->name);
	pd_json_key(j, "value");
	pd_json_u64(j, nd->value);
	if (nd->frame != UINT32_MAX && t->a->by_id[nd->frame]->dso) {
		pd_json_key(j, "dso");
		pd_json_str(j, t->a->by_id[nd->frame]->dso);
	}
	pd_json_key(j, "children");
	pd_json_begin_array(j);
}

/*
 * The tree in preorder, without recursion: a stack on the heap holds, per
 * open node, the index of its next child, so any depth of input (one
 * folded line of a million frames) takes memory, not C stack.
 */
static void
write_nodes(struct tree *t, struct pd_json *j)
{
	struct { size_t node, next; } *stk = NULL;
	size_t sp = 0, alloc = 0;

	GROW(stk, 1, alloc);
	open_node(t, j, 0);
	stk[sp].node = 0;
	stk[sp++].next = 0;
	while (sp) {
		const struct node *nd = &t->nodes[stk[sp - 1].node];

		if (stk[sp - 1].next < nd->nr) {
			size_t kid = t->kids[nd->first + stk[sp - 1].next++];

			GROW(stk, sp + 1, alloc);
			open_node(t, j, kid);
			stk[sp].node = kid;
			stk[sp++].next = 0;
		} else {
			pd_json_end_array(j);
			pd_json_end_object(j);
			sp--;
		}
	}
	free(stk);
}

static void
write_tree(struct run *ru)
{
	struct agg *a = &ru->agg;
	struct tree t = { NULL, 0, 0, NULL, a, NULL, 0 };
	struct stack *st, *stt;
	size_t *fill;

	rank_frames(a);
	GROW(t.nodes, 1, t.alloc);
	t.nodes[t.nr++] = (struct node){ UINT32_MAX, 0, 0, 0, 0 };
	HASH_ITER(hh, a->stacks, st, stt) {
		size_t cur = 0;

		t.nodes[0].value += st->weight;
		for (size_t i = 1; i < st->n; i++) {
			cur = tree_child(&t, cur, st->ids[i]);
			t.nodes[cur].value += st->weight;
		}
	}
	free(t.slot);
	/* Children lists in one array, each sorted by name. */
	t.kids = xmalloc(t.nr * sizeof(*t.kids));
	fill = xmalloc(t.nr * sizeof(*fill));
	{
		size_t at = 0;

		for (size_t i = 0; i < t.nr; i++) {
			t.nodes[i].first = at;
			fill[i] = at;
			at += t.nodes[i].nr;
		}
	}
	for (size_t i = 1; i < t.nr; i++)
		t.kids[fill[t.nodes[i].parent]++] = i;
	sort_tree = &t;
	for (size_t i = 0; i < t.nr; i++)
		qsort(t.kids + t.nodes[i].first, t.nodes[i].nr, sizeof(*t.kids), kid_cmp);
	write_nodes(&t, ru->j);
	pd_json_newline(ru->j);
	free(fill);
	free(t.kids);
	free(t.nodes);
}

/* ---------------------------------------------------------------- */
/* perf.data input. */

/* The sum S's weight would take past 2^64-1: the error, at S's record. */
static int
weight_limit(struct run *ru, const struct pd_sample *s)
{
	snprintf(ru->limit_msg, sizeof(ru->limit_msg), "'%s': %s at offset 0x%llx",
	    pd_reader_name(ru->r), PD_WEIGHT_OVERFLOW, (unsigned long long)s->offset);
	ru->error = PD_E_LIMIT;
	ru->errmsg = ru->limit_msg;
	return -1;
}

static int
on_sample(void *ctx, const struct pd_sample *s)
{
	struct run *ru = ctx;
	int rc;

	ru->samples++;
	switch (ru->fmt) {
	case F_SAMPLES:
		write_sample(ru, s);
		break;
	case F_SUMMARY:
		if (s->event >= ru->nr_ev) {
			/* Events of pipe mode arrive as records: grow, new ones at zero. */
			GROW(ru->ev, s->event + 1, ru->alloc_ev);
			memset(ru->ev + ru->nr_ev, 0, (s->event + 1 - ru->nr_ev) * sizeof(*ru->ev));
			ru->nr_ev = s->event + 1;
		}
		if (pd_add_weight(&ru->ev[s->event].period, s->period) < 0)
			return weight_limit(ru, s);
		ru->ev[s->event].samples++;
		{
			bool bad = false;

			for (size_t i = 0; i < s->nr_frames; i++) {
				uint64_t off;

				ru->frames++;
				if (!s->frames[i].dso ||
				    !pd_dso_symbolize(ru->s, s->frames[i].dso, s->frames[i].rel, &off)) {
					ru->frames_unresolved++;
					bad = true;
				}
			}
			ru->samples_unresolved += bad;
		}
		if (!ru->top_begun) {
			ru->top_begun = true;
			if ((rc = pd_top_begin(ru->top_self, ru->r)) < 0 ||
			    (rc = pd_top_begin(ru->top_children, ru->r)) < 0) {
				ru->error = rc;
				return -1;
			}
		}
		if ((rc = pd_top_add(ru->top_self, ru->s, s)) < 0) {
			ru->error = rc;
			ru->errmsg = pd_top_errmsg(ru->top_self);
			return -1;
		}
		if ((rc = pd_top_add(ru->top_children, ru->s, s)) < 0) {
			ru->error = rc;
			ru->errmsg = pd_top_errmsg(ru->top_children);
			return -1;
		}
		break;
	case F_SPEEDSCOPE:
	case F_TREE:
		if (ru->selected == -2)
			choose_event(ru);
		if (ru->selected != PD_EVENT_ALL && (long)s->event != ru->selected) {
			ru->other_event++;
			break;
		}
		if (agg_sample(ru, s) < 0)
			return weight_limit(ru, s);
		break;
	}
	return 0;
}

/* A pd_top document (pdtop --format=json) as text, for the summary. */
static char *
top_json(struct pd_top *t, uint64_t rows, size_t *len)
{
	struct pd_top_print pr = { PD_TOP_JSON, rows, 0 };
	char *buf = NULL;
	FILE *m = open_memstream(&buf, len);

	if (!m)
		pd_die("out of memory");
	if (pd_top_write(t, m, &pr) < 0 || fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	/* Drop the final newline: the value sits inside our object. */
	while (*len && (buf[*len - 1] == '\n' || buf[*len - 1] == ' '))
		buf[--*len] = '\0';
	return buf;
}

static void
write_top(struct run *ru, uint64_t rows)
{
	struct pd_json *j = ru->j;
	struct pd_top *tabs[2] = { ru->top_self, ru->top_children };
	const char *names[2] = { "self", "children" };

	pd_json_key(j, "top");
	pd_json_begin_object(j);
	for (int i = 0; i < 2; i++) {
		size_t len = 0;
		char *txt = top_json(tabs[i], rows, &len);

		pd_json_key(j, names[i]);
		if (txt && len)
			pd_json_raw(j, txt, len);
		else
			pd_json_null(j);
		free(txt);
	}
	pd_json_end_object(j);
}

/* An event's name without its modifiers: "cycles:u" is "cycles". */
static bool
base_is(const char *name, const char *want)
{
	size_t n = strlen(want);

	return !strncmp(name, want, n) && (name[n] == '\0' || name[n] == ':');
}

struct evtotal {
	const char *name;
	uint64_t samples, period;
	bool has_period;
};

static void
write_derived(struct pd_json *j, const struct evtotal *ev, size_t n)
{
	static const struct { const char *metric, *num, *den; } m[] = {
		{ "ipc", "instructions", "cycles" },
		{ "cache_miss_rate", "cache-misses", "cache-references" },
		{ "branch_miss_rate", "branch-misses", "branches" },
	};

	pd_json_key(j, "derived_metrics");
	pd_json_begin_object(j);
	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		const struct evtotal *num = NULL, *den = NULL;

		for (size_t i = 0; i < n; i++) {
			if (!ev[i].has_period)
				continue;
			if (!num && base_is(ev[i].name, m[k].num))
				num = &ev[i];
			if (!den && base_is(ev[i].name, m[k].den))
				den = &ev[i];
		}
		if (!num || !den || den->period == 0)
			continue;
		pd_json_key(j, m[k].metric);
		pd_json_begin_object(j);
		pd_json_key(j, "value");
		pd_json_ratio(j, num->period, den->period, 6);
		pd_json_key(j, "numerator");
		pd_json_str(j, num->name);
		pd_json_key(j, "numerator_count");
		pd_json_u64(j, num->period);
		pd_json_key(j, "denominator");
		pd_json_str(j, den->name);
		pd_json_key(j, "denominator_count");
		pd_json_u64(j, den->period);
		pd_json_end_object(j);
	}
	pd_json_end_object(j);
}

static void
write_events(struct pd_json *j, const struct evtotal *ev, size_t n, const uint64_t *lost)
{
	pd_json_key(j, "events");
	pd_json_begin_array(j);
	for (size_t i = 0; i < n; i++) {
		pd_json_begin_object(j);
		pd_json_key(j, "name");
		pd_json_str(j, ev[i].name);
		pd_json_key(j, "samples");
		pd_json_u64(j, ev[i].samples);
		pd_json_key(j, "period");
		if (ev[i].has_period)
			pd_json_u64(j, ev[i].period);
		else
			pd_json_null(j);
		pd_json_key(j, "lost");
		if (lost)
			pd_json_u64(j, *lost);
		else
			pd_json_null(j);
		pd_json_end_object(j);
	}
	pd_json_end_array(j);
}

static void
meta_str(struct pd_json *j, const char *key, const char *v)
{
	pd_json_key(j, key);
	pd_json_str(j, v);
}

static void
write_summary_perf(struct run *ru, uint64_t rows)
{
	struct pd_json *j = ru->j;
	struct pd_reader *r = ru->r;
	const struct pd_stats *st = pd_reader_stats(r), *ss = pd_session_stats(ru->s);
	size_t n = pd_reader_nr_events(r), k = 0, real = 0;
	struct evtotal *ev = xmalloc(n * sizeof(*ev));
	uint32_t avail, online;
	uint64_t lost = st->lost + st->lost_samples;

	for (size_t i = 0; i < n; i++) {
		const struct pd_event_info *e = pd_reader_event(r, i);
		struct evstat z = { 0, 0 }, *es = i < ru->nr_ev ? &ru->ev[i] : &z;

		if (e->is_dummy && !es->samples)
			continue;
		ev[k++] = (struct evtotal){ e->name, es->samples, es->period, true };
		real++;
	}
	pd_json_begin_object(j);
	pd_json_key(j, "schema");
	pd_json_str(j, "pdjson-summary");
	pd_json_key(j, "schema_version");
	pd_json_u64(j, SCHEMA_VERSION);
	pd_json_key(j, "input");
	pd_json_begin_object(j);
	meta_str(j, "file", pd_reader_name(r));
	meta_str(j, "format", pd_reader_is_pipe(r) ? "perf.data-pipe" : "perf.data");
	pd_json_key(j, "byte_swapped");
	pd_json_bool(j, pd_reader_is_swapped(r));
	pd_json_end_object(j);
	pd_json_key(j, "metadata");
	pd_json_begin_object(j);
	meta_str(j, "hostname", pd_reader_feature(r, PD_FEAT_HOSTNAME));
	meta_str(j, "osrelease", pd_reader_feature(r, PD_FEAT_OSRELEASE));
	meta_str(j, "arch", pd_reader_feature(r, PD_FEAT_ARCH));
	pd_json_key(j, "nrcpus_avail");
	if (pd_reader_nr_cpus(r, &avail, &online) == PD_OK)
		pd_json_u64(j, avail);
	else
		pd_json_null(j);
	pd_json_key(j, "nrcpus_online");
	if (pd_reader_nr_cpus(r, &avail, &online) == PD_OK)
		pd_json_u64(j, online);
	else
		pd_json_null(j);
	meta_str(j, "cpudesc", pd_reader_feature(r, PD_FEAT_CPUDESC));
	meta_str(j, "cmdline", pd_reader_feature(r, PD_FEAT_CMDLINE));
	meta_str(j, "perf_version", pd_reader_feature(r, PD_FEAT_VERSION));
	pd_json_end_object(j);
	/* Lost counts are per input, not per event: given per event only when there is one. */
	write_events(j, ev, k, real == 1 ? &lost : NULL);
	write_derived(j, ev, k);
	write_top(ru, rows);
	pd_json_key(j, "health");
	pd_json_begin_object(j);
	pd_json_key(j, "samples");
	pd_json_u64(j, st->samples);
	pd_json_key(j, "samples_with_unresolved_frames");
	pd_json_u64(j, ru->samples_unresolved);
	pd_json_key(j, "frames");
	pd_json_u64(j, ru->frames);
	pd_json_key(j, "unresolved_frames");
	pd_json_u64(j, ru->frames_unresolved);
	pd_json_key(j, "samples_undecodable");
	pd_json_u64(j, st->samples_bad);
	pd_json_key(j, "samples_unknown_event");
	pd_json_u64(j, st->samples_unknown_id);
	pd_json_key(j, "lost_events");
	pd_json_u64(j, st->lost);
	pd_json_key(j, "lost_records");
	pd_json_u64(j, st->lost_records);
	pd_json_key(j, "lost_samples");
	pd_json_u64(j, st->lost_samples);
	pd_json_key(j, "out_of_order");
	pd_json_u64(j, st->out_of_order);
	pd_json_key(j, "callchains_dropped");
	pd_json_u64(j, st->callchain_dropped);
	pd_json_key(j, "unknown_records");
	pd_json_u64(j, st->unknown_records);
	pd_json_key(j, "truncated_bytes");
	pd_json_u64(j, st->tail_bytes);
	pd_json_key(j, "salvaged");
	pd_json_bool(j, st->salvaged != 0);
	/* The error that stopped the reader, else the warning about damaged metadata. */
	pd_json_key(j, "damage");
	if (ru->damaged)
		pd_json_str(j, pd_reader_errmsg(r));
	else if (pd_reader_warning(r)[0])
		pd_json_str(j, pd_reader_warning(r));
	else
		pd_json_null(j);
	pd_json_key(j, "dwarf_unwinding");
	pd_json_begin_object(j);
	pd_json_key(j, "samples");
	pd_json_u64(j, ss->unwind_samples);
	pd_json_key(j, "complete");
	pd_json_u64(j, ss->unwind_samples - ss->unwind_truncated - ss->unwind_none);
	pd_json_key(j, "truncated");
	pd_json_u64(j, ss->unwind_truncated);
	pd_json_key(j, "none");
	pd_json_u64(j, ss->unwind_none);
	pd_json_end_object(j);
	pd_json_end_object(j);
	pd_json_end_object(j);
	pd_json_newline(j);
	free(ev);
}

static const char *
speedscope_unit(struct run *ru)
{
	size_t n = pd_reader_nr_events(ru->r);
	bool clock = true, any = false;

	if (ru->weight_samples)
		return "none";
	for (size_t i = 0; i < n; i++) {
		const char *name = pd_reader_event(ru->r, i)->name;

		if (ru->selected != PD_EVENT_ALL && (long)i != ru->selected)
			continue;
		if (pd_reader_event(ru->r, i)->is_dummy)
			continue;
		any = true;
		if (!base_is(name, "cpu-clock") && !base_is(name, "task-clock"))
			clock = false;
	}
	return any && clock ? "nanoseconds" : "none";
}

static int
run_perf(struct run *ru, const struct pd_session_opts *so, uint64_t rows)
{
	int rc, status = PD_EXIT_OK;
	const struct pd_stats *st;

	ru->r = pd_reader_new();
	ru->s = pd_session_new(so);
	if (!ru->r || !ru->s)
		pd_die("out of memory");
	if (pd_reader_open(ru->r, ru->file, 0) < 0) {
		pd_error("%s", pd_reader_errmsg(ru->r));
		return PD_EXIT_TROUBLE;
	}
	rc = pd_session_run(ru->s, ru->r, on_sample, ru);
	if (ru->error) {
		pd_error("%s", ru->errmsg ? ru->errmsg : pd_strerror(ru->error));
		return PD_EXIT_TROUBLE;
	}
	if (ru->fmt == F_SUMMARY &&
	    (pd_top_finish(ru->top_self, ru->s, ru->r) < 0 || pd_top_finish(ru->top_children, ru->s, ru->r) < 0)) {
		pd_error("%s", pd_top_errmsg(ru->top_self)[0] ? pd_top_errmsg(ru->top_self) :
		    pd_top_errmsg(ru->top_children));
		return PD_EXIT_TROUBLE;
	}
	/*
	 * A damaged input (a cut, a corrupt record): the document is written
	 * from the records before the damage (the summary names it in
	 * health.damage), then one line, the error, and exit 2; the warnings
	 * would only repeat it.
	 */
	st = pd_reader_stats(ru->r);
	if (rc < 0 && rc != PD_E_CALLBACK) {
		ru->damaged = true;
		status = PD_EXIT_TROUBLE;
	} else {
		/* At most one warning line (damaged metadata, lost events, samples not read). */
		tool_reader_report(ru->r, rc, NULL);
	}
	switch (ru->fmt) {
	case F_SAMPLES:
		break;
	case F_SUMMARY:
		write_summary_perf(ru, rows);
		break;
	case F_SPEEDSCOPE:
	case F_TREE:
		if (ru->selected == -2)
			choose_event(ru);
		if (ru->selected == PD_EVENT_NONE_SUCH && ru->event) {
			pd_error("'%s': no event '%s'", pd_reader_name(ru->r), ru->event);
			return PD_EXIT_TROUBLE;
		}
		if (!ru->event && ru->other_event && ru->selected >= 0)
			pd_note("'%s' has samples of other events; using %s (use --event)",
			    pd_reader_name(ru->r), pd_reader_event(ru->r, (size_t)ru->selected)->name);
		if (ru->fmt == F_TREE)
			write_tree(ru);
		else
			write_speedscope(ru, speedscope_unit(ru), pd_reader_name(ru->r));
		break;
	}
	if (ru->damaged)
		tool_reader_report(ru->r, rc, NULL);
	if (tool_verbose)
		pd_info("%s: %llu samples read, %llu records, %llu out of order",
		    pd_reader_name(ru->r), (unsigned long long)st->samples,
		    (unsigned long long)st->records, (unsigned long long)st->out_of_order);
	return status;
}

/* ---------------------------------------------------------------- */
/* Folded input. */

struct folded {
	const char *name;
	/* From a metadata line ("pdcollapse --header"); without one, counts are samples. */
	struct pd_folded_meta meta;
	uint64_t total, lines;
};

/*
 * Read the folded lines of BUF into the aggregate (speedscope and tree) and
 * the totals.  A line that does not parse is an error naming its number.
 */
static int
read_folded(struct run *ru, char *buf, size_t len, struct folded *fo)
{
	struct agg *a = &ru->agg;
	uint64_t lineno = 0;
	char *p = buf, *end = buf + len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *line = p, *sp, *q;
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		uint64_t count;
		size_t n = 0;

		p = nl ? nl + 1 : end;
		lineno++;
		if (ll && line[ll - 1] == '\r')
			ll--;
		line[ll] = '\0';
		if (line[0] == '#') {
			if (lineno == 1)
				pd_folded_meta_parse(line, ll, &fo->meta);
			continue;
		}
		if (strspn(line, " \t") == ll)
			continue;
		sp = strrchr(line, ' ');
		if (!sp || sp == line || pd_parse_count(sp + 1, strlen(sp + 1), &count) < 0)
			return pd_error("'%s': line %llu: not \"frame;...;frame COUNT\" at offset 0x%llx",
			    fo->name, (unsigned long long)lineno, (unsigned long long)(line - buf));
		*sp = '\0';
		/* Every stack, profile and tree node weighs a part of this total. */
		if (pd_add_weight(&fo->total, count) < 0)
			return pd_error("'%s': line %llu: %s at offset 0x%llx", fo->name,
			    (unsigned long long)lineno, PD_WEIGHT_OVERFLOW, (unsigned long long)(line - buf));
		fo->lines++;
		if (ru->fmt == F_SUMMARY)
			continue;
		/* Frames, root first; the first is the command (speedscope: the profile). */
		scratch_grow(a, 2);
		q = line;
		if (ru->fmt == F_TREE) {
			a->scratch[n++] = 0;
		} else {
			char *semi = strchr(q, ';');

			if (semi)
				*semi = '\0';
			a->scratch[n++] = profile_id(a, q, q, -1, -1);
			q = semi ? semi + 1 : NULL;
		}
		while (q) {
			char *semi = strchr(q, ';');

			if (semi)
				*semi = '\0';
			scratch_grow(a, n + 1);
			a->scratch[n++] = frame_id(a, q, NULL);
			q = semi ? semi + 1 : NULL;
		}
		if (add_stack(a, n, count) < 0)	/* not past fo->total: cannot fail */
			return pd_error("'%s': line %llu: %s at offset 0x%llx", fo->name,
			    (unsigned long long)lineno, PD_WEIGHT_OVERFLOW, (unsigned long long)(line - buf));
	}
	return 0;
}

static int
run_folded(struct run *ru, uint64_t rows)
{
	struct folded fo = { .name = strcmp(ru->file, "-") ? ru->file : "<stdin>" };
	size_t len = 0;
	int fd = strcmp(ru->file, "-") ? open(ru->file, O_RDONLY | O_CLOEXEC | O_NOCTTY) : 0;
	char *buf = fd < 0 ? NULL : tool_read_all(fd, &len), *copy;
	struct pd_json *j = ru->j;
	int status = PD_EXIT_OK;

	if (fd > 0)
		close(fd);
	if (!buf) {
		pd_error("cannot read '%s': %s", fo.name, strerror(errno));
		return PD_EXIT_TROUBLE;
	}
	/* read_folded cuts lines up: the pd_top readers get their own copy. */
	copy = xmalloc(len + 1);
	memcpy(copy, buf, len + 1);
	if (read_folded(ru, buf, len, &fo) < 0) {
		status = PD_EXIT_TROUBLE;
		goto out;
	}
	if (ru->fmt == F_TREE) {
		write_tree(ru);
	} else if (ru->fmt == F_SPEEDSCOPE) {
		/* Periods of a clock event (a metadata line says so) are nanoseconds. */
		write_speedscope(ru, fo.meta.weight == PD_WEIGHT_PERIOD &&
		    !strcmp(pd_period_unit(fo.meta.event), "ns") ? "nanoseconds" : "none", fo.name);
	} else {
		struct pd_top *tabs[2] = { ru->top_self, ru->top_children };
		bool period = fo.meta.weight == PD_WEIGHT_PERIOD, samples = !period;
		struct evtotal ev = { fo.meta.event[0] ? fo.meta.event : "folded", fo.total, fo.total,
		    period };

		for (int i = 0; i < 2; i++) {
			FILE *m = fmemopen(copy, len ? len : 1, "r");

			if (!m)
				pd_die("out of memory");
			if (pd_top_read_folded(tabs[i], m, fo.name) < 0) {
				fclose(m);
				pd_error("%s", pd_top_errmsg(tabs[i]));
				status = PD_EXIT_TROUBLE;
				goto out;
			}
			fclose(m);
		}
		if (period)
			ev.samples = 0;
		pd_json_begin_object(j);
		pd_json_key(j, "schema");
		pd_json_str(j, "pdjson-summary");
		pd_json_key(j, "schema_version");
		pd_json_u64(j, SCHEMA_VERSION);
		pd_json_key(j, "input");
		pd_json_begin_object(j);
		meta_str(j, "file", fo.name);
		meta_str(j, "format", "folded");
		pd_json_key(j, "weight");
		pd_json_str(j, samples ? "samples" : "period");
		pd_json_end_object(j);
		pd_json_key(j, "metadata");
		pd_json_null(j);
		pd_json_key(j, "events");
		pd_json_begin_array(j);
		pd_json_begin_object(j);
		meta_str(j, "name", ev.name);
		pd_json_key(j, "samples");
		if (period)
			pd_json_null(j);
		else
			pd_json_u64(j, fo.total);
		pd_json_key(j, "period");
		if (samples)
			pd_json_null(j);
		else
			pd_json_u64(j, fo.total);
		pd_json_key(j, "lost");
		pd_json_null(j);
		pd_json_end_object(j);
		pd_json_end_array(j);
		write_derived(j, &ev, 1);
		write_top(ru, rows);
		pd_json_key(j, "health");
		pd_json_begin_object(j);
		pd_json_key(j, "stacks");
		pd_json_u64(j, fo.lines);
		pd_json_end_object(j);
		pd_json_end_object(j);
		pd_json_newline(j);
	}
out:
	free(copy);
	free(buf);
	return status;
}

int
main(int argc, char **argv)
{
	struct run ru;
	struct pd_session_opts so = { 0 };
	struct pd_top_opts to = { 0 };
	uint64_t rows = 10;
	unsigned char head[16];
	ssize_t nh;
	int ch, status, peek_fd = -1, rc;
	static char obuf[1 << 16];

	tool_init(argv[0]);
	memset(&ru, 0, sizeof(ru));
	ru.fmt = F_SAMPLES;
	ru.selected = -2;
	while ((ch = tool_getopt(argc, argv, opts, usage,
	    "Write perf.data or folded stacks as JSON: sample streams, summaries, speedscope, trees.")) != -1) {
		switch (ch) {
		case 'f':
			if (!strcmp(optarg, "samples"))
				ru.fmt = F_SAMPLES;
			else if (!strcmp(optarg, "summary"))
				ru.fmt = F_SUMMARY;
			else if (!strcmp(optarg, "speedscope"))
				ru.fmt = F_SPEEDSCOPE;
			else if (!strcmp(optarg, "tree"))
				ru.fmt = F_TREE;
			else
				tool_usage_error(usage, "--format takes samples, summary, speedscope or tree, not '%s'", optarg);
			break;
		case 'n':
			if (pd_parse_u64(optarg, 1, UINT64_MAX, &rows) < 0)
				tool_usage_error(usage, "-n takes a positive number, not '%s'", optarg);
			break;
		case OPT_EVENT: ru.event = optarg; break;
		case OPT_WEIGHT:
			if (strcmp(optarg, "period") && strcmp(optarg, "samples"))
				tool_usage_error(usage, "--weight takes period or samples, not '%s'", optarg);
			ru.weight_samples = !strcmp(optarg, "samples");
			break;
		case OPT_PER:
			if (strcmp(optarg, "thread") && strcmp(optarg, "process"))
				tool_usage_error(usage, "--per takes thread or process, not '%s'", optarg);
			ru.per_process = !strcmp(optarg, "process");
			break;
		case OPT_INLINE: so.inline_frames = 1; so.no_inline = 0; ru.inline_src = true; ru.no_inline = false; break;
		case OPT_NO_INLINE: so.no_inline = 1; so.inline_frames = 0; ru.no_inline = true; ru.inline_src = so.srclines; break;
		case OPT_LINES: so.srclines = 1; ru.inline_src = true; break;
		case OPT_NO_DEMANGLE: so.no_demangle = 1; break;
		case OPT_SYMFS: so.symfs = optarg; break;
		case OPT_KALLSYMS: so.kallsyms = optarg; break;
		default:
			tool_usage_error(usage, "unknown option");
		}
	}
	tool_progress_start();
	argc -= optind;
	argv += optind;
	if (argc > 1)
		tool_usage_error(usage, "one input at most");
	if (ru.fmt != F_SAMPLES && ru.inline_src)
		tool_usage_error(usage, "--inline and --lines apply to --format=samples");
	/*
	 * No src arrays: no DWARF to read ahead; but the summary's children
	 * table has perf report's "(inlined)" rows of DWARF chains, as pdtop.
	 */
	if (ru.fmt != F_SAMPLES && ru.fmt != F_SUMMARY)
		so.no_inline = 1;
	setvbuf(stdout, obuf, isatty(1) ? _IOLBF : _IOFBF, sizeof(obuf));
	ru.j = pd_json_new(stdout);
	if (!ru.j)
		pd_die("out of memory");
	if (ru.fmt == F_SUMMARY) {
		/*
		 * The children table and the health figures share the session:
		 * the self-only table must not make it resolve leaves only.
		 */
		to.shared_session = 1;
		to.children = 0;
		ru.top_self = pd_top_new(&to);
		to.children = 1;
		ru.top_children = pd_top_new(&to);
		if (!ru.top_self || !ru.top_children)
			pd_die("out of memory");
		if (pd_top_set_sort(ru.top_self, "symbol") < 0 || pd_top_set_sort(ru.top_children, "symbol") < 0)
			pd_die("%s", pd_top_errmsg(ru.top_self));
	}

	/* As perf report: standard input when it is a pipe or a socket. */
	ru.file = argc ? argv[0] : tool_default_input();
	nh = tool_peek_input(ru.file, &peek_fd, head, sizeof(head));
	if (nh > 0 && pd_top_sniff(head, (size_t)nh) == 0) {
		/* Bad input, not bad usage: one line, no usage text. */
		if (ru.fmt == F_SAMPLES) {
			pd_error("'%s': folded stacks (text), not perf.data: they hold no samples for "
			    "--format=samples (the default); use --format=summary, speedscope or tree",
			    strcmp(ru.file, "-") ? ru.file : "<stdin>");
			status = PD_EXIT_TROUBLE;
		} else {
			status = run_folded(&ru, rows);
		}
	} else {
		status = run_perf(&ru, &so, rows);
	}
	rc = pd_json_finish(ru.j);
	if (rc == PD_E_USAGE || rc == PD_E_NOMEM) {
		pd_error("internal error: %s while writing JSON", pd_strerror(rc));
		status = PD_EXIT_TROUBLE;
	}
	pd_json_free(ru.j);
	pd_trace_free(ru.trace);
	pd_top_free(ru.top_self);
	pd_top_free(ru.top_children);
	agg_free(&ru.agg);
	pd_session_free(ru.s);
	pd_reader_free(ru.r);
	free(ru.ev);
	if (peek_fd >= 0)
		close(peek_fd);
	return tool_finish(status);
}
