/*
 * pd.h - the public API of the pdtools library.
 *
 * The library reads perf.data (file mode, pipe mode, either byte order,
 * zstd-compressed records), rebuilds the process state the samples need
 * (threads, comms, memory maps), resolves addresses to DSOs and symbols, and
 * aggregates call chains into folded stacks.  It never prints, never exits
 * and keeps no global mutable state: errors are stored in the handle that
 * failed, with the file name and the byte offset, and warnings are counters
 * in struct pd_stats.
 *
 * Locale: every writer (pd_top_write, pd_top_write_health, pd_fold_write,
 * pd_flame_write, pd_diff_write, pd_diff_gate, the pd_json_* writers) gives
 * the same bytes whatever locale the caller set with setlocale: numbers
 * with a decimal point, names as bytes.  Numbers in rules are read the same
 * way (pd_diff_add_fail), and name rules are regular expressions over bytes
 * (pd_diff_add_rule).  The functions switch the calling thread to the C
 * locale (uselocale) while they run and restore the caller's.
 *
 * Conventions: functions return PD_OK (0) or a negative PD_E_* code;
 * iterators return PD_OK with an item, PD_END at the end, or an error.
 * pd_x_new()/pd_x_free() pair up, and pd_x_free(NULL) is a no-op.
 */
#ifndef PD_H
#define PD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "pd-errors.h"

#define PD_OK 0
#define PD_END 1

/* The generic text of an error code. */
const char *pd_strerror(int code);

/*
 * Counters: nothing the reader skips or loses is dropped silently.  All of
 * them are summed over every input a session reads.
 */
struct pd_stats {
	uint64_t records;		/* records read, compressed ones expanded */
	uint64_t samples;		/* PERF_RECORD_SAMPLE records */
	uint64_t samples_bad;		/* samples that failed to decode */
	uint64_t samples_unknown_id;	/* samples of no known event */
	uint64_t lost_records;		/* PERF_RECORD_LOST records */
	uint64_t lost;			/* events the kernel lost (LOST) */
	uint64_t lost_samples;		/* samples the kernel lost (LOST_SAMPLES) */
	uint64_t unknown_records;	/* record types we skip without reading */
	uint64_t unknown_features;	/* feature sections we do not know */
	uint64_t compressed;		/* PERF_RECORD_COMPRESSED records */
	uint64_t out_of_order;		/* records older than a flushed round */
	uint64_t callchain_dropped;	/* chains with guest or invalid contexts */
	uint64_t salvaged;		/* 1 if the file was read past a killed header */
	uint64_t tail_bytes;		/* bytes of an unfinished last record */
	uint64_t unwind_samples;	/* samples with user registers and stack (DWARF mode) */
	uint64_t unwind_truncated;	/* of which unwound part of the way */
	uint64_t unwind_none;		/* of which not unwound at all */
};

/*
 * Events (attrs) of an input.  Names come from EVENT_DESC (file mode),
 * EVENT_UPDATE (pipe mode) or, failing both, from the attr itself.
 */
struct pd_event_info {
	const char *name;
	uint32_t type;
	uint64_t config;
	uint64_t sample_type;
	uint64_t nr_samples;		/* samples of this event seen so far */
	int is_dummy;			/* software "dummy": side-band only */
};

/*
 * The reader: framing of one perf.data input.  It yields the records in file
 * order, with PERF_RECORD_COMPRESSED already inflated.
 */
struct pd_reader;

enum pd_reader_flags {
	PD_READER_NO_MMAP = 1u << 0,	/* read a regular file with read(2) */
};

/* A reader with no input yet.  NULL only when out of memory. */
struct pd_reader *pd_reader_new(void);
void pd_reader_free(struct pd_reader *r);

/*
 * Open PATH ("-" is standard input) and read the header, the attrs and the
 * feature sections.  Pipe-mode streams and files of the other byte order are
 * recognised from the magic.  On failure the message is in pd_reader_errmsg.
 */
int pd_reader_open(struct pd_reader *r, const char *path, unsigned flags);

/* Open a perf.data image in memory (not copied; must outlive the reader). */
int pd_reader_open_mem(struct pd_reader *r, const char *name, const void *buf, size_t len);

/*
 * Open a pipe-mode stream read through FN, which works like read(2): it
 * fills up to LEN bytes of BUF and returns how many (0 at the end, -1 with
 * errno on an error), any number at a time.  A file-mode perf.data needs
 * random access and is refused, as on a pipe.
 */
typedef ssize_t (*pd_read_fn)(void *ctx, void *buf, size_t len);
int pd_reader_open_stream(struct pd_reader *r, const char *name, pd_read_fn fn, void *ctx);

/*
 * Progress of every reader in the process, for a progress line: FN is
 * called each time a reader has read another buffer (about 1 MiB) of its
 * input, with the input's name, the bytes read so far and the input's size
 * (0 when unknown: a pipe).  A perf record --threads directory counts all
 * its data files.  NULL (the default): no calls.
 */
typedef void (*pd_progress_fn)(const char *name, uint64_t done, uint64_t total, void *ctx);
void pd_set_progress(pd_progress_fn fn, void *ctx);

/*
 * The last error, as "FILE: what at offset 0xN", or "" when there was none.
 * Valid until the next call on R.
 */
const char *pd_reader_errmsg(const struct pd_reader *r);

/* Warnings the reader has to report (salvage, tails), "" when none. */
const char *pd_reader_warning(const struct pd_reader *r);

const struct pd_stats *pd_reader_stats(const struct pd_reader *r);
const char *pd_reader_name(const struct pd_reader *r);
int pd_reader_is_pipe(const struct pd_reader *r);
int pd_reader_is_swapped(const struct pd_reader *r);

