/*
 * record.c - the sampler behind pdrecord: perf_event_open(2) events, one
 * ring buffer per event fd, drained into a perf.data stream (file or pipe
 * form) that perf 6.1 reads without a warning.
 *
 * The layout and the attr choices follow FORMAT-NOTES.md section 8: attr
 * size 128 (PERF_ATTR_SIZE_VER7; perf 6.1 refuses bigger ones in file mode),
 * sample_id_all with a sample_type that every event shares, side-band bits
 * (mmap, mmap2, comm, comm_exec, task) on the first event only, and the
 * synthesized records (kernel map, existing tasks) before the ring data,
 * with a zeroed sample_id trailer so perf delivers them first.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "pd-internal.h"
#include "pd-uthash.h"

/*
 * perf_event_attr as PERF_ATTR_SIZE_VER7 lays it out (include/uapi/linux/
 * perf_event.h).  Our own copy: the system header may be newer, and a
 * VER8 attr (136 bytes) in the file makes perf 6.1 reject it.
 */
struct rec_attr {
	uint32_t type;
	uint32_t size;
	uint64_t config;
	uint64_t sample;		/* sample_period or sample_freq */
	uint64_t sample_type;
	uint64_t read_format;
	uint64_t flags;
	uint32_t wakeup;
	uint32_t bp_type;
	uint64_t config1;
	uint64_t config2;
	uint64_t branch_sample_type;
	uint64_t sample_regs_user;
	uint32_t sample_stack_user;
	int32_t clockid;
	uint64_t sample_regs_intr;
	uint32_t aux_watermark;
	uint16_t sample_max_stack;
	uint16_t reserved2;
	uint32_t aux_sample_size;
	uint32_t reserved3;
	uint64_t sig_data;
};
_Static_assert(sizeof(struct rec_attr) == 128, "perf_event_attr VER7 is 128 bytes");

/* Flag bits of perf_event_attr (the bit-field word at offset 40). */
#define F_DISABLED		(1ull << 0)
#define F_INHERIT		(1ull << 1)
#define F_EXCL_KERNEL		(1ull << 5)
#define F_EXCL_HV		(1ull << 6)
#define F_MMAP			(1ull << 8)
#define F_COMM			(1ull << 9)
#define F_FREQ			(1ull << 10)
#define F_ENABLE_ON_EXEC	(1ull << 12)
#define F_TASK			(1ull << 13)
#define F_MMAP_DATA		(1ull << 17)
#define F_SAMPLE_ID_ALL		(1ull << 18)
#define F_EXCL_CALLCHAIN_USER	(1ull << 22)
#define F_MMAP2			(1ull << 23)
#define F_COMM_EXEC		(1ull << 24)

/* ioctls and flags of include/uapi/linux/perf_event.h. */
#define REC_IOC_ENABLE		_IO('$', 0)
#define REC_IOC_DISABLE		_IO('$', 1)
#define REC_IOC_SET_OUTPUT	_IO('$', 5)
#define REC_IOC_ID		_IOR('$', 7, uint64_t *)
#define REC_FLAG_FD_CLOEXEC	(1ul << 3)

/* struct perf_event_mmap_page: data_head and data_tail offsets. */
#define MMAP_DATA_HEAD		1024
#define MMAP_DATA_TAIL		1032

#define TYPE_HARDWARE	0
#define TYPE_SOFTWARE	1
#define TYPE_TRACEPOINT	2
#define SW_CPU_CLOCK	0

/*
 * The user registers a DWARF sample carries, as perf asks for them
 * (arch/x86/include/perf_regs.h: all but DS, ES, FS, GS).
 */
#if defined(__x86_64__)
#define USER_REGS_MASK	0xff0fffull
#elif defined(__aarch64__)
#define USER_REGS_MASK	((1ull << 33) - 1)
#else
#define USER_REGS_MASK	0ull
#endif

/* A COMPRESSED record's payload, at most (perf's limit: 64 KiB - header - 1). */
#define ZCHUNK		(65536 - 8 - 1)
#define HEADER_COMPRESSED_FEAT	27

#define MISC_MMAP_DATA	(1u << 13)	/* PERF_RECORD_MISC_MMAP_DATA */
#define OUT_FLUSH	(1u << 20)
#define PAD8(x)		(((x) + 7) & ~(size_t)7)

struct rec_event {
	struct rec_attr attr;
	char name[192];
	bool tracepoint;
	uint64_t *ids;
	size_t nr_ids, alloc_ids;
};

struct rec_fd {
	int fd;
	size_t ev;
	int cpu;			/* -1: any CPU (a per-thread event) */
	unsigned char *base;		/* the mmap'd ring; NULL when output goes to another fd's */
};

struct rec_dso {
	char *name;
	bool kernel;
	bool hit;			/* a sample or its call chain is in it */
};

/* A process's executable file mappings, to find the DSOs samples hit. */
struct rec_map {
	uint64_t start, end;
	size_t dso;
};

struct rec_proc {
	int32_t pid;
	struct rec_map *maps;
	size_t nr, alloc, last;
	UT_hash_handle hh;
};

struct pd_recorder {
	struct pd_record_opts o;
	struct rec_event *ev;
	size_t nr_ev;
	struct rec_fd *fds;
	size_t nr_fds, alloc_fds;
	struct pollfd *pfd;
	size_t page, ring_len;		/* ring data bytes (a power of 2) */
	int32_t *cpus;
	size_t nr_cpus;
	bool kernel_ok;			/* some event samples the kernel */
	uint64_t ktext, ketext;

	int out;
	bool pipe, started, failed;
	uint64_t data_off, data_size, hdr_ids_off;
	struct pd_buf obuf;
	unsigned char *scratch;
	size_t scratch_len;

	struct rec_dso *dsos;
	size_t nr_dsos, alloc_dsos;
	struct rec_proc *procs;
	size_t kernel_dso;		/* index in dsos, or SIZE_MAX */
	ZSTD_CStream *zc;		/* -z */
	unsigned char *zbuf;
	uint64_t raw_bytes, zbytes;
	struct pd_buf tdata;		/* tracing data, for tracepoint events */
	uint64_t first_time, last_time;
	struct pd_record_stats st;
	struct pd_buf err;
};

/* ---------------------------------------------------------------- */
/* Messages. */

static void rec_note(struct pd_recorder *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rec_error(struct pd_recorder *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
rec_note(struct pd_recorder *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!r->o.note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->o.note(r->o.note_ctx, msg);
}

static int
rec_error(struct pd_recorder *r, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->failed)
		return code;
	r->failed = true;
	pd_buf_reset(&r->err);
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n >= 0 && pd_buf_grow(&r->err, (size_t)n) == 0) {
		va_start(ap, fmt);
		vsnprintf(r->err.buf, (size_t)n + 1, fmt, ap);
		va_end(ap);
		r->err.len = (size_t)n;
	}
	return code;
}

const char *
pd_record_errmsg(const struct pd_recorder *r)
{
	return r->err.buf;
}

const struct pd_record_stats *
pd_record_stats(const struct pd_recorder *r)
{
	return &r->st;
}

/* ---------------------------------------------------------------- */
/* Small file helpers. */

/* The first line of PATH into BUF, without its newline; -1 when unreadable. */
static int
read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return 0;
}

/* The value of "KEY<spaces>: value" in /proc/cpuinfo or /proc/meminfo. */
static int
proc_field(const char *path, const char *key, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	char line[512];
	size_t k = strlen(key);

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p;

		if (strncmp(line, key, k) || (line[k] != ' ' && line[k] != '\t' && line[k] != ':'))
			continue;
		p = strchr(line, ':');
		if (!p)
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		snprintf(buf, len, "%s", p);
		p = strchr(buf, '\n');
		if (p)
			*p = '\0';
		fclose(f);
		return 0;
	}
	fclose(f);
	return -1;
}

/* Online CPUs from a "0-3,5" list. */
static int
parse_cpus(struct pd_recorder *r)
{
	char buf[4096], *p;
	size_t alloc = 0;

	if (read_line("/sys/devices/system/cpu/online", buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "0-%ld", sysconf(_SC_NPROCESSORS_ONLN) - 1);
	p = buf;
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (end == p)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long c = a; c <= b && c < 65536; c++) {
			if (PD_GROW(r->cpus, r->nr_cpus + 1, alloc) < 0)
				return PD_E_NOMEM;
			r->cpus[r->nr_cpus++] = (int32_t)c;
		}
		p = *end == ',' ? end + 1 : end;
		if (*end != ',')
			break;
	}
	if (!r->nr_cpus)
		return rec_error(r, PD_E_IO, "cannot read the list of online CPUs");
	return PD_OK;
}

/* ---------------------------------------------------------------- */
/* Events. */

