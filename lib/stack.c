/*
 * stack.c - folding: samples to "comm;root;...;leaf COUNT" lines.
 *
 * Aggregate first, name later (DESIGN.md).  pd_fold_add hashes the resolved
 * chain (comm, DSO and DSO-relative address per frame) into a flat
 * open-addressing table, without allocating per sample.  pd_fold_flush then
 * names each distinct chain once, with the symbol names cached per symbol,
 * and merges the text stacks into a table of totals that pd_fold_write
 * sorts.  The naming follows stackcollapse-perf.pl's defaults: unknown
 * symbols become "[dso basename]" (or "[unknown]"), ';' becomes ':',
 * argument lists and quotes are removed, and spaces in the comm become '_'.
 *
 * When the session asks for source views (pd_session_opts.inline_frames,
 * .srclines), a user frame with a symbol becomes its chain of inlined
 * functions, "outer;...;inner", each level "func (file:line)" with lines.
 * The symbolizer resolves and keeps each distinct address once for the
 * session (so across flushes); the text of a view is cached in it too.
 */
#include <stdlib.h>

#include "pd-uthash.h"

#include "sym.h"

/* A frame's key word: the DSO pointer | the frame kind | UNWOUND_TAG. */
#define UNWOUND_TAG	4
#define TAG_MASK	7

struct chain {
	uint64_t hash;
	uint64_t *key;			/* in the arena; key[0] = length in words */
	uint64_t weight, samples;
	const char *comm;
};

struct total {
	char *stack;
	uint64_t weight;
	UT_hash_handle hh;
};

/* A frame of a DWARF chain to look up, in the order perf does (src_first_seen). */
struct lookup {
	struct pd_dso *dso;
	uint64_t rel;
};

struct pd_fold {
	unsigned flags;
	struct lookup *order;
	size_t nord, aord;
	struct chain *tab;
	size_t cap, used;
	struct pd_arena keys;
	size_t pending;			/* bytes of keys in the arena */
	uint64_t *scratch;
	size_t ascratch;
	struct total *totals;
	struct pd_arena text;
	uint64_t nsamples, nweight;
	struct pd_buf line;
};

struct pd_fold *
pd_fold_new(unsigned flags)
{
	struct pd_fold *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->flags = flags;
	f->line = (struct pd_buf)PD_BUF_INIT;
	return f;
}

void
pd_fold_free(struct pd_fold *f)
{
	struct total *t, *tmp;

	if (!f)
		return;
	HASH_ITER(hh, f->totals, t, tmp)
		HASH_DEL(f->totals, t);
	free(f->tab);
	free(f->order);
	free(f->scratch);
	pd_arena_release(&f->keys);
	pd_arena_release(&f->text);
	pd_buf_release(&f->line);
	free(f);
}

uint64_t pd_fold_samples(const struct pd_fold *f) { return f->nsamples; }
uint64_t pd_fold_weight(const struct pd_fold *f) { return f->nweight; }

static inline uint64_t
mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x9e3779b97f4a7c15ull + (h >> 29);
}

static int
tab_grow(struct pd_fold *f)
{
	size_t ncap = f->cap ? f->cap * 2 : 4096;
	struct chain *nt = calloc(ncap, sizeof(*nt));

	if (!nt)
		return -1;
	for (size_t i = 0; i < f->cap; i++) {
		struct chain *c = &f->tab[i];
		size_t j;

		if (!c->key)
			continue;
		for (j = c->hash & (ncap - 1); nt[j].key; j = (j + 1) & (ncap - 1))
			;
		nt[j] = *c;
	}
	free(f->tab);
	f->tab = nt;
	f->cap = ncap;
	return 0;
}

/*
 * The frames of --call-graph dwarf chains are named as addr2line names
 * them for perf, and that depends on the order of the lookups (sym.c,
 * a2l_name): perf looks each address up once, in sample order, leaf
 * first.  So the user frames of a chain seen for the first time are noted
 * here, in that order, and looked up in it at the flush, before the chains
 * are named; meanwhile the DWARF is read by threads (pd_symbolizer_prefetch_dwarf).
 */
