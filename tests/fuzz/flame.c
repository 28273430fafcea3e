/*
 * flame.c - fuzz target for pdflame: folded text through the reader
 * (pd_flame_add_line or pd_flame_read) and the SVG writer (pd_flame_write).
 *
 * Input layout:
 *
 *   byte 0   flags: 1 reverse, 2 inverted, 4 flamechart, 8 negate, 16 hash,
 *            32 read through pd_flame_read (else line by line), 64 minwidth
 *            in percent, 128 a string block follows the option bytes
 *   byte 1   bits 0-3 palette (15: "hot" again), 4-5 minwidth, 6-7 geometry
 *   byte 2   bits 0-1 --total, 2-3 bgcolors, 4-5 factor, 6 a palette file
 *            (the string block's 7th field); bit 7 unused
 *   [byte 3  length L of the string block, then L bytes split on '\n':
 *            title, subtitle, countname, nametype, fonttype, notes, palette
 *            file; each is a C string (cut at a NUL), so data, to be escaped]
 *   rest     folded text
 *
 * Invariants (a broken one aborts through fuzz_fail):
 *  - the SVG is valid UTF-8 of XML 1.0 Chars only (no C0 control but tab,
 *    LF, CR; no surrogate, U+FFFE or U+FFFF; and, as lib/flame.c's
 *    utf8_next promises, no DEL or C1 control either);
 *  - it is well-formed XML, by a small strict checker below, with one root
 *    element svg;
 *  - its size is at most FLAME_OUT_CONST + FLAME_OUT_MULT bytes per input
 *    byte (see there);
 *  - the reader's accounting: every line is a stack, a comment, blank or
 *    bad; the bad line numbers are ascending and in range;
 *  - the frames (<g> children of <g id="frames">) form the merged tree in
 *    preorder: the first is "all", at depth 0 and offset 0, as wide as
 *    stats->total; each child starts where its previous sibling ended and
 *    fits in its parent; self + children == width unless narrow callees
 *    were counted on the tooltip (m=); the same for the first counts of a
 *    differential; every drawn frame is wider than 0 and minwidth;
 *  - the element counts match pd_flame_stats: 1 + drawn + omitted_elems
 *    frames, omitted_elems class="om" elements, omitted_inline m=
 *    attributes, and the omitted frames they count add up to omitted;
 *    drawn + omitted == frames; tt= is the total scaled to; df= and ng=
 *    say whether it is differential and negated;
 *  - the metadata line: only the first line can be one (metas 0 or 1, a
 *    comment), its event a C string; the count unit (pd_flame_count_unit)
 *    is "samples" without one or for weight=samples, and else the
 *    pd_period_unit of its event;
 *  - for inputs up to FLAME_CROSS_MAX bytes, reading the other way (lines
 *    vs. a FILE) gives the same status, stats, unit and bytes: both paths,
 *    and determinism.
 */
/* fuzz.h's perf.data helpers are unused here: only fuzz_fail is wanted. */
#include "fuzz.h"

#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The bound on the SVG.  The constant covers what does not depend on the
 * input: header, style, the script (about 8 KiB), the title texts.  Per
 * frame, pd_flame_write writes at most one <g> with seven 20-digit
 * attributes, a title, a rect with four coordinates and a label (about 400
 * bytes besides the name), plus at most one "N frames omitted" element for
 * its narrow callees (about 500 bytes); the name is written twice (title
 * and label) with each input byte becoming at most 6 ("&quot;").  A frame
 * costs at least one input byte (its name, its ';' or, for the last of a
 * line, the count), so 900 + 12 * L output bytes take at least 1 + L input
 * bytes: 1024 per input byte is enough.  The option strings cost 6 per
 * byte.  (Measured: about 175 per byte at most, for a deep stack of empty
 * frames in a differential with 20-digit counts; a wide graph stays small,
 * as frames narrower than minwidth are dropped: with minwidth > 0 px, at
 * most width / minwidth frames per level.)  More is a loop or a
 * duplication, not escaping.
 */
#define FLAME_OUT_CONST (64u * 1024)
#define FLAME_OUT_MULT 1024u

/* Inputs this small are also read the other way round, and compared. */
#define FLAME_CROSS_MAX 4096

#define MAX_ATTRS 32

/*
 * The checks that walk every byte of the SVG (about 8 KiB of it is the
 * constant script) are left out of the coverage instrumentation: their
 * comparisons traced per byte took most of the time of a run, and their
 * branches say little about the code under test.  ASan still checks them.
 * Not inlined: inlined into an instrumented caller, they would be
 * instrumented there.
 */
#if defined(__clang__) && __clang_major__ >= 13
#define NO_COV __attribute__((no_sanitize("coverage"), noinline))
#else
#define NO_COV
#endif

static const char *const palettes[16] = {
	"hot", "mem", "io", "wakeup", "java", "js", "perl", "red", "green",
	"blue", "aqua", "yellow", "purple", "orange", "kind", "hot"
};

struct input {
	struct pd_flame_opts o;
	int use_read;
	char *str[7];			/* the string block's fields, or NULL */
	const uint8_t *text;		/* the folded text */
	size_t text_len;
};

/* ---------------------------------------------------------------- */
/* Options from the first bytes. */

