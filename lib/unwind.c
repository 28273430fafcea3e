/*
 * unwind.c - DWARF unwinding of the user part of a sample from its
 * PERF_SAMPLE_REGS_USER registers and PERF_SAMPLE_STACK_USER stack copy
 * (FORMAT-NOTES.md 6.4), with libdwfl.
 *
 * One Dwfl per address space, kept while the process's maps do not change:
 * its modules are reported once, their CFI (.eh_frame, .debug_frame) is
 * parsed once and cached by libdw, so each sample costs one walk.  Memory
 * reads come from the stack copy, or from the mapped files for addresses
 * outside it (read-only data only: never live memory, never made up).  As
 * perf does, a frame that is not the interrupted one is looked up at its
 * return address minus one.
 *
 * The common case is walked without libdwfl: for each address, the CFI row
 * is reduced once to "CFA = rsp or rbp + N, return address at CFA + M, rbp
 * unchanged or at CFA + K" and cached in a hash table of the address space,
 * so that a frame costs a lookup and two reads of the stack copy.  An
 * address whose row says anything else (expressions, other registers,
 * signal frames) sends the whole sample to libdwfl's unwinder.
 */
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <unistd.h>

#include "pd-internal.h"
#include "unwind.h"

struct uw_file {
	char *path;
	int fd;
	bool reported;			/* to libdwfl, as a module */
};

struct uw_map {
	uint64_t start, end, pgoff;
	size_t file;
};

enum { RULE_EMPTY, RULE_SIMPLE, RULE_OUTERMOST, RULE_COMPLEX, RULE_NO_CFI };
enum { RBP_SAME, RBP_SAVED, RBP_UNDEF };

/* The CFI row at one address, reduced. */
struct uw_rule {
	uint64_t pc;
	uint8_t kind;			/* RULE_* */
	uint8_t cfa_reg;		/* DWARF 6 (rbp) or 7 (rsp) */
	uint8_t rbp;			/* RBP_* */
	int32_t cfa_off, ra_off, rbp_off;
};

struct pd_uw_space {
	Dwfl *dwfl;
	Dwfl_Callbacks cb;
	char *debuginfo_path;
	bool usable;
	int32_t pid;
	struct uw_file *files;
	size_t nr_files, alloc_files;
	struct uw_map *maps;
	size_t nr_maps, alloc_maps;
	/* the sample being unwound */
	const struct pd_uw_regs *cur;
	int32_t tid;
	uint64_t *pcs;
	size_t nr_pcs, max_pcs;
	bool hit_max;
	/* reduced CFI rows by address */
	struct uw_rule *rules;
	size_t nr_rules, cap_rules;
	bool slow;			/* PD_UNWIND=dwfl: libdwfl only (tests) */
};

static pid_t
uw_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct pd_uw_space *u = arg;

	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = u;
	return u->tid;
}

static bool
uw_read_file(struct pd_uw_space *u, uint64_t addr, uint64_t *out)
{
	for (size_t i = 0; i < u->nr_maps; i++) {
		const struct uw_map *m = &u->maps[i];

		if (addr >= m->start && addr + 8 <= m->end) {
			int fd = u->files[m->file].fd;

			return fd >= 0 && pread(fd, out, 8, (off_t)(addr - m->start + m->pgoff)) == 8;
		}
	}
	return false;
}

static bool
uw_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct pd_uw_space *u = arg;
	const struct pd_uw_regs *r = u->cur;
	uint64_t v;

	(void)dwfl;
	if (addr >= r->sp && addr - r->sp <= r->stack_len && r->stack_len - (addr - r->sp) >= 8) {
		v = pd_load64(r->stack + (addr - r->sp), r->swap);
		*result = v;
		return true;
	}
	if (uw_read_file(u, addr, &v)) {
		*result = v;
		return true;
	}
	return false;
}

static bool
uw_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct pd_uw_space *u = thread_arg;

	return dwfl_thread_state_registers(thread, 0, PD_UW_NREGS, u->cur->dwarf);
}

