/*
 * flame.c - folded stacks to an interactive SVG flame graph (pdflame).
 *
 * The input is merged into a prefix tree of frames: nodes live in one array
 * (parents before children, so a reverse scan sums subtrees), a node's
 * children are a singly linked list, and an open-addressing table keyed by
 * (parent, name) finds a child without walking the list.  Names are interned
 * once, in an arena.  Sorted input (what pdcollapse writes) mostly repeats
 * the previous line's prefix, so the previous path is tried first, by a
 * byte compare, before any hashing.
 *
 * The output follows flamegraph.pl's geometry and options, but is written
 * from scratch: every piece of input text goes through xml_text(), which
 * emits valid UTF-8 XML character data whatever the bytes, the script is a
 * constant, and per-frame data lives in attributes the script reads.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "pd-internal.h"
#include "pd-uthash.h"

#define NONE		UINT32_MAX
#define XPAD		10		/* left and right padding, px */
#define FONTWIDTH	0.59		/* average glyph width / font size */
#define SEARCH_RGB	"rgb(230,0,230)"

struct fl_name {
	const char *s;
	uint32_t len;
	uint32_t hash;
	uint32_t rgb;
	uint8_t has_rgb;		/* rgb is set (palette file or computed) */
	uint8_t keep;			/* write it to the palette file */
};

struct fl_node {
	uint32_t name, parent, child, next;
	uint64_t w;			/* inclusive count (the second one of a diff) */
};

struct pd_flame {
	const struct pd_flame_opts *o;
	struct pd_arena arena;
	struct fl_name *names;
	size_t nr_names, alloc_names;
	uint32_t *name_tab;		/* name index + 1, 0 empty */
	size_t name_cap;
	struct fl_node *nodes;
	size_t nr_nodes, alloc_nodes;
	uint64_t *old;			/* differential: inclusive first counts */
	size_t alloc_old;
	uint32_t *node_tab;		/* node index + 1, 0 empty */
	size_t node_cap;
	uint32_t *path;			/* the previous line's nodes, root excluded */
	size_t path_len, alloc_path;
	uint32_t *span;			/* frame offsets and lengths of this line */
	size_t alloc_span;
	struct pd_buf carry;		/* a line split between two reads */
	uint64_t lineno;
	uint64_t pos;			/* the byte offset of the next line in its input */
	struct pd_flame_stats st;
	int finished;
};

/* ---------------------------------------------------------------- */
/* Options and palettes. */

static const char *const palettes[] = {
	"hot", "mem", "io", "wakeup", "java", "js", "perl", "red", "green",
	"blue", "aqua", "yellow", "purple", "orange", "kind", NULL
};

void
pd_flame_opts_init(struct pd_flame_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->nametype = "Function:";
	o->countname = "samples";
	o->fonttype = "Verdana";
	o->colors = "hot";
	o->width = 1200;
	o->height = 16;
	o->fontsize = 12;
	o->minwidth = 0.1;
	o->factor = 1;
}

int
pd_flame_palette_ok(const char *name)
{
	for (size_t i = 0; palettes[i]; i++)
		if (!strcmp(name, palettes[i]))
			return 1;
	return 0;
}

