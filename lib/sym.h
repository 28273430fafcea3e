/*
 * sym.h - the symbolizer: DSOs, where their symbols come from, and lookups.
 * Internal to the library.
 */
#ifndef PD_SYM_H
#define PD_SYM_H

#include "pd-internal.h"

struct pd_symbolizer;

/* One symbol, in the DSO's file-offset address space (perf's map_ip space). */
struct pd_sym {
	uint64_t start, end;
	const char *name;		/* as in the symbol table */
	const char *dname;		/* demangled, or name; NULL until asked */
	void *user;			/* a cache slot for the folder */
	uint32_t seq;			/* order in the table read: ties keep the first */
	uint8_t binding;
};

struct pd_symbolizer *pd_symbolizer_new(const struct pd_session_opts *o);
void pd_symbolizer_free(struct pd_symbolizer *y);
void pd_symbolizer_set_reader(struct pd_symbolizer *y, struct pd_reader *r);
/* Copy what the reader learnt (build-ids, OS release) before it goes away. */
void pd_symbolizer_absorb(struct pd_symbolizer *y, struct pd_reader *r);

struct pd_dso *pd_symbolizer_dso(struct pd_symbolizer *y, const char *name,
    const unsigned char *bid, size_t bid_size);
struct pd_dso *pd_symbolizer_kernel_dso(struct pd_symbolizer *y, const char *mmap_name);
struct pd_dso *pd_symbolizer_ksym_dso(struct pd_symbolizer *y, const char *name, uint64_t addr,
    uint32_t len);
bool pd_symbolizer_dso_is_vdso(const struct pd_dso *d);
void pd_symbolizer_set_kernel_ref(struct pd_symbolizer *y, uint64_t text_addr);

/* The symbol containing REL, loading the DSO's table on first use; or NULL. */
struct pd_sym *pd_symbolizer_find(struct pd_symbolizer *y, struct pd_dso *d, uint64_t rel);
const char *pd_symbolizer_lookup(struct pd_symbolizer *y, struct pd_dso *d, uint64_t rel, uint64_t *off);
/* The demangled name of S. */
const char *pd_sym_name(struct pd_symbolizer *y, struct pd_sym *s);

/*
 * Source view of an address (--inline, --lines, and the frames of
 * --call-graph dwarf chains): one level per function, the outermost first.
 *
 * For a frame of the DWARF unwinder (unless pd_session_opts.no_inline),
 * the levels are the frames perf script prints by default: every function
 * inlined at the address and the function itself, all named from DWARF
 * (copy_churn where the symbol table says copy_churn.constprop.0), when
 * the address has a source line; else the symbol table's name alone.
 *
 * For other frames, with pd_session_opts.inline_frames: level 0 is the
 * function of the symbol table (named as pd_sym_name names it), and every
 * function inlined into it follows, from DWARF, down to the innermost.
 *
 * The innermost level's place is the line of the address itself; every
 * other level's is the call site of the level below it (DW_AT_call_file
 * and DW_AT_call_line), as eu-addr2line -i prints them.
 */
struct pd_srclevel {
	const char *func;		/* demangled unless no_demangle */
	const char *file;		/* as eu-addr2line prints it; NULL: unknown, or no srclines */
	unsigned line;
};

struct pd_srcinfo {
	struct pd_sym *sym;		/* the symbol at the address; NULL: NR is 0 */
	size_t nr;
	const struct pd_srclevel *level;
	void *user;			/* a cache slot for the folder */
};

/*
 * Whether frames get source views: the session asked for inlined frames or
 * source lines, or (UNWOUND) the frame is the DWARF unwinder's and inline
 * frames are not turned off.
 */
bool pd_symbolizer_src_wanted(const struct pd_symbolizer *y, bool unwound);

/*
 * The source view of REL in D, for the options the session asked for.
 * RET says REL is a return address (any frame but the sample IP and the
 * first user frame under kernel frames): it is looked up at REL - 1, so
 * that it names the call, not the instruction after it.  UNWOUND says
 * the frame is the DWARF unwinder's (pd_frame.unwound), which holds its
 * return address - 1 already and is named as perf names those frames.  Each distinct
 * address is resolved once and cached for the symbolizer's life; the DWARF
 * is read only here, on first use.  NULL only when out of memory.
 */
struct pd_srcinfo *pd_symbolizer_src(struct pd_symbolizer *y, struct pd_dso *d, uint64_t rel, bool ret,
    bool unwound);

/*
 * Start reading kallsyms in a thread, for the kernel frames to come (the
 * names are still made on the caller's thread, in file order).
 */
void pd_symbolizer_prefetch_kallsyms(struct pd_symbolizer *y);
/*
 * D has a frame of a DWARF-unwound chain: start reading its DWARF in a
 * thread, for the names to come (once per DSO; only DSOs with frames).
 */
void pd_symbolizer_prefetch_dwarf(struct pd_symbolizer *y, struct pd_dso *d);

/* The binary of D (not a debug file), build-id checked, for the unwinder. */
bool pd_symbolizer_binary_path(struct pd_symbolizer *y, struct pd_dso *d, char *path, size_t len);

/* A per-DSO cache slot for the folder ("[libc.so.6]"). */
void **pd_dso_user(struct pd_dso *d);

struct pd_symbolizer *pd_session_symbolizer(struct pd_session *s);

#endif
