/*
 * top.c - pdtop's tables: the numbers of perf report --stdio, from distinct
 * chains.
 *
 * Aggregate first, name later (DESIGN.md).  pd_top_add hashes each
 * sample's resolved chain (event, thread, and the DSO and address of every
 * frame) into a flat open-addressing table, as stack.c does: nothing is
 * allocated or named per sample.  pd_top_flush then names each distinct
 * chain once.  Each distinct address is looked up once (an address cache),
 * each frame becomes one entry key made of the sort keys, and the chain's
 * samples and period go to the leaf's entry (self) and, once per chain, to
 * the entry of every distinct key along it (children).  That is how perf
 * report counts (util/hist.c, the cumulative hist_entry_iter skips an entry
 * it has already added for this sample), so a recursive function counts
 * once per sample.
 *
 * perf 6.1 details followed here, read from its util/sort.c, util/hist.c,
 * util/callchain.c and util/machine.c:
 *  - a symbol entry is the DSO's short name plus the symbol's address range;
 *    a frame without a symbol is keyed by its address alone, printed as
 *    "0x%016llx" (no "0x" for 0);
 *  - the self entry of a frame without a symbol uses the DSO-relative
 *    address, the children entries the raw address (fill_callchain_info
 *    copies the callchain node's ip), so children mode shows both;
 *  - children take at most max_stack frames, counted from the root (the
 *    chain is walked in caller order when children are shown);
 *  - DSOs compare by short name (the basename), "[unknown]" without a map;
 *  - filters: --comm, --pid and --tid act on the thread, --dso and
 *    --symbol on the sample's own address.  As in perf's hists, a filtered
 *    sample still adds to every entry it touches, but an entry is shown
 *    only when the sample that made it (the first in time order) passed
 *    the filters.  Percentages are of every sample (absolute, perf's
 *    default) or of the self weight of the entries shown (relative);
 *  - output order: the first column, then self, then the keys, with
 *    resolved symbols before unresolved ones.
 *
 * With a session that asks for source views (pd_session_opts.inline_frames,
 * .srclines: pdtop --inline, --lines), a user frame with a symbol becomes
 * its levels, outermost first, each named "func" or "func (file:line)" as
 * pdcollapse names its frames (but with pdtop's untidied function names),
 * and keyed by DSO and name, so a function counts alike wherever it was
 * inlined.  The innermost level of the sample's own address is the self
 * entry; every level of every frame is a children entry, once per sample.
 * Return addresses are looked up one byte earlier, as in stack.c, so the
 * address cache is keyed by that too.
 *
 * Without them, the children of DWARF-unwound chains are perf report's
 * (dw_rows): each frame is the functions inlined at it and the function
 * itself, named as perf script names them; a name that differs from the
 * symbol table's is perf's "func (inlined)" row over the symbol's range,
 * and self stays with the symbol.  Those rows are found as perf finds them,
 * in a red-black tree, sample by sample (perf_find, perf_collapse).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "pd-uthash.h"

#include "sym.h"

#define KEY_WORDS	8		/* event + symbol (3) + dso + comm + pid + tid */
#define DEFAULT_MAX_STACK 127		/* PERF_MAX_STACK_DEPTH, perf report's default */
#ifndef TOP_PENDING_MAX			/* -D for tests of the flushes */
#define TOP_PENDING_MAX	(16u << 20)	/* bytes of raw chains before they are named */
#endif
#define HEALTH_THREADS	10		/* threads listed by --health */
#define FILTERED	(1ull << 63)	/* in a chain's event word: the thread filters drop it */
#define RET_TAG		4		/* in an address tag: a return address (source views only) */
#define UNW_TAG		8		/* in a frame word and an address tag: a DWARF-unwound frame */
#define SRC_KEY		UINT64_MAX	/* ends the symbol key of an entry keyed by name */
#define INL_KEY		(1ull << 63)	/* in the start word of a perf "(inlined)" entry's key */

/* DSOs come from calloc: their low four bits are free for the tags above. */
_Static_assert(_Alignof(max_align_t) >= 16, "DSO pointers must leave four bits for tags");

struct chain {
	uint64_t hash;
	uint64_t *key;			/* in the arena; key[0] = length in words */
	uint64_t period, samples;
	uint64_t seq;			/* when it was first seen */
};

/* One distinct (DSO, address): what it resolved to. */
struct addr {
	uint64_t tag, rel;		/* DSO pointer | frame kind, DSO-relative address */
	struct pd_sym *sym;
	const char *dso;		/* interned short name, NULL without a map */
	const char *name;		/* interned symbol name, NULL without a symbol */
	const char **lv;		/* source views: interned level names, outermost first */
	size_t nlv;
	const bool *inl;		/* DWARF frames: level I is perf's "func (inlined)" */
};

/*
 * Addresses live in blocks that never move, so that the pointers a chain's
 * frames hold stay valid while later frames of the same chain grow the
 * table (the table holds pointers; growing it used to move the addresses
 * under those pointers: a use after free found by the conservation test).
 */
#define ADDR_BLOCK 512
struct addr_block {
	struct addr_block *next;
	size_t used;
	struct addr a[ADDR_BLOCK];
};

static void addrs_free(struct pd_top *t);

struct entry {
	uint64_t hash;
	uint64_t key[KEY_WORDS];
	uint64_t self_period, self_samples, acc_period, acc_samples;
	uint64_t stamp;			/* the last chain that added to acc */
	size_t event;
	const char *sym, *dso, *comm;	/* interned, NULL when unknown */
	uint64_t addr, start, end;	/* address (no symbol) or symbol range */
	uint32_t pid, tid;
	char level;
	bool inlined;			/* perf's fake symbol of an inlined function: "sym (inlined)" */
	bool red;			/* in the table's tree: */
	uint32_t up, ch[2];		/* entry index + 1, 0 for none */
	bool filtered;			/* made by a sample the filters drop: not shown */
};

struct table {
	char *name;
	uint64_t samples, period;	/* every sample of the event */
	uint64_t kept_samples, kept_period;	/* those the filters keep (--health) */
	bool selected, has_chain, seen;
	uint32_t root;			/* DWARF inline rows: the entries' tree (perf_find) */
};

struct istr {
	UT_hash_handle hh;
	char s[];
};

struct list {
	char **v;
	size_t n;
};

struct thr {
	uint64_t key;			/* pid << 32 | tid */
	const char *comm;
	uint64_t samples;
	UT_hash_handle hh;
};

struct health {
	uint64_t samples, empty, leaf_only, unresolved_any, unresolved_leaf, broken, truncated;
	uint64_t frames, frames_unresolved, chained;
	uint64_t suspect;		/* leaf only, truncated or broken: each sample once */
};

struct pd_top {
	struct pd_top_opts o;
	enum pd_top_key keys[PD_TOP_MAX_KEYS];
	size_t nr_keys, nkey;
	bool has_sym_key, per_comm, per_thread, sort_set;
	bool src;			/* the session asks for source views (--inline, --lines) */
	bool dwsrc;			/* DWARF-unwound frames are named as perf report names them */
	bool dwarf;			/* some event has user stacks to unwind (--call-graph dwarf) */
	bool leaf_only;			/* self only: a chain is its leaf */
	bool leaf_asked;		/* and the session was told */
	int children;			/* decided: 0 or 1; -1 until pd_top_begin */
	size_t fw;			/* words per frame in a chain key */
	unsigned max_stack;
	char *event;
	bool event_found, folded;
	bool folded_periods;		/* folded counts are periods (a weight=period header) */
	struct list f_comm, f_dso, f_sym;
	struct { uint32_t *v; size_t n; } f_pid, f_tid;
	const char *fc_last;		/* comm filter cache: last comm pointer */
	bool fc_last_ok;

	struct table *tables;
	size_t nr_tables, alloc_tables;
	uint64_t other_event;

	struct chain *tab;
	size_t cap, used, pending;
	uint64_t seq;
	struct pd_arena keys_arena;
	uint64_t *scratch;
	size_t ascratch;

	struct addr **addrs;		/* open addressing over the blocks' addresses */
	size_t acap, aused;
	struct addr_block *ablocks;

	struct entry *ents;
	size_t nents, aents;
	uint32_t *added;		/* DWARF inline rows: the entries of the sample so far */
	size_t nadded, aadded;
	struct logged { uint64_t seq, period; } *log;	/* and the samples, in file order */
	size_t nlog, alog;
	uint64_t seq0;			/* the seq of the first chain since the last flush */
	uint32_t *eidx;			/* open addressing: index + 1, 0 empty */
	size_t ecap;
	uint64_t stamp;

	struct istr *strs;
	struct pd_arena arena;

	struct health h;
	struct thr *threads;
	struct pd_stats stats;
	char *input;
	char **fnames;			/* frames of the folded line being read */
	size_t nfnames, afnames;
	struct pd_buf err, tmp;
};

/* ---------------------------------------------------------------- */

static inline uint64_t
mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x9e3779b97f4a7c15ull + (h >> 29);
}

static const char *const key_names[] = { "symbol", "dso", "comm", "pid", "tid" };

const char *
pd_top_key_name(enum pd_top_key k)
{
	return (unsigned)k < sizeof(key_names) / sizeof(key_names[0]) ? key_names[k] : "?";
}

static void
set_keys(struct pd_top *t, const enum pd_top_key *k, size_t n)
{
	t->nr_keys = n;
	t->nkey = 1;
	t->has_sym_key = t->per_comm = false;
	t->per_thread = t->o.health;
	for (size_t i = 0; i < n; i++) {
		t->keys[i] = k[i];
		t->nkey += k[i] == PD_TOP_SYMBOL ? 3 : 1;
		if (k[i] == PD_TOP_SYMBOL)
			t->has_sym_key = true;
		if (k[i] == PD_TOP_COMM)
			t->per_comm = true;
		if (k[i] == PD_TOP_PID || k[i] == PD_TOP_TID)
			t->per_thread = true;
	}
	if (t->o.health)
		t->per_comm = true;
}

struct pd_top *
pd_top_new(const struct pd_top_opts *o)
{
	static const enum pd_top_key defaults[] = { PD_TOP_COMM, PD_TOP_DSO, PD_TOP_SYMBOL };
	struct pd_top *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (o)
		t->o = *o;
	else
		t->o.children = -1;
	t->err = (struct pd_buf)PD_BUF_INIT;
	t->tmp = (struct pd_buf)PD_BUF_INIT;
	t->children = -1;
	t->max_stack = t->o.max_stack ? t->o.max_stack : DEFAULT_MAX_STACK;
	if (t->o.event && strcmp(t->o.event, "all")) {
		t->event = strdup(t->o.event);
		if (!t->event) {
			free(t);
			return NULL;
		}
	}
	set_keys(t, defaults, 3);
	return t;
}