/* Decode the option bytes; 0 when the input is too short to have them. */
static int
parse_input(const uint8_t *data, size_t size, struct input *in)
{
	static const double mw_px[4] = { 0.1, 0, 1, 50 };
	static const double mw_pct[4] = { 0.1, 0, 1, 100 };
	static const uint64_t totals[4] = { 0, 1, 1000, UINT64_MAX };
	static const char *const bgs[4] = { NULL, "blue", "grey", "#A0b1C2" };
	static const double factors[4] = { 1, 0.001, 1e18, 2.5 };
	struct pd_flame_opts *o = &in->o;
	size_t pos = 3;
	uint8_t f0, f1, f2;

	memset(in, 0, sizeof(*in));
	if (size < 3)
		return 0;
	f0 = data[0];
	f1 = data[1];
	f2 = data[2];
	pd_flame_opts_init(o);
	o->reverse = !!(f0 & 1);
	o->inverted = !!(f0 & 2);
	o->flamechart = !!(f0 & 4);
	o->negate = !!(f0 & 8);
	o->hash = !!(f0 & 16);
	in->use_read = !!(f0 & 32);
	o->minwidth_pct = !!(f0 & 64);
	o->colors = palettes[f1 & 15];
	if (!pd_flame_palette_ok(o->colors))
		fuzz_fail("palette '%s' refused", o->colors);
	o->minwidth = o->minwidth_pct ? mw_pct[(f1 >> 4) & 3] : mw_px[(f1 >> 4) & 3];
	/* Geometry within what pdflame's options accept (width > 20, ...). */
	switch (f1 >> 6) {
	case 1: o->width = 21; o->height = 1; o->fontsize = 0.01; break;
	case 2: o->width = 1000000; o->height = 10000; o->fontsize = 1000; break;
	case 3: o->width = 300; o->height = 7; o->fontsize = 3.5; break;
	default: break;
	}
	o->total = totals[f2 & 3];
	o->bgcolors = bgs[(f2 >> 2) & 3];
	if (o->bgcolors && !pd_flame_bgcolor_ok(o->bgcolors))
		fuzz_fail("bgcolors '%s' refused", o->bgcolors);
	o->factor = factors[(f2 >> 4) & 3];
	if (f0 & 128) {
		size_t len, start, k = 0;

		if (size < 4)
			return 0;
		len = data[3];
		pos = 4;
		if (len > size - pos)
			len = size - pos;
		start = pos;
		for (size_t i = pos; i <= pos + len && k < 7; i++) {
			if (i < pos + len && data[i] != '\n')
				continue;
			/* strndup stops at a NUL: a C string option is cut there too. */
			if (!(in->str[k++] = strndup((const char *)data + start, i - start)))
				abort();
			start = i + 1;
		}
		pos += len;
		if (in->str[0])
			o->title = in->str[0];
		if (in->str[1])
			o->subtitle = in->str[1];
		if (in->str[2])
			o->countname = in->str[2];
		if (in->str[3])
			o->nametype = in->str[3];
		if (in->str[4])
			o->fonttype = in->str[4];
		if (in->str[5])
			o->notes = in->str[5];
	}
	/* The palette file is the 7th field; without bit 6 it is not read. */
	if (!(f2 & 64) && in->str[6]) {
		free(in->str[6]);
		in->str[6] = NULL;
	}
	in->text = data + pos;
	in->text_len = size - pos;
	return 1;
}

static void
input_free(struct input *in)
{
	for (int i = 0; i < 7; i++)
		free(in->str[i]);
}

/* ---------------------------------------------------------------- */
/* One run: read, write into memory. */

struct run {
	int rc_read, rc_write;
	uint64_t lines_fed;
	struct pd_flame_stats st;
	char unit[300];			/* pd_flame_count_unit */
	char *svg;
	size_t svg_len;
};

/*
 * Feed the text line by line, each line in a buffer of its exact length
 * (so that ASan sees a read past its end), or all at once through a FILE.
 * Returns the reader's status; *NLINES is the number of lines fed.
 */
static int
feed(struct pd_flame *f, const struct input *in, int use_read, uint64_t *nlines)
{
	const char *s = (const char *)in->text;
	size_t n = in->text_len, start = 0;
	int rc = PD_OK;

	*nlines = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n')
			++*nlines;
	/* The last line counts without its newline. */
	if (n && s[n - 1] != '\n')
		++*nlines;
	if (use_read) {
		char *copy;
		FILE *fp;

		if (!n)
			return PD_OK;
		if (!(copy = malloc(n)))
			abort();
		memcpy(copy, s, n);
		if (!(fp = fmemopen(copy, n, "r")))
			abort();
		rc = pd_flame_read(f, fp);
		fclose(fp);
		free(copy);
		return rc;
	}
	for (size_t i = 0; i <= n && rc == PD_OK; i++) {
		char *line;
		size_t len;

		if (i < n && s[i] != '\n')
			continue;
		if (i == n && start == n)
			break;
		len = i - start;
		if (!(line = malloc(len ? len : 1)))
			abort();
		memcpy(line, s + start, len);
		rc = pd_flame_add_line(f, line, len);
		free(line);
		start = i + 1;
	}
	return rc;
}

