/*
 * sample.c - PERF_RECORD_SAMPLE bodies and sample_id trailers, decoded by
 * sample_type in the order the kernel writes them (perf_output_sample;
 * FORMAT-NOTES.md 4.1).  Every variable part is bounded by the record.
 */
#include "pd-internal.h"

static void
skip_read_format(struct pd_cur *c, uint64_t rf)
{
	if (rf & PERF_FORMAT_GROUP) {
		uint64_t nr = pd_cur_u64(c);
		size_t per = 8 + 8 * (!!(rf & PERF_FORMAT_ID) + !!(rf & PERF_FORMAT_LOST));

		pd_cur_skip(c, 8 * (!!(rf & PERF_FORMAT_TOTAL_TIME_ENABLED) +
		    !!(rf & PERF_FORMAT_TOTAL_TIME_RUNNING)));
		if (nr > c->left / per)
			c->bad = 1;
		else
			pd_cur_skip(c, (size_t)nr * per);
	} else {
		pd_cur_skip(c, 8 * (1 + !!(rf & PERF_FORMAT_TOTAL_TIME_ENABLED) +
		    !!(rf & PERF_FORMAT_TOTAL_TIME_RUNNING) + !!(rf & PERF_FORMAT_ID) +
		    !!(rf & PERF_FORMAT_LOST)));
	}
}

/* Skip a register block; returns its ABI (0: no registers). */
static uint64_t
skip_regs(struct pd_cur *c, uint64_t mask)
{
	uint64_t abi = pd_cur_u64(c);

	if (abi)
		pd_cur_skip(c, 8 * (size_t)__builtin_popcountll(mask));
	return abi;
}

int
pd_sample_parse(const struct pd_attr *a, const unsigned char *body, size_t len, bool swap,
    struct pd_raw_sample *s)
{
	struct pd_cur c = pd_cur_make(body, len, swap);
	uint64_t st = a->info.sample_type;

	memset(s, 0, sizeof(*s));
	s->pid = s->tid = UINT32_MAX;
	s->period = 1;
	if (st & PERF_SAMPLE_IDENTIFIER)
		s->id = pd_cur_u64(&c);
	if (st & PERF_SAMPLE_IP)
		s->ip = pd_cur_u64(&c);
	if (st & PERF_SAMPLE_TID) {
		s->pid = pd_cur_u32(&c);
		s->tid = pd_cur_u32(&c);
	}
	if (st & PERF_SAMPLE_TIME) {
		s->time = pd_cur_u64(&c);
		s->has_time = true;
	}
	if (st & PERF_SAMPLE_ADDR)
		s->addr = pd_cur_u64(&c);
	if (st & PERF_SAMPLE_ID)
		s->id = pd_cur_u64(&c);
	if (st & PERF_SAMPLE_STREAM_ID)
		s->stream_id = pd_cur_u64(&c);
	if (st & PERF_SAMPLE_CPU) {
		s->cpu = pd_cur_u32(&c);
		pd_cur_u32(&c);
	}
	if (st & PERF_SAMPLE_PERIOD)
		s->period = pd_cur_u64(&c);
	else
		/* perf uses attr.sample_period; with freq=1 that is the frequency. */
		s->period = a->sample_period;
	if (st & PERF_SAMPLE_READ)
		skip_read_format(&c, a->read_format);
	if (st & PERF_SAMPLE_CALLCHAIN) {
		uint64_t nr = pd_cur_u64(&c);

		if (c.bad || nr > c.left / 8)
			return PD_E_CORRUPT;
		s->nr_callchain = nr;
		s->callchain = c.p;
		pd_cur_skip(&c, (size_t)nr * 8);
	}
	if (st & PERF_SAMPLE_RAW) {
		uint32_t n = pd_cur_u32(&c);

		if (!c.bad && n <= c.left) {
			s->raw = c.p;
			s->raw_size = n;
		}
		pd_cur_skip(&c, n);
	}
	if (st & PERF_SAMPLE_BRANCH_STACK) {
		uint64_t nr = pd_cur_u64(&c);

		if (a->branch_sample_type & (1u << 17))	/* PERF_SAMPLE_BRANCH_HW_INDEX */
			pd_cur_skip(&c, 8);
		if (c.bad || nr > c.left / 24)
			return PD_E_CORRUPT;
		pd_cur_skip(&c, (size_t)nr * 24);
	}
	if (st & PERF_SAMPLE_REGS_USER) {
		s->regs = c.p + 8;
		s->regs_abi = skip_regs(&c, a->sample_regs_user);
		if (c.bad)
			s->regs_abi = 0;
	}
	if (st & PERF_SAMPLE_STACK_USER) {
		uint64_t size = pd_cur_u64(&c);

		if (size) {
			uint64_t dyn;
			const unsigned char *data = c.p;

			if (size > c.left)
				return PD_E_CORRUPT;
			pd_cur_skip(&c, (size_t)size);
			dyn = pd_cur_u64(&c);
			if (dyn > size)
				return PD_E_CORRUPT;
			s->stack = data;
			s->stack_len = dyn;
		}
	}
	if (st & (PERF_SAMPLE_WEIGHT | PERF_SAMPLE_WEIGHT_STRUCT))
		pd_cur_skip(&c, 8);
	if (st & PERF_SAMPLE_DATA_SRC)
		pd_cur_skip(&c, 8);
	if (st & PERF_SAMPLE_TRANSACTION)
		pd_cur_skip(&c, 8);
	if (st & PERF_SAMPLE_REGS_INTR)
		skip_regs(&c, a->sample_regs_intr);
	if (st & PERF_SAMPLE_PHYS_ADDR)
		pd_cur_skip(&c, 8);
	if (st & PERF_SAMPLE_CGROUP)
		pd_cur_skip(&c, 8);
	if (st & PERF_SAMPLE_DATA_PAGE_SIZE)
		pd_cur_skip(&c, 8);
	if (st & PERF_SAMPLE_CODE_PAGE_SIZE)
		pd_cur_skip(&c, 8);
	if (st & PERF_SAMPLE_AUX) {
		uint64_t size = pd_cur_u64(&c);

		if (size > c.left)
			return PD_E_CORRUPT;
		pd_cur_skip(&c, (size_t)size);
	}
	return c.bad ? PD_E_CORRUPT : PD_OK;
}

/* The trailer sits at the very end of the record (FORMAT-NOTES.md 3.2). */
void
pd_trailer_parse(const struct pd_attr *a, const unsigned char *body, size_t len, bool swap,
    uint64_t *time, uint64_t *id, bool *has_time)
{
	uint64_t st = a->info.sample_type;
	struct pd_cur c;

	*time = 0;
	*id = 0;
	*has_time = false;
	if (!a->trailer_size || a->trailer_size > len)
		return;
	c = pd_cur_make(body + len - a->trailer_size, a->trailer_size, swap);
	if (st & PERF_SAMPLE_TID)
		pd_cur_skip(&c, 8);
	if (st & PERF_SAMPLE_TIME) {
		*time = pd_cur_u64(&c);
		*has_time = true;
	}
	if (st & PERF_SAMPLE_ID)
		*id = pd_cur_u64(&c);
	if (st & PERF_SAMPLE_STREAM_ID)
		pd_cur_skip(&c, 8);
	if (st & PERF_SAMPLE_CPU)
		pd_cur_skip(&c, 8);
	if (st & PERF_SAMPLE_IDENTIFIER)
		*id = pd_cur_u64(&c);
}
