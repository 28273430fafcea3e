/*
 * pdflame - read folded stacks ("frame;frame;leaf COUNT", or two counts for
 * a differential graph) from files or standard input and write one
 * self-contained interactive SVG flame graph to standard output, with
 * flamegraph.pl's options and meanings.  Lines it cannot read are counted
 * and reported; input without a single count gives an error SVG and exit 2,
 * as flamegraph.pl does.  See pdflame(1) and pd-formats(5).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static const char usage[] =
    "usage: pdflame [-hqvV] [--title text] [--subtitle text] [--width px] [--height px]\n"
    "               [--minwidth px|percent%] [--fonttype font] [--fontsize px]\n"
    "               [--countname text] [--nametype text] [--colors palette]\n"
    "               [--bgcolors color] [--hash] [--cp | --palette-file file]\n"
    "               [--reverse] [--inverted] [--flamechart] [--negate] [--notes text]\n"
    "               [--total count] [--factor number] [file ...]";

enum {
	OPT_TITLE = 0x100, OPT_SUBTITLE, OPT_WIDTH, OPT_HEIGHT, OPT_MINWIDTH, OPT_FONTTYPE,
	OPT_FONTSIZE, OPT_COUNTNAME, OPT_NAMETYPE, OPT_COLORS, OPT_BGCOLORS, OPT_HASH,
	OPT_CP, OPT_PALETTE_FILE, OPT_REVERSE, OPT_INVERTED, OPT_FLAMECHART, OPT_NEGATE,
	OPT_NOTES, OPT_TOTAL, OPT_FACTOR,
};

static const struct tool_opt opts[] = {
	{ "title", required_argument, OPT_TITLE, "text", "title (default: Flame Graph)" },
	{ "subtitle", required_argument, OPT_SUBTITLE, "text", "second title line" },
	{ "width", required_argument, OPT_WIDTH, "px", "image width (default 1200)" },
	{ "height", required_argument, OPT_HEIGHT, "px", "frame height (default 16)" },
	{ "minwidth", required_argument, OPT_MINWIDTH, "px", "merge narrower frames, px or N% (default 0.1)" },
	{ "fonttype", required_argument, OPT_FONTTYPE, "font", "font family (default Verdana)" },
	{ "fontsize", required_argument, OPT_FONTSIZE, "px", "font size (default 12)" },
	{ "countname", required_argument, OPT_COUNTNAME, "text", "what counts are (default: samples, or the unit a metadata line names)" },
	{ "nametype", required_argument, OPT_NAMETYPE, "text", "what names are (default Function:)" },
	{ "colors", required_argument, OPT_COLORS, "palette", "hot mem io wakeup java js perl red green blue aqua yellow purple orange kind" },
	{ "bgcolors", required_argument, OPT_BGCOLORS, "color", "yellow, blue, green, grey or #rrggbb" },
	{ "hash", no_argument, OPT_HASH, NULL, "colours from a hash weighted to the first characters" },
	{ "cp", no_argument, OPT_CP, NULL, "consistent palette: read and update palette.map" },
	{ "palette-file", required_argument, OPT_PALETTE_FILE, "file", "consistent palette in file" },
	{ "reverse", no_argument, OPT_REVERSE, NULL, "reverse stacks: merge from the leaves" },
	{ "inverted", no_argument, OPT_INVERTED, NULL, "icicle graph: root at the top" },
	{ "flamechart", no_argument, OPT_FLAMECHART, NULL, "keep input order (time), do not merge" },
	{ "negate", no_argument, OPT_NEGATE, NULL, "swap differential hues (red and blue)" },
	{ "notes", required_argument, OPT_NOTES, "text", "add a notes comment to the SVG" },
	{ "total", required_argument, OPT_TOTAL, "count", "scale to this total when larger than the sum" },
	{ "factor", required_argument, OPT_FACTOR, "number", "multiply displayed counts by number" },
	{ NULL, 0, 0, NULL, NULL }
};

/* A number in (MIN, MAX]; "%" allowed at the end when PCT is not NULL. */
static double
number(const char *opt, const char *s, double min, double max, int *pct)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (pct && *end == '%' && end[1] == '\0') {
		*pct = 1;
		end++;
	}
	if (end == s || *end || errno || !(v > min) || v > max || *s == ' ')
		tool_usage_error(usage, "--%s takes a number, not '%s'", opt, s);
	return v;
}