static int
is_hex6(const char *s)
{
	if (s[0] != '#' || strlen(s) != 7)
		return 0;
	for (int i = 1; i < 7; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

int
pd_flame_bgcolor_ok(const char *s)
{
	return !strcmp(s, "yellow") || !strcmp(s, "blue") || !strcmp(s, "green") ||
	    !strcmp(s, "grey") || is_hex6(s);
}

/* ---------------------------------------------------------------- */
/* Construction. */

struct pd_flame *
pd_flame_new(const struct pd_flame_opts *o)
{
	struct pd_flame *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->o = o;
	f->carry = (struct pd_buf)PD_BUF_INIT;
	if (PD_GROW(f->nodes, 1, f->alloc_nodes) < 0) {
		free(f);
		return NULL;
	}
	/* Node 0 is the root, "all"; its name is not interned. */
	f->nodes[0] = (struct fl_node){ NONE, NONE, NONE, NONE, 0 };
	f->nr_nodes = 1;
	return f;
}

void
pd_flame_free(struct pd_flame *f)
{
	if (!f)
		return;
	pd_arena_release(&f->arena);
	free(f->names);
	free(f->name_tab);
	free(f->nodes);
	free(f->old);
	free(f->node_tab);
	free(f->path);
	free(f->span);
	pd_buf_release(&f->carry);
	free(f);
}

const struct pd_flame_stats *
pd_flame_stats(const struct pd_flame *f)
{
	return &f->st;
}

/* ---------------------------------------------------------------- */
/* Hash tables: linear probing, capacity a power of two, load <= 1/2. */

static uint32_t
mix32(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (uint32_t)x;
}

static int
name_tab_grow(struct pd_flame *f)
{
	size_t cap = f->name_cap ? f->name_cap * 2 : 1024;
	uint32_t *t = calloc(cap, sizeof(*t));

	if (!t)
		return -1;
	for (size_t i = 0; i < f->nr_names; i++) {
		size_t j = f->names[i].hash & (cap - 1);

		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = (uint32_t)i + 1;
	}
	free(f->name_tab);
	f->name_tab = t;
	f->name_cap = cap;
	return 0;
}

/* The index of name S[0..N), interned on first sight; NONE when out of memory. */
static uint32_t
intern(struct pd_flame *f, const char *s, size_t n)
{
	uint32_t h = pd_hash_bytes(s, n);
	size_t j;

	if (n > UINT32_MAX)
		return NONE;
	if ((f->nr_names + 1) * 2 > f->name_cap && name_tab_grow(f) < 0)
		return NONE;
	for (j = h & (f->name_cap - 1); f->name_tab[j]; j = (j + 1) & (f->name_cap - 1)) {
		const struct fl_name *nm = &f->names[f->name_tab[j] - 1];

		if (nm->hash == h && nm->len == n && !memcmp(nm->s, s, n))
			return f->name_tab[j] - 1;
	}
	if (f->nr_names >= NONE - 1 || PD_GROW(f->names, f->nr_names + 1, f->alloc_names) < 0)
		return NONE;
	{
		struct fl_name *nm = &f->names[f->nr_names];
		char *copy = pd_arena_strndup(&f->arena, s, n);

		if (!copy)
			return NONE;
		*nm = (struct fl_name){ copy, (uint32_t)n, h, 0, 0, 0 };
	}
	f->name_tab[j] = (uint32_t)f->nr_names + 1;
	return (uint32_t)f->nr_names++;
}

static uint32_t
node_hash(uint32_t parent, uint32_t name)
{
	return mix32((uint64_t)parent << 32 | name);
}

static int
node_tab_grow(struct pd_flame *f)
{
	size_t cap = f->node_cap ? f->node_cap * 2 : 4096;
	uint32_t *t = calloc(cap, sizeof(*t));

	if (!t)
		return -1;
	for (size_t i = 1; i < f->nr_nodes; i++) {
		size_t j = node_hash(f->nodes[i].parent, f->nodes[i].name) & (cap - 1);

		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = (uint32_t)i + 1;
	}
	free(f->node_tab);
	f->node_tab = t;
	f->node_cap = cap;
	return 0;
}

/* A new child of PARENT named NAME, first in its list; NONE on failure. */
static uint32_t
new_node(struct pd_flame *f, uint32_t parent, uint32_t name)
{
	uint32_t id;

	if (f->nr_nodes >= NONE - 1 || PD_GROW(f->nodes, f->nr_nodes + 1, f->alloc_nodes) < 0)
		return NONE;
	if (f->st.diff && PD_GROW(f->old, f->nr_nodes + 1, f->alloc_old) < 0)
		return NONE;
	id = (uint32_t)f->nr_nodes++;
	f->nodes[id] = (struct fl_node){ name, parent, NONE, f->nodes[parent].child, 0 };
	f->nodes[parent].child = id;
	if (f->st.diff)
		f->old[id] = 0;
	return id;
}

static uint32_t
find_child(struct pd_flame *f, uint32_t parent, const char *s, size_t n)
{
	uint32_t name = intern(f, s, n), id;
	size_t j;

	if (name == NONE)
		return NONE;
	if ((f->nr_nodes + 1) * 2 > f->node_cap && node_tab_grow(f) < 0)
		return NONE;
	for (j = node_hash(parent, name) & (f->node_cap - 1); f->node_tab[j];
	    j = (j + 1) & (f->node_cap - 1)) {
		const struct fl_node *nd = &f->nodes[f->node_tab[j] - 1];

		if (nd->parent == parent && nd->name == name)
			return f->node_tab[j] - 1;
	}
	id = new_node(f, parent, name);
	if (id != NONE)
		f->node_tab[j] = id + 1;
	return id;
}

static int
name_is(const struct pd_flame *f, uint32_t node, const char *s, size_t n)
{
	const struct fl_name *nm = &f->names[f->nodes[node].name];

	return nm->len == n && !memcmp(nm->s, s, n);
}

/* ---------------------------------------------------------------- */
/* Parsing. */

static void
count_bad(struct pd_flame *f)
{
	f->st.bad++;
	if (f->st.nr_bad_line < PD_FLAME_BAD_KEEP)
		f->st.bad_line[f->st.nr_bad_line++] = f->lineno;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The decimal number that ends S[0..*N), preceded by a blank: its value in
 * *V, and *N cut before the blank.  0 when there is none, -1 when it does
 * not fit in 64 bits or, when STRICT, is a fraction or negative.
 */
static int
tail_count(const char *s, size_t *n, uint64_t *v, int strict)
{
	size_t e = *n, b = e;
	uint64_t x = 0;

	while (b > 0 && s[b - 1] >= '0' && s[b - 1] <= '9')
		b--;
	if (b == e || b == 0)
		return 0;
	if (!is_space(s[b - 1]))
		return strict && (s[b - 1] == '.' || s[b - 1] == '-') ? -1 : 0;
	if (pd_parse_count(s + b, e - b, &x) < 0)
		return -1;
	*v = x;
	*n = b - 1;
	return 1;
}

/* Switch to differential mode: every node so far had equal counts. */
static int
start_diff(struct pd_flame *f)
{
	if (PD_GROW(f->old, f->nr_nodes, f->alloc_old) < 0)
		return -1;
	for (size_t i = 0; i < f->nr_nodes; i++)
		f->old[i] = f->nodes[i].w;
	f->st.total_old = f->st.total;
	f->st.diff = 1;
	return 0;
}

int
pd_flame_add_line(struct pd_flame *f, const char *s, size_t n)
{
	uint64_t c1 = 0, c2 = 0, sum, off;
	size_t i, nf = 0, start;
	int r, two;
	uint32_t cur = 0;
	int follow = 1;

	f->lineno++;
	f->st.lines++;
	off = f->pos;
	f->pos += n + 1;
	/* perf.data given for folded text (the caller can say so). */
	if (f->lineno == 1 && n >= 8 && (!memcmp(s, "PERFILE2", 8) || !memcmp(s, "2ELIFREP", 8)))
		f->st.perf_data++;
	if (n && s[n - 1] == '\r')
		n--;
	for (i = 0; i < n && (is_space(s[i]) || s[i] == '\r' || s[i] == '\v' || s[i] == '\f'); i++)
		;
	if (i == n) {
		f->st.blank++;
		return PD_OK;
	}
	if (s[0] == '#') {
		struct pd_folded_meta m;

		f->st.comments++;
		if (f->lineno == 1 && pd_folded_meta_parse(s, n, &m)) {
			if (!f->st.metas++) {
				f->st.meta = m;
			} else {
				if (m.weight != f->st.meta.weight)
					f->st.meta.weight = m.weight == PD_WEIGHT_PERIOD ||
					    f->st.meta.weight == PD_WEIGHT_PERIOD ? PD_WEIGHT_PERIOD :
					    PD_WEIGHT_UNKNOWN;
				if (strcmp(m.event, f->st.meta.event))
					f->st.meta.event[0] = '\0';
			}
		}
		return PD_OK;
	}
	r = tail_count(s, &n, &c2, 1);
	if (r <= 0) {
		count_bad(f);
		return PD_OK;
	}
	two = tail_count(s, &n, &c1, 0);
	if (two < 0) {
		count_bad(f);
		return PD_OK;
	}
	if (!two)
		c1 = c2;
	/*
	 * Robustness fix: before the first differential line the first counts
	 * are the counts, so their total is st.total; checking st.total_old
	 * (still 0) let the switch to differential mode wrap it around (found
	 * by fuzzing).
	 */
	if (__builtin_add_overflow(f->st.total, c2, &sum) ||
	    __builtin_add_overflow(f->st.diff ? f->st.total_old : f->st.total, c1, &sum)) {
		/*
		 * Every frame's count is part of the total: a total past
		 * 2^64-1 cannot be drawn, and dropping the line would
		 * misdraw the rest.  An error, at this line.
		 */
		f->st.limit_line = f->lineno;
		f->st.limit_offset = off;
		return PD_E_LIMIT;
	}
	if (n > UINT32_MAX) {
		count_bad(f);
		return PD_OK;
	}
	if (two && !f->st.diff && start_diff(f) < 0)
		return PD_E_NOMEM;

	/* Split into frames; trailing empty frames are dropped, as Perl's split does. */
	start = 0;
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != ';')
			continue;
		if (PD_GROW(f->span, 2 * nf + 2, f->alloc_span) < 0)
			return PD_E_NOMEM;
		f->span[2 * nf] = (uint32_t)start;
		f->span[2 * nf + 1] = (uint32_t)(i - start);
		nf++;
		start = i + 1;
	}
	while (nf > 0 && f->span[2 * nf - 1] == 0)
		nf--;
	if (PD_GROW(f->path, nf, f->alloc_path) < 0)
		return PD_E_NOMEM;

	f->st.stacks++;
	f->st.total += c2;
	f->nodes[0].w += c2;
	if (f->st.diff) {
		f->st.total_old += c1;
		f->old[0] += c1;
	}
	for (i = 0; i < nf; i++) {
		size_t k = f->o->reverse ? nf - 1 - i : i;
		const char *fs = s + f->span[2 * k];
		size_t fl = f->span[2 * k + 1];
		uint32_t id;

		if (follow && i < f->path_len && name_is(f, f->path[i], fs, fl)) {
			id = f->path[i];
		} else {
			follow = 0;
			if (f->o->flamechart) {
				uint32_t name = intern(f, fs, fl);

				id = name == NONE ? NONE : new_node(f, cur, name);
			} else {
				id = find_child(f, cur, fs, fl);
			}
			if (id == NONE) {
				f->path_len = i;
				f->st.limit_line = 0;	/* not a sum */
				return f->nr_nodes >= NONE - 1 ? PD_E_LIMIT : PD_E_NOMEM;
			}
		}
		f->path[i] = id;
		f->nodes[id].w += c2;
		if (f->st.diff)
			f->old[id] += c1;
		cur = id;
	}
	f->path_len = nf;
	return PD_OK;
}

int
pd_flame_read(struct pd_flame *f, FILE *in)
{
	char buf[1 << 16];
	size_t got;
	int rc;

	f->lineno = 0;
	f->pos = 0;
	f->st.nr_bad_line = 0;
	pd_buf_reset(&f->carry);
	/* A new input starts a new path: no prefix is shared across files. */
	f->path_len = 0;
	while ((got = fread(buf, 1, sizeof(buf), in)) > 0) {
		const char *p = buf, *end = buf + got, *nl;

		while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
			if (f->carry.len) {
				if (pd_buf_add(&f->carry, p, (size_t)(nl - p)) < 0)
					return PD_E_NOMEM;
				rc = pd_flame_add_line(f, f->carry.buf, f->carry.len);
				pd_buf_reset(&f->carry);
			} else {
				rc = pd_flame_add_line(f, p, (size_t)(nl - p));
			}
			if (rc < 0)
				return rc;
			p = nl + 1;
		}
		if (p < end && pd_buf_add(&f->carry, p, (size_t)(end - p)) < 0)
			return PD_E_NOMEM;
	}
	if (ferror(in))
		return PD_E_IO;
	/* The last line counts without its newline (FlameGraph#230). */
	if (f->carry.len) {
		rc = pd_flame_add_line(f, f->carry.buf, f->carry.len);
		pd_buf_reset(&f->carry);
		if (rc < 0)
			return rc;
	}
	return PD_OK;
}

