/*
 * common.c - the front-end helpers of every pdtools program (the role
 * libarchive_fe plays for bsdtar and bsdcat).
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

int tool_verbose;
int tool_quiet;
static char *saved_debuginfod;
int tool_usage_status = PD_EXIT_TROUBLE;
const char *tool_exit_help = "Exit status: 0 ok, 2 trouble (bad usage, unreadable or corrupt input).";
static const char *progname = "pdtools";

/*
 * A terminal is guarded against the input.  Names in perf.data and folded
 * text are bytes from elsewhere: an ESC sequence in a comm or a DSO path
 * would be run by the terminal (perf prints them raw; RELIABILITY.md 5).
 * When stdout or stderr is a terminal, it is replaced by a stream that
 * writes C0 controls (other than newline and tab), DEL and bytes that are
 * not UTF-8 as \xHH, and C1 controls and the bidirectional overrides as
 * \uHHHH.  Pipes and files get the bytes unchanged.
 */
struct tty_guard {
	int fd;
	bool midline;			/* the last byte written was not a newline */
	size_t ncarry;
	unsigned char carry[4];		/* an unfinished UTF-8 sequence */
};

/*
 * The length of the UTF-8 sequence at S (N bytes), its code point in *CP;
 * 0 when invalid; -1 when the N bytes are a valid start that needs more.
 */
static int
utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int len;
	uint32_t c;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	c = s[0] & (0x7f >> len);
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return -1;
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	*cp = c;
	return len;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Escape N bytes at S into the guard's fd; FINAL: no more bytes will follow. */
