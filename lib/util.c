/*
 * util.c - growth buffer, arena, array growth, error text, number parsing
 * and demangling: the small pieces every module uses.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libiberty/demangle.h>

#include "pd-internal.h"

char pd_buf_empty[1];

const char *
pd_strerror(int code)
{
	switch (code) {
#define PD_E_CASE(name, val, msg) case (val): return msg;
	PD_ERRORS(PD_E_CASE)
#undef PD_E_CASE
	}
	return code == PD_END ? "end of input" : "unknown error";
}

void
pd_cloc_enter(struct pd_cloc *l)
{
	l->c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	l->old = l->c ? uselocale(l->c) : (locale_t)0;
}

void
pd_cloc_leave(struct pd_cloc *l)
{
	if (l->c) {
		uselocale(l->old);
		freelocale(l->c);
	}
}

int
pd_grow_(void **arr, size_t n, size_t *alloc, size_t elem)
{
	size_t want, bytes;
	void *p;

	if (n <= *alloc)
		return 0;
	want = *alloc < 16 ? 16 : *alloc;
	while (want < n) {
		if (__builtin_mul_overflow(want, 2, &want))
			return -1;
	}
	if (__builtin_mul_overflow(want, elem, &bytes))
		return -1;
	p = realloc(*arr, bytes);
	if (!p)
		return -1;
	*arr = p;
	*alloc = want;
	return 0;
}

int
pd_buf_grow(struct pd_buf *b, size_t extra)
{
	size_t need;
	char *p;

	if (__builtin_add_overflow(b->len, extra, &need) ||
	    __builtin_add_overflow(need, 1, &need))
		return -1;
	if (need <= b->alloc)
		return 0;
	if (b->alloc == 0) {
		size_t a = need < 64 ? 64 : need;

		p = malloc(a);
		if (!p)
			return -1;
		p[0] = '\0';
		b->buf = p;
		b->alloc = a;
		return 0;
	}
	{
		size_t a = b->alloc;

		while (a < need)
			if (__builtin_mul_overflow(a, 2, &a))
				return -1;
		p = realloc(b->buf, a);
		if (!p)
			return -1;
		b->buf = p;
		b->alloc = a;
	}
	return 0;
}

int
pd_buf_add(struct pd_buf *b, const void *p, size_t n)
{
	if (pd_buf_grow(b, n) < 0)
		return -1;
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return 0;
}

int
pd_buf_addstr(struct pd_buf *b, const char *s)
{
	return pd_buf_add(b, s, strlen(s));
}

int
pd_buf_addf(struct pd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || pd_buf_grow(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
pd_buf_reset(struct pd_buf *b)
{
	b->len = 0;
	b->buf[0] = '\0';
}

void
pd_buf_release(struct pd_buf *b)
{
	if (b->alloc)
		free(b->buf);
	b->buf = pd_buf_empty;
	b->len = b->alloc = 0;
}

struct pd_arena_chunk {
	struct pd_arena_chunk *next;
	max_align_t data[];
};

#define PD_ARENA_CHUNK (64u << 10)

void *
pd_arena_alloc(struct pd_arena *a, size_t n)
{
	struct pd_arena_chunk *c;
	size_t size;

	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	if (!a->head || a->size - a->used < n) {
		size = n > PD_ARENA_CHUNK / 4 ? n : PD_ARENA_CHUNK;
		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		if (size == n && a->head) {
			/* A big block: keep the current chunk for small ones. */
			c->next = a->head->next;
			a->head->next = c;
			return c->data;
		}
		c->next = a->head;
		a->head = c;
		a->used = 0;
		a->size = size;
	}
	{
		void *p = (char *)a->head->data + a->used;

		a->used += n;
		return p;
	}
}

char *
pd_arena_strndup(struct pd_arena *a, const char *s, size_t n)
{
	char *p = pd_arena_alloc(a, n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
pd_arena_strdup(struct pd_arena *a, const char *s)
{
	return pd_arena_strndup(a, s, strlen(s));
}

void
pd_arena_release(struct pd_arena *a)
{
	struct pd_arena_chunk *c, *next;

	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = a->size = 0;
}

int
pd_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return PD_E_USAGE;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return PD_E_USAGE;
	*out = v;
	return PD_OK;
}

int
pd_parse_count(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (!len)
		return PD_E_FORMAT;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || __builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
			return PD_E_FORMAT;
	}
	*out = v;
	return PD_OK;
}

int
pd_add_weight(uint64_t *sum, uint64_t w)
{
	uint64_t r;

	if (__builtin_add_overflow(*sum, w, &r))
		return PD_E_LIMIT;
	*sum = r;
	return PD_OK;
}

/*
 * C++ (Itanium ABI) and Rust (legacy "_ZN...17h<hash>E" and v0 "_R") names,
 * through libiberty as perf 6.1 does by default: without DMGL_PARAMS, so no
 * argument lists and no return types of template functions ("void
 * std::sort<...>(...)" is "std::sort<...>").  libiberty drops the Rust
 * legacy hash unless DMGL_VERBOSE is given, as perf's rust_demangle_sym does.
 */
char *
pd_demangle(struct pd_arena *a, const char *name)
{
	char *d, *r;

	if (name[0] != '_' || (name[1] != 'Z' && name[1] != 'R'))
		return NULL;
	d = cplus_demangle(name, DMGL_AUTO);
	if (!d && name[1] == 'R')
		d = cplus_demangle(name, DMGL_RUST);
	if (!d)
		return NULL;
	r = pd_arena_strdup(a, d);
	free(d);
	return r;
}

int
pd_folded_meta_parse(const char *line, size_t len, struct pd_folded_meta *m)
{
	static const char *const kinds[] = { "# pd-folded ", "# pd-diff " };
	size_t i = 0, k;
	int found = 0;

	memset(m, 0, sizeof(*m));
	for (k = 0; k < 2 && !found; k++) {
		size_t kl = strlen(kinds[k]);

		if (len >= kl && !memcmp(line, kinds[k], kl)) {
			found = 1;
			i = kl;
		}
	}
	if (!found)
		return 0;
	while (i < len) {
		size_t e = i, eq;

		while (e < len && line[e] != ' ')
			e++;
		for (eq = i; eq < e && line[eq] != '='; eq++)
			;
		if (eq < e) {
			const char *v = line + eq + 1;
			size_t vl = e - eq - 1;

			if (eq - i == 6 && !memcmp(line + i, "weight", 6)) {
				if (vl == 7 && !memcmp(v, "samples", 7))
					m->weight = PD_WEIGHT_SAMPLES;
				else if (vl == 6 && !memcmp(v, "period", 6))
					m->weight = PD_WEIGHT_PERIOD;
				else
					m->weight = PD_WEIGHT_UNKNOWN;
			} else if (eq - i == 5 && !memcmp(line + i, "event", 5)) {
				if (vl >= sizeof(m->event))
					vl = sizeof(m->event) - 1;
				memcpy(m->event, v, vl);
				m->event[vl] = '\0';
			}
		}
		i = e + 1;
	}
	return 1;
}

const char *
pd_period_unit(const char *event)
{
	if (!event || !*event || !strcmp(event, "all") || !strcmp(event, "none"))
		return "periods";
	if (pd_event_name_matches("cpu-clock", event) || pd_event_name_matches("task-clock", event))
		return "ns";
	return event;
}