static const struct {
	const char *name;
	uint32_t type;
	uint64_t config;
} event_names[] = {
	{ "cycles", TYPE_HARDWARE, 0 }, { "cpu-cycles", TYPE_HARDWARE, 0 },
	{ "instructions", TYPE_HARDWARE, 1 },
	{ "cache-references", TYPE_HARDWARE, 2 }, { "cache-misses", TYPE_HARDWARE, 3 },
	{ "branches", TYPE_HARDWARE, 4 }, { "branch-instructions", TYPE_HARDWARE, 4 },
	{ "branch-misses", TYPE_HARDWARE, 5 },
	{ "cpu-clock", TYPE_SOFTWARE, 0 }, { "task-clock", TYPE_SOFTWARE, 1 },
	{ "page-faults", TYPE_SOFTWARE, 2 }, { "faults", TYPE_SOFTWARE, 2 },
	{ "context-switches", TYPE_SOFTWARE, 3 }, { "cs", TYPE_SOFTWARE, 3 },
};

/* The tracefs directory with the events/ tree, or NULL. */
static const char *
tracefs(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char path[64];

		snprintf(path, sizeof(path), "%s/events/header_page", dirs[i]);
		if (access(path, R_OK) == 0)
			return dirs[i];
	}
	return NULL;
}

/* A tracepoint "sys:name": its id from tracefs, or 0. */
static uint64_t
tracepoint_id(const char *name)
{
	const char *dir = tracefs(), *colon = strchr(name, ':');
	char path[512], buf[32];
	size_t sn;

	if (!dir || !colon || colon == name || !colon[1] || strchr(colon + 1, ':') ||
	    strchr(name, '/') || strstr(name, ".."))
		return 0;
	sn = (size_t)(colon - name);
	if (sn > 127 || strlen(colon + 1) > 127)
		return 0;
	snprintf(path, sizeof(path), "%s/events/%.*s/%s/id", dir, (int)sn, name, colon + 1);
	if (read_line(path, buf, sizeof(buf)) < 0)
		return 0;
	return strtoull(buf, NULL, 10);
}

/* Index into event_names of NAME's part before ':', or -1. */
static int
named_event(const char *name)
{
	size_t n = strcspn(name, ":");

	for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++)
		if (strlen(event_names[i].name) == n && !strncmp(event_names[i].name, name, n))
			return (int)i;
	return -1;
}

int
pd_record_event_ok(const char *name)
{
	size_t n = strcspn(name, ":");

	if (named_event(name) >= 0)
		return name[n] == '\0' || (name[n + 1] &&
		    strspn(name + n + 1, "uk") == strlen(name + n + 1));
	return tracepoint_id(name) != 0;
}

static int
add_event(struct pd_recorder *r, const char *spec, size_t len, size_t *alloc)
{
	struct rec_event *e;
	char name[192];
	size_t n;
	const char *mods;
	int k;

	if (len == 0 || len >= sizeof(name))
		return rec_error(r, PD_E_USAGE, "bad event '%.*s'", (int)(len < 200 ? len : 200), spec);
	memcpy(name, spec, len);
	name[len] = '\0';
	if (!pd_record_event_ok(name))
		return rec_error(r, PD_E_USAGE, "unknown event '%s'", name);
	if (PD_GROW(r->ev, r->nr_ev + 1, *alloc) < 0)
		return PD_E_NOMEM;
	e = &r->ev[r->nr_ev++];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->attr.size = sizeof(struct rec_attr);
	k = named_event(name);
	if (k < 0) {
		e->tracepoint = true;
		e->attr.type = TYPE_TRACEPOINT;
		e->attr.config = tracepoint_id(name);
		return PD_OK;
	}
	e->attr.type = event_names[k].type;
	e->attr.config = event_names[k].config;
	n = strcspn(name, ":");
	mods = name[n] ? name + n + 1 : "";
	if (strchr(mods, 'u') && !strchr(mods, 'k'))
		e->attr.flags |= F_EXCL_KERNEL | F_EXCL_HV;
	else if (strchr(mods, 'k') && !strchr(mods, 'u'))
		e->attr.flags |= 1ull << 4;	/* exclude_user */
	return PD_OK;
}

static void
setup_attr(struct pd_recorder *r, struct rec_event *e, bool first)
{
	struct rec_attr *a = &e->attr;
	bool tracepoints = false;

	for (size_t i = 0; i < r->nr_ev; i++)
		tracepoints |= r->ev[i].tracepoint;
	/* IDENTIFIER tells several events apart; perf needs no id for one. */
	a->sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_PERIOD;
	if (r->nr_ev > 1)
		a->sample_type |= PERF_SAMPLE_IDENTIFIER;
	if (r->o.callgraph)
		a->sample_type |= PERF_SAMPLE_CALLCHAIN;
	if (r->o.callgraph == PD_RECORD_CG_DWARF) {
		/* The kernel part as a chain, the user part as registers and stack. */
		a->sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
		a->flags |= F_EXCL_CALLCHAIN_USER;
		a->sample_regs_user = USER_REGS_MASK;
		a->sample_stack_user = r->o.stack_size ? r->o.stack_size : 8192;
	}
	/* The trailer must be the same for every event: CPU for all or none. */
	if (r->o.system_wide || tracepoints)
		a->sample_type |= PERF_SAMPLE_CPU;
	if (e->tracepoint)
		a->sample_type |= PERF_SAMPLE_RAW;
	a->read_format = PERF_FORMAT_ID;
	a->sample_max_stack = r->o.callgraph ? 127 : 0;
	if (e->tracepoint) {
		/* Every hit, as perf does, unless -c says otherwise. */
		a->sample = r->o.period ? r->o.period : 1;
	} else if (r->o.freq) {
		a->flags |= F_FREQ;
		a->sample = r->o.freq;
	} else {
		a->sample = r->o.period ? r->o.period : 1000000;
	}
	a->flags |= F_SAMPLE_ID_ALL | F_DISABLED;
	if (first)
		a->flags |= F_MMAP | F_MMAP2 | F_COMM | F_COMM_EXEC | F_TASK;
	/* DWARF unwinders read data mappings too (the GOT, .eh_frame_hdr users). */
	if (first && r->o.callgraph == PD_RECORD_CG_DWARF)
		a->flags |= F_MMAP_DATA;
	if (!r->o.system_wide && !r->o.no_inherit)
		a->flags |= F_INHERIT;
	if (r->o.child > 0 && !r->o.system_wide && !r->o.nr_pids)
		a->flags |= F_ENABLE_ON_EXEC;
	if (!r->kernel_ok && !e->tracepoint)
		a->flags |= F_EXCL_KERNEL | F_EXCL_HV;
}

static int
sys_perf_event_open(struct rec_attr *a, int pid, int cpu)
{
	return (int)syscall(SYS_perf_event_open, a, pid, cpu, -1, REC_FLAG_FD_CLOEXEC);
}

static int
paranoid(void)
{
	char buf[32];

	if (read_line("/proc/sys/kernel/perf_event_paranoid", buf, sizeof(buf)) < 0)
		return 2;
	return (int)strtol(buf, NULL, 10);
}

/*
 * The -p process that thread TID belongs to, and its owner in *UID, when
 * that owner is another user than ours (and we are not root): then
 * perf_event_open's EACCES comes from the ptrace check on another user's
 * process, not from perf_event_paranoid.  0 otherwise.
 */
static int32_t
other_users_pid(const struct pd_recorder *r, int32_t tid, uid_t *uid)
{
	char path[64];
	struct stat st;
	int32_t pid = tid;

	if (geteuid() == 0)
		return 0;
	for (size_t i = 0; i < r->o.nr_pids; i++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)r->o.pids[i], (int)tid);
		if (stat(path, &st) == 0) {
			pid = r->o.pids[i];
			break;
		}
	}
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &st) < 0 || st.st_uid == geteuid())
		return 0;
	*uid = st.st_uid;
	return pid;
}

/* The length of the kernel's code from /proc/iomem ("Kernel code" is _text to _etext), or 0. */
static uint64_t
iomem_kernel_code(void)
{
	FILE *f = fopen("/proc/iomem", "re");
	char line[256];
	uint64_t len = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b;

		if (strstr(line, " : Kernel code") && sscanf(line, " %llx-%llx", &a, &b) == 2 && b > a) {
			len = b - a + 1;
			break;
		}
	}
	fclose(f);
	return len;
}

/*
 * The kernel's text range: _text from /proc/kallsyms (near its start), and
 * its end from /proc/iomem, or else _etext further down kallsyms (reading
 * all of kallsyms costs a tenth of a second).  False when addresses are
 * hidden.
 */
static bool
kernel_range(struct pd_recorder *r)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512];
	uint64_t stext = 0, len = 0;
	static char buf[1 << 16];

	r->ktext = r->ketext = 0;
	if (!f)
		return false;
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		const char *name;

		/* "ffffffff81000000 T _text\n": look at the name before parsing. */
		if (n < 8 || line[n - 1] != '\n')
			continue;
		line[--n] = '\0';
		name = strrchr(line, ' ');
		if (!name || name[1] != '_')
			continue;
		name++;
		if (!strcmp(name, "_text"))
			r->ktext = strtoull(line, NULL, 16);
		else if (!strcmp(name, "_stext"))
			stext = strtoull(line, NULL, 16);
		else if (!strcmp(name, "_etext"))
			r->ketext = strtoull(line, NULL, 16);
		if (r->ktext && !len && !r->ketext) {
			len = iomem_kernel_code();
			if (len)
				r->ketext = r->ktext + len;
		}
		if (r->ktext && r->ketext)
			break;
	}
	fclose(f);
	if (!r->ktext)
		r->ktext = stext;
	return r->ktext && r->ketext > r->ktext;
}

