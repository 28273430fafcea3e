/*
 * sym.c - DSOs and their symbols (FORMAT-NOTES.md 7).
 *
 * User DSOs are ELF files found by path, --symfs, perf's build-id cache
 * (~/.debug) or /usr/lib/debug/.build-id, and accepted only when they are
 * regular files whose build-id matches the one recorded.  libdwfl reads their
 * symbols, finding .symtab in separate debug files (debuglink, build-id) and
 * in .gnu_debugdata, falling back to .dynsym.  The table is converted to
 * file offsets (perf's map_ip space) and put in a tree built and searched as
 * perf's (symbols__insert, symbols__fixup_end, symbols__fixup_duplicate, the
 * PLT symbols, symbols__find), so that where symbols overlap an address gets
 * perf's answer.  Each DSO is loaded once, on its first lookup.
 *
 * The kernel uses /proc/kallsyms (or --kallsyms) only when the recording's
 * kernel build-id, or else its OS release, matches the running kernel.
 * JIT code uses /tmp/perf-PID.map; [vdso] uses perf's cache or our own vdso
 * when the build-ids agree.
 *
 * Source views (inlined functions, file:line; the frames of --call-graph
 * dwarf chains, named as perf names them) come from the same file's DWARF,
 * opened on a Dwfl of its own, by a thread as soon as a DWARF-unwound
 * process maps the file, or when the first view is asked for: in the ELF
 * itself, perf's cache, then by build-id and debuglink.  dwfunc.c finds the
 * functions at an address.
 */
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include "pd-uthash.h"

#include "dwfunc.h"
#include "dwimage.h"
#include "sym.h"

struct ktable;
static struct ktable *read_kallsyms(const char *path);
static const char *home_dir(const struct pd_symbolizer *y);
static void bid_hex(const struct pd_dso *d, char *out);
static void ktable_free(struct ktable *kt);

#define MAX_ELF_SIZE	(4ull << 30)
#define MAX_TEXT_SIZE	(256u << 20)	/* kallsyms, perf-PID.map */

struct symtree;
static void tree_free(struct symtree *t);

enum dso_kind { DSO_ELF, DSO_KERNEL, DSO_MODULE, DSO_VDSO, DSO_JIT, DSO_KSYM, DSO_NONE };

struct pd_dso {
	char *name;
	enum dso_kind kind;
	unsigned char bid[20];
	uint8_t bid_size;
	bool loaded;
	struct pd_sym *syms;
	size_t nr_syms;
	struct symtree *tree;		/* ELF: perf's tree over syms; NULL: syms sorted */
	Dwfl *dwfl;
	void *user;
	/* pd_symbolizer_binary_path's answer, checked once per build-id known */
	const char *bin_path;		/* NULL: none */
	bool bin_checked;
	uint8_t bin_bid_size;
	/* For source views (pd_symbolizer_src): the ELF's program headers and bias. */
	struct pd_symbolizer *y;
	Dwfl_Module *mod;
	GElf_Addr mbias;
	GElf_Phdr *ph;
	size_t nph;
	struct src_entry *srcs;
	struct dw_open *dwo;		/* its DWARF, opened (maybe by a thread) on its own Dwfl */
	struct pd_dwfunc *dwf;		/* DWARF functions (dwfunc.c), of dwo, on first use */
	Dwarf_Addr dwf_bias;		/* of its DWARF, to module addresses */
	Dwfl_Module *dmod;		/* the module of that DWARF */
	bool dwf_tried;
	bool prefetched;		/* pd_symbolizer_prefetch_dwarf was here */
	struct a2l_fn *a2l;		/* what addr2line learnt (a2l_name) */
	UT_hash_handle hh;
};

/*
 * What addr2line has learnt of a function without a linkage name (see
 * a2l_name), per DSO: the function's DIE, and the symbol name it took.
 */
struct a2l_fn {
	Dwarf_Off die;
	const char *renamed;		/* NULL: it keeps its DW_AT_name */
	UT_hash_handle hh;
};

/* A cached source view, keyed by the address looked up (| SRC_UNWOUND). */
#define SRC_UNWOUND	(1ull << 63)
struct src_entry {
	uint64_t at;
	struct pd_srcinfo info;
	UT_hash_handle hh;
};

struct pd_symbolizer {
	struct pd_session_opts o;
	struct pd_dso *dsos;
	struct pd_arena arena;
	struct pd_reader *r;
	struct pd_buildid *bids;
	size_t nr_bids, alloc_bids;
	char *osrelease;
	size_t bids_done;		/* build-ids of the current reader taken */
	uint64_t kernel_ref;
	bool have_kernel_ref;
	/* kallsyms, shared by the kernel and its modules */
	bool kallsyms_loaded;
	/* kallsyms read ahead by a thread (the kernel takes ~50 ms to format it) */
	pthread_t kthread;
	bool kthread_started;
	const char *kpath;		/* the kallsyms read (kallsyms_choose) */
	bool kcached;			/* kpath is perf's copy of the recorded kernel's */
	struct ktable *kt;		/* the thread's result */
	char *kallsyms_text;		/* the names of ksyms point into it */
	struct pd_sym *ksyms;
	size_t nr_ksyms;
	char *debuginfo_path;
	Dwfl_Callbacks cb;
};

struct dw_open;
static void dwo_free(struct dw_open *w);
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
    Dwarf_Addr base, const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
    char **debuginfo_file_name);

struct pd_symbolizer *
pd_symbolizer_new(const struct pd_session_opts *o)
{
	struct pd_symbolizer *y = calloc(1, sizeof(*y));

	if (!y)
		return NULL;
	elf_version(EV_CURRENT);
	y->o = *o;
	if (o->symfs) {
		size_t n = strlen(o->symfs) * 2 + 64;

		y->debuginfo_path = malloc(n);
		/* Only under it, as perf: --symfs hides this machine's debug files. */
		if (y->debuginfo_path)
			snprintf(y->debuginfo_path, n, ":.debug:%s/usr/lib/debug", o->symfs);
	}
	y->cb.find_elf = dwfl_build_id_find_elf;
	y->cb.find_debuginfo = find_debuginfo;
	y->cb.section_address = dwfl_offline_section_address;
	y->cb.debuginfo_path = y->debuginfo_path ? &y->debuginfo_path : NULL;
	return y;
}

void
pd_symbolizer_free(struct pd_symbolizer *y)
{
	struct pd_dso *d, *t;

	if (!y)
		return;
	HASH_ITER(hh, y->dsos, d, t) {
		HASH_DEL(y->dsos, d);
		HASH_CLEAR(hh, d->srcs);	/* the entries are in the arena */
		HASH_CLEAR(hh, d->a2l);
		dwo_free(d->dwo);
		if (d->dwfl)
			dwfl_end(d->dwfl);
		free(d->syms);
		tree_free(d->tree);
		free(d->ph);
		free(d);
	}
	if (y->kthread_started) {
		pthread_join(y->kthread, NULL);
		ktable_free(y->kt);
	}
	free(y->ksyms);
	free(y->kallsyms_text);
	free(y->bids);
	free(y->debuginfo_path);
	pd_arena_release(&y->arena);
	free(y);
}

/* Take the reader's build-ids not taken yet. */
static void
absorb_bids(struct pd_symbolizer *y, struct pd_reader *r)
{
	for (; y->bids_done < pd_reader_nr_buildids(r); y->bids_done++) {
		struct pd_buildid b = *pd_reader_buildid(r, y->bids_done);

		b.name = pd_arena_strdup(&y->arena, b.name);
		if (b.name && PD_GROW(y->bids, y->nr_bids + 1, y->alloc_bids) == 0)
			y->bids[y->nr_bids++] = b;
	}
}

/*
 * What a file-mode reader knows at open (build-ids, OSRELEASE) counts from
 * the first sample on: a tool that symbolizes in its sample callback must
 * decide about this machine's kallsyms and vdso as one that symbolizes at
 * the end (pdjson resolved kernel frames of another kernel that pdcollapse
 * left unresolved).  Pipe-mode metadata is looked up as it arrives.
 */
void
pd_symbolizer_set_reader(struct pd_symbolizer *y, struct pd_reader *r)
{
	y->r = r;
	y->bids_done = 0;
	if (r)
		absorb_bids(y, r);
}

/* The recording's kernel release, once known (NULL: not recorded). */
static const char *
sym_osrelease(const struct pd_symbolizer *y)
{
	if (y->osrelease)
		return y->osrelease;
	return y->r ? pd_reader_feature(y->r, PD_FEAT_OSRELEASE) : NULL;
}

static void
dso_apply_bid(struct pd_symbolizer *y, struct pd_dso *d)
{
	if (d->bid_size)
		return;
	for (size_t i = 0; i < y->nr_bids; i++) {
		const struct pd_buildid *b = &y->bids[i];

		if (!strcmp(b->name, d->name) ||
		    (d->kind == DSO_KERNEL && !strcmp(b->name, "[kernel.kallsyms]"))) {
			memcpy(d->bid, b->id, b->size);
			d->bid_size = b->size;
			return;
		}
	}
}

