/*
 * trace.c - tracepoint payloads (PERF_SAMPLE_RAW) decoded with
 * libtraceevent, from the event formats in a recording's TRACING_DATA.
 *
 * The blob is read as perf's util/trace-event-read.c reads it
 * (FORMAT-NOTES.md 1.5): magic, version, byte order, long and page size,
 * header_page, header_event, the ftrace formats, then per system the event
 * formats, kallsyms, printk formats and (version 0.6) saved cmdlines.  Its
 * integers are in the recording machine's byte order.  Every size is
 * checked against what is left of the blob before it is used.
 *
 * Field values are read here, bounds-checked against the payload, rather
 * than through tep_get_field_raw, which trusts __data_loc offsets.
 *
 * libtraceevent's format parser crashes on some malformed formats (found
 * by mutating recordings: a SEGV in the print-fmt parser) and leaks on
 * others.  So the blob is first parsed in a forked child, which reports
 * after each item (header_page, each format, printk) whether it parsed;
 * an item during which the child dies (or hangs for 10 s) is left out and
 * the child run again.  The process itself then hands libtraceevent only
 * the items that parsed cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event-parse.h>
#include <trace-seq.h>

#include "pd-internal.h"

struct pd_trace {
	struct tep_handle *tep;
	char *blob;			/* a NUL-terminated copy: libtraceevent wants text */
	size_t len;
	bool big_endian;
	struct pd_buf err;
	struct trace_seq seq;
	bool seq_ok;
	/* Items of the blob in order: header_page, each format, printk. */
	size_t item;
	int probe_fd;			/* in the probing child: where to report, else -1 */
	unsigned char *state;		/* per item: 0 unknown, 1 parsed, 2 failed, 3 crashed */
	size_t nstate, alloc_state;
};

enum { ST_UNKNOWN, ST_OK, ST_FAILED, ST_CRASHED };

/* Whether the current item may be given to libtraceevent. */
static bool
item_allowed(const struct pd_trace *t)
{
	unsigned char st = t->item < t->nstate ? t->state[t->item] : ST_UNKNOWN;

	if (t->probe_fd >= 0)
		return st != ST_CRASHED;
	return st == ST_OK;
}

/* The current item is done: report it when probing. */
static void
item_done(struct pd_trace *t, bool parsed)
{
	if (t->probe_fd >= 0) {
		unsigned char b = parsed ? ST_OK : ST_FAILED;

		if (write(t->probe_fd, &b, 1) != 1)
			_exit(3);
	}
	t->item++;
}

/* A cursor over the blob, in its byte order. */
struct tcur {
	const unsigned char *p, *end;
	bool be, bad;
};

static bool
host_big_endian(void)
{
	const uint16_t one = 1;

	return *(const unsigned char *)&one == 0;
}

static uint64_t
tnum(struct tcur *c, size_t n)
{
	uint64_t v = 0;

	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned b = c->be ? c->p[i] : c->p[n - 1 - i];

		v = v << 8 | b;
	}
	c->p += n;
	return v;
}

/* N bytes of the blob, or NULL. */
static const char *
tbytes(struct tcur *c, uint64_t n)
{
	const char *p = (const char *)c->p;

	if (c->bad || (uint64_t)(c->end - c->p) < n) {
		c->bad = true;
		return NULL;
	}
	c->p += n;
	return p;
}

/* A NUL-terminated string of the blob, or NULL. */
static const char *
tstring(struct tcur *c)
{
	const unsigned char *z;

	if (c->bad)
		return NULL;
	z = memchr(c->p, '\0', (size_t)(c->end - c->p));
	if (!z) {
		c->bad = true;
		return NULL;
	}
	{
		const char *s = (const char *)c->p;

		c->p = z + 1;
		return s;
	}
}

static void
fail(struct pd_trace *t, const struct tcur *c, const char *what)
{
	if (t->err.len)
		return;
	pd_buf_addf(&t->err, "tracing data: %s at byte %zu of %zu", what,
	    (size_t)((const char *)c->p - t->blob), t->len);
}

/*
 * Whether the field lines of a format look as the kernel writes them:
 * "\tfield:TYPE NAME;\toffset:N;..." with only C type and name characters
 * before the first ';'.  libtraceevent leaks on some other shapes.
 */
