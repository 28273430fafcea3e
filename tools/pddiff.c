/*
 * pddiff - compare two profiles, BASE and NEW (perf.data or folded stacks,
 * told apart by their first bytes; several runs a side with --base-runs),
 * and write the differential folded stream "stack BASE NEW" that pdflame
 * and flamegraph.pl draw, or a table or JSON of the symbols' self and
 * inclusive shares.  Exits 1 when a symbol's self share grew by more than
 * --threshold points and the growth is significant at --confidence (a
 * two-proportion z-test on sample counts, Holm-corrected), or when a
 * --fail-on rule fires; the offending rows go to stderr.  See pddiff(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static const char usage[] =
    "usage: pddiff [-hnqsvV] [--format folded|table|json] [--threshold points]\n"
    "              [--confidence percent] [--fail-on rule] [--no-gate] [--normalize file]\n"
    "              [--event name] [--weight period|samples] [--swap] [--no-marks]\n"
    "              [--header | --no-header] [--no-demangle] [--symfs dir]\n"
    "              [--kallsyms file] [--progress]\n"
    "              [[base] new]\n"
    "       pddiff --base-runs n [options] base ... new ...";

enum {
	OPT_BASE_RUNS = 0x100, OPT_FORMAT, OPT_THRESHOLD, OPT_CONFIDENCE, OPT_FAIL_ON, OPT_NO_GATE,
	OPT_NORMALIZE, OPT_EVENT, OPT_WEIGHT, OPT_SWAP, OPT_NO_MARKS, OPT_HEADER, OPT_NO_HEADER,
	OPT_NO_DEMANGLE, OPT_SYMFS, OPT_KALLSYMS,
};

static const struct tool_opt opts[] = {
	{ "base-runs", required_argument, OPT_BASE_RUNS, "n", "the first n inputs are BASE runs, the rest NEW runs" },
	{ "format", required_argument, OPT_FORMAT, "folded|table|json", "output (default: the differential folded stream)" },
	{ "threshold", required_argument, OPT_THRESHOLD, "points", "growth of a self share that the gate needs (default 1)" },
	{ "confidence", required_argument, OPT_CONFIDENCE, "percent", "confidence of the significance test (default 99)" },
	{ "fail-on", required_argument, OPT_FAIL_ON, "rule", "also fail on sym:NAME>+N[%], incl:NAME>+N[%], total>+N%" },
	{ "no-gate", no_argument, OPT_NO_GATE, NULL, "exit 0 whatever changed (2 still on trouble)" },
	{ "normalize-totals", no_argument, 'n', NULL, "scale BASE's counts to NEW's total (exact)" },
	{ "strip-hex", no_argument, 's', NULL, "turn hexadecimal numbers in names into 0x..." },
	{ "normalize", required_argument, OPT_NORMALIZE, "file", "rename frames by the s/regex/replacement/ rules in file" },
	{ "event", required_argument, OPT_EVENT, "event", "compare samples of this event (default: the first)" },
	{ "weight", required_argument, OPT_WEIGHT, "period|samples", "shares of periods (default) or sample counts" },
	{ "swap", no_argument, OPT_SWAP, NULL, "write \"stack NEW BASE\": widths from BASE (draw with --negate)" },
	{ "no-marks", no_argument, OPT_NO_MARKS, NULL, "do not mark frames found on one side only" },
	{ "header", no_argument, OPT_HEADER, NULL, "folded: write the # pd-diff metadata line first, for pdflame" },
	{ "no-header", no_argument, OPT_NO_HEADER, NULL, "folded: no metadata line (the default)" },
	{ "no-demangle", no_argument, OPT_NO_DEMANGLE, NULL, "print C++ and Rust names as mangled" },
	{ "symfs", required_argument, OPT_SYMFS, "dir", "look for binaries and debug files under dir" },
	{ "kallsyms", required_argument, OPT_KALLSYMS, "file", "kernel symbols from file, not /proc/kallsyms" },
	TOOL_OPT_PROGRESS,
	{ NULL, 0, 0, NULL, NULL }
};

struct run {
	struct pd_diff *diff;
	struct pd_fold *fold[2];	/* sample counts, periods */
	struct pd_top *top;
	struct pd_session *session;
	struct pd_reader *r;
	const char *event;		/* NULL: the first event */
	long selected;			/* event index, PD_EVENT_*, or -2 not chosen yet */
	uint64_t other_event;
	unsigned max_stack;
	int error;
	uint64_t side_weight;		/* of the runs read before into this side */
	uint64_t limit_at;		/* the sample that took a sum past 2^64-1 */
};

