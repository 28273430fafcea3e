/*
 * srcview.c - the functions the library names at addresses of one binary,
 * one line per address, for tests/cli/names-dwarf.t to compare with
 * binutils' addr2line -i and eu-addr2line -i:
 *
 *	srcview MODE BINARY < offsets
 *
 * OFFSETS are file offsets (perf's DSO-relative addresses), in hex, one a
 * line, looked up in that order.  Each gives "OFFSET NAME;NAME;..." with
 * the innermost function first, names not demangled.  MODE perf: as a
 * frame of a --call-graph dwarf chain (every level named as addr2line names
 * it for perf); MODE inline: as --inline names a frame-pointer frame (the
 * outermost level from the symbol table, the inlined ones from DWARF).
 * "-" when the address has no symbol.  Exit status 2 on bad use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym.h"

int
main(int argc, char **argv)
{
	struct pd_session_opts o = { .no_demangle = 1 };
	struct pd_symbolizer *y;
	struct pd_dso *d;
	char line[256];
	bool perf;

	if (argc != 3 || (strcmp(argv[1], "perf") && strcmp(argv[1], "inline"))) {
		fprintf(stderr, "usage: srcview perf|inline BINARY < offsets\n");
		return 2;
	}
	perf = !strcmp(argv[1], "perf");
	o.inline_frames = !perf;
	if (!(y = pd_symbolizer_new(&o)) || !(d = pd_symbolizer_dso(y, argv[2], NULL, 0))) {
		fprintf(stderr, "srcview: out of memory\n");
		return 2;
	}
	while (fgets(line, sizeof(line), stdin)) {
		char *end;
		unsigned long long off = strtoull(line, &end, 16);
		struct pd_srcinfo *si;

		if (end == line)
			continue;
		si = pd_symbolizer_src(y, d, off, false, perf);
		printf("%llx ", off);
		if (!si || !si->sym || !si->nr)
			printf("-");
		for (size_t i = si ? si->nr : 0; i-- > 0;)
			printf("%s%s", si->level[i].func, i ? ";" : "");
		printf("\n");
	}
	pd_symbolizer_free(y);
	return ferror(stdout) ? 2 : 0;
}
