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

/*
 * An index of DW, built piecewise on use; NULL without DWARF.  BIAS turns
 * DW's addresses into module addresses (libdwfl's address space).
 */
struct pd_dwfunc *pd_dwfunc_new(Dwarf *dw, Dwarf_Addr bias);
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

/*
 * The source file and line of module address ADDR by the unit that
 * .debug_aranges gives (libdwfl's dwfl_module_getsrc lookup), for an address
 * no unit holds by its ranges; NULL when there is none.
 */
const char *pd_dwfunc_aranges_src(struct pd_dwfunc *x, Dwarf_Addr addr, int *lineno);

#endif
