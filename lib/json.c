/*
 * json.c - a streaming JSON writer for pdjson (RFC 8259).
 *
 * Values go straight to the FILE; the writer only tracks, per nesting
 * level, whether a comma is due and whether a key was given, so memory does
 * not grow with the document.  Strings are escaped byte by byte: valid
 * UTF-8 passes through, anything else becomes U+FFFD, so that the output is
 * valid JSON and valid UTF-8 for any input.  Numbers are integers, or
 * decimals computed in integers (pd_json_ratio): no locale, no floats.
 */
#include <stdlib.h>

#include "sym.h"

/*
 * A bound on nesting, 2 bytes of memory a level: far above what a caller
 * nests for any input it can hold (the tree writer of pdjson nests two
 * levels per frame, and a stack of a million frames is legitimate input).
 */
#define JSON_MAX_DEPTH ((size_t)1 << 30)

struct pd_json {
	FILE *out;
	size_t depth;
	/* Per level (0 is the top): a value was written there; it is an object. */
	bool *comma, *object;
	size_t alloc_comma, alloc_object;
	bool keyed;			/* a key is waiting for its value */
	int error;
};

struct pd_json *
pd_json_new(FILE *out)
{
	struct pd_json *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->out = out;
	if (PD_GROW(j->comma, 64, j->alloc_comma) < 0 || PD_GROW(j->object, 64, j->alloc_object) < 0) {
		pd_json_free(j);
		return NULL;
	}
	j->comma[0] = j->object[0] = false;
	return j;
}

void
pd_json_free(struct pd_json *j)
{
	if (!j)
		return;
	free(j->comma);
	free(j->object);
	free(j);
}

/* The length of the valid UTF-8 sequence at S (N bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return len;
}

void
pd_json_quote(FILE *out, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + n, *run = s;

	putc('"', out);
	/* Bytes that pass through go out in runs, one fwrite each. */
	while (s < end) {
		size_t k = *s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\' ? 1 :
		    utf8_len(s, (size_t)(end - s));

		if (k && (*s >= 0x80 || (*s >= 0x20 && *s < 0x7f && *s != '"' && *s != '\\'))) {
			s += k;
			continue;
		}
		if (s > run)
			fwrite(run, 1, (size_t)(s - run), out);
		if (k == 0 || *s == 0) {
			fputs("\\ufffd", out);
			s++;
			run = s;
			continue;
		}
		switch (*s) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		case '\b': fputs("\\b", out); break;
		case '\f': fputs("\\f", out); break;
		default: fprintf(out, "\\u%04x", *s);
		}
		s += k;
		run = s;
	}
	if (s > run)
		fwrite(run, 1, (size_t)(s - run), out);
	putc('"', out);
}

/* Before a value: the comma, and a check that an object member has its key. */
static bool
before_value(struct pd_json *j)
{
	if (j->error)
		return false;
	if (j->object[j->depth] && !j->keyed) {
		j->error = PD_E_USAGE;
		return false;
	}
	/*
	 * Robustness fix: a second top-level value without pd_json_newline
	 * between was written after a comma ("1,2", not JSON) and finish said
	 * PD_OK; one value per top-level line (found by fuzzing).
	 */
	if (j->depth == 0 && j->comma[0]) {
		j->error = PD_E_USAGE;
		return false;
	}
	if (!j->keyed && j->comma[j->depth])
		putc(',', j->out);
	j->keyed = false;
	j->comma[j->depth] = true;
	return true;
}

static void
begin(struct pd_json *j, bool object)
{
	if (!before_value(j))
		return;
	if (j->depth >= JSON_MAX_DEPTH || PD_GROW(j->comma, j->depth + 2, j->alloc_comma) < 0 ||
	    PD_GROW(j->object, j->depth + 2, j->alloc_object) < 0) {
		j->error = j->depth >= JSON_MAX_DEPTH ? PD_E_USAGE : PD_E_NOMEM;
		return;
	}
	putc(object ? '{' : '[', j->out);
	j->depth++;
	j->comma[j->depth] = false;
	j->object[j->depth] = object;
}

static void
end(struct pd_json *j, bool object)
{
	if (j->error)
		return;
	if (j->depth == 0 || j->object[j->depth] != object || j->keyed) {
		j->error = PD_E_USAGE;
		return;
	}
	j->depth--;
	putc(object ? '}' : ']', j->out);
}