static const Dwfl_Thread_Callbacks uw_thread_cb = {
	.next_thread = uw_next_thread,
	.memory_read = uw_memory_read,
	.set_initial_registers = uw_set_initial_registers,
};

struct pd_uw_space *
pd_uw_space_new(int32_t pid)
{
	struct pd_uw_space *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->pid = pid;
	u->slow = getenv("PD_UNWIND") && !strcmp(getenv("PD_UNWIND"), "dwfl");
	u->cb.find_debuginfo = dwfl_standard_find_debuginfo;
	u->cb.section_address = dwfl_offline_section_address;
	u->cb.debuginfo_path = &u->debuginfo_path;
	u->dwfl = dwfl_begin(&u->cb);
	if (!u->dwfl) {
		free(u);
		return NULL;
	}
	dwfl_report_begin(u->dwfl);
	return u;
}

void
pd_uw_space_free(struct pd_uw_space *u)
{
	if (!u)
		return;
	if (u->dwfl)
		dwfl_end(u->dwfl);
	for (size_t i = 0; i < u->nr_files; i++) {
		free(u->files[i].path);
		if (u->files[i].fd >= 0)
			close(u->files[i].fd);
	}
	free(u->files);
	free(u->maps);
	free(u->rules);
	free(u);
}

/*
 * The load bias of a mapping of PATH at START with file offset PGOFF: the
 * start minus the link-time address of PGOFF in the PT_LOAD that holds it.
 */
static bool
load_bias(int fd, uint64_t start, uint64_t pgoff, uint64_t *bias, bool *exec_type)
{
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	size_t nph = 0;
	bool found = false;
	GElf_Ehdr eh;

	if (!e)
		return false;
	if (elf_kind(e) == ELF_K_ELF && gelf_getehdr(e, &eh) && elf_getphdrnum(e, &nph) == 0) {
		*exec_type = eh.e_type == ET_EXEC;
		for (size_t i = 0; i < nph && !found; i++) {
			GElf_Phdr ph;

			/*
			 * The executable segment that starts on PGOFF's page (the
			 * mapping of an executable file is its PF_X segment; the
			 * segment before may share that page).
			 */
			if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
				continue;
			if (pgoff >= (ph.p_offset & ~(uint64_t)0xfff) && pgoff < ph.p_offset + ph.p_filesz) {
				*bias = start - (ph.p_vaddr - ph.p_offset + pgoff);
				found = true;
			}
		}
	}
	elf_end(e);
	return found;
}

int
pd_uw_space_add(struct pd_uw_space *u, uint64_t start, uint64_t end, uint64_t pgoff,
    const char *path, bool exec)
{
	size_t f;
	struct uw_file *uf;

	for (f = 0; f < u->nr_files; f++)
		if (!strcmp(u->files[f].path, path))
			break;
	if (f == u->nr_files) {
		char *dup = strdup(path);

		if (!dup || PD_GROW(u->files, u->nr_files + 1, u->alloc_files) < 0) {
			free(dup);
			return PD_E_NOMEM;
		}
		u->files[u->nr_files++] = (struct uw_file){ dup,
		    open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), false };
	}
	uf = &u->files[f];
	/* The module is placed by its (first) executable mapping. */
	if (uf->fd >= 0 && exec && !uf->reported) {
		uint64_t bias = 0;
		bool et_exec = false;

		uf->reported = true;
		if (load_bias(uf->fd, start, pgoff, &bias, &et_exec)) {
			const char *base = strrchr(path, '/');

			if (dwfl_report_elf(u->dwfl, base ? base + 1 : path, path, -1,
			    et_exec ? 0 : bias, true))
				u->usable = true;
		}
	}
	if (PD_GROW(u->maps, u->nr_maps + 1, u->alloc_maps) < 0)
		return PD_E_NOMEM;
	u->maps[u->nr_maps++] = (struct uw_map){ start, end, pgoff, f };
	return PD_OK;
}

