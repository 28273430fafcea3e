/*
 * pd-errors.h - the library's error codes and their generic messages, kept
 * side by side in one X-macro list (the elfutils DWFL_ERRORS idea).  The
 * per-handle message (pd_reader_errmsg) adds the file and the offset.
 */
#ifndef PD_ERRORS_H
#define PD_ERRORS_H

#define PD_ERRORS(E) \
	E(SUCCESS,	0,	"success") \
	E(NOMEM,	-1,	"out of memory") \
	E(IO,		-2,	"input/output error") \
	E(FORMAT,	-3,	"not a perf.data file") \
	E(CORRUPT,	-4,	"corrupt perf.data") \
	E(TRUNCATED,	-5,	"truncated perf.data") \
	E(LIMIT,	-6,	"a size in the file exceeds a limit") \
	E(UNSUPPORTED,	-7,	"unsupported perf.data feature") \
	E(USAGE,	-8,	"invalid argument") \
	E(CALLBACK,	-9,	"stopped by the caller")

enum pd_error {
#define PD_E_ENUM(name, val, msg) PD_E_##name = (val),
	PD_ERRORS(PD_E_ENUM)
#undef PD_E_ENUM
};

#endif
