/*
 * pdcollapse - read perf.data (file or pipe form, either byte order, zstd
 * records) and print one folded stack per line, "comm;root;...;leaf COUNT",
 * sorted; the input flamegraph.pl, inferno and pdflame draw.  It replaces
 * "perf script | stackcollapse-perf.pl" and follows that script's naming.
 * COUNT is the number of samples, or with --weight=period the sum of their
 * periods, as that script counts.  The output is plain "stack count" lines,
 * so that every consumer takes it; --header puts the metadata line that
 * pdtools' readers use first.  See pdcollapse(1) and pd-formats(5).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static const char usage[] =
    "usage: pdcollapse [-hqvV] [--pid | --tid] [--kernel] [--jit] [--all] [--addrs]\n"
    "                  [--inline | --no-inline] [--lines] [--event name|all]\n"
    "                  [--weight period|samples] [--no-comm] [--header | --no-header]\n"
    "                  [--no-demangle] [--symfs dir] [--kallsyms file]\n"
    "                  [--debuginfod] [--progress]\n"
    "                  [file ...]";

enum {
	OPT_PID = 0x100, OPT_TID, OPT_KERNEL, OPT_JIT, OPT_ALL, OPT_ADDRS, OPT_EVENT,
	OPT_WEIGHT, OPT_NO_COMM, OPT_HEADER, OPT_NO_HEADER, OPT_NO_DEMANGLE, OPT_SYMFS, OPT_KALLSYMS,
	OPT_INLINE, OPT_NO_INLINE, OPT_LINES, OPT_DEBUGINFOD,
};

static const struct tool_opt opts[] = {
	{ "pid", no_argument, OPT_PID, NULL, "root frame comm-PID" },
	{ "tid", no_argument, OPT_TID, NULL, "root frame comm-PID/TID" },
	{ "kernel", no_argument, OPT_KERNEL, NULL, "mark kernel frames with _[k]" },
	{ "jit", no_argument, OPT_JIT, NULL, "mark JIT frames (perf-PID.map) with _[j]" },
	{ "all", no_argument, OPT_ALL, NULL, "all annotations: --kernel --jit" },
	{ "addrs", no_argument, OPT_ADDRS, NULL, "show raw addresses of unresolved frames" },
	{ "inline", no_argument, OPT_INLINE, NULL, "expand inlined functions into frames in every chain (DWARF)" },
	{ "no-inline", no_argument, OPT_NO_INLINE, NULL, "no inlined frames, symbol-table names, also in --call-graph dwarf chains" },
	{ "lines", no_argument, OPT_LINES, NULL, "name frames func (file:line) (DWARF)" },
	{ "event", required_argument, OPT_EVENT, "event", "fold samples of this event, or all (default: the first)" },
	{ "weight", required_argument, OPT_WEIGHT, "period|samples", "count samples (default) or sum sample periods" },
	{ "no-comm", no_argument, OPT_NO_COMM, NULL, "do not put the process name at the root" },
	{ "header", no_argument, OPT_HEADER, NULL, "write the # pd-folded metadata line first, for pdtools" },
	{ "no-header", no_argument, OPT_NO_HEADER, NULL, "no metadata line (the default)" },
	{ "no-demangle", no_argument, OPT_NO_DEMANGLE, NULL, "print C++ and Rust names as mangled" },
	{ "symfs", required_argument, OPT_SYMFS, "dir", "look for binaries and debug files under dir" },
	{ "kallsyms", required_argument, OPT_KALLSYMS, "file", "kernel symbols from file, not /proc/kallsyms" },
	{ "debuginfod", no_argument, OPT_DEBUGINFOD, NULL, "ask the DEBUGINFOD_URLS servers for missing debug files" },
	TOOL_OPT_PROGRESS,
	{ NULL, 0, 0, NULL, NULL }
};

struct run {
	struct pd_fold *fold;
	struct pd_session *session;
	struct pd_reader *r;
	const char *event;		/* NULL: the first event; "all" */
	long selected;			/* event index, PD_EVENT_*, or -2 not chosen yet */
	uint64_t other_event;		/* samples of events not folded */
	int fold_error;
	bool limit;			/* a sample's weight took the total past 2^64-1 */
	uint64_t limit_at;		/* that sample's offset */
};

static bool weight_limit;		/* no more files: the total cannot grow */