/*
 * In file mode the events and features are known once pd_reader_open
 * returns; in pipe mode they arrive as records (HEADER_ATTR, HEADER_FEATURE,
 * EVENT_UPDATE), all before the first sample, so they are complete by the
 * time a sample callback runs.
 */
size_t pd_reader_nr_events(const struct pd_reader *r);
const struct pd_event_info *pd_reader_event(const struct pd_reader *r, size_t idx);

/* Whether --event=WANT names event NAME: "cycles" also names "cycles:u" and "cycles:pppH". */
int pd_event_name_matches(const char *want, const char *name);

enum {
	PD_EVENT_ALL = -1,		/* WANT is "all" */
	PD_EVENT_NONE_SUCH = -3,	/* no event is named WANT */
	PD_EVENT_NO_EVENTS = -4,	/* the input describes no event */
};

/*
 * The event --event=WANT chooses: its index, the first matching one; with
 * WANT NULL the first event that is not a dummy (perf's side-band event),
 * else the first; or one of the negative PD_EVENT_* above.
 */
long pd_reader_pick_event(const struct pd_reader *r, const char *want);

/* A feature string (HOSTNAME, OSRELEASE, VERSION, ARCH, CPUDESC), or NULL. */
enum pd_feature_str {
	PD_FEAT_HOSTNAME, PD_FEAT_OSRELEASE, PD_FEAT_VERSION, PD_FEAT_ARCH,
	PD_FEAT_CPUDESC, PD_FEAT_CMDLINE, PD_FEAT__NR
};
const char *pd_reader_feature(const struct pd_reader *r, enum pd_feature_str f);

/* NRCPUS: CPUs available and online when recording; PD_END when not recorded. */
int pd_reader_nr_cpus(const struct pd_reader *r, uint32_t *avail, uint32_t *online);

/*
 * One record as read.  DATA points at the whole record (header included) in
 * memory owned by the reader, 8-byte aligned, valid until the next call of
 * pd_reader_next.  OFFSET is the record's file offset (for records inflated
 * from PERF_RECORD_COMPRESSED: the offset of the compressed record).
 */
struct pd_record {
	uint32_t type;
	uint16_t misc;
	uint16_t size;
	uint64_t offset;
	const unsigned char *data;
};

/*
 * The next record.  Unknown record types are returned too (the session
 * counts and skips them); the reader itself consumes the HEADER_* records
 * that build its state, and returns them as well.
 */
int pd_reader_next(struct pd_reader *r, struct pd_record *rec);

/*
 * The session: process state (threads, comms, maps, DSOs) rebuilt from the
 * side-band records in time order, and the samples, resolved.
 */
struct pd_session;
struct pd_dso;

enum pd_frame_kind {
	PD_FRAME_USER = 0,
	PD_FRAME_KERNEL = 1,
	PD_FRAME_HV = 2,
	PD_FRAME_GUEST = 3,
};

/* One frame of a resolved sample. */
struct pd_frame {
	uint64_t ip;			/* the address as recorded */
	uint64_t rel;			/* DSO-relative address (file offset space) */
	struct pd_dso *dso;		/* NULL when no map covers ip */
	uint8_t kind;			/* enum pd_frame_kind */
	uint8_t unwound;		/* 1: from DWARF unwinding (ip is the return address - 1) */
};

/*
 * A sample as the session hands it to the caller.  FRAMES are leaf first;
 * without a call chain there is one frame, the sample IP.  All pointers are
 * valid during the callback only.
 */
struct pd_sample {
	size_t event;			/* index into the reader's events */
	uint32_t pid, tid, cpu;
	uint64_t time, period, addr;
	const char *comm;		/* the thread's comm at the sample's time */
	uint16_t cpumode;
	size_t nr_frames;
	const struct pd_frame *frames;
	const unsigned char *raw;	/* PERF_SAMPLE_RAW (tracepoint data), or NULL */
	uint32_t raw_size;
	uint64_t offset;		/* the sample record's offset (pd_record.offset) */
};

typedef int (*pd_sample_fn)(void *ctx, const struct pd_sample *s);

struct pd_session_opts {
	const char *symfs;		/* prefix for every DSO path, or NULL */
	const char *kallsyms;		/* kallsyms file, or NULL for /proc/kallsyms */
	const char *home;		/* for ~/.debug, or NULL for $HOME */
	int no_demangle;
	int no_unwind;			/* leave DWARF-mode samples at their kernel part and IP */
	/*
	 * Source views, read from DWARF only when asked (pdcollapse --inline,
	 * --lines): INLINE_FRAMES expands each user frame into the functions
	 * inlined at its address, outermost first; SRCLINES names each such
	 * frame "func (file:line)", as eu-addr2line -i gives them.  Folding
	 * honours both; other consumers call pd_symbolizer_src (sym.h).
	 */
	int inline_frames;
	int srclines;
	/*
	 * The frames of --call-graph dwarf chains (pd_frame.unwound) are named
	 * as perf script names them by default, inlined functions included
	 * and every level named from DWARF; NO_INLINE names them from the
	 * symbol table alone, as perf script --no-inline does.
	 */
	int no_inline;
};

struct pd_session *pd_session_new(const struct pd_session_opts *opts);
void pd_session_free(struct pd_session *s);

/*
 * Read all of R's records, in the order perf processes them, and call FN for
 * each sample.  A negative return from FN stops the run with PD_E_CALLBACK.
 * On a reader error the samples before the damage have been delivered, and
 * the error is returned (the message is in pd_reader_errmsg).
 */
int pd_session_run(struct pd_session *s, struct pd_reader *r, pd_sample_fn fn, void *ctx);

/*
 * Resolve at most N frames of each sample, leaf first (0: all); callers
 * that need only the leaf skip the work of the rest.  May be called from a
 * sample callback, for the samples after it.
 */