static int
src_first_seen(struct pd_fold *f, struct pd_session *sess, const struct pd_sample *s)
{
	struct pd_symbolizer *y = sess ? pd_session_symbolizer(sess) : NULL;

	if (!y || !pd_symbolizer_src_wanted(y, true))
		return PD_OK;
	for (size_t i = 0; i < s->nr_frames; i++) {
		const struct pd_frame *fr = &s->frames[i];

		if (!fr->unwound || !fr->dso || fr->kind != PD_FRAME_USER)
			continue;
		if (PD_GROW(f->order, f->nord + 1, f->aord) < 0)
			return PD_E_NOMEM;
		f->order[f->nord++] = (struct lookup){ fr->dso, fr->rel };
	}
	return PD_OK;
}

/*
 * Distinct raw chains cost about 16 bytes a frame.  Past this much, they are
 * named and merged into the text totals, so memory follows the number of
 * distinct stacks in the output, not the length of the recording.
 */
#define PD_FOLD_PENDING_MAX	(16u << 20)

int
pd_fold_add(struct pd_fold *f, struct pd_session *sess, const struct pd_sample *s)
{
	size_t words = 1 + 2 + 2 * s->nr_frames, j;
	uint64_t h = 0, w = (f->flags & PD_FOLD_SAMPLES) ? 1 : s->period;
	uint64_t *k;

	/*
	 * Every stack's weight is part of the total, so checking the total
	 * checks them all; the sample that would make it pass 2^64-1 is
	 * refused before anything changes (its offset is the caller's to
	 * report), and the samples before it stay folded.
	 */
	if (f->nweight > UINT64_MAX - w)
		return PD_E_LIMIT;
	if (PD_GROW(f->scratch, words, f->ascratch) < 0)
		return PD_E_NOMEM;
	k = f->scratch;
	k[0] = words;
	k[1] = (uint64_t)(uintptr_t)s->comm;
	k[2] = (f->flags & (PD_FOLD_PID | PD_FOLD_TID)) ?
	    ((uint64_t)s->pid << 32 | ((f->flags & PD_FOLD_TID) ? s->tid : 0)) : 0;
	h = mix(mix(mix(h, k[0]), k[1]), k[2]);
	for (size_t i = 0; i < s->nr_frames; i++) {
		uint64_t a = (uint64_t)(uintptr_t)s->frames[i].dso | s->frames[i].kind |
		    (s->frames[i].unwound ? UNWOUND_TAG : 0);

		k[3 + 2 * i] = a;
		k[4 + 2 * i] = s->frames[i].rel;
		h = mix(mix(h, a), s->frames[i].rel);
	}
	h ^= h >> 31;
	if (2 * (f->used + 1) > f->cap && tab_grow(f) < 0)
		return PD_E_NOMEM;
	for (j = h & (f->cap - 1); f->tab[j].key; j = (j + 1) & (f->cap - 1)) {
		struct chain *c = &f->tab[j];

		if (c->hash == h && c->key[0] == words && !memcmp(c->key, k, words * 8)) {
			if (pd_add_weight(&c->weight, w) < 0)
				return PD_E_LIMIT;
			c->samples++;
			goto counted;
		}
	}
	{
		uint64_t *key = pd_arena_alloc(&f->keys, words * 8);

		if (!key)
			return PD_E_NOMEM;
		memcpy(key, k, words * 8);
		f->tab[j] = (struct chain){ h, key, w, 1, s->comm };
		f->used++;
		f->pending += words * 8;
		if (src_first_seen(f, sess, s) < 0)
			return PD_E_NOMEM;
	}
counted:
	f->nsamples++;
	f->nweight += w;	/* checked above */
	if (f->pending > PD_FOLD_PENDING_MAX)
		return pd_fold_flush(f, sess);
	return PD_OK;
}