static void
choose_event(struct run *ru)
{
	/* PD_EVENT_NONE_SUCH is reported after the run. */
	ru->selected = pd_reader_pick_event(ru->r, ru->event);
}

static int
on_sample(void *ctx, const struct pd_sample *s)
{
	struct run *ru = ctx;

	if (ru->selected == -2)
		choose_event(ru);
	if (ru->selected != PD_EVENT_ALL && (long)s->event != ru->selected) {
		ru->other_event++;
		return 0;
	}
	switch (pd_fold_add(ru->fold, ru->session, s)) {
	case PD_OK:
		break;
	case PD_E_LIMIT:
		/* The samples before it are folded and printed; exit 2. */
		ru->limit = true;
		ru->limit_at = s->offset;
		return -1;
	default:
		ru->fold_error = 1;
		return -1;
	}
	return 0;
}

static void
list_events(struct pd_reader *r, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < pd_reader_nr_events(r); i++) {
		const struct pd_event_info *e = pd_reader_event(r, i);
		int k;

		if (e->is_dummy)
			continue;
		k = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", e->name);
		if (k < 0 || (size_t)k >= len - used)
			break;
		used += (size_t)k;
	}
}

static void
summary(const char *file, const struct pd_stats *st, uint64_t folded, uint64_t other)
{
	pd_info("%s: %llu samples read, %llu folded; not folded: %llu of other events, "
	    "%llu with unknown event id, %llu undecodable; lost: %llu events in %llu LOST records, "
	    "%llu samples (LOST_SAMPLES); %llu records (%llu compressed), %llu of unknown type, "
	    "%llu unknown features, %llu out of order, %llu chains with bad contexts",
	    file, (unsigned long long)st->samples, (unsigned long long)folded,
	    (unsigned long long)other, (unsigned long long)st->samples_unknown_id,
	    (unsigned long long)st->samples_bad, (unsigned long long)st->lost,
	    (unsigned long long)st->lost_records, (unsigned long long)st->lost_samples,
	    (unsigned long long)st->records, (unsigned long long)st->compressed,
	    (unsigned long long)st->unknown_records, (unsigned long long)st->unknown_features,
	    (unsigned long long)st->out_of_order, (unsigned long long)st->callchain_dropped);
	if (st->unwind_samples)
		pd_info("%s: %llu DWARF samples: %llu unwound fully, %llu truncated, "
		    "%llu not unwound", file, (unsigned long long)st->unwind_samples,
		    (unsigned long long)(st->unwind_samples - st->unwind_truncated - st->unwind_none),
		    (unsigned long long)st->unwind_truncated, (unsigned long long)st->unwind_none);
}

static int
collapse_one(const char *file, struct pd_fold *fold, const struct pd_session_opts *so,
    const char *event, char **ev_name, bool *opened)
{
	struct pd_reader *r = pd_reader_new();
	struct pd_session *s = pd_session_new(so);
	struct run ru = { fold, s, r, event, -2, 0, 0, false, 0 };
	uint64_t before = pd_fold_samples(fold);
	int rc, status = PD_EXIT_OK;
	char names[512];

	if (!r || !s)
		pd_die("out of memory");
	rc = pd_reader_open(r, file, 0);
	if (rc < 0) {
		pd_error("%s", pd_reader_errmsg(r));
		status = PD_EXIT_TROUBLE;
		goto out;
	}
	*opened = true;
	rc = pd_session_run(s, r, on_sample, &ru);
	if (pd_fold_flush(fold, s) < 0 || ru.fold_error)
		pd_die("out of memory");
	/* One line: the error (with the samples not read), or one warning. */
	if (ru.limit) {
		pd_error("'%s': %s at offset 0x%llx", pd_reader_name(r), PD_WEIGHT_OVERFLOW,
		    (unsigned long long)ru.limit_at);
		status = PD_EXIT_TROUBLE;
		weight_limit = true;
	} else if (tool_reader_report(r, rc, "are not folded") != PD_EXIT_OK)
		status = PD_EXIT_TROUBLE;
	list_events(r, names, sizeof(names));
	if (ru.selected == -2)
		choose_event(&ru);
	if (ru.selected == PD_EVENT_NONE_SUCH) {
		pd_error("'%s': no event '%s' (events: %s)", pd_reader_name(r), event, names);
		status = PD_EXIT_TROUBLE;
	} else if (ru.selected >= 0) {
		const char *name = pd_reader_event(r, (size_t)ru.selected)->name;

		/* The name lives in the reader; the header is written after it is gone. */
		if (!*ev_name && !(*ev_name = strdup(name)))
			pd_die("out of memory");
		if (!event && ru.other_event && !ru.limit)
			pd_note("'%s' has events %s; folding %s (use --event)", pd_reader_name(r),
			    names, name);
	}
	{
		const struct pd_stats *st = pd_reader_stats(r);

		if (tool_verbose)
			summary(pd_reader_name(r), st, pd_fold_samples(fold) - before, ru.other_event);
	}
out:
	pd_session_free(s);
	pd_reader_free(r);
	return status;
}