static void
list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
pd_top_free(struct pd_top *t)
{
	struct istr *s, *st;
	struct thr *th, *tt;

	if (!t)
		return;
	HASH_ITER(hh, t->strs, s, st)
		HASH_DEL(t->strs, s);

	HASH_ITER(hh, t->threads, th, tt)
		HASH_DEL(t->threads, th);
	for (size_t i = 0; i < t->nr_tables; i++)
		free(t->tables[i].name);
	free(t->tables);
	free(t->tab);
	free(t->scratch);
	addrs_free(t);
	free(t->ents);
	free(t->added);
	free(t->log);
	free(t->eidx);
	free(t->event);
	free(t->input);
	free(t->fnames);
	free(t->f_pid.v);
	free(t->f_tid.v);
	list_free(&t->f_comm);
	list_free(&t->f_dso);
	list_free(&t->f_sym);
	pd_arena_release(&t->keys_arena);
	pd_arena_release(&t->arena);
	pd_buf_release(&t->err);
	pd_buf_release(&t->tmp);
	free(t);
}

const char *
pd_top_errmsg(const struct pd_top *t)
{
	return t->err.buf;
}

static int set_error(struct pd_top *t, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
set_error(struct pd_top *t, int code, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pd_buf_reset(&t->err);
	pd_buf_addstr(&t->err, msg);
	return code;
}

/* The interned copy of S[0, LEN): equal strings, equal pointers. */
static const char *
intern(struct pd_top *t, const char *s, size_t len)
{
	struct istr *e;

	HASH_FIND(hh, t->strs, s, len, e);
	if (e)
		return e->s;
	e = pd_arena_alloc(&t->arena, sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	memset(&e->hh, 0, sizeof(e->hh));
	memcpy(e->s, s, len);
	e->s[len] = '\0';
	HASH_ADD_KEYPTR(hh, t->strs, e->s, len, e);
	return e->s;
}

/* Split "a,b,c" into L; empty items are an error. */
static int
split_list(struct list *l, const char *spec)
{
	const char *p = spec;

	list_free(l);
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char **nv;

		if (n == 0)
			return PD_E_USAGE;
		nv = realloc(l->v, (l->n + 1) * sizeof(*l->v));
		if (!nv)
			return PD_E_NOMEM;
		l->v = nv;
		if (!(l->v[l->n] = strndup(p, n)))
			return PD_E_NOMEM;
		l->n++;
		if (!comma)
			return PD_OK;
		p = comma + 1;
	}
}

static bool
list_has(const struct list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return true;
	return false;
}

int
pd_top_set_sort(struct pd_top *t, const char *spec)
{
	struct list l = { 0 };
	enum pd_top_key k[PD_TOP_MAX_KEYS];
	size_t n = 0;
	int rc = split_list(&l, spec);

	if (rc == PD_E_NOMEM)
		return rc;
	if (rc < 0) {
		list_free(&l);
		return set_error(t, PD_E_USAGE, "--sort: empty key in '%s'", spec);
	}
	for (size_t i = 0; i < l.n; i++) {
		size_t j;

		for (j = 0; j < PD_TOP_MAX_KEYS; j++)
			if (!strcmp(l.v[i], key_names[j]))
				break;
		if (j == PD_TOP_MAX_KEYS || n == PD_TOP_MAX_KEYS) {
			rc = set_error(t, PD_E_USAGE, "--sort: unknown key '%s' (keys: symbol, dso, comm, pid, tid)",
			    l.v[i]);
			goto out;
		}
		for (size_t m = 0; m < n; m++)
			if (k[m] == (enum pd_top_key)j) {
				rc = set_error(t, PD_E_USAGE, "--sort: key '%s' given twice", l.v[i]);
				goto out;
			}
		k[n++] = (enum pd_top_key)j;
	}
	set_keys(t, k, n);
	t->sort_set = true;
	rc = PD_OK;
out:
	list_free(&l);
	return rc;
}

int
pd_top_set_filter(struct pd_top *t, enum pd_top_key what, const char *spec)
{
	struct list l = { 0 };
	int rc;

	switch (what) {
	case PD_TOP_COMM:
		rc = split_list(&t->f_comm, spec);
		break;
	case PD_TOP_DSO:
		rc = split_list(&t->f_dso, spec);
		break;
	case PD_TOP_SYMBOL:
		rc = split_list(&t->f_sym, spec);
		break;
	case PD_TOP_PID:
	case PD_TOP_TID: {
		uint32_t *v;

		rc = split_list(&l, spec);
		if (rc < 0)
			break;
		v = calloc(l.n, sizeof(*v));
		if (!v) {
			rc = PD_E_NOMEM;
			break;
		}
		for (size_t i = 0; i < l.n; i++) {
			uint64_t x;

			if (pd_parse_u64(l.v[i], 0, INT32_MAX, &x) < 0) {
				set_error(t, PD_E_USAGE, "--%s: '%s' is not a %s", key_names[what], l.v[i],
				    key_names[what]);
				free(v);
				list_free(&l);
				return PD_E_USAGE;
			}
			v[i] = (uint32_t)x;
		}
		if (what == PD_TOP_PID) {
			free(t->f_pid.v);
			t->f_pid.v = v;
			t->f_pid.n = l.n;
		} else {
			free(t->f_tid.v);
			t->f_tid.v = v;
			t->f_tid.n = l.n;
		}
		break;
	}
	default:
		rc = PD_E_USAGE;
	}
	list_free(&l);
	if (rc == PD_E_USAGE)
		return set_error(t, rc, "--%s: empty item in '%s'", pd_top_key_name(what), spec);
	return rc;
}

/* ---------------------------------------------------------------- */
/* Events. */

static struct table *
table_get(struct pd_top *t, size_t ev)
{
	if (ev >= t->nr_tables) {
		if (PD_GROW(t->tables, ev + 1, t->alloc_tables) < 0)
			return NULL;
		memset(t->tables + t->nr_tables, 0, (ev + 1 - t->nr_tables) * sizeof(*t->tables));
		for (size_t i = t->nr_tables; i <= ev; i++)
			t->tables[i].selected = !t->event;
		t->nr_tables = ev + 1;
	}
	return &t->tables[ev];
}

int
pd_top_begin(struct pd_top *t, struct pd_reader *r)
{
	size_t n = pd_reader_nr_events(r);
	bool chains = false;

	if (n && !table_get(t, n - 1))
		return set_error(t, PD_E_NOMEM, "out of memory");
	if (!t->input && !(t->input = strdup(pd_reader_name(r))))
		return set_error(t, PD_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct pd_event_info *e = pd_reader_event(r, i);
		struct table *tb = &t->tables[i];

		if (!tb->name && !(tb->name = strdup(e->name ? e->name : "?")))
			return set_error(t, PD_E_NOMEM, "out of memory");
		tb->has_chain = (e->sample_type & PERF_SAMPLE_CALLCHAIN) != 0;
		t->dwarf |= (e->sample_type & PERF_SAMPLE_STACK_USER) != 0;
		chains |= tb->has_chain;
		tb->selected = !t->event || pd_event_name_matches(t->event, tb->name);
		t->event_found |= t->event && tb->selected;
	}
	if (t->children < 0) {
		/*
		 * perf report 6.1 decides before a pipe's events arrive, so it
		 * never shows children for pipe input unless told to.
		 */
		t->children = t->o.children >= 0 ? t->o.children : chains && !pd_reader_is_pipe(r);
		/* Children of an unresolved frame are keyed by its raw address. */
		t->fw = t->children && t->has_sym_key ? 3 : 2;
		/* Self alone needs the leaf only: fewer, shorter chains to hash. */
		t->leaf_only = !t->children && !t->o.health;
	}
	return PD_OK;
}

/* ---------------------------------------------------------------- */
/* Chains. */

static int
tab_grow(struct pd_top *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 4096;
	struct chain *nt = calloc(ncap, sizeof(*nt));

	if (!nt)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		struct chain *c = &t->tab[i];
		size_t j;

		if (!c->key)
			continue;
		for (j = c->hash & (ncap - 1); nt[j].key; j = (j + 1) & (ncap - 1))
			;
		nt[j] = *c;
	}
	free(t->tab);
	t->tab = nt;
	t->cap = ncap;
	return 0;
}