int
pd_uw_space_ready(struct pd_uw_space *u)
{
	if (dwfl_report_end(u->dwfl, NULL, NULL) != 0)
		u->usable = false;
	if (u->usable && !dwfl_attach_state(u->dwfl, NULL, u->pid, &uw_thread_cb, u))
		u->usable = false;
	return u->usable ? PD_OK : PD_E_UNSUPPORTED;
}

static int
uw_frame(Dwfl_Frame *state, void *arg)
{
	struct pd_uw_space *u = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	if (!activation)
		pc--;
	if (u->nr_pcs == u->max_pcs) {
		u->hit_max = true;
		return DWARF_CB_ABORT;
	}
	u->pcs[u->nr_pcs++] = pc;
	return DWARF_CB_OK;
}

/* N as a signed offset when the op encodes "ADDR + N" (plus_uconst wraps). */
static bool
op_offset(const Dwarf_Op *op, int32_t *off)
{
	int64_t v;

	if (op->atom == DW_OP_plus_uconst || op->atom == DW_OP_consts)
		v = (int64_t)op->number;
	else if (op->atom >= DW_OP_lit0 && op->atom <= DW_OP_lit31)
		v = op->atom - DW_OP_lit0;
	else
		return false;
	if (v < INT32_MIN || v > INT32_MAX)
		return false;
	*off = (int32_t)v;
	return true;
}

/* "the value is saved at CFA + N": [call_frame_cfa] or [call_frame_cfa, plus_uconst N]. */
static bool
saved_at_cfa(const Dwarf_Op *ops, size_t n, int32_t *off)
{
	*off = 0;
	if (n == 0 || ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	if (n == 1)
		return true;
	if (n == 2)
		return op_offset(&ops[1], off);
	if (n == 3 && ops[1].atom == DW_OP_consts && ops[2].atom == DW_OP_plus)
		return op_offset(&ops[1], off);
	return false;
}

static void
reduce_row(Dwarf_Frame *fr, struct uw_rule *r)
{
	Dwarf_Op *ops, mem[3];
	size_t n;
	int ra;
	bool signal = false;
	int64_t off;

	r->kind = RULE_COMPLEX;
	ra = dwarf_frame_info(fr, NULL, NULL, &signal);
	if (ra < 0 || signal)
		return;
	if (dwarf_frame_register(fr, ra, mem, &ops, &n) < 0)
		return;
	if (n == 0) {
		/* undefined: the outermost frame; same value: not a frame we know */
		if (ops == mem)
			r->kind = RULE_OUTERMOST;
		return;
	}
	if (!saved_at_cfa(ops, n, &r->ra_off))
		return;
	if (dwarf_frame_cfa(fr, &ops, &n) < 0 || n != 1)
		return;
	if (ops[0].atom == DW_OP_bregx) {
		r->cfa_reg = (uint8_t)(ops[0].number < 256 ? ops[0].number : 255);
		off = (int64_t)ops[0].number2;
	} else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		r->cfa_reg = (uint8_t)(ops[0].atom - DW_OP_breg0);
		off = (int64_t)ops[0].number;
	} else {
		return;
	}
	if ((r->cfa_reg != 6 && r->cfa_reg != 7) || off < INT32_MIN || off > INT32_MAX)
		return;
	r->cfa_off = (int32_t)off;
	if (dwarf_frame_register(fr, 6, mem, &ops, &n) < 0)
		return;
	if (n == 0)
		r->rbp = ops == mem ? RBP_UNDEF : RBP_SAME;
	else if (saved_at_cfa(ops, n, &r->rbp_off))
		r->rbp = RBP_SAVED;
	else
		return;
	r->kind = RULE_SIMPLE;
}

/* The .debug_frame CFI of MOD's main file, or NULL (no such section). */
static Dwarf_CFI *
binary_debug_frame(Dwfl_Module *mod, Dwarf_Addr *bias)
{
	Elf *e = dwfl_module_getelf(mod, bias);
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (!e || elf_getshdrstrndx(e, &shstrndx) < 0)
		return NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_PROGBITS &&
		    (name = elf_strptr(e, shstrndx, sh.sh_name)) && !strcmp(name, ".debug_frame"))
			return dwarf_getcfi_elf(e);
	}
	return NULL;
}