void pd_session_set_max_frames(struct pd_session *s, size_t n);

/* Counters for every input this session has run, added up. */
const struct pd_stats *pd_session_stats(const struct pd_session *s);

/*
 * Symbolization.  NAME is the DSO's name as perf shows it ("/usr/lib/x/libc.so.6",
 * "[kernel.kallsyms]", "[vdso]", "/tmp/perf-123.map").  pd_dso_symbolize
 * returns the (demangled) function containing REL, and its offset in *OFF,
 * or NULL.  The string lives as long as the session.
 */
const char *pd_dso_name(const struct pd_dso *d);
int pd_dso_is_jit(const struct pd_dso *d);
const char *pd_dso_symbolize(struct pd_session *s, struct pd_dso *d, uint64_t rel, uint64_t *off);

/*
 * Folding: aggregate resolved samples into folded stacks.
 */
struct pd_fold;

enum pd_fold_flags {
	PD_FOLD_PID = 1u << 0,		/* comm-PID as the root frame */
	PD_FOLD_TID = 1u << 1,		/* comm-PID/TID */
	PD_FOLD_KERNEL = 1u << 2,	/* _[k] on kernel frames */
	PD_FOLD_JIT = 1u << 3,		/* _[j] on JIT frames */
	PD_FOLD_ADDRS = 1u << 4,	/* raw addresses for unknown frames */
	PD_FOLD_NO_COMM = 1u << 5,	/* no comm root frame */
	PD_FOLD_SAMPLES = 1u << 6,	/* weight 1 per sample, not the period */
};

struct pd_fold *pd_fold_new(unsigned flags);
void pd_fold_free(struct pd_fold *f);

/*
 * Add one sample of session SESS (called from a pd_sample_fn).  When the
 * chains collected grow large, they are named with SESS's symbols and merged
 * at once, so memory stays bounded by the distinct stacks of the output.
 */
int pd_fold_add(struct pd_fold *f, struct pd_session *sess, const struct pd_sample *s);
/*
 * ... or PD_E_LIMIT, with nothing changed, when S's weight would take the
 * total weight (pd_fold_weight) past 2^64-1: every stack's weight is part
 * of it, so no count of the output wraps.  The caller reports S->offset.
 */

/*
 * Name the chains collected since the last flush with S's symbols, and merge
 * them into the folded totals.  Call it once per session, before the session
 * is freed.
 */
int pd_fold_flush(struct pd_fold *f, struct pd_session *s);

/* Write "frame;frame;...;leaf COUNT\n" lines, sorted by stack, to OUT. */
int pd_fold_write(struct pd_fold *f, FILE *out);

/* Samples folded, and the total weight. */
uint64_t pd_fold_samples(const struct pd_fold *f);
uint64_t pd_fold_weight(const struct pd_fold *f);

/*
 * The metadata line of folded stacks (pd-formats(5)), which "pdcollapse
 * --header" writes first, "# pd-folded v1 weight=period event=cycles
 * tool=pdcollapse", and "pddiff --header" writes as "# pd-diff v1 ...".
 * Folded streams go out without it by default, since other consumers
 * (flamegraph.pl, difffolded.pl, inferno, speedscope, Pyroscope) warn on
 * it or take it for a stack; readers take the counts of a stream without
 * one as sample counts.
 */
enum pd_folded_weight {
	PD_WEIGHT_UNKNOWN = 0,		/* no weight= */
	PD_WEIGHT_SAMPLES = 1,		/* one per sample */
	PD_WEIGHT_PERIOD = 2,		/* sums of sample periods */
};

struct pd_folded_meta {
	int weight;			/* enum pd_folded_weight */
	char event[256];		/* the event= value, "" when absent (cut at 255 bytes) */
};

/*
 * Whether LINE (LEN bytes, without its newline) is such a line ("# pd-folded "
 * or "# pd-diff "): 1 with its fields in *M, else 0 and *M cleared.
 * Unknown keys are ignored.
 */
int pd_folded_meta_parse(const char *line, size_t len, struct pd_folded_meta *m);

/*
 * The unit of counts that are sums of EVENT's sample periods: "ns" for the
 * clock events (cpu-clock and task-clock, with any :modifiers), whose
 * periods are nanoseconds; "periods" when EVENT is NULL, "", "all" or
 * "none" (no single event); else EVENT itself, the counting event whose
 * occurrences the periods are ("cycles", "instructions:u").
 */
const char *pd_period_unit(const char *event);

/*
 * Checked number parsing for options: a decimal (or 0x hex) integer in
 * [min, max].  Returns PD_OK or PD_E_USAGE.
 */
int pd_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * Weights (sample counts, sums of periods, folded counts) are unsigned 64-bit
 * in every tool, and the same two functions read and add them, so that what
 * one tool writes the others read back and no sum ever wraps.
 *
 * pd_parse_count: the folded count S[0, LEN): decimal digits only, 0 to
 * 18446744073709551615 inclusive.  PD_OK with the value in *OUT, or
 * PD_E_FORMAT (empty, a non-digit, or past 2^64-1).
 *
 * pd_add_weight: *SUM += W, or PD_E_LIMIT with *SUM unchanged when the sum
 * would pass 2^64-1.  A caller reports that as an error naming the file and
 * the offset of the sample record or folded line whose weight it was
 * (PD_WEIGHT_OVERFLOW is the words every tool uses).
 */
int pd_parse_count(const char *s, size_t len, uint64_t *out);
int pd_add_weight(uint64_t *sum, uint64_t w);
#define PD_WEIGHT_OVERFLOW	"the weights add up past 2^64-1"