static void
run_once(const struct input *in, int use_read, struct run *r)
{
	struct pd_flame *f = pd_flame_new(&in->o);
	FILE *mem;

	memset(r, 0, sizeof(*r));
	if (!f)
		abort();
	r->rc_read = feed(f, in, use_read, &r->lines_fed);
	/* fmemopen may refuse an empty buffer; an empty file changes nothing. */
	if (in->str[6] && in->str[6][0]) {
		FILE *pal = fmemopen(in->str[6], strlen(in->str[6]), "r");
		int rc;

		if (!pal)
			abort();
		rc = pd_flame_palette_read(f, pal);
		fclose(pal);
		if (rc != PD_OK && rc != PD_E_NOMEM)
			fuzz_fail("pd_flame_palette_read: %d", rc);
	}
	if (!(mem = open_memstream(&r->svg, &r->svg_len)))
		abort();
	r->rc_write = r->rc_read == PD_OK ? pd_flame_write(f, mem) : r->rc_read;
	if (fclose(mem))
		abort();
	r->st = *pd_flame_stats(f);
	snprintf(r->unit, sizeof(r->unit), "%s", pd_flame_count_unit(f));
	if (in->str[6] && r->rc_write == PD_OK) {
		char *pbuf = NULL;
		size_t plen = 0;

		if (!(mem = open_memstream(&pbuf, &plen)))
			abort();
		if (pd_flame_palette_write(f, mem) != PD_OK)
			fuzz_fail("pd_flame_palette_write failed");
		fclose(mem);
		free(pbuf);
	}
	pd_flame_free(f);
}

/* ---------------------------------------------------------------- */
/* UTF-8 and XML Chars. */

static NO_COV int
xml_char(uint32_t c)
{
	return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) ||
	    (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

static NO_COV void
check_utf8(const char *buf, size_t n)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		uint32_t cp, min;
		size_t need;

		if (c < 0x80) {
			need = 0;
			cp = c;
			min = 0;
		} else if ((c & 0xe0) == 0xc0) {
			need = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			fuzz_fail("byte 0x%02x at offset %zu starts no UTF-8 sequence", c, i);
		}
		if (n - i <= need)
			fuzz_fail("UTF-8 sequence cut by the end at offset %zu", i);
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				fuzz_fail("bad UTF-8 continuation at offset %zu", i + k);
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min)
			fuzz_fail("overlong UTF-8 at offset %zu", i);
		if (!xml_char(cp))
			fuzz_fail("U+%04X at offset %zu is not an XML Char", (unsigned)cp, i);
		/* Legal but discouraged; lib/flame.c replaces them with U+FFFD. */
		if (cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
			fuzz_fail("control U+%04X at offset %zu", (unsigned)cp, i);
		i += need + 1;
	}
}

/* ---------------------------------------------------------------- */
/* A small strict XML well-formedness checker, with a hook on start tags. */

struct attr {
	const char *name, *val;		/* val: raw, between the quotes */
	size_t nlen, vlen;
};

struct frame {
	uint64_t o, w, s, m, b, sb;
	uint64_t next;			/* where the next child must start */
	uint64_t child_b;		/* sum of the children's b */
	int om, has_m, om_child;
};

/* What the frame checks gather while the XML is read. */
struct svg_ctx {
	const struct input *in;
	const struct run *r;
	const char *buf;
	size_t frames_depth;		/* XML depth of <g id="frames">, 0: none yet */
	int frames_seen, frames_closed, omitted_text;
	uint64_t omitted_note;		/* the N of <text id="omitted"> */
	uint64_t nr_g, nr_om, nr_m, sum_m, sum_om_n, nr_root;
	double minw, wpt;
	struct frame *stk;		/* by frame depth */
	size_t sp, alloc;
};

static NO_COV int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* ASCII names only: pdflame writes no other, and this is stricter. */
static NO_COV int
name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static NO_COV int
name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static NO_COV size_t
name_len(const char *s, size_t n)
{
	size_t i = 0;

	if (!n || !name_start(s[0]))
		return 0;
	while (i < n && name_char(s[i]))
		i++;
	return i;
}

static NO_COV int
starts(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && !memcmp(s, lit, l);
}

/* The offset of LIT in S[0..N), or N when there is none. */
static NO_COV size_t
find(const char *s, size_t n, const char *lit)
{
	const char *p = memmem(s, n, lit, strlen(lit));

	return p ? (size_t)(p - s) : n;
}

/*
 * The length of the reference at S ("&..."): one of the five predefined
 * entities or a character reference to an XML Char; 0 when it is none.
 */
static NO_COV size_t
ref_len(const char *s, size_t n)
{
	static const char *const ents[] = { "amp;", "lt;", "gt;", "quot;", "apos;" };
	size_t i = 2, digits = 0;
	uint32_t v = 0;
	int hex = 0;

	if (n >= 2 && s[1] == '#') {
		if (i < n && s[i] == 'x') {
			hex = 1;
			i++;
		}
		for (; i < n; i++, digits++) {
			char c = s[i];
			unsigned d;

			if (c >= '0' && c <= '9')
				d = (unsigned)(c - '0');
			else if (hex && c >= 'a' && c <= 'f')
				d = (unsigned)(c - 'a' + 10);
			else if (hex && c >= 'A' && c <= 'F')
				d = (unsigned)(c - 'A' + 10);
			else
				break;
			v = v * (hex ? 16 : 10) + d;
			if (v > 0x10ffff)
				return 0;
		}
		if (!digits || i >= n || s[i] != ';' || !xml_char(v))
			return 0;
		return i + 1;
	}
	for (size_t k = 0; k < sizeof(ents) / sizeof(ents[0]); k++)
		if (starts(s + 1, n - 1, ents[k]))
			return 1 + strlen(ents[k]);
	return 0;
}