static unsigned
whole(const char *opt, const char *s, uint64_t max)
{
	uint64_t v;

	if (pd_parse_u64(s, 1, max, &v) < 0)
		tool_usage_error(usage, "--%s takes a whole number from 1 to %llu, not '%s'", opt,
		    (unsigned long long)max, s);
	return (unsigned)v;
}

static int
read_one(struct pd_flame *f, const char *file)
{
	FILE *in = strcmp(file, "-") ? fopen(file, "r") : stdin;
	const struct pd_flame_stats *st = pd_flame_stats(f);
	uint64_t bad0 = st->bad, perf0 = st->perf_data;
	int rc;

	if (!in)
		return pd_error("cannot open '%s': %s", file, strerror(errno));
	rc = pd_flame_read(f, in);
	if (rc == PD_E_IO)
		pd_error("'%s': read error: %s", file, strerror(errno));
	else if (rc == PD_E_LIMIT && st->limit_line)
		pd_error("'%s': line %llu: %s at offset 0x%llx", file,
		    (unsigned long long)st->limit_line, PD_WEIGHT_OVERFLOW,
		    (unsigned long long)st->limit_offset);
	else if (rc < 0)
		pd_die("'%s': %s", file, pd_strerror(rc));
	if (rc >= 0 && st->perf_data > perf0) {
		/* pdflame perf.data, or pdrecord | pdflame: the one line that helps. */
		pd_error("'%s': perf.data, not folded stacks, at offset 0x0 (fold it with pdcollapse first)",
		    file);
		rc = -1;
	} else if (st->bad > bad0) {
		pd_warn("'%s': ignored %llu lines that are not 'stack count' (first: line %llu)",
		    file, (unsigned long long)(st->bad - bad0), (unsigned long long)st->bad_line[0]);
		if (tool_verbose)
			for (size_t i = 1; i < st->nr_bad_line; i++)
				pd_note("'%s': line %llu is not 'stack count'", file,
				    (unsigned long long)st->bad_line[i]);
	}
	if (in != stdin)
		fclose(in);
	/* A sum past 2^64-1: no later file can add to it; one error line. */
	return rc == PD_E_LIMIT ? -2 : rc < 0 ? -1 : 0;
}

static void
palette(struct pd_flame *f, const char *file, int write)
{
	FILE *fp = fopen(file, write ? "w" : "r");

	if (!fp) {
		if (!write && errno == ENOENT)
			return;
		pd_die("cannot open '%s': %s", file, strerror(errno));
	}
	if ((write ? pd_flame_palette_write(f, fp) : pd_flame_palette_read(f, fp)) < 0 ||
	    fclose(fp) != 0)
		pd_die("'%s': %s error", file, write ? "write" : "read");
}

