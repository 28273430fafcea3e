/*
 * json.c - fuzz target for the JSON writer and its string escaping
 * (lib/json.c: pd_json_* and pd_json_quote).
 *
 * The input is a little program of writer calls.  Its first byte holds
 * flags (bit 0: leave open containers open at the end; bit 1: end with
 * pd_json_newline); then each op is one byte, the op in the low 4 bits
 * (enum op), followed by its operands:
 *
 *   string   a LEB128 length (at most 3 bytes), then that many raw bytes
 *            (cut short by the end of the input); any bytes, NUL included
 *   number   8 bytes, little-endian (missing bytes are 0)
 *   bool     1 byte
 *   ratio    num, den (numbers), then a decimals byte (0..255)
 *
 * An op byte of 0xf0..0xff is "raw": the call is made as it is, even where
 * it breaks the nesting.  Any other op is repaired first, so that most
 * programs stay well-formed and reach deep: a value in an object gets a key
 * (""), a second top-level value a newline before it, a key or an end after
 * a pending key gives that key a null, an end closes whatever is open, and
 * ops that cannot be repaired (a key outside an object, an end or newline
 * at the wrong depth, a begin past MAX_DEPTH) are skipped.  Unless flag
 * bit 0 is set, what is still open at the end is closed.
 *
 * Next to the writer, the harness keeps a model of pd.h's rules (values in
 * objects need a key, keys only in objects, ends must match, a newline only
 * at the top, one value per top-level line, sticky errors) and the values
 * it expects.  Invariants:
 *
 *   - pd_json_finish returns what the model predicts: PD_OK for a balanced
 *     sequence with keys in the right places, else PD_E_USAGE; twice the
 *     same; after an error nothing more is written;
 *   - the output is at most 8 bytes per input byte (see OUT_MULT);
 *   - on PD_OK the output is valid UTF-8 and parses, with nothing left over,
 *     as NDJSON under a strict RFC 8259 parser written here, and the parse
 *     equals the model value for value: containers, keys and strings are
 *     the input with every byte outside a valid UTF-8 sequence (and NUL)
 *     replaced by U+FFFD (sanitise(), written from the Unicode tables, not
 *     from lib/json.c); integers exact; hex strings "0x" in lower case
 *     without leading zeros; ratios rounded half up, checked in 128 bits;
 *   - pd_json_quote on a raw slice is one JSON string, at most 2 + 6 bytes
 *     per input byte, that decodes to the sanitised slice.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Nesting the harness builds: enough for every path, cheap to model. */
#define MAX_DEPTH 64
/* The parser's own limit, above MAX_DEPTH so that depth is never why it fails. */
#define PARSE_DEPTH (2 * MAX_DEPTH)

/*
 * The bound on the writer's output, per input byte.  Every op pays for
 * what it writes out of the bytes it consumes (at least 1, its op byte):
 * the separator and synthetic key a repair adds (',' '"' '"' ':' = 4) plus
 * the value: null 4, false 5, a begin 1 and its end 1, an empty string 2,
 * all from a 1-byte op (<= 9 bytes for the bool's 2); a number at most
 * 20 digits and a sign from 9 bytes, a hex string 20 from 9, a ratio 31
 * from 18, fewer digits when the operand is cut short; a string of n > 0
 * bytes, from 2 + n bytes, at most 2 + 6n (the longest escape, \ufffd or
 * \u001f, is 6 bytes for one byte).  A key pays for its ',' '"' '"' ':'
 * and for the null a repair may later give it (8 bytes, 1-byte op), a
 * newline 1.  So no op writes more than 8 bytes per byte it consumes; the
 * flags byte pays for nothing, and gives slack.
 */
#define OUT_MULT 8u
#define QUOTE_MULT 6u

