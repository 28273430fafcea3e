/*
 * pdtop - top-N tables of a profile with perf report's numbers: symbols,
 * DSOs, commands, processes or threads by self or children overhead, from
 * perf.data (file or pipe form) or folded stacks, told apart by content.
 * Text like perf report --stdio, or fixed TSV and JSON layouts for scripts;
 * --health says how far the profile can be trusted.  See pdtop(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static const char usage[] =
    "usage: pdtop [-hqvV] [-n N] [--percent-limit P] [--children | --no-children]\n"
    "             [-s key[,key ...]] [--weight period|samples] [--comm list] [--dso list]\n"
    "             [--symbol list] [--pid list] [--tid list] [--percentage relative|absolute]\n"
    "             [--event name|all] [--format text|tsv|json] [--health] [--inline | --no-inline]\n"
    "             [--lines] [--no-demangle] [--symfs dir] [--kallsyms file] [--debuginfod]\n"
    "             [--progress] [file]";

enum {
	OPT_PERCENT_LIMIT = 0x100, OPT_CHILDREN, OPT_NO_CHILDREN, OPT_WEIGHT, OPT_COMM, OPT_DSO,
	OPT_SYMBOL, OPT_PID, OPT_TID, OPT_PERCENTAGE, OPT_EVENT, OPT_FORMAT, OPT_HEALTH,
	OPT_NO_DEMANGLE, OPT_SYMFS, OPT_KALLSYMS, OPT_DEBUGINFOD, OPT_INLINE, OPT_LINES,
	OPT_NO_INLINE,
};

static const struct tool_opt opts[] = {
	{ "rows", required_argument, 'n', "N", "print the first N rows of each table" },
	{ "percent-limit", required_argument, OPT_PERCENT_LIMIT, "P", "hide rows under P percent" },
	{ "children", no_argument, OPT_CHILDREN, NULL, "add the overhead of callees (default with call chains)" },
	{ "no-children", no_argument, OPT_NO_CHILDREN, NULL, "self overhead only" },
	{ "sort", required_argument, 's', "symbol|dso|comm|pid|tid", "sort keys, comma-separated (default: comm,dso,symbol)" },
	{ "weight", required_argument, OPT_WEIGHT, "period|samples", "percentages of periods (default) or sample counts" },
	{ "comm", required_argument, OPT_COMM, "list", "only samples of these commands" },
	{ "dso", required_argument, OPT_DSO, "list", "only samples in these DSOs" },
	{ "symbol", required_argument, OPT_SYMBOL, "list", "only samples in these symbols" },
	{ "pid", required_argument, OPT_PID, "list", "only samples of these processes" },
	{ "tid", required_argument, OPT_TID, "list", "only samples of these threads" },
	{ "percentage", required_argument, OPT_PERCENTAGE, "relative|absolute", "with filters: of the rows shown, or of all samples (default)" },
	{ "event", required_argument, OPT_EVENT, "event", "one event's table, or all (default)" },
	{ "format", required_argument, OPT_FORMAT, "text|tsv|json", "perf-like text (default), or fixed layouts for scripts" },
	{ "health", no_argument, OPT_HEALTH, NULL, "say how far the profile can be trusted" },
	{ "inline", no_argument, OPT_INLINE, NULL, "count the functions inlined at each frame as rows (DWARF)" },
	{ "no-inline", no_argument, OPT_NO_INLINE, NULL, "no (inlined) rows for --call-graph dwarf chains, as perf report --no-inline" },
	{ "lines", no_argument, OPT_LINES, NULL, "name symbols func (file:line) (DWARF)" },
	{ "no-demangle", no_argument, OPT_NO_DEMANGLE, NULL, "print C++ and Rust names as mangled" },
	{ "symfs", required_argument, OPT_SYMFS, "dir", "look for binaries and debug files under dir" },
	{ "kallsyms", required_argument, OPT_KALLSYMS, "file", "kernel symbols from file, not /proc/kallsyms" },
	{ "debuginfod", no_argument, OPT_DEBUGINFOD, NULL, "ask the DEBUGINFOD_URLS servers for missing debug files" },
	TOOL_OPT_PROGRESS,
	{ NULL, 0, 0, NULL, NULL }
};

struct run {
	struct pd_top *top;
	struct pd_session *session;
	struct pd_reader *r;
	bool begun;
	int error;
};

static int
on_sample(void *ctx, const struct pd_sample *s)
{
	struct run *ru = ctx;

	if (!ru->begun) {
		ru->begun = true;
		if ((ru->error = pd_top_begin(ru->top, ru->r)) < 0)
			return -1;
	}
	if ((ru->error = pd_top_add(ru->top, ru->session, s)) < 0)
		return -1;
	return 0;
}

static int
run_folded(struct pd_top *top, const char *file)
{
	FILE *in = strcmp(file, "-") ? fopen(file, "r") : stdin;
	int rc;

	if (!in)
		return pd_error("cannot open '%s': %s", file, strerror(errno));
	rc = pd_top_read_folded(top, in, strcmp(file, "-") ? file : "<stdin>");
	if (in != stdin)
		fclose(in);
	if (rc < 0)
		return pd_error("%s", pd_top_errmsg(top));
	return 0;
}

/*
 * Read FILE into TOP.  On damage the samples before it still count, so the
 * tables are printed and the exit status is 2; *READ says whether there is
 * anything to print.
 */