/*
 * pdflame: folded stacks in, one self-contained interactive SVG out.
 *
 * Lines are "frame;frame;...;leaf COUNT", or "... COUNT1 COUNT2" for a
 * differential graph (widths from COUNT2, colours from COUNT2 - COUNT1), as
 * flamegraph.pl reads them; see pd-formats(5).  Counts are unsigned 64-bit
 * integers.  Comment lines ("#..."), blank lines and CR before LF are
 * skipped; any other line that does not parse is counted in the stats, never
 * dropped silently.  The SVG is well-formed XML for any input bytes, and the
 * same input and options always give the same bytes.
 */
struct pd_flame;

struct pd_flame_opts {
	const char *title;		/* NULL: "Flame Graph", "Icicle Graph"... */
	const char *subtitle;		/* NULL or "": none */
	const char *nametype;		/* "Function:" */
	const char *countname;		/* "samples" */
	const char *fonttype;		/* "Verdana" */
	const char *colors;		/* palette name, see pd_flame_palette_ok */
	const char *bgcolors;		/* yellow|blue|green|grey|#rrggbb, NULL: by palette */
	const char *notes;		/* an XML comment, or NULL */
	unsigned width;			/* image width, px (1200) */
	unsigned height;		/* frame height, px (16) */
	double fontsize;		/* px (12) */
	double minwidth;		/* px, or percent of the total with minwidth_pct (0.1) */
	int minwidth_pct;
	uint64_t total;			/* 0, or the total to scale to when larger */
	double factor;			/* displayed counts are multiplied by it (1) */
	int hash;			/* colours from a name hash weighted to early chars */
	int reverse;			/* reverse each stack: merge from the leaves */
	int inverted;			/* icicle graph: root at the top */
	int flamechart;			/* keep input order, merge equal neighbours only */
	int negate;			/* swap the differential hues */
};

/* Fill O with flamegraph.pl's defaults.  The strings are not copied by pd_flame_new. */
void pd_flame_opts_init(struct pd_flame_opts *o);

/* Whether NAME is a --colors palette, and whether S is a --bgcolors value. */
int pd_flame_palette_ok(const char *name);
int pd_flame_bgcolor_ok(const char *s);

#define PD_FLAME_BAD_KEEP 8

/* What the reader saw; the bad_line[] numbers are those of the last pd_flame_read. */
struct pd_flame_stats {
	uint64_t lines;			/* lines read */
	uint64_t stacks;		/* lines merged into the graph */
	uint64_t comments;		/* "#" lines */
	uint64_t blank;			/* empty or white-space-only lines */
	uint64_t bad;			/* lines that could not be read */
	uint64_t bad_line[PD_FLAME_BAD_KEEP];	/* their 1-based numbers, first ones */
	size_t nr_bad_line;
	uint64_t total;			/* sum of the (second) counts */
	uint64_t total_old;		/* sum of the first counts of a differential */
	int diff;			/* some line had two counts */
	uint64_t perf_data;		/* inputs whose first line begins with perf.data's magic */
	/*
	 * pd_flame_add_line's PD_E_LIMIT: the counts would add up past
	 * 2^64-1 at line LIMIT_LINE of the input, LIMIT_OFFSET bytes in
	 * (counted from the last pd_flame_read, or pd_flame_new).
	 */
	uint64_t limit_line, limit_offset;
	/*
	 * Inputs whose first line is a metadata line (pd_folded_meta_parse),
	 * and what they say: META is the first one's; where a later one
	 * disagrees, the event is "" and the weight PD_WEIGHT_PERIOD when
	 * either says period, else PD_WEIGHT_UNKNOWN.
	 */
	uint64_t metas;
	struct pd_folded_meta meta;
	/* Filled by pd_flame_write: */
	uint64_t frames;		/* frames of the merged graph, the root excluded */
	uint64_t drawn;			/* of which drawn */
	uint64_t omitted;		/* of which narrower than minwidth, in ... */
	uint64_t omitted_elems;		/* ... this many "N frames omitted" elements */
	uint64_t omitted_inline;	/* ... or counted on this many parents' tooltips */
	int total_ignored;		/* opts.total was smaller than the sum */
};

/* A graph with no stacks yet, or NULL when out of memory.  O must outlive it. */
struct pd_flame *pd_flame_new(const struct pd_flame_opts *o);
void pd_flame_free(struct pd_flame *f);

/*
 * Merge one line (LEN bytes, without its "\n"; a trailing "\r" is dropped).
 * Returns PD_OK, or PD_E_NOMEM / PD_E_LIMIT (more than 4 billion frames, or
 * counts that would add up past 2^64-1: then pd_flame_stats' limit_line is
 * set); a line that does not parse is counted, not an error.
 */
int pd_flame_add_line(struct pd_flame *f, const char *line, size_t len);

/* Read IN to its end, line by line.  PD_OK, PD_E_IO (errno is set) or PD_E_NOMEM. */
int pd_flame_read(struct pd_flame *f, FILE *in);

const struct pd_flame_stats *pd_flame_stats(const struct pd_flame *f);

/*
 * What the counts read so far are, by the inputs' metadata lines: "samples"
 * when they count samples or no input had such a line (flamegraph.pl's
 * default), else the period's unit (pd_period_unit: "ns", "cycles", or
 * "periods" when the inputs' events disagree).
 */
const char *pd_flame_count_unit(const struct pd_flame *f);

/*
 * Consistent colours (flamegraph.pl --cp): read "name->rgb(r,g,b)" lines,
 * whose colours then win over computed ones; after pd_flame_write, write
 * every colour used or read, sorted by name.  Malformed lines are skipped.
 */
int pd_flame_palette_read(struct pd_flame *f, FILE *in);
int pd_flame_palette_write(const struct pd_flame *f, FILE *out);

