/*
 * dwimage.c - a file's DWARF for names and lines, with only the sections
 * that are read for them inflated.
 *
 * Debug files are usually compressed (SHF_COMPRESSED, zlib: Debian's
 * libc6-dbg and every dh_strip'ed -dbgsym package), and libdw's
 * dwarf_begin_elf inflates every DWARF section it knows when it opens a
 * file, with zlib, whether or not it is ever read.  For libc's debug file
 * that is 3.8 MB inflated to 10 MB, 60 ms of CPU, more than the rest of a
 * --call-graph dwarf profile's symbolization.  Names, inline chains and
 * line numbers read .debug_info, .debug_abbrev, the string, line, range
 * and address tables; never the location lists (.debug_loc,
 * .debug_loclists: a quarter of the bytes), the CFI (.debug_frame; the
 * unwinder reads its own), macros or name indexes.
 *
 * So when a file has compressed DWARF, the sections that are read are
 * inflated here with libdeflate (whole-buffer inflation, about 2.5 times
 * zlib's speed on these sections, and it checks the zlib stream's Adler-32
 * as zlib does) into a small ELF image in memory that holds only them,
 * uncompressed, and that image is given to dwarf_begin_elf.  A file
 * without compressed DWARF, or with what the image does not handle (GNU
 * .zdebug sections, another byte order or class), is given to libdw as it
 * is (mapped), which inflates it its own way.  Relocatable files (whose
 * DWARF needs relocating, as libdwfl does) and compression other than zlib
 * are not for this: NULL, and the caller opens the DWARF through libdwfl
 * as before.
 *
 * libdw finds a dwz file (.gnu_debugaltlink) relative to the file's own
 * directory, which an image in memory does not have: it is opened here
 * beside the file, its build-id checked, and set with dwarf_setalt; when
 * that fails, libdw's own search by build-id remains.
 */
#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libdeflate.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <elfutils/libdwelf.h>

#include "dwimage.h"

#define MAX_IMAGE	(1ull << 31)	/* bytes of sections kept, inflated */
#define MAX_SECTIONS	256		/* DWARF sections kept */
#define DEFLATE_RATIO	1032		/* DEFLATE's largest expansion */

struct pd_dwimage {
	int fd;
	Elf *file;			/* the file, mapped; NULL once an image is made */
	char *image;			/* the sections kept, as an ELF image; or NULL */
	size_t image_size;
	Elf *elf;			/* over the image */
	Dwarf *dw;
	struct pd_dwimage *alt;		/* the dwz file, set with dwarf_setalt */
	unsigned char bid[64];		/* the file's build-id */
	size_t bid_size;
};

/* Sections that names and lines never read. */
static const char *const unread[] = {
	".debug_loc", ".debug_loclists", ".debug_frame", ".debug_macro", ".debug_macinfo",
	".debug_pubnames", ".debug_pubtypes", ".debug_names",
};

static bool
is_unread(const char *name)
{
	for (size_t i = 0; i < sizeof(unread) / sizeof(unread[0]); i++)
		if (!strcmp(name, unread[i]))
			return true;
	return false;
}

bool
pd_dwimage_has_dwarf(Elf *e)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (!e || elf_getshdrstrndx(e, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS || !sh.sh_size)
			continue;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (name && (!strcmp(name, ".debug_info") || !strcmp(name, ".debug_line") ||
		    !strcmp(name, ".zdebug_info") || !strcmp(name, ".zdebug_line")))
			return true;
	}
	return false;
}

struct kept {
	Elf_Scn *scn;
	const char *name;
	GElf_Shdr sh;
	uint64_t size, align, off;	/* in the image */
	bool compressed;
};

static uint64_t
align_up(uint64_t v, uint64_t a)
{
	return a > 1 ? (v + a - 1) / a * a : v;
}

/*
 * The DWARF sections of E that are read, into K; whether an image of them
 * is both needed (some DWARF section is compressed) and possible.
 */
