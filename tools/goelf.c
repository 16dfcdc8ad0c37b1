// SPDX-License-Identifier: GPL-2.0
/*
 * Go marks in ELF files, after Go's own debug/buildinfo and cmd/internal/
 * buildid.  Everything read from the file goes through src_read(), which
 * refuses any range beyond the file's end; tables and strings have fixed
 * upper bounds, so a hostile file costs at most a few megabytes and a few
 * reads.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "goelf.h"
#include "goenv.h"

/* ELF constants (elf.h has them, but not the Go note type). */
#define EI_NIDENT	16
#define ELFCLASS32	1
#define ELFCLASS64	2
#define ELFDATA2LSB	1
#define ELFDATA2MSB	2
#define PT_LOAD		1
#define PT_NOTE		4
#define PF_X		1
#define PF_W		2
#define SHT_NOBITS	8
#define SHT_NOTE	7
/* cmd/link: ELF_NOTE_GOBUILDID_TAG, in a note owned by "Go". */
#define NT_GO_BUILDID	4

/* No real executable comes near these; beyond them it is malformed. */
#define TABLE_MAX	(1 << 20)	/* program or section header table */
#define SHSTRTAB_MAX	(1 << 20)
#define NOTES_MAX	(64 << 10)	/* one PT_NOTE segment or note section */
/* Go reads this much from the start of the data for the build info. */
#define BUILDINFO_SCAN	(64 << 10)
#define BUILDINFO_ALIGN	16
#define BUILDINFO_HDR	32
#define MODINFO_MAX	(64 << 10)
/* cmd/go's sentinels around the module info, 16 bytes each. */
#define MODINFO_FRAME	16

static const char buildinfo_magic[14] = "\xff Go buildinf:";

/* Where the bytes come from: a file descriptor, or memory. */
struct src {
	int fd;
	const unsigned char *mem;
	uint64_t size;
};

struct seg {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, align;
};

struct sec {
	uint32_t name, type;
	uint64_t addr, offset, size;
};

struct elf {
	const struct src *src;
	bool is64, be;
	struct seg *segs;
	size_t n_segs;
	struct sec *secs;
	size_t n_secs;
	char *shstrtab;
	size_t shstrtab_len;
};