/*
 * Lay out the graph and write the SVG to OUT.  With no counts it writes
 * flamegraph.pl's error SVG and returns PD_END.  PD_E_IO on a write error.
 */
int pd_flame_write(struct pd_flame *f, FILE *out);

/*
 * pdrecord: sample with perf_event_open(2) and write perf.data that perf 6.1
 * reads, in file form (header rewritten at the end) or pipe form.
 *
 * Use: pd_record_new, pd_record_open (opens the events and their ring
 * buffers; a forked command must be stopped before its exec), then
 * pd_record_start (writes the header and the synthesized records, and
 * enables the events, except for a forked command, which its exec enables),
 * pd_record_poll until done, pd_record_finish, pd_record_free.  Nothing is
 * printed: fallbacks are reported through the note callback, errors through
 * pd_record_errmsg.  (struct pd_record is the reader's record, hence the
 * handle's name.)
 */
struct pd_recorder;

enum pd_record_force {
	PD_RECORD_FORCE_HW = 1u << 0,		/* act as if hardware events were missing */
	PD_RECORD_FORCE_KERNEL = 1u << 1,	/* act as if kernel sampling were forbidden */
	PD_RECORD_FORCE_PERM = 1u << 2,		/* act as if perf_event_open were forbidden */
};

enum pd_record_callgraph {
	PD_RECORD_CG_FP = 1,		/* the kernel walks frame pointers */
	PD_RECORD_CG_DWARF = 2,		/* user registers and a copy of the user stack */
};

struct pd_record_opts {
	const char *events;		/* "cycles,task-clock:u"; NULL: "cycles" */
	uint64_t freq;			/* samples a second, or 0 to use period */
	uint64_t period;		/* events between samples (freq == 0) */
	int callgraph;			/* 0, PD_RECORD_CG_FP or PD_RECORD_CG_DWARF */
	uint32_t stack_size;		/* DWARF: user stack bytes a sample copies (0: 8192) */
	int compress;			/* zstd level of COMPRESSED records (1-22), 0: none */
	int system_wide;		/* every CPU, every task (-a) */
	int no_inherit;			/* a forked command only, not its children */
	const int32_t *pids;		/* processes to attach to (-p), or NULL */
	size_t nr_pids;
	int32_t child;			/* a forked command that will exec, or 0 */
	unsigned force;			/* enum pd_record_force, for tests */
	size_t mmap_pages;		/* data pages of each ring (power of 2), 0: 128 */
	int argc;			/* the command line for the CMDLINE feature */
	char **argv;
	void (*note)(void *ctx, const char *msg);	/* fallbacks taken, or NULL */
	void *note_ctx;
	/*
	 * Also note what perf says only under -v: the default event (EVENTS
	 * NULL) falling back from cycles to cpu-clock.  Without it that
	 * fallback is silent, as in perf record; a fallback of an event the
	 * caller named is always noted.
	 */
	int verbose;
};

struct pd_record_stats {
	uint64_t samples;		/* SAMPLE records written */
	uint64_t lost;			/* events the kernel lost (LOST records, kept) */
	uint64_t rounds;		/* FINISHED_ROUND records written */
};

/* A recorder with no events yet.  NULL only when out of memory. */
struct pd_recorder *pd_record_new(void);
void pd_record_free(struct pd_recorder *r);

/*
 * Whether NAME is an event pd_record_open knows: a named event with
 * optional :u, :k, :uk, or a tracepoint "subsystem:name" present in tracefs.
 */
int pd_record_event_ok(const char *name);

/*
 * Open the events of O (copied; its pointers must outlive R) and map their
 * ring buffers.  Unavailable hardware events become cpu-clock (noted for a
 * named event; for the default one only with O->verbose) and forbidden
 * kernel sampling becomes user-only (noted).  PD_E_USAGE when not
 * permitted at all or for bad events, PD_E_IO for other kernel refusals.
 */
int pd_record_open(struct pd_recorder *r, const struct pd_record_opts *o);

/*
 * Write the file header (FILE mode, OUT_FD must be seekable) or the pipe
 * header, attrs and features (PIPE_MODE), then the synthesized kernel map
 * and existing tasks, and enable the events.
 */
int pd_record_start(struct pd_recorder *r, int out_fd, int pipe_mode);

/*
 * Wait up to TIMEOUT_MS for data, and copy what the rings hold.  PD_OK,
 * PD_END when every attached thread has ended, or an error (PD_E_IO on a
 * write error).
 */
int pd_record_poll(struct pd_recorder *r, int timeout_ms);

/*
 * Disable the events, copy the rest, and in file mode write the features
 * and rewrite the header with the data size.
 */
int pd_record_finish(struct pd_recorder *r);

/* The last error as one line, or "". */
const char *pd_record_errmsg(const struct pd_recorder *r);
const struct pd_record_stats *pd_record_stats(const struct pd_recorder *r);

/*
 * pdtop: perf report's tables (top symbols, DSOs, commands, processes,
 * threads) with perf report --stdio's numbers, from perf.data or folded
 * stacks.
 *
 * Use: pd_top_new, then pd_top_set_sort and pd_top_set_filter as asked;
 * for perf.data, pd_top_begin once the events are known (in pipe mode: at
 * the first sample), pd_top_add for every sample of a pd_session_run, and
 * pd_top_finish before the session is freed; for folded stacks,
 * pd_top_read_folded.  Then pd_top_write or pd_top_write_health.
 *
 * Samples are aggregated by distinct chain and named at flush time, once
 * per distinct address, so the cost per sample is one hash of its chain.
 * Self counts a sample for the entry of its own address; children count it
 * once for every distinct entry along its chain (a recursive function once
 * per sample), as perf report --children does.  Every entry keeps both its
 * sample count and its period; the weight option picks which one the
 * percentages use.  Errors are in pd_top_errmsg.
 */
