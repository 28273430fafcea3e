/*
 * gen-swap.c - rewrite a perf.data written on this little-endian machine in
 * the byte order of a big-endian writer, as perf on such a machine would
 * have written it, so that the reader's byte-swapped path runs on x86
 * (FORMAT-NOTES.md 1.8).  Given a big-endian file it converts back: for
 * files without COMPRESSED records the mapping is its own inverse.
 *
 *	gen-swap IN OUT
 *
 * Integers are swapped at their width; strings, build-ids and RAW payloads
 * stay bytes, user stack dumps are swapped as u64 words (the memory of a
 * big-endian machine).  Bit-fields are re-laid as a big-endian compiler lays
 * them out: the attr flag word keeps its byte order and has the bits of each
 * byte reversed, with the two bits of precise_ip put back in field order, and
 * the flags of a branch entry move field by field.  COMPRESSED data is inflated,
 * swapped and compressed again, one finished zstd frame per record (perfwrite.h).
 *
 * Exit status: 0 done, 2 anything it cannot handle (one line on stderr).
 */
#include "perfwrite.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "gen-swap writes big-endian from little-endian: build it on a little-endian host"
#endif

#define PIECE_MAX		60000u		/* inflated bytes per COMPRESSED record */
#define MAX_INFLATE		(256u << 20)	/* inflated bytes of one COMPRESSED record */
#define PERF_RECORD_CALLCHAIN_DEFERRED	22
#define PERF_SAMPLE_BRANCH_HW_INDEX	(1ull << 17)
#define PERF_SAMPLE_KNOWN	((1ull << 25) - 1)

/* ---------------------------------------------------------------- */

/* Loads in the input's order (SWAP: it is not this host's). */
static uint16_t
ld16(const unsigned char *p, bool swap)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return swap ? bswap_16(v) : v;
}

static uint32_t
ld32(const unsigned char *p, bool swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? bswap_32(v) : v;
}

static uint64_t
ld64(const unsigned char *p, bool swap)
{
	return pd_load64(p, swap);
}

/* Stores in the output's order, the other one. */
static void
st16(unsigned char *p, uint16_t v, bool swap)
{
	if (!swap)
		v = bswap_16(v);
	memcpy(p, &v, 2);
}

static void
st32(unsigned char *p, uint32_t v, bool swap)
{
	if (!swap)
		v = bswap_32(v);
	memcpy(p, &v, 4);
}

static void
st64(unsigned char *p, uint64_t v, bool swap)
{
	if (!swap)
		v = bswap_64(v);
	memcpy(p, &v, 8);
}

/*
 * A cursor that swaps as it goes: each mc_uN returns the field's value (read
 * in the input's order) and leaves it in the output's order.  Errors are
 * sticky, as in struct pd_cur.
 */
struct mcur {
	unsigned char *p;
	size_t left;
	bool swap;
	bool bad;
};

static struct mcur
mc_make(unsigned char *p, size_t len, bool swap)
{
	struct mcur c = { p, len, swap, false };

	return c;
}

static unsigned char *
mc_take(struct mcur *c, uint64_t n)
{
	unsigned char *p = c->p;

	if (c->bad || n > c->left) {
		c->bad = true;
		return NULL;
	}
	c->p += n;
	c->left -= (size_t)n;
	return p;
}

static void
mc_skip(struct mcur *c, uint64_t n)
{
	mc_take(c, n);
}

static struct mcur
mc_sub(struct mcur *c, uint64_t n)
{
	struct mcur s = mc_make(c->p, 0, c->swap);
	unsigned char *p = mc_take(c, n);

	if (!p)
		s.bad = true;
	else
		s.left = (size_t)n;
	return s;
}

static uint16_t
mc_u16(struct mcur *c)
{
	unsigned char *p = mc_take(c, 2);
	uint16_t v;

	if (!p)
		return 0;
	v = ld16(p, c->swap);
	st16(p, v, c->swap);
	return v;
}

static uint32_t
mc_u32(struct mcur *c)
{
	unsigned char *p = mc_take(c, 4);
	uint32_t v;

	if (!p)
		return 0;
	v = ld32(p, c->swap);
	st32(p, v, c->swap);
	return v;
}

static uint64_t
mc_u64(struct mcur *c)
{
	unsigned char *p = mc_take(c, 8);
	uint64_t v;

	if (!p)
		return 0;
	v = ld64(p, c->swap);
	st64(p, v, c->swap);
	return v;
}

static void
mc_u32s(struct mcur *c, uint64_t n)
{
	if (n > c->left / 4) {
		c->bad = true;
		return;
	}
	while (n--)
		mc_u32(c);
}

static void
mc_u64s(struct mcur *c, uint64_t n)
{
	if (n > c->left / 8) {
		c->bad = true;
		return;
	}
	while (n--)
		mc_u64(c);
}

/* All that is left, as u64 (or u32) words; a ragged tail is an error. */
static void
mc_rest64(struct mcur *c)
{
	if (c->left % 8)
		c->bad = true;
	else
		mc_u64s(c, c->left / 8);
}

static void
mc_rest32(struct mcur *c)
{
	if (c->left % 4)
		c->bad = true;
	else
		mc_u32s(c, c->left / 4);
}

/* A perf string: u32 len, then len bytes. */
static void
mc_string(struct mcur *c)
{
	uint32_t len = mc_u32(c);

	mc_skip(c, len);
}

static void
mc_strings(struct mcur *c, uint64_t n)
{
	for (uint64_t i = 0; i < n && !c->bad; i++)
		mc_string(c);
}

/* ---------------------------------------------------------------- */
/* Bit-fields. */

static unsigned char
rev8(unsigned char b)
{
	unsigned char r = 0;

	for (int k = 0; k < 8; k++)
		if (b & (1u << k))
			r |= (unsigned char)(1u << (7 - k));
	return r;
}

/*
 * The attr flag word (attr offset 40).  A big-endian compiler allocates the
 * bit-fields from the most significant bit, so bit L of the little-endian
 * word is bit 63 - L of the big-endian one: the bytes stay where they are and
 * the bits of each byte are reversed (perf's swap_bitfield).  That is exact
 * for the 1-bit fields; the 2-bit precise_ip (bits 15-16) also has its own
 * two bits reversed, so they are exchanged back on the big-endian side: in
 * the stored big-endian word they are bit 0 of byte 1 and bit 7 of byte 2.
 * IN_SWAP: P holds the big-endian form.
 */
