/*
 * session.c - process state and samples.
 *
 * Records are not in time order across CPUs: a sample can come before the
 * MMAP2 that made its mapping (DESIGN.md).  As perf does (util/ordered-events.c),
 * records with a timestamp are queued and delivered in time order; each
 * FINISHED_ROUND flushes everything up to the newest timestamp seen before
 * the previous round.  Records without a timestamp are delivered at once.
 * The queue copies records into chunks of a store; a chunk is freed when
 * its last record has been delivered, so memory follows the size of a round,
 * not of the file, and nothing is copied twice.
 *
 * Threads share their process's maps; FORK clones the parent's maps into a
 * new process; MMAP/MMAP2 replace what they overlap (maps__fixup_overlappings).
 * As in perf 6.1, an exec COMM does not drop the old maps: the new image's
 * MMAP2s replace them.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "pd-uthash.h"

#include "pd-internal.h"
#include "sym.h"
#include "unwind.h"

struct map {
	uint64_t start, end, pgoff;
	struct pd_dso *dso;
	bool identity;			/* JIT / anonymous: rel = ip */
	bool exec;
};

struct mm {
	int32_t pid;
	struct map *maps;
	size_t nr, alloc;
	size_t last;			/* index of the last hit */
	struct pd_uw_space *uw;		/* DWARF unwinding state for these maps */
	bool uw_failed;
	UT_hash_handle hh;
};

struct thread {
	int32_t tid, pid;
	const char *comm;
	struct mm *mm;
	UT_hash_handle hh;
};

struct qev {
	uint64_t time, seq;
	uint32_t chunk;			/* of the store */
	uint32_t pos;			/* in the chunk */
	uint64_t off;			/* file offset */
};

#define CHUNK_BYTES	(4u << 20)

struct chunk {
	unsigned char *buf;		/* NULL: a free slot */
	size_t len, cap, live;		/* live: records not yet delivered */
};

struct pd_session {
	struct pd_session_opts opts;
	struct pd_symbolizer *sym;
	struct thread *threads;
	struct mm *mms;
	struct mm kmm;			/* kernel and module maps */
	struct pd_arena arena;
	struct pd_stats stats;

	/* per run */
	struct pd_reader *r;
	pd_sample_fn fn;
	void *ctx;
	bool swap;
	struct qev *q;
	size_t nq, aq;
	struct chunk *chunks;
	size_t nchunks, achunks, cur;	/* cur: the chunk being filled */
	size_t slen;			/* bytes of records queued */
	unsigned char *spare;		/* a delivered chunk kept for reuse (no page faults) */
	size_t spare_cap;
	uint64_t seq, max_time, next_flush, last_flush;
	struct pd_frame *frames;
	size_t aframes;
	uint64_t *pcs;
	bool kprefetch;			/* kallsyms asked for */
	int cb_error;
	size_t max_frames;		/* frames resolved per sample (pd_session_set_max_frames) */
};

/* ---------------------------------------------------------------- */

struct pd_session *
pd_session_new(const struct pd_session_opts *opts)
{
	struct pd_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (opts)
		s->opts = *opts;
	s->sym = pd_symbolizer_new(&s->opts);
	if (!s->sym) {
		free(s);
		return NULL;
	}
	s->kmm.pid = -1;
	s->max_frames = PD_MAX_CALLCHAIN;
	return s;
}

static void
mm_free(struct mm *m)
{
	pd_uw_space_free(m->uw);
	free(m->maps);
	free(m);
}

void
pd_session_free(struct pd_session *s)
{
	struct thread *t, *tt;
	struct mm *m, *mt;

	if (!s)
		return;
	HASH_ITER(hh, s->threads, t, tt) {
		HASH_DEL(s->threads, t);
		free(t);
	}
	HASH_ITER(hh, s->mms, m, mt) {
		HASH_DEL(s->mms, m);
		mm_free(m);
	}
	free(s->kmm.maps);
	free(s->q);
	for (size_t i = 0; i < s->nchunks; i++)
		free(s->chunks[i].buf);
	free(s->chunks);
	free(s->spare);
	free(s->frames);
	free(s->pcs);
	pd_symbolizer_free(s->sym);
	pd_arena_release(&s->arena);
	free(s);
}

void
pd_session_set_max_frames(struct pd_session *s, size_t n)
{
	s->max_frames = n && n < PD_MAX_CALLCHAIN ? n : PD_MAX_CALLCHAIN;
}

const struct pd_stats *
pd_session_stats(const struct pd_session *s)
{
	return &s->stats;
}

struct pd_symbolizer *
pd_session_symbolizer(struct pd_session *s)
{
	return s->sym;
}

const char *
pd_dso_symbolize(struct pd_session *s, struct pd_dso *d, uint64_t rel, uint64_t *off)
{
	return pd_symbolizer_lookup(s->sym, d, rel, off);
}