static int
run_perf(struct pd_top *top, const char *file, const struct pd_session_opts *so, bool *read)
{
	struct pd_reader *r = pd_reader_new();
	struct pd_session *s = pd_session_new(so);
	struct run ru = { top, s, r, false, 0 };
	const struct pd_stats *st;
	int rc, status = 0;

	if (!r || !s)
		pd_die("out of memory");
	if (pd_reader_open(r, file, 0) < 0) {
		status = pd_error("%s", pd_reader_errmsg(r));
		goto out;
	}
	rc = pd_session_run(s, r, on_sample, &ru);
	if (ru.error < 0) {
		status = pd_error("%s", pd_top_errmsg(top));
		goto out;
	}
	if (pd_top_finish(top, s, r) < 0) {
		status = pd_error("%s", pd_top_errmsg(top));
		goto out;
	}
	*read = true;
	/* One line: a damaged file's error (with the samples not read), or one warning. */
	if (tool_reader_report(r, rc, "are not counted") != PD_EXIT_OK) {
		status = -1;
		goto out;
	}
	st = pd_reader_stats(r);
	if (tool_verbose)
		pd_info("%s: %llu samples read, %llu of other events, %llu records, "
		    "%llu out of order", pd_reader_name(r), (unsigned long long)st->samples,
		    (unsigned long long)pd_top_other_event(top), (unsigned long long)st->records,
		    (unsigned long long)st->out_of_order);
out:
	pd_session_free(s);
	pd_reader_free(r);
	return status;
}

static double
parse_percent(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 100))
		tool_usage_error(usage, "--percent-limit takes a number from 0 to 100, not '%s'", s);
	return v;
}

