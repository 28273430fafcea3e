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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

int tool_verbose;
int tool_quiet;
static char *saved_debuginfod;
int tool_usage_status = PD_EXIT_TROUBLE;
const char *tool_exit_help = "Exit status: 0 ok, 2 trouble (bad usage, unreadable or corrupt input).";
static const char *progname = "pdtools";

void
tool_init(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	progname = slash ? slash + 1 : argv0;
	/* Output is locale-independent: numbers in the C locale. */
	setlocale(LC_ALL, "C");
	/* "pdcollapse ... | head" ends quietly, as other filters do. */
	signal(SIGPIPE, SIG_DFL);
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

static void vmsg(const char *prefix, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void
vmsg(const char *prefix, const char *fmt, va_list ap)
{
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