static void
choose_event(struct run *ru)
{
	ru->selected = pd_reader_pick_event(ru->r, ru->event);
	/* One event is compared: "all" is not an event's name here. */
	if (ru->selected == PD_EVENT_ALL)
		ru->selected = PD_EVENT_NONE_SUCH;
}

/* pdtop for the symbols, made once the event is known. */
static int
start_top(struct run *ru)
{
	struct pd_top_opts o = { .children = 1, .max_stack = ru->max_stack };

	if (ru->selected < 0)
		return 0;
	o.event = pd_reader_event(ru->r, (size_t)ru->selected)->name;
	if (!(ru->top = pd_top_new(&o)) || pd_top_set_sort(ru->top, "symbol") < 0)
		pd_die("out of memory");
	return pd_top_begin(ru->top, ru->r);
}

static int
on_sample(void *ctx, const struct pd_sample *s)
{
	struct run *ru = ctx;

	if (ru->selected == -2) {
		choose_event(ru);
		if ((ru->error = start_top(ru)) < 0)
			return -1;
	}
	if (ru->selected < 0 || (long)s->event != ru->selected) {
		ru->other_event++;
		return 0;
	}
	/*
	 * The side's total weight so far (earlier runs) and this run's must
	 * stay within 2^64-1: the sample that would pass it is the error.
	 */
	if (ru->side_weight > UINT64_MAX - pd_fold_weight(ru->fold[1]) ||
	    ru->side_weight + pd_fold_weight(ru->fold[1]) > UINT64_MAX - s->period) {
		ru->error = PD_E_LIMIT;
		ru->limit_at = s->offset;
		return -1;
	}
	if ((ru->error = pd_fold_add(ru->fold[0], ru->session, s)) < 0 ||
	    (ru->error = pd_fold_add(ru->fold[1], ru->session, s)) < 0) {
		ru->limit_at = s->offset;
		return -1;
	}
	if ((ru->error = pd_top_add(ru->top, ru->session, s)) < 0)
		return -1;
	return 0;
}

struct input {
	const char *path;
	int side;
	const char *event;
	const struct pd_session_opts *so;
	bool weight_samples;
};

