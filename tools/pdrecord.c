/*
 * pdrecord - sample a command, processes or the whole system with
 * perf_event_open(2) and write perf.data that perf 6.1, pdcollapse and the
 * other pdtools read: a file (perf.data, the old one kept as perf.data.old)
 * or, into a pipe, perf's pipe form.  Its exit status is the command's, as
 * with env(1) and timeout(1).  See pdrecord(1).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static const char usage[] =
    "usage: pdrecord [-agqvVz] [-o file] [-F hz|max | -c period] [-e event[,event ...]]\n"
    "                [--call-graph fp|dwarf[,size]] [--no-inherit] [-m pages]\n"
    "                [--compression-level n] [-p pid[,pid ...]] [--duration secs]\n"
    "                [--] [command [arg ...]]";

enum {
	OPT_CALL_GRAPH = 0x100, OPT_NO_INHERIT, OPT_DURATION, OPT_ZLEVEL,
};

static const struct tool_opt opts[] = {
	{ "output", required_argument, 'o', "file", "write to file (default perf.data, or stdout when it is a pipe)" },
	{ "freq", required_argument, 'F', "hz", "samples per second, or max (default 4000)" },
	{ "count", required_argument, 'c', "period", "sample every period events" },
	{ "event", required_argument, 'e', "event",
	  "events to sample, comma-separated (default cycles), or subsys:tracepoint" },
	{ "callchain", no_argument, 'g', NULL, "record frame-pointer call chains" },
	{ "call-graph", required_argument, OPT_CALL_GRAPH, "fp|dwarf",
	  "call chains by frame pointers, or dwarf[,size] (user stack copies, 8192)" },
	{ "pid", required_argument, 'p', "pid", "attach to these existing processes, comma-separated" },
	{ "all-cpus", no_argument, 'a', NULL, "sample every CPU and task (system-wide)" },
	{ "duration", required_argument, OPT_DURATION, "secs", "stop after secs seconds" },
	{ "no-inherit", no_argument, OPT_NO_INHERIT, NULL, "do not follow the command's children" },
	{ "mmap-pages", required_argument, 'm', "pages", "ring buffer pages per CPU (128)" },
	{ "compress", no_argument, 'z', NULL, "write zstd-compressed records (level 1)" },
	{ "compression-level", required_argument, OPT_ZLEVEL, "n", "write zstd-compressed records at level n (1-22)" },
	{ NULL, 0, 0, NULL, NULL }
};

enum { EXIT_FAIL = 125, EXIT_CANNOT_RUN = 126, EXIT_NOT_FOUND = 127 };

static volatile sig_atomic_t stop_sig;

static void
on_signal(int sig)
{
	stop_sig = sig;
}

/* Only to interrupt poll(2) when the command ends. */
static void
on_child(int sig)
{
	(void)sig;
}

static void
note(void *ctx, const char *msg)
{
	(void)ctx;
	pd_note("%s", msg);
}

static uint64_t
max_rate(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_max_sample_rate", "re");
	unsigned long long v = 0;

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v ? v : 1000;
}