static int
add_fd(struct pd_recorder *r, int fd, size_t ev, int cpu)
{
	uint64_t id;
	struct rec_event *e = &r->ev[ev];

	if (PD_GROW(r->fds, r->nr_fds + 1, r->alloc_fds) < 0) {
		close(fd);
		return PD_E_NOMEM;
	}
	r->fds[r->nr_fds++] = (struct rec_fd){ fd, ev, cpu, NULL };
	if (ioctl(fd, REC_IOC_ID, &id) < 0)
		return rec_error(r, PD_E_IO, "cannot read the id of event '%s': %s", e->name,
		    strerror(errno));
	if (PD_GROW(e->ids, e->nr_ids + 1, e->alloc_ids) < 0)
		return PD_E_NOMEM;
	e->ids[e->nr_ids++] = id;
	return PD_OK;
}

/* Thread ids of process PID, or of every process (PID 0); appended to *TIDS. */
static int
list_tasks(int32_t pid, int32_t **tids, size_t *nr, size_t *alloc, bool with_tgid, int32_t **tgids)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	size_t alloc2 = *alloc;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char *end;
		long t = strtol(de->d_name, &end, 10);

		if (*end || t <= 0)
			continue;
		if (PD_GROW(*tids, *nr + 1, *alloc) < 0) {
			closedir(d);
			return -2;
		}
		if (with_tgid && PD_GROW(*tgids, *nr + 1, alloc2) < 0) {
			closedir(d);
			return -2;
		}
		(*tids)[*nr] = (int32_t)t;
		if (with_tgid)
			(*tgids)[*nr] = pid;
		(*nr)++;
	}
	closedir(d);
	return 0;
}

/*
 * Open event EV on every target, retrying with the fallbacks once.  The
 * targets: each CPU (-a); each thread of the -p processes on each CPU, or
 * on any CPU with --no-inherit; the command on each CPU, or on any CPU with
 * --no-inherit.  Inherited events must be per CPU: the kernel refuses to
 * map the ring of an inherited any-CPU event.
 */
static int
open_event(struct pd_recorder *r, size_t ev, const int32_t *tids, size_t nr_tids)
{
	struct rec_event *e = &r->ev[ev];
	size_t first_fd = r->nr_fds;
	bool per_cpu = r->o.system_wide || !r->o.no_inherit;
	size_t nthreads = r->o.system_wide ? 1 : r->o.nr_pids ? nr_tids : 1;
	size_t ncpus = per_cpu ? r->nr_cpus : 1;
	size_t nt = nthreads * ncpus;
	bool forced_hw = (r->o.force & PD_RECORD_FORCE_HW) && e->attr.type == TYPE_HARDWARE;
	bool forced_kernel = (r->o.force & PD_RECORD_FORCE_KERNEL) &&
	    !(e->attr.flags & F_EXCL_KERNEL) && !e->tracepoint;
	bool forced_perm = r->o.force & PD_RECORD_FORCE_PERM;

	for (size_t i = 0; i < nt; i++) {
		int pid, cpu, fd, err;
		bool none_yet = r->nr_fds == first_fd;

		pid = r->o.system_wide ? -1 : r->o.nr_pids ? tids[i / ncpus] : r->o.child;
		cpu = per_cpu ? r->cpus[i % ncpus] : -1;
		if (forced_perm) {
			fd = -1;
			err = EACCES;
		} else if (forced_hw) {
			fd = -1;
			err = ENOENT;
		} else if (forced_kernel) {
			fd = -1;
			err = EACCES;
		} else {
			fd = sys_perf_event_open(&e->attr, pid, cpu);
			err = errno;
		}
		if (fd >= 0) {
			int rc = add_fd(r, fd, ev, cpu);

			if (rc < 0)
				return rc;
			continue;
		}
		if (err == ESRCH && r->o.nr_pids)
			continue;	/* the thread ended since we listed it */
		if (none_yet && e->attr.type == TYPE_HARDWARE &&
		    (err == ENOENT || err == EOPNOTSUPP || err == ENODEV)) {
			char old[sizeof(e->name)];
			uint64_t excl = e->attr.flags & (F_EXCL_KERNEL | F_EXCL_HV);

			snprintf(old, sizeof(old), "%s", e->name);
			e->attr.type = TYPE_SOFTWARE;
			e->attr.config = SW_CPU_CLOCK;
			snprintf(e->name, sizeof(e->name), "cpu-clock%s", excl ? ":u" : "");
			/*
			 * ENOENT, EOPNOTSUPP, ENODEV: no such hardware counter (a
			 * VM has none); strerror's "No such file or directory"
			 * would mislead.  The default event falls back silently,
			 * as perf record's (which says so only under -v).
			 */
			if (r->o.events || r->o.verbose)
				rec_note(r, "event '%s' needs a hardware counter that this machine (or VM) "
				    "does not offer; sampling '%s' instead", old, e->name);
			forced_hw = false;
			i--;
			continue;
		}
		/*
		 * Another user's process: the kernel's ptrace check refuses it
		 * whatever perf_event_paranoid (up to 2) allows.
		 */
		if ((err == EACCES || err == EPERM) && r->o.nr_pids && !forced_perm && paranoid() <= 2) {
			uid_t uid = 0;
			int32_t other = other_users_pid(r, pid, &uid);

			if (other)
				return rec_error(r, PD_E_USAGE, "cannot attach to pid %d: it belongs to another "
				    "user (uid %u), and only its owner or root may profile it (%s); run "
				    "pdrecord as that user, or as root", (int)other, (unsigned)uid,
				    strerror(err));
		}
		if (none_yet && (err == EACCES || err == EPERM) && !forced_perm &&
		    !e->tracepoint && !(e->attr.flags & F_EXCL_KERNEL)) {
			e->attr.flags |= F_EXCL_KERNEL | F_EXCL_HV;
			if (!strchr(e->name, ':'))
				snprintf(e->name + strlen(e->name), sizeof(e->name) - strlen(e->name), ":u");
			rec_note(r, "kernel profiling is not permitted (perf_event_paranoid is %d); "
			    "recording user space only ('%s')", paranoid(), e->name);
			forced_kernel = false;
			i--;
			continue;
		}
		if (err == EACCES || err == EPERM)
			return rec_error(r, PD_E_USAGE, "perf_event_open: %s: not permitted by "
			    "/proc/sys/kernel/perf_event_paranoid (%d)%s; lower it or grant CAP_PERFMON",
			    strerror(err), paranoid(), r->o.system_wide ? " for -a (it needs -1 or 0)" :
			    e->tracepoint ? " for tracepoints (they need -1, or CAP_PERFMON)" : "");
		if (err == EINVAL && r->o.callgraph == PD_RECORD_CG_DWARF)
			return rec_error(r, PD_E_IO, "perf_event_open of '%s' with DWARF call "
			    "graphs failed: %s (try a smaller stack size)", e->name, strerror(err));
		return rec_error(r, PD_E_IO, "perf_event_open of '%s' failed: %s", e->name,
		    strerror(err));
	}
	if (r->nr_fds == first_fd)
		return rec_error(r, PD_E_IO, "no thread to attach to");
	return PD_OK;
}

/*
 * One ring per CPU: the first fd of each CPU gets a ring, the others send
 * their records to it (PERF_EVENT_IOC_SET_OUTPUT).  Any-CPU fds (per-thread
 * events) get a ring each.
 */