void
pd_symbolizer_absorb(struct pd_symbolizer *y, struct pd_reader *r)
{
	struct pd_dso *d, *t;
	const char *os = pd_reader_feature(r, PD_FEAT_OSRELEASE);

	if (r != y->r)
		y->bids_done = 0;
	absorb_bids(y, r);
	if (os && !y->osrelease)
		y->osrelease = pd_arena_strdup(&y->arena, os);
	HASH_ITER(hh, y->dsos, d, t)
		dso_apply_bid(y, d);
}

void
pd_symbolizer_set_kernel_ref(struct pd_symbolizer *y, uint64_t text_addr)
{
	y->kernel_ref = text_addr;
	y->have_kernel_ref = true;
}

static struct pd_dso *
dso_get(struct pd_symbolizer *y, const char *name, enum dso_kind kind)
{
	struct pd_dso *d;

	HASH_FIND_STR(y->dsos, name, d);
	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->name = pd_arena_strdup(&y->arena, name);
	if (!d->name) {
		free(d);
		return NULL;
	}
	d->kind = kind;
	d->y = y;
	HASH_ADD_KEYPTR(hh, y->dsos, d->name, strlen(d->name), d);
	return d;
}

struct pd_dso *
pd_symbolizer_dso(struct pd_symbolizer *y, const char *name, const unsigned char *bid, size_t bid_size)
{
	enum dso_kind kind = DSO_ELF;
	struct pd_dso *d;

	if (!strcmp(name, "[vdso]"))
		kind = DSO_VDSO;
	else if (!strncmp(name, "/tmp/perf-", 10) && strstr(name, ".map"))
		kind = DSO_JIT;
	else if (name[0] == '[' || name[0] != '/' || !strcmp(name, "//anon"))
		kind = DSO_NONE;
	d = dso_get(y, name, kind);
	if (d && bid && bid_size && !d->bid_size) {
		memcpy(d->bid, bid, bid_size);
		d->bid_size = (uint8_t)bid_size;
	}
	return d;
}


/*
 * Which kallsyms to read: --kallsyms; else perf's copy of the recorded
 * kernel's, in its build-id cache (perf record puts it there, and perf
 * script reads it when the recording is not of the running kernel), a
 * plain file that costs nothing to read, where /proc/kallsyms makes the
 * kernel format 100k lines (30-40 ms); else /proc/kallsyms.
 */
static void
kallsyms_choose(struct pd_symbolizer *y)
{
	struct pd_dso *k;
	const char *home = home_dir(y);
	char path[4096], hex[41];
	struct stat st;

	if (y->kpath)
		return;
	y->kpath = y->o.kallsyms ? y->o.kallsyms : "/proc/kallsyms";
	if (y->o.kallsyms || !home)
		return;
	HASH_FIND_STR(y->dsos, "[kernel.kallsyms]", k);
	if (!k)
		return;
	dso_apply_bid(y, k);
	if (!k->bid_size)
		return;
	bid_hex(k, hex);
	if ((size_t)snprintf(path, sizeof(path), "%s/.debug/[kernel.kallsyms]/%s/kallsyms", home, hex) <
	    sizeof(path) && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (y->kpath = pd_arena_strdup(&y->arena, path)))
		y->kcached = true;
	else
		y->kpath = "/proc/kallsyms";
}

static void *
kallsyms_reader(void *arg)
{
	struct pd_symbolizer *y = arg;

	y->kt = read_kallsyms(y->kpath);
	return NULL;
}

void
pd_symbolizer_prefetch_kallsyms(struct pd_symbolizer *y)
{
	if (y->kallsyms_loaded || y->kthread_started)
		return;
	kallsyms_choose(y);
	y->kthread_started = pthread_create(&y->kthread, NULL, kallsyms_reader, y) == 0;
}