/* The first slot for PC in a table of CAP (a power of 2) rows. */
static inline size_t
rule_slot(uint64_t pc, size_t cap)
{
	return (size_t)(pc * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1);
}

static const struct uw_rule *
rule_at(struct pd_uw_space *u, uint64_t pc)
{
	size_t mask, i;
	struct uw_rule *r;
	Dwfl_Module *mod;
	Dwarf_Addr bias;
	Dwarf_CFI *cfi;
	Dwarf_Frame *fr = NULL;

	if (2 * (u->nr_rules + 1) > u->cap_rules) {
		size_t cap = u->cap_rules ? 2 * u->cap_rules : 1024;
		struct uw_rule *nt = calloc(cap, sizeof(*nt));

		if (!nt)
			return NULL;
		for (size_t k = 0; k < u->cap_rules; k++) {
			const struct uw_rule *o = &u->rules[k];

			if (o->kind == RULE_EMPTY)
				continue;
			for (i = rule_slot(o->pc, cap); nt[i].kind != RULE_EMPTY; i = (i + 1) & (cap - 1))
				;
			nt[i] = *o;
		}
		free(u->rules);
		u->rules = nt;
		u->cap_rules = cap;
	}
	mask = u->cap_rules - 1;
	for (i = rule_slot(pc, u->cap_rules); u->rules[i].kind != RULE_EMPTY; i = (i + 1) & mask)
		if (u->rules[i].pc == pc)
			return &u->rules[i];
	r = &u->rules[i];
	memset(r, 0, sizeof(*r));
	r->pc = pc;
	r->kind = RULE_COMPLEX;
	u->nr_rules++;
	mod = dwfl_addrmodule(u->dwfl, pc);
	if (mod) {
		cfi = dwfl_module_eh_cfi(mod, &bias);
		if (!cfi || dwarf_cfi_addrframe(cfi, pc - bias, &fr) != 0) {
			fr = NULL;
			/*
			 * .debug_frame of the binary itself.  (dwfl_module_dwarf_cfi
			 * would load and inflate all of a separate debug file's
			 * DWARF first, which costs more than the rest of a run; a
			 * code range with neither table ends the unwind there.)
			 */
			cfi = binary_debug_frame(mod, &bias);
			if (cfi && dwarf_cfi_addrframe(cfi, pc - bias, &fr) != 0)
				fr = NULL;
			if (!fr)
				r->kind = RULE_NO_CFI;
		}
	}
	if (fr) {
		reduce_row(fr, r);
		free(fr);
	}
	return r;
}

static bool
stack_read(const struct pd_uw_regs *g, uint64_t addr, uint64_t *v)
{
	if (addr < g->sp || addr - g->sp > g->stack_len || g->stack_len - (addr - g->sp) < 8)
		return false;
	*v = pd_load64(g->stack + (addr - g->sp), g->swap);
	return true;
}