static int
map_rings(struct pd_recorder *r)
{
	size_t pages = r->o.mmap_pages ? r->o.mmap_pages : 128;

	r->page = (size_t)sysconf(_SC_PAGESIZE);
	while (pages & (pages - 1))
		pages &= pages - 1;
	r->ring_len = pages * r->page;
	r->pfd = calloc(r->nr_fds, sizeof(*r->pfd));
	r->scratch = malloc(r->ring_len);
	if (!r->pfd || !r->scratch)
		return PD_E_NOMEM;
	for (size_t i = 0; i < r->nr_fds; i++) {
		struct rec_fd *f = &r->fds[i];
		void *p;

		r->pfd[i].fd = f->fd;
		r->pfd[i].events = POLLIN;
		if (f->cpu >= 0) {
			size_t j;

			for (j = 0; j < i; j++)
				if (r->fds[j].base && r->fds[j].cpu == f->cpu)
					break;
			if (j < i) {
				if (ioctl(f->fd, REC_IOC_SET_OUTPUT, r->fds[j].fd) < 0)
					return rec_error(r, PD_E_IO, "cannot share the ring buffer of "
					    "CPU %d: %s", f->cpu, strerror(errno));
				continue;
			}
		}
		p = mmap(NULL, r->page + r->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
		if (p == MAP_FAILED)
			return rec_error(r, PD_E_IO, "cannot map the ring buffer of '%s': %s%s",
			    r->ev[f->ev].name, strerror(errno),
			    errno == EPERM ? " (see /proc/sys/kernel/perf_event_mlock_kb)" : "");
		f->base = p;
	}
	return PD_OK;
}

/* ---------------------------------------------------------------- */
/* Tracing data (FORMAT-NOTES.md 1.5, TRACING_DATA): the formats perf needs
 * to decode the RAW payload of tracepoint samples. */

/* Append FILE's bytes to B after their size as a LEN_BYTES (4 or 8) integer. */
static int
tdata_file(struct pd_buf *b, const char *path, int len_bytes)
{
	FILE *f = fopen(path, "re");
	size_t at = b->len, n = 0;
	uint64_t zero = 0;
	char chunk[8192];
	size_t k;

	if (pd_buf_add(b, &zero, (size_t)len_bytes) < 0) {
		if (f)
			fclose(f);
		return -1;
	}
	if (!f)
		return 0;	/* missing: an empty file, as perf writes it */
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (pd_buf_add(b, chunk, k) < 0) {
			fclose(f);
			return -1;
		}
		n += k;
	}
	fclose(f);
	if (len_bytes == 8) {
		uint64_t v = n;

		memcpy(b->buf + at, &v, 8);
	} else {
		uint32_t v = (uint32_t)n;

		memcpy(b->buf + at, &v, 4);
	}
	return 0;
}

static int
build_tracing_data(struct pd_recorder *r)
{
	const char *dir = tracefs();
	struct pd_buf *b = &r->tdata;
	char path[512];
	uint32_t u32;
	unsigned char head[10] = { 23, 8, 68, 't', 'r', 'a', 'c', 'i', 'n', 'g' };
	unsigned char endian_long[2] = { 0, (unsigned char)sizeof(long) };
	size_t nsys = 0, nsys_at;
	int rc = 0;

	if (!dir)
		return rec_error(r, PD_E_IO, "tracepoints need tracefs (mount -t tracefs nodev "
		    "/sys/kernel/tracing)");
	u32 = (uint32_t)r->page;
	rc |= pd_buf_add(b, head, sizeof(head));
	rc |= pd_buf_add(b, "0.6", 4);
	rc |= pd_buf_add(b, endian_long, 2);
	rc |= pd_buf_add(b, &u32, 4);
	rc |= pd_buf_add(b, "header_page", 12);
	snprintf(path, sizeof(path), "%s/events/header_page", dir);
	rc |= tdata_file(b, path, 8);
	rc |= pd_buf_add(b, "header_event", 13);
	snprintf(path, sizeof(path), "%s/events/header_event", dir);
	rc |= tdata_file(b, path, 8);
	u32 = 0;			/* no ftrace events */
	rc |= pd_buf_add(b, &u32, 4);
	nsys_at = b->len;
	rc |= pd_buf_add(b, &u32, 4);
	/* Each system once, with its events in the order given. */
	for (size_t i = 0; !rc && i < r->nr_ev; i++) {
		const char *name = r->ev[i].name;
		size_t sl = strcspn(name, ":"), cnt_at;
		uint32_t cnt = 0;
		bool seen = false;

		if (!r->ev[i].tracepoint)
			continue;
		for (size_t j = 0; j < i; j++)
			seen |= r->ev[j].tracepoint && !strncmp(r->ev[j].name, name, sl + 1);
		if (seen)
			continue;
		nsys++;
		rc |= pd_buf_add(b, name, sl);
		rc |= pd_buf_add(b, "", 1);
		cnt_at = b->len;
		rc |= pd_buf_add(b, &cnt, 4);
		for (size_t j = i; !rc && j < r->nr_ev; j++) {
			bool dup = false;

			if (!r->ev[j].tracepoint || strncmp(r->ev[j].name, name, sl + 1))
				continue;
			for (size_t k = i; k < j; k++)
				dup |= r->ev[k].tracepoint && !strcmp(r->ev[k].name, r->ev[j].name);
			if (dup)
				continue;
			snprintf(path, sizeof(path), "%s/events/%.*s/%s/format", dir, (int)sl, name,
			    r->ev[j].name + sl + 1);
			rc |= tdata_file(b, path, 8);
			cnt++;
		}
		if (!rc)
			memcpy(b->buf + cnt_at, &cnt, 4);
	}
	if (!rc) {
		u32 = (uint32_t)nsys;
		memcpy(b->buf + nsys_at, &u32, 4);
	}
	u32 = 0;			/* kallsyms: none, as perf 6.1 writes it */
	rc |= pd_buf_add(b, &u32, 4);
	snprintf(path, sizeof(path), "%s/printk_formats", dir);
	rc |= tdata_file(b, path, 4);
	snprintf(path, sizeof(path), "%s/saved_cmdlines", dir);
	rc |= tdata_file(b, path, 8);
	return rc ? PD_E_NOMEM : PD_OK;
}

struct pd_recorder *
pd_record_new(void)
{
	struct pd_recorder *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->obuf = (struct pd_buf)PD_BUF_INIT;
	r->err = (struct pd_buf)PD_BUF_INIT;
	r->tdata = (struct pd_buf)PD_BUF_INIT;
	r->out = -1;
	r->kernel_dso = SIZE_MAX;
	return r;
}

int
pd_record_open(struct pd_recorder *r, const struct pd_record_opts *o)
{
	const char *events = o->events && *o->events ? o->events : "cycles";
	size_t alloc = 0, nr_tids = 0, alloc_tids = 0;
	int32_t *tids = NULL;
	int rc;

	r->o = *o;
	r->first_time = UINT64_MAX;
	if (o->callgraph == PD_RECORD_CG_DWARF) {
		if (!USER_REGS_MASK)
			return rec_error(r, PD_E_USAGE, "DWARF call graphs are not supported on this "
			    "architecture; use --call-graph fp");
		if (o->stack_size > 65528 || (o->stack_size && o->stack_size < 8))
			return rec_error(r, PD_E_USAGE, "the DWARF stack size must be 8 to 65528 bytes");
		r->o.stack_size = (uint32_t)PAD8(o->stack_size ? o->stack_size : 8192);
	}
	if (o->compress > 22)
		return rec_error(r, PD_E_USAGE, "the zstd level must be 1 to 22");
	for (const char *p = events;;) {
		size_t n = strcspn(p, ",");

		rc = add_event(r, p, n, &alloc);
		if (rc < 0)
			return rc;
		if (!p[n])
			break;
		p += n + 1;
	}
	rc = parse_cpus(r);
	if (rc < 0)
		return rc;
	/*
	 * Kernel samples need the kernel map, which needs kallsyms addresses.
	 * Without them perf warns about restricted maps; record user space.
	 */
	r->kernel_ok = true;
	for (size_t i = 0; i < r->nr_ev; i++)
		if (r->ev[i].attr.flags & F_EXCL_KERNEL)
			r->kernel_ok = false;
	if (r->kernel_ok && !(o->force & PD_RECORD_FORCE_KERNEL) && !kernel_range(r)) {
		r->kernel_ok = false;
		rec_note(r, "kernel addresses are hidden (/proc/sys/kernel/kptr_restrict); "
		    "recording user space only");
	}
	if (r->kernel_ok && (o->force & PD_RECORD_FORCE_KERNEL))
		kernel_range(r);
	for (size_t i = 0; i < o->nr_pids; i++)
		if (list_tasks(o->pids[i], &tids, &nr_tids, &alloc_tids, false, NULL) < 0) {
			free(tids);
			return rec_error(r, PD_E_USAGE, "no process %d", (int)o->pids[i]);
		}
	for (size_t i = 0; i < r->nr_ev; i++) {
		setup_attr(r, &r->ev[i], i == 0);
		rc = open_event(r, i, tids, nr_tids);
		if (rc < 0) {
			free(tids);
			return rc;
		}
	}
	free(tids);
	/* A fallback may have turned the kernel off for the first event. */
	r->kernel_ok = false;
	for (size_t i = 0; i < r->nr_ev; i++)
		if (!(r->ev[i].attr.flags & F_EXCL_KERNEL))
			r->kernel_ok = true;
	if (r->kernel_ok && !r->ktext)
		r->kernel_ok = false;
	rc = map_rings(r);
	if (rc < 0)
		return rc;
	if (o->compress) {
		r->zc = ZSTD_createCStream();
		r->zbuf = malloc(8 + ZCHUNK);
		if (!r->zc || !r->zbuf)
			return PD_E_NOMEM;
		if (ZSTD_isError(ZSTD_CCtx_setParameter(r->zc, ZSTD_c_compressionLevel, o->compress)))
			return rec_error(r, PD_E_USAGE, "bad zstd level %d", o->compress);
	}
	for (size_t i = 0; i < r->nr_ev; i++)
		if (r->ev[i].tracepoint)
			return build_tracing_data(r);
	return PD_OK;
}

/* ---------------------------------------------------------------- */
/* Output. */