/*
 * stackcollapse-perf.pl drops frames whose name begins with '(' (meant
 * for process names in perf script's output), which also drops every C++
 * function in an anonymous namespace, "(anonymous namespace)::f", although
 * its own tidy_generic keeps that prefix.  Those frames are real and perf
 * report shows them: they are kept.
 */
static bool
skipped(const char *name)
{
	return name[0] == '(' && strncmp(name, "(anonymous namespace)", 21) != 0;
}

/* stackcollapse-perf.pl's tidy_generic, into B. */
static void
tidy(struct pd_buf *b, const char *func)
{
	const char *cut = NULL;

	/* "pkg.(*T).M" looks like Go: keep its parentheses. */
	{
		const char *p = strstr(func, ".(");

		if (!(p && strchr(p + 2, ')') && strchr(strchr(p + 2, ')'), '.')))
			for (const char *q = strchr(func, '('); q; q = strchr(q + 1, '('))
				if (strncmp(q, "(anonymous namespace)", 21)) {
					cut = q;
					break;
				}
	}
	for (const char *p = func; *p && p != cut; p++) {
		char ch = *p;

		if (ch == '"' || ch == '\'')
			continue;
		if (ch == ';')
			ch = ':';
		else if (ch == '\n' || ch == '\r')
			ch = ' ';
		pd_buf_add(b, &ch, 1);
	}
}

/* "[basename]" for a frame in a DSO without a symbol for it. */
static void
unknown_name(struct pd_buf *b, const struct pd_frame *fr, unsigned flags)
{
	const char *base = "unknown";

	size_t len = strlen(base);

	if (fr->dso) {
		const char *n = pd_dso_name(fr->dso), *sl = strrchr(n, '/');

		base = sl ? sl + 1 : n;
		len = strlen(base);
		/* perf names a file unlinked while mapped "path (deleted)". */
		if (len > 10 && !strcmp(base + len - 10, " (deleted)"))
			len -= 10;
	}
	pd_buf_addstr(b, "[");
	{
		char *tmp = strndup(base, len);

		tidy(b, tmp ? tmp : "?");
		free(tmp);
	}
	if (flags & PD_FOLD_ADDRS)
		/* perf script prints DSO-relative addresses for user frames. */
		pd_buf_addf(b, " <%llx>", (unsigned long long)(fr->dso && fr->kind != PD_FRAME_KERNEL ?
		    fr->rel : fr->ip));
	pd_buf_addstr(b, "]");
}

/* A source file name: only what would break the format is replaced. */
static void
tidy_path(struct pd_buf *b, const char *path)
{
	for (const char *p = path; *p; p++) {
		char ch = *p == ';' ? ':' : (*p == '\n' || *p == '\r') ? ' ' : *p;

		pd_buf_add(b, &ch, 1);
	}
}

/*
 * A frame's source view (--inline, --lines) as "outer;...;inner" with
 * "func (file:line)" names; levels whose name begins with '(' are dropped
 * as stackcollapse-perf.pl drops such frames (but see skipped()).  NULL when there is no symbol
 * (the caller names it as usual).  The text is cached in the view, which
 * the symbolizer keeps across flushes.
 */
static const char *
src_name(struct pd_fold *f, struct pd_symbolizer *y, const struct pd_frame *fr, bool ret,
    bool java, struct pd_buf *tmp)
{
	struct pd_srcinfo *si = pd_symbolizer_src(y, fr->dso, fr->rel, ret, fr->unwound);

	if (!si || !si->sym || !si->nr)
		return NULL;
	if (si->user && !java)
		return si->user;
	pd_buf_reset(tmp);
	for (size_t i = 0; i < si->nr; i++) {
		const struct pd_srclevel *l = &si->level[i];
		size_t at = tmp->len, start;

		if (at)
			pd_buf_addstr(tmp, ";");
		start = tmp->len;
		tidy(tmp, l->func);
		/* Java names lose the 'L' of their signature, as in frame_name. */
		if (java && tmp->buf[start] == 'L' && strchr(tmp->buf + start, '/')) {
			memmove(tmp->buf + start, tmp->buf + start + 1, tmp->len - start);
			tmp->len--;
		}
		if (skipped(tmp->buf + start)) {
			tmp->len = at;		/* dropped */
			if (tmp->alloc)
				tmp->buf[at] = '\0';
			continue;
		}
		if (l->file) {
			pd_buf_addstr(tmp, " (");
			tidy_path(tmp, l->file);
			pd_buf_addf(tmp, ":%u)", l->line);
		}
	}
	if (!java)
		si->user = pd_arena_strdup(&f->text, tmp->buf);
	return tmp->buf;
}