static void
swap_flags(unsigned char *p, bool in_swap)
{
	unsigned char fixed[8];

	memcpy(fixed, p, 8);
	if (in_swap && !!(fixed[1] & 0x01) != !!(fixed[2] & 0x80)) {
		fixed[1] ^= 0x01;
		fixed[2] ^= 0x80;
	}
	for (int i = 0; i < 8; i++)
		fixed[i] = rev8(fixed[i]);
	if (!in_swap && !!(fixed[1] & 0x01) != !!(fixed[2] & 0x80)) {
		fixed[1] ^= 0x01;
		fixed[2] ^= 0x80;
	}
	memcpy(p, fixed, 8);
}

/*
 * perf_branch_entry flags, in declaration order (FORMAT-NOTES.md 4.1):
 * mispred:1 predicted:1 in_tx:1 abort:1 cycles:16 type:4 spec:2 new_type:4
 * priv:3 reserved:31.  A field at little-endian bit POS of width W sits at
 * bit 64 - POS - W of the big-endian word, its own bits in order.
 */
static const unsigned char branch_fields[][2] = {
	{ 0, 1 }, { 1, 1 }, { 2, 1 }, { 3, 1 }, { 4, 16 }, { 20, 4 }, { 24, 2 },
	{ 26, 4 }, { 30, 3 }, { 33, 31 },
};

static void
mc_branch_flags(struct mcur *c)
{
	unsigned char *p = c->p;
	uint64_t v = mc_u64(c), r = 0;

	if (c->bad)
		return;
	for (size_t i = 0; i < sizeof(branch_fields) / sizeof(branch_fields[0]); i++) {
		unsigned pos = branch_fields[i][0], w = branch_fields[i][1];
		unsigned be = 64 - pos - w;
		uint64_t mask = w == 64 ? ~0ull : (1ull << w) - 1;

		if (c->swap)
			r |= ((v >> be) & mask) << pos;
		else
			r |= ((v >> pos) & mask) << be;
	}
	st64(p, r, c->swap);
}

/* ---------------------------------------------------------------- */
/* Events. */

struct attr {
	uint64_t sample_type, read_format, flags, branch_sample_type;
	uint64_t regs_user, regs_intr;
	int id_pos, is_pos;
	size_t trailer;
};

struct id_ent {
	uint64_t id;
	size_t attr;
};

/* A file offset in the output to move when the data section changes size. */
struct fixup {
	unsigned char *p;
	uint64_t off;
};

struct swapper {
	bool swap;			/* the input is big-endian */
	struct attr *attrs;
	size_t nr_attrs, alloc_attrs;
	struct id_ent *ids;		/* sorted by id */
	size_t nr_ids, alloc_ids;
	uint32_t nr_cpus_avail;		/* NRCPUS, for CPU_TOPOLOGY */
	bool have_nr_cpus;
	uint32_t mmap_len;		/* COMPRESSED feature */

	ZSTD_DStream *zd;
	unsigned char *zbuf;		/* inflated bytes not yet a whole record */
	size_t zlen, zalloc;
	struct pw_zstd zc;
	unsigned char scratch[65536];

	struct fixup *fix;
	size_t nr_fix, alloc_fix;

	uint64_t undecoded, undecoded_type;
};

/* attr offsets and widths (FORMAT-NOTES.md 1.3); width 0 is the flag word. */
static const unsigned char attr_fields[][2] = {
	{ 0, 4 }, { 4, 4 }, { 8, 8 }, { 16, 8 }, { 24, 8 }, { 32, 8 }, { 40, 0 },
	{ 48, 4 }, { 52, 4 }, { 56, 8 }, { 64, 8 }, { 72, 8 }, { 80, 8 }, { 88, 4 },
	{ 92, 4 }, { 96, 8 }, { 104, 4 }, { 108, 2 }, { 110, 2 }, { 112, 4 },
	{ 116, 4 }, { 120, 8 }, { 128, 8 },
};

/* The attr's own size: attr.size, 0 meaning the 64 bytes of ABI0. */
static uint32_t
attr_size(const unsigned char *p, bool swap)
{
	uint32_t sz = ld32(p + 4, swap);

	return sz ? sz : 64;
}

/* Swap the fields of an attr that lie wholly within its first ASZ bytes. */
static void
swap_attr(unsigned char *p, uint32_t asz, bool swap)
{
	uint32_t off;

	for (size_t i = 0; i < sizeof(attr_fields) / sizeof(attr_fields[0]); i++) {
		unsigned o = attr_fields[i][0], w = attr_fields[i][1];

		if (o + (w ? w : 8) > asz)
			break;
		switch (w) {
		case 0:
			swap_flags(p + o, swap);
			break;
		case 2:
			st16(p + o, ld16(p + o, swap), swap);
			break;
		case 4:
			st32(p + o, ld32(p + o, swap), swap);
			break;
		default:
			st64(p + o, ld64(p + o, swap), swap);
			break;
		}
	}
	/* Fields of later ABIs: u64 words. */
	for (off = 136; off + 8 <= asz; off += 8)
		st64(p + off, ld64(p + off, swap), swap);
}