static const struct attr *
get_attr(const struct attr *a, size_t na, const char *name)
{
	for (size_t i = 0; i < na; i++)
		if (a[i].nlen == strlen(name) && !memcmp(a[i].name, name, a[i].nlen))
			return &a[i];
	return NULL;
}

static int
attr_is(const struct attr *a, size_t na, const char *name, const char *val)
{
	const struct attr *x = get_attr(a, na, name);

	return x && x->vlen == strlen(val) && !memcmp(x->val, val, x->vlen);
}

/* A decimal attribute: 1 and *V when present, 0 when absent; bad: fail. */
static int
num_attr(const struct attr *a, size_t na, const char *name, uint64_t *v)
{
	const struct attr *x = get_attr(a, na, name);
	uint64_t r = 0;

	*v = 0;
	if (!x)
		return 0;
	if (!x->vlen || x->vlen > 20)
		fuzz_fail("frame attribute %s='%.*s' is no number", name, (int)x->vlen, x->val);
	for (size_t i = 0; i < x->vlen; i++) {
		char c = x->val[i];

		if (c < '0' || c > '9' || __builtin_mul_overflow(r, 10, &r) ||
		    __builtin_add_overflow(r, (uint64_t)(c - '0'), &r))
			fuzz_fail("frame attribute %s='%.*s' is no number", name, (int)x->vlen, x->val);
	}
	*v = r;
	return 1;
}

/* A decimal number right at P, as the "N frames omitted" texts start. */
static uint64_t
lead_num(const char *p, size_t n, const char *what)
{
	uint64_t v = 0;
	size_t i = 0;

	while (i < n && p[i] >= '0' && p[i] <= '9') {
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(p[i] - '0'), &v))
			fuzz_fail("%s: number too large", what);
		i++;
	}
	if (!i || !starts(p + i, n - i, " frames omitted ("))
		fuzz_fail("%s does not start 'N frames omitted ('", what);
	return v;
}

/* Room for one more frame on the stack. */
static void
stk_push(struct svg_ctx *c, const struct frame *e)
{
	if (c->sp == c->alloc) {
		c->alloc = c->alloc ? 2 * c->alloc : 64;
		if (!(c->stk = realloc(c->stk, c->alloc * sizeof(*c->stk))))
			abort();
	}
	c->stk[c->sp++] = *e;
}

/* All children of the frame on top of the stack are seen: check its sums. */
static void
frame_done(struct svg_ctx *c)
{
	const struct frame *e = &c->stk[--c->sp];
	uint64_t children = e->next - e->o, s;

	if (e->om)
		return;
	/* Self + drawn + "omitted" elements: all of it, unless m= counts some. */
	if (__builtin_add_overflow(e->s, children, &s) || s > e->w || (!e->has_m && s != e->w))
		fuzz_fail("frame at %llu, %llu wide: self %llu + children %llu%s",
		    (unsigned long long)e->o, (unsigned long long)e->w, (unsigned long long)e->s,
		    (unsigned long long)children, e->has_m ? " (m= set)" : "");
	/* The first counts: "omitted" elements carry none, so only <= then. */
	if (c->r->st.diff && (__builtin_add_overflow(e->sb, e->child_b, &s) || s > e->b ||
	    (!e->has_m && !e->om_child && s != e->b)))
		fuzz_fail("frame at %llu: first counts self %llu + children %llu vs %llu",
		    (unsigned long long)e->o, (unsigned long long)e->sb,
		    (unsigned long long)e->child_b, (unsigned long long)e->b);
}