static const char *
frame_name(struct pd_fold *f, struct pd_symbolizer *y, const struct pd_frame *fr, bool ret,
    bool java, struct pd_buf *tmp)
{
	struct pd_sym *sym;
	void **slot = fr->dso ? pd_dso_user(fr->dso) : NULL;

	if (fr->dso && fr->kind == PD_FRAME_USER && pd_symbolizer_src_wanted(y, fr->unwound)) {
		const char *name = src_name(f, y, fr, ret, java, tmp);

		if (name)
			return name;
	}
	sym = fr->dso ? pd_symbolizer_find(y, fr->dso, fr->rel) : NULL;
	pd_buf_reset(tmp);
	if (!sym) {
		if (!(f->flags & PD_FOLD_ADDRS) && slot && *slot)
			return *slot;
		unknown_name(tmp, fr, f->flags);
		if (!(f->flags & PD_FOLD_ADDRS) && slot) {
			*slot = pd_arena_strdup(&f->text, tmp->buf);
			return *slot;
		}
		return tmp->buf;
	}
	if (sym->user && !java)
		return sym->user;
	tidy(tmp, pd_sym_name(y, sym));
	if (java && strchr(tmp->buf, '/') && tmp->buf[0] == 'L')
		return tmp->buf + 1;
	if (!java)
		sym->user = pd_arena_strdup(&f->text, tmp->buf);
	return tmp->buf;
}

static int
add_total(struct pd_fold *f, const char *stack, size_t len, uint64_t w)
{
	struct total *t;

	HASH_FIND(hh, f->totals, stack, len, t);
	if (t)
		return pd_add_weight(&t->weight, w);
	t = pd_arena_alloc(&f->text, sizeof(*t));
	if (!t)
		return PD_E_NOMEM;
	t->stack = pd_arena_strndup(&f->text, stack, len);
	if (!t->stack)
		return PD_E_NOMEM;
	t->weight = w;
	HASH_ADD_KEYPTR(hh, f->totals, t->stack, len, t);
	return PD_OK;
}

