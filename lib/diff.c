/*
 * diff.c - two profiles compared (pddiff): stacks merged per side from one
 * or more runs, names normalized so that two builds line up, the per-symbol
 * shares from pdtop's aggregation, a significance test on the sample
 * counts, the differential folded stream and the CI gate.
 *
 * Why a proportion test: a sampled profile is N independent draws (one per
 * sample) of "which symbol was running"; a symbol's sample count is then
 * binomial, and comparing its share in two profiles is the textbook
 * two-proportion z-test with pooled variance.  Weights (periods) are not
 * counts of draws, so the test always uses sample counts, whatever
 * --weight the shares are shown in.  The test is two-sided and Holm's
 * step-down correction runs over every symbol tested, so the family-wise
 * error stays at most 1 - confidence however many symbols a profile holds.
 *
 * The numerics (square root, exp, the normal tail) are done here because
 * the library links no libm.
 */
#include <errno.h>
#include <locale.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>

#include "pd-internal.h"

#define NO_P (-1.0)		/* no sample counts: no test */

struct skey {
	char *s;
	size_t len;
	uint64_t h;
};

/* A string-keyed open-addressing index over an array of items starting with a struct skey. */
struct sindex {
	uint32_t *slot;			/* item + 1, 0 empty */
	size_t cap, used;
};

struct dstack {
	struct skey k;
	uint64_t smp[2], wt[2];
};

struct dsym {
	struct skey k;
	char level;			/* perf's [.] / [k] */
	uint64_t ss[2], sw[2];		/* self samples, weights */
	uint64_t is[2], iw[2];		/* inclusive samples, weights */
};

struct drule {
	regex_t re;
	char *repl;
};

enum { FAIL_SELF, FAIL_INCL, FAIL_TOTAL };

struct dfail {
	int what;
	char *name;			/* normalized symbol */
	double value;			/* points, or percent with relative */
	int relative;
	char *text;
};

struct drow {
	const struct dsym *y;
	int incl;
	double pb, pn;			/* shares, percent */
	double delta;			/* points */
	double z, p, padj;		/* p, padj: NO_P without sample counts */
	int sig, fail;
	const char *rule;		/* the --fail-on rule that fired, or NULL */
};

struct pd_diff {
	struct pd_diff_opts o;
	char err[512];
	struct drule *rules;
	size_t nr_rules, alloc_rules;
	struct dfail *fails;
	size_t nr_fails, alloc_fails;
	struct pd_arena arena;
	struct dstack *stacks;
	size_t nr_stacks, alloc_stacks;
	struct sindex stack_ix;
	struct dsym *syms;
	size_t nr_syms, alloc_syms;
	struct sindex sym_ix;
	uint64_t S[2], W[2];		/* totals: samples, weights */
	unsigned runs[2];
	int samples_unknown[2];		/* some run gave weights only */
	int weight_period[2];		/* some run's counts are periods */
	char event[256];		/* the runs' event, "" when unknown or mixed */
	int nr_events;			/* pd_diff_set_event calls */
	struct pd_buf nbuf, fbuf;	/* scratch: a normalized name, a frame */
	struct drow *rows;
	size_t nr_rows;
	int computed;
	uint64_t tested[2];		/* symbols tested: self, inclusive */
};