static bool
u32_has(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* perf's thread filter (thread__is_filtered): comm, pid, tid. */
static bool
thread_filtered(struct pd_top *t, const struct pd_sample *s)
{
	if (t->f_comm.n) {
		if (s->comm != t->fc_last) {
			t->fc_last = s->comm;
			t->fc_last_ok = list_has(&t->f_comm, s->comm);
		}
		if (!t->fc_last_ok)
			return true;
	}
	if (t->f_pid.n && !u32_has(t->f_pid.v, t->f_pid.n, s->pid))
		return true;
	if (t->f_tid.n && !u32_has(t->f_tid.v, t->f_tid.n, s->tid))
		return true;
	return false;
}

/*
 * perf report 6.1 expands the frames of DWARF chains into their inlined
 * functions for the children of symbol keys (util/machine.c,
 * append_inlines); self keeps the symbol table's function.  pdtop does so
 * unless --inline or --lines ask for its own views, or --no-inline.
 */
static bool
dw_rows(const struct pd_top *t, const struct pd_symbolizer *y)
{
	return t->dwarf && t->children > 0 && t->has_sym_key && !pd_symbolizer_src_wanted(y, false) &&
	    pd_symbolizer_src_wanted(y, true);
}

int
pd_top_add(struct pd_top *t, struct pd_session *sess, const struct pd_sample *s)
{
	struct table *tb = table_get(t, s->event);
	size_t words, j, nf;
	uint64_t h, *k;

	if (!tb)
		return set_error(t, PD_E_NOMEM, "out of memory");
	/*
	 * Every sum pdtop shows (rows, self and children, kept, the event's
	 * total) is part of an event's total period or at most it, so
	 * checking the total checks them all; the sample that would take it
	 * past 2^64-1 is an error at its offset, never wrapped.
	 */
	if (pd_add_weight(&tb->period, s->period) < 0)
		return set_error(t, PD_E_LIMIT, "'%s': %s at offset 0x%llx", t->input ? t->input : "?",
		    PD_WEIGHT_OVERFLOW, (unsigned long long)s->offset);
	tb->samples++;
	if (!tb->selected) {
		t->other_event++;
		return PD_OK;
	}
	if (t->children < 0) {
		/* pd_top_begin was not called: no call chains known. */
		t->children = t->o.children > 0;
		t->fw = t->children && t->has_sym_key ? 3 : 2;
		t->leaf_only = !t->children && !t->o.health;
	}
	if (t->leaf_only && !t->leaf_asked && !t->o.shared_session) {
		/* The session need not resolve the callers either. */
		pd_session_set_max_frames(sess, 1);
		t->leaf_asked = true;
	}
	nf = t->leaf_only && s->nr_frames > 1 ? 1 : s->nr_frames;
	tb->seen = true;
	words = 4 + t->fw * nf;
	if (PD_GROW(t->scratch, words, t->ascratch) < 0)
		return set_error(t, PD_E_NOMEM, "out of memory");
	k = t->scratch;
	k[0] = words;
	k[1] = s->event | (thread_filtered(t, s) ? FILTERED : 0);
	k[2] = t->per_comm ? (uint64_t)(uintptr_t)s->comm : 0;
	k[3] = t->per_thread ? ((uint64_t)s->pid << 32 | s->tid) : 0;
	h = mix(mix(mix(mix(0, k[0]), k[1]), k[2]), k[3]);
	for (size_t i = 0; i < nf; i++) {
		const struct pd_frame *f = &s->frames[i];
		uint64_t *w = k + 4 + t->fw * i;

		w[0] = (uint64_t)(uintptr_t)f->dso | f->kind | (f->unwound ? UNW_TAG : 0);
		w[1] = f->rel;
		h = mix(mix(h, w[0]), w[1]);
		if (t->fw == 3) {
			w[2] = f->ip;
			h = mix(h, w[2]);
		}
	}
	h ^= h >> 31;
	if (2 * (t->used + 1) > t->cap && tab_grow(t) < 0)
		return set_error(t, PD_E_NOMEM, "out of memory");
	for (j = h & (t->cap - 1); t->tab[j].key; j = (j + 1) & (t->cap - 1)) {
		struct chain *c = &t->tab[j];

		if (c->hash == h && c->key[0] == words && !memcmp(c->key, k, words * 8)) {
			c->period += s->period;
			c->samples++;
			goto counted;
		}
	}
	if (!t->used)
		t->seq0 = t->seq;
	{
		uint64_t *key = pd_arena_alloc(&t->keys_arena, words * 8);

		if (!key)
			return set_error(t, PD_E_NOMEM, "out of memory");
		memcpy(key, k, words * 8);
		t->tab[j] = (struct chain){ h, key, s->period, 1, t->seq++ };
		t->used++;
		t->pending += words * 8;
	}
counted:
	if (dw_rows(t, pd_session_symbolizer(sess))) {
		/* Rows as perf makes them, sample by sample (perf_find). */
		if (PD_GROW(t->log, t->nlog + 1, t->alog) < 0)
			return set_error(t, PD_E_NOMEM, "out of memory");
		t->log[t->nlog++] = (struct logged){ t->tab[j].seq, s->period };
		t->pending += sizeof(*t->log);
	}
	if (t->pending > TOP_PENDING_MAX)
		return pd_top_flush(t, sess);
	return PD_OK;
}

/* ---------------------------------------------------------------- */
/* Naming. */

static const char *
dso_short(struct pd_top *t, const struct pd_dso *d)
{
	const char *n = pd_dso_name(d), *sl;

	if (n[0] == '[')
		return intern(t, n, strlen(n));
	sl = strrchr(n, '/');
	if (sl && sl[1])
		n = sl + 1;
	return intern(t, n, strlen(n));
}

static int
addr_grow(struct pd_top *t)
{
	size_t ncap = t->acap ? t->acap * 2 : 1024;
	struct addr **na = calloc(ncap, sizeof(*na));

	if (!na)
		return -1;
	for (size_t i = 0; i < t->acap; i++) {
		struct addr *a = t->addrs[i];
		size_t j;

		if (!a)
			continue;
		for (j = mix(a->tag, a->rel) & (ncap - 1); na[j]; j = (j + 1) & (ncap - 1))
			;
		na[j] = a;
	}
	free(t->addrs);
	t->addrs = na;
	t->acap = ncap;
	return 0;
}

static void
addrs_free(struct pd_top *t)
{
	while (t->ablocks) {
		struct addr_block *b = t->ablocks;

		t->ablocks = b->next;
		free(b);
	}
	free(t->addrs);
	t->addrs = NULL;
	t->acap = t->aused = 0;
}

/*
 * Source views: the levels of A, "func" or "func (file:line)" as pdcollapse
 * names its frames, interned, and the symbol of the address looked up (one
 * byte earlier for a return address, RET).  -1 when out of memory.
 *
 * UNWOUND: A is a frame of a DWARF chain, whose levels are the frames perf
 * puts in its call chain (machine.c, append_inlines): one per function
 * inlined at the address and one for the function itself, named as perf
 * script names them.  A level whose name differs from the symbol table's
 * is a symbol perf makes up (srcline.c, new_inline_sym), shown as
 * "func (inlined)" and spanning the symbol's range; the others are the
 * symbol itself.
 */
static int
src_levels(struct pd_top *t, struct pd_symbolizer *y, struct addr *a, struct pd_dso *d, bool ret,
    bool unwound)
{
	struct pd_srcinfo *si = pd_symbolizer_src(y, d, a->rel, ret, unwound);
	const char **lv, *symname = NULL;
	bool *inl = NULL;

	if (!si)
		return -1;
	a->sym = si->sym;
	if (!si->sym || !si->nr)
		return 0;
	if (!(lv = pd_arena_alloc(&t->arena, si->nr * sizeof(*lv))))
		return -1;
	if (unwound && (!(inl = pd_arena_alloc(&t->arena, si->nr * sizeof(*inl))) ||
	    !(symname = pd_sym_name(y, si->sym))))
		return -1;
	for (size_t i = 0; i < si->nr; i++) {
		const struct pd_srclevel *l = &si->level[i];

		pd_buf_reset(&t->tmp);
		if (pd_buf_addstr(&t->tmp, l->func ? l->func : "??") < 0 ||
		    (!unwound && l->file && pd_buf_addf(&t->tmp, " (%s:%u)", l->file, l->line) < 0) ||
		    !(lv[i] = intern(t, t->tmp.buf, t->tmp.len)))
			return -1;
		if (inl)
			inl[i] = strcmp(lv[i], symname) != 0;
	}
	a->lv = lv;
	a->nlv = si->nr;
	a->inl = inl;
	return 0;
}

/*
 * What (TAG, REL) resolves to, looked up once per distinct address.  TAG
 * is the DSO, the frame kind and, for source views, RET_TAG.
 */
static struct addr *
addr_get(struct pd_top *t, struct pd_symbolizer *y, uint64_t tag, uint64_t rel)
{
	struct pd_dso *d = (struct pd_dso *)(uintptr_t)(tag & ~(uint64_t)15);
	struct addr *a;
	size_t j;

	if (2 * (t->aused + 1) > t->acap && addr_grow(t) < 0)
		return NULL;
	for (j = mix(tag, rel) & (t->acap - 1); t->addrs[j]; j = (j + 1) & (t->acap - 1))
		if (t->addrs[j]->tag == tag && t->addrs[j]->rel == rel)
			return t->addrs[j];
	if (!t->ablocks || t->ablocks->used == ADDR_BLOCK) {
		struct addr_block *b = malloc(sizeof(*b));

		if (!b)
			return NULL;
		b->next = t->ablocks;
		b->used = 0;
		t->ablocks = b;
	}
	a = t->addrs[j] = &t->ablocks->a[t->ablocks->used++];
	*a = (struct addr){ .tag = tag, .rel = rel };
	t->aused++;
	if (d) {
		a->dso = dso_short(t, d);
		if ((t->src || (tag & UNW_TAG)) && (tag & 3) == PD_FRAME_USER) {
			if (src_levels(t, y, a, d, tag & RET_TAG, tag & UNW_TAG) < 0)
				return NULL;
		} else {
			a->sym = pd_symbolizer_find(y, d, rel);
		}
		if (a->sym) {
			const char *nm = pd_sym_name(y, a->sym);

			a->name = intern(t, nm, strlen(nm));
		}
		if (!a->dso || (a->sym && !a->name))
			return NULL;
	}
	return a;
}

static int
ents_grow(struct pd_top *t)
{
	size_t ncap = t->ecap ? t->ecap * 2 : 1024;
	uint32_t *ni = calloc(ncap, sizeof(*ni));

	if (!ni)
		return -1;
	for (size_t i = 0; i < t->nents; i++) {
		size_t j;

		for (j = t->ents[i].hash & (ncap - 1); ni[j]; j = (j + 1) & (ncap - 1))
			;
		ni[j] = (uint32_t)(i + 1);
	}
	free(t->eidx);
	t->eidx = ni;
	t->ecap = ncap;
	return 0;
}

/* The entry of key K (nkey words), created from PROTO when new. */
static struct entry *
entry_get(struct pd_top *t, const uint64_t *k, const struct entry *proto)
{
	uint64_t h = 0;
	size_t j;

	for (size_t i = 0; i < t->nkey; i++)
		h = mix(h, k[i]);
	h ^= h >> 31;
	if (2 * (t->nents + 1) > t->ecap && ents_grow(t) < 0)
		return NULL;
	for (j = h & (t->ecap - 1); t->eidx[j]; j = (j + 1) & (t->ecap - 1)) {
		struct entry *e = &t->ents[t->eidx[j] - 1];

		if (e->hash == h && !memcmp(e->key, k, t->nkey * 8))
			return e;
	}
	if (t->nents >= UINT32_MAX - 1 || PD_GROW(t->ents, t->nents + 1, t->aents) < 0)
		return NULL;
	t->ents[t->nents] = *proto;
	t->ents[t->nents].hash = h;
	memcpy(t->ents[t->nents].key, k, t->nkey * 8);
	t->eidx[j] = (uint32_t)(t->nents + 1);
	return &t->ents[t->nents++];
}

static char
level_of(unsigned kind)
{
	switch (kind) {
	case PD_FRAME_KERNEL: return 'k';
	case PD_FRAME_HV: return 'H';
	case PD_FRAME_GUEST: return 'g';
	default: return '.';
	}
}

struct frame_ref {
	const struct addr *a;
	uint64_t rel, ip;
	unsigned kind;
	const char *src;		/* source views: the level's name; the entry is keyed by it */
	bool inl;			/* and SRC is perf's "(inlined)" symbol over the symbol's range */
};

/*
 * The entry key of frame F of a chain (event EV, COMM, PIDTID) into K and
 * the display fields into P.  SELF: the sample's own entry, whose address
 * is DSO-relative; otherwise a children entry, keyed by the raw address.
 */
static void
make_key(struct pd_top *t, uint64_t *k, struct entry *p, size_t ev, const char *comm,
    uint64_t pidtid, const struct frame_ref *f, bool self)
{
	size_t n = 1;

	memset(p, 0, sizeof(*p));
	k[0] = ev;
	p->event = ev;
	p->comm = comm;
	p->pid = (uint32_t)(pidtid >> 32);
	p->tid = (uint32_t)pidtid;
	p->dso = f->a ? f->a->dso : NULL;
	p->level = level_of(f->kind);
	if (f->a && f->a->sym) {
		p->sym = f->a->name;
		p->start = f->a->sym->start;
		p->end = f->a->sym->end;
		if (f->src)
			p->sym = f->src;
		p->inlined = f->inl;
	} else {
		p->addr = self ? f->rel : f->ip;
	}
	for (size_t i = 0; i < t->nr_keys; i++) {
		switch (t->keys[i]) {
		case PD_TOP_SYMBOL:
			if (f->src && f->inl) {
				/*
				 * perf's "(inlined)" symbol: such entries are
				 * found in perf's tree (perf_find), not by
				 * key; a key of their own all the same.
				 */
				k[n] = (uint64_t)(uintptr_t)p->dso;
				k[n + 1] = (uint64_t)(uintptr_t)f->src;
				k[n + 2] = p->start | INL_KEY;
			} else if (f->src) {	/* interned: the pointer is the name */
				k[n] = (uint64_t)(uintptr_t)p->dso;
				k[n + 1] = (uint64_t)(uintptr_t)f->src;
				k[n + 2] = SRC_KEY;
			} else if (p->sym) {
				k[n] = (uint64_t)(uintptr_t)p->dso;
				k[n + 1] = p->start;
				k[n + 2] = p->end;
			} else {
				k[n] = 0;
				k[n + 1] = p->addr;
				k[n + 2] = 0;
			}
			n += 3;
			break;
		case PD_TOP_DSO:
			k[n++] = (uint64_t)(uintptr_t)p->dso;
			break;
		case PD_TOP_COMM:
			k[n++] = (uint64_t)(uintptr_t)comm;
			break;
		case PD_TOP_PID:
			k[n++] = p->pid;
			break;
		case PD_TOP_TID:
			k[n++] = p->tid;
			break;
		}
	}
}

/*
 * DWARF chains with inline rows: perf's order of hist entries.  perf
 * finds the entry of a sample in a red-black tree (util/hist.c,
 * hists__findnew_entry), comparing each node L on the path with the new
 * entry R key by key (hist_entry__cmp).  Its symbol comparison
 * (util/sort.c, _sort__sym_cmp) takes an "(inlined)" symbol for any of the
 * same name whose range meets its own, so it is not transitive: an entry
 * can miss an equal one elsewhere in the tree and make another row of the
 * same name.  To make the same rows, these tables are such a tree too,
 * built in the order perf builds it (the chains in the order first seen,
 * each root first, as perf's cumulative entries), with the same
 * comparison and the same balancing (the textbook insertion, as Linux's lib/rbtree.c).
 */
static const char *
nz(const char *s)
{
	return s ? s : "";
}

static int
cmp_null(const void *l, const void *r)
{
	if (!l && !r)
		return 0;
	return !l ? -1 : 1;
}

static int
sgn64(uint64_t d)
{
	return (int64_t)d < 0 ? -1 : (d != 0);
}

/* _sort__dso_cmp(right, left) of sort__dso_cmp(L, R). */
static int
perf_dso_cmp(const struct entry *l, const struct entry *r)
{
	if (!l->dso || !r->dso)
		return cmp_null(l->dso, r->dso);
	return strcmp(r->dso, l->dso);
}

static int
perf_cmp(const struct pd_top *t, const struct entry *l, const struct entry *r)
{
	int c = 0;

	for (size_t i = 0; i < t->nr_keys && !c; i++) {
		switch (t->keys[i]) {
		case PD_TOP_SYMBOL:
			if (!l->sym && !r->sym) {
				c = sgn64(r->addr - l->addr);
				break;
			}
			if ((c = perf_dso_cmp(l, r)))
				break;
			if (!l->sym || !r->sym) {
				c = cmp_null(l->sym, r->sym);
				break;
			}
			if (l->inlined || r->inlined) {
				if ((c = strcmp(l->sym, r->sym)))
					break;
				if (l->start <= r->end && l->end >= r->start)
					break;
			}
			c = l->start != r->start ? sgn64(r->start - l->start) : sgn64(r->end - l->end);
			break;
		case PD_TOP_DSO:
			c = perf_dso_cmp(l, r);
			break;
		case PD_TOP_COMM:
			c = strcmp(nz(r->comm), nz(l->comm));
			break;
		case PD_TOP_PID:
			c = sgn64((uint64_t)r->pid - l->pid);
			break;
		case PD_TOP_TID:
			c = sgn64((uint64_t)r->tid - l->tid);
			break;
		}
	}
	return c;
}

#define ENT(i)	(&t->ents[(i) - 1])

/* Turn the subtree at X so that its child on SIDE takes its place. */
static void
rb_rotate(struct pd_top *t, uint32_t *root, uint32_t x, int side)
{
	uint32_t y = ENT(x)->ch[side], b = ENT(y)->ch[!side], p = ENT(x)->up;

	ENT(x)->ch[side] = b;
	if (b)
		ENT(b)->up = x;
	ENT(y)->up = p;
	if (!p)
		*root = y;
	else
		ENT(p)->ch[ENT(p)->ch[1] == x] = y;
	ENT(y)->ch[!side] = x;
	ENT(x)->up = y;
}

static void
rb_insert(struct pd_top *t, uint32_t *root, uint32_t z)
{
	ENT(z)->red = true;
	while (ENT(z)->up && ENT(ENT(z)->up)->red) {
		uint32_t p = ENT(z)->up, g = ENT(p)->up;
		int dir = ENT(g)->ch[1] == p;	/* the side of G that P is on */
		uint32_t u = ENT(g)->ch[!dir];

		if (u && ENT(u)->red) {
			ENT(p)->red = ENT(u)->red = false;
			ENT(g)->red = true;
			z = g;
			continue;
		}
		if (ENT(p)->ch[!dir] == z) {
			z = p;
			rb_rotate(t, root, z, !dir);
			p = ENT(z)->up;
		}
		ENT(p)->red = false;
		ENT(g)->red = true;
		rb_rotate(t, root, g, dir);
	}
	ENT(*root)->red = false;
}

/* Where entry NEW goes in the tree at *ROOT: an equal entry, or 0 and its parent in *UP, side *C. */
static uint32_t
rb_find(struct pd_top *t, uint32_t root, const struct entry *new, uint32_t *up, int *c)
{
	uint32_t n = root;

	*up = 0;
	*c = 0;
	while (n) {
		if (!(*c = perf_cmp(t, ENT(n), new)))
			return n;
		*up = n;
		n = ENT(n)->ch[*c > 0];
	}
	return 0;
}

static void
rb_link(struct pd_top *t, uint32_t *root, uint32_t n, uint32_t up, int c)
{
	ENT(n)->up = up;
	ENT(n)->ch[0] = ENT(n)->ch[1] = 0;
	if (!up)
		*root = n;
	else
		ENT(up)->ch[c > 0] = n;
	rb_insert(t, root, n);
}

/* The entry perf finds or makes for PROTO in its table's tree. */
static struct entry *
perf_find(struct pd_top *t, const struct entry *proto)
{
	struct table *tb = &t->tables[proto->event];
	uint32_t n, up;
	int c;

	if ((n = rb_find(t, tb->root, proto, &up, &c)))
		return ENT(n);
	if (t->nents >= UINT32_MAX - 1 || PD_GROW(t->ents, t->nents + 1, t->aents) < 0)
		return NULL;
	n = (uint32_t)++t->nents;
	*ENT(n) = *proto;
	rb_link(t, &tb->root, n, up, c);
	return ENT(n);
}

/*
 * With the comm key, perf moves the entries to a second tree before it
 * shows them (hist.c, hists__collapse_resort): in the order of the first,
 * each merged into an entry it compares equal to (the same comparison
 * for these keys), or added.  Merged entries are left without counts.
 */
static int
perf_collapse(struct pd_top *t)
{
	uint32_t *seq = NULL;
	bool comm = false;

	for (size_t i = 0; i < t->nr_keys; i++)
		comm |= t->keys[i] == PD_TOP_COMM;
	if (!comm || !t->nents)
		return PD_OK;
	if (!(seq = malloc(t->nents * sizeof(*seq))))
		return set_error(t, PD_E_NOMEM, "out of memory");
	for (size_t ev = 0; ev < t->nr_tables; ev++) {
		struct table *tb = &t->tables[ev];
		uint32_t n = tb->root, m = 0, up;
		int c;

		/* In order: the leftmost, then each next. */
		while (n && ENT(n)->ch[0])
			n = ENT(n)->ch[0];
		while (n) {
			seq[m++] = n;
			if (ENT(n)->ch[1]) {
				for (n = ENT(n)->ch[1]; ENT(n)->ch[0]; n = ENT(n)->ch[0])
					;
			} else {
				while (ENT(n)->up && ENT(ENT(n)->up)->ch[1] == n)
					n = ENT(n)->up;
				n = ENT(n)->up;
			}
		}
		tb->root = 0;
		for (uint32_t i = 0; i < m; i++) {
			struct entry *e = ENT(seq[i]), *to;

			if (!(n = rb_find(t, tb->root, e, &up, &c))) {
				rb_link(t, &tb->root, seq[i], up, c);
				continue;
			}
			to = ENT(n);
			/* Merged rows may count a sample twice (children): checked. */
			if (pd_add_weight(&to->self_samples, e->self_samples) < 0 ||
			    pd_add_weight(&to->self_period, e->self_period) < 0 ||
			    pd_add_weight(&to->acc_samples, e->acc_samples) < 0 ||
			    pd_add_weight(&to->acc_period, e->acc_period) < 0) {
				free(seq);
				return set_error(t, PD_E_LIMIT, "'%s': the weights of a row add up past 2^64-1",
				    t->input ? t->input : "?");
			}
			e->self_samples = e->self_period = e->acc_samples = e->acc_period = 0;
		}
	}
	free(seq);
	return PD_OK;
}

#undef ENT

static int
add_entry(struct pd_top *t, const uint64_t *k, const struct entry *proto, uint64_t samples,
    uint64_t period, bool self)
{
	struct entry *e;

	/*
	 * perf's cumulative entries skip one that compares equal to an entry
	 * this sample added already (hist.c, iter_add_next_cumulative_entry).
	 */
	if (t->dwsrc && !self)
		for (size_t i = 0; i < t->nadded; i++)
			if (!perf_cmp(t, &t->ents[t->added[i]], proto))
				return PD_OK;
	e = t->dwsrc ? perf_find(t, proto) : entry_get(t, k, proto);
	if (!e)
		return set_error(t, PD_E_NOMEM, "out of memory");
	if (t->dwsrc) {
		if (self)
			t->nadded = 0;
		if (PD_GROW(t->added, t->nadded + 1, t->aadded) < 0)
			return set_error(t, PD_E_NOMEM, "out of memory");
		t->added[t->nadded++] = (uint32_t)(e - t->ents);
	}
	if (self) {
		e->self_samples += samples;
		e->self_period += period;
	}
	if (t->children && e->stamp != t->stamp) {
		e->stamp = t->stamp;
		e->acc_samples += samples;
		e->acc_period += period;
	}
	return PD_OK;
}

/* Symbols a user or kernel stack starts from: a walk that ends elsewhere was cut short. */
static bool
is_root(const char *name)
{
	static const char *const roots[] = {
		"_start", "__libc_start_main", "__libc_start_call_main", "start_thread",
		"clone", "clone3", "__clone", "__clone3", "thread_start", "_dl_start",
		"_dl_start_user", "ret_from_fork", "ret_from_fork_asm", "secondary_startup_64",
		"secondary_startup_64_no_verify", "common_startup_64", "start_kernel",
		"x86_64_start_kernel", "x86_64_start_reservations", "rest_init", "kernel_init",
	};

	if (!name)
		return false;
	if (!strncmp(name, "__GI_", 5))
		name += 5;
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (!strcmp(name, roots[i]))
			return true;
	return false;
}

static int
health_thread(struct pd_top *t, uint64_t pidtid, const char *comm, uint64_t samples)
{
	struct thr *th;

	HASH_FIND(hh, t->threads, &pidtid, sizeof(pidtid), th);
	if (!th) {
		th = pd_arena_alloc(&t->arena, sizeof(*th));
		if (!th)
			return set_error(t, PD_E_NOMEM, "out of memory");
		memset(th, 0, sizeof(*th));
		th->key = pidtid;
		HASH_ADD(hh, t->threads, key, sizeof(th->key), th);
	}
	th->comm = comm;
	th->samples += samples;
	return PD_OK;
}

static bool
kept_by_dso_sym(const struct pd_top *t, const struct frame_ref *leaf)
{
	if (t->f_dso.n) {
		const struct addr *a = leaf->a;
		struct pd_dso *d = a ? (struct pd_dso *)(uintptr_t)(a->tag & ~(uint64_t)15) : NULL;

		if (!d || !(list_has(&t->f_dso, a->dso) || list_has(&t->f_dso, pd_dso_name(d))))
			return false;
	}
	if (t->f_sym.n && !(leaf->a && leaf->a->name && list_has(&t->f_sym, leaf->a->name)))
		return false;
	return true;
}

static int
chain_seq_cmp(const void *pa, const void *pb)
{
	const struct chain *a = *(const struct chain *const *)pa, *b = *(const struct chain *const *)pb;

	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * The frames of chain C, named, into *FR (NF of them); UNRESOLVED: some
 * frame has no symbol.  -1 when out of memory.
 */
static int
chain_frames(struct pd_top *t, struct pd_symbolizer *y, const struct chain *c, struct frame_ref **fr,
    size_t *afr, size_t *nf, bool *unresolved)
{
	size_t n = (c->key[0] - 4) / t->fw;

	if (PD_GROW(*fr, n + 1, *afr) < 0)
		return -1;
	*nf = n;
	*unresolved = false;
	/*
	 * DWARF inline rows: perf report shows children with the chain in
	 * caller order, and so looks its frames up from the root (the
	 * names can depend on the order: sym.c, a2l_name).
	 */
	for (size_t i = 0; i < n; i++) {
		size_t f = t->dwsrc ? n - 1 - i : i;
		const uint64_t *w = c->key + 4 + t->fw * f;
		struct frame_ref *r = &(*fr)[f];
		/*
		 * Source views: below the sample address, a return address,
		 * but for the first user frame under kernel frames (as
		 * stack.c).  DWARF frames as perf names them (dw_rows).
		 */
		bool ret = t->src && f > 0 && (c->key[4 + t->fw * (f - 1)] & 3) != PD_FRAME_KERNEL;
		bool unw = t->dwsrc && (w[0] & UNW_TAG);

		r->a = addr_get(t, y, (w[0] & ~(uint64_t)UNW_TAG) | (ret ? RET_TAG : 0) | (unw ? UNW_TAG : 0),
		    w[1]);
		if (!r->a)
			return -1;
		r->kind = w[0] & 3;
		r->rel = w[1];
		r->ip = t->fw == 3 ? w[2] : w[1];
		r->src = NULL;
		r->inl = false;
		*unresolved |= !r->a->sym;
	}
	if (n == 0)		/* a chain perf drops; no address left */
		(*fr)[0] = (struct frame_ref){ NULL, 0, 0, PD_FRAME_USER, NULL, false };
	return 0;
}

/* The comm of chain C, interned, into *COMM.  -1 when out of memory. */
static int
chain_comm(struct pd_top *t, const struct chain *c, const char **comm)
{
	const char *cm = (const char *)(uintptr_t)c->key[2];

	*comm = NULL;
	if (cm && !(*comm = intern(t, cm, strlen(cm))))
		return -1;
	return 0;
}

/* SAMPLES and PERIOD of chain C (frames FR, NF of them) to its entries. */
static int
chain_entries(struct pd_top *t, const struct chain *c, struct frame_ref *fr, size_t nf, const char *comm,
    bool filtered, uint64_t samples, uint64_t period)
{
	size_t ev = (size_t)(c->key[1] & ~FILTERED), start;
	uint64_t k[KEY_WORDS];
	struct entry proto;
	char level;
	int rc;

	t->stamp++;
	/* Source views: self is the innermost level. */
	if (fr[0].a && fr[0].a->nlv && !fr[0].a->inl)
		fr[0].src = fr[0].a->lv[fr[0].a->nlv - 1];
	make_key(t, k, &proto, ev, comm, c->key[3], &fr[0], true);
	proto.filtered = filtered;
	rc = add_entry(t, k, &proto, samples, period, true);
	if (!t->children || rc < 0)
		return rc;
	/*
	 * perf walks the chain from the root and keeps max_stack frames.
	 * A frame without a map keeps the mark of the last one with a
	 * map, or the sample's own (fill_callchain_info leaves it).
	 */
	start = nf > t->max_stack ? nf - t->max_stack : 0;
	level = level_of(fr[0].kind);
	for (size_t f = nf; f-- > start && rc == PD_OK;) {
		size_t nlv = fr[f].a->nlv ? fr[f].a->nlv : 1;

		/*
		 * Source views: every level, outermost first.  DWARF frames:
		 * the symbol itself, or perf's "(inlined)" one.
		 */
		for (size_t l = 0; l < nlv && rc == PD_OK; l++) {
			fr[f].inl = fr[f].a->inl && fr[f].a->inl[l];
			fr[f].src = fr[f].a->nlv && (!fr[f].a->inl || fr[f].inl) ? fr[f].a->lv[l] : NULL;
			make_key(t, k, &proto, ev, comm, c->key[3], &fr[f], false);
			proto.filtered = filtered;
			if (fr[f].a->dso)
				level = proto.level;
			else
				proto.level = level;
			rc = add_entry(t, k, &proto, samples, period, false);
		}
	}
	return rc;
}

int
pd_top_flush(struct pd_top *t, struct pd_session *sess)
{
	struct pd_symbolizer *y = pd_session_symbolizer(sess);
	struct frame_ref *fr = NULL;
	struct chain **order = NULL;
	size_t afr = 0, n = 0;
	int rc = PD_OK;

	t->src = pd_symbolizer_src_wanted(y, false);
	t->dwsrc = dw_rows(t, y);
	/*
	 * In the order the chains were first seen: an entry takes its display
	 * fields from the sample that made it, as in perf.
	 */
	if (t->used && !(order = malloc(t->used * sizeof(*order))))
		return set_error(t, PD_E_NOMEM, "out of memory");
	for (size_t i = 0; i < t->cap; i++)
		if (t->tab[i].key)
			order[n++] = &t->tab[i];
	if (n)
		qsort(order, n, sizeof(*order), chain_seq_cmp);
	for (size_t i = 0; i < n && rc == PD_OK; i++) {
		struct chain *c = order[i];
		struct table *tb = &t->tables[c->key[1] & ~FILTERED];
		const char *comm;
		size_t nf;
		bool unresolved, filtered = c->key[1] & FILTERED;

		if (chain_frames(t, y, c, &fr, &afr, &nf, &unresolved) < 0 || chain_comm(t, c, &comm) < 0) {
			rc = set_error(t, PD_E_NOMEM, "out of memory");
			break;
		}
		filtered |= !kept_by_dso_sym(t, &fr[0]);
		if (!filtered) {
			tb->kept_samples += c->samples;
			tb->kept_period += c->period;
		}
		if (t->o.health && !filtered) {
			struct health *h = &t->h;

			h->samples += c->samples;
			h->frames += c->samples * nf;
			for (size_t f = 0; f < nf; f++)
				h->frames_unresolved += fr[f].a->sym ? 0 : c->samples;
			if (nf == 0)
				h->empty += c->samples;
			if (unresolved)
				h->unresolved_any += c->samples;
			if (nf && !fr[0].a->sym)
				h->unresolved_leaf += c->samples;
			if (tb->has_chain) {
				h->chained += c->samples;
				if (nf == 1)
					h->leaf_only += c->samples;
				if (nf >= t->max_stack)
					h->truncated += c->samples;
				else if (nf && !is_root(fr[nf - 1].a->name))
					h->broken += c->samples;
				if (nf == 1 || nf >= t->max_stack || (nf && !is_root(fr[nf - 1].a->name)))
					h->suspect += c->samples;
			}
			rc = health_thread(t, c->key[3], comm, c->samples);
			if (rc < 0)
				break;
		}
		if (!t->dwsrc)
			rc = chain_entries(t, c, fr, nf, comm, filtered, c->samples, c->period);
	}
	/*
	 * DWARF inline rows: sample by sample, in file order, as perf finds
	 * their entries (perf_find); the frames were named above, in perf's
	 * order of lookups.
	 */
	for (size_t i = 0; t->dwsrc && i < t->nlog && rc == PD_OK; i++) {
		struct chain *c = order[t->log[i].seq - t->seq0];
		const char *comm;
		size_t nf;
		bool unresolved;

		if (chain_frames(t, y, c, &fr, &afr, &nf, &unresolved) < 0 || chain_comm(t, c, &comm) < 0)
			rc = set_error(t, PD_E_NOMEM, "out of memory");
		else
			rc = chain_entries(t, c, fr, nf, comm, (c->key[1] & FILTERED) || !kept_by_dso_sym(t, &fr[0]),
			    1, t->log[i].period);
	}
	t->nlog = 0;
	free(fr);
	free(order);
	if (t->tab)
		memset(t->tab, 0, t->cap * sizeof(*t->tab));
	t->used = 0;
	t->pending = 0;
	pd_arena_release(&t->keys_arena);
	return rc;
}

int
pd_top_finish(struct pd_top *t, struct pd_session *sess, struct pd_reader *r)
{
	int rc = pd_top_begin(t, r);

	if (rc == PD_OK)
		rc = pd_top_flush(t, sess);
	if (rc == PD_OK && t->dwsrc)
		rc = perf_collapse(t);
	/* The addresses name DSOs of this session: they must not outlive it. */
	addrs_free(t);
	{
		const struct pd_stats *st = pd_session_stats(sess);

		t->stats = *st;
	}
	if (!t->input && !(t->input = strdup(pd_reader_name(r))))
		return set_error(t, PD_E_NOMEM, "out of memory");
	if (rc < 0)
		return rc;
	if (t->event && !t->event_found) {
		struct pd_buf b = PD_BUF_INIT;

		for (size_t i = 0; i < t->nr_tables; i++) {
			const struct pd_event_info *e = i < pd_reader_nr_events(r) ? pd_reader_event(r, i) : NULL;

			if (!t->tables[i].name || (e && e->is_dummy))
				continue;
			pd_buf_addf(&b, "%s%s", b.len ? ", " : "", t->tables[i].name);
		}
		rc = set_error(t, PD_E_USAGE, "'%s': no event '%s' (events: %s)", pd_reader_name(r),
		    t->event, b.len ? b.buf : "none");
		pd_buf_release(&b);
	}
	return rc;
}

uint64_t
pd_top_other_event(const struct pd_top *t)
{
	return t->other_event;
}

/* ---------------------------------------------------------------- */
/* Folded input. */

int
pd_top_sniff(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (len >= 8 && (!memcmp(p, "PERFILE2", 8) || !memcmp(p, "2ELIFREP", 8)))
		return 1;
	/* A file cut inside the magic is perf.data cut short, not text (no count). */
	if (len && len < 8 && (!memcmp(p, "PERFILE2", len) || !memcmp(p, "2ELIFREP", len)))
		return 1;
	for (size_t i = 0; i < len; i++)
		if (p[i] == 0)
			return -1;
	return 0;
}

/* A folded frame name: "_[k]" marks a kernel frame; "_[j]" and "_[i]" go. */
static const char *
folded_name(struct pd_top *t, const char *nm, size_t n, unsigned *kind)
{
	*kind = PD_FRAME_USER;
	if (n > 4 && nm[n - 4] == '_' && nm[n - 3] == '[' && nm[n - 1] == ']' &&
	    (nm[n - 2] == 'k' || nm[n - 2] == 'j' || nm[n - 2] == 'i')) {
		if (nm[n - 2] == 'k')
			*kind = PD_FRAME_KERNEL;
		n -= 4;
	}
	return intern(t, nm, n);
}

/* Add one frame of a folded stack: an entry keyed by its name. */
static int
folded_frame(struct pd_top *t, const char *comm, const char *name, unsigned kind, uint64_t count,
    bool self)
{
	struct addr a = { 0 };
	struct pd_sym sym = { 0 };
	struct frame_ref f = { &a, 0, 0, kind, NULL, false };
	uint64_t k[KEY_WORDS];
	struct entry proto;

	a.name = name;
	a.sym = &sym;
	/* Names are interned: the pointer is the identity. */
	sym.start = (uint64_t)(uintptr_t)name;
	make_key(t, k, &proto, 0, comm, 0, &f, self);
	proto.start = 0;
	return add_entry(t, k, &proto, count, count, self);
}

static int
folded_line(struct pd_top *t, char *line, size_t len, uint64_t lineno, uint64_t off)
{
	char *end = line + len, *sp, *p;
	uint64_t count = 0;
	const char *comm, *leaf;
	struct table *tb = &t->tables[0];
	size_t nf = 0;
	unsigned kind;

	while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	sp = strrchr(line, ' ');
	if (!sp || sp[1] == '\0')
		return set_error(t, PD_E_FORMAT, "'%s': line %llu: no count at the end at offset 0x%llx",
		    t->input, (unsigned long long)lineno, (unsigned long long)off);
	if (pd_parse_count(sp + 1, (size_t)(end - sp - 1), &count) < 0)
		return set_error(t, PD_E_FORMAT, "'%s': line %llu: bad count '%.64s' at offset 0x%llx",
		    t->input, (unsigned long long)lineno, sp + 1, (unsigned long long)off);
	end = sp;
	/* "stack OLD NEW": a differential line; NEW is what it weighs now. */
	sp = memrchr(line, ' ', (size_t)(end - line));
	if (sp && sp + 1 < end && strspn(sp + 1, "0123456789") == (size_t)(end - sp - 1))
		end = sp;
	while (end > line && end[-1] == ' ')
		end--;
	*end = '\0';
	if (end == line)
		return set_error(t, PD_E_FORMAT, "'%s': line %llu: no stack before the count at offset 0x%llx",
		    t->input, (unsigned long long)lineno, (unsigned long long)off);
	/* Every row's count is part of this total: checked once, here. */
	if (pd_add_weight(&tb->period, count) < 0)
		return set_error(t, PD_E_LIMIT, "'%s': line %llu: %s at offset 0x%llx", t->input,
		    (unsigned long long)lineno, PD_WEIGHT_OVERFLOW, (unsigned long long)off);
	tb->samples += count;
	p = strchr(line, ';');
	comm = intern(t, line, p ? (size_t)(p - line) : strlen(line));
	if (!comm)
		return set_error(t, PD_E_NOMEM, "out of memory");
	/*
	 * No perf to follow here: a line the filters drop adds to nothing
	 * (perf's order-dependent hists only matter for perf.data).
	 */
	if (t->f_comm.n && !list_has(&t->f_comm, comm))
		return PD_OK;
	/* The frames, root first, NUL-terminated in place. */
	t->nfnames = 0;
	for (char *q = p; q; q = strchr(q + 1, ';')) {
		if (PD_GROW(t->fnames, t->nfnames + 1, t->afnames) < 0)
			return set_error(t, PD_E_NOMEM, "out of memory");
		t->fnames[t->nfnames++] = q + 1;
		*q = '\0';
	}
	nf = t->nfnames;
	leaf = nf ? folded_name(t, t->fnames[nf - 1], strlen(t->fnames[nf - 1]), &kind) :
	    intern(t, "[unknown]", 9);
	if (!nf)
		kind = PD_FRAME_USER;
	if (!leaf)
		return set_error(t, PD_E_NOMEM, "out of memory");
	if (t->f_sym.n && !list_has(&t->f_sym, leaf))
		return PD_OK;
	tb->kept_samples += count;
	tb->kept_period += count;
	if (nf > 1)
		tb->has_chain = true;
	t->stamp++;
	if (folded_frame(t, comm, leaf, kind, count, true) < 0)
		return PD_E_NOMEM;
	for (size_t i = 0; i < nf; i++) {
		const char *nm = folded_name(t, t->fnames[i], strlen(t->fnames[i]), &kind);

		if (!nm)
			return set_error(t, PD_E_NOMEM, "out of memory");
		if (!*nm)
			continue;
		if (folded_frame(t, comm, nm, kind, count, false) < 0)
			return PD_E_NOMEM;
	}
	return PD_OK;
}

int
pd_top_read_folded(struct pd_top *t, FILE *in, const char *name)
{
	char *line = NULL;
	size_t alloc = 0;
	ssize_t n;
	uint64_t lineno = 0, off = 0, next = 0;
	int rc = PD_OK;

	t->folded = true;
	free(t->input);
	if (!(t->input = strdup(name)))
		return set_error(t, PD_E_NOMEM, "out of memory");
	if (!t->sort_set) {
		static const enum pd_top_key folded_keys[] = { PD_TOP_COMM, PD_TOP_SYMBOL };

		set_keys(t, folded_keys, 2);
	}
	for (size_t i = 0; i < t->nr_keys; i++)
		if (t->keys[i] != PD_TOP_SYMBOL && t->keys[i] != PD_TOP_COMM)
			return set_error(t, PD_E_USAGE, "'%s': folded stacks have no %s; sort by symbol or comm",
			    name, key_names[t->keys[i]]);
	if (t->f_dso.n || t->f_pid.n || t->f_tid.n)
		return set_error(t, PD_E_USAGE, "'%s': folded stacks have no %s to filter on", name,
		    t->f_dso.n ? "dso" : t->f_pid.n ? "pid" : "tid");
	if (!table_get(t, 0))
		return set_error(t, PD_E_NOMEM, "out of memory");
	t->tables[0].selected = true;
	t->tables[0].seen = true;
	/* Both columns are counted; the mode only picks what is shown. */
	t->children = 1;
	while ((n = getline(&line, &alloc, in)) > 0) {
		size_t len = (size_t)n;

		off = next;
		next += (uint64_t)n;
		lineno++;
		if (line[len - 1] == '\n')
			len--;
		if (len && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		if (lineno == 1 && line[0] == '#') {
			struct pd_folded_meta m;

			/* Without a metadata line the counts are sample counts. */
			if (pd_folded_meta_parse(line, len, &m)) {
				t->folded_periods = m.weight == PD_WEIGHT_PERIOD;
				if (t->folded_periods && t->o.weight_samples) {
					rc = set_error(t, PD_E_USAGE, "'%s': the counts are periods "
					    "(weight=period), not samples; drop --weight=samples, or "
					    "fold without --weight=period", name);
					break;
				}
				if (m.event[0] && !t->tables[0].name &&
				    !(t->tables[0].name = strdup(m.event))) {
					rc = set_error(t, PD_E_NOMEM, "out of memory");
					break;
				}
			}
			continue;
		}
		if (strspn(line, " \t") == len || line[0] == '#')
			continue;
		if (memchr(line, '\0', len)) {
			rc = set_error(t, PD_E_FORMAT, "'%s': line %llu: a NUL byte in text at offset 0x%llx",
			    name, (unsigned long long)lineno, (unsigned long long)off);
			break;
		}
		if ((rc = folded_line(t, line, len, lineno, off)) < 0)
			break;
	}
	free(line);
	if (rc == PD_OK && ferror(in))
		rc = set_error(t, PD_E_IO, "'%s': read error", name);
	if (!t->tables[0].name && !(t->tables[0].name = strdup("folded")))
		return set_error(t, PD_E_NOMEM, "out of memory");
	t->children = t->o.children >= 0 ? t->o.children : t->tables[0].has_chain;
	return rc;
}

/* ---------------------------------------------------------------- */
/* Output. */

struct row {
	const struct entry *e;
	uint64_t v, sv;			/* the first column's and self's weight */
	double pct, spct;
};

static int
cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int
row_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct row *ra = pa, *rb = pb;
	const struct entry *a = ra->e, *b = rb->e;
	const struct pd_top *t = ctx;
	int c;

	if (ra->v != rb->v)
		return ra->v > rb->v ? -1 : 1;
	if (ra->sv != rb->sv)
		return ra->sv > rb->sv ? -1 : 1;
	for (size_t i = 0; i < t->nr_keys; i++) {
		switch (t->keys[i]) {
		case PD_TOP_SYMBOL:
			/* perf's cmp_null: resolved symbols first */
			if (!a->sym != !b->sym)
				return a->sym ? -1 : 1;
			c = a->sym ? strcmp(a->sym, b->sym) : cmp_u64(a->addr, b->addr);
			break;
		case PD_TOP_DSO:
			if (!a->dso != !b->dso)
				return a->dso ? -1 : 1;
			c = strcmp(nz(a->dso), nz(b->dso));
			break;
		case PD_TOP_COMM:
			c = strcmp(nz(a->comm), nz(b->comm));
			break;
		case PD_TOP_PID:
			c = cmp_u64(a->pid, b->pid);
			break;
		default:
			c = cmp_u64(a->tid, b->tid);
			break;
		}
		if (c)
			return c;
	}
	/* Entries that print alike: still one order on every run. */
	if ((c = strcmp(nz(a->dso), nz(b->dso))) || (c = strcmp(nz(a->sym), nz(b->sym))) ||
	    (c = strcmp(nz(a->comm), nz(b->comm))) || (c = cmp_u64(a->start, b->start)) ||
	    (c = cmp_u64(a->end, b->end)) || (c = cmp_u64(a->addr, b->addr)) ||
	    (c = cmp_u64(a->pid, b->pid)) || (c = cmp_u64(a->tid, b->tid)))
		return c;
	if (a->inlined != b->inlined)
		return a->inlined ? 1 : -1;
	return a->level - b->level;
}

static uint64_t
wt(const struct pd_top *t, uint64_t samples, uint64_t period)
{
	return t->o.weight_samples ? samples : period;
}

/*
 * The totals percentages are of: every sample of event EV, or, relative,
 * the self weight of the entries shown (perf's total_non_filtered_period).
 */
static void
totals(const struct pd_top *t, size_t ev, uint64_t *samples, uint64_t *period)
{
	const struct table *tb = &t->tables[ev];

	*samples = tb->samples;
	*period = tb->period;
	if (!t->o.relative || (!t->f_comm.n && !t->f_dso.n && !t->f_sym.n && !t->f_pid.n && !t->f_tid.n))
		return;
	if (t->folded) {
		*samples = tb->kept_samples;
		*period = tb->kept_period;
		return;
	}
	*samples = *period = 0;
	for (size_t i = 0; i < t->nents; i++)
		if (t->ents[i].event == ev && !t->ents[i].filtered) {
			*samples += t->ents[i].self_samples;
			*period += t->ents[i].self_period;
		}
}

/* The rows of event EV, sorted, limited as P says. */
static int
rows_of(struct pd_top *t, size_t ev, const struct pd_top_print *p, struct row **out, size_t *nout)
{
	uint64_t ts, tp, total;
	struct row *v = NULL;
	size_t n = 0, alloc = 0, keep = 0;

	totals(t, ev, &ts, &tp);
	total = wt(t, ts, tp);
	for (size_t i = 0; i < t->nents; i++) {
		const struct entry *e = &t->ents[i];
		struct row r;

		if (e->event != ev || e->filtered || (t->children ? !e->acc_samples : !e->self_samples))
			continue;
		r.e = e;
		r.sv = wt(t, e->self_samples, e->self_period);
		r.v = t->children ? wt(t, e->acc_samples, e->acc_period) : r.sv;
		r.pct = total ? 100.0 * (double)r.v / (double)total : 0.0;
		r.spct = total ? 100.0 * (double)r.sv / (double)total : 0.0;
		if (PD_GROW(v, n + 1, alloc) < 0) {
			free(v);
			return set_error(t, PD_E_NOMEM, "out of memory");
		}
		v[n++] = r;
	}
	if (n)
		qsort_r(v, n, sizeof(*v), row_cmp, t);
	for (size_t i = 0; i < n; i++) {
		if (p->percent_limit > 0 && v[i].pct < p->percent_limit)
			continue;
		if (p->rows && keep >= p->rows)
			break;
		v[keep++] = v[i];
	}
	*out = v;
	*nout = keep;
	return PD_OK;
}

/* One cell of key K, as perf report prints it, into B. */
static void
cell(struct pd_buf *b, enum pd_top_key k, const struct entry *e)
{
	switch (k) {
	case PD_TOP_SYMBOL:
		pd_buf_addf(b, "[%c] ", e->level);
		if (e->sym && e->inlined)
			pd_buf_addf(b, "%s (inlined)", e->sym);
		else if (e->sym)
			pd_buf_addstr(b, e->sym);
		else
			pd_buf_addf(b, "%-#.*llx", 16, (unsigned long long)e->addr);
		break;
	case PD_TOP_DSO:
		pd_buf_addstr(b, e->dso ? e->dso : "[unknown]");
		break;
	case PD_TOP_COMM:
		pd_buf_addstr(b, nz(e->comm));
		break;
	case PD_TOP_PID:
		pd_buf_addf(b, "%u", e->pid);
		break;
	case PD_TOP_TID:
		pd_buf_addf(b, "%u", e->tid);
		break;
	}
}

static const char *
key_title(enum pd_top_key k)
{
	static const char *const titles[] = { "Symbol", "Shared Object", "Command", "Pid", "Tid" };

	return titles[k];
}

/* perf's convert_unit: "219 ", "4K", "12M". */
static void
print_samples_unit(FILE *out, uint64_t n)
{
	char unit = ' ';

	if (n > 1000) { n /= 1000; unit = 'K'; }
	if (n > 1000) { n /= 1000; unit = 'M'; }
	if (n > 1000) { n /= 1000; unit = 'G'; }
	fprintf(out, "# Samples: %llu%c", (unsigned long long)n, unit);
}

static void
print_filters(const struct pd_top *t, FILE *out, const char *prefix)
{
	const struct list *ls[3] = { &t->f_comm, &t->f_dso, &t->f_sym };
	const char *names[3] = { "comm", "dso", "symbol" };

	for (int i = 0; i < 3; i++) {
		if (!ls[i]->n)
			continue;
		fprintf(out, "%s%s: ", prefix, names[i]);
		for (size_t j = 0; j < ls[i]->n; j++)
			fprintf(out, "%s%s", j ? "," : "", ls[i]->v[j]);
		fputc('\n', out);
	}
	if (t->f_pid.n || t->f_tid.n) {
		for (int w = 0; w < 2; w++) {
			const uint32_t *v = w ? t->f_tid.v : t->f_pid.v;
			size_t n = w ? t->f_tid.n : t->f_pid.n;

			if (!n)
				continue;
			fprintf(out, "%s%s: ", prefix, w ? "tid" : "pid");
			for (size_t j = 0; j < n; j++)
				fprintf(out, "%s%u", j ? "," : "", v[j]);
			fputc('\n', out);
		}
	}
}

static int
write_text(struct pd_top *t, FILE *out, const struct pd_top_print *p)
{
	struct pd_buf b = PD_BUF_INIT;
	int rc = PD_OK;

	print_filters(t, out, "# ");
	if (!t->folded)
		fprintf(out, "#\n# Total Lost Samples: %llu\n#\n",
		    (unsigned long long)t->stats.lost_samples);
	for (size_t ev = 0; ev < t->nr_tables; ev++) {
		const struct table *tb = &t->tables[ev];
		size_t width[PD_TOP_MAX_KEYS], n;
		struct row *rows;
		uint64_t ts, tp;

		if (!tb->selected || !tb->samples)
			continue;
		if ((rc = rows_of(t, ev, p, &rows, &n)) < 0)
			break;
		totals(t, ev, &ts, &tp);
		/*
		 * Folded counts are either samples or periods, never both: name
		 * only the one they are.
		 */
		if (t->folded && t->folded_periods) {
			fprintf(out, "# Event count (approx.): %llu of event '%s'\n",
			    (unsigned long long)tp, nz(tb->name));
		} else {
			print_samples_unit(out, ts);
			fprintf(out, " of event '%s'\n", nz(tb->name));
			if (!t->folded)
				fprintf(out, "# Event count (approx.): %llu\n", (unsigned long long)tp);
		}
		if (t->o.weight_samples)
			fprintf(out, "# Weight: samples\n");
		fprintf(out, "#\n");
		for (size_t k = 0; k < t->nr_keys; k++) {
			width[k] = strlen(key_title(t->keys[k]));
			for (size_t i = 0; i < n; i++) {
				pd_buf_reset(&b);
				cell(&b, t->keys[k], rows[i].e);
				if (b.len > width[k])
					width[k] = b.len;
			}
		}
		fprintf(out, "# %s", t->children ? "Children      Self" : "Overhead");
		for (size_t k = 0; k < t->nr_keys; k++)
			fprintf(out, "  %-*s", k + 1 < t->nr_keys ? (int)width[k] : 0, key_title(t->keys[k]));
		fprintf(out, "\n# %s", t->children ? "........  ........" : "........");
		for (size_t k = 0; k < t->nr_keys; k++) {
			fputs("  ", out);
			for (size_t i = 0; i < width[k]; i++)
				fputc('.', out);
		}
		fprintf(out, "\n#\n");
		for (size_t i = 0; i < n; i++) {
			char pct[32];

			snprintf(pct, sizeof(pct), "%.2f%%", rows[i].pct);
			fprintf(out, "  %8s", pct);
			if (t->children) {
				snprintf(pct, sizeof(pct), "%.2f%%", rows[i].spct);
				fprintf(out, "  %8s", pct);
			}
			for (size_t k = 0; k < t->nr_keys; k++) {
				pd_buf_reset(&b);
				cell(&b, t->keys[k], rows[i].e);
				fprintf(out, "  %-*s", k + 1 < t->nr_keys ? (int)width[k] : 0, b.buf);
			}
			fputc('\n', out);
		}
		fputs("\n\n", out);
		free(rows);
	}
	pd_buf_release(&b);
	return rc;
}

/* TSV cells: tab, newline, carriage return and backslash escaped. */
static void
tsv_str(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\t': fputs("\\t", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\\': fputs("\\\\", out); break;
		default: fputc(*s, out);
		}
	}
}