const char *
pd_flame_count_unit(const struct pd_flame *f)
{
	const struct pd_flame_stats *st = &f->st;

	if (st->metas && st->meta.weight == PD_WEIGHT_PERIOD)
		return pd_period_unit(st->meta.event);
	return "samples";
}

/* ---------------------------------------------------------------- */
/* Text: arbitrary bytes to valid UTF-8 XML character data. */

/*
 * The code point at S[0..N) and its length in bytes.  Anything XML 1.0 does
 * not allow (C0 controls but tab, malformed or overlong UTF-8, surrogates,
 * U+FFFE and U+FFFF), and the DEL and C1 controls it only discourages, come
 * back as U+FFFD, consuming one byte (or the whole C1 sequence).
 */
static uint32_t
utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	unsigned c = s[0];
	uint32_t cp;
	size_t need, i;

	*len = 1;
	if (c < 0x80)
		return (c < 0x20 && c != '\t') || c == 0x7f ? 0xfffd : c;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		cp = c & 0x07;
	} else {
		return 0xfffd;
	}
	if (n <= need)
		return 0xfffd;
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0xfffd;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0xfffd;
	*len = need + 1;
	if (cp >= 0x80 && cp <= 0x9f)
		return 0xfffd;
	return cp;
}

/* Characters of S[0..N) as xml_text writes them. */
static size_t
utf8_chars(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k = 0, l;

	while (i < n) {
		if (p[i] >= 0x20 && p[i] < 0x80)
			l = 1;
		else
			utf8_next(p + i, n - i, &l);
		i += l;
		k++;
	}
	return k;
}

/*
 * Append at most MAXC characters of S[0..N) to B as XML text that is also
 * safe in a double- or single-quoted attribute: & < > " ' are escaped, and
 * what XML cannot hold becomes U+FFFD.  Cutting by characters before
 * escaping never splits an escape or a UTF-8 sequence.
 */
static int
xml_text(struct pd_buf *b, const char *s, size_t n, size_t maxc)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k = 0, l, run;
	uint32_t cp;

	if (pd_buf_grow(b, n + 16) < 0)
		return -1;
	while (i < n && k < maxc) {
		/* Plain ASCII runs are copied as they are. */
		for (run = i; run < n && k < maxc && p[run] >= 0x20 && p[run] < 0x7f &&
		    p[run] != '&' && p[run] != '<' && p[run] != '>' && p[run] != '"' &&
		    p[run] != '\''; run++)
			k++;
		if (run > i && pd_buf_add(b, s + i, run - i) < 0)
			return -1;
		i = run;
		if (i >= n || k >= maxc)
			break;
		cp = utf8_next(p + i, n - i, &l);
		switch (cp) {
		case '&': if (pd_buf_add(b, "&amp;", 5) < 0) return -1; break;
		case '<': if (pd_buf_add(b, "&lt;", 4) < 0) return -1; break;
		case '>': if (pd_buf_add(b, "&gt;", 4) < 0) return -1; break;
		case '"': if (pd_buf_add(b, "&quot;", 6) < 0) return -1; break;
		case '\'': if (pd_buf_add(b, "&#39;", 5) < 0) return -1; break;
		case '\t': if (pd_buf_add(b, "&#9;", 4) < 0) return -1; break;
		case 0xfffd:
			if (pd_buf_add(b, "\xef\xbf\xbd", 3) < 0)
				return -1;
			break;
		default:
			if (pd_buf_add(b, s + i, l) < 0)
				return -1;
		}
		i += l;
		k++;
	}
	return 0;
}

static int
xml_str(struct pd_buf *b, const char *s)
{
	return xml_text(b, s, strlen(s), SIZE_MAX);
}

/* ---------------------------------------------------------------- */
/* Colours. */

/* "_[k]" and friends: the frame kind pdcollapse and perf append. */
static char
annotation(const char *s, size_t n)
{
	if (n >= 4 && s[n - 4] == '_' && s[n - 3] == '[' && s[n - 1] == ']' &&
	    strchr("kjiw", s[n - 2]))
		return s[n - 2];
	return 0;
}

/* Components in [0, 256), truncated as flamegraph.pl's int() does. */
static uint32_t
rgb(double r, double g, double b)
{
	return (uint32_t)r << 16 | (uint32_t)g << 8 | (uint32_t)b;
}

static int
has(const char *s, size_t n, const char *what)
{
	return memmem(s, n, what, strlen(what)) != NULL;
}

/* Java package roots, as flamegraph.pl's java palette recognises them. */
static int
java_name(const char *s, size_t n)
{
	static const char *const pk[] = { "java/", "javax/", "jdk/", "net/", "org/",
		"com/", "io/", "sun/", NULL };

	if (n && s[0] == 'L') {
		s++;
		n--;
	}
	for (int i = 0; pk[i]; i++)
		if (n >= strlen(pk[i]) && !memcmp(s, pk[i], strlen(pk[i])))
			return 1;
	return 0;
}

/* Two values in [0, 1] weighted towards the first characters (--hash). */
static double
early_hash(const char *s, size_t n, int backwards)
{
	double v = 0, wt = 1, max = 0;

	for (size_t i = 0; i < n && i < 4; i++) {
		unsigned char c = (unsigned char)s[backwards ? n - 1 - i : i];

		v += (c % 16) / 15.0 * wt;
		max += wt;
		wt *= 0.5;
	}
	return max ? 1 - v / max : 0;
}

/*
 * The colour of a name in palette PAL.  By default the three random-looking
 * values come from a 64-bit hash of the name, so a name has the same colour
 * in every graph, and the formulas are flamegraph.pl's documented ones.
 */
