/*
 * pd-internal.h - what the library's modules share and the tools never see:
 * the bounded cursor, the growth buffer, the arena, the array growth macro,
 * the perf ABI constants, and the reader's view of events.
 */
#ifndef PD_INTERNAL_H
#define PD_INTERNAL_H

#include <byteswap.h>
#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "pd.h"

/* Named limits on sizes taken from the file (curl dynbuf style). */
#define PD_MAX_STRING		(1u << 20)	/* a feature string */
#define PD_MAX_ATTRS		4096		/* events in one file */
#define PD_MAX_DAMAGE		16		/* classes of damage noted per reader */
#define PD_MAX_IDS		(1u << 22)	/* sample ids over all events */
#define PD_MAX_CALLCHAIN	4096		/* frames kept of one chain */
#define PD_MAX_INFLATE		(64u << 20)	/* zstd output of one COMPRESSED record */
#define PD_MAX_PIPE_RECORD	(1u << 20)	/* payload following a pipe HEADER_* */
#define PD_MAX_ROUND_BYTES	(128u << 20)	/* records queued for ordering */

/* ---------------------------------------------------------------- */
/* Bounded cursor (STYLE.md 2.3): remaining-length checks, sticky errors. */

struct pd_cur {
	const unsigned char *p;
	size_t left;
	unsigned swap:1;
	unsigned bad:1;
};

static inline struct pd_cur
pd_cur_make(const void *p, size_t len, bool swap)
{
	struct pd_cur c = { p, len, swap, 0 };
	return c;
}

static inline void
pd_cur_take(struct pd_cur *c, void *dst, size_t n)
{
	if (c->bad || n > c->left) {
		c->bad = 1;
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, c->p, n);
	c->p += n;
	c->left -= n;
}

static inline void
pd_cur_skip(struct pd_cur *c, size_t n)
{
	if (c->bad || n > c->left) {
		c->bad = 1;
		return;
	}
	c->p += n;
	c->left -= n;
}

static inline uint8_t
pd_cur_u8(struct pd_cur *c)
{
	uint8_t v;

	pd_cur_take(c, &v, 1);
	return v;
}

static inline uint16_t
pd_cur_u16(struct pd_cur *c)
{
	uint16_t v;

	pd_cur_take(c, &v, 2);
	return c->swap ? bswap_16(v) : v;
}

static inline uint32_t
pd_cur_u32(struct pd_cur *c)
{
	uint32_t v;

	pd_cur_take(c, &v, 4);
	return c->swap ? bswap_32(v) : v;
}

static inline uint64_t
pd_cur_u64(struct pd_cur *c)
{
	uint64_t v;

	pd_cur_take(c, &v, 8);
	return c->swap ? bswap_64(v) : v;
}

/* A sub-cursor over the next N bytes; C moves past them. */
static inline struct pd_cur
pd_cur_sub(struct pd_cur *c, size_t n)
{
	struct pd_cur s = { c->p, 0, c->swap, 0 };

	if (c->bad || n > c->left) {
		c->bad = 1;
		s.bad = 1;
		return s;
	}
	s.left = n;
	c->p += n;
	c->left -= n;
	return s;
}

/* ---------------------------------------------------------------- */
/* Growth buffer: always NUL-terminated, buf never NULL (git strbuf). */

struct pd_buf {
	char *buf;
	size_t len, alloc;
};

extern char pd_buf_empty[];
#define PD_BUF_INIT { pd_buf_empty, 0, 0 }