void pd_json_begin_object(struct pd_json *j) { begin(j, true); }
void pd_json_end_object(struct pd_json *j) { end(j, true); }
void pd_json_begin_array(struct pd_json *j) { begin(j, false); }
void pd_json_end_array(struct pd_json *j) { end(j, false); }

void
pd_json_key(struct pd_json *j, const char *key)
{
	if (j->error)
		return;
	if (!j->object[j->depth] || j->keyed) {
		j->error = PD_E_USAGE;
		return;
	}
	if (j->comma[j->depth])
		putc(',', j->out);
	pd_json_quote(j->out, key, strlen(key));
	putc(':', j->out);
	j->keyed = true;
}

void
pd_json_strn(struct pd_json *j, const char *s, size_t n)
{
	if (before_value(j))
		pd_json_quote(j->out, s, n);
}

void
pd_json_str(struct pd_json *j, const char *s)
{
	if (!s)
		pd_json_null(j);
	else
		pd_json_strn(j, s, strlen(s));
}

void
pd_json_u64(struct pd_json *j, uint64_t v)
{
	if (before_value(j))
		fprintf(j->out, "%llu", (unsigned long long)v);
}

void
pd_json_i64(struct pd_json *j, int64_t v)
{
	if (before_value(j))
		fprintf(j->out, "%lld", (long long)v);
}

void
pd_json_bool(struct pd_json *j, int v)
{
	if (before_value(j))
		fputs(v ? "true" : "false", j->out);
}

void
pd_json_null(struct pd_json *j)
{
	if (before_value(j))
		fputs("null", j->out);
}

void
pd_json_hex(struct pd_json *j, uint64_t v)
{
	if (before_value(j))
		fprintf(j->out, "\"0x%llx\"", (unsigned long long)v);
}

void
pd_json_ratio(struct pd_json *j, uint64_t num, uint64_t den, unsigned decimals)
{
	unsigned __int128 scale = 1, q;
	uint64_t ip, fp;

	if (den == 0) {
		pd_json_null(j);
		return;
	}
	if (decimals > 9)
		decimals = 9;
	for (unsigned i = 0; i < decimals; i++)
		scale *= 10;
	/* Round half up: (num * scale + den / 2) / den, in 128 bits. */
	q = ((unsigned __int128)num * scale + den / 2) / den;
	ip = (uint64_t)(q / scale);
	fp = (uint64_t)(q % scale);
	if (!before_value(j))
		return;
	if (decimals)
		fprintf(j->out, "%llu.%0*llu", (unsigned long long)ip, (int)decimals,
		    (unsigned long long)fp);
	else
		fprintf(j->out, "%llu", (unsigned long long)ip);
}

void
pd_json_raw(struct pd_json *j, const char *text, size_t len)
{
	if (before_value(j))
		fwrite(text, 1, len, j->out);
}

void
pd_json_newline(struct pd_json *j)
{
	if (j->error)
		return;
	if (j->depth != 0 || j->keyed) {
		j->error = PD_E_USAGE;
		return;
	}
	putc('\n', j->out);
	j->comma[0] = false;
}

int
pd_json_finish(struct pd_json *j)
{
	if (j->error)
		return j->error;
	if (j->depth != 0 || j->keyed)
		return PD_E_USAGE;
	return ferror(j->out) ? PD_E_IO : PD_OK;
}

size_t
pd_session_frame_src(struct pd_session *s, const struct pd_frame *fr, int ret,
    struct pd_srcframe *out, size_t max)
{
	struct pd_srcinfo *si;
	size_t n = 0;

	if (!fr->dso || fr->kind != PD_FRAME_USER)
		return 0;
	si = pd_symbolizer_src(pd_session_symbolizer(s), fr->dso, fr->rel, ret, fr->unwound);
	if (!si || !si->sym)
		return 0;
	/* The view is outermost first; frames are listed innermost first. */
	for (size_t i = si->nr; i-- > 0 && n < max;) {
		out[n].func = si->level[i].func;
		out[n].file = si->level[i].file;
		out[n].line = si->level[i].line;
		n++;
	}
	return n;
}