static uint32_t
name_color(const char *pal, int hashmode, const char *s, size_t n)
{
	char ann = annotation(s, n);
	size_t dn = ann ? n - 4 : n;
	double v1, v2, v3;

	if (hashmode) {
		v1 = early_hash(s, dn, 0);
		v2 = v3 = early_hash(s, dn, 1);
	} else {
		uint64_t h = 0xcbf29ce484222325ull;

		for (size_t i = 0; i < dn; i++) {
			h ^= (unsigned char)s[i];
			h *= 0x100000001b3ull;
		}
		h ^= h >> 29;
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 32;
		v1 = (double)(h & 0x1fffff) / 0x1fffff;
		v2 = (double)((h >> 21) & 0x1fffff) / 0x1fffff;
		v3 = (double)((h >> 42) & 0x1fffff) / 0x1fffff;
	}
	if (!strcmp(pal, "hot"))
		return rgb(205 + (50 * v3), (230 * v1), (55 * v2));
	if (!strcmp(pal, "mem"))
		return rgb(0, 190 + (50 * v2), (210 * v1));
	if (!strcmp(pal, "io")) {
		double r = 80 + (60 * v1);

		return rgb(r, r, 190 + (55 * v2));
	}
	if (!strcmp(pal, "kind")) {
		if (ann == 'k')
			pal = "blue";
		else if (ann == 'j')
			pal = "green";
		else if (ann == 'i')
			pal = "purple";
		else
			return rgb(205 + (50 * v3), (230 * v1), (55 * v2));
	} else if (!strcmp(pal, "java")) {
		if (ann == 'j' || java_name(s, n) || has(s, n, ":::"))
			pal = "green";
		else if (ann == 'i')
			pal = "aqua";
		else if (has(s, n, "::"))
			pal = "yellow";
		else
			pal = ann == 'k' ? "orange" : "red";
	} else if (!strcmp(pal, "perl")) {
		if (has(s, n, "::"))
			pal = "yellow";
		else if (has(s, n, "Perl") || has(s, n, ".pl"))
			pal = "green";
		else
			pal = ann == 'k' ? "orange" : "red";
	} else if (!strcmp(pal, "js")) {
		const char *sl = memchr(s, '/', n);

		if (ann == 'j')
			pal = sl ? "green" : "aqua";
		else if (has(s, n, "::"))
			pal = "yellow";
		else if (sl && has(sl, n - (size_t)(sl - s), ".js"))
			pal = "green";
		else if (memchr(s, ':', n))
			pal = "aqua";
		else if (n == 1 && s[0] == ' ')
			pal = "green";
		else
			pal = has(s, n, "_[k]") ? "orange" : "red";
	} else if (!strcmp(pal, "wakeup")) {
		pal = "aqua";
	}
	if (!strcmp(pal, "red"))
		return rgb(200 + (55 * v1), 50 + (80 * v1), 50 + (80 * v1));
	if (!strcmp(pal, "green"))
		return rgb(50 + (60 * v1), 200 + (55 * v1), 50 + (60 * v1));
	if (!strcmp(pal, "blue"))
		return rgb(80 + (60 * v1), 80 + (60 * v1), 205 + (50 * v1));
	if (!strcmp(pal, "yellow"))
		return rgb(175 + (55 * v1), 175 + (55 * v1), 50 + (20 * v1));
	if (!strcmp(pal, "purple"))
		return rgb(190 + (65 * v1), 80 + (60 * v1), 190 + (65 * v1));
	if (!strcmp(pal, "aqua"))
		return rgb(50 + (60 * v1), 165 + (55 * v1), 165 + (55 * v1));
	if (!strcmp(pal, "orange"))
		return rgb(190 + (65 * v1), 90 + (65 * v1), 0);
	return 0;
}

static uint32_t
node_color(struct pd_flame *f, uint32_t id)
{
	struct fl_name *nm;

	if (id == 0)
		return name_color(f->o->colors, f->o->hash, "all", 3);
	nm = &f->names[f->nodes[id].name];
	if ((nm->len == 1 && nm->s[0] == '-'))
		return 0xc8c8c8;
	if (nm->len == 2 && nm->s[0] == '-' && nm->s[1] == '-')
		return 0xa0a0a0;
	if (!nm->has_rgb) {
		nm->rgb = name_color(f->o->colors, f->o->hash, nm->s, nm->len);
		nm->has_rgb = 1;
		nm->keep = 1;
	}
	return nm->rgb;
}

/* flamegraph.pl's differential scale: red grew, blue shrank, white equal. */
static uint32_t
diff_color(double v, double max, int negate)
{
	if (negate)
		v = -v;
	if (v > 0)
		return rgb(255, 210 * (max - v) / max, 210 * (max - v) / max);
	if (v < 0)
		return rgb(210 * (max + v) / max, 210 * (max + v) / max, 255);
	return 0xffffff;
}

static int
parse_color(const char *s, size_t n, uint32_t *out)
{
	unsigned r, g, b;
	char tmp[32];
	int used = 0;

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (sscanf(tmp, "rgb(%u,%u,%u)%n", &r, &g, &b, &used) == 3 && (size_t)used == n &&
	    r < 256 && g < 256 && b < 256) {
		*out = r << 16 | g << 8 | b;
		return 0;
	}
	if (is_hex6(tmp)) {
		*out = (uint32_t)strtoul(tmp + 1, NULL, 16);
		return 0;
	}
	return -1;
}

int
pd_flame_palette_read(struct pd_flame *f, FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;

	while ((got = getline(&line, &cap, in)) > 0) {
		size_t n = (size_t)got;
		const char *arrow = NULL;
		uint32_t c, id;

		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		/* The colour never holds "->"; a C++ name may. */
		for (size_t i = 0; i + 1 < n; i++)
			if (line[i] == '-' && line[i + 1] == '>')
				arrow = line + i;
		if (!arrow || parse_color(arrow + 2, n - (size_t)(arrow + 2 - line), &c) < 0)
			continue;
		id = intern(f, line, (size_t)(arrow - line));
		if (id == NONE) {
			free(line);
			return PD_E_NOMEM;
		}
		f->names[id].rgb = c;
		f->names[id].has_rgb = f->names[id].keep = 1;
	}
	free(line);
	return ferror(in) ? PD_E_IO : PD_OK;
}