struct pd_top;

enum pd_top_key { PD_TOP_SYMBOL, PD_TOP_DSO, PD_TOP_COMM, PD_TOP_PID, PD_TOP_TID };
#define PD_TOP_MAX_KEYS 5

struct pd_top_opts {
	int children;			/* 1, 0, or -1: children when call chains exist */
	int weight_samples;		/* percentages of sample counts, not periods */
	int relative;			/* of the samples the filters keep, not of all */
	int health;			/* also collect what pd_top_write_health prints */
	unsigned max_stack;		/* frames of a chain children count (from the root); 0: 127 */
	const char *event;		/* one event (cycles also names cycles:u); NULL or "all": every one */
	int shared_session;		/* others read the session's samples too: never ask
					   it to resolve only leaves (pd_session_set_max_frames) */
};

/* A table sorted by comm,dso,symbol (perf report's default).  NULL when out of memory. */
struct pd_top *pd_top_new(const struct pd_top_opts *o);
void pd_top_free(struct pd_top *t);

/* The last error, one line naming the input, or "". */
const char *pd_top_errmsg(const struct pd_top *t);

/* "symbol", "dso", "comm", "pid" or "tid". */
const char *pd_top_key_name(enum pd_top_key k);

/* Sort keys "symbol,dso,...": PD_OK, or PD_E_USAGE for an unknown or repeated key. */
int pd_top_set_sort(struct pd_top *t, const char *spec);

/*
 * Keep only samples whose thread's comm, pid or tid, or whose own DSO (short
 * or long name) or symbol, is in the comma-separated LIST (perf report's
 * --comms, --pid, --tid, --dsos, --symbols), with perf's semantics for
 * perf.data: a dropped sample still adds to the entries it touches, and an
 * entry is shown when the first sample that touched it was kept.  Folded
 * lines that are dropped add to nothing.  PD_E_USAGE for an empty item or a
 * pid that is not a number.
 */
int pd_top_set_filter(struct pd_top *t, enum pd_top_key what, const char *list);

/*
 * Learn R's events (names, which have call chains) and, unless the options
 * fix it, whether children are shown: when any event has call chains, as
 * perf report decides.  Call it before the first pd_top_add.
 */
int pd_top_begin(struct pd_top *t, struct pd_reader *r);

/* Add one sample of session SESS (from a pd_sample_fn). */
int pd_top_add(struct pd_top *t, struct pd_session *sess, const struct pd_sample *s);

/* Name the chains collected so far with SESS's symbols (pd_top_add calls it when they grow large). */
int pd_top_flush(struct pd_top *t, struct pd_session *sess);

/*
 * The last flush, and the reader's counters (lost samples) and events.
 * PD_E_USAGE (message set) when the event asked for is not in R.
 */
int pd_top_finish(struct pd_top *t, struct pd_session *sess, struct pd_reader *r);

/* Samples of events other than the one chosen. */
uint64_t pd_top_other_event(const struct pd_top *t);

/*
 * What the first bytes of an input are: 1 perf.data (either byte order,
 * file or pipe form), 0 text (folded stacks), -1 neither (binary).
 */
int pd_top_sniff(const void *buf, size_t len);

/*
 * Read folded stacks, "comm;root;...;leaf COUNT" (pd-formats(5)): the first
 * frame is the comm, the leaf is self, every distinct frame of a stack
 * counts once for children.  The counts are sample counts, or periods
 * when the first line is a metadata line with weight=period
 * (pd_folded_meta_parse); the other one is unknown, and the TSV and JSON
 * outputs leave it empty or null (periods with opts.weight_samples are
 * PD_E_USAGE).  Only the symbol and comm keys and
 * filters apply (PD_E_USAGE otherwise); a line that does not parse is
 * PD_E_FORMAT, with its number in the message.
 */
int pd_top_read_folded(struct pd_top *t, FILE *in, const char *name);

enum pd_top_format { PD_TOP_TEXT, PD_TOP_TSV, PD_TOP_JSON };

struct pd_top_print {
	enum pd_top_format format;
	uint64_t rows;			/* the first N rows of each table; 0: all */
	double percent_limit;		/* hide rows under this percentage */
};

/*
 * One table per event with samples, sorted by the first column (children,
 * or self), then self, then the keys.  TEXT is perf report --stdio's layout;
 * TSV (one header row, then the rows of every event, the event in the
 * last column) and JSON (with the totals and metadata) are fixed, versioned
 * layouts (pdtop(1)) with the raw sample counts and periods beside the
 * percentages.  The same input and options
 * give the same bytes.  PD_E_IO on a write error.
 */
int pd_top_write(struct pd_top *t, FILE *out, const struct pd_top_print *p);

/*
 * How far the profile can be trusted: unresolved frames, empty, broken and
 * truncated stacks, lost samples, the event mix, samples per thread, and a
 * one-line verdict on whether a flame graph from it would mislead.  Needs
 * opts.health; perf.data only (PD_E_USAGE for folded input).
 */
int pd_top_write_health(struct pd_top *t, FILE *out);

/*
 * pdjson: JSON for machines.  A streaming JSON writer whose strings are
 * valid JSON (and valid UTF-8) whatever bytes they are given, the
 * TRACING_DATA of a recording, tracepoint decoding with libtraceevent, and
 * source views of a frame.  See pdjson(1) for the documents the tool writes.
 */

/*
 * The TRACING_DATA blob of R (the feature section in file mode, the payload
 * of PERF_RECORD_HEADER_TRACING_DATA in pipe mode), or NULL (*LEN 0) when
 * the input has none.  In pipe mode it arrives before the first sample.
 */