int
pd_fold_flush(struct pd_fold *f, struct pd_session *s)
{
	struct pd_symbolizer *y = pd_session_symbolizer(s);
	struct pd_buf *b = &f->line, tmp = PD_BUF_INIT, comm = PD_BUF_INIT;
	int rc = PD_OK;
	bool src = pd_symbolizer_src_wanted(y, false) || pd_symbolizer_src_wanted(y, true);

	for (size_t i = 0; i < f->nord; i++)
		if (!pd_symbolizer_src(y, f->order[i].dso, f->order[i].rel, false, true))
			rc = PD_E_NOMEM;
	f->nord = 0;

	for (size_t i = 0; i < f->cap && rc == PD_OK; i++) {
		struct chain *c = &f->tab[i];
		size_t nf;
		bool java, first = true;

		if (!c->key)
			continue;
		nf = (c->key[0] - 3) / 2;
		pd_buf_reset(b);
		pd_buf_reset(&comm);
		pd_buf_addstr(&comm, c->comm);
		if (f->flags & PD_FOLD_TID)
			pd_buf_addf(&comm, "-%u/%u", (unsigned)(c->key[2] >> 32), (unsigned)(c->key[2] & 0xffffffffu));
		else if (f->flags & PD_FOLD_PID)
			pd_buf_addf(&comm, "-%u", (unsigned)(c->key[2] >> 32));
		for (char *p = comm.buf; *p; p++)
			if (*p == ' ')
				*p = '_';
			else if (*p == ';')
				*p = ':';
			else if (*p == '\n' || *p == '\r')
				*p = '_';
		java = !strncmp(comm.buf, "java", 4);
		if (!(f->flags & PD_FOLD_NO_COMM)) {
			pd_buf_addstr(b, comm.buf);
			first = false;
		}
		for (size_t k = nf; k-- > 0;) {
			struct pd_frame fr;
			const char *name;
			uint64_t tagged = c->key[3 + 2 * k];
			/*
			 * Below the sample IP, frames are return addresses; the
			 * first user frame under kernel frames is where user
			 * code was interrupted or made a syscall, so it is
			 * looked up as it is.  (DWARF-unwound frames already
			 * hold the return address - 1; one byte less still
			 * falls in the same call instruction.)
			 */
			bool ret = k > 0 && (c->key[3 + 2 * (k - 1)] & 3) != PD_FRAME_KERNEL;

			fr.dso = (struct pd_dso *)(uintptr_t)(tagged & ~(uint64_t)TAG_MASK);
			fr.kind = tagged & 3;
			fr.unwound = !!(tagged & UNWOUND_TAG);
			fr.rel = fr.ip = c->key[4 + 2 * k];
			name = frame_name(f, y, &fr, ret, java, &tmp);
			if (skipped(name))
				continue;
			if (!name[0] && src)	/* every inline level skipped */
				continue;
			if (!first)
				pd_buf_addstr(b, ";");
			first = false;
			pd_buf_addstr(b, name);
			if ((f->flags & PD_FOLD_KERNEL) && fr.kind == PD_FRAME_KERNEL)
				pd_buf_addstr(b, "_[k]");
			else if ((f->flags & PD_FOLD_JIT) && fr.dso && pd_dso_is_jit(fr.dso))
				pd_buf_addstr(b, "_[j]");
		}
		if (b->len == 0)
			continue;	/* --no-comm and nothing left: no stack to draw */
		rc = add_total(f, b->buf, b->len, c->weight);
	}
	/* The chains name DSOs of this session: they must not outlive it. */
	for (size_t i = 0; i < f->cap; i++) {
		struct pd_dso *d;

		if (!f->tab[i].key)
			continue;
		for (size_t k = 0; k < (f->tab[i].key[0] - 3) / 2; k++) {
			d = (struct pd_dso *)(uintptr_t)(f->tab[i].key[3 + 2 * k] & ~(uint64_t)TAG_MASK);
			if (d)
				*pd_dso_user(d) = NULL;
		}
	}
	if (f->tab)
		memset(f->tab, 0, f->cap * sizeof(*f->tab));
	f->used = 0;
	f->pending = 0;
	pd_arena_release(&f->keys);
	pd_buf_release(&tmp);
	pd_buf_release(&comm);
	return rc;
}

static int
total_cmp(const void *a, const void *b)
{
	return strcmp((*(struct total *const *)a)->stack, (*(struct total *const *)b)->stack);
}

int
pd_fold_write(struct pd_fold *f, FILE *out)
{
	size_t n = HASH_COUNT(f->totals), i = 0;
	struct total **v, *t, *tmp;

	if (!n)
		return PD_OK;
	v = malloc(n * sizeof(*v));
	if (!v)
		return PD_E_NOMEM;
	HASH_ITER(hh, f->totals, t, tmp)
		v[i++] = t;
	qsort(v, n, sizeof(*v), total_cmp);
	for (i = 0; i < n; i++)
		fprintf(out, "%s %llu\n", v[i]->stack, (unsigned long long)v[i]->weight);
	free(v);
	return ferror(out) ? PD_E_IO : PD_OK;
}