struct pd_dso *
pd_symbolizer_kernel_dso(struct pd_symbolizer *y, const char *mmap_name)
{
	char buf[256];
	const char *base, *dot;

	if (!strncmp(mmap_name, "[kernel.kallsyms]", 17) || !strcmp(mmap_name, "[kernel]"))
		return dso_get(y, "[kernel.kallsyms]", DSO_KERNEL);
	if (mmap_name[0] == '[')
		return dso_get(y, mmap_name, DSO_MODULE);
	/* "/lib/modules/.../xfs.ko" is shown as "[xfs]", as perf does. */
	base = strrchr(mmap_name, '/');
	base = base ? base + 1 : mmap_name;
	dot = strchr(base, '.');
	snprintf(buf, sizeof(buf), "[%.*s]", (int)(dot ? (size_t)(dot - base) : strlen(base)), base);
	for (char *p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
	return dso_get(y, buf, DSO_MODULE);
}

struct pd_dso *
pd_symbolizer_ksym_dso(struct pd_symbolizer *y, const char *name, uint64_t addr, uint32_t len)
{
	struct pd_dso *d = dso_get(y, name, DSO_KSYM);

	if (d && !d->loaded) {
		d->syms = calloc(1, sizeof(*d->syms));
		if (d->syms) {
			d->syms[0].start = addr;
			d->syms[0].end = addr + len;
			d->syms[0].name = d->name;
			d->nr_syms = 1;
		}
		d->loaded = true;
	}
	return d;
}

bool pd_symbolizer_dso_is_vdso(const struct pd_dso *d) { return d->kind == DSO_VDSO; }
const char *pd_dso_name(const struct pd_dso *d) { return d->name; }
int pd_dso_is_jit(const struct pd_dso *d) { return d->kind == DSO_JIT; }
void **pd_dso_user(struct pd_dso *d) { return &d->user; }

/* ---------------------------------------------------------------- */
/* Tables: sort, drop duplicates, extend sizeless symbols (perf symbol.c). */

static int
underscores(const char *s)
{
	int n = 0;

	while (s[n] == '_')
		n++;
	return n;
}

/*
 * perf's choose_best_symbol: true when A is better than B.  The names
 * compared are AN and BN: perf compares the names it shows, so for ELF
 * symbols the demangled ones (<usize as Display>::fmt wins over its
 * identical-code twin <u64 as Display>::fmt, although their v0-mangled
 * names have the same length).
 */
static bool
better_named(const struct pd_sym *a, const char *an, const struct pd_sym *b, const char *bn)
{
	uint64_t la = a->end - a->start, lb = b->end - b->start;
	size_t na, nb;

	if (lb == 0 && la > 0)
		return true;
	if (la == 0 && lb > 0)
		return false;
	if ((b->binding == STB_WEAK) != (a->binding == STB_WEAK))
		return b->binding == STB_WEAK;
	if ((a->binding == STB_GLOBAL) != (b->binding == STB_GLOBAL))
		return a->binding == STB_GLOBAL;
	if (underscores(an) != underscores(bn))
		return underscores(an) < underscores(bn);
	na = strlen(an);
	nb = strlen(bn);
	if (na != nb)
		return na > nb;
	return true;
}

static bool
better(const struct pd_sym *a, const struct pd_sym *b)
{
	return better_named(a, a->name, b, b->name);
}

static int
sym_cmp(const void *pa, const void *pb)
{
	const struct pd_sym *a = pa, *b = pb;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	/*
	 * Among symbols at one address, the order they were read in, as in
	 * perf's tree: when choose_best_symbol finds no difference, the first
	 * one read wins (__x64_sys_vfork over __ia32_sys_vfork).
	 */
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void
finish_table(struct pd_sym *syms, size_t *nr, bool kallsyms)
{
	size_t n = *nr, k = 0;
	bool sorted = true;

	if (!n)
		return;
	for (size_t i = 0; i < n; i++) {
		syms[i].seq = (uint32_t)i;
		if (i && syms[i].start < syms[i - 1].start)
			sorted = false;
	}
	/* kallsyms comes in address order: the sort would leave it as it is. */
	if (!sorted)
		qsort(syms, n, sizeof(*syms), sym_cmp);
	/*
	 * perf fixes the ends first and drops duplicates after: of several
	 * sizeless symbols at one address only the last gets a size, and a
	 * sized symbol wins (__x64_sys_vfork over __ia32_sys_vfork).
	 */
	for (size_t i = 0; i + 1 < n; i++) {
		struct pd_sym *p = &syms[i], *c = &syms[i + 1];

		if (p->end == p->start) {
			bool pm = kallsyms && p->user, cm = kallsyms && c->user;

			if (kallsyms && pm != cm)
				p->end = ((p->end + 4096) + 4095) & ~4095ull;
			else
				p->end = c->start;
		}
	}
	if (syms[n - 1].end == syms[n - 1].start)
		syms[n - 1].end = ((syms[n - 1].start + 4095) & ~4095ull) + 4096;
	for (size_t i = 0; i < n; i++) {
		if (k && syms[k - 1].start == syms[i].start) {
			if (!better(&syms[k - 1], &syms[i]))
				syms[k - 1] = syms[i];
			continue;
		}
		syms[k++] = syms[i];
	}
	if (kallsyms)
		for (size_t i = 0; i < k; i++)
			syms[i].user = NULL;
	*nr = k;
}

static struct pd_sym *
table_find(struct pd_sym *syms, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (syms[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	if (addr < syms[lo - 1].end || (syms[lo - 1].end == syms[lo - 1].start && addr == syms[lo - 1].start))
		return &syms[lo - 1];
	return NULL;
}

/* ---------------------------------------------------------------- */
/*
 * perf's symbol tree.  perf keeps a DSO's symbols in a red-black tree keyed
 * by start address (equal keys to the right), inserted in symbol-table
 * order; it erases the losers among aliases there, adds the PLT symbols
 * after, and looks an address up by one descent that stops at the first
 * node whose range holds it.  Where symbols overlap (a sizeless symbol
 * stretched over the PLT, PLT entries placed where .plt.sec is not), the
 * answer depends on the shape of that tree, so ELF tables are kept in the
 * same kind of tree, built by the same sequence of inserts and erases
 * (the textbook algorithms, which give the same shapes), and searched
 * the same way.
 */
#define RB_NIL UINT32_MAX

struct rbnode {
	uint32_t l, r, p;
	bool red;
};

struct symtree {
	struct rbnode *n;
	uint32_t root;
};

static void
rb_set_child(struct symtree *t, uint32_t parent, uint32_t old, uint32_t new)
{
	if (parent == RB_NIL)
		t->root = new;
	else if (t->n[parent].l == old)
		t->n[parent].l = new;
	else
		t->n[parent].r = new;
	if (new != RB_NIL)
		t->n[new].p = parent;
}

static void
rb_rotate_left(struct symtree *t, uint32_t x)
{
	struct rbnode *n = t->n;
	uint32_t y = n[x].r;

	n[x].r = n[y].l;
	if (n[y].l != RB_NIL)
		n[n[y].l].p = x;
	rb_set_child(t, n[x].p, x, y);
	n[y].l = x;
	n[x].p = y;
}

static void
rb_rotate_right(struct symtree *t, uint32_t x)
{
	struct rbnode *n = t->n;
	uint32_t y = n[x].l;

	n[x].l = n[y].r;
	if (n[y].r != RB_NIL)
		n[n[y].r].p = x;
	rb_set_child(t, n[x].p, x, y);
	n[y].r = x;
	n[x].p = y;
}

static bool
rb_red(const struct symtree *t, uint32_t x)
{
	return x != RB_NIL && t->n[x].red;
}

static void
rb_insert(struct symtree *t, const struct pd_sym *syms, uint32_t z)
{
	struct rbnode *n = t->n;
	uint32_t x = t->root, y = RB_NIL;
	bool left = false;

	while (x != RB_NIL) {
		y = x;
		left = syms[z].start < syms[x].start;
		x = left ? n[x].l : n[x].r;
	}
	n[z] = (struct rbnode){ RB_NIL, RB_NIL, y, true };
	if (y == RB_NIL)
		t->root = z;
	else if (left)
		n[y].l = z;
	else
		n[y].r = z;
	while (rb_red(t, n[z].p)) {
		uint32_t p = n[z].p, g = n[p].p, u;

		if (p == n[g].l) {
			u = n[g].r;
			if (rb_red(t, u)) {
				n[p].red = n[u].red = false;
				n[g].red = true;
				z = g;
				continue;
			}
			if (z == n[p].r) {
				z = p;
				rb_rotate_left(t, z);
				p = n[z].p;
			}
			n[p].red = false;
			n[g].red = true;
			rb_rotate_right(t, g);
		} else {
			u = n[g].l;
			if (rb_red(t, u)) {
				n[p].red = n[u].red = false;
				n[g].red = true;
				z = g;
				continue;
			}
			if (z == n[p].l) {
				z = p;
				rb_rotate_right(t, z);
				p = n[z].p;
			}
			n[p].red = false;
			n[g].red = true;
			rb_rotate_left(t, g);
		}
	}
	n[t->root].red = false;
}

static void
rb_erase(struct symtree *t, uint32_t z)
{
	struct rbnode *n = t->n;
	uint32_t x, xp, y;
	bool black;

	if (n[z].l == RB_NIL || n[z].r == RB_NIL) {
		x = n[z].l != RB_NIL ? n[z].l : n[z].r;
		xp = n[z].p;
		black = !n[z].red;
		rb_set_child(t, xp, z, x);
	} else {
		/* The successor takes Z's place and colour. */
		for (y = n[z].r; n[y].l != RB_NIL; y = n[y].l)
			;
		black = !n[y].red;
		x = n[y].r;
		if (n[y].p == z) {
			xp = y;
		} else {
			xp = n[y].p;
			rb_set_child(t, xp, y, x);
			n[y].r = n[z].r;
			n[n[y].r].p = y;
		}
		rb_set_child(t, n[z].p, z, y);
		n[y].l = n[z].l;
		n[n[y].l].p = y;
		n[y].red = n[z].red;
	}
	if (!black)
		return;
	while (x != t->root && !rb_red(t, x)) {
		uint32_t w;

		if (x == n[xp].l) {
			w = n[xp].r;
			if (rb_red(t, w)) {
				n[w].red = false;
				n[xp].red = true;
				rb_rotate_left(t, xp);
				w = n[xp].r;
			}
			if (!rb_red(t, n[w].l) && !rb_red(t, n[w].r)) {
				n[w].red = true;
				x = xp;
				xp = n[x].p;
				continue;
			}
			if (!rb_red(t, n[w].r)) {
				n[n[w].l].red = false;
				n[w].red = true;
				rb_rotate_right(t, w);
				w = n[xp].r;
			}
			n[w].red = n[xp].red;
			n[xp].red = false;
			n[n[w].r].red = false;
			rb_rotate_left(t, xp);
		} else {
			w = n[xp].l;
			if (rb_red(t, w)) {
				n[w].red = false;
				n[xp].red = true;
				rb_rotate_right(t, xp);
				w = n[xp].l;
			}
			if (!rb_red(t, n[w].l) && !rb_red(t, n[w].r)) {
				n[w].red = true;
				x = xp;
				xp = n[x].p;
				continue;
			}
			if (!rb_red(t, n[w].l)) {
				n[n[w].r].red = false;
				n[w].red = true;
				rb_rotate_left(t, w);
				w = n[xp].l;
			}
			n[w].red = n[xp].red;
			n[xp].red = false;
			n[n[w].l].red = false;
			rb_rotate_right(t, xp);
		}
		x = t->root;
	}
	if (x != RB_NIL)
		n[x].red = false;
}

/* perf's symbols__find: the first node on the way down whose range holds ADDR. */
static struct pd_sym *
tree_find(const struct symtree *t, struct pd_sym *syms, uint64_t addr)
{
	uint32_t x = t->root;

	while (x != RB_NIL) {
		struct pd_sym *s = &syms[x];

		if (addr < s->start)
			x = t->n[x].l;
		else if (addr > s->end || (addr == s->end && addr != s->start))
			x = t->n[x].r;
		else
			return s;
	}
	return NULL;
}

static void
tree_free(struct symtree *t)
{
	if (t)
		free(t->n);
	free(t);
}

struct ord {
	uint64_t start;
	uint32_t i;
};

static int
ord_cmp(const void *pa, const void *pb)
{
	const struct ord *a = pa, *b = pb;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/*
 * The tree of D's symbols: the first NR_REGULAR of D->syms (the symbol
 * table, in its order) inserted, their ends fixed and their duplicates
 * erased as perf does (symbols__fixup_end, symbols__fixup_duplicate), then
 * the PLT symbols after them inserted.  False when out of memory.
 */
static bool
tree_build(struct pd_symbolizer *y, struct symtree *t, struct pd_sym *syms, size_t nr_regular,
    size_t nr)
{
	struct ord *o;
	size_t k;

	t->root = RB_NIL;
	if (nr == 0)
		return true;
	if (nr >= RB_NIL || !(t->n = calloc(nr, sizeof(*t->n))))
		return false;
	for (size_t i = 0; i < nr_regular; i++)
		rb_insert(t, syms, (uint32_t)i);
	if (nr_regular) {
		o = malloc(nr_regular * sizeof(*o));
		if (!o)
			return false;
		/* In-order: by address, equal addresses in the order inserted. */
		for (size_t i = 0; i < nr_regular; i++)
			o[i] = (struct ord){ syms[i].start, (uint32_t)i };
		qsort(o, nr_regular, sizeof(*o), ord_cmp);
		for (size_t i = 0; i + 1 < nr_regular; i++) {
			struct pd_sym *p = &syms[o[i].i];

			if (p->end == p->start)
				p->end = syms[o[i + 1].i].start;
		}
		{
			struct pd_sym *l = &syms[o[nr_regular - 1].i];

			if (l->end == l->start)
				l->end = ((l->start + 4095) & ~4095ull) + 4096;
		}
		k = 0;
		for (size_t i = 1; i < nr_regular; i++) {
			struct pd_sym *cur = &syms[o[k].i], *next = &syms[o[i].i];

			if (cur->start != next->start) {
				k = i;
			} else if (better_named(cur, pd_sym_name(y, cur), next, pd_sym_name(y, next))) {
				rb_erase(t, o[i].i);
			} else {
				rb_erase(t, o[k].i);
				k = i;
			}
		}
		free(o);
	}
	for (size_t i = nr_regular; i < nr; i++)
		rb_insert(t, syms, (uint32_t)i);
	return true;
}

/* ---------------------------------------------------------------- */
/* ELF files. */

/* The GNU build-id of an ELF, or 0 bytes. */
static size_t
elf_buildid(Elf *e, unsigned char *out)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t off = 0, noff, doff;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		while ((off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)data->d_buf + noff, "GNU", 4) && nh.n_descsz > 0) {
				size_t n = nh.n_descsz > 20 ? 20 : nh.n_descsz;

				memcpy(out, (char *)data->d_buf + doff, n);
				return n;
			}
		}
	}
	return 0;
}

/*
 * Open PATH if it is a regular file of sane size whose build-id matches D's
 * (when D has one).  O_NONBLOCK so a FIFO planted at the path cannot hang us.
 */
static int
open_candidate(struct pd_dso *d, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	Elf *e;
	bool ok = true;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_ELF_SIZE) {
		close(fd);
		return -1;
	}
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		ok = false;
	} else if (d->bid_size) {
		unsigned char bid[20];
		size_t n = elf_buildid(e, bid);

		ok = n == d->bid_size && !memcmp(bid, d->bid, n);
	}
	if (e)
		elf_end(e);
	if (!ok) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