enum op {
	OP_BEGIN_OBJ, OP_END_OBJ, OP_BEGIN_ARR, OP_END_ARR,
	OP_KEY, OP_STR, OP_STR_NULL, OP_STRN,
	OP_U64, OP_I64, OP_BOOL, OP_NULL,
	OP_HEX, OP_RATIO, OP_NEWLINE, OP_QUOTE,
};

#define OP_RAW 0xf0			/* op bytes >= this are not repaired */
#define FLAG_LEAVE_OPEN 1u
#define FLAG_NEWLINE 2u

/*
 * One JSON event, as parsed or as expected.  The parser gives the first
 * eleven types; the model also expects numbers and hex strings by value.
 */
enum ev_type {
	EV_BEGIN_OBJ, EV_END_OBJ, EV_BEGIN_ARR, EV_END_ARR, EV_KEY, EV_STR,
	EV_NUM, EV_TRUE, EV_FALSE, EV_NULL, EV_NEWLINE,
	EV_U64, EV_I64, EV_HEX, EV_RATIO,
};

static const char *const ev_names[] = {
	"{", "}", "[", "]", "key", "string", "number", "true", "false", "null", "newline",
	"u64", "i64", "hex", "ratio",
};

struct ev {
	enum ev_type type;
	uint8_t *s;			/* EV_KEY, EV_STR (decoded), EV_NUM (text) */
	size_t n;
	uint64_t a, b;			/* EV_U64, EV_I64, EV_HEX: a; EV_RATIO: a / b */
	unsigned dec;			/* EV_RATIO: the decimals asked for */
};

struct evs {
	struct ev *v;
	size_t n, alloc;
};

struct buf {
	uint8_t *p;
	size_t n, alloc;
};

static void
buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->alloc) {
		size_t na = b->alloc ? b->alloc : 64;
		uint8_t *np;

		while (na < b->n + n)
			na *= 2;
		if (!(np = realloc(b->p, na)))
			abort();
		b->p = np;
		b->alloc = na;
	}
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

/* Append an event; S (N bytes, NULL when empty) is copied for the types with text. */
static struct ev *
ev_push(struct evs *e, enum ev_type type, const uint8_t *s, size_t n)
{
	struct ev *v;

	if (e->n == e->alloc) {
		size_t na = e->alloc ? 2 * e->alloc : 64;
		struct ev *nv = realloc(e->v, na * sizeof(*nv));

		if (!nv)
			abort();
		e->v = nv;
		e->alloc = na;
	}
	v = &e->v[e->n++];
	memset(v, 0, sizeof(*v));
	v->type = type;
	if (type == EV_KEY || type == EV_STR || type == EV_NUM) {
		if (!(v->s = malloc(n ? n : 1)))
			abort();
		if (n)
			memcpy(v->s, s, n);
		v->n = n;
	}
	return v;
}

static void
evs_free(struct evs *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].s);
	free(e->v);
}

/* ---------------------------------------------------------------- */
/* UTF-8, from the Unicode Standard's table of well-formed byte sequences. */

/*
 * The length of the well-formed UTF-8 sequence at S (N bytes left), or 0.
 * Table 3-7 of the Unicode Standard: the lead byte fixes the length and the
 * range of the second byte (which excludes overlong forms, surrogates and
 * code points past U+10FFFF); the other trailing bytes are 80..BF.
 */
static size_t
u8_valid(const uint8_t *s, size_t n)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t len;

	if (n == 0)
		return 0;
	if (s[0] <= 0x7f)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;		/* 80..C1 (trail, overlong lead), F5..FF */
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static const uint8_t fffd[3] = { 0xef, 0xbf, 0xbd };

/*
 * What pd.h promises a string becomes: well-formed sequences kept byte for
 * byte, and every other byte, and NUL, one U+FFFD; after a bad byte the
 * next one starts afresh (so a truncated sequence is one U+FFFD per byte).
 */