/* A <g> frame element: its tag's attributes, and the offset after the tag. */
static void
frame_tag(struct svg_ctx *c, const struct attr *a, size_t na, size_t end)
{
	const struct pd_flame_stats *st = &c->r->st;
	struct frame e = { 0 };
	uint64_t d;
	const char *rest = c->buf + end;
	size_t left = c->r->svg_len - end;

	if (!num_attr(a, na, "o", &e.o) || !num_attr(a, na, "w", &e.w) || !num_attr(a, na, "d", &d))
		fuzz_fail("frame without o=, w= or d=");
	num_attr(a, na, "s", &e.s);
	e.has_m = num_attr(a, na, "m", &e.m);
	e.om = attr_is(a, na, "class", "om");
	if (get_attr(a, na, "class") && !e.om)
		fuzz_fail("frame class other than om");
	if (num_attr(a, na, "b", &e.b) != (st->diff && !e.om))
		fuzz_fail("b= %s a frame of a %sdifferential graph", e.om || !st->diff ? "on" : "missing on",
		    st->diff ? "" : "non-");
	num_attr(a, na, "sb", &e.sb);
	if (e.om && (e.s || e.has_m || get_attr(a, na, "sb")))
		fuzz_fail("an omitted-frames element with s=, m= or sb=");
	if ((get_attr(a, na, "s") && !e.s) || (e.has_m && !e.m) || (get_attr(a, na, "sb") && !e.sb))
		fuzz_fail("s=, m= or sb= written as 0");
	if (e.s > e.w || e.sb > e.b)
		fuzz_fail("self wider than the frame");
	e.next = e.o;
	c->nr_g++;
	if (e.has_m) {
		c->nr_m++;
		c->sum_m += e.m;
	}

	if (c->nr_g == 1) {
		if (d || e.o || e.om)
			fuzz_fail("the first frame is not the root");
		if (e.w != st->total)
			fuzz_fail("root frame %llu wide, total %llu", (unsigned long long)e.w,
			    (unsigned long long)st->total);
		if (st->diff && e.b != st->total_old)
			fuzz_fail("root frame's first counts %llu, total_old %llu", (unsigned long long)e.b,
			    (unsigned long long)st->total_old);
		if (!starts(rest, left, "<title>all</title>"))
			fuzz_fail("the root frame is not titled 'all'");
		stk_push(c, &e);
		return;
	}
	if (d == 0)
		fuzz_fail("a second frame at depth 0");
	while (c->sp > d)
		frame_done(c);
	if (c->sp != d)
		fuzz_fail("frame at depth %llu after one at depth %zu", (unsigned long long)d, c->sp - 1);
	{
		struct frame *p = &c->stk[c->sp - 1];

		if (p->om)
			fuzz_fail("a frame inside an omitted-frames element");
		if (e.o != p->next)
			fuzz_fail("frame at %llu, expected at %llu after its previous sibling",
			    (unsigned long long)e.o, (unsigned long long)p->next);
		if (__builtin_add_overflow(p->next, e.w, &p->next) || p->next > p->o + p->w)
			fuzz_fail("frame at %llu, %llu wide, overflows its parent (%llu at %llu)",
			    (unsigned long long)e.o, (unsigned long long)e.w,
			    (unsigned long long)p->w, (unsigned long long)p->o);
		p->child_b += e.b;
		if (e.om)
			p->om_child = 1;
	}
	/* Drawn means not empty and at least minwidth (a little slack for rounding). */
	if (!e.w || (double)e.w < c->minw * (1 - 1e-9))
		fuzz_fail("frame %llu wide drawn, minwidth %g counts", (unsigned long long)e.w, c->minw);
	if (e.om) {
		if ((double)e.w * c->wpt < 1 - 1e-9)
			fuzz_fail("omitted-frames element narrower than 1 px");
		c->nr_om++;
		if (!starts(rest, left, "<title>"))
			fuzz_fail("omitted-frames element without a title");
		c->sum_om_n += lead_num(rest + 7, left - 7, "omitted-frames title");
	}
	stk_push(c, &e);
}

/* A start tag at XML depth DEPTH (the root at 0); END: the offset after it. */
static void
on_start(struct svg_ctx *c, const char *name, size_t nlen, const struct attr *a, size_t na,
    size_t depth, size_t end, int empty)
{
	int is_g = nlen == 1 && name[0] == 'g';

	if (depth == 0) {
		if (nlen != 3 || memcmp(name, "svg", 3))
			fuzz_fail("root element '%.*s'", (int)nlen, name);
		if (!attr_is(a, na, "xmlns", "http://www.w3.org/2000/svg"))
			fuzz_fail("svg without the SVG namespace");
		return;
	}
	if (c->frames_depth && !c->frames_closed && depth == c->frames_depth + 1) {
		if (!is_g || empty)
			fuzz_fail("'%.*s' among the frames", (int)nlen, name);
		frame_tag(c, a, na, end);
		return;
	}
	if (nlen == 4 && !memcmp(name, "text", 4) && attr_is(a, na, "id", "omitted")) {
		/* It comes before the frames: compared with their m= at the end. */
		c->omitted_note = lead_num(c->buf + end, c->r->svg_len - end, "omitted text");
		c->omitted_text++;
	}
	if (is_g && attr_is(a, na, "id", "frames")) {
		const struct pd_flame_opts *o = &c->in->o;
		const struct attr *tt = get_attr(a, na, "tt");
		double want = (double)(o->total > c->r->st.total ? o->total : c->r->st.total);
		char tmp[64];

		if (c->frames_seen++)
			fuzz_fail("two frames elements");
		c->frames_depth = depth;
		if (!tt || tt->vlen >= sizeof(tmp))
			fuzz_fail("frames without tt=");
		memcpy(tmp, tt->val, tt->vlen);
		tmp[tt->vlen] = '\0';
		/* %.17g round-trips a double exactly. */
		if (strtod(tmp, NULL) != want)
			fuzz_fail("tt='%s', total %.17g", tmp, want);
		if (attr_is(a, na, "df", "1") != c->r->st.diff || !!get_attr(a, na, "df") != c->r->st.diff)
			fuzz_fail("df= does not say whether the graph is differential");
		if (attr_is(a, na, "ng", "1") != !!o->negate || !!get_attr(a, na, "ng") != !!o->negate)
			fuzz_fail("ng= does not say whether --negate was given");
	}
}