/* ---------------------------------------------------------------- */
/* Maps. */

static struct mm *
mm_get(struct pd_session *s, int32_t pid, bool create)
{
	struct mm *m;

	HASH_FIND(hh, s->mms, &pid, sizeof(pid), m);
	if (m || !create)
		return m;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->pid = pid;
	HASH_ADD(hh, s->mms, pid, sizeof(m->pid), m);
	return m;
}

/* The map covering ADDR, or NULL: binary search with a one-entry cache. */
static struct map *
mm_find(struct mm *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nr;

	if (m->last < m->nr && addr >= m->maps[m->last].start && addr < m->maps[m->last].end)
		return &m->maps[m->last];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < m->maps[mid].start)
			hi = mid;
		else if (addr >= m->maps[mid].end)
			lo = mid + 1;
		else {
			m->last = mid;
			return &m->maps[mid];
		}
	}
	return NULL;
}

/* Insert NM, cutting away what it overlaps (perf maps__fixup_overlappings). */
static int
mm_insert(struct mm *m, const struct map *nm)
{
	struct map left = { 0 }, right = { 0 };
	bool has_left = false, has_right = false;
	size_t i = 0, j, at;

	if (nm->end <= nm->start)
		return 0;
	/* The unwinder's modules are those of the old maps. */
	pd_uw_space_free(m->uw);
	m->uw = NULL;
	m->uw_failed = false;
	while (i < m->nr && m->maps[i].end <= nm->start)
		i++;
	j = i;
	while (j < m->nr && m->maps[j].start < nm->end)
		j++;
	/* maps[i, j) overlap nm */
	if (i < j && m->maps[i].start < nm->start) {
		left = m->maps[i];
		left.end = nm->start;
		has_left = true;
	}
	if (i < j && m->maps[j - 1].end > nm->end) {
		right = m->maps[j - 1];
		if (!right.identity)
			right.pgoff += nm->end - right.start;
		right.start = nm->end;
		has_right = true;
	}
	{
		size_t removed = j - i, added = 1 + has_left + has_right;

		if (added > removed) {
			if (PD_GROW(m->maps, m->nr + added - removed, m->alloc) < 0)
				return -1;
			memmove(&m->maps[j + added - removed], &m->maps[j], (m->nr - j) * sizeof(*m->maps));
		} else if (added < removed) {
			memmove(&m->maps[i + added], &m->maps[j], (m->nr - j) * sizeof(*m->maps));
		}
		m->nr = m->nr + added - removed;
	}
	at = i;
	if (has_left)
		m->maps[at++] = left;
	m->maps[at++] = *nm;
	if (has_right)
		m->maps[at] = right;
	m->last = 0;
	return 0;
}

