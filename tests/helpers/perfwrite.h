/*
 * perfwrite.h - the writing half of the test helpers that produce perf.data
 * (gen-swap, gen-synth): fatal errors, a growth buffer that cannot fail,
 * records built field by field, feature strings, PERF_RECORD_COMPRESSED
 * records and the output file.  Header only, every function static inline,
 * so a helper uses what it needs.  Links with libpd.a (struct pd_buf) and
 * libzstd.
 *
 * Stores take BE: true writes big-endian, false little-endian, whatever the
 * host; the record builder writes in the order it was begun with.
 */
#ifndef PERFWRITE_H
#define PERFWRITE_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <zstd.h>

#include "pd-internal.h"

#define PW_PAD8(x)		(((x) + 7) & ~(uint64_t)7)

/* ---------------------------------------------------------------- */
/* Errors: one line "PROGRAM: message" on stderr, exit status 2. */

static inline void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static inline void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static inline void
buf_add(struct pd_buf *b, const void *p, size_t n)
{
	if (pd_buf_add(b, p, n) < 0)
		die("out of memory");
}

/* ---------------------------------------------------------------- */
/* Stores in a chosen byte order. */

static inline void
pw_st16(unsigned char *p, uint16_t v, bool be)
{
	if (be != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__))
		v = bswap_16(v);
	memcpy(p, &v, 2);
}

static inline void
pw_st32(unsigned char *p, uint32_t v, bool be)
{
	if (be != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__))
		v = bswap_32(v);
	memcpy(p, &v, 4);
}

static inline void
pw_st64(unsigned char *p, uint64_t v, bool be)
{
	if (be != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__))
		v = bswap_64(v);
	memcpy(p, &v, 8);
}

/* ---------------------------------------------------------------- */
/*
 * A record built in place at the end of a buffer: pw_begin writes the
 * header, the pw_* calls append fields, pw_end pads to 8 bytes (unless
 * told not to) and fills in header.size, which must fit its u16.
 */
struct pw_rec {
	struct pd_buf *b;
	size_t at;
	bool be;
};

static inline void
pw_u16(struct pw_rec *r, uint16_t v)
{
	unsigned char p[2];

	pw_st16(p, v, r->be);
	buf_add(r->b, p, 2);
}

static inline void
pw_u32(struct pw_rec *r, uint32_t v)
{
	unsigned char p[4];

	pw_st32(p, v, r->be);
	buf_add(r->b, p, 4);
}

static inline void
pw_u64(struct pw_rec *r, uint64_t v)
{
	unsigned char p[8];

	pw_st64(p, v, r->be);
	buf_add(r->b, p, 8);
}

static inline void
pw_bytes(struct pw_rec *r, const void *p, size_t n)
{
	buf_add(r->b, p, n);
}

/* Zero bytes up to the next multiple of 8 of the record's length. */
static inline void
pw_pad8(struct pw_rec *r)
{
	static const unsigned char zero[8];
	size_t len = r->b->len - r->at;

	buf_add(r->b, zero, PW_PAD8(len) - len);
}

/* A NUL-terminated string padded with NULs to 8 bytes (COMM, MMAP2, EVENT_UPDATE). */
static inline void
pw_cstr(struct pw_rec *r, const char *s)
{
	static const unsigned char zero[8];
	size_t n = strlen(s) + 1;

	buf_add(r->b, s, n - 1);
	buf_add(r->b, zero, PW_PAD8(n) - (n - 1));
}

static inline struct pw_rec
pw_begin(struct pd_buf *b, uint32_t type, uint16_t misc, bool be)
{
	struct pw_rec r = { b, b->len, be };

	pw_u32(&r, type);
	pw_u16(&r, misc);
	pw_u16(&r, 0);
	return r;
}

static inline void
pw_end(struct pw_rec *r, bool pad)
{
	size_t size;

	if (pad)
		pw_pad8(r);
	size = r->b->len - r->at;
	if (size > UINT16_MAX)
		die("a record of %zu bytes does not fit header.size", size);
	pw_st16((unsigned char *)r->b->buf + r->at + 6, (uint16_t)size, r->be);
}