static void
on_end(struct svg_ctx *c, size_t depth)
{
	if (c->frames_depth && !c->frames_closed && depth == c->frames_depth) {
		while (c->sp)
			frame_done(c);
		c->frames_closed = 1;
	}
}

/* Check S[0..N) is well-formed XML, calling on_start/on_end. */
static NO_COV void
check_xml(struct svg_ctx *c, const char *s, size_t n)
{
	struct { const char *name; size_t len; } *stack = NULL;
	size_t depth = 0, alloc = 0, i = 0, k;
	int root_done = 0, root_seen = 0;

	/* The XML declaration: only at the very start. */
	if (starts(s, n, "<?xml") && n > 5 && is_ws(s[5])) {
		if ((k = find(s, n, "?>")) == n)
			fuzz_fail("unterminated XML declaration");
		i = k + 2;
	}
	while (i < n) {
		char ch = s[i];

		if (ch == '&') {
			if (!depth)
				fuzz_fail("reference outside the root at offset %zu", i);
			if (!(k = ref_len(s + i, n - i)))
				fuzz_fail("bad reference '%.12s' at offset %zu", s + i, i);
			i += k;
			continue;
		}
		if (ch != '<') {
			if (!depth && !is_ws(ch))
				fuzz_fail("text outside the root at offset %zu", i);
			if (starts(s + i, n - i, "]]>"))
				fuzz_fail("']]>' in text at offset %zu", i);
			i++;
			continue;
		}
		if (starts(s + i, n - i, "<!--")) {
			/* No "--" inside, so none at the end but the closing one. */
			k = find(s + i + 4, n - i - 4, "--");
			if (i + 4 + k == n || !starts(s + i + 4 + k, n - i - 4 - k, "-->"))
				fuzz_fail("bad comment at offset %zu", i);
			i += 4 + k + 3;
			continue;
		}
		if (starts(s + i, n - i, "<![CDATA[")) {
			if (!depth)
				fuzz_fail("CDATA outside the root at offset %zu", i);
			if ((k = find(s + i + 9, n - i - 9, "]]>")) == n - i - 9)
				fuzz_fail("unterminated CDATA at offset %zu", i);
			i += 9 + k + 3;
			continue;
		}
		if (starts(s + i, n - i, "<?")) {
			size_t nl = name_len(s + i + 2, n - i - 2);

			if (!nl || (nl == 3 && !strncasecmp(s + i + 2, "xml", 3)))
				fuzz_fail("bad processing instruction at offset %zu", i);
			k = i + 2 + nl;
			if (k < n && !is_ws(s[k]) && !starts(s + k, n - k, "?>"))
				fuzz_fail("bad processing instruction at offset %zu", i);
			if ((k = find(s + i, n - i, "?>")) == n - i)
				fuzz_fail("unterminated processing instruction at offset %zu", i);
			i += k + 2;
			continue;
		}
		if (starts(s + i, n - i, "<!DOCTYPE")) {
			/* A simple one only: no internal subset. */
			if (root_seen)
				fuzz_fail("DOCTYPE after the root at offset %zu", i);
			for (k = i + 9; k < n && s[k] != '>'; k++)
				if (s[k] == '<' || s[k] == '[')
					fuzz_fail("DOCTYPE with an internal subset at offset %zu", i);
			if (k == n)
				fuzz_fail("unterminated DOCTYPE at offset %zu", i);
			i = k + 1;
			continue;
		}
		if (starts(s + i, n - i, "</")) {
			size_t nl = name_len(s + i + 2, n - i - 2);

			if (!depth || nl != stack[depth - 1].len || memcmp(s + i + 2, stack[depth - 1].name, nl))
				fuzz_fail("end tag '%.*s' does not match at offset %zu", (int)nl, s + i + 2, i);
			for (k = i + 2 + nl; k < n && is_ws(s[k]); k++)
				;
			if (k == n || s[k] != '>')
				fuzz_fail("bad end tag at offset %zu", i);
			i = k + 1;
			on_end(c, --depth);
			if (!depth)
				root_done = 1;
			continue;
		}
		{
			/* A start tag. */
			struct attr a[MAX_ATTRS];
			size_t na = 0, nl = name_len(s + i + 1, n - i - 1), tag = i;
			const char *name = s + i + 1;
			int empty;

			if (!nl)
				fuzz_fail("'<' not starting markup at offset %zu", i);
			if (!depth && root_done)
				fuzz_fail("a second root element at offset %zu", i);
			root_seen = 1;
			i += 1 + nl;
			for (;;) {
				size_t ws = i, al;
				char q;

				while (i < n && is_ws(s[i]))
					i++;
				if (i < n && s[i] == '>') {
					empty = 0;
					i++;
					break;
				}
				if (i + 1 < n && s[i] == '/' && s[i + 1] == '>') {
					empty = 1;
					i += 2;
					break;
				}
				if (i == ws || !(al = name_len(s + i, n - i)))
					fuzz_fail("bad attribute in the tag at offset %zu", tag);
				if (na == MAX_ATTRS)
					fuzz_fail("more than %d attributes at offset %zu", MAX_ATTRS, tag);
				a[na].name = s + i;
				a[na].nlen = al;
				for (size_t j = 0; j < na; j++)
					if (a[j].nlen == al && !memcmp(a[j].name, s + i, al))
						fuzz_fail("attribute '%.*s' twice at offset %zu", (int)al, s + i, tag);
				i += al;
				while (i < n && is_ws(s[i]))
					i++;
				if (i == n || s[i] != '=')
					fuzz_fail("attribute without '=' at offset %zu", tag);
				for (i++; i < n && is_ws(s[i]); i++)
					;
				if (i == n || (s[i] != '"' && s[i] != '\''))
					fuzz_fail("unquoted attribute value at offset %zu", tag);
				q = s[i++];
				a[na].val = s + i;
				while (i < n && s[i] != q) {
					if (s[i] == '<')
						fuzz_fail("'<' in an attribute value at offset %zu", i);
					if (s[i] == '&') {
						if (!(k = ref_len(s + i, n - i)))
							fuzz_fail("bad reference in an attribute at offset %zu", i);
						i += k;
					} else {
						i++;
					}
				}
				if (i == n)
					fuzz_fail("unterminated attribute value at offset %zu", tag);
				a[na].vlen = (size_t)(s + i - a[na].val);
				na++;
				i++;
			}
			on_start(c, name, nl, a, na, depth, i, empty);
			if (empty) {
				on_end(c, depth);
				if (!depth)
					root_done = 1;
				continue;
			}
			if (depth == alloc) {
				alloc = alloc ? 2 * alloc : 16;
				if (!(stack = realloc(stack, alloc * sizeof(*stack))))
					abort();
			}
			stack[depth].name = name;
			stack[depth].len = nl;
			depth++;
		}
	}
	if (depth || !root_done)
		fuzz_fail("the document ends inside, or without, its root element");
	free(stack);
}