const void *pd_reader_tracing_data(const struct pd_reader *r, size_t *len);

/*
 * The writer: values are written to OUT as they come, with commas and key
 * separators put in by the nesting it tracks (up to 2^20 levels).  Numbers
 * are printed without the locale.  Errors (bad nesting, a write error, no
 * memory) are sticky and returned by pd_json_finish.
 */
struct pd_json;

/* A writer to OUT, or NULL when out of memory. */
struct pd_json *pd_json_new(FILE *out);
void pd_json_free(struct pd_json *j);

void pd_json_begin_object(struct pd_json *j);
void pd_json_end_object(struct pd_json *j);
void pd_json_begin_array(struct pd_json *j);
void pd_json_end_array(struct pd_json *j);
/* The key of the next member of the current object. */
void pd_json_key(struct pd_json *j, const char *key);
/* A string (NULL: null), or N bytes of one. */
void pd_json_str(struct pd_json *j, const char *s);
void pd_json_strn(struct pd_json *j, const char *s, size_t n);
void pd_json_u64(struct pd_json *j, uint64_t v);
void pd_json_i64(struct pd_json *j, int64_t v);
void pd_json_bool(struct pd_json *j, int v);
void pd_json_null(struct pd_json *j);
/* "0x1a2b": an address as a string (JSON numbers lose precision past 2^53 in JavaScript). */
void pd_json_hex(struct pd_json *j, uint64_t v);
/*
 * NUM/DEN as a decimal number rounded half up to DECIMALS (at most 9)
 * places, computed in integers, so no locale or float formatting enters;
 * null when DEN is 0.
 */
void pd_json_ratio(struct pd_json *j, uint64_t num, uint64_t den, unsigned decimals);
/* A complete JSON value as it is (the caller vouches for it). */
void pd_json_raw(struct pd_json *j, const char *text, size_t len);
/*
 * End a top-level value with a newline (one NDJSON line).  A second
 * top-level value without one between is bad nesting (PD_E_USAGE).
 */
void pd_json_newline(struct pd_json *j);
/* PD_OK, PD_E_USAGE (unbalanced nesting), PD_E_NOMEM or PD_E_IO (write error). */
int pd_json_finish(struct pd_json *j);

/*
 * Write S (N bytes) to OUT as a JSON string with its quotes: '"', '\' and
 * control characters escaped, valid UTF-8 kept, and every byte that is not
 * part of a valid UTF-8 sequence (overlong forms, surrogates, code points
 * past U+10FFFF, stray continuation bytes, NUL) written as \ufffd.
 */
void pd_json_quote(FILE *out, const char *s, size_t n);

/*
 * Tracepoints: the fields of a PERF_SAMPLE_RAW payload, decoded with
 * libtraceevent from the formats in a TRACING_DATA blob.
 */
struct pd_trace;

/*
 * Parse BLOB (LEN bytes, as pd_reader_tracing_data returns it).  NULL when
 * out of memory; a blob that does not parse gives a handle whose
 * pd_trace_errmsg says why, and that decodes nothing.
 */
struct pd_trace *pd_trace_new(const void *blob, size_t len);
void pd_trace_free(struct pd_trace *t);
const char *pd_trace_errmsg(const struct pd_trace *t);

/*
 * Write the fields of tracepoint event ID (the attr's config) in RAW as a
 * JSON object, in the order of the event's format, common_* fields left
 * out, as perf script names them: integers as numbers (signed when the
 * format says so), char arrays and __data_loc strings as strings, other
 * arrays as arrays of numbers.  With PRINT, also set *PRINT to the event's
 * print-format text as perf script prints it ("prev_comm=sh prev_pid=..."),
 * valid until the next call.  PD_END (nothing written) when the event is
 * unknown or the payload too short for its format.
 */
int pd_trace_write_fields(struct pd_trace *t, uint64_t id, const unsigned char *raw,
    uint32_t size, uint32_t cpu, struct pd_json *j, const char **print);

/*
 * The source view of frame FR (pd_session_opts.inline_frames, .srclines):
 * up to MAX levels into OUT, innermost (the frame's own function, or the
 * function inlined deepest at it) first, and their number; 0 when the
 * frame has no symbol.  RET: FR is a return address (looked up at its
 * address - 1).
 */
struct pd_srcframe {
	const char *func;
	const char *file;		/* NULL without srclines or line information */
	unsigned line;
};
size_t pd_session_frame_src(struct pd_session *s, const struct pd_frame *fr, int ret,
    struct pd_srcframe *out, size_t max);

/*
 * pddiff: two profiles compared, BASE and NEW, each merged from one or more
 * runs (perf.data or folded stacks).  Stacks and symbols are keyed by name
 * after normalization (--strip-hex, regex rules), so that two builds line
 * up.  The symbol shares (self and inclusive) come from pdtop's
 * aggregation (pd_top_*) of each run; the stacks give the differential
 * folded stream "stack BASE NEW" that pdflame draws.
 *
 * Significance: for every symbol, a two-proportion z-test with pooled
 * variance on its sample counts (x_base of n_base against x_new of n_new,
 * n the side's total samples), two-sided; the p-values of all the symbols
 * tested (self and inclusive are separate families) are adjusted with
 * Holm's step-down method.  Periods are never tested, since they are not
 * counts of independent draws; a side whose runs gave weights only (folded
 * stacks written with weight=period) has no test.  See pddiff(1).
 *
 * Use: pd_diff_new; rules (pd_diff_add_rule, pd_diff_read_rules) and
 * --fail-on rules (pd_diff_add_fail) before any input; then per run
 * pd_diff_add_fold and pd_diff_add_top (perf.data), or pd_diff_read_folded;
 * then pd_diff_write and pd_diff_gate.  Errors are in pd_diff_errmsg.
 */
