/*
 * reader.c - perf.data framing: the file header, attrs, feature sections,
 * pipe-mode HEADER_* records, byte order, and PERF_RECORD_COMPRESSED.
 *
 * Both modes read through one streaming buffer (read(2) on files and pipes,
 * or memory for the fuzzer), so the record decoder cannot tell which mode
 * fed it, and memory does not grow with the file.  File mode reads the
 * header, attrs and features with pread(2) first (FORMAT-NOTES.md 1.1-1.6),
 * then streams [data.offset, data.offset + data.size).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pd-uthash.h"
#include <zstd.h>

#include "pd-internal.h"

#define PERF_MAGIC2	0x32454c4946524550ull	/* "PERFILE2" read on LE */
#define PERF_MAGIC2_SW	0x50455246494c4532ull
#define IBUF_SIZE	(1u << 20)
#define PD_MAX_TRACING_DATA	(64u << 20)	/* a TRACING_DATA blob kept */

struct id_ent {
	uint64_t id;
	size_t attr;
	UT_hash_handle hh;
};

struct pd_reader {
	char *name;
	int fd;
	bool own_fd, pipe, swap, regular;
	const unsigned char *mem;	/* pd_reader_open_mem */
	pd_read_fn readfn;		/* pd_reader_open_stream */
	void *readctx;
	uint64_t mem_len;
	uint64_t file_size;		/* regular files and memory */
	uint64_t prog_base, prog_total;	/* pd_set_progress: bytes of finished streams, all */

	/* Streaming input: ibuf[ipos, ilen) holds file bytes from offset ioff + ipos. */
	unsigned char *ibuf;
	size_t ipos, ilen, ialloc;
	uint64_t ioff;
	bool eof;

	uint64_t data_off, data_end;	/* the record stream; data_end = UINT64_MAX: EOF */
	bool salvage;
	uint64_t data_cut;	/* where a data section cut short should have ended */

	struct pd_attr *attrs;
	size_t nr_attrs, alloc_attrs;
	struct id_ent *ids;
	size_t nr_ids;

	struct pd_buildid *buildids;
	size_t nr_buildids, alloc_buildids;
	char *feat[PD_FEAT__NR];
	unsigned char *tdata;		/* TRACING_DATA (feature or pipe record), kept for pdjson */
	size_t tdata_len;
	uint64_t comp_mmap_len;
	uint32_t nr_cpus_avail, nr_cpus_online;

	/* The one zstd stream of all COMPRESSED records. */
	ZSTD_DStream *zd;
	unsigned char *zbuf;
	size_t zpos, zlen, zalloc;
	uint64_t zoff;

	uint64_t *rbuf;			/* aligned copy of the current record */
	size_t rbuf_alloc;

	/* Directory format (perf record --threads): data.0, data.1, ... after data. */
	char **dir_files;
	size_t nr_dir_files, next_dir_file;

	struct pd_stats stats;
	struct pd_arena arena;
	struct pd_buf err, warn;
	int error;
	/* An error in the feature sections, reported after the records (defer_error). */
	struct pd_buf derr;
	int deferred;

	/*
	 * Damaged metadata that loses information, not the file (issue 18):
	 * one note per class, with a count and the first offset, all joined
	 * into the one warning line by pd_reader_warning.
	 */
	struct {
		char what[96], detail[96];
		uint64_t off, n;
	} dmg[PD_MAX_DAMAGE];
	size_t ndmg;
	uint64_t dmg_dropped;		/* notes of classes past PD_MAX_DAMAGE */
	uint64_t rec_bytes, unknown_bytes;	/* all records, records of unknown type */
	int unknown_class;		/* index in dmg of the unknown records, or -1 */
	struct pd_buf wfull;		/* pd_reader_warning's line */
	/* The feature section being parsed: its name, file offset and body. */
	const char *sec_name;
	uint64_t sec_off;
	const unsigned char *sec_base;
};

/* ---------------------------------------------------------------- */

struct pd_reader *
pd_reader_new(void)
{
	struct pd_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fd = -1;
	r->err = (struct pd_buf)PD_BUF_INIT;
	r->warn = (struct pd_buf)PD_BUF_INIT;
	r->derr = (struct pd_buf)PD_BUF_INIT;
	r->wfull = (struct pd_buf)PD_BUF_INIT;
	r->unknown_class = -1;
	return r;
}

void
pd_reader_free(struct pd_reader *r)
{
	struct id_ent *e, *tmp;

	if (!r)
		return;
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	HASH_ITER(hh, r->ids, e, tmp) {
		HASH_DEL(r->ids, e);
		free(e);
	}
	for (size_t i = 0; i < r->nr_dir_files; i++)
		free(r->dir_files[i]);
	free(r->dir_files);
	free(r->attrs);
	free(r->buildids);
	free(r->ibuf);
	free(r->zbuf);
	free(r->rbuf);
	free(r->tdata);
	if (r->zd)
		ZSTD_freeDStream(r->zd);
	pd_buf_release(&r->err);
	pd_buf_release(&r->warn);
	pd_buf_release(&r->derr);
	pd_buf_release(&r->wfull);
	pd_arena_release(&r->arena);
	free(r->name);
	free(r);
}

int
pd_reader_set_error(struct pd_reader *r, int code, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	if (r->error)
		return r->error;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pd_buf_reset(&r->err);
	if (off == UINT64_MAX)
		pd_buf_addf(&r->err, "'%s': %s", r->name ? r->name : "?", msg);
	else
		pd_buf_addf(&r->err, "'%s': %s at offset 0x%llx", r->name ? r->name : "?",
		    msg, (unsigned long long)off);
	r->error = code;
	return code;
}

static void
reader_warn(struct pd_reader *r, uint64_t off, const char *msg)
{
	if (r->warn.len)
		pd_buf_addstr(&r->warn, "; ");
	pd_buf_addf(&r->warn, "'%s': %s at offset 0x%llx", r->name, msg, (unsigned long long)off);
}