/* A feature string (FORMAT-NOTES.md 1.4): u32 len, then the bytes NUL-padded to 64. */
static inline void
pw_feat_string(struct pd_buf *b, const char *s, bool be)
{
	static const unsigned char zero[64];
	size_t n = strlen(s) + 1;
	unsigned char len[4];

	pw_st32(len, (uint32_t)((n + 63) & ~(size_t)63), be);
	buf_add(b, len, 4);
	buf_add(b, s, n - 1);
	buf_add(b, zero, ((n + 63) & ~(size_t)63) - (n - 1));
}

/* ---------------------------------------------------------------- */
/*
 * COMPRESSED (81) and COMPRESSED2 (83) records (FORMAT-NOTES.md 5).  The
 * input is cut into pieces of at most PIECE bytes, so that no record
 * inflates to more than that (perf's buffer is the COMPRESSED feature's
 * mmap_len).  With END each piece is a finished zstd frame; without it all
 * the calls make one stream, flushed at the end of each piece, as perf -z
 * writes it.  Output that does not fit one record goes on in the next.
 */
struct pw_zstd {
	ZSTD_CCtx *cc;
	unsigned char *buf;
	uint64_t raw, packed;		/* bytes in and record bytes out */
};

#define PW_ZBUF			65536u

static inline void
pw_zstd_free(struct pw_zstd *z)
{
	ZSTD_freeCCtx(z->cc);
	free(z->buf);
	z->cc = NULL;
	z->buf = NULL;
}

static inline void
pw_compress(struct pw_zstd *z, struct pd_buf *out, const void *p, size_t n, size_t piece,
    uint32_t type, int level, bool end, bool be)
{
	/* header.size is a u16; COMPRESSED2 is padded to 8 after a u64 data size. */
	size_t cap = type == PERF_RECORD_COMPRESSED ? 65535 - 8 : 65528 - 16;
	const unsigned char *src = p;

	if (!z->cc) {
		z->cc = ZSTD_createCCtx();
		z->buf = malloc(PW_ZBUF);
		if (!z->cc || !z->buf)
			die("out of memory");
		ZSTD_CCtx_setParameter(z->cc, ZSTD_c_compressionLevel, level);
	}
	z->raw += n;
	while (n) {
		size_t k = n < piece ? n : piece, left;
		ZSTD_inBuffer in = { src, k, 0 };

		do {
			ZSTD_outBuffer o = { z->buf, cap, 0 };

			left = ZSTD_compressStream2(z->cc, &o, &in, end ? ZSTD_e_end : ZSTD_e_flush);
			if (ZSTD_isError(left))
				die("zstd: %s", ZSTD_getErrorName(left));
			if (o.pos) {
				static const unsigned char zero[8];
				unsigned char hdr[16];
				size_t size = type == PERF_RECORD_COMPRESSED ? 8 + o.pos :
				    PW_PAD8(16 + o.pos);

				pw_st32(hdr, type, be);
				pw_st16(hdr + 4, 0, be);
				pw_st16(hdr + 6, (uint16_t)size, be);
				if (type == PERF_RECORD_COMPRESSED) {
					buf_add(out, hdr, 8);
				} else {
					pw_st64(hdr + 8, o.pos, be);
					buf_add(out, hdr, 16);
				}
				buf_add(out, z->buf, o.pos);
				if (type != PERF_RECORD_COMPRESSED)
					buf_add(out, zero, size - 16 - o.pos);
				z->packed += size;
			}
		} while (left || in.pos < in.size);
		src += k;
		n -= k;
	}
}

/* ---------------------------------------------------------------- */

/* Write B to PATH ("-": standard output), or die. */
static inline void
write_output(const char *path, const struct pd_buf *b)
{
	bool std = !strcmp(path, "-");
	int fd = std ? STDOUT_FILENO : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t done = 0;

	if (fd < 0)
		die("cannot create '%s': %s", path, strerror(errno));
	while (done < b->len) {
		ssize_t k = write(fd, b->buf + done, b->len - done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die("cannot write '%s': %s", path, strerror(errno));
		done += (size_t)k;
	}
	if (!std && close(fd) < 0)
		die("cannot write '%s': %s", path, strerror(errno));
}

#endif