bid_hex(const struct pd_dso *d, char *out)
{
	for (size_t i = 0; i < d->bid_size; i++)
		snprintf(out + 2 * i, 3, "%02x", d->bid[i]);
}

/*
 * The home of perf's build-id cache (~/.debug); none under --symfs, where
 * perf looks nowhere else (so that hiding debug files hides them).
 */
static const char *
home_dir(const struct pd_symbolizer *y)
{
	const char *h = y->o.home ? y->o.home : getenv("HOME");

	if (y->o.symfs)
		return NULL;

	return h && *h ? h : NULL;
}

/*
 * Separate debug files, for the symbol table and for DWARF: perf's cache
 * first (~/.debug/.build-id/xx/rest/debug, where perf buildid-cache and
 * debuginfod put them), then libdwfl's search by build-id and by
 * .gnu_debuglink in the debuginfo_path directories (/usr/lib/debug, and
 * under --symfs).  USERDATA is the DSO (load_elf_fd sets it).
 */
static int
find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
    const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
    char **debuginfo_file_name)
{
	struct pd_dso *d = userdata ? *userdata : NULL;
	const char *home = d ? home_dir(d->y) : NULL;

	if (home && d->bid_size) {
		char path[4096], hex[41];
		int fd;

		bid_hex(d, hex);
		snprintf(path, sizeof(path), "%s/.debug/.build-id/%.2s/%s/debug", home, hex, hex + 2);
		fd = open_candidate(d, path);
		if (fd >= 0) {
			*debuginfo_file_name = strdup(path);
			return fd;
		}
	}
	return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
	    debuglink_file, debuglink_crc, debuginfo_file_name);
}

/* perf's candidates (FORMAT-NOTES.md 7.2), first match wins. */
static int
find_elf(struct pd_symbolizer *y, struct pd_dso *d, char *path, size_t len)
{
	char hex[41];
	const char *home = home_dir(y);
	int fd;

	if (y->o.symfs) {
		snprintf(path, len, "%s%s", y->o.symfs, d->name);
		if ((fd = open_candidate(d, path)) >= 0)
			return fd;
	} else {
		snprintf(path, len, "%s", d->name);
		if ((fd = open_candidate(d, path)) >= 0)
			return fd;
	}
	if (!d->bid_size)
		return -1;
	bid_hex(d, hex);
	if (home) {
		snprintf(path, len, "%s/.debug/.build-id/%.2s/%s/elf", home, hex, hex + 2);
		if ((fd = open_candidate(d, path)) >= 0)
			return fd;
		snprintf(path, len, "%s/.debug%s/%s/elf", home, d->name, hex);
		if ((fd = open_candidate(d, path)) >= 0)
			return fd;
	}
	snprintf(path, len, "%s/usr/lib/debug/.build-id/%.2s/%s.debug", y->o.symfs ? y->o.symfs : "",
	    hex, hex + 2);
	if ((fd = open_candidate(d, path)) >= 0)
		return fd;
	return -1;
}

static Elf_Scn *
section_by_name(Elf *e, const char *want, GElf_Shdr *sh)
{
	size_t strndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(e, &strndx) < 0)
		return NULL;
	while ((scn = elf_nextscn(e, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, sh))
			continue;
		n = elf_strptr(e, strndx, sh->sh_name);
		if (n && !strcmp(n, want))
			return scn;
	}
	return NULL;
}

/*
 * "name@plt" symbols for the PLT stubs, one per .rela.plt entry after the
 * PLT header, as perf's dso__synthesize_plt_symbols does (x86: header and
 * entries are .plt's sh_entsize; an IRELATIVE entry has no name: "@plt").
 */
static void
add_plt(struct pd_symbolizer *y, struct pd_dso *d, Elf *e, size_t *alloc)
{
	GElf_Shdr rel_sh, plt_sh, dyn_sh;
	Elf_Scn *rel = section_by_name(e, ".rela.plt", &rel_sh), *dyn;
	Elf_Data *rdata, *sdata, *strdata;
	uint64_t off, ent;
	size_t n;

	if (!rel)
		rel = section_by_name(e, ".rel.plt", &rel_sh);
	if (!rel || !section_by_name(e, ".plt", &plt_sh) || !rel_sh.sh_entsize)
		return;
	dyn = elf_getscn(e, rel_sh.sh_link);
	if (!dyn || !gelf_getshdr(dyn, &dyn_sh) || dyn_sh.sh_type != SHT_DYNSYM)
		return;
	rdata = elf_getdata(rel, NULL);
	sdata = elf_getdata(dyn, NULL);
	strdata = elf_getdata(elf_getscn(e, dyn_sh.sh_link), NULL);
	if (!rdata || !sdata || !strdata || !strdata->d_size)
		return;
	ent = plt_sh.sh_entsize;
	if (!ent)
		return;
	off = plt_sh.sh_offset + ent;
	n = rel_sh.sh_size / rel_sh.sh_entsize;
	if (n > (1u << 20))
		return;
	for (size_t i = 0; i < n; i++, off += ent) {
		GElf_Rela rela;
		GElf_Rel r;
		GElf_Sym sym;
		size_t symidx;
		const char *name = "";
		char *dm, buf[1024];

		if (rel_sh.sh_type == SHT_RELA) {
			if (!gelf_getrela(rdata, (int)i, &rela))
				break;
			symidx = GELF_R_SYM(rela.r_info);
		} else {
			if (!gelf_getrel(rdata, (int)i, &r))
				break;
			symidx = GELF_R_SYM(r.r_info);
		}
		if (gelf_getsym(sdata, (int)symidx, &sym) && sym.st_name < strdata->d_size)
			name = (const char *)strdata->d_buf + sym.st_name;
		if (!memchr(name, '\0', strdata->d_size - (size_t)(name - (const char *)strdata->d_buf)))
			name = "";
		dm = y->o.no_demangle ? NULL : pd_demangle(&y->arena, name);
		snprintf(buf, sizeof(buf), "%s@plt", dm ? dm : name);
		if (PD_GROW(d->syms, d->nr_syms + 1, *alloc) < 0)
			break;
		d->syms[d->nr_syms] = (struct pd_sym){
			.start = off, .end = off + ent, .binding = STB_GLOBAL,
			.name = pd_arena_strdup(&y->arena, buf),
		};
		d->syms[d->nr_syms].dname = d->syms[d->nr_syms].name;
		if (d->syms[d->nr_syms].name)
			d->nr_syms++;
	}
}