/* ---------------------------------------------------------------- */
/* The checks of one run. */

static void
check_stats(const struct run *r)
{
	const struct pd_flame_stats *st = &r->st;

	/* Counts that would add up past 2^64-1: an error at a line that was read. */
	if (r->rc_read == PD_E_LIMIT && (st->limit_line < 1 || st->limit_line != st->lines ||
	    st->limit_line > r->lines_fed))
		fuzz_fail("a sum past 2^64-1 at line %llu of %llu read, %llu fed",
		    (unsigned long long)st->limit_line, (unsigned long long)st->lines,
		    (unsigned long long)r->lines_fed);
	if (r->rc_read != PD_OK && r->rc_read != PD_E_NOMEM && r->rc_read != PD_E_LIMIT)
		fuzz_fail("reading returned %d", r->rc_read);
	if (r->rc_read != PD_OK)
		return;
	if (st->lines != r->lines_fed)
		fuzz_fail("%llu lines fed, %llu counted", (unsigned long long)r->lines_fed,
		    (unsigned long long)st->lines);
	if (st->lines != st->stacks + st->comments + st->blank + st->bad)
		fuzz_fail("%llu lines != %llu stacks + %llu comments + %llu blank + %llu bad",
		    (unsigned long long)st->lines, (unsigned long long)st->stacks,
		    (unsigned long long)st->comments, (unsigned long long)st->blank,
		    (unsigned long long)st->bad);
	if (st->nr_bad_line != (st->bad < PD_FLAME_BAD_KEEP ? st->bad : PD_FLAME_BAD_KEEP))
		fuzz_fail("%zu bad line numbers kept of %llu", st->nr_bad_line, (unsigned long long)st->bad);
	for (size_t i = 0; i < st->nr_bad_line; i++)
		if (st->bad_line[i] < 1 || st->bad_line[i] > st->lines ||
		    (i && st->bad_line[i] <= st->bad_line[i - 1]))
			fuzz_fail("bad line number %llu", (unsigned long long)st->bad_line[i]);
	if (!st->diff && st->total_old)
		fuzz_fail("total_old %llu without a differential", (unsigned long long)st->total_old);
	if (!st->stacks && (st->total || st->total_old || st->diff))
		fuzz_fail("counts without stacks");
	if (st->metas > 1 || st->metas > st->comments)
		fuzz_fail("%llu metadata lines of one input, %llu comments", (unsigned long long)st->metas,
		    (unsigned long long)st->comments);
	if (!memchr(st->meta.event, '\0', sizeof(st->meta.event)))
		fuzz_fail("the metadata event is not a C string");
	if (strcmp(r->unit, st->metas && st->meta.weight == PD_WEIGHT_PERIOD ?
	    pd_period_unit(st->meta.event) : "samples"))
		fuzz_fail("count unit '%s' for metas %llu weight %d event '%s'", r->unit,
		    (unsigned long long)st->metas, st->meta.weight, st->meta.event);
	if (!st->metas && (st->meta.weight || st->meta.event[0]))
		fuzz_fail("metadata without a metadata line");
}