static unsigned
force_flags(void)
{
	const char *s = getenv("PDRECORD_FORCE_FALLBACK");
	unsigned f = 0;

	if (!s)
		return 0;
	if (strstr(s, "hw"))
		f |= PD_RECORD_FORCE_HW;
	if (strstr(s, "kernel"))
		f |= PD_RECORD_FORCE_KERNEL;
	if (strstr(s, "perm"))
		f |= PD_RECORD_FORCE_PERM;
	return f;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Why OUT cannot be created (ERR), in the user's words: the path given, not
 * the temporary name, and which directory is missing or not writable.
 */
static void
out_error(const char *out, int err)
{
	const char *slash = strrchr(out, '/');
	int dlen = slash ? (slash == out ? 1 : (int)(slash - out)) : 1;
	const char *dir = slash ? out : ".";

	if (err == ENOTDIR)
		pd_error("cannot create '%s': '%.*s' is not a directory; give another -o", out, dlen, dir);
	else if (err == ENOENT)
		pd_error("cannot create '%s': the directory '%.*s' does not exist; create it first, or "
		    "give another -o", out, dlen, dir);
	else if (err == EACCES || err == EROFS)
		pd_error("cannot create '%s': the directory '%.*s' is not writable (%s); give another -o",
		    out, dlen, dir, strerror(err));
	else
		pd_error("cannot create '%s': %s", out, strerror(err));
}

/*
 * The temporary file: ".NAME.pdrecord-XXXXXX" in NAME's directory (NAME cut
 * to 200 bytes), made by mkostemp(3) (a name nobody can guess, mode 0600,
 * never through a symlink) and held under flock(2) for as long as pdrecord
 * runs.  A temporary whose lock is free was left by a pdrecord that was
 * killed (SIGKILL); the next pdrecord writing NAME removes it, with a warning.
 */
#define TEMP_MARK ".pdrecord-"
#define TEMP_NAME_MAX 200

static char tmp[PATH_MAX + 64];	/* the temporary, while it is ours to remove */
static pid_t tmp_owner;

/* Every exit that runs code (errors, pd_die) removes the temporary. */
static void
drop_temp(void)
{
	if (tmp[0] && getpid() == tmp_owner)
		unlink(tmp);
	tmp[0] = '\0';
}

static int
temp_prefix(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;

	return snprintf(buf, len, ".%.*s" TEMP_MARK, TEMP_NAME_MAX, base);
}

static int
open_temp(const char *path)
{
	const char *slash = strrchr(path, '/');
	int dlen = slash ? (int)(slash - path + 1) : 0;
	char prefix[TEMP_NAME_MAX + 16];

	temp_prefix(path, prefix, sizeof(prefix));
	for (int i = 0; i < 10; i++) {
		struct stat a, b;
		int fd, lk;

		snprintf(tmp, sizeof(tmp), "%.*s%sXXXXXX", dlen, path, prefix);
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0) {
			tmp[0] = '\0';
			return -1;
		}
		tmp_owner = getpid();
		lk = flock(fd, LOCK_EX | LOCK_NB);
		/*
		 * A pdrecord tidying up may have taken it for a leftover
		 * between mkostemp and flock: keep it only if the name is
		 * still this file.  Where flock does not work (ENOLCK), no
		 * pdrecord can lock, so none removes it.
		 */
		if ((lk == 0 || errno != EWOULDBLOCK) && fstat(fd, &a) == 0 && a.st_nlink > 0 &&
		    lstat(tmp, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return fd;
		close(fd);
		tmp[0] = '\0';
	}
	errno = EEXIST;
	return -1;
}

/*
 * Remove the temporaries of PATH whose pdrecord is gone (their lock is
 * free): regular files of ours, never through a symlink, and say so in one
 * warning line.
 */
static void
tidy_temps(const char *path)
{
	const char *slash = strrchr(path, '/');
	int dlen = slash ? (int)(slash - path + 1) : 0;
	char prefix[TEMP_NAME_MAX + 16], dir[PATH_MAX];
	size_t plen = (size_t)temp_prefix(path, prefix, sizeof(prefix)), mlen = 0;
	char *msg = NULL;
	FILE *m;
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(dir, sizeof(dir), "%.*s", dlen ? dlen : 1, dlen ? path : ".");
	if (!(d = opendir(dir)))
		return;
	if (!(m = open_memstream(&msg, &mlen))) {
		closedir(d);
		return;
	}
	while ((e = readdir(d))) {
		struct stat a, b;
		size_t i;
		int fd;

		if (strlen(e->d_name) != plen + 6 || strncmp(e->d_name, prefix, plen))
			continue;
		for (i = plen; i < plen + 6 && isalnum((unsigned char)e->d_name[i]); i++)
			;
		if (i < plen + 6)
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &a) == 0 && S_ISREG(a.st_mode) && a.st_uid == geteuid() &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		    fstatat(dirfd(d), e->d_name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino && unlinkat(dirfd(d), e->d_name, 0) == 0)
			fprintf(m, "%s'%.*s%s'", n++ ? ", " : "", dlen, path, e->d_name);
		close(fd);
	}
	closedir(d);
	fclose(m);
	if (n)
		pd_warn("removed %s, left by a pdrecord that was killed", msg);
	free(msg);
}

/*
 * The previous recording could not be kept (WHY): the new one goes to
 * OUT.new (or OUT.new.1 ...), never over a file, and one line says where.
 */
static void
keep_new(const char *out, const char *why)
{
	char name[PATH_MAX + 16];

	for (int i = 0; i < 100; i++) {
		int rc;

		snprintf(name, sizeof(name), i ? "%s.new.%d" : "%s.new", out, i);
		rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, name, RENAME_NOREPLACE);
		if (rc < 0 && (errno == EINVAL || errno == ENOSYS)) {
			/* A file system without RENAME_NOREPLACE: a link never replaces either. */
			rc = link(tmp, name);
			if (rc == 0)
				unlink(tmp);
		}
		if (rc == 0) {
			pd_error("%s; the new recording is in '%s'", why, name);
			tmp[0] = '\0';
			return;
		}
		if (errno != EEXIST)
			break;
	}
	pd_error("%s; the new recording is left in '%s'", why, tmp);
	tmp[0] = '\0';
}