/* What the records of an event need, read from an attr in the input. */
static void
attr_info(const unsigned char *p, uint32_t asz, bool swap, struct attr *a)
{
	uint64_t st;

	memset(a, 0, sizeof(*a));
	if (asz >= 32)
		a->sample_type = ld64(p + 24, swap);
	if (asz >= 40)
		a->read_format = ld64(p + 32, swap);
	if (asz >= 48) {
		unsigned char fl[8];

		memcpy(fl, p + 40, 8);
		if (swap)
			swap_flags(fl, true);
		a->flags = ld64(fl, false);
	}
	if (asz >= 80)
		a->branch_sample_type = ld64(p + 72, swap);
	if (asz >= 88)
		a->regs_user = ld64(p + 80, swap);
	if (asz >= 104)
		a->regs_intr = ld64(p + 96, swap);
	st = a->sample_type;
	a->id_pos = -1;
	a->is_pos = -1;
	if (st & PERF_SAMPLE_IDENTIFIER) {
		a->id_pos = 0;
		a->is_pos = 1;
	} else if (st & PERF_SAMPLE_ID) {
		a->id_pos = !!(st & PERF_SAMPLE_IP) + !!(st & PERF_SAMPLE_TID) +
		    !!(st & PERF_SAMPLE_TIME) + !!(st & PERF_SAMPLE_ADDR);
		a->is_pos = 1 + !!(st & PERF_SAMPLE_CPU) + !!(st & PERF_SAMPLE_STREAM_ID);
	}
	if (a->flags & PERF_ATTR_FLAG_SAMPLE_ID_ALL)
		a->trailer = 8 * (size_t)__builtin_popcountll(st &
		    (PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ID |
		     PERF_SAMPLE_STREAM_ID | PERF_SAMPLE_CPU | PERF_SAMPLE_IDENTIFIER));
}

static void
add_attr(struct swapper *w, const struct attr *a)
{
	if (w->nr_attrs >= PD_MAX_ATTRS)
		die("more than %u events", PD_MAX_ATTRS);
	if (PD_GROW(w->attrs, w->nr_attrs + 1, w->alloc_attrs) < 0)
		die("out of memory");
	w->attrs[w->nr_attrs++] = *a;
}

