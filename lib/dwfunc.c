/*
 * dwfunc.c - the functions at an address, from DWARF, read through libdw's
 * DIE walking (dwarf_get_units, dwarf_child, dwarf_siblingof, dwarf_ranges,
 * dwarf_haspc) rather than dwarf_getscopes.
 *
 * Why not dwarf_getscopes (elfutils 0.188): its walk prunes every DIE that
 * does not itself contain the address, and a DW_TAG_namespace (or a
 * structure type) has no address at all, so the functions inside one are
 * never reached.  rustc puts every function in namespaces (crate, module,
 * impl), so no Rust frame got its inlined functions, nor a DWARF name; C++
 * escapes only because g++ puts the concrete function DIEs at the top of
 * the unit (with DW_AT_specification).  And libdwfl finds a unit by
 * .debug_aranges, which rustc and LLVM leave incomplete: an address in a
 * unit without an entry is given the unit of the entry before it.
 *
 * So, as binutils does: the units are found by their own ranges
 * (DW_AT_low_pc/high_pc or DW_AT_ranges, through .debug_ranges or
 * .debug_rnglists), each unit's functions (DW_TAG_subprogram with code, at
 * any depth of namespaces and types) are listed once when an address first
 * falls in it, and the innermost function holding an address is the one of
 * smallest range (of equals, the last in the unit, as binutils' choice
 * among the aliases GNU as describes: __memcpy_avx512_unaligned_erms over
 * __memmove_avx512_unaligned_erms).  Its inlined subroutines are then followed down from it.
 * Names (abstract origins, specifications, across units) are left to the
 * caller, with dwarf_attr_integrate.
 */
#include <dwarf.h>
#include <stdlib.h>

#include "dwfunc.h"

#define MAX_RANGES	(1u << 24)	/* per table: bounds memory on hostile DWARF */
#define MAX_DEPTH	64

struct range {
	uint64_t lo, hi;
	uint64_t ref;			/* unit index, or function DIE offset */
};

struct table {
	struct range *r;
	uint64_t *maxhi;		/* maxhi[i]: the largest hi of r[0..i] */
	size_t n, alloc;
};

struct unit {
	Dwarf_Off off;			/* of the unit DIE */
	bool scanned;
	struct table fns;
};

struct pd_dwfunc {
	Dwarf *dw;
	Dwarf_Addr bias;
	struct table cus;
	struct unit *units;
	size_t nunits, aunits;
};

static void
table_free(struct table *t)
{
	free(t->r);
	free(t->maxhi);
}

static int
range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->ref < y->ref ? -1 : x->ref > y->ref;
}

static void
table_add(struct table *t, uint64_t lo, uint64_t hi, uint64_t ref)
{
	if (lo >= hi || t->n >= MAX_RANGES || PD_GROW(t->r, t->n + 1, t->alloc) < 0)
		return;
	t->r[t->n++] = (struct range){ lo, hi, ref };
}

static void
table_finish(struct table *t)
{
	if (!t->n)
		return;
	qsort(t->r, t->n, sizeof(*t->r), range_cmp);
	t->maxhi = malloc(t->n * sizeof(*t->maxhi));
	if (!t->maxhi) {
		t->n = 0;
		return;
	}
	for (size_t i = 0; i < t->n; i++)
		t->maxhi[i] = i && t->maxhi[i - 1] > t->r[i].hi ? t->maxhi[i - 1] : t->r[i].hi;
}

/* Index past the last range starting at or before A. */
static size_t
table_upper(const struct table *t, uint64_t a)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->r[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The ranges of DIE (low/high pc or DW_AT_ranges) into T, tagged REF. */
static void
add_ranges(struct table *t, Dwarf_Die *die, uint64_t ref)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;
	size_t n = 0;

	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0 && n++ < MAX_RANGES)
		table_add(t, lo, hi, ref);
}

struct pd_dwfunc *
pd_dwfunc_new(Dwarf *dw, Dwarf_Addr bias)
{
	struct pd_dwfunc *x;
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	uint8_t type;

	if (!dw || !(x = calloc(1, sizeof(*x))))
		return NULL;
	x->dw = dw;
	x->bias = bias;
	while (dwarf_get_units(dw, cu, &cu, NULL, &type, &cudie, NULL) == 0) {
		if (type != DW_UT_compile && type != DW_UT_skeleton)
			continue;
		if (PD_GROW(x->units, x->nunits + 1, x->aunits) < 0)
			break;
		x->units[x->nunits] = (struct unit){ .off = dwarf_dieoffset(&cudie) };
		add_ranges(&x->cus, &cudie, x->nunits);
		x->nunits++;
	}
	table_finish(&x->cus);
	return x;
}

void
pd_dwfunc_free(struct pd_dwfunc *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nunits; i++)
		table_free(&x->units[i].fns);
	free(x->units);
	table_free(&x->cus);
	free(x);
}