/* One perf.data run into its side; BUF (LEN bytes) when read into memory already. */
static int
run_perf(struct pd_diff *d, const struct input *in, const void *buf, size_t len)
{
	struct run ru = { .diff = d, .event = in->event, .selected = -2, .max_stack = tool_max_stack() };
	int rc, status = 0;

	ru.r = pd_reader_new();
	ru.session = pd_session_new(in->so);
	ru.fold[0] = pd_fold_new(PD_FOLD_SAMPLES);
	ru.fold[1] = pd_fold_new(0);
	if (!ru.r || !ru.session || !ru.fold[0] || !ru.fold[1])
		pd_die("out of memory");
	rc = buf ? pd_reader_open_mem(ru.r, in->path, buf, len) : pd_reader_open(ru.r, in->path, 0);
	if (rc < 0) {
		status = pd_error("%s", pd_reader_errmsg(ru.r));
		goto out;
	}
	{
		struct pd_diff_side_info si;

		pd_diff_info(d, in->side, &si);
		ru.side_weight = si.weight;
	}
	rc = pd_session_run(ru.session, ru.r, on_sample, &ru);
	if (ru.error == PD_E_LIMIT) {
		/* pdtop's message names the file and the offset already. */
		if (ru.top && pd_top_errmsg(ru.top)[0])
			status = pd_error("%s", pd_top_errmsg(ru.top));
		else
			status = pd_error("'%s': %s at offset 0x%llx", pd_reader_name(ru.r),
			    PD_WEIGHT_OVERFLOW, (unsigned long long)ru.limit_at);
		goto out;
	}
	if (ru.error < 0) {
		status = pd_error("'%s': %s", in->path, ru.top && pd_top_errmsg(ru.top)[0] ?
		    pd_top_errmsg(ru.top) : pd_strerror(ru.error));
		goto out;
	}
	if (rc < 0 && rc != PD_E_CALLBACK) {
		/* One line: the error, with the samples not read. */
		tool_reader_report(ru.r, rc, NULL);
		status = -1;
		goto out;
	}
	if (ru.selected == -2) {
		choose_event(&ru);
		if (start_top(&ru) < 0) {
			status = pd_error("'%s': %s", in->path, pd_top_errmsg(ru.top));
			goto out;
		}
	}
	if (ru.selected == PD_EVENT_NONE_SUCH) {
		status = pd_error("'%s': no event '%s'", in->path, in->event);
		goto out;
	}
	if (pd_fold_flush(ru.fold[0], ru.session) < 0 || pd_fold_flush(ru.fold[1], ru.session) < 0)
		pd_die("out of memory");
	if (ru.top && pd_top_finish(ru.top, ru.session, ru.r) < 0) {
		status = pd_error("%s", pd_top_errmsg(ru.top));
		goto out;
	}
	if (pd_diff_add_fold(d, in->side, ru.fold[0], ru.fold[1], in->path) < 0 ||
	    (ru.top && pd_diff_add_top(d, in->side, ru.top, in->path) < 0)) {
		status = pd_error("%s", pd_diff_errmsg(d));
		goto out;
	}
	if (!in->weight_samples)
		pd_diff_note_periods(d, in->side);
	if (ru.selected >= 0)
		pd_diff_set_event(d, pd_reader_event(ru.r, (size_t)ru.selected)->name);
	/*
	 * At most one warning line (damaged metadata, lost events, samples not
	 * read).  An operand whose samples are all lost to damage (records of
	 * an unknown type, say) cannot be compared: that damage is the one
	 * error line.
	 */
	if (pd_reader_stats(ru.r)->samples == 0 && pd_reader_warning(ru.r)[0]) {
		status = pd_error("%s", pd_reader_warning(ru.r));
		goto out;
	}
	tool_reader_report(ru.r, 0, "are not compared");
	if (!in->event && ru.other_event && ru.selected >= 0)
		pd_note("'%s': comparing event %s only (use --event)", in->path,
		    pd_reader_event(ru.r, (size_t)ru.selected)->name);
	if (tool_verbose)
		pd_info("%s: %s: %llu samples, %llu of other events",
		    in->side ? "new" : "base", in->path, (unsigned long long)pd_fold_samples(ru.fold[0]),
		    (unsigned long long)ru.other_event);
out:
	pd_top_free(ru.top);
	pd_fold_free(ru.fold[0]);
	pd_fold_free(ru.fold[1]);
	pd_session_free(ru.session);
	pd_reader_free(ru.r);
	return status;
}

static int
run_folded(struct pd_diff *d, const struct input *in, FILE *f)
{
	if (pd_diff_read_folded(d, in->side, f, in->path) < 0)
		return pd_error("%s", pd_diff_errmsg(d));
	if (tool_verbose)
		pd_info("%s: %s: folded stacks", in->side ? "new" : "base", in->path);
	return 0;
}

/* Where each side's last input ended: the offset of "has no samples". */
static unsigned long long side_end[2];

static int
read_input(struct pd_diff *d, const struct input *in)
{
	unsigned char head[16];
	int fd, status;
	struct stat st;
	ssize_t nh;

	fd = strcmp(in->path, "-") ? open(in->path, O_RDONLY | O_CLOEXEC | O_NOCTTY) : 0;
	if (fd < 0)
		return pd_error("cannot open '%s': %s", in->path, strerror(errno));
	if (fd != 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		FILE *f;

		side_end[in->side] = (unsigned long long)st.st_size;
		nh = pread(fd, head, sizeof(head), 0);
		if (nh > 0 && pd_top_sniff(head, (size_t)nh) == 0) {
			if (!(f = fdopen(fd, "r"))) {
				close(fd);
				return pd_error("cannot read '%s': %s", in->path, strerror(errno));
			}
			status = run_folded(d, in, f);
			fclose(f);
			return status;
		}
		close(fd);
		return run_perf(d, in, NULL, 0);
	} else {
		size_t len = 0;
		char *buf = tool_read_all(fd, &len);

		if (fd)
			close(fd);
		if (!buf)
			return pd_error("cannot read '%s': %s", in->path, strerror(errno));
		side_end[in->side] = (unsigned long long)len;
		if (len && pd_top_sniff(buf, len) == 0) {
			FILE *f = fmemopen(buf, len, "r");

			if (!f)
				pd_die("out of memory");
			status = run_folded(d, in, f);
			fclose(f);
		} else {
			status = run_perf(d, in, buf, len);
		}
		free(buf);
		return status;
	}
}