static void
load_elf_fd(struct pd_symbolizer *y, struct pd_dso *d, int fd, const char *path)
{
	Dwfl *dwfl = dwfl_begin(&y->cb);
	Dwfl_Module *mod;
	GElf_Addr mbias;
	Elf *main;
	GElf_Phdr *ph = NULL;
	size_t nph = 0;
	int n;
	size_t alloc = 0, nr_regular;
	void **ud;

	if (!dwfl) {
		close(fd);
		return;
	}
	mod = dwfl_report_elf(dwfl, d->name, path, fd, 0, false);
	dwfl_report_end(dwfl, NULL, NULL);
	if (!mod) {
		dwfl_end(dwfl);
		return;
	}
	dwfl_module_info(mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
	*ud = d;		/* for find_debuginfo */
	main = dwfl_module_getelf(mod, &mbias);
	if (!main || elf_getphdrnum(main, &nph) < 0 || nph == 0 || nph > 4096) {
		dwfl_end(dwfl);
		return;
	}
	ph = calloc(nph, sizeof(*ph));
	if (!ph) {
		dwfl_end(dwfl);
		return;
	}
	for (size_t i = 0; i < nph; i++)
		if (!gelf_getphdr(main, (int)i, &ph[i]))
			memset(&ph[i], 0, sizeof(ph[i]));
	n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		Elf *e;
		Dwarf_Addr bias;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, &e, &bias);
		int type = GELF_ST_TYPE(sym.st_info);
		bool label = type == STT_NOTYPE && GELF_ST_VISIBILITY(sym.st_other) != STV_HIDDEN &&
		    GELF_ST_VISIBILITY(sym.st_other) != STV_INTERNAL;
		Elf_Scn *scn;
		GElf_Shdr sh;
		Elf *se = e;

		if (!name || !*name || sym.st_shndx == SHN_UNDEF || sym.st_shndx == SHN_ABS)
			continue;
		if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT && !label)
			continue;
		scn = e ? elf_getscn(e, shndx) : NULL;
		if (!scn || !gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC))
			continue;
		/*
		 * A debug file's sections are NOBITS, with file offsets of their
		 * own: perf takes the binary's section of the same index, and so
		 * converts every symbol by its section (not only those in a
		 * PT_LOAD), and keeps a label only in a section named *text* or
		 * *data*.  Every symbol it keeps shapes its tree, so the same
		 * ones are kept here.
		 */
		if (sh.sh_type == SHT_NOBITS && e != main) {
			scn = elf_getscn(main, shndx);
			if (!scn || !gelf_getshdr(scn, &sh))
				continue;
			se = main;
		}
		if (label) {
			size_t strndx;
			const char *sn = elf_getshdrstrndx(se, &strndx) == 0 ?
			    elf_strptr(se, strndx, sh.sh_name) : NULL;

			if (!sn || (!strstr(sn, "text") && !strstr(sn, "data")))
				continue;
		}
		if (PD_GROW(d->syms, d->nr_syms + 1, alloc) < 0)
			break;
		d->syms[d->nr_syms++] = (struct pd_sym){
			.start = addr - mbias - sh.sh_addr + sh.sh_offset,
			.end = addr - mbias - sh.sh_addr + sh.sh_offset + sym.st_size,
			.name = name, .binding = (uint8_t)GELF_ST_BIND(sym.st_info),
		};
	}
	/*
	 * perf fixes up the symbol ends (a sizeless symbol runs to the next
	 * one) and erases the duplicates before it adds the PLT symbols; a
	 * symbol stretched over the PLT (_init) then wins the lookups that
	 * meet it first on their way down the tree.  Only a table with
	 * symbols gets PLT symbols (perf's dso__load: a stripped executable,
	 * whose .dynsym defines nothing, has none).
	 */
	nr_regular = d->nr_syms;
	if (nr_regular)
		add_plt(y, d, main, &alloc);
	d->tree = calloc(1, sizeof(*d->tree));
	if (!d->tree || !tree_build(y, d->tree, d->syms, nr_regular, d->nr_syms)) {
		tree_free(d->tree);
		d->tree = NULL;
		d->nr_syms = 0;		/* out of memory: no symbols, rather than wrong ones */
	}
	d->dwfl = dwfl;		/* names point into its tables */
	d->mod = mod;
	d->mbias = mbias;
	d->ph = ph;
	d->nph = nph;
}

static void
load_elf(struct pd_symbolizer *y, struct pd_dso *d)
{
	char path[4096];
	int fd = find_elf(y, d, path, sizeof(path));

	if (fd >= 0)
		load_elf_fd(y, d, fd, path);
}

/* ---------------------------------------------------------------- */
/* [vdso]: perf's cache copy, or this process's own when it matches. */

static void
load_vdso(struct pd_symbolizer *y, struct pd_dso *d)
{
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	const char *home = home_dir(y);
	char path[4096], hex[41];
	int fd;

	if (d->bid_size && home) {
		bid_hex(d, hex);
		snprintf(path, sizeof(path), "%s/.debug/[vdso]/%s/vdso", home, hex);
		if ((fd = open_candidate(d, path)) >= 0) {
			load_elf_fd(y, d, fd, path);
			return;
		}
	}
	if (!base)
		return;
	{
		const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
		size_t size;
		struct utsname u;

		if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64)
			return;
		size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
		if (size > (1u << 20))
			return;
		/* Without a recorded build-id, trust our vdso only on the same kernel. */
		if (!d->bid_size && sym_osrelease(y) && (uname(&u) < 0 || strcmp(u.release, sym_osrelease(y))))
			return;
		fd = memfd_create("vdso", MFD_CLOEXEC);
		if (fd < 0)
			return;
		if (write(fd, (const void *)base, size) != (ssize_t)size) {
			close(fd);
			return;
		}
		{
			Elf *e = elf_begin(fd, ELF_C_READ, NULL);
			unsigned char bid[20];
			size_t n = e ? elf_buildid(e, bid) : 0;

			if (e)
				elf_end(e);
			if (d->bid_size && (n != d->bid_size || memcmp(bid, d->bid, n))) {
				close(fd);
				return;
			}
		}
		load_elf_fd(y, d, fd, "[vdso]");
	}
}

/* ---------------------------------------------------------------- */
/* Text tables: /tmp/perf-PID.map and kallsyms. */

static char *
slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	char *buf = NULL;
	size_t n = 0, alloc = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode))) {
		close(fd);
		return NULL;
	}
	/* A plain file says its size (/proc's say 0): one allocation. */
	if (st.st_size > 0 && (uint64_t)st.st_size <= MAX_TEXT_SIZE &&
	    PD_GROW(buf, (size_t)st.st_size + 65536 + 1, alloc) < 0) {
		close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t k;

		if (PD_GROW(buf, n + 65536 + 1, alloc) < 0)
			break;
		k = read(fd, buf + n, 65536);
		if (k <= 0)
			break;
		n += (size_t)k;
		if (n > MAX_TEXT_SIZE)
			break;
	}
	close(fd);
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

static void
load_jit(struct pd_symbolizer *y, struct pd_dso *d)
{
	size_t len, alloc = 0;
	char *buf = slurp(d->name, &len), *line, *save = NULL;

	if (!buf)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *end;
		unsigned long long start = strtoull(line, &end, 16), size;

		if (end == line || *end != ' ')
			continue;
		size = strtoull(end + 1, &end, 16);
		if (*end != ' ' || !end[1])
			continue;
		if (PD_GROW(d->syms, d->nr_syms + 1, alloc) < 0)
			break;
		d->syms[d->nr_syms++] = (struct pd_sym){
			.start = start, .end = start + size,
			.name = pd_arena_strdup(&y->arena, end + 1), .binding = STB_GLOBAL,
		};
		if (!d->syms[d->nr_syms - 1].name)
			d->nr_syms--;
	}
	free(buf);
	finish_table(d->syms, &d->nr_syms, false);
}

/* The running kernel's build-id, from /sys/kernel/notes. */
static size_t
running_kernel_bid(unsigned char *out)
{
	size_t len, off = 0, n = 0;
	char *buf = slurp("/sys/kernel/notes", &len);

	if (!buf)
		return 0;
	while (off + 12 <= len) {
		uint32_t namesz, descsz, type;

		memcpy(&namesz, buf + off, 4);
		memcpy(&descsz, buf + off + 4, 4);
		memcpy(&type, buf + off + 8, 4);
		off += 12;
		if (namesz > len - off)
			break;
		{
			size_t name_off = off;

			off += (namesz + 3) & ~3u;
			if (descsz > len - off || off > len)
				break;
			if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(buf + name_off, "GNU", 4)) {
				n = descsz > 20 ? 20 : descsz;
				memcpy(out, buf + off, n);
				break;
			}
			off += (descsz + 3) & ~3u;
		}
	}
	free(buf);
	return n;
}

static bool
kallsyms_allowed(struct pd_symbolizer *y)
{
	struct pd_dso *k;
	struct utsname u;

	if (y->o.kallsyms)
		return true;
	HASH_FIND_STR(y->dsos, "[kernel.kallsyms]", k);
	if (k && k->bid_size) {
		unsigned char bid[20];
		size_t n = running_kernel_bid(bid);

		return n == k->bid_size && !memcmp(bid, k->bid, n);
	}
	if (sym_osrelease(y))
		return uname(&u) == 0 && !strcmp(u.release, sym_osrelease(y));
	return true;
}

/* kallsyms read and sorted, by the read-ahead thread or at first need. */
struct ktable {
	char *text;			/* the file; names point into it */
	struct pd_sym *syms;
	size_t nr;
	uint64_t text_addr;		/* _text */
	bool nonzero;
};

static void
ktable_free(struct ktable *kt)
{
	if (!kt)
		return;
	free(kt->text);
	free(kt->syms);
	free(kt);
}