/* The cached walk; PD_UW_NONE + *fallback when a row is not simple. */
static enum pd_uw_result
fast_unwind(struct pd_uw_space *u, const struct pd_uw_regs *g, uint64_t *pcs, size_t max,
    size_t *nr, bool *fallback)
{
	uint64_t pc = g->dwarf[16], rsp = g->sp, rbp = g->dwarf[6];
	bool rbp_ok = true;
	size_t n = 0;

	*fallback = false;
	pcs[n++] = pc;
	for (;;) {
		const struct uw_rule *r = rule_at(u, pc);
		uint64_t cfa, ra, nrbp = 0;

		if (r && r->kind == RULE_NO_CFI) {
			/*
			 * No CFI for this code: follow the frame pointer, as
			 * libdwfl's x86_64 backend does (return address at
			 * rbp + 8, the caller's rbp at rbp, its rsp rbp + 16).
			 */
			if (!rbp_ok || !stack_read(g, rbp + 8, &ra)) {
				/* As libdwfl counts it: the frames found, then an error. */
				*nr = n;
				return PD_UW_TRUNCATED;
			}
			rsp = rbp + 16;
			rbp_ok = stack_read(g, rbp, &nrbp);
			rbp = nrbp;
			if (ra == 0 || n == max)
				break;
			pc = ra - 1;
			pcs[n++] = pc;
			continue;
		}
		if (!r || r->kind == RULE_COMPLEX || (r->cfa_reg == 6 && !rbp_ok)) {
			*fallback = true;
			return PD_UW_NONE;
		}
		if (r->kind == RULE_OUTERMOST)
			break;
		cfa = (r->cfa_reg == 7 ? rsp : rbp) + (uint64_t)(int64_t)r->cfa_off;
		if (!stack_read(g, cfa + (uint64_t)(int64_t)r->ra_off, &ra)) {
			*nr = n;
			return PD_UW_TRUNCATED;
		}
		if (r->rbp == RBP_SAVED) {
			rbp_ok = stack_read(g, cfa + (uint64_t)(int64_t)r->rbp_off, &nrbp);
			rbp = nrbp;
		} else if (r->rbp == RBP_UNDEF) {
			rbp_ok = false;
		}
		rsp = cfa;
		if (ra == 0)
			break;
		if (n == max)
			break;
		pc = ra - 1;
		pcs[n++] = pc;
	}
	*nr = n;
	return PD_UW_FULL;
}

enum pd_uw_result
pd_uw_unwind(struct pd_uw_space *u, int32_t tid, const struct pd_uw_regs *regs,
    uint64_t *pcs, size_t max, size_t *nr)
{
	int rc;

	*nr = 0;
	if (!u->usable || !max)
		return PD_UW_NONE;
	if (!u->slow) {
		bool fallback;
		enum pd_uw_result res = fast_unwind(u, regs, pcs, max, nr, &fallback);

		if (!fallback)
			return res;
		*nr = 0;
	}
	u->cur = regs;
	u->tid = tid > 0 ? tid : u->pid;
	u->pcs = pcs;
	u->nr_pcs = 0;
	u->max_pcs = max;
	u->hit_max = false;
	rc = dwfl_getthread_frames(u->dwfl, u->tid, uw_frame, u);
	*nr = u->nr_pcs;
	u->cur = NULL;
	if (!u->nr_pcs)
		return PD_UW_NONE;
	if (rc == 0 || u->hit_max)
		return PD_UW_FULL;
	return PD_UW_TRUNCATED;
}

/*
 * perf's x86_64 register numbers (arch/x86/include/uapi/asm/perf_regs.h) of
 * the DWARF registers 0-16: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip.
 */
#if defined(__x86_64__)
static const int dwarf_from_perf[PD_UW_NREGS] = {
	0, 3, 2, 1, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23, 8
};
#define PERF_REG_SP	7
#endif

bool
pd_uw_regs_load(struct pd_uw_regs *out, uint64_t abi, const unsigned char *regs, uint64_t mask,
    const unsigned char *stack, uint64_t stack_len, bool swap)
{
#if defined(__x86_64__)
	uint64_t byperf[64];
	bool have[64] = { false };
	size_t k = 0;

	/*
	 * PERF_SAMPLE_REGS_ABI_64.  A file in the other byte order holds the
	 * registers and the stack copy as swapped u64s (perf swaps samples
	 * word by word), and reads undo that.
	 */
	if (abi != 2 || !stack || !stack_len)
		return false;
	for (int bit = 0; bit < 64; bit++)
		if (mask & (1ull << bit)) {
			byperf[bit] = pd_load64(regs + 8 * k++, swap);
			have[bit] = true;
		}
	for (int i = 0; i < PD_UW_NREGS; i++) {
		if (!have[dwarf_from_perf[i]])
			return false;
		out->dwarf[i] = byperf[dwarf_from_perf[i]];
	}
	out->sp = byperf[PERF_REG_SP];
	out->stack = stack;
	out->stack_len = stack_len;
	out->swap = swap;
	return true;
#else
	(void)out, (void)abi, (void)regs, (void)mask, (void)stack, (void)stack_len, (void)swap;
	return false;
#endif
}