static bool
plan_image(Elf *e, struct kept *k, size_t *nk)
{
	const uint16_t one = 1;
	bool native = *(const unsigned char *)&one == 1;
	GElf_Ehdr eh;
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	bool compressed = false;
	uint64_t total = 0;

	*nk = 0;
	if (!gelf_getehdr(e, &eh) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != (native ? ELFDATA2LSB : ELFDATA2MSB) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) || elf_getshdrstrndx(e, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;
		bool debug;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(e, shstrndx, sh.sh_name)))
			return false;
		if (!strncmp(name, ".zdebug", 7))
			return false;		/* GNU compression: libdw's own way */
		debug = !strncmp(name, ".debug_", 7);
		if (debug && (sh.sh_flags & SHF_COMPRESSED))
			compressed = true;
		if (sh.sh_type == SHT_NOBITS || (!debug && strcmp(name, ".gnu_debugaltlink")) ||
		    is_unread(name))
			continue;
		if ((sh.sh_flags & SHF_GROUP) || *nk >= MAX_SECTIONS)
			return false;
		k[*nk] = (struct kept){ .scn = scn, .name = name, .sh = sh, .size = sh.sh_size,
		    .align = sh.sh_addralign ? sh.sh_addralign : 1 };
		if (sh.sh_flags & SHF_COMPRESSED) {
			Elf_Data *raw = elf_rawdata(scn, NULL);
			Elf64_Chdr ch;

			if (!raw || !raw->d_buf || raw->d_size < sizeof(ch))
				return false;
			memcpy(&ch, raw->d_buf, sizeof(ch));
			if (ch.ch_type != ELFCOMPRESS_ZLIB || ch.ch_size == 0 ||
			    ch.ch_size / DEFLATE_RATIO > raw->d_size)
				return false;	/* libdw's own way (or its error) */
			k[*nk].size = ch.ch_size;
			k[*nk].align = ch.ch_addralign ? ch.ch_addralign : 1;
			k[*nk].compressed = true;
		}
		if (k[*nk].align > 4096 || (k[*nk].align & (k[*nk].align - 1)))
			return false;
		total += k[*nk].size;
		if (total > MAX_IMAGE)
			return false;
		(*nk)++;
	}
	return compressed && *nk > 0;
}

/* Lay out and fill M's image from the sections K; false on any failure. */
static bool
make_image(struct pd_dwimage *m, struct kept *k, size_t nk)
{
	GElf_Ehdr eh;
	Elf64_Ehdr *out;
	Elf64_Shdr *sh;
	struct libdeflate_decompressor *dec = libdeflate_alloc_decompressor();
	uint64_t off = sizeof(Elf64_Ehdr), stroff, strsize = 1 + sizeof(".shstrtab"), shoff;
	char *strtab;
	bool ok = true;

	if (!dec || !gelf_getehdr(m->file, &eh)) {
		libdeflate_free_decompressor(dec);
		return false;
	}
	for (size_t i = 0; i < nk; i++) {
		off = align_up(off, k[i].align);
		k[i].off = off;
		off += k[i].size;
		strsize += strlen(k[i].name) + 1;
	}
	stroff = off;
	shoff = align_up(stroff + strsize, 8);
	m->image_size = shoff + (nk + 2) * sizeof(Elf64_Shdr);
	m->image = calloc(1, m->image_size);
	if (!m->image) {
		libdeflate_free_decompressor(dec);
		return false;
	}
	out = (Elf64_Ehdr *)m->image;
	sh = (Elf64_Shdr *)(m->image + shoff);
	strtab = m->image + stroff;
	memcpy(out->e_ident, eh.e_ident, EI_NIDENT);
	out->e_type = eh.e_type;
	out->e_machine = eh.e_machine;
	out->e_version = eh.e_version;
	out->e_flags = eh.e_flags;
	out->e_ehsize = sizeof(Elf64_Ehdr);
	out->e_shoff = shoff;
	out->e_shentsize = sizeof(Elf64_Shdr);
	out->e_shnum = (Elf64_Half)(nk + 2);
	out->e_shstrndx = (Elf64_Half)(nk + 1);
	stroff = 1;
	for (size_t i = 0; i < nk && ok; i++) {
		Elf_Data *raw = elf_rawdata(k[i].scn, NULL);
		char *dst = m->image + k[i].off;

		if (!raw || (!raw->d_buf && raw->d_size)) {
			ok = false;
			break;
		}
		if (k[i].compressed) {
			size_t got = 0;

			ok = libdeflate_zlib_decompress(dec, (const char *)raw->d_buf + sizeof(Elf64_Chdr),
			    raw->d_size - sizeof(Elf64_Chdr), dst, k[i].size, &got) == LIBDEFLATE_SUCCESS &&
			    got == k[i].size;
		} else if (raw->d_size == k[i].size) {
			memcpy(dst, raw->d_buf, raw->d_size);
		} else {
			ok = false;
		}
		sh[i + 1] = (Elf64_Shdr){
			.sh_name = (Elf64_Word)stroff, .sh_type = k[i].sh.sh_type,
			.sh_flags = k[i].sh.sh_flags & ~(uint64_t)SHF_COMPRESSED,
			.sh_offset = k[i].off, .sh_size = k[i].size, .sh_addralign = k[i].align,
			.sh_entsize = k[i].sh.sh_entsize,
		};
		memcpy(strtab + stroff, k[i].name, strlen(k[i].name) + 1);
		stroff += strlen(k[i].name) + 1;
	}
	libdeflate_free_decompressor(dec);
	if (!ok)
		return false;
	memcpy(strtab + stroff, ".shstrtab", sizeof(".shstrtab"));
	sh[nk + 1] = (Elf64_Shdr){
		.sh_name = (Elf64_Word)stroff, .sh_type = SHT_STRTAB,
		.sh_offset = (uint64_t)(strtab - m->image), .sh_size = strsize, .sh_addralign = 1,
	};
	m->elf = elf_memory(m->image, m->image_size);
	return m->elf != NULL;
}