static int
write_all(struct pd_recorder *r, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t k = write(r->out, c, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return rec_error(r, PD_E_IO, "write error: %s",
			    k < 0 ? strerror(errno) : "short write");
		c += k;
		n -= (size_t)k;
	}
	return PD_OK;
}

static int
out_flush(struct pd_recorder *r)
{
	int rc = PD_OK;

	if (r->obuf.len)
		rc = write_all(r, r->obuf.buf, r->obuf.len);
	pd_buf_reset(&r->obuf);
	return rc;
}

/* Append to the data section. */
static int
out_add(struct pd_recorder *r, const void *p, size_t n)
{
	if (r->failed)
		return PD_E_IO;
	if (pd_buf_add(&r->obuf, p, n) < 0)
		return PD_E_NOMEM;
	r->data_size += n;
	if (r->obuf.len >= OUT_FLUSH)
		return out_flush(r);
	return PD_OK;
}

static size_t
trailer_size(const struct pd_recorder *r)
{
	uint64_t st = r->ev[0].attr.sample_type;

	return 8 * (size_t)__builtin_popcountll(st & (PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
	    PERF_SAMPLE_ID | PERF_SAMPLE_STREAM_ID | PERF_SAMPLE_CPU | PERF_SAMPLE_IDENTIFIER));
}

/* The DSO named NAME (files and the kernel only) in *IDX, SIZE_MAX for others. */
static int
add_dso(struct pd_recorder *r, const char *name, bool kernel, size_t *idx)
{
	*idx = SIZE_MAX;
	if (name[0] != '/' && strcmp(name, "[kernel.kallsyms]"))
		return PD_OK;
	for (size_t i = 0; i < r->nr_dsos; i++)
		if (!strcmp(r->dsos[i].name, name)) {
			*idx = i;
			return PD_OK;
		}
	if (PD_GROW(r->dsos, r->nr_dsos + 1, r->alloc_dsos) < 0)
		return PD_E_NOMEM;
	if (!(r->dsos[r->nr_dsos].name = strdup(name)))
		return PD_E_NOMEM;
	r->dsos[r->nr_dsos].kernel = kernel;
	r->dsos[r->nr_dsos].hit = false;
	*idx = r->nr_dsos++;
	return PD_OK;
}

static struct rec_proc *
proc_get(struct pd_recorder *r, int32_t pid, bool create)
{
	struct rec_proc *p;

	HASH_FIND(hh, r->procs, &pid, sizeof(pid), p);
	if (p || !create)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	HASH_ADD(hh, r->procs, pid, sizeof(p->pid), p);
	return p;
}

static int
proc_map(struct pd_recorder *r, int32_t pid, uint64_t start, uint64_t len, size_t dso)
{
	struct rec_proc *p;

	if (dso == SIZE_MAX || !(p = proc_get(r, pid, true)))
		return dso == SIZE_MAX ? PD_OK : PD_E_NOMEM;
	if (PD_GROW(p->maps, p->nr + 1, p->alloc) < 0)
		return PD_E_NOMEM;
	p->maps[p->nr++] = (struct rec_map){ start, start + len, dso };
	return PD_OK;
}

/* Mark the DSO holding IP in PID (the newest mapping wins). */
static void
mark_hit(struct pd_recorder *r, struct rec_proc *p, uint64_t ip, bool kernel)
{
	if (kernel) {
		if (r->kernel_dso != SIZE_MAX)
			r->dsos[r->kernel_dso].hit = true;
		return;
	}
	if (!p)
		return;
	if (p->last < p->nr && ip >= p->maps[p->last].start && ip < p->maps[p->last].end) {
		r->dsos[p->maps[p->last].dso].hit = true;
		return;
	}
	for (size_t i = p->nr; i-- > 0;)
		if (ip >= p->maps[i].start && ip < p->maps[i].end) {
			r->dsos[p->maps[i].dso].hit = true;
			p->last = i;
			return;
		}
}

/*
 * A synthesized record: header, BODY, NAME NUL-padded to 8, then the
 * zeroed sample_id trailer (time 0, id 0: perf delivers it at once and
 * gives it to the first event).
 */
static int
synth(struct pd_recorder *r, uint32_t type, uint16_t misc, const void *body, size_t blen,
    const char *name)
{
	unsigned char rec[8 + 72 + 4096 + 64];
	size_t nlen = strlen(name), off, size;

	if (nlen > 4095)
		nlen = 4095;
	off = 8 + blen;
	size = PAD8(off + nlen + 1) + trailer_size(r);
	memset(rec, 0, size);
	memcpy(rec + 8, body, blen);
	memcpy(rec + off, name, nlen);
	memcpy(rec, &type, 4);
	memcpy(rec + 4, &misc, 2);
	{
		uint16_t s = (uint16_t)size;

		memcpy(rec + 6, &s, 2);
	}
	return out_add(r, rec, size);
}

static int
synth_comm(struct pd_recorder *r, int32_t pid, int32_t tid, const char *comm)
{
	int32_t body[2] = { pid, tid };

	return synth(r, PERF_RECORD_COMM, 0, body, sizeof(body), comm);
}

static int
synth_kernel(struct pd_recorder *r)
{
	uint64_t body[4];
	uint32_t pid = UINT32_MAX, tid = 0;

	memcpy(body, &pid, 4);
	memcpy((char *)body + 4, &tid, 4);
	body[1] = r->ktext;
	body[2] = r->ketext - r->ktext;
	body[3] = r->ktext;
	if (add_dso(r, "[kernel.kallsyms]", true, &r->kernel_dso) < 0)
		return PD_E_NOMEM;
	return synth(r, PERF_RECORD_MMAP, PERF_RECORD_MISC_KERNEL, body, sizeof(body),
	    "[kernel.kallsyms]_text");
}

/* MMAP2 for each executable mapping of process PID (/proc/PID/maps). */
static int
synth_maps(struct pd_recorder *r, int32_t pid)
{
	char path[64], line[4096 + 256];
	FILE *f;
	int rc = PD_OK;
	bool data = r->o.callgraph == PD_RECORD_CG_DWARF;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/maps", (int)pid, (int)pid);
	f = fopen(path, "re");
	if (!f)
		return PD_OK;	/* gone, or a kernel thread */
	while (rc == PD_OK && fgets(line, sizeof(line), f)) {
		unsigned long long start, end, pgoff, ino;
		unsigned maj, min;
		char perms[8];
		int n = 0;
		unsigned char body[64];
		uint32_t prot = 0, flags, u32;
		uint64_t u64;
		char *name, *nl;
		size_t dso = SIZE_MAX;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &pgoff,
		    &maj, &min, &ino, &n) < 7 || n == 0)
			continue;
		if (strlen(perms) < 4 || (perms[2] != 'x' && !data))
			continue;
		name = line + n;
		nl = strchr(name, '\n');
		if (nl)
			*nl = '\0';
		if (!*name)
			name = (char *)"//anon";
		prot = (perms[0] == 'r' ? 1 : 0) | (perms[1] == 'w' ? 2 : 0) | (perms[2] == 'x' ? 4 : 0);
		flags = perms[3] == 's' ? 1 : 2;
		memset(body, 0, sizeof(body));
		memcpy(body, &pid, 4);
		memcpy(body + 4, &pid, 4);
		u64 = start;
		memcpy(body + 8, &u64, 8);
		u64 = end - start;
		memcpy(body + 16, &u64, 8);
		u64 = pgoff;
		memcpy(body + 24, &u64, 8);
		u32 = maj;
		memcpy(body + 32, &u32, 4);
		u32 = min;
		memcpy(body + 36, &u32, 4);
		u64 = ino;
		memcpy(body + 40, &u64, 8);
		memcpy(body + 56, &prot, 4);
		memcpy(body + 60, &flags, 4);
		if (perms[2] == 'x' && (add_dso(r, name, false, &dso) < 0 ||
		    proc_map(r, pid, start, end - start, dso) < 0))
			rc = PD_E_NOMEM;
		else
			rc = synth(r, PERF_RECORD_MMAP2, (uint16_t)(PERF_RECORD_MISC_USER |
			    (perms[2] == 'x' ? 0 : MISC_MMAP_DATA)), body, 64, name);
	}
	fclose(f);
	return rc;
}

/* COMM for every thread of PID (TID 0: all), then its maps. */
static int
synth_process(struct pd_recorder *r, int32_t pid)
{
	int32_t *tids = NULL;
	size_t nr = 0, alloc = 0;
	int rc = PD_OK;

	if (list_tasks(pid, &tids, &nr, &alloc, false, NULL) < 0)
		return PD_OK;
	for (size_t i = 0; i < nr && rc == PD_OK; i++) {
		char path[64], comm[64];

		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tids[i]);
		if (read_line(path, comm, sizeof(comm)) < 0)
			continue;
		rc = synth_comm(r, pid, tids[i], comm);
	}
	free(tids);
	if (rc == PD_OK)
		rc = synth_maps(r, pid);
	return rc;
}