static int
guard_out(struct tty_guard *g, const unsigned char *s, size_t n, int final)
{
	char out[4096 + 16];
	size_t o = 0, i = 0;

	while (i < n) {
		uint32_t cp = 0;
		int len = s[i] < 0x80 ? 1 : utf8_seq(s + i, n - i, &cp);

		if (len < 0 && !final) {
			memcpy(g->carry, s + i, n - i);
			g->ncarry = n - i;
			break;
		}
		if (len == 1 && ((s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') || s[i] == 0x7f))
			o += (size_t)snprintf(out + o, 8, "\\x%02x", s[i]);
		else if (len == 1)
			out[o++] = (char)s[i];
		else if (len <= 0)
			o += (size_t)snprintf(out + o, 8, "\\x%02x", s[i]), len = 1;
		else if (cp < 0xa0 || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
			o += (size_t)snprintf(out + o, 8, "\\u%04x", (unsigned)cp);
		else
			memcpy(out + o, s + i, (size_t)len), o += (size_t)len;
		i += (size_t)len;
		if (o >= 4096) {
			if (write_all(g->fd, out, o) < 0)
				return -1;
			o = 0;
		}
	}
	return o ? write_all(g->fd, out, o) : 0;
}

static void tool_progress_clear(void);

static ssize_t
guard_write(void *cookie, const char *buf, size_t n)
{
	struct tty_guard *g = cookie;
	const unsigned char *s = (const unsigned char *)buf;
	size_t used = 0;

	/* Output to a terminal starts where the progress line was, not after it. */
	tool_progress_clear();
	if (n)
		g->midline = buf[n - 1] != '\n';

	/* Complete a sequence left over from the last write first. */
	while (g->ncarry && used < n) {
		unsigned char tmp[4];
		size_t k = g->ncarry;
		uint32_t cp;
		int len;

		memcpy(tmp, g->carry, k);
		tmp[k] = s[used++];
		g->ncarry = 0;
		len = utf8_seq(tmp, k + 1, &cp);
		if (len < 0) {
			memcpy(g->carry, tmp, k + 1);
			g->ncarry = k + 1;
		} else if (guard_out(g, tmp, k + 1, 0) < 0) {
			return -1;
		}
	}
	if (used < n && guard_out(g, s + used, n - used, 0) < 0)
		return -1;
	return (ssize_t)n;
}

static int
guard_close(void *cookie)
{
	struct tty_guard *g = cookie;
	return g->ncarry ? guard_out(g, g->carry, g->ncarry, 1) : 0;
}

/*
 * Static: the streams live until exit, which flushes them but does not
 * close them, so a malloc'd cookie would be reported as a leak.
 */
static struct tty_guard guards[3];

/* The progress line on the screen (tool_progress_start and below). */
static struct {
	bool tty;			/* stderr is a terminal */
	bool shown;
	size_t len;			/* of the line on the screen */
	struct timespec start, last;	/* of this input; of the last line */
	uint64_t base, done;		/* bytes read at start and now */
	char name[256];			/* this input's */
} prog;

static FILE *
guard_stream(FILE *old, int fd, int mode)
{
	cookie_io_functions_t io = { .write = guard_write, .close = guard_close };
	struct tty_guard *g = &guards[fd];
	FILE *f;

	if (!isatty(fd))
		return old;
	g->fd = fd;
	if (!(f = fopencookie(g, "w", io)))
		return old;
	setvbuf(f, NULL, mode, BUFSIZ);
	return f;
}

void
tool_init(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	progname = slash ? slash + 1 : argv0;
	/* Output is locale-independent: numbers in the C locale. */
	setlocale(LC_ALL, "C");
	/* "pdcollapse ... | head" ends quietly, as other filters do. */
	signal(SIGPIPE, SIG_DFL);
	fflush(stdout);
	stdout = guard_stream(stdout, STDOUT_FILENO, _IOLBF);
	stderr = guard_stream(stderr, STDERR_FILENO, _IONBF);
	/*
	 * libdwfl asks debuginfod servers for every build-id when
	 * DEBUGINFOD_URLS is set; a hostile perf.data must not make us send its
	 * build-ids over the network or wait on it.  --debuginfod opts back in
	 * (tool_allow_debuginfod).
	 */
	if (getenv("DEBUGINFOD_URLS") && !saved_debuginfod)
		saved_debuginfod = strdup(getenv("DEBUGINFOD_URLS"));
	unsetenv("DEBUGINFOD_URLS");
}

void
tool_allow_debuginfod(void)
{
	if (saved_debuginfod)
		setenv("DEBUGINFOD_URLS", saved_debuginfod, 1);
}

/*
 * The progress line: "TOOL: NAME  42%  120.3 of 286.0 MB  95 MB/s", or
 * without the share and size for a pipe, redrawn in place with \r at most
 * ten times a second.  It is written to fd 2 directly, not through the
 * terminal guard (which would escape the \r); the name is made printable,
 * and the line is cut to the terminal's width so that it never wraps.
 * Each input has its own line (its name, share and rate).
 */
int tool_progress;

#define PROGRESS_MIN_BYTES (8u << 20)
#define PROGRESS_MAX	160		/* bytes of the line at most */

static double
since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void
progress_put(const char *line, size_t n)
{
	char buf[2 * PROGRESS_MAX + 2];
	size_t k = 0;

	buf[k++] = '\r';
	memcpy(buf + k, line, n);
	k += n;
	/* Blank out what is left of a longer previous line. */
	for (size_t i = n; i < prog.len && k < sizeof(buf); i++)
		buf[k++] = ' ';
	(void)write_all(STDERR_FILENO, buf, k);
	prog.len = n;
}

/*
 * Not over a partial line of output on the same terminal (the guard of
 * stdout knows), and not from the background (as pv), unless forced.
 */
static bool
progress_may_draw(void)
{
	pid_t fg;

	if (guards[STDOUT_FILENO].fd == STDOUT_FILENO && guards[STDOUT_FILENO].midline)
		return false;
	if (!tool_progress && (fg = tcgetpgrp(STDERR_FILENO)) > 0 && fg != getpgrp())
		return false;
	return true;
}

/* Append S to LINE (length *N) up to WIDTH bytes. */
static void
add(char *line, size_t *n, size_t width, const char *s)
{
	while (*s && *n < width)
		line[(*n)++] = *s++;
}

static void
progress_cb(const char *name, uint64_t done, uint64_t total, void *ctx)
{
	struct timespec now;
	struct winsize ws;
	char line[PROGRESS_MAX + 1], stats[64], rate[32] = "";
	size_t n = 0, width = PROGRESS_MAX, fixed, room, nl = strlen(name);
	double secs;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (done < prog.done || strncmp(name, prog.name, sizeof(prog.name) - 1) != 0) {
		/* Another input: its rate from here. */
		snprintf(prog.name, sizeof(prog.name), "%s", name);
		prog.start = now;
		prog.base = done;
	}
	prog.done = done;
	if (!prog.shown && !tool_progress && (total ? total : done) < PROGRESS_MIN_BYTES)
		return;
	if (prog.shown && since(&prog.last, &now) < 0.1 && (!total || done < total))
		return;
	if (!progress_may_draw())
		return;
	prog.last = now;
	if (prog.tty && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
	    (size_t)ws.ws_col - 1 < width)
		width = (size_t)ws.ws_col - 1;	/* the last column would wrap on some terminals */
	if (total)
		snprintf(stats, sizeof(stats), "  %3u%%  %.1f of %.1f MB", (unsigned)(done * 100 / total),
		    (double)done / 1e6, (double)total / 1e6);
	else
		snprintf(stats, sizeof(stats), "  %.1f MB", (double)done / 1e6);
	secs = since(&prog.start, &now);
	if (secs >= 0.05)
		snprintf(rate, sizeof(rate), "  %.0f MB/s", (double)(done - prog.base) / 1e6 / secs);
	/* Too narrow: no rate, then the share alone, then the tail of the name. */
	fixed = strlen(progname) + 2;
	if (fixed + strlen(stats) + strlen(rate) + 16 > width)
		rate[0] = '\0';
	if (total && fixed + strlen(stats) + 16 > width)
		stats[6] = '\0';	/* "  42%" */
	fixed += strlen(stats) + strlen(rate);
	room = width > fixed ? width - fixed : 0;
	if (room < 8)
		room = 8;
	add(line, &n, width, progname);
	add(line, &n, width, ": ");
	if (nl > room) {
		add(line, &n, width, "...");
		name += nl - (room > 3 ? room - 3 : 0);
	}
	for (; *name && n < width; name++)
		line[n++] = (unsigned char)*name < 0x20 || (unsigned char)*name >= 0x7f ? '?' : *name;
	add(line, &n, width, stats);
	add(line, &n, width, rate);
	progress_put(line, n);
	prog.shown = true;
}

static void
tool_progress_clear(void)
{
	char buf[PROGRESS_MAX + 3];
	size_t k = 0;

	if (!prog.shown)
		return;
	buf[k++] = '\r';
	while (k < prog.len + 1 && k < sizeof(buf) - 1)
		buf[k++] = ' ';
	buf[k++] = '\r';
	(void)write_all(STDERR_FILENO, buf, k);
	prog.shown = false;
	prog.len = 0;
}

static void
progress_atexit(void)
{
	tool_progress_clear();
}

void
tool_progress_start(void)
{
	prog.tty = isatty(STDERR_FILENO);
	if (!tool_progress && (tool_quiet || !prog.tty))
		return;
	atexit(progress_atexit);
	pd_set_progress(progress_cb, NULL);
}

static void vmsg(const char *prefix, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void
vmsg(const char *prefix, const char *fmt, va_list ap)
{
	tool_progress_clear();
	fflush(stdout);
	fprintf(stderr, "%s: %s", progname, prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
pd_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	exit(tool_usage_status);
}

int
pd_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	return -1;
}

void
pd_warn(const char *fmt, ...)
{
	va_list ap;

	if (tool_quiet)
		return;
	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

int
tool_reader_report(const struct pd_reader *r, int rc, const char *notread)
{
	const struct pd_stats *st = pd_reader_stats(r);
	unsigned long long unread = st->samples_unknown_id + st->samples_bad;
	const char *w = pd_reader_warning(r);

	if (rc < 0 && rc != PD_E_CALLBACK) {
		if (unread)
			pd_error("%s; %llu sample%s could not be read", pd_reader_errmsg(r), unread,
			    unread == 1 ? "" : "s");
		else
			pd_error("%s", pd_reader_errmsg(r));
		return PD_EXIT_TROUBLE;
	}
	if (!w[0] && !st->lost && !st->lost_samples && !unread)
		return PD_EXIT_OK;
	{
		char line[8192];
		size_t n = 0;

		/* Each part names the file, as the reader's warnings do. */
		if (w[0])
			n += (size_t)snprintf(line, sizeof(line), "%s", w);
		if ((st->lost || st->lost_samples) && n < sizeof(line))
			n += (size_t)snprintf(line + n, sizeof(line) - n,
			    "%s'%s': the kernel lost %llu events and %llu samples while recording",
			    n ? "; " : "", pd_reader_name(r), (unsigned long long)st->lost,
			    (unsigned long long)st->lost_samples);
		if (unread && n < sizeof(line))
			snprintf(line + n, sizeof(line) - n,
			    "%s'%s': %llu sample%s could not be read%s%s", n ? "; " : "",
			    pd_reader_name(r), unread, unread == 1 ? "" : "s", notread ? " and " : "",
			    notread ? notread : "");
		pd_warn("%s", line);
	}
	return PD_EXIT_OK;
}

void
pd_note(const char *fmt, ...)
{
	va_list ap;

	if (tool_quiet)
		return;
	va_start(ap, fmt);
	vmsg("note: ", fmt, ap);
	va_end(ap);
}

void
pd_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

static const struct tool_opt common_opts[] = {
	{ "help", no_argument, 'h', NULL, "show this help and exit" },
	{ "version", no_argument, 'V', NULL, "show the version and exit" },
	{ "quiet", no_argument, 'q', NULL, "print no warnings or notes" },
	{ "verbose", no_argument, 'v', NULL, "print a summary of what was read to stderr" },
};
#define NR_COMMON (sizeof(common_opts) / sizeof(common_opts[0]))

static size_t
count_opts(const struct tool_opt *o)
{
	size_t n = 0;

	while (o[n].name)
		n++;
	return n;
}

static void
print_opt(FILE *f, const struct tool_opt *o)
{
	char left[64];

	if (o->val > 0 && o->val < 128)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", o->val, o->name,
		    o->has_arg ? " " : "", o->has_arg ? (o->argkind ? o->argkind : "arg") : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", o->name,
		    o->has_arg ? " " : "", o->has_arg ? (o->argkind ? o->argkind : "arg") : "");
	fprintf(f, "  %-30s %s\n", left, o->help);
}

static void
list_options(const struct tool_opt *opts)
{
	const struct tool_opt *sets[2] = { opts, common_opts };
	size_t ns[2] = { count_opts(opts), NR_COMMON };

	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < ns[s]; i++) {
			const struct tool_opt *o = &sets[s][i];

			printf("%s\t%c\t%s\t%s\n", o->name, o->val > 0 && o->val < 128 ? o->val : '-',
			    o->has_arg ? (o->argkind ? o->argkind : "arg") : "-", o->help);
		}
}

void
tool_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", usage);
	exit(tool_usage_status);
}

static struct option *lo;
static char shorts[128];

static void
build_opts(const struct tool_opt *opts)
{
	size_t n = count_opts(opts), k = 0, s = 0;

	if (lo)
		return;
	lo = calloc(n + NR_COMMON + 2, sizeof(*lo));
	if (!lo)
		pd_die("out of memory");
	shorts[s++] = ':';
	for (size_t i = 0; i < n + NR_COMMON; i++) {
		const struct tool_opt *o = i < n ? &opts[i] : &common_opts[i - n];

		lo[k++] = (struct option){ o->name, o->has_arg, NULL, o->val };
		if (o->val > 0 && o->val < 128 && s + 3 < sizeof(shorts)) {
			shorts[s++] = (char)o->val;
			if (o->has_arg == required_argument)
				shorts[s++] = ':';
		}
	}
	lo[k++] = (struct option){ "list-options", no_argument, NULL, 0x1000 };
	shorts[s] = '\0';
}

int
tool_first_operand(int argc, char **argv, const struct tool_opt *opts)
{
	int first;

	build_opts(opts);
	opterr = 0;
	while (getopt_long(argc, argv, shorts, lo, NULL) != -1)
		;
	first = optind;
	optind = 0;	/* glibc: start the next scan afresh */
	return first;
}

int
tool_getopt(int argc, char **argv, const struct tool_opt *opts, const char *usage,
    const char *summary)
{
	size_t n = count_opts(opts);
	int ch;

	build_opts(opts);
	for (;;) {
		int idx = -1;

		opterr = 0;
		ch = getopt_long(argc, argv, shorts, lo, &idx);
		switch (ch) {
		case 'h':
			printf("%s\n\n%s\n\nOptions:\n", usage, summary);
			for (size_t i = 0; i < n; i++)
				print_opt(stdout, &opts[i]);
			for (size_t i = 0; i < NR_COMMON; i++)
				print_opt(stdout, &common_opts[i]);
			printf("\n%s\n", tool_exit_help);
			exit(tool_finish(PD_EXIT_OK));
		case 'V':
			printf("%s %s\n", progname, PD_VERSION);
			exit(tool_finish(PD_EXIT_OK));
		case 'q':
			tool_quiet = 1;
			continue;
		case 'v':
			tool_verbose++;
			continue;
		case TOOL_OPT_PROGRESS_VAL:
			tool_progress = 1;
			continue;
		case 0x1000:
			list_options(opts);
			exit(tool_finish(PD_EXIT_OK));
		case ':':
			tool_usage_error(usage, "option '%s' needs an argument", argv[optind - 1]);
		case '?':
			if (optopt && optopt < 128 && optopt != '?')
				tool_usage_error(usage, "unknown option '-%c'", optopt);
			tool_usage_error(usage, "unknown option '%s'", argv[optind - 1]);
		default:
			return ch;
		}
	}
}

/*
 * The first bytes of FD without consuming them: pread for a file, tee(2)
 * for a pipe.  Returns how many (up to LEN), or -1 when it cannot tell.
 */
static ssize_t
peek(int fd, unsigned char *buf, size_t len)
{
	struct stat st;
	int p[2];
	ssize_t n = -1;

	if (fstat(fd, &st) < 0)
		return -1;
	if (S_ISREG(st.st_mode))
		return pread(fd, buf, len, 0);
	if (!S_ISFIFO(st.st_mode) || pipe(p) < 0)
		return -1;
	for (int tries = 0; tries < 10000; tries++) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t k;

		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		k = tee(fd, p[1], len, SPLICE_F_NONBLOCK);
		if (k < 0 && errno != EAGAIN)
			break;
		if (k <= 0 && (pfd.revents & POLLHUP)) {
			n = 0;
			break;
		}
		if (k > 0) {
			n = read(p[0], buf, (size_t)k);
			/* A writer that has sent less so far: look again. */
			if (n < 0 || (size_t)n >= len || (pfd.revents & POLLHUP))
				break;
		}
		usleep(1000);
	}
	close(p[0]);
	close(p[1]);
	return n;
}

const char *
tool_default_input(void)
{
	struct stat st;

	if (fstat(STDIN_FILENO, &st) < 0)
		return "perf.data";
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
		return "-";
	/* "pdtop < x.data" with no ./perf.data: say why standard input is not read. */
	if (S_ISREG(st.st_mode) && st.st_size > 0 && access("perf.data", F_OK) < 0)
		pd_note("standard input is a file, not a pipe: with no file operand the input is "
		    "./perf.data, as in perf; give the file's name, or '-' to read standard input");
	return "perf.data";
}

ssize_t
tool_peek_input(const char *file, int *keep_fd, unsigned char *buf, size_t len)
{
	*keep_fd = -1;
	if (!strcmp(file, "-"))
		return peek(0, buf, len);
	*keep_fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	return *keep_fd < 0 ? -1 : peek(*keep_fd, buf, len);
}

char *
tool_read_all(int fd, size_t *len)
{
	char *buf = NULL;
	size_t alloc = 0, n = 0;

	for (;;) {
		ssize_t k;

		if (n + 65536 + 1 > alloc) {
			char *nb;

			alloc = alloc ? alloc * 2 : 1 << 20;
			if (!(nb = realloc(buf, alloc)))
				pd_die("out of memory");
			buf = nb;
		}
		k = read(fd, buf + n, alloc - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;

			free(buf);
			errno = e;
			return NULL;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

unsigned
tool_max_stack(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_max_stack", "re");
	unsigned v = 0;

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

int
tool_finish(int status)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			return status;
		fprintf(stderr, "%s: write error: %s\n", progname, strerror(errno));
		return PD_EXIT_TROUBLE;
	}
	return status;
}