static void reader_cut(struct pd_reader *r, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

const char *pd_reader_errmsg(const struct pd_reader *r) { return r->err.buf; }

/*
 * Note damage of class WHAT at OFF: the class is counted, and its first
 * offset and DETAIL (printf) are kept.  Returns the class's index, or -1.
 */
int
pd_reader_note_damage(struct pd_reader *r, uint64_t off, const char *what, const char *fmt, ...)
{
	size_t i;
	va_list ap;

	for (i = 0; i < r->ndmg; i++)
		if (!strcmp(r->dmg[i].what, what))
			break;
	if (i == r->ndmg) {
		if (r->ndmg == PD_MAX_DAMAGE) {
			r->dmg_dropped++;
			return -1;
		}
		r->ndmg++;
		snprintf(r->dmg[i].what, sizeof(r->dmg[i].what), "%s", what);
		r->dmg[i].detail[0] = 0;
		if (fmt) {
			va_start(ap, fmt);
			vsnprintf(r->dmg[i].detail, sizeof(r->dmg[i].detail), fmt, ap);
			va_end(ap);
		}
		r->dmg[i].off = off;
		r->dmg[i].n = 0;
	}
	r->dmg[i].n++;
	return (int)i;
}

/* A record of a type no reader here knows (and skips): counted, noted. */
void
pd_reader_note_unknown(struct pd_reader *r, const struct pd_record *rec)
{
	r->stats.unknown_records++;
	r->unknown_bytes += rec->size;
	r->unknown_class = pd_reader_note_damage(r, rec->offset, "record of an unknown type",
	    "type %u, %u bytes", rec->type, rec->size);
}

/*
 * The one warning line: the reader's warnings, then each class of damage
 * noted.  Composed on demand (the counts change while records are read),
 * into a buffer of the reader: hence the cast.
 */
const char *
pd_reader_warning(const struct pd_reader *cr)
{
	struct pd_reader *r = (struct pd_reader *)cr;
	struct pd_buf *b = &r->wfull;

	pd_buf_reset(b);
	pd_buf_addstr(b, r->warn.buf ? r->warn.buf : "");
	for (size_t i = 0; i < r->ndmg; i++) {
		const char *d = r->dmg[i].detail;

		if (b->len)
			pd_buf_addstr(b, "; ");
		pd_buf_addf(b, "'%s': %s", r->name ? r->name : "?", r->dmg[i].what);
		if (r->dmg[i].n > 1)
			pd_buf_addf(b, " (%llu of them%s%s", (unsigned long long)r->dmg[i].n,
			    *d ? "; the first: " : "", d);
		else if (*d)
			pd_buf_addf(b, " (%s", d);
		if ((int)i == r->unknown_class) {
			/* A whole profile can hide in them (a COMPRESSED record retyped). */
			if (r->stats.samples == 0)
				pd_buf_addstr(b, "; no samples were read: they may all be in these");
			else if (r->rec_bytes && r->unknown_bytes >= r->rec_bytes / 10)
				pd_buf_addf(b, "; %llu%% of the bytes of the records",
				    (unsigned long long)(r->unknown_bytes * 100 / r->rec_bytes));
		}
		if (r->dmg[i].n > 1 || *d || (int)i == r->unknown_class)
			pd_buf_addstr(b, ")");
		pd_buf_addf(b, " at offset 0x%llx", (unsigned long long)r->dmg[i].off);
	}
	if (r->dmg_dropped) {
		if (b->len)
			pd_buf_addstr(b, "; ");
		pd_buf_addf(b, "%llu more notes of damage", (unsigned long long)r->dmg_dropped);
	}
	return b->buf ? b->buf : "";
}
const struct pd_stats *pd_reader_stats(const struct pd_reader *r) { return &r->stats; }
struct pd_stats *pd_reader_stats_mut(struct pd_reader *r) { return &r->stats; }
const char *pd_reader_name(const struct pd_reader *r) { return r->name; }
int pd_reader_is_pipe(const struct pd_reader *r) { return r->pipe; }
int pd_reader_is_swapped(const struct pd_reader *r) { return r->swap; }
int pd_reader_is_dir(const struct pd_reader *r) { return r->nr_dir_files > 0; }
bool pd_reader_swap(const struct pd_reader *r) { return r->swap; }
size_t pd_reader_nr_events(const struct pd_reader *r) { return r->nr_attrs; }
size_t pd_reader_nr_attrs(const struct pd_reader *r) { return r->nr_attrs; }
struct pd_attr *pd_reader_attr(struct pd_reader *r, size_t i) { return &r->attrs[i]; }
size_t pd_reader_nr_buildids(const struct pd_reader *r) { return r->nr_buildids; }
void pd_reader_count_out_of_order(struct pd_reader *r) { r->stats.out_of_order++; }

const struct pd_buildid *
pd_reader_buildid(const struct pd_reader *r, size_t i)
{
	return &r->buildids[i];
}

const struct pd_event_info *
pd_reader_event(const struct pd_reader *r, size_t idx)
{
	return idx < r->nr_attrs ? &r->attrs[idx].info : NULL;
}

int
pd_event_name_matches(const char *want, const char *name)
{
	size_t n = strlen(want);

	return !strcmp(want, name) || (!strncmp(want, name, n) && name[n] == ':');
}

long
pd_reader_pick_event(const struct pd_reader *r, const char *want)
{
	if (want && !strcmp(want, "all"))
		return PD_EVENT_ALL;
	if (want) {
		for (size_t i = 0; i < r->nr_attrs; i++)
			if (pd_event_name_matches(want, r->attrs[i].info.name))
				return (long)i;
		return PD_EVENT_NONE_SUCH;
	}
	for (size_t i = 0; i < r->nr_attrs; i++)
		if (!r->attrs[i].info.is_dummy)
			return (long)i;
	return r->nr_attrs ? 0 : PD_EVENT_NO_EVENTS;
}

int
pd_reader_nr_cpus(const struct pd_reader *r, uint32_t *avail, uint32_t *online)
{
	if (!r->nr_cpus_avail)
		return PD_END;
	*avail = r->nr_cpus_avail;
	*online = r->nr_cpus_online;
	return PD_OK;
}

const void *
pd_reader_tracing_data(const struct pd_reader *r, size_t *len)
{
	*len = r->tdata ? r->tdata_len : 0;
	return r->tdata;
}

/* Keep a copy of the TRACING_DATA blob (the last one wins). */
static void
keep_tracing_data(struct pd_reader *r, const unsigned char *p, size_t n)
{
	unsigned char *t = malloc(n ? n : 1);

	if (!t)
		return;
	memcpy(t, p, n);
	free(r->tdata);
	r->tdata = t;
	r->tdata_len = n;
}

const char *
pd_reader_feature(const struct pd_reader *r, enum pd_feature_str f)
{
	return f < PD_FEAT__NR ? r->feat[f] : NULL;
}

struct pd_attr *
pd_reader_attr_by_id(struct pd_reader *r, uint64_t id)
{
	struct id_ent *e;

	if (r->nr_attrs == 1)
		return &r->attrs[0];
	HASH_FIND(hh, r->ids, &id, sizeof(id), e);
	if (e)
		return &r->attrs[e->attr];
	/* perf: synthesized records carry id 0 and belong to the first event. */
	if (id == 0 && r->nr_attrs)
		return &r->attrs[0];
	return NULL;
}

/* ---------------------------------------------------------------- */
/* Raw input. */

static int
pread_full(struct pd_reader *r, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;

	if (r->mem) {
		if (off > r->mem_len || n > r->mem_len - off)
			return -1;
		memcpy(buf, r->mem + off, n);
		return 0;
	}
	while (got < n) {
		ssize_t k = pread(r->fd, (char *)buf + got, n - got, (off_t)(off + got));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

static pd_progress_fn progress_fn;
static void *progress_ctx;

void
pd_set_progress(pd_progress_fn fn, void *ctx)
{
	progress_fn = fn;
	progress_ctx = ctx;
}

/*
 * Make N bytes available at ibuf + ipos.  Returns how many are available
 * (less than N only at end of input), or -1 on a read error.
 */
static ssize_t
fill(struct pd_reader *r, size_t n)
{
	size_t have = r->ilen - r->ipos;

	if (have >= n || r->eof)
		return (ssize_t)(have < n ? have : n);
	if (r->ipos) {
		memmove(r->ibuf, r->ibuf + r->ipos, have);
		r->ioff += r->ipos;
		r->ipos = 0;
		r->ilen = have;
	}
	if (n > r->ialloc || r->ialloc - r->ilen < IBUF_SIZE / 2) {
		size_t want = (n > IBUF_SIZE ? n : IBUF_SIZE) + r->ilen;

		if (PD_GROW(r->ibuf, want, r->ialloc) < 0)
			return -1;
	}
	while (r->ilen < n && !r->eof) {
		size_t room = r->ialloc - r->ilen;
		ssize_t k;

		if (r->mem) {
			uint64_t at = r->ioff + r->ilen;

			k = at >= r->mem_len ? 0 : (ssize_t)(r->mem_len - at < room ? r->mem_len - at : room);
			if (k > 0)
				memcpy(r->ibuf + r->ilen, r->mem + at, (size_t)k);
		} else {
			k = r->readfn ? r->readfn(r->readctx, r->ibuf + r->ilen, room) :
			    read(r->fd, r->ibuf + r->ilen, room);
			if (k < 0 && errno == EINTR)
				continue;
			if (k > (ssize_t)room)
				k = -1;
		}
		if (k < 0)
			return -1;
		if (k == 0)
			r->eof = true;
		r->ilen += (size_t)k;
	}
	if (progress_fn) {
		uint64_t done = r->prog_base + r->ioff + r->ilen;

		progress_fn(r->name, r->prog_total && done > r->prog_total ? r->prog_total : done,
		    r->prog_total, progress_ctx);
	}
	have = r->ilen - r->ipos;
	return (ssize_t)(have < n ? have : n);
}

static inline uint64_t
in_offset(const struct pd_reader *r)
{
	return r->ioff + r->ipos;
}

/* Skip N bytes of the stream; false at end of input. */
static bool
skip_input(struct pd_reader *r, uint64_t n)
{
	while (n) {
		size_t chunk = n > IBUF_SIZE ? IBUF_SIZE : (size_t)n;
		ssize_t k = fill(r, chunk);

		if (k <= 0)
			return false;
		r->ipos += (size_t)k;
		n -= (uint64_t)k;
	}
	return true;
}

/* ---------------------------------------------------------------- */
/* Attrs. */

/*
 * In a file of the other byte order the attr flag word is a bitfield laid out
 * by the writer's compiler: perf reverses the bits of each byte, and does not
 * swap the bytes (swap_bitfield in util/session.c).
 */
static uint64_t
flags_from_swapped(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		unsigned b = p[i], rev = 0;

		for (int k = 0; k < 8; k++)
			if (b & (1u << k))
				rev |= 1u << (7 - k);
		v |= (uint64_t)rev << (8 * i);
	}
	return v;
}

static const char *const hw_names[] = {
	"cycles", "instructions", "cache-references", "cache-misses",
	"branches", "branch-misses", "bus-cycles", "stalled-cycles-frontend",
	"stalled-cycles-backend", "ref-cycles",
};
static const char *const sw_names[] = {
	"cpu-clock", "task-clock", "page-faults", "context-switches",
	"cpu-migrations", "minor-faults", "major-faults", "alignment-faults",
	"emulation-faults", "dummy", "bpf-output", "cgroup-switches",
};

/* perf's evsel__name for attrs that came without a name. */
static char *
derive_name(struct pd_reader *r, const struct pd_attr *a)
{
	char base[64];
	const char *mod = "";
	bool eu = a->flags & PERF_ATTR_FLAG_EXCL_USER;
	bool ek = a->flags & PERF_ATTR_FLAG_EXCL_KERNEL;
	bool eh = a->flags & PERF_ATTR_FLAG_EXCL_HV;

	if (a->info.type == 0 && a->info.config < sizeof(hw_names) / sizeof(hw_names[0]))
		snprintf(base, sizeof(base), "%s", hw_names[a->info.config]);
	else if (a->info.type == 1 && a->info.config < sizeof(sw_names) / sizeof(sw_names[0]))
		snprintf(base, sizeof(base), "%s", sw_names[a->info.config]);
	else if (a->info.type == 2)
		snprintf(base, sizeof(base), "tracepoint:%llu", (unsigned long long)a->info.config);
	else
		snprintf(base, sizeof(base), "raw 0x%llx", (unsigned long long)a->info.config);
	if (!eu && ek && eh)
		mod = ":u";
	else if (eu && !ek && eh)
		mod = ":k";
	else if (eu && ek && !eh)
		mod = ":h";
	{
		char full[80];

		snprintf(full, sizeof(full), "%s%s", base, mod);
		return pd_arena_strdup(&r->arena, full);
	}
}

static void
attr_set_positions(struct pd_attr *a)
{
	uint64_t st = a->info.sample_type;

	a->id_pos = -1;
	a->is_pos = -1;
	if (st & PERF_SAMPLE_IDENTIFIER) {
		a->id_pos = 0;
		a->is_pos = 1;
	} else if (st & PERF_SAMPLE_ID) {
		a->id_pos = !!(st & PERF_SAMPLE_IP) + !!(st & PERF_SAMPLE_TID) +
		    !!(st & PERF_SAMPLE_TIME) + !!(st & PERF_SAMPLE_ADDR);
		a->is_pos = 1 + !!(st & PERF_SAMPLE_CPU) + !!(st & PERF_SAMPLE_STREAM_ID);
	}
	a->trailer_size = 0;
	if (a->flags & PERF_ATTR_FLAG_SAMPLE_ID_ALL)
		a->trailer_size = 8 * (size_t)__builtin_popcountll(st &
		    (PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ID |
		     PERF_SAMPLE_STREAM_ID | PERF_SAMPLE_CPU | PERF_SAMPLE_IDENTIFIER));
}

/*
 * Decode one perf_event_attr of SIZE bytes from C (FORMAT-NOTES.md 1.3).
 * A short attr is zero-extended; a longer one's tail is skipped (quipper).
 */
static void
parse_attr(struct pd_cur *c, uint32_t size, struct pd_attr *a)
{
	struct pd_cur s = pd_cur_sub(c, size);
	unsigned char fl[8];

	memset(a, 0, sizeof(*a));
	a->info.type = pd_cur_u32(&s);
	a->size = pd_cur_u32(&s);
	a->info.config = pd_cur_u64(&s);
	a->sample_period = pd_cur_u64(&s);
	a->info.sample_type = pd_cur_u64(&s);
	a->read_format = pd_cur_u64(&s);
	pd_cur_take(&s, fl, 8);
	a->flags = s.swap ? flags_from_swapped(fl) : pd_load64(fl, false);
	pd_cur_skip(&s, 8);		/* wakeup, bp_type */
	/*
	 * Robustness fix: PERF_ATTR_SIZE_VER0 (64 bytes) ends after config1;
	 * skipping config2 unconditionally made every 64-byte attr "bad".
	 */
	pd_cur_skip(&s, 8);		/* config1 */
	if (s.left >= 8)
		pd_cur_skip(&s, 8);	/* config2 */
	if (s.left >= 8)
		a->branch_sample_type = pd_cur_u64(&s);
	if (s.left >= 8)
		a->sample_regs_user = pd_cur_u64(&s);
	if (s.left >= 4)
		a->sample_stack_user = pd_cur_u32(&s);
	if (s.left >= 4)
		pd_cur_skip(&s, 4);
	if (s.left >= 8)
		a->sample_regs_intr = pd_cur_u64(&s);
	a->info.is_dummy = a->info.type == 1 && a->info.config == 9;
	attr_set_positions(a);
	if (s.bad)
		c->bad = 1;
}

static int
add_attr(struct pd_reader *r, const struct pd_attr *a, uint64_t off)
{
	if (r->nr_attrs >= PD_MAX_ATTRS)
		return pd_reader_set_error(r, PD_E_LIMIT, off, "more than %u events", PD_MAX_ATTRS);
	if (PD_GROW(r->attrs, r->nr_attrs + 1, r->alloc_attrs) < 0)
		return pd_reader_set_error(r, PD_E_NOMEM, off, "out of memory");
	/* Bits past PERF_SAMPLE_WEIGHT_STRUCT: fields whose size is unknown here. */
	if (a->info.sample_type >> 25)
		pd_reader_note_damage(r, off, "sample_type with bits unknown here",
		    "sample_type %#llx; samples may be misread", (unsigned long long)a->info.sample_type);
	r->attrs[r->nr_attrs] = *a;
	r->attrs[r->nr_attrs].info.name = derive_name(r, a);
	r->nr_attrs++;
	return PD_OK;
}

static int
add_id(struct pd_reader *r, uint64_t id, size_t attr, uint64_t off)
{
	struct id_ent *e;

	if (r->nr_ids >= PD_MAX_IDS)
		return pd_reader_set_error(r, PD_E_LIMIT, off, "more than %u sample ids", PD_MAX_IDS);
	HASH_FIND(hh, r->ids, &id, sizeof(id), e);
	if (e)
		return PD_OK;
	e = malloc(sizeof(*e));
	if (!e)
		return pd_reader_set_error(r, PD_E_NOMEM, off, "out of memory");
	e->id = id;
	e->attr = attr;
	HASH_ADD(hh, r->ids, id, sizeof(e->id), e);
	r->nr_ids++;
	return PD_OK;
}

/* ---------------------------------------------------------------- */
/* Feature sections (FORMAT-NOTES.md 1.4-1.5).  C covers one body. */

/* Where cursor C stands in the file (the feature section being parsed). */
static uint64_t
sec_at(const struct pd_reader *r, const struct pd_cur *c)
{
	return r->sec_off + (uint64_t)(c->p - r->sec_base);
}

/*
 * A perf string: u32 len, then len bytes, NUL-padded.  Bounded by C.  A
 * length past the section or a string without its NUL is noted as damage
 * (a missing length is the caller's to note).
 */
static char *
feat_string(struct pd_reader *r, struct pd_cur *c)
{
	uint64_t at = sec_at(r, c);
	uint32_t len = pd_cur_u32(c);
	const char *p;
	size_t n;
	char what[64];

	if (c->bad)
		return NULL;
	if (len > c->left || len > PD_MAX_STRING) {
		snprintf(what, sizeof(what), "%s string length past its section", r->sec_name);
		pd_reader_note_damage(r, at, what, "length %u, %zu bytes left", len, c->left);
		c->bad = 1;
		return NULL;
	}
	p = (const char *)c->p;
	n = strnlen(p, len);
	if (n == len && len) {
		snprintf(what, sizeof(what), "%s string without a NUL", r->sec_name);
		pd_reader_note_damage(r, at, what, "%u bytes, kept", len);
	}
	pd_cur_skip(c, len);
	return pd_arena_strndup(&r->arena, p, n);
}

static void
set_feat(struct pd_reader *r, enum pd_feature_str f, struct pd_cur *c)
{
	uint64_t at = sec_at(r, c);
	size_t nd = r->ndmg;
	char *s = feat_string(r, c);
	char what[64];

	if (s) {
		r->feat[f] = s;
	} else if (r->ndmg == nd) {
		snprintf(what, sizeof(what), "%s section too short for its length", r->sec_name);
		pd_reader_note_damage(r, at, what, "%zu bytes", c->left);
	}
}

static void
feat_cmdline(struct pd_reader *r, struct pd_cur *c)
{
	uint64_t at = sec_at(r, c);
	uint32_t nr = pd_cur_u32(c), i;
	struct pd_buf b = PD_BUF_INIT;
	size_t nd = r->ndmg;

	if (c->bad) {
		pd_reader_note_damage(r, at, "cmdline section too short for its count",
		    "%zu byte%s", c->left, c->left == 1 ? "" : "s");
		return;
	}
	for (i = 0; i < nr && !c->bad; i++) {
		char *s = feat_string(r, c);

		if (!s)
			break;
		if (i)
			pd_buf_addstr(&b, " ");
		pd_buf_addstr(&b, s);
	}
	if (i < nr && r->ndmg == nd)
		pd_reader_note_damage(r, at, "cmdline holds fewer strings than its count",
		    "%u of %u; the rest is lost", i, nr);
	r->feat[PD_FEAT_CMDLINE] = pd_arena_strdup(&r->arena, b.buf);
	pd_buf_release(&b);
}

static void
feat_event_desc(struct pd_reader *r, struct pd_cur *c)
{
	uint64_t at = sec_at(r, c);
	uint32_t nr = pd_cur_u32(c), sz = pd_cur_u32(c), i;
	size_t nd = r->ndmg;

	if (c->bad || sz < 64 || sz > 4096) {
		pd_reader_note_damage(r, at, "event_desc section unreadable",
		    "%s %u; the event names are lost", c->bad ? "bytes:" : "attr size",
		    c->bad ? (unsigned)c->left : sz);
		return;
	}
	for (i = 0; i < nr && !c->bad; i++) {
		struct pd_attr a;
		uint32_t nr_ids;
		char *name;
		size_t target = i;

		parse_attr(c, sz, &a);
		nr_ids = pd_cur_u32(c);
		name = feat_string(r, c);
		if (c->bad || nr_ids > c->left / 8) {
			c->bad = 1;
			break;
		}
		for (uint32_t k = 0; k < nr_ids; k++) {
			uint64_t id = pd_cur_u64(c);
			struct id_ent *e;

			HASH_FIND(hh, r->ids, &id, sizeof(id), e);
			if (k == 0 && e)
				target = e->attr;
		}
		if (name && target < r->nr_attrs) {
			r->attrs[target].info.name = name;
			r->attrs[target].named = true;
		}
	}
	if (i < nr && r->ndmg == nd)
		pd_reader_note_damage(r, at, "event_desc holds fewer events than its count",
		    "%u of %u; the rest is lost", i, nr);
}

static int
add_buildid(struct pd_reader *r, struct pd_cur *c, uint16_t misc, uint16_t size, uint64_t off)
{
	struct pd_buildid b;
	const char *p;
	size_t n;

	if (size < 36)
		return pd_reader_set_error(r, PD_E_CORRUPT, off, "build-id entry of size %u < 36", size);
	b.pid = (int32_t)pd_cur_u32(c);
	pd_cur_take(c, b.id, 20);
	b.size = pd_cur_u8(c);
	pd_cur_skip(c, 3);
	if (c->bad)
		return pd_reader_set_error(r, PD_E_CORRUPT, off, "truncated build-id entry");
	if (!(misc & (1u << 15)) || b.size > 20)
		b.size = 20;
	b.cpumode = misc & PERF_RECORD_MISC_CPUMODE_MASK;
	p = (const char *)c->p;
	n = strnlen(p, c->left);
	b.name = pd_arena_strndup(&r->arena, p, n);
	if (!b.name || PD_GROW(r->buildids, r->nr_buildids + 1, r->alloc_buildids) < 0)
		return pd_reader_set_error(r, PD_E_NOMEM, off, "out of memory");
	r->buildids[r->nr_buildids++] = b;
	return PD_OK;
}

static int
feat_build_id(struct pd_reader *r, struct pd_cur *c, uint64_t off)
{
	while (c->left >= 8 && !c->bad) {
		uint64_t at = off;
		uint16_t misc, size;
		struct pd_cur e;
		int rc;

		pd_cur_u32(c);
		misc = pd_cur_u16(c);
		size = pd_cur_u16(c);
		if (size < 8 || size - 8u > c->left)
			return pd_reader_set_error(r, PD_E_CORRUPT, at,
			    "build-id entry of size %u does not fit its section", size);
		e = pd_cur_sub(c, size - 8u);
		if ((rc = add_buildid(r, &e, misc, size, at)) < 0)
			return rc;
		off += size;
	}
	return PD_OK;
}

static int
parse_feature(struct pd_reader *r, unsigned bit, struct pd_cur *c, uint64_t off, uint64_t body_off)
{
	static const char *const names[] = {
		[HEADER_HOSTNAME] = "hostname", [HEADER_OSRELEASE] = "osrelease",
		[HEADER_VERSION] = "version", [HEADER_ARCH] = "arch", [HEADER_NRCPUS] = "nr_cpus",
		[HEADER_CPUDESC] = "cpudesc", [HEADER_CMDLINE] = "cmdline",
		[HEADER_EVENT_DESC] = "event_desc", [HEADER_COMPRESSED] = "compressed",
	};

	r->sec_name = bit < sizeof(names) / sizeof(names[0]) && names[bit] ? names[bit] : "feature";
	r->sec_off = body_off;
	r->sec_base = c->p;
	switch (bit) {
	case HEADER_HOSTNAME: set_feat(r, PD_FEAT_HOSTNAME, c); break;
	case HEADER_OSRELEASE: set_feat(r, PD_FEAT_OSRELEASE, c); break;
	case HEADER_VERSION: set_feat(r, PD_FEAT_VERSION, c); break;
	case HEADER_ARCH: set_feat(r, PD_FEAT_ARCH, c); break;
	case HEADER_CPUDESC: set_feat(r, PD_FEAT_CPUDESC, c); break;
	case HEADER_CMDLINE: feat_cmdline(r, c); break;
	case HEADER_NRCPUS: {
		/* Written avail first, then online (the .txt doc has them swapped). */
		uint32_t avail = pd_cur_u32(c), online = pd_cur_u32(c);

		if (!c->bad) {
			r->nr_cpus_avail = avail;
			r->nr_cpus_online = online;
		} else {
			pd_reader_note_damage(r, body_off, "nr_cpus section too short", "%s", "the counts are lost");
		}
		break;
	}
	case HEADER_EVENT_DESC: feat_event_desc(r, c); break;
	case HEADER_TRACING_DATA: keep_tracing_data(r, c->p, c->left); break;
	case HEADER_BUILD_ID: return feat_build_id(r, c, off);
	case HEADER_COMPRESSED:
		pd_cur_skip(c, 16);
		r->comp_mmap_len = pd_cur_u32(c);
		break;
	default:
		/* 32 (HEADER_LAST_FEATURE) ends the pipe-mode features: not unknown. */
		if (bit > HEADER_LAST_FEATURE)
			r->stats.unknown_features++;
		break;
	}
	/* A damaged optional section loses its information, not the file. */
	return PD_OK;
}

/* Whether the feature sections from table slot K on all start at or past the end of the file. */
static bool
sections_past_end(const struct pd_reader *r, const unsigned char *tab, unsigned k, unsigned nr)
{
	for (; k < nr; k++) {
		struct pd_cur c = pd_cur_make(tab + 16 * (size_t)k, 8, r->swap);

		if (pd_cur_u64(&c) < r->file_size)
			return false;
	}
	return true;
}

static int
read_features(struct pd_reader *r, const uint64_t bits[4])
{
	unsigned nr = 0;
	uint64_t table = r->data_end;
	unsigned char *tab = NULL, *body = NULL;
	unsigned k = 0;
	int rc = PD_OK;
	bool cut = false;

	for (int i = 0; i < 4; i++)
		nr += (unsigned)__builtin_popcountll(bits[i]);
	if (!nr)
		return PD_OK;
	if (table > r->file_size || (uint64_t)nr * 16 > r->file_size - table) {
		reader_cut(r, table, "the file ends before its feature table");
		return PD_OK;
	}
	tab = malloc((size_t)nr * 16);
	if (!tab)
		return pd_reader_set_error(r, PD_E_NOMEM, table, "out of memory");
	if (pread_full(r, tab, (size_t)nr * 16, table) < 0) {
		rc = pd_reader_set_error(r, PD_E_IO, table, "cannot read the feature table");
		goto out;
	}
	for (unsigned bit = 0; bit < HEADER_FEAT_BITS && rc == PD_OK; bit++) {
		struct pd_cur c;
		uint64_t off, size;

		if (!(bits[bit / 64] & (1ull << (bit % 64))))
			continue;
		c = pd_cur_make(tab + 16 * k, 16, r->swap);
		off = pd_cur_u64(&c);
		size = pd_cur_u64(&c);
		k++;
		/*
		 * Robustness fix: a file cut inside its feature sections loses
		 * the section that holds the end and those after it, with a
		 * warning, as a data section cut short does; the samples are
		 * whole.  A section starting past the end of the file while
		 * none before it was cut is damage (deferred by the caller).
		 */
		if (off > r->file_size || size > r->file_size - off) {
			if (cut)
				continue;
			/*
			 * Also a cut: the file ends in the gap perf leaves
			 * after the table (slots of features it failed to
			 * write), so this and every later section start at or
			 * past the end (found by the truncation sweep).
			 */
			if (off <= r->file_size || sections_past_end(r, tab, k - 1, nr)) {
				reader_cut(r, off <= r->file_size ? off : r->file_size,
				    "feature %u section runs past the end of the file (it and any after it are lost)",
				    bit);
				cut = true;
				continue;
			}
			rc = pd_reader_set_error(r, PD_E_CORRUPT, table + 16 * (k - 1),
			    "feature %u section (offset %#llx, size %llu) lies past the end of the file",
			    bit, (unsigned long long)off, (unsigned long long)size);
			break;
		}
		if (bit != HEADER_HOSTNAME && bit != HEADER_OSRELEASE && bit != HEADER_VERSION &&
		    bit != HEADER_NRCPUS &&
		    bit != HEADER_ARCH && bit != HEADER_CPUDESC && bit != HEADER_CMDLINE &&
		    bit != HEADER_EVENT_DESC && bit != HEADER_BUILD_ID && bit != HEADER_COMPRESSED &&
		    bit != HEADER_TRACING_DATA) {
			if (bit >= HEADER_LAST_FEATURE)
				r->stats.unknown_features++;
			continue;
		}
		if (size > (64u << 20)) {
			reader_warn(r, off, "feature section too large, skipped");
			continue;
		}
		body = malloc(size ? size : 1);
		if (!body) {
			rc = pd_reader_set_error(r, PD_E_NOMEM, off, "out of memory");
			break;
		}
		if (pread_full(r, body, size, off) < 0) {
			rc = pd_reader_set_error(r, PD_E_IO, off, "cannot read feature %u", bit);
		} else {
			c = pd_cur_make(body, size, r->swap);
			rc = parse_feature(r, bit, &c, off, off);
		}
		free(body);
		body = NULL;
	}
out:
	free(tab);
	return rc;
}

/*
 * Robustness fix: the feature sections follow the data, so damage there
 * (a lying build-id entry, a section offset past the end) must not hide the
 * samples, which are all readable: keep the error, and let pd_reader_next
 * return it once the records have been read.
 */
static int
defer_error(struct pd_reader *r)
{
	struct pd_buf t = r->derr;

	r->derr = r->err;
	r->err = t;
	pd_buf_reset(&r->err);
	r->deferred = r->error;
	r->error = 0;
	return PD_OK;
}

/*
 * A file cut short (a data section, feature table or feature section that
 * runs past the end, a last record that is not whole): the whole records
 * before the cut are still read and delivered, and then the cut is the
 * error, so the tools print what they salvaged and exit 2; the first cut
 * found is the one reported.  In a file whose recorder was killed (data
 * size 0), which perf too reads to its end, a cut is only a warning.
 */
static void
reader_cut(struct pd_reader *r, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	if (!r->salvage && (r->error || r->deferred))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->salvage) {
		reader_warn(r, off, msg);
		return;
	}
	pd_reader_set_error(r, PD_E_CORRUPT, off, "%s", msg);
	defer_error(r);
}

/* ---------------------------------------------------------------- */
/* Opening. */

static int
open_file_mode(struct pd_reader *r, const unsigned char *hdr)
{
	struct pd_cur c = pd_cur_make(hdr, 104, r->swap);
	uint64_t size, attr_size, attrs_off, attrs_size, data_off, data_size, bits[4] = { 0 };
	unsigned char *buf = NULL;
	uint64_t nr;
	int rc = PD_OK;

	pd_cur_u64(&c);
	size = pd_cur_u64(&c);
	attr_size = pd_cur_u64(&c);
	attrs_off = pd_cur_u64(&c);
	attrs_size = pd_cur_u64(&c);
	data_off = pd_cur_u64(&c);
	data_size = pd_cur_u64(&c);
	pd_cur_skip(&c, 16);
	if (size == 104)
		for (int i = 0; i < 4; i++)
			bits[i] = pd_cur_u64(&c);
	if (size != 104 && size != 72)
		return pd_reader_set_error(r, PD_E_FORMAT, 8, "unsupported header size %llu",
		    (unsigned long long)size);
	if (attr_size == 0)
		return pd_reader_set_error(r, PD_E_CORRUPT, 16, "attr size is 0");
	if (attr_size < 64 + 16 || attr_size > 4096)
		return pd_reader_set_error(r, PD_E_CORRUPT, 16, "attr size %llu out of range",
		    (unsigned long long)attr_size);
	if (attrs_off > r->file_size || attrs_size > r->file_size - attrs_off)
		return pd_reader_set_error(r, PD_E_CORRUPT, 24,
		    "attr section (offset %#llx, size %llu) lies past the end of the file",
		    (unsigned long long)attrs_off, (unsigned long long)attrs_size);
	if (data_off > r->file_size)
		return pd_reader_set_error(r, PD_E_CORRUPT, 40,
		    "data offset %#llx lies past the end of the file (%llu bytes)",
		    (unsigned long long)data_off, (unsigned long long)r->file_size);
	nr = attrs_size / attr_size;
	if (nr == 0)
		return pd_reader_set_error(r, PD_E_CORRUPT, 24, "no events in the attr section");
	if (nr > PD_MAX_ATTRS)
		return pd_reader_set_error(r, PD_E_LIMIT, 24, "%llu events, more than %u",
		    (unsigned long long)nr, PD_MAX_ATTRS);
	buf = malloc(attrs_size);
	if (!buf)
		return pd_reader_set_error(r, PD_E_NOMEM, attrs_off, "out of memory");
	if (pread_full(r, buf, attrs_size, attrs_off) < 0) {
		rc = pd_reader_set_error(r, PD_E_IO, attrs_off, "cannot read the attrs");
		goto out;
	}
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t at = attrs_off + i * attr_size;
		struct pd_cur a = pd_cur_make(buf + i * attr_size, attr_size, r->swap);
		struct pd_cur peek = a;
		struct pd_attr attr;
		uint32_t asz;
		uint64_t ids_off, ids_size;
		unsigned char *ids;

		pd_cur_u32(&peek);
		asz = pd_cur_u32(&peek);
		if (asz == 0)
			asz = 64;
		if (asz < 64 || asz > attr_size - 16) {
			rc = pd_reader_set_error(r, PD_E_CORRUPT, at + 4,
			    "attr size %u does not fit the attr entry (%llu bytes)", asz,
			    (unsigned long long)attr_size);
			goto out;
		}
		parse_attr(&a, asz, &attr);
		a = pd_cur_make(buf + i * attr_size + attr_size - 16, 16, r->swap);
		ids_off = pd_cur_u64(&a);
		ids_size = pd_cur_u64(&a);
		if ((rc = add_attr(r, &attr, at)) < 0)
			goto out;
		if (ids_size == 0)
			continue;
		if (ids_off > r->file_size || ids_size > r->file_size - ids_off ||
		    ids_size / 8 > PD_MAX_IDS) {
			rc = pd_reader_set_error(r, PD_E_CORRUPT, at + attr_size - 16,
			    "id list (offset %#llx, size %llu) lies past the end of the file",
			    (unsigned long long)ids_off, (unsigned long long)ids_size);
			goto out;
		}
		ids = malloc(ids_size);
		if (!ids) {
			rc = pd_reader_set_error(r, PD_E_NOMEM, ids_off, "out of memory");
			goto out;
		}
		if (pread_full(r, ids, ids_size, ids_off) < 0) {
			free(ids);
			rc = pd_reader_set_error(r, PD_E_IO, ids_off, "cannot read the ids");
			goto out;
		}
		for (uint64_t k = 0; k + 8 <= ids_size && rc == PD_OK; k += 8)
			rc = add_id(r, pd_load64(ids + k, r->swap), r->nr_attrs - 1, ids_off + k);
		free(ids);
		if (rc < 0)
			goto out;
	}
	r->data_off = data_off;
	if (data_size == 0) {
		/* A recorder that was killed: no size, no feature table (1.7). */
		r->salvage = true;
		r->stats.salvaged = 1;
		r->data_end = UINT64_MAX;
		reader_warn(r, 40, "data size is 0 (was the recorder killed?); reading records to the end of the file");
	} else {
		if (data_size > r->file_size - data_off) {
			/* Cut short: read the records there are; stream_end reports it. */
			r->data_end = UINT64_MAX;
			r->data_cut = data_off + data_size;
		} else {
			r->data_end = data_off + data_size;
			rc = read_features(r, bits);
			if (rc == PD_E_CORRUPT || rc == PD_E_LIMIT)
				rc = defer_error(r);
		}
	}
	if (rc == PD_OK) {
		r->ioff = data_off;
		if (!r->mem && lseek(r->fd, (off_t)data_off, SEEK_SET) < 0)
			rc = pd_reader_set_error(r, PD_E_IO, data_off, "cannot seek to the data: %s",
			    strerror(errno));
		else if (!r->mem)
			posix_fadvise(r->fd, (off_t)data_off, 0, POSIX_FADV_SEQUENTIAL);
	}
out:
	free(buf);
	return rc;
}