static int
name_cmp(const struct fl_name *x, const struct fl_name *y)
{
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int
cmp_names(const void *a, const void *b, void *ctx)
{
	const struct pd_flame *f = ctx;

	return name_cmp(&f->names[*(const uint32_t *)a], &f->names[*(const uint32_t *)b]);
}

static int
cmp_nodes(const void *a, const void *b, void *ctx)
{
	const struct pd_flame *f = ctx;

	return name_cmp(&f->names[f->nodes[*(const uint32_t *)a].name],
	    &f->names[f->nodes[*(const uint32_t *)b].name]);
}

int
pd_flame_palette_write(const struct pd_flame *f, FILE *out)
{
	uint32_t *ids = malloc((f->nr_names + 1) * sizeof(*ids));
	size_t n = 0;

	if (!ids)
		return PD_E_NOMEM;
	for (size_t i = 0; i < f->nr_names; i++)
		if (f->names[i].keep)
			ids[n++] = (uint32_t)i;
	qsort_r(ids, n, sizeof(*ids), cmp_names, (void *)f);
	for (size_t i = 0; i < n; i++) {
		const struct fl_name *nm = &f->names[ids[i]];

		fwrite(nm->s, 1, nm->len, out);
		fprintf(out, "->rgb(%u,%u,%u)\n", nm->rgb >> 16, (nm->rgb >> 8) & 255, nm->rgb & 255);
	}
	free(ids);
	return ferror(out) ? PD_E_IO : PD_OK;
}

/* ---------------------------------------------------------------- */
/* Finishing the tree: child order, subtree sizes. */

/*
 * Children sorted by name, or in input order for a flame chart.  Lists are
 * built newest first, so a flame chart's are reversed, and so are those of
 * sorted input, which come out in reverse name order: no sort needed.
 */
static int
order_children(struct pd_flame *f)
{
	uint32_t *ids = NULL;
	size_t alloc = 0;

	for (size_t p = 0; p < f->nr_nodes; p++) {
		size_t n = 0;
		int reversed = 1;

		for (uint32_t c = f->nodes[p].child; c != NONE; c = f->nodes[c].next) {
			if (PD_GROW(ids, n + 1, alloc) < 0) {
				free(ids);
				return -1;
			}
			ids[n++] = c;
			if (n > 1 && reversed && cmp_nodes(&ids[n - 2], &ids[n - 1], f) < 0)
				reversed = 0;
		}
		if (n < 2)
			continue;
		if (f->o->flamechart || reversed) {
			for (size_t i = 0; i < n / 2; i++) {
				uint32_t t = ids[i];

				ids[i] = ids[n - 1 - i];
				ids[n - 1 - i] = t;
			}
		} else {
			qsort_r(ids, n, sizeof(*ids), cmp_nodes, f);
		}
		for (size_t i = 0; i + 1 < n; i++)
			f->nodes[ids[i]].next = ids[i + 1];
		f->nodes[ids[n - 1]].next = NONE;
		f->nodes[p].child = ids[0];
	}
	free(ids);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Layout and output. */

struct out {
	struct pd_buf b;
	FILE *fp;
	int err;
};

static void
out_flush(struct out *o, int force)
{
	if (o->b.len && (force || o->b.len >= (1u << 16))) {
		if (fwrite(o->b.buf, 1, o->b.len, o->fp) != o->b.len)
			o->err = PD_E_IO;
		pd_buf_reset(&o->b);
	}
}

static void
out_add(struct out *o, const char *s)
{
	if (pd_buf_addstr(&o->b, s) < 0)
		o->err = PD_E_NOMEM;
}

static void
out_f(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
out_f(struct out *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(tmp)) {
		if (pd_buf_add(&o->b, tmp, (size_t)n) < 0)
			o->err = PD_E_NOMEM;
		return;
	}
	/* Longer than the scratch buffer: format in place. */
	if (n < 0 || pd_buf_grow(&o->b, (size_t)n) < 0) {
		o->err = PD_E_NOMEM;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(o->b.buf + o->b.len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	o->b.len += (size_t)n;
}

static void
out_text(struct out *o, const char *s, size_t n, size_t maxc)
{
	if (xml_text(&o->b, s, n, maxc) < 0)
		o->err = PD_E_NOMEM;
}

/*
 * PRE, then V in decimal with DIGITS1 after the point (0 or 1) between
 * quotes: what "%s\"%llu\"" writes, without vsnprintf, which was most of
 * the time of an SVG of a million frames.
 */
static void
out_quoted(struct out *o, const char *pre, bool neg, unsigned long long v, int tenth)
{
	char tmp[32], *p = tmp + sizeof(tmp);

	*--p = '"';
	if (tenth >= 0) {
		*--p = (char)('0' + tenth);
		*--p = '.';
	}
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	if (neg)
		*--p = '-';
	*--p = '"';
	out_add(o, pre);
	if (pd_buf_add(&o->b, p, (size_t)(tmp + sizeof(tmp) - p)) < 0)
		o->err = PD_E_NOMEM;
}

static void
out_u64(struct out *o, const char *pre, uint64_t v)
{
	out_quoted(o, pre, false, v, -1);
}

/* A coordinate with one decimal, without a useless ".0". */
static void
out_num(struct out *o, const char *pre, double v)
{
	long long t = (long long)(v * 10 + (v < 0 ? -0.5 : 0.5));
	unsigned long long a = t < 0 ? 0ull - (unsigned long long)t : (unsigned long long)t;

	/* %lld of t / 10 prints no "-" for -0.x, as before. */
	out_quoted(o, pre, t <= -10, a / 10, t % 10 ? (int)(a % 10) : -1);
}

struct geom {
	double wpt;			/* px per count */
	double minw;			/* counts below which a frame is omitted */
	double timemax;
	double fs, fh, ypad1, ypad2, ypad3, height;
	unsigned depthmax;
	double maxdelta;
	uint64_t om_inline_w, om_inline_n;	/* frames only tooltips count, and their counts */
};

/* Whether a frame of W counts is drawn: minwidth, and never empty ones. */
static int
visible(const struct geom *g, uint64_t w)
{
	return w > 0 && (double)w >= g->minw;
}

/* The top y of a frame at DEPTH. */
static double
frame_y(const struct pd_flame *f, const struct geom *g, unsigned depth)
{
	if (f->o->inverted)
		return g->ypad1 + g->ypad3 + depth * g->fh;
	return g->height - g->ypad2 - (depth + 1) * g->fh + 1;
}

struct visit {
	uint32_t id;			/* NONE: an "omitted" element */
	unsigned depth;
	uint64_t o, w;
	uint64_t self;
	uint64_t b, sb;			/* differential: first counts */
	uint64_t nomit;
};

static void
emit_frame(struct pd_flame *f, const struct geom *g, const struct visit *v, struct out *o)
{
	double x1 = XPAD + v->o * g->wpt;
	double x2 = XPAD + (v->id == 0 ? g->timemax : (double)(v->o + v->w)) * g->wpt;
	double y = frame_y(f, g, v->depth);
	size_t chars = (size_t)((x2 - x1) / (g->fs * FONTWIDTH));
	const char *s;
	size_t n, nc;
	uint32_t col;
	char tmp[96];

	if (v->id == NONE) {
		snprintf(tmp, sizeof(tmp), "%llu frames omitted (%.2f%%)",
		    (unsigned long long)v->nomit, 100.0 * (double)v->w / g->timemax);
		s = tmp;
		n = strlen(tmp);
		col = 0xbbbbbb;
		out_f(o, "<g class=\"om\" o=\"%llu\" w=\"%llu\" d=\"%u\">", (unsigned long long)v->o,
		    (unsigned long long)v->w, v->depth);
	} else {
		if (v->id == 0) {
			s = "all";
			n = 3;
		} else {
			const struct fl_name *nm = &f->names[f->nodes[v->id].name];

			s = nm->s;
			n = nm->len;
			if (annotation(s, n))
				n -= 4;
		}
		if (f->st.diff)
			col = diff_color((double)v->self - (double)v->sb, g->maxdelta, f->o->negate);
		else
			col = node_color(f, v->id);
		out_u64(o, "<g o=", v->o);
		out_u64(o, " w=", v->w);
		out_u64(o, " d=", v->depth);
		if (v->self)
			out_u64(o, " s=", v->self);
		if (v->nomit)
			out_u64(o, " m=", v->nomit);
		if (f->st.diff) {
			out_u64(o, " b=", v->b);
			if (v->sb)
				out_u64(o, " sb=", v->sb);
		}
		out_add(o, ">");
	}
	out_add(o, "<title>");
	out_text(o, s, n, SIZE_MAX);
	out_add(o, "</title><rect");
	out_num(o, " x=", x1);
	out_num(o, " y=", y);
	out_num(o, " width=", x2 - x1);
	out_num(o, " height=", g->fh - 1);
	{
		char fill[] = " fill=\"#000000\"/>";

		for (int k = 0; k < 6; k++)
			fill[8 + k] = "0123456789abcdef"[(col >> (20 - 4 * k)) & 15];
		out_add(o, fill);
	}
	if (chars >= 3) {
		out_num(o, "<text x=", x1 + 3);
		out_num(o, " y=", y + (g->fh - 1) / 2 + g->fs / 4);
		out_add(o, ">");
		nc = utf8_chars(s, n);
		if (nc <= chars) {
			out_text(o, s, n, SIZE_MAX);
		} else {
			out_text(o, s, n, chars - 2);
			out_add(o, "..");
		}
		out_add(o, "</text>");
	}
	out_add(o, "</g>\n");
	out_flush(o, 0);
}

struct walk {
	uint32_t id;
	unsigned depth;
	uint32_t next;			/* next child to look at */
	uint64_t o;			/* where the next drawn child starts */
	uint64_t om_w, om_n;		/* omitted children so far */
	int om_drawn;			/* they get an element */
};

/*
 * Depth-first, drawn frames in preorder (the order the script's search
 * relies on).  The children narrower than minwidth of a drawn frame become
 * one "N frames omitted" element after its drawn children, or, when that
 * is narrower than 1 px or minwidth, an m="N" count on the frame's tooltip.  Pass 0 measures
 * (depth, counts, largest delta), pass 1 writes.
 */
static int
walk(struct pd_flame *f, struct geom *g, const uint32_t *size, int pass, struct out *o)
{
	struct walk *st = NULL;
	size_t sp = 0, alloc = 0;
	uint32_t id = 0;
	unsigned depth = 0;
	uint64_t off = 0;

	for (;;) {
		if (id != NONE) {
			struct visit v = { id, depth, off, f->nodes[id].w, f->nodes[id].w, 0, 0, 0 };
			uint64_t om_w = 0;
			int om_drawn;

			if (f->st.diff)
				v.b = v.sb = f->old[id];
			for (uint32_t c = f->nodes[id].child; c != NONE; c = f->nodes[c].next) {
				v.self -= f->nodes[c].w;
				if (f->st.diff)
					v.sb -= f->old[c];
				if (!visible(g, f->nodes[c].w)) {
					om_w += f->nodes[c].w;
					v.nomit += size[c];
				}
			}
			/*
			 * Omitted callees get an element when it is visible, 1 px
			 * wide at least; narrower, they are counted in the frame's
			 * own tooltip instead (the SVG stays small: no sliver per
			 * frame).
			 */
			om_drawn = visible(g, om_w) && (double)om_w * g->wpt >= 1;
			if (om_drawn)
				v.nomit = 0;
			else if (pass == 0 && v.nomit) {
				f->st.omitted_inline++;
				g->om_inline_w += om_w;
				g->om_inline_n += v.nomit;
			}
			if (pass == 0) {
				double d = (double)v.self - (double)v.sb;

				if (d < 0)
					d = -d;

				if (depth > g->depthmax)
					g->depthmax = depth;
				if (d > g->maxdelta)
					g->maxdelta = d;
				if (id)
					f->st.drawn++;
			} else {
				emit_frame(f, g, &v, o);
			}
			if (PD_GROW(st, sp + 1, alloc) < 0) {
				free(st);
				return PD_E_NOMEM;
			}
			st[sp++] = (struct walk){ id, depth, f->nodes[id].child, off, 0, 0, om_drawn };
		}
		if (sp == 0)
			break;
		{
			struct walk *t = &st[sp - 1];
			uint32_t c = t->next;

			while (c != NONE && !visible(g, f->nodes[c].w)) {
				t->om_w += f->nodes[c].w;
				t->om_n += size[c];
				c = f->nodes[c].next;
			}
			if (c != NONE) {
				t->next = f->nodes[c].next;
				id = c;
				depth = t->depth + 1;
				off = t->o;
				t->o += f->nodes[c].w;
				continue;
			}
			if (t->om_n && pass == 0)
				f->st.omitted += t->om_n;
			if (t->om_n && t->om_drawn) {
				struct visit v = { NONE, t->depth + 1, t->o, t->om_w, 0, 0, 0, t->om_n };

				if (pass == 0) {
					if (v.depth > g->depthmax)
						g->depthmax = v.depth;
					f->st.omitted_elems++;
				} else {
					emit_frame(f, g, &v, o);
				}
			}
			sp--;
			id = NONE;
		}
	}
	free(st);
	return o && o->err ? o->err : PD_OK;
}

static const char css[] =
    "text{fill:#000}#title,#subtitle{text-anchor:middle}#subtitle{fill:#a0a0a0}"
    "#search,#ic,#unzoom{cursor:pointer}#search,#ic{opacity:.1}"
    "#search:hover,#search.show,#ic:hover,#ic.show{opacity:1}"
    "#frames>g{cursor:pointer}#frames>g:hover>rect{stroke:#000;stroke-width:.5}"
    "#frames rect{rx:2px;ry:2px}#frames text{pointer-events:none}"
    ".hide{display:none}.par{opacity:.5}";

static const char script[] =
	"\"use strict\";\n"
	"(function () {\n"
	"var D = document, NS = \"http://www.w3.org/2000/svg\", F = D.getElementById(\"frames\");\n"
	"function A(e, k) { return e.getAttribute(k); }\n"
	"function E(id) { return D.getElementById(id); }\n"
	"var det = E(\"details\").firstChild, mt = E(\"matched\").firstChild, unz = E(\"unzoom\"),\n"
	"    sb = E(\"search\"), icb = E(\"ic\"), cn = A(F, \"cn\"), nt = A(F, \"nt\"), fac = +A(F, \"fa\"),\n"
	"    cw = +A(F, \"cw\"), xp = +A(F, \"xp\"), W = +A(F, \"ww\"), fh = +A(F, \"fh\"), fs = +A(F, \"fs\"),\n"
	"    T = +A(F, \"tt\"), df = A(F, \"df\") == \"1\", ng = A(F, \"ng\") == \"1\",\n"
	"    fr = [], root, Z, term = \"\", ic = false, i;\n"
	"for (i = 0; i < F.children.length; i++) {\n"
	"	var g = F.children[i], c = g.children, f = { g: g, os: A(g, \"o\"), o: +A(g, \"o\"),\n"
	"	    w: +A(g, \"w\"), d: +A(g, \"d\"), s: +(A(g, \"s\") || 0), b: +(A(g, \"b\") || 0),\n"
	"	    sb: +(A(g, \"sb\") || 0), m: +(A(g, \"m\") || 0), om: A(g, \"class\") == \"om\", n: c[0].textContent,\n"
	"	    r: c[1], t: c[2] || null };\n"
	"	g.fi = i;\n"
	"	fr.push(f);\n"
	"}\n"
	"root = Z = fr[0];\n"
	"function num(v) { return String(Math.round(v * fac)).replace(/\\B(?=(\\d{3})+$)/g, \",\"); }\n"
	"function pct(a, b) { return b ? (100 * a / b).toFixed(2) : \"0.00\"; }\n"
	"function sg(v) { return (v > 0 ? \"+\" : \"\") + num(v) + \" (\" + (v > 0 ? \"+\" : \"\") + pct(v, T) + \"%)\"; }\n"
	"function info(f) {\n"
	"	if (f.om) return f.n;\n"
	"	var s = f.n + \" (\" + num(f.w) + \" \" + cn + \", \" + pct(f.w, T) + \"% of total\";\n"
	"	if (Z !== root && f.d >= Z.d) s += \", \" + pct(f.w, Z.w) + \"% of zoomed frame\";\n"
	"	s += \"; self \" + num(f.s) + \")\";\n"
	"	if (f.m) s += \"; \" + f.m + \" narrow frames omitted below\";\n"
	"	if (df) {\n"
	"		var k = ng ? -1 : 1;\n"
	"		s += \"; delta self \" + sg(k * (f.s - f.sb)) + \", total \" + sg(k * (f.w - f.b));\n"
	"	}\n"
	"	return s;\n"
	"}\n"
	"function find(el) {\n"
	"	for (; el && el !== F; el = el.parentNode)\n"
	"		if (el.parentNode === F) return fr[el.fi];\n"
	"	return null;\n"
	"}\n"
	"function label(f, px) {\n"
	"	var c = Math.floor(px / cw);\n"
	"	if (c < 3) return \"\";\n"
	"	if (!f.a) f.a = Array.from(f.n);\n"
	"	return f.a.length <= c ? f.n : f.a.slice(0, c - 2).join(\"\") + \"..\";\n"
	"}\n"
	"function place(f, x, px) {\n"
	"	var l = label(f, px);\n"
	"	f.r.setAttribute(\"x\", x.toFixed(1));\n"
	"	f.r.setAttribute(\"width\", px.toFixed(1));\n"
	"	if (!f.t) {\n"
	"		if (!l) return;\n"
	"		f.t = D.createElementNS(NS, \"text\");\n"
	"		f.t.setAttribute(\"y\", (+A(f.r, \"y\") + (fh - 1) / 2 + fs / 4).toFixed(1));\n"
	"		f.g.appendChild(f.t);\n"
	"	}\n"
	"	f.t.setAttribute(\"x\", (x + 3).toFixed(1));\n"
	"	f.t.textContent = l;\n"
	"}\n"
	"function save() {\n"
	"	var p = [];\n"
	"	if (Z !== root) p.push(\"z=\" + Z.os + \".\" + Z.d);\n"
	"	if (term) p.push(\"s=\" + encodeURIComponent(term));\n"
	"	if (ic) p.push(\"i=1\");\n"
	"	var u = p.length ? \"#\" + p.join(\"&\") : location.pathname + location.search;\n"
	"	try { history.replaceState(null, \"\", u); } catch (x) { }\n"
	"}\n"
	"function zoom(z) {\n"
	"	var k = W / (z === root ? T : z.w), e = z.o + z.w;\n"
	"	Z = z;\n"
	"	for (var j = 0; j < fr.length; j++) {\n"
	"		var f = fr[j], c = f.g.classList;\n"
	"		if (f.d < z.d && f.o <= z.o && f.o + f.w >= e) {\n"
	"			c.remove(\"hide\");\n"
	"			c.add(\"par\");\n"
	"			place(f, xp, W);\n"
	"		} else if (f.d >= z.d && f.o >= z.o && f.o + f.w <= e) {\n"
	"			c.remove(\"hide\", \"par\");\n"
	"			place(f, xp + (f.o - z.o) * k, f.w * k);\n"
	"		} else {\n"
	"			c.add(\"hide\");\n"
	"		}\n"
	"	}\n"
	"	unz.classList.toggle(\"hide\", z === root);\n"
	"	save();\n"
	"}\n"
	"function search(t) {\n"
	"	var re = null, sum = 0, end = -1;\n"
	"	term = t;\n"
	"	if (t) {\n"
	"		try { re = new RegExp(t, ic ? \"i\" : \"\"); } catch (x) { term = \"\"; mt.nodeValue = \"Bad regex\"; }\n"
	"	}\n"
	"	for (var j = 1; j < fr.length; j++) {\n"
	"		var f = fr[j], m = re !== null && !f.om && re.test(f.n);\n"
	"		f.r.style.fill = m ? \"rgb(230,0,230)\" : \"\";\n"
	"		/* Preorder: a frame starting before END lies inside a counted match. */\n"
	"		if (m && f.o >= end) {\n"
	"			sum += f.w;\n"
	"			end = f.o + f.w;\n"
	"		}\n"
	"	}\n"
	"	sb.classList.toggle(\"show\", re !== null);\n"
	"	if (re !== null) mt.nodeValue = \"Matched: \" + pct(sum, T) + \"%\";\n"
	"	else if (!t) mt.nodeValue = \" \";\n"
	"	save();\n"
	"}\n"
	"function ask() {\n"
	"	var t = prompt(\"Search for a regular expression\" + (ic ? \" (ignoring case)\" : \"\"), term);\n"
	"	if (t !== null) search(t);\n"
	"}\n"
	"function toggle() {\n"
	"	ic = !ic;\n"
	"	icb.classList.toggle(\"show\", ic);\n"
	"	search(term);\n"
	"}\n"
	"F.addEventListener(\"mouseover\", function (e) {\n"
	"	var f = find(e.target);\n"
	"	if (!f) return;\n"
	"	var s = info(f);\n"
	"	det.nodeValue = (f.om ? \"\" : nt + \" \") + s;\n"
	"	f.g.firstChild.textContent = s;\n"
	"});\n"
	"F.addEventListener(\"mouseout\", function () { det.nodeValue = \" \"; });\n"
	"F.addEventListener(\"click\", function (e) {\n"
	"	var f = find(e.target);\n"
	"	if (f) zoom(f);\n"
	"});\n"
	"unz.addEventListener(\"click\", function () { zoom(root); });\n"
	"sb.addEventListener(\"click\", ask);\n"
	"icb.addEventListener(\"click\", toggle);\n"
	"D.addEventListener(\"keydown\", function (e) {\n"
	"	var k = e.key, c = e.ctrlKey || e.metaKey;\n"
	"	if ((c && (k == \"f\" || k == \"F\")) || k == \"F3\") {\n"
	"		e.preventDefault();\n"
	"		ask();\n"
	"	} else if (c && (k == \"i\" || k == \"I\")) {\n"
	"		e.preventDefault();\n"
	"		toggle();\n"
	"	} else if (k == \"Escape\") {\n"
	"		search(\"\");\n"
	"	}\n"
	"});\n"
	"(function () {\n"
	"	var h = location.hash.slice(1).split(\"&\"), z = null;\n"
	"	for (var j = 0; j < h.length; j++) {\n"
	"		var q = h[j].indexOf(\"=\"), k = h[j].slice(0, q), v = h[j].slice(q + 1);\n"
	"		if (q < 0) continue;\n"
	"		if (k == \"i\") ic = v == \"1\";\n"
	"		else if (k == \"s\") try { term = decodeURIComponent(v); } catch (x) { }\n"
	"		else if (k == \"z\")\n"
	"			for (var n = 0; n < fr.length; n++)\n"
	"				if (fr[n].os + \".\" + fr[n].d == v) { z = fr[n]; break; }\n"
	"	}\n"
	"	icb.classList.toggle(\"show\", ic);\n"
	"	if (z) zoom(z);\n"
	"	if (term) search(term);\n"
	"})();\n"
	"})();\n"
    ;

static void
svg_header(const struct pd_flame *f, struct out *o, double height)
{
	const struct pd_flame_opts *op = f->o;

	out_f(o, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
	    "<svg version=\"1.1\" width=\"%u\" height=\"%g\" viewBox=\"0 0 %u %g\" "
	    "xmlns=\"http://www.w3.org/2000/svg\" font-size=\"%g\" font-family=\"",
	    op->width, height, op->width, height, op->fontsize);
	out_text(o, op->fonttype, strlen(op->fonttype), SIZE_MAX);
	out_add(o, "\">\n<!-- Flame graph drawn by pdflame (pdtools). -->\n");
	if (op->notes && *op->notes) {
		struct pd_buf nb = PD_BUF_INIT;

		/* A comment may hold neither "--" nor a final "-". */
		if (xml_str(&nb, op->notes) < 0)
			o->err = PD_E_NOMEM;
		out_add(o, "<!-- NOTES: ");
		for (size_t i = 0; i < nb.len; i++) {
			if (pd_buf_add(&o->b, nb.buf + i, 1) < 0)
				o->err = PD_E_NOMEM;
			if (nb.buf[i] == '-' && (i + 1 == nb.len || nb.buf[i + 1] == '-'))
				out_add(o, " ");
		}
		out_add(o, " -->\n");
		pd_buf_release(&nb);
	}
}

static const char *
bg_color(const struct pd_flame_opts *op, int second)
{
	const char *bg = op->bgcolors, *c = op->colors;

	if (!bg || !*bg) {
		if (!strcmp(c, "mem"))
			bg = "green";
		else if (!strcmp(c, "io") || !strcmp(c, "wakeup"))
			bg = "blue";
		else if (strstr("red green blue aqua yellow purple orange", c))
			bg = "grey";
		else
			bg = "yellow";
	}
	if (!strcmp(bg, "yellow"))
		return second ? "#eeeeb0" : "#eeeeee";
	if (!strcmp(bg, "blue"))
		return second ? "#e0e0ff" : "#eeeeee";
	if (!strcmp(bg, "green"))
		return second ? "#e0ffe0" : "#eef2ee";
	if (!strcmp(bg, "grey"))
		return second ? "#e8e8e8" : "#f8f8f8";
	return is_hex6(bg) ? bg : "#ffffff";
}

static int
write_error(struct pd_flame *f, FILE *fp)
{
	struct out o = { PD_BUF_INIT, fp, 0 };
	double h = f->o->fontsize * 5;

	svg_header(f, &o, h);
	out_f(&o, "<text x=\"%u\" y=\"%g\" text-anchor=\"middle\">"
	    "ERROR: No valid input provided to pdflame.</text>\n</svg>\n",
	    f->o->width / 2, f->o->fontsize * 2);
	out_flush(&o, 1);
	pd_buf_release(&o.b);
	return o.err ? o.err : PD_END;
}

static int
flame_write_c(struct pd_flame *f, FILE *fp)
{
	const struct pd_flame_opts *op = f->o;
	struct out o = { PD_BUF_INIT, fp, 0 };
	struct geom g = { 0 };
	uint32_t *size;
	const char *title = op->title;
	double note_h;
	int rc;

	if (f->st.total == 0 && op->total == 0)
		return write_error(f, fp);
	if (!f->finished) {
		if (order_children(f) < 0)
			return PD_E_NOMEM;
		f->finished = 1;
	}
	size = malloc(f->nr_nodes * sizeof(*size));
	if (!size)
		return PD_E_NOMEM;
	for (size_t i = 0; i < f->nr_nodes; i++)
		size[i] = 1;
	for (size_t i = f->nr_nodes; i-- > 1;)
		size[f->nodes[i].parent] += size[i];
	f->st.frames = f->nr_nodes - 1;
	f->st.drawn = f->st.omitted = f->st.omitted_elems = f->st.omitted_inline = 0;

	g.timemax = (double)f->st.total;
	f->st.total_ignored = op->total && op->total < f->st.total;
	if (op->total > f->st.total)
		g.timemax = (double)op->total;
	g.wpt = (op->width - 2.0 * XPAD) / g.timemax;
	g.minw = op->minwidth_pct ? g.timemax * op->minwidth / 100 : op->minwidth / g.wpt;
	g.fs = op->fontsize;
	g.fh = op->height;
	g.ypad1 = g.fs * 3;
	g.ypad2 = g.fs * 2 + 10;
	g.ypad3 = op->subtitle && *op->subtitle ? g.fs * 2 : 0;
	rc = walk(f, &g, size, 0, NULL);
	if (rc < 0)
		goto out;
	if (g.maxdelta < 1)
		g.maxdelta = 1;
	g.height = (g.depthmax + 1) * g.fh + g.ypad1 + g.ypad2 + g.ypad3;

	if (!title || !*title)
		title = op->flamechart ? "Flame Chart" : op->inverted ? "Icicle Graph" : "Flame Graph";
	/*
	 * Frames counted only on their parents' tooltips are still owned up
	 * to, in a visible line under the graph: never dropped silently.
	 */
	note_h = f->st.omitted_inline ? g.fs * 1.6 : 0;
	svg_header(f, &o, g.height + note_h);
	out_f(&o, "<defs><linearGradient id=\"bg\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
	    "<stop stop-color=\"%s\" offset=\"5%%\"/><stop stop-color=\"%s\" offset=\"95%%\"/>"
	    "</linearGradient></defs>\n<style type=\"text/css\">%s</style>\n",
	    bg_color(op, 0), bg_color(op, 1), css);
	out_f(&o, "<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%g\" fill=\"url(#bg)\"/>\n",
	    op->width, g.height + note_h);
	out_f(&o, "<text id=\"title\" x=\"%u\" y=\"%g\" font-size=\"%g\">", op->width / 2,
	    g.fs * 2, g.fs + 5);
	out_text(&o, title, strlen(title), SIZE_MAX);
	out_add(&o, "</text>\n");
	if (g.ypad3) {
		out_f(&o, "<text id=\"subtitle\" x=\"%u\" y=\"%g\">", op->width / 2, g.fs * 4);
		out_text(&o, op->subtitle, strlen(op->subtitle), SIZE_MAX);
		out_add(&o, "</text>\n");
	}
	out_f(&o, "<text id=\"details\" x=\"%d\" y=\"%g\"> </text>\n", XPAD, g.height - g.ypad2 / 2);
	out_f(&o, "<text id=\"unzoom\" class=\"hide\" x=\"%d\" y=\"%g\">Reset Zoom</text>\n",
	    XPAD, g.fs * 2);
	out_f(&o, "<text id=\"search\" x=\"%d\" y=\"%g\">Search</text>\n",
	    (int)op->width - XPAD - 100, g.fs * 2);
	out_f(&o, "<text id=\"ic\" x=\"%d\" y=\"%g\">ic</text>\n",
	    (int)op->width - XPAD - 16, g.fs * 2);
	out_f(&o, "<text id=\"matched\" x=\"%d\" y=\"%g\"> </text>\n",
	    (int)op->width - XPAD - 100, g.height - g.ypad2 / 2);
	if (note_h)
		out_f(&o, "<text id=\"omitted\" x=\"%d\" y=\"%g\">%llu frames omitted (%.2f%%): "
		    "narrower than the minimum width; each frame's tooltip counts its omitted callees</text>\n",
		    XPAD, g.height + g.fs, (unsigned long long)g.om_inline_n,
		    100.0 * (double)g.om_inline_w / g.timemax);
	/* What the script needs, as attributes: it never sees data as code. */
	out_add(&o, "<g id=\"frames\" cn=\"");
	out_text(&o, op->countname, strlen(op->countname), SIZE_MAX);
	out_add(&o, "\" nt=\"");
	out_text(&o, op->nametype, strlen(op->nametype), SIZE_MAX);
	out_f(&o, "\" fa=\"%.15g\" cw=\"%.15g\" xp=\"%d\" ww=\"%u\" fh=\"%g\" fs=\"%g\" tt=\"%.17g\"%s%s>\n",
	    op->factor, g.fs * FONTWIDTH, XPAD, op->width - 2 * XPAD, g.fh, g.fs, g.timemax,
	    f->st.diff ? " df=\"1\"" : "", op->negate ? " ng=\"1\"" : "");
	rc = walk(f, &g, size, 1, &o);
	if (rc < 0)
		goto out;
	out_add(&o, "</g>\n<script type=\"text/ecmascript\"><![CDATA[\n");
	out_add(&o, script);
	out_add(&o, "]]></script>\n</svg>\n");
	out_flush(&o, 1);
	rc = o.err ? o.err : PD_OK;
out:
	pd_buf_release(&o.b);
	free(size);
	return rc;
}

/* Numbers in the C locale, whatever the caller's. */
int
pd_flame_write(struct pd_flame *f, FILE *fp)
{
	struct pd_cloc l;
	int rc;

	pd_cloc_enter(&l);
	rc = flame_write_c(f, fp);
	pd_cloc_leave(&l);
	return rc;
}
