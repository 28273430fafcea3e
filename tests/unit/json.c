/*
 * json.c - unit tests of pdjson's building blocks: the JSON writer
 * (escaping of every byte, nesting errors, locale-free ratios) and the
 * tracepoint decoder on a hand-made TRACING_DATA blob, including hostile
 * payloads whose __data_loc points outside them.
 */
#include <locale.h>

#include "pd-internal.h"
#include "../tap.h"

/* What writing with FN gives, as a NUL-terminated string the caller frees. */
static char *
capture(void (*fn)(struct pd_json *, const void *), const void *arg, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct pd_json *j = pd_json_new(m);

	fn(j, arg);
	*rc = pd_json_finish(j);
	pd_json_free(j);
	fclose(m);
	return buf;
}

static void
w_str(struct pd_json *j, const void *arg)
{
	pd_json_str(j, arg);
}

static void
quote_is(const char *in, const char *want, const char *name)
{
	int rc;
	char *got = capture(w_str, in, &rc);

	is_str(got, want, name);
	free(got);
}

static void
test_escape(void)
{
	quote_is("plain", "\"plain\"", "escape: plain ASCII");
	quote_is("a\"b\\c", "\"a\\\"b\\\\c\"", "escape: quote and backslash");
	quote_is("\n\r\t\b\f\x01\x1f\x7f", "\"\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\"", "escape: control characters");
	quote_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
	    "escape: valid UTF-8 kept");
	quote_is("\xff\xfe", "\"\\ufffd\\ufffd\"", "escape: invalid bytes become U+FFFD");
	quote_is("\xc0\xaf", "\"\\ufffd\\ufffd\"", "escape: overlong form rejected");
	quote_is("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"", "escape: UTF-16 surrogate rejected");
	quote_is("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", "escape: past U+10FFFF rejected");
	quote_is("x\xe2\x82", "\"x\\ufffd\\ufffd\"", "escape: truncated sequence at the end");
	quote_is("\x80" "a", "\"\\ufffda\"", "escape: stray continuation byte");
}

static void
w_nest(struct pd_json *j, const void *arg)
{
	(void)arg;
	pd_json_begin_object(j);
	pd_json_key(j, "a");
	pd_json_begin_array(j);
	pd_json_u64(j, 1);
	pd_json_i64(j, -2);
	pd_json_null(j);
	pd_json_bool(j, 1);
	pd_json_hex(j, 0xdeadbeef);
	pd_json_end_array(j);
	pd_json_key(j, "b");
	pd_json_ratio(j, 2, 3, 6);
	pd_json_key(j, "c");
	pd_json_ratio(j, 1, 0, 6);
	pd_json_key(j, "d");
	pd_json_raw(j, "{\"x\":1}", 7);
	pd_json_key(j, "e");
	pd_json_begin_object(j);
	pd_json_end_object(j);
	pd_json_end_object(j);
	pd_json_newline(j);
	pd_json_begin_array(j);
	pd_json_end_array(j);
	pd_json_newline(j);
}

static void
w_bad_key(struct pd_json *j, const void *arg)
{
	(void)arg;
	pd_json_begin_array(j);
	pd_json_key(j, "k");
	pd_json_end_array(j);
}

static void
w_no_key(struct pd_json *j, const void *arg)
{
	(void)arg;
	pd_json_begin_object(j);
	pd_json_u64(j, 1);
	pd_json_end_object(j);
}

static void
w_unclosed(struct pd_json *j, const void *arg)
{
	(void)arg;
	pd_json_begin_object(j);
}

static void
w_ratios(struct pd_json *j, const void *arg)
{
	(void)arg;
	pd_json_begin_array(j);
	pd_json_ratio(j, 1, 8, 2);		/* 0.125 -> 0.13 (half up) */
	pd_json_ratio(j, UINT64_MAX, 1, 9);
	pd_json_ratio(j, 5, 2, 0);
	pd_json_ratio(j, 999999, 1000000, 3);	/* 0.999999 -> 1.000 */
	pd_json_end_array(j);
}

static void
w_deep(struct pd_json *j, const void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++)
		pd_json_begin_array(j);
	for (int i = 0; i < 1000; i++)
		pd_json_end_array(j);
}

static void
test_writer(void)
{
	int rc;
	char *s = capture(w_nest, NULL, &rc);

	is_int(rc, PD_OK, "writer: balanced document");
	is_str(s, "{\"a\":[1,-2,null,true,\"0xdeadbeef\"],\"b\":0.666667,\"c\":null,\"d\":{\"x\":1},\"e\":{}}\n[]\n",
	    "writer: commas, keys, numbers, NDJSON lines");
	free(s);
	free(capture(w_bad_key, NULL, &rc));
	is_int(rc, PD_E_USAGE, "writer: a key inside an array is an error");
	free(capture(w_no_key, NULL, &rc));
	is_int(rc, PD_E_USAGE, "writer: an object member without a key is an error");
	free(capture(w_unclosed, NULL, &rc));
	is_int(rc, PD_E_USAGE, "writer: an unclosed object is an error");
	setlocale(LC_NUMERIC, "de_DE.UTF-8");	/* a decimal comma, where installed */
	s = capture(w_ratios, NULL, &rc);
	is_str(s, "[0.13,18446744073709551615.000000000,3,1.000]", "writer: ratios in integers, any locale");
	free(s);
	setlocale(LC_NUMERIC, "C");
	s = capture(w_deep, NULL, &rc);
	ok(rc == PD_OK && s && strlen(s) == 2000, "writer: 1000 levels of nesting");
	free(s);
}

/* ---------------------------------------------------------------- */
/* A TRACING_DATA blob with one event, little-endian, version 0.6. */

struct blob {
	unsigned char b[8192];
	size_t n;
};