/*
 * Whether the N bytes at P are text: no NUL or other control byte but tab,
 * newline and carriage return (bytes of 0x80 and above are UTF-8 or
 * another charset, text as well).
 */
static bool
is_text(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') || p[i] == 0x7f)
			return false;
	return n > 0;
}

static int
open_common(struct pd_reader *r)
{
	unsigned char hdr[104];
	ssize_t k;
	uint64_t magic, size;
	struct pd_cur c;

	r->ioff = 0;
	k = fill(r, 16);
	if (k < 0)
		return pd_reader_set_error(r, PD_E_IO, 0, "read error: %s", strerror(errno));
	/* Robustness fix: every format error names its offset, this one too. */
	if (k == 0 && r->regular)
		return pd_reader_set_error(r, PD_E_FORMAT, 0, "empty file, 0 bytes (left by a "
		    "recorder that failed? record again)");
	if (k == 0)
		return pd_reader_set_error(r, PD_E_FORMAT, 0, "empty input");
	/* Folded stacks or other text: say so, and where they go. */
	if (memcmp(r->ibuf + r->ipos, "PERFILE2", (size_t)k < 8 ? (size_t)k : 8) &&
	    memcmp(r->ibuf + r->ipos, "2ELIFREP", (size_t)k < 8 ? (size_t)k : 8) &&
	    is_text(r->ibuf + r->ipos, r->ilen - r->ipos))
		return pd_reader_set_error(r, PD_E_FORMAT, 0, "text, not perf.data (folded stacks go "
		    "to pdflame, pdtop, pdjson or pddiff as they are)");
	if (k < 16)
		return pd_reader_set_error(r, PD_E_FORMAT, 0, "too short for a perf.data header (%zd bytes)", k);
	memcpy(&magic, r->ibuf + r->ipos, 8);
	if (magic == PERF_MAGIC2_SW)
		r->swap = true;
	else if (magic != PERF_MAGIC2)
		return pd_reader_set_error(r, PD_E_FORMAT, 0, "not a perf.data file (bad magic)");
	c = pd_cur_make(r->ibuf + r->ipos + 8, 8, r->swap);
	size = pd_cur_u64(&c);
	if (size == 16) {
		r->pipe = true;
		r->ipos += 16;
		r->data_off = 16;
		r->data_end = UINT64_MAX;
		return PD_OK;
	}
	if (!r->regular && !r->mem)
		return pd_reader_set_error(r, PD_E_FORMAT, 8,
		    "file-mode perf.data on a pipe; pass the file name, or record with -o -");
	if (pread_full(r, hdr, 104, 0) < 0) {
		if (size == 72 && pread_full(r, hdr, 72, 0) == 0)
			memset(hdr + 72, 0, 32);
		else
			return pd_reader_set_error(r, PD_E_TRUNCATED, 0, "truncated file header");
	}
	/* Drop the streamed bytes; the data section is read from data.offset. */
	r->ipos = r->ilen = 0;
	r->eof = false;
	return open_file_mode(r, hdr);
}