/* len bytes at off, all inside the file, or -ENOEXEC (or -errno). */
static int src_read(const struct src *s, uint64_t off, void *dst, size_t len)
{
	unsigned char *p = dst;
	ssize_t n;

	if (off > s->size || len > s->size - off)
		return -ENOEXEC;
	if (!len)
		return 0;
	if (s->mem) {
		memcpy(dst, s->mem + off, len);
		return 0;
	}
	while (len) {
		n = pread(s->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		/* Shorter than fstat() said: it changed under us. */
		if (n == 0)
			return -ENOEXEC;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* Up to max bytes at off, fewer where the file ends; *len says how many. */
static int src_read_upto(const struct src *s, uint64_t off, uint64_t want,
			 size_t max, unsigned char **buf, size_t *len)
{
	int err;

	if (off >= s->size)
		return -ENOEXEC;
	if (want > s->size - off)
		want = s->size - off;
	*len = want < max ? (size_t)want : max;
	*buf = malloc(*len ? *len : 1);
	if (!*buf)
		return -ENOMEM;
	err = src_read(s, off, *buf, *len);
	if (err) {
		free(*buf);
		*buf = NULL;
	}
	return err;
}

static uint16_t get16(bool be, const unsigned char *p)
{
	return be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t get32(bool be, const unsigned char *p)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3] :
		    (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
		    (uint32_t)p[1] << 8 | p[0];
}

static uint64_t get64(bool be, const unsigned char *p)
{
	uint64_t hi = get32(be, be ? p : p + 4), lo = get32(be, be ? p + 4 : p);

	return hi << 32 | lo;
}

/* An address or offset: 4 bytes in ELF32, 8 in ELF64. */
static uint64_t get_word(const struct elf *e, const unsigned char *p)
{
	return e->is64 ? get64(e->be, p) : get32(e->be, p);
}

/*
 * A table of n entries of entsize bytes (at least need) at off: read whole,
 * or not at all when it lies beyond the file or is absurdly large.
 */
static int read_table(const struct elf *e, uint64_t off, uint16_t n,
		      uint16_t entsize, size_t need, unsigned char **table)
{
	size_t bytes = (size_t)n * entsize;
	int err;

	*table = NULL;
	if (!off || !n || entsize < need || bytes > TABLE_MAX)
		return 0;
	*table = malloc(bytes);
	if (!*table)
		return -ENOMEM;
	err = src_read(e->src, off, *table, bytes);
	if (err) {
		free(*table);
		*table = NULL;
	}
	/* A table beyond the end leaves the file without it, not unreadable. */
	return err == -ENOEXEC ? 0 : err;
}

static int load_segments(struct elf *e, uint64_t phoff, uint16_t phnum,
			 uint16_t phentsize)
{
	unsigned char *t, *p;
	size_t i;
	int err;

	err = read_table(e, phoff, phnum, phentsize, e->is64 ? 56 : 32, &t);
	if (err || !t)
		return err;
	e->segs = calloc(phnum, sizeof(*e->segs));
	if (!e->segs) {
		free(t);
		return -ENOMEM;
	}
	for (i = 0; i < phnum; i++) {
		struct seg *s = &e->segs[i];

		p = t + i * phentsize;
		s->type = get32(e->be, p);
		if (e->is64) {
			s->flags = get32(e->be, p + 4);
			s->offset = get64(e->be, p + 8);
			s->vaddr = get64(e->be, p + 16);
			s->filesz = get64(e->be, p + 32);
			s->align = get64(e->be, p + 48);
		} else {
			s->offset = get32(e->be, p + 4);
			s->vaddr = get32(e->be, p + 8);
			s->filesz = get32(e->be, p + 16);
			s->flags = get32(e->be, p + 24);
			s->align = get32(e->be, p + 28);
		}
	}
	e->n_segs = phnum;
	free(t);
	return 0;
}

static int load_sections(struct elf *e, uint64_t shoff, uint16_t shnum,
			 uint16_t shentsize, uint16_t shstrndx)
{
	unsigned char *t, *p;
	size_t i;
	int err;

	err = read_table(e, shoff, shnum, shentsize, e->is64 ? 64 : 40, &t);
	if (err || !t)
		return err;
	e->secs = calloc(shnum, sizeof(*e->secs));
	if (!e->secs) {
		free(t);
		return -ENOMEM;
	}
	for (i = 0; i < shnum; i++) {
		struct sec *s = &e->secs[i];

		p = t + i * shentsize;
		s->name = get32(e->be, p);
		s->type = get32(e->be, p + 4);
		s->addr = get_word(e, p + (e->is64 ? 16 : 12));
		s->offset = get_word(e, p + (e->is64 ? 24 : 16));
		s->size = get_word(e, p + (e->is64 ? 32 : 20));
	}
	e->n_secs = shnum;
	free(t);

	/* Without names (SHN_XINDEX, a bad index) no section can be found. */
	if (shstrndx >= shnum || e->secs[shstrndx].type == SHT_NOBITS)
		return 0;
	err = src_read_upto(e->src, e->secs[shstrndx].offset,
			    e->secs[shstrndx].size, SHSTRTAB_MAX,
			    (unsigned char **)&e->shstrtab, &e->shstrtab_len);
	return err == -ENOEXEC ? 0 : err;
}

static const struct sec *find_section(const struct elf *e, const char *name)
{
	size_t i, len = strlen(name) + 1;

	for (i = 0; e->shstrtab && i < e->n_secs; i++) {
		uint32_t off = e->secs[i].name;

		if (off < e->shstrtab_len && e->shstrtab_len - off >= len &&
		    !memcmp(e->shstrtab + off, name, len))
			return &e->secs[i];
	}
	return NULL;
}

/*
 * Bytes at a virtual address, from the file part of the PT_LOAD segment that
 * holds it: at most max, fewer where the segment ends.
 */
static int read_vaddr(const struct elf *e, uint64_t addr, uint64_t want,
		      size_t max, unsigned char **buf, size_t *len)
{
	size_t i;

	for (i = 0; i < e->n_segs; i++) {
		const struct seg *s = &e->segs[i];
		uint64_t rel = addr - s->vaddr;

		if (s->type != PT_LOAD || addr < s->vaddr || rel >= s->filesz)
			continue;
		if (want > s->filesz - rel)
			want = s->filesz - rel;
		if (s->offset > UINT64_MAX - rel)
			return -ENOEXEC;
		return src_read_upto(e->src, s->offset + rel, want, max, buf, len);
	}
	return -ENOEXEC;
}

/* encoding/binary's Uvarint, bounded by len; 0 when malformed. */
static size_t uvarint(const unsigned char *p, size_t len, uint64_t *v)
{
	unsigned int shift = 0;
	size_t i;

	*v = 0;
	for (i = 0; i < len && i < 10; i++) {
		if (i == 9 && p[i] > 1)
			return 0;
		*v |= (uint64_t)(p[i] & 0x7f) << shift;
		if (!(p[i] & 0x80))
			return i + 1;
		shift += 7;
	}
	return 0;
}

/* The value of the modinfo line "<key>\t<value>[\t...]\n", if complete. */
static void modinfo_field(const char *mod, size_t len, const char *key,
			  char *out, size_t out_size)
{
	size_t klen = strlen(key), pos = 0;

	while (pos < len) {
		const char *line = mod + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t line_len, vlen;
		const char *tab;

		if (!nl)
			return;
		line_len = (size_t)(nl - line);
		if (line_len > klen && !memcmp(line, key, klen) &&
		    line[klen] == '\t') {
			tab = memchr(line + klen + 1, '\t', line_len - klen - 1);
			vlen = (size_t)((tab ? tab : nl) - (line + klen + 1));
			goenv_printable(out, out_size, line + klen + 1, vlen);
			return;
		}
		pos += line_len + 1;
	}
}

/* Whether the modinfo has a complete line "<key>\t<value>\t..." or "...\n". */
static bool modinfo_has(const char *mod, size_t len, const char *key,
			const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value), pos = 0;

	while (pos < len) {
		const char *line = mod + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t line_len;

		if (!nl)
			return false;
		line_len = (size_t)(nl - line);
		/* line[line_len] is the newline. */
		if (line_len >= klen + 1 + vlen && !memcmp(line, key, klen) &&
		    line[klen] == '\t' &&
		    !memcmp(line + klen + 1, value, vlen) &&
		    (line[klen + 1 + vlen] == '\t' ||
		     line[klen + 1 + vlen] == '\n'))
			return true;
		pos += line_len + 1;
	}
	return false;
}

/*
 * The module info between cmd/go's 16-byte sentinels.  A cut-off one (only
 * its start was read) still has its first lines, "path" and "mod".
 */
static void parse_modinfo(const unsigned char *mod, size_t len,
			  struct goelf_info *gi)
{
	if (len <= MODINFO_FRAME)
		return;
	modinfo_field((const char *)mod + MODINFO_FRAME, len - MODINFO_FRAME,
		      "path", gi->path, sizeof(gi->path));
	modinfo_field((const char *)mod + MODINFO_FRAME, len - MODINFO_FRAME,
		      "mod", gi->module, sizeof(gi->module));
	gi->uses_fuse = !strcmp(gi->module, GOELF_FUSE_MODULE) ||
			modinfo_has((const char *)mod + MODINFO_FRAME,
				    len - MODINFO_FRAME, "dep",
				    GOELF_FUSE_MODULE);
}

/* Go 1.18+: two varint-prefixed strings after the 32-byte header. */
static void buildinfo_inline(const unsigned char *p, size_t len,
			     struct goelf_info *gi)
{
	uint64_t vlen, mlen;
	size_t n;

	n = uvarint(p, len, &vlen);
	if (!n || vlen > len - n || !vlen)
		return;
	goenv_printable(gi->version, sizeof(gi->version), (const char *)p + n,
			(size_t)vlen);
	p += n + vlen;
	len -= n + vlen;
	n = uvarint(p, len, &mlen);
	if (!n)
		return;
	/* The module info may run past what was read: its start will do. */
	if (mlen > len - n)
		mlen = len - n;
	parse_modinfo(p + n, (size_t)mlen, gi);
}

/* A Go string {data, len} at addr, read through the segments. */
static int read_go_string(const struct elf *e, uint64_t addr, size_t ptr_size,
			  bool be, size_t max, unsigned char **buf, size_t *len)
{
	unsigned char *hdr;
	uint64_t data, dlen;
	size_t hlen;
	int err;

	err = read_vaddr(e, addr, 2 * ptr_size, 2 * ptr_size, &hdr, &hlen);
	if (err)
		return err;
	if (hlen < 2 * ptr_size) {
		free(hdr);
		return -ENOEXEC;
	}
	data = ptr_size == 8 ? get64(be, hdr) : get32(be, hdr);
	dlen = ptr_size == 8 ? get64(be, hdr + 8) : get32(be, hdr + 4);
	free(hdr);
	if (!dlen)
		return -ENOEXEC;
	return read_vaddr(e, data, dlen, max, buf, len);
}

/*
 * Before Go 1.18: the header holds the addresses of runtime.buildVersion and
 * runtime.modinfo, Go strings in the data segment.
 */
static int buildinfo_pointers(const struct elf *e, const unsigned char *hdr,
			      struct goelf_info *gi)
{
	size_t ptr_size = hdr[14], len;
	bool be = hdr[15] != 0;
	uint64_t vaddr, maddr;
	unsigned char *s;
	int err;

	if (ptr_size != 4 && ptr_size != 8)
		return 0;
	vaddr = ptr_size == 8 ? get64(be, hdr + 16) : get32(be, hdr + 16);
	maddr = ptr_size == 8 ? get64(be, hdr + 24) : get32(be, hdr + 20);
	err = read_go_string(e, vaddr, ptr_size, be, GOELF_VERSION_MAX - 1,
			     &s, &len);
	if (err)
		return err == -ENOEXEC ? 0 : err;
	goenv_printable(gi->version, sizeof(gi->version), (const char *)s, len);
	free(s);
	err = read_go_string(e, maddr, ptr_size, be, MODINFO_MAX, &s, &len);
	if (err)
		return err == -ENOEXEC ? 0 : err;
	parse_modinfo(s, len, gi);
	free(s);
	return 0;
}

/*
 * Where Go looks for the build info: the .go.buildinfo section, else the
 * start of the first writable, non-executable PT_LOAD (stripped section
 * headers); the blob starts 16-byte aligned within the first 64 KiB.
 */
static int find_buildinfo(const struct elf *e, struct goelf_info *gi)
{
	const struct sec *sec = find_section(e, ".go.buildinfo");
	uint64_t off = 0, size = 0;
	unsigned char *data;
	size_t len, i;
	int err;

	if (sec && sec->type != SHT_NOBITS) {
		off = sec->offset;
		size = sec->size;
	} else {
		for (i = 0; i < e->n_segs; i++) {
			const struct seg *s = &e->segs[i];

			if (s->type == PT_LOAD && (s->flags & (PF_X | PF_W)) == PF_W) {
				off = s->offset;
				size = s->filesz;
				break;
			}
		}
	}
	if (!size)
		return 0;
	err = src_read_upto(e->src, off, size, BUILDINFO_SCAN, &data, &len);
	if (err)
		return err == -ENOEXEC ? 0 : err;
	for (i = 0; len >= BUILDINFO_HDR && i <= len - BUILDINFO_HDR;
	     i += BUILDINFO_ALIGN) {
		if (memcmp(data + i, buildinfo_magic, sizeof(buildinfo_magic)))
			continue;
		if (data[i + 15] & 2)
			buildinfo_inline(data + i + BUILDINFO_HDR,
					 len - i - BUILDINFO_HDR, gi);
		else
			err = buildinfo_pointers(e, data + i, gi);
		break;
	}
	free(data);
	return err;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return v > UINT64_MAX - (a - 1) ? UINT64_MAX : (v + a - 1) & ~(a - 1);
}

/* Whether a block of notes holds one owned by "Go" of type 4. */
static bool has_go_note(const struct elf *e, const unsigned char *p,
			size_t len, uint64_t align)
{
	uint64_t pos = 0, namesz, descsz, type, name_end;

	/* Notes are 4-byte aligned, or 8 in segments that say so. */
	align = align == 8 ? 8 : 4;
	while (len >= 12 && pos <= len - 12) {
		namesz = get32(e->be, p + pos);
		descsz = get32(e->be, p + pos + 4);
		type = get32(e->be, p + pos + 8);
		name_end = pos + 12 + namesz;
		if (name_end > len)
			return false;
		/* "Go", NUL-padded: cmd/link writes namesz 4. */
		if (type == NT_GO_BUILDID && namesz >= 2 && namesz <= 4 &&
		    !memcmp(p + pos + 12, "Go", 2) &&
		    !memcmp(p + pos + 14, "\0\0", namesz - 2))
			return true;
		pos = align_up(align_up(name_end, align) + descsz, align);
	}
	return false;
}

static int note_block(const struct elf *e, uint64_t off, uint64_t size,
		      uint64_t align, bool *found)
{
	unsigned char *notes;
	size_t len;
	int err;

	err = src_read_upto(e->src, off, size, NOTES_MAX, &notes, &len);
	if (err)
		return err == -ENOEXEC ? 0 : err;
	*found = has_go_note(e, notes, len, align);
	free(notes);
	return 0;
}

/* The build-ID note, in a PT_NOTE segment or, without those, a section. */
static int find_go_note(const struct elf *e, bool *found)
{
	size_t i;
	int err = 0;

	*found = false;
	for (i = 0; !err && !*found && i < e->n_segs; i++) {
		if (e->segs[i].type == PT_NOTE)
			err = note_block(e, e->segs[i].offset, e->segs[i].filesz,
					 e->segs[i].align, found);
	}
	for (i = 0; !err && !*found && i < e->n_secs; i++) {
		if (e->secs[i].type == SHT_NOTE)
			err = note_block(e, e->secs[i].offset, e->secs[i].size,
					 4, found);
	}
	return err;
}

static int read_header(struct elf *e)
{
	unsigned char h[64];
	uint64_t phoff, shoff;
	size_t hsize;
	int err;

	err = src_read(e->src, 0, h, EI_NIDENT);
	if (err)
		return err;
	if (memcmp(h, "\x7f" "ELF", 4) ||
	    (h[4] != ELFCLASS32 && h[4] != ELFCLASS64) ||
	    (h[5] != ELFDATA2LSB && h[5] != ELFDATA2MSB))
		return -ENOEXEC;
	e->is64 = h[4] == ELFCLASS64;
	e->be = h[5] == ELFDATA2MSB;
	hsize = e->is64 ? 64 : 52;
	err = src_read(e->src, EI_NIDENT, h + EI_NIDENT, hsize - EI_NIDENT);
	if (err)
		return err;
	phoff = get_word(e, h + (e->is64 ? 32 : 28));
	shoff = get_word(e, h + (e->is64 ? 40 : 32));
	err = load_segments(e, phoff, get16(e->be, h + (e->is64 ? 56 : 44)),
			    get16(e->be, h + (e->is64 ? 54 : 42)));
	if (err)
		return err;
	return load_sections(e, shoff, get16(e->be, h + (e->is64 ? 60 : 48)),
			     get16(e->be, h + (e->is64 ? 58 : 46)),
			     get16(e->be, h + (e->is64 ? 62 : 50)));
}

static int read_src(const struct src *s, struct goelf_info *gi)
{
	struct elf e = { .src = s };
	bool note = false;
	int err;

	memset(gi, 0, sizeof(*gi));
	err = read_header(&e);
	if (!err)
		err = find_buildinfo(&e, gi);
	if (!err && !gi->version[0]) {
		/* Whatever a broken blob left is not to be believed. */
		memset(gi, 0, sizeof(*gi));
		err = find_go_note(&e, &note);
		if (!err && !note)
			err = -ENOEXEC;
	}
	if (err)
		memset(gi, 0, sizeof(*gi));
	free(e.segs);
	free(e.secs);
	free(e.shstrtab);
	return err;
}

int goelf_read_fd(int fd, struct goelf_info *gi)
{
	struct src s = { .fd = fd };
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC;
	s.size = (uint64_t)st.st_size;
	return read_src(&s, gi);
}

int goelf_read_mem(const void *buf, size_t len, struct goelf_info *gi)
{
	struct src s = { .fd = -1, .mem = buf, .size = len };

	return read_src(&s, gi);
}

/* Decimal digits at *s into *v (capped, never overflowing); 0 if none. */
static int number(const char **s, unsigned int *v)
{
	const char *p = *s;

	*v = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		*v = *v < 100000 ? *v * 10 + (unsigned int)(*p - '0') : *v;
	if (p == *s)
		return 0;
	*s = p;
	return 1;
}

int goelf_version_at_least(const char *version, unsigned int major,
			   unsigned int minor)
{
	const char *p = version;
	unsigned int ma, mi;

	if (!strncmp(p, "devel ", 6))
		p += 6;
	if (strncmp(p, "go", 2))
		return -1;
	p += 2;
	if (!number(&p, &ma))
		return -1;
	/* "go1" was Go 1.0. */
	if (*p == '.') {
		p++;
		if (!number(&p, &mi))
			return -1;
	} else {
		mi = 0;
	}
	return ma > major || (ma == major && mi >= minor);
}