static bool
fields_sane(const char *text, size_t n)
{
	const char *p = text, *end = text + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;

		if (e - p > 7 && !memcmp(p, "\tfield:", 7)) {
			for (const char *q = p + 7; q < e && *q != ';'; q++)
				if (!(*q == '_' || *q == ' ' || *q == '*' || *q == '[' || *q == ']' ||
				    (*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')))
					return false;
		}
		p = e + 1;
	}
	return true;
}

/*
 * Parse one event format of SIZE bytes.  A format libtraceevent cannot
 * parse loses that event's decoding only, as in perf.
 */
static void
parse_format(struct pd_trace *t, struct tcur *c, const char *sys)
{
	uint64_t size = tnum(c, 8);
	const char *text = tbytes(c, size);

	if (text && item_allowed(t) && fields_sane(text, (size_t)size))
		item_done(t, tep_parse_event(t->tep, text, (unsigned long)size, sys) == TEP_ERRNO__SUCCESS);
	else if (text)
		item_done(t, false);
}

static void
parse_blob(struct pd_trace *t)
{
	struct tcur c = { (const unsigned char *)t->blob, (const unsigned char *)t->blob + t->len, false, false };
	const char *magic = tbytes(&c, 10), *version, *s;
	uint64_t n, size;
	int long_size;

	if (!magic || memcmp(magic, "\027\010\104tracing", 10)) {
		fail(t, &c, "bad magic");
		return;
	}
	version = tstring(&c);
	s = tbytes(&c, 1);
	if (!version || !s) {
		fail(t, &c, "truncated header");
		return;
	}
	t->big_endian = *s != 0;
	c.be = t->big_endian;
	tep_set_file_bigendian(t->tep, t->big_endian ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
	tep_set_local_bigendian(t->tep, host_big_endian() ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
	long_size = (int)tnum(&c, 1);
	tep_set_long_size(t->tep, long_size);
	tep_set_page_size(t->tep, (int)tnum(&c, 4));

	s = tbytes(&c, 12);
	if (!s || memcmp(s, "header_page", 12)) {
		fail(t, &c, "no header_page");
		return;
	}
	size = tnum(&c, 8);
	s = tbytes(&c, size);
	if (!s) {
		fail(t, &c, "truncated header_page");
		return;
	}
	{
		/* libtraceevent's prototype wants a writable buffer. */
		char *hp = strndup(s, (size_t)size);
		bool parsed = false;

		if (hp && item_allowed(t)) {
			parsed = tep_parse_header_page(t->tep, hp, (unsigned long)size, long_size) == 0;
			if (parsed)
				tep_set_long_size(t->tep, tep_get_header_page_size(t->tep));
		}
		item_done(t, parsed);
		free(hp);
	}
	s = tbytes(&c, 13);
	if (!s || memcmp(s, "header_event", 13)) {
		fail(t, &c, "no header_event");
		return;
	}
	tbytes(&c, tnum(&c, 8));

	n = tnum(&c, 4);
	for (uint64_t i = 0; i < n && !c.bad; i++)
		parse_format(t, &c, "ftrace");
	n = tnum(&c, 4);
	for (uint64_t i = 0; i < n && !c.bad; i++) {
		const char *sys = tstring(&c);
		uint64_t k = tnum(&c, 4);

		for (uint64_t e = 0; e < k && !c.bad; e++)
			parse_format(t, &c, sys);
	}
	if (c.bad) {
		fail(t, &c, "truncated event formats");
		return;
	}
	/* kallsyms (perf 6.1 writes none) and printk formats: optional from here on. */
	size = tnum(&c, 4);
	tbytes(&c, size);
	size = tnum(&c, 4);
	s = tbytes(&c, size);
	if (s && size) {
		char *pk = strndup(s, (size_t)size);

		if (pk && item_allowed(t))
			item_done(t, tep_parse_printk_formats(t->tep, pk) == 0);
		else
			item_done(t, false);
		free(pk);
	}
}

/*
 * Parse the blob in a child, as many times as it takes to find the items
 * that crash libtraceevent (at most 32).  Returns false when probing is not
 * possible (no fork) or never ends cleanly.
 */
static bool
probe(struct pd_trace *t)
{
	for (int attempt = 0; attempt < 32; attempt++) {
		int fd[2], status;
		pid_t pid;
		size_t got = 0;

		if (pipe(fd) < 0)
			return false;
		pid = fork();
		if (pid < 0) {
			close(fd[0]);
			close(fd[1]);
			return false;
		}
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			/* libtraceevent warns on stderr about what it cannot parse. */
			if (null >= 0)
				dup2(null, 2);
			close(fd[0]);
			signal(SIGALRM, SIG_DFL);
			alarm(10);
			t->probe_fd = fd[1];
			t->item = 0;
			parse_blob(t);
			_exit(0);
		}
		close(fd[1]);
		for (;;) {
			unsigned char b;
			ssize_t k = read(fd[0], &b, 1);

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			if (PD_GROW(t->state, got + 1, t->alloc_state) < 0) {
				close(fd[0]);
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				return false;
			}
			/* Keep what earlier runs learnt about crashing items. */
			if (got >= t->nstate || t->state[got] != ST_CRASHED)
				t->state[got] = b;
			got++;
		}
		close(fd[0]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (got > t->nstate)
			t->nstate = got;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			return true;
		/* It died during item GOT: leave that one out next time. */
		if (PD_GROW(t->state, got + 1, t->alloc_state) < 0)
			return false;
		if (got >= t->nstate)
			t->nstate = got + 1;
		t->state[got] = ST_CRASHED;
	}
	return false;
}

struct pd_trace *
pd_trace_new(const void *blob, size_t len)
{
	struct pd_trace *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->err = (struct pd_buf)PD_BUF_INIT;
	t->blob = malloc(len + 1);
	t->tep = tep_alloc();
	if (!t->blob || !t->tep) {
		pd_trace_free(t);
		return NULL;
	}
	memcpy(t->blob, blob, len);
	t->blob[len] = '\0';
	t->len = len;
	trace_seq_init(&t->seq);
	t->seq_ok = true;
	t->probe_fd = -1;
	if (!probe(t)) {
		pd_buf_addstr(&t->err, "tracing data: libtraceevent cannot parse it safely");
		return t;
	}
	t->item = 0;
	parse_blob(t);
	return t;
}

void
pd_trace_free(struct pd_trace *t)
{
	if (!t)
		return;
	if (t->tep)
		tep_free(t->tep);
	if (t->seq_ok)
		trace_seq_destroy(&t->seq);
	free(t->blob);
	free(t->state);
	pd_buf_release(&t->err);
	free(t);
}

const char *
pd_trace_errmsg(const struct pd_trace *t)
{
	return t->err.buf;
}

/* An unsigned integer of N bytes at P, in the blob's byte order. */
static uint64_t
raw_num(const struct pd_trace *t, const unsigned char *p, size_t n)
{
	struct tcur c = { p, p + n, t->big_endian, false };

	return tnum(&c, n);
}

/*
 * Where a __data_loc (or __rel_loc) field's bytes are: false when the
 * location lies outside the payload.
 */
static bool
dynamic_loc(const struct pd_trace *t, const struct tep_format_field *f, const unsigned char *raw,
    uint32_t size, uint32_t *off, uint32_t *len)
{
	uint32_t v;

	if (f->offset < 0 || f->size != 4 || (uint32_t)f->offset > size || size - (uint32_t)f->offset < 4)
		return false;
	v = (uint32_t)raw_num(t, raw + f->offset, 4);
	*off = v & 0xffff;
	*len = v >> 16;
	if (f->flags & TEP_FIELD_IS_RELATIVE)
		*off += (uint32_t)f->offset + 4;
	return *off <= size && *len <= size - *off;
}

static bool
is_char_type(const char *type)
{
	return strstr(type, "char") != NULL;
}

/* Numbers of ELEM bytes from P (N bytes) as a JSON array. */
static void
write_array(const struct pd_trace *t, struct pd_json *j, const unsigned char *p, uint32_t n,
    unsigned elem, bool is_signed)
{
	if (elem != 1 && elem != 2 && elem != 4 && elem != 8)
		elem = 1;
	pd_json_begin_array(j);
	for (uint32_t i = 0; i + elem <= n; i += elem) {
		uint64_t v = raw_num(t, p + i, elem);

		if (is_signed && elem < 8 && (v >> (8 * elem - 1)) & 1)
			v |= ~0ull << (8 * elem);
		if (is_signed)
			pd_json_i64(j, (int64_t)v);
		else
			pd_json_u64(j, v);
	}
	pd_json_end_array(j);
}

static void
write_field(const struct pd_trace *t, struct pd_json *j, const struct tep_format_field *f,
    const unsigned char *raw, uint32_t size)
{
	bool sgn = f->flags & TEP_FIELD_IS_SIGNED;
	uint32_t off, len;

	pd_json_key(j, f->name);
	if (f->flags & TEP_FIELD_IS_DYNAMIC) {
		if (!dynamic_loc(t, f, raw, size, &off, &len)) {
			pd_json_null(j);
			return;
		}
		if (is_char_type(f->type))
			pd_json_strn(j, (const char *)raw + off, strnlen((const char *)raw + off, len));
		else
			write_array(t, j, raw + off, len, f->elementsize, sgn);
		return;
	}
	if (f->offset < 0 || f->size < 0 || (uint32_t)f->offset > size ||
	    (uint32_t)f->size > size - (uint32_t)f->offset) {
		pd_json_null(j);
		return;
	}
	if (f->flags & TEP_FIELD_IS_ARRAY) {
		const char *p = (const char *)raw + f->offset;

		if ((f->flags & TEP_FIELD_IS_STRING) || is_char_type(f->type))
			pd_json_strn(j, p, strnlen(p, (size_t)f->size));
		else
			write_array(t, j, raw + f->offset, (uint32_t)f->size, f->elementsize, sgn);
		return;
	}
	if (f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8) {
		pd_json_null(j);
		return;
	}
	{
		uint64_t v = raw_num(t, raw + f->offset, (size_t)f->size);

		if (sgn) {
			if (f->size < 8 && (v >> (8 * f->size - 1)) & 1)
				v |= ~0ull << (8 * f->size);
			pd_json_i64(j, (int64_t)v);
		} else {
			pd_json_u64(j, v);
		}
	}
}

/* Whether every field of E lies inside the payload, so that printing is safe. */
static bool
fields_inside(const struct pd_trace *t, struct tep_event *e, const unsigned char *raw, uint32_t size)
{
	struct tep_format_field *lists[2] = { e->format.common_fields, e->format.fields };

	for (int l = 0; l < 2; l++)
		for (struct tep_format_field *f = lists[l]; f; f = f->next) {
			uint32_t off, len;

			if (f->offset < 0 || f->size < 0 || (uint32_t)f->offset > size ||
			    (uint32_t)f->size > size - (uint32_t)f->offset)
				return false;
			if ((f->flags & TEP_FIELD_IS_DYNAMIC) && !dynamic_loc(t, f, raw, size, &off, &len))
				return false;
		}
	return true;
}

int
pd_trace_write_fields(struct pd_trace *t, uint64_t id, const unsigned char *raw, uint32_t size,
    uint32_t cpu, struct pd_json *j, const char **print)
{
	struct tep_event *e;

	if (print)
		*print = NULL;
	if (!t->tep || t->err.len || id > INT32_MAX || !raw)
		return PD_END;
	e = tep_find_event(t->tep, (int)id);
	if (!e || !fields_inside(t, e, raw, size))
		return PD_END;
	pd_json_begin_object(j);
	for (struct tep_format_field *f = e->format.fields; f; f = f->next)
		write_field(t, j, f, raw, size);
	pd_json_end_object(j);
	if (print) {
		struct tep_record rec;

		memset(&rec, 0, sizeof(rec));
		rec.data = (void *)(uintptr_t)raw;
		rec.size = (int)size;
		rec.cpu = (int)cpu;
		trace_seq_reset(&t->seq);
		/* tep_print_event finds the event from the payload's common_type. */
		if (tep_data_type(t->tep, &rec) != (int)id)
			return PD_OK;
		tep_print_event(t->tep, &t->seq, &rec, "%s", TEP_PRINT_INFO);
		trace_seq_terminate(&t->seq);
		*print = t->seq.buffer;
	}
	return PD_OK;
}