static int
synth_all(struct pd_recorder *r)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int rc = PD_OK;

	if (!d)
		return rec_error(r, PD_E_IO, "cannot read /proc: %s", strerror(errno));
	while (rc == PD_OK && (de = readdir(d))) {
		char *end;
		long p = strtol(de->d_name, &end, 10);

		if (*end || p <= 0)
			continue;
		rc = synth_process(r, (int32_t)p);
	}
	closedir(d);
	return rc;
}

/* ---------------------------------------------------------------- */
/* Features (FORMAT-NOTES.md 1.4, 1.5). */

static int
feat_string(struct pd_buf *b, const char *s)
{
	size_t n = strlen(s) + 1;
	uint32_t len = (uint32_t)((n + 63) & ~(size_t)63);
	char zero[64] = { 0 };

	if (pd_buf_add(b, &len, 4) < 0 || pd_buf_add(b, s, n - 1) < 0 ||
	    pd_buf_add(b, zero, len - (n - 1)) < 0)
		return -1;
	return 0;
}

static void
squash(char *s)
{
	char *w = s;
	bool sp = false;

	for (char *p = s; *p; p++) {
		if (*p == ' ' || *p == '\t') {
			sp = w != s;
			continue;
		}
		if (sp)
			*w++ = ' ';
		sp = false;
		*w++ = *p;
	}
	*w = '\0';
}

/* The GNU build-id in an ELF notes blob. */
static int
notes_build_id(const unsigned char *p, size_t len, unsigned char *id)
{
	while (len >= 12) {
		uint32_t namesz, descsz, type;
		size_t nlen, dlen;

		memcpy(&namesz, p, 4);
		memcpy(&descsz, p + 4, 4);
		memcpy(&type, p + 8, 4);
		nlen = ((size_t)namesz + 3) & ~(size_t)3;
		dlen = ((size_t)descsz + 3) & ~(size_t)3;
		if (nlen > len - 12 || dlen > len - 12 - nlen)
			return 0;
		if (type == 3 && namesz == 4 && !memcmp(p + 12, "GNU", 4) && descsz && descsz <= 20) {
			memcpy(id, p + 12 + nlen, descsz);
			return (int)descsz;
		}
		p += 12 + nlen + dlen;
		len -= 12 + nlen + dlen;
	}
	return 0;
}

static int
elf_build_id(const char *path, unsigned char *id)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), n = 0;
	Elf *e;
	Elf_Scn *scn = NULL;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e) {
		close(fd);
		return 0;
	}
	while (!n && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		if (d && d->d_buf)
			n = notes_build_id(d->d_buf, d->d_size, id);
	}
	elf_end(e);
	close(fd);
	return n;
}

static int
kernel_build_id(unsigned char *id)
{
	unsigned char buf[4096];
	int fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 ? notes_build_id(buf, (size_t)n, id) : 0;
}

static int
feat_build_id(struct pd_recorder *r, struct pd_buf *b)
{
	/* DWARF samples reach their callers through any mapped file: keep them all. */
	bool all = r->o.callgraph == PD_RECORD_CG_DWARF;

	for (size_t i = 0; i < r->nr_dsos; i++) {
		unsigned char rec[36 + 4096 + 64] = { 0 }, id[20] = { 0 };
		int n = !all && !r->dsos[i].hit ? 0 : r->dsos[i].kernel ? kernel_build_id(id) :
		    elf_build_id(r->dsos[i].name, id);
		size_t nlen = strlen(r->dsos[i].name), size;
		uint16_t misc, s16;
		int32_t pid = -1;

		if (n <= 0 || nlen > 4095)
			continue;
		size = 36 + ((nlen + 1 + 63) & ~(size_t)63);
		misc = (uint16_t)((r->dsos[i].kernel ? PERF_RECORD_MISC_KERNEL :
		    PERF_RECORD_MISC_USER) | (1u << 15));
		s16 = (uint16_t)size;
		memcpy(rec + 4, &misc, 2);
		memcpy(rec + 6, &s16, 2);
		memcpy(rec + 8, &pid, 4);
		memcpy(rec + 12, id, 20);
		rec[32] = (unsigned char)n;
		memcpy(rec + 36, r->dsos[i].name, nlen);
		if (pd_buf_add(b, rec, size) < 0)
			return -1;
	}
	return 0;
}

static int
feat_body(struct pd_recorder *r, int feat, struct pd_buf *b)
{
	struct utsname u;
	char buf[512], v[512];

	uname(&u);
	switch (feat) {
	case HEADER_TRACING_DATA:
		return pd_buf_add(b, r->tdata.buf, r->tdata.len);
	case HEADER_BUILD_ID:
		return feat_build_id(r, b);
	case HEADER_HOSTNAME:
		return feat_string(b, u.nodename);
	case HEADER_OSRELEASE:
		return feat_string(b, u.release);
	case HEADER_VERSION:
		return feat_string(b, PD_VERSION " (pdrecord)");
	case HEADER_ARCH:
		return feat_string(b, u.machine);
	case HEADER_NRCPUS: {
		uint32_t n[2];

		n[0] = (uint32_t)sysconf(_SC_NPROCESSORS_CONF);
		n[1] = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
		return pd_buf_add(b, n, sizeof(n));
	}
	case HEADER_CPUDESC:
		if (proc_field("/proc/cpuinfo", "model name", buf, sizeof(buf)) < 0)
			snprintf(buf, sizeof(buf), "%s", u.machine);
		squash(buf);
		return feat_string(b, buf);
	case HEADER_CPUID: {
		char fam[32] = "0", model[32] = "0", step[32] = "0";

		if (proc_field("/proc/cpuinfo", "vendor_id", v, sizeof(v)) < 0)
			snprintf(v, sizeof(v), "unknown");
		proc_field("/proc/cpuinfo", "cpu family", fam, sizeof(fam));
		proc_field("/proc/cpuinfo", "model", model, sizeof(model));
		proc_field("/proc/cpuinfo", "stepping", step, sizeof(step));
		snprintf(buf, sizeof(buf), "%.200s,%.31s,%.31s,%.31s", v, fam, model, step);
		return feat_string(b, buf);
	}
	case HEADER_TOTAL_MEM: {
		uint64_t kb = 0;

		if (proc_field("/proc/meminfo", "MemTotal", buf, sizeof(buf)) == 0)
			kb = strtoull(buf, NULL, 10);
		return pd_buf_add(b, &kb, 8);
	}
	case HEADER_CMDLINE: {
		uint32_t n = (uint32_t)(r->o.argc > 0 ? r->o.argc : 1);
		ssize_t k = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

		buf[k > 0 ? k : 0] = '\0';
		if (pd_buf_add(b, &n, 4) < 0 || feat_string(b, k > 0 ? buf : "pdrecord") < 0)
			return -1;
		for (int i = 1; i < r->o.argc; i++)
			if (feat_string(b, r->o.argv[i]) < 0)
				return -1;
		return 0;
	}
	case HEADER_EVENT_DESC: {
		uint32_t n = (uint32_t)r->nr_ev, sz = sizeof(struct rec_attr);

		if (pd_buf_add(b, &n, 4) < 0 || pd_buf_add(b, &sz, 4) < 0)
			return -1;
		for (size_t i = 0; i < r->nr_ev; i++) {
			struct rec_event *e = &r->ev[i];
			uint32_t nid = (uint32_t)e->nr_ids;

			if (pd_buf_add(b, &e->attr, sz) < 0 || pd_buf_add(b, &nid, 4) < 0 ||
			    feat_string(b, e->name) < 0 || pd_buf_add(b, e->ids, 8 * e->nr_ids) < 0)
				return -1;
		}
		return 0;
	}
	case 21: {	/* HEADER_SAMPLE_TIME */
		uint64_t t[2] = { r->first_time == UINT64_MAX ? 0 : r->first_time, r->last_time };

		return pd_buf_add(b, t, sizeof(t));
	}
	case HEADER_COMPRESSED_FEAT: {
		/* version 0, type 1 (zstd), level, ratio, the most one record inflates to */
		uint32_t c[5] = { 0, 1, (uint32_t)r->o.compress, 0, (uint32_t)(r->page + r->ring_len) };

		if (!r->zc)
			return 0;
		if (r->zbytes)
			c[3] = (uint32_t)(r->raw_bytes / r->zbytes);
		return pd_buf_add(b, c, sizeof(c));
	}
	}
	return 0;
}

static const int file_feats[] = {
	HEADER_TRACING_DATA, HEADER_BUILD_ID, HEADER_HOSTNAME, HEADER_OSRELEASE, HEADER_VERSION, HEADER_ARCH,
	HEADER_NRCPUS, HEADER_CPUDESC, HEADER_CPUID, HEADER_TOTAL_MEM, HEADER_CMDLINE,
	HEADER_EVENT_DESC, 21, HEADER_COMPRESSED_FEAT,
};
#define NR_FILE_FEATS (sizeof(file_feats) / sizeof(file_feats[0]))

/* ---------------------------------------------------------------- */
/* Start, drain, finish. */