int
main(int argc, char **argv)
{
	struct pd_session_opts so = { 0 };
	unsigned flags = PD_FOLD_SAMPLES;
	const char *event = NULL;
	char *ev_name = NULL;
	bool header = false, opened = false;
	struct pd_fold *fold;
	int ch, status = PD_EXIT_OK;
	static char obuf[1 << 16];

	tool_init(argv[0]);
	while ((ch = tool_getopt(argc, argv, opts, usage,
	    "Fold the call chains of perf.data into stacks for flame graphs.")) != -1) {
		switch (ch) {
		case OPT_PID: flags |= PD_FOLD_PID; break;
		case OPT_TID: flags |= PD_FOLD_TID; break;
		case OPT_KERNEL: flags |= PD_FOLD_KERNEL; break;
		case OPT_JIT: flags |= PD_FOLD_JIT; break;
		case OPT_ALL: flags |= PD_FOLD_KERNEL | PD_FOLD_JIT; break;
		case OPT_ADDRS: flags |= PD_FOLD_ADDRS; break;
		case OPT_INLINE: so.inline_frames = 1; so.no_inline = 0; break;
		case OPT_NO_INLINE: so.no_inline = 1; so.inline_frames = 0; break;
		case OPT_LINES: so.srclines = 1; break;
		case OPT_EVENT: event = optarg; break;
		case OPT_WEIGHT:
			if (!strcmp(optarg, "samples"))
				flags |= PD_FOLD_SAMPLES;
			else if (!strcmp(optarg, "period"))
				flags &= ~PD_FOLD_SAMPLES;
			else
				tool_usage_error(usage, "--weight takes period or samples, not '%s'", optarg);
			break;
		case OPT_NO_COMM: flags |= PD_FOLD_NO_COMM; break;
		case OPT_HEADER: header = true; break;
		case OPT_NO_HEADER: header = false; break;
		case OPT_NO_DEMANGLE: so.no_demangle = 1; break;
		case OPT_SYMFS: so.symfs = optarg; break;
		case OPT_KALLSYMS: so.kallsyms = optarg; break;
		case OPT_DEBUGINFOD: tool_allow_debuginfod(); break;
		default:
			tool_usage_error(usage, "unknown option");
		}
	}
	tool_progress_start();
	argc -= optind;
	argv += optind;
	if ((flags & PD_FOLD_PID) && (flags & PD_FOLD_TID))
		flags &= ~PD_FOLD_PID;
	setvbuf(stdout, obuf, isatty(1) ? _IOLBF : _IOFBF, sizeof(obuf));
	fold = pd_fold_new(flags);
	if (!fold)
		pd_die("out of memory");
	if (argc == 0)
		status |= collapse_one(tool_default_input(), fold, &so, event, &ev_name, &opened);
	for (int i = 0; i < argc && !weight_limit; i++)
		status |= collapse_one(argv[i], fold, &so, event, &ev_name, &opened);
	/*
	 * Only when asked: flamegraph.pl, difffolded.pl, inferno, speedscope and
	 * Pyroscope warn on a line that is not "stack count" or take it for one.
	 */
	if (header && opened)
		printf("# pd-folded v1 weight=%s event=%s tool=pdcollapse\n",
		    (flags & PD_FOLD_SAMPLES) ? "samples" : "period",
		    event && !strcmp(event, "all") ? "all" : ev_name ? ev_name : "none");
	if (pd_fold_write(fold, stdout) < 0)
		status = PD_EXIT_TROUBLE;
	pd_fold_free(fold);
	free(ev_name);
	return tool_finish(status);
}