static struct pd_dwimage *open_file(const char *path, bool alt);

/* The dwz file of M (whose path is PATH), set as its alt when found beside it. */
static void
set_alt(struct pd_dwimage *m, const char *path)
{
	const char *name, *slash;
	const void *bid;
	ssize_t n = dwelf_dwarf_gnu_debugaltlink(m->dw, &name, &bid);
	char buf[4096];

	if (n <= 0 || !name || !*name)
		return;
	slash = strrchr(path, '/');
	if (name[0] == '/')
		snprintf(buf, sizeof(buf), "%s", name);
	else if ((size_t)snprintf(buf, sizeof(buf), "%.*s%s", slash ? (int)(slash - path + 1) : 0, path,
	    name) >= sizeof(buf))
		return;
	m->alt = open_file(buf, true);
	if (m->alt && (m->alt->bid_size != (size_t)n || memcmp(m->alt->bid, bid, (size_t)n))) {
		pd_dwimage_free(m->alt);	/* not the file named: libdw searches by build-id */
		m->alt = NULL;
	}
	if (m->alt)
		dwarf_setalt(m->dw, m->alt->dw);
}

static struct pd_dwimage *
open_file(const char *path, bool alt)
{
	struct pd_dwimage *m = calloc(1, sizeof(*m));
	struct kept *k = NULL;
	size_t nk = 0;
	const void *bid;
	ssize_t nb;

	if (!m)
		return NULL;
	m->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (m->fd < 0 || !(m->file = elf_begin(m->fd, ELF_C_READ_MMAP, NULL)) ||
	    elf_kind(m->file) != ELF_K_ELF)
		goto fail;
	{
		GElf_Ehdr eh;

		if (!gelf_getehdr(m->file, &eh) || eh.e_type == ET_REL)
			goto fail;		/* its DWARF needs relocating: libdwfl's */
	}
	nb = dwelf_elf_gnu_build_id(m->file, &bid);
	if (nb > 0 && (size_t)nb <= sizeof(m->bid)) {
		memcpy(m->bid, bid, (size_t)nb);
		m->bid_size = (size_t)nb;
	}
	k = calloc(MAX_SECTIONS, sizeof(*k));
	if (!k)
		goto fail;
	if (plan_image(m->file, k, &nk)) {
		if (!make_image(m, k, nk))
			goto fail;
		m->dw = dwarf_begin_elf(m->elf, DWARF_C_READ, NULL);
		elf_end(m->file);	/* the image holds all that is read */
		m->file = NULL;
		close(m->fd);
		m->fd = -1;
	} else {
		m->dw = dwarf_begin_elf(m->file, DWARF_C_READ, NULL);
	}
	free(k);
	k = NULL;
	if (!m->dw)
		goto fail;
	if (!alt)
		set_alt(m, path);
	return m;
fail:
	free(k);
	pd_dwimage_free(m);
	return NULL;
}

struct pd_dwimage *
pd_dwimage_open(const char *path)
{
	if (!path || elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	return open_file(path, false);
}

Dwarf *
pd_dwimage_dwarf(struct pd_dwimage *m)
{
	return m ? m->dw : NULL;
}

void
pd_dwimage_free(struct pd_dwimage *m)
{
	if (!m)
		return;
	if (m->dw)
		dwarf_end(m->dw);
	pd_dwimage_free(m->alt);	/* after the Dwarf that refers to it */
	if (m->elf)
		elf_end(m->elf);
	free(m->image);
	if (m->file)
		elf_end(m->file);
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}