/* Parse and sort kallsyms; no shared state, so a thread may run it. */
static struct ktable *
read_kallsyms(const char *path)
{
	struct ktable *kt = calloc(1, sizeof(*kt));
	size_t len, alloc = 0;
	char *line, *save = NULL;

	if (!kt)
		return NULL;
	kt->text = slurp(path, &len);
	if (!kt->text)
		return kt;
	for (line = strtok_r(kt->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *end, type, *name, *mod;
		bool lower;
		unsigned long long addr = 0;

		for (end = line; ; end++) {
			unsigned c = (unsigned char)*end, v;

			if (c - '0' < 10)
				v = c - '0';
			else if ((c | 0x20) - 'a' < 6)
				v = (c | 0x20) - 'a' + 10;
			else
				break;
			addr = addr << 4 | v;
		}
		if (end == line || end[0] != ' ' || !end[1] || end[2] != ' ')
			continue;
		/* ASCII case, not the locale's (tr_TR maps 'i' to a dotted capital). */
		lower = end[1] >= 'a' && end[1] <= 'z';
		type = lower ? (char)(end[1] - 'a' + 'A') : end[1];
		name = end + 3;
		mod = strchr(name, '\t');
		if (mod)
			*mod++ = '\0';
		if (!strcmp(name, "_text"))
			kt->text_addr = addr;
		if (type != 'T' && type != 'W' && type != 'D' && type != 'B')
			continue;
		if (name[0] == '$')
			continue;
		if (addr)
			kt->nonzero = true;
		if (PD_GROW(kt->syms, kt->nr + 1, alloc) < 0)
			break;
		kt->syms[kt->nr++] = (struct pd_sym){
			.start = addr, .end = addr, .name = name,
			.binding = type == 'W' ? STB_WEAK : lower ? STB_LOCAL : STB_GLOBAL,
			.user = mod ? (void *)1 : NULL,
		};
	}
	if (kt->nonzero)
		finish_table(kt->syms, &kt->nr, true);
	return kt;
}

static void
load_kallsyms(struct pd_symbolizer *y)
{
	struct ktable *kt;
	uint64_t delta = 0;

	y->kallsyms_loaded = true;
	if (y->kthread_started) {
		pthread_join(y->kthread, NULL);
		y->kthread_started = false;
		kt = y->kt;
		y->kt = NULL;
	} else {
		kallsyms_choose(y);
		kt = y->kcached || kallsyms_allowed(y) ? read_kallsyms(y->kpath) : NULL;
	}
	if (kt && y->kcached && !kt->nonzero) {
		/* perf's copy was made without the right to see addresses. */
		ktable_free(kt);
		kt = NULL;
		y->kcached = false;
		if (!y->o.kallsyms && kallsyms_allowed(y))
			kt = read_kallsyms("/proc/kallsyms");
	}
	if (kt && !y->kcached && !kallsyms_allowed(y)) {
		ktable_free(kt);
		return;
	}
	if (!kt)
		return;
	if (!kt->nonzero) {	/* kptr_restrict: every address reads as 0 */
		ktable_free(kt);
		return;
	}
	/* KASLR: the recording's _text against ours (perf kallsyms__delta). */
	if (y->have_kernel_ref && kt->text_addr)
		delta = y->kernel_ref - kt->text_addr;
	for (size_t i = 0; i < kt->nr; i++) {
		kt->syms[i].start += delta;
		kt->syms[i].end += delta;
	}
	y->ksyms = kt->syms;
	y->nr_ksyms = kt->nr;
	y->kallsyms_text = kt->text;
	free(kt);
}

/* ---------------------------------------------------------------- */

struct pd_sym *
pd_symbolizer_find(struct pd_symbolizer *y, struct pd_dso *d, uint64_t rel)
{
	if (d->kind == DSO_KERNEL || d->kind == DSO_MODULE) {
		if (!y->kallsyms_loaded)
			load_kallsyms(y);
		return table_find(y->ksyms, y->nr_ksyms, rel);
	}
	if (!d->loaded) {
		d->loaded = true;
		dso_apply_bid(y, d);
		if (d->kind == DSO_ELF)
			load_elf(y, d);
		else if (d->kind == DSO_VDSO)
			load_vdso(y, d);
		else if (d->kind == DSO_JIT)
			load_jit(y, d);
	}
	if (d->tree)
		return tree_find(d->tree, d->syms, rel);
	return table_find(d->syms, d->nr_syms, rel);
}

const char *
pd_sym_name(struct pd_symbolizer *y, struct pd_sym *s)
{
	if (!s->dname) {
		char *dm = y->o.no_demangle ? NULL : pd_demangle(&y->arena, s->name);

		s->dname = dm ? dm : s->name;
	}
	return s->dname;
}

const char *
pd_symbolizer_lookup(struct pd_symbolizer *y, struct pd_dso *d, uint64_t rel, uint64_t *off)
{
	struct pd_sym *s = pd_symbolizer_find(y, d, rel);

	if (!s)
		return NULL;
	if (off)
		*off = rel - s->start;
	return pd_sym_name(y, s);
}

/* ---------------------------------------------------------------- */
/* Source views: inlined functions and lines from DWARF (libdw). */

bool
pd_symbolizer_src_wanted(const struct pd_symbolizer *y, bool unwound)
{
	return y->o.inline_frames || y->o.srclines || (unwound && !y->o.no_inline);
}

/* File offset (perf's map_ip space) to link-time address, through the PT_LOAD that holds it. */
static bool
off_to_vaddr(const GElf_Phdr *ph, size_t nph, uint64_t off, uint64_t *vaddr)
{
	for (size_t i = 0; i < nph; i++)
		if (ph[i].p_type == PT_LOAD && off >= ph[i].p_offset &&
		    off - ph[i].p_offset < ph[i].p_filesz) {
			*vaddr = off - ph[i].p_offset + ph[i].p_vaddr;
			return true;
		}
	return false;
}

/* eu-addr2line's get_diename: the linkage name, else the name, through abstract origins. */
static const char *
die_name(struct pd_symbolizer *y, Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	char *dm;

	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	if (!name)
		name = dwarf_diename(die);
	if (!name || !*name)
		return "??";
	dm = y->o.no_demangle ? NULL : pd_demangle(&y->arena, name);
	return dm ? dm : name;
}

/*
 * Whether binutils takes DIE's name as its linkage name: it has a
 * DW_AT_linkage_name (through abstract origins and specifications), or
 * its language does not mangle names (C, assembler), so that DW_AT_name is.
 */
static bool
linkage_named(Dwarf_Die *die, Dwarf_Die *cu)
{
	Dwarf_Attribute attr;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
		return true;
	switch (cu ? dwarf_srclang(cu) : -1) {
	case DW_LANG_C89:
	case DW_LANG_C:
	case DW_LANG_C99:
	case DW_LANG_C11:
	case DW_LANG_Mips_Assembler:
	case DW_LANG_Cobol74:
	case DW_LANG_Cobol85:
	case DW_LANG_Fortran77:
	case DW_LANG_Pascal83:
	case DW_LANG_PLI:
	case DW_LANG_UPC:
		return true;
	default:
		return false;
	}
}

static const char *bfd_name(struct pd_dso *d, Dwarf_Addr addr, Dwarf_Addr *start);

static const char *
demangled(struct pd_symbolizer *y, const char *name)
{
	char *dm = name && !y->o.no_demangle ? pd_demangle(&y->arena, name) : NULL;

	return dm ? dm : name;
}

/*
 * The name addr2line (binutils 2.40, which perf runs once per DSO for the
 * whole session) gives function FN at ADDR, INNERMOST or as a caller of
 * the functions inlined below it; NULL: its DWARF name (die_name).
 *
 * A function with a linkage name (or in a language that does not mangle
 * names) has that name.  One without (C++ functions of local types, as
 * templates over a lambda, or the lambda itself) is, the first time it is
 * the innermost function of an address, named by the symbol table's
 * function there (bfd_name) - and keeps that symbol's name from then on if
 * the symbol starts where the function does; else it is marked, and
 * prints its DW_AT_name from then on, innermost or not.  So the names
 * depend on the order of the lookups, which perf makes in sample order,
 * each address once: the folder looks up the frames of a new chain when
 * it first sees it, leaf first, to follow it.
 */
static const char *
a2l_name(struct pd_symbolizer *y, struct pd_dso *d, Dwarf_Die *fn, bool innermost, Dwarf_Die *cu,
    Dwarf_Addr addr)
{
	Dwarf_Off off = dwarf_dieoffset(fn);
	struct a2l_fn *f;
	const char *name;
	Dwarf_Addr base, lo, hi;

	HASH_FIND(hh, d->a2l, &off, sizeof(off), f);
	if (f)
		return f->renamed;
	if (!innermost || linkage_named(fn, cu))
		return NULL;
	f = pd_arena_alloc(&y->arena, sizeof(*f));
	if (!f)
		return NULL;
	memset(f, 0, sizeof(*f));
	f->die = off;
	name = bfd_name(d, addr, &lo);
	if (name) {
		Dwarf_Addr start = lo;

		name = demangled(y, name);
		if (dwarf_ranges(fn, 0, &base, &lo, &hi) > 0 && lo + d->dwf_bias == start)
			f->renamed = name;
	}
	HASH_ADD(hh, d->a2l, die, sizeof(f->die), f);
	return name;
}

/*
 * The DWARF of a DSO for source views, on a Dwfl of its own, so that a
 * thread can open it (inflate the compressed sections of a debug file,
 * index its units) while the symbol table's Dwfl is in use: the session
 * starts one when a DWARF-unwound chain first has a frame in the file
 * (pd_symbolizer_prefetch_dwarf), not for every file the process maps, and
 * the first source view of the DSO waits for it.
 */
struct dw_open {
	char *path;			/* the binary */
	char *home;			/* for ~/.debug, or NULL */
	char **debuginfo_path;
	bool symfs;
	unsigned char bid[20];
	uint8_t bid_size;
	pthread_t th;
	bool started;
	/* results */
	Dwfl *dwfl;
	Dwfl_Module *mod;
	struct pd_dwimage *img;		/* its DWARF, read as dwimage.c does; or NULL */
	struct pd_dwfunc *dwf;
	Dwarf_Addr bias;
};

/* find_debuginfo for W's Dwfl: perf's cache, then libdwfl's search. */
static int
dwo_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
    const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
    char **debuginfo_file_name)
{
	struct dw_open *w = *userdata;

	if (w->home && w->bid_size) {
		struct pd_dso tmp = { .bid_size = w->bid_size };
		char path[4096], hex[41];
		int fd;

		memcpy(tmp.bid, w->bid, w->bid_size);
		bid_hex(&tmp, hex);
		snprintf(path, sizeof(path), "%s/.debug/.build-id/%.2s/%s/debug", w->home, hex, hex + 2);
		fd = open_candidate(&tmp, path);
		if (fd >= 0) {
			*debuginfo_file_name = strdup(path);
			return fd;
		}
	}
	return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
	    debuglink_file, debuglink_crc, debuginfo_file_name);
}