/* The length of the valid UTF-8 sequence at S, or 0. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) || (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

/* A JSON string: escapes as RFC 8259 says, bytes that are not UTF-8 as U+FFFD. */
static void
json_str(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', out);
	while (*s) {
		size_t n = utf8_len(s);

		if (n == 0) {
			fputs("\\ufffd", out);
			s++;
			continue;
		}
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '\t')
			fputs("\\t", out);
		else if (*s < 0x20 || *s == 0x7f)
			fprintf(out, "\\u%04x", *s);
		else
			fwrite(s, 1, n, out);
		s += n;
	}
	fputc('"', out);
}

static const char *
mode_name(const struct pd_top *t)
{
	return t->children ? "children" : "self";
}

/* A count: "null" in JSON or an empty TSV cell when the input does not have it. */
static void
count_cell(FILE *out, bool json, bool known, uint64_t v)
{
	if (known)
		fprintf(out, "%llu", (unsigned long long)v);
	else if (json)
		fputs("null", out);
}

/*
 * TSV: one header row, then the rows of every event, the event in the last
 * column; the metadata (totals, weight, mode) is in the JSON.  JSON: one
 * object with it all.  Folded counts are samples or periods, never both:
 * the other one is null (JSON) or empty (TSV).
 */
static int
write_machine(struct pd_top *t, FILE *out, const struct pd_top_print *p)
{
	bool json = p->format == PD_TOP_JSON;
	bool has_smp = !(t->folded && t->folded_periods), has_per = !(t->folded && !t->folded_periods);
	struct pd_buf b = PD_BUF_INIT;
	bool first_ev = true;
	int rc = PD_OK;

	if (json) {
		fprintf(out, "{\"schema\":\"pd-top-v1\",\"input\":\"%s\",\"weight\":\"%s\",\"mode\":\"%s\","
		    "\"percentage\":\"%s\",\"sort\":[", t->folded ? "folded" : "perf.data",
		    t->o.weight_samples ? "samples" : "period", mode_name(t),
		    t->o.relative ? "relative" : "absolute");
		for (size_t k = 0; k < t->nr_keys; k++)
			fprintf(out, "%s\"%s\"", k ? "," : "", key_names[t->keys[k]]);
		fprintf(out, "],\"lost_samples\":%llu,\"events\":[",
		    (unsigned long long)t->stats.lost_samples);
	} else {
		fputs("overhead\tsamples\tperiod", out);
		for (size_t k = 0; k < t->nr_keys; k++)
			fprintf(out, "\t%s", key_names[t->keys[k]]);
		if (t->children)
			fputs("\tself\tself_samples\tself_period", out);
		fputs("\tevent\n", out);
	}
	for (size_t ev = 0; ev < t->nr_tables; ev++) {
		const struct table *tb = &t->tables[ev];
		struct row *rows;
		size_t n;
		uint64_t ts, tp;

		if (!tb->selected || !tb->samples)
			continue;
		if ((rc = rows_of(t, ev, p, &rows, &n)) < 0)
			break;
		totals(t, ev, &ts, &tp);
		if (json) {
			fprintf(out, "%s\n{\"event\":", first_ev ? "" : ",");
			json_str(out, nz(tb->name));
			fputs(",\"samples\":", out);
			count_cell(out, json, has_smp, tb->samples);
			fputs(",\"period\":", out);
			count_cell(out, json, has_per, tb->period);
			fputs(",\"kept_samples\":", out);
			count_cell(out, json, has_smp, ts);
			fputs(",\"kept_period\":", out);
			count_cell(out, json, has_per, tp);
			fputs(",\"columns\":[\"overhead\",\"samples\",\"period\"", out);
			for (size_t k = 0; k < t->nr_keys; k++)
				fprintf(out, ",\"%s\"", key_names[t->keys[k]]);
			if (t->children)
				fputs(",\"self\",\"self_samples\",\"self_period\"", out);
			fputs("],\"rows\":[", out);
		}
		for (size_t i = 0; i < n; i++) {
			const struct entry *e = rows[i].e;
			uint64_t smp = t->children ? e->acc_samples : e->self_samples;
			uint64_t per = t->children ? e->acc_period : e->self_period;

			if (json)
				fprintf(out, "%s\n{\"overhead\":%.2f,\"samples\":", i ? "," : "", rows[i].pct);
			else
				fprintf(out, "%.2f\t", rows[i].pct);
			count_cell(out, json, has_smp, smp);
			fputs(json ? ",\"period\":" : "\t", out);
			count_cell(out, json, has_per, per);
			for (size_t k = 0; k < t->nr_keys; k++) {
				pd_buf_reset(&b);
				cell(&b, t->keys[k], e);
				if (json) {
					fprintf(out, ",\"%s\":", key_names[t->keys[k]]);
					if (t->keys[k] == PD_TOP_PID || t->keys[k] == PD_TOP_TID)
						fputs(b.buf, out);
					else
						json_str(out, b.buf);
				} else {
					fputc('\t', out);
					tsv_str(out, b.buf);
				}
			}
			if (t->children) {
				fprintf(out, json ? ",\"self\":%.2f,\"self_samples\":" : "\t%.2f\t",
				    rows[i].spct);
				count_cell(out, json, has_smp, e->self_samples);
				fputs(json ? ",\"self_period\":" : "\t", out);
				count_cell(out, json, has_per, e->self_period);
			}
			if (json) {
				fputs("}", out);
			} else {
				fputc('\t', out);
				tsv_str(out, nz(tb->name));
				fputc('\n', out);
			}
		}
		if (json)
			fputs("]}", out);
		first_ev = false;
		free(rows);
	}
	if (json)
		fputs("\n]}\n", out);
	pd_buf_release(&b);
	return rc;
}

