/*
 * dwfunc.h - which functions (the one compiled and those inlined into it)
 * an address of a module is in, from its DWARF (dwfunc.c).  Internal to the
 * library.
 */
#ifndef PD_DWFUNC_H
#define PD_DWFUNC_H

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include "pd-internal.h"

struct pd_dwfunc;

/* An index of MOD's DWARF, built piecewise on use; NULL without DWARF. */
struct pd_dwfunc *pd_dwfunc_new(Dwfl_Module *mod);
void pd_dwfunc_free(struct pd_dwfunc *x);

/*
 * The functions at module address ADDR (libdwfl's address space): the
 * DW_TAG_subprogram that holds it, then every DW_TAG_inlined_subroutine
 * nested at it, outermost first, into CHAIN (at most MAX).  *CU is set to
 * the compile unit that holds ADDR and *LINE to the row of its line table
 * for ADDR, when there are (else *HAVE_CU is false, *LINE NULL).  Returns
 * the number of DIEs, 0 when no function covers ADDR.
 */
size_t pd_dwfunc_chain(struct pd_dwfunc *x, Dwarf_Addr addr, Dwarf_Die *chain, size_t max,
    Dwarf_Die *cu, bool *have_cu, Dwarf_Line **line);

#endif