static void
sanitise(struct buf *out, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = s[i] ? u8_valid(s + i, n - i) : 0;

		if (k) {
			buf_put(out, s + i, k);
			i += k;
		} else {
			buf_put(out, fffd, 3);
			i++;
		}
	}
}

static bool
u8_all_valid(const uint8_t *s, size_t n)
{
	for (size_t i = 0, k; i < n; i += k)
		if (!(k = u8_valid(s + i, n - i)))
			return false;
	return true;
}

static void
u8_put(struct buf *b, uint32_t c)
{
	uint8_t t[4];
	size_t n;

	if (c < 0x80) {
		t[0] = (uint8_t)c, n = 1;
	} else if (c < 0x800) {
		t[0] = (uint8_t)(0xc0 | c >> 6), n = 2;
	} else if (c < 0x10000) {
		t[0] = (uint8_t)(0xe0 | c >> 12), n = 3;
	} else {
		t[0] = (uint8_t)(0xf0 | c >> 18), n = 4;
	}
	for (size_t i = 1; i < n; i++)
		t[i] = (uint8_t)(0x80 | ((c >> (6 * (n - 1 - i))) & 0x3f));
	buf_put(b, t, n);
}

/* ---------------------------------------------------------------- */
/*
 * A strict RFC 8259 parser for NDJSON: one value per line, lines ended by
 * LF; inside a value, whitespace is space, tab or CR (an LF would end the
 * line).  Strings must be valid UTF-8 without raw control characters, and
 * \u escapes may not leave a surrogate unpaired.  It produces events.
 */

struct parser {
	const uint8_t *p, *end;
	struct evs *out;
	unsigned depth;
	struct buf tmp;
};

static void
p_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r'))
		ps->p++;
}

static bool
p_eat(struct parser *ps, char c)
{
	if (ps->p < ps->end && *ps->p == (uint8_t)c) {
		ps->p++;
		return true;
	}
	return false;
}