/* The index of the first entry of ids not below ID. */
static size_t
id_lower(const struct swapper *w, uint64_t id)
{
	size_t lo = 0, hi = w->nr_ids;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->ids[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
add_id(struct swapper *w, uint64_t id, size_t attr)
{
	size_t i = id_lower(w, id);

	if (i < w->nr_ids && w->ids[i].id == id)
		return;
	if (w->nr_ids >= PD_MAX_IDS)
		die("more than %u sample ids", PD_MAX_IDS);
	if (PD_GROW(w->ids, w->nr_ids + 1, w->alloc_ids) < 0)
		die("out of memory");
	memmove(w->ids + i + 1, w->ids + i, (w->nr_ids - i) * sizeof(*w->ids));
	w->ids[i] = (struct id_ent){ id, attr };
	w->nr_ids++;
}

/* The event of an id, as the session finds it (lib/session.c). */
static const struct attr *
attr_by_id(const struct swapper *w, uint64_t id)
{
	size_t i;

	if (w->nr_attrs == 1)
		return &w->attrs[0];
	i = id_lower(w, id);
	if (i < w->nr_ids && w->ids[i].id == id)
		return &w->attrs[w->ids[i].attr];
	if (id == 0 && w->nr_attrs)
		return &w->attrs[0];
	return NULL;
}

static const struct attr *
sample_attr(const struct swapper *w, const unsigned char *body, size_t len)
{
	const struct attr *a;
	uint64_t id = 0;

	if (!w->nr_attrs)
		return NULL;
	a = &w->attrs[0];
	if (w->nr_attrs == 1)
		return a;
	if (a->id_pos >= 0) {
		if (8 * ((size_t)a->id_pos + 1) > len)
			return NULL;
		id = ld64(body + 8 * (size_t)a->id_pos, w->swap);
	}
	return attr_by_id(w, id);
}

static const struct attr *
trailer_attr(const struct swapper *w, const unsigned char *body, size_t len)
{
	const struct attr *a, *b;

	if (!w->nr_attrs)
		return NULL;
	a = &w->attrs[0];
	if (w->nr_attrs > 1 && a->is_pos > 0 && a->trailer && 8 * (size_t)a->is_pos <= len) {
		b = attr_by_id(w, ld64(body + len - 8 * (size_t)a->is_pos, w->swap));
		if (b)
			a = b;
	}
	return a;
}

/* ---------------------------------------------------------------- */
/* Shared record parts. */

static void
swap_trailer(struct mcur *c, uint64_t st)
{
	if (st & PERF_SAMPLE_TID) {
		mc_u32(c);
		mc_u32(c);
	}
	if (st & PERF_SAMPLE_TIME)
		mc_u64(c);
	if (st & PERF_SAMPLE_ID)
		mc_u64(c);
	if (st & PERF_SAMPLE_STREAM_ID)
		mc_u64(c);
	if (st & PERF_SAMPLE_CPU) {
		mc_u32(c);
		mc_u32(c);
	}
	if (st & PERF_SAMPLE_IDENTIFIER)
		mc_u64(c);
}

/* A read_format block (FORMAT-NOTES.md 4.2): u64 words only. */
static void
swap_read_format(struct mcur *c, uint64_t rf)
{
	uint64_t per = 1 + !!(rf & PERF_FORMAT_ID) + !!(rf & PERF_FORMAT_LOST);
	uint64_t times = !!(rf & PERF_FORMAT_TOTAL_TIME_ENABLED) +
	    !!(rf & PERF_FORMAT_TOTAL_TIME_RUNNING);

	if (rf & PERF_FORMAT_GROUP) {
		uint64_t nr = mc_u64(c);

		mc_u64s(c, times);
		if (nr > c->left / (8 * per))
			c->bad = true;
		else
			mc_u64s(c, nr * per);
	} else {
		mc_u64s(c, per + times);
	}
}

static void
swap_regs(struct mcur *c, uint64_t mask)
{
	if (mc_u64(c))
		mc_u64s(c, (uint64_t)__builtin_popcountll(mask));
}

/* perf_record_cpu_map_data (CPU_MAP, EVENT_UPDATE CPUS), packed. */
static void
swap_cpu_map(struct mcur *c)
{
	uint16_t type = mc_u16(c), nr, long_size;

	switch (type) {
	case 0:
		nr = mc_u16(c);
		for (uint16_t i = 0; i < nr && !c->bad; i++)
			mc_u16(c);
		break;
	case 1:
		nr = mc_u16(c);
		long_size = mc_u16(c);
		if (long_size == 4) {
			mc_u32s(c, nr);
		} else if (long_size == 8) {
			mc_skip(c, 4);
			mc_u64s(c, nr);
		} else {
			c->bad = true;
		}
		break;
	case 2:
		mc_skip(c, 2);
		mc_u16(c);
		mc_u16(c);
		break;
	default:
		c->bad = true;
		break;
	}
}

/* ---------------------------------------------------------------- */
/* Feature bodies (FORMAT-NOTES.md 1.4-1.5), in a section or HEADER_FEATURE. */

static bool
swap_feature(struct swapper *w, uint64_t bit, unsigned char *p, size_t len)
{
	struct mcur c = mc_make(p, len, w->swap), e;
	uint32_t nr, sz, v;

	switch (bit) {
	case HEADER_BUILD_ID:
		while (c.left >= 8 && !c.bad) {
			uint16_t size;

			mc_u32(&c);
			mc_u16(&c);
			size = mc_u16(&c);
			if (size < 8) {
				c.bad = true;
				break;
			}
			e = mc_sub(&c, size - 8u);
			mc_u32(&e);		/* pid; build-id and name are bytes */
			c.bad |= e.bad;
		}
		break;
	case HEADER_HOSTNAME: case HEADER_OSRELEASE: case HEADER_VERSION:
	case HEADER_ARCH: case HEADER_CPUDESC: case HEADER_CPUID:
		mc_string(&c);
		break;
	case HEADER_NRCPUS:
		v = mc_u32(&c);
		mc_u32(&c);
		if (!c.bad) {
			w->nr_cpus_avail = v;
			w->have_nr_cpus = true;
		}
		break;
	case HEADER_TOTAL_MEM:
	case 21:	/* SAMPLE_TIME */
	case 23:	/* CLOCKID */
	case 24:	/* DIR_FORMAT */
	case 18:	/* AUXTRACE: {u64 offset, u64 size}[] */
	case 22:	/* MEM_TOPOLOGY: u64 words only */
		mc_rest64(&c);
		break;
	case HEADER_CMDLINE:
		nr = mc_u32(&c);
		mc_strings(&c, nr);
		break;
	case HEADER_EVENT_DESC:
		nr = mc_u32(&c);
		sz = mc_u32(&c);
		for (uint32_t i = 0; i < nr && !c.bad; i++) {
			uint32_t asz;

			e = mc_sub(&c, sz);
			if (e.bad || sz < 8) {
				c.bad = true;
				break;
			}
			asz = attr_size(e.p, w->swap);
			swap_attr(e.p, asz < sz ? asz : sz, w->swap);
			v = mc_u32(&c);		/* nr_ids */
			mc_string(&c);
			mc_u64s(&c, v);
		}
		break;
	case 13:	/* CPU_TOPOLOGY */
		nr = mc_u32(&c);
		mc_strings(&c, nr);
		nr = mc_u32(&c);
		mc_strings(&c, nr);
		if (c.left && !c.bad) {
			/* {u32 core_id, socket_id}[nr_cpus_avail], then the dies */
			if (!w->have_nr_cpus)
				return false;
			mc_u32s(&c, 2 * (uint64_t)w->nr_cpus_avail);
			if (c.left) {
				nr = mc_u32(&c);
				mc_strings(&c, nr);
				mc_rest32(&c);
			}
		}
		break;
	case 14:	/* NUMA_TOPOLOGY */
		nr = mc_u32(&c);
		for (uint32_t i = 0; i < nr && !c.bad; i++) {
			mc_u32(&c);
			mc_u64(&c);
			mc_u64(&c);
			mc_string(&c);
		}
		break;
	case 16:	/* PMU_MAPPINGS */
		nr = mc_u32(&c);
		for (uint32_t i = 0; i < nr && !c.bad; i++) {
			mc_u32(&c);
			mc_string(&c);
		}
		break;
	case 17:	/* GROUP_DESC */
		nr = mc_u32(&c);
		for (uint32_t i = 0; i < nr && !c.bad; i++) {
			mc_string(&c);
			mc_u32(&c);
			mc_u32(&c);
		}
		break;
	case 20:	/* CACHE */
		mc_u32(&c);
		nr = mc_u32(&c);
		for (uint32_t i = 0; i < nr && !c.bad; i++) {
			mc_u32s(&c, 4);
			mc_strings(&c, 3);
		}
		break;
	case 26:	/* BPF_BTF */
		nr = mc_u32(&c);
		for (uint32_t i = 0; i < nr && !c.bad; i++) {
			mc_u32(&c);
			sz = mc_u32(&c);
			mc_skip(&c, sz);
		}
		break;
	case HEADER_COMPRESSED:
		mc_u32s(&c, 4);
		v = mc_u32(&c);
		if (!c.bad)
			w->mmap_len = v;
		break;
	case 28:	/* CPU_PMU_CAPS */
	case 30:	/* HYBRID_TOPOLOGY */
		nr = mc_u32(&c);
		mc_strings(&c, 2 * (uint64_t)nr);
		break;
	case 29:	/* CLOCK_DATA */
		mc_u32(&c);
		mc_u32(&c);
		mc_u64(&c);
		mc_u64(&c);
		break;
	case 31:	/* PMU_CAPS */
		nr = mc_u32(&c);
		for (uint32_t i = 0; i < nr && !c.bad; i++) {
			v = mc_u32(&c);
			mc_strings(&c, 2 * (uint64_t)v + 1);
		}
		break;
	default:
		/*
		 * TRACING_DATA (its own endianness flag inside), BPF_PROG_INFO,
		 * flag-only features and unknown ones stay as they are.
		 */
		break;
	}
	/* A trailing pad (perf 6.12 pads HEADER_FEATURE) stays as it is. */
	return !c.bad;
}

/* ---------------------------------------------------------------- */
/* Records (FORMAT-NOTES.md 3, 4). */

static bool
swap_sample(struct swapper *w, unsigned char *body, size_t len)
{
	const struct attr *a = sample_attr(w, body, len);
	struct mcur c = mc_make(body, len, w->swap);
	uint64_t st, nr;

	if (!a || (a->sample_type & ~PERF_SAMPLE_KNOWN))
		return false;
	st = a->sample_type;
	if (st & PERF_SAMPLE_IDENTIFIER)
		mc_u64(&c);
	if (st & PERF_SAMPLE_IP)
		mc_u64(&c);
	if (st & PERF_SAMPLE_TID) {
		mc_u32(&c);
		mc_u32(&c);
	}
	if (st & PERF_SAMPLE_TIME)
		mc_u64(&c);
	if (st & PERF_SAMPLE_ADDR)
		mc_u64(&c);
	if (st & PERF_SAMPLE_ID)
		mc_u64(&c);
	if (st & PERF_SAMPLE_STREAM_ID)
		mc_u64(&c);
	if (st & PERF_SAMPLE_CPU) {
		mc_u32(&c);
		mc_u32(&c);
	}
	if (st & PERF_SAMPLE_PERIOD)
		mc_u64(&c);
	if (st & PERF_SAMPLE_READ)
		swap_read_format(&c, a->read_format);
	if (st & PERF_SAMPLE_CALLCHAIN) {
		nr = mc_u64(&c);
		mc_u64s(&c, nr);
	}
	if (st & PERF_SAMPLE_RAW)
		mc_skip(&c, mc_u32(&c));	/* the payload keeps its order */
	if (st & PERF_SAMPLE_BRANCH_STACK) {
		nr = mc_u64(&c);
		if (a->branch_sample_type & PERF_SAMPLE_BRANCH_HW_INDEX)
			mc_u64(&c);
		if (nr > c.left / 24)
			c.bad = true;
		for (uint64_t i = 0; i < nr && !c.bad; i++) {
			mc_u64(&c);
			mc_u64(&c);
			mc_branch_flags(&c);
		}
	}
	if (st & PERF_SAMPLE_REGS_USER)
		swap_regs(&c, a->regs_user);
	if (st & PERF_SAMPLE_STACK_USER) {
		uint64_t size = mc_u64(&c);

		if (size) {
			/*
			 * User memory: the words of a big-endian stack are
			 * big-endian, and perf swaps the dump as u64 words
			 * (perf_event__all64_swap) before unwinding it.
			 */
			struct mcur m = mc_sub(&c, size);

			mc_u64s(&m, m.left / 8);
			c.bad |= m.bad;
			mc_u64(&c);		/* dyn_size */
		}
	}
	/* WEIGHT_STRUCT: the uapi union is laid out to be one u64 either way. */
	if (st & (PERF_SAMPLE_WEIGHT | PERF_SAMPLE_WEIGHT_STRUCT))
		mc_u64(&c);
	if (st & PERF_SAMPLE_DATA_SRC)
		mc_u64(&c);
	if (st & PERF_SAMPLE_TRANSACTION)
		mc_u64(&c);
	if (st & PERF_SAMPLE_REGS_INTR)
		swap_regs(&c, a->regs_intr);
	if (st & PERF_SAMPLE_PHYS_ADDR)
		mc_u64(&c);
	if (st & PERF_SAMPLE_CGROUP)
		mc_u64(&c);
	if (st & PERF_SAMPLE_DATA_PAGE_SIZE)
		mc_u64(&c);
	if (st & PERF_SAMPLE_CODE_PAGE_SIZE)
		mc_u64(&c);
	if (st & PERF_SAMPLE_AUX)
		mc_skip(&c, mc_u64(&c));
	return !c.bad;
}

/* A kernel record other than SAMPLE: its fields, then the sample_id trailer. */
static bool
swap_kernel(struct swapper *w, unsigned char *rec, uint32_t type, uint16_t misc, size_t size)
{
	size_t len = size - 8;
	const struct attr *a = trailer_attr(w, rec + 8, len);
	struct mcur c, t;
	uint64_t nr;

	if (!a || a->trailer > len)
		return false;
	c = mc_make(rec + 8, len - a->trailer, w->swap);
	t = mc_make(rec + 8 + len - a->trailer, a->trailer, w->swap);
	switch (type) {
	case PERF_RECORD_MMAP:
		mc_u32s(&c, 2);
		mc_u64s(&c, 3);			/* addr, len, pgoff; the name is bytes */
		break;
	case PERF_RECORD_LOST:
		mc_u64s(&c, 2);
		break;
	case PERF_RECORD_COMM:
		mc_u32s(&c, 2);
		break;
	case PERF_RECORD_EXIT:
	case PERF_RECORD_FORK:
		mc_u32s(&c, 4);
		mc_u64(&c);
		break;
	case PERF_RECORD_THROTTLE:
	case PERF_RECORD_UNTHROTTLE:
		mc_u64s(&c, 3);
		break;
	case PERF_RECORD_READ:
		mc_u32s(&c, 2);
		mc_rest64(&c);
		break;
	case PERF_RECORD_MMAP2:
		mc_u32s(&c, 2);
		mc_u64s(&c, 3);
		if (misc & PERF_RECORD_MISC_MMAP_BUILD_ID) {
			mc_skip(&c, 24);	/* u8 size, 3 reserved, build-id[20] */
		} else {
			mc_u32s(&c, 2);		/* maj, min */
			mc_u64s(&c, 2);		/* ino, ino_generation */
		}
		mc_u32s(&c, 2);			/* prot, flags */
		break;
	case PERF_RECORD_AUX:
		mc_u64s(&c, 3);
		break;
	case PERF_RECORD_ITRACE_START:
	case PERF_RECORD_SWITCH_CPU_WIDE:
		mc_u32s(&c, 2);
		break;
	case PERF_RECORD_LOST_SAMPLES:
	case PERF_RECORD_AUX_OUTPUT_HW_ID:
		mc_u64(&c);
		break;
	case PERF_RECORD_SWITCH:
		break;
	case PERF_RECORD_NAMESPACES:
		mc_u32s(&c, 2);
		nr = mc_u64(&c);
		if (nr > c.left / 16)
			c.bad = true;
		else
			mc_u64s(&c, 2 * nr);
		break;
	case PERF_RECORD_KSYMBOL:
		mc_u64(&c);
		mc_u32(&c);
		mc_u16(&c);
		mc_u16(&c);
		break;
	case PERF_RECORD_BPF_EVENT:
		mc_u16(&c);
		mc_u16(&c);
		mc_u32(&c);			/* then tag[8], bytes */
		break;
	case PERF_RECORD_CGROUP:
		mc_u64(&c);
		break;
	case PERF_RECORD_TEXT_POKE:
		mc_u64(&c);
		mc_u16(&c);
		mc_u16(&c);
		break;
	case PERF_RECORD_CALLCHAIN_DEFERRED:
		mc_u64(&c);
		nr = mc_u64(&c);
		mc_u64s(&c, nr);
		break;
	default:
		return false;
	}
	if (a->trailer)
		swap_trailer(&t, a->sample_type);
	return !c.bad && !t.bad;
}

/* perf's own records (>= 64), which have no trailer. */
static bool
swap_user(struct swapper *w, unsigned char *rec, uint32_t type, size_t size)
{
	struct mcur c = mc_make(rec + 8, size - 8, w->swap);
	uint64_t v;

	switch (type) {
	case PERF_RECORD_HEADER_ATTR: {
		struct attr a;
		uint32_t asz;
		size_t idx;

		if (c.left < 8)
			return false;
		asz = attr_size(c.p, w->swap);
		if (asz < 64 || asz > c.left)
			return false;
		attr_info(c.p, asz, w->swap, &a);
		swap_attr(c.p, asz, w->swap);
		mc_skip(&c, asz);
		add_attr(w, &a);
		idx = w->nr_attrs - 1;
		while (c.left >= 8)
			add_id(w, mc_u64(&c), idx);
		break;
	}
	case PERF_RECORD_HEADER_EVENT_TYPE:
		mc_u64(&c);			/* then char name[64] */
		break;
	case PERF_RECORD_HEADER_TRACING_DATA:
		mc_u32s(&c, 2);			/* size, pad; the payload keeps its order */
		break;
	case PERF_RECORD_HEADER_BUILD_ID:
		mc_u32(&c);			/* pid; build-id and name are bytes */
		break;
	case PERF_RECORD_FINISHED_ROUND:
	case PERF_RECORD_FINISHED_INIT:
		break;
	case PERF_RECORD_ID_INDEX:
	case PERF_RECORD_STAT_CONFIG:
	case PERF_RECORD_STAT_ROUND:
		mc_rest64(&c);
		break;
	case PERF_RECORD_AUXTRACE_INFO:
		mc_u32s(&c, 2);
		mc_rest64(&c);
		break;
	case PERF_RECORD_AUXTRACE:
		mc_u64s(&c, 3);
		mc_u32s(&c, 4);
		break;
	case PERF_RECORD_AUXTRACE_ERROR:
		mc_u32s(&c, 6);
		mc_u64s(&c, 2);
		mc_skip(&c, 64);
		if (c.left >= 8)
			mc_u32s(&c, 2);		/* machine_pid, vcpu */
		break;
	case PERF_RECORD_THREAD_MAP:
		v = mc_u64(&c);
		if (v > c.left / 24)
			c.bad = true;
		for (uint64_t i = 0; i < v && !c.bad; i++) {
			mc_u64(&c);
			mc_skip(&c, 16);	/* comm */
		}
		break;
	case PERF_RECORD_CPU_MAP:
		swap_cpu_map(&c);
		break;
	case PERF_RECORD_STAT:
		mc_u64(&c);
		mc_u32s(&c, 2);
		mc_u64s(&c, 3);
		break;
	case PERF_RECORD_EVENT_UPDATE:
		v = mc_u64(&c);
		mc_u64(&c);			/* id */
		switch (v) {
		case 0:				/* UNIT */
		case 2:				/* NAME */
			break;
		case 1:				/* SCALE, a double */
			mc_u64(&c);
			break;
		case 3:				/* CPUS */
			swap_cpu_map(&c);
			break;
		default:
			return false;
		}
		break;
	case PERF_RECORD_TIME_CONV:
		/* shift, mult, zero[, cycles, mask, u8 flags...] */
		for (int i = 0; i < 5 && c.left >= 8; i++)
			mc_u64(&c);
		break;
	case PERF_RECORD_HEADER_FEATURE:
		v = mc_u64(&c);
		if (c.bad || !swap_feature(w, v, c.p, c.left))
			return false;
		break;
	default:
		return false;
	}
	return !c.bad;
}

/*
 * Swap the record of SIZE bytes at REC (not COMPRESSED) in place.  A body
 * that cannot be decoded keeps its bytes; only its header is swapped.
 */
static void
swap_record(struct swapper *w, unsigned char *rec, size_t size)
{
	uint32_t type = ld32(rec, w->swap);
	uint16_t misc = ld16(rec + 4, w->swap);
	struct mcur h = mc_make(rec, 8, w->swap);
	bool ok;

	memcpy(w->scratch, rec, size);
	if (type == PERF_RECORD_SAMPLE)
		ok = swap_sample(w, rec + 8, size - 8);
	else if (type < PERF_RECORD_HEADER_ATTR)
		ok = swap_kernel(w, rec, type, misc, size);
	else
		ok = swap_user(w, rec, type, size);
	if (!ok) {
		memcpy(rec, w->scratch, size);
		if (!w->undecoded++)
			w->undecoded_type = type;
	}
	mc_u32(&h);
	mc_u16(&h);
	mc_u16(&h);
}

/* ---------------------------------------------------------------- */
/* COMPRESSED records (FORMAT-NOTES.md 5). */

/* Write the swapped records at P as COMPRESSED (or COMPRESSED2) records. */
static void
deflate_out(struct swapper *w, const unsigned char *p, size_t n, uint32_t type, struct pd_buf *out)
{
	size_t piece = PIECE_MAX;

	/* perf inflates one record into a buffer of mmap_len bytes. */
	if (w->mmap_len && w->mmap_len < piece)
		piece = w->mmap_len;
	/* One finished frame per piece, in the output's byte order. */
	pw_compress(&w->zc, out, p, n, piece, type, 3, true, !w->swap);
}

/*
 * One COMPRESSED record: inflate it into the one stream, swap the records it
 * completes and write them where it stood.  A record cut by the record's end
 * waits for the next one, as in the reader.
 */
static void
do_compressed(struct swapper *w, const unsigned char *rec, size_t size, uint32_t type,
    uint64_t off, struct pd_buf *out)
{
	ZSTD_inBuffer in = { rec + 8, size - 8, 0 };
	size_t start = w->zlen, pos = 0;

	if (type == PERF_RECORD_COMPRESSED2) {
		uint64_t n = size >= 16 ? ld64(rec + 8, w->swap) : UINT64_MAX;

		if (n > size - 16u)
			die("COMPRESSED2 record at offset %#llx: bad data size",
			    (unsigned long long)off);
		in = (ZSTD_inBuffer){ rec + 16, (size_t)n, 0 };
	}
	if (!w->zd && !(w->zd = ZSTD_createDStream()))
		die("cannot create a zstd stream");
	for (;;) {
		ZSTD_outBuffer o;
		size_t ret;

		if (w->zlen - start > MAX_INFLATE)
			die("COMPRESSED record at offset %#llx inflates past %u MiB",
			    (unsigned long long)off, MAX_INFLATE >> 20);
		if (w->zalloc - w->zlen < 65536 &&
		    PD_GROW(w->zbuf, w->zlen + 262144, w->zalloc) < 0)
			die("out of memory");
		o = (ZSTD_outBuffer){ w->zbuf, w->zalloc, w->zlen };
		ret = ZSTD_decompressStream(w->zd, &o, &in);
		w->zlen = o.pos;
		if (ZSTD_isError(ret))
			die("COMPRESSED record at offset %#llx: zstd: %s", (unsigned long long)off,
			    ZSTD_getErrorName(ret));
		if (in.pos == in.size && o.pos < o.size)
			break;
	}
	while (w->zlen - pos >= 8) {
		uint16_t rs = ld16(w->zbuf + pos + 6, w->swap);

		if (rs < 8)
			die("record of size %u < 8 in the COMPRESSED record at offset %#llx", rs,
			    (unsigned long long)off);
		if (rs > w->zlen - pos)
			break;
		swap_record(w, w->zbuf + pos, rs);
		pos += rs;
	}
	if (pos)
		deflate_out(w, w->zbuf, pos, type, out);
	memmove(w->zbuf, w->zbuf + pos, w->zlen - pos);
	w->zlen -= pos;
}

/* ---------------------------------------------------------------- */
/* The record stream: IN[0, LEN) at file offset BASE. */

static void
swap_stream(struct swapper *w, const unsigned char *in, size_t len, uint64_t base,
    struct pd_buf *out)
{
	size_t pos = 0;

	while (pos < len) {
		const unsigned char *p = in + pos;
		uint64_t off = base + pos, extra = 0;
		uint32_t type;
		uint16_t size;
		size_t at;

		if (len - pos < 8)
			die("the data ends inside a record header at offset %#llx",
			    (unsigned long long)off);
		type = ld32(p, w->swap);
		size = ld16(p + 6, w->swap);
		if (size < 8 || size > len - pos)
			die("record of type %u at offset %#llx has a bad size %u", type,
			    (unsigned long long)off, size);
		if (type == PERF_RECORD_COMPRESSED || type == PERF_RECORD_COMPRESSED2) {
			do_compressed(w, p, size, type, off, out);
			pos += size;
			continue;
		}
		/* Payloads that header.size does not count (FORMAT-NOTES.md 3.4). */
		if (type == PERF_RECORD_HEADER_TRACING_DATA && size >= 12)
			extra = PW_PAD8(ld32(p + 8, w->swap));
		else if (type == PERF_RECORD_AUXTRACE && size >= 16)
			extra = ld64(p + 8, w->swap);
		if (extra > len - pos - size)
			die("the payload of the record at offset %#llx runs past the data",
			    (unsigned long long)off);
		at = out->len;
		buf_add(out, p, size + (size_t)extra);
		swap_record(w, (unsigned char *)out->buf + at, size);
		pos += size + (size_t)extra;
	}
	if (w->zlen)
		die("the compressed data ends inside a record (%zu bytes)", w->zlen);
}

/* ---------------------------------------------------------------- */
/* File mode (FORMAT-NOTES.md 1): header, ids, attrs and features in a copy. */

struct image {
	unsigned char *buf;		/* a copy of the input */
	unsigned char *mark;		/* bytes already swapped */
	size_t len;
	uint64_t data_off, data_end;
};

/* The bytes [OFF, OFF + N) of the copy, to swap exactly once. */
static unsigned char *
region(struct image *m, uint64_t off, uint64_t n, const char *what)
{
	if (off > m->len || n > m->len - off)
		die("%s (offset %#llx, size %llu) lies past the end of the file", what,
		    (unsigned long long)off, (unsigned long long)n);
	if (n && off < m->data_end && off + n > m->data_off)
		die("%s (offset %#llx) overlaps the data section", what, (unsigned long long)off);
	for (uint64_t i = 0; i < n; i++) {
		if (m->mark[off + i])
			die("%s (offset %#llx) overlaps another section", what,
			    (unsigned long long)off);
		m->mark[off + i] = 1;
	}
	return m->buf + off;
}

/* Swap a {u64 offset, u64 size} section; the offset is fixed up later. */
static void
mc_section(struct swapper *w, struct mcur *c, uint64_t *off, uint64_t *size)
{
	unsigned char *p = c->p;

	*off = mc_u64(c);
	*size = mc_u64(c);
	if (c->bad)
		return;
	if (PD_GROW(w->fix, w->nr_fix + 1, w->alloc_fix) < 0)
		die("out of memory");
	w->fix[w->nr_fix++] = (struct fixup){ p, *off };
}

static void
file_mode(struct swapper *w, const unsigned char *in, size_t len, struct pd_buf *out)
{
	struct image m = { NULL, NULL, len, 0, 0 };
	struct pd_buf data = PD_BUF_INIT;
	uint64_t hsize, asize, aoff, alen, doff, dlen, eoff, elen, bits[4] = { 0 };
	int64_t delta;
	unsigned nfeat = 0, k = 0;
	struct mcur c;

	m.buf = malloc(len);
	m.mark = calloc(1, len);
	if (!m.buf || !m.mark)
		die("out of memory");
	memcpy(m.buf, in, len);
	hsize = ld64(in + 8, w->swap);
	if (hsize != 104 && hsize != 72)
		die("unsupported header size %llu", (unsigned long long)hsize);
	if (len < hsize)
		die("truncated file header");
	doff = ld64(in + 40, w->swap);
	dlen = ld64(in + 48, w->swap);
	if (doff < hsize || doff > len || dlen > len - doff)
		die("the data section (offset %#llx, size %llu) does not fit the file",
		    (unsigned long long)doff, (unsigned long long)dlen);
	m.data_off = doff;
	/* data.size 0: a killed recorder, records up to the end (1.7). */
	m.data_end = dlen ? doff + dlen : len;

	c = mc_make(region(&m, 0, hsize, "the file header"), hsize, w->swap);
	mc_u64(&c);				/* magic */
	mc_u64(&c);				/* size */
	asize = mc_u64(&c);
	mc_section(w, &c, &aoff, &alen);
	mc_u64s(&c, 2);				/* data: no fix-up, the size is rewritten */
	mc_section(w, &c, &eoff, &elen);	/* event_types: obsolete, kept as bytes */
	for (int i = 0; i < 4 && hsize == 104; i++)
		nfeat += (unsigned)__builtin_popcountll(bits[i] = mc_u64(&c));
	if (asize < 64 + 16 || asize > 4096 || alen % asize || !alen)
		die("attr entry size %llu, section size %llu", (unsigned long long)asize,
		    (unsigned long long)alen);

	/* perf_file_attr[]: attr, then {u64 offset, u64 size} of its ids. */
	for (uint64_t i = 0; i < alen / asize; i++) {
		unsigned char *e = region(&m, aoff + i * asize, asize, "an attr");
		uint64_t ioff, ilen;
		uint32_t asz = attr_size(e, w->swap);
		struct attr a;
		struct mcur ids;

		if (asz > asize - 16)
			die("attr %llu: size %u does not fit its entry of %llu bytes",
			    (unsigned long long)i, asz, (unsigned long long)asize);
		attr_info(e, asz, w->swap, &a);
		swap_attr(e, asz, w->swap);
		add_attr(w, &a);
		c = mc_make(e + asize - 16, 16, w->swap);
		mc_section(w, &c, &ioff, &ilen);
		if (ilen % 8)
			die("attr %llu: id list of %llu bytes", (unsigned long long)i,
			    (unsigned long long)ilen);
		ids = mc_make(region(&m, ioff, ilen, "an id list"), ilen, w->swap);
		while (ids.left)
			add_id(w, mc_u64(&ids), w->nr_attrs - 1);
	}

	/* The feature table sits at data.offset + data.size (1.2). */
	if (nfeat && dlen) {
		unsigned char *tab = region(&m, m.data_end, 16 * (uint64_t)nfeat,
		    "the feature table");

		for (unsigned bit = 0; bit < HEADER_FEAT_BITS; bit++) {
			uint64_t foff, flen;
			unsigned char *body;

			if (!(bits[bit / 64] & (1ull << (bit % 64))))
				continue;
			c = mc_make(tab + 16 * k++, 16, w->swap);
			mc_section(w, &c, &foff, &flen);
			body = region(&m, foff, flen, "a feature section");
			if (!swap_feature(w, bit, body, flen))
				die("cannot decode feature %u (offset %#llx, size %llu)", bit,
				    (unsigned long long)foff, (unsigned long long)flen);
		}
	}

	swap_stream(w, in + doff, m.data_end - doff, doff, &data);

	/* Sections after the data move with its new size. */
	delta = (int64_t)data.len - (int64_t)(m.data_end - doff);
	for (size_t i = 0; i < w->nr_fix; i++)
		if (w->fix[i].off >= m.data_end)
			st64(w->fix[i].p, w->fix[i].off + (uint64_t)delta, w->swap);
	if (dlen)
		st64(m.buf + 48, data.len, w->swap);
	buf_add(out, m.buf, doff);
	buf_add(out, data.buf, data.len);
	buf_add(out, m.buf + m.data_end, len - m.data_end);
	pd_buf_release(&data);
	free(m.buf);
	free(m.mark);
}

/* ---------------------------------------------------------------- */

static void
read_input(const char *path, struct pd_buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("cannot open '%s': %s", path, strerror(errno));
	for (;;) {
		ssize_t k;

		if (pd_buf_grow(b, 1 << 20) < 0)
			die("out of memory");
		k = read(fd, b->buf + b->len, b->alloc - b->len - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			die("cannot read '%s': %s", path, strerror(errno));
		if (k == 0)
			break;
		b->len += (size_t)k;
	}
	close(fd);
}

int
main(int argc, char **argv)
{
	static struct swapper w;
	struct pd_buf in = PD_BUF_INIT, out = PD_BUF_INIT;
	const unsigned char *p;
	uint64_t magic;

	if (argc != 3)
		die("usage: gen-swap IN OUT");
	read_input(argv[1], &in);
	p = (const unsigned char *)in.buf;
	if (in.len < 16)
		die("'%s' is too short for a perf.data header", argv[1]);
	memcpy(&magic, p, 8);
	if (magic == 0x50455246494c4532ull)
		w.swap = true;
	else if (magic != 0x32454c4946524550ull)
		die("'%s' is not a perf.data file (bad magic)", argv[1]);

	if (ld64(p + 8, w.swap) == 16) {
		/* Pipe mode (FORMAT-NOTES.md 2): {magic, size}, then records. */
		struct mcur c;

		buf_add(&out, p, 16);
		c = mc_make((unsigned char *)out.buf, 16, w.swap);
		mc_u64s(&c, 2);
		swap_stream(&w, p + 16, in.len - 16, 16, &out);
	} else {
		file_mode(&w, p, in.len, &out);
	}
	write_output(argv[2], &out);
	if (w.undecoded)
		fprintf(stderr, "gen-swap: %llu records (the first of type %llu) "
		    "swapped in their header only\n",
		    (unsigned long long)w.undecoded, (unsigned long long)w.undecoded_type);

	free(w.ids);
	if (w.zd)
		ZSTD_freeDStream(w.zd);
	free(w.zbuf);
	pw_zstd_free(&w.zc);
	free(w.fix);
	free(w.attrs);
	pd_buf_release(&in);
	pd_buf_release(&out);
	return 0;
}
