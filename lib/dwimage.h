/*
 * dwimage.h - a file's DWARF for names and lines, with only the sections
 * that are read for them inflated (dwimage.c).  Internal to the library.
 */
#ifndef PD_DWIMAGE_H
#define PD_DWIMAGE_H

#include <elfutils/libdw.h>

struct pd_dwimage;

/*
 * The DWARF of the ELF file at PATH (a binary with DWARF, or its separate
 * debug file); NULL when it has none or cannot be read.  A dwz file named
 * by .gnu_debugaltlink is opened beside it, as libdw does.
 */
struct pd_dwimage *pd_dwimage_open(const char *path);
Dwarf *pd_dwimage_dwarf(struct pd_dwimage *m);
void pd_dwimage_free(struct pd_dwimage *m);

/* Whether E has DWARF of its own (a .debug_info or .debug_line with bytes). */
bool pd_dwimage_has_dwarf(Elf *e);

#endif