static double
parse_num(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*end == '%' && !end[1])
		end++;
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		tool_usage_error(usage, "%s takes a number from %g to %g, not '%s'", opt, lo, hi, s);
	return v;
}

int
main(int argc, char **argv)
{
	struct pd_diff_opts o;
	struct pd_session_opts so = { 0 };
	enum pd_diff_format fmt = PD_DIFF_FOLDED;
	unsigned flags = 0;
	const char *event = NULL;
	const char **rules = NULL, **fails = NULL;
	size_t nr_rules = 0, nr_fails = 0;
	uint64_t base_runs = 0;
	bool gate = true, stdin_used = false, weight_given = false;
	char *defaults[2];
	struct pd_diff *d;
	struct pd_diff_side_info info[2];
	int ch, status = PD_EXIT_OK, nfail;
	const char *side_file[2] = { "-", "-" };
	static char obuf[1 << 16];

	tool_init(argv[0]);
	tool_exit_help = "Exit status: 0 no regression, 1 a regression (the rows on stderr), "
	    "2 trouble (bad usage, unreadable or corrupt input).";
	pd_diff_opts_init(&o);
	if (!(rules = calloc((size_t)argc, sizeof(*rules))) || !(fails = calloc((size_t)argc, sizeof(*fails))))
		pd_die("out of memory");
	while ((ch = tool_getopt(argc, argv, opts, usage,
	    "Compare two profiles: a differential flame graph stream, a table, and a CI gate.")) != -1) {
		switch (ch) {
		case OPT_BASE_RUNS:
			if (pd_parse_u64(optarg, 1, 1000000, &base_runs) < 0)
				tool_usage_error(usage, "--base-runs takes a positive number, not '%s'", optarg);
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "folded"))
				fmt = PD_DIFF_FOLDED;
			else if (!strcmp(optarg, "table"))
				fmt = PD_DIFF_TABLE;
			else if (!strcmp(optarg, "json"))
				fmt = PD_DIFF_JSON;
			else
				tool_usage_error(usage, "--format takes folded, table or json, not '%s'", optarg);
			break;
		case OPT_THRESHOLD: o.threshold = parse_num("--threshold", optarg, 0, 100); break;
		case OPT_CONFIDENCE:
			o.confidence = parse_num("--confidence", optarg, 50, 99.9999999) / 100;
			break;
		case OPT_FAIL_ON: fails[nr_fails++] = optarg; break;
		case OPT_NO_GATE: gate = false; break;
		case 'n': flags |= PD_DIFF_SCALE; break;
		case 's': o.strip_hex = 1; break;
		case OPT_NORMALIZE: rules[nr_rules++] = optarg; break;
		case OPT_EVENT: event = optarg; break;
		case OPT_WEIGHT:
			if (strcmp(optarg, "period") && strcmp(optarg, "samples"))
				tool_usage_error(usage, "--weight takes period or samples, not '%s'", optarg);
			o.weight_samples = !strcmp(optarg, "samples");
			weight_given = true;
			break;
		case OPT_SWAP: flags |= PD_DIFF_SWAP; break;
		case OPT_NO_MARKS: flags |= PD_DIFF_NO_MARKS; break;
		case OPT_HEADER: flags |= PD_DIFF_HEADER; break;
		case OPT_NO_HEADER: flags &= ~PD_DIFF_HEADER; break;
		case OPT_NO_DEMANGLE: so.no_demangle = 1; break;
		case OPT_SYMFS: so.symfs = optarg; break;
		case OPT_KALLSYMS: so.kallsyms = optarg; break;
		default:
			tool_usage_error(usage, "unknown option");
		}
	}
	tool_progress_start();
	argc -= optind;
	argv += optind;
	if (!base_runs) {
		/*
		 * As perf diff: BASE is perf.data.old when not given; NEW is the
		 * one operand, or without any, standard input when it is a pipe
		 * or a socket and perf.data otherwise.
		 */
		if (argc > 2)
			tool_usage_error(usage, "two inputs at most, BASE and NEW (or --base-runs)");
		if (argc < 2) {
			defaults[0] = (char *)"perf.data.old";
			defaults[1] = argc ? argv[0] : (char *)tool_default_input();
			argv = defaults;
			argc = 2;
		}
		base_runs = 1;
	}
	if ((uint64_t)argc <= base_runs)
		tool_usage_error(usage, "--base-runs %llu leaves no NEW input", (unsigned long long)base_runs);
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], "-")) {
			if (stdin_used)
				tool_usage_error(usage, "standard input ('-') can be one input only");
			stdin_used = true;
		}
	if (!(d = pd_diff_new(&o)))
		pd_die("out of memory");
	for (size_t i = 0; i < nr_rules; i++) {
		FILE *f = fopen(rules[i], "r");

		if (!f)
			pd_die("cannot open '%s': %s", rules[i], strerror(errno));
		if (pd_diff_read_rules(d, f, rules[i]) < 0)
			pd_die("%s", pd_diff_errmsg(d));
		fclose(f);
	}
	for (size_t i = 0; i < nr_fails; i++)
		if (pd_diff_add_fail(d, fails[i]) < 0)
			tool_usage_error(usage, "--fail-on: %s", pd_diff_errmsg(d));
	setvbuf(stdout, obuf, isatty(1) ? _IOLBF : _IOFBF, sizeof(obuf));

	for (int i = 0; i < argc; i++) {
		struct input in = { argv[i], (uint64_t)i < base_runs ? PD_DIFF_BASE : PD_DIFF_NEW, event, &so,
			o.weight_samples };

		side_file[in.side] = argv[i];
		if (read_input(d, &in) < 0) {
			status = PD_EXIT_TROUBLE;
			break;	/* one error line */
		}
	}
	for (int s = 0; s < 2; s++)
		pd_diff_info(d, s, &info[s]);
	for (int s = 0; s < 2 && status == PD_EXIT_OK; s++)
		if (!info[s].weight && !info[s].samples) {
			/* The side's last input names it (pddiff -h: BASE and NEW). */
			pd_error("'%s': %s has no samples: none up to its end at offset 0x%llx",
			    side_file[s], s ? "NEW" : "BASE", side_end[s]);
			status = PD_EXIT_TROUBLE;
		}
	if (status != PD_EXIT_OK) {
		pd_diff_free(d);
		free(rules);
		free(fails);
		return tool_finish(status);
	}
	for (int s = 0; s < 2; s++)
		if (info[s].samples_unknown)
			pd_warn("%s holds periods, not sample counts (weight=period folded stacks): no "
			    "significance test, the gate goes by --threshold alone; give perf.data or "
			    "pdcollapse output without --weight=period", s ? "NEW" : "BASE");
	/*
	 * A folded stream without a metadata line counts samples (pd-formats(5)),
	 * so pdflame and flamegraph.pl name its counts right: unless --weight
	 * says otherwise, it counts samples even where the shares count periods,
	 * when both sides know their sample counts.
	 */
	if (fmt == PD_DIFF_FOLDED && !weight_given && !o.weight_samples &&
	    !info[0].samples_unknown && !info[1].samples_unknown)
		flags |= PD_DIFF_FOLD_SAMPLES;
	if (!(flags & PD_DIFF_SCALE) && fmt == PD_DIFF_FOLDED &&
	    (info[0].runs != info[1].runs ||
	     (!o.weight_samples && !(flags & PD_DIFF_FOLD_SAMPLES) && info[0].periods != info[1].periods)))
		pd_note("BASE and NEW differ in %s; -n scales BASE to NEW's total",
		    info[0].runs != info[1].runs ? "number of runs" : "units");
	if (pd_diff_write(d, stdout, fmt, flags) < 0) {
		pd_error("%s", pd_diff_errmsg(d));
		status = PD_EXIT_TROUBLE;
	} else if (gate) {
		char *rep = NULL;
		size_t replen = 0;
		FILE *f = open_memstream(&rep, &replen);

		if (!f)
			pd_die("out of memory");
		nfail = pd_diff_gate(d, f);
		fclose(f);
		if (nfail < 0) {
			pd_error("%s", pd_diff_errmsg(d));
			status = PD_EXIT_TROUBLE;
		} else if (nfail > 0) {
			for (char *line = rep, *nl; line && *line; line = nl ? nl + 1 : NULL) {
				nl = strchr(line, '\n');
				if (nl)
					*nl = '\0';
				pd_error("%s", line);
			}
			status = PD_EXIT_DIFF;
		}
		free(rep);
	}
	pd_diff_free(d);
	free(rules);
	free(fails);
	return tool_finish(status);
}