int
main(int argc, char **argv)
{
	struct pd_flame_opts o;
	const struct pd_flame_stats *st;
	const char *pal = NULL;
	bool countname = false;
	struct pd_flame *f;
	int ch, rc, status = PD_EXIT_OK;
	uint64_t total;
	static char obuf[1 << 20];

	tool_init(argv[0]);
	pd_flame_opts_init(&o);
	while ((ch = tool_getopt(argc, argv, opts, usage,
	    "Draw folded stacks as an interactive SVG flame graph.")) != -1) {
		switch (ch) {
		case OPT_TITLE: o.title = optarg; break;
		case OPT_SUBTITLE: o.subtitle = optarg; break;
		case OPT_WIDTH: o.width = whole("width", optarg, 1000000); break;
		case OPT_HEIGHT: o.height = whole("height", optarg, 10000); break;
		case OPT_MINWIDTH:
			o.minwidth_pct = 0;
			o.minwidth = number("minwidth", optarg, -1, 1e9, &o.minwidth_pct);
			if (o.minwidth < 0 || (o.minwidth_pct && o.minwidth > 100))
				tool_usage_error(usage, "--minwidth takes a number, not '%s'", optarg);
			break;
		case OPT_FONTTYPE: o.fonttype = optarg; break;
		case OPT_FONTSIZE: o.fontsize = number("fontsize", optarg, 0, 1000, NULL); break;
		case OPT_COUNTNAME: o.countname = optarg; countname = true; break;
		case OPT_NAMETYPE: o.nametype = optarg; break;
		case OPT_COLORS:
			if (!pd_flame_palette_ok(optarg))
				tool_usage_error(usage, "--colors: no palette '%s'", optarg);
			o.colors = optarg;
			break;
		case OPT_BGCOLORS:
			if (!pd_flame_bgcolor_ok(optarg))
				tool_usage_error(usage, "--bgcolors takes yellow, blue, green, grey or #rrggbb, not '%s'", optarg);
			o.bgcolors = optarg;
			break;
		case OPT_HASH: o.hash = 1; break;
		case OPT_CP: pal = "palette.map"; break;
		case OPT_PALETTE_FILE: pal = optarg; break;
		case OPT_REVERSE: o.reverse = 1; break;
		case OPT_INVERTED: o.inverted = 1; break;
		case OPT_FLAMECHART: o.flamechart = 1; break;
		case OPT_NEGATE: o.negate = 1; break;
		case OPT_NOTES: o.notes = optarg; break;
		case OPT_TOTAL:
			if (pd_parse_u64(optarg, 1, UINT64_MAX, &total) < 0)
				tool_usage_error(usage, "--total takes a whole number, not '%s'", optarg);
			o.total = total;
			break;
		case OPT_FACTOR: o.factor = number("factor", optarg, 0, 1e18, NULL); break;
		default:
			tool_usage_error(usage, "unknown option");
		}
	}
	argc -= optind;
	argv += optind;
	if (o.width <= 20)
		tool_usage_error(usage, "--width must be more than 20");
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	f = pd_flame_new(&o);
	if (!f)
		pd_die("out of memory");
	if (argc == 0 && isatty(0))
		pd_note("reading folded stacks from the terminal");
	if (argc == 0 && read_one(f, "-") < 0)
		status = PD_EXIT_TROUBLE;
	for (int i = 0; i < argc; i++) {
		int r = read_one(f, argv[i]);

		if (r < 0)
			status = PD_EXIT_TROUBLE;
		if (r == -2)
			break;
	}
	if (pal)
		palette(f, pal, 0);
	st = pd_flame_stats(f);
	/* "pdcollapse --weight=period --header": nanoseconds or cycles, not samples. */
	if (!countname)
		o.countname = pd_flame_count_unit(f);
	rc = pd_flame_write(f, stdout);
	if (rc == PD_END) {
		/* One error line: an input that failed already said why. */
		if (status == PD_EXIT_OK)
			pd_error("no stack counts found in the input");
		status = PD_EXIT_TROUBLE;
	} else if (rc < 0) {
		pd_error("writing the SVG: %s", pd_strerror(rc));
		status = PD_EXIT_TROUBLE;
	} else if (pal) {
		palette(f, pal, 1);
	}
	if (st->total_ignored)
		pd_warn("--total %llu is less than the sum of the counts, %llu; ignored",
		    (unsigned long long)o.total, (unsigned long long)st->total);
	if (tool_verbose)
		fprintf(stderr, "pdflame: %llu lines: %llu stacks, %llu comments, %llu blank, "
		    "%llu unreadable; total %llu%s; %llu frames: %llu drawn, %llu omitted "
		    "in %llu elements and on %llu tooltips\n",
		    (unsigned long long)st->lines, (unsigned long long)st->stacks,
		    (unsigned long long)st->comments, (unsigned long long)st->blank,
		    (unsigned long long)st->bad, (unsigned long long)st->total,
		    st->diff ? " (differential)" : "", (unsigned long long)st->frames,
		    (unsigned long long)st->drawn, (unsigned long long)st->omitted,
		    (unsigned long long)st->omitted_elems, (unsigned long long)st->omitted_inline);
	pd_flame_free(f);
	return tool_finish(status);
}