static int
name_cmp(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	size_t lx = strlen(x), ly = strlen(y);

	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

/*
 * perf record --threads writes a directory: "data" is a file-mode perf.data
 * with the header and side-band records, and data.0, data.1, ... hold the
 * per-thread record streams (FORMAT-NOTES.md 1.9).
 */
static int
open_dir(struct pd_reader *r, const char *path)
{
	char sub[4096];
	DIR *dir;
	struct dirent *de;
	size_t alloc = 0;
	struct stat st;

	dir = opendir(path);
	if (!dir)
		return pd_reader_set_error(r, PD_E_IO, UINT64_MAX, "cannot open directory: %s", strerror(errno));
	while ((de = readdir(dir))) {
		const char *n = de->d_name;
		size_t k = 5;

		if (strncmp(n, "data.", 5) || !n[5])
			continue;
		while (n[k] >= '0' && n[k] <= '9')
			k++;
		if (n[k])
			continue;
		if (r->nr_dir_files >= 65536 || PD_GROW(r->dir_files, r->nr_dir_files + 1, alloc) < 0 ||
		    !(r->dir_files[r->nr_dir_files] = malloc(strlen(path) + strlen(n) + 2))) {
			closedir(dir);
			return pd_reader_set_error(r, PD_E_NOMEM, UINT64_MAX, "out of memory");
		}
		snprintf(r->dir_files[r->nr_dir_files++], strlen(path) + strlen(n) + 2, "%s/%s", path, n);
	}
	closedir(dir);
	if (r->nr_dir_files)
		qsort(r->dir_files, r->nr_dir_files, sizeof(*r->dir_files), name_cmp);
	for (size_t i = 0; i < r->nr_dir_files; i++)
		if (stat(r->dir_files[i], &st) == 0 && S_ISREG(st.st_mode))
			r->prog_total += (uint64_t)st.st_size;
	snprintf(sub, sizeof(sub), "%s/data", path);
	close(r->fd);
	r->fd = open(sub, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (r->fd < 0 && errno == ENOENT)
		return pd_reader_set_error(r, PD_E_USAGE, UINT64_MAX, "a directory, but not one of "
		    "'perf record --threads' (it has no 'data' file); give a perf.data file or such a "
		    "directory");
	if (r->fd < 0)
		return pd_reader_set_error(r, PD_E_IO, UINT64_MAX, "cannot open '%s' (the header of a "
		    "'perf record --threads' directory): %s", sub, strerror(errno));
	if (fstat(r->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return pd_reader_set_error(r, PD_E_FORMAT, UINT64_MAX, "'%s' is not a regular file", sub);
	r->regular = true;
	r->file_size = (uint64_t)st.st_size;
	r->prog_total += r->file_size;
	return open_common(r);
}

/* Move on to the next data.N stream of a directory; false when none is left. */
static bool
next_dir_stream(struct pd_reader *r)
{
	struct stat st;
	int fd;

	if (r->next_dir_file >= r->nr_dir_files || r->error)
		return false;
	fd = open(r->dir_files[r->next_dir_file], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		pd_reader_set_error(r, PD_E_IO, UINT64_MAX, "cannot read '%s'", r->dir_files[r->next_dir_file]);
		return false;
	}
	r->next_dir_file++;
	close(r->fd);
	r->fd = fd;
	r->prog_base += r->ioff + r->ilen;
	r->ioff = 0;
	r->ipos = r->ilen = 0;
	r->eof = false;
	r->data_end = UINT64_MAX;
	/* Each stream has its own zstd stream. */
	if (r->zd) {
		ZSTD_freeDStream(r->zd);
		r->zd = NULL;
	}
	r->zpos = r->zlen = 0;
	return true;
}

int
pd_reader_open(struct pd_reader *r, const char *path, unsigned flags)
{
	struct stat st;

	(void)flags;
	free(r->name);
	r->name = strdup(strcmp(path, "-") ? path : "<stdin>");
	if (!r->name)
		return PD_E_NOMEM;
	if (!strcmp(path, "-")) {
		r->fd = 0;
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (r->fd < 0) {
			/* "cannot open 'FILE': reason", the usual form. */
			pd_buf_reset(&r->err);
			pd_buf_addf(&r->err, "cannot open '%s': %s", path, strerror(errno));
			r->error = PD_E_IO;
			return r->error;
		}
		r->own_fd = true;
	}
	if (fstat(r->fd, &st) < 0)
		return pd_reader_set_error(r, PD_E_IO, UINT64_MAX, "cannot stat: %s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return open_dir(r, path);
	if (S_ISREG(st.st_mode)) {
		r->regular = true;
		r->file_size = (uint64_t)st.st_size;
		r->prog_total = r->file_size;
	}
	return open_common(r);
}

int
pd_reader_open_mem(struct pd_reader *r, const char *name, const void *buf, size_t len)
{
	free(r->name);
	r->name = strdup(name);
	if (!r->name)
		return PD_E_NOMEM;
	r->mem = buf;
	r->mem_len = len;
	r->file_size = len;
	r->prog_total = len;
	r->regular = true;
	return open_common(r);
}

int
pd_reader_open_stream(struct pd_reader *r, const char *name, pd_read_fn fn, void *ctx)
{
	free(r->name);
	r->name = strdup(name);
	if (!r->name)
		return PD_E_NOMEM;
	r->readfn = fn;
	r->readctx = ctx;
	return open_common(r);
}

/* ---------------------------------------------------------------- */
/* Pipe-mode HEADER_* records and in-stream metadata. */

static int
header_attr(struct pd_reader *r, const unsigned char *rec, size_t size, uint64_t off)
{
	struct pd_cur c = pd_cur_make(rec + 8, size - 8, r->swap);
	struct pd_cur peek = c;
	struct pd_attr a;
	uint32_t asz;
	int rc;

	pd_cur_u32(&peek);
	asz = pd_cur_u32(&peek);
	if (asz == 0)
		asz = 64;
	if (asz < 64 || asz > size - 8)
		return pd_reader_set_error(r, PD_E_CORRUPT, off, "HEADER_ATTR with attr size %u in a record of %zu bytes",
		    asz, size);
	parse_attr(&c, asz, &a);
	if ((rc = add_attr(r, &a, off)) < 0)
		return rc;
	/*
	 * Robustness fix: stop on a bad cursor too; pd_cur_u64 does not
	 * advance one, and this loop spun forever (found by fuzzing).
	 */
	while (c.left >= 8 && !c.bad)
		if ((rc = add_id(r, pd_cur_u64(&c), r->nr_attrs - 1, off)) < 0)
			return rc;
	return PD_OK;
}

static int
event_update(struct pd_reader *r, const unsigned char *rec, size_t size, uint64_t off)
{
	struct pd_cur c = pd_cur_make(rec + 8, size - 8, r->swap);
	uint64_t type = pd_cur_u64(&c), id = pd_cur_u64(&c);
	struct id_ent *e;

	if (c.bad || type != 2)		/* PERF_EVENT_UPDATE__NAME */
		return PD_OK;
	HASH_FIND(hh, r->ids, &id, sizeof(id), e);
	if (!e)
		return PD_OK;
	if (strnlen((const char *)c.p, c.left) == c.left)
		pd_reader_note_damage(r, off, "EVENT_UPDATE name without a NUL", "%zu bytes, kept", c.left);
	r->attrs[e->attr].info.name = pd_arena_strndup(&r->arena, (const char *)c.p, strnlen((const char *)c.p, c.left));
	r->attrs[e->attr].named = true;
	return PD_OK;
}

static int
meta_record(struct pd_reader *r, const unsigned char *rec, uint32_t type, uint16_t misc,
    size_t size, uint64_t off)
{
	struct pd_cur c;

	switch (type) {
	case PERF_RECORD_HEADER_ATTR:
		return header_attr(r, rec, size, off);
	case PERF_RECORD_HEADER_FEATURE:
		c = pd_cur_make(rec + 8, size - 8, r->swap);
		{
			uint64_t feat = pd_cur_u64(&c);

			if (!c.bad && feat < HEADER_FEAT_BITS)
				return parse_feature(r, (unsigned)feat, &c, off, off + 16);
		}
		return PD_OK;
	case PERF_RECORD_HEADER_BUILD_ID:
		c = pd_cur_make(rec + 8, size - 8, r->swap);
		return add_buildid(r, &c, misc, (uint16_t)size, off);
	case PERF_RECORD_EVENT_UPDATE:
		return event_update(r, rec, size, off);
	}
	return PD_OK;
}

/* ---------------------------------------------------------------- */
/* Records. */

static int
emit(struct pd_reader *r, const unsigned char *p, uint32_t type, uint16_t misc, uint16_t size,
    uint64_t off, struct pd_record *rec, bool borrow)
{
	size_t words = ((size_t)size + 7) / 8;

	/*
	 * BORROW: P stays put until the next call (the input buffer moves
	 * only in fill), so an aligned record of whole words is handed out
	 * where it lies, not copied: a --call-graph dwarf sample is 8 KB.
	 */
	if (borrow && !((uintptr_t)p & 7) && !(size % 8)) {
		rec->type = type;
		rec->misc = misc;
		rec->size = size;
		rec->offset = off;
		rec->data = p;
		r->stats.records++;
		return PD_OK;
	}
	if (PD_GROW(r->rbuf, words, r->rbuf_alloc) < 0)
		return pd_reader_set_error(r, PD_E_NOMEM, off, "out of memory");
	memcpy(r->rbuf, p, size);
	if (size % 8)
		memset((unsigned char *)r->rbuf + size, 0, words * 8 - size);
	rec->type = type;
	rec->misc = misc;
	rec->size = size;
	rec->offset = off;
	rec->data = (const unsigned char *)r->rbuf;
	r->stats.records++;
	return PD_OK;
}

/* The next record inflated from COMPRESSED data, or PD_END when none is whole. */
static int
next_inflated(struct pd_reader *r, struct pd_record *rec)
{
	struct pd_cur c;
	uint32_t type;
	uint16_t misc, size;
	size_t left = r->zlen - r->zpos;

	if (left < 8)
		return PD_END;
	c = pd_cur_make(r->zbuf + r->zpos, 8, r->swap);
	type = pd_cur_u32(&c);
	misc = pd_cur_u16(&c);
	size = pd_cur_u16(&c);
	if (size < 8)
		return pd_reader_set_error(r, PD_E_CORRUPT, r->zoff,
		    "record of size %u < 8 in compressed data", size);
	if (size > left)
		return PD_END;
	r->zpos += size;
	return emit(r, r->zbuf + r->zpos - size, type, misc, size, r->zoff, rec, true);
}

static int
inflate_chunk(struct pd_reader *r, const unsigned char *src, size_t n, uint64_t off)
{
	ZSTD_inBuffer in = { src, n, 0 };
	size_t start;

	if (!r->zd) {
		r->zd = ZSTD_createDStream();
		if (!r->zd || ZSTD_isError(ZSTD_initDStream(r->zd)))
			return pd_reader_set_error(r, PD_E_NOMEM, off, "cannot create a zstd stream");
	}
	/* Keep the unfinished tail of the last chunk in front (perf's decomp_last_rem). */
	if (r->zpos) {
		memmove(r->zbuf, r->zbuf + r->zpos, r->zlen - r->zpos);
		r->zlen -= r->zpos;
		r->zpos = 0;
	}
	start = r->zlen;
	/*
	 * Until the input is used up and the decoder leaves room in the output,
	 * which means it holds nothing more for this input.
	 */
	for (;;) {
		ZSTD_outBuffer out;
		size_t ret;

		if (r->zlen - start >= PD_MAX_INFLATE)
			return pd_reader_set_error(r, PD_E_LIMIT, off,
			    "compressed record inflates past %u MiB", PD_MAX_INFLATE >> 20);
		if (r->zalloc - r->zlen < 65536 &&
		    PD_GROW(r->zbuf, r->zlen + 262144, r->zalloc) < 0)
			return pd_reader_set_error(r, PD_E_NOMEM, off, "out of memory");
		out = (ZSTD_outBuffer){ r->zbuf, r->zalloc, r->zlen };
		ret = ZSTD_decompressStream(r->zd, &out, &in);
		r->zlen = out.pos;
		if (ZSTD_isError(ret))
			return pd_reader_set_error(r, PD_E_CORRUPT, off, "bad zstd data: %s",
			    ZSTD_getErrorName(ret));
		if (in.pos == in.size && out.pos < out.size)
			break;
	}
	r->zoff = off;
	r->stats.compressed++;
	return PD_OK;
}

/*
 * The end of the input.  A last record that is not whole, or a data section
 * that the header says goes on, is a cut (reader_cut).
 */
static int
stream_end(struct pd_reader *r, uint64_t off, size_t partial)
{
	if (partial) {
		r->stats.tail_bytes += partial;
		reader_cut(r, off, "input ends inside a record (%zu byte%s of it)", partial,
		    partial == 1 ? "" : "s");
	}
	if (r->zlen > r->zpos) {
		r->stats.tail_bytes += r->zlen - r->zpos;
		reader_cut(r, r->zoff, "compressed data ends inside a record");
		r->zpos = r->zlen;
	}
	if (r->data_cut && off < r->data_cut)
		reader_cut(r, off, "the file ends inside the data section (%llu bytes of it missing)",
		    (unsigned long long)(r->data_cut - off));
	return PD_END;
}

/*
 * Robustness fix: with data.size 0 nothing says where the records end
 * (FORMAT-NOTES.md 1.7), and what follows the last one the killed recorder
 * wrote is anything (the feature sections of a file whose size field was
 * lost, stale bytes).  The first impossible record header is taken as that
 * end, with a warning, not as damage.
 */
static int
salvage_end(struct pd_reader *r, uint64_t off, uint16_t size)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "records end at an invalid header (size %u)", size);
	reader_warn(r, off, msg);
	if (r->file_size > off)
		r->stats.tail_bytes += r->file_size - off;
	return stream_end(r, off, 0);
}

static int
next_record(struct pd_reader *r, struct pd_record *rec)
{
	for (;;) {
		uint64_t off, left;
		const unsigned char *p;
		struct pd_cur c;
		uint32_t type;
		uint16_t misc, size;
		ssize_t k;
		int rc;

		if (r->error)
			return r->error;
		rc = next_inflated(r, rec);
		if (rc != PD_END)
			return rc;

		off = in_offset(r);
		if (r->data_end != UINT64_MAX && off >= r->data_end) {
			rc = stream_end(r, off, 0);
			if (next_dir_stream(r))
				continue;
			return r->error ? r->error : rc;
		}
		left = r->data_end == UINT64_MAX ? UINT64_MAX : r->data_end - off;
		k = fill(r, 8);
		if (k < 0)
			return pd_reader_set_error(r, PD_E_IO, off, "read error: %s", strerror(errno));
		if (k == 0) {
			rc = stream_end(r, off, 0);
			if (next_dir_stream(r))
				continue;
			return r->error ? r->error : rc;
		}
		/*
		 * Robustness fix: compare as uint64_t; left is UINT64_MAX for an
		 * open-ended stream, and (ssize_t)left was -1, which reported a
		 * tail of 2^64-1 bytes.
		 */
		if (k < 8 || left < 8)
			return stream_end(r, off, (size_t)((uint64_t)k < left ? (uint64_t)k : left));
		p = r->ibuf + r->ipos;
		c = pd_cur_make(p, 8, r->swap);
		type = pd_cur_u32(&c);
		misc = pd_cur_u16(&c);
		size = pd_cur_u16(&c);
		if (size < 8) {
			if (r->salvage)
				return salvage_end(r, off, size);
			return pd_reader_set_error(r, PD_E_CORRUPT, off,
			    "record of type %u has size %u < 8", type, size);
		}
		if (size > left) {
			if (r->data_end != UINT64_MAX)
				return pd_reader_set_error(r, PD_E_CORRUPT, off,
				    "record of size %u runs past the end of the data section", size);
		}
		k = fill(r, size);
		if (k < 0)
			return pd_reader_set_error(r, PD_E_IO, off, "read error: %s", strerror(errno));
		if (k < size)
			return stream_end(r, off, (size_t)k);
		p = r->ibuf + r->ipos;

		if (type == PERF_RECORD_COMPRESSED || type == PERF_RECORD_COMPRESSED2) {
			size_t hdr = 8;
			uint64_t n = size - 8u;

			if (type == PERF_RECORD_COMPRESSED2) {
				struct pd_cur d = pd_cur_make(p + 8, size - 8u, r->swap);

				n = pd_cur_u64(&d);
				if (d.bad || n > size - 16u)
					return pd_reader_set_error(r, PD_E_CORRUPT, off,
					    "COMPRESSED2 data size %llu exceeds the record",
					    (unsigned long long)n);
				hdr = 16;
			}
			rc = inflate_chunk(r, p + hdr, (size_t)n, off);
			r->ipos += size;
			r->stats.records++;
			if (rc < 0)
				return rc;
			continue;
		}
		if (type == PERF_RECORD_HEADER_TRACING_DATA || type == PERF_RECORD_AUXTRACE) {
			/* A payload follows that header.size does not count (FORMAT-NOTES 3.4). */
			struct pd_cur d = pd_cur_make(p + 8, size - 8u, r->swap);
			uint64_t extra = type == PERF_RECORD_AUXTRACE ? pd_cur_u64(&d) : pd_cur_u32(&d);

			if (d.bad)
				return pd_reader_set_error(r, PD_E_CORRUPT, off, "record of type %u too short", type);
			if (type == PERF_RECORD_HEADER_TRACING_DATA)
				extra = (extra + 7) & ~7ull;
			rc = emit(r, p, type, misc, size, off, rec, false);	/* fill follows */
			r->ipos += size;
			if (rc < 0)
				return rc;
			if (r->data_end != UINT64_MAX && extra > r->data_end - in_offset(r))
				return pd_reader_set_error(r, PD_E_CORRUPT, off,
				    "payload of %llu bytes runs past the end of the data section",
				    (unsigned long long)extra);
			if (type == PERF_RECORD_HEADER_TRACING_DATA && extra <= PD_MAX_TRACING_DATA) {
				/* Kept for tracepoint decoding (pd_reader_tracing_data). */
				ssize_t got = fill(r, (size_t)extra);

				if (got < 0)
					return pd_reader_set_error(r, PD_E_IO, off, "read error: %s", strerror(errno));
				if ((uint64_t)got < extra)
					return stream_end(r, off, 1);
				keep_tracing_data(r, r->ibuf + r->ipos, (size_t)extra);
				r->ipos += (size_t)extra;
				return PD_OK;
			}
			if (!skip_input(r, extra))
				return stream_end(r, off, 1);
			return PD_OK;
		}
		if (type >= PERF_RECORD_HEADER_ATTR && (rc = meta_record(r, p, type, misc, size, off)) < 0)
			return rc;
		rc = emit(r, p, type, misc, size, off, rec, true);
		r->ipos += size;
		return rc;
	}
}

int
pd_reader_next(struct pd_reader *r, struct pd_record *rec)
{
	int rc = next_record(r, rec);

	if (rc == PD_OK)
		r->rec_bytes += rec->size;
	/* The records are all read: now report the damage found in the features. */
	if (rc == PD_END && r->deferred) {
		struct pd_buf t = r->err;

		r->err = r->derr;
		r->derr = t;
		r->error = r->deferred;
		r->deferred = 0;
		return r->error;
	}
	return rc;
}