static int
write_pipe_head(struct pd_recorder *r)
{
	uint64_t h[2] = { 0x32454c4946524550ull, 16 };
	int rc = out_add(r, h, sizeof(h));

	for (size_t i = 0; rc == PD_OK && i < r->nr_ev; i++) {
		struct rec_event *e = &r->ev[i];
		size_t size = 8 + sizeof(e->attr) + 8 * e->nr_ids;
		uint32_t type = PERF_RECORD_HEADER_ATTR;
		uint16_t misc = 0, s16 = (uint16_t)size;
		unsigned char hdr[8];

		if (size > UINT16_MAX)
			return rec_error(r, PD_E_LIMIT, "too many ids for a pipe HEADER_ATTR");
		memcpy(hdr, &type, 4);
		memcpy(hdr + 4, &misc, 2);
		memcpy(hdr + 6, &s16, 2);
		rc = out_add(r, hdr, 8);
		if (rc == PD_OK)
			rc = out_add(r, &e->attr, sizeof(e->attr));
		if (rc == PD_OK)
			rc = out_add(r, e->ids, 8 * e->nr_ids);
	}
	/* Features as perf 6.1 sends them: not padded, then the end marker. */
	for (size_t i = 0; rc == PD_OK && i <= NR_FILE_FEATS; i++) {
		struct pd_buf b = PD_BUF_INIT;
		uint64_t feat = i < NR_FILE_FEATS ? (uint64_t)file_feats[i] : HEADER_LAST_FEATURE;
		unsigned char hdr[16];
		uint32_t type = PERF_RECORD_HEADER_FEATURE;
		uint16_t misc = 0, s16;

		if (feat == HEADER_BUILD_ID || feat == 21 || feat == HEADER_TRACING_DATA)
			continue;
		if (feat != HEADER_LAST_FEATURE && feat_body(r, (int)feat, &b) < 0) {
			pd_buf_release(&b);
			return PD_E_NOMEM;
		}
		if (16 + b.len > UINT16_MAX || (feat != HEADER_LAST_FEATURE && !b.len)) {
			pd_buf_release(&b);
			continue;
		}
		s16 = (uint16_t)(16 + b.len);
		memcpy(hdr, &type, 4);
		memcpy(hdr + 4, &misc, 2);
		memcpy(hdr + 6, &s16, 2);
		memcpy(hdr + 8, &feat, 8);
		if ((rc = out_add(r, hdr, 16)) == PD_OK)
			rc = out_add(r, b.buf, b.len);
		pd_buf_release(&b);
	}
	/* HEADER_TRACING_DATA: the size in the record, the data after it. */
	if (rc == PD_OK && r->tdata.len) {
		uint32_t th[4] = { PERF_RECORD_HEADER_TRACING_DATA, 16u << 16,
		    (uint32_t)PAD8(r->tdata.len), 0 };
		uint64_t zero = 0;

		if (r->tdata.len > UINT32_MAX - 8)
			return rec_error(r, PD_E_LIMIT, "tracing data too large");
		rc = out_add(r, th, sizeof(th));
		if (rc == PD_OK)
			rc = out_add(r, r->tdata.buf, r->tdata.len);
		if (rc == PD_OK)
			rc = out_add(r, &zero, PAD8(r->tdata.len) - r->tdata.len);
	}
	/* EVENT_UPDATE (NAME): how perf names the events of a pipe. */
	for (size_t i = 0; rc == PD_OK && i < r->nr_ev; i++) {
		unsigned char rec[8 + 16 + sizeof(r->ev[i].name) + 8] = { 0 };
		uint32_t type = PERF_RECORD_EVENT_UPDATE;
		uint64_t kind = 2, id = r->ev[i].nr_ids ? r->ev[i].ids[0] : 0;
		size_t size = 24 + PAD8(strlen(r->ev[i].name) + 1);
		uint16_t s16 = (uint16_t)size;

		memcpy(rec, &type, 4);
		memcpy(rec + 6, &s16, 2);
		memcpy(rec + 8, &kind, 8);
		memcpy(rec + 16, &id, 8);
		memcpy(rec + 24, r->ev[i].name, strlen(r->ev[i].name));
		rc = out_add(r, rec, size);
	}
	return rc;
}

/*
 * The file header with the id arrays and the attrs after it; the data
 * follows.  Written again at the end with data.size and the features.
 */
static int
file_header(struct pd_recorder *r, unsigned char *h, uint64_t feat_bits)
{
	uint64_t v[13] = { 0 };
	uint64_t ids_size = 0;

	for (size_t i = 0; i < r->nr_ev; i++)
		ids_size += 8 * r->ev[i].nr_ids;
	v[0] = 0x32454c4946524550ull;
	v[1] = 104;
	v[2] = sizeof(struct rec_attr) + 16;
	v[3] = 104 + ids_size;
	v[4] = r->nr_ev * v[2];
	v[5] = r->data_off;
	v[6] = r->data_size;
	v[9] = feat_bits;
	memcpy(h, v, 104);
	return PD_OK;
}

static int
write_file_head(struct pd_recorder *r)
{
	unsigned char h[104];
	uint64_t off = 104;
	int rc;

	for (size_t i = 0; i < r->nr_ev; i++)
		off += 8 * r->ev[i].nr_ids;
	r->data_off = off + r->nr_ev * (sizeof(struct rec_attr) + 16);
	file_header(r, h, 0);
	rc = write_all(r, h, sizeof(h));
	for (size_t i = 0; rc == PD_OK && i < r->nr_ev; i++)
		rc = write_all(r, r->ev[i].ids, 8 * r->ev[i].nr_ids);
	off = 104;
	for (size_t i = 0; rc == PD_OK && i < r->nr_ev; i++) {
		uint64_t sec[2] = { off, 8 * r->ev[i].nr_ids };

		rc = write_all(r, &r->ev[i].attr, sizeof(r->ev[i].attr));
		if (rc == PD_OK)
			rc = write_all(r, sec, sizeof(sec));
		off += sec[1];
	}
	return rc;
}

int
pd_record_start(struct pd_recorder *r, int out_fd, int pipe_mode)
{
	int rc;

	r->out = out_fd;
	r->pipe = pipe_mode;
	rc = pipe_mode ? write_pipe_head(r) : write_file_head(r);
	if (rc < 0)
		return rc;
	r->data_size = 0;
	if (r->kernel_ok && (rc = synth_kernel(r)) < 0)
		return rc;
	if (r->o.system_wide)
		rc = synth_all(r);
	else
		for (size_t i = 0; rc == PD_OK && i < r->o.nr_pids; i++)
			rc = synth_process(r, r->o.pids[i]);
	if (rc == PD_OK)
		rc = out_flush(r);
	if (rc < 0)
		return rc;
	r->started = true;
	/* A forked command is enabled by its exec (enable_on_exec). */
	if (r->o.system_wide || r->o.nr_pids || r->o.child <= 0)
		for (size_t i = 0; i < r->nr_fds; i++)
			ioctl(r->fds[i].fd, REC_IOC_ENABLE, 0);
	return PD_OK;
}

/* The DSOs a sample and its call chain hit (perf marks them for BUILD_ID). */
static void
scan_sample(struct pd_recorder *r, const unsigned char *p, size_t size, uint16_t misc)
{
	uint64_t st = r->ev[0].attr.sample_type, ip, nr = 0;
	size_t off = 8;
	int32_t pid;
	struct rec_proc *proc;
	bool kernel;

	if (st & PERF_SAMPLE_IDENTIFIER)
		off += 8;
	if (off + 16 > size)
		return;
	memcpy(&ip, p + off, 8);
	memcpy(&pid, p + off + 8, 4);
	off += 16 + 8;				/* IP, TID, TIME */
	off += st & PERF_SAMPLE_CPU ? 8 : 0;
	off += 8;				/* PERIOD */
	proc = proc_get(r, pid, false);
	kernel = (misc & PERF_RECORD_MISC_CPUMODE_MASK) == PERF_RECORD_MISC_KERNEL;
	mark_hit(r, proc, ip, kernel);
	if (!(st & PERF_SAMPLE_CALLCHAIN) || off + 8 > size)
		return;
	memcpy(&nr, p + off, 8);
	off += 8;
	if (nr > (size - off) / 8)
		return;
	for (uint64_t i = 0; i < nr; i++) {
		memcpy(&ip, p + off + 8 * i, 8);
		if (ip >= PERF_CONTEXT_MAX)
			kernel = ip == PERF_CONTEXT_KERNEL;
		else
			mark_hit(r, proc, ip, kernel);
	}
}