/*
 * The bias of MOD's separate debug file: that of the symbols read from it
 * (libdwfl's, which allows for a prelinked binary), else MAIN's.
 */
static Dwarf_Addr
debug_bias(Dwfl_Module *mod, Elf *main, Dwarf_Addr mbias)
{
	int n = dwfl_module_getsymtab(mod);

	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr at;
		GElf_Word shndx;
		Elf *e = NULL;
		Dwarf_Addr bias;

		if (dwfl_module_getsym_info(mod, i, &sym, &at, &shndx, &e, &bias) && e && e != main)
			return bias;
	}
	return mbias;
}

/*
 * W's DWARF and its bias: from the file that libdwfl takes it from (the
 * binary when it has DWARF, else the debug file that its symbol-table
 * search found), read by dwimage.c so that only the sections read are
 * inflated; else, as for a debug file found only by the DWARF search,
 * through libdwfl.
 */
static Dwarf *
dwo_dwarf(struct dw_open *w, Dwarf_Addr *bias)
{
	Dwarf_Addr mbias = 0;
	Elf *main = dwfl_module_getelf(w->mod, &mbias);
	const char *debugfile = NULL;

	if (!main)
		return NULL;
	if (pd_dwimage_has_dwarf(main)) {
		w->img = pd_dwimage_open(w->path);
		*bias = mbias;
	} else if (dwfl_module_getsymtab(w->mod) > 0 &&
	    dwfl_module_info(w->mod, NULL, NULL, NULL, NULL, NULL, NULL, &debugfile) && debugfile) {
		w->img = pd_dwimage_open(debugfile);
		*bias = debug_bias(w->mod, main, mbias);
	}
	if (w->img)
		return pd_dwimage_dwarf(w->img);
	return dwfl_module_getdwarf(w->mod, bias);
}

/* Open W's DWARF, looking for debug files along PATHP (NULL: the standard path). */
static bool
dwo_try(struct dw_open *w, char **pathp)
{
	Dwfl_Callbacks cb = {
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = dwo_find_debuginfo,
		.section_address = dwfl_offline_section_address,
		.debuginfo_path = pathp,
	};
	void **ud;

	if (!(w->dwfl = dwfl_begin(&cb)))
		return false;
	w->mod = dwfl_report_elf(w->dwfl, "dwarf", w->path, -1, 0, false);
	dwfl_report_end(w->dwfl, NULL, NULL);
	if (w->mod) {
		Dwarf *dw;

		dwfl_module_info(w->mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
		*ud = w;
		if ((dw = dwo_dwarf(w, &w->bias)) && (w->dwf = pd_dwfunc_new(dw, w->bias)))
			return true;
	}
	pd_dwfunc_free(w->dwf);
	w->dwf = NULL;
	pd_dwimage_free(w->img);	/* before the Dwfl, as below */
	w->img = NULL;
	w->mod = NULL;
	dwfl_end(w->dwfl);
	w->dwfl = NULL;
	return false;
}

/*
 * With --symfs, the symbol table comes from the binaries and debug files
 * under it, as perf's does; but perf names inlined functions with
 * addr2line, which finds a debug file by build-id or debuglink in
 * /usr/lib/debug whatever --symfs says.  So does this, for DWARF only.
 */
static void *
dwo_run(void *arg)
{
	struct dw_open *w = arg;

	if (!dwo_try(w, w->debuginfo_path) && w->symfs)
		dwo_try(w, NULL);
	return NULL;
}

static void
dwo_start(struct pd_symbolizer *y, struct pd_dso *d, bool thread)
{
	struct dw_open *w;
	const char *path = NULL, *home = home_dir(y);

	if (d->dwo || !d->mod ||
	    !dwfl_module_info(d->mod, NULL, NULL, NULL, NULL, NULL, &path, NULL) || !path ||
	    !(w = calloc(1, sizeof(*w))))
		return;
	d->dwo = w;
	w->path = strdup(path);
	w->home = home ? strdup(home) : NULL;
	w->debuginfo_path = y->cb.debuginfo_path;
	w->symfs = y->o.symfs != NULL;
	memcpy(w->bid, d->bid, d->bid_size);
	w->bid_size = d->bid_size;
	if (!w->path)
		return;
	if (thread)
		w->started = pthread_create(&w->th, NULL, dwo_run, w) == 0;
	if (!w->started)
		dwo_run(w);
}

static void
dwo_free(struct dw_open *w)
{
	if (!w)
		return;
	if (w->started)
		pthread_join(w->th, NULL);
	pd_dwfunc_free(w->dwf);		/* before the DWARF it reads */
	pd_dwimage_free(w->img);
	if (w->dwfl)
		dwfl_end(w->dwfl);
	free(w->path);
	free(w->home);
	free(w);
}

/* Start reading D's DWARF in a thread, for the DWARF chains to come. */
void
pd_symbolizer_prefetch_dwarf(struct pd_symbolizer *y, struct pd_dso *d)
{
	if (d->prefetched)
		return;
	d->prefetched = true;
	if (!y->o.no_inline && d->kind == DSO_ELF && !d->dwo) {
		pd_symbolizer_find(y, d, 0);	/* the symbol table first: it finds the file */
		dwo_start(y, d, true);
	}
}

/* The DWARF function index of D, made on first use (NULL: no DWARF). */
static struct pd_dwfunc *
dso_dwfunc(struct pd_dso *d)
{
	if (!d->dwf_tried) {
		d->dwf_tried = true;
		dwo_start(d->y, d, false);
		if (d->dwo && d->dwo->started) {
			pthread_join(d->dwo->th, NULL);
			d->dwo->started = false;
		}
		if (d->dwo && d->dwo->dwf) {
			d->dwf = d->dwo->dwf;
			d->dmod = d->dwo->mod;
			d->dwf_bias = d->dwo->bias;
		}
	}
	return d->dwf;
}

/*
 * binutils' choice of a function symbol for an address that DWARF knows no
 * function of (code written in assembler, as glibc's string functions), which
 * is the name addr2line prints and so perf shows: the symbol starting
 * closest before ADDR, of functions and untyped labels in executable
 * sections; at one start, the one that covers ADDR, a function before a
 * label, the smaller, and of equals the first in the table.
 */
static const char *
bfd_name(struct pd_dso *d, Dwarf_Addr addr, Dwarf_Addr *start)
{
	int n = dwfl_module_getsymtab(d->dmod);
	const char *best = NULL;
	uint64_t boff = 0, bsize = 0;
	int btype = 0;

	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr at;
		GElf_Word shndx;
		Elf *e;
		Dwarf_Addr bias;
		const char *name = dwfl_module_getsym_info(d->dmod, i, &sym, &at, &shndx, &e, &bias);
		int type = GELF_ST_TYPE(sym.st_info);
		uint64_t size = sym.st_size ? sym.st_size : 1;
		Elf_Scn *scn;
		GElf_Shdr sh;
		bool better;

		if (!name || !*name || at > addr || (best && at < boff))
			continue;
		if (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_NOTYPE)
			continue;
		if (sym.st_shndx == SHN_UNDEF || sym.st_shndx == SHN_ABS ||
		    !(scn = e ? elf_getscn(e, shndx) : NULL) || !gelf_getshdr(scn, &sh) ||
		    !(sh.sh_flags & SHF_EXECINSTR))
			continue;
		if (!best || at > boff)
			better = true;
		else if (boff + bsize <= addr)
			better = size > bsize;
		else if (at + size <= addr)
			better = false;
		else if ((type == STT_NOTYPE) != (btype == STT_NOTYPE))
			better = type != STT_NOTYPE;
		else
			better = size < bsize;
		if (better) {
			best = name;
			boff = at;
			bsize = size;
			btype = type;
		}
	}
	*start = boff;
	return best;
}