static int
top_write_c(struct pd_top *t, FILE *out, const struct pd_top_print *p)
{
	int rc;

	if (t->children < 0)
		t->children = t->o.children > 0;
	if (p->format == PD_TOP_TEXT)
		rc = write_text(t, out, p);
	else
		rc = write_machine(t, out, p);
	if (rc == PD_OK && ferror(out))
		rc = PD_E_IO;
	return rc;
}

/* Numbers in the C locale, whatever the caller's. */
int
pd_top_write(struct pd_top *t, FILE *out, const struct pd_top_print *p)
{
	struct pd_cloc l;
	int rc;

	pd_cloc_enter(&l);
	rc = top_write_c(t, out, p);
	pd_cloc_leave(&l);
	return rc;
}

/* ---------------------------------------------------------------- */
/* --health. */

static double
share(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static int
thr_cmp(const void *pa, const void *pb)
{
	const struct thr *a = *(const struct thr *const *)pa, *b = *(const struct thr *const *)pb;

	if (a->samples != b->samples)
		return a->samples > b->samples ? -1 : 1;
	return cmp_u64(a->key, b->key);
}

static int
top_write_health_c(struct pd_top *t, FILE *out)
{
	const struct health *h = &t->h;
	const struct pd_stats *st = &t->stats;
	uint64_t all = 0, lost = st->lost_samples;
	size_t nthr = HASH_COUNT(t->threads), i = 0;
	struct thr **v = NULL, *th, *tmp;
	struct pd_buf why = PD_BUF_INIT;
	bool chains = false;

	if (t->folded)
		return set_error(t, PD_E_USAGE, "'%s': --health reads perf.data, not folded stacks",
		    nz(t->input));
	for (size_t ev = 0; ev < t->nr_tables; ev++) {
		all += t->tables[ev].samples;
		chains |= t->tables[ev].selected && t->tables[ev].has_chain && t->tables[ev].samples;
	}
	fprintf(out, "# pdtop --health '%s'\n", nz(t->input));
	fprintf(out, "samples:     %llu read", (unsigned long long)all);
	if (all != h->samples)
		fprintf(out, ", %llu looked at (event choice and filters)", (unsigned long long)h->samples);
	fputc('\n', out);
	fprintf(out, "events:     ");
	for (size_t ev = 0; ev < t->nr_tables; ev++) {
		const struct table *tb = &t->tables[ev];

		if (!tb->samples)
			continue;
		fprintf(out, " %s %llu samples (%.2f%%, period %llu)%s", nz(tb->name),
		    (unsigned long long)tb->samples, share(tb->samples, all),
		    (unsigned long long)tb->period, tb->has_chain ? "" : " without call chains");
		if (ev + 1 < t->nr_tables)
			fputc(';', out);
	}
	fputc('\n', out);
	fprintf(out, "lost:        %llu samples (%.2f%% of those taken), %llu events in %llu LOST records;"
	    " %llu samples unreadable\n", (unsigned long long)lost, share(lost, all + lost),
	    (unsigned long long)st->lost, (unsigned long long)st->lost_records,
	    (unsigned long long)(st->samples_bad + st->samples_unknown_id));
	fprintf(out, "unresolved:  %.2f%% of samples have a frame without a symbol, %.2f%% their own"
	    " address; %.2f%% of %llu frames\n", share(h->unresolved_any, h->samples),
	    share(h->unresolved_leaf, h->samples), share(h->frames_unresolved, h->frames),
	    (unsigned long long)h->frames);
	if (chains)
		fprintf(out, "stacks:      %.2f%% empty, %.2f%% leaf only, %.2f%% cut at the %u-frame limit,"
		    " %.2f%% end before a thread entry point (broken or truncated)\n",
		    share(h->empty, h->samples), share(h->leaf_only, h->chained),
		    share(h->truncated, h->chained), t->max_stack, share(h->broken, h->chained));
	else
		fprintf(out, "stacks:      no call chains (record with -g for stacks)\n");
	if (st->unwind_samples) {
		uint64_t bad = st->unwind_truncated + st->unwind_none;
		uint64_t full = st->unwind_samples - (bad < st->unwind_samples ? bad : st->unwind_samples);

		fprintf(out, "unwinding:   %llu samples with a user stack to unwind (DWARF): %llu (%.2f%%) unwound"
		    " fully, %llu (%.2f%%) truncated, %llu (%.2f%%) not at all\n",
		    (unsigned long long)st->unwind_samples, (unsigned long long)full,
		    share(full, st->unwind_samples), (unsigned long long)st->unwind_truncated,
		    share(st->unwind_truncated, st->unwind_samples), (unsigned long long)st->unwind_none,
		    share(st->unwind_none, st->unwind_samples));
	}
	if (nthr) {
		v = malloc(nthr * sizeof(*v));
		if (!v)
			return set_error(t, PD_E_NOMEM, "out of memory");
		HASH_ITER(hh, t->threads, th, tmp)
			v[i++] = th;
		qsort(v, nthr, sizeof(*v), thr_cmp);
	}
	fprintf(out, "threads:     %zu with samples%s\n", nthr, nthr > HEALTH_THREADS ? "; the busiest:" : ":");
	for (i = 0; i < nthr && i < HEALTH_THREADS; i++)
		fprintf(out, "  %7.2f%%  %10llu  %s %u/%u\n", share(v[i]->samples, h->samples),
		    (unsigned long long)v[i]->samples, nz(v[i]->comm), (unsigned)(v[i]->key >> 32),
		    (unsigned)(v[i]->key & 0xffffffffu));
	free(v);
	if (h->samples == 0) {
		fprintf(out, "verdict: no samples; there is nothing to draw\n");
		return ferror(out) ? PD_E_IO : PD_OK;
	}
	if (!chains)
		pd_buf_addstr(&why, "; no call chains, so every stack is one frame");
	if (share(h->unresolved_leaf, h->samples) > 10)
		pd_buf_addf(&why, "; %.1f%% of samples are at addresses without a symbol",
		    share(h->unresolved_leaf, h->samples));
	if (chains && share(h->suspect, h->chained) > 20)
		pd_buf_addf(&why, "; %.1f%% of stacks are broken or truncated, so their time lands under"
		    " the wrong parents", share(h->suspect, h->chained));
	if (share(st->unwind_truncated + st->unwind_none, st->unwind_samples) > 20)
		pd_buf_addf(&why, "; %.1f%% of the DWARF stacks were unwound part of the way or not at all",
		    share(st->unwind_truncated + st->unwind_none, st->unwind_samples));
	if (share(lost, all + lost) > 5)
		pd_buf_addf(&why, "; %.1f%% of samples were lost", share(lost, all + lost));
	if (why.len)
		fprintf(out, "verdict: a flame graph from this profile would mislead:%s\n", why.buf + 1);
	else
		fprintf(out, "verdict: ok; nothing here would make a flame graph mislead\n");
	pd_buf_release(&why);
	return ferror(out) ? PD_E_IO : PD_OK;
}

int
pd_top_write_health(struct pd_top *t, FILE *out)
{
	struct pd_cloc l;
	int rc;

	pd_cloc_enter(&l);
	rc = top_write_health_c(t, out);
	pd_cloc_leave(&l);
	return rc;
}