/* Tags that hold no code themselves but may hold functions. */
static bool
holds_functions(int tag)
{
	switch (tag) {
	case DW_TAG_namespace:
	case DW_TAG_module:
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type:
	case DW_TAG_interface_type:
	case DW_TAG_enumeration_type:
		return true;
	default:
		return false;
	}
}

static void
scan_functions(struct table *t, Dwarf_Die *parent, int depth)
{
	Dwarf_Die child;

	if (depth > MAX_DEPTH || dwarf_child(parent, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);

		if (tag == DW_TAG_subprogram)
			add_ranges(t, &child, dwarf_dieoffset(&child));
		else if (holds_functions(tag) && dwarf_haschildren(&child))
			scan_functions(t, &child, depth + 1);
	} while (dwarf_siblingof(&child, &child) == 0);
}

/* The function of smallest range holding A in unit U; false if none. */
static bool
unit_function(struct pd_dwfunc *x, struct unit *u, Dwarf_Addr a, Dwarf_Die *out)
{
	const struct range *best = NULL;

	if (!u->scanned) {
		Dwarf_Die cudie;

		u->scanned = true;
		if (dwarf_offdie(x->dw, u->off, &cudie))
			scan_functions(&u->fns, &cudie, 0);
		table_finish(&u->fns);
	}
	for (size_t i = table_upper(&u->fns, a); i-- > 0 && u->fns.maxhi[i] > a;) {
		const struct range *r = &u->fns.r[i];

		/* Of equal ranges, the later DIE (binutils' list is in reverse). */
		if (a < r->hi && (!best || r->hi - r->lo < best->hi - best->lo ||
		    (r->hi - r->lo == best->hi - best->lo && r->ref > best->ref)))
			best = r;
	}
	return best && dwarf_offdie(x->dw, best->ref, out);
}

static bool
no_pc(Dwarf_Die *die)
{
	return !dwarf_hasattr(die, DW_AT_low_pc) && !dwarf_hasattr(die, DW_AT_ranges);
}

/* Append the inlined subroutines holding A below PARENT; whether one was found. */
static bool
inlined_at(Dwarf_Die *parent, Dwarf_Addr a, Dwarf_Die *chain, size_t *n, size_t max, int depth)
{
	Dwarf_Die child;

	if (depth > MAX_DEPTH || *n >= max || dwarf_child(parent, &child) != 0)
		return false;
	do {
		int tag = dwarf_tag(&child);

		if (tag == DW_TAG_inlined_subroutine) {
			if (dwarf_haspc(&child, a) > 0) {
				chain[(*n)++] = child;
				inlined_at(&child, a, chain, n, max, depth + 1);
				return true;
			}
		} else if (tag == DW_TAG_lexical_block || tag == DW_TAG_try_block ||
		    tag == DW_TAG_catch_block || tag == DW_TAG_with_stmt) {
			if ((no_pc(&child) || dwarf_haspc(&child, a) > 0) &&
			    inlined_at(&child, a, chain, n, max, depth + 1))
				return true;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

size_t
pd_dwfunc_chain(struct pd_dwfunc *x, Dwarf_Addr addr, Dwarf_Die *chain, size_t max, Dwarf_Die *cu,
    bool *have_cu, Dwarf_Line **line)
{
	Dwarf_Addr a = addr - x->bias;
	size_t n = 0;

	*have_cu = false;
	*line = NULL;
	if (!max)
		return 0;
	for (size_t i = table_upper(&x->cus, a); i-- > 0 && x->cus.maxhi[i] > a;) {
		const struct range *r = &x->cus.r[i];
		struct unit *u = &x->units[r->ref];

		if (a >= r->hi)
			continue;
		if (!*have_cu && dwarf_offdie(x->dw, u->off, cu)) {
			*have_cu = true;
			*line = dwarf_getsrc_die(cu, a);
		}
		if (unit_function(x, u, a, &chain[0])) {
			if (!dwarf_offdie(x->dw, u->off, cu))
				return 0;
			*have_cu = true;
			*line = dwarf_getsrc_die(cu, a);
			n = 1;
			inlined_at(&chain[0], a, chain, &n, max, 0);
			return n;
		}
	}
	return 0;
}

const char *
pd_dwfunc_aranges_src(struct pd_dwfunc *x, Dwarf_Addr addr, int *lineno)
{
	Dwarf_Addr a = addr - x->bias;
	Dwarf_Die cu;
	Dwarf_Line *line;
	const char *src;

	*lineno = 0;
	if (!dwarf_addrdie(x->dw, a, &cu) || !(line = dwarf_getsrc_die(&cu, a)) ||
	    !(src = dwarf_linesrc(line, NULL, NULL)))
		return NULL;
	dwarf_lineno(line, lineno);
	return src;
}
