/*
 * unwind.h - DWARF unwinding of sampled user stacks (unwind.c).  Internal to
 * the library.
 */
#ifndef PD_UNWIND_H
#define PD_UNWIND_H

#include "pd-internal.h"

/* DWARF registers the unwinder starts from (x86_64: rax..r15, rip). */
#define PD_UW_NREGS 17

struct pd_uw_regs {
	uint64_t dwarf[PD_UW_NREGS];
	uint64_t sp;
	const unsigned char *stack;	/* the copy of [sp, sp + stack_len) */
	uint64_t stack_len;
	bool swap;
};

enum pd_uw_result {
	PD_UW_NONE,			/* nothing unwound */
	PD_UW_FULL,			/* to the outermost frame (or the frame limit) */
	PD_UW_TRUNCATED,		/* stopped early: end of the copy, no map, no CFI */
};

/* A sample's registers and stack; false when it has none this build can unwind. */
bool pd_uw_regs_load(struct pd_uw_regs *out, uint64_t abi, const unsigned char *regs,
    uint64_t mask, const unsigned char *stack, uint64_t stack_len, bool swap);

/*
 * An address space: create it, add every file mapping of the process (EXEC
 * for the executable ones, which are reported to libdwfl), then make it
 * ready.  Free it when the process's maps change.
 */
struct pd_uw_space;
struct pd_uw_space *pd_uw_space_new(int32_t pid);
int pd_uw_space_add(struct pd_uw_space *u, uint64_t start, uint64_t end, uint64_t pgoff,
    const char *path, bool exec);
int pd_uw_space_ready(struct pd_uw_space *u);
void pd_uw_space_free(struct pd_uw_space *u);

/*
 * Unwind thread TID from REGS into PCS (at most MAX, leaf first; return
 * addresses minus one, as perf looks them up).
 */
enum pd_uw_result pd_uw_unwind(struct pd_uw_space *u, int32_t tid, const struct pd_uw_regs *regs,
    uint64_t *pcs, size_t max, size_t *nr);

#endif