static void
put(struct blob *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
put_u32(struct blob *b, uint32_t v)
{
	put(b, &v, 4);
}

static void
put_u64(struct blob *b, uint64_t v)
{
	put(b, &v, 8);
}

static void
put_text(struct blob *b, const char *s)
{
	put_u64(b, strlen(s));
	put(b, s, strlen(s));
}

static const char header_page[] =
    "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
    "\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
    "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
    "\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n";

static const char format[] =
    "name: demo\n"
    "ID: 77\n"
    "format:\n"
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
    "\n"
    "\tfield:char name[8];\toffset:8;\tsize:8;\tsigned:0;\n"
    "\tfield:int delta;\toffset:16;\tsize:4;\tsigned:1;\n"
    "\tfield:unsigned int count;\toffset:20;\tsize:4;\tsigned:0;\n"
    "\tfield:__data_loc char[] msg;\toffset:24;\tsize:4;\tsigned:0;\n"
    "\tfield:u16 ids[2];\toffset:28;\tsize:4;\tsigned:0;\n"
    "\n"
    "print fmt: \"name=%s delta=%d count=%u msg=%s\", REC->name, REC->delta, REC->count, __get_str(msg)\n";

static void
make_blob(struct blob *b)
{
	b->n = 0;
	put(b, "\027\010\104tracing0.6", 14);	/* the version's NUL included */
	put(b, "\0", 1);		/* little-endian */
	put(b, "\x08", 1);		/* long size */
	put_u32(b, 4096);
	put(b, "header_page", 12);
	put_text(b, header_page);
	put(b, "header_event", 13);
	put_text(b, "# compressed entry header\n");
	put_u32(b, 0);			/* ftrace formats */
	put_u32(b, 1);			/* systems */
	put(b, "demo", 5);
	put_u32(b, 1);
	put_text(b, format);
	put_u32(b, 0);			/* kallsyms */
	put_u32(b, 0);			/* printk */
	put_u64(b, 0);			/* saved cmdlines */
}

static void
make_payload(unsigned char *p, uint32_t msg_loc)
{
	uint16_t type = 77, ids[2] = { 7, 65535 };
	int32_t pid = 42, delta = -5;
	uint32_t count = 4000000000u;

	memset(p, 0, 48);
	memcpy(p, &type, 2);
	memcpy(p + 4, &pid, 4);
	memcpy(p + 8, "a\"b\xff", 4);
	memcpy(p + 16, &delta, 4);
	memcpy(p + 20, &count, 4);
	memcpy(p + 24, &msg_loc, 4);
	memcpy(p + 28, ids, 4);
	memcpy(p + 32, "hello", 6);
}

struct fields_arg {
	struct pd_trace *t;
	const unsigned char *raw;
	uint32_t size;
	uint64_t id;
	int rc;
	char *print;
};

static void
w_fields(struct pd_json *j, const void *arg)
{
	struct fields_arg *a = (struct fields_arg *)(uintptr_t)arg;
	const char *print = NULL;

	a->rc = pd_trace_write_fields(a->t, a->id, a->raw, a->size, 0, j, &print);
	a->print = print ? strdup(print) : NULL;
}

static void
test_trace(void)
{
	struct blob b;
	struct pd_trace *t;
	unsigned char raw[48];
	struct fields_arg a;
	char *s;
	int rc;

	make_blob(&b);
	t = pd_trace_new(b.b, b.n);
	if (!ok(t && !pd_trace_errmsg(t)[0], "trace: a well-formed blob parses") && t)
		diag(pd_trace_errmsg(t));
	make_payload(raw, (6u << 16) | 32);
	a = (struct fields_arg){ t, raw, sizeof(raw), 77, 0, NULL };
	s = capture(w_fields, &a, &rc);
	is_int(a.rc, PD_OK, "trace: a payload of a known event decodes");
	is_str(s, "{\"name\":\"a\\\"b\\ufffd\",\"delta\":-5,\"count\":4000000000,\"msg\":\"hello\",\"ids\":[7,65535]}",
	    "trace: strings, signed and unsigned numbers, __data_loc, arrays");
	is_str(a.print, "name=a\"b\xff delta=-5 count=4000000000 msg=hello", "trace: the print format as perf script prints it");
	free(s);
	free(a.print);

	make_payload(raw, (60u << 16) | 32);	/* runs past the payload */
	a = (struct fields_arg){ t, raw, sizeof(raw), 77, 0, NULL };
	s = capture(w_fields, &a, &rc);
	is_int(a.rc, PD_END, "trace: a __data_loc past the payload decodes nothing");
	ok(rc == PD_OK && s && !s[0], "trace: and writes nothing");
	free(s);
	a = (struct fields_arg){ t, raw, 20, 77, 0, NULL };
	free(capture(w_fields, &a, &rc));
	is_int(a.rc, PD_END, "trace: a payload shorter than its format decodes nothing");
	a = (struct fields_arg){ t, raw, sizeof(raw), 78, 0, NULL };
	free(capture(w_fields, &a, &rc));
	is_int(a.rc, PD_END, "trace: an unknown event id decodes nothing");
	pd_trace_free(t);

	/* The last 16 bytes (kallsyms, printk, cmdlines) are optional, as in perf. */
	for (size_t cut = 0; cut < b.n - 16; cut += 3) {
		t = pd_trace_new(b.b, cut);
		if (!t || !pd_trace_errmsg(t)[0]) {
			ok(0, "trace: a cut blob is an error");
			pd_trace_free(t);
			return;
		}
		pd_trace_free(t);
	}
	ok(1, "trace: every cut blob is an error, and none crashes");
}

int
main(void)
{
	test_escape();
	test_writer();
	test_trace();
	return done_testing();
}