static int set_error(struct pd_diff *d, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
set_error(struct pd_diff *d, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	return code;
}

const char *
pd_diff_errmsg(const struct pd_diff *d)
{
	return d->err;
}

/* ---------------------------------------------------------------- */
/* Numerics without libm. */

static double
d_sqrt(double x)
{
	double r = x > 1 ? x : 1;

	if (!(x > 0))
		return 0;
	for (int i = 0; i < 200; i++) {
		double n = 0.5 * (r + x / r);

		if (n == r)
			break;
		r = n;
	}
	return r;
}

/* e^x for x <= 0 (what the normal tail needs); 0 below -700. */
static double
d_exp_neg(double x)
{
	static const double ln2 = 0.69314718055994530942;
	double r, term = 1, sum = 1;
	int k;

	if (x < -700)
		return 0;
	k = (int)(x / ln2 - 0.5);	/* x / ln2 rounded towards -inf, roughly */
	r = x - k * ln2;		/* |r| < ln2 */
	for (int i = 1; i < 30; i++) {
		term *= r / i;
		sum += term;
	}
	for (; k < 0; k++)
		sum *= 0.5;
	for (; k > 0; k--)
		sum *= 2;
	return sum;
}

/*
 * The upper tail of the standard normal, P(Z > z) for z >= 0, from the
 * Chebyshev fit of erfc in Numerical Recipes (erfcc, fractional error below
 * 1.2e-7 everywhere).
 */
static double
normal_tail(double z)
{
	double x = z / 1.41421356237309504880, t, e;

	if (z < 0)
		return 1 - normal_tail(-z);
	t = 1 / (1 + 0.5 * x);
	e = t * d_exp_neg(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 +
	    t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 +
	    t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
	return 0.5 * e;
}

/*
 * Two-proportion z statistic with pooled variance: X1 of N1 against X2 of
 * N2; positive when the second share is larger.
 */
static double
z_two_prop(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2)
{
	double p1, p2, p, se;

	if (!n1 || !n2)
		return 0;
	p1 = (double)x1 / (double)n1;
	p2 = (double)x2 / (double)n2;
	p = ((double)x1 + (double)x2) / ((double)n1 + (double)n2);
	se = d_sqrt(p * (1 - p) * (1 / (double)n1 + 1 / (double)n2));
	return se > 0 ? (p2 - p1) / se : 0;
}

double
pd_diff_ztest(uint64_t x1, uint64_t n1, uint64_t x2, uint64_t n2, double *z)
{
	double zz = z_two_prop(x1, n1, x2, n2), p;

	if (z)
		*z = zz;
	p = 2 * normal_tail(zz < 0 ? -zz : zz);
	/* The fit is 1.2e-7 off at 0: no evidence is p 1 exactly. */
	return zz == 0 || p > 1 ? 1 : p;
}

/* ---------------------------------------------------------------- */
/* String index. */

static uint64_t
hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

#define ITEM(base, stride, i) ((struct skey *)((char *)(base) + (size_t)(i) * (stride)))

/* The item of key S (N bytes, hash H), or SIZE_MAX; *SLOT gets where it goes. */
static size_t
sindex_find(const struct sindex *x, const void *base, size_t stride, const char *s, size_t n,
    uint64_t h, size_t *slot)
{
	size_t mask = x->cap - 1;

	for (size_t j = h & mask;; j = (j + 1) & mask) {
		uint32_t v = x->slot[j];
		const struct skey *k;

		if (!v) {
			*slot = j;
			return SIZE_MAX;
		}
		k = ITEM(base, stride, v - 1);
		if (k->h == h && k->len == n && !memcmp(k->s, s, n))
			return v - 1;
	}
}

static int
sindex_grow(struct sindex *x, const void *base, size_t stride, size_t nitems)
{
	size_t cap = x->cap ? x->cap * 2 : 1024;
	uint32_t *slot;

	if (x->cap && (x->used + 1) * 2 <= x->cap)
		return 0;
	if (nitems >= UINT32_MAX - 1)
		return -1;
	slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return -1;
	for (size_t i = 0; i < nitems; i++) {
		const struct skey *k = ITEM(base, stride, i);
		size_t j = k->h & (cap - 1);

		while (slot[j])
			j = (j + 1) & (cap - 1);
		slot[j] = (uint32_t)(i + 1);
	}
	free(x->slot);
	x->slot = slot;
	x->cap = cap;
	return 0;
}

/* ---------------------------------------------------------------- */

void
pd_diff_opts_init(struct pd_diff_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->confidence = 0.99;
	o->threshold = 1.0;
}

struct pd_diff *
pd_diff_new(const struct pd_diff_opts *o)
{
	struct pd_diff *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->o = *o;
	d->nbuf = (struct pd_buf)PD_BUF_INIT;
	d->fbuf = (struct pd_buf)PD_BUF_INIT;
	return d;
}

void
pd_diff_free(struct pd_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nr_rules; i++) {
		regfree(&d->rules[i].re);
		free(d->rules[i].repl);
	}
	free(d->rules);
	for (size_t i = 0; i < d->nr_fails; i++) {
		free(d->fails[i].name);
		free(d->fails[i].text);
	}
	free(d->fails);
	free(d->stacks);
	free(d->stack_ix.slot);
	free(d->syms);
	free(d->sym_ix.slot);
	free(d->rows);
	pd_buf_release(&d->nbuf);
	pd_buf_release(&d->fbuf);
	pd_arena_release(&d->arena);
	free(d);
}

/* ---------------------------------------------------------------- */
/* Name normalization. */

/*
 * "s/REGEX/REPLACEMENT/" with any delimiter that is not a backslash or a
 * letter; the delimiter is escaped with a backslash inside the parts.
 */
static int
add_rule_c(struct pd_diff *d, const char *rule)
{
	struct pd_buf part[2] = { PD_BUF_INIT, PD_BUF_INIT };
	const char *p = rule;
	char delim;
	int rc = PD_OK, err;
	struct drule r;

	if (p[0] != 's' || !p[1] || p[1] == '\\' || p[1] == '\n' ||
	    (p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= '0' && p[1] <= '9'))
		return set_error(d, PD_E_USAGE, "'%s': a rule is s/REGEX/REPLACEMENT/", rule);
	delim = p[1];
	p += 2;
	for (int k = 0; k < 2; k++) {
		for (; *p && *p != delim; p++) {
			if (*p == '\\' && p[1] == delim) {
				p++;
				rc |= pd_buf_add(&part[k], p, 1);
			} else if (*p == '\\' && p[1]) {
				rc |= pd_buf_add(&part[k], p, 2);
				p++;
			} else {
				rc |= pd_buf_add(&part[k], p, 1);
			}
		}
		if (*p != delim) {
			rc = set_error(d, PD_E_USAGE, "'%s': unterminated rule (s/REGEX/REPLACEMENT/)", rule);
			goto out;
		}
		p++;
	}
	if (*p) {
		rc = set_error(d, PD_E_USAGE, "'%s': nothing may follow the last '%c'", rule, delim);
		goto out;
	}
	if (rc < 0) {
		rc = set_error(d, PD_E_NOMEM, "out of memory");
		goto out;
	}
	if (!part[0].len) {
		rc = set_error(d, PD_E_USAGE, "'%s': an empty regex", rule);
		goto out;
	}
	if ((err = regcomp(&r.re, part[0].buf, REG_EXTENDED)) != 0) {
		char msg[200];

		regerror(err, &r.re, msg, sizeof(msg));
		rc = set_error(d, PD_E_USAGE, "'%s': bad regex: %s", rule, msg);
		goto out;
	}
	for (const char *q = part[1].buf; *q; q++)
		if (*q == '\\' && q[1] >= '1' && q[1] <= '9' && (size_t)(q[1] - '0') > r.re.re_nsub) {
			regfree(&r.re);
			rc = set_error(d, PD_E_USAGE, "'%s': \\%c names no group of the regex", rule, q[1]);
			goto out;
		}
	r.repl = strdup(part[1].buf);
	if (!r.repl || PD_GROW(d->rules, d->nr_rules + 1, d->alloc_rules) < 0) {
		regfree(&r.re);
		free(r.repl);
		rc = set_error(d, PD_E_NOMEM, "out of memory");
		goto out;
	}
	d->rules[d->nr_rules++] = r;
out:
	pd_buf_release(&part[0]);
	pd_buf_release(&part[1]);
	return rc;
}

int
pd_diff_add_rule(struct pd_diff *d, const char *rule)
{
	struct pd_cloc l;
	int rc;

	/* The rule's regex compiled in the C locale: bytes, whatever the caller's. */
	pd_cloc_enter(&l);
	rc = add_rule_c(d, rule);
	pd_cloc_leave(&l);
	return rc;
}

int
pd_diff_read_rules(struct pd_diff *d, FILE *in, const char *name)
{
	char *line = NULL;
	size_t alloc = 0;
	ssize_t n;
	unsigned long lineno = 0;
	int rc = PD_OK;

	while ((n = getline(&line, &alloc, in)) > 0) {
		size_t len = (size_t)n, lead;

		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		line[len] = '\0';
		lead = strspn(line, " \t");
		if (lead == len || line[lead] == '#')
			continue;
		if ((rc = pd_diff_add_rule(d, line + lead)) < 0) {
			char msg[sizeof(d->err)];

			memcpy(msg, d->err, sizeof(msg));
			set_error(d, rc, "'%s': line %lu: %s", name, lineno, msg);
			break;
		}
	}
	free(line);
	if (rc == PD_OK && ferror(in))
		rc = set_error(d, PD_E_IO, "'%s': read error", name);
	return rc;
}

/* Append REPL to OUT, with \0-\9 and & replaced by the groups of M in SUBJ. */
static int
add_replacement(struct pd_buf *out, const char *repl, const char *subj, const regmatch_t *m)
{
	int rc = 0;

	for (const char *q = repl; *q; q++) {
		int g = -1;

		if (*q == '\\' && q[1] >= '0' && q[1] <= '9')
			g = *++q - '0';
		else if (*q == '&')
			g = 0;
		else if (*q == '\\' && q[1])
			q++;
		if (g < 0)
			rc |= pd_buf_add(out, q, 1);
		else if (m[g].rm_so >= 0)
			rc |= pd_buf_add(out, subj + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
	}
	return rc;
}

/* Apply rule R to every match in B (in place, through TMP). */
static int
apply_rule(const struct drule *r, struct pd_buf *b, struct pd_buf *tmp)
{
	regmatch_t m[10];
	size_t pos = 0;
	int rc = 0, flags = 0;

	pd_buf_reset(tmp);
	while (pos <= b->len && regexec(&r->re, b->buf + pos, 10, m, flags) == 0) {
		const char *subj = b->buf + pos;

		rc |= pd_buf_add(tmp, subj, (size_t)m[0].rm_so);
		rc |= add_replacement(tmp, r->repl, subj, m);
		if (m[0].rm_eo == m[0].rm_so) {
			/* An empty match: copy one character and go on past it. */
			if (pos + (size_t)m[0].rm_eo >= b->len) {
				pos = b->len + 1;
				break;
			}
			rc |= pd_buf_add(tmp, subj + m[0].rm_eo, 1);
			pos += (size_t)m[0].rm_eo + 1;
		} else {
			pos += (size_t)m[0].rm_eo;
		}
		flags = REG_NOTBOL;
	}
	if (pos < b->len)
		rc |= pd_buf_add(tmp, b->buf + pos, b->len - pos);
	pd_buf_reset(b);
	rc |= pd_buf_add(b, tmp->buf, tmp->len);
	return rc;
}

/* 0x1234abcd becomes 0x..., as difffolded.pl -s does. */
static int
strip_hex(struct pd_buf *b, struct pd_buf *tmp)
{
	static const char hex[] = "0123456789abcdefABCDEF";
	int rc = 0;

	pd_buf_reset(tmp);
	for (size_t i = 0; i < b->len;) {
		if (b->buf[i] == '0' && i + 2 < b->len && b->buf[i + 1] == 'x' &&
		    memchr(hex, b->buf[i + 2], sizeof(hex) - 1)) {
			i += 2;
			while (i < b->len && memchr(hex, b->buf[i], sizeof(hex) - 1))
				i++;
			rc |= pd_buf_add(tmp, "0x...", 5);
		} else {
			rc |= pd_buf_add(tmp, b->buf + i, 1);
			i++;
		}
	}
	pd_buf_reset(b);
	rc |= pd_buf_add(b, tmp->buf, tmp->len);
	return rc;
}

/* The length of an annotation ("_[k]", "_[j]", "_[i]", "_[w]") ending NAME, or 0. */
static size_t
annotation_len(const char *s, size_t n)
{
	if (n > 4 && s[n - 4] == '_' && s[n - 3] == '[' && s[n - 1] == ']' &&
	    strchr("kjiw", s[n - 2]))
		return 4;
	return 0;
}

/*
 * Append frame NAME (N bytes) to OUT, normalized: the rules apply to the
 * name without its annotation, which is put back after.  A ';' a rule
 * makes becomes ':' (stackcollapse's convention), so the frame stays one.
 */
static int
normalize_frame(struct pd_diff *d, struct pd_buf *out, const char *name, size_t n)
{
	size_t an = annotation_len(name, n);
	int rc = 0;

	if (!d->o.strip_hex && !d->nr_rules)
		return pd_buf_add(out, name, n);
	pd_buf_reset(&d->fbuf);
	rc |= pd_buf_add(&d->fbuf, name, n - an);
	if (d->o.strip_hex)
		rc |= strip_hex(&d->fbuf, &d->nbuf);
	for (size_t i = 0; i < d->nr_rules; i++)
		rc |= apply_rule(&d->rules[i], &d->fbuf, &d->nbuf);
	for (size_t i = 0; i < d->fbuf.len; i++)
		if (d->fbuf.buf[i] == ';' || d->fbuf.buf[i] == '\n')
			d->fbuf.buf[i] = d->fbuf.buf[i] == ';' ? ':' : ' ';
	rc |= pd_buf_add(out, d->fbuf.buf, d->fbuf.len);
	rc |= pd_buf_add(out, name + n - an, an);
	return rc;
}

/* Append the normalized form of STACK (LEN bytes, frames split by ';') to OUT. */
static int
pd_diff_normalize(struct pd_diff *d, const char *stack, size_t len, struct pd_buf *out)
{
	const char *p = stack, *end = stack + len;
	int rc = 0;

	for (;;) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		size_t n = semi ? (size_t)(semi - p) : (size_t)(end - p);

		rc |= normalize_frame(d, out, p, n);
		if (!semi)
			break;
		rc |= pd_buf_add(out, ";", 1);
		p = semi + 1;
	}
	return rc < 0 ? PD_E_NOMEM : PD_OK;
}

/* ---------------------------------------------------------------- */
/* Stacks. */

static int
add_norm_stack(struct pd_diff *d, int side, const char *s, size_t n, uint64_t smp, uint64_t wt)
{
	uint64_t h = hash_bytes(s, n);
	size_t slot, i;

	if (sindex_grow(&d->stack_ix, d->stacks, sizeof(*d->stacks), d->nr_stacks) < 0)
		return set_error(d, PD_E_NOMEM, "out of memory");
	i = sindex_find(&d->stack_ix, d->stacks, sizeof(*d->stacks), s, n, h, &slot);
	if (i == SIZE_MAX) {
		struct dstack *st;

		if (PD_GROW(d->stacks, d->nr_stacks + 1, d->alloc_stacks) < 0)
			return set_error(d, PD_E_NOMEM, "out of memory");
		st = &d->stacks[d->nr_stacks];
		memset(st, 0, sizeof(*st));
		if (!(st->k.s = pd_arena_strndup(&d->arena, s, n)))
			return set_error(d, PD_E_NOMEM, "out of memory");
		st->k.len = n;
		st->k.h = h;
		i = d->nr_stacks++;
		d->stack_ix.slot[slot] = (uint32_t)(i + 1);
		d->stack_ix.used++;
	}
	{
		uint64_t S = d->S[side], W = d->W[side];

		/* A stack's counts are parts of its side's totals: checked there. */
		if (pd_add_weight(&S, smp) < 0 || pd_add_weight(&W, wt) < 0)
			return set_error(d, PD_E_LIMIT, "%s", PD_WEIGHT_OVERFLOW);
		d->S[side] = S;
		d->W[side] = W;
		d->stacks[i].smp[side] += smp;
		d->stacks[i].wt[side] += wt;
	}
	d->computed = 0;
	return PD_OK;
}

int
pd_diff_add_stack(struct pd_diff *d, int side, const char *stack, size_t len, uint64_t samples,
    uint64_t weight)
{
	struct pd_buf b = PD_BUF_INIT;
	int rc;

	if (side != PD_DIFF_BASE && side != PD_DIFF_NEW)
		return set_error(d, PD_E_USAGE, "no side %d", side);
	if (pd_diff_normalize(d, stack, len, &b) < 0)
		rc = set_error(d, PD_E_NOMEM, "out of memory");
	else
		rc = add_norm_stack(d, side, b.buf, b.len, samples, weight);
	pd_buf_release(&b);
	return rc;
}

/*
 * One folded line into STACK (its length in *SLEN) and COUNT: "stack N", or
 * "stack N1 N2" whose N2 counts (a differential line weighs what it weighs
 * now).  -1 when it does not parse.
 */
static int
parse_folded_line(const char *line, size_t len, size_t *slen, uint64_t *count)
{
	size_t end = len, sp;
	uint64_t c = 0;

	while (end && (line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;
	for (sp = end; sp && line[sp - 1] != ' '; sp--)
		;
	if (!sp || sp == end)
		return -1;
	/* The one count parser of every tool: 0 to 2^64-1. */
	if (pd_parse_count(line + sp, end - sp, &c) < 0)
		return -1;
	end = sp - 1;
	/* A second count before it: skip it. */
	for (sp = end; sp && line[sp - 1] >= '0' && line[sp - 1] <= '9'; sp--)
		;
	if (sp < end && sp && line[sp - 1] == ' ')
		end = sp - 1;
	while (end && line[end - 1] == ' ')
		end--;
	if (!end)
		return -1;
	*slen = end;
	*count = c;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Symbols, from pdtop's tables. */

static struct dsym *
sym_get(struct pd_diff *d, const char *s, size_t n)
{
	uint64_t h = hash_bytes(s, n);
	size_t slot, i;
	struct dsym *y;

	if (sindex_grow(&d->sym_ix, d->syms, sizeof(*d->syms), d->nr_syms) < 0)
		return NULL;
	i = sindex_find(&d->sym_ix, d->syms, sizeof(*d->syms), s, n, h, &slot);
	if (i != SIZE_MAX)
		return &d->syms[i];
	if (PD_GROW(d->syms, d->nr_syms + 1, d->alloc_syms) < 0)
		return NULL;
	y = &d->syms[d->nr_syms];
	memset(y, 0, sizeof(*y));
	if (!(y->k.s = pd_arena_strndup(&d->arena, s, n)))
		return NULL;
	y->k.len = n;
	y->k.h = h;
	y->level = '.';
	d->sym_ix.slot[slot] = (uint32_t)(d->nr_syms + 1);
	d->sym_ix.used++;
	d->nr_syms++;
	return y;
}

/* Undo pdtop's TSV escapes in place. */
static void
tsv_unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*w++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static int
parse_u64(const char *s, uint64_t *v)
{
	return pd_parse_count(s, strlen(s), v) < 0 ? -1 : 0;
}

/*
 * Read T's table (pdtop's TSV layout, sorted by symbol, children on) into
 * SIDE.  With WEIGHTS_ONLY the sample columns are not sample counts.
 */
static int
absorb_top(struct pd_diff *d, int side, struct pd_top *t, const char *name, int weights_only)
{
	struct pd_top_print pr = { PD_TOP_TSV, 0, 0 };
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int col[7], rc, header = 0;
	static const char *const want[7] = { "samples", "period", "symbol", "self_samples",
		"self_period", NULL, NULL };

	if (!out)
		return set_error(d, PD_E_NOMEM, "out of memory");
	rc = pd_top_write(t, out, &pr);
	if (fclose(out) != 0 && rc == PD_OK)
		rc = PD_E_NOMEM;
	if (rc < 0) {
		free(buf);
		return set_error(d, rc, "'%s': %s", name, pd_top_errmsg(t)[0] ? pd_top_errmsg(t) :
		    pd_strerror(rc));
	}
	for (int k = 0; k < 7; k++)
		col[k] = -1;
	rc = PD_OK;
	for (line = strtok_r(buf, "\n", &save); line && rc == PD_OK; line = strtok_r(NULL, "\n", &save)) {
		char *cell[16];
		int nc = 0;
		uint64_t v[5] = { 0 };
		struct dsym *y;
		const char *nm;
		char level = '.';
		struct pd_buf nb = PD_BUF_INIT;

		if (line[0] == '#')
			continue;
		for (char *p = line;; ) {
			char *tab = strchr(p, '\t');

			if (nc < 16)
				cell[nc++] = p;
			if (!tab)
				break;
			*tab = '\0';
			p = tab + 1;
		}
		if (!header) {
			header = 1;
			for (int k = 0; k < 5; k++)
				for (int c = 0; c < nc; c++)
					if (!strcmp(cell[c], want[k]))
						col[k] = c;
			for (int k = 0; k < 5; k++)
				if (col[k] < 0)
					rc = set_error(d, PD_E_FORMAT, "'%s': pdtop's table has no %s column",
					    name, want[k]);
			continue;
		}
		/*
		 * Folded counts are samples or periods, and pdtop leaves the other
		 * cell empty: both are the counts here (weights_only says which).
		 */
		for (int k = 0; k < 5; k++) {
			int twin = k == 0 ? 1 : k == 1 ? 0 : k == 3 ? 4 : 3;

			if (col[k] >= nc || col[twin] >= nc || (k != 2 && parse_u64(cell[col[k]][0] ?
			    cell[col[k]] : cell[col[twin]], &v[k]) < 0)) {
				rc = set_error(d, PD_E_FORMAT, "'%s': a row of pdtop's table does not parse", name);
				break;
			}
		}
		if (rc < 0)
			break;
		nm = cell[col[2]];
		tsv_unescape(cell[col[2]]);
		if (nm[0] == '[' && nm[1] && nm[2] == ']' && nm[3] == ' ') {
			level = nm[1];
			nm += 4;
		}
		if (pd_diff_normalize(d, nm, strlen(nm), &nb) < 0 || !(y = sym_get(d, nb.buf, nb.len))) {
			pd_buf_release(&nb);
			rc = set_error(d, PD_E_NOMEM, "out of memory");
			break;
		}
		pd_buf_release(&nb);
		if (!y->ss[0] && !y->ss[1] && !y->is[0] && !y->is[1] && !y->sw[0] && !y->sw[1] &&
		    !y->iw[0] && !y->iw[1])
			y->level = level;
		/*
		 * Rows of two symbols that normalize to one name are added up:
		 * exact for self; inclusive counts a stack holding both twice.
		 */
		if (pd_add_weight(&y->is[side], weights_only ? 0 : v[0]) < 0 ||
		    pd_add_weight(&y->iw[side], v[1]) < 0 ||
		    pd_add_weight(&y->ss[side], weights_only ? 0 : v[3]) < 0 ||
		    pd_add_weight(&y->sw[side], v[4]) < 0) {
			/* Only an inclusive sum of merged names can (a stack counted twice). */
			rc = set_error(d, PD_E_LIMIT, "'%s': the weights of '%.200s' (names merged by the rules) "
			    "add up past 2^64-1", name, y->k.s);
			break;
		}
	}
	free(buf);
	d->computed = 0;
	return rc;
}

int
pd_diff_add_top(struct pd_diff *d, int side, struct pd_top *t, const char *name)
{
	return absorb_top(d, side, t, name, 0);
}

/* The text of fold F, or NULL. */
static char *
fold_text(struct pd_fold *f, size_t *len)
{
	char *buf = NULL;
	FILE *out = open_memstream(&buf, len);

	if (!out)
		return NULL;
	if (pd_fold_write(f, out) < 0) {
		fclose(out);
		free(buf);
		return NULL;
	}
	if (fclose(out) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Add the lines of TEXT to SIDE as samples (WHICH 0) or weights (1). */
static int
add_fold_lines(struct pd_diff *d, int side, const char *text, size_t len, int which, const char *name)
{
	const char *p = text, *end = text + len;
	unsigned long lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p), slen;
		uint64_t c;
		int rc;

		lineno++;
		if (n && p[0] != '#') {
			/*
			 * pd_fold_write's own lines: they parse, and their sum
			 * was checked sample by sample (pd_fold_add), so
			 * neither error names a line of the user's input.
			 */
			if (parse_folded_line(p, n, &slen, &c) < 0)
				return set_error(d, PD_E_FORMAT, "'%s': stack %lu of the fold does not parse",
				    name, lineno);
			rc = pd_diff_add_stack(d, side, p, slen, which ? 0 : c, which ? c : 0);
			if (rc == PD_E_LIMIT)
				return set_error(d, rc, "'%s': %s", name, PD_WEIGHT_OVERFLOW);
			if (rc < 0)
				return rc;
		}
		p += n + 1;
	}
	return PD_OK;
}

int
pd_diff_add_fold(struct pd_diff *d, int side, struct pd_fold *samples, struct pd_fold *weights,
    const char *name)
{
	struct pd_fold *f[2] = { samples, weights };
	int rc = PD_OK;

	if (side != PD_DIFF_BASE && side != PD_DIFF_NEW)
		return set_error(d, PD_E_USAGE, "no side %d", side);
	for (int k = 0; k < 2 && rc == PD_OK; k++) {
		size_t len = 0;
		char *text = fold_text(f[k], &len);

		if (!text)
			return set_error(d, PD_E_NOMEM, "out of memory");
		rc = add_fold_lines(d, side, text, len, k, name);
		free(text);
	}
	d->runs[side]++;
	return rc;
}

int
pd_diff_read_folded(struct pd_diff *d, int side, FILE *in, const char *name)
{
	char *line = NULL;
	size_t alloc = 0;
	ssize_t got;
	unsigned long lineno = 0;
	uint64_t off = 0, next = 0;
	int rc = PD_OK, periods = 0;
	struct pd_buf run = PD_BUF_INIT, nb = PD_BUF_INIT;
	struct pd_top_opts to = { .children = 1 };
	struct pd_top *t = NULL;
	FILE *tin;

	if (side != PD_DIFF_BASE && side != PD_DIFF_NEW)
		return set_error(d, PD_E_USAGE, "no side %d", side);
	while ((got = getline(&line, &alloc, in)) > 0) {
		size_t n = (size_t)got, slen;
		uint64_t c;

		off = next;
		next += (uint64_t)got;
		lineno++;
		if (line[n - 1] == '\n')
			n--;
		if (n && line[n - 1] == '\r')
			n--;
		line[n] = '\0';
		if (lineno == 1 && line[0] == '#') {
			struct pd_folded_meta m;

			/* Without a metadata line the counts are sample counts. */
			if (pd_folded_meta_parse(line, n, &m)) {
				periods = m.weight == PD_WEIGHT_PERIOD;
				if (m.event[0])
					pd_diff_set_event(d, m.event);
			}
		}
		if (strspn(line, " \t") == n || line[0] == '#')
			continue;
		if (memchr(line, '\0', n)) {
			rc = set_error(d, PD_E_FORMAT, "'%s': line %lu: a NUL byte in text at offset 0x%llx",
			    name, lineno, (unsigned long long)off);
			break;
		}
		if (parse_folded_line(line, n, &slen, &c) < 0) {
			rc = set_error(d, PD_E_FORMAT, "'%s': line %lu: not \"stack COUNT\" at offset 0x%llx",
			    name, lineno, (unsigned long long)off);
			break;
		}
		pd_buf_reset(&nb);
		if (pd_diff_normalize(d, line, slen, &nb) < 0 ||
		    pd_buf_addf(&run, "%s %llu %llu\n", nb.buf, (unsigned long long)c,
		    (unsigned long long)c) < 0) {
			rc = set_error(d, PD_E_NOMEM, "out of memory");
			break;
		}
		if ((rc = add_norm_stack(d, side, nb.buf, nb.len, periods ? 0 : c, c)) < 0) {
			if (rc == PD_E_LIMIT)
				set_error(d, rc, "'%s': line %lu: %s at offset 0x%llx", name, lineno,
				    PD_WEIGHT_OVERFLOW, (unsigned long long)off);
			break;
		}
	}
	free(line);
	pd_buf_release(&nb);
	if (rc == PD_OK && ferror(in))
		rc = set_error(d, PD_E_IO, "'%s': read error", name);
	if (rc < 0)
		goto out;
	d->runs[side]++;
	if (periods)
		d->samples_unknown[side] = d->weight_period[side] = 1;
	if (!run.len)
		goto out;
	/*
	 * The symbols: pdtop's own reading of the normalized stacks.  Each
	 * line carries its count twice ("stack C C"), so that pdtop, which
	 * reads a differential line by taking off two counts, takes off
	 * exactly these two: a stack whose last name ends in a blank and
	 * digits (a differential line "   5 5 6" is the stack "   5") keeps
	 * them, as it did here.
	 */
	if (!(t = pd_top_new(&to)) || pd_top_set_sort(t, "symbol") < 0) {
		rc = set_error(d, PD_E_NOMEM, "out of memory");
		goto out;
	}
	if (!(tin = fmemopen(run.buf, run.len, "r"))) {
		rc = set_error(d, PD_E_NOMEM, "out of memory");
		goto out;
	}
	rc = pd_top_read_folded(t, tin, name);
	fclose(tin);
	if (rc < 0)
		rc = set_error(d, rc, "%s", pd_top_errmsg(t));
	else
		rc = absorb_top(d, side, t, name, periods);
out:
	pd_top_free(t);
	pd_buf_release(&run);
	return rc;
}

void
pd_diff_set_event(struct pd_diff *d, const char *name)
{
	if (!d->nr_events++)
		snprintf(d->event, sizeof(d->event), "%s", name);
	else if (strncmp(d->event, name, sizeof(d->event) - 1))
		d->event[0] = '\0';
}

void
pd_diff_note_periods(struct pd_diff *d, int side)
{
	if (side == PD_DIFF_BASE || side == PD_DIFF_NEW)
		d->weight_period[side] = 1;
}

/* ---------------------------------------------------------------- */
/* --fail-on rules. */

static int
parse_number(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || *end || !(*v >= 0) || *v > 1e9)
		return -1;
	return 0;
}

/*
 * "sym:NAME>+N", "incl:NAME>+N" (points, or N% of the base share), and
 * "total>+N%" (the total weight, relative) or "total>+N" (points: the same
 * number read as percent).
 */
static int
add_fail_c(struct pd_diff *d, const char *rule)
{
	struct dfail f = { 0 };
	const char *gt = strrchr(rule, '>'), *val;
	char num[64];
	size_t n;
	struct pd_buf nb = PD_BUF_INIT;

	if (!gt)
		return set_error(d, PD_E_USAGE, "'%s': a rule is sym:NAME>+N, incl:NAME>+N or total>+N%%",
		    rule);
	if (!strncmp(rule, "sym:", 4)) {
		f.what = FAIL_SELF;
		val = rule + 4;
	} else if (!strncmp(rule, "incl:", 5)) {
		f.what = FAIL_INCL;
		val = rule + 5;
	} else if ((size_t)(gt - rule) == 5 && !strncmp(rule, "total", 5)) {
		f.what = FAIL_TOTAL;
		val = NULL;
	} else {
		return set_error(d, PD_E_USAGE, "'%s': a rule starts with sym:, incl: or total", rule);
	}
	if (val && val == gt)
		return set_error(d, PD_E_USAGE, "'%s': no symbol name", rule);
	n = strlen(gt + 1);
	if (!n || n >= sizeof(num))
		return set_error(d, PD_E_USAGE, "'%s': no number after '>'", rule);
	memcpy(num, gt + 1, n + 1);
	if (num[n - 1] == '%') {
		f.relative = 1;
		num[--n] = '\0';
	}
	if (parse_number(num[0] == '+' ? num + 1 : num, &f.value) < 0)
		return set_error(d, PD_E_USAGE, "'%s': '%s' is not a growth (+N or +N%%)", rule, gt + 1);
	if (f.what == FAIL_TOTAL)
		f.relative = 1;
	if (val) {
		if (pd_diff_normalize(d, val, (size_t)(gt - val), &nb) < 0 || !(f.name = strdup(nb.buf))) {
			pd_buf_release(&nb);
			return set_error(d, PD_E_NOMEM, "out of memory");
		}
		pd_buf_release(&nb);
	}
	if (!(f.text = strdup(rule)) || PD_GROW(d->fails, d->nr_fails + 1, d->alloc_fails) < 0) {
		free(f.name);
		free(f.text);
		return set_error(d, PD_E_NOMEM, "out of memory");
	}
	d->fails[d->nr_fails++] = f;
	d->computed = 0;
	return PD_OK;
}

int
pd_diff_add_fail(struct pd_diff *d, const char *rule)
{
	struct pd_cloc l;
	int rc;

	/* Its number read by strtod in the C locale ("1.5", never "1,5"). */
	pd_cloc_enter(&l);
	rc = add_fail_c(d, rule);
	pd_cloc_leave(&l);
	return rc;
}

/* ---------------------------------------------------------------- */
/* Statistics. */

static double
share(uint64_t x, uint64_t n)
{
	return n ? 100.0 * (double)x / (double)n : 0;
}

static int
stats_ok(const struct pd_diff *d)
{
	return !d->samples_unknown[0] && !d->samples_unknown[1] && d->S[0] && d->S[1];
}

static int
row_of(struct pd_diff *d, const struct dsym *y, int incl, struct drow *r)
{
	const uint64_t *s = incl ? y->is : y->ss, *w = incl ? y->iw : y->sw;
	int ws = d->o.weight_samples;

	memset(r, 0, sizeof(*r));
	r->y = y;
	r->incl = incl;
	if (!s[0] && !s[1] && !w[0] && !w[1])
		return 0;
	r->pb = ws ? share(s[0], d->S[0]) : share(w[0], d->W[0]);
	r->pn = ws ? share(s[1], d->S[1]) : share(w[1], d->W[1]);
	r->delta = r->pn - r->pb;
	r->p = r->padj = NO_P;
	if (stats_ok(d))
		r->p = pd_diff_ztest(s[0], d->S[0], s[1], d->S[1], &r->z);
	return 1;
}

/* Holm order: p ascending, then the name, so ties resolve the same way every run. */
static int
holm_cmp(const void *pa, const void *pb)
{
	const struct drow *a = *(const struct drow *const *)pa, *b = *(const struct drow *const *)pb;
	int c;

	if (a->p != b->p)
		return a->p < b->p ? -1 : 1;
	c = memcmp(a->y->k.s, b->y->k.s, a->y->k.len < b->y->k.len ? a->y->k.len : b->y->k.len);
	if (c)
		return c;
	return a->y->k.len < b->y->k.len ? -1 : a->y->k.len > b->y->k.len;
}

/*
 * Holm's step-down adjustment over the M rows of one kind: the i-th
 * smallest p (from 0) times M - i, made monotone, capped at 1.
 */
static int
holm(struct pd_diff *d, int incl)
{
	struct drow **v = NULL;
	size_t m = 0;
	double run = 0;

	for (size_t i = 0; i < d->nr_rows; i++)
		if (d->rows[i].incl == incl && d->rows[i].p >= 0)
			m++;
	d->tested[incl] = m;
	if (!m)
		return 0;
	v = malloc(m * sizeof(*v));
	if (!v)
		return -1;
	m = 0;
	for (size_t i = 0; i < d->nr_rows; i++)
		if (d->rows[i].incl == incl && d->rows[i].p >= 0)
			v[m++] = &d->rows[i];
	qsort(v, m, sizeof(*v), holm_cmp);
	for (size_t i = 0; i < m; i++) {
		double a = v[i]->p * (double)(m - i);

		if (a > 1)
			a = 1;
		if (a > run)
			run = a;
		v[i]->padj = run;
	}
	free(v);
	return 0;
}

static int
name_cmp(const struct dsym *a, const struct dsym *b)
{
	int c = memcmp(a->k.s, b->k.s, a->k.len < b->k.len ? a->k.len : b->k.len);

	if (c)
		return c;
	return a->k.len < b->k.len ? -1 : a->k.len > b->k.len;
}

/* Output order: self rows first, then by delta descending, then by name. */
static int
row_cmp(const void *pa, const void *pb)
{
	const struct drow *a = pa, *b = pb;

	if (a->incl != b->incl)
		return a->incl - b->incl;
	if (a->delta != b->delta)
		return a->delta > b->delta ? -1 : 1;
	return name_cmp(a->y, b->y);
}

int
pd_diff_compute(struct pd_diff *d)
{
	double alpha = 1 - d->o.confidence;

	if (d->computed)
		return PD_OK;
	free(d->rows);
	d->rows = NULL;
	d->nr_rows = 0;
	if (d->nr_syms && !(d->rows = calloc(2 * d->nr_syms, sizeof(*d->rows))))
		return set_error(d, PD_E_NOMEM, "out of memory");
	for (int incl = 0; incl < 2; incl++)
		for (size_t i = 0; i < d->nr_syms; i++)
			if (row_of(d, &d->syms[i], incl, &d->rows[d->nr_rows]))
				d->nr_rows++;
	if (holm(d, 0) < 0 || holm(d, 1) < 0)
		return set_error(d, PD_E_NOMEM, "out of memory");
	for (size_t i = 0; i < d->nr_rows; i++) {
		struct drow *r = &d->rows[i];

		/* Without sample counts a change cannot be tested: it counts as significant. */
		r->sig = r->padj < 0 || r->padj <= alpha;
		if (!r->incl && r->delta > d->o.threshold && r->sig)
			r->fail = 1;
		for (size_t k = 0; k < d->nr_fails; k++) {
			const struct dfail *f = &d->fails[k];
			double grow, p = r->p;

			if (f->what == FAIL_TOTAL || (f->what == FAIL_INCL) != r->incl ||
			    strlen(f->name) != r->y->k.len || memcmp(f->name, r->y->k.s, r->y->k.len))
				continue;
			/* A named symbol is one hypothesis: its own p, not Holm's. */
			if (p >= 0 && p > alpha)
				continue;
			if (f->relative)
				grow = r->pb > 0 ? 100 * (r->pn - r->pb) / r->pb : r->pn > 0 ? 1e300 : 0;
			else
				grow = r->delta;
			if (grow > f->value && r->delta > 0) {
				r->fail = 1;
				r->rule = f->text;
			}
		}
	}
	if (d->nr_rows)
		qsort(d->rows, d->nr_rows, sizeof(*d->rows), row_cmp);
	d->computed = 1;
	return PD_OK;
}

/* ---------------------------------------------------------------- */
/* Output. */

static const char *
flags_of(const struct drow *r, char *buf, size_t len)
{
	const uint64_t *w = r->incl ? r->y->iw : r->y->sw, *s = r->incl ? r->y->is : r->y->ss;
	int isnew = !w[0] && !s[0], gone = !w[1] && !s[1];

	snprintf(buf, len, "%s%s%s%s", isnew ? "NEW," : "", gone ? "GONE," : "",
	    r->sig && r->padj >= 0 ? "SIG," : "", r->fail ? "FAIL," : "");
	if (buf[0])
		buf[strlen(buf) - 1] = '\0';
	else
		snprintf(buf, len, "-");
	return buf;
}

static void
fmt_ratio(const struct drow *r, char *buf, size_t len)
{
	if (r->pb > 0)
		snprintf(buf, len, "%.2f", r->pn / r->pb);
	else
		snprintf(buf, len, r->pn > 0 ? "inf" : "-");
}

static void
fmt_p(double p, char *buf, size_t len)
{
	if (p < 0)
		snprintf(buf, len, "-");
	else if (p >= 0.001)
		snprintf(buf, len, "%.3f", p);
	else
		snprintf(buf, len, "%.1e", p);
}

static void
write_header(struct pd_diff *d, FILE *out, const char *what)
{
	fprintf(out, "# pd-diff v1 %s weight=%s base_runs=%u new_runs=%u base_samples=%llu "
	    "new_samples=%llu base_weight=%llu new_weight=%llu confidence=%g threshold=%g test=%s\n",
	    what, d->o.weight_samples ? "samples" : "period", d->runs[0], d->runs[1],
	    (unsigned long long)d->S[0], (unsigned long long)d->S[1], (unsigned long long)d->W[0],
	    (unsigned long long)d->W[1], 100 * d->o.confidence, d->o.threshold,
	    stats_ok(d) ? "z2-holm" : "none");
}

static int
write_table(struct pd_diff *d, FILE *out)
{
	int last = -1;

	write_header(d, out, "table");
	for (size_t i = 0; i < d->nr_rows; i++) {
		const struct drow *r = &d->rows[i];
		char ratio[32], p[32], fl[64];

		if (r->incl != last) {
			last = r->incl;
			fprintf(out, "%s# %s\n#  base%%    new%%    delta   ratio       z        p  flags  symbol\n",
			    i ? "\n" : "", r->incl ? "Inclusive (children)" : "Self");
		}
		fmt_ratio(r, ratio, sizeof(ratio));
		fmt_p(r->padj, p, sizeof(p));
		fprintf(out, "%7.2f %7.2f %+8.2f %7s %7.2f %8s  %s  [%c] ", r->pb, r->pn, r->delta, ratio,
		    r->p >= 0 ? r->z : 0.0, p, flags_of(r, fl, sizeof(fl)), r->y->level);
		fwrite(r->y->k.s, 1, r->y->k.len, out);
		fputc('\n', out);
	}
	return PD_OK;
}

/* V as a JSON number: 'f' with 4 decimals, 'e' with 4 digits, 'g'; null for inf. */
static void
json_num(struct pd_json *j, char style, double v)
{
	char buf[64];
	int n;

	if (v != v || v > 1e300 || v < -1e300) {
		pd_json_null(j);
		return;
	}
	if (style == 'f')
		n = snprintf(buf, sizeof(buf), "%.4f", v);
	else if (style == 'e')
		n = snprintf(buf, sizeof(buf), "%.4e", v);
	else
		n = snprintf(buf, sizeof(buf), "%g", v);
	/* "-0.00" is a fine JSON number, and so is every %f or %e output. */
	pd_json_raw(j, buf, (size_t)n);
}

static int
write_json(struct pd_diff *d, FILE *out)
{
	struct pd_json *j = pd_json_new(out);
	uint64_t nfail = 0;
	int rc;

	if (!j)
		return set_error(d, PD_E_NOMEM, "out of memory");
	for (size_t i = 0; i < d->nr_rows; i++)
		nfail += d->rows[i].fail;
	pd_json_begin_object(j);
	pd_json_key(j, "schema");
	pd_json_str(j, "pd-diff-v1");
	pd_json_key(j, "weight");
	pd_json_str(j, d->o.weight_samples ? "samples" : "period");
	pd_json_key(j, "test");
	pd_json_str(j, stats_ok(d) ? "two-proportion z-test, pooled, two-sided, Holm" : "none");
	pd_json_key(j, "confidence");
	json_num(j, 'g', d->o.confidence);
	pd_json_key(j, "threshold");
	json_num(j, 'g', d->o.threshold);
	pd_json_key(j, "tested_self");
	pd_json_u64(j, d->tested[0]);
	pd_json_key(j, "tested_inclusive");
	pd_json_u64(j, d->tested[1]);
	for (int s = 0; s < 2; s++) {
		pd_json_key(j, s ? "new" : "base");
		pd_json_begin_object(j);
		pd_json_key(j, "runs");
		pd_json_u64(j, d->runs[s]);
		pd_json_key(j, "samples");
		if (d->samples_unknown[s])
			pd_json_null(j);
		else
			pd_json_u64(j, d->S[s]);
		pd_json_key(j, "weight");
		pd_json_u64(j, d->W[s]);
		pd_json_end_object(j);
	}
	pd_json_key(j, "regressions");
	pd_json_u64(j, nfail);
	pd_json_key(j, "rows");
	pd_json_begin_array(j);
	for (size_t i = 0; i < d->nr_rows; i++) {
		const struct drow *r = &d->rows[i];
		const uint64_t *s = r->incl ? r->y->is : r->y->ss, *w = r->incl ? r->y->iw : r->y->sw;

		pd_json_begin_object(j);
		pd_json_key(j, "symbol");
		pd_json_strn(j, r->y->k.s, r->y->k.len);
		pd_json_key(j, "level");
		pd_json_strn(j, &r->y->level, 1);
		pd_json_key(j, "kind");
		pd_json_str(j, r->incl ? "inclusive" : "self");
		pd_json_key(j, "base_pct");
		json_num(j, 'f', r->pb);
		pd_json_key(j, "new_pct");
		json_num(j, 'f', r->pn);
		pd_json_key(j, "delta");
		json_num(j, 'f', r->delta);
		pd_json_key(j, "ratio");
		json_num(j, 'f', r->pb > 0 ? r->pn / r->pb : 1e301);
		pd_json_key(j, "base_samples");
		pd_json_u64(j, s[0]);
		pd_json_key(j, "new_samples");
		pd_json_u64(j, s[1]);
		pd_json_key(j, "base_weight");
		pd_json_u64(j, w[0]);
		pd_json_key(j, "new_weight");
		pd_json_u64(j, w[1]);
		pd_json_key(j, "z");
		json_num(j, 'f', r->p >= 0 ? r->z : 1e301);
		pd_json_key(j, "p");
		json_num(j, 'e', r->p >= 0 ? r->p : 1e301);
		pd_json_key(j, "p_holm");
		json_num(j, 'e', r->padj >= 0 ? r->padj : 1e301);
		pd_json_key(j, "new");
		pd_json_bool(j, !w[0] && !s[0]);
		pd_json_key(j, "gone");
		pd_json_bool(j, !w[1] && !s[1]);
		pd_json_key(j, "significant");
		pd_json_bool(j, r->sig && r->padj >= 0);
		pd_json_key(j, "regression");
		pd_json_bool(j, r->fail);
		pd_json_end_object(j);
	}
	pd_json_end_array(j);
	pd_json_end_object(j);
	pd_json_newline(j);
	rc = pd_json_finish(j);
	pd_json_free(j);
	return rc;
}

/* ---- The differential folded stream. ---- */

static int
stack_cmp(const void *pa, const void *pb)
{
	const struct dstack *a = *(const struct dstack *const *)pa, *b = *(const struct dstack *const *)pb;
	int c = memcmp(a->k.s, b->k.s, a->k.len < b->k.len ? a->k.len : b->k.len);

	if (c)
		return c;
	return a->k.len < b->k.len ? -1 : a->k.len > b->k.len;
}

struct scaled {
	size_t i;			/* index into the sorted stacks */
	uint64_t rem;			/* remainder of the scaling */
};

static int
rem_cmp(const void *pa, const void *pb)
{
	const struct scaled *a = pa, *b = pb;

	if (a->rem != b->rem)
		return a->rem > b->rem ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/*
 * Scale COUNT[] (sum FROM) to sum TO exactly: each gets floor(c * TO /
 * FROM) and the units still missing go, one each, to the largest
 * remainders (Hamilton's method; ties to the earlier stack).  No count
 * moves by more than one from its exact value, and the totals match.
 */
static int
scale_counts(uint64_t *count, size_t n, uint64_t from, uint64_t to)
{
	struct scaled *v;
	size_t nv = 0;
	unsigned __int128 sum = 0;
	uint64_t missing;

	if (!from || from == to)
		return 0;
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned __int128 x = (unsigned __int128)count[i] * to;

		count[i] = (uint64_t)(x / from);
		sum += count[i];
		if (x % from)
			v[nv++] = (struct scaled){ i, (uint64_t)(x % from) };
	}
	missing = (uint64_t)(to - sum);
	qsort(v, nv, sizeof(*v), rem_cmp);
	for (size_t k = 0; k < nv && missing; k++, missing--)
		count[v[k].i]++;
	free(v);
	return 0;
}

/*
 * Which sides a prefix of a stack occurs on (bit 0 base, bit 1 new), kept
 * as a trie of frames: a prefix is its parent prefix and its last frame,
 * so that each frame of each stack is hashed and compared once (hashing
 * every prefix whole was quadratic in the depth of a stack).
 */
struct prefix {
	const char *s;			/* the last frame, in the stack's own string */
	size_t len;
	uint64_t h;			/* of the frame and the parent */
	uint32_t parent;		/* prefix + 1; 0: none (the first frame) */
	unsigned sides;
};

struct ptrie {
	struct prefix *v;
	size_t n, alloc;
	uint32_t *slot;			/* prefix + 1, 0 empty; at most half full */
	size_t cap;
};

static uint64_t
prefix_hash(uint32_t parent, const char *s, size_t n)
{
	return hash_bytes(s, n) ^ ((uint64_t)parent * 0x9e3779b97f4a7c15ull);
}

/* The prefix of frame S (N bytes) after prefix PARENT (+ 1, 0 none), or 0; *SLOT gets where it goes. */
static uint32_t
ptrie_find(const struct ptrie *t, uint32_t parent, const char *s, size_t n, uint64_t h, size_t *slot)
{
	size_t mask = t->cap - 1;

	for (size_t j = h & mask;; j = (j + 1) & mask) {
		uint32_t v = t->slot[j];
		const struct prefix *p;

		if (!v) {
			*slot = j;
			return 0;
		}
		p = &t->v[v - 1];
		if (p->h == h && p->parent == parent && p->len == n && !memcmp(p->s, s, n))
			return v;
	}
}

/* Add SIDES to the prefix of frame S (N bytes) after PARENT; its number (+ 1), or 0 when out of memory. */
static uint32_t
add_prefix(struct ptrie *t, uint32_t parent, const char *s, size_t n, unsigned sides)
{
	uint64_t h = prefix_hash(parent, s, n);
	size_t slot;
	uint32_t i;

	if ((t->n + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		uint32_t *sl;

		if (t->n >= UINT32_MAX - 1 || !(sl = calloc(cap, sizeof(*sl))))
			return 0;
		for (size_t k = 0; k < t->n; k++) {
			size_t j = t->v[k].h & (cap - 1);

			while (sl[j])
				j = (j + 1) & (cap - 1);
			sl[j] = (uint32_t)(k + 1);
		}
		free(t->slot);
		t->slot = sl;
		t->cap = cap;
	}
	if ((i = ptrie_find(t, parent, s, n, h, &slot))) {
		t->v[i - 1].sides |= sides;
		return i;
	}
	if (PD_GROW(t->v, t->n + 1, t->alloc) < 0)
		return 0;
	t->v[t->n] = (struct prefix){ s, n, h, parent, sides };
	t->slot[slot] = (uint32_t)++t->n;
	return (uint32_t)t->n;
}

static int
write_folded(struct pd_diff *d, FILE *out, unsigned flags)
{
	struct dstack **v = NULL;
	uint64_t *c[2] = { NULL, NULL };
	struct ptrie pt = { 0 };
	uint32_t *path = NULL;		/* the prefixes of each stack in turn, from pstart[i] */
	size_t n = d->nr_stacks, *pstart = NULL, npath = 0, apath = 0;
	int ws = d->o.weight_samples || (flags & PD_DIFF_FOLD_SAMPLES), rc = PD_OK;
	int a = (flags & PD_DIFF_SWAP) ? 1 : 0;

	if (!(v = malloc((n ? n : 1) * sizeof(*v))) || !(c[0] = malloc((n ? n : 1) * 8)) ||
	    !(c[1] = malloc((n ? n : 1) * 8))) {
		rc = set_error(d, PD_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = &d->stacks[i];
	if (n)
		qsort(v, n, sizeof(*v), stack_cmp);
	for (size_t i = 0; i < n; i++)
		for (int s = 0; s < 2; s++)
			c[s][i] = ws ? v[i]->smp[s] : v[i]->wt[s];
	if (!(flags & PD_DIFF_NO_MARKS)) {
		if (!(pstart = malloc((n + 1) * sizeof(*pstart)))) {
			rc = set_error(d, PD_E_NOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned sides = (c[0][i] ? 1u : 0) | (c[1][i] ? 2u : 0);
			uint32_t cur = 0;

			pstart[i] = npath;
			for (size_t k = 0, from = 0; k <= v[i]->k.len; k++) {
				if (k < v[i]->k.len && v[i]->k.s[k] != ';')
					continue;
				if (!(cur = add_prefix(&pt, cur, v[i]->k.s + from, k - from, sides)) ||
				    PD_GROW(path, npath + 1, apath) < 0) {
					rc = set_error(d, PD_E_NOMEM, "out of memory");
					goto out;
				}
				path[npath++] = cur;
				from = k + 1;
			}
		}
		pstart[n] = npath;
	}
	if ((flags & PD_DIFF_SCALE) && scale_counts(c[0], n, ws ? d->S[0] : d->W[0], ws ? d->S[1] : d->W[1]) < 0) {
		rc = set_error(d, PD_E_NOMEM, "out of memory");
		goto out;
	}
	if (flags & PD_DIFF_HEADER)
		fprintf(out, "# pd-diff v1 weight=%s event=%s base_runs=%u new_runs=%u scaled=%s "
		    "columns=%s tool=pddiff\n", ws ? "samples" : "period", d->event[0] ? d->event : "none",
		    d->runs[0], d->runs[1], (flags & PD_DIFF_SCALE) ? "yes" : "no",
		    a ? "new,base" : "base,new");
	for (size_t i = 0; i < n; i++) {
		const char *s = v[i]->k.s;
		size_t len = v[i]->k.len, from = 0;
		int marked = !!(flags & PD_DIFF_NO_MARKS);
		size_t at = marked ? 0 : pstart[i];

		if (!c[0][i] && !c[1][i])
			continue;
		for (size_t k = 0; k <= len; k++) {
			unsigned sides = 3;
			size_t an;

			if (k < len && s[k] != ';')
				continue;
			if (!marked)
				sides = pt.v[path[at++] - 1].sides;
			if (!marked && sides != 3) {
				/* The outermost frame on one side only: " [NEW]" or " [GONE]" before its annotation. */
				an = annotation_len(s + from, k - from);
				fwrite(s + from, 1, k - from - an, out);
				fputs(sides == 2 ? " [NEW]" : " [GONE]", out);
				fwrite(s + k - an, 1, an, out);
				marked = 1;
			} else {
				fwrite(s + from, 1, k - from, out);
			}
			if (k < len)
				fputc(';', out);
			from = k + 1;
		}
		fprintf(out, " %llu %llu\n", (unsigned long long)c[a][i], (unsigned long long)c[!a][i]);
	}
out:
	free(v);
	free(c[0]);
	free(c[1]);
	free(pt.v);
	free(pt.slot);
	free(path);
	free(pstart);
	return rc;
}

int
pd_diff_write(struct pd_diff *d, FILE *out, enum pd_diff_format fmt, unsigned flags)
{
	struct pd_cloc l;
	int rc;

	if ((rc = pd_diff_compute(d)) < 0)
		return rc;
	pd_cloc_enter(&l);
	switch (fmt) {
	case PD_DIFF_TABLE: rc = write_table(d, out); break;
	case PD_DIFF_JSON: rc = write_json(d, out); break;
	default: rc = write_folded(d, out, flags); break;
	}
	pd_cloc_leave(&l);
	if (rc == PD_OK && ferror(out))
		rc = set_error(d, PD_E_IO, "write error");
	return rc;
}

int
pd_diff_gate(struct pd_diff *d, FILE *report)
{
	struct pd_cloc l;
	int n = 0, rc;

	if ((rc = pd_diff_compute(d)) < 0)
		return rc;
	pd_cloc_enter(&l);
	for (size_t i = 0; i < d->nr_rows; i++) {
		const struct drow *r = &d->rows[i];
		char p[32], ratio[32];

		if (!r->fail)
			continue;
		n++;
		if (!report)
			continue;
		fmt_p(r->padj, p, sizeof(p));
		fmt_ratio(r, ratio, sizeof(ratio));
		fprintf(report, "regression: %s %.*s: %.2f%% -> %.2f%% (%+.2f points, x%s", r->incl ?
		    "inclusive" : "self", (int)r->y->k.len, r->y->k.s, r->pb, r->pn, r->delta, ratio);
		if (r->p >= 0)
			fprintf(report, ", z=%.2f, p=%s", r->z, p);
		else
			fputs(", untested: no sample counts", report);
		fprintf(report, ")%s%s\n", r->rule ? " by --fail-on " : "", r->rule ? r->rule : "");
	}
	for (size_t k = 0; k < d->nr_fails; k++) {
		const struct dfail *f = &d->fails[k];
		uint64_t b = d->o.weight_samples ? d->S[0] : d->W[0];
		uint64_t w = d->o.weight_samples ? d->S[1] : d->W[1];
		double runs_b = d->runs[0] ? d->runs[0] : 1, runs_n = d->runs[1] ? d->runs[1] : 1;
		double mb = (double)b / runs_b, mn = (double)w / runs_n;
		double grow = mb > 0 ? 100 * (mn - mb) / mb : 0;

		if (f->what != FAIL_TOTAL || !(grow > f->value))
			continue;
		n++;
		if (report)
			fprintf(report, "regression: total weight (%s) per run %.0f -> %.0f (%+.2f%%) by --fail-on %s\n",
			    d->o.weight_samples ? "samples" : "period", mb, mn, grow, f->text);
	}
	pd_cloc_leave(&l);
	return n;
}

int
pd_diff_info(const struct pd_diff *d, int side, struct pd_diff_side_info *info)
{
	if (side != PD_DIFF_BASE && side != PD_DIFF_NEW)
		return PD_E_USAGE;
	info->runs = d->runs[side];
	info->samples = d->S[side];
	info->weight = d->W[side];
	info->stacks = 0;
	for (size_t i = 0; i < d->nr_stacks; i++)
		info->stacks += d->stacks[i].smp[side] || d->stacks[i].wt[side];
	info->samples_unknown = d->samples_unknown[side];
	info->periods = d->weight_period[side];
	return PD_OK;
}