/* Look at what a drained record says: sample times, mapped DSOs, losses. */
static int
scan_record(struct pd_recorder *r, const unsigned char *p, size_t size)
{
	uint32_t type;
	uint16_t misc;

	memcpy(&type, p, 4);
	memcpy(&misc, p + 4, 2);
	if (type == PERF_RECORD_SAMPLE && size >= 40) {
		uint64_t t;

		/* [IDENTIFIER,] IP, TID, TIME: the time is the 3rd or 4th u64 of the body. */
		memcpy(&t, p + (r->nr_ev > 1 ? 32 : 24), 8);
		if (t < r->first_time)
			r->first_time = t;
		if (t > r->last_time)
			r->last_time = t;
		r->st.samples++;
		scan_sample(r, p, size, misc);
	} else if (type == PERF_RECORD_MMAP2 && size > 72 && !(misc & MISC_MMAP_DATA)) {
		char name[4096];
		size_t n = size - 72 < sizeof(name) - 1 ? size - 72 : sizeof(name) - 1, dso;
		int32_t pid;
		uint64_t start, len;
		int rc;

		memcpy(name, p + 72, n);
		name[n] = '\0';
		memcpy(&pid, p + 8, 4);
		memcpy(&start, p + 16, 8);
		memcpy(&len, p + 24, 8);
		rc = add_dso(r, name, false, &dso);
		return rc < 0 ? rc : proc_map(r, pid, start, len, dso);
	} else if (type == PERF_RECORD_COMM && (misc & PERF_RECORD_MISC_COMM_EXEC) && size >= 16) {
		int32_t pid;
		struct rec_proc *proc;

		/* A new image: the old mappings are gone. */
		memcpy(&pid, p + 8, 4);
		if ((proc = proc_get(r, pid, false)))
			proc->nr = proc->last = 0;
	} else if (type == PERF_RECORD_FORK && size >= 24) {
		int32_t pid, ppid;
		struct rec_proc *parent, *child;

		memcpy(&pid, p + 8, 4);
		memcpy(&ppid, p + 12, 4);
		/* A new process starts with its parent's mappings; a thread shares them. */
		if (pid != ppid && (parent = proc_get(r, ppid, false)) && parent->nr &&
		    (child = proc_get(r, pid, true))) {
			if (PD_GROW(child->maps, parent->nr, child->alloc) < 0)
				return PD_E_NOMEM;
			memcpy(child->maps, parent->maps, parent->nr * sizeof(*parent->maps));
			child->nr = parent->nr;
			child->last = 0;
		}
	} else if (type == PERF_RECORD_LOST && size >= 24) {
		uint64_t lost;

		memcpy(&lost, p + 16, 8);
		r->st.lost += lost;
	}
	return PD_OK;
}

/*
 * -z: the ring's bytes as COMPRESSED records, one zstd stream for the whole
 * recording, flushed at the end of each chunk so that each record decodes
 * to at most the ring's size (the mmap_len of the COMPRESSED feature).
 */
static int
out_compressed(struct pd_recorder *r, const void *p, size_t n)
{
	ZSTD_inBuffer in = { p, n, 0 };

	r->raw_bytes += n;
	for (;;) {
		ZSTD_outBuffer out = { r->zbuf + 8, ZCHUNK, 0 };
		size_t left = ZSTD_compressStream2(r->zc, &out, &in, ZSTD_e_flush);
		int rc;

		if (ZSTD_isError(left))
			return rec_error(r, PD_E_IO, "zstd: %s", ZSTD_getErrorName(left));
		if (out.pos) {
			uint32_t type = PERF_RECORD_COMPRESSED;
			uint16_t misc = 0, size = (uint16_t)(8 + out.pos);

			memcpy(r->zbuf, &type, 4);
			memcpy(r->zbuf + 4, &misc, 2);
			memcpy(r->zbuf + 6, &size, 2);
			rc = out_add(r, r->zbuf, size);
			if (rc < 0)
				return rc;
			r->zbytes += size;
		}
		if (left == 0 && in.pos == in.size)
			return PD_OK;
	}
}

static int
drain_one(struct pd_recorder *r, struct rec_fd *f, bool *wrote)
{
	uint64_t head = __atomic_load_n((uint64_t *)(f->base + MMAP_DATA_HEAD), __ATOMIC_ACQUIRE);
	uint64_t tail = *(uint64_t *)(f->base + MMAP_DATA_TAIL);
	const unsigned char *data = f->base + r->page;
	size_t mask = r->ring_len - 1, len, first;
	int rc;

	if (head == tail)
		return PD_OK;
	len = (size_t)(head - tail);
	if (len > r->ring_len)
		return rec_error(r, PD_E_CORRUPT, "ring buffer overrun");
	first = r->ring_len - (tail & mask);
	if (first > len)
		first = len;
	memcpy(r->scratch, data + (tail & mask), first);
	memcpy(r->scratch + first, data, len - first);
	/* Records are whole in [tail, head); scan, then copy them verbatim. */
	for (size_t off = 0; off + 8 <= len;) {
		uint16_t size;

		memcpy(&size, r->scratch + off + 6, 2);
		if (size < 8 || size > len - off)
			break;
		rc = scan_record(r, r->scratch + off, size);
		if (rc < 0)
			return rc;
		off += size;
	}
	rc = r->zc ? out_compressed(r, r->scratch, len) : out_add(r, r->scratch, len);
	__atomic_store_n((uint64_t *)(f->base + MMAP_DATA_TAIL), head, __ATOMIC_RELEASE);
	*wrote = true;
	return rc;
}

static int
drain(struct pd_recorder *r)
{
	bool wrote = false;
	int rc = PD_OK;

	for (size_t i = 0; rc == PD_OK && i < r->nr_fds; i++)
		if (r->fds[i].base)
			rc = drain_one(r, &r->fds[i], &wrote);
	if (rc == PD_OK && wrote) {
		/* FINISHED_ROUND: perf may sort and flush what came before. */
		uint32_t h[2] = { PERF_RECORD_FINISHED_ROUND, 8u << 16 };

		rc = out_add(r, h, sizeof(h));
		r->st.rounds++;
	}
	if (rc == PD_OK)
		rc = out_flush(r);
	return rc;
}

int
pd_record_poll(struct pd_recorder *r, int timeout_ms)
{
	int n = poll(r->pfd, r->nr_fds, timeout_ms);
	size_t hup = 0;

	if (n < 0 && errno != EINTR)
		return rec_error(r, PD_E_IO, "poll: %s", strerror(errno));
	n = drain(r);
	if (n < 0)
		return n;
	for (size_t i = 0; i < r->nr_fds; i++)
		if (r->pfd[i].revents & (POLLHUP | POLLERR))
			hup++;
	/* Every target thread has ended (attach mode). */
	return r->o.nr_pids && hup == r->nr_fds ? PD_END : PD_OK;
}

int
pd_record_finish(struct pd_recorder *r)
{
	int rc;

	if (!r->started)
		return rec_error(r, PD_E_USAGE, "recording was not started");
	for (size_t i = 0; i < r->nr_fds; i++)
		ioctl(r->fds[i].fd, REC_IOC_DISABLE, 0);
	rc = drain(r);
	if (rc < 0 || r->pipe)
		return rc;
	{
		struct pd_buf bodies = PD_BUF_INIT;
		uint64_t sec[2 * NR_FILE_FEATS], bits = 0, off;
		size_t ns = 0;
		unsigned char h[104];

		off = r->data_off + r->data_size + 16 * NR_FILE_FEATS;
		for (size_t i = 0; i < NR_FILE_FEATS; i++) {
			size_t before = bodies.len;

			if (feat_body(r, file_feats[i], &bodies) < 0) {
				pd_buf_release(&bodies);
				return PD_E_NOMEM;
			}
			if (bodies.len == before)
				continue;
			sec[2 * ns] = off + before;
			sec[2 * ns + 1] = bodies.len - before;
			ns++;
			bits |= 1ull << file_feats[i];
		}
		/* The table has a slot per set bit; shift the bodies if some were empty. */
		for (size_t i = 0; i < ns; i++)
			sec[2 * i] -= 16 * (NR_FILE_FEATS - ns);
		rc = write_all(r, sec, 16 * ns);
		if (rc == PD_OK)
			rc = write_all(r, bodies.buf, bodies.len);
		pd_buf_release(&bodies);
		file_header(r, h, bits);
		if (rc == PD_OK && pwrite(r->out, h, sizeof(h), 0) != (ssize_t)sizeof(h))
			rc = rec_error(r, PD_E_IO, "cannot rewrite the header: %s", strerror(errno));
	}
	return rc;
}

void
pd_record_free(struct pd_recorder *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nr_fds; i++) {
		if (r->fds[i].base)
			munmap(r->fds[i].base, r->page + r->ring_len);
		close(r->fds[i].fd);
	}
	for (size_t i = 0; i < r->nr_ev; i++)
		free(r->ev[i].ids);
	for (size_t i = 0; i < r->nr_dsos; i++)
		free(r->dsos[i].name);
	{
		struct rec_proc *p, *t;

		HASH_ITER(hh, r->procs, p, t) {
			HASH_DEL(r->procs, p);
			free(p->maps);
			free(p);
		}
	}
	free(r->dsos);
	free(r->ev);
	free(r->fds);
	free(r->pfd);
	free(r->cpus);
	free(r->scratch);
	free(r->zbuf);
	ZSTD_freeCStream(r->zc);
	pd_buf_release(&r->tdata);
	pd_buf_release(&r->obuf);
	pd_buf_release(&r->err);
	free(r);
}