struct pd_diff;

enum pd_diff_side { PD_DIFF_BASE = 0, PD_DIFF_NEW = 1 };

struct pd_diff_opts {
	int strip_hex;			/* 0x1234 becomes 0x... in every frame */
	int weight_samples;		/* shares and the stream in samples, not weights */
	double confidence;		/* of the test, in (0, 1): 0.99 */
	double threshold;		/* growth in points of share the gate needs: 1.0 */
};

/* Fill O with the defaults. */
void pd_diff_opts_init(struct pd_diff_opts *o);

/* A comparison with no runs yet, or NULL when out of memory. */
struct pd_diff *pd_diff_new(const struct pd_diff_opts *o);
void pd_diff_free(struct pd_diff *d);

/* The last error, one line, or "". */
const char *pd_diff_errmsg(const struct pd_diff *d);

/*
 * A name rule "s/REGEX/REPLACEMENT/" (POSIX extended regex; any delimiter
 * but a letter, a digit or a backslash; \0-\9 and & in the replacement).
 * Rules apply in order, to every match, to each frame name without its
 * _[k]-style annotation.  PD_E_USAGE for a bad rule.
 */
int pd_diff_add_rule(struct pd_diff *d, const char *rule);

/* One rule a line; blank lines and lines starting with # are skipped. */
int pd_diff_read_rules(struct pd_diff *d, FILE *in, const char *name);

/*
 * A gate rule: "sym:NAME>+N" (NAME's self share grew by more than N points,
 * or by N% of its base share with "+N%"), "incl:NAME>+N[%]" (the same for
 * its inclusive share), "total>+N%" (the mean total weight per run grew by
 * more than N%).  Symbol rules also need the change to be significant at
 * the confidence level, by the symbol's own p-value.  PD_E_USAGE when bad.
 */
int pd_diff_add_fail(struct pd_diff *d, const char *rule);

/* Add a stack (normalized here) with its sample count and weight to SIDE. */
int pd_diff_add_stack(struct pd_diff *d, int side, const char *stack, size_t len, uint64_t samples,
    uint64_t weight);

/*
 * One perf.data run: SAMPLES folded with PD_FOLD_SAMPLES and WEIGHTS with
 * periods, over the same samples.  NAME names the input in messages.
 */
int pd_diff_add_fold(struct pd_diff *d, int side, struct pd_fold *samples, struct pd_fold *weights,
    const char *name);

/* The symbols of the same run, from T (children on; finished). */
int pd_diff_add_top(struct pd_diff *d, int side, struct pd_top *t, const char *name);

/*
 * One run of folded stacks (pd-formats(5)): its stacks, and its symbols
 * through pd_top_read_folded.  The counts are sample counts, unless the
 * first line is a metadata line (pd_folded_meta_parse) with weight=period:
 * then they are weights and the side has no sample counts.  Its event=
 * goes to pd_diff_set_event.  A two-count line counts its
 * second count.  PD_E_FORMAT, with the line number, for a line that does
 * not parse.
 */
int pd_diff_read_folded(struct pd_diff *d, int side, FILE *in, const char *name);

/*
 * The event a run compares (for the metadata line): kept when every run
 * names the same one, "none" in the line otherwise.
 */
void pd_diff_set_event(struct pd_diff *d, const char *name);

/* Record that a run of SIDE weighs periods (for messages about units). */
void pd_diff_note_periods(struct pd_diff *d, int side);

struct pd_diff_side_info {
	unsigned runs;
	uint64_t samples, weight, stacks;
	int samples_unknown;		/* some run gave no sample counts */
	int periods;			/* some run weighs periods */
};
int pd_diff_info(const struct pd_diff *d, int side, struct pd_diff_side_info *info);

/* Run the statistics (pd_diff_write and pd_diff_gate call it). */
int pd_diff_compute(struct pd_diff *d);

/*
 * The two-sided p-value of the pooled two-proportion z-test of X1 of N1
 * against X2 of N2, and the statistic in *Z (positive: the second share is
 * larger) when Z is not NULL.
 */
double pd_diff_ztest(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2, double *z);

enum pd_diff_format { PD_DIFF_FOLDED, PD_DIFF_TABLE, PD_DIFF_JSON };

enum pd_diff_flags {
	PD_DIFF_SCALE = 1u << 0,	/* scale BASE to NEW's total (largest remainder) */
	PD_DIFF_SWAP = 1u << 1,		/* "stack NEW BASE": widths from BASE */
	PD_DIFF_NO_MARKS = 1u << 2,	/* no " [NEW]" / " [GONE]" on one-sided frames */
	PD_DIFF_HEADER = 1u << 3,	/* FOLDED: the "# pd-diff" metadata line first */
	PD_DIFF_FOLD_SAMPLES = 1u << 4,	/* FOLDED: sample counts, whatever the shares count */
};

/*
 * Write the comparison: FOLDED, "stack BASE NEW" lines sorted by stack
 * (FLAGS apply; no metadata line without PD_DIFF_HEADER), with the outermost frame of a path that exists on one
 * side only marked " [NEW]" or " [GONE]"; TABLE, self then inclusive rows
 * sorted by delta; JSON, schema pd-diff-v1 (pddiff(1)).  The same inputs
 * give the same bytes, in any locale.  PD_E_IO on a write error.
 */
int pd_diff_write(struct pd_diff *d, FILE *out, enum pd_diff_format fmt, unsigned flags);

/*
 * The gate: how many rows regressed (a self share grew by more than the
 * threshold and significantly, after Holm, or a --fail-on rule fired),
 * each written as one line to REPORT when it is not NULL.  0: none;
 * negative: an error.
 */
int pd_diff_gate(struct pd_diff *d, FILE *report);

#endif