static int
mm_clone(struct mm *dst, const struct mm *src)
{
	dst->nr = 0;
	if (!src->nr)
		return 0;
	if (PD_GROW(dst->maps, src->nr, dst->alloc) < 0)
		return -1;
	memcpy(dst->maps, src->maps, src->nr * sizeof(*src->maps));
	dst->nr = src->nr;
	dst->last = 0;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Threads. */

static struct thread *
thread_get(struct pd_session *s, int32_t pid, int32_t tid)
{
	struct thread *t;
	char comm[24];

	HASH_FIND(hh, s->threads, &tid, sizeof(tid), t);
	if (t) {
		if (t->pid == -1 && pid != -1) {
			t->pid = pid;
			t->mm = NULL;
		}
		if (!t->mm && t->pid != -1)
			t->mm = mm_get(s, t->pid, true);
		return t;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->tid = tid;
	t->pid = pid;
	/* perf names a thread it has no COMM for ":TID". */
	snprintf(comm, sizeof(comm), ":%d", tid);
	t->comm = pd_arena_strdup(&s->arena, comm);
	if (pid != -1)
		t->mm = mm_get(s, pid, true);
	HASH_ADD(hh, s->threads, tid, sizeof(t->tid), t);
	return t;
}

static void
thread_drop(struct pd_session *s, int32_t tid)
{
	struct thread *t;

	HASH_FIND(hh, s->threads, &tid, sizeof(tid), t);
	if (t) {
		HASH_DEL(s->threads, t);
		free(t);
	}
}

/* ---------------------------------------------------------------- */
/* Side-band records. */

/* The string of N bytes at P in record REC: one without its NUL is noted as damage (WHAT). */
static const char *
rec_string(struct pd_session *s, const struct pd_record *rec, const unsigned char *p, size_t n,
    const char *what)
{
	size_t len = strnlen((const char *)p, n);

	if (len == n)
		pd_reader_note_damage(s->r, rec->offset, what, "%zu bytes, kept", n);
	return pd_arena_strndup(&s->arena, (const char *)p, len);
}

static void
do_comm(struct pd_session *s, const struct pd_record *rec)
{
	struct pd_cur c = pd_cur_make(rec->data + 8, rec->size - 8u, s->swap);
	int32_t pid = (int32_t)pd_cur_u32(&c), tid = (int32_t)pd_cur_u32(&c);
	struct thread *t;
	size_t trailer = 0;

	if (c.bad) {
		pd_reader_note_damage(s->r, rec->offset, "COMM record too short for its pid and tid",
		    "%u bytes", rec->size);
		return;
	}
	/* The name ends before the sample_id trailer (as in do_mmap). */
	if (pd_reader_nr_attrs(s->r)) {
		const struct pd_attr *a = pd_reader_attr(s->r, 0);

		if (a->trailer_size <= c.left)
			trailer = a->trailer_size;
	}
	t = thread_get(s, pid, tid);
	if (t)
		t->comm = rec_string(s, rec, c.p, c.left - trailer, "COMM record without a NUL");
}

static void
do_fork(struct pd_session *s, const struct pd_record *rec)
{
	struct pd_cur c = pd_cur_make(rec->data + 8, rec->size - 8u, s->swap);
	int32_t pid = (int32_t)pd_cur_u32(&c), ppid = (int32_t)pd_cur_u32(&c);
	int32_t tid = (int32_t)pd_cur_u32(&c), ptid = (int32_t)pd_cur_u32(&c);
	struct thread *parent, *t;

	if (c.bad)
		return;
	/* A tid that is reused starts afresh (machine__process_fork_event). */
	thread_drop(s, tid);
	if (pid != ppid) {
		/*
		 * A reused pid: empty its address space in place, since threads
		 * of the old process may still point at it.
		 */
		struct mm *old = mm_get(s, pid, false);

		if (old) {
			old->nr = 0;
			old->last = 0;
		}
	}
	/*
	 * Robustness fix: the parent is looked up after the drop; a FORK
	 * with tid == ptid freed the parent looked up before it, and read
	 * it afterwards (heap use after free, found by fuzzing).
	 */
	parent = thread_get(s, ppid, ptid);
	t = thread_get(s, pid, tid);
	if (!t || !parent)
		return;
	t->comm = parent->comm;
	if (pid != ppid && parent->mm && t->mm && t->mm != parent->mm)
		mm_clone(t->mm, parent->mm);
}

static void
do_exit(struct pd_session *s, const struct pd_record *rec)
{
	(void)s;
	(void)rec;
	/* perf keeps exited threads: late samples still find their comm. */
}

static bool
is_anon(const char *name)
{
	return !strcmp(name, "//anon") || !strncmp(name, "/dev/zero", 9) ||
	    !strncmp(name, "/anon_hugepage", 14);
}

static bool
is_no_dso(const char *name)
{
	return !strcmp(name, "[heap]") || !strncmp(name, "[stack", 6) || !strncmp(name, "/SYSV", 5);
}

static void
do_mmap(struct pd_session *s, const struct pd_record *rec)
{
	struct pd_cur c = pd_cur_make(rec->data + 8, rec->size - 8u, s->swap);
	int32_t pid = (int32_t)pd_cur_u32(&c), tid = (int32_t)pd_cur_u32(&c);
	uint64_t start = pd_cur_u64(&c), len = pd_cur_u64(&c), pgoff = pd_cur_u64(&c);
	uint32_t prot = 4, flags = 0;	/* PROT_EXEC for MMAP v1 code maps */
	unsigned char bid[20];
	uint8_t bid_size = 0;
	unsigned cpumode = rec->misc & PERF_RECORD_MISC_CPUMODE_MASK;
	const char *name;
	struct map m = { 0 };
	struct mm *mm;
	char jit[48];
	size_t trailer = 0;

	if (rec->type == PERF_RECORD_MMAP2) {
		if (rec->misc & PERF_RECORD_MISC_MMAP_BUILD_ID) {
			bid_size = pd_cur_u8(&c);
			pd_cur_skip(&c, 3);
			pd_cur_take(&c, bid, 20);
			if (bid_size > 20)
				bid_size = 20;
		} else {
			pd_cur_skip(&c, 24);
		}
		prot = pd_cur_u32(&c);
		flags = pd_cur_u32(&c);
	} else if (rec->misc & PERF_RECORD_MISC_COMM_EXEC) {
		prot = 1;		/* MMAP_DATA */
	}
	if (c.bad)
		return;
	{
		struct pd_attr *a = pd_reader_nr_attrs(s->r) ? pd_reader_attr(s->r, 0) : NULL;

		if (a && a->trailer_size <= c.left)
			trailer = a->trailer_size;
	}
	name = rec_string(s, rec, c.p, c.left - trailer, "MMAP file name without a NUL");
	if (start + len < start) {
		pd_reader_note_damage(s->r, rec->offset, "MMAP whose end wraps past 2^64",
		    "start %#llx, length %#llx; the map is dropped", (unsigned long long)start, (unsigned long long)len);
		return;
	}
	m.start = start;
	m.end = start + len;
	m.pgoff = pgoff;
	m.exec = prot & 4;
	if (cpumode == PERF_RECORD_MISC_KERNEL || cpumode == PERF_RECORD_MISC_GUEST_KERNEL) {
		if (cpumode == PERF_RECORD_MISC_GUEST_KERNEL)
			return;
		m.dso = pd_symbolizer_kernel_dso(s->sym, name);
		m.identity = true;
		if (!strncmp(name, "[kernel.kallsyms]", 17))
			pd_symbolizer_set_kernel_ref(s->sym, pgoff);
		/*
		 * The kernel's MMAP covers _text.._etext, but samples also hit
		 * .init.text and friends, which perf resolves through kallsyms:
		 * let the kernel map run to the top (module maps split it).
		 */
		if ((start == 0 && len == 0) || !strncmp(name, "[kernel.kallsyms]", 17))
			m.end = UINT64_MAX;
		if (m.dso)
			mm_insert(&s->kmm, &m);
		return;
	}
	if (cpumode != PERF_RECORD_MISC_USER)
		return;
	if ((is_anon(name) || is_no_dso(name) || (flags & 0x40000 /* MAP_HUGETLB */)) && (prot & 4)) {
		snprintf(jit, sizeof(jit), "/tmp/perf-%d.map", pid);
		name = jit;
		m.identity = true;
	} else if (is_anon(name) || is_no_dso(name)) {
		m.identity = true;
	}
	m.dso = pd_symbolizer_dso(s->sym, name, bid_size ? bid : NULL, bid_size);
	if (!m.dso)
		return;
	if (pd_symbolizer_dso_is_vdso(m.dso))
		m.pgoff = 0;
	{
		struct thread *t = thread_get(s, pid, tid);

		mm = t ? t->mm : NULL;
	}
	if (mm)
		mm_insert(mm, &m);
}

static void
do_ksymbol(struct pd_session *s, const struct pd_record *rec)
{
	struct pd_cur c = pd_cur_make(rec->data + 8, rec->size - 8u, s->swap);
	uint64_t addr = pd_cur_u64(&c);
	uint32_t len = pd_cur_u32(&c);
	uint16_t type = pd_cur_u16(&c), flags = pd_cur_u16(&c);
	struct map m = { 0 };
	size_t trailer = 0;

	(void)type;
	if (c.bad || (flags & 1) || !len)
		return;
	if (pd_reader_nr_attrs(s->r) && pd_reader_attr(s->r, 0)->trailer_size <= c.left)
		trailer = pd_reader_attr(s->r, 0)->trailer_size;
	m.start = addr;
	m.end = addr + len;
	m.identity = true;
	m.dso = pd_symbolizer_ksym_dso(s->sym, rec_string(s, rec, c.p, c.left - trailer, "KSYMBOL name without a NUL"), addr, len);
	if (m.dso && m.end > m.start)
		mm_insert(&s->kmm, &m);
}

/* ---------------------------------------------------------------- */
/* Samples. */

static struct map *
find_map(struct pd_session *s, struct thread *t, unsigned cpumode, uint64_t ip)
{
	if (cpumode == PERF_RECORD_MISC_KERNEL)
		return mm_find(&s->kmm, ip);
	if (cpumode == PERF_RECORD_MISC_USER && t && t->mm)
		return mm_find(t->mm, ip);
	return NULL;
}

static void
resolve(struct pd_session *s, struct thread *t, unsigned cpumode, uint64_t ip, struct pd_frame *f)
{
	struct map *m = find_map(s, t, cpumode, ip);

	f->ip = ip;
	f->unwound = 0;
	f->kind = cpumode == PERF_RECORD_MISC_KERNEL ? PD_FRAME_KERNEL :
	    cpumode == PERF_RECORD_MISC_HYPERVISOR ? PD_FRAME_HV : PD_FRAME_USER;
	if (m) {
		f->dso = m->dso;
		f->rel = m->identity ? ip : ip - m->start + m->pgoff;
		if (f->kind == PD_FRAME_KERNEL && !s->kprefetch) {
			s->kprefetch = true;
			pd_symbolizer_prefetch_kallsyms(s->sym);
		}
	} else {
		f->dso = NULL;
		f->rel = ip;
	}
}

/* The unwinder's view of T's process, made when first needed. */
static struct pd_uw_space *
uw_space(struct pd_session *s, struct thread *t)
{
	struct mm *m = t->mm;
	char path[4096];

	if (m->uw || m->uw_failed)
		return m->uw;
	m->uw = pd_uw_space_new(m->pid);
	if (!m->uw) {
		m->uw_failed = true;
		return NULL;
	}
	for (size_t i = 0; i < m->nr; i++) {
		const struct map *mp = &m->maps[i];

		if (mp->identity || !mp->dso ||
		    !pd_symbolizer_binary_path(s->sym, mp->dso, path, sizeof(path)))
			continue;
		if (pd_uw_space_add(m->uw, mp->start, mp->end, mp->pgoff, path, mp->exec) < 0)
			break;
	}
	if (pd_uw_space_ready(m->uw) < 0) {
		pd_uw_space_free(m->uw);
		m->uw = NULL;
		m->uw_failed = true;
	}
	return m->uw;
}

/*
 * A DWARF-mode sample: the user frames from its registers and stack copy
 * replace the (empty) user part of the chain, after the kernel part, as
 * perf splices them.  Returns the new number of frames.
 */
static size_t
unwind_user(struct pd_session *s, struct thread *t, const struct pd_raw_sample *rs,
    const struct pd_attr *a, size_t nf)
{
	struct pd_stats *st = pd_reader_stats_mut(s->r);
	struct pd_uw_regs regs;
	struct pd_uw_space *u;
	size_t n = 0, keep = 0;
	enum pd_uw_result res;

	if (!pd_uw_regs_load(&regs, rs->regs_abi, rs->regs, a->sample_regs_user, rs->stack,
	    rs->stack_len, s->swap))
		return nf;
	st->unwind_samples++;
	while (keep < nf && s->frames[keep].kind != PD_FRAME_USER)
		keep++;
	u = t && t->mm ? uw_space(s, t) : NULL;
	if (!s->pcs && !(s->pcs = malloc(PD_MAX_CALLCHAIN * sizeof(*s->pcs))))
		return nf;
	res = u ? pd_uw_unwind(u, (int32_t)rs->tid, &regs, s->pcs, PD_MAX_CALLCHAIN - keep, &n) :
	    PD_UW_NONE;
	if (res == PD_UW_NONE) {
		st->unwind_none++;
		return nf;
	}
	if (res == PD_UW_TRUNCATED)
		st->unwind_truncated++;
	if (PD_GROW(s->frames, keep + n, s->aframes) < 0)
		return nf;
	for (size_t i = 0; i < n; i++) {
		resolve(s, t, PERF_RECORD_MISC_USER, s->pcs[i], &s->frames[keep + i]);
		s->frames[keep + i].unwound = 1;
		if (s->frames[keep + i].dso)
			pd_symbolizer_prefetch_dwarf(s->sym, s->frames[keep + i].dso);
	}
	return keep + n;
}

static int
do_sample(struct pd_session *s, const struct pd_record *rec, struct pd_attr *a, size_t ev)
{
	struct pd_raw_sample rs;
	struct pd_sample out;
	struct thread *t;
	unsigned cpumode = rec->misc & PERF_RECORD_MISC_CPUMODE_MASK;
	size_t nf = 0;
	bool chain_dropped = false;
	struct pd_stats *st = pd_reader_stats_mut(s->r);

	if (pd_sample_parse(a, rec->data + 8, rec->size - 8u, s->swap, &rs) < 0) {
		st->samples_bad++;
		return pd_reader_set_error(s->r, PD_E_CORRUPT, rec->offset,
		    "sample of %u bytes is shorter than its sample_type %#llx says", rec->size,
		    (unsigned long long)a->info.sample_type);
	}
	a->info.nr_samples++;
	t = thread_get(s, (int32_t)rs.pid, (int32_t)rs.tid);
	if (rs.nr_callchain) {
		size_t want = rs.nr_callchain < PD_MAX_CALLCHAIN ? rs.nr_callchain : PD_MAX_CALLCHAIN;
		unsigned mode = 0;

		if (PD_GROW(s->frames, want, s->aframes) < 0)
			return pd_reader_set_error(s->r, PD_E_NOMEM, rec->offset, "out of memory");
		for (uint64_t i = 0; i < rs.nr_callchain && nf < s->max_frames; i++) {
			uint64_t ip = pd_load64(rs.callchain + 8 * i, s->swap);

			if (ip >= PERF_CONTEXT_MAX) {
				if (ip == PERF_CONTEXT_KERNEL)
					mode = PERF_RECORD_MISC_KERNEL;
				else if (ip == PERF_CONTEXT_USER)
					mode = PERF_RECORD_MISC_USER;
				else if (ip == PERF_CONTEXT_HV)
					mode = PERF_RECORD_MISC_HYPERVISOR;
				else {
					/* perf 6.1: "invalid callchain context" drops the chain. */
					st->callchain_dropped++;
					chain_dropped = true;
					nf = 0;
					break;
				}
				continue;
			}
			resolve(s, t, mode ? mode : cpumode, ip, &s->frames[nf++]);
		}
	}
	if (rs.regs_abi && rs.stack_len && !chain_dropped && !s->opts.no_unwind && nf < s->max_frames)
		nf = unwind_user(s, t, &rs, a, nf);
	/*
	 * No call chain, or an empty one (a DWARF-mode user sample that could
	 * not be unwound): the sample IP is the stack.
	 */
	if (nf == 0 && !chain_dropped && (a->info.sample_type & PERF_SAMPLE_IP)) {
		if (PD_GROW(s->frames, 1, s->aframes) < 0)
			return pd_reader_set_error(s->r, PD_E_NOMEM, rec->offset, "out of memory");
		resolve(s, t, cpumode, rs.ip, &s->frames[nf++]);
	}
	out.event = ev;
	out.pid = rs.pid;
	out.tid = rs.tid;
	out.cpu = rs.cpu;
	out.time = rs.time;
	out.period = rs.period;
	out.addr = rs.addr;
	out.comm = t ? t->comm : "";
	out.cpumode = (uint16_t)cpumode;
	out.nr_frames = nf;
	out.frames = s->frames;
	out.raw = rs.raw;
	out.raw_size = rs.raw_size;
	out.offset = rec->offset;
	if (s->fn && s->fn(s->ctx, &out) < 0) {
		s->cb_error = 1;
		return PD_E_CALLBACK;
	}
	return PD_OK;
}

/* Deliver one kernel record (after ordering). */
static int
deliver(struct pd_session *s, const struct pd_record *rec)
{
	struct pd_stats *st = pd_reader_stats_mut(s->r);

	switch (rec->type) {
	case PERF_RECORD_SAMPLE: {
		struct pd_attr *a;
		uint64_t id = 0;
		size_t ev;

		st->samples++;
		if (pd_reader_nr_attrs(s->r) == 0)
			return pd_reader_set_error(s->r, PD_E_CORRUPT, rec->offset, "sample before any event was described");
		a = pd_reader_attr(s->r, 0);
		if (pd_reader_nr_attrs(s->r) > 1) {
			struct pd_cur c = pd_cur_make(rec->data + 8, rec->size - 8u, s->swap);

			if (a->id_pos >= 0) {
				pd_cur_skip(&c, 8 * (size_t)a->id_pos);
				id = pd_cur_u64(&c);
			}
			a = c.bad ? NULL : pd_reader_attr_by_id(s->r, id);
			if (!a) {
				st->samples_unknown_id++;
				return PD_OK;
			}
		}
		ev = (size_t)(a - pd_reader_attr(s->r, 0));
		return do_sample(s, rec, a, ev);
	}
	case PERF_RECORD_MMAP:
	case PERF_RECORD_MMAP2:
		do_mmap(s, rec);
		break;
	case PERF_RECORD_COMM:
		do_comm(s, rec);
		break;
	case PERF_RECORD_FORK:
		do_fork(s, rec);
		break;
	case PERF_RECORD_EXIT:
		do_exit(s, rec);
		break;
	case PERF_RECORD_LOST: {
		struct pd_cur c = pd_cur_make(rec->data + 8, rec->size - 8u, s->swap);

		pd_cur_u64(&c);
		st->lost_records++;
		/* Counts every reader prints: past 2^64-1 they are damage, not wrapped. */
		if (pd_add_weight(&st->lost, pd_cur_u64(&c)) < 0)
			return pd_reader_set_error(s->r, PD_E_CORRUPT, rec->offset,
			    "the lost events add up past 2^64-1");
		break;
	}
	case PERF_RECORD_LOST_SAMPLES: {
		struct pd_cur c = pd_cur_make(rec->data + 8, rec->size - 8u, s->swap);

		if (pd_add_weight(&st->lost_samples, pd_cur_u64(&c)) < 0)
			return pd_reader_set_error(s->r, PD_E_CORRUPT, rec->offset,
			    "the lost samples add up past 2^64-1");
		break;
	}
	case PERF_RECORD_KSYMBOL:
		do_ksymbol(s, rec);
		break;
	case PERF_RECORD_THROTTLE: case PERF_RECORD_UNTHROTTLE: case PERF_RECORD_READ:
	case PERF_RECORD_AUX: case PERF_RECORD_ITRACE_START: case PERF_RECORD_SWITCH:
	case PERF_RECORD_SWITCH_CPU_WIDE: case PERF_RECORD_NAMESPACES:
	case PERF_RECORD_BPF_EVENT: case PERF_RECORD_CGROUP: case PERF_RECORD_TEXT_POKE:
	case PERF_RECORD_AUX_OUTPUT_HW_ID:
		break;
	default:
		pd_reader_note_unknown(s->r, rec);
		break;
	}
	return PD_OK;
}

/* ---------------------------------------------------------------- */
/* Ordering. */

static int
qev_cmp(const void *pa, const void *pb)
{
	const struct qev *a = pa, *b = pb;

	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int
deliver_stored(struct pd_session *s, const struct qev *e)
{
	struct pd_record rec;
	struct chunk *k = &s->chunks[e->chunk];
	struct pd_cur c = pd_cur_make(k->buf + e->pos, 8, s->swap);
	int rc;

	rec.type = pd_cur_u32(&c);
	rec.misc = pd_cur_u16(&c);
	rec.size = pd_cur_u16(&c);
	rec.offset = e->off;
	rec.data = k->buf + e->pos;
	rc = deliver(s, &rec);
	s->slen -= ((size_t)rec.size + 7) & ~(size_t)7;
	if (--k->live == 0) {
		if (e->chunk == s->cur) {
			k->len = 0;	/* reuse it */
		} else {
			if (!s->spare && k->cap == CHUNK_BYTES) {
				s->spare = k->buf;
				s->spare_cap = k->cap;
			} else {
				free(k->buf);
			}
			*k = (struct chunk){ 0 };
		}
	}
	return rc;
}

/* Deliver queued records with time <= LIMIT (all when ALL), in time order. */
static int
flush(struct pd_session *s, uint64_t limit, bool all)
{
	size_t n = 0;
	int rc = PD_OK;

	if (!s->nq)
		return PD_OK;
	qsort(s->q, s->nq, sizeof(*s->q), qev_cmp);
	while (n < s->nq && (all || s->q[n].time <= limit)) {
		rc = deliver_stored(s, &s->q[n]);
		n++;
		if (rc < 0)
			break;
	}
	if (n)
		s->last_flush = s->q[n - 1].time;
	if (rc < 0) {
		for (size_t i = 0; i < s->nchunks; i++) {
			free(s->chunks[i].buf);
			s->chunks[i] = (struct chunk){ 0 };
		}
		s->nq = 0;
		s->slen = 0;
		return rc;
	}
	memmove(s->q, s->q + n, (s->nq - n) * sizeof(*s->q));
	s->nq -= n;
	return PD_OK;
}

/* Room for SZ bytes in the current chunk, or a new one. */
static int
store_room(struct pd_session *s, size_t sz)
{
	size_t i;
	struct chunk *k = s->nchunks ? &s->chunks[s->cur] : NULL;

	if (k && k->buf && k->cap - k->len >= sz)
		return PD_OK;
	for (i = 0; i < s->nchunks; i++)
		if (!s->chunks[i].buf)
			break;
	if (i == s->nchunks && PD_GROW(s->chunks, s->nchunks + 1, s->achunks) < 0)
		return PD_E_NOMEM;
	k = &s->chunks[i];
	k->cap = sz > CHUNK_BYTES ? sz : CHUNK_BYTES;
	if (s->spare && s->spare_cap >= k->cap) {
		k->buf = s->spare;
		k->cap = s->spare_cap;
		s->spare = NULL;
	} else {
		k->buf = malloc(k->cap);
	}
	if (!k->buf)
		return PD_E_NOMEM;
	k->len = k->live = 0;
	if (i == s->nchunks)
		s->nchunks++;
	/* The chunk left behind is freed by its last delivery; an empty one now. */
	if (s->cur != i && s->cur < s->nchunks && s->chunks[s->cur].buf && !s->chunks[s->cur].live) {
		free(s->chunks[s->cur].buf);
		s->chunks[s->cur] = (struct chunk){ 0 };
	}
	s->cur = i;
	return PD_OK;
}

static int
enqueue(struct pd_session *s, const struct pd_record *rec, uint64_t time)
{
	size_t sz = ((size_t)rec->size + 7) & ~(size_t)7;

	if (time < s->last_flush)
		pd_reader_count_out_of_order(s->r);
	/*
	 * Robustness fix: the queue entries count against the cap too; tiny
	 * records inflated from a few KB of zstd queued 32-byte entries far
	 * past it (1 GB resident for a 58 KB file).
	 */
	if (s->slen + sz + (s->nq + 1) * sizeof(*s->q) > PD_MAX_ROUND_BYTES) {
		/* No FINISHED_ROUND for too long: deliver the older half (OE_FLUSH__HALF). */
		int rc;

		qsort(s->q, s->nq, sizeof(*s->q), qev_cmp);
		rc = flush(s, s->q[s->nq / 2].time, false);
		if (rc < 0)
			return rc;
	}
	if (store_room(s, sz) < 0 || PD_GROW(s->q, s->nq + 1, s->aq) < 0)
		return pd_reader_set_error(s->r, PD_E_NOMEM, rec->offset, "out of memory");
	{
		struct chunk *k = &s->chunks[s->cur];

		memcpy(k->buf + k->len, rec->data, rec->size);
		s->q[s->nq].chunk = (uint32_t)s->cur;
		s->q[s->nq].pos = (uint32_t)k->len;
		k->len += sz;
		k->live++;
	}
	s->q[s->nq].time = time;
	s->q[s->nq].seq = s->seq++;
	s->q[s->nq].off = rec->offset;
	s->nq++;
	s->slen += sz;
	if (time > s->max_time)
		s->max_time = time;
	return PD_OK;
}

/* The timestamp of a kernel record, as perf's evlist__parse_sample_timestamp. */
static bool
record_time(struct pd_session *s, const struct pd_record *rec, uint64_t *time)
{
	struct pd_attr *a;
	size_t n = pd_reader_nr_attrs(s->r);

	if (!n)
		return false;
	a = pd_reader_attr(s->r, 0);
	if (rec->type == PERF_RECORD_SAMPLE) {
		uint64_t st = a->info.sample_type;
		struct pd_cur c;

		if (n > 1 && a->id_pos >= 0) {
			struct pd_attr *b;

			c = pd_cur_make(rec->data + 8, rec->size - 8u, s->swap);
			pd_cur_skip(&c, 8 * (size_t)a->id_pos);
			b = pd_reader_attr_by_id(s->r, pd_cur_u64(&c));
			if (b)
				a = b;
			st = a->info.sample_type;
		}
		if (!(st & PERF_SAMPLE_TIME))
			return false;
		c = pd_cur_make(rec->data + 8, rec->size - 8u, s->swap);
		pd_cur_skip(&c, 8 * (!!(st & PERF_SAMPLE_IDENTIFIER) + !!(st & PERF_SAMPLE_IP) +
		    !!(st & PERF_SAMPLE_TID)));
		*time = pd_cur_u64(&c);
		return !c.bad;
	}
	{
		uint64_t id = 0;
		bool has;

		if (n > 1 && a->is_pos > 0 && a->trailer_size) {
			size_t len = rec->size - 8u;

			if ((size_t)a->is_pos * 8 <= len) {
				struct pd_attr *b = pd_reader_attr_by_id(s->r,
				    pd_load64(rec->data + 8 + len - 8 * (size_t)a->is_pos, s->swap));
				if (b)
					a = b;
			}
		}
		pd_trailer_parse(a, rec->data + 8, rec->size - 8u, s->swap, time, &id, &has);
		return has;
	}
}

int
pd_session_run(struct pd_session *s, struct pd_reader *r, pd_sample_fn fn, void *ctx)
{
	struct pd_record rec;
	int rc, frc;

	s->r = r;
	s->fn = fn;
	s->ctx = ctx;
	s->swap = pd_reader_swap(r);
	s->seq = s->max_time = s->next_flush = s->last_flush = 0;
	s->nq = s->slen = 0;
	for (size_t i = 0; i < s->nchunks; i++) {
		free(s->chunks[i].buf);
		s->chunks[i] = (struct chunk){ 0 };
	}
	s->cb_error = 0;
	pd_symbolizer_set_reader(s->sym, r);
	/* perf registers the idle task as "swapper" (machine__idle_thread). */
	{
		struct thread *t = thread_get(s, 0, 0);

		if (t)
			t->comm = "swapper";
	}
	while ((rc = pd_reader_next(r, &rec)) == PD_OK) {
		uint64_t time;

		if (rec.type == PERF_RECORD_FINISHED_ROUND && !pd_reader_is_dir(r)) {
			rc = flush(s, s->next_flush, false);
			s->next_flush = s->max_time;
		} else if (rec.type >= PERF_RECORD_KERNEL_MAX) {
			/*
			 * Robustness fix: perf-tool types no perf we know writes
			 * are skipped, and counted as pd.h promises, like
			 * unknown kernel types in deliver().
			 */
			if (rec.type > PERF_RECORD_COMPRESSED2)
				pd_reader_note_unknown(r, &rec);
			continue;
		} else if (record_time(s, &rec, &time)) {
			rc = enqueue(s, &rec, time);
		} else {
			rc = deliver(s, &rec);
		}
		if (rc < 0)
			break;
	}
	/* Whatever came before the damage is still delivered. */
	frc = flush(s, 0, true);
	if (rc == PD_END)
		rc = frc < 0 ? frc : PD_OK;
	if (s->cb_error)
		rc = PD_E_CALLBACK;
	{
		const struct pd_stats *rs = pd_reader_stats(r);
		uint64_t *d = (uint64_t *)&s->stats;
		const uint64_t *src = (const uint64_t *)rs;

		for (size_t i = 0; i < sizeof(s->stats) / sizeof(uint64_t); i++)
			d[i] += src[i];
	}
	pd_symbolizer_absorb(s->sym, r);
	s->r = NULL;
	return rc;
}