#define MAX_INLINE	64

/*
 * The levels at module address ADDR, outermost first, into LV (resized as
 * needed); returns their number, 0 when DWARF has nothing to say.
 *
 * PERF: name them as perf does for a frame of a --call-graph dwarf chain
 * (perf's append_inlines, through addr2line -i): only when the address has
 * a source line; every level, the outermost too, by its DWARF name (linkage
 * name, else name, demangled); and where no DWARF function covers the
 * address, one level named by binutils' symbol choice (bfd_name).
 * Otherwise (--inline on other frames) levels are only made when a function
 * is inlined at ADDR; the caller names the outermost from the symbol table.
 *
 * Each level but the innermost is placed at the call site of the level
 * below it (DW_AT_call_file and DW_AT_call_line), the innermost at the line
 * of ADDR, as eu-addr2line -i and addr2line -i print them.
 */
static size_t
inline_levels(struct pd_symbolizer *y, struct pd_dso *d, Dwarf_Addr addr, bool perf,
    struct pd_srclevel **lv, size_t *alloc)
{
	struct pd_dwfunc *x = dso_dwfunc(d);
	Dwarf_Die chain[MAX_INLINE], cu;
	Dwarf_Line *line = NULL;
	Dwarf_Files *files = NULL;
	bool have_cu = false;
	size_t nc = x ? pd_dwfunc_chain(x, addr, chain, MAX_INLINE, &cu, &have_cu, &line) : 0;
	const char *src = NULL;
	int lineno = 0;

	if (line)
		src = dwarf_linesrc(line, NULL, NULL);
	if (!src && !have_cu) {
		/* No unit holds ADDR by its ranges: libdwfl's lookup (aranges). */
		src = x ? pd_dwfunc_aranges_src(x, addr, &lineno) : NULL;
	} else if (src) {
		dwarf_lineno(line, &lineno);
	}
	if (perf && !src)
		return 0;		/* addr2line's "??:0": perf keeps the symbol */
	if (!perf && (nc < 2 || !y->o.inline_frames)) {
		/* Nothing inlined (or not asked): the line alone, for --lines. */
		if (!y->o.srclines || !src || PD_GROW(*lv, 1, *alloc) < 0)
			return 0;
		(*lv)[0] = (struct pd_srclevel){ NULL, src, lineno > 0 ? (unsigned)lineno : 0 };
		return 1;
	}
	if (PD_GROW(*lv, nc ? nc : 1, *alloc) < 0)
		return 0;
	if (nc == 0) {
		Dwarf_Addr start;
		const char *name = bfd_name(d, addr, &start);

		if (!name)
			return 0;
		(*lv)[0] = (struct pd_srclevel){ demangled(y, name), NULL, 0 };
		nc = 1;
	} else {
		if (y->o.srclines && have_cu && dwarf_getsrcfiles(&cu, &files, NULL) != 0)
			files = NULL;
		for (size_t i = 0; i < nc; i++) {
			struct pd_srclevel l = { NULL, NULL, 0 };
			Dwarf_Attribute attr;
			Dwarf_Word val;

			if (i + 1 < nc) {
				if (files && dwarf_formudata(dwarf_attr(&chain[i + 1], DW_AT_call_file, &attr),
				    &val) == 0)
					l.file = dwarf_filesrc(files, val, NULL, NULL);
				if (dwarf_formudata(dwarf_attr(&chain[i + 1], DW_AT_call_line, &attr), &val) == 0)
					l.line = (unsigned)val;
			}
			if (perf)
				l.func = a2l_name(y, d, &chain[i], i + 1 == nc, have_cu ? &cu : NULL, addr);
			if (!l.func)
				l.func = die_name(y, &chain[i]);
			(*lv)[i] = l;
		}
	}
	if (y->o.srclines) {
		(*lv)[nc - 1].file = src;
		(*lv)[nc - 1].line = src && lineno > 0 ? (unsigned)lineno : 0;
	}
	return nc;
}

static void
src_resolve(struct pd_symbolizer *y, struct pd_dso *d, uint64_t at, bool unwound, struct pd_srcinfo *si)
{
	struct pd_srclevel one = { NULL, NULL, 0 }, *lv = NULL, *out;
	size_t alloc = 0, n = 0;
	uint64_t vaddr;
	bool dwarf = d->kind == DSO_ELF && d->mod && off_to_vaddr(d->ph, d->nph, at, &vaddr);
	bool perf = unwound && !y->o.no_inline;
	Dwarf_Addr addr = dwarf ? vaddr + d->mbias : 0;

	if (dwarf && (perf || y->o.inline_frames || y->o.srclines))
		n = inline_levels(y, d, addr, perf, &lv, &alloc);
	if (n == 0) {
		free(lv);
		lv = &one;
		n = 1;
		/* The symbol table's name, as without these options. */
		lv[0].func = pd_sym_name(y, si->sym);
		if (dwarf && y->o.srclines) {
			int lineno = 0;
			const char *src = d->dwf ? pd_dwfunc_aranges_src(d->dwf, addr, &lineno) : NULL;

			lv[0].file = src;
			lv[0].line = src && lineno > 0 ? (unsigned)lineno : 0;	/* eu-addr2line prints 0 too */
		}
	} else if (!perf) {
		lv[0].func = pd_sym_name(y, si->sym);	/* --inline names the outermost as before */
	}
	out = pd_arena_alloc(&y->arena, n * sizeof(*out));
	if (out) {
		memcpy(out, lv, n * sizeof(*out));
		si->level = out;
		si->nr = n;
	}
	if (lv != &one)
		free(lv);
}

struct pd_srcinfo *
pd_symbolizer_src(struct pd_symbolizer *y, struct pd_dso *d, uint64_t rel, bool ret, bool unwound)
{
	/* The unwinder's frames hold their return address - 1 already. */
	uint64_t at = ret && rel && !unwound ? rel - 1 : rel;
	uint64_t key = at | (unwound ? SRC_UNWOUND : 0);
	struct src_entry *e;

	HASH_FIND(hh, d->srcs, &key, sizeof(key), e);
	if (e)
		return &e->info;
	e = pd_arena_alloc(&y->arena, sizeof(*e));
	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->at = key;
	/*
	 * A return address names the function of its call (perf 6.1 looks it
	 * up as it is, which differs only after a call to a noreturn function).
	 */
	e->info.sym = pd_symbolizer_find(y, d, at);
	if (!e->info.sym && at != rel)
		e->info.sym = pd_symbolizer_find(y, d, rel);
	if (e->info.sym)
		src_resolve(y, d, at, unwound, &e->info);
	HASH_ADD(hh, d->srcs, at, sizeof(e->at), e);
	return &e->info;
}

/*
 * For the unwinder: the path of D's loadable file (the binary itself, which
 * holds .eh_frame and the bytes of read-only data), build-id checked; not
 * a separate debug file.  False when there is none.
 */
bool
pd_symbolizer_binary_path(struct pd_symbolizer *y, struct pd_dso *d, char *path, size_t len)
{
	char hex[41];
	const char *home = home_dir(y);
	int fd;

	if (d->kind != DSO_ELF)
		return false;
	/* Every process that maps D asks; open and verify the file once. */
	if (!d->bin_checked || d->bin_bid_size != d->bid_size) {
		d->bin_checked = true;
		d->bin_bid_size = d->bid_size;
		d->bin_path = NULL;
		snprintf(path, len, "%s%s", y->o.symfs ? y->o.symfs : "", d->name);
		fd = open_candidate(d, path);
		if (fd < 0 && d->bid_size && home) {
			bid_hex(d, hex);
			snprintf(path, len, "%s/.debug/.build-id/%.2s/%s/elf", home, hex, hex + 2);
			fd = open_candidate(d, path);
		}
		if (fd < 0)
			return false;
		close(fd);
		d->bin_path = pd_arena_strdup(&y->arena, path);
	}
	if (!d->bin_path || strlen(d->bin_path) >= len)
		return false;
	memcpy(path, d->bin_path, strlen(d->bin_path) + 1);
	return true;
}