static void
check_svg(const struct input *in, const struct run *r, size_t in_size)
{
	const struct pd_flame_stats *st = &r->st;
	const struct pd_flame_opts *o = &in->o;
	struct svg_ctx c = { 0 };
	double timemax;

	if (r->rc_read != PD_OK)
		return;
	if (r->rc_write == PD_E_NOMEM)
		return;
	if (r->svg_len > FLAME_OUT_CONST + (uint64_t)FLAME_OUT_MULT * in_size)
		fuzz_fail("%zu bytes of SVG from %zu bytes of input", r->svg_len, in_size);
	check_utf8(r->svg, r->svg_len);
	c.in = in;
	c.r = r;
	c.buf = r->svg;
	/* minwidth in counts and px per count, computed as pd_flame_write does. */
	timemax = (double)(o->total > st->total ? o->total : st->total);
	c.wpt = (o->width - 2.0 * 10) / timemax;
	c.minw = o->minwidth_pct ? timemax * o->minwidth / 100 : o->minwidth / c.wpt;
	check_xml(&c, r->svg, r->svg_len);
	free(c.stk);

	if (!st->total && !o->total) {
		if (r->rc_write != PD_END)
			fuzz_fail("no counts, yet pd_flame_write returned %d", r->rc_write);
		if (c.frames_seen || !memmem(r->svg, r->svg_len, "ERROR: No valid input", 21))
			fuzz_fail("no counts, and no error SVG");
		return;
	}
	if (r->rc_write != PD_OK)
		fuzz_fail("pd_flame_write returned %d", r->rc_write);
	if (!c.frames_closed || !c.nr_g)
		fuzz_fail("no frames");
	if (st->drawn + st->omitted != st->frames)
		fuzz_fail("%llu frames, %llu drawn + %llu omitted", (unsigned long long)st->frames,
		    (unsigned long long)st->drawn, (unsigned long long)st->omitted);
	if (c.nr_g != 1 + st->drawn + st->omitted_elems)
		fuzz_fail("%llu frame elements, stats say 1 + %llu drawn + %llu omitted elements",
		    (unsigned long long)c.nr_g, (unsigned long long)st->drawn,
		    (unsigned long long)st->omitted_elems);
	if (c.nr_om != st->omitted_elems || c.nr_m != st->omitted_inline)
		fuzz_fail("%llu omitted elements and %llu m=, stats say %llu and %llu",
		    (unsigned long long)c.nr_om, (unsigned long long)c.nr_m,
		    (unsigned long long)st->omitted_elems, (unsigned long long)st->omitted_inline);
	if (c.sum_m + c.sum_om_n != st->omitted)
		fuzz_fail("%llu frames omitted on tooltips + %llu in elements, stats say %llu",
		    (unsigned long long)c.sum_m, (unsigned long long)c.sum_om_n,
		    (unsigned long long)st->omitted);
	if (c.omitted_text != !!st->omitted_inline)
		fuzz_fail("the omitted-frames note is %s", c.omitted_text ? "there" : "missing");
	if (c.omitted_text && c.omitted_note != c.sum_m)
		fuzz_fail("the note counts %llu frames omitted, the tooltips %llu",
		    (unsigned long long)c.omitted_note, (unsigned long long)c.sum_m);
	if (st->total_ignored != (o->total && o->total < st->total))
		fuzz_fail("total_ignored %d, --total %llu, sum %llu", st->total_ignored,
		    (unsigned long long)o->total, (unsigned long long)st->total);
}

/* The other reading path must give the same everything. */
static void
check_same(const struct run *a, const struct run *b)
{
	const struct pd_flame_stats *x = &a->st, *y = &b->st;

	if (a->rc_read != b->rc_read || a->rc_write != b->rc_write)
		fuzz_fail("lines: %d/%d, FILE: %d/%d", a->rc_read, a->rc_write, b->rc_read, b->rc_write);
	if (x->lines != y->lines || x->stacks != y->stacks || x->comments != y->comments ||
	    x->blank != y->blank || x->bad != y->bad || x->nr_bad_line != y->nr_bad_line ||
	    memcmp(x->bad_line, y->bad_line, sizeof(x->bad_line)) || x->total != y->total ||
	    x->total_old != y->total_old || x->diff != y->diff || x->frames != y->frames ||
	    x->drawn != y->drawn || x->omitted != y->omitted || x->omitted_elems != y->omitted_elems ||
	    x->omitted_inline != y->omitted_inline || x->total_ignored != y->total_ignored ||
	    x->metas != y->metas || x->meta.weight != y->meta.weight ||
	    strcmp(x->meta.event, y->meta.event) || strcmp(a->unit, b->unit))
		fuzz_fail("stats differ between reading line by line and from a FILE");
	if (a->svg_len != b->svg_len || memcmp(a->svg, b->svg, a->svg_len))
		fuzz_fail("SVG differs between reading line by line (%zu bytes) and from a FILE (%zu)",
		    a->svg_len, b->svg_len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;
	struct run a;

	if (!parse_input(data, size, &in)) {
		input_free(&in);
		return 0;
	}
	run_once(&in, in.use_read, &a);
	check_stats(&a);
	check_svg(&in, &a, size);
	if (size <= FLAME_CROSS_MAX && a.rc_read == PD_OK) {
		struct run b;

		run_once(&in, !in.use_read, &b);
		if (in.use_read)
			check_same(&b, &a);
		else
			check_same(&a, &b);
		free(b.svg);
	}
	free(a.svg);
	input_free(&in);
	return 0;
}