static bool
p_hex4(struct parser *ps, uint32_t *v)
{
	*v = 0;
	if (ps->end - ps->p < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		uint8_t c = *ps->p++;

		if (c >= '0' && c <= '9')
			*v = *v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v = *v << 4 | (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v = *v << 4 | (uint32_t)(c - 'A' + 10);
		else
			return false;
	}
	return true;
}

/* A string at P into OUT (decoded). */
static bool
p_string(struct parser *ps, struct buf *out)
{
	out->n = 0;
	if (!p_eat(ps, '"'))
		return false;
	for (;;) {
		uint8_t c;
		size_t k;

		if (ps->p >= ps->end)
			return false;
		c = *ps->p;
		if (c == '"') {
			ps->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\') {
			if (!(k = u8_valid(ps->p, (size_t)(ps->end - ps->p))))
				return false;
			buf_put(out, ps->p, k);
			ps->p += k;
			continue;
		}
		ps->p++;
		if (ps->p >= ps->end)
			return false;
		switch (c = *ps->p++) {
		case '"': case '\\': case '/':
			buf_put(out, &c, 1);
			break;
		case 'b': buf_put(out, "\b", 1); break;
		case 'f': buf_put(out, "\f", 1); break;
		case 'n': buf_put(out, "\n", 1); break;
		case 'r': buf_put(out, "\r", 1); break;
		case 't': buf_put(out, "\t", 1); break;
		case 'u': {
			uint32_t u, lo;

			if (!p_hex4(ps, &u))
				return false;
			if (u >= 0xdc00 && u <= 0xdfff)
				return false;		/* a low surrogate first */
			if (u >= 0xd800 && u <= 0xdbff) {
				if (!p_eat(ps, '\\') || !p_eat(ps, 'u') || !p_hex4(ps, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					return false;
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			}
			u8_put(out, u);
			break;
		}
		default:
			return false;
		}
	}
}

static bool
p_digits(struct parser *ps)
{
	const uint8_t *start = ps->p;

	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
		ps->p++;
	return ps->p > start;
}

/* number = [ minus ] int [ frac ] [ exp ]; int = zero / ( digit1-9 *DIGIT ) */
static bool
p_number(struct parser *ps)
{
	const uint8_t *start = ps->p;

	p_eat(ps, '-');
	if (!p_eat(ps, '0')) {
		if (ps->p >= ps->end || *ps->p < '1' || *ps->p > '9')
			return false;
		p_digits(ps);
	}
	if (p_eat(ps, '.') && !p_digits(ps))
		return false;
	if (p_eat(ps, 'e') || p_eat(ps, 'E')) {
		if (!p_eat(ps, '+'))
			p_eat(ps, '-');
		if (!p_digits(ps))
			return false;
	}
	ev_push(ps->out, EV_NUM, start, (size_t)(ps->p - start));
	return true;
}

static bool
p_literal(struct parser *ps, const char *word, enum ev_type type)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return false;
	ps->p += n;
	ev_push(ps->out, type, NULL, 0);
	return true;
}

static bool p_value(struct parser *ps);

/* An object or array, its opening bracket next. */
static bool
p_container(struct parser *ps, bool object)
{
	char close = object ? '}' : ']';

	if (++ps->depth > PARSE_DEPTH)
		return false;
	ps->p++;
	ev_push(ps->out, object ? EV_BEGIN_OBJ : EV_BEGIN_ARR, NULL, 0);
	p_ws(ps);
	if (!p_eat(ps, close)) {
		do {
			p_ws(ps);
			if (object) {
				if (!p_string(ps, &ps->tmp))
					return false;
				ev_push(ps->out, EV_KEY, ps->tmp.p, ps->tmp.n);
				p_ws(ps);
				if (!p_eat(ps, ':'))
					return false;
			}
			if (!p_value(ps))
				return false;
			p_ws(ps);
		} while (p_eat(ps, ','));
		if (!p_eat(ps, close))
			return false;
	}
	ev_push(ps->out, object ? EV_END_OBJ : EV_END_ARR, NULL, 0);
	ps->depth--;
	return true;
}

static bool
p_value(struct parser *ps)
{
	p_ws(ps);
	if (ps->p >= ps->end)
		return false;
	switch (*ps->p) {
	case '{':
		return p_container(ps, true);
	case '[':
		return p_container(ps, false);
	case '"':
		if (!p_string(ps, &ps->tmp))
			return false;
		ev_push(ps->out, EV_STR, ps->tmp.p, ps->tmp.n);
		return true;
	case 't':
		return p_literal(ps, "true", EV_TRUE);
	case 'f':
		return p_literal(ps, "false", EV_FALSE);
	case 'n':
		return p_literal(ps, "null", EV_NULL);
	default:
		return p_number(ps);
	}
}

/* The whole of S (N bytes) as NDJSON: at most one value per line. */
static bool
parse_ndjson(const uint8_t *s, size_t n, struct evs *out)
{
	struct parser ps = { .p = s, .end = s + n, .out = out };
	bool line_has_value = false, ok = true;

	while (ok && ps.p < ps.end) {
		if (*ps.p == '\n') {
			ev_push(out, EV_NEWLINE, NULL, 0);
			line_has_value = false;
			ps.p++;
		} else if (*ps.p == ' ' || *ps.p == '\t' || *ps.p == '\r') {
			ps.p++;
		} else if (line_has_value) {
			ok = false;		/* two values on one line, or junk after one */
		} else {
			ok = p_value(&ps);
			line_has_value = true;
		}
	}
	free(ps.tmp.p);
	return ok;
}

/* ---------------------------------------------------------------- */
/* Numbers, checked from their text without floating point. */

/* A JSON int (no sign, no leading zero) of at most 20 digits into *V. */
static bool
dec_parse(const uint8_t *s, size_t n, unsigned __int128 *v)
{
	*v = 0;
	if (n == 0 || n > 20 || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

static bool
check_u64(const struct ev *g, uint64_t want)
{
	unsigned __int128 v;

	return dec_parse(g->s, g->n, &v) && v == want;
}

static bool
check_i64(const struct ev *g, int64_t want)
{
	bool neg = g->n && g->s[0] == '-';
	unsigned __int128 mag;

	if (!dec_parse(g->s + neg, g->n - neg, &mag))
		return false;
	if (neg)	/* "-0" is valid JSON but not what %lld writes */
		return want < 0 && mag != 0 && mag == (uint64_t)0 - (uint64_t)want;
	return want >= 0 && mag == (uint64_t)want;
}

/*
 * NUM/DEN rounded half up to D = min(DEC, 9) places (pd.h caps the places
 * at 9), written "I" (D = 0) or "I.F" with exactly D digits.  Its value is
 * V / 10^D with V = I * 10^D + F; with N = NUM * 10^D, round half up means
 * V = floor(N / DEN + 1/2), that is 2 V DEN <= 2 N + DEN < 2 (V + 1) DEN.
 * N < 2^94; V is first checked to be at most N / DEN + 1, so that the
 * products stay below 2^97.
 */
static bool
check_ratio(const struct ev *g, uint64_t num, uint64_t den, unsigned dec)
{
	unsigned d = dec > 9 ? 9 : dec;
	unsigned __int128 scale = 1, v, f = 0, n;
	const uint8_t *dot = memchr(g->s, '.', g->n);
	size_t ilen = dot ? (size_t)(dot - g->s) : g->n;

	for (unsigned i = 0; i < d; i++)
		scale *= 10;
	if (!dec_parse(g->s, ilen, &v))
		return false;
	if (d == 0 ? dot != NULL : !dot || g->n - ilen - 1 != d)
		return false;
	for (size_t i = ilen + 1; i < g->n; i++) {
		if (g->s[i] < '0' || g->s[i] > '9')
			return false;
		f = f * 10 + (unsigned)(g->s[i] - '0');
	}
	v = v * scale + f;
	n = (unsigned __int128)num * scale;
	if (v > n / den + 1)
		return false;
	return 2 * v * den <= 2 * n + den && 2 * n + den < 2 * (v + 1) * den;
}

static bool
check_hex(const struct ev *g, uint64_t v)
{
	char t[19] = "0x";
	size_t k = 2;
	int shift = 60;

	while (shift > 0 && !((v >> shift) & 15))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		t[k++] = "0123456789abcdef"[(v >> shift) & 15];
	return g->n == k && !memcmp(g->s, t, k);
}

/* Event I as parsed (G) against the model (W). */
static void
ev_check(size_t i, const struct ev *w, const struct ev *g)
{
	bool ok;

	switch (w->type) {
	case EV_KEY:
	case EV_STR:
		ok = g->type == w->type && g->n == w->n && !memcmp(g->s, w->s, w->n);
		break;
	case EV_U64:
		ok = g->type == EV_NUM && check_u64(g, w->a);
		break;
	case EV_I64:
		ok = g->type == EV_NUM && check_i64(g, (int64_t)w->a);
		break;
	case EV_HEX:
		ok = g->type == EV_STR && check_hex(g, w->a);
		break;
	case EV_RATIO:
		ok = g->type == EV_NUM && check_ratio(g, w->a, w->b, w->dec);
		break;
	default:
		ok = g->type == w->type;
	}
	if (!ok)
		fuzz_fail("value %zu: expected %s (%llu, %llu, %u), got %s '%.*s'", i, ev_names[w->type],
		    (unsigned long long)w->a, (unsigned long long)w->b, w->dec, ev_names[g->type],
		    g->s ? (int)(g->n > 80 ? 80 : g->n) : 0, g->s ? (const char *)g->s : "");
}

/* ---------------------------------------------------------------- */
/* The input. */

struct in {
	const uint8_t *p;
	size_t left;
};

static uint8_t
in_byte(struct in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint64_t
in_u64(struct in *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)in_byte(in) << (8 * i);
	return v;
}

/*
 * A string operand: its bytes in a buffer of their exact size plus a NUL
 * (so that ASan sees any read past them), *N set to their number.
 */
static uint8_t *
in_str(struct in *in, size_t *n)
{
	size_t len = 0;
	uint8_t *s;

	for (int i = 0; i < 3 && in->left; i++) {
		uint8_t b = in_byte(in);

		len |= (size_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			break;
	}
	if (len > in->left)
		len = in->left;
	if (!(s = malloc(len + 1)))
		abort();
	memcpy(s, in->p, len);
	s[len] = 0;
	in->p += len;
	in->left -= len;
	*n = len;
	return s;
}

/* ---------------------------------------------------------------- */
/* The writer and its model. */

struct run {
	struct pd_json *j;
	FILE *mem;
	char *out;
	size_t out_len;

	unsigned depth;
	bool object[MAX_DEPTH + 1];	/* per level; level 0 (the top) is not */
	bool keyed;			/* a key waits for its value */
	bool top_used;			/* the current top-level line has its value */
	int err;			/* the sticky error predicted */
	size_t err_at;			/* the output's size when it happened */
	struct evs want;
	struct buf tmp;
};

static void
m_error(struct run *r)
{
	r->err = PD_E_USAGE;
	if (fflush(r->mem))
		abort();
	r->err_at = r->out_len;
}

/* Whether the model accepts a value here (before_value's rule in pd.h terms). */
static bool
m_value(struct run *r)
{
	if (r->err)
		return false;
	if ((r->object[r->depth] && !r->keyed) || (r->depth == 0 && r->top_used)) {
		m_error(r);
		return false;
	}
	r->keyed = false;
	if (r->depth == 0)
		r->top_used = true;
	return true;
}

/* Expect string S (N bytes) as written, that is sanitised, as TYPE. */
static void
want_str(struct run *r, enum ev_type type, const uint8_t *s, size_t n)
{
	r->tmp.n = 0;
	sanitise(&r->tmp, s, n);
	ev_push(&r->want, type, r->tmp.p, r->tmp.n);
}

static void
w_begin(struct run *r, bool object)
{
	if (m_value(r)) {
		r->object[++r->depth] = object;
		ev_push(&r->want, object ? EV_BEGIN_OBJ : EV_BEGIN_ARR, NULL, 0);
	}
	if (object)
		pd_json_begin_object(r->j);
	else
		pd_json_begin_array(r->j);
}

static void
w_end(struct run *r, bool object)
{
	if (!r->err) {
		if (r->depth == 0 || r->object[r->depth] != object || r->keyed) {
			m_error(r);
		} else {
			r->depth--;
			ev_push(&r->want, object ? EV_END_OBJ : EV_END_ARR, NULL, 0);
		}
	}
	if (object)
		pd_json_end_object(r->j);
	else
		pd_json_end_array(r->j);
}

/* KEY is a C string: the writer sees it up to its first NUL. */
static void
w_key(struct run *r, const char *key)
{
	if (!r->err) {
		if (!r->object[r->depth] || r->keyed) {
			m_error(r);
		} else {
			r->keyed = true;
			want_str(r, EV_KEY, (const uint8_t *)key, strlen(key));
		}
	}
	pd_json_key(r->j, key);
}

static void
w_null(struct run *r)
{
	if (m_value(r))
		ev_push(&r->want, EV_NULL, NULL, 0);
	pd_json_null(r->j);
}

static void
w_newline(struct run *r)
{
	if (!r->err) {
		if (r->depth != 0 || r->keyed) {
			m_error(r);
		} else {
			r->top_used = false;
			ev_push(&r->want, EV_NEWLINE, NULL, 0);
		}
	}
	pd_json_newline(r->j);
}

/* pd_json_quote alone, on a raw slice, into its own buffer. */
static void
check_quote(const uint8_t *s, size_t n)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	struct evs got = { 0 };
	struct buf want = { 0 };
	struct parser ps = { .out = &got };

	if (!m)
		abort();
	pd_json_quote(m, (const char *)s, n);
	if (fclose(m))
		abort();
	if (len > 2 + (uint64_t)QUOTE_MULT * n)
		fuzz_fail("pd_json_quote: %zu bytes for %zu", len, n);
	ps.p = (const uint8_t *)out;
	ps.end = ps.p + len;
	if (!u8_all_valid(ps.p, len))
		fuzz_fail("pd_json_quote: output not valid UTF-8");
	if (!p_string(&ps, &ps.tmp) || ps.p != ps.end)
		fuzz_fail("pd_json_quote: not one JSON string: '%.*s'", (int)(len > 200 ? 200 : len), out);
	sanitise(&want, s, n);
	if (want.n != ps.tmp.n || (want.n && memcmp(want.p, ps.tmp.p, want.n)))
		fuzz_fail("pd_json_quote: decodes to %zu bytes, not the %zu of the sanitised input",
		    ps.tmp.n, want.n);
	free(want.p);
	free(ps.tmp.p);
	evs_free(&got);
	free(out);
}

/* Run one op; REPAIR: make it fit the nesting first (or skip it). */
static void
run_op(struct run *r, struct in *in, enum op op, bool repair)
{
	uint8_t *s = NULL;
	size_t n = 0;
	uint64_t a = 0, b = 0;
	unsigned dec = 0;
	bool value = op != OP_END_OBJ && op != OP_END_ARR && op != OP_KEY &&
	    op != OP_NEWLINE && op != OP_QUOTE;

	/* Operands first, so that a skipped op consumes what it would have. */
	switch (op) {
	case OP_KEY: case OP_STR: case OP_STRN: case OP_QUOTE:
		s = in_str(in, &n);
		break;
	case OP_U64: case OP_I64: case OP_HEX:
		a = in_u64(in);
		break;
	case OP_BOOL:
		a = in_byte(in);
		break;
	case OP_RATIO:
		a = in_u64(in);
		b = in_u64(in);
		dec = in_byte(in);
		break;
	default:
		break;
	}
	if ((op == OP_BEGIN_OBJ || op == OP_BEGIN_ARR) && r->depth == MAX_DEPTH)
		goto out;
	if (repair && !r->err) {
		if (value && r->depth == 0 && r->top_used)
			w_newline(r);
		else if (value && r->object[r->depth] && !r->keyed)
			w_key(r, "");
		switch (op) {
		case OP_KEY:
			if (!r->object[r->depth])
				goto out;
			if (r->keyed)
				w_null(r);
			break;
		case OP_END_OBJ:
		case OP_END_ARR:
			if (r->depth == 0)
				goto out;
			if (r->keyed)
				w_null(r);
			op = r->object[r->depth] ? OP_END_OBJ : OP_END_ARR;
			break;
		case OP_NEWLINE:
			if (r->depth != 0)
				goto out;
			break;
		default:
			break;
		}
	}
	switch (op) {
	case OP_BEGIN_OBJ: w_begin(r, true); break;
	case OP_END_OBJ: w_end(r, true); break;
	case OP_BEGIN_ARR: w_begin(r, false); break;
	case OP_END_ARR: w_end(r, false); break;
	case OP_KEY: w_key(r, (const char *)s); break;
	case OP_STR:
		if (m_value(r))
			want_str(r, EV_STR, s, strlen((const char *)s));
		pd_json_str(r->j, (const char *)s);
		break;
	case OP_STR_NULL:
		if (m_value(r))
			ev_push(&r->want, EV_NULL, NULL, 0);
		pd_json_str(r->j, NULL);
		break;
	case OP_STRN:
		if (m_value(r))
			want_str(r, EV_STR, s, n);
		pd_json_strn(r->j, (const char *)s, n);
		break;
	case OP_U64:
		if (m_value(r))
			ev_push(&r->want, EV_U64, NULL, 0)->a = a;
		pd_json_u64(r->j, a);
		break;
	case OP_I64:
		if (m_value(r))
			ev_push(&r->want, EV_I64, NULL, 0)->a = a;
		pd_json_i64(r->j, (int64_t)a);
		break;
	case OP_BOOL:
		if (m_value(r))
			ev_push(&r->want, a ? EV_TRUE : EV_FALSE, NULL, 0);
		/* Any nonzero int is true, negative ones too. */
		pd_json_bool(r->j, (int)(int8_t)a);
		break;
	case OP_NULL: w_null(r); break;
	case OP_HEX:
		if (m_value(r))
			ev_push(&r->want, EV_HEX, NULL, 0)->a = a;
		pd_json_hex(r->j, a);
		break;
	case OP_RATIO:
		if (m_value(r)) {
			struct ev *e = ev_push(&r->want, b ? EV_RATIO : EV_NULL, NULL, 0);

			e->a = a;
			e->b = b;
			e->dec = dec;
		}
		pd_json_ratio(r->j, a, b, dec);
		break;
	case OP_NEWLINE: w_newline(r); break;
	case OP_QUOTE: check_quote(s, n); break;
	}
out:
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r = { 0 };
	struct in in = { data, size };
	struct evs got = { 0 };
	unsigned flags;
	int rc, want_rc;

	if (size == 0)
		return 0;
	flags = in_byte(&in);
	if (!(r.mem = open_memstream(&r.out, &r.out_len)) || !(r.j = pd_json_new(r.mem)))
		abort();
	while (in.left) {
		uint8_t opb = in_byte(&in);

		run_op(&r, &in, (enum op)(opb & 15), opb < OP_RAW);
	}
	if (!(flags & FLAG_LEAVE_OPEN) && !r.err) {
		if (r.keyed)
			w_null(&r);
		while (r.depth)
			w_end(&r, r.object[r.depth]);
	}
	if ((flags & FLAG_NEWLINE) && !r.err && r.depth == 0)
		w_newline(&r);

	rc = pd_json_finish(r.j);
	want_rc = r.err ? r.err : (r.depth || r.keyed) ? PD_E_USAGE : PD_OK;
	if (rc != want_rc)
		fuzz_fail("pd_json_finish: %d (%s), the model says %d (%s)", rc, pd_strerror(rc), want_rc,
		    pd_strerror(want_rc));
	if (pd_json_finish(r.j) != rc)
		fuzz_fail("pd_json_finish changed its mind");
	pd_json_free(r.j);
	if (fclose(r.mem))
		abort();
	if (r.err && r.out_len != r.err_at)
		fuzz_fail("%zu bytes written after the error, at %zu", r.out_len - r.err_at, r.err_at);
	if (r.out_len > (uint64_t)OUT_MULT * size)
		fuzz_fail("%zu bytes of JSON from %zu bytes of input", r.out_len, size);
	if (rc == PD_OK) {
		if (!u8_all_valid((const uint8_t *)r.out, r.out_len))
			fuzz_fail("the output is not valid UTF-8");
		if (!parse_ndjson((const uint8_t *)r.out, r.out_len, &got))
			fuzz_fail("the output is not NDJSON: '%.*s'", (int)(r.out_len > 300 ? 300 : r.out_len),
			    r.out);
		for (size_t i = 0; i < got.n && i < r.want.n; i++)
			ev_check(i, &r.want.v[i], &got.v[i]);
		if (got.n != r.want.n)
			fuzz_fail("%zu values parsed, %zu written", got.n, r.want.n);
	}
	evs_free(&got);
	evs_free(&r.want);
	free(r.tmp.p);
	free(r.out);
	return 0;
}