int pd_buf_grow(struct pd_buf *b, size_t extra);
int pd_buf_add(struct pd_buf *b, const void *p, size_t n);
int pd_buf_addstr(struct pd_buf *b, const char *s);
int pd_buf_addf(struct pd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pd_buf_reset(struct pd_buf *b);
void pd_buf_release(struct pd_buf *b);

/*
 * The C locale for this thread while a writer formats numbers (printf's
 * decimal point) or a parser reads them (strtod, regcomp's character set),
 * whatever locale the library's caller set: every public function that
 * formats or parses a floating-point number runs between pd_cloc_enter and
 * pd_cloc_leave (uselocale; nests).  Without memory for the locale object
 * the caller's locale stays.
 */
struct pd_cloc {
	locale_t c, old;
};

void pd_cloc_enter(struct pd_cloc *l);
void pd_cloc_leave(struct pd_cloc *l);

/* ---------------------------------------------------------------- */
/* Arena: everything that lives as long as its owner, freed in one go. */

struct pd_arena_chunk;
struct pd_arena {
	struct pd_arena_chunk *head;
	size_t used, size;
};

void *pd_arena_alloc(struct pd_arena *a, size_t n);
char *pd_arena_strndup(struct pd_arena *a, const char *s, size_t n);
char *pd_arena_strdup(struct pd_arena *a, const char *s);
void pd_arena_release(struct pd_arena *a);

/* Grow ARR (of NR used, ALLOC allocated) to hold at least N; 0 or -1. */
#define PD_GROW(arr, n, alloc) \
	pd_grow_((void **)&(arr), (n), &(alloc), sizeof(*(arr)))
int pd_grow_(void **arr, size_t n, size_t *alloc, size_t elem);

/* ---------------------------------------------------------------- */
/* perf ABI (include/uapi/linux/perf_event.h, tools/perf/util/event.h). */

enum {
	PERF_SAMPLE_IP = 1u << 0, PERF_SAMPLE_TID = 1u << 1,
	PERF_SAMPLE_TIME = 1u << 2, PERF_SAMPLE_ADDR = 1u << 3,
	PERF_SAMPLE_READ = 1u << 4, PERF_SAMPLE_CALLCHAIN = 1u << 5,
	PERF_SAMPLE_ID = 1u << 6, PERF_SAMPLE_CPU = 1u << 7,
	PERF_SAMPLE_PERIOD = 1u << 8, PERF_SAMPLE_STREAM_ID = 1u << 9,
	PERF_SAMPLE_RAW = 1u << 10, PERF_SAMPLE_BRANCH_STACK = 1u << 11,
	PERF_SAMPLE_REGS_USER = 1u << 12, PERF_SAMPLE_STACK_USER = 1u << 13,
	PERF_SAMPLE_WEIGHT = 1u << 14, PERF_SAMPLE_DATA_SRC = 1u << 15,
	PERF_SAMPLE_IDENTIFIER = 1u << 16, PERF_SAMPLE_TRANSACTION = 1u << 17,
	PERF_SAMPLE_REGS_INTR = 1u << 18, PERF_SAMPLE_PHYS_ADDR = 1u << 19,
	PERF_SAMPLE_AUX = 1u << 20, PERF_SAMPLE_CGROUP = 1u << 21,
	PERF_SAMPLE_DATA_PAGE_SIZE = 1u << 22, PERF_SAMPLE_CODE_PAGE_SIZE = 1u << 23,
	PERF_SAMPLE_WEIGHT_STRUCT = 1u << 24,
};

enum {
	PERF_FORMAT_TOTAL_TIME_ENABLED = 1u << 0,
	PERF_FORMAT_TOTAL_TIME_RUNNING = 1u << 1,
	PERF_FORMAT_ID = 1u << 2, PERF_FORMAT_GROUP = 1u << 3,
	PERF_FORMAT_LOST = 1u << 4,
};

enum {
	PERF_RECORD_MMAP = 1, PERF_RECORD_LOST = 2, PERF_RECORD_COMM = 3,
	PERF_RECORD_EXIT = 4, PERF_RECORD_THROTTLE = 5, PERF_RECORD_UNTHROTTLE = 6,
	PERF_RECORD_FORK = 7, PERF_RECORD_READ = 8, PERF_RECORD_SAMPLE = 9,
	PERF_RECORD_MMAP2 = 10, PERF_RECORD_AUX = 11, PERF_RECORD_ITRACE_START = 12,
	PERF_RECORD_LOST_SAMPLES = 13, PERF_RECORD_SWITCH = 14,
	PERF_RECORD_SWITCH_CPU_WIDE = 15, PERF_RECORD_NAMESPACES = 16,
	PERF_RECORD_KSYMBOL = 17, PERF_RECORD_BPF_EVENT = 18,
	PERF_RECORD_CGROUP = 19, PERF_RECORD_TEXT_POKE = 20,
	PERF_RECORD_AUX_OUTPUT_HW_ID = 21, PERF_RECORD_KERNEL_MAX = 64,

	PERF_RECORD_HEADER_ATTR = 64, PERF_RECORD_HEADER_EVENT_TYPE = 65,
	PERF_RECORD_HEADER_TRACING_DATA = 66, PERF_RECORD_HEADER_BUILD_ID = 67,
	PERF_RECORD_FINISHED_ROUND = 68, PERF_RECORD_ID_INDEX = 69,
	PERF_RECORD_AUXTRACE_INFO = 70, PERF_RECORD_AUXTRACE = 71,
	PERF_RECORD_AUXTRACE_ERROR = 72, PERF_RECORD_THREAD_MAP = 73,
	PERF_RECORD_CPU_MAP = 74, PERF_RECORD_STAT_CONFIG = 75,
	PERF_RECORD_STAT = 76, PERF_RECORD_STAT_ROUND = 77,
	PERF_RECORD_EVENT_UPDATE = 78, PERF_RECORD_TIME_CONV = 79,
	PERF_RECORD_HEADER_FEATURE = 80, PERF_RECORD_COMPRESSED = 81,
	PERF_RECORD_FINISHED_INIT = 82, PERF_RECORD_COMPRESSED2 = 83,
};

#define PERF_RECORD_MISC_CPUMODE_MASK	7u
#define PERF_RECORD_MISC_KERNEL		1u
#define PERF_RECORD_MISC_USER		2u
#define PERF_RECORD_MISC_HYPERVISOR	3u
#define PERF_RECORD_MISC_GUEST_KERNEL	4u
#define PERF_RECORD_MISC_GUEST_USER	5u
#define PERF_RECORD_MISC_COMM_EXEC	(1u << 13)
#define PERF_RECORD_MISC_MMAP_BUILD_ID	(1u << 14)

#define PERF_CONTEXT_HV			((uint64_t)-32)
#define PERF_CONTEXT_KERNEL		((uint64_t)-128)
#define PERF_CONTEXT_USER		((uint64_t)-512)
#define PERF_CONTEXT_GUEST		((uint64_t)-2048)
#define PERF_CONTEXT_GUEST_KERNEL	((uint64_t)-2176)
#define PERF_CONTEXT_GUEST_USER		((uint64_t)-2560)
#define PERF_CONTEXT_MAX		((uint64_t)-4095)

#define PERF_ATTR_FLAG_FREQ		(1ull << 10)
#define PERF_ATTR_FLAG_SAMPLE_ID_ALL	(1ull << 18)
#define PERF_ATTR_FLAG_EXCL_USER	(1ull << 4)
#define PERF_ATTR_FLAG_EXCL_KERNEL	(1ull << 5)
#define PERF_ATTR_FLAG_EXCL_HV		(1ull << 6)

/* Feature bits (tools/perf/util/header.h, perf 6.1). */
enum {
	HEADER_TRACING_DATA = 1, HEADER_BUILD_ID = 2, HEADER_HOSTNAME = 3,
	HEADER_OSRELEASE = 4, HEADER_VERSION = 5, HEADER_ARCH = 6,
	HEADER_NRCPUS = 7, HEADER_CPUDESC = 8, HEADER_CPUID = 9,
	HEADER_TOTAL_MEM = 10, HEADER_CMDLINE = 11, HEADER_EVENT_DESC = 12,
	HEADER_COMPRESSED = 27, HEADER_LAST_FEATURE = 32, HEADER_FEAT_BITS = 256,
};

/* One event (attr) as the reader knows it. */
struct pd_attr {
	struct pd_event_info info;
	uint32_t size;
	uint64_t sample_period;
	uint64_t read_format;
	uint64_t flags;
	uint64_t branch_sample_type;
	uint64_t sample_regs_user;
	uint64_t sample_regs_intr;
	uint32_t sample_stack_user;
	int id_pos;			/* u64 index of the id in a sample, or -1 */
	int is_pos;			/* u64 index from the end of a trailer, or -1 */
	size_t trailer_size;		/* bytes of the sample_id trailer */
	bool named;			/* name from the file, not derived */
};

/* A build-id the file recorded for a DSO (BUILD_ID feature, HEADER_BUILD_ID). */
struct pd_buildid {
	char *name;
	unsigned char id[20];
	uint8_t size;
	int32_t pid;
	uint16_t cpumode;
};

/* The reader's attrs, build-ids and flags, for the session. */
size_t pd_reader_nr_attrs(const struct pd_reader *r);
struct pd_attr *pd_reader_attr(struct pd_reader *r, size_t idx);
struct pd_attr *pd_reader_attr_by_id(struct pd_reader *r, uint64_t id);
size_t pd_reader_nr_buildids(const struct pd_reader *r);
const struct pd_buildid *pd_reader_buildid(const struct pd_reader *r, size_t idx);
bool pd_reader_swap(const struct pd_reader *r);
int pd_reader_is_dir(const struct pd_reader *r);
void pd_reader_count_out_of_order(struct pd_reader *r);
int pd_reader_set_error(struct pd_reader *r, int code, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
struct pd_stats *pd_reader_stats_mut(struct pd_reader *r);
int pd_reader_note_damage(struct pd_reader *r, uint64_t off, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void pd_reader_note_unknown(struct pd_reader *r, const struct pd_record *rec);

/* ---------------------------------------------------------------- */
/* Decoded sample (sample.c), following kernel perf_output_sample order. */

struct pd_raw_sample {
	uint64_t id, ip, time, addr, stream_id, period;
	uint32_t pid, tid, cpu;
	uint64_t nr_callchain;
	const unsigned char *callchain;	/* nr_callchain u64s, file byte order */
	uint64_t regs_abi;		/* PERF_SAMPLE_REGS_USER: 0 none, 1 32-bit, 2 64-bit */
	const unsigned char *regs;	/* one u64 per bit of the attr's sample_regs_user */
	const unsigned char *stack;	/* PERF_SAMPLE_STACK_USER: the copy from the user SP */
	uint64_t stack_len;		/* its valid bytes (dyn_size) */
	const unsigned char *raw;	/* PERF_SAMPLE_RAW */
	uint32_t raw_size;
	bool has_time;
};

/*
 * Decode a SAMPLE record body (after the 8-byte header) for attr A.
 * Returns PD_OK, or PD_E_CORRUPT when the body is shorter than sample_type
 * says.
 */
int pd_sample_parse(const struct pd_attr *a, const unsigned char *body, size_t len,
    bool swap, struct pd_raw_sample *out);

/* The sample_id trailer of a non-sample record: its time and id. */
void pd_trailer_parse(const struct pd_attr *a, const unsigned char *body, size_t len,
    bool swap, uint64_t *time, uint64_t *id, bool *has_time);

/* Demangle NAME (C++, Rust legacy and v0) into the arena, or return NULL. */
char *pd_demangle(struct pd_arena *a, const char *name);

static inline uint64_t
pd_load64(const unsigned char *p, bool swap)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return swap ? bswap_64(v) : v;
}

#endif