int
main(int argc, char **argv)
{
	struct pd_top_opts o = { .children = -1 };
	struct pd_top_print pr = { PD_TOP_TEXT, 0, 0 };
	/*
	 * Rows are named by the symbol table, as perf report's self column
	 * names them; the children of --call-graph dwarf chains add perf's
	 * "func (inlined)" rows (DWARF read for them), unless --no-inline.
	 */
	struct pd_session_opts so = { 0 };
	const char *sort = NULL, *filters[PD_TOP_MAX_KEYS] = { NULL };
	const char *file;
	unsigned char head[16];
	ssize_t nh;
	struct pd_top *top;
	int ch, status, peek_fd = -1;
	bool read = false;
	static char obuf[1 << 16];

	tool_init(argv[0]);
	while ((ch = tool_getopt(argc, argv, opts, usage,
	    "Print the top symbols, DSOs or commands of a profile, with perf report's numbers.")) != -1) {
		switch (ch) {
		case 'n':
			if (pd_parse_u64(optarg, 1, UINT64_MAX, &pr.rows) < 0)
				tool_usage_error(usage, "-n takes a positive number, not '%s'", optarg);
			break;
		case 's': sort = optarg; break;
		case OPT_PERCENT_LIMIT: pr.percent_limit = parse_percent(optarg); break;
		case OPT_CHILDREN: o.children = 1; break;
		case OPT_NO_CHILDREN: o.children = 0; break;
		case OPT_WEIGHT:
			if (strcmp(optarg, "period") && strcmp(optarg, "samples"))
				tool_usage_error(usage, "--weight takes period or samples, not '%s'", optarg);
			o.weight_samples = !strcmp(optarg, "samples");
			break;
		case OPT_COMM: filters[PD_TOP_COMM] = optarg; break;
		case OPT_DSO: filters[PD_TOP_DSO] = optarg; break;
		case OPT_SYMBOL: filters[PD_TOP_SYMBOL] = optarg; break;
		case OPT_PID: filters[PD_TOP_PID] = optarg; break;
		case OPT_TID: filters[PD_TOP_TID] = optarg; break;
		case OPT_PERCENTAGE:
			if (strcmp(optarg, "relative") && strcmp(optarg, "absolute"))
				tool_usage_error(usage, "--percentage takes relative or absolute, not '%s'", optarg);
			o.relative = !strcmp(optarg, "relative");
			break;
		case OPT_EVENT: o.event = optarg; break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "text"))
				pr.format = PD_TOP_TEXT;
			else if (!strcmp(optarg, "tsv"))
				pr.format = PD_TOP_TSV;
			else if (!strcmp(optarg, "json"))
				pr.format = PD_TOP_JSON;
			else
				tool_usage_error(usage, "--format takes text, tsv or json, not '%s'", optarg);
			break;
		case OPT_HEALTH: o.health = 1; break;
		case OPT_INLINE: so.inline_frames = 1; so.no_inline = 0; break;
		case OPT_NO_INLINE: so.no_inline = 1; so.inline_frames = 0; break;
		case OPT_LINES: so.srclines = 1; break;
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
	if (argc > 1)
		tool_usage_error(usage, "one input at most");
	o.max_stack = tool_max_stack();	/* as many frames as the kernel records */
	top = pd_top_new(&o);
	if (!top)
		pd_die("out of memory");
	if (sort && pd_top_set_sort(top, sort) < 0)
		tool_usage_error(usage, "%s", pd_top_errmsg(top));
	for (int k = 0; k < PD_TOP_MAX_KEYS; k++)
		if (filters[k] && pd_top_set_filter(top, (enum pd_top_key)k, filters[k]) < 0)
			tool_usage_error(usage, "%s", pd_top_errmsg(top));
	setvbuf(stdout, obuf, isatty(1) ? _IOLBF : _IOFBF, sizeof(obuf));

	/* As perf report: standard input when it is a pipe or a socket. */
	file = argc ? argv[0] : tool_default_input();
	nh = tool_peek_input(file, &peek_fd, head, sizeof(head));
	/* Folded stacks are text; anything else goes to the perf.data reader and its messages. */
	if (nh > 0 && pd_top_sniff(head, (size_t)nh) == 0 && (so.inline_frames || so.srclines))
		status = pd_error("'%s': --inline and --lines read perf.data, not folded stacks",
		    strcmp(file, "-") ? file : "<stdin>");
	else if (nh > 0 && pd_top_sniff(head, (size_t)nh) == 0)
		read = (status = run_folded(top, file)) == 0;
	else
		status = run_perf(top, file, &so, &read);
	if (read) {
		int rc = o.health ? pd_top_write_health(top, stdout) : pd_top_write(top, stdout, &pr);

		if (rc < 0 && rc != PD_E_IO)
			status = pd_error("%s", pd_top_errmsg(top));
		else if (rc == PD_E_IO)
			status = -1;	/* tool_finish reports it */
	}
	pd_top_free(top);
	if (peek_fd >= 0)
		close(peek_fd);
	return tool_finish(status < 0 ? PD_EXIT_TROUBLE : PD_EXIT_OK);
}