/*
 * Standard input, output and error closed at start (bit 0, 1, 2): each gets
 * /dev/null, close-on-exec, so that no descriptor of pdrecord's (the start
 * pipe, the events, the output) takes its place, and the command gets it
 * closed, as it would from env(1).
 */
static unsigned closed_std;

static int
open_std(void)
{
	for (int i = 0; i < 3; i++) {
		int fd;

		if (fcntl(i, F_GETFD) >= 0 || errno != EBADF)
			continue;
		closed_std |= 1u << i;
		fd = open("/dev/null", (i ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
		if (fd != i) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	return 0;
}

/* The command, stopped before its exec until the events are set up. */
static pid_t
spawn(char **argv, bool out_is_data, int *go, int *errfd)
{
	int gop[2], errp[2];
	pid_t parent = getpid(), pid;

	if (pipe2(gop, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		pd_die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		pd_error("fork: %s", strerror(errno));
		exit(EXIT_FAIL);
	}
	if (pid == 0) {
		char c;
		int e;

		close(gop[1]);
		close(errp[0]);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(EXIT_FAIL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		/* The command's output goes to stderr, or is closed as stderr is. */
		if (out_is_data && ((closed_std & 4) ? close(1) : dup2(2, 1)) < 0)
			_exit(EXIT_FAIL);
		if (read(gop[0], &c, 1) != 1)
			_exit(EXIT_FAIL);
		execvp(argv[0], argv);
		e = errno;
		if (write(errp[1], &e, sizeof(e)) < 0)
			_exit(EXIT_FAIL);
		_exit(e == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
	}
	close(gop[0]);
	close(errp[1]);
	*go = gop[1];
	*errfd = errp[0];
	return pid;
}

/*
 * The hidden options, for the shell completions (completions/gen.sh), taken
 * only alone ("pdrecord --list-events") and in neither --help nor
 * --list-options:
 *   --list-events  the events -e takes, one a line, sorted (strcmp): the
 *                  names below that the library accepts, and the tracepoints
 *                  subsys:name of tracefs when it can be read (else none);
 *   --list-pids    the running processes, "PID<TAB>comm", by PID.
 */

/*
 * The names of lib/record.c's event table (static there), without the :u and
 * :k modifiers; tests/cli/completion.t checks that the two agree.
 */
static const char *const event_aliases[] = {
	"cycles", "cpu-cycles", "instructions", "cache-references", "cache-misses",
	"branches", "branch-instructions", "branch-misses", "cpu-clock", "task-clock",
	"page-faults", "faults", "context-switches", "cs",
};

struct names {
	char **v;
	size_t n, alloc;
};

static void
names_add(struct names *l, const char *a, const char *b)
{
	char *s;

	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 256;
		l->v = realloc(l->v, l->alloc * sizeof(*l->v));
		if (!l->v)
			pd_die("out of memory");
	}
	if (asprintf(&s, "%s%s%s", a, b ? ":" : "", b ? b : "") < 0)
		pd_die("out of memory");
	l->v[l->n++] = s;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The tracepoints under DIR/events that have an id, as pd_record_event_ok wants. */
static void
add_tracepoints(struct names *l, const char *dir)
{
	char path[64];
	DIR *d, *sd;
	struct dirent *e, *t;
	int fd;

	snprintf(path, sizeof(path), "%s/events", dir);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) > 127 ||
		    (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		sd = fdopendir(fd);
		if (!sd) {
			close(fd);
			continue;
		}
		while ((t = readdir(sd))) {
			char id[sizeof(t->d_name) + 4];

			if (t->d_name[0] == '.' || strlen(t->d_name) > 127 || strchr(t->d_name, ':') ||
			    (t->d_type != DT_DIR && t->d_type != DT_UNKNOWN))
				continue;
			snprintf(id, sizeof(id), "%s/id", t->d_name);
			if (faccessat(fd, id, R_OK, 0) == 0)
				names_add(l, e->d_name, t->d_name);
		}
		closedir(sd);
	}
	closedir(d);
}

static int
list_events(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	struct names l = { 0 };

	for (size_t i = 0; i < sizeof(event_aliases) / sizeof(event_aliases[0]); i++)
		if (pd_record_event_ok(event_aliases[i]))
			names_add(&l, event_aliases[i], NULL);
	/* The first tracefs the library would use: the one with events/header_page. */
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char path[64];

		snprintf(path, sizeof(path), "%s/events/header_page", dirs[i]);
		if (access(path, R_OK) == 0) {
			add_tracepoints(&l, dirs[i]);
			break;
		}
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_names);
	for (size_t i = 0; i < l.n; i++) {
		puts(l.v[i]);
		free(l.v[i]);
	}
	free(l.v);
	return tool_finish(PD_EXIT_OK);
}

struct proc {
	long pid;
	char comm[64];
};

static int
cmp_procs(const void *a, const void *b)
{
	const struct proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int
list_pids(void)
{
	struct proc *v = NULL;
	size_t n = 0, alloc = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d) {
		pd_error("/proc: %s", strerror(errno));
		return PD_EXIT_TROUBLE;
	}
	while ((e = readdir(d))) {
		char path[64], *end;
		long pid;
		int fd;
		ssize_t len;

		errno = 0;
		pid = strtol(e->d_name, &end, 10);
		if (!isdigit((unsigned char)e->d_name[0]) || *end || errno || pid <= 0 ||
		    pid > INT32_MAX || pid == (long)getpid())
			continue;
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 256;
			v = realloc(v, alloc * sizeof(*v));
			if (!v)
				pd_die("out of memory");
		}
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* gone meanwhile */
		len = read(fd, v[n].comm, sizeof(v[n].comm) - 1);
		close(fd);
		if (len < 0)
			continue;
		while (len > 0 && v[n].comm[len - 1] == '\n')
			len--;
		v[n].comm[len] = '\0';
		/* One line, two fields, whatever the process named itself. */
		for (char *c = v[n].comm; *c; c++)
			if ((unsigned char)*c < ' ' || *c == 0x7f)
				*c = '?';
		v[n++].pid = pid;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_procs);
	for (size_t i = 0; i < n; i++)
		printf("%ld\t%s\n", v[i].pid, v[i].comm);
	free(v);
	return tool_finish(PD_EXIT_OK);
}

static int
status_of(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return EXIT_FAIL;
}

int
main(int argc, char **argv)
{
	struct pd_record_opts o = { 0 };
	struct pd_recorder *r;
	const char *out = NULL, *events = NULL;
	char **cmd;
	int32_t *pids = NULL;
	size_t nr_pids = 0, alloc_pids = 0;
	double duration = 0, deadline = 0;
	bool pipe_mode, direct = false, have_cmd, cmd_failed = false, reaped = false;
	int ch, fd, go = -1, errfd = -1, ws = 0, rc, fail;
	pid_t child = 0;
	uint64_t v;
	struct sigaction sa;
	/* First of all, before anything opens a descriptor: 0, 1 and 2 are taken. */
	int std_err = open_std() < 0 ? errno : 0;

	tool_init(argv[0]);
	if (argc == 2 && !strcmp(argv[1], "--list-events"))
		return list_events();
	if (argc == 2 && !strcmp(argv[1], "--list-pids"))
		return list_pids();
	o.freq = 4000;
	/* Options end at the command: "pdrecord ls -l" runs "ls -l". */
	setenv("POSIXLY_CORRECT", "1", 1);
	/* With a command, pdrecord's own failures are 125, as env(1)'s are. */
	if (tool_first_operand(argc, argv, opts) < argc)
		tool_usage_status = EXIT_FAIL;
	tool_exit_help = "Exit status: with a command, the command's (128+N if signal N killed it),\n"
	    "125 if pdrecord failed, 126 if the command cannot run, 127 if it is not found;\n"
	    "without a command, 0 ok, 2 trouble.";
	while ((ch = tool_getopt(argc, argv, opts, usage,
	    "Sample a command, processes or the whole system into perf.data.")) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case 'F':
			if (!strcmp(optarg, "max"))
				o.freq = max_rate();
			else if (pd_parse_u64(optarg, 1, UINT32_MAX, &v) < 0)
				tool_usage_error(usage, "-F takes a rate in Hz or max, not '%s'", optarg);
			else
				o.freq = v;
			o.period = 0;
			break;
		case 'c':
			if (pd_parse_u64(optarg, 1, INT64_MAX, &o.period) < 0)
				tool_usage_error(usage, "-c takes a period, not '%s'", optarg);
			o.freq = 0;
			break;
		case 'e':
			for (const char *p = optarg;;) {
				size_t n = strcspn(p, ",");
				char name[192];

				snprintf(name, sizeof(name), "%.*s", (int)(n < 191 ? n : 191), p);
				if (n == 0 || n > 191 || !pd_record_event_ok(name))
					tool_usage_error(usage, "unknown event '%.*s' (known: cycles, "
					    "instructions, cache-references, cache-misses, branches, "
					    "branch-misses, cpu-clock, task-clock, page-faults, "
					    "context-switches, with :u or :k; or a tracepoint "
					    "subsys:name from tracefs)", (int)(n < 191 ? n : 191), p);
				if (!p[n])
					break;
				p += n + 1;
			}
			events = optarg;
			break;
		case 'g': o.callgraph = PD_RECORD_CG_FP; break;
		case OPT_CALL_GRAPH:
			if (!strcmp(optarg, "fp")) {
				o.callgraph = PD_RECORD_CG_FP;
			} else if (!strncmp(optarg, "dwarf", 5) && (!optarg[5] || optarg[5] == ',')) {
				o.callgraph = PD_RECORD_CG_DWARF;
				o.stack_size = 8192;
				if (optarg[5] && pd_parse_u64(optarg + 6, 8, 65528, &v) < 0)
					tool_usage_error(usage, "--call-graph dwarf,SIZE takes 8 to 65528 "
					    "bytes, not '%s'", optarg + 6);
				else if (optarg[5])
					o.stack_size = (uint32_t)v;
			} else {
				tool_usage_error(usage, "--call-graph takes fp or dwarf[,size], not '%s'", optarg);
			}
			break;
		case 'z': o.compress = 1; break;
		case OPT_ZLEVEL:
			if (pd_parse_u64(optarg, 1, 22, &v) < 0)
				tool_usage_error(usage, "--compression-level takes 1 to 22, not '%s'", optarg);
			o.compress = (int)v;
			break;
		case 'p':
			for (char *p = optarg, *end; *p; p = end + (*end == ',')) {
				end = p + strcspn(p, ",");
				{
					char num[32];

					snprintf(num, sizeof(num), "%.*s", (int)(end - p < 31 ? end - p : 31), p);
					if (pd_parse_u64(num, 1, INT32_MAX, &v) < 0)
						tool_usage_error(usage, "-p takes process ids, not '%s'", optarg);
				}
				if (nr_pids == alloc_pids) {
					alloc_pids = alloc_pids ? 2 * alloc_pids : 8;
					pids = realloc(pids, alloc_pids * sizeof(*pids));
					if (!pids)
						pd_die("out of memory");
				}
				pids[nr_pids++] = (int32_t)v;
			}
			break;
		case 'a': o.system_wide = 1; break;
		case OPT_DURATION: {
			char *end;

			errno = 0;
			duration = strtod(optarg, &end);
			if (errno || *end || end == optarg || !isfinite(duration) || duration <= 0)
				tool_usage_error(usage, "--duration takes seconds, not '%s'", optarg);
			break;
		}
		case OPT_NO_INHERIT: o.no_inherit = 1; break;
		case 'm':
			if (pd_parse_u64(optarg, 1, 1u << 20, &v) < 0 || (v & (v - 1)))
				tool_usage_error(usage, "-m takes a power of 2, not '%s'", optarg);
			o.mmap_pages = v;
			break;
		default:
			tool_usage_error(usage, "unknown option");
		}
	}
	unsetenv("POSIXLY_CORRECT");
	cmd = argv + optind;
	have_cmd = optind < argc;
	fail = have_cmd ? EXIT_FAIL : PD_EXIT_TROUBLE;
	if (std_err) {
		pd_error("cannot open /dev/null for a closed standard descriptor: %s", strerror(std_err));
		free(pids);
		return fail;
	}
	if (!have_cmd && !nr_pids && !o.system_wide)
		tool_usage_error(usage, "nothing to record: give a command, -p or -a");
	if (nr_pids && o.system_wide)
		tool_usage_error(usage, "-p and -a cannot be used together");
	if (o.freq > max_rate()) {
		pd_note("-F %llu is above the kernel's maximum; using %llu "
		    "(/proc/sys/kernel/perf_event_max_sample_rate)",
		    (unsigned long long)o.freq, (unsigned long long)max_rate());
		o.freq = max_rate();
	}
	o.events = events;
	o.pids = pids;
	o.nr_pids = nr_pids;
	o.force = force_flags();
	o.argc = argc;
	o.argv = argv;
	o.note = note;
	o.verbose = tool_verbose;

	/*
	 * Without -o, pipe format to standard output only when it is a pipe,
	 * as perf record decides: "pdrecord -- make > build.log" keeps the
	 * build's output in the log and the profile in perf.data.
	 */
	if (out) {
		pipe_mode = !strcmp(out, "-");
	} else {
		struct stat st;

		pipe_mode = fstat(1, &st) == 0 && S_ISFIFO(st.st_mode);
	}
	/* Signals stop the recording; a pipe that closes under it too (file mode). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (!pipe_mode)
		sigaction(SIGPIPE, &sa, NULL);
	/*
	 * The end of the command interrupts the wait for ring data at once,
	 * instead of at the next poll timeout (which cost the command up to
	 * 100 ms of wall time).
	 */
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);
	atexit(drop_temp);

	if (pipe_mode && (closed_std & 2)) {
		pd_error("cannot write to standard output: it is closed (give -o FILE, or redirect it)");
		free(pids);
		return fail;
	}
	if (pipe_mode) {
		fd = 1;
	} else {
		struct stat st;

		if (!out)
			out = "perf.data";
		if (stat(out, &st) == 0 && !S_ISREG(st.st_mode)) {
			/* A device or a FIFO: write to it as it is. */
			direct = true;
			fd = open(out, O_WRONLY | O_CLOEXEC);
		} else {
			tidy_temps(out);
			fd = open_temp(out);
		}
		if (fd < 0) {
			out_error(out, errno);
			free(pids);
			return fail;
		}
	}

	if (have_cmd) {
		child = spawn(cmd, pipe_mode, &go, &errfd);
		if (!nr_pids)
			o.child = child;
	}
	r = pd_record_new();
	if (!r)
		pd_die("out of memory");
	rc = pd_record_open(r, &o);
	if (rc == PD_OK)
		rc = pd_record_start(r, fd, pipe_mode);
	if (rc < 0) {
		pd_error("%s%s%s", rc == PD_E_IO && !pipe_mode ? out : "",
		    rc == PD_E_IO && !pipe_mode ? ": " : "",
		    pd_record_errmsg(r)[0] ? pd_record_errmsg(r) : pd_strerror(rc));
		if (child > 0) {
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
		}
		drop_temp();
		pd_record_free(r);
		free(pids);
		return fail;
	}
	if (child > 0) {
		int e;

		if (write(go, "x", 1) != 1)
			pd_die("cannot start the command: %s", strerror(errno));
		close(go);
		if (read(errfd, &e, sizeof(e)) == (ssize_t)sizeof(e)) {
			pd_error("%s: %s", cmd[0], strerror(e));
			cmd_failed = true;
		}
		close(errfd);
	}
	if (duration > 0)
		deadline = now() + duration;
	rc = PD_OK;
	while (!stop_sig && !cmd_failed) {
		rc = pd_record_poll(r, 100);
		if (rc != PD_OK)
			break;
		if (child > 0 && waitpid(child, &ws, WNOHANG) == child) {
			reaped = true;
			break;
		}
		if (deadline && now() >= deadline)
			break;
	}
	if (child > 0 && !reaped) {
		/* A child whose exec failed is exiting with 126 or 127 by itself. */
		if (!cmd_failed)
			kill(child, SIGTERM);
		while (waitpid(child, &ws, 0) < 0 && errno == EINTR)
			;
	}
	if (rc >= 0)
		rc = pd_record_finish(r);
	if (rc < 0 && rc != PD_END) {
		pd_error("%s%s%s", pipe_mode ? "" : out, pipe_mode ? "" : ": ",
		    pd_record_errmsg(r)[0] ? pd_record_errmsg(r) : pd_strerror(rc));
		drop_temp();
		pd_record_free(r);
		free(pids);
		return fail;
	}
	{
		const struct pd_record_stats *st = pd_record_stats(r);

		if (st->lost)
			pd_warn("the kernel lost %llu events (try a larger -m or a lower -F)",
			    (unsigned long long)st->lost);
		if (tool_verbose)
			fprintf(stderr, "pdrecord: %llu samples, %llu rounds, %llu lost events%s%s\n",
			    (unsigned long long)st->samples, (unsigned long long)st->rounds,
			    (unsigned long long)st->lost, pipe_mode ? "" : ", written to ",
			    pipe_mode ? "" : out);
	}
	pd_record_free(r);
	free(pids);
	if (tmp[0]) {
		char old[PATH_MAX + 8], why[3 * PATH_MAX];
		struct stat st;

		if (close(fd) < 0) {
			pd_error("cannot write '%s': %s", out, strerror(errno));
			drop_temp();
			return fail;
		}
		if (cmd_failed) {
			drop_temp();
		} else {
			/*
			 * The previous recording is replaced only once it is
			 * kept as OUT.old; else both stay, and the new one is
			 * named.
			 */
			snprintf(old, sizeof(old), "%s.old", out);
			if (lstat(out, &st) == 0 && S_ISREG(st.st_mode) && rename(out, old) < 0) {
				snprintf(why, sizeof(why), "cannot keep '%s' as '%s' (%s), so it is left as it was",
				    out, old, strerror(errno));
				keep_new(out, why);
				return fail;
			}
			if (rename(tmp, out) < 0) {
				snprintf(why, sizeof(why), "cannot rename the recording to '%s' (%s)", out,
				    strerror(errno));
				keep_new(out, why);
				return fail;
			}
			tmp[0] = '\0';
		}
	} else if (direct && close(fd) < 0) {
		pd_error("%s: %s", out, strerror(errno));
		return fail;
	}
	if (stop_sig)
		return 128 + stop_sig;
	if (have_cmd)
		return status_of(ws);
	return PD_EXIT_OK;
}
